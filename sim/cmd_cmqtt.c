/*
 * modemsim: SIMCom CMQTT (SIM7500/SIM7600, S1 §16; S2), one state machine per client
 * slot 0..1, backed by a real libmosquitto connection (mqtt.c).
 *
 * Error replies have the form "+CMQTTxxx: <idx>,<err>" then ERROR (seed 001:
 * "+CMQTTSUBTOPIC: 0,14" / ERROR). Checks, in this order, for commands on a client:
 *   20 client not acquired; 14 client busy (a CONNECT/SUB/UNSUB/DISC completion, or a
 *   QoS>0 PUB ack, is pending: F1 log and at-commands.md §1.1 field report 2);
 *   11 no connection (TOPIC/PAYLOAD/PUB/SUB...: seed 001 "+CMQTTTOPIC: 0,11");
 *   then parameters: 22 length out of range, 12 invalid parameter, 2 bad UTF-8.
 * Decisions not settled by any source are marked UNVERIFIED; see README.md.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define ERR_NOT_STARTED 9 /* UNVERIFIED: "network not opened", the counterpart of 23 */
#define ERR_IN_USE 19     /* UNVERIFIED: REL/CONNECT on a connected client */

enum { NEED_ACQ = 1, NEED_CONN = 2 };

static int fail(struct sim *s, const char *cmd, long idx, int err)
{
    sim_reply(s, "%s: %ld,%d", cmd, idx, err);
    return SIM_ERROR;
}

static struct sim_cmqtt_client *client_of(struct sim *s, const struct sim_req *r, long *idx)
{
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, idx) || *idx < 0 || *idx >= SIM_NCLIENTS)
        return NULL;
    return &s->cmqtt.c[*idx];
}

static bool busy(struct sim *s, const struct sim_cmqtt_client *c)
{
    if (c->busy_async)
        return true;
    /* UNVERIFIED (at-commands.md §9): 14 while a QoS>0 PUBACK is outstanding;
     * --busy-on-puback off turns it off */
    for (int i = 0; s->opt.busy_on_puback && i < SIM_CMQTT_MAX_INFLIGHT; i++)
        if (c->pubs[i].async && c->pubs[i].qos > 0)
            return true;
    return false;
}

static int precheck(struct sim *s, const struct sim_cmqtt_client *c, unsigned need)
{
    if (!c->acquired)
        return 20;
    if (busy(s, c))
        return 14;
    if ((need & NEED_CONN) && c->conn != CM_CONNECTED)
        return 11;
    return 0;
}

static bool utf8_ok(const struct sim_cmqtt_client *c, const uint8_t *p, size_t n)
{
    return !c->check_utf8 || sim_utf8_valid(p, n); /* S1 p.364: CMQTTCFG "checkUTF8" */
}

static void clear_client(struct sim_cmqtt_client *c)
{
    int idx = c->idx;
    sim_buf_free(&c->will_topic);
    sim_buf_free(&c->will_msg);
    sim_buf_free(&c->topic);
    sim_buf_free(&c->payload);
    sim_buf_free(&c->subtopics);
    sim_buf_free(&c->unsubtopics);
    memset(c, 0, sizeof *c);
    c->idx = idx;
    c->ssl_ctx = -1;
    c->check_utf8 = true;
    c->optimeout_s = 120;
}

/* ---- pending operations ---- */

static void op_timeout(struct sim *s, void *ctx, intptr_t arg)
{
    (void)arg;
    struct sim_cmqtt_client *c = ctx;
    c->busy_timer = 0;
    sim_async_end(s, c->busy_async, 17, "+CMQTT%s: %d,17", c->busy_kind, c->idx);
    if (c->conn == CM_CONNECTING || c->conn == CM_DISCONNECTING) {
        sim_mqtt_close(c->m);
        c->m = NULL;
    }
}

static void op_start(struct sim *s, struct sim_cmqtt_client *c, const char *kind,
                     sim_async_fn emitted, int timeout_s)
{
    snprintf(c->busy_kind, sizeof c->busy_kind, "%s", kind);
    c->busy_async = sim_async_begin(s, kind, emitted, c);
    c->busy_timer = sim_timer_add(s, (int64_t)timeout_s * 1000, op_timeout, c, 0, 0);
}

static void op_end(struct sim *s, struct sim_cmqtt_client *c, int err)
{
    sim_timer_cancel(s, c->busy_timer);
    c->busy_timer = 0;
    sim_async_end(s, c->busy_async, err, "+CMQTT%s: %d,%d", c->busy_kind, c->idx, err);
}

static void op_emitted(struct sim *s, void *ctx, int err)
{
    (void)s;
    (void)err;
    struct sim_cmqtt_client *c = ctx;
    c->busy_async = 0;
}

static void pub_emitted(struct sim *s, void *ctx, int err)
{
    (void)err;
    struct sim_cmqtt_pub *p = ctx;
    sim_timer_cancel(s, p->timer);
    memset(p, 0, sizeof *p);
}

