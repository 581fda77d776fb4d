/* modemctl fota pack | apply | status: module firmware update over AT commands. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "fota_host.h"
#include "modemkit/posix.h"
#include "modemkit/sha256.h"
#include "modemkit/simcom_fota.h"

#define MK_FOTA_WORK (64u * 1024u) /* work buffer: chunks and hashing */

/* ---------------------------------------------------------------------------------- */
/* fota pack                                                                           */

/* A tar member name for the delta: its base name when that is a plain file name. */
static void mk_fota_member_name(const char *path, char *out, size_t cap)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    const char *b = basename(tmp);
    bool ok = strlen(b) > 0 && strlen(b) <= 100 && strcmp(b, "manifest.json") != 0 &&
              strcmp(b, "manifest.sig") != 0 && b[0] != '.';
    for (const char *p = b; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '_' || *p == '-';
    snprintf(out, cap, "%s", ok ? b : "delta.bin");
}

static bool mk_fota_put_member(uint8_t **buf, size_t *len, size_t *cap, const char *name,
                               const void *data, size_t n, uint64_t mtime)
{
    size_t need = *len + MK_TAR_BLOCK + n + MK_TAR_BLOCK;
    if (need > *cap) {
        size_t nc = need * 2;
        uint8_t *nb = realloc(*buf, nc);
        if (!nb)
            return false;
        *buf = nb;
        *cap = nc;
    }
    if (mk_tar_build_header(*buf + *len, name, n, mtime) != MK_OK)
        return false;
    *len += MK_TAR_BLOCK;
    memcpy(*buf + *len, data, n);
    *len += n;
    uint32_t pad = mk_tar_padding(n);
    memset(*buf + *len, 0, pad);
    *len += pad;
    return true;
}

