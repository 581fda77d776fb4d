/*
 * The vendor-neutral MQTT client: option checks against the firmware's capabilities,
 * the subscription list, state reports, error texts and the recovery loop. The AT
 * dialects live in src/drivers/simcom/ (see mqtt_int.h).
 */
#include <string.h>

#include "modemkit/mqtt.h"
#include "modemkit/str.h"
#include "mqtt_int.h"

#define MK_MQTT_DEF_BACKOFF_MIN_MS 1000u
#define MK_MQTT_DEF_BACKOFF_MAX_MS 60000u
#define MK_MQTT_DEF_OP_TIMEOUT_MS  130000u /* S1 §16: 120 000 ms max response, + margin */
#define MK_MQTT_DEF_BUSY_MS        15000u

/* ---- the CMQTT <err> table (S1 §16.3.1 pp.365-366; 35 from S11 §18.3.1) ---- */

static const struct mk_mqtt_code mk_mqtt_codes[] = {
    {0, MK_OK, "operation succeeded", NULL},
    {1, MK_E_MQTT_FAILED, "failed", "retry; if it keeps failing, restart the MQTT service"},
    {2, MK_E_MQTT_PARAM, "bad UTF-8 string",
     "the module checks topics and payloads for UTF-8 and this firmware did not let the "
     "check be turned off (AT+CMQTTCFG=\"checkUTF8\"); send UTF-8 text"},
    {3, MK_E_NET, "socket connect failed",
     "check the broker host and port and that the broker is running and reachable from the "
     "module's network"},
    {4, MK_E_NET, "socket create failed", "restart the MQTT service or the module"},
    {5, MK_E_NET, "socket close failed", NULL},
    {6, MK_E_NET, "message receive failed", "the connection is unreliable; reconnect"},
    {7, MK_E_NET, "network open failed",
     "the module could not activate its data connection: check SIM, signal and APN "
     "(net status / net up --apn)"},
    {8, MK_E_NET, "network close failed", NULL},
    {9, MK_E_MQTT_STATE, "network not opened (MQTT service not started)",
     "start the service (AT+CMQTTSTART) first"},
    {10, MK_E_MQTT_PARAM, "client index error", "use client 0 or 1"},
    {11, MK_E_MQTT_NOT_CONNECTED, "no connection",
     "the client is not connected to the broker (any more): connect again"},
    {12, MK_E_MQTT_PARAM, "invalid parameter", NULL},
    {13, MK_E_MQTT_PARAM, "operation not supported", NULL},
    {14, MK_E_MQTT_BUSY, "client is busy",
     "an earlier operation has not completed yet: wait for its result URC before the next "
     "command"},
    {15, MK_E_MQTT_FAILED, "require connection failed",
     "the broker did not complete the MQTT connection: check host, port and TLS settings; "
     "on some firmware only an update cures it"},
    {16, MK_E_NET, "socket sending failed", "the connection is unreliable; reconnect"},
    {17, MK_E_TIMEOUT, "timeout", "the broker did not answer in time; check the network"},
    {18, MK_E_MQTT_PARAM, "topic is empty", "set a topic before publishing or subscribing"},
    {19, MK_E_MQTT_STATE, "client is in use", "release the client (disconnect) first"},
    {20, MK_E_MQTT_STATE, "client not acquired", "acquire the client (AT+CMQTTACCQ) first"},
    {21, MK_E_MQTT_STATE, "client not released", "release the client (AT+CMQTTREL) first"},
    {22, MK_E_MQTT_PARAM, "length out of range",
     "topics are 1..1024 bytes, payloads up to 10240 bytes, client ids 1..128 bytes"},
    {23, MK_E_MQTT_STATE, "network is already opened (MQTT service already started)", NULL},
    {24, MK_E_MQTT_FAILED, "packet failed", NULL},
    {25, MK_E_DNS, "DNS error", "check the broker host name and the module's DNS/APN"},
    {26, MK_E_NET, "socket closed by the server",
     "the broker closed the connection: check its log (client id in use, TLS to a plain "
     "port, protocol version)"},
    {27, MK_E_MQTT_REFUSED_PROTOCOL, "connection refused: unacceptable protocol version",
     "choose the other MQTT version (3.1 or 3.1.1) the broker accepts"},
    {28, MK_E_MQTT_REFUSED_ID, "connection refused: identifier rejected", "use another client id"},
    {29, MK_E_MQTT_REFUSED_UNAVAILABLE, "connection refused: server unavailable", "retry later"},
    {30, MK_E_MQTT_REFUSED_AUTH, "connection refused: bad user name or password",
     "check the user name and password"},
    {31, MK_E_MQTT_REFUSED_NOT_AUTHORIZED, "connection refused: not authorized",
     "the broker does not allow this client: check credentials, client certificate and the "
     "broker's access rules"},
    {32, MK_E_TLS_HANDSHAKE, "TLS handshake failed",
     "check that the CA file signed the broker's certificate, the client certificate and key "
     "(authmode 2), the TLS version, and that the port speaks TLS"},
    {33, MK_E_TLS_NO_CERT, "certificate not set",
     "upload the certificate files (cert put) and bind them (CA for authmode 1, CA + "
     "certificate + key for authmode 2)"},
    {34, MK_E_TLS_SESSION, "open SSL session failed",
     "a configured certificate or key cannot be used: check the PEM files and that the key "
     "matches the certificate"},
    {35, MK_E_NET, "disconnect from server failed", NULL},
};