static void pub_timeout(struct sim *s, void *ctx, intptr_t idx)
{
    struct sim_cmqtt_pub *p = ctx;
    p->timer = 0;
    sim_async_end(s, p->async, 17, "+CMQTTPUB: %d,17", (int)idx);
}

/* The broker connection is gone: tell the host, fail what waits for the broker. */
static void conn_gone(struct sim *s, struct sim_cmqtt_client *c, int cause, bool urc)
{
    if (urc)
        sim_urc(s, "+CMQTTCONNLOST: %d,%d", c->idx, cause); /* S1 §16.3.2 */
    sim_mqtt_close(c->m);
    c->m = NULL;
    c->conn = CM_IDLE;
    for (int i = 0; i < SIM_CMQTT_MAX_INFLIGHT; i++)
        if (c->pubs[i].async)
            sim_async_end(s, c->pubs[i].async, 11, "+CMQTTPUB: %d,11", c->idx);
    if (c->busy_async)
        op_end(s, c, 11);
}

/* ---- RX: +CMQTTRXSTART / RXTOPIC / RXPAYLOAD / RXEND (S1 pp.366-367) ---- */

static void put_chunks(struct sim *s, struct sim_buf *b, const char *hdr, int idx,
                       const uint8_t *p, size_t n)
{
    size_t max = (size_t)s->opt.rx_chunk;
    for (size_t off = 0; off < n; off += max) {
        size_t k = n - off < max ? n - off : max;
        /* header line, then exactly k raw bytes (CR/LF allowed), then CRLF */
        sim_buf_printf(b, "%s: %d,%zu\r\n", hdr, idx, k);
        sim_buf_put(b, p + off, k);
        sim_buf_puts(b, "\r\n");
    }
}

static void emit_rx(struct sim *s, const struct sim_cmqtt_client *c, const char *topic,
                    const uint8_t *p, size_t n)
{
    struct sim_buf b = {0};
    size_t tl = strlen(topic);
    /* UNVERIFIED: one CRLF before the block, none between its lines (S2 §5.1.1 example) */
    sim_buf_printf(&b, "\r\n+CMQTTRXSTART: %d,%zu,%zu\r\n", c->idx, tl, n);
    put_chunks(s, &b, "+CMQTTRXTOPIC", c->idx, (const uint8_t *)topic, tl);
    put_chunks(s, &b, "+CMQTTRXPAYLOAD", c->idx, p, n);
    sim_buf_printf(&b, "+CMQTTRXEND: %d\r\n", c->idx);
    sim_urc_raw(s, b.p, b.len);
    sim_buf_free(&b);
}

/* ---- broker events ---- */

static void on_event(struct sim *s, void *ctx, const struct sim_mqtt_ev *ev)
{
    struct sim_cmqtt_client *c = ctx;
    switch (ev->type) {
    case SIM_MQTT_CONNACK:
        if (c->conn != CM_CONNECTING)
            break;
        /* CONNACK 1..5 → err 27..31 (S1 §16.3.1) */
        op_end(s, c, ev->code == 0 ? 0 : ev->code <= 5 ? 26 + ev->code : 29);
        break;
    case SIM_MQTT_FAILED:
        if (c->conn == CM_CONNECTING)
            op_end(s, c, ev->code);
        break;
    case SIM_MQTT_LOST:
        if (c->conn == CM_CONNECTED)
            conn_gone(s, c, ev->code, true);
        else if (c->conn == CM_CONNECTING)
            c->conn_dead = true; /* reported when the CONNECT URC is out */
        else if (c->conn == CM_DISCONNECTING)
            op_end(s, c, 0);
        break;
    case SIM_MQTT_CLOSED:
        if (c->conn == CM_DISCONNECTING)
            op_end(s, c, 0);
        break;
    case SIM_MQTT_PUBDONE:
        for (int i = 0; i < SIM_CMQTT_MAX_INFLIGHT; i++)
            if (c->pubs[i].async && c->pubs[i].mid == ev->mid)
                sim_async_end(s, c->pubs[i].async, 0, "+CMQTTPUB: %d,0", c->idx);
        break;
    case SIM_MQTT_SUBACK:
    case SIM_MQTT_UNSUBACK:
        for (int i = 0; i < c->sub_pending; i++) {
            if (c->sub_mids[i] != ev->mid)
                continue;
            c->sub_mids[i] = c->sub_mids[--c->sub_pending];
            if (ev->code)
                c->sub_err = 1; /* UNVERIFIED: a refused filter gives <err> 1 */
            if (c->sub_pending == 0)
                op_end(s, c, c->sub_err);
            break;
        }
        break;
    case SIM_MQTT_MESSAGE:
        if (c->conn == CM_CONNECTED || c->conn == CM_CONNECTING)
            emit_rx(s, c, ev->topic, ev->payload, ev->len);
        break;
    }
}

