/*
 * bench_modemd: what modemd costs per published sample.
 *
 * Runs N samples through modemd → modemsim (SIM7600E-H on a pty) → mosquitto (all on
 * 127.0.0.1, started here), with sample.count = N and --exit-when-done, and reads the
 * child's resource usage from wait4(): CPU time (user + system) per published sample
 * and the peak resident set. Each sample is durable twice on the way (its append and its
 * acknowledgement, each with an fsync), so the state directory's file system matters:
 * it is printed.
 *
 *   bench_modemd [N [INTERVAL_MS]]     defaults: 2000 samples, 2 ms apart
 *
 * With the default interval the agent keeps pace with the schedule; INTERVAL_MS 1 makes
 * a run bound by how fast samples can be published.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/sim_harness.h"

#ifndef MK_MODEMD_PATH
#define MK_MODEMD_PATH "modemd"
#endif

static int bench_fail(const char *what)
{
    fprintf(stderr, "bench_modemd: %s\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    long interval = argc > 2 ? atol(argv[2]) : 2;
    if (n < 10 || interval < 1)
        return bench_fail("usage: bench_modemd [N>=10 [INTERVAL_MS>=1]]");
    char dir[256];
    if (mk_test_tmpdir(dir, sizeof dir, "bench-modemd") != 0)
        return bench_fail("no scratch directory");
    struct mk_broker b = {0};
    if (mk_broker_start(&b, dir, NULL) != 0)
        return bench_fail("mosquitto did not start");
    char link[300], ctl[300], conf[300], log[300], url[64];
    snprintf(link, sizeof link, "%s/tty", dir);
    snprintf(ctl, sizeof ctl, "%s/sim.ctl", dir);
    snprintf(conf, sizeof conf, "%s/modemd.conf", dir);
    snprintf(log, sizeof log, "%s/modemd.log", dir);
    mk_broker_url(&b, url, sizeof url);
    const char *sim_argv[] = {mk_sim_exe(),      "--profile", "SIM7600E-H",     "--link", link,
                              "--boot-delay-ms", "0",         "--sim-delay-ms", "5",      NULL};
    int sim_out = -1;
    pid_t sim = mk_test_spawn(sim_argv, &sim_out);
    char line[256], buf[512];
    size_t blen = 0;
    if (sim < 0 || mk_test_read_line(sim_out, buf, &blen, line, sizeof line, 10000) != 0)
        return bench_fail("modemsim did not start");

    /* a broker-side subscriber counts what arrived (one line per message, in a file) */
    char subcmd[600], subfile[300];
    snprintf(subfile, sizeof subfile, "%s/received.txt", dir);
    snprintf(subcmd, sizeof subcmd,
             "exec mosquitto_sub -h 127.0.0.1 -p %d -q 1 -t devices/bench/telemetry -C %ld > %s",
             b.port, n, subfile);
    const char *sub_argv[] = {"sh", "-c", subcmd, NULL};
    pid_t sub = mk_test_spawn(sub_argv, NULL);
    if (sub < 0)
        return bench_fail("mosquitto_sub did not start");
    if (mk_broker_wait_log(&b, "devices/bench/telemetry", 5000) != 0)
        return bench_fail("the subscriber did not subscribe");

    char text[1024];
    int len = snprintf(text, sizeof text,
                       "[device]\nport = %s\n[mqtt]\nurl = %s\nclient_id = bench\n"
                       "[sample]\ninterval = %ldms\ncount = %ld\n[state]\ndir = %s/state\n"
                       "[fota]\nenabled = false\n[log]\nlevel = warning\n",
                       link, url, interval, n, dir);
    if (mk_test_write_file(conf, text, (size_t)len) != 0)
        return bench_fail("cannot write the configuration");

    int64_t t0 = mk_test_now_ms();
    pid_t md = fork();
    if (md == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        execl(MK_MODEMD_PATH, "modemd", "--config", conf, "--exit-when-done", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t w = wait4(md, &status, WNOHANG, &ru);
        if (w == md)
            break;
        if (mk_test_now_ms() - t0 > 600000) {
            kill(md, SIGKILL);
            wait4(md, &status, 0, &ru);
            return bench_fail("modemd did not finish in 10 minutes");
        }
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    int64_t wall = mk_test_now_ms() - t0;
    int sub_rc = mk_test_wait(sub, 20000);
    if (sub_rc < 0)
        mk_test_terminate(sub, 2000);
    size_t got = 0, rlen = 0;
    char *rec = NULL;
    if (mk_test_read_file(subfile, &rec, &rlen) == 0) {
        for (size_t i = 0; i < rlen; i++)
            got += rec[i] == '\n';
        free(rec);
    }
    double cpu_us = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
                    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
    struct statfs sf;
    const char *fs = "?";
    if (statfs(dir, &sf) == 0)
        fs = sf.f_type == 0x01021994   ? "tmpfs"
             : sf.f_type == 0xEF53     ? "ext4"
             : sf.f_type == 0x794c7630 ? "overlayfs"
             : sf.f_type == 0x9123683E ? "btrfs"
             : sf.f_type == 0x58465342 ? "xfs"
                                       : "other";

    printf("modemd: %ld samples %ld ms apart through modemsim (SIM7600E-H) and mosquitto\n", n,
           interval);
    printf("  exit status %d, subscriber received %zu (mosquitto_sub -C: status %d)\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, got, sub_rc);
    printf("  wall %lld ms (%.0f samples/s; the schedule alone takes %ld ms)\n", (long long)wall,
           (double)n * 1000.0 / (double)wall, n * interval);
    printf("  CPU  %.0f us user + %.0f us system = %.1f us per published sample\n",
           (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec,
           (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec, cpu_us / (double)n);
    printf("  RSS  %ld bytes peak (ru_maxrss)\n", ru.ru_maxrss * 1024L);
    printf("  state directory on %s (2 fsync'd appends per sample)\n", fs);

    kill(sim, SIGTERM);
    mk_test_wait(sim, 5000);
    mk_broker_stop(&b);
    mk_test_rmtree(dir);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == (size_t)n ? 0 : 1;
}
