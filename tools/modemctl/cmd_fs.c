/* modemctl fs put | ls | rm: the module's file system (SIM7000 AT+CFS*, SIM7600 AT+FS*). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "modemkit/modem.h"
#include "modemkit/posix.h"
#include "modemkit/simcom_fs.h"

enum mk_fs_kind { MK_FS_NONE, MK_FS_CFS, MK_FS_7600 };

/* Which file system the module has, from its identity. */
static int mk_fs_kind(struct mk_cli *cli, enum mk_fs_kind *kind)
{
    struct mk_modem_id id;
    enum mk_err e = mk_modem_identify(cli->chan, &id);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "identifying the module: %s", mk_strerror(e));
    switch (id.family) {
    case MK_FAMILY_SIM7000:
    case MK_FAMILY_SIM7070:
        *kind = MK_FS_CFS;
        return MK_EXIT_OK;
    case MK_FAMILY_SIM7500:
    case MK_FAMILY_SIM7600:
        *kind = MK_FS_7600;
        return MK_EXIT_OK;
    default:
        return mk_cli_fail(cli, MK_E_UNSUPPORTED,
                           "%s (%s): no AT file system commands known for this module", id.model,
                           mk_modem_family_name(id.family));
    }
}

/* A file that is not there: the module answered ERROR. */
static int mk_fs_fail(struct mk_cli *cli, enum mk_err e, const char *what, const char *path)
{
    if (e == MK_E_NOENT)
        return mk_cli_fail(cli, MK_E_AT_ERROR, "%s %s: no such file on the module", what, path);
    return mk_cli_fail(cli, e, "%s %s: %s", what, path, mk_strerror(e));
}

static bool mk_fs_valid(enum mk_fs_kind kind, const char *path)
{
    int index;
    const char *name;
    char drive, dir[8];
    if (kind == MK_FS_CFS)
        return mk_simcom_cfs_split(path, &index, &name) == MK_OK;
    return mk_simcom_fs_split(path, &drive, dir, sizeof dir, &name) == MK_OK;
}

static const char *mk_fs_path_help(enum mk_fs_kind kind)
{
    return kind == MK_FS_CFS ? "SIM7000 paths are /custapp/NAME, /fota/NAME, /datatx/NAME or "
                               "/customer/NAME"
                             : "SIM7600 paths are C:/NAME or F:/NAME (drive roots)";
}

/* ---- fs put ---- */

static enum mk_err mk_fs_put_cfs(struct mk_cli *cli, const char *remote, const uint8_t *data,
                                 size_t len, size_t chunk)
{
    int index;
    const char *name;
    mk_simcom_cfs_split(remote, &index, &name);
    enum mk_err e = mk_simcom_cfs_init(cli->chan);
    for (size_t off = 0; e == MK_OK && off < len;) {
        size_t n = len - off < chunk ? len - off : chunk;
        e = mk_simcom_cfs_write(cli->chan, index, name, off > 0, data + off, n, cli->baud);
        off += n;
    }
    uint64_t size = 0;
    if (e == MK_OK && (e = mk_simcom_cfs_size(cli->chan, index, name, &size)) == MK_OK &&
        size != len)
        e = MK_E_PROTO;
    if (e == MK_OK || (e != MK_E_HANGUP && e != MK_E_TIMEOUT)) {
        enum mk_err e2 = mk_simcom_cfs_term(cli->chan);
        if (e == MK_OK)
            e = e2;
    }
    return e;
}

static enum mk_err mk_fs_put_7600(struct mk_cli *cli, const char *remote, const uint8_t *data,
                                  size_t len, size_t chunk)
{
    /* AT+CFTRANRX does not overwrite: remove an old file first */
    enum mk_err e = mk_simcom_fs_delete(cli->chan, remote);
    if (e != MK_OK && e != MK_E_NOENT)
        return e;
    e = MK_OK;
    for (size_t off = 0; e == MK_OK && off < len;) {
        size_t n = len - off < chunk ? len - off : chunk;
        e = mk_simcom_fs_put(cli->chan, remote, off ? off : MK_SIMCOM_FS_NEW, data + off, n,
                             cli->baud);
        off += n;
    }
    uint64_t size = 0;
    if (e == MK_OK && (e = mk_simcom_fs_size(cli->chan, remote, &size)) == MK_OK && size != len)
        e = MK_E_PROTO;
    return e;
}

