/*
 * Module firmware update over the air by AT commands (FOTA): update packages, the
 * job journal and the update job itself.
 *
 * A package is one POSIX ustar archive a user can inspect with `tar tvf`:
 *
 *   manifest.json   what the delta is for (module model, exact source revision, target
 *                   revision, delta size and SHA-256, method, post-update actions, an
 *                   optional URL the module can fetch the delta from itself)
 *   manifest.sig    optional: Ed25519 signature (64 raw bytes) over the exact bytes of
 *                   manifest.json
 *   <delta>         the vendor's delta file, byte for byte, named by the manifest
 *
 * The job (mk_fota_run) checks everything it can before a single byte of the delta is
 * sent (signature, delta size and SHA-256, model, running revision, free space on the
 * module), pushes the delta in chunks with a journal that survives host crashes, module
 * power cuts and lost serial lines, sends the apply command (AT+CFOTA=1 / AT+CDELTA)
 * once, follows the module through its reboots and compares the revision it reports
 * afterwards with the manifest's target.
 *
 * Portable core: no malloc, no printf, no OS calls. Storage for the journal, the
 * package bytes, signature verification, reopening the port after a reboot, a hard
 * power cycle and progress output are supplied by the caller through the small
 * interfaces below (modemctl implements them with POSIX files, OpenSSL and a shell
 * command). All calls are blocking over a struct mk_at_chan.
 *
 * Journal states and results use the LwM2M Firmware Update object (/5) vocabulary:
 * state 0 Idle, 1 Downloading, 2 Downloaded, 3 Updating; result 0 initial, 1 success,
 * 2 not enough flash, 4 connection lost, 5 integrity check failure, 6 unsupported
 * package, 8 update failed (OMA LwM2M 5.xml v1.1, ota-and-fleet.md §4.1).
 */
#ifndef MODEMKIT_FOTA_H
#define MODEMKIT_FOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/at.h"
#include "modemkit/err.h"
#include "modemkit/modem.h"
#include "modemkit/sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------- */
/* ustar archives                                                                      */

#define MK_TAR_BLOCK    512u
#define MK_TAR_NAME_CAP 101u /* ustar name field (100) + NUL; prefix field not used */

struct mk_tar_entry {
    char name[MK_TAR_NAME_CAP];
    char type;         /* '0' regular file, '5' directory, ... */
    uint64_t size;     /* bytes of data */
    uint64_t data_off; /* offset of the data from the start of the archive */
};

/*
 * Parses one 512-byte header block found at archive offset hdr_off. Returns MK_OK with
 * *e filled, MK_E_NOENT for an all-zero block (end of archive), MK_E_FORMAT for a
 * block that is not a valid ustar header (bad checksum, magic, size field, or a name
 * with a '/' prefix field in use, "..", or no NUL). Never reads outside hdr.
 */
enum mk_err mk_tar_parse_header(const uint8_t hdr[MK_TAR_BLOCK], uint64_t hdr_off,
                                struct mk_tar_entry *e);

/*
 * Builds the header block of a regular file (mode 0644, owner 0, mtime as given) into
 * hdr. MK_E_INVAL when name is empty, longer than 100 bytes or contains "..", or when
 * size does not fit the 11-digit octal field (8 GiB).
 */
enum mk_err mk_tar_build_header(uint8_t hdr[MK_TAR_BLOCK], const char *name, uint64_t size,
                                uint64_t mtime);

/* Zero bytes that follow size bytes of data to reach the next 512-byte boundary. */
uint32_t mk_tar_padding(uint64_t size);

/* ---------------------------------------------------------------------------------- */
/* Manifest                                                                            */

enum mk_fota_method {
    MK_FOTA_METHOD_NONE = 0,
    MK_FOTA_METHOD_CFOTA,  /* SIM7000/SIM7070: /fota/update.zip via AT+CFSWFILE, AT+CFOTA=1 */
    MK_FOTA_METHOD_CDELTA, /* SIM7500/SIM7600: cache drive via AT+CFTRANRX, AT+CDELTA */
};

/* Post-update actions (manifest "post" list). */
#define MK_FOTA_POST_HARD_POWER_CYCLE 0x1u /* "hard-power-cycle": seed 002, RC76xx R9.0 */

#define MK_FOTA_MODEL_CAP 64u
#define MK_FOTA_REV_CAP   128u
#define MK_FOTA_URL_CAP   256u

