/*
 * Firehose codec: document builders, a stream parser that works on elements (not on
 * regular expressions over whole reads, which is what broke peers on split reads), and a
 * small quote-aware attribute scanner.
 */
#include "modemkit/firehose.h"

#include <string.h>

#include "modemkit/str.h"

/* ---- builders ---- */

static void fh_begin(struct mk_sb *sb, char *buf, size_t cap, const char *tag)
{
    mk_sb_init(sb, buf, cap);
    mk_sb_puts(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<data>\n<");
    mk_sb_puts(sb, tag);
}

static void fh_put_escaped(struct mk_sb *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            mk_sb_puts(sb, "&amp;");
            break;
        case '<':
            mk_sb_puts(sb, "&lt;");
            break;
        case '>':
            mk_sb_puts(sb, "&gt;");
            break;
        case '"':
            mk_sb_puts(sb, "&quot;");
            break;
        case '\'':
            mk_sb_puts(sb, "&apos;");
            break;
        default:
            mk_sb_putc(sb, *s);
            break;
        }
    }
}

/* name="value"; a NULL value omits the attribute. */
static void fh_attr(struct mk_sb *sb, const char *name, const char *value)
{
    if (!value)
        return;
    mk_sb_putc(sb, ' ');
    mk_sb_puts(sb, name);
    mk_sb_puts(sb, "=\"");
    fh_put_escaped(sb, value);
    mk_sb_putc(sb, '"');
}

static void fh_attr_u(struct mk_sb *sb, const char *name, uint64_t v)
{
    mk_sb_putc(sb, ' ');
    mk_sb_puts(sb, name);
    mk_sb_puts(sb, "=\"");
    mk_sb_putu(sb, v);
    mk_sb_putc(sb, '"');
}

static void fh_attr_bool(struct mk_sb *sb, const char *name, bool v)
{
    fh_attr(sb, name, v ? "1" : "0");
}

static enum mk_err fh_end(struct mk_sb *sb, size_t *out_len)
{
    /* No newline after </data>: over a byte stream the receiver cannot tell it from the
     * raw data that follows a <program> (a USB transfer boundary would). */
    mk_sb_puts(sb, " />\n</data>");
    enum mk_err err = mk_sb_err(sb);
    if (!err)
        *out_len = sb->len;
    return err;
}

enum mk_err mk_firehose_build(char *buf, size_t cap, const char *tag,
                              const struct mk_firehose_attr *attrs, size_t n, size_t *out_len)
{
    struct mk_sb sb;
    fh_begin(&sb, buf, cap, tag);
    for (size_t i = 0; i < n; i++)
        fh_attr(&sb, attrs[i].name, attrs[i].value);
    return fh_end(&sb, out_len);
}

enum mk_err mk_firehose_build_configure(char *buf, size_t cap,
                                        const struct mk_firehose_configure *c, size_t *out_len)
{
    struct mk_sb sb;
    fh_begin(&sb, buf, cap, "configure");
    fh_attr(&sb, "MemoryName", c->memory_name);
    fh_attr_u(&sb, "MaxPayloadSizeToTargetInBytes", c->max_payload_to_target);
    fh_attr_bool(&sb, "Verbose", c->verbose);
    fh_attr_bool(&sb, "ZlpAwareHost", c->zlp_aware_host);
    fh_attr_bool(&sb, "SkipStorageInit", c->skip_storage_init);
    if (c->always_validate)
        fh_attr_bool(&sb, "AlwaysValidate", true);
    if (c->skip_write)
        fh_attr_bool(&sb, "SkipWrite", true);
    if (c->max_digest_table_size)
        fh_attr_u(&sb, "MaxDigestTableSizeInBytes", c->max_digest_table_size);
    fh_attr(&sb, "TargetName", c->target_name);
    if (c->pages_per_block)
        fh_attr_u(&sb, "PAGES_PER_BLOCK", c->pages_per_block);
    return fh_end(&sb, out_len);
}