static int mk_fota_pack_run(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"method", required_argument, NULL, 'M'},
        {"post", required_argument, NULL, 'p'},
        {"url", required_argument, NULL, 'u'},
        {"sign", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct mk_fota_manifest m;
    memset(&m, 0, sizeof m);
    const char *model = NULL, *from = NULL, *to = NULL, *method = NULL, *url = NULL, *sign = NULL,
               *out = NULL;
    int c;
    optind = 0; /* GNU getopt: full re-initialisation (main parsed with "+") */
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'M':
            method = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 's':
            sign = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'p':
            if (strcmp(optarg, "hard-power-cycle") != 0)
                return mk_cli_usage_error(cli, "--post %s: the known action is hard-power-cycle",
                                          optarg);
            m.post |= MK_FOTA_POST_HARD_POWER_CYCLE;
            break;
        default:
            return mk_cli_usage_error(cli, "unknown option");
        }
    }
    if (optind != argc - 1)
        return mk_cli_usage_error(cli, "name exactly one DELTA file");
    if (!model || !from || !to || !method || !out)
        return mk_cli_usage_error(cli, "--model, --from, --to, --method and -o are required");
    if (strcmp(method, "cfota") == 0)
        m.method = MK_FOTA_METHOD_CFOTA;
    else if (strcmp(method, "cdelta") == 0)
        m.method = MK_FOTA_METHOD_CDELTA;
    else
        return mk_cli_usage_error(cli, "--method must be cfota (SIM7000/SIM7070) or cdelta "
                                       "(SIM7500/SIM7600)");
    if (strcmp(from, to) == 0)
        return mk_cli_usage_error(cli, "--from and --to are the same revision");
    if (url && (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return mk_cli_usage_error(cli, "--url must be an http:// or https:// URL");
    if (snprintf(m.model, sizeof m.model, "%s", model) >= (int)sizeof m.model ||
        snprintf(m.source, sizeof m.source, "%s", from) >= (int)sizeof m.source ||
        snprintf(m.target, sizeof m.target, "%s", to) >= (int)sizeof m.target ||
        (url && snprintf(m.url, sizeof m.url, "%s", url) >= (int)sizeof m.url))
        return mk_cli_usage_error(cli, "a model, revision or URL is too long");
    const char *delta = argv[optind];

    char *data = NULL;
    size_t dlen = 0;
    struct stat st;
    if (stat(delta, &st) != 0 || !S_ISREG(st.st_mode))
        return mk_cli_fail(cli, MK_E_NOENT, "cannot read delta %s: %s", delta,
                           errno ? strerror(errno) : "not a regular file");
    data = malloc((size_t)st.st_size + 1);
    if (!data)
        return mk_cli_fail(cli, MK_E_NOMEM, "delta %s: out of memory", delta);
    enum mk_err e = mk_posix_file_read(delta, data, (size_t)st.st_size + 1, &dlen);
    if (e != MK_OK || dlen == 0) {
        free(data);
        return mk_cli_fail(cli, e == MK_OK ? MK_E_FORMAT : e, "cannot read delta %s: %s", delta,
                           e == MK_OK ? "empty file" : mk_strerror(e));
    }
    mk_fota_member_name(delta, m.delta_name, sizeof m.delta_name);
    m.delta_size = dlen;
    mk_sha256(data, dlen, m.delta_sha256);

    char man[4096];
    size_t mlen;
    if ((e = mk_fota_manifest_write(&m, man, sizeof man, &mlen)) != MK_OK) {
        free(data);
        return mk_cli_fail(cli, e, "cannot write the manifest: %s", mk_strerror(e));
    }
    uint8_t sig[MK_FOTA_SIG_LEN];
    if (sign) {
        char why[320];
        void *key = mk_host_ed25519_load(sign, true, why, sizeof why);
        if (!key) {
            free(data);
            return mk_cli_fail(cli, MK_E_FORMAT, "--sign: %s", why);
        }
        e = mk_host_ed25519_sign(key, (const uint8_t *)man, mlen, sig);
        mk_host_ed25519_free(key);
        if (e != MK_OK) {
            free(data);
            return mk_cli_fail(cli, e, "signing the manifest failed");
        }
    }
    uint64_t mtime = (uint64_t)st.st_mtime; /* same delta, same package bytes */
    uint8_t *tar = NULL;
    size_t tlen = 0, tcap = 0;
    bool ok =
        mk_fota_put_member(&tar, &tlen, &tcap, "manifest.json", man, mlen, mtime) &&
        (!sign || mk_fota_put_member(&tar, &tlen, &tcap, "manifest.sig", sig, sizeof sig, mtime)) &&
        mk_fota_put_member(&tar, &tlen, &tcap, m.delta_name, data, dlen, mtime);
    free(data);
    if (!ok) {
        free(tar);
        return mk_cli_fail(cli, MK_E_NOMEM, "cannot build the package");
    }
    memset(tar + tlen, 0, 2 * MK_TAR_BLOCK); /* end of archive: two zero blocks */
    tlen += 2 * MK_TAR_BLOCK;
    if (tlen > tcap) {
        free(tar);
        return mk_cli_fail(cli, MK_E_NOMEM, "cannot build the package");
    }
    e = mk_posix_file_replace(out, tar, tlen);
    uint8_t id[MK_SHA256_LEN];
    char idhex[2 * MK_SHA256_LEN + 1], dhex[2 * MK_SHA256_LEN + 1];
    mk_sha256(tar, tlen, id);
    free(tar);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "cannot write %s: %s", out, mk_strerror(e));
    mk_sha256_hex(id, idhex);
    mk_sha256_hex(m.delta_sha256, dhex);
    if (cli->json) {
        printf("{\"package\":");
        mk_host_json_str(stdout, out);
        printf(",\"id\":\"%s\",\"model\":", idhex);
        mk_host_json_str(stdout, m.model);
        printf(",\"source\":");
        mk_host_json_str(stdout, m.source);
        printf(",\"target\":");
        mk_host_json_str(stdout, m.target);
        printf(",\"method\":\"%s\",\"delta\":{\"file\":", mk_fota_method_name(m.method));
        mk_host_json_str(stdout, m.delta_name);
        printf(",\"size\":%zu,\"sha256\":\"%s\"},\"signed\":%s,\"post\":[%s],\"bytes\":%zu}\n",
               dlen, dhex, sign ? "true" : "false",
               (m.post & MK_FOTA_POST_HARD_POWER_CYCLE) ? "\"hard-power-cycle\"" : "", tlen);
    } else {
        printf("%s: %s %s -> %s (%s), delta %s %zu bytes sha256 %s%s%s\n", out, m.model, m.source,
               m.target, mk_fota_method_name(m.method), m.delta_name, dlen, dhex,
               sign ? ", signed" : ", NOT signed",
               (m.post & MK_FOTA_POST_HARD_POWER_CYCLE) ? ", hard power cycle after update" : "");
        printf("package id (sha256 of the file): %s\n", idhex);
    }
    return MK_EXIT_OK;
}

