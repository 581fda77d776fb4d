/*
 * The packet-data bearer: is the module on the network, and is its data connection up?
 *
 * Status: AT+CPIN?, AT+CSQ, AT+CREG?/CGREG?/CEREG?, AT+CPSI?, and per family the data
 * connection: AT+NETOPEN?/AT+IPADDR (SIM7500/SIM7600, S1 §11), AT+CNACT?/AT+CGNAPN
 * (SIM7000, S5 §5.2). Bring-up: AT+CGDCONT=1,"IP","<apn>" + AT+NETOPEN (SIM7500/7600;
 * "+IP ERROR: Network is already opened" counts as up), AT+CNCFG + AT+CNACT=1 (SIM7000).
 * The SIM7600 MQTT service does not need NETOPEN (AT+CMQTTSTART activates the PDP
 * context itself, S1 p.345), the SIM7000 one does (AT+SMCONN needs an active CNACT).
 */
#ifndef MODEMKIT_BEARER_H
#define MODEMKIT_BEARER_H

#include <stdbool.h>
#include <stddef.h>

#include "modemkit/at.h"
#include "modemkit/err.h"
#include "modemkit/modem.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mk_bearer_status {
    char sim[32];           /* "READY", "SIM PIN", the +CME ERROR text, or "" when unknown */
    int rssi;               /* AT+CSQ <rssi> 0..31, 99 = unknown */
    int ber;                /* AT+CSQ <ber>, 99 = unknown */
    int dbm;                /* -113 + 2 * rssi; 0 when unknown */
    int creg, cgreg, cereg; /* <stat> (27.007): 0 no, 1 home, 2 searching, 3 denied,
                               4 unknown, 5 roaming; -1 when not answered */
    char cpsi[160];         /* AT+CPSI? answer without "+CPSI: ", "" when none */
    bool data_up;           /* NETOPEN open / CNACT active / CGACT cid 1 active */
    char ip[48];            /* the module's address when known, else "" */
    char apn[64];           /* APN of cid 1 (AT+CGDCONT?) or the network's (AT+CGNAPN) */
};

/* True when any registration says home (1) or roaming (5). */
bool mk_bearer_registered(const struct mk_bearer_status *st);

/* "home", "roaming", "searching", "denied", "not registered", "unknown", "-" (-1). */
const char *mk_bearer_reg_name(int stat);

/*
 * Reads the status. Commands the module rejects leave their fields unknown; only
 * I/O failures (timeout, hang-up) are returned as errors.
 */
enum mk_err mk_bearer_status(struct mk_at_chan *ch, const struct mk_modem_id *id,
                             struct mk_bearer_status *st);

/*
 * Brings the data connection up (apn NULL or "": keep the configured/network APN) and,
 * when st is not NULL, reads the status afterwards. MK_E_NET when the module reports
 * failure (its number in the trace), MK_E_UNSUPPORTED for families without a known
 * sequence, I/O errors as they come.
 */
enum mk_err mk_bearer_up(struct mk_at_chan *ch, const struct mk_modem_id *id, const char *apn,
                         struct mk_bearer_status *st);

#ifdef __cplusplus
}
#endif

#endif
