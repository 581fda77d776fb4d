/*
 * Flashing sessions (flash.h) against an in-process target (fake_target.h) on a virtual
 * clock: the Sierra boot-and-hold flow byte for byte, the seed-004 lost HELLO, the NAK
 * the trailing zero block provokes (both ways it can arrive), every other NAK, a missing
 * final ACK, wrong products, every wait expiring on time, the PBL EDL and QDL flows.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_target.h"
#include "mk_test.h"
#include "modemkit/cwe_build.h"
#include "modemkit/flash.h"
#include "modemkit/hdlc.h"

/* ---- images ---- */

struct mem {
    const uint8_t *p;
    size_t len;
};

static enum mk_err mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    const struct mem *m = ctx;
    if (off + len > m->len)
        return MK_E_IO;
    memcpy(buf, m->p + off, len);
    return MK_OK;
}

static uint8_t img_a[200000], img_b[40000], img_bad[200000];
static size_t len_a, len_b;
static struct mem mem_a, mem_b, mem_bad;
static struct mk_flash_file file_a, file_b, file_bad;

static size_t build(uint8_t *buf, size_t cap, const char *product, const char *top_type,
                    size_t appl, size_t nvup)
{
    struct mk_cwe_package p = {
        .product = product,
        .sku = "9999999_9904609_SWI9X07H",
        .device = "SWI9X07H",
        .firmware = "00.08.24.02",
        .carrier = "GENERIC",
        .config = "001.110_000",
        .top_type = top_type,
        .boot_len = top_type ? 0 : 3000,
        .appl_len = appl,
        .modm_len = top_type ? 0 : 20000,
        .nvup_len = nvup,
        .seed = 5,
    };
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, buf, cap);
    mk_cwe_build_package(&b, &p);
    size_t len = 0;
    if (mk_cwe_build_finish(&b, &len) != MK_OK)
        abort();
    return len;
}

static void images(void)
{
    if (len_a)
        return;
    len_a = build(img_a, sizeof img_a, "9X07", NULL, 150000, 2000);
    len_b = build(img_b, sizeof img_b, "9X07", "NVUP", 0, 30000);
    memcpy(img_bad, img_a, len_a);
    img_bad[len_a - 5000] ^= 0x20; /* a payload byte of the MODM sub-image */
    mem_a = (struct mem){img_a, len_a};
    mem_b = (struct mem){img_b, len_b};
    mem_bad = (struct mem){img_bad, len_a};
    file_a = (struct mk_flash_file){mem_read, &mem_a, len_a, "fw.spk"};
    file_b = (struct mk_flash_file){mem_read, &mem_b, len_b, "carrier.nvu"};
    file_bad = (struct mk_flash_file){mem_read, &mem_bad, len_a, "bad.spk"};
}

/* ---- session ---- */

static uint8_t work[32768];

struct rec {
    unsigned progress, stages[16];
    uint64_t last_done, total;
    char notes[4096];
};

static void on_progress(void *ctx, const struct mk_flash_progress *p)
{
    struct rec *r = ctx;
    r->progress++;
    if ((unsigned)p->stage < 16)
        r->stages[p->stage]++;
    r->last_done = p->done;
    r->total = p->total;
}

static void on_note(void *ctx, enum mk_flash_note kind, const char *text)
{
    struct rec *r = ctx;
    size_t l = strlen(r->notes);
    snprintf(r->notes + l, sizeof r->notes - l, "%d:%s\n", (int)kind, text);
}

static void cfg_for(struct mk_flash_config *c, struct rec *r)
{
    mk_flash_config_default(c);
    c->buf = work;
    c->cap = sizeof work;
    c->hello_wait_ms = 1000;
    c->probe_wait_ms = 500;
    c->cmd_timeout_ms = 2000;
    c->final_wait_ms = 7000;
    c->qdl_final_wait_ms = 9000;
    c->cb.progress = on_progress;
    c->cb.note = on_note;
    c->cb.ctx = r;
    memset(r, 0, sizeof *r);
}

