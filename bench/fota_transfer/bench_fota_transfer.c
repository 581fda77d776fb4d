/*
 * How close does a delta transfer come to the serial line rate?
 *
 * Pushes a delta (default 1 MiB) to modemsim, paced at --baud (10 bits per byte, both
 * directions), with the FOTA methods' own write operations: SIM7000 AT+CFSWFILE chunks of
 * 10240 bytes (the command's maximum, S5 §15) and SIM7600 AT+CFTRANRX chunks of 32768
 * bytes. Prints the effective rate as a fraction of the line rate and what the rest is:
 * the command line and the module's answers (bytes that are not delta), and the turnaround
 * (the host waits for DOWNLOAD / ">" before the data and for OK before the next command).
 *
 *   bench_fota_transfer [--size BYTES] [--baud N]... [--method cfota|cdelta]...
 * Default: 1 MiB at 115200 and 921600 baud, both methods (about 3.5 minutes).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "modemkit/at.h"
#include "modemkit/posix.h"
#include "modemkit/simcom_fota.h"
#include "modemkit/simcom_fs.h"

#ifndef MK_MODEMSIM_PATH
#define MK_MODEMSIM_PATH "modemsim"
#endif

struct sim {
    pid_t pid;
    char dir[64], link[96];
};

static int sim_start(struct sim *s, const char *profile, unsigned baud)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/bench-fota-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->link, sizeof s->link, "%s/tty", s->dir);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    char rate[16];
    snprintf(rate, sizeof rate, "%u", baud);
    s->pid = fork();
    if (s->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(MK_MODEMSIM_PATH, "modemsim", "--profile", profile, "--link", s->link, "--baud", rate,
              "--boot-delay-ms", "0", "--sim-delay-ms", "0", "--fs-size", "16777216", "--max-write",
              "4096", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[256];
    FILE *f = fdopen(fds[0], "r");
    int ok = f && fgets(line, sizeof line, f) != NULL;
    /* keep the pipe open (modemsim prints again after resets); closed at exit */
    return ok ? 0 : -1;
}

static void sim_stop(struct sim *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    rmdir(s->dir);
}

/* Per-chunk timing from the AT engine's trace: command written, prompt seen, done. */
struct timing {
    double t_cmd, t_prompt, turn, data;
    int n;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    struct timing *t = user;
    if (dir == MK_AT_TRACE_TX && len > 3 && memcmp(text, "AT+", 3) == 0) {
        t->t_cmd = now_s();
        t->t_prompt = 0;
    } else if (dir == MK_AT_TRACE_NOTE && len == 6 && memcmp(text, "prompt", 6) == 0) {
        t->t_prompt = now_s();
        t->turn += t->t_prompt - t->t_cmd;
    } else if (dir == MK_AT_TRACE_NOTE && len == 4 && memcmp(text, "done", 4) == 0 &&
               t->t_prompt > 0) {
        t->data += now_s() - t->t_prompt;
        t->n++;
        t->t_prompt = 0;
    }
}

