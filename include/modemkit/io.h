/*
 * The byte-stream interface every transport implements (serial tty, pty, TCP, a fake
 * io in tests, a UART driver on an MCU).
 *
 * All calls are non-blocking and may be short:
 *   read:  stores up to cap bytes, sets *n. MK_OK with *n == 0 means "nothing now".
 *          MK_E_HANGUP when the peer is gone (device unplugged, pty closed, TCP FIN).
 *   write: writes up to len bytes, sets *n (0 when the port cannot take more now).
 *   close: releases the port; the io must not be used afterwards. May be NULL.
 *   wait:  optional; blocks up to timeout_ms until the port is readable (or writable
 *          when want_write), returning MK_OK on readiness, MK_E_TIMEOUT otherwise.
 *          Blocking helpers (mk_at_exec and friends) use it to sleep instead of spinning.
 *          On an MCU it can run the main loop's other work or wait for an interrupt.
 *
 * The io does not own the buffers passed to it. ctx is the implementation's instance.
 */
#ifndef MODEMKIT_IO_H
#define MODEMKIT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "modemkit/err.h"

struct mk_io_ops {
    enum mk_err (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *n);
    enum mk_err (*write)(void *ctx, const uint8_t *buf, size_t len, size_t *n);
    void (*close)(void *ctx);
    enum mk_err (*wait)(void *ctx, uint32_t timeout_ms, bool want_write);
};

struct mk_io {
    const struct mk_io_ops *ops;
    void *ctx;
};

static inline enum mk_err mk_io_read(const struct mk_io *io, uint8_t *buf, size_t cap,
                                     size_t *n)
{
    return io->ops->read(io->ctx, buf, cap, n);
}

static inline enum mk_err mk_io_write(const struct mk_io *io, const uint8_t *buf, size_t len,
                                      size_t *n)
{
    return io->ops->write(io->ctx, buf, len, n);
}

static inline void mk_io_close(const struct mk_io *io)
{
    if (io->ops && io->ops->close)
        io->ops->close(io->ctx);
}

/*
 * Wait for readiness. Without a wait op this returns MK_OK at once (the caller then
 * polls), so loops built on it still make progress, only less efficiently.
 */
static inline enum mk_err mk_io_wait(const struct mk_io *io, uint32_t timeout_ms,
                                     bool want_write)
{
    if (!io->ops->wait)
        return MK_OK;
    return io->ops->wait(io->ctx, timeout_ms, want_write);
}

/*
 * Write all of buf, waiting (through the io's wait op) while the port is full, until
 * deadline_ms on clock. Returns MK_OK, MK_E_TIMEOUT or the io's error.
 */
struct mk_clock;
enum mk_err mk_io_write_all(const struct mk_io *io, const struct mk_clock *clock,
                            const uint8_t *buf, size_t len, uint64_t deadline_ms);

#endif
