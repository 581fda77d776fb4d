/*
 * modemsim: a cellular-module simulator on a pty, with a real MQTT broker behind it.
 * Options, --help, and the single-threaded poll loop (pty master + broker sockets +
 * timers; no busy waiting: ppoll sleeps until the next fd event or deadline).
 */
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static volatile sig_atomic_t g_term, g_usr1, g_usr2;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        g_usr1 = 1;
    else if (sig == SIGUSR2)
        g_usr2 = 1;
    else
        g_term = 1;
}

static void usage(FILE *f)
{
    fputs(
        "Usage: modemsim --profile NAME [options]\n"
        "       modemsim --list-profiles | --help\n"
        "\n"
        "Simulates a cellular module on a pseudo-terminal. Prints the pty path on stdout\n"
        "(one line, again after every re-enumeration) and runs until SIGTERM/SIGINT.\n"
        "Its MQTT client really connects (libmosquitto) to a broker on 127.0.0.1.\n"
        "\n"
        "Module\n"
        "  --profile NAME          module + firmware (see --list-profiles); NAME may also be\n"
        "                          the firmware revision, e.g. LE11B01SIM7600M21-A\n"
        "  --state DIR             keep the module's flash (certificates, files, firmware\n"
        "                          revision) in DIR across reboots and restarts\n"
        "  --list-profiles         print the profiles and their identity strings\n"
        "\n"
        "Port\n"
        "  --link PATH             keep PATH a symlink to the current pty (re-pointed\n"
        "                          atomically when the module re-enumerates); removed at exit\n"
        "  --baud N                pace both directions at N bit/s (10 bits per byte)\n"
        "  --max-write N           replies go out in random chunks of 1..N bytes (default 64)\n"
        "\n"
        "Timing\n"
        "  --boot-delay-ms N       silence after the pty appears, before RDY (default 500)\n"
        "  --reenum-delay-ms N     time without a pty after a reset (default 200)\n"
        "  --sim-delay-ms N        gap between boot URCs; SIM commands answer\n"
        "                          \"+CME ERROR: SIM busy\" until +CPIN: READY (default 100)\n"
        "  --urc-delay-ms N        delay of completion URCs after their event (default 0)\n"
        "  --urc-order MODE        before|after|random: completion URC relative to the\n"
        "                          command's OK, for every operation (replaces the profile's\n"
        "                          defaults; SIM7600 profiles put +CMQTTSTART before OK)\n"
        "  --urc-order NAME=MODE   the same for one completion (START, STOP, CONNECT, DISC,\n"
        "                          PUB, SUB, UNSUB, NETOPEN, NETCLOSE, CNACT); repeatable\n"
        "\n"
        "Behaviours no public source settles (UNVERIFIED, see sim/README.md)\n"
        "  --prompt-echo on|off    echo the data typed after \">\" while ATE1 (default on,\n"
        "                          as seed 001's log shows)\n"
        "  --prompt-space          prompt is \"> \" instead of \">\"\n"
        "  --prompt-timeout-ms N   answer ERROR if the \">\" data is incomplete after N ms\n"
        "                          (default 30000; 0 = wait forever)\n"
        "  --busy-on-puback on|off client busy (error 14) while a QoS>0 PUB waits for its\n"
        "                          PUBACK/PUBCOMP (default on)\n"
        "  --before-fail ok|error  final result after a completion URC with err != 0 when\n"
        "                          the order is \"before\" (default error)\n"
        "  --rx-chunk N            max bytes per +CMQTTRXPAYLOAD chunk (default 1500, S1)\n"
        "  --cmee N                AT+CMEE value after boot (default 2)\n"
        "\n"
        "Files and firmware update (SIM7000 CFS*/CFOTA, SIM7600 FS*/CFTRANRX/CDELTA)\n"
        "  --fs-size N             bytes of the file system deltas go to (SIM7000 CFS,\n"
        "                          SIM7600 F:), for free-space answers (default 8 MiB)\n"
        "  --fota-time-ms N        how long the module takes to apply a delta (default 2000)\n"
        "  --make-delta ...        write a simulated delta file and exit (--make-delta\n"
        "                          --help for its options)\n"
        "\n"
        "Test bench\n"
        "  --control PATH          create a FIFO at PATH that acts on the module's hardware:\n"
        "                          power-cycle [OFF_MS] | power-off | power-on | tp1 on|off |\n"
        "                          cut | drop-broker (one command per line). With tp1 on,\n"
        "                          power-on boots download mode (RC76xx TP1, seed 004)\n"
        "  --ctl PATH LINE...      send LINE to the simulator listening on PATH and exit,\n"
        "                          e.g. as a hard power-cycle command:\n"
        "                          modemsim --ctl /tmp/sim.ctl power-cycle\n"
        "\n"
        "Download mode (AT!BOOTHOLD, TP1 held at power-on, or a half-written flash)\n"
        "  --download-mode KIND    sahara: Sierra boot-and-hold, Sahara then Firehose taking\n"
        "                          CWE/SPK/NVU images (default for Sierra profiles);\n"
        "                          edl: Qualcomm PBL 05c6:9008 style, a signed programmer\n"
        "                          then rawprogram/patch (default for the others);\n"
        "                          qdl: Sierra QDL, 9x30 style\n"
        "  --dl-max-payload N      Firehose MaxPayloadSizeToTargetInBytes (default 16384)\n"
        "  --hello-lost-ms N       the one-shot HELLO is lost when the host has not read it\n"
        "                          N ms after the port appeared (default 1000; 0 = kept)\n"
        "  --dl-final-ms N         time to write an image before its final ACK (default 0)\n"
        "\n"
        "Faults and repeatability\n"
        "  --fault SPEC            inject faults (grammar below)\n"
        "  --seed N                seed of every random choice (default 1)\n"
        "  -v, --verbose           log traffic and decisions on stderr\n"
        "\n",
        f);
    fputs(sim_fault_help, f);
}

