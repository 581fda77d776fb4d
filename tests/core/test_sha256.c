/* SHA-256 against the FIPS 180-4 example vectors and sha256sum output for the padding
 * boundary lengths. */
#include "mk_test.h"
#include "modemkit/sha256.h"

static void mk_check_digest(const void *msg, size_t len, const char *want)
{
    uint8_t d[32];
    char hex[65];
    mk_sha256(msg, len, d);
    mk_sha256_hex(d, hex);
    MK_CHECK_EQ_STR(hex, want);
}

MK_TEST(fips_vectors)
{
    mk_check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    mk_check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    mk_check_digest(m, strlen(m),
                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

MK_TEST(million_a_streamed_in_odd_pieces)
{
    static char a[1000];
    memset(a, 'a', sizeof a);
    struct mk_sha256 s;
    mk_sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t n = step < left ? step : left;
        if (n > sizeof a)
            n = sizeof a;
        mk_sha256_update(&s, a, n);
        left -= n;
        step = step * 7 % 997 + 1;
    }
    uint8_t d[32];
    char hex[65];
    mk_sha256_final(&s, d);
    mk_sha256_hex(d, hex);
    MK_CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

MK_TEST(padding_boundaries)
{
    /* Lengths around the 55/56/64-byte padding edges, digests from `sha256sum`. */
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    };
    static char a[64];
    memset(a, 'a', sizeof a);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        mk_check_digest(a, v[i].len, v[i].hex);
}

MK_TEST_MAIN()
