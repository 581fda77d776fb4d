/*
 * The sans-I/O AT engine: tokenizer, command state, URC router, two-phase commands,
 * prompts and data echo, raw reads, deadlines and resync. See include/modemkit/at.h.
 *
 * Input goes through one of four modes, checked in this order for every byte:
 *   raw read   (mk_at_read_raw)  the next raw_left bytes go to raw_cb untouched;
 *   skip_space                   the optional space of a "> " prompt;
 *   data echo                    after a prompt with echo on, bytes equal to the data
 *                                just sent are the module's echo of it;
 *   lines                        CR or LF ends a line, CR LF counts once, empty lines
 *                                are skipped, NUL bytes are dropped, and a '>' at the
 *                                start of a line is the prompt when one is awaited.
 */
#include "modemkit/at.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "modemkit/str.h"

enum {
    MK_AT_PH_IDLE = 0, /* no command */
    MK_AT_PH_RESYNC,   /* a command waits for the resync to finish */
    MK_AT_PH_SEND,     /* the command's text and CR are being written */
    MK_AT_PH_WAIT,     /* sent; waiting for echo, prompt, lines, final result, URC */
    MK_AT_PH_DONE,     /* complete; mk_at_poll() has not reported it yet */
};

enum {
    MK_AT_RS_PROBE = 0, /* "AT\r" is being written */
    MK_AT_RS_WAIT_OK,   /* written, waiting for a final result */
    MK_AT_RS_QUIET,     /* got one; waiting for a quiet gap with no further result */
};

static const char mk_at_probe[] = "AT\r";
#define MK_AT_PROBE_LEN 3u

/* ---- trace ---- */

static void mk_at_trace(struct mk_at *at, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    if (at->cfg.trace)
        at->cfg.trace(at->cfg.trace_user, dir, text, len);
}

static void mk_at_note(struct mk_at *at, const char *text)
{
    mk_at_trace(at, MK_AT_TRACE_NOTE, text, strlen(text));
}

/*
 * Trace bytes [start, start+len) of the command text. With MK_AT_F_SECRET_ARGS every
 * run of characters inside double quotes becomes at most three '*' (the quote state is
 * taken from the start of the text, so echo pieces cut inside a quoted argument are
 * redacted too). The output is never longer than the input.
 */
static void mk_at_trace_text(struct mk_at *at, enum mk_at_trace_dir dir, size_t start, size_t len)
{
    const char *text = at->cmd->text;
    if (!at->cfg.trace)
        return;
    if (!(at->cmd->flags & MK_AT_F_SECRET_ARGS)) {
        mk_at_trace(at, dir, text + start, len);
        return;
    }
    char buf[MK_AT_TX_CAP];
    size_t o = 0, run = 0;
    bool quoted = false;
    for (size_t i = 0; i < start + len; i++) {
        char c = text[i];
        bool secret = quoted && c != '"';
        if (c == '"')
            quoted = !quoted;
        if (i < start)
            continue;
        if (secret) {
            if (run++ < 3)
                buf[o++] = '*';
        } else {
            run = 0;
            buf[o++] = c;
        }
    }
    mk_at_trace(at, dir, buf, o);
}

static void mk_at_trace_secret(struct mk_at *at, enum mk_at_trace_dir dir, size_t len)
{
    char buf[48];
    struct mk_sb sb;
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_putc(&sb, '<');
    mk_sb_putu(&sb, len);
    mk_sb_puts(&sb, " bytes redacted>");
    mk_at_trace(at, dir, buf, sb.len);
}

/* Trace the command's data (or its echo): "<N bytes redacted>" with SECRET_DATA. */
static void mk_at_trace_data(struct mk_at *at, enum mk_at_trace_dir dir)
{
    if (!at->cfg.trace)
        return;
    if (at->cmd->flags & MK_AT_F_SECRET_DATA)
        mk_at_trace_secret(at, dir, at->cmd->data_len);
    else
        mk_at_trace(at, dir, (const char *)at->cmd->data, at->cmd->data_len);
}

