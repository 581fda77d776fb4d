/* CWE header codec, CRC conventions, version strings, nested walk, truncation and
 * corruption (reference download-mode.md §4). Images are made with cwe_build.h. */
#include <stdlib.h>

#include "mk_test.h"
#include "modemkit/bytes.h"
#include "modemkit/crc.h"
#include "modemkit/cwe.h"
#include "modemkit/cwe_build.h"

#define RC7620_VERSION "9999999_9904609_SWI9X07H_00.08.24.02_00_GENERIC_001.110_000"

static const struct mk_cwe_package rc7620 = {
    .product = "9X07",
    .sku = "9999999_9904609_SWI9X07H",
    .device = "SWI9X07H",
    .firmware = "00.08.24.02",
    .carrier = "GENERIC",
    .config = "001.110_000",
    .boot_len = 700,
    .appl_len = 900,
    .modm_len = 500,
    .nvup_len = 300,
    .seed = 7,
};

static size_t build(const struct mk_cwe_package *p, uint8_t *buf, size_t cap)
{
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, buf, cap);
    mk_cwe_build_package(&b, p);
    size_t len = 0;
    enum mk_err err = mk_cwe_build_finish(&b, &len);
    MK_CHECK_EQ_INT(err, MK_OK);
    return len;
}

/* Parse a memory image the way a file would be parsed (exact-size heap copy, so ASan
 * catches any read past the end). */
static enum mk_err parse(const uint8_t *data, size_t len, const char *name, unsigned flags,
                         struct mk_cwe_info *info, struct mk_cwe_image *images, size_t cap,
                         size_t scratch_len)
{
    uint8_t *copy = malloc(len ? len : 1);
    uint8_t *scratch = malloc(scratch_len);
    memcpy(copy, data, len);
    struct mk_cwe_mem mem = {copy, len};
    struct mk_cwe_reader rd = {mk_cwe_mem_read, &mem, len, name};
    info->images = images;
    info->cap = cap;
    enum mk_err err = mk_cwe_parse(&rd, scratch, scratch_len, flags, info);
    free(scratch);
    free(copy);
    return err;
}

static uint8_t img[16384];
static struct mk_cwe_image images[32];

MK_TEST(crc_vectors)
{
    /* §4.2: zlib 0xCBF43926, CWE variant (no final xor) 0x340BC6D9 */
    MK_CHECK_EQ_HEX(mk_crc32_cwe("123456789", 9), 0x340BC6D9u);
    MK_CHECK_EQ_HEX(mk_crc32("123456789", 9), 0xCBF43926u);
}

/* The PSB CRC uses the CWE variant too: a header we encode stores ~zlib(PSB), pinned
 * here from Python's zlib (zlib.crc32(bytes(range(256))) ^ 0xffffffff), and a header
 * carrying the plain zlib value is rejected. */
MK_TEST(psb_crc_is_cwe_variant)
{
    uint8_t psb[256], raw[400];
    for (int i = 0; i < 256; i++)
        psb[i] = (uint8_t)i;
    struct mk_cwe_header h;
    mk_cwe_header_defaults(&h, "APPL", "9X07", "v");
    h.image_sz = 1;
    MK_CHECK_EQ_INT(mk_cwe_header_encode(&h, psb, raw), MK_OK);
    MK_CHECK_EQ_HEX(mk_get_be32(raw + 256), 0xD6FA738Cu);
    MK_CHECK_EQ_HEX(mk_get_be32(raw + 256), ~mk_crc32(psb, 256));
    MK_CHECK(mk_cwe_psb_crc_ok(raw));
    mk_put_be32(raw + 256, 0x29058C73u); /* zlib crc32 of the same bytes */
    MK_CHECK(!mk_cwe_psb_crc_ok(raw));
    /* all-zero PSB, as the builder writes by default */
    MK_CHECK_EQ_INT(mk_cwe_header_encode(&h, NULL, raw), MK_OK);
    MK_CHECK_EQ_HEX(mk_get_be32(raw + 256), 0xF2697AA7u);
}

