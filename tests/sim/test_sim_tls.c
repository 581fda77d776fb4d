/*
 * modemsim TLS: certificates uploaded with AT+CCERTDOWN, bound with AT+CSSLCFG and
 * AT+CMQTTSSLCFG, against a mosquitto TLS listener that requires client certificates
 * (a PKI made by openssl at test time).
 */
#include "sim_test_util.h"

#include <sys/stat.h>

static char g_dir[256];
static struct mk_pki g_pki;
static struct mk_broker g_broker;
static char g_url[64];
static struct mk_sim g_sim;

static void teardown(void)
{
    mk_sim_stop(&g_sim);
    mk_broker_stop(&g_broker);
    mk_test_rmtree(g_dir);
}

static void upload(struct mk_sim *s, const char *name, const char *path)
{
    char *data, cmd[256], resp[16384];
    size_t len;
    MK_CHECK_EQ_INT(mk_test_read_file(path, &data, &len), 0);
    snprintf(cmd, sizeof cmd, "AT+CCERTDOWN=\"%s\",%zu", name, len);
    AT_OK(s, cmd, resp);
    MK_CHECK_EQ_STR(resp, ">\n");
    MK_CHECK_EQ_INT(mk_sim_data(s, data, len, resp, sizeof resp, T_MS), 0);
    free(data);
}

/* The suite's shared setup: PKI, TLS broker, a SIM7600E-H with the three files. */
static int setup(void)
{
    if (g_sim.pid > 0)
        return 0;
    char pki[300];
    if (mk_test_tmpdir(g_dir, sizeof g_dir, "simtls") != 0)
        return -1;
    atexit(teardown);
    snprintf(pki, sizeof pki, "%s/pki", g_dir);
    struct mk_broker_opts o = {.tls = &g_pki, .require_cert = true};
    if (mk_pki_make(&g_pki, pki) != 0 || mk_broker_start(&g_broker, g_dir, &o) != 0)
        return -1;
    mk_broker_url(&g_broker, g_url, sizeof g_url);
    if (sim_up(&g_sim, "SIM7600E-H", "PB DONE", NULL) != 0)
        return -1;
    upload(&g_sim, "cacert.pem", g_pki.ca_crt);
    upload(&g_sim, "clientcert.pem", g_pki.client_crt);
    upload(&g_sim, "clientkey.pem", g_pki.client_key);
    char resp[256];
    return mk_sim_cmd(&g_sim, "AT+CMQTTSTART", resp, sizeof resp, T_MS);
}

/* ACCQ over SSL, bind ctx, CONNECT; returns the <err> of +CMQTTCONNECT. */
static int tls_connect(const char *id, int ctx)
{
    struct mk_sim *s = &g_sim;
    char cmd[256], resp[1024], line[64];
    snprintf(cmd, sizeof cmd, "AT+CMQTTACCQ=0,\"%s\",1,4", id);
    AT_OK(s, cmd, resp);
    if (ctx >= 0) {
        snprintf(cmd, sizeof cmd, "AT+CMQTTSSLCFG=0,%d", ctx);
        AT_OK(s, cmd, resp);
    }
    snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=0,\"%s\",60,1", g_url);
    AT_OK(s, cmd, resp);
    if (mk_sim_expect(s, "+CMQTTCONNECT: 0,", T_MS) != 0 ||
        mk_sim_line(s, line, sizeof line, T_MS) <= 0)
        return -1;
    return atoi(line);
}

static void release(void)
{
    char resp[256];
    AT_OK(&g_sim, "AT+CMQTTREL=0", resp);
}

