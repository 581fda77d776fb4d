/*
 * The library against a live module: mosquitto on a free 127.0.0.1 port, modemsim with
 * the given options, its --link opened with the posix port, an AT channel on the real
 * clock, synced (AT, ATE0), identified and probed. For the noise test and the publish
 * benchmark (host-only code: it may allocate and print).
 */
#ifndef MK_TEST_MQTT_LIVE_H
#define MK_TEST_MQTT_LIVE_H

#include <stdio.h>
#include <string.h>

#include "modemkit/modem.h"
#include "modemkit/mqtt.h"
#include "modemkit/posix.h"
#include "support/sim_harness.h"

struct mk_live {
    char dir[256];
    char link[300];
    struct mk_broker broker;
    struct mk_sim sim;
    struct mk_posix_port port;
    struct mk_at_chan chan;
    char line[1200];
    struct mk_modem_id id;
    struct mk_modem_caps caps;
    bool broker_up, sim_up, port_up;
};

/* AT until OK within timeout_ms, then ATE0 (a noisy line may need a few tries). */
static inline enum mk_err mk_live_sync(struct mk_live *l, uint32_t timeout_ms)
{
    uint64_t end = mk_posix_now_ms() + timeout_ms;
    enum mk_err e = MK_E_TIMEOUT;
    while (mk_posix_now_ms() < end) {
        e = mk_at_simple(&l->chan, "AT", 500, NULL, 0, NULL);
        if (e == MK_OK)
            e = mk_at_simple(&l->chan, "ATE0", 500, NULL, 0, NULL);
        if (e == MK_OK)
            return MK_OK;
    }
    return e;
}

/*
 * Starts everything. extra: more modemsim options (NULL-terminated, may be NULL).
 * trace: optional AT trace. Returns 0, or -1 after printing why.
 */
static inline int mk_live_start(struct mk_live *l, const char *tag, const char *profile,
                                const char *const *extra, mk_at_trace_cb trace, void *trace_user)
{
    memset(l, 0, sizeof *l);
    if (mk_test_tmpdir(l->dir, sizeof l->dir, tag) != 0 ||
        mk_broker_start(&l->broker, l->dir, NULL) != 0)
        return -1;
    l->broker_up = true;
    snprintf(l->link, sizeof l->link, "%s/tty", l->dir);
    const char *args[40] = {"--profile",       profile, "--link",         l->link,
                            "--boot-delay-ms", "0",     "--sim-delay-ms", "0"};
    int n = 8;
    for (int i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (mk_sim_start(&l->sim, args) != 0)
        return -1;
    l->sim_up = true;
    mk_sim_close_port(&l->sim); /* the library opens the module itself, by its link */
    struct mk_posix_port_cfg pcfg = {0};
    if (mk_posix_port_open(&l->port, l->link, &pcfg) != MK_OK) {
        fprintf(stderr, "live: cannot open %s: %s\n", l->link, l->port.msg);
        return -1;
    }
    l->port_up = true;
    struct mk_at_config acfg = {0};
    acfg.line_buf = l->line;
    acfg.line_cap = sizeof l->line;
    acfg.trace = trace;
    acfg.trace_user = trace_user;
    mk_at_chan_init(&l->chan, &acfg, &l->port.io, mk_posix_clock());
    for (int tries = 0; tries < 5; tries++) {
        if (mk_live_sync(l, 10000) == MK_OK && mk_modem_identify(&l->chan, &l->id) == MK_OK &&
            mk_modem_probe(&l->chan, &l->id, &l->caps) == MK_OK &&
            (l->caps.bits & MK_CAP_MQTT_CMQTT))
            return 0;
    }
    fprintf(stderr, "live: the module could not be identified\n");
    return -1;
}

static inline void mk_live_stop(struct mk_live *l)
{
    if (l->port_up)
        mk_posix_port_close(&l->port);
    if (l->sim_up)
        mk_sim_stop(&l->sim);
    if (l->broker_up)
        mk_broker_stop(&l->broker);
    if (l->dir[0])
        mk_test_rmtree(l->dir);
}

#endif
