/*
 * modemsim Sahara targets (reference download-mode.md §1):
 *
 * Sierra boot-and-hold (RC76xx, --download-mode sahara): HELLO(version 2, compatible 1,
 * max 0x400, mode 2) exactly once, when the port appears (seed 004's 48 bytes). A host
 * that is not reading then misses it: after --hello-lost-ms the unread HELLO is gone, as
 * when an earlier reader drained it. Any packet it cannot use (the QDL SDP probe, "AT",
 * a Firehose NOP) is answered with a fresh HELLO, as the RC7620 did in seed 004 (after
 * HELLO_RSP: END_IMAGE_TX(INVALID_COMMAND) first). HELLO_RSP(mode 3) -> CMD_READY;
 * EXECUTE(0xFF00) -> EXECUTE_RSP(0xFF00, 9); EXECUTE_DATA -> "confirmed" -> Firehose.
 *
 * Qualcomm PBL EDL (--download-mode edl): HELLO(version 2, compatible 1, mode 0);
 * HELLO_RSP(mode 0) -> it loads the programmer the way a PBL does: the ELF header, the
 * program headers, then every PT_LOAD segment, last segment first, in pieces (offsets
 * out of order, §1.8 a), alternating READ_DATA and READ_DATA_64. A file that is no ELF
 * ends with END_IMAGE_TX(INVALID_ELF_HEADER); an ELF without the "MODEMSIM-SIGNED"
 * marker in a segment with END_IMAGE_TX(IMAGE_AUTH_FAILURE) (a programmer not signed for
 * this chip). Then DONE -> DONE_RESP(complete) and the programmer's Firehose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "dl.h"
#include "modemkit/bytes.h"
#include "modemkit/sahara.h"

#define EDL_IMAGE_ID 13u /* the Firehose programmer (qdl SAHARA_ID_EHOSTDL_IMG) */
#define EDL_PIECE    65536u

static void put_pkt(struct sim *s, const struct mk_sahara_pkt *p)
{
    uint8_t b[64];
    size_t n;
    if (mk_sahara_build(p, b, sizeof b, &n) == MK_OK)
        sim_out(s, b, n);
}

static void send_hello(struct sim *s)
{
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = MK_SAHARA_HELLO;
    p.u.hello.version = 2;
    p.u.hello.version_compatible = 1;
    p.u.hello.max_cmd_len = 0x400;
    p.u.hello.mode = sim_dl.kind == SIM_DL_EDL ? MK_SAHARA_MODE_IMAGE_TX_PENDING
                                               : MK_SAHARA_MODE_MEMORY_DEBUG; /* seed 004 */
    put_pkt(s, &p);
    sim_dl.st = DL_SAHARA_WAIT_RSP;
}

static void send_end(struct sim *s, uint32_t status)
{
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = MK_SAHARA_END_IMAGE_TX;
    p.u.end_image.image_id = EDL_IMAGE_ID;
    p.u.end_image.status = status;
    put_pkt(s, &p);
}

/* Nobody read the HELLO: it is gone (any later opener sees a silent port). */
static void hello_lost(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    if (sim_dl.host_spoke || s->sfd < 0)
        return;
    s->out.len = 0;
    tcflush(s->sfd, TCIFLUSH);
    sim_log(s, "download mode: the unread HELLO is lost");
}

void dl_sahara_enter(struct sim *s)
{
    send_hello(s);
    if (s->opt.hello_lost_ms > 0)
        sim_timer_add(s, s->opt.hello_lost_ms, hello_lost, NULL, 0, 0);
}

/* ---- PBL programmer fetch ---- */

static void edl_read(struct sim *s, uint64_t off, uint64_t len)
{
    struct sim_dl *d = &sim_dl;
    static unsigned n;
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = (n++ & 1) ? MK_SAHARA_READ_DATA_64 : MK_SAHARA_READ_DATA;
    p.u.read_data.image_id = EDL_IMAGE_ID;
    p.u.read_data.offset = off;
    p.u.read_data.length = len;
    put_pkt(s, &p);
    d->read_off = off;
    d->read_len = d->raw_left = len;
    d->st = DL_EDL_READ;
    if (d->prog.len < off + len) { /* the programmer as fetched so far, holes are zeros */
        size_t old = d->prog.len, want = (size_t)(off + len);
        d->prog.p = sim_xrealloc(d->prog.p, want);
        d->prog.cap = want;
        memset(d->prog.p + old, 0, want - old);
        d->prog.len = want;
    }
}

