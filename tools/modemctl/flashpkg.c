/* modemctl: loading what `flash` sends (flashpkg.h). */
#define _GNU_SOURCE
#include "flashpkg.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "modemkit/firehose.h"

static char *pkg_strdup(struct mk_cli_pkg *pkg, const char *s)
{
    char **n = realloc(pkg->strings, (pkg->nstrings + 1) * sizeof *n);
    char *d = strdup(s);
    if (!n || !d) {
        free(d);
        if (n)
            pkg->strings = n;
        return NULL;
    }
    pkg->strings = n;
    pkg->strings[pkg->nstrings++] = d;
    return d;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool is_programmer_name(const char *base)
{
    return strcasestr(base, "firehose") != NULL &&
           (ends_with(base, ".mbn") || ends_with(base, ".elf") || ends_with(base, ".melf"));
}

static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* ---- CWE ---- */

static enum mk_err pkg_cwe(struct mk_cli_pkg *pkg, struct mk_cli_file *cf, char *why, size_t cap)
{
    static struct mk_cwe_image tree[MK_CLI_CWE_TREE];
    struct mk_cwe_info info;
    enum mk_err e = mk_cli_cwe_parse(cf, &info, tree);
    if (e != MK_OK) {
        char line[300];
        mk_cwe_describe_problem(&info, line, sizeof line);
        snprintf(why, cap, "%s: %s", cf->path, e == MK_E_NOSPC ? "too many sub-images" : line);
        return e == MK_E_NOSPC ? MK_E_IMAGE : e;
    }
    /* every file must agree on what it installs (libqmi validate_firmware_config_carrier):
     * a .cwe and an .nvu for different firmware leave the module in low-power mode
     * (reference §6 item 8) */
    struct {
        char *have;
        size_t cap;
        const char *got, *what;
    } f[] = {
        {pkg->firmware, sizeof pkg->firmware, info.firmware, "firmware"},
        {pkg->config, sizeof pkg->config, info.config, "config"},
        {pkg->carrier, sizeof pkg->carrier, info.carrier, "carrier"},
        {pkg->product, sizeof pkg->product, tree[0].hdr.product, "product"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].got[0])
            continue;
        if (f[i].have[0] && strcasecmp(f[i].have, f[i].got) != 0) {
            snprintf(why, cap, "%s: %s %s does not match %s from the other files", cf->path,
                     f[i].what, f[i].got, f[i].have);
            return i == 3 ? MK_E_IMAGE_PRODUCT : MK_E_IMAGE;
        }
        snprintf(f[i].have, f[i].cap, "%s", f[i].got);
    }
    return MK_OK;
}

/* ---- EDL package ---- */

static enum mk_err attr(const struct mk_firehose_msg *m, const char *name, char *out, size_t cap)
{
    enum mk_err e = mk_firehose_attr_get(m, name, out, cap);
    if (e == MK_E_NOENT)
        out[0] = '\0';
    return e == MK_E_NOENT ? MK_OK : e;
}

static uint64_t attr_u64(const struct mk_firehose_msg *m, const char *name)
{
    uint64_t v = 0;
    (void)mk_firehose_attr_u64(m, name, &v);
    return v;
}

static enum mk_err pkg_program(struct mk_cli_pkg *pkg, const struct mk_firehose_msg *m,
                               const char *dir, char *why, size_t cap)
{
    char file[512], start[64], label[64];
    if (attr(m, "filename", file, sizeof file) || attr(m, "start_sector", start, sizeof start) ||
        attr(m, "label", label, sizeof label)) {
        snprintf(why, cap, "a <program> attribute is too long");
        return MK_E_FORMAT;
    }
    if (!file[0])
        return MK_OK; /* an empty partition entry: nothing to write (qdl skips these) */
    if (pkg->nops >= MK_PKG_MAX_OPS) {
        snprintf(why, cap, "more than %d program/patch entries", MK_PKG_MAX_OPS);
        return MK_E_NOSPC;
    }
    struct mk_cli_file *cf = calloc(1, sizeof *cf);
    if (!cf)
        return MK_E_NOMEM;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    const char *err;
    enum mk_err e = mk_cli_file_open(cf, path, &err);
    if (e != MK_OK) {
        snprintf(why, cap, "%s (named by <program label=\"%s\">): %s", path, label, err);
        free(cf);
        return e;
    }
    struct mk_flash_op *op = &pkg->ops[pkg->nops];
    memset(op, 0, sizeof *op);
    op->kind = MK_FLASH_OP_PROGRAM;
    op->region.sector_size = (uint32_t)attr_u64(m, "SECTOR_SIZE_IN_BYTES");
    op->region.num_sectors = attr_u64(m, "num_partition_sectors");
    op->region.physical_partition = (uint32_t)attr_u64(m, "physical_partition_number");
    op->region.start_sector = pkg_strdup(pkg, start[0] ? start : "0");
    op->region.filename = pkg_strdup(pkg, file);
    op->region.label = label[0] ? pkg_strdup(pkg, label) : NULL;
    op->file = cf->f;
    pkg->op_files[pkg->nops++] = cf;
    pkg->nprograms++;
    if (!op->region.sector_size) {
        snprintf(why, cap, "<program> for %s has no SECTOR_SIZE_IN_BYTES", file);
        return MK_E_FORMAT;
    }
    return MK_OK;
}

