/*
 * Sierra/Gobi "QDL" packets (the 9x15/9x30 download protocol libqmi uses for CWE images)
 * and the DLOAD "SDP" switch that precedes it (reference download-mode.md §3.2, §3.4).
 *
 * These functions build and parse the UNFRAMED payload. Every packet travels inside an
 * HDLC frame (hdlc.h) EXCEPT the WRITE_UNFRAMED request, whose 13-byte header carries its
 * own CRC-16/X-25 and is followed by raw chunk data. Multi-byte fields are little-endian.
 * Both directions are covered, so the simulator's target side uses this codec too.
 *
 * Session flow (for the session layer, §3.4): SDP (an ERROR 0x16 "command unsupported"
 * reply is not fatal) -> HELLO with versions (4,4), then (5,5), then (6,6) until a
 * HELLO_RSP parses -> per image: OPEN_UNFRAMED carrying the 400-byte CWE header ->
 * WRITE_UNFRAMED chunks (each acked with the same sequence number; the last ack can take
 * ~120 s) -> CLOSE_UNFRAMED -> RESET.
 */
#ifndef MODEMKIT_QDL_H
#define MODEMKIT_QDL_H

#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Packet types. The low byte is the command byte on the wire. DLOAD and DIAG replies
 * that reuse a QDL command byte get bit 8/9 set so that the type is unambiguous; parse
 * tells them apart by length.
 */
enum mk_qdl_type {
    MK_QDL_HELLO_REQ = 0x01,  /* H->T, 36 bytes */
    MK_QDL_HELLO_RSP = 0x02,  /* T->H, 49 bytes */
    MK_QDL_ERROR = 0x0D,      /* T->H, 6 bytes: code u32 + text byte */
    MK_QDL_OPEN_REQ = 0x25,   /* H->T, 13 + image header */
    MK_QDL_OPEN_RSP = 0x26,   /* T->H, 8 bytes */
    MK_QDL_WRITE_REQ = 0x27,  /* H->T, NOT HDLC-framed: 13-byte header + raw chunk */
    MK_QDL_WRITE_RSP = 0x28,  /* T->H, 9 bytes */
    MK_QDL_CLOSE_REQ = 0x29,  /* H->T, 1 byte */
    MK_QDL_CLOSE_RSP = 0x2A,  /* T->H, 5 bytes */
    MK_QDL_RESET_REQ = 0x2D,  /* H->T, 1 byte */
    MK_QDL_SDP = 0x70,        /* H->T, DLOAD "SDP" switch: 70 00 00 */
    MK_QDL_DLOAD_ACK = 0x102, /* T->H, DLOAD ACK: the single byte 02 */
    MK_QDL_DLOAD_NAK = 0x103, /* T->H, DLOAD NAK: 03 + reason u16 */
    /* DIAG "bad command" reply: 13 followed by the rejected request. An EM7455 answered
     * the SDP frame with 13 70 00 00 (libqmi-devel 2019-10, "unexpected response received
     * in dload sdp: 0x13"): the port speaks DIAG, i.e. the module is NOT in download mode.
     * That 0x13 is DIAG's bad-command code is our inference from the echoed request. */
    MK_QDL_DIAG_BAD_CMD = 0x213,
};

/* QDL image types for OPEN_UNFRAMED (§3.4) */
#define MK_QDL_IMAGE_CWE  0x80u
#define MK_QDL_IMAGE_AMSS 0x05u
#define MK_QDL_IMAGE_APPS 0x06u
#define MK_QDL_IMAGE_UQCN 0x0Du

/* HELLO features bits */
#define MK_QDL_FEATURE_GENERIC_UNFRAMED 0x10u
#define MK_QDL_FEATURE_QDL_UNFRAMED     0x20u
#define MK_QDL_FEATURE_BAR_MODE         0x40u
#define MK_QDL_FEATURES_DEFAULT         0x30u /* what libqmi sends */

/* QDL error codes (ERROR.code), §3.4 */
#define MK_QDL_ERR_CMD_UNSUPPORTED 0x16u

