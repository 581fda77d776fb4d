/*
 * modemsim: packet-data bearer.
 *   SIM7500/7600 (S1 §4, §8, §11): CGDCONT, CGACT, CGATT, COPS, CPSI, NETOPEN, IPADDR,
 *   NETCLOSE. SIM7000 (S5 §5.2, seed 003): CNACT, CNCFG, CGNAPN.
 * The bearer is always "up" as far as the network goes; these commands keep the state a
 * host can observe and answer in the documented shapes.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define LOCAL_IP "10.184.19.67" /* address the simulated network hands out */

static int h_cgdcont(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        struct sim_buf b = {0};
        for (int cid = 1; cid <= 8; cid++) {
            if (!s->net.pdp_type[cid - 1][0])
                continue;
            sim_buf_printf(&b, "%s+CGDCONT: %d,\"%s\",\"%s\",\"0.0.0.0\",0,0", b.len ? "\r\n" : "",
                           cid, s->net.pdp_type[cid - 1], s->net.apn[cid - 1]);
        }
        if (b.len)
            sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
        sim_buf_free(&b);
        return SIM_OK;
    }
    long cid;
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, &cid) || cid < 1 || cid > 8)
        return SIM_ERROR;
    char *type = s->net.pdp_type[cid - 1], *apn = s->net.apn[cid - 1];
    if (r->nargs == 1) { /* AT+CGDCONT=<cid>: undefine */
        type[0] = apn[0] = '\0';
        return SIM_OK;
    }
    char t[8];
    if (!sim_arg_str(r, 1, t, sizeof t) ||
        (strcmp(t, "IP") && strcmp(t, "IPV6") && strcmp(t, "IPV4V6")))
        return SIM_ERROR;
    if (sim_arg_has(r, 2) && !sim_arg_str(r, 2, apn, sizeof s->net.apn[0]))
        return SIM_ERROR;
    if (!sim_arg_has(r, 2))
        apn[0] = '\0';
    snprintf(type, sizeof s->net.pdp_type[0], "%s", t);
    return SIM_OK;
}

static int h_cgact(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        struct sim_buf b = {0};
        for (int cid = 1; cid <= 8; cid++)
            if (s->net.pdp_type[cid - 1][0])
                sim_buf_printf(&b, "%s+CGACT: %d,%d", b.len ? "\r\n" : "", cid,
                               s->net.pdp_active[cid - 1] ? 1 : 0);
        if (b.len)
            sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
        sim_buf_free(&b);
        return SIM_OK;
    }
    long st, cid = 1;
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, &st) || st < 0 || st > 1 ||
        (sim_arg_has(r, 1) && (!sim_arg_long(r, 1, &cid) || cid < 1 || cid > 8)))
        return SIM_ERROR;
    if (s->net.cfun_off && st == 1)
        return 30; /* no network service */
    s->net.pdp_active[cid - 1] = st == 1;
    if (!s->net.pdp_type[cid - 1][0])
        snprintf(s->net.pdp_type[cid - 1], sizeof s->net.pdp_type[0], "IP");
    return SIM_OK;
}

static int h_cgatt(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ)
        sim_reply(s, "+CGATT: %d", s->net.cfun_off ? 0 : 1);
    return SIM_OK;
}

static int h_cops(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        if (s->net.cfun_off)
            sim_reply(s, "+COPS: 0");
        else
            sim_reply(s, "+COPS: 0,0,\"SIMULATED\",%d",
                      (s->prof->caps & SIM_CAP_CNACT) ? 9 : 7);
    }
    return SIM_OK;
}

static int h_cpsi(struct sim *s, const struct sim_req *r)
{
    if (!s->prof->cpsi || r->type != SIM_REQ_READ)
        return SIM_ERROR;
    if (s->net.cfun_off)
        sim_reply(s, "+CPSI: NO SERVICE,Online"); /* S1 §4.2.14 */
    else
        sim_reply(s, "%s", s->prof->cpsi);
    return SIM_OK;
}

/* ---- SIM7500/7600 TCP/IP service (S1 §11.2) ---- */

static void netopen_done(struct sim *s, void *ctx, int err)
{
    (void)ctx;
    if (err == 0)
        s->net.netopen = true;
}

static void netclose_done(struct sim *s, void *ctx, int err)
{
    (void)ctx;
    (void)err;
    s->net.netopen = false;
}

static int h_netopen(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+NETOPEN: %d", s->net.netopen ? 1 : 0);
        return SIM_OK;
    }
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    if (s->net.netopen) {
        sim_reply(s, "+IP ERROR: Network is already opened");
        return SIM_ERROR;
    }
    int id = sim_async_begin(s, "NETOPEN", netopen_done, NULL);
    int err = s->net.cfun_off ? 1 : 0;
    sim_async_end(s, id, err, "+NETOPEN: %d", err);
    return sim_async_reply(s, id);
}

