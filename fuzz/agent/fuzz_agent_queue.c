/*
 * Fuzz target: the sample queue opened over arbitrary log bytes (a torn, corrupt or
 * hostile file). Opening must succeed or fail cleanly; what it reports as queued must
 * drain completely in sequence order; pushing after it must work and survive a reopen.
 */
#include <stdint.h>
#include <string.h>

#include "modemd/agent_fakes.h"

static struct fake_store st;
static struct mk_agent_queue q;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fake_store_init(&st);
    if (size > sizeof st.log)
        size = sizeof st.log;
    memcpy(st.log, data, size);
    st.log_len = size;
    struct mk_agent_queue_cfg cfg = {&st.ops, 0, 0, MK_AGENT_DROP_OLDEST, 256};
    if (mk_agent_queue_open(&q, &cfg) != MK_OK)
        return 0;
    uint64_t last = q.last_seq, count = q.count, prev = q.done_seq;
    struct mk_agent_sample s;
    uint64_t drained = 0;
    while (mk_agent_queue_peek(&q, &s) == MK_OK) {
        if (s.seq <= prev || s.seq > last)
            __builtin_trap();
        prev = s.seq;
        if (mk_agent_queue_ack(&q, s.seq) != MK_OK)
            __builtin_trap();
        if (++drained > count)
            __builtin_trap();
    }
    if (drained != count || q.count != 0)
        __builtin_trap();
    uint64_t seq = 0;
    if (mk_agent_queue_push(&q, 1, "1", 1, &seq) != MK_OK || seq != last + 1)
        __builtin_trap();
    if (mk_agent_queue_open(&q, &cfg) != MK_OK || q.count != 1 || q.last_seq != seq)
        __builtin_trap();
    return 0;
}
