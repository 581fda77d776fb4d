/*
 * Download-mode protocol detector. Classification is a pure function over every byte
 * received so far; poll() only adds timing (listen, probe, give up).
 */
#include "modemkit/dldetect.h"

#include <string.h>

#include "modemkit/bytes.h"
#include "modemkit/firehose.h"
#include "modemkit/hdlc.h"
#include "modemkit/str.h"

enum { DD_LISTEN = 0, DD_PROBING, DD_DONE, DD_FAILED };

/* USB IDs, reference §5.3. */
#define DD_VID_QUALCOMM   0x05C6u
#define DD_PID_QC_EDL     0x9008u
#define DD_PID_QC_RAMDUMP 0x900Eu
#define DD_VID_SIERRA     0x1199u

void mk_dldetect_config_default(struct mk_dldetect_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_ms = 3000;
    cfg->probe_wait_ms = 2000;
    cfg->partial_grace_ms = 500;
    cfg->probes[0] = MK_DL_PROBE_SDP;
    cfg->probes[1] = MK_DL_PROBE_FIREHOSE_NOP;
    cfg->probes[2] = MK_DL_PROBE_SAHARA_HELLO_RSP;
    cfg->n_probes = 3;
}

void mk_dldetect_init(struct mk_dldetect *d, const struct mk_dldetect_config *cfg, uint8_t *buf,
                      size_t cap, uint32_t now_ms)
{
    memset(d, 0, sizeof *d);
    d->cfg = *cfg;
    if (d->cfg.n_probes > MK_DL_MAX_PROBES)
        d->cfg.n_probes = MK_DL_MAX_PROBES;
    d->buf = buf;
    d->cap = cap;
    d->phase = DD_LISTEN;
    d->deadline_ms = now_ms + cfg->listen_ms;
}

enum mk_err mk_dldetect_feed(struct mk_dldetect *d, const uint8_t *data, size_t len)
{
    size_t n = d->cap - d->len;
    if (n > len)
        n = len;
    memcpy(d->buf + d->len, data, n);
    d->len += n;
    if (n < len) {
        d->overflow = true;
        return MK_E_NOSPC;
    }
    return MK_OK;
}

/* ---- classification ---- */

/* Which kind of Sahara target sent this packet (§1.5, §1.10, §5.3). */
static enum mk_dl_target dd_sahara_target(const struct mk_dl_result *r, uint16_t vid, uint16_t pid)
{
    if (vid == DD_VID_QUALCOMM && pid == DD_PID_QC_EDL)
        return MK_DL_TARGET_PBL_EDL;
    if (vid == DD_VID_QUALCOMM && pid == DD_PID_QC_RAMDUMP)
        return MK_DL_TARGET_RAMDUMP;
    if (vid == DD_VID_SIERRA) /* RC76xx is 1199:68c0 in both modes */
        return MK_DL_TARGET_SIERRA_BOOTHOLD;
    if (r->have_hello) {
        /* Mode 0 = the target wants an image: the PBL asking for a programmer. The RC7620
         * boot-and-hold SBL offered mode 2 (seed 004); edl treats mode 2 on anything but
         * 900E as command-capable, and libqmi answers with mode 3 regardless. */
        return r->sahara.u.hello.mode == MK_SAHARA_MODE_IMAGE_TX_PENDING
                   ? MK_DL_TARGET_PBL_EDL
                   : MK_DL_TARGET_SIERRA_BOOTHOLD;
    }
    if (r->sahara.cmd == MK_SAHARA_READ_DATA || r->sahara.cmd == MK_SAHARA_READ_DATA_64)
        return MK_DL_TARGET_PBL_EDL; /* it is already fetching an image */
    return MK_DL_TARGET_UNKNOWN;
}

