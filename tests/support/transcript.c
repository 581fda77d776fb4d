#include "transcript.h"

#include "modemkit/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *mk_tr_alloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "transcript: out of memory\n");
        abort();
    }
    return q;
}

static char *mk_tr_strndup(const char *s, size_t n)
{
    char *d = mk_tr_alloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A growable byte buffer. */
struct mk_tr_buf {
    uint8_t *p;
    size_t len, cap;
};

static void mk_tr_put(struct mk_tr_buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = mk_tr_alloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Unescape \r \n \t \\ \xHH. Returns -1 on a bad escape. */
static int mk_tr_unescape(const char *s, size_t n, struct mk_tr_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c != '\\') {
            mk_tr_put(out, &c, 1);
            continue;
        }
        if (++i >= n)
            return -1;
        switch (s[i]) {
        case 'r':
            c = '\r';
            break;
        case 'n':
            c = '\n';
            break;
        case 't':
            c = '\t';
            break;
        case '\\':
            c = '\\';
            break;
        case 'x': {
            int hi = i + 1 < n ? mk_hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? mk_hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (uint8_t)(hi * 16 + lo);
            i += 2;
            break;
        }
        default:
            return -1;
        }
        mk_tr_put(out, &c, 1);
    }
    return 0;
}

size_t mk_tr_escape(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char tmp[5];
        size_t k = 0;
        uint8_t c = p[i];
        if (c == '\r' || c == '\n' || c == '\t' || c == '\\') {
            tmp[k++] = '\\';
            tmp[k++] = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
        } else if (c < 0x20 || c > 0x7E) {
            static const char hex[] = "0123456789abcdef";
            tmp[k++] = '\\';
            tmp[k++] = 'x';
            tmp[k++] = hex[c >> 4];
            tmp[k++] = hex[c & 15];
        } else {
            tmp[k++] = (char)c;
        }
        for (size_t j = 0; j < k; j++, o++)
            if (o + 1 < cap)
                out[o] = tmp[j];
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return o;
}

/*
 * A synthetic PEM block of exactly n bytes: BEGIN line, lines of 64 base64 characters,
 * END line, each ending in LF. Stands in for certificate text that a log's author
 * removed ("[REMOVED...]"); the content is deterministic.
 */
static int mk_tr_pem(const char *label, size_t n, struct mk_tr_buf *out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char head[96], foot[96];
    int hl = snprintf(head, sizeof head, "-----BEGIN %s-----\n", label);
    int fl = snprintf(foot, sizeof foot, "-----END %s-----\n", label);
    if (hl <= 0 || fl <= 0 || (size_t)hl >= sizeof head || (size_t)fl >= sizeof foot ||
        n < (size_t)(hl + fl) + 2)
        return -1;
    size_t body = n - (size_t)hl - (size_t)fl;
    uint32_t x = 0x2545F491u;
    mk_tr_put(out, head, (size_t)hl);
    while (body > 0) {
        size_t line = body > 65 ? 65 : body; /* 64 characters and LF, or what is left */
        for (size_t i = 0; i + 1 < line; i++) {
            x = x * 1103515245u + 12345u;
            mk_tr_put(out, &b64[(x >> 16) & 63], 1);
        }
        mk_tr_put(out, "\n", 1);
        body -= line;
    }
    mk_tr_put(out, foot, (size_t)fl);
    return 0;
}

