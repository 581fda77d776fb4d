/* Sahara codec: every command both ways, names, and the stream splitter (reference
 * download-mode.md §1). */
#include "mk_test.h"
#include "modemkit/bytes.h"
#include "modemkit/sahara.h"

/* The 48 bytes an RC7620 in boot-and-hold sent in answer to the SDP probe (seed 004,
 * qmi-firmware-update verbose log "<< 01:00:00:00:30:00:00:00:02:..."). */
static const uint8_t seed004_hello[48] = {
    0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

MK_TEST(seed004_hello_decodes)
{
    struct mk_sahara_pkt p;
    MK_CHECK_EQ_INT(mk_sahara_parse(seed004_hello, sizeof seed004_hello, &p), MK_OK);
    MK_CHECK_EQ_INT(p.cmd, MK_SAHARA_HELLO);
    MK_CHECK_EQ_INT(p.len, 0x30);
    MK_CHECK_EQ_INT(p.u.hello.version, 2);
    MK_CHECK_EQ_INT(p.u.hello.version_compatible, 1);
    MK_CHECK_EQ_HEX(p.u.hello.max_cmd_len, 0x400);
    MK_CHECK_EQ_INT(p.u.hello.mode, MK_SAHARA_MODE_MEMORY_DEBUG);
    MK_CHECK_EQ_STR(mk_sahara_mode_name(p.u.hello.mode), "MEMORY_DEBUG");
    /* and building it back gives the same bytes (target side of the simulator) */
    uint8_t out[64];
    size_t n;
    MK_CHECK_EQ_INT(mk_sahara_build(&p, out, sizeof out, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 48);
    MK_CHECK_EQ_MEM(out, seed004_hello, 48);
}

/* libqmi's boot-and-hold reply, and the exact bytes of Sierra's 0xFF00 switch as logged
 * by fwdwl-lite (pi-router issue 1, §1.7). */
MK_TEST(sierra_switch_bytes)
{
    uint8_t out[64];
    size_t n;
    struct mk_sahara_pkt rsp = {.cmd = MK_SAHARA_HELLO_RSP};
    rsp.u.hello_rsp.version = 2;
    rsp.u.hello_rsp.version_compatible = 2;
    rsp.u.hello_rsp.mode = MK_SAHARA_MODE_COMMAND;
    MK_CHECK_EQ_INT(mk_sahara_build(&rsp, out, sizeof out, &n), MK_OK);
    static const uint8_t want_rsp[24] = {2, 0, 0, 0, 0x30, 0, 0, 0, 2, 0, 0, 0,
                                         2, 0, 0, 0, 0,    0, 0, 0, 3, 0, 0, 0};
    MK_CHECK_EQ_INT(n, 48);
    MK_CHECK_EQ_MEM(out, want_rsp, 24);

    struct mk_sahara_pkt ex = {.cmd = MK_SAHARA_EXECUTE};
    ex.u.execute.client_cmd = MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE;
    MK_CHECK_EQ_INT(mk_sahara_build(&ex, out, sizeof out, &n), MK_OK);
    static const uint8_t want_ex[12] = {0x0d, 0, 0, 0, 0x0c, 0, 0, 0, 0x00, 0xff, 0, 0};
    MK_CHECK_EQ_INT(n, 12);
    MK_CHECK_EQ_MEM(out, want_ex, 12);
    ex.cmd = MK_SAHARA_EXECUTE_DATA;
    MK_CHECK_EQ_INT(mk_sahara_build(&ex, out, sizeof out, &n), MK_OK);
    static const uint8_t want_data[12] = {0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x00, 0xff, 0, 0};
    MK_CHECK_EQ_MEM(out, want_data, 12);
    MK_CHECK_EQ_STR(mk_sahara_exec_name(0xFF00), "SIERRA_SWITCH_FIREHOSE");
    MK_CHECK_EQ_STR(mk_sahara_exec_name(0x0A), "READ_CHIP_ID_V3");
}

/* Every command: build -> exact length and header -> parse -> same fields. */
MK_TEST(every_command_round_trips)
{
    static const uint32_t lens[] = {0,    0x30, 0x30, 0x14, 0x10, 0x08, 0x0C, 0x08, 0x08, 0x10,
                                    0x10, 0x08, 0x0C, 0x0C, 0x10, 0x0C, 0x18, 0x18, 0x20, 0x08};
    for (uint32_t cmd = 1; cmd <= 0x13; cmd++) {
        struct mk_sahara_pkt p;
        memset(&p, 0, sizeof p);
        p.cmd = cmd;
        /* distinct values in every 32-bit slot of the union */
        uint32_t words[12];
        for (int i = 0; i < 12; i++)
            words[i] = 0x01000000u * (uint32_t)(i + 1) + cmd;
        memcpy(&p.u, words, sizeof p.u < sizeof words ? sizeof p.u : sizeof words);
        if (cmd == MK_SAHARA_READ_DATA || cmd == MK_SAHARA_MEMORY_DEBUG ||
            cmd == MK_SAHARA_MEMORY_READ) {
            /* u64 members of 32-bit commands must fit */
            p.u.read_data.image_id &= 0xFFFFFFFF;
            p.u.read_data.offset &= 0xFFFFFFFF;
            p.u.read_data.length &= 0xFFFFFFFF;
        }
        uint8_t buf[64];
        size_t n = 0;
        MK_CHECK_EQ_INT(mk_sahara_build(&p, buf, sizeof buf, &n), MK_OK);
        MK_CHECK_EQ_INT(n, lens[cmd]);
        MK_CHECK_EQ_INT(mk_sahara_cmd_len(cmd), lens[cmd]);
        MK_CHECK_EQ_INT(mk_get_le32(buf), cmd);
        MK_CHECK_EQ_INT(mk_get_le32(buf + 4), lens[cmd]);
        struct mk_sahara_pkt q;
        MK_CHECK_EQ_INT(mk_sahara_parse(buf, n, &q), MK_OK);
        MK_CHECK_EQ_INT(q.cmd, cmd);
        MK_CHECK_EQ_INT(q.len, lens[cmd]);
        /* rebuild from the parsed struct: identical bytes */
        uint8_t again[64];
        size_t m = 0;
        MK_CHECK_EQ_INT(mk_sahara_build(&q, again, sizeof again, &m), MK_OK);
        MK_CHECK_EQ_INT(m, n);
        MK_CHECK_EQ_MEM(again, buf, n);
        /* too small a buffer */
        MK_CHECK_EQ_INT(mk_sahara_build(&p, buf, n - 1, &m), MK_E_NOSPC);
        /* too short an input */
        MK_CHECK_EQ_INT(mk_sahara_parse(buf, n - 1, &q), MK_E_FORMAT);
        /* a wrong length field */
        mk_put_le32(buf + 4, lens[cmd] + 4);
        MK_CHECK_EQ_INT(mk_sahara_parse(buf, sizeof buf, &q), MK_E_PROTO);
        MK_CHECK(mk_sahara_cmd_name(cmd)[0] != '?');
    }
}

MK_TEST(field_offsets)
{
    /* READ_DATA_64 (§1.3): image_id u64 @8, offset u64 @16, length u64 @24 */
    struct mk_sahara_pkt p = {.cmd = MK_SAHARA_READ_DATA_64};
    p.u.read_data.image_id = 0x0D;
    p.u.read_data.offset = 0x123456789ULL;
    p.u.read_data.length = 0x1000;
    uint8_t b[64];
    size_t n;
    MK_CHECK_EQ_INT(mk_sahara_build(&p, b, sizeof b, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 0x20);
    MK_CHECK_EQ_HEX(mk_get_le64(b + 8), 0x0D);
    MK_CHECK_EQ_HEX(mk_get_le64(b + 16), 0x123456789ULL);
    MK_CHECK_EQ_HEX(mk_get_le64(b + 24), 0x1000);
    /* the same value does not fit the 32-bit READ_DATA */
    p.cmd = MK_SAHARA_READ_DATA;
    MK_CHECK_EQ_INT(mk_sahara_build(&p, b, sizeof b, &n), MK_E_INVAL);
    p.u.read_data.offset = 0x2000;
    MK_CHECK_EQ_INT(mk_sahara_build(&p, b, sizeof b, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 0x14);
    MK_CHECK_EQ_HEX(mk_get_le32(b + 8), 0x0D);
    MK_CHECK_EQ_HEX(mk_get_le32(b + 12), 0x2000);
    MK_CHECK_EQ_HEX(mk_get_le32(b + 16), 0x1000);

    /* MEMORY_DEBUG_64: table addr u64 @8, length u64 @16 */
    struct mk_sahara_pkt m = {.cmd = MK_SAHARA_MEMORY_DEBUG_64};
    m.u.memory_debug.table_addr = 0x8000000000ULL;
    m.u.memory_debug.table_len = 0x200;
    MK_CHECK_EQ_INT(mk_sahara_build(&m, b, sizeof b, &n), MK_OK);
    MK_CHECK_EQ_HEX(mk_get_le64(b + 8), 0x8000000000ULL);
    MK_CHECK_EQ_HEX(mk_get_le64(b + 16), 0x200);

    /* END_IMAGE_TX: image_id @8, status @12; DONE_RSP: status @8; EXECUTE_RSP @8/@12 */
    static const uint8_t end[16] = {4, 0, 0, 0, 0x10, 0, 0, 0, 0x0d, 0, 0, 0, 0x25, 0, 0, 0};
    struct mk_sahara_pkt q;
    MK_CHECK_EQ_INT(mk_sahara_parse(end, sizeof end, &q), MK_OK);
    MK_CHECK_EQ_INT(q.u.end_image.image_id, 13);
    MK_CHECK_EQ_INT(q.u.end_image.status, MK_SAHARA_STATUS_IMAGE_AUTH_FAILURE);
    MK_CHECK_EQ_STR(mk_sahara_status_name(q.u.end_image.status), "IMAGE_AUTH_FAILURE");
    static const uint8_t xr[16] = {0x0e, 0, 0, 0, 0x10, 0, 0, 0, 0, 0xff, 0, 0, 9, 0, 0, 0};
    MK_CHECK_EQ_INT(mk_sahara_parse(xr, sizeof xr, &q), MK_OK);
    MK_CHECK_EQ_HEX(q.u.execute_rsp.client_cmd, 0xFF00);
    MK_CHECK_EQ_INT(q.u.execute_rsp.data_len, 9);
}

MK_TEST(status_names_are_enum_names)
{
    /* edl's ErrorDesc table is shifted by one; ours are libqmi's enum names (§1.6). */
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x00), "SUCCESS");
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x01), "INVALID_COMMAND");
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x13), "INVALID_IMAGE_HEADER_SIZE");
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x14), "INVALID_ELF_HEADER");
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x1F), "EXEC_CMD_UNSUPPORTED");
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x28), "HW_BULK_TRANSFER_ERROR");
    MK_CHECK_EQ_STR(mk_sahara_status_name(0x29), "?");
    MK_CHECK_EQ_STR(mk_sahara_cmd_name(0x14), "WRITE_DATA");
    MK_CHECK_EQ_STR(mk_sahara_cmd_name(0x15), "?");
    MK_CHECK_EQ_STR(mk_sahara_mode_name(3), "COMMAND");
    MK_CHECK_EQ_STR(mk_sahara_mode_name(4), "?");
}

