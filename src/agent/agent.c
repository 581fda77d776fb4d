/*
 * The agent: sampling schedule, inbox and outbox, the publish loop, parameters and
 * status (include/modemkit/agent.h).
 *
 * Order of work in mk_agent_step(), most important first: an update result that is not
 * yet at the broker (seed 002: the fleet service must hear it), received messages,
 * a due update job, the status, parameter replies, then samples. Samples leave the
 * queue one at a time and only after the link reported their PUBACK, so the queue order
 * is the publish order and a restart resends at most the one in flight.
 */
#include <string.h>

#include "agent_int.h"

#define A_DEF_STATUS_MS    300000u
#define A_DEF_RETRY_MIN_MS 1000u
#define A_DEF_RETRY_MAX_MS 30000u
#define A_POLL_BURST       32 /* event-source samples taken per poll */

/* ---- JSON writing ---- */

void mk_agent_put_jstrn(struct mk_sb *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    mk_sb_putc(sb, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            mk_sb_putc(sb, '\\');
            mk_sb_putc(sb, (char)c);
        } else if (c == '\n') {
            mk_sb_puts(sb, "\\n");
        } else if (c == '\r') {
            mk_sb_puts(sb, "\\r");
        } else if (c == '\t') {
            mk_sb_puts(sb, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            mk_sb_puts(sb, "\\u00");
            mk_sb_putc(sb, hex[c >> 4]);
            mk_sb_putc(sb, hex[c & 15]);
        } else {
            mk_sb_putc(sb, (char)c);
        }
    }
    mk_sb_putc(sb, '"');
}

void mk_agent_put_jstr(struct mk_sb *sb, const char *s)
{
    mk_agent_put_jstrn(sb, s, strlen(s));
}

void mk_agent_put_key(struct mk_sb *sb, const char *key, bool first)
{
    if (!first)
        mk_sb_putc(sb, ',');
    mk_agent_put_jstr(sb, key);
    mk_sb_putc(sb, ':');
}

/* ---- small helpers ---- */

static const struct mk_agent_hooks mk_agent_no_hooks;

void mk_agent_log(struct mk_agent *a, enum mk_agent_log_level level, const char *a1, const char *a2,
                  const char *a3)
{
    const struct mk_agent_hooks *h = a->cfg.hooks;
    if (!h->log)
        return;
    struct mk_sb sb;
    mk_sb_init(&sb, a->logbuf, sizeof a->logbuf);
    if (a1)
        mk_sb_puts(&sb, a1);
    if (a2)
        mk_sb_puts(&sb, a2);
    if (a3)
        mk_sb_puts(&sb, a3);
    h->log(h->ctx, level, a->logbuf);
}

void mk_agent_note_error(struct mk_agent *a, enum mk_agent_log_level level, const char *what)
{
    mk_strlcpy(a->last_error, what, sizeof a->last_error);
    mk_agent_log(a, level, what, NULL, NULL);
}

uint64_t mk_agent_now(const struct mk_agent *a)
{
    return mk_clock_now(a->cfg.clock);
}

uint64_t mk_agent_wall(const struct mk_agent *a)
{
    const struct mk_agent_hooks *h = a->cfg.hooks;
    return h->wall_ms ? h->wall_ms(h->ctx) : 0;
}

bool mk_agent_link_up(const struct mk_agent *a)
{
    return a->cfg.link->up(a->cfg.link->ctx);
}

static uint32_t a_retry_min(const struct mk_agent *a)
{
    return a->cfg.retry_min_ms ? a->cfg.retry_min_ms : A_DEF_RETRY_MIN_MS;
}

