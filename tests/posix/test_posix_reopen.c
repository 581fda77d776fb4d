/*
 * Reopen by path: a symlink (like modemsim --link) is re-pointed from a dead pty to a new
 * one after a delay, as when the simulated module reboots; the port must come back on
 * the new pty within the deadline, never on the old fd, and time out cleanly when the
 * path never returns. Also TCP reopen after the peer closed.
 */
#include "mk_test.h"
#include "posix_testutil.h"
#include "support/fake_usb.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "modemkit/posix.h"

/* Points link at target atomically (symlink beside it, then rename over), as a careful
 * simulator does so that readers never see a missing link mid-update. */
static int repoint(const char *link, const char *target)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.new", link);
    unlink(tmp);
    if (symlink(target, tmp) != 0)
        return -1;
    return rename(tmp, link);
}

struct reboot {
    const char *link;
    uint32_t down_ms;    /* how long the "module" stays away */
    int new_master;      /* out: the new pty's master */
    char new_name[64];   /* out: its slave path */
    uint64_t back_at_ms; /* out: when the link pointed at the new pty */
};

/* The simulated module coming back: after down_ms, a new pty and the link re-pointed. */
static void *reboot_thread(void *arg)
{
    struct reboot *r = arg;
    mk_posix_sleep_ms(r->down_ms); /* the scenario's downtime, not a synchronisation */
    r->new_master = tu_pty_master(r->new_name, sizeof r->new_name);
    r->back_at_ms = mk_posix_now_ms();
    if (r->new_master >= 0)
        repoint(r->link, r->new_name);
    return NULL;
}

MK_TEST(reopen_follows_repointed_symlink)
{
    char dir[256], link[300], old_name[64];
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(dir, sizeof dir, "reopen"), 0);
    snprintf(link, sizeof link, "%s/modem", dir);
    int old_master = tu_pty_master(old_name, sizeof old_name);
    MK_CHECK(old_master >= 0);
    MK_CHECK_EQ_INT(repoint(link, old_name), 0);

    struct mk_posix_port port;
    struct mk_posix_port_cfg cfg = {.baud = 921600};
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, link, &cfg), MK_OK);
    MK_CHECK_EQ_INT(tu_fd_write(old_master, "A", 1, 1000), 1);
    char c = 0;
    size_t n = 0;
    MK_CHECK_EQ_INT(tu_io_read(&port.io, &c, 1, &n, 2000), MK_OK);
    MK_CHECK_EQ_INT(c, 'A');

    /* The module reboots: its pty goes away and the link dangles. The link is pointed
     * away before the pty closes: the kernel may hand the freed /dev/pts number to any
     * process at once (other tests run in parallel), and a link still naming it would
     * then lead to a stranger's pty. modemsim --link must do the same. */
    char off[320];
    snprintf(off, sizeof off, "%s/powered-off", dir);
    MK_CHECK_EQ_INT(repoint(link, off), 0);
    close(old_master);
    MK_CHECK_EQ_INT(tu_io_until_error(&port.io, 2000), MK_E_HANGUP);

    /* ... and comes back 300 ms later on another pty. */
    struct reboot r = {.link = link, .down_ms = 300, .new_master = -1};
    pthread_t th;
    uint64_t t0 = mk_posix_now_ms();
    MK_CHECK_EQ_INT(pthread_create(&th, NULL, reboot_thread, &r), 0);
    enum mk_err e = mk_posix_port_reopen(&port, t0 + 5000);
    uint64_t t1 = mk_posix_now_ms();
    pthread_join(th, NULL);
    MK_CHECK_EQ_INT(e, MK_OK);
    if (e != MK_OK)
        printf("#   %s\n", port.msg);
    printf("# reopened %llu ms after the link came back (poll period %u ms)\n",
           (unsigned long long)(t1 - r.back_at_ms), MK_POSIX_REOPEN_POLL_MS);
    MK_CHECK(t1 >= r.back_at_ms);       /* it waited for the new pty */
    MK_CHECK(t1 - r.back_at_ms < 1000); /* and noticed it promptly */
    MK_CHECK_EQ_STR(port.device, link);

    /* The new fd is the new pty, with the same settings, and it works both ways. */
    struct stat new_st, want_st;
    MK_CHECK_EQ_INT(fstat(port.fd, &new_st), 0);
    MK_CHECK_EQ_INT(stat(r.new_name, &want_st), 0);
    MK_CHECK(new_st.st_rdev == want_st.st_rdev);
    MK_CHECK_EQ_INT(port.baud_actual, 921600);
    MK_CHECK_EQ_INT(tu_fd_write(r.new_master, "B", 1, 1000), 1);
    MK_CHECK_EQ_INT(tu_io_read(&port.io, &c, 1, &n, 2000), MK_OK);
    MK_CHECK_EQ_INT(c, 'B');
    MK_CHECK_EQ_INT(mk_io_write_all(&port.io, mk_posix_clock(), (const uint8_t *)"AT\r", 3,
                                    mk_posix_now_ms() + 1000),
                    MK_OK);
    char got[4] = {0};
    MK_CHECK_EQ_INT(tu_fd_read(r.new_master, got, 3, 2000), 3);
    MK_CHECK_EQ_STR(got, "AT\r");

    mk_posix_port_close(&port);
    close(r.new_master);
    mk_fakeusb_rm_rf(dir);
}

