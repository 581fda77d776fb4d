/*
 * SIMCom file systems over AT: SIM7000 AT+CFS* and SIM7600 AT+FS* / AT+CFTRANRX / TX.
 * See include/modemkit/simcom_fs.h for the sources behind each command.
 */
#include <string.h>

#include "modemkit/simcom_fs.h"
#include "modemkit/str.h"

#define MK_FS_CMD_MS   5000u /* plain FS commands */
#define MK_FS_TEXT_CAP 400u  /* longest command line we build (a 255-byte URL fits) */

static const char *const mk_cfs_dirs[] = {"custapp", "fota", "datatx", "customer"};

/* Line time of n bytes at rate (10 bits per byte), in ms, rounded up. */
static uint32_t mk_fs_line_ms(size_t n, uint32_t rate)
{
    if (!rate)
        rate = 115200;
    uint64_t ms = ((uint64_t)n * 10000u + rate - 1) / rate;
    return ms > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)ms;
}

/* A file system "not found" answer: the module says ERROR for a missing file. */
static enum mk_err mk_fs_noent(enum mk_err e)
{
    return (e == MK_E_AT_ERROR || e == MK_E_AT_CME) ? MK_E_NOENT : e;
}

/* The number after prefix on the first line of resp that has it. */
static enum mk_err mk_fs_parse_num(const char *resp, const char *prefix, size_t field,
                                   uint64_t *out)
{
    for (const char *line = resp; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        struct mk_at_arg args[4];
        int n = mk_at_split(line, len, prefix, args, 4);
        if (n > (int)field)
            return mk_parse_u64(args[field].p, args[field].len, out);
        line = eol ? eol + 1 : NULL;
    }
    return MK_E_FORMAT;
}

static bool mk_fs_name_ok(const char *name, size_t max)
{
    size_t n = strlen(name);
    return n > 0 && n <= max && !strchr(name, '/') && !strchr(name, '"') && !strchr(name, '\r') &&
           !strchr(name, '\n');
}

/* ---------------------------------------------------------------------------------- */
/* SIM7000: AT+CFS*                                                                    */

const char *mk_simcom_cfs_dir(int index)
{
    static const char *const full[] = {"/custapp/", "/fota/", "/datatx/", "/customer/"};
    return index >= 0 && index < 4 ? full[index] : NULL;
}

enum mk_err mk_simcom_cfs_split(const char *path, int *index, const char **name)
{
    if (*path == '/')
        path++;
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(mk_cfs_dirs[i]);
        if (strncmp(path, mk_cfs_dirs[i], n) == 0 && path[n] == '/') {
            const char *nm = path + n + 1;
            if (!mk_fs_name_ok(nm, MK_SIMCOM_CFS_NAME_MAX))
                return MK_E_INVAL;
            *index = i;
            *name = nm;
            return MK_OK;
        }
    }
    return MK_E_INVAL;
}

enum mk_err mk_simcom_cfs_init(struct mk_at_chan *ch)
{
    enum mk_err e = mk_at_simple(ch, "AT+CFSINIT", MK_FS_CMD_MS, NULL, 0, NULL);
    if (e != MK_E_AT_ERROR && e != MK_E_AT_CME)
        return e;
    /* S5 §15: the buffer must be freed with AT+CFSTERM before it is allocated again; a
     * host that died between the two leaves it allocated. */
    e = mk_at_simple(ch, "AT+CFSTERM", MK_FS_CMD_MS, NULL, 0, NULL);
    if (e != MK_OK && e != MK_E_AT_ERROR && e != MK_E_AT_CME)
        return e;
    return mk_at_simple(ch, "AT+CFSINIT", MK_FS_CMD_MS, NULL, 0, NULL);
}

enum mk_err mk_simcom_cfs_term(struct mk_at_chan *ch)
{
    return mk_at_simple(ch, "AT+CFSTERM", MK_FS_CMD_MS, NULL, 0, NULL);
}

uint32_t mk_simcom_cfs_input_ms(size_t len, uint32_t line_rate_bps)
{
    uint64_t ms = 2ull * mk_fs_line_ms(len, line_rate_bps) + 1000u;
    if (ms > MK_SIMCOM_CFS_MAX_INPUT_MS)
        ms = MK_SIMCOM_CFS_MAX_INPUT_MS;
    return (uint32_t)ms;
}

