/*
 * modemsim against a real mosquitto: raw AT commands in, MQTT on the wire out (and back).
 */
#include "sim_test_util.h"

#include <signal.h>
#include <unistd.h>

static char g_dir[256];
static struct mk_broker g_broker;
static char g_url[64];

static void teardown(void)
{
    mk_broker_stop(&g_broker);
    mk_test_rmtree(g_dir);
}

static int broker(void)
{
    if (g_broker.pid > 0)
        return 0;
    if (mk_test_tmpdir(g_dir, sizeof g_dir, "simmqtt") != 0 ||
        mk_broker_start(&g_broker, g_dir, NULL) != 0)
        return -1;
    mk_broker_url(&g_broker, g_url, sizeof g_url);
    atexit(teardown);
    return 0;
}

/* START, ACCQ (with version when ver > 0), CONNECT to the shared broker; waits for the
 * completion URC. */
static void connect_client(struct mk_sim *s, const char *id, int ver)
{
    char cmd[512], resp[1024];
    AT_OK(s, "AT+CMQTTSTART", resp);
    if (ver)
        snprintf(cmd, sizeof cmd, "AT+CMQTTACCQ=0,\"%s\",0,%d", id, ver);
    else
        snprintf(cmd, sizeof cmd, "AT+CMQTTACCQ=0,\"%s\",0", id);
    AT_OK(s, cmd, resp);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1", g_url);
    AT_OK(s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(s, "+CMQTTCONNECT: 0,0\r\n", T_MS), 0);
}

/* "AT+CMQTT<what>=0,<len>[,<extra>]" → ">" → data → OK */
static void prompt_data(struct mk_sim *s, const char *what, const char *extra, const void *data,
                        size_t len)
{
    char cmd[128], resp[1024];
    snprintf(cmd, sizeof cmd, "AT+CMQTT%s=0,%zu%s", what, len, extra);
    AT_OK(s, cmd, resp);
    MK_CHECK_EQ_STR(resp, ">\n");
    MK_CHECK_EQ_INT(mk_sim_data(s, data, len, resp, sizeof resp, T_MS), 0);
}

