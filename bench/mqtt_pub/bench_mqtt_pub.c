/*
 * QoS 1 publishes of 100-byte payloads through the module's MQTT client: modemkit over
 * modemsim paced at 115200 baud (--baud, 10 bits per byte both ways) to a local mosquitto.
 *
 * Prints messages/s and the ratio to the limit that the line rate and the broker round
 * trip allow. Each publish is a strict exchange (TOPIC, ">", topic, OK, PAYLOAD, ">",
 * payload, OK, PUB, OK, +CMQTTPUB), so nothing overlaps:
 *     t_limit = (bytes_to_module + bytes_from_module) * 10 / baud + rtt_broker
 * bytes counted on the wire by wrapping the port's io (and checked against the count
 * from the command texts), rtt_broker measured as the median QoS 1 PUBLISH → PUBACK round
 * trip of a raw MQTT client on the same broker.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include "mqtt/mqtt_live.h"

#define BAUD        115200u
#define N_PUB       200
#define PAYLOAD_LEN 100
#define TOPIC       "bench/telemetry"

/* ---- an io that counts what passes ---- */

struct count_io {
    struct mk_io io;
    struct mk_io_ops ops;
    const struct mk_io *inner;
    uint64_t rx, tx;
};

static enum mk_err cio_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct count_io *c = ctx;
    enum mk_err e = mk_io_read(c->inner, buf, cap, n);
    c->rx += *n;
    return e;
}

static enum mk_err cio_write(void *ctx, const uint8_t *buf, size_t len, size_t *n)
{
    struct count_io *c = ctx;
    enum mk_err e = mk_io_write(c->inner, buf, len, n);
    c->tx += *n;
    return e;
}

static enum mk_err cio_wait(void *ctx, uint32_t ms, bool want_write)
{
    struct count_io *c = ctx;
    return mk_io_wait(c->inner, ms, want_write);
}

/* ---- the broker's own round trip, with a raw MQTT 3.1.1 client ---- */

static int raw_read(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median microseconds of QoS 1 PUBLISH (100 B) → PUBACK; 0 on failure. */
static uint64_t broker_rtt_us(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 0;
    }
    static const uint8_t conn[] = {0x10, 16, 0,  4, 'M', 'Q', 'T', 'T', 4,
                                   2,    0,  60, 0, 4,   'r', 't', 't', '0'};
    uint8_t ack[4];
    if (write(fd, conn, sizeof conn) != (ssize_t)sizeof conn || raw_read(fd, ack, 4) != 0 ||
        ack[0] != 0x20 || ack[3] != 0) {
        close(fd);
        return 0;
    }
    enum { RUNS = 201 };
    static uint64_t t[RUNS];
    uint8_t pkt[2 + 2 + sizeof TOPIC - 1 + 2 + PAYLOAD_LEN];
    size_t tl = sizeof TOPIC - 1, n = 0;
    pkt[n++] = 0x32;
    pkt[n++] = (uint8_t)(2 + tl + 2 + PAYLOAD_LEN);
    pkt[n++] = 0;
    pkt[n++] = (uint8_t)tl;
    memcpy(pkt + n, TOPIC, tl);
    n += tl;
    size_t id_at = n;
    n += 2;
    memset(pkt + n, 'x', PAYLOAD_LEN);
    n += PAYLOAD_LEN;
    for (int i = 0; i < RUNS; i++) {
        pkt[id_at] = (uint8_t)((i + 1) >> 8);
        pkt[id_at + 1] = (uint8_t)(i + 1);
        struct timespec s, e;
        clock_gettime(CLOCK_MONOTONIC, &s);
        if (write(fd, pkt, n) != (ssize_t)n || raw_read(fd, ack, 4) != 0 || ack[0] != 0x40) {
            close(fd);
            return 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &e);
        t[i] = (uint64_t)((e.tv_sec - s.tv_sec) * 1000000 + (e.tv_nsec - s.tv_nsec) / 1000);
    }
    close(fd);
    qsort(t, RUNS, sizeof t[0], cmp_u64);
    return t[RUNS / 2];
}

