/*
 * MQTT through the module's own MQTT client, one API for every dialect.
 *
 * The module speaks MQTT; the host drives it with AT commands. The dialect is chosen
 * from the probed capabilities (include/modemkit/modem.h):
 *   MK_CAP_MQTT_CMQTT  AT+CMQTT* of SIM7500/SIM7600/A76xx (src/drivers/simcom/cmqtt.c)
 *   MK_CAP_MQTT_SM     AT+SM* of SIM7000/SIM7070 (src/drivers/simcom/smqtt.c)
 *
 * What the client guarantees:
 *   - two-phase operations (CONNECT, SUB, UNSUB, PUB, DISC, START, STOP) are complete
 *     only when both the final result and the completion URC arrived, in either order;
 *     no command for the client is sent before that (seed 001: SUBTOPIC sent while the
 *     CONNECT was still running got "+CMQTTSUBTOPIC: 0,14");
 *   - "client is busy" (14) is retried with a growing pause; "already started" (23) is
 *     adopted; "client is used" (19) is released and acquired again; "no connection"
 *     (11) triggers one reconnect and one retry of the operation;
 *   - what the firmware cannot do (credentials, MQTT 3.1.1, a TLS version) is refused
 *     before any byte is sent, with MK_E_FW_UNSUPPORTED and a message that names the
 *     firmware revision and the fix;
 *   - a lost connection (+CMQTTCONNLOST, +CMQTTPING, +CMQTTNONET, a module reboot) is
 *     recovered in mk_mqtt_poll(): exponential backoff with jitter, reconnect,
 *     resubscribe every topic, each state change reported through on_state;
 *   - every failure keeps the module's own error number (struct mk_mqtt_error), and
 *     mk_mqtt_code_info() gives its meaning and a remedy.
 *
 * Blocking model: every call runs AT commands to completion over the struct mk_at_chan
 * (mk_at_exec); waiting happens in the io's wait op, which on an MCU is where the main
 * loop runs its other work. No malloc, no printf, no OS: buffers come from the caller.
 *
 * Context: on_message runs synchronously inside whatever mk_mqtt_* call (or
 * mk_at_exec/mk_at_pump on the same channel) was reading when the message completed,
 * so it may run inside mk_mqtt_publish(). on_message and on_state must not call
 * mk_mqtt_* functions; they record what they need and return. One client per channel.
 */
#ifndef MODEMKIT_MQTT_H
#define MODEMKIT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/at.h"
#include "modemkit/err.h"
#include "modemkit/modem.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MK_MQTT_TOPIC_MAX      1024  /* CMQTT topics: 1..1024 bytes (S1 §16) */
#define MK_MQTT_PAYLOAD_MAX    10240 /* CMQTT payloads: up to 10240 bytes (S1 §16) */
#define MK_MQTT_SUBTOPIC_CACHE 5120  /* CMQTT: SUBTOPIC cache per SUB (S1 p.359) */

enum mk_mqtt_state {
    MK_MQTT_IDLE = 0,   /* not connected and not trying (initial, after disconnect) */
    MK_MQTT_CONNECTING, /* mk_mqtt_connect() is running its sequence */
    MK_MQTT_CONNECTED,
    MK_MQTT_RECOVERING, /* connection lost: reconnecting with backoff (mk_mqtt_poll) */
    MK_MQTT_FAILED,     /* recovery gave up on a permanent error; see mk_mqtt_last_error */
};

/* A received message. Views into the client's buffers, valid during on_message only. */
struct mk_mqtt_msg {
    const char *topic; /* NUL-terminated; topic_len bytes */
    size_t topic_len;
    const uint8_t *payload; /* any bytes, CR/LF and NUL included */
    size_t len;
    int qos;      /* -1: the module does not report it (CMQTT RX URCs, +SMSUB) */
    int retained; /* -1: not reported, else 0/1 */
};

/* The last failure, with the module's own number when it gave one. */
struct mk_mqtt_error {
    enum mk_err err; /* MK_OK when the last operation succeeded */
    int code;        /* CMQTT <err> 0..35 from the module, or -1 (none: ERROR, timeout) */
    char op[20];     /* the operation or command, e.g. "CONNECT", "SUBTOPIC", "SMCONN" */
    char text[320];  /* whole sentence for a person, e.g. "CONNECT: module error 30: ..." */
};

/* Meaning of a CMQTT <err> number (S1 §16.3.1; 35 from S11 §18.3.1). */
struct mk_mqtt_code {
    int code;
    enum mk_err err;     /* what the library reports for it */
    const char *meaning; /* "client is busy" */
    const char *remedy;  /* what to do, or NULL */
};

/*
 * The entry for a CMQTT <err> number 0..35, or NULL for any other number. Static data,
 * never changes.
 */
const struct mk_mqtt_code *mk_mqtt_code_info(int code);

/* A last will. CMQTT has no retain flag for the will (AT+CMQTTWILLMSG, S1 p.352). */
struct mk_mqtt_will {
    const char *topic;
    const uint8_t *msg;
    size_t len;
    int qos;
    bool retain;
};