MK_TEST(reopen_times_out_when_the_path_never_returns)
{
    char dir[256], link[300], name[64];
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(dir, sizeof dir, "reopen"), 0);
    snprintf(link, sizeof link, "%s/modem", dir);
    int m = tu_pty_master(name, sizeof name);
    MK_CHECK_EQ_INT(repoint(link, name), 0);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, link, NULL), MK_OK);
    char off[320];
    snprintf(off, sizeof off, "%s/powered-off", dir);
    MK_CHECK_EQ_INT(repoint(link, off), 0); /* gone for good: the link dangles */
    close(m);
    MK_CHECK_EQ_INT(tu_io_until_error(&port.io, 2000), MK_E_HANGUP);

    uint64_t t0 = mk_posix_now_ms();
    MK_CHECK_EQ_INT(mk_posix_port_reopen(&port, t0 + 300), MK_E_TIMEOUT);
    uint64_t dt = mk_posix_now_ms() - t0;
    MK_CHECK(dt >= 300);
    MK_CHECK(dt < 2000);
    MK_CHECK_EQ_INT(port.fd, -1);
    MK_CHECK(strstr(port.msg, "waited") != NULL);
    MK_CHECK(strstr(port.msg, link) != NULL);
    MK_CHECK(strstr(port.msg, "No such file") != NULL);
    /* Reading a closed port is a caller error, not a crash. */
    uint8_t b;
    size_t n;
    MK_CHECK_EQ_INT(mk_io_read(&port.io, &b, 1, &n), MK_E_STATE);

    /* A path that never existed at all: same, and an already-passed deadline tries once. */
    unlink(link);
    MK_CHECK_EQ_INT(mk_posix_port_reopen(&port, mk_posix_now_ms()), MK_E_TIMEOUT);
    mk_posix_port_close(&port);
    mk_fakeusb_rm_rf(dir);
}

/* Problems that waiting cannot fix end the wait at once. */
MK_TEST(reopen_gives_up_at_once_on_a_regular_file)
{
    char dir[256], link[300], name[64];
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(dir, sizeof dir, "reopen"), 0);
    snprintf(link, sizeof link, "%s/modem", dir);
    int m = tu_pty_master(name, sizeof name);
    MK_CHECK_EQ_INT(repoint(link, name), 0);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, link, NULL), MK_OK);
    close(m);
    char file[300];
    snprintf(file, sizeof file, "%s/file", dir);
    MK_CHECK_EQ_INT(mk_posix_file_replace(file, "x", 1), MK_OK);
    MK_CHECK_EQ_INT(repoint(link, file), 0);
    uint64_t t0 = mk_posix_now_ms();
    MK_CHECK_EQ_INT(mk_posix_port_reopen(&port, t0 + 5000), MK_E_INVAL);
    MK_CHECK(mk_posix_now_ms() - t0 < 1000);
    mk_posix_port_close(&port);
    mk_fakeusb_rm_rf(dir);
}

static int listen_on(unsigned *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 4) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return s;
}

MK_TEST(reopen_tcp_after_peer_closed)
{
    unsigned lport;
    int ls = listen_on(&lport);
    MK_CHECK(ls >= 0);
    if (ls < 0)
        return;
    char dev[64];
    snprintf(dev, sizeof dev, "tcp:127.0.0.1:%u", lport);
    struct mk_posix_port port;
    MK_CHECK_EQ_INT(mk_posix_port_open(&port, dev, NULL), MK_OK);
    int peer = accept(ls, NULL, NULL);
    MK_CHECK(peer >= 0);
    close(peer);
    MK_CHECK_EQ_INT(tu_io_until_error(&port.io, 2000), MK_E_HANGUP);
    MK_CHECK_EQ_INT(mk_posix_port_reopen(&port, mk_posix_now_ms() + 3000), MK_OK);
    peer = accept(ls, NULL, NULL);
    MK_CHECK(peer >= 0);
    MK_CHECK_EQ_INT(tu_fd_write(peer, "OK", 2, 1000), 2);
    char got[3] = {0};
    size_t n;
    MK_CHECK_EQ_INT(tu_io_read(&port.io, got, 2, &n, 2000), MK_OK);
    MK_CHECK_EQ_STR(got, "OK");
    mk_posix_port_close(&port);
    close(peer);
    close(ls);
}

MK_TEST_MAIN()
