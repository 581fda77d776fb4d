/*
 * The module's TLS file store (SIMCom SIM7500/SIM7600/A76xx, S1 §10):
 *   AT+CCERTDOWN="<name>",<len>  ">" then exactly len bytes (1..10240)
 *   AT+CCERTLIST                 one +CCERTLIST: "<name>" line per file
 *   AT+CCERTDELE="<name>"
 * Names are 5..128 bytes and end in ".pem" or ".der". Files are bound to an SSL context
 * with AT+CSSLCFG (done by the MQTT client, include/modemkit/mqtt.h).
 *
 * Before anything goes to the module, a file is checked locally (mk_tls_pem_check): a
 * module that stores a truncated or mangled PEM only fails much later, at the TLS
 * handshake, with "+CMQTTCONNECT: 0,34" or 32 and no hint which file was wrong.
 */
#ifndef MODEMKIT_TLS_H
#define MODEMKIT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/at.h"
#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MK_TLS_FILE_MAX 10240 /* AT+CCERTDOWN <len> 1..10240 (S1 p.262) */
#define MK_TLS_NAME_MAX 128   /* file names 5..128 bytes */

/* What a PEM file holds. */
struct mk_tls_pem_info {
    unsigned certs;     /* CERTIFICATE / TRUSTED CERTIFICATE blocks */
    unsigned keys;      /* PRIVATE KEY, RSA/EC PRIVATE KEY, ENCRYPTED PRIVATE KEY blocks */
    unsigned others;    /* other blocks (EC PARAMETERS, ...) */
    bool encrypted_key; /* ENCRYPTED PRIVATE KEY or a Proc-Type: 4,ENCRYPTED header */
    size_t line;        /* 1-based line of the problem, 0 when none */
    const char *why;    /* NULL when well-formed, else a fixed sentence */
};

/*
 * Checks that data is a usable PEM file for the module: 1..10240 bytes, text, one or
 * more -----BEGIN X----- ... -----END X----- blocks with matching labels and a base64
 * body whose length is a multiple of 4. Text outside the blocks is allowed (OpenSSL
 * writes "Bag Attributes" and certificate dumps there). MK_OK, or MK_E_CERT with
 * info->why and info->line set. info is always filled.
 */
enum mk_err mk_tls_pem_check(const uint8_t *data, size_t len, struct mk_tls_pem_info *info);

/* True for a name the module accepts: 5..128 bytes, ".pem"/".der", no '"', '/', '\\' or
 * control bytes. */
bool mk_tls_name_ok(const char *name);

/*
 * A content-addressed store name for a file: "<stem>-<first 8 hex digits of its
 * SHA-256>.pem", stem taken from base (a local file name, directories and extension
 * dropped, characters outside [A-Za-z0-9._-] replaced by '_', cut so the whole name fits
 * in 128 bytes). The module cannot give a stored file back, so equal names mean equal
 * content: a file only needs uploading when its name is missing. MK_E_NOSPC if cap < 20.
 */
enum mk_err mk_tls_store_name(const char *base, const uint8_t *data, size_t len, char *out,
                              size_t cap);

/*
 * Uploads a file (AT+CCERTDOWN; the data is redacted in traces). MK_E_INVAL for a bad
 * name or size, MK_E_AT_ERROR when the module refuses, I/O errors as they come.
 */
enum mk_err mk_tls_cert_put(struct mk_at_chan *ch, const char *name, const uint8_t *data,
                            size_t len);

/* Calls cb once per stored file name (AT+CCERTLIST); name is valid during the call. */
enum mk_err mk_tls_cert_list(struct mk_at_chan *ch, void (*cb)(void *user, const char *name),
                             void *user);

/* True when the store has name. *found is set; errors as mk_tls_cert_list. */
enum mk_err mk_tls_cert_has(struct mk_at_chan *ch, const char *name, bool *found);

/* Deletes a file (AT+CCERTDELE). MK_E_AT_ERROR when the module refuses (no such file). */
enum mk_err mk_tls_cert_delete(struct mk_at_chan *ch, const char *name);

#ifdef __cplusplus
}
#endif

#endif
