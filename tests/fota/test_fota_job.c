/*
 * The update job's decisions against a scripted SIM7000 (fake io, virtual clock):
 * refusals before any file command, resuming from the size the module reports (not the
 * journal's offset) after checking the copy's last bytes, starting over when they do not
 * match, and the apply command after a crash: never sent before the module was asked,
 * sent again only when the module shows it never got it, exactly once per attempt.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fota/fota_test_pkg.h"
#include "mk_test.h"
#include "modemkit/fota.h"
#include "support/fake_io.h"

#define SRC       "1529B04SIM7000G"
#define DST       "1529B05SIM7000G"
#define DELTA_LEN 10000

static uint8_t delta[DELTA_LEN];

struct rig {
    struct mk_fake_io f;
    struct mk_at_chan ch;
    char line[1200];
    struct mem pkgmem;
    struct mk_fota_reader rd;
    struct mk_fota_pkg pkg;
    char man[4096];
    char jtext[4096];
    size_t jlen;
    bool have_j;
    struct mk_fota_store store;
    struct mk_fota_hooks hooks;
    uint8_t work[MK_FOTA_BUF_MIN];
    struct mk_fota_job job;
    struct mk_fota_config cfg;
    int reopens;
    bool hang_on_apply;
};

static struct rig R;

static enum mk_err st_save(void *ctx, const char *id, const void *data, size_t len)
{
    struct rig *r = ctx;
    (void)id;
    memcpy(r->jtext, data, len);
    r->jlen = len;
    r->have_j = true;
    return MK_OK;
}

static enum mk_err st_load(void *ctx, const char *id, void *buf, size_t cap, size_t *len)
{
    struct rig *r = ctx;
    (void)id;
    if (!r->have_j)
        return MK_E_NOENT;
    if (r->jlen > cap)
        return MK_E_NOSPC;
    memcpy(buf, r->jtext, r->jlen);
    *len = r->jlen;
    return MK_OK;
}

/* The module resets after AT+CFOTA=1: the port hangs up just after its OK. */
static void on_progress(void *ctx, const struct mk_fota_event *ev)
{
    struct rig *r = ctx;
    if (ev->kind == MK_FOTA_EV_NOTE && r->hang_on_apply && strstr(ev->text, "AT+CFOTA=1"))
        mk_fake_io_hangup(&r->f, 5);
}

/* ... and comes back: the same fake answers again, by the rules added for "after". */
static enum mk_err on_reopen(void *ctx, uint64_t deadline)
{
    struct rig *r = ctx;
    (void)deadline;
    r->reopens++;
    r->f.hangup_set = false;
    mk_at_chan_set_io(&r->ch, &r->f.io);
    return MK_OK;
}

static void rig_init(const char *source)
{
    struct rig *r = &R;
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < DELTA_LEN; i++)
        delta[i] = (uint8_t)(i * 13 + (i >> 8));
    struct mk_fota_manifest m;
    memset(&m, 0, sizeof m);
    strcpy(m.model, "SIM7000G");
    strcpy(m.source, source);
    strcpy(m.target, DST);
    m.method = MK_FOTA_METHOD_CFOTA;
    strcpy(m.delta_name, "delta.bin");
    m.delta_size = DELTA_LEN;
    mk_sha256(delta, DELTA_LEN, m.delta_sha256);
    char text[1024];
    size_t len;
    mk_fota_manifest_write(&m, text, sizeof text, &len);
    put(&r->pkgmem, "manifest.json", text, len);
    put(&r->pkgmem, "delta.bin", delta, DELTA_LEN);
    finish(&r->pkgmem);
    r->rd = (struct mk_fota_reader){mem_read, &r->pkgmem, r->pkgmem.len};
    char why[320];
    MK_CHECK_EQ_INT(mk_fota_pkg_open(&r->pkg, &r->rd, r->man, sizeof r->man, r->work,
                                     sizeof r->work, why, sizeof why),
                    MK_OK);
    mk_fake_io_init(&r->f, 7, 16);
    struct mk_at_config acfg = {.line_buf = r->line, .line_cap = sizeof r->line};
    mk_at_chan_init(&r->ch, &acfg, &r->f.io, &r->f.clock);
    r->store = (struct mk_fota_store){st_save, st_load, r};
    r->hooks = (struct mk_fota_hooks){.reopen = on_reopen, .progress = on_progress, .ctx = r};
    r->cfg = (struct mk_fota_config){
        .chan = &r->ch,
        .store = &r->store,
        .hooks = &r->hooks,
        .buf = r->work,
        .buf_cap = sizeof r->work,
        .chunk_max = 4096,
        .reboot_timeout_ms = 30000,
    };
    /* identity: ATI names the model; AT+CGMR is added per scenario (source, then target) */
    struct mk_fake_rule *ati = mk_fake_io_on(
        &r->f, MK_FAKE_LINE, "ATI", 0,
        "\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7000G\r\nRevision: R1529\r\n"
        "IMEI: 869257030000042\r\n\r\nOK\r\n");
    mk_fake_io_times(ati, 0);
    mk_fake_io_times(mk_fake_io_on(&r->f, MK_FAKE_LINE, "AT", 0, "\r\nOK\r\n"), 0);
}

