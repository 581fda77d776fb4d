/*
 * The AT channel.
 *
 * Two layers:
 *
 * 1. struct mk_at, a sans-I/O engine. Bytes from the module go in with mk_at_feed(),
 *    bytes for the module come out of mk_at_tx_peek()/mk_at_tx_consume(), time goes in
 *    as now_ms. It never allocates, never blocks, never touches an OS. It handles:
 *      - final results OK, ERROR, +CME ERROR: <n|text>, +CMS ERROR: <n>, NO CARRIER,
 *        BUSY, NO ANSWER, NO DIALTONE; intermediate lines go to the running command;
 *      - command echo (ATE1), also split over several reads or interleaved with URCs;
 *      - an always-active URC router (prefix table), between a command's echo and its
 *        final result as well as while no command runs;
 *      - "> " prompts (no line ending after them) and the SIM7000 "DOWNLOAD" prompt,
 *        after which exactly data_len raw bytes are sent;
 *      - length-counted raw reads started by a URC handler (mk_at_read_raw): after
 *        "+CMQTTRXPAYLOAD: 0,N" the next N bytes are payload, whatever they contain;
 *      - two-phase commands: "OK" now, the real result later as a URC such as
 *        "+CMQTTCONNECT: 0,0", matched by prefix and client index, in either order
 *        relative to the final result, each phase with its own deadline;
 *      - per-command deadlines; after a timeout the channel resynchronises ("AT" until
 *        "OK" and a quiet gap) before the next command is sent;
 *      - lines longer than the line buffer are reported (an "overflow" trace note and
 *        result.overflow of the running command) and skipped up to the next CR/LF; NUL
 *        bytes are dropped outside raw reads; binary garbage never crashes or wedges it;
 *      - with echo on (ATE1) SIMCom modules also echo the data sent after a prompt
 *        (seed 001, SIM7600M21-A_V1.1, AT+CCERTDOWN): that echo is matched byte for byte
 *        against the data, so data that contains "OK" can never end the command early.
 *
 * 2. struct mk_at_chan, a blocking convenience over the engine: it owns an io and a
 *    clock and runs one command to completion with mk_at_exec(), sleeping through the
 *    io's wait op. It is portable (no OS calls of its own); on an MCU the io's wait op
 *    is where the main loop's other work runs.
 *
 * Context: URC callbacks and raw-read callbacks run synchronously inside mk_at_feed()
 * (and so inside mk_at_exec()/mk_at_pump()). They must not submit or execute commands;
 * they record what happened and let the caller act after the call returns.
 */
#ifndef MODEMKIT_AT_H
#define MODEMKIT_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/clock.h"
#include "modemkit/err.h"
#include "modemkit/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the running command ended (the module's final result code). */
enum mk_at_final {
    MK_AT_FINAL_NONE = 0, /* no final result (timeout, hangup) */
    MK_AT_FINAL_OK,
    MK_AT_FINAL_ERROR,
    MK_AT_FINAL_CME,        /* +CME ERROR: ... */
    MK_AT_FINAL_CMS,        /* +CMS ERROR: ... */
    MK_AT_FINAL_NO_CARRIER,
    MK_AT_FINAL_BUSY,
    MK_AT_FINAL_NO_ANSWER,
    MK_AT_FINAL_NO_DIALTONE,
};

/* What the module must print before the command's data is sent. */
enum mk_at_prompt {
    MK_AT_PROMPT_NONE = 0,
    MK_AT_PROMPT_GT,       /* "> " or ">" at the start of a line, no CR/LF after it */
    MK_AT_PROMPT_DOWNLOAD, /* a "DOWNLOAD" line (SIM7000 AT+CFSWFILE) */
};

/* Command flags. */
#define MK_AT_F_SECRET_ARGS 0x01u /* trace shows the command with quoted args redacted */
#define MK_AT_F_SECRET_DATA 0x02u /* trace shows "<N bytes redacted>" for the data */
#define MK_AT_F_NO_RESYNC 0x04u   /* a timeout of this command does not trigger resync */

#define MK_AT_URC_LINE_CAP 160    /* bytes kept of the completion URC line */
#define MK_AT_CME_TEXT_CAP 64     /* bytes kept of a textual +CME ERROR */
#define MK_AT_MAX_URC_ARGS 6

/*
 * One command. The struct, its text, data and buffers must stay valid and unchanged
 * until the command completes (mk_at_poll() returned MK_DONE or mk_at_exec() returned).
 */
struct mk_at_cmd {
    const char *text;      /* e.g. "AT+CSQ", without CR or LF; the engine appends "\r" */
    uint32_t timeout_ms;   /* deadline for the final result, from submission; must be > 0 */

