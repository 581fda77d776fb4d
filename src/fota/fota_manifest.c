/*
 * Update manifests and packages: parse/write manifest.json, walk the package archive,
 * compute the package identity and check the delta against the manifest.
 */
#include <string.h>

#include "fota_int.h"
#include "modemkit/fota.h"

#define MK_FOTA_MAN_TOKS 96

/* ---- small shared helpers (also used by the journal and the job) ---- */

void mk_fota_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15u];
    }
    out[2 * n] = '\0';
}

static int mk_fota_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool mk_fota_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = mk_fota_hexval(s[2 * i]), lo = mk_fota_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    return true;
}

void mk_fota_sb_json(struct mk_sb *sb, const char *s)
{
    static const char digits[] = "0123456789abcdef";
    mk_sb_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            mk_sb_putc(sb, '\\');
            mk_sb_putc(sb, (char)*p);
        } else if (*p == '\n') {
            mk_sb_puts(sb, "\\n");
        } else if (*p < 0x20 || *p == 0x7f) {
            mk_sb_puts(sb, "\\u00");
            mk_sb_putc(sb, digits[*p >> 4]);
            mk_sb_putc(sb, digits[*p & 15u]);
        } else {
            mk_sb_putc(sb, (char)*p);
        }
    }
    mk_sb_putc(sb, '"');
}

enum mk_err mk_fota_json_get_str(const struct mk_json *doc, int obj, const char *key, char *out,
                                 size_t cap)
{
    int i = mk_json_get(doc, obj, key);
    if (i < 0)
        return MK_E_NOENT;
    if (doc->toks[i].type != MK_JSON_STRING)
        return MK_E_FORMAT;
    return mk_json_str(doc, i, out, cap);
}

enum mk_err mk_fota_json_get_u64(const struct mk_json *doc, int obj, const char *key, uint64_t *out)
{
    int i = mk_json_get(doc, obj, key);
    if (i < 0)
        return MK_E_NOENT;
    int64_t v;
    if (mk_json_int(doc, i, &v) != MK_OK || v < 0)
        return MK_E_FORMAT;
    *out = (uint64_t)v;
    return MK_OK;
}

/* ---- manifest ---- */

const char *mk_fota_method_name(enum mk_fota_method m)
{
    switch (m) {
    case MK_FOTA_METHOD_CFOTA:
        return "cfota";
    case MK_FOTA_METHOD_CDELTA:
        return "cdelta";
    default:
        return "none";
    }
}

static void mk_fota_why(char *why, size_t cap, const char *a, const char *b, const char *c)
{
    if (!why || !cap)
        return;
    struct mk_sb sb;
    mk_sb_init(&sb, why, cap);
    mk_sb_puts(&sb, a);
    if (b)
        mk_sb_puts(&sb, b);
    if (c)
        mk_sb_puts(&sb, c);
}

/* A required string member; reason in why on failure. */
static enum mk_err mk_fota_man_str(const struct mk_json *doc, int obj, const char *key, char *out,
                                   size_t cap, char *why, size_t why_cap)
{
    enum mk_err e = mk_fota_json_get_str(doc, obj, key, out, cap);
    if (e == MK_E_NOENT)
        mk_fota_why(why, why_cap, "manifest has no \"", key, "\"");
    else if (e == MK_E_NOSPC)
        mk_fota_why(why, why_cap, "manifest \"", key, "\" is too long");
    else if (e != MK_OK)
        mk_fota_why(why, why_cap, "manifest \"", key, "\" must be a string");
    else if (!out[0])
        mk_fota_why(why, why_cap, "manifest \"", key, "\" is empty");
    else
        return MK_OK;
    return MK_E_MANIFEST;
}

