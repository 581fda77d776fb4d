/*
 * The two SIMCom FOTA methods as struct mk_fota_target_ops: cfota (SIM7000/SIM7070) and
 * cdelta (SIM7500/SIM7600). Sources and UNVERIFIED points: include/modemkit/simcom_fota.h.
 */
#include <string.h>

#include "modemkit/simcom_fota.h"
#include "modemkit/simcom_fs.h"
#include "modemkit/str.h"

#define MK_FOTA_CMD_MS 10000u
#define CFOTA_INDEX    1 /* /fota/ (S5 §15 AT+CFSWFILE <index>) */
#define CFOTA_NAME     "update.zip"

/* ---- cfota ---- */

static enum mk_err cfota_begin(struct mk_at_chan *ch)
{
    return mk_simcom_cfs_init(ch);
}

static enum mk_err cfota_end(struct mk_at_chan *ch)
{
    return mk_simcom_cfs_term(ch);
}

static enum mk_err cfota_free(struct mk_at_chan *ch, uint64_t *bytes)
{
    return mk_simcom_cfs_free(ch, bytes);
}

static enum mk_err cfota_size(struct mk_at_chan *ch, uint64_t *size)
{
    return mk_simcom_cfs_size(ch, CFOTA_INDEX, CFOTA_NAME, size);
}

static enum mk_err cfota_remove(struct mk_at_chan *ch)
{
    enum mk_err e = mk_simcom_cfs_delete(ch, CFOTA_INDEX, CFOTA_NAME);
    return e == MK_E_NOENT ? MK_OK : e;
}

static enum mk_err cfota_write(struct mk_at_chan *ch, uint64_t off, const uint8_t *data, size_t len,
                               uint32_t rate)
{
    /* mode 0 starts the file afresh, mode 1 appends: the job writes in order */
    return mk_simcom_cfs_write(ch, CFOTA_INDEX, CFOTA_NAME, off > 0, data, len, rate);
}

static enum mk_err cfota_read(struct mk_at_chan *ch, uint64_t off, uint8_t *buf, size_t len)
{
    size_t got = 0;
    enum mk_err e = mk_simcom_cfs_read(ch, CFOTA_INDEX, CFOTA_NAME, off, buf, len, &got);
    return e == MK_OK && got != len ? MK_E_PROTO : e;
}

static enum mk_err cfota_fetch(struct mk_at_chan *ch, const char *url, uint32_t timeout_ms,
                               int *http_status)
{
    uint64_t len;
    *http_status = -1;
    enum mk_err e = mk_simcom_cfs_bearer_up(ch);
    if (e != MK_OK)
        return e;
    return mk_simcom_cfs_http_to_fs(ch, url, MK_SIMCOM_CFOTA_FILE, timeout_ms, http_status, &len);
}

static enum mk_err cfota_apply(struct mk_at_chan *ch)
{
    return mk_at_simple(ch, "AT+CFOTA=1", MK_FOTA_CMD_MS, NULL, 0, NULL);
}

static enum mk_err cfota_status(struct mk_at_chan *ch, int *status)
{
    char resp[96];
    enum mk_err e = mk_at_simple(ch, "AT+CFOTA?", MK_FOTA_CMD_MS, resp, sizeof resp, NULL);
    if (e != MK_OK)
        return e;
    for (const char *line = resp; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        struct mk_at_arg a[2];
        long v;
        if (mk_at_split(line, len, "+CFOTA:", a, 2) == 1 && mk_at_arg_long(&a[0], &v) == MK_OK &&
            v >= 0 && v < 100) {
            *status = (int)v;
            return MK_OK;
        }
        line = eol ? eol + 1 : NULL;
    }
    return MK_E_PROTO;
}

static enum mk_err cfota_clear(struct mk_at_chan *ch)
{
    return mk_at_simple(ch, "AT+CFOTA=0", MK_FOTA_CMD_MS, NULL, 0, NULL);
}

int mk_simcom_cfota_parse_urc(const char *line, size_t len, int *percent)
{
    struct mk_at_arg a[2];
    int n = mk_at_split(line, len, "+CFOTA:", a, 2);
    if (n < 1 || !a[0].quoted)
        return MK_FOTA_URC_OTHER;
    if (mk_starts_with(a[0].p, a[0].len, "Start to update"))
        return MK_FOTA_URC_START;
    if (mk_starts_with(a[0].p, a[0].len, "Update successfully"))
        return MK_FOTA_URC_SUCCESS;
    if (mk_starts_with(a[0].p, a[0].len, "Update failed"))
        return MK_FOTA_URC_FAILED;
    long v;
    if (n == 2 && mk_starts_with(a[0].p, a[0].len, "Updating") &&
        mk_at_arg_long(&a[1], &v) == MK_OK && v >= 0 && v <= 100) {
        *percent = (int)v;
        return MK_FOTA_URC_PROGRESS;
    }
    return MK_FOTA_URC_OTHER;
}

