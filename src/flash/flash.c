/*
 * Download-mode flashing sessions: detection, Sahara (Sierra boot-and-hold switch and PBL
 * programmer upload), the Firehose client, and the Sierra CWE and EDL flows. The QDL flow
 * is in flash_qdl.c. Section numbers refer to reference download-mode.md.
 *
 * All input goes through one queue (fl->in): the bytes detection kept come first, then
 * what the port delivers. Each protocol consumes exactly what belongs to it, so bytes that
 * follow a packet in the same read (Firehose logs right after "confirmed", a response
 * right after a raw phase) are never lost (§1.9: stream transports merge packets).
 */
#include "modemkit/flash.h"

#include <string.h>

#include "flash_int.h"
#include "modemkit/cwe.h"

#define FL_ZERO_BLOCK 512u /* Sierra's trailing block of zeros after a CWE (§2.6) */
#define FL_CWE_TREE   32u  /* sub-images checked per file (an RC7620 .spk has ~20) */

void mk_flash_config_default(struct mk_flash_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->hello_wait_ms = 3000;
    cfg->probe_wait_ms = 2000;
    cfg->cmd_timeout_ms = 10000;
    cfg->final_wait_ms = 300000;
    cfg->qdl_final_wait_ms = 120000;
    cfg->write_timeout_ms = 30000;
    cfg->zero_nak_grace_ms = 500;
    cfg->retries = 3;
    cfg->max_payload = 1048576;
    cfg->sector_size = 4096;
    cfg->pages_per_block = 64;
    cfg->verify_images = true;
    cfg->qdl_chunk = 1048576;
}

void mk_flash_init(struct mk_flash *fl, const struct mk_io *io, const struct mk_clock *clock,
                   const struct mk_flash_config *cfg)
{
    memset(fl, 0, sizeof *fl);
    fl->io = io;
    fl->clock = clock;
    fl->cfg = *cfg;
    fl->sector_size = cfg->sector_size ? cfg->sector_size : 4096;
    fl->pages_per_block = cfg->pages_per_block;
    fl->payload = cfg->max_payload;
    mk_sahara_stream_init(&fl->ss);
    mk_firehose_rx_init(&fl->rx, fl->rx_buf, sizeof fl->rx_buf);
    mk_hdlc_decoder_init(&fl->hdlc, fl->hdlc_buf, sizeof fl->hdlc_buf);
}

/* ---- plumbing ---- */

uint64_t fl_now(const struct mk_flash *fl)
{
    return mk_clock_now(fl->clock);
}

uint64_t fl_after(const struct mk_flash *fl, uint32_t ms)
{
    return fl_now(fl) + ms;
}

enum mk_err fl_fill(struct mk_flash *fl, uint64_t deadline)
{
    if (fl->in_head < fl->in_len)
        return MK_OK;
    fl->in_head = fl->in_len = 0;
    if (fl->hangup)
        return MK_E_HANGUP;
    for (;;) {
        size_t n = 0;
        enum mk_err e = mk_io_read(fl->io, fl->in, sizeof fl->in, &n);
        if (e == MK_E_HANGUP)
            fl->hangup = true;
        if (e)
            return e;
        if (n) {
            fl->in_len = n;
            return MK_OK;
        }
        uint64_t now = fl_now(fl);
        if (now >= deadline)
            return MK_E_TIMEOUT;
        uint64_t left = deadline - now;
        e = mk_io_wait(fl->io, left > 60000 ? 60000u : (uint32_t)left, false);
        if (e == MK_E_HANGUP)
            fl->hangup = true;
        if (e && e != MK_E_TIMEOUT)
            return e;
    }
}

enum mk_err fl_poll(struct mk_flash *fl)
{
    if (fl->in_head < fl->in_len || fl->hangup)
        return MK_OK;
    fl->in_head = fl->in_len = 0;
    size_t n = 0;
    enum mk_err e = mk_io_read(fl->io, fl->in, sizeof fl->in, &n);
    if (e == MK_E_HANGUP) {
        fl->hangup = true;
        return MK_OK; /* reported by the next blocking wait */
    }
    fl->in_len = n;
    return e;
}

void fl_msg(struct mk_flash *fl, struct mk_sb *sb)
{
    mk_sb_init(sb, fl->msg, sizeof fl->msg);
}

void fl_msg_wait(struct mk_flash *fl, enum mk_err err, const char *what, uint32_t ms)
{
    struct mk_sb sb;
    fl_msg(fl, &sb);
    mk_sb_puts(&sb, what);
    if (err == MK_E_TIMEOUT) {
        mk_sb_puts(&sb, ": nothing within ");
        mk_sb_putu(&sb, ms);
        mk_sb_puts(&sb, " ms");
    } else {
        mk_sb_puts(&sb, ": ");
        mk_sb_puts(&sb, mk_strerror(err));
    }
    if (fl->last_log[0]) {
        mk_sb_puts(&sb, " (target's last log: \"");
        mk_sb_puts(&sb, fl->last_log);
        mk_sb_puts(&sb, "\")");
    }
}

enum mk_err fl_write(struct mk_flash *fl, const void *buf, size_t len, const char *what)
{
    if (fl->hangup) {
        fl_msg_wait(fl, MK_E_HANGUP, what, 0);
        return MK_E_HANGUP;
    }
    enum mk_err e =
        mk_io_write_all(fl->io, fl->clock, buf, len, fl_after(fl, fl->cfg.write_timeout_ms));
    if (e == MK_E_HANGUP)
        fl->hangup = true;
    if (e)
        fl_msg_wait(fl, e, what, fl->cfg.write_timeout_ms);
    return e;
}

void fl_note(struct mk_flash *fl, enum mk_flash_note kind, const char *text)
{
    if (fl->cfg.cb.note)
        fl->cfg.cb.note(fl->cfg.cb.ctx, kind, text);
}

void fl_progress(struct mk_flash *fl, enum mk_flash_stage stage, bool force)
{
    uint64_t now = fl_now(fl);
    bool change = stage != fl->prog.stage;
    fl->prog.stage = stage;
    fl->prog.now_ms = now;
    if (!fl->cfg.cb.progress)
        return;
    if (!change && !force && now - fl->last_progress_ms < 100)
        return;
    fl->last_progress_ms = now;
    fl->cfg.cb.progress(fl->cfg.cb.ctx, &fl->prog);
}