/* ---- small helpers ---- */

static bool mk_at_eq(const char *l, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n == k && memcmp(l, s, k) == 0;
}

static int mk_at_clamp_int(long v)
{
    if (v > INT_MAX)
        return INT_MAX;
    if (v < INT_MIN)
        return INT_MIN;
    return (int)v;
}

/* Copy at most cap-1 bytes of s[0..n) and NUL-terminate. */
static void mk_at_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool mk_at_running(const struct mk_at *at)
{
    return at->phase == MK_AT_PH_RESYNC || at->phase == MK_AT_PH_SEND || at->phase == MK_AT_PH_WAIT;
}

/* The command still takes echo, prompt, intermediate lines and its final result. */
static bool mk_at_open(const struct mk_at *at)
{
    return at->phase == MK_AT_PH_WAIT && !at->have_final;
}

/*
 * "+CSQ:" from "AT+CSQ", "AT+CSQ?", "AT+CSQ=?" and "AT+CSQ=..."; also for the other
 * extended-command characters vendors use ($ ! ^ % #). Basic commands get none.
 */
static void mk_at_derive_prefix(struct mk_at *at, const char *text)
{
    char *out = at->resp_prefix;
    size_t cap = sizeof at->resp_prefix;
    out[0] = '\0';
    if ((text[0] != 'A' && text[0] != 'a') || (text[1] != 'T' && text[1] != 't'))
        return;
    const char *p = text + 2;
    if (!*p || !strchr("+$!^%#", *p))
        return;
    size_t n = 1;
    while (p[n] && p[n] != '=' && p[n] != '?' && p[n] != ';')
        n++;
    if (n < 2 || n + 2 > cap)
        return;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    out[n] = ':';
    out[n + 1] = '\0';
}

static const char *mk_at_resp_prefix(const struct mk_at *at)
{
    if (at->cmd->resp_prefix)
        return at->cmd->resp_prefix;
    return at->resp_prefix;
}

/* ---- final results ---- */

static const struct {
    const char *text;
    bool prefix;
    enum mk_at_final final;
    enum mk_err err;
} mk_at_finals[] = {
    {"OK", false, MK_AT_FINAL_OK, MK_OK},
    {"ERROR", false, MK_AT_FINAL_ERROR, MK_E_AT_ERROR},
    {"+CME ERROR:", true, MK_AT_FINAL_CME, MK_E_AT_CME},
    {"+CMS ERROR:", true, MK_AT_FINAL_CMS, MK_E_AT_CMS},
    {"NO CARRIER", false, MK_AT_FINAL_NO_CARRIER, MK_E_AT_NO_CARRIER},
    {"BUSY", false, MK_AT_FINAL_BUSY, MK_E_AT_BUSY},
    {"NO ANSWER", false, MK_AT_FINAL_NO_ANSWER, MK_E_AT_NO_ANSWER},
    {"NO DIALTONE", false, MK_AT_FINAL_NO_DIALTONE, MK_E_AT_NO_DIALTONE},
};
#define MK_AT_N_FINALS (sizeof mk_at_finals / sizeof mk_at_finals[0])

/* Index into mk_at_finals, or -1 when the line is not a final result code. */
static int mk_at_final_of(const char *l, size_t n)
{
    if (n < 2 || !strchr("OE+NB", l[0]))
        return -1;
    for (size_t i = 0; i < MK_AT_N_FINALS; i++) {
        const char *t = mk_at_finals[i].text;
        if (mk_at_finals[i].prefix ? mk_starts_with(l, n, t) : mk_at_eq(l, n, t))
            return (int)i;
    }
    return -1;
}

/* ---- completion ---- */

static void mk_at_complete(struct mk_at *at, enum mk_err err)
{
    at->res.err = err;
    at->phase = MK_AT_PH_DONE;
    at->data_echo = false;
    at->skip_space = false;
    mk_at_note(at, "done");
}

