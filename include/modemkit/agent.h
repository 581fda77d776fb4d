/*
 * The data-logging agent core (modemd), portable to an MCU main loop.
 *
 * What it does (seed 000: a remote logger with a SIM7600 that sends a few data points an
 * hour over the module's MQTT and receives system parameters back; seed 002: a fleet
 * service that must hear the result of every firmware update after the module reboots):
 *
 *   - takes samples on a schedule (or as a source delivers them), gives each a sequence
 *     number that only ever grows (also across restarts) and a timestamp, and appends it
 *     to a durable queue before anything else happens to it;
 *   - publishes the queue's oldest sample at QoS 1 and removes it only after the broker's
 *     PUBACK (the link's publish returning MK_OK): nothing is lost across broker outages,
 *     module reboots or a killed agent; a redelivered duplicate carries the same "seq";
 *   - bounds the queue (bytes and/or samples) with a stated drop policy and counts drops;
 *   - validates parameter messages (known keys, types, ranges; all keys or none), applies
 *     them through a hook, persists them, and acknowledges every message on a reply topic;
 *   - runs firmware update jobs through an updater (the FOTA engine on a host), publishes
 *     their progress and LwM2M result, keeps a final result until the broker has it, and
 *     never runs a job twice;
 *   - publishes a retained status (queue depth, drops, firmware, signal, last error).
 *
 * Everything outside comes in through small interfaces (storage, sample source, message
 * link, updater, hooks, clock), so unit tests drive it with fakes and a virtual clock and
 * an MCU supplies flash storage and its MQTT client. No malloc, no printf, no OS calls.
 *
 * Threading: one thread. mk_agent_sample_poll() and mk_agent_on_message() only touch the
 * queue's tail and the inbox, so they may be called from inside a blocking link call (the
 * io's wait op, the MQTT client's on_message); everything else runs from mk_agent_step().
 */
#ifndef MODEMKIT_AGENT_H
#define MODEMKIT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/clock.h"
#include "modemkit/err.h"
#include "modemkit/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------- */
/* Sizes                                                                               */

#define MK_AGENT_VALUE_MAX   768u  /* one sample's JSON value, bytes */
#define MK_AGENT_MSG_MAX     2048u /* any message the agent sends or accepts, bytes */
#define MK_AGENT_INBOX_CAP   4096u /* received messages waiting for mk_agent_step() */
#define MK_AGENT_OUTBOX_CAP  4096u /* parameter replies waiting for the link */
#define MK_AGENT_MAX_PARAMS  16u
#define MK_AGENT_PNAME_MAX   32u  /* parameter name, bytes */
#define MK_AGENT_PSTR_MAX    64u  /* decoded string parameter value, bytes */
#define MK_AGENT_PVAL_CAP    136u /* a value as JSON text (quoted, escaped string) + NUL */
#define MK_AGENT_JSON_TOKS   96u
#define MK_AGENT_JOB_HISTORY 8u  /* finished job ids remembered against re-runs */
#define MK_AGENT_ID_CAP      65u /* job id / correlation id, bytes + NUL */
#define MK_AGENT_PATH_CAP    256u
#define MK_AGENT_TEXT_CAP    320u  /* reasons, details, last error */
#define MK_AGENT_RECORD_CAP  3072u /* the "params" and "job" records, bytes */

/* ---------------------------------------------------------------------------------- */
/* Storage                                                                             */

/*
 * Durable storage: one append-only byte log (the sample queue) and small named records
 * ("params", "job") replaced atomically. A host implements it with files (append +
 * fsync; temp file + fsync + rename + fsync of the directory), an MCU with a flash file
 * system or two slots per record.
 *
 *   log_read     copies up to cap bytes at off into buf, *n = bytes copied (fewer than
 *                cap only at the end of the log; 0 at or past it).
 *   log_append   appends len bytes and returns only when they are durable. A failure may
 *                leave part of them: the queue then rewrites the log before appending
 *                again (every record carries a CRC, a torn tail is never trusted).
 *   rewrite_*    build a replacement log: begin, write (any number of times), end with
 *                commit true to replace the log atomically (after a crash either the old
 *                or the new log is there, never a mix) or false to throw it away.
 *   save/load    a named record, replaced atomically; load gives MK_E_NOENT when there is
 *                none and MK_E_NOSPC when it is larger than cap.
 */
