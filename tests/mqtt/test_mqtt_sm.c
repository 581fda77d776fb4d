/*
 * The SM* driver (SIM7000) against a scripted module: connect sequence, credentials
 * redacted, publish with prompt, incoming +SMSUB messages (also inside an SMSUB command),
 * bare ERRORs turned into sentences, "not connected" detected with AT+SMSTATE? and
 * recovered, TLS refused before sending.
 */
#include "mqtt_fixture.h"

static void sm_setup(uint64_t seed)
{
    fx_setup_caps(seed, 7, "1529B04SIM7000G", MK_CAP_MQTT_SM | MK_CAP_MQTT_CREDENTIALS);
    snprintf(ID.model, sizeof ID.model, "SIMCOM_SIM7000G");
    ID.family = MK_FAMILY_SIM7000;
}

static void sm_script_connect(bool creds)
{
    on_reply("AT+SMSTATE?", "\r\n+SMSTATE: 0\r\n\r\nOK\r\n");
    on_reply("AT+CNACT?", "\r\n+CNACT: 0,1,\"10.94.36.44\"\r\n\r\nOK\r\n");
    on_ok("AT+SMCONF=\"CLIENTID\",\"dev1\"");
    on_ok("AT+SMCONF=\"URL\",\"127.0.0.1\",1883");
    on_ok("AT+SMCONF=\"KEEPTIME\",60");
    on_ok("AT+SMCONF=\"CLEANSS\",1");
    if (creds) {
        on_ok("AT+SMCONF=\"USERNAME\",\"bob\"");
        on_ok("AT+SMCONF=\"PASSWORD\",\"hunter2\"");
    }
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+SMCONN", 800, "\r\nOK\r\n"); /* waits for CONNACK */
}

MK_TEST(sm_connect_publish_receive)
{
    sm_setup(1);
    sm_script_connect(true);
    OPTS.user = "bob";
    OPTS.pass = "hunter2";
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_STR(mk_mqtt_dialect(&C), "sm");
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    for (int i = 0; i < TR_N; i++)
        MK_CHECK(!strstr(TR[i].text, "hunter2"));

    on_prompt("AT+SMPUB=\"up/1\",5,1,0", "hello", 5, "\r\nOK\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "up/1", (const uint8_t *)"hello", 5, 1, false), MK_OK);

    /* an incoming message arrives while AT+SMSUB runs: same prefix as its answer */
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+SMSUB=\"in/#\",1", 0,
                  "\r\n+SMSUB: \"in/x\",\"early\"\r\n\r\nOK\r\n");
    const char *t[] = {"in/#"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 1, 1), MK_OK);
    MK_CHECK_EQ_INT(RX.n, 1);
    MK_CHECK_EQ_STR(RX.topic, "in/x");
    MK_CHECK_EQ_MEM(RX.payload, "early", 5);
    mk_fake_io_sends(&F, 10, "\r\n+SMSUB: \"in/y\",\"a \"quoted\" one\"\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 100), MK_OK);
    MK_CHECK_EQ_INT(RX.n, 2);
    MK_CHECK_EQ_STR(RX.topic, "in/y");
    MK_CHECK_EQ_INT(RX.len, 14);
    MK_CHECK_EQ_MEM(RX.payload, "a \"quoted\" one", 14);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(sm_errors_become_sentences_and_lost_links_recover)
{
    sm_setup(2);
    sm_script_connect(false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    /* the broker dropped us: SMPUB answers ERROR, SMSTATE? says 0 → reconnect, retry */
    on_reply("AT+SMPUB=\"t\",1,0,1", "\r\n>");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, "x", 1, 0, "\r\nERROR\r\n", 9);
    on_reply("AT+SMSTATE?", "\r\n+SMSTATE: 0\r\n\r\nOK\r\n");
    sm_script_connect(false);
    on_prompt("AT+SMPUB=\"t\",1,0,1", "x", 1, "\r\nOK\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "t", (const uint8_t *)"x", 1, 0, true), MK_OK);
    MK_CHECK(states_has("connected>recovering:MK_E_MQTT_NOT_CONNECTED|recovering>connected"));

    /* a refused subscription while connected: a sentence, the state stays */
    on_reply("AT+SMSUB=\"bad\",0", "\r\nERROR\r\n");
    on_reply("AT+SMSTATE?", "\r\n+SMSTATE: 1\r\n\r\nOK\r\n");
    const char *t[] = {"bad"};
    MK_CHECK_EQ_INT(mk_mqtt_subscribe(&C, t, 1, 0), MK_E_MQTT_FAILED);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "SMSUB: the module answered ERROR"));
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);

    /* "+SMSTATE: 0" as a URC: recovery in poll */
    sm_script_connect(false);
    mk_fake_io_sends(&F, 0, "\r\n+SMSTATE: 0\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_poll(&C, 3000), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_state(&C), MK_MQTT_CONNECTED);
    MK_CHECK_EQ_INT(mk_mqtt_stats(&C)->reconnects, 2);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST(sm_connect_failure_and_limits)
{
    sm_setup(3);
    on_reply("AT+SMSTATE?", "\r\n+SMSTATE: 0\r\n\r\nOK\r\n");
    /* the bearer is down: CNACT=1, then "+APP PDP: ACTIVE" */
    on_reply("AT+CNACT?", "\r\n+CNACT: 0,0,\"0.0.0.0\"\r\n\r\nOK\r\n");
    on_two("AT+CNACT=1", "+APP PDP: ACTIVE", 300, false);
    on_ok("AT+SMCONF=\"CLIENTID\",\"dev1\"");
    on_ok("AT+SMCONF=\"URL\",\"127.0.0.1\",1883");
    on_ok("AT+SMCONF=\"KEEPTIME\",60");
    on_ok("AT+SMCONF=\"CLEANSS\",1");
    on_reply("AT+SMCONN", "\r\nERROR\r\n");
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_MQTT_FAILED);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "SMCONN: the module answered ERROR"));
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "host and port"));
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);

    size_t before = tx_len();
    OPTS.url = "mqtts://127.0.0.1";
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_E_UNSUPPORTED);
    MK_CHECK_EQ_INT(tx_len(), before);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);

    sm_setup(4);
    sm_script_connect(false);
    MK_CHECK_EQ_INT(mk_mqtt_init(&C, &CFG), MK_OK);
    MK_CHECK_EQ_INT(mk_mqtt_connect(&C, &OPTS), MK_OK);
    before = tx_len();
    static uint8_t big[600];
    MK_CHECK_EQ_INT(mk_mqtt_publish(&C, "t", big, sizeof big, 0, false), MK_E_MQTT_PARAM);
    MK_CHECK(strstr(mk_mqtt_last_error(&C)->text, "512"));
    MK_CHECK_EQ_INT(tx_len(), before);
    mk_mqtt_release(&C);
    mk_fake_io_free(&F);
}

MK_TEST_MAIN()
