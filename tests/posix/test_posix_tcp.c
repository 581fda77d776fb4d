/*
 * tcp:HOST:PORT ports against a listening socket the test opens on a free 127.0.0.1
 * port: data both ways, FIN → MK_E_HANGUP, refused and malformed devices, timeouts.
 */
#include "mk_test.h"
#include "posix_testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "modemkit/posix.h"

/* A listening socket on 127.0.0.1 with a kernel-chosen port. */
static int listen_local(unsigned *port, int backlog)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, backlog) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return s;
}

static int accept_within(int ls, uint32_t timeout_ms)
{
    struct pollfd p = {.fd = ls, .events = POLLIN};
    if (poll(&p, 1, (int)timeout_ms) != 1)
        return -1;
    return accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

static void device_for(char *buf, size_t cap, unsigned port)
{
    snprintf(buf, cap, "tcp:127.0.0.1:%u", port);
}

MK_TEST(tcp_data_both_ways_then_fin_is_hangup)
{
    unsigned lport;
    int ls = listen_local(&lport, 4);
    MK_CHECK(ls >= 0);
    if (ls < 0)
        return;
    char dev[64];
    device_for(dev, sizeof dev, lport);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, dev, NULL), MK_OK);
    MK_CHECK_EQ_INT(port.kind, MK_POSIX_KIND_TCP);
    int peer = accept_within(ls, 2000);
    MK_CHECK(peer >= 0);

    int nodelay = 0;
    socklen_t sl = sizeof nodelay;
    MK_CHECK_EQ_INT(getsockopt(port.fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &sl), 0);
    MK_CHECK(nodelay != 0);

    /* Port → peer. */
    static const char cmd[] = "AT+CGMR\r";
    MK_CHECK_EQ_INT(mk_io_write_all(&port.io, mk_posix_clock(), (const uint8_t *)cmd,
                                    sizeof cmd - 1, mk_posix_now_ms() + 2000),
                    MK_OK);
    char got[64] = {0};
    MK_CHECK_EQ_INT(tu_fd_read(peer, got, sizeof cmd - 1, 2000), sizeof cmd - 1);
    MK_CHECK_EQ_STR(got, cmd);

    /* Peer → port, then FIN: the data first, then MK_E_HANGUP. */
    static const char reply[] = "\r\n+CGMR: LE20B04SIM7600M22\r\n\r\nOK\r\n";
    MK_CHECK_EQ_INT(tu_fd_write(peer, reply, sizeof reply - 1, 2000), sizeof reply - 1);
    MK_CHECK_EQ_INT(shutdown(peer, SHUT_WR), 0);
    size_t n = 0;
    memset(got, 0, sizeof got);
    MK_CHECK_EQ_INT(tu_io_read(&port.io, got, sizeof reply - 1, &n, 2000), MK_OK);
    MK_CHECK_EQ_STR(got, reply);
    MK_CHECK_EQ_INT(tu_io_until_error(&port.io, 2000), MK_E_HANGUP);
    MK_CHECK(strstr(port.msg, "closed by the peer") != NULL);
    mk_posix_port_close(&port);
    close(peer);
    close(ls);
}

/* Writing to a peer that has gone gives MK_E_HANGUP (and no SIGPIPE kills us). */
MK_TEST(tcp_write_after_peer_closed)
{
    unsigned lport;
    int ls = listen_local(&lport, 4);
    MK_CHECK(ls >= 0);
    if (ls < 0)
        return;
    char dev[64];
    device_for(dev, sizeof dev, lport);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, dev, NULL), MK_OK);
    int peer = accept_within(ls, 2000);
    MK_CHECK(peer >= 0);
    close(peer);
    enum mk_err e = MK_OK;
    uint64_t deadline = mk_posix_now_ms() + 3000;
    static const uint8_t chunk[1024];
    while (e == MK_OK && mk_posix_now_ms() < deadline) {
        size_t n = 0;
        e = mk_io_write(&port.io, chunk, sizeof chunk, &n);
        if (e == MK_OK)
            mk_io_wait(&port.io, 20, false);
    }
    MK_CHECK_EQ_INT(e, MK_E_HANGUP);
    mk_posix_port_close(&port);
    close(ls);
}

MK_TEST(tcp_refused_is_noent)
{
    unsigned lport;
    int ls = listen_local(&lport, 1);
    MK_CHECK(ls >= 0);
    if (ls < 0)
        return;
    close(ls); /* the port is now free and nothing listens on it */
    char dev[64];
    device_for(dev, sizeof dev, lport);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, dev, NULL), MK_E_NOENT);
    MK_CHECK(strstr(port.msg, "nothing is listening") != NULL);
    MK_CHECK_EQ_INT(port.fd, -1);
}

MK_TEST(tcp_malformed_devices)
{
    static const char *bad[] = {"tcp:",           "tcp:127.0.0.1", "tcp::7000",
                                "tcp:127.0.0.1:", "tcp:[::1]",     "tcp:[::1]7000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mk_posix_port port;
        enum mk_err e = mk_posix_port_open(&port, bad[i], NULL);
        if (e != MK_E_INVAL)
            printf("#   %s gave %s\n", bad[i], mk_err_name(e));
        MK_CHECK_EQ_INT(e, MK_E_INVAL);
        MK_CHECK(strstr(port.msg, "tcp:HOST:PORT") != NULL);
    }
}

/*
 * A listener that never accepts and whose queue is full drops new SYNs, so connect()
 * cannot finish: the open must give up at connect_timeout_ms.
 */
MK_TEST(tcp_connect_timeout)
{
    unsigned lport;
    int ls = listen_local(&lport, 0);
    MK_CHECK(ls >= 0);
    if (ls < 0)
        return;
    char dev[64];
    device_for(dev, sizeof dev, lport);
    /* Fill the accept queue with connections nobody accepts. */
    struct mk_posix_port filler[4];
    size_t nfill = 0;
    struct mk_posix_port_cfg quick = {.connect_timeout_ms = 200};
    while (nfill < 4 && mk_posix_port_open(&filler[nfill], dev, &quick) == MK_OK)
        nfill++;
    printf("# %zu connection(s) fill the queue\n", nfill);
    if (nfill == 4) {
        printf("# the kernel accepted every connection: no timeout to observe\n");
    } else {
        struct mk_posix_port port;
        struct mk_posix_port_cfg cfg = {.connect_timeout_ms = 300};
        uint64_t t0 = mk_posix_now_ms();
        MK_CHECK_EQ_INT(mk_posix_port_open(&port, dev, &cfg), MK_E_TIMEOUT);
        uint64_t dt = mk_posix_now_ms() - t0;
        MK_CHECK(dt >= 290);
        MK_CHECK(dt < 3000);
        MK_CHECK(strstr(port.msg, "timed out") != NULL);
    }
    for (size_t i = 0; i < nfill; i++)
        mk_posix_port_close(&filler[i]);
    close(ls);
}

MK_TEST_MAIN()