const struct mk_mqtt_code *mk_mqtt_code_info(int code)
{
    if (code < 0 || (size_t)code >= sizeof mk_mqtt_codes / sizeof mk_mqtt_codes[0])
        return NULL;
    return &mk_mqtt_codes[code];
}

/* ---- small helpers ---- */

uint64_t mk_mqtt_now(const struct mk_mqtt_client *c)
{
    return mk_clock_now(c->cfg.chan->clock);
}

uint32_t mk_mqtt_op_timeout(const struct mk_mqtt_client *c)
{
    return c->cfg.op_timeout_ms ? c->cfg.op_timeout_ms : MK_MQTT_DEF_OP_TIMEOUT_MS;
}

uint32_t mk_mqtt_cmd_timeout(const struct mk_mqtt_client *c)
{
    return c->cfg.cmd_timeout_ms ? c->cfg.cmd_timeout_ms : 10000u;
}

uint32_t mk_mqtt_busy_window(const struct mk_mqtt_client *c)
{
    return c->cfg.busy_retry_ms ? c->cfg.busy_retry_ms : MK_MQTT_DEF_BUSY_MS;
}

const char *mk_mqtt_fw(const struct mk_mqtt_client *c)
{
    return (c->cfg.id && c->cfg.id->revision[0]) ? c->cfg.id->revision : "this firmware";
}

bool mk_mqtt_at_string_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b == '"' || b < 0x20 || b == 0x7f)
            return false;
    }
    return true;
}

void mk_mqtt_err_begin(struct mk_mqtt_client *c, struct mk_sb *sb, enum mk_err err, int code,
                       const char *op)
{
    c->last.err = err;
    c->last.code = code;
    mk_strlcpy(c->last.op, op, sizeof c->last.op);
    mk_sb_init(sb, c->last.text, sizeof c->last.text);
    mk_sb_puts(sb, op);
    mk_sb_puts(sb, ": ");
}

static void mk_mqtt_ok(struct mk_mqtt_client *c)
{
    c->last.err = MK_OK;
    c->last.code = -1;
    c->last.op[0] = '\0';
    c->last.text[0] = '\0';
}

static enum mk_err mk_mqtt_fail(struct mk_mqtt_client *c, enum mk_err err, const char *op,
                                const char *text)
{
    struct mk_sb sb;
    mk_mqtt_err_begin(c, &sb, err, -1, op);
    mk_sb_puts(&sb, text);
    return err;
}

enum mk_err mk_mqtt_fail_code(struct mk_mqtt_client *c, const char *op, int code)
{
    const struct mk_mqtt_code *k = mk_mqtt_code_info(code);
    enum mk_err err = k ? k->err : MK_E_MQTT_FAILED;
    if (err == MK_OK)
        err = MK_E_MQTT_FAILED; /* an <err> 0 on a failed command: still a failure */
    struct mk_sb sb;
    mk_mqtt_err_begin(c, &sb, err, code, op);
    mk_sb_puts(&sb, "module error ");
    mk_sb_puti(&sb, code);
    mk_sb_puts(&sb, ": ");
    mk_sb_puts(&sb, k ? k->meaning : "unknown error number");
    if (code >= 27 && code <= 31) {
        mk_sb_puts(&sb, " (CONNACK ");
        mk_sb_puti(&sb, code - 26);
        mk_sb_puts(&sb, ")");
    }
    if (k && k->remedy) {
        mk_sb_puts(&sb, " - ");
        mk_sb_puts(&sb, k->remedy);
    }
    return err;
}

enum mk_err mk_mqtt_fail_exec(struct mk_mqtt_client *c, const char *op, enum mk_err e,
                              const struct mk_at_result *res, uint32_t waited_ms)
{
    struct mk_sb sb;
    mk_mqtt_err_begin(c, &sb, e, -1, op);
    if (e == MK_E_TIMEOUT && res && res->timeout_in_urc) {
        mk_sb_puts(&sb, "the module accepted the command (OK) but its result did not arrive "
                        "within ");
        mk_sb_putu(&sb, waited_ms / 1000u);
        mk_sb_puts(&sb, " s");
    } else if (e == MK_E_TIMEOUT) {
        mk_sb_puts(&sb, "no answer from the module within ");
        mk_sb_putu(&sb, waited_ms);
        mk_sb_puts(&sb, " ms");
    } else if (e == MK_E_HANGUP || e == MK_E_IO) {
        mk_sb_puts(&sb, "the module's port went away (the module rebooted or was unplugged)");
    } else if (e == MK_E_AT_CME && res) {
        mk_sb_puts(&sb, "the module answered +CME ERROR: ");
        if (res->cme >= 0)
            mk_sb_puti(&sb, res->cme);
        else
            mk_sb_puts(&sb, res->cme_text);
    } else if (e == MK_E_AT_ERROR) {
        mk_sb_puts(&sb, "the module answered ERROR (it gives no reason)");
    } else {
        mk_sb_puts(&sb, mk_strerror(e));
    }
    return e;
}

