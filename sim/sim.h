/*
 * modemsim internals shared by its files.
 *
 * modemsim is a host program (it may malloc, print, poll and use libmosquitto/OpenSSL).
 * It has its own AT parser on purpose: it is the reference the project's AT engine
 * (src/at) is tested against, so it must not share code with it.
 *
 * Shape of the program (see sim/README.md for the extension points):
 *   main.c      options, --help, the single-threaded poll loop, signals
 *   device.c    power, boot timeline, pty + --link, output queue, baud pacing, byte faults
 *   at.c        line discipline (echo, CR), command splitting and dispatch, ">" prompts,
 *               final results, URC queue, two-phase (OK now, URC later) operations
 *   util.c      buffers, clock, timers, RNG, argument parsing, UTF-8, logging
 *   flash.c     what survives reboots (--state DIR): certificates, files, revision
 *   fault.c     --fault SPEC parsing and triggers
 *   profiles.c  the module profiles (identity strings, capabilities, test answers)
 *   mqtt.c      libmosquitto glue shared by CMQTT and SM*
 *   cmd_*.c     command handlers grouped by feature; each file exports a struct sim_module
 */
#ifndef MODEMSIM_SIM_H
#define MODEMSIM_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim;

#define SIM_NCLIENTS 2   /* CMQTT client slots 0..1 (S1 §16) */
#define SIM_NSSLCTX 10   /* CSSLCFG contexts 0..9 (S1 §10) */

#define SIM_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ------------------------------------------------------------------------------------
 * util.c
 */

/* Growable byte buffer. Aborts the program on out-of-memory (host tool). */
struct sim_buf {
    uint8_t *p;
    size_t len, cap;
};
void sim_buf_put(struct sim_buf *b, const void *p, size_t n);
void sim_buf_puts(struct sim_buf *b, const char *str);
void sim_buf_printf(struct sim_buf *b, const char *fmt, ...) SIM_PRINTF(2, 3);
void sim_buf_vprintf(struct sim_buf *b, const char *fmt, va_list ap);
void sim_buf_consume(struct sim_buf *b, size_t n); /* drop n bytes from the front */
void sim_buf_free(struct sim_buf *b);

void *sim_xmalloc(size_t n);
void *sim_xrealloc(void *p, size_t n);
char *sim_xstrdup(const char *str);
char *sim_xmemdup(const void *p, size_t n); /* adds a NUL after n bytes */

int64_t sim_now_us(void); /* CLOCK_MONOTONIC */

/* Deterministic PRNG (splitmix64). One stream per purpose so that, for a given --seed,
 * byte faults do not depend on how the kernel split the writes. */
struct sim_rng {
    uint64_t s;
};
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);
uint32_t sim_rng_u32(struct sim_rng *r);
uint32_t sim_rng_range(struct sim_rng *r, uint32_t lo, uint32_t hi); /* inclusive */
bool sim_rng_chance(struct sim_rng *r, double p);

bool sim_utf8_valid(const uint8_t *p, size_t n);

void sim_log(struct sim *s, const char *fmt, ...) SIM_PRINTF(2, 3);     /* -v only */
void sim_warn(const char *fmt, ...) SIM_PRINTF(1, 2);                   /* always */
void sim_log_bytes(struct sim *s, const char *dir, const void *p, size_t n);

/* Timers. Callbacks run from the main loop. Timers die at power-off unless created with
 * SIM_TIMER_KEEP (fault triggers counted in wall time). */
typedef void (*sim_timer_fn)(struct sim *s, void *ctx, intptr_t arg);
#define SIM_TIMER_KEEP 1u
int sim_timer_add(struct sim *s, int64_t delay_ms, sim_timer_fn fn, void *ctx, intptr_t arg,
                  unsigned flags);
void sim_timer_cancel(struct sim *s, int id);
void sim_timer_cancel_all(struct sim *s, bool power_off);
int64_t sim_timer_next_us(struct sim *s); /* INT64_MAX if none */
void sim_timer_run(struct sim *s, int64_t now_us);

/* ------------------------------------------------------------------------------------
 * Commands: requests, arguments, handlers, modules
 */

enum sim_req_type {
    SIM_REQ_EXEC, /* AT+X   (and basic commands such as ATE0, ATI) */
    SIM_REQ_READ, /* AT+X?  */
    SIM_REQ_TEST, /* AT+X=? */
    SIM_REQ_SET,  /* AT+X=<args> */
};

#define SIM_MAX_ARGS 16
struct sim_arg {
    const char *p; /* points into the command line; not NUL-terminated */
    size_t len;
    bool quoted;
};

struct sim_req {
    const char *name; /* canonical upper-case name: "+CMQTTACCQ", "!IMPREF", "E", "&F" */
    enum sim_req_type type;
    const char *raw;  /* SET: text after '='; basic commands: their digits */
    size_t raw_len;
    int nargs;        /* SET: comma-separated arguments (quotes removed) */
    struct sim_arg arg[SIM_MAX_ARGS];
};