const struct mk_cli_cmd mk_cmd_fota_pack = {
    .name = "fota pack",
    .synopsis = "fota pack --model M --from REV --to REV --method cfota|cdelta "
                "[--post hard-power-cycle] [--url URL] [--sign KEY.pem] DELTA -o PACKAGE",
    .summary = "Make an update package from a vendor delta",
    .description =
        "Wraps a vendor delta file (the firmware difference SIMCom supplies for one source "
        "and one target revision) into an update package: a POSIX ustar archive that "
        "`tar tvf` lists, holding manifest.json, manifest.sig when signed, and the delta "
        "itself, byte for byte.\n\n"
        "The manifest binds the delta to a module model, the exact source revision (as "
        "AT+CGMR prints it), the target revision, the delta's size and SHA-256, the update "
        "method and post-update actions. `fota apply` refuses the package on any mismatch "
        "before it sends a byte.\n\n"
        "Methods: cfota for SIM7000/SIM7070 (the delta goes to /fota/update.zip, then "
        "AT+CFOTA=1); cdelta for SIM7500/SIM7600 (the delta goes to the cache drive F:, then "
        "AT+CDELTA).\n\n"
        "With --sign the manifest is signed with an Ed25519 private key (make one with "
        "`openssl genpkey -algorithm ed25519 -out key.pem` and give `openssl pkey -in key.pem "
        "-pubout -out pub.pem` to the devices). The package identity is the SHA-256 of the "
        "package file; the update journal is kept under that name.",
    .opts =
        (const struct mk_cli_opt_doc[]){
            {"--model M", "Module model the delta is for, as AT+CGMM or ATI reports it; a "
                          "leading SIMCOM_ is ignored (SIM7600SA, SIM7000G)."},
            {"--from REV", "Exact firmware revision the delta applies to (AT+CGMR)."},
            {"--to REV", "Revision the module must report after the update."},
            {"--method cfota|cdelta", "How the module takes the delta (see above)."},
            {"--post hard-power-cycle", "The module needs a hard power cycle after the update "
                                        "(as the RC76xx R9.0 release did, seed 002); `fota "
                                        "apply` then requires --power-cycle-cmd."},
            {"--url URL", "Where the module can download the delta itself (SIM7000: "
                          "AT+HTTPTOFS); the delta is still packed for the checks."},
            {"--sign KEY.pem", "Sign the manifest with this Ed25519 private key."},
            {"-o, --output PACKAGE", "The package file to write (replaced atomically)."},
            {NULL, NULL}},
    .examples = "  modemctl fota pack --model SIM7600SA --from LE11B01SIM7600M21-A \\\n"
                "      --to LE11B14SIM7600M22 --method cdelta --sign key.pem \\\n"
                "      B01_B14_SIM7600SA.zip -o sim7600sa-b14.fota\n"
                "  tar tvf sim7600sa-b14.fota\n",
    .needs_device = false,
    .run = mk_fota_pack_run,
};

/* ---------------------------------------------------------------------------------- */
/* fota apply                                                                          */

struct mk_fota_apply_ctx {
    struct mk_cli *cli;
    struct mk_host_progress progress;
    const char *power_cmd;
    void *key;
};

static enum mk_err mk_fota_hook_reopen(void *ctx, uint64_t deadline_ms)
{
    struct mk_fota_apply_ctx *a = ctx;
    return mk_cli_device_reopen(a->cli, deadline_ms);
}

static enum mk_err mk_fota_hook_power(void *ctx)
{
    struct mk_fota_apply_ctx *a = ctx;
    int status = 0;
    mk_host_progress_flush(&a->progress);
    if (a->cli->json) {
        printf("{\"event\":\"power-cycle\",\"command\":");
        mk_host_json_str(stdout, a->power_cmd);
        printf("}\n");
        fflush(stdout);
    } else {
        fprintf(stderr, "fota: power-cycle command: %s\n", a->power_cmd);
    }
    enum mk_err e = mk_host_run_cmd(a->power_cmd, &status);
    if (e != MK_OK)
        fprintf(stderr, "fota: the power-cycle command exited with status %d\n", status);
    return e;
}

