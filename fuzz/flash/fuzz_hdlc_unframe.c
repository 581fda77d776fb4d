/*
 * HDLC unframing (+ the QDL payload parser on every good frame). Input: byte 0 = chunk
 * size, byte 1 = decoder buffer size, then the stream. Invariant: a frame with a good
 * CRC re-encodes and decodes to the same payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/hdlc.h"
#include "modemkit/qdl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct mk_hdlc_frame *f)
{
    static uint8_t enc[MK_HDLC_ENCODED_MAX(256)], dec[260];
    size_t n, used;
    if (mk_hdlc_encode(f->data, f->len, true, enc, sizeof enc, &n) != MK_OK)
        abort();
    struct mk_hdlc_decoder d;
    mk_hdlc_decoder_init(&d, dec, sizeof dec);
    struct mk_hdlc_frame g;
    if (mk_hdlc_decode(&d, enc, n, &used, &g) != MK_DONE || used != n || g.err != MK_OK ||
        g.len != f->len || memcmp(g.data, f->data, f->len) != 0)
        abort();
    struct mk_qdl_pkt p;
    if (mk_qdl_parse(f->data, f->len, &p) == MK_OK) {
        uint8_t out[600];
        (void)mk_qdl_build(&p, out, sizeof out, &n);
        (void)mk_qdl_type_name(p.type);
        (void)mk_qdl_error_name(p.u.error.code);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t step = data[0] ? data[0] : 1;
    size_t cap = data[1] ? data[1] : 1;
    data += 2;
    size -= 2;
    uint8_t *buf = malloc(cap); /* exact size, so ASan sees any overrun */
    struct mk_hdlc_decoder d;
    mk_hdlc_decoder_init(&d, buf, cap);
    for (size_t off = 0; off < size;) {
        size_t chunk = size - off < step ? size - off : step, pos = 0;
        while (pos < chunk) {
            struct mk_hdlc_frame f;
            size_t used = 0;
            enum mk_step st = mk_hdlc_decode(&d, data + off + pos, chunk - pos, &used, &f);
            if (used == 0 || used > chunk - pos)
                abort();
            pos += used;
            if (st == MK_DONE && f.err == MK_OK)
                check_frame(&f);
        }
        off += chunk;
    }
    free(buf);
    return 0;
}