struct mk_fota_manifest {
    char model[MK_FOTA_MODEL_CAP]; /* e.g. "SIM7600SA" (a leading "SIMCOM_" is ignored) */
    char source[MK_FOTA_REV_CAP];  /* exact AT+CGMR revision the delta applies to */
    char target[MK_FOTA_REV_CAP];  /* revision the module must report afterwards */
    enum mk_fota_method method;
    char delta_name[MK_TAR_NAME_CAP]; /* member of the archive holding the delta */
    uint64_t delta_size;
    uint8_t delta_sha256[MK_SHA256_LEN];
    uint32_t post;             /* MK_FOTA_POST_* */
    char url[MK_FOTA_URL_CAP]; /* "" or where the module may fetch the delta */
};

#define MK_FOTA_MANIFEST_FORMAT "modemkit-fota/1"

/*
 * Parses manifest JSON text. Required members: "format" (MK_FOTA_MANIFEST_FORMAT),
 * "model", "source", "target", "method" ("cfota" or "cdelta"), "delta": {"file",
 * "size", "sha256" (64 hex digits)}; optional "post" (array of action names, known:
 * "hard-power-cycle") and "url". Unknown members are ignored, unknown post actions are
 * an error (an action we cannot perform must not be skipped silently).
 * Errors: MK_E_MANIFEST with a reason in why (may be NULL), e.g.
 * "\"method\" must be cfota or cdelta, not \"x\"".
 */
enum mk_err mk_fota_manifest_parse(const char *text, size_t len, struct mk_fota_manifest *m,
                                   char *why, size_t why_cap);

/* Writes m as manifest JSON into buf; *len gets its length. MK_E_NOSPC if it does not
 * fit; MK_E_INVAL for an incomplete manifest (empty strings, method NONE). */
enum mk_err mk_fota_manifest_write(const struct mk_fota_manifest *m, char *buf, size_t cap,
                                   size_t *len);

const char *mk_fota_method_name(enum mk_fota_method m); /* "cfota", "cdelta", "none" */

/*
 * True when the model the module reports (AT+CGMM / ATI "Model:") is the one the
 * manifest names: equal ignoring ASCII case, after removing a leading "SIMCOM_" from
 * either side. "SIM7600SA" does not match "SIM7600SA-H" (different hardware).
 */
bool mk_fota_model_match(const char *manifest_model, const char *module_model);

/* ---------------------------------------------------------------------------------- */
/* Package                                                                             */

/*
 * Random-access reader of the package bytes (a file on a host, external flash on an
 * MCU). read() must deliver exactly len bytes at off, or fail.
 */
struct mk_fota_reader {
    enum mk_err (*read)(void *ctx, uint64_t off, void *buf, size_t len);
    void *ctx;
    uint64_t size; /* total bytes */
};

#define MK_FOTA_SIG_LEN 64u

struct mk_fota_pkg {
    const struct mk_fota_reader *rd;
    struct mk_fota_manifest man;
    const char *man_text; /* the manifest's exact bytes, in the caller's buffer */
    size_t man_len;
    bool has_sig;
    uint8_t sig[MK_FOTA_SIG_LEN];
    uint64_t delta_off;        /* where the delta's bytes start in the package */
    uint8_t id[MK_SHA256_LEN]; /* SHA-256 of the whole package file: the job identity */
    char id_hex[2 * MK_SHA256_LEN + 1];
};

/*
 * Opens a package: walks the archive, reads manifest.json into man_buf (it must fit,
 * with a NUL), parses it, reads manifest.sig when present, locates the delta member and
 * computes the package identity by hashing the whole file through rd with work[0..cap)
 * as a read buffer (cap >= 512). rd, man_buf and work must outlive the call; rd and
 * man_buf must outlive pkg.
 * Errors: MK_E_FORMAT (not a ustar archive, truncated), MK_E_MANIFEST (missing or
 * invalid manifest, no member named by it, member size not the manifest's size),
 * MK_E_NOSPC (manifest larger than man_cap-1), reader errors. why explains (may be NULL).
 */
enum mk_err mk_fota_pkg_open(struct mk_fota_pkg *pkg, const struct mk_fota_reader *rd,
                             char *man_buf, size_t man_cap, uint8_t *work, size_t cap, char *why,
                             size_t why_cap);

/*
 * Hashes the delta member and compares size and SHA-256 with the manifest.
 * MK_E_FOTA_INTEGRITY with why saying "expected ... found ...".
 */
