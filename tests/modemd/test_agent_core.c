/*
 * The agent core against fakes and a virtual clock: the sampling schedule, publish only
 * after PUBACK (link down, failing publishes, restart), parameter validation (every
 * rejection reason, atomicity, the hook refusing, persistence, the agent's own
 * interval), update jobs (progress, final result kept until the broker has it, never
 * run twice, resume after a restart, expectations), status and the inbox bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_fakes.h"
#include "mk_test.h"

#define T_TEL "d/x/telemetry"
#define T_PAR "d/x/params"
#define T_REP "d/x/params/reply"
#define T_STA "d/x/status"
#define T_JOB "d/x/jobs"
#define T_RES "d/x/jobs/result"

static struct fake_store st;
static struct fake_link ln;
static struct fake_source src;
static struct fake_updater upd;
static struct fake_hooks hk;
static struct mk_vclock vc;
static struct mk_clock clk;
static struct mk_agent ag;
static struct mk_agent_config cfg;

static const struct mk_agent_param_def defs[] = {
    {"motor_speed", MK_AGENT_PT_INT, "0", "3000", "1200", 0},
    {"gain", MK_AGENT_PT_NUMBER, "-1.5", "2.5", "1.0", 0},
    {"enabled", MK_AGENT_PT_BOOL, NULL, NULL, "true", 0},
    {"mode", MK_AGENT_PT_STRING, NULL, NULL, "\"auto\"", 8},
    {"sample_interval_ms", MK_AGENT_PT_INT, "100", "86400000", NULL, 0},
};

/* A fresh world; keep_storage simulates a restart of the agent over the same storage. */
static void setup(bool keep_storage)
{
    if (!keep_storage)
        fake_store_init(&st);
    fake_link_init(&ln);
    fake_source_init(&src, true, false);
    fake_updater_init(&upd);
    fake_hooks_init(&hk);
    mk_vclock_init(&vc, &clk, 5000);
    memset(&cfg, 0, sizeof cfg);
    cfg.storage = &st.ops;
    cfg.clock = &clk;
    cfg.source = &src.ops;
    cfg.link = &ln.ops;
    cfg.updater = &upd.ops;
    cfg.hooks = &hk.ops;
    cfg.params = defs;
    cfg.n_params = sizeof defs / sizeof defs[0];
    cfg.client_id = "x";
    cfg.topics = (struct mk_agent_topics){T_TEL, T_PAR, T_REP, T_STA, T_JOB, T_RES};
    cfg.interval_ms = 1000;
    cfg.status_interval_ms = 60000;
}

static void init_ok(void)
{
    MK_CHECK_EQ_INT(mk_agent_init(&ag, &cfg), MK_OK);
}

/* Runs steps until the agent has nothing ready (bounded). */
static void drain(void)
{
    for (int i = 0; i < 10000 && mk_agent_step(&ag, 8); i++)
        ;
}

static void advance(uint64_t ms)
{
    mk_vclock_advance(&vc, ms);
    mk_agent_sample_poll(&ag);
}

/* A message arrives (not handled yet). */
static void queue_msg(const char *topic, const char *payload)
{
    mk_agent_on_message(&ag, topic, (const uint8_t *)payload, strlen(payload));
}

/* A message arrives and the agent handles it. */
static void msg(const char *topic, const char *payload)
{
    queue_msg(topic, payload);
    drain();
}

/* seq of every telemetry message, in order, into out (returns count). */
static size_t seqs(uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < ln.n && n < cap; i++) {
        if (strcmp(ln.msgs[i].topic, T_TEL) != 0)
            continue;
        const char *p = strstr(ln.msgs[i].payload, "\"seq\":");
        out[n++] = p ? strtoull(p + 6, NULL, 10) : 0;
    }
    return n;
}

/* The last reply on the parameter reply topic. */
static const char *last_reply(void)
{
    const struct fake_msg *m = NULL;
    fake_link_count(&ln, T_REP, &m);
    return m ? m->payload : "";
}

