/*
 * CWE image parser. Headers are read one at a time through the caller's reader; payload
 * CRCs of all nested images are computed in one sequential pass, each chunk updating
 * every image whose payload covers it.
 */
#include "modemkit/cwe.h"

#include <string.h>

#include "modemkit/bytes.h"
#include "modemkit/crc.h"
#include "modemkit/str.h"

/* Field offsets, §4.1 (LK sierra_cweudefs.h CWE_OFFSET_*). */
enum {
    CWE_PSB_CRC = 0x100,
    CWE_HDR_REV = 0x104,
    CWE_CRC_IND = 0x108,
    CWE_TYPE = 0x10C,
    CWE_PRODUCT = 0x110,
    CWE_IMAGE_SZ = 0x114,
    CWE_IMAGE_CRC = 0x118,
    CWE_VERSION = 0x11C,
    CWE_REL_DATE = 0x170,
    CWE_COMPAT = 0x178,
    CWE_MISC_OPTS = 0x17C,
    CWE_RESERVED = 0x17D,
    CWE_STOR_ADDR = 0x180,
    CWE_PROG_ADDR = 0x184,
    CWE_ENTRY_PT = 0x188,
    CWE_SIGNATURE = 0x18C,
};

static void cwe_copy_str(char *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void mk_cwe_header_decode(const uint8_t *raw, struct mk_cwe_header *h)
{
    h->psb_crc = mk_get_be32(raw + CWE_PSB_CRC);
    h->hdr_rev = mk_get_be32(raw + CWE_HDR_REV);
    h->crc_ind = mk_get_be32(raw + CWE_CRC_IND);
    cwe_copy_str(h->type, raw + CWE_TYPE, 4);
    cwe_copy_str(h->product, raw + CWE_PRODUCT, 4);
    h->image_sz = mk_get_be32(raw + CWE_IMAGE_SZ);
    h->image_crc = mk_get_be32(raw + CWE_IMAGE_CRC);
    cwe_copy_str(h->version, raw + CWE_VERSION, MK_CWE_VERSION_LEN);
    cwe_copy_str(h->rel_date, raw + CWE_REL_DATE, MK_CWE_DATE_LEN);
    h->compat = mk_get_be32(raw + CWE_COMPAT);
    h->misc_opts = raw[CWE_MISC_OPTS];
    memcpy(h->reserved, raw + CWE_RESERVED, 3);
    h->stor_addr = mk_get_be32(raw + CWE_STOR_ADDR);
    h->prog_addr = mk_get_be32(raw + CWE_PROG_ADDR);
    h->entry_pt = mk_get_be32(raw + CWE_ENTRY_PT);
    h->signature = mk_get_be32(raw + CWE_SIGNATURE);
}

/* Copy a NUL-terminated string into a NUL-padded field; false if it does not fit. */
static bool cwe_put_str(uint8_t *dst, const char *s, size_t n)
{
    size_t len = strlen(s);
    if (len > n)
        return false;
    memset(dst, 0, n);
    memcpy(dst, s, len);
    return true;
}

enum mk_err mk_cwe_header_encode(const struct mk_cwe_header *h, const uint8_t *psb, uint8_t *raw)
{
    memset(raw, 0, MK_CWE_HDR_LEN);
    if (psb)
        memcpy(raw, psb, MK_CWE_PSB_LEN);
    if (!cwe_put_str(raw + CWE_TYPE, h->type, 4) ||
        !cwe_put_str(raw + CWE_PRODUCT, h->product, 4) ||
        !cwe_put_str(raw + CWE_VERSION, h->version, MK_CWE_VERSION_LEN) ||
        !cwe_put_str(raw + CWE_REL_DATE, h->rel_date, MK_CWE_DATE_LEN))
        return MK_E_INVAL;
    mk_put_be32(raw + CWE_PSB_CRC, mk_crc32_cwe(raw, MK_CWE_PSB_LEN));
    mk_put_be32(raw + CWE_HDR_REV, h->hdr_rev);
    mk_put_be32(raw + CWE_CRC_IND, h->crc_ind);
    mk_put_be32(raw + CWE_IMAGE_SZ, h->image_sz);
    mk_put_be32(raw + CWE_IMAGE_CRC, h->image_crc);
    mk_put_be32(raw + CWE_COMPAT, h->compat);
    raw[CWE_MISC_OPTS] = h->misc_opts;
    memcpy(raw + CWE_RESERVED, h->reserved, 3);
    mk_put_be32(raw + CWE_STOR_ADDR, h->stor_addr);
    mk_put_be32(raw + CWE_PROG_ADDR, h->prog_addr);
    mk_put_be32(raw + CWE_ENTRY_PT, h->entry_pt);
    mk_put_be32(raw + CWE_SIGNATURE, h->signature);
    return MK_OK;
}

enum mk_err mk_cwe_psb_entry(const uint8_t *raw, unsigned i, struct mk_cwe_psb_entry *out)
{
    if (i > 7)
        return MK_E_INVAL;
    const uint8_t *d = raw + 32u * i;
    out->descriptor_version = d[0];
    out->type = d[1];
    out->flag = d[2];
    out->reserved = d[3];
    out->offset = mk_get_be32(d + 4);
    out->size = mk_get_be32(d + 8);
    cwe_copy_str(out->source_version, d + 12, 16);
    out->reserved2 = mk_get_be32(d + 28);
    return MK_OK;
}

bool mk_cwe_psb_crc_ok(const uint8_t *raw)
{
    return mk_crc32_cwe(raw, MK_CWE_PSB_LEN) == mk_get_be32(raw + CWE_PSB_CRC);
}

/* Printable ASCII, then only NULs (libqmi is_ascii_str). */
static bool cwe_ascii_field(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i < n && p[i]; i++)
        if (p[i] < 0x20 || p[i] > 0x7E)
            return false;
    for (; i < n; i++)
        if (p[i])
            return false;
    return true;
}

