/*
 * The update job: pre-flight, resumable transfer, apply, reboots, verification.
 *
 * Two rules shape everything here:
 *   1. The module is the truth, the journal only says what may have happened. The
 *      transfer resumes from the size the module reports for its copy (after checking
 *      that the copy ends with the delta's bytes), never from the journal's offset.
 *   2. The apply command is written to the journal as "may have been sent" before it is
 *      sent, and once that is recorded it is never sent again before the module was
 *      asked what it did with it (AT+CFOTA?, AT+CGMR, the delta file still there).
 *
 * Everything that talks to the module runs in mk_fota_session(); a hang-up or a timeout
 * anywhere in it (module power cut, USB re-enumeration, lost serial line) leads to a
 * wait for the module and a fresh session, which takes the same decisions a resumed run
 * after a host crash would take.
 */
#include <string.h>

#include "fota_int.h"
#include "modemkit/fota.h"
#include "modemkit/simcom_fota.h"

#define MK_FOTA_LINK_RETRIES    3      /* sessions restarted after a hang-up, per run */
#define MK_FOTA_MAX_APPLIES     3      /* apply commands for one job before giving up */
#define MK_FOTA_BOOTLOOP_RESETS 5      /* resets without an AT answer that make a boot loop */
#define MK_FOTA_MAX_CYCLES      2      /* power cycles per wait */
#define MK_FOTA_PROBE_MS        2000u  /* quiet time before "AT" is tried on an open port */
#define MK_FOTA_NO_REBOOT_MS    60000u /* apply OK but no reset after this: ask the module */
#define MK_FOTA_TAIL            64u    /* bytes read back from the module's copy on resume */

static bool mk_fota_link_err(enum mk_err e)
{
    return e == MK_E_HANGUP || e == MK_E_TIMEOUT || e == MK_E_IO;
}

static uint64_t mk_fota_now(const struct mk_fota_job *job)
{
    return mk_clock_now(job->cfg.chan->clock);
}

/* ---- events and messages ---- */

static void mk_fota_event(struct mk_fota_job *job, enum mk_fota_ev_kind kind, const char *text,
                          uint64_t done, uint64_t total, int percent)
{
    const struct mk_fota_hooks *h = job->cfg.hooks;
    if (!h->progress)
        return;
    struct mk_fota_event ev = {
        .kind = kind, .text = text, .done = done, .total = total, .percent = percent};
    h->progress(h->ctx, &ev);
}

static void mk_fota_phase(struct mk_fota_job *job, const char *name)
{
    mk_fota_event(job, MK_FOTA_EV_PHASE, name, 0, 0, 0);
}

/* Sets job->msg to up to four pieces (a NULL piece ends it early). */
static void mk_fota_msg(struct mk_fota_job *job, const char *a, const char *b, const char *c,
                        const char *d)
{
    struct mk_sb sb;
    mk_sb_init(&sb, job->msg, sizeof job->msg);
    const char *parts[4] = {a, b, c, d};
    for (int i = 0; i < 4 && parts[i]; i++)
        mk_sb_puts(&sb, parts[i]);
}

/* Appends to job->msg. */
static void mk_fota_msg_add(struct mk_fota_job *job, const char *a)
{
    size_t len = strlen(job->msg);
    struct mk_sb sb;
    mk_sb_init(&sb, job->msg + len, sizeof job->msg - len);
    mk_sb_puts(&sb, a);
}

/* Decimal text of v in buf (24 bytes). */
static const char *mk_fota_num(char *buf, int64_t v)
{
    struct mk_sb sb;
    mk_sb_init(&sb, buf, 24);
    mk_sb_puti(&sb, v);
    return buf;
}

static void mk_fota_note(struct mk_fota_job *job, const char *a, const char *b, const char *c)
{
    char buf[MK_FOTA_MSG_CAP];
    struct mk_sb sb;
    mk_sb_init(&sb, buf, sizeof buf);
    mk_sb_puts(&sb, a);
    if (b)
        mk_sb_puts(&sb, b);
    if (c)
        mk_sb_puts(&sb, c);
    mk_fota_event(job, MK_FOTA_EV_NOTE, buf, 0, 0, 0);
}

/* ---- journal ---- */

static enum mk_err mk_fota_save(struct mk_fota_job *job)
{
    size_t len;
    enum mk_err e = mk_fota_journal_encode(&job->journal, job->jtext, sizeof job->jtext, &len);
    if (e != MK_OK)
        return e;
    const struct mk_fota_store *st = job->cfg.store;
    return st->save(st->ctx, job->pkg->id_hex, job->jtext, len);
}

