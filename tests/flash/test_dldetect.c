/* Protocol detector: classification, the listen/probe state machine on a virtual clock,
 * and the seed-004 scenario at byte level (reference download-mode.md §1.10, §7.2). */
#include "mk_test.h"
#include "modemkit/dldetect.h"
#include "modemkit/firehose.h"
#include "modemkit/hdlc.h"
#include "modemkit/sahara.h"

static const uint8_t seed004_hello[48] = {
    0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t sdp_frame[7] = {0x7E, 0x70, 0x00, 0x00, 0x14, 0x46, 0x7E};

static uint8_t kept[4096];

/* qmi-firmware-update's failure, replayed against the detector: nothing arrives while
 * listening (the one-shot HELLO was drained earlier), the SDP probe goes out, and the
 * boot-and-hold target answers with a 48-byte Sahara HELLO, split over two reads. The
 * detector must recognise it, keep it, and hand it to the Sahara session intact. */
MK_TEST(seed004_hello_after_sdp_probe_is_kept)
{
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    cfg.usb_vid = 0x1199;
    cfg.usb_pid = 0x68C0;
    struct mk_dldetect d;
    uint32_t now = 1000;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, now);
    struct mk_dl_step st;

    /* listening: nothing is written */
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, now, &st), MK_DL_WAIT);
    MK_CHECK_EQ_INT(st.wake_ms, 4000);
    now = 2500;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, now, &st), MK_DL_WAIT);
    now = 4000;
    /* then the SDP probe, byte for byte what libqmi sent */
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, now, &st), MK_DL_WRITE);
    MK_CHECK_EQ_INT(st.len, sizeof sdp_frame);
    MK_CHECK_EQ_MEM(st.data, sdp_frame, sizeof sdp_frame);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, now, &st), MK_DL_WAIT);
    MK_CHECK_EQ_INT(st.wake_ms, 6000);

    /* the answer: a Sahara HELLO (no 0x7E in it), in two reads */
    MK_CHECK_EQ_INT(mk_dldetect_feed(&d, seed004_hello, 20), MK_OK);
    now = 4050;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, now, &st), MK_DL_WAIT);
    MK_CHECK_EQ_INT(mk_dldetect_feed(&d, seed004_hello + 20, 28), MK_OK);
    now = 4060;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, now, &st), MK_DL_DONE);

    const struct mk_dl_result *r = mk_dldetect_result(&d);
    MK_CHECK_EQ_INT(r->proto, MK_DL_PROTO_SAHARA);
    MK_CHECK_EQ_INT(r->target, MK_DL_TARGET_SIERRA_BOOTHOLD);
    MK_CHECK(r->have_hello);
    MK_CHECK_EQ_INT(r->sahara.u.hello.version, 2);
    MK_CHECK_EQ_INT(r->sahara.u.hello.version_compatible, 1);
    MK_CHECK_EQ_HEX(r->sahara.u.hello.max_cmd_len, 0x400);
    MK_CHECK_EQ_INT(r->sahara.u.hello.mode, 2);
    MK_CHECK_EQ_INT(r->probes_sent, 1);
    MK_CHECK_EQ_INT(r->last_probe, MK_DL_PROBE_SDP);
    MK_CHECK_EQ_INT(r->offset, 0);
    MK_CHECK_EQ_INT(r->packet_len, 48);

    /* every byte is still there, and the Sahara session gets the HELLO first */
    const uint8_t *bytes;
    size_t len;
    mk_dldetect_bytes(&d, &bytes, &len);
    MK_CHECK_EQ_INT(len, 48);
    MK_CHECK_EQ_MEM(bytes, seed004_hello, 48);
    struct mk_sahara_stream s;
    mk_sahara_stream_init(&s);
    struct mk_sahara_event ev;
    size_t used;
    MK_CHECK_EQ_INT(mk_sahara_stream_next(&s, bytes + r->offset, len - r->offset, &used, &ev),
                    MK_SAHARA_EV_PACKET);
    MK_CHECK_EQ_INT(ev.pkt.cmd, MK_SAHARA_HELLO);
    MK_CHECK_EQ_INT(ev.pkt.u.hello.mode, 2);

    char text[256];
    MK_CHECK_EQ_INT(mk_dldetect_describe(&d, text, sizeof text), MK_OK);
    MK_CHECK_EQ_STR(text, "Sahara HELLO (version 2, compatible 1, max packet 1024, mode 2 "
                          "MEMORY_DEBUG) after the SDP probe (USB 1199:68c0): Sierra "
                          "boot-and-hold target; Sahara command mode, then EXECUTE 0xFF00 "
                          "switches it to Firehose (no programmer needed)");
    /* final */
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 9999, &st), MK_DL_DONE);
}