#define MK_QDL_MAGIC_LEN     32u
#define MK_QDL_WRITE_HDR_LEN 13u
#define MK_QDL_OPEN_HDR_LEN  13u
#define MK_QDL_HELLO_REQ_LEN 36u
#define MK_QDL_HELLO_RSP_LEN 49u
/* The host magic of HELLO_REQ, NUL-padded to 32 bytes on the wire. */
#define MK_QDL_HOST_MAGIC "QCOM high speed protocol hst"

struct mk_qdl_hello {     /* HELLO_REQ and HELLO_RSP */
    const uint8_t *magic; /* 32 bytes; build: NULL = MK_QDL_HOST_MAGIC */
    uint8_t max_ver, min_ver;
    uint8_t features;
};
struct mk_qdl_error {
    uint32_t code; /* see mk_qdl_error_name() */
    uint8_t text;  /* "errortxt" byte */
};
struct mk_qdl_open_req {
    uint8_t image_type;    /* MK_QDL_IMAGE_* */
    uint32_t length;       /* header + data bytes; build: 0 = header_len + data_len */
    uint8_t window;        /* build: 0 = 1 (libqmi) */
    uint32_t data_len;     /* "chunksize" field: size of the data after the header */
    const uint8_t *header; /* the image header (400 bytes for a CWE); view */
    size_t header_len;
};
struct mk_qdl_open_rsp {
    uint16_t status;
    uint8_t window;
    uint32_t chunk_size;
};
struct mk_qdl_write_req {
    uint16_t seq;
    uint32_t chunk_size; /* raw bytes following the 13-byte header */
    const uint8_t *data; /* parse: chunk bytes present in the parsed buffer (view) */
    size_t data_len;
};
struct mk_qdl_write_rsp {
    uint16_t seq;
    uint16_t status;
};
struct mk_qdl_close_rsp {
    uint16_t status;
    uint8_t image_type;
    uint8_t text;
};
struct mk_qdl_dload_nak {
    uint16_t reason;
};
struct mk_qdl_diag_bad {
    const uint8_t *echo; /* the rejected request, as echoed (view) */
    size_t echo_len;
};

struct mk_qdl_pkt {
    enum mk_qdl_type type;
    union {
        struct mk_qdl_hello hello;
        struct mk_qdl_error error;
        struct mk_qdl_open_req open_req;
        struct mk_qdl_open_rsp open_rsp;
        struct mk_qdl_write_req write_req;
        struct mk_qdl_write_rsp write_rsp;
        struct mk_qdl_close_rsp close_rsp;
        struct mk_qdl_dload_nak nak;
        struct mk_qdl_diag_bad diag_bad;
    } u;
};

/*
 * Write the unframed payload of pkt into buf. WRITE_REQ writes only its 13-byte header
 * (with the header CRC); the caller sends the chunk data after it. OPEN_REQ copies
 * header[0..header_len). *out_len = bytes written.
 * Errors: MK_E_NOSPC (cap too small), MK_E_INVAL (unknown type, or a field that does not
 * fit), MK_E_UNSUPPORTED for MK_QDL_DIAG_BAD_CMD (never sent by us).
 */
enum mk_err mk_qdl_build(const struct mk_qdl_pkt *pkt, uint8_t *buf, size_t cap, size_t *out_len);

/*
 * Decode one unframed payload (for HDLC packets: the mk_hdlc_frame data; for WRITE_REQ:
 * the bytes starting at the 13-byte header). Views in *out point into buf.
 * Errors: MK_E_FORMAT (too short for its command), MK_E_CRC (WRITE_REQ header CRC),
 * MK_E_PROTO (unknown command byte).
 */
enum mk_err mk_qdl_parse(const uint8_t *buf, size_t len, struct mk_qdl_pkt *out);

/* "command unsupported", ... for QDL error codes (libqmi's list, §3.4); "unknown error"
 * for other values. Static strings. */
const char *mk_qdl_error_name(uint32_t code);

/* "HELLO_REQ", "DLOAD_ACK", ...; "?" when unknown. */
const char *mk_qdl_type_name(enum mk_qdl_type type);

#ifdef __cplusplus
}
#endif

#endif
