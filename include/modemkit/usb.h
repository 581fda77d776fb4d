/*
 * USB discovery of cellular modules through sysfs (Linux), without libusb or udev:
 * enumerate devices and their interfaces, see which kernel driver is bound and which
 * tty each interface exposes, recognise known modules and their modes (normal, Sierra
 * boot-and-hold/QDL, Qualcomm PBL EDL, crash dump), explain why a port cannot be used
 * (no driver bound, held by ModemManager or another process), follow a device by its USB
 * port path across re-enumeration, and detect a reboot loop.
 *
 * The sysfs and procfs roots are configurable (struct mk_usb_roots) so tests run on fake
 * trees under a temporary directory. Nothing here needs root, but scanning other users'
 * /proc/PID/fd does (without it those processes are skipped and counted).
 *
 * Host only. Nothing prints: results come back in structs, with a message for the user.
 */
#ifndef MODEMKIT_USB_H
#define MODEMKIT_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/clock.h"
#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MK_USB_NAME_CAP 32   /* port paths, driver and tty names */
#define MK_USB_STR_CAP  64   /* manufacturer, product, serial */
#define MK_USB_MAX_INTF 16   /* interfaces kept per device (RC76xx has 6, SIM7600 7) */
#define MK_USB_MSG_CAP  1024 /* explanations with their fix */

/* Where sysfs and procfs are. NULL (or a NULL field) means "/sys" and "/proc". */
struct mk_usb_roots {
    const char *sys;
    const char *proc;
};

struct mk_usb_intf {
    uint8_t number;                  /* bInterfaceNumber */
    uint8_t cls, subclass, protocol; /* bInterfaceClass/SubClass/Protocol */
    char driver[MK_USB_NAME_CAP];    /* bound driver ("option", "qcserial", "qmi_wwan",
                                        "cdc_acm"), "" when none */
    char tty[MK_USB_NAME_CAP];       /* "ttyUSB2", "ttyACM0", "" when none */
};

struct mk_usb_dev {
    char port[MK_USB_NAME_CAP];    /* sysfs name = USB port path: "3-1", "1-1.4" */
    char devpath[MK_USB_NAME_CAP]; /* port chain below the root hub: "1", "1.4" */
    uint16_t vid, pid;
    unsigned busnum, devnum; /* devnum changes at every enumeration */
    char manufacturer[MK_USB_STR_CAP];
    char product[MK_USB_STR_CAP];
    char serial[MK_USB_STR_CAP];
    unsigned num_interfaces; /* bNumInterfaces of the active configuration */
    size_t nintf;            /* interfaces found in sysfs (sorted by number) */
    struct mk_usb_intf intf[MK_USB_MAX_INTF];
};

/*
 * Lists the USB devices (not root hubs) under <sys>/bus/usb/devices, sorted by port
 * path. Fills at most cap entries and sets *n to the number found; MK_E_NOSPC when more
 * were found than fit (the first cap are filled). MK_E_NOENT when the sysfs root has no
 * USB bus at all.
 */
enum mk_err mk_usb_list(const struct mk_usb_roots *roots, struct mk_usb_dev *devs, size_t cap,
                        size_t *n);

/* Reads the device on USB port path port ("3-1"). MK_E_NOENT when nothing is there. */
enum mk_err mk_usb_read(const struct mk_usb_roots *roots, const char *port, struct mk_usb_dev *out);

/* First device (by port path) with this VID and PID (pid 0: any PID). MK_E_NOENT if none. */
enum mk_err mk_usb_find_id(const struct mk_usb_roots *roots, uint16_t vid, uint16_t pid,
                           struct mk_usb_dev *out);

/*
 * The device one of whose interfaces exposes tty ("ttyUSB2" or "/dev/ttyUSB2"); *intf
 * (may be NULL) receives the interface's index in out->intf. MK_E_NOENT if none.
 */
enum mk_err mk_usb_find_tty(const struct mk_usb_roots *roots, const char *tty,
                            struct mk_usb_dev *out, size_t *intf);

/* The interface with bInterfaceNumber number, or NULL. */
const struct mk_usb_intf *mk_usb_intf_by_number(const struct mk_usb_dev *dev, int number);

/*
 * One line for logs and progress: "3-1 1199:68c0 dev 59 'RC7620' if0 qcserial ttyUSB0,
 * if3 qcserial ttyUSB2, if8 qmi_wwan". Truncated to cap (always NUL-terminated).
 */
void mk_usb_describe(const struct mk_usb_dev *dev, char *buf, size_t cap);

/* ---------------------------------------------------------------------------------- */
/* Known modules                                                                       */