MK_TEST(hello_while_listening_needs_no_probe)
{
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    struct mk_dl_step st;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 0, &st), MK_DL_WAIT);
    mk_dldetect_feed(&d, seed004_hello, 48);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 100, &st), MK_DL_DONE);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->probes_sent, 0);
    /* without a USB hint, mode 2 still says Sierra boot-and-hold (seed 004) */
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->target, MK_DL_TARGET_SIERRA_BOOTHOLD);
    char text[256];
    mk_dldetect_describe(&d, text, sizeof text);
    MK_CHECK(strstr(text, "received unprovoked") != NULL);
}

/* PBL EDL: HELLO mode 0 (the qdl #76 log: version 2, compatible 1, 1024, mode 0), or
 * the 05c6:9008 hint whatever the mode. */
MK_TEST(pbl_edl_versus_sierra)
{
    uint8_t hello[48];
    memcpy(hello, seed004_hello, 48);
    hello[20] = 0; /* mode IMAGE_TX_PENDING */
    struct mk_dl_result r;
    bool partial;
    MK_CHECK_EQ_INT(mk_dldetect_classify(hello, 48, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_PBL_EDL);
    MK_CHECK_EQ_INT(mk_dldetect_classify(hello, 48, 0x05C6, 0x9008, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_PBL_EDL);
    MK_CHECK_EQ_INT(mk_dldetect_classify(seed004_hello, 48, 0x05C6, 0x9008, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_PBL_EDL);
    MK_CHECK_EQ_INT(mk_dldetect_classify(seed004_hello, 48, 0x05C6, 0x900E, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_RAMDUMP);
    /* a Sierra VID wins over mode 0 */
    MK_CHECK_EQ_INT(mk_dldetect_classify(hello, 48, 0x1199, 0x9090, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_SIERRA_BOOTHOLD);
    hello[20] = 3; /* COMMAND */
    MK_CHECK_EQ_INT(mk_dldetect_classify(hello, 48, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_SIERRA_BOOTHOLD);

    /* the description says what to do */
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    cfg.usb_vid = 0x05C6;
    cfg.usb_pid = 0x9008;
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    hello[20] = 0;
    mk_dldetect_feed(&d, hello, 48);
    struct mk_dl_step st;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 1, &st), MK_DL_DONE);
    char text[512];
    MK_CHECK_EQ_INT(mk_dldetect_describe(&d, text, sizeof text), MK_OK);
    MK_CHECK(strstr(text, "mode 0 IMAGE_TX_PENDING") != NULL);
    MK_CHECK(strstr(text, "(USB 05c6:9008)") != NULL);
    MK_CHECK(strstr(text, "signed Firehose programmer") != NULL);
    MK_CHECK_EQ_INT(mk_dldetect_describe(&d, text, 40), MK_E_NOSPC);

    /* other Sahara packets: READ_DATA means it is fetching an image */
    static const uint8_t rd[20] = {3, 0, 0, 0, 0x14, 0, 0,    0, 0x0d, 0,
                                   0, 0, 0, 0, 0,    0, 0x34, 0, 0,    0};
    MK_CHECK_EQ_INT(mk_dldetect_classify(rd, sizeof rd, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.proto, MK_DL_PROTO_SAHARA);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_PBL_EDL);
    static const uint8_t eit[16] = {4, 0, 0, 0, 0x10, 0, 0, 0, 0x0d, 0, 0, 0, 1, 0, 0, 0};
    MK_CHECK_EQ_INT(mk_dldetect_classify(eit, sizeof eit, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.proto, MK_DL_PROTO_SAHARA);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_UNKNOWN);
}

MK_TEST(classification)
{
    struct mk_dl_result r;
    bool partial;
    /* the EM7455's answer to SDP: a DIAG port */
    static const uint8_t em[] = {0x13, 0x70, 0x00, 0x00, 0x6A, 0x9A, 0x7E};
    MK_CHECK_EQ_INT(mk_dldetect_classify(em, sizeof em, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.proto, MK_DL_PROTO_QDL);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_DIAG);
    MK_CHECK_EQ_INT(r.hdlc_len, 4);
    /* a QDL ACK after our own echoed probe and a bad frame */
    uint8_t buf[64];
    size_t n = 0, k;
    memcpy(buf, sdp_frame, 7);
    n = 7;
    static const uint8_t junk[] = {0x55, 0x66, 0x77, 0x7E};
    memcpy(buf + n, junk, sizeof junk);
    n += sizeof junk;
    static const uint8_t ack[] = {0x02};
    mk_hdlc_encode(ack, 1, false, buf + n, sizeof buf - n, &k);
    MK_CHECK_EQ_INT(mk_dldetect_classify(buf, n + k, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_QDL);
    MK_CHECK_EQ_INT(r.offset, n);
    MK_CHECK_EQ_INT(r.packet_len, k);
    /* a QDL error 0x16 (command unsupported), which libqmi ignores after SDP */
    static const uint8_t err[] = {0x0D, 0x16, 0, 0, 0, 0};
    mk_hdlc_encode(err, sizeof err, true, buf, sizeof buf, &k);
    MK_CHECK_EQ_INT(mk_dldetect_classify(buf, k, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_QDL);
    MK_CHECK_EQ_INT(r.offset, 1);
    /* Firehose */
    const char *xml = "\r\n<?xml version=\"1.0\" ?><data><log value=\"hi\"/>";
    MK_CHECK_EQ_INT(mk_dldetect_classify((const uint8_t *)xml, strlen(xml), 0, 0, &r, &partial),
                    MK_DONE);
    MK_CHECK_EQ_INT(r.proto, MK_DL_PROTO_FIREHOSE);
    MK_CHECK_EQ_INT(r.offset, 2);
    const char *data = "<data><response value=\"NAK\"/></data>";
    MK_CHECK_EQ_INT(mk_dldetect_classify((const uint8_t *)data, strlen(data), 0, 0, &r, &partial),
                    MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_FIREHOSE);
    /* partial things wait */
    MK_CHECK_EQ_INT(mk_dldetect_classify(seed004_hello, 5, 0, 0, &r, &partial), MK_PENDING);
    MK_CHECK(partial);
    MK_CHECK_EQ_INT(mk_dldetect_classify(seed004_hello, 47, 0, 0, &r, &partial), MK_PENDING);
    MK_CHECK(partial);
    MK_CHECK_EQ_INT(mk_dldetect_classify((const uint8_t *)"<?x", 3, 0, 0, &r, &partial),
                    MK_PENDING);
    MK_CHECK(partial);
    /* noise is not partial */
    MK_CHECK_EQ_INT(mk_dldetect_classify((const uint8_t *)"AT\r\n", 4, 0, 0, &r, &partial),
                    MK_PENDING);
    MK_CHECK(!partial);
    MK_CHECK_EQ_INT(mk_dldetect_classify(NULL, 0, 0, 0, &r, &partial), MK_PENDING);
    /* a stray byte before the HELLO */
    uint8_t late[49];
    late[0] = 0xFF;
    memcpy(late + 1, seed004_hello, 48);
    MK_CHECK_EQ_INT(mk_dldetect_classify(late, 49, 0, 0, &r, &partial), MK_DONE);
    MK_CHECK_EQ_INT(r.proto, MK_DL_PROTO_SAHARA);
    MK_CHECK_EQ_INT(r.offset, 1);
    MK_CHECK_EQ_INT(mk_dldetect_classify(late, 30, 0, 0, &r, &partial), MK_PENDING);
    MK_CHECK(partial);
}

/* An AT port answering the AT probe (with and without echo) is application mode. */
MK_TEST(at_port_answer)
{
    struct mk_dl_result r;
    bool partial;
    const char *echo = "AT\r\r\nOK\r\n";
    MK_CHECK_EQ_INT(mk_dldetect_classify((const uint8_t *)echo, strlen(echo), 0, 0, &r, &partial),
                    MK_DONE);
    MK_CHECK_EQ_INT(r.proto, MK_DL_PROTO_AT);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_AT);
    const char *err = "\r\nERROR\r\n";
    MK_CHECK_EQ_INT(mk_dldetect_classify((const uint8_t *)err, strlen(err), 0, 0, &r, &partial),
                    MK_DONE);
    MK_CHECK_EQ_INT(r.target, MK_DL_TARGET_AT);
    /* with the AT probe configured it goes out first, after listening */
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    cfg.probes[0] = MK_DL_PROBE_AT;
    cfg.n_probes = 1;
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    struct mk_dl_step st;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3000, &st), MK_DL_WRITE);
    MK_CHECK_EQ_INT(st.len, 3);
    MK_CHECK_EQ_MEM(st.data, "AT\r", 3);
    mk_dldetect_feed(&d, (const uint8_t *)"\r\nOK\r\n", 6);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3010, &st), MK_DL_DONE);
    char line[256];
    MK_CHECK_EQ_INT(mk_dldetect_describe(&d, line, sizeof line), MK_OK);
    MK_CHECK(strstr(line, "AT answer after the AT probe") != NULL);
    MK_CHECK(strstr(line, "AT!BOOTHOLD") != NULL);
}

/* Silent port: every probe in order, then failure with a description. */
MK_TEST(silent_port_fails_after_all_probes)
{
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    struct mk_dl_step st;
    uint32_t now = 0;
    enum mk_dl_probe seen[4];
    int writes = 0;
    for (int i = 0; i < 20; i++) {
        enum mk_dl_action a = mk_dldetect_poll(&d, now, &st);
        if (a == MK_DL_WRITE) {
            seen[writes++] = mk_dldetect_result(&d)->last_probe;
            if (writes == 2) {
                char nop[128];
                size_t n;
                mk_firehose_build_nop(nop, sizeof nop, MK_FIREHOSE_QCOM, &n);
                MK_CHECK_EQ_INT(st.len, n);
                MK_CHECK_EQ_MEM(st.data, nop, n);
            }
            if (writes == 3) {
                struct mk_sahara_pkt p;
                MK_CHECK_EQ_INT(mk_sahara_parse(st.data, st.len, &p), MK_OK);
                MK_CHECK_EQ_INT(p.cmd, MK_SAHARA_HELLO_RSP);
                MK_CHECK_EQ_INT(p.u.hello_rsp.mode, 0);
            }
            continue;
        }
        if (a == MK_DL_WAIT) {
            now = st.wake_ms;
            continue;
        }
        MK_CHECK_EQ_INT(a, MK_DL_FAIL);
        MK_CHECK_EQ_INT(st.err, MK_E_DETECT);
        break;
    }
    MK_CHECK_EQ_INT(writes, 3);
    MK_CHECK_EQ_INT(seen[0], MK_DL_PROBE_SDP);
    MK_CHECK_EQ_INT(seen[1], MK_DL_PROBE_FIREHOSE_NOP);
    MK_CHECK_EQ_INT(seen[2], MK_DL_PROBE_SAHARA_HELLO_RSP);
    MK_CHECK_EQ_INT(now, 3000 + 3 * 2000);
    char text[256];
    mk_dldetect_describe(&d, text, sizeof text);
    MK_CHECK_EQ_STR(text, "no download protocol recognised after 3 probe(s); the port stayed "
                          "silent");

    /* garbage instead: it is shown */
    cfg.n_probes = 0;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    mk_dldetect_feed(&d, (const uint8_t *)"hello\r\n!", 8);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3000, &st), MK_DL_FAIL);
    mk_dldetect_describe(&d, text, sizeof text);
    MK_CHECK_EQ_STR(text, "no download protocol recognised after 0 probe(s); received 8 bytes "
                          "that are no Sahara, HDLC or Firehose: 68 65 6c 6c 6f 0d 0a 21");
}