enum mk_err mk_fota_manifest_parse(const char *text, size_t len, struct mk_fota_manifest *m,
                                   char *why, size_t why_cap)
{
    struct mk_json_tok toks[MK_FOTA_MAN_TOKS];
    struct mk_json doc;
    char tmp[32];
    memset(m, 0, sizeof *m);
    if (mk_json_parse(&doc, text, len, toks, MK_FOTA_MAN_TOKS) != MK_OK ||
        toks[0].type != MK_JSON_OBJECT) {
        mk_fota_why(why, why_cap, "manifest is not a JSON object", NULL, NULL);
        return MK_E_MANIFEST;
    }
    int fmt = mk_json_get(&doc, 0, "format");
    if (fmt < 0 || !mk_json_streq(&doc, fmt, MK_FOTA_MANIFEST_FORMAT)) {
        mk_fota_why(why, why_cap, "manifest \"format\" is not \"", MK_FOTA_MANIFEST_FORMAT, "\"");
        return MK_E_MANIFEST;
    }
    if (mk_fota_man_str(&doc, 0, "model", m->model, sizeof m->model, why, why_cap) != MK_OK ||
        mk_fota_man_str(&doc, 0, "source", m->source, sizeof m->source, why, why_cap) != MK_OK ||
        mk_fota_man_str(&doc, 0, "target", m->target, sizeof m->target, why, why_cap) != MK_OK ||
        mk_fota_man_str(&doc, 0, "method", tmp, sizeof tmp, why, why_cap) != MK_OK)
        return MK_E_MANIFEST;
    if (strcmp(tmp, "cfota") == 0) {
        m->method = MK_FOTA_METHOD_CFOTA;
    } else if (strcmp(tmp, "cdelta") == 0) {
        m->method = MK_FOTA_METHOD_CDELTA;
    } else {
        mk_fota_why(why, why_cap, "manifest \"method\" must be cfota or cdelta, not \"", tmp, "\"");
        return MK_E_MANIFEST;
    }
    if (strcmp(m->source, m->target) == 0) {
        mk_fota_why(why, why_cap, "manifest source and target are the same revision", NULL, NULL);
        return MK_E_MANIFEST;
    }
    int d = mk_json_get(&doc, 0, "delta");
    if (d < 0 || toks[d].type != MK_JSON_OBJECT) {
        mk_fota_why(why, why_cap, "manifest has no \"delta\" object", NULL, NULL);
        return MK_E_MANIFEST;
    }
    char hex[2 * MK_SHA256_LEN + 2];
    if (mk_fota_man_str(&doc, d, "file", m->delta_name, sizeof m->delta_name, why, why_cap) !=
            MK_OK ||
        mk_fota_man_str(&doc, d, "sha256", hex, sizeof hex, why, why_cap) != MK_OK)
        return MK_E_MANIFEST;
    if (!mk_fota_unhex(hex, strlen(hex), m->delta_sha256, MK_SHA256_LEN)) {
        mk_fota_why(why, why_cap, "manifest delta \"sha256\" is not 64 hex digits", NULL, NULL);
        return MK_E_MANIFEST;
    }
    if (mk_fota_json_get_u64(&doc, d, "size", &m->delta_size) != MK_OK || m->delta_size == 0) {
        mk_fota_why(why, why_cap, "manifest delta \"size\" must be a positive integer", NULL, NULL);
        return MK_E_MANIFEST;
    }
    int post = mk_json_get(&doc, 0, "post");
    if (post >= 0) {
        if (toks[post].type != MK_JSON_ARRAY) {
            mk_fota_why(why, why_cap, "manifest \"post\" must be an array", NULL, NULL);
            return MK_E_MANIFEST;
        }
        for (size_t i = 0; i < toks[post].count; i++) {
            int a = mk_json_at(&doc, post, i);
            if (mk_json_streq(&doc, a, "hard-power-cycle")) {
                m->post |= MK_FOTA_POST_HARD_POWER_CYCLE;
            } else {
                if (mk_json_str(&doc, a, tmp, sizeof tmp) != MK_OK)
                    tmp[0] = '\0';
                mk_fota_why(why, why_cap, "manifest names an unknown post-update action \"", tmp,
                            "\"");
                return MK_E_MANIFEST;
            }
        }
    }
    enum mk_err e = mk_fota_json_get_str(&doc, 0, "url", m->url, sizeof m->url);
    if (e != MK_OK && e != MK_E_NOENT) {
        mk_fota_why(why, why_cap, "manifest \"url\" is not a string of at most 255 bytes", NULL,
                    NULL);
        return MK_E_MANIFEST;
    }
    return MK_OK;
}

