/*
 * modemsim: the SIM7500/7600 TLS store (S1 §10).
 *   AT+CCERTDOWN="<name>",<len>  ">" then exactly len bytes (1..10240); name 5..128
 *                                bytes ending ".pem"/".der"; kept in flash
 *   AT+CCERTLIST, AT+CCERTDELE="<name>"
 *   AT+CSSLCFG="<key>",<ctx>,<value>; contexts 0..9 with the manual's defaults
 *   (sslversion 4, authmode 0, ignorelocaltime 1, negotiatetime 300, enableSNI 0)
 * sim_tls_build() turns a context into an OpenSSL SSL_CTX for the broker connection and
 * decides the CMQTT TLS errors that happen before any byte is sent:
 *   33 "not set certificate": the authmode needs a file that is not configured or not in
 *      the store;
 *   34 "open SSL session failed": a configured file cannot be used (not a certificate or
 *      key in PEM/DER, wrong key password, key not matching the certificate).
 * 32 "handshake fail" comes later, from the handshake itself (mqtt.c).
 */
#include "sim.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool cert_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || n > 128 || strchr(name, '/') || strchr(name, '\\'))
        return false;
    return strcasecmp(name + n - 4, ".pem") == 0 || strcasecmp(name + n - 4, ".der") == 0;
}

/* ---- CCERTDOWN / CCERTLIST / CCERTDELE ---- */

static int ccert_data(struct sim *s, const uint8_t *data, size_t len, void *ctx)
{
    (void)ctx;
    if (sim_flash_put(s, SIM_AREA_CERT, s->ccert_pending, data, len) != 0)
        return SIM_ERROR;
    return SIM_OK;
}

static int h_ccertdown(struct sim *s, const struct sim_req *r)
{
    long len;
    char name[129];
    if (r->type != SIM_REQ_SET || r->nargs != 2 || !sim_arg_str(r, 0, name, sizeof name) ||
        !cert_name_ok(name) || !sim_arg_long(r, 1, &len) || len < 1 || len > 10240)
        return SIM_ERROR;
    snprintf(s->ccert_pending, sizeof s->ccert_pending, "%s", name);
    return sim_prompt(s, (size_t)len, NULL, ccert_data, NULL);
}

static int h_ccertlist(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    size_t n;
    const struct sim_file *f = sim_flash_list(s, SIM_AREA_CERT, &n);
    struct sim_buf b = {0};
    for (size_t i = 0; i < n; i++)
        sim_buf_printf(&b, "%s+CCERTLIST: \"%s\"", i ? "\r\n" : "", f[i].name);
    if (b.len)
        sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
    sim_buf_free(&b);
    return SIM_OK;
}

static int h_ccertdele(struct sim *s, const struct sim_req *r)
{
    char name[160];
    if (r->type != SIM_REQ_SET || !sim_arg_str(r, 0, name, sizeof name))
        return SIM_ERROR;
    return sim_flash_del(s, SIM_AREA_CERT, name) == 0 ? SIM_OK : SIM_ERROR;
}

/* ---- CSSLCFG ---- */

static void ctx_defaults(struct sim *s, struct sim_ssl_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->sslversion = (s->prof->caps & SIM_CAP_SSL_ALL) ? 4 : 3; /* see profiles.c SIM7500A */
    c->authmode = 0;
    c->ignorelocaltime = 1;
    c->negotiatetime = 300;
    c->enable_sni = 0;
    c->ciphersuites = 0xFFFF;
}

static void print_ctx(struct sim_buf *b, int i, const struct sim_ssl_ctx *c)
{
    /* UNVERIFIED quoting; field order from S1 §10 */
    sim_buf_printf(b, "%s+CSSLCFG: %d,%d,%d,%d,%d,\"%s\",\"%s\",\"%s\",%d,\"%s\",0x%04lX",
                   b->len ? "\r\n" : "", i, c->sslversion, c->authmode, c->ignorelocaltime,
                   c->negotiatetime, c->cacert, c->clientcert, c->clientkey, c->enable_sni,
                   c->keypwd, c->ciphersuites);
}