static bool edl_signed(const struct sim_dl *d)
{
    static const char mark[] = "MODEMSIM-SIGNED";
    for (int i = 0; i < d->nseg; i++) {
        const uint8_t *p = d->prog.p + d->seg_off[i];
        for (uint32_t k = 0; k + sizeof mark - 1 <= d->seg_len[i]; k++)
            if (memcmp(p + k, mark, sizeof mark - 1) == 0)
                return true;
    }
    return false;
}

/* The previous read is complete: decide the next one, or end the transfer. */
static void edl_next(struct sim *s)
{
    struct sim_dl *d = &sim_dl;
    const uint8_t *b = d->prog.p;
    if (d->edl_phase == 0) {
        if (memcmp(b, "\x7f" "ELF", 4) != 0 || b[4] != 1) {
            send_end(s, MK_SAHARA_STATUS_INVALID_ELF_HEADER);
            d->st = DL_EDL_END;
            return;
        }
        uint32_t phoff = mk_get_le32(b + 28);
        uint16_t phentsize = mk_get_le16(b + 42), phnum = mk_get_le16(b + 44);
        if (phentsize != 32 || phnum == 0 || phnum > DL_MAX_SEGS || phoff > (1u << 20)) {
            send_end(s, MK_SAHARA_STATUS_UNSUPPORTED_NUM_PHDRS);
            d->st = DL_EDL_END;
            return;
        }
        d->edl_phase = 1;
        edl_read(s, phoff, (uint64_t)phentsize * phnum);
        return;
    }
    if (d->edl_phase == 1) {
        const uint8_t *ph = b + d->read_off;
        d->nseg = 0;
        for (uint64_t k = 0; k + 32 <= d->read_len && d->nseg < DL_MAX_SEGS; k += 32) {
            /* PT_LOAD with file bytes: p_type @0, p_offset @4, p_filesz @16 */
            if (mk_get_le32(ph + k) == 1 && mk_get_le32(ph + k + 16) > 0) {
                d->seg_off[d->nseg] = mk_get_le32(ph + k + 4);
                d->seg_len[d->nseg] = mk_get_le32(ph + k + 16);
                d->nseg++;
            }
        }
        d->edl_phase = 2;
        d->seg_i = d->nseg - 1; /* last segment first */
        d->seg_pos = 0;
    }
    while (d->seg_i >= 0 && d->seg_pos >= d->seg_len[d->seg_i]) {
        d->seg_i--;
        d->seg_pos = 0;
    }
    if (d->seg_i >= 0) {
        uint32_t left = d->seg_len[d->seg_i] - d->seg_pos;
        uint32_t n = left < EDL_PIECE ? left : EDL_PIECE;
        uint64_t off = (uint64_t)d->seg_off[d->seg_i] + d->seg_pos;
        d->seg_pos += n;
        edl_read(s, off, n);
        return;
    }
    send_end(s, edl_signed(d) ? MK_SAHARA_STATUS_SUCCESS : MK_SAHARA_STATUS_IMAGE_AUTH_FAILURE);
    d->st = DL_EDL_END;
}

/* ---- packets ---- */

static void junk(struct sim *s)
{
    if (sim_dl.st != DL_SAHARA_WAIT_RSP)
        send_end(s, MK_SAHARA_STATUS_INVALID_COMMAND);
    send_hello(s);
}