static void mk_fota_hook_progress(void *ctx, const struct mk_fota_event *ev)
{
    struct mk_fota_apply_ctx *a = ctx;
    mk_host_progress_event(&a->progress, ev);
}

static enum mk_err mk_fota_hook_verify(void *ctx, const uint8_t *msg, size_t len,
                                       const uint8_t sig[MK_FOTA_SIG_LEN])
{
    struct mk_fota_apply_ctx *a = ctx;
    return mk_host_ed25519_verify(a->key, msg, len, sig);
}

struct mk_fota_unfinished {
    int n;
    char path[MK_FOTA_PATH_CAP];
};

static void mk_fota_find_unfinished(void *user, const char *file, const struct mk_fota_journal *j)
{
    struct mk_fota_unfinished *u = user;
    (void)file;
    if (j && !j->final) {
        u->n++;
        snprintf(u->path, sizeof u->path, "%s", j->path);
    }
}

static void mk_fota_result_json(const struct mk_fota_job *job, enum mk_err e, int code,
                                const char *journal)
{
    const struct mk_fota_journal *j = &job->journal;
    const struct mk_fota_stats *st = &job->stats;
    bool link = e == MK_E_HANGUP || e == MK_E_TIMEOUT || e == MK_E_IO;
    printf("{\"result\":\"%s\",\"error\":", e == MK_OK ? "success"
                                            : link     ? "interrupted"
                                                       : "failure");
    if (e == MK_OK)
        printf("null");
    else
        mk_host_json_str(stdout, mk_err_name(e));
    printf(",\"code\":%d,\"message\":", code);
    mk_host_json_str(stdout, job->msg);
    printf(",\"state\":%d,\"state_name\":\"%s\",\"lwm2m_result\":%d,\"result_name\":\"%s\","
           "\"final\":%s,\"package\":\"%s\",\"journal\":",
           (int)j->state, mk_fota_state_name(j->state), (int)j->result,
           mk_fota_result_name(j->result), j->final ? "true" : "false", j->package);
    mk_host_json_str(stdout, journal);
    printf(",\"revision\":");
    mk_host_json_str(stdout, job->id.revision);
    printf(",\"source\":");
    mk_host_json_str(stdout, j->source);
    printf(",\"target\":");
    mk_host_json_str(stdout, j->target);
    printf(",\"resumed\":%s,\"resumed_from\":%llu,\"bytes_sent\":%llu,\"delta_size\":%llu,"
           "\"chunks\":%u,\"applies_sent\":%u,\"apply_count\":%u,\"reconnects\":%u,"
           "\"power_cycles\":%u,\"already\":%s,\"fetched\":%s,\"sessions\":%u}\n",
           st->resumed ? "true" : "false", (unsigned long long)st->resumed_from,
           (unsigned long long)st->bytes_sent, (unsigned long long)j->delta_size, st->chunks_sent,
           st->applies_sent, j->apply_count, st->reconnects, st->power_cycles,
           st->already ? "true" : "false", st->fetched ? "true" : "false", j->sessions);
    fflush(stdout);
}

/* Opens the device; while an update may be running (the module does not answer AT, or
 * is away between reboots) it keeps trying until deadline and accepts a port that is
 * open but silent: the job then waits for the module itself. A module that resets while
 * the port is being opened (it hangs up) is waited for the same way. */
static enum mk_err mk_fota_open_device(struct mk_cli *cli, bool update_running, uint64_t deadline)
{
    bool patient = update_running;
    cli->quiet_open = update_running;
    if (update_running && !cli->timeout_ms)
        cli->timeout_ms = 5000;
    for (;;) {
        enum mk_err e = mk_cli_device_open(cli);
        if (e == MK_OK)
            return MK_OK;
        struct mk_posix_port *port = mk_cli_port(cli);
        if (update_running && port && port->fd >= 0 && cli->chan)
            return MK_OK;
        mk_cli_device_close(cli);
        if (e == MK_E_HANGUP && !patient) {
            fprintf(stderr, "fota: the module reset while the port was opened; waiting for "
                            "it\n");
            patient = true;
            cli->quiet_open = true;
        }
        if (!patient || mk_posix_now_ms() >= deadline)
            return e;
        mk_posix_sleep_ms(200);
    }
}

