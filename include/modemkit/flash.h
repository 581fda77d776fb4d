/*
 * Download-mode flashing sessions: the host side of Sahara, Firehose and Sierra QDL,
 * driving the pure codecs (sahara.h, firehose.h, qdl.h, hdlc.h, cwe.h, dldetect.h) over
 * any byte stream (struct mk_io: a tty, a pty, TCP, a UART) with an injected clock.
 *
 * Portable: no malloc, no printf, no OS calls. Files (CWE images, a programmer, partition
 * images) come through struct mk_flash_file read callbacks, so nothing needs to fit in
 * memory: data is streamed through the caller's work buffer. Every wait has its own,
 * configurable deadline (struct mk_flash_config); nothing waits forever. Progress and the
 * target's log lines come back through callbacks.
 *
 * Flows (reference download-mode.md; the section is cited next to each step in flash.c):
 *
 *   mk_flash_detect()   listens, then provokes, and classifies what the port speaks
 *                       (dldetect.h). Every byte received during detection is kept and
 *                       fed to the session first: a HELLO provoked by a probe is never
 *                       dropped (qmi-firmware-update did drop it, seed 004).
 *   mk_flash_sierra()   Sierra boot-and-hold (9x07/9x50/SDX55): Sahara HELLO ->
 *                       HELLO_RSP(mode 3) -> CMD_READY -> EXECUTE 0xFF00 -> EXECUTE_RSP ->
 *                       EXECUTE_DATA -> "confirmed" -> Firehose: NOP, configure (the NAK
 *                       names the real max payload), getStorageInfo, then per CWE/SPK/NVU
 *                       file: <program filename="spkg.cwe" start_sector="-1">, the whole
 *                       file in payload-sized blocks padded to a sector plus one 512-byte
 *                       zero block, the long wait for ACK rawmode="false"; power reset.
 *                       The NAK the zero block provokes on the next command is retried;
 *                       every other NAK and a missing response are errors.
 *   mk_flash_qdl()      Sierra QDL (9x15/9x30): SDP, HELLO versions 4/5/6, per file
 *                       ufopen with the 400-byte CWE header, 1 MiB ufwrite chunks (each
 *                       acked with its sequence number; the last may take 120 s),
 *                       ufclose; reset.
 *   mk_flash_edl()      Qualcomm PBL EDL (05c6:9008): Sahara mode 0 serving READ_DATA /
 *                       READ_DATA_64 from the programmer (offsets in any order),
 *                       END_IMAGE_TX status check, DONE/DONE_RESP, then Firehose
 *                       configure, every <program> of the package, the DISK <patch>es,
 *                       power reset.
 *
 * Usage:
 *   uint8_t work[64 * 1024];
 *   struct mk_flash_config cfg;
 *   mk_flash_config_default(&cfg);
 *   cfg.buf = work; cfg.cap = sizeof work;
 *   cfg.cb.progress = show; cfg.cb.ctx = ui;
 *   struct mk_flash fl;
 *   mk_flash_init(&fl, &port->io, clock, &cfg);
 *   const struct mk_dl_result *r;
 *   err = mk_flash_detect(&fl, &r);          (optional: the flows detect if needed)
 *   err = mk_flash_sierra(&fl, files, nfiles);
 *   if (err) show(mk_flash_message(&fl));
 * After a successful flow the module resets; the caller waits for it to come back in
 * normal mode and checks the version (mk_flash_version_match()).
 */
#ifndef MODEMKIT_FLASH_H
#define MODEMKIT_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/clock.h"
#include "modemkit/dldetect.h"
#include "modemkit/err.h"
#include "modemkit/firehose.h"
#include "modemkit/hdlc.h"
#include "modemkit/io.h"
#include "modemkit/sahara.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A file to send: read exactly len bytes at offset into buf (MK_OK or an error such as
 * MK_E_IO). The session never asks for bytes at or past size. name is for messages. */
struct mk_flash_file {
    enum mk_err (*read)(void *ctx, uint64_t offset, uint8_t *buf, size_t len);
    void *ctx;
    uint64_t size;
    const char *name;
};

enum mk_flash_stage {
    MK_FLASH_STAGE_DETECT = 0, /* listening / probing */
    MK_FLASH_STAGE_HANDSHAKE,  /* Sahara or QDL hello, mode switch */
    MK_FLASH_STAGE_PROGRAMMER, /* uploading the EDL programmer */
    MK_FLASH_STAGE_CONFIGURE,  /* Firehose NOP / configure / storage info */
    MK_FLASH_STAGE_WRITE,      /* streaming a file */
    MK_FLASH_STAGE_FINALIZE,   /* all bytes sent, waiting for the target's verdict */
    MK_FLASH_STAGE_PATCH,      /* EDL patches */
    MK_FLASH_STAGE_RESET,      /* asking the target to reboot */
    MK_FLASH_STAGE_DONE,
};