bool mk_cwe_header_plausible(const uint8_t *raw)
{
    return mk_get_be32(raw + CWE_IMAGE_SZ) != 0 && cwe_ascii_field(raw + CWE_TYPE, 4) &&
           cwe_ascii_field(raw + CWE_PRODUCT, 4) &&
           cwe_ascii_field(raw + CWE_VERSION, MK_CWE_VERSION_LEN) &&
           cwe_ascii_field(raw + CWE_REL_DATE, MK_CWE_DATE_LEN);
}

/* LK's list (QPAR..LRAM) plus Legato's additions (CUS0..DCFG), §4.3. */
static const char cwe_types[] = "QPARSBL1SBL2DSP1DSP2DSP3QRPMBOOTAPPLOSBLAMSSAPPSAPBLNVBF"
                                "NVBONVBUEXECSWOCFOTOFILESPKGMODMSYSTUSERHDATNVBCSPLANVUP"
                                "QMBATZONQSDIARCHUAPPLRAMCUS0CUS1CUS2HASHMETACUSGKEYSDCFG";

int mk_cwe_type_index(const char *type)
{
    if (strlen(type) != 4)
        return -1;
    for (size_t i = 0; i + 4 <= sizeof cwe_types - 1; i += 4)
        if (memcmp(cwe_types + i, type, 4) == 0)
            return (int)(i / 4);
    return -1;
}

bool mk_cwe_type_is_composite(const char *type)
{
    /* Legato treats these as containers of further CWE images (§4.4). */
    return !strcmp(type, "APPL") || !strcmp(type, "MODM") || !strcmp(type, "SPKG") ||
           !strcmp(type, "BOOT");
}

/* ---- version strings ---- */

static bool cwe_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* s[i..) matches the pattern, where 'd' is a digit and any other char itself. */
static bool cwe_match(const char *s, size_t n, size_t i, const char *pat)
{
    for (; *pat; pat++, i++) {
        if (i >= n)
            return false;
        if (*pat == 'd' ? !cwe_digit(s[i]) : s[i] != *pat)
            return false;
    }
    return true;
}