static size_t round_up(size_t n, size_t u)
{
    return (n + u - 1) / u * u;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- Sierra boot-and-hold ---- */

MK_TEST(sierra_two_files_bytes_on_the_wire)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 3, 7); /* replies split into 1..7-byte reads */
    t.zero_nak = FT_ZERO_NAK_NEXT;
    t.sector_size = 2048;
    t.hangup_on_reset = true;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    struct mk_flash_file files[] = {file_a, file_b};
    enum mk_err e = mk_flash_sierra(&fl, files, 2);
    MK_CHECK_EQ_INT(e, MK_OK);
    if (e)
        printf("# %s\n", mk_flash_message(&fl));
    /* the flow, command by command: the command after each file's zero block (the 2nd
     * program, then power) was NAKed once and sent again, and nothing else */
    MK_CHECK_EQ_STR(t.cmds, "NOP configure getStorageInfo program program program power power");
    MK_CHECK_EQ_INT(t.naks, 3);     /* configure (names the size) + two zero-block NAKs */
    MK_CHECK_EQ_INT(t.programs, 2); /* programs accepted */
    MK_CHECK_EQ_INT(t.resets, 1);
    MK_CHECK_EQ_INT(fl.payload, 8192);
    MK_CHECK_EQ_INT(fl.sector_size, 2048); /* from the storage-info log */
    /* data: each file whole (header included), zero-padded to a 2048-byte sector */
    size_t pa = round_up(len_a, 2048), pb = round_up(len_b, 2048);
    MK_CHECK_EQ_INT(t.data_len, pa + pb);
    MK_CHECK(memcmp(t.data, img_a, len_a) == 0);
    MK_CHECK(all_zero(t.data + len_a, pa - len_a));
    MK_CHECK(memcmp(t.data + pa, img_b, len_b) == 0);
    MK_CHECK(all_zero(t.data + pa + len_b, pb - len_b));
    MK_CHECK_EQ_INT(t.zero_tail, 2 * 512); /* one 512-byte zero block after each file */
    MK_CHECK(strstr(t.program_attrs, "filename=\"spkg.cwe\"") != NULL);
    MK_CHECK(strstr(t.program_attrs, "start_sector=\"-1\"") != NULL);
    char want[64];
    snprintf(want, sizeof want, "num_partition_sectors=\"%zu\"", pb / 2048);
    MK_CHECK(strstr(t.program_attrs, want) != NULL);
    MK_CHECK(strstr(t.program_attrs, "SECTOR_SIZE_IN_BYTES=\"2048\"") != NULL);
    /* progress: every stage reported, bytes add up */
    MK_CHECK(r.stages[MK_FLASH_STAGE_WRITE] >= 2);
    MK_CHECK(r.stages[MK_FLASH_STAGE_FINALIZE] >= 2);
    MK_CHECK_EQ_INT(r.stages[MK_FLASH_STAGE_DONE], 1);
    MK_CHECK_EQ_INT(r.last_done, r.total);
    MK_CHECK_EQ_INT(r.total, pa + pb + 1024);
    MK_CHECK(strstr(r.notes, "confirmed") != NULL);
    MK_CHECK(strstr(r.notes, "Sierra boot-and-hold") != NULL);
    ft_free(&t);
}

/* seed 004: the one-shot HELLO went to an earlier reader. The session listens, then
 * provokes; the target answers the SDP probe with a fresh HELLO, which is kept and used. */
MK_TEST(seed004_lost_hello_is_provoked_and_kept)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 9, 5);
    t.initial_hello = false;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    uint64_t t0 = ft_now(&t);
    const struct mk_dl_result *res;
    MK_CHECK_EQ_INT(mk_flash_detect(&fl, &res), MK_OK);
    MK_CHECK_EQ_INT(ft_now(&t) - t0, 1000); /* listened hello_wait_ms first, wrote nothing */
    static const uint8_t sdp[] = {0x7E, 0x70, 0x00, 0x00, 0x14, 0x46, 0x7E};
    MK_CHECK_EQ_INT(t.first_write_len, sizeof sdp);
    MK_CHECK_EQ_MEM(t.first_write, sdp, sizeof sdp);
    MK_CHECK_EQ_INT(res->target, MK_DL_TARGET_SIERRA_BOOTHOLD);
    MK_CHECK_EQ_INT(res->probes_sent, 1);
    MK_CHECK_EQ_INT(mk_flash_sierra(&fl, &file_b, 1), MK_OK);
    MK_CHECK_EQ_INT(t.hellos, 1); /* the provoked HELLO was answered, not a second one */
    MK_CHECK_EQ_INT(t.data_len, round_up(len_b, 4096));
    ft_free(&t);
}