static int mk_fota_apply_run(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"resume", no_argument, NULL, 'r'},
        {"pubkey", required_argument, NULL, 'k'},
        {"require-signature", no_argument, NULL, 'S'},
        {"journal", required_argument, NULL, 'j'},
        {"power-cycle-cmd", required_argument, NULL, 'P'},
        {"reboot-timeout", required_argument, NULL, 'R'},
        {"chunk-size", required_argument, NULL, 'c'},
        {"push", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    bool resume = false, require_sig = false, push = false;
    const char *pubkey = NULL, *jdir = NULL;
    double reboot_s = 300;
    unsigned long chunk = 0;
    struct mk_fota_apply_ctx actx = {.cli = cli};
    int c;
    optind = 0; /* GNU getopt: full re-initialisation (main parsed with "+") */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r':
            resume = true;
            break;
        case 'k':
            pubkey = optarg;
            break;
        case 'S':
            require_sig = true;
            break;
        case 'j':
            jdir = optarg;
            break;
        case 'P':
            actx.power_cmd = optarg;
            break;
        case 'p':
            push = true;
            break;
        case 'R':
            reboot_s = strtod(optarg, &end);
            if (*end || reboot_s < 1 || reboot_s > 86400)
                return mk_cli_usage_error(cli, "--reboot-timeout: seconds, 1 to 86400");
            break;
        case 'c':
            chunk = strtoul(optarg, &end, 10);
            if (*end || chunk < 64 || chunk > MK_FOTA_WORK)
                return mk_cli_usage_error(cli, "--chunk-size: 64 to %u bytes", MK_FOTA_WORK);
            break;
        default:
            return mk_cli_usage_error(cli, "unknown option");
        }
    }
    if (argc - optind > 1)
        return mk_cli_usage_error(cli, "name one PACKAGE");
    if (require_sig && !pubkey)
        return mk_cli_usage_error(cli, "--require-signature needs --pubkey KEY.pem");

    struct mk_host_journal hj;
    enum mk_err e = mk_host_journal_init(&hj, jdir, true);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "journal directory %s: %s", hj.dir, mk_strerror(e));
    char pkg_path[MK_FOTA_PATH_CAP];
    if (optind < argc) {
        snprintf(pkg_path, sizeof pkg_path, "%s", argv[optind]);
    } else {
        if (!resume)
            return mk_cli_usage_error(cli, "name the PACKAGE (or --resume an unfinished job)");
        struct mk_fota_unfinished u = {0};
        mk_host_journal_each(&hj, mk_fota_find_unfinished, &u);
        if (u.n == 0)
            return mk_cli_fail(cli, MK_E_NOENT, "nothing to resume: no unfinished job in %s",
                               hj.dir);
        if (u.n > 1)
            return mk_cli_usage_error(cli, "%d unfinished jobs in %s: name the PACKAGE", u.n,
                                      hj.dir);
        snprintf(pkg_path, sizeof pkg_path, "%s", u.path);
    }

    uint8_t *work = malloc(MK_FOTA_WORK);
    struct mk_host_pkg *hp = calloc(1, sizeof *hp);
    struct mk_fota_job *job = calloc(1, sizeof *job);
    int rc = MK_EXIT_FAILURE;
    if (!work || !hp || !job) {
        rc = mk_cli_fail(cli, MK_E_NOMEM, "out of memory");
        goto out;
    }
    char why[MK_FOTA_MSG_CAP] = "";
    e = mk_host_pkg_open(hp, pkg_path, work, MK_FOTA_WORK, why, sizeof why);
    if (e != MK_OK) {
        rc = mk_cli_fail(cli, e, "package %s: %s", pkg_path, why[0] ? why : mk_strerror(e));
        goto out;
    }
    if (pubkey) {
        actx.key = mk_host_ed25519_load(pubkey, false, why, sizeof why);
        if (!actx.key) {
            rc = mk_cli_fail(cli, MK_E_FORMAT, "--pubkey: %s", why);
            goto out;
        }
    }
    /* What the journal says decides how patient the device open must be. */
    char jpath[4400], jtext[4096];
    size_t jlen;
    struct mk_fota_journal prev;
    mk_host_journal_path(&hj, hp->pkg.id_hex, jpath, sizeof jpath);
    bool have_prev = mk_posix_file_read(jpath, jtext, sizeof jtext, &jlen) == MK_OK &&
                     mk_fota_journal_decode(&prev, jtext, jlen) == MK_OK;
    bool running = have_prev && !prev.final && prev.apply_sent;
    if (resume && !(have_prev && !prev.final))
        fprintf(stderr, "fota: no unfinished job for this package; starting one\n");

    uint32_t reboot_ms = (uint32_t)(reboot_s * 1000.0);
    e = mk_fota_open_device(cli, running, mk_posix_now_ms() + reboot_ms);
    if (e != MK_OK) {
        rc = mk_cli_fail(cli, e, "cannot use device %s: %s", cli->device, mk_strerror(e));
        goto out;
    }
    mk_host_progress_init(&actx.progress, cli->json);
    struct mk_fota_hooks hooks = {
        .verify_sig = actx.key ? mk_fota_hook_verify : NULL,
        .reopen = mk_fota_hook_reopen,
        .power_cycle = actx.power_cmd ? mk_fota_hook_power : NULL,
        .ctx = &actx,
    };
    struct mk_fota_config cfg = {
        .chan = cli->chan,
        .store = &hj.store,
        .hooks = &hooks,
        .buf = work,
        .buf_cap = MK_FOTA_WORK,
        .package_path = hp->path,
        .require_signature = require_sig,
        .push_only = push,
        .chunk_max = chunk,
        .line_rate_bps = cli->baud,
        .reboot_timeout_ms = reboot_ms,
    };
    hooks.progress = mk_fota_hook_progress;
    e = mk_fota_run(job, &cfg, &hp->pkg);
    mk_host_progress_flush(&actx.progress);
    rc = mk_cli_exit_code(e);
    if (cli->json)
        mk_fota_result_json(job, e, rc, jpath);
    if (e == MK_OK && cli->json) {
        /* the result object says it all */
    } else if (e == MK_OK) {
        printf("fota: success: %s\n", job->msg);
        if (!job->stats.already)
            printf("fota: %llu delta bytes sent in %u chunks%s, %u apply command(s) sent; "
                   "journal %s\n",
                   (unsigned long long)job->stats.bytes_sent, job->stats.chunks_sent,
                   job->stats.resumed ? " (resumed)" : "", job->journal.apply_count, jpath);
    } else {
        bool link = e == MK_E_HANGUP || e == MK_E_TIMEOUT || e == MK_E_IO;
        fprintf(stderr, "modemctl: fota apply: %s (%s)\n", job->msg, mk_err_name(e));
        if (link)
            fprintf(stderr, "modemctl: the job is not finished; run 'modemctl fota apply "
                            "--resume' when the module is reachable\n");
        else
            fprintf(stderr, "modemctl: journal %s: result %d (%s)\n", jpath,
                    (int)job->journal.result, mk_fota_result_name(job->journal.result));
    }
