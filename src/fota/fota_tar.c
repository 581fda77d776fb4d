/*
 * A small POSIX ustar reader and writer for update packages (POSIX.1-2001 "ustar"
 * header: 512-byte blocks, octal fields, checksum = sum of the header bytes with the
 * checksum field taken as spaces). Only what packages need: regular files with names of
 * at most 100 bytes and no prefix field. Everything from the file is checked before it
 * is used, since a package is untrusted until its signature and hashes are verified.
 */
#include <string.h>

#include "modemkit/fota.h"

/* Field offsets and lengths in the header block. */
#define TAR_NAME    0
#define TAR_MODE    100
#define TAR_UID     108
#define TAR_GID     116
#define TAR_SIZE    124
#define TAR_MTIME   136
#define TAR_CHKSUM  148
#define TAR_TYPE    156
#define TAR_MAGIC   257
#define TAR_VERSION 263
#define TAR_UNAME   265
#define TAR_GNAME   297
#define TAR_PREFIX  345

/* Parses an octal field of len bytes: digits, optionally led by spaces and ended by
 * NUL or space. MK_E_FORMAT otherwise. */
static enum mk_err mk_tar_octal(const uint8_t *f, size_t len, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    bool digits = false;
    while (i < len && f[i] == ' ')
        i++;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return MK_E_FORMAT;
        v = v * 8u + (uint64_t)(f[i] - '0');
        digits = true;
    }
    for (; i < len; i++)
        if (f[i] != '\0' && f[i] != ' ')
            return MK_E_FORMAT;
    if (!digits)
        return MK_E_FORMAT;
    *out = v;
    return MK_OK;
}

/* Writes v as len-1 octal digits and a NUL. MK_E_INVAL when it does not fit. */
static enum mk_err mk_tar_put_octal(uint8_t *f, size_t len, uint64_t v)
{
    f[len - 1] = '\0';
    for (size_t i = len - 1; i-- > 0;) {
        f[i] = (uint8_t)('0' + (v & 7u));
        v >>= 3;
    }
    return v ? MK_E_INVAL : MK_OK;
}

static uint32_t mk_tar_checksum(const uint8_t hdr[MK_TAR_BLOCK])
{
    uint32_t sum = 0;
    for (size_t i = 0; i < MK_TAR_BLOCK; i++)
        sum += (i >= TAR_CHKSUM && i < TAR_CHKSUM + 8) ? (uint32_t)' ' : hdr[i];
    return sum;
}

/* A member name we accept: printable, relative, no "..", no empty path parts. */
static bool mk_tar_name_ok(const char *name, size_t n)
{
    if (n == 0 || name[0] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c == '.' && i + 1 < n && name[i + 1] == '.' && (i == 0 || name[i - 1] == '/') &&
            (i + 2 == n || name[i + 2] == '/'))
            return false;
    }
    return true;
}

enum mk_err mk_tar_parse_header(const uint8_t hdr[MK_TAR_BLOCK], uint64_t hdr_off,
                                struct mk_tar_entry *e)
{
    bool zero = true;
    for (size_t i = 0; i < MK_TAR_BLOCK && zero; i++)
        zero = hdr[i] == 0;
    if (zero)
        return MK_E_NOENT;
    uint64_t sum;
    if (mk_tar_octal(hdr + TAR_CHKSUM, 8, &sum) != MK_OK || sum != mk_tar_checksum(hdr))
        return MK_E_FORMAT;
    /* "ustar\0" "00" (POSIX) or "ustar " " \0" (old GNU): both have the size field. */
    if (memcmp(hdr + TAR_MAGIC, "ustar", 5) != 0)
        return MK_E_FORMAT;
    if (hdr[TAR_PREFIX] != '\0')
        return MK_E_FORMAT; /* long names: not used by packages */
    size_t n = 0;
    while (n < 100 && hdr[TAR_NAME + n] != '\0')
        n++;
    if (!mk_tar_name_ok((const char *)hdr + TAR_NAME, n))
        return MK_E_FORMAT;
    uint64_t size;
    if (mk_tar_octal(hdr + TAR_SIZE, 12, &size) != MK_OK)
        return MK_E_FORMAT;
    memset(e, 0, sizeof *e);
    memcpy(e->name, hdr + TAR_NAME, n);
    e->name[n] = '\0';
    e->type = hdr[TAR_TYPE] == '\0' ? '0' : (char)hdr[TAR_TYPE];
    e->size = size;
    e->data_off = hdr_off + MK_TAR_BLOCK;
    return MK_OK;
}

enum mk_err mk_tar_build_header(uint8_t hdr[MK_TAR_BLOCK], const char *name, uint64_t size,
                                uint64_t mtime)
{
    size_t n = strlen(name);
    if (n > 100 || !mk_tar_name_ok(name, n))
        return MK_E_INVAL;
    memset(hdr, 0, MK_TAR_BLOCK);
    memcpy(hdr + TAR_NAME, name, n);
    if (mk_tar_put_octal(hdr + TAR_MODE, 8, 0644) != MK_OK ||
        mk_tar_put_octal(hdr + TAR_UID, 8, 0) != MK_OK ||
        mk_tar_put_octal(hdr + TAR_GID, 8, 0) != MK_OK ||
        mk_tar_put_octal(hdr + TAR_SIZE, 12, size) != MK_OK ||
        mk_tar_put_octal(hdr + TAR_MTIME, 12, mtime) != MK_OK)
        return MK_E_INVAL;
    hdr[TAR_TYPE] = '0';
    memcpy(hdr + TAR_MAGIC, "ustar", 6); /* with its NUL */
    memcpy(hdr + TAR_VERSION, "00", 2);
    memcpy(hdr + TAR_UNAME, "root", 4);
    memcpy(hdr + TAR_GNAME, "root", 4);
    /* checksum: six octal digits, NUL, space (the traditional layout) */
    uint32_t sum = mk_tar_checksum(hdr);
    mk_tar_put_octal(hdr + TAR_CHKSUM, 7, sum);
    hdr[TAR_CHKSUM + 7] = ' ';
    return MK_OK;
}

uint32_t mk_tar_padding(uint64_t size)
{
    return (uint32_t)((MK_TAR_BLOCK - (size % MK_TAR_BLOCK)) % MK_TAR_BLOCK);
}