static enum mk_err fh_region(char *buf, size_t cap, const char *tag,
                             const struct mk_firehose_region *r, size_t *out_len)
{
    struct mk_sb sb;
    fh_begin(&sb, buf, cap, tag);
    if (r->pages_per_block)
        fh_attr_u(&sb, "PAGES_PER_BLOCK", r->pages_per_block);
    fh_attr_u(&sb, "SECTOR_SIZE_IN_BYTES", r->sector_size);
    fh_attr(&sb, "filename", r->filename);
    fh_attr(&sb, "label", r->label);
    fh_attr(&sb, "last_sector", r->last_sector);
    fh_attr_u(&sb, "num_partition_sectors", r->num_sectors);
    fh_attr_u(&sb, "physical_partition_number", r->physical_partition);
    fh_attr(&sb, "start_sector", r->start_sector ? r->start_sector : "0");
    return fh_end(&sb, out_len);
}

enum mk_err mk_firehose_build_program(char *buf, size_t cap, const struct mk_firehose_region *r,
                                      size_t *out_len)
{
    return fh_region(buf, cap, "program", r, out_len);
}

enum mk_err mk_firehose_build_read(char *buf, size_t cap, const struct mk_firehose_region *r,
                                   size_t *out_len)
{
    return fh_region(buf, cap, "read", r, out_len);
}

enum mk_err mk_firehose_build_erase(char *buf, size_t cap, const struct mk_firehose_region *r,
                                    size_t *out_len)
{
    return fh_region(buf, cap, "erase", r, out_len);
}

enum mk_err mk_firehose_build_program_cwe(char *buf, size_t cap, uint64_t file_size,
                                          uint32_t sector_size, uint32_t pages_per_block,
                                          size_t *out_len)
{
    if (sector_size == 0)
        return MK_E_INVAL;
    struct mk_firehose_region r = {
        .sector_size = sector_size,
        .num_sectors = (file_size + sector_size - 1) / sector_size,
        .physical_partition = 0,
        .start_sector = "-1",
        .filename = "spkg.cwe",
        .pages_per_block = pages_per_block,
    };
    return fh_region(buf, cap, "program", &r, out_len);
}

enum mk_err mk_firehose_build_patch(char *buf, size_t cap, const struct mk_firehose_patch *p,
                                    size_t *out_len)
{
    struct mk_sb sb;
    fh_begin(&sb, buf, cap, "patch");
    fh_attr_u(&sb, "SECTOR_SIZE_IN_BYTES", p->sector_size);
    fh_attr(&sb, "byte_offset", p->byte_offset);
    fh_attr(&sb, "filename", p->filename);
    fh_attr_u(&sb, "physical_partition_number", p->physical_partition);
    fh_attr_u(&sb, "size_in_bytes", p->size_in_bytes);
    fh_attr(&sb, "start_sector", p->start_sector);
    fh_attr(&sb, "value", p->value);
    return fh_end(&sb, out_len);
}

enum mk_err mk_firehose_build_power(char *buf, size_t cap, const char *value, int32_t delay_s,
                                    size_t *out_len)
{
    struct mk_sb sb;
    fh_begin(&sb, buf, cap, "power");
    if (delay_s >= 0)
        fh_attr_u(&sb, "DelayInSeconds", (uint64_t)delay_s);
    fh_attr(&sb, "value", value);
    return fh_end(&sb, out_len);
}

enum mk_err mk_firehose_build_getstorageinfo(char *buf, size_t cap,
                                             enum mk_firehose_dialect dialect,
                                             uint32_t physical_partition, size_t *out_len)
{
    struct mk_sb sb;
    /* libqmi sends this spelling to Sierra's programmer, which accepts it (§2.2). */
    fh_begin(&sb, buf, cap, dialect == MK_FIREHOSE_SIERRA ? "getStorageInfo" : "getstorageinfo");
    fh_attr_u(&sb, "physical_partition_number", physical_partition);
    return fh_end(&sb, out_len);
}

enum mk_err mk_firehose_build_nop(char *buf, size_t cap, enum mk_firehose_dialect dialect,
                                  size_t *out_len)
{
    struct mk_sb sb;
    if (dialect == MK_FIREHOSE_SIERRA) {
        fh_begin(&sb, buf, cap, "NOP");
        fh_attr(&sb, "value", "ping");
    } else {
        fh_begin(&sb, buf, cap, "nop");
    }
    return fh_end(&sb, out_len);
}

enum mk_err mk_firehose_build_log(char *buf, size_t cap, const char *text, size_t *out_len)
{
    struct mk_firehose_attr a = {"value", text};
    return mk_firehose_build(buf, cap, "log", &a, 1, out_len);
}

