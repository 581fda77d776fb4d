/*
 * Opening the module for a command: a tty, pty or tcp:HOST:PORT through the posix port,
 * or sim:PROFILE, which starts modemsim on a fresh pty and talks to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "modemkit/modem.h"
#include "modemkit/posix.h"

#define MK_CLI_MAX_URCS 64
#define MK_CLI_SYNC_QUIET_MS 150 /* silence after the sync's OK */

struct mk_cli_dev {
    struct mk_posix_port port;
    struct mk_at_urc urcs[MK_CLI_MAX_URCS];
    struct mk_at_chan chan;
    char line_buf[1200];
    pid_t sim_pid;
    FILE *sim_out;       /* modemsim's stdout (it prints new pty paths after reboots) */
    char sim_dir[64];    /* temp dir holding the simulator's --link symlink */
    char path[512];      /* what was opened */
    bool urcs_live;      /* print URCs: off while syncing (boot URCs are expected then) */
    uint64_t t0_ms;
    struct mk_cli *cli;
};

void mk_cli_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    struct mk_cli_dev *d = user;
    static const char *const tags[] = {">>", "<<", "<~", "--"};
    if (dir == MK_AT_TRACE_NOTE && d->cli->verbose < 2)
        return;
    uint64_t t = mk_posix_now_ms() - d->t0_ms;
    fprintf(stderr, "[%5llu.%03llu] %s ", (unsigned long long)(t / 1000),
            (unsigned long long)(t % 1000), tags[dir]);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r')
            fputs("\\r", stderr);
        else if (c == '\n')
            fputs("\\n", stderr);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputc('\n', stderr);
}

/* Spontaneous result codes: printed apart from command answers (stderr, or a JSON
 * {"urc": ...} line with --json). Commands that handle URCs themselves (own_urcs: mqtt,
 * fota) do not get this table, because the configured table is searched before the ones
 * their drivers add. */
static void mk_cli_print_urc(void *user, const char *line, size_t len)
{
    struct mk_cli_dev *d = user;
    if (!d->urcs_live)
        return;
    if (d->cli->json) {
        char buf[600];
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        printf("{\"urc\":");
        mk_host_json_str(stdout, buf);
        printf("}\n");
        fflush(stdout);
    } else {
        fprintf(stderr, "URC: %.*s\n", (int)len, line);
    }
}

/* Where is modemsim? $MODEMSIM, next to modemctl (installed), the build tree, $PATH. */
static void mk_cli_find_modemsim(char *out, size_t cap)
{
    const char *env = getenv("MODEMSIM");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            static const char *const rel[] = {"/modemsim", "/../../sim/modemsim",
                                              "/../sim/modemsim"};
            for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
                snprintf(out, cap, "%s%s", self, rel[i]);
                if (access(out, X_OK) == 0)
                    return;
            }
        }
    }
    snprintf(out, cap, "modemsim");
}

/*
 * Starts modemsim for profile with a --link symlink in a private temp dir and returns
 * the link's path: the link follows the simulated module across reboots (as a USB
 * module re-enumerates), so commands that reboot the module can reopen it by path.
 */
