/*
 * modemsim download mode: which target answers, what survives on flash, packet counting
 * for power cuts (--fault power-cut@pktN), and the boot-loop fault.
 *
 * Flash state (area "dl", persisted with --state):
 *   incomplete  present while an image is half-written: every power-up boots download
 *               mode until a complete image is flashed (the application firmware must
 *               not start from a torn flash)
 *   impref      "fw\ncarrier\nconfig" written by the last image (AT!IMPREF?)
 *   image.cwe   the last CWE image written; lun<N>_<start> partitions written over EDL
 *   packets     download-mode packets counted since the simulator started (written
 *               whenever download mode ends; tests use it to size power-cut sweeps)
 */
#include "dl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sim_dl sim_dl;

static void dl_enter(struct sim *s);
static void dl_input(struct sim *s, const uint8_t *p, size_t n);

static const struct sim_target dl_targets[] = {
    {"sahara", dl_enter, dl_input},
    {"edl", dl_enter, dl_input},
    {"qdl", dl_enter, dl_input},
};

bool sim_dl_parse_kind(const char *name, int *kind)
{
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(name, dl_targets[i].name) == 0) {
            *kind = i;
            return true;
        }
    }
    return false;
}

static enum sim_dl_kind dl_kind(struct sim *s)
{
    if (s->opt.dl_kind >= 0)
        return (enum sim_dl_kind)s->opt.dl_kind;
    /* Sierra modules have boot-and-hold; SIMCom (and Quectel) are flashed through the
     * Qualcomm PBL (reference §5.3: SIM7600 download mode is 05c6:9008). */
    return (s->prof->caps & SIM_CAP_BOOTHOLD) ? SIM_DL_SAHARA : SIM_DL_EDL;
}

const struct sim_target *sim_dl_target(struct sim *s)
{
    return &dl_targets[dl_kind(s)];
}

bool sim_dl_boot_download(struct sim *s)
{
    return sim_flash_get(s, SIM_AREA_DL, "incomplete") != NULL;
}

void dl_mark_incomplete(struct sim *s)
{
    if (!sim_dl_boot_download(s))
        sim_flash_put(s, SIM_AREA_DL, "incomplete", "1", 1);
}

void dl_mark_complete(struct sim *s)
{
    if (sim_dl_boot_download(s))
        sim_flash_del(s, SIM_AREA_DL, "incomplete");
    if (s->bootloop)
        sim_log(s, "download mode: good image written, the boot loop is over");
    s->bootloop = false;
}

static void dl_enter(struct sim *s)
{
    struct sim_dl *d = &sim_dl;
    sim_buf_free(&d->in);
    sim_buf_free(&d->prog);
    sim_buf_free(&d->data);
    memset(d, 0, sizeof *d);
    d->kind = dl_kind(s);
    d->payload = s->opt.dl_max_payload;
    sim_log(s, "download mode (%s) on %s", dl_targets[d->kind].name, s->pty_path);
    if (d->kind == SIM_DL_QDL)
        dl_qdl_enter(s);
    else
        dl_sahara_enter(s);
}

static void dl_input(struct sim *s, const uint8_t *p, size_t n)
{
    struct sim_dl *d = &sim_dl;
    d->host_spoke = true;
    if (d->st == DL_FH || d->st == DL_FH_RAW)
        dl_fh_input(s, p, n);
    else if (d->kind == SIM_DL_QDL)
        dl_qdl_input(s, p, n);
    else if (d->st != DL_OFF)
        dl_sahara_input(s, p, n);
}

void sim_dl_power_off(struct sim *s)
{
    struct sim_dl *d = &sim_dl;
    d->st = DL_OFF; /* buffers are freed at the next enter: callers may still hold them */
    char num[32];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)s->dl_packets);
    sim_flash_put(s, SIM_AREA_DL, "packets", num, (size_t)n);
}

bool dl_packet(struct sim *s, const char *what)
{
    s->dl_packets++;
    sim_log(s, "download packet %llu: %s", (unsigned long long)s->dl_packets, what);
    for (int i = 0; i < s->faults.n; i++) {
        struct sim_fault *f = &s->faults.f[i];
        if (f->trig == SIM_TRIG_PACKET && !f->fired && (uint64_t)f->at == s->dl_packets) {
            f->fired = true;
            sim_log(s, "power cut at download packet %llu", (unsigned long long)s->dl_packets);
            sim_fault_fire(s, f);
        }
    }
    return s->power == SIM_POWER_OFF;
}