static void mk_fota_journal_new(struct mk_fota_job *job)
{
    struct mk_fota_journal *j = &job->journal;
    const struct mk_fota_manifest *m = &job->pkg->man;
    memset(j, 0, sizeof *j);
    memcpy(j->package, job->pkg->id_hex, sizeof j->package);
    memcpy(j->model, m->model, sizeof j->model);
    memcpy(j->source, m->source, sizeof j->source);
    memcpy(j->target, m->target, sizeof j->target);
    j->method = m->method;
    j->delta_size = m->delta_size;
    j->state = MK_FOTA_STATE_IDLE;
    j->result = MK_FOTA_RES_INITIAL;
    job->fresh = true;
}

static enum mk_err mk_fota_load(struct mk_fota_job *job)
{
    const struct mk_fota_store *st = job->cfg.store;
    size_t len = 0;
    enum mk_err e = st->load(st->ctx, job->pkg->id_hex, job->jtext, sizeof job->jtext, &len);
    if (e == MK_E_NOENT) {
        mk_fota_journal_new(job);
        return MK_OK;
    }
    if (e == MK_OK)
        e = mk_fota_journal_decode(&job->journal, job->jtext, len);
    if (e == MK_OK && strcmp(job->journal.package, job->pkg->id_hex) != 0)
        e = MK_E_JOURNAL;
    if (e != MK_OK) {
        mk_fota_msg(job, "the journal of package ", job->pkg->id_hex,
                    " cannot be read; move it away to start this job afresh", NULL);
        return e == MK_E_NOSPC ? MK_E_JOURNAL : e;
    }
    if (job->journal.final) {
        mk_fota_note(job, "a previous attempt with this package ended (",
                     mk_fota_result_name(job->journal.result), "); starting a new attempt");
        mk_fota_journal_new(job);
    }
    return MK_OK;
}

/* ---- URCs while the module updates ---- */

static void mk_fota_on_urc(void *user, const char *line, size_t len)
{
    struct mk_fota_job *job = user;
    int percent = 0;
    int kind = job->ops->parse_urc ? job->ops->parse_urc(line, len, &percent) : 0;
    job->urc_activity = true;
    if (kind == MK_FOTA_URC_OTHER)
        return;
    job->upd_event = kind;
    if (kind == MK_FOTA_URC_PROGRESS) {
        job->upd_percent = percent;
        mk_fota_event(job, MK_FOTA_EV_UPDATE, "updating", 0, 0, percent);
    } else if (kind == MK_FOTA_URC_START) {
        mk_fota_event(job, MK_FOTA_EV_NOTE, "the module started updating", 0, 0, 0);
    } else if (kind == MK_FOTA_URC_SUCCESS) {
        if (job->upd_percent < 100)
            mk_fota_event(job, MK_FOTA_EV_UPDATE, "updating", 0, 0, 100);
        job->upd_percent = 100;
        mk_fota_event(job, MK_FOTA_EV_NOTE, "the module reports the update succeeded", 0, 0, 0);
    } else if (kind == MK_FOTA_URC_FAILED) {
        mk_fota_event(job, MK_FOTA_EV_NOTE, "the module reports the update failed", 0, 0, 0);
    }
}

/* Boot, SIM and network URCs while the job runs: swallowed, so that they are never
 * taken for a line of an answer (AT+CGMR's first line is the revision). */
static void mk_fota_on_other(void *user, const char *line, size_t len)
{
    (void)line;
    (void)len;
    struct mk_fota_job *job = user;
    job->urc_activity = true;
}

static void mk_fota_urcs_add(struct mk_fota_job *job)
{
    size_t n = 0;
    if (job->ops->urc_prefix)
        job->urcs[n++] = (struct mk_at_urc){job->ops->urc_prefix, mk_fota_on_urc, job};
    for (const char *const *p = mk_modem_spontaneous; *p && n < MK_FOTA_MAX_URCS; p++)
        job->urcs[n++] = (struct mk_at_urc){*p, mk_fota_on_other, job};
    job->n_urcs = n;
    mk_at_add_urcs(&job->cfg.chan->at, job->urcs, n);
}

/* ---- waiting for the module ---- */

