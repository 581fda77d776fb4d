/*
 * The simulator's test bench (--control FIFO, `modemsim --ctl`): a hard power cycle makes
 * the pty vanish and a new one boot; power-off keeps the module dark until power-on;
 * --ctl reports when nobody listens.
 */
#include "sim_test_util.h"

#include <unistd.h>

static char g_ctl[320];

static int ctl(const char *a, const char *b)
{
    const char *argv[] = {mk_sim_exe(), "--ctl", g_ctl, a, b, NULL};
    char out[256];
    return mk_test_run(argv, out, sizeof out, T_MS);
}

MK_TEST(power_cycle_and_power_off)
{
    char dir[256];
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simctl"), 0);
    snprintf(g_ctl, sizeof g_ctl, "%s/ctl", dir);
    const char *extra[] = {"--control", g_ctl, NULL};
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, "SIM7600E-H", "PB DONE\r\n", extra), 0);

    char old[128];
    snprintf(old, sizeof old, "%s", s.pty);
    MK_CHECK_EQ_INT(ctl("power-cycle", "50"), 0);
    MK_CHECK_EQ_INT(mk_sim_wait_hangup(&s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_next_pty(&s, T_MS), 0);
    MK_CHECK(strcmp(old, s.pty) != 0);
    MK_CHECK_EQ_INT(mk_sim_open(&s), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "PB DONE\r\n", T_MS), 0);

    /* power-off: the port goes and does not come back until power-on */
    MK_CHECK_EQ_INT(ctl("power-off", NULL), 0);
    MK_CHECK_EQ_INT(mk_sim_wait_hangup(&s, T_MS), 0);
    MK_CHECK(mk_sim_next_pty(&s, 600) != 0);
    MK_CHECK_EQ_INT(ctl("power-on", NULL), 0);
    MK_CHECK_EQ_INT(mk_sim_next_pty(&s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_open(&s), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(&s, "PB DONE\r\n", T_MS), 0);
    char resp[128];
    AT_OK(&s, "ATE0", resp);
    AT_OK(&s, "AT+CGMR", resp);
    MK_CHECK(strstr(resp, "LE20B04SIM7600M22") != NULL);

    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    /* the FIFO is gone with the simulator: --ctl says nobody listens */
    MK_CHECK(access(g_ctl, F_OK) != 0);
    MK_CHECK(ctl("power-cycle", NULL) != 0);
    mk_test_rmtree(dir);
}

MK_TEST_MAIN()
