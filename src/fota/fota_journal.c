/*
 * The job journal: one small JSON document per job, human-readable on purpose (a field
 * engineer can `cat` it), written whole and atomically by the caller's store.
 */
#include <string.h>

#include "fota_int.h"
#include "modemkit/fota.h"

#define MK_FOTA_JOURNAL_TOKS 64

const char *mk_fota_state_name(enum mk_fota_state s)
{
    switch (s) {
    case MK_FOTA_STATE_IDLE:
        return "idle";
    case MK_FOTA_STATE_DOWNLOADING:
        return "downloading";
    case MK_FOTA_STATE_DOWNLOADED:
        return "downloaded";
    case MK_FOTA_STATE_UPDATING:
        return "updating";
    default:
        return "?";
    }
}

const char *mk_fota_result_name(enum mk_fota_result r)
{
    switch (r) {
    case MK_FOTA_RES_INITIAL:
        return "initial";
    case MK_FOTA_RES_SUCCESS:
        return "success";
    case MK_FOTA_RES_NO_FLASH:
        return "not enough flash";
    case MK_FOTA_RES_NO_RAM:
        return "out of RAM";
    case MK_FOTA_RES_CONN_LOST:
        return "connection lost";
    case MK_FOTA_RES_INTEGRITY:
        return "integrity check failure";
    case MK_FOTA_RES_UNSUPPORTED_PKG:
        return "unsupported package";
    case MK_FOTA_RES_INVALID_URI:
        return "invalid URI";
    case MK_FOTA_RES_FAILED:
        return "update failed";
    case MK_FOTA_RES_UNSUPPORTED_PROTO:
        return "unsupported protocol";
    case MK_FOTA_RES_CANCELLED:
        return "cancelled";
    case MK_FOTA_RES_DEFERRED:
        return "deferred";
    default:
        return "?";
    }
}

enum mk_fota_result mk_fota_result_for(enum mk_err err)
{
    switch (err) {
    case MK_OK:
        return MK_FOTA_RES_SUCCESS;
    case MK_E_FOTA_SPACE:
        return MK_FOTA_RES_NO_FLASH;
    case MK_E_FOTA_INTEGRITY:
    case MK_E_FOTA_SIGNATURE:
        return MK_FOTA_RES_INTEGRITY;
    case MK_E_FOTA_MODEL:
    case MK_E_FOTA_SOURCE:
    case MK_E_MANIFEST:
    case MK_E_UNSUPPORTED:
    case MK_E_FW_UNSUPPORTED:
    case MK_E_INVAL:
        return MK_FOTA_RES_UNSUPPORTED_PKG;
    case MK_E_HANGUP:
    case MK_E_TIMEOUT:
    case MK_E_IO:
        return MK_FOTA_RES_CONN_LOST;
    default:
        return MK_FOTA_RES_FAILED;
    }
}

static void mk_fota_kv_str(struct mk_sb *sb, const char *key, const char *v, bool last)
{
    mk_sb_puts(sb, "  \"");
    mk_sb_puts(sb, key);
    mk_sb_puts(sb, "\": ");
    mk_fota_sb_json(sb, v);
    mk_sb_puts(sb, last ? "\n" : ",\n");
}

static void mk_fota_kv_u64(struct mk_sb *sb, const char *key, uint64_t v)
{
    mk_sb_puts(sb, "  \"");
    mk_sb_puts(sb, key);
    mk_sb_puts(sb, "\": ");
    mk_sb_putu(sb, v);
    mk_sb_puts(sb, ",\n");
}

static void mk_fota_kv_bool(struct mk_sb *sb, const char *key, bool v)
{
    mk_sb_puts(sb, "  \"");
    mk_sb_puts(sb, key);
    mk_sb_puts(sb, v ? "\": true,\n" : "\": false,\n");
}

