/*
 * The agent's durable queue against a RAM storage with faults: order, sequence numbers
 * across reopen (a restart), the PUBACK rule, bounds and drop policies, compaction,
 * torn and corrupt tails (a crash in the middle of an append), failing storage.
 */
#include <stdio.h>
#include <string.h>

#include "agent_fakes.h"
#include "modemkit/bytes.h"
#include "modemkit/crc.h"
#include "mk_test.h"

static struct fake_store st;
static struct mk_agent_queue q;

static struct mk_agent_queue_cfg cfg_of(uint64_t max_bytes, uint64_t max_samples,
                                        enum mk_agent_drop drop, uint64_t compact)
{
    struct mk_agent_queue_cfg c = {&st.ops, max_bytes, max_samples, drop, compact};
    return c;
}

static uint64_t push(const char *v)
{
    uint64_t seq = 0;
    enum mk_err e = mk_agent_queue_push(&q, 1000, v, strlen(v), &seq);
    return e == MK_OK ? seq : 0;
}

/* Peeks the head and returns its seq (0 when empty); value copied into out. */
static uint64_t head(char *out, size_t cap)
{
    struct mk_agent_sample s;
    if (mk_agent_queue_peek(&q, &s) != MK_OK)
        return 0;
    if (out)
        snprintf(out, cap, "%.*s", (int)s.len, s.value);
    return s.seq;
}

MK_TEST(order_and_puback_rule)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 0, MK_AGENT_DROP_OLDEST, 0);
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(head(NULL, 0), 0);
    MK_CHECK_EQ_INT(push("1"), 1);
    MK_CHECK_EQ_INT(push("{\"t\":2}"), 2);
    MK_CHECK_EQ_INT(push("\"three\""), 3);
    char v[64];
    MK_CHECK_EQ_INT(head(v, sizeof v), 1);
    MK_CHECK_EQ_STR(v, "1");
    /* peeking is not taking: without an ack the head stays */
    MK_CHECK_EQ_INT(head(v, sizeof v), 1);
    MK_CHECK_EQ_INT(q.count, 3);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 1), MK_OK);
    MK_CHECK_EQ_INT(head(v, sizeof v), 2);
    MK_CHECK_EQ_STR(v, "{\"t\":2}");
    /* a repeated ack (PUBACK of a redelivery) changes nothing */
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 1), MK_OK);
    MK_CHECK_EQ_INT(q.count, 2);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 99), MK_E_INVAL);

    /* restart: the same storage opened again */
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.count, 2);
    MK_CHECK_EQ_INT(q.last_seq, 3);
    MK_CHECK_EQ_INT(head(v, sizeof v), 2);
    MK_CHECK_EQ_INT(push("4"), 4);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 2), MK_OK);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 3), MK_OK);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 4), MK_OK);
    MK_CHECK_EQ_INT(q.count, 0);
    MK_CHECK_EQ_INT(q.bytes, 0);
    MK_CHECK_EQ_INT(head(NULL, 0), 0);
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.count, 0);
    MK_CHECK_EQ_INT(push("5"), 5); /* never reused, even with an empty queue */
}

MK_TEST(torn_tail_after_crash)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 0, MK_AGENT_DROP_OLDEST, 0);
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    push("1");
    push("2");
    size_t good = st.log_len;
    /* power lost in the middle of the third append: 9 of its bytes on storage */
    st.torn_append = 9;
    uint64_t seq = 0;
    MK_CHECK_EQ_INT(mk_agent_queue_push(&q, 1, "3", 1, &seq), MK_E_IO);
    MK_CHECK_EQ_INT(st.log_len, good + 9);
    /* "restart" */
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.torn, 9);
    MK_CHECK_EQ_INT(q.count, 2);
    MK_CHECK_EQ_INT(q.last_seq, 2);
    MK_CHECK(st.rewrites == 1); /* the torn bytes are gone from storage */
    MK_CHECK_EQ_INT(push("3"), 3);
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.torn, 0);
    MK_CHECK_EQ_INT(q.count, 3);
    char v[16];
    MK_CHECK_EQ_INT(head(v, sizeof v), 1);
}

