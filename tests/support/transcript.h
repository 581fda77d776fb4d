/*
 * Transcript files (*.tr): recorded or reconstructed exchanges between a host and a
 * module, with the events the host must observe. The format is documented in
 * docs/transcripts.md; this is its parser, shared by the AT replay test, the AT fuzz
 * corpus, the tokenizer benchmark and anyone who wants to drive a fake module from a
 * transcript.
 *
 * Test-only code: it allocates with malloc and aborts when out of memory.
 */
#ifndef MK_TEST_TRANSCRIPT_H
#define MK_TEST_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "modemkit/at.h"

enum mk_tr_kind {
    MK_TR_CMD,    /* "> TEXT": the host submits a command (options from the dot lines) */
    MK_TR_DATA,   /* ">>": the host sends the running command's data now */
    MK_TR_RX,     /* "<", "<e", "<|", "<x", "<echo-data": bytes from the module */
    MK_TR_WAIT,   /* "~ MS": virtual time passes */
    MK_TR_EXPECT, /* "= EVENT": the next expected event */
};

/* A command as the transcript describes it (strings and data owned by the transcript). */
struct mk_tr_cmd {
    char *text;
    enum mk_at_prompt prompt;
    uint8_t *data;
    size_t data_len;
    char *urc_prefix; /* NULL: one-phase */
    int urc_index;
    uint32_t timeout_ms;
    uint32_t urc_timeout_ms;
    unsigned flags; /* MK_AT_F_* */
};

struct mk_tr_step {
    enum mk_tr_kind kind;
    int line;             /* line number in the file, for messages */
    struct mk_tr_cmd cmd; /* MK_TR_CMD */
    uint8_t *bytes;       /* MK_TR_RX: the bytes; MK_TR_EXPECT: the event text (NUL-ended) */
    size_t len;
    uint32_t ms; /* MK_TR_WAIT */
};

/* A URC the host knows (".urc", ".urc-raw", ".catch-all"). */
struct mk_tr_urc {
    char *prefix;  /* "" for the catch-all */
    int raw_field; /* -1, or the field that announces the raw bytes after the line */
};

struct mk_transcript {
    char *name;
    struct mk_tr_step *steps;
    size_t n_steps;
    struct mk_tr_urc *urcs;
    size_t n_urcs;
    char err[256]; /* why parsing failed */
};

/* Parse text (len bytes) into t. 0 on success, -1 with t->err set. Free with mk_tr_free. */
int mk_tr_parse(struct mk_transcript *t, const char *name, const char *text, size_t len);
/* Read and parse a file. */
int mk_tr_load(struct mk_transcript *t, const char *path);
void mk_tr_free(struct mk_transcript *t);

/*
 * Escape bytes the way transcripts write them (\r \n \t \\ \xHH; printable ASCII as
 * is). Writes at most cap-1 characters and a NUL; returns the length it needed.
 */
size_t mk_tr_escape(const uint8_t *p, size_t n, char *out, size_t cap);

/* Everything the module says in t, concatenated (malloc'ed; caller frees). */
uint8_t *mk_tr_module_bytes(const struct mk_transcript *t, size_t *len);

#endif
