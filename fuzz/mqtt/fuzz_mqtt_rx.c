/*
 * libFuzzer target for the MQTT client's receive side: a connected CMQTT (or SM*) client
 * reads arbitrary module bytes (+CMQTTRX* blocks with wrong lengths, chunk headers out of
 * order, CONNLOST/PING/NONET, +SMSUB lines, completions nobody waits for) in arbitrary
 * chunks, and runs whatever recovery they trigger, on a virtual clock. The input ends
 * with a hang-up, which (without a reopen callback) makes the client give up, so every
 * run ends. Delivered messages must stay inside the caller's buffers.
 *
 * Input: byte 0 = flags (bit 0: SM* dialect, bits 1-3: chunk size), the rest = bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "modemkit/mqtt.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

struct fz_io {
    const uint8_t *p;
    size_t len, off, chunk;
    uint64_t now;
};

static enum mk_err fz_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct fz_io *f = ctx;
    *n = 0;
    if (f->off >= f->len)
        return MK_E_HANGUP;
    size_t k = f->len - f->off;
    if (k > f->chunk)
        k = f->chunk;
    if (k > cap)
        k = cap;
    memcpy(buf, f->p + f->off, k);
    f->off += k;
    *n = k;
    return MK_OK;
}

static enum mk_err fz_write(void *ctx, const uint8_t *buf, size_t len, size_t *n)
{
    (void)ctx;
    (void)buf;
    *n = len;
    return MK_OK;
}

static enum mk_err fz_wait(void *ctx, uint32_t ms, bool want_write)
{
    struct fz_io *f = ctx;
    (void)want_write;
    f->now += f->off < f->len ? 1 : ms; /* time passes; more when nothing comes */
    return MK_OK;
}

static uint64_t fz_now(void *ctx)
{
    return ((struct fz_io *)ctx)->now;
}

static volatile uint8_t SINK;

static void on_msg(void *user, const struct mk_mqtt_msg *m)
{
    (void)user;
    uint8_t x = 0;
    for (size_t i = 0; i <= m->topic_len; i++) /* the NUL too */
        x ^= (uint8_t)m->topic[i];
    for (size_t i = 0; i < m->len; i++)
        x ^= m->payload[i];
    CHECK(m->topic[m->topic_len] == '\0');
    SINK = x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static struct fz_io f;
    static struct mk_io_ops ops = {fz_read, fz_write, NULL, fz_wait};
    static struct mk_io io;
    static struct mk_clock clock = {fz_now, &f};
    static struct mk_at_chan ch;
    static char line[300];
    static char topic[200];
    static uint8_t payload[600], subs[64];
    static struct mk_mqtt_client c;
    f.p = data + 1;
    f.len = size - 1;
    f.off = 0;
    f.chunk = 1 + ((data[0] >> 1) & 7) * 37u;
    f.now = 1000;
    io.ops = &ops;
    io.ctx = &f;
    struct mk_at_config acfg = {0};
    acfg.line_buf = line;
    acfg.line_cap = sizeof line;
    mk_at_chan_init(&ch, &acfg, &io, &clock);

    struct mk_modem_id id = {0};
    struct mk_modem_caps caps = {0};
    caps.bits = (data[0] & 1) ? MK_CAP_MQTT_SM : MK_CAP_MQTT_CMQTT | MK_CAP_TLS;
    id.family = (data[0] & 1) ? MK_FAMILY_SIM7000 : MK_FAMILY_SIM7600;
    struct mk_mqtt_config cfg = {0};
    cfg.chan = &ch;
    cfg.id = &id;
    cfg.caps = &caps;
    cfg.topic_buf = topic;
    cfg.topic_cap = sizeof topic;
    cfg.payload_buf = payload;
    cfg.payload_cap = sizeof payload;
    cfg.sub_buf = subs;
    cfg.sub_cap = sizeof subs;
    cfg.on_message = on_msg;
    cfg.cmd_timeout_ms = 200;
    cfg.op_timeout_ms = 300;
    cfg.busy_retry_ms = 300;
    cfg.backoff_min_ms = 50;
    cfg.backoff_max_ms = 200;
    cfg.ready_timeout_ms = 500;
    CHECK(mk_mqtt_init(&c, &cfg) == MK_OK);
    static struct mk_mqtt_connect_opts o;
    mk_mqtt_opts_init(&o);
    o.url = "mqtt://127.0.0.1:1883";
    o.client_id = "fz";
    c.opts = &o;
    c.state = MK_MQTT_CONNECTED; /* as after mk_mqtt_connect() */
    c.started = c.acquired = true;
    for (int i = 0; i < 50 && mk_mqtt_state(&c) != MK_MQTT_FAILED; i++)
        mk_mqtt_poll(&c, 1000);
    CHECK(c.rx.topic_got <= sizeof topic && c.rx.payload_got <= sizeof payload);
    mk_mqtt_release(&c);
    return 0;
}