/* A whole Sahara packet at b[0..n)? 1 yes (r filled), 0 no, -1 incomplete but plausible. */
static int dd_sahara_at(const uint8_t *b, size_t n, struct mk_dl_result *r)
{
    if (n < MK_SAHARA_HEADER_LEN) {
        /* A prefix of a header: cmd 1..0x14 as LE u32, then a small length. */
        if (n == 0 || b[0] < 1 || b[0] > MK_SAHARA_WRITE_DATA)
            return 0;
        for (size_t i = 1; i < n && i < 4; i++)
            if (b[i])
                return 0;
        if (n > 4 && (b[4] < MK_SAHARA_HEADER_LEN || b[4] > MK_SAHARA_MAX_PKT_LEN))
            return 0;
        for (size_t i = 5; i < n; i++)
            if (b[i])
                return 0;
        return -1;
    }
    struct mk_sahara_pkt pkt;
    enum mk_err err = mk_sahara_parse(b, n, &pkt);
    if (err == MK_E_FORMAT)
        return -1; /* valid header, packet still arriving */
    if (err)
        return 0;
    r->proto = MK_DL_PROTO_SAHARA;
    r->sahara = pkt;
    r->packet_len = pkt.len;
    r->have_hello = pkt.cmd == MK_SAHARA_HELLO;
    return 1;
}

static const uint8_t dd_hello_hdr[8] = {1, 0, 0, 0, MK_SAHARA_HELLO_LEN, 0, 0, 0};

/* First complete HDLC frame with a good CRC that is a reply (not our own SDP request). */
static bool dd_hdlc(const uint8_t *b, size_t n, struct mk_dl_result *r)
{
    uint8_t frame[64];
    struct mk_hdlc_decoder dec;
    mk_hdlc_decoder_init(&dec, frame, sizeof frame);
    size_t pos = 0, start = 0;
    while (pos < n) {
        struct mk_hdlc_frame f;
        size_t used;
        if (mk_hdlc_decode(&dec, b + pos, n - pos, &used, &f) == MK_PENDING)
            return false;
        /* where this frame began: after the flags preceding its first byte */
        while (start < pos + used && b[start] == MK_HDLC_FLAG)
            start++;
        if (f.err == MK_OK && f.len >= 1 && f.data[0] != 0x70) {
            r->proto = MK_DL_PROTO_QDL;
            r->offset = start;
            r->packet_len = pos + used - start;
            r->hdlc_len = f.len < sizeof r->hdlc ? f.len : sizeof r->hdlc;
            memcpy(r->hdlc, f.data, r->hdlc_len);
            /* 0x13 = DIAG "bad command" echo (EM7455 in app mode, §1.10); anything else
             * valid comes from a DLOAD/QDL target (ACK 02, NAK 03, ERROR 0D, HELLO_RSP) */
            r->target = f.data[0] == 0x13 ? MK_DL_TARGET_DIAG : MK_DL_TARGET_QDL;
            return true;
        }
        pos += used;
        start = pos;
    }
    return false;
}

static size_t dd_find(const uint8_t *b, size_t n, const char *s, bool *partial)
{
    size_t k = strlen(s);
    for (size_t i = 0; i < n; i++) {
        size_t m = n - i < k ? n - i : k;
        if (memcmp(b + i, s, m) == 0) {
            if (m == k)
                return i;
            *partial = true; /* the tail is a prefix of s */
        }
    }
    return n;
}

enum mk_step mk_dldetect_classify(const uint8_t *buf, size_t len, uint16_t usb_vid,
                                  uint16_t usb_pid, struct mk_dl_result *r, bool *partial)
{
    memset(r, 0, sizeof *r);
    *partial = false;
    /* Sahara from the first byte: a complete packet is conclusive. */
    int s = dd_sahara_at(buf, len, r);
    if (s > 0) {
        r->target = dd_sahara_target(r, usb_vid, usb_pid);
        return MK_DONE;
    }
    if (s < 0)
        *partial = true;
    memset(r, 0, sizeof *r);

    bool p = false;
    size_t x = dd_find(buf, len, "<?xml", &p), dt = dd_find(buf, len, "<data", &p);
    if (x < len || dt < len) {
        r->proto = MK_DL_PROTO_FIREHOSE;
        r->target = MK_DL_TARGET_FIREHOSE;
        r->offset = x < dt ? x : dt;
        return MK_DONE;
    }
    if (dd_hdlc(buf, len, r))
        return MK_DONE;
    memset(r, 0, sizeof *r);

    /* An AT port (answering the AT probe, or talking by itself): "\r\nOK\r" with ATV1.
     * No download protocol produces these bytes. */
    bool pa = false;
    size_t ok = dd_find(buf, len, "\nOK\r", &pa), er = dd_find(buf, len, "\nERROR", &pa);
    if (ok < len || er < len) {
        r->proto = MK_DL_PROTO_AT;
        r->target = MK_DL_TARGET_AT;
        r->offset = ok < er ? ok : er;
        return MK_DONE;
    }

    /* A HELLO after some noise (e.g. a stray byte before it). */
    for (size_t k = 1; k < len; k++) {
        size_t m = len - k < sizeof dd_hello_hdr ? len - k : sizeof dd_hello_hdr;
        if (memcmp(buf + k, dd_hello_hdr, m) != 0)
            continue;
        if (len - k >= MK_SAHARA_HELLO_LEN && dd_sahara_at(buf + k, len - k, r) > 0) {
            r->offset = k;
            r->target = dd_sahara_target(r, usb_vid, usb_pid);
            return MK_DONE;
        }
        p = true;
    }
    memset(r, 0, sizeof *r);
    if (p)
        *partial = true;
    return MK_PENDING;
}

