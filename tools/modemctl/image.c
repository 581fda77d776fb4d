/* modemctl: image files as struct mk_flash_file, and the CWE walk (image.h). */
#define _GNU_SOURCE
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modemkit/posix.h"

static enum mk_err mk_cli_file_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    const struct mk_cli_file *cf = ctx;
    while (len) {
        ssize_t n = pread(cf->fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return MK_E_IO;
        buf += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return MK_OK;
}

enum mk_err mk_cli_file_open(struct mk_cli_file *cf, const char *path, const char **why)
{
    memset(cf, 0, sizeof *cf);
    cf->fd = -1;
    snprintf(cf->path, sizeof cf->path, "%s", path);
    const char *slash = strrchr(cf->path, '/');
    cf->base = slash ? slash + 1 : cf->path;
    if (why)
        *why = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (why)
            *why = strerror(e);
        return mk_posix_errno(e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        if (why)
            *why = "not a regular file";
        return MK_E_INVAL;
    }
    cf->fd = fd;
    cf->f.read = mk_cli_file_read;
    cf->f.ctx = cf;
    cf->f.size = (uint64_t)st.st_size;
    cf->f.name = cf->base;
    return MK_OK;
}

void mk_cli_file_close(struct mk_cli_file *cf)
{
    if (cf->fd >= 0)
        close(cf->fd);
    cf->fd = -1;
}

enum mk_err mk_cli_cwe_parse(struct mk_cli_file *cf, struct mk_cwe_info *info,
                             struct mk_cwe_image *tree)
{
    static uint8_t scratch[1 << 20];
    memset(info, 0, sizeof *info);
    info->images = tree;
    info->cap = MK_CLI_CWE_TREE;
    struct mk_cwe_reader rd = {cf->f.read, cf->f.ctx, cf->f.size, cf->base};
    return mk_cwe_parse(&rd, scratch, sizeof scratch, 0, info);
}

void mk_cli_cwe_path(const struct mk_cwe_info *info, size_t i, char *out, size_t cap)
{
    unsigned parts[MK_CWE_MAX_DEPTH + 1], n = 0;
    for (int k = (int)i; k >= 0 && n <= MK_CWE_MAX_DEPTH; k = info->images[k].parent) {
        unsigned ord = 0;
        for (int j = 0; j < k; j++)
            if (info->images[j].parent == info->images[k].parent)
                ord++;
        parts[n++] = ord;
    }
    size_t len = 0;
    out[0] = '\0';
    while (n-- && len < cap)
        len += (size_t)snprintf(out + len, cap - len, n ? "%u." : "%u", parts[n]);
}
