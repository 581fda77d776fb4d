/*
 * modemsim download mode, shared by dl.c (selection, flash state, packets and faults),
 * dl_sahara.c (Sierra boot-and-hold and PBL Sahara), dl_firehose.c and dl_qdl.c.
 *
 * The targets use the project's codecs (sahara.h, firehose.h, qdl.h, hdlc.h, cwe.h) for
 * the wire format only; their behaviour (what they answer, when, and what they refuse)
 * is modelled here, from reference download-mode.md and seed 004.
 */
#ifndef MODEMSIM_DL_H
#define MODEMSIM_DL_H

#include "sim.h"

#include "modemkit/cwe.h"
#include "modemkit/firehose.h"

enum dl_state {
    DL_OFF = 0,
    DL_SAHARA_WAIT_RSP, /* HELLO sent, waiting for HELLO_RSP */
    DL_SAHARA_CMD,      /* Sierra: command mode (CMD_READY sent) */
    DL_SAHARA_EXEC,     /* Sierra: EXECUTE_RSP(0xFF00) sent, waiting for EXECUTE_DATA */
    DL_EDL_READ,        /* PBL: READ_DATA sent, raw programmer bytes expected */
    DL_EDL_END,         /* PBL: END_IMAGE_TX sent, waiting for DONE */
    DL_FH,              /* Firehose: XML commands */
    DL_FH_RAW,          /* Firehose: <program> data */
    DL_QDL,             /* QDL: HDLC frames and ufwrite headers */
    DL_QDL_RAW,         /* QDL: ufwrite data */
};

#define DL_MAX_SEGS 16

struct sim_dl {
    enum sim_dl_kind kind;
    enum dl_state st;
    struct sim_buf in; /* host bytes not parsed yet (Sahara, QDL) */
    bool host_spoke;   /* the host wrote something since the port appeared */
    uint64_t raw_left; /* raw bytes still expected (programmer, program data, ufwrite) */
    uint64_t raw_seen; /* raw bytes since the last packet was counted */
    /* PBL programmer fetch: ELF header, program headers, then the segments, last first */
    struct sim_buf prog;
    uint64_t read_off, read_len; /* the READ_DATA in progress */
    int edl_phase;
    uint32_t seg_off[DL_MAX_SEGS], seg_len[DL_MAX_SEGS];
    int nseg, seg_i;
    uint32_t seg_pos;
    /* Firehose */
    struct mk_firehose_rx rx;
    char rxbuf[16384];
    bool junk;          /* bytes that are no XML arrived (Sierra's trailing zero block) */
    uint64_t payload;   /* MaxPayloadSizeToTargetInBytes in force */
    struct sim_buf data; /* <program> / QDL image being received */
    uint64_t expect;
    char start[48], label[48];
    unsigned lun;
    char pending_rev[160]; /* EDL: revision found in a written partition, applied at reset */
    /* QDL */
    uint16_t seq;
    uint32_t qdl_len, qdl_got, chunk_left;
};

extern struct sim_dl sim_dl;

/* One host packet arrived (what: for -v). True when a power cut fired: stop at once. */
bool dl_packet(struct sim *s, const char *what);
/* n raw bytes arrived: one packet per max-payload bytes. True when a cut fired. */
bool dl_raw(struct sim *s, size_t n);
/* The flash now holds a partial image: boot download mode until it is complete. */
void dl_mark_incomplete(struct sim *s);
/* A complete image is on flash: normal boots again, the boot-loop fault is cured. */
void dl_mark_complete(struct sim *s);
/*
 * Check a received CWE image (CRCs, product): 0 and *info filled, or -1 with the reason
 * in why. n may include zero padding after the image.
 */
int dl_check_cwe(struct sim *s, const uint8_t *p, size_t n, struct mk_cwe_info *info, char *why,
                 size_t cap);
/* Write a checked CWE image: firmware version -> revision, carrier/config -> !IMPREF. */
void dl_apply_cwe(struct sim *s, const uint8_t *p, size_t n, const struct mk_cwe_info *info);

void dl_sahara_enter(struct sim *s);
void dl_sahara_input(struct sim *s, const uint8_t *p, size_t n);
void dl_fh_start(struct sim *s);
void dl_fh_input(struct sim *s, const uint8_t *p, size_t n);
void dl_qdl_enter(struct sim *s);
void dl_qdl_input(struct sim *s, const uint8_t *p, size_t n);

#endif
