/*
 * modemd: the remote data-logging agent on a Linux gateway.
 *
 * The logic (schedule, queue policy, publish on PUBACK, parameters, jobs, status) is the
 * portable core in src/agent (include/modemkit/agent.h); this program gives it files,
 * the configuration, data sources, the apply hook, the FOTA updater, the module link
 * and logging, and runs the loop until SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "modemd.h"

#ifndef MODEMKIT_VERSION
#define MODEMKIT_VERSION "0"
#endif

enum {
    MD_EXIT_OK = 0,
    MD_EXIT_FAILURE = 1, /* could not start (storage, source), or --once left samples queued */
    MD_EXIT_USAGE = 2,
    MD_EXIT_CONFIG = 3, /* configuration file invalid */
};

volatile int md_stop;
int md_log_level = MK_AGENT_LOG_INFO;
static bool md_journal;

static void md_on_signal(int sig)
{
    (void)sig;
    md_stop = 1;
}

void md_log(int level, const char *fmt, ...)
{
    if (level > md_log_level)
        return;
    if (level > MK_AGENT_LOG_DEBUG)
        level = MK_AGENT_LOG_DEBUG;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (md_journal) {
        /* journald reads "<N>" as the syslog priority (sd-daemon(3)) */
        static const int prio[] = {3, 4, 6, 7};
        fprintf(stderr, "<%d>%s\n", prio[level], msg);
    } else {
        static const char *const names[] = {"error", "warning", "info", "debug"};
        struct timeval tv;
        gettimeofday(&tv, NULL);
        struct tm tm;
        localtime_r(&tv.tv_sec, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld modemd %s: %s\n", ts, (long)(tv.tv_usec / 1000), names[level],
                msg);
    }
}

static void md_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: modemd --config FILE [--once | --exit-when-done] [-v]\n"
        "       modemd --check-config FILE [-v]\n"
        "       modemd --help | --version\n"
        "\n"
        "modemd is the data-logging agent of modemkit. It samples a data source on a schedule,\n"
        "keeps every sample in a durable on-disk queue and publishes it at QoS 1 through the\n"
        "cellular module's own MQTT client (AT+CMQTT*, AT+SM*); a sample leaves the queue only\n"
        "after the broker's PUBACK, so nothing is lost across broker outages, module reboots or\n"
        "a killed modemd. It receives parameter messages (validated, applied through a hook,\n"
        "persisted, acknowledged), runs module firmware update jobs (the FOTA engine, with the\n"
        "result reported after the module reboots), and keeps a retained status message.\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE       Run with this configuration file.\n"
        "  --check-config FILE     Check the file and exit: 0 when valid, 3 with one\n"
        "                          'FILE:LINE: problem' line per error otherwise; with -v the\n"
        "                          effective configuration (defaults filled in) is printed.\n"
        "  --once                  Take one sample, publish everything queued, handle the\n"
        "                          messages that arrive within 2 s, publish the status and exit\n"
        "                          (for a device that powers the module up on a timer). Exit 1\n"
        "                          when samples stay queued (they go out with the next run).\n"
        "  --exit-when-done        Exit 0 once sample.count samples were taken and all are\n"
        "                          published (tests, benchmarks).\n"
        "  --log-level LEVEL       error, warning, info or debug (overrides log.level).\n"
        "  -v, --verbose           Debug log; twice: also every AT command and answer.\n"
        "  -h, --help              This text.\n"
        "  --version               Print the version.\n"
        "\n"
        "Signals: SIGTERM and SIGINT stop it gracefully (a retained \"offline\" status is\n"
        "published when the broker is reachable); SIGKILL loses nothing that was sampled.\n"
        "\n"
        "Exit status: 0 stopped normally; 1 could not start (storage, data source) or --once\n"
        "left samples queued; 2 usage error; 3 invalid configuration.\n"
        "\n"
        "Messages (topics from [topics]; {client_id} is replaced):\n"
        "  telemetry        out, QoS 1   {\"seq\":N,\"ts\":UNIX_MS,\"data\":VALUE}. seq grows by "
        "one\n"
        "                                per sample and survives restarts; a QoS 1 redelivery\n"
        "                                repeats a seq, so receivers drop duplicates by seq.\n"
        "  parameters       in, QoS 1    {\"id\":\"r1\",\"motor_speed\":1200,...}: every key must "
        "be\n"
        "                                a defined parameter of the right type and range, or\n"
        "                                nothing changes.\n"
        "  parameter_replies out, QoS 1  "
        "{\"id\":\"r1\",\"status\":\"accepted\",\"changed\":[...],\n"
        "                                \"params\":{...}} or {\"id\":..,\"status\":\"rejected\",\n"
        "                                \"reason\":\"motor_speed: 5000 is above the maximum "
        "3000\"}\n"
        "  status           out, retained "
        "{\"state\":\"online\",\"fw\":..,\"csq\":..,\"queue\":..,\n"
        "                                \"dropped\":..,\"last_error\":..,\"uptime_s\":..,...}; "
        "the MQTT\n"
        "                                will publishes {\"state\":\"offline\"} (not retained:\n"
        "                                AT+CMQTTWILLMSG has no retain flag).\n"
        "  jobs             in, QoS 1    {\"job\":\"J-42\",\"package\":\"/path/pkg.tar\" | "
        "\"url\":URL,\n"
        "                                \"expect\":{\"model\":..,\"source\":..,\"target\":..,\n"
        "                                \"package\":SHA256}}\n"
        "  job_results      out, QoS 1   "
        "{\"job\":\"J-42\",\"status\":\"IN_PROGRESS|SUCCEEDED|FAILED|\n"
        "                                REJECTED\",\"state\":0..3,\"result\":0..11,...} (LwM2M "
        "/5\n"
        "                                state and update result); the final one is kept on disk\n"
        "                                until the broker acknowledged it, across reboots and\n"
        "                                restarts; a job id is never run twice.\n"
        "\n"
        "Configuration file: 'key = value' lines in [sections]; '#' or ';' starts a comment\n"
        "line; a value may be put in double quotes. Durations: 500ms, 30s, 5m, 1h, 1d (a bare\n"
        "number is seconds). Sizes: bytes, or with k, M, G (powers of 1024). Unknown sections\n"
        "and keys are errors.\n");
    md_config_help(out);
    fprintf(out, "\nSee docs/modemd.md for the design, the recovery rules and examples.\n");
}

