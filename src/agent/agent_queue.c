/*
 * The durable sample queue: an append-only log of CRC-framed records on the caller's
 * storage (include/modemkit/agent.h describes the format).
 *
 * Why a log and not a ring of slots: the only durable operation every storage offers
 * cheaply is "append and sync" (one fsync on a host, one page program on flash). A
 * sample costs one append when it is taken and one small 'A' record when the broker
 * acknowledged it; the log is rewritten (compacted) only when delivered records take
 * more than compact_bytes. After a crash the log is scanned: the last 'A'/'D'/'H' record
 * says what was done, every later sample is still queued, and a torn last record (power
 * lost in the middle of an append) fails its CRC and is dropped with everything after it.
 */
#include <string.h>

#include "agent_int.h"
#include "modemkit/bytes.h"
#include "modemkit/crc.h"

#define Q_MAGIC       0xA7u
#define Q_DEF_COMPACT (64u * 1024u)

enum q_read { Q_REC_OK = 0, Q_REC_END, Q_REC_BAD };

struct q_rec {
    uint8_t type;
    const uint8_t *body;
    size_t body_len;
    size_t len; /* whole record */
};

/* Frames a record of type with body (already at q->rec + 4) of body_len bytes. */
static size_t q_frame(struct mk_agent_queue *q, uint8_t type, size_t body_len)
{
    q->rec[0] = Q_MAGIC;
    q->rec[1] = type;
    mk_put_le16(q->rec + 2, (uint16_t)body_len);
    uint32_t crc = mk_crc32(q->rec + 1, 3 + body_len);
    mk_put_le32(q->rec + MK_AGENT_REC_HDR + body_len, crc);
    return MK_AGENT_REC_HDR + body_len + 4;
}

/* Reads the record at off into q->rec. Storage errors come back as *err. */
static enum q_read q_read(struct mk_agent_queue *q, uint64_t off, struct q_rec *r, enum mk_err *err)
{
    size_t n = 0;
    *err = q->cfg.st->log_read(q->cfg.st->ctx, off, q->rec, sizeof q->rec, &n);
    if (*err != MK_OK)
        return Q_REC_BAD;
    if (n == 0)
        return Q_REC_END;
    if (n < MK_AGENT_REC_HDR || q->rec[0] != Q_MAGIC)
        return Q_REC_BAD;
    size_t body = mk_get_le16(q->rec + 2);
    size_t len = MK_AGENT_REC_HDR + body + 4;
    if (len > sizeof q->rec || n < len)
        return Q_REC_BAD;
    if (mk_get_le32(q->rec + MK_AGENT_REC_HDR + body) != mk_crc32(q->rec + 1, 3 + body))
        return Q_REC_BAD;
    r->type = q->rec[1];
    r->body = q->rec + MK_AGENT_REC_HDR;
    r->body_len = body;
    r->len = len;
    switch (r->type) {
    case 'H':
        return body == 24 ? Q_REC_OK : Q_REC_BAD;
    case 'S':
        return body > 16 ? Q_REC_OK : Q_REC_BAD;
    case 'A':
        return body == 8 ? Q_REC_OK : Q_REC_BAD;
    case 'D':
        return body == 16 ? Q_REC_OK : Q_REC_BAD;
    default:
        return Q_REC_BAD;
    }
}