MK_TEST(failed_append_without_restart)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 0, MK_AGENT_DROP_OLDEST, 0);
    mk_agent_queue_open(&q, &c);
    push("1");
    st.torn_append = 5;
    uint64_t seq = 0;
    MK_CHECK_EQ_INT(mk_agent_queue_push(&q, 1, "2", 1, &seq), MK_E_IO);
    MK_CHECK(q.need_rewrite);
    /* the next push rewrites first: the partial record never poisons the log */
    MK_CHECK_EQ_INT(push("2"), 2);
    MK_CHECK(!q.need_rewrite);
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.torn, 0);
    MK_CHECK_EQ_INT(q.count, 2);
    MK_CHECK_EQ_INT(q.last_seq, 2);
    /* an ack that cannot be stored leaves the sample queued (sent again: a duplicate) */
    st.fail_appends = 1;
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 1), MK_E_IO);
    MK_CHECK_EQ_INT(head(NULL, 0), 1);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 1), MK_OK);
    MK_CHECK_EQ_INT(head(NULL, 0), 2);
}

MK_TEST(corrupt_record_drops_the_rest)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 0, MK_AGENT_DROP_OLDEST, 0);
    mk_agent_queue_open(&q, &c);
    push("11");
    size_t second = st.log_len;
    push("22");
    push("33");
    st.log[second + 10] ^= 0x40; /* a flipped bit inside the second record */
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK(q.torn > 0);
    MK_CHECK_EQ_INT(q.count, 1);
    MK_CHECK_EQ_INT(q.last_seq, 1);
}

/* Records that pass their CRC but break the writer's order (a damaged or foreign file,
 * found by fuzz_agent_queue): the trusted log ends before them. */
MK_TEST(out_of_order_records_are_not_trusted)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 0, MK_AGENT_DROP_OLDEST, 0);
    mk_agent_queue_open(&q, &c);
    push("1");
    size_t one = st.log_len;
    push("2");
    /* a copy of sample 1 after sample 2, then an ack far beyond the last sample */
    memcpy(st.log + st.log_len, st.log, one);
    st.log_len += one;
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.torn, one);
    MK_CHECK_EQ_INT(q.count, 2);
    MK_CHECK_EQ_INT(q.last_seq, 2);
    mk_agent_queue_ack(&q, 2);
    /* a well-formed 'A' record for seq 2^40, which was never written */
    uint8_t *r = st.log + st.log_len;
    r[0] = 0xA7;
    r[1] = 'A';
    mk_put_le16(r + 2, 8);
    mk_put_le64(r + 4, 1ull << 40);
    mk_put_le32(r + 12, mk_crc32(r + 1, 11));
    st.log_len += 16;
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.torn, 16);
    MK_CHECK_EQ_INT(q.last_seq, 2);
    MK_CHECK_EQ_INT(q.count, 0);
    MK_CHECK_EQ_INT(push("3"), 3);
}

MK_TEST(drop_oldest_bound)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 3, MK_AGENT_DROP_OLDEST, 0);
    mk_agent_queue_open(&q, &c);
    for (int i = 1; i <= 5; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        MK_CHECK_EQ_INT(push(v), (uint64_t)i);
    }
    MK_CHECK_EQ_INT(q.count, 3);
    MK_CHECK_EQ_INT(q.dropped, 2);
    MK_CHECK_EQ_INT(head(NULL, 0), 3);
    /* an ack for a sample dropped while it was in flight changes nothing */
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 2), MK_OK);
    MK_CHECK_EQ_INT(q.count, 3);
    /* the drop count survives a restart */
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.dropped, 2);
    MK_CHECK_EQ_INT(q.count, 3);
    MK_CHECK_EQ_INT(head(NULL, 0), 3);
}