enum mk_err mk_mqtt_pause(struct mk_mqtt_client *c, uint32_t ms)
{
    uint64_t deadline = mk_mqtt_now(c) + ms;
    for (;;) {
        uint64_t now = mk_mqtt_now(c);
        if (now >= deadline)
            return MK_OK;
        uint64_t left = deadline - now;
        enum mk_err e = mk_at_pump(c->cfg.chan, left > UINT32_MAX ? UINT32_MAX : (uint32_t)left);
        if (e != MK_OK)
            return e;
    }
}

void mk_mqtt_note_lost(struct mk_mqtt_client *c, const char *line, size_t len)
{
    c->events |= MK_MQTT_EV_LOST;
    if (len >= sizeof c->lost_line)
        len = sizeof c->lost_line - 1;
    memcpy(c->lost_line, line, len);
    c->lost_line[len] = '\0';
}

void mk_mqtt_deliver(struct mk_mqtt_client *c, size_t topic_len, size_t payload_len, int qos,
                     int retained)
{
    c->cfg.topic_buf[topic_len] = '\0';
    c->stats.rx_messages++;
    if (!c->cfg.on_message)
        return;
    struct mk_mqtt_msg m = {c->cfg.topic_buf, topic_len, c->cfg.payload_buf,
                            payload_len,      qos,       retained};
    c->cfg.on_message(c->cfg.user, &m);
}

static void mk_mqtt_set_state(struct mk_mqtt_client *c, enum mk_mqtt_state s, enum mk_err err,
                              const char *detail)
{
    enum mk_mqtt_state old = c->state;
    c->state = s;
    if (c->cfg.on_state)
        c->cfg.on_state(c->cfg.user, old, s, err, detail ? detail : "");
}

const char *mk_mqtt_state_name(enum mk_mqtt_state s)
{
    switch (s) {
    case MK_MQTT_IDLE:
        return "idle";
    case MK_MQTT_CONNECTING:
        return "connecting";
    case MK_MQTT_CONNECTED:
        return "connected";
    case MK_MQTT_RECOVERING:
        return "recovering";
    case MK_MQTT_FAILED:
        return "failed";
    }
    return "?";
}

enum mk_mqtt_state mk_mqtt_state(const struct mk_mqtt_client *c)
{
    return c->state;
}

const struct mk_mqtt_error *mk_mqtt_last_error(const struct mk_mqtt_client *c)
{
    return &c->last;
}

const struct mk_mqtt_stats *mk_mqtt_stats(const struct mk_mqtt_client *c)
{
    return &c->stats;
}

const char *mk_mqtt_dialect(const struct mk_mqtt_client *c)
{
    return c->drv ? c->drv->name : "none";
}

/* ---- URL ---- */

enum mk_err mk_mqtt_parse_url(const char *url, const char **host, size_t *host_len, uint16_t *port,
                              bool *tls)
{
    static const struct {
        const char *scheme;
        bool tls;
        uint16_t port;
    } schemes[] = {{"mqtt://", false, 1883}, {"tcp://", false, 1883}, {"mqtts://", true, 8883}};
    if (!url)
        return MK_E_FORMAT;
    size_t len = strlen(url);
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (!mk_starts_with(url, len, schemes[i].scheme))
            continue;
        const char *h = url + strlen(schemes[i].scheme);
        const char *end = h + strlen(h);
        if (end > h && end[-1] == '/')
            end--;
        const char *colon = NULL;
        for (const char *p = h; p < end; p++)
            if (*p == ':')
                colon = p;
        *port = schemes[i].port;
        if (colon) {
            uint64_t v;
            if (mk_parse_u64(colon + 1, (size_t)(end - colon - 1), &v) != MK_OK || v < 1 ||
                v > 65535)
                return MK_E_FORMAT;
            *port = (uint16_t)v;
            end = colon;
        }
        if (end == h || !mk_mqtt_at_string_ok(h, (size_t)(end - h)))
            return MK_E_FORMAT;
        for (const char *p = h; p < end; p++)
            if (*p == '/' || *p == ' ')
                return MK_E_FORMAT;
        *host = h;
        *host_len = (size_t)(end - h);
        *tls = schemes[i].tls;
        return MK_OK;
    }
    return MK_E_FORMAT;
}

/* ---- the subscription list: records <qos:1><topic><NUL> ---- */

static size_t mk_mqtt_sub_find(const struct mk_mqtt_client *c, const char *topic)
{
    size_t off = 0;
    while (off < c->sub_len) {
        const char *t = (const char *)c->cfg.sub_buf + off + 1;
        size_t n = strlen(t);
        if (strcmp(t, topic) == 0)
            return off;
        off += n + 2;
    }
    return SIZE_MAX;
}

static void mk_mqtt_sub_remove(struct mk_mqtt_client *c, const char *topic)
{
    size_t off = mk_mqtt_sub_find(c, topic);
    if (off == SIZE_MAX)
        return;
    size_t n = strlen((const char *)c->cfg.sub_buf + off + 1) + 2;
    memmove(c->cfg.sub_buf + off, c->cfg.sub_buf + off + n, c->sub_len - off - n);
    c->sub_len -= n;
}

