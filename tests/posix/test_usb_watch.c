/*
 * Reboot-loop detection and re-enumeration following.
 *
 * The loop watch is a pure state machine: fed scripted presence samples on a virtual
 * clock (seed 004: the RC7620 "appears for 2-3 seconds on usb bus but then disappears for
 * other 10-15 seconds"). The watcher that reads sysfs is driven by a virtual clock too:
 * its sleep hook advances the clock and applies the test's script of plug/unplug events
 * to a fake sysfs tree, so minutes of USB behaviour run in milliseconds. One test uses a
 * real thread and the real clock, to show the watcher copes with a tree changing under it.
 */
#include "mk_test.h"
#include "support/fake_usb.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "modemkit/clock.h"
#include "modemkit/posix.h"
#include "modemkit/usb.h"

/* ---------------------------------------------------------------------------------- */
/* Pure loop watch                                                                     */

/* One cycle of a presence script: present for up_ms, then absent for down_ms. */
struct pattern {
    uint32_t up_ms, down_ms;
};

/*
 * Samples the device every 250 ms for total_ms while it follows the pattern (cycle k
 * uses p[k % np]). Returns the time of the MK_E_BOOTLOOP verdict, or 0 when none.
 */
static uint64_t run_pattern(struct mk_usb_loopwatch *lw, const struct pattern *p, size_t np,
                            uint64_t total_ms)
{
    uint64_t edge = p[0].up_ms; /* when the current state ends */
    bool present = true;
    size_t k = 0;
    for (uint64_t t = 0; t <= total_ms; t += 250) {
        while (t >= edge) {
            if (present) {
                edge += p[k % np].down_ms;
            } else {
                k++;
                edge += p[k % np].up_ms;
            }
            present = !present;
        }
        /* The virtual time starts at an arbitrary origin. */
        if (mk_usb_loop_sample(lw, 5000 + t, present) == MK_E_BOOTLOOP)
            return t;
    }
    return 0;
}

MK_TEST(seed004_reboot_loop_is_detected)
{
    /* 2-3 s present, 10-15 s absent, varying cycle to cycle. */
    static const struct pattern seed004[] = {
        {2500, 12000}, {2000, 15000}, {3000, 10000}, {2500, 13500}};
    struct mk_usb_loopwatch lw;
    mk_usb_loop_init(&lw, NULL);
    uint64_t at = run_pattern(&lw, seed004, 4, 10 * 60 * 1000);
    MK_CHECK(at > 0);
    /* The third vanish: 2.5 + 12 + 2 + 15 + 3 = 34.5 s after the start. */
    MK_CHECK_EQ_INT(at, 34500);
    MK_CHECK_EQ_INT(lw.cycles, 3);
    MK_CHECK(strstr(lw.msg, "appeared and vanished 3 times") != NULL);
    MK_CHECK(strstr(lw.msg, "up about 2.5 s") != NULL);
    MK_CHECK(strstr(lw.msg, "TP1") != NULL);
    MK_CHECK(strstr(lw.msg, "hard power cycle") != NULL);
    printf("# verdict after %llu ms: %s\n", (unsigned long long)at, lw.msg);
}

MK_TEST(seed004_extremes_both_detected)
{
    static const struct pattern fast[] = {{2000, 10000}};
    static const struct pattern slow[] = {{3000, 15000}};
    struct mk_usb_loopwatch lw;
    mk_usb_loop_init(&lw, NULL);
    MK_CHECK(run_pattern(&lw, fast, 1, 300000) > 0);
    mk_usb_loop_init(&lw, NULL);
    MK_CHECK(run_pattern(&lw, slow, 1, 300000) > 0);
}

