/*
 * modemsim: module file systems.
 *
 * SIM7000 (SIM_CAP_CFS; S5 = SIM7000 AT Command Manual V1.06 §15, S8 = FS Application
 * Note V1.01, S7 = FOTA Application Note V1.01):
 *   AT+CFSINIT / AT+CFSTERM bracket every file operation (UNVERIFIED how strictly: here
 *   every CFS* command answers ERROR outside the bracket, and a second AT+CFSINIT does
 *   too); AT+CFSWFILE=<index>,"<name>",<mode>,<size 1-10240>,<input_time 100-10000>
 *   prints DOWNLOAD and takes exactly <size> bytes, ERROR when they are not all there
 *   within <input_time> (nothing is written then); AT+CFSRFILE, AT+CFSDFILE,
 *   AT+CFSGFIS, AT+CFSGFRS?; AT+HTTPTOFS (S5 §9.2.14) fetches a URL into a file, from
 *   127.0.0.1/localhost only. Files: "/custapp/<name>", "/fota/<name>", ...
 * SIM7500/SIM7600 (SIM_CAP_FS7600; S1 = AT Command Manual V3.00 §20):
 *   drives C: and F: (the cache, where deltas go), roots only; AT+FSCD, AT+FSLS,
 *   AT+FSDEL, AT+FSATTRI, AT+FSMEM; AT+CFTRANRX="<full path>",<len>[,<reserved>,<location>]
 *   with a ">" prompt (UNVERIFIED: the offset form, a 10 s input window, and ERROR for
 *   the plain form on an existing file); AT+CFTRANTX="<path>"[,<location>,<size>].
 *   Files: "C:/<name>", "F:/<name>".
 * Free space: --fs-size bytes for the SIM7000 file system and for F:; C: has 11 MB
 * (UNVERIFIED sizes). Everything is kept in the module's flash (--state DIR/fs).
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CFS_MAX_WRITE     10240     /* S5 §15 */
#define CFS_MAX_INPUT_MS  10000     /* S5 §15 */
#define CFTRANRX_INPUT_MS 10000     /* UNVERIFIED: S1 gives no window */
#define FS7600_C_SIZE     11348480L /* UNVERIFIED: C: capacity */
#define CFTRANTX_BLOCK    2048      /* UNVERIFIED: S1 gives no block size */

static const char *const cfs_dirs[] = {"/custapp/", "/fota/", "/datatx/", "/customer/"};

/* ---- space ---- */

long sim_fs_free(struct sim *s, char drive)
{
    size_t n;
    const struct sim_file *f = sim_flash_list(s, SIM_AREA_FS, &n);
    long used = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = f[i].name;
        bool mine = drive ? (name[0] == drive && name[1] == ':') : name[0] == '/';
        if (mine)
            used += (long)f[i].len;
    }
    long cap = drive == 'C' ? FS7600_C_SIZE : s->opt.fs_size;
    return cap > used ? cap - used : 0;
}

static long file_len(struct sim *s, const char *path)
{
    const struct sim_file *f = sim_flash_get(s, SIM_AREA_FS, path);
    return f ? (long)f->len : -1;
}

/* ---- prompt data into a file ---- */

/* Completes an AT+CFSWFILE / AT+CFTRANRX: woff == SIZE_MAX replaces the file. */
static int file_done(struct sim *s, const uint8_t *data, size_t len, void *ctx)
{
    (void)ctx;
    int rc;
    if (s->fs.woff == SIZE_MAX)
        rc = sim_flash_put(s, SIM_AREA_FS, s->fs.wname, data, len);
    else
        rc = sim_flash_write_at(s, SIM_AREA_FS, s->fs.wname, s->fs.woff, data, len);
    sim_log(s, "fs: %zu bytes into %s at %zu: %s", len, s->fs.wname,
            s->fs.woff == SIZE_MAX ? (size_t)0 : s->fs.woff, rc ? "failed" : "ok");
    s->fs.wname[0] = '\0';
    return rc ? SIM_ERROR : SIM_OK;
}

static int file_prompt(struct sim *s, const char *path, size_t off, size_t len, const char *prompt,
                       int window_ms)
{
    snprintf(s->fs.wname, sizeof s->fs.wname, "%.159s", path);
    s->fs.woff = off;
    /* ctx &s->fs marks file data for the power-cut@dataN fault (at.c) */
    return sim_prompt_ex(s, len, prompt, window_ms, file_done, &s->fs);
}

