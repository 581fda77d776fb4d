/*
 * Fuzz target: everything the agent core reads that came from outside — parameter and
 * job messages (from the broker) and its own stored records (params, job) as a damaged
 * disk could leave them. The first byte picks which; the agent must answer or ignore,
 * never crash, never apply a rejected message.
 */
#include <stdint.h>
#include <string.h>

#include "modemd/agent_fakes.h"

static const struct mk_agent_param_def defs[] = {
    {"motor_speed", MK_AGENT_PT_INT, "0", "3000", "1200", 0},
    {"gain", MK_AGENT_PT_NUMBER, "-1.5", "2.5", NULL, 0},
    {"enabled", MK_AGENT_PT_BOOL, NULL, NULL, "true", 0},
    {"mode", MK_AGENT_PT_STRING, NULL, NULL, "\"auto\"", 8},
    {"sample_interval_ms", MK_AGENT_PT_INT, "10", NULL, NULL, 0},
};

static struct fake_store st;
static struct fake_link ln;
static struct fake_source src;
static struct fake_updater upd;
static struct fake_hooks hk;
static struct mk_agent ag;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct mk_vclock vc;
    struct mk_clock clk;
    fake_store_init(&st);
    fake_link_init(&ln);
    fake_source_init(&src, true, false);
    fake_updater_init(&upd);
    fake_hooks_init(&hk);
    mk_vclock_init(&vc, &clk, 1000);
    unsigned mode = data[0] % 4;
    data++;
    size--;
    if (mode >= 2) { /* a stored record as the disk holds it */
        st.ops.save(st.ops.ctx, mode == 2 ? "params" : "job", data, size);
        st.saves = 0;
    }
    struct mk_agent_config cfg = {0};
    cfg.storage = &st.ops;
    cfg.clock = &clk;
    cfg.source = &src.ops;
    cfg.link = &ln.ops;
    cfg.updater = &upd.ops;
    cfg.hooks = &hk.ops;
    cfg.params = defs;
    cfg.n_params = sizeof defs / sizeof defs[0];
    cfg.client_id = "x";
    cfg.topics = (struct mk_agent_topics){"t", "p", "r", "s", "j", "jr"};
    cfg.interval_ms = 1000;
    if (mk_agent_init(&ag, &cfg) != MK_OK)
        return 0;
    if (mode < 2)
        mk_agent_on_message(&ag, mode == 0 ? "p" : "j", data, size);
    char before[2048];
    mk_agent_params_json(&ag, ag.pv, UINT32_MAX, before, sizeof before, NULL);
    for (int i = 0; i < 64 && mk_agent_step(&ag, 4); i++)
        mk_vclock_advance(&vc, 100);
    /* a rejected parameter message changes nothing */
    if (mode == 0 && ag.stats.params_rejected) {
        char after[2048];
        mk_agent_params_json(&ag, ag.pv, UINT32_MAX, after, sizeof after, NULL);
        if (strcmp(before, after) != 0)
            __builtin_trap();
    }
    return 0;
}