static enum mk_err mk_fota_power_cycle(struct mk_fota_job *job, const char *why)
{
    const struct mk_fota_hooks *h = job->cfg.hooks;
    mk_fota_phase(job, "power-cycle");
    mk_fota_note(job, why, ": running the power-cycle command", NULL);
    job->journal.power_cycled = true;
    enum mk_err e = mk_fota_save(job);
    if (e != MK_OK)
        return e;
    job->stats.power_cycles++;
    e = h->power_cycle(h->ctx);
    if (e != MK_OK)
        mk_fota_msg(job, "the power-cycle command failed (", mk_strerror(e), ")", NULL);
    return e;
}

/*
 * Waits until the module's AT firmware answers again. With expect_reboot, an answer on
 * the port that was open before counts only after the port went away once (the module
 * acknowledges the apply command before it resets). Reopens the port after every
 * hang-up; counts resets without an AT answer (URCs in between show a module that is
 * busy updating, not looping) and runs the power-cycle hook for a boot loop or a module
 * that stays away past the deadline.
 */
static enum mk_err mk_fota_wait_back(struct mk_fota_job *job, bool expect_reboot)
{
    struct mk_at_chan *ch = job->cfg.chan;
    const struct mk_fota_hooks *h = job->cfg.hooks;
    uint64_t start = mk_fota_now(job), deadline = start + job->cfg.reboot_timeout_ms;
    uint64_t last_activity = start;
    bool went_down = !expect_reboot;
    unsigned silent_resets = 0, cycles = 0;
    enum mk_err e;
    for (;;) {
        uint64_t now = mk_fota_now(job);
        if (job->urc_activity) {
            job->urc_activity = false;
            silent_resets = 0;
            last_activity = now;
        }
        if (silent_resets >= MK_FOTA_BOOTLOOP_RESETS) {
            if (!h->power_cycle || cycles >= MK_FOTA_MAX_CYCLES) {
                mk_fota_msg(job,
                            "the module is in a boot loop: it keeps resetting without "
                            "answering AT commands",
                            h->power_cycle ? " even after a hard power cycle"
                                           : "; configure a power-cycle command",
                            NULL, NULL);
                return MK_E_BOOTLOOP;
            }
            e = mk_fota_power_cycle(job, "the module keeps resetting without answering AT "
                                         "commands (boot loop)");
            if (e != MK_OK)
                return e;
            cycles++;
            silent_resets = 0;
            went_down = false;
            deadline = mk_fota_now(job) + job->cfg.reboot_timeout_ms;
            continue;
        }
        if (now >= deadline) {
            if (h->power_cycle && cycles < MK_FOTA_MAX_CYCLES) {
                e = mk_fota_power_cycle(job, "the module did not come back in time");
                if (e != MK_OK)
                    return e;
                cycles++;
                went_down = false;
                deadline = mk_fota_now(job) + job->cfg.reboot_timeout_ms;
                continue;
            }
            mk_fota_msg(job,
                        "the module did not come back (no AT answer within the reboot "
                        "timeout)",
                        h->power_cycle ? " even after a hard power cycle"
                                       : "; a power-cycle command would be tried if configured",
                        NULL, NULL);
            return MK_E_FOTA_NOT_BACK;
        }
        if (ch->io_err != MK_OK) {
            went_down = true;
            e = h->reopen(h->ctx, deadline);
            if (e == MK_OK) {
                job->stats.reconnects++;
                return MK_OK;
            }
            if (e == MK_E_HANGUP && !job->urc_activity)
                silent_resets++;
            else if (e != MK_E_HANGUP && e != MK_E_TIMEOUT)
                return e; /* waiting cannot fix it */
            continue;
        }
        e = mk_at_pump(ch, 200);
        if (e == MK_E_HANGUP) {
            if (!job->urc_activity && went_down)
                silent_resets++;
            went_down = true;
            continue;
        }
        now = mk_fota_now(job);
        if (job->urc_activity || now - last_activity < MK_FOTA_PROBE_MS)
            continue;
        last_activity = now;
        e = mk_at_simple(ch, "AT", 500, NULL, 0, NULL);
        if (e == MK_OK && (went_down || now - start >= MK_FOTA_NO_REBOOT_MS)) {
            /* a module that rebooted has its echo on again (S1 §2.2) */
            e = mk_at_simple(ch, "ATE0", 2000, NULL, 0, NULL);
            if (e == MK_OK)
                return MK_OK;
        }
    }
}

/* ---- module checks ---- */

