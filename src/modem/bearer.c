/* The packet-data bearer: status and bring-up (see include/modemkit/bearer.h). */
#include <string.h>

#include "modemkit/bearer.h"
#include "modemkit/str.h"

#define MK_BEARER_TIMEOUT_MS      5000u
#define MK_BEARER_OPEN_TIMEOUT_MS 120000u /* S1 §11.2.2: NETOPEN max 120 s */

static bool mk_bearer_io_failure(enum mk_err e)
{
    return e == MK_E_TIMEOUT || e == MK_E_HANGUP || e == MK_E_IO;
}

/* The fields after prefix on the first answer line that has it; -1 when absent. */
static int mk_bearer_fields(const char *resp, const char *prefix, struct mk_at_arg *a, size_t max)
{
    for (const char *l = resp; *l;) {
        const char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        int k = mk_at_split(l, n, prefix, a, max);
        if (k >= 0)
            return k;
        l += n + (eol != NULL);
    }
    return -1;
}

static long mk_bearer_num(const struct mk_at_arg *a, long dflt)
{
    long v;
    return mk_at_arg_long(a, &v) == MK_OK ? v : dflt;
}

static void mk_bearer_copy(char *dst, size_t cap, const struct mk_at_arg *a)
{
    size_t n = a->len < cap - 1 ? a->len : cap - 1;
    memcpy(dst, a->p, n);
    dst[n] = '\0';
}

/* Runs text; on OK leaves the answer in resp. Returns only I/O failures as errors. */
static enum mk_err mk_bearer_ask(struct mk_at_chan *ch, const char *text, char *resp, size_t cap,
                                 bool *ok)
{
    struct mk_at_result r;
    resp[0] = '\0';
    enum mk_err e = mk_at_simple(ch, text, MK_BEARER_TIMEOUT_MS, resp, cap, &r);
    *ok = e == MK_OK;
    if (e == MK_E_AT_CME && r.cme_text[0])
        mk_strlcpy(resp, r.cme_text, cap); /* "SIM not inserted" for AT+CPIN? */
    return mk_bearer_io_failure(e) ? e : MK_OK;
}

/* +CREG: <n>,<stat>[,...] (read form: the second field is the status) */
static enum mk_err mk_bearer_reg(struct mk_at_chan *ch, const char *cmd, const char *prefix,
                                 int *stat)
{
    char resp[160];
    bool ok;
    struct mk_at_arg a[4];
    *stat = -1;
    enum mk_err e = mk_bearer_ask(ch, cmd, resp, sizeof resp, &ok);
    if (e == MK_OK && ok && mk_bearer_fields(resp, prefix, a, 4) >= 2)
        *stat = (int)mk_bearer_num(&a[1], -1);
    return e;
}

static bool mk_bearer_simcom_lte(const struct mk_modem_id *id)
{
    return id->family == MK_FAMILY_SIM7500 || id->family == MK_FAMILY_SIM7600 ||
           id->family == MK_FAMILY_A76XX;
}

static bool mk_bearer_sim7000(const struct mk_modem_id *id)
{
    return id->family == MK_FAMILY_SIM7000 || id->family == MK_FAMILY_SIM7070;
}

enum mk_err mk_bearer_status(struct mk_at_chan *ch, const struct mk_modem_id *id,
                             struct mk_bearer_status *st)
{
    char resp[256];
    struct mk_at_arg a[4];
    bool ok;
    enum mk_err e;
    memset(st, 0, sizeof *st);
    st->rssi = st->ber = 99;
    st->creg = st->cgreg = st->cereg = -1;

    if ((e = mk_bearer_ask(ch, "AT+CPIN?", resp, sizeof resp, &ok)) != MK_OK)
        return e;
    if (ok && mk_bearer_fields(resp, "+CPIN:", a, 1) >= 1)
        mk_bearer_copy(st->sim, sizeof st->sim, &a[0]);
    else if (!ok && resp[0])
        mk_strlcpy(st->sim, resp, sizeof st->sim);