enum mk_err mk_fota_manifest_write(const struct mk_fota_manifest *m, char *buf, size_t cap,
                                   size_t *len)
{
    if (!m->model[0] || !m->source[0] || !m->target[0] || !m->delta_name[0] ||
        m->method == MK_FOTA_METHOD_NONE)
        return MK_E_INVAL;
    char hex[2 * MK_SHA256_LEN + 1];
    mk_fota_hex(m->delta_sha256, MK_SHA256_LEN, hex);
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    mk_sb_puts(&sb, "{\n  \"format\": \"" MK_FOTA_MANIFEST_FORMAT "\",\n  \"model\": ");
    mk_fota_sb_json(&sb, m->model);
    mk_sb_puts(&sb, ",\n  \"source\": ");
    mk_fota_sb_json(&sb, m->source);
    mk_sb_puts(&sb, ",\n  \"target\": ");
    mk_fota_sb_json(&sb, m->target);
    mk_sb_puts(&sb, ",\n  \"method\": ");
    mk_fota_sb_json(&sb, mk_fota_method_name(m->method));
    mk_sb_puts(&sb, ",\n  \"delta\": {\"file\": ");
    mk_fota_sb_json(&sb, m->delta_name);
    mk_sb_puts(&sb, ", \"size\": ");
    mk_sb_putu(&sb, m->delta_size);
    mk_sb_puts(&sb, ", \"sha256\": \"");
    mk_sb_puts(&sb, hex);
    mk_sb_puts(&sb, "\"},\n  \"post\": [");
    if (m->post & MK_FOTA_POST_HARD_POWER_CYCLE)
        mk_sb_puts(&sb, "\"hard-power-cycle\"");
    mk_sb_puts(&sb, "]");
    if (m->url[0]) {
        mk_sb_puts(&sb, ",\n  \"url\": ");
        mk_fota_sb_json(&sb, m->url);
    }
    mk_sb_puts(&sb, "\n}\n");
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    *len = sb.len;
    return MK_OK;
}

static const char *mk_fota_strip_vendor(const char *s)
{
    static const char pre[] = "SIMCOM_";
    size_t n = sizeof pre - 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != pre[i])
            return s;
    }
    return s + n;
}

bool mk_fota_model_match(const char *manifest_model, const char *module_model)
{
    const char *a = mk_fota_strip_vendor(manifest_model), *b = mk_fota_strip_vendor(module_model);
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z')
            y = (char)(y - 'a' + 'A');
        if (x != y)
            return false;
        if (!x)
            return *manifest_model != '\0';
    }
}

/* ---- package ---- */

#define MK_FOTA_PKG_MAX_MEMBERS 64

