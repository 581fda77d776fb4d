/*
 * Writes the seed corpus of fuzz_at: the module side of every transcript, under a few
 * mode bytes (see fuzz_at.c), plus a handful of hand-made inputs.
 *   make_corpus TRANSCRIPT_DIR OUT_DIR
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/transcript.h"

static int write_seed(const char *dir, const char *name, unsigned mode, unsigned seed,
                      const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-m%02x", dir, name, mode);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t head[2] = {(uint8_t)mode, (uint8_t)seed};
    int bad = fwrite(head, 1, 2, f) != 2 || fwrite(p, 1, n, f) != n;
    return fclose(f) != 0 || bad;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s TRANSCRIPT_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    static const unsigned modes[] = {0x00, 0x10, 0x11, 0x43, 0x45, 0x23, 0x8d};
    int bad = 0;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".tr") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        struct mk_transcript t;
        if (mk_tr_load(&t, path) != 0) {
            fprintf(stderr, "%s\n", t.err);
            mk_tr_free(&t);
            bad = 1;
            continue;
        }
        size_t n;
        uint8_t *m = mk_tr_module_bytes(&t, &n);
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(l - 3), e->d_name);
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            bad |= write_seed(argv[2], base, modes[i], (unsigned)i * 37u, m, n);
        free(m);
        mk_tr_free(&t);
    }
    closedir(d);

    /* hand-made: an over-long line, a prompt and data echo, NULs and a raw read */
    static const char lng[] = "\r\n+CMQTTRXSTART: 0,1,1,111111111111111111111111111111111111"
                              "11111111111111111111111111111111111111111111111111111111111"
                              "111111111111111\r\nOK\r\n";
    bad |= write_seed(argv[2], "hand-overflow", 0x11, 1, (const uint8_t *)lng, sizeof lng - 1);
    static const char echo[] = "AT+CMQTTTOPIC=0,27\r\r\n> aws/things/SOMETOPIC/\r\nOK\r\n"
                               "\r\nOK\r\n";
    bad |= write_seed(argv[2], "hand-data-echo", 0x03, 2, (const uint8_t *)echo, sizeof echo - 1);
    static const char raw[] = "\r\n+CMQTTRXPAYLOAD: 0,6\r\n\r\nOK\r\n\r\n\0\0OK\r\n";
    bad |= write_seed(argv[2], "hand-raw", 0x01, 3, (const uint8_t *)raw, sizeof raw - 1);
    return bad;
}
