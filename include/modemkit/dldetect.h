/*
 * Download-mode protocol detector: what is the module on this port speaking, and what
 * kind of target is it? Pure state machine (sans-I/O): the caller feeds received bytes,
 * polls with the current time, and performs the actions it is told (wait, write a probe).
 *
 * Why it exists (seed 004, reference download-mode.md §1.10): qmi-firmware-update listened
 * for a Sahara HELLO, gave up, sent the QDL "SDP" probe, received a perfectly valid 48-byte
 * Sahara HELLO in answer, and threw it away because it only looked for an HDLC frame.
 * This detector:
 *   - classifies every byte received, whatever probe provoked it: a Sahara packet (cmd
 *     1..0x14 whose length field is that command's size, HELLO = 0x30), an HDLC frame
 *     (0x7E-terminated, CRC-16/X-25 correct), Firehose XML ("<?xml" or "<data") or, when
 *     the AT probe is configured, an AT answer ("\r\nOK\r\n" / "\r\nERROR");
 *   - keeps every byte: the session started after detection reads them from
 *     mk_dldetect_bytes() first (from result.offset on), so the HELLO is not lost;
 *   - listens first (libqmi's warning: writing first can make the 0xFF00 switch fail
 *     later, §1.8 b), then provokes: the SDP frame (which made the RC7620 re-send its
 *     HELLO), a Firehose <nop/>, finally an unsolicited Sahara HELLO_RSP (qdl's answer to
 *     a HELLO eaten by the driver, §1.9); the list is configurable;
 *   - tells a Sierra boot-and-hold target (Sahara, switched to Firehose with EXECUTE
 *     0xFF00) from a Qualcomm PBL EDL target (05c6:9008, or a HELLO offering mode 0 =
 *     IMAGE_TX_PENDING: it wants a signed programmer), using the HELLO and an optional
 *     USB VID:PID hint;
 *   - accepts a forced protocol (--protocol), and describes what it found in one line.
 *
 * After probes were sent, a Sahara target may answer later packets with
 * END_IMAGE_TX(INVALID_COMMAND) and re-send HELLO: result.probes_sent tells the session.
 */
#ifndef MODEMKIT_DLDETECT_H
#define MODEMKIT_DLDETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/err.h"
#include "modemkit/sahara.h"