/* ---- START / STOP ---- */

static int h_start(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    if (s->cmqtt.started) {
        /* SIM7600E-H: "+CMQTTSTART: 23" + ERROR (elementzonline #13) */
        sim_reply(s, "+CMQTTSTART: 23");
        return SIM_ERROR;
    }
    s->cmqtt.started = true;
    int id = sim_async_begin(s, "START", NULL, NULL);
    sim_async_end(s, id, 0, "+CMQTTSTART: 0");
    return sim_async_reply(s, id);
}

static int h_stop(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    if (!s->cmqtt.started) {
        sim_reply(s, "+CMQTTSTOP: %d", ERR_NOT_STARTED);
        return SIM_ERROR;
    }
    for (int i = 0; i < SIM_NCLIENTS; i++) {
        if (s->cmqtt.c[i].acquired) {
            sim_reply(s, "+CMQTTSTOP: 21"); /* client not released (at-commands.md §7) */
            return SIM_ERROR;
        }
    }
    s->cmqtt.started = false;
    int id = sim_async_begin(s, "STOP", NULL, NULL);
    sim_async_end(s, id, 0, "+CMQTTSTOP: 0");
    return sim_async_reply(s, id);
}

/* ---- ACCQ / REL / SSLCFG / CFG ---- */

static int h_accq(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        struct sim_buf b = {0};
        for (int i = 0; i < SIM_NCLIENTS; i++) {
            const struct sim_cmqtt_client *c = &s->cmqtt.c[i];
            sim_buf_printf(&b, "%s+CMQTTACCQ: %d,\"%s\",%d", i ? "\r\n" : "", i, c->client_id,
                           c->server_type);
            /* the read form has a 4th field where ACCQ takes a version (S1 vs the
             * three-field form on older manuals, at-commands.md §1.1) */
            if (s->prof->caps & SIM_CAP_CMQTT_VER)
                sim_buf_printf(&b, ",%d", c->version ? c->version : 3);
        }
        sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
        sim_buf_free(&b);
        return SIM_OK;
    }
    long idx, type = 0, ver = 0;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs < 2 || r->nargs > 4 || !r->arg[1].quoted)
        return SIM_ERROR;
    /* seed 000: LE11B01SIM7600M21-A has no <mqtt_version>; a 4th parameter is ERROR */
    if (r->nargs == 4 && !(s->prof->caps & SIM_CAP_CMQTT_VER))
        return SIM_ERROR;
    if (!s->cmqtt.started)
        return fail(s, "+CMQTTACCQ", idx, ERR_NOT_STARTED);
    if (c->acquired)
        return fail(s, "+CMQTTACCQ", idx, 19); /* client is used */
    if (r->arg[1].len < 1 || r->arg[1].len > 128)
        return fail(s, "+CMQTTACCQ", idx, 22);
    if (!sim_utf8_valid((const uint8_t *)r->arg[1].p, r->arg[1].len))
        return fail(s, "+CMQTTACCQ", idx, 2);
    if ((sim_arg_has(r, 2) && (!sim_arg_long(r, 2, &type) || type < 0 || type > 1)) ||
        (sim_arg_has(r, 3) && (!sim_arg_long(r, 3, &ver) || ver < 3 || ver > 4)))
        return fail(s, "+CMQTTACCQ", idx, 12);
    int keep_ssl = c->ssl_ctx;
    clear_client(c);
    c->ssl_ctx = keep_ssl;
    c->acquired = true;
    sim_arg_str(r, 1, c->client_id, sizeof c->client_id);
    c->server_type = (int)type;
    c->version = (int)ver;
    return SIM_OK;
}

static int h_rel(struct sim *s, const struct sim_req *r)
{
    long idx;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs != 1)
        return SIM_ERROR;
    int err = precheck(s, c, NEED_ACQ);
    if (!err && c->conn != CM_IDLE)
        err = ERR_IN_USE; /* S1: REL comes after DISC */
    if (err)
        return fail(s, "+CMQTTREL", idx, err);
    clear_client(c);
    return SIM_OK;
}

static int h_sslcfg(struct sim *s, const struct sim_req *r)
{
    long idx, ctx;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs != 2 || !sim_arg_long(r, 1, &ctx) || ctx < 0 || ctx >= SIM_NSSLCTX)
        return SIM_ERROR;
    if (busy(s, c))
        return fail(s, "+CMQTTSSLCFG", idx, 14);
    c->ssl_ctx = (int)ctx;
    return SIM_OK;
}