out:
    if (cli->chan)
        mk_cli_device_close(cli);
    if (actx.key)
        mk_host_ed25519_free(actx.key);
    if (hp)
        mk_host_pkg_close(hp);
    free(job);
    free(hp);
    free(work);
    return rc;
}

const struct mk_cli_cmd mk_cmd_fota_apply = {
    .name = "fota apply",
    .synopsis = "fota apply PACKAGE [--resume] [--pubkey KEY.pem] [--require-signature] "
                "[--journal DIR] [--power-cycle-cmd CMD] [--reboot-timeout S]",
    .summary = "Update the module's firmware with a package, resumably",
    .description =
        "Updates the module's firmware over its AT port with a package made by `fota pack`. "
        "Before a single byte of the delta is sent it checks, and refuses with a distinct "
        "exit code when one fails: the manifest signature (with --pubkey), the delta's size "
        "and SHA-256 (14), the module model (10), that the module runs exactly the package's "
        "source revision (11; a module already on the target revision succeeds at once), "
        "and the module's free space (12).\n\n"
        "SIM7000/SIM7070 (cfota): AT+CFSINIT, the delta in chunks of up to 10240 bytes with "
        "AT+CFSWFILE to /fota/update.zip (or AT+HTTPTOFS when the package names a URL), "
        "AT+CFSGFIS to check the size, AT+CFSTERM, AT+CFOTA=1; the module resets, reports "
        "+CFOTA progress, resets again and answers AT+CFOTA? with 6. SIM7500/SIM7600 "
        "(cdelta): AT+CFTRANRX chunks into F:/update.zip, AT+FSATTRI, AT+CDELTA; the module "
        "reboots through recovery. modemctl reopens the port by path after every reboot, "
        "waits for the module (up to --reboot-timeout per wait), reads the new revision and "
        "compares it with the package's target: an unchanged revision is a failure (19), an "
        "update the module reports as failed too (15).\n\n"
        "A journal file per job (named by the package's SHA-256) records the LwM2M state "
        "(0 idle, 1 downloading, 2 downloaded, 3 updating) and result (1 success, 2 not "
        "enough flash, 4 connection lost, 5 integrity failure, 6 unsupported package, 8 "
        "failed), the offset the module confirmed and whether the apply command was sent. "
        "It is replaced atomically at every state change and every 8 chunks. After a host "
        "crash, a module power cut or a lost serial line, `fota apply --resume` (or the same "
        "apply again) continues: the transfer resumes where the module's copy ends (its "
        "size is asked and its last bytes compared, the journal is not trusted blindly), "
        "and the apply command is never sent again before the module was asked what it did "
        "with it (AT+CFOTA?, AT+CGMR, the delta file). A lost link during a run is retried "
        "in the same run.\n\n"
        "When the module does not come back in time or keeps rebooting without answering "
        "(a boot loop), the --power-cycle-cmd is run and the wait starts again; packages "
        "whose manifest asks for a hard power cycle after the update require it.\n\n"
        "Progress goes to stderr (a bar with bytes, rate and ETA on a terminal); with --json "
        "stdout gets one JSON object per phase, note and progress step, and a final object "
        "with the result, the journal path and transfer statistics.",
    .opts =
        (const struct mk_cli_opt_doc[]){
            {"--resume", "Continue the unfinished job of PACKAGE; without PACKAGE, the only "
                         "unfinished job in the journal directory."},
            {"--pubkey KEY.pem", "Check the manifest's Ed25519 signature with this public key "
                                 "(a private key file works too)."},
            {"--require-signature", "Refuse unsigned packages (needs --pubkey)."},
            {"--journal DIR", "Journal directory. Default $XDG_STATE_HOME/modemctl/fota or "
                              "~/.local/state/modemctl/fota."},
            {"--power-cycle-cmd CMD", "Shell command that cuts and restores the module's power "
                                      "(a GPIO script, a USB hub port switch). Run when the "
                                      "module does not come back or boot-loops, and when the "
                                      "package requires a hard power cycle."},
            {"--reboot-timeout S", "Seconds to wait for the module after each reboot "
                                   "(default 300)."},
            {"--chunk-size N", "Largest piece of the delta per write command (default: the "
                               "method's maximum, 10240 for AT+CFSWFILE, 32768 for AT+CFTRANRX)."},
            {"--push", "Send the delta over the AT port even when the package names a URL."},
            {NULL, NULL}},
    .examples = "  modemctl -d /dev/ttyUSB2 fota apply sim7600sa-b14.fota --pubkey pub.pem\n"
                "  modemctl -d /dev/ttyS1 -b 921600 fota apply sim7000g.fota \\\n"
                "      --power-cycle-cmd '/usr/local/bin/modem-power cycle'\n"
                "  modemctl -d /dev/ttyUSB2 fota apply --resume\n",
    .needs_device = false, /* opened by the command: an updating module may not answer */
    .own_urcs = true,
    .run = mk_fota_apply_run,
};

