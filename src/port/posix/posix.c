/*
 * Clock, errno mapping and ports (tty, pty, character device, TCP) for POSIX hosts.
 * See include/modemkit/posix.h for the contracts.
 */
#include "modemkit/posix.h"

#include "posix_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#endif

/* ---------------------------------------------------------------------------------- */
/* Clock                                                                               */

uint64_t mk_posix_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t posix_clock_now(void *ctx)
{
    (void)ctx;
    return mk_posix_now_ms();
}

const struct mk_clock *mk_posix_clock(void)
{
    static const struct mk_clock clock = {posix_clock_now, NULL};
    return &clock;
}

void mk_posix_sleep_ms(uint32_t ms)
{
    struct timespec req = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    struct timespec rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}

enum mk_err mk_posix_errno(int err)
{
    switch (err) {
    case 0:
        return MK_OK;
    case EACCES:
    case EPERM:
    case EROFS:
        return MK_E_PERM;
    case ENOENT:
    case ENOTDIR:
        return MK_E_NOENT;
    case EBUSY:
        return MK_E_BUSY;
    case ETIMEDOUT:
        return MK_E_TIMEOUT;
    case EEXIST:
        return MK_E_EXISTS;
    case ENOMEM:
        return MK_E_NOMEM;
    case EINVAL:
        return MK_E_INVAL;
    default:
        return MK_E_IO;
    }
}

/* errno values that mean "the device or the peer has gone" during I/O. */
static bool errno_is_hangup(int err)
{
    return err == EIO || err == ENODEV || err == ENXIO || err == EPIPE || err == ECONNRESET ||
           err == ENOTCONN || err == ESHUTDOWN || err == ECONNABORTED;
}

/* ---------------------------------------------------------------------------------- */
/* Line rates                                                                          */

struct baud_entry {
    uint32_t rate;
    speed_t code;
};

/* The standard B* constants this system defines, from 300 bit/s up. */
static const struct baud_entry baud_table[] = {
    {300, B300},         {600, B600},     {1200, B1200},     {1800, B1800},
    {2400, B2400},       {4800, B4800},   {9600, B9600},     {19200, B19200},
    {38400, B38400},     {57600, B57600}, {115200, B115200}, {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},
#endif
#ifdef B576000
    {576000, B576000},
#endif
#ifdef B921600
    {921600, B921600},
#endif
#ifdef B1000000
    {1000000, B1000000},
#endif
#ifdef B1152000
    {1152000, B1152000},
#endif
#ifdef B1500000
    {1500000, B1500000},
#endif
#ifdef B2000000
    {2000000, B2000000},
#endif
#ifdef B2500000
    {2500000, B2500000},
#endif
#ifdef B3000000
    {3000000, B3000000},
#endif
#ifdef B3500000
    {3500000, B3500000},
#endif
#ifdef B4000000
    {4000000, B4000000},
#endif
};

static const struct baud_entry *baud_find_rate(uint32_t rate)
{
    for (size_t i = 0; i < sizeof baud_table / sizeof baud_table[0]; i++)
        if (baud_table[i].rate == rate)
            return &baud_table[i];
    return NULL;
}