    if ((e = mk_bearer_ask(ch, "AT+CSQ", resp, sizeof resp, &ok)) != MK_OK)
        return e;
    if (ok && mk_bearer_fields(resp, "+CSQ:", a, 2) >= 2) {
        st->rssi = (int)mk_bearer_num(&a[0], 99);
        st->ber = (int)mk_bearer_num(&a[1], 99);
        if (st->rssi >= 0 && st->rssi <= 31)
            st->dbm = -113 + 2 * st->rssi;
    }
    if ((e = mk_bearer_reg(ch, "AT+CREG?", "+CREG:", &st->creg)) != MK_OK ||
        (e = mk_bearer_reg(ch, "AT+CGREG?", "+CGREG:", &st->cgreg)) != MK_OK ||
        (e = mk_bearer_reg(ch, "AT+CEREG?", "+CEREG:", &st->cereg)) != MK_OK)
        return e;
    if ((e = mk_bearer_ask(ch, "AT+CPSI?", resp, sizeof resp, &ok)) != MK_OK)
        return e;
    if (ok && mk_starts_with(resp, strlen(resp), "+CPSI: ")) {
        const char *eol = strchr(resp, '\n');
        size_t n = (eol ? (size_t)(eol - resp) : strlen(resp)) - 7;
        if (n >= sizeof st->cpsi)
            n = sizeof st->cpsi - 1;
        memcpy(st->cpsi, resp + 7, n);
        st->cpsi[n] = '\0';
    }

    if (mk_bearer_sim7000(id)) {
        /* S5 documents "+CNACT: <status>,<ip>"; seed 003 shows "+CNACT: 0,1,"<ip>"" (the
         * SIM7070 layout): the status is the field before the quoted address. */
        if ((e = mk_bearer_ask(ch, "AT+CNACT?", resp, sizeof resp, &ok)) != MK_OK)
            return e;
        int k = ok ? mk_bearer_fields(resp, "+CNACT:", a, 4) : -1;
        if (k >= 2 && a[k - 1].quoted) {
            st->data_up = mk_bearer_num(&a[k - 2], 0) == 1;
            if (st->data_up)
                mk_bearer_copy(st->ip, sizeof st->ip, &a[k - 1]);
        }
        if ((e = mk_bearer_ask(ch, "AT+CGNAPN", resp, sizeof resp, &ok)) != MK_OK)
            return e;
        if (ok && (k = mk_bearer_fields(resp, "+CGNAPN:", a, 2)) >= 2)
            mk_bearer_copy(st->apn, sizeof st->apn, &a[1]);
        return MK_OK;
    }

    if ((e = mk_bearer_ask(ch, "AT+CGDCONT?", resp, sizeof resp, &ok)) != MK_OK)
        return e;
    if (ok && mk_bearer_fields(resp, "+CGDCONT:", a, 3) >= 3 && mk_bearer_num(&a[0], 0) == 1)
        mk_bearer_copy(st->apn, sizeof st->apn, &a[2]);
    if (mk_bearer_simcom_lte(id)) {
        if ((e = mk_bearer_ask(ch, "AT+NETOPEN?", resp, sizeof resp, &ok)) != MK_OK)
            return e;
        if (ok && mk_bearer_fields(resp, "+NETOPEN:", a, 1) >= 1)
            st->data_up = mk_bearer_num(&a[0], 0) == 1;
        if (st->data_up) {
            if ((e = mk_bearer_ask(ch, "AT+IPADDR", resp, sizeof resp, &ok)) != MK_OK)
                return e;
            if (ok && mk_bearer_fields(resp, "+IPADDR:", a, 1) >= 1)
                mk_bearer_copy(st->ip, sizeof st->ip, &a[0]);
            return MK_OK;
        }
    }
    /* No socket service open: is the default PDP context (cid 1) active at least? */
    if ((e = mk_bearer_ask(ch, "AT+CGACT?", resp, sizeof resp, &ok)) != MK_OK)
        return e;
    if (ok && mk_bearer_fields(resp, "+CGACT:", a, 2) >= 2 && mk_bearer_num(&a[0], 0) == 1)
        st->data_up = mk_bearer_num(&a[1], 0) == 1;
    return MK_OK;
}

bool mk_bearer_registered(const struct mk_bearer_status *st)
{
    return st->creg == 1 || st->creg == 5 || st->cgreg == 1 || st->cgreg == 5 || st->cereg == 1 ||
           st->cereg == 5;
}

