/*
 * The CMQTT driver and the client core against a scripted SIM7600 (fake_io, virtual
 * clock): two-phase completion in both orders, busy (14) retries, 23/19 recovery, 11 →
 * reconnect, every <err> 0..35, chunked receive, refusals before sending, TLS binding
 * without "sslversion", and recovery after CONNLOST / NONET / a reboot.
 */
#include "mqtt_fixture.h"

/* Seed 001: nothing may be sent for the client between CONNECT's OK and its URC. */
MK_TEST(connect_waits_for_its_urc_before_subscribing)
{
    for (int before = 0; before <= 1; before++) {
        fx_setup(3, 5);
        script_connect(4000, before);
        script_subscribe("a/b", 1, "+CMQTTSUB: 0,0");
        MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
        MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
        const char *t[] = {"a/b"};
        MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 1, 1), MK_OK);
        int conn = tr_find(MK_AT_TRACE_TX, "AT+CMQTTCONNECT=", 0);
        int urc = tr_find(MK_AT_TRACE_RX, "+CMQTTCONNECT: 0,0", conn);
        int sub = tr_find(MK_AT_TRACE_TX, "AT+CMQTTSUBTOPIC", 0);
        MK_CHECK(conn >= 0 && urc > conn && sub > urc);
        /* only a URC that arrived 4 s (virtual) later let the SUBTOPIC out */
        MK_CHECK(TR[sub].t >= TR[conn].t + (before ? 0 : 4000));
        MK_CHECK(tx_has("AT+CMQTTSUBTOPIC=0,3,1\ra/bAT+CMQTTSUB=0\r"));
        MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
        MK_CHECK_EQ_STR(STATES, "idle>connecting:MK_OK|connecting>connected:MK_OK|");
        mk_mqtt_release(&C);
        mk_fake_io_free(&F);
    }
}

MK_TEST(publish_two_phase_both_orders_and_exact_bytes)
{
    for (int before = 0; before <= 1; before++) {
        fx_setup(11, 3);
        script_connect(100, false);
        char topic[] = "dev/1/data";
        char payload[] = "temp=21.5";
        on_prompt("AT+CMQTTTOPIC=0,10", topic, 10, "\r\nOK\r\n");
        on_prompt("AT+CMQTTPAYLOAD=0,9", payload, 9, "\r\nOK\r\n");
        on_two("AT+CMQTTPUB=0,1,60,1", "+CMQTTPUB: 0,0", 700, before);
        MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
        MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
        uint64_t t0 = mk_fake_io_now(&F);
        MK_CHECK_EQ_INT(mk_mqtt_publish(&C, topic, (const uint8_t *)payload, 9, 1, true), MK_OK);
        if (!before) /* the call returned only after the PUBACK's URC */
            MK_CHECK(mk_fake_io_now(&F) >= t0 + 700);
        MK_CHECK(tx_has("AT+CMQTTTOPIC=0,10\rdev/1/dataAT+CMQTTPAYLOAD=0,9\rtemp=21.5"
                        "AT+CMQTTPUB=0,1,60,1\r"));
        MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
        mk_mqtt_release(&C);
        mk_fake_io_free(&F);
    }
}