static void mk_at_start_send(struct mk_at *at, uint64_t now_ms)
{
    at->phase = MK_AT_PH_SEND;
    at->out_off = 0;
    at->deadline_ms = now_ms + at->cmd->timeout_ms;
    mk_at_trace_text(at, MK_AT_TRACE_TX, 0, at->text_len);
}

static void mk_at_start_probe(struct mk_at *at, uint64_t now_ms)
{
    at->resync_state = MK_AT_RS_PROBE;
    at->out_off = 0;
    at->resync_deadline_ms = now_ms + at->cfg.resync_timeout_ms;
    at->resync_tries++;
    mk_at_trace(at, MK_AT_TRACE_TX, mk_at_probe, MK_AT_PROBE_LEN - 1);
}

/* The "+CME ERROR: 10" / "+CME ERROR: SIM busy" argument into res.cme / cme_text. */
static void mk_at_take_cme(struct mk_at *at, const char *l, size_t n)
{
    size_t i = strlen("+CME ERROR:"); /* same length as "+CMS ERROR:" */
    while (i < n && l[i] == ' ')
        i++;
    while (n > i && l[n - 1] == ' ')
        n--;
    int64_t v;
    if (mk_parse_i64(l + i, n - i, &v) == MK_OK && v >= INT_MIN && v <= INT_MAX) {
        at->res.cme = (int)v;
    } else {
        at->res.cme = -1;
        mk_at_copy(at->res.cme_text, sizeof at->res.cme_text, l + i, n - i);
    }
}

static void mk_at_on_final(struct mk_at *at, int idx, const char *l, size_t n, uint64_t now_ms)
{
    const struct mk_at_cmd *c = at->cmd;
    at->res.final = mk_at_finals[idx].final;
    if (at->res.final == MK_AT_FINAL_CME || at->res.final == MK_AT_FINAL_CMS)
        mk_at_take_cme(at, l, n);
    if (at->res.final == MK_AT_FINAL_OK && c->urc_prefix && !at->res.urc_seen) {
        at->have_final = true;
        at->deadline_ms = now_ms + (c->urc_timeout_ms ? c->urc_timeout_ms : c->timeout_ms);
        mk_at_note(at, "wait urc");
        return;
    }
    mk_at_complete(at, mk_at_finals[idx].err);
}

/*
 * A line starting with the command's urc_prefix: take it as the completion URC when the
 * index matches (or no index is wanted). Returns false when it is someone else's.
 */
static bool mk_at_take_urc(struct mk_at *at, const char *l, size_t n)
{
    const struct mk_at_cmd *c = at->cmd;
    struct mk_at_arg args[MK_AT_MAX_URC_ARGS];
    long v[MK_AT_MAX_URC_ARGS];
    int k = mk_at_split(l, n, c->urc_prefix, args, MK_AT_MAX_URC_ARGS);
    size_t nv = 0;
    while ((int)nv < k && mk_at_arg_long(&args[nv], &v[nv]) == MK_OK)
        nv++;
    long code = -1;
    if (c->urc_index >= 0) {
        if (nv < 1 || v[0] != c->urc_index)
            return false;
        if (nv >= 2)
            code = v[1];
    } else if (nv >= 1) {
        code = v[0];
    }
    at->res.urc_seen = true;
    at->res.urc_code = mk_at_clamp_int(code);
    memcpy(at->res.urc_args, v, nv * sizeof v[0]);
    at->res.urc_nargs = nv;
    mk_at_copy(at->res.urc_line, sizeof at->res.urc_line, l, n);
    mk_at_note(at, "urc");
    return true;
}