MK_TEST(schedule_and_publish_after_puback)
{
    setup(false);
    init_ok();
    mk_agent_sample_poll(&ag); /* first slot: at start */
    MK_CHECK_EQ_INT(ag.q.count, 1);
    advance(999);
    MK_CHECK_EQ_INT(ag.q.count, 1);
    advance(1);
    MK_CHECK_EQ_INT(ag.q.count, 2);
    /* busy for 3.5 intervals: one sample now, the skipped slots counted */
    advance(3500);
    MK_CHECK_EQ_INT(ag.q.count, 3);
    MK_CHECK_EQ_INT(ag.stats.missed, 2);
    MK_CHECK_EQ_INT(mk_agent_next_ms(&ag) <= 5000 + 5000, 1);

    /* link down: nothing leaves the queue */
    ln.up = false;
    drain();
    MK_CHECK_EQ_INT(ag.q.count, 3);
    MK_CHECK_EQ_INT(ln.n, 0);
    /* link up: status first (retained), then the samples in order */
    ln.up = true;
    drain();
    MK_CHECK_EQ_INT(ag.q.count, 0);
    MK_CHECK_EQ_STR(ln.msgs[0].topic, T_STA);
    MK_CHECK(ln.msgs[0].retain);
    MK_CHECK(strstr(ln.msgs[0].payload, "\"state\":\"online\"") != NULL);
    uint64_t s[16];
    MK_CHECK_EQ_INT(seqs(s, 16), 3);
    MK_CHECK(s[0] == 1 && s[1] == 2 && s[2] == 3);
    MK_CHECK_EQ_STR(ln.msgs[1].payload, "{\"seq\":1,\"ts\":1700000000000,\"data\":{\"n\":1}}");
    MK_CHECK_EQ_INT(ag.stats.published, 3);
}

MK_TEST(failed_publish_keeps_the_sample)
{
    setup(false);
    init_ok();
    mk_agent_sample_poll(&ag);
    drain(); /* status + sample 1 */
    advance(1000);
    ln.fail_publishes = 1; /* no PUBACK for sample 2 */
    drain();
    MK_CHECK_EQ_INT(ag.q.count, 1);
    MK_CHECK(strstr(ag.last_error, "publish to d/x/telemetry failed") != NULL);
    /* backoff: nothing is tried before retry_min */
    size_t before = ln.n;
    drain();
    MK_CHECK_EQ_INT(ln.n, before);
    mk_vclock_advance(&vc, 1000);
    drain();
    MK_CHECK_EQ_INT(ag.q.count, 0);
    uint64_t s[8];
    MK_CHECK_EQ_INT(seqs(s, 8), 2);
    MK_CHECK(s[1] == 2);
}

MK_TEST(restart_resumes_the_queue)
{
    setup(false);
    ln.up = false;
    init_ok();
    for (int i = 0; i < 5; i++)
        advance(1000);
    MK_CHECK_EQ_INT(ag.q.count, 5);
    /* kill -9: the agent struct is gone, storage stays */
    setup(true);
    init_ok();
    MK_CHECK_EQ_INT(ag.q.count, 5);
    mk_agent_sample_poll(&ag); /* sample 6 */
    drain();
    uint64_t s[16];
    MK_CHECK_EQ_INT(seqs(s, 16), 6);
    for (int i = 0; i < 6; i++)
        MK_CHECK_EQ_INT(s[i], (uint64_t)i + 1);
    /* a sample published but whose ack never got stored is sent again after a restart */
    advance(1000);
    st.fail_appends = 1; /* the 'A' record */
    ln.n = 0;
    drain();
    MK_CHECK_EQ_INT(seqs(s, 16), 1);
    setup(true);
    init_ok();
    drain();
    MK_CHECK_EQ_INT(seqs(s, 16), 1);
    MK_CHECK_EQ_INT(s[0], 7); /* the duplicate carries the same seq */
}