MK_TEST(busy_14_is_retried_with_growing_pauses)
{
    fx_setup(5, 4);
    script_connect(10, false);
    /* twice busy (an earlier PUBACK still pending), then accepted */
    on_reply("AT+CMQTTSUBTOPIC=0,1,0", "\r\n+CMQTTSUBTOPIC: 0,14\r\nERROR\r\n");
    on_reply("AT+CMQTTSUBTOPIC=0,1,0", "\r\n+CMQTTSUBTOPIC: 0,14\r\nERROR\r\n");
    script_subscribe("x", 0, "+CMQTTSUB: 0,0");
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    uint64_t t0 = mk_fake_io_now(&F);
    const char *t[] = {"x"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 1, 0), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_stats(&C)->busy_retries, 2);
    MK_CHECK(mk_fake_io_now(&F) >= t0 + 100 + 200); /* paused 100 ms, then 200 ms */
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(busy_14_that_never_ends_is_reported_as_busy)
{
    fx_setup(5, 4);
    script_connect(10, false);
    struct mk_fake_rule *r = on_reply("AT+CMQTTTOPIC=0,1", "\r\n+CMQTTTOPIC: 0,14\r\nERROR\r\n");
    mk_fake_io_times(r, 0);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    uint64_t t0 = mk_fake_io_now(&F);
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "t", (const uint8_t *)"x", 1, 0, false), MK_E_MQTT_BUSY);
    uint64_t took = mk_fake_io_now(&F) - t0;
    MK_CHECK(took >= 5000 && took < 8000); /* busy_retry_ms, then it gives up */
    MK_CHECK_EQ_INT(mk_mqtt_last_error(&C)->code, 14);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "TOPIC: module error 14: client is busy"));
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED); /* busy is not a lost link */
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(start_23_is_adopted_and_accq_19_released)
{
    fx_setup(9, 6);
    /* a previous program left the service started and client 0 acquired */
    on_reply("AT+CMQTTSTART", "\r\n+CMQTTSTART: 23\r\nERROR\r\n");
    on_reply("AT+CMQTTACCQ=0,\"dev1\",0", "\r\n+CMQTTACCQ: 0,19\r\nERROR\r\n");
    on_two("AT+CMQTTDISC=0,60", "+CMQTTDISC: 0,0", 300, false);
    on_ok("AT+CMQTTREL=0");
    on_ok("AT+CMQTTACCQ=0,\"dev1\",0");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "+CMQTTCONNECT: 0,0", 200, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    MK_CHECK(tx_has("AT+CMQTTSTART\rAT+CMQTTACCQ=0,\"dev1\",0\rAT+CMQTTDISC=0,60\r"
                    "AT+CMQTTREL=0\rAT+CMQTTACCQ=0,\"dev1\",0\r"));
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(connect_19_on_a_connected_slot_disconnects_first)
{
    fx_setup(9, 6);
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    /* +CMQTTPING: the keep-alive failed; "disconnect and re-connect" (S1 §16.3.2). The
     * module still thinks it is connected: CONNECT answers 19. */
    on_reply("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1",
             "\r\n+CMQTTCONNECT: 0,19\r\nERROR\r\n");
    on_two("AT+CMQTTDISC=0,60", "+CMQTTDISC: 0,0", 10, false);
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "+CMQTTCONNECT: 0,0", 10, false);
    mk_fake_io_sends(&F, 100, "\r\n+CMQTTPING: 0,1\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 5000), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);
    MK_CHECK(states_has("connected>recovering:MK_E_MQTT_NOT_CONNECTED|"
                        "recovering>connected:MK_OK|"));
    MK_CHECK_EQ_INT(mk_mqtt_stats(&C)->reconnects, 1);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* Seed 001's second log: "+CMQTTTOPIC: 0,11" — the connection is gone: reconnect now,
 * then the publish goes through. */
MK_TEST(no_connection_11_reconnects_and_retries_once)
{
    fx_setup(13, 7);
    script_connect(10, false);
    script_subscribe("cmd/#", 1, "+CMQTTSUB: 0,0");
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    const char *t[] = {"cmd/#"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 1, 1), MK_OK);
    on_reply("AT+CMQTTTOPIC=0,4", "\r\n+CMQTTTOPIC: 0,11\r\nERROR\r\n");
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "+CMQTTCONNECT: 0,0", 30, false);
    script_subscribe("cmd/#", 1, "+CMQTTSUB: 0,0"); /* renewed after the reconnect */
    script_publish("up/1", "hello", "AT+CMQTTPUB=0,0,60", "+CMQTTPUB: 0,0");
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "up/1", (const uint8_t *)"hello", 5, 0, false), MK_OK);
    MK_CHECK(states_has("connected>recovering:MK_E_MQTT_NOT_CONNECTED|recovering>connected"));
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* Every <err> of S1 §16.3.1 (and 35 of S11) arrives as the result of a PUB and is
 * reported with its own mk_err, its number, its meaning. */
