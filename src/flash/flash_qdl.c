/*
 * Sierra QDL flow for the 9x15/9x30 families (reference download-mode.md §3.4, libqmi's
 * qfu-qdl-device.c and download_image_qdl): SDP, HELLO with versions 4, 5, 6, then per
 * CWE file ufopen (carrying the 400-byte header), 1 MiB ufwrite chunks (the only packet
 * that is not HDLC-framed; each is acked with its sequence number), ufclose; finally
 * RESET. Every reply is awaited with its own deadline; the ack of the last chunk may
 * take qdl_final_wait_ms ("finalizing download...", 120 s in libqmi).
 */
#include <string.h>

#include "flash_int.h"
#include "modemkit/cwe.h"
#include "modemkit/qdl.h"

/* Next HDLC frame with a good CRC (bad ones are reported and skipped). */
static enum mk_err fq_frame(struct mk_flash *fl, uint64_t deadline, struct mk_hdlc_frame *f)
{
    for (;;) {
        if (fl->in_head < fl->in_len) {
            size_t used = 0;
            enum mk_step st =
                mk_hdlc_decode(&fl->hdlc, fl->in + fl->in_head, fl->in_len - fl->in_head, &used, f);
            fl->in_head += used;
            if (st == MK_PENDING)
                continue;
            if (f->err == MK_OK)
                return MK_OK;
            fl_note(fl, MK_FLASH_NOTE_WARN, "skipped a damaged HDLC frame");
            continue;
        }
        enum mk_err e = fl_fill(fl, deadline);
        if (e)
            return e;
    }
}

static enum mk_err fq_send(struct mk_flash *fl, const struct mk_qdl_pkt *pkt)
{
    /* payload at the start of the work buffer, the frame after it */
    uint8_t *raw = fl->cfg.buf, *frame = fl->cfg.buf + 1024;
    size_t n, fn;
    enum mk_err e = mk_qdl_build(pkt, raw, 1024, &n);
    if (e == MK_OK && pkt->type != MK_QDL_WRITE_REQ)
        e = mk_hdlc_encode(raw, n, true, frame, fl->cfg.cap - 1024, &fn);
    if (e)
        return e;
    if (pkt->type == MK_QDL_WRITE_REQ)
        return fl_write(fl, raw, n, "QDL write header"); /* not framed (§3.4) */
    return fl_write(fl, frame, fn, mk_qdl_type_name(pkt->type));
}

static void fq_msg(struct mk_flash *fl, const char *what, const char *detail, uint32_t code)
{
    struct mk_sb sb;
    fl_msg(fl, &sb);
    mk_sb_puts(&sb, what);
    mk_sb_puts(&sb, ": ");
    mk_sb_puts(&sb, detail);
    mk_sb_puts(&sb, " (0x");
    mk_sb_puthex(&sb, code, 2);
    mk_sb_puts(&sb, ")");
}

/*
 * Wait for a packet of type want. A QDL ERROR reply ends the wait with MK_E_QDL (*out
 * holds it, so the caller can decide it is harmless); other packets are skipped.
 */
static enum mk_err fq_wait(struct mk_flash *fl, enum mk_qdl_type want, uint32_t ms,
                           const char *what, struct mk_qdl_pkt *out)
{
    uint64_t deadline = fl_after(fl, ms);
    for (;;) {
        struct mk_hdlc_frame f;
        enum mk_err e = fq_frame(fl, deadline, &f);
        if (e) {
            fl_msg_wait(fl, e, what, ms);
            return e;
        }
        if (mk_qdl_parse(f.data, f.len, out) != MK_OK) {
            fl_note(fl, MK_FLASH_NOTE_WARN, "skipped an unknown QDL packet");
            continue;
        }
        if (out->type == want)
            return MK_OK;
        if (out->type == MK_QDL_ERROR) {
            fq_msg(fl, what, mk_qdl_error_name(out->u.error.code), out->u.error.code);
            return MK_E_QDL;
        }
        fl_note(fl, MK_FLASH_NOTE_WARN, "skipped an unexpected QDL packet");
    }
}

