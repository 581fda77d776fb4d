/*
 * modemctl flash: download-mode flashing and recovery.
 *
 *   1. load and check what to send (flashpkg.h: CWE files, or a QFIL package);
 *   2. find the port (-d, or on USB by port path / VID:PID), say when ModemManager or a
 *      missing driver is in the way (mk_usb_diagnose);
 *   3. detect what it speaks (mk_flash_detect, with an AT probe): an AT port of a Sierra
 *      module is put into boot-and-hold with AT!BOOTHOLD first; a port that keeps
 *      vanishing is watched and reported as a reboot loop (mk_usb_loop_*) with the
 *      TP1 / hard power-cycle advice, or recovered with --power-cycle-cmd;
 *   4. run the session for the target found (Sierra boot-and-hold, PBL EDL, QDL) with a
 *      progress bar (stderr on a terminal) or JSON lines;
 *   5. wait for normal mode (following the USB port path, or reopening the path: the
 *      simulator's --link), read the version back and compare it with the image's.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "flashpkg.h"
#include "modemkit/flash.h"
#include "modemkit/modem.h"
#include "modemkit/posix.h"
#include "modemkit/usb.h"

#define FC_BUF (1u << 20) /* work buffer: one Firehose block per write at up to 1 MiB */

struct fc {
    struct mk_cli *cli;
    /* options */
    enum mk_dl_proto proto;
    bool boothold; /* --boothold: the port is the AT port, switch first */
    uint32_t hello_wait_ms, probe_wait_ms, cmd_timeout_ms, final_wait_ms, reboot_timeout_ms;
    const char *power_cycle_cmd, *boot_pin_cmd, *expect_version, *usb_sel, *memory;
    /* what to send */
    struct mk_cli_pkg *pkg;
    /* the device */
    struct mk_usb_roots roots;
    char usb_port[MK_USB_NAME_CAP]; /* USB port path when the port is a USB tty */
    uint16_t vid, pid;
    unsigned devnum;
    bool tcp;
    struct mk_usb_loopwatch loop;
    bool recovered; /* --power-cycle-cmd was used */
    /* identity before the update (when the module was in normal mode) */
    char old_revision[128], old_fw[32];
    const char *product; /* CWE product the module needs, when known */
    /* session */
    struct mk_flash fl;
    const struct mk_dl_result *found;
    char target[64], protocol[16];
    /* progress */
    bool tty;
    uint64_t t0_ms, write_t0_ms, write_done0, last_print_ms;
    enum mk_flash_stage last_stage;
    bool bar_open;
};

static uint64_t now_ms(void)
{
    return mk_posix_now_ms();
}

static uint32_t secs_ms(const char *arg, bool *ok)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || v < 0 || v > 86400) {
        *ok = false;
        return 0;
    }
    return (uint32_t)(v * 1000.0 + 0.5);
}

/* ---- output ---- */

static void fc_bar_close(struct fc *fc)
{
    if (fc->bar_open) {
        fputc('\n', stderr);
        fc->bar_open = false;
    }
}

static void fc_event(struct fc *fc, const char *kind, const char *text)
{
    if (fc->cli->json) {
        printf("{\"event\":\"note\",\"kind\":\"%s\",\"text\":", kind);
        mk_host_json_str(stdout, text);
        printf("}\n");
        fflush(stdout);
        return;
    }
    fc_bar_close(fc);
    fprintf(stderr, "modemctl: %s%s\n", strcmp(kind, "warn") == 0 ? "warning: " : "", text);
}

static void fc_on_note(void *ctx, enum mk_flash_note kind, const char *text)
{
    struct fc *fc = ctx;
    if (kind == MK_FLASH_NOTE_TARGET_LOG) {
        if (fc->cli->json)
            fc_event(fc, "log", text);
        else if (fc->cli->verbose) {
            fc_bar_close(fc);
            fprintf(stderr, "modemctl: target: %s\n", text);
        }
        return;
    }
    fc_event(fc, kind == MK_FLASH_NOTE_WARN ? "warn" : "info", text);
}

static void fmt_mib(char *out, size_t cap, uint64_t b)
{
    snprintf(out, cap, "%.1f MiB", (double)b / 1048576.0);
}

