/*
 * modemsim Firehose targets (reference download-mode.md §2): what runs after the Sierra
 * 0xFF00 switch, or after the PBL loaded a programmer.
 *
 *   NOP / nop             ACK
 *   configure             NAK naming MaxPayloadSizeToTargetInBytes (--dl-max-payload)
 *                         when asked for more, else ACK with the size (§2.3)
 *   getStorageInfo        logs the geometry (sector_size_in_bytes=4096 pages_in_block=64;
 *                         UNVERIFIED wording, libqmi reads these keys) and ACK
 *   program               ACK rawmode="true", then num_partition_sectors x
 *                         SECTOR_SIZE_IN_BYTES raw bytes, then the verdict:
 *     Sierra: only filename="spkg.cwe" start_sector="-1" (§2.6); the image's CRCs and
 *             product are checked (NAK + log on failure), it is written, and ACK
 *             rawmode="false" after --dl-final-ms
 *     EDL:    any partition; the data is stored as lun<N>_<start>
 *   patch (EDL)           ACK
 *   power value="reset"   ACK, then the module resets
 * Bytes that are no XML (Sierra's trailing 512 zero bytes) make the next command a
 * malformed document: it is NAKed with "ERROR: XML not formed correctly" and dropped,
 * which is the NAK libqmi retries (§2.6). Anything else unknown is NAKed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dl.h"

#define DL_PROGRAM_MAX (512u << 20)

static void fh_log(struct sim *s, const char *text)
{
    char b[600];
    size_t n;
    if (mk_firehose_build_log(b, sizeof b, text, &n) == MK_OK)
        sim_out(s, b, n);
}

static void fh_resp(struct sim *s, bool ack, const struct mk_firehose_attr *a, size_t na)
{
    char b[600];
    size_t n;
    if (mk_firehose_build_response(b, sizeof b, ack, a, na, &n) == MK_OK)
        sim_out(s, b, n);
}

static void fh_nak(struct sim *s, const char *log)
{
    if (log)
        fh_log(s, log);
    fh_resp(s, false, NULL, 0);
}

void dl_fh_start(struct sim *s)
{
    (void)s;
    struct sim_dl *d = &sim_dl;
    mk_firehose_rx_init(&d->rx, d->rxbuf, sizeof d->rxbuf);
    d->st = DL_FH;
    d->junk = false;
}

static bool tag_is(const struct mk_firehose_msg *m, const char *name)
{
    return m->tag_len == strlen(name) && strncasecmp(m->tag, name, m->tag_len) == 0;
}

static void final_ack(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    struct mk_firehose_attr a[] = {{"rawmode", "false"}};
    fh_resp(s, true, a, 1);
}

/* All data of a <program> is in: judge it. */
static void program_done(struct sim *s)
{
    struct sim_dl *d = &sim_dl;
    mk_firehose_rx_resume(&d->rx);
    d->st = DL_FH;
    if (d->kind == SIM_DL_EDL) {
        char name[128];
        snprintf(name, sizeof name, "lun%u_%.40s", d->lun, d->start);
        for (char *c = name; *c; c++)
            if (*c == '/' || *c == ' ')
                *c = '_';
        sim_flash_put(s, SIM_AREA_DL, name, d->data.p, d->data.len);
        /* a test package can carry the firmware revision it installs */
        static const char mark[] = "MODEMSIM-REVISION:";
        if (d->data.len > sizeof mark && memcmp(d->data.p, mark, sizeof mark - 1) == 0) {
            size_t n = strcspn((const char *)d->data.p + sizeof mark - 1, "\r\n");
            if (n >= sizeof d->pending_rev)
                n = sizeof d->pending_rev - 1;
            memcpy(d->pending_rev, d->data.p + sizeof mark - 1, n);
            d->pending_rev[n] = '\0';
        }
        sim_buf_free(&d->data);
        struct mk_firehose_attr a[] = {{"rawmode", "false"}};
        fh_resp(s, true, a, 1);
        return;
    }
    struct mk_cwe_info info;
    char why[300];
    if (dl_check_cwe(s, d->data.p, d->data.len, &info, why, sizeof why) != 0) {
        sim_log(s, "download mode: image refused: %s", why);
        sim_buf_free(&d->data);
        fh_nak(s, why);
        return;
    }
    uint64_t size = (uint64_t)info.images[0].hdr.image_sz + MK_CWE_HDR_LEN;
    dl_apply_cwe(s, d->data.p, (size_t)size, &info);
    dl_mark_complete(s);
    sim_buf_free(&d->data);
    fh_log(s, "INFO: image written");
    if (s->opt.dl_final_ms > 0)
        sim_timer_add(s, s->opt.dl_final_ms, final_ack, NULL, 0, 0);
    else
        final_ack(s, NULL, 0);
}

