/*
 * modemd internals: the configuration, the host side of the agent core's interfaces
 * (files, data sources, the apply hook, the FOTA updater) and the link to the module
 * (port, AT channel, MQTT client).
 */
#ifndef MODEMD_H
#define MODEMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "modemkit/agent.h"
#include "modemkit/modem.h"
#include "modemkit/mqtt.h"
#include "modemkit/posix.h"

#define MD_PATH_CAP  512
#define MD_CMD_CAP   1024
#define MD_TOPIC_CAP 256

/* ---- configuration (config.c) ---- */

enum md_source_kind { MD_SRC_SYNTHETIC = 0, MD_SRC_COMMAND, MD_SRC_FIFO, MD_SRC_FILE };

struct md_param {
    char name[MK_AGENT_PNAME_MAX];
    char type[8];
    char min[48], max[48];
    char def[MK_AGENT_PVAL_CAP];
    long max_length;
    bool has_min, has_max, has_def;
    int line; /* of its [param NAME] header */
};

struct md_config {
    char file[MD_PATH_CAP];
    /* [device] */
    char port[MD_PATH_CAP];
    uint64_t baud;
    char power_cycle[MD_CMD_CAP];
    uint64_t reopen_timeout_ms;
    uint64_t hang_timeout_ms;
    /* [mqtt] */
    char url[256];
    char client_id[129];
    char username[257];
    char password[257];
    char cafile[MD_PATH_CAP], certfile[MD_PATH_CAP], keyfile[MD_PATH_CAP];
    uint64_t keepalive_ms;
    uint64_t reconnect_max_ms;
    bool clean_session;
    char version[8];
    /* [topics], {client_id} already substituted after md_config_load */
    char t_telemetry[MD_TOPIC_CAP], t_params[MD_TOPIC_CAP], t_replies[MD_TOPIC_CAP];
    char t_status[MD_TOPIC_CAP], t_jobs[MD_TOPIC_CAP], t_results[MD_TOPIC_CAP];
    /* [sample] */
    uint64_t interval_ms;
    uint64_t count;
    char source[16];
    enum md_source_kind source_kind;
    char command[MD_CMD_CAP];
    char path[MD_PATH_CAP];
    uint64_t command_timeout_ms;
    /* [queue] */
    char queue_path[MD_PATH_CAP];
    uint64_t max_bytes, max_samples;
    char drop[8];
    /* [state] */
    char state_dir[MD_PATH_CAP];
    /* [status] */
    uint64_t status_interval_ms;
    /* [params] */
    char apply_command[MD_CMD_CAP];
    char apply_file[MD_PATH_CAP];
    uint64_t apply_timeout_ms;
    bool apply_on_start;
    struct md_param params[MK_AGENT_MAX_PARAMS];
    size_t n_params;
    /* [fota] */
    bool fota_enabled;
    char package_dir[MD_PATH_CAP];
    char fetch_command[MD_CMD_CAP];
    char public_key[MD_PATH_CAP];
    bool require_signature;
    uint64_t reboot_timeout_ms;
    char journal_dir[MD_PATH_CAP];
    /* [log] */
    char level[12];
    int log_level; /* enum mk_agent_log_level */
};

/* Loads and checks path; on error prints "FILE:LINE: message" lines to err and returns
 * MK_E_CONFIG. */
enum mk_err md_config_load(struct md_config *c, const char *path, FILE *err);
/* The configuration reference (for --help and the man page). */
void md_config_help(FILE *out);
/* Prints the effective configuration (--check-config -v), secrets masked. */
void md_config_print(const struct md_config *c, FILE *out);
/* Parameter definitions for the agent from the [param NAME] sections. */
void md_config_params(const struct md_config *c, struct mk_agent_param_def *defs);

/* ---- logging (main.c) ---- */
void md_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int md_log_level;

/* ---- durable files (storage.c) ---- */
struct md_storage {
    char log_path[MD_PATH_CAP];
    char dir[MD_PATH_CAP]; /* records: DIR/NAME.json */
    int rfd;               /* read fd of the log, -1 closed */
    int wfd;               /* rewrite in progress, -1 none */
    struct mk_agent_storage ops;
};
enum mk_err md_storage_init(struct md_storage *s, const char *dir, const char *log_path);
void md_storage_close(struct md_storage *s);
/* mkdir -p with mode 0700. */
enum mk_err md_mkdirs(const char *path);

/* ---- data sources (source.c) ---- */
struct md_source {
    const struct md_config *cfg;
    int fd;        /* fifo/file */
    int fifo_keep; /* fifo: our own writer, so the FIFO never reports EOF */
    dev_t dev;
    ino_t ino;
    off_t off;
    char rbuf[8192]; /* bytes read, not yet split into lines */
    size_t rlen;
    bool skipping; /* inside an over-long line: dropped up to its newline */
    uint64_t next_check_ms;
    struct mk_agent_source ops;
};
enum mk_err md_source_init(struct md_source *s, const struct md_config *cfg);
void md_source_close(struct md_source *s);
/* A line of text as a sample value: JSON text kept, anything else as a JSON string.
 * Returns the length written to out, 0 for an empty line, SIZE_MAX when it does not fit. */
size_t md_line_to_json(const char *line, size_t len, char *out, size_t cap);

/* ---- commands (run.c) ---- */
/* Runs sh -c cmd with extra environment (NULL-terminated "K=V" list, may be NULL),
 * stdin from in (may be NULL: /dev/null), stdout into out (cap, NUL-terminated; may be
 * NULL), first stderr line into err (may be NULL); kills it after timeout_ms.
 * Returns the exit status (0..255), 128+signal, or -1 (could not run / timed out,
 * err says which). */
int md_run(const char *cmd, char *const *env, const char *in, size_t in_len, char *out,
           size_t out_cap, size_t *out_len, char *err, size_t err_cap, uint64_t timeout_ms);

/* ---- the module link (link.c) ---- */
struct md_link;
struct md_link *md_link_new(const struct md_config *cfg, struct mk_agent *agent);
void md_link_free(struct md_link *l);
/* One round of connection management: opens, syncs, identifies, connects and subscribes
 * when it is time; reads URCs for up to wait_ms. Never longer than a few commands. */
void md_link_poll(struct md_link *l, uint32_t wait_ms);
const struct mk_agent_link *md_link_ops(struct md_link *l);
struct mk_at_chan *md_link_chan(struct md_link *l);
/* For the updater: reopen the port after a module reboot (sampling meanwhile). */
enum mk_err md_link_reopen(struct md_link *l, uint64_t deadline_ms);
/* For the updater: the port open and the channel synced, before deadline_ms. */
enum mk_err md_link_ready(struct md_link *l, uint64_t deadline_ms);
/* Runs the configured power-cycle command. */
enum mk_err md_link_power_cycle(struct md_link *l);
/* True when connected to the broker. */
bool md_link_connected(struct md_link *l);
/* Graceful end: MQTT disconnect, port closed. */
void md_link_close(struct md_link *l);
/* Set when a signal asked us to stop (long waits give up). */
extern volatile int md_stop;

/* ---- parameters applied on the host (apply.c) ---- */
struct md_apply {
    const struct md_config *cfg;
    struct mk_agent_hooks ops;
};
void md_apply_init(struct md_apply *a, const struct md_config *cfg);

/* ---- update jobs (update.c) ---- */
struct md_updater;
struct md_updater *md_updater_new(const struct md_config *cfg, struct md_link *link);
void md_updater_free(struct md_updater *u);
const struct mk_agent_updater *md_updater_ops(struct md_updater *u);

#endif