struct mk_agent_storage {
    enum mk_err (*log_read)(void *ctx, uint64_t off, void *buf, size_t cap, size_t *n);
    enum mk_err (*log_append)(void *ctx, const void *data, size_t len);
    enum mk_err (*rewrite_begin)(void *ctx);
    enum mk_err (*rewrite_write)(void *ctx, const void *data, size_t len);
    enum mk_err (*rewrite_end)(void *ctx, bool commit);
    enum mk_err (*save)(void *ctx, const char *name, const void *data, size_t len);
    enum mk_err (*load)(void *ctx, const char *name, void *buf, size_t cap, size_t *len);
    void *ctx;
};

/* ---------------------------------------------------------------------------------- */
/* The sample queue (usable on its own)                                                */

enum mk_agent_drop {
    MK_AGENT_DROP_OLDEST = 0, /* a full queue drops its oldest sample for the new one */
    MK_AGENT_DROP_NEWEST,     /* a full queue refuses the new sample */
};

/*
 * Record framing in the log (little-endian):
 *   0xA7, type, body length (u16), body, CRC-32 (zlib) over type..body
 *   'H' next_seq u64, done_seq u64, dropped u64   first record of a rewritten log
 *   'S' seq u64, ts_ms u64, value (JSON text)     a sample
 *   'A' seq u64                                   samples up to seq were delivered
 *   'D' seq u64, dropped u64                      samples up to seq were dropped; total
 * Samples leave the queue in sequence order only, so "done up to seq" is all it needs.
 */
#define MK_AGENT_REC_HDR 4u
#define MK_AGENT_REC_MAX (MK_AGENT_REC_HDR + 16u + MK_AGENT_VALUE_MAX + 4u)

struct mk_agent_queue_cfg {
    const struct mk_agent_storage *st;
    uint64_t max_bytes;   /* bound on the bytes of queued samples (records); 0 = none */
    uint64_t max_samples; /* bound on queued samples; 0 = none */
    enum mk_agent_drop drop;
    uint64_t compact_bytes; /* rewrite the log when delivered records take more than
                               this; 0 = 64 KiB */
};

struct mk_agent_queue {
    struct mk_agent_queue_cfg cfg;
    uint64_t tail;                 /* end of the valid log */
    uint64_t head_off;             /* offset of the oldest queued sample (== tail when empty) */
    uint64_t head_seq;             /* its sequence number (0 when empty) */
    uint64_t last_seq;             /* highest sequence number ever given (0: none yet) */
    uint64_t done_seq;             /* every sample up to here was delivered or dropped */
    uint64_t count;                /* queued samples */
    uint64_t bytes;                /* bytes of their records */
    uint64_t dropped;              /* dropped by the bound, over the queue's whole life */
    uint64_t acked;                /* delivered since open */
    uint64_t torn;                 /* bytes of torn or corrupt tail dropped at open */
    bool need_rewrite;             /* an append failed: the tail is unknown until a rewrite */
    uint8_t rec[MK_AGENT_REC_MAX]; /* record buffer */
};

/* A queued sample. value points into the queue's record buffer: valid until the next
 * call on the queue. */
struct mk_agent_sample {
    uint64_t seq;
    uint64_t ts_ms;
    const char *value;
    size_t len;
};

/*
 * Opens the queue: scans the whole log (records after a torn or corrupt one are not
 * trusted and are dropped by an immediate rewrite), restores the sequence counter, the
 * drop count and the oldest undelivered sample. Errors: storage errors; MK_E_INVAL for a
 * configuration without storage.
 */
enum mk_err mk_agent_queue_open(struct mk_agent_queue *q, const struct mk_agent_queue_cfg *cfg);

/*
 * Appends a sample with the next sequence number (returned in *seq) and returns when it
 * is durable. value is the sample's JSON text (1..MK_AGENT_VALUE_MAX bytes, not checked
 * here). When the queue is full: DROP_OLDEST drops the oldest sample first (a 'D' record;
 * that sample may still be in flight and reach the broker); DROP_NEWEST refuses with
 * MK_E_QUEUE_FULL, counting it as dropped (the sequence number is not used). MK_E_NOSPC
 * when one sample alone exceeds the byte bound or the value is too long.
 */