/* One ordinary reboot (AT+CFUN=1,1, a FOTA apply) must not look like a loop. */
MK_TEST(single_reboot_is_no_loop)
{
    struct mk_usb_loopwatch lw;
    mk_usb_loop_init(&lw, NULL);
    uint64_t t = 0;
    for (; t < 60000; t += 250)
        MK_CHECK_EQ_INT(mk_usb_loop_sample(&lw, t, true), MK_OK);
    for (; t < 72000; t += 250)
        MK_CHECK_EQ_INT(mk_usb_loop_sample(&lw, t, false), MK_OK);
    for (; t < 600000; t += 250)
        MK_CHECK_EQ_INT(mk_usb_loop_sample(&lw, t, true), MK_OK);
    MK_CHECK_EQ_INT(lw.cycles, 0);

    /* Even when the watch starts just before the reset (a short first "up"). */
    mk_usb_loop_init(&lw, NULL);
    for (t = 0; t < 3000; t += 250)
        MK_CHECK_EQ_INT(mk_usb_loop_sample(&lw, t, true), MK_OK);
    for (; t < 15000; t += 250)
        MK_CHECK_EQ_INT(mk_usb_loop_sample(&lw, t, false), MK_OK);
    MK_CHECK_EQ_INT(lw.cycles, 1); /* counted, but one is not a loop */
    for (; t < 300000; t += 250)
        MK_CHECK_EQ_INT(mk_usb_loop_sample(&lw, t, true), MK_OK);
    MK_CHECK_EQ_INT(lw.cycles, 0); /* and it has left the window */
}

/* A Sierra update: normal → gone → boot-and-hold for the download → gone → normal. */
MK_TEST(firmware_update_mode_switches_are_no_loop)
{
    static const struct pattern update[] = {{20000, 8000}, {90000, 10000}, {600000, 1}};
    struct mk_usb_loopwatch lw;
    mk_usb_loop_init(&lw, NULL);
    MK_CHECK_EQ_INT(run_pattern(&lw, update, 3, 400000), 0);

    /* SIMCom FOTA reboots twice quickly; still under the threshold of three. */
    static const struct pattern fota[] = {{5000, 8000}, {5000, 8000}, {600000, 1}};
    mk_usb_loop_init(&lw, NULL);
    MK_CHECK_EQ_INT(run_pattern(&lw, fota, 3, 400000), 0);
}

MK_TEST(thresholds_are_configurable)
{
    static const struct pattern p[] = {{2500, 12500}};
    struct mk_usb_loopwatch lw;
    /* Two cycles are enough for this caller. */
    struct mk_usb_loop_cfg two = {.window_ms = 60000, .min_cycles = 2};
    mk_usb_loop_init(&lw, &two);
    uint64_t at = run_pattern(&lw, p, 1, 300000);
    MK_CHECK(at >= 17500 && at <= 18000); /* the second vanish: 2.5 + 12.5 + 2.5 s */

    /* A window too short to hold three cycles never trips. */
    struct mk_usb_loop_cfg narrow = {.window_ms = 20000};
    mk_usb_loop_init(&lw, &narrow);
    MK_CHECK_EQ_INT(run_pattern(&lw, p, 1, 300000), 0);

    /* Appearances longer than max_up_ms do not count. */
    struct mk_usb_loop_cfg strict = {.max_up_ms = 2000};
    mk_usb_loop_init(&lw, &strict);
    MK_CHECK_EQ_INT(run_pattern(&lw, p, 1, 300000), 0);
}

/* Cycles spread out over time (a flaky cable once in a while) are no loop. */
MK_TEST(cycles_outside_the_window_do_not_accumulate)
{
    static const struct pattern p[] = {{3000, 60000}};
    struct mk_usb_loopwatch lw;
    mk_usb_loop_init(&lw, NULL); /* 3 cycles in 120 s; these come every 63 s */
    MK_CHECK_EQ_INT(run_pattern(&lw, p, 1, 20 * 60 * 1000), 0);
    MK_CHECK(lw.cycles <= 2);
}

/* ---------------------------------------------------------------------------------- */
/* Watching a fake sysfs tree on a virtual clock                                       */

enum act { PLUG_RC76XX, PLUG_BOOTHOLD, PLUG_BOOTHOLD_UNBOUND, BIND_TTY, UNPLUG };

struct step {
    uint64_t at_ms;
    enum act act;
};

struct sim {
    char root[256], sys[300], proc[300];
    struct mk_usb_roots roots;
    struct mk_vclock vc;
    struct mk_clock clock;
    const struct step *script;
    size_t nsteps, next;
    unsigned devnum;
    /* Event log. */
    enum mk_usb_event_kind ev[64];
    uint64_t ev_t[64];
    size_t nev;
};

