/*
 * modemsim --fault SPEC: fault injection. Every random decision comes from a PRNG stream
 * seeded by --seed, so a failing run can be repeated exactly.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char sim_fault_help[] =
    "Fault SPEC: comma-separated items, ITEM := KIND[=ARGS][@WHEN]\n"
    "  drop=RATE[/rx|/tx]     drop each byte with probability RATE (0..1); both\n"
    "                         directions unless /rx (host->module) or /tx is given\n"
    "  corrupt=RATE[/rx|/tx]  flip one random bit of each byte with probability RATE\n"
    "  urc-delay=NAME/MS      delay completion URC NAME by MS more than --urc-delay-ms\n"
    "  urc-drop=NAME[/N]      never emit the N-th completion URC NAME (every one if no N);\n"
    "                         the operation still completes inside the module\n"
    "                         NAME: START STOP CONNECT DISC PUB SUB UNSUB NETOPEN NETCLOSE\n"
    "  broker-drop@WHEN       drop every broker connection (+CMQTTCONNLOST: <idx>,1)\n"
    "  power-cut@WHEN         power loss: the pty vanishes, RAM is lost, flash is kept\n"
    "                         as last persisted, the module boots again\n"
    "  nonet@WHEN             network lost: +CMQTTNONET, MQTT service stopped\n"
    "  ping[=ERR]@WHEN        +CMQTTPING: <idx>,ERR for each connected client (ERR 1)\n"
    "  bootloop[=UP/DOWN]     the AT firmware crashes UP ms after every boot and stays\n"
    "                         off DOWN ms (default 2000/10000, seed 004), silent meanwhile;\n"
    "                         only download mode (TP1) and a good image cure it\n"
    "  bootloop-after-update[=MS]  after a successful firmware update the module resets\n"
    "                         every MS ms (default 1500) without answering AT, until a\n"
    "                         hard power cycle (--control power-cycle); seed 002\n"
    "  WHEN := stepN          when the N-th AT command line arrives (1 = first),\n"
    "                         before it is executed\n"
    "        | pktN           when the N-th host packet arrives in download mode (Sahara\n"
    "                         packet, Firehose command, QDL frame, or one max-payload\n"
    "                         block of data), counted since start: power-cut@pkt12\n"
    "        | Nms | Ns       N milliseconds / seconds after the simulator started\n"
    "        | conn+Nms | conn+Ns  after the first broker connection came up\n"
    "        | dataN      when the N-th byte of file data (AT+CFSWFILE, AT+CFTRANRX)\n"
    "                     arrives, in the middle of a chunk\n"
    "        | updateN    when the module's firmware update reaches N percent\n"
    "  Signals do the same on demand: SIGUSR1 = broker-drop, SIGUSR2 = power-cut.\n"
    "  Example: --fault drop=0.001/rx,urc-delay=CONNECT/3000,power-cut@step12\n";

static bool parse_num(const char *p, double *out)
{
    char *end;
    double v = strtod(p, &end);
    if (end == p || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_long(const char *p, long *out)
{
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || *end || v < 0)
        return false;
    *out = v;
    return true;
}

/* "123ms" / "2s" → ms */
static bool parse_time_ms(const char *p, long *ms)
{
    char *end;
    double v = strtod(p, &end);
    if (end == p || v < 0)
        return false;
    if (strcmp(end, "ms") == 0)
        *ms = (long)v;
    else if (strcmp(end, "s") == 0)
        *ms = (long)(v * 1000.0);
    else
        return false;
    return true;
}

static bool parse_when(struct sim_fault *f, const char *w)
{
    if (strncmp(w, "pkt", 3) == 0) {
        f->trig = SIM_TRIG_PACKET;
        return parse_long(w + 3, &f->at) && f->at >= 1;
    }
    if (strncmp(w, "step", 4) == 0) {
        f->trig = SIM_TRIG_STEP;
        return parse_long(w + 4, &f->at) && f->at >= 1;
    }
    if (strncmp(w, "data", 4) == 0) {
        f->trig = SIM_TRIG_DATA;
        return parse_long(w + 4, &f->at) && f->at >= 1;
    }
    if (strncmp(w, "update", 6) == 0) {
        f->trig = SIM_TRIG_UPDATE;
        return parse_long(w + 6, &f->at) && f->at <= 100;
    }
    if (strncmp(w, "conn+", 5) == 0) {
        f->trig = SIM_TRIG_CONNECTED;
        return parse_time_ms(w + 5, &f->at);
    }
    f->trig = SIM_TRIG_TIME;
    return parse_time_ms(w, &f->at);
}