static const struct mk_fota_target_ops mk_simcom_cfota = {
    .name = "cfota",
    .method = MK_FOTA_METHOD_CFOTA,
    .file = MK_SIMCOM_CFOTA_FILE,
    .apply_text = "AT+CFOTA=1",
    .max_chunk = MK_SIMCOM_CFS_MAX_WRITE,
    .begin = cfota_begin,
    .end = cfota_end,
    .free_space = cfota_free,
    .file_size = cfota_size,
    .remove = cfota_remove,
    .write = cfota_write,
    .read = cfota_read,
    .fetch = cfota_fetch,
    .apply = cfota_apply,
    .status = cfota_status,
    .clear = cfota_clear,
    .urc_prefix = "+CFOTA:",
    .parse_urc = mk_simcom_cfota_parse_urc,
};

/* ---- cdelta ---- */

static enum mk_err cdelta_free(struct mk_at_chan *ch, uint64_t *bytes)
{
    uint64_t total, used;
    enum mk_err e = mk_simcom_fs_mem(ch, 'F', &total, &used);
    if (e == MK_OK)
        *bytes = used < total ? total - used : 0;
    return e;
}

static enum mk_err cdelta_size(struct mk_at_chan *ch, uint64_t *size)
{
    return mk_simcom_fs_size(ch, MK_SIMCOM_CDELTA_FILE, size);
}

static enum mk_err cdelta_remove(struct mk_at_chan *ch)
{
    enum mk_err e = mk_simcom_fs_delete(ch, MK_SIMCOM_CDELTA_FILE);
    return e == MK_E_NOENT ? MK_OK : e;
}

static enum mk_err cdelta_write(struct mk_at_chan *ch, uint64_t off, const uint8_t *data,
                                size_t len, uint32_t rate)
{
    return mk_simcom_fs_put(ch, MK_SIMCOM_CDELTA_FILE, off == 0 ? MK_SIMCOM_FS_NEW : off, data, len,
                            rate);
}

static enum mk_err cdelta_read(struct mk_at_chan *ch, uint64_t off, uint8_t *buf, size_t len)
{
    size_t got = 0;
    enum mk_err e = mk_simcom_fs_get(ch, MK_SIMCOM_CDELTA_FILE, off, buf, len, &got);
    return e == MK_OK && got != len ? MK_E_PROTO : e;
}

static enum mk_err cdelta_apply(struct mk_at_chan *ch)
{
    return mk_at_simple(ch, "AT+CDELTA=\"" MK_SIMCOM_CDELTA_FILE "\"", MK_FOTA_CMD_MS, NULL, 0,
                        NULL);
}

static const struct mk_fota_target_ops mk_simcom_cdelta = {
    .name = "cdelta",
    .method = MK_FOTA_METHOD_CDELTA,
    .file = MK_SIMCOM_CDELTA_FILE,
    .apply_text = "AT+CDELTA=\"" MK_SIMCOM_CDELTA_FILE "\"",
    .max_chunk = MK_SIMCOM_CDELTA_CHUNK,
    .free_space = cdelta_free,
    .file_size = cdelta_size,
    .remove = cdelta_remove,
    .write = cdelta_write,
    .read = cdelta_read,
    .apply = cdelta_apply,
};

const struct mk_fota_target_ops *mk_simcom_fota_ops(enum mk_fota_method method)
{
    switch (method) {
    case MK_FOTA_METHOD_CFOTA:
        return &mk_simcom_cfota;
    case MK_FOTA_METHOD_CDELTA:
        return &mk_simcom_cdelta;
    default:
        return NULL;
    }
}

enum mk_fota_method mk_simcom_fota_method_for(enum mk_family family)
{
    switch (family) {
    case MK_FAMILY_SIM7000:
    case MK_FAMILY_SIM7070:
        return MK_FOTA_METHOD_CFOTA;
    case MK_FAMILY_SIM7500:
    case MK_FAMILY_SIM7600:
        return MK_FOTA_METHOD_CDELTA;
    default:
        return MK_FOTA_METHOD_NONE;
    }
}