/* SDP: any answer will do (ACK 02; an ERROR "command unsupported" is ignored by libqmi),
 * and when detection already sent it, its answer is the frame detection kept. */
static enum mk_err fq_sdp(struct mk_flash *fl, const struct mk_dl_result *r)
{
    uint64_t deadline;
    if (!(r->proto == MK_DL_PROTO_QDL && r->last_probe == MK_DL_PROBE_SDP && !r->forced)) {
        struct mk_qdl_pkt p = {.type = MK_QDL_SDP};
        enum mk_err e = fq_send(fl, &p);
        if (e)
            return e;
    }
    deadline = fl_after(fl, fl->cfg.cmd_timeout_ms);
    struct mk_hdlc_frame f;
    enum mk_err e = fq_frame(fl, deadline, &f);
    if (e == MK_E_TIMEOUT) {
        fl_note(fl, MK_FLASH_NOTE_WARN, "no answer to the SDP switch; trying HELLO anyway");
        return MK_OK;
    }
    return e;
}

static enum mk_err fq_hello(struct mk_flash *fl)
{
    /* Gobi1000 speaks version 4, Gobi2000 5, MC7710 6: try each (§3.4). */
    for (uint8_t v = 4; v <= 6; v++) {
        struct mk_qdl_pkt p;
        memset(&p, 0, sizeof p);
        p.type = MK_QDL_HELLO_REQ;
        p.u.hello.max_ver = p.u.hello.min_ver = v;
        p.u.hello.features = MK_QDL_FEATURES_DEFAULT;
        enum mk_err e = fq_send(fl, &p);
        if (e)
            return e;
        struct mk_qdl_pkt rsp;
        e = fq_wait(fl, MK_QDL_HELLO_RSP, fl->cfg.cmd_timeout_ms, "QDL HELLO", &rsp);
        if (e == MK_OK)
            return MK_OK;
        if (e != MK_E_QDL && e != MK_E_TIMEOUT)
            return e;
    }
    struct mk_sb sb;
    fl_msg(fl, &sb);
    mk_sb_puts(&sb, "no QDL HELLO_RSP for protocol versions 4, 5 and 6");
    return MK_E_QDL;
}

static enum mk_err fq_status(struct mk_flash *fl, const char *what, uint16_t status)
{
    if (status == 0)
        return MK_OK;
    fq_msg(fl, what, "target reported a failure status", status);
    return MK_E_QDL;
}

static enum mk_err fq_file(struct mk_flash *fl, const struct mk_flash_file *file)
{
    enum mk_err e = fq_hello(fl);
    if (e)
        return e;
    /* ufopen carries the CWE header; the data after it goes in chunks */
    uint8_t hdr[MK_CWE_HDR_LEN];
    if ((e = file->read(file->ctx, 0, hdr, sizeof hdr)) != MK_OK)
        return e;
    struct mk_qdl_pkt p;
    memset(&p, 0, sizeof p);
    p.type = MK_QDL_OPEN_REQ;
    p.u.open_req.image_type = MK_QDL_IMAGE_CWE;
    p.u.open_req.window = 1;
    p.u.open_req.data_len = (uint32_t)(file->size - MK_CWE_HDR_LEN);
    p.u.open_req.header = hdr;
    p.u.open_req.header_len = sizeof hdr;
    if ((e = fq_send(fl, &p)) != MK_OK)
        return e;
    struct mk_qdl_pkt rsp;
    if ((e = fq_wait(fl, MK_QDL_OPEN_RSP, fl->cfg.cmd_timeout_ms, "QDL ufopen", &rsp)) != MK_OK)
        return e;
    if ((e = fq_status(fl, "QDL ufopen", rsp.u.open_rsp.status)) != MK_OK)
        return e;