MK_TEST(header_every_field)
{
    struct mk_cwe_header h = {
        .hdr_rev = 3,
        .crc_ind = MK_CWE_CRC_IND_GOOD,
        .type = "NVUP",
        .product = "9X30",
        .image_sz = 0x01020304,
        .image_crc = 0xA1B2C3D4,
        .version = "SWI9X30C_02.24.05.06_GENERIC_002.026_000",
        .rel_date = "12/08/15",
        .compat = 0x11223344,
        .misc_opts = MK_CWE_OPT_SIGNED | MK_CWE_OPT_COMPRESSED,
        .reserved = {0xAA, 0xBB, 0xCC},
        .stor_addr = 0xFFFFFFFF,
        .prog_addr = 0x80000000,
        .entry_pt = 0x80001000,
        .signature = 0x50617273, /* "Pars", as in .nvu samples */
    };
    uint8_t psb[256] = {0};
    psb[0] = 1; /* descriptor 0: version 1, type 2, flag 3 */
    psb[1] = 2;
    psb[2] = 3;
    mk_put_be32(psb + 4, 0x400);
    mk_put_be32(psb + 8, 0x1234);
    memcpy(psb + 12, "SRCVER", 6);
    uint8_t raw[400];
    MK_CHECK_EQ_INT(mk_cwe_header_encode(&h, psb, raw), MK_OK);
    /* big-endian on the wire, at the §4.1 offsets */
    static const uint8_t sz[] = {0x01, 0x02, 0x03, 0x04}, crc[] = {0xA1, 0xB2, 0xC3, 0xD4};
    MK_CHECK_EQ_MEM(raw + 0x114, sz, 4);
    MK_CHECK_EQ_MEM(raw + 0x118, crc, 4);
    MK_CHECK_EQ_MEM(raw + 0x108, "GOOD", 4);
    MK_CHECK_EQ_MEM(raw + 0x10C, "NVUP", 4);
    MK_CHECK_EQ_MEM(raw + 0x110, "9X30", 4);
    MK_CHECK_EQ_MEM(raw + 0x170, "12/08/15", 8);
    MK_CHECK_EQ_MEM(raw + 0x18C, "Pars", 4);
    MK_CHECK_EQ_INT(raw[0x17C], 0x05);
    MK_CHECK_EQ_INT(raw[0x11C + 40], 0); /* version NUL-padded */

    struct mk_cwe_header d;
    mk_cwe_header_decode(raw, &d);
    MK_CHECK_EQ_HEX(d.psb_crc, mk_crc32_cwe(psb, 256));
    MK_CHECK_EQ_INT(d.hdr_rev, 3);
    MK_CHECK_EQ_HEX(d.crc_ind, MK_CWE_CRC_IND_GOOD);
    MK_CHECK_EQ_STR(d.type, "NVUP");
    MK_CHECK_EQ_STR(d.product, "9X30");
    MK_CHECK_EQ_HEX(d.image_sz, 0x01020304);
    MK_CHECK_EQ_HEX(d.image_crc, 0xA1B2C3D4);
    MK_CHECK_EQ_STR(d.version, h.version);
    MK_CHECK_EQ_STR(d.rel_date, "12/08/15");
    MK_CHECK_EQ_HEX(d.compat, 0x11223344);
    MK_CHECK_EQ_INT(d.misc_opts, 0x05);
    MK_CHECK_EQ_MEM(d.reserved, h.reserved, 3);
    MK_CHECK_EQ_HEX(d.stor_addr, 0xFFFFFFFF);
    MK_CHECK_EQ_HEX(d.prog_addr, 0x80000000);
    MK_CHECK_EQ_HEX(d.entry_pt, 0x80001000);
    MK_CHECK_EQ_HEX(d.signature, 0x50617273);
    MK_CHECK(mk_cwe_header_plausible(raw));

    struct mk_cwe_psb_entry e;
    MK_CHECK_EQ_INT(mk_cwe_psb_entry(raw, 0, &e), MK_OK);
    MK_CHECK_EQ_INT(e.descriptor_version, 1);
    MK_CHECK_EQ_INT(e.type, 2);
    MK_CHECK_EQ_INT(e.flag, 3);
    MK_CHECK_EQ_HEX(e.offset, 0x400);
    MK_CHECK_EQ_HEX(e.size, 0x1234);
    MK_CHECK_EQ_STR(e.source_version, "SRCVER");
    MK_CHECK_EQ_INT(mk_cwe_psb_entry(raw, 8, &e), MK_E_INVAL);

    /* too-long strings are refused, never cut */
    struct mk_cwe_header bad = h;
    memset(bad.version, 'x', sizeof bad.version - 1);
    bad.version[sizeof bad.version - 1] = '\0';
    MK_CHECK_EQ_INT(mk_cwe_header_encode(&bad, NULL, raw), MK_OK); /* exactly 84 fits */
    mk_cwe_header_defaults(&bad, "TOOLONG", "9X07", "v");
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_build_begin(&b, &bad, NULL);
    size_t len;
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &len), MK_E_INVAL);
}

