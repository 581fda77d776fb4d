/*
 * Sahara stream splitter + codec. Input: byte 0 = chunk size, byte 1 = raw-phase length
 * opened after the first packet, then the stream. Invariant: every packet the stream
 * yields builds back to bytes that parse to the same packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/sahara.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct mk_sahara_pkt *p)
{
    uint8_t buf[MK_SAHARA_MAX_PKT_LEN];
    size_t n;
    if (mk_sahara_build(p, buf, sizeof buf, &n) != MK_OK)
        return; /* WRITE_DATA is opaque */
    struct mk_sahara_pkt q;
    if (mk_sahara_parse(buf, n, &q) != MK_OK || q.cmd != p->cmd || q.len != p->len ||
        memcmp(&q.u, &p->u, sizeof q.u) != 0)
        abort();
    (void)mk_sahara_cmd_name(p->cmd);
    (void)mk_sahara_status_name(p->u.end_image.status);
    (void)mk_sahara_mode_name(p->u.hello.mode);
    (void)mk_sahara_exec_name(p->u.execute.client_cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t step = data[0] ? data[0] : 1;
    uint64_t raw = data[1];
    data += 2;
    size -= 2;
    struct mk_sahara_stream s;
    mk_sahara_stream_init(&s);
    int packets = 0;
    for (size_t off = 0; off < size;) {
        size_t chunk = size - off < step ? size - off : step, pos = 0;
        while (pos < chunk) {
            struct mk_sahara_event ev;
            size_t used = 0;
            enum mk_sahara_ev t =
                mk_sahara_stream_next(&s, data + off + pos, chunk - pos, &used, &ev);
            if (used > chunk - pos)
                abort();
            pos += used;
            if (t == MK_SAHARA_EV_PACKET) {
                check_round_trip(&ev.pkt);
                if (packets++ == 0)
                    mk_sahara_stream_expect_raw(&s, raw);
            } else if (t == MK_SAHARA_EV_RAW) {
                if (ev.raw_len == 0 || ev.raw != data + off + pos - used)
                    abort();
            } else if (t == MK_SAHARA_EV_NONE && pos != chunk) {
                abort();
            }
        }
        off += chunk;
    }
    /* the one-shot parser over the whole input too */
    struct mk_sahara_pkt p;
    if (mk_sahara_parse(data, size, &p) == MK_OK)
        check_round_trip(&p);
    return 0;
}
