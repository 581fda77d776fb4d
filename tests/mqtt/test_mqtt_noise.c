/*
 * Line noise: modemsim drops and corrupts about 1 byte in 1000 in both directions
 * (--fault drop=0.001,corrupt=0.001, fixed --seed). A fixed number of publish + receive
 * cycles runs through one client; every operation must end with success, a clear error
 * (a mk_err with a sentence) or a timeout, within its own bound, and the whole run within
 * a hard overall bound. Nothing may hang, crash or deliver a corrupted message as valid
 * framing (a corrupted payload byte is still "delivered": AT has no checksum).
 */
#include <stdlib.h>

#include "mk_test.h"
#include "mqtt_live.h"

#define CYCLES       30
#define OP_BOUND_MS  25000u  /* worst case of one publish: see cfg below */
#define RUN_BOUND_MS 100000u /* the whole test */

static int RX_OK;
static char WANT[64];

static void on_msg(void *user, const struct mk_mqtt_msg *m)
{
    (void)user;
    if (strcmp(m->topic, WANT) == 0)
        RX_OK++;
}

MK_TEST(noise_every_operation_ends_within_its_bound)
{
    struct mk_live *l = calloc(1, sizeof *l);
    static const char *const extra[] = {
        "--fault", "drop=0.001,corrupt=0.001", "--seed", "5", "--prompt-timeout-ms", "1500", NULL};
    uint64_t t_start = mk_posix_now_ms();
    if (mk_live_start(l, "noise", "SIM7600E-H", extra, NULL, NULL) != 0) {
        MK_FAIL_AT(__FILE__, __LINE__, "live setup failed");
        mk_live_stop(l);
        free(l);
        return;
    }
    static char topic[MK_MQTT_TOPIC_MAX + 1];
    static uint8_t payload[MK_MQTT_PAYLOAD_MAX], subs[256];
    struct mk_mqtt_config cfg = {0};
    cfg.chan = &l->chan;
    cfg.id = &l->id;
    cfg.caps = &l->caps;
    cfg.topic_buf = topic;
    cfg.topic_cap = sizeof topic;
    cfg.payload_buf = payload;
    cfg.payload_cap = sizeof payload;
    cfg.sub_buf = subs;
    cfg.sub_cap = sizeof subs;
    cfg.on_message = on_msg;
    cfg.rand_seed = 42;
    cfg.backoff_min_ms = 200;
    cfg.backoff_max_ms = 1000;
    cfg.cmd_timeout_ms = 1000; /* a lost OK costs 1 s (+ the engine's resync) */
    cfg.op_timeout_ms = 2000;  /* a lost completion URC costs 2 s */
    cfg.busy_retry_ms = 1500;
    struct mk_mqtt_client c;
    MK_CHECK_EQ_INT(mk_mqtt_init(&c, &cfg), MK_OK);
    struct mk_mqtt_connect_opts o;
    mk_mqtt_opts_init(&o);
    char url[64];
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d", l->broker.port);
    o.url = url;
    o.client_id = "noise";
    o.version = 4;
    const char *sub[] = {"noise/#"};
    enum mk_err e = MK_E_TIMEOUT;
    for (int i = 0; i < 8 && e != MK_OK; i++) {
        if (mk_mqtt_state(&c) != MK_MQTT_CONNECTED)
            e = mk_mqtt_connect(&c, &o);
        if (mk_mqtt_state(&c) == MK_MQTT_CONNECTED)
            e = mk_mqtt_subscribe(&c, sub, 1, 1);
    }
    MK_CHECK_EQ_INT(e, MK_OK);

    int ok = 0, errors = 0, timeouts = 0, received = 0;
    uint64_t worst = 0;
    static uint8_t msg[100];
    for (int i = 0; i < CYCLES && e == MK_OK; i++) {
        snprintf(WANT, sizeof WANT, "noise/%d", i);
        memset(msg, 'a' + i % 26, sizeof msg);
        RX_OK = 0;
        uint64_t t0 = mk_posix_now_ms();
        enum mk_err pe = mk_mqtt_publish(&c, WANT, msg, sizeof msg, 1, false);
        uint64_t took = mk_posix_now_ms() - t0;
        worst = took > worst ? took : worst;
        MK_CHECK(took <= OP_BOUND_MS);
        if (pe == MK_OK) {
            ok++;
        } else {
            const struct mk_mqtt_error *le = mk_mqtt_last_error(&c);
            MK_CHECK(le->err == pe && le->text[0] != '\0'); /* a clear error */
            if (pe == MK_E_TIMEOUT)
                timeouts++;
            else
                errors++;
            printf("# cycle %d: %s: %s\n", i, mk_err_name(pe), le->text);
        }
        /* the message comes back through our subscription; recovery runs here too */
        uint64_t until = mk_posix_now_ms() + 800;
        while (!RX_OK && mk_posix_now_ms() < until)
            mk_mqtt_poll(&c, 100);
        received += RX_OK > 0;
        if (mk_mqtt_state(&c) == MK_MQTT_FAILED || mk_mqtt_state(&c) == MK_MQTT_IDLE) {
            mk_mqtt_connect(&c, &o); /* the application's own retry */
            mk_mqtt_subscribe(&c, sub, 1, 1);
        }
        MK_CHECK(mk_posix_now_ms() - t_start <= RUN_BOUND_MS);
    }
    printf("# %d cycles: %d published, %d errors, %d timeouts, %d received back; worst "
           "publish %llu ms; %u busy retries, %u late URCs, %u dropped RX, %u reconnects\n",
           CYCLES, ok, errors, timeouts, received, (unsigned long long)worst,
           mk_mqtt_stats(&c)->busy_retries, mk_mqtt_stats(&c)->late_urcs,
           mk_mqtt_stats(&c)->rx_dropped, mk_mqtt_stats(&c)->reconnects);
    MK_CHECK_EQ_INT(ok + errors + timeouts, CYCLES);
    MK_CHECK(ok >= CYCLES / 2); /* 1/1000 noise leaves most operations intact */
    MK_CHECK(received >= CYCLES / 3);
    mk_mqtt_disconnect(&c);
    mk_mqtt_release(&c);
    mk_live_stop(l);
    free(l);
}

MK_TEST_MAIN()