enum mk_err mk_agent_queue_push(struct mk_agent_queue *q, uint64_t ts_ms, const char *value,
                                size_t len, uint64_t *seq);

/* The oldest queued sample: MK_OK, or MK_E_NOENT when the queue is empty. */
enum mk_err mk_agent_queue_peek(struct mk_agent_queue *q, struct mk_agent_sample *s);

/*
 * The broker acknowledged the sample seq: every sample up to seq leaves the queue (an
 * 'A' record). Acks for samples already gone (dropped meanwhile) change nothing. May
 * rewrite the log to reclaim space.
 */
enum mk_err mk_agent_queue_ack(struct mk_agent_queue *q, uint64_t seq);

/* ---------------------------------------------------------------------------------- */
/* Parameters                                                                          */

enum mk_agent_ptype {
    MK_AGENT_PT_INT = 1, /* JSON integer, int64 range */
    MK_AGENT_PT_NUMBER,  /* any JSON number */
    MK_AGENT_PT_BOOL,
    MK_AGENT_PT_STRING, /* UTF-8 without control characters, max_len bytes decoded */
};

/*
 * A parameter the agent accepts. min/max/def are JSON texts ("0", "2.5", "true",
 * "\"auto\""); min and max (NULL = no bound) apply to numbers. The strings must outlive
 * the agent. The parameter "sample_interval_ms" (type int) sets the sampling interval.
 */
struct mk_agent_param_def {
    const char *name;
    enum mk_agent_ptype type;
    const char *min, *max;
    const char *def; /* NULL: no value until one is set */
    size_t max_len;  /* strings: 1..MK_AGENT_PSTR_MAX (0 = MK_AGENT_PSTR_MAX) */
};

#define MK_AGENT_PARAM_INTERVAL "sample_interval_ms"

/* One parameter's current value as JSON text ("1200", "true", "\"auto\""). */
struct mk_agent_pval {
    bool set;
    char text[MK_AGENT_PVAL_CAP];
};

/* ---------------------------------------------------------------------------------- */
/* Update jobs                                                                         */

enum mk_agent_job_phase {
    MK_AGENT_JOB_NONE = 0, /* no job */
    MK_AGENT_JOB_ACCEPTED, /* recorded, the updater has not been started for it */
    MK_AGENT_JOB_RUNNING,  /* the updater was started (it may have done anything) */
    MK_AGENT_JOB_DONE,     /* final result known, not yet acknowledged by the broker */
    MK_AGENT_JOB_REPORTED, /* final result acknowledged (PUBACK) */
};

/* A job as the agent keeps it (persisted as the "job" record). */
struct mk_agent_job {
    char id[MK_AGENT_ID_CAP];
    char package[MK_AGENT_PATH_CAP]; /* local package path, or "" */
    char url[MK_AGENT_PATH_CAP];     /* package URL, or "" */
    /* optional expectations from the job message ("" = none) */
    char want_model[64];
    char want_source[128];
    char want_target[128];
    char want_package[MK_AGENT_ID_CAP]; /* package identity (hex SHA-256) */
    /* progress and outcome */
    enum mk_agent_job_phase phase;
    uint32_t attempts; /* updater runs started, over all agent restarts */
    int state;         /* LwM2M /5 state 0..3 */
    int result;        /* LwM2M /5 update result 0..11 */
    char status[16];   /* "IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED" */
    char pkg_id[MK_AGENT_ID_CAP];
    char source[128], target[128]; /* from the package */
    char detail[MK_AGENT_TEXT_CAP];
    uint64_t ts_ms; /* when the outcome was recorded */
};

/* What the updater found in a package (mk_agent_updater.open). */
struct mk_agent_pkg_info {
    char id[MK_AGENT_ID_CAP];
    char model[64];
    char source[128];
    char target[128];
};

/* The outcome of one updater run. */
struct mk_agent_job_out {
    bool final; /* false: interrupted (link lost...), the next run resumes the job */
    int state;  /* LwM2M state after the run */
    int result; /* LwM2M result: 1 success, 2, 4..11 failures */
    enum mk_err err;
    char detail[MK_AGENT_TEXT_CAP];
};

struct mk_agent;

