/*
 * CWE verification throughput: builds an RC7620-sized package (~35 MB, SPKG with BOOT,
 * APPL, MODM and NVUP, as in seed 004) in memory and times mk_cwe_parse() with payload
 * CRCs, for several scratch-buffer sizes. Prints MB/s and the ratio to a USB 2.0 bulk
 * rate (~35 MB/s), i.e. whether verifying before flashing costs more than the transfer.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "modemkit/cwe.h"
#include "modemkit/cwe_build.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    struct mk_cwe_package p = {.product = "9X07",
                               .sku = "9999999_9904609_SWI9X07H",
                               .device = "SWI9X07H",
                               .firmware = "00.08.24.02",
                               .carrier = "GENERIC",
                               .config = "001.110_000",
                               .boot_len = 425000,
                               .appl_len = 25750000,
                               .modm_len = 8300000,
                               .nvup_len = 380000,
                               .seed = 3};
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, NULL, 0);
    mk_cwe_build_package(&b, &p);
    size_t len;
    if (mk_cwe_build_finish(&b, &len) != MK_OK)
        return 1;
    uint8_t *img = malloc(len);
    if (!img)
        return 1;
    double t0 = now_s();
    mk_cwe_build_init(&b, img, len);
    mk_cwe_build_package(&b, &p);
    if (mk_cwe_build_finish(&b, &len) != MK_OK)
        return 1;
    double tb = now_s() - t0;
    printf("built %zu bytes in %.3f s\n", len, tb);

    static const size_t scratch_sizes[] = {400, 4096, 65536};
    for (size_t i = 0; i < sizeof scratch_sizes / sizeof scratch_sizes[0]; i++) {
        uint8_t *scratch = malloc(scratch_sizes[i]);
        struct mk_cwe_mem mem = {img, len};
        struct mk_cwe_reader rd = {mk_cwe_mem_read, &mem, len, NULL};
        struct mk_cwe_image images[32];
        struct mk_cwe_info info = {.images = images, .cap = 32};
        t0 = now_s();
        enum mk_err err = mk_cwe_parse(&rd, scratch, scratch_sizes[i], 0, &info);
        double t = now_s() - t0;
        double mbs = (double)len / 1e6 / t;
        printf("verify (scratch %6zu B): %s, %zu images, %.3f s, %.1f MB/s, %.2fx USB 2.0 bulk\n",
               scratch_sizes[i], err ? "FAILED" : "ok", info.count, t, mbs, mbs / 35.0);
        free(scratch);
    }
    free(img);
    return 0;
}
