/*
 * Unit tests of the sans-I/O AT engine: final results, routing, echo, prompts and data,
 * data echo, raw reads, two-phase commands, deadlines and resync, bad input, tracing.
 */
#include "at_harness.h"

static const struct mk_at_urc urcs_basic[] = {
    {"SMS DONE", h_on_urc, NULL},
    {"PB DONE", h_on_urc, NULL},
    {"RDY", h_on_urc, NULL},
    {"+CMQTTCONNECT:", h_on_urc, NULL}, /* to prove resp_prefix wins while a query runs */
    {"+CMQTTCONNLOST:", h_on_urc, NULL},
    {"+CMQTTRXSTART:", h_on_urc, NULL},
    {"+CMQTTRXTOPIC:", h_on_rx_len, NULL},
    {"+CMQTTRXPAYLOAD:", h_on_rx_len, NULL},
    {"+CMQTTRXEND:", h_on_urc, NULL},
};
#define N_BASIC (sizeof urcs_basic / sizeof urcs_basic[0])

/* The table's user pointers must be the engine harness: copy it with e filled in. */
struct h_tab {
    struct mk_at_urc u[16];
    size_t n;
};

static void h_init_tab(struct h_eng *e, struct h_tab *t, bool catch_all)
{
    t->n = 0;
    for (size_t i = 0; i < N_BASIC; i++) {
        t->u[t->n] = urcs_basic[i];
        t->u[t->n++].user = e;
    }
    if (catch_all) {
        t->u[t->n].prefix = "";
        t->u[t->n].cb = h_on_urc;
        t->u[t->n++].user = e;
    }
    h_init_ex(e, t->u, t->n);
}

static struct h_eng E;
static struct h_tab T;

/* ---- final results ---- */

static void check_final(const char *reply, enum mk_err err, enum mk_at_final final, int cme,
                        const char *cme_text)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT+CPIN?");
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    MK_CHECK(h_tx_is(&E, "AT+CPIN?\r"));
    h_feed(&E, reply);
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, err);
    MK_CHECK_EQ_INT(r.final, final);
    MK_CHECK_EQ_INT(r.cme, cme);
    MK_CHECK_EQ_STR(r.cme_text, cme_text);
    MK_CHECK(!mk_at_busy(&E.at));
}

MK_TEST(final_results_map_to_errors)
{
    check_final("\r\nOK\r\n", MK_OK, MK_AT_FINAL_OK, -1, "");
    check_final("\r\nERROR\r\n", MK_E_AT_ERROR, MK_AT_FINAL_ERROR, -1, "");
    check_final("\r\n+CME ERROR: 10\r\n", MK_E_AT_CME, MK_AT_FINAL_CME, 10, "");
    check_final("\r\n+CME ERROR: SIM busy\r\n", MK_E_AT_CME, MK_AT_FINAL_CME, -1, "SIM busy");
    check_final("\r\n+CME ERROR:SIM not inserted \r\n", MK_E_AT_CME, MK_AT_FINAL_CME, -1,
                "SIM not inserted");
    check_final("\r\n+CMS ERROR: 500\r\n", MK_E_AT_CMS, MK_AT_FINAL_CMS, 500, "");
    check_final("\r\nNO CARRIER\r\n", MK_E_AT_NO_CARRIER, MK_AT_FINAL_NO_CARRIER, -1, "");
    check_final("\r\nBUSY\r\n", MK_E_AT_BUSY, MK_AT_FINAL_BUSY, -1, "");
    check_final("\r\nNO ANSWER\r\n", MK_E_AT_NO_ANSWER, MK_AT_FINAL_NO_ANSWER, -1, "");
    check_final("\r\nNO DIALTONE\r\n", MK_E_AT_NO_DIALTONE, MK_AT_FINAL_NO_DIALTONE, -1, "");
    /* lines that merely start like a final result are not one */
    check_final("\r\nOKAY\r\nERRORS\r\nBUSY LINE\r\nOK\r\n", MK_OK, MK_AT_FINAL_OK, -1, "");
}

MK_TEST(intermediate_lines_go_to_on_line_and_resp)
{
    h_init_tab(&E, &T, false);
    char resp[128];
    struct mk_at_cmd c = h_cmd("AT+CCERTLIST");
    c.on_line = h_on_line;
    c.user = &E;
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CCERTLIST: \"cacert.pem\"\r\n+CCERTLIST: \"clientcert.pem\"\r\n"
               "\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "+CCERTLIST: \"cacert.pem\"\n+CCERTLIST: \"clientcert.pem\"");
    MK_CHECK_EQ_INT(r.resp_len, strlen(resp));
    MK_CHECK(!r.resp_truncated);
    MK_CHECK_EQ_STR(E.log,
                    "line:+CCERTLIST: \"cacert.pem\"\nline:+CCERTLIST: \"clientcert.pem\"\n");
}

MK_TEST(resp_truncation_keeps_whole_lines_and_still_calls_on_line)
{
    h_init_tab(&E, &T, false);
    char resp[20];
    struct mk_at_cmd c = h_cmd("ATI");
    c.on_line = h_on_line;
    c.user = &E;
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\nModel: SIM7600\r\nRevision: SIM7600M21-A_V1.1\r\nX\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK(r.resp_truncated);
    MK_CHECK_EQ_STR(resp, "Model: SIM7600");
    MK_CHECK(h_has(E.log, "line:Revision: SIM7600M21-A_V1.1\nline:X\n"));
}

/* ---- routing ---- */

