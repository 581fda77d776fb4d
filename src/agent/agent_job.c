/*
 * Update jobs: the job message, the persisted job record, running the updater, progress
 * and the final result.
 *
 * The rules come from seed 002 and the OMA-DM/LwM2M practice (ota-and-fleet.md §4):
 *   - the fleet service must hear the outcome of every update, and the module reboots in
 *     the middle of it, so the outcome is written to the "job" record before it is
 *     published and kept until the broker acknowledged it (phase DONE → REPORTED);
 *   - a job never runs twice: the record says ACCEPTED (the updater never started) or
 *     RUNNING (it may have done anything; the next run resumes, and an updater whose
 *     journal is already final only reports); the ids of finished jobs are remembered,
 *     so a redelivered job message re-sends the result instead of updating again;
 *   - an agent that keeps dying inside a job gives up after job_max_attempts runs.
 */
#include <string.h>

#include "agent_int.h"

#define J_DEF_RETRY_MS     30000u
#define J_DEF_MAX_ATTEMPTS 3u

const char *mk_agent_job_phase_name(enum mk_agent_job_phase p)
{
    switch (p) {
    case MK_AGENT_JOB_NONE:
        return "none";
    case MK_AGENT_JOB_ACCEPTED:
        return "accepted";
    case MK_AGENT_JOB_RUNNING:
        return "running";
    case MK_AGENT_JOB_DONE:
        return "done";
    case MK_AGENT_JOB_REPORTED:
        return "reported";
    }
    return "none";
}

/* LwM2M Firmware Update object /5, resources 3 and 5 (OMA 5.xml v1.1). */
const char *mk_agent_lwm2m_state_name(int state)
{
    static const char *const names[] = {"idle", "downloading", "downloaded", "updating"};
    return state >= 0 && state <= 3 ? names[state] : "?";
}

const char *mk_agent_lwm2m_result_name(int result)
{
    static const char *const names[] = {"initial",
                                        "success",
                                        "not enough flash",
                                        "out of RAM",
                                        "connection lost",
                                        "integrity check failure",
                                        "unsupported package",
                                        "invalid URI",
                                        "update failed",
                                        "unsupported protocol",
                                        "cancelled",
                                        "deferred"};
    return result >= 0 && result <= 11 ? names[result] : "?";
}

/* ---- the record ---- */

static void j_put_str(struct mk_sb *sb, const char *key, const char *v)
{
    mk_agent_put_key(sb, key, false);
    mk_agent_put_jstr(sb, v);
}

static void j_put_int(struct mk_sb *sb, const char *key, int64_t v)
{
    mk_agent_put_key(sb, key, false);
    mk_sb_puti(sb, v);
}

enum mk_err mk_agent_job_save(struct mk_agent *a)
{
    const struct mk_agent_job *j = &a->job;
    struct mk_sb sb;
    mk_sb_init(&sb, a->rec, sizeof a->rec);
    mk_sb_putc(&sb, '{');
    mk_agent_put_key(&sb, "job", true);
    mk_agent_put_jstr(&sb, j->id);
    j_put_str(&sb, "phase", mk_agent_job_phase_name(j->phase));
    j_put_str(&sb, "package", j->package);
    j_put_str(&sb, "url", j->url);
    j_put_str(&sb, "want_model", j->want_model);
    j_put_str(&sb, "want_source", j->want_source);
    j_put_str(&sb, "want_target", j->want_target);
    j_put_str(&sb, "want_package", j->want_package);
    j_put_int(&sb, "attempts", j->attempts);
    j_put_int(&sb, "state", j->state);
    j_put_int(&sb, "result", j->result);
    j_put_str(&sb, "status", j->status);
    j_put_str(&sb, "pkg_id", j->pkg_id);
    j_put_str(&sb, "source", j->source);
    j_put_str(&sb, "target", j->target);
    j_put_str(&sb, "detail", j->detail);
    j_put_int(&sb, "ts", (int64_t)j->ts_ms);
    mk_agent_put_key(&sb, "history", false);
    mk_sb_putc(&sb, '[');
    for (size_t i = 0; i < MK_AGENT_JOB_HISTORY && a->history[i][0]; i++) {
        if (i)
            mk_sb_putc(&sb, ',');
        mk_agent_put_jstr(&sb, a->history[i]);
    }
    mk_sb_puts(&sb, "]}");
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    const struct mk_agent_storage *st = a->cfg.storage;
    enum mk_err e = st->save(st->ctx, "job", a->rec, sb.len);
    if (e != MK_OK)
        mk_agent_note_error(a, MK_AGENT_LOG_ERR, "cannot save the job record");
    return e;
}