MK_TEST(every_cmqtt_error_number_is_mapped)
{
    for (int code = 0; code <= 35; code++) {
        const struct mk_mqtt_code *k = mk_mqtt_code_info(code);
        MK_CHECK(k && k->code == code && k->meaning && k->meaning[0]);
        if (code == 11 || code == 14)
            continue; /* recovered (reconnect, retry): tests above */
        fx_setup((uint64_t)code + 100, 8);
        script_connect(10, false);
        char urc[32];
        snprintf(urc, sizeof urc, "+CMQTTPUB: 0,%d", code);
        script_publish("t", "p", "AT+CMQTTPUB=0,2,60", urc);
        MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
        MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
        enum mk_err e = mk_mqtt_publish(&C, "t", (const uint8_t *)"p", 1, 2, false);
        const struct mk_mqtt_error *le = mk_mqtt_last_error(&C);
        if (code == 0) {
            MK_CHECK_EQ_INT(e, MK_OK);
        } else {
            MK_CHECK_EQ_INT(e, k->err);
            MK_CHECK(e != MK_OK && e != MK_E_MQTT_BUSY);
            MK_CHECK_EQ_INT(le->code, code);
            char want[64];
            snprintf(want, sizeof want, "PUB: module error %d: %s", code, k->meaning);
            if (!strstr(le->text, want))
                MK_FAIL_AT(__FILE__, __LINE__, "code %d: \"%s\" lacks \"%s\"", code, le->text,
                           want);
        }
        mk_mqtt_release(&C);
        mk_fake_io_free(&F);
    }
    MK_CHECK(mk_mqtt_code_info(36) == NULL && mk_mqtt_code_info(-1) == NULL);
    MK_CHECK_EQ_INT(mk_mqtt_code_info(30)->err, MK_E_MQTT_REFUSED_AUTH);
    MK_CHECK_EQ_INT(mk_mqtt_code_info(32)->err, MK_E_TLS_HANDSHAKE);
    MK_CHECK_EQ_INT(mk_mqtt_code_info(25)->err, MK_E_DNS);
}