/* "AT+X=<index>,"<name>"" with more numeric arguments appended by the caller. */
static void mk_cfs_cmd(struct mk_sb *sb, const char *cmd, int index, const char *name)
{
    mk_sb_puts(sb, cmd);
    mk_sb_putu(sb, (uint64_t)index);
    mk_sb_putc(sb, ',');
    mk_sb_putq(sb, name);
}

enum mk_err mk_simcom_cfs_write(struct mk_at_chan *ch, int index, const char *name, bool append,
                                const uint8_t *data, size_t len, uint32_t line_rate_bps)
{
    if (len == 0 || len > MK_SIMCOM_CFS_MAX_WRITE || !mk_simcom_cfs_dir(index) ||
        !mk_fs_name_ok(name, MK_SIMCOM_CFS_NAME_MAX))
        return MK_E_INVAL;
    uint32_t line_ms = mk_fs_line_ms(len, line_rate_bps);
    if (line_ms > MK_SIMCOM_CFS_MAX_INPUT_MS * 9 / 10)
        return MK_E_INVAL; /* the module would close its input window mid-chunk */
    uint32_t input_ms = mk_simcom_cfs_input_ms(len, line_rate_bps);
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_cfs_cmd(&sb, "AT+CFSWFILE=", index, name);
    mk_sb_puts(&sb, append ? ",1," : ",0,");
    mk_sb_putu(&sb, len);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, input_ms);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    struct mk_at_cmd c = {
        .text = text,
        .timeout_ms = MK_FS_CMD_MS + input_ms + line_ms,
        .prompt = MK_AT_PROMPT_DOWNLOAD,
        .data = data,
        .data_len = len,
    };
    return mk_at_exec(ch, &c, NULL);
}

/* Reading file data: "+CFSRFILE: <n>" / "+CFTRANTX: DATA,<n>" announce n raw bytes. */
struct mk_fs_rd {
    struct mk_at_chan *ch;
    const char *prefix;
    size_t field; /* which field of the announcing line is n */
    uint8_t *buf;
    size_t cap, got;
    bool bad;
};

static void mk_fs_rd_raw(void *user, const uint8_t *data, size_t len, bool last)
{
    struct mk_fs_rd *r = user;
    (void)last;
    size_t room = r->cap - r->got;
    size_t k = len < room ? len : room;
    if (k)
        memcpy(r->buf + r->got, data, k);
    r->got += k;
    if (k < len)
        r->bad = true; /* more than asked for: keep what fits, report it */
}

static void mk_fs_rd_line(void *user, const char *line, size_t len)
{
    struct mk_fs_rd *r = user;
    struct mk_at_arg args[3];
    int n = mk_at_split(line, len, r->prefix, args, 3);
    if (n <= (int)r->field)
        return;
    if (r->field == 1 && !(args[0].len == 4 && memcmp(args[0].p, "DATA", 4) == 0))
        return;
    uint64_t k;
    if (mk_parse_u64(args[r->field].p, args[r->field].len, &k) != MK_OK || k > SIZE_MAX) {
        r->bad = true;
        return;
    }
    mk_at_read_raw(&r->ch->at, (size_t)k, mk_fs_rd_raw, r);
}

static enum mk_err mk_fs_read_exec(struct mk_at_chan *ch, const char *text, struct mk_fs_rd *r,
                                   uint32_t timeout_ms, size_t *got)
{
    struct mk_at_cmd c = {
        .text = text,
        .timeout_ms = timeout_ms,
        .on_line = mk_fs_rd_line,
        .user = r,
    };
    enum mk_err e = mk_at_exec(ch, &c, NULL);
    *got = r->got;
    if (e == MK_OK && r->bad)
        return MK_E_PROTO;
    return e;
}

enum mk_err mk_simcom_cfs_read(struct mk_at_chan *ch, int index, const char *name, uint64_t pos,
                               uint8_t *buf, size_t len, size_t *got)
{
    if (len == 0 || len > MK_SIMCOM_CFS_MAX_WRITE || !mk_simcom_cfs_dir(index))
        return MK_E_INVAL;
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_cfs_cmd(&sb, "AT+CFSRFILE=", index, name);
    mk_sb_puts(&sb, ",1,");
    mk_sb_putu(&sb, len);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, pos);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    struct mk_fs_rd r = {.ch = ch, .prefix = "+CFSRFILE:", .field = 0, .buf = buf, .cap = len};
    return mk_fs_noent(mk_fs_read_exec(ch, text, &r, MK_FS_CMD_MS + mk_fs_line_ms(len, 0), got));
}

