/*
 * The blocking channel (mk_at_exec, mk_at_simple, mk_at_pump, mk_at_chan_set_io) against
 * the scripted fake module, on a virtual clock.
 */
#include <string.h>

#include "mk_test.h"
#include "modemkit/at.h"
#include "support/fake_io.h"

static struct mk_fake_io F;
static struct mk_at_chan CH;
static char LINE[1100];
static char LOG[4096];
static size_t LOG_LEN;

static void on_urc(void *user, const char *line, size_t len)
{
    (void)user;
    if (LOG_LEN + len + 2 < sizeof LOG) {
        memcpy(LOG + LOG_LEN, line, len);
        LOG_LEN += len;
        LOG[LOG_LEN++] = '\n';
        LOG[LOG_LEN] = '\0';
    }
}

static const struct mk_at_urc URCS[] = {
    {"+CMQTTCONNLOST:", on_urc, NULL},
    {"RDY", on_urc, NULL},
    {"SMS DONE", on_urc, NULL},
};

static void setup(uint64_t seed, size_t max_chunk)
{
    mk_fake_io_init(&F, seed, max_chunk);
    struct mk_at_config cfg = {0};
    cfg.line_buf = LINE;
    cfg.line_cap = sizeof LINE;
    cfg.urcs = URCS;
    cfg.n_urcs = sizeof URCS / sizeof URCS[0];
    mk_at_chan_init(&CH, &cfg, &F.io, &F.clock);
    LOG_LEN = 0;
    LOG[0] = '\0';
}

MK_TEST(exec_with_echo_chunks_and_short_writes)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        setup(seed, 1 + seed % 7);
        mk_fake_io_set_echo(&F, true);
        mk_fake_io_set_write_max(&F, 1 + seed % 3);
        mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CSQ", 0, "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
        char resp[64];
        struct mk_at_result r;
        MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT+CSQ", 300, resp, sizeof resp, &r), MK_OK);
        MK_CHECK_EQ_STR(resp, "+CSQ: 20,99");
        MK_CHECK(mk_fake_io_tx_equals(&F, "AT+CSQ\r"));
        MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
        MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1000); /* everything was due at once */
        mk_fake_io_free(&F);
    }
}

MK_TEST(exec_prompt_and_data)
{
    setup(7, 3);
    static const uint8_t topic[] = "aws/things/SOMETOPIC/";
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CMQTTTOPIC=0,21", 5, "\r\n>");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, topic, 21, 5, "\r\nOK\r\n", 6);
    struct mk_at_cmd c = {0};
    c.text = "AT+CMQTTTOPIC=0,21";
    c.timeout_ms = 1000;
    c.prompt = MK_AT_PROMPT_GT;
    c.data = topic;
    c.data_len = 21;
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_exec(&CH, &c, &r), MK_OK);
    MK_CHECK(mk_fake_io_tx_equals(&F, "AT+CMQTTTOPIC=0,21\raws/things/SOMETOPIC/"));
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1010);
    mk_fake_io_free(&F);
}

MK_TEST(exec_two_phase_on_virtual_time)
{
    setup(3, 16);
    struct mk_fake_rule *rule =
        mk_fake_io_on(&F, MK_FAKE_PREFIX, "AT+CMQTTCONNECT=0,", 20, "\r\nOK\r\n");
    mk_fake_io_then(rule, 1500, "\r\n+CMQTTCONNLOST: 1,1\r\n");
    mk_fake_io_then(rule, 2500, "\r\n+CMQTTCONNECT: 0,0\r\n");
    struct mk_at_cmd c = {0};
    c.text = "AT+CMQTTCONNECT=0,\"tcp://127.0.0.1:1883\",60,1";
    c.timeout_ms = 1000;
    c.urc_prefix = "+CMQTTCONNECT:";
    c.urc_index = 0;
    c.urc_timeout_ms = 5000;
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_exec(&CH, &c, &r), MK_OK);
    MK_CHECK_EQ_INT(r.urc_code, 0);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1000 + 2500);
    MK_CHECK_EQ_STR(LOG, "+CMQTTCONNLOST: 1,1\n");
    mk_fake_io_free(&F);

    /* the URC never comes: its own deadline, 5 s after the OK */
    setup(3, 16);
    mk_fake_io_on(&F, MK_FAKE_PREFIX, "AT+CMQTTCONNECT=0,", 20, "\r\nOK\r\n");
    MK_CHECK_EQ_INT(mk_at_exec(&CH, &c, &r), MK_E_TIMEOUT);
    MK_CHECK(r.timeout_in_urc);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1000 + 20 + 5000);
    mk_fake_io_free(&F);
}