static void program(struct sim *s, const struct mk_firehose_msg *m)
{
    struct sim_dl *d = &sim_dl;
    uint64_t sectors = 0, ss = 0, lun = 0;
    char file[64] = "", start[48] = "", label[48] = "";
    (void)mk_firehose_attr_u64(m, "num_partition_sectors", &sectors);
    (void)mk_firehose_attr_u64(m, "SECTOR_SIZE_IN_BYTES", &ss);
    (void)mk_firehose_attr_u64(m, "physical_partition_number", &lun);
    (void)mk_firehose_attr_get(m, "filename", file, sizeof file);
    (void)mk_firehose_attr_get(m, "start_sector", start, sizeof start);
    (void)mk_firehose_attr_get(m, "label", label, sizeof label);
    if (!sectors || !ss || ss > 65536 || sectors * ss > DL_PROGRAM_MAX) {
        fh_nak(s, "ERROR: bad num_partition_sectors or SECTOR_SIZE_IN_BYTES");
        return;
    }
    if (d->kind != SIM_DL_EDL && (strcmp(file, "spkg.cwe") != 0 || strcmp(start, "-1") != 0)) {
        /* Sierra's programmer takes whole CWE packages only (libqmi, §2.6) */
        fh_nak(s, "ERROR: only filename=spkg.cwe start_sector=-1 is supported");
        return;
    }
    if (!start[0]) {
        fh_nak(s, "ERROR: start_sector missing");
        return;
    }
    snprintf(d->start, sizeof d->start, "%s", start);
    snprintf(d->label, sizeof d->label, "%s", label);
    d->lun = (unsigned)lun;
    d->expect = d->raw_left = sectors * ss;
    sim_buf_free(&d->data);
    d->data.p = sim_xmalloc((size_t)d->expect);
    d->data.cap = (size_t)d->expect;
    /* from the first byte on, the flash no longer holds a bootable firmware */
    dl_mark_incomplete(s);
    struct mk_firehose_attr a[] = {{"rawmode", "true"}};
    fh_resp(s, true, a, 1);
    mk_firehose_rx_hold(&d->rx);
    d->st = DL_FH_RAW;
    d->raw_seen = 0;
}

static void configure(struct sim *s, const struct mk_firehose_msg *m)
{
    struct sim_dl *d = &sim_dl;
    uint64_t ask = 0;
    (void)mk_firehose_attr_u64(m, "MaxPayloadSizeToTargetInBytes", &ask);
    unsigned max = s->opt.dl_max_payload;
    bool ok = ask && ask <= max;
    char size[24];
    snprintf(size, sizeof size, "%llu", (unsigned long long)(ok ? ask : max));
    char maxs[24];
    snprintf(maxs, sizeof maxs, "%u", max);
    struct mk_firehose_attr a[] = {
        {"MemoryName", d->kind == SIM_DL_EDL ? "nand" : "NAND"},
        {"MaxPayloadSizeFromTargetInBytes", "4096"},
        {"MaxPayloadSizeToTargetInBytes", size},
        {"MaxPayloadSizeToTargetInBytesSupported", maxs},
        {"MaxXMLSizeInBytes", "4096"},
        {"Version", "1"},
        {"TargetName", d->kind == SIM_DL_EDL ? "SDX55" : "9x07"},
    };
    if (ok)
        d->payload = ask;
    fh_resp(s, ok, a, sizeof a / sizeof a[0]);
}