MK_TEST(unknown_and_opaque)
{
    uint8_t b[64] = {0x15, 0, 0, 0, 8, 0, 0, 0};
    struct mk_sahara_pkt q;
    MK_CHECK_EQ_INT(mk_sahara_parse(b, 8, &q), MK_E_PROTO);
    MK_CHECK_EQ_INT(mk_sahara_parse(b, 7, &q), MK_E_FORMAT);
    /* WRITE_DATA: layout unknown, accepted opaque */
    b[0] = 0x14;
    b[4] = 0x20;
    MK_CHECK_EQ_INT(mk_sahara_parse(b, 0x20, &q), MK_OK);
    MK_CHECK_EQ_INT(q.cmd, MK_SAHARA_WRITE_DATA);
    MK_CHECK_EQ_INT(q.len, 0x20);
    size_t n;
    MK_CHECK_EQ_INT(mk_sahara_build(&q, b, sizeof b, &n), MK_E_UNSUPPORTED);
    b[4] = 0x41; /* larger than the codec handles */
    MK_CHECK_EQ_INT(mk_sahara_parse(b, sizeof b, &q), MK_E_PROTO);
    /* HELLO of another length: rejected like qdl does */
    memcpy(b, seed004_hello, 8);
    b[4] = 0x2C;
    MK_CHECK_EQ_INT(mk_sahara_parse(b, sizeof b, &q), MK_E_PROTO);
}