MK_TEST(routing_while_a_command_runs)
{
    h_init_tab(&E, &T, true);
    char resp[256];
    struct mk_at_cmd c = h_cmd("AT+CMQTTCONNECT?");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    /* resp_prefix derived as "+CMQTTCONNECT:" beats the table entry of the same prefix;
     * table URCs go to their callback; unknown lines are intermediate */
    h_feed(&E, "\r\n+CMQTTCONNECT: 0\r\n+CMQTTCONNLOST: 1,1\r\n+CMQTTCONNECT: 1\r\n"
               "SOMETHING ELSE\r\n\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "+CMQTTCONNECT: 0\n+CMQTTCONNECT: 1\nSOMETHING ELSE");
    MK_CHECK_EQ_STR(E.log, "urc:+CMQTTCONNLOST: 1,1\n");
}

MK_TEST(explicit_resp_prefix_and_empty_prefix)
{
    h_init_tab(&E, &T, false);
    char resp[128];
    struct mk_at_cmd c = h_cmd("AT+CMQTTSTART");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    c.resp_prefix = "+CMQTTCONNLOST:"; /* odd but explicit: always the command's */
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CMQTTCONNLOST: 0,1\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_STR(resp, "+CMQTTCONNLOST: 0,1");
    MK_CHECK_EQ_STR(E.log, "");
}

MK_TEST(routing_with_no_command)
{
    h_init_tab(&E, &T, false);
    h_feed(&E, "\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\nOK\r\n");
    MK_CHECK_EQ_STR(E.log, "urc:RDY\nurc:SMS DONE\n");
    MK_CHECK(h_has(E.trace, "rx:+CPIN: READY\nnote:unclaimed line dropped\n"));
    MK_CHECK(h_has(E.trace, "rx:OK\nnote:stale final result dropped\n"));
    MK_CHECK(!mk_at_busy(&E.at));
    struct mk_at_result r;
    MK_CHECK(!h_poll(&E, &r));

    h_init_tab(&E, &T, true); /* with the catch-all */
    h_feed(&E, "\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n");
    MK_CHECK_EQ_STR(E.log, "urc:RDY\nurc:+CPIN: READY\n");
}

MK_TEST(added_urc_tables_layer_on_the_configured_one)
{
    h_init_tab(&E, &T, true);
    struct mk_at_urc drv[] = {{"+CFOTA:", h_on_urc, &E}, {"", h_on_urc, &E}};
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, drv, 2), MK_OK);
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, drv, 2), MK_E_EXISTS);
    /* The driver's prefix wins over any catch-all; the configured table is searched first. */
    h_feed(&E, "\r\n+CFOTA: 6\r\n\r\nRDY\r\n\r\nstray\r\n");
    MK_CHECK_EQ_STR(E.log, "urc:+CFOTA: 6\nurc:RDY\nurc:stray\n");
    /* While a command runs, a driver URC is still a URC, not an answer line. */
    E.log[0] = '\0';
    E.log_len = 0;
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CSQ");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CFOTA: \"Updating\",10\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_STR(E.log, "urc:+CFOTA: \"Updating\",10\n");
    MK_CHECK_EQ_STR(resp, "+CSQ: 20,99");
    mk_at_remove_urcs(&E.at, drv);
    E.log[0] = '\0';
    E.log_len = 0;
    h_feed(&E, "\r\n+CFOTA: 7\r\n");
    MK_CHECK_EQ_STR(E.log, "urc:+CFOTA: 7\n"); /* now only the configured catch-all */
    struct mk_at_urc t2[1] = {{"X", h_on_urc, &E}};
    struct mk_at_urc t3[1], t4[1], t5[1];
    t3[0] = t4[0] = t5[0] = t2[0];
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, t2, 1), MK_OK);
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, t3, 1), MK_OK);
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, t4, 1), MK_OK);
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, t5, 1), MK_OK);
    MK_CHECK_EQ_INT(mk_at_add_urcs(&E.at, drv, 2), MK_E_NOSPC);
}

MK_TEST(derived_response_prefixes)
{
    static const struct {
        const char *text, *prefix;
    } cases[] = {
        {"AT+CSQ", "+CSQ:"},
        {"AT+CSQ?", "+CSQ:"},
        {"AT+CSQ=?", "+CSQ:"},
        {"at+cgmr", "+CGMR:"},
        {"AT!IMPREF?", "!IMPREF:"},
        {"AT+CREG?;+CGREG?", "+CREG:"},
        {"AT+CMQTTCONNECT=0,\"tcp://h:1883\",60,1", "+CMQTTCONNECT:"},
        {"ATI", ""},
        {"ATE0", ""},
        {"AT", ""},
        {"AT+", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_init_tab(&E, &T, false);
        struct mk_at_cmd c = h_cmd(cases[i].text);
        MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
        MK_CHECK_EQ_STR(E.at.resp_prefix, cases[i].prefix);
    }
}

/* ---- echo ---- */

MK_TEST(echo_is_consumed)
{
    h_init_tab(&E, &T, false);
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CSSLCFG=\"sslversion\",0,4");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    /* seed 001: SIM7600M21-A_V1.1 with ATE1 echoes the command before OK */
    h_feed(&E, "AT+CSSLCFG=\"sslversion\",0,4\r\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "");
    MK_CHECK(h_has(E.trace, "note:echo\n"));
}

MK_TEST(echo_of_ate0_itself)
{
    h_init_tab(&E, &T, false);
    char resp[64];
    struct mk_at_cmd c = h_cmd("ATE0");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "ATE0\r\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "");
    /* and the next command, with echo off, needs no echo */
    c = h_cmd("AT+CSQ");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_STR(resp, "+CSQ: 20,99");
}

MK_TEST(echo_split_by_urcs_is_recognised)
{
    h_init_tab(&E, &T, false);
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CMQTTSTART");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "AT+CMQ\r\nSMS DONE\r\nTTSTART\r\r\n+CMQTTSTART: 0\r\n\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "+CMQTTSTART: 0");
    MK_CHECK_EQ_STR(E.log, "urc:SMS DONE\n");

    /* three pieces, and a URC between each, fed byte by byte */
    h_init_tab(&E, &T, false);
    c = h_cmd("AT+CMQTTSTART");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    const char *in = "AT\r\nRDY\r\n+CMQ\r\nPB DONE\r\nTTSTART\r\r\nOK\r\n";
    for (size_t i = 0; in[i]; i++)
        h_feedn(&E, in + i, 1);
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "");
    MK_CHECK_EQ_STR(E.log, "urc:RDY\nurc:PB DONE\n");
}