/* Handler results. Positive values are +CME ERROR codes (printed according to AT+CMEE). */
#define SIM_OK 0
#define SIM_ERROR (-1)
#define SIM_PROMPT (-2) /* a ">" prompt was opened with sim_prompt(); final comes later */
#define SIM_DEFER (-3)  /* final result comes later (sim_defer_end / two-phase "before") */
#define SIM_CME_SIM_BUSY 14
#define SIM_CME_NOT_ALLOWED 3
#define SIM_CME_NOT_SUPPORTED 4
#define SIM_CME_BAD_PARAM 50

typedef int (*sim_handler)(struct sim *s, const struct sim_req *r);

/* One entry of a command table. */
struct sim_cmd {
    const char *name;    /* as in struct sim_req.name */
    uint32_t caps;       /* the profile needs all these SIM_CAP_* bits, else "ERROR" */
    unsigned flags;      /* SIM_F_* */
    sim_handler fn;      /* never sees SIM_REQ_TEST when a test answer exists */
    const char *test;    /* default answer to "=?" (full lines, "\r\n" separated), or NULL */
};
#define SIM_F_SIM (1u << 0)  /* needs the SIM: "+CME ERROR: SIM busy" until +CPIN: READY */
#define SIM_F_PRIV (1u << 1) /* Sierra: needs AT!ENTERCND="<password>" first */

/* A feature: its command table and what happens to its RAM state at power on/off.
 * Add a feature by writing cmd_<feature>.c with one of these and listing it in
 * sim_modules[] (at.c). */
struct sim_module {
    const char *name;
    const struct sim_cmd *cmds;       /* terminated by an entry with name == NULL */
    void (*power_on)(struct sim *s);  /* reset RAM state (boot, reboot) */
    void (*power_off)(struct sim *s); /* power lost or reset: drop sockets, free RAM state */
};

extern const struct sim_module sim_mod_basic, sim_mod_net, sim_mod_tls, sim_mod_cmqtt,
    sim_mod_smqtt, sim_mod_sierra;
extern const struct sim_module sim_mod_fota, sim_mod_fs; /* cmd_fota.c, cmd_fs.c */

/* Argument helpers (util.c). Index i is 0-based. */
bool sim_arg_has(const struct sim_req *r, int i);               /* present and non-empty */
bool sim_arg_long(const struct sim_req *r, int i, long *out);   /* unquoted decimal */
bool sim_arg_str(const struct sim_req *r, int i, char *buf, size_t cap); /* copy + NUL */
bool sim_arg_is(const struct sim_req *r, int i, const char *lit); /* case-insensitive */

/* ------------------------------------------------------------------------------------
 * Profiles (profiles.c)
 */
#define SIM_CAP_SIMCOM (1u << 0)      /* SIMCom identity style, AT+SIMCOMATI, CPSI */
#define SIM_CAP_NETOPEN (1u << 1)     /* SIM7500/7600 TCP/IP stack: NETOPEN/IPADDR/NETCLOSE */
#define SIM_CAP_CMQTT (1u << 2)       /* AT+CMQTT* (S1 §16) */
#define SIM_CAP_CMQTT_VER (1u << 3)   /* ACCQ takes <mqtt_version> (V3.00 manual) */
#define SIM_CAP_CMQTT_AUTH (1u << 4)  /* CMQTTCONNECT takes user/password */
#define SIM_CAP_CCERT (1u << 5)       /* CCERTDOWN/LIST/DELE + CSSLCFG contexts (S1 §10) */
#define SIM_CAP_SSL_ALL (1u << 6)     /* CSSLCFG "sslversion" accepts 4 = all */
#define SIM_CAP_SMQTT (1u << 7)       /* SIM7000 AT+SM* MQTT (S6) */
#define SIM_CAP_CNACT (1u << 8)       /* SIM7000 CNACT/CNCFG/CGNAPN bearer (S5, seed 003) */
#define SIM_CAP_SIERRA (1u << 9)      /* Sierra "!" commands */
#define SIM_CAP_FS7600 (1u << 10)     /* FS*, CFTRANRX/TX, CDELTA (S1 §20, §19.2.8) */
#define SIM_CAP_CFS (1u << 11)        /* SIM7000 CFS*, HTTPTOFS, CFOTA (S5 §15, S7) */
#define SIM_CAP_BOOTHOLD (1u << 12)   /* AT!BOOTHOLD accepted */

enum sim_ati_style {
    SIM_ATI_SIMCOM_LTE, /* Manufacturer:/Model:/Revision:/IMEI:/+GCAP: (seed 001) */
    SIM_ATI_SIMCOM_7000, /* one line "<model> R<build>" */
    SIM_ATI_SIERRA,
};

struct sim_test_answer {
    const char *cmd;  /* "+CMQTTACCQ" */
    const char *text; /* full answer lines, "\r\n" separated */
};