/* Feed `in` in pieces of `step` bytes; collect events. */
struct collected {
    struct mk_sahara_pkt pkts[16];
    int npkts;
    uint8_t raw[256];
    size_t nraw;
    int nerr;
};

static void run(struct mk_sahara_stream *s, const uint8_t *in, size_t len, size_t step,
                struct collected *c, uint64_t raw_after_first)
{
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < step ? len - off : step;
        size_t pos = 0;
        while (pos < chunk) {
            struct mk_sahara_event ev;
            size_t used = 0;
            enum mk_sahara_ev t = mk_sahara_stream_next(s, in + off + pos, chunk - pos, &used, &ev);
            pos += used;
            if (t == MK_SAHARA_EV_PACKET) {
                c->pkts[c->npkts++] = ev.pkt;
                if (c->npkts == 1 && raw_after_first)
                    mk_sahara_stream_expect_raw(s, raw_after_first);
            } else if (t == MK_SAHARA_EV_RAW) {
                memcpy(c->raw + c->nraw, ev.raw, ev.raw_len);
                c->nraw += ev.raw_len;
            } else if (t == MK_SAHARA_EV_ERROR) {
                c->nerr++;
            } else {
                MK_CHECK_EQ_INT(pos, chunk); /* NONE: the whole input was consumed */
            }
        }
        off += chunk;
    }
}

