/*
 * Firehose: the XML protocol a Qualcomm programmer speaks after Sahara (reference
 * download-mode.md §2). Pure codec, no I/O, no malloc.
 *
 * Host -> target: one XML document per command,
 *   <?xml version="1.0" encoding="UTF-8" ?><data><TAG attr="value" ... /></data>
 * built by the mk_firehose_build_*() functions into a caller buffer (they return
 * MK_E_NOSPC rather than truncate; attribute values are XML-escaped).
 *
 * Target -> host: any number of <data><log value="..."/></data> documents and one
 * <data><response value="ACK|NAK" .../></data> per command. Several documents can arrive
 * in one read and a document can be split across reads. struct mk_firehose_rx is a
 * stream parser that copes with both and yields one message per element. The same parser
 * reads host commands on the simulator's target side (MK_FIREHOSE_MSG_ELEMENT).
 *
 * Failure rules (peers got these wrong, §2.4, qdl PR #284, edl #809):
 *  - every NAK is an error: mk_firehose_parse_response() returns MK_E_FIREHOSE_NAK;
 *  - a response whose value is neither ACK nor NAK counts as a NAK;
 *  - a command whose response never arrives is an error, not a success: the session
 *    keeps a struct mk_firehose_txn per awaited response and, when its deadline passes or
 *    the port hangs up, mk_firehose_txn_result() returns MK_E_FIREHOSE_NAK for a txn that
 *    saw no response ("missing final ACK"). A <program> needs two responses: the ACK with
 *    rawmode="true" before the data and the final ACK (rawmode="false") after it.
 */
#ifndef MODEMKIT_FIREHOSE_H
#define MODEMKIT_FIREHOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- building commands ---- */

/* Spelling differences of Sierra's programmer (libqmi qfu-firehose-message.c, §2.2). */
enum mk_firehose_dialect {
    MK_FIREHOSE_QCOM = 0,   /* <nop />, <getstorageinfo .../> */
    MK_FIREHOSE_SIERRA = 1, /* <NOP value="ping" />, <getStorageInfo .../> */
};

struct mk_firehose_attr {
    const char *name;
    const char *value; /* unescaped; the builder escapes it */
};

/* Generic: one document with <tag attrs... />. Other builders are wrappers. */
enum mk_err mk_firehose_build(char *buf, size_t cap, const char *tag,
                              const struct mk_firehose_attr *attrs, size_t n, size_t *out_len);

struct mk_firehose_configure {
    const char *memory_name;        /* MemoryName: "eMMC", "UFS", "NAND", ...; NULL: omit */
    uint64_t max_payload_to_target; /* MaxPayloadSizeToTargetInBytes, e.g. 1048576 */
    bool verbose;                   /* Verbose */
    bool zlp_aware_host;            /* ZlpAwareHost (libqmi 0, qdl 1) */
    bool skip_storage_init;         /* SkipStorageInit */
    bool always_validate;           /* AlwaysValidate, emitted when true */
    bool skip_write;                /* SkipWrite, emitted when true (edl) */
    uint64_t max_digest_table_size; /* MaxDigestTableSizeInBytes; 0: omit */
    const char *target_name;        /* TargetName (libqmi sends "8960"); NULL: omit */
    uint32_t pages_per_block;       /* PAGES_PER_BLOCK (NAND); 0: omit */
};
enum mk_err mk_firehose_build_configure(char *buf, size_t cap,
                                        const struct mk_firehose_configure *c, size_t *out_len);

/* A sector range, for <program>, <read> and <erase>. Strings may be NULL (omitted). */
struct mk_firehose_region {
    uint32_t sector_size;        /* SECTOR_SIZE_IN_BYTES */
    uint64_t num_sectors;        /* num_partition_sectors */
    uint32_t physical_partition; /* physical_partition_number */
    const char *start_sector;    /* decimal, an expression ("NUM_DISK_SECTORS-33."), or
                                    "-1" (Sierra CWE); NULL means "0" */
    const char *filename;        /* program/read only */
    const char *label;           /* some NAND programmers need it (qdl PR #306) */
    uint32_t pages_per_block;    /* PAGES_PER_BLOCK, needed on NAND (edl #522); 0: omit */
    const char *last_sector;     /* NAND (qdl) */
};
enum mk_err mk_firehose_build_program(char *buf, size_t cap, const struct mk_firehose_region *r,
                                      size_t *out_len);
enum mk_err mk_firehose_build_read(char *buf, size_t cap, const struct mk_firehose_region *r,
                                   size_t *out_len);
enum mk_err mk_firehose_build_erase(char *buf, size_t cap, const struct mk_firehose_region *r,
                                    size_t *out_len);

/*
 * Sierra's form of <program> for a whole CWE/SPK/NVU file (libqmi, §2.6):
 * filename="spkg.cwe", start_sector="-1", physical_partition_number="0",
 * num_partition_sectors = ceil(file_size / sector_size), plus PAGES_PER_BLOCK when
 * pages_per_block != 0. The host then sends the whole file (400-byte header included),
 * zero-padded to a sector, followed by one extra 512-byte block of zeros.
 */
