/*
 * modemsim's file systems and firmware updates, by raw AT over its pty:
 *   SIM7000 AT+CFS*: the CFSINIT bracket, AT+CFSWFILE limits (size <= 10240, input time
 *   100..10000 ms), the DOWNLOAD prompt, ERROR and nothing written when the data misses
 *   its window, free space from --fs-size, read back, append, delete;
 *   SIM7600 AT+FS* and AT+CFTRANRX/TX on C: and F:;
 *   AT+CFOTA=1: reset, +CFOTA URCs with progress, reset, new revision, AT+CFOTA? 6; a delta
 *   for another source revision fails (revision unchanged, 7); a power cut in the middle
 *   of the update continues at the next boot; a boot loop after the update until a hard
 *   power cycle (seed 002).
 */
#include "../sim/sim_test_util.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[256];
static int state_n;

static void cleanup(void)
{
}

/* A scratch directory for the whole run (removed at exit) and a fresh state dir in it. */
static const char *fresh_state(void)
{
    static char state[300];
    if (!dir[0]) {
        if (mk_test_tmpdir(dir, sizeof dir, "simfota") != 0)
            abort();
        atexit(cleanup);
    }
    snprintf(state, sizeof state, "%s/state%d", dir, ++state_n);
    return state;
}

static int make_delta(const char *out, const char *from, int size)
{
    char sz[16];
    snprintf(sz, sizeof sz, "%d", size);
    const char *argv[] = {mk_sim_exe(), "--make-delta",    "--model", "SIM7000G", "--from", from,
                          "--to",       "1529B05SIM7000G", "--size",  sz,         "-o",     out,
                          NULL};
    char o[64];
    return mk_test_run(argv, o, sizeof o, T_MS);
}

/* AT+CFSWFILE with its DOWNLOAD prompt and the data; returns the final result (0 OK). */
static int cfswfile(struct mk_sim *s, const char *cmd, const void *data, size_t n)
{
    char resp[256];
    if (mk_sim_send(s, cmd) != 0 || mk_sim_expect(s, "\r\nDOWNLOAD\r\n", T_MS) != 0)
        return -1;
    return mk_sim_data(s, data, n, resp, sizeof resp, T_MS);
}

