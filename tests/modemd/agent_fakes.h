/*
 * Fakes for the agent core's interfaces (include/modemkit/agent.h): storage in RAM with
 * fault injection (torn appends, failing writes, corrupt bytes), a link that records
 * what was published and can be down or refuse, a counting source, an updater with a
 * scripted outcome, and a log that keeps lines for assertions.
 */
#ifndef MK_AGENT_FAKES_H
#define MK_AGENT_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modemkit/agent.h"

#define FAKE_LOG_CAP  (512u * 1024u)
#define FAKE_MAX_MSGS 4096

/* ---- storage ---- */
struct fake_store {
    uint8_t log[FAKE_LOG_CAP];
    size_t log_len;
    uint8_t next[FAKE_LOG_CAP]; /* rewrite in progress */
    size_t next_len;
    bool rewriting;
    char rec_name[4][16];
    char rec[4][4096];
    size_t rec_len[4];
    /* faults */
    int fail_appends;  /* this many next appends fail (nothing written) */
    long torn_append;  /* >= 0: the next append writes only this many bytes and fails */
    int fail_rewrites; /* this many next rewrite_end(commit) fail */
    int fail_saves;
    /* counters */
    unsigned appends, rewrites, saves;
    struct mk_agent_storage ops;
};
void fake_store_init(struct fake_store *s);

/* ---- link ---- */
struct fake_msg {
    char topic[128];
    char payload[2100];
    size_t len;
    bool retain;
};
struct fake_link {
    bool up;
    int fail_publishes; /* this many next publishes fail with MK_E_TIMEOUT */
    struct fake_msg msgs[FAKE_MAX_MSGS];
    size_t n;
    unsigned module_changed;
    char fw[64];
    struct mk_agent_link ops;
    /* called inside publish (a hook for tests: sample while publishing, etc.) */
    void (*during)(void *user);
    void *during_user;
};
void fake_link_init(struct fake_link *l);
/* Number of messages published on topic; *last gets the last one (may be NULL). */
size_t fake_link_count(const struct fake_link *l, const char *topic, const struct fake_msg **last);

/* ---- source: {"n":SEQ} for each scheduled sample; poll() delivers queued lines ---- */
struct fake_source {
    unsigned calls;
    bool skip_next;
    const char *events[16];
    size_t nevents, next_event;
    struct mk_agent_source ops;
};
void fake_source_init(struct fake_source *s, bool scheduled, bool events);

/* ---- updater ---- */
struct fake_updater {
    unsigned opens, runs;
    bool last_resume;
    enum mk_err open_err;
    struct mk_agent_pkg_info info;
    struct mk_agent_job_out out; /* what run() returns */
    const char *phases[8];       /* progress reported during run, NULL-terminated */
    int percents[8];
    unsigned reported;
    struct mk_agent_updater ops;
};
void fake_updater_init(struct fake_updater *u);

/* ---- hooks ---- */
struct fake_hooks {
    uint64_t wall;
    char log[64][400];
    size_t nlog;
    unsigned applies;
    uint32_t last_changed;
    char last_values[2048]; /* params JSON given to apply */
    enum mk_err apply_err;
    struct mk_agent_hooks ops;
};
void fake_hooks_init(struct fake_hooks *h);
bool fake_hooks_logged(const struct fake_hooks *h, const char *needle);

#endif