static void packet(struct sim *s, const struct mk_sahara_pkt *p)
{
    struct sim_dl *d = &sim_dl;
    struct mk_sahara_pkt r;
    memset(&r, 0, sizeof r);
    if (p->cmd == MK_SAHARA_HELLO_RSP && d->st == DL_SAHARA_WAIT_RSP) {
        if (d->kind == SIM_DL_EDL) {
            if (p->u.hello_rsp.mode != MK_SAHARA_MODE_IMAGE_TX_PENDING) {
                send_end(s, MK_SAHARA_STATUS_INVALID_MODE);
                send_hello(s);
                return;
            }
            d->edl_phase = 0;
            sim_buf_free(&d->prog);
            edl_read(s, 0, 52); /* the ELF32 header */
            return;
        }
        if (p->u.hello_rsp.mode != MK_SAHARA_MODE_COMMAND) {
            /* the boot-and-hold SBL has no image to receive */
            send_end(s, MK_SAHARA_STATUS_INVALID_MODE);
            send_hello(s);
            return;
        }
        r.cmd = MK_SAHARA_CMD_READY;
        put_pkt(s, &r);
        d->st = DL_SAHARA_CMD;
    } else if (p->cmd == MK_SAHARA_EXECUTE && d->st == DL_SAHARA_CMD) {
        if (p->u.execute.client_cmd != MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE) {
            send_end(s, MK_SAHARA_STATUS_EXEC_CMD_UNSUPPORTED);
            send_hello(s);
            return;
        }
        r.cmd = MK_SAHARA_EXECUTE_RSP;
        r.u.execute_rsp.client_cmd = p->u.execute.client_cmd;
        r.u.execute_rsp.data_len = 9;
        put_pkt(s, &r);
        d->st = DL_SAHARA_EXEC;
    } else if (p->cmd == MK_SAHARA_EXECUTE_DATA && d->st == DL_SAHARA_EXEC) {
        sim_out(s, "confirmed", 9);
        dl_fh_start(s);
    } else if (p->cmd == MK_SAHARA_DONE && d->st == DL_EDL_END) {
        r.cmd = MK_SAHARA_DONE_RSP;
        r.u.done_rsp.image_tx_status = MK_SAHARA_DONE_COMPLETE;
        put_pkt(s, &r);
        dl_fh_start(s);
        char b[128];
        size_t n;
        if (mk_firehose_build_log(b, sizeof b, "INFO: modemsim programmer started", &n) == MK_OK)
            sim_out(s, b, n);
    } else if (p->cmd == MK_SAHARA_RESET) {
        r.cmd = MK_SAHARA_RESET_RSP;
        put_pkt(s, &r);
        sim_dev_reset_when_flushed(s);
    } else {
        junk(s);
    }
}

void dl_sahara_input(struct sim *s, const uint8_t *p, size_t n)
{
    struct sim_dl *d = &sim_dl;
    sim_buf_put(&d->in, p, n);
    size_t pos = 0;
    while (pos < d->in.len && d->st != DL_OFF && d->st != DL_FH) {
        const uint8_t *b = d->in.p + pos;
        size_t avail = d->in.len - pos;
        if (d->st == DL_EDL_READ) {
            size_t k = avail < d->raw_left ? avail : (size_t)d->raw_left;
            memcpy(d->prog.p + d->read_off + (d->read_len - d->raw_left), b, k);
            pos += k;
            d->raw_left -= k;
            if (d->raw_left == 0) {
                if (dl_packet(s, "programmer data"))
                    return;
                edl_next(s);
            }
            continue;
        }
        /* cmd is a small LE u32, length 8..0x40: anything else is not Sahara */
        bool bad = b[0] == 0 || b[0] > MK_SAHARA_WRITE_DATA ||
                   (avail >= 4 && (b[1] | b[2] | b[3])) ||
                   (avail >= 8 && (mk_get_le32(b + 4) < 8 || mk_get_le32(b + 4) > 0x40));
        if (bad) {
            pos = d->in.len;
            if (dl_packet(s, "not a Sahara packet"))
                return;
            junk(s);
            break;
        }
        if (avail < 8 || avail < mk_get_le32(b + 4))
            break;
        uint32_t len = mk_get_le32(b + 4);
        struct mk_sahara_pkt pkt;
        enum mk_err e = mk_sahara_parse(b, len, &pkt);
        pos += len;
        if (dl_packet(s, e == MK_OK ? mk_sahara_cmd_name(pkt.cmd) : "bad Sahara packet"))
            return;
        if (e == MK_OK)
            packet(s, &pkt);
        else
            junk(s);
    }
    if (d->st == DL_OFF)
        return;
    /* what follows the switch (none in practice) belongs to Firehose */
    size_t rest = d->in.len - pos;
    if (d->st == DL_FH && rest) {
        uint8_t *tmp = sim_xmalloc(rest);
        memcpy(tmp, d->in.p + pos, rest);
        sim_buf_free(&d->in);
        dl_fh_input(s, tmp, rest);
        free(tmp);
        return;
    }
    sim_buf_consume(&d->in, pos);
}
