/*
 * Firehose stream parser, attribute scanner and response decoder. Input: byte 0 = chunk
 * size, byte 1 = parser buffer size (x8), then the stream. Raw phases are drained as a
 * session would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/firehose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inspect(const struct mk_firehose_msg *m)
{
    char out[64];
    uint64_t v;
    (void)mk_firehose_attr_get(m, "value", out, sizeof out);
    (void)mk_firehose_attr_get(m, "MemoryName", out, 4);
    (void)mk_firehose_attr_u64(m, "MaxPayloadSizeToTargetInBytes", &v);
    struct mk_firehose_response r;
    if (m->type == MK_FIREHOSE_MSG_RESPONSE) {
        enum mk_err err = mk_firehose_parse_response(m, &r);
        if ((err == MK_OK) != r.ack || r.ack != m->ack)
            abort(); /* a NAK must never read as success */
        bool retry;
        (void)mk_firehose_negotiate(&r, 1048576, &v, &retry);
    }
    struct mk_firehose_txn t;
    mk_firehose_txn_init(&t);
    mk_firehose_txn_on_msg(&t, m);
    if (mk_firehose_txn_result(&t) == MK_OK && !(m->type == MK_FIREHOSE_MSG_RESPONSE && m->ack))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t step = data[0] ? data[0] : 1;
    size_t cap = (size_t)(data[1] ? data[1] : 1) * 8;
    data += 2;
    size -= 2;
    char *buf = malloc(cap);
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, cap);
    for (size_t off = 0; off < size;) {
        size_t chunk = size - off < step ? size - off : step, taken = 0;
        int stuck = 0;
        while (taken < chunk) {
            size_t n = mk_firehose_rx_feed(&rx, data + off + taken, chunk - taken);
            taken += n;
            struct mk_firehose_msg m;
            while (mk_firehose_rx_next(&rx, &m) == MK_DONE)
                inspect(&m);
            if (rx.raw_hold) { /* drain raw data like a <read> session, then resume */
                const uint8_t *raw;
                size_t rn;
                mk_firehose_rx_raw(&rx, &raw, &rn);
                mk_firehose_rx_consume(&rx, rn / 2 + 1);
                mk_firehose_rx_resume(&rx);
            }
            if (n == 0 && ++stuck > 4)
                abort(); /* a full buffer must always make progress */
        }
        off += chunk;
    }
    /* the scanner on the raw input */
    const char *v;
    size_t vl;
    (void)mk_firehose_attr_find((const char *)data, size, "value", &v, &vl);
    char out[32];
    (void)mk_firehose_unescape((const char *)data, size, out, sizeof out, NULL);
    free(buf);
    return 0;
}