/*
 * Connection options. The struct and every string and buffer it points to must stay
 * valid and unchanged until mk_mqtt_disconnect() returns: reconnects reuse them.
 */
struct mk_mqtt_connect_opts {
    const char *url;       /* "mqtt://host[:1883]" or "mqtts://host[:8883]" ("tcp://" =
                              mqtt://); the module resolves host itself */
    const char *client_id; /* 1..128 bytes, no '"' */
    uint16_t keepalive_s;  /* 0 = 60 */
    bool clean_session;
    const char *user;                /* NULL = none; no '"'; needs MK_CAP_MQTT_CREDENTIALS */
    const char *pass;                /* NULL = none; only with user */
    int version;                     /* 0 = module default, 3 = MQTT 3.1, 4 = MQTT 3.1.1 */
    const struct mk_mqtt_will *will; /* NULL = none */
    /* TLS (mqtts://): file names in the module's store (see include/modemkit/tls.h). */
    const char *ca_file;   /* CA certificate(s) the broker's certificate must chain to */
    const char *cert_file; /* client certificate, with key_file */
    const char *key_file;
    int authmode;    /* -1 = from the files: none 0, CA 1, CA+cert+key 2, cert+key 3 */
    int tls_version; /* -1 = module default, never sent; 0..4 = CSSLCFG sslversion
                        (0 SSL3.0, 1 TLS1.0, 2 TLS1.1, 3 TLS1.2, 4 all) */
};

/* Sets every field to its default (url and client_id NULL, version 0, authmode -1,
 * tls_version -1, keepalive 60, clean session on). */
void mk_mqtt_opts_init(struct mk_mqtt_connect_opts *o);

struct mk_mqtt_config {
    struct mk_at_chan *chan;          /* synced channel, echo off or on */
    const struct mk_modem_id *id;     /* from mk_modem_identify; may be NULL */
    const struct mk_modem_caps *caps; /* from mk_modem_probe; selects the dialect */
    unsigned client_index;            /* CMQTT client slot 0 or 1 */

    /* Receive buffers: a message whose topic or payload does not fit is dropped whole
     * (counted in mk_mqtt_stats.rx_dropped). topic_cap >= 1025 and payload_cap >= 10240
     * receive anything a CMQTT module can deliver. */
    char *topic_buf;
    size_t topic_cap;
    uint8_t *payload_buf;
    size_t payload_cap;

    /* Subscription list, for resubscribing after a reconnect: each topic costs its
     * length + 2 bytes. Subscribing more than fits fails with MK_E_NOSPC. */
    uint8_t *sub_buf;
    size_t sub_cap;

    void (*on_message)(void *user, const struct mk_mqtt_msg *msg);
    /* Every state change; err/detail say why (MK_OK and "" for a plain success). */
    void (*on_state)(void *user, enum mk_mqtt_state old_state, enum mk_mqtt_state new_state,
                     enum mk_err err, const char *detail);
    /*
     * The module rebooted (the channel returned MK_E_HANGUP). The application reopens
     * its port (same path: USB modules re-enumerate), hands the new io to the channel
     * (mk_at_chan_set_io) and syncs it (AT until OK); it does all the waiting for the
     * module to come back, within the application's own deadline. An error makes the
     * client FAILED (the module did not come back). NULL: a reboot is fatal.
     */
    enum mk_err (*reopen)(void *user);
    /* 32 random bits for backoff jitter; NULL = an internal generator seeded with
     * rand_seed (tests inject their own for repeatable schedules). */
    uint32_t (*rand32)(void *user);
    uint64_t rand_seed;
    void *user;

    uint32_t backoff_min_ms;   /* first reconnect pause; 0 = 1000 */
    uint32_t backoff_max_ms;   /* cap of the doubling pause; 0 = 60000 */
    uint32_t cmd_timeout_ms;   /* deadline of a command's final result (+1 ms per data byte);
                                  0 = 10000 */
    uint32_t op_timeout_ms;    /* deadline of a completion URC; 0 = 130000 (S1: 120 s max) */
    uint32_t busy_retry_ms;    /* how long "client is busy" (14) is retried; 0 = 15000 */
    uint32_t ready_timeout_ms; /* after a reopen, wait for the SIM (AT+CPIN?); 0 = 30000 */
};

struct mk_mqtt_stats {
    uint32_t rx_messages;  /* delivered to on_message */
    uint32_t rx_dropped;   /* did not fit, or arrived malformed (line noise) */
    uint32_t reconnects;   /* successful recoveries */
    uint32_t busy_retries; /* commands repeated after "client is busy" */
    uint32_t late_urcs;    /* completion URCs that came after their deadline */
};

struct mk_mqtt_driver; /* src/mqtt/mqtt_int.h */

/*
 * The client. Callers own it; treat every field as private. Its URC table lives inside
 * it, so it must not move while initialised.
 */
