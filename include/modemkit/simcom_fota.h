/*
 * SIMCom FOTA methods for the update job (include/modemkit/fota.h):
 *
 * cfota  SIM7000/SIM7070 (S7 = SIM7000 FOTA Application Note V1.01, S10, S9 §5.2.50):
 *        the delta goes to /fota/update.zip ("Local delta package name must be
 *        update.zip, otherwise cause to upgrade is failed", S7 §5.2) with AT+CFSWFILE
 *        chunks of at most 10240 bytes (or the module fetches it with AT+HTTPTOFS),
 *        AT+CFOTA=1 sets the update flag and resets the module, which reports
 *        +CFOTA: "Start to update", "Updating",<n>, "Update successfully, please wait
 *        for reset" / "Update failed, please wait for reset", resets again, and answers
 *        AT+CFOTA? with 6 (success) or 7 (failed); AT+CFOTA=0 cleans the flag (8).
 *
 * cdelta SIM7500/SIM7600 (S1 §19.2.8, S3 = SIM7500/SIM7600 FOTA Application Note V3.00):
 *        the delta goes to the cache drive F: (/cache) with AT+CFTRANRX chunks, then
 *        AT+CDELTA="<path>" writes the update flag and reboots into recovery mode, which
 *        applies it and boots the new firmware. UNVERIFIED (at-commands.md §4.2, §9):
 *        that AT+CDELTA accepts "F:/<file>" delivered by AT+CFTRANRX on every revision
 *        (the app note only shows AT+COTA downloads and "/cache/..." paths), the
 *        chunked offset form of AT+CFTRANRX, and that the module consumes the delta file
 *        when it has run the update (modemkit uses that to tell "never started" from
 *        "ran and failed" after a crash, because CDELTA has no status query).
 */
#ifndef MODEMKIT_SIMCOM_FOTA_H
#define MODEMKIT_SIMCOM_FOTA_H

#include "modemkit/fota.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MK_SIMCOM_CFOTA_FILE   "/fota/update.zip"
#define MK_SIMCOM_CDELTA_FILE  "F:/update.zip"
#define MK_SIMCOM_CDELTA_CHUNK 32768u /* per AT+CFTRANRX: resume granularity vs overhead */

/* The operations of a method, or NULL for MK_FOTA_METHOD_NONE. Static, never freed. */
const struct mk_fota_target_ops *mk_simcom_fota_ops(enum mk_fota_method method);

/* Method a module family supports (SIM7000/SIM7070 cfota, SIM7500/SIM7600 cdelta). */
enum mk_fota_method mk_simcom_fota_method_for(enum mk_family family);

/*
 * +CFOTA URC parser (S7 §5.3): MK_FOTA_URC_START for "Start to update", _PROGRESS with
 * *percent for "Updating",<n>, _SUCCESS for "Update successfully...", _FAILED for
 * "Update failed...", _OTHER for anything else (a read answer "+CFOTA: 6" included).
 */
int mk_simcom_cfota_parse_urc(const char *line, size_t len, int *percent);

#ifdef __cplusplus
}
#endif

#endif