const char *mk_flash_stage_name(enum mk_flash_stage stage)
{
    static const char *const names[] = {"detect",   "handshake", "programmer", "configure", "write",
                                        "finalize", "patch",     "reset",      "done"};
    return (unsigned)stage < sizeof names / sizeof names[0] ? names[stage] : "?";
}

static bool fl_digit_or_dot(char c)
{
    return (c >= '0' && c <= '9') || c == '.';
}

bool mk_flash_version_match(const char *reported, const char *fw)
{
    size_t n = strlen(fw);
    if (!n)
        return false;
    for (const char *p = reported; (p = strstr(p, fw)) != NULL; p++) {
        bool left = p == reported || !fl_digit_or_dot(p[-1]);
        if (left && !fl_digit_or_dot(p[n]))
            return true;
    }
    return false;
}

/* ---- detection ---- */

enum mk_err mk_flash_detect(struct mk_flash *fl, const struct mk_dl_result **out)
{
    if (fl->detected) {
        if (out)
            *out = mk_dldetect_result(&fl->det);
        return MK_OK;
    }
    struct mk_dldetect_config dc;
    mk_dldetect_config_default(&dc);
    dc.listen_ms = fl->cfg.hello_wait_ms;
    dc.probe_wait_ms = fl->cfg.probe_wait_ms;
    dc.force = fl->cfg.force;
    dc.usb_vid = fl->cfg.usb_vid;
    dc.usb_pid = fl->cfg.usb_pid;
    if (fl->cfg.probe_at) {
        /* AT first: on an AT port the answer settles it at once; a Sahara target takes
         * "AT\r" as an unknown packet and sends its HELLO again, like after the SDP. */
        dc.probes[0] = MK_DL_PROBE_AT;
        dc.probes[1] = MK_DL_PROBE_SDP;
        dc.probes[2] = MK_DL_PROBE_FIREHOSE_NOP;
        dc.probes[3] = MK_DL_PROBE_SAHARA_HELLO_RSP;
        dc.n_probes = 4;
    }
    fl_progress(fl, MK_FLASH_STAGE_DETECT, true);
    mk_dldetect_init(&fl->det, &dc, fl->det_buf, sizeof fl->det_buf, (uint32_t)fl_now(fl));
    for (;;) {
        uint32_t now32 = (uint32_t)fl_now(fl);
        struct mk_dl_step st;
        enum mk_dl_action a = mk_dldetect_poll(&fl->det, now32, &st);
        if (a == MK_DL_WAIT) {
            uint64_t deadline = fl_now(fl) + (uint32_t)(st.wake_ms - now32);
            enum mk_err e = fl_fill(fl, deadline);
            if (e == MK_OK) {
                (void)mk_dldetect_feed(&fl->det, fl->in + fl->in_head, fl->in_len - fl->in_head);
                fl->in_head = fl->in_len = 0;
            } else if (e != MK_E_TIMEOUT) {
                fl_msg_wait(fl, e, "detecting the download protocol", 0);
                return e;
            }
        } else if (a == MK_DL_WRITE) {
            enum mk_err e = fl_write(fl, st.data, st.len, "sending a detection probe");
            if (e)
                return e;
        } else if (a == MK_DL_DONE) {
            const struct mk_dl_result *r = mk_dldetect_result(&fl->det);
            const uint8_t *b;
            size_t n;
            mk_dldetect_bytes(&fl->det, &b, &n);
            /* The recognised packet and everything after it go to the session first. */
            fl->in_head = 0;
            fl->in_len = n - r->offset;
            memcpy(fl->in, b + r->offset, fl->in_len);
            fl->detected = true;
            (void)mk_flash_describe(fl, fl->msg, sizeof fl->msg);
            fl_note(fl, MK_FLASH_NOTE_INFO, fl->msg);
            if (out)
                *out = r;
            return MK_OK;
        } else {
            (void)mk_flash_describe(fl, fl->msg, sizeof fl->msg);
            return MK_E_DETECT;
        }
    }
}

enum mk_err mk_flash_describe(const struct mk_flash *fl, char *buf, size_t cap)
{
    return mk_dldetect_describe(&fl->det, buf, cap);
}

/* ---- images ---- */

enum mk_err fl_check_cwe(struct mk_flash *fl, const struct mk_flash_file *f)
{
    struct mk_sb sb;
    uint8_t *raw = fl->cfg.buf;
    if (f->size < MK_CWE_HDR_LEN) {
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, f->name);
        mk_sb_puts(&sb, ": too short for a CWE image");
        return MK_E_IMAGE;
    }
    enum mk_err e = f->read(f->ctx, 0, raw, MK_CWE_HDR_LEN);
    if (e) {
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, f->name);
        mk_sb_puts(&sb, ": ");
        mk_sb_puts(&sb, mk_strerror(e));
        return e;
    }
    struct mk_cwe_header h;
    mk_cwe_header_decode(raw, &h);
    if (!mk_cwe_header_plausible(raw) || !mk_cwe_psb_crc_ok(raw)) {
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, f->name);
        mk_sb_puts(&sb, ": not a CWE image (no valid 400-byte header)");
        return MK_E_IMAGE;
    }
    if (fl->cfg.expect_product && fl->cfg.expect_product[0]) {
        const char *a = h.product, *b = fl->cfg.expect_product;
        size_t i = 0;
        for (; a[i] && b[i]; i++) {
            char x = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 32) : a[i];
            char y = b[i] >= 'a' && b[i] <= 'z' ? (char)(b[i] - 32) : b[i];
            if (x != y)
                break;
        }
        if (a[i] || b[i]) {
            fl_msg(fl, &sb);
            mk_sb_puts(&sb, f->name);
            mk_sb_puts(&sb, ": built for product ");
            mk_sb_puts(&sb, h.product);
            mk_sb_puts(&sb, ", the module needs ");
            mk_sb_puts(&sb, fl->cfg.expect_product);
            return MK_E_IMAGE_PRODUCT;
        }
    }
    if (!fl->cfg.verify_images)
        return MK_OK;
    struct mk_cwe_image tree[FL_CWE_TREE];
    struct mk_cwe_info info;
    memset(&info, 0, sizeof info);
    info.images = tree;
    info.cap = FL_CWE_TREE;
    struct mk_cwe_reader rd = {f->read, f->ctx, f->size, f->name};
    e = mk_cwe_parse(&rd, fl->cfg.buf, fl->cfg.cap, 0, &info);
    if (e) {
        char why[200];
        (void)mk_cwe_describe_problem(&info, why, sizeof why);
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, f->name);
        mk_sb_puts(&sb, ": ");
        mk_sb_puts(&sb, e == MK_E_NOSPC ? "too many sub-images to check" : why);
        return e == MK_E_NOSPC ? MK_E_IMAGE : e;
    }
    return MK_OK;
}

