/*
 * modemsim reboots: AT+CRESET / AT+CFUN=1,1 / power cuts make the pty vanish and a new
 * one appear (the --link symlink follows it); --state keeps the flash across reboots and
 * across simulator restarts.
 */
#include "sim_test_util.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static const char k_cert[] = "-----BEGIN CERTIFICATE-----\nkeep me\n-----END CERTIFICATE-----\n";

static int start(struct mk_sim *s, const char *dir, const char *fault)
{
    char link[300], state[300];
    static char link_s[300], state_s[300];
    snprintf(link, sizeof link, "%s/ttyMODEM", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    memcpy(link_s, link, sizeof link);
    memcpy(state_s, state, sizeof state);
    const char *args[] = {"--profile", "SIM7600E-H", "--link", link_s, "--state", state_s,
                          "--boot-delay-ms", "150", "--reenum-delay-ms", "100",
                          "--sim-delay-ms", "20", fault ? "--fault" : NULL, fault, NULL};
    if (mk_sim_start(s, args) != 0 || mk_sim_expect(s, "PB DONE\r\n", T_MS) != 0)
        return -1;
    char resp[64];
    return mk_sim_cmd(s, "ATE0", resp, sizeof resp, T_MS);
}

static void check_link(const char *dir, const char *pty)
{
    char link[300], target[300] = {0};
    snprintf(link, sizeof link, "%s/ttyMODEM", dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    MK_CHECK(n > 0);
    MK_CHECK_EQ_STR(target, pty);
}

/* After a reset: the old port hangs up, a new one appears and boots. */
static void follow_reboot(struct mk_sim *s, const char *dir)
{
    char old[128];
    snprintf(old, sizeof old, "%s", s->pty);
    MK_CHECK_EQ_INT(mk_sim_wait_hangup(s, T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_next_pty(s, T_MS), 0);
    MK_CHECK(strcmp(old, s->pty) != 0);
    check_link(dir, s->pty);
    MK_CHECK_EQ_INT(mk_sim_open(s), 0);
    /* S1 §1 / S3 log: the boot URCs, in this order */
    MK_CHECK_EQ_INT(mk_sim_expect(s, "\r\nRDY\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(s, "\r\n+CPIN: READY\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(s, "\r\nSMS DONE\r\n", T_MS), 0);
    MK_CHECK_EQ_INT(mk_sim_expect(s, "\r\nPB DONE\r\n", T_MS), 0);
    char resp[64];
    AT_OK(s, "ATE0", resp);
}

MK_TEST(creset_link_follows_and_state_survives)
{
    char dir[256], resp[1024], cmd[64];
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simreboot"), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(start(&s, dir, NULL), 0);
    check_link(dir, s.pty);
    snprintf(cmd, sizeof cmd, "AT+CCERTDOWN=\"keep.pem\",%zu", strlen(k_cert));
    AT_OK(&s, cmd, resp);
    DATA_OK(&s, k_cert, resp);

    AT_OK(&s, "AT+CRESET", resp);
    MK_CHECK_EQ_STR(resp, "OK\n");
    follow_reboot(&s, dir);
    AT_OK(&s, "AT+CCERTLIST", resp);
    MK_CHECK_EQ_STR(resp, "+CCERTLIST: \"keep.pem\"\nOK\n");
    /* AT+CFUN=1,1 resets too */
    AT_OK(&s, "AT+CFUN=1,1", resp);
    follow_reboot(&s, dir);

    /* simulator restart: exit 0, link removed, flash kept in --state */
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    char link[300];
    struct stat st;
    snprintf(link, sizeof link, "%s/ttyMODEM", dir);
    MK_CHECK(lstat(link, &st) != 0);
    MK_CHECK_EQ_INT(start(&s, dir, NULL), 0);
    AT_OK(&s, "AT+CCERTLIST", resp);
    MK_CHECK_EQ_STR(resp, "+CCERTLIST: \"keep.pem\"\nOK\n");
    char path[300], *data;
    size_t len;
    snprintf(path, sizeof path, "%s/state/cert/keep.pem", dir);
    MK_CHECK_EQ_INT(mk_test_read_file(path, &data, &len), 0);
    MK_CHECK_EQ_INT(len, strlen(k_cert));
    MK_CHECK_EQ_MEM(data, k_cert, len);
    free(data);
    AT_OK(&s, "AT+CCERTDELE=\"keep.pem\"", resp);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    MK_CHECK_EQ_INT(start(&s, dir, NULL), 0);
    AT_OK(&s, "AT+CCERTLIST", resp);
    MK_CHECK_EQ_STR(resp, "OK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_test_rmtree(dir);
}

MK_TEST(power_cut_at_step_and_on_signal)
{
    char dir[256], resp[1024];
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simcut"), 0);
    struct mk_sim s;
    /* step 1 is ATE0 (in start), step 2 the first CCERTDOWN, step 3 the second */
    MK_CHECK_EQ_INT(start(&s, dir, "power-cut@step3"), 0);
    AT_OK(&s, "AT+CCERTDOWN=\"first.pem\",5", resp);
    DATA_OK(&s, "11111", resp);
    MK_CHECK_EQ_INT(mk_sim_send(&s, "AT+CCERTDOWN=\"second.pem\",5"), 0);
    follow_reboot(&s, dir); /* no answer: the power went before the command ran */
    AT_OK(&s, "AT+CCERTLIST", resp);
    MK_CHECK_EQ_STR(resp, "+CCERTLIST: \"first.pem\"\nOK\n");
    /* "on command": SIGUSR2 cuts the power now */
    MK_CHECK_EQ_INT(mk_sim_signal(&s, SIGUSR2), 0);
    follow_reboot(&s, dir);
    AT_OK(&s, "AT+CCERTLIST", resp);
    MK_CHECK_EQ_STR(resp, "+CCERTLIST: \"first.pem\"\nOK\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_test_rmtree(dir);
}

MK_TEST(revision_comes_from_flash)
{
    /* what a firmware update leaves in flash (the FOTA commands will write it) */
    char dir[256], path[300];
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simrev"), 0);
    snprintf(path, sizeof path, "%s/state", dir);
    MK_CHECK_EQ_INT(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/state/revision", dir);
    MK_CHECK_EQ_INT(mk_test_write_file(path, "LE20B05SIM7600M22\n", 18), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(start(&s, dir, NULL), 0);
    char resp[1024];
    AT_OK(&s, "AT+CGMR", resp);
    MK_CHECK_EQ_STR(resp, "+CGMR: LE20B05SIM7600M22\nOK\n");
    AT_OK(&s, "ATI", resp);
    CHECK_HAS(resp, "Revision: LE20B05SIM7600M22\n");
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_test_rmtree(dir);
}

MK_TEST_MAIN()