static int h_ipaddr(struct sim *s, const struct sim_req *r)
{
    (void)r;
    if (!s->net.netopen) {
        sim_reply(s, "+IP ERROR: Network not opened");
        return SIM_ERROR;
    }
    sim_reply(s, "+IPADDR: %s", LOCAL_IP);
    return SIM_OK;
}

static int h_netclose(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    if (!s->net.netopen) {
        /* UNVERIFIED: S1 lists "+NETCLOSE: <err>" forms; we answer like IPADDR does */
        sim_reply(s, "+IP ERROR: Network not opened");
        return SIM_ERROR;
    }
    int id = sim_async_begin(s, "NETCLOSE", netclose_done, NULL);
    sim_async_end(s, id, 0, "+NETCLOSE: 0");
    return sim_async_reply(s, id);
}

/* ---- SIM7000 bearer (S5 §5.2.22/.30/.31; seed 003 = S7 §4) ---- */

static int h_cnact(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        /* seed 003 prints "+CNACT: 0,1,"<ip>"" (the SIM7070 layout); S5 documents
         * "+CNACT: <status>,<ip>". UNVERIFIED which one 1529B04 prints: seed wins. */
        if (s->net.cnact)
            sim_reply(s, "+CNACT: 0,1,\"10.94.36.44\"");
        else
            sim_reply(s, "+CNACT: 0,0,\"0.0.0.0\"");
        return SIM_OK;
    }
    long mode;
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, &mode) || mode < 0 || mode > 2)
        return SIM_ERROR;
    if (sim_arg_has(r, 1) && r->arg[1].quoted) /* AT+CNACT=1,"apn" */
        sim_arg_str(r, 1, s->net.cncfg_apn, sizeof s->net.cncfg_apn);
    bool on = mode != 0;
    if (on && s->net.cnact)
        return SIM_ERROR; /* UNVERIFIED: already active */
    if (on && s->net.cfun_off)
        return SIM_ERROR;
    s->net.cnact = on;
    int id = sim_async_begin(s, "CNACT", NULL, NULL);
    sim_async_end(s, id, 0, on ? "+APP PDP: ACTIVE" : "+APP PDP: DEACTIVE");
    return sim_async_reply(s, id);
}

static int h_cncfg(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+CNCFG: 1,\"%s\",\"\",\"\",0", s->net.cncfg_apn); /* UNVERIFIED */
        return SIM_OK;
    }
    long type;
    if (r->type != SIM_REQ_SET || !sim_arg_long(r, 0, &type) || type < 0 || type > 2)
        return SIM_ERROR;
    if (sim_arg_has(r, 1) && !sim_arg_str(r, 1, s->net.cncfg_apn, sizeof s->net.cncfg_apn))
        return SIM_ERROR;
    return SIM_OK;
}

static int h_cgnapn(struct sim *s, const struct sim_req *r)
{
    (void)r;
    /* The APN the network delivered at attach (seed 003: '+CGNAPN: 1,"ctnb"'). */
    sim_reply(s, "+CGNAPN: 1,\"%s\"", s->net.apn[0][0] ? s->net.apn[0] : "iot.sim");
    return SIM_OK;
}

static void power_on(struct sim *s)
{
    memset(&s->net, 0, sizeof s->net);
    snprintf(s->net.cscs, sizeof s->net.cscs, "IRA");
    /* an LTE module registers and gets its default bearer (cid 1) by itself */
    snprintf(s->net.pdp_type[0], sizeof s->net.pdp_type[0], "IP");
    s->net.pdp_active[0] = true;
}

static const struct sim_cmd cmds[] = {
    {"+CGDCONT", 0, 0, h_cgdcont,
     "+CGDCONT: (1-24),\"IP\",,,(0-2),(0-4)\r\n+CGDCONT: (1-24),\"IPV6\",,,(0-2),(0-4)\r\n"
     "+CGDCONT: (1-24),\"IPV4V6\",,,(0-2),(0-4)"},
    {"+CGACT", 0, SIM_F_SIM, h_cgact, "+CGACT: (0,1)"},
    {"+CGATT", 0, 0, h_cgatt, "+CGATT: (0,1)"},
    {"+COPS", 0, 0, h_cops, NULL},
    {"+CPSI", 0, 0, h_cpsi, "+CPSI: (0-255)"},
    {"+NETOPEN", SIM_CAP_NETOPEN, SIM_F_SIM, h_netopen, NULL},
    {"+IPADDR", SIM_CAP_NETOPEN, 0, h_ipaddr, NULL},
    {"+NETCLOSE", SIM_CAP_NETOPEN, 0, h_netclose, NULL},
    {"+CNACT", SIM_CAP_CNACT, SIM_F_SIM, h_cnact, "+CNACT: (0-2),\"apn\""},
    {"+CNCFG", SIM_CAP_CNACT, 0, h_cncfg, NULL},
    {"+CGNAPN", SIM_CAP_CNACT, 0, h_cgnapn, NULL},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_net = {"net", cmds, power_on, NULL};
