#include "modemkit/hdlc.h"

#include "modemkit/crc.h"

static bool hd_put(uint8_t *out, size_t cap, size_t *n, uint8_t b)
{
    if (b == MK_HDLC_FLAG || b == MK_HDLC_ESC) {
        if (cap - *n < 2)
            return false;
        out[(*n)++] = MK_HDLC_ESC;
        out[(*n)++] = (uint8_t)(b ^ MK_HDLC_ESC_XOR);
        return true;
    }
    if (cap - *n < 1)
        return false;
    out[(*n)++] = b;
    return true;
}

enum mk_err mk_hdlc_encode(const uint8_t *payload, size_t len, bool leading_flag, uint8_t *out,
                           size_t cap, size_t *out_len)
{
    size_t n = 0;
    if (leading_flag) {
        if (cap < 1)
            return MK_E_NOSPC;
        out[n++] = MK_HDLC_FLAG;
    }
    for (size_t i = 0; i < len; i++)
        if (!hd_put(out, cap, &n, payload[i]))
            return MK_E_NOSPC;
    uint16_t crc = mk_crc16_x25(payload, len);
    if (!hd_put(out, cap, &n, (uint8_t)crc) || !hd_put(out, cap, &n, (uint8_t)(crc >> 8)))
        return MK_E_NOSPC;
    if (cap - n < 1)
        return MK_E_NOSPC;
    out[n++] = MK_HDLC_FLAG;
    *out_len = n;
    return MK_OK;
}

void mk_hdlc_decoder_init(struct mk_hdlc_decoder *d, uint8_t *buf, size_t cap)
{
    d->buf = buf;
    d->cap = cap;
    d->len = 0;
    d->escape = false;
    d->overflow = false;
    d->abort = false;
}

/* Close the frame in d and describe it in *f. */
static void hd_finish(struct mk_hdlc_decoder *d, struct mk_hdlc_frame *f)
{
    f->data = d->buf;
    f->len = 0;
    f->crc_rx = 0;
    if (d->overflow) {
        f->err = MK_E_OVERFLOW;
    } else if (d->abort || d->escape || d->len < 2) {
        f->err = MK_E_PROTO;
    } else {
        f->len = d->len - 2;
        f->crc_rx = (uint16_t)(d->buf[d->len - 2] | (d->buf[d->len - 1] << 8));
        f->err = mk_crc16_x25(d->buf, f->len) == f->crc_rx ? MK_OK : MK_E_CRC;
    }
    d->len = 0;
    d->escape = false;
    d->overflow = false;
    d->abort = false;
}

enum mk_step mk_hdlc_decode(struct mk_hdlc_decoder *d, const uint8_t *in, size_t len, size_t *used,
                            struct mk_hdlc_frame *frame)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = in[i];
        if (b == MK_HDLC_FLAG) {
            if (d->len == 0 && !d->escape && !d->overflow && !d->abort)
                continue; /* opening flag or empty frame */
            if (d->escape)
                d->abort = true; /* 7D 7E: abort sequence */
            hd_finish(d, frame);
            *used = i + 1;
            return MK_DONE;
        }
        if (d->escape) {
            b ^= MK_HDLC_ESC_XOR;
            d->escape = false;
        } else if (b == MK_HDLC_ESC) {
            d->escape = true;
            continue;
        }
        if (d->len < d->cap)
            d->buf[d->len++] = b;
        else
            d->overflow = true;
    }
    *used = len;
    return MK_PENDING;
}