    /* Data sent after the prompt (MK_AT_PROMPT_GT or _DOWNLOAD): exactly data_len bytes. */
    enum mk_at_prompt prompt;
    const uint8_t *data;
    size_t data_len;

    /*
     * Intermediate lines are those that arrive between submission and the final result
     * and are not URCs (see the routing rules below). Each is passed to on_line if set,
     * and appended (newline-separated, NUL-terminated) to resp if set. A line that does
     * not fit in resp sets result.resp_truncated; the rest is still delivered to on_line.
     */
    void (*on_line)(void *user, const char *line, size_t len);
    void *user;
    char *resp;
    size_t resp_cap;

    /*
     * Lines starting with resp_prefix are always this command's (never URCs). When NULL
     * it is derived from text: "AT+CSQ" and "AT+CSQ?" and "AT+CSQ=..." give "+CSQ:"
     * (also for $ ! ^ % # extended commands; basic commands such as "ATI" get none).
     * "" means no prefix rule.
     */
    const char *resp_prefix;

    /*
     * Two-phase completion: when urc_prefix is set (e.g. "+CMQTTCONNECT:"), the command
     * is complete only when both the final result and a URC line starting with
     * urc_prefix have arrived, in either order. When urc_index >= 0 the URC's first
     * numeric field must equal it (the CMQTT client index); its next field is the
     * result code. When urc_index < 0, the URC's first field is the result code.
     * A final result other than OK completes the command at once (the URC, if it came
     * first, is still reported). urc_timeout_ms counts from the final OK (0: timeout_ms).
     * A line that starts with urc_prefix but carries another index (client 1's URC
     * while client 0's command runs) is never this command's: it goes to the router.
     */
    const char *urc_prefix;
    int urc_index;
    uint32_t urc_timeout_ms;

    unsigned flags; /* MK_AT_F_* */
};

/* The outcome of one command. */
struct mk_at_result {
    /*
     * MK_OK, MK_E_AT_*, MK_E_TIMEOUT, MK_E_CANCELLED, MK_E_HANGUP (mk_at_exec), ...
     * It reflects the final result only: a two-phase URC's code is left in urc_code
     * for the driver to map (OK + "+CMQTTCONNECT: 0,32" is err MK_OK, urc_code 32).
     */
    enum mk_err err;
    enum mk_at_final final;
    int cme;                  /* +CME/+CMS number, or -1 when absent or textual */
    char cme_text[MK_AT_CME_TEXT_CAP]; /* textual +CME ERROR ("SIM busy"), else "" */
    size_t resp_len;          /* bytes written to cmd->resp (excluding the NUL) */
    bool resp_truncated;
    bool overflow;            /* an over-long line was skipped during this command */

    /* Two-phase. urc_code is the result code field (see urc_index), -1 if none/not seen. */
    bool urc_seen;
    int urc_code;
    long urc_args[MK_AT_MAX_URC_ARGS]; /* the URC's leading numeric fields, in order */
    size_t urc_nargs;
    char urc_line[MK_AT_URC_LINE_CAP];
    bool timeout_in_urc;      /* MK_E_TIMEOUT while waiting for the URC (OK had come) */
};

/*
 * URC router entry: a line starting with prefix (e.g. "+CMQTTRXSTART:" or "RDY") is
 * passed to cb, unless it belongs to the running command (resp_prefix or urc_prefix
 * match). line is NUL-terminated, valid during the call only. An entry with an empty
 * prefix "" matches every line that no other rule claimed (catch-all). The first
 * matching entry wins.
 *
 * Routing of a received line while a command runs (between sending it and its final
 * result): its echo is consumed; a final result ends it; (1) urc_prefix (+ index) is
 * the completion URC; (2) resp_prefix is an intermediate line; (3) a table entry gets
 * it; (4) anything else is an intermediate line. With no command running (or after the
 * final OK of a two-phase command): a table entry, else a stale final result is dropped
 * (traced), else the catch-all, else it is dropped (traced).
 */
struct mk_at_urc {
    const char *prefix;
    void (*cb)(void *user, const char *line, size_t len);
    void *user;
};

enum mk_at_trace_dir {
    MK_AT_TRACE_TX,    /* command text or data sent */
    MK_AT_TRACE_RX,    /* a line received (or the echo of the data) */
    MK_AT_TRACE_RAW,   /* raw bytes received (length-counted read) */
    MK_AT_TRACE_NOTE,  /* engine note: "echo", "prompt", "overflow", "resync", ... */
};

/*
 * Notes are short fixed strings. "done" is emitted at the moment a command completes
 * (inside mk_at_feed() or mk_at_poll()), before any later line is routed, so a trace
 * gives the exact order of completions and URCs even when both arrive in one read.
 */

