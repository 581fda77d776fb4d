/*
 * Fuzz everything FOTA reads from untrusted bytes: the package archive (ustar walk,
 * manifest.json, manifest.sig, delta member), the manifest parser on its own, and the
 * journal parser. The input is used as a whole package, as a manifest and as a journal.
 */
#include <stdint.h>
#include <string.h>

#include "modemkit/fota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct buf {
    const uint8_t *p;
    size_t n;
};

static enum mk_err rd_read(void *ctx, uint64_t off, void *out, size_t len)
{
    const struct buf *b = ctx;
    if (off > b->n || len > b->n - off)
        return MK_E_IO;
    memcpy(out, b->p + off, len);
    return MK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char man[4096];
    static uint8_t work[1024];
    struct buf b = {data, size};
    struct mk_fota_reader rd = {rd_read, &b, size};
    struct mk_fota_pkg pkg;
    char why[200];
    if (mk_fota_pkg_open(&pkg, &rd, man, sizeof man, work, sizeof work, why, sizeof why) == MK_OK)
        (void)mk_fota_pkg_check_delta(&pkg, work, sizeof work, why, sizeof why);
    struct mk_fota_manifest m;
    if (mk_fota_manifest_parse((const char *)data, size, &m, why, sizeof why) == MK_OK) {
        char out[4096];
        size_t len;
        (void)mk_fota_manifest_write(&m, out, sizeof out, &len);
    }
    struct mk_fota_journal j;
    if (mk_fota_journal_decode(&j, (const char *)data, size) == MK_OK) {
        static char out[4096];
        size_t len;
        (void)mk_fota_journal_encode(&j, out, sizeof out, &len);
    }
    if (size >= MK_TAR_BLOCK) {
        struct mk_tar_entry e;
        (void)mk_tar_parse_header(data, 0, &e);
    }
    return 0;
}
