/*
 * Replays the seed 001 command sequences (tests/sim/fixtures/, format in README.md there)
 * against modemsim and checks every reply line has the shape the field logs show.
 */
#include "sim_test_util.h"

#include <stdbool.h>
#include <sys/stat.h>

static char g_dir[256];
static struct mk_broker g_plain, g_tls;
static struct mk_pki g_pki;

static void teardown(void)
{
    mk_broker_stop(&g_plain);
    mk_broker_stop(&g_tls);
    mk_test_rmtree(g_dir);
}

static int brokers(bool tls)
{
    if (!g_dir[0]) {
        if (mk_test_tmpdir(g_dir, sizeof g_dir, "simseeds") != 0)
            return -1;
        atexit(teardown);
    }
    if (g_plain.pid <= 0) {
        char d[300];
        snprintf(d, sizeof d, "%s/plain", g_dir);
        mkdir(d, 0700);
        if (mk_broker_start(&g_plain, d, NULL) != 0)
            return -1;
    }
    if (tls && g_tls.pid <= 0) {
        char d[300], p[300];
        snprintf(d, sizeof d, "%s/tls", g_dir);
        snprintf(p, sizeof p, "%s/pki", g_dir);
        mkdir(d, 0700);
        struct mk_broker_opts o = {.tls = &g_pki, .require_cert = true};
        if (mk_pki_make(&g_pki, p) != 0 || mk_broker_start(&g_tls, d, &o) != 0)
            return -1;
    }
    return 0;
}

static const char *pki_file(const char *name)
{
    if (strcmp(name, "ca") == 0)
        return g_pki.ca_crt;
    if (strcmp(name, "client_crt") == 0)
        return g_pki.client_crt;
    if (strcmp(name, "client_key") == 0)
        return g_pki.client_key;
    if (strcmp(name, "other_ca") == 0)
        return g_pki.other_ca_crt;
    return NULL;
}

static size_t file_len(const char *name)
{
    char *d;
    size_t n = 0;
    const char *path = pki_file(name);
    if (path && mk_test_read_file(path, &d, &n) == 0)
        free(d);
    return n;
}