static void mk_at_intermediate(struct mk_at *at, const char *l, size_t n)
{
    const struct mk_at_cmd *c = at->cmd;
    if (c->on_line)
        c->on_line(c->user, l, n);
    if (!c->resp || c->resp_cap == 0 || at->res.resp_truncated)
        return;
    size_t sep = at->res.resp_len ? 1 : 0;
    if (at->res.resp_len + sep + n + 1 > c->resp_cap) {
        at->res.resp_truncated = true;
        return;
    }
    if (sep)
        c->resp[at->res.resp_len++] = '\n';
    memcpy(c->resp + at->res.resp_len, l, n);
    at->res.resp_len += n;
    c->resp[at->res.resp_len] = '\0';
}

/*
 * The command echo, possibly in pieces with URC lines between them (a SIM7600 can print
 * "SMS DONE" in the middle of echoing a command typed right after boot): each piece
 * must continue the expected echo where the previous one stopped. A line equal to the
 * whole text is the echo too (a stray piece matched earlier is then forgotten).
 */
static bool mk_at_echo_piece(struct mk_at *at, const char *l, size_t n)
{
    const char *t = at->cmd->text;
    size_t start;
    if (at->echo_off < at->text_len && n <= at->text_len - at->echo_off &&
        memcmp(l, t + at->echo_off, n) == 0) {
        start = at->echo_off;
    } else if (n == at->text_len && memcmp(l, t, n) == 0) {
        start = 0;
    } else {
        return false;
    }
    at->echo_off = start + n;
    at->echo_seen = true;
    mk_at_trace_text(at, MK_AT_TRACE_RX, start, n);
    mk_at_note(at, "echo");
    return true;
}

static void mk_at_on_prompt(struct mk_at *at)
{
    at->prompted = true;
    at->out_off = 0;
    mk_at_note(at, "prompt");
    if (at->cmd->data_len) {
        mk_at_trace_data(at, MK_AT_TRACE_TX);
        at->data_echo = at->echo_seen;
        at->data_echo_off = 0;
    }
}

/* A final result nobody waits for: the late answer to a timed-out or cancelled command. */
static void mk_at_stale_final(struct mk_at *at, uint64_t now_ms)
{
    if (at->phase == MK_AT_PH_RESYNC && at->resync_state != MK_AT_RS_PROBE) {
        mk_at_note(at, at->resync_state == MK_AT_RS_WAIT_OK ? "resync: answered"
                                                            : "resync: late result, gap restarted");
        at->resync_state = MK_AT_RS_QUIET;
        at->resync_deadline_ms = now_ms + at->cfg.resync_quiet_ms;
        return;
    }
    mk_at_note(at, "stale final result dropped");
}

static const struct mk_at_urc *mk_at_find_in(const struct mk_at_urc *urcs, size_t count,
                                             const char *l, size_t n, bool catch_all)
{
    for (size_t i = 0; i < count; i++) {
        const struct mk_at_urc *u = &urcs[i];
        if (catch_all ? u->prefix[0] == '\0'
                      : (u->prefix[0] != '\0' && mk_starts_with(l, n, u->prefix)))
            return u;
    }
    return NULL;
}

static const struct mk_at_urc *mk_at_find_urc(const struct mk_at *at, const char *l, size_t n,
                                              bool catch_all)
{
    const struct mk_at_urc *u = mk_at_find_in(at->cfg.urcs, at->cfg.n_urcs, l, n, catch_all);
    for (size_t t = 0; !u && t < sizeof at->extra_urcs / sizeof at->extra_urcs[0]; t++)
        if (at->extra_urcs[t].urcs)
            u = mk_at_find_in(at->extra_urcs[t].urcs, at->extra_urcs[t].n, l, n, catch_all);
    return u;
}

enum mk_err mk_at_add_urcs(struct mk_at *at, const struct mk_at_urc *urcs, size_t n)
{
    size_t slots = sizeof at->extra_urcs / sizeof at->extra_urcs[0];
    for (size_t t = 0; t < slots; t++)
        if (at->extra_urcs[t].urcs == urcs)
            return MK_E_EXISTS;
    for (size_t t = 0; t < slots; t++) {
        if (!at->extra_urcs[t].urcs) {
            at->extra_urcs[t].urcs = urcs;
            at->extra_urcs[t].n = n;
            return MK_OK;
        }
    }
    return MK_E_NOSPC;
}