MK_TEST(plausibility_like_libqmi)
{
    uint8_t raw[400];
    struct mk_cwe_header h;
    mk_cwe_header_defaults(&h, "BOOT", "9X07", "SWI9X07H_00.08.24.02");
    h.image_sz = 10;
    mk_cwe_header_encode(&h, NULL, raw);
    MK_CHECK(mk_cwe_header_plausible(raw));
    raw[0x11C + 30] = 'x'; /* text after the NUL padding started */
    MK_CHECK(!mk_cwe_header_plausible(raw));
    mk_cwe_header_encode(&h, NULL, raw);
    raw[0x10C] = 0x01; /* unprintable type */
    MK_CHECK(!mk_cwe_header_plausible(raw));
    h.image_sz = 0;
    mk_cwe_header_encode(&h, NULL, raw);
    MK_CHECK(!mk_cwe_header_plausible(raw));
}

MK_TEST(type_list)
{
    MK_CHECK_EQ_INT(mk_cwe_type_index("QPAR"), 0);
    MK_CHECK_EQ_INT(mk_cwe_type_index("BOOT"), 7);
    MK_CHECK_EQ_INT(mk_cwe_type_index("APPL"), 8);
    MK_CHECK_EQ_INT(mk_cwe_type_index("FILE"), 19);
    MK_CHECK_EQ_INT(mk_cwe_type_index("SPKG"), 20);
    MK_CHECK_EQ_INT(mk_cwe_type_index("MODM"), 21);
    MK_CHECK_EQ_INT(mk_cwe_type_index("NVUP"), 27);
    MK_CHECK_EQ_INT(mk_cwe_type_index("LRAM"), 33);
    MK_CHECK_EQ_INT(mk_cwe_type_index("DCFG"), 41);
    MK_CHECK_EQ_INT(mk_cwe_type_index("XXXX"), -1);
    MK_CHECK_EQ_INT(mk_cwe_type_index("BOO"), -1);
    MK_CHECK(mk_cwe_type_is_composite("SPKG"));
    MK_CHECK(mk_cwe_type_is_composite("BOOT"));
    MK_CHECK(mk_cwe_type_is_composite("APPL"));
    MK_CHECK(mk_cwe_type_is_composite("MODM"));
    MK_CHECK(!mk_cwe_type_is_composite("NVUP"));
    MK_CHECK(!mk_cwe_type_is_composite("APPS"));
}

static void check_version(const char *s, const char *fw, const char *cfg, const char *car)
{
    char f[12] = "", c[12] = "", k[32] = "";
    bool ok = mk_cwe_parse_version(s, strlen(s), f, c, k, sizeof k);
    MK_CHECK_EQ_INT(ok, fw != NULL);
    MK_CHECK_EQ_STR(f, fw ? fw : "");
    MK_CHECK_EQ_STR(c, cfg ? cfg : "");
    MK_CHECK_EQ_STR(k, car ? car : "");
}

