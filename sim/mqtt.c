/*
 * modemsim MQTT glue: the module's MQTT client is a real libmosquitto client, driven by
 * the simulator's single poll loop (mosquitto_socket + mosquitto_loop_read/write/misc,
 * no libmosquitto thread).
 *
 * libmosquitto callbacks only queue events (with copies of topic and payload); the main
 * loop delivers them to the owner (CMQTT or SM*) outside any libmosquitto call. So an
 * owner may open, publish or close from its event handler, and no event is ever
 * delivered from inside the call that caused it.
 *
 * Error mapping to CMQTT <err> (S1 §16.3.1): connect() refused → 3 (sock connect fail);
 * host not loopback → 25 (DNS error: the simulator never leaves 127.0.0.1); closed
 * before CONNACK → 26 (socket closed by server) or, over TLS, 32 (handshake fail);
 * CONNACK 1..5 → 27..31 (done by the owner).
 */
#include "sim.h"

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct mqtt_ev_node {
    struct sim_mqtt_ev ev;
    char *topic;
    uint8_t *payload;
    struct mqtt_ev_node *next;
};

struct sim_mqtt {
    struct sim *s;
    struct mosquitto *mosq;
    bool tls;
    bool connacked;  /* CONNACK 0 received */
    bool closing;    /* graceful disconnect asked for */
    bool terminal;   /* the last event (FAILED, LOST, CLOSED, refused CONNACK) is queued */
    bool destroy;    /* free mosq once out of libmosquitto */
    bool owner_gone; /* sim_mqtt_close(): free at the next reap */
    int pfd;         /* index in the pollfd array, -1 = not polled */
    sim_mqtt_cb cb;
    void *ctx;
    struct mqtt_ev_node *head, *tail;
    struct sim_mqtt *next;
};

static void push(struct sim_mqtt *m, enum sim_mqtt_ev_type type, int code, int mid,
                 const char *topic, const void *payload, size_t len)
{
    if (m->owner_gone)
        return;
    struct mqtt_ev_node *n = sim_xmalloc(sizeof *n);
    memset(n, 0, sizeof *n);
    n->ev.type = type;
    n->ev.code = code;
    n->ev.mid = mid;
    if (topic) {
        n->topic = sim_xstrdup(topic);
        n->ev.topic = n->topic;
    }
    if (type == SIM_MQTT_MESSAGE) {
        n->payload = (uint8_t *)sim_xmemdup(payload, len);
        n->ev.payload = n->payload;
        n->ev.len = len;
    }
    if (m->tail)
        m->tail->next = n;
    else
        m->head = n;
    m->tail = n;
}

static void push_terminal(struct sim_mqtt *m, enum sim_mqtt_ev_type type, int code)
{
    if (m->terminal)
        return;
    m->terminal = true;
    m->destroy = true;
    push(m, type, code, 0, NULL, NULL, 0);
}

/* The connection ended without a CONNACK or a CLOSED: classify. */
static void ended(struct sim_mqtt *m)
{
    if (m->closing)
        push_terminal(m, SIM_MQTT_CLOSED, 0);
    else if (m->connacked)
        push_terminal(m, SIM_MQTT_LOST, 1); /* CONNLOST cause 1: socket closed passively */
    else
        push_terminal(m, SIM_MQTT_FAILED, m->tls ? 32 : 26);
}

/* ---- libmosquitto callbacks (queue only) ---- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct sim_mqtt *m = obj;
    if (rc == 0) {
        m->connacked = true;
        push(m, SIM_MQTT_CONNACK, 0, 0, NULL, NULL, 0);
        sim_fault_connected(m->s);
    } else {
        push_terminal(m, SIM_MQTT_CONNACK, rc);
    }
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    (void)rc;
    ended(obj);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    push(obj, SIM_MQTT_PUBDONE, 0, mid, NULL, NULL, 0);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
    (void)mosq;
    int code = 0;
    for (int i = 0; i < n; i++)
        if (granted[i] > 2)
            code = 1; /* 0x80: the broker refused this filter */
    push(obj, SIM_MQTT_SUBACK, code, mid, NULL, NULL, 0);
}

static void on_unsubscribe(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    push(obj, SIM_MQTT_UNSUBACK, 0, mid, NULL, NULL, 0);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)mosq;
    push(obj, SIM_MQTT_MESSAGE, msg->qos, msg->mid, msg->topic, msg->payload,
         (size_t)(msg->payloadlen > 0 ? msg->payloadlen : 0));
}

/* ---- API ---- */