/* Bytes the list would need after adding topics (existing ones are replaced). */
static size_t mk_mqtt_sub_need(const struct mk_mqtt_client *c, const char *const *topics, size_t n)
{
    size_t need = c->sub_len;
    for (size_t i = 0; i < n; i++) {
        size_t off = mk_mqtt_sub_find(c, topics[i]);
        if (off == SIZE_MAX)
            need += strlen(topics[i]) + 2;
    }
    return need;
}

static void mk_mqtt_sub_add(struct mk_mqtt_client *c, const char *topic, int qos)
{
    mk_mqtt_sub_remove(c, topic);
    size_t n = strlen(topic);
    c->cfg.sub_buf[c->sub_len] = (uint8_t)qos;
    memcpy(c->cfg.sub_buf + c->sub_len + 1, topic, n + 1);
    c->sub_len += n + 2;
}

/*
 * Subscribes the stored list again (after a reconnect), in batches of one QoS. The list
 * is not changed.
 */
static enum mk_err mk_mqtt_resubscribe(struct mk_mqtt_client *c)
{
    enum { BATCH = 8 };
    for (int qos = 0; qos <= 2; qos++) {
        const char *batch[BATCH];
        size_t nb = 0, off = 0;
        while (off <= c->sub_len) {
            bool end = off == c->sub_len;
            if (!end) {
                const char *t = (const char *)c->cfg.sub_buf + off + 1;
                if (c->cfg.sub_buf[off] == qos)
                    batch[nb++] = t;
                off += strlen(t) + 2;
            }
            if (nb && (nb == BATCH || end)) {
                enum mk_err e = c->drv->subscribe(c, batch, nb, qos);
                if (e != MK_OK)
                    return e;
                nb = 0;
            }
            if (end)
                break;
        }
    }
    return MK_OK;
}

static size_t mk_mqtt_sub_count(const struct mk_mqtt_client *c)
{
    size_t n = 0;
    for (size_t off = 0; off < c->sub_len; n++)
        off += strlen((const char *)c->cfg.sub_buf + off + 1) + 2;
    return n;
}

/* ---- init ---- */

void mk_mqtt_opts_init(struct mk_mqtt_connect_opts *o)
{
    memset(o, 0, sizeof *o);
    o->keepalive_s = 60;
    o->clean_session = true;
    o->authmode = -1;
    o->tls_version = -1;
}

enum mk_err mk_mqtt_init(struct mk_mqtt_client *c, const struct mk_mqtt_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->last.code = -1;
    c->rng = cfg->rand_seed ? cfg->rand_seed : 0x9E3779B97F4A7C15ull;
    if (!cfg->chan || !cfg->caps || !cfg->topic_buf || cfg->topic_cap < 2 || !cfg->payload_buf ||
        cfg->client_index > 1 || (cfg->sub_cap && !cfg->sub_buf))
        return mk_mqtt_fail(c, MK_E_INVAL, "init", "incomplete client configuration");
    uint32_t bits = cfg->caps->bits;
    if (bits & MK_CAP_MQTT_CMQTT)
        c->drv = &mk_mqtt_drv_cmqtt;
    else if (bits & MK_CAP_MQTT_SM)
        c->drv = &mk_mqtt_drv_sm;
    else {
        struct mk_sb sb;
        mk_mqtt_err_begin(c, &sb, MK_E_UNSUPPORTED, -1, "init");
        mk_sb_puts(&sb, "this module (");
        mk_sb_puts(&sb, cfg->id ? cfg->id->model : "unknown model");
        mk_sb_puts(&sb, ", ");
        mk_sb_puts(&sb, mk_mqtt_fw(c));
        mk_sb_puts(&sb, ") has no MQTT client that modemkit can drive (AT+CMQTT* or AT+SM*)");
        return MK_E_UNSUPPORTED;
    }
    c->drv->attach(c);
    enum mk_err e = mk_at_add_urcs(&cfg->chan->at, c->urcs, c->n_urcs);
    if (e != MK_OK)
        return mk_mqtt_fail(c, e, "init", "no room for another URC table on the channel");
    return MK_OK;
}

void mk_mqtt_release(struct mk_mqtt_client *c)
{
    if (c->cfg.chan)
        mk_at_remove_urcs(&c->cfg.chan->at, c->urcs);
}

/* ---- what the firmware can do, checked before anything is sent ---- */

/* "firmware X cannot ...: <what>. Fix: <remedy>" with the quirk's words when known. */
static enum mk_err mk_mqtt_refuse(struct mk_mqtt_client *c, const char *cannot, uint32_t cap)
{
    struct mk_sb sb;
    const struct mk_quirk *q = c->cfg.caps->quirk;
    mk_mqtt_err_begin(c, &sb, MK_E_FW_UNSUPPORTED, -1, "CONNECT");
    mk_sb_puts(&sb, "firmware ");
    mk_sb_puts(&sb, mk_mqtt_fw(c));
    if (c->cfg.id && c->cfg.id->model[0]) {
        mk_sb_puts(&sb, " (");
        mk_sb_puts(&sb, c->cfg.id->model);
        mk_sb_puts(&sb, ")");
    }
    mk_sb_puts(&sb, " cannot ");
    mk_sb_puts(&sb, cannot);
    if (q && (q->lacks & cap)) {
        mk_sb_puts(&sb, ": ");
        mk_sb_puts(&sb, q->what);
        mk_sb_puts(&sb, ". Fix: ");
        mk_sb_puts(&sb, q->remedy);
    } else {
        mk_sb_puts(&sb, ". Fix: update the module firmware (see 'modemctl fota')");
    }
    return MK_E_FW_UNSUPPORTED;
}