static bool cwe_carrier_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool mk_cwe_parse_version(const char *s, size_t len, char *fw, char *config, char *carrier,
                          size_t carrier_cap)
{
    size_t n = 0;
    while (n < len && s[n])
        n++;
    /* Firmware: the last "_NN.NN.NN.NN" (libqmi's leading greedy ".*"). */
    size_t f = n;
    for (size_t i = n; i-- > 0;) {
        if (cwe_match(s, n, i, "_dd.dd.dd.dd")) {
            f = i;
            break;
        }
    }
    if (f == n)
        return false;
    if (fw && !fw[0])
        cwe_copy_str(fw, (const uint8_t *)s + f + 1, 11);
    /* Carrier and config: the last "_<letters/->_NNN.NNN_NNN" after the firmware. */
    for (size_t k = n; k-- > f + 12;) {
        if (s[k] != '_')
            continue;
        size_t j = k + 1;
        while (j < n && cwe_carrier_char(s[j]))
            j++;
        if (j == k + 1 || !cwe_match(s, n, j, "_ddd.ddd_ddd"))
            continue;
        if (config && !config[0])
            cwe_copy_str(config, (const uint8_t *)s + j + 1, 11);
        if (carrier && !carrier[0] && j - (k + 1) < carrier_cap)
            cwe_copy_str(carrier, (const uint8_t *)s + k + 1, j - (k + 1));
        break;
    }
    return true;
}

/* ---- the walk ---- */

enum mk_err mk_cwe_mem_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
    const struct mk_cwe_mem *m = ctx;
    if (offset > m->len || len > m->len - offset)
        return MK_E_IO;
    memcpy(buf, m->data + offset, len);
    return MK_OK;
}

static enum mk_err cwe_fail(struct mk_cwe_info *info, enum mk_cwe_problem p, int idx, uint64_t off,
                            enum mk_err err)
{
    info->problem = p;
    info->fail_index = idx;
    info->fail_offset = off;
    if (idx >= 0)
        memcpy(info->fail_type, info->images[idx].hdr.type, sizeof info->fail_type);
    return err;
}

static uint64_t cwe_end(const struct mk_cwe_image *img)
{
    return img->offset + MK_CWE_HDR_LEN + img->hdr.image_sz;
}

/* Append the image whose header is in raw; checks capacity and the PSB CRC. */
static enum mk_err cwe_add(struct mk_cwe_info *info, const uint8_t *raw, uint64_t off, int parent)
{
    if (info->count == info->cap)
        return cwe_fail(info, MK_CWE_TOO_MANY, parent, off, MK_E_NOSPC);
    struct mk_cwe_image *img = &info->images[info->count];
    memset(img, 0, sizeof *img);
    mk_cwe_header_decode(raw, &img->hdr);
    img->offset = off;
    img->parent = parent;
    img->depth = parent < 0 ? 0 : info->images[parent].depth + 1;
    img->psb_crc_ok = mk_cwe_psb_crc_ok(raw);
    int idx = (int)info->count++;
    if (parent >= 0)
        info->images[parent].children++;
    if (!img->psb_crc_ok) {
        info->expected = img->hdr.psb_crc;
        info->actual = mk_crc32_cwe(raw, MK_CWE_PSB_LEN);
        return cwe_fail(info, MK_CWE_PSB_CRC, idx, off, MK_E_IMAGE_CRC);
    }
    return MK_OK;
}

static enum mk_err cwe_read(const struct mk_cwe_reader *rd, struct mk_cwe_info *info, uint64_t off,
                            uint8_t *buf, size_t len)
{
    enum mk_err err = rd->read(rd->ctx, off, buf, len);
    if (err)
        return cwe_fail(info, MK_CWE_READ_FAILED, -1, off, err);
    return MK_OK;
}

/* Depth-first walk of the nested images (pre-order, as libqmi lists them). Headers are
 * only read below rd->size, so a truncated file can be walked as far as it goes. */
