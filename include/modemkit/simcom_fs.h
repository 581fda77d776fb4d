/*
 * SIMCom module file systems over AT.
 *
 * SIM7000/SIM7070 "CFS" commands (S5 = SIM7000 AT Command Manual V1.06 §15, S8 = SIM7000
 * FS Application Note V1.01, S7 = SIM7000 FOTA Application Note V1.01 §5.2.3): every
 * operation is bracketed by AT+CFSINIT ... AT+CFSTERM; files live in four directories
 * chosen by an index (0 /custapp/, 1 /fota/, 2 /datatx/, 3 /customer/); AT+CFSWFILE
 * writes at most 10240 bytes per call (mode 0 from the start, 1 appended) after a
 * "DOWNLOAD" line, and the bytes must arrive within <input_time> (at most 10000 ms).
 *
 * SIM7500/SIM7600 "FS" commands (S1 = SIM7500/SIM7600 AT Command Manual V3.00 §20):
 * drives C: (local) and F: (cache, /cache), AT+FSCD/FSLS/FSDEL/FSATTRI/FSMEM, and
 * AT+CFTRANRX="<full path>",<len> with a ">" prompt for host-to-module transfers,
 * AT+CFTRANTX for the way back.
 *
 * All functions are blocking over a synced channel (echo off) and return the channel's
 * error: MK_E_HANGUP when the port went away, MK_E_AT_ERROR/MK_E_AT_CME when the module
 * refused (res->cme, when given, carries the code), MK_E_TIMEOUT.
 */
#ifndef MODEMKIT_SIMCOM_FS_H
#define MODEMKIT_SIMCOM_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/at.h"
#include "modemkit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SIM7000/SIM7070: AT+CFS* ---- */

#define MK_SIMCOM_CFS_MAX_WRITE    10240u /* AT+CFSWFILE <size> upper bound (S5 §15) */
#define MK_SIMCOM_CFS_MAX_INPUT_MS 10000u /* AT+CFSWFILE <input_time> upper bound */
#define MK_SIMCOM_CFS_MIN_INPUT_MS 100u
#define MK_SIMCOM_CFS_NAME_MAX     50u /* file name length (S5; SIM7070 allows 230) */

/*
 * "/fota/update.zip" or "fota/update.zip" → index 1 and a pointer to "update.zip" inside
 * path. MK_E_INVAL for another directory, a missing or too long name, or a name with
 * '/' or '"'.
 */
enum mk_err mk_simcom_cfs_split(const char *path, int *index, const char **name);
/* Directory of an index ("/custapp/" ...), or NULL. */
const char *mk_simcom_cfs_dir(int index);

/* AT+CFSINIT. If the module refuses (a previous host left it open), AT+CFSTERM and
 * AT+CFSINIT again: the buffer is ours afterwards either way. */
enum mk_err mk_simcom_cfs_init(struct mk_at_chan *ch);
/* AT+CFSTERM. */
enum mk_err mk_simcom_cfs_term(struct mk_at_chan *ch);

/*
 * The <input_time> to ask for when writing len bytes at line_rate_bps (0: 115200):
 * twice the line time plus one second, within [100, 10000] ms. MK_E_INVAL from the
 * write when even 10 s cannot carry len bytes at that rate.
 */
uint32_t mk_simcom_cfs_input_ms(size_t len, uint32_t line_rate_bps);

/*
 * AT+CFSWFILE=<index>,"<name>",<append?1:0>,<len>,<input_ms>, waits for DOWNLOAD,
 * sends the len bytes, waits for OK. len 1..10240.
 */
enum mk_err mk_simcom_cfs_write(struct mk_at_chan *ch, int index, const char *name, bool append,
                                const uint8_t *data, size_t len, uint32_t line_rate_bps);

/* AT+CFSRFILE=<index>,"<name>",1,<len>,<pos>: len bytes at pos into buf. *got receives
 * how many the module sent (fewer at the end of the file). */
enum mk_err mk_simcom_cfs_read(struct mk_at_chan *ch, int index, const char *name, uint64_t pos,
                               uint8_t *buf, size_t len, size_t *got);

/* AT+CFSGFIS=<index>,"<name>" → size. MK_E_NOENT when the module answers ERROR (no
 * such file). */
enum mk_err mk_simcom_cfs_size(struct mk_at_chan *ch, int index, const char *name, uint64_t *size);

/* AT+CFSGFRS? → free bytes. */
enum mk_err mk_simcom_cfs_free(struct mk_at_chan *ch, uint64_t *bytes);

/* AT+CFSDFILE=<index>,"<name>". MK_E_NOENT when the module answers ERROR. */
enum mk_err mk_simcom_cfs_delete(struct mk_at_chan *ch, int index, const char *name);