/*
 * Runs update jobs (a host: the package file and mk_fota_run; an MCU: its own store).
 *   open     locates the package of job (path or URL), checks it can be read and fills
 *            info; why says what went wrong (MK_E_NOENT, MK_E_MANIFEST, ...). Called
 *            before every run; nothing on the module changes.
 *   run      runs or resumes the job to its end; blocking. resume is true when an earlier
 *            run of this job was started (the agent restarted meanwhile): a run that
 *            finds the job already finished (its journal final) reports that outcome
 *            without touching the module. Progress goes to mk_agent_job_progress().
 *   reported the final result reached the broker (optional: mark the journal).
 */
struct mk_agent_updater {
    enum mk_err (*open)(void *ctx, const struct mk_agent_job *job, struct mk_agent_pkg_info *info,
                        char *why, size_t why_cap);
    void (*run)(void *ctx, struct mk_agent *agent, const struct mk_agent_job *job, bool resume,
                struct mk_agent_job_out *out);
    void (*reported)(void *ctx, const struct mk_agent_job *job);
    void *ctx;
};

/* ---------------------------------------------------------------------------------- */
/* Sources, link, hooks                                                                */

/*
 * Where samples come from. sample(): scheduled sources (a command, a synthetic sensor)
 * write one JSON value into buf and set *len; MK_E_NOENT skips this slot. poll(): event
 * sources (a FIFO, a tailed file) return MK_OK with one value when a sample has
 * arrived, MK_E_NOENT when none. Either may be NULL.
 */
struct mk_agent_source {
    enum mk_err (*sample)(void *ctx, uint64_t seq, char *buf, size_t cap, size_t *len);
    enum mk_err (*poll)(void *ctx, char *buf, size_t cap, size_t *len);
    void *ctx;
};

/* What the link knows about the module, for the status message. */
struct mk_agent_link_info {
    char model[64]; /* "" when unknown */
    char fw[128];   /* firmware revision (AT+CGMR) */
    char imei[32];
    int csq; /* AT+CSQ rssi 0..31, 99 unknown, -1 not asked */
};

/*
 * The message link (an MQTT client through the module). publish() returns MK_OK only
 * when the message is delivered as its QoS asks (QoS 1: PUBACK received). up() says
 * whether a publish can be tried now. info() may be NULL. module_changed() (may be NULL)
 * is called after an update job ran: the module rebooted, the link must be built anew.
 */
struct mk_agent_link {
    bool (*up)(void *ctx);
    enum mk_err (*publish)(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                           int qos, bool retain);
    void (*info)(void *ctx, struct mk_agent_link_info *out);
    void (*module_changed)(void *ctx);
    void *ctx;
};

enum mk_agent_log_level {
    MK_AGENT_LOG_ERR = 0,
    MK_AGENT_LOG_WARN,
    MK_AGENT_LOG_INFO,
    MK_AGENT_LOG_DEBUG,
};

/*
 * wall_ms: Unix time in ms for timestamps (0 = unknown). apply: make values (one per
 * parameter definition; changed has bit i set for each parameter i that changed) take
 * effect; MK_OK, or an error with why saying what refused them (the agent then keeps the
 * old values, nothing is persisted). NULL = nothing to apply. log: one line, no newline;
 * may be NULL.
 */
struct mk_agent_hooks {
    uint64_t (*wall_ms)(void *ctx);
    enum mk_err (*apply)(void *ctx, const struct mk_agent *agent,
                         const struct mk_agent_pval *values, uint32_t changed, char *why,
                         size_t why_cap);
    void (*log)(void *ctx, enum mk_agent_log_level level, const char *msg);
    void *ctx;
};

/* ---------------------------------------------------------------------------------- */
/* The agent                                                                           */

struct mk_agent_topics {
    const char *telemetry;     /* samples, QoS 1 */
    const char *params;        /* parameter messages in (subscribed by the link) */
    const char *param_replies; /* acknowledgements out, QoS 1 */
    const char *status;        /* retained status, QoS 1 */
    const char *jobs;          /* job messages in (NULL: no jobs) */
    const char *job_results;   /* job progress and results out, QoS 1 */
};

