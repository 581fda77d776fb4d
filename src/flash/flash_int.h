/* Internal API shared by the flashing sessions (flash.c, flash_qdl.c). */
#ifndef MODEMKIT_FLASH_INT_H
#define MODEMKIT_FLASH_INT_H

#include "modemkit/flash.h"
#include "modemkit/str.h"

uint64_t fl_now(const struct mk_flash *fl);
/* Deadline ms from now. */
uint64_t fl_after(const struct mk_flash *fl, uint32_t ms);

/* Make sure the input queue holds at least one byte, reading the port until deadline.
 * MK_OK, MK_E_TIMEOUT, MK_E_HANGUP or the io's error. */
enum mk_err fl_fill(struct mk_flash *fl, uint64_t deadline);
/* One non-blocking read into an empty queue (bytes that arrived while streaming). */
enum mk_err fl_poll(struct mk_flash *fl);
/* Write all of buf within cfg.write_timeout_ms. Sets fl->msg on failure. */
enum mk_err fl_write(struct mk_flash *fl, const void *buf, size_t len, const char *what);

void fl_note(struct mk_flash *fl, enum mk_flash_note kind, const char *text);
/* Progress: stage change (always reported) or bytes (rate-limited to every 100 ms unless
 * force). */
void fl_progress(struct mk_flash *fl, enum mk_flash_stage stage, bool force);

/* Start fl->msg; the caller appends with mk_sb_*. */
void fl_msg(struct mk_flash *fl, struct mk_sb *sb);
/* "what: reason" into fl->msg for a wait that ended with err. */
void fl_msg_wait(struct mk_flash *fl, enum mk_err err, const char *what, uint32_t ms);

/* Read the 400-byte top-level header of a CWE file into fl->cfg.buf, check it (and, with
 * cfg.verify_images, every CRC) and cfg.expect_product. */
enum mk_err fl_check_cwe(struct mk_flash *fl, const struct mk_flash_file *f);

/* Send bytes [off, off+len) of f in pieces of at most `piece` bytes through cfg.buf
 * (reads past the end of the file are zeros: sector padding), reporting progress. With
 * early != NULL (Firehose), a response that arrives before all bytes are out (a target
 * that NAKs a bad header at once) stops the transfer: early->done is then set. */
enum mk_err fl_send_file(struct mk_flash *fl, const struct mk_flash_file *f, uint64_t off,
                         uint64_t len, uint64_t piece, struct mk_firehose_txn *early);

#endif
