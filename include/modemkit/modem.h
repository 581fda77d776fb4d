/*
 * Module identity and capabilities.
 *
 * Identity comes from ATI, AT+CGMI/CGMM/CGMR/CGSN, parsed tolerantly (each vendor
 * formats them differently: "+CGMR: LE11B02SIM7500A" on SIMCom, a bare
 * "SWI9X07H_00.08.07.00 0ce4c1 jenkins ..." on Sierra, "Revision:1529B04SIM7000G" for
 * AT+GMR on SIM7000).
 *
 * Capabilities come from two sources:
 *   - probes by test command: AT+CMQTTACCQ=? shows whether the MQTT version can be
 *     chosen (a fourth group "(3-4)"), AT+CSSLCFG=? shows the TLS version range;
 *   - a quirks table (src/modem/quirks.c) for what no probe reveals, such as whether
 *     AT+CMQTTCONNECT accepts a user name and password. Every entry cites its evidence.
 */
#ifndef MODEMKIT_MODEM_H
#define MODEMKIT_MODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/at.h"
#include "modemkit/err.h"

enum mk_vendor {
    MK_VENDOR_UNKNOWN = 0,
    MK_VENDOR_SIMCOM,
    MK_VENDOR_SIERRA,
    MK_VENDOR_QUECTEL,
};

enum mk_family {
    MK_FAMILY_UNKNOWN = 0,
    MK_FAMILY_SIM7500,
    MK_FAMILY_SIM7600,
    MK_FAMILY_A76XX,
    MK_FAMILY_SIM7000,
    MK_FAMILY_SIM7070, /* SIM7070/SIM7080/SIM7090 */
    MK_FAMILY_RC76XX,
};

struct mk_modem_id {
    char manufacturer[64];
    char model[64];
    char revision[128]; /* firmware revision as AT+CGMR reports it, whole line */
    char imei[32];
    enum mk_vendor vendor;
    enum mk_family family;
};

/* Capability bits. */
#define MK_CAP_MQTT_CMQTT 0x0001u       /* AT+CMQTT* client (SIM7500/7600/A76xx) */
#define MK_CAP_MQTT_SM 0x0002u          /* AT+SM* client (SIM7000/7070) */
#define MK_CAP_MQTT_VERSION 0x0004u     /* MQTT 3.1 or 3.1.1 can be chosen */
#define MK_CAP_MQTT_CREDENTIALS 0x0008u /* CONNECT takes user name and password */
#define MK_CAP_TLS 0x0010u              /* module-side TLS (CSSLCFG contexts) */
#define MK_CAP_TLS_VERSION_ALL 0x0020u  /* CSSLCFG "sslversion" accepts 4 (= all) */
#define MK_CAP_FOTA_CFOTA 0x0040u       /* file into /fota/update.zip, AT+CFOTA=1 */
#define MK_CAP_FOTA_CDELTA 0x0080u      /* file into the cache drive, AT+CDELTA */
#define MK_CAP_FLASH_DOWNLOAD 0x0100u   /* firmware by download mode (Sierra CWE) */
#define MK_CAP_CERT_STORE 0x0200u       /* AT+CCERTDOWN/CCERTLIST/CCERTDELE */

struct mk_quirk {
    const char *model_substr;    /* matched against id.model, NULL = any */
    const char *revision_prefix; /* matched against id.revision */
    uint32_t lacks;              /* MK_CAP_* bits this firmware does not have */
    const char *what;            /* what is missing, in words */
    const char *evidence;        /* where we know it from */
    const char *remedy;          /* what fixes it */
};

struct mk_modem_caps {
    uint32_t bits;               /* MK_CAP_* */
    int tls_version_max;         /* upper bound of CSSLCFG "sslversion", -1 unknown */
    int mqtt_version_default;    /* 3 (3.1) or 4 (3.1.1) when no version is sent */
    const struct mk_quirk *quirk; /* matching quirks entry, NULL if none */
};

/* ---- pure parsing (no I/O) ---- */

/*
 * Strips a vendor's prefix from an identity answer: "+CGMR: X", "+GMR: X",
 * "Revision: X", "Revision:X", "+CGSN: X", "+CGMI: X", "+CGMM: X" all give "X".
 * Returns a pointer into line (not copied) and its length via *len.
 */
const char *mk_modem_strip_prefix(const char *line, size_t *len);

/*
 * Fills the fields found in an ATI (or AT+SIMCOMATI) answer: "Manufacturer:", "Model:",
 * "Revision:", "IMEI:" lines (newline-separated, as mk_at_simple collects them). Fields
 * not present are left unchanged.
 */
void mk_modem_parse_ati(const char *text, struct mk_modem_id *id);

/* Derives vendor and family from manufacturer/model/revision strings. */
void mk_modem_classify(struct mk_modem_id *id);

/* Base capabilities of the family, before probes and quirks. */
uint32_t mk_modem_family_caps(enum mk_family family);

/*
 * Parses the answer to AT+CMQTTACCQ=? ("+CMQTTACCQ: (0-1),(1-128),(0-1),(3-4)").
 * Sets *version_choice when a fourth group allows 4 (MQTT 3.1.1).
 */
enum mk_err mk_modem_parse_accq_test(const char *text, bool *version_choice);

/*
 * Parses the answer to AT+CSSLCFG=?: the upper bound of the "sslversion" value range
 * (e.g. 4 for (0-4)), or -1 when the key is absent.
 */
int mk_modem_parse_sslversion_max(const char *text);

/* The quirks entry for this identity, or NULL. */
const struct mk_quirk *mk_modem_find_quirk(const struct mk_modem_id *id);

/* The whole table (for docs and tests); *n receives its length. */
const struct mk_quirk *mk_modem_quirks(size_t *n);

/* Names for output. */
const char *mk_modem_family_name(enum mk_family f);
const char *mk_modem_vendor_name(enum mk_vendor v);
/* Short name of a single MK_CAP_* bit, e.g. "mqtt-credentials". */
const char *mk_modem_cap_name(uint32_t bit);

/*
 * Prefixes of result codes that modules send on their own (boot, SIM, network, SMS,
 * MQTT, FOTA), NULL-terminated. A tool that prints command answers registers them as
 * URCs so they are never mistaken for part of an answer (a URC wins only when it does
 * not start with the running command's own response prefix).
 */
extern const char *const mk_modem_spontaneous[];

/* ---- over an AT channel ---- */

/*
 * Identifies the module: ATI, then AT+CGMI/AT+CGMM for what ATI lacked, AT+CGMR for
 * the revision (AT+GMR as a fallback) and AT+CGSN for the IMEI. Returns MK_OK when at
 * least model and revision are known; the failing command's error otherwise.
 */
enum mk_err mk_modem_identify(struct mk_at_chan *ch, struct mk_modem_id *id);

/*
 * Probes capabilities for an identified module (test commands, then the quirks table).
 * Probes that the module rejects leave the family default; only I/O failures
 * (timeout, hangup) are returned as errors.
 */
enum mk_err mk_modem_probe(struct mk_at_chan *ch, const struct mk_modem_id *id,
                           struct mk_modem_caps *caps);

#endif
