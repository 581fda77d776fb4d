#include "modemkit/cwe_build.h"

#include <string.h>

#include "modemkit/bytes.h"
#include "modemkit/crc.h"
#include "modemkit/str.h"

void mk_cwe_header_defaults(struct mk_cwe_header *h, const char *type, const char *product,
                            const char *version)
{
    memset(h, 0, sizeof *h);
    /* Too-long strings are kept too long (one char over the field) so that begin()
     * rejects them instead of silently cutting. */
    (void)mk_strlcpy(h->type, type, sizeof h->type);
    (void)mk_strlcpy(h->product, product, sizeof h->product);
    (void)mk_strlcpy(h->version, version, sizeof h->version);
    if (strlen(type) >= sizeof h->type || strlen(product) >= sizeof h->product ||
        strlen(version) >= sizeof h->version)
        h->type[0] = '\0'; /* marks the header invalid: begin() fails */
    (void)mk_strlcpy(h->rel_date, "01/02/23", sizeof h->rel_date);
    h->hdr_rev = 3;
    h->crc_ind = MK_CWE_CRC_IND_GOOD;
    h->stor_addr = 0xFFFFFFFFu;
    h->signature = strcmp(type, "APPL") == 0 ? 1u : 0u; /* LK checks it for APPL */
}

void mk_cwe_build_init(struct mk_cwe_build *b, uint8_t *buf, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->buf = buf;
    b->cap = buf ? cap : 0;
}

/* Room for n more bytes? Sets the sticky error when not. Count-only mode always fits. */
static bool cb_room(struct mk_cwe_build *b, size_t n)
{
    if (b->err)
        return false;
    if (b->buf && n > b->cap - b->len) {
        b->err = MK_E_NOSPC;
        return false;
    }
    return true;
}

void mk_cwe_build_begin(struct mk_cwe_build *b, const struct mk_cwe_header *h, const uint8_t *psb)
{
    if (b->depth >= MK_CWE_MAX_DEPTH && !b->err)
        b->err = MK_E_INVAL;
    if (h->type[0] == '\0' && !b->err)
        b->err = MK_E_INVAL; /* see mk_cwe_header_defaults() */
    if (!cb_room(b, MK_CWE_HDR_LEN))
        return;
    if (b->buf) {
        enum mk_err err = mk_cwe_header_encode(h, psb, b->buf + b->len);
        if (err) {
            b->err = err;
            return;
        }
    }
    b->open[b->depth++] = b->len;
    b->len += MK_CWE_HDR_LEN;
}

void mk_cwe_build_data(struct mk_cwe_build *b, const void *data, size_t len)
{
    if (!cb_room(b, len))
        return;
    if (b->buf && len)
        memcpy(b->buf + b->len, data, len);
    b->len += len;
}

void mk_cwe_build_fill(struct mk_cwe_build *b, uint32_t seed, size_t len)
{
    if (!cb_room(b, len))
        return;
    if (b->buf) {
        uint32_t x = seed * 2654435761u + 0x9E3779B9u;
        if (x == 0)
            x = 1;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; /* xorshift32 */
            x ^= x >> 17;
            x ^= x << 5;
            b->buf[b->len + i] = (uint8_t)(x >> 24);
        }
    }
    b->len += len;
}

/* A function, so that a 32-bit size_t does not make the test "always false" (-Wtype-limits). */
static bool cb_fits_u32(uint64_t v)
{
    return v <= UINT32_MAX;
}

void mk_cwe_build_end(struct mk_cwe_build *b)
{
    if (b->err)
        return;
    if (b->depth == 0) {
        b->err = MK_E_STATE;
        return;
    }
    size_t hdr = b->open[--b->depth];
    size_t payload = b->len - hdr - MK_CWE_HDR_LEN;
    if (!cb_fits_u32(payload) || payload == 0) {
        b->err = MK_E_INVAL; /* image_sz is a u32, and 0 means "no image" to libqmi */
        return;
    }
    if (b->buf) {
        uint8_t *raw = b->buf + hdr;
        mk_put_be32(raw + 0x114, (uint32_t)payload);
        mk_put_be32(raw + 0x118, mk_crc32_cwe(raw + MK_CWE_HDR_LEN, payload));
    }
}

