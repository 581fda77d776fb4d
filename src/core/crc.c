#include "modemkit/crc.h"

/*
 * Bitwise-per-nibble implementations: 16-entry tables keep flash small on the MCU build
 * (64 B and 32 B) and are still far faster than any serial line.
 */
static const uint16_t mk_crc16_nib[16] = {
    0x0000, 0x1081, 0x2102, 0x3183, 0x4204, 0x5285, 0x6306, 0x7387,
    0x8408, 0x9489, 0xA50A, 0xB58B, 0xC60C, 0xD68D, 0xE70E, 0xF78F,
};

uint16_t mk_crc16_x25_update(uint16_t state, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint16_t crc = state;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (uint16_t)((crc >> 4) ^ mk_crc16_nib[crc & 0x0F]);
        crc = (uint16_t)((crc >> 4) ^ mk_crc16_nib[crc & 0x0F]);
    }
    return crc;
}

uint16_t mk_crc16_x25(const void *data, size_t len)
{
    return mk_crc16_x25_final(mk_crc16_x25_update(MK_CRC16_X25_INIT, data, len));
}

static const uint32_t mk_crc32_nib[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t mk_crc32_update(uint32_t state, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t crc = state;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ mk_crc32_nib[crc & 0x0F];
        crc = (crc >> 4) ^ mk_crc32_nib[crc & 0x0F];
    }
    return crc;
}

uint32_t mk_crc32(const void *data, size_t len)
{
    return mk_crc32_final(mk_crc32_update(MK_CRC32_INIT, data, len));
}

uint32_t mk_crc32_cwe(const void *data, size_t len)
{
    return mk_crc32_update(MK_CRC32_INIT, data, len);
}
