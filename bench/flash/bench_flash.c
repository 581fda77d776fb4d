/*
 * Flashing throughput over a pty: a 32 MiB CWE image through modemsim's Sierra
 * boot-and-hold target (Sahara, 0xFF00, Firehose), compared with what the pty itself
 * carries between two processes with the same write sizes, measured first in the same
 * run. Reported for two Firehose payload sizes (the target's default 16 KiB and 1 MiB).
 *
 *   raw pty:   parent writes W-byte chunks to a pty slave, a child process reads the
 *              master 4096 bytes at a time (as modemsim does) until it has it all
 *   flash:     mk_flash_sierra() in this process against modemsim; streaming rate from
 *              the first data byte to the last, and the whole session (handshake,
 *              configure, data, the target's CRC check of 32 MiB, final ACK, reset)
 *
 * It prints figures; it is not a test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "modemkit/cwe_build.h"
#include "modemkit/flash.h"
#include "modemkit/posix.h"
#include "support/sim_harness.h"

#define IMAGE_MIB 32u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- raw pty ---- */

static double raw_pty_mib_s(size_t total, size_t chunk)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    char name[128];
    if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof name))
        return -1;
    int sl = open(name, O_RDWR | O_NOCTTY);
    struct termios t;
    tcgetattr(sl, &t);
    cfmakeraw(&t);
    tcsetattr(sl, TCSANOW, &t);
    pid_t pid = fork();
    if (pid == 0) {
        close(sl);
        static uint8_t buf[4096];
        size_t got = 0;
        while (got < total) {
            struct pollfd p = {m, POLLIN, 0};
            poll(&p, 1, 1000);
            ssize_t n = read(m, buf, sizeof buf);
            if (n > 0)
                got += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                _exit(1);
        }
        if (write(m, "k", 1) != 1)
            _exit(1);
        _exit(0);
    }
    uint8_t *data = calloc(1, chunk);
    double t0 = now_s();
    for (size_t off = 0; off < total; off += chunk) {
        size_t n = total - off < chunk ? total - off : chunk, done = 0;
        while (done < n) {
            ssize_t w = write(sl, data + done, n - done);
            if (w > 0)
                done += (size_t)w;
        }
    }
    char k;
    ssize_t r = read(sl, &k, 1); /* the child has read everything */
    double secs = now_s() - t0;
    waitpid(pid, NULL, 0);
    free(data);
    close(sl);
    close(m);
    return r == 1 ? (double)total / 1048576.0 / secs : -1;
}

/* ---- flashing through modemsim ---- */

struct mem {
    const uint8_t *p;
    size_t len;
};

static enum mk_err mem_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    const struct mem *m = ctx;
    memcpy(buf, m->p + off, len);
    return MK_OK;
}

struct times {
    double write0, write1, acked;
};

static void on_progress(void *ctx, const struct mk_flash_progress *p)
{
    struct times *t = ctx;
    if (p->stage == MK_FLASH_STAGE_WRITE && t->write0 == 0)
        t->write0 = now_s();
    if (p->stage == MK_FLASH_STAGE_FINALIZE && t->write1 == 0)
        t->write1 = now_s();
    if (p->stage == MK_FLASH_STAGE_RESET && t->acked == 0)
        t->acked = now_s(); /* the final ACK came: the target has (and checked) it all */
}

static int flash_once(const uint8_t *img, size_t len, unsigned payload, double raw)
{
    char pl[16];
    snprintf(pl, sizeof pl, "%u", payload);
    const char *args[] = {
        "--profile", "RC7620", "--boot-delay-ms", "0", "--dl-max-payload", pl, "--hello-lost-ms",
        "0",         NULL};
    static struct mk_sim s;
    memset(&s, 0, sizeof s);
    if (mk_sim_start(&s, args) != 0 || mk_sim_wait_ready(&s, 10000) != 0)
        return -1;
    char resp[512];
    if (mk_sim_cmd(&s, "AT!ENTERCND=\"A710\"", resp, sizeof resp, 5000) != 0 ||
        mk_sim_cmd(&s, "AT!BOOTHOLD", resp, sizeof resp, 5000) != 0 ||
        mk_sim_wait_hangup(&s, 10000) != 0 || mk_sim_next_pty(&s, 10000) != 0)
        return -1;
    mk_sim_close_port(&s);
    struct mk_posix_port port;
    if (mk_posix_port_open(&port, s.pty, NULL) != MK_OK)
        return -1;
    static uint8_t work[(1u << 20) + 65536];
    struct times tm = {0, 0, 0};
    struct mk_flash_config c;
    mk_flash_config_default(&c);
    c.buf = work;
    c.cap = sizeof work;
    c.hello_wait_ms = 1000;
    c.verify_images = false;
    c.cb.progress = on_progress;
    c.cb.ctx = &tm;
    static struct mk_flash fl;
    mk_flash_init(&fl, &port.io, mk_posix_clock(), &c);
    struct mem m = {img, len};
    struct mk_flash_file f = {mem_read, &m, len, "bench.spk"};
    double t0 = now_s();
    enum mk_err e = mk_flash_sierra(&fl, &f, 1);
    double t1 = now_s();
    mk_posix_port_close(&port);
    mk_sim_stop(&s);
    if (e != MK_OK) {
        fprintf(stderr, "flash failed: %s: %s\n", mk_strerror(e), mk_flash_message(&fl));
        return -1;
    }
    double mib = (double)len / 1048576.0;
    double acked = mib / (tm.acked - tm.write0), written = mib / (tm.write1 - tm.write0);
    printf("flash through modemsim, payload %u: first data byte to final ACK %.2f s = %.1f "
           "MiB/s = %.0f%% of the raw pty (includes the target's CRC check of the image); "
           "host writes alone %.1f MiB/s; whole session %.2f s\n",
           payload, tm.acked - tm.write0, acked, 100.0 * acked / raw, written, t1 - t0);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct mk_cwe_package p = {.product = "9X07",
                               .sku = "9999999_9904609_SWI9X07H",
                               .device = "SWI9X07H",
                               .firmware = "00.08.24.02",
                               .carrier = "GENERIC",
                               .config = "001.110_000",
                               .boot_len = 400000,
                               .appl_len = (IMAGE_MIB << 20) - 9000000,
                               .modm_len = 8000000,
                               .nvup_len = 380000,
                               .seed = 9};
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, NULL, 0);
    mk_cwe_build_package(&b, &p);
    size_t len;
    if (mk_cwe_build_finish(&b, &len) != MK_OK)
        return 1;
    uint8_t *img = malloc(len);
    if (!img)
        return 1;
    mk_cwe_build_init(&b, img, len);
    mk_cwe_build_package(&b, &p);
    if (mk_cwe_build_finish(&b, &len) != MK_OK)
        return 1;
    printf("image: %zu bytes (%.1f MiB)\n", len, (double)len / 1048576.0);
    static const unsigned payloads[] = {16384, 1048576};
    for (size_t i = 0; i < 2; i++) {
        /* the session writes one Firehose block (payload rounded to the sector) at a time */
        double raw = raw_pty_mib_s(len, payloads[i]);
        printf("raw pty between two processes, %u-byte writes, 4096-byte reads: %.1f MiB/s\n",
               payloads[i], raw);
        if (raw <= 0 || flash_once(img, len, payloads[i], raw) != 0)
            return 1;
    }
    free(img);
    return 0;
}