struct mk_agent_config {
    const struct mk_agent_storage *storage;
    const struct mk_clock *clock; /* monotonic ms */
    const struct mk_agent_source *source;
    const struct mk_agent_link *link;
    const struct mk_agent_updater *updater; /* NULL: job messages are rejected */
    const struct mk_agent_hooks *hooks;
    const struct mk_agent_param_def *params;
    size_t n_params;
    const char *client_id;
    struct mk_agent_topics topics;
    uint32_t interval_ms;            /* sampling interval (a "sample_interval_ms" parameter
                                        overrides it); 0 = only event sources */
    uint64_t sample_limit;           /* stop sampling after this sequence number; 0 = never */
    uint32_t status_interval_ms;     /* periodic status; 0 = 300000 */
    uint32_t retry_min_ms;           /* pause after a failed publish, doubling; 0 = 1000 */
    uint32_t retry_max_ms;           /* cap of that pause; 0 = 30000 */
    uint32_t job_retry_ms;           /* pause before resuming an interrupted job; 0 = 30000 */
    uint32_t job_max_attempts;       /* updater runs of one job before it fails; 0 = 3 */
    bool apply_on_start;             /* run the apply hook with the restored values at init */
    struct mk_agent_queue_cfg queue; /* st is filled from storage */
};

struct mk_agent_stats {
    uint64_t samples; /* taken since start */
    uint64_t missed;  /* schedule slots skipped because the agent was busy */
    uint64_t source_errors;
    uint64_t store_errors; /* samples lost because the storage failed */
    uint64_t published;    /* samples acknowledged by the broker since start */
    uint64_t publish_errors;
    uint64_t params_accepted, params_rejected;
    uint64_t inbox_dropped; /* messages that did not fit the inbox */
    uint64_t replies_dropped;
    uint64_t status_sent;
};

/* The agent. Caller-owned; treat fields as private except through the functions. */
struct mk_agent {
    struct mk_agent_config cfg;
    struct mk_agent_queue q;
    struct mk_agent_stats stats;
    uint64_t start_ms;
    /* schedule */
    uint32_t interval_ms;
    uint64_t next_due_ms;
    uint64_t last_due_ms; /* slot of the last scheduled sample (0: none yet) */
    bool sampling;        /* re-entrancy guard */
    /* parameters */
    struct mk_agent_pval pv[MK_AGENT_MAX_PARAMS];
    struct mk_agent_pval cand[MK_AGENT_MAX_PARAMS];
    int64_t pmin_i[MK_AGENT_MAX_PARAMS], pmax_i[MK_AGENT_MAX_PARAMS];
    double pmin_d[MK_AGENT_MAX_PARAMS], pmax_d[MK_AGENT_MAX_PARAMS];
    /* messages */
    uint8_t inbox[MK_AGENT_INBOX_CAP];
    size_t inbox_len;
    uint8_t outbox[MK_AGENT_OUTBOX_CAP];
    size_t outbox_len;
    /* link and publishing */
    bool link_was_up;
    bool status_due;
    uint64_t next_status_ms;
    uint64_t retry_at_ms;
    uint32_t retry_ms;
    bool held; /* an update job has the module: publish nothing */
    char last_error[MK_AGENT_TEXT_CAP];
    /* jobs */
    struct mk_agent_job job;
    char history[MK_AGENT_JOB_HISTORY][MK_AGENT_ID_CAP];
    uint64_t job_retry_at_ms;
    int job_progress_sent; /* last progress percent published, -1 none */
    bool shutdown;
    /* scratch */
    struct mk_json_tok toks[MK_AGENT_JSON_TOKS];
    char msg[MK_AGENT_MSG_MAX];    /* message being processed */
    char out[MK_AGENT_MSG_MAX];    /* message being built */
    char val[MK_AGENT_VALUE_MAX];  /* sample being taken */
    char rec[MK_AGENT_RECORD_CAP]; /* params / job record text */
    char logbuf[MK_AGENT_TEXT_CAP + 64];
};

/*
 * Initialises the agent: checks the configuration (parameter definitions, topics),
 * opens the queue, restores the parameters (the "params" record over the defaults;
 * invalid stored values are logged and ignored) and the job record, and runs the apply
 * hook once when cfg->apply_on_start. Nothing is published yet. The config and
 * everything it points to must outlive the agent.
 * Errors: MK_E_CONFIG (bad parameter definition or missing topic; logged), storage errors.
 */
enum mk_err mk_agent_init(struct mk_agent *a, const struct mk_agent_config *cfg);

