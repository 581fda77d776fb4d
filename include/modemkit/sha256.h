/*
 * SHA-256 (FIPS 180-4), streaming. Portable, no allocation: the caller owns the context.
 * Used to check update deltas against their manifest on hosts and MCUs alike.
 */
#ifndef MODEMKIT_SHA256_H
#define MODEMKIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define MK_SHA256_LEN 32

struct mk_sha256 {
    uint32_t h[8];
    uint64_t total_len;
    uint8_t block[64];
    size_t block_len;
};

void mk_sha256_init(struct mk_sha256 *s);
void mk_sha256_update(struct mk_sha256 *s, const void *data, size_t len);
/* Writes the 32-byte digest. The context must be re-initialised before reuse. */
void mk_sha256_final(struct mk_sha256 *s, uint8_t out[MK_SHA256_LEN]);
void mk_sha256(const void *data, size_t len, uint8_t out[MK_SHA256_LEN]);

/* Lower-case hex of a digest into out (65 bytes: 64 digits + NUL). */
void mk_sha256_hex(const uint8_t digest[MK_SHA256_LEN], char out[2 * MK_SHA256_LEN + 1]);

#endif