/* ---- prompts and data ---- */

static const uint8_t topic[] = "aws/things/SOMETOPIC/";

static void start_topic(struct mk_at_cmd *c, const char *text, char *resp, size_t cap)
{
    *c = h_cmd(text);
    c->prompt = MK_AT_PROMPT_GT;
    c->data = topic;
    c->data_len = sizeof topic - 1;
    c->resp = resp;
    c->resp_cap = cap;
    MK_CHECK_EQ_INT(h_start(&E, c), MK_OK);
    h_tx_clear(&E);
}

MK_TEST(prompt_variants_send_exactly_the_data)
{
    static const char *const prompts[] = {"> ", ">", "\r\n> ", "\r\n>", "\r\n\r\n>"};
    for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
        h_init_tab(&E, &T, false);
        struct mk_at_cmd c;
        char resp[64];
        start_topic(&c, "AT+CMQTTTOPIC=0,21", resp, sizeof resp);
        MK_CHECK_EQ_INT(mk_at_tx_peek(&E.at, &(const uint8_t *){NULL}), 0);
        h_feed(&E, prompts[i]);
        const uint8_t *p;
        size_t n = mk_at_tx_peek(&E.at, &p);
        MK_CHECK_EQ_INT(n, sizeof topic - 1);
        MK_CHECK(p == topic); /* zero copy: straight from cmd->data */
        /* a port that takes 5 bytes at a time */
        while ((n = mk_at_tx_peek(&E.at, &p)) > 0) {
            size_t k = n < 5 ? n : 5;
            memcpy(E.tx + E.tx_len, p, k);
            E.tx_len += k;
            mk_at_tx_consume(&E.at, k, E.now);
        }
        MK_CHECK_EQ_INT(E.tx_len, sizeof topic - 1);
        MK_CHECK_EQ_MEM(E.tx, topic, sizeof topic - 1);
        h_feed(&E, "\r\nOK\r\n");
        struct mk_at_result r;
        MK_CHECK(h_poll(&E, &r));
        MK_CHECK_EQ_INT(r.err, MK_OK);
        MK_CHECK_EQ_STR(resp, "");
        MK_CHECK_EQ_INT(mk_at_tx_peek(&E.at, &p), 0);
    }
}

