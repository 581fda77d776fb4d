/*
 * modemsim device: power, boot timeline, the pty (as the module's USB AT port), the
 * --link symlink, the output queue with --baud pacing and byte faults.
 *
 * Power-on timeline (every duration is an option):
 *   pty appears (path printed on stdout, --link re-pointed atomically)
 *   --boot-delay-ms of silence: input is ignored, as a booting module's is
 *   boot URCs, one every --sim-delay-ms (SIMCom: RDY, +CPIN: READY, SMS DONE, PB DONE);
 *   between RDY and +CPIN: READY, SIM commands answer "+CME ERROR: SIM busy"
 *     (T-SIM7600X #49 log; at-commands.md §7 item 2)
 * A reset (AT+CRESET, AT+CFUN=1,1, power cut) closes the pty master, so the host sees a
 * hang-up like a USB module leaving the bus; after --reenum-delay-ms a new pty appears
 * and the timeline starts again.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define OUT_CAP (8u << 20) /* drop output beyond this when nobody reads the port */


static void set_link(struct sim *s)
{
    if (!s->opt.link)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", s->opt.link, (long)getpid());
    unlink(tmp);
    if (symlink(s->pty_path, tmp) != 0 || rename(tmp, s->opt.link) != 0) {
        sim_warn("cannot point %s at %s: %s", s->opt.link, s->pty_path, strerror(errno));
        unlink(tmp);
    }
}

