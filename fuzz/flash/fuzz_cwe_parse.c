/*
 * CWE parser over an in-memory reader (exact-size copy, so ASan catches over-reads),
 * with a small scratch buffer and a small image array. The version-string parser runs
 * on the input too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/cwe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    struct mk_cwe_mem mem = {copy, size};
    struct mk_cwe_reader rd = {mk_cwe_mem_read, &mem, size,
                               "SWI9X07H_00.08.24.02_GENERIC_001.110_000.cwe"};
    struct mk_cwe_image images[12];
    uint8_t scratch[512];
    struct mk_cwe_info info = {.images = images, .cap = 12};
    enum mk_err err = mk_cwe_parse(&rd, scratch, sizeof scratch, 0, &info);
    if (err == MK_OK && info.problem != MK_CWE_FINE)
        abort();
    if (err != MK_OK && info.problem == MK_CWE_FINE)
        abort();
    if (info.count > info.cap)
        abort();
    char msg[200];
    (void)mk_cwe_describe_problem(&info, msg, sizeof msg);
    char fw[12] = "", cfg[12] = "", car[16] = "";
    (void)mk_cwe_parse_version((const char *)copy, size, fw, cfg, car, sizeof car);
    free(copy);
    return 0;
}
