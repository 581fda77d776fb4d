/*
 * SIMCom AT+SM* driver (SIM7000 S6; SIM7070/7080 S9 §17).
 *
 * The SM* commands are synchronous: AT+SMCONN, AT+SMPUB, AT+SMSUB, AT+SMUNSUB and
 * AT+SMDISC hold their final result until the broker answered, so one mk_at_exec() per
 * operation keeps the module's order. There is no error table: a failure is a bare
 * ERROR, so each failure gets a sentence naming the command and the likely causes, and
 * after a failed PUB/SUB AT+SMSTATE? tells "not connected" (the client then
 * reconnects) from a refusal.
 *
 * Incoming messages: +SMSUB: "<topic>","<message>" on one line (S6 §3.2.4), so payloads
 * with CR/LF cannot arrive intact through this dialect (SIM7070's "SUBHEX" would be the
 * way; not used here). A lost connection is reported as "+SMSTATE: 0" (UNVERIFIED, the
 * modemsim behaviour; S6 does not show the URC).
 */
#include <string.h>

#include "../../mqtt/mqtt_int.h"
#include "modemkit/bearer.h"
#include "modemkit/str.h"

#define SM_TOPIC_MAX   128u /* S6/S9: SMPUB/SMSUB topic */
#define SM_PAYLOAD_MAX 512u /* S6: SIM7000 SMPUB 0..512 (SIM7070: 1024, S9) */

static size_t sm_payload_max(const struct mk_mqtt_client *c)
{
    return (c->cfg.id && c->cfg.id->family == MK_FAMILY_SIM7070) ? 1024u : SM_PAYLOAD_MAX;
}

/* Runs text (with data after ">" when len or data); sets a sentence on failure. */
static enum mk_err sm_run(struct mk_mqtt_client *c, const char *op, const char *text,
                          const uint8_t *data, size_t len, uint32_t timeout_ms, unsigned flags,
                          const char *why)
{
    struct mk_at_cmd cmd;
    struct mk_at_result r;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = text;
    cmd.timeout_ms = timeout_ms + (uint32_t)len;
    if (len) {
        cmd.prompt = MK_AT_PROMPT_GT;
        cmd.data = data;
        cmd.data_len = len;
    }
    cmd.flags = flags;
    enum mk_err e = mk_at_exec(c->cfg.chan, &cmd, &r);
    if (e == MK_OK)
        return MK_OK;
    if (e != MK_E_AT_ERROR || !why)
        return mk_mqtt_fail_exec(c, op, e, &r, cmd.timeout_ms);
    struct mk_sb sb;
    mk_mqtt_err_begin(c, &sb, MK_E_MQTT_FAILED, -1, op);
    mk_sb_puts(&sb, "the module answered ERROR (AT+SM* gives no reason): ");
    mk_sb_puts(&sb, why);
    return MK_E_MQTT_FAILED;
}

/* AT+SMSTATE? → 0 disconnected, 1/2 connected; -1 when it cannot be read. */
static int sm_state(struct mk_mqtt_client *c)
{
    char resp[64];
    struct mk_at_arg a[1];
    long v;
    if (mk_at_simple(c->cfg.chan, "AT+SMSTATE?", mk_mqtt_cmd_timeout(c), resp, sizeof resp, NULL) !=
            MK_OK ||
        mk_at_split(resp, strlen(resp), "+SMSTATE:", a, 1) < 1 ||
        mk_at_arg_long(&a[0], &v) != MK_OK)
        return -1;
    return (int)v;
}

/* After a bare ERROR from PUB/SUB/UNSUB: not connected any more, or a refusal? */
static enum mk_err sm_classify(struct mk_mqtt_client *c, enum mk_err e)
{
    if (e != MK_E_MQTT_FAILED || sm_state(c) != 0)
        return e;
    c->last.err = MK_E_MQTT_NOT_CONNECTED;
    struct mk_sb sb;
    mk_sb_init(&sb, c->last.text, sizeof c->last.text);
    mk_sb_puts(&sb, c->last.op);
    mk_sb_puts(&sb, ": the module is not connected to the broker (AT+SMSTATE? is 0)");
    return MK_E_MQTT_NOT_CONNECTED;
}