enum mk_err mk_mqtt_check_opts(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *o)
{
    if (!c->drv)
        return c->last.err ? c->last.err : MK_E_STATE;
    const struct mk_modem_caps *caps = c->cfg.caps;
    const char *host;
    size_t host_len;
    uint16_t port;
    bool tls;
    if (mk_mqtt_parse_url(o->url, &host, &host_len, &port, &tls) != MK_OK)
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "broker URL must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]");
    size_t idlen = o->client_id ? strlen(o->client_id) : 0;
    if (idlen < 1 || idlen > 128 || !mk_mqtt_at_string_ok(o->client_id, idlen))
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "client id must be 1..128 bytes without '\"' or control characters");
    if (o->pass && !o->user)
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT", "a password needs a user name");
    if ((o->user && (!o->user[0] || strlen(o->user) > 256 ||
                     !mk_mqtt_at_string_ok(o->user, strlen(o->user)))) ||
        (o->pass &&
         (!o->pass[0] || strlen(o->pass) > 256 || !mk_mqtt_at_string_ok(o->pass, strlen(o->pass)))))
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "user name and password must be 1..256 bytes without '\"' or "
                            "control characters (the module takes them as quoted AT strings)");
    if (o->version != 0 && o->version != 3 && o->version != 4)
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT", "MQTT version must be 3 (3.1) or 4 (3.1.1)");
    if (o->will && (!o->will->topic || !o->will->topic[0] || strlen(o->will->topic) > 1024 ||
                    o->will->qos < 0 || o->will->qos > 2 || o->will->len > 1024))
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "will topic must be 1..1024 bytes, will message up to 1024 bytes, "
                            "QoS 0..2");
    if (!tls && (o->ca_file || o->cert_file || o->key_file || o->tls_version >= 0))
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "certificate files and TLS version need an mqtts:// broker URL");
    if (!o->cert_file != !o->key_file)
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "a client certificate needs its key and the other way round");
    if (o->authmode > 3 || (o->authmode == 1 && !o->ca_file) ||
        (o->authmode == 2 && (!o->ca_file || !o->cert_file)) || (o->authmode == 3 && !o->cert_file))
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "authmode 1 needs a CA file, 2 a CA file + certificate + key, 3 a "
                            "certificate + key");
    if (o->tls_version > 4)
        return mk_mqtt_fail(c, MK_E_INVAL, "CONNECT",
                            "TLS version must be 0 (SSL 3.0), 1 (TLS 1.0), 2 (TLS 1.1), 3 (TLS "
                            "1.2) or 4 (all)");

    /* The dialect's own limits (they explain themselves better than a missing bit). */
    enum mk_err e = c->drv->check(c, o);
    if (e != MK_OK)
        return e;

    /* What this firmware cannot do: refused here, before a single byte is sent. */
    if (o->user && !(caps->bits & MK_CAP_MQTT_CREDENTIALS))
        return mk_mqtt_refuse(c, "send an MQTT user name or password", MK_CAP_MQTT_CREDENTIALS);
    if (o->version && !(caps->bits & MK_CAP_MQTT_VERSION) &&
        o->version != caps->mqtt_version_default)
        return mk_mqtt_refuse(c,
                              o->version == 4 ? "speak MQTT 3.1.1 (no version choice)"
                                              : "speak MQTT 3.1 (no version choice)",
                              MK_CAP_MQTT_VERSION);
    if (tls && !(caps->bits & MK_CAP_TLS))
        return mk_mqtt_refuse(c, "do TLS itself (no AT+CSSLCFG contexts known)", MK_CAP_TLS);
    if (o->tls_version >= 0 && caps->tls_version_max >= 0 &&
        o->tls_version > caps->tls_version_max) {
        struct mk_sb sb;
        mk_mqtt_err_begin(c, &sb, MK_E_FW_UNSUPPORTED, -1, "CONNECT");
        mk_sb_puts(&sb, "firmware ");
        mk_sb_puts(&sb, mk_mqtt_fw(c));
        mk_sb_puts(&sb, " accepts TLS versions (AT+CSSLCFG \"sslversion\") 0..");
        mk_sb_puti(&sb, caps->tls_version_max);
        mk_sb_puts(&sb, " only, not ");
        mk_sb_puti(&sb, o->tls_version);
        mk_sb_puts(&sb, "; leave the TLS version out to use the module's default, or update the "
                        "firmware (see 'modemctl fota')");
        return MK_E_FW_UNSUPPORTED;
    }
    if (o->tls_version == 4 && !(caps->bits & MK_CAP_TLS_VERSION_ALL))
        return mk_mqtt_refuse(c, "accept TLS version 4 (\"all\")", MK_CAP_TLS_VERSION_ALL);
    return MK_OK;
}

/* ---- operations ---- */

static bool mk_mqtt_io_lost(enum mk_err e)
{
    return e == MK_E_HANGUP || e == MK_E_IO;
}