static int mk_tr_fail(struct mk_transcript *t, int line, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(t->err, sizeof t->err, "%s:%d: ", t->name, line);
    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof t->err)
        vsnprintf(t->err + k, sizeof t->err - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static struct mk_tr_step *mk_tr_add(struct mk_transcript *t, enum mk_tr_kind kind, int line)
{
    t->steps = mk_tr_alloc(t->steps, (t->n_steps + 1) * sizeof *t->steps);
    struct mk_tr_step *s = &t->steps[t->n_steps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->line = line;
    return s;
}

static void mk_tr_add_urc(struct mk_transcript *t, const char *prefix, size_t n, int raw_field)
{
    t->urcs = mk_tr_alloc(t->urcs, (t->n_urcs + 1) * sizeof *t->urcs);
    t->urcs[t->n_urcs].prefix = mk_tr_strndup(prefix, n);
    t->urcs[t->n_urcs].raw_field = raw_field;
    t->n_urcs++;
}

static bool mk_tr_is(const char *l, size_t n, const char *word, const char **rest, size_t *rest_len)
{
    size_t k = strlen(word);
    if (n < k || memcmp(l, word, k) != 0 || (n > k && l[k] != ' '))
        return false;
    *rest = n > k ? l + k + 1 : l + n;
    *rest_len = n > k ? n - k - 1 : 0;
    return true;
}

/* Split "WORDS... NUMBER": the number at the end, the words before it (trimmed). */
static bool mk_tr_last_number(const char *s, size_t n, size_t *words_len, long *num)
{
    size_t e = n;
    while (e > 0 && s[e - 1] == ' ')
        e--;
    size_t b = e;
    while (b > 0 && s[b - 1] != ' ')
        b--;
    if (b == e)
        return false;
    char tmp[24];
    if (e - b >= sizeof tmp)
        return false;
    memcpy(tmp, s + b, e - b);
    tmp[e - b] = '\0';
    char *end;
    long v = strtol(tmp, &end, 10);
    if (*end)
        return false;
    while (b > 0 && s[b - 1] == ' ')
        b--;
    *words_len = b;
    *num = v;
    return true;
}

static bool mk_tr_number(const char *s, size_t n, long *out)
{
    size_t w;
    return mk_tr_last_number(s, n, &w, out) && w == 0;
}

int mk_tr_parse(struct mk_transcript *t, const char *name, const char *text, size_t len)
{
    memset(t, 0, sizeof *t);
    t->name = mk_tr_strndup(name, strlen(name));
    struct mk_tr_cmd next; /* options collected for the next "> " command */
    struct mk_tr_buf data = {0};
    struct mk_tr_cmd *last = NULL; /* the last command, for <echo-data and >> */
    size_t last_idx = 0;
    memset(&next, 0, sizeof next);
    next.timeout_ms = 5000;
    next.urc_index = -1;

    int lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *l = text + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n && l[n - 1] == '\r')
            n--;
        const char *a;
        size_t an;
        long v;
        if (n == 0 || l[0] == '#')
            continue;
        if (last)
            last = &t->steps[last_idx].cmd; /* steps may have moved */

        if (l[0] == '.') {
            if (mk_tr_is(l, n, ".urc", &a, &an)) {
                if (an == 0)
                    return mk_tr_fail(t, lineno, ".urc needs a prefix");
                mk_tr_add_urc(t, a, an, -1);
            } else if (mk_tr_is(l, n, ".urc-raw", &a, &an)) {
                size_t w;
                if (!mk_tr_last_number(a, an, &w, &v) || w == 0 || v < 0)
                    return mk_tr_fail(t, lineno, "usage: .urc-raw PREFIX FIELD");
                mk_tr_add_urc(t, a, w, (int)v);
            } else if (mk_tr_is(l, n, ".catch-all", &a, &an)) {
                mk_tr_add_urc(t, "", 0, -1);
            } else if (mk_tr_is(l, n, ".prompt", &a, &an)) {
                if (an == 2 && memcmp(a, "gt", 2) == 0)
                    next.prompt = MK_AT_PROMPT_GT;
                else if (an == 8 && memcmp(a, "download", 8) == 0)
                    next.prompt = MK_AT_PROMPT_DOWNLOAD;
                else
                    return mk_tr_fail(t, lineno, "usage: .prompt gt|download");
            } else if (mk_tr_is(l, n, ".data", &a, &an)) {
                if (mk_tr_unescape(a, an, &data) != 0)
                    return mk_tr_fail(t, lineno, "bad escape in .data");
            } else if (mk_tr_is(l, n, ".data-pem", &a, &an)) {
                size_t w;
                if (!mk_tr_last_number(a, an, &w, &v) || w == 0 || v <= 0)
                    return mk_tr_fail(t, lineno, "usage: .data-pem LABEL BYTES");
                char label[64];
                if (w >= sizeof label)
                    return mk_tr_fail(t, lineno, "label too long");
                memcpy(label, a, w);
                label[w] = '\0';
                if (mk_tr_pem(label, (size_t)v, &data) != 0)
                    return mk_tr_fail(t, lineno, ".data-pem: %ld bytes is too small", v);
            } else if (mk_tr_is(l, n, ".two-phase", &a, &an)) {
                size_t w = an;
                long idx = -1;
                if (!mk_tr_last_number(a, an, &w, &idx) || w == 0) {
                    w = an;
                    idx = -1;
                }
                if (w == 0)
                    return mk_tr_fail(t, lineno, "usage: .two-phase PREFIX [INDEX]");
                free(next.urc_prefix);
                next.urc_prefix = mk_tr_strndup(a, w);
                next.urc_index = (int)idx;
            } else if (mk_tr_is(l, n, ".timeout", &a, &an)) {
                if (!mk_tr_number(a, an, &v) || v <= 0)
                    return mk_tr_fail(t, lineno, "usage: .timeout MS");
                next.timeout_ms = (uint32_t)v;
            } else if (mk_tr_is(l, n, ".urc-timeout", &a, &an)) {
                if (!mk_tr_number(a, an, &v) || v <= 0)
                    return mk_tr_fail(t, lineno, "usage: .urc-timeout MS");
                next.urc_timeout_ms = (uint32_t)v;
            } else if (mk_tr_is(l, n, ".secret", &a, &an)) {
                if (an == 4 && memcmp(a, "args", 4) == 0)
                    next.flags |= MK_AT_F_SECRET_ARGS;
                else if (an == 4 && memcmp(a, "data", 4) == 0)
                    next.flags |= MK_AT_F_SECRET_DATA;
                else
                    return mk_tr_fail(t, lineno, "usage: .secret args|data");
            } else {
                return mk_tr_fail(t, lineno, "unknown directive");
            }
        } else if (n >= 2 && l[0] == '>' && l[1] == '>') {
            if (!last || !last->data_len)
                return mk_tr_fail(t, lineno, ">> without a command that has data");
            mk_tr_add(t, MK_TR_DATA, lineno);
        } else if (mk_tr_is(l, n, ">", &a, &an)) {
            if (an == 0)
                return mk_tr_fail(t, lineno, "> needs a command");
            struct mk_tr_step *s = mk_tr_add(t, MK_TR_CMD, lineno);
            s->cmd = next;
            s->cmd.text = mk_tr_strndup(a, an);
            if (data.len) {
                s->cmd.data = data.p;
                s->cmd.data_len = data.len;
                if (s->cmd.prompt == MK_AT_PROMPT_NONE)
                    s->cmd.prompt = MK_AT_PROMPT_GT;
                memset(&data, 0, sizeof data);
            }
            last_idx = t->n_steps - 1;
            last = &s->cmd;
            memset(&next, 0, sizeof next);
            next.timeout_ms = 5000;
            next.urc_index = -1;
        } else if (l[0] == '<') {
            struct mk_tr_buf b = {0};
            if (mk_tr_is(l, n, "<", &a, &an)) {
                mk_tr_put(&b, a, an);
                mk_tr_put(&b, "\r\n", 2);
            } else if (mk_tr_is(l, n, "<e", &a, &an)) {
                mk_tr_put(&b, a, an);
                mk_tr_put(&b, "\r", 1);
            } else if (mk_tr_is(l, n, "<|", &a, &an)) {
                if (mk_tr_unescape(a, an, &b) != 0 || b.len == 0)
                    return mk_tr_fail(t, lineno, "bad <| bytes");
            } else if (mk_tr_is(l, n, "<x", &a, &an)) {
                for (size_t i = 0; i < an; i++) {
                    if (a[i] == ' ')
                        continue;
                    int hi = mk_hex_digit(a[i]), lo = i + 1 < an ? mk_hex_digit(a[i + 1]) : -1;
                    if (hi < 0 || lo < 0)
                        return mk_tr_fail(t, lineno, "bad hex");
                    uint8_t c = (uint8_t)(hi * 16 + lo);
                    mk_tr_put(&b, &c, 1);
                    i++;
                }
            } else if (mk_tr_is(l, n, "<echo-data", &a, &an)) {
                if (!last || !last->data_len)
                    return mk_tr_fail(t, lineno, "<echo-data without a command that has data");
                mk_tr_put(&b, last->data, last->data_len);
            } else {
                return mk_tr_fail(t, lineno, "unknown module line");
            }
            if (b.len == 0)
                return mk_tr_fail(t, lineno, "no bytes");
            struct mk_tr_step *s = mk_tr_add(t, MK_TR_RX, lineno);
            s->bytes = b.p;
            s->len = b.len;
        } else if (mk_tr_is(l, n, "~", &a, &an)) {
            if (!mk_tr_number(a, an, &v) || v < 0)
                return mk_tr_fail(t, lineno, "usage: ~ MS");
            mk_tr_add(t, MK_TR_WAIT, lineno)->ms = (uint32_t)v;
        } else if (mk_tr_is(l, n, "=", &a, &an)) {
            if (an == 0)
                return mk_tr_fail(t, lineno, "= needs an event");
            struct mk_tr_step *s = mk_tr_add(t, MK_TR_EXPECT, lineno);
            s->bytes = (uint8_t *)mk_tr_strndup(a, an);
            s->len = an;
        } else {
            return mk_tr_fail(t, lineno, "cannot parse this line");
        }
    }
    free(data.p);
    free(next.urc_prefix);
    if (data.len)
        return mk_tr_fail(t, lineno, ".data after the last command");
    return 0;
}