bool mk_posix_baud_is_standard(uint32_t rate)
{
    return baud_find_rate(rate) != NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Port helpers                                                                        */

static void port_msg(struct mk_posix_port *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records errno and a one-line explanation for the caller to show. */
static void port_msg(struct mk_posix_port *p, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    p->last_errno = err;
}

/* A failed read/write/poll: hang-up errnos become MK_E_HANGUP, the rest are mapped. */
static enum mk_err port_io_fail(struct mk_posix_port *p, int err, const char *op)
{
    if (errno_is_hangup(err)) {
        port_msg(p, err, "%s went away (%s: %s)", p->device, op, strerror(err));
        return MK_E_HANGUP;
    }
    port_msg(p, err, "%s: %s failed: %s", p->device, op, strerror(err));
    return mk_posix_errno(err);
}

static enum mk_err port_hangup(struct mk_posix_port *p, const char *why)
{
    port_msg(p, 0, "%s went away (%s)", p->device, why);
    return MK_E_HANGUP;
}

/*
 * A tty in raw mode with VMIN = VTIME = 0 returns 0 from read() both when nothing is
 * buffered and after a hang-up (USB serial unplugged, pty master closed, on recent Linux
 * kernels), so 0 alone cannot tell them apart; poll() can: a hung-up tty reports POLLHUP
 * or POLLERR.
 */
static bool fd_hung_up(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&pfd, 1, 0);
    while (r < 0 && errno == EINTR);
    return r > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* ---------------------------------------------------------------------------------- */
/* io ops                                                                              */

static enum mk_err port_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct mk_posix_port *p = ctx;
    *n = 0;
    if (p->fd < 0)
        return MK_E_STATE;
    if (cap == 0)
        return MK_OK;
    for (;;) {
        ssize_t r = read(p->fd, buf, cap);
        if (r > 0) {
            *n = (size_t)r;
            return MK_OK;
        }
        if (r == 0) {
            if (p->kind == MK_POSIX_KIND_TCP)
                return port_hangup(p, "connection closed by the peer");
            return fd_hung_up(p->fd) ? port_hangup(p, "hang-up") : MK_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MK_OK;
        /* EIO: pty whose master closed (older kernels), USB serial during unplug.
         * ENODEV/ENXIO: USB serial device removed. */
        return port_io_fail(p, errno, "read");
    }
}

static enum mk_err port_write(void *ctx, const uint8_t *buf, size_t len, size_t *n)
{
    struct mk_posix_port *p = ctx;
    *n = 0;
    if (p->fd < 0)
        return MK_E_STATE;
    if (len == 0)
        return MK_OK;
    for (;;) {
        ssize_t r;
        if (p->kind == MK_POSIX_KIND_TCP)
            r = send(p->fd, buf, len, MSG_NOSIGNAL); /* EPIPE, not SIGPIPE */
        else
            r = write(p->fd, buf, len);
        if (r >= 0) {
            *n = (size_t)r;
            return MK_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MK_OK;
        return port_io_fail(p, errno, "write");
    }
}

static enum mk_err port_wait(void *ctx, uint32_t timeout_ms, bool want_write)
{
    struct mk_posix_port *p = ctx;
    if (p->fd < 0)
        return MK_E_STATE;
    struct pollfd pfd = {.fd = p->fd, .events = want_write ? POLLOUT : POLLIN};
    int r = poll(&pfd, 1, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
    if (r == 0)
        return MK_E_TIMEOUT;
    if (r < 0)
        return errno == EINTR ? MK_OK : port_io_fail(p, errno, "poll");
    if (pfd.revents & POLLNVAL)
        return MK_E_STATE;
    /* When reading, report readiness and let read() drain what is left and then say
     * MK_E_HANGUP; a writer cannot make progress on a hung-up port, say so now. */
    if (want_write && !(pfd.revents & POLLOUT) && (pfd.revents & (POLLHUP | POLLERR)))
        return port_hangup(p, "hang-up");
    return MK_OK;
}

static void port_close_op(void *ctx)
{
    mk_posix_port_close(ctx);
}

static const struct mk_io_ops port_ops = {
    .read = port_read,
    .write = port_write,
    .close = port_close_op,
    .wait = port_wait,
};

void mk_posix_port_close(struct mk_posix_port *port)
{
    if (port->fd >= 0) {
        if (port->kind == MK_POSIX_KIND_TTY || port->kind == MK_POSIX_KIND_PTY) {
            if (port->have_saved)
                (void)tcsetattr(port->fd, TCSANOW, &port->saved);
            if (!port->cfg.shared)
                (void)ioctl(port->fd, TIOCNXCL);
        }
        close(port->fd);
    }
    port->fd = -1;
    port->kind = MK_POSIX_KIND_NONE;
    port->have_saved = false;
}

/* ---------------------------------------------------------------------------------- */
/* Opening a tty, pty or character device                                              */

static bool stat_is_pty(const struct stat *st, int fd)
{
#if defined(__linux__)
    /* UNIX98 pty slaves have majors 136..143 (Documentation/admin-guide/devices.txt). */
    (void)fd;
    unsigned maj = major(st->st_rdev);
    return maj >= 136 && maj <= 143;
#else
    (void)st;
    char name[64];
    return ttyname_r(fd, name, sizeof name) == 0 && strncmp(name, "/dev/pts/", 9) == 0;
#endif
}

/* The group that owns path, for the permission hint ("dialout" on Debian/Ubuntu). */
static void group_of(const char *path, char *out, size_t cap)
{
    struct stat st;
    struct group gr, *res = NULL;
    char buf[1024];
    snprintf(out, cap, "dialout");
    if (stat(path, &st) == 0 && getgrgid_r(st.st_gid, &gr, buf, sizeof buf, &res) == 0 && res)
        snprintf(out, cap, "%s", res->gr_name);
}

static enum mk_err open_fail(struct mk_posix_port *p, int err)
{
    const char *dev = p->device;
    char grp[64];
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        port_msg(p, err,
                 "%s does not exist: is the module plugged in and powered, and is its USB "
                 "serial driver loaded (option for SIMCom, qcserial for Sierra)? "
                 "See docs/hardware.md",
                 dev);
        return MK_E_NOENT;
    case ENODEV:
    case ENXIO:
        port_msg(p, err, "%s has no device behind it (unplugged or still starting): %s", dev,
                 strerror(err));
        return MK_E_NOENT;
    case EACCES:
    case EPERM:
        group_of(dev, grp, sizeof grp);
        port_msg(p, err,
                 "permission denied on %s: add your user to the '%s' group "
                 "(sudo usermod -aG %s $USER, then log in again) or install a udev rule, "
                 "see docs/hardware.md",
                 dev, grp, grp);
        return MK_E_PERM;
    case EBUSY:
        port_msg(p, err,
                 "%s is in exclusive use by another program (often ModemManager: stop it or "
                 "run 'mmcli --inhibit-device', see docs/hardware.md)",
                 dev);
        return MK_E_BUSY;
    default:
        port_msg(p, err, "cannot open %s: %s", dev, strerror(err));
        return mk_posix_errno(err);
    }
}

/*
 * Raw mode at the configured rate. Linux: standard rates through cfsetspeed, any other
 * rate through termios2; the rate is then read back, because tcsetattr() succeeds when
 * any part of the request worked and drivers round rates they cannot generate.
 */
static enum mk_err tty_configure(struct mk_posix_port *p)
{
    uint32_t rate = p->cfg.baud ? p->cfg.baud : MK_POSIX_BAUD_DEFAULT;
    bool pty = p->kind == MK_POSIX_KIND_PTY;
    const struct baud_entry *std = baud_find_rate(rate);
    struct termios t;

    if (rate < MK_POSIX_BAUD_MIN || rate > MK_POSIX_BAUD_MAX) {
        port_msg(p, 0, "baud rate %u is out of range (%u..%u)", (unsigned)rate, MK_POSIX_BAUD_MIN,
                 MK_POSIX_BAUD_MAX);
        return MK_E_INVAL;
    }
    if (tcgetattr(p->fd, &t) != 0)
        return port_io_fail(p, errno, "tcgetattr");
    p->saved = t;
    p->have_saved = true;

    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB);
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    if (p->cfg.rtscts)
        t.c_cflag |= CRTSCTS;
    else
        t.c_cflag &= ~(tcflag_t)CRTSCTS;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (std) {
        cfsetispeed(&t, std->code);
        cfsetospeed(&t, std->code);
    }
    if (tcsetattr(p->fd, TCSANOW, &t) != 0)
        return port_io_fail(p, errno, "tcsetattr");

    int err = 0;
    if (!std)
        err = mk_posix_termios2_set(p->fd, rate);
    uint32_t actual = 0;
    if (!err)
        err = mk_posix_termios2_get(p->fd, &actual);
    if (err == ENOTSUP && std) {
        /* No termios2: trust the B* code we read back. */
        struct termios chk;
        err = tcgetattr(p->fd, &chk) == 0 ? 0 : errno;
        if (!err)
            actual = cfgetospeed(&chk) == std->code ? rate : 0;
    }
    p->baud_actual = err ? 0 : actual;
    /* A pty has no line: whatever happened to the rate, it must not fail the open. */
    if (pty)
        return MK_OK;
    if (err == ENOTSUP) {
        port_msg(p, err,
                 "%s: baud rate %u is not a standard rate and this system cannot set "
                 "arbitrary rates",
                 p->device, (unsigned)rate);
        return MK_E_UNSUPPORTED;
    }
    if (err) {
        port_msg(p, err, "%s: cannot set baud rate %u: %s", p->device, (unsigned)rate,
                 strerror(err));
        return err == EINVAL ? MK_E_UNSUPPORTED : mk_posix_errno(err);
    }
    /* Accept what a UART can really generate: within 2% of the request. */
    uint64_t lo = (uint64_t)rate * 98u / 100u, hi = (uint64_t)rate * 102u / 100u;
    if (actual < lo || actual > hi) {
        port_msg(p, 0, "%s: the driver does not support %u baud (it set %u)", p->device,
                 (unsigned)rate, (unsigned)actual);
        return MK_E_UNSUPPORTED;
    }
    return MK_OK;
}

static enum mk_err open_path(struct mk_posix_port *p)
{
    struct stat st;
    int fd;
    do
        fd = open(p->device, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return open_fail(p, errno);
    p->fd = fd;
    if (fstat(fd, &st) != 0)
        return port_io_fail(p, errno, "fstat");
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        port_msg(p, 0, "%s is not a device (regular file or directory)", p->device);
        return MK_E_INVAL;
    }
    if (!isatty(fd)) {
        /* MHI nodes, FIFOs, /dev/null: a byte stream without line settings. */
        p->kind = MK_POSIX_KIND_CHAR;
        return MK_OK;
    }
    p->kind = stat_is_pty(&st, fd) ? MK_POSIX_KIND_PTY : MK_POSIX_KIND_TTY;
    /* Exclusive access keeps a second modemctl (or a careless script) off the port.
     * Root bypasses it, and some drivers refuse it: best effort. */
    if (!p->cfg.shared)
        (void)ioctl(fd, TIOCEXCL);
    return tty_configure(p);
}

/* ---------------------------------------------------------------------------------- */
/* TCP                                                                                 */

/* Splits "HOST:PORT" or "[V6]:PORT" into host and service. */
static bool split_host_port(const char *s, char *host, size_t hcap, char *serv, size_t scap)
{
    const char *colon;
    size_t hlen;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':')
            return false;
        hlen = (size_t)(end - s - 1);
        s++;
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - s);
    }
    size_t slen = strlen(colon + 1);
    if (hlen == 0 || hlen >= hcap || slen == 0 || slen >= scap)
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memcpy(serv, colon + 1, slen + 1);
    return true;
}

