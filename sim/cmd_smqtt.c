/*
 * modemsim: SIMCom SIM7000 MQTT, the AT+SM* family (S6; S9 §17; at-commands.md §1.2).
 * Synchronous: SMCONN, SMPUB, SMSUB, SMUNSUB and SMDISC hold their final result until
 * the broker answered. No numeric error table: failures are a bare ERROR.
 * Incoming messages: +SMSUB: "<topic>","<message>".
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SM_TIMEOUT_MS 60000

static void wait_timeout(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    s->smqtt.wait_timer = 0;
    s->smqtt.wait_mid = 0;
    s->smqtt.waiting = false;
    if (!s->smqtt.connected) {
        sim_mqtt_close(s->smqtt.m);
        s->smqtt.m = NULL;
    }
    sim_defer_end(s, SIM_ERROR);
}

static int wait_begin(struct sim *s, int mid)
{
    s->smqtt.waiting = true;
    s->smqtt.wait_mid = mid;
    s->smqtt.wait_timer = sim_timer_add(s, SM_TIMEOUT_MS, wait_timeout, NULL, 0, 0);
    return sim_defer_begin(s);
}

static void wait_end(struct sim *s, int res)
{
    if (!s->smqtt.waiting)
        return;
    s->smqtt.waiting = false;
    sim_timer_cancel(s, s->smqtt.wait_timer);
    s->smqtt.wait_timer = 0;
    s->smqtt.wait_mid = 0;
    sim_defer_end(s, res);
}

static void on_event(struct sim *s, void *ctx, const struct sim_mqtt_ev *ev)
{
    (void)ctx;
    struct sim_smqtt *q = &s->smqtt;
    switch (ev->type) {
    case SIM_MQTT_CONNACK:
        if (ev->code == 0) {
            q->connected = true;
            wait_end(s, SIM_OK);
        } else {
            sim_mqtt_close(q->m);
            q->m = NULL;
            wait_end(s, SIM_ERROR);
        }
        break;
    case SIM_MQTT_FAILED:
        sim_mqtt_close(q->m);
        q->m = NULL;
        wait_end(s, SIM_ERROR);
        break;
    case SIM_MQTT_LOST:
    case SIM_MQTT_CLOSED: {
        bool asked = ev->type == SIM_MQTT_CLOSED;
        bool was = q->connected;
        q->connected = false;
        sim_mqtt_close(q->m);
        q->m = NULL;
        if (asked)
            wait_end(s, SIM_OK);
        else if (was)
            sim_urc(s, "+SMSTATE: 0"); /* UNVERIFIED: how SIM7000 reports a lost link */
        break;
    }
    case SIM_MQTT_PUBDONE:
    case SIM_MQTT_SUBACK:
    case SIM_MQTT_UNSUBACK:
        if (q->wait_mid && ev->mid == q->wait_mid)
            wait_end(s, ev->code ? SIM_ERROR : SIM_OK);
        break;
    case SIM_MQTT_MESSAGE: {
        struct sim_buf b = {0};
        sim_buf_printf(&b, "\r\n+SMSUB: \"%s\",\"", ev->topic);
        sim_buf_put(&b, ev->payload, ev->len);
        sim_buf_puts(&b, "\"\r\n");
        sim_urc_raw(s, b.p, b.len);
        sim_buf_free(&b);
        break;
    }
    }
}

static int h_smconf(struct sim *s, const struct sim_req *r)
{
    struct sim_smqtt *q = &s->smqtt;
    if (r->type == SIM_REQ_READ) {
        /* UNVERIFIED layout (S9 shows "KEY: value" lines) */
        sim_reply(s,
                  "+SMCONF: \r\nCLIENTID: \"%s\"\r\nURL: \"%s\",%d\r\nKEEPTIME: %d\r\n"
                  "USERNAME: \"%s\"\r\nPASSWORD: \"%s\"\r\nCLEANSS: %d\r\nQOS: %d\r\n"
                  "TOPIC: \"%s\"\r\nMESSAGE: \"%s\"\r\nRETAIN: %d",
                  q->client_id, q->host, q->port, q->keepalive, q->user, q->pass, q->clean,
                  q->will_qos, q->will_topic, q->will_msg, q->will_retain);
        return SIM_OK;
    }
    if (r->type != SIM_REQ_SET || r->nargs < 2 || q->connected)
        return SIM_ERROR;
    long v = 0;
    struct {
        const char *key;
        char *field;
        size_t cap;
    } strs[] = {
        {"CLIENTID", q->client_id, sizeof q->client_id},
        {"USERNAME", q->user, sizeof q->user},
        {"PASSWORD", q->pass, sizeof q->pass},
        {"TOPIC", q->will_topic, sizeof q->will_topic},
        {"MESSAGE", q->will_msg, sizeof q->will_msg},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (sim_arg_is(r, 0, strs[i].key))
            return sim_arg_str(r, 1, strs[i].field, strs[i].cap) ? SIM_OK : SIM_ERROR;
    if (sim_arg_is(r, 0, "URL")) {
        /* "URL","host"[,port] or "URL","host:port"; the port may be quoted */
        char host[257], port[16] = "1883";
        if (!sim_arg_str(r, 1, host, sizeof host))
            return SIM_ERROR;
        char *colon = strrchr(host, ':');
        if (colon) {
            snprintf(port, sizeof port, "%s", colon + 1);
            *colon = '\0';
        }
        if (r->nargs > 2 && !sim_arg_str(r, 2, port, sizeof port))
            return SIM_ERROR;
        char *end;
        long p = strtol(port, &end, 10);
        if (*end || p < 1 || p > 65535 || !host[0])
            return SIM_ERROR;
        snprintf(q->host, sizeof q->host, "%s", host);
        q->port = (int)p;
        return SIM_OK;
    }
    struct {
        const char *key;
        int *field;
        long lo, hi;
    } ints[] = {
        {"KEEPTIME", &q->keepalive, 0, 65535},
        {"CLEANSS", &q->clean, 0, 1},
        {"QOS", &q->will_qos, 0, 2},
        {"RETAIN", &q->will_retain, 0, 1},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (!sim_arg_is(r, 0, ints[i].key))
            continue;
        if (!sim_arg_long(r, 1, &v) || v < ints[i].lo || v > ints[i].hi)
            return SIM_ERROR;
        *ints[i].field = (int)v;
        return SIM_OK;
    }
    return SIM_ERROR;
}

static int h_smconn(struct sim *s, const struct sim_req *r)
{
    struct sim_smqtt *q = &s->smqtt;
    if (r->type != SIM_REQ_EXEC || q->connected || q->m || !q->host[0] || !s->net.cnact)
        return SIM_ERROR; /* the bearer must be up (AT+CNACT=1) */
    struct sim_mqtt_cfg cfg = {
        .host = q->host,
        .port = q->port,
        .keepalive_s = q->keepalive ? q->keepalive : 60,
        .clean = q->clean == 1,
        .client_id = q->client_id,
        .version = s->prof->smqtt_version,
        .user = q->user[0] ? q->user : NULL,
        .pass = q->user[0] ? q->pass : NULL,
        .will_topic = q->will_topic[0] ? q->will_topic : NULL,
        .will_msg = (const uint8_t *)q->will_msg,
        .will_len = strlen(q->will_msg),
        .will_qos = q->will_qos,
    };
    q->m = sim_mqtt_open(s, &cfg, on_event, NULL);
    return wait_begin(s, 0);
}

static int h_smdisc(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC || !s->smqtt.connected)
        return SIM_ERROR;
    sim_mqtt_disconnect(s->smqtt.m);
    return wait_begin(s, 0);
}