#ifdef __cplusplus
extern "C" {
#endif

enum mk_dl_proto {
    MK_DL_PROTO_NONE = 0,
    MK_DL_PROTO_SAHARA,
    MK_DL_PROTO_QDL, /* HDLC-framed: DLOAD / Sierra QDL (and DIAG replies) */
    MK_DL_PROTO_FIREHOSE,
    MK_DL_PROTO_AT, /* an AT command port answered OK/ERROR: normal (application) mode */
};

enum mk_dl_target {
    MK_DL_TARGET_UNKNOWN = 0,
    MK_DL_TARGET_SIERRA_BOOTHOLD, /* Sahara, command mode; 0xFF00 switch to Firehose */
    MK_DL_TARGET_PBL_EDL,         /* Qualcomm PBL: needs a signed programmer */
    MK_DL_TARGET_RAMDUMP,         /* Sahara memory debug on 05c6:900e: a crash dump */
    MK_DL_TARGET_FIREHOSE,        /* a Firehose programmer is already running */
    MK_DL_TARGET_QDL,             /* Sierra QDL / DMSS DLOAD (9x15, 9x30 families) */
    MK_DL_TARGET_DIAG,            /* a DIAG port: the module is in application mode */
    MK_DL_TARGET_AT,              /* an AT port (only with the AT probe): application mode;
                                     AT!BOOTHOLD puts a Sierra module into download mode */
};

enum mk_dl_probe {
    MK_DL_PROBE_SDP = 1,          /* HDLC 7E 70 00 00 14 46 7E (libqmi's QDL probe) */
    MK_DL_PROBE_FIREHOSE_NOP,     /* <?xml ...?><data><nop /></data> (edl) */
    MK_DL_PROBE_SAHARA_HELLO_RSP, /* HELLO_RSP v2, compatible 1, mode 0 (qdl) */
    MK_DL_PROBE_BYTE,             /* one 0x00 byte (QFirehose pokes a single byte) */
    MK_DL_PROBE_AT,               /* "AT\r": an AT port answers OK; a Sahara target takes it
                                     as an unknown packet and sends a fresh HELLO (as it did
                                     for the SDP frame, seed 004) */
};

#define MK_DL_MAX_PROBES 8

struct mk_dldetect_config {
    uint32_t listen_ms;        /* passive listening before the first probe */
    uint32_t probe_wait_ms;    /* waiting for an answer after each probe */
    uint32_t partial_grace_ms; /* once, extra time when a partial packet is buffered */
    enum mk_dl_probe probes[MK_DL_MAX_PROBES];
    size_t n_probes;           /* 0: never write anything */
    enum mk_dl_proto force;    /* != NONE: no detection, report this protocol */
    uint16_t usb_vid, usb_pid; /* hint from USB discovery; 0 = unknown */
};

/* listen 3000 ms (libqmi waits 2 s + 3 s; we poll the whole time), 2000 ms per probe,
 * 500 ms grace, probes SDP, Firehose NOP, Sahara HELLO_RSP; nothing forced. */
void mk_dldetect_config_default(struct mk_dldetect_config *cfg);

struct mk_dl_result {
    enum mk_dl_proto proto;
    enum mk_dl_target target;
    bool forced;
    size_t offset;     /* where the recognised packet starts in the kept bytes
                          (bytes before it were noise) */
    size_t packet_len; /* length of that packet/frame (0 for Firehose text) */
    unsigned probes_sent;
    enum mk_dl_probe last_probe; /* 0 if none */
    bool have_hello;
    struct mk_sahara_pkt sahara; /* the Sahara packet found (HELLO when have_hello) */
    uint8_t hdlc[8];             /* first payload bytes of the HDLC frame found */
    size_t hdlc_len;
};

enum mk_dl_action {
    MK_DL_WAIT = 0, /* read the port until step->wake_ms, feeding what arrives; poll again */
    MK_DL_WRITE,    /* write step->data/len to the port now, then poll again */
    MK_DL_DONE,     /* detected: see mk_dldetect_result() */
    MK_DL_FAIL,     /* step->err: MK_E_DETECT (nothing recognised after every probe) */
};

struct mk_dl_step {
    enum mk_dl_action action;
    uint32_t wake_ms;
    const uint8_t *data; /* valid until the next poll */
    size_t len;
    enum mk_err err;
};

struct mk_dldetect {
    struct mk_dldetect_config cfg;
    uint8_t *buf; /* every byte received, in order (caller-owned) */
    size_t cap;
    size_t len;
    bool overflow; /* bytes arrived that did not fit */
    int phase;     /* internal */
    uint32_t deadline_ms;
    bool grace_used;
    size_t next_probe;
    uint8_t probe[96];
    size_t probe_len;
    struct mk_dl_result result;
};

/*
 * Start detecting at now_ms. buf/cap (caller-owned, e.g. 4 KiB) keep every byte fed.
 * cfg is copied.
 */
void mk_dldetect_init(struct mk_dldetect *d, const struct mk_dldetect_config *cfg, uint8_t *buf,
                      size_t cap, uint32_t now_ms);

/* Bytes read from the port. MK_E_NOSPC if they did not all fit (what fits is kept; the
 * detector then fails unless what it holds is already recognised). */
enum mk_err mk_dldetect_feed(struct mk_dldetect *d, const uint8_t *data, size_t len);

/* The next action (see enum mk_dl_action). DONE and FAIL are final. */
enum mk_dl_action mk_dldetect_poll(struct mk_dldetect *d, uint32_t now_ms, struct mk_dl_step *step);

static inline const struct mk_dl_result *mk_dldetect_result(const struct mk_dldetect *d)
{
    return &d->result;
}

/* Every byte fed so far (the session consumes them from result.offset before reading
 * the port again). */
static inline void mk_dldetect_bytes(const struct mk_dldetect *d, const uint8_t **data, size_t *len)
{
    *data = d->buf;
    *len = d->len;
}

/*
 * Pure classification of a byte buffer, used by poll (exposed for tests and tools):
 * MK_DONE with *r filled (proto, target, offset, packet), or MK_PENDING when nothing is
 * recognised yet. *partial is set when the bytes look like the start of a packet that is
 * not complete. usb_vid/usb_pid: hint, 0 if unknown.
 */
enum mk_step mk_dldetect_classify(const uint8_t *buf, size_t len, uint16_t usb_vid,
                                  uint16_t usb_pid, struct mk_dl_result *r, bool *partial);

/* One line for the CLI: what was found (or why nothing was) and what it means. */
enum mk_err mk_dldetect_describe(const struct mk_dldetect *d, char *buf, size_t cap);

const char *mk_dl_proto_name(enum mk_dl_proto p);   /* "sahara", "qdl", "firehose", "none" */
const char *mk_dl_target_name(enum mk_dl_target t); /* "Sierra boot-and-hold", ... */
const char *mk_dl_probe_name(enum mk_dl_probe p);   /* "SDP", "Firehose NOP", ... */

#ifdef __cplusplus
}
#endif

#endif
