/*
 * modemctl mqtt pub / mqtt sub: mosquitto_pub / mosquitto_sub through the module's own
 * MQTT client (include/modemkit/mqtt.h). Local certificate files are checked here,
 * uploaded when the module lacks them (content-addressed names, include/modemkit/tls.h)
 * and bound by the client.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "modemkit/modem.h"
#include "modemkit/mqtt.h"
#include "modemkit/posix.h"
#include "modemkit/tls.h"

#define MQ_MAX_TOPICS 32
#define MQ_REOPEN_MS  90000u /* a module reboot takes ~25 s (TinyGSM PR #736) */

struct mq_file {
    const char *flag; /* "--cafile" */
    const char *path; /* local file, NULL when not given */
    uint8_t data[MK_TLS_FILE_MAX];
    size_t len;
    char name[MK_TLS_NAME_MAX + 1]; /* name in the module's store */
};

struct mq {
    struct mk_cli *cli;
    bool sub;
    /* options */
    const char *host;
    long port;
    const char *topics[MQ_MAX_TOPICS];
    size_t ntopics;
    const char *msg, *file;
    bool use_stdin, null_msg;
    int qos;
    bool retain;
    const char *id, *user, *pass;
    int version;
    long keepalive;
    bool no_clean;
    int tls_version;
    long count;
    double wait_s;
    bool no_newline, print_topic;
    const char *will_topic, *will_payload;
    int will_qos;
    bool will_retain;
    /* -L pieces */
    char l_host[256], l_user[257], l_pass[257], l_topic[1025];
    /* derived */
    char url[300];
    char id_buf[64];
    uint8_t *payload;
    size_t payload_len;
    struct mq_file ca, cert, key;
    struct mk_modem_id mid;
    struct mk_modem_caps caps;
    struct mk_mqtt_client client;
    struct mk_mqtt_connect_opts opts;
    struct mk_mqtt_will will;
    char topic_buf[MK_MQTT_TOPIC_MAX + 1];
    uint8_t payload_buf[MK_MQTT_PAYLOAD_MAX];
    uint8_t sub_buf[MQ_MAX_TOPICS * (MK_MQTT_TOPIC_MAX + 2)];
    long received;
};

static volatile sig_atomic_t mq_stop;

static void mq_on_signal(int sig)
{
    (void)sig;
    mq_stop = 1;
}

/* ---- output ---- */

/* Valid UTF-8 without NUL: printed as a JSON string; anything else as base64. */
static bool mq_utf8(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        size_t k;
        uint32_t min;
        if (b == 0)
            return false;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xE0) == 0xC0)
            k = 1, min = 0x80;
        else if ((b & 0xF0) == 0xE0)
            k = 2, min = 0x800;
        else if ((b & 0xF8) == 0xF0)
            k = 3, min = 0x10000;
        else
            return false;
        if (i + k >= n)
            return false;
        uint32_t cp = b & (0x3Fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static void mq_json_bytes(FILE *out, const uint8_t *p, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (b == '"' || b == '\\')
            fprintf(out, "\\%c", b);
        else if (b == '\n')
            fputs("\\n", out);
        else if (b == '\r')
            fputs("\\r", out);
        else if (b == '\t')
            fputs("\\t", out);
        else if (b < 0x20)
            fprintf(out, "\\u%04x", b);
        else
            fputc(b, out);
    }
    fputc('"', out);
}

static void mq_base64(FILE *out, const uint8_t *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        fputc(a[(v >> 18) & 63], out);
        fputc(a[(v >> 12) & 63], out);
        fputc(i + 1 < n ? a[(v >> 6) & 63] : '=', out);
        fputc(i + 2 < n ? a[v & 63] : '=', out);
    }
    fputc('"', out);
}

static void mq_on_message(void *user, const struct mk_mqtt_msg *m)
{
    struct mq *q = user;
    if (q->count > 0 && q->received >= q->count)
        return; /* -C reached: the rest is not ours to print */
    q->received++;
    if (q->cli->json) {
        bool text = mq_utf8(m->payload, m->len);
        printf("{\"topic\":");
        mq_json_bytes(stdout, (const uint8_t *)m->topic, m->topic_len);
        printf(",\"payload\":");
        if (text)
            mq_json_bytes(stdout, m->payload, m->len);
        else
            mq_base64(stdout, m->payload, m->len);
        printf(",\"encoding\":\"%s\",\"len\":%zu", text ? "utf-8" : "base64", m->len);
        /* the module's receive URCs do not carry QoS and retain (S1 p.366): null */
        if (m->qos >= 0)
            printf(",\"qos\":%d", m->qos);
        else
            printf(",\"qos\":null");
        if (m->retained >= 0)
            printf(",\"retained\":%s}\n", m->retained ? "true" : "false");
        else
            printf(",\"retained\":null}\n");
    } else {
        if (q->print_topic)
            printf("%s ", m->topic);
        fwrite(m->payload, 1, m->len, stdout);
        if (!q->no_newline)
            fputc('\n', stdout);
    }
    fflush(stdout);
}