static void fc_on_progress(void *ctx, const struct mk_flash_progress *p)
{
    struct fc *fc = ctx;
    uint64_t now = now_ms();
    bool change = p->stage != fc->last_stage;
    if ((p->stage == MK_FLASH_STAGE_WRITE || p->stage == MK_FLASH_STAGE_PROGRAMMER) &&
        !fc->write_t0_ms) {
        fc->write_t0_ms = now; /* the rate counts from the first data byte */
        fc->write_done0 = p->done;
    }
    fc->last_stage = p->stage;
    double secs = fc->write_t0_ms ? (double)(now - fc->write_t0_ms) / 1000.0 : 0;
    double rate = secs > 0.05 ? (double)(p->done - fc->write_done0) / secs : 0;
    double eta = rate > 0 && p->total > p->done ? (double)(p->total - p->done) / rate : 0;
    if (fc->cli->json) {
        if (!change && now - fc->last_print_ms < 250)
            return;
        fc->last_print_ms = now;
        printf("{\"event\":\"progress\",\"stage\":\"%s\",\"file\":", mk_flash_stage_name(p->stage));
        if (p->file)
            mk_host_json_str(stdout, p->file);
        else
            printf("null");
        printf(",\"index\":%u,\"count\":%u,\"file_done\":%llu,\"file_total\":%llu,\"done\":%llu,"
               "\"total\":%llu,\"rate_bps\":%.0f,\"eta_s\":%.1f}\n",
               p->index, p->count, (unsigned long long)p->file_done,
               (unsigned long long)p->file_total, (unsigned long long)p->done,
               (unsigned long long)p->total, rate, eta);
        fflush(stdout);
        return;
    }
    bool bytes = p->stage == MK_FLASH_STAGE_WRITE || p->stage == MK_FLASH_STAGE_PROGRAMMER;
    if (fc->tty && bytes) {
        if (!change && now - fc->last_print_ms < 200)
            return;
        fc->last_print_ms = now;
        char done[32], total[32];
        fmt_mib(done, sizeof done, p->done);
        fmt_mib(total, sizeof total, p->total);
        int pct = p->total ? (int)(p->done * 100 / p->total) : 0;
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-10s [%s] %3d%% %s/%s %.2f MiB/s ETA %d:%02d %-20.20s",
                mk_flash_stage_name(p->stage), bar, pct, done, total, rate / 1048576.0,
                (int)eta / 60, (int)eta % 60, p->file ? p->file : "");
        fc->bar_open = true;
        return;
    }
    if (!change)
        return;
    fc_bar_close(fc);
    switch (p->stage) {
    case MK_FLASH_STAGE_WRITE:
        fprintf(stderr, "modemctl: sending %s (%llu bytes)\n", p->file ? p->file : "",
                (unsigned long long)p->file_total);
        break;
    case MK_FLASH_STAGE_FINALIZE:
        fprintf(stderr,
                "modemctl: %s sent; waiting for the module to check and write it "
                "(up to %u s)\n",
                p->file ? p->file : "", fc->final_wait_ms / 1000);
        break;
    case MK_FLASH_STAGE_DONE: {
        double all = (double)(now - fc->t0_ms) / 1000.0;
        fprintf(stderr, "modemctl: done: %llu bytes in %.1f s\n", (unsigned long long)p->done, all);
        break;
    }
    default:
        if (fc->cli->verbose)
            fprintf(stderr, "modemctl: stage %s\n", mk_flash_stage_name(p->stage));
    }
}

/* ---- device presence, re-enumeration, reboot loops ---- */

static struct mk_posix_port *fc_port(struct fc *fc)
{
    return mk_cli_port(fc->cli);
}

static bool fc_present(struct fc *fc)
{
    if (fc->usb_port[0]) {
        struct mk_usb_dev d;
        return mk_usb_read(&fc->roots, fc->usb_port, &d) == MK_OK;
    }
    if (fc->tcp)
        return true;
    struct stat st;
    return stat(mk_cli_device_path(fc->cli), &st) == 0; /* follows the --link symlink */
}

/* One presence sample into the loop watch. MK_E_BOOTLOOP once it trips. */
static enum mk_err fc_sample(struct fc *fc, bool present)
{
    return mk_usb_loop_sample(&fc->loop, now_ms(), present);
}

static void fc_loop_reset(struct fc *fc)
{
    mk_usb_loop_init(&fc->loop, NULL);
}

static void fc_close(struct fc *fc)
{
    struct mk_posix_port *p = fc_port(fc);
    if (p)
        mk_posix_port_close(p);
}

/* Waits until the port is there and opens it, sampling presence meanwhile. */
static enum mk_err fc_connect(struct fc *fc, uint64_t deadline)
{
    for (;;) {
        bool present = fc_present(fc);
        if (fc_sample(fc, present) == MK_E_BOOTLOOP)
            return MK_E_BOOTLOOP;
        if (present) {
            enum mk_err e = mk_cli_device_open_port(fc->cli, true);
            if (e == MK_OK)
                return MK_OK;
            if (e == MK_E_INVAL || e == MK_E_UNSUPPORTED || e == MK_E_NOMEM)
                return e;
            if (e == MK_E_BUSY || e == MK_E_PERM) {
                /* only fatal when it lasts: udev may still be setting the group */
                if (now_ms() + 100 >= deadline)
                    return e;
            }
        }
        if (now_ms() >= deadline)
            return MK_E_TIMEOUT;
        mk_posix_sleep_ms(50);
    }
}

/* The USB device behind a /dev tty, if any: port path, IDs, and the diagnosis. */
static enum mk_err fc_usb_lookup(struct fc *fc, const char *path, bool report)
{
    char real[1024];
    if (fc->tcp || !realpath(path, real) || strncmp(real, "/dev/", 5) != 0)
        return MK_OK;
    struct mk_usb_dev dev;
    if (mk_usb_find_tty(&fc->roots, real, &dev, NULL) != MK_OK)
        return MK_OK; /* a pty, a UART: no USB device to follow */
    snprintf(fc->usb_port, sizeof fc->usb_port, "%s", dev.port);
    fc->vid = dev.vid;
    fc->pid = dev.pid;
    fc->devnum = dev.devnum;
    if (!report)
        return MK_OK;
    struct mk_usb_diag diag;
    enum mk_err e = mk_usb_diagnose(&fc->roots, &dev, &diag);
    if (diag.msg[0])
        fc_event(fc, e ? "error" : "warn", diag.msg);
    return e;
}

/* Follow the USB port path after a reset: the module leaves and comes back, maybe with
 * another PID and tty (normal mode: its AT tty; download mode: its single tty). */
