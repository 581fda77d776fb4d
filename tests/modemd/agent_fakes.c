/* Fakes for the agent core (see agent_fakes.h). */
#include "agent_fakes.h"

#include <stdio.h>
#include <string.h>

/* ---- storage ---- */

static enum mk_err st_read(void *ctx, uint64_t off, void *buf, size_t cap, size_t *n)
{
    struct fake_store *s = ctx;
    *n = 0;
    if (off >= s->log_len)
        return MK_OK;
    size_t k = s->log_len - (size_t)off;
    if (k > cap)
        k = cap;
    memcpy(buf, s->log + off, k);
    *n = k;
    return MK_OK;
}

static enum mk_err st_append(void *ctx, const void *data, size_t len)
{
    struct fake_store *s = ctx;
    if (s->fail_appends > 0) {
        s->fail_appends--;
        return MK_E_IO;
    }
    if (s->torn_append >= 0) {
        size_t k = (size_t)s->torn_append < len ? (size_t)s->torn_append : len;
        memcpy(s->log + s->log_len, data, k);
        s->log_len += k;
        s->torn_append = -1;
        return MK_E_IO;
    }
    if (s->log_len + len > sizeof s->log)
        return MK_E_NOSPC;
    memcpy(s->log + s->log_len, data, len);
    s->log_len += len;
    s->appends++;
    return MK_OK;
}

static enum mk_err st_rw_begin(void *ctx)
{
    struct fake_store *s = ctx;
    s->rewriting = true;
    s->next_len = 0;
    return MK_OK;
}

static enum mk_err st_rw_write(void *ctx, const void *data, size_t len)
{
    struct fake_store *s = ctx;
    if (!s->rewriting || s->next_len + len > sizeof s->next)
        return MK_E_IO;
    memcpy(s->next + s->next_len, data, len);
    s->next_len += len;
    return MK_OK;
}

static enum mk_err st_rw_end(void *ctx, bool commit)
{
    struct fake_store *s = ctx;
    s->rewriting = false;
    if (!commit)
        return MK_OK;
    if (s->fail_rewrites > 0) {
        s->fail_rewrites--;
        return MK_E_IO;
    }
    memcpy(s->log, s->next, s->next_len);
    s->log_len = s->next_len;
    s->rewrites++;
    return MK_OK;
}

static int st_slot(struct fake_store *s, const char *name, bool create)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s->rec_name[i], name) == 0)
            return i;
    if (!create)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (!s->rec_name[i][0]) {
            snprintf(s->rec_name[i], sizeof s->rec_name[i], "%s", name);
            return i;
        }
    }
    return -1;
}

static enum mk_err st_save(void *ctx, const char *name, const void *data, size_t len)
{
    struct fake_store *s = ctx;
    if (s->fail_saves > 0) {
        s->fail_saves--;
        return MK_E_IO;
    }
    int i = st_slot(s, name, true);
    if (i < 0 || len > sizeof s->rec[i])
        return MK_E_NOSPC;
    memcpy(s->rec[i], data, len);
    s->rec_len[i] = len;
    s->saves++;
    return MK_OK;
}

static enum mk_err st_load(void *ctx, const char *name, void *buf, size_t cap, size_t *len)
{
    struct fake_store *s = ctx;
    int i = st_slot(s, name, false);
    if (i < 0)
        return MK_E_NOENT;
    *len = s->rec_len[i];
    if (s->rec_len[i] > cap)
        return MK_E_NOSPC;
    memcpy(buf, s->rec[i], s->rec_len[i]);
    return MK_OK;
}

void fake_store_init(struct fake_store *s)
{
    memset(s, 0, sizeof *s);
    s->torn_append = -1;
    s->ops = (struct mk_agent_storage){st_read,   st_append, st_rw_begin, st_rw_write,
                                       st_rw_end, st_save,   st_load,     s};
}

/* ---- link ---- */

static bool ln_up(void *ctx)
{
    return ((struct fake_link *)ctx)->up;
}

static enum mk_err ln_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                              int qos, bool retain)
{
    struct fake_link *l = ctx;
    (void)qos;
    if (l->during)
        l->during(l->during_user);
    if (!l->up)
        return MK_E_MQTT_NOT_CONNECTED;
    if (l->fail_publishes > 0) {
        l->fail_publishes--;
        return MK_E_TIMEOUT;
    }
    if (l->n < FAKE_MAX_MSGS) {
        struct fake_msg *m = &l->msgs[l->n++];
        snprintf(m->topic, sizeof m->topic, "%s", topic);
        m->len = len < sizeof m->payload - 1 ? len : sizeof m->payload - 1;
        memcpy(m->payload, payload, m->len);
        m->payload[m->len] = '\0';
        m->retain = retain;
    }
    return MK_OK;
}

static void ln_info(void *ctx, struct mk_agent_link_info *out)
{
    struct fake_link *l = ctx;
    snprintf(out->model, sizeof out->model, "SIM7600SA");
    snprintf(out->fw, sizeof out->fw, "%s", l->fw);
    out->csq = 21;
}