/* Passed to the progress callback at every stage change and after every block. */
struct mk_flash_progress {
    enum mk_flash_stage stage;
    const char *file;               /* file being sent (WRITE, FINALIZE, PROGRAMMER), else NULL */
    unsigned index, count;          /* its position among the files (0-based) */
    uint64_t file_done, file_total; /* bytes of this file sent / to send */
    uint64_t done, total;           /* bytes of all files */
    uint64_t now_ms;                /* session clock */
};

enum mk_flash_note {
    MK_FLASH_NOTE_INFO = 0,   /* what the session is doing or decided */
    MK_FLASH_NOTE_TARGET_LOG, /* a Firehose <log> line from the target */
    MK_FLASH_NOTE_WARN,       /* tolerated trouble (a retry, an unexpected packet) */
};

struct mk_flash_callbacks {
    void (*progress)(void *ctx, const struct mk_flash_progress *p);     /* may be NULL */
    void (*note)(void *ctx, enum mk_flash_note kind, const char *text); /* may be NULL */
    void *ctx;
};

struct mk_flash_config {
    /* detection (dldetect.h) */
    uint32_t hello_wait_ms;    /* passive listening before the first probe; 3000 */
    uint32_t probe_wait_ms;    /* waiting for an answer to each probe; 2000 */
    bool probe_at;             /* probe with "AT\r" first: an AT port is then reported as
                                  MK_DL_TARGET_AT instead of failing detection; false */
    enum mk_dl_proto force;    /* --protocol: MK_DL_PROTO_NONE = detect */
    uint16_t usb_vid, usb_pid; /* hint from USB discovery, 0 = unknown */
    /* waits */
    uint32_t cmd_timeout_ms;    /* each Sahara packet, Firehose response, QDL reply;
                                   10000 (libqmi's Firehose init and program timeouts) */
    uint32_t final_wait_ms;     /* ACK rawmode="false" after a file: 300000 (libqmi, Sierra
                                   "may take several minutes", §2.6) */
    uint32_t qdl_final_wait_ms; /* the ack of the last QDL chunk: 120000 (libqmi, §3.4) */
    uint32_t write_timeout_ms;  /* the port must take each block within this: 30000 */
    uint32_t zero_nak_grace_ms; /* after the zero-block NAK, time to wait for a late ACK
                                   before the command is re-sent: 500 */
    unsigned retries;           /* Sahara handshake restarts, re-sends after the zero-block
                                   NAK, QDL hello versions: 3 */
    /* Firehose */
    uint64_t max_payload;     /* MaxPayloadSizeToTargetInBytes asked for: 1048576 */
    const char *memory_name;  /* EDL configure MemoryName; NULL: "eMMC" */
    uint32_t sector_size;     /* CWE <program> sector until the target's storage info
                                 says otherwise: 4096 (libqmi's default, §2.5) */
    uint32_t pages_per_block; /* CWE <program> PAGES_PER_BLOCK default: 64 */
    /* images */
    const char *expect_product; /* CWE product the target needs ("9X07"); files built
                                   for another product are refused before anything is
                                   sent (MK_E_IMAGE_PRODUCT). NULL: no check */
    bool verify_images;         /* check every CWE CRC before sending (a full read of
                                   each file); true */
    uint32_t qdl_chunk;         /* QDL ufwrite chunk: 1 MiB (libqmi) */
    /* the caller's work buffer: file blocks pass through it (>= 4096 bytes; larger
     * buffers mean fewer, larger writes) */
    uint8_t *buf;
    size_t cap;
    struct mk_flash_callbacks cb;
};

/* The defaults listed above; buf/cap must still be set by the caller. */
void mk_flash_config_default(struct mk_flash_config *cfg);

/* One step of an EDL package (rawprogram*.xml / patch*.xml, as QFIL packages have). */
enum mk_flash_op_kind {
    MK_FLASH_OP_PROGRAM = 1, /* region.filename is sent as the file attribute */
    MK_FLASH_OP_PATCH,       /* only patches with filename "DISK" go to the target (qdl) */
};
struct mk_flash_op {
    enum mk_flash_op_kind kind;
    struct mk_firehose_region region; /* PROGRAM: num_sectors 0 = from the file size;
                                         otherwise the file must fit in it */
    struct mk_flash_file file;        /* PROGRAM */
    struct mk_firehose_patch patch;   /* PATCH */
};