MK_TEST(cfs_bracket_limits_and_window)
{
    struct mk_sim s = {0};
    char resp[4096];
    const char *extra[] = {"--fs-size", "30000", NULL};
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7000G", NULL, extra), 0);
    AT_ERR(&s, "AT+CFSWFILE=1,\"a.bin\",0,5,1000", resp); /* outside CFSINIT..CFSTERM */
    AT_OK(&s, "AT+CFSINIT", resp);
    AT_ERR(&s, "AT+CFSINIT", resp);
    AT_OK(&s, "AT+CFSWFILE=?", resp);
    CHECK_HAS(resp, "+CFSWFILE: (0-3),\"fileName\",(0-1),(1-10240),(100-10000)");
    AT_ERR(&s, "AT+CFSWFILE=1,\"a.bin\",0,10241,1000", resp);
    AT_ERR(&s, "AT+CFSWFILE=1,\"a.bin\",0,10,10001", resp);
    AT_ERR(&s, "AT+CFSWFILE=1,\"a.bin\",0,10,99", resp);
    AT_ERR(&s, "AT+CFSWFILE=4,\"a.bin\",0,10,1000", resp);
    AT_OK(&s, "AT+CFSGFRS?", resp);
    CHECK_HAS(resp, "+CFSGFRS: 30000");
    MK_CHECK_EQ_INT(cfswfile(&s, "AT+CFSWFILE=1,\"a.bin\",0,7,10000", "he\r\nllo", 7), 0);
    MK_CHECK_EQ_INT(cfswfile(&s, "AT+CFSWFILE=1,\"a.bin\",1,3,10000", "abc", 3), 0);
    AT_OK(&s, "AT+CFSGFIS=1,\"a.bin\"", resp);
    CHECK_HAS(resp, "+CFSGFIS: 10");
    AT_OK(&s, "AT+CFSGFRS?", resp);
    CHECK_HAS(resp, "+CFSGFRS: 29990");
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT+CFSRFILE=1,\"a.bin\",1,4,5"), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CFSRFILE: 4\r\nloab\r\n\r\nOK\r\n", T_MS), 0);
    /* the data does not arrive within <input_time>: ERROR, nothing written */
    int64_t t0 = mk_test_now_ms();
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT+CFSWFILE=1,\"b.bin\",0,10,300"), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\nDOWNLOAD\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_write(&s, "1234", 4), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\nERROR\r\n", T_MS), 0);
    MK_CHECK(mk_test_now_ms() - t0 >= 290);
    AT_ERR(&s, "AT+CFSGFIS=1,\"b.bin\"", resp);
    /* a write that does not fit the free space */
    static uint8_t big[10240];
    MK_CHECK_EQ_INT(cfswfile(&s, "AT+CFSWFILE=3,\"c.bin\",0,10240,10000", big, sizeof big), 0);
    MK_CHECK_EQ_INT(cfswfile(&s, "AT+CFSWFILE=3,\"c.bin\",1,10240,10000", big, sizeof big), 0);
    AT_ERR(&s, "AT+CFSWFILE=3,\"c.bin\",1,10240,10000", resp);
    /* mode 0 replaces: the old size counts as free */
    MK_CHECK_EQ_INT(cfswfile(&s, "AT+CFSWFILE=3,\"c.bin\",0,10240,10000", big, sizeof big), 0);
    AT_OK(&s, "AT+CFSDFILE=1,\"a.bin\"", resp);
    AT_ERR(&s, "AT+CFSDFILE=1,\"a.bin\"", resp);
    AT_OK(&s, "AT+CFSTERM", resp);
    AT_ERR(&s, "AT+CFSTERM", resp);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(fs7600_cftranrx_and_fs_commands)
{
    struct mk_sim s = {0};
    char resp[4096];
    const char *extra[] = {"--fs-size", "20000", NULL};
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600SA", "PB DONE", extra), 0);
    AT_OK(&s, "AT+FSCD=F:/", resp);
    CHECK_HAS(resp, "+FSCD: F:/");
    AT_OK(&s, "AT+CFTRANRX=\"F:/x.bin\",5", resp); /* ">" counts as OK here */
    MK_CHECK_EQ_INT(mk_sim_data(&s, "ab\r\nc", 5, resp, sizeof resp, T_MS), 0);
    AT_ERR(&s, "AT+CFTRANRX=\"F:/x.bin\",5", resp);       /* UNVERIFIED: no overwrite */
    AT_ERR(&s, "AT+CFTRANRX=\"x.bin\",5", resp);          /* full path required (S1) */
    AT_ERR(&s, "AT+CFTRANRX=\"F:/x.bin\",5,100,9", resp); /* past the end */
    AT_OK(&s, "AT+CFTRANRX=\"F:/x.bin\",4,100,5", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&s, "defg", 4, resp, sizeof resp, T_MS), 0);
    AT_OK(&s, "AT+FSATTRI=\"x.bin\"", resp);
    CHECK_HAS(resp, "+FSATTRI: 9,");
    AT_OK(&s, "AT+FSLS", resp);
    CHECK_HAS(resp, "+FSLS: FILES:\nx.bin\n");
    AT_OK(&s, "AT+FSMEM", resp);
    CHECK_HAS(resp, "F:(20000,9)");
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT+CFTRANTX=\"F:/x.bin\",3,4"), 0);
    MK_CHECK_EQ_INT(
        mk_sim_expect(&s, "\r\n+CFTRANTX: DATA,4\r\n\ncde\r\n+CFTRANTX: 0\r\n\r\nOK\r\n", T_MS), 0);
    AT_ERR(&s, "AT+CFTRANRX=\"F:/y.bin\",20000", resp); /* more than is free */
    AT_OK(&s, "AT+FSDEL=\"x.bin\"", resp);
    AT_ERR(&s, "AT+FSATTRI=\"x.bin\"", resp);
    AT_OK(&s, "AT+FSCD=C:/", resp);
    AT_OK(&s, "AT+CFTRANRX=\"C:/z.txt\",2", resp);
    MK_CHECK_EQ_INT(mk_sim_data(&s, "hi", 2, resp, sizeof resp, T_MS), 0);
    AT_OK(&s, "AT+FSLS?", resp);
    CHECK_HAS(resp, "+FSLS: SUBDIRECTORIES:0,FILES:1");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

