/*
 * modemsim flash: the module's non-volatile storage.
 *
 * In RAM it survives simulated reboots (AT+CRESET, power cuts). With --state DIR it is
 * also written through to plain files, so it survives simulator restarts:
 *   DIR/cert/<name>   TLS store (AT+CCERTDOWN)
 *   DIR/fs/<name>     module file system (CFSWFILE, CFTRANRX)
 *   DIR/dl/<name>     what download mode wrote (images, partitions, flags: dl.c)
 *   DIR/sys/<name>    module internals: FOTA state ("fota"), counters ("stats")
 *   DIR/revision      firmware revision, when it differs from the profile's
 * Names are escaped (%XX for anything outside [A-Za-z0-9._-]) so a module path such as
 * "C:/fota/update.zip" is one file. Every write is atomic (temp file, fsync, rename,
 * fsync of the directory): a power cut leaves the old or the new content, never a mix.
 */
#include "sim.h"

#include "modemkit/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const area_dir[SIM_AREA_COUNT] = {"cert", "fs", "dl", "sys"};

static void escape_name(const char *name, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '-' || (*p == '.' && p != (const unsigned char *)name)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

/* The directory of area a and the path of the (escaped) file name in it. */
static void area_path(const struct sim_flash *f, enum sim_area a, const char *name, char *dir,
                      size_t dir_cap, char *path, size_t path_cap)
{
    char esc[600];
    escape_name(name, esc, sizeof esc);
    snprintf(dir, dir_cap, "%s/%s", f->dir, area_dir[a]);
    snprintf(path, path_cap, "%s/%s", dir, esc);
}

static void unescape_name(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < cap; i++) {
        if (in[i] == '%' && mk_hex_digit(in[i + 1]) >= 0 && mk_hex_digit(in[i + 2]) >= 0) {
            out[o++] = (char)(mk_hex_digit(in[i + 1]) * 16 + mk_hex_digit(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Atomic replace of path with data. */
static int write_atomic(const char *dir, const char *path, const void *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp.%ld", dir, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return fsync_dir(dir);
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct sim_buf b = {0};
    uint8_t tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sim_buf_put(&b, tmp, n);
    fclose(f);
    *data = b.p ? b.p : sim_xmalloc(1);
    *len = b.len;
    return 0;
}

static long find(struct sim_flash *f, enum sim_area a, const char *name)
{
    for (size_t i = 0; i < f->nfiles[a]; i++)
        if (strcmp(f->files[a][i].name, name) == 0)
            return (long)i;
    return -1;
}

static void insert_ram(struct sim_flash *f, enum sim_area a, const char *name, uint8_t *data,
                       size_t len)
{
    long i = find(f, a, name);
    if (i >= 0) {
        free(f->files[a][i].data);
        f->files[a][i].data = data;
        f->files[a][i].len = len;
        return;
    }
    f->files[a] = sim_xrealloc(f->files[a], (f->nfiles[a] + 1) * sizeof(struct sim_file));
    /* keep sorted by name: AT+CCERTLIST lists alphabetically (seed 001 order) */
    size_t pos = 0;
    while (pos < f->nfiles[a] && strcmp(f->files[a][pos].name, name) < 0)
        pos++;
    memmove(&f->files[a][pos + 1], &f->files[a][pos],
            (f->nfiles[a] - pos) * sizeof(struct sim_file));
    f->files[a][pos].name = sim_xstrdup(name);
    f->files[a][pos].data = data;
    f->files[a][pos].len = len;
    f->nfiles[a]++;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int sim_flash_open(struct sim *s, const char *dir)
{
    struct sim_flash *f = &s->flash;
    memset(f, 0, sizeof *f);
    if (!dir)
        return 0;
    f->dir = sim_xstrdup(dir);
    if (mkdir_p(dir) != 0) {
        sim_warn("cannot create state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char path[4200];
    for (int a = 0; a < SIM_AREA_COUNT; a++) {
        snprintf(path, sizeof path, "%s/%s", dir, area_dir[a]);
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            sim_warn("cannot create %s: %s", path, strerror(errno));
            return -1;
        }
        DIR *d = opendir(path);
        if (!d)
            return -1;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char file[4500], name[512];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            uint8_t *data;
            size_t len;
            if (read_file(file, &data, &len) != 0)
                continue;
            unescape_name(e->d_name, name, sizeof name);
            insert_ram(f, (enum sim_area)a, name, data, len);
        }
        closedir(d);
    }
    snprintf(path, sizeof path, "%s/revision", dir);
    uint8_t *rev;
    size_t len;
    if (read_file(path, &rev, &len) == 0) {
        while (len > 0 && (rev[len - 1] == '\n' || rev[len - 1] == '\r'))
            len--;
        f->revision = sim_xmemdup(rev, len);
        free(rev);
    }
    return 0;
}

void sim_flash_close(struct sim *s)
{
    struct sim_flash *f = &s->flash;
    for (int a = 0; a < SIM_AREA_COUNT; a++) {
        for (size_t i = 0; i < f->nfiles[a]; i++) {
            free(f->files[a][i].name);
            free(f->files[a][i].data);
        }
        free(f->files[a]);
    }
    free(f->revision);
    free(f->dir);
    memset(f, 0, sizeof *f);
}

const struct sim_file *sim_flash_get(struct sim *s, enum sim_area a, const char *name)
{
    long i = find(&s->flash, a, name);
    return i < 0 ? NULL : &s->flash.files[a][i];
}

const struct sim_file *sim_flash_list(struct sim *s, enum sim_area a, size_t *n)
{
    *n = s->flash.nfiles[a];
    return s->flash.files[a];
}

int sim_flash_put(struct sim *s, enum sim_area a, const char *name, const void *data,
                  size_t len)
{
    struct sim_flash *f = &s->flash;
    if (f->dir) {
        char dir[4200], path[4900];
        area_path(f, a, name, dir, sizeof dir, path, sizeof path);
        if (write_atomic(dir, path, data, len) != 0) {
            sim_warn("cannot write %s: %s", path, strerror(errno));
            return -1;
        }
    }
    uint8_t *copy = sim_xmalloc(len);
    if (len)
        memcpy(copy, data, len);
    insert_ram(f, a, name, copy, len);
    return 0;
}

int sim_flash_del(struct sim *s, enum sim_area a, const char *name)
{
    struct sim_flash *f = &s->flash;
    long i = find(f, a, name);
    if (i < 0)
        return -1;
    if (f->dir) {
        char dir[4200], path[4900];
        area_path(f, a, name, dir, sizeof dir, path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT)
            return -1;
        fsync_dir(dir);
    }
    free(f->files[a][i].name);
    free(f->files[a][i].data);
    memmove(&f->files[a][i], &f->files[a][i + 1],
            (f->nfiles[a] - (size_t)i - 1) * sizeof(struct sim_file));
    f->nfiles[a]--;
    return 0;
}

const char *sim_revision(struct sim *s)
{
    return s->flash.revision ? s->flash.revision : s->prof->revision;
}

int sim_flash_set_revision(struct sim *s, const char *rev)
{
    struct sim_flash *f = &s->flash;
    if (f->dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/revision", f->dir);
        if (write_atomic(f->dir, path, rev, strlen(rev)) != 0)
            return -1;
    }
    free(f->revision);
    f->revision = sim_xstrdup(rev);
    return 0;
}

int sim_flash_write_at(struct sim *s, enum sim_area a, const char *name, size_t off,
                       const void *data, size_t len)
{
    struct sim_flash *f = &s->flash;
    long i = find(f, a, name);
    size_t old = i >= 0 ? f->files[a][i].len : 0;
    if (off > old)
        return -1;
    if (f->dir) {
        char dir[4200], path[4900];
        area_path(f, a, name, dir, sizeof dir, path, sizeof path);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        if (fd < 0)
            return -1;
        const uint8_t *p = data;
        size_t done = 0;
        while (done < len) {
            ssize_t n = pwrite(fd, p + done, len - done, (off_t)(off + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fd);
                return -1;
            }
            done += (size_t)n;
        }
        if (fsync(fd) != 0 || close(fd) != 0)
            return -1;
        if (i < 0)
            fsync_dir(dir);
    }
    size_t nlen = off + len > old ? off + len : old;
    uint8_t *copy = sim_xmalloc(nlen ? nlen : 1);
    if (old)
        memcpy(copy, f->files[a][i].data, old);
    memcpy(copy + off, data, len);
    insert_ram(f, a, name, copy, nlen);
    return 0;
}