/* With the AT probe configured, a Sahara target answers "AT\r" with a HELLO too. */
MK_TEST(at_probe_provokes_hello)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 2, 0);
    t.initial_hello = false;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    c.probe_at = true;
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    const struct mk_dl_result *res;
    MK_CHECK_EQ_INT(mk_flash_detect(&fl, &res), MK_OK);
    MK_CHECK_EQ_MEM(t.first_write, "AT\r", 3);
    MK_CHECK_EQ_INT(res->proto, MK_DL_PROTO_SAHARA);
    ft_free(&t);
}

MK_TEST(handshake_restart_after_invalid_command)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 4, 3);
    t.restart_once = true;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    MK_CHECK_EQ_INT(mk_flash_sierra(&fl, &file_b, 1), MK_OK);
    MK_CHECK_EQ_INT(t.hellos, 2);
    MK_CHECK(strstr(r.notes, "INVALID_COMMAND") != NULL);
    ft_free(&t);
}

/* The zero-block NAK can also arrive on its own, before our next command: the ACK that
 * follows answers the command, which must not be sent twice. */
MK_TEST(zero_block_nak_at_once_is_not_resent)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 5, 0);
    t.zero_nak = FT_ZERO_NAK_AT_ONCE;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    struct mk_flash_file files[] = {file_b, file_b};
    MK_CHECK_EQ_INT(mk_flash_sierra(&fl, files, 2), MK_OK);
    MK_CHECK_EQ_STR(t.cmds, "NOP configure getStorageInfo program program power");
    ft_free(&t);
}

static enum mk_err run_sierra(struct ft *t, struct mk_flash *fl, struct rec *r,
                              const struct mk_flash_file *f, const char *expect_product)
{
    struct mk_flash_config c;
    cfg_for(&c, r);
    c.expect_product = expect_product;
    mk_flash_init(fl, &t->io, &t->clock, &c);
    return mk_flash_sierra(fl, f, 1);
}

MK_TEST(every_other_nak_is_an_error)
{
    images();
    static const char *const cmds[] = {"NOP", "getStorageInfo", "program", "power"};
    for (size_t i = 0; i < 4; i++) {
        struct ft t;
        ft_init(&t, FT_SIERRA, 6 + i, 4);
        t.nak_cmd = cmds[i];
        t.zero_nak = FT_ZERO_NAK_NEXT; /* power: the retry is NAKed too */
        ft_start(&t);
        struct mk_flash fl;
        struct rec r;
        MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_b, NULL), MK_E_FIREHOSE_NAK);
        MK_CHECK(strstr(mk_flash_message(&fl), "NAK") != NULL);
        MK_CHECK(strstr(mk_flash_message(&fl), "refused by the fake target") != NULL ||
                 strstr(mk_flash_message(&fl), "XML not formed") != NULL);
        printf("# NAK on %s: %s\n", cmds[i], mk_flash_message(&fl));
        ft_free(&t);
    }
    /* a NAK instead of the final ACK */
    struct ft t;
    ft_init(&t, FT_SIERRA, 20, 4);
    t.nak_final = true;
    ft_start(&t);
    struct mk_flash fl;
    struct rec r;
    MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_b, NULL), MK_E_FIREHOSE_NAK);
    MK_CHECK(strstr(mk_flash_message(&fl), "flash write failed") != NULL);
    MK_CHECK_EQ_INT(t.resets, 0); /* no reset after a failure */
    ft_free(&t);
}

