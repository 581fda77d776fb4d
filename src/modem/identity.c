/* Identity parsing and classification: pure functions, no I/O. */
#include <string.h>

#include "modemkit/modem.h"
#include "modemkit/str.h"

static bool mk_modem_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *mk_modem_strip_prefix(const char *line, size_t *len)
{
    static const char *const prefixes[] = {
        "+CGMR:", "+GMR:", "+CGMI:", "+GMI:", "+CGMM:", "+GMM:", "+CGSN:", "+GSN:",
        "Revision:", "Model:", "Manufacturer:", "IMEI:",
    };
    size_t n = *len;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i]);
        if (n >= pl && memcmp(line, prefixes[i], pl) == 0) {
            line += pl;
            n -= pl;
            break;
        }
    }
    while (n && mk_modem_is_space(*line)) {
        line++;
        n--;
    }
    while (n && mk_modem_is_space(line[n - 1]))
        n--;
    /* Some firmware quotes the value. */
    if (n >= 2 && line[0] == '"' && line[n - 1] == '"') {
        line++;
        n -= 2;
    }
    *len = n;
    return line;
}

static void mk_modem_set(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void mk_modem_parse_ati(const char *text, struct mk_modem_id *id)
{
    static const struct {
        const char *key;
        size_t off;
        size_t cap;
    } fields[] = {
        {"Manufacturer:", offsetof(struct mk_modem_id, manufacturer), sizeof id->manufacturer},
        {"Model:", offsetof(struct mk_modem_id, model), sizeof id->model},
        {"Revision:", offsetof(struct mk_modem_id, revision), sizeof id->revision},
        {"IMEI:", offsetof(struct mk_modem_id, imei), sizeof id->imei},
    };
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (!mk_starts_with(p, len, fields[i].key))
                continue;
            size_t vlen = len;
            const char *v = mk_modem_strip_prefix(p, &vlen);
            if (vlen)
                mk_modem_set((char *)id + fields[i].off, fields[i].cap, v, vlen);
        }
        p += len + (eol != NULL);
    }
}

static bool mk_contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

void mk_modem_classify(struct mk_modem_id *id)
{
    const char *m = id->model, *r = id->revision, *f = id->manufacturer;
    id->vendor = MK_VENDOR_UNKNOWN;
    id->family = MK_FAMILY_UNKNOWN;
    if (mk_contains(f, "SIMCOM") || mk_contains(m, "SIM7") || mk_contains(m, "SIMCOM") ||
        mk_contains(m, "A76"))
        id->vendor = MK_VENDOR_SIMCOM;
    else if (mk_contains(f, "Sierra") || mk_contains(r, "SWI9X") || mk_contains(m, "RC76"))
        id->vendor = MK_VENDOR_SIERRA;
    else if (mk_contains(f, "Quectel"))
        id->vendor = MK_VENDOR_QUECTEL;

    /* The revision string names the platform even when the model is generic:
     * "LE11B02SIM7500A" is a SIM7500 firmware (seed 001). */
    if (mk_contains(m, "SIM7600") || mk_contains(r, "SIM7600"))
        id->family = MK_FAMILY_SIM7600;
    else if (mk_contains(m, "SIM7500") || mk_contains(r, "SIM7500"))
        id->family = MK_FAMILY_SIM7500;
    else if (mk_contains(m, "SIM7000") || mk_contains(r, "SIM7000"))
        id->family = MK_FAMILY_SIM7000;
    else if (mk_contains(m, "SIM707") || mk_contains(m, "SIM708") || mk_contains(m, "SIM709"))
        id->family = MK_FAMILY_SIM7070;
    else if (mk_contains(m, "A76") || mk_contains(m, "SIM767"))
        id->family = MK_FAMILY_A76XX;
    else if (mk_contains(m, "RC76") || mk_contains(r, "SWI9X07"))
        id->family = MK_FAMILY_RC76XX;
}

uint32_t mk_modem_family_caps(enum mk_family family)
{
    switch (family) {
    case MK_FAMILY_SIM7500:
    case MK_FAMILY_SIM7600:
        /* S1 (SIM7500/7600 AT manual V3.00) §16 MQTT, §10 SSL, §19.2.8 CDELTA. */
        return MK_CAP_MQTT_CMQTT | MK_CAP_MQTT_CREDENTIALS | MK_CAP_TLS |
               MK_CAP_TLS_VERSION_ALL | MK_CAP_FOTA_CDELTA | MK_CAP_CERT_STORE;
    case MK_FAMILY_A76XX:
        /* S11 (A76XX manual V1.09) §18: version via CMQTTCFG, not ACCQ. */
        return MK_CAP_MQTT_CMQTT | MK_CAP_MQTT_CREDENTIALS | MK_CAP_MQTT_VERSION | MK_CAP_TLS |
               MK_CAP_TLS_VERSION_ALL | MK_CAP_CERT_STORE;
    case MK_FAMILY_SIM7000:
    case MK_FAMILY_SIM7070:
        /* S6/S9: SMCONF USERNAME/PASSWORD; S7/S10: CFSWFILE + CFOTA. */
        return MK_CAP_MQTT_SM | MK_CAP_MQTT_CREDENTIALS | MK_CAP_FOTA_CFOTA;
    case MK_FAMILY_RC76XX:
        return MK_CAP_FLASH_DOWNLOAD;
    default:
        return 0;
    }
}