#define MK_FLASH_MSG_CAP 320
#define MK_FLASH_IO_CAP  4096

/* Session state. Caller-owned; no pointers into it escape except through callbacks. */
struct mk_flash {
    const struct mk_io *io;
    const struct mk_clock *clock;
    struct mk_flash_config cfg;
    /* detection */
    struct mk_dldetect det;
    uint8_t det_buf[MK_FLASH_IO_CAP];
    bool detected;
    /* bytes received and not consumed yet (detection leftovers first) */
    uint8_t in[MK_FLASH_IO_CAP];
    size_t in_head, in_len;
    bool hangup;
    /* protocol state */
    struct mk_sahara_stream ss;
    struct mk_firehose_rx rx;
    char rx_buf[MK_FLASH_IO_CAP];
    struct mk_hdlc_decoder hdlc;
    uint8_t hdlc_buf[1024];
    uint64_t payload;     /* negotiated Firehose max payload */
    uint32_t sector_size; /* from the storage info, else cfg.sector_size */
    uint32_t pages_per_block;
    bool zero_block_sent; /* the next Firehose command may be NAKed once */
    /* progress */
    struct mk_flash_progress prog;
    uint64_t last_progress_ms;
    /* diagnostics */
    char last_log[160];         /* last Firehose log line */
    char msg[MK_FLASH_MSG_CAP]; /* what went wrong (or what was done), one line */
};

/* Prepare a session on io. cfg is copied; cfg->buf must stay valid. */
void mk_flash_init(struct mk_flash *fl, const struct mk_io *io, const struct mk_clock *clock,
                   const struct mk_flash_config *cfg);

/*
 * Detect the protocol and the kind of target (dldetect.h). *out (may be NULL) points into
 * fl and stays valid. MK_OK, MK_E_DETECT (nothing recognised; mk_flash_message() says
 * what was seen), MK_E_HANGUP (the port went away: a reboot loop looks like this) or an
 * io error. Calling it again returns the first result.
 */
enum mk_err mk_flash_detect(struct mk_flash *fl, const struct mk_dl_result **out);

/* One line: what detection found (mk_dldetect_describe). */
enum mk_err mk_flash_describe(const struct mk_flash *fl, char *buf, size_t cap);

/*
 * Sierra boot-and-hold flow (see the file comment) for n CWE files, in order. Detects
 * first if needed; a target already running Firehose skips the Sahara part.
 * Errors: MK_E_IMAGE / MK_E_IMAGE_CRC / MK_E_IMAGE_PRODUCT before anything is sent;
 * MK_E_SAHARA (END_IMAGE_TX with an error status), MK_E_TIMEOUT (a Sahara reply missing),
 * MK_E_FIREHOSE_NAK (a NAK, or a Firehose response missing), MK_E_PROTO, MK_E_HANGUP,
 * MK_E_DETECT. mk_flash_message() explains, quoting the target's last log line.
 */
enum mk_err mk_flash_sierra(struct mk_flash *fl, const struct mk_flash_file *files, size_t n);

/* Sierra QDL flow for n CWE files. Errors as above, MK_E_QDL for a QDL error reply or a
 * bad status/sequence. */
enum mk_err mk_flash_qdl(struct mk_flash *fl, const struct mk_flash_file *files, size_t n);

/*
 * PBL EDL flow: upload programmer (MK_E_EDL_PROGRAMMER if NULL), then the ops in order,
 * programs first as given, patches where they appear. Errors as mk_flash_sierra().
 */
enum mk_err mk_flash_edl(struct mk_flash *fl, const struct mk_flash_file *programmer,
                         const struct mk_flash_op *ops, size_t n);

/* The last explanation ("" if none). Valid until the next call on fl. */
static inline const char *mk_flash_message(const struct mk_flash *fl)
{
    return fl->msg;
}

/*
 * True when the revision string reported by the module (AT+CGMR, "SWI9X07H_00.08.24.02
 * f90cbd jenkins ...", or AT!IMPREF's "00.08.24.02") carries the firmware version fw
 * ("00.08.24.02") as a whole token (not inside a longer number).
 */
bool mk_flash_version_match(const char *reported, const char *fw);

const char *mk_flash_stage_name(enum mk_flash_stage stage); /* "write", ... */

#ifdef __cplusplus
}
#endif

#endif
