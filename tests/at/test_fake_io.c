/* The fake io itself: chunking, rules, virtual time, hangup. */
#include <string.h>

#include "mk_test.h"
#include "support/fake_io.h"

static struct mk_fake_io F;

static size_t read_all(struct mk_fake_io *f, uint8_t *out, size_t cap, size_t *max_piece)
{
    size_t total = 0;
    *max_piece = 0;
    for (;;) {
        size_t n = 0;
        if (mk_io_read(&f->io, out + total, cap - total, &n) != MK_OK || n == 0)
            return total;
        if (n > *max_piece)
            *max_piece = n;
        total += n;
    }
}

MK_TEST(reads_come_in_random_pieces)
{
    static const char msg[] = "\r\n+CMQTTRXSTART: 0,21,45\r\n+CMQTTRXTOPIC: 0,21\r\n";
    for (size_t max = 1; max <= 9; max += 4) {
        mk_fake_io_init(&F, 42 + max, max);
        mk_fake_io_sends(&F, 0, msg);
        uint8_t buf[256];
        size_t piece;
        size_t n = read_all(&F, buf, sizeof buf, &piece);
        MK_CHECK_EQ_INT(n, sizeof msg - 1);
        MK_CHECK_EQ_MEM(buf, msg, n);
        MK_CHECK(piece <= max);
        MK_CHECK(F.reads > (sizeof msg - 1) / max);
        mk_fake_io_free(&F);
    }
}

MK_TEST(rules_reply_on_virtual_time)
{
    mk_fake_io_init(&F, 1, 0);
    struct mk_fake_rule *r = mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CMQTTSTART", 10, "\r\nOK\r\n");
    mk_fake_io_then(r, 200, "\r\n+CMQTTSTART: 0\r\n");
    mk_fake_io_on(&F, MK_FAKE_PREFIX, "AT+CMQTTTOPIC=", 0, "\r\n>");
    mk_fake_io_on(&F, MK_FAKE_BYTES, "a/b", 0, "\r\nOK\r\n");
    size_t n;
    MK_CHECK_EQ_INT(mk_io_write(&F.io, (const uint8_t *)"AT+CMQTTST", 10, &n), MK_OK);
    MK_CHECK_EQ_INT(mk_io_write(&F.io, (const uint8_t *)"ART\r\n", 5, &n), MK_OK);
    uint8_t buf[64];
    MK_CHECK_EQ_INT(mk_io_read(&F.io, buf, sizeof buf, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 0); /* not due yet */
    MK_CHECK_EQ_INT(mk_io_wait(&F.io, 5, false), MK_E_TIMEOUT);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1005);
    MK_CHECK_EQ_INT(mk_io_wait(&F.io, 1000, false), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1010);
    MK_CHECK_EQ_INT(mk_io_read(&F.io, buf, sizeof buf, &n), MK_OK);
    MK_CHECK(n == 6 && memcmp(buf, "\r\nOK\r\n", 6) == 0);
    MK_CHECK_EQ_INT(mk_io_wait(&F.io, 1000, false), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1200);
    MK_CHECK_EQ_INT(mk_io_read(&F.io, buf, sizeof buf, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 18);
    /* the rule fired once: the same line again is unmatched */
    mk_io_write(&F.io, (const uint8_t *)"AT+CMQTTSTART\r", 14, &n);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 1);
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 0);
    /* prefix rule, then data bytes with no terminator */
    mk_io_write(&F.io, (const uint8_t *)"AT+CMQTTTOPIC=0,3\ra/", 20, &n);
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 3);
    mk_io_write(&F.io, (const uint8_t *)"b", 1, &n);
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 9);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 1);
    MK_CHECK(mk_fake_io_tx_equals(&F, "AT+CMQTTSTART\r\nAT+CMQTTSTART\rAT+CMQTTTOPIC=0,3\ra/b"));
    mk_fake_io_free(&F);
}

MK_TEST(echo_short_writes_and_hangup)
{
    mk_fake_io_init(&F, 3, 0);
    mk_fake_io_set_echo(&F, true);
    mk_fake_io_set_write_max(&F, 2);
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT", 0, "\r\nOK\r\n");
    size_t n, total = 0;
    while (total < 3) {
        MK_CHECK_EQ_INT(mk_io_write(&F.io, (const uint8_t *)"AT\r" + total, 3 - total, &n), MK_OK);
        MK_CHECK(n >= 1 && n <= 2);
        total += n;
    }
    uint8_t buf[64];
    size_t piece;
    n = read_all(&F, buf, sizeof buf, &piece);
    MK_CHECK(n == 9 && memcmp(buf, "AT\r\r\nOK\r\n", 9) == 0);
    mk_fake_io_sends(&F, 100, "late");
    mk_fake_io_hangup(&F, 50);
    MK_CHECK_EQ_INT(mk_io_wait(&F.io, 1000, false), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1050);
    MK_CHECK_EQ_INT(mk_io_read(&F.io, buf, sizeof buf, &n), MK_E_HANGUP);
    MK_CHECK_EQ_INT(mk_io_write(&F.io, buf, 1, &n), MK_E_HANGUP);
    mk_fake_io_free(&F);
}

MK_TEST_MAIN()
