/*
 * Injected monotonic clock. Protocol code never reads the time itself: sans-I/O engines
 * take now_ms as a parameter, blocking helpers ask this clock. Tests use a virtual clock
 * that only moves when the test says so (no sleeps, fully repeatable).
 */
#ifndef MODEMKIT_CLOCK_H
#define MODEMKIT_CLOCK_H

#include <stdint.h>

struct mk_clock {
    /* Milliseconds from an arbitrary origin; never goes backwards. */
    uint64_t (*now_ms)(void *ctx);
    void *ctx;
};

static inline uint64_t mk_clock_now(const struct mk_clock *c)
{
    return c->now_ms(c->ctx);
}

/*
 * A virtual clock for tests and simulations: time advances only through
 * mk_vclock_advance(). Use mk_vclock_init() to get a struct mk_clock over it.
 */
struct mk_vclock {
    uint64_t now_ms;
};

void mk_vclock_init(struct mk_vclock *vc, struct mk_clock *out, uint64_t start_ms);
static inline void mk_vclock_advance(struct mk_vclock *vc, uint64_t ms)
{
    vc->now_ms += ms;
}

#endif
