/*
 * The configuration file: INI-like "key = value" lines in [sections], parsed here.
 *
 * One table (md_keys) describes every key: section, type, default and the help text, so
 * the parser, the defaults, `modemd --help` and `--check-config -v` cannot disagree.
 * Unknown sections and keys, duplicates and bad values are errors with the file name and
 * line number; all of them are reported, not only the first.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "modemd.h"

enum md_kind { K_STR, K_DUR, K_SIZE, K_INT, K_BOOL, K_ENUM };

struct md_key {
    const char *section;
    const char *key;
    enum md_kind kind;
    size_t off, size;
    const char *def;     /* default as it would be written in the file; NULL = empty */
    const char *choices; /* K_ENUM: "a|b|c" */
    const char *help;
};

#define F(field) offsetof(struct md_config, field), sizeof(((struct md_config *)0)->field)
#define KEY(sec, key, kind, field, def, choices, help)                                             \
    {                                                                                              \
        sec, key, kind, F(field), def, choices, help                                               \
    }

static const struct md_key md_keys[] = {
    KEY("device", "port", K_STR, port, NULL, NULL,
        "The module's AT port: /dev/ttyUSB2, a /dev/serial/by-id/... link, a pty, "
        "tcp:HOST:PORT, or sim:PROFILE (starts modemsim with its state in the state "
        "directory, for demos). Required. After a module reboot the same path is opened "
        "again (USB modules re-enumerate)."),
    KEY("device", "baud", K_INT, baud, "115200", NULL, "Line rate for a real serial port."),
    KEY("device", "power_cycle_command", K_STR, power_cycle, NULL, NULL,
        "Shell command that cuts and restores the module's power (a GPIO or relay "
        "script). Run when the module stops answering for hang_timeout, when an update "
        "leaves it in a boot loop, and when an update package asks for a hard power cycle "
        "(seed 002). Empty: never (with sim:PROFILE the simulator's --ctl power-cycle)."),
    KEY("device", "reopen_timeout", K_DUR, reopen_timeout_ms, "120s", NULL,
        "How long to wait for the port to come back after the module rebooted."),
    KEY("device", "hang_timeout", K_DUR, hang_timeout_ms, "180s", NULL,
        "A module whose port is open but silent this long is power-cycled (when a "
        "power_cycle_command is set)."),

    KEY("mqtt", "url", K_STR, url, NULL, NULL,
        "Broker: mqtt://HOST[:1883] or mqtts://HOST[:8883]. The module resolves and "
        "connects itself. Required."),
    KEY("mqtt", "client_id", K_STR, client_id, NULL, NULL,
        "MQTT client id (1..128 bytes, no '\"'); also {client_id} in topics. Required."),
    KEY("mqtt", "username", K_STR, username, NULL, NULL,
        "User name; refused before connecting on firmware that cannot send one "
        "(LE11B01SIM7600M21-A, seed 000)."),
    KEY("mqtt", "password", K_STR, password, NULL, NULL, "Password (needs username)."),
    KEY("mqtt", "cafile", K_STR, cafile, NULL, NULL,
        "Local PEM CA file for mqtts://: checked, uploaded to the module's certificate "
        "store when missing (content-addressed name) and bound to the connection."),
    KEY("mqtt", "certfile", K_STR, certfile, NULL, NULL, "Local PEM client certificate."),
    KEY("mqtt", "keyfile", K_STR, keyfile, NULL, NULL, "Local PEM key of certfile (unencrypted)."),
    KEY("mqtt", "keepalive", K_DUR, keepalive_ms, "60s", NULL, "MQTT keep-alive (1 s .. 18 h)."),
    KEY("mqtt", "clean_session", K_BOOL, clean_session, "false", NULL,
        "false keeps the session on the broker while the device is away, so QoS 1 "
        "parameter and job messages sent meanwhile are delivered when it is back."),
    KEY("mqtt", "reconnect_max", K_DUR, reconnect_max_ms, "60s", NULL,
        "Longest pause between reconnect attempts (they start at 1 s and double, with "
        "jitter, so that a fleet does not reconnect in lockstep)."),
    KEY("mqtt", "version", K_ENUM, version, "default", "default|3.1|3.1.1",
        "MQTT protocol version; 'default' sends none (firmware without a version choice "
        "speaks 3.1)."),

    KEY("topics", "telemetry", K_STR, t_telemetry, "devices/{client_id}/telemetry", NULL,
        "Samples, QoS 1: {\"seq\":N,\"ts\":MS,\"data\":VALUE}."),
    KEY("topics", "parameters", K_STR, t_params, "devices/{client_id}/params", NULL,
        "Subscribed (QoS 1): parameter messages {\"id\":...,\"name\":value,...}."),
    KEY("topics", "parameter_replies", K_STR, t_replies, "devices/{client_id}/params/reply", NULL,
        "Acknowledgements of parameter messages, QoS 1."),
    KEY("topics", "status", K_STR, t_status, "devices/{client_id}/status", NULL,
        "Retained status, QoS 1; the MQTT will (\"offline\") goes here too."),
    KEY("topics", "jobs", K_STR, t_jobs, "devices/{client_id}/jobs", NULL,
        "Subscribed (QoS 1): update jobs {\"job\":ID,\"package\":PATH|\"url\":URL,...}."),
    KEY("topics", "job_results", K_STR, t_results, "devices/{client_id}/jobs/result", NULL,
        "Update progress and results (LwM2M /5 state and result), QoS 1."),

    KEY("sample", "interval", K_DUR, interval_ms, "30m", NULL,
        "Time between samples (command and synthetic sources); a parameter named "
        "sample_interval_ms overrides it at run time."),
    KEY("sample", "count", K_INT, count, "0", NULL,
        "Stop sampling after the sample with this sequence number (0: never). For tests "
        "and demos."),
    KEY("sample", "source", K_ENUM, source, "synthetic", "synthetic|command|fifo|file",
        "synthetic: a built-in demo sensor; command: run 'command' at each interval, its "
        "output is the sample; fifo: every line written to the FIFO 'path' is a sample; "
        "file: every line appended to the file 'path' is a sample (tail -F). A line that "
        "is JSON is sent as it is, anything else as a JSON string."),
    KEY("sample", "command", K_STR, command, NULL, NULL,
        "Shell command for source = command (environment MODEMD_SEQ = the sequence number "
        "the sample will get). Exit status 0 and output = one sample; empty output skips "
        "the slot."),
    KEY("sample", "path", K_STR, path, NULL, NULL, "FIFO or file for source = fifo / file."),
    KEY("sample", "timeout", K_DUR, command_timeout_ms, "5s", NULL,
        "The command is killed after this long."),

    KEY("queue", "path", K_STR, queue_path, NULL, NULL,
        "The durable sample queue (default STATE_DIR/queue.log)."),
    KEY("queue", "max_bytes", K_SIZE, max_bytes, "8M", NULL,
        "Bound on queued samples (record bytes; 0 = none)."),
    KEY("queue", "max_samples", K_INT, max_samples, "0", NULL,
        "Bound on queued samples (0 = none)."),
    KEY("queue", "drop", K_ENUM, drop, "oldest", "oldest|newest",
        "When full: drop the oldest queued sample, or refuse the new one. Drops are "
        "counted in the status (\"dropped\")."),

    KEY("state", "dir", K_STR, state_dir, "/var/lib/modemd", NULL,
        "Directory of the queue, params.json (applied values), job.json (update "
        "job record) and fota/ (update journals). Created (mode 0700)."),

    KEY("status", "interval", K_DUR, status_interval_ms, "1h", NULL,
        "Status republished this often (and on every connect and change)."),

    KEY("params", "apply_command", K_STR, apply_command, NULL, NULL,
        "Shell command that applies new parameter values: JSON of all values on stdin, "
        "MODEMD_PARAMS (same JSON), MODEMD_CHANGED (names) and PARAM_<NAME> variables. "
        "Exit status 0 accepts; anything else rejects (first stderr line = the reason) "
        "and nothing changes."),
    KEY("params", "apply_file", K_STR, apply_file, NULL, NULL,
        "File that receives the JSON of all values, replaced atomically (written before "
        "apply_command runs, restored if it fails)."),
    KEY("params", "apply_timeout", K_DUR, apply_timeout_ms, "30s", NULL,
        "Limit for apply_command."),
    KEY("params", "apply_on_start", K_BOOL, apply_on_start, "true", NULL,
        "Apply the stored values once at start."),

    KEY("fota", "enabled", K_BOOL, fota_enabled, "true", NULL, "Accept update jobs."),
    KEY("fota", "package_dir", K_STR, package_dir, NULL, NULL,
        "Job packages must be inside this directory (default: any absolute path); "
        "fetched packages are stored here (default STATE_DIR/packages)."),
    KEY("fota", "fetch_command", K_STR, fetch_command, NULL, NULL,
        "Shell command that downloads a job's \"url\" (other than file://) to a file: "
        "{url} and {out} are replaced, e.g. curl -fsS -o {out} {url}. Empty: only "
        "file:// URLs."),
    KEY("fota", "public_key", K_STR, public_key, NULL, NULL,
        "Ed25519 public key (PEM) that checks package signatures."),
    KEY("fota", "require_signature", K_BOOL, require_signature, "false", NULL,
        "Refuse unsigned packages (needs public_key)."),
    KEY("fota", "reboot_timeout", K_DUR, reboot_timeout_ms, "300s", NULL,
        "Per wait for the module to come back during an update."),
    KEY("fota", "journal_dir", K_STR, journal_dir, NULL, NULL,
        "Update journals (default STATE_DIR/fota)."),

    KEY("log", "level", K_ENUM, level, "info", "error|warning|info|debug",
        "Messages below this level are not written (stderr; journald keeps them)."),
};

