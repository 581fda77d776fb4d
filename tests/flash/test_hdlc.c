/* HDLC framing vectors of reference download-mode.md §3.1 and incremental unframing. */
#include "mk_test.h"
#include "modemkit/crc.h"
#include "modemkit/hdlc.h"

MK_TEST(crc_check_value)
{
    MK_CHECK_EQ_HEX(mk_crc16_x25("123456789", 9), 0x906E);
}

static void check_encode(const uint8_t *in, size_t n, bool lead, const uint8_t *want, size_t wn)
{
    uint8_t out[64];
    size_t len = 0;
    MK_CHECK_EQ_INT(mk_hdlc_encode(in, n, lead, out, sizeof out, &len), MK_OK);
    MK_CHECK_EQ_INT(len, wn);
    MK_CHECK_EQ_MEM(out, want, wn);
}

MK_TEST(reference_vectors)
{
    /* DLOAD SDP, as libqmi sends it (seed 004: ">> 7E:70:00:00:14:46:7E") */
    static const uint8_t sdp[] = {0x70, 0x00, 0x00};
    static const uint8_t sdp_frame[] = {0x7E, 0x70, 0x00, 0x00, 0x14, 0x46, 0x7E};
    check_encode(sdp, sizeof sdp, true, sdp_frame, sizeof sdp_frame);
    MK_CHECK_EQ_HEX(mk_crc16_x25(sdp, 3), 0x4614);
    /* the EM7455's reply (libqmi-devel 2019-10) */
    static const uint8_t em[] = {0x13, 0x70, 0x00, 0x00};
    static const uint8_t em_frame[] = {0x13, 0x70, 0x00, 0x00, 0x6A, 0x9A, 0x7E};
    check_encode(em, sizeof em, false, em_frame, sizeof em_frame);
    /* DIAG switch to EDL (QFirehose, fwupd) */
    static const uint8_t diag[] = {0x4B, 0x65, 0x01, 0x00};
    static const uint8_t diag_frame[] = {0x4B, 0x65, 0x01, 0x00, 0x54, 0x0F, 0x7E};
    check_encode(diag, sizeof diag, false, diag_frame, sizeof diag_frame);
    /* DIAG DLOAD */
    static const uint8_t dl[] = {0x3A};
    static const uint8_t dl_frame[] = {0x3A, 0xA1, 0x6E, 0x7E};
    check_encode(dl, sizeof dl, false, dl_frame, sizeof dl_frame);
}

MK_TEST(escaping)
{
    static const uint8_t in[] = {0x7E, 0x01, 0x7D, 0x5E};
    uint8_t out[32];
    size_t n;
    MK_CHECK_EQ_INT(mk_hdlc_encode(in, sizeof in, false, out, sizeof out, &n), MK_OK);
    static const uint8_t head[] = {0x7D, 0x5E, 0x01, 0x7D, 0x5D, 0x5E};
    MK_CHECK_EQ_MEM(out, head, sizeof head);
    MK_CHECK_EQ_INT(out[n - 1], 0x7E);
    for (size_t i = 0; i + 1 < n; i++)
        MK_CHECK(out[i] != 0x7E);
    /* decode gives the payload back */
    uint8_t buf[32];
    struct mk_hdlc_decoder d;
    mk_hdlc_decoder_init(&d, buf, sizeof buf);
    struct mk_hdlc_frame f;
    size_t used;
    MK_CHECK_EQ_INT(mk_hdlc_decode(&d, out, n, &used, &f), MK_DONE);
    MK_CHECK_EQ_INT(used, n);
    MK_CHECK_EQ_INT(f.err, MK_OK);
    MK_CHECK_EQ_INT(f.len, sizeof in);
    MK_CHECK_EQ_MEM(f.data, in, sizeof in);

    /* a CRC byte that needs escaping: find a payload whose CRC has 7E or 7D */
    int found = 0;
    for (unsigned v = 0; v < 65536 && !found; v++) {
        uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
        uint16_t crc = mk_crc16_x25(p, 2);
        if ((crc & 0xFF) != 0x7E && (crc >> 8) != 0x7D)
            continue;
        found = 1;
        MK_CHECK_EQ_INT(mk_hdlc_encode(p, 2, true, out, sizeof out, &n), MK_OK);
        mk_hdlc_decoder_init(&d, buf, sizeof buf);
        MK_CHECK_EQ_INT(mk_hdlc_decode(&d, out, n, &used, &f), MK_DONE);
        MK_CHECK_EQ_INT(f.err, MK_OK);
        MK_CHECK_EQ_MEM(f.data, p, 2);
    }
    MK_CHECK(found);
    MK_CHECK_EQ_INT(mk_hdlc_encode(in, sizeof in, true, out, 8, &n), MK_E_NOSPC);
    MK_CHECK_EQ_INT(mk_hdlc_encode(in, 0, false, out, 2, &n), MK_E_NOSPC);
}