const char *mk_bearer_reg_name(int stat)
{
    switch (stat) {
    case 0:
        return "not registered";
    case 1:
        return "home";
    case 2:
        return "searching";
    case 3:
        return "denied";
    case 4:
        return "unknown";
    case 5:
        return "roaming";
    default:
        return "-";
    }
}

static bool mk_bearer_apn_ok(const char *apn)
{
    size_t n = strlen(apn);
    if (n > 62)
        return false;
    for (size_t i = 0; i < n; i++)
        if (apn[i] == '"' || (unsigned char)apn[i] < 0x20)
            return false;
    return true;
}

/* A command whose "OK" is followed by a result URC (NETOPEN, CNACT). */
static enum mk_err mk_bearer_two_phase(struct mk_at_chan *ch, const char *text, const char *urc,
                                       struct mk_at_result *r, char *resp, size_t cap)
{
    struct mk_at_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.text = text;
    cmd.timeout_ms = MK_BEARER_OPEN_TIMEOUT_MS;
    cmd.urc_prefix = urc;
    cmd.urc_index = -1;
    cmd.resp = resp;
    cmd.resp_cap = cap;
    resp[0] = '\0';
    return mk_at_exec(ch, &cmd, r);
}

enum mk_err mk_bearer_up(struct mk_at_chan *ch, const struct mk_modem_id *id, const char *apn,
                         struct mk_bearer_status *st)
{
    char text[128], resp[160];
    struct mk_sb sb;
    struct mk_at_result r;
    enum mk_err e;
    bool have_apn = apn && apn[0];
    if (have_apn && !mk_bearer_apn_ok(apn))
        return MK_E_INVAL;

    if (mk_bearer_sim7000(id)) {
        if (have_apn) {
            /* AT+CNCFG=<ip_type>,"<APN>": 1 = IPv4 (S5 §5.2.31) */
            mk_sb_init(&sb, text, sizeof text);
            mk_sb_puts(&sb, "AT+CNCFG=1,");
            mk_sb_putq(&sb, apn);
            if ((e = mk_at_simple(ch, text, MK_BEARER_TIMEOUT_MS, NULL, 0, NULL)) != MK_OK)
                return e;
        }
        e = mk_at_simple(ch, "AT+CNACT?", MK_BEARER_TIMEOUT_MS, resp, sizeof resp, NULL);
        if (mk_bearer_io_failure(e))
            return e;
        struct mk_at_arg a[4];
        int k = e == MK_OK ? mk_bearer_fields(resp, "+CNACT:", a, 4) : -1;
        bool up = k >= 2 && a[k - 1].quoted && mk_bearer_num(&a[k - 2], 0) == 1;
        if (!up) {
            mk_sb_init(&sb, text, sizeof text);
            mk_sb_puts(&sb, "AT+CNACT=1");
            if (have_apn) {
                mk_sb_putc(&sb, ',');
                mk_sb_putq(&sb, apn);
            }
            /* OK, then "+APP PDP: ACTIVE" (S5 §5.2.30) */
            e = mk_bearer_two_phase(ch, text, "+APP PDP:", &r, resp, sizeof resp);
            if (mk_bearer_io_failure(e))
                return e;
            if (e != MK_OK || strstr(r.urc_line, "DEACTIVE"))
                return MK_E_NET;
        }
    } else if (mk_bearer_simcom_lte(id)) {
        if (have_apn) {
            mk_sb_init(&sb, text, sizeof text);
            mk_sb_puts(&sb, "AT+CGDCONT=1,\"IP\",");
            mk_sb_putq(&sb, apn);
            if ((e = mk_at_simple(ch, text, MK_BEARER_TIMEOUT_MS, NULL, 0, NULL)) != MK_OK)
                return e;
        }
        /* OK then "+NETOPEN: <err>"; "+IP ERROR: Network is already opened" + ERROR when
         * it is open already (S1 §11.2.2) */
        e = mk_bearer_two_phase(ch, "AT+NETOPEN", "+NETOPEN:", &r, resp, sizeof resp);
        if (mk_bearer_io_failure(e))
            return e;
        bool already = strstr(resp, "already opened") != NULL;
        if (!already && (e != MK_OK || r.urc_code != 0))
            return MK_E_NET;
    } else {
        return MK_E_UNSUPPORTED;
    }
    return st ? mk_bearer_status(ch, id, st) : MK_OK;
}
