/*
 * The link to the module: the port (reopened by path after every module reboot), the AT
 * channel, identification, the module's MQTT client (include/modemkit/mqtt.h) and the
 * struct mk_agent_link the agent core publishes through.
 *
 * Sampling never stops for the link: the channel's io is wrapped so that its wait op
 * (where every blocking AT exchange sleeps, include/modemkit/io.h) takes the samples
 * that fall due, and the reopen wait after a module reboot does the same. A sample is
 * therefore durable on time even while a publish waits for its PUBACK, the MQTT client
 * reconnects, or an update job has the module for minutes.
 *
 * Session life: open → sync (AT until OK and a quiet gap) → identify/probe → MQTT
 * connect (will = "offline" on the status topic) → subscribe parameters and jobs. The
 * MQTT client heals itself after connection losses and module reboots (mk_mqtt_poll);
 * when it gives up, or after an update job, the session is built again from the start
 * with a backoff. A module that stays silent for hang_timeout is power-cycled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modemd.h"
#include "modemkit/str.h"
#include "modemkit/tls.h"

#define MD_BACKOFF_MIN_MS 1000u
#define MD_BACKOFF_MAX_MS 60000u
#define MD_CSQ_EVERY_MS   30000u
#define MD_SYNC_QUIET_MS  150u
#define MD_FILLER_LEN                                                                              \
    2100u /* > any message modemd sends: ends a '>' prompt a killed                                \
             modemd left open (its data would otherwise eat our probes) */
#define MD_MAX_URCS 40

struct md_tls_file {
    const char *path;
    char name[MK_TLS_NAME_MAX + 1];
    uint8_t *data;
    size_t len;
};

struct md_link {
    const struct md_config *cfg;
    struct mk_agent *agent;
    struct mk_agent_link ops;
    /* port and channel */
    struct mk_posix_port port;
    bool port_opened; /* opened once: later opens are reopens by path */
    bool port_ok;     /* open and synced */
    struct mk_io wio;
    struct mk_io_ops wio_ops;
    struct mk_at_chan chan;
    char line_buf[1200];
    struct mk_at_urc urcs[MD_MAX_URCS];
    /* sim:PROFILE */
    pid_t sim_pid;
    int sim_out;
    char sim_link[MD_PATH_CAP + 16];
    char power_cycle[MD_CMD_CAP + MD_PATH_CAP];
    /* module */
    struct mk_modem_id id;
    struct mk_modem_caps caps;
    bool identified;
    bool module_changed;
    int csq;
    uint64_t csq_at_ms;
    /* MQTT */
    struct mk_mqtt_client mqtt;
    bool mqtt_ready;
    bool tls_loaded;
    struct mk_mqtt_connect_opts opts;
    struct mk_mqtt_will will;
    char will_msg[400];
    char url[300];
    struct md_tls_file tls[3];
    char topic_buf[MK_MQTT_TOPIC_MAX + 1];
    uint8_t payload_buf[MK_MQTT_PAYLOAD_MAX];
    uint8_t sub_buf[2 * (MD_TOPIC_CAP + 2)];
    /* retries */
    uint64_t next_try_ms;
    uint32_t backoff_ms;
    uint64_t silent_since_ms; /* port open but the module does not answer */
    uint64_t last_error_log_ms;
};

/* ---- the wrapped io: sampling while waiting ---- */

static enum mk_err wio_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct md_link *l = ctx;
    return mk_io_read(&l->port.io, buf, cap, n);
}

static enum mk_err wio_write(void *ctx, const uint8_t *buf, size_t len, size_t *n)
{
    struct md_link *l = ctx;
    return mk_io_write(&l->port.io, buf, len, n);
}