static enum mk_err cwe_walk(const struct mk_cwe_reader *rd, uint8_t *raw, struct mk_cwe_info *info)
{
    struct {
        size_t idx;
        uint64_t pos; /* where the next child header would start */
    } stack[MK_CWE_MAX_DEPTH + 1];
    int sp = 0;
    stack[0].idx = 0;
    stack[0].pos = MK_CWE_HDR_LEN;
    while (sp >= 0) {
        const struct mk_cwe_image *img = &info->images[stack[sp].idx];
        uint64_t end = cwe_end(img), pos = stack[sp].pos;
        bool composite = mk_cwe_type_is_composite(img->hdr.type);
        if (end - pos >= MK_CWE_HDR_LEN && pos + MK_CWE_HDR_LEN <= rd->size) {
            enum mk_err err = cwe_read(rd, info, pos, raw, MK_CWE_HDR_LEN);
            if (err)
                return err;
            uint64_t child_end = pos + MK_CWE_HDR_LEN + mk_get_be32(raw + CWE_IMAGE_SZ);
            if (mk_cwe_header_plausible(raw) && child_end <= end &&
                (composite || mk_cwe_psb_crc_ok(raw))) {
                if (sp + 1 > (int)MK_CWE_MAX_DEPTH)
                    return cwe_fail(info, MK_CWE_TOO_DEEP, (int)stack[sp].idx, img->offset,
                                    MK_E_IMAGE);
                err = cwe_add(info, raw, pos, (int)stack[sp].idx);
                if (err)
                    return err;
                stack[sp].pos = child_end;
                sp++;
                stack[sp].idx = info->count - 1;
                stack[sp].pos = pos + MK_CWE_HDR_LEN;
                continue;
            }
        }
        if (pos != end && (img->children > 0 || composite)) {
            info->expected = end;
            info->actual = pos;
            return cwe_fail(info, MK_CWE_BAD_NESTING, (int)stack[sp].idx, img->offset, MK_E_IMAGE);
        }
        sp--;
    }
    return MK_OK;
}

/* All payload CRCs in one pass over [400, size). */
static enum mk_err cwe_crc_pass(const struct mk_cwe_reader *rd, uint8_t *buf, size_t cap,
                                struct mk_cwe_info *info)
{
    for (size_t i = 0; i < info->count; i++)
        info->images[i].crc_calc = MK_CRC32_INIT;
    for (uint64_t off = MK_CWE_HDR_LEN; off < rd->size;) {
        size_t n = cap;
        if ((uint64_t)n > rd->size - off)
            n = (size_t)(rd->size - off);
        enum mk_err err = cwe_read(rd, info, off, buf, n);
        if (err)
            return err;
        for (size_t i = 0; i < info->count; i++) {
            struct mk_cwe_image *img = &info->images[i];
            uint64_t ps = img->offset + MK_CWE_HDR_LEN, pe = cwe_end(img);
            uint64_t a = ps > off ? ps : off, b = pe < off + n ? pe : off + n;
            if (a < b)
                img->crc_calc = mk_crc32_update(img->crc_calc, buf + (a - off), (size_t)(b - a));
        }
        off += n;
    }
    int worst = -1;
    for (size_t i = 0; i < info->count; i++) {
        struct mk_cwe_image *img = &info->images[i];
        /* CWE CRC: no final xor, the running state is the result. */
        img->crc_checked = true;
        img->crc_ok = img->crc_calc == img->hdr.image_crc;
        if (!img->crc_ok && (worst < 0 || img->depth > info->images[worst].depth))
            worst = (int)i;
    }
    if (worst >= 0) {
        info->expected = info->images[worst].hdr.image_crc;
        info->actual = info->images[worst].crc_calc;
        return cwe_fail(info, MK_CWE_PAYLOAD_CRC, worst, info->images[worst].offset,
                        MK_E_IMAGE_CRC);
    }
    return MK_OK;
}