static int mk_fs_put_run(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"chunk-size", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    size_t chunk = 0;
    int c;
    optind = 0; /* GNU getopt: full re-initialisation (main parsed with "+") */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        unsigned long v;
        switch (c) {
        case 'c':
            v = strtoul(optarg, &end, 10);
            if (*end || v < 1 || v > 1048576)
                return mk_cli_usage_error(cli, "--chunk-size: 1 to 1048576 bytes");
            chunk = v;
            break;
        default:
            return mk_cli_usage_error(cli, "unknown option");
        }
    }
    if (argc - optind != 2)
        return mk_cli_usage_error(cli, "needs LOCAL and REMOTE");
    const char *local = argv[optind], *remote = argv[optind + 1];
    enum mk_fs_kind kind;
    int rc = mk_fs_kind(cli, &kind);
    if (rc != MK_EXIT_OK)
        return rc;
    if (!mk_fs_valid(kind, remote))
        return mk_cli_usage_error(cli, "REMOTE %s: %s", remote, mk_fs_path_help(kind));
    struct stat st;
    if (stat(local, &st) != 0 || !S_ISREG(st.st_mode))
        return mk_cli_fail(cli, MK_E_NOENT, "%s: not a readable file", local);
    size_t len = 0;
    uint8_t *data = malloc((size_t)st.st_size + 1);
    if (!data)
        return mk_cli_fail(cli, MK_E_NOMEM, "out of memory");
    enum mk_err e = mk_posix_file_read(local, data, (size_t)st.st_size + 1, &len);
    if (e != MK_OK || len == 0) {
        free(data);
        return mk_cli_fail(cli, e == MK_OK ? MK_E_FORMAT : e, "%s: %s", local,
                           e == MK_OK ? "empty file (the module takes 1 byte or more)"
                                      : mk_strerror(e));
    }
    uint64_t t0 = mk_posix_now_ms();
    if (kind == MK_FS_CFS) {
        if (!chunk || chunk > MK_SIMCOM_CFS_MAX_WRITE)
            chunk = MK_SIMCOM_CFS_MAX_WRITE;
        e = mk_fs_put_cfs(cli, remote, data, len, chunk);
    } else {
        if (!chunk)
            chunk = 32768;
        e = mk_fs_put_7600(cli, remote, data, len, chunk);
    }
    free(data);
    if (e == MK_E_PROTO)
        return mk_cli_fail(cli, e, "%s: the module's file does not have %zu bytes afterwards",
                           remote, len);
    if (e != MK_OK)
        return mk_fs_fail(cli, e, "writing", remote);
    double secs = (double)(mk_posix_now_ms() - t0) / 1000.0;
    if (cli->json) {
        printf("{\"local\":");
        mk_host_json_str(stdout, local);
        printf(",\"remote\":");
        mk_host_json_str(stdout, remote);
        printf(",\"bytes\":%zu,\"seconds\":%.3f}\n", len, secs);
    } else {
        printf("%s -> %s: %zu bytes in %.1f s\n", local, remote, len, secs);
    }
    return MK_EXIT_OK;
}

const struct mk_cli_cmd mk_cmd_fs_put = {
    .name = "fs put",
    .synopsis = "fs put LOCAL REMOTE [--chunk-size N]",
    .summary = "Copy a file onto the module",
    .description =
        "Copies LOCAL onto the module's file system and checks the size the module reports "
        "afterwards. An existing REMOTE is replaced.\n\n"
        "SIM7000/SIM7070: AT+CFSINIT, AT+CFSWFILE in pieces of at most 10240 bytes (each "
        "after the module's DOWNLOAD prompt, within the input window the command asks for), "
        "AT+CFSGFIS, AT+CFSTERM. REMOTE is /custapp/NAME, /fota/NAME, /datatx/NAME or "
        "/customer/NAME (the module's four directories, S5 §15).\n\n"
        "SIM7500/SIM7600: AT+FSDEL of an old file, AT+CFTRANRX=\"REMOTE\",LEN after the \">\" "
        "prompt (pieces after the first use the offset form, UNVERIFIED on SIM7600), "
        "AT+FSATTRI. REMOTE is C:/NAME or F:/NAME (F: is the cache drive deltas go to).",
    .opts =
        (const struct mk_cli_opt_doc[]){
            {"--chunk-size N", "Bytes per write command (default 10240 on SIM7000, 32768 on "
                               "SIM7600)."},
            {NULL, NULL}},
    .examples = "  modemctl -d /dev/ttyUSB2 fs put ca.pem C:/ca.pem\n"
                "  modemctl -d /dev/ttyS1 fs put update.zip /fota/update.zip\n",
    .needs_device = true,
    .run = mk_fs_put_run,
};

/* ---- fs ls ---- */