static void ln_changed(void *ctx)
{
    ((struct fake_link *)ctx)->module_changed++;
}

void fake_link_init(struct fake_link *l)
{
    memset(l, 0, sizeof *l);
    l->up = true;
    snprintf(l->fw, sizeof l->fw, "LE11B01SIM7600M21-A");
    l->ops = (struct mk_agent_link){ln_up, ln_publish, ln_info, ln_changed, l};
}

size_t fake_link_count(const struct fake_link *l, const char *topic, const struct fake_msg **last)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->msgs[i].topic, topic) == 0) {
            n++;
            if (last)
                *last = &l->msgs[i];
        }
    }
    return n;
}

/* ---- source ---- */

static enum mk_err src_sample(void *ctx, uint64_t seq, char *buf, size_t cap, size_t *len)
{
    struct fake_source *s = ctx;
    s->calls++;
    if (s->skip_next) {
        s->skip_next = false;
        return MK_E_NOENT;
    }
    int n = snprintf(buf, cap, "{\"n\":%llu}", (unsigned long long)seq);
    *len = (size_t)n;
    return MK_OK;
}

static enum mk_err src_poll(void *ctx, char *buf, size_t cap, size_t *len)
{
    struct fake_source *s = ctx;
    if (s->next_event >= s->nevents)
        return MK_E_NOENT;
    const char *e = s->events[s->next_event++];
    *len = strlen(e) < cap ? strlen(e) : cap;
    memcpy(buf, e, *len);
    return MK_OK;
}

void fake_source_init(struct fake_source *s, bool scheduled, bool events)
{
    memset(s, 0, sizeof *s);
    s->ops = (struct mk_agent_source){scheduled ? src_sample : NULL, events ? src_poll : NULL, s};
}

/* ---- updater ---- */

static enum mk_err up_open(void *ctx, const struct mk_agent_job *job,
                           struct mk_agent_pkg_info *info, char *why, size_t cap)
{
    struct fake_updater *u = ctx;
    (void)job;
    u->opens++;
    if (u->open_err != MK_OK) {
        snprintf(why, cap, "no such package");
        return u->open_err;
    }
    *info = u->info;
    return MK_OK;
}

static void up_run(void *ctx, struct mk_agent *agent, const struct mk_agent_job *job, bool resume,
                   struct mk_agent_job_out *out)
{
    struct fake_updater *u = ctx;
    (void)job;
    u->runs++;
    u->last_resume = resume;
    for (int i = 0; i < 8 && u->phases[i]; i++)
        mk_agent_job_progress(agent, u->phases[i], u->percents[i]);
    *out = u->out;
}

static void up_reported(void *ctx, const struct mk_agent_job *job)
{
    (void)job;
    ((struct fake_updater *)ctx)->reported++;
}

void fake_updater_init(struct fake_updater *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->info.id, sizeof u->info.id, "%064d", 7);
    snprintf(u->info.model, sizeof u->info.model, "SIM7600SA");
    snprintf(u->info.source, sizeof u->info.source, "LE11B01SIM7600M21-A");
    snprintf(u->info.target, sizeof u->info.target, "LE11B14SIM7600M22");
    u->out.final = true;
    u->out.result = 1;
    snprintf(u->out.detail, sizeof u->out.detail, "updated");
    u->ops = (struct mk_agent_updater){up_open, up_run, up_reported, u};
}

/* ---- hooks ---- */

static uint64_t hk_wall(void *ctx)
{
    return ((struct fake_hooks *)ctx)->wall;
}

static enum mk_err hk_apply(void *ctx, const struct mk_agent *agent,
                            const struct mk_agent_pval *values, uint32_t changed, char *why,
                            size_t cap)
{
    struct fake_hooks *h = ctx;
    h->applies++;
    h->last_changed = changed;
    size_t n = 0;
    mk_agent_params_json(agent, values, UINT32_MAX, h->last_values, sizeof h->last_values, &n);
    if (h->apply_err != MK_OK)
        snprintf(why, cap, "motor controller busy");
    return h->apply_err;
}

static void hk_log(void *ctx, enum mk_agent_log_level level, const char *msg)
{
    struct fake_hooks *h = ctx;
    (void)level;
    if (h->nlog < 64)
        snprintf(h->log[h->nlog++], sizeof h->log[0], "%s", msg);
}

void fake_hooks_init(struct fake_hooks *h)
{
    memset(h, 0, sizeof *h);
    h->wall = 1700000000000ull;
    h->ops = (struct mk_agent_hooks){hk_wall, hk_apply, hk_log, h};
}

bool fake_hooks_logged(const struct fake_hooks *h, const char *needle)
{
    for (size_t i = 0; i < h->nlog; i++)
        if (strstr(h->log[i], needle))
            return true;
    return false;
}
