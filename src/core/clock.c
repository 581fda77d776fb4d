#include "modemkit/clock.h"

static uint64_t mk_vclock_now(void *ctx)
{
    return ((struct mk_vclock *)ctx)->now_ms;
}

void mk_vclock_init(struct mk_vclock *vc, struct mk_clock *out, uint64_t start_ms)
{
    vc->now_ms = start_ms;
    out->now_ms = mk_vclock_now;
    out->ctx = vc;
}
