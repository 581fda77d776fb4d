/* CRC check values from the reference (download-mode.md §3.1 and §4.2). */
#include "mk_test.h"
#include "modemkit/crc.h"

static const char check[] = "123456789";

MK_TEST(crc16_x25_check_value)
{
    MK_CHECK_EQ_HEX(mk_crc16_x25(check, 9), 0x906E);
}

MK_TEST(crc16_x25_dload_frames)
{
    static const uint8_t sdp[] = {0x70, 0x00, 0x00};
    static const uint8_t em7455[] = {0x13, 0x70, 0x00, 0x00};
    static const uint8_t diag_edl[] = {0x4B, 0x65, 0x01, 0x00};
    static const uint8_t diag_dload[] = {0x3A};
    MK_CHECK_EQ_HEX(mk_crc16_x25(sdp, sizeof sdp), 0x4614);
    MK_CHECK_EQ_HEX(mk_crc16_x25(em7455, sizeof em7455), 0x9A6A);
    MK_CHECK_EQ_HEX(mk_crc16_x25(diag_edl, sizeof diag_edl), 0x0F54);
    MK_CHECK_EQ_HEX(mk_crc16_x25(diag_dload, sizeof diag_dload), 0x6EA1);
}

MK_TEST(crc16_incremental_equals_oneshot)
{
    uint16_t s = MK_CRC16_X25_INIT;
    s = mk_crc16_x25_update(s, check, 4);
    s = mk_crc16_x25_update(s, check + 4, 5);
    MK_CHECK_EQ_HEX(mk_crc16_x25_final(s), 0x906E);
}

MK_TEST(crc32_zlib_check_value)
{
    MK_CHECK_EQ_HEX(mk_crc32(check, 9), 0xCBF43926u);
    MK_CHECK_EQ_HEX(mk_crc32("", 0), 0x00000000u);
}

MK_TEST(crc32_cwe_check_value)
{
    MK_CHECK_EQ_HEX(mk_crc32_cwe(check, 9), 0x340BC6D9u);
    MK_CHECK_EQ_HEX(mk_crc32_cwe(check, 9), ~mk_crc32(check, 9));
}

MK_TEST(crc32_incremental_equals_oneshot)
{
    uint32_t s = MK_CRC32_INIT;
    for (int i = 0; i < 9; i++)
        s = mk_crc32_update(s, check + i, 1);
    MK_CHECK_EQ_HEX(mk_crc32_final(s), 0xCBF43926u);
}

MK_TEST_MAIN()
