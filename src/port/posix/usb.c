/*
 * USB discovery through sysfs, the table of known modules, diagnosis (driver binding,
 * port holders, ModemManager), re-enumeration following and reboot-loop detection.
 * See include/modemkit/usb.h for the contracts.
 *
 * sysfs layout relied upon (Documentation/ABI/testing/sysfs-bus-usb):
 *   <sys>/bus/usb/devices/3-1               -> the device (idVendor, idProduct, busnum,
 *                                              devnum, devpath, bNumInterfaces, strings)
 *   <sys>/bus/usb/devices/3-1/3-1:1.2       -> its interface 2 (bInterfaceNumber, ...)
 *   .../3-1:1.2/driver                      -> symlink to the bound driver
 *   .../3-1:1.2/ttyUSB2                     -> usb-serial port (option, qcserial)
 *   .../3-1:1.2/tty/ttyACM0                 -> cdc_acm tty
 */
#include "modemkit/str.h"
#include "modemkit/usb.h"
#include "modemkit/posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEVICES 256

static const char *sys_root(const struct mk_usb_roots *r)
{
    return r && r->sys ? r->sys : "/sys";
}

static const char *proc_root(const struct mk_usb_roots *r)
{
    return r && r->proc ? r->proc : "/proc";
}

/* out = a + "/" + b; false when it does not fit. */
static bool join(char *out, size_t cap, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > cap)
        return false;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return true;
}

/* <sys>/bus/usb/devices/<port> */
static bool usb_dev_dir(const struct mk_usb_roots *roots, const char *port, char *out, size_t cap)
{
    char base[PATH_MAX];
    return join(base, sizeof base, sys_root(roots), "bus/usb/devices") &&
           join(out, cap, base, port);
}

/* Reads a small sysfs attribute into buf without the trailing newline. */
static bool read_attr(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[PATH_MAX];
    if (!join(path, sizeof path, dir, name))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t r;
    do
        r = read(fd, buf, cap - 1);
    while (r < 0 && errno == EINTR);
    close(fd);
    if (r < 0)
        return false;
    size_t n = (size_t)r;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return true;
}

/* Numeric attribute in base 10 or 16 ("1199", " 4", "ff"). */
static bool read_num(const char *dir, const char *name, int base, unsigned long *out)
{
    char buf[32], *end;
    if (!read_attr(dir, name, buf, sizeof buf))
        return false;
    const char *s = buf;
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    errno = 0;
    *out = strtoul(s, &end, base);
    return errno == 0 && *end == '\0';
}

/* Basename of a symlink's target ("…/drivers/qcserial" -> "qcserial"); "" if none. */
static void link_basename(const char *path, char *out, size_t cap)
{
    char target[PATH_MAX];
    out[0] = '\0';
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    (void)mk_strlcpy(out, slash ? slash + 1 : target, cap);
}

/* A device entry is "B-P[.P...]": no colon (interfaces), not "usbN" (root hubs). */
static bool is_device_name(const char *name)
{
    if (name[0] < '0' || name[0] > '9' || strchr(name, ':') || !strchr(name, '-'))
        return false;
    return strlen(name) < MK_USB_NAME_CAP;
}

/* The first "tty*" entry of dir ("ttyUSB2"; for cdc_acm dir is <intf>/tty). */
static void find_tty(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    out[0] = '\0';
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "tty", 3) == 0 && e->d_name[3] != '\0') {
            (void)mk_strlcpy(out, e->d_name, cap);
            break;
        }
    }
    closedir(d);
}

static bool read_intf(const char *devdir, const char *name, struct mk_usb_intf *it)
{
    char dir[PATH_MAX], sub[PATH_MAX];
    unsigned long v;
    memset(it, 0, sizeof *it);
    if (!join(dir, sizeof dir, devdir, name))
        return false;
    if (!read_num(dir, "bInterfaceNumber", 16, &v) || v > 255)
        return false;
    it->number = (uint8_t)v;
    if (read_num(dir, "bInterfaceClass", 16, &v))
        it->cls = (uint8_t)v;
    if (read_num(dir, "bInterfaceSubClass", 16, &v))
        it->subclass = (uint8_t)v;
    if (read_num(dir, "bInterfaceProtocol", 16, &v))
        it->protocol = (uint8_t)v;
    if (join(sub, sizeof sub, dir, "driver"))
        link_basename(sub, it->driver, sizeof it->driver);
    find_tty(dir, it->tty, sizeof it->tty); /* usb-serial: <intf>/ttyUSBn */
    if (!it->tty[0]) {
        if (join(sub, sizeof sub, dir, "tty")) /* cdc_acm: <intf>/tty/ttyACMn */
            find_tty(sub, it->tty, sizeof it->tty);
    }
    return true;
}

static int cmp_intf(const void *a, const void *b)
{
    const struct mk_usb_intf *x = a, *y = b;
    return (int)x->number - (int)y->number;
}

