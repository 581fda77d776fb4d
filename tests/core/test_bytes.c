#include "mk_test.h"
#include "modemkit/bytes.h"

MK_TEST(little_endian_roundtrip)
{
    uint8_t b[8];
    mk_put_le16(b, 0x1234);
    MK_CHECK(b[0] == 0x34 && b[1] == 0x12);
    MK_CHECK_EQ_HEX(mk_get_le16(b), 0x1234);
    mk_put_le32(b, 0xA1B2C3D4u);
    MK_CHECK(b[0] == 0xD4 && b[3] == 0xA1);
    MK_CHECK_EQ_HEX(mk_get_le32(b), 0xA1B2C3D4u);
    mk_put_le64(b, 0x0102030405060708ull);
    MK_CHECK(b[0] == 0x08 && b[7] == 0x01);
    MK_CHECK_EQ_HEX(mk_get_le64(b), 0x0102030405060708ull);
}

MK_TEST(big_endian_roundtrip)
{
    uint8_t b[8];
    mk_put_be16(b, 0x1234);
    MK_CHECK(b[0] == 0x12 && b[1] == 0x34);
    MK_CHECK_EQ_HEX(mk_get_be16(b), 0x1234);
    mk_put_be32(b, 0xA1B2C3D4u);
    MK_CHECK(b[0] == 0xA1 && b[3] == 0xD4);
    MK_CHECK_EQ_HEX(mk_get_be32(b), 0xA1B2C3D4u);
    mk_put_be64(b, 0x0102030405060708ull);
    MK_CHECK(b[0] == 0x01 && b[7] == 0x08);
    MK_CHECK_EQ_HEX(mk_get_be64(b), 0x0102030405060708ull);
}

MK_TEST(sahara_hello_fields)
{
    /* The first 24 bytes of the HELLO in seed 004, read as LE u32 fields. */
    static const uint8_t hello[] = {0x01, 0, 0, 0, 0x30, 0, 0, 0, 0x02, 0, 0, 0,
                                    0x01, 0, 0, 0, 0x00, 0x04, 0, 0, 0x02, 0, 0, 0};
    MK_CHECK_EQ_INT(mk_get_le32(hello + 0), 1);
    MK_CHECK_EQ_INT(mk_get_le32(hello + 4), 48);
    MK_CHECK_EQ_INT(mk_get_le32(hello + 16), 0x400);
    MK_CHECK_EQ_INT(mk_get_le32(hello + 20), 2);
}

MK_TEST_MAIN()
