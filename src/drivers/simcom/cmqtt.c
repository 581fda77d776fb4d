/*
 * SIMCom AT+CMQTT* driver (SIM7500/SIM7600 S1 §16 and S2; A76XX S11 §18).
 *
 * Every command runs to completion before the next one is sent. The two-phase ones
 * (START, STOP, CONNECT, DISC, PUB, SUB, UNSUB) complete only when both the final result
 * and their "+CMQTT<op>: [<idx>,]<err>" URC arrived, in either order (S1 p.346 lists
 * both orders for START; the F1 log in seed 001 shows "+CMQTTSTART: 0" before OK). This
 * is what seed 001 lacked: SUBTOPIC sent right after CONNECT's OK got
 * "+CMQTTSUBTOPIC: 0,14", and TOPIC after a connect that never completed got 11.
 *
 * Recoverable module states:
 *   14 client busy      the command is repeated after a pause that doubles (100 ms up
 *                       to 2 s) for busy_retry_ms;
 *   23 already started  adopted (SIM7600E-H "+CMQTTSTART: 23", elementzonline #13);
 *   19 client in use    ACCQ: the slot is held (by an earlier program): DISC + REL, then
 *                       ACCQ again; CONNECT: still connected: DISC, then CONNECT again;
 *   20 / 9              the module forgot the client / the service: acquire / start again.
 *
 * Incoming messages (S1 pp.366-367): +CMQTTRXSTART: <idx>,<topic_len>,<payload_len>,
 * then +CMQTTRXTOPIC: <idx>,<n> and +CMQTTRXPAYLOAD: <idx>,<n> headers, each followed
 * by exactly n raw bytes (read with mk_at_read_raw: CR/LF, "OK" and NUL inside are
 * data), then +CMQTTRXEND: <idx>.
 */
#include <string.h>

#include "../../mqtt/mqtt_int.h"
#include "modemkit/str.h"

#define CM_PUB_TIMEOUT_S  60                  /* AT+CMQTTPUB <pub_timeout>: 60..180 s (S1 p.357) */
#define CM_DISC_TIMEOUT_S 60                  /* AT+CMQTTDISC <timeout>: 60..180 s (S1 p.356) */
#define CM_RX_CHUNK_MAX   MK_MQTT_PAYLOAD_MAX /* a chunk header longer than this is noise */

#define CM_F_UTF8_CHECKED 0x1u /* AT+CMQTTCFG="checkUTF8",<idx>,0 was refused */

enum cm_kind {
    CM_PLAIN,  /* OK, or "+CMQTT<op>: <idx>,<err>" + ERROR */
    CM_TWO,    /* OK + "+CMQTT<op>: <idx>,<err>" URC, either order */
    CM_GLOBAL, /* OK + "+CMQTT<op>: <err>" URC (START, STOP: no client index) */
};

struct cm_res {
    enum mk_err e;      /* mk_at_exec() result */
    int code;           /* the module's <err>, -1 when it gave none */
    uint32_t waited_ms; /* the deadline that applied, for timeout messages */
    struct mk_at_result r;
};

static unsigned cm_idx(const struct mk_mqtt_client *c)
{
    return c->cfg.client_index;
}

/* "+CMQTT<op>:" */
static void cm_prefix(char *buf, size_t cap, const char *op)
{
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    mk_sb_puts(&sb, "+CMQTT");
    mk_sb_puts(&sb, op);
    mk_sb_putc(&sb, ':');
}

/* The "<idx>,<err>" (or "<err>" for global ones) of a result line. */
static int cm_code_of(const char *line, size_t len, const char *prefix, int idx)
{
    struct mk_at_arg a[3];
    long v[3];
    int n = mk_at_split(line, len, prefix, a, 3);
    if (n < 1 || mk_at_arg_long(&a[0], &v[0]) != MK_OK)
        return -1;
    if (idx < 0)
        return (int)v[0];
    if (n < 2 || v[0] != idx || mk_at_arg_long(&a[1], &v[1]) != MK_OK)
        return -1;
    return (int)v[1];
}