/* A delayed "+CMQTTCONNECT: 0,32" (wrong CA) is a TLS handshake failure, never "busy". */
MK_TEST(delayed_connect_failure_keeps_its_number)
{
    fx_setup(21, 5);
    on_two("AT+CMQTTSTART", "+CMQTTSTART: 0", 0, false);
    on_ok("AT+CMQTTACCQ=0,\"dev1\",1");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_ok("AT+CSSLCFG=\"authmode\",0,1");
    on_ok("AT+CSSLCFG=\"cacert\",0,\"ca-1234abcd.pem\"");
    on_ok("AT+CMQTTSSLCFG=0,0");
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:8883\",60,1", "+CMQTTCONNECT: 0,32", 6000, false);
    OPTS.url = "mqtts://127.0.0.1";
    OPTS.ca_file = "ca-1234abcd.pem";
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_TLS_HANDSHAKE);
    MK_CHECK_EQ_INT(mk_mqtt_last_error(&C)->code, 32);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "CONNECT: module error 32: TLS handshake"));
    MK_CHECK(!tx_has("sslversion"));
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_IDLE);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(tls_binding_authmode2_and_sslversion_only_when_asked)
{
    fx_setup(23, 9);
    on_two("AT+CMQTTSTART", "+CMQTTSTART: 0", 0, true);
    on_ok("AT+CMQTTACCQ=0,\"dev1\",1,4");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_ok("AT+CSSLCFG=\"sslversion\",0,3");
    on_ok("AT+CSSLCFG=\"authmode\",0,2");
    on_ok("AT+CSSLCFG=\"cacert\",0,\"ca.pem\"");
    on_ok("AT+CSSLCFG=\"clientcert\",0,\"cl.pem\"");
    on_ok("AT+CSSLCFG=\"clientkey\",0,\"key.pem\"");
    on_ok("AT+CMQTTSSLCFG=0,0");
    on_two("AT+CMQTTCONNECT=0,\"tcp://b.example:8884\",30,0", "+CMQTTCONNECT: 0,0", 10, false);
    OPTS.url = "mqtts://b.example:8884";
    OPTS.ca_file = "ca.pem";
    OPTS.cert_file = "cl.pem";
    OPTS.key_file = "key.pem";
    OPTS.tls_version = 3;
    OPTS.version = 4;
    OPTS.keepalive_s = 30;
    OPTS.clean_session = false;
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* Seed 001 (cmendes0101): LE11B02SIM7500A answers ERROR to "sslversion",0,4. */
MK_TEST(sslversion_rejected_by_firmware_is_said_plainly)
{
    fx_setup_caps(25, 9, "LE11B02SIM7500A", FX_CAPS_FULL);
    CAPS.tls_version_max = -1; /* the probe could not tell */
    on_two("AT+CMQTTSTART", "+CMQTTSTART: 0", 0, true);
    on_ok("AT+CMQTTACCQ=0,\"dev1\",1");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_reply("AT+CSSLCFG=\"sslversion\",0,4", "\r\nERROR\r\n");
    OPTS.url = "mqtts://127.0.0.1:8883";
    OPTS.tls_version = 4;
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_FW_UNSUPPORTED);
    const char *text = mk_mqtt_last_error(&C)->text;
    MK_CHECK(strstr(text, "firmware LE11B02SIM7500A rejected TLS version 4"));
    MK_CHECK(strstr(text, "Leave the TLS version out"));
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);

    /* and with the probe's answer ("sslversion",(0-9),(0-3)) nothing is sent at all */
    fx_setup_caps(25, 9, "LE11B02SIM7500A", FX_CAPS_FULL & ~MK_CAP_TLS_VERSION_ALL);
    CAPS.tls_version_max = 3;
    OPTS.url = "mqtts://127.0.0.1:8883";
    OPTS.tls_version = 4;
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_FW_UNSUPPORTED);
    MK_CHECK_EQ_INT(tx_len(), 0);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "accepts TLS versions"));
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* Seed 000: LE11B01SIM7600M21-A takes no credentials and no version: refused up front. */
MK_TEST(refusals_before_anything_is_sent)
{
    uint32_t old_fw = MK_CAP_MQTT_CMQTT | MK_CAP_TLS | MK_CAP_TLS_VERSION_ALL;
    fx_setup_caps(31, 4, "LE11B01SIM7600M21-A", old_fw);
    MK_CHECK(CAPS.quirk != NULL);
    OPTS.user = "u";
    OPTS.pass = "p";
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_FW_UNSUPPORTED);
    MK_CHECK_EQ_INT(tx_len(), 0); /* not one byte */
    const char *text = mk_mqtt_last_error(&C)->text;
    MK_CHECK(strstr(text, "firmware LE11B01SIM7600M21-A"));
    MK_CHECK(strstr(text, "user name or password"));
    MK_CHECK(strstr(text, "modemctl fota"));
    OPTS.user = OPTS.pass = NULL;
    OPTS.version = 4;
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_FW_UNSUPPORTED);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "MQTT 3.1.1"));
    MK_CHECK_EQ_INT(tx_len(), 0);
    OPTS.version = 3; /* what it speaks anyway: fine, and no version parameter is sent */
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    MK_CHECK(tx_has("AT+CMQTTACCQ=0,\"dev1\",0\r"));
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);

    /* a module without any MQTT client */
    fx_setup_caps(31, 4, "SWI9X07H_00.08.07.00", MK_CAP_FLASH_DOWNLOAD);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_E_UNSUPPORTED);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "no MQTT client"));
    mk_fake_io_free(&F);
}