struct md_main {
    struct md_config cfg;
    struct md_storage storage;
    struct md_source source;
    struct md_apply apply;
    struct mk_agent_param_def defs[MK_AGENT_MAX_PARAMS];
    struct mk_agent agent;
    struct md_link *link;
    struct md_updater *updater;
};

static bool md_idle(const struct mk_agent *a)
{
    return a->q.count == 0 && a->outbox_len == 0 && a->inbox_len == 0 &&
           (a->job.phase == MK_AGENT_JOB_NONE || a->job.phase == MK_AGENT_JOB_REPORTED);
}

static int md_run_agent(struct md_main *m, bool once, bool exit_when_done)
{
    struct md_config *c = &m->cfg;
    enum mk_err e = md_storage_init(&m->storage, c->state_dir, c->queue_path);
    if (e != MK_OK) {
        md_log(MK_AGENT_LOG_ERR, "state directory %s: %s", c->state_dir, mk_strerror(e));
        return MD_EXIT_FAILURE;
    }
    e = md_source_init(&m->source, c);
    if (e != MK_OK) {
        md_log(MK_AGENT_LOG_ERR, "data source (%s %s): %s", c->source, c->path, mk_strerror(e));
        return MD_EXIT_FAILURE;
    }
    md_apply_init(&m->apply, c);
    md_config_params(c, m->defs);
    m->link = md_link_new(c, &m->agent);
    if (!m->link)
        return MD_EXIT_FAILURE;
    if (c->fota_enabled) {
        m->updater = md_updater_new(c, m->link);
        if (!m->updater)
            return MD_EXIT_FAILURE;
    }
    struct mk_agent_config ac = {0};
    ac.storage = &m->storage.ops;
    ac.clock = mk_posix_clock();
    ac.source = &m->source.ops;
    ac.link = md_link_ops(m->link);
    ac.updater = m->updater ? md_updater_ops(m->updater) : NULL;
    ac.hooks = &m->apply.ops;
    ac.params = m->defs;
    ac.n_params = c->n_params;
    ac.client_id = c->client_id;
    ac.topics = (struct mk_agent_topics){c->t_telemetry, c->t_params, c->t_replies,
                                         c->t_status,    c->t_jobs,   c->t_results};
    ac.interval_ms = (uint32_t)c->interval_ms;
    ac.sample_limit = c->count;
    ac.status_interval_ms =
        c->status_interval_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)c->status_interval_ms;
    ac.apply_on_start = c->apply_on_start;
    ac.queue.max_bytes = c->max_bytes;
    ac.queue.max_samples = c->max_samples;
    ac.queue.drop = !strcmp(c->drop, "newest") ? MK_AGENT_DROP_NEWEST : MK_AGENT_DROP_OLDEST;
    e = mk_agent_init(&m->agent, &ac);
    if (e != MK_OK) {
        md_log(MK_AGENT_LOG_ERR, "the agent cannot start: %s", mk_strerror(e));
        return e == MK_E_CONFIG ? MD_EXIT_CONFIG : MD_EXIT_FAILURE;
    }
    struct mk_agent *a = &m->agent;
    md_log(MK_AGENT_LOG_INFO,
           "modemd %s: client %s, port %s, broker %s; queue: %llu sample(s) waiting, last "
           "seq %llu, %llu dropped",
           MODEMKIT_VERSION, c->client_id, c->port, c->url, (unsigned long long)a->q.count,
           (unsigned long long)a->q.last_seq, (unsigned long long)a->q.dropped);
    uint64_t t0 = mk_posix_now_ms();
    uint64_t once_deadline = t0 + c->reopen_timeout_ms + 60000;
    uint64_t drained_at = 0;
    int rc = MD_EXIT_OK;
    uint32_t wait = 0;
    while (!md_stop) {
        /* the link first: a job resumed after a restart finds the session attempted */
        md_link_poll(m->link, wait);
        mk_agent_sample_poll(a);
        for (int i = 0; i < 64 && !md_stop && mk_agent_step(a, 4); i++)
            mk_agent_sample_poll(a);
        uint64_t now = mk_posix_now_ms();
        bool limit = c->count && a->q.last_seq >= c->count;
        if (exit_when_done && limit && md_idle(a) && md_link_connected(m->link)) {
            md_log(MK_AGENT_LOG_INFO, "all %llu samples published; exiting",
                   (unsigned long long)c->count);
            break;
        }
        if (once) {
            bool done = md_idle(a) && md_link_connected(m->link) && !a->status_due;
            if (done && !drained_at)
                drained_at = now; /* wait a little for messages queued on the broker */
            if (!done)
                drained_at = 0;
            if (drained_at && now - drained_at >= 2000)
                break;
            if (now >= once_deadline) {
                md_log(MK_AGENT_LOG_WARN, "--once: %llu sample(s) stay queued for the next run",
                       (unsigned long long)a->q.count);
                rc = MD_EXIT_FAILURE;
                break;
            }
        }
        uint64_t next = mk_agent_next_ms(a);
        wait = next > now ? (next - now > 250 ? 250u : (uint32_t)(next - now)) : 0u;
    }
    mk_agent_shutdown(a, md_stop ? "signal" : "done");
    md_link_close(m->link);
    const struct mk_agent_stats *s = mk_agent_stats(a);
    md_log(MK_AGENT_LOG_INFO,
           "stopped: %llu sample(s) taken, %llu published, %llu queued, "
           "%llu dropped",
           (unsigned long long)s->samples, (unsigned long long)s->published,
           (unsigned long long)a->q.count, (unsigned long long)a->q.dropped);
    return rc;
}