MK_TEST(no_data_without_prompt)
{
    static const struct {
        const char *reply;
        enum mk_err err;
        const char *resp;
    } cases[] = {
        {"\r\nERROR\r\n", MK_E_AT_ERROR, ""},
        {"\r\n+CME ERROR: 3\r\n", MK_E_AT_CME, ""},
        /* seed 001: AT+CMQTTTOPIC=0,10 answered "+CMQTTTOPIC: 0,11" (no connection) */
        {"AT+CMQTTTOPIC=0,21\r\n+CMQTTTOPIC: 0,11\r\n\r\nERROR\r\n", MK_E_AT_ERROR,
         "+CMQTTTOPIC: 0,11"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_init_tab(&E, &T, false);
        struct mk_at_cmd c;
        char resp[64];
        start_topic(&c, "AT+CMQTTTOPIC=0,21", resp, sizeof resp);
        const char *in = cases[i].reply;
        for (size_t k = 0; in[k]; k++) {
            h_feedn(&E, in + k, 1);
            h_drain(&E);
        }
        struct mk_at_result r;
        MK_CHECK(h_poll(&E, &r));
        MK_CHECK_EQ_INT(r.err, cases[i].err);
        MK_CHECK_EQ_STR(resp, cases[i].resp);
        MK_CHECK_EQ_INT(E.tx_len, 0);
    }
}

MK_TEST(gt_is_only_a_prompt_when_one_is_awaited)
{
    h_init_tab(&E, &T, false);
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CSQ");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n> quoted\r\n>\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_STR(resp, "> quoted\n>");
    /* and while idle a ">" is just a line */
    h_feed(&E, "> ");
    MK_CHECK_EQ_INT(mk_at_tx_peek(&E.at, &(const uint8_t *){NULL}), 0);
}

MK_TEST(download_prompt)
{
    h_init_tab(&E, &T, false);
    static const uint8_t blob[] = {'O', 'K', '\r', '\n', 0, 1, 2, 0xFF};
    struct mk_at_cmd c = h_cmd("AT+CFSWFILE=1,\"update.zip\",0,8,10000");
    c.prompt = MK_AT_PROMPT_DOWNLOAD;
    c.data = blob;
    c.data_len = sizeof blob;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_tx_clear(&E);
    h_feed(&E, "\r\n> \r\n"); /* not the prompt this command waits for */
    MK_CHECK_EQ_INT(h_drain(&E), 0);
    h_feed(&E, "DOWNLOAD\r\n");
    MK_CHECK_EQ_INT(h_drain(&E), sizeof blob);
    MK_CHECK_EQ_MEM(E.tx, blob, sizeof blob);
    h_feed(&E, "\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
}

/* ---- data echo ---- */

/* A certificate whose text contains lines that look like final results. */
static const char tricky[] = "\n-----BEGIN CERTIFICATE-----\r\nOK\r\nERROR\r\n"
                             "+CME ERROR: 3\r\n-----END CERTIFICATE-----\n";

MK_TEST(data_echo_never_ends_the_command)
{
    for (size_t chunk = 1; chunk <= 64; chunk *= 2) {
        h_init_tab(&E, &T, false);
        struct mk_at_cmd c = h_cmd("AT+CCERTDOWN=\"c.pem\",90");
        c.prompt = MK_AT_PROMPT_GT;
        c.data = (const uint8_t *)tricky;
        c.data_len = sizeof tricky - 1;
        MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
        /* echo on: the module echoes the command, prompts, echoes the data (seed 001) */
        char in[512];
        size_t n = 0;
        n += (size_t)sprintf(in + n, "AT+CCERTDOWN=\"c.pem\",90\r\r\n>");
        memcpy(in + n, tricky, sizeof tricky - 1);
        n += sizeof tricky - 1;
        n += (size_t)sprintf(in + n, "\r\nOK\r\n");
        struct mk_at_result r;
        bool done = false;
        size_t done_at = 0;
        for (size_t i = 0; i < n; i += chunk) {
            h_feedn(&E, in + i, i + chunk > n ? n - i : chunk);
            h_drain(&E);
            if (!done && h_poll(&E, &r)) {
                done = true;
                done_at = i;
            }
        }
        MK_CHECK(done);
        MK_CHECK(done_at + chunk > n - 2); /* only the last OK (its CR at n-2) ended it */
        MK_CHECK_EQ_INT(r.err, MK_OK);
        MK_CHECK(h_has(E.trace, "note:data echo\n"));
    }
}

MK_TEST(echo_on_but_data_not_echoed_still_works)
{
    /* the module echoed the command but not the data: the bytes that matched the data's
     * beginning ("\n") are parsed as lines after all */
    h_init_tab(&E, &T, false);
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CCERTDOWN=\"c.pem\",90");
    c.prompt = MK_AT_PROMPT_GT;
    c.data = (const uint8_t *)tricky;
    c.data_len = sizeof tricky - 1;
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "AT+CCERTDOWN=\"c.pem\",90\r\r\n> ");
    h_drain(&E);
    h_feed(&E, "\n+CCERTDOWN: 1\r\n\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "+CCERTDOWN: 1");
    MK_CHECK(h_has(E.trace, "note:no data echo\n"));
}

MK_TEST(echo_off_data_is_never_matched)
{
    /* echo off: data that starts like the module's answer must not swallow it */
    h_init_tab(&E, &T, false);
    static const uint8_t data[] = "\r\nOK\r\n";
    struct mk_at_cmd c = h_cmd("AT+CMQTTPAYLOAD=0,6");
    c.prompt = MK_AT_PROMPT_GT;
    c.data = data;
    c.data_len = 6;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n>");
    h_drain(&E);
    h_feed(&E, "\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
}

/* ---- raw reads ---- */

/* A payload with CR, LF, NUL and a complete "\r\nOK\r\n" in it. */
static const uint8_t payload[] = {'{', '\r', '\n', 0,    'x', '\r', '\n', 'O',
                                  'K', '\r', '\n', 0xFF, '>', ' ',  '}'};

static size_t build_rx(char *out, const char *before, const char *after)
{
    size_t n = 0;
    n += (size_t)sprintf(out + n,
                         "%s\r\n+CMQTTRXSTART: 0,5,%zu\r\n+CMQTTRXTOPIC: 0,5\r\n"
                         "a/b/c\r\n+CMQTTRXPAYLOAD: 0,%zu\r\n",
                         before, sizeof payload, sizeof payload);
    memcpy(out + n, payload, sizeof payload);
    n += sizeof payload;
    n += (size_t)sprintf(out + n, "\r\n+CMQTTRXEND: 0\r\n%s", after);
    return n;
}

MK_TEST(raw_read_split_at_every_position)
{
    char in[512];
    size_t n = build_rx(in, "", "");
    for (size_t cut = 0; cut <= n; cut++) {
        h_init_tab(&E, &T, false);
        h_feedn(&E, in, cut);
        h_feedn(&E, in + cut, n - cut);
        MK_CHECK_EQ_INT(E.raw_done, 2);
        MK_CHECK_EQ_INT(E.raw_len, 5 + sizeof payload);
        MK_CHECK_EQ_MEM(E.raw, "a/b/c", 5);
        MK_CHECK_EQ_MEM(E.raw + 5, payload, sizeof payload);
        MK_CHECK(h_has(E.log, "urc:+CMQTTRXEND: 0\n"));
        MK_CHECK(!h_has(E.trace, "stale"));
    }
}

MK_TEST(raw_read_while_a_command_runs)
{
    /* the payload's "OK" must not end the command; the real OK after it does */
    char in[512];
    size_t n = build_rx(in, "", "\r\nOK\r\n");
    for (size_t chunk = 1; chunk <= n; chunk++) {
        h_init_tab(&E, &T, false);
        char resp[64];
        struct mk_at_cmd c = h_cmd("AT+CMQTTSUB=0");
        c.resp = resp;
        c.resp_cap = sizeof resp;
        MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
        struct mk_at_result r;
        size_t done_at = 0;
        bool done = false;
        for (size_t i = 0; i < n; i += chunk) {
            h_feedn(&E, in + i, i + chunk > n ? n - i : chunk);
            if (!done && h_poll(&E, &r)) {
                done = true;
                done_at = i;
            }
        }
        MK_CHECK(done);
        MK_CHECK(done_at + chunk > n - 2);
        MK_CHECK_EQ_INT(r.err, MK_OK);
        MK_CHECK_EQ_STR(resp, "");
        MK_CHECK_EQ_INT(E.raw_done, 2);
        MK_CHECK_EQ_MEM(E.raw + 5, payload, sizeof payload);
    }
}

static void raw_chain(void *user, const uint8_t *data, size_t len, bool last)
{
    struct h_eng *e = user;
    h_on_raw(user, data, len, last);
    if (last && e->raw_done == 1)
        mk_at_read_raw(&e->at, 3, h_on_raw, e); /* a second read straight after the first */
}

static void urc_two_reads(void *user, const char *line, size_t len)
{
    struct h_eng *e = user;
    h_log(e, "urc:", line, len);
    mk_at_read_raw(&e->at, 2, raw_chain, e);
}

static void urc_zero_read(void *user, const char *line, size_t len)
{
    struct h_eng *e = user;
    h_log(e, "urc:", line, len);
    mk_at_read_raw(&e->at, 0, h_on_raw, e);
}

MK_TEST(raw_read_edge_cases)
{
    struct mk_at_urc u[] = {{"+TWO:", urc_two_reads, &E}, {"+ZERO:", urc_zero_read, &E}};
    h_init_ex(&E, u, 2);
    /* LF-only line end; "\n" right at the start of the raw bytes is payload then */
    h_feed(&E, "+TWO: x\n\nAB\r\nC\r\nRDY\r\n");
    MK_CHECK_EQ_INT(E.raw_done, 2);
    MK_CHECK_EQ_INT(E.raw_len, 5);
    MK_CHECK_EQ_MEM(E.raw, "\nAB\r\n", 5);
    h_feed(&E, "+ZERO: 0\r\n+ZERO: 0\r\n");
    MK_CHECK_EQ_INT(E.raw_done, 4);
    MK_CHECK_EQ_INT(E.raw_len, 5);
    MK_CHECK(h_has(E.trace, "rx:C\n"));
}

/* ---- two-phase ---- */

static struct mk_at_cmd connect_cmd(int index)
{
    struct mk_at_cmd c = h_cmd("AT+CMQTTCONNECT=0,\"tcp://test.mosquitto.org:1883\",60,1");
    c.urc_prefix = "+CMQTTCONNECT:";
    c.urc_index = index;
    c.timeout_ms = 1000;
    c.urc_timeout_ms = 30000;
    return c;
}

MK_TEST(two_phase_ok_then_urc)
{
    h_init_tab(&E, &T, true);
    struct mk_at_cmd c = connect_cmd(0);
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(!h_poll(&E, &r));
    /* OK came at 1000; the URC has its own deadline, well past the command's 1000 ms */
    E.now += 20000;
    MK_CHECK(!h_poll(&E, &r));
    MK_CHECK_EQ_INT(mk_at_next_deadline(&E.at), 1000 + 30000);
    /* another client's completion is not ours: it goes to the router (catch-all) */
    h_feed(&E, "\r\n+CMQTTCONNECT: 1,0\r\n");
    MK_CHECK(!h_poll(&E, &r));
    MK_CHECK_EQ_STR(E.log, "urc:+CMQTTCONNECT: 1,0\n");
    h_feed(&E, "\r\n+CMQTTCONNECT: 0,0\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK(r.urc_seen);
    MK_CHECK_EQ_INT(r.urc_code, 0);
    MK_CHECK_EQ_INT(r.urc_nargs, 2);
    MK_CHECK_EQ_INT(r.urc_args[0], 0);
    MK_CHECK_EQ_STR(r.urc_line, "+CMQTTCONNECT: 0,0");
    MK_CHECK(!r.timeout_in_urc);
}

MK_TEST(two_phase_urc_then_ok)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = connect_cmd(0);
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CMQTTCONNECT: 0,0\r\n");
    struct mk_at_result r;
    MK_CHECK(!h_poll(&E, &r));
    h_feed(&E, "\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_INT(r.urc_code, 0);
}

MK_TEST(two_phase_urc_then_error)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = connect_cmd(0);
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CMQTTCONNECT: 0,32\r\n\r\nERROR\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_AT_ERROR);
    MK_CHECK(r.urc_seen);
    MK_CHECK_EQ_INT(r.urc_code, 32);

    /* ERROR with no URC at all completes at once */
    h_init_tab(&E, &T, false);
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\nERROR\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_AT_ERROR);
    MK_CHECK(!r.urc_seen);
    MK_CHECK_EQ_INT(r.urc_code, -1);
}