enum mk_err mk_firehose_build_response(char *buf, size_t cap, bool ack,
                                       const struct mk_firehose_attr *extra, size_t n,
                                       size_t *out_len)
{
    struct mk_sb sb;
    fh_begin(&sb, buf, cap, "response");
    fh_attr(&sb, "value", ack ? "ACK" : "NAK");
    for (size_t i = 0; i < n; i++)
        fh_attr(&sb, extra[i].name, extra[i].value);
    return fh_end(&sb, out_len);
}

/* ---- small text helpers ---- */

static bool fh_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char fh_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the NUL-terminated z, ASCII case-insensitively. */
static bool fh_ieq(const char *s, size_t n, const char *z)
{
    size_t i = 0;
    for (; i < n && z[i]; i++)
        if (fh_lower(s[i]) != fh_lower(z[i]))
            return false;
    return i == n && z[i] == '\0';
}

/* First occurrence of the NUL-terminated needle in hay[from..to), or `to`. */
static size_t fh_find(const char *hay, size_t from, size_t to, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= to; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return i;
    return to;
}

/* hay[from..to) starts with z, or is a prefix of it (when it runs out): 2 = full match,
 * 1 = prefix only, 0 = no. */
static int fh_starts(const char *hay, size_t from, size_t to, const char *z)
{
    size_t i = 0;
    for (; z[i]; i++) {
        if (from + i >= to)
            return 1;
        if (fh_lower(hay[from + i]) != fh_lower(z[i]))
            return 0;
    }
    return 2;
}

/* Index of the '>' closing the tag that starts at from, skipping quoted text; `to` if
 * none. */
static size_t fh_tag_end(const char *s, size_t from, size_t to)
{
    char quote = 0;
    for (size_t i = from; i < to; i++) {
        if (quote) {
            if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
        } else if (s[i] == '>') {
            return i;
        }
    }
    return to;
}

static bool fh_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == ':' || c == '.';
}

/* ---- attributes ---- */

enum mk_err mk_firehose_attr_find(const char *attrs, size_t len, const char *name, const char **val,
                                  size_t *val_len)
{
    size_t i = 0;
    while (i < len) {
        char c = attrs[i];
        if (fh_space(c) || c == '/' || c == '>') {
            i++;
            continue;
        }
        if (c == '"' || c == '\'') { /* stray quoted text: skip it whole */
            size_t q = i + 1;
            while (q < len && attrs[q] != c)
                q++;
            if (q >= len)
                return MK_E_FORMAT;
            i = q + 1;
            continue;
        }
        size_t ns = i;
        while (i < len && !fh_space(attrs[i]) && attrs[i] != '=' && attrs[i] != '/' &&
               attrs[i] != '>' && attrs[i] != '"' && attrs[i] != '\'')
            i++;
        size_t ne = i;
        while (i < len && fh_space(attrs[i]))
            i++;
        if (i >= len || attrs[i] != '=')
            continue; /* attribute without a value */
        i++;
        while (i < len && fh_space(attrs[i]))
            i++;
        size_t vs, ve;
        if (i < len && (attrs[i] == '"' || attrs[i] == '\'')) {
            char q = attrs[i];
            vs = ++i;
            while (i < len && attrs[i] != q)
                i++;
            if (i >= len)
                return MK_E_FORMAT; /* unterminated value */
            ve = i++;
        } else { /* unquoted (not XML, but harmless to accept) */
            vs = i;
            while (i < len && !fh_space(attrs[i]) && attrs[i] != '>')
                i++;
            ve = i;
        }
        if (fh_ieq(attrs + ns, ne - ns, name)) {
            *val = attrs + vs;
            *val_len = ve - vs;
            return MK_OK;
        }
    }
    return MK_E_NOENT;
}

/* Decode the entity body e[0..n) (between '&' and ';'); -1 if not one we know. */
static int fh_entity(const char *e, size_t n)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"quot", '"'}, {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"apos", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strlen(named[i].name) == n && memcmp(e, named[i].name, n) == 0)
            return named[i].c;
    if (n < 2 || e[0] != '#')
        return -1;
    unsigned base = 10, v = 0;
    size_t i = 1;
    if (e[1] == 'x' || e[1] == 'X') {
        base = 16;
        i = 2;
    }
    if (i >= n)
        return -1;
    for (; i < n; i++) {
        char c = e[i];
        int d = mk_hex_digit(c);
        if (d < 0 || (unsigned)d >= base)
            return -1;
        v = v * base + (unsigned)d;
        if (v > 0x7F)
            return -1; /* ASCII only: we have no use for UTF-8 in a modem's log line */
    }
    return v ? (int)v : -1;
}

