/*
 * Host side of the FOTA job for modemctl and modemd: the package file reader, the journal
 * directory, Ed25519 signatures (OpenSSL libcrypto), the power-cycle command and the
 * progress display. The portable job (include/modemkit/fota.h) sees them only through
 * its small interfaces.
 */
#ifndef MK_HOST_FOTA_HOST_H
#define MK_HOST_FOTA_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "modemkit/fota.h"

/* ---- package file ---- */
struct mk_host_pkg {
    int fd;
    struct mk_fota_reader rd;
    struct mk_fota_pkg pkg;
    char man[8192];
    char path[4096]; /* absolute path */
};
/* Opens and parses path. why (cap 320) explains a failure. */
enum mk_err mk_host_pkg_open(struct mk_host_pkg *hp, const char *path, uint8_t *work, size_t cap,
                             char *why, size_t why_cap);
void mk_host_pkg_close(struct mk_host_pkg *hp);

/* ---- journal directory ---- */
struct mk_host_journal {
    char dir[4096];
    struct mk_fota_store store;
};
/* dir NULL: $XDG_STATE_HOME/modemctl/fota, else ~/.local/state/modemctl/fota. Creates it
 * (mode 0700) when create is set. */
enum mk_err mk_host_journal_init(struct mk_host_journal *hj, const char *dir, bool create);
/* Path of one job's journal file. */
void mk_host_journal_path(const struct mk_host_journal *hj, const char *id, char *out, size_t cap);
/* Calls cb for every journal in the directory (sorted by file name). Unreadable files
 * are passed with j == NULL. */
void mk_host_journal_each(const struct mk_host_journal *hj,
                          void (*cb)(void *user, const char *file, const struct mk_fota_journal *j),
                          void *user);

/* ---- Ed25519 ---- */
/* Loads a public key (or a private key, whose public half is used) from a PEM file.
 * Returns an opaque key or NULL with why set. */
void *mk_host_ed25519_load(const char *pem, bool private_only, char *why, size_t cap);
void mk_host_ed25519_free(void *key);
/* mk_fota_verify_fn over a key from mk_host_ed25519_load (ctx = the key). */
enum mk_err mk_host_ed25519_verify(void *key, const uint8_t *msg, size_t len,
                                   const uint8_t sig[MK_FOTA_SIG_LEN]);
enum mk_err mk_host_ed25519_sign(void *key, const uint8_t *msg, size_t len,
                                 uint8_t sig[MK_FOTA_SIG_LEN]);

/* ---- power-cycle command: sh -c CMD; MK_OK when it exits 0 ---- */
enum mk_err mk_host_run_cmd(const char *cmd, int *status);

/* ---- progress: a bar on a terminal, JSON lines with --json, lines otherwise ---- */
struct mk_host_progress {
    bool json, tty, quiet;
    FILE *out;           /* stderr for text, stdout for JSON */
    uint64_t t0_ms;      /* transfer start */
    uint64_t first_done; /* bytes already on the module when the transfer started */
    uint64_t last_ms;
    bool bar_open; /* a bar line without its newline is on the terminal */
    const char *phase;
};
void mk_host_progress_init(struct mk_host_progress *p, bool json);
void mk_host_progress_event(void *ctx, const struct mk_fota_event *ev);
/* Ends an open bar line (before other output). */
void mk_host_progress_flush(struct mk_host_progress *p);

#endif