static void mq_event(struct mq *q, const char *event, enum mk_err err, const char *detail)
{
    if (q->cli->json) {
        printf("{\"event\":");
        mk_host_json_str(stdout, event);
        if (err != MK_OK) {
            printf(",\"error\":");
            mk_host_json_str(stdout, mk_err_name(err));
        }
        printf(",\"detail\":");
        mk_host_json_str(stdout, detail);
        printf("}\n");
        fflush(stdout);
    } else {
        fprintf(stderr, "modemctl: %s%s%s\n", event, detail[0] ? ": " : "", detail);
    }
}

static void mq_on_state(void *user, enum mk_mqtt_state o, enum mk_mqtt_state n, enum mk_err err,
                        const char *detail)
{
    struct mq *q = user;
    if (n == MK_MQTT_RECOVERING)
        mq_event(q, o == MK_MQTT_RECOVERING ? "reconnect failed, retrying" : "connection lost", err,
                 detail);
    else if (n == MK_MQTT_CONNECTED && o == MK_MQTT_RECOVERING)
        mq_event(q, "reconnected", err, detail);
    else if (n == MK_MQTT_CONNECTED && q->cli->verbose)
        mq_event(q, "connected", err, detail);
    else if (n == MK_MQTT_FAILED)
        mq_event(q, "gave up", err, detail);
}

static enum mk_err mq_reopen(void *user)
{
    struct mq *q = user;
    uint32_t ms = q->cli->timeout_ms ? q->cli->timeout_ms : MQ_REOPEN_MS;
    return mk_cli_device_reopen(q->cli, mk_posix_now_ms() + ms);
}

/* The module's number with a hint at the option that fixes it. */
static const char *mq_hint(int code, enum mk_err err)
{
    switch (code) {
    case 3:
    case 25:
        return " (-h/-p)";
    case 27:
        return " (-V 31 / -V 311)";
    case 28:
        return " (-i)";
    case 30:
        return " (-u/-P)";
    case 31:
        return " (-u/-P, --cert/--key)";
    case 32:
    case 33:
    case 34:
        return " (--cafile/--cert/--key)";
    default:
        break;
    }
    return err == MK_E_MQTT_REFUSED_AUTH ? " (-u/-P)" : "";
}

static int mq_fail(struct mq *q)
{
    const struct mk_mqtt_error *le = mk_mqtt_last_error(&q->client);
    enum mk_err err = le->err != MK_OK ? le->err : MK_E_MQTT_FAILED;
    if (!q->cli->json)
        return mk_cli_fail(q->cli, err, "%s: %s%s", q->cli->cmd->name, le->text,
                           mq_hint(le->code, err));
    /* --json: the module's own number as a field of its own */
    const struct mk_mqtt_code *k = mk_mqtt_code_info(le->code);
    int code = mk_cli_exit_code(err);
    printf("{\"error\":");
    mk_host_json_str(stdout, mk_err_name(err));
    printf(",\"code\":%d,\"module_error\":", code);
    if (le->code >= 0)
        printf("%d", le->code);
    else
        printf("null");
    printf(",\"meaning\":");
    mk_host_json_str(stdout, k ? k->meaning : "");
    printf(",\"remedy\":");
    mk_host_json_str(stdout, k && k->remedy ? k->remedy : "");
    printf(",\"message\":");
    mk_host_json_str(stdout, le->text);
    printf("}\n");
    fflush(stdout);
    fprintf(stderr, "modemctl: %s: %s%s\n", q->cli->cmd->name, le->text, mq_hint(le->code, err));
    return code;
}

/* ---- options ---- */

