/*
 * Running the configured shell commands (sample command, apply hook, fetch, power
 * cycle) with a deadline: the command gets its own process group so that a timeout kills
 * everything it started, stdin is fed from memory, stdout and the first line of stderr
 * are captured.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modemd.h"

static void md_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int md_run(const char *cmd, char *const *env, const char *in, size_t in_len, char *out,
           size_t out_cap, size_t *out_len, char *err, size_t err_cap, uint64_t timeout_ms)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if (out_len)
        *out_len = 0;
    if (out && out_cap)
        out[0] = '\0';
    if (err && err_cap)
        err[0] = '\0';
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        if (err)
            snprintf(err, err_cap, "pipe: %s", strerror(errno));
        md_close(&pin[0]), md_close(&pin[1]), md_close(&pout[0]), md_close(&pout[1]);
        md_close(&perr[0]), md_close(&perr[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        if (err)
            snprintf(err, err_cap, "fork: %s", strerror(errno));
        md_close(&pin[0]), md_close(&pin[1]), md_close(&pout[0]), md_close(&pout[1]);
        md_close(&perr[0]), md_close(&perr[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pin[0], STDIN_FILENO);
        dup2(pout[1], STDOUT_FILENO);
        dup2(perr[1], STDERR_FILENO);
        for (char *const *e = env; e && *e; e++)
            putenv(*e);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    md_close(&pin[0]);
    md_close(&pout[1]);
    md_close(&perr[1]);
    if (!in || in_len == 0)
        md_close(&pin[1]);
    else
        fcntl(pin[1], F_SETFL, O_NONBLOCK);
    size_t in_off = 0, o = 0, eo = 0;
    char ebuf[512];
    uint64_t deadline = mk_posix_now_ms() + timeout_ms;
    bool timed_out = false;
    while (pout[0] >= 0 || perr[0] >= 0) {
        struct pollfd pf[3];
        int n = 0, iout = -1, ierr = -1, iin = -1;
        if (pout[0] >= 0)
            pf[iout = n++] = (struct pollfd){pout[0], POLLIN, 0};
        if (perr[0] >= 0)
            pf[ierr = n++] = (struct pollfd){perr[0], POLLIN, 0};
        if (pin[1] >= 0)
            pf[iin = n++] = (struct pollfd){pin[1], POLLOUT, 0};
        uint64_t now = mk_posix_now_ms();
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        int r = poll(pf, (nfds_t)n, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (iin >= 0 && pf[iin].revents) {
            ssize_t w = write(pin[1], in + in_off, in_len - in_off);
            if (w > 0)
                in_off += (size_t)w;
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                in_off = in_len; /* the command does not read its input: fine */
            if (in_off >= in_len)
                md_close(&pin[1]);
        }
        if (iout >= 0 && pf[iout].revents) {
            char tmp[4096];
            ssize_t k = read(pout[0], tmp, sizeof tmp);
            if (k <= 0 && !(k < 0 && (errno == EINTR || errno == EAGAIN))) {
                md_close(&pout[0]);
            } else if (k > 0 && out && out_cap) {
                size_t take = (size_t)k;
                if (o + take > out_cap - 1)
                    take = out_cap - 1 - o;
                memcpy(out + o, tmp, take);
                o += take;
                out[o] = '\0';
            }
        }
        if (ierr >= 0 && pf[ierr].revents) {
            char tmp[1024];
            ssize_t k = read(perr[0], tmp, sizeof tmp);
            if (k <= 0 && !(k < 0 && (errno == EINTR || errno == EAGAIN))) {
                md_close(&perr[0]);
            } else if (k > 0) {
                size_t take = (size_t)k < sizeof ebuf - 1 - eo ? (size_t)k : sizeof ebuf - 1 - eo;
                memcpy(ebuf + eo, tmp, take);
                eo += take;
            }
        }
    }
    md_close(&pin[1]);
    md_close(&pout[0]);
    md_close(&perr[0]);
    if (out_len)
        *out_len = o;
    int status = 0;
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    } else {
        /* output closed: the command is ending; wait for it within the deadline */
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid)
                break;
            if (mk_posix_now_ms() >= deadline) {
                timed_out = true;
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                break;
            }
            mk_posix_sleep_ms(5);
        }
    }
    if (timed_out) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (err)
            snprintf(err, err_cap, "timed out after %llu ms", (unsigned long long)timeout_ms);
        return -1;
    }
    if (err && err_cap) {
        ebuf[eo] = '\0';
        char *nl = strchr(ebuf, '\n');
        if (nl)
            *nl = '\0';
        snprintf(err, err_cap, "%s", ebuf);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
