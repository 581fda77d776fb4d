/*
 * Qualcomm Sahara: the binary protocol a download-mode target speaks first (PBL EDL,
 * Sierra boot-and-hold on 9x07/9x50/SDX55/SDX6x).
 *
 * Wire format (reference download-mode.md §1): every packet starts with an 8-byte header
 * {cmd u32 LE, length u32 LE}, where length is the TOTAL packet length including the
 * header. All fields are little-endian u32, the *_64 variants use u64. There is no
 * framing, escaping or CRC. The bulk data that follows READ_DATA(_64) (host -> target),
 * MEMORY_READ(_64) and EXECUTE_DATA (target -> host) is raw and has no header.
 *
 * This module is a pure codec: mk_sahara_build() / mk_sahara_parse() convert between a
 * decoded struct mk_sahara_pkt and wire bytes, for BOTH directions (the host side and
 * the simulated target side use the same code), and struct mk_sahara_stream splits a
 * byte stream into packets and raw-data phases. No I/O, no malloc.
 */
#ifndef MODEMKIT_SAHARA_H
#define MODEMKIT_SAHARA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Command IDs (§1.3). Direction: T = target, H = host. */
enum mk_sahara_cmd {
    MK_SAHARA_HELLO = 0x01,               /* T->H, 0x30 */
    MK_SAHARA_HELLO_RSP = 0x02,           /* H->T, 0x30 */
    MK_SAHARA_READ_DATA = 0x03,           /* T->H, 0x14 */
    MK_SAHARA_END_IMAGE_TX = 0x04,        /* T->H, 0x10 */
    MK_SAHARA_DONE = 0x05,                /* H->T, 0x08 */
    MK_SAHARA_DONE_RSP = 0x06,            /* T->H, 0x0C */
    MK_SAHARA_RESET = 0x07,               /* H->T, 0x08 */
    MK_SAHARA_RESET_RSP = 0x08,           /* T->H, 0x08 */
    MK_SAHARA_MEMORY_DEBUG = 0x09,        /* T->H, 0x10 (v2.0) */
    MK_SAHARA_MEMORY_READ = 0x0A,         /* H->T, 0x10 (v2.0) */
    MK_SAHARA_CMD_READY = 0x0B,           /* T->H, 0x08 (v2.1) */
    MK_SAHARA_SWITCH_MODE = 0x0C,         /* H->T, 0x0C (v2.1) */
    MK_SAHARA_EXECUTE = 0x0D,             /* H->T, 0x0C (v2.1) */
    MK_SAHARA_EXECUTE_RSP = 0x0E,         /* T->H, 0x10 (v2.1) */
    MK_SAHARA_EXECUTE_DATA = 0x0F,        /* H->T, 0x0C (v2.1) */
    MK_SAHARA_MEMORY_DEBUG_64 = 0x10,     /* T->H, 0x18 (v2.5) */
    MK_SAHARA_MEMORY_READ_64 = 0x11,      /* H->T, 0x18 (v2.5) */
    MK_SAHARA_READ_DATA_64 = 0x12,        /* T->H, 0x20 (v2.8) */
    MK_SAHARA_RESET_STATE_MACHINE = 0x13, /* H->T, 0x08 (v2.9) */
    MK_SAHARA_WRITE_DATA = 0x14,          /* v3.0; layout unknown (qdl names it only) */
};

/* The largest packet this codec handles (HELLO / HELLO_RSP are 0x30). WRITE_DATA, whose
 * layout no source documents, is accepted as an opaque packet up to this size. */
#define MK_SAHARA_MAX_PKT_LEN 0x40u
#define MK_SAHARA_HEADER_LEN  8u
#define MK_SAHARA_HELLO_LEN   0x30u

/* Modes (§1.5): HELLO.mode, HELLO_RSP.mode, SWITCH_MODE.mode. */
enum mk_sahara_mode {
    MK_SAHARA_MODE_IMAGE_TX_PENDING = 0, /* target wants an image (a programmer) */
    MK_SAHARA_MODE_IMAGE_TX_COMPLETE = 1,
    MK_SAHARA_MODE_MEMORY_DEBUG = 2, /* RAM dump (see dldetect.h for Sierra) */
    MK_SAHARA_MODE_COMMAND = 3,      /* EXECUTE client commands; target sends CMD_READY */
};

