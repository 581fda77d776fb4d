/* Test helper: update packages built in memory (ustar members over a byte buffer). */
#ifndef FOTA_TEST_PKG_H
#define FOTA_TEST_PKG_H

#include <string.h>

#include "modemkit/fota.h"

struct mem {
    uint8_t buf[65536];
    size_t len;
};

static inline enum mk_err mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct mem *m = ctx;
    if (off + len > m->len)
        return MK_E_IO;
    memcpy(buf, m->buf + off, len);
    return MK_OK;
}

static inline void put(struct mem *m, const char *name, const void *data, size_t n)
{
    mk_tar_build_header(m->buf + m->len, name, n, 1700000000);
    m->len += MK_TAR_BLOCK;
    memcpy(m->buf + m->len, data, n);
    m->len += n;
    uint32_t pad = mk_tar_padding(n);
    memset(m->buf + m->len, 0, pad);
    m->len += pad;
}

static inline void finish(struct mem *m)
{
    memset(m->buf + m->len, 0, 2 * MK_TAR_BLOCK);
    m->len += 2 * MK_TAR_BLOCK;
}

#endif