static void j_get(const struct mk_json *doc, const char *key, char *out, size_t cap)
{
    int v = mk_json_get(doc, 0, key);
    out[0] = '\0';
    if (v >= 0 && doc->toks[v].type == MK_JSON_STRING && mk_json_str(doc, v, out, cap) != MK_OK)
        out[0] = '\0';
}

static int64_t j_get_int(const struct mk_json *doc, const char *key)
{
    int64_t x = 0;
    int v = mk_json_get(doc, 0, key);
    if (v < 0 || mk_json_int(doc, v, &x) != MK_OK)
        return 0;
    return x;
}

void mk_agent_job_load(struct mk_agent *a)
{
    const struct mk_agent_storage *st = a->cfg.storage;
    struct mk_agent_job *j = &a->job;
    memset(j, 0, sizeof *j);
    memset(a->history, 0, sizeof a->history);
    size_t len = 0;
    if (!st->load)
        return;
    enum mk_err e = st->load(st->ctx, "job", a->rec, sizeof a->rec, &len);
    if (e == MK_E_NOENT)
        return;
    struct mk_json doc;
    if (e != MK_OK || mk_json_parse(&doc, a->rec, len, a->toks, MK_AGENT_JSON_TOKS) != MK_OK ||
        a->toks[0].type != MK_JSON_OBJECT) {
        mk_agent_note_error(a, MK_AGENT_LOG_ERR, "the job record cannot be read; it is ignored");
        return;
    }
    j_get(&doc, "job", j->id, sizeof j->id);
    char phase[16];
    j_get(&doc, "phase", phase, sizeof phase);
    for (int p = MK_AGENT_JOB_NONE; p <= MK_AGENT_JOB_REPORTED; p++)
        if (strcmp(phase, mk_agent_job_phase_name((enum mk_agent_job_phase)p)) == 0)
            j->phase = (enum mk_agent_job_phase)p;
    j_get(&doc, "package", j->package, sizeof j->package);
    j_get(&doc, "url", j->url, sizeof j->url);
    j_get(&doc, "want_model", j->want_model, sizeof j->want_model);
    j_get(&doc, "want_source", j->want_source, sizeof j->want_source);
    j_get(&doc, "want_target", j->want_target, sizeof j->want_target);
    j_get(&doc, "want_package", j->want_package, sizeof j->want_package);
    j->attempts = (uint32_t)j_get_int(&doc, "attempts");
    j->state = (int)j_get_int(&doc, "state");
    j->result = (int)j_get_int(&doc, "result");
    j_get(&doc, "status", j->status, sizeof j->status);
    j_get(&doc, "pkg_id", j->pkg_id, sizeof j->pkg_id);
    j_get(&doc, "source", j->source, sizeof j->source);
    j_get(&doc, "target", j->target, sizeof j->target);
    j_get(&doc, "detail", j->detail, sizeof j->detail);
    j->ts_ms = (uint64_t)j_get_int(&doc, "ts");
    int h = mk_json_get(&doc, 0, "history");
    for (size_t i = 0; h >= 0 && i < MK_AGENT_JOB_HISTORY; i++) {
        int v = mk_json_at(&doc, h, i);
        if (v < 0 || mk_json_str(&doc, v, a->history[i], MK_AGENT_ID_CAP) != MK_OK)
            break;
    }
    if (!j->id[0])
        j->phase = MK_AGENT_JOB_NONE;
    if (j->phase == MK_AGENT_JOB_ACCEPTED || j->phase == MK_AGENT_JOB_RUNNING)
        mk_agent_log(a, MK_AGENT_LOG_INFO, "update job ", j->id,
                     j->phase == MK_AGENT_JOB_RUNNING ? " was interrupted; it resumes"
                                                      : " is waiting to start");
    else if (j->phase == MK_AGENT_JOB_DONE)
        mk_agent_log(a, MK_AGENT_LOG_INFO, "the result of update job ", j->id,
                     " is still to be reported");
}

static bool j_in_history(const struct mk_agent *a, const char *id)
{
    for (size_t i = 0; i < MK_AGENT_JOB_HISTORY; i++)
        if (a->history[i][0] && strcmp(a->history[i], id) == 0)
            return true;
    return false;
}