/* A firmware revision the module can be updated to, with what it changes (cmd_fota.c
 * switches the profile at boot by the revision in flash: sim_profile_effective). */
struct sim_revision {
    const char *revision;      /* as AT+CGMR prints it */
    uint32_t caps;             /* SIM_CAP_* of this revision */
    const struct sim_test_answer *tests; /* test answers of this revision (NULL: defaults) */
};

struct sim_profile {
    const char *name;          /* --profile NAME */
    const char *summary;       /* one line for --list-profiles */
    uint32_t caps;             /* SIM_CAP_* */
    enum sim_ati_style ati;
    const char *manufacturer;  /* AT+CGMI */
    const char *model;         /* AT+CGMM */
    const char *ati_model;     /* "Model:" line of ATI / SIMCOMATI */
    const char *revision;      /* factory firmware revision (flash may override) */
    const char *ati_revision;  /* "Revision:" line of ATI (SIMCom prints a short form) */
    const char *cgmr_fmt;      /* printf format for AT+CGMR, %s = revision */
    const char *gmr_fmt;       /* printf format for AT+GMR */
    const char *imei;
    const char *imsi;
    const char *iccid;
    const char *cpsi;          /* AT+CPSI? line */
    const char *boot_urcs;     /* "\n"-separated, emitted after the boot silence */
    int cmqtt_default_version; /* MQTT level when ACCQ gives none: 3 = 3.1, 4 = 3.1.1 */
    int smqtt_version;         /* SM* MQTT level */
    const char *urc_order;     /* default per-completion order, e.g. "START=before" */
    const struct sim_test_answer *tests; /* overrides of the command tables' test answers */
    /* Sierra AT!IMPREF? fields (seed 002) */
    const char *sierra_fw, *sierra_carrier, *sierra_config, *sierra_subpri;
    /* Download mode: CWE product type its images must carry ("9X07"), NULL = none */
    const char *dl_product;
    const struct sim_revision *revisions; /* other revisions it can run, {NULL} ended */
};

const struct sim_profile *sim_profile_find(const char *name);
/* base with the capabilities and test answers of revision rev (base itself when rev is
 * its factory revision or unknown). The result stays valid until the next call. */
const struct sim_profile *sim_profile_effective(const struct sim_profile *base,
                                                const char *rev);
const struct sim_profile *sim_profile_at(size_t i); /* NULL past the end */

/* ------------------------------------------------------------------------------------
 * Options (main.c)
 */
enum sim_order { SIM_ORDER_AFTER, SIM_ORDER_BEFORE, SIM_ORDER_RANDOM };

#define SIM_MAX_ORDER_OVERRIDES 16
struct sim_opts {
    const char *profile;
    const char *link;
    const char *state_dir;
    const char *fault_spec;
    unsigned baud;            /* 0 = no pacing */
    uint64_t seed;
    int boot_delay_ms;        /* pty present, module silent, until the first boot URC */
    int reenum_delay_ms;      /* after a reset: time without any pty */
    int sim_delay_ms;         /* between boot URCs (SIM busy until +CPIN: READY) */
    int urc_delay_ms;         /* completion URC delay after the event */
    enum sim_order urc_order;
    bool urc_order_given;     /* a global order was given: profile defaults ignored */
    struct {
        char name[16];
        enum sim_order order;
    } order_over[SIM_MAX_ORDER_OVERRIDES];
    int n_order_over;
    bool prompt_echo;         /* UNVERIFIED: echo ">" data while ATE1 (seed 001 shows it) */
    bool prompt_space;        /* UNVERIFIED: prompt is "> " instead of ">" */
    int prompt_timeout_ms;    /* UNVERIFIED: ERROR if the data does not arrive in time */
    bool busy_on_puback;      /* UNVERIFIED: 14 while a QoS>0 PUB waits for its ack */
    bool before_fail_error;   /* UNVERIFIED: with order "before", err != 0 ends in ERROR */
    int rx_chunk;             /* max bytes per +CMQTTRXPAYLOAD chunk (S1: 1500) */
    int max_write;            /* max bytes per write() to the pty */
    int cmee_default;         /* UNVERIFIED: AT+CMEE value after boot */
    long fs_size;             /* bytes of the FOTA file system (SIM7000 CFS, SIM7600 F:) */
    int fota_time_ms;         /* duration of a firmware update inside the module */
    const char *control;      /* --control FIFO: test-bench commands (control.c) */
    int dl_kind;              /* --download-mode: enum sim_dl_kind, -1 = profile's */
    unsigned dl_max_payload;  /* --dl-max-payload: Firehose MaxPayloadSizeToTargetInBytes */
    int hello_lost_ms;        /* --hello-lost-ms: unread HELLO discarded after this (0 never) */
    int dl_final_ms;          /* --dl-final-ms: time to "write flash" before the final ACK */
    bool verbose;
};

/* ------------------------------------------------------------------------------------
 * Flash (flash.c): what survives reboots and, with --state DIR, simulator restarts.
 */