/* Runs one command once. */
static void cm_exec(struct mk_mqtt_client *c, const char *op, const char *text, const uint8_t *data,
                    size_t len, enum cm_kind kind, unsigned flags, struct cm_res *out)
{
    char prefix[32], resp[160];
    cm_prefix(prefix, sizeof prefix, op);
    struct mk_at_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = text;
    cmd.timeout_ms = mk_mqtt_cmd_timeout(c) + (uint32_t)len;
    if (data || len) {
        cmd.prompt = MK_AT_PROMPT_GT;
        cmd.data = data;
        cmd.data_len = len;
    }
    cmd.resp = resp;
    cmd.resp_cap = sizeof resp;
    resp[0] = '\0';
    cmd.flags = flags;
    out->waited_ms = cmd.timeout_ms;
    if (kind != CM_PLAIN) {
        cmd.urc_prefix = prefix;
        cmd.urc_index = kind == CM_GLOBAL ? -1 : (int)cm_idx(c);
        cmd.urc_timeout_ms = mk_mqtt_op_timeout(c);
    }
    out->e = mk_at_exec(c->cfg.chan, &cmd, &out->r);
    out->code = -1;
    if (out->e == MK_E_TIMEOUT && out->r.timeout_in_urc)
        out->waited_ms = cmd.urc_timeout_ms;
    if (kind != CM_PLAIN && out->r.urc_seen) {
        out->code = out->r.urc_code;
    } else if (kind == CM_PLAIN && out->r.resp_len) {
        for (const char *l = resp; *l;) {
            const char *eol = strchr(l, '\n');
            size_t n = eol ? (size_t)(eol - l) : strlen(l);
            int code = cm_code_of(l, n, prefix, (int)cm_idx(c));
            if (code >= 0) {
                out->code = code;
                break;
            }
            l += n + (eol != NULL);
        }
    }
}

/* Maps a finished command to MK_OK or an error with its sentence in c->last. */
static enum mk_err cm_result(struct mk_mqtt_client *c, const char *op, const struct cm_res *r)
{
    if (r->e == MK_OK && r->code <= 0)
        return MK_OK;
    if (r->code > 0)
        return mk_mqtt_fail_code(c, op, r->code);
    return mk_mqtt_fail_exec(c, op, r->e, &r->r, r->waited_ms);
}

/*
 * One command, repeated while the module says "client is busy" (14): an earlier
 * operation of this client (or a QoS>0 PUBACK) is still pending inside the module.
 * The pause reads URCs, so late completions are taken in the meantime.
 */
static enum mk_err cm_do(struct mk_mqtt_client *c, const char *op, const char *text,
                         const uint8_t *data, size_t len, enum cm_kind kind, unsigned flags,
                         int *code)
{
    struct cm_res r;
    uint64_t until = mk_mqtt_now(c) + mk_mqtt_busy_window(c);
    uint32_t pause = 100;
    for (;;) {
        cm_exec(c, op, text, data, len, kind, flags, &r);
        if (r.code != 14 || mk_mqtt_now(c) >= until)
            break;
        c->stats.busy_retries++;
        enum mk_err e = mk_mqtt_pause(c, pause);
        if (e != MK_OK) {
            *code = -1;
            return mk_mqtt_fail_exec(c, op, e, NULL, 0);
        }
        pause = pause >= 1000 ? 2000 : pause * 2;
    }
    *code = r.code;
    return cm_result(c, op, &r);
}

static bool cm_io_lost(enum mk_err e)
{
    return e == MK_E_HANGUP || e == MK_E_IO;
}

/* "AT+CMQTT<op>=<idx>" + rest */
static void cm_text(struct mk_sb *sb, char *buf, size_t cap, const char *op,
                    const struct mk_mqtt_client *c)
{
    mk_sb_init(sb, buf, cap);
    mk_sb_puts(sb, "AT+CMQTT");
    mk_sb_puts(sb, op);
    mk_sb_putc(sb, '=');
    mk_sb_putu(sb, cm_idx(c));
}

/* A prompt command "AT+CMQTT<op>=<idx>,<len>[,<qos>]" followed by data. */
static enum mk_err cm_data_cmd(struct mk_mqtt_client *c, const char *op, const void *data,
                               size_t len, int qos, unsigned flags, int *code)
{
    char text[64];
    struct mk_sb sb;
    cm_text(&sb, text, sizeof text, op, c);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, len);
    if (qos >= 0) {
        mk_sb_putc(&sb, ',');
        mk_sb_puti(&sb, qos);
    }
    return cm_do(c, op, text, data, len, CM_PLAIN, flags, code);
}

/* DISC, waiting for its URC; "no connection" (11) means there was nothing to close. */
static enum mk_err cm_disc(struct mk_mqtt_client *c)
{
    char text[48];
    struct mk_sb sb;
    int code;
    cm_text(&sb, text, sizeof text, "DISC", c);
    mk_sb_putc(&sb, ',');
    mk_sb_puti(&sb, CM_DISC_TIMEOUT_S);
    enum mk_err e = cm_do(c, "DISC", text, NULL, 0, CM_TWO, 0, &code);
    return code == 11 ? MK_OK : e;
}