static enum mk_err wio_wait(void *ctx, uint32_t timeout_ms, bool want_write)
{
    struct md_link *l = ctx;
    uint64_t deadline = mk_posix_now_ms() + timeout_ms;
    /* event sources (FIFO, file) are looked at every 50 ms */
    uint32_t cap_ms =
        l->cfg->source_kind == MD_SRC_FIFO || l->cfg->source_kind == MD_SRC_FILE ? 50u : 1000u;
    for (;;) {
        uint64_t due = mk_agent_sample_poll(l->agent);
        uint64_t now = mk_posix_now_ms();
        if (now >= deadline)
            return MK_E_TIMEOUT;
        uint64_t until = due < deadline ? due : deadline;
        uint64_t slice = until > now ? until - now : 0;
        if (slice > cap_ms)
            slice = cap_ms;
        enum mk_err e = mk_io_wait(&l->port.io, (uint32_t)slice, want_write);
        if (e != MK_E_TIMEOUT)
            return e;
    }
}

/* ---- URCs nobody else claims: boot, SIM, network (logged) ---- */

static void md_urc(void *user, const char *line, size_t len)
{
    (void)user;
    md_log(MK_AGENT_LOG_DEBUG, "module: %.*s", (int)len, line);
}

static size_t md_urc_table(struct md_link *l)
{
    size_t n = 0;
    /* the MQTT and FOTA drivers register their own prefixes, which must not be taken
     * here first (the configured table is searched before the added ones) */
    static const char *const owned[] = {"+CMQTT", "+SM", "+CFOTA", "+HTTPTOFS"};
    for (const char *const *p = mk_modem_spontaneous; *p && n < MD_MAX_URCS; p++) {
        bool skip = false;
        for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
            skip |= strncmp(*p, owned[i], strlen(owned[i])) == 0;
        if (!skip)
            l->urcs[n++] = (struct mk_at_urc){*p, md_urc, l};
    }
    return n;
}

static void md_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    (void)user;
    static const char *const tags[] = {">>", "<<", "<~", "--"};
    if (md_log_level < MK_AGENT_LOG_DEBUG + 1)
        return;
    md_log(MK_AGENT_LOG_DEBUG, "at %s %.*s", tags[dir], (int)len, text);
}

/* ---- sim:PROFILE ---- */

static void md_find_modemsim(char *out, size_t cap)
{
    const char *env = getenv("MODEMSIM");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char self[MD_PATH_CAP];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            static const char *const rel[] = {"/modemsim", "/../../sim/modemsim"};
            for (size_t i = 0; i < 2; i++) {
                if (snprintf(out, cap, "%s%s", self, rel[i]) < (int)cap && access(out, X_OK) == 0)
                    return;
            }
        }
    }
    snprintf(out, cap, "modemsim");
}

/* Starts modemsim with its state, link and control FIFO in the state directory; it dies
 * with us (PR_SET_PDEATHSIG). */
