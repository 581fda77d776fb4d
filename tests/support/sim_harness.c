/* sim_harness: see sim_harness.h. */
#define _GNU_SOURCE
#include "sim_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("harness: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int64_t mk_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
    int64_t r = deadline - mk_test_now_ms();
    return r < 0 ? 0 : (int)r;
}

/* ---- files ---- */

int mk_test_tmpdir(char *out, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(out, cap, "%s/modemkit-%s-XXXXXX", base, tag) >= cap)
        return -1;
    if (!mkdtemp(out)) {
        say("mkdtemp %s: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

void mk_test_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                mk_test_rmtree(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

int mk_test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        say("write %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int mk_test_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int mk_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

const char *mk_test_find_exe(const char *name)
{
    static char path[4096];
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? name : NULL;
    const char *env = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin:/usr/local/sbin", env ? env : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/%s", d, name);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* ---- processes ---- */

static pid_t spawn(const char *const argv[], int *out_fd)
{
    const char *exe = mk_test_find_exe(argv[0]);
    if (!exe) {
        say("program not found: %s", argv[0]);
        return -1;
    }
    char exe_copy[4096];
    snprintf(exe_copy, sizeof exe_copy, "%s", exe);
    int p[2] = {-1, -1};
    if (out_fd && pipe2(p, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        if (out_fd) {
            close(p[0]);
            close(p[1]);
        }
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (out_fd)
            dup2(p[1], 1);
        execv(exe_copy, (char *const *)argv);
        _exit(127);
    }
    if (out_fd) {
        close(p[1]);
        fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
        *out_fd = p[0];
    }
    return pid;
}

pid_t mk_test_spawn(const char *const argv[], int *out_fd)
{
    return spawn(argv, out_fd);
}

static int status_of(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int mk_test_wait(pid_t pid, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return status_of(st);
        if (r < 0)
            return -1;
        if (mk_test_now_ms() >= deadline)
            return -1;
        /* no child-exit fd to poll on: check again in 5 ms (bounded by the deadline) */
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
}

int mk_test_terminate(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    int st = mk_test_wait(pid, timeout_ms);
    if (st < 0) {
        say("pid %ld did not stop on SIGTERM; killing it", (long)pid);
        kill(pid, SIGKILL);
        mk_test_wait(pid, 5000);
    }
    return st;
}

int mk_test_run(const char *const argv[], char *out, size_t cap, int timeout_ms)
{
    int fd;
    pid_t pid = spawn(argv, &fd);
    if (pid < 0)
        return -1;
    size_t n = 0;
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, remaining(deadline));
        if (rc == 0) {
            say("%s did not finish in %d ms", argv[0], timeout_ms);
            close(fd);
            mk_test_terminate(pid, 1000);
            return -1;
        }
        char tmp[4096];
        ssize_t k = read(fd, tmp, sizeof tmp);
        if (k > 0) {
            for (ssize_t i = 0; i < k && out && n + 1 < cap; i++)
                out[n++] = tmp[i];
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        break; /* EOF */
    }
    close(fd);
    if (out && cap)
        out[n] = '\0';
    return mk_test_wait(pid, remaining(deadline) + 1000);
}

int mk_test_read_line(int fd, char *buf, size_t *blen, char *out, size_t cap, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(buf, '\n', *blen);
        if (nl) {
            size_t n = (size_t)(nl - buf);
            snprintf(out, cap, "%.*s", (int)n, buf);
            memmove(buf, nl + 1, *blen - n - 1);
            *blen -= n + 1;
            return 0;
        }
        if (*blen >= 511)
            *blen = 0; /* no line this long is expected: drop */
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, remaining(deadline)) <= 0)
            return -1;
        ssize_t k = read(fd, buf + *blen, 511 - *blen);
        if (k == 0)
            return -1;
        if (k > 0)
            *blen += (size_t)k;
    }
}

/* ---- PKI ---- */

int mk_pki_make(struct mk_pki *p, const char *dir)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    mkdir(dir, 0700);
#define F(field, name) snprintf(p->field, sizeof p->field, "%s/" name, dir)
    F(ca_crt, "ca.crt");
    F(ca_key, "ca.key");
    F(server_crt, "server.crt");
    F(server_key, "server.key");
    F(client_crt, "client.crt");
    F(client_key, "client.key");
    F(other_ca_crt, "other-ca.crt");
#undef F
    char ext[300];
    snprintf(ext, sizeof ext, "%s/san.ext", dir);
    if (mk_test_write_file(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n", 42) != 0)
        return -1;
    /* One shell script, run by sh: the openssl command line is the interface here. */
    char script[4096];
    snprintf(script, sizeof script,
             "set -e\n"
             "cd '%s'\n"
             "exec 2>make-pki.log\n"
             "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
             "openssl req -x509 $K -keyout ca.key -out ca.crt -days 2 -subj /CN=modemkit-test-ca\n"
             "openssl req -x509 $K -keyout other-ca.key -out other-ca.crt -days 2 "
             "-subj /CN=modemkit-other-ca\n"
             "openssl req $K -keyout server.key -out server.csr -subj /CN=127.0.0.1\n"
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 2 -extfile san.ext\n"
             "openssl req $K -keyout client.key -out client.csr -subj /CN=modemkit-test-client\n"
             "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out client.crt -days 2\n",
             dir);
    char path[300];
    snprintf(path, sizeof path, "%s/make-pki.sh", dir);
    if (mk_test_write_file(path, script, strlen(script)) != 0)
        return -1;
    const char *argv[] = {"sh", path, NULL};
    char out[4096];
    int st = mk_test_run(argv, out, sizeof out, 30000);
    if (st != 0) {
        say("making the test PKI failed (status %d)", st);
        return -1;
    }
    return 0;
}

/* ---- mosquitto ---- */

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

void mk_broker_url(const struct mk_broker *b, char *out, size_t cap)
{
    snprintf(out, cap, "tcp://127.0.0.1:%d", b->port);
}

int mk_broker_start(struct mk_broker *b, const char *dir, const struct mk_broker_opts *o)
{
    struct mk_broker_opts none = {0};
    if (!o)
        o = &none;
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    snprintf(b->conf, sizeof b->conf, "%s/mosquitto.conf", dir);
    snprintf(b->log, sizeof b->log, "%s/mosquitto.log", dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        b->port = mk_test_free_port();
        if (b->port <= 0)
            return -1;
        char conf[4096];
        int n = snprintf(conf, sizeof conf,
                         "listener %d 127.0.0.1\n"
                         "allow_anonymous %s\n"
                         "persistence false\n"
                         "log_dest file %s\n"
                         "log_type all\n",
                         b->port, o->deny_anonymous ? "false" : "true", b->log);
        if (geteuid() == 0) {
            /* as root mosquitto would switch to user "mosquitto" and lose our files */
            struct passwd *pw = getpwuid(0);
            n += snprintf(conf + n, sizeof conf - (size_t)n, "user %s\n", pw ? pw->pw_name : "root");
        }
        if (o->tls)
            n += snprintf(conf + n, sizeof conf - (size_t)n,
                          "cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate %s\n",
                          o->tls->ca_crt, o->tls->server_crt, o->tls->server_key,
                          o->require_cert ? "true" : "false");
        if (mk_test_write_file(b->conf, conf, (size_t)n) != 0)
            return -1;
        unlink(b->log);
        const char *argv[] = {"mosquitto", "-c", b->conf, NULL};
        b->pid = spawn(argv, NULL);
        if (b->pid < 0)
            return -1;
        int64_t deadline = mk_test_now_ms() + 5000;
        while (mk_test_now_ms() < deadline) {
            if (port_open(b->port))
                return 0;
            int st;
            if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
                b->pid = 0; /* port taken meanwhile? try another */
                break;
            }
            struct timespec ts = {0, 10 * 1000000}; /* poll the port, bounded by deadline */
            nanosleep(&ts, NULL);
        }
        if (b->pid > 0) {
            mk_test_terminate(b->pid, 2000);
            b->pid = 0;
        }
    }
    say("mosquitto did not start (see %s)", b->log);
    return -1;
}

void mk_broker_stop(struct mk_broker *b)
{
    if (b->pid > 0)
        mk_test_terminate(b->pid, 5000);
    b->pid = 0;
}

int mk_broker_wait_log(struct mk_broker *b, const char *needle, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    for (;;) {
        char *log;
        size_t len;
        if (mk_test_read_file(b->log, &log, &len) == 0) {
            bool found = strstr(log, needle) != NULL;
            free(log);
            if (found)
                return 0;
        }
        if (mk_test_now_ms() >= deadline) {
            say("broker log never showed \"%s\"", needle);
            return -1;
        }
        struct timespec ts = {0, 10 * 1000000}; /* re-read the log file, bounded */
        nanosleep(&ts, NULL);
    }
}

/* ---- modemsim ---- */

const char *mk_sim_exe(void)
{
    const char *e = getenv("MK_MODEMSIM");
    if (e && *e)
        return e;
#ifdef MK_MODEMSIM_PATH
    return MK_MODEMSIM_PATH;
#else
    return "modemsim";
#endif
}

int mk_sim_start(struct mk_sim *s, const char *const args[])
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    const char *argv[64];
    int n = 0;
    argv[n++] = mk_sim_exe();
    for (int i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = spawn(argv, &s->out_fd);
    if (s->pid < 0)
        return -1;
    if (mk_sim_next_pty(s, 10000) != 0) {
        say("modemsim printed no pty path");
        mk_test_terminate(s->pid, 2000);
        s->pid = 0;
        return -1;
    }
    return mk_sim_open(s);
}

int mk_sim_next_pty(struct mk_sim *s, int timeout_ms)
{
    return mk_test_read_line(s->out_fd, s->outbuf, &s->outlen, s->pty, sizeof s->pty,
                             timeout_ms);
}

int mk_sim_open(struct mk_sim *s)
{
    mk_sim_close_port(s);
    s->fd = open(s->pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (s->fd < 0) {
        say("open %s: %s", s->pty, strerror(errno));
        return -1;
    }
    struct termios t;
    if (tcgetattr(s->fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(s->fd, TCSANOW, &t);
    }
    s->rxlen = 0;
    s->hangup = false;
    return 0;
}

void mk_sim_close_port(struct mk_sim *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

int mk_sim_write(struct mk_sim *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    int64_t deadline = mk_test_now_ms() + 10000;
    while (n > 0) {
        if (s->fd < 0)
            return -1;
        ssize_t k = write(s->fd, b, n);
        if (k > 0) {
            b += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (mk_test_now_ms() >= deadline)
            return -1;
        /* the simulator reads at its line rate: read what it sent meanwhile, so that
         * echo cannot fill the other direction and block both sides */
        struct pollfd pf = {s->fd, POLLOUT | POLLIN, 0};
        poll(&pf, 1, remaining(deadline));
        if (pf.revents & POLLIN)
            mk_sim_pump(s, 0);
    }
    return 0;
}

int mk_sim_send(struct mk_sim *s, const char *line)
{
    if (mk_sim_write(s, line, strlen(line)) != 0)
        return -1;
    return mk_sim_write(s, "\r", 1);
}

int mk_sim_pump(struct mk_sim *s, int timeout_ms)
{
    if (s->fd < 0 || s->hangup)
        return -1;
    struct pollfd p = {s->fd, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms);
    if (rc <= 0)
        return 0;
    if (s->rxlen == MK_SIM_RXCAP) {
        say("receive buffer full; dropping the oldest half");
        memmove(s->rx, s->rx + MK_SIM_RXCAP / 2, MK_SIM_RXCAP / 2);
        s->rxlen = MK_SIM_RXCAP / 2;
    }
    ssize_t k = read(s->fd, s->rx + s->rxlen, MK_SIM_RXCAP - s->rxlen);
    if (k > 0) {
        s->rxlen += (size_t)k;
        return (int)k;
    }
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR) || (p.revents & POLLHUP)) {
        s->hangup = true; /* EIO: the master side closed */
        return -1;
    }
    return 0;
}

static void consume(struct mk_sim *s, size_t n)
{
    memmove(s->rx, s->rx + n, s->rxlen - n);
    s->rxlen -= n;
}

int mk_sim_expect(struct mk_sim *s, const char *text, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    size_t tl = strlen(text);
    for (;;) {
        uint8_t *hit = memmem(s->rx, s->rxlen, text, tl);
        if (hit) {
            consume(s, (size_t)(hit - s->rx) + tl);
            return 0;
        }
        if (remaining(deadline) == 0 || mk_sim_pump(s, remaining(deadline)) < 0) {
            say("expected \"%s\"; received %zu other bytes: \"%.*s\"", text, s->rxlen,
                (int)(s->rxlen < 300 ? s->rxlen : 300), (const char *)s->rx);
            return -1;
        }
    }
}

int mk_sim_read_exact(struct mk_sim *s, void *buf, size_t n, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    while (s->rxlen < n) {
        if (remaining(deadline) == 0 || mk_sim_pump(s, remaining(deadline)) < 0) {
            say("wanted %zu raw bytes, got %zu", n, s->rxlen);
            return -1;
        }
    }
    memcpy(buf, s->rx, n);
    consume(s, n);
    return 0;
}

int mk_sim_line(struct mk_sim *s, char *out, size_t cap, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    for (;;) {
        size_t i = 0;
        while (i < s->rxlen && (s->rx[i] == '\r' || s->rx[i] == '\n'))
            i++;
        if (i < s->rxlen && s->rx[i] == '>') {
            size_t end = i + 1;
            if (end < s->rxlen && s->rx[end] == ' ')
                end++;
            consume(s, end);
            snprintf(out, cap, ">");
            return 1;
        }
        for (size_t j = i; j < s->rxlen; j++) {
            if (s->rx[j] == '\r' || s->rx[j] == '\n') {
                size_t n = j - i;
                snprintf(out, cap, "%.*s", (int)n, (const char *)s->rx + i);
                consume(s, j);
                return (int)n;
            }
        }
        if (i > 0)
            consume(s, i);
        if (remaining(deadline) == 0 || mk_sim_pump(s, remaining(deadline)) < 0)
            return -1;
    }
}

static bool is_final(const char *l)
{
    return strcmp(l, "OK") == 0 || strcmp(l, "ERROR") == 0 ||
           strncmp(l, "+CME ERROR:", 11) == 0 || strncmp(l, "+CMS ERROR:", 11) == 0;
}

/* Collects lines up to a final result; skips one line equal to echo (if not NULL). */
static int collect(struct mk_sim *s, const char *echo, char *resp, size_t cap, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    size_t n = 0;
    if (resp && cap)
        resp[0] = '\0';
    bool echo_seen = echo == NULL;
    for (;;) {
        char line[4096];
        int len = mk_sim_line(s, line, sizeof line, remaining(deadline));
        if (len < 0) {
            if (!s->quiet)
                say("no final result%s%s", echo ? " for " : "", echo ? echo : "");
            return -1;
        }
        if (!echo_seen && strcmp(line, echo) == 0) {
            echo_seen = true;
            continue;
        }
        if (resp && n + (size_t)len + 2 < cap) {
            memcpy(resp + n, line, (size_t)len);
            n += (size_t)len;
            resp[n++] = '\n';
            resp[n] = '\0';
        }
        if (strcmp(line, ">") == 0 || strcmp(line, "OK") == 0)
            return 0;
        if (is_final(line))
            return 1;
    }
}

int mk_sim_cmd(struct mk_sim *s, const char *cmd, char *resp, size_t cap, int timeout_ms)
{
    if (mk_sim_send(s, cmd) != 0)
        return -1;
    return collect(s, cmd, resp, cap, timeout_ms);
}

int mk_sim_data(struct mk_sim *s, const void *p, size_t n, char *resp, size_t cap,
                int timeout_ms)
{
    if (mk_sim_write(s, p, n) != 0)
        return -1;
    return collect(s, NULL, resp, cap, timeout_ms);
}

int mk_sim_wait_ready(struct mk_sim *s, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    while (remaining(deadline) > 0) {
        char resp[256];
        int step = remaining(deadline) < 300 ? remaining(deadline) : 300;
        s->quiet = true; /* a booting module ignores AT: not worth a message */
        int rc = mk_sim_cmd(s, "AT", resp, sizeof resp, step);
        s->quiet = false;
        if (rc == 0)
            return 0;
        if (s->hangup)
            return -1;
    }
    say("module never answered AT");
    return -1;
}

int mk_sim_wait_hangup(struct mk_sim *s, int timeout_ms)
{
    int64_t deadline = mk_test_now_ms() + timeout_ms;
    while (!s->hangup) {
        if (remaining(deadline) == 0)
            return -1;
        if (mk_sim_pump(s, remaining(deadline)) > 0)
            s->rxlen = 0; /* what a dying module still says does not matter here */
    }
    return 0;
}

void mk_sim_flush(struct mk_sim *s)
{
    while (mk_sim_pump(s, 0) > 0)
        ;
    s->rxlen = 0;
}

int mk_sim_signal(struct mk_sim *s, int sig)
{
    return s->pid > 0 ? kill(s->pid, sig) : -1;
}

int mk_sim_stop(struct mk_sim *s)
{
    mk_sim_close_port(s);
    int st = -1;
    if (s->pid > 0)
        st = mk_test_terminate(s->pid, 10000);
    s->pid = 0;
    if (s->out_fd > 0)
        close(s->out_fd);
    s->out_fd = -1;
    return st;
}