void mk_at_remove_urcs(struct mk_at *at, const struct mk_at_urc *urcs)
{
    for (size_t t = 0; t < sizeof at->extra_urcs / sizeof at->extra_urcs[0]; t++) {
        if (at->extra_urcs[t].urcs == urcs) {
            at->extra_urcs[t].urcs = NULL;
            at->extra_urcs[t].n = 0;
        }
    }
}

static void mk_at_trace_rx(struct mk_at *at, const char *l, size_t n)
{
    if (at->redact_rx)
        mk_at_trace_secret(at, MK_AT_TRACE_RX, n);
    else
        mk_at_trace(at, MK_AT_TRACE_RX, l, n);
}

/* Route one complete, non-empty line (NUL-terminated at l[n]). */
static void mk_at_route(struct mk_at *at, const char *l, size_t n, uint64_t now_ms)
{
    const struct mk_at_cmd *c = at->cmd;
    bool open = mk_at_open(at);

    if (open && mk_at_echo_piece(at, l, n))
        return;
    mk_at_trace_rx(at, l, n);
    int fin = mk_at_final_of(l, n);
    if (open) {
        if (c->prompt == MK_AT_PROMPT_DOWNLOAD && !at->prompted && mk_at_eq(l, n, "DOWNLOAD")) {
            mk_at_on_prompt(at);
            return;
        }
        if (fin >= 0) {
            mk_at_on_final(at, fin, l, n, now_ms);
            return;
        }
    }
    /* (1) the completion URC; a line with its prefix is never an intermediate line */
    bool urc_like =
        at->phase == MK_AT_PH_WAIT && c->urc_prefix && mk_starts_with(l, n, c->urc_prefix);
    if (urc_like && !at->res.urc_seen && mk_at_take_urc(at, l, n)) {
        if (at->have_final)
            mk_at_complete(at, MK_OK);
        return;
    }
    /* (2) the command's own response lines */
    if (open && !urc_like) {
        const char *rp = mk_at_resp_prefix(at);
        if (rp[0] && mk_starts_with(l, n, rp)) {
            mk_at_intermediate(at, l, n);
            return;
        }
    }
    /* (3) the URC table */
    const struct mk_at_urc *u = mk_at_find_urc(at, l, n, false);
    if (u) {
        u->cb(u->user, l, n);
        return;
    }
    /* (4) anything else while the command is open */
    if (open && !urc_like) {
        mk_at_intermediate(at, l, n);
        return;
    }
    if (fin >= 0) {
        mk_at_stale_final(at, now_ms);
        return;
    }
    if (at->phase == MK_AT_PH_RESYNC && mk_at_eq(l, n, "AT")) {
        mk_at_note(at, "echo");
        return;
    }
    u = mk_at_find_urc(at, l, n, true);
    if (u) {
        u->cb(u->user, l, n);
        return;
    }
    mk_at_note(at, "unclaimed line dropped");
}

static void mk_at_end_line(struct mk_at *at, uint64_t now_ms)
{
    size_t n = at->line_len;
    at->line_len = 0;
    if (at->line_overflow) {
        at->line_overflow = false;
        mk_at_note(at, "overflow");
        if (mk_at_running(at))
            at->res.overflow = true;
        return;
    }
    if (n == 0)
        return;
    at->cfg.line_buf[n] = '\0';
    mk_at_route(at, at->cfg.line_buf, n, now_ms);
}

static bool mk_at_wants_gt(const struct mk_at *at)
{
    return mk_at_open(at) && at->cmd->prompt == MK_AT_PROMPT_GT && !at->prompted;
}

