/*
 * Update jobs on the host: the agent core's struct mk_agent_updater over the FOTA engine
 * (include/modemkit/fota.h, mk_fota_run): package files (a path, file:// or a URL
 * fetched by the configured command), journals in the journal directory, Ed25519
 * signatures (OpenSSL), the port reopen and power-cycle hooks of the link, and progress
 * forwarded to the agent (which publishes it).
 *
 * "Never twice" takes two records: the agent's job record says whether this job's run
 * may have started, and the FOTA journal (per package) what the run did. A fresh job
 * moves a finished journal of the same package out of the way first, so a final journal
 * found when the job resumes can only be this job's: its outcome is reported without
 * touching the module again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fota_host.h"
#include "modemd.h"
#include "modemkit/fota.h"

#define MD_WORK_CAP (64u * 1024u) /* >= one CDELTA chunk (32 KiB) and MK_FOTA_BUF_MIN */

struct md_updater {
    const struct md_config *cfg;
    struct md_link *link;
    struct mk_agent *agent;
    struct mk_agent_updater ops;
    struct mk_host_journal hj; /* the journal directory and its store */
    void *key;                 /* Ed25519 public key (mk_host_ed25519_load), or NULL */
    struct mk_host_pkg hp;     /* the open package (hp.fd < 0 when none) */
    uint8_t work[MD_WORK_CAP];
    struct mk_fota_job job;
    char jtext[4096];
};

/* ---- journal (the shared host store: one file per package, replaced atomically) ---- */

/* The journal of package id: MK_OK with *j, MK_E_NOENT, or MK_E_JOURNAL. */
static enum mk_err up_journal(struct md_updater *u, const char *id, struct mk_fota_journal *j)
{
    size_t len = 0;
    enum mk_err e = u->hj.store.load(u->hj.store.ctx, id, u->jtext, sizeof u->jtext, &len);
    if (e != MK_OK)
        return e;
    return mk_fota_journal_decode(j, u->jtext, len);
}

static void up_close(struct md_updater *u)
{
    mk_host_pkg_close(&u->hp);
}

/* The hooks share one context (the updater); the key is inside it. */
static enum mk_err up_verify(void *ctx, const uint8_t *msg, size_t len,
                             const uint8_t sig[MK_FOTA_SIG_LEN])
{
    struct md_updater *u = ctx;
    return mk_host_ed25519_verify(u->key, msg, len, sig);
}

/* Single-quoted for sh. */
static void up_quote(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap < 3)
        return;
    out[o++] = '\'';
    for (; *s && o + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *s;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}

/* Where the job's package is on this host: its path, the path of a file:// URL, or the
 * file a URL is fetched into (fetched once; a resumed job finds it there). */
