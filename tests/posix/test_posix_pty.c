/*
 * Ports on real ptys: raw mode, non-blocking reads and writes, short reads, hang-up
 * when the master closes, line rates (standard and arbitrary), error mapping.
 */
#include "mk_test.h"
#include "posix_testutil.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "modemkit/posix.h"

static int open_pty_port(struct mk_posix_port *port, const struct mk_posix_port_cfg *cfg,
                         char *name, size_t cap)
{
    int m = tu_pty_master(name, cap);
    if (m < 0)
        return -1;
    if (mk_posix_port_open(port, name, cfg) != MK_OK) {
        printf("# open %s: %s\n", name, port->msg);
        close(m);
        return -1;
    }
    return m;
}

MK_TEST(pty_raw_mode_settings)
{
    struct mk_posix_port port;
    char name[64];
    struct mk_posix_port_cfg cfg = {.baud = 115200};
    int m = open_pty_port(&port, &cfg, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    MK_CHECK_EQ_INT(port.kind, MK_POSIX_KIND_PTY);
    MK_CHECK_EQ_STR(port.device, name);
    struct termios t;
    MK_CHECK_EQ_INT(tcgetattr(port.fd, &t), 0);
    MK_CHECK(!(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)));
    MK_CHECK(!(t.c_iflag & (ICRNL | INLCR | IGNCR | IXON | IXOFF | ISTRIP)));
    MK_CHECK(!(t.c_oflag & OPOST));
    MK_CHECK((t.c_cflag & (CLOCAL | CREAD)) == (CLOCAL | CREAD));
    MK_CHECK((t.c_cflag & CSIZE) == CS8);
    MK_CHECK(!(t.c_cflag & (PARENB | CSTOPB | CRTSCTS)));
    MK_CHECK_EQ_INT(t.c_cc[VMIN], 0);
    MK_CHECK_EQ_INT(t.c_cc[VTIME], 0);
    int fl = fcntl(port.fd, F_GETFL);
    MK_CHECK(fl & O_NONBLOCK);
    MK_CHECK(fcntl(port.fd, F_GETFD) & FD_CLOEXEC);
    mk_posix_port_close(&port);
    MK_CHECK_EQ_INT(port.fd, -1);
    close(m);
}