/* ---- probing ---- */

static bool dd_make_probe(struct mk_dldetect *d, enum mk_dl_probe probe)
{
    enum mk_err err = MK_E_INVAL;
    switch (probe) {
    case MK_DL_PROBE_SDP: {
        static const uint8_t sdp[] = {0x70, 0x00, 0x00};
        err = mk_hdlc_encode(sdp, sizeof sdp, true, d->probe, sizeof d->probe, &d->probe_len);
        break;
    }
    case MK_DL_PROBE_FIREHOSE_NOP:
        err = mk_firehose_build_nop((char *)d->probe, sizeof d->probe, MK_FIREHOSE_QCOM,
                                    &d->probe_len);
        break;
    case MK_DL_PROBE_SAHARA_HELLO_RSP: {
        struct mk_sahara_pkt pkt = {.cmd = MK_SAHARA_HELLO_RSP};
        pkt.u.hello_rsp.version = 2;
        pkt.u.hello_rsp.version_compatible = 1;
        pkt.u.hello_rsp.mode = MK_SAHARA_MODE_IMAGE_TX_PENDING;
        err = mk_sahara_build(&pkt, d->probe, sizeof d->probe, &d->probe_len);
        break;
    }
    case MK_DL_PROBE_BYTE:
        d->probe[0] = 0x00;
        d->probe_len = 1;
        err = MK_OK;
        break;
    case MK_DL_PROBE_AT:
        memcpy(d->probe, "AT\r", 3);
        d->probe_len = 3;
        err = MK_OK;
        break;
    }
    return err == MK_OK;
}

static bool dd_due(uint32_t now_ms, uint32_t deadline_ms)
{
    return (int32_t)(now_ms - deadline_ms) >= 0;
}

enum mk_dl_action mk_dldetect_poll(struct mk_dldetect *d, uint32_t now_ms, struct mk_dl_step *step)
{
    memset(step, 0, sizeof *step);
    if (d->phase == DD_DONE)
        return step->action = MK_DL_DONE;
    if (d->phase == DD_FAILED) {
        step->err = MK_E_DETECT;
        return step->action = MK_DL_FAIL;
    }
    unsigned sent = d->result.probes_sent;
    enum mk_dl_probe last = d->result.last_probe;
    if (d->cfg.force != MK_DL_PROTO_NONE) {
        struct mk_dl_result r = {0};
        bool partial;
        /* keep what a HELLO says about the target even when the protocol is forced */
        if (mk_dldetect_classify(d->buf, d->len, d->cfg.usb_vid, d->cfg.usb_pid, &r, &partial) !=
                MK_DONE ||
            r.proto != d->cfg.force)
            memset(&r, 0, sizeof r);
        d->result = r;
        d->result.proto = d->cfg.force;
        d->result.forced = true;
        if (d->result.target == MK_DL_TARGET_UNKNOWN && d->cfg.force == MK_DL_PROTO_FIREHOSE)
            d->result.target = MK_DL_TARGET_FIREHOSE;
        if (d->result.target == MK_DL_TARGET_UNKNOWN && d->cfg.force == MK_DL_PROTO_QDL)
            d->result.target = MK_DL_TARGET_QDL;
        if (d->result.target == MK_DL_TARGET_UNKNOWN && d->cfg.force == MK_DL_PROTO_SAHARA)
            d->result.target = dd_sahara_target(&d->result, d->cfg.usb_vid, d->cfg.usb_pid);
        d->phase = DD_DONE;
        return step->action = MK_DL_DONE;
    }