/* A revision not in the quirks table: CONNECT with credentials → plain ERROR, no URC. */
MK_TEST(credentials_rejected_at_runtime_say_so)
{
    fx_setup_caps(33, 4, "LE11B07SIM7600XX", FX_CAPS_FULL);
    on_two("AT+CMQTTSTART", "+CMQTTSTART: 0", 0, true);
    on_ok("AT+CMQTTACCQ=0,\"dev1\",0");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_reply("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1,\"alice\",\"s3cret\"",
             "\r\nERROR\r\n");
    OPTS.user = "alice";
    OPTS.pass = "s3cret";
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_FW_UNSUPPORTED);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text,
                    "this firmware (LE11B07SIM7600XX) rejected user name/password"));
    /* the trace never shows the password */
    for (int i = 0; i < TR_N; i++)
        MK_CHECK(!strstr(TR[i].text, "s3cret"));
    MK_CHECK(tr_find(MK_AT_TRACE_TX, "AT+CMQTTCONNECT=0,\"***\"", 0) >= 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

static uint8_t BIG[MK_MQTT_PAYLOAD_MAX];

/* Send one message as the module does: RXSTART, topic and payload chunks, RXEND. */
static void send_rx(uint32_t delay, const char *topic, size_t tchunk, const uint8_t *p, size_t n,
                    size_t pchunk)
{
    char h[96];
    size_t tl = strlen(topic);
    snprintf(h, sizeof h, "\r\n+CMQTTRXSTART: 0,%zu,%zu\r\n", tl, n);
    mk_fake_io_sends(&F, delay, h);
    for (size_t off = 0; off < tl; off += tchunk) {
        size_t k = tl - off < tchunk ? tl - off : tchunk;
        snprintf(h, sizeof h, "+CMQTTRXTOPIC: 0,%zu\r\n", k);
        mk_fake_io_sends(&F, delay, h);
        mk_fake_io_send(&F, delay, topic + off, k);
        mk_fake_io_sends(&F, delay, "\r\n");
    }
    for (size_t off = 0; off < n; off += pchunk) {
        size_t k = n - off < pchunk ? n - off : pchunk;
        snprintf(h, sizeof h, "+CMQTTRXPAYLOAD: 0,%zu\r\n", k);
        mk_fake_io_sends(&F, delay, h);
        mk_fake_io_send(&F, delay, p + off, k);
        mk_fake_io_sends(&F, delay, "\r\n");
    }
    mk_fake_io_sends(&F, delay, "+CMQTTRXEND: 0\r\n");
}

MK_TEST(receive_reassembles_a_10240_byte_binary_payload)
{
    /* CR/LF, "\r\nOK\r\n", "ERROR", a fake URC and NUL bytes inside the payload */
    uint64_t s = 77;
    for (size_t i = 0; i < sizeof BIG; i++)
        BIG[i] = (uint8_t)(mk_fake_rand(&s) >> 24);
    static const char evil[] = "\r\nOK\r\n\r\n+CMQTTRXEND: 0\r\nERROR\r\n\0\0\r\n";
    memcpy(BIG + 1490, evil, sizeof evil); /* across the first chunk boundary */
    memcpy(BIG + 5000, evil, sizeof evil);
    memcpy(BIG + sizeof BIG - sizeof evil, evil, sizeof evil);
    char topic[1025];
    for (int i = 0; i < 1024; i++)
        topic[i] = (char)('a' + i % 26);
    topic[1024] = '\0';
    for (uint64_t seed = 1; seed <= 6; seed++) {
        fx_setup(seed, (size_t)(1 + seed * 37 % 300)); /* random read splits */
        script_connect(10, false);
        MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
        MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
        send_rx(10, topic, seed % 2 ? 1024 : 500, BIG, sizeof BIG, 1500);
        send_rx(20, "short", 5, (const uint8_t *)"\r\nOK\r\n", 6, 1500);
        MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 1000), MK_OK);
        MK_CHECK_EQ_INT(RX.n, 2);
        MK_CHECK_EQ_INT(mk_mqtt_stats(&C)->rx_dropped, 0);
        MK_CHECK_EQ_STR(RX.topic, "short");
        MK_CHECK_EQ_INT(RX.len, 6);
        MK_CHECK_EQ_MEM(RX.payload, "\r\nOK\r\n", 6);
        mk_mqtt_release(&C);
        mk_fake_io_free(&F);
    }
    /* the big one on its own, compared byte for byte */
    fx_setup(99, 64);
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    send_rx(10, topic, 700, BIG, sizeof BIG, 1500);
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 1000), MK_OK);
    MK_CHECK_EQ_INT(RX.n, 1);
    MK_CHECK_EQ_STR(RX.topic, topic);
    MK_CHECK_EQ_INT(RX.len, sizeof BIG);
    MK_CHECK_EQ_MEM(RX.payload, BIG, sizeof BIG);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(message_arriving_during_a_publish_is_delivered)
{
    fx_setup(41, 11);
    script_connect(10, false);
    on_prompt("AT+CMQTTTOPIC=0,1", "t", 1, "\r\nOK\r\n");
    on_prompt("AT+CMQTTPAYLOAD=0,1", "p", 1, "\r\nOK\r\n");
    struct mk_fake_rule *r = on_ok("AT+CMQTTPUB=0,1,60");
    /* between PUB's OK and its URC, a message comes in */
    mk_fake_io_then(r, 20,
                    "\r\n+CMQTTRXSTART: 0,3,4\r\n+CMQTTRXTOPIC: 0,3\r\nin/\r\n"
                    "+CMQTTRXPAYLOAD: 0,4\r\nOK\r\n\r\n+CMQTTRXEND: 0\r\n");
    mk_fake_io_then(r, 40, "\r\n+CMQTTPUB: 0,0\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "t", (const uint8_t *)"p", 1, 1, false), MK_OK);
    MK_CHECK_EQ_INT(RX.n, 1);
    MK_CHECK_EQ_STR(RX.topic, "in/");
    MK_CHECK_EQ_MEM(RX.payload, "OK\r\n", 4);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(truncated_or_oversized_messages_are_dropped_not_delivered)
{
    fx_setup(43, 16);
    CFG.payload_cap = 100; /* an application with small buffers */
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    memset(BIG, 'x', 200);
    send_rx(10, "big", 3, BIG, 200, 150); /* does not fit: dropped */
    mk_fake_io_sends(&F, 20,
                     "\r\n+CMQTTRXSTART: 0,1,5\r\n+CMQTTRXTOPIC: 0,1\r\nq\r\n"
                     "+CMQTTRXEND: 0\r\n"); /* payload chunk lost on the line */
    send_rx(30, "ok", 2, (const uint8_t *)"fine", 4, 1500);
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 1000), MK_OK);
    MK_CHECK_EQ_INT(RX.n, 1);
    MK_CHECK_EQ_STR(RX.topic, "ok");
    MK_CHECK_EQ_INT(mk_mqtt_stats(&C)->rx_dropped, 2);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* +CMQTTCONNLOST: backoff (injected RNG), reconnect, every topic subscribed again. */
MK_TEST(connlost_reconnects_with_backoff_and_resubscribes)
{
    fx_setup(51, 8);
    script_connect(10, false);
    on_prompt("AT+CMQTTSUBTOPIC=0,3,1", "a/1", 3, "\r\nOK\r\n");
    on_prompt("AT+CMQTTSUBTOPIC=0,3,1", "b/2", 3, "\r\nOK\r\n");
    on_two("AT+CMQTTSUB=0", "+CMQTTSUB: 0,0", 20, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    const char *t[] = {"a/1", "b/2"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 2, 1), MK_OK);

    RAND_VALUE = 0; /* jitter picks the low end: half of the pause */
    /* first attempt fails (broker still down: socket connect fail 3), second works */
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "+CMQTTCONNECT: 0,3", 50, false);
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "+CMQTTCONNECT: 0,0", 50, false);
    on_prompt("AT+CMQTTSUBTOPIC=0,3,1", "a/1", 3, "\r\nOK\r\n");
    on_prompt("AT+CMQTTSUBTOPIC=0,3,1", "b/2", 3, "\r\nOK\r\n");
    on_two("AT+CMQTTSUB=0", "+CMQTTSUB: 0,0", 20, false);
    uint64_t t0 = mk_fake_io_now(&F);
    mk_fake_io_sends(&F, 0, "\r\n+CMQTTCONNLOST: 0,1\r\n");
    TR_N = 0;
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 5000), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);
    int a1 = tr_find(MK_AT_TRACE_TX, "AT+CMQTTCONNECT", 0);
    int a2 = tr_find(MK_AT_TRACE_TX, "AT+CMQTTCONNECT", a1 + 1);
    MK_CHECK(a1 >= 0 && a2 > a1);
    /* pause 1: 1000 ms → 500 with jitter 0; pause 2: 2000 → 1000 after the failure */
    MK_CHECK_EQ_INT(TR[a1].t - t0, 500);
    MK_CHECK(TR[a2].t - TR[a1].t >= 1000 && TR[a2].t - TR[a1].t < 1200);
    MK_CHECK(states_has("connected>recovering:MK_E_MQTT_NOT_CONNECTED|"
                        "recovering>recovering:MK_E_NET|recovering>connected:MK_OK|"));
    MK_CHECK(strstr(LAST_DETAIL, "2 subscription(s) renewed"));
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(backoff_doubles_up_to_the_cap)
{
    fx_setup(53, 8);
    CFG.backoff_max_ms = 4000;
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    RAND_VALUE = 0; /* jitter picks the low end: half of each pause */
    struct mk_fake_rule *r =
        on_reply("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "\r\nOK\r\n");
    mk_fake_io_then(r, 5, "\r\n+CMQTTCONNECT: 0,3\r\n");
    mk_fake_io_times(r, 0);
    mk_fake_io_sends(&F, 0, "\r\n+CMQTTCONNLOST: 0,2\r\n");
    TR_N = 0;
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 20000), MK_OK);
    uint64_t prev = 0;
    int n = 0;
    for (int i = tr_find(MK_AT_TRACE_TX, "AT+CMQTTCONNECT", 0); i >= 0;
         i = tr_find(MK_AT_TRACE_TX, "AT+CMQTTCONNECT", i + 1)) {
        if (prev) {
            uint64_t gap = TR[i].t - prev;
            /* pauses 2000, 4000, 4000, ... (doubling, then the cap), halved by the jitter */
            uint64_t want = n == 1 ? 1000 : 2000;
            if (!(gap >= want - 100 && gap <= want + 100))
                MK_FAIL_AT(__FILE__, __LINE__, "attempt %d gap %llu want %llu", n,
                           (unsigned long long)gap, (unsigned long long)want);
        }
        prev = TR[i].t;
        n++;
    }
    MK_CHECK(n >= 5);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_RECOVERING);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* +CMQTTNONET: the service is gone; START again (S1 §16.3.2). */