enum sim_area {
    SIM_AREA_CERT, /* TLS store: AT+CCERTDOWN (S1 §10) */
    SIM_AREA_FS,   /* module file system (FOTA engineer: CFTRANRX, CFSWFILE, ...) */
    SIM_AREA_DL,   /* what download mode wrote: images, partitions, flags (dl.c) */
    SIM_AREA_SYS,  /* module internals that survive power loss (FOTA state, counters) */
    SIM_AREA_COUNT
};

struct sim_file {
    char *name;
    uint8_t *data;
    size_t len;
};

struct sim_flash {
    char *dir; /* NULL: kept in RAM only (still survives AT+CRESET) */
    struct sim_file *files[SIM_AREA_COUNT];
    size_t nfiles[SIM_AREA_COUNT];
    char *revision; /* NULL: profile's factory revision */
};

int sim_flash_open(struct sim *s, const char *dir);
void sim_flash_close(struct sim *s);
const struct sim_file *sim_flash_get(struct sim *s, enum sim_area a, const char *name);
/* Sorted by name. */
const struct sim_file *sim_flash_list(struct sim *s, enum sim_area a, size_t *n);
int sim_flash_put(struct sim *s, enum sim_area a, const char *name, const void *data,
                  size_t len);
int sim_flash_del(struct sim *s, enum sim_area a, const char *name);
/* Writes len bytes at off of file name (created if missing; off <= its size), in place:
 * with --state the file is written and fsynced (not replaced), so appending a chunk to a
 * large file costs the chunk, not the file. */
int sim_flash_write_at(struct sim *s, enum sim_area a, const char *name, size_t off,
                       const void *data, size_t len);
const char *sim_revision(struct sim *s);
int sim_flash_set_revision(struct sim *s, const char *rev);

/* ------------------------------------------------------------------------------------
 * Faults (fault.c)
 */
#define SIM_MAX_FAULTS 32
enum sim_fault_kind {
    SIM_FAULT_DROP_RX, SIM_FAULT_DROP_TX, SIM_FAULT_CORRUPT_RX, SIM_FAULT_CORRUPT_TX,
    SIM_FAULT_URC_DELAY, SIM_FAULT_URC_DROP,
    SIM_FAULT_BROKER_DROP, SIM_FAULT_POWER_CUT, SIM_FAULT_NONET, SIM_FAULT_PING,
    SIM_FAULT_BOOTLOOP, /* AT firmware crashes after value ms, off value2 ms (dl.c) */
    SIM_FAULT_BOOTLOOP_UPDATE, /* value: reset period in ms after an update (cmd_fota.c) */
};
enum sim_trigger {
    SIM_TRIG_NONE, SIM_TRIG_STEP, SIM_TRIG_TIME, SIM_TRIG_CONNECTED,
    SIM_TRIG_PACKET, /* the N-th host packet in download mode (dl.c) */
    SIM_TRIG_DATA,   /* file data bytes received (cmd_fs.c) */
    SIM_TRIG_UPDATE, /* firmware update percent (cmd_fota.c) */
};
struct sim_fault {
    enum sim_fault_kind kind;
    double rate;         /* byte faults */
    char name[16];       /* URC faults: completion name (CONNECT, PUB, ...) */
    long value;          /* urc-delay ms; urc-drop occurrence (0 = all); ping err;
                            bootloop: up ms */
    long value2;         /* bootloop: down ms */
    enum sim_trigger trig;
    long at;             /* step number, or ms */
    long seen;           /* occurrences counted so far (urc-drop) */
    bool fired;
};
struct sim_faults {
    struct sim_fault f[SIM_MAX_FAULTS];
    int n;
    double drop_rx, drop_tx, corrupt_rx, corrupt_tx;
};
int sim_fault_parse(struct sim_faults *fs, const char *spec, char *err, size_t errcap);
void sim_fault_start(struct sim *s);                 /* arm time triggers */
bool sim_fault_step(struct sim *s, long step);        /* true: power was cut */
void sim_fault_connected(struct sim *s);             /* a broker connection came up */
long sim_fault_urc_delay_ms(struct sim *s, const char *name);
bool sim_fault_urc_drop(struct sim *s, const char *name);
bool sim_fault_data(struct sim *s, long total_bytes);   /* true: power was cut */
bool sim_fault_update(struct sim *s, long percent);     /* true: power was cut */
long sim_fault_bootloop_ms(struct sim *s);              /* 0: no boot-loop fault */
void sim_fault_fire(struct sim *s, struct sim_fault *f);
extern const char sim_fault_help[];

/* ------------------------------------------------------------------------------------
 * Device (device.c): power, pty, output
 */
enum sim_power {
    SIM_POWER_OFF,     /* no pty (between a reset and re-enumeration) */
    SIM_POWER_SILENT,  /* pty present, firmware still booting: input ignored */
    SIM_POWER_SIMWAIT, /* AT works, SIM not ready ("+CME ERROR: SIM busy") */
    SIM_POWER_READY,
};