MK_TEST(missing_final_ack_is_an_error)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 21, 0);
    t.silent = FT_SILENT_FINAL;
    ft_start(&t);
    struct mk_flash fl;
    struct rec r;
    uint64_t t0 = ft_now(&t);
    MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_b, NULL), MK_E_FIREHOSE_NAK);
    MK_CHECK(strstr(mk_flash_message(&fl), "final ACK") != NULL);
    MK_CHECK(strstr(mk_flash_message(&fl), "7000 ms") != NULL);
    /* the session waited final_wait_ms (7 s), not less, not forever */
    MK_CHECK(ft_now(&t) - t0 >= 7000);
    MK_CHECK(ft_now(&t) - t0 < 7000 + 1000);
    MK_CHECK_EQ_INT(t.resets, 0);
    ft_free(&t);
}

/* A slow final ACK within the wait is fine. */
MK_TEST(slow_final_ack_within_the_wait)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 22, 0);
    t.final_delay_ms = 6500;
    ft_start(&t);
    struct mk_flash fl;
    struct rec r;
    MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_b, NULL), MK_OK);
    ft_free(&t);
}

MK_TEST(wrong_product)
{
    images();
    /* known before anything is sent: refused by the host */
    struct ft t;
    ft_init(&t, FT_SIERRA, 23, 0);
    ft_start(&t);
    struct mk_flash fl;
    struct rec r;
    MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_a, "9X30"), MK_E_IMAGE_PRODUCT);
    MK_CHECK_EQ_INT(t.host_bytes, 0);
    MK_CHECK(strstr(mk_flash_message(&fl), "9X07") != NULL);
    MK_CHECK(strstr(mk_flash_message(&fl), "9X30") != NULL);
    ft_free(&t);
    /* found by the target: its NAK and log line come back */
    ft_init(&t, FT_SIERRA, 24, 0);
    t.product = "9X30";
    ft_start(&t);
    MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_a, NULL), MK_E_FIREHOSE_NAK);
    MK_CHECK(strstr(mk_flash_message(&fl), "product 9X07, this is 9X30") != NULL);
    ft_free(&t);
}

MK_TEST(corrupt_image_refused_before_sending)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 25, 0);
    ft_start(&t);
    struct mk_flash fl;
    struct rec r;
    MK_CHECK_EQ_INT(run_sierra(&t, &fl, &r, &file_bad, NULL), MK_E_IMAGE_CRC);
    MK_CHECK_EQ_INT(t.host_bytes, 0);
    MK_CHECK(strstr(mk_flash_message(&fl), "bad.spk") != NULL);
    MK_CHECK(strstr(mk_flash_message(&fl), "CRC") != NULL);
    printf("# %s\n", mk_flash_message(&fl));
    ft_free(&t);
}

/* Every wait of the Sierra flow, silenced in turn: each ends with an error after its own
 * configured time, and the message names what was awaited. */