struct sim_mqtt *sim_mqtt_open(struct sim *s, const struct sim_mqtt_cfg *cfg, sim_mqtt_cb cb,
                               void *ctx)
{
    static bool lib_ready;
    if (!lib_ready) {
        mosquitto_lib_init();
        lib_ready = true;
    }
    struct sim_mqtt *m = sim_xmalloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->s = s;
    m->cb = cb;
    m->ctx = ctx;
    m->pfd = -1;
    m->tls = cfg->ssl_ctx != NULL;
    m->next = s->mqtt_list;
    s->mqtt_list = m;

    if (!sim_host_allowed(cfg->host)) {
        if (cfg->ssl_ctx)
            SSL_CTX_free(cfg->ssl_ctx);
        push_terminal(m, SIM_MQTT_FAILED, 25);
        return m;
    }
    m->mosq = mosquitto_new(cfg->client_id, cfg->clean, m);
    if (!m->mosq) {
        if (cfg->ssl_ctx)
            SSL_CTX_free(cfg->ssl_ctx);
        push_terminal(m, SIM_MQTT_FAILED, 1);
        return m;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                         cfg->version == 4 ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V31);
    if (cfg->ssl_ctx) {
        /* Our own SSL_CTX, built from the module's TLS store (cmd_tls.c). libmosquitto
         * takes a reference; drop ours. No hostname check: UNVERIFIED what the module
         * does, none of the field reports depends on it. */
        mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, cfg->ssl_ctx);
        mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
        SSL_CTX_free(cfg->ssl_ctx);
    }
    if (cfg->will_topic)
        mosquitto_will_set(m->mosq, cfg->will_topic, (int)cfg->will_len, cfg->will_msg,
                           cfg->will_qos, false);
    if (cfg->user)
        mosquitto_username_pw_set(m->mosq, cfg->user, cfg->pass);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
    mosquitto_unsubscribe_callback_set(m->mosq, on_unsubscribe);
    mosquitto_message_callback_set(m->mosq, on_message);
    /* libmosquitto refuses keepalives under 5 s; the module allows 1 (S1). */
    int keepalive = cfg->keepalive_s < 5 ? 5 : cfg->keepalive_s;
    /* A blocking TCP connect is fine: only loopback is reachable. The TLS handshake and
     * the CONNECT/CONNACK exchange run in the poll loop. */
    int rc = mosquitto_connect(m->mosq, cfg->host, cfg->port, keepalive);
    if (rc != MOSQ_ERR_SUCCESS) {
        sim_log(s, "mqtt: connect to %s:%d: %s", cfg->host, cfg->port, mosquitto_strerror(rc));
        /* On loopback the server answers so fast that the first SSL_write inside
         * mosquitto_connect() may already run (and fail) the whole handshake. */
        int err = 3;
        if (rc == MOSQ_ERR_EAI)
            err = 25;
        else if (m->tls && (rc == MOSQ_ERR_TLS || (rc == MOSQ_ERR_ERRNO && errno == EPROTO)))
            err = 32;
        push_terminal(m, SIM_MQTT_FAILED, err);
    }
    return m;
}

int sim_mqtt_publish(struct sim_mqtt *m, const char *topic, const void *p, size_t n, int qos,
                     bool retain, int *mid)
{
    if (!m->mosq || m->terminal || !m->connacked)
        return 11;
    int rc = mosquitto_publish(m->mosq, mid, topic, (int)n, p, qos, retain);
    if (rc == MOSQ_ERR_SUCCESS)
        return 0;
    if (rc == MOSQ_ERR_MALFORMED_UTF8)
        return 2;
    if (rc == MOSQ_ERR_NO_CONN)
        return 11;
    return 24; /* packet fail */
}

int sim_mqtt_subscribe(struct sim_mqtt *m, const char *topic, int qos, int *mid)
{
    if (!m->mosq || m->terminal || !m->connacked)
        return 11;
    int rc = mosquitto_subscribe(m->mosq, mid, topic, qos);
    return rc == MOSQ_ERR_SUCCESS ? 0 : rc == MOSQ_ERR_MALFORMED_UTF8 ? 2 : 24;
}

int sim_mqtt_unsubscribe(struct sim_mqtt *m, const char *topic, int *mid)
{
    if (!m->mosq || m->terminal || !m->connacked)
        return 11;
    int rc = mosquitto_unsubscribe(m->mosq, mid, topic);
    return rc == MOSQ_ERR_SUCCESS ? 0 : rc == MOSQ_ERR_MALFORMED_UTF8 ? 2 : 24;
}

void sim_mqtt_disconnect(struct sim_mqtt *m)
{
    m->closing = true;
    if (!m->mosq || m->terminal) {
        push_terminal(m, SIM_MQTT_CLOSED, 0);
        return;
    }
    if (mosquitto_disconnect(m->mosq) != MOSQ_ERR_SUCCESS)
        push_terminal(m, SIM_MQTT_CLOSED, 0);
}