MK_TEST(two_phase_urc_timeout)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = connect_cmd(0);
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    E.now += 500;
    h_feed(&E, "\r\nOK\r\n");
    struct mk_at_result r;
    E.now += 30000 - 1;
    MK_CHECK(!h_poll(&E, &r));
    E.now += 1;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_TIMEOUT);
    MK_CHECK(r.timeout_in_urc);
    MK_CHECK_EQ_INT(r.final, MK_AT_FINAL_OK);
    /* the channel was in step (OK came): no resync before the next command */
    struct mk_at_cmd n = h_cmd("AT");
    h_tx_clear(&E);
    MK_CHECK_EQ_INT(h_start(&E, &n), MK_OK);
    MK_CHECK(h_tx_is(&E, "AT\r"));
    /* the late URC goes to the router, never to the new command */
    h_feed(&E, "\r\n+CMQTTCONNECT: 0,0\r\n\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK(!r.urc_seen);
}

MK_TEST(two_phase_without_index)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT+CMQTTSTART");
    c.urc_prefix = "+CMQTTSTART:";
    c.urc_index = -1;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CMQTTSTART: 0\r\n\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_INT(r.urc_code, 0);
    /* already started: "+CMQTTSTART: 23" then ERROR (elementzonline issue #13) */
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\n+CMQTTSTART: 23\r\n\r\nERROR\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_AT_ERROR);
    MK_CHECK_EQ_INT(r.urc_code, 23);
}

/* ---- deadlines and resync ---- */

