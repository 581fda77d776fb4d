/* modemctl: global options, command dispatch, error reporting. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef MODEMKIT_VERSION
#define MODEMKIT_VERSION "0"
#endif

static int mk_cli_error_out(struct mk_cli *cli, enum mk_err err, const char *msg)
{
    int code = mk_cli_exit_code(err);
    if (cli->json) {
        printf("{\"error\":");
        mk_host_json_str(stdout, mk_err_name(err));
        printf(",\"code\":%d,\"message\":", code);
        mk_host_json_str(stdout, msg);
        printf("}\n");
        fflush(stdout);
    }
    fprintf(stderr, "modemctl: %s\n", msg);
    return code;
}

int mk_cli_fail(struct mk_cli *cli, enum mk_err err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mk_cli_error_out(cli, err, msg);
}

int mk_cli_usage_error(struct mk_cli *cli, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "modemctl %s: %s\nTry 'modemctl %s --help'.\n",
            cli->cmd ? cli->cmd->name : "", msg, cli->cmd ? cli->cmd->name : "");
    return MK_EXIT_USAGE;
}


/*
 * Finds the command named by argv[0] (and argv[1] for two-word commands such as
 * "mqtt pub"). Sets *used to the number of words consumed.
 */
static const struct mk_cli_cmd *mk_cli_find(int argc, char **argv, int *used)
{
    for (const struct mk_cli_cmd *const *cp = mk_cli_commands; *cp; cp++) {
        const struct mk_cli_cmd *c = *cp;
        const char *sp = strchr(c->name, ' ');
        if (!sp) {
            if (strcmp(c->name, argv[0]) == 0) {
                *used = 1;
                return c;
            }
        } else if (argc >= 2 && strlen(argv[0]) == (size_t)(sp - c->name) &&
                   strncmp(c->name, argv[0], (size_t)(sp - c->name)) == 0 &&
                   strcmp(sp + 1, argv[1]) == 0) {
            *used = 2;
            return c;
        }
    }
    return NULL;
}

/* "modemctl mqtt" alone: list its sub-commands. */
static bool mk_cli_list_group(FILE *out, const char *group)
{
    size_t n = strlen(group);
    bool any = false;
    for (const struct mk_cli_cmd *const *cp = mk_cli_commands; *cp; cp++) {
        const struct mk_cli_cmd *c = *cp;
        if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ') {
            if (!any)
                fprintf(out, "modemctl %s: sub-commands:\n", group);
            fprintf(out, "  %-14s %s\n", c->name, c->summary);
            any = true;
        }
    }
    return any;
}

int main(int argc, char **argv)
{
    struct mk_cli cli = {0};
    static const struct option longopts[] = {
        {"device", required_argument, NULL, 'd'}, {"baud", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'J'},        {"verbose", no_argument, NULL, 'v'},
        {"timeout", required_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},     {"man", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* '+': stop at the command word; its own options are parsed by the command. */
    while ((c = getopt_long(argc, argv, "+d:b:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            cli.device = optarg;
            break;
        case 'b': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < 300 || v > 4000000) {
                fprintf(stderr, "modemctl: -b %s: baud rate must be 300..4000000\n", optarg);
                return MK_EXIT_USAGE;
            }
            cli.baud = (uint32_t)v;
            break;
        }
        case 'J':
            cli.json = true;
            break;
        case 'v':
            cli.verbose++;
            break;
        case 'T': {
            char *end;
            double s = strtod(optarg, &end);
            if (*end || s <= 0 || s > 86400) {
                fprintf(stderr, "modemctl: --timeout %s: seconds, 0 < t <= 86400\n", optarg);
                return MK_EXIT_USAGE;
            }
            cli.timeout_ms = (uint32_t)(s * 1000);
            break;
        }
        case 'h':
            mk_cli_usage(stdout);
            return MK_EXIT_OK;
        case 'V':
            printf("modemctl %s\n", MODEMKIT_VERSION);
            return MK_EXIT_OK;
        case 'M':
            mk_cli_man(stdout);
            return MK_EXIT_OK;
        default:
            fprintf(stderr, "Try 'modemctl --help'.\n");
            return MK_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        mk_cli_usage(stderr);
        return MK_EXIT_USAGE;
    }
    if (!cli.device)
        cli.device = getenv("MODEMCTL_DEVICE");
    if (!cli.device) {
        cli.device = "sim:SIM7600E-H";
        cli.device_default = true;
    }

    int used = 0;
    const struct mk_cli_cmd *cmd = mk_cli_find(argc - optind, argv + optind, &used);
    if (!cmd) {
        if (mk_cli_list_group(stderr, argv[optind]))
            return MK_EXIT_USAGE;
        fprintf(stderr, "modemctl: unknown command '%s'. Try 'modemctl --help'.\n",
                argv[optind]);
        return MK_EXIT_USAGE;
    }
    cli.cmd = cmd;
    int cargc = argc - optind - used + 1;
    char **cargv = argv + optind + used - 1; /* cargv[0] = last command word */
    for (int i = 1; i < cargc; i++) {
        /* Only --help: "-h" is the broker host for mqtt pub/sub, as in mosquitto_pub. */
        if (strcmp(cargv[i], "--help") == 0) {
            mk_cli_cmd_help(stdout, cmd);
            return MK_EXIT_OK;
        }
        if (strcmp(cargv[i], "--") == 0)
            break;
    }
    if (cmd->needs_device) {
        enum mk_err e = mk_cli_device_open(&cli);
        if (e != MK_OK) {
            mk_cli_device_close(&cli);
            return mk_cli_fail(&cli, e, "cannot use device %s: %s", cli.device, mk_strerror(e));
        }
    }
    int rc = cmd->run(&cli, cargc, cargv);
    if (cmd->needs_device)
        mk_cli_device_close(&cli);
    return rc;
}
