#define _POSIX_C_SOURCE 200809L /* strdup, opendir */
/*
 * Transcript replay (label "transcript"): every tests/transcripts/NAME.tr is fed through the
 * engine with many different chunkings of the module's bytes (one byte at a time, all at
 * once, and random cuts from several seeds) on a virtual clock. Each run must produce
 * exactly the events the transcript expects (command results, intermediate lines, URCs,
 * raw payload bytes, in order) and put exactly the expected bytes on the wire.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mk_test.h"
#include "modemkit/at.h"
#include "support/fake_io.h"
#include "support/transcript.h"

#define N_SEEDS    10
#define MAX_EVENTS 512
#define MAX_URCS   32

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

struct replay;
struct urc_ctx {
    struct replay *r;
    const struct mk_tr_urc *u;
};

struct replay {
    const struct mk_transcript *t;
    struct mk_at at;
    char line[1100];
    struct mk_at_urc urcs[MAX_URCS];
    struct urc_ctx ctx[MAX_URCS];
    struct mk_at_cmd *cmds;
    uint64_t now, rng;
    unsigned seed;
    struct buf pending, tx, want_tx, raw;
    size_t pending_off;
    char *events[MAX_EVENTS];
    size_t n_events;
    long slot; /* event index reserved at the "done" note, -1 if none */
    bool failed;
};

static void event(struct replay *r, const char *tag, const char *s, size_t n)
{
    if (r->n_events == MAX_EVENTS)
        return;
    size_t t = strlen(tag);
    char *e = malloc(t + n + 1);
    if (!e)
        abort();
    memcpy(e, tag, t);
    memcpy(e + t, s, n);
    e[t + n] = '\0';
    r->events[r->n_events++] = e;
}

static void fail(struct replay *r, int line, const char *why)
{
    if (!r->failed)
        printf("#   %s:%d (seed %u): %s\n", r->t->name, line, r->seed, why);
    r->failed = true;
}

static void on_raw(void *user, const uint8_t *data, size_t len, bool last)
{
    struct replay *r = user;
    buf_put(&r->raw, data, len);
    if (!last)
        return;
    size_t need = mk_tr_escape(r->raw.p, r->raw.len, NULL, 0);
    char *esc = malloc(need + 1);
    if (!esc)
        abort();
    mk_tr_escape(r->raw.p, r->raw.len, esc, need + 1);
    event(r, "raw ", esc, need);
    free(esc);
    r->raw.len = 0;
}

static void on_urc(void *user, const char *line, size_t len)
{
    struct urc_ctx *c = user;
    struct replay *r = c->r;
    event(r, "urc ", line, len);
    if (c->u->raw_field < 0)
        return;
    struct mk_at_arg a[8];
    long n;
    int k = mk_at_split(line, len, c->u->prefix, a, 8);
    if (k > c->u->raw_field && mk_at_arg_long(&a[c->u->raw_field], &n) == MK_OK && n >= 0)
        mk_at_read_raw(&r->at, (size_t)n, on_raw, r);
}

static void on_line(void *user, const char *line, size_t len)
{
    event(user, "line ", line, len);
}

static void on_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    struct replay *r = user;
    if (dir == MK_AT_TRACE_NOTE && len == 4 && memcmp(text, "done", 4) == 0) {
        r->slot = (long)r->n_events;
        event(r, "", "result ?", 8);
    }
    /* the transcripts' data echoes are exact: each must be matched byte for byte */
    if (dir == MK_AT_TRACE_NOTE && len == 12 && memcmp(text, "no data echo", 12) == 0)
        fail(r, -1, "a data echo was not recognised");
}

static void record_result(struct replay *r, const struct mk_at_result *res)
{
    char s[512];
    int n = snprintf(s, sizeof s, "result %s", mk_err_name(res->err));
    if (res->cme >= 0)
        n += snprintf(s + n, sizeof s - (size_t)n, " cme=%d", res->cme);
    if (res->cme_text[0])
        n += snprintf(s + n, sizeof s - (size_t)n, " cme_text=%s", res->cme_text);
    if (res->urc_seen)
        n += snprintf(s + n, sizeof s - (size_t)n, " urc=%d", res->urc_code);
    if (res->timeout_in_urc)
        n += snprintf(s + n, sizeof s - (size_t)n, " timeout_in_urc");
    if (res->overflow)
        n += snprintf(s + n, sizeof s - (size_t)n, " overflow");
    if (r->slot >= 0) {
        free(r->events[r->slot]);
        r->events[r->slot] = strdup(s);
        r->slot = -1;
    } else {
        event(r, "", s, strlen(s)); /* completed without a "done" note: a bug */
    }
}