    bool partial = false;
    if (mk_dldetect_classify(d->buf, d->len, d->cfg.usb_vid, d->cfg.usb_pid, &d->result,
                             &partial) == MK_DONE) {
        d->result.probes_sent = sent;
        d->result.last_probe = last;
        d->phase = DD_DONE;
        return step->action = MK_DL_DONE;
    }
    d->result.probes_sent = sent;
    d->result.last_probe = last;
    if (d->overflow) {
        d->phase = DD_FAILED;
        step->err = MK_E_DETECT;
        return step->action = MK_DL_FAIL;
    }
    if (!dd_due(now_ms, d->deadline_ms)) {
        step->wake_ms = d->deadline_ms;
        return step->action = MK_DL_WAIT;
    }
    if (partial && !d->grace_used) {
        /* Half a packet is here: writing now could garble it (§1.8 b). */
        d->grace_used = true;
        d->deadline_ms = now_ms + d->cfg.partial_grace_ms;
        step->wake_ms = d->deadline_ms;
        return step->action = MK_DL_WAIT;
    }
    while (d->next_probe < d->cfg.n_probes) {
        enum mk_dl_probe probe = d->cfg.probes[d->next_probe++];
        if (!dd_make_probe(d, probe))
            continue;
        d->phase = DD_PROBING;
        d->grace_used = false;
        d->result.probes_sent++;
        d->result.last_probe = probe;
        d->deadline_ms = now_ms + d->cfg.probe_wait_ms;
        step->data = d->probe;
        step->len = d->probe_len;
        step->wake_ms = d->deadline_ms;
        return step->action = MK_DL_WRITE;
    }
    d->phase = DD_FAILED;
    step->err = MK_E_DETECT;
    return step->action = MK_DL_FAIL;
}

/* ---- text ---- */

const char *mk_dl_proto_name(enum mk_dl_proto p)
{
    switch (p) {
    case MK_DL_PROTO_SAHARA:
        return "sahara";
    case MK_DL_PROTO_QDL:
        return "qdl";
    case MK_DL_PROTO_FIREHOSE:
        return "firehose";
    case MK_DL_PROTO_AT:
        return "at";
    case MK_DL_PROTO_NONE:
        break;
    }
    return "none";
}

const char *mk_dl_target_name(enum mk_dl_target t)
{
    switch (t) {
    case MK_DL_TARGET_SIERRA_BOOTHOLD:
        return "Sierra boot-and-hold";
    case MK_DL_TARGET_PBL_EDL:
        return "Qualcomm PBL emergency download (EDL)";
    case MK_DL_TARGET_RAMDUMP:
        return "Qualcomm crash dump (memory debug)";
    case MK_DL_TARGET_FIREHOSE:
        return "Firehose programmer";
    case MK_DL_TARGET_QDL:
        return "QDL/DLOAD download mode";
    case MK_DL_TARGET_DIAG:
        return "DIAG port (application mode)";
    case MK_DL_TARGET_AT:
        return "AT port (application mode)";
    case MK_DL_TARGET_UNKNOWN:
        break;
    }
    return "unknown target";
}

const char *mk_dl_probe_name(enum mk_dl_probe p)
{
    switch (p) {
    case MK_DL_PROBE_SDP:
        return "SDP";
    case MK_DL_PROBE_FIREHOSE_NOP:
        return "Firehose NOP";
    case MK_DL_PROBE_SAHARA_HELLO_RSP:
        return "Sahara HELLO_RSP";
    case MK_DL_PROBE_BYTE:
        return "single byte";
    case MK_DL_PROBE_AT:
        return "AT";
    }
    return "?";
}

static void dd_put_hex(struct mk_sb *sb, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            mk_sb_putc(sb, ' ');
        mk_sb_puthex(sb, b[i], 2);
    }
}

