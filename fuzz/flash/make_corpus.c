/*
 * Writes the seed corpora of the flash fuzz targets from the unit tests' vectors:
 *   flash_make_corpus fuzz/flash/corpus
 * The output is committed; rerun it when a format changes. Every seed starts with the
 * two control bytes the targets expect (chunk size, buffer/raw size), except CWE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/cwe_build.h"
#include "modemkit/firehose.h"
#include "modemkit/hdlc.h"
#include "modemkit/qdl.h"
#include "modemkit/sahara.h"

static const char *root;

static void put(const char *target, const char *name, uint8_t c0, uint8_t c1, const void *data,
                size_t len, int control)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (control) {
        fputc(c0, f);
        fputc(c1, f);
    }
    fwrite(data, 1, len, f);
    fclose(f);
}

static const uint8_t hello[48] = {0x01, 0,    0, 0, 0x30, 0,    0,    0, 0x02, 0,   0,
                                  0,    0x01, 0, 0, 0,    0x00, 0x04, 0, 0,    0x02};

static size_t sahara(uint8_t *out, uint32_t cmd, uint64_t a, uint64_t b, uint64_t c)
{
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = cmd;
    p.u.read_data.image_id = a;
    p.u.read_data.offset = b;
    p.u.read_data.length = c;
    size_t n = 0;
    if (mk_sahara_build(&p, out, 64, &n) != MK_OK)
        exit(1);
    return n;
}

static void sahara_seeds(void)
{
    uint8_t s[256];
    size_t n = 0;
    put("fuzz_sahara_stream", "seed004_hello", 48, 0, hello, 48, 1);
    memcpy(s, hello, 48);
    n = 48;
    n += sahara(s + n, MK_SAHARA_CMD_READY, 0, 0, 0);
    n += sahara(s + n, MK_SAHARA_EXECUTE_RSP, 0xFF00, 9, 0);
    memcpy(s + n, "confirmed", 9);
    n += 9;
    put("fuzz_sahara_stream", "sierra_switch", 5, 9, s, n, 1);
    n = sahara(s, MK_SAHARA_READ_DATA_64, 13, 0x1000, 0x40);
    n += sahara(s + n, MK_SAHARA_END_IMAGE_TX, 13, 0x25, 0);
    n += sahara(s + n, MK_SAHARA_DONE_RSP, 1, 0, 0);
    n += sahara(s + n, MK_SAHARA_MEMORY_DEBUG_64, 0x80000000, 0x200, 0);
    put("fuzz_sahara_stream", "edl_flow", 7, 0, s, n, 1);
    n = sahara(s, MK_SAHARA_HELLO_RSP, 0, 0, 0);
    memcpy(s + n, hello, 48); /* raw data that looks like a packet */
    n += 48;
    n += sahara(s + n, MK_SAHARA_DONE, 0, 0, 0);
    put("fuzz_sahara_stream", "raw_phase", 3, 48, s, n, 1);
}

static void hdlc_seeds(void)
{
    uint8_t f[700], p[600];
    size_t n;
    static const uint8_t sdp[] = {0x7E, 0x70, 0x00, 0x00, 0x14, 0x46, 0x7E};
    put("fuzz_hdlc_unframe", "sdp", 7, 64, sdp, sizeof sdp, 1);
    static const uint8_t em[] = {0x13, 0x70, 0x00, 0x00, 0x6A, 0x9A, 0x7E, 0x4B, 0x65,
                                 0x01, 0x00, 0x54, 0x0F, 0x7E, 0x3A, 0xA1, 0x6E, 0x7E};
    put("fuzz_hdlc_unframe", "replies", 3, 64, em, sizeof em, 1);
    struct mk_qdl_pkt q = {.type = MK_QDL_HELLO_RSP};
    q.u.hello.max_ver = 6;
    q.u.hello.min_ver = 6;
    size_t pn = 0;
    mk_qdl_build(&q, p, sizeof p, &pn);
    mk_hdlc_encode(p, pn, true, f, sizeof f, &n);
    put("fuzz_hdlc_unframe", "qdl_hello_rsp", 16, 80, f, n, 1);
    static const uint8_t esc[] = {0x7E, 0x7D, 0x01, 0x7D, 0x0D, 0x16, 0, 0, 0, 0};
    mk_hdlc_encode(esc, sizeof esc, false, f, sizeof f, &n);
    put("fuzz_hdlc_unframe", "escapes", 2, 32, f, n, 1);
}

static void firehose_seeds(void)
{
    static const char multi[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<data>\n<log value=\"INFO: start\" /></data>"
        "<?xml version=\"1.0\" ?><data><log value='a &quot;b&quot; &amp; &lt;c&gt; &#65;' /></data>"
        "<?xml version=\"1.0\" ?>\n<data>\n<response value=\"ACK\" MemoryName=\"NAND\" "
        "MaxPayloadSizeToTargetInBytes=\"8192\" MaxPayloadSizeToTargetInBytesSupported=\"8192\" "
        "MaxXMLSizeInBytes=\"4096\" TargetName=\"9x07\" />\n</data>\n";
    put("fuzz_firehose_response", "multi", 17, 128, multi, sizeof multi - 1, 1);
    static const char nak[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><data><response value=\"NAK\" "
        "MemoryName=\"eMMC\" MaxPayloadSizeFromTargetInBytes=\"4096\" "
        "MaxPayloadSizeToTargetInBytes=\"8192\" MaxPayloadSizeToTargetInBytesSupported=\"8192\" "
        "TargetName=\"9x55\" /></data>";
    put("fuzz_firehose_response", "configure_nak", 64, 64, nak, sizeof nak - 1, 1);
    static const char raw[] = "<?xml?><data><response value=\"ACK\" rawmode=\"true\" /></data>"
                              "RAWDATA<?xml <data>"
                              "<?xml?><data><response value=\"ACK\" rawmode=\"false\" /></data>";
    put("fuzz_firehose_response", "rawmode", 9, 32, raw, sizeof raw - 1, 1);
    char doc[512];
    size_t n;
    mk_firehose_build_program_cwe(doc, sizeof doc, 5000, 4096, 64, &n);
    put("fuzz_firehose_response", "program_request", 200, 64, doc, n, 1);
}

static void cwe_seed(const char *name, const struct mk_cwe_package *p, size_t cut)
{
    static uint8_t img[8192];
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_build_package(&b, p);
    size_t n;
    if (mk_cwe_build_finish(&b, &n) != MK_OK)
        exit(1);
    put("fuzz_cwe_parse", name, 0, 0, img, n - cut, 0);
}

static void cwe_seeds(void)
{
    struct mk_cwe_package p = {.product = "9X07",
                               .sku = "9999999_9904609_SWI9X07H",
                               .device = "SWI9X07H",
                               .firmware = "00.08.24.02",
                               .carrier = "GENERIC",
                               .config = "001.110_000",
                               .boot_len = 40,
                               .appl_len = 30,
                               .modm_len = 20,
                               .nvup_len = 10,
                               .seed = 1};
    cwe_seed("rc7620_spk", &p, 0);
    cwe_seed("rc7620_truncated", &p, 7);
    p.top_type = "NVUP";
    cwe_seed("nvu", &p, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR (with one sub-directory per target)\n", argv[0]);
        return 2;
    }
    root = argv[1];
    sahara_seeds();
    hdlc_seeds();
    firehose_seeds();
    cwe_seeds();
    return 0;
}