MK_TEST(pty_rtscts_only_when_asked)
{
    struct mk_posix_port port;
    char name[64];
    struct mk_posix_port_cfg cfg = {.baud = 921600, .rtscts = true};
    int m = open_pty_port(&port, &cfg, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    struct termios t;
    MK_CHECK_EQ_INT(tcgetattr(port.fd, &t), 0);
    MK_CHECK(t.c_cflag & CRTSCTS);
    mk_posix_port_close(&port);
    close(m);
}

/* Every byte value passes untouched both ways: no CR/LF mapping, no ^C, no XON/XOFF. */
MK_TEST(pty_bytes_pass_raw_both_ways)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    uint8_t all[256], got[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    MK_CHECK_EQ_INT(tu_fd_write(m, all, sizeof all, 2000), sizeof all);
    size_t n = 0;
    MK_CHECK_EQ_INT(tu_io_read(&port.io, got, sizeof got, &n, 2000), MK_OK);
    MK_CHECK_EQ_INT(n, sizeof all);
    MK_CHECK_EQ_MEM(got, all, sizeof all);

    MK_CHECK_EQ_INT(
        mk_io_write_all(&port.io, mk_posix_clock(), all, sizeof all, mk_posix_now_ms() + 2000),
        MK_OK);
    memset(got, 0, sizeof got);
    MK_CHECK_EQ_INT(tu_fd_read(m, got, sizeof got, 2000), sizeof all);
    MK_CHECK_EQ_MEM(got, all, sizeof all);
    mk_posix_port_close(&port);
    close(m);
}

MK_TEST(pty_read_is_non_blocking_and_wait_times_out)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    uint8_t buf[16];
    size_t n = 99;
    uint64_t t0 = mk_posix_now_ms();
    MK_CHECK_EQ_INT(mk_io_read(&port.io, buf, sizeof buf, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 0);
    MK_CHECK(mk_posix_now_ms() - t0 < 500); /* returned at once, did not block */

    t0 = mk_posix_now_ms();
    MK_CHECK_EQ_INT(mk_io_wait(&port.io, 50, false), MK_E_TIMEOUT);
    MK_CHECK(mk_posix_now_ms() - t0 >= 40);
    MK_CHECK_EQ_INT(mk_io_wait(&port.io, 1000, true), MK_OK); /* writable */

    MK_CHECK_EQ_INT(tu_fd_write(m, "OK\r\n", 4, 1000), 4);
    MK_CHECK_EQ_INT(mk_io_wait(&port.io, 2000, false), MK_OK);
    MK_CHECK_EQ_INT(mk_io_read(&port.io, buf, sizeof buf, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 4);
    MK_CHECK_EQ_MEM(buf, "OK\r\n", 4);
    mk_posix_port_close(&port);
    close(m);
}

MK_TEST(pty_short_reads_keep_order)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    uint8_t src[1000], dst[1000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    MK_CHECK_EQ_INT(tu_fd_write(m, src, sizeof src, 2000), sizeof src);
    size_t got = 0, calls = 0;
    uint64_t deadline = mk_posix_now_ms() + 3000;
    while (got < sizeof dst && mk_posix_now_ms() < deadline) {
        size_t n = 0;
        MK_CHECK_EQ_INT(mk_io_read(&port.io, dst + got, 7, &n), MK_OK);
        MK_CHECK(n <= 7);
        got += n;
        calls++;
        if (!n)
            mk_io_wait(&port.io, 100, false);
    }
    MK_CHECK_EQ_INT(got, sizeof src);
    MK_CHECK(calls >= sizeof src / 7);
    MK_CHECK_EQ_MEM(dst, src, sizeof src);
    mk_posix_port_close(&port);
    close(m);
}

/* Nobody reads the master: the port's writes become short, then 0, never block. */
MK_TEST(pty_write_full_returns_zero_then_resumes)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    enum { TOTAL = 256 * 1024 };
    static uint8_t src[TOTAL], dst[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        src[i] = (uint8_t)(i ^ (i >> 8));
    size_t off = 0, in = 0;
    bool saw_full = false;
    uint64_t deadline = mk_posix_now_ms() + 10000;
    while ((off < TOTAL || in < TOTAL) && mk_posix_now_ms() < deadline) {
        size_t n = 0;
        if (off < TOTAL) {
            uint64_t t0 = mk_posix_now_ms();
            MK_CHECK_EQ_INT(mk_io_write(&port.io, src + off, TOTAL - off, &n), MK_OK);
            MK_CHECK(mk_posix_now_ms() - t0 < 500);
            off += n;
        }
        if (n == 0 || off == TOTAL) {
            saw_full |= off < TOTAL;
            ssize_t r = read(m, dst + in, TOTAL - in);
            if (r > 0)
                in += (size_t)r;
            else
                mk_io_wait(&port.io, 50, true);
        }
    }
    MK_CHECK(saw_full);
    MK_CHECK_EQ_INT(off, TOTAL);
    MK_CHECK_EQ_INT(in, TOTAL);
    MK_CHECK(memcmp(src, dst, TOTAL) == 0);
    mk_posix_port_close(&port);
    close(m);
}

MK_TEST(pty_hangup_when_master_closes)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    close(m);
    MK_CHECK_EQ_INT(tu_io_until_error(&port.io, 2000), MK_E_HANGUP);
    MK_CHECK(strstr(port.msg, name) != NULL);
    /* Still hung up on the next call, and writing says so too. */
    uint8_t b[4];
    size_t n = 0;
    MK_CHECK_EQ_INT(mk_io_read(&port.io, b, sizeof b, &n), MK_E_HANGUP);
    MK_CHECK_EQ_INT(mk_io_write(&port.io, (const uint8_t *)"AT\r", 3, &n), MK_E_HANGUP);
    mk_posix_port_close(&port);
}

/* The data the module sent before it vanished is still delivered, then the hang-up. */
MK_TEST(pty_data_before_hangup_is_delivered)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    MK_CHECK_EQ_INT(tu_fd_write(m, "RDY\r\n", 5, 1000), 5);
    char buf[8];
    size_t n = 0;
    MK_CHECK_EQ_INT(tu_io_read(&port.io, buf, 5, &n, 2000), MK_OK);
    MK_CHECK_EQ_MEM(buf, "RDY\r\n", 5);
    close(m);
    MK_CHECK_EQ_INT(tu_io_until_error(&port.io, 2000), MK_E_HANGUP);
    mk_posix_port_close(&port);
}

MK_TEST(pty_close_restores_settings)
{
    char name[64];
    int m = tu_pty_master(name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    int s = open(name, O_RDWR | O_NOCTTY); /* the user's view of the tty */
    struct termios before, during, after;
    MK_CHECK_EQ_INT(tcgetattr(s, &before), 0);
    MK_CHECK(before.c_lflag & ICANON);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, name, NULL), MK_OK);
    MK_CHECK_EQ_INT(tcgetattr(s, &during), 0);
    MK_CHECK(!(during.c_lflag & ICANON));
    mk_io_close(&port.io);
    MK_CHECK_EQ_INT(tcgetattr(s, &after), 0);
    MK_CHECK(after.c_lflag & ICANON);
    MK_CHECK_EQ_INT(after.c_lflag, before.c_lflag);
    mk_posix_port_close(&port); /* twice is harmless */
    close(s);
    close(m);
}