/* ---------------------------------------------------------------------------------- */
/* fota status                                                                         */

struct mk_fota_status_ctx {
    struct mk_cli *cli;
    bool keep;
    int n;
};

static void mk_fota_status_one(void *user, const char *file, const struct mk_fota_journal *jin)
{
    struct mk_fota_status_ctx *s = user;
    s->n++;
    if (!jin) {
        if (s->cli->json) {
            printf("{\"journal\":");
            mk_host_json_str(stdout, file);
            printf(",\"error\":\"MK_E_JOURNAL\"}\n");
        } else {
            printf("%s: unreadable journal\n", file);
        }
        return;
    }
    struct mk_fota_journal j = *jin;
    bool was_reported = j.reported;
    if (s->cli->json) {
        printf("{\"journal\":");
        mk_host_json_str(stdout, file);
        printf(",\"package\":\"%s\",\"path\":", j.package);
        mk_host_json_str(stdout, j.path);
        printf(",\"model\":");
        mk_host_json_str(stdout, j.model);
        printf(",\"source\":");
        mk_host_json_str(stdout, j.source);
        printf(",\"target\":");
        mk_host_json_str(stdout, j.target);
        printf(",\"method\":\"%s\",\"state\":%d,\"state_name\":\"%s\",\"result\":%d,"
               "\"result_name\":\"%s\",\"final\":%s,\"offset\":%llu,\"delta_size\":%llu,"
               "\"apply_sent\":%s,\"apply_count\":%u,\"sessions\":%u,\"power_cycled\":%s,"
               "\"reported\":%s,\"error\":",
               mk_fota_method_name(j.method), (int)j.state, mk_fota_state_name(j.state),
               (int)j.result, mk_fota_result_name(j.result), j.final ? "true" : "false",
               (unsigned long long)j.offset, (unsigned long long)j.delta_size,
               j.apply_sent ? "true" : "false", j.apply_count, j.sessions,
               j.power_cycled ? "true" : "false", was_reported ? "true" : "false");
        mk_host_json_str(stdout, mk_err_name(j.err));
        printf(",\"message\":");
        mk_host_json_str(stdout, j.message);
        printf("}\n");
    } else {
        printf("%.12s  %s %s -> %s (%s)\n", j.package, j.model, j.source, j.target,
               mk_fota_method_name(j.method));
        printf("    state %d %s, result %d %s, %s%s\n", (int)j.state, mk_fota_state_name(j.state),
               (int)j.result, mk_fota_result_name(j.result),
               j.final ? "finished" : "NOT finished (fota apply --resume)",
               j.final && !was_reported ? " [new]" : "");
        printf("    delta %llu/%llu bytes on the module, apply sent %u time(s), %u run(s)%s\n",
               (unsigned long long)j.offset, (unsigned long long)j.delta_size, j.apply_count,
               j.sessions, j.power_cycled ? ", power-cycled" : "");
        if (j.message[0])
            printf("    %s\n", j.message);
        printf("    package %s\n", j.path);
    }
    if (j.final && !was_reported && !s->keep) {
        j.reported = true;
        char text[4096];
        size_t len;
        if (mk_fota_journal_encode(&j, text, sizeof text, &len) == MK_OK)
            mk_posix_file_replace(file, text, len);
    }
}