static bool mq_num(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* -L mqtt[s]://[user[:pass]@]host[:port]/topic */
static int mq_parse_L(struct mq *q, const char *u)
{
    const char *scheme_end = strstr(u, "://");
    if (!scheme_end)
        return -1;
    size_t sl = (size_t)(scheme_end - u);
    bool tls;
    if (sl == 4 && strncmp(u, "mqtt", 4) == 0)
        tls = false;
    else if (sl == 5 && strncmp(u, "mqtts", 5) == 0)
        tls = true;
    else
        return -1;
    const char *rest = scheme_end + 3;
    const char *slash = strchr(rest, '/');
    if (!slash || !slash[1])
        return -1;
    snprintf(q->l_topic, sizeof q->l_topic, "%s", slash + 1);
    const char *at = NULL;
    for (const char *p = rest; p < slash; p++)
        if (*p == '@')
            at = p;
    const char *hp = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        size_t ul = (size_t)((colon ? colon : at) - rest);
        if (ul == 0 || ul >= sizeof q->l_user)
            return -1;
        memcpy(q->l_user, rest, ul);
        q->l_user[ul] = '\0';
        q->user = q->l_user;
        if (colon) {
            snprintf(q->l_pass, sizeof q->l_pass, "%.*s", (int)(at - colon - 1), colon + 1);
            q->pass = q->l_pass;
        }
        hp = at + 1;
    }
    size_t hl = (size_t)(slash - hp);
    if (hl == 0 || hl >= sizeof q->l_host)
        return -1;
    memcpy(q->l_host, hp, hl);
    q->l_host[hl] = '\0';
    char *colon = strrchr(q->l_host, ':');
    if (colon) {
        *colon = '\0';
        if (!mq_num(colon + 1, 1, 65535, &q->port))
            return -1;
    }
    q->host = q->l_host;
    if (q->ntopics < MQ_MAX_TOPICS)
        q->topics[q->ntopics++] = q->l_topic;
    return tls ? 1 : 0;
}

static int mq_version(const char *s)
{
    if (!strcmp(s, "31") || !strcmp(s, "mqttv31"))
        return 3;
    if (!strcmp(s, "311") || !strcmp(s, "mqttv311"))
        return 4;
    return -1;
}

static int mq_tls_version(const char *s)
{
    static const char *const names[] = {"sslv3", "tlsv1", "tlsv1.1", "tlsv1.2", "all"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static int mq_parse(struct mq *q, int argc, char **argv, bool *force_tls)
{
    enum { O_CAFILE = 256, O_CERT, O_KEY, O_TLSV, O_WT, O_WP, O_WQ, O_WR };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"message", required_argument, NULL, 'm'},
        {"file", required_argument, NULL, 'f'},
        {"stdin-file", no_argument, NULL, 's'},
        {"null-message", no_argument, NULL, 'n'},
        {"qos", required_argument, NULL, 'q'},
        {"retain", no_argument, NULL, 'r'},
        {"id", required_argument, NULL, 'i'},
        {"username", required_argument, NULL, 'u'},
        {"pw", required_argument, NULL, 'P'},
        {"protocol-version", required_argument, NULL, 'V'},
        {"keepalive", required_argument, NULL, 'k'},
        {"url", required_argument, NULL, 'L'},
        {"disable-clean-session", no_argument, NULL, 'c'},
        {"count", required_argument, NULL, 'C'},
        {"timeout", required_argument, NULL, 'W'},
        {"verbose", no_argument, NULL, 'v'},
        {"no-newline", no_argument, NULL, 'N'},
        {"cafile", required_argument, NULL, O_CAFILE},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"tls-version", required_argument, NULL, O_TLSV},
        {"will-topic", required_argument, NULL, O_WT},
        {"will-payload", required_argument, NULL, O_WP},
        {"will-qos", required_argument, NULL, O_WQ},
        {"will-retain", no_argument, NULL, O_WR},
        {NULL, 0, NULL, 0},
    };
    const char *pub_opts = "h:p:t:m:f:snq:ri:u:P:V:k:L:c";
    const char *sub_opts = "h:p:t:q:i:u:P:V:k:L:cC:W:vN";
    struct mk_cli *cli = q->cli;
    long v;
    int c;
    optind = 0; /* 0: glibc starts over (main parsed with "+" ordering) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, q->sub ? sub_opts : pub_opts, longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            q->host = optarg;
            break;
        case 'p':
            if (!mq_num(optarg, 1, 65535, &q->port))
                return mk_cli_usage_error(cli, "-p %s: a port is 1..65535", optarg);
            break;
        case 't':
            if (q->ntopics == MQ_MAX_TOPICS || (!q->sub && q->ntopics == 1))
                return mk_cli_usage_error(cli, q->sub ? "at most 32 topics" : "one -t only");
            q->topics[q->ntopics++] = optarg;
            break;
        case 'm':
            q->msg = optarg;
            break;
        case 'f':
            q->file = optarg;
            break;
        case 's':
            q->use_stdin = true;
            break;
        case 'n':
            q->null_msg = true;
            break;
        case 'q':
            if (!mq_num(optarg, 0, 2, &v))
                return mk_cli_usage_error(cli, "-q %s: QoS is 0, 1 or 2", optarg);
            q->qos = (int)v;
            break;
        case 'r':
            q->retain = true;
            break;
        case 'i':
            q->id = optarg;
            break;
        case 'u':
            q->user = optarg;
            break;
        case 'P':
            q->pass = optarg;
            break;
        case 'V':
            if ((q->version = mq_version(optarg)) < 0)
                return mk_cli_usage_error(cli,
                                          "-V %s: use 31 (MQTT 3.1) or 311 (MQTT 3.1.1); "
                                          "MQTT 5 is not available through the module's "
                                          "AT commands",
                                          optarg);
            break;
        case 'k':
            if (!mq_num(optarg, 1, 64800, &q->keepalive))
                return mk_cli_usage_error(cli, "-k %s: keepalive is 1..64800 s", optarg);
            break;
        case 'L': {
            int r = mq_parse_L(q, optarg);
            if (r < 0)
                return mk_cli_usage_error(cli,
                                          "-L %s: expected mqtt[s]://[user[:pass]@]host"
                                          "[:port]/topic",
                                          optarg);
            if (r == 1)
                *force_tls = true;
            break;
        }
        case 'c':
            q->no_clean = true;
            break;
        case 'C':
            if (!mq_num(optarg, 1, 1000000000, &q->count))
                return mk_cli_usage_error(cli, "-C %s: a count >= 1", optarg);
            break;
        case 'W': {
            char *end;
            q->wait_s = strtod(optarg, &end);
            if (*end || q->wait_s <= 0)
                return mk_cli_usage_error(cli, "-W %s: seconds > 0", optarg);
            break;
        }
        case 'v':
            q->print_topic = true;
            break;
        case 'N':
            q->no_newline = true;
            break;
        case O_CAFILE:
            q->ca.path = optarg;
            break;
        case O_CERT:
            q->cert.path = optarg;
            break;
        case O_KEY:
            q->key.path = optarg;
            break;
        case O_TLSV:
            if ((q->tls_version = mq_tls_version(optarg)) < 0)
                return mk_cli_usage_error(cli,
                                          "--tls-version %s: sslv3, tlsv1, tlsv1.1, "
                                          "tlsv1.2 or all",
                                          optarg);
            break;
        case O_WT:
            q->will_topic = optarg;
            break;
        case O_WP:
            q->will_payload = optarg;
            break;
        case O_WQ:
            if (!mq_num(optarg, 0, 2, &v))
                return mk_cli_usage_error(cli, "--will-qos %s: 0, 1 or 2", optarg);
            q->will_qos = (int)v;
            break;
        case O_WR:
            q->will_retain = true;
            break;
        default:
            return mk_cli_usage_error(cli, "unknown option or missing argument '%s'",
                                      argv[optind - 1]);
        }
    }
    if (optind < argc)
        return mk_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    if (q->ntopics == 0)
        return mk_cli_usage_error(cli, "no topic: give -t TOPIC (or -L URL)");
    if (!q->sub) {
        int sources = !!q->msg + !!q->file + q->use_stdin + q->null_msg;
        if (sources != 1)
            return mk_cli_usage_error(cli, "give exactly one of -m MSG, -f FILE, -s, -n");
    }
    if (q->pass && !q->user)
        return mk_cli_usage_error(cli, "-P needs -u");
    if (!q->cert.path != !q->key.path)
        return mk_cli_usage_error(cli, "--cert and --key go together");
    if (!!q->will_topic != !!q->will_payload)
        return mk_cli_usage_error(cli, "--will-topic and --will-payload go together");
    return MK_EXIT_OK;
}

/* ---- local files ---- */

