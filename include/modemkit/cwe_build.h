/*
 * Building CWE images (.cwe / .spk / .nvu) in memory, for tests and for the simulator.
 * Portable (no malloc): the image is written into a caller buffer.
 *
 * Nesting is expressed with begin/end pairs; sizes, payload CRCs and PSB CRCs are filled
 * in at end(), so every header of the result is consistent (see cwe.h for the CRCs):
 *
 *   struct mk_cwe_build b;
 *   mk_cwe_build_init(&b, buf, sizeof buf);
 *   struct mk_cwe_header h;
 *   mk_cwe_header_defaults(&h, "SPKG", "9X07",
 * "9999999_9904609_SWI9X07H_00.08.24.02_00_GENERIC_001.110_000"); mk_cwe_build_begin(&b, &h, NULL);
 *     mk_cwe_header_defaults(&h, "BOOT", "9X07", "SWI9X07H_00.08.24.02");
 *     mk_cwe_build_begin(&b, &h, NULL);
 *       mk_cwe_header_defaults(&h, "SBL1", "9X07", "SWI9X07H_00.08.24.02");
 *       mk_cwe_build_begin(&b, &h, NULL);
 *       mk_cwe_build_fill(&b, 1, 5000);        (or mk_cwe_build_data(&b, bytes, n))
 *       mk_cwe_build_end(&b);
 *     mk_cwe_build_end(&b);
 *   mk_cwe_build_end(&b);
 *   size_t len; enum mk_err err = mk_cwe_build_finish(&b, &len);
 *
 * Errors are sticky: the calls in between need no checks; finish() reports the first
 * one. With buf == NULL and cap == 0 the builder only counts, so a caller can size its
 * buffer with a dry run of the same calls.
 *
 * mk_cwe_build_package() produces the typical firmware package in one call.
 */
#ifndef MODEMKIT_CWE_BUILD_H
#define MODEMKIT_CWE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "modemkit/cwe.h"
#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mk_cwe_build {
    uint8_t *buf; /* NULL: count only */
    size_t cap;
    size_t len;                    /* bytes produced so far */
    size_t open[MK_CWE_MAX_DEPTH]; /* header offsets of the open images */
    unsigned depth;
    enum mk_err err;
};

/*
 * Fill h for an image of the given type: hdr_rev 3, crc_ind "GOOD", rel_date "01/02/23",
 * stor_addr 0xFFFFFFFF, signature 1 for APPL, everything else 0. Strings are copied
 * (NUL-terminated, cut to their field: the builder rejects nothing here, but
 * mk_cwe_build_begin() fails with MK_E_INVAL when a string was too long).
 */
void mk_cwe_header_defaults(struct mk_cwe_header *h, const char *type, const char *product,
                            const char *version);

void mk_cwe_build_init(struct mk_cwe_build *b, uint8_t *buf, size_t cap);

/* Open an image: its header is written now from h and psb (256 bytes, NULL = zeros),
 * with the PSB CRC; image_sz and image_crc are patched in at end(). */
void mk_cwe_build_begin(struct mk_cwe_build *b, const struct mk_cwe_header *h, const uint8_t *psb);
/* Append payload bytes to the innermost open image. */
void mk_cwe_build_data(struct mk_cwe_build *b, const void *data, size_t len);
/* Append len bytes of a deterministic pseudo-random pattern derived from seed (test
 * payloads without large arrays; random bytes do not pass the header plausibility test,
 * so they are not mistaken for nested images). */
void mk_cwe_build_fill(struct mk_cwe_build *b, uint32_t seed, size_t len);
/* Close the innermost image: write its header with size and CRCs. */
void mk_cwe_build_end(struct mk_cwe_build *b);
/* Total length; MK_E_STATE if images are still open, or the first error of the calls
 * (MK_E_NOSPC, MK_E_INVAL for a too-long string or too deep nesting). */
enum mk_err mk_cwe_build_finish(struct mk_cwe_build *b, size_t *len);

/*
 * The shape of a Sierra firmware package (compare the RC7620 .spk in seed 004):
 *
 *   SPKG  version = top_version, or "<sku>_<firmware>_00_<carrier>_<config>" if NULL
 *     BOOT  version = boot_version, or "<device>_<firmware>"       (if boot_len)
 *       SBL1  boot_len bytes
 *     APPL  version = "<device>_<firmware>"                         (if appl_len)
 *       APPS  appl_len bytes
 *     MODM  version = "<device>_<firmware>"                         (if modm_len)
 *       AMSS  modm_len bytes
 *     NVUP  version = nvup_version, or "<sku>_<firmware>_00_<carrier>_<config>"
 *           nvup_len bytes                                          (if nvup_len)
 *
 * with top_type instead of SPKG when set (e.g. "NVUP" alone for a .nvu: then only the
 * NVUP payload is produced, as the top-level image). Versions that must NOT carry a piece
 * of information (to test the lookup order) are given explicitly.
 */
struct mk_cwe_package {
    const char *product;      /* "9X07" */
    const char *sku;          /* "9999999_9904609_SWI9X07H" */
    const char *device;       /* "SWI9X07H" */
    const char *firmware;     /* "00.08.24.02" */
    const char *carrier;      /* "GENERIC" */
    const char *config;       /* "001.110_000" */
    const char *top_type;     /* NULL = "SPKG" */
    const char *top_version;  /* NULL = generated (see above) */
    const char *boot_version; /* NULL = generated */
    const char *nvup_version; /* NULL = generated */
    size_t boot_len, appl_len, modm_len, nvup_len;
    uint32_t seed; /* payload pattern */
};

/* Append the package to b (usually right after init). Errors are sticky as above. */
void mk_cwe_build_package(struct mk_cwe_build *b, const struct mk_cwe_package *p);

#ifdef __cplusplus
}
#endif

#endif
