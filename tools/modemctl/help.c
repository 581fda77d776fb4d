/* --help, COMMAND --help and --man, all from the command table (commands.c). */
#include <string.h>

#include "cli.h"

static const struct mk_cli_opt_doc mk_cli_global_opts[] = {
    {"-d, --device DEVICE",
     "The module's AT port: a tty (/dev/ttyUSB2), a pty path, tcp:HOST:PORT (serial server), "
     "or sim:PROFILE to start the built-in simulator (modemsim) for that profile. "
     "Default: $MODEMCTL_DEVICE, else sim:SIM7600E-H."},
    {"-b, --baud BAUD", "Serial line rate for ttys (300 to 4000000). Default 115200."},
    {"--json", "Machine-readable output: one JSON object per result or event, on stdout."},
    {"-v, --verbose", "Trace AT traffic on stderr (passwords and key bytes are redacted); "
                      "twice for engine notes."},
    {"--timeout SECONDS", "Override the command's overall deadline."},
    {"-h, --help", "Show this help. 'modemctl COMMAND --help' shows a command's help."},
    {"--version", "Print the version."},
    {NULL, NULL},
};

/* Prints text wrapped to width columns after indent spaces; "\n\n" starts a paragraph. */
static void mk_cli_wrap(FILE *out, const char *t, int indent, size_t width)
{
    while (*t) {
        size_t n = strcspn(t, "\n");
        if (n > width) {
            n = width;
            while (n > 0 && t[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        fprintf(out, "%*s%.*s\n", indent, "", (int)n, t);
        t += n;
        while (*t == ' ')
            t++;
        if (*t == '\n') {
            t++;
            if (*t == '\n') {
                fputc('\n', out);
                t++;
            }
        }
    }
}

static void mk_cli_print_opts(FILE *out, const struct mk_cli_opt_doc *o)
{
    for (; o && o->flags; o++) {
        fprintf(out, "  %s\n", o->flags);
        mk_cli_wrap(out, o->text, 6, 70);
    }
}

void mk_cli_usage(FILE *out)
{
    fprintf(out, "Usage: modemctl [-d DEVICE] [-b BAUD] [--json] [-v] COMMAND [ARGS...]\n\n"
                 "Connect, update and recover cellular modules (SIMCom SIM7600/SIM7500/"
                 "SIM7000,\nSierra RC76xx) through their AT port and download mode.\n\n"
                 "Global options:\n");
    mk_cli_print_opts(out, mk_cli_global_opts);
    fprintf(out, "\nCommands:\n");
    for (const struct mk_cli_cmd *const *cp = mk_cli_commands; *cp; cp++)
        fprintf(out, "  %-14s %s\n", (*cp)->name, (*cp)->summary);
    fprintf(out, "\nRun 'modemctl COMMAND --help' for a command's options and examples.\n"
                 "\nExit codes:\n");
    mk_cli_print_exit_codes(out, false);
}

void mk_cli_cmd_help(FILE *out, const struct mk_cli_cmd *c)
{
    fprintf(out, "Usage: modemctl [global options] %s\n\n", c->synopsis);
    mk_cli_wrap(out, c->description, 0, 78);
    if (c->opts && c->opts->flags) {
        fprintf(out, "\nOptions:\n");
        mk_cli_print_opts(out, c->opts);
    }
    if (c->examples)
        fprintf(out, "\nExamples:\n%s", c->examples);
    fprintf(out, "\nGlobal options (-d, -b, --json, -v, --timeout) and exit codes: "
                 "modemctl --help\n");
}

/* troff-escape: backslashes, hyphens, and a leading '.' or '\''. */
static void mk_man_text(FILE *out, const char *s)
{
    bool bol = true;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        bol = (*s == '\n');
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else if (*s == '\n' && s[1] == '\n') {
            fputs("\n.PP\n", out);
            s++;
            bol = true;
        } else
            fputc(*s, out);
    }
    fputc('\n', out);
}

static void mk_man_opts(FILE *out, const struct mk_cli_opt_doc *o)
{
    for (; o && o->flags; o++) {
        fputs(".TP\n.B ", out);
        mk_man_text(out, o->flags);
        mk_man_text(out, o->text);
    }
}

void mk_cli_man(FILE *out)
{
    fputs(".TH MODEMCTL 1 \"\" \"modemkit\" \"User Commands\"\n"
          ".SH NAME\nmodemctl \\- connect, update and recover cellular modules\n"
          ".SH SYNOPSIS\n.B modemctl\n[\\-d DEVICE] [\\-b BAUD] [\\-\\-json] [\\-v] COMMAND "
          "[ARGS...]\n.SH DESCRIPTION\n",
          out);
    mk_man_text(out, "modemctl drives SIMCom and Sierra Wireless cellular modules through their "
                     "AT port: identity and capabilities, raw AT commands, MQTT and MQTT over TLS "
                     "with the module's own client, certificates and files, firmware updates "
                     "over the air (FOTA) and, in download mode, flashing and recovery with "
                     "Sahara, Firehose and QDL.\n\nWithout -d it talks to the built-in simulator "
                     "(modemsim), so every command can be tried without hardware.");
    fputs(".SH GLOBAL OPTIONS\n", out);
    mk_man_opts(out, mk_cli_global_opts);
    fputs(".SH COMMANDS\n", out);
    for (const struct mk_cli_cmd *const *cp = mk_cli_commands; *cp; cp++) {
        const struct mk_cli_cmd *c = *cp;
        fputs(".SS ", out);
        mk_man_text(out, c->name);
        fputs(".B modemctl\n", out);
        mk_man_text(out, c->synopsis);
        fputs(".PP\n", out);
        mk_man_text(out, c->description);
        if (c->opts && c->opts->flags) {
            fputs(".PP\nOptions:\n.RS\n", out);
            mk_man_opts(out, c->opts);
            fputs(".RE\n", out);
        }
        if (c->examples) {
            fputs(".PP\nExamples:\n.nf\n.RS\n", out);
            mk_man_text(out, c->examples);
            fputs(".RE\n.fi\n", out);
        }
    }
    fputs(".SH EXIT STATUS\n", out);
    mk_cli_print_exit_codes(out, true);
    fputs(".SH ENVIRONMENT\n.TP\n.B MODEMCTL_DEVICE\nDefault for \\-d.\n"
          ".TP\n.B MODEMSIM\nPath of the modemsim program used for sim:PROFILE devices.\n"
          ".SH SEE ALSO\n.BR modemsim (1)\n",
          out);
}