MK_TEST(version_strings)
{
    /* RC7620 (seed 004 / fwdwl-lite log) and libqmi test-utils.c cases (§4.5) */
    check_version(RC7620_VERSION, "00.08.24.02", "001.110_000", "GENERIC");
    check_version("9999999_9902350_SWI9X15C_05.05.63.01_00_SPRINT_005.037_000", "05.05.63.01",
                  "005.037_000", "SPRINT");
    check_version("INTERNAL_?_SWI9X15C_05.05.63.01_?_?_?_?", "05.05.63.01", NULL, NULL);
    check_version("9999999_9999999_9200_03.05.29.03_00_generic_000.000_001_SPKG_MC", "03.05.29.03",
                  "000.000_001", "generic");
    check_version("9999999_9902574_SWI9X15C_05.05.66.00_00_GENNA-UMTS_005.028_000-field.spk",
                  "05.05.66.00", "005.028_000", "GENNA-UMTS");
    check_version("SWI9X15C_05.05.58.00_Generic_005.025_002.nvu", "05.05.58.00", "005.025_002",
                  "Generic");
    check_version("SWI9X07H_00.08.24.02 boot", "00.08.24.02", NULL, NULL);
    check_version("RC76xx_Release9_GENERIC_GCF_7620.spk", NULL, NULL, NULL);
    check_version("", NULL, NULL, NULL);
    check_version("05.05.63.01", NULL, NULL, NULL); /* needs the leading '_' */
    /* the LAST firmware version wins (libqmi's greedy prefix) */
    check_version("x_01.02.03.04_y_05.06.07.08", "05.06.07.08", NULL, NULL);
    /* carrier must sit after the firmware version */
    check_version("x_ABC_001.002_003_x_01.02.03.04", "01.02.03.04", NULL, NULL);

    /* merging: filled outputs are kept, NULL outputs skipped */
    char f[12] = "11.11.11.11", c[12] = "", k[32] = "";
    MK_CHECK(mk_cwe_parse_version(RC7620_VERSION, sizeof RC7620_VERSION, f, c, k, sizeof k));
    MK_CHECK_EQ_STR(f, "11.11.11.11");
    MK_CHECK_EQ_STR(c, "001.110_000");
    MK_CHECK_EQ_STR(k, "GENERIC");
    /* a carrier longer than its buffer is ignored, not cut */
    char k4[4] = "";
    c[0] = '\0';
    MK_CHECK(mk_cwe_parse_version(RC7620_VERSION, sizeof RC7620_VERSION, NULL, c, k4, 4));
    MK_CHECK_EQ_STR(k4, "");
}

MK_TEST(nested_parse_of_built_package)
{
    size_t len = build(&rc7620, img, sizeof img);
    /* 8 images of 400-byte headers + the leaf payloads */
    MK_CHECK_EQ_INT(len, 8 * 400 + 700 + 900 + 500 + 300);
    struct mk_cwe_info info;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 4096), MK_OK);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_FINE);
    MK_CHECK_EQ_INT(info.count, 8);
    static const struct {
        const char *type;
        int parent;
        unsigned depth;
        uint64_t offset;
        uint32_t size;
    } want[] = {
        {"SPKG", -1, 0, 0, 5200},   {"BOOT", 0, 1, 400, 1100}, {"SBL1", 1, 2, 800, 700},
        {"APPL", 0, 1, 1900, 1300}, {"APPS", 3, 2, 2300, 900}, {"MODM", 0, 1, 3600, 900},
        {"AMSS", 5, 2, 4000, 500},  {"NVUP", 0, 1, 4900, 300},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        MK_CHECK_EQ_STR(images[i].hdr.type, want[i].type);
        MK_CHECK_EQ_INT(images[i].parent, want[i].parent);
        MK_CHECK_EQ_INT(images[i].depth, want[i].depth);
        MK_CHECK_EQ_INT(images[i].offset, want[i].offset);
        MK_CHECK_EQ_INT(images[i].hdr.image_sz, want[i].size);
        MK_CHECK(images[i].psb_crc_ok);
        MK_CHECK(images[i].crc_checked && images[i].crc_ok);
        MK_CHECK_EQ_STR(images[i].hdr.product, "9X07");
    }
    MK_CHECK_EQ_INT(images[0].children, 4);
    MK_CHECK_EQ_INT(images[1].children, 1);
    MK_CHECK_EQ_INT(images[2].children, 0);
    MK_CHECK_EQ_HEX(images[3].hdr.signature, 1); /* APPL */
    MK_CHECK_EQ_STR(images[0].hdr.version, RC7620_VERSION);
    MK_CHECK_EQ_STR(info.firmware, "00.08.24.02");
    MK_CHECK_EQ_STR(info.config, "001.110_000");
    MK_CHECK_EQ_STR(info.carrier, "GENERIC");

    /* the smallest scratch buffer gives the same result */
    struct mk_cwe_info small;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &small, images, 32, 400), MK_OK);
    MK_CHECK_EQ_INT(small.count, 8);
    /* structure only */
    MK_CHECK_EQ_INT(parse(img, len, NULL, MK_CWE_NO_PAYLOAD_CRC, &small, images, 32, 400), MK_OK);
    MK_CHECK(!images[0].crc_checked);
    /* not enough room for the tree */
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &small, images, 4, 400), MK_E_NOSPC);
    MK_CHECK_EQ_INT(small.problem, MK_CWE_TOO_MANY);
}

