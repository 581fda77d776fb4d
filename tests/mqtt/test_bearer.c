/* Bearer status and bring-up against scripted SIM7600 and SIM7000 answers. */
#include <string.h>

#include "mk_test.h"
#include "modemkit/bearer.h"
#include "support/fake_io.h"

static struct mk_fake_io F;
static struct mk_at_chan CH;
static char LINE[512];

static void setup(uint64_t seed)
{
    mk_fake_io_init(&F, seed, 6);
    struct mk_at_config cfg = {0};
    cfg.line_buf = LINE;
    cfg.line_cap = sizeof LINE;
    mk_at_chan_init(&CH, &cfg, &F.io, &F.clock);
}

static void on(const char *line, const char *reply)
{
    mk_fake_io_on(&F, MK_FAKE_LINE, line, 0, reply);
}

static void common_status(void)
{
    on("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    on("AT+CSQ", "\r\n+CSQ: 24,99\r\n\r\nOK\r\n");
    on("AT+CREG?", "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    on("AT+CGREG?", "\r\n+CGREG: 0,1\r\n\r\nOK\r\n");
    on("AT+CEREG?", "\r\n+CEREG: 0,5\r\n\r\nOK\r\n");
    on("AT+CPSI?", "\r\n+CPSI: LTE,Online,001-01,0x1A2B,136092930,257,EUTRAN-BAND3,1275,5,5,"
                   "-98,-870,-610,12\r\n\r\nOK\r\n");
}

MK_TEST(status_sim7600)
{
    setup(1);
    struct mk_modem_id id = {0};
    id.family = MK_FAMILY_SIM7600;
    common_status();
    on("AT+CGDCONT?", "\r\n+CGDCONT: 1,\"IP\",\"iot.apn\",\"0.0.0.0\",0,0\r\n\r\nOK\r\n");
    on("AT+NETOPEN?", "\r\n+NETOPEN: 1\r\n\r\nOK\r\n");
    on("AT+IPADDR", "\r\n+IPADDR: 10.184.19.67\r\n\r\nOK\r\n");
    struct mk_bearer_status st;
    MK_CHECK_EQ_INT(mk_bearer_status(&CH, &id, &st), MK_OK);
    MK_CHECK_EQ_STR(st.sim, "READY");
    MK_CHECK_EQ_INT(st.rssi, 24);
    MK_CHECK_EQ_INT(st.dbm, -65);
    MK_CHECK_EQ_INT(st.creg, 1);
    MK_CHECK_EQ_INT(st.cereg, 5);
    MK_CHECK(mk_bearer_registered(&st));
    MK_CHECK_EQ_STR(mk_bearer_reg_name(st.cereg), "roaming");
    MK_CHECK(strncmp(st.cpsi, "LTE,Online,001-01", 17) == 0);
    MK_CHECK(st.data_up);
    MK_CHECK_EQ_STR(st.ip, "10.184.19.67");
    MK_CHECK_EQ_STR(st.apn, "iot.apn");
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_fake_io_free(&F);
}

MK_TEST(status_without_sim)
{
    setup(2);
    struct mk_modem_id id = {0};
    id.family = MK_FAMILY_SIM7600;
    on("AT+CPIN?", "\r\n+CME ERROR: SIM not inserted\r\n");
    on("AT+CSQ", "\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    on("AT+CREG?", "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    on("AT+CGREG?", "\r\nERROR\r\n");
    on("AT+CEREG?", "\r\n+CEREG: 0,2\r\n\r\nOK\r\n");
    on("AT+CPSI?", "\r\n+CPSI: NO SERVICE,Online\r\n\r\nOK\r\n");
    on("AT+CGDCONT?", "\r\nOK\r\n");
    on("AT+NETOPEN?", "\r\n+NETOPEN: 0\r\n\r\nOK\r\n");
    on("AT+CGACT?", "\r\nOK\r\n");
    struct mk_bearer_status st;
    MK_CHECK_EQ_INT(mk_bearer_status(&CH, &id, &st), MK_OK);
    MK_CHECK_EQ_STR(st.sim, "SIM not inserted");
    MK_CHECK_EQ_INT(st.dbm, 0);
    MK_CHECK_EQ_INT(st.cgreg, -1);
    MK_CHECK(!mk_bearer_registered(&st));
    MK_CHECK(!st.data_up);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_fake_io_free(&F);
}

MK_TEST(up_sim7600_sets_apn_and_opens)
{
    setup(3);
    struct mk_modem_id id = {0};
    id.family = MK_FAMILY_SIM7600;
    on("AT+CGDCONT=1,\"IP\",\"internet\"", "\r\nOK\r\n");
    struct mk_fake_rule *r = mk_fake_io_on(&F, MK_FAKE_LINE, "AT+NETOPEN", 0, "\r\nOK\r\n");
    mk_fake_io_then(r, 500, "\r\n+NETOPEN: 0\r\n");
    MK_CHECK_EQ_INT(mk_bearer_up(&CH, &id, "internet", NULL), MK_OK);
    /* already open: fine too (S1 §11.2.2) */
    on("AT+NETOPEN", "\r\n+IP ERROR: Network is already opened\r\n\r\nERROR\r\n");
    MK_CHECK_EQ_INT(mk_bearer_up(&CH, &id, NULL, NULL), MK_OK);
    r = mk_fake_io_on(&F, MK_FAKE_LINE, "AT+NETOPEN", 0, "\r\nOK\r\n");
    mk_fake_io_then(r, 100, "\r\n+NETOPEN: 1\r\n");
    MK_CHECK_EQ_INT(mk_bearer_up(&CH, &id, NULL, NULL), MK_E_NET);
    MK_CHECK_EQ_INT(mk_bearer_up(&CH, &id, "bad\"apn", NULL), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_fake_io_free(&F);
}

MK_TEST(sim7000_status_and_up)
{
    setup(4);
    struct mk_modem_id id = {0};
    id.family = MK_FAMILY_SIM7000;
    on("AT+CNCFG=1,\"ctnb\"", "\r\nOK\r\n");
    on("AT+CNACT?", "\r\n+CNACT: 0,0,\"0.0.0.0\"\r\n\r\nOK\r\n");
    struct mk_fake_rule *r =
        mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CNACT=1,\"ctnb\"", 0, "\r\nOK\r\n");
    mk_fake_io_then(r, 200, "\r\n+APP PDP: ACTIVE\r\n");
    common_status();
    on("AT+CNACT?", "\r\n+CNACT: 0,1,\"10.94.36.44\"\r\n\r\nOK\r\n");
    on("AT+CGNAPN", "\r\n+CGNAPN: 1,\"ctnb\"\r\n\r\nOK\r\n");
    struct mk_bearer_status st;
    MK_CHECK_EQ_INT(mk_bearer_up(&CH, &id, "ctnb", &st), MK_OK);
    MK_CHECK(st.data_up);
    MK_CHECK_EQ_STR(st.ip, "10.94.36.44");
    MK_CHECK_EQ_STR(st.apn, "ctnb");
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_fake_io_free(&F);
}

MK_TEST_MAIN()
