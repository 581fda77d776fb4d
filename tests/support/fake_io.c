#include "fake_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *mk_fake_alloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "fake_io: out of memory\n");
        abort();
    }
    return q;
}

static uint8_t *mk_fake_dup(const void *p, size_t n)
{
    uint8_t *q = mk_fake_alloc(NULL, n);
    if (n)
        memcpy(q, p, n);
    return q;
}

uint64_t mk_fake_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Insert keeping the queue ordered by due time, first come first served on ties. */
static void mk_fake_queue(struct mk_fake_io *f, uint64_t due, const void *bytes, size_t len)
{
    if (len == 0)
        return;
    if (f->n_rx == f->cap_rx) {
        f->cap_rx = f->cap_rx ? f->cap_rx * 2 : 16;
        f->rx = mk_fake_alloc(f->rx, f->cap_rx * sizeof *f->rx);
    }
    size_t i = f->n_rx;
    while (i > 0 && f->rx[i - 1].due_ms > due)
        i--;
    memmove(&f->rx[i + 1], &f->rx[i], (f->n_rx - i) * sizeof *f->rx);
    f->rx[i] = (struct mk_fake_chunk){due, mk_fake_dup(bytes, len), len, 0};
    f->n_rx++;
}

static bool mk_fake_hung(const struct mk_fake_io *f)
{
    return f->hangup_set && f->vc.now_ms >= f->hangup_ms;
}

static bool mk_fake_due(const struct mk_fake_io *f)
{
    return f->n_rx && f->rx[0].due_ms <= f->vc.now_ms &&
           !(f->hangup_set && f->rx[0].due_ms >= f->hangup_ms);
}

static enum mk_err mk_fake_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct mk_fake_io *f = ctx;
    *n = 0;
    f->reads++;
    if (!mk_fake_due(f))
        return mk_fake_hung(f) ? MK_E_HANGUP : MK_OK;
    size_t want = cap;
    if (f->max_chunk) {
        if (want > f->max_chunk)
            want = f->max_chunk;
        want = 1 + (size_t)(mk_fake_rand(&f->rng) % want);
    }
    while (*n < want && mk_fake_due(f)) {
        struct mk_fake_chunk *c = &f->rx[0];
        size_t k = c->len - c->off;
        if (k > want - *n)
            k = want - *n;
        memcpy(buf + *n, c->bytes + c->off, k);
        *n += k;
        c->off += k;
        if (c->off == c->len) {
            free(c->bytes);
            memmove(&f->rx[0], &f->rx[1], (f->n_rx - 1) * sizeof *f->rx);
            f->n_rx--;
        }
    }
    return MK_OK;
}

static bool mk_fake_is_eol(uint8_t b)
{
    return b == '\r' || b == '\n';
}

/* Length of the line terminator at p[0..n) (CR, LF or CR LF), 0 if none there. */
static size_t mk_fake_eol_len(const uint8_t *p, size_t n)
{
    if (n == 0 || !mk_fake_is_eol(p[0]))
        return 0;
    return (p[0] == '\r' && n > 1 && p[1] == '\n') ? 2 : 1;
}

/* Bytes a rule consumes at p[0..n): 0 = no match (yet). */
static size_t mk_fake_rule_match(const struct mk_fake_rule *r, const uint8_t *p, size_t n)
{
    if (n < r->match_len || memcmp(p, r->match, r->match_len) != 0)
        return 0;
    if (r->kind == MK_FAKE_BYTES)
        return r->match_len;
    size_t i = r->match_len;
    if (r->kind == MK_FAKE_PREFIX)
        while (i < n && !mk_fake_is_eol(p[i]))
            i++;
    size_t e = mk_fake_eol_len(p + i, n - i);
    return e ? i + e : 0; /* a LF written later after this CR is skipped as empty */
}

