/* Internal helpers shared by the FOTA files (not part of the public API). */
#ifndef MODEMKIT_FOTA_INT_H
#define MODEMKIT_FOTA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/json.h"
#include "modemkit/str.h"

/* Lower-case hex of n bytes into out (2n+1 bytes with the NUL). */
void mk_fota_hex(const uint8_t *p, size_t n, char *out);
/* Parses exactly 2n hex digits (either case). */
bool mk_fota_unhex(const char *s, size_t len, uint8_t *out, size_t n);
/* Appends s as a JSON string literal (quotes, escapes, control characters as \u00XX). */
void mk_fota_sb_json(struct mk_sb *sb, const char *s);
/* Copies the JSON string member key of object obj into out. MK_E_NOENT if absent,
 * MK_E_FORMAT if not a string, MK_E_NOSPC if too long. */
enum mk_err mk_fota_json_get_str(const struct mk_json *doc, int obj, const char *key, char *out,
                                 size_t cap);
/* Unsigned integer member. */
enum mk_err mk_fota_json_get_u64(const struct mk_json *doc, int obj, const char *key,
                                 uint64_t *out);

#endif
