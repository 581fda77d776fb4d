/* libFuzzer target for the local PEM check (include/modemkit/tls.h) and store names. */
#include <stdint.h>
#include <string.h>

#include "modemkit/tls.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mk_tls_pem_info info;
    enum mk_err e = mk_tls_pem_check(data, size, &info);
    CHECK(e == MK_OK ? info.why == NULL && info.certs + info.keys + info.others > 0
                     : e == MK_E_CERT && info.why != NULL);
    char base[64], name[MK_TLS_NAME_MAX + 1];
    size_t n = size < sizeof base - 1 ? size : sizeof base - 1;
    memcpy(base, data, n);
    base[n] = '\0';
    CHECK(mk_tls_store_name(base, data, size, name, sizeof name) == MK_OK);
    CHECK(mk_tls_name_ok(name));
    return 0;
}
