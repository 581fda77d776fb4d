/*
 * The agent's storage on files (struct mk_agent_storage): the queue log is appended
 * with mk_posix_file_append (write + fsync; the directory synced when it is created),
 * rewritten through a temporary file (fsync, rename, fsync of the directory); records
 * are DIR/NAME.json, replaced with mk_posix_file_replace. kill -9 at any instant leaves
 * either the old or the new state (a torn append is dropped by the queue's CRC check).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modemd.h"

enum mk_err md_mkdirs(const char *path)
{
    char tmp[MD_PATH_CAP];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return MK_E_NOSPC;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return mk_posix_errno(errno);
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return mk_posix_errno(errno);
    return MK_OK;
}

static enum mk_err st_open_read(struct md_storage *s)
{
    if (s->rfd >= 0)
        return MK_OK;
    s->rfd = open(s->log_path, O_RDONLY | O_CLOEXEC);
    if (s->rfd < 0 && errno == ENOENT)
        return MK_OK; /* no log yet: reads see an empty one */
    return s->rfd < 0 ? mk_posix_errno(errno) : MK_OK;
}

static enum mk_err st_read(void *ctx, uint64_t off, void *buf, size_t cap, size_t *n)
{
    struct md_storage *s = ctx;
    *n = 0;
    enum mk_err e = st_open_read(s);
    if (e != MK_OK || s->rfd < 0)
        return e;
    for (;;) {
        ssize_t r = pread(s->rfd, buf, cap, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mk_posix_errno(errno);
        *n = (size_t)r;
        return MK_OK;
    }
}

static enum mk_err st_append(void *ctx, const void *data, size_t len)
{
    struct md_storage *s = ctx;
    enum mk_err e = mk_posix_file_append(s->log_path, data, len);
    if (e == MK_OK && s->rfd < 0)
        e = st_open_read(s);
    return e;
}

static void st_tmp(const struct md_storage *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s.tmp", s->log_path);
}

static enum mk_err st_rw_begin(void *ctx)
{
    struct md_storage *s = ctx;
    char tmp[MD_PATH_CAP + 8];
    st_tmp(s, tmp, sizeof tmp);
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return s->wfd < 0 ? mk_posix_errno(errno) : MK_OK;
}

static enum mk_err st_rw_write(void *ctx, const void *data, size_t len)
{
    struct md_storage *s = ctx;
    const uint8_t *p = data;
    while (len) {
        ssize_t w = write(s->wfd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return mk_posix_errno(errno);
        p += w;
        len -= (size_t)w;
    }
    return MK_OK;
}

static enum mk_err st_sync_dir(const char *path)
{
    char d[MD_PATH_CAP];
    snprintf(d, sizeof d, "%s", path);
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mk_posix_errno(errno);
    int r = fsync(fd);
    int err = errno;
    close(fd);
    return r != 0 ? mk_posix_errno(err) : MK_OK;
}

static enum mk_err st_rw_end(void *ctx, bool commit)
{
    struct md_storage *s = ctx;
    char tmp[MD_PATH_CAP + 8];
    st_tmp(s, tmp, sizeof tmp);
    enum mk_err e = MK_OK;
    if (commit && fsync(s->wfd) != 0)
        e = mk_posix_errno(errno);
    close(s->wfd);
    s->wfd = -1;
    if (!commit || e != MK_OK) {
        unlink(tmp);
        return e;
    }
    if (rename(tmp, s->log_path) != 0) {
        e = mk_posix_errno(errno);
        unlink(tmp);
        return e;
    }
    if (s->rfd >= 0) {
        close(s->rfd); /* the old inode */
        s->rfd = -1;
    }
    e = st_sync_dir(s->log_path);
    enum mk_err e2 = st_open_read(s);
    return e != MK_OK ? e : e2;
}

static void st_rec_path(const struct md_storage *s, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.json", s->dir, name);
}

static enum mk_err st_save(void *ctx, const char *name, const void *data, size_t len)
{
    char path[MD_PATH_CAP + 64];
    st_rec_path(ctx, name, path, sizeof path);
    return mk_posix_file_replace(path, data, len);
}

static enum mk_err st_load(void *ctx, const char *name, void *buf, size_t cap, size_t *len)
{
    char path[MD_PATH_CAP + 64];
    st_rec_path(ctx, name, path, sizeof path);
    return mk_posix_file_read(path, buf, cap, len);
}

enum mk_err md_storage_init(struct md_storage *s, const char *dir, const char *log_path)
{
    memset(s, 0, sizeof *s);
    s->rfd = s->wfd = -1;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->log_path, sizeof s->log_path, "%s", log_path);
    enum mk_err e = md_mkdirs(dir);
    char d[MD_PATH_CAP];
    snprintf(d, sizeof d, "%s", log_path);
    if (e == MK_OK)
        e = md_mkdirs(dirname(d));
    if (e != MK_OK)
        return e;
    /* a rewrite a crash interrupted is never read: remove it */
    char tmp[MD_PATH_CAP + 8];
    st_tmp(s, tmp, sizeof tmp);
    unlink(tmp);
    static const char *const recs[] = {"params", "job"};
    for (size_t i = 0; i < 2; i++) {
        char path[MD_PATH_CAP + 64];
        st_rec_path(s, recs[i], path, sizeof path);
        mk_posix_file_clean(path);
    }
    s->ops = (struct mk_agent_storage){st_read,   st_append, st_rw_begin, st_rw_write,
                                       st_rw_end, st_save,   st_load,     s};
    return st_open_read(s);
}

void md_storage_close(struct md_storage *s)
{
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->wfd >= 0)
        close(s->wfd);
    s->rfd = s->wfd = -1;
}