static uint64_t q_max(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/*
 * Finds the first queued sample at or after off (samples up to done_seq are gone) and
 * makes it the head; an empty queue has head_off == tail.
 */
static enum mk_err q_find_head(struct mk_agent_queue *q, uint64_t off)
{
    struct q_rec r;
    enum mk_err e = MK_OK;
    while (off < q->tail) {
        enum q_read k = q_read(q, off, &r, &e);
        if (k != Q_REC_OK)
            return e != MK_OK ? e : MK_E_CRC;
        if (r.type == 'S' && mk_get_le64(r.body) > q->done_seq) {
            q->head_off = off;
            q->head_seq = mk_get_le64(r.body);
            return MK_OK;
        }
        off += r.len;
    }
    q->head_off = q->tail;
    q->head_seq = 0;
    return MK_OK;
}

/* Rewrites the log as an 'H' record followed by the queued samples. */
static enum mk_err q_rewrite(struct mk_agent_queue *q)
{
    const struct mk_agent_storage *st = q->cfg.st;
    enum mk_err e = st->rewrite_begin(st->ctx);
    if (e != MK_OK)
        return e;
    uint8_t *b = q->rec + MK_AGENT_REC_HDR;
    mk_put_le64(b, q->last_seq + 1);
    mk_put_le64(b + 8, q->done_seq);
    mk_put_le64(b + 16, q->dropped);
    size_t hlen = q_frame(q, 'H', 24);
    e = st->rewrite_write(st->ctx, q->rec, hlen);
    uint64_t bytes = 0, count = 0;
    uint64_t off = q->count ? q->head_off : q->tail;
    struct q_rec r;
    while (e == MK_OK && off < q->tail) {
        enum q_read k = q_read(q, off, &r, &e);
        if (k != Q_REC_OK) {
            if (e == MK_OK)
                e = MK_E_CRC;
            break;
        }
        if (r.type == 'S' && mk_get_le64(r.body) > q->done_seq) {
            e = st->rewrite_write(st->ctx, q->rec, r.len);
            bytes += r.len;
            count++;
        }
        off += r.len;
    }
    enum mk_err e2 = st->rewrite_end(st->ctx, e == MK_OK);
    if (e != MK_OK)
        return e;
    if (e2 != MK_OK)
        return e2;
    q->tail = hlen + bytes;
    q->count = count;
    q->bytes = bytes;
    q->need_rewrite = false;
    return q_find_head(q, hlen);
}

static enum mk_err q_append(struct mk_agent_queue *q, size_t len)
{
    enum mk_err e = q->cfg.st->log_append(q->cfg.st->ctx, q->rec, len);
    if (e != MK_OK) {
        q->need_rewrite = true; /* part of it may be there: the tail is unknown */
        return e;
    }
    q->tail += len;
    return MK_OK;
}

/* Removes the head sample from the counters (its record was acked or dropped). */
static enum mk_err q_pop_head(struct mk_agent_queue *q)
{
    struct q_rec r;
    enum mk_err e = MK_OK;
    if (q_read(q, q->head_off, &r, &e) != Q_REC_OK || r.type != 'S')
        return e != MK_OK ? e : MK_E_CRC;
    q->count--;
    q->bytes -= r.len;
    return q_find_head(q, q->head_off + r.len);
}

/* Marks every sample up to seq done ('A' or 'D' record first, then the counters). */
static enum mk_err q_done(struct mk_agent_queue *q, uint8_t type, uint64_t seq)
{
    uint8_t *b = q->rec + MK_AGENT_REC_HDR;
    mk_put_le64(b, seq);
    size_t len;
    if (type == 'D') {
        mk_put_le64(b + 8, q->dropped + 1);
        len = q_frame(q, 'D', 16);
    } else {
        len = q_frame(q, 'A', 8);
    }
    enum mk_err e = q_append(q, len);
    if (e != MK_OK)
        return e;
    if (type == 'D')
        q->dropped++;
    q->done_seq = seq;
    while (q->count && q->head_seq <= seq) {
        if ((e = q_pop_head(q)) != MK_OK)
            return e;
    }
    uint64_t limit = q->cfg.compact_bytes ? q->cfg.compact_bytes : Q_DEF_COMPACT;
    if (q->tail - q->bytes > limit) {
        /* reclaiming space is optional: a failed rewrite leaves the old log whole and is
         * tried again at the next ack */
        (void)q_rewrite(q);
    }
    return MK_OK;
}

enum mk_err mk_agent_queue_open(struct mk_agent_queue *q, const struct mk_agent_queue_cfg *cfg)
{
    memset(q, 0, sizeof *q);
    if (!cfg || !cfg->st || !cfg->st->log_read || !cfg->st->log_append || !cfg->st->rewrite_begin ||
        !cfg->st->rewrite_write || !cfg->st->rewrite_end)
        return MK_E_INVAL;
    q->cfg = *cfg;
    /*
     * pass 1: what was done, how far the sequence went, where the valid log ends. The
     * writer only ever appends samples in increasing sequence and marks done up to a
     * sample it wrote; a record that breaks that (a damaged or foreign file whose CRCs
     * happen to pass) ends the trusted part like a torn one.
     */
    uint64_t off = 0, prev_s = 0;
    struct q_rec r;
    enum mk_err e = MK_OK;
    enum q_read k;
    while ((k = q_read(q, off, &r, &e)) == Q_REC_OK) {
        const uint8_t *b = r.body;
        uint64_t v = mk_get_le64(b);
        bool ok = true;
        switch (r.type) {
        case 'H':
            ok = off == 0 && v > 0 && mk_get_le64(b + 8) <= v - 1;
            if (ok) {
                q->last_seq = v - 1;
                q->done_seq = mk_get_le64(b + 8);
                q->dropped = mk_get_le64(b + 16);
            }
            break;
        case 'S': /* a rewritten log holds samples up to the header's next_seq - 1 */
            ok = v > prev_s && v > q->done_seq;
            if (ok) {
                prev_s = v;
                q->last_seq = q_max(q->last_seq, v);
            }
            break;
        case 'A':
        case 'D':
            ok = v <= q->last_seq && (r.type == 'A' || mk_get_le64(b + 8) >= q->dropped);
            if (ok) {
                q->done_seq = q_max(q->done_seq, v);
                if (r.type == 'D')
                    q->dropped = mk_get_le64(b + 8);
            }
            break;
        default:
            break;
        }
        if (!ok) {
            k = Q_REC_BAD;
            break;
        }
        off += r.len;
    }
    if (e != MK_OK)
        return e;
    q->tail = off;
    if (k == Q_REC_BAD) {
        /* count what follows the last good record, for the report */
        for (;;) {
            size_t n = 0;
            e = q->cfg.st->log_read(q->cfg.st->ctx, off + q->torn, q->rec, sizeof q->rec, &n);
            if (e != MK_OK)
                return e;
            if (n == 0)
                break;
            q->torn += n;
        }
    }
    /* pass 2: the queued samples */
    for (off = 0; off < q->tail; off += r.len) {
        if (q_read(q, off, &r, &e) != Q_REC_OK)
            return e != MK_OK ? e : MK_E_CRC;
        if (r.type == 'S' && mk_get_le64(r.body) > q->done_seq) {
            q->count++;
            q->bytes += r.len;
        }
    }
    if ((e = q_find_head(q, 0)) != MK_OK)
        return e;
    if (q->torn)
        return q_rewrite(q);
    return MK_OK;
}

static bool q_full(const struct mk_agent_queue *q, size_t add)
{
    if (q->cfg.max_samples && q->count + 1 > q->cfg.max_samples)
        return true;
    return q->cfg.max_bytes && q->bytes + add > q->cfg.max_bytes;
}

enum mk_err mk_agent_queue_push(struct mk_agent_queue *q, uint64_t ts_ms, const char *value,
                                size_t len, uint64_t *seq)
{
    if (len == 0 || !value)
        return MK_E_INVAL;
    size_t rec_len = MK_AGENT_REC_HDR + 16 + len + 4;
    if (len > MK_AGENT_VALUE_MAX || (q->cfg.max_bytes && rec_len > q->cfg.max_bytes))
        return MK_E_NOSPC;
    enum mk_err e;
    if (q->need_rewrite && (e = q_rewrite(q)) != MK_OK)
        return e;
    while (q->count && q_full(q, rec_len)) {
        if (q->cfg.drop == MK_AGENT_DROP_NEWEST) {
            /* the refused sample gets no sequence number; the count is kept durable by
             * a 'D' record that does not move the done mark */
            if ((e = q_done(q, 'D', q->done_seq)) != MK_OK)
                return e;
            return MK_E_QUEUE_FULL;
        }
        if ((e = q_done(q, 'D', q->head_seq)) != MK_OK)
            return e;
    }
    uint8_t *b = q->rec + MK_AGENT_REC_HDR;
    uint64_t s = q->last_seq + 1;
    mk_put_le64(b, s);
    mk_put_le64(b + 8, ts_ms);
    memcpy(b + 16, value, len);
    uint64_t off = q->tail;
    size_t n = q_frame(q, 'S', 16 + len);
    if ((e = q_append(q, n)) != MK_OK)
        return e;
    q->last_seq = s;
    if (q->count++ == 0) {
        q->head_off = off;
        q->head_seq = s;
    }
    q->bytes += n;
    if (seq)
        *seq = s;
    return MK_OK;
}

enum mk_err mk_agent_queue_peek(struct mk_agent_queue *q, struct mk_agent_sample *s)
{
    if (q->count == 0)
        return MK_E_NOENT;
    struct q_rec r;
    enum mk_err e = MK_OK;
    if (q_read(q, q->head_off, &r, &e) != Q_REC_OK || r.type != 'S' ||
        mk_get_le64(r.body) != q->head_seq)
        return e != MK_OK ? e : MK_E_CRC;
    s->seq = q->head_seq;
    s->ts_ms = mk_get_le64(r.body + 8);
    s->value = (const char *)r.body + 16;
    s->len = r.body_len - 16;
    /* NUL over the first CRC byte: the value is a C string too */
    q->rec[MK_AGENT_REC_HDR + r.body_len] = 0;
    return MK_OK;
}

enum mk_err mk_agent_queue_ack(struct mk_agent_queue *q, uint64_t seq)
{
    if (seq <= q->done_seq || q->count == 0)
        return MK_OK;
    if (seq > q->last_seq)
        return MK_E_INVAL;
    enum mk_err e = q_done(q, 'A', seq);
    if (e == MK_OK)
        q->acked++;
    return e;
}
