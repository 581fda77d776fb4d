/* Host side of the FOTA job: see fota_host.h. */
#define _GNU_SOURCE
#include "fota_host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json_out.h"
#include "modemkit/posix.h"

/* ---- package file ---- */

static enum mk_err mk_host_pkg_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct mk_host_pkg *hp = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(hp->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mk_posix_errno(errno);
        if (n == 0)
            return MK_E_FORMAT; /* the file shrank */
        done += (size_t)n;
    }
    return MK_OK;
}

enum mk_err mk_host_pkg_open(struct mk_host_pkg *hp, const char *path, uint8_t *work, size_t cap,
                             char *why, size_t why_cap)
{
    memset(hp, 0, sizeof *hp);
    hp->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (hp->fd < 0) {
        snprintf(why, why_cap, "cannot open %s: %s", path, strerror(errno));
        return mk_posix_errno(errno);
    }
    struct stat st;
    if (fstat(hp->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_cap, "%s is not a regular file", path);
        close(hp->fd);
        hp->fd = -1;
        return MK_E_FORMAT;
    }
    if (!realpath(path, hp->path))
        snprintf(hp->path, sizeof hp->path, "%s", path);
    hp->rd.read = mk_host_pkg_read;
    hp->rd.ctx = hp;
    hp->rd.size = (uint64_t)st.st_size;
    return mk_fota_pkg_open(&hp->pkg, &hp->rd, hp->man, sizeof hp->man, work, cap, why, why_cap);
}

void mk_host_pkg_close(struct mk_host_pkg *hp)
{
    if (hp->fd >= 0)
        close(hp->fd);
    hp->fd = -1;
}

/* ---- journal directory ---- */

static int mk_host_mkdirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

void mk_host_journal_path(const struct mk_host_journal *hj, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.json", hj->dir, id);
}

static enum mk_err mk_host_journal_save(void *ctx, const char *id, const void *data, size_t len)
{
    char path[4200];
    mk_host_journal_path(ctx, id, path, sizeof path);
    return mk_posix_file_replace(path, data, len);
}

static enum mk_err mk_host_journal_load(void *ctx, const char *id, void *buf, size_t cap,
                                        size_t *len)
{
    char path[4200];
    mk_host_journal_path(ctx, id, path, sizeof path);
    return mk_posix_file_read(path, buf, cap, len);
}

enum mk_err mk_host_journal_init(struct mk_host_journal *hj, const char *dir, bool create)
{
    memset(hj, 0, sizeof *hj);
    if (dir) {
        snprintf(hj->dir, sizeof hj->dir, "%s", dir);
    } else {
        const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (state && *state)
            snprintf(hj->dir, sizeof hj->dir, "%s/modemctl/fota", state);
        else
            snprintf(hj->dir, sizeof hj->dir, "%s/.local/state/modemctl/fota",
                     home && *home ? home : ".");
    }
    hj->store.save = mk_host_journal_save;
    hj->store.load = mk_host_journal_load;
    hj->store.ctx = hj;
    if (create && mk_host_mkdirs(hj->dir) != 0)
        return mk_posix_errno(errno);
    return MK_OK;
}

static int mk_host_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void mk_host_journal_each(const struct mk_host_journal *hj,
                          void (*cb)(void *user, const char *file, const struct mk_fota_journal *j),
                          void *user)
{
    DIR *d = opendir(hj->dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *names);
        if (!nn)
            break;
        names = nn;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, mk_host_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4400], text[4096];
        size_t len = 0;
        struct mk_fota_journal j;
        snprintf(path, sizeof path, "%s/%s", hj->dir, names[i]);
        bool ok = mk_posix_file_read(path, text, sizeof text, &len) == MK_OK &&
                  mk_fota_journal_decode(&j, text, len) == MK_OK;
        cb(user, path, ok ? &j : NULL);
        free(names[i]);
    }
    free(names);
}

/* ---- Ed25519 (OpenSSL) ---- */

