/*
 * modemsim profiles and line behaviour, through raw AT on the pty (no broker needed):
 * identity per vendor, firmware deviations from the seeds, test-command answers, boot,
 * echo, CME errors, bearer commands.
 */
#include "sim_test_util.h"

static void expect_cmd(struct mk_sim *s, const char *cmd, const char *want)
{
    char resp[4096];
    int rc = mk_sim_cmd(s, cmd, resp, sizeof resp, T_MS);
    MK_CHECK(rc >= 0);
    if (strcmp(resp, want) != 0)
        MK_FAIL_AT(__FILE__, __LINE__, "%s:\n got  \"%s\"\n want \"%s\"", cmd, resp, want);
}

MK_TEST(sim7600e_h_identity)
{
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    /* ATI layout of seed 001 */
    expect_cmd(&s, "ATI",
               "Manufacturer: SIMCOM INCORPORATED\nModel: SIMCOM_SIM7600E-H\n"
               "Revision: SIM7600M22_V1.1\nIMEI: 861551030000012\n+GCAP: +CGSM\nOK\n");
    expect_cmd(&s, "AT+CGMI", "SIMCOM INCORPORATED\nOK\n");
    expect_cmd(&s, "AT+CGMM", "SIMCOM_SIM7600E-H\nOK\n");
    expect_cmd(&s, "AT+CGMR", "+CGMR: LE20B04SIM7600M22\nOK\n");
    expect_cmd(&s, "AT+GMR", "+GMR: LE20B04SIM7600M22\nOK\n");
    expect_cmd(&s, "AT+CGSN", "861551030000012\nOK\n");
    char resp[1024];
    AT_OK(&s, "AT+SIMCOMATI", resp);
    CHECK_HAS(resp, "Model: SIMCOM_SIM7600E-H\nRevision: LE20B04SIM7600M22\nQCN: \n");
    /* test answers exactly as S1 §16 gives them (at-commands.md §1.1 table) */
    static const char *const tests[][2] = {
        {"AT+CMQTTACCQ=?", "+CMQTTACCQ: (0-1),(1-128),(0-1),(3-4)"},
        {"AT+CMQTTREL=?", "+CMQTTREL: (0-1)"},
        {"AT+CMQTTSSLCFG=?", "+CMQTTSSLCFG: (0,1),(0-9)"},
        {"AT+CMQTTWILLTOPIC=?", "+CMQTTWILLTOPIC: (0-1),(1-1024)"},
        {"AT+CMQTTWILLMSG=?", "+CMQTTWILLMSG: (0-1),(1-1024),(0-2)"},
        {"AT+CMQTTCONNECT=?", "+CMQTTCONNECT: (0-1),(9-256),(1-64800),(0-1)"},
        {"AT+CMQTTDISC=?", "+CMQTTDISC: (0-1),(0,60-180)"},
        {"AT+CMQTTTOPIC=?", "+CMQTTTOPIC: (0-1),(1-1024)"},
        {"AT+CMQTTPAYLOAD=?", "+CMQTTPAYLOAD: (0-1),(1-10240)"},
        {"AT+CMQTTPUB=?", "+CMQTTPUB: (0-1),(0-2),(60-180),(0-1),(0-1)"},
        {"AT+CMQTTSUBTOPIC=?", "+CMQTTSUBTOPIC: (0-1),(1-1024),(0-2)"},
        {"AT+CMQTTSUB=?", "+CMQTTSUB: (0-1),(1-1024),(0-2),(0-1)"},
        {"AT+CMQTTUNSUBTOPIC=?", "+CMQTTUNSUBTOPIC: (0-1),(1-1024)"},
        {"AT+CMQTTUNSUB=?", "+CMQTTUNSUB: (0-1),(1-1024),(0-1)"},
        {"AT+CCERTDOWN=?", "+CCERTDOWN: (5-128),(1-10240)"},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, "%s\nOK\n", tests[i][1]);
        expect_cmd(&s, tests[i][0], want);
    }
    AT_OK(&s, "AT+CSSLCFG=?", resp);
    CHECK_HAS(resp, "+CSSLCFG: \"sslversion\",(0-9),(0-4)\n+CSSLCFG: \"authmode\",(0-9),(0-3)\n");
    CHECK_HAS(resp, "+CSSLCFG: \"ciphersuites\",(0-9),(0x002F,0xFFFF)\nOK\n");
    AT_OK(&s, "AT+CMQTTCFG=?", resp);
    CHECK_HAS(resp, "+CMQTTCFG: \"checkUTF8\",(0-1),(0-1)\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(old_sim7600_and_sim7500a_firmware)
{
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600SA", "PB DONE", NULL), 0);
    expect_cmd(&s, "AT+GMR", "+GMR: LE11B01SIM7600M21-A\nOK\n"); /* seed 000 */
    expect_cmd(&s, "AT+CMQTTACCQ=?", "+CMQTTACCQ: (0-1),(1-128),(0-1)\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);

    MK_CHECK_EQ_INT(sim_up(&s, "SIM7500A", "PB DONE", NULL), 0);
    expect_cmd(&s, "AT+CGMR", "+CGMR: LE11B02SIM7500A\nOK\n"); /* seed 001 */
    expect_cmd(&s, "AT+CSSLCFG=\"sslversion\",0,4", "ERROR\n"); /* seed 001 */
    expect_cmd(&s, "AT+CSSLCFG=\"sslversion\",0,3", "OK\n");
    char resp[2048];
    AT_OK(&s, "AT+CSSLCFG=?", resp);
    CHECK_HAS(resp, "+CSSLCFG: \"sslversion\",(0-9),(0-3)\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(sim7000g_identity_and_bearer)
{
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7000G", "SMS Ready", NULL), 0);
    expect_cmd(&s, "AT+GMR", "Revision:1529B04SIM7000G\nOK\n"); /* seed 003 */
    expect_cmd(&s, "AT+CGMR", "Revision:1529B04SIM7000G\nOK\n");
    expect_cmd(&s, "AT+CMQTTSTART", "ERROR\n"); /* no CMQTT on SIM7000 */
    expect_cmd(&s, "AT+SIMCOMATI", "ERROR\n");
    /* seed 003 (S7 §4.1) sequence */
    expect_cmd(&s, "AT+CPIN?", "+CPIN: READY\nOK\n");
    expect_cmd(&s, "AT+CGDCONT=1,\"IP\",\"\"", "OK\n");
    expect_cmd(&s, "AT+CSQ", "+CSQ: 24,99\nOK\n");
    expect_cmd(&s, "AT+CGATT?", "+CGATT: 1\nOK\n");
    char resp[512];
    AT_OK(&s, "AT+COPS?", resp);
    CHECK_HAS(resp, "+COPS: 0,0,\"");
    AT_OK(&s, "AT+CGNAPN", resp);
    CHECK_HAS(resp, "+CGNAPN: 1,\"");
    expect_cmd(&s, "AT+CNCFG=1,\"ctnb\",\"cdma\",\"1234\"", "OK\n");
    expect_cmd(&s, "AT+CNACT=1", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+APP PDP: ACTIVE\r\n", T_MS), 0);
    AT_OK(&s, "AT+CNACT?", resp);
    CHECK_HAS(resp, "+CNACT: 0,1,\"10.");
    /* seed 003 (S7 §4.2): CFUN=0 / CFUN=1 with their +CPIN URCs after OK */
    expect_cmd(&s, "AT+CFUN=0", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CPIN: NOT READY\r\n", T_MS), 0);
    expect_cmd(&s, "AT+CFUN=1", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CPIN: READY\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(rc7620_sierra_commands)
{
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "RC7620", NULL, NULL), 0);
    /* seed 002 */
    expect_cmd(&s, "AT+CGMR", "SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20\nOK\n");
    char resp[2048];
    AT_OK(&s, "ATI", resp);
    CHECK_HAS(resp, "Model: RC7620\nRevision: SWI9X07H_00.08.07.00 0ce4c1 jenkins");
    expect_cmd(&s, "AT!IMPREF?", "ERROR\n"); /* privileged: needs AT!ENTERCND */
    expect_cmd(&s, "AT!ENTERCND=\"A711\"", "ERROR\n");
    expect_cmd(&s, "AT!ENTERCND=\"A710\"", "OK\n");
    expect_cmd(&s, "at!IMPREF?", /* the exact block of seed 002 */
               "!IMPREF: \n"
               "preferred fw version: 00.08.07.00\n"
               "preferred carrier name: SIERRA\n"
               "preferred config name: SIERRA_000.057_000\n"
               "preferred subpri index: 001\n"
               "current fw version: 00.08.07.00\n"
               "current carrier name: SIERRA\n"
               "current config name: SIERRA_000.057_000\n"
               "current subpri index: 001\n"
               "OK\n");
    AT_OK(&s, "at!gstatus?", resp);
    CHECK_HAS(resp, "!GSTATUS: \n");
    CHECK_HAS(resp, "Mode:        ONLINE");
    expect_cmd(&s, "AT+CMQTTSTART", "ERROR\n");
    /* AT!BOOTHOLD: OK, the port goes away and comes back in boot-and-hold download mode,
     * saying the 48-byte Sahara HELLO of seed 004 once */
    expect_cmd(&s, "AT!BOOTHOLD", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_wait_hangup(&s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_next_pty(&s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_open(&s), 0);
    static const uint8_t hello[48] = {1, 0, 0, 0, 0x30, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
                                      0, 4, 0, 0, 2, 0, 0, 0};
    uint8_t got[48];
    MK_CHECK_EQ_INT(mk_sim_read_exact(&s, got, sizeof got, T_MS), 0);
    MK_CHECK_EQ_MEM(got, hello, sizeof hello);
    /* an AT command is an unknown packet to it: a fresh HELLO comes back */
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT"), 0);
    MK_CHECK_EQ_INT(mk_sim_read_exact(&s, got, sizeof got, T_MS), 0);
    MK_CHECK_EQ_MEM(got, hello, sizeof hello);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(boot_silence_sim_busy_and_cmee)
{
    const char *args[] = {"--profile", "SIM7600E-H", "--boot-delay-ms", "300",
                          "--sim-delay-ms", "800", NULL};
    struct mk_sim s;
    MK_CHECK_EQ_INT(mk_sim_start(&s, args), 0);
    /* while the firmware boots the port is silent, even to AT */
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT"), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "RDY\r\n", T_MS), 0);
    MK_CHECK(memmem(s.rx, s.rxlen, "OK", 2) == NULL);
    /* echo is on after boot */
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT"), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "AT\r\r\nOK\r\n", T_MS), 0);
    /* between RDY and +CPIN: READY the SIM is busy; CMEE picks the form */
    expect_cmd(&s, "AT+CPIN?", "+CME ERROR: SIM busy\n");
    expect_cmd(&s, "AT+CMEE=1", "OK\n");
    expect_cmd(&s, "AT+CPIN?", "+CME ERROR: 14\n");
    expect_cmd(&s, "AT+CMEE=0", "OK\n");
    expect_cmd(&s, "AT+CPIN?", "ERROR\n");
    expect_cmd(&s, "AT+CMEE?", "+CMEE: 0\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CPIN: READY\r\n", T_MS), 0);
    expect_cmd(&s, "AT+CPIN?", "+CPIN: READY\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "PB DONE\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(line_discipline)
{
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE", NULL), 0);
    expect_cmd(&s, "AT+NOSUCHCOMMAND", "ERROR\n");
    expect_cmd(&s, "HELLO", "ERROR\n");
    expect_cmd(&s, "at+cgmm", "SIMCOM_SIM7600E-H\nOK\n"); /* case-insensitive */
    expect_cmd(&s, "AT+CMEE=2;+CPIN?;+CSQ", "+CPIN: READY\n+CSQ: 24,99\nOK\n");
    expect_cmd(&s, "AT+CMEE=2;+BOGUS;+CSQ", "ERROR\n"); /* stops at the first failure */
    /* CRLF terminated line */
    MK_CHECK_EQ_INT(mk_sim_write(&s, "AT+CSQ\r\n", 8), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CSQ: 24,99\r\n\r\nOK\r\n", T_MS), 0);
    /* ATE1 echoes, ATE0 stops */
    expect_cmd(&s, "ATE1", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT+CSQ"), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "AT+CSQ\r\r\n+CSQ: 24,99\r\n\r\nOK\r\n", T_MS), 0);
    expect_cmd(&s, "ATE0", "OK\n");
    /* registration */
    expect_cmd(&s, "AT+CREG?", "+CREG: 0,1\nOK\n");
    expect_cmd(&s, "AT+CEREG=2", "OK\n");
    expect_cmd(&s, "AT+CEREG?", "+CEREG: 2,1\nOK\n");
    expect_cmd(&s, "AT+CGREG?", "+CGREG: 0,1\nOK\n");
    /* bearer, S1 §11 */
    expect_cmd(&s, "AT+IPADDR", "+IP ERROR: Network not opened\nERROR\n");
    expect_cmd(&s, "AT+NETOPEN", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+NETOPEN: 0\r\n", T_MS), 0);
    expect_cmd(&s, "AT+NETOPEN", "+IP ERROR: Network is already opened\nERROR\n");
    expect_cmd(&s, "AT+NETOPEN?", "+NETOPEN: 1\nOK\n");
    char resp[256];
    AT_OK(&s, "AT+IPADDR", resp);
    CHECK_HAS(resp, "+IPADDR: 10.");
    expect_cmd(&s, "AT+NETCLOSE", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+NETCLOSE: 0\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(unverified_prompt_options)
{
    const char *args[] = {"--profile", "SIM7600E-H", "--boot-delay-ms", "0", "--sim-delay-ms",
                          "0", "--prompt-timeout-ms", "300", "--prompt-echo", "off",
                          "--prompt-space", NULL};
    struct mk_sim s;
    MK_CHECK_EQ_INT(mk_sim_start(&s, args), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "PB DONE\r\n", T_MS), 0);
    /* echo on (boot default), but the ">" data is not echoed; the prompt is "> " */
    int64_t t0 = mk_test_now_ms(); /* before the command: the prompt timer starts later */
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT+CCERTDOWN=\"x.pem\",5"), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "AT+CCERTDOWN=\"x.pem\",5\r\r\n> ", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_write(&s, "ab", 2), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\nERROR\r\n", T_MS), 0);
    MK_CHECK(mk_test_now_ms() - t0 >= 300);
    MK_CHECK_EQ_INT((int)s.rxlen, 0); /* nothing else: no echo of "ab" */
    expect_cmd(&s, "ATE0", "OK\n");
    expect_cmd(&s, "AT+CCERTLIST", "OK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(list_profiles_and_help)
{
    char out[8192];
    const char *list[] = {mk_sim_exe(), "--list-profiles", NULL};
    MK_CHECK_EQ_INT(mk_test_run(list, out, sizeof out, T_MS), 0);
    CHECK_HAS(out, "SIM7600E-H");
    CHECK_HAS(out, "LE11B01SIM7600M21-A");
    CHECK_HAS(out, "LE11B02SIM7500A");
    CHECK_HAS(out, "1529B04SIM7000G");
    CHECK_HAS(out, "SWI9X07H_00.08.07.00");
    const char *help[] = {mk_sim_exe(), "--help", NULL};
    MK_CHECK_EQ_INT(mk_test_run(help, out, sizeof out, T_MS), 0);
    CHECK_HAS(out, "--fault SPEC");
    CHECK_HAS(out, "power-cut@WHEN");
    const char *bad[] = {mk_sim_exe(), "--profile", "SIM7600E-H", "--fault", "nonsense", NULL};
    MK_CHECK_EQ_INT(mk_test_run(bad, out, sizeof out, T_MS), 2);
}

MK_TEST_MAIN()