static enum mk_err cm_rel(struct mk_mqtt_client *c)
{
    char text[32];
    struct mk_sb sb;
    int code;
    cm_text(&sb, text, sizeof text, "REL", c);
    enum mk_err e = cm_do(c, "REL", text, NULL, 0, CM_PLAIN, 0, &code);
    if (e == MK_OK || code == 20) /* 20: not acquired, nothing to release */
        c->acquired = false;
    return code == 20 ? MK_OK : e;
}

/* Frees a slot left acquired (and maybe connected) by someone else: DISC, REL. */
static enum mk_err cm_free_slot(struct mk_mqtt_client *c)
{
    enum mk_err e = cm_disc(c);
    if (cm_io_lost(e))
        return e;
    return cm_rel(c);
}

/* ACCQ, and what must follow it before CONNECT (CMQTTCFG is cleared by REL, S1 p.365). */
static enum mk_err cm_accq(struct mk_mqtt_client *c, bool tls, int *code)
{
    const struct mk_mqtt_connect_opts *o = c->opts;
    const struct mk_modem_caps *caps = c->cfg.caps;
    bool a76 = c->cfg.id && c->cfg.id->family == MK_FAMILY_A76XX;
    char text[200];
    struct mk_sb sb;
    cm_text(&sb, text, sizeof text, "ACCQ", c);
    mk_sb_putc(&sb, ',');
    mk_sb_putq(&sb, o->client_id);
    mk_sb_puts(&sb, tls ? ",1" : ",0");
    /* <mqtt_version> only when asked for and ACCQ takes it (S1 p.347 "(3-4)"); A76XX
     * chooses it with CMQTTCFG "version" instead (S11 §18.2.11). */
    if (o->version && (caps->bits & MK_CAP_MQTT_VERSION) && !a76) {
        mk_sb_putc(&sb, ',');
        mk_sb_puti(&sb, o->version);
    }
    enum mk_err e = cm_do(c, "ACCQ", text, NULL, 0, CM_PLAIN, 0, code);
    if (e != MK_OK)
        return e;
    c->acquired = true;

    /* Topics and payloads are bytes to us; the module rejects non-UTF-8 with err 2
     * unless the check is off (S1 p.364; S2 §5.1.2). Firmware without the key keeps it. */
    int k;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+CMQTTCFG=\"checkUTF8\",");
    mk_sb_putu(&sb, cm_idx(c));
    mk_sb_puts(&sb, ",0");
    e = cm_do(c, "CFG", text, NULL, 0, CM_PLAIN, 0, &k);
    if (cm_io_lost(e))
        return e;
    if (e != MK_OK)
        c->drv_flags |= CM_F_UTF8_CHECKED;
    else
        c->drv_flags &= ~CM_F_UTF8_CHECKED;
    if (o->version && a76) {
        mk_sb_init(&sb, text, sizeof text);
        mk_sb_puts(&sb, "AT+CMQTTCFG=\"version\",");
        mk_sb_putu(&sb, cm_idx(c));
        mk_sb_putc(&sb, ',');
        mk_sb_puti(&sb, o->version);
        e = cm_do(c, "CFG", text, NULL, 0, CM_PLAIN, 0, code);
        if (e != MK_OK)
            return e;
    }
    return MK_OK;
}

