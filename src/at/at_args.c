/*
 * Argument helpers for AT response and URC lines: "+CMQTTRXSTART: 0,31,45",
 * "+CCERTLIST: \"cacert.pem\"", "+CREG: 0, 1". Views into the caller's line, no copies.
 */
#include "modemkit/at.h"

#include <limits.h>
#include <string.h>

#include "modemkit/str.h"

int mk_at_split(const char *line, size_t len, const char *prefix, struct mk_at_arg *args,
                size_t max)
{
    if (!mk_starts_with(line, len, prefix))
        return -1;
    size_t i = strlen(prefix), count = 0;
    while (i < len && line[i] == ' ')
        i++;
    if (i >= len)
        return 0;
    for (;;) {
        struct mk_at_arg a;
        while (i < len && line[i] == ' ')
            i++;
        if (i < len && line[i] == '"') {
            size_t s = ++i;
            while (i < len && line[i] != '"')
                i++;
            a.p = line + s;
            a.len = i - s;
            a.quoted = true;
            while (i < len && line[i] != ',') /* the closing quote and anything after it */
                i++;
        } else {
            size_t s = i;
            while (i < len && line[i] != ',')
                i++;
            size_t e = i;
            while (e > s && line[e - 1] == ' ')
                e--;
            a.p = line + s;
            a.len = e - s;
            a.quoted = false;
        }
        if (count < max)
            args[count] = a;
        count++;
        if (i >= len || count >= max)
            break;
        i++; /* the comma */
    }
    return (int)(count < max ? count : max);
}

enum mk_err mk_at_arg_long(const struct mk_at_arg *a, long *out)
{
    int64_t v;
    if (mk_parse_i64(a->p, a->len, &v) != MK_OK || v < LONG_MIN || v > LONG_MAX)
        return MK_E_FORMAT;
    *out = (long)v;
    return MK_OK;
}
