#include "modemkit/qdl.h"

#include <string.h>

#include "modemkit/bytes.h"
#include "modemkit/crc.h"

/* Fixed payload lengths; OPEN_REQ and WRITE_REQ give their header length. */
static size_t qdl_len(enum mk_qdl_type t)
{
    switch (t) {
    case MK_QDL_HELLO_REQ:
        return MK_QDL_HELLO_REQ_LEN;
    case MK_QDL_HELLO_RSP:
        return MK_QDL_HELLO_RSP_LEN;
    case MK_QDL_ERROR:
        return 6;
    case MK_QDL_OPEN_REQ:
        return MK_QDL_OPEN_HDR_LEN;
    case MK_QDL_OPEN_RSP:
        return 8;
    case MK_QDL_WRITE_REQ:
        return MK_QDL_WRITE_HDR_LEN;
    case MK_QDL_WRITE_RSP:
        return 9;
    case MK_QDL_CLOSE_REQ:
        return 1;
    case MK_QDL_CLOSE_RSP:
        return 5;
    case MK_QDL_RESET_REQ:
        return 1;
    case MK_QDL_SDP:
        return 3;
    case MK_QDL_DLOAD_ACK:
        return 1;
    case MK_QDL_DLOAD_NAK:
        return 3;
    case MK_QDL_DIAG_BAD_CMD:
        return 1;
    }
    return 0;
}

enum mk_err mk_qdl_build(const struct mk_qdl_pkt *pkt, uint8_t *buf, size_t cap, size_t *out_len)
{
    size_t n = qdl_len(pkt->type);
    if (n == 0)
        return MK_E_INVAL;
    if (pkt->type == MK_QDL_DIAG_BAD_CMD)
        return MK_E_UNSUPPORTED;
    if (pkt->type == MK_QDL_OPEN_REQ)
        n += pkt->u.open_req.header_len;
    if (cap < n)
        return MK_E_NOSPC;
    memset(buf, 0, n);
    buf[0] = (uint8_t)pkt->type;

    switch (pkt->type) {
    case MK_QDL_HELLO_REQ:
    case MK_QDL_HELLO_RSP: {
        const struct mk_qdl_hello *h = &pkt->u.hello;
        if (h->magic)
            memcpy(buf + 1, h->magic, MK_QDL_MAGIC_LEN);
        else
            memcpy(buf + 1, MK_QDL_HOST_MAGIC, sizeof MK_QDL_HOST_MAGIC - 1);
        buf[33] = h->max_ver;
        buf[34] = h->min_ver;
        buf[pkt->type == MK_QDL_HELLO_REQ ? 35 : 48] = h->features;
        break;
    }
    case MK_QDL_ERROR:
        mk_put_le32(buf + 1, pkt->u.error.code);
        buf[5] = pkt->u.error.text;
        break;
    case MK_QDL_OPEN_REQ: {
        const struct mk_qdl_open_req *o = &pkt->u.open_req;
        uint64_t total = o->length ? o->length : (uint64_t)o->header_len + o->data_len;
        if (total > UINT32_MAX)
            return MK_E_INVAL;
        buf[1] = o->image_type;
        mk_put_le32(buf + 2, (uint32_t)total);
        buf[6] = o->window ? o->window : 1;
        mk_put_le32(buf + 7, o->data_len);
        if (o->header_len)
            memcpy(buf + MK_QDL_OPEN_HDR_LEN, o->header, o->header_len);
        break;
    }
    case MK_QDL_OPEN_RSP:
        mk_put_le16(buf + 1, pkt->u.open_rsp.status);
        buf[3] = pkt->u.open_rsp.window;
        mk_put_le32(buf + 4, pkt->u.open_rsp.chunk_size);
        break;
    case MK_QDL_WRITE_REQ:
        mk_put_le16(buf + 1, pkt->u.write_req.seq);
        mk_put_le32(buf + 7, pkt->u.write_req.chunk_size);
        /* The only non-HDLC packet protects its header with the same CRC, stored LE. */
        mk_put_le16(buf + 11, mk_crc16_x25(buf, 11));
        break;
    case MK_QDL_WRITE_RSP:
        mk_put_le16(buf + 1, pkt->u.write_rsp.seq);
        mk_put_le16(buf + 7, pkt->u.write_rsp.status);
        break;
    case MK_QDL_CLOSE_RSP:
        mk_put_le16(buf + 1, pkt->u.close_rsp.status);
        buf[3] = pkt->u.close_rsp.image_type;
        buf[4] = pkt->u.close_rsp.text;
        break;
    case MK_QDL_DLOAD_NAK:
        mk_put_le16(buf + 1, pkt->u.nak.reason);
        break;
    default: /* CLOSE_REQ, RESET_REQ, SDP (70 00 00), DLOAD_ACK: command byte only */
        break;
    }
    *out_len = n;
    return MK_OK;
}