enum sim_boot_mode {
    SIM_BOOT_AT,       /* normal AT firmware */
    SIM_BOOT_DOWNLOAD, /* AT!BOOTHOLD: download mode (target side: flashing engineer) */
};

/* What answers on the pty instead of the AT firmware (download mode: Sahara/Firehose or
 * QDL responder). enter() runs when the pty appears in that mode; input() gets every
 * byte the host sends; reply with sim_out(). See sim_download_target in device.c. */
struct sim_target {
    const char *name;
    void (*enter)(struct sim *s);
    void (*input)(struct sim *s, const uint8_t *p, size_t n);
};

void sim_dev_start(struct sim *s);                    /* first power-on */
void sim_dev_reset(struct sim *s, bool power_cut);    /* pty vanishes, comes back */
void sim_dev_reset_when_flushed(struct sim *s);       /* AT+CRESET: after "OK" is out */
void sim_dev_shutdown(struct sim *s);                 /* exit: close pty, remove link */
void sim_dev_input(struct sim *s);                    /* master readable */
void sim_dev_output(struct sim *s, int64_t now_us);   /* write what the line allows */
int64_t sim_dev_next_us(struct sim *s, int64_t now_us); /* next pacing deadline */
bool sim_dev_want_read(struct sim *s, int64_t now_us);
bool sim_dev_want_write(struct sim *s, int64_t now_us);
void sim_dev_tick(struct sim *s, int64_t now_us);     /* --baud: hand on paced input */
void sim_out(struct sim *s, const void *p, size_t n); /* raw bytes to the host */

/* ------------------------------------------------------------------------------------
 * AT layer (at.c): replies and prompts used by handlers
 */
/* Information response: "\r\n<text>\r\n". */
void sim_reply(struct sim *s, const char *fmt, ...) SIM_PRINTF(2, 3);
/* Unsolicited result code, "\r\n<text>\r\n"; held back while a ">" prompt is open. */
void sim_urc(struct sim *s, const char *fmt, ...) SIM_PRINTF(2, 3);
/* Pre-framed unsolicited bytes (several lines and raw data kept together). */
void sim_urc_raw(struct sim *s, const void *p, size_t n);
/* Final result for a result code (SIM_OK, SIM_ERROR, CME code). */
void sim_final(struct sim *s, int res);

/* Open a "> " prompt for exactly len bytes; done() gets them and returns a handler result
 * (it may itself return SIM_DEFER). The handler returns what sim_prompt returns. */
typedef int (*sim_prompt_fn)(struct sim *s, const uint8_t *data, size_t len, void *ctx);
int sim_prompt(struct sim *s, size_t len, const char *prompt, sim_prompt_fn done, void *ctx);
/* The same with its own input window (SIM7000 AT+CFSWFILE's <input_time_ms>, S5 §15):
 * ERROR if the data is not complete after timeout_ms (0: wait forever). prompt is sent
 * as given, e.g. "\r\nDOWNLOAD\r\n". */
int sim_prompt_ex(struct sim *s, size_t len, const char *prompt, int timeout_ms,
                  sim_prompt_fn done, void *ctx);

/* Hold the final result of the current command (synchronous commands that wait for the
 * network, such as SIM7000 AT+SMCONN). sim_defer_end() emits it and resumes input. */
int sim_defer_begin(struct sim *s);
void sim_defer_end(struct sim *s, int res);

/* Two-phase operations: OK now, completion URC later (S1 §16: CMQTTSTART, CONNECT...).
 * name is the completion name used by --urc-order and --fault ("CONNECT", "PUB", ...).
 * sim_async_begin() decides the order; the handler returns sim_async_reply(). When the
 * operation completes, sim_async_end() formats the URC; it is emitted after
 * --urc-delay-ms (+ fault delay) unless a fault drops it, and then emitted() is called
 * (the owner clears its "busy" state there). */
typedef void (*sim_async_fn)(struct sim *s, void *ctx, int err);
int sim_async_begin(struct sim *s, const char *name, sim_async_fn emitted, void *ctx);
int sim_async_reply(struct sim *s, int id);
void sim_async_end(struct sim *s, int id, int err, const char *fmt, ...) SIM_PRINTF(4, 5);
bool sim_async_live(struct sim *s, int id);

void sim_at_input(struct sim *s, const uint8_t *p, size_t n);
void sim_at_power_on(struct sim *s);
void sim_at_power_off(struct sim *s);
void sim_modules_power(struct sim *s, bool on);
const struct sim_module *const *sim_module_list(void);

/* ------------------------------------------------------------------------------------
 * MQTT glue (mqtt.c)
 */