int main(void)
{
    struct mk_live *l = calloc(1, sizeof *l);
    static const char *const extra[] = {"--baud", "115200", NULL};
    if (!l || mk_live_start(l, "bench-pub", "SIM7600E-H", extra, NULL, NULL) != 0) {
        fprintf(stderr, "bench_mqtt_pub: setup failed\n");
        return 1;
    }
    struct count_io cio = {0};
    cio.inner = &l->port.io;
    cio.ops.read = cio_read;
    cio.ops.write = cio_write;
    cio.ops.wait = cio_wait;
    cio.io.ops = &cio.ops;
    cio.io.ctx = &cio;
    mk_at_chan_set_io(&l->chan, &cio.io);

    static char topic[MK_MQTT_TOPIC_MAX + 1];
    static uint8_t payload[MK_MQTT_PAYLOAD_MAX], subs[64];
    struct mk_mqtt_config cfg = {0};
    cfg.chan = &l->chan;
    cfg.id = &l->id;
    cfg.caps = &l->caps;
    cfg.topic_buf = topic;
    cfg.topic_cap = sizeof topic;
    cfg.payload_buf = payload;
    cfg.payload_cap = sizeof payload;
    cfg.sub_buf = subs;
    cfg.sub_cap = sizeof subs;
    struct mk_mqtt_client c;
    struct mk_mqtt_connect_opts o;
    mk_mqtt_opts_init(&o);
    char url[64];
    snprintf(url, sizeof url, "mqtt://127.0.0.1:%d", l->broker.port);
    o.url = url;
    o.client_id = "bench";
    o.version = 4;
    if (mk_mqtt_init(&c, &cfg) != MK_OK || mk_mqtt_connect(&c, &o) != MK_OK) {
        fprintf(stderr, "bench_mqtt_pub: connect: %s\n", mk_mqtt_last_error(&c)->text);
        return 1;
    }
    static uint8_t msg[PAYLOAD_LEN];
    memset(msg, 'x', sizeof msg);
    /* warm-up, then the measured run */
    for (int i = 0; i < 5; i++)
        mk_mqtt_publish(&c, TOPIC, msg, sizeof msg, 1, false);
    uint64_t rx0 = cio.rx, tx0 = cio.tx;
    struct timespec s, e;
    clock_gettime(CLOCK_MONOTONIC, &s);
    int failed = 0;
    for (int i = 0; i < N_PUB; i++)
        failed += mk_mqtt_publish(&c, TOPIC, msg, sizeof msg, 1, false) != MK_OK;
    clock_gettime(CLOCK_MONOTONIC, &e);
    double secs = (double)(e.tv_sec - s.tv_sec) + (double)(e.tv_nsec - s.tv_nsec) / 1e9;
    double tx = (double)(cio.tx - tx0) / N_PUB, rx = (double)(cio.rx - rx0) / N_PUB;
    uint64_t rtt = broker_rtt_us(l->broker.port);
    mk_mqtt_disconnect(&c);
    mk_mqtt_release(&c);
    mk_live_stop(l);
    free(l);

    /* from the command texts, echo off: what each publish must cost */
    char t1[64], t2[64], t3[64];
    int tl = (int)(sizeof TOPIC - 1);
    snprintf(t1, sizeof t1, "AT+CMQTTTOPIC=0,%d\r", tl);
    snprintf(t2, sizeof t2, "AT+CMQTTPAYLOAD=0,%d\r", PAYLOAD_LEN);
    snprintf(t3, sizeof t3, "AT+CMQTTPUB=0,1,60\r");
    size_t want_tx = strlen(t1) + (size_t)tl + strlen(t2) + PAYLOAD_LEN + strlen(t3);
    size_t want_rx =
        2 * strlen("\r\n>") + 3 * strlen("\r\nOK\r\n") + strlen("\r\n+CMQTTPUB: 0,0\r\n");

    double line_s = (tx + rx) * 10.0 / BAUD;
    double limit = 1.0 / (line_s + (double)rtt / 1e6);
    double rate = N_PUB / secs;
    printf("bench_mqtt_pub: %d QoS 1 publishes of %d bytes through modemsim at %u baud "
           "(%d failed)\n",
           N_PUB, PAYLOAD_LEN, BAUD, failed);
    printf("  wire per publish: %.1f bytes to the module, %.1f from it (expected %zu + %zu "
           "from the command texts)\n",
           tx, rx, want_tx, want_rx);
    printf("  broker round trip (QoS 1 PUBLISH -> PUBACK, median): %.3f ms\n", (double)rtt / 1e3);
    printf("  limit = 1 / ((%.1f + %.1f) bytes * 10 bit / %u bit/s + %.3f ms) = %.1f msg/s\n", tx,
           rx, BAUD, (double)rtt / 1e3, limit);
    printf("  measured: %.1f msg/s (%.2f s); ratio to the limit: %.2f\n", rate, secs, rate / limit);
    return failed ? 1 : 0;
}