/* What the target kind means for the user. */
static const char *dd_meaning(enum mk_dl_target t)
{
    switch (t) {
    case MK_DL_TARGET_SIERRA_BOOTHOLD:
        return "Sierra boot-and-hold target; Sahara command mode, then EXECUTE 0xFF00 switches "
               "it to Firehose (no programmer needed)";
    case MK_DL_TARGET_PBL_EDL:
        return "Qualcomm PBL emergency download (EDL) target; it needs a signed Firehose "
               "programmer uploaded through Sahara, the Sierra 0xFF00 switch will not work";
    case MK_DL_TARGET_RAMDUMP:
        return "Qualcomm crash dump (memory debug) target; the module crashed, a RAM dump can "
               "be read or it can be reset";
    case MK_DL_TARGET_FIREHOSE:
        return "a Firehose programmer is already running";
    case MK_DL_TARGET_QDL:
        return "QDL/DLOAD download mode (Sierra 9x15/9x30 families)";
    case MK_DL_TARGET_DIAG:
        return "this is a DIAG port: the module is in application mode, not in download mode";
    case MK_DL_TARGET_AT:
        return "this is an AT port: the module runs its application firmware (AT!BOOTHOLD "
               "puts a Sierra module into download mode)";
    case MK_DL_TARGET_UNKNOWN:
        break;
    }
    return "target kind unknown";
}

enum mk_err mk_dldetect_describe(const struct mk_dldetect *d, char *buf, size_t cap)
{
    const struct mk_dl_result *r = &d->result;
    struct mk_sb sb;
    mk_sb_init(&sb, buf, cap);
    if (d->phase != DD_DONE) {
        if (d->phase == DD_FAILED)
            mk_sb_puts(&sb, "no download protocol recognised");
        else
            mk_sb_puts(&sb, "still detecting");
        mk_sb_puts(&sb, " after ");
        mk_sb_putu(&sb, r->probes_sent);
        mk_sb_puts(&sb, " probe(s)");
        if (d->len == 0) {
            mk_sb_puts(&sb, "; the port stayed silent");
        } else {
            mk_sb_puts(&sb, "; received ");
            mk_sb_putu(&sb, d->len);
            mk_sb_puts(&sb, " bytes that are no Sahara, HDLC or Firehose: ");
            dd_put_hex(&sb, d->buf, d->len < 16 ? d->len : 16);
            if (d->len > 16)
                mk_sb_puts(&sb, " ...");
        }
        return mk_sb_err(&sb);
    }
    if (r->forced) {
        mk_sb_puts(&sb, "protocol forced to ");
        mk_sb_puts(&sb, mk_dl_proto_name(r->proto));
    } else if (r->proto == MK_DL_PROTO_SAHARA) {
        mk_sb_puts(&sb, "Sahara ");
        mk_sb_puts(&sb, mk_sahara_cmd_name(r->sahara.cmd));
        if (r->have_hello) {
            const struct mk_sahara_hello *h = &r->sahara.u.hello;
            mk_sb_puts(&sb, " (version ");
            mk_sb_putu(&sb, h->version);
            mk_sb_puts(&sb, ", compatible ");
            mk_sb_putu(&sb, h->version_compatible);
            mk_sb_puts(&sb, ", max packet ");
            mk_sb_putu(&sb, h->max_cmd_len);
            mk_sb_puts(&sb, ", mode ");
            mk_sb_putu(&sb, h->mode);
            mk_sb_putc(&sb, ' ');
            mk_sb_puts(&sb, mk_sahara_mode_name(h->mode));
            mk_sb_putc(&sb, ')');
        }
    } else if (r->proto == MK_DL_PROTO_QDL) {
        mk_sb_puts(&sb, "HDLC frame ");
        dd_put_hex(&sb, r->hdlc, r->hdlc_len);
    } else if (r->proto == MK_DL_PROTO_AT) {
        mk_sb_puts(&sb, "AT answer");
    } else {
        mk_sb_puts(&sb, "Firehose XML");
    }
    if (r->probes_sent) {
        mk_sb_puts(&sb, " after the ");
        mk_sb_puts(&sb, mk_dl_probe_name(r->last_probe));
        mk_sb_puts(&sb, " probe");
    } else if (!r->forced) {
        mk_sb_puts(&sb, " received unprovoked");
    }
    if (d->cfg.usb_vid || d->cfg.usb_pid) {
        mk_sb_puts(&sb, " (USB ");
        mk_sb_puthex(&sb, d->cfg.usb_vid, 4);
        mk_sb_putc(&sb, ':');
        mk_sb_puthex(&sb, d->cfg.usb_pid, 4);
        mk_sb_putc(&sb, ')');
    }
    mk_sb_puts(&sb, ": ");
    mk_sb_puts(&sb, dd_meaning(r->target));
    return mk_sb_err(&sb);
}
