/*
 * Sierra Wireless CWE images (.cwe, .spk, .nvu): header codec, nested-image walk with CRC
 * checks, and firmware / config / carrier extraction (reference download-mode.md §4).
 *
 * Layout: a 400-byte big-endian header followed by image_sz payload bytes. Composite
 * images (APPL, MODM, SPKG, BOOT) carry a sequence of further CWE images as payload.
 *
 * CRCs: both the PSB CRC (bytes 0..255, stored at 256) and image_crc (over the image_sz
 * payload bytes) use the CWE variant of CRC-32: reflected 0xEDB88320, seed 0xFFFFFFFF and
 * NO final xor (mk_crc32_cwe(), = ~zlib crc32; "123456789" -> 0x340BC6D9). Sources: §4.2
 * (Legato le_crc_Crc32 with LE_CRC_START_CRC32, parsecwe's crc32() used for both checks).
 *
 * Images can be 35+ MB, so nothing needs the file in memory: mk_cwe_parse() pulls bytes
 * through a caller reader callback and streams the payload CRCs in one sequential pass
 * over the file, whatever the nesting depth.
 *
 * Building images (tests, simulator): see cwe_build.h.
 */
#ifndef MODEMKIT_CWE_H
#define MODEMKIT_CWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MK_CWE_HDR_LEN      400u
#define MK_CWE_PSB_LEN      256u
#define MK_CWE_VERSION_LEN  84u
#define MK_CWE_DATE_LEN     8u
#define MK_CWE_MAX_DEPTH    8u          /* nesting levels accepted (real images use 3-4) */
#define MK_CWE_CRC_IND_GOOD 0x474F4F44u /* "GOOD", seen in .nvu samples */

/* misc_opts bits (Legato; LK marks bit 3 unused) */
#define MK_CWE_OPT_COMPRESSED 0x01u
#define MK_CWE_OPT_ENCRYPTED  0x02u
#define MK_CWE_OPT_SIGNED     0x04u
#define MK_CWE_OPT_DELTAPATCH 0x08u

/* Every header field except the PSB, decoded (§4.1). Strings are NUL-terminated copies of
 * the fixed-size ASCII fields. */
struct mk_cwe_header {
    uint32_t psb_crc;                     /* 0x100: stored CRC of bytes 0..255 */
    uint32_t hdr_rev;                     /* 0x104: 3 today */
    uint32_t crc_ind;                     /* 0x108: "CRC valid" indicator, "GOOD" in samples */
    char type[5];                         /* 0x10C: "SPKG", "APPL", ... */
    char product[5];                      /* 0x110: "9X07", ... */
    uint32_t image_sz;                    /* 0x114: payload bytes after the header */
    uint32_t image_crc;                   /* 0x118: CWE CRC-32 of the payload */
    char version[MK_CWE_VERSION_LEN + 1]; /* 0x11C */
    char rel_date[MK_CWE_DATE_LEN + 1];   /* 0x170: "MM/DD/YY" */
    uint32_t compat;                      /* 0x178 */
    uint8_t misc_opts;                    /* 0x17C: MK_CWE_OPT_* */
    uint8_t reserved[3];                  /* 0x17D */
    uint32_t stor_addr;                   /* 0x180: 0xFFFFFFFF = uninitialised */
    uint32_t prog_addr;                   /* 0x184 */
    uint32_t entry_pt;                    /* 0x188 */
    uint32_t signature;                   /* 0x18C: 1 for APPL; "Pars" in .nvu samples */
};

/* One of the 8 PSB descriptors Legato reads from bytes 0..255 (32 bytes each). */
struct mk_cwe_psb_entry {
    uint8_t descriptor_version, type, flag, reserved;
    uint32_t offset, size;
    char source_version[17];
    uint32_t reserved2;
};

/* Decode raw[0..400). Never fails: plausibility is a separate question. */
void mk_cwe_header_decode(const uint8_t *raw, struct mk_cwe_header *out);

/*
 * Encode h into raw[0..400): psb (256 bytes, NULL = zeros) at 0 and every field of h,
 * except psb_crc, which is computed over the PSB (h->psb_crc is ignored). Strings longer
 * than their field: MK_E_INVAL (nothing is cut). image_sz/image_crc are written as given.
 */
enum mk_err mk_cwe_header_encode(const struct mk_cwe_header *h, const uint8_t *psb, uint8_t *raw);

/* Descriptor i (0..7) of the PSB in raw. MK_E_INVAL if i > 7. */
enum mk_err mk_cwe_psb_entry(const uint8_t *raw, unsigned i, struct mk_cwe_psb_entry *out);

/* The PSB CRC stored at 256 matches the CWE CRC-32 of bytes 0..255. */
bool mk_cwe_psb_crc_ok(const uint8_t *raw);

/*
 * libqmi's test for "a header is here" (§4.4): image_sz != 0 and type, product, version
 * and date are printable ASCII followed only by NUL padding.
 */
bool mk_cwe_header_plausible(const uint8_t *raw);

/* Position of a 4-character type in the LK/Legato type list (QPAR=0 ... DCFG), -1 if
 * unknown. Composite types are APPL, MODM, SPKG and BOOT. */
int mk_cwe_type_index(const char *type);
bool mk_cwe_type_is_composite(const char *type);

/*
 * Firmware version, config version and carrier from a version string or file name,
 * with the semantics of libqmi's qfu_utils_parse_cwe_version_string (§4.5): the
 * firmware is the LAST "_NN.NN.NN.NN" in s; carrier and config come from the last
 * "_<letters or ->_NNN.NNN_NNN" after it, if any. Examples:
 *   "9999999_9904609_SWI9X07H_00.08.24.02_00_GENERIC_001.110_000"
 *       -> 00.08.24.02 / 001.110_000 / GENERIC
 *   "INTERNAL_?_SWI9X15C_05.05.63.01_?_?_?_?" -> 05.05.63.01 only
 * Returns false (outputs untouched) when there is no firmware version. Outputs that are
 * NULL or already non-empty are left alone, so several sources can be merged; a carrier
 * longer than its buffer is ignored rather than cut. Buffers: fw and config >= 12 bytes.
 */