enum mk_err mk_agent_publish(struct mk_agent *a, const char *topic, const char *payload, size_t len,
                             bool retain)
{
    const struct mk_agent_link *l = a->cfg.link;
    enum mk_err e = l->publish(l->ctx, topic, (const uint8_t *)payload, len, 1, retain);
    if (e == MK_OK) {
        a->retry_ms = a_retry_min(a);
        return MK_OK;
    }
    a->stats.publish_errors++;
    uint32_t max = a->cfg.retry_max_ms ? a->cfg.retry_max_ms : A_DEF_RETRY_MAX_MS;
    a->retry_at_ms = mk_agent_now(a) + a->retry_ms;
    a->retry_ms = a->retry_ms >= max / 2 ? max : a->retry_ms * 2;
    char what[MK_AGENT_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, what, sizeof what);
    mk_sb_puts(&sb, "publish to ");
    mk_sb_puts(&sb, topic);
    mk_sb_puts(&sb, " failed: ");
    mk_sb_puts(&sb, mk_strerror(e));
    mk_agent_note_error(a, MK_AGENT_LOG_WARN, what);
    return e;
}

/* ---- inbox and outbox: records <kind:1><len:2 LE><bytes> ---- */

static bool a_fifo_put(uint8_t *buf, size_t cap, size_t *used, char kind, const void *p, size_t len)
{
    if (len > 0xFFFF || *used + 3 + len > cap)
        return false;
    buf[*used] = (uint8_t)kind;
    buf[*used + 1] = (uint8_t)(len & 0xFF);
    buf[*used + 2] = (uint8_t)(len >> 8);
    if (len)
        memcpy(buf + *used + 3, p, len);
    *used += 3 + len;
    return true;
}

static size_t a_fifo_len(const uint8_t *buf)
{
    return (size_t)buf[1] | (size_t)buf[2] << 8;
}

static void a_fifo_pop(uint8_t *buf, size_t *used)
{
    size_t n = 3 + a_fifo_len(buf);
    memmove(buf, buf + n, *used - n);
    *used -= n;
}

void mk_agent_outbox_put(struct mk_agent *a, char kind, const char *payload, size_t len)
{
    if (3 + len > sizeof a->outbox) {
        a->stats.replies_dropped++;
        return;
    }
    while (!a_fifo_put(a->outbox, sizeof a->outbox, &a->outbox_len, kind, payload, len)) {
        a_fifo_pop(a->outbox, &a->outbox_len); /* the oldest reply gives way */
        a->stats.replies_dropped++;
    }
}

void mk_agent_on_message(struct mk_agent *a, const char *topic, const uint8_t *payload, size_t len)
{
    char kind;
    if (!topic)
        return;
    if (a->cfg.topics.params && strcmp(topic, a->cfg.topics.params) == 0)
        kind = 'P';
    else if (a->cfg.topics.jobs && strcmp(topic, a->cfg.topics.jobs) == 0)
        kind = 'J';
    else
        return;
    if (len > MK_AGENT_MSG_MAX) {
        kind = kind == 'P' ? 'p' : 'j'; /* answered as too large */
        len = 0;
    }
    if (!a_fifo_put(a->inbox, sizeof a->inbox, &a->inbox_len, kind, payload, len)) {
        a->stats.inbox_dropped++;
        mk_agent_note_error(a, MK_AGENT_LOG_WARN,
                            "a received message was dropped: the inbox "
                            "is full");
    }
}

/* ---- sampling ---- */

void mk_agent_update_interval(struct mk_agent *a)
{
    uint32_t iv = a->cfg.interval_ms;
    int i = mk_agent_param_index(a, MK_AGENT_PARAM_INTERVAL);
    int64_t v;
    if (i >= 0 && a->pv[i].set && mk_parse_i64(a->pv[i].text, strlen(a->pv[i].text), &v) == MK_OK &&
        v > 0)
        iv = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    if (iv == a->interval_ms)
        return;
    a->interval_ms = iv;
    /* the next sample comes one new interval after the last one (or now) */
    uint64_t now = mk_agent_now(a);
    uint64_t due = a->last_due_ms ? a->last_due_ms + iv : now;
    a->next_due_ms = due < now ? now : due;
}

static bool a_limit_reached(const struct mk_agent *a)
{
    return a->cfg.sample_limit && a->q.last_seq >= a->cfg.sample_limit;
}