/* Line mode. Returns the bytes consumed; stops early when the input mode changes. */
static size_t mk_at_feed_lines(struct mk_at *at, const uint8_t *d, size_t len, uint64_t now_ms)
{
    size_t i = 0, cap = at->cfg.line_cap - 1;
    while (i < len) {
        uint8_t b = d[i];
        if (b == '\r' || b == '\n') {
            i++;
            if (b == '\n' && at->last_cr) {
                at->last_cr = false;
                continue;
            }
            at->last_cr = (b == '\r');
            mk_at_end_line(at, now_ms);
            if (at->raw_left || at->data_echo || at->skip_space)
                return i;
            continue;
        }
        at->last_cr = false;
        if (b == '\0') {
            i++;
            continue;
        }
        if (b == '>' && at->line_len == 0 && !at->line_overflow && mk_at_wants_gt(at)) {
            at->skip_space = true;
            mk_at_on_prompt(at);
            return i + 1;
        }
        size_t j = i + 1;
        while (j < len && d[j] != '\r' && d[j] != '\n' && d[j] != '\0')
            j++;
        if (!at->line_overflow) {
            size_t run = j - i, room = cap - at->line_len;
            if (run > room) {
                run = room;
                at->line_overflow = true;
            }
            memcpy(at->cfg.line_buf + at->line_len, d + i, run);
            at->line_len += run;
        }
        i = j;
    }
    return i;
}

static size_t mk_at_feed_raw(struct mk_at *at, const uint8_t *d, size_t len)
{
    size_t k = len < at->raw_left ? len : at->raw_left;
    at->raw_left -= k;
    bool last = at->raw_left == 0;
    void (*cb)(void *, const uint8_t *, size_t, bool) = at->raw_cb;
    void *user = at->raw_user;
    if (last) {
        at->raw_cb = NULL;
        at->line_len = 0;
        at->last_cr = false;
    }
    mk_at_trace(at, MK_AT_TRACE_RAW, (const char *)d, k);
    if (cb)
        cb(user, d, k, last); /* may start the next raw read */
    return k;
}

/*
 * The module's echo of the data sent after the prompt. On the first byte that differs,
 * the bytes matched so far were not an echo after all: they are parsed as lines (from
 * cmd->data, which holds the same bytes) and line parsing goes on from that byte.
 */
static size_t mk_at_feed_data_echo(struct mk_at *at, const uint8_t *d, size_t len, uint64_t now_ms)
{
    const struct mk_at_cmd *c = at->cmd;
    size_t left = c->data_len - at->data_echo_off;
    size_t max = len < left ? len : left, k = 0;
    const uint8_t *want = c->data + at->data_echo_off;
    while (k < max && d[k] == want[k])
        k++;
    at->data_echo_off += k;
    if (at->data_echo_off == c->data_len) {
        at->data_echo = false;
        mk_at_trace_data(at, MK_AT_TRACE_RX);
        mk_at_note(at, "data echo");
        return k;
    }
    if (k == max)
        return k;
    at->data_echo = false;
    mk_at_note(at, "no data echo");
    if (at->data_echo_off) {
        at->redact_rx = (c->flags & MK_AT_F_SECRET_DATA) != 0;
        mk_at_feed(at, c->data, at->data_echo_off, now_ms);
        at->redact_rx = false;
    }
    return k;
}

/* ---- public API ---- */

void mk_at_init(struct mk_at *at, const struct mk_at_config *cfg)
{
    assert(cfg && cfg->line_buf && cfg->line_cap >= 64);
    assert(cfg->n_urcs == 0 || cfg->urcs);
    memset(at, 0, sizeof *at);
    at->cfg = *cfg;
    if (!at->cfg.resync_timeout_ms)
        at->cfg.resync_timeout_ms = 500;
    if (!at->cfg.resync_quiet_ms)
        at->cfg.resync_quiet_ms = 100;
    at->res.cme = -1;
    at->res.urc_code = -1;
}