static int mq_read_local(struct mq *q, const char *flag, const char *path, uint8_t *buf, size_t cap,
                         size_t *len)
{
    enum mk_err e;
    if (strcmp(path, "-") == 0) {
        *len = fread(buf, 1, cap, stdin);
        if (!feof(stdin) && *len == cap && fgetc(stdin) != EOF)
            return mk_cli_fail(q->cli, MK_E_NOSPC,
                               "%s: standard input holds more than %zu "
                               "bytes, the most the module takes",
                               flag, cap);
        return MK_EXIT_OK;
    }
    e = mk_posix_file_read(path, buf, cap, len);
    if (e == MK_E_NOSPC)
        return mk_cli_fail(q->cli, MK_E_NOSPC, "%s %s: %zu bytes; the module takes at most %zu",
                           flag, path, *len, cap);
    if (e != MK_OK)
        return mk_cli_fail(q->cli, e, "%s %s: cannot read it: %s", flag, path, mk_strerror(e));
    return MK_EXIT_OK;
}

/* Reads and checks one PEM file; what it must hold depends on the flag. */
static int mq_check_file(struct mq *q, struct mq_file *f)
{
    if (!f->path)
        return MK_EXIT_OK;
    int rc = mq_read_local(q, f->flag, f->path, f->data, sizeof f->data, &f->len);
    if (rc != MK_EXIT_OK)
        return rc;
    struct mk_tls_pem_info info;
    if (mk_tls_pem_check(f->data, f->len, &info) != MK_OK) {
        if (info.line)
            return mk_cli_fail(q->cli, MK_E_CERT, "%s %s: line %zu: %s", f->flag, f->path,
                               info.line, info.why);
        return mk_cli_fail(q->cli, MK_E_CERT, "%s %s: %s", f->flag, f->path, info.why);
    }
    bool is_key = f == &q->key;
    if (is_key && (info.keys != 1 || info.certs))
        return mk_cli_fail(q->cli, MK_E_CERT,
                           "%s %s: expected one private key, found %u "
                           "key(s) and %u certificate(s)",
                           f->flag, f->path, info.keys, info.certs);
    if (is_key && info.encrypted_key)
        return mk_cli_fail(q->cli, MK_E_CERT,
                           "%s %s: the key is encrypted; modemkit does not "
                           "set the module's key password: decrypt it "
                           "('openssl pkey -in KEY -out PLAIN')",
                           f->flag, f->path);
    if (!is_key && (info.certs == 0 || info.keys))
        return mk_cli_fail(q->cli, MK_E_CERT,
                           "%s %s: expected certificate(s) only, found %u "
                           "certificate(s) and %u private key(s)%s",
                           f->flag, f->path, info.certs, info.keys,
                           info.keys ? " (keys go with --key)" : "");
    mk_tls_store_name(f->path, f->data, f->len, f->name, sizeof f->name);
    return MK_EXIT_OK;
}