static void a_take(struct mk_agent *a, size_t len)
{
    uint64_t seq = 0;
    enum mk_err e = mk_agent_queue_push(&a->q, mk_agent_wall(a), a->val, len, &seq);
    if (e == MK_OK) {
        a->stats.samples++;
        return;
    }
    if (e == MK_E_QUEUE_FULL)
        return; /* counted by the queue (drop newest) */
    a->stats.store_errors++;
    char what[MK_AGENT_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, what, sizeof what);
    mk_sb_puts(&sb, "a sample could not be stored: ");
    mk_sb_puts(&sb, mk_strerror(e));
    mk_agent_note_error(a, MK_AGENT_LOG_ERR, what);
}

static void a_source_error(struct mk_agent *a, enum mk_err e)
{
    a->stats.source_errors++;
    char what[MK_AGENT_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, what, sizeof what);
    mk_sb_puts(&sb, "the data source failed: ");
    mk_sb_puts(&sb, mk_strerror(e));
    mk_agent_note_error(a, MK_AGENT_LOG_WARN, what);
}

uint64_t mk_agent_sample_poll(struct mk_agent *a)
{
    const struct mk_agent_source *src = a->cfg.source;
    if (a->sampling || a->shutdown || !src)
        return UINT64_MAX;
    a->sampling = true;
    uint64_t now = mk_agent_now(a);
    size_t len = 0;
    for (int i = 0; src->poll && i < A_POLL_BURST && !a_limit_reached(a); i++) {
        enum mk_err e = src->poll(src->ctx, a->val, sizeof a->val, &len);
        if (e == MK_E_NOENT)
            break;
        if (e != MK_OK) {
            a_source_error(a, e);
            break;
        }
        a_take(a, len);
    }
    if (src->sample && a->interval_ms && now >= a->next_due_ms && !a_limit_reached(a)) {
        enum mk_err e = src->sample(src->ctx, a->q.last_seq + 1, a->val, sizeof a->val, &len);
        if (e == MK_OK)
            a_take(a, len);
        else if (e != MK_E_NOENT)
            a_source_error(a, e);
        /* slots that passed while the agent was busy are skipped, not caught up: a burst
         * of samples taken at the same moment would say nothing more than one */
        uint64_t slots = (now - a->next_due_ms) / a->interval_ms + 1;
        a->stats.missed += slots - 1;
        a->last_due_ms = a->next_due_ms + (slots - 1) * a->interval_ms;
        a->next_due_ms = a->last_due_ms + a->interval_ms;
    }
    a->sampling = false;
    if (!src->sample || !a->interval_ms || a_limit_reached(a))
        return UINT64_MAX;
    return a->next_due_ms;
}

/* ---- parameter messages ---- */

static void a_param_reply(struct mk_agent *a, const struct mk_json *doc, int id_tok, bool accepted,
                          const char *reason, uint32_t changed, uint32_t mentioned)
{
    struct mk_sb sb;
    mk_sb_init(&sb, a->out, sizeof a->out);
    mk_sb_putc(&sb, '{');
    bool first = true;
    if (id_tok >= 0) {
        const struct mk_json_tok *t = &doc->toks[id_tok];
        mk_agent_put_key(&sb, "id", true);
        if (t->type == MK_JSON_STRING)
            mk_sb_putc(&sb, '"');
        mk_sb_putn(&sb, doc->text + t->start, t->len);
        if (t->type == MK_JSON_STRING)
            mk_sb_putc(&sb, '"');
        first = false;
    }
    mk_agent_put_key(&sb, "status", first);
    mk_agent_put_jstr(&sb, accepted ? "accepted" : "rejected");
    if (accepted) {
        mk_agent_put_key(&sb, "changed", false);
        mk_sb_putc(&sb, '[');
        bool f = true;
        for (size_t i = 0; i < a->cfg.n_params; i++) {
            if (!(changed & (1u << i)))
                continue;
            if (!f)
                mk_sb_putc(&sb, ',');
            mk_agent_put_jstr(&sb, a->cfg.params[i].name);
            f = false;
        }
        mk_sb_putc(&sb, ']');
        mk_agent_put_key(&sb, "params", false);
        size_t n = 0;
        if (sb.len < sb.cap && mk_agent_params_json(a, a->pv, mentioned, sb.buf + sb.len,
                                                    sb.cap - sb.len, &n) == MK_OK)
            sb.len += n;
        else
            sb.overflow = true;
    } else {
        mk_agent_put_key(&sb, "reason", false);
        mk_agent_put_jstr(&sb, reason);
    }
    uint64_t ts = mk_agent_wall(a);
    if (ts) {
        mk_agent_put_key(&sb, "ts", false);
        mk_sb_putu(&sb, ts);
    }
    mk_sb_putc(&sb, '}');
    if (mk_sb_err(&sb) == MK_OK)
        mk_agent_outbox_put(a, 'R', a->out, sb.len);
    else
        a->stats.replies_dropped++;
}

