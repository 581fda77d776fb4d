/*
 * modemsim: firmware update over the air (AT+CFOTA on SIM7000, AT+CDELTA on SIM7600),
 * the revision-dependent profile, and the simulated delta format.
 *
 * Vendor deltas are opaque; the simulator defines its own ("MKSIMDL1", below) so that it
 * can check what a real module checks: the delta is for this model, applies to the
 * running revision, and is intact. A bad delta leaves the revision alone and the update
 * status at 7.
 *
 * The update (S7 §5.3/§5.4 for SIM7000; S3 and S1 §19.2.8 for SIM7600):
 *   AT+CFOTA=1 / AT+CDELTA → OK, the module resets. At the next boot the AT firmware does
 *   not start (the pty is there, input is ignored); SIM7000 prints
 *   +CFOTA: "Start to update", +CFOTA: "Updating",<n> every --fota-time-ms/10, then
 *   "Update successfully, please wait for reset" (or "Update failed, ...") and resets
 *   into the target revision; AT+CFOTA? answers 6 (or 7). SIM7600 prints nothing while
 *   it updates (UNVERIFIED: its recovery mode) and consumes the delta file (UNVERIFIED),
 *   then boots with the usual boot URCs.
 *   The progress is persisted after every step, and an update interrupted by a power
 *   cut continues at the next boot: the module comes back on the old or the new revision,
 *   never in between (as the vendors' resumable updates promise; Quectel's DFOTA guide
 *   documents it, at-commands.md §4.3).
 *   --fault bootloop-after-update[=MS]: after a successful update the module resets
 *   every MS ms without answering AT (seed 002, RC76xx R9.0) until a cold boot
 *   (--control power-cycle) clears it.
 *
 * Persisted (SIM_AREA_SYS): "fota" (status, pending update, progress, counters) and
 * "stats" (AT command lines, file data bytes, apply commands and updates, written at
 * every reset and at exit, for tests).
 *
 * AT+CFOTA? of a module that never updated: 8 (UNVERIFIED; S7 lists 1-8 only).
 */
#include "sim.h"

#include <getopt.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DELTA_MAGIC  "MKSIMDL1"
#define DELTA_HDR    256
#define DELTA_MODEL  16
#define DELTA_SOURCE 48
#define DELTA_TARGET 112
#define DELTA_SHA    176

/* ---- persisted state ---- */

static void fota_save(struct sim *s)
{
    struct sim_fota *f = &s->fota;
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "status %d\npending %d\nmethod %s\npath %s\nprogress %d\napplies %ld\n"
                     "updates %ld\nbootloop %d\n",
                     f->status, f->pending, f->method[0] ? f->method : "-",
                     f->path[0] ? f->path : "-", f->progress, f->applies, f->updates, f->bootloop);
    sim_flash_put(s, SIM_AREA_SYS, "fota", buf, (size_t)n);
}

static void fota_load(struct sim *s)
{
    struct sim_fota *f = &s->fota;
    if (f->loaded)
        return;
    memset(f, 0, sizeof *f);
    f->loaded = true;
    f->status = 8;
    const struct sim_file *file = sim_flash_get(s, SIM_AREA_SYS, "fota");
    if (!file)
        return;
    char *text = sim_xmemdup(file->data, file->len);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char key[16], val[200];
        if (sscanf(line, "%15s %199s", key, val) != 2)
            continue;
        if (strcmp(key, "status") == 0)
            f->status = atoi(val);
        else if (strcmp(key, "pending") == 0)
            f->pending = atoi(val) != 0;
        else if (strcmp(key, "method") == 0 && strcmp(val, "-") != 0)
            snprintf(f->method, sizeof f->method, "%.7s", val);
        else if (strcmp(key, "path") == 0 && strcmp(val, "-") != 0)
            snprintf(f->path, sizeof f->path, "%.159s", val);
        else if (strcmp(key, "progress") == 0)
            f->progress = atoi(val);
        else if (strcmp(key, "applies") == 0)
            f->applies = atol(val);
        else if (strcmp(key, "updates") == 0)
            f->updates = atol(val);
        else if (strcmp(key, "bootloop") == 0)
            f->bootloop = atoi(val) != 0;
    }
    free(text);
}