static int h_cfg(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        struct sim_buf b = {0};
        for (int i = 0; i < SIM_NCLIENTS; i++) /* UNVERIFIED layout */
            sim_buf_printf(&b, "%s+CMQTTCFG: %d,%d,%d", i ? "\r\n" : "", i,
                           s->cmqtt.c[i].check_utf8 ? 1 : 0, s->cmqtt.c[i].optimeout_s);
        sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
        sim_buf_free(&b);
        return SIM_OK;
    }
    long idx, v;
    if (r->type != SIM_REQ_SET || r->nargs < 3 || !sim_arg_long(r, 1, &idx) || idx < 0 ||
        idx >= SIM_NCLIENTS)
        return SIM_ERROR;
    struct sim_cmqtt_client *c = &s->cmqtt.c[idx];
    int err = precheck(s, c, NEED_ACQ);
    if (err)
        return fail(s, "+CMQTTCFG", idx, err);
    if (sim_arg_is(r, 0, "checkUTF8")) {
        if (!sim_arg_long(r, 2, &v) || v < 0 || v > 1)
            return fail(s, "+CMQTTCFG", idx, 12);
        c->check_utf8 = v == 1;
        return SIM_OK;
    }
    if (sim_arg_is(r, 0, "optimeout")) {
        if (!sim_arg_long(r, 2, &v) || v < 20 || v > 120)
            return fail(s, "+CMQTTCFG", idx, 12);
        c->optimeout_s = (int)v;
        return SIM_OK;
    }
    return SIM_ERROR; /* "aliauth" and unknown keys: not simulated */
}

/* ---- WILLTOPIC / WILLMSG / TOPIC / PAYLOAD / SUBTOPIC / UNSUBTOPIC: ">" data ---- */

struct prompt_kind {
    const char *cmd;      /* reply prefix */
    unsigned need;
    long max;             /* req_length range 1..max */
    bool qos;             /* a <qos> parameter follows the length */
};

static const struct prompt_kind K_WILLTOPIC = {"+CMQTTWILLTOPIC", NEED_ACQ, 1024, false};
static const struct prompt_kind K_WILLMSG = {"+CMQTTWILLMSG", NEED_ACQ, 1024, true};
static const struct prompt_kind K_TOPIC = {"+CMQTTTOPIC", NEED_ACQ | NEED_CONN, 1024, false};
static const struct prompt_kind K_PAYLOAD = {"+CMQTTPAYLOAD", NEED_ACQ | NEED_CONN, 10240, false};
static const struct prompt_kind K_SUBTOPIC = {"+CMQTTSUBTOPIC", NEED_ACQ | NEED_CONN, 1024, true};
static const struct prompt_kind K_UNSUBTOPIC = {"+CMQTTUNSUBTOPIC", NEED_ACQ | NEED_CONN, 1024,
                                                false};

/* Validates "<idx>,<req_length>[,<qos>]" and the client state. Returns 0 and fills
 * c/len/qos, or a handler result to return. */
static int prompt_cmd(struct sim *s, const struct sim_req *r, const struct prompt_kind *k,
                      struct sim_cmqtt_client **cp, long *len, long *qos)
{
    long idx;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs != (k->qos ? 3 : 2) || !sim_arg_long(r, 1, len) ||
        (k->qos && !sim_arg_long(r, 2, qos)))
        return SIM_ERROR;
    int err = precheck(s, c, k->need);
    if (!err && (*len < 1 || *len > k->max))
        err = 22;
    if (!err && k->qos && (*qos < 0 || *qos > 2))
        err = 12;
    if (err)
        return fail(s, k->cmd, idx, err);
    *cp = c;
    return 1;
}

static int data_willtopic(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    if (!utf8_ok(c, p, n))
        return fail(s, K_WILLTOPIC.cmd, c->idx, 2);
    c->will_topic.len = 0;
    sim_buf_put(&c->will_topic, p, n);
    return SIM_OK;
}

static int data_willmsg(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    if (!utf8_ok(c, p, n))
        return fail(s, K_WILLMSG.cmd, c->idx, 2);
    c->will_msg.len = 0;
    sim_buf_put(&c->will_msg, p, n);
    c->will_qos = c->prompt_qos;
    return SIM_OK;
}

static int data_topic(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    if (!utf8_ok(c, p, n))
        return fail(s, K_TOPIC.cmd, c->idx, 2);
    c->topic.len = 0;
    sim_buf_put(&c->topic, p, n);
    return SIM_OK;
}

static int data_payload(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    if (!utf8_ok(c, p, n))
        return fail(s, K_PAYLOAD.cmd, c->idx, 2);
    c->payload.len = 0;
    sim_buf_put(&c->payload, p, n);
    return SIM_OK;
}

/* Topic cache records: <qos:1><len:2 big-endian><topic>. S1: at most 5120 B cached. */
static int cache_topic(struct sim *s, struct sim_cmqtt_client *c, struct sim_buf *cache,
                       size_t *bytes, const char *cmd, const uint8_t *p, size_t n, int qos)
{
    if (!utf8_ok(c, p, n))
        return fail(s, cmd, c->idx, 2);
    if (*bytes + n > 5120)
        return fail(s, cmd, c->idx, 22);
    uint8_t hdr[3] = {(uint8_t)qos, (uint8_t)(n >> 8), (uint8_t)n};
    sim_buf_put(cache, hdr, 3);
    sim_buf_put(cache, p, n);
    *bytes += n;
    return SIM_OK;
}

