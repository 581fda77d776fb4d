/*
 * An in-process download-mode target for session unit tests: a struct mk_io whose far end
 * is a small Sierra boot-and-hold (Sahara + 0xFF00 + Firehose), PBL EDL (Sahara mode 0 +
 * Firehose) or Sierra QDL responder built on the codecs, on a virtual clock.
 *
 * Host writes are processed at once; replies are queued (optionally delayed) and read
 * back in random pieces of 1..max_chunk bytes. The wait op never sleeps: it moves the
 * virtual clock to the next due reply, or by the whole timeout when none is due, so a
 * silent target makes every session wait expire instantly in real time.
 *
 * Knobs select the misbehaviour under test (NAKs, silence at a given step, wrong
 * sequence numbers, the NAK provoked by Sierra's trailing zero block); records say what
 * reached the target (commands, data bytes, READ_DATA served).
 */
#ifndef MK_TEST_FAKE_TARGET_H
#define MK_TEST_FAKE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/clock.h"
#include "modemkit/firehose.h"
#include "modemkit/io.h"

enum ft_kind { FT_SIERRA, FT_EDL, FT_QDL };

/* Where a silent target stops answering (FT_SILENT_NONE: never). */
enum ft_silent {
    FT_SILENT_NONE = 0,
    FT_SILENT_HELLO,     /* never sends HELLO, not even when provoked */
    FT_SILENT_CMD_READY, /* ignores HELLO_RSP */
    FT_SILENT_EXEC_RSP,  /* ignores EXECUTE */
    FT_SILENT_CONFIRM,   /* ignores EXECUTE_DATA */
    FT_SILENT_READ,      /* EDL: never asks for programmer data after HELLO_RSP */
    FT_SILENT_NOP,       /* Firehose commands, by name */
    FT_SILENT_CONFIGURE,
    FT_SILENT_STORAGE,
    FT_SILENT_PROGRAM, /* no rawmode ACK */
    FT_SILENT_FINAL,   /* no final ACK after the data */
    FT_SILENT_POWER,
    FT_SILENT_QDL_HELLO,
    FT_SILENT_QDL_OPEN,
    FT_SILENT_QDL_LAST_ACK, /* no ack for the last chunk */
};

enum ft_zero_nak {
    FT_ZERO_NAK_NONE = 0, /* the trailing zero block is ignored */
    FT_ZERO_NAK_NEXT,     /* the next command is NAKed and discarded (libqmi's case) */
    FT_ZERO_NAK_AT_ONCE,  /* a NAK goes out as soon as the junk arrives */
};

struct ft_seg {
    uint64_t due_ms;
    uint8_t *p;
    size_t len, off;
};

struct ft {
    struct mk_io io;
    struct mk_clock clock;
    /* knobs */
    enum ft_kind kind;
    bool initial_hello; /* send HELLO at start (it may also be "lost") */
    bool restart_once;  /* first HELLO_RSP answered END_IMAGE_TX(INVALID_COMMAND)+HELLO */
    enum ft_silent silent;
    enum ft_zero_nak zero_nak;
    const char *nak_cmd;       /* Firehose command (tag) to NAK, e.g. "getStorageInfo" */
    bool nak_final;            /* NAK after the data */
    const char *product;       /* CWE product the target accepts; NULL: any */
    uint32_t max_payload;      /* named in the configure NAK; default 8192 */
    uint32_t sector_size;      /* announced in getStorageInfo logs; 0: none */
    uint32_t end_image_status; /* EDL: END_IMAGE_TX status */
    const uint8_t *programmer; /* EDL: what the target expects to receive */
    size_t programmer_len;
    uint8_t qdl_version; /* QDL: only this HELLO version is accepted (6) */
    bool qdl_bad_seq;    /* QDL: ack carries a wrong sequence number */
    uint16_t qdl_open_status;
    uint32_t final_delay_ms; /* final ACK delay */
    bool hangup_on_reset;    /* power reset / QDL reset: the port goes away */
    /* records */
    char cmds[2048]; /* Firehose tags received, space-separated */
    unsigned naks, programs, patches, resets, hellos, junk, reads, reads64;
    uint8_t *data; /* raw data received (program / ufwrite), in order */
    size_t data_len, data_cap;
    size_t zero_tail;        /* zero bytes seen after a program's data */
    char program_attrs[512]; /* attributes of the last <program> */
    uint8_t qdl_header[400]; /* header carried by the QDL ufopen */
    unsigned qdl_writes;
    size_t host_bytes; /* everything the host wrote */
    uint8_t first_write[64];
    size_t first_write_len;
    /* private */
    struct mk_vclock vc;
    struct mk_io_ops ops;
    uint64_t rng;
    size_t max_chunk;
    struct ft_seg *out;
    size_t nout, capout;
    bool hung;
    uint8_t *in;
    size_t in_len, in_cap;
    int st;
    uint64_t raw_left;
    struct mk_firehose_rx rx;
    char rxbuf[8192];
    bool junk_pending, restarted;
    size_t read_step;
    size_t prog_start; /* data_len when the current <program> began */
    uint32_t payload;
    uint16_t qdl_seq;
    uint32_t qdl_data_len, qdl_data_got;
};

/* Virtual time starts at 1000 ms; replies are read in pieces of 1..max_chunk bytes. */
void ft_init(struct ft *t, enum ft_kind kind, uint64_t seed, size_t max_chunk);
/* Call after setting the knobs: sends the initial HELLO when asked. */
void ft_start(struct ft *t);
void ft_free(struct ft *t);
uint64_t ft_now(const struct ft *t);

#endif