MK_TEST(builder_dry_run_and_errors)
{
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, NULL, 0);
    mk_cwe_build_package(&b, &rc7620);
    size_t dry = 0;
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &dry), MK_OK);
    MK_CHECK_EQ_INT(dry, build(&rc7620, img, sizeof img));

    mk_cwe_build_init(&b, img, 1000);
    mk_cwe_build_package(&b, &rc7620);
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &dry), MK_E_NOSPC);

    struct mk_cwe_header h;
    mk_cwe_header_defaults(&h, "SPKG", "9X07", "v");
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_build_begin(&b, &h, NULL);
    mk_cwe_build_fill(&b, 1, 10);
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &dry), MK_E_STATE); /* not closed */
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_build_end(&b);
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &dry), MK_E_STATE);
}

/* libqmi's lookup order: top-level version, file name, BOOT (firmware), NVUP. */
MK_TEST(version_lookup_order)
{
    struct mk_cwe_package p = rc7620;
    struct mk_cwe_info info;
    size_t len;

    /* nothing at the top: firmware from BOOT, config and carrier from NVUP */
    p.top_version = "package without versions";
    p.boot_version = "SWI9X07H_00.08.24.03 boot";
    p.nvup_version = "9999999_9904609_SWI9X07H_00.08.24.04_00_ATT_002.003_004";
    len = build(&p, img, sizeof img);
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 4096), MK_OK);
    MK_CHECK_EQ_STR(info.firmware, "00.08.24.03");
    MK_CHECK_EQ_STR(info.config, "002.003_004");
    MK_CHECK_EQ_STR(info.carrier, "ATT");

    /* the file name comes before the embedded headers */
    MK_CHECK_EQ_INT(
        parse(img, len, "SWI9X07H_01.02.03.04_VERIZON_005.006_007.spk", 0, &info, images, 32, 4096),
        MK_OK);
    MK_CHECK_EQ_STR(info.firmware, "01.02.03.04");
    MK_CHECK_EQ_STR(info.config, "005.006_007");
    MK_CHECK_EQ_STR(info.carrier, "VERIZON");

    /* top-level firmware only: config/carrier still come from NVUP, firmware stays */
    p.top_version = "INTERNAL_?_SWI9X07H_00.08.24.09_?_?_?_?";
    len = build(&p, img, sizeof img);
    MK_CHECK_EQ_INT(parse(img, len, "x.spk", 0, &info, images, 32, 4096), MK_OK);
    MK_CHECK_EQ_STR(info.firmware, "00.08.24.09");
    MK_CHECK_EQ_STR(info.config, "002.003_004");
    MK_CHECK_EQ_STR(info.carrier, "ATT");

    /* a lone .nvu: NVUP at the top */
    struct mk_cwe_package nvu = rc7620;
    nvu.top_type = "NVUP";
    len = build(&nvu, img, sizeof img);
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 4096), MK_OK);
    MK_CHECK_EQ_INT(info.count, 1);
    MK_CHECK_EQ_STR(images[0].hdr.type, "NVUP");
    MK_CHECK_EQ_STR(info.carrier, "GENERIC");

    /* no source at all */
    p = rc7620;
    p.top_version = "none";
    p.boot_version = "none";
    p.nvup_version = "none";
    len = build(&p, img, sizeof img);
    MK_CHECK_EQ_INT(parse(img, len, "x.spk", 0, &info, images, 32, 4096), MK_OK);
    MK_CHECK_EQ_STR(info.firmware, "");
    MK_CHECK_EQ_STR(info.carrier, "");
}

/* Every cut is rejected and names the innermost image it falls into: the deepest image
 * whose header is complete and whose end lies past the cut. */