#define MD_NKEYS (sizeof md_keys / sizeof md_keys[0])

static const char *const md_param_keys[][2] = {
    {"type", "int, number, bool or string. Required."},
    {"min", "Lowest value (int, number)."},
    {"max", "Highest value (int, number)."},
    {"default", "Value before any message set one (JSON: 1200, 2.5, true, \"auto\")."},
    {"max_length", "Longest string in bytes (1..64, default 64)."},
};

/* ---- value parsers ---- */

static bool md_parse_dur(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return false;
    while (*end == ' ')
        end++;
    double mul = 1000;
    if (!*end || !strcmp(end, "s"))
        mul = 1000;
    else if (!strcmp(end, "ms"))
        mul = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mul = 60000;
    else if (!strcmp(end, "h"))
        mul = 3600000;
    else if (!strcmp(end, "d"))
        mul = 86400000;
    else
        return false;
    double ms = v * mul;
    if (ms > 1e15)
        return false;
    *out = (uint64_t)(ms + 0.5);
    return true;
}

static bool md_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        return false;
    while (*end == ' ')
        end++;
    uint64_t mul = 1;
    if (!*end || !strcmp(end, "B"))
        mul = 1;
    else if (!strcmp(end, "k") || !strcmp(end, "K") || !strcmp(end, "KiB"))
        mul = 1024;
    else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
        mul = 1024 * 1024;
    else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
        mul = 1024ull * 1024 * 1024;
    else
        return false;
    *out = v * mul;
    return true;
}