static int data_subtopic(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    return cache_topic(s, c, &c->subtopics, &c->subtopic_bytes, K_SUBTOPIC.cmd, p, n,
                       c->prompt_qos);
}

static int data_unsubtopic(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    return cache_topic(s, c, &c->unsubtopics, &c->unsubtopic_bytes, K_UNSUBTOPIC.cmd, p, n, 0);
}

static int open_prompt(struct sim *s, const struct sim_req *r, const struct prompt_kind *k,
                       sim_prompt_fn fn)
{
    struct sim_cmqtt_client *c = NULL;
    long len = 0, qos = 0;
    int rc = prompt_cmd(s, r, k, &c, &len, &qos);
    if (rc != 1)
        return rc;
    c->prompt_qos = (int)qos;
    return sim_prompt(s, (size_t)len, NULL, fn, c);
}

static int h_willtopic(struct sim *s, const struct sim_req *r)
{
    return open_prompt(s, r, &K_WILLTOPIC, data_willtopic);
}

static int h_willmsg(struct sim *s, const struct sim_req *r)
{
    return open_prompt(s, r, &K_WILLMSG, data_willmsg);
}

static int h_topic(struct sim *s, const struct sim_req *r)
{
    return open_prompt(s, r, &K_TOPIC, data_topic);
}

static int h_payload(struct sim *s, const struct sim_req *r)
{
    return open_prompt(s, r, &K_PAYLOAD, data_payload);
}

static int h_subtopic(struct sim *s, const struct sim_req *r)
{
    return open_prompt(s, r, &K_SUBTOPIC, data_subtopic);
}

static int h_unsubtopic(struct sim *s, const struct sim_req *r)
{
    return open_prompt(s, r, &K_UNSUBTOPIC, data_unsubtopic);
}

/* ---- CONNECT / DISC ---- */

static void connect_emitted(struct sim *s, void *ctx, int err)
{
    struct sim_cmqtt_client *c = ctx;
    c->busy_async = 0;
    if (err == 0 && !c->conn_dead && c->m) {
        c->conn = CM_CONNECTED;
        return;
    }
    if (err == 0) /* the broker dropped us before the host heard of the connection */
        sim_urc(s, "+CMQTTCONNLOST: %d,1", c->idx);
    sim_mqtt_close(c->m);
    c->m = NULL;
    c->conn = CM_IDLE;
    c->conn_dead = false;
    c->ssl_ctx = -1; /* S1 p.350: the SSL binding is cleared after a failed CONNECT */
}