MK_TEST(drop_newest_bound)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 2, MK_AGENT_DROP_NEWEST, 0);
    mk_agent_queue_open(&q, &c);
    MK_CHECK_EQ_INT(push("1"), 1);
    MK_CHECK_EQ_INT(push("2"), 2);
    uint64_t seq = 0;
    MK_CHECK_EQ_INT(mk_agent_queue_push(&q, 1, "3", 1, &seq), MK_E_QUEUE_FULL);
    MK_CHECK_EQ_INT(q.dropped, 1);
    MK_CHECK_EQ_INT(head(NULL, 0), 1);
    MK_CHECK_EQ_INT(mk_agent_queue_ack(&q, 1), MK_OK);
    MK_CHECK_EQ_INT(push("3"), 3); /* the refused sample used no number */
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.dropped, 1);
    MK_CHECK_EQ_INT(q.count, 2);
    MK_CHECK_EQ_INT(head(NULL, 0), 2);
}

MK_TEST(byte_bound)
{
    fake_store_init(&st);
    /* records of a 10-byte value are 4 + 16 + 10 + 4 = 34 bytes: three fit in 110 */
    struct mk_agent_queue_cfg c = cfg_of(110, 0, MK_AGENT_DROP_OLDEST, 0);
    mk_agent_queue_open(&q, &c);
    for (int i = 0; i < 4; i++)
        push("0123456789");
    MK_CHECK_EQ_INT(q.count, 3);
    MK_CHECK_EQ_INT(q.bytes, 102);
    MK_CHECK_EQ_INT(q.dropped, 1);
    char big[200];
    memset(big, 'x', sizeof big);
    uint64_t seq;
    MK_CHECK_EQ_INT(mk_agent_queue_push(&q, 1, big, sizeof big, &seq), MK_E_NOSPC);
    MK_CHECK_EQ_INT(mk_agent_queue_push(&q, 1, big, 0, &seq), MK_E_INVAL);
}

MK_TEST(compaction_keeps_the_queue)
{
    fake_store_init(&st);
    struct mk_agent_queue_cfg c = cfg_of(0, 0, MK_AGENT_DROP_OLDEST, 512);
    mk_agent_queue_open(&q, &c);
    uint64_t acked = 0;
    for (int i = 1; i <= 400; i++) {
        char v[32];
        snprintf(v, sizeof v, "{\"i\":%d}", i);
        MK_CHECK_EQ_INT(push(v), (uint64_t)i);
        if (i % 3 != 0) { /* leave a backlog that grows by one every three */
            struct mk_agent_sample s;
            mk_agent_queue_peek(&q, &s);
            mk_agent_queue_ack(&q, s.seq);
            acked = s.seq;
        }
    }
    MK_CHECK(st.rewrites > 10);
    MK_CHECK(st.log_len < 512 + q.bytes + 200); /* delivered records were reclaimed */
    MK_CHECK_EQ_INT(q.count, 400 - acked);
    MK_CHECK_EQ_INT(head(NULL, 0), acked + 1);
    uint64_t count = q.count, bytes = q.bytes;
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.count, count);
    MK_CHECK_EQ_INT(q.bytes, bytes);
    MK_CHECK_EQ_INT(q.last_seq, 400);
    MK_CHECK_EQ_INT(head(NULL, 0), acked + 1);
    /* drain: every sample comes out once, in order */
    uint64_t expect = acked + 1;
    struct mk_agent_sample s;
    while (mk_agent_queue_peek(&q, &s) == MK_OK) {
        char v[32];
        snprintf(v, sizeof v, "{\"i\":%llu}", (unsigned long long)expect);
        MK_CHECK_EQ_INT(s.seq, expect);
        MK_CHECK(s.len == strlen(v) && memcmp(s.value, v, s.len) == 0);
        mk_agent_queue_ack(&q, s.seq);
        expect++;
    }
    MK_CHECK_EQ_INT(expect, 401);
    /* a failed rewrite keeps the old log whole */
    push("x");
    st.fail_rewrites = 5;
    for (int i = 0; i < 40; i++) {
        push("{\"pad\":\"..........................\"}");
        if (mk_agent_queue_peek(&q, &s) == MK_OK)
            mk_agent_queue_ack(&q, s.seq);
    }
    MK_CHECK_EQ_INT(mk_agent_queue_open(&q, &c), MK_OK);
    MK_CHECK_EQ_INT(q.last_seq, 441);
    MK_CHECK_EQ_INT(q.torn, 0);
}

MK_TEST_MAIN()
