/*
 * Fixture for MQTT driver unit tests: a scripted module behind tests/support/fake_io.h on
 * a virtual clock, a client with buffers, and logs of what happened (messages, state
 * changes, the AT trace with virtual timestamps) for assertions.
 */
#ifndef MK_TEST_MQTT_FIXTURE_H
#define MK_TEST_MQTT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "mk_test.h"
#include "modemkit/mqtt.h"
#include "support/fake_io.h"

static struct mk_fake_io F;
static struct mk_at_chan CH;
static char LINE[1200];
static struct mk_mqtt_client C;
static char TOPIC[MK_MQTT_TOPIC_MAX + 1];
static uint8_t PAYLOAD[MK_MQTT_PAYLOAD_MAX];
static uint8_t SUBS[600];
static struct mk_modem_id ID;
static struct mk_modem_caps CAPS;
static struct mk_mqtt_config CFG;
static struct mk_mqtt_connect_opts OPTS;

/* received messages (the last one's bytes, a count) */
static struct {
    int n;
    char topic[MK_MQTT_TOPIC_MAX + 1];
    uint8_t payload[MK_MQTT_PAYLOAD_MAX];
    size_t len;
} RX;

/* state changes "old>new:ERRNAME" separated by '|' */
static char STATES[2048];
static size_t STATES_LEN;
static char LAST_DETAIL[400];

/* the AT trace: TX/RX lines with virtual time */
#define TR_MAX 600
static struct {
    uint64_t t;
    int dir;
    char text[96];
} TR[TR_MAX];
static int TR_N;

static int REOPENS;
static enum mk_err REOPEN_RESULT;
static uint32_t RAND_VALUE; /* what the injected RNG returns */

static inline void fx_on_message(void *user, const struct mk_mqtt_msg *m)
{
    (void)user;
    RX.n++;
    memcpy(RX.topic, m->topic, m->topic_len + 1);
    memcpy(RX.payload, m->payload, m->len);
    RX.len = m->len;
}

static inline void fx_on_state(void *user, enum mk_mqtt_state o, enum mk_mqtt_state n,
                               enum mk_err err, const char *detail)
{
    (void)user;
    int w = snprintf(STATES + STATES_LEN, sizeof STATES - STATES_LEN, "%s>%s:%s|",
                     mk_mqtt_state_name(o), mk_mqtt_state_name(n), mk_err_name(err));
    if (w > 0 && (size_t)w < sizeof STATES - STATES_LEN)
        STATES_LEN += (size_t)w;
    snprintf(LAST_DETAIL, sizeof LAST_DETAIL, "%s", detail);
}

static inline void fx_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    (void)user;
    if (dir == MK_AT_TRACE_NOTE || TR_N >= TR_MAX)
        return;
    TR[TR_N].t = mk_fake_io_now(&F);
    TR[TR_N].dir = (int)dir;
    size_t n = len < sizeof TR[0].text - 1 ? len : sizeof TR[0].text - 1;
    memcpy(TR[TR_N].text, text, n);
    TR[TR_N].text[n] = '\0';
    TR_N++;
}

static inline enum mk_err fx_reopen(void *user)
{
    (void)user;
    REOPENS++;
    if (REOPEN_RESULT == MK_OK) {
        F.hangup_set = false; /* the module is back on the same port */
        mk_at_chan_set_io(&CH, &F.io);
    }
    return REOPEN_RESULT;
}

static inline uint32_t fx_rand(void *user)
{
    (void)user;
    return RAND_VALUE;
}

/* Index of the first trace entry (dir, starting with text) at or after from; -1 if none. */
static inline int tr_find(int dir, const char *text, int from)
{
    for (int i = from < 0 ? 0 : from; i < TR_N; i++)
        if (TR[i].dir == dir && strncmp(TR[i].text, text, strlen(text)) == 0)
            return i;
    return -1;
}

static inline bool tx_has(const char *s)
{
    size_t n;
    const uint8_t *tx = mk_fake_io_tx(&F, &n);
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(tx + i, s, k) == 0)
            return true;
    return false;
}

static inline size_t tx_len(void)
{
    size_t n;
    mk_fake_io_tx(&F, &n);
    return n;
}