static int pty_open(struct sim *s)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
        ptsname_r(m, s->pty_path, sizeof s->pty_path) != 0) {
        sim_warn("cannot allocate a pty: %s", strerror(errno));
        if (m >= 0)
            close(m);
        return -1;
    }
    /* Keep our own slave fd open: the pty then stays valid (no POLLHUP on the master)
     * while no host has it open, and ioctl(FIONREAD) on it tells what the host has not
     * read yet. The line is raw: the simulator does its own echo. */
    int sl = open(s->pty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (sl < 0) {
        sim_warn("cannot open %s: %s", s->pty_path, strerror(errno));
        close(m);
        return -1;
    }
    struct termios t;
    if (tcgetattr(sl, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(sl, TCSANOW, &t);
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    fcntl(m, F_SETFD, FD_CLOEXEC);
    s->mfd = m;
    s->sfd = sl;
    set_link(s);
    printf("%s\n", s->pty_path);
    fflush(stdout);
    sim_log(s, "pty %s", s->pty_path);
    return 0;
}

static void pty_close(struct sim *s)
{
    /* The port leaves with the device, as /dev/ttyUSBn does: remove the link first, so
     * that nobody follows it to the next owner of this /dev/pts number meanwhile. */
    if (s->opt.link && s->mfd >= 0) {
        char target[sizeof s->pty_path];
        ssize_t n = readlink(s->opt.link, target, sizeof target - 1);
        if (n > 0 && (size_t)n == strlen(s->pty_path) && memcmp(target, s->pty_path, (size_t)n) == 0)
            unlink(s->opt.link);
    }
    if (s->sfd >= 0)
        close(s->sfd);
    if (s->mfd >= 0)
        close(s->mfd);
    s->mfd = s->sfd = -1;
    s->out.len = 0;
    s->out_chunk = 0;
    s->in_hold_len = 0;
}

/* ---- boot timeline ---- */

static const char *boot_urc(struct sim *s, int i, size_t *len)
{
    const char *p = s->prof->boot_urcs;
    for (int k = 0; k < i; k++) {
        p = strchr(p, '\n');
        if (!p)
            return NULL;
        p++;
    }
    if (!*p)
        return NULL;
    const char *e = strchr(p, '\n');
    *len = e ? (size_t)(e - p) : strlen(p);
    return p;
}

static void boot_step(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    int i = (int)arg;
    size_t len;
    if (s->fw_hold)
        return; /* updating or boot-looping (cmd_fota.c): the AT firmware never starts */
    const char *u = boot_urc(s, i, &len);
    if (s->power == SIM_POWER_SILENT) {
        s->power = SIM_POWER_SIMWAIT;
        sim_log(s, "boot: AT firmware up");
    }
    if (u) {
        sim_urc(s, "%.*s", (int)len, u);
        if (len == 12 && memcmp(u, "+CPIN: READY", 12) == 0)
            s->power = SIM_POWER_READY;
    }
    size_t nlen;
    if (u && boot_urc(s, i + 1, &nlen)) {
        sim_timer_add(s, s->opt.sim_delay_ms, boot_step, NULL, i + 1, 0);
    } else {
        s->power = SIM_POWER_READY; /* no "+CPIN: READY" in this profile's list */
        sim_log(s, "boot: ready");
    }
}

/* The boot-loop fault: the firmware crashes before it answers anything. */
static void crash(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    sim_log(s, "boot loop: the firmware crashes");
    sim_dev_reset(s, false);
}

static void power_on(struct sim *s)
{
    s->boot_mode = s->next_boot_mode;
    s->next_boot_mode = SIM_BOOT_AT;
    /* Boot pin held at power-on forces download mode (RC76xx TP1, seed 004); so does a
     * half-written flash (the firmware cannot start from it). */
    if (s->tp1 || sim_dl_boot_download(s))
        s->boot_mode = SIM_BOOT_DOWNLOAD;
    if (pty_open(s) != 0) {
        sim_warn("module cannot come back: no pty");
        return;
    }
    s->out_free_us = s->in_free_us = sim_now_us();
    if (s->boot_mode == SIM_BOOT_DOWNLOAD) {
        s->target = sim_dl_target(s);
        s->power = SIM_POWER_READY;
        s->target->enter(s);
        return;
    }
    s->power = SIM_POWER_SILENT;
    sim_at_power_on(s);
    sim_modules_power(s, true);
    if (sim_dl_bootloop_boot(s)) {
        /* seed 004: on USB for 2-3 s, gone for 10-15 s, again and again; silent */
        sim_timer_add(s, s->bootloop_up_ms, crash, NULL, 0, 0);
        return;
    }
    sim_timer_add(s, s->opt.boot_delay_ms, boot_step, NULL, 0, 0);
}

static void reenum_cold(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    if (!s->held_off && s->power == SIM_POWER_OFF)
        power_on(s); /* cold_boot stays set for the modules' power_on hooks */
    s->cold_boot = false;
}

static void reenum(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    if (s->held_off)
        return; /* power is off until the control channel restores it */
    power_on(s);
    s->cold_boot = false;
}

void sim_dev_power_off(struct sim *s)
{
    if (s->power != SIM_POWER_OFF)
        sim_dev_reset(s, true);
    sim_timer_cancel_all(s, true); /* no re-enumeration while the power is off */
    s->held_off = true;
}

void sim_dev_power_on(struct sim *s, int delay_ms)
{
    if (!s->held_off && s->power != SIM_POWER_OFF)
        return;
    s->held_off = false;
    s->cold_boot = true;
    s->power_cycles++;
    sim_log(s, "power on in %d ms (cold boot #%u)", delay_ms, s->power_cycles);
    sim_timer_add(s, delay_ms, reenum_cold, NULL, 0, 0);
}

void sim_dev_start(struct sim *s)
{
    s->mfd = s->sfd = -1;
    s->next_reenum_ms = -1;
    s->cold_boot = true;
    power_on(s);
    s->cold_boot = false;
}

void sim_dev_reset(struct sim *s, bool power_cut)
{
    sim_log(s, "%s: pty %s goes away", power_cut ? "power cut" : "reset", s->pty_path);
    s->reset_when_flushed = false;
    if (s->boot_mode == SIM_BOOT_DOWNLOAD && s->power != SIM_POWER_OFF)
        sim_dl_power_off(s);
    sim_modules_power(s, false);
    sim_at_power_off(s);
    sim_timer_cancel_all(s, true);
    pty_close(s);
    s->power = SIM_POWER_OFF;
    int off_ms = s->next_reenum_ms >= 0 ? s->next_reenum_ms : s->opt.reenum_delay_ms;
    s->next_reenum_ms = -1;
    sim_timer_add(s, off_ms, reenum, NULL, 0, 0);
}

void sim_dev_reset_when_flushed(struct sim *s)
{
    s->reset_when_flushed = true;
    s->reset_deadline_us = sim_now_us() + 1000000;
}

void sim_dev_shutdown(struct sim *s)
{
    pty_close(s);
}

/* ---- output ---- */

void sim_out(struct sim *s, const void *p, size_t n)
{
    if (s->power == SIM_POWER_OFF || s->mfd < 0 || n == 0)
        return;
    if (s->out.len + n > OUT_CAP) {
        sim_log(s, "output queue full, %zu bytes dropped", n);
        return;
    }
    const uint8_t *b = p;
    if (s->faults.drop_tx > 0 || s->faults.corrupt_tx > 0) {
        for (size_t i = 0; i < n; i++) {
            uint8_t c = b[i];
            if (sim_rng_chance(&s->rng_tx, s->faults.drop_tx))
                continue;
            if (sim_rng_chance(&s->rng_tx, s->faults.corrupt_tx))
                c ^= (uint8_t)(1u << sim_rng_range(&s->rng_tx, 0, 7));
            sim_buf_put(&s->out, &c, 1);
        }
        return;
    }
    sim_buf_put(&s->out, p, n);
}

static int64_t line_time_us(struct sim *s, size_t n)
{
    /* 10 bits per byte on the wire: start + 8 data + stop */
    return (int64_t)((double)n * 10.0 * 1e6 / (double)s->opt.baud);
}

void sim_dev_output(struct sim *s, int64_t now_us)
{
    while (s->out.len > 0 && s->mfd >= 0) {
        size_t chunk = s->out_chunk;
        if (!chunk) {
            chunk = sim_rng_range(&s->rng_chunk, 1, (uint32_t)s->opt.max_write);
            if (chunk > s->out.len)
                chunk = s->out.len;
            if (s->opt.baud) {
                /* on the wire from when the line is free; readable once all of it is */
                s->out_chunk = chunk;
                s->out_due_us =
                    (s->out_free_us > now_us ? s->out_free_us : now_us) + line_time_us(s, chunk);
            }
        }
        if (chunk > s->out.len)
            chunk = s->out.len;
        if (s->opt.baud && now_us < s->out_due_us)
            return;
        ssize_t n = write(s->mfd, s->out.p, chunk);
        if (n <= 0)
            return; /* EAGAIN: the host is not reading; poll for POLLOUT */
        sim_log_bytes(s, "tx", s->out.p, (size_t)n);
        s->last_write_us = now_us;
        sim_buf_consume(&s->out, (size_t)n);
        if (s->opt.baud) {
            s->out_free_us = s->out_due_us;
            s->out_chunk = 0;
        }
    }
    if (s->out.len == 0 && s->reset_when_flushed && s->sfd >= 0) {
        /* AT+CRESET: reset once the host has read our "OK" (or after 1 s). */
        /* The pty moves written bytes to the reading side asynchronously: give it a
         * moment after our last write before trusting FIONREAD == 0. */
        int pending = 0;
        bool settled = now_us - s->last_write_us >= 20000;
        if ((settled && (ioctl(s->sfd, FIONREAD, &pending) != 0 || pending == 0)) ||
            now_us >= s->reset_deadline_us)
            sim_dev_reset(s, false);
    }
}

int64_t sim_dev_next_us(struct sim *s, int64_t now_us)
{
    int64_t next = INT64_MAX;
    if (s->opt.baud && s->out.len > 0)
        next = s->out_chunk ? s->out_due_us : now_us;
    /* same now_us as sim_dev_want_read(): input not polled ⇔ this deadline is set */
    if (s->opt.baud && now_us < s->in_free_us && s->in_free_us < next)
        next = s->in_free_us;
    if (s->opt.baud && s->in_hold_len && s->in_hold_due_us < next)
        next = s->in_hold_due_us;
    if (s->reset_when_flushed && s->out.len == 0) {
        int64_t soon = now_us + 5000; /* re-check FIONREAD */
        if (soon < next)
            next = soon;
    }
    return next;
}

bool sim_dev_want_read(struct sim *s, int64_t now_us)
{
    return s->mfd >= 0 && (!s->opt.baud || (!s->in_hold_len && now_us >= s->in_free_us));
}

bool sim_dev_want_write(struct sim *s, int64_t now_us)
{
    return s->out.len && (!s->opt.baud || !s->out_chunk || now_us >= s->out_due_us);
}

/* Bytes from the host, at the moment they have fully arrived: faults, then the module. */
static void dev_deliver(struct sim *s, uint8_t *buf, size_t len)
{
    if (s->faults.drop_rx > 0 || s->faults.corrupt_rx > 0) {
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            if (sim_rng_chance(&s->rng_rx, s->faults.drop_rx))
                continue;
            uint8_t c = buf[i];
            if (sim_rng_chance(&s->rng_rx, s->faults.corrupt_rx))
                c ^= (uint8_t)(1u << sim_rng_range(&s->rng_rx, 0, 7));
            buf[o++] = c;
        }
        len = o;
    }
    sim_log_bytes(s, "rx", buf, len);
    if (s->boot_mode == SIM_BOOT_DOWNLOAD && s->target) {
        s->target->input(s, buf, len);
        return;
    }
    if (s->power == SIM_POWER_SILENT) {
        sim_log(s, "booting: %zu bytes ignored", len);
        return;
    }
    sim_at_input(s, buf, len);
}

void sim_dev_tick(struct sim *s, int64_t now_us)
{
    if (s->in_hold_len && now_us >= s->in_hold_due_us) {
        size_t n = s->in_hold_len;
        s->in_hold_len = 0;
        dev_deliver(s, s->in_hold, n);
    }
}

void sim_dev_input(struct sim *s)
{
    uint8_t buf[4096];
    size_t cap = sizeof buf;
    if (s->opt.baud) {
        /* pace host->module bytes too: read in small gulps at the line rate */
        cap = s->opt.baud / 10 / 100; /* ~10 ms of line time */
        if (cap < 1)
            cap = 1;
        if (cap > sizeof buf)
            cap = sizeof buf;
        if (s->in_hold_len)
            return; /* the previous gulp is still on the wire */
    }
    ssize_t n = read(s->mfd, buf, cap);
    if (n <= 0)
        return;
    if (s->opt.baud) {
        /* the gulp reaches the module when its last byte has crossed the line */
        int64_t now = sim_now_us();
        if (s->in_free_us < now)
            s->in_free_us = now;
        s->in_free_us += line_time_us(s, (size_t)n);
        memcpy(s->in_hold, buf, (size_t)n);
        s->in_hold_len = (size_t)n;
        s->in_hold_due_us = s->in_free_us;
        return;
    }
    dev_deliver(s, buf, (size_t)n);
}

bool sim_sim_ready(struct sim *s)
{
    return s->power == SIM_POWER_READY;
}
