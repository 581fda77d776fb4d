/*
 * Sahara codec. One layout table drives both build and parse, so the host side and the
 * simulated target side cannot disagree about a field offset.
 */
#include "modemkit/sahara.h"

#include <stddef.h>
#include <string.h>

#include "modemkit/bytes.h"

/* One wire field: `count` consecutive fields of wire_w bytes at wire_off, stored in the
 * struct member at mem_off (mem_w bytes each: uint32_t or uint64_t). */
struct sh_field {
    uint8_t wire_off, wire_w, mem_off, mem_w, count;
};

struct sh_layout {
    uint8_t len; /* 0 = unknown command */
    uint8_t nfields;
    struct sh_field f[5];
};

#define SH_MSIZE(m) ((uint8_t)sizeof(((struct mk_sahara_pkt *)0)->m))
#define SH_F(wire_off, wire_w, m)                                                                  \
    {                                                                                              \
        (wire_off), (wire_w), (uint8_t)offsetof(struct mk_sahara_pkt, m), SH_MSIZE(m), 1           \
    }
#define SH_RESERVED(m)                                                                             \
    {                                                                                              \
        24, 4, (uint8_t)offsetof(struct mk_sahara_pkt, m), 4, 6                                    \
    }

/* Lengths and offsets: reference download-mode.md §1.3 and §1.4. */
static const struct sh_layout sh_layouts[] = {
    [MK_SAHARA_HELLO] = {0x30,
                         5,
                         {SH_F(8, 4, u.hello.version), SH_F(12, 4, u.hello.version_compatible),
                          SH_F(16, 4, u.hello.max_cmd_len), SH_F(20, 4, u.hello.mode),
                          SH_RESERVED(u.hello.reserved)}},
    [MK_SAHARA_HELLO_RSP] = {0x30,
                             5,
                             {SH_F(8, 4, u.hello_rsp.version),
                              SH_F(12, 4, u.hello_rsp.version_compatible),
                              SH_F(16, 4, u.hello_rsp.status), SH_F(20, 4, u.hello_rsp.mode),
                              SH_RESERVED(u.hello_rsp.reserved)}},
    [MK_SAHARA_READ_DATA] = {0x14,
                             3,
                             {SH_F(8, 4, u.read_data.image_id), SH_F(12, 4, u.read_data.offset),
                              SH_F(16, 4, u.read_data.length)}},
    [MK_SAHARA_END_IMAGE_TX] =
        {0x10, 2, {SH_F(8, 4, u.end_image.image_id), SH_F(12, 4, u.end_image.status)}},
    [MK_SAHARA_DONE] = {0x08, 0, {{0}}},
    [MK_SAHARA_DONE_RSP] = {0x0C, 1, {SH_F(8, 4, u.done_rsp.image_tx_status)}},
    [MK_SAHARA_RESET] = {0x08, 0, {{0}}},
    [MK_SAHARA_RESET_RSP] = {0x08, 0, {{0}}},
    [MK_SAHARA_MEMORY_DEBUG] =
        {0x10, 2, {SH_F(8, 4, u.memory_debug.table_addr), SH_F(12, 4, u.memory_debug.table_len)}},
    [MK_SAHARA_MEMORY_READ] = {0x10,
                               2,
                               {SH_F(8, 4, u.memory_read.addr), SH_F(12, 4, u.memory_read.len)}},
    [MK_SAHARA_CMD_READY] = {0x08, 0, {{0}}},
    [MK_SAHARA_SWITCH_MODE] = {0x0C, 1, {SH_F(8, 4, u.switch_mode.mode)}},
    [MK_SAHARA_EXECUTE] = {0x0C, 1, {SH_F(8, 4, u.execute.client_cmd)}},
    [MK_SAHARA_EXECUTE_RSP] =
        {0x10, 2, {SH_F(8, 4, u.execute_rsp.client_cmd), SH_F(12, 4, u.execute_rsp.data_len)}},
    [MK_SAHARA_EXECUTE_DATA] = {0x0C, 1, {SH_F(8, 4, u.execute.client_cmd)}},
    [MK_SAHARA_MEMORY_DEBUG_64] =
        {0x18, 2, {SH_F(8, 8, u.memory_debug.table_addr), SH_F(16, 8, u.memory_debug.table_len)}},
    [MK_SAHARA_MEMORY_READ_64] = {0x18,
                                  2,
                                  {SH_F(8, 8, u.memory_read.addr), SH_F(16, 8, u.memory_read.len)}},
    [MK_SAHARA_READ_DATA_64] = {0x20,
                                3,
                                {SH_F(8, 8, u.read_data.image_id), SH_F(16, 8, u.read_data.offset),
                                 SH_F(24, 8, u.read_data.length)}},
    [MK_SAHARA_RESET_STATE_MACHINE] = {0x08, 0, {{0}}},
};