static void upcase(char *p)
{
    for (; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
}

static bool parse_item(struct sim_faults *fs, char *item, char *err, size_t errcap)
{
    char *when = strchr(item, '@');
    if (when)
        *when++ = '\0';
    char *args = strchr(item, '=');
    if (args)
        *args++ = '\0';
    if (fs->n >= SIM_MAX_FAULTS) {
        snprintf(err, errcap, "too many fault items");
        return false;
    }
    struct sim_fault *f = &fs->f[fs->n];
    memset(f, 0, sizeof *f);

    if (strcmp(item, "drop") == 0 || strcmp(item, "corrupt") == 0) {
        bool drop = item[0] == 'd';
        if (!args || when)
            goto bad;
        char *dir = strchr(args, '/');
        if (dir)
            *dir++ = '\0';
        double rate;
        if (!parse_num(args, &rate) || rate < 0 || rate > 1)
            goto bad;
        bool rx = !dir || strcmp(dir, "rx") == 0, tx = !dir || strcmp(dir, "tx") == 0;
        if (!rx && !tx)
            goto bad;
        if (rx)
            *(drop ? &fs->drop_rx : &fs->corrupt_rx) = rate;
        if (tx)
            *(drop ? &fs->drop_tx : &fs->corrupt_tx) = rate;
        return true; /* byte faults are not items */
    }
    if (strcmp(item, "urc-delay") == 0 || strcmp(item, "urc-drop") == 0) {
        bool delay = item[4] == 'd' && item[5] == 'e';
        if (!args || when)
            goto bad;
        char *n = strchr(args, '/');
        if (n)
            *n++ = '\0';
        if (strlen(args) == 0 || strlen(args) >= sizeof f->name)
            goto bad;
        snprintf(f->name, sizeof f->name, "%s", args);
        upcase(f->name);
        f->kind = delay ? SIM_FAULT_URC_DELAY : SIM_FAULT_URC_DROP;
        if (delay && (!n || !parse_long(n, &f->value)))
            goto bad;
        if (!delay && n && (!parse_long(n, &f->value) || f->value < 1))
            goto bad;
        fs->n++;
        return true;
    }
    if (strcmp(item, "bootloop") == 0) {
        f->kind = SIM_FAULT_BOOTLOOP;
        f->value = 2000;
        f->value2 = 10000;
        if (when)
            goto bad;
        if (args) {
            char *down = strchr(args, '/');
            if (!down)
                goto bad;
            *down++ = '\0';
            if (!parse_long(args, &f->value) || !parse_long(down, &f->value2) || f->value < 1)
                goto bad;
        }
        fs->n++;
        return true;
    }
    if (strcmp(item, "bootloop-after-update") == 0) {
        f->kind = SIM_FAULT_BOOTLOOP_UPDATE;
        f->value = 1500;
        if (when || (args && (!parse_long(args, &f->value) || f->value < 1)))
            goto bad;
        fs->n++;
        return true;
    }
    if (strcmp(item, "broker-drop") == 0)
        f->kind = SIM_FAULT_BROKER_DROP;
    else if (strcmp(item, "power-cut") == 0)
        f->kind = SIM_FAULT_POWER_CUT;
    else if (strcmp(item, "nonet") == 0)
        f->kind = SIM_FAULT_NONET;
    else if (strcmp(item, "ping") == 0)
        f->kind = SIM_FAULT_PING;
    else {
        snprintf(err, errcap, "unknown fault \"%s\"", item);
        return false;
    }
    f->value = 1;
    if (args && (f->kind != SIM_FAULT_PING || !parse_long(args, &f->value)))
        goto bad;
    if (!when || !parse_when(f, when))
        goto bad;
    fs->n++;
    return true;
bad:
    snprintf(err, errcap, "bad fault item \"%s\" (see --help)", item);
    return false;
}

int sim_fault_parse(struct sim_faults *fs, const char *spec, char *err, size_t errcap)
{
    memset(fs, 0, sizeof *fs);
    if (!spec || !*spec)
        return 0;
    char *copy = sim_xstrdup(spec);
    int rc = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (!parse_item(fs, item, err, errcap)) {
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

void sim_fault_fire(struct sim *s, struct sim_fault *f)
{
    sim_log(s, "fault fires: kind %d", (int)f->kind);
    switch (f->kind) {
    case SIM_FAULT_BROKER_DROP:
        sim_mqtt_drop_all(s);
        break;
    case SIM_FAULT_POWER_CUT:
        sim_dev_reset(s, true);
        break;
    case SIM_FAULT_NONET:
        sim_cmqtt_nonet(s);
        break;
    case SIM_FAULT_PING:
        sim_cmqtt_ping(s, (int)f->value);
        break;
    default:
        break;
    }
}

static void fault_timer(struct sim *s, void *ctx, intptr_t arg)
{
    (void)arg;
    struct sim_fault *f = ctx;
    if (!f->fired) {
        f->fired = true;
        sim_fault_fire(s, f);
    }
}

void sim_fault_start(struct sim *s)
{
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->kind == SIM_FAULT_BOOTLOOP) {
            s->bootloop = true;
            s->bootloop_up_ms = (int)f->value;
            s->bootloop_down_ms = (int)f->value2;
        }
        if (f->trig == SIM_TRIG_TIME)
            sim_timer_add(s, f->at, fault_timer, f, 0, SIM_TIMER_KEEP);
    }
}

void sim_fault_connected(struct sim *s)
{
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->trig == SIM_TRIG_CONNECTED && !f->fired && f->seen == 0) {
            f->seen = 1; /* armed */
            sim_timer_add(s, f->at, fault_timer, f, 0, SIM_TIMER_KEEP);
        }
    }
}