static enum mk_err fc_usb_follow(struct fc *fc, bool download, uint64_t deadline)
{
    struct mk_usb_watch w;
    memset(&w, 0, sizeof w);
    w.roots = &fc->roots;
    w.port = fc->usb_port;
    w.loop = &fc->loop;
    struct mk_usb_expect want = {.need_tty = true};
    struct mk_usb_dev dev;
    enum mk_err e = mk_usb_wait_reenum(&w, fc->devnum, &want, deadline, &dev);
    if (e != MK_OK) {
        if (w.msg[0])
            fc_event(fc, "warn", w.msg);
        return e;
    }
    struct mk_usb_class cls;
    mk_usb_classify(&dev, &cls);
    const char *tty = download ? cls.dl_tty : cls.at_tty;
    if (!tty)
        tty = cls.dl_tty ? cls.dl_tty : cls.at_tty;
    if (tty) {
        char path[64];
        snprintf(path, sizeof path, "/dev/%s", tty);
        mk_cli_device_set_path(fc->cli, path);
    }
    fc->vid = dev.vid;
    fc->pid = dev.pid;
    fc->devnum = dev.devnum;
    char line[300];
    mk_usb_describe(&dev, line, sizeof line);
    fc_event(fc, "info", line);
    return MK_OK;
}

/* The port went away (reset): wait for it to come back and open it. */
static enum mk_err fc_wait_back(struct fc *fc, bool download, uint64_t deadline)
{
    fc_close(fc);
    if (fc->usb_port[0]) {
        enum mk_err e = fc_usb_follow(fc, download, deadline);
        if (e != MK_OK)
            return e;
    }
    return fc_connect(fc, deadline);
}