MK_TEST(publish_arrives_at_mosquitto_sub)
{
    MK_CHECK_EQ_INT(broker(), 0);
    char port[16], out[256];
    snprintf(port, sizeof port, "%d", g_broker.port);
    const char *sub[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "modemkit/up",
                         "-C", "1", "-W", "20", "-i", "sub-up", NULL};
    int fd;
    pid_t pid = mk_test_spawn(sub, &fd);
    MK_CHECK(pid > 0);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "Received SUBSCRIBE from sub-up", T_MS), 0);

    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    connect_client(&s, "sim-pub", 4);
    const char *payload = "{\"t\":21.5,\"unit\":\"C\"}";
    prompt_data(&s, "TOPIC", "", "modemkit/up", 11);
    prompt_data(&s, "PAYLOAD", "", payload, strlen(payload));
    char resp[256];
    AT_OK(&s, "AT+CMQTTPUB=0,1,60", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTPUB: 0,0\r\n", T_MS), 0);

    char buf[512];
    size_t blen = 0;
    MK_CHECK_EQ_INT(mk_test_read_line(fd, buf, &blen, out, sizeof out, T_MS), 0);
    MK_CHECK_EQ_STR(out, payload);
    MK_CHECK_EQ_INT(mk_test_wait(pid, T_MS), 0);
    close(fd);
    /* ACCQ asked for version 4: MQTT 3.1.1 on the wire ("p2" in mosquitto's log) */
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "as sim-pub (p2", T_MS), 0);
    /* QoS 1 reached the broker as QoS 1 */
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "Received PUBLISH from sim-pub (d0, q1", T_MS),
                    0);
    /* QoS 2 and retain go through too; +CMQTTPUB after PUBCOMP */
    prompt_data(&s, "TOPIC", "", "modemkit/state", 14);
    prompt_data(&s, "PAYLOAD", "", "on", 2);
    AT_OK(&s, "AT+CMQTTPUB=0,2,60,1", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTPUB: 0,0\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "Received PUBLISH from sim-pub (d0, q2, r1", T_MS),
                    0);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "Sending PUBCOMP to sim-pub", T_MS), 0);
    AT_OK(&s, "AT+CMQTTDISC=0,120", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTDISC: 0,0\r\n", T_MS), 0);
    AT_OK(&s, "AT+CMQTTREL=0", resp);
    AT_OK(&s, "AT+CMQTTSTOP", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTSTOP: 0\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

/* Reads one +CMQTTRX* message: returns the payload (malloc) and checks the framing. */
static unsigned char *read_rx(struct mk_sim *s, const char *topic, size_t want_len,
                              size_t *max_chunk)
{
    char line[256], expect[256];
    MK_CHECK(mk_sim_line(s, line, sizeof line, T_MS) > 0);
    snprintf(expect, sizeof expect, "+CMQTTRXSTART: 0,%zu,%zu", strlen(topic), want_len);
    MK_CHECK_EQ_STR(line, expect);
    MK_CHECK(mk_sim_line(s, line, sizeof line, T_MS) > 0);
    snprintf(expect, sizeof expect, "+CMQTTRXTOPIC: 0,%zu", strlen(topic));
    MK_CHECK_EQ_STR(line, expect);
    char crlf[2], tbuf[256] = {0};
    MK_CHECK_EQ_INT(mk_sim_read_exact(s, crlf, 2, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_read_exact(s, tbuf, strlen(topic), T_MS), 0);
    MK_CHECK_EQ_STR(tbuf, topic);
    unsigned char *p = malloc(want_len + 1);
    size_t got = 0;
    *max_chunk = 0;
    while (got < want_len) {
        if (mk_sim_line(s, line, sizeof line, T_MS) <= 0 ||
            strncmp(line, "+CMQTTRXPAYLOAD: 0,", 19) != 0) {
            MK_FAIL_AT(__FILE__, __LINE__, "expected +CMQTTRXPAYLOAD, got \"%s\"", line);
            break;
        }
        size_t k = strtoul(line + 19, NULL, 10);
        if (k > *max_chunk)
            *max_chunk = k;
        if (k == 0 || got + k > want_len) {
            MK_FAIL_AT(__FILE__, __LINE__, "bad chunk length %zu", k);
            break;
        }
        MK_CHECK_EQ_INT(mk_sim_read_exact(s, crlf, 2, T_MS), 0);
        MK_CHECK(crlf[0] == '\r' && crlf[1] == '\n');
        MK_CHECK_EQ_INT(mk_sim_read_exact(s, p + got, k, T_MS), 0);
        got += k;
    }
    MK_CHECK(mk_sim_line(s, line, sizeof line, T_MS) > 0);
    MK_CHECK_EQ_STR(line, "+CMQTTRXEND: 0");
    return p;
}

MK_TEST(mosquitto_pub_arrives_as_rx_urcs)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    connect_client(&s, "sim-sub", 4);
    char resp[256];
    AT_OK(&s, "AT+CMQTTSUB=0,13,1", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&s, "modemkit/down", 13, resp, sizeof resp, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTSUB: 0,0\r\n", T_MS), 0);

    char port[16];
    snprintf(port, sizeof port, "%d", g_broker.port);
    /* a short message */
    const char *pub1[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", "modemkit/down",
                          "-q", "1", "-m", "hello module", NULL};
    MK_CHECK_EQ_INT(mk_test_run(pub1, NULL, 0, T_MS), 0);
    size_t maxc;
    unsigned char *p = read_rx(&s, "modemkit/down", 12, &maxc);
    MK_CHECK_EQ_MEM(p, "hello module", 12);
    free(p);

    /* 10240 bytes (the module's maximum) with CR and LF inside, byte-exact */
    size_t n = 10240;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i % 97 == 0 ? '\r' : i % 89 == 0 ? '\n' : 32 + (i * 7) % 95);
    char path[300];
    snprintf(path, sizeof path, "%s/big.bin", g_dir);
    MK_CHECK_EQ_INT(mk_test_write_file(path, big, n), 0);
    const char *pub2[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t",
                          "modemkit/down", "-q", "1", "-f", path, NULL};
    MK_CHECK_EQ_INT(mk_test_run(pub2, NULL, 0, T_MS), 0);
    p = read_rx(&s, "modemkit/down", n, &maxc);
    MK_CHECK_EQ_MEM(p, big, n);
    MK_CHECK(maxc <= 1500); /* S1: payload chunks of at most 1500 bytes */
    MK_CHECK_EQ_INT(maxc, 1500);
    free(p);
    free(big);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(busy_14_while_connect_pending)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    const char *extra[] = {"--urc-delay-ms", "1500", "--urc-order", "after", NULL};
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", extra), 0);
    char cmd[256], resp[1024];
    AT_OK(&s, "AT+CMQTTSTART", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTSTART: 0\r\n", T_MS), 0);
    AT_OK(&s, "AT+CMQTTACCQ=0,\"SIMCom_client01\",0", resp);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1", g_url);
    AT_OK(&s, cmd, resp);
    /* seed 001 (F1 log): SUBTOPIC right after CONNECT's OK */
    AT_ERR(&s, "AT+CMQTTSUBTOPIC=0,10,1", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTSUBTOPIC: 0,14\nERROR\n");
    AT_ERR(&s, "AT+CMQTTTOPIC=0,10", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 0,14\nERROR\n");
    AT_ERR(&s, "AT+CMQTTREL=0", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTREL: 0,14\nERROR\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 0,0\r\n", T_MS), 0);
    AT_OK(&s, "AT+CMQTTSUBTOPIC=0,10,1", resp);
    MK_CHECK_EQ_STR(resp, ">\n");
    MK_CHECK_EQ_INT(mk_sim_data(&s, "esp32/test", 10, resp, sizeof resp, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(state_errors)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    char resp[1024];
    AT_ERR(&s, "AT+CMQTTACCQ=0,\"x\"", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTACCQ: 0,9\nERROR\n"); /* service not started */
    AT_OK(&s, "AT+CMQTTSTART", resp);
    AT_ERR(&s, "AT+CMQTTSTART", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTSTART: 23\nERROR\n");
    AT_ERR(&s, "AT+CMQTTTOPIC=1,5", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 1,20\nERROR\n");
    AT_OK(&s, "AT+CMQTTACCQ=1,\"c1\"", resp);
    AT_ERR(&s, "AT+CMQTTACCQ=1,\"c1\"", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTACCQ: 1,19\nERROR\n");
    AT_ERR(&s, "AT+CMQTTSTOP", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTSTOP: 21\nERROR\n");
    AT_ERR(&s, "AT+CMQTTTOPIC=1,5", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 1,11\nERROR\n"); /* seed 001: not connected */
    AT_ERR(&s, "AT+CMQTTWILLTOPIC=1,1025", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTWILLTOPIC: 1,22\nERROR\n");
    AT_ERR(&s, "AT+CMQTTWILLMSG=1,4,3", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTWILLMSG: 1,12\nERROR\n");
    /* bad UTF-8 with checkUTF8=1 (default), accepted once it is 0 */
    AT_OK(&s, "AT+CMQTTWILLTOPIC=1,2", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&s, "\xC3\x28", 2, resp, sizeof resp, T_MS), 1);
    MK_CHECK_EQ_STR(resp, "+CMQTTWILLTOPIC: 1,2\nERROR\n");
    AT_OK(&s, "AT+CMQTTCFG=\"checkUTF8\",1,0", resp);
    AT_OK(&s, "AT+CMQTTWILLTOPIC=1,2", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&s, "\xC3\x28", 2, resp, sizeof resp, T_MS), 0);
    AT_OK(&s, "AT+CMQTTREL=1", resp);
    AT_OK(&s, "AT+CMQTTSTOP", resp);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(connack_refusals_map_to_27_31)
{
    char dir[256], url[64], cmd[256], resp[1024];
    struct mk_broker b;
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simdeny"), 0);
    struct mk_broker_opts o = {.deny_anonymous = true};
    MK_CHECK_EQ_INT(mk_broker_start(&b, dir, &o), 0);
    mk_broker_url(&b, url, sizeof url);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    AT_OK(&s, "AT+CMQTTSTART", resp);
    AT_OK(&s, "AT+CMQTTACCQ=0,\"denied\",0,4", resp);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1,\"user\",\"pw\"", url);
    AT_OK(&s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 0,", T_MS), 0);
    char line[64];
    MK_CHECK(mk_sim_line(&s, line, sizeof line, T_MS) > 0);
    /* mosquitto answers CONNACK 5 (not authorised) when anonymous clients are refused
     * and there is no password file: err 31 */
    MK_CHECK_EQ_STR(line, "31");
    MK_CHECK_EQ_INT(mk_broker_wait_log(&b, "Sending CONNACK to 127.0.0.1 (0, 5)", T_MS), 0);
    /* nothing listens here: socket connect fail (3) */
    AT_OK(&s, "AT+CMQTTACCQ=1,\"nobody\",0,4", resp);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=1,\"tcp://127.0.0.1:%d\",60,1",
             mk_test_free_port());
    AT_OK(&s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 1,3\r\n", T_MS), 0);
    /* a host the simulator will not reach: DNS error (25) */
    AT_OK(&s, "AT+CMQTTCONNECT=1,\"tcp://broker.example.com:1883\",60,1", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 1,25\r\n", T_MS), 0);
    /* seed 001: after a failed connect the client reports "no connection" */
    AT_ERR(&s, "AT+CMQTTTOPIC=1,10", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 1,11\nERROR\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_broker_stop(&b);
    mk_test_rmtree(dir);
}

MK_TEST(credentials_and_will_reach_the_broker)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    char cmd[256], resp[1024];
    AT_OK(&s, "AT+CMQTTSTART", resp);
    AT_OK(&s, "AT+CMQTTACCQ=0,\"creds\",0,4", resp);
    prompt_data(&s, "WILLTOPIC", "", "modemkit/will", 13);
    prompt_data(&s, "WILLMSG", ",1", "gone", 4);
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",30,1,\"user\",\"pw\"", g_url);
    AT_OK(&s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 0,0\r\n", T_MS), 0);
    /* the SIM7600E-H profile sends user/password, keepalive 30 and the will */
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "as creds (p2, c1, k30, u'user')", T_MS), 0);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "Will message specified (4 bytes) (r0, q1).",
                                       T_MS), 0);
    AT_OK(&s, "AT+CMQTTCONNECT?", resp);
    CHECK_HAS(resp, ",30,1,\"user\",\"pw\"\n+CMQTTCONNECT: 1\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(old_firmware_refuses_credentials_and_speaks_31)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "LE11B01SIM7600M21-A", "PB DONE", NULL), 0);
    char cmd[256], resp[1024];
    /* seed 000: no MQTT version in ACCQ (test answer and the command itself) */
    AT_OK(&s, "AT+CMQTTACCQ=?", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTACCQ: (0-1),(1-128),(0-1)\nOK\n");
    AT_OK(&s, "AT+CMQTTSTART", resp);
    AT_ERR(&s, "AT+CMQTTACCQ=0,\"old-fw\",0,4", resp);
    MK_CHECK_EQ_STR(resp, "ERROR\n");
    AT_OK(&s, "AT+CMQTTACCQ=0,\"old-fw\",0", resp);
    /* seed 000: no username/password in CONNECT */
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1,\"user\",\"secret\"", g_url);
    AT_ERR(&s, cmd, resp);
    MK_CHECK_EQ_STR(resp, "ERROR\n");
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1", g_url);
    AT_OK(&s, cmd, resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 0,0\r\n", T_MS), 0);
    /* MQTT 3.1 ("MQIsdp", p1 in mosquitto's log) */
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "as old-fw (p1,", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(broker_drop_and_injected_urcs)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    const char *extra[] = {"--fault", "ping=17@step5,nonet@step8", NULL};
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", extra), 0);
    connect_client(&s, "dropped", 4); /* steps 1 (ATE0) to 4 */
    char resp[256];
    AT_OK(&s, "AT", resp); /* step 5: keep-alive ping failure injected */
    MK_CHECK_EQ_STR(resp, "+CMQTTPING: 0,17\nOK\n");
    mk_sim_signal(&s, SIGUSR1); /* the broker connection drops */
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNLOST: 0,1\r\n", T_MS), 0);
    AT_OK(&s, "AT+CMQTTDISC?", resp); /* step 6 */
    MK_CHECK_EQ_STR(resp, "+CMQTTDISC: 0,1\n+CMQTTDISC: 1,1\nOK\n");
    char cmd[256];
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1", g_url);
    AT_OK(&s, cmd, resp); /* step 7: reconnect works */
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CMQTTCONNECT: 0,0\r\n", T_MS), 0);
    AT_OK(&s, "AT", resp); /* step 8: network lost */
    CHECK_HAS(resp, "+CMQTTNONET");
    AT_ERR(&s, "AT+CMQTTTOPIC=0,3", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 0,20\nERROR\n"); /* service stopped, released */
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(sim7000_sm_mqtt)
{
    MK_CHECK_EQ_INT(broker(), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7000G", "SMS Ready", NULL), 0);
    char cmd[256], resp[1024], port[16];
    snprintf(port, sizeof port, "%d", g_broker.port);
    AT_ERR(&s, "AT+SMCONN", resp); /* no bearer, no URL */
    AT_OK(&s, "AT+CNACT=1", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+APP PDP: ACTIVE\r\n", T_MS), 0);
    AT_OK(&s, "AT+CNACT?", resp);
    CHECK_HAS(resp, "+CNACT: 0,1,\"");
    snprintf(cmd, sizeof cmd, "AT+SMCONF=\"URL\",\"127.0.0.1\",%s", port);
    AT_OK(&s, cmd, resp);
    AT_OK(&s, "AT+SMCONF=\"CLIENTID\",\"sim7000\"", resp);
    AT_OK(&s, "AT+SMCONF=\"KEEPTIME\",60", resp);
    AT_OK(&s, "AT+SMCONN", resp);
    AT_OK(&s, "AT+SMSTATE?", resp);
    MK_CHECK_EQ_STR(resp, "+SMSTATE: 1\nOK\n");
    AT_OK(&s, "AT+SMSUB=\"sm/down\",1", resp);
    const char *pub[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", "sm/down", "-m",
                         "on", NULL};
    MK_CHECK_EQ_INT(mk_test_run(pub, NULL, 0, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+SMSUB: \"sm/down\",\"on\"\r\n", T_MS), 0);

    const char *sub[] = {"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "sm/up", "-C",
                         "1", "-W", "20", "-i", "sub-sm", NULL};
    int fd;
    pid_t pid = mk_test_spawn(sub, &fd);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "Received SUBSCRIBE from sub-sm", T_MS), 0);
    AT_OK(&s, "AT+SMPUB=\"sm/up\",5,1,0", resp);
    MK_CHECK_EQ_STR(resp, ">\n");
    MK_CHECK_EQ_INT(mk_sim_data(&s, "12345", 5, resp, sizeof resp, T_MS), 0);
    char buf[512], out[64];
    size_t blen = 0;
    MK_CHECK_EQ_INT(mk_test_read_line(fd, buf, &blen, out, sizeof out, T_MS), 0);
    MK_CHECK_EQ_STR(out, "12345");
    MK_CHECK_EQ_INT(mk_test_wait(pid, T_MS), 0);
    close(fd);
    AT_OK(&s, "AT+SMUNSUB=\"sm/down\"", resp);
    AT_OK(&s, "AT+SMDISC", resp);
    AT_OK(&s, "AT+SMSTATE?", resp);
    MK_CHECK_EQ_STR(resp, "+SMSTATE: 0\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST_MAIN()