static int h_smstate(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_READ)
        return SIM_ERROR;
    sim_reply(s, "+SMSTATE: %d", s->smqtt.connected ? 1 : 0);
    return SIM_OK;
}

static int pub_data(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    (void)ctx;
    struct sim_smqtt *q = &s->smqtt;
    int mid = 0;
    if (!q->connected ||
        sim_mqtt_publish(q->m, q->pub_topic, p, n, q->pub_qos, q->pub_retain == 1, &mid))
        return SIM_ERROR;
    return wait_begin(s, mid);
}

static int h_smpub(struct sim *s, const struct sim_req *r)
{
    struct sim_smqtt *q = &s->smqtt;
    long len, qos, retain;
    if (r->type != SIM_REQ_SET || r->nargs != 4 || !q->connected ||
        !sim_arg_str(r, 0, q->pub_topic, sizeof q->pub_topic) || !sim_arg_long(r, 1, &len) ||
        !sim_arg_long(r, 2, &qos) || !sim_arg_long(r, 3, &retain) || len < 0 ||
        len > 512 /* S6: SIM7000 */ || qos < 0 || qos > 2 || retain < 0 || retain > 1)
        return SIM_ERROR;
    q->pub_qos = (int)qos;
    q->pub_retain = (int)retain;
    if (len == 0)
        return pub_data(s, NULL, 0, NULL);
    return sim_prompt(s, (size_t)len, NULL, pub_data, NULL);
}

static int h_smsub(struct sim *s, const struct sim_req *r)
{
    char topic[129];
    long qos = 0;
    int mid = 0;
    if (r->type != SIM_REQ_SET || r->nargs < 1 || r->nargs > 2 || !s->smqtt.connected ||
        !sim_arg_str(r, 0, topic, sizeof topic) ||
        (sim_arg_has(r, 1) && (!sim_arg_long(r, 1, &qos) || qos < 0 || qos > 2)))
        return SIM_ERROR;
    if (sim_mqtt_subscribe(s->smqtt.m, topic, (int)qos, &mid))
        return SIM_ERROR;
    return wait_begin(s, mid);
}

static int h_smunsub(struct sim *s, const struct sim_req *r)
{
    char topic[129];
    int mid = 0;
    if (r->type != SIM_REQ_SET || r->nargs != 1 || !s->smqtt.connected ||
        !sim_arg_str(r, 0, topic, sizeof topic))
        return SIM_ERROR;
    if (sim_mqtt_unsubscribe(s->smqtt.m, topic, &mid))
        return SIM_ERROR;
    return wait_begin(s, mid);
}

static void power_off(struct sim *s)
{
    sim_mqtt_close(s->smqtt.m);
    memset(&s->smqtt, 0, sizeof s->smqtt);
}

static void power_on(struct sim *s)
{
    memset(&s->smqtt, 0, sizeof s->smqtt);
    s->smqtt.port = 1883;
    s->smqtt.keepalive = 60; /* S6: default KEEPTIME */
}

#define SM SIM_CAP_SMQTT
static const struct sim_cmd cmds[] = {
    {"+SMCONF", SM, 0, h_smconf, NULL},
    {"+SMCONN", SM, SIM_F_SIM, h_smconn, NULL},
    {"+SMDISC", SM, 0, h_smdisc, NULL},
    {"+SMSTATE", SM, 0, h_smstate, "+SMSTATE: (0-1)"},
    {"+SMPUB", SM, 0, h_smpub, "+SMPUB: 128,(0-512),(0-2),(0-1)"},
    {"+SMSUB", SM, 0, h_smsub, "+SMSUB: 128,(0-2)"},
    {"+SMUNSUB", SM, 0, h_smunsub, "+SMUNSUB: 128"},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_smqtt = {"smqtt", cmds, power_on, power_off};