static bool md_parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"};
    static const char *const f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, t[i]))
            return (*out = true), true;
        if (!strcasecmp(s, f[i]))
            return (*out = false), true;
    }
    return false;
}

static bool md_in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t k = bar ? (size_t)(bar - p) : strlen(p);
        if (k == n && !strncmp(p, v, n))
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

struct md_parse {
    struct md_config *c;
    const char *file;
    FILE *err;
    int errors;
    bool seen[MD_NKEYS];
    int section; /* -1 none, 0 a table section, 1 [param NAME] */
    char sec[32];
    struct md_param *param;
    bool pseen[5];
};

static void md_err(struct md_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void md_err(struct md_parse *p, int line, const char *fmt, ...)
{
    va_list ap;
    p->errors++;
    if (p->errors > 30)
        return;
    if (line > 0)
        fprintf(p->err, "%s:%d: ", p->file, line);
    else
        fprintf(p->err, "%s: ", p->file);
    va_start(ap, fmt);
    vfprintf(p->err, fmt, ap);
    va_end(ap);
    fputc('\n', p->err);
}

/* Stores a value for key k; false with a message on a bad value. */
static bool md_set(struct md_parse *p, const struct md_key *k, const char *v, int line)
{
    char *field = (char *)p->c + k->off;
    switch (k->kind) {
    case K_STR:
    case K_ENUM:
        if (strlen(v) >= k->size) {
            md_err(p, line, "%s.%s: the value is longer than %zu bytes", k->section, k->key,
                   k->size - 1);
            return false;
        }
        if (k->kind == K_ENUM && !md_in_choices(k->choices, v)) {
            md_err(p, line, "%s.%s: '%s' is not one of %s", k->section, k->key, v, k->choices);
            return false;
        }
        memcpy(field, v, strlen(v) + 1);
        return true;
    case K_DUR:
        if (!md_parse_dur(v, (uint64_t *)(void *)field)) {
            md_err(p, line,
                   "%s.%s: '%s' is not a duration (500ms, 30s, 5m, 1h, 1d; a bare "
                   "number is seconds)",
                   k->section, k->key, v);
            return false;
        }
        return true;
    case K_SIZE:
        if (!md_parse_size(v, (uint64_t *)(void *)field)) {
            md_err(p, line, "%s.%s: '%s' is not a size (1048576, 512k, 8M, 1G)", k->section, k->key,
                   v);
            return false;
        }
        return true;
    case K_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno || x < 0) {
            md_err(p, line, "%s.%s: '%s' is not a number >= 0", k->section, k->key, v);
            return false;
        }
        *(uint64_t *)(void *)field = (uint64_t)x;
        return true;
    }
    case K_BOOL:
        if (!md_parse_bool(v, (bool *)(void *)field)) {
            md_err(p, line, "%s.%s: '%s' is not true or false", k->section, k->key, v);
            return false;
        }
        return true;
    }
    return false;
}

