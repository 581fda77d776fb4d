/*
 * The agent's hooks on the host: wall-clock time, the log, and applying parameters
 * through the configured file and/or command. All of a message's values are applied or
 * none: the file is replaced atomically before the command runs and put back when the
 * command refuses.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modemd.h"

static uint64_t md_wall_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void md_agent_log(void *ctx, enum mk_agent_log_level level, const char *msg)
{
    (void)ctx;
    md_log((int)level, "%s", msg);
}

/* PARAM_<NAME> with the name upper-cased and anything else than [A-Z0-9_] as '_'. */
static char *md_env_name(const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    char *s = malloc(6 + n + 1 + v + 1);
    if (!s)
        return NULL;
    memcpy(s, "PARAM_", 6);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        s[6 + i] = isalnum(c) ? (char)toupper(c) : '_';
    }
    s[6 + n] = '=';
    memcpy(s + 7 + n, value, v + 1);
    return s;
}

static enum mk_err md_apply(void *ctx, const struct mk_agent *agent,
                            const struct mk_agent_pval *values, uint32_t changed, char *why,
                            size_t cap)
{
    struct md_apply *a = ctx;
    const struct md_config *c = a->cfg;
    char json[MK_AGENT_RECORD_CAP], old[MK_AGENT_RECORD_CAP];
    size_t len = 0, old_len = 0;
    if (mk_agent_params_json(agent, values, UINT32_MAX, json, sizeof json, &len) != MK_OK) {
        snprintf(why, cap, "the values do not fit in %u bytes of JSON", MK_AGENT_RECORD_CAP);
        return MK_E_NOSPC;
    }
    bool had_old = false;
    if (c->apply_file[0]) {
        had_old = mk_posix_file_read(c->apply_file, old, sizeof old, &old_len) == MK_OK;
        enum mk_err e = mk_posix_file_replace(c->apply_file, json, len);
        if (e != MK_OK) {
            snprintf(why, cap, "cannot write %s: %s", c->apply_file, mk_strerror(e));
            return e;
        }
    }
    if (!c->apply_command[0])
        return MK_OK;
    /* environment: MODEMD_PARAMS, MODEMD_CHANGED, PARAM_<NAME> per value */
    char *env[MK_AGENT_MAX_PARAMS + 3];
    size_t ne = 0;
    char *params_env = malloc(len + 16), *changed_env = malloc(1024);
    if (params_env) {
        snprintf(params_env, len + 16, "MODEMD_PARAMS=%.*s", (int)len, json);
        env[ne++] = params_env;
    }
    if (changed_env) {
        size_t o = (size_t)snprintf(changed_env, 1024, "MODEMD_CHANGED=");
        for (size_t i = 0; i < agent->cfg.n_params && o < 1000; i++)
            if (changed & (1u << i))
                o += (size_t)snprintf(changed_env + o, 1024 - o, "%s%s", o > 15 ? "," : "",
                                      agent->cfg.params[i].name);
        env[ne++] = changed_env;
    }
    for (size_t i = 0; i < agent->cfg.n_params; i++) {
        char v[MK_AGENT_PVAL_CAP];
        if (mk_agent_param_text(agent, values, i, v, sizeof v) != MK_OK)
            continue;
        char *e = md_env_name(agent->cfg.params[i].name, v);
        if (e)
            env[ne++] = e;
    }
    env[ne] = NULL;
    char err[240];
    int st = md_run(c->apply_command, env, json, len, NULL, 0, NULL, err, sizeof err,
                    c->apply_timeout_ms);
    for (size_t i = 0; i < ne; i++)
        free(env[i]);
    if (st == 0)
        return MK_OK;
    if (st < 0)
        snprintf(why, cap, "apply_command: %s", err);
    else if (err[0])
        snprintf(why, cap, "%s", err);
    else
        snprintf(why, cap, "apply_command exit status %d", st);
    if (c->apply_file[0]) {
        /* the command refused: the file goes back to what it was */
        if (had_old)
            mk_posix_file_replace(c->apply_file, old, old_len);
        else
            remove(c->apply_file);
    }
    return MK_E_INVAL;
}

void md_apply_init(struct md_apply *a, const struct md_config *cfg)
{
    a->cfg = cfg;
    a->ops.wall_ms = md_wall_ms;
    a->ops.apply = (cfg->apply_command[0] || cfg->apply_file[0]) ? md_apply : NULL;
    a->ops.log = md_agent_log;
    a->ops.ctx = a;
}
