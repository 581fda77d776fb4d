/*
 * The HDLC-like async framing of Qualcomm DLOAD, Sierra QDL and DIAG (reference
 * download-mode.md §3.1):
 *
 *   [7E] escaped(payload || crc16 LSB first) 7E
 *
 * 0x7E and 0x7D inside the frame are sent as 7D 5E and 7D 5D (byte XOR 0x20); no other
 * byte is escaped. The CRC is CRC-16/X-25 (mk_crc16_x25) over the unescaped payload.
 * Vectors: "70 00 00" (DLOAD SDP) -> 7E 70 00 00 14 46 7E; "3A" -> 3A A1 6E 7E.
 *
 * Pure codec: mk_hdlc_encode() writes a frame into a caller buffer; struct mk_hdlc_decoder
 * unframes an incoming byte stream incrementally into a caller buffer.
 */
#ifndef MODEMKIT_HDLC_H
#define MODEMKIT_HDLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MK_HDLC_FLAG    0x7Eu
#define MK_HDLC_ESC     0x7Du
#define MK_HDLC_ESC_XOR 0x20u

/* Worst-case encoded size of a payload of len bytes (every byte escaped, 2 flags). */
#define MK_HDLC_ENCODED_MAX(len) (2u * ((size_t)(len) + 2u) + 2u)

/*
 * Frame payload[0..len) into out. leading_flag adds the optional opening 0x7E (libqmi
 * sends it; the DIAG vectors of §3.1 omit it). *out_len = bytes written.
 * MK_E_NOSPC if cap is too small (MK_HDLC_ENCODED_MAX(len) always suffices).
 */
enum mk_err mk_hdlc_encode(const uint8_t *payload, size_t len, bool leading_flag, uint8_t *out,
                           size_t cap, size_t *out_len);

/*
 * Incremental unframer. The caller owns buf (cap = largest payload + 2 CRC bytes it
 * accepts). Bytes before the first 0x7E are treated as part of the first frame, because
 * the opening flag is optional.
 */
struct mk_hdlc_decoder {
    uint8_t *buf;
    size_t cap;
    size_t len;    /* unescaped bytes of the current frame */
    bool escape;   /* previous byte was 0x7D */
    bool overflow; /* current frame exceeded cap; reported when it ends */
    bool abort;    /* 7D 7E seen: the frame was aborted */
};

struct mk_hdlc_frame {
    enum mk_err err;     /* MK_OK, MK_E_CRC, MK_E_OVERFLOW (longer than cap) or MK_E_PROTO
                            (shorter than the CRC, or aborted by 7D 7E) */
    const uint8_t *data; /* payload without the CRC, view into the decoder's buf; valid
                            until the next mk_hdlc_decode() call */
    size_t len;
    uint16_t crc_rx; /* CRC carried by the frame (when len >= 2) */
};

void mk_hdlc_decoder_init(struct mk_hdlc_decoder *d, uint8_t *buf, size_t cap);

/*
 * Consume in[0..len) up to and including the 0x7E that ends the next non-empty frame.
 * *used = bytes consumed. Returns MK_DONE with *frame filled (check frame->err: a frame
 * with a bad CRC is still reported so the caller can log it), or MK_PENDING when the
 * input ran out first (the partial frame is kept for the next call). Empty frames (two
 * flags in a row) are skipped silently.
 */
enum mk_step mk_hdlc_decode(struct mk_hdlc_decoder *d, const uint8_t *in, size_t len, size_t *used,
                            struct mk_hdlc_frame *frame);

#ifdef __cplusplus
}
#endif

#endif