/* ---- SIM7000 CFS* ---- */

/* "<dir><name>" for an index and a name argument; false when invalid. */
static bool cfs_path(const struct sim_req *r, int i_index, int i_name, char *out, size_t cap)
{
    long idx;
    char name[64];
    if (!sim_arg_long(r, i_index, &idx) || idx < 0 || idx > 3 ||
        !sim_arg_str(r, i_name, name, sizeof name) || !name[0] || strlen(name) > 50 ||
        strchr(name, '/'))
        return false;
    snprintf(out, cap, "%s%s", cfs_dirs[idx], name);
    return true;
}

static int h_cfsinit(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC || s->fs.cfs_init)
        return SIM_ERROR; /* UNVERIFIED: a second CFSINIT without CFSTERM */
    s->fs.cfs_init = true;
    return SIM_OK;
}

static int h_cfsterm(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC || !s->fs.cfs_init)
        return SIM_ERROR;
    s->fs.cfs_init = false;
    return SIM_OK;
}

static int h_cfswfile(struct sim *s, const struct sim_req *r)
{
    char path[128];
    long mode, size, input;
    if (r->type != SIM_REQ_SET || !s->fs.cfs_init || r->nargs != 5 ||
        !cfs_path(r, 0, 1, path, sizeof path) || !sim_arg_long(r, 2, &mode) || mode < 0 ||
        mode > 1 || !sim_arg_long(r, 3, &size) || size < 1 || size > CFS_MAX_WRITE ||
        !sim_arg_long(r, 4, &input) || input < 100 || input > CFS_MAX_INPUT_MS)
        return SIM_ERROR;
    long have = file_len(s, path);
    long free_bytes = sim_fs_free(s, 0) + (mode == 0 && have > 0 ? have : 0);
    if (size > free_bytes)
        return SIM_ERROR; /* UNVERIFIED: the error a full file system gives */
    size_t off = mode == 0 || have < 0 ? SIZE_MAX : (size_t)have;
    if (mode == 1 && have < 0)
        off = SIZE_MAX; /* appending to nothing creates the file */
    return file_prompt(s, path, off, (size_t)size, "\r\nDOWNLOAD\r\n", (int)input);
}

static int h_cfsrfile(struct sim *s, const struct sim_req *r)
{
    char path[128];
    long mode, size, pos = 0;
    if (r->type != SIM_REQ_SET || !s->fs.cfs_init || r->nargs < 4 ||
        !cfs_path(r, 0, 1, path, sizeof path) || !sim_arg_long(r, 2, &mode) || mode < 0 ||
        mode > 1 || !sim_arg_long(r, 3, &size) || size < 1 || size > CFS_MAX_WRITE ||
        (mode == 1 && !sim_arg_long(r, 4, &pos)) || pos < 0)
        return SIM_ERROR;
    const struct sim_file *f = sim_flash_get(s, SIM_AREA_FS, path);
    if (!f || (size_t)pos > f->len)
        return SIM_ERROR;
    size_t n = f->len - (size_t)pos < (size_t)size ? f->len - (size_t)pos : (size_t)size;
    struct sim_buf b = {0};
    sim_buf_printf(&b, "\r\n+CFSRFILE: %zu\r\n", n);
    sim_buf_put(&b, f->data + pos, n);
    sim_buf_puts(&b, "\r\n");
    sim_out(s, b.p, b.len);
    sim_buf_free(&b);
    return SIM_OK;
}

static int h_cfsdfile(struct sim *s, const struct sim_req *r)
{
    char path[128];
    if (r->type != SIM_REQ_SET || !s->fs.cfs_init || !cfs_path(r, 0, 1, path, sizeof path))
        return SIM_ERROR;
    return sim_flash_del(s, SIM_AREA_FS, path) == 0 ? SIM_OK : SIM_ERROR;
}

static int h_cfsgfis(struct sim *s, const struct sim_req *r)
{
    char path[128];
    if (r->type != SIM_REQ_SET || !s->fs.cfs_init || !cfs_path(r, 0, 1, path, sizeof path))
        return SIM_ERROR;
    long n = file_len(s, path);
    if (n < 0)
        return SIM_ERROR;
    sim_reply(s, "+CFSGFIS: %ld", n);
    return SIM_OK;
}