/* The scripted peer: look at what the host wrote since the last match. */
static void mk_fake_peer(struct mk_fake_io *f)
{
    for (;;) {
        const uint8_t *p = f->tx + f->peer_off;
        size_t n = f->tx_len - f->peer_off;
        if (n == 0)
            return;
        bool fired = false, partial = false;
        for (size_t i = 0; i < f->n_rules && !fired; i++) {
            struct mk_fake_rule *r = f->rules[i];
            if (r->times && r->fired >= r->times)
                continue;
            size_t k = mk_fake_rule_match(r, p, n);
            if (k == 0) {
                size_t m = n < r->match_len ? n : r->match_len;
                if (r->kind == MK_FAKE_BYTES && n < r->match_len && memcmp(p, r->match, m) == 0)
                    partial = true;
                continue;
            }
            r->fired++;
            f->peer_off += k;
            for (size_t j = 0; j < r->n_parts; j++)
                mk_fake_queue(f, f->vc.now_ms + r->parts[j].delay_ms, r->parts[j].bytes,
                              r->parts[j].len);
            fired = true;
        }
        if (fired)
            continue;
        if (partial)
            return;
        if (mk_fake_is_eol(p[0])) { /* an empty line (or the LF of a CR LF) */
            f->peer_off++;
            continue;
        }
        size_t i = 0;
        while (i < n && !mk_fake_is_eol(p[i]))
            i++;
        if (i == n)
            return; /* an unfinished line: wait for more */
        f->unmatched++;
        f->peer_off += i + mk_fake_eol_len(p + i, n - i);
    }
}

static enum mk_err mk_fake_write(void *ctx, const uint8_t *buf, size_t len, size_t *n)
{
    struct mk_fake_io *f = ctx;
    *n = 0;
    f->writes++;
    if (mk_fake_hung(f))
        return MK_E_HANGUP;
    size_t k = len;
    if (f->write_max && k > 0) {
        size_t m = k < f->write_max ? k : f->write_max;
        k = 1 + (size_t)(mk_fake_rand(&f->rng) % m);
    }
    if (f->tx_len + k > f->tx_cap) {
        f->tx_cap = (f->tx_len + k) * 2 + 64;
        f->tx = mk_fake_alloc(f->tx, f->tx_cap);
    }
    memcpy(f->tx + f->tx_len, buf, k);
    f->tx_len += k;
    *n = k;
    if (f->echo)
        mk_fake_queue(f, f->vc.now_ms, buf, k);
    mk_fake_peer(f);
    return MK_OK;
}

static enum mk_err mk_fake_wait(void *ctx, uint32_t timeout_ms, bool want_write)
{
    struct mk_fake_io *f = ctx;
    if (want_write || mk_fake_due(f) || mk_fake_hung(f))
        return MK_OK;
    uint64_t next = UINT64_MAX;
    if (f->n_rx)
        next = f->rx[0].due_ms;
    if (f->hangup_set && f->hangup_ms < next)
        next = f->hangup_ms;
    if (next != UINT64_MAX && next - f->vc.now_ms <= timeout_ms) {
        f->vc.now_ms = next;
        return MK_OK;
    }
    f->vc.now_ms += timeout_ms;
    return MK_E_TIMEOUT;
}

void mk_fake_io_init(struct mk_fake_io *f, uint64_t seed, size_t max_chunk)
{
    memset(f, 0, sizeof *f);
    mk_vclock_init(&f->vc, &f->clock, 1000);
    f->ops.read = mk_fake_read;
    f->ops.write = mk_fake_write;
    f->ops.close = NULL;
    f->ops.wait = mk_fake_wait;
    f->io.ops = &f->ops;
    f->io.ctx = f;
    f->rng = seed * 0x9E3779B97F4A7C15ull + 1;
    f->max_chunk = max_chunk;
}

void mk_fake_io_free(struct mk_fake_io *f)
{
    for (size_t i = 0; i < f->n_rx; i++)
        free(f->rx[i].bytes);
    free(f->rx);
    for (size_t i = 0; i < f->n_rules; i++) {
        struct mk_fake_rule *r = f->rules[i];
        for (size_t j = 0; j < r->n_parts; j++)
            free(r->parts[j].bytes);
        free(r->parts);
        free(r->match);
        free(r);
    }
    free(f->rules);
    free(f->tx);
    memset(f, 0, sizeof *f);
}