/*
 * Trace hook, for -v output. The engine redacts secret arguments and data itself
 * (MK_AT_F_SECRET_*), including their echo, so a trace is safe to print.
 */
typedef void (*mk_at_trace_cb)(void *user, enum mk_at_trace_dir dir, const char *text,
                               size_t len);

struct mk_at_config {
    char *line_buf;     /* line assembly buffer; lines longer than line_cap-1 overflow */
    size_t line_cap;    /* >= 64; 1100 holds a 1024-byte topic line */
    const struct mk_at_urc *urcs; /* router table, may be NULL */
    size_t n_urcs;
    mk_at_trace_cb trace;
    void *trace_user;
    uint32_t resync_timeout_ms; /* per "AT" probe during resync; 0 = 500 ms */
    uint32_t resync_quiet_ms;   /* quiet gap that ends a resync; 0 = 100 ms */
};

#define MK_AT_TX_CAP 600 /* longest command line (text + CR) the engine accepts */

/*
 * The engine. Treat all fields as private; the size is fixed so callers can own it.
 * Output is zero-copy: the command text and data are sent from the caller's memory.
 */
struct mk_at {
    struct mk_at_config cfg;
    /* tokenizer */
    size_t line_len;
    bool line_overflow;
    bool last_cr;       /* the previous byte was CR: a LF right after it ends nothing */
    bool skip_space;    /* a '>' prompt was just seen: one space after it belongs to it */
    bool redact_rx;     /* re-parsing secret data that was not echoed verbatim */
    size_t raw_left;
    void (*raw_cb)(void *user, const uint8_t *data, size_t len, bool last);
    void *raw_user;
    /* running command */
    const struct mk_at_cmd *cmd;
    struct mk_at_result res;
    int phase;
    bool have_final;    /* two-phase: the final OK came, the URC has not */
    bool prompted;      /* the prompt came: the data is due */
    bool echo_seen;     /* (part of) the command's echo came back: echo is on */
    bool data_echo;     /* matching the module's echo of the data byte by byte */
    size_t text_len;
    size_t echo_off;    /* bytes of the command echo matched so far */
    size_t data_echo_off;
    size_t out_off;     /* bytes of the current output (probe, text+CR, data) sent */
    uint64_t submit_ms;
    uint64_t deadline_ms;
    char resp_prefix[32];
    /* resync after timeout */
    bool need_resync;
    int resync_state;
    uint64_t resync_deadline_ms;
    unsigned resync_tries;
    /* URC tables added after init (drivers), searched after cfg.urcs */
    struct {
        const struct mk_at_urc *urcs;
        size_t n;
    } extra_urcs[4];
};

/* Initialise. cfg is copied; its buffers and table must outlive the engine. */
void mk_at_init(struct mk_at *at, const struct mk_at_config *cfg);

/*
 * Adds a URC table on top of the configured one, so that each layer (the MQTT driver,
 * the FOTA driver, a tool's generic handler) registers its own prefixes without owning
 * the channel's configuration. Tables are searched in the order added, after
 * cfg.urcs; catch-all ("") entries only match when no prefix entry of any table did.
 * The table must stay valid until removed. MK_E_NOSPC when 4 tables are already added,
 * MK_E_EXISTS if this table is already there.
 */
enum mk_err mk_at_add_urcs(struct mk_at *at, const struct mk_at_urc *urcs, size_t n);

/* Removes a table added with mk_at_add_urcs(); no effect if it is not there. */
void mk_at_remove_urcs(struct mk_at *at, const struct mk_at_urc *urcs);

/*
 * Start a command. MK_E_BUSY if one is running (or its result was not polled yet),
 * MK_E_NOSPC if the text is longer than MK_AT_TX_CAP-1, MK_E_INVAL for a NULL or empty
 * text, a text containing CR or LF, timeout_ms 0, or data without a prompt type. When
 * a resync is due, it runs first (its bytes come out of mk_at_tx_peek() before the
 * command's) and the command's deadline counts from when it is actually sent; the
 * resync itself gives up after timeout_ms (result MK_E_TIMEOUT, command not sent).
 * The command counts as sent once all of its text and CR went through
 * mk_at_tx_consume(): a final result that arrives before that is a stale one.
 */
enum mk_err mk_at_submit(struct mk_at *at, const struct mk_at_cmd *cmd, uint64_t now_ms);

/* Feed bytes received from the module. Any length, any content, any split. */
void mk_at_feed(struct mk_at *at, const uint8_t *data, size_t len, uint64_t now_ms);

