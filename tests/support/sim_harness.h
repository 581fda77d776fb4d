/*
 * sim_harness: integration-test helpers for modemkit (host tests only).
 *
 * What it gives a test, each piece usable alone:
 *   - scratch directories, free 127.0.0.1 ports, child processes with deadlines;
 *   - a throw-away PKI made with the openssl command (CA, server, client, and a second
 *     unrelated CA to provoke verification failures);
 *   - a mosquitto broker on a free loopback port, plain or TLS, with its own config and
 *     log in a scratch directory;
 *   - modemsim started as a child: its pty path (and every later one, after resets),
 *     the pty opened raw, raw AT lines sent, replies awaited with deadlines.
 *
 * Rules it follows (BRIEF.md): nothing but 127.0.0.1; no fixed sleeps, every wait polls
 * for a condition until a deadline; everything it starts it stops.
 *
 * Conventions: functions return 0 on success and -1 on failure (after printing why on
 * stderr, prefixed "harness:"), unless stated otherwise. Timeouts are in milliseconds.
 * Structs are caller-owned; zero them before the *_start() call.
 *
 * Typical use:
 *     struct mk_broker b = {0};
 *     struct mk_sim s = {0};
 *     char dir[256], resp[4096];
 *     mk_test_tmpdir(dir, sizeof dir, "mqtt");
 *     mk_broker_start(&b, dir, NULL);
 *     const char *args[] = {"--profile", "SIM7600E-H", "--boot-delay-ms", "0", NULL};
 *     mk_sim_start(&s, args);            // starts modemsim, opens its pty
 *     mk_sim_expect(&s, "PB DONE", 5000);
 *     mk_sim_cmd(&s, "AT+CMQTTSTART", resp, sizeof resp, 5000);  // → 0, resp has lines
 *     ...
 *     mk_sim_stop(&s);
 *     mk_broker_stop(&b);
 *     mk_test_rmtree(dir);
 */
#ifndef MK_SIM_HARNESS_H
#define MK_SIM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- files, ports, processes ------------------------------------------------------ */

/* Creates a fresh directory $TMPDIR/modemkit-<tag>-XXXXXX (or /tmp/...) into out. */
int mk_test_tmpdir(char *out, size_t cap, const char *tag);
/* Removes dir and everything below it (best effort). */
void mk_test_rmtree(const char *dir);
/* A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close). */
int mk_test_free_port(void);
int mk_test_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file into a malloc'ed buffer (NUL added after len bytes); caller frees. */
int mk_test_read_file(const char *path, char **data, size_t *len);
/* Full path of an installed program (searches PATH, then /usr/sbin and /sbin), or NULL.
 * The string is static storage, valid until the next call. */
const char *mk_test_find_exe(const char *name);
/* Runs argv (argv[0] searched like mk_test_find_exe), stdin from /dev/null, stdout
 * captured into out (NUL-terminated, truncated to cap-1), stderr inherited. Returns the
 * exit status (0..255), or -1 when it could not start or did not end within timeout_ms
 * (it is then killed). */
int mk_test_run(const char *const argv[], char *out, size_t cap, int timeout_ms);
/* Starts argv in the background with stdout on a pipe (*out_fd, non-blocking; pass NULL
 * to inherit stdout). Returns the pid or -1. */
pid_t mk_test_spawn(const char *const argv[], int *out_fd);
/* Waits for pid to exit; returns its status (0..255, 128+signal) or -1 on timeout (the
 * child is then left running). */
int mk_test_wait(pid_t pid, int timeout_ms);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the status as mk_test_wait. */
int mk_test_terminate(pid_t pid, int timeout_ms);
/* Reads from a non-blocking fd until a '\n'; line without it into out. 0 or -1 on
 * timeout/EOF. buf/blen keep bytes read past the line between calls (cap 512). */
int mk_test_read_line(int fd, char *buf, size_t *blen, char *out, size_t cap, int timeout_ms);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t mk_test_now_ms(void);

/* ---- test PKI (openssl command) --------------------------------------------------- */

struct mk_pki {
    char dir[256];
    char ca_crt[300], ca_key[300];           /* the CA that signs server and client */
    char server_crt[300], server_key[300];   /* CN=127.0.0.1, SAN IP:127.0.0.1,localhost */
    char client_crt[300], client_key[300];   /* CN=modemkit-test-client */
    char other_ca_crt[300];                  /* an unrelated CA (verification failures) */
};
/* Makes the files in dir (created if missing). EC P-256 keys, valid 2 days. */
int mk_pki_make(struct mk_pki *p, const char *dir);

/* ---- mosquitto ------------------------------------------------------------------- */

struct mk_broker_opts {
    const struct mk_pki *tls; /* NULL: plain MQTT; else TLS with these files */
    bool require_cert;        /* TLS: clients must present a certificate of the CA */
    bool deny_anonymous;      /* allow_anonymous false: CONNACK 5 for everyone */
};