static void cgmr(const char *rev, unsigned times)
{
    char reply[128];
    snprintf(reply, sizeof reply, "\r\nRevision:%s\r\n\r\nOK\r\n", rev);
    mk_fake_io_times(mk_fake_io_on(&R.f, MK_FAKE_LINE, "AT+CGMR", 0, reply), times);
}

static void ok(const char *cmd, unsigned times)
{
    mk_fake_io_times(mk_fake_io_on(&R.f, MK_FAKE_LINE, cmd, 0, "\r\nOK\r\n"), times);
}

static void answer(const char *cmd, const char *line, unsigned times)
{
    char reply[160];
    snprintf(reply, sizeof reply, "\r\n%s\r\n\r\nOK\r\n", line);
    mk_fake_io_times(mk_fake_io_on(&R.f, MK_FAKE_LINE, cmd, 0, reply), times);
}

/* One AT+CFSWFILE chunk: prompt, then exactly the delta's bytes at off, then OK. */
static void chunk(size_t off, size_t n, bool append)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "AT+CFSWFILE=1,\"update.zip\",%d,%zu,", append ? 1 : 0, n);
    mk_fake_io_on(&R.f, MK_FAKE_PREFIX, cmd, 0, "\r\nDOWNLOAD\r\n");
    mk_fake_io_on_n(&R.f, MK_FAKE_BYTES, delta + off, n, 0, "\r\nOK\r\n", 6);
}

/* The delta's bytes [off, off+n) as the module would read them back. */
static void readback(size_t off, size_t n, bool wrong)
{
    char cmd[96], head[48];
    uint8_t reply[256];
    snprintf(cmd, sizeof cmd, "AT+CFSRFILE=1,\"update.zip\",1,%zu,%zu", n, off);
    size_t h = (size_t)snprintf(head, sizeof head, "\r\n+CFSRFILE: %zu\r\n", n);
    memcpy(reply, head, h);
    memcpy(reply + h, delta + off, n);
    if (wrong)
        reply[h + n - 1] ^= 0x20;
    memcpy(reply + h + n, "\r\n\r\nOK\r\n", 8);
    mk_fake_io_on_n(&R.f, MK_FAKE_LINE, cmd, strlen(cmd), 0, reply, h + n + 8);
}

/* AT+CFOTA? 8, AT+CFOTA=1, reset, back on the target, AT+CFOTA? 6. */
static void apply_succeeds(void)
{
    answer("AT+CFOTA?", "+CFOTA: 8", 1);
    struct mk_fake_rule *a = mk_fake_io_on(&R.f, MK_FAKE_LINE, "AT+CFOTA=1", 0, "\r\nOK\r\n");
    (void)a;
    R.hang_on_apply = true;
    cgmr(DST, 0);
    answer("AT+CFOTA?", "+CFOTA: 6", 0);
}