static void j_remember(struct mk_agent *a, const char *id)
{
    if (j_in_history(a, id))
        return;
    memmove(a->history[1], a->history[0], (MK_AGENT_JOB_HISTORY - 1) * MK_AGENT_ID_CAP);
    mk_strlcpy(a->history[0], id, MK_AGENT_ID_CAP);
}

/* ---- messages ---- */

enum mk_err mk_agent_job_json(struct mk_agent *a, const struct mk_agent_job *j, const char *phase,
                              int progress, char *buf, size_t cap, size_t *len)
{
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    mk_sb_putc(&sb, '{');
    mk_agent_put_key(&sb, "job", true);
    if (j->id[0])
        mk_agent_put_jstr(&sb, j->id);
    else
        mk_sb_puts(&sb, "null");
    j_put_str(&sb, "status", j->status);
    j_put_int(&sb, "state", j->state);
    j_put_str(&sb, "state_name", mk_agent_lwm2m_state_name(j->state));
    bool final = j->phase == MK_AGENT_JOB_DONE || j->phase == MK_AGENT_JOB_REPORTED ||
                 strcmp(j->status, "REJECTED") == 0;
    if (final) {
        j_put_int(&sb, "result", j->result);
        j_put_str(&sb, "result_name", mk_agent_lwm2m_result_name(j->result));
    }
    if (phase)
        j_put_str(&sb, "phase", phase);
    if (progress >= 0)
        j_put_int(&sb, "progress", progress);
    if (j->source[0])
        j_put_str(&sb, "from", j->source);
    if (j->target[0])
        j_put_str(&sb, "to", j->target);
    if (final && a->cfg.link->info) {
        struct mk_agent_link_info info;
        memset(&info, 0, sizeof info);
        info.csq = -1;
        a->cfg.link->info(a->cfg.link->ctx, &info);
        if (info.fw[0])
            j_put_str(&sb, "fw", info.fw);
    }
    if (j->attempts)
        j_put_int(&sb, "attempts", j->attempts);
    if (j->detail[0])
        j_put_str(&sb, "detail", j->detail);
    uint64_t ts = final && j->ts_ms ? j->ts_ms : mk_agent_wall(a);
    if (ts)
        j_put_int(&sb, "ts", (int64_t)ts);
    mk_sb_putc(&sb, '}');
    *len = sb.len;
    return mk_sb_err(&sb);
}

/* Publishes an IN_PROGRESS message now if the link allows (best effort). */
static void j_progress(struct mk_agent *a, const char *phase, int progress)
{
    if (a->held || !a->cfg.topics.job_results || !mk_agent_link_up(a))
        return;
    size_t len;
    if (mk_agent_job_json(a, &a->job, phase, progress, a->out, sizeof a->out, &len) == MK_OK)
        mk_agent_publish(a, a->cfg.topics.job_results, a->out, len, false);
}

/* A job message refused without touching the record: answered through the outbox. */
static void j_reject(struct mk_agent *a, const char *id, int result, const char *why)
{
    struct mk_agent_job r;
    memset(&r, 0, sizeof r);
    mk_strlcpy(r.id, id, sizeof r.id);
    mk_strlcpy(r.status, "REJECTED", sizeof r.status);
    r.result = result;
    mk_strlcpy(r.detail, why, sizeof r.detail);
    size_t len;
    if (mk_agent_job_json(a, &r, NULL, -1, a->out, sizeof a->out, &len) == MK_OK)
        mk_agent_outbox_put(a, 'J', a->out, len);
    mk_agent_log(a, MK_AGENT_LOG_WARN, "update job refused: ", why, NULL);
}

/* Copies the string member key of object obj into out; false (why set) when it is
 * there but not a string that fits. */
static bool j_member(struct mk_agent *a, const struct mk_json *doc, int obj, const char *key,
                     char *out, size_t cap, char *why, size_t why_cap)
{
    int v = mk_json_get(doc, obj, key);
    out[0] = '\0';
    if (v < 0)
        return true;
    if (a->toks[v].type == MK_JSON_STRING && mk_json_str(doc, v, out, cap) == MK_OK)
        return true;
    struct mk_sb sb;
    mk_sb_init(&sb, why, why_cap);
    mk_sb_puts(&sb, "\"");
    mk_sb_puts(&sb, key);
    mk_sb_puts(&sb, "\" must be a string of at most ");
    mk_sb_putu(&sb, cap - 1);
    mk_sb_puts(&sb, " bytes");
    return false;
}