/* ---- Firehose client ---- */

/* Case-insensitive "key=" search in a log line; the decimal number after it. */
static bool fl_log_number(const char *text, const char *key, uint64_t *out)
{
    size_t k = strlen(key);
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (i < k && p[i]) {
            char c = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i];
            if (c != key[i])
                break;
            i++;
        }
        if (i == k) {
            const char *q = p + k;
            while (*q == ' ' || *q == '"' || *q == ':')
                q++;
            size_t n = 0;
            while (q[n] >= '0' && q[n] <= '9')
                n++;
            return n && mk_parse_u64(q, n, out) == MK_OK;
        }
    }
    return false;
}

static void fl_on_log(struct mk_flash *fl, const struct mk_firehose_msg *msg)
{
    if (mk_firehose_attr_get(msg, "value", fl->last_log, sizeof fl->last_log) == MK_E_NOENT)
        fl->last_log[0] = '\0';
    /* Geometry announced while initialising (libqmi reads these from the logs, §2.5). */
    uint64_t v;
    if (fl_log_number(fl->last_log, "sector_size_in_bytes=", &v) && v >= 512 && v <= 65536)
        fl->sector_size = (uint32_t)v;
    if (fl_log_number(fl->last_log, "pages_in_block=", &v) && v && v <= 4096)
        fl->pages_per_block = (uint32_t)v;
    fl_note(fl, MK_FLASH_NOTE_TARGET_LOG, fl->last_log);
}

/* Next message from the target, reading the port until deadline. */
static enum mk_err fl_fh_next(struct mk_flash *fl, uint64_t deadline, struct mk_firehose_msg *msg,
                              bool blocking)
{
    for (;;) {
        if (mk_firehose_rx_next(&fl->rx, msg) == MK_DONE) {
            if (msg->type == MK_FIREHOSE_MSG_LOG)
                fl_on_log(fl, msg);
            else if (msg->type == MK_FIREHOSE_MSG_GARBAGE)
                fl_note(fl, MK_FLASH_NOTE_WARN, "skipped bytes that are not Firehose XML");
            else if (msg->type == MK_FIREHOSE_MSG_ERROR)
                fl_note(fl, MK_FLASH_NOTE_WARN, "dropped a malformed or oversized XML document");
            return MK_OK;
        }
        if (fl->rx.raw_hold)
            return MK_E_STATE; /* the caller resumes after a rawmode ACK */
        if (fl->in_head == fl->in_len) {
            enum mk_err e = blocking ? fl_fill(fl, deadline) : fl_poll(fl);
            if (e)
                return e;
            if (fl->in_head == fl->in_len)
                return MK_E_TIMEOUT; /* non-blocking: nothing now */
        }
        size_t took = mk_firehose_rx_feed(&fl->rx, fl->in + fl->in_head, fl->in_len - fl->in_head);
        fl->in_head += took;
    }
}

/* Wait until txn has its response. MK_OK (ACK or NAK: see txn), MK_E_TIMEOUT,
 * MK_E_HANGUP, or an io error. */
static enum mk_err fl_fh_wait(struct mk_flash *fl, struct mk_firehose_txn *txn, uint32_t ms)
{
    uint64_t deadline = fl_after(fl, ms);
    while (!txn->done) {
        struct mk_firehose_msg msg;
        enum mk_err e = fl_fh_next(fl, deadline, &msg, true);
        if (e)
            return e;
        (void)mk_firehose_txn_on_msg(txn, &msg);
    }
    return MK_OK;
}

static void fl_msg_nak(struct mk_flash *fl, const char *what)
{
    struct mk_sb sb;
    fl_msg(fl, &sb);
    mk_sb_puts(&sb, "target answered NAK to ");
    mk_sb_puts(&sb, what);
    if (fl->last_log[0]) {
        mk_sb_puts(&sb, ": \"");
        mk_sb_puts(&sb, fl->last_log);
        mk_sb_puts(&sb, "\"");
    }
}

/*
 * Send one command and wait for its response. With nak_ok a NAK is returned to the caller
 * in txn (configure); otherwise a NAK is MK_E_FIREHOSE_NAK, except the single NAK the
 * trailing zero block of a CWE provokes on the next command (libqmi retries, §2.6): the
 * NAK may also be the target's answer to the junk alone, so a late ACK is first given
 * zero_nak_grace_ms to arrive before the command is sent again.
 * A missing response is MK_E_FIREHOSE_NAK ("no response"), a hang-up MK_E_HANGUP.
 */
