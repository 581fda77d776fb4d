/*
 * libFuzzer target for the AT engine: arbitrary module bytes, cut into arbitrary chunks,
 * with or without a command running (prompt + data, DOWNLOAD, two-phase, secrets), with
 * raw reads started by a "+CMQTTRXPAYLOAD: 0,N" / "+CMQTTRXTOPIC: 0,N" handler, and with
 * time passing. Afterwards the port is "reopened" and a plain AT must still work.
 *
 * Input: byte 0 = mode bits (below), byte 1 = chunking seed, the rest = module bytes.
 * The corpus (corpus/fuzz_at) is the module side of every tests/transcripts file under a
 * few modes; fuzz/at/make_corpus regenerates it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "modemkit/at.h"

enum {
    F_CMD = 0x01,       /* a command is running */
    F_PROMPT = 0x02,    /* ... that waits for "> " and sends data */
    F_TWO_PHASE = 0x04, /* ... that waits for "+CMQTTCONNECT: 0,<err>" too */
    F_DOWNLOAD = 0x08,  /* the prompt is a DOWNLOAD line */
    F_CATCH_ALL = 0x10,
    F_SECRET = 0x20,
    F_AGAIN = 0x40,    /* submit the next command as soon as one completes */
    F_NO_INDEX = 0x80, /* two-phase without a client index */
};

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static struct mk_at AT;
static char LINE[96]; /* small, so over-long lines are common */
static char RESP[64];
static volatile uint8_t SINK;
static const uint8_t DATA[] = "aws/things/SOMETOPIC/\r\nOK\r\n";

/* Touch every byte the engine hands out, so ASan sees a bad pointer or length. */
static void touch(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= b[i];
    SINK = x;
}

static void on_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len)
{
    (void)user;
    (void)dir;
    touch(text, len);
}

static void on_raw(void *user, const uint8_t *data, size_t len, bool last)
{
    (void)user;
    (void)last;
    touch(data, len);
}

static void on_len(void *user, const char *line, size_t len)
{
    struct mk_at_arg a[4];
    long n;
    (void)user;
    CHECK(line[len] == '\0');
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    char prefix[24];
    size_t pl = (size_t)(colon - line) + 1;
    if (pl >= sizeof prefix)
        return;
    memcpy(prefix, line, pl);
    prefix[pl] = '\0';
    if (mk_at_split(line, len, prefix, a, 4) >= 2 && mk_at_arg_long(&a[1], &n) == MK_OK && n >= 0 &&
        n <= 100000)
        mk_at_read_raw(&AT, (size_t)n, on_raw, NULL);
}

static void on_urc(void *user, const char *line, size_t len)
{
    (void)user;
    CHECK(line[len] == '\0');
    touch(line, len);
}

static void on_line(void *user, const char *line, size_t len)
{
    (void)user;
    CHECK(line[len] == '\0');
    touch(line, len);
}

static const struct mk_at_urc URCS[] = {
    {"+CMQTTRXPAYLOAD:", on_len, NULL},
    {"+CMQTTRXTOPIC:", on_len, NULL},
    {"RDY", on_urc, NULL},
    {"+CMQTTCONNLOST:", on_urc, NULL},
    {"", on_urc, NULL},
};

static struct mk_at_cmd make_cmd(uint8_t mode)
{
    struct mk_at_cmd c;
    memset(&c, 0, sizeof c);
    c.text = "AT+CMQTTCONNECT=0,\"tcp://h:1883\",60,1";
    c.timeout_ms = 3000;
    c.on_line = on_line;
    c.resp = RESP;
    c.resp_cap = sizeof RESP;
    if (mode & F_PROMPT) {
        c.text = "AT+CMQTTTOPIC=0,27";
        c.prompt = (mode & F_DOWNLOAD) ? MK_AT_PROMPT_DOWNLOAD : MK_AT_PROMPT_GT;
        c.data = DATA;
        c.data_len = sizeof DATA - 1;
    }
    if (mode & F_TWO_PHASE) {
        c.urc_prefix = (mode & F_PROMPT) ? "+CMQTTTOPIC:" : "+CMQTTCONNECT:";
        c.urc_index = (mode & F_NO_INDEX) ? -1 : 0;
        c.urc_timeout_ms = 2000;
    }
    if (mode & F_SECRET)
        c.flags = MK_AT_F_SECRET_ARGS | MK_AT_F_SECRET_DATA;
    return c;
}

static void check_result(const struct mk_at_result *r)
{
    CHECK(r->resp_len < sizeof RESP && RESP[r->resp_len] == '\0');
    CHECK(memchr(r->cme_text, '\0', sizeof r->cme_text) != NULL);
    CHECK(memchr(r->urc_line, '\0', sizeof r->urc_line) != NULL);
    CHECK(r->urc_nargs <= MK_AT_MAX_URC_ARGS);
    CHECK(r->err != MK_OK || r->final == MK_AT_FINAL_OK);
}

/* Write whatever is due; data must come from DATA, in order. */
static void drain(uint64_t now)
{
    const uint8_t *p;
    size_t n;
    while ((n = mk_at_tx_peek(&AT, &p)) > 0) {
        touch(p, n);
        mk_at_tx_consume(&AT, n, now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = in[0];
    uint32_t rng = in[1] * 2654435761u + 1;
    in += 2;
    size -= 2;

    struct mk_at_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.line_buf = LINE;
    cfg.line_cap = sizeof LINE;
    cfg.urcs = URCS;
    cfg.n_urcs = (mode & F_CATCH_ALL) ? 5 : 4;
    cfg.trace = on_trace;
    mk_at_init(&AT, &cfg);
    uint64_t now = 1000;
    struct mk_at_cmd cmd = make_cmd(mode);
    struct mk_at_result res;
    if (mode & F_CMD) {
        CHECK(mk_at_submit(&AT, &cmd, now) == MK_OK);
        drain(now);
    }
    for (size_t i = 0; i < size;) {
        rng = rng * 1103515245u + 12345u;
        size_t k = 1 + (rng >> 16) % 64;
        if (k > size - i)
            k = size - i;
        mk_at_feed(&AT, in + i, k, now);
        i += k;
        now += (rng >> 8) & 0xFF;
        drain(now);
        if (mk_at_poll(&AT, now, &res) == MK_DONE) {
            check_result(&res);
            if (mode & F_AGAIN)
                CHECK(mk_at_submit(&AT, &cmd, now) == MK_OK);
        }
        CHECK(mk_at_next_deadline(&AT) == UINT64_MAX || mk_at_busy(&AT));
    }

    /* deadlines always end a command */
    if (mk_at_busy(&AT)) {
        now += 1000000;
        CHECK(mk_at_poll(&AT, now, &res) == MK_DONE);
        check_result(&res);
    }
    /* the port is reopened: a plain AT works */
    mk_at_reset_input(&AT);
    struct mk_at_cmd at;
    memset(&at, 0, sizeof at);
    at.text = "AT";
    at.timeout_ms = 100;
    CHECK(mk_at_submit(&AT, &at, now) == MK_OK);
    CHECK(mk_at_poll(&AT, now, &res) == MK_PENDING);
    drain(now);
    static const uint8_t ok[] = "\r\nOK\r\n";
    mk_at_feed(&AT, ok, sizeof ok - 1, now);
    CHECK(mk_at_poll(&AT, now, &res) == MK_DONE);
    CHECK(res.err == MK_OK);
    return 0;
}