static enum mk_err pkg_patch(struct mk_cli_pkg *pkg, const struct mk_firehose_msg *m, char *why,
                             size_t cap)
{
    char file[256], off[64], start[64], value[128];
    if (attr(m, "filename", file, sizeof file) || attr(m, "byte_offset", off, sizeof off) ||
        attr(m, "start_sector", start, sizeof start) || attr(m, "value", value, sizeof value)) {
        snprintf(why, cap, "a <patch> attribute is too long");
        return MK_E_FORMAT;
    }
    if (pkg->nops >= MK_PKG_MAX_OPS) {
        snprintf(why, cap, "more than %d program/patch entries", MK_PKG_MAX_OPS);
        return MK_E_NOSPC;
    }
    struct mk_flash_op *op = &pkg->ops[pkg->nops++];
    memset(op, 0, sizeof *op);
    op->kind = MK_FLASH_OP_PATCH;
    op->patch.sector_size = (uint32_t)attr_u64(m, "SECTOR_SIZE_IN_BYTES");
    op->patch.byte_offset = pkg_strdup(pkg, off);
    op->patch.filename = pkg_strdup(pkg, file);
    op->patch.physical_partition = (uint32_t)attr_u64(m, "physical_partition_number");
    op->patch.size_in_bytes = (uint32_t)attr_u64(m, "size_in_bytes");
    op->patch.start_sector = pkg_strdup(pkg, start);
    op->patch.value = pkg_strdup(pkg, value);
    pkg->npatches++;
    return MK_OK;
}

/* rawprogram*.xml or patch*.xml: every <program> and <patch>, in file order. */
static enum mk_err pkg_xml(struct mk_cli_pkg *pkg, const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "%s: cannot open", path);
        return MK_E_NOENT;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len <= 0 || len > (16 << 20)) {
        fclose(f);
        snprintf(why, cap, "%s: empty or too large for a partition list", path);
        return MK_E_FORMAT;
    }
    /* the whole file is one <data> document: parse it in one buffer */
    size_t cap_rx = (size_t)len + 64;
    char *buf = malloc(cap_rx), *text = malloc((size_t)len);
    if (!buf || !text || fread(text, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(buf);
        free(text);
        snprintf(why, cap, "%s: read failed", path);
        return MK_E_IO;
    }
    fclose(f);
    char dir[1024];
    dir_of(path, dir, sizeof dir);
    if (!pkg->xml_dir[0])
        snprintf(pkg->xml_dir, sizeof pkg->xml_dir, "%s", dir);
    if (strcasestr(path, "nand"))
        pkg->memory = "NAND";
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, cap_rx);
    mk_firehose_rx_feed(&rx, text, (size_t)len);
    /* a document is complete at </data> or at the next <?xml: close the last one */
    mk_firehose_rx_feed(&rx, "<?xml ?>", 8);
    enum mk_err e = MK_OK;
    size_t before = pkg->nops;
    struct mk_firehose_msg m;
    while (e == MK_OK && mk_firehose_rx_next(&rx, &m) == MK_DONE) {
        if (m.type != MK_FIREHOSE_MSG_ELEMENT)
            continue;
        if (m.tag_len == 7 && strncasecmp(m.tag, "program", 7) == 0)
            e = pkg_program(pkg, &m, dir, why, cap);
        else if (m.tag_len == 5 && strncasecmp(m.tag, "patch", 5) == 0)
            e = pkg_patch(pkg, &m, why, cap);
    }
    free(buf);
    free(text);
    if (e == MK_OK && pkg->nops == before) {
        snprintf(why, cap, "%s: no <program> or <patch> entries", path);
        e = MK_E_FORMAT;
    }
    pkg->nxml++;
    return e;
}

