#include "modemkit/str.h"

#include <string.h>

void mk_sb_init(struct mk_sb *sb, char *buf, size_t cap)
{
    sb->buf = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->overflow = (cap == 0);
    if (cap)
        buf[0] = '\0';
}

void mk_sb_putn(struct mk_sb *sb, const char *s, size_t n)
{
    if (sb->overflow)
        return;
    if (n >= sb->cap - sb->len) {
        sb->overflow = true;
        return;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void mk_sb_putc(struct mk_sb *sb, char c)
{
    mk_sb_putn(sb, &c, 1);
}

void mk_sb_puts(struct mk_sb *sb, const char *s)
{
    mk_sb_putn(sb, s, strlen(s));
}

void mk_sb_putu(struct mk_sb *sb, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    mk_sb_putn(sb, tmp + sizeof tmp - n, n);
}

void mk_sb_puti(struct mk_sb *sb, int64_t v)
{
    if (v < 0) {
        mk_sb_putc(sb, '-');
        mk_sb_putu(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        mk_sb_putu(sb, (uint64_t)v);
    }
}

void mk_sb_puthex(struct mk_sb *sb, uint64_t v, unsigned min_digits)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = digits[v & 0xF];
        v >>= 4;
    } while (v || n < min_digits);
    mk_sb_putn(sb, tmp + sizeof tmp - n, n);
}

void mk_sb_putq(struct mk_sb *sb, const char *s)
{
    mk_sb_putc(sb, '"');
    mk_sb_puts(sb, s);
    mk_sb_putc(sb, '"');
}

enum mk_err mk_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return MK_E_FORMAT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return MK_E_FORMAT;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return MK_E_FORMAT;
        v = v * 10 + d;
    }
    *out = v;
    return MK_OK;
}

enum mk_err mk_parse_i64(const char *s, size_t len, int64_t *out)
{
    bool neg = len > 0 && s[0] == '-';
    uint64_t v;
    enum mk_err e = mk_parse_u64(s + neg, len - neg, &v);
    if (e != MK_OK)
        return e;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return MK_E_FORMAT;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX)
            return MK_E_FORMAT;
        *out = (int64_t)v;
    }
    return MK_OK;
}

int mk_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool mk_starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return n <= len && memcmp(s, prefix, n) == 0;
}

enum mk_err mk_strlcpy(char *dst, const char *src, size_t cap)
{
    if (cap == 0)
        return MK_E_NOSPC;
    size_t n = strlen(src);
    if (n >= cap) {
        memcpy(dst, src, cap - 1);
        dst[cap - 1] = '\0';
        return MK_E_NOSPC;
    }
    memcpy(dst, src, n + 1);
    return MK_OK;
}