bool dl_raw(struct sim *s, size_t n)
{
    struct sim_dl *d = &sim_dl;
    uint64_t unit = d->payload ? d->payload : 65536;
    d->raw_seen += n;
    while (d->raw_seen >= unit) {
        d->raw_seen -= unit;
        if (dl_packet(s, "data block"))
            return true;
    }
    return false;
}

bool sim_dl_bootloop_boot(struct sim *s)
{
    if (!s->bootloop)
        return false;
    s->next_reenum_ms = s->bootloop_down_ms;
    return true;
}

/* ---- images ---- */

int dl_check_cwe(struct sim *s, const uint8_t *p, size_t n, struct mk_cwe_info *info, char *why,
                 size_t cap)
{
    static struct mk_cwe_image tree[64];
    memset(info, 0, sizeof *info);
    info->images = tree;
    info->cap = 64;
    if (n < MK_CWE_HDR_LEN || !mk_cwe_header_plausible(p)) {
        snprintf(why, cap, "ERROR: no CWE header");
        return -1;
    }
    struct mk_cwe_header h;
    mk_cwe_header_decode(p, &h);
    uint64_t size = (uint64_t)h.image_sz + MK_CWE_HDR_LEN;
    if (size > n) {
        snprintf(why, cap, "ERROR: image truncated (%llu of %llu bytes)", (unsigned long long)n,
                 (unsigned long long)size);
        return -1;
    }
    struct mk_cwe_mem mem = {p, (size_t)size};
    struct mk_cwe_reader rd = {mk_cwe_mem_read, &mem, size, NULL};
    static uint8_t scratch[65536];
    if (mk_cwe_parse(&rd, scratch, sizeof scratch, 0, info) != MK_OK) {
        char line[200];
        mk_cwe_describe_problem(info, line, sizeof line);
        snprintf(why, cap, "ERROR: %s", line);
        return -1;
    }
    const char *want = s->prof->dl_product;
    if (want && strcasecmp(h.product, want) != 0) {
        snprintf(why, cap, "ERROR: image is for product %s, this module is %s", h.product, want);
        return -1;
    }
    return 0;
}

static void impref_read(struct sim *s, char f[3][96])
{
    memset(f, 0, 3 * sizeof f[0]);
    const struct sim_file *fi = sim_flash_get(s, SIM_AREA_DL, "impref");
    if (!fi)
        return;
    size_t i = 0, k = 0;
    for (size_t j = 0; j < fi->len && i < 3; j++) {
        if (fi->data[j] == '\n') {
            i++;
            k = 0;
        } else if (k + 1 < sizeof f[0]) {
            f[i][k++] = (char)fi->data[j];
        }
    }
}

void sim_dl_impref(struct sim *s, char *fw, char *carrier, char *config, size_t cap)
{
    char f[3][96];
    impref_read(s, f);
    snprintf(fw, cap, "%s", f[0]);
    snprintf(carrier, cap, "%s", f[1]);
    snprintf(config, cap, "%s", f[2]);
}

void dl_apply_cwe(struct sim *s, const uint8_t *p, size_t n, const struct mk_cwe_info *info)
{
    sim_flash_put(s, SIM_AREA_DL, "image.cwe", p, n);
    char f[3][96];
    impref_read(s, f);
    if (!f[0][0])
        snprintf(f[0], sizeof f[0], "%s", s->prof->sierra_fw ? s->prof->sierra_fw : "");
    if (info->firmware[0]) {
        snprintf(f[0], sizeof f[0], "%s", info->firmware);
        /* "SWI9X07H_00.08.24.02 ..." keeps the profile's device prefix (seed 002/004) */
        const char *rev = s->prof->revision;
        size_t pre = strcspn(rev, "_");
        char r[200];
        snprintf(r, sizeof r, "%.*s_%s 000000 modemsim 2024/01/02 03:04:05", (int)pre, rev,
                 info->firmware);
        sim_flash_set_revision(s, r);
        sim_log(s, "download mode: firmware %s written", info->firmware);
    }
    if (info->carrier[0])
        snprintf(f[1], sizeof f[1], "%s", info->carrier);
    if (info->config[0]) {
        /* seed 002: "preferred config name: SIERRA_000.057_000" = carrier + config */
        const char *car = info->carrier[0] ? info->carrier : f[1];
        snprintf(f[2], sizeof f[2], "%.60s_%.30s", car, info->config);
    }
    char buf[300];
    int len = snprintf(buf, sizeof buf, "%s\n%s\n%s\n", f[0], f[1], f[2]);
    sim_flash_put(s, SIM_AREA_DL, "impref", buf, (size_t)len);
}