enum mk_err mk_firehose_unescape(const char *s, size_t n, char *out, size_t cap, size_t *out_len)
{
    if (cap == 0)
        return MK_E_NOSPC;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i++];
        if (c == '&') {
            size_t semi = i;
            while (semi < n && semi - i < 8 && s[semi] != ';')
                semi++;
            int d = (semi < n && s[semi] == ';') ? fh_entity(s + i, semi - i) : -1;
            if (d >= 0) {
                c = (char)d;
                i = semi + 1;
            }
        }
        if (o + 1 >= cap) {
            out[o] = '\0';
            return MK_E_NOSPC;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return MK_OK;
}

enum mk_err mk_firehose_attr_get(const struct mk_firehose_msg *msg, const char *name, char *out,
                                 size_t cap)
{
    const char *v;
    size_t vlen;
    enum mk_err err = mk_firehose_attr_find(msg->attrs, msg->attrs_len, name, &v, &vlen);
    if (err)
        return err;
    return mk_firehose_unescape(v, vlen, out, cap, NULL);
}

enum mk_err mk_firehose_attr_u64(const struct mk_firehose_msg *msg, const char *name, uint64_t *out)
{
    char tmp[32];
    enum mk_err err = mk_firehose_attr_get(msg, name, tmp, sizeof tmp);
    if (err == MK_E_NOSPC)
        return MK_E_FORMAT;
    if (err)
        return err;
    const char *p = tmp;
    size_t n = strlen(tmp);
    while (n && fh_space(*p)) {
        p++;
        n--;
    }
    while (n && fh_space(p[n - 1]))
        n--;
    if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        uint64_t v = 0;
        for (size_t i = 2; i < n; i++) {
            int d = mk_hex_digit(p[i]);
            if (d < 0 || (v >> 60))
                return MK_E_FORMAT;
            v = (v << 4) | (unsigned)d;
        }
        *out = v;
        return MK_OK;
    }
    return mk_parse_u64(p, n, out);
}

/* ---- stream parser ---- */

void mk_firehose_rx_init(struct mk_firehose_rx *rx, char *buf, size_t cap)
{
    memset(rx, 0, sizeof *rx);
    rx->buf = buf;
    rx->cap = cap;
}

/* Drop the consumed prefix. Invalidates views, which is why it only runs at the start of
 * feed/next. */
static void fh_compact(struct mk_firehose_rx *rx)
{
    if (rx->pos == 0)
        return;
    memmove(rx->buf, rx->buf + rx->pos, rx->len - rx->pos);
    rx->len -= rx->pos;
    if (rx->doc_end)
        rx->doc_end -= rx->pos;
    rx->pos = 0;
}

size_t mk_firehose_rx_feed(struct mk_firehose_rx *rx, const void *data, size_t len)
{
    fh_compact(rx);
    size_t n = rx->cap - rx->len;
    if (n > len)
        n = len;
    memcpy(rx->buf + rx->len, data, n);
    rx->len += n;
    return n;
}

/* End of the document starting at rx->pos (a '<'), or 0 if it is not complete yet. */
static size_t fh_doc_end(const struct mk_firehose_rx *rx)
{
    const char *b = rx->buf;
    size_t p = rx->pos, n = rx->len;
    int xml = fh_starts(b, p, n, "<?xml"), data = fh_starts(b, p, n, "<data");
    if (xml == 1 || data == 1)
        return 0; /* could still become a document start */
    if (xml == 2 || data == 2) {
        size_t close = fh_find(b, p + 1, n, "</data>");
        size_t next = fh_find(b, p + 5, n, "<?xml");
        if (close < n && close < next)
            return close + 7;
        if (next < n)
            return next; /* unterminated document, closed by the next one */
        return 0;
    }
    /* A bare element outside any document: it ends at its '>'. */
    size_t gt = fh_tag_end(b, p + 1, n);
    return gt < n ? gt + 1 : 0;
}