static enum mk_err fl_fh_command(struct mk_flash *fl, const char *xml, size_t len, const char *what,
                                 uint32_t timeout_ms, bool nak_ok, struct mk_firehose_txn *txn)
{
    for (;;) {
        mk_firehose_txn_init(txn);
        enum mk_err e = fl_write(fl, xml, len, what);
        if (e)
            return e;
        e = fl_fh_wait(fl, txn, timeout_ms);
        if (e) {
            fl_msg_wait(fl, e, what, timeout_ms);
            return e == MK_E_HANGUP ? e : MK_E_FIREHOSE_NAK;
        }
        if (txn->result == MK_OK || nak_ok) {
            fl->zero_block_sent = false;
            return MK_OK;
        }
        if (!fl->zero_block_sent) {
            fl_msg_nak(fl, what);
            return MK_E_FIREHOSE_NAK;
        }
        fl->zero_block_sent = false;
        fl_note(fl, MK_FLASH_NOTE_INFO,
                "NAK right after the trailing zero block, as Sierra targets answer it; "
                "checking for a late ACK, then sending the command again");
        struct mk_firehose_txn late;
        mk_firehose_txn_init(&late);
        e = fl_fh_wait(fl, &late, fl->cfg.zero_nak_grace_ms);
        if (e == MK_OK) {
            *txn = late;
            if (late.result == MK_OK)
                return MK_OK; /* the NAK was for the junk, this ACK for our command */
            fl_msg_nak(fl, what);
            return MK_E_FIREHOSE_NAK;
        }
        if (e != MK_E_TIMEOUT) {
            fl_msg_wait(fl, e, what, fl->cfg.zero_nak_grace_ms);
            return e == MK_E_HANGUP ? e : MK_E_FIREHOSE_NAK;
        }
    }
}

enum mk_err fl_send_file(struct mk_flash *fl, const struct mk_flash_file *f, uint64_t off,
                         uint64_t len, uint64_t piece, struct mk_firehose_txn *early)
{
    uint64_t end = off + len;
    if (piece > fl->cfg.cap)
        piece = fl->cfg.cap;
    if (piece == 0)
        piece = 1;
    if (f)
        fl->prog.file = f->name;
    while (off < end) {
        size_t n = (size_t)(end - off < piece ? end - off : piece);
        size_t from_file = 0;
        if (f && off < f->size)
            from_file = (size_t)(f->size - off < n ? f->size - off : n);
        if (from_file) {
            enum mk_err e = f->read(f->ctx, off, fl->cfg.buf, from_file);
            if (e) {
                struct mk_sb sb;
                fl_msg(fl, &sb);
                mk_sb_puts(&sb, "reading ");
                mk_sb_puts(&sb, f->name);
                mk_sb_puts(&sb, ": ");
                mk_sb_puts(&sb, mk_strerror(e));
                return e;
            }
        }
        memset(fl->cfg.buf + from_file, 0, n - from_file);
        enum mk_err e = fl_write(fl, fl->cfg.buf, n, "sending image data");
        if (e)
            return e;
        off += n;
        fl->prog.file_done += n;
        fl->prog.done += n;
        fl_progress(fl, fl->prog.stage, false);
        if (early && off < end) {
            /* A target that rejects the image early stops reading: look for its answer
             * instead of filling the line until the write timeout. */
            struct mk_firehose_msg msg;
            while (!early->done && fl_fh_next(fl, 0, &msg, false) == MK_OK)
                (void)mk_firehose_txn_on_msg(early, &msg);
            if (early->done)
                return MK_OK;
        }
    }
    return MK_OK;
}

/* <program ...> (built by the caller), rawmode ACK, the data, the final ACK. */
static enum mk_err fl_fh_program(struct mk_flash *fl, const char *xml, size_t xml_len,
                                 const struct mk_flash_file *f, uint64_t padded, uint32_t zero_tail,
                                 const char *what)
{
    struct mk_firehose_txn txn;
    enum mk_err e = fl_fh_command(fl, xml, xml_len, what, fl->cfg.cmd_timeout_ms, false, &txn);
    if (e)
        return e;
    if (txn.resp.rawmode != 1) {
        struct mk_sb sb;
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, "target ACKed ");
        mk_sb_puts(&sb, what);
        mk_sb_puts(&sb, " without rawmode=\"true\": it will not take the data");
        return MK_E_PROTO;
    }
    mk_firehose_rx_resume(&fl->rx);
    fl->prog.file = f->name;
    fl->prog.file_done = 0;
    fl->prog.file_total = padded + zero_tail;
    fl_progress(fl, MK_FLASH_STAGE_WRITE, true);

    struct mk_firehose_txn fin;
    mk_firehose_txn_init(&fin);
    uint64_t piece = mk_firehose_block_size(fl->payload, fl->sector_size);
    e = fl_send_file(fl, f, 0, padded, piece, &fin);
    if (e == MK_OK && !fin.done && zero_tail)
        e = fl_send_file(fl, NULL, 0, zero_tail, zero_tail, NULL);
    if (e)
        return e;
    fl_progress(fl, MK_FLASH_STAGE_FINALIZE, true);
    if (!fin.done) {
        e = fl_fh_wait(fl, &fin, fl->cfg.final_wait_ms);
        if (e) {
            struct mk_sb sb;
            char what2[96];
            mk_sb_init(&sb, what2, sizeof what2);
            mk_sb_puts(&sb, "the final ACK for ");
            mk_sb_puts(&sb, f->name);
            fl_msg_wait(fl, e, what2, fl->cfg.final_wait_ms);
            return e == MK_E_HANGUP ? e : MK_E_FIREHOSE_NAK;
        }
    }
    if (fin.result != MK_OK) {
        struct mk_sb sb;
        char what2[96];
        mk_sb_init(&sb, what2, sizeof what2);
        mk_sb_puts(&sb, f->name);
        mk_sb_puts(&sb, " (final response)");
        fl_msg_nak(fl, what2);
        return MK_E_FIREHOSE_NAK;
    }
    if (fin.resp.rawmode == 1) {
        struct mk_sb sb;
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, "final ACK for ");
        mk_sb_puts(&sb, f->name);
        mk_sb_puts(&sb, " still says rawmode=\"true\"");
        return MK_E_PROTO;
    }
    fl->zero_block_sent = zero_tail != 0;
    return MK_OK;
}

/* configure: the Sierra way takes the size the NAK names (libqmi, which always asks for
 * 1 MiB and expects that NAK, §2.3); the Qualcomm way sends configure again with it (qdl,
 * edl). */