/* One AT+CSSLCFG="<key>",<ctx>,<value>. */
static enum mk_err cm_sslcfg(struct mk_mqtt_client *c, const char *key, const char *file, int v)
{
    char text[200];
    struct mk_sb sb;
    mk_sb_init(&sb, text, sizeof text);
    mk_sb_puts(&sb, "AT+CSSLCFG=");
    mk_sb_putq(&sb, key);
    mk_sb_putc(&sb, ',');
    mk_sb_putu(&sb, cm_idx(c)); /* one SSL context per client: context = client index */
    mk_sb_putc(&sb, ',');
    if (file)
        mk_sb_putq(&sb, file);
    else
        mk_sb_puti(&sb, v);
    if (mk_sb_err(&sb) != MK_OK)
        return MK_E_NOSPC;
    struct mk_at_result r;
    enum mk_err e = mk_at_simple(c->cfg.chan, text, mk_mqtt_cmd_timeout(c), NULL, 0, &r);
    if (e == MK_OK)
        return MK_OK;
    if (e != MK_E_AT_ERROR && e != MK_E_AT_CME)
        return mk_mqtt_fail_exec(c, "CSSLCFG", e, &r, mk_mqtt_cmd_timeout(c));
    if (!file && strcmp(key, "sslversion") == 0) {
        /* seed 001 (F1, cmendes0101): LE11B02SIM7500A answers ERROR to "sslversion",0,4 */
        mk_mqtt_err_begin(c, &sb, MK_E_FW_UNSUPPORTED, -1, "CSSLCFG");
        mk_sb_puts(&sb, "firmware ");
        mk_sb_puts(&sb, mk_mqtt_fw(c));
        mk_sb_puts(&sb, " rejected TLS version ");
        mk_sb_puti(&sb, v);
        mk_sb_puts(&sb, v == 4 ? " (\"all\")" : "");
        mk_sb_puts(&sb, ": AT+CSSLCFG=\"sslversion\" answered ERROR. Leave the TLS version "
                        "out (the module's default is used) or update the firmware "
                        "(see 'modemctl fota')");
        return MK_E_FW_UNSUPPORTED;
    }
    mk_mqtt_err_begin(c, &sb, MK_E_TLS_NO_CERT, -1, "CSSLCFG");
    mk_sb_puts(&sb, "the module refused ");
    mk_sb_puts(&sb, key);
    if (file) {
        mk_sb_puts(&sb, " file name \"");
        mk_sb_puts(&sb, file);
        mk_sb_puts(&sb, "\" (names are 5..128 bytes ending .pem or .der)");
    } else {
        mk_sb_puts(&sb, " value ");
        mk_sb_puti(&sb, v);
    }
    return MK_E_TLS_NO_CERT;
}

/*
 * TLS context and will, before every CONNECT: the module clears the SSL binding after
 * a failed CONNECT and after DISC (S1 p.350), and contexts are RAM (lost at reboot).
 */
static enum mk_err cm_prepare(struct mk_mqtt_client *c, bool tls, int *code)
{
    const struct mk_mqtt_connect_opts *o = c->opts;
    enum mk_err e;
    *code = -1;
    if (tls) {
        int mode = o->authmode;
        if (mode < 0)
            mode = o->ca_file ? (o->cert_file ? 2 : 1) : (o->cert_file ? 3 : 0);
        /* "sslversion" only when asked: its default is 4 = all (S1 §10), and old
         * firmware rejects 4 (seed 001: LE11B02SIM7500A). */
        if (o->tls_version >= 0 && (e = cm_sslcfg(c, "sslversion", NULL, o->tls_version)) != MK_OK)
            return e;
        if ((e = cm_sslcfg(c, "authmode", NULL, mode)) != MK_OK)
            return e;
        if (o->ca_file && (e = cm_sslcfg(c, "cacert", o->ca_file, 0)) != MK_OK)
            return e;
        if (o->cert_file && (e = cm_sslcfg(c, "clientcert", o->cert_file, 0)) != MK_OK)
            return e;
        if (o->key_file && (e = cm_sslcfg(c, "clientkey", o->key_file, 0)) != MK_OK)
            return e;
        char text[48];
        struct mk_sb sb;
        cm_text(&sb, text, sizeof text, "SSLCFG", c);
        mk_sb_putc(&sb, ',');
        mk_sb_putu(&sb, cm_idx(c));
        if ((e = cm_do(c, "SSLCFG", text, NULL, 0, CM_PLAIN, 0, code)) != MK_OK)
            return e;
    }
    if (o->will) {
        e = cm_data_cmd(c, "WILLTOPIC", o->will->topic, strlen(o->will->topic), -1, 0, code);
        if (e == MK_OK)
            e = cm_data_cmd(c, "WILLMSG", o->will->msg, o->will->len, o->will->qos, 0, code);
        if (e != MK_OK)
            return e;
    }
    return MK_OK;
}