struct mq_have {
    struct mq *q;
    bool ca, cert, key;
};

static void mq_have_cb(void *user, const char *name)
{
    struct mq_have *h = user;
    h->ca |= h->q->ca.path && !strcmp(name, h->q->ca.name);
    h->cert |= h->q->cert.path && !strcmp(name, h->q->cert.name);
    h->key |= h->q->key.path && !strcmp(name, h->q->key.name);
}

/* Uploads the files the module's store lacks (names carry a content hash). */
static int mq_upload(struct mq *q)
{
    if (!q->ca.path && !q->cert.path)
        return MK_EXIT_OK;
    struct mq_have have = {q, false, false, false};
    enum mk_err e = mk_tls_cert_list(q->cli->chan, mq_have_cb, &have);
    if (e != MK_OK)
        return mk_cli_fail(q->cli, e, "listing the module's certificates (AT+CCERTLIST): %s",
                           mk_strerror(e));
    struct mq_file *files[3] = {&q->ca, &q->cert, &q->key};
    bool present[3] = {have.ca, have.cert, have.key};
    for (int i = 0; i < 3; i++) {
        struct mq_file *f = files[i];
        if (!f->path || present[i])
            continue;
        e = mk_tls_cert_put(q->cli->chan, f->name, f->data, f->len);
        if (e != MK_OK)
            return mk_cli_fail(q->cli, e == MK_E_AT_ERROR ? MK_E_CERT : e,
                               "%s %s: the module refused it (AT+CCERTDOWN \"%s\", %zu bytes): %s",
                               f->flag, f->path, f->name, f->len, mk_strerror(e));
        if (!q->cli->json)
            fprintf(stderr, "modemctl: %s %s uploaded to the module as %s\n", f->flag, f->path,
                    f->name);
    }
    return MK_EXIT_OK;
}

/* ---- the run ---- */