static void a_param_message(struct mk_agent *a, size_t len, bool too_large)
{
    char why[MK_AGENT_TEXT_CAP];
    struct mk_json doc = {0};
    int id_tok = -1;
    uint32_t changed = 0, mentioned = 0;
    enum mk_err e;
    if (too_large) {
        e = MK_E_NOSPC;
        mk_strlcpy(why, "the message is larger than 2048 bytes", sizeof why);
    } else {
        e = mk_agent_params_validate(a, len, &doc, &id_tok, &changed, &mentioned, why, sizeof why);
        if (e == MK_E_FORMAT)
            id_tok = -1;
    }
    const struct mk_agent_hooks *h = a->cfg.hooks;
    if (e == MK_OK && changed && h->apply) {
        char hw[MK_AGENT_TEXT_CAP];
        hw[0] = '\0';
        e = h->apply(h->ctx, a, a->cand, changed, hw, sizeof hw);
        if (e != MK_OK) {
            struct mk_sb sb;
            mk_sb_init(&sb, why, sizeof why);
            mk_sb_puts(&sb, "the apply hook refused the values: ");
            mk_sb_puts(&sb, hw[0] ? hw : mk_strerror(e));
        }
    }
    if (e != MK_OK) {
        a->stats.params_rejected++;
        mk_agent_log(a, MK_AGENT_LOG_WARN, "parameter message rejected: ", why, NULL);
        a_param_reply(a, &doc, id_tok, false, why, 0, 0);
        return;
    }
    a->stats.params_accepted++;
    if (changed) {
        memcpy(a->pv, a->cand, sizeof a->pv);
        if (mk_agent_params_save(a) != MK_OK)
            mk_agent_note_error(a, MK_AGENT_LOG_ERR,
                                "the new parameters are applied but "
                                "could not be saved");
        mk_agent_update_interval(a);
        mk_agent_status_now(a);
    }
    char list[MK_AGENT_TEXT_CAP];
    if (!changed)
        mk_strlcpy(list, "(no change)", sizeof list);
    else if (mk_agent_params_json(a, a->pv, changed, list, sizeof list, NULL) != MK_OK)
        mk_strlcpy(list, "(too long to show)", sizeof list);
    mk_agent_log(a, MK_AGENT_LOG_INFO, "parameters accepted: ", list, NULL);
    a_param_reply(a, &doc, id_tok, true, NULL, changed, mentioned);
}

/* Takes the oldest received message and handles it. */
static void a_inbox(struct mk_agent *a)
{
    char kind = (char)a->inbox[0];
    size_t len = a_fifo_len(a->inbox);
    memcpy(a->msg, a->inbox + 3, len);
    a->msg[len < sizeof a->msg ? len : sizeof a->msg - 1] = '\0';
    a_fifo_pop(a->inbox, &a->inbox_len);
    if (kind == 'P' || kind == 'p')
        a_param_message(a, len, kind == 'p');
    else
        mk_agent_job_message(a, len, kind == 'j');
}

/* ---- status ---- */

void mk_agent_status_now(struct mk_agent *a)
{
    a->status_due = true;
}