static bool md_section_known(const char *s)
{
    for (size_t i = 0; i < MD_NKEYS; i++)
        if (!strcmp(md_keys[i].section, s))
            return true;
    return false;
}

static char *md_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* A value in double quotes keeps its spaces; \" and \\ are the escapes. */
static bool md_unquote(char *v)
{
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return n == 0 || v[0] != '"';
    char *o = v;
    for (size_t i = 1; i < n - 1; i++) {
        if (v[i] == '\\' && i + 1 < n - 1 && (v[i + 1] == '"' || v[i + 1] == '\\'))
            i++;
        *o++ = v[i];
    }
    *o = '\0';
    return true;
}

static void md_param_key(struct md_parse *p, const char *key, const char *v, int line)
{
    struct md_param *pm = p->param;
    for (int i = 0; i < 5; i++) {
        if (strcmp(key, md_param_keys[i][0]) != 0)
            continue;
        if (p->pseen[i]) {
            md_err(p, line, "param %s: '%s' is given twice", pm->name, key);
            return;
        }
        p->pseen[i] = true;
        char *dst = i == 0   ? pm->type
                    : i == 1 ? pm->min
                    : i == 2 ? pm->max
                    : i == 3 ? pm->def
                             : NULL;
        size_t cap = i == 0 ? sizeof pm->type : i == 3 ? sizeof pm->def : sizeof pm->min;
        if (i == 4) {
            char *end;
            long x = strtol(v, &end, 10);
            if (end == v || *end || x < 1 || x > (long)MK_AGENT_PSTR_MAX)
                md_err(p, line, "param %s: max_length must be 1..%u", pm->name, MK_AGENT_PSTR_MAX);
            else
                pm->max_length = x;
            return;
        }
        if (strlen(v) >= cap) {
            md_err(p, line, "param %s: %s is too long", pm->name, key);
            return;
        }
        memcpy(dst, v, strlen(v) + 1);
        if (i == 0 && strcmp(v, "int") && strcmp(v, "number") && strcmp(v, "bool") &&
            strcmp(v, "string"))
            md_err(p, line, "param %s: type must be int, number, bool or string, not '%s'",
                   pm->name, v);
        pm->has_min |= i == 1;
        pm->has_max |= i == 2;
        pm->has_def |= i == 3;
        return;
    }
    md_err(p, line,
           "unknown key '%s' in [param %s] (known: type, min, max, default, "
           "max_length)",
           key, pm->name);
}