MK_TEST(stream_splits_and_merges)
{
    /* HELLO + CMD_READY + EXECUTE_RSP in one buffer, delivered with every chunk size */
    uint8_t in[128];
    size_t len = 0;
    memcpy(in, seed004_hello, 48);
    len += 48;
    static const uint8_t ready[8] = {0x0b, 0, 0, 0, 8, 0, 0, 0};
    memcpy(in + len, ready, 8);
    len += 8;
    static const uint8_t xr[16] = {0x0e, 0, 0, 0, 0x10, 0, 0, 0, 0, 0xff, 0, 0, 9, 0, 0, 0};
    memcpy(in + len, xr, 16);
    len += 16;
    for (size_t step = 1; step <= len; step++) {
        struct mk_sahara_stream s;
        mk_sahara_stream_init(&s);
        struct collected c = {0};
        run(&s, in, len, step, &c, 0);
        MK_CHECK_EQ_INT(c.npkts, 3);
        MK_CHECK_EQ_INT(c.nerr, 0);
        MK_CHECK_EQ_INT(c.pkts[0].cmd, MK_SAHARA_HELLO);
        MK_CHECK_EQ_HEX(c.pkts[0].u.hello.max_cmd_len, 0x400);
        MK_CHECK_EQ_INT(c.pkts[1].cmd, MK_SAHARA_CMD_READY);
        MK_CHECK_EQ_INT(c.pkts[2].cmd, MK_SAHARA_EXECUTE_RSP);
        MK_CHECK_EQ_INT(c.pkts[2].u.execute_rsp.data_len, 9);
    }
}

/* Target side: after READ_DATA the host's raw bytes are data, even when they look
 * exactly like a Sahara packet; the next packet after them is parsed again. */
MK_TEST(stream_raw_phase_is_not_packets)
{
    uint8_t in[128];
    size_t len = 0;
    static const uint8_t hello_rsp[8] = {2, 0, 0, 0, 0x30, 0, 0, 0};
    memcpy(in, hello_rsp, 8);
    memset(in + 8, 0, 40);
    len = 48;
    /* 48 raw bytes that are byte-identical to a HELLO */
    memcpy(in + len, seed004_hello, 48);
    len += 48;
    static const uint8_t done[8] = {5, 0, 0, 0, 8, 0, 0, 0};
    memcpy(in + len, done, 8);
    len += 8;
    for (size_t step = 1; step <= len; step += 3) {
        struct mk_sahara_stream s;
        mk_sahara_stream_init(&s);
        struct collected c = {0};
        run(&s, in, len, step, &c, 48);
        MK_CHECK_EQ_INT(c.npkts, 2);
        MK_CHECK_EQ_INT(c.pkts[0].cmd, MK_SAHARA_HELLO_RSP);
        MK_CHECK_EQ_INT(c.pkts[1].cmd, MK_SAHARA_DONE);
        MK_CHECK_EQ_INT(c.nraw, 48);
        MK_CHECK_EQ_MEM(c.raw, seed004_hello, 48);
        MK_CHECK_EQ_INT(mk_sahara_stream_raw_left(&s), 0);
    }
    /* host side: "confirmed" after EXECUTE_DATA(0xFF00) */
    struct mk_sahara_stream s;
    mk_sahara_stream_init(&s);
    mk_sahara_stream_expect_raw(&s, 9);
    struct mk_sahara_event ev;
    size_t used;
    const uint8_t confirmed[] = "confirmedXX";
    MK_CHECK_EQ_INT(mk_sahara_stream_next(&s, confirmed, 11, &used, &ev), MK_SAHARA_EV_RAW);
    MK_CHECK_EQ_INT(used, 9);
    MK_CHECK_EQ_INT(ev.raw_len, 9);
    MK_CHECK_EQ_MEM(ev.raw, "confirmed", 9);
}

MK_TEST(stream_bad_header_is_reported)
{
    uint8_t in[64] = {0x99, 0, 0, 0, 8, 0, 0, 0};
    memcpy(in + 8, seed004_hello, 48);
    struct mk_sahara_stream s;
    mk_sahara_stream_init(&s);
    struct collected c = {0};
    run(&s, in, 56, 5, &c, 0);
    MK_CHECK_EQ_INT(c.nerr, 1);
    MK_CHECK_EQ_INT(c.npkts, 1);
    MK_CHECK_EQ_INT(c.pkts[0].cmd, MK_SAHARA_HELLO);
    struct mk_sahara_event ev;
    size_t used;
    MK_CHECK_EQ_INT(mk_sahara_stream_next(&s, in, 8, &used, &ev), MK_SAHARA_EV_ERROR);
    MK_CHECK_EQ_INT(ev.err, MK_E_PROTO);
    MK_CHECK_EQ_HEX(ev.pkt.cmd, 0x99);
    MK_CHECK_EQ_INT(used, 8);
}

MK_TEST_MAIN()