enum mk_err mk_firehose_build_program_cwe(char *buf, size_t cap, uint64_t file_size,
                                          uint32_t sector_size, uint32_t pages_per_block,
                                          size_t *out_len);

struct mk_firehose_patch {
    uint32_t sector_size;    /* SECTOR_SIZE_IN_BYTES */
    const char *byte_offset; /* may be an expression */
    const char *filename;    /* "DISK" = the device itself */
    uint32_t physical_partition;
    uint32_t size_in_bytes;
    const char *start_sector; /* may be an expression */
    const char *value;        /* may be an expression */
};
enum mk_err mk_firehose_build_patch(char *buf, size_t cap, const struct mk_firehose_patch *p,
                                    size_t *out_len);

/* <power value="reset|off|edl" DelayInSeconds="N"/>; delay_s < 0 omits DelayInSeconds. */
enum mk_err mk_firehose_build_power(char *buf, size_t cap, const char *value, int32_t delay_s,
                                    size_t *out_len);

/* <getstorageinfo physical_partition_number="N"/>, spelled getStorageInfo for Sierra. */
enum mk_err mk_firehose_build_getstorageinfo(char *buf, size_t cap,
                                             enum mk_firehose_dialect dialect,
                                             uint32_t physical_partition, size_t *out_len);

/* <nop />, or Sierra's <NOP value="ping" />. */
enum mk_err mk_firehose_build_nop(char *buf, size_t cap, enum mk_firehose_dialect dialect,
                                  size_t *out_len);

/* Target side (simulator): <log value="text"/> and <response value="ACK|NAK" extra.../>. */
enum mk_err mk_firehose_build_log(char *buf, size_t cap, const char *text, size_t *out_len);
enum mk_err mk_firehose_build_response(char *buf, size_t cap, bool ack,
                                       const struct mk_firehose_attr *extra, size_t n,
                                       size_t *out_len);

/* ---- parsing a stream ---- */

enum mk_firehose_msg_type {
    MK_FIREHOSE_MSG_LOG = 1,  /* <log .../>: attribute "value" holds the text */
    MK_FIREHOSE_MSG_RESPONSE, /* <response .../>: see ack, rawmode, mk_firehose_parse_response */
    MK_FIREHOSE_MSG_ELEMENT,  /* any other element: a host command on the target side */
    MK_FIREHOSE_MSG_GARBAGE,  /* garbage_len bytes of non-XML junk were skipped (e.g. the
                                 zero block Sierra's flow sends after a CWE, §2.6) */
    MK_FIREHOSE_MSG_ERROR,    /* err: MK_E_OVERFLOW (a document larger than the buffer was
                                 dropped) or MK_E_FORMAT (an unterminated element) */
};

struct mk_firehose_msg {
    enum mk_firehose_msg_type type;
    const char *tag; /* element name (view) */
    size_t tag_len;
    const char *attrs; /* raw attribute text (view), for mk_firehose_attr_*() */
    size_t attrs_len;
    bool ack;     /* RESPONSE: value="ACK" */
    bool rawmode; /* RESPONSE: rawmode="true" */
    size_t garbage_len;
    enum mk_err err;
};

/*
 * The stream parser. The caller owns buf; cap bounds the largest document (targets
 * advertise MaxXMLSizeInBytes, 4096 by default; logs are short). Views returned in a
 * msg point into buf and stay valid until the next call on rx.
 */
struct mk_firehose_rx {
    char *buf;
    size_t cap;
    size_t len;     /* bytes held */
    size_t pos;     /* parse position */
    size_t doc_end; /* end of the complete document being walked (0: none) */
    bool raw_hold;  /* a rawmode="true" response was delivered: bytes are raw data now */
};

void mk_firehose_rx_init(struct mk_firehose_rx *rx, char *buf, size_t cap);

/* Append received bytes; returns how many were taken (less than len when the buffer is
 * full: call mk_firehose_rx_next() to make room, then feed the rest). */
size_t mk_firehose_rx_feed(struct mk_firehose_rx *rx, const void *data, size_t len);

/*
 * Next message: MK_DONE with *msg filled, or MK_PENDING when no complete document is
 * buffered (feed more). Whitespace between documents is skipped; other junk yields a
 * GARBAGE message. A document is complete at its "</data>", or when the next "<?xml"
 * starts before it (an unterminated document is still parsed).
 *
 * After a RESPONSE with rawmode="true" the parser stops at the end of that document and
 * returns MK_PENDING: the bytes that follow are raw sector data (read) which the caller
 * takes with mk_firehose_rx_raw()/mk_firehose_rx_consume() and then calls
 * mk_firehose_rx_resume(). (qdl pushes such surplus bytes back the same way, §1.9.)
 */
enum mk_step mk_firehose_rx_next(struct mk_firehose_rx *rx, struct mk_firehose_msg *msg);

