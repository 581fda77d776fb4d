/* modemctl cert put / ls / rm: the module's TLS file store (include/modemkit/tls.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "modemkit/modem.h"
#include "modemkit/posix.h"
#include "modemkit/tls.h"

/* The store exists on SIM7500/SIM7600/A76xx (S1 §10); say so plainly elsewhere. */
static int cert_need_store(struct mk_cli *cli)
{
    struct mk_modem_id id;
    enum mk_err e = mk_modem_identify(cli->chan, &id);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "identifying the module: %s", mk_strerror(e));
    if (!(mk_modem_family_caps(id.family) & MK_CAP_CERT_STORE))
        return mk_cli_fail(cli, MK_E_UNSUPPORTED,
                           "%s (%s) has no AT+CCERTDOWN certificate store (SIM7000/SIM7070 "
                           "keep TLS files in their file system; not driven by modemkit yet)",
                           id.model, id.revision);
    return MK_EXIT_OK;
}

static int cert_put(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {{"name", required_argument, NULL, 'n'},
                                             {NULL, 0, NULL, 0}};
    const char *name = NULL;
    int c;
    optind = 0; /* 0: glibc starts over (main parsed with "+" ordering) */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'n')
            return mk_cli_usage_error(cli, "unknown option");
        name = optarg;
    }
    if (argc - optind != 1)
        return mk_cli_usage_error(cli, "give one FILE");
    const char *path = argv[optind];
    if (!name) {
        const char *slash = strrchr(path, '/');
        name = slash ? slash + 1 : path;
    }
    if (!mk_tls_name_ok(name))
        return mk_cli_fail(cli, MK_E_INVAL,
                           "\"%s\" is not a name the module accepts: 5..128 "
                           "bytes ending .pem or .der, no '\"', '/' or '\\' "
                           "(use --name)",
                           name);
    static uint8_t data[MK_TLS_FILE_MAX];
    size_t len = 0;
    enum mk_err e = mk_posix_file_read(path, data, sizeof data, &len);
    if (e == MK_E_NOSPC)
        return mk_cli_fail(cli, MK_E_CERT, "%s: %zu bytes; the module stores at most 10240", path,
                           len);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "%s: cannot read it: %s", path, mk_strerror(e));
    struct mk_tls_pem_info info;
    if (mk_tls_pem_check(data, len, &info) != MK_OK) {
        if (info.line)
            return mk_cli_fail(cli, MK_E_CERT, "%s: line %zu: %s", path, info.line, info.why);
        return mk_cli_fail(cli, MK_E_CERT, "%s: %s", path, info.why);
    }
    int rc = cert_need_store(cli);
    if (rc != MK_EXIT_OK)
        return rc;
    e = mk_tls_cert_put(cli->chan, name, data, len);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "uploading %s as %s (AT+CCERTDOWN): %s", path, name,
                           mk_strerror(e));
    if (cli->json) {
        printf("{\"name\":");
        mk_host_json_str(stdout, name);
        printf(",\"bytes\":%zu,\"certificates\":%u,\"keys\":%u}\n", len, info.certs, info.keys);
    } else {
        printf("%s: %zu bytes (%u certificate(s), %u key(s)) stored as %s\n", path, len, info.certs,
               info.keys, name);
    }
    return MK_EXIT_OK;
}

struct cert_ls {
    struct mk_cli *cli;
    int n;
};

static void cert_ls_cb(void *user, const char *name)
{
    struct cert_ls *l = user;
    if (l->cli->json) {
        printf("%s", l->n ? "," : "");
        mk_host_json_str(stdout, name);
    } else {
        printf("%s\n", name);
    }
    l->n++;
}

static int cert_ls(struct mk_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return mk_cli_usage_error(cli, "takes no arguments");
    int rc = cert_need_store(cli);
    if (rc != MK_EXIT_OK)
        return rc;
    struct cert_ls l = {cli, 0};
    if (cli->json)
        printf("{\"files\":[");
    enum mk_err e = mk_tls_cert_list(cli->chan, cert_ls_cb, &l);
    if (cli->json)
        printf("]}\n");
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "AT+CCERTLIST: %s", mk_strerror(e));
    return MK_EXIT_OK;
}

static int cert_rm(struct mk_cli *cli, int argc, char **argv)
{
    if (argc != 2)
        return mk_cli_usage_error(cli, "give one NAME");
    int rc = cert_need_store(cli);
    if (rc != MK_EXIT_OK)
        return rc;
    enum mk_err e = mk_tls_cert_delete(cli->chan, argv[1]);
    if (e == MK_E_AT_ERROR)
        return mk_cli_fail(cli, e,
                           "the module refused to delete \"%s\" (no such file? see "
                           "'modemctl cert ls')",
                           argv[1]);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "AT+CCERTDELE \"%s\": %s", argv[1], mk_strerror(e));
    if (cli->json) {
        printf("{\"deleted\":");
        mk_host_json_str(stdout, argv[1]);
        printf("}\n");
    }
    return MK_EXIT_OK;
}

static const struct mk_cli_opt_doc cert_put_opts[] = {
    {"--name NAME", "Name in the module's store (5..128 bytes, .pem or .der). Default: the "
                    "file's base name."},
    {NULL, NULL},
};

const struct mk_cli_cmd mk_cmd_cert_put = {
    .name = "cert put",
    .synopsis = "cert put FILE [--name NAME]",
    .summary = "Check a PEM file locally and store it on the module",
    .description =
        "Checks FILE before anything is sent: at most 10240 bytes (the most AT+CCERTDOWN "
        "takes), text, well-formed PEM blocks (BEGIN/END lines with the same label, a base64 "
        "body of whole 4-character groups). A bad file is named with the line and the fault, "
        "so it does not surface later as a TLS handshake failure (+CMQTTCONNECT: 0,32 or "
        "34). Then uploads it with AT+CCERTDOWN (the bytes are redacted in -v traces), "
        "replacing a file of the same name.",
    .opts = cert_put_opts,
    .examples = "  modemctl cert put ca.pem\n  modemctl cert put device.key --name dev-key.pem\n",
    .needs_device = true,
    .run = cert_put,
};

const struct mk_cli_cmd mk_cmd_cert_ls = {
    .name = "cert ls",
    .synopsis = "cert ls",
    .summary = "List the certificate and key files stored on the module",
    .description = "Lists the module's TLS files (AT+CCERTLIST), one name per line; with "
                   "--json {\"files\":[...]}.",
    .opts = NULL,
    .examples = "  modemctl --json cert ls\n",
    .needs_device = true,
    .run = cert_ls,
};

const struct mk_cli_cmd mk_cmd_cert_rm = {
    .name = "cert rm",
    .synopsis = "cert rm NAME",
    .summary = "Delete a certificate or key file from the module",
    .description = "Deletes NAME from the module's TLS store (AT+CCERTDELE). Exit status 5 "
                   "when the module refuses (for example, no such file).",
    .opts = NULL,
    .examples = "  modemctl cert rm old-ca.pem\n",
    .needs_device = true,
    .run = cert_rm,
};