/* ${URL} ${TLS_URL} ${LEN:name} */
static void subst(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    while (*in && o + 1 < cap) {
        char val[128] = "";
        const char *end = NULL;
        if (strncmp(in, "${URL}", 6) == 0) {
            mk_broker_url(&g_plain, val, sizeof val);
            end = in + 6;
        } else if (strncmp(in, "${TLS_URL}", 10) == 0) {
            mk_broker_url(&g_tls, val, sizeof val);
            end = in + 10;
        } else if (strncmp(in, "${LEN:", 6) == 0 && strchr(in, '}')) {
            char name[32];
            const char *close = strchr(in, '}');
            snprintf(name, sizeof name, "%.*s", (int)(close - in - 6), in + 6);
            snprintf(val, sizeof val, "%zu", file_len(name));
            end = close + 1;
        }
        if (end) {
            for (const char *v = val; *v && o + 1 < cap; v++)
                out[o++] = *v;
            in = end;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

/* '*' matches any run of characters; everything else literally. */
static bool glob(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*')
        return glob(pat + 1, s) || (*s && glob(pat, s + 1));
    return *s == *pat && glob(pat + 1, s + 1);
}

static size_t unescape(const char *in, char *out)
{
    size_t o = 0;
    for (; *in; in++) {
        if (*in == '\\' && in[1]) {
            in++;
            out[o++] = *in == 'r' ? '\r' : *in == 'n' ? '\n' : *in;
        } else {
            out[o++] = *in;
        }
    }
    return o;
}

static int publish(bool tls, const char *rest)
{
    char topic[256], msg[1024], port[16];
    const char *sp = strchr(rest, ' ');
    if (!sp)
        return -1;
    snprintf(topic, sizeof topic, "%.*s", (int)(sp - rest), rest);
    snprintf(msg, sizeof msg, "%s", sp + 1);
    snprintf(port, sizeof port, "%d", tls ? g_tls.port : g_plain.port);
    const char *plain[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-q",
                           "1", "-m", msg, NULL};
    const char *secure[] = {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-q",
                            "1", "-m", msg, "--cafile", g_pki.ca_crt, "--cert", g_pki.client_crt,
                            "--key", g_pki.client_key, NULL};
    return mk_test_run(tls ? secure : plain, NULL, 0, T_MS);
}

static void run_fixture(const char *name)
{
    char path[512], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", MK_SIM_FIXTURES, name);
    if (mk_test_read_file(path, &text, &len) != 0) {
        MK_FAIL_AT(__FILE__, __LINE__, "cannot read %s", path);
        return;
    }
    /* header */
    const char *profile = "SIM7600E-H";
    const char *args[40] = {0};
    int nargs = 0;
    bool tls = false;
    char *save = NULL;
    char *copy = strdup(text);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "@profile ", 9) == 0)
            profile = l + 9;
        else if (strcmp(l, "@tls") == 0)
            tls = true;
        else if (strncmp(l, "@args ", 6) == 0)
            for (char *s2 = NULL, *a = strtok_r(l + 6, " ", &s2); a && nargs < 38;
                 a = strtok_r(NULL, " ", &s2))
                args[nargs++] = a;
    }
    MK_CHECK_EQ_INT(brokers(tls), 0);
    const char *all[48] = {"--profile", profile, "--boot-delay-ms", "0", "--sim-delay-ms",
                           "0", "--seed", "7"};
    int n = 8;
    for (int i = 0; i < nargs; i++)
        all[n++] = args[i];
    all[n] = NULL;
    struct mk_sim s;
    MK_CHECK_EQ_INT(mk_sim_start(&s, all), 0);

    int lineno = 0;
    save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lineno = 0;
        for (const char *c = text; c < l; c++)
            lineno += *c == '\0' || *c == '\n';
        lineno++;
        if (l[0] == '#' || l[0] == '@' || l[0] == '\0')
            continue;
        char arg[2048], got[4096];
        bool ok = true;
        if (strncmp(l, "> ", 2) == 0) {
            subst(l + 2, arg, sizeof arg);
            ok = mk_sim_send(&s, arg) == 0;
        } else if (strncmp(l, "<=file ", 7) == 0) {
            char *want;
            size_t wl;
            ok = mk_test_read_file(pki_file(l + 7), &want, &wl) == 0;
            if (ok) {
                char *buf = malloc(wl);
                ok = mk_sim_read_exact(&s, buf, wl, T_MS) == 0 && memcmp(buf, want, wl) == 0;
                free(buf);
                free(want);
            }
        } else if (strncmp(l, "< ", 2) == 0) {
            subst(l + 2, arg, sizeof arg);
            ok = mk_sim_line(&s, got, sizeof got, T_MS) >= 0 && glob(arg, got);
            if (!ok)
                MK_FAIL_AT(name, lineno, "expected \"%s\", got \"%s\"", arg, got);
        } else if (strncmp(l, "=file ", 6) == 0) {
            char *data;
            size_t dl;
            ok = mk_test_read_file(pki_file(l + 6), &data, &dl) == 0;
            if (ok) {
                ok = mk_sim_write(&s, data, dl) == 0;
                free(data);
            }
        } else if (strncmp(l, "= ", 2) == 0) {
            size_t k = unescape(l + 2, arg);
            ok = mk_sim_write(&s, arg, k) == 0;
        } else if (strncmp(l, "!pub ", 5) == 0) {
            ok = publish(tls, l + 5) == 0;
        } else {
            MK_FAIL_AT(name, lineno, "bad fixture line \"%s\"", l);
        }
        if (!ok) {
            MK_FAIL_AT(name, lineno, "step failed: %s", l);
            break;
        }
    }
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    free(copy);
    free(text);
}

MK_TEST(seed001_log1_busy14)
{
    run_fixture("seed001_log1_busy14.txt");
}

MK_TEST(seed001_log2_echo)
{
    run_fixture("seed001_log2_echo.txt");
}

MK_TEST(seed001_cmendes_tls)
{
    run_fixture("seed001_cmendes_tls.txt");
}

MK_TEST(seed001_sim7500a)
{
    run_fixture("seed001_sim7500a.txt");
}

MK_TEST_MAIN()
