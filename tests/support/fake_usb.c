/* Fake sysfs/procfs trees for USB discovery tests. See fake_usb.h. */
#define _GNU_SOURCE
#include "fake_usb.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mk_fakeusb_tmpdir(char *buf, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    if ((size_t)snprintf(buf, cap, "%s/modemkit-%s-XXXXXX", base, tag) >= cap)
        return errno = ENAMETOOLONG, -1;
    return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int mk_fakeusb_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p */
static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof tmp)
        return errno = ENAMETOOLONG, -1;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int put_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

static int put_fmt(const char *dir, const char *name, const char *fmt, unsigned v)
{
    char text[32];
    snprintf(text, sizeof text, fmt, v);
    return put_file(dir, name, text);
}

static unsigned bus_of(const char *port)
{
    return (unsigned)strtoul(port, NULL, 10);
}

/* Where the real device directory lives. */
static void dev_dir(const char *sys, const char *port, char *out, size_t cap)
{
    snprintf(out, cap, "%s/devices/platform/fake-xhci/usb%u/%s", sys, bus_of(port), port);
}

static int add_tty(const char *intf_dir, const char *tty)
{
    char dir[PATH_MAX];
    if (strncmp(tty, "ttyACM", 6) == 0) /* cdc_acm: <intf>/tty/ttyACMn */
        snprintf(dir, sizeof dir, "%s/tty/%s", intf_dir, tty);
    else /* usb-serial: <intf>/ttyUSBn/tty/ttyUSBn */
        snprintf(dir, sizeof dir, "%s/%s/tty/%s", intf_dir, tty, tty);
    return mkdirs(dir);
}

static int add_driver_link(const char *sys, const char *intf_dir, const char *driver)
{
    char target[PATH_MAX], link[PATH_MAX];
    snprintf(target, sizeof target, "%s/bus/usb/drivers/%s", sys, driver);
    snprintf(link, sizeof link, "%s/driver", intf_dir);
    if (mkdirs(target) != 0)
        return -1;
    unlink(link);
    return symlink(target, link);
}

int mk_fakeusb_add(const char *sys, const struct mk_fakeusb_dev *dev)
{
    char dir[PATH_MAX], sub[PATH_MAX], link[PATH_MAX];
    dev_dir(sys, dev->port, dir, sizeof dir);
    if (mk_fakeusb_rm_rf(dir) != 0 || mkdirs(dir) != 0)
        return -1;
    const char *dash = strchr(dev->port, '-');
    int rc = 0;
    rc |= put_fmt(dir, "idVendor", "%04x\n", dev->vid);
    rc |= put_fmt(dir, "idProduct", "%04x\n", dev->pid);
    rc |= put_fmt(dir, "busnum", "%u\n", bus_of(dev->port));
    rc |= put_fmt(dir, "devnum", "%u\n", dev->devnum);
    /* The kernel prints bNumInterfaces as "%2d\n": a leading space below 10. */
    rc |= put_fmt(dir, "bNumInterfaces", "%2u\n",
                  dev->num_interfaces ? dev->num_interfaces : (unsigned)dev->nintf);
    snprintf(sub, sizeof sub, "%s\n", dash ? dash + 1 : dev->port);
    rc |= put_file(dir, "devpath", sub);
    if (dev->manufacturer) {
        snprintf(sub, sizeof sub, "%s\n", dev->manufacturer);
        rc |= put_file(dir, "manufacturer", sub);
    }
    if (dev->product) {
        snprintf(sub, sizeof sub, "%s\n", dev->product);
        rc |= put_file(dir, "product", sub);
    }
    if (dev->serial) {
        snprintf(sub, sizeof sub, "%s\n", dev->serial);
        rc |= put_file(dir, "serial", sub);
    }
    for (size_t i = 0; i < dev->nintf && rc == 0; i++) {
        const struct mk_fakeusb_intf *it = &dev->intf[i];
        if (snprintf(sub, sizeof sub, "%s/%s:1.%u", dir, dev->port, it->number) >=
            (int)sizeof sub)
            return -1;
        rc |= mkdirs(sub);
        rc |= put_fmt(sub, "bInterfaceNumber", "%02x\n", it->number);
        rc |= put_fmt(sub, "bInterfaceClass", "%02x\n", it->cls);
        rc |= put_fmt(sub, "bInterfaceSubClass", "%02x\n", it->subclass);
        rc |= put_fmt(sub, "bInterfaceProtocol", "%02x\n", it->protocol);
        if (it->driver)
            rc |= add_driver_link(sys, sub, it->driver);
        if (it->tty)
            rc |= add_tty(sub, it->tty);
    }
    if (rc != 0)
        return -1;
    /* Plug: the bus link appears last, so a reader never sees a half-made device. */
    if (snprintf(sub, sizeof sub, "%s/bus/usb/devices", sys) >= (int)sizeof sub ||
        snprintf(link, sizeof link, "%s/%s", sub, dev->port) >= (int)sizeof link)
        return -1;
    if (mkdirs(sub) != 0)
        return -1;
    unlink(link);
    return symlink(dir, link);
}