static void list_profiles(void)
{
    for (size_t i = 0; sim_profile_at(i); i++) {
        const struct sim_profile *p = sim_profile_at(i);
        printf("%-12s %s\n", p->name, p->summary);
        printf("             CGMI: %s | CGMM: %s | CGMR: %s | IMEI: %s\n", p->manufacturer,
               p->model, p->revision, p->imei);
    }
}

static bool parse_int(const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_onoff(const char *arg, bool *out)
{
    if (strcmp(arg, "on") == 0 || strcmp(arg, "1") == 0 || strcmp(arg, "yes") == 0)
        *out = true;
    else if (strcmp(arg, "off") == 0 || strcmp(arg, "0") == 0 || strcmp(arg, "no") == 0)
        *out = false;
    else
        return false;
    return true;
}

static bool parse_order(const char *arg, enum sim_order *o)
{
    if (strcasecmp(arg, "before") == 0)
        *o = SIM_ORDER_BEFORE;
    else if (strcasecmp(arg, "after") == 0)
        *o = SIM_ORDER_AFTER;
    else if (strcasecmp(arg, "random") == 0)
        *o = SIM_ORDER_RANDOM;
    else
        return false;
    return true;
}

enum {
    O_PROFILE = 256, O_LINK, O_BAUD, O_STATE, O_FAULT, O_SEED, O_BOOT, O_REENUM, O_SIMDELAY,
    O_URCDELAY, O_URCORDER, O_PECHO, O_PSPACE, O_PTIMEOUT, O_BUSYPUB, O_BEFOREFAIL, O_RXCHUNK,
    O_MAXWRITE, O_CMEE, O_LIST, O_HELP, O_CONTROL, O_DLMODE, O_DLPAYLOAD, O_HELLOLOST,
    O_DLFINAL,
    O_FSSIZE, O_FOTATIME,
};

static const struct option long_opts[] = {
    {"profile", required_argument, NULL, O_PROFILE},
    {"link", required_argument, NULL, O_LINK},
    {"baud", required_argument, NULL, O_BAUD},
    {"state", required_argument, NULL, O_STATE},
    {"fault", required_argument, NULL, O_FAULT},
    {"seed", required_argument, NULL, O_SEED},
    {"boot-delay-ms", required_argument, NULL, O_BOOT},
    {"reenum-delay-ms", required_argument, NULL, O_REENUM},
    {"sim-delay-ms", required_argument, NULL, O_SIMDELAY},
    {"urc-delay-ms", required_argument, NULL, O_URCDELAY},
    {"urc-order", required_argument, NULL, O_URCORDER},
    {"prompt-echo", required_argument, NULL, O_PECHO},
    {"prompt-space", no_argument, NULL, O_PSPACE},
    {"prompt-timeout-ms", required_argument, NULL, O_PTIMEOUT},
    {"busy-on-puback", required_argument, NULL, O_BUSYPUB},
    {"before-fail", required_argument, NULL, O_BEFOREFAIL},
    {"rx-chunk", required_argument, NULL, O_RXCHUNK},
    {"max-write", required_argument, NULL, O_MAXWRITE},
    {"cmee", required_argument, NULL, O_CMEE},
    {"list-profiles", no_argument, NULL, O_LIST},
    {"control", required_argument, NULL, O_CONTROL},
    {"download-mode", required_argument, NULL, O_DLMODE},
    {"dl-max-payload", required_argument, NULL, O_DLPAYLOAD},
    {"hello-lost-ms", required_argument, NULL, O_HELLOLOST},
    {"dl-final-ms", required_argument, NULL, O_DLFINAL},
    {"fs-size", required_argument, NULL, O_FSSIZE},
    {"fota-time-ms", required_argument, NULL, O_FOTATIME},
    {"help", no_argument, NULL, O_HELP},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

static int parse_options(struct sim_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->boot_delay_ms = 500;
    o->reenum_delay_ms = 200;
    o->sim_delay_ms = 100;
    o->urc_order = SIM_ORDER_AFTER;
    o->prompt_echo = true;
    o->prompt_timeout_ms = 30000;
    o->busy_on_puback = true;
    o->before_fail_error = true;
    o->rx_chunk = 1500;
    o->max_write = 64;
    o->cmee_default = 2;
    o->dl_kind = -1;
    o->dl_max_payload = 16384;
    o->hello_lost_ms = 1000;
    o->fs_size = 8L << 20;
    o->fota_time_ms = 2000;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "v", long_opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case O_PROFILE: o->profile = optarg; break;
        case O_LINK: o->link = optarg; break;
        case O_STATE: o->state_dir = optarg; break;
        case O_FAULT: o->fault_spec = optarg; break;
        case O_BAUD:
            ok = parse_int(optarg, 50, 100000000, &v);
            o->baud = (unsigned)v;
            break;
        case O_SEED: {
            char *end;
            o->seed = strtoull(optarg, &end, 0);
            ok = end != optarg && !*end;
            break;
        }
        case O_BOOT:
            ok = parse_int(optarg, 0, 600000, &v);
            o->boot_delay_ms = (int)v;
            break;
        case O_REENUM:
            ok = parse_int(optarg, 0, 600000, &v);
            o->reenum_delay_ms = (int)v;
            break;
        case O_SIMDELAY:
            ok = parse_int(optarg, 0, 600000, &v);
            o->sim_delay_ms = (int)v;
            break;
        case O_URCDELAY:
            ok = parse_int(optarg, 0, 600000, &v);
            o->urc_delay_ms = (int)v;
            break;
        case O_URCORDER: {
            const char *eq = strchr(optarg, '=');
            if (!eq) {
                ok = parse_order(optarg, &o->urc_order);
                o->urc_order_given = true;
            } else if (o->n_order_over < SIM_MAX_ORDER_OVERRIDES &&
                       (size_t)(eq - optarg) < sizeof o->order_over[0].name && eq > optarg) {
                int i = o->n_order_over++;
                snprintf(o->order_over[i].name, sizeof o->order_over[i].name, "%.*s",
                         (int)(eq - optarg), optarg);
                ok = parse_order(eq + 1, &o->order_over[i].order);
            } else {
                ok = false;
            }
            break;
        }
        case O_PECHO: ok = parse_onoff(optarg, &o->prompt_echo); break;
        case O_PSPACE: o->prompt_space = true; break;
        case O_PTIMEOUT:
            ok = parse_int(optarg, 0, 3600000, &v);
            o->prompt_timeout_ms = (int)v;
            break;
        case O_BUSYPUB: ok = parse_onoff(optarg, &o->busy_on_puback); break;
        case O_BEFOREFAIL:
            ok = strcmp(optarg, "ok") == 0 || strcmp(optarg, "error") == 0;
            o->before_fail_error = strcmp(optarg, "error") == 0;
            break;
        case O_RXCHUNK:
            ok = parse_int(optarg, 1, 65535, &v);
            o->rx_chunk = (int)v;
            break;
        case O_MAXWRITE:
            ok = parse_int(optarg, 1, 65536, &v);
            o->max_write = (int)v;
            break;
        case O_CMEE:
            ok = parse_int(optarg, 0, 2, &v);
            o->cmee_default = (int)v;
            break;
        case O_CONTROL: o->control = optarg; break;
        case O_DLMODE: ok = sim_dl_parse_kind(optarg, &o->dl_kind); break;
        case O_DLPAYLOAD:
            ok = parse_int(optarg, 512, 64 << 20, &v);
            o->dl_max_payload = (unsigned)v;
            break;
        case O_HELLOLOST:
            ok = parse_int(optarg, 0, 600000, &v);
            o->hello_lost_ms = (int)v;
            break;
        case O_DLFINAL:
            ok = parse_int(optarg, 0, 600000, &v);
            o->dl_final_ms = (int)v;
            break;
        case O_FSSIZE: ok = parse_int(optarg, 1024, 1L << 40, &o->fs_size); break;
        case O_FOTATIME:
            ok = parse_int(optarg, 0, 3600000, &v);
            o->fota_time_ms = (int)v;
            break;
        case O_LIST: list_profiles(); exit(0);
        case O_HELP: usage(stdout); exit(0);
        case 'v': o->verbose = true; break;
        default: usage(stderr); return -1;
        }
        if (!ok) {
            sim_warn("bad value for option: %s", optarg ? optarg : "");
            return -1;
        }
    }
    if (optind < argc) {
        sim_warn("unexpected argument: %s", argv[optind]);
        return -1;
    }
    if (!o->profile) {
        sim_warn("--profile is required (see --list-profiles)");
        return -1;
    }
    return 0;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void run(struct sim *s)
{
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &orig); /* signals only interrupt ppoll */

    enum { MAXFD = 17 };
    struct pollfd pfds[MAXFD];
    while (!g_term) {
        if (g_usr1) {
            g_usr1 = 0;
            sim_mqtt_drop_all(s);
        }
        if (g_usr2) {
            g_usr2 = 0;
            if (s->power != SIM_POWER_OFF)
                sim_dev_reset(s, true);
        }
        int64_t now = sim_now_us();
        sim_timer_run(s, now);
        sim_dev_tick(s, now);
        sim_dev_output(s, now);

        int n = 0, pty = -1;
        if (s->mfd >= 0) {
            pty = n++;
            pfds[pty].fd = s->mfd;
            pfds[pty].events = 0;
            pfds[pty].revents = 0;
            if (sim_dev_want_read(s, now))
                pfds[pty].events |= POLLIN;
            if (sim_dev_want_write(s, now))
                pfds[pty].events |= POLLOUT;
        }
        int ctl = -1;
        if (s->ctl_fd >= 0) {
            ctl = n++;
            pfds[ctl].fd = s->ctl_fd;
            pfds[ctl].events = POLLIN;
            pfds[ctl].revents = 0;
        }
        int nm = sim_mqtt_pollfds(s, &pfds[n], MAXFD - n);
        int first_mqtt = n;
        n += nm;

        int64_t deadline = min64(sim_timer_next_us(s), sim_dev_next_us(s, now));
        if (sim_mqtt_events_pending(s))
            deadline = now;
        else if (sim_mqtt_any(s))
            deadline = min64(deadline, now + 500000); /* keepalive bookkeeping */
        struct timespec ts, *tsp = NULL;
        if (deadline != INT64_MAX) {
            int64_t wait = deadline > now ? deadline - now : 0;
            ts.tv_sec = (time_t)(wait / 1000000);
            ts.tv_nsec = (long)(wait % 1000000) * 1000;
            tsp = &ts;
        }
        int rc = ppoll(pfds, (nfds_t)n, tsp, &orig);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            sim_warn("poll: %s", strerror(errno));
            break;
        }
        if (pty >= 0 && (pfds[pty].revents & POLLIN) && s->mfd >= 0)
            sim_dev_input(s);
        if (ctl >= 0 && (pfds[ctl].revents & POLLIN))
            sim_control_input(s);
        sim_mqtt_dispatch(s, &pfds[first_mqtt], nm);
    }
    sigprocmask(SIG_SETMASK, &orig, NULL);
}