enum mk_usb_mode {
    MK_USB_MODE_UNKNOWN = 0,
    MK_USB_MODE_NORMAL,    /* application firmware: AT and diagnostic ports */
    MK_USB_MODE_BOOTHOLD,  /* Sierra boot-and-hold / QDL: firmware download, no AT */
    MK_USB_MODE_EDL,       /* Qualcomm PBL emergency download: needs a signed programmer */
    MK_USB_MODE_CRASHDUMP, /* Qualcomm memory-debug mode after a crash */
};

/* "unknown", "normal", "boot-and-hold", "edl", "crash-dump". */
const char *mk_usb_mode_name(enum mk_usb_mode mode);

/* One row of the table of known modules (src/port/posix/usb.c cites each row's source). */
struct mk_usb_known {
    uint16_t vid, pid;
    unsigned only_num_interfaces; /* match only this bNumInterfaces; 0 = any */
    enum mk_usb_mode mode;
    const char *model;  /* "SIMCom SIM7500/SIM7600 (and SIM7000)" */
    int at_intf;        /* interface number of the AT port; -1 none/unknown */
    const char *driver; /* serial driver expected on it: "option", "qcserial" */
    const char *note;   /* what the mode means for the user */
    const char *source; /* where the facts come from */
};

struct mk_usb_class {
    enum mk_usb_mode mode;
    const struct mk_usb_known *known; /* NULL when the device is not in the table */
    const char *at_tty;               /* the AT port's tty name (into dev), NULL if none */
    const char *dl_tty;               /* download-mode tty (into dev), NULL if none */
};

/*
 * Looks dev up in the table. Returns true and fills *out for a known module (out->at_tty
 * and out->dl_tty point into dev, valid while dev is); false (mode UNKNOWN) otherwise.
 */
bool mk_usb_classify(const struct mk_usb_dev *dev, struct mk_usb_class *out);

/* The whole table, for --list style output and tests. */
const struct mk_usb_known *mk_usb_known_table(size_t *n);

/* ---------------------------------------------------------------------------------- */
/* Diagnosis: driver binding and processes holding the port                            */

struct mk_usb_holder {
    int pid;
    char comm[MK_USB_NAME_CAP]; /* /proc/PID/comm */
};

/*
 * Processes that have dev_path ("/dev/ttyUSB2") open, found through <proc>/PID/fd
 * links (symlinks to the node are resolved first). Fills at most cap, sets *n to the
 * number found (MK_E_NOSPC when more than cap). *unreadable (may be NULL) counts the
 * processes whose fds we may not inspect (other users' when not root). Our own process
 * is skipped.
 */
enum mk_err mk_usb_find_holders(const struct mk_usb_roots *roots, const char *dev_path,
                                struct mk_usb_holder *out, size_t cap, size_t *n,
                                unsigned *unreadable);

/* The pid of a running ModemManager (from <proc>/PID/comm), 0 when none. */
int mk_usb_modemmanager_pid(const struct mk_usb_roots *roots);

struct mk_usb_diag {
    enum mk_err err;             /* MK_OK, MK_E_NO_DRIVER or MK_E_PORT_HELD */
    struct mk_usb_class cls;     /* the classification the checks were based on */
    struct mk_usb_holder holder; /* who holds the port (MK_E_PORT_HELD) */
    char tty[MK_USB_NAME_CAP];   /* the tty that was checked, "" if none */
    int mm_pid;                  /* running ModemManager, 0 if none */
    char msg[MK_USB_MSG_CAP];    /* what is wrong and how to fix it; warnings when MK_OK */
};

/*
 * Checks whether dev can be used from this host:
 *  - the interface that matters (the AT interface in normal mode, the single interface in
 *    a download mode, every vendor-specific interface of an unknown device) has a serial
 *    driver and a tty; otherwise MK_E_NO_DRIVER, with the modprobe / new_id command;
 *  - nobody else has that tty open; otherwise MK_E_PORT_HELD naming the process, with
 *    the fix (stop or inhibit ModemManager, or a udev ID_MM_DEVICE_IGNORE rule).
 * A running ModemManager that holds nothing is a warning (MK_OK, out->mm_pid set, the
 * warning in out->msg): it may grab the port after the next re-enumeration.
 * Returns out->err.
 */
enum mk_err mk_usb_diagnose(const struct mk_usb_roots *roots, const struct mk_usb_dev *dev,
                            struct mk_usb_diag *out);

/* ---------------------------------------------------------------------------------- */
/* Reboot-loop detection (pure state machine: presence samples in, verdict out)        */

#define MK_USB_LOOP_HISTORY 16

struct mk_usb_loop_cfg {
    uint32_t window_ms;  /* look back this far; 0 = 120000 */
    unsigned min_cycles; /* appear/vanish cycles within the window that make a loop;
                            0 = 3 (a normal reboot or a mode switch is 1 or 2) */
    uint32_t max_up_ms;  /* an appearance counts only if it vanished sooner; 0 = 30000
                            (a module that worked for minutes then reset is no loop) */
};

