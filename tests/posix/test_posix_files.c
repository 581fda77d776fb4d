/*
 * Durable files: atomic replace, whole-file read, append+fsync, and what a crash leaves
 * behind (a stale temporary is ignored and cleaned; a process killed with SIGKILL in the
 * middle of replacing leaves one complete version, never a mix).
 */
#include "mk_test.h"
#include "support/fake_usb.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modemkit/posix.h"

struct tdir {
    char dir[256];
    char path[300];
    char tmp[310];
};

static void tdir_init(struct tdir *t, const char *name)
{
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(t->dir, sizeof t->dir, "files"), 0);
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    snprintf(t->tmp, sizeof t->tmp, "%s.tmp", t->path);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

MK_TEST(replace_then_read_back)
{
    struct tdir t;
    tdir_init(&t, "journal");
    char buf[64];
    size_t len = 99;
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_E_NOENT);
    MK_CHECK_EQ_INT(len, 0);

    MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "state=DOWNLOADING\n", 18), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
    MK_CHECK_EQ_INT(len, 18);
    MK_CHECK_EQ_MEM(buf, "state=DOWNLOADING\n", 18);

    /* Shorter content replaces, it does not overlay. */
    MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "state=IDLE\n", 11), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
    MK_CHECK_EQ_INT(len, 11);
    MK_CHECK_EQ_MEM(buf, "state=IDLE\n", 11);
    MK_CHECK(!exists(t.tmp));

    /* Journals may hold credentials: owner-only. */
    struct stat st;
    MK_CHECK_EQ_INT(stat(t.path, &st), 0);
    MK_CHECK_EQ_INT(st.st_mode & 0777, 0600);

    /* Empty content is a valid version. */
    MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "", 0), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
    MK_CHECK_EQ_INT(len, 0);
    mk_fakeusb_rm_rf(t.dir);
}

MK_TEST(read_too_small_buffer_is_nospc)
{
    struct tdir t;
    tdir_init(&t, "queue");
    MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "0123456789", 10), MK_OK);
    char buf[10];
    size_t len = 0;
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, 10, &len), MK_OK); /* exact fit */
    MK_CHECK_EQ_INT(len, 10);
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, 4, &len), MK_E_NOSPC);
    MK_CHECK_EQ_INT(len, 10); /* the size it would need */
    MK_CHECK_EQ_MEM(buf, "0123", 4);
    /* A directory is not a file to read. */
    MK_CHECK_EQ_INT(mk_posix_file_read(t.dir, buf, sizeof buf, &len), MK_E_INVAL);
    mk_fakeusb_rm_rf(t.dir);
}

/* A crash between writing the temporary and the rename leaves "<path>.tmp" behind. */
MK_TEST(stale_temporary_is_ignored_and_cleaned)
{
    struct tdir t;
    tdir_init(&t, "journal");
    MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "v1", 2), MK_OK);
    FILE *f = fopen(t.tmp, "w"); /* half-written v2, then "power cut" */
    MK_CHECK(f != NULL);
    fputs("v2-tor", f);
    fclose(f);

    char buf[16];
    size_t len;
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
    MK_CHECK_EQ_INT(len, 2);
    MK_CHECK_EQ_MEM(buf, "v1", 2);

    MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "v3", 2), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
    MK_CHECK_EQ_MEM(buf, "v3", 2);
    MK_CHECK(!exists(t.tmp));

    /* The explicit clean-up, for callers that check at start-up. */
    f = fopen(t.tmp, "w");
    fclose(f);
    MK_CHECK_EQ_INT(mk_posix_file_clean(t.path), MK_OK);
    MK_CHECK(!exists(t.tmp));
    MK_CHECK_EQ_INT(mk_posix_file_clean(t.path), MK_OK); /* nothing to do */
    MK_CHECK(exists(t.path));

    /* Crash before the first version ever landed: still "no journal". */
    char fresh[320];
    snprintf(fresh, sizeof fresh, "%s/fresh", t.dir);
    char fresh_tmp[330];
    snprintf(fresh_tmp, sizeof fresh_tmp, "%s.tmp", fresh);
    f = fopen(fresh_tmp, "w");
    fputs("partial", f);
    fclose(f);
    MK_CHECK_EQ_INT(mk_posix_file_read(fresh, buf, sizeof buf, &len), MK_E_NOENT);
    mk_fakeusb_rm_rf(t.dir);
}