bool mk_cwe_parse_version(const char *s, size_t len, char *fw, char *config, char *carrier,
                          size_t carrier_cap);

/* ---- parsing a whole image ---- */

struct mk_cwe_reader {
    /* Read exactly len bytes at offset into buf; MK_OK or an error (MK_E_IO, ...). The
     * parser never asks for bytes at or past `size`. */
    enum mk_err (*read)(void *ctx, uint64_t offset, uint8_t *buf, size_t len);
    void *ctx;
    uint64_t size;    /* file size in bytes */
    const char *name; /* file name (basename) for the version lookup; NULL if none */
};

struct mk_cwe_image {
    struct mk_cwe_header hdr;
    uint64_t offset;   /* of this image's header in the file */
    int parent;        /* index in images[], -1 for the top level */
    unsigned depth;    /* 0 = top level */
    unsigned children; /* nested images found in the payload */
    bool psb_crc_ok;
    bool crc_checked; /* payload CRC computed (not with MK_CWE_NO_PAYLOAD_CRC) */
    bool crc_ok;
    uint32_t crc_calc; /* computed payload CRC */
};

enum mk_cwe_problem {
    MK_CWE_FINE = 0,
    MK_CWE_TOO_SHORT,     /* file shorter than one header */
    MK_CWE_NOT_CWE,       /* the first 400 bytes are no CWE header */
    MK_CWE_TRUNCATED,     /* file shorter than the top-level header says; fail_* name the
                             innermost image the cut falls into */
    MK_CWE_TRAILING_DATA, /* file longer than the top-level header says (libqmi refuses
                             both: it demands image_sz == file size - 400) */
    MK_CWE_BAD_NESTING,   /* a composite payload is not an exact sequence of images */
    MK_CWE_TOO_DEEP,      /* nesting deeper than MK_CWE_MAX_DEPTH */
    MK_CWE_TOO_MANY,      /* more images than the caller's array holds */
    MK_CWE_PSB_CRC,       /* header (PSB) CRC mismatch */
    MK_CWE_PAYLOAD_CRC,   /* image_crc mismatch */
    MK_CWE_READ_FAILED,   /* the reader returned an error */
};

struct mk_cwe_info {
    /* in: caller-owned array for the image tree (pre-order, like libqmi's list) */
    struct mk_cwe_image *images;
    size_t cap;
    /* out */
    size_t count;
    char firmware[12]; /* "00.08.24.02", "" if unknown */
    char config[12];   /* "001.110_000", "" if unknown */
    char carrier[88];  /* "GENERIC", "" if unknown */
    enum mk_cwe_problem problem;
    int fail_index;            /* images[] index of the failing image, -1 if none/unknown */
    uint64_t fail_offset;      /* header offset of the failing image, or where the walk broke */
    char fail_type[5];         /* type of the failing image, "" if none */
    uint64_t expected, actual; /* CRCs: stored vs computed. Sizes: the byte where the
                                  named image ends vs the file size. Nesting: where the
                                  payload ends vs where no image header was found. */
};

/* flags for mk_cwe_parse() */
#define MK_CWE_NO_PAYLOAD_CRC 0x1u /* structure and PSB CRCs only (no full read) */

/*
 * Walk the image behind rd: top-level header, nested images, PSB CRC of every header,
 * the top-level size, then (unless MK_CWE_NO_PAYLOAD_CRC) every image_crc in a single
 * sequential pass, then the firmware/config/carrier lookup (libqmi order: top-level
 * version, file name, embedded BOOT headers for the firmware, embedded NVUP headers).
 *
 * Nested images: under a composite parent (APPL, MODM, SPKG, BOOT) a plausible header
 * is a child (a bad PSB CRC is then an error); under any other parent a child must also
 * have a matching PSB CRC (parsecwe's rule), otherwise the payload is raw data. Once a
 * payload holds children they must tile it exactly.
 *
 * scratch: caller buffer, scratch_cap >= MK_CWE_HDR_LEN (larger = fewer reads, 4-64 KiB
 * is plenty). info->images/cap must be set by the caller; everything else is output.
 *
 * Returns MK_OK, MK_E_IMAGE (malformed, truncated, nesting), MK_E_IMAGE_CRC (PSB or
 * payload CRC), MK_E_NOSPC (more images than cap) or the reader's error; info->problem,
 * fail_* name the failing (sub-)image: for a payload CRC mismatch it is the deepest image
 * whose CRC fails (its ancestors fail too, as their payload contains it); for a truncated
 * file, the deepest image that the end of the file cuts.
 */
enum mk_err mk_cwe_parse(const struct mk_cwe_reader *rd, uint8_t *scratch, size_t scratch_cap,
                         unsigned flags, struct mk_cwe_info *info);

/* Reader over a memory buffer: ctx = struct mk_cwe_mem. */
struct mk_cwe_mem {
    const uint8_t *data;
    size_t len;
};
enum mk_err mk_cwe_mem_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len);

/* "payload CRC mismatch", ... */
const char *mk_cwe_problem_name(enum mk_cwe_problem p);

/*
 * One line for the user, e.g. "APPL image at offset 1300: payload CRC mismatch (stored
 * 0x1234abcd, computed 0x0badcafe)". MK_E_NOSPC if cap is too small.
 */
enum mk_err mk_cwe_describe_problem(const struct mk_cwe_info *info, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