    fl->prog.file = file->name;
    fl->prog.file_done = 0;
    fl->prog.file_total = file->size;
    fl_progress(fl, MK_FLASH_STAGE_WRITE, true);
    fl->prog.file_done += MK_CWE_HDR_LEN;
    fl->prog.done += MK_CWE_HDR_LEN;
    uint32_t chunk = fl->cfg.qdl_chunk ? fl->cfg.qdl_chunk : 1048576u;
    uint16_t seq = 0;
    for (uint64_t off = MK_CWE_HDR_LEN; off < file->size; seq++) {
        uint32_t n = (uint32_t)(file->size - off < chunk ? file->size - off : chunk);
        bool last = off + n >= file->size;
        memset(&p, 0, sizeof p);
        p.type = MK_QDL_WRITE_REQ;
        p.u.write_req.seq = seq;
        p.u.write_req.chunk_size = n;
        if ((e = fq_send(fl, &p)) != MK_OK)
            return e;
        if ((e = fl_send_file(fl, file, off, n, fl->cfg.cap, NULL)) != MK_OK)
            return e;
        off += n;
        if (last)
            fl_progress(fl, MK_FLASH_STAGE_FINALIZE, true);
        uint32_t ms = last ? fl->cfg.qdl_final_wait_ms : fl->cfg.cmd_timeout_ms;
        if ((e = fq_wait(fl, MK_QDL_WRITE_RSP, ms, "QDL ufwrite ack", &rsp)) != MK_OK)
            return e;
        if (rsp.u.write_rsp.seq != seq) {
            struct mk_sb sb;
            fl_msg(fl, &sb);
            mk_sb_puts(&sb, "QDL ufwrite: acked sequence ");
            mk_sb_putu(&sb, rsp.u.write_rsp.seq);
            mk_sb_puts(&sb, ", sent ");
            mk_sb_putu(&sb, seq);
            return MK_E_QDL;
        }
        if ((e = fq_status(fl, "QDL ufwrite", rsp.u.write_rsp.status)) != MK_OK)
            return e;
    }
    memset(&p, 0, sizeof p);
    p.type = MK_QDL_CLOSE_REQ;
    if ((e = fq_send(fl, &p)) != MK_OK)
        return e;
    if ((e = fq_wait(fl, MK_QDL_CLOSE_RSP, fl->cfg.cmd_timeout_ms, "QDL ufclose", &rsp)) != MK_OK)
        return e;
    return fq_status(fl, "QDL ufclose", rsp.u.close_rsp.status);
}

enum mk_err mk_flash_qdl(struct mk_flash *fl, const struct mk_flash_file *files, size_t n)
{
    if (!fl->cfg.buf || fl->cfg.cap < MK_FLASH_IO_CAP)
        return MK_E_INVAL;
    enum mk_err e;
    for (size_t i = 0; i < n; i++)
        if ((e = fl_check_cwe(fl, &files[i])) != MK_OK)
            return e;
    const struct mk_dl_result *r;
    if ((e = mk_flash_detect(fl, &r)) != MK_OK)
        return e;
    if (r->proto != MK_DL_PROTO_QDL) {
        struct mk_sb sb;
        fl_msg(fl, &sb);
        mk_sb_puts(&sb, "the port speaks ");
        mk_sb_puts(&sb, mk_dl_proto_name(r->proto));
        mk_sb_puts(&sb, ", not QDL");
        return MK_E_DETECT;
    }
    fl_progress(fl, MK_FLASH_STAGE_HANDSHAKE, true);
    if ((e = fq_sdp(fl, r)) != MK_OK)
        return e;
    fl->prog.count = (unsigned)n;
    fl->prog.done = fl->prog.total = 0;
    for (size_t i = 0; i < n; i++)
        fl->prog.total += files[i].size;
    for (size_t i = 0; i < n; i++) {
        fl->prog.index = (unsigned)i;
        if ((e = fq_file(fl, &files[i])) != MK_OK)
            return e;
    }
    fl_progress(fl, MK_FLASH_STAGE_RESET, true);
    struct mk_qdl_pkt p = {.type = MK_QDL_RESET_REQ};
    e = fq_send(fl, &p);
    if (e == MK_E_HANGUP)
        e = MK_OK;
    if (e == MK_OK)
        fl_progress(fl, MK_FLASH_STAGE_DONE, true);
    return e;
}