static int fc_run_cmd(struct fc *fc, const char *cmd, const char *arg)
{
    char line[1200];
    snprintf(line, sizeof line, "%s%s%s", cmd, arg ? " " : "", arg ? arg : "");
    fc_event(fc, "info", line);
    fflush(stdout);
    int st = system(line);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void fc_loop_report(struct fc *fc, char *out, size_t cap)
{
    snprintf(out, cap,
             "%s %s. If the board can do it, give modemctl the commands: --boot-pin-cmd "
             "'CMD' (run with on/off) and --power-cycle-cmd 'CMD'",
             mk_cli_device_path(fc->cli), fc->loop.msg);
}

/* ---- normal mode: AT ---- */

/* "current fw version: 00.08.24.02" from AT!IMPREF? (seed 002). Needs AT!ENTERCND. */
static void fc_impref(struct fc *fc, char *fw, size_t cap)
{
    char resp[1024];
    fw[0] = '\0';
    (void)mk_at_simple(fc->cli->chan, "AT!ENTERCND=\"A710\"", 3000, NULL, 0, NULL);
    if (mk_at_simple(fc->cli->chan, "AT!IMPREF?", 5000, resp, sizeof resp, NULL) != MK_OK)
        return;
    const char *p = strstr(resp, "current fw version:");
    if (!p)
        return;
    p += strlen("current fw version:");
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n ");
    snprintf(fw, cap, "%.*s", (int)n, p);
}

/* Normal mode: identify, then AT!BOOTHOLD (Sierra only). The port resets. */
static enum mk_err fc_boothold(struct fc *fc, uint64_t deadline)
{
    struct mk_cli *cli = fc->cli;
    mk_cli_device_rebind(cli);
    enum mk_err e = mk_cli_device_sync(cli, now_ms() + 10000);
    if (e != MK_OK) {
        mk_cli_fail(cli, e, "%s does not answer AT commands", mk_cli_device_path(cli));
        return e;
    }
    struct mk_modem_id id;
    e = mk_modem_identify(cli->chan, &id);
    if (e != MK_OK) {
        mk_cli_fail(cli, e, "identifying the module: %s", mk_strerror(e));
        return e;
    }
    snprintf(fc->old_revision, sizeof fc->old_revision, "%s", id.revision);
    if (id.vendor != MK_VENDOR_SIERRA) {
        mk_cli_fail(cli, MK_E_UNSUPPORTED,
                    "%s is the AT port of a %s %s in normal mode; it has no AT!BOOTHOLD. Put "
                    "it into download mode with its boot pin held at power-on (it then shows "
                    "up as 05c6:9008) and run flash on that port",
                    mk_cli_device_path(cli), id.manufacturer, id.model);
        return MK_E_UNSUPPORTED;
    }
    if (id.family == MK_FAMILY_RC76XX)
        fc->product = "9X07"; /* RC76xx images: SWI9X07H (seed 004) */
    if (fc->product && fc->pkg->product[0] && strcasecmp(fc->product, fc->pkg->product) != 0) {
        /* refuse before the module leaves normal mode */
        mk_cli_fail(cli, MK_E_IMAGE_PRODUCT,
                    "the images are built for product %s; this %s needs %s images. Nothing "
                    "was changed on the module",
                    fc->pkg->product, id.model, fc->product);
        return MK_E_IMAGE_PRODUCT;
    }
    fc_impref(fc, fc->old_fw, sizeof fc->old_fw);
    char line[400];
    snprintf(line, sizeof line, "%s %s runs %s; switching it to boot-and-hold (AT!BOOTHOLD)",
             id.manufacturer, id.model, id.revision);
    fc_event(fc, "info", line);
    struct mk_at_result res;
    e = mk_at_simple(cli->chan, "AT!BOOTHOLD", 10000, NULL, 0, &res);
    if (e != MK_OK) {
        mk_cli_fail(cli, e, "AT!BOOTHOLD: %s", mk_strerror(e));
        return e;
    }
    /* it resets: the port hangs up */
    while (now_ms() < deadline && mk_at_pump(cli->chan, 200) == MK_OK)
        ;
    fc_loop_reset(fc);
    e = fc_wait_back(fc, true, deadline);
    if (e != MK_OK) {
        mk_cli_fail(cli, MK_E_FLASH_NOT_BACK,
                    "the module did not come back in boot-and-hold mode within %u s",
                    fc->reboot_timeout_ms / 1000);
        return MK_E_FLASH_NOT_BACK;
    }
    return MK_OK;
}

/* ---- detection ---- */

static void fc_config(struct fc *fc, struct mk_flash_config *c, bool probe_at)
{
    static uint8_t work[FC_BUF];
    mk_flash_config_default(c);
    c->buf = work;
    c->cap = sizeof work;
    c->hello_wait_ms = fc->hello_wait_ms;
    c->probe_wait_ms = fc->probe_wait_ms;
    c->cmd_timeout_ms = fc->cmd_timeout_ms;
    c->final_wait_ms = fc->final_wait_ms;
    c->force = fc->proto;
    c->probe_at = probe_at && fc->proto == MK_DL_PROTO_NONE;
    c->usb_vid = fc->vid;
    c->usb_pid = fc->pid;
    c->expect_product = fc->product;
    c->verify_images = false; /* flashpkg checked every CRC already */
    c->memory_name = fc->memory ? fc->memory : fc->pkg->memory;
    c->cb.progress = fc_on_progress;
    c->cb.note = fc_on_note;
    c->cb.ctx = fc;
}

/*
 * Opens the port and detects what it speaks, until deadline. A port that vanishes meanwhile
 * is watched: appearing and vanishing repeatedly is a reboot loop (MK_E_BOOTLOOP, already
 * reported unless --power-cycle-cmd recovered it).
 */
static enum mk_err fc_detect(struct fc *fc, bool probe_at, uint64_t deadline)
{
    struct mk_cli *cli = fc->cli;
    for (;;) {
        enum mk_err e = fc_connect(fc, deadline);
        if (e == MK_OK) {
            struct mk_flash_config c;
            fc_config(fc, &c, probe_at);
            mk_flash_init(&fc->fl, &fc_port(fc)->io, mk_posix_clock(), &c);
            e = mk_flash_detect(&fc->fl, &fc->found);
            if (e == MK_OK)
                return MK_OK;
            if (e != MK_E_HANGUP && e != MK_E_IO) {
                mk_cli_fail(cli, e, "%s: %s", mk_cli_device_path(cli), mk_flash_message(&fc->fl));
                return e;
            }
            fc_event(fc, "warn", "the port went away during detection; watching it");
            fc_close(fc);
            e = fc_sample(fc, false);
        }
        if (e == MK_E_BOOTLOOP && fc->power_cycle_cmd && !fc->recovered) {
            /* seed 004: the loop ends with the boot pin held at power-on */
            fc->recovered = true;
            fc_event(fc, "warn", fc->loop.msg);
            if (fc->boot_pin_cmd)
                fc_run_cmd(fc, fc->boot_pin_cmd, "on");
            if (fc_run_cmd(fc, fc->power_cycle_cmd, NULL) != 0)
                fc_event(fc, "warn", "the power-cycle command failed");
            fc_loop_reset(fc);
            probe_at = false;
            deadline = now_ms() + fc->reboot_timeout_ms;
            continue;
        }
        if (e == MK_E_BOOTLOOP) {
            char msg[1400];
            fc_loop_report(fc, msg, sizeof msg);
            mk_cli_fail(cli, MK_E_BOOTLOOP, "%s", msg);
            return e;
        }
        if (e == MK_E_TIMEOUT) {
            mk_cli_fail(cli, MK_E_NOENT, "%s did not appear within %u s", mk_cli_device_path(cli),
                        fc->reboot_timeout_ms / 1000);
            return MK_E_NOENT;
        }
        if (e != MK_OK) {
            struct mk_posix_port *p = fc_port(fc);
            mk_cli_fail(cli, e, "%s: %s", mk_cli_device_path(cli),
                        p && p->msg[0] ? p->msg : mk_strerror(e));
            return e;
        }
    }
}

/* ---- flashing ---- */

static enum mk_err fc_session(struct fc *fc)
{
    struct mk_cli *cli = fc->cli;
    struct mk_cli_pkg *pkg = fc->pkg;
    const struct mk_dl_result *r = fc->found;
    snprintf(fc->target, sizeof fc->target, "%s", mk_dl_target_name(r->target));
    snprintf(fc->protocol, sizeof fc->protocol, "%s", mk_dl_proto_name(r->proto));
    struct mk_flash_file files[MK_PKG_MAX_FILES];
    for (size_t i = 0; i < pkg->ncwe; i++)
        files[i] = pkg->cwe[i].f;
    enum mk_err e;
    bool edl_pkg = pkg->nprograms > 0;
    enum mk_dl_target target = r->target;
    if (target == MK_DL_TARGET_UNKNOWN && r->forced && r->proto == MK_DL_PROTO_SAHARA)
        /* forced, and no HELLO to tell: what was given says which flow is meant */
        target = edl_pkg ? MK_DL_TARGET_PBL_EDL : MK_DL_TARGET_SIERRA_BOOTHOLD;
    switch (target) {
    case MK_DL_TARGET_PBL_EDL:
        if (!edl_pkg) {
            mk_cli_fail(cli, MK_E_EDL_PROGRAMMER,
                        "%s is a Qualcomm PBL emergency-download target (05c6:9008): it takes "
                        "no CWE images. It needs the vendor's signed programmer for this chip "
                        "and a partition package (rawprogram*.xml): give the QFIL package "
                        "directory, or --programmer FILE with its XML files",
                        mk_cli_device_path(cli));
            return MK_E_EDL_PROGRAMMER;
        }
        e = mk_flash_edl(&fc->fl, pkg->have_programmer ? &pkg->programmer.f : NULL, pkg->ops,
                         pkg->nops);
        break;
    case MK_DL_TARGET_QDL:
        e = edl_pkg ? MK_E_INVAL : mk_flash_qdl(&fc->fl, files, pkg->ncwe);
        break;
    case MK_DL_TARGET_RAMDUMP:
    case MK_DL_TARGET_DIAG:
    case MK_DL_TARGET_UNKNOWN:
    case MK_DL_TARGET_AT:
        mk_cli_fail(cli, MK_E_DETECT, "%s: %s", mk_cli_device_path(cli), mk_flash_message(&fc->fl));
        return MK_E_DETECT;
    default: /* Sierra boot-and-hold, or a Firehose already running */
        if (edl_pkg)
            e = mk_flash_edl(&fc->fl, pkg->have_programmer ? &pkg->programmer.f : NULL, pkg->ops,
                             pkg->nops);
        else
            e = mk_flash_sierra(&fc->fl, files, pkg->ncwe);
    }
    fc_bar_close(fc);
    if (e == MK_E_INVAL && edl_pkg)
        mk_cli_fail(cli, e, "a QDL target takes CWE images, not a partition package");
    else if (e != MK_OK)
        mk_cli_fail(cli, e, "flashing through %s failed: %s", mk_cli_device_path(cli),
                    mk_flash_message(&fc->fl));
    return e;
}

/* After the reset: normal mode again, and the version it runs. */
static int fc_verify(struct fc *fc)
{
    struct mk_cli *cli = fc->cli;
    uint64_t deadline = now_ms() + fc->reboot_timeout_ms;
    fc_loop_reset(fc);
    fc_event(fc, "info", "waiting for the module to come back in normal mode");
    struct mk_modem_id id;
    enum mk_err e;
    fc_close(fc);
    if (fc->usb_port[0] && fc_usb_follow(fc, false, deadline) == MK_E_BOOTLOOP)
        e = MK_E_BOOTLOOP;
    else
        e = MK_E_TIMEOUT;
    for (;;) {
        if (e == MK_E_BOOTLOOP)
            break;
        e = fc_connect(fc, deadline);
        if (e != MK_OK)
            break;
        mk_cli_device_rebind(cli);
        uint64_t left = deadline - now_ms();
        e = mk_cli_device_sync(cli, now_ms() + (left < 8000 ? left : 8000));
        if (e == MK_OK && (e = mk_modem_identify(cli->chan, &id)) == MK_OK)
            break;
        fc_close(fc);
        if (fc_sample(fc, fc_present(fc)) == MK_E_BOOTLOOP) {
            e = MK_E_BOOTLOOP;
            break;
        }
        if (now_ms() >= deadline) {
            e = MK_E_TIMEOUT;
            break;
        }
    }
    if (e == MK_E_BOOTLOOP) {
        char msg[1400];
        fc_loop_report(fc, msg, sizeof msg);
        return mk_cli_fail(cli, MK_E_BOOTLOOP, "after flashing: %s", msg);
    }
    if (e != MK_OK)
        return mk_cli_fail(cli, MK_E_FLASH_NOT_BACK,
                           "the module did not answer AT commands within %u s after the "
                           "reset (%s); power-cycle it and check with 'modemctl info'",
                           fc->reboot_timeout_ms / 1000, mk_strerror(e));
    char impref_fw[32] = "";
    if (id.vendor == MK_VENDOR_SIERRA)
        fc_impref(fc, impref_fw, sizeof impref_fw);
    const char *want = fc->expect_version ? fc->expect_version : fc->pkg->firmware;
    bool ok = true, compared = want[0] != '\0';
    if (compared)
        ok = mk_flash_version_match(id.revision, want) &&
             (!impref_fw[0] || mk_flash_version_match(impref_fw, want));
    else if (fc->old_revision[0])
        ok = strcmp(fc->old_revision, id.revision) != 0; /* at least it changed */
    if (cli->json) {
        printf("{\"event\":\"result\",\"ok\":%s,\"target\":", ok ? "true" : "false");
        mk_host_json_str(stdout, fc->target);
        printf(",\"protocol\":");
        mk_host_json_str(stdout, fc->protocol);
        printf(",\"expected\":");
        mk_host_json_str(stdout, want);
        printf(",\"revision_before\":");
        mk_host_json_str(stdout, fc->old_revision);
        printf(",\"revision\":");
        mk_host_json_str(stdout, id.revision);
        printf(",\"impref_fw\":");
        mk_host_json_str(stdout, impref_fw);
        printf(",\"seconds\":%.1f}\n", (double)(now_ms() - fc->t0_ms) / 1000.0);
        fflush(stdout);
    } else {
        printf("module back in normal mode: %s %s\n", id.model, id.revision);
        if (impref_fw[0])
            printf("AT!IMPREF current fw version: %s\n", impref_fw);
        if (compared)
            printf("expected firmware %s: %s\n", want, ok ? "OK" : "NOT RUNNING");
        else
            printf("no firmware version in what was flashed; not compared (--expect-version)\n");
    }
    if (!ok) {
        if (fc->old_revision[0] && strcmp(fc->old_revision, id.revision) == 0)
            return mk_cli_fail(cli, MK_E_FLASH_VERSION,
                               "the module still runs %s: the update did not take effect",
                               id.revision);
        return mk_cli_fail(cli, MK_E_FLASH_VERSION, "the module runs %s, not firmware %s",
                           id.revision, want);
    }
    return MK_EXIT_OK;
}

/* No -d: the first known module on USB (by --usb PORT or VID:PID). */
static enum mk_err fc_usb_discover(struct fc *fc)
{
    struct mk_usb_dev devs[16];
    size_t n = 0;
    enum mk_err e = mk_usb_list(&fc->roots, devs, 16, &n);
    if (e != MK_OK && e != MK_E_NOSPC)
        return e;
    for (size_t i = 0; i < n && i < 16; i++) {
        struct mk_usb_class cls;
        bool known = mk_usb_classify(&devs[i], &cls);
        const char *sel = fc->usb_sel;
        if (sel) {
            unsigned v, p;
            bool by_id = sscanf(sel, "%x:%x", &v, &p) == 2;
            if (by_id ? (devs[i].vid != v || devs[i].pid != p) : strcmp(devs[i].port, sel) != 0)
                continue;
        } else if (!known) {
            continue;
        }
        const char *tty = cls.mode == MK_USB_MODE_NORMAL ? cls.at_tty : cls.dl_tty;
        if (!tty)
            tty = cls.at_tty ? cls.at_tty : cls.dl_tty;
        char line[300];
        mk_usb_describe(&devs[i], line, sizeof line);
        fc_event(fc, "info", line);
        /* a driver missing, ModemManager holding the port: say so, with the fix */
        struct mk_usb_diag diag;
        enum mk_err de = mk_usb_diagnose(&fc->roots, &devs[i], &diag);
        if (de == MK_OK && !tty)
            de = MK_E_NO_DRIVER;
        if (de != MK_OK) {
            mk_cli_fail(fc->cli, de, "%s", diag.msg[0] ? diag.msg : "no tty on the module");
            return de;
        }
        if (diag.msg[0])
            fc_event(fc, "warn", diag.msg);
        static char path[64];
        snprintf(path, sizeof path, "/dev/%s", tty);
        fc->cli->device = path;
        memcpy(fc->usb_port, devs[i].port, sizeof fc->usb_port);
        fc->vid = devs[i].vid;
        fc->pid = devs[i].pid;
        fc->devnum = devs[i].devnum;
        return MK_OK;
    }
    mk_cli_fail(fc->cli, MK_E_NOENT,
                "no known cellular module found on USB%s%s; give the port with -d (lsusb shows "
                "what is connected)",
                fc->usb_sel ? " matching " : "", fc->usb_sel ? fc->usb_sel : "");
    return MK_E_NOENT;
}

static int mk_flash_run(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"protocol", required_argument, NULL, 'p'},
        {"programmer", required_argument, NULL, 'P'},
        {"boothold", no_argument, NULL, 'B'},
        {"hello-wait", required_argument, NULL, 'H'},
        {"probe-wait", required_argument, NULL, 'W'},
        {"cmd-timeout", required_argument, NULL, 'C'},
        {"final-wait", required_argument, NULL, 'F'},
        {"reboot-timeout", required_argument, NULL, 'R'},
        {"power-cycle-cmd", required_argument, NULL, 'X'},
        {"boot-pin-cmd", required_argument, NULL, 'T'},
        {"expect-version", required_argument, NULL, 'E'},
        {"usb", required_argument, NULL, 'U'},
        {"memory", required_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    static struct fc fcs;
    static struct mk_cli_pkg pkg;
    struct fc *fc = &fcs;
    memset(fc, 0, sizeof *fc);
    fc->cli = cli;
    fc->pkg = &pkg;
    fc->hello_wait_ms = 3000;
    fc->probe_wait_ms = 2000;
    fc->cmd_timeout_ms = 10000;
    fc->final_wait_ms = 300000;
    fc->reboot_timeout_ms = 120000;
    fc->roots.sys = getenv("MODEMCTL_SYSFS");
    fc->roots.proc = getenv("MODEMCTL_PROCFS");
    fc->tty = isatty(STDERR_FILENO);
    fc->t0_ms = now_ms();
    const char *programmer = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'p':
            if (strcmp(optarg, "auto") == 0)
                fc->proto = MK_DL_PROTO_NONE;
            else if (strcmp(optarg, "sahara") == 0)
                fc->proto = MK_DL_PROTO_SAHARA;
            else if (strcmp(optarg, "firehose") == 0)
                fc->proto = MK_DL_PROTO_FIREHOSE;
            else if (strcmp(optarg, "qdl") == 0)
                fc->proto = MK_DL_PROTO_QDL;
            else
                ok = false;
            break;
        case 'P':
            programmer = optarg;
            break;
        case 'B':
            fc->boothold = true;
            break;
        case 'H':
            fc->hello_wait_ms = secs_ms(optarg, &ok);
            break;
        case 'W':
            fc->probe_wait_ms = secs_ms(optarg, &ok);
            break;
        case 'C':
            fc->cmd_timeout_ms = secs_ms(optarg, &ok);
            break;
        case 'F':
            fc->final_wait_ms = secs_ms(optarg, &ok);
            break;
        case 'R':
            fc->reboot_timeout_ms = secs_ms(optarg, &ok);
            break;
        case 'X':
            fc->power_cycle_cmd = optarg;
            break;
        case 'T':
            fc->boot_pin_cmd = optarg;
            break;
        case 'E':
            fc->expect_version = optarg;
            break;
        case 'U':
            fc->usb_sel = optarg;
            break;
        case 'M':
            fc->memory = optarg;
            break;
        default:
            return mk_cli_usage_error(cli, "unknown option");
        }
        if (!ok)
            return mk_cli_usage_error(cli, "bad value '%s'", optarg);
    }
    if (optind >= argc)
        return mk_cli_usage_error(cli, "no image file given");
    if (fc->cmd_timeout_ms == 0 || fc->final_wait_ms == 0 || fc->reboot_timeout_ms == 0)
        return mk_cli_usage_error(cli, "waits must be longer than 0 s");

    /* 1. what to send */
    char why[1400];
    int rc = MK_EXIT_OK;
    for (int i = optind; i < argc && rc == MK_EXIT_OK; i++) {
        enum mk_err e = mk_cli_pkg_add(&pkg, argv[i], why, sizeof why);
        if (e != MK_OK)
            rc = mk_cli_fail(cli, e, "%s", why);
    }
    if (rc == MK_EXIT_OK && programmer) {
        enum mk_err e = mk_cli_pkg_programmer(&pkg, programmer, why, sizeof why);
        if (e != MK_OK)
            rc = mk_cli_fail(cli, e, "%s", why);
    }
    mk_cli_pkg_finish(&pkg);
    if (rc == MK_EXIT_OK && pkg.ncwe && pkg.nprograms)
        rc = mk_cli_usage_error(cli, "give either CWE images or a partition package, not both");
    if (rc == MK_EXIT_OK && !pkg.ncwe && !pkg.nprograms)
        rc = mk_cli_usage_error(cli, "nothing to flash");
    if (rc != MK_EXIT_OK) {
        mk_cli_pkg_free(&pkg);
        return rc;
    }
    if (pkg.ncwe) {
        char line[256];
        snprintf(line, sizeof line,
                 "%zu image file(s): product %s, firmware %s, config %s, "
                 "carrier %s",
                 pkg.ncwe, pkg.product[0] ? pkg.product : "-", pkg.firmware[0] ? pkg.firmware : "-",
                 pkg.config[0] ? pkg.config : "-", pkg.carrier[0] ? pkg.carrier : "-");
        fc_event(fc, "info", line);
    } else {
        char line[256];
        snprintf(line, sizeof line, "partition package: %zu programs, %zu patches, programmer %s",
                 pkg.nprograms, pkg.npatches,
                 pkg.have_programmer ? pkg.programmer.base : "(none found)");
        fc_event(fc, "info", line);
    }

    /* 2. the port */
    if (cli->device_default || fc->usb_sel) {
        enum mk_err e = fc_usb_discover(fc);
        if (e != MK_OK) {
            mk_cli_pkg_free(&pkg);
            return mk_cli_exit_code(e);
        }
    }
    fc->tcp = strncmp(cli->device, "tcp:", 4) == 0;
    fc_loop_reset(fc);
    enum mk_err e = mk_cli_device_open_port(cli, true);
    if (e == MK_OK || e == MK_E_NOENT || e == MK_E_HANGUP || e == MK_E_IO) {
        if (!fc->usb_port[0] && fc_usb_lookup(fc, mk_cli_device_path(cli), true) != MK_OK) {
            mk_cli_fail(cli, MK_E_PORT_HELD, "%s cannot be used (see above)",
                        mk_cli_device_path(cli));
            mk_cli_pkg_free(&pkg);
            return mk_cli_exit_code(MK_E_PORT_HELD);
        }
        e = MK_OK;
    }
    if (e != MK_OK) {
        struct mk_posix_port *p = fc_port(fc);
        rc = mk_cli_fail(cli, e, "%s: %s", cli->device, p && p->msg[0] ? p->msg : mk_strerror(e));
        mk_cli_pkg_free(&pkg);
        return rc;
    }

    /* 3. normal mode first? then detection */
    uint64_t deadline = now_ms() + fc->reboot_timeout_ms;
    if (fc->boothold) {
        e = fc_connect(fc, deadline);
        if (e == MK_OK)
            e = fc_boothold(fc, deadline);
        else
            mk_cli_fail(cli, e, "%s: %s", mk_cli_device_path(cli), mk_strerror(e));
    }
    if (e == MK_OK) {
        e = fc_detect(fc, !fc->boothold, deadline);
        if (e == MK_OK && fc->found->target == MK_DL_TARGET_AT) {
            if (fc->boot_pin_cmd && fc->recovered)
                fc_run_cmd(fc, fc->boot_pin_cmd, "off");
            e = fc_boothold(fc, now_ms() + fc->reboot_timeout_ms);
            if (e == MK_OK)
                e = fc_detect(fc, false, now_ms() + fc->reboot_timeout_ms);
        }
    }
    if (e == MK_OK && fc->recovered && fc->boot_pin_cmd)
        fc_run_cmd(fc, fc->boot_pin_cmd, "off"); /* release TP1 before the final reset */
    /* 4. flash */
    if (e == MK_OK)
        e = fc_session(fc);
    /* 5. back in normal mode, with the new version */
    if (e == MK_OK)
        rc = fc_verify(fc);
    else
        rc = mk_cli_exit_code(e);
    mk_cli_pkg_free(&pkg);
    return rc;
}

