/*
 * Firmware quirks that no test command reveals. Keyed by model substring and firmware
 * revision prefix (as AT+CGMR prints it). Each entry says what is missing, where we know
 * it from, and what fixes it; `modemctl info` prints all three.
 *
 * Add an entry only with evidence (a manual, a field report with the exact revision).
 */
#include <string.h>

#include "modemkit/modem.h"

static const struct mk_quirk mk_quirks[] = {
    {
        .model_substr = NULL,
        .revision_prefix = "LE11B01SIM7600M21-A",
        .lacks = MK_CAP_MQTT_CREDENTIALS | MK_CAP_MQTT_VERSION,
        .what = "AT+CMQTTCONNECT takes no user name/password and AT+CMQTTACCQ cannot "
                "select the MQTT version (MQTT 3.1 only)",
        .evidence = "seed 000: SIM7600SA miniPCIe, +GMR: LE11B01SIM7600M21-A; the same "
                    "commands work on the SIM7600SA-H",
        .remedy = "update the module firmware (the seed-000 user went to LE11B14SIM7600M22); "
                  "see 'modemctl fota apply'",
    },
    {
        .model_substr = NULL,
        .revision_prefix = "LE11B02SIM7500A",
        .lacks = MK_CAP_TLS_VERSION_ALL,
        .what = "AT+CSSLCFG=\"sslversion\",<ctx>,4 answers ERROR",
        .evidence = "seed 001 (Freematics forum F1): SIM7600A board with +CGMR: LE11B02SIM7500A; "
                    "worked after updating to LE11B03SIM7600A-H",
        .remedy = "leave sslversion at its default (modemkit does unless asked) or update the "
                  "firmware; see 'modemctl fota apply'",
    },
};

const struct mk_quirk *mk_modem_quirks(size_t *n)
{
    *n = sizeof mk_quirks / sizeof mk_quirks[0];
    return mk_quirks;
}

const struct mk_quirk *mk_modem_find_quirk(const struct mk_modem_id *id)
{
    for (size_t i = 0; i < sizeof mk_quirks / sizeof mk_quirks[0]; i++) {
        const struct mk_quirk *q = &mk_quirks[i];
        if (q->model_substr && !strstr(id->model, q->model_substr))
            continue;
        if (strncmp(id->revision, q->revision_prefix, strlen(q->revision_prefix)) == 0)
            return q;
    }
    return NULL;
}