/* Fill msg with the next element of the current document. false when it is exhausted. */
static bool fh_doc_element(struct mk_firehose_rx *rx, struct mk_firehose_msg *msg)
{
    const char *b = rx->buf;
    size_t end = rx->doc_end;
    while (rx->pos < end) {
        size_t p = rx->pos;
        if (b[p] != '<') {
            rx->pos++; /* text between elements carries nothing in Firehose */
            continue;
        }
        if (fh_starts(b, p, end, "<!--") == 2) {
            size_t q = fh_find(b, p + 4, end, "-->");
            rx->pos = q < end ? q + 3 : end;
            continue;
        }
        if (fh_starts(b, p, end, "<?") == 2 || fh_starts(b, p, end, "<!") == 2 ||
            fh_starts(b, p, end, "</") == 2) {
            size_t q = fh_tag_end(b, p + 1, end);
            rx->pos = q < end ? q + 1 : end;
            continue;
        }
        size_t ns = p + 1, ne = ns;
        while (ne < end && fh_name_char(b[ne]))
            ne++;
        if (ne == ns) {
            rx->pos++; /* a lone '<' */
            continue;
        }
        size_t gt = fh_tag_end(b, ne, end);
        if (gt >= end) {
            rx->pos = end;
            msg->type = MK_FIREHOSE_MSG_ERROR;
            msg->err = MK_E_FORMAT;
            return true;
        }
        rx->pos = gt + 1;
        if (fh_ieq(b + ns, ne - ns, "data"))
            continue; /* the container */
        size_t ae = gt;
        if (ae > ne && b[ae - 1] == '/')
            ae--;
        msg->tag = b + ns;
        msg->tag_len = ne - ns;
        msg->attrs = b + ne;
        msg->attrs_len = ae - ne;
        if (fh_ieq(msg->tag, msg->tag_len, "log")) {
            msg->type = MK_FIREHOSE_MSG_LOG;
        } else if (fh_ieq(msg->tag, msg->tag_len, "response")) {
            char v[8];
            msg->type = MK_FIREHOSE_MSG_RESPONSE;
            msg->ack = mk_firehose_attr_get(msg, "value", v, sizeof v) == MK_OK &&
                       fh_ieq(v, strlen(v), "ACK");
            msg->rawmode = mk_firehose_attr_get(msg, "rawmode", v, sizeof v) == MK_OK &&
                           fh_ieq(v, strlen(v), "true");
            if (msg->rawmode) {
                /* Raw data follows this document: stop parsing right after it. */
                rx->pos = end;
                rx->doc_end = 0;
                rx->raw_hold = true;
            }
        } else {
            msg->type = MK_FIREHOSE_MSG_ELEMENT;
        }
        return true;
    }
    return false;
}

enum mk_step mk_firehose_rx_next(struct mk_firehose_rx *rx, struct mk_firehose_msg *msg)
{
    memset(msg, 0, sizeof *msg);
    fh_compact(rx);
    for (;;) {
        if (rx->raw_hold)
            return MK_PENDING;
        if (rx->doc_end) {
            if (fh_doc_element(rx, msg))
                return MK_DONE;
            rx->pos = rx->doc_end;
            rx->doc_end = 0;
            continue;
        }
        size_t junk = 0;
        while (rx->pos < rx->len && rx->buf[rx->pos] != '<') {
            if (!fh_space(rx->buf[rx->pos]))
                junk++;
            rx->pos++;
        }
        if (junk) {
            msg->type = MK_FIREHOSE_MSG_GARBAGE;
            msg->garbage_len = junk;
            return MK_DONE;
        }
        if (rx->pos == rx->len)
            return MK_PENDING;
        size_t end = fh_doc_end(rx);
        if (end == 0) {
            if (rx->pos == 0 && rx->len == rx->cap) {
                /* A document larger than the buffer can never complete: drop it. */
                rx->len = 0;
                msg->type = MK_FIREHOSE_MSG_ERROR;
                msg->err = MK_E_OVERFLOW;
                return MK_DONE;
            }
            return MK_PENDING;
        }
        rx->doc_end = end;
    }
}

void mk_firehose_rx_raw(const struct mk_firehose_rx *rx, const uint8_t **data, size_t *len)
{
    *data = (const uint8_t *)rx->buf + rx->pos;
    *len = rx->len - rx->pos;
}