MK_TEST(timeout_then_resync_survives_a_late_ok)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT+COPS=?");
    c.timeout_ms = 1000;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    struct mk_at_result r;
    E.now += 999;
    MK_CHECK(!h_poll(&E, &r));
    E.now += 1;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_TIMEOUT);
    MK_CHECK_EQ_INT(r.final, MK_AT_FINAL_NONE);

    /* the next command: a resync runs first */
    char resp[64];
    struct mk_at_cmd n = h_cmd("AT+CSQ");
    n.resp = resp;
    n.resp_cap = sizeof resp;
    h_tx_clear(&E);
    MK_CHECK_EQ_INT(h_start(&E, &n), MK_OK);
    MK_CHECK(h_tx_is(&E, "AT\r"));
    MK_CHECK(mk_at_busy(&E.at));
    /* the timed-out command's late answer arrives first... */
    E.now += 10;
    h_feed(&E, "\r\n+COPS: (2,\"Telstra\",\"Telstra\",\"50501\",7)\r\n\r\nOK\r\n");
    MK_CHECK(!h_poll(&E, &r));
    MK_CHECK_EQ_INT(h_drain(&E), 0);
    /* ...then the probe's own OK, 60 ms later: the quiet gap starts again */
    E.now += 60;
    h_feed(&E, "\r\nOK\r\n");
    E.now += 99;
    MK_CHECK(!h_poll(&E, &r));
    MK_CHECK_EQ_INT(h_drain(&E), 0);
    E.now += 1;
    MK_CHECK(!h_poll(&E, &r));
    MK_CHECK_EQ_INT(h_drain(&E), 7);
    MK_CHECK(h_tx_is(&E, "AT\rAT+CSQ\r"));
    h_feed(&E, "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "+CSQ: 20,99");
    MK_CHECK(h_has(E.trace, "note:resync done\n"));
}

MK_TEST(resync_probes_again_and_gives_up)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT+X");
    c.timeout_ms = 100;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    E.now += 100;
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_TIMEOUT);

    struct mk_at_cmd n = h_cmd("AT+Y");
    n.timeout_ms = 1200;
    h_tx_clear(&E);
    MK_CHECK_EQ_INT(h_start(&E, &n), MK_OK);
    MK_CHECK(h_tx_is(&E, "AT\r"));
    for (int i = 0; i < 2; i++) { /* silence: a probe every 500 ms */
        E.now += 500;
        MK_CHECK(!h_poll(&E, &r));
        h_drain(&E);
    }
    MK_CHECK(h_tx_is(&E, "AT\rAT\rAT\r"));
    E.now += 200;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_TIMEOUT);
    MK_CHECK(h_tx_is(&E, "AT\rAT\rAT\r")); /* AT+Y was never sent */
    /* still due: the next command resyncs again, and this time the module answers */
    h_tx_clear(&E);
    MK_CHECK_EQ_INT(h_start(&E, &n), MK_OK);
    h_feed(&E, "AT\r\r\nOK\r\n"); /* with its echo */
    E.now += 100;
    MK_CHECK(!h_poll(&E, &r));
    h_drain(&E);
    MK_CHECK(h_tx_is(&E, "AT\rAT+Y\r"));
    h_feed(&E, "\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
}

MK_TEST(no_resync_flag_and_cancel)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT+X");
    c.timeout_ms = 100;
    c.flags = MK_AT_F_NO_RESYNC;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    E.now += 100;
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_TIMEOUT);
    h_tx_clear(&E);
    struct mk_at_cmd n = h_cmd("AT");
    MK_CHECK_EQ_INT(h_start(&E, &n), MK_OK);
    MK_CHECK(h_tx_is(&E, "AT\r"));
    mk_at_cancel(&E.at, E.now);
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_E_CANCELLED);
    h_tx_clear(&E);
    struct mk_at_cmd q = h_cmd("AT+CSQ");
    MK_CHECK_EQ_INT(h_start(&E, &q), MK_OK); /* cancelled after sending: resync */
    MK_CHECK(h_tx_is(&E, "AT\r"));
    /* a reopened port drops the resync: the command goes out at the next poll */
    mk_at_reset_input(&E.at);
    MK_CHECK(!h_poll(&E, &r));
    h_drain(&E);
    MK_CHECK(h_tx_is(&E, "AT\rAT+CSQ\r"));
    h_feed(&E, "\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
}

MK_TEST(final_before_the_command_is_sent_is_stale)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT+CSQ");
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, E.now), MK_OK);
    const uint8_t *p;
    MK_CHECK_EQ_INT(mk_at_tx_peek(&E.at, &p), 6);
    mk_at_tx_consume(&E.at, 6, E.now); /* the CR is not out yet */
    h_feed(&E, "\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(!h_poll(&E, &r));
    h_drain(&E);
    h_feed(&E, "\r\nOK\r\n");
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
}

MK_TEST(submit_rejects_bad_commands)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c = h_cmd("AT");
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, NULL, 0), MK_E_INVAL);
    c.text = "";
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_E_INVAL);
    c.text = "AT\r";
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_E_INVAL);
    c.text = "AT";
    c.timeout_ms = 0;
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_E_INVAL);
    c.timeout_ms = 10;
    c.data = (const uint8_t *)"x";
    c.data_len = 1;
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_E_INVAL);
    c.data = NULL;
    c.data_len = 0;
    static char big[MK_AT_TX_CAP + 1];
    memset(big, 'A', MK_AT_TX_CAP);
    c.text = big;
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_E_NOSPC);
    big[MK_AT_TX_CAP - 1] = '\0';
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_OK);
    MK_CHECK_EQ_INT(mk_at_submit(&E.at, &c, 0), MK_E_BUSY);
    MK_CHECK(mk_at_busy(&E.at));
    MK_CHECK_EQ_INT(mk_at_next_deadline(&E.at), 10);
}