MK_TEST(sample_limit_and_skipped_slot)
{
    setup(false);
    cfg.sample_limit = 3;
    init_ok();
    src.skip_next = true; /* the source has nothing this time */
    mk_agent_sample_poll(&ag);
    MK_CHECK_EQ_INT(ag.q.count, 0);
    for (int i = 0; i < 10; i++)
        advance(1000);
    MK_CHECK_EQ_INT(ag.q.last_seq, 3);
    MK_CHECK_EQ_INT(mk_agent_sample_poll(&ag), UINT64_MAX);
}

MK_TEST(event_source)
{
    setup(false);
    fake_source_init(&src, false, true);
    src.events[0] = "1.5";
    src.events[1] = "{\"a\":1}";
    src.nevents = 2;
    init_ok();
    mk_agent_sample_poll(&ag);
    MK_CHECK_EQ_INT(ag.q.count, 2);
    drain();
    const struct fake_msg *m = NULL;
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_TEL, &m), 2);
    MK_CHECK(m && strstr(m->payload, "\"data\":{\"a\":1}") != NULL);
}

MK_TEST(params_accepted_applied_persisted)
{
    setup(false);
    init_ok();
    drain();
    msg(T_PAR, "{\"id\":\"r1\",\"motor_speed\":2500,\"mode\":\"eco\"}");
    MK_CHECK_EQ_INT(hk.applies, 1);
    MK_CHECK_EQ_HEX(hk.last_changed, 0x9);
    MK_CHECK(strstr(hk.last_values, "\"motor_speed\":2500") != NULL);
    MK_CHECK(strstr(hk.last_values, "\"mode\":\"eco\"") != NULL);
    MK_CHECK_EQ_STR(last_reply(), "{\"id\":\"r1\",\"status\":\"accepted\",\"changed\":"
                                  "[\"motor_speed\",\"mode\"],\"params\":{\"motor_speed\":2500,"
                                  "\"mode\":\"eco\"},\"ts\":1700000000000}");
    char v[32];
    MK_CHECK_EQ_INT(mk_agent_param_text(&ag, NULL, 3, v, sizeof v), MK_OK);
    MK_CHECK_EQ_STR(v, "eco");
    /* the change shows in the status */
    const struct fake_msg *m = NULL;
    fake_link_count(&ln, T_STA, &m);
    MK_CHECK(m && strstr(m->payload, "\"motor_speed\":2500") != NULL);

    /* the agent's own behaviour: a new sampling interval */
    mk_agent_sample_poll(&ag);
    uint64_t n0 = ag.q.last_seq;
    msg(T_PAR, "{\"sample_interval_ms\":250,\"id\":7}");
    MK_CHECK(strstr(last_reply(), "{\"id\":7,\"status\":\"accepted\"") == last_reply());
    MK_CHECK_EQ_INT(ag.interval_ms, 250);
    for (int i = 0; i < 4; i++)
        advance(250);
    MK_CHECK_EQ_INT(ag.q.last_seq - n0, 4);

    /* a restart keeps everything, and the hook sees the stored values at start */
    setup(true);
    cfg.apply_on_start = true;
    init_ok();
    MK_CHECK_EQ_INT(hk.applies, 1);
    MK_CHECK(strstr(hk.last_values, "\"motor_speed\":2500") != NULL);
    MK_CHECK(strstr(hk.last_values, "\"sample_interval_ms\":250") != NULL);
    MK_CHECK_EQ_INT(ag.interval_ms, 250);
}

/* Sends a bad message; checks it was rejected with reason and nothing changed. */
static void expect_rejected(const char *payload, const char *reason)
{
    unsigned applies = hk.applies, saves = st.saves;
    char before[2048];
    mk_agent_params_json(&ag, ag.pv, UINT32_MAX, before, sizeof before, NULL);
    msg(T_PAR, payload);
    const char *r = last_reply();
    if (!strstr(r, "\"status\":\"rejected\"") || !strstr(r, reason))
        printf("#   reply to %s: %s (wanted reason %s)\n", payload, r, reason);
    MK_CHECK(strstr(r, "\"status\":\"rejected\"") != NULL);
    MK_CHECK(strstr(r, reason) != NULL);
    MK_CHECK_EQ_INT(hk.applies, applies);
    MK_CHECK_EQ_INT(st.saves, saves);
    char after[2048];
    mk_agent_params_json(&ag, ag.pv, UINT32_MAX, after, sizeof after, NULL);
    MK_CHECK_EQ_STR(after, before);
}

