/*
 * modemctl host helpers for image files: a file opened as a struct mk_flash_file
 * (pread, nothing loaded into memory) and the CWE walk shared by `image` and `flash`.
 */
#ifndef MODEMCTL_IMAGE_H
#define MODEMCTL_IMAGE_H

#include <stdbool.h>
#include <stdio.h>

#include "modemkit/cwe.h"
#include "modemkit/flash.h"

#define MK_CLI_CWE_TREE 128

struct mk_cli_file {
    int fd;
    char path[1024];
    const char *base;       /* basename, points into path */
    struct mk_flash_file f; /* read/ctx/size/name, ready for the sessions */
};

/* Opens path read-only. MK_E_NOENT, MK_E_PERM, MK_E_INVAL (a directory) or MK_E_IO;
 * errno-style text in *why (may be NULL). */
enum mk_err mk_cli_file_open(struct mk_cli_file *cf, const char *path, const char **why);
void mk_cli_file_close(struct mk_cli_file *cf);

/* Full CWE walk (structure, every CRC, versions) into info/tree (MK_CLI_CWE_TREE). */
enum mk_err mk_cli_cwe_parse(struct mk_cli_file *cf, struct mk_cwe_info *info,
                             struct mk_cwe_image *tree);

/* libqmi's numbering of images[i]: "0", "0.1", "0.1.0" ... */
void mk_cli_cwe_path(const struct mk_cwe_info *info, size_t i, char *out, size_t cap);

#endif