enum mk_err mk_at_submit(struct mk_at *at, const struct mk_at_cmd *cmd, uint64_t now_ms)
{
    if (!cmd || !cmd->text || !cmd->text[0] || cmd->timeout_ms == 0)
        return MK_E_INVAL;
    if (at->phase != MK_AT_PH_IDLE)
        return MK_E_BUSY;
    size_t n = strlen(cmd->text);
    if (memchr(cmd->text, '\r', n) || memchr(cmd->text, '\n', n))
        return MK_E_INVAL;
    if (n > MK_AT_TX_CAP - 1)
        return MK_E_NOSPC;
    if ((cmd->data_len && cmd->prompt == MK_AT_PROMPT_NONE) || (cmd->data_len && !cmd->data))
        return MK_E_INVAL;

    memset(&at->res, 0, sizeof at->res);
    at->res.cme = -1;
    at->res.urc_code = -1;
    if (cmd->resp && cmd->resp_cap)
        cmd->resp[0] = '\0';
    at->cmd = cmd;
    at->text_len = n;
    at->have_final = false;
    at->prompted = false;
    at->echo_seen = false;
    at->data_echo = false;
    at->echo_off = 0;
    at->data_echo_off = 0;
    at->submit_ms = now_ms;
    mk_at_derive_prefix(at, cmd->text);
    if (at->need_resync) {
        at->phase = MK_AT_PH_RESYNC;
        at->resync_tries = 0;
        mk_at_note(at, "resync");
        mk_at_start_probe(at, now_ms);
    } else {
        mk_at_start_send(at, now_ms);
    }
    return MK_OK;
}