static enum mk_err sm_conf(struct mk_mqtt_client *c, const char *key, const char *str, long num,
                           unsigned flags)
{
    char text[400];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+SMCONF=");
    mk_sb_putq(&sb, key);
    mk_sb_putc(&sb, ',');
    if (str)
        mk_sb_putq(&sb, str);
    else
        mk_sb_puti(&sb, num);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    return sm_run(c, "SMCONF", text, NULL, 0, mk_mqtt_cmd_timeout(c), flags,
                  "the module refused an MQTT setting (S6: CLIENTID up to 128 bytes, USERNAME "
                  "256, PASSWORD 512; settings cannot change while connected)");
}

static enum mk_err sm_check(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *o)
{
    const char *host;
    size_t hl;
    uint16_t port;
    bool tls;
    struct mk_sb sb;
    mk_mqtt_parse_url(o->url, &host, &hl, &port, &tls);
    if (tls) {
        mk_mqtt_err_begin(c, &sb, MK_E_UNSUPPORTED, -1, "CONNECT");
        mk_sb_puts(&sb, "TLS with the AT+SM* client (files converted with AT+CSSLCFG=\"convert\" "
                        "and bound with AT+SMSSL) is not implemented by modemkit yet; use "
                        "mqtt://");
        return MK_E_UNSUPPORTED;
    }
    if (o->will && (!mk_mqtt_at_string_ok((const char *)o->will->msg, o->will->len) ||
                    !mk_mqtt_at_string_ok(o->will->topic, strlen(o->will->topic)))) {
        mk_mqtt_err_begin(c, &sb, MK_E_INVAL, -1, "CONNECT");
        mk_sb_puts(&sb, "AT+SMCONF takes the will as quoted text: no '\"' or control bytes");
        return MK_E_INVAL;
    }
    return MK_OK;
}

static enum mk_err sm_connect(struct mk_mqtt_client *c)
{
    const struct mk_mqtt_connect_opts *o = c->opts;
    const char *host;
    size_t hl;
    uint16_t port;
    bool tls;
    enum mk_err e;
    mk_mqtt_parse_url(o->url, &host, &hl, &port, &tls);