/* Finds the n-th "(...)" group of a test-command answer; returns its content. */
static const char *mk_modem_group(const char *text, int n, size_t *len)
{
    const char *p = text;
    for (int i = 0;; i++) {
        const char *open = strchr(p, '(');
        if (!open)
            return NULL;
        const char *close = strchr(open, ')');
        if (!close)
            return NULL;
        if (i == n) {
            *len = (size_t)(close - open - 1);
            return open + 1;
        }
        p = close + 1;
    }
}

enum mk_err mk_modem_parse_accq_test(const char *text, bool *version_choice)
{
    size_t len;
    if (!strstr(text, "+CMQTTACCQ:") || !mk_modem_group(text, 1, &len))
        return MK_E_FORMAT;
    /* Group 4 is <mqtt_version>, "(3-4)" in S1 V3.00; absent on LE11B01SIM7600M21-A. */
    const char *g = mk_modem_group(text, 3, &len);
    *version_choice = false;
    if (g) {
        for (size_t i = 0; i < len; i++)
            if (g[i] == '4')
                *version_choice = true;
    }
    return MK_OK;
}

int mk_modem_parse_sslversion_max(const char *text)
{
    const char *k = strstr(text, "\"sslversion\"");
    if (!k)
        return -1;
    size_t len;
    /* "sslversion",(0-9),(0-4): the value range is the second group after the key. */
    const char *g = mk_modem_group(k, 1, &len);
    if (!g)
        return -1;
    int max = -1;
    for (size_t i = 0; i < len; i++) {
        if (g[i] >= '0' && g[i] <= '9') {
            int v = 0;
            while (i < len && g[i] >= '0' && g[i] <= '9')
                v = v * 10 + (g[i++] - '0');
            if (v > max)
                max = v;
        }
    }
    return max;
}

const char *mk_modem_family_name(enum mk_family f)
{
    switch (f) {
    case MK_FAMILY_SIM7500: return "SIM7500";
    case MK_FAMILY_SIM7600: return "SIM7600";
    case MK_FAMILY_A76XX: return "A76XX";
    case MK_FAMILY_SIM7000: return "SIM7000";
    case MK_FAMILY_SIM7070: return "SIM7070";
    case MK_FAMILY_RC76XX: return "RC76XX";
    default: return "unknown";
    }
}

const char *mk_modem_vendor_name(enum mk_vendor v)
{
    switch (v) {
    case MK_VENDOR_SIMCOM: return "SIMCom";
    case MK_VENDOR_SIERRA: return "Sierra Wireless";
    case MK_VENDOR_QUECTEL: return "Quectel";
    default: return "unknown";
    }
}

const char *mk_modem_cap_name(uint32_t bit)
{
    switch (bit) {
    case MK_CAP_MQTT_CMQTT: return "mqtt-cmqtt";
    case MK_CAP_MQTT_SM: return "mqtt-sm";
    case MK_CAP_MQTT_VERSION: return "mqtt-version-choice";
    case MK_CAP_MQTT_CREDENTIALS: return "mqtt-credentials";
    case MK_CAP_TLS: return "tls";
    case MK_CAP_TLS_VERSION_ALL: return "tls-sslversion-all";
    case MK_CAP_FOTA_CFOTA: return "fota-cfota";
    case MK_CAP_FOTA_CDELTA: return "fota-cdelta";
    case MK_CAP_FLASH_DOWNLOAD: return "flash-download-mode";
    case MK_CAP_CERT_STORE: return "cert-store";
    default: return "?";
    }
}

const char *const mk_modem_spontaneous[] = {
    /* boot and SIM: S1 §1, seed 001 ("SMS DONE", "PB DONE" before the first OK) */
    "RDY", "SMS DONE", "PB DONE", "+CPIN:", "+CFUN:",
    /* network registration and packet domain events (3GPP TS 27.007) */
    "+CREG:", "+CGREG:", "+CEREG:", "+CGEV:", "+APP PDP:", "*PSUTTZ:", "+CTZV:", "DST:",
    /* SMS and calls */
    "+CMTI:", "+CMT:", "+CDS:", "RING", "+CLIP:",
    /* SIMCom CMQTT completions and events (S1 §16.3) */
    "+CMQTTSTART:", "+CMQTTSTOP:", "+CMQTTCONNECT:", "+CMQTTDISC:", "+CMQTTPUB:",
    "+CMQTTSUB:", "+CMQTTUNSUB:", "+CMQTTCONNLOST:", "+CMQTTPING:", "+CMQTTNONET",
    "+CMQTTRX",
    /* SIMCom SM* (S6), sockets (S1 §11), FOTA (S7) */
    "+SMSUB:", "+SMSTATE:", "+NETOPEN:", "+NETCLOSE:", "+IPCLOSE:", "+CIPEVENT:",
    "+CFOTA:", "+HTTPTOFS:",
    NULL,
};