static enum mk_err mk_cli_start_sim(struct mk_cli_dev *d, const char *profile, char *link,
                                    size_t cap)
{
    char exe[600], pty[256];
    mk_cli_find_modemsim(exe, sizeof exe);
    snprintf(d->sim_dir, sizeof d->sim_dir, "/tmp/modemctl-sim-XXXXXX");
    if (!mkdtemp(d->sim_dir))
        return mk_posix_errno(errno);
    snprintf(link, cap, "%s/tty", d->sim_dir);
    int fds[2];
    if (pipe(fds) != 0)
        return mk_posix_errno(errno);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return mk_posix_errno(errno);
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp(exe, exe, "--profile", profile, "--link", link, "--boot-delay-ms", "0",
               (char *)NULL);
        fprintf(stderr, "modemctl: cannot run %s: %s (set MODEMSIM to its path)\n", exe,
                strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    d->sim_pid = pid;
    FILE *f = fdopen(fds[0], "r");
    if (!f) {
        close(fds[0]);
        return MK_E_IO;
    }
    d->sim_out = f;
    /* modemsim prints the pty path as its first line once the pty and link exist. It
     * prints again only after simulated reboots (a few bytes; the pipe stays open). */
    if (!fgets(pty, (int)sizeof pty, f))
        return MK_E_NOENT;
    return MK_OK;
}

static void mk_cli_stop_sim(struct mk_cli_dev *d)
{
    if (d->sim_pid <= 0)
        return;
    kill(d->sim_pid, SIGTERM);
    int status;
    for (int i = 0; i < 200; i++) {
        if (waitpid(d->sim_pid, &status, WNOHANG) == d->sim_pid) {
            d->sim_pid = 0;
            return;
        }
        mk_posix_sleep_ms(10);
    }
    kill(d->sim_pid, SIGKILL);
    waitpid(d->sim_pid, &status, 0);
    d->sim_pid = 0;
}

static void mk_cli_cleanup_sim(struct mk_cli_dev *d)
{
    mk_cli_stop_sim(d);
    if (d->sim_out) {
        fclose(d->sim_out);
        d->sim_out = NULL;
    }
    if (d->sim_dir[0]) {
        char link[128];
        snprintf(link, sizeof link, "%s/tty", d->sim_dir);
        unlink(link);
        rmdir(d->sim_dir);
        d->sim_dir[0] = '\0';
    }
}

/*
 * Brings the channel to a known state: "AT" until OK (the module may still be booting
 * or a previous program may have left it mid-command), then echo off.
 */
static enum mk_err mk_cli_sync(struct mk_cli_dev *d, uint64_t deadline)
{
    enum mk_err e = MK_E_TIMEOUT;
    while (mk_posix_now_ms() < deadline) {
        e = mk_at_simple(&d->chan, "AT", 700, NULL, 0, NULL);
        if (e == MK_E_HANGUP)
            break;
        if (e != MK_OK)
            continue;
        /* With echo off an "OK" cannot be told from the late answer of a command an
         * earlier program left running (a killed `fota apply` mid-chunk: the module
         * answers that chunk after we started). Only an OK followed by a quiet gap is
         * ours; anything arriving in the gap means answers are shifted: probe again. */
        uint64_t t0 = mk_posix_now_ms();
        e = mk_at_pump(&d->chan, MK_CLI_SYNC_QUIET_MS);
        if (e == MK_E_HANGUP)
            break;
        if (mk_posix_now_ms() - t0 >= MK_CLI_SYNC_QUIET_MS)
            break; /* quiet: synced */
        e = MK_E_TIMEOUT;
    }
    if (e != MK_OK)
        return e;
    return mk_at_simple(&d->chan, "ATE0", 2000, NULL, 0, NULL);
}

enum mk_err mk_cli_device_open_port(struct mk_cli *cli, bool quiet)
{
    struct mk_cli_dev *d = cli->dev;
    enum mk_err e;
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d)
            return MK_E_NOMEM;
        d->cli = cli;
        cli->dev = d;
        d->t0_ms = mk_posix_now_ms();
        d->port.fd = -1;
        char path[512];
        const char *dev = cli->device;
        if (strncmp(dev, "sim:", 4) == 0) {
            e = mk_cli_start_sim(d, dev + 4, path, sizeof path);
            if (e != MK_OK) {
                fprintf(stderr, "modemctl: could not start the simulator for profile '%s' "
                                "(modemsim --list-profiles shows the names)\n", dev + 4);
                return e;
            }
            dev = path;
        }
        snprintf(d->path, sizeof d->path, "%s", dev);
    }
    if (d->port.fd >= 0)
        return MK_OK;
    struct mk_posix_port_cfg pcfg = {.baud = cli->baud};
    e = mk_posix_port_open(&d->port, d->path, &pcfg);
    if (e != MK_OK) {
        if (d->port.msg[0] && !quiet)
            fprintf(stderr, "modemctl: %s\n", d->port.msg);
        return e;
    }
    size_t nurc = 0;
    if (!cli->cmd || !cli->cmd->own_urcs) {
        for (const char *const *p = mk_modem_spontaneous; *p && nurc < MK_CLI_MAX_URCS; p++)
            d->urcs[nurc++] = (struct mk_at_urc){*p, mk_cli_print_urc, d};
    }
    struct mk_at_config acfg = {
        .line_buf = d->line_buf,
        .line_cap = sizeof d->line_buf,
        .urcs = d->urcs,
        .n_urcs = nurc,
        .trace = cli->verbose ? mk_cli_trace : NULL,
        .trace_user = d,
    };
    mk_at_chan_init(&d->chan, &acfg, &d->port.io, mk_posix_clock());
    cli->chan = &d->chan;
    return MK_OK;
}