static enum mk_err up_locate(struct md_updater *u, const struct mk_agent_job *job, char *path,
                             size_t cap, char *why, size_t why_cap)
{
    const struct md_config *c = u->cfg;
    const char *p = job->package;
    if (job->url[0]) {
        if (!strncmp(job->url, "file://", 7)) {
            p = job->url + 7;
        } else {
            const char *colon = strstr(job->url, "://");
            if (!colon) {
                snprintf(why, why_cap, "\"%s\" is not a URL", job->url);
                return MK_E_NOENT;
            }
            if (!c->fetch_command[0]) {
                snprintf(why, why_cap, "%.*s:// URLs need fota.fetch_command",
                         (int)(colon - job->url), job->url);
                return MK_E_UNSUPPORTED;
            }
            char dir[MD_PATH_CAP + 16];
            if (c->package_dir[0])
                snprintf(dir, sizeof dir, "%s", c->package_dir);
            else
                snprintf(dir, sizeof dir, "%s/packages", c->state_dir);
            md_mkdirs(dir);
            char name[80];
            size_t n = 0;
            for (const char *s = job->id; *s && n < sizeof name - 8; s++)
                name[n++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'
                                ? *s
                                : '_';
            name[n] = '\0';
            snprintf(path, cap, "%s/job-%s.pkg", dir, name);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return MK_OK;
            char tmp[PATH_MAX + 8], qurl[2 * MK_AGENT_PATH_CAP + 8], qout[2 * PATH_MAX + 8];
            snprintf(tmp, sizeof tmp, "%s.part", path);
            up_quote(qurl, sizeof qurl, job->url);
            up_quote(qout, sizeof qout, tmp);
            char cmd[MD_CMD_CAP * 2 + 1200];
            size_t o = 0;
            for (const char *s = c->fetch_command; *s && o < sizeof cmd - 1;) {
                const char *rep = !strncmp(s, "{url}", 5)   ? qurl
                                  : !strncmp(s, "{out}", 5) ? qout
                                                            : NULL;
                if (rep) {
                    o += (size_t)snprintf(cmd + o, sizeof cmd - o, "%s", rep);
                    s += 5;
                } else {
                    cmd[o++] = *s++;
                }
            }
            cmd[o < sizeof cmd ? o : sizeof cmd - 1] = '\0';
            md_log(MK_AGENT_LOG_INFO, "job %s: fetching %s", job->id, job->url);
            char err[200];
            int st2 = md_run(cmd, NULL, NULL, 0, NULL, 0, NULL, err, sizeof err, 1800000);
            if (st2 != 0 || rename(tmp, path) != 0) {
                unlink(tmp);
                snprintf(why, why_cap, "fetching %s failed: %s", job->url,
                         st2 < 0  ? err
                         : err[0] ? err
                                  : "the fetch command failed");
                return MK_E_NOENT;
            }
            return MK_OK;
        }
    }
    if (p[0] != '/') {
        snprintf(why, why_cap, "the package path must be absolute, not \"%s\"", p);
        return MK_E_NOENT;
    }
    char real[PATH_MAX];
    if (!realpath(p, real)) {
        snprintf(why, why_cap, "package %s: %s", p, strerror(errno));
        return MK_E_NOENT;
    }
    if (c->package_dir[0]) {
        char dir[PATH_MAX];
        size_t n = realpath(c->package_dir, dir) ? strlen(dir) : 0;
        if (!n || strncmp(real, dir, n) != 0 || real[n] != '/') {
            snprintf(why, why_cap, "package %s is outside fota.package_dir (%s)", p,
                     c->package_dir);
            return MK_E_NOENT;
        }
    }
    snprintf(path, cap, "%s", real);
    return MK_OK;
}

static enum mk_err up_open_pkg(struct md_updater *u, const struct mk_agent_job *job, char *why,
                               size_t why_cap)
{
    up_close(u);
    char path[PATH_MAX];
    enum mk_err e = up_locate(u, job, path, sizeof path, why, why_cap);
    if (e != MK_OK)
        return e;
    e = mk_host_pkg_open(&u->hp, path, u->work, sizeof u->work, why, why_cap);
    if (e == MK_E_NOENT || e == MK_E_PERM)
        e = MK_E_NOENT; /* the job's package is not there: reported as such */
    if (e != MK_OK)
        up_close(u);
    return e;
}

/* ---- hooks for the FOTA job ---- */

static enum mk_err up_reopen(void *ctx, uint64_t deadline_ms)
{
    struct md_updater *u = ctx;
    return md_link_reopen(u->link, deadline_ms);
}

static enum mk_err up_power_cycle(void *ctx)
{
    struct md_updater *u = ctx;
    return md_link_power_cycle(u->link);
}

static void up_progress(void *ctx, const struct mk_fota_event *ev)
{
    struct md_updater *u = ctx;
    switch (ev->kind) {
    case MK_FOTA_EV_PHASE:
        md_log(MK_AGENT_LOG_INFO, "update: %s", ev->text);
        mk_agent_job_progress(u->agent, ev->text, -1);
        break;
    case MK_FOTA_EV_TRANSFER:
        if (ev->total)
            mk_agent_job_progress(u->agent, "transfer", (int)(ev->done * 100 / ev->total));
        break;
    case MK_FOTA_EV_UPDATE:
        /* inside a URC callback: nothing may be sent from here */
        md_log(MK_AGENT_LOG_DEBUG, "update: the module reports %d %%", ev->percent);
        break;
    case MK_FOTA_EV_NOTE:
        md_log(MK_AGENT_LOG_INFO, "update: %s", ev->text);
        break;
    }
}

/* ---- struct mk_agent_updater ---- */

static enum mk_err up_open(void *ctx, const struct mk_agent_job *job,
                           struct mk_agent_pkg_info *info, char *why, size_t cap)
{
    struct md_updater *u = ctx;
    enum mk_err e = up_open_pkg(u, job, why, cap);
    if (e != MK_OK)
        return e;
    snprintf(info->id, sizeof info->id, "%s", u->hp.pkg.id_hex);
    snprintf(info->model, sizeof info->model, "%s", u->hp.pkg.man.model);
    snprintf(info->source, sizeof info->source, "%s", u->hp.pkg.man.source);
    snprintf(info->target, sizeof info->target, "%s", u->hp.pkg.man.target);
    up_close(u);
    return MK_OK;
}

static void up_outcome(struct mk_agent_job_out *out, const struct mk_fota_journal *j, enum mk_err e,
                       const char *msg)
{
    out->final = j->final;
    out->state = (int)j->state;
    out->result = j->final ? (int)j->result : 0;
    out->err = e;
    snprintf(out->detail, sizeof out->detail, "%s", msg);
}

static void up_run(void *ctx, struct mk_agent *agent, const struct mk_agent_job *job, bool resume,
                   struct mk_agent_job_out *out)
{
    struct md_updater *u = ctx;
    const struct md_config *c = u->cfg;
    u->agent = agent;
    struct mk_fota_journal j;
    if (resume && job->pkg_id[0] && up_journal(u, job->pkg_id, &j) == MK_OK && j.final) {
        /* the run finished before the agent could record it: report, touch nothing */
        md_log(MK_AGENT_LOG_INFO, "job %s: the update journal says it ended (%s)", job->id,
               mk_fota_result_name(j.result));
        up_outcome(out, &j, j.err, j.message);
        return;
    }
    if (!resume && job->pkg_id[0] && up_journal(u, job->pkg_id, &j) == MK_OK && j.final) {
        /* an earlier job's finished journal for the same package: kept under another
         * name, so that a final journal seen later belongs to this job */
        char from[sizeof u->hj.dir + 96], to[sizeof u->hj.dir + 128];
        mk_host_journal_path(&u->hj, job->pkg_id, from, sizeof from);
        snprintf(to, sizeof to, "%.*s.done-%lld.json", (int)(strlen(from) - 5), from,
                 (long long)time(NULL));
        rename(from, to);
    }
    char why[MK_FOTA_MSG_CAP];
    why[0] = '\0';
    enum mk_err e = up_open_pkg(u, job, why, sizeof why);
    if (e == MK_OK && job->pkg_id[0] && strcmp(job->pkg_id, u->hp.pkg.id_hex) != 0) {
        snprintf(why, sizeof why,
                 "the package file changed since the job started (now %.12s, "
                 "was %.12s)",
                 u->hp.pkg.id_hex, job->pkg_id);
        e = MK_E_FOTA_INTEGRITY;
        up_close(u);
    }
    if (e != MK_OK) {
        out->final = true;
        out->state = 0;
        out->result = (int)mk_fota_result_for(e);
        out->err = e;
        snprintf(out->detail, sizeof out->detail, "%s", why[0] ? why : mk_strerror(e));
        return;
    }
    struct mk_fota_hooks hooks = {
        .verify_sig = u->key ? up_verify : NULL,
        .reopen = up_reopen,
        .power_cycle = (c->power_cycle[0] || !strncmp(c->port, "sim:", 4)) ? up_power_cycle : NULL,
        .progress = up_progress,
        .ctx = u,
    };
    struct mk_fota_config fc = {
        .chan = md_link_chan(u->link),
        .store = &u->hj.store,
        .hooks = &hooks,
        .buf = u->work,
        .buf_cap = sizeof u->work,
        .package_path = u->hp.path,
        .require_signature = c->require_signature,
        .reboot_timeout_ms =
            c->reboot_timeout_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)c->reboot_timeout_ms,
    };
    md_log(MK_AGENT_LOG_INFO, "job %s: %s %s -> %s (%s)", job->id, resume ? "resuming" : "updating",
           u->hp.pkg.man.source, u->hp.pkg.man.target, u->hp.path);
    /* after a restart the port may not be open yet (the module may be mid-update and
     * silent): the engine's own waiting (reopen, power cycle) takes over from a failure */
    if (md_link_ready(u->link, mk_posix_now_ms() + 10000) != MK_OK)
        md_log(MK_AGENT_LOG_INFO, "job %s: the module does not answer yet", job->id);
    e = mk_fota_run(&u->job, &fc, &u->hp.pkg);
    up_close(u);
    if (e == MK_E_JOURNAL || e == MK_E_INVAL || e == MK_E_UNSUPPORTED) {
        /* nothing the next run could do better */
        out->final = true;
        out->state = 0;
        out->result = (int)mk_fota_result_for(e);
        out->err = e;
        snprintf(out->detail, sizeof out->detail, "%s",
                 u->job.msg[0] ? u->job.msg : mk_strerror(e));
        return;
    }
    up_outcome(out, &u->job.journal, e, u->job.msg);
    md_log(e == MK_OK ? MK_AGENT_LOG_INFO : MK_AGENT_LOG_WARN, "job %s: %s", job->id, u->job.msg);
}