MK_TEST(exec_timeout_resync_and_late_ok)
{
    setup(5, 4);
    /* the module answers AT+COPS=? only after 3 s; the host gives up after 1 s */
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+COPS=?", 3000, "\r\n+COPS: (1,\"x\")\r\n\r\nOK\r\n");
    struct mk_fake_rule *at = mk_fake_io_on(&F, MK_FAKE_LINE, "AT", 10, "\r\nOK\r\n");
    mk_fake_io_times(at, 0);
    /* the next command's true answer is an error: a stale OK must not pass for it */
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CPIN?", 10, "\r\n+CME ERROR: SIM busy\r\n");
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT+COPS=?", 1000, NULL, 0, &r), MK_E_TIMEOUT);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 2000);
    /* at 3990 the next command starts with a resync probe; at 4000 the late COPS answer
     * and the probe's OK arrive together. Without the resync, AT+CPIN? would have gone
     * out at 3990 and taken the stale OK at 4000 for its own result. */
    mk_fake_io_advance(&F, 1990);
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT+CPIN?", 2000, NULL, 0, &r), MK_E_AT_CME);
    MK_CHECK_EQ_STR(r.cme_text, "SIM busy");
    size_t n;
    const uint8_t *tx = mk_fake_io_tx(&F, &n);
    MK_CHECK(n == strlen("AT+COPS=?\rAT\rAT+CPIN?\r") &&
             memcmp(tx, "AT+COPS=?\rAT\rAT+CPIN?\r", n) == 0);
    MK_CHECK(mk_fake_io_now(&F) >= 4000 + 100);
    mk_fake_io_free(&F);
}

MK_TEST(hangup_is_sticky_until_set_io)
{
    setup(9, 8);
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CRESET", 0, "\r\nOK\r\n");
    mk_fake_io_hangup(&F, 50);
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT+CRESET", 1000, NULL, 0, &r), MK_OK);
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT", 1000, NULL, 0, &r), MK_E_HANGUP);
    MK_CHECK_EQ_INT(r.final, MK_AT_FINAL_NONE);
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT", 1000, NULL, 0, &r), MK_E_HANGUP);
    MK_CHECK_EQ_INT(mk_at_pump(&CH, 10), MK_E_HANGUP);

    /* the port comes back (a new fake io): set_io clears the error and any resync */
    static struct mk_fake_io g;
    mk_fake_io_init(&g, 1, 4);
    mk_fake_io_sends(&g, 0, "\r\nRDY\r\n");
    mk_fake_io_on(&g, MK_FAKE_LINE, "AT", 0, "\r\nOK\r\n");
    CH.clock = &g.clock;
    mk_at_chan_set_io(&CH, &g.io);
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT", 1000, NULL, 0, &r), MK_OK);
    MK_CHECK(mk_fake_io_tx_equals(&g, "AT\r"));
    MK_CHECK_EQ_STR(LOG, "RDY\n");
    mk_fake_io_free(&g);
    mk_fake_io_free(&F);
}

MK_TEST(hangup_while_waiting)
{
    setup(2, 8);
    mk_fake_io_hangup(&F, 300);
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_simple(&CH, "AT+CSQ", 1000, NULL, 0, &r), MK_E_HANGUP);
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1300);
    mk_fake_io_free(&F);
}

MK_TEST(pump_dispatches_urcs)
{
    setup(4, 2);
    mk_fake_io_sends(&F, 700, "\r\n+CMQTTCONNLOST: 0,1\r\n");
    MK_CHECK_EQ_INT(mk_at_pump(&CH, 500), MK_OK); /* nothing within 500 ms */
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1500);
    MK_CHECK_EQ_STR(LOG, "");
    MK_CHECK_EQ_INT(mk_at_pump(&CH, 5000), MK_OK); /* returns once it arrived */
    MK_CHECK_EQ_INT(mk_fake_io_now(&F), 1700);
    MK_CHECK_EQ_STR(LOG, "+CMQTTCONNLOST: 0,1\n");
    MK_CHECK_EQ_INT(mk_fake_io_pending(&F), 0);
    /* busy engine */
    struct mk_at_cmd c = {0};
    c.text = "AT";
    c.timeout_ms = 10;
    MK_CHECK_EQ_INT(mk_at_submit(&CH.at, &c, 0), MK_OK);
    MK_CHECK_EQ_INT(mk_at_pump(&CH, 10), MK_E_BUSY);
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_exec(&CH, &c, &r), MK_E_BUSY);
    mk_fake_io_free(&F);
}

MK_TEST(urcs_between_echo_and_result)
{
    /* boot URCs racing with the first command, echo on, byte-sized reads */
    setup(11, 1);
    mk_fake_io_set_echo(&F, false);
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CMQTTSTART", 0,
                  "AT+CMQ\r\nSMS DONE\r\nTTSTART\r\r\n+CMQTTSTART: 0\r\n\r\nOK\r\n");
    struct mk_at_cmd c = {0};
    c.text = "AT+CMQTTSTART";
    c.timeout_ms = 1000;
    c.urc_prefix = "+CMQTTSTART:";
    c.urc_index = -1;
    struct mk_at_result r;
    MK_CHECK_EQ_INT(mk_at_exec(&CH, &c, &r), MK_OK);
    MK_CHECK_EQ_INT(r.urc_code, 0);
    MK_CHECK_EQ_STR(LOG, "SMS DONE\n");
    mk_fake_io_free(&F);
}

MK_TEST_MAIN()
