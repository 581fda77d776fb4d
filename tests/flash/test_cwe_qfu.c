/*
 * Our CWE parser against an independent implementation: libqmi's
 * `qmi-firmware-update --verify FILE` (Debian libqmi-utils), which works on a file without
 * any device. For images built with cwe_build.h, both must report the same image tree and
 * the same firmware version, config version and carrier; both must reject truncated
 * files; and a corrupted payload byte, which libqmi accepts (it checks no CRC), must be
 * rejected by us with the failing sub-image named.
 *
 * Exit code 77 (skipped) when qmi-firmware-update is not installed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mk_test.h"
#include "modemkit/cwe.h"
#include "modemkit/cwe_build.h"

static char dir[64];
static uint8_t img[1 << 20];

/* ---- our side: parse a file through a stdio reader ---- */

static enum mk_err file_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
    FILE *f = ctx;
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(buf, 1, len, f) != len)
        return MK_E_IO;
    return MK_OK;
}

static struct mk_cwe_image images[64];

static enum mk_err ours(const char *name, struct mk_cwe_info *info)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return MK_E_NOENT;
    fseeko(f, 0, SEEK_END);
    struct mk_cwe_reader rd = {file_read, f, (uint64_t)ftello(f), name};
    static uint8_t scratch[65536];
    info->images = images;
    info->cap = 64;
    enum mk_err err = mk_cwe_parse(&rd, scratch, sizeof scratch, 0, info);
    fclose(f);
    return err;
}

/* ---- libqmi's side ---- */

struct qfu {
    int status; /* exit status */
    char firmware[32], config[32], carrier[96];
    int n; /* images listed */
    char path[64][24], type[64][8];
    unsigned long size[64];
};

/* Copy the value after "label:" on a line, trimmed. */
static void value_after(const char *line, const char *label, char *out, size_t cap)
{
    const char *p = strstr(line, label);
    if (!p)
        return;
    p += strlen(label);
    while (*p == ' ')
        p++;
    snprintf(out, cap, "%s", p);
    out[strcspn(out, "\r\n")] = '\0';
}

static void run_qfu(const char *name, struct qfu *q)
{
    memset(q, 0, sizeof *q);
    char cmd[512];
    /* run in the directory so that libqmi sees the bare file name, as we do */
    snprintf(cmd, sizeof cmd, "cd '%s' && qmi-firmware-update --verify '%s' 2>&1", dir, name);
    FILE *p = popen(cmd, "r");
    if (!p) {
        q->status = -1;
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, p)) {
        value_after(line, "[cwe] detected firmware version:", q->firmware, sizeof q->firmware);
        value_after(line, "[cwe] detected config version:", q->config, sizeof q->config);
        value_after(line, "[cwe] detected carrier:", q->carrier, sizeof q->carrier);
        char path[24], what[16];
        if (sscanf(line, " [cwe %23[0-9.]] %15[a-z]:", path, what) == 2 && q->n < 64) {
            if (!strcmp(what, "type")) {
                snprintf(q->path[q->n], sizeof q->path[0], "%s", path);
                value_after(line, "type:", q->type[q->n], sizeof q->type[0]);
                q->n++;
            } else if (!strcmp(what, "size") && q->n > 0) {
                char v[32] = "";
                value_after(line, "size:", v, sizeof v);
                q->size[q->n - 1] = strtoul(v, NULL, 10);
            }
        }
    }
    int st = pclose(p);
    q->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "0.1.0" for images[i], the way libqmi numbers them. */
static void our_path(const struct mk_cwe_info *info, size_t i, char *out, size_t cap)
{
    unsigned parts[16], n = 0;
    for (int k = (int)i; k >= 0 && n < 16; k = info->images[k].parent) {
        unsigned ord = 0;
        for (int j = 0; j < k; j++)
            if (info->images[j].parent == info->images[k].parent)
                ord++;
        parts[n++] = ord;
    }
    size_t len = 0;
    out[0] = '\0';
    while (n--)
        len += (size_t)snprintf(out + len, cap - len, n ? "%u." : "%u", parts[n]);
}

static const char *or_na(const char *s)
{
    return s[0] ? s : "n/a";
}

/* ---- images ---- */