void *mk_host_ed25519_load(const char *pem, bool private_only, char *why, size_t cap)
{
    FILE *f = fopen(pem, "r");
    if (!f) {
        snprintf(why, cap, "cannot open key %s: %s", pem, strerror(errno));
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (!k && !private_only) {
        rewind(f);
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (!k) {
        snprintf(why, cap, "%s is not a PEM %s key", pem,
                 private_only ? "private" : "public or private");
        return NULL;
    }
    if (EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        snprintf(why, cap,
                 "%s is not an Ed25519 key (make one with: openssl genpkey "
                 "-algorithm ed25519)",
                 pem);
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

void mk_host_ed25519_free(void *key)
{
    EVP_PKEY_free(key);
}

enum mk_err mk_host_ed25519_verify(void *key, const uint8_t *msg, size_t len,
                                   const uint8_t sig[MK_FOTA_SIG_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return MK_E_NOMEM;
    int ok = EVP_DigestVerifyInit(c, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(c, sig, MK_FOTA_SIG_LEN, msg, len) == 1;
    EVP_MD_CTX_free(c);
    return ok ? MK_OK : MK_E_FOTA_SIGNATURE;
}

enum mk_err mk_host_ed25519_sign(void *key, const uint8_t *msg, size_t len,
                                 uint8_t sig[MK_FOTA_SIG_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t n = MK_FOTA_SIG_LEN;
    if (!c)
        return MK_E_NOMEM;
    int ok = EVP_DigestSignInit(c, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(c, sig, &n, msg, len) == 1 && n == MK_FOTA_SIG_LEN;
    EVP_MD_CTX_free(c);
    return ok ? MK_OK : MK_E_FOTA_SIGNATURE;
}

/* ---- power-cycle command ---- */

enum mk_err mk_host_run_cmd(const char *cmd, int *status)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return mk_posix_errno(errno);
    if (pid == 0) {
        /* stdout belongs to modemctl's --json output: the command's goes to stderr */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return *status == 0 ? MK_OK : MK_E_IO;
}

/* ---- progress ---- */

void mk_host_progress_init(struct mk_host_progress *p, bool json)
{
    memset(p, 0, sizeof *p);
    p->json = json;
    p->out = json ? stdout : stderr;
    p->tty = !json && isatty(STDERR_FILENO);
}

void mk_host_progress_flush(struct mk_host_progress *p)
{
    if (p->bar_open) {
        fputc('\n', p->out);
        p->bar_open = false;
    }
}

static void mk_host_human(char *buf, size_t cap, double bytes)
{
    if (bytes >= 1048576.0)
        snprintf(buf, cap, "%.1f MiB", bytes / 1048576.0);
    else if (bytes >= 1024.0)
        snprintf(buf, cap, "%.1f KiB", bytes / 1024.0);
    else
        snprintf(buf, cap, "%.0f B", bytes);
}

static void mk_host_bar(struct mk_host_progress *p, const char *what, double frac, const char *tail)
{
    char bar[31];
    int fill = (int)(frac * 30.0 + 0.5);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(p->out, "\r%-9s [%s] %3d%% %s\033[K", what, bar, (int)(frac * 100.0 + 0.5), tail);
    fflush(p->out);
    p->bar_open = true;
}

/* A phase or note: {"event":EVENT,KEY:text} with --json, else a "fota: text" line. */
static void mk_host_progress_text(struct mk_host_progress *p, const char *event, const char *key,
                                  const char *text)
{
    if (p->json) {
        fprintf(p->out, "{\"event\":\"%s\",\"%s\":", event, key);
        mk_host_json_str(p->out, text);
        fprintf(p->out, "}\n");
    } else if (!p->quiet) {
        mk_host_progress_flush(p);
        fprintf(p->out, "fota: %s\n", text);
    }
}

void mk_host_progress_event(void *ctx, const struct mk_fota_event *ev)
{
    struct mk_host_progress *p = ctx;
    uint64_t now = mk_posix_now_ms();
    switch (ev->kind) {
    case MK_FOTA_EV_PHASE:
        p->phase = ev->text;
        mk_host_progress_text(p, "phase", "phase", ev->text);
        break;
    case MK_FOTA_EV_NOTE:
        mk_host_progress_text(p, "note", "text", ev->text);
        break;
    case MK_FOTA_EV_TRANSFER: {
        if (!p->t0_ms || ev->done < p->first_done) {
            p->t0_ms = now;
            p->first_done = ev->done;
        }
        double secs = (double)(now - p->t0_ms) / 1000.0;
        double rate = secs > 0 ? (double)(ev->done - p->first_done) / secs : 0;
        double eta = rate > 0 ? (double)(ev->total - ev->done) / rate : -1;
        bool last = ev->done == ev->total;
        if (p->json) {
            fprintf(p->out,
                    "{\"event\":\"progress\",\"phase\":\"transfer\",\"bytes\":%llu,"
                    "\"total\":%llu,\"bytes_per_s\":%.0f,\"eta_s\":%.1f}\n",
                    (unsigned long long)ev->done, (unsigned long long)ev->total, rate,
                    eta < 0 ? 0.0 : eta);
        } else if (p->tty && (last || now - p->last_ms >= 100)) {
            char done[24], total[24], r[24], tail[128];
            mk_host_human(done, sizeof done, (double)ev->done);
            mk_host_human(total, sizeof total, (double)ev->total);
            mk_host_human(r, sizeof r, rate);
            if (eta >= 0 && !last)
                snprintf(tail, sizeof tail, "%s/%s %s/s ETA %.0f s", done, total, r, eta);
            else
                snprintf(tail, sizeof tail, "%s/%s %s/s", done, total, r);
            mk_host_bar(p, "transfer", ev->total ? (double)ev->done / (double)ev->total : 1.0,
                        tail);
            p->last_ms = now;
        } else if (!p->tty && last && !p->quiet) {
            char done[24], r[24];
            mk_host_human(done, sizeof done, (double)(ev->done - p->first_done));
            mk_host_human(r, sizeof r, rate);
            fprintf(p->out, "fota: transferred %s in %.1f s (%s/s)\n", done, secs, r);
        }
        if (last)
            mk_host_progress_flush(p);
        break;
    }
    case MK_FOTA_EV_UPDATE:
        if (p->json) {
            fprintf(p->out, "{\"event\":\"progress\",\"phase\":\"updating\",\"percent\":%d}\n",
                    ev->percent);
        } else if (p->tty) {
            mk_host_bar(p, "updating", ev->percent / 100.0, "");
            if (ev->percent >= 100)
                mk_host_progress_flush(p);
        }
        break;
    }
    fflush(p->out);
}