static int h_csslcfg(struct sim *s, const struct sim_req *r)
{
    struct sim_buf b = {0};
    long ctx, v;
    if (r->type == SIM_REQ_READ || (r->type == SIM_REQ_SET && r->nargs == 1)) {
        int from = 0, to = SIM_NSSLCTX - 1;
        if (r->type == SIM_REQ_SET) {
            if (!sim_arg_long(r, 0, &ctx) || ctx < 0 || ctx >= SIM_NSSLCTX)
                return SIM_ERROR;
            from = to = (int)ctx;
        }
        for (int i = from; i <= to; i++)
            print_ctx(&b, i, &s->ssl[i]);
        sim_reply(s, "%.*s", (int)b.len, (const char *)b.p);
        sim_buf_free(&b);
        return SIM_OK;
    }
    if (r->type != SIM_REQ_SET || r->nargs != 3 || !r->arg[0].quoted ||
        !sim_arg_long(r, 1, &ctx) || ctx < 0 || ctx >= SIM_NSSLCTX)
        return SIM_ERROR;
    struct sim_ssl_ctx *c = &s->ssl[ctx];
    struct {
        const char *key;
        int *field;
        long lo, hi;
    } ints[] = {
        {"sslversion", &c->sslversion, 0, (s->prof->caps & SIM_CAP_SSL_ALL) ? 4 : 3},
        {"authmode", &c->authmode, 0, 3},
        {"ignorelocaltime", &c->ignorelocaltime, 0, 1},
        {"negotiatetime", &c->negotiatetime, 10, 300},
        {"enableSNI", &c->enable_sni, 0, 1},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (!sim_arg_is(r, 0, ints[i].key))
            continue;
        /* LE11B02SIM7500A: "sslversion",0,4 → ERROR (seed 001) falls out of the range */
        if (!sim_arg_long(r, 2, &v) || v < ints[i].lo || v > ints[i].hi)
            return SIM_ERROR;
        *ints[i].field = (int)v;
        return SIM_OK;
    }
    struct {
        const char *key;
        char *field;
    } files[] = {{"cacert", c->cacert}, {"clientcert", c->clientcert}, {"clientkey", c->clientkey}};
    for (size_t i = 0; i < 3; i++) {
        if (!sim_arg_is(r, 0, files[i].key))
            continue;
        char name[129];
        if (!sim_arg_str(r, 2, name, sizeof name) || !cert_name_ok(name))
            return SIM_ERROR;
        snprintf(files[i].field, sizeof c->cacert, "%s", name);
        return SIM_OK;
    }
    if (sim_arg_is(r, 0, "keypwd")) {
        return sim_arg_str(r, 2, c->keypwd, sizeof c->keypwd) ? SIM_OK : SIM_ERROR;
    }
    if (sim_arg_is(r, 0, "ciphersuites")) {
        char hex[16];
        char *end;
        if (!sim_arg_str(r, 2, hex, sizeof hex))
            return SIM_ERROR;
        v = strtol(hex, &end, 16);
        if (*end || v < 0 || v > 0xFFFF)
            return SIM_ERROR;
        c->ciphersuites = v; /* recorded only: OpenSSL picks from its defaults */
        return SIM_OK;
    }
    return SIM_ERROR;
}

/* ---- SSL_CTX from a context ---- */

static int pwd_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pwd = u;
    size_t n = strlen(pwd);
    if (n == 0 || n >= (size_t)size)
        return 0; /* no password: never prompt on a terminal */
    memcpy(buf, pwd, n);
    return (int)n;
}

static bool is_pem(const struct sim_file *f)
{
    return f->len >= 10 && memmem(f->data, f->len, "-----BEGIN", 10) != NULL;
}

/* Adds every certificate of f to the store; returns how many. */
static int load_ca(X509_STORE *st, const struct sim_file *f)
{
    int n = 0;
    BIO *bio = BIO_new_mem_buf(f->data, (int)f->len);
    if (!bio)
        return 0;
    if (is_pem(f)) {
        X509 *x;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (X509_STORE_add_cert(st, x) == 1)
                n++;
            X509_free(x);
        }
    } else {
        X509 *x = d2i_X509_bio(bio, NULL);
        if (x && X509_STORE_add_cert(st, x) == 1)
            n++;
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error();
    return n;
}

static X509 *load_cert(const struct sim_file *f)
{
    BIO *bio = BIO_new_mem_buf(f->data, (int)f->len);
    if (!bio)
        return NULL;
    X509 *x = is_pem(f) ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : d2i_X509_bio(bio, NULL);
    BIO_free(bio);
    return x;
}