static void md_line(struct md_parse *p, char *s, int line)
{
    s = md_trim(s);
    if (!*s || *s == '#' || *s == ';')
        return;
    if (*s == '[') {
        char *end = strchr(s, ']');
        if (!end || md_trim(end + 1)[0]) {
            md_err(p, line, "a section header looks like [name]");
            p->section = -1;
            return;
        }
        *end = '\0';
        char *name = md_trim(s + 1);
        if (!strncmp(name, "param", 5) && isspace((unsigned char)name[5])) {
            char *pn = md_trim(name + 5);
            p->section = -1;
            for (size_t i = 0; i < p->c->n_params; i++) {
                if (!strcmp(p->c->params[i].name, pn)) {
                    md_err(p, line, "[param %s] is defined twice", pn);
                    return;
                }
            }
            if (p->c->n_params >= MK_AGENT_MAX_PARAMS) {
                md_err(p, line, "too many [param] sections (at most %u)", MK_AGENT_MAX_PARAMS);
                return;
            }
            if (strlen(pn) >= MK_AGENT_PNAME_MAX || !*pn) {
                md_err(p, line, "parameter names are 1..%u bytes", MK_AGENT_PNAME_MAX - 1);
                return;
            }
            p->param = &p->c->params[p->c->n_params++];
            memset(p->param, 0, sizeof *p->param);
            memcpy(p->param->name, pn, strlen(pn) + 1);
            p->param->line = line;
            memset(p->pseen, 0, sizeof p->pseen);
            p->section = 1;
            return;
        }
        if (!md_section_known(name)) {
            md_err(p, line,
                   "unknown section [%s] (known: device, mqtt, topics, sample, "
                   "queue, state, status, params, param NAME, fota, log)",
                   name);
            p->section = -1;
            return;
        }
        snprintf(p->sec, sizeof p->sec, "%s", name);
        p->section = 0;
        return;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
        md_err(p, line, "expected 'key = value' or '[section]'");
        return;
    }
    *eq = '\0';
    char *key = md_trim(s), *v = md_trim(eq + 1);
    if (p->section == 1) {
        md_param_key(p, key, v, line); /* values there are JSON texts: quotes are theirs */
        return;
    }
    if (!md_unquote(v)) {
        md_err(p, line, "unbalanced quotes in the value of '%s'", key);
        return;
    }
    if (p->section < 0) {
        if (p->section == -1 && !p->sec[0])
            md_err(p, line, "'%s' is outside any section", key);
        return; /* the bad section was reported already */
    }
    for (size_t i = 0; i < MD_NKEYS; i++) {
        if (strcmp(md_keys[i].section, p->sec) || strcmp(md_keys[i].key, key))
            continue;
        if (p->seen[i]) {
            md_err(p, line, "%s.%s is given twice", p->sec, key);
            return;
        }
        p->seen[i] = true;
        md_set(p, &md_keys[i], v, line);
        return;
    }
    char known[512];
    size_t off = 0;
    for (size_t i = 0; i < MD_NKEYS && off < sizeof known - 40; i++)
        if (!strcmp(md_keys[i].section, p->sec))
            off += (size_t)snprintf(known + off, sizeof known - off, "%s%s", off ? ", " : "",
                                    md_keys[i].key);
    md_err(p, line, "unknown key '%s' in [%s] (known: %s)", key, p->sec, known);
}