/* ---- bad input ---- */

MK_TEST(overlong_lines_are_skipped)
{
    h_init_tab(&E, &T, true);
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CSQ");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    char lng[1000];
    memset(lng, 'Z', sizeof lng);
    h_feed(&E, "\r\n+CSQ: ");
    for (int i = 0; i < 5; i++)
        h_feedn(&E, lng, sizeof lng);
    h_feed(&E, "\r\n+CSQ: 20,99\r\n");
    /* exactly line_cap-1 bytes still fit */
    memset(lng, 'Y', H_LINE_CAP - 1);
    h_feedn(&E, lng, H_LINE_CAP - 1);
    h_feed(&E, "\r\n");
    memset(lng, 'X', H_LINE_CAP);
    h_feedn(&E, lng, H_LINE_CAP);
    h_feed(&E, "\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK(r.overflow);
    MK_CHECK(r.resp_truncated); /* the 127-byte Y line did not fit in resp[64] */
    MK_CHECK(strncmp(resp, "+CSQ: 20,99", 11) == 0);
    MK_CHECK(h_has(E.trace, "note:overflow\n"));
    MK_CHECK(h_guards_ok(&E));
    /* an overlong URC while idle is dropped too, the next one is fine */
    E.log_len = 0;
    E.log[0] = '\0';
    h_feed(&E, "RDY");
    h_feedn(&E, lng, H_LINE_CAP);
    h_feed(&E, "\r\nRDY\r\n");
    MK_CHECK_EQ_STR(E.log, "urc:RDY\n");
    MK_CHECK(h_guards_ok(&E));
}

MK_TEST(nul_bytes_are_dropped_from_lines)
{
    h_init_tab(&E, &T, false);
    char resp[64];
    struct mk_at_cmd c = h_cmd("AT+CSQ");
    c.resp = resp;
    c.resp_cap = sizeof resp;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    static const char in[] = "\0\0\r\n+CSQ:\0 20,99\r\n\0O\0K\r\n";
    h_feedn(&E, in, sizeof in - 1);
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK_EQ_STR(resp, "+CSQ: 20,99");
}

MK_TEST(garbage_never_wedges_the_engine)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        h_init_tab(&E, &T, true);
        uint64_t s = seed;
        struct mk_at_cmd c = h_cmd("AT+CMQTTTOPIC=0,21");
        if (seed % 2) {
            c.prompt = MK_AT_PROMPT_GT;
            c.data = topic;
            c.data_len = sizeof topic - 1;
        }
        if (seed % 3 == 0) {
            c.urc_prefix = "+CMQTTTOPIC:";
            c.urc_index = 0;
        }
        MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
        uint8_t junk[4096];
        for (size_t i = 0; i < sizeof junk; i++) {
            uint64_t x = s = s * 6364136223846793005ull + 1442695040888963407ull;
            uint8_t b = (uint8_t)(x >> 56);
            /* bias towards the bytes the tokenizer cares about */
            static const uint8_t special[] = {'\r', '\n', '>', ' ', 0, 'O', 'K', '+', ':'};
            junk[i] = (x & 3) == 0 ? special[(x >> 8) % sizeof special] : b;
        }
        for (size_t i = 0; i < sizeof junk;) {
            size_t k = 1 + (size_t)((s = s * 6364136223846793005ull + 1) >> 60);
            if (k > sizeof junk - i)
                k = sizeof junk - i;
            h_feedn(&E, junk + i, k);
            h_drain(&E);
            E.now += 3;
            i += k;
        }
        struct mk_at_result r;
        if (!h_poll(&E, &r)) {
            E.now += 100000;
            MK_CHECK(h_poll(&E, &r));
        }
        MK_CHECK(h_guards_ok(&E));
        /* the port is reopened (drops a raw read in progress); the next command works */
        mk_at_reset_input(&E.at);
        struct mk_at_cmd n = h_cmd("AT");
        MK_CHECK_EQ_INT(h_start(&E, &n), MK_OK);
        E.now += 200;
        MK_CHECK(!h_poll(&E, &r));
        h_drain(&E);
        h_feed(&E, "\r\nOK\r\n");
        MK_CHECK(h_poll(&E, &r));
        MK_CHECK_EQ_INT(r.err, MK_OK);
    }
}

/* ---- trace and redaction ---- */

MK_TEST(trace_redacts_secret_args_and_their_echo)
{
    h_init_tab(&E, &T, false);
    struct mk_at_cmd c =
        h_cmd("AT+CMQTTCONNECT=0,\"tcp://h:8883\",60,1,\"user\",\"hunter2secret\"");
    c.flags = MK_AT_F_SECRET_ARGS;
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    MK_CHECK(h_has(E.tx, "hunter2secret")); /* the wire gets the real text */
    /* the echo comes back in two pieces, cut inside the password */
    h_feed(&E, "AT+CMQTTCONNECT=0,\"tcp://h:8883\",60,1,\"user\",\"hunter\r\n"
               "2secret\"\r\r\nOK\r\n");
    struct mk_at_result r;
    MK_CHECK(h_poll(&E, &r));
    MK_CHECK_EQ_INT(r.err, MK_OK);
    MK_CHECK(!h_has(E.trace, "hunter"));
    MK_CHECK(!h_has(E.trace, "secret"));
    MK_CHECK(!h_has(E.trace, "user"));
    MK_CHECK(h_has(E.trace, "tx:AT+CMQTTCONNECT=0,\"***\",60,1,\"***\",\"***\"\n"));
    MK_CHECK(h_has(E.trace, "rx:AT+CMQTTCONNECT=0,\"***\",60,1,\"***\",\"***\n"));
    MK_CHECK(h_has(E.trace, "rx:***\"\n"));
}