static enum mk_err mk_fota_identify(struct mk_fota_job *job)
{
    enum mk_err e = mk_modem_identify(job->cfg.chan, &job->id);
    if (e != MK_OK && !mk_fota_link_err(e))
        mk_fota_msg(job, "cannot identify the module (", mk_strerror(e), ")", NULL);
    return e;
}

static enum mk_err mk_fota_check_module(struct mk_fota_job *job)
{
    const struct mk_fota_manifest *m = &job->pkg->man;
    const struct mk_modem_id *id = &job->id;
    if (!mk_fota_model_match(m->model, id->model)) {
        mk_fota_msg(job, "the package is for model ", m->model, "; the module is ", id->model);
        return MK_E_FOTA_MODEL;
    }
    enum mk_fota_method want = mk_simcom_fota_method_for(id->family);
    if (want != m->method) {
        mk_fota_msg(job, "the package's method ", mk_fota_method_name(m->method),
                    " does not work on ", id->model);
        mk_fota_msg_add(job,
                        want == MK_FOTA_METHOD_NONE ? " (no AT FOTA method known)" : "; it takes ");
        if (want != MK_FOTA_METHOD_NONE)
            mk_fota_msg_add(job, mk_fota_method_name(want));
        return MK_E_FOTA_MODEL;
    }
    if (strcmp(id->revision, m->target) == 0) {
        job->stats.already = true;
        mk_fota_msg(job, "the module already runs the target revision ", m->target, NULL, NULL);
        return MK_OK;
    }
    if (strcmp(id->revision, m->source) != 0) {
        mk_fota_msg(job, "the package updates revision ", m->source, "; the module runs ",
                    id->revision);
        return MK_E_FOTA_SOURCE;
    }
    return MK_OK;
}

/* ---- transfer ---- */

static enum mk_err mk_fota_pkg_read(struct mk_fota_job *job, uint64_t off, uint8_t *buf, size_t n)
{
    const struct mk_fota_reader *rd = job->pkg->rd;
    return rd->read(rd->ctx, job->pkg->delta_off + off, buf, n);
}

/*
 * The module's copy must end with the delta's bytes before the transfer continues after
 * it: a host that died mid-chunk can leave a chunk that the module completed with
 * whatever came next on the line (the next run's "AT" probes). MK_E_CRC on mismatch.
 */
static enum mk_err mk_fota_check_tail(struct mk_fota_job *job, uint64_t have)
{
    if (!job->ops->read)
        return MK_OK;
    uint8_t *mod = job->cfg.buf, *ref = job->cfg.buf + MK_FOTA_TAIL;
    size_t k = have < MK_FOTA_TAIL ? (size_t)have : MK_FOTA_TAIL;
    enum mk_err e = job->ops->read(job->cfg.chan, have - k, mod, k);
    if (e != MK_OK)
        return mk_fota_link_err(e) ? e : MK_E_CRC;
    e = mk_fota_pkg_read(job, have - k, ref, k);
    if (e != MK_OK)
        return e;
    return memcmp(mod, ref, k) == 0 ? MK_OK : MK_E_CRC;
}

static enum mk_err mk_fota_fetch(struct mk_fota_job *job)
{
    const struct mk_fota_manifest *m = &job->pkg->man;
    int status = -1;
    mk_fota_phase(job, "fetch");
    mk_fota_note(job, "the module downloads the delta itself from ", m->url, NULL);
    enum mk_err e = job->ops->fetch(job->cfg.chan, m->url, job->cfg.reboot_timeout_ms, &status);
    if (e == MK_OK) {
        job->stats.fetched = true;
        mk_fota_event(job, MK_FOTA_EV_TRANSFER, "transfer", m->delta_size, m->delta_size, 100);
        return MK_OK;
    }
    if (mk_fota_link_err(e) && status < 0)
        return e;
    char num[24];
    mk_fota_msg(job, "the module could not fetch the delta from ", m->url, " (",
                status >= 0 ? "status " : mk_strerror(e));
    if (status >= 0)
        mk_fota_msg_add(job, mk_fota_num(num, status));
    mk_fota_msg_add(job, ")");
    return MK_E_FOTA_FAILED;
}