/* AT+CMQTTCONNECT=<idx>,"tcp://host:port",<keepalive>,<clean>[,"user"[,"pass"]] */
static enum mk_err cm_connect_text(struct mk_mqtt_client *c, char *text, size_t cap)
{
    const struct mk_mqtt_connect_opts *o = c->opts;
    const char *host;
    size_t hl;
    uint16_t port;
    bool tls;
    if (mk_mqtt_parse_url(o->url, &host, &hl, &port, &tls) != MK_OK)
        return MK_E_INVAL;
    struct mk_sb sb;
    cm_text(&sb, text, cap, "CONNECT", c);
    /* the address always starts "tcp://", TLS or not (S1 p.355; S2 §5.2) */
    mk_sb_puts(&sb, ",\"tcp://");
    mk_sb_putn(&sb, host, hl);
    mk_sb_putc(&sb, ':');
    mk_sb_putu(&sb, port);
    mk_sb_puts(&sb, "\",");
    mk_sb_putu(&sb, o->keepalive_s ? o->keepalive_s : 60);
    mk_sb_puts(&sb, o->clean_session ? ",1" : ",0");
    if (o->user) {
        mk_sb_putc(&sb, ',');
        mk_sb_putq(&sb, o->user);
        if (o->pass) {
            mk_sb_putc(&sb, ',');
            mk_sb_putq(&sb, o->pass);
        }
    }
    return mk_sb_err(&sb);
}

static enum mk_err cm_check(struct mk_mqtt_client *c, const struct mk_mqtt_connect_opts *o)
{
    struct mk_sb sb;
    if (o->will && o->will->retain) {
        mk_mqtt_err_begin(c, &sb, MK_E_FW_UNSUPPORTED, -1, "CONNECT");
        mk_sb_puts(&sb, "AT+CMQTTWILLMSG has no retain flag (S1 §16): a retained will cannot "
                        "be set on this module");
        return MK_E_FW_UNSUPPORTED;
    }
    if (o->will && o->will->len == 0) {
        mk_mqtt_err_begin(c, &sb, MK_E_INVAL, -1, "CONNECT");
        mk_sb_puts(&sb, "the will message must be 1..1024 bytes (AT+CMQTTWILLMSG)");
        return MK_E_INVAL;
    }
    const struct mk_mqtt_connect_opts *saved = c->opts;
    char text[MK_AT_TX_CAP];
    c->opts = o;
    enum mk_err e = cm_connect_text(c, text, sizeof text);
    c->opts = saved;
    if (e != MK_OK) {
        mk_mqtt_err_begin(c, &sb, MK_E_NOSPC, -1, "CONNECT");
        mk_sb_puts(&sb, "URL, user name and password together are too long for one AT command");
        return MK_E_NOSPC;
    }
    return MK_OK;
}

/*
 * START. Right after power-up the module answers AT before its SIM is ready and MQTT
 * commands get "+CME ERROR: SIM busy" (S1 §1; T-SIM7600X #49 log): wait for the SIM, once.
 */
static enum mk_err cm_start(struct mk_mqtt_client *c, int *code)
{
    enum mk_err e = cm_do(c, "START", "AT+CMQTTSTART", NULL, 0, CM_GLOBAL, 0, code);
    if (e == MK_E_AT_CME && strstr(c->last.text, "SIM busy")) {
        if ((e = mk_mqtt_wait_sim(c)) != MK_OK)
            return e;
        e = cm_do(c, "START", "AT+CMQTTSTART", NULL, 0, CM_GLOBAL, 0, code);
    }
    return e;
}