/* Status codes (§1.6, libqmi's enum names; 0x27/0x28 from edl only), carried by
 * END_IMAGE_TX.status and HELLO_RSP.status. */
enum mk_sahara_status {
    MK_SAHARA_STATUS_SUCCESS = 0x00,
    MK_SAHARA_STATUS_INVALID_COMMAND = 0x01,
    MK_SAHARA_STATUS_PROTOCOL_MISMATCH = 0x02,
    MK_SAHARA_STATUS_INVALID_TARGET_PROTOCOL = 0x03,
    MK_SAHARA_STATUS_INVALID_HOST_PROTOCOL = 0x04,
    MK_SAHARA_STATUS_INVALID_PACKET_SIZE = 0x05,
    MK_SAHARA_STATUS_UNEXPECTED_IMAGE_ID = 0x06,
    MK_SAHARA_STATUS_INVALID_HEADER_SIZE = 0x07,
    MK_SAHARA_STATUS_INVALID_DATA_SIZE = 0x08,
    MK_SAHARA_STATUS_INVALID_IMAGE_TYPE = 0x09,
    MK_SAHARA_STATUS_INVALID_TX_LENGTH = 0x0A,
    MK_SAHARA_STATUS_INVALID_RX_LENGTH = 0x0B,
    MK_SAHARA_STATUS_TX_RX_ERROR = 0x0C,
    MK_SAHARA_STATUS_READ_DATA_ERROR = 0x0D,
    MK_SAHARA_STATUS_UNSUPPORTED_NUM_PHDRS = 0x0E,
    MK_SAHARA_STATUS_INVALID_PHDR_SIZE = 0x0F,
    MK_SAHARA_STATUS_MULTIPLE_SHARED_SEG = 0x10,
    MK_SAHARA_STATUS_UNINIT_PHDR_LOC = 0x11,
    MK_SAHARA_STATUS_INVALID_DEST_ADDRESS = 0x12,
    MK_SAHARA_STATUS_INVALID_IMAGE_HEADER_SIZE = 0x13,
    MK_SAHARA_STATUS_INVALID_ELF_HEADER = 0x14,
    MK_SAHARA_STATUS_UNKNOWN_ERROR = 0x15,
    MK_SAHARA_STATUS_TIMEOUT_RX = 0x16,
    MK_SAHARA_STATUS_TIMEOUT_TX = 0x17,
    MK_SAHARA_STATUS_INVALID_MODE = 0x18,
    MK_SAHARA_STATUS_INVALID_MEMORY_READ = 0x19,
    MK_SAHARA_STATUS_INVALID_DATA_SIZE_REQUEST = 0x1A,
    MK_SAHARA_STATUS_MEMORY_DEBUG_NOT_SUPPORTED = 0x1B,
    MK_SAHARA_STATUS_INVALID_MODE_SWITCH = 0x1C,
    MK_SAHARA_STATUS_EXEC_FAILURE = 0x1D,
    MK_SAHARA_STATUS_EXEC_CMD_INVALID_PARAM = 0x1E,
    MK_SAHARA_STATUS_EXEC_CMD_UNSUPPORTED = 0x1F,
    MK_SAHARA_STATUS_EXEC_DATA_INVALID = 0x20,
    MK_SAHARA_STATUS_HASH_TABLE_AUTH_FAILURE = 0x21,
    MK_SAHARA_STATUS_HASH_VERIFICATION_FAILURE = 0x22,
    MK_SAHARA_STATUS_HASH_TABLE_NOT_FOUND = 0x23,
    MK_SAHARA_STATUS_TARGET_INIT_FAILURE = 0x24,
    MK_SAHARA_STATUS_IMAGE_AUTH_FAILURE = 0x25,
    MK_SAHARA_STATUS_INVALID_IMG_HASH_TABLE_SIZE = 0x26,
    MK_SAHARA_STATUS_ENUMERATION_FAILURE = 0x27,
    MK_SAHARA_STATUS_HW_BULK_TRANSFER_ERROR = 0x28,
};

/* DONE_RSP.image_tx_status */
#define MK_SAHARA_DONE_MORE_IMAGES 0u
#define MK_SAHARA_DONE_COMPLETE    1u