enum mk_err mk_agent_status_json(struct mk_agent *a, const char *state, char *buf, size_t cap,
                                 size_t *len)
{
    struct mk_agent_link_info info;
    memset(&info, 0, sizeof info);
    info.csq = -1;
    if (a->cfg.link->info)
        a->cfg.link->info(a->cfg.link->ctx, &info);
    uint64_t now = mk_agent_now(a);
    for (int with_params = 1; with_params >= 0; with_params--) {
        struct mk_sb sb;
        mk_sb_init(&sb, buf, cap);
        mk_sb_putc(&sb, '{');
        mk_agent_put_key(&sb, "state", true);
        mk_agent_put_jstr(&sb, state);
        mk_agent_put_key(&sb, "client", false);
        mk_agent_put_jstr(&sb, a->cfg.client_id ? a->cfg.client_id : "");
        if (info.model[0]) {
            mk_agent_put_key(&sb, "model", false);
            mk_agent_put_jstr(&sb, info.model);
        }
        if (info.fw[0]) {
            mk_agent_put_key(&sb, "fw", false);
            mk_agent_put_jstr(&sb, info.fw);
        }
        if (info.imei[0]) {
            mk_agent_put_key(&sb, "imei", false);
            mk_agent_put_jstr(&sb, info.imei);
        }
        if (info.csq >= 0) {
            mk_agent_put_key(&sb, "csq", false);
            mk_sb_puti(&sb, info.csq);
        }
        static const char *const keys[] = {"queue",     "queue_bytes", "last_seq", "dropped",
                                           "published", "missed",      "uptime_s", "interval_ms"};
        uint64_t vals[] = {a->q.count,
                           a->q.bytes,
                           a->q.last_seq,
                           a->q.dropped,
                           a->stats.published,
                           a->stats.missed,
                           (now - a->start_ms) / 1000u,
                           a->interval_ms};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            mk_agent_put_key(&sb, keys[i], false);
            mk_sb_putu(&sb, vals[i]);
        }
        mk_agent_put_key(&sb, "last_error", false);
        if (a->last_error[0])
            mk_agent_put_jstr(&sb, a->last_error);
        else
            mk_sb_puts(&sb, "null");
        if (a->job.phase != MK_AGENT_JOB_NONE) {
            mk_agent_put_key(&sb, "job", false);
            mk_sb_putc(&sb, '{');
            mk_agent_put_key(&sb, "id", true);
            mk_agent_put_jstr(&sb, a->job.id);
            mk_agent_put_key(&sb, "status", false);
            mk_agent_put_jstr(&sb, a->job.status);
            mk_agent_put_key(&sb, "result", false);
            mk_sb_puti(&sb, a->job.result);
            mk_sb_putc(&sb, '}');
        }
        if (with_params && a->cfg.n_params) {
            mk_agent_put_key(&sb, "params", false);
            size_t n = 0;
            if (sb.len < cap &&
                mk_agent_params_json(a, a->pv, UINT32_MAX, buf + sb.len, cap - sb.len, &n) == MK_OK)
                sb.len += n;
            else
                sb.overflow = true;
        }
        uint64_t ts = mk_agent_wall(a);
        if (ts) {
            mk_agent_put_key(&sb, "ts", false);
            mk_sb_putu(&sb, ts);
        }
        mk_sb_putc(&sb, '}');
        if (mk_sb_err(&sb) == MK_OK) {
            *len = sb.len;
            return MK_OK;
        }
    }
    return MK_E_NOSPC;
}

static bool a_status(struct mk_agent *a, uint64_t now)
{
    size_t len;
    if (mk_agent_status_json(a, "online", a->out, sizeof a->out, &len) != MK_OK) {
        mk_agent_note_error(a, MK_AGENT_LOG_ERR, "the status message does not fit");
        a->status_due = false;
        return true;
    }
    if (mk_agent_publish(a, a->cfg.topics.status, a->out, len, true) != MK_OK)
        return false;
    a->stats.status_sent++;
    a->status_due = false;
    a->next_status_ms =
        now + (a->cfg.status_interval_ms ? a->cfg.status_interval_ms : A_DEF_STATUS_MS);
    return true;
}

/* ---- samples ---- */

