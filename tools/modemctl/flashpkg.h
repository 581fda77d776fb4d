/*
 * modemctl: what `flash` sends. CWE/SPK/NVU files for Sierra targets, or a QFIL-style
 * package for a Qualcomm PBL EDL target: a signed Firehose programmer
 * (prog_*firehose*.mbn / .elf), rawprogram*.xml (one <program> per partition image, file
 * names relative to the XML's directory) and patch*.xml, as SIMCom's QFIL packages are
 * laid out.
 */
#ifndef MODEMCTL_FLASHPKG_H
#define MODEMCTL_FLASHPKG_H

#include "image.h"

#define MK_PKG_MAX_FILES 32
#define MK_PKG_MAX_OPS   512

struct mk_cli_pkg {
    /* CWE images, in the order given */
    struct mk_cli_file cwe[MK_PKG_MAX_FILES];
    size_t ncwe;
    char firmware[16], config[16], carrier[88], product[8]; /* from the CWE headers */
    /* EDL package */
    struct mk_flash_op ops[MK_PKG_MAX_OPS];
    struct mk_cli_file *op_files[MK_PKG_MAX_OPS]; /* opened program files */
    size_t nops, nprograms, npatches, nxml;
    struct mk_cli_file programmer;
    bool have_programmer;
    const char *memory; /* "NAND" when a rawprogram file says nand, else "eMMC" */
    char xml_dir[1024]; /* directory of the first XML (where a programmer is looked for) */
    char **strings;     /* strdup'ed attribute values */
    size_t nstrings;
};

/*
 * Adds one command-line argument: a CWE file (checked completely: structure, every CRC,
 * versions agree across files), a rawprogram*.xml / patch*.xml, a programmer, or a
 * directory holding a QFIL package. On failure, MK_E_* with the reason in why[cap].
 */
enum mk_err mk_cli_pkg_add(struct mk_cli_pkg *pkg, const char *arg, char *why, size_t cap);
/* Sets the programmer explicitly (--programmer). */
enum mk_err mk_cli_pkg_programmer(struct mk_cli_pkg *pkg, const char *path, char *why, size_t cap);
/* After the arguments: a package without a programmer looks for one next to its XML. */
void mk_cli_pkg_finish(struct mk_cli_pkg *pkg);
void mk_cli_pkg_free(struct mk_cli_pkg *pkg);

#endif
