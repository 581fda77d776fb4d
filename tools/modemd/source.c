/*
 * Data sources on the host: the built-in synthetic sensor, a command run at each
 * interval, a FIFO, and a file followed like `tail -F` (rotation and truncation
 * handled). Each gives the agent core one JSON value per sample.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modemd.h"
#include "modemkit/json.h"

#define MD_ROTATE_CHECK_MS 1000u

size_t md_line_to_json(const char *line, size_t len, char *out, size_t cap)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' ' ||
                   line[len - 1] == '\t'))
        len--;
    while (len && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    if (len == 0)
        return 0;
    static struct mk_json_tok toks[512];
    struct mk_json doc;
    if (mk_json_parse(&doc, line, len, toks, sizeof toks / sizeof toks[0]) == MK_OK) {
        if (len > cap)
            return SIZE_MAX;
        memcpy(out, line, len);
        return len;
    }
    /* not JSON: a JSON string of the text */
    size_t o = 0;
    if (cap < 2)
        return SIZE_MAX;
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        char esc[8];
        size_t n;
        if (c == '"' || c == '\\')
            n = (size_t)snprintf(esc, sizeof esc, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
        else
            esc[0] = (char)c, n = 1;
        if (o + n + 1 > cap)
            return SIZE_MAX;
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o++] = '"';
    return o;
}

/* ---- scheduled sources ---- */

static enum mk_err src_synthetic(void *ctx, uint64_t seq, char *buf, size_t cap, size_t *len)
{
    (void)ctx;
    /* a slow daily-ish wave; deterministic per sequence number, so runs can be compared */
    double x = (double)seq;
    int n = snprintf(buf, cap, "{\"sensor\":\"synthetic\",\"temp_c\":%.2f,\"rh_pct\":%.1f}",
                     20.0 + 5.0 * sin(x * 0.1), 50.0 + 10.0 * cos(x * 0.07));
    if (n < 0 || (size_t)n >= cap)
        return MK_E_NOSPC;
    *len = (size_t)n;
    return MK_OK;
}

static enum mk_err src_command(void *ctx, uint64_t seq, char *buf, size_t cap, size_t *len)
{
    struct md_source *s = ctx;
    char env[40];
    snprintf(env, sizeof env, "MODEMD_SEQ=%llu", (unsigned long long)seq);
    char *envv[] = {env, NULL};
    char out[MK_AGENT_VALUE_MAX * 2], err[200];
    size_t n = 0;
    int st = md_run(s->cfg->command, envv, NULL, 0, out, sizeof out, &n, err, sizeof err,
                    s->cfg->command_timeout_ms);
    if (st < 0) {
        md_log(MK_AGENT_LOG_WARN, "sample command: %s", err);
        return MK_E_IO;
    }
    if (st != 0) {
        md_log(MK_AGENT_LOG_WARN, "sample command: exit status %d%s%s", st, err[0] ? ": " : "",
               err);
        return MK_E_IO;
    }
    size_t k = md_line_to_json(out, n, buf, cap);
    if (k == 0)
        return MK_E_NOENT;
    if (k == SIZE_MAX) {
        md_log(MK_AGENT_LOG_WARN, "sample command: output longer than %u bytes; skipped",
               MK_AGENT_VALUE_MAX);
        return MK_E_NOSPC;
    }
    *len = k;
    return MK_OK;
}

/* ---- line sources ---- */

static void src_close_fds(struct md_source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->fifo_keep >= 0)
        close(s->fifo_keep);
    s->fd = s->fifo_keep = -1;
}

static enum mk_err src_open_file(struct md_source *s, bool at_end)
{
    const char *path = s->cfg->path;
    s->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->fd < 0)
        return mk_posix_errno(errno);
    struct stat st;
    fstat(s->fd, &st);
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->off = at_end ? st.st_size : 0;
    s->rlen = 0;
    s->skipping = false;
    return MK_OK;
}