enum mk_err mk_cli_pkg_programmer(struct mk_cli_pkg *pkg, const char *path, char *why, size_t cap)
{
    const char *err;
    if (pkg->have_programmer)
        mk_cli_file_close(&pkg->programmer);
    enum mk_err e = mk_cli_file_open(&pkg->programmer, path, &err);
    if (e != MK_OK) {
        snprintf(why, cap, "programmer %s: %s", path, err);
        return e;
    }
    pkg->have_programmer = true;
    return MK_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A QFIL package directory: its rawprogram*.xml, then patch*.xml (sorted), and its
 * programmer. */
static enum mk_err pkg_dir(struct mk_cli_pkg *pkg, const char *path, char *why, size_t cap)
{
    DIR *d = opendir(path);
    if (!d) {
        snprintf(why, cap, "%s: cannot list", path);
        return MK_E_NOENT;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 256) {
        if (ends_with(de->d_name, ".xml") && (strncasecmp(de->d_name, "rawprogram", 10) == 0 ||
                                              strncasecmp(de->d_name, "patch", 5) == 0))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], name_cmp);
    enum mk_err e = MK_OK;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n && e == MK_OK; i++) {
            bool raw = strncasecmp(names[i], "rawprogram", 10) == 0;
            if (raw != (pass == 0))
                continue;
            char p[2048];
            snprintf(p, sizeof p, "%s/%s", path, names[i]);
            e = pkg_xml(pkg, p, why, cap);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    if (e == MK_OK && !pkg->nxml) {
        snprintf(why, cap, "%s: no rawprogram*.xml in this directory", path);
        e = MK_E_NOENT;
    }
    return e;
}

enum mk_err mk_cli_pkg_add(struct mk_cli_pkg *pkg, const char *arg, char *why, size_t cap)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        snprintf(why, cap, "%s: no such file", arg);
        return MK_E_NOENT;
    }
    if (S_ISDIR(st.st_mode))
        return pkg_dir(pkg, arg, why, cap);
    const char *base = strrchr(arg, '/');
    base = base ? base + 1 : arg;
    if (ends_with(base, ".xml"))
        return pkg_xml(pkg, arg, why, cap);
    if (is_programmer_name(base))
        return mk_cli_pkg_programmer(pkg, arg, why, cap);
    if (pkg->ncwe >= MK_PKG_MAX_FILES) {
        snprintf(why, cap, "more than %d image files", MK_PKG_MAX_FILES);
        return MK_E_NOSPC;
    }
    struct mk_cli_file *cf = &pkg->cwe[pkg->ncwe];
    const char *err;
    enum mk_err e = mk_cli_file_open(cf, arg, &err);
    if (e != MK_OK) {
        snprintf(why, cap, "%s: %s", arg, err);
        return e;
    }
    pkg->ncwe++;
    return pkg_cwe(pkg, cf, why, cap);
}

void mk_cli_pkg_finish(struct mk_cli_pkg *pkg)
{
    if (!pkg->memory)
        pkg->memory = "eMMC";
    if (pkg->have_programmer || !pkg->nxml)
        return;
    DIR *d = opendir(pkg->xml_dir[0] ? pkg->xml_dir : ".");
    if (!d)
        return;
    struct dirent *de;
    char best[512] = "";
    while ((de = readdir(d)) != NULL) {
        if (is_programmer_name(de->d_name) && (!best[0] || strcmp(de->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", de->d_name);
    }
    closedir(d);
    if (best[0]) {
        char p[2048], why[2400];
        snprintf(p, sizeof p, "%s/%s", pkg->xml_dir, best);
        (void)mk_cli_pkg_programmer(pkg, p, why, sizeof why);
    }
}

void mk_cli_pkg_free(struct mk_cli_pkg *pkg)
{
    for (size_t i = 0; i < pkg->ncwe; i++)
        mk_cli_file_close(&pkg->cwe[i]);
    for (size_t i = 0; i < pkg->nops; i++) {
        if (pkg->op_files[i]) {
            mk_cli_file_close(pkg->op_files[i]);
            free(pkg->op_files[i]);
        }
    }
    if (pkg->have_programmer)
        mk_cli_file_close(&pkg->programmer);
    for (size_t i = 0; i < pkg->nstrings; i++)
        free(pkg->strings[i]);
    free(pkg->strings);
    memset(pkg, 0, sizeof *pkg);
}