bool sim_fault_step(struct sim *s, long step)
{
    bool cut = false;
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->trig == SIM_TRIG_STEP && !f->fired && f->at == step) {
            f->fired = true;
            cut |= f->kind == SIM_FAULT_POWER_CUT;
            sim_fault_fire(s, f);
        }
    }
    return cut;
}

/* Triggers counted by the FOTA features (cmd_fs.c, cmd_fota.c): the first item of kind
 * trig whose threshold is reached fires. */
static bool sim_fault_reach(struct sim *s, enum sim_trigger trig, long value)
{
    bool cut = false;
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->trig == trig && !f->fired && value >= f->at) {
            f->fired = true;
            cut |= f->kind == SIM_FAULT_POWER_CUT;
            sim_fault_fire(s, f);
        }
    }
    return cut;
}

bool sim_fault_data(struct sim *s, long total_bytes)
{
    return sim_fault_reach(s, SIM_TRIG_DATA, total_bytes);
}

bool sim_fault_update(struct sim *s, long percent)
{
    return sim_fault_reach(s, SIM_TRIG_UPDATE, percent);
}

long sim_fault_bootloop_ms(struct sim *s)
{
    for (int i = 0; i < s->faults.n; i++)
        if (s->faults.f[i].kind == SIM_FAULT_BOOTLOOP_UPDATE)
            return s->faults.f[i].value;
    return 0;
}

long sim_fault_urc_delay_ms(struct sim *s, const char *name)
{
    long ms = 0;
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->kind == SIM_FAULT_URC_DELAY && strcasecmp(f->name, name) == 0)
            ms += f->value;
    }
    return ms;
}

bool sim_fault_urc_drop(struct sim *s, const char *name)
{
    bool drop = false;
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->kind == SIM_FAULT_URC_DROP && strcasecmp(f->name, name) == 0) {
            f->seen++;
            if (f->value == 0 || f->seen == f->value)
                drop = true;
        }
    }
    return drop;
}