/* Publishes the oldest queued sample; false when the caller should stop for now. */
static bool a_publish_sample(struct mk_agent *a)
{
    struct mk_agent_sample s;
    enum mk_err e = mk_agent_queue_peek(&a->q, &s);
    if (e == MK_E_NOENT)
        return false;
    if (e != MK_OK) {
        /* the log changed under us (corrupt storage): scan it again, dropping what
         * follows the bad record */
        mk_agent_note_error(a, MK_AGENT_LOG_ERR, "the queue's log cannot be read; reopening it");
        e = mk_agent_queue_open(&a->q, &a->cfg.queue);
        if (e != MK_OK)
            mk_agent_note_error(a, MK_AGENT_LOG_ERR, "the queue cannot be reopened");
        return false;
    }
    struct mk_sb sb;
    mk_sb_init(&sb, a->out, sizeof a->out);
    mk_sb_puts(&sb, "{\"seq\":");
    mk_sb_putu(&sb, s.seq);
    if (s.ts_ms) {
        mk_sb_puts(&sb, ",\"ts\":");
        mk_sb_putu(&sb, s.ts_ms);
    }
    mk_sb_puts(&sb, ",\"data\":");
    mk_sb_putn(&sb, s.value, s.len);
    mk_sb_putc(&sb, '}');
    uint64_t seq = s.seq;
    if (mk_agent_publish(a, a->cfg.topics.telemetry, a->out, sb.len, false) != MK_OK)
        return false;
    a->stats.published++;
    e = mk_agent_queue_ack(&a->q, seq);
    if (e != MK_OK) {
        /* delivered, but the record of it failed: it is sent again later (a duplicate
         * the receiver detects by seq) */
        mk_agent_note_error(a, MK_AGENT_LOG_ERR, "the acknowledgement could not be stored");
        return false;
    }
    return true;
}

/* ---- the public loop ---- */

enum mk_err mk_agent_init(struct mk_agent *a, const struct mk_agent_config *cfg)
{
    memset(a, 0, sizeof *a);
    a->cfg = *cfg;
    if (!a->cfg.hooks)
        a->cfg.hooks = &mk_agent_no_hooks;
    const struct mk_agent_storage *st = cfg->storage;
    const struct mk_agent_topics *t = &cfg->topics;
    if (!st || !st->save || !st->load || !cfg->clock || !cfg->link || !cfg->link->up ||
        !cfg->link->publish)
        return MK_E_INVAL;
    if (!t->telemetry || !t->params || !t->param_replies || !t->status ||
        (cfg->updater && (!t->jobs || !t->job_results))) {
        mk_agent_log(a, MK_AGENT_LOG_ERR,
                     "configuration: the telemetry, parameters, "
                     "parameter replies and status topics are required, "
                     "and the job topics for update jobs",
                     NULL, NULL);
        return MK_E_CONFIG;
    }
    char why[MK_AGENT_TEXT_CAP];
    enum mk_err e = mk_agent_params_init(a, why, sizeof why);
    if (e != MK_OK) {
        mk_agent_log(a, MK_AGENT_LOG_ERR, "configuration: ", why, NULL);
        return e;
    }
    a->cfg.queue.st = st;
    e = mk_agent_queue_open(&a->q, &a->cfg.queue);
    if (e != MK_OK) {
        mk_agent_log(a, MK_AGENT_LOG_ERR, "the queue cannot be opened: ", mk_strerror(e), NULL);
        return e;
    }
    if (a->q.torn)
        mk_agent_log(a, MK_AGENT_LOG_WARN,
                     "the queue ended with a torn record (an append cut "
                     "short by a crash); it was dropped",
                     NULL, NULL);
    mk_agent_params_load(a);
    mk_agent_job_load(a);
    a->start_ms = mk_agent_now(a);
    a->retry_ms = a_retry_min(a);
    a->status_due = true;
    a->job_progress_sent = -1;
    mk_agent_update_interval(a);
    a->next_due_ms = a->start_ms;
    const struct mk_agent_hooks *h = a->cfg.hooks;
    if (cfg->apply_on_start && h->apply && cfg->n_params) {
        uint32_t all = 0;
        for (size_t i = 0; i < cfg->n_params; i++)
            if (a->pv[i].set)
                all |= 1u << i;
        char hw[MK_AGENT_TEXT_CAP];
        hw[0] = '\0';
        if (all && h->apply(h->ctx, a, a->pv, all, hw, sizeof hw) != MK_OK) {
            mk_strlcpy(why, "the apply hook refused the stored parameters: ", sizeof why);
            mk_strlcpy(why + strlen(why), hw, sizeof why - strlen(why));
            mk_agent_note_error(a, MK_AGENT_LOG_WARN, why);
        }
    }
    return MK_OK;
}

