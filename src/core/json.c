#include "modemkit/json.h"

#include <string.h>

#include "modemkit/str.h"

struct mk_json_parser {
    const char *s;
    size_t len;
    size_t pos;
    struct mk_json_tok *toks;
    size_t cap;
    size_t n;
    unsigned depth;
};

static void mk_json_ws(struct mk_json_parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static enum mk_err mk_json_new(struct mk_json_parser *p, enum mk_json_type type, size_t start,
                               size_t *idx)
{
    if (p->n >= p->cap)
        return MK_E_NOSPC;
    if (start > UINT32_MAX || p->len > UINT32_MAX)
        return MK_E_FORMAT;
    struct mk_json_tok *t = &p->toks[p->n];
    t->type = type;
    t->start = (uint32_t)start;
    t->len = 0;
    t->count = 0;
    t->next = 0;
    *idx = p->n++;
    return MK_OK;
}

/* Validates a string starting at the opening quote; leaves pos after the closing one. */
static enum mk_err mk_json_string(struct mk_json_parser *p)
{
    size_t idx;
    enum mk_err e = mk_json_new(p, MK_JSON_STRING, p->pos + 1, &idx);
    if (e != MK_OK)
        return e;
    p->pos++;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->toks[idx].len = (uint32_t)(p->pos - p->toks[idx].start);
            p->toks[idx].next = (uint32_t)p->n;
            p->pos++;
            return MK_OK;
        }
        if (c < 0x20)
            return MK_E_FORMAT;
        if (c == '\\') {
            if (++p->pos >= p->len)
                return MK_E_FORMAT;
            char esc = p->s[p->pos];
            if (esc == 'u') {
                if (p->pos + 4 >= p->len)
                    return MK_E_FORMAT;
                for (int i = 1; i <= 4; i++)
                    if (mk_hex_digit(p->s[p->pos + (size_t)i]) < 0)
                        return MK_E_FORMAT;
                p->pos += 4;
            } else if (!strchr("\"\\/bfnrt", esc) || esc == '\0') {
                return MK_E_FORMAT;
            }
        }
        p->pos++;
    }
    return MK_E_FORMAT;
}

static enum mk_err mk_json_number(struct mk_json_parser *p)
{
    size_t start = p->pos, idx;
    const char *s = p->s;
    if (p->pos < p->len && s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len)
        return MK_E_FORMAT;
    if (s[p->pos] == '0') {
        p->pos++;
    } else if (s[p->pos] >= '1' && s[p->pos] <= '9') {
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
    } else {
        return MK_E_FORMAT;
    }
    if (p->pos < p->len && s[p->pos] == '.') {
        size_t digits = ++p->pos;
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
        if (p->pos == digits)
            return MK_E_FORMAT;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        size_t digits = p->pos;
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
            p->pos++;
        if (p->pos == digits)
            return MK_E_FORMAT;
    }
    enum mk_err e = mk_json_new(p, MK_JSON_NUMBER, start, &idx);
    if (e != MK_OK)
        return e;
    p->toks[idx].len = (uint32_t)(p->pos - start);
    p->toks[idx].next = (uint32_t)p->n;
    return MK_OK;
}

static enum mk_err mk_json_literal(struct mk_json_parser *p, const char *word,
                                   enum mk_json_type type)
{
    size_t n = strlen(word), idx;
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return MK_E_FORMAT;
    enum mk_err e = mk_json_new(p, type, p->pos, &idx);
    if (e != MK_OK)
        return e;
    p->toks[idx].len = (uint32_t)n;
    p->toks[idx].next = (uint32_t)p->n;
    p->pos += n;
    return MK_OK;
}

static enum mk_err mk_json_value(struct mk_json_parser *p);