static const uint32_t standard_rates[] = {
    300,     600,     1200,    1800,    2400,    4800,    9600,    19200,
    38400,   57600,   115200,  230400,  460800,  500000,  576000,  921600,
    1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
};

MK_TEST(baud_standard_table)
{
    for (size_t i = 0; i < sizeof standard_rates / sizeof standard_rates[0]; i++) {
        uint32_t rate = standard_rates[i];
        MK_CHECK(mk_posix_baud_is_standard(rate));
        struct mk_posix_port port;
        char name[64];
        struct mk_posix_port_cfg cfg = {.baud = rate};
        int m = open_pty_port(&port, &cfg, name, sizeof name);
        MK_CHECK(m >= 0);
        if (m < 0)
            continue;
        /* A pty keeps the rate it was given, so reading it back proves we set it. */
        if (port.baud_actual != rate)
            printf("#   rate %u read back as %u\n", rate, port.baud_actual);
        MK_CHECK_EQ_INT(port.baud_actual, rate);
        mk_posix_port_close(&port);
        close(m);
    }
    MK_CHECK(!mk_posix_baud_is_standard(250000));
    MK_CHECK(!mk_posix_baud_is_standard(0));
}

MK_TEST(baud_custom_rates_on_pty)
{
    static const uint32_t rates[] = {250000, 1234567, 3686400, 300, 4000000, 7200};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        struct mk_posix_port port;
        char name[64];
        struct mk_posix_port_cfg cfg = {.baud = rates[i]};
        int m = open_pty_port(&port, &cfg, name, sizeof name);
        MK_CHECK(m >= 0);
        if (m < 0)
            continue;
#if defined(__linux__)
        MK_CHECK_EQ_INT(port.baud_actual, rates[i]); /* termios2/BOTHER */
#endif
        mk_posix_port_close(&port);
        close(m);
    }
}

MK_TEST(baud_default_and_out_of_range)
{
    struct mk_posix_port port;
    char name[64];
    int m = open_pty_port(&port, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m >= 0) {
        MK_CHECK_EQ_INT(port.baud_actual, MK_POSIX_BAUD_DEFAULT);
        mk_posix_port_close(&port);
        close(m);
    }
    static const uint32_t bad[] = {299, 4000001, 12000000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = tu_pty_master(name, sizeof name);
        struct mk_posix_port_cfg cfg = {.baud = bad[i]};
        MK_CHECK_EQ_INT(mk_posix_port_open(&port, name, &cfg), MK_E_INVAL);
        MK_CHECK(strstr(port.msg, "baud rate") != NULL);
        MK_CHECK_EQ_INT(port.fd, -1); /* nothing stays open */
        close(m);
    }
}

MK_TEST(open_errors_are_mapped_and_explained)
{
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, "/dev/ttyUSB-modemkit-none", NULL), MK_E_NOENT);
    MK_CHECK(strstr(port.msg, "/dev/ttyUSB-modemkit-none") != NULL);
    MK_CHECK(strstr(port.msg, "driver") != NULL);
    MK_CHECK_EQ_INT(port.fd, -1);
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, "", NULL), MK_E_INVAL);

    /* A regular file is not a port. */
    char path[] = "/tmp/modemkit-regular-XXXXXX";
    int fd = mkstemp(path);
    MK_CHECK(fd >= 0);
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, path, NULL), MK_E_INVAL);
    MK_CHECK_EQ_INT(port.fd, -1);
    close(fd);
    unlink(path);

    /* Errno mapping used everywhere else. */
    MK_CHECK_EQ_INT(mk_posix_errno(0), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_errno(EACCES), MK_E_PERM);
    MK_CHECK_EQ_INT(mk_posix_errno(EPERM), MK_E_PERM);
    MK_CHECK_EQ_INT(mk_posix_errno(ENOENT), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_posix_errno(EBUSY), MK_E_BUSY);
    MK_CHECK_EQ_INT(mk_posix_errno(ETIMEDOUT), MK_E_TIMEOUT);
    MK_CHECK_EQ_INT(mk_posix_errno(EEXIST), MK_E_EXISTS);
    MK_CHECK_EQ_INT(mk_posix_errno(EIO), MK_E_IO);
}

