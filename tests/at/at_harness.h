/*
 * Helpers for the AT engine tests: an engine with a line buffer guarded by canaries, a
 * virtual "now", an event log (URCs, intermediate lines, raw bytes, trace notes) and
 * helpers to feed strings and drain what the engine wants to send.
 */
#ifndef MK_TEST_AT_HARNESS_H
#define MK_TEST_AT_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mk_test.h"
#include "modemkit/at.h"

#define H_LINE_CAP 128
#define H_LOG_CAP  16384

struct h_eng {
    struct mk_at at;
    char guard1[16];
    char line[H_LINE_CAP];
    char guard2[16];
    uint64_t now;
    char tx[8192];
    size_t tx_len;
    char log[H_LOG_CAP]; /* "urc:...\n" "line:...\n" "raw:...\n" "note:...\n" */
    size_t log_len;
    char trace[H_LOG_CAP]; /* every trace call: "tx:..\n" "rx:..\n" "raw:..\n" "note:..\n" */
    size_t trace_len;
    bool log_notes;
    uint8_t raw[8192]; /* raw bytes delivered, all reads concatenated */
    size_t raw_len;
    unsigned raw_done; /* raw reads finished (last == true) */
};

static inline void h_append(char *buf, size_t *len, size_t cap, const char *tag, const char *s,
                            size_t n)
{
    size_t t = strlen(tag);
    if (*len + t + n + 2 > cap)
        return;
    memcpy(buf + *len, tag, t);
    *len += t;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[(*len)++] = '\n';
    buf[*len] = '\0';
}

static inline void h_log(struct h_eng *e, const char *tag, const char *s, size_t n)
{
    h_append(e->log, &e->log_len, sizeof e->log, tag, s, n);
}

static inline void h_on_urc(void *user, const char *line, size_t len)
{
    h_log(user, "urc:", line, len);
}

static inline void h_on_line(void *user, const char *line, size_t len)
{
    h_log(user, "line:", line, len);
}

static inline void h_on_raw(void *user, const uint8_t *data, size_t len, bool last)
{
    struct h_eng *e = user;
    if (e->raw_len + len <= sizeof e->raw) {
        if (len)
            memcpy(e->raw + e->raw_len, data, len);
        e->raw_len += len;
    }
    if (last) {
        e->raw_done++;
        h_log(e, "raw-end", "", 0);
    }
}

/* "+CMQTTRXPAYLOAD: 0,N" / "+CMQTTRXTOPIC: 0,N": the next N bytes are raw. */
static inline void h_on_rx_len(void *user, const char *line, size_t len)
{
    struct h_eng *e = user;
    struct mk_at_arg a[4];
    long n = -1;
    h_log(e, "urc:", line, len);
    const char *colon = memchr(line, ':', len);
    size_t plen = colon ? (size_t)(colon - line) + 1 : 0;
    char prefix[32];
    if (!colon || plen >= sizeof prefix)
        return;
    memcpy(prefix, line, plen);
    prefix[plen] = '\0';
    if (mk_at_split(line, len, prefix, a, 4) >= 2 && mk_at_arg_long(&a[1], &n) == MK_OK && n >= 0)
        mk_at_read_raw(&e->at, (size_t)n, h_on_raw, e);
}

static inline void h_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    struct h_eng *e = user;
    static const char *const tags[] = {"tx:", "rx:", "raw:", "note:"};
    h_append(e->trace, &e->trace_len, sizeof e->trace, tags[dir], text, len);
    if (dir == MK_AT_TRACE_NOTE && e->log_notes)
        h_log(e, "note:", text, len);
}

/* The default URC table of these tests; the catch-all is left out unless asked for. */
static inline void h_init_ex(struct h_eng *e, const struct mk_at_urc *urcs, size_t n_urcs)
{
    memset(e, 0, sizeof *e);
    memset(e->guard1, 0x5A, sizeof e->guard1);
    memset(e->guard2, 0xA5, sizeof e->guard2);
    struct mk_at_config cfg = {0};
    cfg.line_buf = e->line;
    cfg.line_cap = sizeof e->line;
    cfg.urcs = urcs;
    cfg.n_urcs = n_urcs;
    cfg.trace = h_trace;
    cfg.trace_user = e;
    mk_at_init(&e->at, &cfg);
    e->now = 1000;
}

static inline bool h_guards_ok(const struct h_eng *e)
{
    for (size_t i = 0; i < sizeof e->guard1; i++)
        if ((unsigned char)e->guard1[i] != 0x5A || (unsigned char)e->guard2[i] != 0xA5)
            return false;
    return true;
}

static inline void h_feedn(struct h_eng *e, const void *p, size_t n)
{
    mk_at_feed(&e->at, p, n, e->now);
}

static inline void h_feed(struct h_eng *e, const char *s)
{
    h_feedn(e, s, strlen(s));
}

/* Write everything due (as a port that takes it all), appending to e->tx. */
static inline size_t h_drain(struct h_eng *e)
{
    size_t total = 0;
    const uint8_t *p;
    size_t n;
    while ((n = mk_at_tx_peek(&e->at, &p)) > 0) {
        if (e->tx_len + n < sizeof e->tx) {
            memcpy(e->tx + e->tx_len, p, n);
            e->tx_len += n;
            e->tx[e->tx_len] = '\0';
        }
        mk_at_tx_consume(&e->at, n, e->now);
        total += n;
    }
    return total;
}

static inline bool h_tx_is(struct h_eng *e, const char *s)
{
    return e->tx_len == strlen(s) && memcmp(e->tx, s, e->tx_len) == 0;
}

static inline void h_tx_clear(struct h_eng *e)
{
    e->tx_len = 0;
    e->tx[0] = '\0';
}

static inline bool h_poll(struct h_eng *e, struct mk_at_result *r)
{
    return mk_at_poll(&e->at, e->now, r) == MK_DONE;
}

static inline struct mk_at_cmd h_cmd(const char *text)
{
    struct mk_at_cmd c;
    memset(&c, 0, sizeof c);
    c.text = text;
    c.timeout_ms = 5000;
    return c;
}

/* Submit and send a command (text + CR written). */
static inline enum mk_err h_start(struct h_eng *e, const struct mk_at_cmd *c)
{
    enum mk_err err = mk_at_submit(&e->at, c, e->now);
    if (err == MK_OK)
        h_drain(e);
    return err;
}

static inline bool h_has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

#endif