static int h_connect(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        /* seed 001: "+CMQTTCONNECT: 0" / "+CMQTTCONNECT: 1" when not connected */
        struct sim_buf b = {0};
        for (int i = 0; i < SIM_NCLIENTS; i++) {
            const struct sim_cmqtt_client *c = &s->cmqtt.c[i];
            sim_buf_printf(&b, "%s+CMQTTCONNECT: %d", i ? "\r\n" : "", i);
            if (c->conn == CM_CONNECTED) {
                sim_buf_printf(&b, ",\"%s\",%d,%d", c->url, c->keepalive, c->clean);
                if (c->has_user)
                    sim_buf_printf(&b, ",\"%s\"", c->user);
                if (c->has_pass)
                    sim_buf_printf(&b, ",\"%s\"", c->pass);
            }
        }
        sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
        sim_buf_free(&b);
        return SIM_OK;
    }
    long idx, keepalive, clean = 0;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs < 3 || r->nargs > 6 || !r->arg[1].quoted ||
        !sim_arg_long(r, 2, &keepalive) || (sim_arg_has(r, 3) && !sim_arg_long(r, 3, &clean)))
        return SIM_ERROR;
    /* seed 000: LE11B01SIM7600M21-A "do not allow for a username and password with the
     * AT+CMQTTCONNECT=0 command": plain ERROR, no URC */
    if (r->nargs > 4 && !(s->prof->caps & SIM_CAP_CMQTT_AUTH))
        return SIM_ERROR;
    int err = precheck(s, c, NEED_ACQ);
    if (!err && c->conn != CM_IDLE)
        err = ERR_IN_USE;
    if (!err && (r->arg[1].len < 9 || r->arg[1].len > 256 ||
                 (r->nargs > 4 && (r->arg[4].len < 1 || r->arg[4].len > 256)) ||
                 (r->nargs > 5 && (r->arg[5].len < 1 || r->arg[5].len > 256))))
        err = 22;
    char url[257], host[257];
    int port = 0;
    if (!err) {
        sim_arg_str(r, 1, url, sizeof url);
        if (!sim_parse_url(url, host, sizeof host, &port) || keepalive < 1 ||
            keepalive > 64800 || clean < 0 || clean > 1)
            err = 12;
    }
    if (err)
        return fail(s, "+CMQTTCONNECT", idx, err);

    snprintf(c->url, sizeof c->url, "%s", url);
    c->keepalive = (int)keepalive;
    c->clean = (int)clean;
    c->has_user = r->nargs > 4 && sim_arg_str(r, 4, c->user, sizeof c->user);
    c->has_pass = r->nargs > 5 && sim_arg_str(r, 5, c->pass, sizeof c->pass);
    c->conn = CM_CONNECTING;
    c->conn_dead = false;
    op_start(s, c, "CONNECT", connect_emitted, 120); /* S1: max response 120 s */
    int id = c->busy_async;

    void *ssl = NULL;
    if (c->server_type == 1) {
        /* S1 p.350/354: without CMQTTSSLCFG, context number = client index */
        int ctxi = c->ssl_ctx >= 0 ? c->ssl_ctx : c->idx, tls_err = 0;
        ssl = sim_tls_build(s, ctxi, &tls_err);
        if (!ssl) {
            op_end(s, c, tls_err);
            return sim_async_reply(s, id);
        }
    }
    struct sim_mqtt_cfg cfg = {
        .host = host,
        .port = port,
        .keepalive_s = c->keepalive,
        .clean = c->clean == 1,
        .client_id = c->client_id,
        /* 3.1 unless ACCQ asked for 4; old firmware always 3.1 (UNVERIFIED, §9) */
        .version = c->version ? c->version : s->prof->cmqtt_default_version,
        .user = c->has_user ? c->user : NULL,
        .pass = c->has_pass ? c->pass : NULL,
        .ssl_ctx = ssl,
    };
    char will_topic[1025];
    if (c->will_topic.len) {
        memcpy(will_topic, c->will_topic.p, c->will_topic.len);
        will_topic[c->will_topic.len] = '\0';
        cfg.will_topic = will_topic;
        cfg.will_msg = c->will_msg.p;
        cfg.will_len = c->will_msg.len;
        cfg.will_qos = c->will_qos;
    }
    c->m = sim_mqtt_open(s, &cfg, on_event, c);
    return sim_async_reply(s, id);
}

static void disc_emitted(struct sim *s, void *ctx, int err)
{
    (void)s;
    (void)err;
    struct sim_cmqtt_client *c = ctx;
    c->busy_async = 0;
    sim_mqtt_close(c->m);
    c->m = NULL;
    c->conn = CM_IDLE;
    c->ssl_ctx = -1; /* S1 p.350: and after CMQTTDISC */
}

static int h_disc(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        /* S1: <disc_state> 1 = disconnected, 0 = connected */
        sim_reply(s, "+CMQTTDISC: 0,%d\r\n+CMQTTDISC: 1,%d",
                  s->cmqtt.c[0].conn == CM_CONNECTED ? 0 : 1,
                  s->cmqtt.c[1].conn == CM_CONNECTED ? 0 : 1);
        return SIM_OK;
    }
    long idx, timeout = 0;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs > 2 || (sim_arg_has(r, 1) && !sim_arg_long(r, 1, &timeout)))
        return SIM_ERROR;
    int err = precheck(s, c, NEED_ACQ | NEED_CONN);
    if (!err && timeout != 0 && (timeout < 60 || timeout > 180))
        err = 12;
    if (err)
        return fail(s, "+CMQTTDISC", idx, err);
    c->conn = CM_DISCONNECTING;
    op_start(s, c, "DISC", disc_emitted, timeout ? (int)timeout : 60);
    sim_mqtt_disconnect(c->m);
    return sim_async_reply(s, c->busy_async);
}

/* ---- PUB / SUB / UNSUB ---- */

static int h_pub(struct sim *s, const struct sim_req *r)
{
    long idx, qos, timeout, retain = 0, dup = 0;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    if (!c || r->nargs < 3 || r->nargs > 5 || !sim_arg_long(r, 1, &qos) ||
        !sim_arg_long(r, 2, &timeout) || (sim_arg_has(r, 3) && !sim_arg_long(r, 3, &retain)) ||
        (sim_arg_has(r, 4) && !sim_arg_long(r, 4, &dup)))
        return SIM_ERROR;
    int err = precheck(s, c, NEED_ACQ | NEED_CONN);
    if (!err && (qos < 0 || qos > 2 || timeout < 60 || timeout > 180 || retain < 0 ||
                 retain > 1 || dup < 0 || dup > 1))
        err = 12;
    if (!err && c->topic.len == 0)
        err = 18; /* topic is empty */
    struct sim_cmqtt_pub *p = NULL;
    for (int i = 0; !err && !p && i < SIM_CMQTT_MAX_INFLIGHT; i++)
        if (!c->pubs[i].async)
            p = &c->pubs[i];
    if (!err && !p)
        err = 14;
    if (err)
        return fail(s, "+CMQTTPUB", idx, err);

    char topic[1025];
    memcpy(topic, c->topic.p, c->topic.len);
    topic[c->topic.len] = '\0';
    p->qos = (int)qos;
    p->async = sim_async_begin(s, "PUB", pub_emitted, p);
    int id = p->async;
    int rc = sim_mqtt_publish(c->m, topic, c->payload.p, c->payload.len, (int)qos, retain == 1,
                              &p->mid);
    /* S1: TOPIC and PAYLOAD are cleared after CMQTTPUB */
    c->topic.len = 0;
    c->payload.len = 0;
    if (rc)
        sim_async_end(s, id, rc, "+CMQTTPUB: %ld,%d", idx, rc);
    else
        p->timer = sim_timer_add(s, timeout * 1000, pub_timeout, p, idx, 0);
    return sim_async_reply(s, id);
}

