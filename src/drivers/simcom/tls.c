/* SIMCom TLS file store: CCERTDOWN / CCERTLIST / CCERTDELE and the local PEM check. */
#include <string.h>

#include "modemkit/sha256.h"
#include "modemkit/str.h"
#include "modemkit/tls.h"

#define MK_TLS_CMD_TIMEOUT_MS 10000u

/* ---- local checks ---- */

static bool mk_tls_b64(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

static bool mk_tls_line_is(const char *l, size_t n, const char *head, const char **label,
                           size_t *label_len)
{
    size_t h = strlen(head);
    if (n < h + 5 || memcmp(l, head, h) != 0 || memcmp(l + n - 5, "-----", 5) != 0)
        return false;
    *label = l + h;
    *label_len = n - h - 5;
    return true;
}

static bool mk_tls_contains(const char *l, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(l + i, s, k) == 0)
            return true;
    return false;
}

static bool mk_tls_label(const char *l, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(l, s, n) == 0;
}

static enum mk_err mk_tls_bad(struct mk_tls_pem_info *info, size_t line, const char *why)
{
    info->line = line;
    info->why = why;
    return MK_E_CERT;
}

enum mk_err mk_tls_pem_check(const uint8_t *data, size_t len, struct mk_tls_pem_info *info)
{
    memset(info, 0, sizeof *info);
    if (len == 0)
        return mk_tls_bad(info, 0, "the file is empty");
    if (len > MK_TLS_FILE_MAX)
        return mk_tls_bad(info, 0,
                          "the file is larger than 10240 bytes, the most the module "
                          "stores (AT+CCERTDOWN)");
    const char *p = (const char *)data;
    const char *label = NULL;
    size_t label_len = 0, begin_line = 0, body = 0, lineno = 0;
    bool in = false, pad = false;
    size_t off = 0;
    while (off < len) {
        size_t e = off;
        while (e < len && p[e] != '\n')
            e++;
        size_t n = e - off;
        const char *l = p + off;
        lineno++;
        off = e + 1;
        if (n && l[n - 1] == '\r')
            n--;
        for (size_t i = 0; i < n; i++) {
            unsigned char b = (unsigned char)l[i];
            if (b < 0x20 && b != '\t')
                return mk_tls_bad(info, lineno,
                                  "not a text file: binary bytes (a DER file? convert it with "
                                  "'openssl x509 -outform PEM')");
        }
        const char *lab;
        size_t lab_len;
        if (!in) {
            if (mk_tls_line_is(l, n, "-----BEGIN ", &lab, &lab_len)) {
                in = true;
                label = lab;
                label_len = lab_len;
                begin_line = lineno;
                body = 0;
                pad = false;
            } else if (mk_tls_line_is(l, n, "-----END ", &lab, &lab_len)) {
                return mk_tls_bad(info, lineno, "an END line without its BEGIN line");
            }
            continue; /* text between blocks is allowed */
        }
        if (mk_tls_line_is(l, n, "-----END ", &lab, &lab_len)) {
            if (lab_len != label_len || memcmp(lab, label, lab_len) != 0)
                return mk_tls_bad(info, lineno,
                                  "the END line's label differs from its BEGIN "
                                  "line's");
            if (body == 0)
                return mk_tls_bad(info, lineno, "a PEM block with no base64 body");
            if (body % 4 != 0)
                return mk_tls_bad(info, lineno,
                                  "the base64 body's length is not a multiple "
                                  "of 4 (a line is cut or missing)");
            if (mk_tls_label(label, label_len, "CERTIFICATE") ||
                mk_tls_label(label, label_len, "TRUSTED CERTIFICATE") ||
                mk_tls_label(label, label_len, "X509 CERTIFICATE"))
                info->certs++;
            else if (mk_tls_label(label, label_len, "PRIVATE KEY") ||
                     mk_tls_label(label, label_len, "RSA PRIVATE KEY") ||
                     mk_tls_label(label, label_len, "EC PRIVATE KEY"))
                info->keys++;
            else if (mk_tls_label(label, label_len, "ENCRYPTED PRIVATE KEY")) {
                info->keys++;
                info->encrypted_key = true;
            } else
                info->others++;
            in = false;
            continue;
        }
        if (mk_tls_line_is(l, n, "-----BEGIN ", &lab, &lab_len))
            return mk_tls_bad(info, lineno,
                              "a BEGIN line inside another block (an END line "
                              "is missing)");
        /* RFC 1421 headers of legacy encrypted keys: "Proc-Type: 4,ENCRYPTED" */
        if (body == 0 && memchr(l, ':', n)) {
            if (n >= 10 && memcmp(l, "Proc-Type:", 10) == 0 && mk_tls_contains(l, n, "ENCRYPTED"))
                info->encrypted_key = true;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char ch = l[i];
            if (ch == ' ' || ch == '\t')
                continue;
            if (ch == '=') {
                pad = true;
                body++;
                continue;
            }
            if (!mk_tls_b64(ch) || pad)
                return mk_tls_bad(info, lineno,
                                  "a character that is not base64 inside the "
                                  "block");
            body++;
        }
    }
    if (in)
        return mk_tls_bad(info, begin_line,
                          "a BEGIN line without its END line (the file is "
                          "cut short?)");
    if (info->certs + info->keys + info->others == 0)
        return mk_tls_bad(info, 0, "no PEM block (-----BEGIN ...-----) in the file");
    return MK_OK;
}