int mk_tr_load(struct mk_transcript *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(t, 0, sizeof *t);
        snprintf(t->err, sizeof t->err, "%s: cannot open", path);
        return -1;
    }
    struct mk_tr_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        mk_tr_put(&b, chunk, n);
    fclose(f);
    const char *base = strrchr(path, '/');
    int rc = mk_tr_parse(t, base ? base + 1 : path, (const char *)b.p, b.len);
    free(b.p);
    return rc;
}

void mk_tr_free(struct mk_transcript *t)
{
    for (size_t i = 0; i < t->n_steps; i++) {
        struct mk_tr_step *s = &t->steps[i];
        free(s->bytes);
        free(s->cmd.text);
        free(s->cmd.data);
        free(s->cmd.urc_prefix);
    }
    for (size_t i = 0; i < t->n_urcs; i++)
        free(t->urcs[i].prefix);
    free(t->steps);
    free(t->urcs);
    free(t->name);
    memset(t, 0, sizeof *t);
}

uint8_t *mk_tr_module_bytes(const struct mk_transcript *t, size_t *len)
{
    struct mk_tr_buf b = {0};
    mk_tr_put(&b, "", 0);
    for (size_t i = 0; i < t->n_steps; i++)
        if (t->steps[i].kind == MK_TR_RX)
            mk_tr_put(&b, t->steps[i].bytes, t->steps[i].len);
    *len = b.len;
    return b.p;
}
