/*
 * modemctl internals: the command table, the shared context and output helpers.
 *
 * Every command is described once, by a struct mk_cli_cmd: the same text produces
 * `modemctl COMMAND --help`, the command list of `modemctl --help` and the man page
 * (`modemctl --man`), so they cannot drift apart.
 */
#ifndef MODEMCTL_CLI_H
#define MODEMCTL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "modemkit/at.h"
#include "modemkit/err.h"
#include "json_out.h"

struct mk_posix_port;

struct mk_cli_opt_doc {
    const char *flags; /* "-t, --topic TOPIC" */
    const char *text;
};

struct mk_cli;

struct mk_cli_cmd {
    const char *name;     /* "mqtt pub" (sub-commands are separate entries) */
    const char *synopsis; /* "mqtt pub -t TOPIC (-m MSG | -f FILE) [options]" */
    const char *summary;  /* one line for the command list */
    const char *description; /* paragraphs separated by blank lines */
    const struct mk_cli_opt_doc *opts; /* terminated by {NULL, NULL} */
    const char *examples; /* lines "modemctl ..." */
    bool needs_device;    /* opens -d DEVICE before run() */
    bool own_urcs;        /* consumes URCs itself (mqtt, fota): no generic URC printer */
    int (*run)(struct mk_cli *cli, int argc, char **argv); /* returns an exit code */
};

/* Global state shared by all commands. */
struct mk_cli {
    const char *device;   /* -d; NULL = MODEMCTL_DEVICE or sim:SIM7600E-H */
    bool device_default;  /* neither -d nor MODEMCTL_DEVICE: flash looks on USB instead */
    uint32_t baud;        /* -b; 0 = leave as is (115200 for real ttys) */
    bool json;            /* --json */
    int verbose;          /* -v count */
    uint32_t timeout_ms;  /* --timeout; default per command */
    bool quiet_open;      /* device open: no "does not answer" message (caller retries) */
    const struct mk_cli_cmd *cmd;
    /* device, once opened (tools/modemctl/device.c) */
    struct mk_at_chan *chan;
    void *dev;            /* private to device.c */
};

/* Exit codes: stable, documented in --help and the man page (exit.c). */
enum mk_cli_exit {
    MK_EXIT_OK = 0,
    MK_EXIT_FAILURE = 1,
    MK_EXIT_USAGE = 2,
    MK_EXIT_DEVICE = 3,
    MK_EXIT_TIMEOUT = 4,
    MK_EXIT_MODULE_ERROR = 5,
    MK_EXIT_FW_UNSUPPORTED = 6,
    MK_EXIT_MQTT = 7,
    MK_EXIT_TLS = 8,
    MK_EXIT_BAD_INPUT = 9,
    MK_EXIT_FOTA_MODEL = 10,
    MK_EXIT_FOTA_SOURCE = 11,
    MK_EXIT_FOTA_SPACE = 12,
    MK_EXIT_FOTA_SIGNATURE = 13,
    MK_EXIT_FOTA_INTEGRITY = 14,
    MK_EXIT_UPDATE_FAILED = 15,
    MK_EXIT_FLASH_PROTOCOL = 16,
    MK_EXIT_IMAGE = 17,
    MK_EXIT_BOOTLOOP = 18,
    MK_EXIT_VERSION_UNCHANGED = 19,
};

/* Maps a library error to the documented exit code. */
int mk_cli_exit_code(enum mk_err err);
/* Prints the exit-code table (for --help and --man). man selects troff output. */
void mk_cli_print_exit_codes(FILE *out, bool man);

/* The command table (commands.c), terminated by NULL. */
extern const struct mk_cli_cmd *const mk_cli_commands[];

/* Help output (help.c). */
void mk_cli_usage(FILE *out);
void mk_cli_cmd_help(FILE *out, const struct mk_cli_cmd *cmd);
void mk_cli_man(FILE *out);

/*
 * Error reporting: prints "modemctl: <what>: <mk_strerror(err)>" (plus detail) to stderr,
 * or a JSON error object on stdout with --json; returns the exit code for err.
 */
int mk_cli_fail(struct mk_cli *cli, enum mk_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Usage error for the current command; returns MK_EXIT_USAGE. */
int mk_cli_usage_error(struct mk_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Device (device.c): opens cli->device (tty, pty, tcp:HOST:PORT or sim:PROFILE, which
 * starts modemsim), sets up cli->chan with the -v trace, and syncs the channel (AT, ATE0).
 * mk_cli_device_close() closes it and stops a simulator it started.
 */
enum mk_err mk_cli_device_open(struct mk_cli *cli);
void mk_cli_device_close(struct mk_cli *cli);

/*
 * After the module rebooted (the port hung up): reopen the same path (a symlink that
 * follows the module, or /dev/ttyUSBn re-created by udev) until deadline_ms on the posix
 * clock, hand the new io to the AT channel and sync it again (AT, ATE0). Boot URCs that
 * arrive meanwhile go to the registered URC handlers.
 */
enum mk_err mk_cli_device_reopen(struct mk_cli *cli, uint64_t deadline_ms);

/*
 * The two halves of mk_cli_device_open(), for commands that must look at the port before
 * talking AT (flash: the port may be in download mode). open_port opens cli->device (and
 * starts modemsim for sim:PROFILE) and binds cli->chan without sending anything; calling
 * it again after a failure retries the open. quiet: no message on failure. sync sends
 * "AT" until OK, then ATE0, until deadline_ms.
 */
enum mk_err mk_cli_device_open_port(struct mk_cli *cli, bool quiet);
enum mk_err mk_cli_device_sync(struct mk_cli *cli, uint64_t deadline_ms);
/* Point the device at another path (a USB module's tty after re-enumeration). */
void mk_cli_device_set_path(struct mk_cli *cli, const char *path);
/* Hand the (re)opened port's io to cli->chan again. */
void mk_cli_device_rebind(struct mk_cli *cli);

/* The open port (for flashing sessions that bypass the AT channel), or NULL. */
struct mk_posix_port *mk_cli_port(struct mk_cli *cli);

/* The path actually opened (the simulator's link for sim:PROFILE). */
const char *mk_cli_device_path(struct mk_cli *cli);

/* -v trace sink for the AT engine (prints to stderr with timestamps). */
void mk_cli_trace(void *user, enum mk_at_trace_dir dir, const char *text, size_t len);

#endif
