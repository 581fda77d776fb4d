/*
 * The POSIX (Linux first) side of modemkit: a monotonic clock, ports that implement
 * struct mk_io over a tty, a pty, another character device or TCP, and durable files for
 * journals and queues.
 *
 * Only host code (tools, modemsim, modemd, tests) uses this header; the portable core
 * never does. Nothing here prints, exits or installs signal handlers: failures come back
 * as enum mk_err plus, for ports, a one-line explanation in port->msg that names the
 * device and, where one exists, the fix (group membership, ModemManager, driver).
 */
#ifndef MODEMKIT_POSIX_H
#define MODEMKIT_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "modemkit/clock.h"
#include "modemkit/err.h"
#include "modemkit/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------- */
/* Clock and errors                                                                    */

/*
 * A struct mk_clock over CLOCK_MONOTONIC, in milliseconds. The returned object is
 * static and shared; it stays valid for the life of the process and needs no cleanup.
 * Deadlines given to the functions below are on this clock.
 */
const struct mk_clock *mk_posix_clock(void);

/* The same time as mk_posix_clock() reads, without going through the struct. */
uint64_t mk_posix_now_ms(void);

/* Sleeps for ms milliseconds of real time (restarted when a signal interrupts it). */
void mk_posix_sleep_ms(uint32_t ms);

/*
 * Maps an errno value to the closest enum mk_err, for errors outside a port's I/O
 * (EACCES/EPERM → MK_E_PERM, ENOENT → MK_E_NOENT, EBUSY → MK_E_BUSY, ETIMEDOUT →
 * MK_E_TIMEOUT, EEXIST → MK_E_EXISTS, ENOMEM → MK_E_NOMEM, EINVAL → MK_E_INVAL,
 * anything else → MK_E_IO). 0 gives MK_OK. Port reads and writes additionally turn
 * EIO/ENODEV/ENXIO/EPIPE/ECONNRESET into MK_E_HANGUP, because there they mean "the
 * device or peer is gone".
 */
enum mk_err mk_posix_errno(int err);

/* ---------------------------------------------------------------------------------- */
/* Ports                                                                               */

#define MK_POSIX_PATH_CAP 256
#define MK_POSIX_MSG_CAP  320

/* Lowest and highest line rate accepted for a tty (the -b option of modemctl). */
#define MK_POSIX_BAUD_MIN 300u
#define MK_POSIX_BAUD_MAX 4000000u
/* The rate used when the configuration leaves baud at 0. */
#define MK_POSIX_BAUD_DEFAULT 115200u
/* Connect timeout used for tcp: devices when the configuration leaves it at 0. */
#define MK_POSIX_CONNECT_TIMEOUT_MS 5000u

enum mk_posix_kind {
    MK_POSIX_KIND_NONE = 0, /* closed */
    MK_POSIX_KIND_TTY,      /* a real serial port (ttyUSB, ttyACM, ttyS, ...) */
    MK_POSIX_KIND_PTY,      /* a pseudo-terminal slave (modemsim, socat) */
    MK_POSIX_KIND_CHAR,     /* a character device or FIFO that is not a terminal */
    MK_POSIX_KIND_TCP,      /* tcp:HOST:PORT */
};

struct mk_posix_port_cfg {
    uint32_t baud;               /* line rate for a tty; 0 = MK_POSIX_BAUD_DEFAULT;
                                    ignored for ptys, plain character devices and TCP */
    bool rtscts;                 /* hardware flow control (tty only); off by default */
    bool shared;                 /* do not ask for exclusive access (TIOCEXCL) */
    uint32_t connect_timeout_ms; /* tcp: devices; 0 = MK_POSIX_CONNECT_TIMEOUT_MS */
};

/*
 * One open port. The caller owns the struct; io.ctx points back at it, so it must not
 * be moved or copied while open. Use port->io with the AT engine, the flashers, etc.
 */
struct mk_posix_port {
    struct mk_io io;
    int fd; /* -1 when closed */
    enum mk_posix_kind kind;
    char device[MK_POSIX_PATH_CAP]; /* the device string as given to open */
    struct mk_posix_port_cfg cfg;   /* settings applied again by reopen */
    uint32_t baud_actual;           /* tty: rate the driver reports after setting it */
    int last_errno;                 /* errno behind the last failure, 0 if none */
    char msg[MK_POSIX_MSG_CAP];     /* explanation of the last failure, "" if none */

    /* Private: the tty's settings before we changed them, restored on close. */
    bool have_saved;
    struct termios saved;
};