/* Errors that a retry with the same options cannot cure: recovery stops on them. */
static bool mk_mqtt_permanent(enum mk_err e)
{
    switch (e) {
    case MK_E_FW_UNSUPPORTED:
    case MK_E_UNSUPPORTED:
    case MK_E_INVAL:
    case MK_E_NOSPC:
    case MK_E_MQTT_PARAM:
    case MK_E_TLS_NO_CERT:
    case MK_E_TLS_SESSION:
    case MK_E_MQTT_REFUSED_PROTOCOL:
    case MK_E_MQTT_REFUSED_ID:
        return true;
    default:
        return false;
    }
}

static uint32_t mk_mqtt_rand(struct mk_mqtt_client *c)
{
    if (c->cfg.rand32)
        return c->cfg.rand32(c->cfg.user);
    /* xorshift64* */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (uint32_t)((c->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Pause before attempt n (0-based): min * 2^n capped at max, then uniformly in
 * [half, full] of it so that a fleet does not reconnect in lockstep. */
static uint32_t mk_mqtt_backoff(struct mk_mqtt_client *c, unsigned n)
{
    uint32_t lo = c->cfg.backoff_min_ms ? c->cfg.backoff_min_ms : MK_MQTT_DEF_BACKOFF_MIN_MS;
    uint32_t hi = c->cfg.backoff_max_ms ? c->cfg.backoff_max_ms : MK_MQTT_DEF_BACKOFF_MAX_MS;
    if (hi < lo)
        hi = lo;
    uint64_t d = lo;
    for (unsigned i = 0; i < n && d < hi; i++)
        d *= 2;
    if (d > hi)
        d = hi;
    uint32_t half = (uint32_t)(d / 2);
    return half + mk_mqtt_rand(c) % ((uint32_t)d - half + 1);
}

/* The connection is gone (URC, 11, hang-up): report it and schedule the first attempt. */
static void mk_mqtt_lost(struct mk_mqtt_client *c, enum mk_err err, const char *why)
{
    c->attempt = 0;
    /* after a hang-up the reopen callback waits for the module: no pause of our own */
    c->next_try_ms = mk_mqtt_now(c) + ((c->events & MK_MQTT_EV_HANGUP) ? 0 : mk_mqtt_backoff(c, 0));
    mk_mqtt_set_state(c, MK_MQTT_RECOVERING, err, why);
}

/* Classifies the result of an operation on a connected client. */
static void mk_mqtt_after_op(struct mk_mqtt_client *c, enum mk_err e)
{
    if (c->state != MK_MQTT_CONNECTED)
        return;
    if (mk_mqtt_io_lost(e)) {
        c->events |= MK_MQTT_EV_HANGUP;
        c->started = c->acquired = false;
        mk_mqtt_lost(c, e, c->last.text);
    } else if (e == MK_E_MQTT_NOT_CONNECTED) {
        mk_mqtt_lost(c, e, c->last.text);
    }
}

/*
 * After a reboot the module answers AT before its SIM is ready, and MQTT commands fail
 * with "+CME ERROR: SIM busy" until "+CPIN: READY" (S1 §1; T-SIM7600X #49 log).
 */
enum mk_err mk_mqtt_wait_sim(struct mk_mqtt_client *c)
{
    uint32_t limit = c->cfg.ready_timeout_ms ? c->cfg.ready_timeout_ms : 30000u;
    uint64_t deadline = mk_mqtt_now(c) + limit;
    for (;;) {
        char resp[64];
        struct mk_at_result r;
        enum mk_err e =
            mk_at_simple(c->cfg.chan, "AT+CPIN?", mk_mqtt_cmd_timeout(c), resp, sizeof resp, &r);
        if (e == MK_OK && strstr(resp, "READY"))
            return MK_OK;
        if (mk_mqtt_io_lost(e))
            return mk_mqtt_fail_exec(c, "CPIN", e, &r, 5000);
        if (mk_mqtt_now(c) >= deadline) {
            if (e == MK_OK)
                return mk_mqtt_fail(c, MK_E_STATE, "CPIN",
                                    "the SIM is not ready after the module rebooted (a PIN?)");
            return mk_mqtt_fail_exec(c, "CPIN", e, &r, limit);
        }
        e = mk_mqtt_pause(c, 500);
        if (e != MK_OK)
            return mk_mqtt_fail_exec(c, "CPIN", e, NULL, 0);
    }
}

/* One reconnect: reopen after a reboot, the connect sequence, the subscriptions. */
static enum mk_err mk_mqtt_reconnect(struct mk_mqtt_client *c)
{
    enum mk_err e;
    if (c->events & MK_MQTT_EV_HANGUP) {
        c->started = c->acquired = false;
        if (!c->cfg.reopen) {
            c->reopen_failed = true; /* nothing can bring the port back: give up */
            return mk_mqtt_fail(c, MK_E_HANGUP, "reconnect",
                                "the module's port went away and no reopen callback is set");
        }
        e = c->cfg.reopen(c->cfg.user);
        if (e != MK_OK) {
            /* the callback waited as long as the application allows: give up */
            struct mk_sb sb;
            mk_mqtt_err_begin(c, &sb, e, -1, "reopen");
            mk_sb_puts(&sb, "the module did not come back after its port went away (");
            mk_sb_puts(&sb, mk_strerror(e));
            mk_sb_puts(&sb, ")");
            c->reopen_failed = true;
            return e;
        }
        c->events &= ~MK_MQTT_EV_HANGUP;
        c->rx.phase = 0;
        e = mk_mqtt_wait_sim(c);
        if (e != MK_OK)
            return e;
    }
    c->events &= ~MK_MQTT_EV_LOST;
    e = c->drv->connect(c);
    if (e == MK_OK)
        e = mk_mqtt_resubscribe(c);
    if (mk_mqtt_io_lost(e)) {
        c->events |= MK_MQTT_EV_HANGUP;
        c->started = c->acquired = false;
    }
    return e;
}

/* A recovery attempt whose time has come. */
static void mk_mqtt_recover(struct mk_mqtt_client *c)
{
    enum mk_err e = mk_mqtt_reconnect(c);
    if (e == MK_OK && !(c->events & MK_MQTT_EV_LOST)) {
        c->attempt = 0;
        c->stats.reconnects++;
        mk_mqtt_ok(c);
        struct mk_sb sb;
        char detail[64];
        mk_sb_init(&sb, detail, sizeof detail);
        mk_sb_puts(&sb, "reconnected, ");
        mk_sb_putu(&sb, mk_mqtt_sub_count(c));
        mk_sb_puts(&sb, " subscription(s) renewed");
        mk_mqtt_set_state(c, MK_MQTT_CONNECTED, MK_OK, detail);
        return;
    }
    if (e == MK_OK) /* lost again while renewing the subscriptions */
        e = mk_mqtt_fail(c, MK_E_MQTT_NOT_CONNECTED, "reconnect", c->lost_line);
    if (mk_mqtt_permanent(e) || c->reopen_failed) {
        c->reopen_failed = false;
        mk_mqtt_set_state(c, MK_MQTT_FAILED, e, c->last.text);
        return;
    }
    c->attempt++;
    c->next_try_ms = mk_mqtt_now(c) + mk_mqtt_backoff(c, c->attempt);
    /* not a state change, but each failed attempt is reported (old == new) */
    mk_mqtt_set_state(c, MK_MQTT_RECOVERING, e, c->last.text);
}

/*
 * The module said "no connection" (11) to an operation of a connected client (seed 001:
 * "+CMQTTTOPIC: 0,11"): reconnect at once, and if that works, the caller repeats the
 * operation once.
 */
static bool mk_mqtt_reconnect_now(struct mk_mqtt_client *c, enum mk_err e)
{
    if (e != MK_E_MQTT_NOT_CONNECTED || c->state != MK_MQTT_CONNECTED)
        return false;
    mk_mqtt_lost(c, e, c->last.text);
    mk_mqtt_recover(c);
    return c->state == MK_MQTT_CONNECTED;
}

enum mk_err mk_mqtt_connect(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *opts)
{
    if (!c->drv)
        return c->last.err ? c->last.err : MK_E_STATE;
    if (c->state == MK_MQTT_CONNECTED || c->state == MK_MQTT_CONNECTING ||
        c->state == MK_MQTT_RECOVERING)
        return mk_mqtt_fail(c, MK_E_STATE, "CONNECT", "already connected (disconnect first)");
    enum mk_err e = mk_mqtt_check_opts(c, opts);
    if (e != MK_OK)
        return e;
    c->opts = opts;
    c->sub_len = 0;
    c->events = 0;
    c->lost_line[0] = '\0';
    mk_mqtt_set_state(c, MK_MQTT_CONNECTING, MK_OK, opts->url);
    e = c->drv->connect(c);
    if (e != MK_OK) {
        if (mk_mqtt_io_lost(e))
            c->started = c->acquired = false;
        mk_mqtt_set_state(c, MK_MQTT_IDLE, e, c->last.text);
        return e;
    }
    mk_mqtt_ok(c);
    mk_mqtt_set_state(c, MK_MQTT_CONNECTED, MK_OK, opts->url);
    return MK_OK;
}

static enum mk_err mk_mqtt_need_connected(struct mk_mqtt_client *c, const char *op)
{
    if (c->state == MK_MQTT_CONNECTED)
        return MK_OK;
    struct mk_sb sb;
    mk_mqtt_err_begin(c, &sb, MK_E_MQTT_NOT_CONNECTED, -1, op);
    mk_sb_puts(&sb, "the client is ");
    mk_sb_puts(&sb, mk_mqtt_state_name(c->state));
    if (c->state == MK_MQTT_RECOVERING && c->lost_line[0]) {
        mk_sb_puts(&sb, " (");
        mk_sb_puts(&sb, c->lost_line);
        mk_sb_puts(&sb, ")");
    }
    return MK_E_MQTT_NOT_CONNECTED;
}

enum mk_err mk_mqtt_publish(struct mk_mqtt_client *c, const char *topic, const uint8_t *payload,
                            size_t len, int qos, bool retain)
{
    enum mk_err e = mk_mqtt_need_connected(c, "publish");
    if (e != MK_OK)
        return e;
    size_t tl = topic ? strlen(topic) : 0;
    if (tl < 1 || tl > MK_MQTT_TOPIC_MAX || qos < 0 || qos > 2 || (len && !payload))
        return mk_mqtt_fail(c, MK_E_INVAL, "publish", "topic must be 1..1024 bytes, QoS 0..2");
    e = c->drv->publish(c, topic, tl, payload, len, qos, retain);
    if (mk_mqtt_reconnect_now(c, e))
        e = c->drv->publish(c, topic, tl, payload, len, qos, retain);
    mk_mqtt_after_op(c, e);
    if (e == MK_OK)
        mk_mqtt_ok(c);
    return e;
}

static enum mk_err mk_mqtt_check_topics(struct mk_mqtt_client *c, const char *op,
                                        const char *const *topics, size_t n)
{
    if (n == 0 || !topics)
        return mk_mqtt_fail(c, MK_E_INVAL, op, "no topic given");
    for (size_t i = 0; i < n; i++) {
        size_t tl = topics[i] ? strlen(topics[i]) : 0;
        if (tl < 1 || tl > MK_MQTT_TOPIC_MAX)
            return mk_mqtt_fail(c, MK_E_INVAL, op, "topics must be 1..1024 bytes");
    }
    return MK_OK;
}

enum mk_err mk_mqtt_subscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n,
                              int qos)
{
    enum mk_err e = mk_mqtt_need_connected(c, "subscribe");
    if (e == MK_OK)
        e = mk_mqtt_check_topics(c, "subscribe", topics, n);
    if (e != MK_OK)
        return e;
    if (qos < 0 || qos > 2)
        return mk_mqtt_fail(c, MK_E_INVAL, "subscribe", "QoS must be 0..2");
    if (mk_mqtt_sub_need(c, topics, n) > c->cfg.sub_cap)
        return mk_mqtt_fail(c, MK_E_NOSPC, "subscribe",
                            "the subscription list (sub_buf) cannot hold these topics");
    e = c->drv->subscribe(c, topics, n, qos);
    if (mk_mqtt_reconnect_now(c, e))
        e = c->drv->subscribe(c, topics, n, qos);
    mk_mqtt_after_op(c, e);
    if (e != MK_OK)
        return e;
    for (size_t i = 0; i < n; i++)
        mk_mqtt_sub_add(c, topics[i], qos);
    mk_mqtt_ok(c);
    return MK_OK;
}

enum mk_err mk_mqtt_unsubscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n)
{
    enum mk_err e = mk_mqtt_need_connected(c, "unsubscribe");
    if (e == MK_OK)
        e = mk_mqtt_check_topics(c, "unsubscribe", topics, n);
    if (e != MK_OK)
        return e;
    e = c->drv->unsubscribe(c, topics, n);
    if (mk_mqtt_reconnect_now(c, e))
        e = c->drv->unsubscribe(c, topics, n);
    mk_mqtt_after_op(c, e);
    if (e != MK_OK)
        return e;
    for (size_t i = 0; i < n; i++)
        mk_mqtt_sub_remove(c, topics[i]);
    mk_mqtt_ok(c);
    return MK_OK;
}

enum mk_err mk_mqtt_disconnect(struct mk_mqtt_client *c)
{
    if (!c->drv)
        return MK_E_STATE;
    enum mk_err e = MK_OK;
    if (!(c->events & MK_MQTT_EV_HANGUP) && (c->started || c->acquired))
        e = c->drv->disconnect(c);
    c->events = 0;
    c->sub_len = 0;
    if (e == MK_OK)
        mk_mqtt_ok(c);
    if (c->state != MK_MQTT_IDLE)
        mk_mqtt_set_state(c, MK_MQTT_IDLE, e, e == MK_OK ? "disconnected" : c->last.text);
    return e;
}

enum mk_err mk_mqtt_poll(struct mk_mqtt_client *c, uint32_t wait_ms)
{
    if (!c->drv)
        return MK_E_STATE;
    uint64_t deadline = mk_mqtt_now(c) + wait_ms;
    for (;;) {
        if (c->state == MK_MQTT_CONNECTED && c->events) {
            if (c->events & MK_MQTT_EV_HANGUP) {
                c->started = c->acquired = false;
                mk_mqtt_lost(c, MK_E_HANGUP, "the module's port went away (module reboot?)");
            } else {
                mk_mqtt_lost(c, MK_E_MQTT_NOT_CONNECTED, c->lost_line);
            }
        }
        uint64_t now = mk_mqtt_now(c);
        if (c->state == MK_MQTT_RECOVERING && now >= c->next_try_ms) {
            mk_mqtt_recover(c);
            continue;
        }
        if (now >= deadline)
            break;
        if (c->state != MK_MQTT_CONNECTED && c->state != MK_MQTT_RECOVERING)
            break;
        uint64_t until = deadline;
        if (c->state == MK_MQTT_RECOVERING && c->next_try_ms < until)
            until = c->next_try_ms;
        if (c->events & MK_MQTT_EV_HANGUP) {
            /* the port is gone: nothing can be read; the reopen callback does the waiting
             * (for the module to come back), so the attempt runs now */
            c->next_try_ms = now;
            continue;
        }
        uint64_t left = until - now;
        enum mk_err e = mk_at_pump(c->cfg.chan, left > UINT32_MAX ? UINT32_MAX : (uint32_t)left);
        if (mk_mqtt_io_lost(e))
            c->events |= MK_MQTT_EV_HANGUP;
    }
    if (c->state == MK_MQTT_FAILED)
        return c->last.err;
    return c->state == MK_MQTT_IDLE ? MK_E_STATE : MK_OK;
}