MK_TEST(every_truncation_rejected)
{
    size_t len = build(&rc7620, img, sizeof img);
    struct mk_cwe_image full[32];
    struct mk_cwe_info whole;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &whole, full, 32, 512), MK_OK);
    for (size_t n = 0; n < len; n++) {
        struct mk_cwe_info info;
        enum mk_err err = parse(img, n, NULL, 0, &info, images, 32, 512);
        if (err != MK_E_IMAGE) {
            MK_CHECK_EQ_INT(err, MK_E_IMAGE);
            printf("#   truncated at %zu\n", n);
            break;
        }
        if (n < 400) {
            MK_CHECK_EQ_INT(info.problem, MK_CWE_TOO_SHORT);
            continue;
        }
        size_t want = 0;
        for (size_t i = 0; i < whole.count; i++) {
            uint64_t end = full[i].offset + 400 + full[i].hdr.image_sz;
            if (full[i].offset + 400 <= n && end > n && full[i].depth >= full[want].depth)
                want = i;
        }
        MK_CHECK_EQ_INT(info.problem, MK_CWE_TRUNCATED);
        MK_CHECK_EQ_STR(info.fail_type, full[want].hdr.type);
        MK_CHECK_EQ_INT(info.fail_offset, full[want].offset);
        MK_CHECK_EQ_INT(info.expected, full[want].offset + 400 + full[want].hdr.image_sz);
        MK_CHECK_EQ_INT(info.actual, n);
    }
    struct mk_cwe_info info;
    char msg[160];
    /* a cut inside the APPS payload (2700..3600) */
    MK_CHECK_EQ_INT(parse(img, 3000, NULL, 0, &info, images, 32, 512), MK_E_IMAGE);
    MK_CHECK_EQ_INT(mk_cwe_describe_problem(&info, msg, sizeof msg), MK_OK);
    MK_CHECK_EQ_STR(msg, "APPS image 0.1.0 at offset 2300: file truncated (the image ends at "
                         "byte 3600, the file at 3000)");
    MK_CHECK_EQ_INT(parse(img, 399, NULL, 0, &info, images, 32, 512), MK_E_IMAGE);
    MK_CHECK_EQ_INT(mk_cwe_describe_problem(&info, msg, sizeof msg), MK_OK);
    MK_CHECK_EQ_STR(msg, "at offset 0: file shorter than a CWE header (a header is 400 bytes, "
                         "the file has 399)");
    /* padded is rejected too (libqmi checks the same size) */
    img[len] = 0;
    MK_CHECK_EQ_INT(parse(img, len + 1, NULL, 0, &info, images, 32, 512), MK_E_IMAGE);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_TRAILING_DATA);
    MK_CHECK_EQ_INT(mk_cwe_describe_problem(&info, msg, sizeof msg), MK_OK);
    MK_CHECK_EQ_STR(msg, "SPKG image 0 at offset 0: data after the end of the image (the image "
                         "ends at byte 5600, the file at 5601)");
}

MK_TEST(flipped_payload_byte_names_sub_image)
{
    size_t len = build(&rc7620, img, sizeof img);
    /* a byte inside the APPS leaf (header at 2300, payload 2700..3600) */
    img[3000] ^= 0x01;
    struct mk_cwe_info info;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 1024), MK_E_IMAGE_CRC);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_PAYLOAD_CRC);
    MK_CHECK_EQ_STR(info.fail_type, "APPS");
    MK_CHECK_EQ_INT(info.fail_offset, 2300);
    MK_CHECK_EQ_INT(info.fail_index, 4);
    MK_CHECK(!images[4].crc_ok && !images[3].crc_ok && !images[0].crc_ok);
    MK_CHECK(images[1].crc_ok && images[7].crc_ok);
    MK_CHECK_EQ_HEX(info.expected, images[4].hdr.image_crc);
    char msg[160];
    MK_CHECK_EQ_INT(mk_cwe_describe_problem(&info, msg, sizeof msg), MK_OK);
    char want[160];
    snprintf(want, sizeof want,
             "APPS image 0.1.0 at offset 2300: payload CRC mismatch (stored 0x%08x, "
             "computed 0x%08x)",
             (unsigned)info.expected, (unsigned)info.actual);
    MK_CHECK_EQ_STR(msg, want);
    /* the versions are still reported */
    MK_CHECK_EQ_STR(info.firmware, "00.08.24.02");
    img[3000] ^= 0x01;

    /* NVUP leaf (header 4900) */
    img[len - 1] ^= 0x80;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 1024), MK_E_IMAGE_CRC);
    MK_CHECK_EQ_STR(info.fail_type, "NVUP");
    MK_CHECK_EQ_INT(info.fail_offset, 4900);
    img[len - 1] ^= 0x80;

    /* a PSB byte of the nested BOOT header: that header's own CRC names it */
    img[400 + 10] ^= 0x04;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 1024), MK_E_IMAGE_CRC);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_PSB_CRC);
    MK_CHECK_EQ_STR(info.fail_type, "BOOT");
    MK_CHECK_EQ_INT(info.fail_offset, 400);
    img[400 + 10] ^= 0x04;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 1024), MK_OK);
}