void mk_firehose_rx_consume(struct mk_firehose_rx *rx, size_t n)
{
    size_t avail = rx->len - rx->pos;
    rx->pos += n < avail ? n : avail;
}

void mk_firehose_rx_resume(struct mk_firehose_rx *rx)
{
    rx->raw_hold = false;
}

void mk_firehose_rx_hold(struct mk_firehose_rx *rx)
{
    if (rx->doc_end) {
        rx->pos = rx->doc_end;
        rx->doc_end = 0;
    }
    rx->raw_hold = true;
}

/* ---- responses ---- */

enum mk_err mk_firehose_parse_response(const struct mk_firehose_msg *msg,
                                       struct mk_firehose_response *out)
{
    memset(out, 0, sizeof *out);
    out->rawmode = -1;
    if (msg->type != MK_FIREHOSE_MSG_RESPONSE)
        return MK_E_INVAL;
    char v[8];
    out->ack =
        mk_firehose_attr_get(msg, "value", v, sizeof v) == MK_OK && fh_ieq(v, strlen(v), "ACK");
    if (mk_firehose_attr_get(msg, "rawmode", v, sizeof v) == MK_OK)
        out->rawmode = fh_ieq(v, strlen(v), "true") ? 1 : 0;
    static const struct {
        const char *name;
        size_t off;
    } sizes[] = {
        {"MaxPayloadSizeToTargetInBytes",
         offsetof(struct mk_firehose_response, max_payload_to_target)},
        {"MaxPayloadSizeToTargetInBytesSupported",
         offsetof(struct mk_firehose_response, max_payload_to_target_supported)},
        {"MaxPayloadSizeFromTargetInBytes",
         offsetof(struct mk_firehose_response, max_payload_from_target)},
        {"MaxXMLSizeInBytes", offsetof(struct mk_firehose_response, max_xml_size)},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t n;
        if (mk_firehose_attr_u64(msg, sizes[i].name, &n) == MK_OK)
            memcpy((char *)out + sizes[i].off, &n, sizeof n);
    }
    /* Informative strings: a cut value is kept (NOSPC leaves a NUL-terminated prefix). */
    if (mk_firehose_attr_get(msg, "MemoryName", out->memory_name, sizeof out->memory_name) ==
        MK_E_FORMAT)
        out->memory_name[0] = '\0';
    if (mk_firehose_attr_get(msg, "TargetName", out->target_name, sizeof out->target_name) ==
        MK_E_FORMAT)
        out->target_name[0] = '\0';
    return out->ack ? MK_OK : MK_E_FIREHOSE_NAK;
}

enum mk_err mk_firehose_negotiate(const struct mk_firehose_response *r, uint64_t requested,
                                  uint64_t *use, bool *retry)
{
    *retry = false;
    if (r->ack) {
        *use = r->max_payload_to_target ? r->max_payload_to_target : requested;
        return MK_OK;
    }
    uint64_t offered =
        r->max_payload_to_target ? r->max_payload_to_target : r->max_payload_to_target_supported;
    if (offered == 0 || offered == requested)
        return MK_E_FIREHOSE_NAK;
    *use = offered;
    *retry = true;
    return MK_OK;
}

uint64_t mk_firehose_block_size(uint64_t max_payload, uint32_t sector_size)
{
    if (sector_size == 0)
        return max_payload;
    uint64_t blocks = max_payload / sector_size;
    return (blocks ? blocks : 1) * sector_size;
}

void mk_firehose_txn_init(struct mk_firehose_txn *txn)
{
    memset(txn, 0, sizeof *txn);
    txn->resp.rawmode = -1;
    txn->result = MK_E_FIREHOSE_NAK;
}

enum mk_step mk_firehose_txn_on_msg(struct mk_firehose_txn *txn, const struct mk_firehose_msg *msg)
{
    if (txn->done)
        return MK_DONE;
    if (msg->type == MK_FIREHOSE_MSG_LOG)
        txn->logs++;
    if (msg->type != MK_FIREHOSE_MSG_RESPONSE)
        return MK_PENDING;
    txn->result = mk_firehose_parse_response(msg, &txn->resp);
    txn->done = true;
    return MK_DONE;
}

enum mk_err mk_firehose_txn_result(const struct mk_firehose_txn *txn)
{
    return txn->done ? txn->result : MK_E_FIREHOSE_NAK;
}