static EVP_PKEY *load_key(const struct sim_file *f, char *pwd)
{
    BIO *bio = BIO_new_mem_buf(f->data, (int)f->len);
    if (!bio)
        return NULL;
    EVP_PKEY *k = is_pem(f) ? PEM_read_bio_PrivateKey(bio, NULL, pwd_cb, pwd)
                            : d2i_PrivateKey_bio(bio, NULL);
    BIO_free(bio);
    return k;
}

static const struct sim_file *need_file(struct sim *s, const char *name)
{
    return name[0] ? sim_flash_get(s, SIM_AREA_CERT, name) : NULL;
}

void *sim_tls_build(struct sim *s, int ctxi, int *err)
{
    struct sim_ssl_ctx *c = &s->ssl[ctxi];
    bool need_ca = c->authmode == 1 || c->authmode == 2;
    bool need_cert = c->authmode == 2 || c->authmode == 3;
    const struct sim_file *ca = NULL, *cert = NULL, *key = NULL;
    if (need_ca && !(ca = need_file(s, c->cacert))) {
        *err = 33;
        return NULL;
    }
    if (need_cert &&
        (!(cert = need_file(s, c->clientcert)) || !(key = need_file(s, c->clientkey)))) {
        *err = 33;
        return NULL;
    }
    SSL_CTX *x = SSL_CTX_new(TLS_client_method());
    if (!x) {
        *err = 34;
        return NULL;
    }
    static const int versions[] = {SSL3_VERSION, TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION};
    if (c->sslversion >= 0 && c->sslversion <= 3) {
        SSL_CTX_set_min_proto_version(x, versions[c->sslversion]);
        SSL_CTX_set_max_proto_version(x, versions[c->sslversion]);
    }
    *err = 34;
    if (need_ca) {
        X509_STORE *st = SSL_CTX_get_cert_store(x);
        if (load_ca(st, ca) == 0)
            goto fail;
        if (c->ignorelocaltime)
            X509_STORE_set_flags(st, X509_V_FLAG_NO_CHECK_TIME);
        SSL_CTX_set_verify(x, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
    }
    if (need_cert) {
        X509 *xc = load_cert(cert);
        if (!xc)
            goto fail;
        int ok = SSL_CTX_use_certificate(x, xc);
        X509_free(xc);
        EVP_PKEY *k = ok == 1 ? load_key(key, c->keypwd) : NULL;
        if (!k)
            goto fail;
        ok = SSL_CTX_use_PrivateKey(x, k);
        EVP_PKEY_free(k);
        if (ok != 1 || SSL_CTX_check_private_key(x) != 1)
            goto fail;
    }
    ERR_clear_error();
    *err = 0;
    return x;
fail:
    ERR_clear_error();
    SSL_CTX_free(x);
    return NULL;
}

static void power_on(struct sim *s)
{
    for (int i = 0; i < SIM_NSSLCTX; i++)
        ctx_defaults(s, &s->ssl[i]);
}

static const struct sim_cmd cmds[] = {
    {"+CCERTDOWN", SIM_CAP_CCERT, 0, h_ccertdown, "+CCERTDOWN: (5-128),(1-10240)"},
    {"+CCERTLIST", SIM_CAP_CCERT, 0, h_ccertlist, NULL},
    {"+CCERTDELE", SIM_CAP_CCERT, 0, h_ccertdele, "+CCERTDELE: (5-128)"},
    {"+CSSLCFG", SIM_CAP_CCERT, 0, h_csslcfg,
     /* S1 §10 test answer, one key per line */
     "+CSSLCFG: \"sslversion\",(0-9),(0-4)\r\n"
     "+CSSLCFG: \"authmode\",(0-9),(0-3)\r\n"
     "+CSSLCFG: \"ignorelocaltime\",(0-9),(0,1)\r\n"
     "+CSSLCFG: \"negotiatetime\",(0-9),(10-300)\r\n"
     "+CSSLCFG: \"cacert\",(0-9),(5-128)\r\n"
     "+CSSLCFG: \"clientcert\",(0-9),(5-128)\r\n"
     "+CSSLCFG: \"clientkey\",(0-9),(5-128)\r\n"
     "+CSSLCFG: \"enableSNI\",(0-9),(0,1)\r\n"
     "+CSSLCFG: \"keypwd\",(0-9),(0-128)\r\n"
     "+CSSLCFG: \"ciphersuites\",(0-9),(0x002F,0xFFFF)"},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_tls = {"tls", cmds, power_on, NULL};