#define SH_NCMDS (sizeof sh_layouts / sizeof sh_layouts[0])

static const struct sh_layout *sh_layout(uint32_t cmd)
{
    if (cmd >= SH_NCMDS || sh_layouts[cmd].len == 0)
        return NULL;
    return &sh_layouts[cmd];
}

uint32_t mk_sahara_cmd_len(uint32_t cmd)
{
    const struct sh_layout *l = sh_layout(cmd);
    return l ? l->len : 0;
}

static uint64_t sh_load(const struct mk_sahara_pkt *pkt, size_t off, unsigned w)
{
    const unsigned char *p = (const unsigned char *)pkt + off;
    if (w == 8) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void sh_store(struct mk_sahara_pkt *pkt, size_t off, unsigned w, uint64_t v)
{
    unsigned char *p = (unsigned char *)pkt + off;
    if (w == 8) {
        memcpy(p, &v, sizeof v);
    } else {
        uint32_t v32 = (uint32_t)v;
        memcpy(p, &v32, sizeof v32);
    }
}

enum mk_err mk_sahara_build(const struct mk_sahara_pkt *pkt, uint8_t *buf, size_t cap,
                            size_t *out_len)
{
    const struct sh_layout *l = sh_layout(pkt->cmd);
    if (!l)
        return MK_E_UNSUPPORTED;
    if (cap < l->len)
        return MK_E_NOSPC;
    memset(buf, 0, l->len);
    mk_put_le32(buf, pkt->cmd);
    mk_put_le32(buf + 4, l->len);
    for (unsigned i = 0; i < l->nfields; i++) {
        const struct sh_field *f = &l->f[i];
        for (unsigned k = 0; k < f->count; k++) {
            uint64_t v = sh_load(pkt, f->mem_off + k * f->mem_w, f->mem_w);
            uint8_t *w = buf + f->wire_off + k * f->wire_w;
            if (f->wire_w == 8) {
                mk_put_le64(w, v);
            } else {
                if (v > UINT32_MAX)
                    return MK_E_INVAL; /* use the *_64 command for this value */
                mk_put_le32(w, (uint32_t)v);
            }
        }
    }
    *out_len = l->len;
    return MK_OK;
}

/* Header check shared by parse and the stream: MK_OK when (cmd, len) is a packet this
 * codec knows. */
static enum mk_err sh_check_header(uint32_t cmd, uint32_t len)
{
    if (cmd == MK_SAHARA_WRITE_DATA)
        return (len >= MK_SAHARA_HEADER_LEN && len <= MK_SAHARA_MAX_PKT_LEN) ? MK_OK : MK_E_PROTO;
    const struct sh_layout *l = sh_layout(cmd);
    return (l && l->len == len) ? MK_OK : MK_E_PROTO;
}

enum mk_err mk_sahara_parse(const uint8_t *buf, size_t len, struct mk_sahara_pkt *out)
{
    if (len < MK_SAHARA_HEADER_LEN)
        return MK_E_FORMAT;
    uint32_t cmd = mk_get_le32(buf);
    uint32_t plen = mk_get_le32(buf + 4);
    enum mk_err err = sh_check_header(cmd, plen);
    if (err)
        return err;
    if (len < plen)
        return MK_E_FORMAT;
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    out->len = plen;
    const struct sh_layout *l = sh_layout(cmd);
    if (!l)
        return MK_OK; /* WRITE_DATA: opaque */
    for (unsigned i = 0; i < l->nfields; i++) {
        const struct sh_field *f = &l->f[i];
        for (unsigned k = 0; k < f->count; k++) {
            const uint8_t *w = buf + f->wire_off + k * f->wire_w;
            uint64_t v = f->wire_w == 8 ? mk_get_le64(w) : mk_get_le32(w);
            sh_store(out, f->mem_off + k * f->mem_w, f->mem_w, v);
        }
    }
    return MK_OK;
}

/* ---- names ---- */

static const char *const sh_cmd_names[] = {
    [MK_SAHARA_HELLO] = "HELLO",
    [MK_SAHARA_HELLO_RSP] = "HELLO_RSP",
    [MK_SAHARA_READ_DATA] = "READ_DATA",
    [MK_SAHARA_END_IMAGE_TX] = "END_IMAGE_TX",
    [MK_SAHARA_DONE] = "DONE",
    [MK_SAHARA_DONE_RSP] = "DONE_RSP",
    [MK_SAHARA_RESET] = "RESET",
    [MK_SAHARA_RESET_RSP] = "RESET_RSP",
    [MK_SAHARA_MEMORY_DEBUG] = "MEMORY_DEBUG",
    [MK_SAHARA_MEMORY_READ] = "MEMORY_READ",
    [MK_SAHARA_CMD_READY] = "CMD_READY",
    [MK_SAHARA_SWITCH_MODE] = "SWITCH_MODE",
    [MK_SAHARA_EXECUTE] = "EXECUTE",
    [MK_SAHARA_EXECUTE_RSP] = "EXECUTE_RSP",
    [MK_SAHARA_EXECUTE_DATA] = "EXECUTE_DATA",
    [MK_SAHARA_MEMORY_DEBUG_64] = "MEMORY_DEBUG_64",
    [MK_SAHARA_MEMORY_READ_64] = "MEMORY_READ_64",
    [MK_SAHARA_READ_DATA_64] = "READ_DATA_64",
    [MK_SAHARA_RESET_STATE_MACHINE] = "RESET_STATE_MACHINE",
    [MK_SAHARA_WRITE_DATA] = "WRITE_DATA",
};

static const char *const sh_mode_names[] = {"IMAGE_TX_PENDING", "IMAGE_TX_COMPLETE", "MEMORY_DEBUG",
                                            "COMMAND"};

static const char *const sh_status_names[] = {"SUCCESS",
                                              "INVALID_COMMAND",
                                              "PROTOCOL_MISMATCH",
                                              "INVALID_TARGET_PROTOCOL",
                                              "INVALID_HOST_PROTOCOL",
                                              "INVALID_PACKET_SIZE",
                                              "UNEXPECTED_IMAGE_ID",
                                              "INVALID_HEADER_SIZE",
                                              "INVALID_DATA_SIZE",
                                              "INVALID_IMAGE_TYPE",
                                              "INVALID_TX_LENGTH",
                                              "INVALID_RX_LENGTH",
                                              "TX_RX_ERROR",
                                              "READ_DATA_ERROR",
                                              "UNSUPPORTED_NUM_PHDRS",
                                              "INVALID_PHDR_SIZE",
                                              "MULTIPLE_SHARED_SEG",
                                              "UNINIT_PHDR_LOC",
                                              "INVALID_DEST_ADDRESS",
                                              "INVALID_IMAGE_HEADER_SIZE",
                                              "INVALID_ELF_HEADER",
                                              "UNKNOWN_ERROR",
                                              "TIMEOUT_RX",
                                              "TIMEOUT_TX",
                                              "INVALID_MODE",
                                              "INVALID_MEMORY_READ",
                                              "INVALID_DATA_SIZE_REQUEST",
                                              "MEMORY_DEBUG_NOT_SUPPORTED",
                                              "INVALID_MODE_SWITCH",
                                              "EXEC_FAILURE",
                                              "EXEC_CMD_INVALID_PARAM",
                                              "EXEC_CMD_UNSUPPORTED",
                                              "EXEC_DATA_INVALID",
                                              "HASH_TABLE_AUTH_FAILURE",
                                              "HASH_VERIFICATION_FAILURE",
                                              "HASH_TABLE_NOT_FOUND",
                                              "TARGET_INIT_FAILURE",
                                              "IMAGE_AUTH_FAILURE",
                                              "INVALID_IMG_HASH_TABLE_SIZE",
                                              "ENUMERATION_FAILURE",
                                              "HW_BULK_TRANSFER_ERROR"};

static const char *const sh_exec_names[] = {"NOP",
                                            "SERIAL_NUM_READ",
                                            "MSM_HW_ID_READ",
                                            "OEM_PK_HASH_READ",
                                            "SWITCH_TO_DMSS_DLOAD",
                                            "SWITCH_TO_STREAM_DLOAD",
                                            "READ_DEBUG_DATA",
                                            "GET_SOFTWARE_VERSION_SBL",
                                            "GET_COMMAND_ID_LIST",
                                            "GET_TRAINING_DATA",
                                            "READ_CHIP_ID_V3"};

#define SH_NAME(table, v)                                                                          \
    (((v) < sizeof(table) / sizeof((table)[0]) && (table)[v]) ? (table)[v] : "?")

const char *mk_sahara_cmd_name(uint32_t cmd)
{
    return SH_NAME(sh_cmd_names, cmd);
}

const char *mk_sahara_mode_name(uint32_t mode)
{
    return SH_NAME(sh_mode_names, mode);
}

const char *mk_sahara_status_name(uint32_t status)
{
    return SH_NAME(sh_status_names, status);
}

const char *mk_sahara_exec_name(uint32_t client_cmd)
{
    if (client_cmd == MK_SAHARA_EXEC_SIERRA_SWITCH_FIREHOSE)
        return "SIERRA_SWITCH_FIREHOSE";
    return SH_NAME(sh_exec_names, client_cmd);
}

/* ---- stream splitter ---- */

void mk_sahara_stream_init(struct mk_sahara_stream *s)
{
    memset(s, 0, sizeof *s);
}

void mk_sahara_stream_expect_raw(struct mk_sahara_stream *s, uint64_t n)
{
    s->raw_left += n;
}

enum mk_sahara_ev mk_sahara_stream_next(struct mk_sahara_stream *s, const uint8_t *in, size_t len,
                                        size_t *used, struct mk_sahara_event *ev)
{
    size_t pos = 0;
    memset(ev, 0, sizeof *ev);

    /* A raw phase starts only at a packet boundary: the caller opens it after handling
     * the packet that announced it. */
    if (s->raw_left && s->have == 0) {
        size_t n = len;
        if ((uint64_t)n > s->raw_left)
            n = (size_t)s->raw_left;
        *used = n;
        if (n == 0)
            return ev->type = MK_SAHARA_EV_NONE;
        s->raw_left -= n;
        ev->raw = in;
        ev->raw_len = n;
        return ev->type = MK_SAHARA_EV_RAW;
    }

    while (pos < len) {
        size_t want = MK_SAHARA_HEADER_LEN;
        if (s->have >= MK_SAHARA_HEADER_LEN)
            want = mk_get_le32(s->hdr + 4);
        size_t n = want - s->have;
        if (n > len - pos)
            n = len - pos;
        memcpy(s->hdr + s->have, in + pos, n);
        s->have += n;
        pos += n;

        if (s->have == MK_SAHARA_HEADER_LEN) {
            uint32_t cmd = mk_get_le32(s->hdr), plen = mk_get_le32(s->hdr + 4);
            enum mk_err err = sh_check_header(cmd, plen);
            if (err) {
                /* Not a packet: drop the whole header. Sahara has no resync marker, so
                 * the session decides what to do (typically RESET or a new HELLO). */
                s->have = 0;
                *used = pos;
                ev->pkt.cmd = cmd;
                ev->pkt.len = plen;
                ev->err = err;
                return ev->type = MK_SAHARA_EV_ERROR;
            }
        }
        if (s->have >= MK_SAHARA_HEADER_LEN && s->have == mk_get_le32(s->hdr + 4)) {
            /* Cannot fail: the header was checked and the packet is complete. */
            (void)mk_sahara_parse(s->hdr, s->have, &ev->pkt);
            s->have = 0;
            *used = pos;
            return ev->type = MK_SAHARA_EV_PACKET;
        }
    }
    *used = pos;
    return ev->type = MK_SAHARA_EV_NONE;
}