enum mk_err mk_fota_journal_encode(const struct mk_fota_journal *j, char *buf, size_t cap,
                                   size_t *len)
{
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    mk_sb_puts(&sb, "{\n");
    mk_fota_kv_str(&sb, "format", MK_FOTA_JOURNAL_FORMAT, false);
    mk_fota_kv_str(&sb, "package", j->package, false);
    mk_fota_kv_str(&sb, "path", j->path, false);
    mk_fota_kv_str(&sb, "model", j->model, false);
    mk_fota_kv_str(&sb, "source", j->source, false);
    mk_fota_kv_str(&sb, "target", j->target, false);
    mk_fota_kv_str(&sb, "method", mk_fota_method_name(j->method), false);
    mk_fota_kv_u64(&sb, "delta_size", j->delta_size);
    mk_fota_kv_u64(&sb, "state", (uint64_t)j->state);
    mk_fota_kv_str(&sb, "state_name", mk_fota_state_name(j->state), false);
    mk_fota_kv_u64(&sb, "result", (uint64_t)j->result);
    mk_fota_kv_str(&sb, "result_name", mk_fota_result_name(j->result), false);
    mk_fota_kv_bool(&sb, "final", j->final);
    mk_fota_kv_u64(&sb, "offset", j->offset);
    mk_fota_kv_bool(&sb, "apply_sent", j->apply_sent);
    mk_fota_kv_u64(&sb, "apply_count", j->apply_count);
    mk_fota_kv_u64(&sb, "sessions", j->sessions);
    mk_fota_kv_bool(&sb, "power_cycled", j->power_cycled);
    mk_fota_kv_bool(&sb, "reported", j->reported);
    mk_fota_kv_str(&sb, "error", mk_err_name(j->err), false);
    mk_fota_kv_u64(&sb, "error_code", (uint64_t)j->err);
    mk_fota_kv_str(&sb, "message", j->message, true);
    mk_sb_puts(&sb, "}\n");
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    *len = sb.len;
    return MK_OK;
}

static bool mk_fota_get_bool(const struct mk_json *doc, const char *key, bool *out)
{
    int i = mk_json_get(doc, 0, key);
    return i >= 0 && mk_json_bool(doc, i, out) == MK_OK;
}

enum mk_err mk_fota_journal_decode(struct mk_fota_journal *j, const char *text, size_t len)
{
    struct mk_json_tok toks[MK_FOTA_JOURNAL_TOKS];
    struct mk_json doc;
    char method[16];
    uint64_t state, result, apply_count, sessions, err;
    memset(j, 0, sizeof *j);
    if (mk_json_parse(&doc, text, len, toks, MK_FOTA_JOURNAL_TOKS) != MK_OK ||
        toks[0].type != MK_JSON_OBJECT)
        return MK_E_JOURNAL;
    int fmt = mk_json_get(&doc, 0, "format");
    if (fmt < 0 || !mk_json_streq(&doc, fmt, MK_FOTA_JOURNAL_FORMAT))
        return MK_E_JOURNAL;
    if (mk_fota_json_get_str(&doc, 0, "package", j->package, sizeof j->package) != MK_OK ||
        mk_fota_json_get_str(&doc, 0, "path", j->path, sizeof j->path) != MK_OK ||
        mk_fota_json_get_str(&doc, 0, "model", j->model, sizeof j->model) != MK_OK ||
        mk_fota_json_get_str(&doc, 0, "source", j->source, sizeof j->source) != MK_OK ||
        mk_fota_json_get_str(&doc, 0, "target", j->target, sizeof j->target) != MK_OK ||
        mk_fota_json_get_str(&doc, 0, "method", method, sizeof method) != MK_OK ||
        mk_fota_json_get_str(&doc, 0, "message", j->message, sizeof j->message) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "delta_size", &j->delta_size) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "state", &state) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "result", &result) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "offset", &j->offset) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "apply_count", &apply_count) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "sessions", &sessions) != MK_OK ||
        mk_fota_json_get_u64(&doc, 0, "error_code", &err) != MK_OK ||
        !mk_fota_get_bool(&doc, "final", &j->final) ||
        !mk_fota_get_bool(&doc, "apply_sent", &j->apply_sent) ||
        !mk_fota_get_bool(&doc, "power_cycled", &j->power_cycled) ||
        !mk_fota_get_bool(&doc, "reported", &j->reported))
        return MK_E_JOURNAL;
    if (strlen(j->package) != 2 * MK_SHA256_LEN || state > MK_FOTA_STATE_UPDATING ||
        result > MK_FOTA_RES_DEFERRED || apply_count > UINT32_MAX || sessions > UINT32_MAX ||
        err > 1000)
        return MK_E_JOURNAL;
    if (strcmp(method, "cfota") == 0)
        j->method = MK_FOTA_METHOD_CFOTA;
    else if (strcmp(method, "cdelta") == 0)
        j->method = MK_FOTA_METHOD_CDELTA;
    else
        return MK_E_JOURNAL;
    j->state = (enum mk_fota_state)state;
    j->result = (enum mk_fota_result)result;
    j->apply_count = (uint32_t)apply_count;
    j->sessions = (uint32_t)sessions;
    j->err = (enum mk_err)err;
    return MK_OK;
}