const struct mk_cli_cmd mk_cmd_flash = {
    .name = "flash",
    .synopsis = "flash [--protocol auto|sahara|firehose|qdl] [--programmer FILE] [--boothold] "
                "[--hello-wait S] [--final-wait S] [--reboot-timeout S] [--power-cycle-cmd CMD] "
                "FILE...",
    .summary = "Flash firmware in download mode (Sahara/Firehose, QDL, PBL EDL) and check it",
    .description =
        "Writes firmware through the module's download mode and checks that the module runs "
        "it afterwards.\n\n"
        "FILE is a Sierra CWE image (.spk, .cwe, .nvu; several are sent in order, and they "
        "must agree on firmware, config and carrier), or a QFIL package for a Qualcomm PBL "
        "emergency-download target (05c6:9008, e.g. SIMCom): its directory, or its "
        "rawprogram*.xml and patch*.xml files (partition images are found next to the XML) "
        "and the signed programmer (prog_*firehose*.mbn, found in the same directory or "
        "given with --programmer). Every CWE CRC is checked before anything is sent.\n\n"
        "The port (-d) may be in download mode already, or be the AT port of a Sierra module "
        "in normal mode: modemctl then identifies it and sends AT!BOOTHOLD first, and "
        "follows the module while it re-enumerates. Without -d, the first known module on "
        "USB is used (or the one --usb names). What the port speaks is detected from its "
        "bytes: modemctl listens first (--hello-wait), then provokes an answer (AT, the QDL "
        "SDP frame, a Firehose NOP, a Sahara HELLO_RSP, each waited for --probe-wait) and "
        "keeps every byte received, so a Sahara HELLO that arrives in answer to any probe is "
        "used (qmi-firmware-update threw it away: 'unsupported download protocol'). It tells "
        "a Sierra boot-and-hold target from a Qualcomm PBL EDL one, which needs a signed "
        "programmer, and says which it found.\n\n"
        "Sierra boot-and-hold: Sahara HELLO, the 0xFF00 switch to Firehose, then each file "
        "as spkg.cwe in blocks of the size the module names, and a wait of up to "
        "--final-wait for the module to check and write it. QDL (9x15/9x30): 1 MiB chunks "
        "with acknowledged sequence numbers. PBL EDL: the programmer through Sahara, then "
        "every <program> and the DISK <patch>es. Every NAK, and a final answer that does not "
        "come, is an error: nothing is reported as flashed unless the module said so.\n\n"
        "Afterwards the module resets; modemctl waits up to --reboot-timeout for its AT port, "
        "reads AT+CGMR (and AT!IMPREF? on Sierra) and compares the firmware version with the "
        "one in the images. A module that still runs the old version is a failure (exit 19).\n\n"
        "A module that appears and vanishes repeatedly (a reboot loop, seed 004) is reported "
        "with what to do: hold its boot pin (TP1 on RC76xx) low at power-on to force download "
        "mode, or remove power completely. With --power-cycle-cmd (and --boot-pin-cmd) "
        "modemctl does that itself once.\n\n"
        "Progress goes to stderr (a bar on a terminal); with --json, stdout carries one JSON "
        "object per event: {\"event\":\"note\"|\"progress\"|\"result\", ...}.",
    .opts =
        (const struct mk_cli_opt_doc[]){
            {"--protocol auto|sahara|firehose|qdl",
             "Skip detection and assume this protocol (default auto). sahara covers both "
             "Sierra boot-and-hold and PBL EDL; firehose means a programmer already runs."},
            {"--programmer FILE", "The signed Firehose programmer for a PBL EDL target."},
            {"--boothold",
             "The port is the AT port of a Sierra module in normal mode: send AT!BOOTHOLD "
             "without probing first (auto-detection does the same when the port answers AT)."},
            {"--hello-wait S", "Listen this long for a Sahara HELLO before provoking one "
                               "(default 3)."},
            {"--probe-wait S", "Wait this long for an answer to each probe (default 2)."},
            {"--cmd-timeout S", "Wait this long for each protocol answer (default 10)."},
            {"--final-wait S",
             "Wait this long for the module to accept each file after its last byte "
             "(default 300: Sierra modules take minutes)."},
            {"--reboot-timeout S",
             "Wait this long for the module to come back after each reset, and for a port "
             "that is not there yet (default 120)."},
            {"--power-cycle-cmd CMD",
             "When the module is in a reboot loop, run CMD (through /bin/sh) to cut and "
             "restore its power, once, then flash it."},
            {"--boot-pin-cmd CMD",
             "With --power-cycle-cmd: run 'CMD on' before the power cycle (hold TP1 low) and "
             "'CMD off' once download mode is found."},
            {"--expect-version V",
             "The firmware version to find after flashing (default: from the CWE images)."},
            {"--usb PORT|VID:PID", "Without -d: the USB device to use (port path such as "
                                   "3-1, or IDs such as 1199:68c0)."},
            {"--memory NAME", "MemoryName for a PBL EDL configure (default NAND when a "
                              "rawprogram file name says nand, else eMMC)."},
            {NULL, NULL},
        },
    .examples = "  modemctl -d /dev/ttyUSB0 flash RC76xx_Release9_GENERIC_GCF_7620.spk\n"
                "  modemctl -d /dev/ttyUSB2 flash --boothold fw.spk carrier.nvu\n"
                "  modemctl --json -d /dev/ttyUSB0 flash --final-wait 600 fw.spk\n"
                "  modemctl -d /dev/ttyUSB0 flash ./SIM7600_QFIL_package/\n"
                "  modemctl -d /tmp/tty flash --power-cycle-cmd 'modemsim --ctl /tmp/c "
                "power-cycle' --boot-pin-cmd 'modemsim --ctl /tmp/c tp1' fw.spk\n",
    .needs_device = false,
    .run = mk_flash_run,
};