static size_t count(const char *needle)
{
    size_t len, n = 0, k = strlen(needle);
    const uint8_t *tx = mk_fake_io_tx(&R.f, &len);
    for (size_t i = 0; i + k <= len; i++)
        n += memcmp(tx + i, needle, k) == 0;
    return n;
}

static void seed_journal(enum mk_fota_state state, uint64_t offset, bool apply_sent,
                         uint32_t applies)
{
    struct mk_fota_journal j;
    memset(&j, 0, sizeof j);
    memcpy(j.package, R.pkg.id_hex, sizeof j.package);
    strcpy(j.model, "SIM7000G");
    strcpy(j.source, SRC);
    strcpy(j.target, DST);
    j.method = MK_FOTA_METHOD_CFOTA;
    j.delta_size = DELTA_LEN;
    j.state = state;
    j.offset = offset;
    j.apply_sent = apply_sent;
    j.apply_count = applies;
    j.sessions = 1;
    mk_fota_journal_encode(&j, R.jtext, sizeof R.jtext, &R.jlen);
    R.have_j = true;
}

static struct mk_fota_journal saved(void)
{
    struct mk_fota_journal j;
    MK_CHECK_EQ_INT(mk_fota_journal_decode(&j, R.jtext, R.jlen), MK_OK);
    return j;
}

MK_TEST(refused_before_any_file_command)
{
    rig_init("1529B03SIM7000G");
    cgmr(SRC, 0);
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_E_FOTA_SOURCE);
    MK_CHECK(strstr(R.job.msg, "updates revision 1529B03SIM7000G; the module runs " SRC));
    MK_CHECK_EQ_INT(count("AT+CFS"), 0);
    MK_CHECK_EQ_INT(count("AT+CFOTA"), 0);
    struct mk_fota_journal j = saved();
    MK_CHECK(j.final);
    MK_CHECK_EQ_INT(j.result, MK_FOTA_RES_UNSUPPORTED_PKG);
    mk_fake_io_free(&R.f);
}

MK_TEST(fresh_transfer_and_apply)
{
    rig_init(SRC);
    cgmr(SRC, 1);
    ok("AT+CFSINIT", 1);
    mk_fake_io_on(&R.f, MK_FAKE_LINE, "AT+CFSGFIS=1,\"update.zip\"", 0, "\r\nERROR\r\n");
    answer("AT+CFSGFRS?", "+CFSGFRS: 2000000", 1);
    chunk(0, 4096, false);
    chunk(4096, 4096, true);
    chunk(8192, 1808, true);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 10000", 1);
    ok("AT+CFSTERM", 1);
    apply_succeeds();
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_OK);
    MK_CHECK_EQ_INT(R.job.stats.bytes_sent, DELTA_LEN);
    MK_CHECK_EQ_INT(R.job.stats.chunks_sent, 3);
    MK_CHECK_EQ_INT(count("AT+CFOTA=1"), 1);
    MK_CHECK_EQ_INT(R.reopens, 1);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&R.f), 0);
    struct mk_fota_journal j = saved();
    MK_CHECK(j.final);
    MK_CHECK_EQ_INT(j.result, MK_FOTA_RES_SUCCESS);
    MK_CHECK_EQ_INT(j.apply_count, 1);
    mk_fake_io_free(&R.f);
}

MK_TEST(resume_from_module_size_not_journal)
{
    rig_init(SRC);
    seed_journal(MK_FOTA_STATE_DOWNLOADING, 4096, false, 0); /* the journal lags */
    cgmr(SRC, 1);
    ok("AT+CFSINIT", 1);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 8192", 1);
    readback(8192 - 64, 64, false);
    answer("AT+CFSGFRS?", "+CFSGFRS: 2000000", 1);
    chunk(8192, 1808, true);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 10000", 1);
    ok("AT+CFSTERM", 1);
    apply_succeeds();
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_OK);
    MK_CHECK(R.job.stats.resumed);
    MK_CHECK_EQ_INT(R.job.stats.resumed_from, 8192);
    MK_CHECK_EQ_INT(R.job.stats.bytes_sent, 1808);
    MK_CHECK_EQ_INT(count("AT+CFSWFILE"), 1);
    MK_CHECK_EQ_INT(count("AT+CFSDFILE"), 0);
    MK_CHECK_EQ_INT(count("AT+CFOTA=1"), 1);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&R.f), 0);
    MK_CHECK_EQ_INT(saved().sessions, 2);
    mk_fake_io_free(&R.f);
}