struct sim_mqtt;
enum sim_mqtt_ev_type {
    SIM_MQTT_CONNACK,   /* code = CONNACK return code 0..5 */
    SIM_MQTT_FAILED,    /* before CONNACK; code = CMQTT err (3, 25, 26, 32) */
    SIM_MQTT_LOST,      /* after CONNACK, not asked for; code = CONNLOST cause */
    SIM_MQTT_CLOSED,    /* graceful disconnect done */
    SIM_MQTT_PUBDONE,   /* mid; QoS0 written / PUBACK / PUBCOMP */
    SIM_MQTT_SUBACK,    /* mid; code = 0 or 1 when the broker refused a topic */
    SIM_MQTT_UNSUBACK,  /* mid */
    SIM_MQTT_MESSAGE,   /* topic, payload, len */
};
struct sim_mqtt_ev {
    enum sim_mqtt_ev_type type;
    int code;
    int mid;
    const char *topic;
    const uint8_t *payload;
    size_t len;
};
typedef void (*sim_mqtt_cb)(struct sim *s, void *ctx, const struct sim_mqtt_ev *ev);

struct sim_mqtt_cfg {
    const char *host;
    int port;
    int keepalive_s;
    bool clean;
    const char *client_id;
    int version; /* 3 = MQTT 3.1, 4 = 3.1.1 */
    const char *user, *pass;
    const char *will_topic;
    const uint8_t *will_msg;
    size_t will_len;
    int will_qos;
    void *ssl_ctx; /* SSL_CTX *, ownership passes to the connection; NULL = plain TCP */
};

/* Starts a connection; events arrive later through cb (never from inside this call). */
struct sim_mqtt *sim_mqtt_open(struct sim *s, const struct sim_mqtt_cfg *cfg, sim_mqtt_cb cb,
                               void *ctx);
int sim_mqtt_publish(struct sim_mqtt *m, const char *topic, const void *p, size_t n, int qos,
                     bool retain, int *mid); /* 0 or a CMQTT err */
int sim_mqtt_subscribe(struct sim_mqtt *m, const char *topic, int qos, int *mid);
int sim_mqtt_unsubscribe(struct sim_mqtt *m, const char *topic, int *mid);
void sim_mqtt_disconnect(struct sim_mqtt *m); /* graceful: DISCONNECT then CLOSED */
void sim_mqtt_close(struct sim_mqtt *m);      /* drop silently; no more events */
void sim_mqtt_drop_all(struct sim *s);        /* fault: every live connection is LOST */
int sim_mqtt_pollfds(struct sim *s, void *pfds, int max); /* struct pollfd * */
void sim_mqtt_dispatch(struct sim *s, const void *pfds, int n);
void sim_mqtt_misc(struct sim *s);
void sim_mqtt_shutdown(struct sim *s);
bool sim_mqtt_any(struct sim *s);
bool sim_mqtt_events_pending(struct sim *s); /* events or clean-up waiting: poll now */

/* ------------------------------------------------------------------------------------
 * Feature state (RAM, reset at every boot). Kept here so every file can see the whole
 * module; each cmd_*.c owns its part.
 */
struct sim_ssl_ctx { /* AT+CSSLCFG context, defaults from S1 §10 */
    int sslversion, authmode, ignorelocaltime, negotiatetime, enable_sni;
    char cacert[129], clientcert[129], clientkey[129], keypwd[129];
    long ciphersuites;
};

struct sim_net {
    int creg_n, cgreg_n, cereg_n;
    char apn[8][64];   /* CGDCONT cid 1..8 */
    char pdp_type[8][8];
    bool pdp_active[8];
    bool netopen;       /* SIM7500/7600 NETOPEN */
    bool cfun_off;
    /* SIM7000 */
    bool cnact;
    char cncfg_apn[64];
    char cscs[8];
};

enum sim_cmqtt_conn { CM_IDLE, CM_CONNECTING, CM_CONNECTED, CM_DISCONNECTING };

#define SIM_CMQTT_MAX_INFLIGHT 16
struct sim_cmqtt_pub {
    int mid, async, timer, qos; /* async == 0: free slot */
};

struct sim_cmqtt_client {
    int idx;
    bool acquired;
    char client_id[129];
    int server_type;       /* 0 TCP, 1 SSL/TLS */
    int version;           /* 3 or 4; 0 = not given */
    int ssl_ctx;           /* CMQTTSSLCFG binding, -1 = default (client index) */
    bool check_utf8;
    int optimeout_s;
    struct sim_buf will_topic, will_msg;
    int will_qos;
    struct sim_buf topic, payload;
    struct sim_buf subtopics; /* "<qos><len16><topic>" records, S1: at most 5120 B */
    size_t subtopic_bytes;
    struct sim_buf unsubtopics;
    size_t unsubtopic_bytes;
    enum sim_cmqtt_conn conn;
    bool conn_dead;        /* broker dropped us while the CONNECT URC was still pending */
    char url[257];
    int keepalive, clean;
    char user[257], pass[257];
    bool has_user, has_pass;
    struct sim_mqtt *m;
    int busy_async;        /* pending CONNECT/SUB/UNSUB/DISC, 0 = none */
    char busy_kind[12];    /* its completion name: "CONNECT", "SUB", ... */
    int busy_timer;
    int prompt_qos;        /* <qos> of the command whose ">" data is awaited */
    int sub_pending;       /* SUBACK/UNSUBACK still expected */
    int sub_mids[64];
    int sub_err;
    struct sim_cmqtt_pub pubs[SIM_CMQTT_MAX_INFLIGHT];
};