static enum mk_err fl_fh_configure(struct mk_flash *fl, bool sierra)
{
    struct mk_firehose_configure c;
    memset(&c, 0, sizeof c);
    if (sierra) {
        /* libqmi's configure for Sierra (qfu-firehose-message.c, §2.2). */
        c.memory_name = "NAND";
        c.max_digest_table_size = 2048;
        c.target_name = "8960";
    } else {
        c.memory_name = fl->cfg.memory_name ? fl->cfg.memory_name : "eMMC";
        c.zlp_aware_host = true;
    }
    uint64_t ask = fl->cfg.max_payload;
    for (unsigned round = 0; round < 2; round++) {
        char xml[512];
        size_t len;
        c.max_payload_to_target = ask;
        if (mk_firehose_build_configure(xml, sizeof xml, &c, &len) != MK_OK)
            return MK_E_NOSPC;
        struct mk_firehose_txn txn;
        enum mk_err e =
            fl_fh_command(fl, xml, len, "configure", fl->cfg.cmd_timeout_ms, true, &txn);
        if (e)
            return e;
        uint64_t use = 0;
        bool retry = false;
        e = mk_firehose_negotiate(&txn.resp, ask, &use, &retry);
        if (e) {
            fl_msg_nak(fl, "configure (no usable MaxPayloadSizeToTargetInBytes in the answer)");
            return e;
        }
        fl->payload = use;
        if (!retry || sierra)
            break;
        ask = use;
        if (round == 1) {
            fl_msg_nak(fl, "configure with the size the target asked for");
            return MK_E_FIREHOSE_NAK;
        }
    }
    struct mk_sb sb;
    char line[96];
    mk_sb_init(&sb, line, sizeof line);
    mk_sb_puts(&sb, "Firehose max payload ");
    mk_sb_putu(&sb, fl->payload);
    mk_sb_puts(&sb, " bytes");
    fl_note(fl, MK_FLASH_NOTE_INFO, line);
    return MK_OK;
}

/* A command whose only answer is ACK (built is the builder's result). */
static enum mk_err fl_fh_simple(struct mk_flash *fl, enum mk_err built, const char *xml,
                                const size_t *len, const char *what)
{
    if (built)
        return built;
    struct mk_firehose_txn txn;
    return fl_fh_command(fl, xml, *len, what, fl->cfg.cmd_timeout_ms, false, &txn);
}

/* <power value="reset">: an ACK, or the port going away (the target reset before its ACK
 * reached us), is success; the caller then checks the module's version. */
static enum mk_err fl_fh_reset(struct mk_flash *fl, bool sierra)
{
    char xml[256];
    size_t len;
    fl_progress(fl, MK_FLASH_STAGE_RESET, true);
    enum mk_err e = mk_firehose_build_power(xml, sizeof xml, "reset", sierra ? 0 : -1, &len);
    if (e)
        return e;
    struct mk_firehose_txn txn;
    e = fl_fh_command(fl, xml, len, "power reset", fl->cfg.cmd_timeout_ms, false, &txn);
    if (e == MK_E_HANGUP) {
        fl_note(fl, MK_FLASH_NOTE_INFO, "the port went away after the reset command");
        e = MK_OK;
    }
    if (e == MK_OK)
        fl_progress(fl, MK_FLASH_STAGE_DONE, true);
    return e;
}

/* ---- Sahara ---- */

static enum mk_err fl_sahara_next(struct mk_flash *fl, uint64_t deadline,
                                  struct mk_sahara_event *ev)
{
    for (;;) {
        if (fl->in_head < fl->in_len) {
            size_t used = 0;
            enum mk_sahara_ev t = mk_sahara_stream_next(&fl->ss, fl->in + fl->in_head,
                                                        fl->in_len - fl->in_head, &used, ev);
            fl->in_head += used;
            if (t != MK_SAHARA_EV_NONE)
                return MK_OK;
            continue;
        }
        enum mk_err e = fl_fill(fl, deadline);
        if (e)
            return e;
    }
}

static enum mk_err fl_sahara_send(struct mk_flash *fl, const struct mk_sahara_pkt *pkt)
{
    uint8_t b[MK_SAHARA_MAX_PKT_LEN];
    size_t n;
    enum mk_err e = mk_sahara_build(pkt, b, sizeof b, &n);
    if (e)
        return e;
    return fl_write(fl, b, n, mk_sahara_cmd_name(pkt->cmd));
}

static enum mk_err fl_sahara_hello_rsp(struct mk_flash *fl, uint32_t mode)
{
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = MK_SAHARA_HELLO_RSP;
    p.u.hello_rsp.version = 2; /* libqmi and qdl answer version 2 (§1.4.2) */
    p.u.hello_rsp.version_compatible = 1;
    p.u.hello_rsp.mode = mode;
    return fl_sahara_send(fl, &p);
}

static void fl_msg_sahara_status(struct mk_flash *fl, const char *when, uint32_t status)
{
    struct mk_sb sb;
    fl_msg(fl, &sb);
    mk_sb_puts(&sb, "target ended the Sahara transfer ");
    mk_sb_puts(&sb, when);
    mk_sb_puts(&sb, " with status ");
    mk_sb_puts(&sb, mk_sahara_status_name(status));
    mk_sb_puts(&sb, " (0x");
    mk_sb_puthex(&sb, status, 2);
    mk_sb_puts(&sb, ")");
}

static void fl_warn_packet(struct mk_flash *fl, const struct mk_sahara_event *ev)
{
    char line[96];
    struct mk_sb sb;
    mk_sb_init(&sb, line, sizeof line);
    if (ev->type == MK_SAHARA_EV_ERROR) {
        mk_sb_puts(&sb, "skipped 8 bytes that are no Sahara header");
    } else {
        mk_sb_puts(&sb, "ignored an unexpected Sahara ");
        mk_sb_puts(&sb, mk_sahara_cmd_name(ev->pkt.cmd));
    }
    fl_note(fl, MK_FLASH_NOTE_WARN, line);
}

/*
 * Sierra boot-and-hold: HELLO -> HELLO_RSP(mode 3, as libqmi always answers) -> CMD_READY
 * -> EXECUTE(0xFF00) -> EXECUTE_RSP -> EXECUTE_DATA -> printable text ("confirmed" on an
 * EM7565; libqmi accepts any printable string) (§1.8 b). A target that got our probes may
 * answer END_IMAGE_TX(INVALID_COMMAND) and send HELLO again: the handshake restarts
 * (§7.2). No HELLO at all (forced protocol, HELLO eaten earlier): an unsolicited
 * HELLO_RSP, as qdl does (§1.9).
 */