static size_t write_image(const char *name, const struct mk_cwe_package *p, size_t cut,
                          size_t flip_at)
{
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, img, sizeof img);
    mk_cwe_build_package(&b, p);
    size_t len = 0;
    MK_CHECK_EQ_INT(mk_cwe_build_finish(&b, &len), MK_OK);
    if (flip_at)
        img[flip_at] ^= 0x40;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    MK_CHECK(f != NULL);
    if (f) {
        fwrite(img, 1, len - cut, f);
        fclose(f);
    }
    if (flip_at)
        img[flip_at] ^= 0x40;
    return len;
}

static const struct mk_cwe_package base = {
    .product = "9X07",
    .sku = "9999999_9904609_SWI9X07H",
    .device = "SWI9X07H",
    .firmware = "00.08.24.02",
    .carrier = "GENERIC",
    .config = "001.110_000",
    .boot_len = 3000,
    .appl_len = 150000, /* several scratch buffers: the CRC is streamed */
    .modm_len = 70000,
    .nvup_len = 2000,
    .seed = 11,
};

/* Same verdict, same versions, same tree. */
static void agree(const char *name, const char *fw, const char *cfg, const char *car)
{
    struct mk_cwe_info info;
    struct qfu q;
    enum mk_err err = ours(name, &info);
    run_qfu(name, &q);
    MK_CHECK_EQ_INT(err, MK_OK);
    MK_CHECK_EQ_INT(q.status, 0);
    MK_CHECK_EQ_STR(or_na(info.firmware), fw);
    MK_CHECK_EQ_STR(or_na(info.config), cfg);
    MK_CHECK_EQ_STR(or_na(info.carrier), car);
    MK_CHECK_EQ_STR(q.firmware, fw);
    MK_CHECK_EQ_STR(q.config, cfg);
    MK_CHECK_EQ_STR(q.carrier, car);
    MK_CHECK_EQ_INT(q.n, info.count);
    for (size_t i = 0; i < info.count && i < (size_t)q.n; i++) {
        char path[32];
        our_path(&info, i, path, sizeof path);
        MK_CHECK_EQ_STR(q.path[i], path);
        MK_CHECK_EQ_STR(q.type[i], images[i].hdr.type);
        MK_CHECK_EQ_INT(q.size[i], images[i].hdr.image_sz);
    }
    printf("# %s: both say %s / %s / %s, %zu images\n", name, fw, cfg, car, info.count);
}

MK_TEST(same_versions_and_tree_as_libqmi)
{
    struct mk_cwe_package p = base;
    /* everything in the top-level version (the RC7620 .spk style) */
    write_image("full.spk", &p, 0, 0);
    agree("full.spk", "00.08.24.02", "001.110_000", "GENERIC");

    /* nothing at the top: firmware from BOOT, carrier and config from NVUP */
    p.top_version = "SPKG without versions";
    p.boot_version = "SWI9X07H_00.08.24.03 boot";
    p.nvup_version = "9999999_9904609_SWI9X07H_00.08.24.04_00_ATT_002.003_004";
    write_image("embedded.spk", &p, 0, 0);
    agree("embedded.spk", "00.08.24.03", "002.003_004", "ATT");

    /* the file name wins over the embedded headers (libqmi's --help example name) */
    write_image("9999999_9902574_SWI9X15C_05.05.66.00_00_GENNA-UMTS_005.028_000-field.spk", &p, 0,
                0);
    agree("9999999_9902574_SWI9X15C_05.05.66.00_00_GENNA-UMTS_005.028_000-field.spk", "05.05.66.00",
          "005.028_000", "GENNA-UMTS");

    /* top-level firmware only (libqmi test "INTERNAL_?..."): the rest from NVUP */
    p.top_version = "INTERNAL_?_SWI9X15C_05.05.63.01_?_?_?_?";
    write_image("internal.spk", &p, 0, 0);
    agree("internal.spk", "05.05.63.01", "002.003_004", "ATT");

    /* a carrier package alone (.nvu) */
    struct mk_cwe_package nvu = base;
    nvu.top_type = "NVUP";
    nvu.carrier = "SPRINT";
    nvu.config = "005.037_000";
    write_image("carrier.nvu", &nvu, 0, 0);
    agree("carrier.nvu", "00.08.24.02", "005.037_000", "SPRINT");

    /* a system image without NVUP, lower-case carrier from libqmi's tests in the name */
    struct mk_cwe_package sys = base;
    sys.nvup_len = 0;
    sys.top_version = "none";
    write_image("9999999_9999999_9200_03.05.29.03_00_generic_000.000_001_SPKG_MC.cwe", &sys, 0, 0);
    agree("9999999_9999999_9200_03.05.29.03_00_generic_000.000_001_SPKG_MC.cwe", "03.05.29.03",
          "000.000_001", "generic");

    /* no information anywhere */
    sys.boot_version = "boot";
    write_image("plain.cwe", &sys, 0, 0);
    agree("plain.cwe", "n/a", "n/a", "n/a");
}

