/* modemctl at: send AT commands and print the replies. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

struct mk_at_print {
    struct mk_cli *cli;
    bool first;
};

static void mk_at_print_line(void *user, const char *line, size_t len)
{
    struct mk_at_print *p = user;
    if (p->cli->json) {
        char buf[1200];
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        printf("%s", p->first ? "" : ",");
        mk_host_json_str(stdout, buf);
        p->first = false;
    } else {
        printf("%.*s\n", (int)len, line);
    }
}

static const char *mk_at_final_text(const struct mk_at_result *r, char *buf, size_t cap)
{
    switch (r->final) {
    case MK_AT_FINAL_OK: return "OK";
    case MK_AT_FINAL_ERROR: return "ERROR";
    case MK_AT_FINAL_CME:
    case MK_AT_FINAL_CMS:
        if (r->cme >= 0)
            snprintf(buf, cap, "+%s ERROR: %d", r->final == MK_AT_FINAL_CME ? "CME" : "CMS",
                     r->cme);
        else
            snprintf(buf, cap, "+%s ERROR: %s", r->final == MK_AT_FINAL_CME ? "CME" : "CMS",
                     r->cme_text);
        return buf;
    case MK_AT_FINAL_NO_CARRIER: return "NO CARRIER";
    case MK_AT_FINAL_BUSY: return "BUSY";
    case MK_AT_FINAL_NO_ANSWER: return "NO ANSWER";
    case MK_AT_FINAL_NO_DIALTONE: return "NO DIALTONE";
    default: return NULL;
    }
}

static int mk_at_run(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'D'},
        {"download", no_argument, NULL, 'L'},
        {"urc", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *urc = NULL;
    bool download = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "D:", longopts, NULL)) != -1) {
        switch (c) {
        case 'D': data = optarg; break;
        case 'L': download = true; break;
        case 'U': urc = optarg; break;
        default: return mk_cli_usage_error(cli, "unknown option");
        }
    }
    if (optind >= argc)
        return mk_cli_usage_error(cli, "no command given");
    if ((data || urc) && argc - optind != 1)
        return mk_cli_usage_error(cli, "--data and --urc apply to a single command");

    int rc = MK_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        char text[MK_AT_TX_CAP];
        /* Accept "AT+CSQ" as well as "+CSQ" or "I". */
        if (strncasecmp(argv[i], "AT", 2) == 0)
            snprintf(text, sizeof text, "%s", argv[i]);
        else
            snprintf(text, sizeof text, "AT%s", argv[i]);
        struct mk_at_print pr = {.cli = cli, .first = true};
        char urc_prefix[64] = "";
        int urc_index = -1;
        if (urc) {
            snprintf(urc_prefix, sizeof urc_prefix, "%s", urc);
            char *colon = strrchr(urc_prefix, ':');
            /* "+CMQTTCONNECT:0" = prefix "+CMQTTCONNECT:" and client index 0. */
            if (colon && colon[1]) {
                urc_index = atoi(colon + 1);
                colon[1] = '\0';
            } else if (!colon) {
                snprintf(urc_prefix + strlen(urc_prefix),
                         sizeof urc_prefix - strlen(urc_prefix), ":");
            }
        }
        struct mk_at_cmd cmd = {
            .text = text,
            .timeout_ms = cli->timeout_ms ? cli->timeout_ms : 10000,
            .prompt = data ? (download ? MK_AT_PROMPT_DOWNLOAD : MK_AT_PROMPT_GT)
                           : MK_AT_PROMPT_NONE,
            .data = (const uint8_t *)data,
            .data_len = data ? strlen(data) : 0,
            .on_line = mk_at_print_line,
            .user = &pr,
            .urc_prefix = urc ? urc_prefix : NULL,
            .urc_index = urc_index,
            .urc_timeout_ms = cli->timeout_ms ? cli->timeout_ms : 120000,
        };
        struct mk_at_result res;
        if (cli->json) {
            printf("{\"command\":");
            mk_host_json_str(stdout, text);
            printf(",\"lines\":[");
        }
        enum mk_err e = mk_at_exec(cli->chan, &cmd, &res);
        char fbuf[96];
        const char *final = mk_at_final_text(&res, fbuf, sizeof fbuf);
        if (cli->json) {
            printf("],\"result\":");
            if (final)
                mk_host_json_str(stdout, final);
            else
                printf("null");
            if (res.urc_seen) {
                printf(",\"urc\":");
                mk_host_json_str(stdout, res.urc_line);
            }
            printf(",\"error\":");
            if (e != MK_OK)
                mk_host_json_str(stdout, mk_err_name(e));
            else
                printf("null");
            printf("}\n");
        } else {
            if (res.urc_seen)
                printf("%s\n", res.urc_line);
            if (final)
                printf("%s\n", final);
        }
        fflush(stdout);
        if (e != MK_OK) {
            if (!final || e == MK_E_TIMEOUT)
                fprintf(stderr, "modemctl: %s: %s\n", text, mk_strerror(e));
            rc = mk_cli_exit_code(e);
            if (e == MK_E_HANGUP || e == MK_E_TIMEOUT)
                break;
        }
    }
    return rc;
}

const struct mk_cli_cmd mk_cmd_at = {
    .name = "at",
    .synopsis = "at [--data TEXT [--download]] [--urc PREFIX[:INDEX]] CMD...",
    .summary = "Send AT commands and print the replies",
    .description =
        "Sends each CMD in turn (\"AT\" is added when missing) and prints the module's "
        "answer lines and its final result. Unsolicited result codes that arrive meanwhile "
        "are not part of the answer. The exit status is that of the first failing command "
        "(5 when the module answered ERROR).\n\n"
        "For a command that prompts for data (\"> \", or DOWNLOAD on SIM7000), --data gives "
        "the bytes to send after the prompt. For a two-phase command whose real result is a "
        "later URC (AT+CMQTTCONNECT answers OK, then +CMQTTCONNECT: 0,<err>), --urc waits "
        "for that URC too.",
    .opts =
        (const struct mk_cli_opt_doc[]){
            {"-D, --data TEXT", "Bytes to send after the command's \"> \" prompt."},
            {"--download", "The prompt is the SIM7000 DOWNLOAD line instead of \"> \"."},
            {"--urc PREFIX[:INDEX]",
             "Also wait for the completion URC starting with PREFIX (e.g. +CMQTTCONNECT:0 "
             "for client 0) and print it."},
            {NULL, NULL},
        },
    .examples = "  modemctl -d /dev/ttyUSB2 at AT+CSQ\n"
                "  modemctl at ATI +CGMR '+CPSI?'\n"
                "  modemctl at --urc +CMQTTSTART AT+CMQTTSTART\n",
    .needs_device = true,
    .run = mk_at_run,
};