struct mk_usb_loopwatch {
    struct mk_usb_loop_cfg cfg;
    bool started, present;
    uint64_t since_ms;                       /* when the current state began */
    uint64_t vanish_ms[MK_USB_LOOP_HISTORY]; /* short appearances' end times (ring) */
    uint32_t up_ms[MK_USB_LOOP_HISTORY];     /* ... and how long each lasted */
    uint32_t down_ms[MK_USB_LOOP_HISTORY];   /* absences that ended, most recent last */
    unsigned nvanish, ndown;                 /* entries written (ring index = count % N) */
    unsigned cycles;                         /* cycles in the window at the last sample */
    char msg[MK_USB_MSG_CAP];                /* explanation once MK_E_BOOTLOOP */
};

/* Prepares lw. cfg may be NULL (defaults). */
void mk_usb_loop_init(struct mk_usb_loopwatch *lw, const struct mk_usb_loop_cfg *cfg);

/*
 * Feeds one sample: whether the device was present at now_ms (non-decreasing).
 * Returns MK_E_BOOTLOOP (lw->msg says what was seen and what to do) once at least
 * min_cycles short appear/vanish cycles ended within the window, MK_OK otherwise.
 */
enum mk_err mk_usb_loop_sample(struct mk_usb_loopwatch *lw, uint64_t now_ms, bool present);

/* ---------------------------------------------------------------------------------- */
/* Following a device across re-enumeration                                            */

enum mk_usb_event_kind {
    MK_USB_EV_PRESENT,  /* first sample: the device is there (dev set) */
    MK_USB_EV_ABSENT,   /* first sample: nothing on the port */
    MK_USB_EV_GONE,     /* it disappeared (or re-enumerated between two samples) */
    MK_USB_EV_APPEARED, /* it appeared, possibly with another PID or interface count */
    MK_USB_EV_CHANGED,  /* same enumeration, but drivers or ttys changed (binding done) */
};

struct mk_usb_event {
    enum mk_usb_event_kind kind;
    uint64_t t_ms;                /* since the watch started */
    const struct mk_usb_dev *dev; /* for PRESENT, APPEARED, CHANGED; NULL otherwise */
};

/* What counts as "back" for mk_usb_wait_reenum. Zero fields match anything. */
struct mk_usb_expect {
    uint16_t vid, pid;
    unsigned num_interfaces; /* e.g. 1 for Sierra boot-and-hold */
    bool need_tty;           /* wait until a driver has created at least one tty */
};

struct mk_usb_watch {
    const struct mk_usb_roots *roots;
    const char *port;             /* USB port path to follow: "3-1" */
    const struct mk_clock *clock; /* NULL = mk_posix_clock() */
    /* How to wait between samples; NULL = real sleep. Tests advance a virtual clock here
     * and change the fake sysfs tree according to their script. */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    void *sleep_ctx;
    uint32_t interval_ms; /* sampling period; 0 = 250 */
    /* Progress: called on every change seen (may be NULL). */
    void (*on_event)(void *ctx, const struct mk_usb_event *ev);
    void *event_ctx;
    /* Optional: fed every sample; the watch stops with MK_E_BOOTLOOP when it trips. */
    struct mk_usb_loopwatch *loop;
    char msg[MK_USB_MSG_CAP]; /* out: what happened (timeout, loop) */
};

/*
 * Waits until the device on w->port has re-enumerated and matches want (may be NULL):
 * it must have been seen gone, or come back with a devnum other than old_devnum (pass
 * the devnum from before the reset; 0 when unknown, then a disappearance is required).
 * On MK_OK *out (may be NULL) holds the device as it came back. MK_E_TIMEOUT at
 * deadline_ms (on w->clock), w->msg saying what was seen; MK_E_BOOTLOOP when w->loop
 * trips first.
 */
enum mk_err mk_usb_wait_reenum(struct mk_usb_watch *w, unsigned old_devnum,
                               const struct mk_usb_expect *want, uint64_t deadline_ms,
                               struct mk_usb_dev *out);

/*
 * Samples w->port until deadline_ms, reporting changes through w->on_event. Returns
 * MK_E_BOOTLOOP as soon as the loop watch (w->loop, or an internal one with default
 * settings when NULL) trips; otherwise MK_OK if the device is present at the deadline
 * (*out filled when not NULL) or MK_E_NOENT if it is not.
 */
enum mk_err mk_usb_watch_port(struct mk_usb_watch *w, uint64_t deadline_ms, struct mk_usb_dev *out);

#ifdef __cplusplus
}
#endif

#endif