/*
 * Checks parameter definitions as mk_agent_init() would (names, types, bounds, defaults,
 * sample_interval_ms), without storage or a link: for configuration checkers. scratch is
 * any agent struct (overwritten). MK_OK, or MK_E_CONFIG with why.
 */
enum mk_err mk_agent_params_check(struct mk_agent *scratch, const struct mk_agent_param_def *defs,
                                  size_t n, char *why, size_t why_cap);

/*
 * Takes the samples that are due now (scheduled slot, event source) and appends them to
 * the queue. Cheap when nothing is due; safe to call from inside a blocking link call
 * (it never touches the link). Returns the earliest time (monotonic ms) it wants to be
 * called again, UINT64_MAX when never.
 */
uint64_t mk_agent_sample_poll(struct mk_agent *a);

/*
 * A message arrived on a subscribed topic: copied into the inbox for mk_agent_step()
 * (other topics are ignored). Safe from the MQTT client's on_message callback. A message
 * that does not fit (larger than MK_AGENT_MSG_MAX, or the inbox is full) is dropped and
 * counted; a parameter message that is too large is answered "rejected" later.
 */
void mk_agent_on_message(struct mk_agent *a, const char *topic, const uint8_t *payload, size_t len);

/*
 * One round of work that may use the link: received messages (parameters applied and
 * answered, jobs started), due status, pending job results and parameter replies, then
 * queued samples (up to max_publish of them; 0 = 1). Never waits for time to pass.
 * Returns true when more work is ready now (call again), false when the agent waits for
 * time, a message or the link (see mk_agent_next_ms()).
 */
bool mk_agent_step(struct mk_agent *a, unsigned max_publish);

/* Earliest monotonic time at which mk_agent_step() or mk_agent_sample_poll() has work. */
uint64_t mk_agent_next_ms(const struct mk_agent *a);

/*
 * For the updater while it runs: phase ("check", "transfer", "apply", ...) and, for the
 * transfer, percent done. Published to the job-result topic as IN_PROGRESS while the
 * link can still be used (up to the "apply" phase, which is announced as state 3
 * Updating); after it nothing is published until the run ends, because the module goes
 * away under the link.
 */
void mk_agent_job_progress(struct mk_agent *a, const char *phase, int percent);

/* Asks for a status message at the next step (after a reconnect, a change). */
void mk_agent_status_now(struct mk_agent *a);

/*
 * Writes the status JSON into buf (state "online" or "offline", the module, queue depth,
 * drops, counters, last error, uptime, parameters). MK_E_NOSPC if it does not fit.
 */
enum mk_err mk_agent_status_json(struct mk_agent *a, const char *state, char *buf, size_t cap,
                                 size_t *len);

/*
 * Graceful stop: publishes a retained "offline" status when the link is up (best effort)
 * and stops sampling. The queue and records are already durable.
 */
void mk_agent_shutdown(struct mk_agent *a, const char *reason);

/* Records an error for the status message (and logs it at level). */
void mk_agent_note_error(struct mk_agent *a, enum mk_agent_log_level level, const char *what);

/* Index of parameter name, or -1. */
int mk_agent_param_index(const struct mk_agent *a, const char *name);

/*
 * Decoded value of parameter i of values (NULL: the current values) into out (strings
 * unquoted and unescaped, numbers and booleans as their JSON text). MK_E_NOENT when it
 * has no value, MK_E_NOSPC when out is short.
 */
enum mk_err mk_agent_param_text(const struct mk_agent *a, const struct mk_agent_pval *values,
                                size_t i, char *out, size_t cap);

/*
 * The parameters as one JSON object ({"motor_speed":1200,...}) of those with a value;
 * mask selects parameters by bit (UINT32_MAX = all). Used for the params record, the
 * apply file and replies.
 */
enum mk_err mk_agent_params_json(const struct mk_agent *a, const struct mk_agent_pval *pv,
                                 uint32_t mask, char *buf, size_t cap, size_t *len);

const struct mk_agent_stats *mk_agent_stats(const struct mk_agent *a);
const struct mk_agent_queue *mk_agent_queue(const struct mk_agent *a);

/* Names of LwM2M /5 values for messages: "idle", "downloading", ...; "initial", ... */
const char *mk_agent_lwm2m_state_name(int state);
const char *mk_agent_lwm2m_result_name(int result);

#ifdef __cplusplus
}
#endif

#endif