static enum mk_err fl_sahara_boothold(struct mk_flash *fl)
{
    enum { W_HELLO, W_READY, W_EXEC_RSP, W_DATA } st = W_HELLO;
    unsigned restarts = 0;
    uint32_t wait = fl->cfg.cmd_timeout_ms;
    if (!mk_dldetect_result(&fl->det)->have_hello)
        wait = fl->cfg.hello_wait_ms;
    uint64_t deadline = fl_after(fl, wait);
    char text[64];
    size_t text_len = 0;
    fl_progress(fl, MK_FLASH_STAGE_HANDSHAKE, true);
    for (;;) {
        struct mk_sahara_event ev;
        enum mk_err e = fl_sahara_next(fl, deadline, &ev);
        if (e == MK_E_TIMEOUT && st == W_HELLO && restarts < fl->cfg.retries) {
            restarts++;
            fl_note(fl, MK_FLASH_NOTE_WARN, "no Sahara HELLO: sending an unsolicited HELLO_RSP");
            if ((e = fl_sahara_hello_rsp(fl, MK_SAHARA_MODE_COMMAND)) != MK_OK)
                return e;
            st = W_READY;
            deadline = fl_after(fl, fl->cfg.cmd_timeout_ms);
            continue;
        }
        if (e) {
            static const char *const waits[] = {
                "waiting for the Sahara HELLO", "waiting for CMD_READY",
                "waiting for EXECUTE_RSP (0xFF00)", "waiting for the 0xFF00 confirmation"};
            fl_msg_wait(fl, e, waits[st], (uint32_t)wait);
            return e;
        }
        if (ev.type == MK_SAHARA_EV_RAW) {
            for (size_t i = 0; i < ev.raw_len; i++)
                if (text_len < sizeof text - 1)
                    text[text_len++] = (char)ev.raw[i];
            if (mk_sahara_stream_raw_left(&fl->ss))
                continue;
            text[text_len] = '\0';
            for (size_t i = 0; i < text_len; i++) {
                if ((text[i] < 0x20 || text[i] > 0x7e) && !(text[i] == 0 && i + 1 == text_len)) {
                    struct mk_sb sb;
                    fl_msg(fl, &sb);
                    mk_sb_puts(&sb, "the 0xFF00 switch answered non-text bytes: not a Sierra "
                                    "boot-and-hold target?");
                    return MK_E_PROTO;
                }
            }
            char line[96];
            struct mk_sb sb;
            mk_sb_init(&sb, line, sizeof line);
            mk_sb_puts(&sb, "Sahara 0xFF00 switch to Firehose: \"");
            mk_sb_puts(&sb, text);
            mk_sb_puts(&sb, "\"");
            fl_note(fl, MK_FLASH_NOTE_INFO, line);
            return MK_OK;
        }
        if (ev.type == MK_SAHARA_EV_ERROR) {
            fl_warn_packet(fl, &ev);
            continue;
        }
        const struct mk_sahara_pkt *p = &ev.pkt;
        wait = fl->cfg.cmd_timeout_ms;
        if (p->cmd == MK_SAHARA_HELLO && st != W_DATA) {
            if (st != W_HELLO && restarts++ >= fl->cfg.retries) {
                struct mk_sb sb;
                fl_msg(fl, &sb);
                mk_sb_puts(&sb, "the target keeps restarting the Sahara handshake");
                return MK_E_PROTO;
            }
            if ((e = fl_sahara_hello_rsp(fl, MK_SAHARA_MODE_COMMAND)) != MK_OK)
                return e;
            st = W_READY;
        } else if (p->cmd == MK_SAHARA_CMD_READY && st == W_READY) {
            struct mk_sahara_pkt x;
            memset(&x, 0, sizeof x);
            x.cmd = MK_SAHARA_EXECUTE;
            x.u.execute.client_cmd = MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE;
            if ((e = fl_sahara_send(fl, &x)) != MK_OK)
                return e;
            st = W_EXEC_RSP;
        } else if (p->cmd == MK_SAHARA_EXECUTE_RSP && st == W_EXEC_RSP) {
            if (p->u.execute_rsp.client_cmd != MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE ||
                p->u.execute_rsp.data_len == 0 || p->u.execute_rsp.data_len > 4096) {
                struct mk_sb sb;
                fl_msg(fl, &sb);
                mk_sb_puts(&sb, "unexpected EXECUTE_RSP to 0xFF00 (command 0x");
                mk_sb_puthex(&sb, p->u.execute_rsp.client_cmd, 4);
                mk_sb_puts(&sb, ", ");
                mk_sb_putu(&sb, p->u.execute_rsp.data_len);
                mk_sb_puts(&sb, " bytes)");
                return MK_E_PROTO;
            }
            struct mk_sahara_pkt x;
            memset(&x, 0, sizeof x);
            x.cmd = MK_SAHARA_EXECUTE_DATA;
            x.u.execute.client_cmd = MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE;
            if ((e = fl_sahara_send(fl, &x)) != MK_OK)
                return e;
            mk_sahara_stream_expect_raw(&fl->ss, p->u.execute_rsp.data_len);
            st = W_DATA;
        } else if (p->cmd == MK_SAHARA_END_IMAGE_TX) {
            uint32_t status = p->u.end_image.status;
            if (status == MK_SAHARA_STATUS_INVALID_COMMAND && st != W_DATA &&
                restarts < fl->cfg.retries) {
                /* our probe (or a packet it garbled) was refused: a fresh HELLO follows */
                restarts++;
                fl_note(fl, MK_FLASH_NOTE_WARN,
                        "END_IMAGE_TX(INVALID_COMMAND): restarting the Sahara handshake");
                st = W_HELLO;
            } else {
                fl_msg_sahara_status(fl, st == W_EXEC_RSP ? "at the 0xFF00 switch" : "", status);
                return MK_E_SAHARA;
            }
        } else {
            fl_warn_packet(fl, &ev);
            continue;
        }
        deadline = fl_after(fl, wait);
    }
}