static enum mk_err md_start_sim(struct md_link *l, const char *profile)
{
    char exe[MD_PATH_CAP], state[MD_PATH_CAP + 8], ctl[MD_PATH_CAP + 16];
    md_find_modemsim(exe, sizeof exe);
    snprintf(l->sim_link, sizeof l->sim_link, "%s/sim.tty", l->cfg->state_dir);
    snprintf(state, sizeof state, "%s/sim", l->cfg->state_dir);
    snprintf(ctl, sizeof ctl, "%s/sim.ctl", l->cfg->state_dir);
    md_mkdirs(state);
    if (!l->cfg->power_cycle[0])
        snprintf(l->power_cycle, sizeof l->power_cycle, "'%s' --ctl '%s' power-cycle", exe, ctl);
    int fds[2];
    if (pipe(fds) != 0)
        return mk_posix_errno(errno);
    pid_t pid = fork();
    if (pid < 0)
        return mk_posix_errno(errno);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp(exe, exe, "--profile", profile, "--link", l->sim_link, "--state", state, "--control",
               ctl, "--boot-delay-ms", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    l->sim_pid = pid;
    l->sim_out = fds[0]; /* kept open: modemsim prints a line after each reboot */
    char c;
    uint64_t deadline = mk_posix_now_ms() + 10000;
    while (mk_posix_now_ms() < deadline) { /* its first line: the pty exists */
        ssize_t r = read(fds[0], &c, 1);
        if (r == 1 && c == '\n')
            return MK_OK;
        if (r <= 0)
            break;
    }
    md_log(MK_AGENT_LOG_ERR, "modemsim (%s) did not start; set MODEMSIM to its path", exe);
    return MK_E_NOENT;
}

/* ---- helpers ---- */

static uint64_t md_now(void)
{
    return mk_posix_now_ms();
}

/* Next attempt after a failure: doubling pause with jitter. */
static void md_backoff(struct md_link *l)
{
    if (l->backoff_ms < MD_BACKOFF_MIN_MS)
        l->backoff_ms = MD_BACKOFF_MIN_MS;
    uint32_t j = l->backoff_ms / 4;
    l->next_try_ms = md_now() + l->backoff_ms - j + (uint32_t)rand() % (2 * j + 1);
    uint32_t max = (uint32_t)l->cfg->reconnect_max_ms;
    l->backoff_ms = l->backoff_ms >= max / 2 ? max : l->backoff_ms * 2;
}

/* Logs a session failure: at warning level the first time, then at most every minute. */
static void md_session_fail(struct md_link *l, const char *what, const char *detail)
{
    uint64_t now = md_now();
    int level = now - l->last_error_log_ms >= 60000 ? MK_AGENT_LOG_WARN : MK_AGENT_LOG_DEBUG;
    if (level == MK_AGENT_LOG_WARN)
        l->last_error_log_ms = now;
    char msg[MK_AGENT_TEXT_CAP];
    snprintf(msg, sizeof msg, "%s: %s", what, detail);
    md_backoff(l);
    if (md_stop)
        level = MK_AGENT_LOG_DEBUG; /* stopping: waits cut short are expected */
    md_log(level, "%s (next try in %.1f s)", msg, (double)(l->next_try_ms - now) / 1000.0);
    mk_strlcpy(l->agent->last_error, msg, sizeof l->agent->last_error);
}

/* AT until OK followed by a quiet gap (an OK from a command a killed modemd left running
 * would otherwise pass for ours), then echo off. */
static enum mk_err md_sync(struct md_link *l, uint64_t deadline)
{
    enum mk_err e = MK_E_TIMEOUT;
    unsigned probes = 0;
    bool synced = false;
    while (md_now() < deadline && !md_stop) {
        e = mk_at_simple(&l->chan, "AT", 700, NULL, 0, NULL);
        if (e == MK_E_HANGUP)
            return e;
        if (e == MK_OK) {
            uint64_t t0 = md_now();
            e = mk_at_pump(&l->chan, MD_SYNC_QUIET_MS);
            if (e == MK_E_HANGUP)
                return e;
            if (md_now() - t0 >= MD_SYNC_QUIET_MS) {
                synced = true;
                break;
            }
            continue;
        }
        if (++probes == 3) {
            static uint8_t filler[MD_FILLER_LEN];
            for (size_t i = 0; i < sizeof filler; i += 3)
                memcpy(filler + i, "AT\r", 3);
            md_log(MK_AGENT_LOG_DEBUG, "the module is silent: ending any open '>' prompt");
            e = mk_io_write_all(&l->wio, mk_posix_clock(), filler, sizeof filler, deadline);
            if (e == MK_E_HANGUP)
                return e;
        }
    }
    if (!synced)
        return md_stop ? MK_E_CANCELLED : MK_E_TIMEOUT;
    return mk_at_simple(&l->chan, "ATE0", 2000, NULL, 0, NULL);
}

/* ---- MQTT client callbacks ---- */

static void md_on_message(void *user, const struct mk_mqtt_msg *m)
{
    struct md_link *l = user;
    md_log(MK_AGENT_LOG_DEBUG, "message on %s (%zu bytes)", m->topic, m->len);
    mk_agent_on_message(l->agent, m->topic, m->payload, m->len);
}

static void md_on_state(void *user, enum mk_mqtt_state o, enum mk_mqtt_state n, enum mk_err err,
                        const char *detail)
{
    struct md_link *l = user;
    (void)err;
    if (n == MK_MQTT_CONNECTED) {
        md_log(MK_AGENT_LOG_INFO, "MQTT %s%s", o == MK_MQTT_RECOVERING ? "" : "connected to ",
               detail);
        mk_agent_status_now(l->agent);
    } else if (n == MK_MQTT_RECOVERING) {
        md_log(o == MK_MQTT_RECOVERING ? MK_AGENT_LOG_DEBUG : MK_AGENT_LOG_WARN, "MQTT %s: %s",
               o == MK_MQTT_RECOVERING ? "reconnect failed" : "connection lost", detail);
        if (o != MK_MQTT_RECOVERING)
            mk_strlcpy(l->agent->last_error, detail, sizeof l->agent->last_error);
    } else if (n == MK_MQTT_FAILED) {
        md_log(md_stop ? MK_AGENT_LOG_DEBUG : MK_AGENT_LOG_ERR, "MQTT gave up: %s", detail);
        mk_strlcpy(l->agent->last_error, detail, sizeof l->agent->last_error);
    }
}

static enum mk_err md_mqtt_reopen(void *user)
{
    struct md_link *l = user;
    return md_link_reopen(l, md_now() + l->cfg->reopen_timeout_ms);
}

/* ---- the session ---- */

static enum mk_err md_open_port(struct md_link *l)
{
    enum mk_err e;
    if (!l->port_opened) {
        const char *dev = l->cfg->port;
        if (!strncmp(dev, "sim:", 4)) {
            if (!l->sim_pid && (e = md_start_sim(l, dev + 4)) != MK_OK)
                return e;
            dev = l->sim_link;
        }
        struct mk_posix_port_cfg pcfg = {.baud = (uint32_t)l->cfg->baud};
        e = mk_posix_port_open(&l->port, dev, &pcfg);
        if (e != MK_OK)
            return e;
        l->port_opened = true;
    } else {
        e = mk_posix_port_reopen(&l->port, md_now() + 500);
        if (e != MK_OK)
            return e;
    }
    mk_at_chan_set_io(&l->chan, &l->wio);
    return MK_OK;
}

static void md_port_lost(struct md_link *l)
{
    l->port_ok = false;
    l->identified = false;
}

/* Reads and checks the TLS files once (they are the same for every session). */
static enum mk_err md_tls_load(struct md_link *l, char *why, size_t cap)
{
    const char *paths[3] = {l->cfg->cafile, l->cfg->certfile, l->cfg->keyfile};
    for (int i = 0; i < 3; i++) {
        struct md_tls_file *f = &l->tls[i];
        if (!paths[i][0])
            continue;
        f->path = paths[i];
        free(f->data);
        f->data = malloc(MK_TLS_FILE_MAX);
        if (!f->data)
            return MK_E_NOMEM;
        enum mk_err e = mk_posix_file_read(f->path, f->data, MK_TLS_FILE_MAX, &f->len);
        if (e != MK_OK) {
            snprintf(why, cap, "%s: %s", f->path,
                     e == MK_E_NOSPC ? "larger than 10240 bytes" : mk_strerror(e));
            return e;
        }
        struct mk_tls_pem_info info;
        if (mk_tls_pem_check(f->data, f->len, &info) != MK_OK) {
            snprintf(why, cap, "%s: line %zu: %s", f->path, info.line, info.why);
            return MK_E_CERT;
        }
        mk_tls_store_name(f->path, f->data, f->len, f->name, sizeof f->name);
    }
    l->opts.ca_file = l->tls[0].path ? l->tls[0].name : NULL;
    l->opts.cert_file = l->tls[1].path ? l->tls[1].name : NULL;
    l->opts.key_file = l->tls[2].path ? l->tls[2].name : NULL;
    return MK_OK;
}

struct md_have {
    struct md_link *l;
    bool have[3];
};

static void md_have_cb(void *user, const char *name)
{
    struct md_have *h = user;
    for (int i = 0; i < 3; i++)
        h->have[i] |= h->l->tls[i].path && !strcmp(name, h->l->tls[i].name);
}

/* Uploads the files the module's store lacks (content-addressed names). */
static enum mk_err md_tls_upload(struct md_link *l, char *why, size_t cap)
{
    if (!l->tls[0].path && !l->tls[1].path)
        return MK_OK;
    struct md_have h = {l, {false, false, false}};
    enum mk_err e = mk_tls_cert_list(&l->chan, md_have_cb, &h);
    if (e != MK_OK) {
        snprintf(why, cap, "listing the module's certificates: %s", mk_strerror(e));
        return e;
    }
    for (int i = 0; i < 3; i++) {
        struct md_tls_file *f = &l->tls[i];
        if (!f->path || h.have[i])
            continue;
        e = mk_tls_cert_put(&l->chan, f->name, f->data, f->len);
        if (e != MK_OK) {
            snprintf(why, cap, "uploading %s: %s", f->path, mk_strerror(e));
            return e;
        }
        md_log(MK_AGENT_LOG_INFO, "%s uploaded to the module as %s", f->path, f->name);
    }
    return MK_OK;
}

static void md_mqtt_teardown(struct md_link *l)
{
    if (!l->mqtt_ready)
        return;
    if (mk_mqtt_state(&l->mqtt) != MK_MQTT_IDLE)
        mk_mqtt_disconnect(&l->mqtt);
    mk_mqtt_release(&l->mqtt);
    l->mqtt_ready = false;
}

static enum mk_err md_mqtt_setup(struct md_link *l, char *why, size_t cap)
{
    const struct md_config *c = l->cfg;
    struct mk_mqtt_config mc = {0};
    mc.chan = &l->chan;
    mc.id = &l->id;
    mc.caps = &l->caps;
    mc.topic_buf = l->topic_buf;
    mc.topic_cap = sizeof l->topic_buf;
    mc.payload_buf = l->payload_buf;
    mc.payload_cap = sizeof l->payload_buf;
    mc.sub_buf = l->sub_buf;
    mc.sub_cap = sizeof l->sub_buf;
    mc.on_message = md_on_message;
    mc.on_state = md_on_state;
    mc.reopen = md_mqtt_reopen;
    mc.rand_seed = (uint64_t)getpid() * 2654435761u + md_now();
    mc.user = l;
    mc.backoff_min_ms = MD_BACKOFF_MIN_MS;
    mc.backoff_max_ms = (uint32_t)c->reconnect_max_ms;
    mc.op_timeout_ms = 30000; /* a PUBACK that takes longer: give up, publish again */
    enum mk_err e = mk_mqtt_init(&l->mqtt, &mc);
    if (e != MK_OK) {
        snprintf(why, cap, "%s", mk_mqtt_last_error(&l->mqtt)->text);
        return e;
    }
    l->mqtt_ready = true;
    mk_mqtt_opts_init(&l->opts);
    l->opts.url = c->url;
    l->opts.client_id = c->client_id;
    l->opts.keepalive_s = (uint16_t)(c->keepalive_ms / 1000u);
    l->opts.clean_session = c->clean_session;
    l->opts.user = c->username[0] ? c->username : NULL;
    l->opts.pass = c->password[0] ? c->password : NULL;
    l->opts.version = !strcmp(c->version, "3.1") ? 3 : !strcmp(c->version, "3.1.1") ? 4 : 0;
    snprintf(l->will_msg, sizeof l->will_msg,
             "{\"state\":\"offline\",\"client\":\"%s\",\"reason\":\"connection lost\"}",
             c->client_id);
    l->will.topic = c->t_status;
    l->will.msg = (const uint8_t *)l->will_msg;
    l->will.len = strlen(l->will_msg);
    l->will.qos = 1;
    l->will.retain = false; /* AT+CMQTTWILLMSG has no retain flag (S1 §16) */
    l->opts.will = &l->will;
    if (!l->tls_loaded) {
        if ((e = md_tls_load(l, why, cap)) != MK_OK)
            return e;
        l->tls_loaded = true;
    }
    if (mk_mqtt_check_opts(&l->mqtt, &l->opts) != MK_OK) {
        snprintf(why, cap, "%s", mk_mqtt_last_error(&l->mqtt)->text);
        return mk_mqtt_last_error(&l->mqtt)->err;
    }
    return MK_OK;
}

/* One attempt to build the whole session. */
static void md_session(struct md_link *l)
{
    char why[MK_AGENT_TEXT_CAP];
    enum mk_err e;
    if (!l->port_ok) {
        e = md_open_port(l);
        if (e != MK_OK) {
            md_session_fail(l, "cannot open the module's port",
                            l->port.msg[0] ? l->port.msg : mk_strerror(e));
            return;
        }
        e = md_sync(l, md_now() + 5000);
        if (e != MK_OK) {
            if (e == MK_E_TIMEOUT) {
                if (!l->silent_since_ms)
                    l->silent_since_ms = md_now();
                if (md_now() - l->silent_since_ms >= l->cfg->hang_timeout_ms &&
                    (l->cfg->power_cycle[0] || l->power_cycle[0])) {
                    md_log(MK_AGENT_LOG_WARN, "the module has not answered for %llu s",
                           (unsigned long long)(md_now() - l->silent_since_ms) / 1000u);
                    md_link_power_cycle(l);
                    l->silent_since_ms = 0;
                }
            }
            md_session_fail(l, "the module does not answer AT commands", mk_strerror(e));
            return;
        }
        l->silent_since_ms = 0;
        l->port_ok = true;
    }
    if (!l->identified) {
        e = mk_modem_identify(&l->chan, &l->id);
        if (e == MK_OK)
            e = mk_modem_probe(&l->chan, &l->id, &l->caps);
        if (e != MK_OK) {
            if (e == MK_E_HANGUP)
                md_port_lost(l);
            md_session_fail(l, "cannot identify the module", mk_strerror(e));
            return;
        }
        l->identified = true;
        l->csq_at_ms = 0;
        md_log(MK_AGENT_LOG_INFO, "module %s, firmware %s", l->id.model, l->id.revision);
        md_mqtt_teardown(l); /* capabilities may have changed (a firmware update) */
    }
    if (!l->mqtt_ready || mk_mqtt_state(&l->mqtt) == MK_MQTT_FAILED) {
        md_mqtt_teardown(l);
        e = md_mqtt_setup(l, why, sizeof why);
        if (e != MK_OK) {
            /* permanent for this firmware: retried rarely (an update may fix it) */
            l->backoff_ms = MD_BACKOFF_MAX_MS > l->cfg->reconnect_max_ms
                                ? MD_BACKOFF_MAX_MS
                                : (uint32_t)l->cfg->reconnect_max_ms;
            md_session_fail(l, "MQTT cannot work with this configuration", why);
            return;
        }
    }
    if ((e = md_tls_upload(l, why, sizeof why)) != MK_OK) {
        if (e == MK_E_HANGUP)
            md_port_lost(l);
        md_session_fail(l, "TLS files", why);
        return;
    }
    e = mk_mqtt_connect(&l->mqtt, &l->opts);
    if (e != MK_OK) {
        if (e == MK_E_HANGUP || e == MK_E_IO)
            md_port_lost(l);
        md_session_fail(l, "MQTT connect failed", mk_mqtt_last_error(&l->mqtt)->text);
        return;
    }
    const char *topics[2] = {l->cfg->t_params, l->cfg->t_jobs};
    e = mk_mqtt_subscribe(&l->mqtt, topics, l->cfg->fota_enabled ? 2 : 1, 1);
    if (e != MK_OK) {
        snprintf(why, sizeof why, "%s", mk_mqtt_last_error(&l->mqtt)->text);
        mk_mqtt_disconnect(&l->mqtt);
        if (e == MK_E_HANGUP)
            md_port_lost(l);
        md_session_fail(l, "MQTT subscribe failed", why);
        return;
    }
    l->backoff_ms = 0;
    l->last_error_log_ms = 0;
    md_log(MK_AGENT_LOG_INFO, "subscribed to %s%s%s", topics[0],
           l->cfg->fota_enabled ? " and " : "", l->cfg->fota_enabled ? topics[1] : "");
}

void md_link_poll(struct md_link *l, uint32_t wait_ms)
{
    uint64_t now = md_now();
    if (l->module_changed) {
        /* an update job ran: the module rebooted under the client, its firmware (and
         * capabilities) may be new: everything is built again */
        l->module_changed = false;
        md_mqtt_teardown(l);
        l->identified = false;
        l->next_try_ms = now;
        l->backoff_ms = 0;
    }
    enum mk_mqtt_state st = l->mqtt_ready ? mk_mqtt_state(&l->mqtt) : MK_MQTT_IDLE;
    if (st == MK_MQTT_CONNECTED || st == MK_MQTT_RECOVERING) {
        enum mk_err e = mk_mqtt_poll(&l->mqtt, wait_ms);
        if (e != MK_OK && mk_mqtt_state(&l->mqtt) == MK_MQTT_FAILED) {
            if (l->mqtt.reopen_failed || e == MK_E_HANGUP || e == MK_E_TIMEOUT)
                md_port_lost(l);
            md_session_fail(l, "MQTT", mk_mqtt_last_error(&l->mqtt)->text);
        }
        return;
    }
    if (now >= l->next_try_ms && !md_stop) {
        md_session(l);
        return;
    }
    uint64_t slice = l->next_try_ms - now < wait_ms ? l->next_try_ms - now : wait_ms;
    if (l->port_ok) {
        if (mk_at_pump(&l->chan, (uint32_t)slice) == MK_E_HANGUP)
            md_port_lost(l);
    } else {
        /* no port: wait on nothing, sampling on time */
        uint64_t end = now + slice;
        while (!md_stop && (now = md_now()) < end) {
            uint64_t due = mk_agent_sample_poll(l->agent);
            uint64_t until = due < end ? due : end;
            mk_posix_sleep_ms((uint32_t)(until > now ? (until - now < 50 ? until - now : 50) : 1));
        }
    }
}

enum mk_err md_link_reopen(struct md_link *l, uint64_t deadline)
{
    md_log(MK_AGENT_LOG_INFO, "the module's port went away (reboot); waiting for it");
    l->port_ok = false;
    for (;;) {
        if (md_stop)
            return MK_E_CANCELLED;
        uint64_t now = md_now();
        if (now >= deadline)
            return MK_E_TIMEOUT;
        uint64_t slice = now + 250 < deadline ? now + 250 : deadline;
        enum mk_err e = mk_posix_port_reopen(&l->port, slice);
        if (e == MK_OK)
            break;
        if (e != MK_E_TIMEOUT)
            return e;
        mk_agent_sample_poll(l->agent);
    }
    mk_at_chan_set_io(&l->chan, &l->wio);
    enum mk_err e = md_sync(l, deadline);
    if (e == MK_OK) {
        l->port_ok = true;
        md_log(MK_AGENT_LOG_INFO, "the module is back");
    }
    return e;
}

enum mk_err md_link_ready(struct md_link *l, uint64_t deadline)
{
    enum mk_err e = MK_OK;
    while (!l->port_ok) {
        if (md_stop)
            return MK_E_CANCELLED;
        if (md_now() >= deadline)
            return e == MK_OK ? MK_E_TIMEOUT : e;
        e = md_open_port(l);
        if (e == MK_OK) {
            e = md_sync(l, deadline);
            l->port_ok = e == MK_OK;
        } else {
            mk_agent_sample_poll(l->agent);
            mk_posix_sleep_ms(50); /* the device is not there (yet) */
        }
    }
    return MK_OK;
}

enum mk_err md_link_power_cycle(struct md_link *l)
{
    const char *cmd = l->cfg->power_cycle[0] ? l->cfg->power_cycle : l->power_cycle;
    if (!cmd[0])
        return MK_E_UNSUPPORTED;
    md_log(MK_AGENT_LOG_WARN, "power-cycling the module: %s", cmd);
    char err[200];
    int st = md_run(cmd, NULL, NULL, 0, NULL, 0, NULL, err, sizeof err, 120000);
    md_port_lost(l);
    if (st != 0) {
        md_log(MK_AGENT_LOG_ERR, "the power-cycle command failed: %s",
               st < 0   ? err
               : err[0] ? err
                        : "non-zero exit status");
        return MK_E_IO;
    }
    return MK_OK;
}

/* ---- struct mk_agent_link ---- */

static bool ln_up(void *ctx)
{
    struct md_link *l = ctx;
    return l->mqtt_ready && !l->module_changed && mk_mqtt_state(&l->mqtt) == MK_MQTT_CONNECTED;
}

static enum mk_err ln_publish(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                              int qos, bool retain)
{
    struct md_link *l = ctx;
    if (!ln_up(l))
        return MK_E_MQTT_NOT_CONNECTED;
    enum mk_err e = mk_mqtt_publish(&l->mqtt, topic, payload, len, qos, retain);
    if (e != MK_OK)
        md_log(MK_AGENT_LOG_DEBUG, "publish to %s: %s", topic, mk_mqtt_last_error(&l->mqtt)->text);
    return e;
}

static void ln_info(void *ctx, struct mk_agent_link_info *out)
{
    struct md_link *l = ctx;
    if (!l->identified)
        return;
    snprintf(out->model, sizeof out->model, "%s", l->id.model);
    snprintf(out->fw, sizeof out->fw, "%s", l->id.revision);
    snprintf(out->imei, sizeof out->imei, "%s", l->id.imei);
    uint64_t now = md_now();
    if (ln_up(l) && (!l->csq_at_ms || now - l->csq_at_ms >= MD_CSQ_EVERY_MS)) {
        char resp[64];
        l->csq_at_ms = now;
        if (mk_at_simple(&l->chan, "AT+CSQ", 3000, resp, sizeof resp, NULL) == MK_OK) {
            const char *p = strstr(resp, "+CSQ:");
            l->csq = p ? atoi(p + 5) : -1;
        }
    }
    out->csq = l->csq;
}

static void ln_changed(void *ctx)
{
    ((struct md_link *)ctx)->module_changed = true;
}

struct md_link *md_link_new(const struct md_config *cfg, struct mk_agent *agent)
{
    struct md_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cfg = cfg;
    l->agent = agent;
    l->port.fd = -1;
    l->sim_out = -1;
    l->csq = -1;
    l->wio_ops = (struct mk_io_ops){wio_read, wio_write, NULL, wio_wait};
    l->wio = (struct mk_io){&l->wio_ops, l};
    struct mk_at_config acfg = {
        .line_buf = l->line_buf,
        .line_cap = sizeof l->line_buf,
        .urcs = l->urcs,
        .n_urcs = md_urc_table(l),
        .trace = md_trace,
        .trace_user = l,
    };
    mk_at_chan_init(&l->chan, &acfg, &l->wio, mk_posix_clock());
    l->ops = (struct mk_agent_link){ln_up, ln_publish, ln_info, ln_changed, l};
    return l;
}

const struct mk_agent_link *md_link_ops(struct md_link *l)
{
    return &l->ops;
}

struct mk_at_chan *md_link_chan(struct md_link *l)
{
    return &l->chan;
}

bool md_link_connected(struct md_link *l)
{
    return ln_up(l);
}

void md_link_close(struct md_link *l)
{
    if (l->mqtt_ready && mk_mqtt_state(&l->mqtt) == MK_MQTT_CONNECTED)
        mk_mqtt_disconnect(&l->mqtt);
    if (l->mqtt_ready)
        mk_mqtt_release(&l->mqtt);
    l->mqtt_ready = false;
    mk_posix_port_close(&l->port);
}

void md_link_free(struct md_link *l)
{
    if (!l)
        return;
    if (l->sim_pid > 0) {
        kill(l->sim_pid, SIGTERM);
        waitpid(l->sim_pid, NULL, 0);
    }
    if (l->sim_out >= 0)
        close(l->sim_out);
    for (int i = 0; i < 3; i++)
        free(l->tls[i].data);
    free(l);
}
