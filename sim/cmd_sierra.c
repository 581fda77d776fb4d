/*
 * modemsim: Sierra Wireless "!" commands (RC76xx, seed 002).
 *   AT!ENTERCND="A710"  unlocks the privileged commands (seed 002)
 *   AT!IMPREF?          firmware/carrier preference block, exactly as seed 002 shows it
 *   AT!GSTATUS?         radio status block (UNVERIFIED layout)
 *   AT!BOOTHOLD         OK, then the module resets into download mode (dl*.c: Sahara,
 *                       0xFF00, Firehose taking CWE images)
 * UNVERIFIED: which "!" commands need AT!ENTERCND; here !IMPREF (both forms),
 * !BOOTHOLD and !RESET do, !GSTATUS does not.
 */
#include "sim.h"

#include <string.h>

#define SIERRA_PASSWORD "A710" /* seed 002 */

static int h_entercnd(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_SET && sim_arg_is(r, 0, SIERRA_PASSWORD) && r->arg[0].quoted) {
        s->sierra.unlocked = true;
        return SIM_OK;
    }
    return SIM_ERROR;
}

static int h_impref(struct sim *s, const struct sim_req *r)
{
    const struct sim_profile *p = s->prof;
    if (r->type == SIM_REQ_SET)
        return SIM_OK; /* preference accepted; applied by a later firmware update */
    if (r->type != SIM_REQ_READ)
        return SIM_ERROR;
    /* after flashing in download mode, the image's versions (dl.c) */
    char fw[96], carrier[96], config[96];
    sim_dl_impref(s, fw, carrier, config, sizeof fw);
    const char *f = fw[0] ? fw : p->sierra_fw, *ca = carrier[0] ? carrier : p->sierra_carrier,
               *co = config[0] ? config : p->sierra_config;
    sim_reply(s,
              "!IMPREF: \r\n"
              "preferred fw version: %s\r\n"
              "preferred carrier name: %s\r\n"
              "preferred config name: %s\r\n"
              "preferred subpri index: %s\r\n"
              "current fw version: %s\r\n"
              "current carrier name: %s\r\n"
              "current config name: %s\r\n"
              "current subpri index: %s",
              f, ca, co, p->sierra_subpri, f, ca, co, p->sierra_subpri);
    return SIM_OK;
}

static int h_gstatus(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_READ)
        return SIM_ERROR;
    sim_reply(s,
              "!GSTATUS: \r\n"
              "Current Time:  %ld\t\tTemperature: 38\r\n"
              "Reset Counter: 1\t\tMode:        %s\r\n"
              "System mode:   LTE\t\tPS state:    Attached\r\n"
              "LTE band:      B3\t\tLTE bw:      20 MHz\r\n"
              "LTE Rx chan:   1300\t\tLTE Tx chan: 19300\r\n"
              "EMM state:     Registered\tNormal Service\r\n"
              "RRC state:     RRC Idle\r\n"
              "PCC RxM RSSI:  -67\t\tRSRP (dBm):  -95\r\n"
              "PCC RxD RSSI:  -70\t\tRSRP (dBm):  -98\r\n"
              "RSRQ (dB):     -10\t\tSINR (dB):   12.4\r\n"
              "TAC:           1A2B (6699)\r\n"
              "Cell ID:       0123ABCD (19114957)",
              (long)(sim_now_us() / 1000000), s->net.cfun_off ? "LOW POWER MODE" : "ONLINE");
    return SIM_OK;
}

static int h_boothold(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    s->next_boot_mode = SIM_BOOT_DOWNLOAD;
    sim_dev_reset_when_flushed(s);
    return SIM_OK;
}

static int h_reset(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    sim_dev_reset_when_flushed(s);
    return SIM_OK;
}

static void power_on(struct sim *s)
{
    memset(&s->sierra, 0, sizeof s->sierra);
}

#define SW SIM_CAP_SIERRA
static const struct sim_cmd cmds[] = {
    {"!ENTERCND", SW, 0, h_entercnd, NULL},
    {"!IMPREF", SW, SIM_F_PRIV, h_impref, NULL},
    {"!GSTATUS", SW, 0, h_gstatus, NULL},
    {"!BOOTHOLD", SW | SIM_CAP_BOOTHOLD, SIM_F_PRIV, h_boothold, NULL},
    {"!RESET", SW, SIM_F_PRIV, h_reset, NULL},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_sierra = {"sierra", cmds, power_on, NULL};