/* One connect attempt to one address, bounded by deadline_ms. Returns 0 or errno. */
static int connect_one(int fd, const struct addrinfo *ai, uint64_t deadline_ms)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return errno;
    for (;;) {
        uint64_t now = mk_posix_now_ms();
        if (now >= deadline_ms)
            return ETIMEDOUT;
        uint64_t left = deadline_ms - now;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        if (r == 0)
            return ETIMEDOUT;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            return errno;
        return soerr;
    }
}

static enum mk_err open_tcp(struct mk_posix_port *p, uint64_t deadline_ms)
{
    char host[MK_POSIX_PATH_CAP], serv[16];
    const char *hp = p->device + 4;
    if (!split_host_port(hp, host, sizeof host, serv, sizeof serv)) {
        port_msg(p, 0, "bad device '%s': expected tcp:HOST:PORT", p->device);
        return MK_E_INVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, serv, &hints, &res);
    if (gai != 0) {
        port_msg(p, 0, "%s: cannot resolve %s port %s: %s", p->device, host, serv,
                 gai_strerror(gai));
        return gai == EAI_SERVICE ? MK_E_INVAL : MK_E_NOENT;
    }
    int err = ENOENT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        err = connect_one(fd, ai, deadline_ms);
        if (err == 0) {
            int one = 1;
            /* AT commands and protocol frames are small: send them now, not in 40 ms. */
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
            p->fd = fd;
            p->kind = MK_POSIX_KIND_TCP;
            break;
        }
        close(fd);
        if (err == ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (err == 0)
        return MK_OK;
    if (err == ETIMEDOUT) {
        port_msg(p, err, "%s: connect timed out", p->device);
        return MK_E_TIMEOUT;
    }
    if (err == ECONNREFUSED) {
        port_msg(p, err, "%s: nothing is listening there (connection refused)", p->device);
        return MK_E_NOENT;
    }
    port_msg(p, err, "%s: connect failed: %s", p->device, strerror(err));
    return mk_posix_errno(err);
}

/* ---------------------------------------------------------------------------------- */
/* Open / reopen                                                                       */

static bool is_tcp(const char *device)
{
    return strncmp(device, "tcp:", 4) == 0;
}

static uint32_t connect_timeout_ms(const struct mk_posix_port *p)
{
    return p->cfg.connect_timeout_ms ? p->cfg.connect_timeout_ms : MK_POSIX_CONNECT_TIMEOUT_MS;
}

/* One attempt with port->device and port->cfg. Leaves the port closed on failure. */
static enum mk_err open_once(struct mk_posix_port *p, uint64_t tcp_deadline_ms)
{
    enum mk_err e;
    p->msg[0] = '\0';
    p->last_errno = 0;
    p->baud_actual = 0;
    if (is_tcp(p->device))
        e = open_tcp(p, tcp_deadline_ms);
    else
        e = open_path(p);
    if (e != MK_OK) {
        int saved = p->last_errno;
        mk_posix_port_close(p);
        p->last_errno = saved;
    }
    return e;
}

enum mk_err mk_posix_port_open(struct mk_posix_port *port, const char *device,
                               const struct mk_posix_port_cfg *cfg)
{
    memset(port, 0, sizeof *port);
    port->fd = -1;
    port->io.ops = &port_ops;
    port->io.ctx = port;
    if (cfg)
        port->cfg = *cfg;
    if (!device || !device[0] || strlen(device) >= sizeof port->device) {
        port_msg(port, 0, "bad device string");
        return MK_E_INVAL;
    }
    memcpy(port->device, device, strlen(device) + 1);
    uint32_t ct = connect_timeout_ms(port);
    return open_once(port, mk_posix_now_ms() + ct);
}

enum mk_err mk_posix_port_reopen(struct mk_posix_port *port, uint64_t deadline_ms)
{
    char last[MK_POSIX_MSG_CAP] = "it did not appear";
    bool tcp = is_tcp(port->device);
    uint32_t ct = connect_timeout_ms(port);
    uint64_t start = mk_posix_now_ms();

