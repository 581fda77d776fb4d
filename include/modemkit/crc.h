/*
 * Checksums used on the wire.
 *
 * CRC-16/X-25 (a.k.a. IBM-SDLC): reflected poly 0x1021 (0x8408), init 0xFFFF, final xor
 * 0xFFFF. HDLC framing of Qualcomm DLOAD/QDL/DIAG and the Sierra unframed-write header.
 * Check value: "123456789" -> 0x906E.
 *
 * CRC-32 (zlib/IEEE): reflected poly 0xEDB88320, init 0xFFFFFFFF, final xor 0xFFFFFFFF.
 * Check value: "123456789" -> 0xCBF43926.
 *
 * CRC-32 as used in Sierra CWE headers: same table and seed, no final xor (the result
 * is ~crc32). Check value: "123456789" -> 0x340BC6D9.
 *
 * Incremental use: start from the *_INIT state, call *_update() on each piece, finish
 * with *_final(). The one-shot helpers do all three.
 */
#ifndef MODEMKIT_CRC_H
#define MODEMKIT_CRC_H

#include <stddef.h>
#include <stdint.h>

#define MK_CRC16_X25_INIT 0xFFFFu
#define MK_CRC32_INIT 0xFFFFFFFFu

uint16_t mk_crc16_x25_update(uint16_t state, const void *data, size_t len);
static inline uint16_t mk_crc16_x25_final(uint16_t state)
{
    return (uint16_t)~state;
}
uint16_t mk_crc16_x25(const void *data, size_t len);

uint32_t mk_crc32_update(uint32_t state, const void *data, size_t len);
static inline uint32_t mk_crc32_final(uint32_t state)
{
    return ~state;
}
/* zlib-compatible CRC-32 of a buffer. */
uint32_t mk_crc32(const void *data, size_t len);
/* Sierra CWE CRC-32: no final xor. */
uint32_t mk_crc32_cwe(const void *data, size_t len);

#endif