static enum mk_err mk_fota_transfer(struct mk_fota_job *job)
{
    const struct mk_fota_target_ops *ops = job->ops;
    struct mk_at_chan *ch = job->cfg.chan;
    struct mk_fota_journal *j = &job->journal;
    uint64_t total = job->pkg->man.delta_size, have = 0, resume = 0;
    enum mk_err e = ops->file_size(ch, &have);
    bool exists = e == MK_OK;
    if (e != MK_OK && e != MK_E_NOENT)
        return e;
    bool url = job->pkg->man.url[0] && ops->fetch && !job->cfg.push_only;
    if (exists && !job->fresh && j->state >= MK_FOTA_STATE_DOWNLOADING && have > 0 &&
        have <= total && (!url || have == total)) {
        e = mk_fota_check_tail(job, have);
        if (e == MK_OK)
            resume = have;
        else if (e == MK_E_CRC)
            mk_fota_note(job,
                         "the module's copy of the delta does not end with the delta's "
                         "bytes; starting the transfer over",
                         NULL, NULL);
        else
            return e;
    } else if (exists && have > 0) {
        mk_fota_note(job, "removing a file this job did not write: ", ops->file, NULL);
    }
    if (exists && resume == 0 && (e = ops->remove(ch)) != MK_OK)
        return e;
    if (ops->free_space && resume < total) {
        uint64_t free_bytes = 0;
        if ((e = ops->free_space(ch, &free_bytes)) != MK_OK)
            return e;
        if (free_bytes < total - resume) {
            char need[24], got[24];
            mk_fota_msg(job, "the delta needs ", mk_fota_num(need, (int64_t)(total - resume)),
                        " bytes on the module; it has ", mk_fota_num(got, (int64_t)free_bytes));
            mk_fota_msg_add(job, " bytes free");
            return MK_E_FOTA_SPACE;
        }
    }
    j->state = MK_FOTA_STATE_DOWNLOADING;
    j->result = MK_FOTA_RES_INITIAL;
    j->offset = resume;
    job->stats.resumed_from = resume;
    if ((e = mk_fota_save(job)) != MK_OK)
        return e;
    job->fresh = false; /* from here on the module's copy is this job's */
    mk_fota_phase(job, "transfer");
    if (resume == total) {
        mk_fota_note(job, "the module already holds the whole delta", NULL, NULL);
    } else if (url) {
        if ((e = mk_fota_fetch(job)) != MK_OK)
            return e;
    } else {
        if (resume)
            mk_fota_note(job, "resuming the transfer where the module's copy ends", NULL, NULL);
        size_t chunk = ops->max_chunk;
        if (chunk > job->cfg.buf_cap)
            chunk = job->cfg.buf_cap;
        if (job->cfg.chunk_max && chunk > job->cfg.chunk_max)
            chunk = job->cfg.chunk_max;
        uint32_t every = job->cfg.journal_every ? job->cfg.journal_every : 8;
        mk_fota_event(job, MK_FOTA_EV_TRANSFER, "transfer", resume, total, 0);
        for (uint64_t off = resume; off < total;) {
            size_t n = total - off < chunk ? (size_t)(total - off) : chunk;
            if ((e = mk_fota_pkg_read(job, off, job->cfg.buf, n)) != MK_OK)
                return e;
            e = ops->write(ch, off, job->cfg.buf, n, job->cfg.line_rate_bps);
            if (e != MK_OK) {
                if (!mk_fota_link_err(e))
                    mk_fota_msg(job, "the module refused a chunk of the delta (", mk_strerror(e),
                                ")", NULL);
                return e;
            }
            off += n;
            j->offset = off;
            job->stats.bytes_sent += n;
            job->stats.chunks_sent++;
            mk_fota_event(job, MK_FOTA_EV_TRANSFER, "transfer", off, total, 0);
            if (job->stats.chunks_sent % every == 0 && (e = mk_fota_save(job)) != MK_OK)
                return e;
        }
    }
    e = ops->file_size(ch, &have);
    if (e != MK_OK && e != MK_E_NOENT)
        return e;
    if (e == MK_E_NOENT || have != total) {
        char want[24], got[24];
        mk_fota_msg(job, "after the transfer the module's copy has ",
                    mk_fota_num(got, e == MK_OK ? (int64_t)have : 0), " bytes; the delta has ",
                    mk_fota_num(want, (int64_t)total));
        ops->remove(ch);
        j->offset = 0;
        return MK_E_FOTA_INTEGRITY;
    }
    j->offset = total;
    j->state = MK_FOTA_STATE_DOWNLOADED;
    return mk_fota_save(job);
}

