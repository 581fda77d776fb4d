/* Small helpers for the posix tests: pty pairs and deadline-bounded reads. */
#ifndef MK_POSIX_TESTUTIL_H
#define MK_POSIX_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modemkit/io.h"
#include "modemkit/posix.h"

/* Opens a pty master (non-blocking) and returns its slave's path in name. -1 on error. */
static inline int tu_pty_master(char *name, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, cap) != 0) {
        close(m);
        return -1;
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    return m;
}

/* Reads exactly n bytes from a raw fd, waiting with poll() until timeout_ms passes. */
static inline size_t tu_fd_read(int fd, void *buf, size_t n, uint32_t timeout_ms)
{
    uint64_t deadline = mk_posix_now_ms() + timeout_ms;
    size_t got = 0;
    while (got < n) {
        uint64_t now = mk_posix_now_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now)) <= 0)
            continue;
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR))
            break;
    }
    return got;
}

/* Writes all of buf to a raw non-blocking fd, waiting for room, within timeout_ms. */
static inline size_t tu_fd_write(int fd, const void *buf, size_t n, uint32_t timeout_ms)
{
    uint64_t deadline = mk_posix_now_ms() + timeout_ms;
    size_t off = 0;
    while (off < n && mk_posix_now_ms() < deadline) {
        ssize_t r = write(fd, (const char *)buf + off, n - off);
        if (r > 0) {
            off += (size_t)r;
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 10);
    }
    return off;
}

/*
 * Reads through the io until n bytes arrived, an error, or timeout_ms. Returns the
 * error (MK_OK when all n came) and the count in *got.
 */
static inline enum mk_err tu_io_read(const struct mk_io *io, void *buf, size_t n, size_t *got,
                                     uint32_t timeout_ms)
{
    uint64_t deadline = mk_posix_now_ms() + timeout_ms;
    *got = 0;
    while (*got < n) {
        size_t k = 0;
        enum mk_err e = mk_io_read(io, (uint8_t *)buf + *got, n - *got, &k);
        if (e != MK_OK)
            return e;
        *got += k;
        if (k)
            continue;
        uint64_t now = mk_posix_now_ms();
        if (now >= deadline)
            return MK_E_TIMEOUT;
        e = mk_io_wait(io, (uint32_t)(deadline - now), false);
        if (e != MK_OK && e != MK_E_TIMEOUT)
            return e;
    }
    return MK_OK;
}

/* Waits (through the io) until a read reports an error; returns it (MK_E_TIMEOUT if none). */
static inline enum mk_err tu_io_until_error(const struct mk_io *io, uint32_t timeout_ms)
{
    uint64_t deadline = mk_posix_now_ms() + timeout_ms;
    uint8_t buf[256];
    for (;;) {
        size_t k = 0;
        enum mk_err e = mk_io_read(io, buf, sizeof buf, &k);
        if (e != MK_OK)
            return e;
        if (k)
            continue;
        uint64_t now = mk_posix_now_ms();
        if (now >= deadline)
            return MK_E_TIMEOUT;
        e = mk_io_wait(io, (uint32_t)(deadline - now), false);
        if (e != MK_OK && e != MK_E_TIMEOUT)
            return e;
    }
}

#endif