void mk_at_feed(struct mk_at *at, const uint8_t *data, size_t len, uint64_t now_ms)
{
    size_t i = 0;
    while (i < len) {
        if (at->last_cr && (at->raw_left || at->data_echo)) {
            /* the LF of the CR LF that ended the line before raw bytes or data echo */
            at->last_cr = false;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        if (at->raw_left) {
            i += mk_at_feed_raw(at, data + i, len - i);
        } else if (at->skip_space) {
            at->skip_space = false;
            if (data[i] == ' ')
                i++;
        } else if (at->data_echo) {
            i += mk_at_feed_data_echo(at, data + i, len - i, now_ms);
        } else {
            i += mk_at_feed_lines(at, data + i, len - i, now_ms);
        }
    }
}

static void mk_at_check_deadlines(struct mk_at *at, uint64_t now_ms)
{
    const struct mk_at_cmd *c = at->cmd;
    switch (at->phase) {
    case MK_AT_PH_RESYNC:
        if (now_ms >= at->submit_ms + c->timeout_ms) {
            mk_at_note(at, "resync failed");
            mk_at_complete(at, MK_E_TIMEOUT);
        } else if (now_ms >= at->resync_deadline_ms) {
            if (at->resync_state == MK_AT_RS_QUIET) {
                at->need_resync = false;
                mk_at_note(at, "resync done");
                mk_at_start_send(at, now_ms);
            } else if (at->resync_state == MK_AT_RS_WAIT_OK) {
                mk_at_start_probe(at, now_ms);
            }
        }
        break;
    case MK_AT_PH_SEND:
    case MK_AT_PH_WAIT:
        if (now_ms < at->deadline_ms)
            break;
        if (at->have_final) {
            /* the final OK came: the channel is in step, a late URC goes to the router */
            at->res.timeout_in_urc = true;
        } else if (!(c->flags & MK_AT_F_NO_RESYNC) &&
                   (at->phase == MK_AT_PH_WAIT || at->out_off > 0)) {
            at->need_resync = true;
        }
        mk_at_note(at, "timeout");
        mk_at_complete(at, MK_E_TIMEOUT);
        break;
    default:
        break;
    }
}

enum mk_step mk_at_poll(struct mk_at *at, uint64_t now_ms, struct mk_at_result *res)
{
    mk_at_check_deadlines(at, now_ms);
    if (at->phase != MK_AT_PH_DONE)
        return MK_PENDING;
    if (res)
        *res = at->res;
    at->phase = MK_AT_PH_IDLE;
    at->cmd = NULL;
    return MK_DONE;
}

size_t mk_at_tx_peek(struct mk_at *at, const uint8_t **data)
{
    const struct mk_at_cmd *c = at->cmd;
    switch (at->phase) {
    case MK_AT_PH_RESYNC:
        if (at->resync_state != MK_AT_RS_PROBE)
            break;
        *data = (const uint8_t *)mk_at_probe + at->out_off;
        return MK_AT_PROBE_LEN - at->out_off;
    case MK_AT_PH_SEND:
        if (at->out_off < at->text_len) {
            *data = (const uint8_t *)c->text + at->out_off;
            return at->text_len - at->out_off;
        }
        *data = (const uint8_t *)"\r";
        return 1;
    case MK_AT_PH_WAIT:
        if (!at->prompted || at->out_off >= c->data_len)
            break;
        *data = c->data + at->out_off;
        return c->data_len - at->out_off;
    default:
        break;
    }
    *data = NULL;
    return 0;
}

void mk_at_tx_consume(struct mk_at *at, size_t n, uint64_t now_ms)
{
    const uint8_t *p;
    size_t avail = mk_at_tx_peek(at, &p);
    assert(n <= avail);
    if (n == 0 || n > avail)
        return;
    at->out_off += n;
    if (at->phase == MK_AT_PH_RESYNC && at->out_off == MK_AT_PROBE_LEN) {
        at->resync_state = MK_AT_RS_WAIT_OK;
        at->resync_deadline_ms = now_ms + at->cfg.resync_timeout_ms;
    } else if (at->phase == MK_AT_PH_SEND && at->out_off == at->text_len + 1) {
        at->phase = MK_AT_PH_WAIT;
        at->out_off = 0;
    }
}

uint64_t mk_at_next_deadline(const struct mk_at *at)
{
    switch (at->phase) {
    case MK_AT_PH_IDLE:
        return UINT64_MAX;
    case MK_AT_PH_DONE:
        return 0;
    case MK_AT_PH_RESYNC: {
        uint64_t d = at->submit_ms + at->cmd->timeout_ms;
        if (at->resync_state != MK_AT_RS_PROBE && at->resync_deadline_ms < d)
            d = at->resync_deadline_ms;
        return d;
    }
    default:
        return at->deadline_ms;
    }
}

bool mk_at_busy(const struct mk_at *at)
{
    return at->phase != MK_AT_PH_IDLE;
}

void mk_at_read_raw(struct mk_at *at, size_t n,
                    void (*cb)(void *user, const uint8_t *data, size_t len, bool last), void *user)
{
    if (n == 0) {
        if (cb)
            cb(user, NULL, 0, true);
        return;
    }
    at->raw_left = n;
    at->raw_cb = cb;
    at->raw_user = user;
}

void mk_at_cancel(struct mk_at *at, uint64_t now_ms)
{
    (void)now_ms;
    if (!mk_at_running(at))
        return;
    if ((at->phase == MK_AT_PH_SEND && at->out_off > 0) ||
        (at->phase == MK_AT_PH_WAIT && !at->have_final))
        at->need_resync = true;
    mk_at_note(at, "cancelled");
    mk_at_complete(at, MK_E_CANCELLED);
}

void mk_at_reset_input(struct mk_at *at)
{
    at->line_len = 0;
    at->line_overflow = false;
    at->last_cr = false;
    at->skip_space = false;
    at->redact_rx = false;
    at->raw_left = 0;
    at->raw_cb = NULL;
    at->raw_user = NULL;
    at->data_echo = false;
    at->need_resync = false;
    if (at->phase == MK_AT_PH_RESYNC) {
        /* end the resync at the next poll; the command is sent from then on */
        at->resync_state = MK_AT_RS_QUIET;
        at->resync_deadline_ms = 0;
    }
}