static void apply_due(struct sim *s)
{
    while (s->next < s->nsteps && s->script[s->next].at_ms <= s->vc.now_ms) {
        switch (s->script[s->next].act) {
        case PLUG_RC76XX:
            mk_fakeusb_add_profile(s->sys, "3-1", MK_FAKEUSB_RC76XX, ++s->devnum, true);
            break;
        case PLUG_BOOTHOLD:
            mk_fakeusb_add_profile(s->sys, "3-1", MK_FAKEUSB_RC76XX_BOOTHOLD, ++s->devnum, true);
            break;
        case PLUG_BOOTHOLD_UNBOUND:
            mk_fakeusb_add_profile(s->sys, "3-1", MK_FAKEUSB_RC76XX_BOOTHOLD, ++s->devnum, false);
            break;
        case BIND_TTY:
            mk_fakeusb_bind(s->sys, "3-1", 0, "qcserial", "ttyUSB0");
            break;
        case UNPLUG:
            mk_fakeusb_remove(s->sys, "3-1");
            break;
        }
        s->next++;
    }
}

/* The watcher's sleep: virtual time passes and the script plays. */
static void sim_sleep(void *ctx, uint32_t ms)
{
    struct sim *s = ctx;
    mk_vclock_advance(&s->vc, ms);
    apply_due(s);
}

static void sim_event(void *ctx, const struct mk_usb_event *ev)
{
    struct sim *s = ctx;
    if (s->nev < 64) {
        s->ev[s->nev] = ev->kind;
        s->ev_t[s->nev++] = ev->t_ms;
    }
}

static void sim_init(struct sim *s, struct mk_usb_watch *w, const struct step *script, size_t n)
{
    memset(s, 0, sizeof *s);
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(s->root, sizeof s->root, "watch"), 0);
    snprintf(s->sys, sizeof s->sys, "%s/sys", s->root);
    snprintf(s->proc, sizeof s->proc, "%s/proc", s->root);
    s->roots.sys = s->sys;
    s->roots.proc = s->proc;
    s->script = script;
    s->nsteps = n;
    s->devnum = 10;
    mk_vclock_init(&s->vc, &s->clock, 0);
    apply_due(s); /* steps at t=0 */
    memset(w, 0, sizeof *w);
    w->roots = &s->roots;
    w->port = "3-1";
    w->clock = &s->clock;
    w->sleep_ms = sim_sleep;
    w->sleep_ctx = s;
    w->interval_ms = 250;
    w->on_event = sim_event;
    w->event_ctx = s;
}

static void sim_free(struct sim *s)
{
    mk_fakeusb_rm_rf(s->root);
}

/* AT!BOOTHOLD then reset: normal → gone → boot-and-hold, the driver binding a moment later. */
MK_TEST(wait_for_boot_and_hold_after_reset)
{
    static const struct step script[] = {
        {0, PLUG_RC76XX}, {1000, UNPLUG}, {11000, PLUG_BOOTHOLD_UNBOUND}, {11600, BIND_TTY}};
    struct sim s;
    struct mk_usb_watch w;
    sim_init(&s, &w, script, 4);
    struct mk_usb_dev before, after;
    MK_CHECK_EQ_INT(mk_usb_read(&s.roots, "3-1", &before), MK_OK);
    struct mk_usb_expect want = {
        .vid = 0x1199, .pid = 0x68c0, .num_interfaces = 1, .need_tty = true};
    enum mk_err e = mk_usb_wait_reenum(&w, before.devnum, &want, 120000, &after);
    MK_CHECK_EQ_INT(e, MK_OK);
    if (e != MK_OK)
        printf("#   %s\n", w.msg);
    MK_CHECK(after.devnum != before.devnum);
    MK_CHECK_EQ_INT(after.num_interfaces, 1);
    MK_CHECK_EQ_STR(after.intf[0].tty, "ttyUSB0");
    MK_CHECK(s.vc.now_ms >= 11600 && s.vc.now_ms <= 11850); /* noticed within one period */
    /* Progress the caller could show: present, gone, appeared, driver bound. */
    MK_CHECK_EQ_INT(s.nev, 4);
    MK_CHECK_EQ_INT(s.ev[0], MK_USB_EV_PRESENT);
    MK_CHECK_EQ_INT(s.ev[1], MK_USB_EV_GONE);
    MK_CHECK_EQ_INT(s.ev[2], MK_USB_EV_APPEARED);
    MK_CHECK_EQ_INT(s.ev[3], MK_USB_EV_CHANGED);
    MK_CHECK(s.ev_t[1] >= 1000 && s.ev_t[1] <= 1250);
    sim_free(&s);
}