static int mq_setup(struct mq *q, bool tls)
{
    struct mk_cli *cli = q->cli;
    int rc;
    if (!q->sub) {
        if (q->msg) {
            q->payload = (uint8_t *)q->msg;
            q->payload_len = strlen(q->msg);
        } else if (q->file || q->use_stdin) {
            rc = mq_read_local(q, q->file ? "-f" : "-s", q->file ? q->file : "-", q->payload_buf,
                               sizeof q->payload_buf, &q->payload_len);
            if (rc != MK_EXIT_OK)
                return rc;
            q->payload = q->payload_buf;
        }
        if (q->payload_len > MK_MQTT_PAYLOAD_MAX)
            return mk_cli_fail(cli, MK_E_NOSPC,
                               "the message is %zu bytes; the module takes at "
                               "most 10240",
                               q->payload_len);
    }
    q->ca.flag = "--cafile";
    q->cert.flag = "--cert";
    q->key.flag = "--key";
    if ((rc = mq_check_file(q, &q->ca)) || (rc = mq_check_file(q, &q->cert)) ||
        (rc = mq_check_file(q, &q->key)))
        return rc;

    /* the broker URL: mqtts when certificates are given (as mosquitto_pub does) */
    tls = tls || q->ca.path || q->cert.path || q->tls_version >= 0;
    long port = q->port ? q->port : tls ? 8883 : 1883;
    snprintf(q->url, sizeof q->url, "%s://%s:%ld", tls ? "mqtts" : "mqtt",
             q->host ? q->host : "localhost", port);
    if (!q->id) {
        snprintf(q->id_buf, sizeof q->id_buf, "modemctl-%ld", (long)getpid());
        q->id = q->id_buf;
    }
    mk_mqtt_opts_init(&q->opts);
    q->opts.url = q->url;
    q->opts.client_id = q->id;
    q->opts.keepalive_s = (uint16_t)(q->keepalive ? q->keepalive : 60);
    q->opts.clean_session = !q->no_clean;
    q->opts.user = q->user;
    q->opts.pass = q->pass;
    q->opts.version = q->version;
    q->opts.ca_file = q->ca.path ? q->ca.name : NULL;
    q->opts.cert_file = q->cert.path ? q->cert.name : NULL;
    q->opts.key_file = q->key.path ? q->key.name : NULL;
    q->opts.tls_version = q->tls_version;
    if (q->will_topic) {
        q->will.topic = q->will_topic;
        q->will.msg = (const uint8_t *)q->will_payload;
        q->will.len = strlen(q->will_payload);
        q->will.qos = q->will_qos;
        q->will.retain = q->will_retain;
        q->opts.will = &q->will;
    }

    enum mk_err e = mk_modem_identify(cli->chan, &q->mid);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "identifying the module: %s", mk_strerror(e));
    e = mk_modem_probe(cli->chan, &q->mid, &q->caps);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "probing the module: %s", mk_strerror(e));

    struct mk_mqtt_config cfg = {0};
    cfg.chan = cli->chan;
    cfg.id = &q->mid;
    cfg.caps = &q->caps;
    cfg.topic_buf = q->topic_buf;
    cfg.topic_cap = sizeof q->topic_buf;
    cfg.payload_buf = q->payload_buf;
    /* pub sends from payload_buf and receives nothing: capacity 0 drops stray messages */
    cfg.payload_cap = q->sub ? sizeof q->payload_buf : 0;
    cfg.sub_buf = q->sub_buf;
    cfg.sub_cap = sizeof q->sub_buf;
    cfg.on_message = mq_on_message;
    cfg.on_state = mq_on_state;
    cfg.reopen = mq_reopen;
    cfg.rand_seed = (uint64_t)getpid() * 2654435761u + mk_posix_now_ms();
    cfg.user = q;
    cfg.backoff_min_ms = 500;
    cfg.backoff_max_ms = 30000;
    if (cli->timeout_ms) { /* --timeout bounds every wait for the module */
        cfg.op_timeout_ms = cli->timeout_ms;
        cfg.cmd_timeout_ms = cli->timeout_ms < 10000 ? cli->timeout_ms : 10000;
        cfg.busy_retry_ms = cli->timeout_ms;
    }
    e = mk_mqtt_init(&q->client, &cfg);
    if (e != MK_OK)
        return mq_fail(q);
    /* firmware refusals come before anything is sent, certificates included */
    if (mk_mqtt_check_opts(&q->client, &q->opts) != MK_OK)
        return mq_fail(q);
    if ((q->ca.path || q->cert.path) && !(q->caps.bits & MK_CAP_CERT_STORE))
        return mk_cli_fail(cli, MK_E_FW_UNSUPPORTED,
                           "this module (%s, %s) has no AT+CCERTDOWN "
                           "certificate store that modemkit drives",
                           q->mid.model, q->mid.revision);
    if ((rc = mq_upload(q)) != MK_EXIT_OK)
        return rc;
    if (mk_mqtt_connect(&q->client, &q->opts) != MK_OK)
        return mq_fail(q);
    return MK_EXIT_OK;
}