/* begin (AT+CFSINIT) ... end (AT+CFSTERM) around file operations. */
static enum mk_err mk_fota_with_fs(struct mk_fota_job *job,
                                   enum mk_err (*fn)(struct mk_fota_job *job))
{
    const struct mk_fota_target_ops *ops = job->ops;
    enum mk_err e = ops->begin ? ops->begin(job->cfg.chan) : MK_OK;
    if (e != MK_OK)
        return e;
    e = fn(job);
    if (ops->end && !mk_fota_link_err(e)) {
        enum mk_err e2 = ops->end(job->cfg.chan);
        if (e == MK_OK)
            e = e2;
    }
    return e;
}

/* Size of the module's copy into job->module_size; 0 when it has none. */
static enum mk_err mk_fota_size_fn(struct mk_fota_job *job)
{
    enum mk_err e = job->ops->file_size(job->cfg.chan, &job->module_size);
    if (e == MK_E_NOENT) {
        job->module_size = 0;
        return MK_OK;
    }
    return e;
}

/* ---- apply and verify ---- */

static enum mk_err mk_fota_apply(struct mk_fota_job *job);

static enum mk_err mk_fota_post(struct mk_fota_job *job)
{
    const struct mk_fota_manifest *m = &job->pkg->man;
    if ((m->post & MK_FOTA_POST_HARD_POWER_CYCLE) && !job->journal.power_cycled) {
        enum mk_err e = mk_fota_power_cycle(job, "the package requires a hard power cycle "
                                                 "after the update");
        if (e != MK_OK)
            return e;
        e = mk_fota_wait_back(job, true);
        if (e != MK_OK)
            return e;
        mk_fota_phase(job, "verify");
        if ((e = mk_fota_identify(job)) != MK_OK)
            return e;
        if (strcmp(job->id.revision, m->target) != 0) {
            mk_fota_msg(job, "after the power cycle the module reports ", job->id.revision,
                        "; expected ", m->target);
            return MK_E_FOTA_VERSION;
        }
    }
    mk_fota_msg(job, "the module was updated from ", m->source, " to ", m->target);
    return MK_OK;
}

/*
 * The apply command may have reached the module (it was sent, or a run died around it).
 * Ask the module what happened and act on its answer only.
 */
static enum mk_err mk_fota_verify(struct mk_fota_job *job)
{
    const struct mk_fota_manifest *m = &job->pkg->man;
    const struct mk_fota_target_ops *ops = job->ops;
    struct mk_fota_journal *j = &job->journal;
    enum mk_err e;
    for (int round = 0;; round++) {
        mk_fota_phase(job, "verify");
        if (round > 0 && (e = mk_fota_identify(job)) != MK_OK)
            return e;
        int st = -1;
        if (ops->status) {
            e = ops->status(job->cfg.chan, &st);
            if (mk_fota_link_err(e))
                return e;
            if (e != MK_OK)
                st = -1;
        }
        const char *rev = job->id.revision;
        if (strcmp(rev, m->target) == 0) {
            if (st == 7)
                mk_fota_note(job,
                             "the module's update status says failed (7) but it runs the "
                             "target revision; the revision counts",
                             NULL, NULL);
            return mk_fota_post(job);
        }
        if (strcmp(rev, m->source) != 0) {
            mk_fota_msg(job, "after the update the module reports ", rev, "; expected ", m->target);
            return MK_E_FOTA_VERSION;
        }
        if (st >= 1 && st <= 5 && round < 4) {
            mk_fota_note(job, "the module is still updating; waiting", NULL, NULL);
            if ((e = mk_fota_wait_back(job, false)) != MK_OK)
                return e;
            continue;
        }
        if (st == 7) {
            mk_fota_msg(job, "the module reports the update failed (AT+CFOTA? 7); it still runs ",
                        m->source, NULL, NULL);
            return MK_E_FOTA_FAILED;
        }
        if (st == 6) {
            mk_fota_msg(job, "the module reports success (AT+CFOTA? 6) but still runs ", m->source,
                        "; expected ", m->target);
            return MK_E_FOTA_VERSION;
        }
        /* Status 8 (flag clean) or no status command: did the apply ever take? */
        if ((e = mk_fota_with_fs(job, mk_fota_size_fn)) != MK_OK)
            return e;
        bool present = job->module_size == m->delta_size;
        if (!present && !ops->status) {
            mk_fota_msg(job, "the module ran the update (the delta file is gone) but still runs ",
                        m->source, "; expected ", m->target);
            return MK_E_FOTA_VERSION;
        }
        if (j->apply_count >= MK_FOTA_MAX_APPLIES) {
            mk_fota_msg(job, "the module did not start the update after repeated ", ops->apply_text,
                        "; it still runs ", m->source);
            return MK_E_FOTA_FAILED;
        }
        mk_fota_note(job,
                     "the module never started the update (it still runs the source "
                     "revision",
                     present ? " and holds the delta)" : ", delta incomplete)", NULL);
        j->apply_sent = false;
        if (!present) {
            j->state = MK_FOTA_STATE_DOWNLOADING;
            e = mk_fota_with_fs(job, mk_fota_transfer);
            if (e != MK_OK)
                return e;
        } else {
            j->state = MK_FOTA_STATE_DOWNLOADED;
        }
        return mk_fota_apply(job);
    }
}