/* Object or array: open is '{' or '['. */
static enum mk_err mk_json_container(struct mk_json_parser *p, bool object)
{
    size_t idx;
    enum mk_err e = mk_json_new(p, object ? MK_JSON_OBJECT : MK_JSON_ARRAY, p->pos, &idx);
    if (e != MK_OK)
        return e;
    if (++p->depth > MK_JSON_MAX_DEPTH)
        return MK_E_FORMAT;
    char close = object ? '}' : ']';
    p->pos++;
    mk_json_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        goto done;
    }
    for (;;) {
        if (object) {
            mk_json_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return MK_E_FORMAT;
            if ((e = mk_json_string(p)) != MK_OK)
                return e;
            mk_json_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return MK_E_FORMAT;
            p->pos++;
        }
        if ((e = mk_json_value(p)) != MK_OK)
            return e;
        p->toks[idx].count++;
        mk_json_ws(p);
        if (p->pos >= p->len)
            return MK_E_FORMAT;
        char c = p->s[p->pos++];
        if (c == close)
            break;
        if (c != ',')
            return MK_E_FORMAT;
    }
done:
    p->depth--;
    p->toks[idx].len = (uint32_t)(p->pos - p->toks[idx].start);
    p->toks[idx].next = (uint32_t)p->n;
    return MK_OK;
}

static enum mk_err mk_json_value(struct mk_json_parser *p)
{
    mk_json_ws(p);
    if (p->pos >= p->len)
        return MK_E_FORMAT;
    switch (p->s[p->pos]) {
    case '{':
        return mk_json_container(p, true);
    case '[':
        return mk_json_container(p, false);
    case '"':
        return mk_json_string(p);
    case 't':
        return mk_json_literal(p, "true", MK_JSON_TRUE);
    case 'f':
        return mk_json_literal(p, "false", MK_JSON_FALSE);
    case 'n':
        return mk_json_literal(p, "null", MK_JSON_NULL);
    default:
        return mk_json_number(p);
    }
}

enum mk_err mk_json_parse(struct mk_json *doc, const char *text, size_t len,
                          struct mk_json_tok *toks, size_t cap)
{
    struct mk_json_parser p = {.s = text, .len = len, .toks = toks, .cap = cap};
    doc->text = text;
    doc->len = len;
    doc->toks = toks;
    doc->ntoks = 0;
    enum mk_err e = mk_json_value(&p);
    if (e != MK_OK)
        return e;
    mk_json_ws(&p);
    if (p.pos != len)
        return MK_E_FORMAT;
    doc->ntoks = p.n;
    return MK_OK;
}

static bool mk_json_valid(const struct mk_json *doc, int idx)
{
    return idx >= 0 && (size_t)idx < doc->ntoks;
}

int mk_json_get(const struct mk_json *doc, int obj, const char *key)
{
    if (!mk_json_valid(doc, obj) || doc->toks[obj].type != MK_JSON_OBJECT)
        return -1;
    uint32_t k = (uint32_t)obj + 1;
    for (uint32_t i = 0; i < doc->toks[obj].count; i++) {
        uint32_t v = k + 1;
        if (mk_json_streq(doc, (int)k, key))
            return (int)v;
        k = doc->toks[v].next;
    }
    return -1;
}

int mk_json_at(const struct mk_json *doc, int arr, size_t i)
{
    if (!mk_json_valid(doc, arr) || doc->toks[arr].type != MK_JSON_ARRAY ||
        i >= doc->toks[arr].count)
        return -1;
    uint32_t t = (uint32_t)arr + 1;
    while (i--)
        t = doc->toks[t].next;
    return (int)t;
}

/*
 * Decodes the next character of a string token at *pos into UTF-8 bytes in out
 * (up to 4); returns how many, 0 on a malformed escape.
 */