static enum mk_err cm_connect(struct mk_mqtt_client *c)
{
    const struct mk_mqtt_connect_opts *o = c->opts;
    const char *host;
    size_t hl;
    uint16_t port;
    bool tls = false;
    mk_mqtt_parse_url(o->url, &host, &hl, &port, &tls);
    enum mk_err e = MK_E_MQTT_FAILED;
    int code;
    /* A few rounds: each 9/20/19 answer puts the module's client one step back. */
    for (int round = 0; round < 4; round++) {
        if (!c->started) {
            e = cm_start(c, &code);
            if (e != MK_OK && code != 23) /* 23: already started: adopt it */
                return e;
            c->started = true;
        }
        if (!c->acquired) {
            e = cm_accq(c, tls, &code);
            if (code == 19) { /* slot held, e.g. by an earlier program: free it */
                if (cm_io_lost(e = cm_free_slot(c)))
                    return e;
                c->acquired = false;
                continue;
            }
            if (code == 9 || code == 23) {
                c->started = false;
                continue;
            }
            if (e != MK_OK)
                return e;
        }
        e = cm_prepare(c, tls, &code);
        if (code == 20 || code == 9) {
            c->acquired = false;
            c->started = code == 20;
            continue;
        }
        if (e != MK_OK)
            return e;

        char text[MK_AT_TX_CAP];
        if (cm_connect_text(c, text, sizeof text) != MK_OK)
            return cm_check(c, o);
        struct cm_res r;
        uint64_t until = mk_mqtt_now(c) + mk_mqtt_busy_window(c);
        uint32_t pause = 100;
        for (;;) {
            cm_exec(c, "CONNECT", text, NULL, 0, CM_TWO, o->user ? MK_AT_F_SECRET_ARGS : 0, &r);
            if (r.code != 14 || mk_mqtt_now(c) >= until)
                break;
            c->stats.busy_retries++;
            if (cm_io_lost(e = mk_mqtt_pause(c, pause)))
                return mk_mqtt_fail_exec(c, "CONNECT", e, NULL, 0);
            pause = pause >= 1000 ? 2000 : pause * 2;
        }
        code = r.code;
        if (code == 19) { /* still connected (e.g. after +CMQTTPING): disconnect first */
            if (cm_io_lost(e = cm_disc(c)))
                return e;
            continue;
        }
        if (code == 20 || code == 9) {
            c->acquired = false;
            c->started = code == 20;
            continue;
        }
        if (r.e == MK_E_AT_ERROR && code < 0 && o->user) {
            /* seed 000: LE11B01SIM7600M21-A "do not allow for a username and password with
             * the AT+CMQTTCONNECT=0 command". For revisions not in the quirks table this is
             * how it shows: plain ERROR and no +CMQTTCONNECT result. */
            struct mk_sb sb;
            mk_mqtt_err_begin(c, &sb, MK_E_FW_UNSUPPORTED, -1, "CONNECT");
            mk_sb_puts(&sb, "this firmware (");
            mk_sb_puts(&sb, mk_mqtt_fw(c));
            mk_sb_puts(&sb, ") rejected user name/password: AT+CMQTTCONNECT with credentials "
                            "answered plain ERROR and no +CMQTTCONNECT result. Fix: connect "
                            "without them or update the module firmware (see 'modemctl fota')");
            return MK_E_FW_UNSUPPORTED;
        }
        return cm_result(c, "CONNECT", &r);
    }
    return e != MK_OK ? e : mk_mqtt_fail_code(c, "CONNECT", 19);
}

static enum mk_err cm_publish(struct mk_mqtt_client *c, const char *topic, size_t topic_len,
                              const uint8_t *payload, size_t len, int qos, bool retain)
{
    int code;
    if (len > MK_MQTT_PAYLOAD_MAX) {
        struct mk_sb sb;
        mk_mqtt_err_begin(c, &sb, MK_E_MQTT_PARAM, -1, "PAYLOAD");
        mk_sb_puts(&sb, "payloads are at most 10240 bytes on AT+CMQTTPAYLOAD (S1 §16)");
        return MK_E_MQTT_PARAM;
    }
    enum mk_err e = cm_data_cmd(c, "TOPIC", topic, topic_len, -1, 0, &code);
    /* AT+CMQTTPAYLOAD takes 1..10240 bytes; an empty message simply has none */
    if (e == MK_OK && len)
        e = cm_data_cmd(c, "PAYLOAD", payload, len, -1, 0, &code);
    if (e != MK_OK)
        return e;
    char text[48];
    struct mk_sb sb;
    cm_text(&sb, text, sizeof text, "PUB", c);
    mk_sb_putc(&sb, ',');
    mk_sb_puti(&sb, qos);
    mk_sb_putc(&sb, ',');
    mk_sb_puti(&sb, CM_PUB_TIMEOUT_S);
    if (retain)
        mk_sb_puts(&sb, ",1");
    return cm_do(c, "PUB", text, NULL, 0, CM_TWO, 0, &code);
}

/* SUBTOPIC/UNSUBTOPIC for each topic of a batch, then SUB/UNSUB (cache form, S1 p.360). */
static enum mk_err cm_sub_common(struct mk_mqtt_client *c, const char *const *topics, size_t n,
                                 int qos, bool sub)
{
    size_t i = 0;
    while (i < n) {
        size_t bytes = 0, j = i;
        /* the module caches at most 5120 topic bytes per SUB/UNSUB (S1 p.359) */
        while (j < n && (j == i || bytes + strlen(topics[j]) <= MK_MQTT_SUBTOPIC_CACHE))
            bytes += strlen(topics[j++]);
        int code;
        for (size_t k = i; k < j; k++) {
            enum mk_err e = cm_data_cmd(c, sub ? "SUBTOPIC" : "UNSUBTOPIC", topics[k],
                                        strlen(topics[k]), sub ? qos : -1, 0, &code);
            if (e != MK_OK)
                return e;
        }
        char text[48];
        struct mk_sb sb;
        cm_text(&sb, text, sizeof text, sub ? "SUB" : "UNSUB", c);
        if (!sub)
            mk_sb_puts(&sb, ",0"); /* UNSUB form A is "=<idx>,<dup>" */
        enum mk_err e = cm_do(c, sub ? "SUB" : "UNSUB", text, NULL, 0, CM_TWO, 0, &code);
        if (e != MK_OK)
            return e;
        i = j;
    }
    return MK_OK;
}