void mk_agent_job_message(struct mk_agent *a, size_t len, bool too_large)
{
    char why[MK_AGENT_TEXT_CAP];
    char id[MK_AGENT_ID_CAP];
    struct mk_json doc;
    id[0] = '\0';
    if (too_large) {
        j_reject(a, "", 0, "the job message is too large");
        return;
    }
    if (mk_json_parse(&doc, a->msg, len, a->toks, MK_AGENT_JSON_TOKS) != MK_OK ||
        a->toks[0].type != MK_JSON_OBJECT) {
        j_reject(a, "", 0, "the job message is not a valid JSON object");
        return;
    }
    if (!j_member(a, &doc, 0, "job", id, sizeof id, why, sizeof why) || !id[0]) {
        j_reject(a, "", 0, "the job message needs \"job\": an id of 1..64 bytes");
        return;
    }
    struct mk_agent_job *j = &a->job;
    if ((j->phase != MK_AGENT_JOB_NONE && strcmp(j->id, id) == 0) || j_in_history(a, id)) {
        if (strcmp(j->id, id) == 0 && j->phase == MK_AGENT_JOB_REPORTED) {
            j->phase = MK_AGENT_JOB_DONE; /* publish the result again */
            mk_agent_log(a, MK_AGENT_LOG_INFO, "update job ", id,
                         " was already run; its result is sent again");
        } else if (strcmp(j->id, id) == 0 && j->phase != MK_AGENT_JOB_DONE) {
            mk_agent_log(a, MK_AGENT_LOG_INFO, "update job ", id, " is already in progress");
        } else if (strcmp(j->id, id) != 0) {
            j_reject(a, id, 0, "this job id was already run; it is not run twice");
        }
        return;
    }
    if (!a->cfg.updater) {
        j_reject(a, id, 0, "this agent is configured without update jobs");
        return;
    }
    if (j->phase == MK_AGENT_JOB_ACCEPTED || j->phase == MK_AGENT_JOB_RUNNING ||
        j->phase == MK_AGENT_JOB_DONE) {
        struct mk_sb sb;
        mk_sb_init(&sb, why, sizeof why);
        mk_sb_puts(&sb, "another update job (");
        mk_sb_puts(&sb, j->id);
        mk_sb_puts(&sb, ") is not finished");
        j_reject(a, id, 0, why);
        return;
    }
    struct mk_agent_job n;
    memset(&n, 0, sizeof n);
    mk_strlcpy(n.id, id, sizeof n.id);
    int ex = mk_json_get(&doc, 0, "expect");
    bool ok = j_member(a, &doc, 0, "package", n.package, sizeof n.package, why, sizeof why) &&
              j_member(a, &doc, 0, "url", n.url, sizeof n.url, why, sizeof why);
    if (ok && ex >= 0 && a->toks[ex].type != MK_JSON_OBJECT) {
        mk_strlcpy(why, "\"expect\" must be an object", sizeof why);
        ok = false;
    }
    if (ok && ex >= 0)
        ok =
            j_member(a, &doc, ex, "model", n.want_model, sizeof n.want_model, why, sizeof why) &&
            j_member(a, &doc, ex, "source", n.want_source, sizeof n.want_source, why, sizeof why) &&
            j_member(a, &doc, ex, "target", n.want_target, sizeof n.want_target, why, sizeof why) &&
            j_member(a, &doc, ex, "package", n.want_package, sizeof n.want_package, why,
                     sizeof why);
    if (ok && (n.package[0] != '\0') == (n.url[0] != '\0')) {
        mk_strlcpy(why, "give exactly one of \"package\" (a path) and \"url\"", sizeof why);
        ok = false;
    }
    if (!ok) {
        j_reject(a, id, 7, why);
        return;
    }
    n.phase = MK_AGENT_JOB_ACCEPTED;
    mk_strlcpy(n.status, "IN_PROGRESS", sizeof n.status);
    *j = n;
    mk_agent_log(a, MK_AGENT_LOG_INFO, "update job ", id, " accepted");
    if (mk_agent_job_save(a) != MK_OK) {
        memset(j, 0, sizeof *j);
        j_reject(a, id, 0, "the agent cannot record the job (storage failure)");
        return;
    }
    a->job_retry_at_ms = 0;
}

/* ---- running ---- */