MK_TEST(every_wait_times_out_cleanly)
{
    images();
    static const struct {
        enum ft_silent where;
        enum mk_err err;
        uint32_t max_ms; /* upper bound of the virtual time spent */
        const char *text;
    } cases[] = {
        /* listen 1000 + 3 probes x 500 */
        {FT_SILENT_HELLO, MK_E_DETECT, 1000 + 3 * 500, "port stayed silent"},
        {FT_SILENT_CMD_READY, MK_E_TIMEOUT, 2000, "CMD_READY"},
        {FT_SILENT_EXEC_RSP, MK_E_TIMEOUT, 2000, "EXECUTE_RSP"},
        {FT_SILENT_CONFIRM, MK_E_TIMEOUT, 2000, "confirmation"},
        {FT_SILENT_NOP, MK_E_FIREHOSE_NAK, 2000, "NOP"},
        {FT_SILENT_CONFIGURE, MK_E_FIREHOSE_NAK, 2000, "configure"},
        {FT_SILENT_STORAGE, MK_E_FIREHOSE_NAK, 2000, "getStorageInfo"},
        {FT_SILENT_PROGRAM, MK_E_FIREHOSE_NAK, 2000, "program"},
        {FT_SILENT_FINAL, MK_E_FIREHOSE_NAK, 7000, "final ACK"},
        {FT_SILENT_POWER, MK_E_FIREHOSE_NAK, 2000, "power reset"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ft t;
        ft_init(&t, FT_SIERRA, 30 + i, 3);
        t.silent = cases[i].where;
        ft_start(&t);
        struct mk_flash fl;
        struct rec r;
        uint64_t t0 = ft_now(&t);
        enum mk_err e = run_sierra(&t, &fl, &r, &file_b, NULL);
        uint64_t spent = ft_now(&t) - t0;
        MK_CHECK_EQ_INT(e, cases[i].err);
        MK_CHECK(spent >= (i == 0 ? cases[i].max_ms : 1000));
        MK_CHECK(spent <= cases[i].max_ms + 100);
        if (!strstr(mk_flash_message(&fl), cases[i].text))
            MK_FAIL_AT(__FILE__, __LINE__, "case %zu: \"%s\" not in \"%s\"", i, cases[i].text,
                       mk_flash_message(&fl));
        printf("# silent %d: %s after %llu ms: %s\n", (int)cases[i].where, mk_err_name(e),
               (unsigned long long)spent, mk_flash_message(&fl));
        ft_free(&t);
    }
}

/* --protocol sahara with the HELLO long gone: an unsolicited HELLO_RSP gets things going. */
MK_TEST(forced_sahara_without_hello)
{
    images();
    struct ft t;
    ft_init(&t, FT_SIERRA, 40, 0);
    t.initial_hello = false;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    c.force = MK_DL_PROTO_SAHARA;
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    MK_CHECK_EQ_INT(mk_flash_sierra(&fl, &file_b, 1), MK_OK);
    MK_CHECK_EQ_INT(t.first_write[0], MK_SAHARA_HELLO_RSP);
    MK_CHECK_EQ_INT(t.hellos, 0);
    ft_free(&t);
}

/* ---- PBL EDL ---- */

static uint8_t programmer[9000];

static struct mk_flash_file prog_file(struct mem *m)
{
    memcpy(programmer,
           "\x7f"
           "ELF",
           4);
    for (size_t i = 4; i < sizeof programmer; i++)
        programmer[i] = (uint8_t)(i * 7 + 3);
    *m = (struct mem){programmer, sizeof programmer};
    return (struct mk_flash_file){mem_read, m, sizeof programmer, "prog_firehose_sdx55.mbn"};
}

MK_TEST(edl_programmer_then_rawprogram_and_patch)
{
    images();
    struct ft t;
    ft_init(&t, FT_EDL, 50, 6);
    struct mem pm;
    struct mk_flash_file prog = prog_file(&pm);
    t.programmer = programmer;
    t.programmer_len = sizeof programmer;
    t.max_payload = 16384;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    c.memory_name = "NAND";
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    struct mk_flash_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].kind = MK_FLASH_OP_PROGRAM;
    ops[0].region = (struct mk_firehose_region){.sector_size = 4096,
                                                .num_sectors = 64,
                                                .start_sector = "128",
                                                .filename = "modem.img",
                                                .label = "modem"};
    ops[0].file = (struct mk_flash_file){mem_read, &mem_b, len_b, "modem.img"};
    ops[1].kind = MK_FLASH_OP_PATCH;
    ops[1].patch = (struct mk_firehose_patch){.sector_size = 4096,
                                              .byte_offset = "0",
                                              .filename = "DISK",
                                              .size_in_bytes = 4,
                                              .start_sector = "0",
                                              .value = "0"};
    ops[2].kind = MK_FLASH_OP_PATCH; /* a patch for a host file: not sent */
    ops[2].patch = ops[1].patch;
    ops[2].patch.filename = "gpt_main0.bin";
    ops[3].kind = MK_FLASH_OP_PROGRAM;
    ops[3].region = ops[0].region;
    ops[3].region.start_sector = "NUM_DISK_SECTORS-33.";
    ops[3].region.num_sectors = 0;
    ops[3].file = (struct mk_flash_file){mem_read, &mem_a, len_a, "system.img"};
    enum mk_err e = mk_flash_edl(&fl, &prog, ops, 4);
    MK_CHECK_EQ_INT(e, MK_OK);
    if (e)
        printf("# %s\n", mk_flash_message(&fl));
    /* programmer served in the order asked, one READ_DATA_64 among them */
    MK_CHECK_EQ_INT(t.reads, 2);
    MK_CHECK_EQ_INT(t.reads64, 1);
    /* data: programmer (header, tail, middle), then the two partitions */
    size_t plen = sizeof programmer;
    MK_CHECK(memcmp(t.data, programmer, 64) == 0);
    MK_CHECK(memcmp(t.data + 64, programmer + plen - 100, 100) == 0);
    MK_CHECK(memcmp(t.data + 164, programmer + 64, plen - 164) == 0);
    size_t o = plen;
    MK_CHECK(memcmp(t.data + o, img_b, len_b) == 0);
    o += round_up(len_b, 4096);
    MK_CHECK(memcmp(t.data + o, img_a, len_a) == 0);
    MK_CHECK_EQ_INT(t.data_len, o + round_up(len_a, 4096));
    /* qdl-style negotiation: configure again with the size the NAK named */
    MK_CHECK_EQ_STR(t.cmds, "configure configure program patch program power");
    MK_CHECK_EQ_INT(t.patches, 1);
    MK_CHECK_EQ_INT(fl.payload, 16384);
    MK_CHECK(strstr(t.program_attrs, "start_sector=\"NUM_DISK_SECTORS-33.\"") != NULL);
    MK_CHECK_EQ_INT(t.zero_tail, 0); /* no Sierra zero block on EDL */
    ft_free(&t);
}