enum mk_err mk_simcom_cfs_size(struct mk_at_chan *ch, int index, const char *name, uint64_t *size)
{
    char text[MK_FS_TEXT_CAP], resp[128];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_cfs_cmd(&sb, "AT+CFSGFIS=", index, name);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    enum mk_err e = mk_at_simple(ch, text, MK_FS_CMD_MS, resp, sizeof resp, NULL);
    if (e != MK_OK)
        return mk_fs_noent(e);
    return mk_fs_parse_num(resp, "+CFSGFIS:", 0, size) == MK_OK ? MK_OK : MK_E_PROTO;
}

enum mk_err mk_simcom_cfs_free(struct mk_at_chan *ch, uint64_t *bytes)
{
    char resp[128];
    enum mk_err e = mk_at_simple(ch, "AT+CFSGFRS?", MK_FS_CMD_MS, resp, sizeof resp, NULL);
    if (e != MK_OK)
        return e;
    return mk_fs_parse_num(resp, "+CFSGFRS:", 0, bytes) == MK_OK ? MK_OK : MK_E_PROTO;
}

enum mk_err mk_simcom_cfs_delete(struct mk_at_chan *ch, int index, const char *name)
{
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_cfs_cmd(&sb, "AT+CFSDFILE=", index, name);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    return mk_fs_noent(mk_at_simple(ch, text, MK_FS_CMD_MS, NULL, 0, NULL));
}

enum mk_err mk_simcom_cfs_bearer_up(struct mk_at_chan *ch)
{
    char resp[160];
    enum mk_err e = mk_at_simple(ch, "AT+CNACT?", MK_FS_CMD_MS, resp, sizeof resp, NULL);
    if (e != MK_OK)
        return e;
    /* "+CNACT: <status>,<ip>" (S5) or "+CNACT: <pdp>,<status>,<ip>" (seed 003 layout) */
    for (const char *line = resp; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        struct mk_at_arg a[3];
        int n = mk_at_split(line, len, "+CNACT:", a, 3);
        const struct mk_at_arg *st = n == 3 ? &a[1] : n == 2 ? &a[0] : NULL;
        if (st && st->len == 1 && st->p[0] == '1')
            return MK_OK;
        line = eol ? eol + 1 : NULL;
    }
    struct mk_at_cmd c = {
        .text = "AT+CNACT=1",
        .timeout_ms = 30000,
        .urc_prefix = "+APP PDP:",
        .urc_index = -1,
    };
    struct mk_at_result res;
    e = mk_at_exec(ch, &c, &res);
    if (e == MK_OK && !strstr(res.urc_line, "ACTIVE"))
        return MK_E_NET;
    if (e == MK_OK && strstr(res.urc_line, "DEACTIVE"))
        return MK_E_NET;
    return e;
}

enum mk_err mk_simcom_cfs_http_to_fs(struct mk_at_chan *ch, const char *url, const char *path,
                                     uint32_t timeout_ms, int *http_status, uint64_t *len)
{
    *http_status = -1;
    *len = 0;
    if (strchr(url, '"') || strchr(path, '"'))
        return MK_E_INVAL;
    uint32_t timeout_s = timeout_ms / 1000u;
    if (timeout_s < 10)
        timeout_s = 10; /* S5 §9.2.14: 10..1000 s */
    if (timeout_s > 1000)
        timeout_s = 1000;
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+HTTPTOFS=");
    mk_sb_putq(&sb, url);
    mk_sb_putc(&sb, ',');
    mk_sb_putq(&sb, path);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, timeout_s);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    struct mk_at_cmd c = {
        .text = text,
        .timeout_ms = MK_FS_CMD_MS,
        .urc_prefix = "+HTTPTOFS:",
        .urc_index = -1,
        .urc_timeout_ms = timeout_s * 1000u + 5000u,
    };
    struct mk_at_result res;
    enum mk_err e = mk_at_exec(ch, &c, &res);
    if (e != MK_OK)
        return e;
    if (res.urc_nargs >= 1)
        *http_status = (int)res.urc_args[0];
    if (res.urc_nargs >= 2 && res.urc_args[1] >= 0)
        *len = (uint64_t)res.urc_args[1];
    if (*http_status == 200)
        return MK_OK;
    if (*http_status == 603)
        return MK_E_DNS;
    return MK_E_NET;
}