MK_TEST(params_rejected_change_nothing)
{
    setup(false);
    init_ok();
    drain();
    expect_rejected("{\"motor_speed\":", "not valid JSON");
    expect_rejected("\xff\xfe", "not valid JSON");
    expect_rejected("[1,2]", "must be a JSON object");
    expect_rejected("{}", "no parameter in the message");
    expect_rejected("{\"id\":\"a\",\"speed\":1}", "unknown parameter \\\"speed\\\"");
    expect_rejected("{\"motor_speed\":\"fast\"}", "motor_speed: expected an integer, got a string");
    expect_rejected("{\"motor_speed\":12.5}", "not an integer");
    expect_rejected("{\"motor_speed\":5000}", "motor_speed: 5000 is above the maximum 3000");
    expect_rejected("{\"motor_speed\":-1}", "motor_speed: -1 is below the minimum 0");
    expect_rejected("{\"gain\":2.51}", "gain: 2.51 is above the maximum 2.5");
    expect_rejected("{\"enabled\":1}", "enabled: expected true or false, got a number");
    expect_rejected("{\"mode\":\"much-too-long\"}", "longer than 8 bytes");
    expect_rejected("{\"mode\":\"a\\nb\"}", "control characters");
    expect_rejected("{\"motor_speed\":1,\"motor_speed\":2}", "appears twice");
    /* atomic: the valid key is not applied either */
    expect_rejected("{\"id\":\"z\",\"motor_speed\":100,\"gain\":9}", "gain: 9 is above");
    MK_CHECK(strstr(last_reply(), "\"id\":\"z\"") != NULL);
    /* the hook refuses: nothing persisted, old values kept */
    hk.apply_err = MK_E_BUSY;
    unsigned saves = st.saves;
    msg(T_PAR, "{\"motor_speed\":100}");
    MK_CHECK(strstr(last_reply(), "the apply hook refused the values: motor controller busy"));
    MK_CHECK_EQ_INT(st.saves, saves);
    MK_CHECK_EQ_STR(ag.pv[0].text, "1200");
    hk.apply_err = MK_OK;
    /* too large */
    char big[3000];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    msg(T_PAR, big);
    MK_CHECK(strstr(last_reply(), "larger than 2048 bytes") != NULL);
    MK_CHECK_EQ_INT(ag.stats.params_rejected, 17);
    /* the agent still works */
    msg(T_PAR, "{\"motor_speed\":100}");
    MK_CHECK(strstr(last_reply(), "\"status\":\"accepted\"") != NULL);
}

MK_TEST(bad_param_definitions)
{
    static const struct mk_agent_param_def bad1[] = {{"id", MK_AGENT_PT_INT, 0, 0, 0, 0}};
    static const struct mk_agent_param_def bad2[] = {{"x", MK_AGENT_PT_BOOL, "0", 0, 0, 0}};
    static const struct mk_agent_param_def bad3[] = {{"x", MK_AGENT_PT_INT, "5", "1", 0, 0}};
    static const struct mk_agent_param_def bad4[] = {{"x", MK_AGENT_PT_INT, "0", "9", "10", 0}};
    static const struct mk_agent_param_def bad5[] = {
        {"sample_interval_ms", MK_AGENT_PT_NUMBER, "1", 0, 0, 0}};
    const struct mk_agent_param_def *all[] = {bad1, bad2, bad3, bad4, bad5};
    for (size_t i = 0; i < 5; i++) {
        setup(false);
        cfg.params = all[i];
        cfg.n_params = 1;
        MK_CHECK_EQ_INT(mk_agent_init(&ag, &cfg), MK_E_CONFIG);
        MK_CHECK(fake_hooks_logged(&hk, "configuration: "));
    }
    setup(false);
    cfg.topics.status = NULL;
    MK_CHECK_EQ_INT(mk_agent_init(&ag, &cfg), MK_E_CONFIG);
}