/*
 * PBL EDL: HELLO_RSP(mode 0), then serve every READ_DATA / READ_DATA_64 from the
 * programmer (ELF programmers are fetched out of order, §1.8 a), END_IMAGE_TX status,
 * DONE -> DONE_RESP (MSM8916 answers "more images" although it is done: accepted, qdl).
 */
static enum mk_err fl_sahara_programmer(struct mk_flash *fl, const struct mk_flash_file *prog)
{
    enum { W_HELLO, W_READ, W_DONE } st = W_HELLO;
    bool provoked = false, served = false;
    unsigned restarts = 0;
    uint32_t wait =
        mk_dldetect_result(&fl->det)->have_hello ? fl->cfg.cmd_timeout_ms : fl->cfg.hello_wait_ms;
    uint64_t deadline = fl_after(fl, wait);
    fl_progress(fl, MK_FLASH_STAGE_HANDSHAKE, true);
    for (;;) {
        struct mk_sahara_event ev;
        enum mk_err e = fl_sahara_next(fl, deadline, &ev);
        if (e == MK_E_TIMEOUT && st == W_HELLO && !provoked) {
            provoked = true;
            fl_note(fl, MK_FLASH_NOTE_WARN, "no Sahara HELLO: sending an unsolicited HELLO_RSP");
            if ((e = fl_sahara_hello_rsp(fl, MK_SAHARA_MODE_IMAGE_TX_PENDING)) != MK_OK)
                return e;
            st = W_READ;
            deadline = fl_after(fl, wait = fl->cfg.cmd_timeout_ms);
            continue;
        }
        if (e) {
            fl_msg_wait(fl, e,
                        st == W_HELLO  ? "waiting for the Sahara HELLO"
                        : st == W_READ ? "waiting for the target's next READ_DATA"
                                       : "waiting for DONE_RESP",
                        wait);
            return e;
        }
        if (ev.type != MK_SAHARA_EV_PACKET) {
            fl_warn_packet(fl, &ev);
            continue;
        }
        const struct mk_sahara_pkt *p = &ev.pkt;
        wait = fl->cfg.cmd_timeout_ms;
        if (p->cmd == MK_SAHARA_HELLO && st != W_DONE) {
            if ((e = fl_sahara_hello_rsp(fl, MK_SAHARA_MODE_IMAGE_TX_PENDING)) != MK_OK)
                return e;
            st = W_READ;
        } else if ((p->cmd == MK_SAHARA_READ_DATA || p->cmd == MK_SAHARA_READ_DATA_64) &&
                   st == W_READ) {
            uint64_t off = p->u.read_data.offset, len = p->u.read_data.length;
            if (len == 0 || off > prog->size || len > prog->size - off) {
                struct mk_sb sb;
                fl_msg(fl, &sb);
                mk_sb_puts(&sb, "the target asked for bytes ");
                mk_sb_putu(&sb, off);
                mk_sb_puts(&sb, "..");
                mk_sb_putu(&sb, off + len);
                mk_sb_puts(&sb, " of the ");
                mk_sb_putu(&sb, prog->size);
                mk_sb_puts(&sb, "-byte programmer ");
                mk_sb_puts(&sb, prog->name);
                mk_sb_puts(&sb, ": not a programmer this chip can load");
                return MK_E_EDL_PROGRAMMER;
            }
            fl->prog.stage = MK_FLASH_STAGE_PROGRAMMER;
            served = true;
            if ((e = fl_send_file(fl, prog, off, len, fl->cfg.cap, NULL)) != MK_OK)
                return e;
        } else if (p->cmd == MK_SAHARA_END_IMAGE_TX && st != W_DONE && !served &&
                   p->u.end_image.status == MK_SAHARA_STATUS_INVALID_COMMAND &&
                   restarts < fl->cfg.retries) {
            /* a probe (or a packet it garbled) was refused: a fresh HELLO follows (§7.2) */
            restarts++;
            fl_note(fl, MK_FLASH_NOTE_WARN,
                    "END_IMAGE_TX(INVALID_COMMAND): restarting the Sahara handshake");
            st = W_HELLO;
        } else if (p->cmd == MK_SAHARA_END_IMAGE_TX && st != W_DONE) {
            if (p->u.end_image.status != MK_SAHARA_STATUS_SUCCESS) {
                fl_msg_sahara_status(fl, "while loading the programmer", p->u.end_image.status);
                return MK_E_SAHARA;
            }
            struct mk_sahara_pkt x;
            memset(&x, 0, sizeof x);
            x.cmd = MK_SAHARA_DONE;
            if ((e = fl_sahara_send(fl, &x)) != MK_OK)
                return e;
            st = W_DONE;
        } else if (p->cmd == MK_SAHARA_DONE_RSP && st == W_DONE) {
            if (p->u.done_rsp.image_tx_status != MK_SAHARA_DONE_COMPLETE)
                fl_note(fl, MK_FLASH_NOTE_WARN,
                        "DONE_RESP says more images are pending; continuing (qdl: MSM8916)");
            fl_note(fl, MK_FLASH_NOTE_INFO, "programmer loaded and started");
            return MK_OK;
        } else {
            fl_warn_packet(fl, &ev);
            continue;
        }
        deadline = fl_after(fl, wait);
    }
}

/* ---- flows ---- */

static bool fl_check_buf(struct mk_flash *fl)
{
    if (fl->cfg.buf && fl->cfg.cap >= MK_FLASH_IO_CAP)
        return true;
    struct mk_sb sb;
    fl_msg(fl, &sb);
    mk_sb_puts(&sb, "work buffer missing or smaller than 4096 bytes");
    return false;
}

static uint64_t fl_round_up(uint64_t n, uint32_t unit)
{
    return unit ? (n + unit - 1) / unit * unit : n;
}