/* ---------------------------------------------------------------------------------- */
/* SIM7500/SIM7600: AT+FS*, AT+CFTRANRX/TX                                             */

enum mk_err mk_simcom_fs_split(const char *path, char *drive, char *dir, size_t dir_cap,
                               const char **name)
{
    char d = path[0];
    if (d >= 'a' && d <= 'z')
        d = (char)(d - 'a' + 'A');
    if (d < 'A' || d > 'Z' || path[1] != ':' || path[2] != '/' || dir_cap < 4)
        return MK_E_INVAL;
    const char *nm = path + 3;
    if (!mk_fs_name_ok(nm, 200))
        return MK_E_INVAL;
    *drive = d;
    dir[0] = d;
    dir[1] = ':';
    dir[2] = '/';
    dir[3] = '\0';
    *name = nm;
    return MK_OK;
}

enum mk_err mk_simcom_fs_put(struct mk_at_chan *ch, const char *path, uint64_t location,
                             const uint8_t *data, size_t len, uint32_t line_rate_bps)
{
    char drive, dir[8];
    const char *name;
    if (len == 0 || mk_simcom_fs_split(path, &drive, dir, sizeof dir, &name) != MK_OK)
        return MK_E_INVAL;
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+CFTRANRX=");
    mk_sb_putq(&sb, path);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, len);
    if (location != MK_SIMCOM_FS_NEW) {
        mk_sb_puts(&sb, ",100,");
        mk_sb_putu(&sb, location);
    }
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    struct mk_at_cmd c = {
        .text = text,
        .timeout_ms = MK_FS_CMD_MS + 2u * mk_fs_line_ms(len, line_rate_bps),
        .prompt = MK_AT_PROMPT_GT,
        .data = data,
        .data_len = len,
    };
    return mk_at_exec(ch, &c, NULL);
}

enum mk_err mk_simcom_fs_get(struct mk_at_chan *ch, const char *path, uint64_t location,
                             uint8_t *buf, size_t len, size_t *got)
{
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+CFTRANTX=");
    mk_sb_putq(&sb, path);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, location);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, len);
    if (mk_sb_err(&sb) != MK_OK || len == 0)
        return len ? MK_E_NOSPC : MK_E_INVAL;
    struct mk_fs_rd r = {.ch = ch, .prefix = "+CFTRANTX:", .field = 1, .buf = buf, .cap = len};
    return mk_fs_noent(
        mk_fs_read_exec(ch, text, &r, MK_FS_CMD_MS + 2u * mk_fs_line_ms(len, 0), got));
}

enum mk_err mk_simcom_fs_cd(struct mk_at_chan *ch, const char *dir)
{
    char text[64];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+FSCD=");
    mk_sb_putq(&sb, dir);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    return mk_at_simple(ch, text, MK_FS_CMD_MS, NULL, 0, NULL);
}

/* AT+FSCD to the file's drive, then "AT+<cmd>="<name>"". */
static enum mk_err mk_fs_name_cmd(struct mk_at_chan *ch, const char *path, const char *cmd,
                                  char *resp, size_t cap)
{
    char drive, dir[8];
    const char *name;
    if (mk_simcom_fs_split(path, &drive, dir, sizeof dir, &name) != MK_OK)
        return MK_E_INVAL;
    enum mk_err e = mk_simcom_fs_cd(ch, dir);
    if (e != MK_OK)
        return e;
    char text[MK_FS_TEXT_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, cmd);
    mk_sb_putq(&sb, name);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    return mk_fs_noent(mk_at_simple(ch, text, MK_FS_CMD_MS, resp, cap, NULL));
}

enum mk_err mk_simcom_fs_parse_attri(const char *text, uint64_t *size)
{
    return mk_fs_parse_num(text, "+FSATTRI:", 0, size);
}