MK_TEST(stored_params_that_no_longer_fit)
{
    setup(false);
    init_ok();
    msg(T_PAR, "{\"motor_speed\":2900}");
    /* a new configuration narrows the range: the stored value is ignored, with a note */
    static const struct mk_agent_param_def narrow[] = {
        {"motor_speed", MK_AGENT_PT_INT, "0", "2000", "1000", 0}};
    setup(true);
    cfg.params = narrow;
    cfg.n_params = 1;
    init_ok();
    MK_CHECK_EQ_STR(ag.pv[0].text, "1000");
    MK_CHECK(fake_hooks_logged(&hk, "stored value ignored: motor_speed: 2900 is above"));
}

static const char *last_result(void)
{
    const struct fake_msg *m = NULL;
    fake_link_count(&ln, T_RES, &m);
    return m ? m->payload : "";
}

MK_TEST(job_runs_once_and_reports)
{
    setup(false);
    init_ok();
    drain();
    upd.phases[0] = "check";
    upd.phases[1] = "transfer";
    upd.percents[1] = 0;
    upd.phases[2] = "transfer";
    upd.percents[2] = 60;
    upd.phases[3] = "apply";
    upd.phases[4] = "verify"; /* after the reboot: not published */
    size_t before = ln.n;
    msg(T_JOB, "{\"job\":\"J-1\",\"package\":\"/pkg/a.tar\","
               "\"expect\":{\"target\":\"LE11B14SIM7600M22\",\"model\":\"SIMCOM_SIM7600SA\"}}");
    MK_CHECK_EQ_INT(upd.opens, 1);
    MK_CHECK_EQ_INT(upd.runs, 1);
    MK_CHECK(!upd.last_resume);
    MK_CHECK_EQ_INT(ln.module_changed, 1);
    /* start, check, transfer 0 and 50, apply (state 3), then the final result */
    size_t n = fake_link_count(&ln, T_RES, NULL);
    MK_CHECK_EQ_INT(n, 6);
    const char *want[] = {"\"phase\":\"start\"",
                          "\"phase\":\"check\"",
                          "\"progress\":0",
                          "\"progress\":50",
                          "\"state\":3,\"state_name\":\"updating\"",
                          "\"status\":\"SUCCEEDED\""};
    size_t k = 0;
    for (size_t i = before; i < ln.n; i++)
        if (!strcmp(ln.msgs[i].topic, T_RES) && k < 6)
            MK_CHECK(strstr(ln.msgs[i].payload, want[k++]) != NULL);
    MK_CHECK(strstr(last_result(), "\"result\":1,\"result_name\":\"success\"") != NULL);
    MK_CHECK(
        strstr(last_result(), "\"from\":\"LE11B01SIM7600M21-A\",\"to\":\"LE11B14SIM7600M22\""));
    MK_CHECK_EQ_INT(ag.job.phase, MK_AGENT_JOB_REPORTED);
    MK_CHECK_EQ_INT(upd.reported, 1);
    /* redelivered (QoS 1) or re-sent: not run again, the result is sent again */
    msg(T_JOB, "{\"job\":\"J-1\",\"package\":\"/pkg/a.tar\"}");
    MK_CHECK_EQ_INT(upd.runs, 1);
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_RES, NULL), 7);
    MK_CHECK(strstr(last_result(), "\"status\":\"SUCCEEDED\"") != NULL);
    /* after a restart too */
    setup(true);
    init_ok();
    drain();
    msg(T_JOB, "{\"job\":\"J-1\",\"package\":\"/pkg/a.tar\"}");
    MK_CHECK_EQ_INT(upd.runs, 0);
    MK_CHECK(strstr(last_result(), "\"status\":\"SUCCEEDED\"") != NULL);
    /* a second job is fine; the first id stays refused */
    msg(T_JOB, "{\"job\":\"J-2\",\"url\":\"https://example.invalid/p\"}");
    MK_CHECK_EQ_INT(upd.runs, 1);
    msg(T_JOB, "{\"job\":\"J-1\",\"package\":\"/pkg/a.tar\"}");
    MK_CHECK_EQ_INT(upd.runs, 1);
    MK_CHECK(strstr(last_result(), "already run") != NULL);
}