static int h_cfsgfrs(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_READ || !s->fs.cfs_init)
        return SIM_ERROR;
    sim_reply(s, "+CFSGFRS: %ld", sim_fs_free(s, 0));
    return SIM_OK;
}

/* ---- AT+HTTPTOFS ---- */

/* A blocking HTTP/1.0 GET on loopback with short timeouts: the simulator's loop stalls
 * for its duration, which only tests with small files use. Returns the HTTP status or a
 * module error (601 network, 603 DNS) and the body in *body. */
static int http_get(const char *url, struct sim_buf *body)
{
    char host[128], path[256] = "/";
    int port = 80;
    if (strncasecmp(url, "http://", 7) != 0)
        return 600; /* UNVERIFIED: https and others not simulated */
    const char *p = url + 7, *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    if (hl == 0 || hl >= sizeof host)
        return 603;
    memcpy(host, p, hl);
    host[hl] = '\0';
    if (slash)
        snprintf(path, sizeof path, "%s", slash);
    char *colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        port = atoi(colon + 1);
    }
    if (!sim_host_allowed(host) || port <= 0 || port > 65535)
        return 603;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 601;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return 601;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return 601;
    }
    struct sim_buf all = {0};
    char buf[4096];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        sim_buf_put(&all, buf, (size_t)k);
    close(fd);
    int status = 601;
    if (all.len > 12 && sscanf((const char *)all.p, "HTTP/%*d.%*d %d", &status) == 1) {
        sim_buf_put(&all, "", 1);
        const char *hdr_end = strstr((const char *)all.p, "\r\n\r\n");
        if (hdr_end) {
            size_t off = (size_t)(hdr_end + 4 - (const char *)all.p);
            sim_buf_put(body, all.p + off, all.len - 1 - off);
        }
    }
    sim_buf_free(&all);
    return status;
}

static void http_run(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    s->fs.http_timer = 0;
    struct sim_buf body = {0};
    int status = s->net.cnact ? http_get(s->fs.http_url, &body) : 601;
    size_t len = body.len;
    if (status == 200) {
        long have = file_len(s, s->fs.http_path);
        if ((long)len > sim_fs_free(s, 0) + (have > 0 ? have : 0))
            status = 602; /* no memory */
        else if (sim_flash_put(s, SIM_AREA_FS, s->fs.http_path, body.p, len) != 0)
            status = 602;
    }
    sim_buf_free(&body);
    sim_urc(s, "+HTTPTOFS: %d,%zu", status, status == 200 ? len : (size_t)0);
}

static int h_httptofs(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_SET || r->nargs < 2 || s->fs.http_timer ||
        !sim_arg_str(r, 0, s->fs.http_url, sizeof s->fs.http_url) ||
        !sim_arg_str(r, 1, s->fs.http_path, sizeof s->fs.http_path))
        return SIM_ERROR;
    const char *p = s->fs.http_path;
    bool dir_ok = false;
    for (int i = 0; i < 4; i++)
        dir_ok |= strncmp(p, cfs_dirs[i], strlen(cfs_dirs[i])) == 0 && p[strlen(cfs_dirs[i])] &&
                  !strchr(p + strlen(cfs_dirs[i]), '/');
    if (!dir_ok)
        return SIM_ERROR;
    /* after the OK is out: the fetch blocks the simulator for its duration */
    s->fs.http_timer = sim_timer_add(s, 10, http_run, NULL, 0, 0);
    return SIM_OK;
}

/* ---- SIM7600 FS* and CFTRANRX/TX ---- */

/* "F:/x", "f:/x", "/cache/x" (the F: drive) or a bare name in the current directory →
 * "F:/x". False for anything else (other drives, sub-directories). */
static bool fs_path(struct sim *s, const struct sim_req *r, int i, bool full_only, char *out,
                    size_t cap)
{
    char in[160];
    if (!sim_arg_str(r, i, in, sizeof in) || !in[0])
        return false;
    const char *name;
    char drive;
    if (in[1] == ':' && in[2] == '/') {
        drive = (char)(in[0] & ~0x20);
        name = in + 3;
    } else if (strncasecmp(in, "/cache/", 7) == 0) {
        drive = 'F';
        name = in + 7;
    } else if (!full_only && !strchr(in, '/') && !strchr(in, ':')) {
        drive = s->fs.cwd[0];
        name = in;
    } else {
        return false;
    }
    if ((drive != 'C' && drive != 'F') || !name[0] || strchr(name, '/'))
        return false;
    snprintf(out, cap, "%c:/%s", drive, name);
    return true;
}