/* Several frames, split at every byte, with flags, an empty frame and a bad CRC. */
MK_TEST(incremental_stream)
{
    uint8_t stream[64];
    size_t n = 0, k;
    static const uint8_t a[] = {0x02};
    static const uint8_t b[] = {0x0D, 0x16, 0x00, 0x00, 0x00, 0x7E};
    mk_hdlc_encode(a, sizeof a, true, stream + n, sizeof stream - n, &k);
    n += k;
    stream[n++] = 0x7E; /* empty frame */
    mk_hdlc_encode(b, sizeof b, false, stream + n, sizeof stream - n, &k);
    n += k;
    /* a frame with a corrupted CRC */
    static const uint8_t bad[] = {0x13, 0x70, 0x00, 0x00, 0x6A, 0x9B, 0x7E};
    memcpy(stream + n, bad, sizeof bad);
    n += sizeof bad;

    for (size_t step = 1; step <= n; step++) {
        uint8_t buf[16];
        struct mk_hdlc_decoder d;
        mk_hdlc_decoder_init(&d, buf, sizeof buf);
        int frames = 0;
        for (size_t off = 0; off < n;) {
            size_t chunk = n - off < step ? n - off : step, pos = 0;
            while (pos < chunk) {
                struct mk_hdlc_frame f;
                size_t used;
                if (mk_hdlc_decode(&d, stream + off + pos, chunk - pos, &used, &f) == MK_DONE) {
                    frames++;
                    if (frames == 1) {
                        MK_CHECK_EQ_INT(f.err, MK_OK);
                        MK_CHECK_EQ_INT(f.len, 1);
                        MK_CHECK_EQ_INT(f.data[0], 0x02);
                    } else if (frames == 2) {
                        MK_CHECK_EQ_INT(f.err, MK_OK);
                        MK_CHECK_EQ_INT(f.len, sizeof b);
                        MK_CHECK_EQ_MEM(f.data, b, sizeof b);
                    } else {
                        MK_CHECK_EQ_INT(f.err, MK_E_CRC);
                        MK_CHECK_EQ_INT(f.len, 4);
                        MK_CHECK_EQ_HEX(f.crc_rx, 0x9B6A);
                    }
                }
                pos += used;
            }
            off += chunk;
        }
        MK_CHECK_EQ_INT(frames, 3);
    }
}

MK_TEST(overflow_short_and_abort)
{
    uint8_t buf[4];
    struct mk_hdlc_decoder d;
    mk_hdlc_decoder_init(&d, buf, sizeof buf);
    struct mk_hdlc_frame f;
    size_t used;
    static const uint8_t longf[] = {1, 2, 3, 4, 5, 6, 0x7E};
    MK_CHECK_EQ_INT(mk_hdlc_decode(&d, longf, sizeof longf, &used, &f), MK_DONE);
    MK_CHECK_EQ_INT(f.err, MK_E_OVERFLOW);
    static const uint8_t shortf[] = {0x7E, 0x05, 0x7E};
    MK_CHECK_EQ_INT(mk_hdlc_decode(&d, shortf, sizeof shortf, &used, &f), MK_DONE);
    MK_CHECK_EQ_INT(f.err, MK_E_PROTO);
    static const uint8_t aborted[] = {0x01, 0x02, 0x7D, 0x7E};
    MK_CHECK_EQ_INT(mk_hdlc_decode(&d, aborted, sizeof aborted, &used, &f), MK_DONE);
    MK_CHECK_EQ_INT(f.err, MK_E_PROTO);
    /* the decoder is clean again afterwards */
    static const uint8_t ok[] = {0x3A, 0xA1, 0x6E, 0x7E};
    MK_CHECK_EQ_INT(mk_hdlc_decode(&d, ok, sizeof ok, &used, &f), MK_DONE);
    MK_CHECK_EQ_INT(f.err, MK_OK);
    MK_CHECK_EQ_INT(f.data[0], 0x3A);
    /* a partial frame stays pending */
    MK_CHECK_EQ_INT(mk_hdlc_decode(&d, ok, 2, &used, &f), MK_PENDING);
    MK_CHECK_EQ_INT(used, 2);
}

MK_TEST_MAIN()