/* Firehose already running: the NOP probe gets an answer. */
MK_TEST(firehose_answers_the_nop)
{
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    cfg.listen_ms = 100;
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    struct mk_dl_step st;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 100, &st), MK_DL_WRITE); /* SDP */
    /* the programmer complains about the binary junk: still Firehose */
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 2100, &st), MK_DL_WRITE); /* NOP */
    const char *ans = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><data><response value=\"ACK\" "
                      "/></data>";
    mk_dldetect_feed(&d, (const uint8_t *)ans, strlen(ans));
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 2200, &st), MK_DL_DONE);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->proto, MK_DL_PROTO_FIREHOSE);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->last_probe, MK_DL_PROBE_FIREHOSE_NOP);
    char text[200];
    mk_dldetect_describe(&d, text, sizeof text);
    MK_CHECK_EQ_STR(text, "Firehose XML after the Firehose NOP probe: a Firehose programmer is "
                          "already running");
}

/* Half a HELLO at the end of listening: wait a little before writing anything. */
MK_TEST(partial_packet_delays_the_probe)
{
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    struct mk_dl_step st;
    mk_dldetect_feed(&d, seed004_hello, 30);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3000, &st), MK_DL_WAIT);
    MK_CHECK_EQ_INT(st.wake_ms, 3500);
    mk_dldetect_feed(&d, seed004_hello + 30, 18);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3200, &st), MK_DL_DONE);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->probes_sent, 0);
    /* if the rest never comes, probing goes on after the grace */
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    mk_dldetect_feed(&d, seed004_hello, 30);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3000, &st), MK_DL_WAIT);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 3500, &st), MK_DL_WRITE);
}