    /* SMCONF is refused while connected: close a session left over first */
    if (sm_state(c) > 0) {
        e = sm_run(c, "SMDISC", "AT+SMDISC", NULL, 0, mk_mqtt_op_timeout(c), 0, NULL);
        if (e == MK_E_HANGUP || e == MK_E_IO)
            return e;
    }
    /* AT+SMCONN needs an active bearer (S6 §4: AT+CNACT=1 first) */
    e = mk_bearer_up(c->cfg.chan, c->cfg.id, NULL, NULL);
    if (e != MK_OK) {
        if (e == MK_E_HANGUP || e == MK_E_IO || e == MK_E_TIMEOUT)
            return mk_mqtt_fail_exec(c, "CNACT", e, NULL, 120000);
        struct mk_sb sb;
        mk_mqtt_err_begin(c, &sb, MK_E_NET, -1, "CNACT");
        mk_sb_puts(&sb, "the module could not activate its data connection (AT+CNACT=1): check "
                        "SIM, signal and APN (net status / net up --apn)");
        return MK_E_NET;
    }
    char url[280];
    struct mk_sb sb;
    mk_sb_init(&sb, url, sizeof url);
    mk_sb_putn(&sb, host, hl);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    char text[320];
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+SMCONF=\"URL\",");
    mk_sb_putq(&sb, url);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, port);
    if ((e = sm_conf(c, "CLIENTID", o->client_id, 0, 0)) != MK_OK ||
        (e = sm_run(c, "SMCONF", text, NULL, 0, mk_mqtt_cmd_timeout(c), 0,
                    "the module refused the broker address")) != MK_OK ||
        (e = sm_conf(c, "KEEPTIME", NULL, o->keepalive_s ? o->keepalive_s : 60, 0)) != MK_OK ||
        (e = sm_conf(c, "CLEANSS", NULL, o->clean_session ? 1 : 0, 0)) != MK_OK)
        return e;
    if (o->user && (e = sm_conf(c, "USERNAME", o->user, 0, MK_AT_F_SECRET_ARGS)) != MK_OK)
        return e;
    if (o->pass && (e = sm_conf(c, "PASSWORD", o->pass, 0, MK_AT_F_SECRET_ARGS)) != MK_OK)
        return e;
    if (o->will) {
        char msg[1025];
        memcpy(msg, o->will->msg, o->will->len);
        msg[o->will->len] = '\0';
        if ((e = sm_conf(c, "TOPIC", o->will->topic, 0, 0)) != MK_OK ||
            (e = sm_conf(c, "MESSAGE", msg, 0, 0)) != MK_OK ||
            (e = sm_conf(c, "QOS", NULL, o->will->qos, 0)) != MK_OK ||
            (e = sm_conf(c, "RETAIN", NULL, o->will->retain ? 1 : 0, 0)) != MK_OK)
            return e;
    }
    return sm_run(c, "SMCONN", "AT+SMCONN", NULL, 0, mk_mqtt_op_timeout(c), 0,
                  "the broker connection failed: check the broker host and port (reachable "
                  "from the module's network?), the client id, user name and password, and "
                  "the data connection (net status)");
}

static enum mk_err sm_publish(struct mk_mqtt_client *c, const char *topic, size_t topic_len,
                              const uint8_t *payload, size_t len, int qos, bool retain)
{
    struct mk_sb sb;
    if (topic_len > SM_TOPIC_MAX || len > sm_payload_max(c) ||
        !mk_mqtt_at_string_ok(topic, topic_len)) {
        mk_mqtt_err_begin(c, &sb, MK_E_MQTT_PARAM, -1, "SMPUB");
        mk_sb_puts(&sb, "AT+SMPUB takes topics up to 128 bytes (no '\"') and payloads up to ");
        mk_sb_putu(&sb, sm_payload_max(c));
        mk_sb_puts(&sb, " bytes on this module (S6, S9)");
        return MK_E_MQTT_PARAM;
    }
    char text[200];
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+SMPUB=");
    mk_sb_putq(&sb, topic);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, len);
    mk_sb_putc(&sb, ',');
    mk_sb_puti(&sb, qos);
    mk_sb_puts(&sb, retain ? ",1" : ",0");
    enum mk_err e = sm_run(c, "SMPUB", text, payload, len, mk_mqtt_op_timeout(c), 0,
                           "the publish failed (not connected, or the broker refused it)");
    return sm_classify(c, e);
}

/* "+SMSUB:" lines inside an SMSUB/SMUNSUB command are messages too (same prefix). */
static void sm_urc_smsub(void *user, const char *line, size_t len);

static enum mk_err sm_sub_one(struct mk_mqtt_client *c, const char *topic, int qos, bool sub)
{
    struct mk_sb sb;
    size_t tl = strlen(topic);
    if (tl > SM_TOPIC_MAX || !mk_mqtt_at_string_ok(topic, tl)) {
        mk_mqtt_err_begin(c, &sb, MK_E_MQTT_PARAM, -1, sub ? "SMSUB" : "SMUNSUB");
        mk_sb_puts(&sb, "topics are at most 128 bytes without '\"' on AT+SMSUB (S6)");
        return MK_E_MQTT_PARAM;
    }
    char text[200];
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, sub ? "AT+SMSUB=" : "AT+SMUNSUB=");
    mk_sb_putq(&sb, topic);
    if (sub) {
        mk_sb_putc(&sb, ',');
        mk_sb_puti(&sb, qos);
    }
    struct mk_at_cmd cmd;
    struct mk_at_result r;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = text;
    cmd.timeout_ms = mk_mqtt_op_timeout(c);
    cmd.on_line = sm_urc_smsub;
    cmd.user = c;
    enum mk_err e = mk_at_exec(c->cfg.chan, &cmd, &r);
    if (e == MK_E_AT_ERROR) {
        mk_mqtt_err_begin(c, &sb, MK_E_MQTT_FAILED, -1, sub ? "SMSUB" : "SMUNSUB");
        mk_sb_puts(&sb, "the module answered ERROR (AT+SM* gives no reason): not connected, or "
                        "the broker refused the topic filter");
        return sm_classify(c, MK_E_MQTT_FAILED);
    }
    return e == MK_OK ? MK_OK
                      : mk_mqtt_fail_exec(c, sub ? "SMSUB" : "SMUNSUB", e, &r, cmd.timeout_ms);
}