static size_t mk_json_decode_one(const char *s, size_t end, size_t *pos, char out[4])
{
    char c = s[*pos];
    if (c != '\\') {
        out[0] = c;
        (*pos)++;
        return 1;
    }
    char esc = s[*pos + 1];
    *pos += 2;
    switch (esc) {
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': break;
    default: out[0] = esc; return 1;
    }
    uint32_t cp = 0;
    for (int i = 0; i < 4; i++)
        cp = (cp << 4) | (uint32_t)mk_hex_digit(s[*pos + (size_t)i]);
    *pos += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && *pos + 6 <= end && s[*pos] == '\\' &&
        s[*pos + 1] == 'u') {
        uint32_t lo = 0;
        int ok = 1;
        for (int i = 0; i < 4; i++) {
            int h = mk_hex_digit(s[*pos + 2 + (size_t)i]);
            if (h < 0)
                ok = 0;
            lo = (lo << 4) | (uint32_t)(h < 0 ? 0 : h);
        }
        if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            *pos += 6;
        }
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool mk_json_streq(const struct mk_json *doc, int idx, const char *s)
{
    if (!mk_json_valid(doc, idx) || doc->toks[idx].type != MK_JSON_STRING)
        return false;
    const struct mk_json_tok *t = &doc->toks[idx];
    size_t pos = t->start, end = (size_t)t->start + t->len, si = 0, want = strlen(s);
    while (pos < end) {
        char buf[4];
        size_t n = mk_json_decode_one(doc->text, end, &pos, buf);
        if (si + n > want || memcmp(s + si, buf, n) != 0)
            return false;
        si += n;
    }
    return si == want;
}

enum mk_err mk_json_str(const struct mk_json *doc, int idx, char *out, size_t cap)
{
    if (!mk_json_valid(doc, idx) || doc->toks[idx].type != MK_JSON_STRING || cap == 0)
        return MK_E_INVAL;
    const struct mk_json_tok *t = &doc->toks[idx];
    size_t pos = t->start, end = (size_t)t->start + t->len, o = 0;
    while (pos < end) {
        char buf[4];
        size_t n = mk_json_decode_one(doc->text, end, &pos, buf);
        if (o + n >= cap) {
            out[o] = '\0';
            return MK_E_NOSPC;
        }
        memcpy(out + o, buf, n);
        o += n;
    }
    out[o] = '\0';
    return MK_OK;
}

enum mk_err mk_json_int(const struct mk_json *doc, int idx, int64_t *out)
{
    if (!mk_json_valid(doc, idx) || doc->toks[idx].type != MK_JSON_NUMBER)
        return MK_E_FORMAT;
    return mk_parse_i64(doc->text + doc->toks[idx].start, doc->toks[idx].len, out);
}

enum mk_err mk_json_num(const struct mk_json *doc, int idx, double *out)
{
    if (!mk_json_valid(doc, idx) || doc->toks[idx].type != MK_JSON_NUMBER)
        return MK_E_FORMAT;
    /* Hand-rolled (strtod would pull malloc into the MCU build via newlib): exact for
     * integers up to 2^53, within a few ULP otherwise, which suits parameter values. */
    const char *s = doc->text + doc->toks[idx].start;
    size_t len = doc->toks[idx].len, i = 0;
    bool neg = s[0] == '-';
    i += neg;
    double v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (s[i++] - '0');
    if (i < len && s[i] == '.') {
        double scale = 0.1;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
            v += (s[i] - '0') * scale;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = s[i] == '-';
        if (s[i] == '-' || s[i] == '+')
            i++;
        int ex = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && ex < 400)
            ex = ex * 10 + (s[i++] - '0');
        while (ex--)
            v = eneg ? v / 10 : v * 10;
    }
    *out = neg ? -v : v;
    return MK_OK;
}

enum mk_err mk_json_bool(const struct mk_json *doc, int idx, bool *out)
{
    if (!mk_json_valid(doc, idx))
        return MK_E_FORMAT;
    if (doc->toks[idx].type == MK_JSON_TRUE)
        *out = true;
    else if (doc->toks[idx].type == MK_JSON_FALSE)
        *out = false;
    else
        return MK_E_FORMAT;
    return MK_OK;
}