MK_TEST(both_reject_truncated_images)
{
    struct mk_cwe_package p = base;
    p.appl_len = 5000;
    p.modm_len = 3000;
    size_t len = write_image("whole.spk", &p, 0, 0);
    /* bytes removed from the end: inside the last payload, at header boundaries, and
     * down to less than one header */
    const size_t cuts[] = {1, 100, 2000, len - 800, len - 400, len - 401, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_image("cut.spk", &p, cuts[i], 0);
        struct mk_cwe_info info;
        struct qfu q;
        MK_CHECK_EQ_INT(ours("cut.spk", &info), MK_E_IMAGE);
        MK_CHECK_EQ_INT(info.problem, len - cuts[i] < 400 ? MK_CWE_TOO_SHORT : MK_CWE_TRUNCATED);
        run_qfu("cut.spk", &q);
        MK_CHECK(q.status != 0);
    }
    /* shorter than a header */
    char path[256];
    snprintf(path, sizeof path, "%s/tiny.cwe", dir);
    FILE *f = fopen(path, "wb");
    MK_CHECK(f != NULL);
    if (f) {
        fwrite(img, 1, 200, f);
        fclose(f);
    }
    struct mk_cwe_info info;
    struct qfu q;
    MK_CHECK_EQ_INT(ours("tiny.cwe", &info), MK_E_IMAGE);
    run_qfu("tiny.cwe", &q);
    MK_CHECK(q.status != 0);
}

MK_TEST(corrupted_payload_byte_libqmi_accepts_we_reject)
{
    struct mk_cwe_package p = base;
    p.appl_len = 5000;
    p.modm_len = 3000;
    /* layout: SPKG 0, BOOT 400, SBL1 800 (3000 bytes), APPL 4200, APPS 4600, data 5000.. */
    write_image("flip.spk", &p, 0, 5000 + 1234);
    struct mk_cwe_info info;
    struct qfu q;
    run_qfu("flip.spk", &q);
    MK_CHECK_EQ_INT(q.status, 0); /* libqmi does not check CRCs */
    MK_CHECK_EQ_STR(q.firmware, "00.08.24.02");
    MK_CHECK_EQ_INT(ours("flip.spk", &info), MK_E_IMAGE_CRC);
    MK_CHECK_EQ_INT(info.problem, MK_CWE_PAYLOAD_CRC);
    MK_CHECK_EQ_STR(info.fail_type, "APPS");
    MK_CHECK_EQ_INT(info.fail_offset, 4600);
    char msg[200];
    MK_CHECK_EQ_INT(mk_cwe_describe_problem(&info, msg, sizeof msg), MK_OK);
    const char *want = "APPS image 0.1.0 at offset 4600: payload CRC mismatch";
    MK_CHECK(strncmp(msg, want, strlen(want)) == 0);
    printf("# ours: %s\n", msg);

    /* in the NVUP carrier package */
    size_t len = write_image("flip2.spk", &p, 0, 0);
    write_image("flip2.spk", &p, 0, len - 10);
    run_qfu("flip2.spk", &q);
    MK_CHECK_EQ_INT(q.status, 0);
    MK_CHECK_EQ_INT(ours("flip2.spk", &info), MK_E_IMAGE_CRC);
    MK_CHECK_EQ_STR(info.fail_type, "NVUP");
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Runs before main(): skip without the tool, else make the scratch directory. */
__attribute__((constructor)) static void setup(void)
{
    if (system("qmi-firmware-update --version >/dev/null 2>&1") != 0) {
        printf("1..0 # SKIP qmi-firmware-update not installed (Debian libqmi-utils)\n");
        exit(77);
    }
    snprintf(dir, sizeof dir, "/tmp/mk-cwe-qfu-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(cleanup);
}

MK_TEST_MAIN()