enum mk_err mk_fota_pkg_check_delta(const struct mk_fota_pkg *pkg, uint8_t *work, size_t cap,
                                    char *why, size_t why_cap);

/* Signature check over the exact manifest bytes, by the caller's Ed25519 verifier.
 * MK_OK, or MK_E_FOTA_SIGNATURE (bad signature or a key that does not match). */
typedef enum mk_err (*mk_fota_verify_fn)(void *ctx, const uint8_t *msg, size_t len,
                                         const uint8_t sig[MK_FOTA_SIG_LEN]);

/* ---------------------------------------------------------------------------------- */
/* Journal                                                                             */

enum mk_fota_state { /* LwM2M /5 resource 3 */
                     MK_FOTA_STATE_IDLE = 0,
                     MK_FOTA_STATE_DOWNLOADING = 1,
                     MK_FOTA_STATE_DOWNLOADED = 2,
                     MK_FOTA_STATE_UPDATING = 3,
};

enum mk_fota_result { /* LwM2M /5 resource 5 */
                      MK_FOTA_RES_INITIAL = 0,
                      MK_FOTA_RES_SUCCESS = 1,
                      MK_FOTA_RES_NO_FLASH = 2,
                      MK_FOTA_RES_NO_RAM = 3,
                      MK_FOTA_RES_CONN_LOST = 4,
                      MK_FOTA_RES_INTEGRITY = 5,
                      MK_FOTA_RES_UNSUPPORTED_PKG = 6,
                      MK_FOTA_RES_INVALID_URI = 7,
                      MK_FOTA_RES_FAILED = 8,
                      MK_FOTA_RES_UNSUPPORTED_PROTO = 9,
                      MK_FOTA_RES_CANCELLED = 10,
                      MK_FOTA_RES_DEFERRED = 11,
};

#define MK_FOTA_JOURNAL_FORMAT "modemkit-fota-journal/1"
#define MK_FOTA_MSG_CAP        320u
#define MK_FOTA_PATH_CAP       256u

/*
 * One job's record. It is written (atomically, by the store) at every state change and
 * every few chunks, so after a crash it tells what may have happened; what the module
 * says always wins over it (the transfer resumes from the size the module reports, and
 * an apply that may have been sent is never sent again before the module was asked).
 */
struct mk_fota_journal {
    char package[2 * MK_SHA256_LEN + 1]; /* package identity (hex SHA-256 of the file) */
    char path[MK_FOTA_PATH_CAP];         /* where the package was (host), or "" */
    char model[MK_FOTA_MODEL_CAP];
    char source[MK_FOTA_REV_CAP];
    char target[MK_FOTA_REV_CAP];
    enum mk_fota_method method;
    uint64_t delta_size;
    enum mk_fota_state state;
    enum mk_fota_result result;
    bool final;           /* the job is over; result and err are its outcome */
    uint64_t offset;      /* delta bytes the module confirmed (last write that said OK) */
    bool apply_sent;      /* the apply command may have reached the module */
    uint32_t apply_count; /* apply commands the host sent, over all sessions */
    uint32_t sessions;    /* runs of this job: 1 + resumes */
    bool power_cycled;    /* the hard power-cycle command was run */
    bool reported;        /* the final result was shown to the user (modemctl fota status) */
    enum mk_err err;      /* final error (MK_OK on success) */
    char message[MK_FOTA_MSG_CAP];
};

/* JSON text of a journal (multi-line, stable key order). MK_E_NOSPC if cap is short. */
enum mk_err mk_fota_journal_encode(const struct mk_fota_journal *j, char *buf, size_t cap,
                                   size_t *len);
/* Parses what mk_fota_journal_encode wrote. MK_E_JOURNAL when malformed or of another
 * format version. */
enum mk_err mk_fota_journal_decode(struct mk_fota_journal *j, const char *text, size_t len);

const char *mk_fota_state_name(enum mk_fota_state s);   /* "idle", "downloading", ... */
const char *mk_fota_result_name(enum mk_fota_result r); /* "initial", "success", ... */
/* LwM2M result for the error a job ended with. */
enum mk_fota_result mk_fota_result_for(enum mk_err err);

/*
 * Persistent storage of journals, one record per job keyed by the package identity
 * (64 hex digits). save() must replace the record atomically: after a crash load()
 * returns either the old or the new bytes, never a mix (a host uses temp file + fsync +
 * rename + fsync of the directory; an MCU two flash slots with a sequence number).
 * load() returns MK_E_NOENT when there is none, MK_E_NOSPC when cap is short.
 */