MK_TEST(nonet_restarts_the_service)
{
    fx_setup(55, 8);
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    script_connect(10, false);
    mk_fake_io_sends(&F, 0, "\r\n+CMQTTNONET\r\n");
    TR_N = 0;
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 3000), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);
    MK_CHECK(tr_find(MK_AT_TRACE_TX, "AT+CMQTTSTART", 0) >= 0);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* The module rebooted (the port hung up): reopen, wait for the SIM, start again. */
MK_TEST(reboot_reopens_and_restarts)
{
    fx_setup(57, 8);
    script_connect(10, false);
    script_subscribe("cfg/#", 2, "+CMQTTSUB: 0,0");
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    const char *t[] = {"cfg/#"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 1, 2), MK_OK);
    mk_fake_io_hangup(&F, 100);
    /* back from the reboot: SIM busy at first (S1 §1), then the whole sequence */
    on_reply("AT+CPIN?", "\r\n+CME ERROR: SIM busy\r\n");
    on_reply("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    script_connect(10, false);
    script_subscribe("cfg/#", 2, "+CMQTTSUB: 0,0");
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 3000), MK_OK);
    MK_CHECK_EQ_INT(REOPENS, 1);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);
    MK_CHECK(states_has("connected>recovering:MK_E_HANGUP|recovering>connected:MK_OK|"));
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);

    /* a module that does not come back: FAILED with the reason, poll says so */
    fx_setup(59, 8);
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    mk_fake_io_hangup(&F, 10);
    REOPEN_RESULT = MK_E_TIMEOUT;
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 3000), MK_E_TIMEOUT);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_FAILED);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "did not come back"));
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

