/*
 * An independent AT client against modemsim: gammu (Debian package) with an "at"
 * connection on the simulator's pty must identify the module as the profile says.
 * (gammu paces its own init at ~0.4 s per command: each identify takes ~4 s.)
 */
#include "sim_test_util.h"

static void identify(const char *profile, const char *boot_done, const char *manufacturer,
                     const char *model, const char *firmware, const char *imei)
{
    if (!mk_test_find_exe("gammu")) {
        MK_FAIL_AT(__FILE__, __LINE__, "gammu is not installed (scripts/deps.sh)");
        return;
    }
    char dir[256], rc[300], conf[512], out[4096], want[512];
    MK_CHECK_EQ_INT(mk_test_tmpdir(dir, sizeof dir, "simgammu"), 0);
    struct mk_sim s;
    MK_CHECK_EQ_INT(sim_up(&s, profile, boot_done, NULL), 0);
    mk_sim_close_port(&s); /* gammu owns the port now */
    snprintf(rc, sizeof rc, "%s/gammurc", dir);
    int n = snprintf(conf, sizeof conf, "[gammu]\ndevice = %s\nconnection = at\n", s.pty);
    MK_CHECK_EQ_INT(mk_test_write_file(rc, conf, (size_t)n), 0);
    const char *argv[] = {"gammu", "-c", rc, "identify", NULL};
    MK_CHECK_EQ_INT(mk_test_run(argv, out, sizeof out, 30000), 0);
    snprintf(want, sizeof want, "Manufacturer         : %s\n", manufacturer);
    CHECK_HAS(out, want);
    snprintf(want, sizeof want, "(%s)\n", model); /* gammu: "unknown (<AT+CGMM>)" */
    CHECK_HAS(out, want);
    snprintf(want, sizeof want, "Firmware             : %s\n", firmware);
    CHECK_HAS(out, want);
    snprintf(want, sizeof want, "IMEI                 : %s\n", imei);
    CHECK_HAS(out, want);
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    mk_test_rmtree(dir);
}

MK_TEST(gammu_identifies_sim7600e_h)
{
    identify("SIM7600E-H", "PB DONE", "SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H",
             "LE20B04SIM7600M22", "861551030000012");
}

MK_TEST(gammu_identifies_rc7620)
{
    identify("RC7620", NULL, "Sierra Wireless, Incorporated", "RC7620",
             "SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20", "353296090000057");
}

MK_TEST_MAIN()