static void free_events(struct sim_mqtt *m)
{
    while (m->head) {
        struct mqtt_ev_node *n = m->head;
        m->head = n->next;
        free(n->topic);
        free(n->payload);
        free(n);
    }
    m->tail = NULL;
}

static void kill_mosq(struct sim_mqtt *m)
{
    if (m->mosq) {
        mosquitto_destroy(m->mosq); /* closes the socket without DISCONNECT */
        m->mosq = NULL;
    }
    m->destroy = false;
}

void sim_mqtt_close(struct sim_mqtt *m)
{
    if (!m)
        return;
    m->owner_gone = true;
    kill_mosq(m);
    free_events(m);
}

void sim_mqtt_drop_all(struct sim *s)
{
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next) {
        if (m->owner_gone || m->terminal || !m->mosq)
            continue;
        sim_log(s, "fault: dropping a broker connection");
        kill_mosq(m);
        m->closing = false;
        ended(m);
    }
}

bool sim_mqtt_any(struct sim *s)
{
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next)
        if (!m->owner_gone)
            return true;
    return false;
}

int sim_mqtt_pollfds(struct sim *s, void *pfds_v, int max)
{
    struct pollfd *pfds = pfds_v;
    int n = 0;
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next) {
        m->pfd = -1;
        if (!m->mosq || m->terminal || n >= max)
            continue;
        int fd = mosquitto_socket(m->mosq);
        if (fd < 0)
            continue;
        pfds[n].fd = fd;
        pfds[n].events = (short)(POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0));
        pfds[n].revents = 0;
        m->pfd = n++;
    }
    return n;
}

static void check_rc(struct sim_mqtt *m, int rc)
{
    if (rc != MOSQ_ERR_SUCCESS && !m->terminal) {
        sim_log(m->s, "mqtt: connection ends: %s", mosquitto_strerror(rc));
        ended(m);
    }
}

static void reap(struct sim *s)
{
    for (struct sim_mqtt **pp = &s->mqtt_list; *pp;) {
        struct sim_mqtt *m = *pp;
        if (m->destroy)
            kill_mosq(m);
        if (m->owner_gone) {
            *pp = m->next;
            free_events(m);
            free(m);
        } else {
            pp = &m->next;
        }
    }
}

static void deliver(struct sim *s)
{
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next) {
        while (m->head && !m->owner_gone) {
            struct mqtt_ev_node *n = m->head;
            m->head = n->next;
            if (!m->head)
                m->tail = NULL;
            m->cb(s, m->ctx, &n->ev);
            free(n->topic);
            free(n->payload);
            free(n);
        }
    }
}

void sim_mqtt_dispatch(struct sim *s, const void *pfds_v, int n)
{
    const struct pollfd *pfds = pfds_v;
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next) {
        if (m->pfd < 0 || m->pfd >= n || !m->mosq || m->terminal)
            continue;
        short re = pfds[m->pfd].revents;
        if (re & (POLLIN | POLLERR | POLLHUP)) {
            check_rc(m, mosquitto_loop_read(m->mosq, 1));
            /* TLS may hold decrypted bytes the socket will never signal again */
            SSL *ssl = m->mosq && !m->terminal ? mosquitto_ssl_get(m->mosq) : NULL;
            while (ssl && SSL_pending(ssl) > 0 && m->mosq && !m->terminal)
                check_rc(m, mosquitto_loop_read(m->mosq, 1));
        }
        if ((re & POLLOUT) && m->mosq && !m->terminal)
            check_rc(m, mosquitto_loop_write(m->mosq, 1));
    }
    sim_mqtt_misc(s);
    deliver(s);
    reap(s);
}

void sim_mqtt_misc(struct sim *s)
{
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next) {
        if (!m->mosq || m->terminal)
            continue;
        int rc = mosquitto_loop_misc(m->mosq);
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
            check_rc(m, rc);
        if (m->mosq && !m->terminal && mosquitto_socket(m->mosq) < 0 && m->connacked)
            ended(m); /* keepalive timeout closed the socket */
    }
}

bool sim_mqtt_events_pending(struct sim *s)
{
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next)
        if ((m->head && !m->owner_gone) || m->destroy || m->owner_gone)
            return true;
    return false;
}

void sim_mqtt_shutdown(struct sim *s)
{
    for (struct sim_mqtt *m = s->mqtt_list; m; m = m->next)
        sim_mqtt_close(m);
    reap(s);
    mosquitto_lib_cleanup();
}