enum mk_err mk_qdl_parse(const uint8_t *buf, size_t len, struct mk_qdl_pkt *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return MK_E_FORMAT;
    enum mk_qdl_type t;
    switch (buf[0]) {
    case 0x02: /* DLOAD ACK is the lone byte; a QDL HELLO_RSP is 49 bytes */
        t = len == 1 ? MK_QDL_DLOAD_ACK : MK_QDL_HELLO_RSP;
        break;
    case 0x03:
        t = MK_QDL_DLOAD_NAK;
        break;
    case 0x13:
        t = MK_QDL_DIAG_BAD_CMD;
        break;
    case MK_QDL_HELLO_REQ:
    case MK_QDL_ERROR:
    case MK_QDL_OPEN_REQ:
    case MK_QDL_OPEN_RSP:
    case MK_QDL_WRITE_REQ:
    case MK_QDL_WRITE_RSP:
    case MK_QDL_CLOSE_REQ:
    case MK_QDL_CLOSE_RSP:
    case MK_QDL_RESET_REQ:
    case MK_QDL_SDP:
        t = (enum mk_qdl_type)buf[0];
        break;
    default:
        return MK_E_PROTO;
    }
    if (len < qdl_len(t))
        return MK_E_FORMAT;
    out->type = t;

    switch (t) {
    case MK_QDL_HELLO_REQ:
    case MK_QDL_HELLO_RSP:
        out->u.hello.magic = buf + 1;
        out->u.hello.max_ver = buf[33];
        out->u.hello.min_ver = buf[34];
        out->u.hello.features = buf[t == MK_QDL_HELLO_REQ ? 35 : 48];
        break;
    case MK_QDL_ERROR:
        out->u.error.code = mk_get_le32(buf + 1);
        out->u.error.text = buf[5];
        break;
    case MK_QDL_OPEN_REQ:
        out->u.open_req.image_type = buf[1];
        out->u.open_req.length = mk_get_le32(buf + 2);
        out->u.open_req.window = buf[6];
        out->u.open_req.data_len = mk_get_le32(buf + 7);
        out->u.open_req.header = buf + MK_QDL_OPEN_HDR_LEN;
        out->u.open_req.header_len = len - MK_QDL_OPEN_HDR_LEN;
        break;
    case MK_QDL_OPEN_RSP:
        out->u.open_rsp.status = mk_get_le16(buf + 1);
        out->u.open_rsp.window = buf[3];
        out->u.open_rsp.chunk_size = mk_get_le32(buf + 4);
        break;
    case MK_QDL_WRITE_REQ:
        if (mk_get_le16(buf + 11) != mk_crc16_x25(buf, 11))
            return MK_E_CRC;
        out->u.write_req.seq = mk_get_le16(buf + 1);
        out->u.write_req.chunk_size = mk_get_le32(buf + 7);
        out->u.write_req.data = buf + MK_QDL_WRITE_HDR_LEN;
        out->u.write_req.data_len = len - MK_QDL_WRITE_HDR_LEN;
        break;
    case MK_QDL_WRITE_RSP:
        out->u.write_rsp.seq = mk_get_le16(buf + 1);
        out->u.write_rsp.status = mk_get_le16(buf + 7);
        break;
    case MK_QDL_CLOSE_RSP:
        out->u.close_rsp.status = mk_get_le16(buf + 1);
        out->u.close_rsp.image_type = buf[3];
        out->u.close_rsp.text = buf[4];
        break;
    case MK_QDL_DLOAD_NAK:
        out->u.nak.reason = mk_get_le16(buf + 1);
        break;
    case MK_QDL_DIAG_BAD_CMD:
        out->u.diag_bad.echo = buf + 1;
        out->u.diag_bad.echo_len = len - 1;
        break;
    default:
        break;
    }
    return MK_OK;
}

/* libqmi's qdl_error_str list (§3.4), in our words. */
static const char *const qdl_errors[] = {
    [0x00] = "no error",
    [0x02] = "bad address",
    [0x03] = "bad length",
    [0x04] = "unexpected end of packet",
    [0x05] = "invalid command",
    [0x07] = "operation failed",
    [0x08] = "bad flash ID",
    [0x09] = "bad voltage",
    [0x0A] = "write verify failed",
    [0x0C] = "bad security code",
    [0x0D] = "power-down failed",
    [0x0E] = "NAND flash not supported",
    [0x0F] = "command out of sequence",
    [0x10] = "close failed",
    [0x11] = "bad feature bits",
    [0x12] = "out of space",
    [0x13] = "invalid security mode",
    [0x14] = "multi-image not supported",
    [0x15] = "power-off not supported",
    [0x16] = "command unsupported",
    [0x17] = "bad CRC",
    [0x18] = "invalid state",
    [0x19] = "receive timeout",
    [0x1A] = "image authentication error",
};

const char *mk_qdl_error_name(uint32_t code)
{
    if (code < sizeof qdl_errors / sizeof qdl_errors[0] && qdl_errors[code])
        return qdl_errors[code];
    return "unknown error";
}

const char *mk_qdl_type_name(enum mk_qdl_type type)
{
    switch (type) {
    case MK_QDL_HELLO_REQ:
        return "HELLO_REQ";
    case MK_QDL_HELLO_RSP:
        return "HELLO_RSP";
    case MK_QDL_ERROR:
        return "ERROR";
    case MK_QDL_OPEN_REQ:
        return "OPEN_UNFRAMED_REQ";
    case MK_QDL_OPEN_RSP:
        return "OPEN_UNFRAMED_RSP";
    case MK_QDL_WRITE_REQ:
        return "WRITE_UNFRAMED_REQ";
    case MK_QDL_WRITE_RSP:
        return "WRITE_UNFRAMED_RSP";
    case MK_QDL_CLOSE_REQ:
        return "CLOSE_UNFRAMED_REQ";
    case MK_QDL_CLOSE_RSP:
        return "CLOSE_UNFRAMED_RSP";
    case MK_QDL_RESET_REQ:
        return "RESET_REQ";
    case MK_QDL_SDP:
        return "DLOAD_SDP";
    case MK_QDL_DLOAD_ACK:
        return "DLOAD_ACK";
    case MK_QDL_DLOAD_NAK:
        return "DLOAD_NAK";
    case MK_QDL_DIAG_BAD_CMD:
        return "DIAG_BAD_CMD";
    }
    return "?";
}