static int mk_fota_status_run(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"journal", required_argument, NULL, 'j'},
        {"keep", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    const char *jdir = NULL;
    struct mk_fota_status_ctx s = {.cli = cli};
    int c;
    optind = 0; /* GNU getopt: full re-initialisation (main parsed with "+") */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            jdir = optarg;
            break;
        case 'k':
            s.keep = true;
            break;
        default:
            return mk_cli_usage_error(cli, "unknown option");
        }
    }
    if (optind != argc)
        return mk_cli_usage_error(cli, "takes no arguments");
    struct mk_host_journal hj;
    mk_host_journal_init(&hj, jdir, false);
    mk_host_journal_each(&hj, mk_fota_status_one, &s);
    if (s.n == 0 && !cli->json)
        printf("no update jobs in %s\n", hj.dir);
    return MK_EXIT_OK;
}

const struct mk_cli_cmd mk_cmd_fota_status = {
    .name = "fota status",
    .synopsis = "fota status [--journal DIR] [--keep]",
    .summary = "Show update jobs and their results",
    .description =
        "Lists the update jobs in the journal directory: package, model, source and target "
        "revision, the LwM2M state and result, how much of the delta the module confirmed, "
        "how often the apply command was sent, and the outcome in words. Results are kept "
        "until reported: a finished job's result is shown as [new] once, and marked "
        "reported in its journal (unless --keep). Unfinished jobs continue with `fota apply "
        "--resume`. Needs no device.",
    .opts = (const struct mk_cli_opt_doc[]){{"--journal DIR",
                                             "Journal directory (default as for fota apply)."},
                                            {"--keep", "Do not mark finished results as reported."},
                                            {NULL, NULL}},
    .examples = "  modemctl fota status\n  modemctl --json fota status --journal /var/lib/fota\n",
    .needs_device = false,
    .run = mk_fota_status_run,
};