static void stats_save(struct sim *s)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "steps %ld\ndata_bytes %ld\napplies %ld\nupdates %ld\n",
                     s->at.step, s->fs.data_bytes, s->fota.applies, s->fota.updates);
    sim_flash_put(s, SIM_AREA_SYS, "stats", buf, (size_t)n);
}

/* ---- the delta ---- */

/* The profile's model without the vendor prefix: "SIMCOM_SIM7600SA" → "SIM7600SA". */
static const char *model_name(const struct sim_profile *p)
{
    return strncasecmp(p->model, "SIMCOM_", 7) == 0 ? p->model + 7 : p->model;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Field of n bytes as a NUL-terminated string (the field is NUL-padded). */
static void field(const uint8_t *p, size_t n, char *out)
{
    size_t k = 0;
    while (k < n - 1 && p[k])
        k++;
    memcpy(out, p, k);
    out[k] = '\0';
}

/* Checks a delta for this module; fills target. why says what is wrong. */
static bool delta_ok(struct sim *s, const struct sim_file *f, char *target, char *why, size_t cap)
{
    char model[33], source[65];
    if (!f) {
        snprintf(why, cap, "no delta file");
        return false;
    }
    if (f->len < DELTA_HDR || memcmp(f->data, DELTA_MAGIC, 8) != 0 ||
        get_le32(f->data + 8) != DELTA_HDR) {
        snprintf(why, cap, "not a delta");
        return false;
    }
    uint32_t plen = get_le32(f->data + 12);
    field(f->data + DELTA_MODEL, 32, model);
    field(f->data + DELTA_SOURCE, 64, source);
    field(f->data + DELTA_TARGET, 64, target);
    uint8_t sha[SHA256_DIGEST_LENGTH];
    if (f->len != (size_t)DELTA_HDR + plen) {
        snprintf(why, cap, "length %zu, header says %u", f->len, DELTA_HDR + plen);
        return false;
    }
    SHA256(f->data + DELTA_HDR, plen, sha);
    if (memcmp(sha, f->data + DELTA_SHA, sizeof sha) != 0) {
        snprintf(why, cap, "payload corrupt (SHA-256 mismatch)");
        return false;
    }
    if (strcasecmp(model, model_name(s->base_prof)) != 0) {
        snprintf(why, cap, "delta for model %s", model);
        return false;
    }
    if (strcmp(source, sim_revision(s)) != 0) {
        snprintf(why, cap, "delta from %s, running %s", source, sim_revision(s));
        return false;
    }
    if (!target[0]) {
        snprintf(why, cap, "no target revision");
        return false;
    }
    return true;
}

/* ---- the update, run at boot ---- */

static bool is_cfota(struct sim *s)
{
    return strcmp(s->fota.method, "cfota") == 0;
}

static void update_step(struct sim *s, void *ctx, intptr_t arg);

static void update_end(struct sim *s, bool ok, const char *target)
{
    struct sim_fota *f = &s->fota;
    if (ok) {
        sim_log(s, "fota: updated %s -> %s", sim_revision(s), target);
        sim_flash_set_revision(s, target);
        f->status = 6;
        f->updates++;
        f->bootloop = sim_fault_bootloop_ms(s) > 0;
    } else {
        f->status = 7;
    }
    f->pending = false;
    f->progress = 0;
    if (!is_cfota(s))
        sim_flash_del(s, SIM_AREA_FS, f->path); /* UNVERIFIED: recovery consumes it */
    fota_save(s);
    if (is_cfota(s))
        sim_urc(s, ok ? "+CFOTA: \"Update successfully, please wait for reset\""
                      : "+CFOTA: \"Update failed, please wait for reset\"");
    sim_dev_reset_when_flushed(s);
}

static void update_step(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    struct sim_fota *f = &s->fota;
    char target[65], why[120];
    int step_ms = s->opt.fota_time_ms / 10 > 0 ? s->opt.fota_time_ms / 10 : 1;
    if (arg == 0) {
        /* first step of this boot: check the delta again (a resumed update too) */
        if (is_cfota(s))
            sim_urc(s, "+CFOTA: \"Start to update\"");
        if (!delta_ok(s, sim_flash_get(s, SIM_AREA_FS, f->path), target, why, sizeof why)) {
            sim_log(s, "fota: update fails: %s", why);
            update_end(s, false, NULL);
            return;
        }
    }
    f->progress += 10;
    if (f->progress > 100)
        f->progress = 100;
    fota_save(s);
    if (sim_fault_update(s, f->progress))
        return; /* power cut: the next boot continues from the persisted progress */
    if (is_cfota(s))
        sim_urc(s, "+CFOTA: \"Updating\",%d", f->progress);
    if (f->progress >= 100) {
        delta_ok(s, sim_flash_get(s, SIM_AREA_FS, f->path), target, why, sizeof why);
        update_end(s, true, target);
        return;
    }
    sim_timer_add(s, step_ms, update_step, NULL, 1, 0);
}

static void loop_reset(struct sim *s, void *ctx, intptr_t arg)
{
    (void)ctx;
    (void)arg;
    sim_log(s, "fota: boot loop: resetting");
    sim_dev_reset(s, false);
}

static void power_on(struct sim *s)
{
    if (!s->base_prof)
        s->base_prof = s->prof;
    fota_load(s);
    /* the running revision decides what the firmware can do */
    s->prof = sim_profile_effective(s->base_prof, sim_revision(s));
    s->fw_hold = false;
    struct sim_fota *f = &s->fota;
    if (f->bootloop) {
        if (s->cold_boot) {
            sim_log(s, "fota: cold boot clears the boot loop");
            f->bootloop = false;
            fota_save(s);
        } else {
            long ms = sim_fault_bootloop_ms(s);
            s->fw_hold = true;
            sim_timer_add(s, ms > 0 ? ms : 1500, loop_reset, NULL, 0, 0);
            return;
        }
    }
    if (f->pending) {
        sim_log(s, "fota: %s update %s at %d%%", f->method, f->progress ? "continues" : "starts",
                f->progress);
        s->fw_hold = true;
        int step_ms = s->opt.fota_time_ms / 10 > 0 ? s->opt.fota_time_ms / 10 : 1;
        sim_timer_add(s, step_ms, update_step, NULL, 0, 0);
    }
}

static void power_off(struct sim *s)
{
    if (s->fota.loaded)
        stats_save(s);
}

/* ---- commands ---- */

static int start_update(struct sim *s, const char *method, const char *path)
{
    struct sim_fota *f = &s->fota;
    if (!sim_flash_get(s, SIM_AREA_FS, path))
        return SIM_ERROR; /* UNVERIFIED: no delta file */
    snprintf(f->method, sizeof f->method, "%s", method);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->pending = true;
    f->progress = 0;
    f->status = 1;
    f->applies++;
    fota_save(s);
    stats_save(s);
    sim_dev_reset_when_flushed(s);
    return SIM_OK;
}

static int h_cfota(struct sim *s, const struct sim_req *r)
{
    long mode;
    if (r->type == SIM_REQ_READ) {
        sim_reply(s, "+CFOTA: %d", s->fota.status);
        return SIM_OK;
    }
    if (r->type != SIM_REQ_SET || r->nargs != 1 || !sim_arg_long(r, 0, &mode))
        return SIM_ERROR;
    if (mode == 0) {
        s->fota.status = 8; /* S7 §3.1: "Clean the flag" */
        fota_save(s);
        return SIM_OK;
    }
    if (mode != 1)
        return SIM_ERROR;
    /* S7 §5.2: the delta must be /fota/update.zip */
    return start_update(s, "cfota", "/fota/update.zip");
}

static int h_cdelta(struct sim *s, const struct sim_req *r)
{
    char in[160], path[170];
    if (r->type == SIM_REQ_EXEC) {
        snprintf(path, sizeof path, "F:/update.zip"); /* UNVERIFIED default */
    } else if (r->type == SIM_REQ_SET && sim_arg_str(r, 0, in, sizeof in)) {
        if (strncasecmp(in, "/cache/", 7) == 0)
            snprintf(path, sizeof path, "F:/%s", in + 7);
        else if ((in[0] == 'F' || in[0] == 'f') && in[1] == ':' && in[2] == '/')
            snprintf(path, sizeof path, "F:/%s", in + 3);
        else
            return SIM_ERROR;
    } else {
        return SIM_ERROR;
    }
    return start_update(s, "cdelta", path);
}

static const struct sim_cmd cmds[] = {
    {"+CFOTA", SIM_CAP_CFS, 0, h_cfota, "+CFOTA: (0,1)"},
    {"+CDELTA", SIM_CAP_FS7600, 0, h_cdelta, NULL},
    {NULL, 0, 0, NULL, NULL},
};

const struct sim_module sim_mod_fota = {"fota", cmds, power_on, power_off};

/* ---- modemsim --make-delta ---- */

static void make_delta_usage(FILE *out)
{
    fputs("Usage: modemsim --make-delta (--profile NAME | --model M --from REV) [--to REV]\n"
          "                [--size N] [--seed N] [--corrupt] -o FILE\n"
          "\n"
          "Writes a simulated delta: a 256-byte header (\"MKSIMDL1\", model, source and\n"
          "target revision, payload length, SHA-256 of the payload) and N payload bytes\n"
          "(default 4096) of seeded filler. --profile takes the model and the factory\n"
          "revision of a profile, and its first update revision as the target. --corrupt\n"
          "flips a payload byte after the hash was taken: the module refuses the update.\n",
          out);
}

int sim_fota_make_delta(int argc, char **argv)
{
    static const struct option opts[] = {
        {"make-delta", no_argument, NULL, 'm'},  {"profile", required_argument, NULL, 'p'},
        {"model", required_argument, NULL, 'M'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},    {"size", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'S'},  {"corrupt", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *from = NULL, *to = NULL, *out = NULL;
    long size = 4096;
    unsigned long long seed = 1;
    bool corrupt = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            break;
        case 'p': {
            const struct sim_profile *p = sim_profile_find(optarg);
            if (!p) {
                sim_warn("--make-delta: unknown profile %s", optarg);
                return 2;
            }
            model = model_name(p);
            from = p->revision;
            if (!to && p->revisions && p->revisions[0].revision)
                to = p->revisions[0].revision;
            break;
        }
        case 'M':
            model = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 's':
            size = atol(optarg);
            break;
        case 'S':
            seed = strtoull(optarg, NULL, 0);
            break;
        case 'c':
            corrupt = true;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            make_delta_usage(stdout);
            return 0;
        default:
            make_delta_usage(stderr);
            return 2;
        }
    }
    if (!model || !from || !to || !out || size < 1 || size > (1L << 30) || strlen(model) > 31 ||
        strlen(from) > 63 || strlen(to) > 63) {
        make_delta_usage(stderr);
        return 2;
    }
    size_t total = (size_t)DELTA_HDR + (size_t)size;
    uint8_t *d = calloc(1, total);
    if (!d)
        return 1;
    memcpy(d, DELTA_MAGIC, 8);
    put_le32(d + 8, DELTA_HDR);
    put_le32(d + 12, (uint32_t)size);
    memcpy(d + DELTA_MODEL, model, strlen(model));
    memcpy(d + DELTA_SOURCE, from, strlen(from));
    memcpy(d + DELTA_TARGET, to, strlen(to));
    struct sim_rng rng;
    sim_rng_seed(&rng, seed, 9);
    for (long i = 0; i < size; i++)
        d[DELTA_HDR + i] = (uint8_t)sim_rng_u32(&rng);
    SHA256(d + DELTA_HDR, (size_t)size, d + DELTA_SHA);
    if (corrupt)
        d[DELTA_HDR + size / 2] ^= 0x5a;
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(d, 1, total, f) != total || fclose(f) != 0) {
        sim_warn("--make-delta: cannot write %s", out);
        free(d);
        return 1;
    }
    free(d);
    return 0;
}