bool mk_tls_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 5 || n > MK_TLS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)name[i];
        if (b < 0x20 || b == 0x7f || b == '"' || b == '/' || b == '\\')
            return false;
    }
    const char *ext = name + n - 4;
    return (ext[0] == '.' && (ext[1] | 0x20) == 'p' && (ext[2] | 0x20) == 'e' &&
            (ext[3] | 0x20) == 'm') ||
           (ext[0] == '.' && (ext[1] | 0x20) == 'd' && (ext[2] | 0x20) == 'e' &&
            (ext[3] | 0x20) == 'r');
}

enum mk_err mk_tls_store_name(const char *base, const uint8_t *data, size_t len, char *out,
                              size_t cap)
{
    if (cap < 20)
        return MK_E_NOSPC;
    /* stem: after the last '/', before the last '.' */
    const char *s = base ? base : "";
    const char *slash = strrchr(s, '/');
    if (slash)
        s = slash + 1;
    size_t n = strlen(s);
    const char *dot = strrchr(s, '.');
    if (dot && dot != s)
        n = (size_t)(dot - s);
    size_t room = (cap < MK_TLS_NAME_MAX + 1 ? cap - 1 : MK_TLS_NAME_MAX) - 13; /* -XXXXXXXX.pem */
    if (n > room)
        n = room;
    struct mk_sb sb;
    mk_sb_init(&sb, out, cap);
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        mk_sb_putc(&sb, ok ? ch : '_');
    }
    if (n == 0)
        mk_sb_puts(&sb, "file");
    uint8_t d[MK_SHA256_LEN];
    char hex[2 * MK_SHA256_LEN + 1];
    mk_sha256(data, len, d);
    mk_sha256_hex(d, hex);
    mk_sb_putc(&sb, '-');
    mk_sb_putn(&sb, hex, 8);
    mk_sb_puts(&sb, ".pem");
    return mk_sb_err(&sb);
}

/* ---- over the AT channel ---- */

enum mk_err mk_tls_cert_put(struct mk_at_chan *ch, const char *name, const uint8_t *data,
                            size_t len)
{
    if (!mk_tls_name_ok(name) || len < 1 || len > MK_TLS_FILE_MAX)
        return MK_E_INVAL;
    char text[MK_TLS_NAME_MAX + 40];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+CCERTDOWN=");
    mk_sb_putq(&sb, name);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, len);
    struct mk_at_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = text;
    cmd.timeout_ms = MK_TLS_CMD_TIMEOUT_MS + (uint32_t)len;
    cmd.prompt = MK_AT_PROMPT_GT;
    cmd.data = data;
    cmd.data_len = len;
    /* keys are secrets, and certificate bytes are noise in a trace */
    cmd.flags = MK_AT_F_SECRET_DATA;
    return mk_at_exec(ch, &cmd, NULL);
}

struct mk_tls_list_ctx {
    void (*cb)(void *user, const char *name);
    void *user;
};

static void mk_tls_list_line(void *user, const char *line, size_t len)
{
    struct mk_tls_list_ctx *x = user;
    struct mk_at_arg a[1];
    if (mk_at_split(line, len, "+CCERTLIST:", a, 1) != 1 || a[0].len > MK_TLS_NAME_MAX)
        return;
    char name[MK_TLS_NAME_MAX + 1];
    memcpy(name, a[0].p, a[0].len);
    name[a[0].len] = '\0';
    x->cb(x->user, name);
}

enum mk_err mk_tls_cert_list(struct mk_at_chan *ch, void (*cb)(void *user, const char *name),
                             void *user)
{
    struct mk_tls_list_ctx x = {cb, user};
    struct mk_at_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = "AT+CCERTLIST";
    cmd.timeout_ms = MK_TLS_CMD_TIMEOUT_MS;
    cmd.on_line = mk_tls_list_line;
    cmd.user = &x;
    return mk_at_exec(ch, &cmd, NULL);
}

struct mk_tls_has_ctx {
    const char *name;
    bool found;
};

static void mk_tls_has_cb(void *user, const char *name)
{
    struct mk_tls_has_ctx *x = user;
    if (strcmp(name, x->name) == 0)
        x->found = true;
}

enum mk_err mk_tls_cert_has(struct mk_at_chan *ch, const char *name, bool *found)
{
    struct mk_tls_has_ctx x = {name, false};
    enum mk_err e = mk_tls_cert_list(ch, mk_tls_has_cb, &x);
    *found = x.found;
    return e;
}

enum mk_err mk_tls_cert_delete(struct mk_at_chan *ch, const char *name)
{
    if (!name || !name[0] || strlen(name) > MK_TLS_NAME_MAX)
        return MK_E_INVAL;
    for (const char *p = name; *p; p++)
        if (*p == '"' || (unsigned char)*p < 0x20)
            return MK_E_INVAL;
    char text[MK_TLS_NAME_MAX + 24];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+CCERTDELE=");
    mk_sb_putq(&sb, name);
    return mk_at_simple(ch, text, MK_TLS_CMD_TIMEOUT_MS, NULL, 0, NULL);
}
