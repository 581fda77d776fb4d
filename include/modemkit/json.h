/*
 * A strict, allocation-free JSON reader (RFC 8259) for manifests, jobs and parameter
 * messages. mk_json_parse() validates the whole text and fills a caller-provided token
 * array; tokens are views into the text (valid while the text is). Lookups walk the
 * tokens. Nesting depth is bounded (MK_JSON_MAX_DEPTH) so hostile input cannot recurse
 * deeply; everything malformed is MK_E_FORMAT, too many tokens is MK_E_NOSPC.
 */
#ifndef MODEMKIT_JSON_H
#define MODEMKIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

#define MK_JSON_MAX_DEPTH 32

enum mk_json_type {
    MK_JSON_OBJECT,
    MK_JSON_ARRAY,
    MK_JSON_STRING, /* start/len exclude the quotes; escapes are still encoded */
    MK_JSON_NUMBER,
    MK_JSON_TRUE,
    MK_JSON_FALSE,
    MK_JSON_NULL,
};

struct mk_json_tok {
    enum mk_json_type type;
    uint32_t start;  /* offset into the text */
    uint32_t len;
    uint32_t next;   /* index of the token after this one and all its children */
    uint32_t count;  /* object: number of members; array: number of elements */
};

struct mk_json {
    const char *text;
    size_t len;
    struct mk_json_tok *toks;
    size_t ntoks;
};

/*
 * Parse text[0..len) into toks[0..cap). On success doc->ntoks tokens are valid and
 * toks[0] is the root value. In an object, member i is a key token (STRING) followed by
 * its value token.
 */
enum mk_err mk_json_parse(struct mk_json *doc, const char *text, size_t len,
                          struct mk_json_tok *toks, size_t cap);

/* Index of the value of key in the object at index obj, or -1 (also if not an object). */
int mk_json_get(const struct mk_json *doc, int obj, const char *key);

/* Index of element i of the array at index arr, or -1. */
int mk_json_at(const struct mk_json *doc, int arr, size_t i);

/* True when the string token idx equals s (escapes decoded for the comparison). */
bool mk_json_streq(const struct mk_json *doc, int idx, const char *s);

/*
 * Decode the string token idx (escapes, \uXXXX incl. surrogate pairs → UTF-8) into
 * out[0..cap) with a NUL. MK_E_NOSPC if it does not fit, MK_E_INVAL if not a string.
 */
enum mk_err mk_json_str(const struct mk_json *doc, int idx, char *out, size_t cap);

/* Integer value of a NUMBER token without fraction/exponent. MK_E_FORMAT otherwise. */
enum mk_err mk_json_int(const struct mk_json *doc, int idx, int64_t *out);

/* Numeric value as a double (any NUMBER token). */
enum mk_err mk_json_num(const struct mk_json *doc, int idx, double *out);

/* Boolean value. MK_E_FORMAT if not true/false. */
enum mk_err mk_json_bool(const struct mk_json *doc, int idx, bool *out);

#endif