/* Brings the SIM7000 application bearer up when it is not (AT+CNACT? then AT+CNACT=1,
 * S7 §4; the module answers "+APP PDP: ACTIVE"). */
enum mk_err mk_simcom_cfs_bearer_up(struct mk_at_chan *ch);

/*
 * AT+HTTPTOFS="<url>","<path>",<timeout_s> (S5 §9.2.14, S7 §5.2.1): the module
 * downloads url into path itself. OK first, then "+HTTPTOFS: <status>,<len>" within
 * timeout_ms. *http_status and *len from that URC (600.. are module errors: 601
 * network, 603 DNS, ...). MK_OK only for HTTP 200.
 */
enum mk_err mk_simcom_cfs_http_to_fs(struct mk_at_chan *ch, const char *url, const char *path,
                                     uint32_t timeout_ms, int *http_status, uint64_t *len);

/* ---- SIM7500/SIM7600: AT+FS*, AT+CFTRANRX/TX ---- */

/*
 * Splits "F:/update.zip" into drive letter 'F', directory "F:/" (copied into dir, cap
 * >= 4) and the name. MK_E_INVAL for a path without "X:/" or with sub-directories
 * deeper than the drive root (modemkit only uses drive roots).
 */
enum mk_err mk_simcom_fs_split(const char *path, char *drive, char *dir, size_t dir_cap,
                               const char **name);

/*
 * AT+CFTRANRX="<path>",<len> (S1 §20) → ">" → len bytes → OK. With location !=
 * MK_SIMCOM_FS_NEW the data is written at that offset of an existing file:
 * AT+CFTRANRX="<path>",<len>,100,<location> (the third field is reserved and sent as
 * 100). UNVERIFIED: S1 documents only the first form; the offset form is the one public
 * A76xx integrations use, and resumable transfers need it (at-commands.md §4.2, §9: to
 * be checked on SIM7600 hardware). The module does not overwrite an existing file with
 * the first form (a field observation in public SIM7600 code): delete it first.
 */
#define MK_SIMCOM_FS_NEW UINT64_MAX
enum mk_err mk_simcom_fs_put(struct mk_at_chan *ch, const char *path, uint64_t location,
                             const uint8_t *data, size_t len, uint32_t line_rate_bps);

/* AT+CFTRANTX="<path>",<location>,<len> → "+CFTRANTX: DATA,<n>" blocks of raw bytes,
 * then "+CFTRANTX: 0" and OK. *got receives the bytes delivered. */
enum mk_err mk_simcom_fs_get(struct mk_at_chan *ch, const char *path, uint64_t location,
                             uint8_t *buf, size_t len, size_t *got);

/* AT+FSCD=<dir> ("C:/", "F:/"). */
enum mk_err mk_simcom_fs_cd(struct mk_at_chan *ch, const char *dir);

/* AT+FSCD=<dir>, then AT+FSATTRI=<name> → "+FSATTRI: <size>,<date>". MK_E_NOENT when
 * the module answers ERROR. */
enum mk_err mk_simcom_fs_size(struct mk_at_chan *ch, const char *path, uint64_t *size);

/* AT+FSCD=<dir>, then AT+FSDEL=<name>. MK_E_NOENT when the module answers ERROR. */
enum mk_err mk_simcom_fs_delete(struct mk_at_chan *ch, const char *path);

/*
 * AT+FSMEM → total and used bytes of drive ('C', 'F'). The answer lists drives as
 * "X:(<total>,<used>)"; when the wanted drive is not listed and exactly one is, that one
 * is taken (UNVERIFIED whether FSMEM reports every drive or the current one: S1 shows
 * only "C:(...)"; modemkit changes to the drive first). MK_E_FORMAT when nothing fits.
 */
enum mk_err mk_simcom_fs_mem(struct mk_at_chan *ch, char drive, uint64_t *total, uint64_t *used);

/* AT+FSCD=<dir>, AT+FSLS: calls cb for each sub-directory and file name. */
enum mk_err mk_simcom_fs_list(struct mk_at_chan *ch, const char *dir,
                              void (*cb)(void *user, const char *name, bool is_dir), void *user);

/* Parsers (pure, for tests): "+FSMEM: C:(11348480,2441216),F:(...)" and
 * "+FSATTRI: 1024,2024/01/01 00:00:00". */
enum mk_err mk_simcom_fs_parse_mem(const char *text, char drive, uint64_t *total, uint64_t *used);
enum mk_err mk_simcom_fs_parse_attri(const char *text, uint64_t *size);

#ifdef __cplusplus
}
#endif

#endif