/* Buffered bytes not parsed yet (raw data after a rawmode ACK). View into buf. */
void mk_firehose_rx_raw(const struct mk_firehose_rx *rx, const uint8_t **data, size_t *len);
/* Drop n of those bytes (n <= the length mk_firehose_rx_raw() gave). */
void mk_firehose_rx_consume(struct mk_firehose_rx *rx, size_t n);
/* Leave raw mode: parse XML again. */
void mk_firehose_rx_resume(struct mk_firehose_rx *rx);
/* Enter raw mode by hand, after the current document (target side: after it answers a
 * <program> with rawmode="true", the host's sector data follows right after "</data>";
 * the builders here put nothing after "</data>" for that reason). */
void mk_firehose_rx_hold(struct mk_firehose_rx *rx);

/* ---- attributes ---- */

/*
 * Find attribute `name` (ASCII case-insensitive) in raw attribute text. Quote-aware
 * ('...' or "..."; a '>' or '/' inside quotes is data), tolerant of junk (an attribute
 * without '=' and stray quoted text are skipped; an unquoted value runs to the next
 * blank). *val is the still-escaped value, a view into attrs.
 * MK_E_NOENT if absent; MK_E_FORMAT if the text ends inside a quoted value before the
 * attribute was found.
 */
enum mk_err mk_firehose_attr_find(const char *attrs, size_t len, const char *name, const char **val,
                                  size_t *val_len);

/*
 * Decode the XML entities &quot; &amp; &lt; &gt; &apos; and &#N; / &#xN; (ASCII only) of
 * s[0..n) into out (NUL-terminated). An '&' that starts no known entity is copied as is.
 * *out_len may be NULL. MK_E_NOSPC if out is too small (out holds a NUL-terminated prefix).
 */
enum mk_err mk_firehose_unescape(const char *s, size_t n, char *out, size_t cap, size_t *out_len);

/* find + unescape into out. MK_E_NOENT, MK_E_NOSPC, MK_E_FORMAT as above. */
enum mk_err mk_firehose_attr_get(const struct mk_firehose_msg *msg, const char *name, char *out,
                                 size_t cap);
/* Decimal (or 0x-hex) attribute value. MK_E_NOENT, or MK_E_FORMAT if not a number. */
enum mk_err mk_firehose_attr_u64(const struct mk_firehose_msg *msg, const char *name,
                                 uint64_t *out);

/* ---- responses ---- */

struct mk_firehose_response {
    bool ack;
    int rawmode;                              /* -1 absent, 0 "false", 1 "true" */
    uint64_t max_payload_to_target;           /* MaxPayloadSizeToTargetInBytes; 0 absent */
    uint64_t max_payload_to_target_supported; /* ...InBytesSupported; 0 absent */
    uint64_t max_payload_from_target;         /* MaxPayloadSizeFromTargetInBytes; 0 absent */
    uint64_t max_xml_size;                    /* MaxXMLSizeInBytes; 0 absent */
    char memory_name[16];                     /* MemoryName; "" absent */
    char target_name[32];                     /* TargetName; "" absent */
};

/*
 * Decode a RESPONSE message. Returns MK_OK for an ACK, MK_E_FIREHOSE_NAK for a NAK or
 * any value other than "ACK" (*out is filled in both cases), MK_E_INVAL if msg is not a
 * response. Attributes too long for the fixed fields are cut (they are informative).
 */
enum mk_err mk_firehose_parse_response(const struct mk_firehose_msg *msg,
                                       struct mk_firehose_response *out);

/*
 * MaxPayloadSizeToTargetInBytes negotiation after <configure> (§2.3). `requested` is the
 * size that configure carried.
 *   ACK: *use = the target's MaxPayloadSizeToTargetInBytes (requested if absent), and
 *        *retry = false. MK_OK.
 *   NAK naming a size different from `requested` (MaxPayloadSizeToTargetInBytes, else
 *        ...Supported): *use = that size, *retry = true: send configure again with it
 *        (qdl, edl; libqmi uses the size from the NAK without re-sending). MK_OK.
 *   NAK otherwise (no size, or the same size rejected again): MK_E_FIREHOSE_NAK.
 */
enum mk_err mk_firehose_negotiate(const struct mk_firehose_response *r, uint64_t requested,
                                  uint64_t *use, bool *retry);

/* Transfer block: max_payload rounded down to whole sectors (at least one sector). */
uint64_t mk_firehose_block_size(uint64_t max_payload, uint32_t sector_size);

/* One awaited response (see the file comment). */
struct mk_firehose_txn {
    bool done;          /* a response arrived */
    unsigned logs;      /* log lines seen while waiting */
    enum mk_err result; /* MK_OK / MK_E_FIREHOSE_NAK once done */
    struct mk_firehose_response resp;
};

void mk_firehose_txn_init(struct mk_firehose_txn *txn);
/* Account for one message; MK_DONE once the response has arrived (later messages are
 * ignored), MK_PENDING before. */
enum mk_step mk_firehose_txn_on_msg(struct mk_firehose_txn *txn, const struct mk_firehose_msg *msg);
/* MK_OK only if an ACK arrived; MK_E_FIREHOSE_NAK for a NAK AND for a txn still waiting
 * (the stream ended or timed out without the final ACK). */
enum mk_err mk_firehose_txn_result(const struct mk_firehose_txn *txn);

#ifdef __cplusplus
}
#endif

#endif