static int run(const char *method_name, unsigned baud, size_t size)
{
    enum mk_fota_method m =
        strcmp(method_name, "cfota") == 0 ? MK_FOTA_METHOD_CFOTA : MK_FOTA_METHOD_CDELTA;
    const struct mk_fota_target_ops *ops = mk_simcom_fota_ops(m);
    struct sim s;
    if (sim_start(&s, m == MK_FOTA_METHOD_CFOTA ? "SIM7000G" : "SIM7600SA", baud) != 0) {
        fprintf(stderr, "cannot start %s\n", MK_MODEMSIM_PATH);
        return 1;
    }
    struct mk_posix_port port;
    memset(&port, 0, sizeof port);
    char linebuf[1200];
    struct mk_at_chan ch;
    struct timing tm;
    memset(&tm, 0, sizeof tm);
    struct mk_at_config cfg = {
        .line_buf = linebuf, .line_cap = sizeof linebuf, .trace = on_trace, .trace_user = &tm};
    if (mk_posix_port_open(&port, s.link, NULL) != MK_OK) {
        fprintf(stderr, "cannot open %s: %s\n", s.link, port.msg);
        sim_stop(&s);
        return 1;
    }
    mk_at_chan_init(&ch, &cfg, &port.io, mk_posix_clock());
    enum mk_err e = MK_E_TIMEOUT;
    for (int i = 0; i < 40 && e != MK_OK; i++)
        e = mk_at_simple(&ch, "AT", 500, NULL, 0, NULL);
    if (e == MK_OK)
        e = mk_at_simple(&ch, "ATE0", 2000, NULL, 0, NULL);
    /* the boot URCs are out; let the line go quiet before timing */
    for (int i = 0; i < 10 && e == MK_OK; i++)
        mk_at_pump(&ch, 50);
    uint8_t *delta = malloc(size);
    for (size_t i = 0; i < size; i++)
        delta[i] = (uint8_t)(i * 2654435761u >> 24);
    size_t chunk = ops->max_chunk, n_chunks = 0;
    if (e == MK_OK && ops->begin)
        e = ops->begin(&ch);
    if (e == MK_OK)
        e = ops->remove(&ch);
    memset(&tm, 0, sizeof tm);
    uint64_t t0 = mk_posix_now_ms();
    for (size_t off = 0; e == MK_OK && off < size; off += chunk, n_chunks++) {
        size_t n = size - off < chunk ? size - off : chunk;
        e = ops->write(&ch, off, delta + off, n, baud);
    }
    uint64_t t1 = mk_posix_now_ms();
    uint64_t have = 0;
    if (e == MK_OK)
        e = ops->file_size(&ch, &have);
    if (e == MK_OK && ops->end)
        e = ops->end(&ch);
    free(delta);
    mk_posix_port_close(&port);
    sim_stop(&s);
    if (e != MK_OK || have != size) {
        fprintf(stderr, "%s at %u: %s (module has %llu of %zu bytes)\n", method_name, baud,
                mk_strerror(e), (unsigned long long)have, size);
        return 1;
    }
    double secs = (double)(t1 - t0) / 1000.0;
    double line_bps = baud / 10.0; /* bytes per second on the wire */
    double eff = (double)size / secs / line_bps;
    /* what a perfect host still pays per chunk: the command line on the way out, and the
     * line waiting while the prompt and the final OK come back */
    size_t cmd_len = m == MK_FOTA_METHOD_CFOTA
                         ? strlen("AT+CFSWFILE=1,\"update.zip\",1,10240,2778\r")
                         : strlen("AT+CFTRANRX=\"F:/update.zip\",32768,100,1015808\r");
    size_t answers = m == MK_FOTA_METHOD_CFOTA ? strlen("\r\nDOWNLOAD\r\n") + strlen("\r\nOK\r\n")
                                               : strlen("\r\n>") + strlen("\r\nOK\r\n");
    double bound = (double)chunk / (double)(chunk + cmd_len + answers);
    double ideal_s = (double)size / line_bps / bound;
    double gap_ms = (secs - ideal_s) * 1000.0 / (double)n_chunks;
    double turn_ms = tm.n ? tm.turn * 1000.0 / tm.n : 0;
    double data_ms = tm.n ? tm.data * 1000.0 / tm.n : 0;
    double line_ms = (double)chunk / line_bps * 1000.0;
    double cmd_line_ms = (double)(cmd_len + answers) / line_bps * 1000.0;
    printf("%-6s %7u baud  %8zu bytes in %3zu chunks of %5zu: %7.2f s, %8.0f B/s = %.3f of "
           "the line rate\n",
           method_name, baud, size, n_chunks, chunk, secs, (double)size / secs, eff);
    printf("       per chunk: command + prompt + OK = %zu bytes not delta (%.1f ms on the "
           "line; at best %.4f of the line rate),\n"
           "       command->prompt %.1f ms, data->OK %.1f ms for %.1f ms of data: %.1f ms per "
           "chunk above the byte bound\n"
           "       (waiting for the prompt and the OK before the next command, and the "
           "simulator pacing its input in ~10 ms gulps)\n",
           cmd_len + answers, cmd_line_ms, bound, turn_ms, data_ms, line_ms,
           gap_ms > 0 ? gap_ms : 0.0);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    size_t size = 1u << 20;
    unsigned bauds[8];
    const char *methods[4];
    int nb = 0, nm = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--baud") == 0 && i + 1 < argc && nb < 8)
            bauds[nb++] = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--method") == 0 && i + 1 < argc && nm < 4)
            methods[nm++] = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--size BYTES] [--baud N]... [--method cfota|cdelta]...\n",
                    argv[0]);
            return 2;
        }
    }
    if (!nb) {
        bauds[nb++] = 115200;
        bauds[nb++] = 921600;
    }
    if (!nm) {
        methods[nm++] = "cfota";
        methods[nm++] = "cdelta";
    }
    printf("delta transfer through modemsim, 10 bits per byte on the line\n");
    int rc = 0;
    for (int b = 0; b < nb; b++)
        for (int m = 0; m < nm; m++)
            rc |= run(methods[m], bauds[b], size);
    return rc;
}