/* Replaces {client_id} in t (cap bytes). */
static bool md_subst(char *t, size_t cap, const char *id)
{
    char out[MD_TOPIC_CAP * 2];
    size_t o = 0;
    for (const char *s = t; *s;) {
        if (!strncmp(s, "{client_id}", 11)) {
            size_t n = strlen(id);
            if (o + n >= sizeof out)
                return false;
            memcpy(out + o, id, n);
            o += n;
            s += 11;
        } else {
            if (o + 1 >= sizeof out)
                return false;
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    if (o >= cap)
        return false;
    memcpy(t, out, o + 1);
    return true;
}

static void md_check(struct md_parse *p)
{
    struct md_config *c = p->c;
    if (!c->port[0])
        md_err(p, 0, "device.port is required");
    if (!c->url[0]) {
        md_err(p, 0, "mqtt.url is required");
    } else {
        const char *host;
        size_t hl;
        uint16_t port;
        bool tls;
        if (mk_mqtt_parse_url(c->url, &host, &hl, &port, &tls) != MK_OK)
            md_err(p, 0, "mqtt.url: '%s' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", c->url);
        else if (!tls && (c->cafile[0] || c->certfile[0]))
            md_err(p, 0, "mqtt.cafile/certfile need an mqtts:// url");
    }
    if (!c->client_id[0])
        md_err(p, 0, "mqtt.client_id is required");
    for (const char *s = c->client_id; *s; s++)
        if (*s == '"' || (unsigned char)*s < 0x20 || *s == '+' || *s == '#' || *s == '/') {
            md_err(p, 0, "mqtt.client_id: no '\"', '/', '+', '#' or control characters");
            break;
        }
    if (c->password[0] && !c->username[0])
        md_err(p, 0, "mqtt.password needs mqtt.username");
    if (!c->certfile[0] != !c->keyfile[0])
        md_err(p, 0, "mqtt.certfile and mqtt.keyfile go together");
    if (c->reconnect_max_ms < 1000 || c->reconnect_max_ms > 3600000)
        md_err(p, 0, "mqtt.reconnect_max must be 1 s .. 1 h");
    if (c->keepalive_ms < 1000 || c->keepalive_ms > 64800000)
        md_err(p, 0, "mqtt.keepalive must be 1 s .. 18 h");
    struct {
        const char *name;
        char *t;
    } topics[] = {{"telemetry", c->t_telemetry},
                  {"parameters", c->t_params},
                  {"parameter_replies", c->t_replies},
                  {"status", c->t_status},
                  {"jobs", c->t_jobs},
                  {"job_results", c->t_results}};
    for (size_t i = 0; i < 6; i++) {
        if (!md_subst(topics[i].t, MD_TOPIC_CAP, c->client_id))
            md_err(p, 0, "topics.%s is too long", topics[i].name);
        else if (!topics[i].t[0] || strpbrk(topics[i].t, "+#"))
            md_err(p, 0, "topics.%s must be a topic name without wildcards", topics[i].name);
    }
    c->source_kind = !strcmp(c->source, "command") ? MD_SRC_COMMAND
                     : !strcmp(c->source, "fifo")  ? MD_SRC_FIFO
                     : !strcmp(c->source, "file")  ? MD_SRC_FILE
                                                   : MD_SRC_SYNTHETIC;
    if (c->source_kind == MD_SRC_COMMAND && !c->command[0])
        md_err(p, 0, "sample.source = command needs sample.command");
    if ((c->source_kind == MD_SRC_FIFO || c->source_kind == MD_SRC_FILE) && !c->path[0])
        md_err(p, 0, "sample.source = %s needs sample.path", c->source);
    if ((c->source_kind == MD_SRC_COMMAND || c->source_kind == MD_SRC_SYNTHETIC) &&
        c->interval_ms == 0)
        md_err(p, 0, "sample.interval must be above 0");
    if (c->interval_ms > UINT32_MAX)
        md_err(p, 0, "sample.interval is too long (at most 49 days)");
    if (c->require_signature && !c->public_key[0])
        md_err(p, 0, "fota.require_signature needs fota.public_key");
    if (!c->state_dir[0])
        md_err(p, 0, "state.dir must not be empty");
    if (!c->queue_path[0] && snprintf(c->queue_path, sizeof c->queue_path, "%s/queue.log",
                                      c->state_dir) >= (int)sizeof c->queue_path)
        md_err(p, 0, "state.dir is too long");
    if (!c->journal_dir[0] && snprintf(c->journal_dir, sizeof c->journal_dir, "%s/fota",
                                       c->state_dir) >= (int)sizeof c->journal_dir)
        md_err(p, 0, "state.dir is too long");
    for (size_t i = 0; i < c->n_params; i++)
        if (!c->params[i].type[0])
            md_err(p, 0, "[param %s] needs a type", c->params[i].name);
    static const char *const levels[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(c->level, levels[i]))
            c->log_level = i;
}

enum mk_err md_config_load(struct md_config *c, const char *path, FILE *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->file, sizeof c->file, "%s", path);
    struct md_parse p = {.c = c, .file = path, .err = err, .section = -1};
    for (size_t i = 0; i < MD_NKEYS; i++)
        if (md_keys[i].def)
            md_set(&p, &md_keys[i], md_keys[i].def, 0);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
        return MK_E_CONFIG;
    }
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) >= 0)
        md_line(&p, line, ++n);
    free(line);
    fclose(f);
    if (p.errors == 0)
        md_check(&p);
    if (p.errors > 30)
        fprintf(err, "%s: ... %d errors in all\n", path, p.errors);
    return p.errors ? MK_E_CONFIG : MK_OK;
}