/* Subscribe or unsubscribe every record of the cache (a one-record buffer for the
 * single-topic forms). */
static int send_topics(struct sim *s, struct sim_cmqtt_client *c, bool sub,
                       const struct sim_buf *cache)
{
    op_start(s, c, sub ? "SUB" : "UNSUB", op_emitted, c->optimeout_s);
    int id = c->busy_async;
    c->sub_pending = 0;
    c->sub_err = 0;
    size_t off = 0;
    while (off + 3 <= cache->len) {
        int qos = cache->p[off];
        size_t n = ((size_t)cache->p[off + 1] << 8) | cache->p[off + 2];
        char topic[1025];
        memcpy(topic, cache->p + off + 3, n);
        topic[n] = '\0';
        off += 3 + n;
        int mid = 0;
        int rc = sub ? sim_mqtt_subscribe(c->m, topic, qos, &mid)
                     : sim_mqtt_unsubscribe(c->m, topic, &mid);
        if (rc) {
            c->sub_pending = 0;
            op_end(s, c, rc);
            break;
        }
        if (c->sub_pending < (int)(sizeof c->sub_mids / sizeof c->sub_mids[0]))
            c->sub_mids[c->sub_pending++] = mid;
    }
    return sim_async_reply(s, id);
}

static int data_sub_b(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    struct sim_buf one = {0};
    size_t bytes = 0;
    int rc = cache_topic(s, c, &one, &bytes, "+CMQTTSUB", p, n, c->prompt_qos);
    if (rc == SIM_OK)
        rc = send_topics(s, c, true, &one);
    sim_buf_free(&one);
    return rc;
}

static int data_unsub_b(struct sim *s, const uint8_t *p, size_t n, void *ctx)
{
    struct sim_cmqtt_client *c = ctx;
    struct sim_buf one = {0};
    size_t bytes = 0;
    int rc = cache_topic(s, c, &one, &bytes, "+CMQTTUNSUB", p, n, 0);
    if (rc == SIM_OK)
        rc = send_topics(s, c, false, &one);
    sim_buf_free(&one);
    return rc;
}

/* SUB form A "=<idx>[,<dup>]" sends the SUBTOPIC cache; form B
 * "=<idx>,<req_length>,<qos>[,<dup>]" takes one topic after ">" (S1 p.360). UNSUB form A
 * is "=<idx>,<dup>", form B "=<idx>,<req_length>,<dup>". */
static int sub_common(struct sim *s, const struct sim_req *r, bool sub)
{
    const char *cmd = sub ? "+CMQTTSUB" : "+CMQTTUNSUB";
    long idx, len = 0, qos = 0, dup = 0;
    struct sim_cmqtt_client *c = client_of(s, r, &idx);
    bool form_b = r->nargs >= 3;
    if (!c || r->nargs > (sub ? 4 : 3))
        return SIM_ERROR;
    if (form_b && (!sim_arg_long(r, 1, &len) || (sub && !sim_arg_long(r, 2, &qos))))
        return SIM_ERROR;
    int dup_at = form_b ? (sub ? 3 : 2) : 1;
    if (sim_arg_has(r, dup_at) && !sim_arg_long(r, dup_at, &dup))
        return SIM_ERROR;
    int err = precheck(s, c, NEED_ACQ | NEED_CONN);
    if (!err && form_b && (len < 1 || len > 1024))
        err = 22;
    if (!err && (qos < 0 || qos > 2 || dup < 0 || dup > 1))
        err = 12;
    struct sim_buf *cache = sub ? &c->subtopics : &c->unsubtopics;
    if (!err && !form_b && cache->len == 0)
        err = 18; /* UNVERIFIED: nothing cached = "topic is empty" */
    if (err)
        return fail(s, cmd, idx, err);
    if (form_b) {
        c->prompt_qos = (int)qos;
        return sim_prompt(s, (size_t)len, NULL, sub ? data_sub_b : data_unsub_b, c);
    }
    struct sim_buf topics = *cache; /* S1: the cache is cleared by SUB/UNSUB */
    memset(cache, 0, sizeof *cache);
    if (sub)
        c->subtopic_bytes = 0;
    else
        c->unsubtopic_bytes = 0;
    int rc = send_topics(s, c, sub, &topics);
    sim_buf_free(&topics);
    return rc;
}

