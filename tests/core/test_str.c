#include "mk_test.h"
#include "modemkit/str.h"

MK_TEST(builder_formats)
{
    char buf[64];
    struct mk_sb sb;
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_puts(&sb, "AT+CMQTTCONNECT=");
    mk_sb_putu(&sb, 0);
    mk_sb_putc(&sb, ',');
    mk_sb_putq(&sb, "tcp://h:1883");
    mk_sb_putc(&sb, ',');
    mk_sb_puti(&sb, -42);
    MK_CHECK_EQ_STR(buf, "AT+CMQTTCONNECT=0,\"tcp://h:1883\",-42");
    MK_CHECK_EQ_INT(mk_sb_err(&sb), MK_OK);
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_puthex(&sb, 0xff00, 8);
    MK_CHECK_EQ_STR(buf, "0000ff00");
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_putu(&sb, UINT64_MAX);
    MK_CHECK_EQ_STR(buf, "18446744073709551615");
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_puti(&sb, INT64_MIN);
    MK_CHECK_EQ_STR(buf, "-9223372036854775808");
}

MK_TEST(builder_never_truncates_silently)
{
    char buf[8];
    struct mk_sb sb;
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_puts(&sb, "1234567");
    MK_CHECK_EQ_INT(mk_sb_err(&sb), MK_OK);
    mk_sb_putc(&sb, 'x');
    MK_CHECK_EQ_INT(mk_sb_err(&sb), MK_E_NOSPC);
    MK_CHECK_EQ_STR(buf, "1234567");
}

MK_TEST(parse_numbers)
{
    uint64_t u;
    int64_t i;
    MK_CHECK_EQ_INT(mk_parse_u64("1234", 4, &u), MK_OK);
    MK_CHECK_EQ_INT(u, 1234);
    MK_CHECK_EQ_INT(mk_parse_u64("", 0, &u), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_parse_u64("12a", 3, &u), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_parse_u64("18446744073709551616", 20, &u), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_parse_i64("-7", 2, &i), MK_OK);
    MK_CHECK_EQ_INT(i, -7);
    MK_CHECK_EQ_INT(mk_parse_i64("-", 1, &i), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_parse_i64("-9223372036854775808", 20, &i), MK_OK);
    MK_CHECK(i == INT64_MIN);
}

MK_TEST(strlcpy_and_prefix)
{
    char d[4];
    MK_CHECK_EQ_INT(mk_strlcpy(d, "abc", sizeof d), MK_OK);
    MK_CHECK_EQ_INT(mk_strlcpy(d, "abcd", sizeof d), MK_E_NOSPC);
    MK_CHECK_EQ_STR(d, "abc");
    MK_CHECK(mk_starts_with("+CSQ: 1", 7, "+CSQ:"));
    MK_CHECK(!mk_starts_with("+CS", 3, "+CSQ:"));
}

MK_TEST_MAIN()