static void mq_sigs(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mq_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int mq_run_pub(struct mk_cli *cli, int argc, char **argv)
{
    struct mq *q = calloc(1, sizeof *q);
    if (!q)
        return mk_cli_fail(cli, MK_E_NOMEM, "out of memory");
    q->cli = cli;
    q->tls_version = -1;
    bool tls = false;
    int rc = mq_parse(q, argc, argv, &tls);
    if (rc == MK_EXIT_OK)
        rc = mq_setup(q, tls);
    if (rc == MK_EXIT_OK) {
        if (mk_mqtt_publish(&q->client, q->topics[0], q->payload, q->payload_len, q->qos,
                            q->retain) != MK_OK) {
            rc = mq_fail(q);
        } else if (cli->json) {
            printf("{\"published\":true,\"topic\":");
            mk_host_json_str(stdout, q->topics[0]);
            printf(",\"len\":%zu,\"qos\":%d,\"retain\":%s}\n", q->payload_len, q->qos,
                   q->retain ? "true" : "false");
        }
        mk_mqtt_disconnect(&q->client);
    }
    if (q->client.drv)
        mk_mqtt_release(&q->client);
    free(q);
    return rc;
}

static int mq_run_sub(struct mk_cli *cli, int argc, char **argv)
{
    struct mq *q = calloc(1, sizeof *q);
    if (!q)
        return mk_cli_fail(cli, MK_E_NOMEM, "out of memory");
    q->cli = cli;
    q->sub = true;
    q->tls_version = -1;
    bool tls = false;
    int rc = mq_parse(q, argc, argv, &tls);
    uint64_t t0 = mk_posix_now_ms();
    if (rc == MK_EXIT_OK)
        rc = mq_setup(q, tls);
    if (rc == MK_EXIT_OK && mk_mqtt_subscribe(&q->client, q->topics, q->ntopics, q->qos) != MK_OK)
        rc = mq_fail(q);
    if (rc == MK_EXIT_OK) {
        char detail[512];
        size_t off = 0;
        for (size_t i = 0; i < q->ntopics && off < sizeof detail - 2; i++)
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s%s", i ? ", " : "",
                                    q->topics[i]);
        mq_event(q, "subscribed", MK_OK, detail);
        mq_sigs();
        uint64_t end = q->wait_s > 0 ? t0 + (uint64_t)(q->wait_s * 1000.0) : UINT64_MAX;
        while (!mq_stop && !(q->count && q->received >= q->count)) {
            uint64_t now = mk_posix_now_ms();
            if (now >= end)
                break;
            uint64_t slice = end - now < 250 ? end - now : 250;
            if (mk_mqtt_poll(&q->client, (uint32_t)slice) != MK_OK) {
                rc = mq_fail(q);
                break;
            }
        }
        if (rc == MK_EXIT_OK && q->count && q->received < q->count && !mq_stop)
            rc = mk_cli_fail(cli, MK_E_TIMEOUT,
                             "mqtt sub: -W %g s passed with %ld of %ld "
                             "message(s)",
                             q->wait_s, q->received, q->count);
        if (mk_mqtt_state(&q->client) == MK_MQTT_CONNECTED)
            mk_mqtt_disconnect(&q->client);
    }
    if (q->client.drv)
        mk_mqtt_release(&q->client);
    free(q);
    return rc;
}

#define MQ_COMMON_OPTS                                                                             \
    {"-h, --host HOST", "Broker host as the module resolves it. Default localhost."},              \
        {"-p, --port PORT", "Broker port. Default 1883, or 8883 with TLS options."},               \
        {"-q, --qos QOS", "0, 1 or 2. Default 0."},                                                \
        {"-i, --id ID", "Client id (1..128 bytes). Default modemctl-PID."},                        \
        {"-u, --username USER", "User name. Refused before anything is sent on firmware that "     \
                                "cannot send one (see 'modemctl info')."},                         \
        {"-P, --pw PASS", "Password (needs -u). Redacted in -v traces."},                          \
        {"-V, --protocol-version 31|311", "MQTT 3.1 or 3.1.1. Default: the module's default. "     \
                                          "Refused on firmware without a version choice."},        \
        {"-k, --keepalive SECONDS", "Keep-alive, 1..64800. Default 60."},                          \
        {"-c, --disable-clean-session", "Keep the session on the broker."},                        \
        {"-L, --url URL", "mqtt[s]://[user[:pass]@]host[:port]/topic in one go."},                 \
        {"--cafile FILE", "Local PEM file with the CA certificate(s) the broker's certificate "    \
                          "must chain to. Checked here (size <= 10240, well-formed PEM blocks; "   \
                          "the message names the file, the line and the fault), uploaded with "    \
                          "AT+CCERTDOWN when the module lacks it (stored as NAME-HASH.pem, so "    \
                          "equal names mean equal content), bound with AT+CSSLCFG (authmode 1). "  \
                          "Implies TLS."},                                                         \
        {"--cert FILE", "Local PEM client certificate; with --key and --cafile: authmode 2."},     \
        {"--key FILE", "Local PEM private key of --cert (not encrypted). Redacted in -v traces."}, \
        {"--tls-version sslv3|tlsv1|tlsv1.1|tlsv1.2|all",                                          \
         "Pin the TLS version (AT+CSSLCFG \"sslversion\"). Not sent unless given: the module's "   \
         "default allows all, and some firmware (LE11B02SIM7500A) rejects the setting."},          \
    {                                                                                              \
        "--will-topic TOPIC, --will-payload MSG",                                                  \
            "Last will, with --will-qos QOS and --will-retain (not on AT+CMQTT* modules)."         \
    }