/* libqmi's lookup order (parse_firmware_config_carrier, §4.5). */
static void cwe_versions(const struct mk_cwe_reader *rd, struct mk_cwe_info *info)
{
    char *fw = info->firmware, *cfg = info->config, *car = info->carrier;
    size_t ccap = sizeof info->carrier;
#define CWE_ALL_FOUND (fw[0] && cfg[0] && car[0])
    const struct mk_cwe_header *top = &info->images[0].hdr;
    mk_cwe_parse_version(top->version, sizeof top->version, fw, cfg, car, ccap);
    if (!CWE_ALL_FOUND && rd->name)
        mk_cwe_parse_version(rd->name, strlen(rd->name), fw, cfg, car, ccap);
    for (size_t i = 0; i < info->count && !CWE_ALL_FOUND; i++) {
        const struct mk_cwe_header *h = &info->images[i].hdr;
        if (!strcmp(h->type, "BOOT")) /* system images: firmware only */
            mk_cwe_parse_version(h->version, sizeof h->version, fw, NULL, NULL, 0);
        if (!strcmp(h->type, "NVUP")) /* carrier packages */
            mk_cwe_parse_version(h->version, sizeof h->version, fw, cfg, car, ccap);
    }
#undef CWE_ALL_FOUND
}

enum mk_err mk_cwe_parse(const struct mk_cwe_reader *rd, uint8_t *scratch, size_t scratch_cap,
                         unsigned flags, struct mk_cwe_info *info)
{
    info->count = 0;
    info->firmware[0] = info->config[0] = info->carrier[0] = '\0';
    info->problem = MK_CWE_FINE;
    info->fail_index = -1;
    info->fail_offset = 0;
    info->fail_type[0] = '\0';
    info->expected = info->actual = 0;
    if (scratch_cap < MK_CWE_HDR_LEN || !info->images || info->cap == 0)
        return MK_E_INVAL;

    if (rd->size < MK_CWE_HDR_LEN) {
        info->expected = MK_CWE_HDR_LEN;
        info->actual = rd->size;
        return cwe_fail(info, MK_CWE_TOO_SHORT, -1, 0, MK_E_IMAGE);
    }
    enum mk_err err = cwe_read(rd, info, 0, scratch, MK_CWE_HDR_LEN);
    if (err)
        return err;
    if (!mk_cwe_header_plausible(scratch))
        return cwe_fail(info, MK_CWE_NOT_CWE, -1, 0, MK_E_IMAGE);
    uint64_t want = (uint64_t)MK_CWE_HDR_LEN + mk_get_be32(scratch + CWE_IMAGE_SZ);
    err = cwe_add(info, scratch, 0, -1);
    /* The size is checked before the PSB so that a truncated file says "truncated". */
    if (rd->size < want) {
        /* Name the innermost image the cut falls into: walk what the file holds (errors of
         * that walk are consequences of the cut) and take the deepest image that ends
         * past the end of the file. */
        (void)cwe_walk(rd, scratch, info);
        size_t cut = 0;
        for (size_t i = 1; i < info->count; i++)
            if (cwe_end(&info->images[i]) > rd->size &&
                info->images[i].depth > info->images[cut].depth)
                cut = i;
        info->expected = cwe_end(&info->images[cut]);
        info->actual = rd->size;
        return cwe_fail(info, MK_CWE_TRUNCATED, (int)cut, info->images[cut].offset, MK_E_IMAGE);
    }
    if (rd->size > want) {
        info->expected = want;
        info->actual = rd->size;
        return cwe_fail(info, MK_CWE_TRAILING_DATA, 0, 0, MK_E_IMAGE);
    }
    if (err)
        return err;
    err = cwe_walk(rd, scratch, info);
    if (err)
        return err;
    cwe_versions(rd, info);
    if (flags & MK_CWE_NO_PAYLOAD_CRC)
        return MK_OK;
    return cwe_crc_pass(rd, scratch, scratch_cap, info);
}

/* ---- reporting ---- */