MK_TEST(resume_starts_over_when_the_copy_does_not_end_right)
{
    rig_init(SRC);
    seed_journal(MK_FOTA_STATE_DOWNLOADING, 8192, false, 0);
    cgmr(SRC, 1);
    ok("AT+CFSINIT", 1);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 8192", 1);
    readback(8192 - 64, 64, true); /* a chunk completed with other bytes */
    ok("AT+CFSDFILE=1,\"update.zip\"", 1);
    answer("AT+CFSGFRS?", "+CFSGFRS: 2000000", 1);
    chunk(0, 4096, false);
    chunk(4096, 4096, true);
    chunk(8192, 1808, true);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 10000", 1);
    ok("AT+CFSTERM", 1);
    apply_succeeds();
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_OK);
    MK_CHECK_EQ_INT(R.job.stats.resumed_from, 0);
    MK_CHECK_EQ_INT(R.job.stats.bytes_sent, DELTA_LEN);
    MK_CHECK_EQ_INT(count("AT+CFSDFILE"), 1);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&R.f), 0);
    mk_fake_io_free(&R.f);
}

MK_TEST(apply_maybe_sent_module_on_target)
{
    rig_init(SRC);
    seed_journal(MK_FOTA_STATE_UPDATING, DELTA_LEN, true, 1);
    cgmr(DST, 0);
    answer("AT+CFOTA?", "+CFOTA: 6", 0);
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_OK);
    MK_CHECK_EQ_INT(count("AT+CFOTA=1"), 0);
    MK_CHECK_EQ_INT(count("AT+CFSWFILE"), 0);
    struct mk_fota_journal j = saved();
    MK_CHECK_EQ_INT(j.result, MK_FOTA_RES_SUCCESS);
    MK_CHECK_EQ_INT(j.apply_count, 1);
    mk_fake_io_free(&R.f);
}

MK_TEST(apply_maybe_sent_never_reached_the_module)
{
    rig_init(SRC);
    seed_journal(MK_FOTA_STATE_UPDATING, DELTA_LEN, true, 1);
    cgmr(SRC, 1);
    answer("AT+CFOTA?", "+CFOTA: 8", 1);
    ok("AT+CFSINIT", 1);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 10000", 1);
    ok("AT+CFSTERM", 1);
    apply_succeeds();
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_OK);
    MK_CHECK_EQ_INT(count("AT+CFOTA=1"), 1); /* once, after the module was asked */
    MK_CHECK_EQ_INT(count("AT+CFSWFILE"), 0);
    /* the status query came before the apply */
    size_t len;
    const uint8_t *tx = mk_fake_io_tx(&R.f, &len);
    const char *q = strstr((const char *)tx, "AT+CFOTA?");
    const char *a = strstr((const char *)tx, "AT+CFOTA=1");
    MK_CHECK(q && a && q < a);
    MK_CHECK_EQ_INT(saved().apply_count, 2);
    mk_fake_io_free(&R.f);
}

MK_TEST(apply_maybe_sent_module_reports_failure)
{
    rig_init(SRC);
    seed_journal(MK_FOTA_STATE_UPDATING, DELTA_LEN, true, 1);
    cgmr(SRC, 0);
    answer("AT+CFOTA?", "+CFOTA: 7", 0);
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_E_FOTA_FAILED);
    MK_CHECK(strstr(R.job.msg, "AT+CFOTA? 7"));
    MK_CHECK_EQ_INT(count("AT+CFOTA=1"), 0);
    struct mk_fota_journal j = saved();
    MK_CHECK(j.final);
    MK_CHECK_EQ_INT(j.result, MK_FOTA_RES_FAILED);
    mk_fake_io_free(&R.f);
}

