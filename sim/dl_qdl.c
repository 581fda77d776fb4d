/*
 * modemsim Sierra QDL target, 9x30 style (--download-mode qdl; reference
 * download-mode.md §3.4). Silent until the host speaks (no HELLO of its own).
 *   SDP (70 00 00)        DLOAD ACK (02)
 *   HELLO_REQ             HELLO_RSP for version 6 (MC7710 and later); other versions get
 *                         ERROR 0x16 "command unsupported" (UNVERIFIED: which error a real
 *                         9x30 gives a Gobi1000/2000 HELLO)
 *   OPEN_UNFRAMED (0x80)  the 400-byte CWE header must be plausible and for this product:
 *                         OPEN_RSP status 0, else status 1
 *   WRITE_UNFRAMED        13-byte header (CRC checked) + data, unframed; the sequence must
 *                         count from 0 (else ERROR 0x0F "out of sequence"); each chunk is
 *                         acked with its sequence number; the last ack waits until the whole
 *                         image is checked and written (--dl-final-ms), status 0x0A (write
 *                         verify failed) when its CRCs or product are wrong
 *   CLOSE_UNFRAMED        CLOSE_RSP status 0
 *   RESET                 the module resets
 */
#include <stdio.h>
#include <string.h>

#include "dl.h"
#include "modemkit/hdlc.h"
#include "modemkit/qdl.h"

#define QDL_VERSION 6

void dl_qdl_enter(struct sim *s)
{
    (void)s;
    sim_dl.st = DL_QDL;
}

static void put(struct sim *s, const struct mk_qdl_pkt *pkt)
{
    uint8_t raw[64], fr[160];
    size_t n, fn;
    if (mk_qdl_build(pkt, raw, sizeof raw, &n) == MK_OK &&
        mk_hdlc_encode(raw, n, true, fr, sizeof fr, &fn) == MK_OK)
        sim_out(s, fr, fn);
}

static void qdl_error(struct sim *s, uint32_t code)
{
    struct mk_qdl_pkt r;
    memset(&r, 0, sizeof r);
    r.type = MK_QDL_ERROR;
    r.u.error.code = code;
    put(s, &r);
}

static uint16_t write_status;

static void write_ack(struct sim *s, void *ctx, intptr_t seq)
{
    (void)ctx;
    struct mk_qdl_pkt r;
    memset(&r, 0, sizeof r);
    r.type = MK_QDL_WRITE_RSP;
    r.u.write_rsp.seq = (uint16_t)seq;
    r.u.write_rsp.status = write_status;
    put(s, &r);
}

/* The last chunk is in: check and write the whole image, then ack. */
static void image_done(struct sim *s, uint16_t seq)
{
    struct sim_dl *d = &sim_dl;
    struct mk_cwe_info info;
    char why[300];
    write_status = 0;
    if (dl_check_cwe(s, d->data.p, d->data.len, &info, why, sizeof why) != 0) {
        sim_log(s, "download mode: image refused: %s", why);
        write_status = 0x0A; /* write verify failed */
        write_ack(s, NULL, seq);
        return;
    }
    dl_apply_cwe(s, d->data.p, d->data.len, &info);
    dl_mark_complete(s);
    if (s->opt.dl_final_ms > 0)
        sim_timer_add(s, s->opt.dl_final_ms, write_ack, NULL, seq, 0);
    else
        write_ack(s, NULL, seq);
}