static void drain_and_poll(struct replay *r)
{
    const uint8_t *p;
    size_t n;
    while ((n = mk_at_tx_peek(&r->at, &p)) > 0) {
        buf_put(&r->tx, p, n);
        mk_at_tx_consume(&r->at, n, r->now);
    }
    struct mk_at_result res;
    if (mk_at_poll(&r->at, r->now, &res) == MK_DONE)
        record_result(r, &res);
}

static size_t next_chunk(struct replay *r, size_t left)
{
    static const size_t max_for_seed[N_SEEDS] = {1, 0, 2, 3, 7, 16, 64, 512, 4096, 40};
    size_t max = max_for_seed[r->seed % N_SEEDS];
    if (max == 0 || max > left)
        max = left;
    return 1 + (size_t)(mk_fake_rand(&r->rng) % max);
}

/* Feed the module's pending bytes, cut at random, writing and polling in between. */
static void flush(struct replay *r)
{
    while (r->pending_off < r->pending.len) {
        size_t left = r->pending.len - r->pending_off;
        size_t k = next_chunk(r, left);
        mk_at_feed(&r->at, r->pending.p + r->pending_off, k, r->now);
        r->pending_off += k;
        drain_and_poll(r);
    }
    r->pending.len = r->pending_off = 0;
    drain_and_poll(r);
}

static void check_tx(struct replay *r, int line)
{
    if (r->tx.len == r->want_tx.len &&
        (r->tx.len == 0 || memcmp(r->tx.p, r->want_tx.p, r->tx.len) == 0))
        return;
    char a[200], b[200];
    mk_tr_escape(r->tx.p, r->tx.len, a, sizeof a);
    mk_tr_escape(r->want_tx.p, r->want_tx.len, b, sizeof b);
    char why[512];
    snprintf(why, sizeof why, "host sent \"%s\",\n#     expected \"%s\"", a, b);
    fail(r, line, why);
}

static void run(struct replay *r, const struct mk_transcript *t, unsigned seed)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->seed = seed;
    r->rng = seed * 7919u + 17u;
    r->now = 1000;
    r->slot = -1;
    if (t->n_urcs > MAX_URCS) {
        fail(r, 0, "too many URCs");
        return;
    }
    for (size_t i = 0; i < t->n_urcs; i++) {
        r->ctx[i] = (struct urc_ctx){r, &t->urcs[i]};
        r->urcs[i] = (struct mk_at_urc){t->urcs[i].prefix, on_urc, &r->ctx[i]};
    }
    struct mk_at_config cfg = {0};
    cfg.line_buf = r->line;
    cfg.line_cap = sizeof r->line;
    cfg.urcs = r->urcs;
    cfg.n_urcs = t->n_urcs;
    cfg.trace = on_trace;
    cfg.trace_user = r;
    mk_at_init(&r->at, &cfg);
    r->cmds = calloc(t->n_steps + 1, sizeof *r->cmds);
    if (!r->cmds)
        abort();
    const struct mk_tr_cmd *last = NULL;

    for (size_t i = 0; i < t->n_steps && !r->failed; i++) {
        const struct mk_tr_step *s = &t->steps[i];
        switch (s->kind) {
        case MK_TR_RX:
            buf_put(&r->pending, s->bytes, s->len);
            break;
        case MK_TR_WAIT:
            flush(r);
            r->now += s->ms;
            drain_and_poll(r);
            break;
        case MK_TR_CMD: {
            flush(r);
            check_tx(r, s->line);
            struct mk_at_cmd *c = &r->cmds[i];
            c->text = s->cmd.text;
            c->timeout_ms = s->cmd.timeout_ms;
            c->prompt = s->cmd.prompt;
            c->data = s->cmd.data;
            c->data_len = s->cmd.data_len;
            c->on_line = on_line;
            c->user = r;
            c->urc_prefix = s->cmd.urc_prefix;
            c->urc_index = s->cmd.urc_index;
            c->urc_timeout_ms = s->cmd.urc_timeout_ms;
            c->flags = s->cmd.flags;
            enum mk_err e = mk_at_submit(&r->at, c, r->now);
            if (e != MK_OK) {
                fail(r, s->line,
                     e == MK_E_BUSY ? "the previous command is still running" : "submit failed");
                break;
            }
            buf_put(&r->want_tx, s->cmd.text, strlen(s->cmd.text));
            buf_put(&r->want_tx, "\r", 1);
            last = &s->cmd;
            drain_and_poll(r);
            break;
        }
        case MK_TR_DATA:
            flush(r);
            buf_put(&r->want_tx, last->data, last->data_len);
            check_tx(r, s->line);
            break;
        case MK_TR_EXPECT:
            break;
        }
    }
    flush(r);
    check_tx(r, -1);
    if (mk_at_busy(&r->at))
        fail(r, -1, "a command is still running at the end");
    free(r->cmds);
    free(r->pending.p);
    free(r->tx.p);
    free(r->want_tx.p);
    free(r->raw.p);
}