struct mk_fota_store {
    enum mk_err (*save)(void *ctx, const char *id, const void *data, size_t len);
    enum mk_err (*load)(void *ctx, const char *id, void *buf, size_t cap, size_t *len);
    void *ctx;
};

/* ---------------------------------------------------------------------------------- */
/* Module side: one method of getting the delta onto a module and applying it          */

/*
 * Implemented by the vendor drivers (src/drivers/simcom: mk_simcom_fota_ops()). Every
 * function runs AT commands on ch and returns the channel's error (MK_E_HANGUP when the
 * port went away, MK_E_AT_* when the module refused). Optional members may be NULL.
 */
struct mk_fota_target_ops {
    const char *name; /* "cfota" */
    enum mk_fota_method method;
    const char *file;       /* where the delta goes on the module, e.g. "/fota/update.zip" */
    const char *apply_text; /* the apply command, for messages: "AT+CFOTA=1" */
    size_t max_chunk;       /* largest write the module accepts in one command */
    enum mk_err (*begin)(struct mk_at_chan *ch); /* open the file system (AT+CFSINIT) */
    enum mk_err (*end)(struct mk_at_chan *ch);   /* close it (AT+CFSTERM) */
    enum mk_err (*free_space)(struct mk_at_chan *ch, uint64_t *bytes);
    /* size of the delta file on the module; MK_E_NOENT when there is none */
    enum mk_err (*file_size)(struct mk_at_chan *ch, uint64_t *size);
    enum mk_err (*remove)(struct mk_at_chan *ch);
    /* writes data at off (off == current size: append; off == 0: new file) */
    enum mk_err (*write)(struct mk_at_chan *ch, uint64_t off, const uint8_t *data, size_t len,
                         uint32_t line_rate_bps);
    /* reads len bytes at off back from the module (resume check), may be NULL */
    enum mk_err (*read)(struct mk_at_chan *ch, uint64_t off, uint8_t *buf, size_t len);
    /* the module fetches url into the delta file itself; *http_status from the module */
    enum mk_err (*fetch)(struct mk_at_chan *ch, const char *url, uint32_t timeout_ms,
                         int *http_status);
    enum mk_err (*apply)(struct mk_at_chan *ch);
    /* update status register (AT+CFOTA?: 1 updating .. 6 success, 7 failed, 8 flag
     * cleared); NULL when the method has none */
    enum mk_err (*status)(struct mk_at_chan *ch, int *status);
    enum mk_err (*clear)(struct mk_at_chan *ch); /* reset the status to "clean" (8) */
    /* progress URCs during the update: prefix and a parser returning
     * MK_FOTA_URC_* with *percent for PROGRESS */
    const char *urc_prefix;
    int (*parse_urc)(const char *line, size_t len, int *percent);
};

enum {
    MK_FOTA_URC_OTHER = 0,
    MK_FOTA_URC_START,    /* the module started updating */
    MK_FOTA_URC_PROGRESS, /* *percent done */
    MK_FOTA_URC_SUCCESS,  /* updated, will reset */
    MK_FOTA_URC_FAILED,   /* update failed, will reset */
};

/* ---------------------------------------------------------------------------------- */
/* The job                                                                             */

enum mk_fota_ev_kind {
    MK_FOTA_EV_PHASE,    /* phase changed: text = phase name */
    MK_FOTA_EV_TRANSFER, /* done/total bytes of the delta on the module */
    MK_FOTA_EV_UPDATE,   /* the module reports percent of its update */
    MK_FOTA_EV_NOTE,     /* something the user should know (text) */
};

struct mk_fota_event {
    enum mk_fota_ev_kind kind;
    const char *text; /* phase name or note; valid during the callback */
    uint64_t done, total;
    int percent;
};

/*
 * What the caller provides. verify_sig: NULL when no public key is configured (the
 * signature is then not checked). reopen: reopen the port by path after the module
 * rebooted and sync the AT channel (AT → OK, ATE0) before deadline_ms on the channel's
 * clock: MK_OK, MK_E_HANGUP (it went away again), MK_E_TIMEOUT. power_cycle: the
 * configured hard power-cycle command (NULL: none); it returns when power is back on.
 * progress: may be NULL.
 */
struct mk_fota_hooks {
    mk_fota_verify_fn verify_sig;
    enum mk_err (*reopen)(void *ctx, uint64_t deadline_ms);
    enum mk_err (*power_cycle)(void *ctx);
    void (*progress)(void *ctx, const struct mk_fota_event *ev);
    void *ctx;
};