static const struct mk_cli_opt_doc mq_pub_opts[] = {
    {"-t, --topic TOPIC", "Topic to publish to (1..1024 bytes)."},
    {"-m, --message MSG", "The message."},
    {"-f, --file FILE", "Send the file's bytes as the message (binary-safe, up to 10240 bytes)."},
    {"-s, --stdin-file", "Send standard input as the message (up to 10240 bytes)."},
    {"-n, --null-message", "Send an empty message."},
    {"-r, --retain", "Ask the broker to retain the message."},
    MQ_COMMON_OPTS,
    {NULL, NULL},
};

static const struct mk_cli_opt_doc mq_sub_opts[] = {
    {"-t, --topic FILTER", "Topic filter; repeat for several (one SUBSCRIBE where the module's "
                           "5120-byte topic cache allows)."},
    {"-C, --count COUNT", "Exit after COUNT messages."},
    {"-W, --timeout SECONDS", "Exit after SECONDS; exit status 4 if -C was given and not "
                              "reached."},
    {"-v, --verbose", "Print the topic before each payload (mosquitto_sub -v)."},
    {"-N, --no-newline", "No newline after each payload."},
    MQ_COMMON_OPTS,
    {NULL, NULL},
};

const struct mk_cli_cmd mk_cmd_mqtt_pub = {
    .name = "mqtt pub",
    .synopsis = "mqtt pub -t TOPIC (-m MSG | -f FILE | -s | -n) [-q QOS] [-r] [-h HOST] [-p PORT] "
                "[-u USER -P PASS] [--cafile F [--cert F --key F]] [-V 31|311] [-L URL]",
    .summary = "Publish one message through the module's MQTT client",
    .description =
        "Publishes one message through the module's own MQTT client, like mosquitto_pub. "
        "The module is identified and probed first; what its firmware cannot do (a user name "
        "and password on LE11B01SIM7600M21-A, MQTT 3.1.1 without a version choice, a TLS "
        "version it rejects) is refused before anything is sent, with the firmware revision "
        "and the fix.\n\n"
        "Every step waits for the module's result: CONNECT, PUB and the others are complete "
        "only when their +CMQTT...: <idx>,<err> result arrived, so 'client is busy' (14) "
        "cannot come from modemctl itself; when the module reports it anyway the command is "
        "repeated after a pause. A failure shows the module's error number, its meaning and a "
        "remedy, e.g. \"module error 30: connection refused: bad user name or password\".\n\n"
        "Exit status 0 once the module reported the publish done (for QoS 1 and 2: "
        "acknowledged by the broker). With --json one object {\"published\":true,...} is "
        "printed.",
    .opts = mq_pub_opts,
    .examples =
        "  modemctl -d /dev/ttyUSB2 mqtt pub -h broker.local -t dev/1/temp -m 21.5 -q 1\n"
        "  modemctl mqtt pub -L mqtts://user:pw@broker:8883/cfg -f blob.bin "
        "--cafile ca.pem\n"
        "  modemctl mqtt pub -t t -m x --cafile ca.pem --cert dev.pem --key dev.key -p 8883\n",
    .needs_device = true,
    .own_urcs = true,
    .run = mq_run_pub,
};

const struct mk_cli_cmd mk_cmd_mqtt_sub = {
    .name = "mqtt sub",
    .synopsis = "mqtt sub -t TOPIC [-t TOPIC...] [-q QOS] [-C COUNT] [-W SECONDS] [-v] [-N] "
                "[-h HOST] [-p PORT] [-u USER -P PASS] [--cafile F [--cert F --key F]] [-L URL]",
    .summary = "Subscribe and print messages through the module's MQTT client",
    .description =
        "Subscribes to one or more topic filters through the module's own MQTT client and "
        "prints each message like mosquitto_sub: the payload and a newline (-N: none; -v: "
        "the topic, a space, then the payload). Payloads are written byte for byte, binary "
        "included. With --json each message is one object {\"topic\",\"payload\","
        "\"encoding\":\"utf-8\"|\"base64\",\"len\",\"qos\",\"retained\"} (the module does not "
        "report QoS and retain of received messages: null), and connection events are objects "
        "{\"event\",...}.\n\n"
        "The connection heals itself: after +CMQTTCONNLOST, +CMQTTPING, +CMQTTNONET or a "
        "module reboot (the port goes away and comes back), modemctl reconnects with "
        "exponential backoff and jitter and subscribes every topic again; each step is "
        "reported on stderr (or as a JSON event).\n\n"
        "Ends after COUNT messages (-C), after SECONDS (-W; with -C an unreached count exits "
        "4), or on SIGINT/SIGTERM, disconnecting cleanly.",
    .opts = mq_sub_opts,
    .examples = "  modemctl mqtt sub -h broker.local -t 'cmd/#' -t cfg/rate -q 1 -v\n"
                "  modemctl --json mqtt sub -t telemetry/+ -C 10 -W 60\n",
    .needs_device = true,
    .own_urcs = true,
    .run = mq_run_sub,
};