enum mk_err mk_cli_device_sync(struct mk_cli *cli, uint64_t deadline_ms)
{
    struct mk_cli_dev *d = cli->dev;
    if (!d || d->port.fd < 0)
        return MK_E_STATE;
    d->urcs_live = false;
    enum mk_err e = mk_cli_sync(d, deadline_ms);
    d->urcs_live = true;
    return e;
}

enum mk_err mk_cli_device_open(struct mk_cli *cli)
{
    enum mk_err e = mk_cli_device_open_port(cli, false);
    if (e != MK_OK)
        return e;
    /* A module may take ~20 s to boot (TinyGSM PR #736); --timeout shortens the wait. */
    uint32_t wait_ms = cli->timeout_ms && cli->timeout_ms < 25000 ? cli->timeout_ms : 25000;
    e = mk_cli_device_sync(cli, mk_posix_now_ms() + wait_ms);
    if (e != MK_OK && !cli->quiet_open)
        fprintf(stderr, "modemctl: %s does not answer AT commands (%s); is it the AT port?\n",
                cli->device, mk_strerror(e));
    return e;
}

void mk_cli_device_close(struct mk_cli *cli)
{
    struct mk_cli_dev *d = cli->dev;
    if (!d)
        return;
    mk_posix_port_close(&d->port);
    mk_cli_cleanup_sim(d);
    free(d);
    cli->dev = NULL;
    cli->chan = NULL;
}

enum mk_err mk_cli_device_reopen(struct mk_cli *cli, uint64_t deadline_ms)
{
    struct mk_cli_dev *d = cli->dev;
    if (!d)
        return MK_E_STATE;
    enum mk_err e = mk_posix_port_reopen(&d->port, deadline_ms);
    if (e != MK_OK) {
        if (d->port.msg[0] && cli->verbose)
            fprintf(stderr, "modemctl: %s\n", d->port.msg);
        return e;
    }
    mk_at_chan_set_io(&d->chan, &d->port.io);
    return mk_cli_device_sync(cli, deadline_ms);
}

struct mk_posix_port *mk_cli_port(struct mk_cli *cli)
{
    struct mk_cli_dev *d = cli->dev;
    return d ? &d->port : NULL;
}

const char *mk_cli_device_path(struct mk_cli *cli)
{
    struct mk_cli_dev *d = cli->dev;
    return d ? d->path : NULL;
}

void mk_cli_device_set_path(struct mk_cli *cli, const char *path)
{
    struct mk_cli_dev *d = cli->dev;
    if (d) {
        snprintf(d->path, sizeof d->path, "%s", path);
        snprintf(d->port.device, sizeof d->port.device, "%s", path);
    }
}

void mk_cli_device_rebind(struct mk_cli *cli)
{
    struct mk_cli_dev *d = cli->dev;
    if (d)
        mk_at_chan_set_io(&d->chan, &d->port.io);
}
