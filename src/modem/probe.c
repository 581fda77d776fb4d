/* Identity and capability probes over an AT channel. */
#include <string.h>

#include "modemkit/modem.h"

#define MK_MODEM_ID_TIMEOUT_MS 3000

/* Runs text and copies the first non-empty answer line (prefix stripped) into dst. */
static enum mk_err mk_modem_query(struct mk_at_chan *ch, const char *text, char *dst,
                                  size_t cap)
{
    char resp[512];
    enum mk_err e = mk_at_simple(ch, text, MK_MODEM_ID_TIMEOUT_MS, resp, sizeof resp, NULL);
    if (e != MK_OK)
        return e;
    for (char *line = resp; *line;) {
        char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        size_t vlen = len;
        const char *v = mk_modem_strip_prefix(line, &vlen);
        if (vlen) {
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(dst, v, vlen);
            dst[vlen] = '\0';
            return MK_OK;
        }
        line += len + (eol != NULL);
    }
    return MK_E_FORMAT;
}

static bool mk_modem_io_failure(enum mk_err e)
{
    return e == MK_E_TIMEOUT || e == MK_E_HANGUP || e == MK_E_IO;
}

enum mk_err mk_modem_identify(struct mk_at_chan *ch, struct mk_modem_id *id)
{
    char resp[768];
    memset(id, 0, sizeof *id);
    enum mk_err e = mk_at_simple(ch, "ATI", MK_MODEM_ID_TIMEOUT_MS, resp, sizeof resp, NULL);
    if (mk_modem_io_failure(e))
        return e;
    if (e == MK_OK)
        mk_modem_parse_ati(resp, id);
    if (!id->manufacturer[0] &&
        mk_modem_io_failure(e = mk_modem_query(ch, "AT+CGMI", id->manufacturer,
                                               sizeof id->manufacturer)))
        return e;
    if (!id->model[0] &&
        mk_modem_io_failure(e = mk_modem_query(ch, "AT+CGMM", id->model, sizeof id->model)))
        return e;
    /* AT+CGMR gives the precise firmware build ("LE11B02SIM7600M21-A") where ATI may
     * only say "SIM7600M21-A_V1.1" (seed 001), so it wins when it answers. */
    char rev[sizeof id->revision];
    e = mk_modem_query(ch, "AT+CGMR", rev, sizeof rev);
    if (e != MK_OK && !mk_modem_io_failure(e))
        e = mk_modem_query(ch, "AT+GMR", rev, sizeof rev);
    if (mk_modem_io_failure(e))
        return e;
    if (e == MK_OK)
        memcpy(id->revision, rev, sizeof rev);
    if (!id->imei[0] &&
        mk_modem_io_failure(e = mk_modem_query(ch, "AT+CGSN", id->imei, sizeof id->imei)))
        return e;
    mk_modem_classify(id);
    return (id->model[0] && id->revision[0]) ? MK_OK : MK_E_FORMAT;
}

enum mk_err mk_modem_probe(struct mk_at_chan *ch, const struct mk_modem_id *id,
                           struct mk_modem_caps *caps)
{
    char resp[1024];
    enum mk_err e;
    memset(caps, 0, sizeof *caps);
    caps->bits = mk_modem_family_caps(id->family);
    caps->tls_version_max = -1;
    /* UNVERIFIED which protocol level old SIMCom firmware sends when none can be chosen;
     * A76XX documents 3 (MQTT 3.1) as its default (at-commands.md §1.1), so assume 3. */
    caps->mqtt_version_default = 3;

    if (caps->bits & MK_CAP_MQTT_CMQTT && id->family != MK_FAMILY_A76XX) {
        e = mk_at_simple(ch, "AT+CMQTTACCQ=?", MK_MODEM_ID_TIMEOUT_MS, resp, sizeof resp, NULL);
        if (mk_modem_io_failure(e))
            return e;
        bool choice = false;
        if (e == MK_OK && mk_modem_parse_accq_test(resp, &choice) == MK_OK && choice)
            caps->bits |= MK_CAP_MQTT_VERSION;
        else
            caps->bits &= ~MK_CAP_MQTT_VERSION;
        if (e != MK_OK)
            caps->bits &= ~MK_CAP_MQTT_CMQTT;
    }
    if (caps->bits & MK_CAP_TLS) {
        e = mk_at_simple(ch, "AT+CSSLCFG=?", MK_MODEM_ID_TIMEOUT_MS, resp, sizeof resp, NULL);
        if (mk_modem_io_failure(e))
            return e;
        if (e == MK_OK) {
            caps->tls_version_max = mk_modem_parse_sslversion_max(resp);
            if (caps->tls_version_max >= 0 && caps->tls_version_max < 4)
                caps->bits &= ~MK_CAP_TLS_VERSION_ALL;
        }
    }
    caps->quirk = mk_modem_find_quirk(id);
    if (caps->quirk)
        caps->bits &= ~caps->quirk->lacks;
    return MK_OK;
}