struct mk_fs_entry {
    char name[256];
    bool is_dir;
};

struct mk_fs_list {
    struct mk_fs_entry *e;
    size_t n, cap;
};

static void mk_fs_ls_cb(void *user, const char *name, bool is_dir)
{
    struct mk_fs_list *l = user;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        struct mk_fs_entry *ne = realloc(l->e, nc * sizeof *ne);
        if (!ne)
            return;
        l->e = ne;
        l->cap = nc;
    }
    snprintf(l->e[l->n].name, sizeof l->e[l->n].name, "%s", name);
    l->e[l->n].is_dir = is_dir;
    l->n++;
}

static int mk_fs_ls_7600(struct mk_cli *cli, const char *arg)
{
    char dir[8] = "C:/";
    if (arg) {
        char c0 = arg[0];
        if (c0 >= 'a' && c0 <= 'z')
            c0 = (char)(c0 - 'a' + 'A');
        if (c0 < 'A' || c0 > 'Z' || arg[1] != ':' || (arg[2] && (arg[2] != '/' || arg[3])))
            return mk_cli_usage_error(cli, "DIR %s: C:/ or F:/ (drive roots)", arg);
        dir[0] = c0;
    }
    struct mk_fs_list l = {0};
    enum mk_err e = mk_simcom_fs_list(cli->chan, dir, mk_fs_ls_cb, &l);
    uint64_t total = 0, used = 0;
    if (e == MK_OK)
        e = mk_simcom_fs_mem(cli->chan, dir[0], &total, &used);
    if (e != MK_OK) {
        free(l.e);
        return mk_fs_fail(cli, e, "listing", dir);
    }
    if (cli->json)
        printf("{\"dir\":\"%s\",\"entries\":[", dir);
    else
        printf("%s\n", dir);
    for (size_t i = 0; i < l.n; i++) {
        char path[300];
        uint64_t size = 0;
        snprintf(path, sizeof path, "%s%s", dir, l.e[i].name);
        if (!l.e[i].is_dir && (e = mk_simcom_fs_size(cli->chan, path, &size)) != MK_OK &&
            e != MK_E_NOENT) {
            free(l.e);
            return mk_fs_fail(cli, e, "size of", path);
        }
        if (cli->json) {
            printf("%s{\"name\":", i ? "," : "");
            mk_host_json_str(stdout, l.e[i].name);
            printf(",\"dir\":%s,\"size\":%llu}", l.e[i].is_dir ? "true" : "false",
                   (unsigned long long)size);
        } else if (l.e[i].is_dir) {
            printf("  %10s  %s/\n", "<dir>", l.e[i].name);
        } else {
            printf("  %10llu  %s\n", (unsigned long long)size, l.e[i].name);
        }
    }
    free(l.e);
    uint64_t free_bytes = used < total ? total - used : 0;
    if (cli->json)
        printf("],\"free\":%llu,\"total\":%llu}\n", (unsigned long long)free_bytes,
               (unsigned long long)total);
    else
        printf("%llu bytes free of %llu\n", (unsigned long long)free_bytes,
               (unsigned long long)total);
    return MK_EXIT_OK;
}

static int mk_fs_ls_cfs(struct mk_cli *cli, const char *arg)
{
    int index;
    const char *name;
    bool file = arg && mk_simcom_cfs_split(arg, &index, &name) == MK_OK;
    if (arg && !file) {
        bool dir = false;
        for (int i = 0; i < 4 && !dir; i++) {
            const char *d = mk_simcom_cfs_dir(i);
            dir = strcmp(arg, d) == 0 || strncmp(arg, d, strlen(d) - 1) == 0;
        }
        if (!dir)
            return mk_cli_usage_error(cli, "%s: %s", arg, mk_fs_path_help(MK_FS_CFS));
    }
    enum mk_err e = mk_simcom_cfs_init(cli->chan);
    uint64_t size = 0, free_bytes = 0;
    enum mk_err fe = MK_OK;
    if (e == MK_OK && file)
        fe = mk_simcom_cfs_size(cli->chan, index, name, &size);
    if (e == MK_OK && fe != MK_OK && fe != MK_E_NOENT)
        e = fe;
    if (e == MK_OK)
        e = mk_simcom_cfs_free(cli->chan, &free_bytes);
    if (e != MK_E_HANGUP && e != MK_E_TIMEOUT) {
        enum mk_err e2 = mk_simcom_cfs_term(cli->chan);
        if (e == MK_OK)
            e = e2;
    }
    if (e != MK_OK)
        return mk_fs_fail(cli, e, "listing", arg ? arg : "/");
    if (file && fe == MK_E_NOENT)
        return mk_fs_fail(cli, fe, "listing", arg);
    if (cli->json) {
        printf("{\"dir\":");
        mk_host_json_str(stdout, arg ? arg : "/");
        printf(",\"entries\":[");
        if (file) {
            printf("{\"name\":");
            mk_host_json_str(stdout, name);
            printf(",\"dir\":false,\"size\":%llu}", (unsigned long long)size);
        }
        printf("],\"listing\":false,\"free\":%llu}\n", (unsigned long long)free_bytes);
    } else {
        if (file)
            printf("  %10llu  %s\n", (unsigned long long)size, arg);
        else
            printf("(AT+CFS* has no directory listing: name a file, e.g. fs ls "
                   "/fota/update.zip)\n");
        printf("%llu bytes free\n", (unsigned long long)free_bytes);
    }
    return MK_EXIT_OK;
}