static enum mk_err mk_fota_apply(struct mk_fota_job *job)
{
    const struct mk_fota_target_ops *ops = job->ops;
    struct mk_at_chan *ch = job->cfg.chan;
    struct mk_fota_journal *j = &job->journal;
    enum mk_err e;
    mk_fota_phase(job, "apply");
    if (ops->status) {
        /* Make the module's update status known (8, flag clean) before the apply, so
         * that after a crash a 6 or 7 can only be this update's outcome. */
        int st = -1;
        e = ops->status(ch, &st);
        if (mk_fota_link_err(e))
            return e;
        if (e == MK_OK && st != 8 && ops->clear && (e = ops->clear(ch)) != MK_OK &&
            mk_fota_link_err(e))
            return e;
    }
    j->state = MK_FOTA_STATE_UPDATING;
    j->apply_sent = true;
    j->apply_count++;
    j->result = MK_FOTA_RES_INITIAL;
    if ((e = mk_fota_save(job)) != MK_OK)
        return e; /* never send it unrecorded */
    job->upd_event = MK_FOTA_URC_OTHER;
    job->upd_percent = 0;
    job->urc_activity = false;
    job->stats.applies_sent++;
    mk_fota_note(job, "sending ", ops->apply_text, NULL);
    e = ops->apply(ch);
    if (e != MK_OK && !mk_fota_link_err(e)) {
        j->apply_sent = false;
        j->state = MK_FOTA_STATE_DOWNLOADED;
        mk_fota_msg(job, "the module refused ", ops->apply_text, " (", mk_strerror(e));
        mk_fota_msg_add(job, ")");
        return MK_E_FOTA_FAILED;
    }
    mk_fota_phase(job, "updating");
    if ((e = mk_fota_wait_back(job, true)) != MK_OK)
        return e;
    if ((e = mk_fota_identify(job)) != MK_OK)
        return e;
    return mk_fota_verify(job);
}

/* ---- the session: everything that talks to the module ---- */

static enum mk_err mk_fota_session(struct mk_fota_job *job)
{
    enum mk_err e = mk_fota_identify(job);
    if (e != MK_OK)
        return e;
    if (job->journal.apply_sent) {
        mk_fota_note(job,
                     "the apply command may have reached the module; asking it what "
                     "happened before anything else",
                     NULL, NULL);
        return mk_fota_verify(job);
    }
    mk_fota_phase(job, "preflight");
    if ((e = mk_fota_check_module(job)) != MK_OK || job->stats.already)
        return e;
    if ((e = mk_fota_with_fs(job, mk_fota_transfer)) != MK_OK)
        return e;
    return mk_fota_apply(job);
}

/* ---- package checks: no module needed ---- */

static enum mk_err mk_fota_check_package(struct mk_fota_job *job)
{
    const struct mk_fota_pkg *pkg = job->pkg;
    const struct mk_fota_hooks *h = job->cfg.hooks;
    if ((pkg->man.post & MK_FOTA_POST_HARD_POWER_CYCLE) && !h->power_cycle) {
        mk_fota_msg(job,
                    "the package requires a hard power cycle after the update "
                    "(post action hard-power-cycle); configure a power-cycle command",
                    NULL, NULL, NULL);
        return MK_E_INVAL;
    }
    if (job->cfg.require_signature && !h->verify_sig) {
        mk_fota_msg(job, "a signature is required but no public key is configured", NULL, NULL,
                    NULL);
        return MK_E_INVAL;
    }
    if (h->verify_sig) {
        if (!pkg->has_sig) {
            if (job->cfg.require_signature) {
                mk_fota_msg(job,
                            "the package is not signed (no manifest.sig) and a signature "
                            "is required",
                            NULL, NULL, NULL);
                return MK_E_FOTA_SIGNATURE;
            }
            mk_fota_note(job, "the package is not signed; its signature is not checked", NULL,
                         NULL);
        } else if (h->verify_sig(h->ctx, (const uint8_t *)pkg->man_text, pkg->man_len, pkg->sig) !=
                   MK_OK) {
            mk_fota_msg(job,
                        "the manifest signature does not verify with the configured "
                        "public key (expected a signature by that key over manifest.json)",
                        NULL, NULL, NULL);
            return MK_E_FOTA_SIGNATURE;
        }
    } else if (pkg->has_sig) {
        mk_fota_note(job,
                     "the package is signed but no public key is configured; the "
                     "signature is not checked",
                     NULL, NULL);
    }
    return mk_fota_pkg_check_delta(pkg, job->cfg.buf, job->cfg.buf_cap, job->msg, sizeof job->msg);
}