/* Starts a SIM7000G with state in dir and puts delta (a file) into /fota/update.zip. */
static int sim7000_with_delta(struct mk_sim *s, const char *delta, const char *fault)
{
    const char *state = fresh_state();
    const char *extra[] = {"--state",
                           state,
                           "--fota-time-ms",
                           "200",
                           "--reenum-delay-ms",
                           "30",
                           fault ? "--fault" : NULL,
                           fault,
                           NULL};
    if (sim_up(s, "SIM7000G", NULL, extra) != 0)
        return -1;
    char *data;
    size_t len;
    if (mk_test_read_file(delta, &data, &len) != 0 || len > 10240)
        return -1;
    char cmd[96], resp[256];
    snprintf(cmd, sizeof cmd, "AT+CFSWFILE=1,\"update.zip\",0,%zu,10000", len);
    int rc = mk_sim_cmd(s, "AT+CFSINIT", resp, sizeof resp, T_MS) == 0 &&
                     cfswfile(s, cmd, data, len) == 0 &&
                     mk_sim_cmd(s, "AT+CFSTERM", resp, sizeof resp, T_MS) == 0
                 ? 0
                 : -1;
    free(data);
    return rc;
}

/* After AT+CFOTA=1: the port goes, comes back updating, goes, comes back booted. */
static void next_boot(struct mk_sim *s)
{
    MK_CHECK_EQ_INT(mk_sim_wait_hangup(s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_next_pty(s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_open(s), 0);
}

MK_TEST(cfota_update_and_statuses)
{
    struct mk_sim s = {0};
    char resp[4096], delta[300];
    fresh_state();
    snprintf(delta, sizeof delta, "%s/good.bin", dir);
    MK_CHECK_EQ_INT(make_delta(delta, "1529B04SIM7000G", 3000), 0);
    MK_CHECK_EQ_INT(sim7000_with_delta(&s, delta, NULL), 0);
    AT_OK(&s, "AT+CFOTA?", resp);
    CHECK_HAS(resp, "+CFOTA: 8");
    AT_OK(&s, "AT+CFOTA=1", resp);
    next_boot(&s);
    /* updating: the AT firmware does not answer, the progress URCs come (S7 §5.3) */
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CFOTA: \"Start to update\"\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT"), 0);
    for (int p = 10; p <= 100; p += 10) {
        char u[64];
        snprintf(u, sizeof u, "\r\n+CFOTA: \"Updating\",%d\r\n", p);
        MK_CHECK_EQ_INT(mk_sim_expect(&s, u, T_MS), 0);
    }
    MK_CHECK_EQ_INT(
        mk_sim_expect(&s, "+CFOTA: \"Update successfully, please wait for reset\"", T_MS), 0);
    MK_CHECK(strstr((const char *)s.rx, "OK") == NULL); /* the "AT" got no answer */
    next_boot(&s);
    MK_CHECK_EQ_INT(mk_sim_wait_ready(&s, T_MS), 0);
    AT_OK(&s, "ATE0", resp);
    AT_OK(&s, "AT+CGMR", resp);
    CHECK_HAS(resp, "Revision:1529B05SIM7000G");
    AT_OK(&s, "AT+CFOTA?", resp);
    CHECK_HAS(resp, "+CFOTA: 6");
    AT_OK(&s, "AT+CFOTA=0", resp);
    AT_OK(&s, "AT+CFOTA?", resp);
    CHECK_HAS(resp, "+CFOTA: 8");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(cfota_delta_for_another_revision_fails)
{
    struct mk_sim s = {0};
    char resp[4096], delta[300];
    fresh_state();
    snprintf(delta, sizeof delta, "%s/other.bin", dir);
    MK_CHECK_EQ_INT(make_delta(delta, "1529B03SIM7000G", 2000), 0);
    MK_CHECK_EQ_INT(sim7000_with_delta(&s, delta, NULL), 0);
    AT_OK(&s, "AT+CFOTA=1", resp);
    next_boot(&s);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "+CFOTA: \"Update failed, please wait for reset\"", T_MS), 0);
    next_boot(&s);
    MK_CHECK_EQ_INT(mk_sim_wait_ready(&s, T_MS), 0);
    AT_OK(&s, "ATE0", resp);
    AT_OK(&s, "AT+CGMR", resp);
    CHECK_HAS(resp, "Revision:1529B04SIM7000G");
    AT_OK(&s, "AT+CFOTA?", resp);
    CHECK_HAS(resp, "+CFOTA: 7");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(power_cut_mid_update_continues)
{
    struct mk_sim s = {0};
    char resp[4096], delta[300];
    fresh_state();
    snprintf(delta, sizeof delta, "%s/good.bin", dir);
    MK_CHECK_EQ_INT(make_delta(delta, "1529B04SIM7000G", 3000), 0);
    MK_CHECK_EQ_INT(sim7000_with_delta(&s, delta, "power-cut@update40"), 0);
    AT_OK(&s, "AT+CFOTA=1", resp);
    next_boot(&s);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CFOTA: \"Updating\",30\r\n", T_MS), 0);
    next_boot(&s); /* power cut at 40 %: the update continues at the next boot */
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CFOTA: \"Start to update\"\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "\r\n+CFOTA: \"Updating\",50\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "Update successfully", T_MS), 0);
    next_boot(&s);
    MK_CHECK_EQ_INT(mk_sim_wait_ready(&s, T_MS), 0);
    AT_OK(&s, "ATE0", resp);
    AT_OK(&s, "AT+CGMR", resp);
    CHECK_HAS(resp, "Revision:1529B05SIM7000G");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST(boot_loop_until_hard_power_cycle)
{
    struct mk_sim s = {0};
    char resp[4096], delta[300], ctl[300];
    fresh_state();
    snprintf(delta, sizeof delta, "%s/good.bin", dir);
    snprintf(ctl, sizeof ctl, "%s/ctl", dir);
    MK_CHECK_EQ_INT(make_delta(delta, "1529B04SIM7000G", 2000), 0);
    const char *state = fresh_state();
    const char *extra[] = {"--state",
                           state,
                           "--fota-time-ms",
                           "100",
                           "--reenum-delay-ms",
                           "30",
                           "--fault",
                           "bootloop-after-update=300",
                           "--control",
                           ctl,
                           NULL};
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7000G", NULL, extra), 0);
    char *data;
    size_t len;
    MK_CHECK_EQ_INT(mk_test_read_file(delta, &data, &len), 0);
    AT_OK(&s, "AT+CFSINIT", resp);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "AT+CFSWFILE=1,\"update.zip\",0,%zu,10000", len);
    MK_CHECK_EQ_INT(cfswfile(&s, cmd, data, len), 0);
    free(data);
    AT_OK(&s, "AT+CFOTA=1", resp);
    next_boot(&s);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "Update successfully", T_MS), 0);
    /* now it comes up, says nothing, answers nothing, and goes again */
    for (int i = 0; i < 3; i++) {
        next_boot(&s);
        MK_CHECK_EQ_INT(mk_sim_send(&s, "AT"), 0);
        MK_CHECK_EQ_INT(mk_sim_wait_hangup(&s, T_MS), 0);
        MK_CHECK(strstr((const char *)s.rx, "OK") == NULL);
        MK_CHECK(strstr((const char *)s.rx, "RDY") == NULL);
    }
    const char *argv[] = {mk_sim_exe(), "--ctl", ctl, "power-cycle", NULL};
    char out[64];
    MK_CHECK_EQ_INT(mk_test_run(argv, out, sizeof out, T_MS), 0);
    /* the cold boot clears it (a loop reset may still come first) */
    for (int i = 0; i < 4; i++) {
        MK_CHECK_EQ_INT(mk_sim_next_pty(&s, T_MS), 0);
        MK_CHECK_EQ_INT(mk_sim_open(&s), 0);
        if (mk_sim_wait_ready(&s, 1000) == 0)
            break;
    }
    AT_OK(&s, "ATE0", resp);
    AT_OK(&s, "AT+CGMR", resp);
    CHECK_HAS(resp, "Revision:1529B05SIM7000G");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
}

MK_TEST_MAIN()