MK_TEST(not_enough_space_refused_before_data)
{
    rig_init(SRC);
    cgmr(SRC, 0);
    ok("AT+CFSINIT", 1);
    mk_fake_io_on(&R.f, MK_FAKE_LINE, "AT+CFSGFIS=1,\"update.zip\"", 0, "\r\nERROR\r\n");
    answer("AT+CFSGFRS?", "+CFSGFRS: 9999", 1);
    ok("AT+CFSTERM", 1);
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_E_FOTA_SPACE);
    MK_CHECK(strstr(R.job.msg, "needs 10000 bytes on the module; it has 9999 bytes free"));
    MK_CHECK_EQ_INT(count("AT+CFSWFILE"), 0);
    MK_CHECK_EQ_INT(saved().result, MK_FOTA_RES_NO_FLASH);
    mk_fake_io_free(&R.f);
}

static int power_cycles;
static bool back_after_cycle;

static enum mk_err reopen_only_after_cycle(void *ctx, uint64_t deadline)
{
    struct rig *r = ctx;
    if (back_after_cycle && power_cycles == 0) {
        /* nothing comes back: the hook waits out its deadline */
        uint64_t now = mk_fake_io_now(&r->f);
        if (deadline > now)
            mk_fake_io_advance(&r->f, deadline - now);
        return MK_E_TIMEOUT;
    }
    return on_reopen(ctx, deadline);
}

static enum mk_err cycle(void *ctx)
{
    (void)ctx;
    power_cycles++;
    return MK_OK;
}

MK_TEST(module_not_back_is_power_cycled)
{
    rig_init(SRC);
    cgmr(SRC, 1);
    ok("AT+CFSINIT", 1);
    mk_fake_io_on(&R.f, MK_FAKE_LINE, "AT+CFSGFIS=1,\"update.zip\"", 0, "\r\nERROR\r\n");
    answer("AT+CFSGFRS?", "+CFSGFRS: 2000000", 1);
    chunk(0, 4096, false);
    chunk(4096, 4096, true);
    chunk(8192, 1808, true);
    answer("AT+CFSGFIS=1,\"update.zip\"", "+CFSGFIS: 10000", 1);
    ok("AT+CFSTERM", 1);
    apply_succeeds();
    power_cycles = 0;
    back_after_cycle = true;
    R.hooks.reopen = reopen_only_after_cycle;
    R.hooks.power_cycle = cycle;
    uint64_t t0 = mk_fake_io_now(&R.f);
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_OK);
    MK_CHECK_EQ_INT(power_cycles, 1);
    MK_CHECK_EQ_INT(R.job.stats.power_cycles, 1);
    MK_CHECK(mk_fake_io_now(&R.f) - t0 >= R.cfg.reboot_timeout_ms); /* it waited first */
    MK_CHECK(saved().power_cycled);
    mk_fake_io_free(&R.f);
}

MK_TEST(module_not_back_without_power_cycle_command)
{
    rig_init(SRC);
    seed_journal(MK_FOTA_STATE_UPDATING, DELTA_LEN, true, 1);
    cgmr(SRC, 1);
    answer("AT+CFOTA?", "+CFOTA: 1", 1); /* still updating: wait for the reset */
    mk_fake_io_hangup(&R.f, 1000);
    power_cycles = 0;
    back_after_cycle = true;
    R.hooks.reopen = reopen_only_after_cycle;
    MK_CHECK_EQ_INT(mk_fota_run(&R.job, &R.cfg, &R.pkg), MK_E_FOTA_NOT_BACK);
    MK_CHECK(strstr(R.job.msg, "did not come back"));
    MK_CHECK_EQ_INT(count("AT+CFOTA=1"), 0);
    mk_fake_io_free(&R.f);
}

MK_TEST_MAIN()