static void up_reported(void *ctx, const struct mk_agent_job *job)
{
    struct md_updater *u = ctx;
    struct mk_fota_journal j;
    size_t len;
    if (!job->pkg_id[0] || up_journal(u, job->pkg_id, &j) != MK_OK || j.reported)
        return;
    j.reported = true;
    if (mk_fota_journal_encode(&j, u->jtext, sizeof u->jtext, &len) == MK_OK)
        u->hj.store.save(u->hj.store.ctx, job->pkg_id, u->jtext, len);
}

struct md_updater *md_updater_new(const struct md_config *cfg, struct md_link *link)
{
    struct md_updater *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->cfg = cfg;
    u->link = link;
    u->hp.fd = -1;
    if (mk_host_journal_init(&u->hj, cfg->journal_dir, true) != MK_OK) {
        md_log(MK_AGENT_LOG_ERR, "cannot create %s: %s", cfg->journal_dir, strerror(errno));
        free(u);
        return NULL;
    }
    if (cfg->public_key[0]) {
        char why[320];
        u->key = mk_host_ed25519_load(cfg->public_key, false, why, sizeof why);
        if (!u->key) {
            md_log(MK_AGENT_LOG_ERR, "fota.public_key: %s", why);
            free(u);
            return NULL;
        }
    }
    u->ops = (struct mk_agent_updater){up_open, up_run, up_reported, u};
    return u;
}

void md_updater_free(struct md_updater *u)
{
    if (!u)
        return;
    up_close(u);
    mk_host_ed25519_free(u->key);
    free(u);
}

const struct mk_agent_updater *md_updater_ops(struct md_updater *u)
{
    return &u->ops;
}
