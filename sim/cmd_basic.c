/*
 * modemsim: V.250 basics, identity, SIM and registration, power (CFUN, CRESET).
 *
 * Identity formats per vendor:
 *   SIMCom LTE ATI: "Manufacturer: SIMCOM INCORPORATED" / "Model:" / "Revision:" /
 *     "IMEI:" / "+GCAP: +CGSM" (seed 001, F1 log); AT+CGMR → "+CGMR: <rev>" (seed 001);
 *     AT+GMR → "+GMR: <rev>" (seed 000).
 *   SIM7000: AT+GMR → "Revision:1529B04SIM7000G" (seed 003, S7 §5.4).
 *   Sierra: AT+CGMR → bare "SWI9X07H_00.08.07.00 0ce4c1 jenkins ..." (seed 002).
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

static const char *ati_revision(struct sim *s)
{
    /* the short "Revision:" form is per factory image; after a firmware change
     * (flash revision set) show the new full revision */
    if (s->flash.revision || !s->prof->ati_revision)
        return sim_revision(s);
    return s->prof->ati_revision;
}

static int h_ati(struct sim *s, const struct sim_req *r)
{
    (void)r;
    const struct sim_profile *p = s->prof;
    switch (p->ati) {
    case SIM_ATI_SIMCOM_LTE:
        sim_reply(s, "Manufacturer: %s\r\nModel: %s\r\nRevision: %s\r\nIMEI: %s\r\n+GCAP: +CGSM",
                  p->manufacturer, p->ati_model, ati_revision(s), p->imei);
        break;
    case SIM_ATI_SIMCOM_7000:
        sim_reply(s, "%s %s", p->ati_model, ati_revision(s)); /* UNVERIFIED layout */
        break;
    case SIM_ATI_SIERRA:
        /* UNVERIFIED layout; manufacturer/model strings as mmcli shows them (seed 004) */
        sim_reply(s,
                  "Manufacturer: %s\r\nModel: %s\r\nRevision: %s\r\nIMEI: %s\r\nIMEI SV: 12\r\n"
                  "FSN: 4L0000000000A1\r\n+GCAP: +CGSM",
                  p->manufacturer, p->model, sim_revision(s), p->imei);
        break;
    }
    return SIM_OK;
}

static int h_simcomati(struct sim *s, const struct sim_req *r)
{
    (void)r;
    const struct sim_profile *p = s->prof;
    if (p->ati != SIM_ATI_SIMCOM_LTE)
        return SIM_ERROR;
    /* Freematics detects SIM7600 by the "QCN:" line (at-commands.md §5.5). UNVERIFIED
     * remaining fields. */
    sim_reply(s,
              "Manufacturer: %s\r\nModel: %s\r\nRevision: %s\r\nQCN: \r\nIMEI: %s\r\nMEID: \r\n"
              "+GCAP:+CGSM\r\nDeviceInfo: 173,170",
              p->manufacturer, p->ati_model, sim_revision(s), p->imei);
    return SIM_OK;
}

static int h_cgmi(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, "%s", s->prof->manufacturer);
    return SIM_OK;
}

static int h_cgmm(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, "%s", s->prof->model);
    return SIM_OK;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int h_cgmr(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, s->prof->cgmr_fmt, sim_revision(s));
    return SIM_OK;
}

static int h_gmr(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, s->prof->gmr_fmt, sim_revision(s));
    return SIM_OK;
}
#pragma GCC diagnostic pop

static int h_cgsn(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, "%s", s->prof->imei);
    return SIM_OK;
}

static int h_gcap(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, "+GCAP: +CGSM");
    return SIM_OK;
}

static int h_cimi(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, "%s", s->prof->imsi);
    return SIM_OK;
}

static int h_ciccid(struct sim *s, const struct sim_req *r)
{
    (void)r;
    sim_reply(s, "+ICCID: %s", s->prof->iccid);
    return SIM_OK;
}

/* ---- V.250 basic commands ---- */

static long basic_value(const struct sim_req *r)
{
    long v = 0;
    for (size_t i = 0; i < r->raw_len; i++)
        if (r->raw[i] >= '0' && r->raw[i] <= '9')
            v = v * 10 + (r->raw[i] - '0');
    return v;
}

static int h_e(struct sim *s, const struct sim_req *r)
{
    long v = basic_value(r);
    if (v > 1)
        return SIM_ERROR;
    s->at.echo = v == 1;
    return SIM_OK;
}

static int h_accept(struct sim *s, const struct sim_req *r)
{
    (void)s;
    (void)r;
    return SIM_OK; /* V1, Q0, X, &C, &D, &W, S-registers: accepted, not modelled */
}

static int h_z(struct sim *s, const struct sim_req *r)
{
    (void)r;
    s->at.echo = true;
    s->at.cmee = s->opt.cmee_default;
    return SIM_OK;
}

static int h_cmee(struct sim *s, const struct sim_req *r)
{
    long v;
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+CMEE: %d", s->at.cmee);
        return SIM_OK;
    }
    if (r->type == SIM_REQ_EXEC) {
        s->at.cmee = 0;
        return SIM_OK;
    }
    if (!sim_arg_long(r, 0, &v) || v < 0 || v > 2)
        return SIM_ERROR;
    s->at.cmee = (int)v;
    return SIM_OK;
}

static int h_cscs(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+CSCS: \"%s\"", s->net.cscs);
        return SIM_OK;
    }
    if (r->type != SIM_REQ_SET)
        return SIM_ERROR;
    static const char *const sets[] = {"IRA", "GSM", "UCS2"};
    for (size_t i = 0; i < 3; i++) {
        if (sim_arg_is(r, 0, sets[i])) {
            snprintf(s->net.cscs, sizeof s->net.cscs, "%s", sets[i]);
            return SIM_OK;
        }
    }
    return SIM_ERROR;
}