/*
 * Opens a port from a device string:
 *   "/dev/ttyUSB2", any tty or pty path (symlinks are followed), another character
 *   device or FIFO (a byte stream without termios), or "tcp:HOST:PORT" (IPv6 host in
 *   brackets: "tcp:[::1]:7000").
 * The fd is opened O_NONBLOCK|O_NOCTTY|O_CLOEXEC. A terminal is put in raw mode
 * (cfmakeraw, CLOCAL|CREAD, VMIN=VTIME=0, flow control only when cfg->rtscts) at
 * cfg->baud; Linux accepts any rate in [MK_POSIX_BAUD_MIN, MK_POSIX_BAUD_MAX] through
 * termios2/BOTHER, other systems the standard B* rates only. A pty ignores the rate.
 * Exclusive access (TIOCEXCL) is requested unless cfg->shared; where the kernel refuses
 * it the port stays usable. TCP: non-blocking connect bounded by cfg->connect_timeout_ms,
 * then TCP_NODELAY.
 * cfg may be NULL (defaults). On success port->io is ready and port->msg is "".
 * Errors: MK_E_NOENT (no such device; port->msg says what to check), MK_E_PERM (with the
 * dialout/udev hint), MK_E_BUSY (opened exclusively elsewhere), MK_E_UNSUPPORTED (rate
 * the system or driver cannot do), MK_E_INVAL (bad string, rate out of range, regular
 * file), MK_E_TIMEOUT (TCP connect), MK_E_IO. On failure nothing stays open.
 */
enum mk_err mk_posix_port_open(struct mk_posix_port *port, const char *device,
                               const struct mk_posix_port_cfg *cfg);

/*
 * Closes the old fd (if still open) and opens port->device again with the same settings,
 * waiting until deadline_ms (mk_posix_clock) for it to come back: the path may be a
 * symlink being re-pointed (modemsim --link when the simulated module reboots) or a
 * /dev/ttyUSBn node that udev removes and creates again. The path is checked every
 * MK_POSIX_REOPEN_POLL_MS; transient failures while a device appears (ENOENT, EACCES
 * before udev sets the group, EBUSY, EIO, connection refused) are retried. A node that
 * opens already hung up (the old, dead device) is not accepted.
 * Returns MK_OK, MK_E_TIMEOUT (port->msg says what it waited for and the last reason),
 * or MK_E_INVAL/MK_E_UNSUPPORTED at once for errors that waiting cannot fix.
 * It follows the path, not the device: if another device takes the name meanwhile (a
 * recycled /dev/pts number behind a dangling link, another adapter becoming ttyUSB2),
 * that one opens. When it matters, follow the USB port path first (mk_usb_wait_reenum in
 * modemkit/usb.h); a simulator should point its link away before closing the old pty.
 */
#define MK_POSIX_REOPEN_POLL_MS 50u
enum mk_err mk_posix_port_reopen(struct mk_posix_port *port, uint64_t deadline_ms);

/*
 * Restores the tty settings we changed, drops exclusive access and closes the fd.
 * Safe to call twice and on a port whose open failed. Also reachable as
 * mk_io_close(&port->io).
 */
void mk_posix_port_close(struct mk_posix_port *port);

/* Line rate helpers. True when rate has a standard B* constant on this system. */
bool mk_posix_baud_is_standard(uint32_t rate);

/* ---------------------------------------------------------------------------------- */
/* Durable files (journals, queues, state)                                             */

/*
 * Atomically replaces path with data[0..len): writes "<path>.tmp" in the same directory,
 * fsyncs it, renames it over path and fsyncs the directory. After a crash, path holds
 * either the old or the new content, never a mix; a "<path>.tmp" left by a crash is
 * never read and is overwritten by the next replace. The file is created with mode 0600
 * (journals may hold credentials). Errors: mk_posix_errno() of the failing call
 * (MK_E_NOENT when the directory is missing, MK_E_PERM, MK_E_IO); on failure path is
 * unchanged and the temporary file is removed.
 */
enum mk_err mk_posix_file_replace(const char *path, const void *data, size_t len);

/*
 * Reads the whole of path into buf[0..cap) and sets *len. MK_E_NOENT when the file does
 * not exist, MK_E_NOSPC when it is larger than cap (*len is then the file size, and buf
 * holds the first cap bytes only), other errors as mk_posix_errno().
 */
enum mk_err mk_posix_file_read(const char *path, void *buf, size_t cap, size_t *len);

/*
 * Appends data[0..len) to path (creating it, mode 0600) and fsyncs it before returning;
 * when the file is created the directory is fsynced too. A crash during the call can
 * leave a partial record at the end: give each record its own length and CRC and drop
 * a torn tail when reading back.
 */
enum mk_err mk_posix_file_append(const char *path, const void *data, size_t len);

/* Removes "<path>.tmp" if a crashed replace left one. MK_OK also when there was none. */
enum mk_err mk_posix_file_clean(const char *path);

#ifdef __cplusplus
}
#endif

#endif