/* A re-enumeration faster than one sampling period shows up as a new devnum. */
MK_TEST(fast_reenumeration_seen_through_devnum)
{
    static const struct step script[] = {{0, PLUG_RC76XX}, {1100, PLUG_RC76XX}};
    struct sim s;
    struct mk_usb_watch w;
    sim_init(&s, &w, script, 2);
    struct mk_usb_dev after;
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 11, NULL, 60000, &after), MK_OK);
    MK_CHECK_EQ_INT(after.devnum, 12);
    MK_CHECK_EQ_INT(s.nev, 3);
    MK_CHECK_EQ_INT(s.ev[1], MK_USB_EV_GONE);
    MK_CHECK_EQ_INT(s.ev[2], MK_USB_EV_APPEARED);

    /* Already re-enumerated before the wait started: accepted at the first sample. */
    s.nev = 0;
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 11, NULL, s.vc.now_ms + 60000, &after), MK_OK);
    MK_CHECK_EQ_INT(s.nev, 1);
    sim_free(&s);
}

MK_TEST(wait_timeouts_say_what_happened)
{
    struct sim s;
    struct mk_usb_watch w;
    struct mk_usb_dev out;

    /* The reset never happened. */
    static const struct step stay[] = {{0, PLUG_RC76XX}};
    sim_init(&s, &w, stay, 1);
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 11, NULL, 30000, &out), MK_E_TIMEOUT);
    MK_CHECK(strstr(w.msg, "never went away") != NULL);
    MK_CHECK(s.vc.now_ms >= 30000 && s.vc.now_ms < 30300);
    sim_free(&s);

    /* Gone and never back. */
    static const struct step gone[] = {{0, PLUG_RC76XX}, {2000, UNPLUG}};
    sim_init(&s, &w, gone, 2);
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 0, NULL, 30000, &out), MK_E_TIMEOUT);
    MK_CHECK(strstr(w.msg, "went away after 2.0 s and did not come back within 30 s") != NULL);
    sim_free(&s);

    /* Back, but in normal mode while we wait for boot-and-hold. */
    static const struct step wrong[] = {{0, PLUG_RC76XX}, {2000, UNPLUG}, {9000, PLUG_RC76XX}};
    sim_init(&s, &w, wrong, 3);
    struct mk_usb_expect bh = {.vid = 0x1199, .pid = 0x68c0, .num_interfaces = 1};
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 0, &bh, 60000, &out), MK_E_TIMEOUT);
    MK_CHECK(strstr(w.msg, "came back as 3-1 1199:68c0") != NULL);
    MK_CHECK(strstr(w.msg, "not as expected") != NULL);
    sim_free(&s);

    /* Back in the right mode, but no driver ever binds. */
    static const struct step nodrv[] = {
        {0, PLUG_RC76XX}, {2000, UNPLUG}, {9000, PLUG_BOOTHOLD_UNBOUND}};
    sim_init(&s, &w, nodrv, 3);
    bh.need_tty = true;
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 0, &bh, 60000, &out), MK_E_TIMEOUT);
    MK_CHECK(strstr(w.msg, "no serial driver created a tty") != NULL);
    sim_free(&s);

    /* Nothing there at all. */
    sim_init(&s, &w, NULL, 0);
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 0, NULL, 5000, &out), MK_E_TIMEOUT);
    MK_CHECK(strstr(w.msg, "nothing appeared on USB port 3-1") != NULL);
    sim_free(&s);
}

/* Seed 004 on the bus: each appearance looks like "back" to a naive waiter. */
static struct step loop_script[64];

static size_t make_loop_script(void)
{
    size_t n = 0;
    uint64_t t = 0;
    loop_script[n++] = (struct step){t, PLUG_RC76XX};
    while (n + 2 < 64) {
        t += 2500;
        loop_script[n++] = (struct step){t, UNPLUG};
        t += 12500;
        loop_script[n++] = (struct step){t, PLUG_RC76XX};
    }
    return n;
}

