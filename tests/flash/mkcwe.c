/*
 * mk_mkcwe: writes a test CWE image (cwe_build.h's package shape) for the end-to-end
 * tests and benchmarks that drive modemctl and modemsim from scripts.
 *
 *   mk_mkcwe OUT [--product 9X07] [--firmware 00.08.24.02] [--carrier GENERIC]
 *                [--config 001.110_000] [--sku S] [--device SWI9X07H] [--top TYPE]
 *                [--boot N] [--appl N] [--modm N] [--nvup N] [--seed N] [--flip OFFSET]
 *                [--top-version S] [--boot-version S] [--nvup-version S]
 *
 * --flip OFFSET flips one bit of the byte at OFFSET (from the end when negative) after
 * building, to make a corrupt image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modemkit/cwe_build.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mk_mkcwe OUT [options]\n");
        return 2;
    }
    struct mk_cwe_package p = {
        .product = "9X07",
        .sku = "9999999_9904609_SWI9X07H",
        .device = "SWI9X07H",
        .firmware = "00.08.24.02",
        .carrier = "GENERIC",
        .config = "001.110_000",
        .boot_len = 3000,
        .appl_len = 100000,
        .modm_len = 60000,
        .nvup_len = 2000,
        .seed = 1,
    };
    long long flip = 0;
    int have_flip = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--product"))
            p.product = v;
        else if (!strcmp(o, "--firmware"))
            p.firmware = v;
        else if (!strcmp(o, "--carrier"))
            p.carrier = v;
        else if (!strcmp(o, "--config"))
            p.config = v;
        else if (!strcmp(o, "--sku"))
            p.sku = v;
        else if (!strcmp(o, "--device"))
            p.device = v;
        else if (!strcmp(o, "--top"))
            p.top_type = v;
        else if (!strcmp(o, "--top-version"))
            p.top_version = v;
        else if (!strcmp(o, "--boot-version"))
            p.boot_version = v;
        else if (!strcmp(o, "--nvup-version"))
            p.nvup_version = v;
        else if (!strcmp(o, "--boot"))
            p.boot_len = strtoul(v, NULL, 0);
        else if (!strcmp(o, "--appl"))
            p.appl_len = strtoul(v, NULL, 0);
        else if (!strcmp(o, "--modm"))
            p.modm_len = strtoul(v, NULL, 0);
        else if (!strcmp(o, "--nvup"))
            p.nvup_len = strtoul(v, NULL, 0);
        else if (!strcmp(o, "--seed"))
            p.seed = (uint32_t)strtoul(v, NULL, 0);
        else if (!strcmp(o, "--flip")) {
            flip = strtoll(v, NULL, 0);
            have_flip = 1;
        } else {
            fprintf(stderr, "mk_mkcwe: unknown option %s\n", o);
            return 2;
        }
    }
    struct mk_cwe_build b;
    mk_cwe_build_init(&b, NULL, 0);
    mk_cwe_build_package(&b, &p);
    size_t len = 0;
    if (mk_cwe_build_finish(&b, &len) != MK_OK) {
        fprintf(stderr, "mk_mkcwe: bad package description\n");
        return 1;
    }
    uint8_t *buf = malloc(len);
    if (!buf)
        return 1;
    mk_cwe_build_init(&b, buf, len);
    mk_cwe_build_package(&b, &p);
    if (mk_cwe_build_finish(&b, &len) != MK_OK)
        return 1;
    if (have_flip) {
        long long at = flip < 0 ? (long long)len + flip : flip;
        if (at < 0 || at >= (long long)len)
            return 1;
        buf[at] ^= 0x10;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    free(buf);
    printf("%zu\n", len);
    return 0;
}