static void frame(struct sim *s, const uint8_t *p, size_t n)
{
    struct sim_dl *d = &sim_dl;
    struct mk_qdl_pkt pkt, r;
    memset(&r, 0, sizeof r);
    if (mk_qdl_parse(p, n, &pkt) != MK_OK) {
        qdl_error(s, 5); /* invalid command */
        return;
    }
    switch (pkt.type) {
    case MK_QDL_SDP:
        r.type = MK_QDL_DLOAD_ACK;
        put(s, &r);
        break;
    case MK_QDL_HELLO_REQ:
        if (pkt.u.hello.max_ver < QDL_VERSION || pkt.u.hello.min_ver > QDL_VERSION) {
            qdl_error(s, MK_QDL_ERR_CMD_UNSUPPORTED);
            break;
        }
        r.type = MK_QDL_HELLO_RSP;
        r.u.hello.max_ver = r.u.hello.min_ver = QDL_VERSION;
        r.u.hello.features = MK_QDL_FEATURES_DEFAULT;
        put(s, &r);
        break;
    case MK_QDL_OPEN_REQ: {
        r.type = MK_QDL_OPEN_RSP;
        r.u.open_rsp.window = 1;
        r.u.open_rsp.chunk_size = 1048576;
        const struct mk_qdl_open_req *o = &pkt.u.open_req;
        bool ok = o->image_type == MK_QDL_IMAGE_CWE && o->header_len == MK_CWE_HDR_LEN &&
                  mk_cwe_header_plausible(o->header);
        if (ok && s->prof->dl_product) {
            struct mk_cwe_header h;
            mk_cwe_header_decode(o->header, &h);
            ok = strcmp(h.product, s->prof->dl_product) == 0;
        }
        if (!ok) {
            r.u.open_rsp.status = 1;
            put(s, &r);
            break;
        }
        sim_buf_free(&d->data);
        sim_buf_put(&d->data, o->header, o->header_len);
        d->qdl_len = o->data_len;
        d->qdl_got = 0;
        d->seq = 0;
        dl_mark_incomplete(s);
        put(s, &r);
        break;
    }
    case MK_QDL_CLOSE_REQ:
        r.type = MK_QDL_CLOSE_RSP;
        r.u.close_rsp.image_type = MK_QDL_IMAGE_CWE;
        r.u.close_rsp.status = sim_dl_boot_download(s) ? 1 : 0;
        put(s, &r);
        break;
    case MK_QDL_RESET_REQ:
        sim_dev_reset_when_flushed(s);
        break;
    default:
        qdl_error(s, MK_QDL_ERR_CMD_UNSUPPORTED);
    }
}

void dl_qdl_input(struct sim *s, const uint8_t *p, size_t n)
{
    struct sim_dl *d = &sim_dl;
    sim_buf_put(&d->in, p, n);
    size_t pos = 0;
    while (pos < d->in.len && d->st != DL_OFF) {
        const uint8_t *b = d->in.p + pos;
        size_t avail = d->in.len - pos;
        if (d->st == DL_QDL_RAW) {
            size_t k = avail < d->chunk_left ? avail : d->chunk_left;
            sim_buf_put(&d->data, b, k);
            pos += k;
            d->chunk_left -= (uint32_t)k;
            if (dl_raw(s, k))
                return;
            if (d->chunk_left)
                continue;
            d->st = DL_QDL;
            uint16_t seq = d->seq++;
            if (d->qdl_got >= d->qdl_len)
                image_done(s, seq);
            else
                write_ack(s, NULL, seq);
            continue;
        }
        if (b[0] == MK_QDL_WRITE_REQ) {
            if (avail < MK_QDL_WRITE_HDR_LEN)
                break;
            struct mk_qdl_pkt w;
            pos += MK_QDL_WRITE_HDR_LEN;
            if (dl_packet(s, "ufwrite header"))
                return;
            if (mk_qdl_parse(b, MK_QDL_WRITE_HDR_LEN, &w) != MK_OK) {
                qdl_error(s, 0x17); /* bad CRC */
                continue;
            }
            if (w.u.write_req.seq != d->seq || d->qdl_got + w.u.write_req.chunk_size > d->qdl_len) {
                qdl_error(s, 0x0F); /* command out of sequence */
                pos = d->in.len;
                break;
            }
            d->chunk_left = w.u.write_req.chunk_size;
            d->qdl_got += w.u.write_req.chunk_size;
            d->raw_seen = 0;
            d->st = DL_QDL_RAW;
            continue;
        }
        /* one HDLC frame: leading flags, escaped bytes, the closing flag */
        size_t st = 0;
        while (st < avail && b[st] == MK_HDLC_FLAG)
            st++;
        size_t end = st;
        while (end < avail && b[end] != MK_HDLC_FLAG)
            end++;
        if (end >= avail) {
            if (st == avail)
                pos += st;
            break;
        }
        pos += end + 1;
        uint8_t buf[1024];
        struct mk_hdlc_decoder dec;
        mk_hdlc_decoder_init(&dec, buf, sizeof buf);
        struct mk_hdlc_frame f;
        size_t used;
        if (dl_packet(s, "QDL frame"))
            return;
        if (mk_hdlc_decode(&dec, b + st, end + 1 - st, &used, &f) == MK_DONE && f.err == MK_OK)
            frame(s, f.data, f.len);
        else
            qdl_error(s, 0x17);
    }
    if (d->st != DL_OFF)
        sim_buf_consume(&d->in, pos);
}