static int h_ipr(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ)
        sim_reply(s, "+IPR: %u", s->opt.baud ? s->opt.baud : 115200u);
    return SIM_OK; /* the pty has no real rate; --baud sets the paced one */
}

/* ---- SIM, signal, registration ---- */

static int h_cpin(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+CPIN: READY");
        return SIM_OK;
    }
    return r->type == SIM_REQ_SET ? SIM_CME_NOT_ALLOWED : SIM_ERROR; /* no PIN set */
}

static int h_csq(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    sim_reply(s, "+CSQ: %d,99", s->net.cfun_off ? 99 : 24);
    return SIM_OK;
}

/* CREG/CGREG/CEREG share one handler: stat 1 (home) unless the radio is off. */
static int reg_common(struct sim *s, const struct sim_req *r, const char *name, int *n, int max)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "%s: %d,%d", name, *n, s->net.cfun_off ? 0 : 1);
        return SIM_OK;
    }
    long v;
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, &v) || v < 0 || v > max)
        return SIM_ERROR;
    *n = (int)v;
    return SIM_OK;
}

static int h_creg(struct sim *s, const struct sim_req *r)
{
    return reg_common(s, r, "+CREG", &s->net.creg_n, 2);
}

static int h_cgreg(struct sim *s, const struct sim_req *r)
{
    return reg_common(s, r, "+CGREG", &s->net.cgreg_n, 2);
}

static int h_cereg(struct sim *s, const struct sim_req *r)
{
    return reg_common(s, r, "+CEREG", &s->net.cereg_n, 5);
}

/* ---- power ---- */

static int h_creset(struct sim *s, const struct sim_req *r)
{
    (void)r;
    /* S1: "OK", then the module reboots; the USB port goes away and comes back. */
    sim_dev_reset_when_flushed(s);
    return SIM_OK;
}

static void cpin_urc(struct sim *s, void *ctx, intptr_t off)
{
    (void)ctx;
    sim_urc(s, off ? "+CPIN: NOT READY" : "+CPIN: READY");
}

static int h_cfun(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+CFUN: %d", s->net.cfun_off ? 0 : 1);
        return SIM_OK;
    }
    long fun, rst = 0;
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, &fun) ||
        (sim_arg_has(r, 1) && !sim_arg_long(r, 1, &rst)))
        return SIM_ERROR;
    if ((fun != 0 && fun != 1 && fun != 4) || rst < 0 || rst > 1)
        return SIM_ERROR;
    if (rst == 1) {
        sim_dev_reset_when_flushed(s); /* AT+CFUN=1,1: reset (S1 §3) */
        return SIM_OK;
    }
    bool off = fun != 1;
    if (off != s->net.cfun_off) {
        s->net.cfun_off = off;
        /* seed 003 (S7 §4.2): CFUN=0 → "+CPIN: NOT READY", CFUN=1 → "+CPIN: READY",
         * after the OK */
        sim_timer_add(s, 0, cpin_urc, NULL, off, 0);
    }
    return SIM_OK;
}

static const struct sim_cmd cmds[] = {
    {"I", 0, 0, h_ati, NULL},
    {"E", 0, 0, h_e, NULL},
    {"V", 0, 0, h_accept, NULL},
    {"Q", 0, 0, h_accept, NULL},
    {"X", 0, 0, h_accept, NULL},
    {"S", 0, 0, h_accept, NULL},
    {"&C", 0, 0, h_accept, NULL},
    {"&D", 0, 0, h_accept, NULL},
    {"&W", 0, 0, h_accept, NULL},
    {"Z", 0, 0, h_z, NULL},
    {"&F", 0, 0, h_z, NULL},
    {"+CMEE", 0, 0, h_cmee, "+CMEE: (0-2)"},
    {"+CSCS", 0, 0, h_cscs, "+CSCS: (\"IRA\",\"GSM\",\"UCS2\")"},
    {"+IPR", 0, 0, h_ipr, NULL},
    {"+CGMI", 0, 0, h_cgmi, NULL},
    {"+GMI", 0, 0, h_cgmi, NULL},
    {"+CGMM", 0, 0, h_cgmm, NULL},
    {"+GMM", 0, 0, h_cgmm, NULL},
    {"+CGMR", 0, 0, h_cgmr, NULL},
    {"+GMR", 0, 0, h_gmr, NULL},
    {"+CGSN", 0, 0, h_cgsn, NULL},
    {"+GSN", 0, 0, h_cgsn, NULL},
    {"+GCAP", 0, 0, h_gcap, NULL},
    {"+SIMCOMATI", SIM_CAP_SIMCOM, 0, h_simcomati, NULL},
    {"+CIMI", 0, SIM_F_SIM, h_cimi, NULL},
    {"+CICCID", SIM_CAP_SIMCOM, SIM_F_SIM, h_ciccid, NULL},
    {"+CPIN", 0, SIM_F_SIM, h_cpin, NULL},
    {"+CSQ", 0, 0, h_csq, "+CSQ: (0-31,99),(0-7,99)"},
    {"+CREG", 0, 0, h_creg, "+CREG: (0-2)"},
    {"+CGREG", 0, 0, h_cgreg, "+CGREG: (0-2)"},
    {"+CEREG", 0, 0, h_cereg, "+CEREG: (0-2,4)"},
    {"+CRESET", 0, 0, h_creset, NULL},
    {"+CFUN", 0, 0, h_cfun, "+CFUN: (0,1,4),(0-1)"},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_basic = {"basic", cmds, NULL, NULL};