static int h_fscd(struct sim *s, const struct sim_req *r)
{
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+FSCD: %s", s->fs.cwd);
        return SIM_OK;
    }
    char d[16];
    if (r->type != SIM_REQ_SET || !sim_arg_str(r, 0, d, sizeof d))
        return SIM_ERROR;
    char drive = (char)(d[0] & ~0x20);
    if ((drive != 'C' && drive != 'F') || d[1] != ':' || (d[2] && (d[2] != '/' || d[3])))
        return SIM_ERROR; /* only drive roots are simulated */
    snprintf(s->fs.cwd, sizeof s->fs.cwd, "%c:/", drive);
    sim_reply(s, "+FSCD: %s", s->fs.cwd);
    return SIM_OK;
}

static int h_fsls(struct sim *s, const struct sim_req *r)
{
    long what = 0;
    if (r->type == SIM_REQ_SET && (!sim_arg_long(r, 0, &what) || what < 0 || what > 2))
        return SIM_ERROR;
    size_t n, count = 0;
    const struct sim_file *f = sim_flash_list(s, SIM_AREA_FS, &n);
    for (size_t i = 0; i < n; i++)
        count += strncmp(f[i].name, s->fs.cwd, 3) == 0;
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+FSLS: SUBDIRECTORIES:0,FILES:%zu", count);
        return SIM_OK;
    }
    if (r->type != SIM_REQ_EXEC && r->type != SIM_REQ_SET)
        return SIM_ERROR;
    struct sim_buf b = {0};
    if (what != 2)
        sim_buf_puts(&b, "\r\n+FSLS: SUBDIRECTORIES:\r\n");
    if (what != 1) {
        sim_buf_puts(&b, "\r\n+FSLS: FILES:\r\n");
        for (size_t i = 0; i < n; i++)
            if (strncmp(f[i].name, s->fs.cwd, 3) == 0)
                sim_buf_printf(&b, "%s\r\n", f[i].name + 3);
    }
    sim_out(s, b.p, b.len);
    sim_buf_free(&b);
    return SIM_OK;
}

static int h_fsdel(struct sim *s, const struct sim_req *r)
{
    char path[170];
    if (r->type != SIM_REQ_SET || !fs_path(s, r, 0, false, path, sizeof path))
        return SIM_ERROR;
    return sim_flash_del(s, SIM_AREA_FS, path) == 0 ? SIM_OK : SIM_ERROR;
}

static int h_fsattri(struct sim *s, const struct sim_req *r)
{
    char path[170];
    if (r->type != SIM_REQ_SET || !fs_path(s, r, 0, false, path, sizeof path))
        return SIM_ERROR;
    long n = file_len(s, path);
    if (n < 0)
        return SIM_ERROR;
    sim_reply(s, "+FSATTRI: %ld,2024/01/01 00:00:00", n); /* UNVERIFIED date layout */
    return SIM_OK;
}

static int h_fsmem(struct sim *s, const struct sim_req *r)
{
    if (r->type != SIM_REQ_EXEC)
        return SIM_ERROR;
    /* UNVERIFIED: S1 shows "+FSMEM: C:(<total>,<used>)"; both drives listed here */
    sim_reply(s, "+FSMEM: C:(%ld,%ld),F:(%ld,%ld)", FS7600_C_SIZE,
              FS7600_C_SIZE - sim_fs_free(s, 'C'), s->opt.fs_size,
              s->opt.fs_size - sim_fs_free(s, 'F'));
    return SIM_OK;
}

static int h_cftranrx(struct sim *s, const struct sim_req *r)
{
    char path[170];
    long len, loc = -1;
    if (r->type != SIM_REQ_SET || (r->nargs != 2 && r->nargs != 4) ||
        !fs_path(s, r, 0, true, path, sizeof path) || !sim_arg_long(r, 1, &len) || len < 1 ||
        len > 2147483647L || (r->nargs == 4 && (!sim_arg_long(r, 3, &loc) || loc < 0)))
        return SIM_ERROR;
    long have = file_len(s, path);
    if (loc < 0 && have >= 0)
        return SIM_ERROR; /* UNVERIFIED: does not overwrite an existing file */
    if (loc >= 0 && (have < 0 || loc > have))
        return SIM_ERROR;
    long grow = loc < 0 ? len : (loc + len > have ? loc + len - have : 0);
    if (grow > sim_fs_free(s, path[0]))
        return SIM_ERROR;
    const char *prompt = s->opt.prompt_space ? "\r\n> " : "\r\n>";
    return file_prompt(s, path, loc < 0 ? SIZE_MAX : (size_t)loc, (size_t)len, prompt,
                       CFTRANRX_INPUT_MS);
}