enum mk_err mk_usb_read(const struct mk_usb_roots *roots, const char *port, struct mk_usb_dev *out)
{
    char dir[PATH_MAX], prefix[MK_USB_NAME_CAP + 1];
    unsigned long v;
    memset(out, 0, sizeof *out);
    if (!port || !is_device_name(port))
        return MK_E_INVAL;
    if (!usb_dev_dir(roots, port, dir, sizeof dir))
        return MK_E_INVAL;
    /* idVendor is the one attribute every device has: without it the device is gone (or
     * half created or removed while we look). */
    if (!read_num(dir, "idVendor", 16, &v))
        return MK_E_NOENT;
    out->vid = (uint16_t)v;
    if (read_num(dir, "idProduct", 16, &v))
        out->pid = (uint16_t)v;
    if (read_num(dir, "busnum", 10, &v))
        out->busnum = (unsigned)v;
    if (read_num(dir, "devnum", 10, &v))
        out->devnum = (unsigned)v;
    if (read_num(dir, "bNumInterfaces", 10, &v))
        out->num_interfaces = (unsigned)v;
    (void)mk_strlcpy(out->port, port, sizeof out->port);
    read_attr(dir, "devpath", out->devpath, sizeof out->devpath);
    read_attr(dir, "manufacturer", out->manufacturer, sizeof out->manufacturer);
    read_attr(dir, "product", out->product, sizeof out->product);
    read_attr(dir, "serial", out->serial, sizeof out->serial);

    size_t plen = strlen(port);
    memcpy(prefix, port, plen);
    prefix[plen] = ':';
    prefix[plen + 1] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return MK_E_NOENT;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->nintf < MK_USB_MAX_INTF) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (read_intf(dir, e->d_name, &out->intf[out->nintf]))
            out->nintf++;
    }
    closedir(d);
    qsort(out->intf, out->nintf, sizeof out->intf[0], cmp_intf);
    return MK_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Device names under <sys>/bus/usb/devices, sorted. */
static enum mk_err list_names(const struct mk_usb_roots *roots, char (*names)[MK_USB_NAME_CAP],
                              size_t *n)
{
    char dir[PATH_MAX];
    DIR *d = join(dir, sizeof dir, sys_root(roots), "bus/usb/devices") ? opendir(dir) : NULL;
    *n = 0;
    if (!d)
        return MK_E_NOENT;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *n < MAX_DEVICES) {
        if (is_device_name(e->d_name))
            (void)mk_strlcpy(names[(*n)++], e->d_name, MK_USB_NAME_CAP);
    }
    closedir(d);
    qsort(names, *n, MK_USB_NAME_CAP, cmp_name);
    return MK_OK;
}

enum mk_err mk_usb_list(const struct mk_usb_roots *roots, struct mk_usb_dev *devs, size_t cap,
                        size_t *n)
{
    char names[MAX_DEVICES][MK_USB_NAME_CAP];
    size_t nn, found = 0;
    *n = 0;
    enum mk_err e = list_names(roots, names, &nn);
    if (e != MK_OK)
        return e;
    for (size_t i = 0; i < nn; i++) {
        struct mk_usb_dev tmp;
        struct mk_usb_dev *dst = found < cap ? &devs[found] : &tmp;
        if (mk_usb_read(roots, names[i], dst) == MK_OK)
            found++; /* a device removed meanwhile is simply skipped */
    }
    *n = found;
    return found > cap ? MK_E_NOSPC : MK_OK;
}

/* Visits devices in port order until match() says yes. */
static enum mk_err find_dev(const struct mk_usb_roots *roots,
                            bool (*match)(const struct mk_usb_dev *, const void *), const void *arg,
                            struct mk_usb_dev *out)
{
    char names[MAX_DEVICES][MK_USB_NAME_CAP];
    size_t nn;
    enum mk_err e = list_names(roots, names, &nn);
    if (e != MK_OK)
        return e;
    for (size_t i = 0; i < nn; i++)
        if (mk_usb_read(roots, names[i], out) == MK_OK && match(out, arg))
            return MK_OK;
    memset(out, 0, sizeof *out);
    return MK_E_NOENT;
}

struct id_arg {
    uint16_t vid, pid;
};

static bool match_id(const struct mk_usb_dev *d, const void *arg)
{
    const struct id_arg *a = arg;
    return d->vid == a->vid && (a->pid == 0 || d->pid == a->pid);
}

enum mk_err mk_usb_find_id(const struct mk_usb_roots *roots, uint16_t vid, uint16_t pid,
                           struct mk_usb_dev *out)
{
    struct id_arg a = {vid, pid};
    return find_dev(roots, match_id, &a, out);
}

static bool match_tty(const struct mk_usb_dev *d, const void *arg)
{
    for (size_t i = 0; i < d->nintf; i++)
        if (strcmp(d->intf[i].tty, arg) == 0)
            return true;
    return false;
}

enum mk_err mk_usb_find_tty(const struct mk_usb_roots *roots, const char *tty,
                            struct mk_usb_dev *out, size_t *intf)
{
    const char *slash = strrchr(tty, '/');
    const char *name = slash ? slash + 1 : tty;
    enum mk_err e = find_dev(roots, match_tty, name, out);
    if (e == MK_OK && intf) {
        for (size_t i = 0; i < out->nintf; i++)
            if (strcmp(out->intf[i].tty, name) == 0)
                *intf = i;
    }
    return e;
}

