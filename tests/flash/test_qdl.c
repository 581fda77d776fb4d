/* Sierra QDL packets both ways (reference download-mode.md §3.2, §3.4). */
#include "mk_test.h"
#include "modemkit/bytes.h"
#include "modemkit/crc.h"
#include "modemkit/hdlc.h"
#include "modemkit/qdl.h"

static size_t build(const struct mk_qdl_pkt *p, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    MK_CHECK_EQ_INT(mk_qdl_build(p, buf, cap, &n), MK_OK);
    return n;
}

MK_TEST(hello_versions_4_to_6)
{
    for (uint8_t v = 4; v <= 6; v++) {
        struct mk_qdl_pkt p = {.type = MK_QDL_HELLO_REQ};
        p.u.hello.max_ver = v;
        p.u.hello.min_ver = v;
        p.u.hello.features = MK_QDL_FEATURES_DEFAULT;
        uint8_t b[64];
        size_t n = build(&p, b, sizeof b);
        MK_CHECK_EQ_INT(n, 36);
        MK_CHECK_EQ_INT(b[0], 0x01);
        MK_CHECK_EQ_MEM(b + 1, "QCOM high speed protocol hst", 28);
        for (int i = 29; i < 33; i++)
            MK_CHECK_EQ_INT(b[i], 0); /* NUL padding of the 32-byte magic */
        MK_CHECK_EQ_INT(b[33], v);
        MK_CHECK_EQ_INT(b[34], v);
        MK_CHECK_EQ_HEX(b[35], 0x30);
        struct mk_qdl_pkt q;
        MK_CHECK_EQ_INT(mk_qdl_parse(b, n, &q), MK_OK);
        MK_CHECK_EQ_INT(q.type, MK_QDL_HELLO_REQ);
        MK_CHECK_EQ_INT(q.u.hello.max_ver, v);
        MK_CHECK_EQ_MEM(q.u.hello.magic, "QCOM", 4);
    }
}