static enum mk_err cm_subscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n,
                                int qos)
{
    return cm_sub_common(c, topics, n, qos, true);
}

static enum mk_err cm_unsubscribe(struct mk_mqtt_client *c, const char *const *topics, size_t n)
{
    return cm_sub_common(c, topics, n, 0, false);
}

static enum mk_err cm_disconnect(struct mk_mqtt_client *c)
{
    enum mk_err first = MK_OK, e;
    if (c->acquired) {
        e = cm_disc(c);
        if (cm_io_lost(e))
            return e;
        first = e;
        e = cm_rel(c);
        if (cm_io_lost(e))
            return e;
        if (first == MK_OK)
            first = e;
    }
    if (c->started) {
        int code;
        e = cm_do(c, "STOP", "AT+CMQTTSTOP", NULL, 0, CM_GLOBAL, 0, &code);
        /* 21: the other client slot is still acquired (by someone else): leave it running */
        if (e == MK_OK || code == 21 || code == 9)
            c->started = false, e = MK_OK;
        if (first == MK_OK)
            first = e;
    }
    return first;
}

/* ---- URCs ---- */

/* The leading numbers of a URC line; returns how many were read. */
static int cm_nums(const char *line, size_t len, const char *prefix, long *v, int max)
{
    struct mk_at_arg a[4];
    int n = mk_at_split(line, len, prefix, a, (size_t)max);
    int k = 0;
    while (k < n && mk_at_arg_long(&a[k], &v[k]) == MK_OK)
        k++;
    return k;
}

static void cm_rx_topic_bytes(void *user, const uint8_t *data, size_t len, bool last)
{
    (void)last;
    struct mk_mqtt_client *c = user;
    if (c->rx.bad || !data)
        return;
    if (c->rx.topic_got + len > c->rx.topic_total) {
        c->rx.bad = true;
        return;
    }
    memcpy(c->cfg.topic_buf + c->rx.topic_got, data, len);
    c->rx.topic_got += len;
}

static void cm_rx_payload_bytes(void *user, const uint8_t *data, size_t len, bool last)
{
    (void)last;
    struct mk_mqtt_client *c = user;
    if (c->rx.bad || !data)
        return;
    if (c->rx.payload_got + len > c->rx.payload_total) {
        c->rx.bad = true;
        return;
    }
    memcpy(c->cfg.payload_buf + c->rx.payload_got, data, len);
    c->rx.payload_got += len;
}

static void cm_rx_discard(void *user, const uint8_t *data, size_t len, bool last)
{
    (void)user;
    (void)data;
    (void)len;
    (void)last;
}

static void cm_urc_rxstart(void *user, const char *line, size_t len)
{
    struct mk_mqtt_client *c = user;
    long v[3];
    if (cm_nums(line, len, "+CMQTTRXSTART:", v, 3) < 3 || v[0] != (long)cm_idx(c))
        return;
    if (c->rx.phase)
        c->stats.rx_dropped++; /* the previous message never ended (line noise) */
    c->rx.phase = 1;
    c->rx.topic_got = c->rx.payload_got = 0;
    c->rx.bad = v[1] < 1 || v[2] < 0 || (size_t)v[1] >= c->cfg.topic_cap ||
                (size_t)v[2] > c->cfg.payload_cap;
    c->rx.topic_total = v[1] > 0 ? (size_t)v[1] : 0;
    c->rx.payload_total = v[2] > 0 ? (size_t)v[2] : 0;
}

/* A chunk header: the next n bytes are raw, whatever they contain; read them even when
 * the message is being dropped, so they are never parsed as lines. */