/* Command-mode client commands (§1.7), EXECUTE*.client_cmd */
enum mk_sahara_exec {
    MK_SAHARA_EXEC_NOP = 0x00,
    MK_SAHARA_EXEC_SERIAL_NUM_READ = 0x01,
    MK_SAHARA_EXEC_MSM_HW_ID_READ = 0x02,
    MK_SAHARA_EXEC_OEM_PK_HASH_READ = 0x03,
    MK_SAHARA_EXEC_SWITCH_TO_DMSS_DLOAD = 0x04,
    MK_SAHARA_EXEC_SWITCH_TO_STREAM_DLOAD = 0x05,
    MK_SAHARA_EXEC_READ_DEBUG_DATA = 0x06,
    MK_SAHARA_EXEC_GET_SOFTWARE_VERSION_SBL = 0x07,
    MK_SAHARA_EXEC_GET_COMMAND_ID_LIST = 0x08,
    MK_SAHARA_EXEC_GET_TRAINING_DATA = 0x09,
    MK_SAHARA_EXEC_READ_CHIP_ID_V3 = 0x0A,
    /* Sierra proprietary "switch to Firehose" (libqmi EXECUTE_SWITCH_FIREHOSE; Sierra
     * fwdwl-lite sends the same bytes, see §1.7). EXECUTE_RSP.data_len is 9 and the data
     * is ASCII "confirmed" on an EM7565. */
    MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE = 0xFF00,
};

/* Decoded packets. Field names follow §1.4; *_64 commands use the same structs. */
struct mk_sahara_hello {         /* HELLO (0x01) */
    uint32_t version;            /* target's protocol version */
    uint32_t version_compatible; /* minimum host version the target accepts */
    uint32_t max_cmd_len;        /* largest command packet the target accepts */
    uint32_t mode;               /* enum mk_sahara_mode offered */
    uint32_t reserved[6];
};
struct mk_sahara_hello_rsp { /* HELLO_RSP (0x02) */
    uint32_t version;
    uint32_t version_compatible;
    uint32_t status; /* 0 = success */
    uint32_t mode;   /* mode the host wants */
    uint32_t reserved[6];
};
struct mk_sahara_read_data { /* READ_DATA (0x03, u32 fields) / READ_DATA_64 (0x12) */
    uint64_t image_id;
    uint64_t offset;
    uint64_t length;
};
struct mk_sahara_end_image { /* END_IMAGE_TX (0x04) */
    uint32_t image_id;
    uint32_t status; /* enum mk_sahara_status */
};
struct mk_sahara_done_rsp {   /* DONE_RSP (0x06) */
    uint32_t image_tx_status; /* MK_SAHARA_DONE_* */
};
struct mk_sahara_memory_debug { /* MEMORY_DEBUG (0x09) / MEMORY_DEBUG_64 (0x10) */
    uint64_t table_addr;
    uint64_t table_len;
};
struct mk_sahara_memory_read { /* MEMORY_READ (0x0A) / MEMORY_READ_64 (0x11) */
    uint64_t addr;
    uint64_t len; /* the target answers with len raw bytes */
};
struct mk_sahara_switch_mode { /* SWITCH_MODE (0x0C) */
    uint32_t mode;
};
struct mk_sahara_execute { /* EXECUTE (0x0D) and EXECUTE_DATA (0x0F) */
    uint32_t client_cmd;   /* enum mk_sahara_exec */
};
struct mk_sahara_execute_rsp { /* EXECUTE_RSP (0x0E) */
    uint32_t client_cmd;
    uint32_t data_len; /* raw bytes the target sends after EXECUTE_DATA */
};

struct mk_sahara_pkt {
    uint32_t cmd; /* enum mk_sahara_cmd; selects the union member */
    uint32_t len; /* total length on the wire (set by parse and build) */
    union {
        struct mk_sahara_hello hello;
        struct mk_sahara_hello_rsp hello_rsp;
        struct mk_sahara_read_data read_data;
        struct mk_sahara_end_image end_image;
        struct mk_sahara_done_rsp done_rsp;
        struct mk_sahara_memory_debug memory_debug;
        struct mk_sahara_memory_read memory_read;
        struct mk_sahara_switch_mode switch_mode;
        struct mk_sahara_execute execute;
        struct mk_sahara_execute_rsp execute_rsp;
    } u;
};

/*
 * Wire length of a command (0x30 for HELLO, ...), or 0 for an unknown command and for
 * WRITE_DATA (whose length is not fixed).
 */
uint32_t mk_sahara_cmd_len(uint32_t cmd);