MK_TEST(hello_rsp_both_ways)
{
    struct mk_qdl_pkt p = {.type = MK_QDL_HELLO_RSP};
    p.u.hello.max_ver = 6;
    p.u.hello.min_ver = 6;
    p.u.hello.features = MK_QDL_FEATURE_QDL_UNFRAMED;
    uint8_t b[64];
    size_t n = build(&p, b, sizeof b);
    MK_CHECK_EQ_INT(n, 49);
    MK_CHECK_EQ_INT(b[0], 0x02);
    MK_CHECK_EQ_INT(b[48], 0x20); /* features at 48 in the response */
    struct mk_qdl_pkt q;
    MK_CHECK_EQ_INT(mk_qdl_parse(b, n, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_HELLO_RSP);
    MK_CHECK_EQ_INT(q.u.hello.max_ver, 6);
    MK_CHECK_EQ_INT(q.u.hello.features, 0x20);
    MK_CHECK_EQ_INT(mk_qdl_parse(b, 48, &q), MK_E_FORMAT);
}

MK_TEST(error_and_names)
{
    static const uint8_t e[] = {0x0D, 0x16, 0x00, 0x00, 0x00, 0x00};
    struct mk_qdl_pkt q;
    MK_CHECK_EQ_INT(mk_qdl_parse(e, sizeof e, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_ERROR);
    MK_CHECK_EQ_HEX(q.u.error.code, MK_QDL_ERR_CMD_UNSUPPORTED);
    MK_CHECK_EQ_STR(mk_qdl_error_name(q.u.error.code), "command unsupported");
    MK_CHECK_EQ_STR(mk_qdl_error_name(0x17), "bad CRC");
    MK_CHECK_EQ_STR(mk_qdl_error_name(0x1A), "image authentication error");
    MK_CHECK_EQ_STR(mk_qdl_error_name(0x01), "unknown error");
    MK_CHECK_EQ_STR(mk_qdl_error_name(0x1234), "unknown error");
    uint8_t b[16];
    size_t n = build(&q, b, sizeof b);
    MK_CHECK_EQ_INT(n, 6);
    MK_CHECK_EQ_MEM(b, e, 6);
    MK_CHECK_EQ_INT(mk_qdl_parse(e, 5, &q), MK_E_FORMAT);
}

MK_TEST(open_unframed_carries_the_cwe_header)
{
    uint8_t hdr[400];
    for (int i = 0; i < 400; i++)
        hdr[i] = (uint8_t)i;
    struct mk_qdl_pkt p = {.type = MK_QDL_OPEN_REQ};
    p.u.open_req.image_type = MK_QDL_IMAGE_CWE;
    p.u.open_req.data_len = 123456;
    p.u.open_req.header = hdr;
    p.u.open_req.header_len = sizeof hdr;
    uint8_t b[512];
    size_t n = build(&p, b, sizeof b);
    MK_CHECK_EQ_INT(n, 413);
    MK_CHECK_EQ_HEX(b[0], 0x25);
    MK_CHECK_EQ_HEX(b[1], 0x80);
    MK_CHECK_EQ_INT(mk_get_le32(b + 2), 400 + 123456); /* header + data */
    MK_CHECK_EQ_INT(b[6], 1);                          /* window size */
    MK_CHECK_EQ_INT(mk_get_le32(b + 7), 123456);
    MK_CHECK_EQ_INT(mk_get_le16(b + 11), 0);
    MK_CHECK_EQ_MEM(b + 13, hdr, 400);
    struct mk_qdl_pkt q;
    MK_CHECK_EQ_INT(mk_qdl_parse(b, n, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_OPEN_REQ);
    MK_CHECK_EQ_INT(q.u.open_req.length, 400 + 123456);
    MK_CHECK_EQ_INT(q.u.open_req.data_len, 123456);
    MK_CHECK_EQ_INT(q.u.open_req.header_len, 400);
    MK_CHECK(q.u.open_req.header == b + 13);
    MK_CHECK_EQ_INT(mk_qdl_build(&p, b, 412, &n), MK_E_NOSPC);

    struct mk_qdl_pkt r = {.type = MK_QDL_OPEN_RSP};
    r.u.open_rsp.status = 0;
    r.u.open_rsp.window = 1;
    r.u.open_rsp.chunk_size = 0x100000;
    n = build(&r, b, sizeof b);
    static const uint8_t want[] = {0x26, 0, 0, 1, 0x00, 0x00, 0x10, 0x00};
    MK_CHECK_EQ_INT(n, 8);
    MK_CHECK_EQ_MEM(b, want, 8);
    MK_CHECK_EQ_INT(mk_qdl_parse(b, n, &q), MK_OK);
    MK_CHECK_EQ_INT(q.u.open_rsp.chunk_size, 0x100000);
}

/* The write header is not HDLC: 13 bytes whose last two are the CRC-16/X-25 of bytes
 * 0..10, little-endian. */
MK_TEST(write_unframed_header)
{
    struct mk_qdl_pkt p = {.type = MK_QDL_WRITE_REQ};
    p.u.write_req.seq = 0x0102;
    p.u.write_req.chunk_size = 0x100000;
    uint8_t b[32];
    size_t n = build(&p, b, sizeof b);
    MK_CHECK_EQ_INT(n, 13);
    static const uint8_t head[11] = {0x27, 0x02, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00};
    MK_CHECK_EQ_MEM(b, head, 11);
    uint16_t crc = mk_crc16_x25(head, 11);
    MK_CHECK_EQ_INT(b[11], crc & 0xFF);
    MK_CHECK_EQ_INT(b[12], crc >> 8);
    /* target side: parse with the chunk data after the header */
    memcpy(b + 13, "DATA", 4);
    struct mk_qdl_pkt q;
    MK_CHECK_EQ_INT(mk_qdl_parse(b, 17, &q), MK_OK);
    MK_CHECK_EQ_INT(q.u.write_req.seq, 0x0102);
    MK_CHECK_EQ_INT(q.u.write_req.chunk_size, 0x100000);
    MK_CHECK_EQ_INT(q.u.write_req.data_len, 4);
    MK_CHECK_EQ_MEM(q.u.write_req.data, "DATA", 4);
    b[5] ^= 1;
    MK_CHECK_EQ_INT(mk_qdl_parse(b, 17, &q), MK_E_CRC);

    struct mk_qdl_pkt r = {.type = MK_QDL_WRITE_RSP};
    r.u.write_rsp.seq = 0x0102;
    r.u.write_rsp.status = 0;
    n = build(&r, b, sizeof b);
    MK_CHECK_EQ_INT(n, 9);
    MK_CHECK_EQ_INT(b[0], 0x28);
    MK_CHECK_EQ_INT(mk_get_le16(b + 1), 0x0102);
    MK_CHECK_EQ_INT(mk_qdl_parse(b, n, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_WRITE_RSP);
    MK_CHECK_EQ_INT(q.u.write_rsp.seq, 0x0102);
}

MK_TEST(close_reset_sdp_and_dload_replies)
{
    uint8_t b[16];
    struct mk_qdl_pkt p = {.type = MK_QDL_CLOSE_REQ}, q;
    MK_CHECK_EQ_INT(build(&p, b, sizeof b), 1);
    MK_CHECK_EQ_HEX(b[0], 0x29);
    p.type = MK_QDL_RESET_REQ;
    MK_CHECK_EQ_INT(build(&p, b, sizeof b), 1);
    MK_CHECK_EQ_HEX(b[0], 0x2D);

    struct mk_qdl_pkt c = {.type = MK_QDL_CLOSE_RSP};
    c.u.close_rsp.status = 7;
    c.u.close_rsp.image_type = 0x80;
    c.u.close_rsp.text = 1;
    MK_CHECK_EQ_INT(build(&c, b, sizeof b), 5);
    MK_CHECK_EQ_INT(mk_qdl_parse(b, 5, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_CLOSE_RSP);
    MK_CHECK_EQ_INT(q.u.close_rsp.status, 7);
    MK_CHECK_EQ_HEX(q.u.close_rsp.image_type, 0x80);

    /* SDP framed is the probe of seed 004 */
    p.type = MK_QDL_SDP;
    size_t n = build(&p, b, sizeof b);
    static const uint8_t sdp[] = {0x70, 0x00, 0x00};
    MK_CHECK_EQ_INT(n, 3);
    MK_CHECK_EQ_MEM(b, sdp, 3);
    uint8_t f[16];
    size_t fn;
    MK_CHECK_EQ_INT(mk_hdlc_encode(b, n, true, f, sizeof f, &fn), MK_OK);
    static const uint8_t frame[] = {0x7E, 0x70, 0x00, 0x00, 0x14, 0x46, 0x7E};
    MK_CHECK_EQ_INT(fn, 7);
    MK_CHECK_EQ_MEM(f, frame, 7);
    MK_CHECK_EQ_INT(mk_qdl_parse(b, n, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_SDP);

    /* replies: ACK is the lone 02, NAK 03 + reason, DIAG's 13 echo */
    static const uint8_t ack[] = {0x02};
    MK_CHECK_EQ_INT(mk_qdl_parse(ack, 1, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_DLOAD_ACK);
    p.type = MK_QDL_DLOAD_ACK;
    MK_CHECK_EQ_INT(build(&p, b, sizeof b), 1);
    MK_CHECK_EQ_HEX(b[0], 0x02);
    struct mk_qdl_pkt nak = {.type = MK_QDL_DLOAD_NAK};
    nak.u.nak.reason = 0x0203;
    MK_CHECK_EQ_INT(build(&nak, b, sizeof b), 3);
    MK_CHECK_EQ_INT(mk_qdl_parse(b, 3, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_DLOAD_NAK);
    MK_CHECK_EQ_HEX(q.u.nak.reason, 0x0203);
    static const uint8_t em7455[] = {0x13, 0x70, 0x00, 0x00};
    MK_CHECK_EQ_INT(mk_qdl_parse(em7455, 4, &q), MK_OK);
    MK_CHECK_EQ_INT(q.type, MK_QDL_DIAG_BAD_CMD);
    MK_CHECK_EQ_INT(q.u.diag_bad.echo_len, 3);
    MK_CHECK_EQ_MEM(q.u.diag_bad.echo, sdp, 3);
    MK_CHECK_EQ_STR(mk_qdl_type_name(q.type), "DIAG_BAD_CMD");
    MK_CHECK_EQ_INT(mk_qdl_build(&q, b, sizeof b, &n), MK_E_UNSUPPORTED);

    static const uint8_t unknown[] = {0x99};
    MK_CHECK_EQ_INT(mk_qdl_parse(unknown, 1, &q), MK_E_PROTO);
    MK_CHECK_EQ_INT(mk_qdl_parse(unknown, 0, &q), MK_E_FORMAT);
    struct mk_qdl_pkt bogus = {.type = (enum mk_qdl_type)0x55};
    MK_CHECK_EQ_INT(mk_qdl_build(&bogus, b, sizeof b, &n), MK_E_INVAL);
}

MK_TEST_MAIN()