MK_TEST(job_result_survives_link_loss_and_restart)
{
    setup(false);
    init_ok();
    drain();
    queue_msg(T_JOB, "{\"job\":\"J-9\",\"package\":\"/p\"}");
    ln.up = false; /* the module reboots: the link is down when the job ends */
    drain();
    MK_CHECK_EQ_INT(upd.runs, 1);
    MK_CHECK_EQ_INT(ag.job.phase, MK_AGENT_JOB_DONE);
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_RES, NULL), 0);
    /* the agent dies before the link is back */
    setup(true);
    init_ok();
    MK_CHECK(fake_hooks_logged(&hk, "the result of update job J-9 is still to be reported"));
    drain();
    MK_CHECK_EQ_INT(upd.runs, 0);
    MK_CHECK(strstr(last_result(), "\"job\":\"J-9\",\"status\":\"SUCCEEDED\"") != NULL);
    /* the result came before anything else of the new session, status included */
    MK_CHECK_EQ_STR(ln.msgs[0].topic, T_RES);
    MK_CHECK_EQ_INT(ag.job.phase, MK_AGENT_JOB_REPORTED);
}

MK_TEST(job_interrupted_resumes_never_restarts)
{
    setup(false);
    init_ok();
    drain();
    upd.out.final = false; /* the link to the module was lost in the middle */
    snprintf(upd.out.detail, sizeof upd.out.detail, "the link to the module was lost");
    msg(T_JOB, "{\"job\":\"J-3\",\"package\":\"/p\"}");
    MK_CHECK_EQ_INT(upd.runs, 1);
    MK_CHECK_EQ_INT(ag.job.phase, MK_AGENT_JOB_RUNNING);
    /* restart: the job resumes (resume = true), never opened afresh */
    setup(true);
    init_ok();
    drain();
    MK_CHECK_EQ_INT(upd.opens, 0);
    MK_CHECK_EQ_INT(upd.runs, 1);
    MK_CHECK(upd.last_resume);
    MK_CHECK(strstr(last_result(), "\"status\":\"SUCCEEDED\"") != NULL);
    MK_CHECK(strstr(last_result(), "\"attempts\":2") != NULL);
}

MK_TEST(job_gives_up_after_max_attempts)
{
    setup(false);
    cfg.job_retry_ms = 100;
    init_ok();
    drain();
    upd.out.final = false;
    msg(T_JOB, "{\"job\":\"J-4\",\"package\":\"/p\"}");
    for (int i = 0; i < 5; i++) {
        mk_vclock_advance(&vc, 100);
        drain();
    }
    MK_CHECK_EQ_INT(upd.runs, 3);
    MK_CHECK(strstr(last_result(), "\"status\":\"FAILED\"") != NULL);
    MK_CHECK(strstr(last_result(), "interrupted 3 times") != NULL);
    MK_CHECK(strstr(last_result(), "\"result\":8") != NULL);
}

