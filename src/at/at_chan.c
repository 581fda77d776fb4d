/*
 * The blocking AT channel: the engine driven through an io and a clock. Portable: the
 * only ways it waits are the io's wait op and the clock (no OS calls of its own).
 */
#include "modemkit/at.h"

#include <string.h>

#define MK_AT_CHAN_RD 256 /* read chunk; on the stack */

/* Bytes read per pass before deadlines are looked at again (a flooding peer). */
#define MK_AT_CHAN_RD_PASS (16u * MK_AT_CHAN_RD)

void mk_at_chan_init(struct mk_at_chan *ch, const struct mk_at_config *cfg, const struct mk_io *io,
                     const struct mk_clock *clock)
{
    mk_at_init(&ch->at, cfg);
    ch->io = io;
    ch->clock = clock;
    ch->io_err = MK_OK;
}

void mk_at_chan_set_io(struct mk_at_chan *ch, const struct mk_io *io)
{
    ch->io = io;
    ch->io_err = MK_OK;
    mk_at_reset_input(&ch->at);
}

/* Write what the engine has for the module, as far as the port takes it now. */
static void mk_at_chan_flush(struct mk_at_chan *ch)
{
    const uint8_t *p;
    size_t n;
    while (ch->io_err == MK_OK && (n = mk_at_tx_peek(&ch->at, &p)) > 0) {
        size_t w = 0;
        enum mk_err e = mk_io_write(ch->io, p, n, &w);
        if (e != MK_OK) {
            ch->io_err = e;
            break;
        }
        if (w == 0)
            break;
        mk_at_tx_consume(&ch->at, w > n ? n : w, mk_clock_now(ch->clock));
    }
}

/* Read and feed what is available now, up to limit bytes. Returns the bytes fed. */
static size_t mk_at_chan_read(struct mk_at_chan *ch, size_t limit)
{
    uint8_t buf[MK_AT_CHAN_RD];
    size_t total = 0;
    while (ch->io_err == MK_OK && total < limit) {
        size_t n = 0;
        enum mk_err e = mk_io_read(ch->io, buf, sizeof buf, &n);
        if (e != MK_OK) {
            ch->io_err = e;
            break;
        }
        if (n == 0)
            break;
        if (n > sizeof buf)
            n = sizeof buf;
        mk_at_feed(&ch->at, buf, n, mk_clock_now(ch->clock));
        total += n;
    }
    return total;
}

static void mk_at_chan_fail(struct mk_at_result *res, enum mk_err err)
{
    memset(res, 0, sizeof *res);
    res->err = err;
    res->cme = -1;
    res->urc_code = -1;
}

static uint32_t mk_at_chan_ms(uint64_t from, uint64_t to)
{
    uint64_t d = to > from ? to - from : 0;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

enum mk_err mk_at_exec(struct mk_at_chan *ch, const struct mk_at_cmd *cmd, struct mk_at_result *res)
{
    struct mk_at_result tmp;
    if (!res)
        res = &tmp;
    if (ch->io_err != MK_OK) {
        mk_at_chan_fail(res, ch->io_err);
        return res->err;
    }
    enum mk_err e = mk_at_submit(&ch->at, cmd, mk_clock_now(ch->clock));
    if (e != MK_OK) {
        mk_at_chan_fail(res, e);
        return e;
    }
    for (;;) {
        mk_at_chan_flush(ch);
        mk_at_chan_read(ch, MK_AT_CHAN_RD_PASS);
        uint64_t now = mk_clock_now(ch->clock);
        if (ch->io_err != MK_OK)
            mk_at_cancel(&ch->at, now);
        if (mk_at_poll(&ch->at, now, res) == MK_DONE)
            break;
        uint64_t deadline = mk_at_next_deadline(&ch->at);
        if (deadline <= now)
            continue; /* the next poll acts on it */
        const uint8_t *p;
        bool want_write = mk_at_tx_peek(&ch->at, &p) > 0;
        e = mk_io_wait(ch->io, mk_at_chan_ms(now, deadline), want_write);
        if (e != MK_OK && e != MK_E_TIMEOUT)
            ch->io_err = e;
    }
    if (ch->io_err != MK_OK && res->err == MK_E_CANCELLED)
        res->err = ch->io_err;
    return res->err;
}

enum mk_err mk_at_simple(struct mk_at_chan *ch, const char *text, uint32_t timeout_ms, char *resp,
                         size_t resp_cap, struct mk_at_result *res)
{
    struct mk_at_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = text;
    cmd.timeout_ms = timeout_ms;
    cmd.resp = resp;
    cmd.resp_cap = resp_cap;
    return mk_at_exec(ch, &cmd, res);
}

enum mk_err mk_at_pump(struct mk_at_chan *ch, uint32_t wait_ms)
{
    if (ch->io_err != MK_OK)
        return ch->io_err;
    if (mk_at_busy(&ch->at))
        return MK_E_BUSY;
    uint64_t deadline = mk_clock_now(ch->clock) + wait_ms;
    for (;;) {
        size_t got = mk_at_chan_read(ch, SIZE_MAX);
        if (ch->io_err != MK_OK)
            return ch->io_err;
        if (got)
            return MK_OK;
        uint64_t now = mk_clock_now(ch->clock);
        if (now >= deadline)
            return MK_OK;
        enum mk_err e = mk_io_wait(ch->io, mk_at_chan_ms(now, deadline), false);
        if (e != MK_OK && e != MK_E_TIMEOUT) {
            ch->io_err = e;
            return e;
        }
    }
}
