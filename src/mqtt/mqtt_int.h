/*
 * Internal API between the vendor-neutral MQTT client (src/mqtt/mqtt.c) and the dialect
 * drivers (src/drivers/simcom/cmqtt.c, smqtt.c).
 *
 * A driver runs whole sequences over the client's channel with mk_at_exec(): it never
 * returns with a command half done, so the client can never send a command while an
 * earlier one still waits for its completion URC. Drivers report failures through
 * mk_mqtt_err_begin() (which fills c->last) and return the mk_err.
 */
#ifndef MK_MQTT_INT_H
#define MK_MQTT_INT_H

#include "modemkit/mqtt.h"
#include "modemkit/str.h"

/* c->events bits, set by URC callbacks and by failed operations. */
#define MK_MQTT_EV_LOST   0x1u /* the broker connection is gone (CONNLOST, PING, NONET, 11) */
#define MK_MQTT_EV_HANGUP 0x2u /* the port hung up: the module rebooted */

struct mk_mqtt_driver {
    const char *name;
    /* Fill c->urcs/c->n_urcs with the dialect's URC prefixes (user = c). */
    void (*attach)(struct mk_mqtt_client *c);
    /* Dialect limits of the options, no I/O. MK_OK or the error (c->last filled). */
    enum mk_err (*check)(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *o);
    /* The whole connect sequence for c->opts, from whatever state the module is in. */
    enum mk_err (*connect)(struct mk_mqtt_client *c);
    enum mk_err (*publish)(struct mk_mqtt_client *c, const char *topic, size_t topic_len,
                           const uint8_t *payload, size_t len, int qos, bool retain);
    /* n >= 1 topics with one QoS; the driver splits them as the module needs. */
    enum mk_err (*subscribe)(struct mk_mqtt_client *c, const char *const *topics, size_t n,
                             int qos);
    enum mk_err (*unsubscribe)(struct mk_mqtt_client *c, const char *const *topics, size_t n);
    /* Disconnect and give the module's client back; best effort, first error returned. */
    enum mk_err (*disconnect)(struct mk_mqtt_client *c);
};

extern const struct mk_mqtt_driver mk_mqtt_drv_cmqtt;
extern const struct mk_mqtt_driver mk_mqtt_drv_sm;

/* ---- helpers the drivers use (mqtt.c) ---- */

/*
 * Starts the error record: c->last.err/code/op are set and sb writes c->last.text, which
 * starts with "<op>: ". The caller appends the sentence. The text stays NUL-terminated
 * (cut at its capacity, which is generous for the sentences used).
 */
void mk_mqtt_err_begin(struct mk_mqtt_client *c, struct mk_sb *sb, enum mk_err err, int code,
                       const char *op);

/*
 * The module's CMQTT <err>: "<op>: module error <n>: <meaning>[ - <remedy>]". Returns
 * the mapped mk_err (MK_E_MQTT_FAILED for numbers outside the table).
 */
enum mk_err mk_mqtt_fail_code(struct mk_mqtt_client *c, const char *op, int code);

/* A failed mk_at_exec() (timeout, hangup): a sentence for op; returns e. */
enum mk_err mk_mqtt_fail_exec(struct mk_mqtt_client *c, const char *op, enum mk_err e,
                              const struct mk_at_result *res, uint32_t waited_ms);

/* The firmware revision for messages ("LE11B01SIM7600M21-A"), or "this firmware". */
const char *mk_mqtt_fw(const struct mk_mqtt_client *c);

/* Reads and dispatches URCs for ms (through the io's wait op). MK_OK or the io error. */
enum mk_err mk_mqtt_pause(struct mk_mqtt_client *c, uint32_t ms);

/* Now on the channel's clock. */
uint64_t mk_mqtt_now(const struct mk_mqtt_client *c);

/* Effective timeouts (config value or default). */
uint32_t mk_mqtt_op_timeout(const struct mk_mqtt_client *c);
uint32_t mk_mqtt_cmd_timeout(const struct mk_mqtt_client *c);
uint32_t mk_mqtt_busy_window(const struct mk_mqtt_client *c);

/* Polls AT+CPIN? until "READY" (ready_timeout_ms): after a reboot or right after power-up
 * the module answers AT before its SIM is, and MQTT commands fail with "SIM busy". */
enum mk_err mk_mqtt_wait_sim(struct mk_mqtt_client *c);

/* From URC callbacks: the connection is gone; line is kept for the state report. */
void mk_mqtt_note_lost(struct mk_mqtt_client *c, const char *line, size_t len);

/* From receive code: a complete message is in the client's buffers; deliver it. */
void mk_mqtt_deliver(struct mk_mqtt_client *c, size_t topic_len, size_t payload_len, int qos,
                     int retained);

/* True when s has no '"', CR, LF or other control byte (usable inside an AT string). */
bool mk_mqtt_at_string_ok(const char *s, size_t len);

#endif