static void free_events(struct replay *r)
{
    for (size_t i = 0; i < r->n_events; i++)
        free(r->events[i]);
    r->n_events = 0;
}

static void compare(struct replay *r)
{
    size_t k = 0;
    const struct mk_transcript *t = r->t;
    for (size_t i = 0; i < t->n_steps && !r->failed; i++) {
        const struct mk_tr_step *s = &t->steps[i];
        if (s->kind != MK_TR_EXPECT)
            continue;
        char why[1200];
        if (k >= r->n_events) {
            snprintf(why, sizeof why, "expected \"%s\", no more events", (char *)s->bytes);
            fail(r, s->line, why);
        } else if (strcmp(r->events[k], (char *)s->bytes) != 0) {
            snprintf(why, sizeof why, "expected \"%s\",\n#     got      \"%s\"", (char *)s->bytes,
                     r->events[k]);
            fail(r, s->line, why);
        }
        k++;
    }
    if (!r->failed && k < r->n_events) {
        char why[600];
        snprintf(why, sizeof why, "unexpected event \"%s\"", r->events[k]);
        fail(r, -1, why);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct replay R;

MK_TEST(replay_every_transcript_with_random_chunking)
{
    DIR *d = opendir(MK_TRANSCRIPT_DIR);
    MK_CHECK(d != NULL);
    if (!d)
        return;
    char *names[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 3 && strcmp(e->d_name + l - 3, ".tr") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    MK_CHECK(n >= 4);
    size_t total_events = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", MK_TRANSCRIPT_DIR, names[i]);
        struct mk_transcript t;
        if (mk_tr_load(&t, path) != 0) {
            MK_FAIL_AT(__FILE__, __LINE__, "%s", t.err);
            mk_tr_free(&t);
            continue;
        }
        size_t expects = 0;
        for (size_t k = 0; k < t.n_steps; k++)
            expects += t.steps[k].kind == MK_TR_EXPECT;
        MK_CHECK(expects > 0);
        for (unsigned seed = 0; seed < N_SEEDS; seed++) {
            run(&R, &t, seed);
            compare(&R);
            MK_CHECK(!R.failed);
            total_events += R.n_events;
            free_events(&R);
        }
        printf("# %s: %zu expected events, %d chunkings\n", names[i], expects, N_SEEDS);
        mk_tr_free(&t);
        free(names[i]);
    }
    MK_CHECK(total_events > 0);
}

MK_TEST(parser_rejects_bad_transcripts)
{
    static const char *const bad[] = {
        ".prompt sideways\n", ">>\n",     "<echo-data\n",
        ".data \\q\n> AT\n",  "~ soon\n", "hello\n",
        ".data x\n",          "<x 0g\n",  ".data-pem CERTIFICATE 3\n> AT\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mk_transcript t;
        MK_CHECK(mk_tr_parse(&t, "bad", bad[i], strlen(bad[i])) != 0);
        MK_CHECK(t.err[0] != '\0');
        mk_tr_free(&t);
    }
    /* and a good one, to pin the byte framing */
    static const char good[] = ".data a\\r\\x00\n> AT+X\n<e AT+X\n<| >\n>>\n<echo-data\n<\n"
                               "< OK\n<x 0d 0A\n~ 5\n= result MK_OK\n";
    struct mk_transcript t;
    MK_CHECK_EQ_INT(mk_tr_parse(&t, "good", good, strlen(good)), 0);
    size_t n;
    uint8_t *m = mk_tr_module_bytes(&t, &n);
    static const char want[] = "AT+X\r>a\r\0\r\nOK\r\n\r\n";
    MK_CHECK_EQ_INT(n, sizeof want - 1);
    MK_CHECK_EQ_MEM(m, want, sizeof want - 1);
    MK_CHECK_EQ_INT(t.steps[0].cmd.data_len, 3);
    MK_CHECK_EQ_INT(t.steps[0].cmd.prompt, MK_AT_PROMPT_GT);
    free(m);
    mk_tr_free(&t);
}

MK_TEST_MAIN()