    if (!port->device[0]) {
        port_msg(port, 0, "reopen: the port was never opened");
        return MK_E_INVAL;
    }
    /* Never touch the old fd again: its device is gone even if the path comes back. */
    mk_posix_port_close(port);
    port->io.ops = &port_ops;
    port->io.ctx = port;
    for (;;) {
        uint64_t now = mk_posix_now_ms();
        struct stat st;
        if (!tcp && stat(port->device, &st) != 0) {
            /* Missing node, or a symlink whose target is gone: not back yet. */
            snprintf(last, sizeof last, "%s: %s", port->device, strerror(errno));
        } else {
            uint64_t cdl = now + ct < deadline_ms ? now + ct : deadline_ms;
            enum mk_err e = open_once(port, cdl);
            if (e == MK_OK && !tcp && fd_hung_up(port->fd)) {
                mk_posix_port_close(port);
                snprintf(last, sizeof last, "%s opens but is already hung up", port->device);
            } else if (e == MK_OK) {
                return MK_OK;
            } else if (e == MK_E_INVAL || e == MK_E_UNSUPPORTED) {
                return e; /* waiting will not fix a bad rate or a regular file */
            } else {
                memcpy(last, port->msg, sizeof last);
            }
        }
        now = mk_posix_now_ms();
        if (now >= deadline_ms) {
            port_msg(port, port->last_errno, "waited %llu ms for %s to come back; last attempt: %s",
                     (unsigned long long)(now - start), port->device, last);
            return MK_E_TIMEOUT;
        }
        uint64_t left = deadline_ms - now;
        mk_posix_sleep_ms(left < MK_POSIX_REOPEN_POLL_MS ? (uint32_t)left
                                                         : MK_POSIX_REOPEN_POLL_MS);
    }
}