static enum mk_err sm_subscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n,
                                int qos)
{
    for (size_t i = 0; i < n; i++) {
        enum mk_err e = sm_sub_one(c, topics[i], qos, true);
        if (e != MK_OK)
            return e;
    }
    return MK_OK;
}

static enum mk_err sm_unsubscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum mk_err e = sm_sub_one(c, topics[i], 0, false);
        if (e != MK_OK)
            return e;
    }
    return MK_OK;
}

static enum mk_err sm_disconnect(struct mk_mqtt_client *c)
{
    enum mk_err e = sm_run(c, "SMDISC", "AT+SMDISC", NULL, 0, mk_mqtt_op_timeout(c), 0, NULL);
    /* ERROR: not connected (any more); nothing to close */
    return e == MK_E_AT_ERROR ? MK_OK : e;
}

/* +SMSUB: "<topic>","<message>": the message runs to the last '"' of the line. */
static void sm_urc_smsub(void *user, const char *line, size_t len)
{
    struct mk_mqtt_client *c = user;
    if (!mk_starts_with(line, len, "+SMSUB:"))
        return;
    size_t i = 7;
    while (i < len && line[i] == ' ')
        i++;
    if (i >= len || line[i] != '"')
        return;
    size_t t0 = ++i;
    while (i + 2 < len && !(line[i] == '"' && line[i + 1] == ',' && line[i + 2] == '"'))
        i++;
    if (i + 2 >= len || len < i + 4 || line[len - 1] != '"') {
        c->stats.rx_dropped++;
        return;
    }
    size_t tl = i - t0, p0 = i + 3, pl = len - 1 - p0;
    if (tl >= c->cfg.topic_cap || pl > c->cfg.payload_cap) {
        c->stats.rx_dropped++;
        return;
    }
    memcpy(c->cfg.topic_buf, line + t0, tl);
    memcpy(c->cfg.payload_buf, line + p0, pl);
    mk_mqtt_deliver(c, tl, pl, -1, -1);
}

static void sm_urc_state(void *user, const char *line, size_t len)
{
    struct mk_mqtt_client *c = user;
    struct mk_at_arg a[1];
    long v;
    if (mk_at_split(line, len, "+SMSTATE:", a, 1) == 1 && mk_at_arg_long(&a[0], &v) == MK_OK &&
        v == 0)
        mk_mqtt_note_lost(c, line, len);
}

static void sm_attach(struct mk_mqtt_client *c)
{
    c->urcs[0] = (struct mk_at_urc){"+SMSUB:", sm_urc_smsub, c};
    c->urcs[1] = (struct mk_at_urc){"+SMSTATE:", sm_urc_state, c};
    c->n_urcs = 2;
}

const struct mk_mqtt_driver mk_mqtt_drv_sm = {
    .name = "sm",
    .attach = sm_attach,
    .check = sm_check,
    .connect = sm_connect,
    .publish = sm_publish,
    .subscribe = sm_subscribe,
    .unsubscribe = sm_unsubscribe,
    .disconnect = sm_disconnect,
};