MK_TEST(forced_protocol_and_overflow)
{
    struct mk_dldetect_config cfg;
    mk_dldetect_config_default(&cfg);
    cfg.force = MK_DL_PROTO_QDL;
    struct mk_dldetect d;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    struct mk_dl_step st;
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 0, &st), MK_DL_DONE);
    MK_CHECK(mk_dldetect_result(&d)->forced);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->proto, MK_DL_PROTO_QDL);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->target, MK_DL_TARGET_QDL);
    char text[200];
    mk_dldetect_describe(&d, text, sizeof text);
    MK_CHECK_EQ_STR(text, "protocol forced to qdl: QDL/DLOAD download mode (Sierra 9x15/9x30 "
                          "families)");
    /* forced Sahara keeps what an already received HELLO says */
    cfg.force = MK_DL_PROTO_SAHARA;
    mk_dldetect_init(&d, &cfg, kept, sizeof kept, 0);
    mk_dldetect_feed(&d, seed004_hello, 48);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 0, &st), MK_DL_DONE);
    MK_CHECK(mk_dldetect_result(&d)->have_hello);
    MK_CHECK_EQ_INT(mk_dldetect_result(&d)->target, MK_DL_TARGET_SIERRA_BOOTHOLD);

    /* a buffer flooded with noise fails rather than dropping bytes */
    mk_dldetect_config_default(&cfg);
    uint8_t small[16];
    mk_dldetect_init(&d, &cfg, small, sizeof small, 0);
    MK_CHECK_EQ_INT(mk_dldetect_feed(&d, (const uint8_t *)"0123456789abcdefXYZ", 19), MK_E_NOSPC);
    MK_CHECK_EQ_INT(mk_dldetect_poll(&d, 0, &st), MK_DL_FAIL);
    MK_CHECK_EQ_STR(mk_dl_proto_name(MK_DL_PROTO_SAHARA), "sahara");
    MK_CHECK_EQ_STR(mk_dl_target_name(MK_DL_TARGET_PBL_EDL),
                    "Qualcomm PBL emergency download (EDL)");
}

MK_TEST_MAIN()