MK_TEST(store_lists_and_deletes)
{
    MK_CHECK_EQ_INT(setup(), 0);
    char resp[1024];
    AT_OK(&g_sim, "AT+CCERTLIST", resp);
    /* seed 001 shows the same three names, alphabetical */
    MK_CHECK_EQ_STR(resp, "+CCERTLIST: \"cacert.pem\"\n+CCERTLIST: \"clientcert.pem\"\n"
                          "+CCERTLIST: \"clientkey.pem\"\nOK\n");
    AT_ERR(&g_sim, "AT+CCERTDOWN=\"ab.pem\",10241", resp); /* > 10240 bytes */
    AT_ERR(&g_sim, "AT+CCERTDOWN=\".pem\",10", resp);      /* name < 5 bytes */
    AT_ERR(&g_sim, "AT+CCERTDOWN=\"abcde.txt\",10", resp); /* not .pem/.der */
    AT_OK(&g_sim, "AT+CCERTDOWN=\"tmp.der\",3", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&g_sim, "\x30\x01\x00", 3, resp, sizeof resp, T_MS), 0);
    AT_OK(&g_sim, "AT+CCERTDELE=\"tmp.der\"", resp);
    AT_ERR(&g_sim, "AT+CCERTDELE=\"tmp.der\"", resp);
    /* S1 §10 defaults: sslversion 4, authmode 0, ignorelocaltime 1, negotiatetime 300 */
    AT_OK(&g_sim, "AT+CSSLCFG=9", resp);
    MK_CHECK_EQ_STR(resp, "+CSSLCFG: 9,4,0,1,300,\"\",\"\",\"\",0,\"\",0xFFFF\nOK\n");
}

MK_TEST(authmode2_with_the_right_files_connects)
{
    MK_CHECK_EQ_INT(setup(), 0);
    char resp[256];
    AT_OK(&g_sim, "AT+CSSLCFG=\"sslversion\",0,4", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"authmode\",0,2", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",0,\"cacert.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"clientcert\",0,\"clientcert.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"clientkey\",0,\"clientkey.pem\"", resp);
    MK_CHECK_EQ_INT(tls_connect("tls-ok", 0), 0);
    MK_CHECK_EQ_INT(mk_broker_wait_log(&g_broker, "as tls-ok (p2", T_MS), 0);
    /* and it carries traffic */
    AT_OK(&g_sim, "AT+CMQTTSUB=0,5,1", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&g_sim, "tls/x", 5, resp, sizeof resp, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&g_sim, "+CMQTTSUB: 0,0\r\n", T_MS), 0);
    AT_OK(&g_sim, "AT+CMQTTDISC=0,60", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&g_sim, "+CMQTTDISC: 0,0\r\n", T_MS), 0);
    release();
    /* without CMQTTSSLCFG the context is the client index (S1 p.350): ctx 0 again */
    MK_CHECK_EQ_INT(tls_connect("tls-default-ctx", -1), 0);
    AT_OK(&g_sim, "AT+CMQTTDISC=0,60", resp);
    MK_CHECK_EQ_INT(mk_sim_expect(&g_sim, "+CMQTTDISC: 0,0\r\n", T_MS), 0);
    release();
}

MK_TEST(wrong_ca_is_handshake_failure_32)
{
    MK_CHECK_EQ_INT(setup(), 0);
    char resp[256];
    upload(&g_sim, "otherca.pem", g_pki.other_ca_crt);
    AT_OK(&g_sim, "AT+CSSLCFG=\"authmode\",1,2", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",1,\"otherca.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"clientcert\",1,\"clientcert.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"clientkey\",1,\"clientkey.pem\"", resp);
    MK_CHECK_EQ_INT(tls_connect("tls-badca", 1), 32);
    AT_ERR(&g_sim, "AT+CMQTTTOPIC=0,5", resp);
    MK_CHECK_EQ_STR(resp, "+CMQTTTOPIC: 0,11\nERROR\n");
    release();
}