MK_TEST(replace_failures_leave_no_temporary)
{
    struct tdir t;
    tdir_init(&t, "journal");
    char missing[320];
    snprintf(missing, sizeof missing, "%s/no-such-dir/journal", t.dir);
    MK_CHECK_EQ_INT(mk_posix_file_replace(missing, "x", 1), MK_E_NOENT);

    /* The target is a directory: the rename fails, the temporary is removed. */
    MK_CHECK_EQ_INT(mkdir(t.path, 0700), 0);
    MK_CHECK(mk_posix_file_replace(t.path, "x", 1) != MK_OK);
    MK_CHECK(!exists(t.tmp));
    mk_fakeusb_rm_rf(t.dir);
}

MK_TEST(append_accumulates_records)
{
    struct tdir t;
    tdir_init(&t, "queue");
    MK_CHECK_EQ_INT(mk_posix_file_append(t.path, "rec1;", 5), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_append(t.path, "rec2;", 5), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_append(t.path, "", 0), MK_OK);
    MK_CHECK_EQ_INT(mk_posix_file_append(t.path, "rec3;", 5), MK_OK);
    char buf[32];
    size_t len;
    MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
    MK_CHECK_EQ_INT(len, 15);
    MK_CHECK_EQ_MEM(buf, "rec1;rec2;rec3;", 15);
    struct stat st;
    MK_CHECK_EQ_INT(stat(t.path, &st), 0);
    MK_CHECK_EQ_INT(st.st_mode & 0777, 0600);
    char missing[320];
    snprintf(missing, sizeof missing, "%s/no-such-dir/q", t.dir);
    MK_CHECK_EQ_INT(mk_posix_file_append(missing, "x", 1), MK_E_NOENT);
    mk_fakeusb_rm_rf(t.dir);
}

/*
 * The real thing: a child replaces the file over and over with complete versions (every
 * byte of version v is v) and is killed with SIGKILL at an arbitrary moment. Whatever
 * the moment, the file holds one whole version.
 */
enum { VERSION_LEN = 64 * 1024 };

static bool whole_version(const uint8_t *buf, size_t len, unsigned *v)
{
    if (len != VERSION_LEN)
        return false;
    for (size_t i = 1; i < len; i++)
        if (buf[i] != buf[0])
            return false;
    *v = buf[0];
    return true;
}

MK_TEST(sigkill_during_replace_leaves_a_whole_version)
{
    static uint8_t buf[VERSION_LEN + 1];
    for (int round = 0; round < 3; round++) {
        struct tdir t;
        tdir_init(&t, "journal");
        pid_t pid = fork();
        if (pid == 0) {
            static uint8_t data[VERSION_LEN];
            for (unsigned v = 1;; v = v % 250 + 1) {
                memset(data, (int)v, sizeof data);
                if (mk_posix_file_replace(t.path, data, sizeof data) != MK_OK)
                    _exit(1);
            }
        }
        /* Wait (bounded) until a few versions have landed, then kill it mid-stream. */
        uint64_t deadline = mk_posix_now_ms() + 10000;
        unsigned v = 0;
        size_t len = 0;
        while (mk_posix_now_ms() < deadline) {
            if (mk_posix_file_read(t.path, buf, sizeof buf, &len) == MK_OK &&
                whole_version(buf, len, &v) && v >= (unsigned)(3 + round * 7))
                break;
            mk_posix_sleep_ms(1); /* polling interval, not a synchronisation */
        }
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        MK_CHECK(WIFSIGNALED(status));

        MK_CHECK_EQ_INT(mk_posix_file_read(t.path, buf, sizeof buf, &len), MK_OK);
        MK_CHECK(whole_version(buf, len, &v));
        MK_CHECK(v >= 1 && v <= 250);
        /* The next replace works whatever the child left behind. */
        MK_CHECK_EQ_INT(mk_posix_file_replace(t.path, "after", 5), MK_OK);
        MK_CHECK(!exists(t.tmp));
        mk_fakeusb_rm_rf(t.dir);
    }
}

MK_TEST_MAIN()