/* A PBL that refused a probe first: END_IMAGE_TX(INVALID_COMMAND), then a fresh HELLO. */
MK_TEST(edl_restart_after_invalid_command)
{
    images();
    struct ft t;
    ft_init(&t, FT_EDL, 55, 4);
    struct mem pm;
    struct mk_flash_file prog = prog_file(&pm);
    t.programmer = programmer;
    t.programmer_len = sizeof programmer;
    t.restart_once = true;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    MK_CHECK_EQ_INT(mk_flash_edl(&fl, &prog, NULL, 0), MK_OK);
    MK_CHECK_EQ_INT(t.hellos, 2);
    MK_CHECK_EQ_INT(t.data_len, sizeof programmer);
    ft_free(&t);
}

MK_TEST(edl_programmer_rejected_or_missing)
{
    images();
    struct ft t;
    ft_init(&t, FT_EDL, 51, 0);
    struct mem pm;
    struct mk_flash_file prog = prog_file(&pm);
    t.programmer = programmer;
    t.programmer_len = sizeof programmer;
    t.end_image_status = MK_SAHARA_STATUS_IMAGE_AUTH_FAILURE;
    ft_start(&t);
    struct mk_flash_config c;
    struct rec r;
    cfg_for(&c, &r);
    struct mk_flash fl;
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    MK_CHECK_EQ_INT(mk_flash_edl(&fl, &prog, NULL, 0), MK_E_SAHARA);
    MK_CHECK(strstr(mk_flash_message(&fl), "IMAGE_AUTH_FAILURE (0x25)") != NULL);
    ft_free(&t);

    ft_init(&t, FT_EDL, 52, 0);
    ft_start(&t);
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    MK_CHECK_EQ_INT(mk_flash_edl(&fl, NULL, NULL, 0), MK_E_EDL_PROGRAMMER);
    ft_free(&t);
    /* and the Sierra flow refuses a PBL at once */
    ft_init(&t, FT_EDL, 53, 0);
    ft_start(&t);
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    MK_CHECK_EQ_INT(mk_flash_sierra(&fl, &file_b, 1), MK_E_EDL_PROGRAMMER);
    MK_CHECK(strstr(mk_flash_message(&fl), "PBL EDL") != NULL);
    ft_free(&t);
    /* silent after HELLO_RSP */
    ft_init(&t, FT_EDL, 54, 0);
    t.silent = FT_SILENT_READ;
    ft_start(&t);
    mk_flash_init(&fl, &t.io, &t.clock, &c);
    uint64_t t0 = ft_now(&t);
    MK_CHECK_EQ_INT(mk_flash_edl(&fl, &prog, NULL, 0), MK_E_TIMEOUT);
    MK_CHECK(ft_now(&t) - t0 >= 2000 && ft_now(&t) - t0 <= 2100);
    MK_CHECK(strstr(mk_flash_message(&fl), "READ_DATA") != NULL);
    ft_free(&t);
}