int main(int argc, char **argv)
{
    static struct sim sim; /* large: keep it off the stack */
    struct sim *s = &sim;
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("modemsim %s\n", MODEMKIT_VERSION);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--make-delta") == 0)
        return sim_fota_make_delta(argc - 1, argv + 1);
    if (argc >= 3 && strcmp(argv[1], "--ctl") == 0)
        return argc >= 4 ? sim_control_send(argv[2], argc - 3, argv + 3)
                         : (sim_warn("--ctl PATH LINE..."), 2);
    if (parse_options(&s->opt, argc, argv) != 0)
        return 2;
    s->prof = s->base_prof = sim_profile_find(s->opt.profile);
    if (!s->prof) {
        sim_warn("unknown profile \"%s\" (see --list-profiles)", s->opt.profile);
        return 2;
    }
    char err[160];
    if (sim_fault_parse(&s->faults, s->opt.fault_spec, err, sizeof err) != 0) {
        sim_warn("--fault: %s", err);
        return 2;
    }
    if (sim_flash_open(s, s->opt.state_dir) != 0)
        return 1;
    sim_rng_seed(&s->rng_order, s->opt.seed, 1);
    sim_rng_seed(&s->rng_chunk, s->opt.seed, 2);
    sim_rng_seed(&s->rng_rx, s->opt.seed, 3);
    sim_rng_seed(&s->rng_tx, s->opt.seed, 4);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    sim_log(s, "profile %s, seed %llu", s->prof->name, (unsigned long long)s->opt.seed);
    if (sim_control_open(s) != 0)
        return 1;
    sim_fault_start(s); /* before the first boot: the boot-loop fault applies to it */
    sim_dev_start(s);
    if (s->mfd < 0)
        return 1;
    run(s);

    sim_modules_power(s, false);
    sim_at_power_off(s);
    sim_mqtt_shutdown(s);
    sim_dev_shutdown(s);
    sim_control_close(s);
    sim_timer_cancel_all(s, false);
    sim_buf_free(&s->out);
    sim_flash_close(s);
    return 0;
}