/* ---- the run ---- */

static enum mk_err mk_fota_finish(struct mk_fota_job *job, enum mk_err e)
{
    struct mk_fota_journal *j = &job->journal;
    if (job->n_urcs)
        mk_at_remove_urcs(&job->cfg.chan->at, job->urcs);
    if (e == MK_OK) {
        j->final = true;
        j->state = MK_FOTA_STATE_IDLE;
        j->result = MK_FOTA_RES_SUCCESS;
    } else if (mk_fota_link_err(e)) {
        /* resumable: the state stays where it was */
        j->result =
            j->state == MK_FOTA_STATE_DOWNLOADING ? MK_FOTA_RES_CONN_LOST : MK_FOTA_RES_INITIAL;
        if (!job->msg[0])
            mk_fota_msg(job, "the link to the module was lost (", mk_strerror(e),
                        "); the job resumes with the next run", NULL);
    } else if (e != MK_E_JOURNAL) {
        j->final = true;
        j->state = MK_FOTA_STATE_IDLE;
        j->result = mk_fota_result_for(e);
    }
    j->err = e;
    if (!job->msg[0])
        mk_fota_msg(job, mk_strerror(e), NULL, NULL, NULL);
    memcpy(j->message, job->msg, sizeof j->message);
    j->message[sizeof j->message - 1] = '\0';
    if (e == MK_E_JOURNAL)
        return e;
    enum mk_err e2 = mk_fota_save(job);
    return e != MK_OK ? e : e2;
}

enum mk_err mk_fota_run(struct mk_fota_job *job, const struct mk_fota_config *cfg,
                        const struct mk_fota_pkg *pkg)
{
    memset(job, 0, sizeof *job);
    if (!cfg->chan || !cfg->store || !cfg->hooks || !cfg->hooks->reopen || !cfg->buf ||
        cfg->buf_cap < MK_FOTA_BUF_MIN || !pkg || !pkg->rd)
        return MK_E_INVAL;
    job->cfg = *cfg;
    if (!job->cfg.reboot_timeout_ms)
        job->cfg.reboot_timeout_ms = 300000;
    job->pkg = pkg;
    job->ops = mk_simcom_fota_ops(pkg->man.method);
    if (!job->ops)
        return MK_E_UNSUPPORTED;
    enum mk_err e = mk_fota_load(job);
    if (e != MK_OK)
        return e;
    struct mk_fota_journal *j = &job->journal;
    job->stats.resumed = !job->fresh;
    j->sessions++;
    j->reported = false;
    if (cfg->package_path)
        mk_strlcpy(j->path, cfg->package_path, sizeof j->path);
    mk_fota_urcs_add(job);
    mk_fota_phase(job, "check");
    if ((e = mk_fota_check_package(job)) != MK_OK)
        return mk_fota_finish(job, e);
    job->msg[0] = '\0';
    if ((e = mk_fota_save(job)) != MK_OK)
        return mk_fota_finish(job, e);
    for (int tries = 0;; tries++) {
        job->msg[0] = '\0';
        e = mk_fota_session(job);
        if (!mk_fota_link_err(e) || tries >= MK_FOTA_LINK_RETRIES)
            break;
        mk_fota_note(job, "lost the module (", mk_strerror(e), "); waiting for it to come back");
        if ((e = mk_fota_save(job)) != MK_OK)
            break;
        job->msg[0] = '\0';
        e = mk_fota_wait_back(job, false);
        if (e != MK_OK)
            break;
    }
    return mk_fota_finish(job, e);
}