/*
 * Encode pkt (pkt->cmd selects the layout; pkt->len is ignored) into buf.
 * *out_len = the wire length. Errors: MK_E_NOSPC if cap is too small (nothing useful is
 * written), MK_E_UNSUPPORTED for an unknown command or WRITE_DATA, MK_E_INVAL if a 64-bit
 * value does not fit a 32-bit command (READ_DATA, MEMORY_DEBUG, MEMORY_READ).
 */
enum mk_err mk_sahara_build(const struct mk_sahara_pkt *pkt, uint8_t *buf, size_t cap,
                            size_t *out_len);

/*
 * Decode the one packet at the start of buf (len bytes available, extra bytes ignored).
 * The header length must equal the command's fixed length (qdl rejects a HELLO of any
 * other length, §1.4.1). WRITE_DATA is returned opaque (cmd and len only) when its length
 * is between 8 and MK_SAHARA_MAX_PKT_LEN.
 * Errors: MK_E_PROTO for an unknown command or a wrong length field, MK_E_FORMAT if buf
 * holds fewer bytes than the packet. Never reads past buf[len-1].
 */
enum mk_err mk_sahara_parse(const uint8_t *buf, size_t len, struct mk_sahara_pkt *out);

/* Symbolic names, for logs and the CLI. Static strings; "?" when unknown. */
const char *mk_sahara_cmd_name(uint32_t cmd);
const char *mk_sahara_mode_name(uint32_t mode);
/* Enum names of §1.6 (libqmi's), e.g. 0x25 -> "IMAGE_AUTH_FAILURE". Deliberately not
 * edl's ErrorDesc texts, which are shifted by one entry. */
const char *mk_sahara_status_name(uint32_t status);
const char *mk_sahara_exec_name(uint32_t client_cmd);

/*
 * Stream splitter: turns the bytes read from the port into whole packets and raw-data
 * chunks. Several packets can arrive in one read and a packet can be split across reads
 * (libqmi handles both, §1.9). Raw phases are announced by the caller with
 * mk_sahara_stream_expect_raw() because only the caller knows what it sent:
 *   host side:   after sending EXECUTE_DATA (expect EXECUTE_RSP.data_len bytes) or
 *                MEMORY_READ(_64) (expect its len bytes);
 *   target side: after sending READ_DATA(_64) (expect its length bytes).
 * While a raw phase is open, bytes are returned as MK_SAHARA_EV_RAW views, never parsed,
 * even if they look like a packet.
 */
struct mk_sahara_stream {
    uint8_t hdr[MK_SAHARA_MAX_PKT_LEN]; /* the packet being assembled */
    size_t have;                        /* bytes of it received so far */
    uint64_t raw_left;                  /* bytes still expected in the raw phase */
};

enum mk_sahara_ev {
    MK_SAHARA_EV_NONE = 0, /* all input consumed, no complete item: feed more */
    MK_SAHARA_EV_PACKET,   /* ev->pkt holds a decoded packet */
    MK_SAHARA_EV_RAW,      /* ev->raw/raw_len: a chunk of the raw phase (view into the input) */
    MK_SAHARA_EV_ERROR,    /* ev->err: header with unknown cmd or bad length (ev->pkt.cmd/len
                              say what was seen); the 8 header bytes were dropped */
};

struct mk_sahara_event {
    enum mk_sahara_ev type;
    struct mk_sahara_pkt pkt;
    const uint8_t *raw;
    size_t raw_len;
    enum mk_err err;
};

void mk_sahara_stream_init(struct mk_sahara_stream *s);

/* Open a raw phase of n bytes (adds to any raw phase still open). */
void mk_sahara_stream_expect_raw(struct mk_sahara_stream *s, uint64_t n);

/* Bytes of the current raw phase not yet delivered. */
static inline uint64_t mk_sahara_stream_raw_left(const struct mk_sahara_stream *s)
{
    return s->raw_left;
}

/*
 * Consume input until one item is complete or the input is exhausted. *used = bytes of
 * in[] consumed (call again with in + *used until *used == len). Returns the event type
 * (also in ev->type). A RAW view points into in[] and is valid as long as in[] is.
 * Packet bytes split across calls are buffered inside s.
 */
enum mk_sahara_ev mk_sahara_stream_next(struct mk_sahara_stream *s, const uint8_t *in, size_t len,
                                        size_t *used, struct mk_sahara_event *ev);

#ifdef __cplusplus
}
#endif

#endif
