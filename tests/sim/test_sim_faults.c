/*
 * modemsim --fault and --seed: byte faults repeat exactly for a seed; completion URCs can
 * be delayed or dropped; the broker connection can be dropped on a timer.
 */
#include "sim_test_util.h"

/* Boot URCs (46 bytes) + echo of "ATE0\r" and its OK (11 bytes), with every output byte
 * possibly bit-flipped: the length is fixed, the content depends on the seed only. */
#define STREAM 57

static int corrupted_stream(const char *seed, unsigned char *out)
{
    const char *args[] = {"--profile", "SIM7600E-H", "--boot-delay-ms", "0",
                          "--sim-delay-ms", "0", "--fault", "corrupt=0.2/tx",
                          "--max-write", "5", "--seed", seed, NULL};
    struct mk_sim s;
    if (mk_sim_start(&s, args) != 0)
        return -1;
    int rc = mk_sim_read_exact(&s, out, 46, T_MS);
    if (rc == 0)
        rc = mk_sim_send(&s, "ATE0");
    if (rc == 0)
        rc = mk_sim_read_exact(&s, out + 46, STREAM - 46, T_MS);
    if (mk_sim_stop(&s) != 0)
        rc = -1;
    return rc;
}

MK_TEST(byte_faults_repeat_for_a_seed)
{
    unsigned char a[STREAM], b[STREAM], c[STREAM];
    MK_CHECK_EQ_INT(corrupted_stream("42", a), 0);
    MK_CHECK_EQ_INT(corrupted_stream("42", b), 0);
    MK_CHECK_EQ_INT(corrupted_stream("43", c), 0);
    MK_CHECK_EQ_MEM(a, b, STREAM);
    MK_CHECK(memcmp(a, c, STREAM) != 0);
    const char *clean = "\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\nATE0\r\r\nOK\r\n";
    MK_CHECK(memcmp(a, clean, STREAM) != 0); /* the fault did something */
}

MK_TEST(completion_urcs_delayed_and_dropped)
{
    char dir[256], url[64], cmd[256], resp[1024];
    struct mk_broker b;
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simfault"), 0);
    MK_CHECK_EQ_INT(mk_broker_start(&b, dir, NULL), 0);
    mk_broker_url(&b, url, sizeof url);
    struct mk_sim s;
    const char *extra[] = {"--fault", "urc-delay=SUB/800,urc-drop=PUB/1,broker-drop@conn+3s",
                           NULL};
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", extra), 0);
    AT_OK(&s, "AT+CMQTTSTART", resp);
    AT_OK(&s, "AT+CMQTTACCQ=0,\"faulty\",0,4", resp);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1", url);
    AT_OK(&s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 0,0\r\n", T_MS), 0);
    int64_t t0 = mk_test_now_ms();

    /* SUB: OK now, its URC 800 ms later; the client is busy meanwhile */
    AT_OK(&s, "AT+CMQTTSUB=0,3,0", resp);
    DATA_OK(&s, "f/x", resp);
    AT_ERR(&s, "AT+CMQTTTOPIC=0,3", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 0,14\nERROR\n");
    int64_t t1 = mk_test_now_ms();
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTSUB: 0,0\r\n", T_MS), 0);
    MK_CHECK(mk_test_now_ms() - t1 >= 600);

    /* first PUB: OK, the message reaches the broker, but no +CMQTTPUB */
    AT_OK(&s, "AT+CMQTTTOPIC=0,3", resp);
    DATA_OK(&s, "f/y", resp);
    AT_OK(&s, "AT+CMQTTPUB=0,1,60", resp);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&b, "Received PUBLISH from faulty (d0, q1", T_MS), 0);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&b, "Sending PUBACK to faulty", T_MS), 0);
    /* the module finishes it anyway: busy (14) until it has the PUBACK, then not */
    int64_t deadline = mk_test_now_ms() + T_MS;
    int rc;
    while ((rc = mk_sim_cmd(&s, "AT+CMQTTTOPIC=0,3", resp, sizeof resp, T_MS)) == 1 &&
           strcmp(resp, "+CMQTTTOPIC: 0,14\nERROR\n") == 0 && mk_test_now_ms() < deadline)
        ;
    MK_CHECK_EQ_INT(rc, 0);
    DATA_OK(&s, "f/y", resp);
    AT_OK(&s, "AT+CMQTTPUB=0,1,60", resp);
    MK_CHECK_EQ_STR(resp, "OK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CMQTTPUB: 0,0\r\n", T_MS), 0);
    MK_CHECK(memmem(s.rx, s.rxlen, "+CMQTTPUB", 9) == NULL);

    /* 3 s after the CONNACK the broker connection goes */
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNLOST: 0,1\r\n", T_MS), 0);
    MK_CHECK(mk_test_now_ms() - t0 >= 2500);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_broker_stop(&b);
    mk_test_rmtree(dir);
}

MK_TEST(broker_going_away_is_connlost)
{
    char dir[256], url[64], cmd[256], resp[1024];
    struct mk_broker b;
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simgone"), 0);
    MK_CHECK_EQ_INT(mk_broker_start(&b, dir, NULL), 0);
    mk_broker_url(&b, url, sizeof url);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    AT_OK(&s, "AT+CMQTTSTART", resp);
    AT_OK(&s, "AT+CMQTTACCQ=1,\"left\",0,4", resp);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=1,\"%s\",60,1", url);
    AT_OK(&s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 1,0\r\n", T_MS), 0);
    mk_broker_stop(&b); /* the broker closes its sockets */
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNLOST: 1,1\r\n", T_MS), 0);
    AT_OK(&s, "AT+CMQTTDISC?", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTDISC: 0,1\n+CMQTTDISC: 1,1\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_test_rmtree(dir);
}

MK_TEST_MAIN()