/*
 * Check deadlines and report completion. Returns MK_DONE exactly once per submitted
 * command, with *res filled in; MK_PENDING otherwise (also when no command runs).
 */
enum mk_step mk_at_poll(struct mk_at *at, uint64_t now_ms, struct mk_at_result *res);

/*
 * Bytes waiting to be written to the module: *data points at them (valid until the
 * next call into the engine). Returns their number; 0 when nothing is due. After
 * writing n of them, call mk_at_tx_consume(n).
 */
size_t mk_at_tx_peek(struct mk_at *at, const uint8_t **data);
void mk_at_tx_consume(struct mk_at *at, size_t n, uint64_t now_ms);

/* Earliest deadline the engine is waiting for, or UINT64_MAX when idle. */
uint64_t mk_at_next_deadline(const struct mk_at *at);

/* True while a command (or a resync) is in progress. */
bool mk_at_busy(const struct mk_at *at);

/*
 * From a URC callback: deliver the next n received bytes raw to cb (in one or more
 * pieces; last is true on the final piece), bypassing line parsing, then resume
 * parsing lines. The raw bytes start after the URC line's CR LF (a LF right after the
 * line's CR is not payload). A CR/LF directly after the raw bytes is treated as an
 * empty line. n == 0 calls cb(user, NULL, 0, true) at once.
 */
void mk_at_read_raw(struct mk_at *at, size_t n,
                    void (*cb)(void *user, const uint8_t *data, size_t len, bool last),
                    void *user);

/*
 * Abort the running command: mk_at_poll() then reports it with MK_E_CANCELLED. A resync
 * is scheduled if the module may still answer it (text sent, final result not seen).
 */
void mk_at_cancel(struct mk_at *at, uint64_t now_ms);

/*
 * After the port was reopened (module rebooted): drop partial input, a raw read in
 * progress (its callback is not called again) and any resync. A running command stays.
 */
void mk_at_reset_input(struct mk_at *at);

/* ---- argument parsing helpers ---- */

/* A view into a line: not NUL-terminated, valid as long as the line is. */
struct mk_at_arg {
    const char *p;
    size_t len;
    bool quoted; /* the field was in double quotes; p/len exclude the quotes */
};

/*
 * Split the fields after prefix (e.g. "+CMQTTRXSTART:") on commas, honouring double
 * quotes, skipping spaces around fields. Returns the number of fields stored in args
 * (at most max; fields after the max-th are ignored), 0 when nothing follows the
 * prefix, or -1 when line does not start with prefix.
 */
int mk_at_split(const char *line, size_t len, const char *prefix, struct mk_at_arg *args,
                size_t max);

/*
 * Parse a decimal (optionally negative) field, quoted or not. MK_E_FORMAT if it is not
 * one or does not fit in a long.
 */
enum mk_err mk_at_arg_long(const struct mk_at_arg *a, long *out);

/* ---- blocking channel ---- */

struct mk_at_chan {
    struct mk_at at;
    const struct mk_io *io;
    const struct mk_clock *clock;
    enum mk_err io_err; /* sticky error from the io (MK_E_HANGUP after a reboot) */
};

/* Bind an engine to an io and a clock. cfg as for mk_at_init(). */
void mk_at_chan_init(struct mk_at_chan *ch, const struct mk_at_config *cfg,
                     const struct mk_io *io, const struct mk_clock *clock);

/*
 * Run one command to completion: submit, write, read and feed (URCs are dispatched on
 * the way), until done or a deadline. Returns res->err (MK_OK on success). res may be
 * NULL when only the error matters. An io error (MK_E_HANGUP after a reboot) ends the
 * command with that error and sticks: later calls return it at once until
 * mk_at_chan_set_io().
 */
enum mk_err mk_at_exec(struct mk_at_chan *ch, const struct mk_at_cmd *cmd,
                       struct mk_at_result *res);

/* Convenience: run text with timeout_ms, collecting intermediate lines into resp. */
enum mk_err mk_at_simple(struct mk_at_chan *ch, const char *text, uint32_t timeout_ms,
                         char *resp, size_t resp_cap, struct mk_at_result *res);

/*
 * With no command running: read and feed whatever arrives for up to wait_ms (URCs are
 * dispatched), returning early as soon as at least one byte was processed and no more
 * is immediately available. MK_OK, MK_E_BUSY if a command is running, or the io's
 * (sticky) error (MK_E_HANGUP).
 */
enum mk_err mk_at_pump(struct mk_at_chan *ch, uint32_t wait_ms);

/* Replace the io after a reopen; clears io_err and partial input. */
void mk_at_chan_set_io(struct mk_at_chan *ch, const struct mk_io *io);

#ifdef __cplusplus
}
#endif

#endif
