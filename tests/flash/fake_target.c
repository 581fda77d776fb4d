/* In-process download-mode target for session tests (see fake_target.h). Test-only code:
 * it allocates with malloc and aborts when out of memory. */
#include "fake_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/bytes.h"
#include "modemkit/cwe.h"
#include "modemkit/hdlc.h"
#include "modemkit/qdl.h"
#include "modemkit/sahara.h"

enum {
    S_WAIT_RSP, /* Sahara: HELLO sent, waiting for HELLO_RSP */
    S_CMD,      /* Sierra: command mode */
    S_EXEC,     /* Sierra: EXECUTE_RSP sent */
    S_READ,     /* EDL: READ_DATA sent, raw bytes expected */
    S_EDL_END,  /* EDL: END_IMAGE_TX sent, waiting for DONE */
    S_FH,       /* Firehose commands */
    S_FH_RAW,   /* Firehose program data */
    S_QDL,      /* QDL frames */
    S_QDL_RAW,  /* QDL ufwrite data */
    S_DEAD,
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t ft_now(const struct ft *t)
{
    return t->vc.now_ms;
}

static void put(struct ft *t, uint32_t delay_ms, const void *p, size_t n)
{
    if (t->nout == t->capout) {
        t->capout = t->capout ? 2 * t->capout : 16;
        t->out = xrealloc(t->out, t->capout * sizeof *t->out);
    }
    struct ft_seg *s = &t->out[t->nout++];
    s->due_ms = t->vc.now_ms + delay_ms;
    s->p = xrealloc(NULL, n);
    memcpy(s->p, p, n);
    s->len = n;
    s->off = 0;
}

static void put_sahara(struct ft *t, const struct mk_sahara_pkt *pkt)
{
    uint8_t b[64];
    size_t n;
    if (mk_sahara_build(pkt, b, sizeof b, &n) != MK_OK)
        abort();
    put(t, 0, b, n);
}

static void send_hello(struct ft *t)
{
    if (t->silent == FT_SILENT_HELLO)
        return;
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = MK_SAHARA_HELLO;
    p.u.hello.version = 2;
    p.u.hello.version_compatible = 1;
    p.u.hello.max_cmd_len = 0x400;
    /* seed 004: the RC7620 boot-and-hold HELLO offers mode 2; a PBL offers mode 0 */
    p.u.hello.mode = t->kind == FT_EDL ? MK_SAHARA_MODE_IMAGE_TX_PENDING : 2;
    put_sahara(t, &p);
    t->hellos++;
    t->st = S_WAIT_RSP;
}

static void send_end_image(struct ft *t, uint32_t status)
{
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = MK_SAHARA_END_IMAGE_TX;
    p.u.end_image.image_id = 13;
    p.u.end_image.status = status;
    put_sahara(t, &p);
}

static void fh_put(struct ft *t, uint32_t delay, const char *doc, size_t n)
{
    put(t, delay, doc, n);
}

static void fh_log(struct ft *t, const char *text)
{
    char b[512];
    size_t n;
    if (mk_firehose_build_log(b, sizeof b, text, &n) != MK_OK)
        abort();
    fh_put(t, 0, b, n);
}

static void fh_resp(struct ft *t, bool ack, const struct mk_firehose_attr *a, size_t na,
                    uint32_t delay)
{
    char b[512];
    size_t n;
    if (mk_firehose_build_response(b, sizeof b, ack, a, na, &n) != MK_OK)
        abort();
    fh_put(t, delay, b, n);
    if (!ack)
        t->naks++;
}

static bool tag_is(const struct mk_firehose_msg *m, const char *name)
{
    size_t n = strlen(name);
    if (m->tag_len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = m->tag[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (char)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

static void data_add(struct ft *t, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (t->data_len + n > t->data_cap) {
        t->data_cap = (t->data_len + n) * 2;
        t->data = xrealloc(t->data, t->data_cap);
    }
    memcpy(t->data + t->data_len, p, n);
    t->data_len += n;
}

/* ---- Firehose ---- */

static void fh_finish_program(struct ft *t)
{
    mk_firehose_rx_resume(&t->rx);
    t->st = S_FH;
    if (t->silent == FT_SILENT_FINAL)
        return;
    if (t->product && t->data_len >= MK_CWE_HDR_LEN) {
        struct mk_cwe_header h;
        /* the header of the file just received starts where this program's data began */
        mk_cwe_header_decode(t->data + t->prog_start, &h);
        if (strcmp(h.product, t->product) != 0) {
            char log[128];
            snprintf(log, sizeof log, "ERROR: image is for product %s, this is %s", h.product,
                     t->product);
            fh_log(t, log);
            fh_resp(t, false, NULL, 0, 0);
            return;
        }
    }
    if (t->nak_final) {
        fh_log(t, "ERROR: flash write failed");
        fh_resp(t, false, NULL, 0, 0);
        return;
    }
    struct mk_firehose_attr a[] = {{"rawmode", "false"}};
    fh_resp(t, true, a, 1, t->final_delay_ms);
}

static void fh_element(struct ft *t, const struct mk_firehose_msg *m)
{
    size_t l = strlen(t->cmds);
    snprintf(t->cmds + l, sizeof t->cmds - l, "%s%.*s", l ? " " : "", (int)m->tag_len, m->tag);
    if (t->junk_pending && t->zero_nak == FT_ZERO_NAK_NEXT) {
        /* the zero block and this command form one malformed document */
        t->junk_pending = false;
        fh_log(t, "ERROR: XML not formed correctly");
        fh_resp(t, false, NULL, 0, 0);
        return;
    }
    t->junk_pending = false;
    if (t->nak_cmd && tag_is(m, t->nak_cmd)) {
        fh_log(t, "ERROR: command refused by the fake target");
        fh_resp(t, false, NULL, 0, 0);
        return;
    }
    if (tag_is(m, "nop")) {
        if (t->silent != FT_SILENT_NOP)
            fh_resp(t, true, NULL, 0, 0);
    } else if (tag_is(m, "configure")) {
        if (t->silent == FT_SILENT_CONFIGURE)
            return;
        uint64_t ask = 0;
        (void)mk_firehose_attr_u64(m, "MaxPayloadSizeToTargetInBytes", &ask);
        char mp[24];
        snprintf(mp, sizeof mp, "%u", t->max_payload);
        struct mk_firehose_attr a[] = {{"MemoryName", "NAND"},
                                       {"MaxPayloadSizeToTargetInBytes", mp},
                                       {"MaxPayloadSizeToTargetInBytesSupported", mp},
                                       {"TargetName", "9x07"}};
        fh_resp(t, ask <= t->max_payload, a, 4, 0);
        if (ask <= t->max_payload)
            t->payload = (uint32_t)ask;
    } else if (tag_is(m, "getStorageInfo")) {
        if (t->silent == FT_SILENT_STORAGE)
            return;
        if (t->sector_size) {
            char log[96];
            snprintf(log, sizeof log, "INFO: sector_size_in_bytes=%u pages_in_block=64",
                     t->sector_size);
            fh_log(t, log);
        }
        fh_resp(t, true, NULL, 0, 0);
    } else if (tag_is(m, "program")) {
        t->programs++;
        snprintf(t->program_attrs, sizeof t->program_attrs, "%.*s", (int)m->attrs_len, m->attrs);
        if (t->silent == FT_SILENT_PROGRAM)
            return;
        uint64_t sectors = 0, ss = 0;
        (void)mk_firehose_attr_u64(m, "num_partition_sectors", &sectors);
        (void)mk_firehose_attr_u64(m, "SECTOR_SIZE_IN_BYTES", &ss);
        t->raw_left = sectors * ss;
        t->prog_start = t->data_len;
        struct mk_firehose_attr a[] = {{"rawmode", "true"}};
        fh_resp(t, true, a, 1, 0);
        mk_firehose_rx_hold(&t->rx);
        t->st = S_FH_RAW;
        if (t->raw_left == 0)
            fh_finish_program(t);
    } else if (tag_is(m, "patch")) {
        t->patches++;
        fh_resp(t, true, NULL, 0, 0);
    } else if (tag_is(m, "power")) {
        t->resets++;
        if (t->silent == FT_SILENT_POWER)
            return;
        fh_resp(t, true, NULL, 0, 0);
        if (t->hangup_on_reset)
            t->st = S_DEAD;
    } else {
        fh_resp(t, false, NULL, 0, 0);
    }
}

static void fh_input(struct ft *t, const uint8_t *p, size_t n)
{
    for (;;) {
        if (t->st == S_FH_RAW) {
            const uint8_t *raw;
            size_t have;
            mk_firehose_rx_raw(&t->rx, &raw, &have);
            size_t k = have < t->raw_left ? have : (size_t)t->raw_left;
            data_add(t, raw, k);
            mk_firehose_rx_consume(&t->rx, k);
            t->raw_left -= k;
            k = n < t->raw_left ? n : (size_t)t->raw_left;
            data_add(t, p, k);
            p += k;
            n -= k;
            t->raw_left -= k;
            if (t->raw_left)
                return;
            fh_finish_program(t);
        }
        struct mk_firehose_msg m;
        while (t->st == S_FH && mk_firehose_rx_next(&t->rx, &m) == MK_DONE) {
            if (m.type == MK_FIREHOSE_MSG_GARBAGE) {
                t->zero_tail += m.garbage_len;
                if (t->zero_nak == FT_ZERO_NAK_AT_ONCE && !t->junk_pending) {
                    fh_log(t, "ERROR: XML not formed correctly");
                    fh_resp(t, false, NULL, 0, 0);
                }
                t->junk_pending = true;
            } else if (m.type == MK_FIREHOSE_MSG_ELEMENT) {
                fh_element(t, &m);
            }
        }
        if (t->st == S_FH_RAW)
            continue;
        if (!n || t->st != S_FH)
            return;
        size_t took = mk_firehose_rx_feed(&t->rx, p, n);
        p += took;
        n -= took;
    }
}

/* ---- Sahara ---- */

/* EDL: the programmer is fetched out of order: header, tail, then the middle. */
static bool edl_next_read(struct ft *t)
{
    size_t len = t->programmer_len;
    size_t head = len < 64 ? len : 64, tail = len - head < 100 ? len - head : 100;
    uint64_t off, n;
    switch (t->read_step++) {
    case 0:
        off = 0;
        n = head;
        break;
    case 1:
        off = len - tail;
        n = tail;
        break;
    case 2:
        off = head;
        n = len - head - tail;
        break;
    default:
        return false;
    }
    if (n == 0)
        return edl_next_read(t);
    struct mk_sahara_pkt p;
    memset(&p, 0, sizeof p);
    p.cmd = t->read_step == 2 ? MK_SAHARA_READ_DATA_64 : MK_SAHARA_READ_DATA;
    p.u.read_data.image_id = 13;
    p.u.read_data.offset = off;
    p.u.read_data.length = n;
    put_sahara(t, &p);
    if (p.cmd == MK_SAHARA_READ_DATA_64)
        t->reads64++;
    else
        t->reads++;
    t->raw_left = n;
    t->st = S_READ;
    return true;
}

static void sahara_packet(struct ft *t, const struct mk_sahara_pkt *p)
{
    struct mk_sahara_pkt r;
    memset(&r, 0, sizeof r);
    if (p->cmd == MK_SAHARA_HELLO_RSP && t->st == S_WAIT_RSP) {
        if (t->restart_once && !t->restarted) {
            t->restarted = true;
            send_end_image(t, MK_SAHARA_STATUS_INVALID_COMMAND);
            send_hello(t);
            return;
        }
        if (t->kind == FT_EDL) {
            if (t->silent == FT_SILENT_READ)
                return;
            t->read_step = 0;
            (void)edl_next_read(t);
            return;
        }
        if (t->silent == FT_SILENT_CMD_READY || p->u.hello_rsp.mode != MK_SAHARA_MODE_COMMAND)
            return;
        r.cmd = MK_SAHARA_CMD_READY;
        put_sahara(t, &r);
        t->st = S_CMD;
    } else if (p->cmd == MK_SAHARA_EXECUTE && t->st == S_CMD) {
        if (t->silent == FT_SILENT_EXEC_RSP)
            return;
        r.cmd = MK_SAHARA_EXECUTE_RSP;
        r.u.execute_rsp.client_cmd = p->u.execute.client_cmd;
        r.u.execute_rsp.data_len = 9;
        put_sahara(t, &r);
        t->st = S_EXEC;
    } else if (p->cmd == MK_SAHARA_EXECUTE_DATA && t->st == S_EXEC) {
        if (t->silent == FT_SILENT_CONFIRM)
            return;
        put(t, 0, "confirmed", 9);
        t->st = S_FH;
    } else if (p->cmd == MK_SAHARA_DONE && t->st == S_EDL_END) {
        r.cmd = MK_SAHARA_DONE_RSP;
        r.u.done_rsp.image_tx_status = MK_SAHARA_DONE_COMPLETE;
        put_sahara(t, &r);
        fh_log(t, "INFO: programmer running");
        t->st = S_FH;
    } else {
        /* unexpected: the real targets re-send HELLO (reference §1.10) */
        if (t->st != S_WAIT_RSP)
            send_end_image(t, MK_SAHARA_STATUS_INVALID_COMMAND);
        send_hello(t);
    }
}

/* Returns bytes consumed from p (the rest belongs to Firehose once it has started). */
static size_t sahara_input(struct ft *t, const uint8_t *p, size_t n)
{
    size_t used = 0;
    while (used < n && t->st != S_FH) {
        if (t->st == S_READ) {
            size_t k = n - used < t->raw_left ? n - used : (size_t)t->raw_left;
            data_add(t, p + used, k);
            used += k;
            t->raw_left -= k;
            if (t->raw_left == 0 && !edl_next_read(t)) {
                send_end_image(t, t->end_image_status);
                t->st = S_EDL_END;
            }
            continue;
        }
        uint8_t c = p[used];
        if (t->in_len == 0 && (c == 0 || c > MK_SAHARA_WRITE_DATA)) {
            /* not a Sahara packet (a probe, AT, junk): drop what came, answer HELLO */
            t->junk++;
            used = n;
            if (t->st != S_WAIT_RSP)
                send_end_image(t, MK_SAHARA_STATUS_INVALID_COMMAND);
            send_hello(t);
            break;
        }
        if (t->in_len + 1 > t->in_cap) {
            t->in_cap = t->in_cap ? 2 * t->in_cap : 64;
            t->in = xrealloc(t->in, t->in_cap);
        }
        t->in[t->in_len++] = c;
        used++;
        if (t->in_len >= 8 && t->in_len == mk_get_le32(t->in + 4)) {
            struct mk_sahara_pkt pkt;
            enum mk_err e = mk_sahara_parse(t->in, t->in_len, &pkt);
            t->in_len = 0;
            if (e == MK_OK)
                sahara_packet(t, &pkt);
            else
                send_hello(t);
        } else if (t->in_len >= 8 && mk_get_le32(t->in + 4) > 64) {
            t->in_len = 0;
            send_hello(t);
        }
    }
    return used;
}

/* ---- QDL ---- */

static void qdl_put(struct ft *t, const struct mk_qdl_pkt *pkt, uint32_t delay)
{
    uint8_t raw[64], fr[160];
    size_t n, fn;
    if (mk_qdl_build(pkt, raw, sizeof raw, &n) != MK_OK ||
        mk_hdlc_encode(raw, n, true, fr, sizeof fr, &fn) != MK_OK)
        abort();
    put(t, delay, fr, fn);
}

static void qdl_error(struct ft *t, uint32_t code)
{
    struct mk_qdl_pkt r;
    memset(&r, 0, sizeof r);
    r.type = MK_QDL_ERROR;
    r.u.error.code = code;
    qdl_put(t, &r, 0);
}

static void qdl_frame(struct ft *t, const uint8_t *d, size_t n)
{
    struct mk_qdl_pkt p, r;
    memset(&r, 0, sizeof r);
    if (mk_qdl_parse(d, n, &p) != MK_OK) {
        qdl_error(t, 5);
        return;
    }
    switch (p.type) {
    case MK_QDL_SDP:
        r.type = MK_QDL_DLOAD_ACK;
        qdl_put(t, &r, 0);
        break;
    case MK_QDL_HELLO_REQ:
        t->hellos++;
        if (t->silent == FT_SILENT_QDL_HELLO)
            break;
        if (p.u.hello.max_ver != t->qdl_version) {
            qdl_error(t, 0x11);
            break;
        }
        r.type = MK_QDL_HELLO_RSP;
        r.u.hello.max_ver = r.u.hello.min_ver = t->qdl_version;
        r.u.hello.features = MK_QDL_FEATURES_DEFAULT;
        qdl_put(t, &r, 0);
        break;
    case MK_QDL_OPEN_REQ:
        if (t->silent == FT_SILENT_QDL_OPEN)
            break;
        if (p.u.open_req.header_len == sizeof t->qdl_header)
            memcpy(t->qdl_header, p.u.open_req.header, sizeof t->qdl_header);
        t->qdl_data_len = p.u.open_req.data_len;
        t->qdl_data_got = 0;
        t->qdl_seq = 0;
        r.type = MK_QDL_OPEN_RSP;
        r.u.open_rsp.status = t->qdl_open_status;
        r.u.open_rsp.window = 1;
        qdl_put(t, &r, 0);
        break;
    case MK_QDL_CLOSE_REQ:
        r.type = MK_QDL_CLOSE_RSP;
        r.u.close_rsp.image_type = MK_QDL_IMAGE_CWE;
        qdl_put(t, &r, 0);
        break;
    case MK_QDL_RESET_REQ:
        t->resets++;
        if (t->hangup_on_reset)
            t->st = S_DEAD;
        break;
    default:
        qdl_error(t, MK_QDL_ERR_CMD_UNSUPPORTED);
    }
}

static void qdl_input(struct ft *t, const uint8_t *p, size_t n)
{
    if (t->in_len + n > t->in_cap) {
        t->in_cap = (t->in_len + n) * 2;
        t->in = xrealloc(t->in, t->in_cap);
    }
    memcpy(t->in + t->in_len, p, n);
    t->in_len += n;
    size_t pos = 0;
    for (;;) {
        if (t->st == S_QDL_RAW) {
            size_t k = t->in_len - pos < t->raw_left ? t->in_len - pos : (size_t)t->raw_left;
            data_add(t, t->in + pos, k);
            pos += k;
            t->raw_left -= k;
            if (t->raw_left)
                break;
            t->st = S_QDL;
            bool last = t->qdl_data_got >= t->qdl_data_len;
            if (!(last && t->silent == FT_SILENT_QDL_LAST_ACK)) {
                struct mk_qdl_pkt r;
                memset(&r, 0, sizeof r);
                r.type = MK_QDL_WRITE_RSP;
                r.u.write_rsp.seq = (uint16_t)(t->qdl_seq + (t->qdl_bad_seq ? 1 : 0));
                qdl_put(t, &r, last ? t->final_delay_ms : 0);
            }
            t->qdl_seq++;
            continue;
        }
        if (pos < t->in_len && t->in[pos] == MK_QDL_WRITE_REQ) {
            if (t->in_len - pos < MK_QDL_WRITE_HDR_LEN)
                break;
            struct mk_qdl_pkt w;
            if (mk_qdl_parse(t->in + pos, MK_QDL_WRITE_HDR_LEN, &w) != MK_OK) {
                qdl_error(t, 0x17);
                pos = t->in_len;
                break;
            }
            pos += MK_QDL_WRITE_HDR_LEN;
            t->qdl_writes++;
            t->raw_left = w.u.write_req.chunk_size;
            t->qdl_data_got += w.u.write_req.chunk_size;
            t->st = S_QDL_RAW;
            continue;
        }
        /* one HDLC frame: optional leading flags, data, closing flag */
        size_t s = pos;
        while (s < t->in_len && t->in[s] == MK_HDLC_FLAG)
            s++;
        size_t e = s;
        while (e < t->in_len && t->in[e] != MK_HDLC_FLAG)
            e++;
        if (e >= t->in_len) {
            if (s == t->in_len)
                pos = s;
            break;
        }
        uint8_t buf[1024];
        struct mk_hdlc_decoder dec;
        mk_hdlc_decoder_init(&dec, buf, sizeof buf);
        struct mk_hdlc_frame f;
        size_t used;
        if (mk_hdlc_decode(&dec, t->in + s, e + 1 - s, &used, &f) == MK_DONE && f.err == MK_OK)
            qdl_frame(t, f.data, f.len);
        pos = e + 1;
    }
    memmove(t->in, t->in + pos, t->in_len - pos);
    t->in_len -= pos;
}

/* ---- io ---- */

static bool due(const struct ft *t)
{
    return t->nout && t->out[0].due_ms <= t->vc.now_ms;
}

static enum mk_err ft_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct ft *t = ctx;
    *n = 0;
    if (!due(t))
        return t->hung ? MK_E_HANGUP : MK_OK;
    size_t want = cap;
    if (t->max_chunk) {
        if (want > t->max_chunk)
            want = t->max_chunk;
        want = 1 + (size_t)(rnd(&t->rng) % want);
    }
    while (*n < want && due(t)) {
        struct ft_seg *s = &t->out[0];
        size_t k = s->len - s->off < want - *n ? s->len - s->off : want - *n;
        memcpy(buf + *n, s->p + s->off, k);
        *n += k;
        s->off += k;
        if (s->off == s->len) {
            free(s->p);
            memmove(&t->out[0], &t->out[1], (t->nout - 1) * sizeof *t->out);
            t->nout--;
        }
    }
    return MK_OK;
}

static enum mk_err ft_write(void *ctx, const uint8_t *p, size_t len, size_t *n)
{
    struct ft *t = ctx;
    *n = 0;
    if (t->hung || t->st == S_DEAD)
        return MK_E_HANGUP;
    *n = len;
    if (t->first_write_len == 0) {
        t->first_write_len = len < sizeof t->first_write ? len : sizeof t->first_write;
        memcpy(t->first_write, p, t->first_write_len);
    }
    t->host_bytes += len;
    if (t->kind == FT_QDL) {
        qdl_input(t, p, len);
        return MK_OK;
    }
    size_t used = 0;
    if (t->st != S_FH && t->st != S_FH_RAW)
        used = sahara_input(t, p, len);
    if (used < len && (t->st == S_FH || t->st == S_FH_RAW))
        fh_input(t, p + used, len - used);
    if (t->st == S_DEAD)
        t->hung = true; /* after the reset ACK: the port is going away */
    return MK_OK;
}

static enum mk_err ft_wait(void *ctx, uint32_t timeout_ms, bool want_write)
{
    struct ft *t = ctx;
    if (want_write || due(t) || t->hung)
        return MK_OK;
    uint64_t end = t->vc.now_ms + timeout_ms;
    if (t->nout && t->out[0].due_ms <= end) {
        t->vc.now_ms = t->out[0].due_ms;
        return MK_OK;
    }
    t->vc.now_ms = end;
    return MK_E_TIMEOUT;
}

void ft_init(struct ft *t, enum ft_kind kind, uint64_t seed, size_t max_chunk)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->rng = seed ? seed : 1;
    t->max_chunk = max_chunk;
    t->max_payload = 8192;
    t->qdl_version = 6;
    t->initial_hello = true;
    t->ops.read = ft_read;
    t->ops.write = ft_write;
    t->ops.wait = ft_wait;
    t->io.ops = &t->ops;
    t->io.ctx = t;
    mk_vclock_init(&t->vc, &t->clock, 1000);
    mk_firehose_rx_init(&t->rx, t->rxbuf, sizeof t->rxbuf);
    t->st = kind == FT_QDL ? S_QDL : S_WAIT_RSP;
}

void ft_start(struct ft *t)
{
    if (t->kind != FT_QDL && t->initial_hello)
        send_hello(t);
}

void ft_free(struct ft *t)
{
    for (size_t i = 0; i < t->nout; i++)
        free(t->out[i].p);
    free(t->out);
    free(t->in);
    free(t->data);
}