void mk_fake_io_send(struct mk_fake_io *f, uint32_t delay_ms, const void *bytes, size_t len)
{
    mk_fake_queue(f, f->vc.now_ms + delay_ms, bytes, len);
}

void mk_fake_io_sends(struct mk_fake_io *f, uint32_t delay_ms, const char *s)
{
    mk_fake_io_send(f, delay_ms, s, strlen(s));
}

struct mk_fake_rule *mk_fake_io_on_n(struct mk_fake_io *f, enum mk_fake_match kind,
                                     const void *match, size_t match_len, uint32_t delay_ms,
                                     const void *reply, size_t reply_len)
{
    struct mk_fake_rule *r = mk_fake_alloc(NULL, sizeof *r);
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->match = mk_fake_dup(match, match_len);
    r->match_len = match_len;
    r->times = 1;
    if (reply)
        mk_fake_io_then_n(r, delay_ms, reply, reply_len);
    if (f->n_rules == f->cap_rules) {
        f->cap_rules = f->cap_rules ? f->cap_rules * 2 : 16;
        f->rules = mk_fake_alloc(f->rules, f->cap_rules * sizeof *f->rules);
    }
    f->rules[f->n_rules++] = r;
    return r;
}

struct mk_fake_rule *mk_fake_io_on(struct mk_fake_io *f, enum mk_fake_match kind, const char *match,
                                   uint32_t delay_ms, const char *reply)
{
    return mk_fake_io_on_n(f, kind, match, strlen(match), delay_ms, reply,
                           reply ? strlen(reply) : 0);
}

void mk_fake_io_then_n(struct mk_fake_rule *r, uint32_t delay_ms, const void *reply, size_t len)
{
    r->parts = mk_fake_alloc(r->parts, (r->n_parts + 1) * sizeof *r->parts);
    r->parts[r->n_parts++] = (struct mk_fake_part){delay_ms, mk_fake_dup(reply, len), len};
}

void mk_fake_io_then(struct mk_fake_rule *r, uint32_t delay_ms, const char *reply)
{
    mk_fake_io_then_n(r, delay_ms, reply, strlen(reply));
}

void mk_fake_io_times(struct mk_fake_rule *r, unsigned times)
{
    r->times = times;
}

void mk_fake_io_set_echo(struct mk_fake_io *f, bool on)
{
    f->echo = on;
}

void mk_fake_io_set_write_max(struct mk_fake_io *f, size_t n)
{
    f->write_max = n;
}

void mk_fake_io_hangup(struct mk_fake_io *f, uint32_t delay_ms)
{
    f->hangup_set = true;
    f->hangup_ms = f->vc.now_ms + delay_ms;
}

const uint8_t *mk_fake_io_tx(const struct mk_fake_io *f, size_t *len)
{
    *len = f->tx_len;
    return f->tx;
}

bool mk_fake_io_tx_equals(const struct mk_fake_io *f, const char *s)
{
    size_t n = strlen(s);
    return f->tx_len == n && (n == 0 || memcmp(f->tx, s, n) == 0);
}

void mk_fake_io_tx_clear(struct mk_fake_io *f)
{
    f->tx_len = 0;
    f->peer_off = 0;
}

unsigned mk_fake_io_unmatched(const struct mk_fake_io *f)
{
    return f->unmatched;
}

size_t mk_fake_io_pending(const struct mk_fake_io *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_rx; i++)
        n += f->rx[i].len - f->rx[i].off;
    return n;
}

uint64_t mk_fake_io_now(const struct mk_fake_io *f)
{
    return f->vc.now_ms;
}

void mk_fake_io_advance(struct mk_fake_io *f, uint64_t ms)
{
    f->vc.now_ms += ms;
}