const struct mk_usb_intf *mk_usb_intf_by_number(const struct mk_usb_dev *dev, int number)
{
    for (size_t i = 0; i < dev->nintf; i++)
        if (dev->intf[i].number == number)
            return &dev->intf[i];
    return NULL;
}

void mk_usb_describe(const struct mk_usb_dev *dev, char *buf, size_t cap)
{
    size_t len = 0;
    int n = snprintf(buf, cap, "%s %04x:%04x dev %u '%s'", dev->port, dev->vid, dev->pid,
                     dev->devnum, dev->product);
    for (size_t i = 0; n >= 0 && (len += (size_t)n) < cap && i < dev->nintf; i++) {
        const struct mk_usb_intf *it = &dev->intf[i];
        n = snprintf(buf + len, cap - len, "%s if%u %s%s%s", i ? "," : "", it->number,
                     it->driver[0] ? it->driver : "(no driver)", it->tty[0] ? " " : "", it->tty);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Known modules                                                                       */

#define SRC_SIERRA_QDL                                                                             \
    "download-mode.md §5.3: Linux qcserial ID table (stable patches), OpenWrt forum "             \
    "thread on MC7455 showing only /dev/ttyUSB0"
#define NOTE_SIERRA_QDL                                                                            \
    "Sierra download (QDL / boot-and-hold) mode: one serial port speaking QDL or "                 \
    "Sahara+Firehose; no AT commands"

static const struct mk_usb_known known_table[] = {
    /* SIMCom default composition. Linux option serves interfaces 0-4 and reserves 5
     * (qmi_wwan, DTR quirk) and 6: at-commands.md §4.4 (K1: option.c
     * SIMCOM_PRODUCT_SIM7100E with RSVD(5)|RSVD(6), qmi_wwan QMI_QUIRK_SET_DTR). AT on
     * interface 2 = ttyUSB2: at-commands.md §4.4 (miltschek, industrialshields). The
     * SIM7000 uses the same PID (S13 SIM7000 Linux User Guide V2.00). */
    {0x1e0e, 0x9001, 0, MK_USB_MODE_NORMAL, "SIMCom SIM7100/SIM7500/SIM7600 (also SIM7000)", 2,
     "option", "normal mode; AT port on interface 2 (usually /dev/ttyUSB2)",
     "at-commands.md §4.4 (K1 option.c/qmi_wwan.c; SIM7600 tty map)"},
    /* SIM7070/80/90 compositions chosen with AT+CUSBSELNV: at-commands.md §4.4 (S13
     * SIM7070 Linux note, K1). Which interface carries AT is not in our references. */
    {0x1e0e, 0x9205, 0, MK_USB_MODE_NORMAL, "SIMCom SIM7070/SIM7080/SIM7090 (AT+ECM)", -1, "option",
     "normal mode, AT + ECM composition", "at-commands.md §4.4 (S13 SIM7070 Linux note; K1)"},
    {0x1e0e, 0x9206, 0, MK_USB_MODE_NORMAL, "SIMCom SIM7070/SIM7080/SIM7090 (AT only)", -1,
     "option", "normal mode, AT-only composition (the default)",
     "at-commands.md §4.4 (S13 SIM7070 Linux note; K1)"},
    /* RC76xx keeps 1199:68c0 in both modes; boot-and-hold shows a single qcserial
     * interface (download-mode.md §5.3, Sierra forum threads 24154/24 and 31270; seed 004:
     * RC7620 with TP1 low at power-on stays on the bus with only /dev/ttyUSB0). This row
     * must come before the normal-mode row. */
    {0x1199, 0x68c0, 1, MK_USB_MODE_BOOTHOLD, "Sierra Wireless RC76xx", -1, "qcserial",
     "boot-and-hold (download) mode: Sahara, then Firehose after the 0xFF00 switch; "
     "no AT commands",
     "download-mode.md §5.3 (forum threads 24154/24, 31270); seed 004"},
    /* Normal mode: seed 004 (RC7620, SWI9X07H_00.08.24.02, mmcli): drivers qcserial and
     * qmi_wwan, ports ttyUSB0 (qcdm) and ttyUSB2 (at). That ttyUSB2 sits on interface 3
     * follows the Sierra layout of Linux qcserial (0 DM, 2 NMEA, 3 AT), which is outside
     * our references: UNVERIFIED on hardware. */
    {0x1199, 0x68c0, 0, MK_USB_MODE_NORMAL, "Sierra Wireless RC76xx", 3, "qcserial",
     "normal mode; AT port on interface 3 (usually /dev/ttyUSB2), DM/QCDM on ttyUSB0",
     "seed 004 (mmcli port list); download-mode.md §5.3"},
    /* Sierra QDL / boot-and-hold PIDs of other modules: download-mode.md §5.3. */
    {0x1199, 0x9062, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless EM7305 (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0x9070, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless MC/EM74xx (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0x9078, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless MC/EM74xx (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0x907a, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless EM74xx (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0x9090, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless EM7565 (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0x90d2, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless EM9191 (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0x90e4, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless EM86xx (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    {0x1199, 0xc080, 0, MK_USB_MODE_BOOTHOLD, "Sierra Wireless EM7590 (QDL)", -1, "qcserial",
     NOTE_SIERRA_QDL, SRC_SIERRA_QDL},
    /* PBL emergency download. qcserial lists it (K1: DEVICE_G1K(0x05c6, 0x9008) "Generic
     * Gobi QDL device"). SIMCom and Quectel modules and an RC76xx with a damaged SBL and
     * the boot pin low land here (download-mode.md §5.3). */
    {0x05c6, 0x9008, 0, MK_USB_MODE_EDL, "Qualcomm PBL emergency download (QDLoader 9008)", -1,
     "qcserial",
     "emergency download mode: the boot ROM speaks Sahara and needs a signed programmer "
     "(Firehose loader) made for this chip; no AT commands",
     "download-mode.md §5.3 (qdl README, edl usb_ids.py, QFirehose); at-commands.md §4.4 "
     "(K1 qcserial)"},
    {0x05c6, 0x900e, 0, MK_USB_MODE_CRASHDUMP, "Qualcomm crash dump / memory debug", -1, NULL,
     "the module crashed and waits for a memory dump (Sahara memory debug); power-cycle "
     "it to leave this mode",
     "download-mode.md §5.3 (qdl README, edl 51-edl.rules)"},
    /* Quectel EC25 application mode: download-mode.md §5.3 (edl default_diag_vid_pid).
     * The option driver and the AT interface are not in our references. */
    {0x2c7c, 0x0125, 0, MK_USB_MODE_NORMAL, "Quectel EC25", -1, "option", "normal mode",
     "download-mode.md §5.3 (edl default_diag_vid_pid)"},
};

const struct mk_usb_known *mk_usb_known_table(size_t *n)
{
    *n = sizeof known_table / sizeof known_table[0];
    return known_table;
}

const char *mk_usb_mode_name(enum mk_usb_mode mode)
{
    switch (mode) {
    case MK_USB_MODE_NORMAL:
        return "normal";
    case MK_USB_MODE_BOOTHOLD:
        return "boot-and-hold";
    case MK_USB_MODE_EDL:
        return "edl";
    case MK_USB_MODE_CRASHDUMP:
        return "crash-dump";
    case MK_USB_MODE_UNKNOWN:
        break;
    }
    return "unknown";
}

static const char *first_tty(const struct mk_usb_dev *dev)
{
    for (size_t i = 0; i < dev->nintf; i++)
        if (dev->intf[i].tty[0])
            return dev->intf[i].tty;
    return NULL;
}

bool mk_usb_classify(const struct mk_usb_dev *dev, struct mk_usb_class *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof known_table / sizeof known_table[0]; i++) {
        const struct mk_usb_known *k = &known_table[i];
        if (k->vid != dev->vid || k->pid != dev->pid)
            continue;
        if (k->only_num_interfaces && k->only_num_interfaces != dev->num_interfaces)
            continue;
        out->known = k;
        out->mode = k->mode;
        if (k->mode == MK_USB_MODE_NORMAL) {
            const struct mk_usb_intf *it = mk_usb_intf_by_number(dev, k->at_intf);
            out->at_tty = it && it->tty[0] ? it->tty : NULL;
        } else {
            out->dl_tty = first_tty(dev);
        }
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------------- */
/* Holders and ModemManager                                                            */

static bool is_pid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void read_comm(const char *proc, const char *pid, char *out, size_t cap)
{
    char dir[PATH_MAX];
    if (!join(dir, sizeof dir, proc, pid) || !read_attr(dir, "comm", out, cap))
        out[0] = '\0';
}

int mk_usb_modemmanager_pid(const struct mk_usb_roots *roots)
{
    const char *proc = proc_root(roots);
    DIR *d = opendir(proc);
    struct dirent *e;
    int pid = 0;
    if (!d)
        return 0;
    while (!pid && (e = readdir(d)) != NULL) {
        char comm[MK_USB_NAME_CAP];
        if (!is_pid_name(e->d_name))
            continue;
        read_comm(proc, e->d_name, comm, sizeof comm);
        if (strcmp(comm, "ModemManager") == 0)
            pid = atoi(e->d_name);
    }
    closedir(d);
    return pid;
}

/* Does one of the links in <proc>/<pid>/fd point at target? -1 when we may not look. */
static int pid_holds(const char *proc, const char *pid, const char *target)
{
    char base[PATH_MAX], dir[PATH_MAX];
    if (!join(base, sizeof base, proc, pid) || !join(dir, sizeof dir, base, "fd"))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == EACCES || errno == EPERM ? -1 : 0;
    struct dirent *e;
    int held = 0;
    while (!held && (e = readdir(d)) != NULL) {
        char link[PATH_MAX], dest[PATH_MAX];
        if (e->d_name[0] == '.')
            continue;
        if (!join(link, sizeof link, dir, e->d_name))
            continue;
        ssize_t n = readlink(link, dest, sizeof dest - 1);
        if (n <= 0)
            continue;
        dest[n] = '\0';
        held = strcmp(dest, target) == 0;
    }
    closedir(d);
    return held;
}

enum mk_err mk_usb_find_holders(const struct mk_usb_roots *roots, const char *dev_path,
                                struct mk_usb_holder *out, size_t cap, size_t *n,
                                unsigned *unreadable)
{
    const char *proc = proc_root(roots);
    char target[PATH_MAX];
    *n = 0;
    if (unreadable)
        *unreadable = 0;
    /* /proc/PID/fd shows the node's real path: resolve /dev/serial/by-id/... first. */
    if (!realpath(dev_path, target))
        (void)mk_strlcpy(target, dev_path, sizeof target);
    DIR *d = opendir(proc);
    if (!d)
        return mk_posix_errno(errno);
    struct dirent *e;
    int self = (int)getpid();
    while ((e = readdir(d)) != NULL) {
        if (!is_pid_name(e->d_name) || atoi(e->d_name) == self)
            continue;
        int held = pid_holds(proc, e->d_name, target);
        if (held < 0 && unreadable)
            (*unreadable)++;
        if (held <= 0)
            continue;
        if (*n < cap) {
            out[*n].pid = atoi(e->d_name);
            read_comm(proc, e->d_name, out[*n].comm, sizeof out[*n].comm);
        }
        (*n)++;
    }
    closedir(d);
    return *n > cap ? MK_E_NOSPC : MK_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Diagnosis                                                                           */

/* Appends to a message buffer; silently stops at the end (messages are for humans). */
static void msg_add(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void msg_add(char *msg, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(msg);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + len, cap - len, fmt, ap);
    va_end(ap);
}

static bool is_serial_candidate(const struct mk_usb_intf *it)
{
    /* Vendor-specific interfaces carry the AT/DM/NMEA/download ports; CDC ACM too. */
    return it->cls == 0xff || (it->cls == 0x02 && it->subclass == 0x02);
}

/* The usb-serial driver name under /sys/bus/usb-serial/drivers ("option" is "option1"). */
static const char *usb_serial_name(const char *driver)
{
    return strcmp(driver, "option") == 0 ? "option1" : driver;
}

static void explain_no_driver(const struct mk_usb_dev *dev, const struct mk_usb_class *cls,
                              const struct mk_usb_intf *it, char *msg, size_t cap)
{
    const char *drv = cls->known && cls->known->driver ? cls->known->driver : "option";
    msg_add(msg, cap, "USB device %s (%04x:%04x%s%s) is present but ", dev->port, dev->vid,
            dev->pid, cls->known ? ", " : "", cls->known ? cls->known->model : "");
    if (it && it->driver[0])
        msg_add(msg, cap, "interface %u is bound to %s, which gives no serial port", it->number,
                it->driver);
    else if (it)
        msg_add(msg, cap, "no serial driver is bound to interface %u%s", it->number,
                cls->mode == MK_USB_MODE_NORMAL && cls->known->at_intf == it->number
                    ? " (the AT port)"
                    : "");
    else
        msg_add(msg, cap, "none of its interfaces has a serial driver bound");
    msg_add(msg, cap, ", so there is no tty to open. Load the driver: sudo modprobe %s", drv);
    if (strcmp(drv, "qcserial") == 0 && dev->vid == 0x05c6 && dev->pid == 0x9008)
        msg_add(msg, cap, " (qcserial lists 05c6:9008 as its generic QDL device)");
    msg_add(msg, cap,
            ". If the kernel does not know this VID:PID yet, add it: "
            "echo %04x %04x | sudo tee /sys/bus/usb-serial/drivers/%s/new_id",
            dev->vid, dev->pid, usb_serial_name(drv));
    if (it && strcmp(it->driver, "usbfs") == 0)
        msg_add(msg, cap,
                ". 'usbfs' means a program using libusb (qdl, edl, QFirehose) has "
                "claimed the interface: close it first");
}

/* The interface whose tty we need; NULL when any vendor-specific one will do. */
static const struct mk_usb_intf *target_intf(const struct mk_usb_dev *dev,
                                             const struct mk_usb_class *cls)
{
    if (cls->mode == MK_USB_MODE_NORMAL && cls->known->at_intf >= 0)
        return mk_usb_intf_by_number(dev, cls->known->at_intf);
    if (cls->mode != MK_USB_MODE_NORMAL && cls->mode != MK_USB_MODE_UNKNOWN && dev->nintf > 0)
        return &dev->intf[0]; /* download modes expose a single interface */
    return NULL;
}

static void explain_holder(const struct mk_usb_dev *dev, const char *sys,
                           const struct mk_usb_diag *d, size_t nholders, char *msg, size_t cap)
{
    char uid[PATH_MAX], link[PATH_MAX];
    msg_add(msg, cap, "/dev/%s is held open by %s (pid %d)", d->tty,
            d->holder.comm[0] ? d->holder.comm : "another process", d->holder.pid);
    if (nholders > 1)
        msg_add(msg, cap, " and %zu other process(es)", nholders - 1);
    if (strcmp(d->holder.comm, "ModemManager") != 0) {
        msg_add(msg, cap, ". Close that program first (kill %d).", d->holder.pid);
        return;
    }
    link[0] = '\0';
    /* ModemManager's device UID is the USB device's sysfs path. */
    if (!usb_dev_dir(&(struct mk_usb_roots){sys, NULL}, dev->port, link, sizeof link) ||
        !realpath(link, uid))
        (void)mk_strlcpy(uid, link, sizeof uid);
    msg_add(msg, cap,
            ". ModemManager probes and keeps modem ports; while modemkit works on this module "
            "either stop it (sudo systemctl stop ModemManager), or keep it away from this "
            "device only (run 'mmcli --inhibit-device=%s', or 'mmcli -m <index> --inhibit', in "
            "another terminal for the duration), or ignore the module for good with a udev rule: "
            "ACTION==\"add|change|move\", SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"%04x\", "
            "ATTRS{idProduct}==\"%04x\", ENV{ID_MM_DEVICE_IGNORE}=\"1\" "
            "(see docs/hardware.md).",
            uid, dev->vid, dev->pid);
}

enum mk_err mk_usb_diagnose(const struct mk_usb_roots *roots, const struct mk_usb_dev *dev,
                            struct mk_usb_diag *out)
{
    memset(out, 0, sizeof *out);
    mk_usb_classify(dev, &out->cls);
    out->mm_pid = mk_usb_modemmanager_pid(roots);

    /* 1. Is there a tty where we need one? */
    const struct mk_usb_intf *it = target_intf(dev, &out->cls);
    const struct mk_usb_intf *unbound = it;
    if (it && it->tty[0]) {
        (void)mk_strlcpy(out->tty, it->tty, sizeof out->tty);
    } else if (!it) {
        for (size_t i = 0; i < dev->nintf && !out->tty[0]; i++) {
            if (!is_serial_candidate(&dev->intf[i]))
                continue;
            if (dev->intf[i].tty[0])
                (void)mk_strlcpy(out->tty, dev->intf[i].tty, sizeof out->tty);
            else if (!unbound)
                unbound = &dev->intf[i];
        }
    }
    if (!out->tty[0]) {
        out->err = MK_E_NO_DRIVER;
        explain_no_driver(dev, &out->cls, unbound, out->msg, sizeof out->msg);
        return out->err;
    }

    /* 2. Is anybody else using it? */
    char path[MK_USB_NAME_CAP + 8];
    struct mk_usb_holder holders[4];
    size_t nh = 0;
    snprintf(path, sizeof path, "/dev/%s", out->tty);
    (void)mk_usb_find_holders(roots, path, holders, 4, &nh, NULL);
    if (nh > 0) {
        out->err = MK_E_PORT_HELD;
        out->holder = holders[0];
        /* Prefer naming ModemManager when it is among the holders: it has a known fix. */
        for (size_t i = 1; i < nh && i < 4; i++)
            if (strcmp(holders[i].comm, "ModemManager") == 0)
                out->holder = holders[i];
        explain_holder(dev, sys_root(roots), out, nh, out->msg, sizeof out->msg);
        return out->err;
    }

    /* 3. Usable. Say what it is, and warn about ModemManager. */
    msg_add(out->msg, sizeof out->msg, "%s %04x:%04x", dev->port, dev->vid, dev->pid);
    if (out->cls.known)
        msg_add(out->msg, sizeof out->msg, " %s: %s", out->cls.known->model, out->cls.known->note);
    msg_add(out->msg, sizeof out->msg, "; port /dev/%s", out->tty);
    if (out->mm_pid)
        msg_add(out->msg, sizeof out->msg,
                ". Warning: ModemManager is running (pid %d); it may grab the port when the "
                "module re-enumerates (reboot, mode switch): stop or inhibit it while "
                "flashing (see docs/hardware.md)",
                out->mm_pid);
    out->err = MK_OK;
    return MK_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Reboot-loop detection                                                               */

void mk_usb_loop_init(struct mk_usb_loopwatch *lw, const struct mk_usb_loop_cfg *cfg)
{
    memset(lw, 0, sizeof *lw);
    if (cfg)
        lw->cfg = *cfg;
    if (!lw->cfg.window_ms)
        lw->cfg.window_ms = 120000;
    if (!lw->cfg.min_cycles)
        lw->cfg.min_cycles = 3;
    if (lw->cfg.min_cycles > MK_USB_LOOP_HISTORY)
        lw->cfg.min_cycles = MK_USB_LOOP_HISTORY;
    if (!lw->cfg.max_up_ms)
        lw->cfg.max_up_ms = 30000;
}

static uint32_t clamp_u32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

enum mk_err mk_usb_loop_sample(struct mk_usb_loopwatch *lw, uint64_t now_ms, bool present)
{
    if (!lw->started) {
        lw->started = true;
        lw->present = present;
        lw->since_ms = now_ms;
        return MK_OK;
    }
    if (present != lw->present) {
        uint32_t dur = clamp_u32(now_ms - lw->since_ms);
        if (lw->present) {
            /* Only short appearances count: a module that ran for a while and was then
             * reset (FOTA, AT+CFUN=1,1) is not looping. */
            if (dur < lw->cfg.max_up_ms) {
                unsigned i = lw->nvanish++ % MK_USB_LOOP_HISTORY;
                lw->vanish_ms[i] = now_ms;
                lw->up_ms[i] = dur;
            }
        } else {
            lw->down_ms[lw->ndown++ % MK_USB_LOOP_HISTORY] = dur;
        }
        lw->present = present;
        lw->since_ms = now_ms;
    }

    unsigned have = lw->nvanish < MK_USB_LOOP_HISTORY ? lw->nvanish : MK_USB_LOOP_HISTORY;
    uint64_t up_sum = 0, first = now_ms; /* start of the oldest counted appearance */
    lw->cycles = 0;
    for (unsigned k = 0; k < have; k++) {
        unsigned i = (lw->nvanish - 1 - k) % MK_USB_LOOP_HISTORY; /* newest first */
        if (now_ms - lw->vanish_ms[i] > lw->cfg.window_ms)
            break;
        lw->cycles++;
        up_sum += lw->up_ms[i];
        first = lw->vanish_ms[i] - lw->up_ms[i];
    }
    if (lw->cycles < lw->cfg.min_cycles)
        return MK_OK;

    unsigned nd = lw->ndown < lw->cycles ? lw->ndown : lw->cycles;
    uint64_t down_sum = 0;
    for (unsigned k = 0; k < nd && k < MK_USB_LOOP_HISTORY; k++)
        down_sum += lw->down_ms[(lw->ndown - 1 - k) % MK_USB_LOOP_HISTORY];
    uint64_t up_avg = up_sum / lw->cycles, down_avg = nd ? down_sum / nd : 0;
    lw->msg[0] = '\0';
    msg_add(lw->msg, sizeof lw->msg,
            "appeared and vanished %u times in %llu s (up about %llu.%llu s, down about "
            "%llu.%llu s each): the module is in a reboot loop and will not answer AT "
            "commands. To recover it, force download mode: hold its boot pin low while "
            "powering it on (TP1 on Sierra RC76xx; it then stays on USB with a single "
            "interface, or as 05c6:9008 when the boot chain is damaged) and flash it; or "
            "remove power completely for several seconds (a hard power cycle, not an AT "
            "reset) and try again",
            lw->cycles, (unsigned long long)((now_ms - first + 500u) / 1000u),
            (unsigned long long)(up_avg / 1000u), (unsigned long long)(up_avg % 1000u / 100u),
            (unsigned long long)(down_avg / 1000u), (unsigned long long)(down_avg % 1000u / 100u));
    return MK_E_BOOTLOOP;
}

/* ---------------------------------------------------------------------------------- */
/* Following a port path                                                               */

static bool bindings_equal(const struct mk_usb_dev *a, const struct mk_usb_dev *b)
{
    if (a->nintf != b->nintf)
        return false;
    for (size_t i = 0; i < a->nintf; i++)
        if (strcmp(a->intf[i].driver, b->intf[i].driver) != 0 ||
            strcmp(a->intf[i].tty, b->intf[i].tty) != 0)
            return false;
    return true;
}

static bool expect_match(const struct mk_usb_expect *want, const struct mk_usb_dev *d)
{
    if (!want)
        return true;
    if ((want->vid && d->vid != want->vid) || (want->pid && d->pid != want->pid))
        return false;
    if (want->num_interfaces && d->num_interfaces != want->num_interfaces)
        return false;
    return !want->need_tty || first_tty(d) != NULL;
}

static void emit(struct mk_usb_watch *w, enum mk_usb_event_kind kind, uint64_t t,
                 const struct mk_usb_dev *dev)
{
    if (w->on_event) {
        struct mk_usb_event ev = {kind, t, dev};
        w->on_event(w->event_ctx, &ev);
    }
}

/* What the watch has seen, for its messages. */
struct watch_state {
    bool first, present, seen_gone, came_back;
    uint64_t gone_at;
    struct mk_usb_dev dev;  /* last device seen (when present) */
    struct mk_usb_dev last; /* last device seen back after a reset */
};

/* One sample: reads the port, reports changes, feeds the loop watch. */
static enum mk_err watch_step(struct mk_usb_watch *w, struct watch_state *st,
                              struct mk_usb_loopwatch *loop, uint64_t now, uint64_t t)
{
    struct mk_usb_dev cur;
    bool present = mk_usb_read(w->roots, w->port, &cur) == MK_OK;
    bool reenum = present && st->present && cur.devnum != st->dev.devnum;
    enum mk_err e = MK_OK;

    if (st->first) {
        emit(w, present ? MK_USB_EV_PRESENT : MK_USB_EV_ABSENT, t, present ? &cur : NULL);
    } else if (st->present && (!present || reenum)) {
        emit(w, MK_USB_EV_GONE, t, NULL);
        st->seen_gone = true;
        st->gone_at = t;
        if (loop)
            e = mk_usb_loop_sample(loop, now, false);
    }
    if (!st->first && present && (!st->present || reenum))
        emit(w, MK_USB_EV_APPEARED, t, &cur);
    else if (!st->first && present && st->present && !bindings_equal(&cur, &st->dev))
        emit(w, MK_USB_EV_CHANGED, t, &cur);
    if (loop && e == MK_OK)
        e = mk_usb_loop_sample(loop, now, present);
    st->first = false;
    st->present = present;
    if (present)
        st->dev = cur;
    return e;
}

static void watch_loop_msg(struct mk_usb_watch *w, const struct watch_state *st,
                           const struct mk_usb_loopwatch *loop)
{
    w->msg[0] = '\0';
    msg_add(w->msg, sizeof w->msg, "the USB device on port %s", w->port);
    if (st->dev.vid)
        msg_add(w->msg, sizeof w->msg, " (%04x:%04x%s%s)", st->dev.vid, st->dev.pid,
                st->dev.product[0] ? " " : "", st->dev.product);
    msg_add(w->msg, sizeof w->msg, " %s", loop->msg);
}

static void watch_sleep(struct mk_usb_watch *w, uint32_t ms)
{
    if (w->sleep_ms)
        w->sleep_ms(w->sleep_ctx, ms);
    else
        mk_posix_sleep_ms(ms);
}

/* Runs samples until done() says so or the deadline passes. */
static enum mk_err watch_run(struct mk_usb_watch *w, uint64_t deadline_ms,
                             struct mk_usb_loopwatch *loop, struct watch_state *st,
                             bool (*done)(struct watch_state *, const void *), const void *arg)
{
    const struct mk_clock *clock = w->clock ? w->clock : mk_posix_clock();
    uint32_t interval = w->interval_ms ? w->interval_ms : 250;
    uint64_t start = mk_clock_now(clock);
    memset(st, 0, sizeof *st);
    st->first = true;
    w->msg[0] = '\0';
    for (;;) {
        uint64_t now = mk_clock_now(clock);
        enum mk_err e = watch_step(w, st, loop, now, now - start);
        if (e == MK_E_BOOTLOOP) {
            watch_loop_msg(w, st, loop);
            return e;
        }
        if (done && done(st, arg))
            return MK_OK;
        if (now >= deadline_ms)
            return MK_E_TIMEOUT;
        uint64_t left = deadline_ms - now;
        watch_sleep(w, left < interval ? (uint32_t)left : interval);
    }
}

struct reenum_arg {
    unsigned old_devnum;
    const struct mk_usb_expect *want;
};

static bool reenum_done(struct watch_state *st, const void *p)
{
    const struct reenum_arg *a = p;
    if (!st->present)
        return false;
    if (!st->seen_gone && (a->old_devnum == 0 || st->dev.devnum == a->old_devnum))
        return false;
    st->came_back = true;
    st->last = st->dev;
    return expect_match(a->want, &st->dev);
}

enum mk_err mk_usb_wait_reenum(struct mk_usb_watch *w, unsigned old_devnum,
                               const struct mk_usb_expect *want, uint64_t deadline_ms,
                               struct mk_usb_dev *out)
{
    struct watch_state st;
    struct reenum_arg a = {old_devnum, want};
    const struct mk_clock *clock = w->clock ? w->clock : mk_posix_clock();
    uint64_t start = mk_clock_now(clock);
    enum mk_err e = watch_run(w, deadline_ms, w->loop, &st, reenum_done, &a);
    if (e == MK_OK && out)
        *out = st.dev;
    if (e != MK_E_TIMEOUT)
        return e;

    unsigned long long secs = (unsigned long long)((mk_clock_now(clock) - start) / 1000u);
    char desc[256];
    if (st.came_back) {
        mk_usb_describe(&st.last, desc, sizeof desc);
        msg_add(w->msg, sizeof w->msg, "the device on port %s came back as %s", w->port, desc);
        if (want && want->need_tty && !first_tty(&st.last) &&
            expect_match(&(struct mk_usb_expect){want->vid, want->pid, want->num_interfaces, false},
                         &st.last))
            msg_add(w->msg, sizeof w->msg,
                    " but no serial driver created a tty within %llu s (see diagnose)", secs);
        else
            msg_add(w->msg, sizeof w->msg,
                    ", not as expected (%04x:%04x, %u interfaces; 0 = any) within %llu s",
                    want ? want->vid : 0, want ? want->pid : 0, want ? want->num_interfaces : 0,
                    secs);
    } else if (st.seen_gone) {
        msg_add(w->msg, sizeof w->msg,
                "the device on port %s went away after %llu.%llu s and did not come back "
                "within %llu s",
                w->port, (unsigned long long)(st.gone_at / 1000u),
                (unsigned long long)(st.gone_at % 1000u / 100u), secs);
    } else if (st.present) {
        msg_add(w->msg, sizeof w->msg,
                "the device on port %s (%04x:%04x, devnum %u) never went away within %llu s: "
                "the reset did not happen",
                w->port, st.dev.vid, st.dev.pid, st.dev.devnum, secs);
    } else {
        msg_add(w->msg, sizeof w->msg, "nothing appeared on USB port %s within %llu s", w->port,
                secs);
    }
    return e;
}

enum mk_err mk_usb_watch_port(struct mk_usb_watch *w, uint64_t deadline_ms, struct mk_usb_dev *out)
{
    struct watch_state st;
    struct mk_usb_loopwatch own;
    struct mk_usb_loopwatch *loop = w->loop;
    if (!loop) {
        mk_usb_loop_init(&own, NULL);
        loop = &own;
    }
    enum mk_err e = watch_run(w, deadline_ms, loop, &st, NULL, NULL);
    if (e == MK_E_BOOTLOOP)
        return e;
    if (!st.present) {
        snprintf(w->msg, sizeof w->msg, "nothing on USB port %s at the end of the watch", w->port);
        return MK_E_NOENT;
    }
    if (out)
        *out = st.dev;
    return MK_OK;
}