static int mk_fs_ls_run(struct mk_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc > 2)
        return mk_cli_usage_error(cli, "takes at most one DIR");
    enum mk_fs_kind kind;
    int rc = mk_fs_kind(cli, &kind);
    if (rc != MK_EXIT_OK)
        return rc;
    const char *arg = argc == 2 ? argv[1] : NULL;
    return kind == MK_FS_CFS ? mk_fs_ls_cfs(cli, arg) : mk_fs_ls_7600(cli, arg);
}

const struct mk_cli_cmd mk_cmd_fs_ls = {
    .name = "fs ls",
    .synopsis = "fs ls [DIR | FILE]",
    .summary = "List the module's files and free space",
    .description =
        "SIM7500/SIM7600: lists DIR (C:/ by default, or F:/, the cache drive) with "
        "AT+FSCD and AT+FSLS, each file's size with AT+FSATTRI, and the drive's free space "
        "with AT+FSMEM.\n\n"
        "SIM7000/SIM7070: the CFS commands have no directory listing; fs ls shows the free "
        "space (AT+CFSGFRS?) and, given a file such as /fota/update.zip, its size "
        "(AT+CFSGFIS).",
    .opts = NULL,
    .examples = "  modemctl -d /dev/ttyUSB2 fs ls F:/\n"
                "  modemctl -d /dev/ttyS1 --json fs ls /fota/update.zip\n",
    .needs_device = true,
    .run = mk_fs_ls_run,
};

/* ---- fs rm ---- */

static int mk_fs_rm_run(struct mk_cli *cli, int argc, char **argv)
{
    if (argc != 2)
        return mk_cli_usage_error(cli, "needs one PATH");
    const char *path = argv[1];
    enum mk_fs_kind kind;
    int rc = mk_fs_kind(cli, &kind);
    if (rc != MK_EXIT_OK)
        return rc;
    if (!mk_fs_valid(kind, path))
        return mk_cli_usage_error(cli, "PATH %s: %s", path, mk_fs_path_help(kind));
    enum mk_err e;
    if (kind == MK_FS_CFS) {
        int index;
        const char *name;
        mk_simcom_cfs_split(path, &index, &name);
        e = mk_simcom_cfs_init(cli->chan);
        if (e == MK_OK) {
            e = mk_simcom_cfs_delete(cli->chan, index, name);
            if (e != MK_E_HANGUP && e != MK_E_TIMEOUT) {
                enum mk_err e2 = mk_simcom_cfs_term(cli->chan);
                if (e == MK_OK)
                    e = e2;
            }
        }
    } else {
        e = mk_simcom_fs_delete(cli->chan, path);
    }
    if (e != MK_OK)
        return mk_fs_fail(cli, e, "removing", path);
    if (cli->json) {
        printf("{\"removed\":");
        mk_host_json_str(stdout, path);
        printf("}\n");
    } else {
        printf("removed %s\n", path);
    }
    return MK_EXIT_OK;
}

const struct mk_cli_cmd mk_cmd_fs_rm = {
    .name = "fs rm",
    .synopsis = "fs rm PATH",
    .summary = "Remove a file from the module",
    .description = "Removes PATH: AT+CFSDFILE on SIM7000/SIM7070 (inside AT+CFSINIT ... "
                   "AT+CFSTERM), AT+FSCD and AT+FSDEL on SIM7500/SIM7600. A missing file is "
                   "an error (exit 5: the module answers ERROR).",
    .opts = NULL,
    .examples = "  modemctl -d /dev/ttyUSB2 fs rm F:/update.zip\n",
    .needs_device = true,
    .run = mk_fs_rm_run,
};