/* Without a reopen callback a reboot is fatal at once (found by fuzz_mqtt_rx: the
 * recovery used to retry without any pause, forever). */
MK_TEST(reboot_without_reopen_callback_fails_at_once)
{
    fx_setup(60, 8);
    CFG.reopen = NULL;
    script_connect(10, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    mk_fake_io_hangup(&F, 10);
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 60000), MK_E_HANGUP);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_FAILED);
    MK_CHECK(mk_fake_io_now(&F) < 2000); /* no waiting for the whole 60 s either */
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "no reopen callback"));
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(disconnect_waits_for_disc_then_releases_and_stops)
{
    fx_setup(61, 8);
    script_connect(10, false);
    on_two("AT+CMQTTDISC=0,60", "+CMQTTDISC: 0,0", 900, false);
    on_ok("AT+CMQTTREL=0");
    on_two("AT+CMQTTSTOP", "+CMQTTSTOP: 0", 100, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    TR_N = 0;
    MK_CHECK_EQ_INT(mk_mqtt_disconnect(&C), MK_OK);
    int disc = tr_find(MK_AT_TRACE_RX, "+CMQTTDISC: 0,0", 0);
    int rel = tr_find(MK_AT_TRACE_TX, "AT+CMQTTREL=0", 0);
    MK_CHECK(disc >= 0 && rel > disc); /* REL only after DISC completed (field report 2) */
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_IDLE);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 10), MK_E_STATE);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(unsubscribe_forgets_the_topic)
{
    fx_setup(63, 8);
    script_connect(10, false);
    on_prompt("AT+CMQTTSUBTOPIC=0,1,0", "a", 1, "\r\nOK\r\n");
    on_prompt("AT+CMQTTSUBTOPIC=0,1,0", "b", 1, "\r\nOK\r\n");
    on_two("AT+CMQTTSUB=0", "+CMQTTSUB: 0,0", 5, true);
    on_prompt("AT+CMQTTUNSUBTOPIC=0,1", "a", 1, "\r\nOK\r\n");
    on_two("AT+CMQTTUNSUB=0,0", "+CMQTTUNSUB: 0,0", 5, false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    const char *t[] = {"a", "b"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 2, 0), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_unsubscribe(&C, t, 1), MK_OK);
    /* after a loss only "b" is renewed */
    on_two("AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1", "+CMQTTCONNECT: 0,0", 5, false);
    script_subscribe("b", 0, "+CMQTTSUB: 0,0");
    mk_fake_io_sends(&F, 0, "\r\n+CMQTTCONNLOST: 0,3\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 3000), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 0);
    /* a subscription list that cannot hold more: refused, nothing sent */
    size_t before = tx_len();
    static char longt[300];
    memset(longt, 'z', sizeof longt - 1);
    const char *many[] = {longt, longt + 1, longt + 2};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, many, 3, 0), MK_E_NOSPC);
    MK_CHECK_EQ_INT(tx_len(), before);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(urls_and_option_checks)
{
    const char *h;
    size_t hl;
    uint16_t port;
    bool tls;
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("mqtts://broker.local", &h, &hl, &port, &tls), MK_OK);
    MK_CHECK(tls && port == 8883 && hl == 12 && memcmp(h, "broker.local", 12) == 0);
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("mqtt://10.0.0.1:1884/", &h, &hl, &port, &tls), MK_OK);
    MK_CHECK(!tls && port == 1884 && hl == 8);
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("tcp://h:1", &h, &hl, &port, &tls), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("http://h", &h, &hl, &port, &tls), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("mqtt://h:70000", &h, &hl, &port, &tls), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("mqtt://", &h, &hl, &port, &tls), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_mqtt_parse_url("mqtt://a\"b", &h, &hl, &port, &tls), MK_E_FORMAT);

    fx_setup(65, 8);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    OPTS.client_id = "has\"quote";
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_INVAL);
    OPTS.client_id = "dev1";
    OPTS.cert_file = "c.pem";
    OPTS.url = "mqtts://h";
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_INVAL); /* cert without key */
    OPTS.cert_file = NULL;
    OPTS.url = "mqtt://h";
    OPTS.ca_file = "ca.pem";
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_INVAL); /* CA on a plain URL */
    OPTS.ca_file = NULL;
    struct mk_mqtt_will w = {"will/t", (const uint8_t *)"bye", 3, 1, true};
    OPTS.will = &w;
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_FW_UNSUPPORTED); /* CMQTT: no retain */
    MK_CHECK_EQ_INT(tx_len(), 0);
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "t", NULL, 0, 0, false), MK_E_MQTT_NOT_CONNECTED);
    w.retain = false;
    on_two("AT+CMQTTSTART", "+CMQTTSTART: 0", 0, true);
    on_ok("AT+CMQTTACCQ=0,\"dev1\",0");
    on_ok("AT+CMQTTCFG=\"checkUTF8\",0,0");
    on_prompt("AT+CMQTTWILLTOPIC=0,6", "will/t", 6, "\r\nOK\r\n");
    on_prompt("AT+CMQTTWILLMSG=0,3,1", "bye", 3, "\r\nOK\r\n");
    on_two("AT+CMQTTCONNECT=0,\"tcp://h:1883\",60,1", "+CMQTTCONNECT: 0,0", 5, false);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST_MAIN()