static bool j_model_eq(const char *a, const char *b)
{
    static const char prefix[] = "SIMCOM_";
    for (int k = 0; k < 2; k++) {
        const char **p = k ? &b : &a;
        size_t i = 0;
        while (i < 7 && (*p)[i] && ((*p)[i] | 0x20) == (prefix[i] | 0x20))
            i++;
        if (i == 7)
            *p += 7;
    }
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return false;
    }
    return *a == *b;
}

/* The job's expectations against the package; false with why on a mismatch. */
static bool j_expect(const struct mk_agent_job *j, const struct mk_agent_pkg_info *info, char *why,
                     size_t cap)
{
    struct {
        const char *what, *want, *have;
        bool model;
    } checks[] = {
        {"model", j->want_model, info->model, true},
        {"source revision", j->want_source, info->source, false},
        {"target revision", j->want_target, info->target, false},
        {"package identity", j->want_package, info->id, true},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (!checks[i].want[0])
            continue;
        if (checks[i].model ? j_model_eq(checks[i].want, checks[i].have)
                            : strcmp(checks[i].want, checks[i].have) == 0)
            continue;
        struct mk_sb sb;
        mk_sb_init(&sb, why, cap);
        mk_sb_puts(&sb, "the job expects ");
        mk_sb_puts(&sb, checks[i].what);
        mk_sb_puts(&sb, " ");
        mk_sb_puts(&sb, checks[i].want);
        mk_sb_puts(&sb, "; the package has ");
        mk_sb_puts(&sb, checks[i].have);
        return false;
    }
    return true;
}

/* LwM2M result for a package the updater could not open (/5 resource 5). */
static int j_open_result(enum mk_err e)
{
    switch (e) {
    case MK_E_NOENT:
        return 7; /* invalid URI */
    case MK_E_UNSUPPORTED:
        return 9; /* unsupported protocol */
    case MK_E_CRC:
    case MK_E_FOTA_INTEGRITY:
        return 5;
    case MK_E_FORMAT:
    case MK_E_MANIFEST:
    case MK_E_FOTA_SIGNATURE:
        return 6;
    default:
        return 8;
    }
}

static void j_finish(struct mk_agent *a, int result, const char *status, const char *detail)
{
    struct mk_agent_job *j = &a->job;
    j->phase = MK_AGENT_JOB_DONE;
    j->state = 0;
    j->result = result;
    mk_strlcpy(j->status, status, sizeof j->status);
    mk_strlcpy(j->detail, detail, sizeof j->detail);
    j->ts_ms = mk_agent_wall(a);
    j_remember(a, j->id);
    char what[MK_AGENT_ID_CAP + 16];
    struct mk_sb sb;
    mk_sb_init(&sb, what, sizeof what);
    mk_sb_puts(&sb, "update job ");
    mk_sb_puts(&sb, j->id);
    mk_sb_puts(&sb, result == 1                       ? " succeeded"
                    : strcmp(status, "REJECTED") == 0 ? " refused: "
                                                      : " failed: ");
    mk_agent_log(a, result == 1 ? MK_AGENT_LOG_INFO : MK_AGENT_LOG_WARN, what,
                 result == 1 ? NULL : detail, NULL);
    mk_agent_job_save(a);
    mk_agent_status_now(a);
}