MK_TEST(wait_stops_on_reboot_loop)
{
    struct sim s;
    struct mk_usb_watch w;
    sim_init(&s, &w, loop_script, make_loop_script());
    struct mk_usb_loopwatch lw;
    mk_usb_loop_init(&lw, NULL);
    w.loop = &lw;
    /* We asked for boot-and-hold; the module keeps booting its broken firmware. */
    struct mk_usb_expect bh = {.vid = 0x1199, .pid = 0x68c0, .num_interfaces = 1};
    struct mk_usb_dev out;
    MK_CHECK_EQ_INT(mk_usb_wait_reenum(&w, 0, &bh, 300000, &out), MK_E_BOOTLOOP);
    MK_CHECK(s.vc.now_ms >= 32500 && s.vc.now_ms <= 33000); /* the third vanish */
    MK_CHECK(strstr(w.msg, "port 3-1 (1199:68c0 Sierra Wireless RC7620)") != NULL);
    MK_CHECK(strstr(w.msg, "appeared and vanished 3 times") != NULL);
    MK_CHECK(strstr(w.msg, "TP1") != NULL);
    printf("# %s\n", w.msg);
    sim_free(&s);
}

MK_TEST(watch_port_loop_and_stable)
{
    struct sim s;
    struct mk_usb_watch w;
    struct mk_usb_dev out;
    sim_init(&s, &w, loop_script, make_loop_script());
    MK_CHECK_EQ_INT(mk_usb_watch_port(&w, 600000, &out), MK_E_BOOTLOOP);
    sim_free(&s);

    static const struct step reboot_once[] = {
        {0, PLUG_RC76XX}, {5000, UNPLUG}, {17000, PLUG_RC76XX}};
    sim_init(&s, &w, reboot_once, 3);
    MK_CHECK_EQ_INT(mk_usb_watch_port(&w, 180000, &out), MK_OK);
    MK_CHECK_EQ_INT(out.devnum, 12);
    MK_CHECK_EQ_INT(s.nev, 3);
    sim_free(&s);

    sim_init(&s, &w, NULL, 0);
    MK_CHECK_EQ_INT(mk_usb_watch_port(&w, 10000, &out), MK_E_NOENT);
    sim_free(&s);
}

/* ---------------------------------------------------------------------------------- */
/* Real time: another thread re-plugs the device while the watcher samples             */

struct replug {
    const char *sys;
    unsigned devnum;
};

static void *replug_thread(void *arg)
{
    struct replug *r = arg;
    mk_posix_sleep_ms(50); /* the module's reset time, not a synchronisation */
    mk_fakeusb_remove(r->sys, "3-1");
    mk_posix_sleep_ms(100);
    mk_fakeusb_add_profile(r->sys, "3-1", MK_FAKEUSB_RC76XX_BOOTHOLD, r->devnum, true);
    return NULL;
}

MK_TEST(real_clock_tree_changing_under_the_watcher)
{
    char root[256], sys[300];
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(root, sizeof root, "watch-rt"), 0);
    snprintf(sys, sizeof sys, "%s/sys", root);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(sys, "3-1", MK_FAKEUSB_RC76XX, 20, true), 0);
    struct mk_usb_roots roots = {sys, NULL};
    struct mk_usb_watch w;
    memset(&w, 0, sizeof w);
    w.roots = &roots;
    w.port = "3-1";
    w.interval_ms = 5;
    struct replug r = {sys, 21};
    pthread_t th;
    MK_CHECK_EQ_INT(pthread_create(&th, NULL, replug_thread, &r), 0);
    struct mk_usb_expect want = {.num_interfaces = 1, .need_tty = true};
    struct mk_usb_dev out;
    enum mk_err e = mk_usb_wait_reenum(&w, 20, &want, mk_posix_now_ms() + 5000, &out);
    pthread_join(th, NULL);
    MK_CHECK_EQ_INT(e, MK_OK);
    if (e != MK_OK)
        printf("#   %s\n", w.msg);
    MK_CHECK_EQ_INT(out.devnum, 21);
    MK_CHECK_EQ_STR(out.intf[0].tty, "ttyUSB0");
    mk_fakeusb_rm_rf(root);
}

MK_TEST_MAIN()