/* Every single-bit flip outside the top-level header's non-PSB fields (which no CRC
 * covers) is rejected, and none crashes. */
MK_TEST(every_flip_detected)
{
    struct mk_cwe_package p = rc7620;
    p.boot_len = 100;
    p.appl_len = 60;
    p.modm_len = 40;
    p.nvup_len = 20;
    size_t len = build(&p, img, sizeof img);
    unsigned undetected = 0;
    for (size_t i = 0; i < len; i++) {
        img[i] ^= 0x10;
        struct mk_cwe_info info;
        enum mk_err err = parse(img, len, NULL, 0, &info, images, 32, 400);
        bool covered = i < 256 || i >= 400;
        if (covered && err == MK_OK) {
            undetected++;
            printf("#   flip at %zu not detected\n", i);
        }
        if (err != MK_OK)
            MK_CHECK(err == MK_E_IMAGE || err == MK_E_IMAGE_CRC);
        img[i] ^= 0x10;
    }
    MK_CHECK_EQ_INT(undetected, 0);
}

/* Reads img, but fails from offset *ctx on. */
static enum mk_err failing_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
    struct mk_cwe_mem mem = {img, sizeof img};
    if (offset >= *(const uint64_t *)ctx)
        return MK_E_IO;
    return mk_cwe_mem_read(&mem, offset, buf, len);
}

MK_TEST(reader_errors_and_garbage)
{
    size_t len = build(&rc7620, img, sizeof img);
    uint64_t fail_at = 2000;
    struct mk_cwe_reader rd = {failing_read, &fail_at, len, NULL};
    uint8_t scratch[400];
    struct mk_cwe_info info = {.images = images, .cap = 32};
    MK_CHECK_EQ_INT(mk_cwe_parse(&rd, scratch, sizeof scratch, 0, &info), MK_E_IO);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_READ_FAILED);
    MK_CHECK_EQ_INT(mk_cwe_parse(&rd, scratch, 399, 0, &info), MK_E_INVAL);

    /* not a CWE at all */
    uint8_t junk[1000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 7);
    MK_CHECK_EQ_INT(parse(junk, sizeof junk, NULL, 0, &info, images, 32, 400), MK_E_IMAGE);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_NOT_CWE);
}

/* A composite whose payload holds an image and then raw bytes is malformed. */
MK_TEST(composite_must_be_tiled)
{
    struct mk_cwe_build b;
    struct mk_cwe_header h;
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_header_defaults(&h, "SPKG", "9X07", RC7620_VERSION);
    mk_cwe_build_begin(&b, &h, NULL);
    mk_cwe_header_defaults(&h, "NVUP", "9X07", RC7620_VERSION);
    mk_cwe_build_begin(&b, &h, NULL);
    mk_cwe_build_fill(&b, 3, 100);
    mk_cwe_build_end(&b);
    mk_cwe_build_fill(&b, 4, 50); /* stray bytes inside SPKG */
    mk_cwe_build_end(&b);
    size_t len;
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &len), MK_OK);
    struct mk_cwe_info info;
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 400), MK_E_IMAGE);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_BAD_NESTING);
    MK_CHECK_EQ_STR(info.fail_type, "SPKG");
    MK_CHECK_EQ_INT(info.actual, 900);
    MK_CHECK_EQ_INT(info.expected, 950);

    /* a composite with raw data only */
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_header_defaults(&h, "APPL", "9X07", "v");
    mk_cwe_build_begin(&b, &h, NULL);
    mk_cwe_build_fill(&b, 4, 500);
    mk_cwe_build_end(&b);
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &len), MK_OK);
    MK_CHECK_EQ_INT(parse(img, len, NULL, 0, &info, images, 32, 400), MK_E_IMAGE);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_BAD_NESTING);
    MK_CHECK_EQ_STR(info.fail_type, "APPL");
}

MK_TEST_MAIN()