MK_TEST(job_refusals)
{
    setup(false);
    init_ok();
    drain();
    msg(T_JOB, "not json");
    MK_CHECK(strstr(last_result(), "\"job\":null,\"status\":\"REJECTED\"") != NULL);
    msg(T_JOB, "{\"package\":\"/p\"}");
    MK_CHECK(strstr(last_result(), "needs \\\"job\\\"") != NULL);
    msg(T_JOB, "{\"job\":\"J-5\"}");
    MK_CHECK(strstr(last_result(), "exactly one of") != NULL);
    msg(T_JOB, "{\"job\":\"J-5\",\"package\":\"/p\",\"expect\":{\"target\":\"LE11B99\"}}");
    MK_CHECK_EQ_INT(upd.runs, 0);
    MK_CHECK(strstr(last_result(), "\"status\":\"REJECTED\",\"state\":0,\"state_name\":\"idle\","
                                   "\"result\":6") != NULL);
    MK_CHECK(strstr(last_result(), "expects target revision LE11B99; the package has "
                                   "LE11B14SIM7600M22") != NULL);
    upd.open_err = MK_E_NOENT;
    msg(T_JOB, "{\"job\":\"J-6\",\"package\":\"/missing\"}");
    MK_CHECK(strstr(last_result(), "\"result\":7") != NULL);
    MK_CHECK(strstr(last_result(), "no such package") != NULL);
    upd.open_err = MK_OK;
    /* busy: a job waiting for its turn refuses another */
    ln.up = false;
    queue_msg(T_JOB, "{\"job\":\"J-7\",\"package\":\"/p\"}");
    upd.out.final = false;
    mk_agent_step(&ag, 1); /* J-7 accepted */
    mk_agent_step(&ag, 1); /* J-7 runs, interrupted */
    ln.up = true;
    msg(T_JOB, "{\"job\":\"J-8\",\"package\":\"/p\"}");
    MK_CHECK(strstr(last_result(), "another update job (J-7) is not finished") != NULL);
    /* without an updater */
    setup(false);
    cfg.updater = NULL;
    init_ok();
    msg(T_JOB, "{\"job\":\"J-1\",\"package\":\"/p\"}");
    MK_CHECK(strstr(last_result(), "configured without update jobs") != NULL);
}

MK_TEST(status_and_shutdown)
{
    setup(false);
    init_ok();
    drain();
    const struct fake_msg *m = NULL;
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_STA, &m), 1);
    MK_CHECK(strstr(m->payload, "\"fw\":\"LE11B01SIM7600M21-A\",\"csq\":21,\"queue\":0") != NULL);
    MK_CHECK(strstr(m->payload, "\"last_error\":null") != NULL);
    /* periodic */
    mk_vclock_advance(&vc, 60000);
    drain();
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_STA, NULL), 2);
    /* after the link came back */
    ln.up = false;
    drain();
    ln.up = true;
    drain();
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_STA, NULL), 3);
    mk_agent_shutdown(&ag, "SIGTERM");
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_STA, &m), 4);
    MK_CHECK(m->retain && strstr(m->payload, "\"state\":\"offline\"") != NULL);
    MK_CHECK(!mk_agent_step(&ag, 1));
    MK_CHECK_EQ_INT(mk_agent_sample_poll(&ag), UINT64_MAX);
}

static void sample_inside(void *user)
{
    (void)user;
    mk_agent_sample_poll(&ag);
    mk_agent_on_message(&ag, T_PAR, (const uint8_t *)"{\"motor_speed\":7}", 17);
}

MK_TEST(reentrant_sampling_and_messages)
{
    setup(false);
    init_ok();
    ln.during = sample_inside; /* what the io wait op and on_message do on a host */
    for (int i = 0; i < 20; i++) {
        mk_vclock_advance(&vc, 1000);
        mk_agent_step(&ag, 1);
    }
    ln.during = NULL;
    drain();
    uint64_t s[64];
    size_t n = seqs(s, 64);
    MK_CHECK_EQ_INT(n, ag.q.last_seq);
    for (size_t i = 0; i < n; i++)
        MK_CHECK_EQ_INT(s[i], i + 1);
    MK_CHECK_EQ_STR(ag.pv[0].text, "7");
}

MK_TEST(inbox_bound)
{
    setup(false);
    init_ok();
    char m[1500];
    memset(m, ' ', sizeof m);
    m[0] = '{';
    m[sizeof m - 1] = '}';
    for (int i = 0; i < 4; i++)
        mk_agent_on_message(&ag, T_PAR, (const uint8_t *)m, sizeof m);
    MK_CHECK_EQ_INT(ag.stats.inbox_dropped, 2);
    mk_agent_on_message(&ag, "other/topic", (const uint8_t *)m, sizeof m);
    MK_CHECK_EQ_INT(ag.stats.inbox_dropped, 2);
    drain();
    MK_CHECK_EQ_INT(fake_link_count(&ln, T_REP, NULL), 2);
}

MK_TEST_MAIN()