void md_config_params(const struct md_config *c, struct mk_agent_param_def *defs)
{
    for (size_t i = 0; i < c->n_params; i++) {
        const struct md_param *pm = &c->params[i];
        struct mk_agent_param_def *d = &defs[i];
        memset(d, 0, sizeof *d);
        d->name = pm->name;
        d->type = !strcmp(pm->type, "int")      ? MK_AGENT_PT_INT
                  : !strcmp(pm->type, "number") ? MK_AGENT_PT_NUMBER
                  : !strcmp(pm->type, "bool")   ? MK_AGENT_PT_BOOL
                                                : MK_AGENT_PT_STRING;
        d->min = pm->has_min ? pm->min : NULL;
        d->max = pm->has_max ? pm->max : NULL;
        d->def = pm->has_def ? pm->def : NULL;
        d->max_len = (size_t)pm->max_length;
    }
}

/* Word-wraps text at width columns with indent. */
static void md_wrap(FILE *out, const char *text, int indent, int width)
{
    int col = indent;
    fprintf(out, "%*s", indent, "");
    for (const char *s = text; *s;) {
        const char *sp = strchr(s, ' ');
        int n = sp ? (int)(sp - s) : (int)strlen(s);
        if (col > indent && col + 1 + n > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", n, s);
        col += n;
        s += n;
        while (*s == ' ')
            s++;
    }
    fputc('\n', out);
}

void md_config_help(FILE *out)
{
    const char *sec = "";
    for (size_t i = 0; i < MD_NKEYS; i++) {
        const struct md_key *k = &md_keys[i];
        if (strcmp(sec, k->section)) {
            sec = k->section;
            fprintf(out, "\n  [%s]\n", sec);
        }
        fprintf(out, "    %s = ", k->key);
        if (k->kind == K_ENUM)
            fprintf(out, "%s", k->choices);
        else
            fprintf(out, "%s",
                    k->kind == K_DUR    ? "DURATION"
                    : k->kind == K_SIZE ? "SIZE"
                    : k->kind == K_INT  ? "NUMBER"
                    : k->kind == K_BOOL ? "true|false"
                                        : "TEXT");
        if (k->def)
            fprintf(out, "   (default %s)", k->def);
        fputc('\n', out);
        md_wrap(out, k->help, 8, 88);
    }
    fprintf(out, "\n  [param NAME]   one section per parameter the device accepts\n");
    for (int i = 0; i < 5; i++) {
        fprintf(out, "    %s\n", md_param_keys[i][0]);
        md_wrap(out, md_param_keys[i][1], 8, 88);
    }
}

void md_config_print(const struct md_config *c, FILE *out)
{
    const char *sec = "";
    for (size_t i = 0; i < MD_NKEYS; i++) {
        const struct md_key *k = &md_keys[i];
        const char *field = (const char *)c + k->off;
        if (strcmp(sec, k->section)) {
            sec = k->section;
            fprintf(out, "[%s]\n", sec);
        }
        fprintf(out, "%s = ", k->key);
        switch (k->kind) {
        case K_STR:
        case K_ENUM:
            fprintf(out, "%s", !strcmp(k->key, "password") && *field ? "(set)" : field);
            break;
        case K_DUR:
            fprintf(out, "%llums", (unsigned long long)*(const uint64_t *)(const void *)field);
            break;
        case K_SIZE:
            fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)(const void *)field);
            break;
        case K_INT:
            fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)(const void *)field);
            break;
        case K_BOOL:
            fprintf(out, "%s", *(const bool *)(const void *)field ? "true" : "false");
            break;
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < c->n_params; i++) {
        const struct md_param *pm = &c->params[i];
        fprintf(out, "[param %s]\ntype = %s\n", pm->name, pm->type);
        if (pm->has_min)
            fprintf(out, "min = %s\n", pm->min);
        if (pm->has_max)
            fprintf(out, "max = %s\n", pm->max);
        if (pm->has_def)
            fprintf(out, "default = %s\n", pm->def);
        if (pm->max_length)
            fprintf(out, "max_length = %ld\n", pm->max_length);
    }
}