struct sim_cmqtt {
    bool started;
    struct sim_cmqtt_client c[SIM_NCLIENTS];
};

struct sim_smqtt {
    char client_id[129], host[257], user[257], pass[513], will_topic[257], will_msg[513];
    int port, keepalive, clean, will_qos, will_retain;
    bool connected;
    struct sim_mqtt *m;
    bool waiting;          /* a synchronous SM* command holds its final result */
    int wait_mid;          /* ... until this ack (0: CONNACK / disconnect) */
    int wait_timer;
    char pub_topic[257];
    int pub_qos, pub_retain;
};

struct sim_sierra {
    bool unlocked; /* AT!ENTERCND */
};

struct sim_fs { /* cmd_fs.c */
    bool cfs_init;          /* SIM7000 AT+CFSINIT done */
    char cwd[8];            /* SIM7600 AT+FSCD: "C:/" or "F:/" */
    char wname[160];        /* file whose prompt data is awaited */
    size_t woff;            /* where it goes */
    long data_bytes;        /* file data bytes received since start (faults) */
    int http_timer;         /* AT+HTTPTOFS in progress */
    char http_url[260], http_path[160];
};

struct sim_fota { /* cmd_fota.c; persisted in SIM_AREA_SYS "fota" */
    bool loaded;
    int status;             /* AT+CFOTA? */
    bool pending;           /* an update runs at the next boot (or is running) */
    char method[8];         /* "cfota" or "cdelta" */
    char path[160];         /* the delta file */
    int progress;           /* percent done, persisted per step */
    long applies;           /* apply commands executed (AT+CFOTA=1, AT+CDELTA) */
    long updates;           /* updates that ran to the end */
    bool bootloop;          /* resetting until a cold boot (fault) */
};

/* ------------------------------------------------------------------------------------
 * The simulator
 */
#define SIM_MAX_TIMERS 128
struct sim_timer {
    int id;
    int64_t due_us;
    sim_timer_fn fn;
    void *ctx;
    intptr_t arg;
    unsigned flags;
};

#define SIM_MAX_ASYNC 32
struct sim_async {
    int id;          /* 0 = free */
    char name[16];
    bool before;     /* final result held until the URC is out */
    bool ended;
    int err;
    struct sim_buf text;
    sim_async_fn emitted;
    void *ctx;
};

struct sim_at {
    uint8_t line[4096];
    size_t line_len;
    bool line_overflow;
    bool echo;
    int cmee;
    long step;               /* AT command lines received since start (for faults) */
    /* ">" prompt */
    bool prompt;
    struct sim_buf pbuf;
    size_t pwant;
    sim_prompt_fn pdone;
    void *pctx;
    int ptimer;              /* --prompt-timeout-ms timer */
    /* final result held (SIM_DEFER) */
    bool deferred;
    int deferred_async;      /* async id whose URC releases it, 0 = sim_defer_end */
    struct sim_buf hold_in;  /* input received while a final result was held */
    struct sim_buf hold_urc; /* URCs held while a prompt is open */
    int next_async_id;
    struct sim_async async[SIM_MAX_ASYNC];
};

struct sim {
    struct sim_opts opt;
    const struct sim_profile *prof;
    struct sim_flash flash;
    struct sim_faults faults;
    struct sim_rng rng_order, rng_chunk, rng_rx, rng_tx;

    /* device */
    enum sim_power power;
    enum sim_boot_mode boot_mode, next_boot_mode;
    int mfd, sfd;            /* pty master / our own slave fd (keeps the pty alive) */
    char pty_path[128];
    struct sim_buf out;
    int64_t out_free_us, in_free_us;
    /* --baud: a byte reaches the other side when its last bit is on the wire: output
     * chunks are written at out_due_us, input gulps handed on at in_hold_due_us */
    size_t out_chunk;
    int64_t out_due_us;
    uint8_t in_hold[4096];
    size_t in_hold_len;
    int64_t in_hold_due_us;
    bool reset_when_flushed;
    int64_t reset_deadline_us;
    int64_t last_write_us;
    int boot_step;
    bool tp1;                /* boot pin (TP1) held low: power-on boots download mode */
    bool cold_boot;          /* this boot followed a loss of power, not a reset */
    bool held_off;           /* powered off by the control channel until power-on */
    unsigned power_cycles;   /* hard power cycles seen (control channel) */
    int ctl_fd;              /* --control FIFO, -1 if none */
    struct sim_buf ctl_in;

    struct sim_timer timers[SIM_MAX_TIMERS];
    int ntimers, next_timer_id;