/* ---- Sierra QDL ---- */

static enum mk_err run_qdl(struct ft *t, struct mk_flash *fl, struct rec *r)
{
    struct mk_flash_config c;
    cfg_for(&c, r);
    c.qdl_chunk = 65536;
    mk_flash_init(fl, &t->io, &t->clock, &c);
    return mk_flash_qdl(fl, &file_a, 1);
}

MK_TEST(qdl_flow)
{
    images();
    struct ft t;
    ft_init(&t, FT_QDL, 60, 5);
    t.hangup_on_reset = true;
    ft_start(&t);
    struct mk_flash fl;
    struct rec r;
    enum mk_err e = run_qdl(&t, &fl, &r);
    MK_CHECK_EQ_INT(e, MK_OK);
    if (e)
        printf("# %s\n", mk_flash_message(&fl));
    MK_CHECK_EQ_INT(t.hellos, 3); /* versions 4 and 5 refused, 6 accepted */
    MK_CHECK(memcmp(t.qdl_header, img_a, 400) == 0);
    MK_CHECK_EQ_INT(t.data_len, len_a - 400);
    MK_CHECK(memcmp(t.data, img_a + 400, len_a - 400) == 0);
    MK_CHECK_EQ_INT(t.qdl_writes, (len_a - 400 + 65535) / 65536);
    MK_CHECK_EQ_INT(t.resets, 1);
    ft_free(&t);

    ft_init(&t, FT_QDL, 61, 0);
    t.qdl_bad_seq = true;
    ft_start(&t);
    MK_CHECK_EQ_INT(run_qdl(&t, &fl, &r), MK_E_QDL);
    MK_CHECK(strstr(mk_flash_message(&fl), "sequence") != NULL);
    ft_free(&t);

    ft_init(&t, FT_QDL, 62, 0);
    t.qdl_open_status = 7;
    ft_start(&t);
    MK_CHECK_EQ_INT(run_qdl(&t, &fl, &r), MK_E_QDL);
    ft_free(&t);

    ft_init(&t, FT_QDL, 63, 0);
    t.silent = FT_SILENT_QDL_LAST_ACK;
    ft_start(&t);
    uint64_t t0 = ft_now(&t);
    MK_CHECK_EQ_INT(run_qdl(&t, &fl, &r), MK_E_TIMEOUT);
    MK_CHECK(ft_now(&t) - t0 >= 9000 && ft_now(&t) - t0 < 9000 + 2000);
    MK_CHECK(strstr(mk_flash_message(&fl), "9000 ms") != NULL);
    ft_free(&t);

    ft_init(&t, FT_QDL, 64, 0);
    t.silent = FT_SILENT_QDL_HELLO;
    ft_start(&t);
    MK_CHECK_EQ_INT(run_qdl(&t, &fl, &r), MK_E_QDL);
    MK_CHECK(strstr(mk_flash_message(&fl), "versions 4, 5 and 6") != NULL);
    ft_free(&t);
}

MK_TEST(version_match)
{
    MK_CHECK(mk_flash_version_match("SWI9X07H_00.08.24.02 f90cbd jenkins 2022/03/21 03:47:54",
                                    "00.08.24.02"));
    MK_CHECK(mk_flash_version_match("00.08.24.02", "00.08.24.02"));
    MK_CHECK(!mk_flash_version_match("SWI9X07H_00.08.07.00 0ce4c1", "00.08.24.02"));
    MK_CHECK(!mk_flash_version_match("SWI9X07H_100.08.24.02", "00.08.24.02"));
    MK_CHECK(!mk_flash_version_match("SWI9X07H_00.08.24.021", "00.08.24.02"));
    MK_CHECK(!mk_flash_version_match("anything", ""));
}

MK_TEST_MAIN()
