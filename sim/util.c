/* modemsim: buffers, clock, timers, PRNG, argument parsing, UTF-8, logging. */
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void *sim_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        sim_warn("out of memory");
        abort();
    }
    return p;
}

void *sim_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        sim_warn("out of memory");
        abort();
    }
    return q;
}

char *sim_xstrdup(const char *str)
{
    return sim_xmemdup(str, strlen(str));
}

char *sim_xmemdup(const void *p, size_t n)
{
    char *q = sim_xmalloc(n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

void sim_buf_put(struct sim_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = sim_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void sim_buf_puts(struct sim_buf *b, const char *str)
{
    sim_buf_put(b, str, strlen(str));
}

void sim_buf_vprintf(struct sim_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n <= 0)
        return;
    size_t need = (size_t)n + 1;
    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + need)
            cap *= 2;
        b->p = sim_xrealloc(b->p, cap);
        b->cap = cap;
    }
    vsnprintf((char *)b->p + b->len, need, fmt, ap);
    b->len += (size_t)n;
}

void sim_buf_printf(struct sim_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sim_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sim_buf_consume(struct sim_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void sim_buf_free(struct sim_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int64_t sim_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- PRNG: splitmix64 ---- */

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
    r->s = seed ^ (stream * 0x9E3779B97F4A7C15ull);
}

uint32_t sim_rng_u32(struct sim_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint32_t sim_rng_range(struct sim_rng *r, uint32_t lo, uint32_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + sim_rng_u32(r) % (hi - lo + 1);
}

bool sim_rng_chance(struct sim_rng *r, double p)
{
    if (p <= 0.0)
        return false;
    return (double)sim_rng_u32(r) / 4294967296.0 < p;
}

/* ---- UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF) ---- */

bool sim_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + k >= n) /* continuation bytes missing */
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* ---- logging ---- */

void sim_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("modemsim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void sim_log(struct sim *s, const char *fmt, ...)
{
    if (!s->opt.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "modemsim[%.3f]: ", (double)sim_now_us() / 1e6);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void sim_log_bytes(struct sim *s, const char *dir, const void *p, size_t n)
{
    if (!s->opt.verbose)
        return;
    const uint8_t *b = p;
    fprintf(stderr, "modemsim[%.3f]: %s %zu \"", (double)sim_now_us() / 1e6, dir, n);
    for (size_t i = 0; i < n && i < 200; i++) {
        if (b[i] == '\r')
            fputs("\\r", stderr);
        else if (b[i] == '\n')
            fputs("\\n", stderr);
        else if (b[i] < 0x20 || b[i] >= 0x7F)
            fprintf(stderr, "\\x%02x", b[i]);
        else
            fputc(b[i], stderr);
    }
    fputs(n > 200 ? "...\"\n" : "\"\n", stderr);
}

/* ---- timers: a small array, linear scans (a few dozen timers at most) ---- */

int sim_timer_add(struct sim *s, int64_t delay_ms, sim_timer_fn fn, void *ctx, intptr_t arg,
                  unsigned flags)
{
    if (s->ntimers >= SIM_MAX_TIMERS) {
        sim_warn("too many timers");
        abort();
    }
    struct sim_timer *t = &s->timers[s->ntimers++];
    t->id = ++s->next_timer_id;
    t->due_us = sim_now_us() + (delay_ms > 0 ? delay_ms * 1000 : 0);
    t->fn = fn;
    t->ctx = ctx;
    t->arg = arg;
    t->flags = flags;
    return t->id;
}

static void timer_remove_at(struct sim *s, int i)
{
    s->timers[i] = s->timers[--s->ntimers];
}

void sim_timer_cancel(struct sim *s, int id)
{
    if (id <= 0)
        return;
    for (int i = 0; i < s->ntimers; i++) {
        if (s->timers[i].id == id) {
            timer_remove_at(s, i);
            return;
        }
    }
}

void sim_timer_cancel_all(struct sim *s, bool power_off)
{
    for (int i = 0; i < s->ntimers;) {
        if (!power_off || !(s->timers[i].flags & SIM_TIMER_KEEP))
            timer_remove_at(s, i);
        else
            i++;
    }
}

int64_t sim_timer_next_us(struct sim *s)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < s->ntimers; i++)
        if (s->timers[i].due_us < next)
            next = s->timers[i].due_us;
    return next;
}

void sim_timer_run(struct sim *s, int64_t now_us)
{
    /* Run due timers oldest first; callbacks may add or cancel timers. */
    for (;;) {
        int best = -1;
        for (int i = 0; i < s->ntimers; i++) {
            if (s->timers[i].due_us <= now_us &&
                (best < 0 || s->timers[i].due_us < s->timers[best].due_us ||
                 (s->timers[i].due_us == s->timers[best].due_us &&
                  s->timers[i].id < s->timers[best].id)))
                best = i;
        }
        if (best < 0)
            return;
        struct sim_timer t = s->timers[best];
        timer_remove_at(s, best);
        t.fn(s, t.ctx, t.arg);
    }
}

/* ---- arguments ---- */

bool sim_arg_has(const struct sim_req *r, int i)
{
    return i < r->nargs && (r->arg[i].len > 0 || r->arg[i].quoted);
}

bool sim_arg_long(const struct sim_req *r, int i, long *out)
{
    if (i >= r->nargs || r->arg[i].quoted || r->arg[i].len == 0 || r->arg[i].len > 18)
        return false;
    long v = 0;
    size_t k = 0;
    bool neg = false;
    const char *p = r->arg[i].p;
    if (p[0] == '-' || p[0] == '+') {
        neg = p[0] == '-';
        k = 1;
        if (r->arg[i].len == 1)
            return false;
    }
    for (; k < r->arg[i].len; k++) {
        if (!isdigit((unsigned char)p[k]))
            return false;
        v = v * 10 + (p[k] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

bool sim_arg_str(const struct sim_req *r, int i, char *buf, size_t cap)
{
    if (i >= r->nargs || r->arg[i].len + 1 > cap)
        return false;
    memcpy(buf, r->arg[i].p, r->arg[i].len);
    buf[r->arg[i].len] = '\0';
    return true;
}

bool sim_arg_is(const struct sim_req *r, int i, const char *lit)
{
    return i < r->nargs && strlen(lit) == r->arg[i].len &&
           strncasecmp(r->arg[i].p, lit, r->arg[i].len) == 0;
}

/* ---- URLs (CMQTTCONNECT "tcp://host:port", S1 p.355) ---- */

bool sim_parse_url(const char *url, char *host, size_t hostcap, int *port)
{
    if (strncasecmp(url, "tcp://", 6) != 0)
        return false;
    const char *h = url + 6;
    const char *colon = strrchr(h, ':');
    size_t hlen = colon ? (size_t)(colon - h) : strlen(h);
    const char *slash = memchr(h, '/', hlen);
    if (slash)
        hlen = (size_t)(slash - h);
    if (hlen == 0 || hlen + 1 > hostcap)
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = 1883; /* S1: default port */
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || p < 1 || p > 65535 || (*end && *end != '/'))
            return false;
        *port = (int)p;
    }
    return true;
}

/* The simulator only reaches the local broker: anything but loopback is answered like
 * an unresolvable name (CMQTT err 25), so that no test can leak onto the network. */
bool sim_host_allowed(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcasecmp(host, "localhost") == 0;
}