static int h_cftrantx(struct sim *s, const struct sim_req *r)
{
    char path[170];
    long loc = 0, size = -1;
    if (r->type != SIM_REQ_SET || !fs_path(s, r, 0, true, path, sizeof path) ||
        (r->nargs >= 2 && (!sim_arg_long(r, 1, &loc) || loc < 0)) ||
        (r->nargs >= 3 && (!sim_arg_long(r, 2, &size) || size < 1)))
        return SIM_ERROR;
    const struct sim_file *f = sim_flash_get(s, SIM_AREA_FS, path);
    if (!f || (size_t)loc > f->len)
        return SIM_ERROR;
    size_t n = f->len - (size_t)loc;
    if (size >= 0 && (size_t)size < n)
        n = (size_t)size;
    struct sim_buf b = {0};
    for (size_t off = 0; off < n;) {
        size_t k = n - off < CFTRANTX_BLOCK ? n - off : CFTRANTX_BLOCK;
        sim_buf_printf(&b, "\r\n+CFTRANTX: DATA,%zu\r\n", k);
        sim_buf_put(&b, f->data + loc + (long)off, k);
        off += k;
    }
    sim_buf_puts(&b, "\r\n+CFTRANTX: 0\r\n");
    sim_out(s, b.p, b.len);
    sim_buf_free(&b);
    return SIM_OK;
}

static void power_on(struct sim *s)
{
    long data_bytes = s->fs.data_bytes; /* counted since the simulator started */
    memset(&s->fs, 0, sizeof s->fs);
    s->fs.data_bytes = data_bytes;
    snprintf(s->fs.cwd, sizeof s->fs.cwd, "C:/");
}

static void power_off(struct sim *s)
{
    s->fs.wname[0] = '\0';
    s->fs.http_timer = 0; /* timers die with the power */
}

static const struct sim_cmd cmds[] = {
    {"+CFSINIT", SIM_CAP_CFS, 0, h_cfsinit, NULL},
    {"+CFSTERM", SIM_CAP_CFS, 0, h_cfsterm, NULL},
    {"+CFSWFILE", SIM_CAP_CFS, 0, h_cfswfile,
     "+CFSWFILE: (0-3),\"fileName\",(0-1),(1-10240),(100-10000)"},
    {"+CFSRFILE", SIM_CAP_CFS, 0, h_cfsrfile,
     "+CFSRFILE: (0-3),\"fileName\",(0-1),(1-10240),(0-10239)"},
    {"+CFSDFILE", SIM_CAP_CFS, 0, h_cfsdfile, "+CFSDFILE: (0-3),\"fileName\""},
    {"+CFSGFIS", SIM_CAP_CFS, 0, h_cfsgfis, "+CFSGFIS: (0-3),\"fileName\""},
    {"+CFSGFRS", SIM_CAP_CFS, 0, h_cfsgfrs, NULL},
    {"+HTTPTOFS", SIM_CAP_CFS, SIM_F_SIM, h_httptofs,
     "+HTTPTOFS: \"url\",\"filepath\",(10-1000),(5-100)"},
    {"+FSCD", SIM_CAP_FS7600, 0, h_fscd, NULL},
    {"+FSLS", SIM_CAP_FS7600, 0, h_fsls, "+FSLS: (0-2)"},
    {"+FSDEL", SIM_CAP_FS7600, 0, h_fsdel, NULL},
    {"+FSATTRI", SIM_CAP_FS7600, 0, h_fsattri, NULL},
    {"+FSMEM", SIM_CAP_FS7600, 0, h_fsmem, NULL},
    {"+CFTRANRX", SIM_CAP_FS7600, 0, h_cftranrx, "+CFTRANRX: \"FILEPATH\",(0-2147483647)"},
    {"+CFTRANTX", SIM_CAP_FS7600, 0, h_cftrantx, NULL},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_fs = {"fs", cmds, power_on, power_off};
