/*
 * fake_io: a scripted module behind a struct mk_io, on a virtual clock. For tests of
 * anything that talks AT through an io (the AT channel, MQTT and FOTA drivers, ...).
 *
 *   struct mk_fake_io f;
 *   mk_fake_io_init(&f, seed, 8);                   reads return 1..8 bytes at random
 *   mk_fake_io_on(&f, MK_FAKE_LINE, "AT+CSQ", 0, "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
 *   struct mk_fake_rule *r =
 *       mk_fake_io_on(&f, MK_FAKE_PREFIX, "AT+CMQTTCONNECT=0,", 0, "\r\nOK\r\n");
 *   mk_fake_io_then(r, 2000, "\r\n+CMQTTCONNECT: 0,0\r\n");    2 s (virtual) later
 *   mk_at_chan_init(&ch, &cfg, &f.io, &f.clock);
 *   ... mk_at_exec(&ch, ...) ...
 *   mk_fake_io_free(&f);
 *
 * What the module says:
 *   - mk_fake_io_send*() queue bytes, due delay_ms after the current virtual time;
 *   - rules: when the host has written a line equal to (MK_FAKE_LINE) or starting with
 *     (MK_FAKE_PREFIX) match, followed by CR or LF, or exactly the bytes of match with
 *     no terminator (MK_FAKE_BYTES: data after a prompt), the rule's reply parts are
 *     queued, each due its delay_ms after that write. Rules are tried in the order they
 *     were added; the first one that matches and has uses left fires (default: once;
 *     mk_fake_io_times(r, 0) makes it fire forever). A host line no rule matches is
 *     counted (mk_fake_io_unmatched) and skipped;
 *   - with echo on, every byte the host writes is queued back at once (ATE1), before
 *     any reply it triggers.
 * Reads deliver due bytes in random pieces of 1..max_chunk (seeded PRNG; 0 = all that
 * is due). The wait op never sleeps: it moves the virtual clock to the next queued
 * reply or hangup, or by the whole timeout when nothing is due before it.
 *
 * Everything the host wrote is recorded (mk_fake_io_tx). Writes accept everything, or
 * 1..write_max bytes at a time after mk_fake_io_set_write_max() (short writes).
 * mk_fake_io_hangup() makes reads return MK_E_HANGUP (after the bytes due before it)
 * and writes fail from then on, like a module that rebooted and dropped off USB.
 *
 * Test-only code: it allocates with malloc and aborts when out of memory.
 */
#ifndef MK_TEST_FAKE_IO_H
#define MK_TEST_FAKE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/clock.h"
#include "modemkit/io.h"

enum mk_fake_match {
    MK_FAKE_LINE,   /* the host line equals match */
    MK_FAKE_PREFIX, /* the host line starts with match */
    MK_FAKE_BYTES,  /* the host wrote exactly these bytes next (no terminator) */
};

struct mk_fake_part {
    uint32_t delay_ms;
    uint8_t *bytes;
    size_t len;
};

struct mk_fake_rule {
    enum mk_fake_match kind;
    uint8_t *match;
    size_t match_len;
    struct mk_fake_part *parts;
    size_t n_parts;
    unsigned times; /* uses allowed; 0 = unlimited */
    unsigned fired; /* uses so far */
};

struct mk_fake_chunk {
    uint64_t due_ms;
    uint8_t *bytes;
    size_t len, off;
};

struct mk_fake_io {
    struct mk_io io;       /* hand &f.io to the code under test */
    struct mk_clock clock; /* and &f.clock */
    /* private */
    struct mk_vclock vc;
    struct mk_io_ops ops;
    uint64_t rng;
    size_t max_chunk, write_max;
    bool echo;
    struct mk_fake_chunk *rx;
    size_t n_rx, cap_rx;
    uint8_t *tx;
    size_t tx_len, tx_cap, peer_off;
    struct mk_fake_rule **rules;
    size_t n_rules, cap_rules;
    bool hangup_set;
    uint64_t hangup_ms;
    unsigned unmatched;
    size_t reads, writes;
};

/* Start at virtual time 1000 ms. max_chunk: largest read piece (0 = all due bytes). */
void mk_fake_io_init(struct mk_fake_io *f, uint64_t seed, size_t max_chunk);
void mk_fake_io_free(struct mk_fake_io *f);

/* The module sends bytes delay_ms from now (virtual). */
void mk_fake_io_send(struct mk_fake_io *f, uint32_t delay_ms, const void *bytes, size_t len);
void mk_fake_io_sends(struct mk_fake_io *f, uint32_t delay_ms, const char *s);

/*
 * Add a rule; reply (may be NULL: no reply, the rule only consumes the host's line) is
 * due delay_ms after the matching write. Returns the rule for mk_fake_io_then/_times.
 */
struct mk_fake_rule *mk_fake_io_on(struct mk_fake_io *f, enum mk_fake_match kind, const char *match,
                                   uint32_t delay_ms, const char *reply);
struct mk_fake_rule *mk_fake_io_on_n(struct mk_fake_io *f, enum mk_fake_match kind,
                                     const void *match, size_t match_len, uint32_t delay_ms,
                                     const void *reply, size_t reply_len);
/* Another reply part of the same rule, due delay_ms after the matching write. */
void mk_fake_io_then(struct mk_fake_rule *r, uint32_t delay_ms, const char *reply);
void mk_fake_io_then_n(struct mk_fake_rule *r, uint32_t delay_ms, const void *reply, size_t len);
void mk_fake_io_times(struct mk_fake_rule *r, unsigned times);

void mk_fake_io_set_echo(struct mk_fake_io *f, bool on);
void mk_fake_io_set_write_max(struct mk_fake_io *f, size_t n);
/* The port goes away delay_ms from now. */
void mk_fake_io_hangup(struct mk_fake_io *f, uint32_t delay_ms);

/* Everything the host wrote so far (not NUL-terminated), and forgetting it. */
const uint8_t *mk_fake_io_tx(const struct mk_fake_io *f, size_t *len);
bool mk_fake_io_tx_equals(const struct mk_fake_io *f, const char *s);
void mk_fake_io_tx_clear(struct mk_fake_io *f);

unsigned mk_fake_io_unmatched(const struct mk_fake_io *f);
size_t mk_fake_io_pending(const struct mk_fake_io *f); /* queued bytes not read yet */
uint64_t mk_fake_io_now(const struct mk_fake_io *f);
void mk_fake_io_advance(struct mk_fake_io *f, uint64_t ms);

/* The fake's PRNG (xorshift64*), also handy for tests that want random chunking. */
uint64_t mk_fake_rand(uint64_t *state);

#endif