/* caps: the CMQTT family default (SIM7600 with credentials, version choice, TLS). */
static inline void fx_setup_caps(uint64_t seed, size_t max_chunk, const char *rev, uint32_t bits)
{
    mk_fake_io_init(&F, seed, max_chunk);
    struct mk_at_config acfg = {0};
    acfg.line_buf = LINE;
    acfg.line_cap = sizeof LINE;
    acfg.trace = fx_trace;
    mk_at_chan_init(&CH, &acfg, &F.io, &F.clock);
    memset(&ID, 0, sizeof ID);
    snprintf(ID.model, sizeof ID.model, "SIMCOM_SIM7600E-H");
    snprintf(ID.revision, sizeof ID.revision, "%s", rev);
    ID.vendor = MK_VENDOR_SIMCOM;
    ID.family = MK_FAMILY_SIM7600;
    memset(&CAPS, 0, sizeof CAPS);
    CAPS.bits = bits;
    CAPS.tls_version_max = 4;
    CAPS.mqtt_version_default = 3;
    CAPS.quirk = mk_modem_find_quirk(&ID);
    memset(&CFG, 0, sizeof CFG);
    CFG.chan = &CH;
    CFG.id = &ID;
    CFG.caps = &CAPS;
    CFG.topic_buf = TOPIC;
    CFG.topic_cap = sizeof TOPIC;
    CFG.payload_buf = PAYLOAD;
    CFG.payload_cap = sizeof PAYLOAD;
    CFG.sub_buf = SUBS;
    CFG.sub_cap = sizeof SUBS;
    CFG.on_message = fx_on_message;
    CFG.on_state = fx_on_state;
    CFG.reopen = fx_reopen;
    CFG.rand32 = fx_rand;
    CFG.backoff_min_ms = 1000;
    CFG.backoff_max_ms = 8000;
    CFG.op_timeout_ms = 20000;
    CFG.busy_retry_ms = 5000;
    memset(&RX, 0, sizeof RX);
    STATES_LEN = 0;
    STATES[0] = '\0';
    LAST_DETAIL[0] = '\0';
    TR_N = 0;
    REOPENS = 0;
    REOPEN_RESULT = MK_OK;
    RAND_VALUE = 0;
    mk_mqtt_opts_init(&OPTS);
    OPTS.url = "mqtt://127.0.0.1:1883";
    OPTS.client_id = "dev1";
}

#define FX_CAPS_FULL                                                                               \
    (MK_CAP_MQTT_CMQTT | MK_CAP_MQTT_CREDENTIALS | MK_CAP_MQTT_VERSION | MK_CAP_TLS |              \
     MK_CAP_TLS_VERSION_ALL | MK_CAP_CERT_STORE)

static inline void fx_setup(uint64_t seed, size_t max_chunk)
{
    fx_setup_caps(seed, max_chunk, "LE20B04SIM7600M22", FX_CAPS_FULL);
}

/* ---- scripting the module ---- */

static struct mk_fake_rule *on_ok(const char *line)
{
    return mk_fake_io_on(&F, MK_FAKE_LINE, line, 0, "\r\nOK\r\n");
}

static struct mk_fake_rule *on_reply(const char *line, const char *reply)
{
    return mk_fake_io_on(&F, MK_FAKE_LINE, line, 0, reply);
}

/* OK now and the URC delay_ms later, or the URC first then OK (before). */
static inline void on_two(const char *line, const char *urc, uint32_t delay_ms, bool before)
{
    char u[200];
    snprintf(u, sizeof u, "\r\n%s\r\n", urc);
    if (before) {
        char both[240];
        snprintf(both, sizeof both, "\r\n%s\r\n\r\nOK\r\n", urc);
        struct mk_fake_rule *r = mk_fake_io_on(&F, MK_FAKE_LINE, line, delay_ms, both);
        (void)r;
        return;
    }
    struct mk_fake_rule *r = on_ok(line);
    mk_fake_io_then(r, delay_ms, u);
}

/* "\r\n>" prompt, then data of exactly len bytes answered with reply. */
static inline void on_prompt(const char *line, const void *data, size_t len, const char *reply)
{
    mk_fake_io_on(&F, MK_FAKE_LINE, line, 0, "\r\n>");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, data, len, 0, reply, strlen(reply));
}

static inline void script_connect_ex(const char *connect_line, uint32_t delay_ms, bool before)
{
    on_two("AT+CMQTTSTART", "+CMQTTSTART: 0", 0, true); /* SIM7600: URC first (F1 log) */
    on_ok("AT+CMQTTACCQ=0,\"dev1\",0");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_two(connect_line, "+CMQTTCONNECT: 0,0", delay_ms, before);
}

static inline void script_connect(uint32_t delay_ms, bool before)
{
    script_connect_ex("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", delay_ms, before);
}

static inline void script_publish(const char *topic, const char *payload, const char *pub_line,
                                  const char *pub_urc)
{
    char line[64];
    snprintf(line, sizeof line, "AT+CMQTTTOPIC=0,%zu", strlen(topic));
    on_prompt(line, topic, strlen(topic), "\r\nOK\r\n");
    snprintf(line, sizeof line, "AT+CMQTTPAYLOAD=0,%zu", strlen(payload));
    on_prompt(line, payload, strlen(payload), "\r\nOK\r\n");
    on_two(pub_line, pub_urc, 50, false);
}

static inline void script_subscribe(const char *topic, int qos, const char *sub_urc)
{
    char line[64];
    snprintf(line, sizeof line, "AT+CMQTTSUBTOPIC=0,%zu,%d", strlen(topic), qos);
    on_prompt(line, topic, strlen(topic), "\r\nOK\r\n");
    on_two("AT+CMQTTSUB=0", sub_urc, 50, false);
}

static inline bool states_has(const char *s)
{
    return strstr(STATES, s) != NULL;
}

#endif