static int h_sub(struct sim *s, const struct sim_req *r)
{
    return sub_common(s, r, true);
}

static int h_unsub(struct sim *s, const struct sim_req *r)
{
    return sub_common(s, r, false);
}

/* ---- faults ---- */

void sim_cmqtt_nonet(struct sim *s)
{
    /* S1 §16.3.2: "+CMQTTNONET": network lost, restart the service with CMQTTSTART.
     * UNVERIFIED: the service is stopped and the clients released. */
    sim_urc(s, "+CMQTTNONET");
    for (int i = 0; i < SIM_NCLIENTS; i++) {
        struct sim_cmqtt_client *c = &s->cmqtt.c[i];
        if (c->conn != CM_IDLE || c->busy_async)
            conn_gone(s, c, 3, false);
        clear_client(c);
    }
    s->cmqtt.started = false;
}

void sim_cmqtt_ping(struct sim *s, int err)
{
    for (int i = 0; i < SIM_NCLIENTS; i++)
        if (s->cmqtt.c[i].conn == CM_CONNECTED)
            sim_urc(s, "+CMQTTPING: %d,%d", i, err);
}

/* ---- power ---- */

static void power_off(struct sim *s)
{
    for (int i = 0; i < SIM_NCLIENTS; i++) {
        sim_mqtt_close(s->cmqtt.c[i].m);
        s->cmqtt.c[i].m = NULL;
        clear_client(&s->cmqtt.c[i]);
    }
    s->cmqtt.started = false;
}

static void power_on(struct sim *s)
{
    s->cmqtt.started = false;
    for (int i = 0; i < SIM_NCLIENTS; i++) {
        s->cmqtt.c[i].idx = i;
        clear_client(&s->cmqtt.c[i]);
    }
}

#define CM SIM_CAP_CMQTT
static const struct sim_cmd cmds[] = {
    /* test answers: S1 §16 (at-commands.md §1.1 table); profiles override ACCQ */
    {"+CMQTTSTART", CM, SIM_F_SIM, h_start, NULL},
    {"+CMQTTSTOP", CM, 0, h_stop, NULL},
    {"+CMQTTACCQ", CM, 0, h_accq, "+CMQTTACCQ: (0-1),(1-128),(0-1),(3-4)"},
    {"+CMQTTREL", CM, 0, h_rel, "+CMQTTREL: (0-1)"},
    {"+CMQTTSSLCFG", CM, 0, h_sslcfg, "+CMQTTSSLCFG: (0,1),(0-9)"},
    {"+CMQTTWILLTOPIC", CM, 0, h_willtopic, "+CMQTTWILLTOPIC: (0-1),(1-1024)"},
    {"+CMQTTWILLMSG", CM, 0, h_willmsg, "+CMQTTWILLMSG: (0-1),(1-1024),(0-2)"},
    {"+CMQTTCONNECT", CM, 0, h_connect, "+CMQTTCONNECT: (0-1),(9-256),(1-64800),(0-1)"},
    {"+CMQTTDISC", CM, 0, h_disc, "+CMQTTDISC: (0-1),(0,60-180)"},
    {"+CMQTTTOPIC", CM, 0, h_topic, "+CMQTTTOPIC: (0-1),(1-1024)"},
    {"+CMQTTPAYLOAD", CM, 0, h_payload, "+CMQTTPAYLOAD: (0-1),(1-10240)"},
    {"+CMQTTPUB", CM, 0, h_pub, "+CMQTTPUB: (0-1),(0-2),(60-180),(0-1),(0-1)"},
    {"+CMQTTSUBTOPIC", CM, 0, h_subtopic, "+CMQTTSUBTOPIC: (0-1),(1-1024),(0-2)"},
    {"+CMQTTSUB", CM, 0, h_sub, "+CMQTTSUB: (0-1),(1-1024),(0-2),(0-1)"},
    {"+CMQTTUNSUBTOPIC", CM, 0, h_unsubtopic, "+CMQTTUNSUBTOPIC: (0-1),(1-1024)"},
    {"+CMQTTUNSUB", CM, 0, h_unsub, "+CMQTTUNSUB: (0-1),(1-1024),(0-1)"},
    {"+CMQTTCFG", CM, 0, h_cfg,
     "+CMQTTCFG: \"checkUTF8\",(0-1),(0-1)\r\n"
     "+CMQTTCFG: \"optimeout\",(0-1),(20-120)\r\n"
     "+CMQTTCFG: \"aliauth\",(0-1),\"productkey\",\"devicename\",\"devicesecret\""},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_cmqtt = {"cmqtt", cmds, power_on, power_off};