enum mk_err mk_simcom_fs_size(struct mk_at_chan *ch, const char *path, uint64_t *size)
{
    char resp[160];
    enum mk_err e = mk_fs_name_cmd(ch, path, "AT+FSATTRI=", resp, sizeof resp);
    if (e != MK_OK)
        return e;
    return mk_simcom_fs_parse_attri(resp, size) == MK_OK ? MK_OK : MK_E_PROTO;
}

enum mk_err mk_simcom_fs_delete(struct mk_at_chan *ch, const char *path)
{
    return mk_fs_name_cmd(ch, path, "AT+FSDEL=", NULL, 0);
}

/* "X:(<total>,<used>)" at p: parsed into total and used; returns the chars consumed or 0. */
static size_t mk_fs_parse_drive(const char *p, uint64_t *total, uint64_t *used)
{
    const char *q = p + 3, *comma = strchr(q, ','), *close = strchr(q, ')');
    if (p[1] != ':' || p[2] != '(' || !comma || !close || comma > close)
        return 0;
    const char *a = q, *b = comma + 1;
    while (*a == ' ')
        a++;
    while (*b == ' ')
        b++;
    size_t alen = (size_t)(comma - a), blen = (size_t)(close - b);
    while (alen && a[alen - 1] == ' ')
        alen--;
    while (blen && b[blen - 1] == ' ')
        blen--;
    if (mk_parse_u64(a, alen, total) != MK_OK || mk_parse_u64(b, blen, used) != MK_OK)
        return 0;
    return (size_t)(close + 1 - p);
}

enum mk_err mk_simcom_fs_parse_mem(const char *text, char drive, uint64_t *total, uint64_t *used)
{
    const char *p = strstr(text, "+FSMEM:");
    if (!p)
        return MK_E_FORMAT;
    p += 7;
    int found = 0;
    uint64_t t1 = 0, u1 = 0;
    while (*p && *p != '\n') {
        if (*p >= 'A' && *p <= 'Z' && p[1] == ':') {
            uint64_t t, u;
            size_t k = mk_fs_parse_drive(p, &t, &u);
            if (!k)
                return MK_E_FORMAT;
            if (*p == drive) {
                *total = t;
                *used = u;
                return MK_OK;
            }
            t1 = t;
            u1 = u;
            found++;
            p += k;
        } else {
            p++;
        }
    }
    if (found != 1)
        return MK_E_FORMAT;
    *total = t1;
    *used = u1;
    return MK_OK;
}

enum mk_err mk_simcom_fs_mem(struct mk_at_chan *ch, char drive, uint64_t *total, uint64_t *used)
{
    char dir[4] = {drive, ':', '/', '\0'}, resp[256];
    enum mk_err e = mk_simcom_fs_cd(ch, dir);
    if (e != MK_OK)
        return e;
    e = mk_at_simple(ch, "AT+FSMEM", MK_FS_CMD_MS, resp, sizeof resp, NULL);
    if (e != MK_OK)
        return e;
    return mk_simcom_fs_parse_mem(resp, drive, total, used) == MK_OK ? MK_OK : MK_E_PROTO;
}

struct mk_fs_ls {
    void (*cb)(void *user, const char *name, bool is_dir);
    void *user;
    int section; /* 0 none yet, 1 sub-directories, 2 files */
};

static void mk_fs_ls_line(void *user, const char *line, size_t len)
{
    struct mk_fs_ls *l = user;
    if (mk_starts_with(line, len, "+FSLS: SUBDIRECTORIES")) {
        l->section = 1;
    } else if (mk_starts_with(line, len, "+FSLS: FILES")) {
        l->section = 2;
    } else if (l->section && len) {
        char name[256];
        size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
        memcpy(name, line, n);
        name[n] = '\0';
        l->cb(l->user, name, l->section == 1);
    }
}

enum mk_err mk_simcom_fs_list(struct mk_at_chan *ch, const char *dir,
                              void (*cb)(void *user, const char *name, bool is_dir), void *user)
{
    enum mk_err e = mk_simcom_fs_cd(ch, dir);
    if (e != MK_OK)
        return e;
    struct mk_fs_ls l = {.cb = cb, .user = user};
    struct mk_at_cmd c = {
        .text = "AT+FSLS",
        .timeout_ms = MK_FS_CMD_MS,
        .on_line = mk_fs_ls_line,
        .user = &l,
        .resp_prefix = "", /* file names are answer lines too, whatever they look like */
    };
    return mk_at_exec(ch, &c, NULL);
}