/* Without root, a second open of a port held with TIOCEXCL gets EBUSY → MK_E_BUSY.
 * Root bypasses TIOCEXCL, so there the second open must simply work. */
MK_TEST(exclusive_access)
{
    struct mk_posix_port a, b;
    char name[64];
    int m = open_pty_port(&a, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    enum mk_err e = mk_posix_port_open(&b, name, NULL);
    if (geteuid() == 0) {
        printf("# running as root: TIOCEXCL is bypassed, checking the shared path only\n");
        MK_CHECK_EQ_INT(e, MK_OK);
    } else {
        MK_CHECK_EQ_INT(e, MK_E_BUSY);
        MK_CHECK(strstr(b.msg, "ModemManager") != NULL);
    }
    mk_posix_port_close(&b);
    struct mk_posix_port_cfg shared = {.shared = true};
    mk_posix_port_close(&a);
    MK_CHECK_EQ_INT(mk_posix_port_open(&a, name, &shared), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_port_open(&b, name, &shared), MK_OK);
    mk_posix_port_close(&a);
    mk_posix_port_close(&b);
    close(m);
}

/*
 * Opens name as an unprivileged user: directly when we are one, else in a child that
 * drops to nobody (65534). Returns the error and copies port.msg into msg.
 */
static enum mk_err open_unprivileged(const char *name, char *msg, size_t cap)
{
    int pfd[2];
    if (geteuid() != 0) {
        struct mk_posix_port p;
        enum mk_err e = mk_posix_port_open(&p, name, NULL);
        snprintf(msg, cap, "%s", p.msg);
        mk_posix_port_close(&p);
        return e;
    }
    if (pipe(pfd) != 0)
        return MK_E_IO;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        struct mk_posix_port p;
        memset(&p, 0, sizeof p);
        int e = MK_E_IO;
        if (setgid(65534) == 0 && setuid(65534) == 0)
            e = (int)mk_posix_port_open(&p, name, NULL);
        ssize_t w = write(pfd[1], p.msg, strlen(p.msg));
        (void)w;
        _exit(e);
    }
    close(pfd[1]);
    size_t n = tu_fd_read(pfd[0], msg, cap - 1, 5000);
    msg[n] = '\0';
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? (enum mk_err)WEXITSTATUS(st) : MK_E_IO;
}

MK_TEST(permission_denied_and_busy_for_a_normal_user)
{
    struct mk_posix_port a;
    char name[64], msg[MK_POSIX_MSG_CAP];
    int m = open_pty_port(&a, NULL, name, sizeof name);
    MK_CHECK(m >= 0);
    if (m < 0)
        return;
    /* Readable by nobody else: EACCES → MK_E_PERM with the group hint. */
    MK_CHECK_EQ_INT(chmod(name, 0600), 0);
    MK_CHECK_EQ_INT(open_unprivileged(name, msg, sizeof msg), MK_E_PERM);
    MK_CHECK(strstr(msg, "permission denied") != NULL);
    MK_CHECK(strstr(msg, "usermod -aG") != NULL);
    /* Open to all but held with TIOCEXCL by us: EBUSY → MK_E_BUSY. */
    MK_CHECK_EQ_INT(chmod(name, 0666), 0);
    MK_CHECK_EQ_INT(open_unprivileged(name, msg, sizeof msg), MK_E_BUSY);
    MK_CHECK(strstr(msg, "exclusive") != NULL);
    mk_posix_port_close(&a);
    /* Released on close: now the same user gets in. */
    MK_CHECK_EQ_INT(open_unprivileged(name, msg, sizeof msg), MK_OK);
    close(m);
}

/* A character device that is not a terminal is a plain byte stream (MHI nodes). */
MK_TEST(non_tty_char_device)
{
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, "/dev/null", NULL), MK_OK);
    MK_CHECK_EQ_INT(port.kind, MK_POSIX_KIND_CHAR);
    uint8_t b[4];
    size_t n = 9;
    MK_CHECK_EQ_INT(mk_io_read(&port.io, b, sizeof b, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 0);
    MK_CHECK_EQ_INT(mk_io_write(&port.io, (const uint8_t *)"x", 1, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 1);
    mk_io_close(&port.io);
}

MK_TEST(clock_is_monotonic_ms)
{
    const struct mk_clock *c = mk_posix_clock();
    MK_CHECK(c == mk_posix_clock());
    uint64_t a = mk_clock_now(c);
    mk_posix_sleep_ms(20);
    uint64_t b = mk_clock_now(c);
    MK_CHECK(b >= a + 19);
    MK_CHECK(b < a + 2000);
}

MK_TEST_MAIN()