struct mk_broker {
    pid_t pid;
    int port;
    char dir[256];
    char conf[300];
    char log[300];
};

/* Starts mosquitto on a free 127.0.0.1 port with a config written into dir; returns
 * when the port accepts connections (5 s deadline; retries other ports if taken). */
int mk_broker_start(struct mk_broker *b, const char *dir, const struct mk_broker_opts *o);
void mk_broker_stop(struct mk_broker *b);
/* Waits until the broker's log contains needle (log_type all). 0 or -1 on timeout. */
int mk_broker_wait_log(struct mk_broker *b, const char *needle, int timeout_ms);
/* "tcp://127.0.0.1:<port>" */
void mk_broker_url(const struct mk_broker *b, char *out, size_t cap);

/* ---- modemsim -------------------------------------------------------------------- */

#define MK_SIM_RXCAP 65536

struct mk_sim {
    pid_t pid;
    int out_fd;          /* modemsim's stdout: one pty path per line */
    char outbuf[512];
    size_t outlen;
    char pty[128];       /* current pty path */
    int fd;              /* our end of the pty, -1 when closed */
    uint8_t rx[MK_SIM_RXCAP]; /* received and not yet consumed */
    size_t rxlen;
    bool hangup;         /* the pty went away under us (module reset / power cut) */
    bool quiet;          /* internal: no "no final result" message */
};

/* Path of the modemsim binary: $MK_MODEMSIM, else the build's (MK_MODEMSIM_PATH). */
const char *mk_sim_exe(void);
/* Starts modemsim with args (NULL-terminated, without the program name), reads the pty
 * path it prints and opens it (mk_sim_open). */
int mk_sim_start(struct mk_sim *s, const char *const args[]);
/* Waits for the next pty path on modemsim's stdout (after a reset) into s->pty. */
int mk_sim_next_pty(struct mk_sim *s, int timeout_ms);
/* Opens s->pty raw (cfmakeraw, non-blocking); forgets previously received bytes. */
int mk_sim_open(struct mk_sim *s);
void mk_sim_close_port(struct mk_sim *s);
/* Writes all bytes (waits for the pty to drain up to 10 s). */
int mk_sim_write(struct mk_sim *s, const void *p, size_t n);
/* Writes line followed by "\r". */
int mk_sim_send(struct mk_sim *s, const char *line);
/* Reads whatever arrives for up to timeout_ms into s->rx (returns early on data).
 * Returns bytes added, 0 on timeout, -1 on hang-up (s->hangup set). */
int mk_sim_pump(struct mk_sim *s, int timeout_ms);
/* Waits until text appears in the received bytes; consumes everything up to and
 * including it. 0, or -1 on timeout/hang-up. */
int mk_sim_expect(struct mk_sim *s, const char *text, int timeout_ms);
/* Exactly n raw bytes into buf (consumed). */
int mk_sim_read_exact(struct mk_sim *s, void *buf, size_t n, int timeout_ms);
/* Next non-empty line (CR and LF both end lines; a ">" prompt counts as a line ">").
 * Returns its length, or -1 on timeout/hang-up. */
int mk_sim_line(struct mk_sim *s, char *out, size_t cap, int timeout_ms);
/* Sends cmd and collects the lines up to its final result (OK, ERROR, +CME ERROR,
 * +CMS ERROR, or a ">" prompt). The echo of cmd is skipped. resp gets every other line,
 * '\n'-terminated (URCs that came meanwhile included). Returns 0 for OK or ">",
 * 1 for an error result, -1 on timeout/hang-up. */
int mk_sim_cmd(struct mk_sim *s, const char *cmd, char *resp, size_t cap, int timeout_ms);
/* Writes raw bytes (the data after a ">" prompt) and collects lines up to the final
 * result like mk_sim_cmd (an echo of the data, with ATE1, lands in resp). */
int mk_sim_data(struct mk_sim *s, const void *p, size_t n, char *resp, size_t cap,
                int timeout_ms);
/* Sends "AT" every 300 ms until the module answers OK (a booting module ignores its
 * port, as real firmware does before RDY). 0, or -1 on timeout/hang-up. */
int mk_sim_wait_ready(struct mk_sim *s, int timeout_ms);
/* Waits for the pty to hang up (module reset). 0 or -1 on timeout. */
int mk_sim_wait_hangup(struct mk_sim *s, int timeout_ms);
/* Drops what was received so far. */
void mk_sim_flush(struct mk_sim *s);
/* Sends a signal to modemsim (SIGUSR1 = broker drop, SIGUSR2 = power cut). */
int mk_sim_signal(struct mk_sim *s, int sig);
/* SIGTERM and wait; returns modemsim's exit status (0 expected) or -1. */
int mk_sim_stop(struct mk_sim *s);

#endif