static void cm_urc_chunk(struct mk_mqtt_client *c, const char *line, size_t len, const char *prefix,
                         bool topic)
{
    long v[2];
    if (cm_nums(line, len, prefix, v, 2) < 2 || v[1] < 0 || v[1] > CM_RX_CHUNK_MAX)
        return; /* not a chunk header we can trust: leave the bytes to line parsing */
    bool ours = v[0] == (long)cm_idx(c) && c->rx.phase == 1;
    if (v[0] == (long)cm_idx(c) && !ours)
        c->stats.rx_dropped++;
    mk_at_read_raw(&c->cfg.chan->at, (size_t)v[1],
                   !ours   ? cm_rx_discard
                   : topic ? cm_rx_topic_bytes
                           : cm_rx_payload_bytes,
                   c);
}

static void cm_urc_rxtopic(void *user, const char *line, size_t len)
{
    cm_urc_chunk(user, line, len, "+CMQTTRXTOPIC:", true);
}

static void cm_urc_rxpayload(void *user, const char *line, size_t len)
{
    cm_urc_chunk(user, line, len, "+CMQTTRXPAYLOAD:", false);
}

static void cm_urc_rxend(void *user, const char *line, size_t len)
{
    struct mk_mqtt_client *c = user;
    long v[1];
    if (cm_nums(line, len, "+CMQTTRXEND:", v, 1) < 1 || v[0] != (long)cm_idx(c) || !c->rx.phase)
        return;
    c->rx.phase = 0;
    if (c->rx.bad || c->rx.topic_got != c->rx.topic_total ||
        c->rx.payload_got != c->rx.payload_total) {
        c->stats.rx_dropped++;
        return;
    }
    /* CMQTT does not say the QoS or retain flag of a received message (S1 p.366) */
    mk_mqtt_deliver(c, c->rx.topic_got, c->rx.payload_got, -1, -1);
}

/* +CMQTTCONNLOST: <idx>,<cause> and +CMQTTPING: <idx>,<err> (S1 §16.3.2) */
static void cm_urc_lost(void *user, const char *line, size_t len)
{
    struct mk_mqtt_client *c = user;
    long v[2];
    const char *prefix =
        mk_starts_with(line, len, "+CMQTTPING:") ? "+CMQTTPING:" : "+CMQTTCONNLOST:";
    if (cm_nums(line, len, prefix, v, 2) < 1 || v[0] != (long)cm_idx(c))
        return;
    mk_mqtt_note_lost(c, line, len);
}

/* +CMQTTNONET: the network is gone, the service must be started again (S1 §16.3.2). */
static void cm_urc_nonet(void *user, const char *line, size_t len)
{
    struct mk_mqtt_client *c = user;
    c->started = c->acquired = false;
    mk_mqtt_note_lost(c, line, len);
}

/* A completion URC nobody waits for any more (its command timed out): count it. */
static void cm_urc_late(void *user, const char *line, size_t len)
{
    (void)line;
    (void)len;
    struct mk_mqtt_client *c = user;
    c->stats.late_urcs++;
}

static void cm_attach(struct mk_mqtt_client *c)
{
    static const struct {
        const char *prefix;
        void (*cb)(void *, const char *, size_t);
    } t[] = {
        {"+CMQTTRXSTART:", cm_urc_rxstart},
        {"+CMQTTRXTOPIC:", cm_urc_rxtopic},
        {"+CMQTTRXPAYLOAD:", cm_urc_rxpayload},
        {"+CMQTTRXEND:", cm_urc_rxend},
        {"+CMQTTCONNLOST:", cm_urc_lost},
        {"+CMQTTPING:", cm_urc_lost},
        {"+CMQTTNONET", cm_urc_nonet},
        {"+CMQTTCONNECT:", cm_urc_late},
        {"+CMQTTDISC:", cm_urc_late},
        {"+CMQTTPUB:", cm_urc_late},
        {"+CMQTTSUB:", cm_urc_late},
        {"+CMQTTUNSUB:", cm_urc_late},
        {"+CMQTTSTART:", cm_urc_late},
        {"+CMQTTSTOP:", cm_urc_late},
    };
    _Static_assert(sizeof t / sizeof t[0] <= sizeof c->urcs / sizeof c->urcs[0], "urc table");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        c->urcs[i] = (struct mk_at_urc){t[i].prefix, t[i].cb, c};
    c->n_urcs = sizeof t / sizeof t[0];
}

const struct mk_mqtt_driver mk_mqtt_drv_cmqtt = {
    .name = "cmqtt",
    .attach = cm_attach,
    .check = cm_check,
    .connect = cm_connect,
    .publish = cm_publish,
    .subscribe = cm_subscribe,
    .unsubscribe = cm_unsubscribe,
    .disconnect = cm_disconnect,
};