enum mk_err mk_fota_pkg_open(struct mk_fota_pkg *pkg, const struct mk_fota_reader *rd,
                             char *man_buf, size_t man_cap, uint8_t *work, size_t cap, char *why,
                             size_t why_cap)
{
    memset(pkg, 0, sizeof *pkg);
    pkg->rd = rd;
    if (cap < MK_TAR_BLOCK || man_cap < 2)
        return MK_E_INVAL;
    struct mk_tar_entry man = {0}, sig = {0}, ent;
    bool have_man = false, have_sig = false;
    uint64_t off = 0;
    enum mk_err e;
    /* First pass: find manifest.json and manifest.sig, check the archive's shape. */
    for (int n = 0;; n++) {
        if (n > MK_FOTA_PKG_MAX_MEMBERS || off + MK_TAR_BLOCK > rd->size) {
            mk_fota_why(why, why_cap, "package is not a complete ustar archive", NULL, NULL);
            return MK_E_FORMAT;
        }
        if ((e = rd->read(rd->ctx, off, work, MK_TAR_BLOCK)) != MK_OK)
            return e;
        e = mk_tar_parse_header(work, off, &ent);
        if (e == MK_E_NOENT)
            break;
        if (e != MK_OK || ent.data_off + ent.size > rd->size) {
            mk_fota_why(why, why_cap, "package is not a valid ustar archive", NULL, NULL);
            return MK_E_FORMAT;
        }
        if (ent.type == '0' && strcmp(ent.name, "manifest.json") == 0) {
            man = ent;
            have_man = true;
        } else if (ent.type == '0' && strcmp(ent.name, "manifest.sig") == 0) {
            sig = ent;
            have_sig = true;
        }
        off = ent.data_off + ent.size + mk_tar_padding(ent.size);
    }
    if (!have_man) {
        mk_fota_why(why, why_cap, "package has no manifest.json", NULL, NULL);
        return MK_E_MANIFEST;
    }
    if (man.size >= man_cap) {
        mk_fota_why(why, why_cap, "manifest.json is too large", NULL, NULL);
        return MK_E_NOSPC;
    }
    if ((e = rd->read(rd->ctx, man.data_off, man_buf, (size_t)man.size)) != MK_OK)
        return e;
    man_buf[man.size] = '\0';
    pkg->man_text = man_buf;
    pkg->man_len = (size_t)man.size;
    if ((e = mk_fota_manifest_parse(man_buf, pkg->man_len, &pkg->man, why, why_cap)) != MK_OK)
        return e;
    if (have_sig) {
        if (sig.size != MK_FOTA_SIG_LEN) {
            mk_fota_why(why, why_cap, "manifest.sig is not a 64-byte Ed25519 signature", NULL,
                        NULL);
            return MK_E_FOTA_SIGNATURE;
        }
        if ((e = rd->read(rd->ctx, sig.data_off, pkg->sig, MK_FOTA_SIG_LEN)) != MK_OK)
            return e;
        pkg->has_sig = true;
    }
    /* Second pass: the delta member named by the manifest. */
    bool have_delta = false;
    off = 0;
    for (;;) {
        if ((e = rd->read(rd->ctx, off, work, MK_TAR_BLOCK)) != MK_OK)
            return e;
        if (mk_tar_parse_header(work, off, &ent) != MK_OK)
            break;
        if (ent.type == '0' && strcmp(ent.name, pkg->man.delta_name) == 0) {
            if (ent.size != pkg->man.delta_size) {
                mk_fota_why(why, why_cap, "package member \"", ent.name,
                            "\" does not have the manifest's delta size");
                return MK_E_FOTA_INTEGRITY;
            }
            pkg->delta_off = ent.data_off;
            have_delta = true;
            break;
        }
        off = ent.data_off + ent.size + mk_tar_padding(ent.size);
    }
    if (!have_delta) {
        mk_fota_why(why, why_cap, "package has no member \"", pkg->man.delta_name,
                    "\" (the manifest's delta file)");
        return MK_E_MANIFEST;
    }
    /* The identity: SHA-256 of the whole file, so a job is tied to exact bytes. */
    struct mk_sha256 h;
    mk_sha256_init(&h);
    for (off = 0; off < rd->size;) {
        size_t n = rd->size - off < cap ? (size_t)(rd->size - off) : cap;
        if ((e = rd->read(rd->ctx, off, work, n)) != MK_OK)
            return e;
        mk_sha256_update(&h, work, n);
        off += n;
    }
    mk_sha256_final(&h, pkg->id);
    mk_fota_hex(pkg->id, MK_SHA256_LEN, pkg->id_hex);
    return MK_OK;
}

enum mk_err mk_fota_pkg_check_delta(const struct mk_fota_pkg *pkg, uint8_t *work, size_t cap,
                                    char *why, size_t why_cap)
{
    const struct mk_fota_reader *rd = pkg->rd;
    struct mk_sha256 h;
    uint8_t got[MK_SHA256_LEN];
    enum mk_err e;
    mk_sha256_init(&h);
    for (uint64_t done = 0; done < pkg->man.delta_size;) {
        uint64_t left = pkg->man.delta_size - done;
        size_t n = left < cap ? (size_t)left : cap;
        if ((e = rd->read(rd->ctx, pkg->delta_off + done, work, n)) != MK_OK)
            return e;
        mk_sha256_update(&h, work, n);
        done += n;
    }
    mk_sha256_final(&h, got);
    if (memcmp(got, pkg->man.delta_sha256, MK_SHA256_LEN) != 0) {
        char exp_hex[2 * MK_SHA256_LEN + 1], got_hex[2 * MK_SHA256_LEN + 1];
        mk_fota_hex(pkg->man.delta_sha256, MK_SHA256_LEN, exp_hex);
        mk_fota_hex(got, MK_SHA256_LEN, got_hex);
        if (why && why_cap) {
            struct mk_sb sb;
            mk_sb_init(&sb, why, why_cap);
            mk_sb_puts(&sb, "delta \"");
            mk_sb_puts(&sb, pkg->man.delta_name);
            mk_sb_puts(&sb, "\" is corrupt: the manifest expects SHA-256 ");
            mk_sb_puts(&sb, exp_hex);
            mk_sb_puts(&sb, ", the file has ");
            mk_sb_puts(&sb, got_hex);
        }
        return MK_E_FOTA_INTEGRITY;
    }
    return MK_OK;
}