    struct sim_at at;
    struct sim_mqtt *mqtt_list; /* every open broker connection */

    /* download mode (dl.c) */
    const struct sim_target *target; /* answers the pty while boot_mode is DOWNLOAD */
    uint64_t dl_packets;             /* host packets received in download mode since start */
    bool bootloop;                   /* --fault bootloop: the AT firmware keeps crashing */
    int bootloop_up_ms, bootloop_down_ms;
    int next_reenum_ms;              /* >= 0: off time of the next reset (then default) */

    /* RAM state of the features */
    struct sim_net net;
    struct sim_ssl_ctx ssl[SIM_NSSLCTX];
    struct sim_cmqtt cmqtt;
    struct sim_smqtt smqtt;
    struct sim_sierra sierra;
    char ccert_pending[130]; /* AT+CCERTDOWN name while its data arrives */
    struct sim_fs fs;
    struct sim_fota fota;
    const struct sim_profile *base_prof; /* --profile; s->prof follows the revision */
    bool fw_hold;            /* the AT firmware does not start this boot (update, loop) */
};

/* ------------------------------------------------------------------------------------
 * control.c: the test bench around the module (--control FIFO). Lines written to the
 * FIFO act on the hardware, like a GPIO script would on a real board:
 *   power-cycle [OFF_MS]   cut power, restore it after OFF_MS (default: reenum delay)
 *   power-off | power-on   cut / restore power
 *   tp1 on | tp1 off       hold / release the boot pin: power-on with it held boots
 *                          download mode (RC76xx TP1, seed 004)
 *   cut                    power cut now (as SIGUSR2)
 *   drop-broker            the broker drops every MQTT connection (as SIGUSR1)
 * `modemsim --ctl PATH LINE...` writes one line to a running simulator's FIFO.
 */
int sim_control_open(struct sim *s);            /* 0 or -1 (message printed) */
void sim_control_input(struct sim *s);          /* the FIFO is readable */
void sim_control_close(struct sim *s);
int sim_control_send(const char *path, int argc, char **argv); /* client: exit code */

/* Power control (device.c). A cold boot (after power-off) sets s->cold_boot for the
 * modules' power_on hooks; resets (AT+CRESET) do not. */
void sim_dev_power_off(struct sim *s);
void sim_dev_power_on(struct sim *s, int delay_ms);

/* ------------------------------------------------------------------------------------
 * Download mode (dl.c, dl_sahara.c, dl_firehose.c, dl_qdl.c): the targets behind
 * AT!BOOTHOLD, TP1 held at power-on, or a half-written flash.
 *   sahara  Sierra boot-and-hold (RC76xx): HELLO once at enumeration, 0xFF00 switch to a
 *           Firehose that takes CWE/SPK/NVU images as spkg.cwe
 *   edl     Qualcomm PBL EDL (05c6:9008 style): Sahara mode 0 loads a programmer, then
 *           Firehose with rawprogram/patch
 *   qdl     Sierra QDL (9x30 style): SDP, HELLO v6, ufopen/ufwrite/ufclose
 */
enum sim_dl_kind { SIM_DL_SAHARA = 0, SIM_DL_EDL, SIM_DL_QDL };
bool sim_dl_parse_kind(const char *name, int *kind);
/* This power-on boots download mode whatever TP1 says: the flash holds a half-written
 * image (a power cut during flashing), so the application firmware cannot start. */
bool sim_dl_boot_download(struct sim *s);
/* The target for this boot (by --download-mode or the profile). */
const struct sim_target *sim_dl_target(struct sim *s);
/* Leaving download mode (reset or power loss): persist counters, stop timers. */
void sim_dl_power_off(struct sim *s);
/* The bootloop fault: true when this AT boot will crash (the caller keeps it silent and
 * the module resets after bootloop_up_ms, off for bootloop_down_ms). */
bool sim_dl_bootloop_boot(struct sim *s);
/* Firmware and preference values after flashing (AT!IMPREF?), "" when never flashed. */
void sim_dl_impref(struct sim *s, char *fw, char *carrier, char *config, size_t cap);

/* Helpers shared by feature files. */
bool sim_sim_ready(struct sim *s);
void *sim_tls_build(struct sim *s, int ctx, int *err); /* cmd_tls.c: SSL_CTX * or NULL+err */
void sim_cmqtt_nonet(struct sim *s);                    /* cmd_cmqtt.c: fault +CMQTTNONET */
void sim_cmqtt_ping(struct sim *s, int err);            /* cmd_cmqtt.c: fault +CMQTTPING */
bool sim_parse_url(const char *url, char *host, size_t hostcap, int *port); /* tcp://h:p */
bool sim_host_allowed(const char *host); /* loopback only; others are "DNS error" */
long sim_fs_free(struct sim *s, char drive);  /* cmd_fs.c: free bytes ('F', or 0: SIM7000) */
int sim_fota_make_delta(int argc, char **argv); /* cmd_fota.c: modemsim --make-delta */

#endif