int mk_fakeusb_bind(const char *sys, const char *port, uint8_t intf, const char *driver,
                    const char *tty)
{
    char dir[PATH_MAX], sub[PATH_MAX];
    dev_dir(sys, port, dir, sizeof dir);
    if (snprintf(sub, sizeof sub, "%s/%s:1.%u", dir, port, intf) >= (int)sizeof sub)
        return -1;
    if (add_driver_link(sys, sub, driver) != 0)
        return -1;
    return tty ? add_tty(sub, tty) : 0;
}

int mk_fakeusb_remove(const char *sys, const char *port)
{
    char dir[PATH_MAX], link[PATH_MAX];
    snprintf(link, sizeof link, "%s/bus/usb/devices/%s", sys, port);
    if (unlink(link) != 0 && errno != ENOENT)
        return -1;
    dev_dir(sys, port, dir, sizeof dir);
    return mk_fakeusb_rm_rf(dir);
}

/*
 * Canned modules.
 * SIM7600 (1e0e:9001): option on interfaces 0-4, qmi_wwan on 5 (at-commands.md §4.4);
 *   AT on interface 2 = ttyUSB2.
 * RC76xx normal (1199:68c0): qcserial on 0 (DM, ttyUSB0), 2 (NMEA, ttyUSB1), 3 (AT,
 *   ttyUSB2), qmi_wwan on 8 (seed 004: ttyUSB0 qcdm, ttyUSB2 at, cdc-wdm0 qmi).
 * RC76xx boot-and-hold: same VID:PID, one qcserial interface, ttyUSB0 (seed 004).
 * EDL (05c6:9008): one vendor interface, qcserial, ttyUSB0 (download-mode.md §5.3).
 */
int mk_fakeusb_add_profile(const char *sys, const char *port, enum mk_fakeusb_profile profile,
                           unsigned devnum, bool bound)
{
    struct mk_fakeusb_intf it[8];
    struct mk_fakeusb_dev dev = {.port = port, .devnum = devnum, .intf = it};
    size_t n = 0;
#define INTF(num, c, drv, t)                                                                       \
    it[n++] = (struct mk_fakeusb_intf)                                                             \
    {                                                                                              \
        (num), (c), (c) == 0xff ? 0xff : 0, (c) == 0xff ? 0xff : 0, bound ? (drv) : NULL,          \
            bound ? (t) : NULL                                                                     \
    }
    switch (profile) {
    case MK_FAKEUSB_SIM7600:
        dev.vid = 0x1e0e;
        dev.pid = 0x9001;
        dev.manufacturer = "SimTech, Incorporated";
        dev.product = "SimTech, Incorporated";
        dev.serial = "0123456789ABCDEF";
        INTF(0, 0xff, "option", "ttyUSB0");
        INTF(1, 0xff, "option", "ttyUSB1");
        INTF(2, 0xff, "option", "ttyUSB2");
        INTF(3, 0xff, "option", "ttyUSB3");
        INTF(4, 0xff, "option", "ttyUSB4");
        INTF(5, 0xff, "qmi_wwan", NULL);
        break;
    case MK_FAKEUSB_RC76XX:
        dev.vid = 0x1199;
        dev.pid = 0x68c0;
        dev.manufacturer = "Sierra Wireless, Incorporated";
        dev.product = "Sierra Wireless RC7620";
        INTF(0, 0xff, "qcserial", "ttyUSB0");
        INTF(2, 0xff, "qcserial", "ttyUSB1");
        INTF(3, 0xff, "qcserial", "ttyUSB2");
        INTF(8, 0xff, "qmi_wwan", NULL);
        break;
    case MK_FAKEUSB_RC76XX_BOOTHOLD:
        dev.vid = 0x1199;
        dev.pid = 0x68c0;
        dev.manufacturer = "Sierra Wireless, Incorporated";
        dev.product = "Sierra Wireless RC7620";
        INTF(0, 0xff, "qcserial", "ttyUSB0");
        break;
    case MK_FAKEUSB_EDL:
        dev.vid = 0x05c6;
        dev.pid = 0x9008;
        dev.manufacturer = "Qualcomm CDMA Technologies MSM";
        dev.product = "QUSB__BULK";
        INTF(0, 0xff, "qcserial", "ttyUSB0");
        break;
    }
#undef INTF
    dev.nintf = n;
    return mk_fakeusb_add(sys, &dev);
}

int mk_fakeusb_proc_add(const char *proc, int pid, const char *comm, const char *const *fds,
                        size_t nfd)
{
    char dir[PATH_MAX], text[64], link[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%d/fd", proc, pid);
    if (mkdirs(dir) != 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/%d", proc, pid);
    snprintf(text, sizeof text, "%s\n", comm);
    if (put_file(dir, "comm", text) != 0)
        return -1;
    for (size_t i = 0; i < nfd; i++) {
        snprintf(link, sizeof link, "%s/%d/fd/%zu", proc, pid, i + 3);
        if (symlink(fds[i], link) != 0)
            return -1;
    }
    return 0;
}
