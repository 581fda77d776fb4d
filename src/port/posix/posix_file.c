/*
 * Durable files for journals and queues (FOTA job journal, modemd's telemetry queue).
 * The rules: write a new version beside the old one and rename it over (rename is atomic
 * within a directory), fsync the data before the rename and the directory after it, so
 * that a power cut leaves either the old or the new file. See include/modemkit/posix.h.
 */
#include "modemkit/posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp"

static enum mk_err tmp_name(const char *path, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s" TMP_SUFFIX, path);
    return n < 0 || (size_t)n >= cap ? MK_E_INVAL : MK_OK;
}

/* fsync the directory holding path, so a rename or a new entry survives a power cut. */
static enum mk_err sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        dir[0] = '.';
        dir[1] = '\0';
    } else if (slash == path) {
        dir[0] = '/';
        dir[1] = '\0';
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return MK_E_INVAL;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mk_posix_errno(errno);
    int r = fsync(fd);
    int err = errno;
    close(fd);
    /* Some file systems cannot fsync a directory (EINVAL): nothing more we can do. */
    if (r != 0 && err != EINVAL)
        return mk_posix_errno(err);
    return MK_OK;
}

static enum mk_err write_all_fd(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t r = write(fd, p, len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return mk_posix_errno(errno);
        }
        p += r;
        len -= (size_t)r;
    }
    return MK_OK;
}

static enum mk_err fsync_fd(int fd)
{
    while (fsync(fd) != 0) {
        if (errno != EINTR)
            return mk_posix_errno(errno);
    }
    return MK_OK;
}

enum mk_err mk_posix_file_replace(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    enum mk_err e = tmp_name(path, tmp, sizeof tmp);
    if (e != MK_OK)
        return e;
    /* O_TRUNC: a temporary left by a crashed replace is simply overwritten. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return mk_posix_errno(errno);
    e = write_all_fd(fd, data, len);
    if (e == MK_OK)
        e = fsync_fd(fd);
    if (close(fd) != 0 && e == MK_OK)
        e = mk_posix_errno(errno);
    if (e == MK_OK && rename(tmp, path) != 0)
        e = mk_posix_errno(errno);
    if (e != MK_OK) {
        unlink(tmp);
        return e;
    }
    return sync_parent_dir(path);
}

/* One read() that retries on EINTR. */
static ssize_t read_retry(int fd, void *buf, size_t len)
{
    ssize_t r;
    do
        r = read(fd, buf, len);
    while (r < 0 && errno == EINTR);
    return r;
}

enum mk_err mk_posix_file_read(const char *path, void *buf, size_t cap, size_t *len)
{
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mk_posix_errno(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return MK_E_INVAL;
    }
    /* Read to EOF rather than trusting st_size: the file may be appended to meanwhile. */
    unsigned char *p = buf;
    size_t got = 0;
    enum mk_err e = MK_OK;
    for (;;) {
        unsigned char probe;
        ssize_t r = got < cap ? read_retry(fd, p + got, cap - got) : read_retry(fd, &probe, 1);
        if (r < 0) {
            e = mk_posix_errno(errno);
            break;
        }
        if (r == 0)
            break;
        if (got == cap) {
            /* More than fits: buf keeps the first cap bytes, *len says how big it is. */
            e = MK_E_NOSPC;
            got = (uint64_t)st.st_size > cap ? (size_t)st.st_size : cap + 1;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return e;
}

enum mk_err mk_posix_file_append(const char *path, const void *data, size_t len)
{
    bool created = false;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        created = fd >= 0;
        if (fd < 0 && errno == EEXIST) /* created by someone else meanwhile */
            fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    }
    if (fd < 0)
        return mk_posix_errno(errno);
    enum mk_err e = write_all_fd(fd, data, len);
    if (e == MK_OK)
        e = fsync_fd(fd);
    if (close(fd) != 0 && e == MK_OK)
        e = mk_posix_errno(errno);
    if (e == MK_OK && created)
        e = sync_parent_dir(path);
    return e;
}

enum mk_err mk_posix_file_clean(const char *path)
{
    char tmp[4096];
    enum mk_err e = tmp_name(path, tmp, sizeof tmp);
    if (e != MK_OK)
        return e;
    if (unlink(tmp) != 0 && errno != ENOENT)
        return mk_posix_errno(errno);
    return MK_OK;
}