bool mk_agent_job_poll(struct mk_agent *a, uint64_t now)
{
    struct mk_agent_job *j = &a->job;
    if (j->phase != MK_AGENT_JOB_ACCEPTED && j->phase != MK_AGENT_JOB_RUNNING)
        return false;
    if (now < a->job_retry_at_ms || !a->cfg.updater)
        return false;
    const struct mk_agent_updater *u = a->cfg.updater;
    uint32_t max = a->cfg.job_max_attempts ? a->cfg.job_max_attempts : J_DEF_MAX_ATTEMPTS;
    char why[MK_AGENT_TEXT_CAP];
    if (j->attempts >= max) {
        struct mk_sb sb;
        mk_sb_init(&sb, why, sizeof why);
        mk_sb_puts(&sb, "the update was interrupted ");
        mk_sb_putu(&sb, j->attempts);
        mk_sb_puts(&sb, " times; giving up");
        if (j->detail[0]) {
            mk_sb_puts(&sb, " (last: ");
            mk_sb_puts(&sb, j->detail);
            mk_sb_puts(&sb, ")");
        }
        j_finish(a, 8, "FAILED", why);
        return true;
    }
    bool resume = j->phase == MK_AGENT_JOB_RUNNING;
    if (!resume) {
        struct mk_agent_pkg_info info;
        memset(&info, 0, sizeof info);
        why[0] = '\0';
        enum mk_err e = u->open(u->ctx, j, &info, why, sizeof why);
        if (e != MK_OK) {
            if (!why[0])
                mk_strlcpy(why, mk_strerror(e), sizeof why);
            j_finish(a, j_open_result(e), "REJECTED", why);
            return true;
        }
        if (!j_expect(j, &info, why, sizeof why)) {
            mk_strlcpy(j->source, info.source, sizeof j->source);
            mk_strlcpy(j->target, info.target, sizeof j->target);
            j_finish(a, 6, "REJECTED", why);
            return true;
        }
        mk_strlcpy(j->pkg_id, info.id, sizeof j->pkg_id);
        mk_strlcpy(j->source, info.source, sizeof j->source);
        mk_strlcpy(j->target, info.target, sizeof j->target);
    }
    /* recorded before the updater may touch anything: a restart resumes, never restarts */
    j->phase = MK_AGENT_JOB_RUNNING;
    j->attempts++;
    j->state = 1;
    mk_strlcpy(j->status, "IN_PROGRESS", sizeof j->status);
    if (mk_agent_job_save(a) != MK_OK) {
        j->attempts--;
        a->job_retry_at_ms = now + (a->cfg.job_retry_ms ? a->cfg.job_retry_ms : J_DEF_RETRY_MS);
        return true;
    }
    mk_agent_log(a, MK_AGENT_LOG_INFO, resume ? "resuming update job " : "running update job ",
                 j->id, NULL);
    a->held = false;
    a->job_progress_sent = -1;
    j_progress(a, resume ? "resume" : "start", -1);
    struct mk_agent_job_out out;
    memset(&out, 0, sizeof out);
    u->run(u->ctx, a, j, resume, &out);
    a->held = false;
    if (a->cfg.link->module_changed)
        a->cfg.link->module_changed(a->cfg.link->ctx);
    if (out.final) {
        j_finish(a, out.result, out.result == 1 ? "SUCCEEDED" : "FAILED", out.detail);
    } else {
        j->state = out.state;
        mk_strlcpy(j->detail, out.detail, sizeof j->detail);
        mk_agent_job_save(a);
        a->job_retry_at_ms =
            mk_agent_now(a) + (a->cfg.job_retry_ms ? a->cfg.job_retry_ms : J_DEF_RETRY_MS);
        mk_agent_note_error(a, MK_AGENT_LOG_WARN,
                            out.detail[0] ? out.detail : "update job interrupted");
    }
    return true;
}

void mk_agent_job_progress(struct mk_agent *a, const char *phase, int percent)
{
    struct mk_agent_job *j = &a->job;
    if (j->phase != MK_AGENT_JOB_RUNNING || a->held || !phase)
        return;
    if (strcmp(phase, "apply") == 0) {
        /* the last message before the module goes away: state 3 Updating */
        j->state = 3;
        j_progress(a, phase, -1);
        a->held = true;
        return;
    }
    if (strcmp(phase, "transfer") == 0) {
        /* every 25 % (a delta of megabytes on a slow link: a handful of messages) */
        int step = percent < 0 ? -1 : percent / 25 * 25;
        if (step == a->job_progress_sent)
            return;
        a->job_progress_sent = step;
        j_progress(a, phase, step);
        return;
    }
    j_progress(a, phase, -1);
}

bool mk_agent_job_report(struct mk_agent *a)
{
    struct mk_agent_job *j = &a->job;
    size_t len;
    if (!a->cfg.topics.job_results ||
        mk_agent_job_json(a, j, NULL, -1, a->out, sizeof a->out, &len) != MK_OK) {
        j->phase = MK_AGENT_JOB_REPORTED; /* nowhere to send it */
        mk_agent_job_save(a);
        return true;
    }
    if (mk_agent_publish(a, a->cfg.topics.job_results, a->out, len, false) != MK_OK)
        return false;
    /* the updater's record first: a crash in between sends the result once more */
    const struct mk_agent_updater *u = a->cfg.updater;
    if (u && u->reported)
        u->reported(u->ctx, j);
    j->phase = MK_AGENT_JOB_REPORTED;
    mk_agent_log(a, MK_AGENT_LOG_INFO, "the result of update job ", j->id, " reached the broker");
    mk_agent_job_save(a);
    return true;
}