/* tail -F: a new file under the name (rotation) is read from its start; a file that
 * shrank (truncation) from its new start. */
static void src_file_check(struct md_source *s)
{
    uint64_t now = mk_posix_now_ms();
    if (now < s->next_check_ms)
        return;
    s->next_check_ms = now + MD_ROTATE_CHECK_MS;
    struct stat st;
    if (stat(s->cfg->path, &st) != 0)
        return; /* gone for now: keep reading the old one */
    if (s->fd < 0 || st.st_ino != s->ino || st.st_dev != s->dev) {
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        if (src_open_file(s, false) == MK_OK)
            md_log(MK_AGENT_LOG_INFO, "%s: following the new file", s->cfg->path);
    } else if (st.st_size < s->off) {
        s->off = 0;
        s->rlen = 0;
        md_log(MK_AGENT_LOG_INFO, "%s: truncated; reading from its start", s->cfg->path);
    }
}

static enum mk_err src_lines(void *ctx, char *buf, size_t cap, size_t *len)
{
    struct md_source *s = ctx;
    if (s->cfg->source_kind == MD_SRC_FILE)
        src_file_check(s);
    if (s->fd < 0)
        return MK_E_NOENT;
    for (;;) {
        char *nl = memchr(s->rbuf, '\n', s->rlen);
        if (nl) {
            size_t n = (size_t)(nl - s->rbuf);
            size_t k = s->skipping ? 0 : md_line_to_json(s->rbuf, n, buf, cap);
            bool skipped = s->skipping;
            s->skipping = false;
            memmove(s->rbuf, nl + 1, s->rlen - n - 1);
            s->rlen -= n + 1;
            if (k == SIZE_MAX) {
                md_log(MK_AGENT_LOG_WARN, "%s: a line longer than %u bytes was skipped",
                       s->cfg->path, MK_AGENT_VALUE_MAX);
                continue;
            }
            if (k == 0 || skipped)
                continue;
            *len = k;
            return MK_OK;
        }
        if (s->rlen == sizeof s->rbuf) {
            s->rlen = 0; /* a line without end that fills the buffer: drop it */
            s->skipping = true;
        }
        ssize_t r = s->cfg->source_kind == MD_SRC_FILE
                        ? pread(s->fd, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen, s->off)
                        : read(s->fd, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return MK_E_NOENT;
        if (s->cfg->source_kind == MD_SRC_FILE)
            s->off += r;
        s->rlen += (size_t)r;
    }
}

enum mk_err md_source_init(struct md_source *s, const struct md_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->fd = s->fifo_keep = -1;
    s->ops.ctx = s;
    switch (cfg->source_kind) {
    case MD_SRC_SYNTHETIC:
        s->ops.sample = src_synthetic;
        return MK_OK;
    case MD_SRC_COMMAND:
        s->ops.sample = src_command;
        return MK_OK;
    case MD_SRC_FIFO: {
        struct stat st;
        if (stat(cfg->path, &st) != 0) {
            if (errno != ENOENT || mkfifo(cfg->path, 0600) != 0)
                return mk_posix_errno(errno);
        } else if (!S_ISFIFO(st.st_mode)) {
            md_log(MK_AGENT_LOG_ERR, "%s is not a FIFO (sample.source = fifo)", cfg->path);
            return MK_E_INVAL;
        }
        s->fd = open(cfg->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (s->fd < 0)
            return mk_posix_errno(errno);
        /* our own writer keeps the FIFO open between the producers' writes */
        s->fifo_keep = open(cfg->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        s->ops.poll = src_lines;
        return MK_OK;
    }
    case MD_SRC_FILE: {
        enum mk_err e = src_open_file(s, true);
        if (e != MK_OK && e != MK_E_NOENT)
            return e;
        s->ops.poll = src_lines;
        return MK_OK;
    }
    }
    return MK_E_INVAL;
}

void md_source_close(struct md_source *s)
{
    src_close_fds(s);
}