static void element(struct sim *s, const struct mk_firehose_msg *m)
{
    struct sim_dl *d = &sim_dl;
    if (d->junk) {
        /* the junk and this command were read as one document */
        d->junk = false;
        fh_nak(s, "ERROR: XML not formed correctly. Expected a &lt;?xml tag");
        return;
    }
    if (tag_is(m, "nop")) {
        fh_resp(s, true, NULL, 0);
    } else if (tag_is(m, "configure")) {
        configure(s, m);
    } else if (tag_is(m, "getstorageinfo")) {
        fh_log(s, "INFO: sector_size_in_bytes=4096 pages_in_block=64 total_blocks=2048");
        fh_resp(s, true, NULL, 0);
    } else if (tag_is(m, "program")) {
        program(s, m);
    } else if (tag_is(m, "patch") && d->kind == SIM_DL_EDL) {
        fh_resp(s, true, NULL, 0);
    } else if (tag_is(m, "power")) {
        char v[16] = "";
        (void)mk_firehose_attr_get(m, "value", v, sizeof v);
        if (strcasecmp(v, "reset") != 0 && strcasecmp(v, "off") != 0) {
            fh_nak(s, "ERROR: unsupported power value");
            return;
        }
        if (d->kind == SIM_DL_EDL && sim_dl_boot_download(s)) {
            /* the package is complete when the host asks for the reset */
            if (d->pending_rev[0])
                sim_flash_set_revision(s, d->pending_rev);
            dl_mark_complete(s);
        }
        fh_resp(s, true, NULL, 0);
        sim_dev_reset_when_flushed(s);
    } else {
        char log[128];
        snprintf(log, sizeof log, "ERROR: unsupported command %.*s", (int)m->tag_len, m->tag);
        fh_nak(s, log);
    }
}

void dl_fh_input(struct sim *s, const uint8_t *p, size_t n)
{
    struct sim_dl *d = &sim_dl;
    for (;;) {
        if (d->st == DL_FH_RAW) {
            const uint8_t *raw;
            size_t have;
            mk_firehose_rx_raw(&d->rx, &raw, &have);
            size_t k = have < d->raw_left ? have : (size_t)d->raw_left;
            if (k) {
                sim_buf_put(&d->data, raw, k);
                mk_firehose_rx_consume(&d->rx, k);
                d->raw_left -= k;
            }
            size_t k2 = n < d->raw_left ? n : (size_t)d->raw_left;
            if (k2) {
                sim_buf_put(&d->data, p, k2);
                p += k2;
                n -= k2;
                d->raw_left -= k2;
            }
            if (dl_raw(s, k + k2))
                return;
            if (d->raw_left)
                return;
            bool tail = d->raw_seen != 0;
            d->raw_seen = 0;
            if (tail && dl_packet(s, "last data block"))
                return;
            program_done(s);
        }
        struct mk_firehose_msg m;
        while (d->st == DL_FH && mk_firehose_rx_next(&d->rx, &m) == MK_DONE) {
            if (m.type == MK_FIREHOSE_MSG_GARBAGE) {
                d->junk = true;
            } else if (m.type == MK_FIREHOSE_MSG_ELEMENT) {
                char what[40];
                snprintf(what, sizeof what, "<%.*s>", (int)(m.tag_len < 30 ? m.tag_len : 30),
                         m.tag);
                if (dl_packet(s, what))
                    return;
                element(s, &m);
                if (d->st == DL_OFF)
                    return;
            } else if (m.type == MK_FIREHOSE_MSG_ERROR) {
                fh_nak(s, "ERROR: XML not formed correctly");
            }
        }
        if (d->st == DL_FH_RAW)
            continue;
        if (!n || d->st != DL_FH)
            return;
        size_t took = mk_firehose_rx_feed(&d->rx, p, n);
        p += took;
        n -= took;
    }
}
