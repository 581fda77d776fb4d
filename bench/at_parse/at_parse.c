/*
 * Tokenizer throughput: a 64 MiB stream made of the seed transcripts' module bytes and
 * bursts of "+CMQTTRX*" URCs with 1500-byte raw payload chunks (the SIM7600 maximum per
 * chunk, at-commands.md 1.1), fed to an idle engine with a SIMCom URC table, in 64-byte
 * (UART FIFO / small USB packet) and 4 KiB (USB bulk) pieces. Prints MB/s and the ratio
 * to the fastest UART rate a SIM7600 offers (921600 baud, 8N1: 92160 bytes/s).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modemkit/at.h"
#include "support/transcript.h"

#define STREAM_BYTES (64u << 20)

static struct mk_at AT;
static char LINE[1100];
static size_t raw_bytes, urcs, lines;

static void on_raw(void *user, const uint8_t *data, size_t len, bool last)
{
    (void)user;
    (void)data;
    (void)last;
    raw_bytes += len;
}

static void on_len(void *user, const char *line, size_t len)
{
    struct mk_at_arg a[3];
    long n;
    (void)user;
    urcs++;
    const char *prefix = line[8] == 'T' ? "+CMQTTRXTOPIC:" : "+CMQTTRXPAYLOAD:";
    if (mk_at_split(line, len, prefix, a, 3) >= 2 && mk_at_arg_long(&a[1], &n) == MK_OK && n > 0)
        mk_at_read_raw(&AT, (size_t)n, on_raw, NULL);
}

static void on_urc(void *user, const char *line, size_t len)
{
    (void)user;
    (void)line;
    (void)len;
    urcs++;
}

static void on_other(void *user, const char *line, size_t len)
{
    (void)user;
    (void)line;
    (void)len;
    lines++;
}

static const struct mk_at_urc URCS[] = {
    {"+CMQTTRXSTART:", on_urc, NULL},
    {"+CMQTTRXTOPIC:", on_len, NULL},
    {"+CMQTTRXPAYLOAD:", on_len, NULL},
    {"+CMQTTRXEND:", on_urc, NULL},
    {"+CMQTTCONNLOST:", on_urc, NULL},
    {"+CMQTTPING:", on_urc, NULL},
    {"+CMQTTNONET", on_urc, NULL},
    {"SMS DONE", on_urc, NULL},
    {"PB DONE", on_urc, NULL},
    {"RDY", on_urc, NULL},
    {"", on_other, NULL},
};

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* One inbound message: topic and a 3000-byte payload in two 1500-byte raw chunks. */
static void rx_burst(struct buf *b, uint32_t *rng)
{
    uint8_t payload[1500];
    puts_(b, "\r\n+CMQTTRXSTART: 0,21,3000\r\n+CMQTTRXTOPIC: 0,21\r\naws/things/SOMETOPIC/\r\n");
    for (int c = 0; c < 2; c++) {
        for (size_t i = 0; i < sizeof payload; i++) {
            *rng = *rng * 1103515245u + 12345u;
            payload[i] = (uint8_t)(*rng >> 16); /* any bytes, CR and LF included */
        }
        puts_(b, "+CMQTTRXPAYLOAD: 0,1500\r\n");
        put(b, payload, sizeof payload);
        puts_(b, "\r\n");
    }
    puts_(b, "+CMQTTRXEND: 0\r\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct mk_at_config *CFG;

/* Feed the stream in 64 B and 4 KiB pieces, best of three; check the raw byte count. */
static void run(const char *what, const struct buf *stream, size_t want_raw)
{
    static const size_t chunks[] = {64, 4096};
    for (size_t c = 0; c < 2; c++) {
        double best = 0;
        for (int rep = 0; rep < 3; rep++) {
            mk_at_init(&AT, CFG);
            raw_bytes = urcs = lines = 0;
            double t0 = now_s();
            for (size_t i = 0; i < stream->len; i += chunks[c]) {
                size_t k = stream->len - i < chunks[c] ? stream->len - i : chunks[c];
                mk_at_feed(&AT, stream->p + i, k, 0);
            }
            double mbs = (double)stream->len / 1e6 / (now_s() - t0);
            if (mbs > best)
                best = mbs;
        }
        if (raw_bytes != want_raw) {
            fprintf(stderr, "at_parse: raw bytes %zu, expected %zu\n", raw_bytes, want_raw);
            exit(1);
        }
        printf("at_parse: %-5s %4zu-byte feeds: %7.1f MB/s (%.0fx 921600 baud; %zu URCs, "
               "%zu other lines, %zu raw bytes)\n",
               what, chunks[c], best, best * 1e6 / 92160.0, urcs, lines, raw_bytes);
    }
}

int main(void)
{
    struct buf sessions = {0}, stream = {0};
    DIR *d = opendir(MK_TRANSCRIPT_DIR);
    if (!d) {
        perror(MK_TRANSCRIPT_DIR);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".tr") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", MK_TRANSCRIPT_DIR, e->d_name);
        struct mk_transcript t;
        if (mk_tr_load(&t, path) != 0) {
            fprintf(stderr, "%s\n", t.err);
            return 1;
        }
        size_t n;
        uint8_t *m = mk_tr_module_bytes(&t, &n);
        put(&sessions, m, n);
        free(m);
        mk_tr_free(&t);
    }
    closedir(d);

    /* the raw bytes the sessions alone carry, for the sanity check below */
    struct mk_at_config cfg = {0};
    cfg.line_buf = LINE;
    cfg.line_cap = sizeof LINE;
    cfg.urcs = URCS;
    cfg.n_urcs = sizeof URCS / sizeof URCS[0];
    CFG = &cfg;
    mk_at_init(&AT, &cfg);
    mk_at_feed(&AT, sessions.p, sessions.len, 0);
    size_t session_raw = raw_bytes;

    uint32_t rng = 1;
    size_t bursts = 0, copies = 0;
    while (stream.len < STREAM_BYTES) {
        put(&stream, sessions.p, sessions.len);
        copies++;
        for (int i = 0; i < 8; i++, bursts++)
            rx_burst(&stream, &rng);
    }
    printf("at_parse: %.1f MiB stream: seed transcripts (%zu bytes) + %zu RX bursts of "
           "3000-byte payloads\n",
           (double)stream.len / (1 << 20), sessions.len, bursts);

    run("mixed", &stream, bursts * 3021u + copies * session_raw);

    /* the seed transcripts alone: echo, results, prompts, data echo as lines; the
     * tokenizer's line path (the raw bursts above are mostly bulk raw delivery) */
    struct buf only = {0};
    copies = 0;
    while (only.len < STREAM_BYTES) {
        put(&only, sessions.p, sessions.len);
        copies++;
    }
    printf("at_parse: %.1f MiB stream: the seed transcripts only\n", (double)only.len / (1 << 20));
    run("lines", &only, copies * session_raw);
    free(only.p);
    free(stream.p);
    free(sessions.p);
    return 0;
}
