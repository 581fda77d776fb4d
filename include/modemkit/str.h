/*
 * A bounded string builder for core code, which must not use the printf family (the MCU
 * build is checked for it). Appends never write past cap; on overflow the builder is
 * marked and keeps buf NUL-terminated; mk_sb_err() reports MK_E_NOSPC instead of a
 * silently truncated command.
 */
#ifndef MODEMKIT_STR_H
#define MODEMKIT_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

struct mk_sb {
    char *buf;
    size_t cap; /* including the NUL */
    size_t len;
    bool overflow;
};

void mk_sb_init(struct mk_sb *sb, char *buf, size_t cap);
void mk_sb_putc(struct mk_sb *sb, char c);
void mk_sb_puts(struct mk_sb *sb, const char *s);
void mk_sb_putn(struct mk_sb *sb, const char *s, size_t n);
void mk_sb_putu(struct mk_sb *sb, uint64_t v);
void mk_sb_puti(struct mk_sb *sb, int64_t v);
void mk_sb_puthex(struct mk_sb *sb, uint64_t v, unsigned min_digits);
/* Appends s in double quotes (AT string parameter). */
void mk_sb_putq(struct mk_sb *sb, const char *s);
static inline enum mk_err mk_sb_err(const struct mk_sb *sb)
{
    return sb->overflow ? MK_E_NOSPC : MK_OK;
}

/* Parse helpers: whole string must be a number. MK_E_FORMAT otherwise. */
enum mk_err mk_parse_u64(const char *s, size_t len, uint64_t *out);
enum mk_err mk_parse_i64(const char *s, size_t len, int64_t *out);

/* Value of a hexadecimal digit (0-9, a-f, A-F), or -1 for any other character. */
int mk_hex_digit(char c);

/* True when s[0..len) starts with prefix. */
bool mk_starts_with(const char *s, size_t len, const char *prefix);

/* Bounded copy: always NUL-terminates when cap > 0; returns MK_E_NOSPC if cut. */
enum mk_err mk_strlcpy(char *dst, const char *src, size_t cap);

#endif