#define MK_FOTA_BUF_MIN 10240u /* work buffer: one SIM7000 chunk (AT+CFSWFILE limit) */

struct mk_fota_config {
    struct mk_at_chan *chan;
    const struct mk_fota_store *store;
    const struct mk_fota_hooks *hooks;
    uint8_t *buf; /* work buffer, >= MK_FOTA_BUF_MIN; also the chunk size cap */
    size_t buf_cap;
    const char *package_path;   /* stored in the journal (for resume by path), may be NULL */
    bool require_signature;     /* refuse unsigned packages (needs hooks->verify_sig) */
    bool push_only;             /* never let the module fetch the manifest's URL */
    size_t chunk_max;           /* 0: the method's maximum (and buf_cap) */
    uint32_t line_rate_bps;     /* serial rate, for chunk windows; 0: assume 115200 */
    uint32_t reboot_timeout_ms; /* per wait for the module to come back; 0: 300 s */
    uint32_t journal_every;     /* chunks between journal writes; 0: 8 */
};

/* Statistics of one run, for the caller's report. */
struct mk_fota_stats {
    bool resumed;          /* a journal of an unfinished job was continued */
    uint64_t resumed_from; /* module offset the transfer continued from */
    uint64_t bytes_sent;   /* delta bytes written to the module in this run */
    uint32_t chunks_sent;
    uint32_t applies_sent; /* apply commands sent in this run */
    uint32_t reconnects;   /* port reopened after a hang-up in this run */
    uint32_t power_cycles; /* hard power cycles run in this run */
    bool already;          /* the module already ran the target revision */
    bool fetched;          /* the module fetched the delta from the URL */
};

#define MK_FOTA_MAX_URCS 48

/* The job's state; caller-owned, treat as private except journal, stats, msg, id. */
struct mk_fota_job {
    struct mk_fota_config cfg;
    const struct mk_fota_pkg *pkg;
    const struct mk_fota_target_ops *ops;
    struct mk_fota_journal journal;
    struct mk_fota_stats stats;
    struct mk_modem_id id;     /* the module as last identified */
    char msg[MK_FOTA_MSG_CAP]; /* outcome in words: what was expected, what was found */
    /* private */
    bool fresh;
    int upd_event; /* last MK_FOTA_URC_* seen */
    int upd_percent;
    bool urc_activity;
    uint64_t module_size; /* last size of the module's copy */
    struct mk_at_urc urcs[MK_FOTA_MAX_URCS];
    size_t n_urcs;
    char jtext[2048]; /* journal encoding buffer */
};

/*
 * Runs (or resumes) the update of the module on cfg->chan with pkg (opened with
 * mk_fota_pkg_open; its reader must stay valid). The journal keyed by the package
 * identity is loaded first: an unfinished job is continued from where the module is,
 * a finished one is started afresh.
 *
 * Order: signature (when a verifier is configured; required with require_signature),
 * delta size and SHA-256, then on the module: model, running revision (a module already
 * on the target succeeds at once), free space — all before a byte of the delta is sent.
 * Then the transfer (resumed from the size the module reports), the apply command
 * (journaled as possibly sent before it is written), the reboot(s) with their URCs,
 * and the check of the new revision; a boot loop or a module that does not come back
 * gets the power-cycle hook, as does a manifest with "hard-power-cycle".
 *
 * Returns MK_OK (journal result 1, final), a refusal or failure (final, with the LwM2M
 * result of mk_fota_result_for() and job->msg saying what was expected and found:
 * MK_E_FOTA_MODEL, _SOURCE, _SPACE, _SIGNATURE, _INTEGRITY, _FAILED, _VERSION,
 * _NOT_BACK, MK_E_BOOTLOOP, MK_E_MANIFEST, MK_E_INVAL for a configuration that cannot
 * do what the package needs), or a link error (MK_E_HANGUP, MK_E_TIMEOUT, MK_E_IO) after
 * reconnecting failed: the job is then NOT final and a later run resumes it.
 * Journal write failures are returned as they are (the job stops rather than run on
 * without a record).
 */
enum mk_err mk_fota_run(struct mk_fota_job *job, const struct mk_fota_config *cfg,
                        const struct mk_fota_pkg *pkg);

/* The id for journal lookups is pkg->id_hex. */

#ifdef __cplusplus
}
#endif

#endif