enum mk_err mk_flash_sierra(struct mk_flash *fl, const struct mk_flash_file *files, size_t n)
{
    if (!fl_check_buf(fl))
        return MK_E_INVAL;
    enum mk_err e;
    for (size_t i = 0; i < n; i++)
        if ((e = fl_check_cwe(fl, &files[i])) != MK_OK)
            return e;
    const struct mk_dl_result *r;
    if ((e = mk_flash_detect(fl, &r)) != MK_OK)
        return e;
    if (r->target == MK_DL_TARGET_PBL_EDL) {
        struct mk_sb sb;
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, "this is a Qualcomm PBL EDL target: it needs the vendor's signed "
                        "programmer and a partition package, not the Sierra 0xFF00 switch");
        return MK_E_EDL_PROGRAMMER;
    }
    if (r->proto != MK_DL_PROTO_SAHARA && r->proto != MK_DL_PROTO_FIREHOSE) {
        struct mk_sb sb;
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, "the port speaks ");
        mk_sb_puts(&sb, mk_dl_proto_name(r->proto));
        mk_sb_puts(&sb, " (");
        mk_sb_puts(&sb, mk_dl_target_name(r->target));
        mk_sb_puts(&sb, "), not Sahara or Firehose");
        return MK_E_DETECT;
    }
    if (r->proto == MK_DL_PROTO_SAHARA && (e = fl_sahara_boothold(fl)) != MK_OK)
        return e;

    fl_progress(fl, MK_FLASH_STAGE_CONFIGURE, true);
    char xml[512];
    size_t len;
    if ((e = fl_fh_simple(fl, mk_firehose_build_nop(xml, sizeof xml, MK_FIREHOSE_SIERRA, &len), xml,
                          &len, "NOP")) != MK_OK)
        return e;
    if ((e = fl_fh_configure(fl, true)) != MK_OK)
        return e;
    if ((e = fl_fh_simple(
             fl, mk_firehose_build_getstorageinfo(xml, sizeof xml, MK_FIREHOSE_SIERRA, 0, &len),
             xml, &len, "getStorageInfo")) != MK_OK)
        return e;

    fl->prog.count = (unsigned)n;
    fl->prog.total = fl->prog.done = 0;
    for (size_t i = 0; i < n; i++)
        fl->prog.total += fl_round_up(files[i].size, fl->sector_size) + FL_ZERO_BLOCK;
    for (size_t i = 0; i < n; i++) {
        fl->prog.index = (unsigned)i;
        e = mk_firehose_build_program_cwe(xml, sizeof xml, files[i].size, fl->sector_size,
                                          fl->pages_per_block, &len);
        if (e)
            return e;
        e = fl_fh_program(fl, xml, len, &files[i], fl_round_up(files[i].size, fl->sector_size),
                          FL_ZERO_BLOCK, "program spkg.cwe");
        if (e)
            return e;
    }
    return fl_fh_reset(fl, true);
}

enum mk_err mk_flash_edl(struct mk_flash *fl, const struct mk_flash_file *programmer,
                         const struct mk_flash_op *ops, size_t n)
{
    if (!fl_check_buf(fl))
        return MK_E_INVAL;
    struct mk_sb sb;
    for (size_t i = 0; i < n; i++) {
        const struct mk_flash_op *op = &ops[i];
        if (op->kind != MK_FLASH_OP_PROGRAM)
            continue;
        uint32_t sec = op->region.sector_size;
        uint64_t need = sec ? (op->file.size + sec - 1) / sec : 0;
        if (!sec || (op->region.num_sectors && need > op->region.num_sectors)) {
            fl_msg(fl, &sb);
            mk_sb_puts(&sb, op->file.name);
            mk_sb_puts(&sb, sec ? ": larger than its partition (num_partition_sectors)"
                                : ": SECTOR_SIZE_IN_BYTES missing");
            return MK_E_INVAL;
        }
    }
    enum mk_err e;
    const struct mk_dl_result *r;
    if ((e = mk_flash_detect(fl, &r)) != MK_OK)
        return e;
    if (r->proto != MK_DL_PROTO_SAHARA && r->proto != MK_DL_PROTO_FIREHOSE) {
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, "the port speaks ");
        mk_sb_puts(&sb, mk_dl_proto_name(r->proto));
        mk_sb_puts(&sb, " (");
        mk_sb_puts(&sb, mk_dl_target_name(r->target));
        mk_sb_puts(&sb, "), not Sahara or Firehose");
        return MK_E_DETECT;
    }
    if (r->proto == MK_DL_PROTO_SAHARA) {
        if (!programmer) {
            fl_msg(fl, &sb);
            mk_sb_puts(&sb, "this PBL EDL target needs the vendor's signed Firehose programmer "
                            "(prog_*firehose*.mbn) for this chip");
            return MK_E_EDL_PROGRAMMER;
        }
        fl->prog.total = programmer->size;
        fl->prog.file_total = programmer->size;
        if ((e = fl_sahara_programmer(fl, programmer)) != MK_OK)
            return e;
    }
    fl_progress(fl, MK_FLASH_STAGE_CONFIGURE, true);
    if ((e = fl_fh_configure(fl, false)) != MK_OK)
        return e;

    fl->prog.done = fl->prog.total = 0;
    fl->prog.count = 0;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind == MK_FLASH_OP_PROGRAM) {
            fl->prog.total += fl_round_up(ops[i].file.size, ops[i].region.sector_size);
            fl->prog.count++;
        }
    }
    unsigned index = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mk_flash_op *op = &ops[i];
        char xml[768];
        size_t len;
        if (op->kind == MK_FLASH_OP_PROGRAM) {
            struct mk_firehose_region reg = op->region;
            uint64_t padded = fl_round_up(op->file.size, reg.sector_size);
            reg.num_sectors = padded / reg.sector_size;
            if ((e = mk_firehose_build_program(xml, sizeof xml, &reg, &len)) != MK_OK)
                return e;
            fl->prog.index = index++;
            if ((e = fl_fh_program(fl, xml, len, &op->file, padded, 0, "program")) != MK_OK)
                return e;
        } else if (op->kind == MK_FLASH_OP_PATCH) {
            /* Patches aimed at files on the host are not for the device (qdl applies only
             * filename="DISK"). */
            if (!op->patch.filename || strcmp(op->patch.filename, "DISK") != 0)
                continue;
            fl_progress(fl, MK_FLASH_STAGE_PATCH, true);
            if ((e = fl_fh_simple(fl, mk_firehose_build_patch(xml, sizeof xml, &op->patch, &len),
                                  xml, &len, "patch")) != MK_OK)
                return e;
        }
    }
    return fl_fh_reset(fl, false);
}