bool mk_agent_step(struct mk_agent *a, unsigned max_publish)
{
    if (a->shutdown)
        return false;
    uint64_t now = mk_agent_now(a);
    bool up = mk_agent_link_up(a);
    if (up && !a->link_was_up) {
        /* a new session: tell the world we are here, and publish without waiting */
        a->status_due = true;
        a->retry_at_ms = 0;
        a->retry_ms = a_retry_min(a);
    }
    a->link_was_up = up;
    bool can_publish = up && now >= a->retry_at_ms;
    /* seed 002: the outcome of an update comes first, and it keeps the one job record
     * busy until the broker has it */
    if (a->job.phase == MK_AGENT_JOB_DONE && can_publish) {
        if (!mk_agent_job_report(a))
            return false;
        mk_agent_status_now(a);
        return true;
    }
    if (a->inbox_len) {
        a_inbox(a);
        return true;
    }
    if (mk_agent_job_poll(a, now))
        return true;
    if (!can_publish)
        return false;
    if (a->status_due || now >= a->next_status_ms)
        return a_status(a, now);
    if (a->outbox_len) {
        const char *topic =
            a->outbox[0] == 'J' ? a->cfg.topics.job_results : a->cfg.topics.param_replies;
        size_t len = a_fifo_len(a->outbox);
        memcpy(a->out, a->outbox + 3, len);
        if (!topic) {
            a_fifo_pop(a->outbox, &a->outbox_len);
            return true;
        }
        if (mk_agent_publish(a, topic, a->out, len, false) != MK_OK)
            return false;
        a_fifo_pop(a->outbox, &a->outbox_len);
        return true;
    }
    if (max_publish == 0)
        max_publish = 1;
    for (unsigned i = 0; i < max_publish; i++)
        if (!a_publish_sample(a))
            return false;
    return a->q.count > 0 || a->inbox_len > 0 || a->outbox_len > 0;
}

uint64_t mk_agent_next_ms(const struct mk_agent *a)
{
    uint64_t now = mk_agent_now(a);
    if (a->inbox_len)
        return now;
    uint64_t t = UINT64_MAX;
    const struct mk_agent_source *src = a->cfg.source;
    if (src && src->sample && a->interval_ms && !a_limit_reached(a))
        t = a->next_due_ms;
    if ((a->job.phase == MK_AGENT_JOB_ACCEPTED || a->job.phase == MK_AGENT_JOB_RUNNING) &&
        a->job_retry_at_ms < t)
        t = a->job_retry_at_ms;
    if (mk_agent_link_up(a)) {
        bool pending =
            a->q.count || a->outbox_len || a->status_due || a->job.phase == MK_AGENT_JOB_DONE;
        uint64_t p = pending ? a->retry_at_ms : a->next_status_ms;
        if (p < t)
            t = p;
    }
    return t < now ? now : t;
}

void mk_agent_shutdown(struct mk_agent *a, const char *reason)
{
    if (a->shutdown)
        return;
    mk_agent_log(a, MK_AGENT_LOG_INFO, "stopping: ", reason ? reason : "requested", NULL);
    if (mk_agent_link_up(a)) {
        size_t len;
        if (mk_agent_status_json(a, "offline", a->out, sizeof a->out, &len) == MK_OK)
            mk_agent_publish(a, a->cfg.topics.status, a->out, len, true);
    }
    a->shutdown = true;
}

const struct mk_agent_stats *mk_agent_stats(const struct mk_agent *a)
{
    return &a->stats;
}

const struct mk_agent_queue *mk_agent_queue(const struct mk_agent *a)
{
    return &a->q;
}