int main(int argc, char **argv)
{
    enum { O_CHECK = 256, O_ONCE, O_DONE, O_LEVEL, O_VERSION };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", required_argument, NULL, O_CHECK},
        {"once", no_argument, NULL, O_ONCE},
        {"exit-when-done", no_argument, NULL, O_DONE},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *check = NULL, *level = NULL;
    bool once = false, done = false;
    int verbose = 0, ch;
    while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case O_CHECK:
            check = optarg;
            break;
        case O_ONCE:
            once = true;
            break;
        case O_DONE:
            done = true;
            break;
        case O_LEVEL:
            level = optarg;
            break;
        case 'v':
            verbose++;
            break;
        case 'h':
            md_usage(stdout);
            return MD_EXIT_OK;
        case O_VERSION:
            printf("modemd %s\n", MODEMKIT_VERSION);
            return MD_EXIT_OK;
        default:
            fprintf(stderr, "modemd: unknown option or missing argument (modemd --help)\n");
            return MD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "modemd: unexpected argument '%s' (modemd --help)\n", argv[optind]);
        return MD_EXIT_USAGE;
    }
    if (!!config + !!check != 1 || (once && done)) {
        fprintf(stderr, "modemd: give --config FILE or --check-config FILE (modemd --help)\n");
        return MD_EXIT_USAGE;
    }
    static struct md_main m; /* large: keep it off the stack */
    if (check) {
        if (md_config_load(&m.cfg, check, stderr) != MK_OK)
            return MD_EXIT_CONFIG;
        /* the parameter definitions as the agent will see them, one by one for the line */
        char why[MK_AGENT_TEXT_CAP];
        int bad = 0;
        md_config_params(&m.cfg, m.defs);
        for (size_t i = 0; i < m.cfg.n_params; i++) {
            if (mk_agent_params_check(&m.agent, &m.defs[i], 1, why, sizeof why) != MK_OK) {
                fprintf(stderr, "%s:%d: %s\n", check, m.cfg.params[i].line, why);
                bad++;
            }
        }
        if (bad)
            return MD_EXIT_CONFIG;
        if (verbose)
            md_config_print(&m.cfg, stdout);
        else
            printf("%s: valid\n", check);
        return MD_EXIT_OK;
    }
    if (md_config_load(&m.cfg, config, stderr) != MK_OK)
        return MD_EXIT_CONFIG;
    md_journal = getenv("JOURNAL_STREAM") != NULL;
    md_log_level = m.cfg.log_level;
    if (level) {
        static const char *const names[] = {"error", "warning", "info", "debug"};
        md_log_level = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(level, names[i]))
                md_log_level = i;
        if (md_log_level < 0) {
            fprintf(stderr, "modemd: --log-level: error, warning, info or debug\n");
            return MD_EXIT_USAGE;
        }
    }
    if (verbose)
        md_log_level = MK_AGENT_LOG_DEBUG + (verbose > 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = md_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    int rc = md_run_agent(&m, once, done);
    md_updater_free(m.updater);
    md_link_free(m.link);
    md_source_close(&m.source);
    md_storage_close(&m.storage);
    return rc;
}
