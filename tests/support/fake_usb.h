/*
 * Fake sysfs and procfs trees for USB discovery tests (include/modemkit/usb.h).
 *
 * The layout mirrors Linux: the device lives under <sys>/devices/.../usbB/<port>, with
 * <sys>/bus/usb/devices/<port> a symlink to it; interfaces are <port>:1.N directories
 * with a "driver" symlink; usb-serial ttys are <intf>/ttyUSBn, cdc_acm ttys
 * <intf>/tty/ttyACMn. A device is added atomically from a reader's point of view (its
 * bus/usb/devices link is created last and removed first), like a hot-plug.
 *
 * All functions return 0 on success, -1 with errno on failure.
 */
#ifndef MK_FAKE_USB_H
#define MK_FAKE_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mk_fakeusb_intf {
    uint8_t number;
    uint8_t cls, subclass, protocol;
    const char *driver; /* NULL: no driver bound */
    const char *tty;    /* NULL: none; "ttyACMn" goes under tty/, others directly */
};

struct mk_fakeusb_dev {
    const char *port; /* "3-1" */
    uint16_t vid, pid;
    unsigned devnum;
    const char *manufacturer, *product, *serial; /* NULL: attribute absent */
    unsigned num_interfaces;                     /* 0: the number of intf entries */
    const struct mk_fakeusb_intf *intf;
    size_t nintf;
};

/* Canned modules, as seen on real hosts (see the comments in fake_usb.c). */
enum mk_fakeusb_profile {
    MK_FAKEUSB_SIM7600,         /* 1e0e:9001, option on 0-4 (ttyUSB0..4), qmi_wwan on 5 */
    MK_FAKEUSB_RC76XX,          /* 1199:68c0 normal: qcserial 0,2,3 (ttyUSB0..2), qmi_wwan 8 */
    MK_FAKEUSB_RC76XX_BOOTHOLD, /* 1199:68c0 with one qcserial interface (ttyUSB0) */
    MK_FAKEUSB_EDL,             /* 05c6:9008 "QUSB__BULK", one interface (qcserial ttyUSB0) */
};

/* Creates a fresh temporary directory (under $TMPDIR or /tmp) into buf. */
int mk_fakeusb_tmpdir(char *buf, size_t cap, const char *tag);

/* rm -rf path (no error when it does not exist). */
int mk_fakeusb_rm_rf(const char *path);

/* Adds a device under sys (the fake sysfs root). */
int mk_fakeusb_add(const char *sys, const struct mk_fakeusb_dev *dev);

/*
 * Adds a canned module on port. With bound == false no driver is bound: the interfaces
 * have neither a driver link nor a tty (what a host without option/qcserial shows).
 */
int mk_fakeusb_add_profile(const char *sys, const char *port, enum mk_fakeusb_profile profile,
                           unsigned devnum, bool bound);

/* Binds a driver and creates a tty on an existing interface (a driver loading late). */
int mk_fakeusb_bind(const char *sys, const char *port, uint8_t intf, const char *driver,
                    const char *tty);

/* Unplugs the device on port (link first, then the directory). */
int mk_fakeusb_remove(const char *sys, const char *port);

/*
 * Adds a process under proc: <proc>/<pid>/comm, and <proc>/<pid>/fd/3.. symlinks to each
 * of the nfd paths in fds (e.g. "/dev/ttyUSB2").
 */
int mk_fakeusb_proc_add(const char *proc, int pid, const char *comm, const char *const *fds,
                        size_t nfd);

#endif