struct mk_mqtt_client {
    struct mk_mqtt_config cfg;
    const struct mk_mqtt_driver *drv;
    const struct mk_mqtt_connect_opts *opts;
    enum mk_mqtt_state state;
    struct mk_mqtt_error last;
    struct mk_mqtt_stats stats;
    /* set by URC callbacks, acted on by mk_mqtt_poll() */
    unsigned events;
    char lost_line[72]; /* the URC (or reason) that ended the last connection */
    /* recovery */
    unsigned attempt;
    uint64_t next_try_ms;
    uint64_t rng;
    bool reopen_failed;
    /* module-side state as far as the driver knows it */
    bool started, acquired;
    unsigned drv_flags; /* driver-private facts (e.g. UTF-8 check could not be disabled) */
    /* subscription list: records of <qos:1><topic><NUL> */
    size_t sub_len;
    /* receive reassembly */
    struct {
        int phase; /* 0 idle, 1 in a message */
        size_t topic_total, payload_total, topic_got, payload_got;
        bool bad;      /* drop this message */
        bool in_topic; /* the raw read in progress is a topic chunk */
    } rx;
    struct mk_at_urc urcs[14];
    size_t n_urcs;
};

/*
 * Initialises the client and registers its URC table on the channel (mk_at_add_urcs).
 * Nothing is sent. MK_E_UNSUPPORTED when caps has no MQTT dialect this library drives
 * (the error text says what the module is), MK_E_INVAL for missing buffers or a client
 * index other than 0/1, MK_E_NOSPC when the channel has no room for another URC table.
 */
enum mk_err mk_mqtt_init(struct mk_mqtt_client *c, const struct mk_mqtt_config *cfg);

/* Removes the URC table from the channel. Does not talk to the module (see disconnect). */
void mk_mqtt_release(struct mk_mqtt_client *c);

/*
 * Checks opts (syntax, dialect limits, what this firmware can do) without sending
 * anything: MK_OK, or the error mk_mqtt_connect() would return before its first command
 * (MK_E_INVAL, MK_E_FW_UNSUPPORTED, MK_E_UNSUPPORTED, MK_E_NOSPC), with
 * mk_mqtt_last_error() saying why. Lets an application check before it uploads
 * certificates.
 */
enum mk_err mk_mqtt_check_opts(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *opts);

/*
 * Checks opts against the firmware's capabilities without sending anything, then runs
 * the dialect's connect sequence (CMQTT: START, ACCQ, CFG checkUTF8 off, TLS binding,
 * will, CONNECT and its completion URC). Returns MK_OK when the broker accepted.
 * On failure the state stays IDLE (nothing is retried in the background) and
 * mk_mqtt_last_error() says what the module said. MK_E_FW_UNSUPPORTED when the
 * firmware cannot do what opts ask (nothing was sent when it was known beforehand).
 * Any stored subscriptions are forgotten.
 */
enum mk_err mk_mqtt_connect(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *opts);

/*
 * Publishes one message (topic 1..1024 bytes, payload 0..10240 bytes on CMQTT; QoS
 * 0..2). Returns when the module reported the publish done (+CMQTTPUB: <idx>,0: for
 * QoS 1/2 the broker acknowledged it). MK_E_MQTT_NOT_CONNECTED when not connected.
 */
enum mk_err mk_mqtt_publish(struct mk_mqtt_client *c, const char *topic, const uint8_t *payload,
                            size_t len, int qos, bool retain);

/*
 * Subscribes to n topic filters with one QoS, in as few SUBSCRIBE packets as the
 * module's topic cache allows. On success they are stored for resubscribing; MK_E_NOSPC
 * (nothing sent) when they do not fit in sub_buf.
 */
enum mk_err mk_mqtt_subscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n,
                              int qos);

/* Unsubscribes n topic filters and forgets them. */
enum mk_err mk_mqtt_unsubscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n);

/*
 * Disconnects from the broker and gives the module's client back (CMQTT: DISC, REL,
 * STOP). Errors on the way are reported but the client ends IDLE either way.
 */
enum mk_err mk_mqtt_disconnect(struct mk_mqtt_client *c);

/*
 * Reads URCs for up to wait_ms (messages go to on_message), acts on connection losses
 * and runs the recovery when its time has come (which can take longer than wait_ms:
 * a reconnect runs to its end). Returns MK_OK while the client is connected or
 * recovering, the permanent error once it is FAILED, MK_E_STATE when IDLE.
 */
enum mk_err mk_mqtt_poll(struct mk_mqtt_client *c, uint32_t wait_ms);

enum mk_mqtt_state mk_mqtt_state(const struct mk_mqtt_client *c);
const struct mk_mqtt_error *mk_mqtt_last_error(const struct mk_mqtt_client *c);
const struct mk_mqtt_stats *mk_mqtt_stats(const struct mk_mqtt_client *c);
const char *mk_mqtt_state_name(enum mk_mqtt_state s);

/* Name of the dialect in use ("cmqtt", "sm"). */
const char *mk_mqtt_dialect(const struct mk_mqtt_client *c);

/*
 * Splits an MQTT URL: scheme "mqtt", "tcp" (plain) or "mqtts" (TLS), host, optional
 * ":port" (default 1883 / 8883). Host is a view into url. MK_E_FORMAT otherwise.
 */
enum mk_err mk_mqtt_parse_url(const char *url, const char **host, size_t *host_len, uint16_t *port,
                              bool *tls);

#ifdef __cplusplus
}
#endif

#endif
