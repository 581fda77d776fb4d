#include "modemkit/io.h"
#include "modemkit/clock.h"

enum mk_err mk_io_write_all(const struct mk_io *io, const struct mk_clock *clock,
                            const uint8_t *buf, size_t len, uint64_t deadline_ms)
{
    size_t off = 0;
    while (off < len) {
        size_t n = 0;
        enum mk_err e = mk_io_write(io, buf + off, len - off, &n);
        if (e != MK_OK)
            return e;
        off += n;
        if (off == len)
            break;
        uint64_t now = mk_clock_now(clock);
        if (now >= deadline_ms)
            return MK_E_TIMEOUT;
        if (n == 0) {
            uint64_t left = deadline_ms - now;
            e = mk_io_wait(io, left > UINT32_MAX ? UINT32_MAX : (uint32_t)left, true);
            if (e != MK_OK && e != MK_E_TIMEOUT)
                return e;
        }
    }
    return MK_OK;
}