MK_TEST(trace_redacts_secret_data_and_its_echo)
{
    static const uint8_t key[] = "-----BEGIN RSA PRIVATE KEY-----\nsecretkeybytes\n";
    for (int echo = 0; echo < 3; echo++) {
        h_init_tab(&E, &T, false);
        struct mk_at_cmd c = h_cmd("AT+CCERTDOWN=\"clientkey.pem\",47");
        c.prompt = MK_AT_PROMPT_GT;
        c.data = key;
        c.data_len = sizeof key - 1;
        c.flags = MK_AT_F_SECRET_DATA;
        MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
        if (echo)
            h_feed(&E, "AT+CCERTDOWN=\"clientkey.pem\",47\r");
        h_feed(&E, "\r\n>");
        h_drain(&E);
        if (echo == 1)
            h_feedn(&E, key, sizeof key - 1);
        if (echo == 2) /* an echo that goes wrong half-way is parsed as lines, redacted */
            h_feedn(&E, key, 35);
        h_feed(&E, "\r\nOK\r\n");
        struct mk_at_result r;
        MK_CHECK(h_poll(&E, &r));
        MK_CHECK_EQ_INT(r.err, MK_OK);
        MK_CHECK(!h_has(E.trace, "secretkey"));
        MK_CHECK(!h_has(E.trace, "PRIVATE"));
        MK_CHECK(h_has(E.trace, "tx:<47 bytes redacted>\n"));
        if (echo == 1)
            MK_CHECK(h_has(E.trace, "rx:<47 bytes redacted>\nnote:data echo\n"));
        if (echo == 2)
            MK_CHECK(h_has(E.trace, "rx:<31 bytes redacted>\n"));
    }
}

MK_TEST(trace_notes_done_in_order)
{
    /* "done" is traced at the moment of completion, before a URC in the same read */
    h_init_tab(&E, &T, false);
    E.log_notes = true;
    struct mk_at_cmd c = h_cmd("AT+CSQ");
    MK_CHECK_EQ_INT(h_start(&E, &c), MK_OK);
    h_feed(&E, "\r\nOK\r\n\r\nRDY\r\n");
    MK_CHECK_EQ_STR(E.log, "note:done\nurc:RDY\n");
}

/* ---- argument helpers ---- */

MK_TEST(split_fields)
{
    struct mk_at_arg a[6];
    const char *l = "+CMQTTRXSTART: 0,31,45";
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+CMQTTRXSTART:", a, 6), 3);
    long v;
    MK_CHECK_EQ_INT(mk_at_arg_long(&a[2], &v), MK_OK);
    MK_CHECK_EQ_INT(v, 45);
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+CMQTTRXEND:", a, 6), -1);

    l = "+COPS: (2,\"Tel,stra\",\"x\"),  \"quoted, comma\" , -7 ,,\"\"";
    int n = mk_at_split(l, strlen(l), "+COPS:", a, 6);
    MK_CHECK_EQ_INT(n, 6);
    MK_CHECK(a[0].len == 2 && memcmp(a[0].p, "(2", 2) == 0 && !a[0].quoted);
    MK_CHECK(a[1].len == 8 && memcmp(a[1].p, "Tel,stra", 8) == 0 && a[1].quoted);
    MK_CHECK(a[2].len == 1 && a[2].p[0] == 'x' && a[2].quoted); /* text after '"' dropped */
    MK_CHECK(a[3].len == 13 && a[3].quoted);
    l = "+CCERTLIST: \"cacert.pem\"";
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+CCERTLIST:", a, 6), 1);
    MK_CHECK(a[0].quoted && a[0].len == 10 && memcmp(a[0].p, "cacert.pem", 10) == 0);

    l = "+X: \"quoted, comma\" , -7 ,,\"\"";
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+X:", a, 6), 4);
    MK_CHECK(a[0].quoted && a[0].len == 13);
    MK_CHECK_EQ_INT(mk_at_arg_long(&a[1], &v), MK_OK);
    MK_CHECK_EQ_INT(v, -7);
    MK_CHECK_EQ_INT(a[2].len, 0);
    MK_CHECK(a[3].quoted && a[3].len == 0);
    MK_CHECK_EQ_INT(mk_at_arg_long(&a[2], &v), MK_E_FORMAT);

    /* max bounds what is stored and returned */
    l = "+X: 1,2,3,4";
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+X:", a, 2), 2);
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+X:", a, 0), 0);
    /* nothing after the prefix */
    MK_CHECK_EQ_INT(mk_at_split("+CMQTTNONET", 11, "+CMQTTNONET", a, 6), 0);
    MK_CHECK_EQ_INT(mk_at_split("+X: ", 4, "+X:", a, 6), 0);
    /* unterminated quote: the rest of the line */
    l = "+X: \"abc";
    MK_CHECK_EQ_INT(mk_at_split(l, strlen(l), "+X:", a, 6), 1);
    MK_CHECK(a[0].quoted && a[0].len == 3);
}

MK_TEST(arg_long_bounds)
{
    struct mk_at_arg a = {"12x", 3, false};
    long v = 0;
    MK_CHECK_EQ_INT(mk_at_arg_long(&a, &v), MK_E_FORMAT);
    a = (struct mk_at_arg){"", 0, false};
    MK_CHECK_EQ_INT(mk_at_arg_long(&a, &v), MK_E_FORMAT);
    a = (struct mk_at_arg){"99999999999999999999999", 23, false};
    MK_CHECK_EQ_INT(mk_at_arg_long(&a, &v), MK_E_FORMAT);
    a = (struct mk_at_arg){"-2147483648", 11, true};
    MK_CHECK_EQ_INT(mk_at_arg_long(&a, &v), MK_OK);
    MK_CHECK_EQ_INT(v, -2147483648LL);
}

MK_TEST_MAIN()