enum mk_err mk_cwe_build_finish(struct mk_cwe_build *b, size_t *len)
{
    if (!b->err && b->depth)
        b->err = MK_E_STATE;
    if (!b->err)
        *len = b->len;
    return b->err;
}

/* "<a>_<b>[_00_<c>_<d>]" into a version field. */
static void cb_version(char *out, size_t cap, const char *prefix, const char *fw,
                       const char *carrier, const char *config)
{
    struct mk_sb sb;
    mk_sb_init(&sb, out, cap);
    mk_sb_puts(&sb, prefix);
    mk_sb_putc(&sb, '_');
    mk_sb_puts(&sb, fw);
    if (carrier && config) {
        mk_sb_puts(&sb, "_00_");
        mk_sb_puts(&sb, carrier);
        mk_sb_putc(&sb, '_');
        mk_sb_puts(&sb, config);
    }
    if (mk_sb_err(&sb))
        out[0] = '\0';
}

/* One image holding a composite wrapper (if wrap_type) around a leaf of len bytes. */
static void cb_component(struct mk_cwe_build *b, const struct mk_cwe_package *p,
                         const char *wrap_type, const char *leaf_type, const char *version,
                         size_t len, uint32_t seed)
{
    struct mk_cwe_header h;
    mk_cwe_header_defaults(&h, wrap_type, p->product, version);
    mk_cwe_build_begin(b, &h, NULL);
    mk_cwe_header_defaults(&h, leaf_type, p->product, version);
    mk_cwe_build_begin(b, &h, NULL);
    mk_cwe_build_fill(b, seed, len);
    mk_cwe_build_end(b);
    mk_cwe_build_end(b);
}

void mk_cwe_build_package(struct mk_cwe_build *b, const struct mk_cwe_package *p)
{
    char full[MK_CWE_VERSION_LEN + 2], dev[MK_CWE_VERSION_LEN + 2];
    cb_version(full, sizeof full, p->sku, p->firmware, p->carrier, p->config);
    cb_version(dev, sizeof dev, p->device, p->firmware, NULL, NULL);
    const char *nvup_version = p->nvup_version ? p->nvup_version : full;
    struct mk_cwe_header h;

    if (p->top_type && strcmp(p->top_type, "NVUP") == 0) {
        mk_cwe_header_defaults(&h, "NVUP", p->product,
                               p->top_version ? p->top_version : nvup_version);
        mk_cwe_build_begin(b, &h, NULL);
        mk_cwe_build_fill(b, p->seed + 4, p->nvup_len);
        mk_cwe_build_end(b);
        return;
    }
    mk_cwe_header_defaults(&h, p->top_type ? p->top_type : "SPKG", p->product,
                           p->top_version ? p->top_version : full);
    mk_cwe_build_begin(b, &h, NULL);
    if (p->boot_len)
        cb_component(b, p, "BOOT", "SBL1", p->boot_version ? p->boot_version : dev, p->boot_len,
                     p->seed + 1);
    if (p->appl_len)
        cb_component(b, p, "APPL", "APPS", dev, p->appl_len, p->seed + 2);
    if (p->modm_len)
        cb_component(b, p, "MODM", "AMSS", dev, p->modm_len, p->seed + 3);
    if (p->nvup_len) {
        mk_cwe_header_defaults(&h, "NVUP", p->product, nvup_version);
        mk_cwe_build_begin(b, &h, NULL);
        mk_cwe_build_fill(b, p->seed + 4, p->nvup_len);
        mk_cwe_build_end(b);
    }
    mk_cwe_build_end(b);
}