MK_TEST(missing_file_is_33)
{
    MK_CHECK_EQ_INT(setup(), 0);
    char resp[256];
    /* authmode 2 with only the CA configured */
    AT_OK(&g_sim, "AT+CSSLCFG=\"authmode\",2,2", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",2,\"cacert.pem\"", resp);
    MK_CHECK_EQ_INT(tls_connect("tls-nocert", 2), 33);
    release();
    /* configured, but the file is not in the store */
    AT_OK(&g_sim, "AT+CSSLCFG=\"authmode\",3,1", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",3,\"nothere.pem\"", resp);
    MK_CHECK_EQ_INT(tls_connect("tls-nofile", 3), 33);
    release();
}

MK_TEST(unusable_file_is_session_failure_34)
{
    MK_CHECK_EQ_INT(setup(), 0);
    char resp[256];
    /* documented trigger (sim/README.md): a bound file that is not a usable key */
    const char *bad = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    char cmd[64];
    snprintf(cmd, sizeof cmd, "AT+CCERTDOWN=\"badkey.pem\",%zu", strlen(bad));
    AT_OK(&g_sim, cmd, resp);
    DATA_OK(&g_sim, bad, resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"authmode\",4,2", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",4,\"cacert.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"clientcert\",4,\"clientcert.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"clientkey\",4,\"badkey.pem\"", resp);
    MK_CHECK_EQ_INT(tls_connect("tls-badkey", 4), 34);
    release();
}

MK_TEST(authmode_0_and_1_without_client_certificates)
{
    MK_CHECK_EQ_INT(setup(), 0);
    /* a second TLS listener that does not ask for client certificates */
    char d[300], url[64], cmd[256], resp[1024], line[32];
    snprintf(d, sizeof d, "%s/open", g_dir);
    MK_CHECK_EQ_INT(mkdir(d, 0700), 0);
    struct mk_broker b;
    struct mk_broker_opts o = {.tls = &g_pki, .require_cert = false};
    MK_CHECK_EQ_INT(mk_broker_start(&b, d, &o), 0);
    mk_broker_url(&b, url, sizeof url);
    struct {
        const char *cfg, *id;
        int err;
    } cases[] = {
        {"AT+CSSLCFG=\"authmode\",5,0", "tls-none", 0},    /* no verification */
        {"AT+CSSLCFG=\"authmode\",6,1", "tls-server", 0},  /* server auth with the CA */
        {"AT+CSSLCFG=\"authmode\",7,1", "tls-wrongca", 32}, /* server auth, wrong CA */
    };
    upload(&g_sim, "otherca.pem", g_pki.other_ca_crt); /* (again: tests stand alone) */
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",6,\"cacert.pem\"", resp);
    AT_OK(&g_sim, "AT+CSSLCFG=\"cacert\",7,\"otherca.pem\"", resp);
    for (int i = 0; i < 3; i++) {
        AT_OK(&g_sim, cases[i].cfg, resp);
        snprintf(cmd, sizeof cmd, "AT+CMQTTACCQ=1,\"%s\",1,4", cases[i].id);
        AT_OK(&g_sim, cmd, resp);
        snprintf(cmd, sizeof cmd, "AT+CMQTTSSLCFG=1,%d", 5 + i);
        AT_OK(&g_sim, cmd, resp);
        snprintf(cmd, sizeof cmd, "AT+CMQTTCONNECT=1,\"%s\",60,1", url);
        AT_OK(&g_sim, cmd, resp);
        MK_CHECK_EQ_INT(mk_sim_expect(&g_sim, "+CMQTTCONNECT: 1,", T_MS), 0);
        MK_CHECK(mk_sim_line(&g_sim, line, sizeof line, T_MS) > 0);
        MK_CHECK_EQ_INT(atoi(line), cases[i].err);
        if (cases[i].err == 0) {
            AT_OK(&g_sim, "AT+CMQTTDISC=1,60", resp);
            MK_CHECK_EQ_INT(mk_sim_expect(&g_sim, "+CMQTTDISC: 1,0\r\n", T_MS), 0);
        }
        AT_OK(&g_sim, "AT+CMQTTREL=1", resp);
    }
    mk_broker_stop(&b);
}

MK_TEST_MAIN()