const char *mk_cwe_problem_name(enum mk_cwe_problem p)
{
    switch (p) {
    case MK_CWE_FINE:
        return "no problem";
    case MK_CWE_TOO_SHORT:
        return "file shorter than a CWE header";
    case MK_CWE_NOT_CWE:
        return "not a CWE image";
    case MK_CWE_TRUNCATED:
        return "file truncated";
    case MK_CWE_TRAILING_DATA:
        return "data after the end of the image";
    case MK_CWE_BAD_NESTING:
        return "nested images do not fill the payload";
    case MK_CWE_TOO_DEEP:
        return "images nested too deep";
    case MK_CWE_TOO_MANY:
        return "too many nested images";
    case MK_CWE_PSB_CRC:
        return "header (PSB) CRC mismatch";
    case MK_CWE_PAYLOAD_CRC:
        return "payload CRC mismatch";
    case MK_CWE_READ_FAILED:
        return "read failed";
    }
    return "?";
}

/* "0.1.2": position of image idx in the tree, as libqmi prints it. */
static void cwe_put_path(struct mk_sb *sb, const struct mk_cwe_info *info, int idx)
{
    unsigned path[MK_CWE_MAX_DEPTH + 1];
    unsigned n = 0;
    for (int i = idx; i >= 0 && n <= MK_CWE_MAX_DEPTH; i = info->images[i].parent) {
        unsigned ordinal = 0;
        for (int j = 0; j < i; j++)
            if (info->images[j].parent == info->images[i].parent)
                ordinal++;
        path[n++] = ordinal;
    }
    while (n--) {
        mk_sb_putu(sb, path[n]);
        if (n)
            mk_sb_putc(sb, '.');
    }
}

enum mk_err mk_cwe_describe_problem(const struct mk_cwe_info *info, char *buf, size_t cap)
{
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    if (info->fail_index >= 0) {
        mk_sb_puts(&sb, info->fail_type[0] ? info->fail_type : "(untyped)");
        mk_sb_puts(&sb, " image ");
        cwe_put_path(&sb, info, info->fail_index);
        mk_sb_puts(&sb, " at offset ");
        mk_sb_putu(&sb, info->fail_offset);
        mk_sb_puts(&sb, ": ");
    } else if (info->problem != MK_CWE_FINE) {
        mk_sb_puts(&sb, "at offset ");
        mk_sb_putu(&sb, info->fail_offset);
        mk_sb_puts(&sb, ": ");
    }
    mk_sb_puts(&sb, mk_cwe_problem_name(info->problem));
    switch (info->problem) {
    case MK_CWE_PSB_CRC:
    case MK_CWE_PAYLOAD_CRC:
        mk_sb_puts(&sb, " (stored 0x");
        mk_sb_puthex(&sb, info->expected, 8);
        mk_sb_puts(&sb, ", computed 0x");
        mk_sb_puthex(&sb, info->actual, 8);
        mk_sb_putc(&sb, ')');
        break;
    case MK_CWE_TOO_SHORT:
        mk_sb_puts(&sb, " (a header is 400 bytes, the file has ");
        mk_sb_putu(&sb, info->actual);
        mk_sb_putc(&sb, ')');
        break;
    case MK_CWE_TRUNCATED:
    case MK_CWE_TRAILING_DATA:
        mk_sb_puts(&sb, " (the image ends at byte ");
        mk_sb_putu(&sb, info->expected);
        mk_sb_puts(&sb, ", the file at ");
        mk_sb_putu(&sb, info->actual);
        mk_sb_putc(&sb, ')');
        break;
    case MK_CWE_BAD_NESTING:
        mk_sb_puts(&sb, " (no image header at offset ");
        mk_sb_putu(&sb, info->actual);
        mk_sb_puts(&sb, ", payload ends at ");
        mk_sb_putu(&sb, info->expected);
        mk_sb_putc(&sb, ')');
        break;
    default:
        break;
    }
    return mk_sb_err(&sb);
}
