/*
 * USB discovery on fake sysfs and procfs trees: SIMCom 9001 normal mode, RC7620 normal
 * and boot-and-hold, 05c6:9008 with and without qcserial, devices with no driver, cdc_acm,
 * ModemManager and other processes holding the tty.
 */
#include "mk_test.h"
#include "support/fake_usb.h"

#include <stdio.h>
#include <string.h>

#include "modemkit/usb.h"

struct tree {
    char root[256];
    char sys[300];
    char proc[300];
    struct mk_usb_roots roots;
};

static void tree_init(struct tree *t)
{
    MK_CHECK_EQ_INT(mk_fakeusb_tmpdir(t->root, sizeof t->root, "usb"), 0);
    snprintf(t->sys, sizeof t->sys, "%s/sys", t->root);
    snprintf(t->proc, sizeof t->proc, "%s/proc", t->root);
    t->roots.sys = t->sys;
    t->roots.proc = t->proc;
    /* What every host has: a root hub and its interface, which are not devices. */
    struct mk_fakeusb_intf hub_if = {0, 9, 0, 0, "hub", NULL};
    struct mk_fakeusb_dev hub = {.port = "1-1",
                                 .vid = 0x05e3,
                                 .pid = 0x0610,
                                 .devnum = 2,
                                 .product = "USB2.0 Hub",
                                 .intf = &hub_if,
                                 .nintf = 1};
    MK_CHECK_EQ_INT(mk_fakeusb_add(t->sys, &hub), 0);
    MK_CHECK_EQ_INT(mk_fakeusb_proc_add(t->proc, 1, "systemd", NULL, 0), 0);
}

static void tree_free(struct tree *t)
{
    mk_fakeusb_rm_rf(t->root);
}

static bool contains(const char *hay, const char *needle)
{
    bool ok = strstr(hay, needle) != NULL;
    if (!ok)
        printf("#   \"%s\" not in: %s\n", needle, hay);
    return ok;
}

MK_TEST(simcom_normal_mode)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "3-1", MK_FAKEUSB_SIM7600, 7, true), 0);

    struct mk_usb_dev devs[4];
    size_t n = 0;
    MK_CHECK_EQ_INT(mk_usb_list(&t.roots, devs, 4, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 2); /* the hub and the module, sorted by port */
    MK_CHECK_EQ_STR(devs[0].port, "1-1");
    const struct mk_usb_dev *d = &devs[1];
    MK_CHECK_EQ_STR(d->port, "3-1");
    MK_CHECK_EQ_HEX(d->vid, 0x1e0e);
    MK_CHECK_EQ_HEX(d->pid, 0x9001);
    MK_CHECK_EQ_INT(d->busnum, 3);
    MK_CHECK_EQ_INT(d->devnum, 7);
    MK_CHECK_EQ_STR(d->devpath, "1");
    MK_CHECK_EQ_STR(d->manufacturer, "SimTech, Incorporated");
    MK_CHECK_EQ_STR(d->serial, "0123456789ABCDEF");
    MK_CHECK_EQ_INT(d->num_interfaces, 6);
    MK_CHECK_EQ_INT(d->nintf, 6);
    MK_CHECK_EQ_INT(d->intf[2].number, 2);
    MK_CHECK_EQ_HEX(d->intf[2].cls, 0xff);
    MK_CHECK_EQ_STR(d->intf[2].driver, "option");
    MK_CHECK_EQ_STR(d->intf[2].tty, "ttyUSB2");
    MK_CHECK_EQ_STR(d->intf[5].driver, "qmi_wwan");
    MK_CHECK_EQ_STR(d->intf[5].tty, "");

    struct mk_usb_class c;
    MK_CHECK(mk_usb_classify(d, &c));
    MK_CHECK_EQ_INT(c.mode, MK_USB_MODE_NORMAL);
    MK_CHECK_EQ_STR(c.at_tty, "ttyUSB2");
    MK_CHECK(c.dl_tty == NULL);
    MK_CHECK_EQ_STR(mk_usb_mode_name(c.mode), "normal");

    struct mk_usb_dev f;
    MK_CHECK_EQ_INT(mk_usb_find_id(&t.roots, 0x1e0e, 0x9001, &f), MK_OK);
    MK_CHECK_EQ_STR(f.port, "3-1");
    MK_CHECK_EQ_INT(mk_usb_find_id(&t.roots, 0x1e0e, 0, &f), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_find_id(&t.roots, 0x1199, 0x68c0, &f), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &f), MK_OK);
    MK_CHECK_EQ_INT(f.devnum, 7);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-2", &f), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1:1.0", &f), MK_E_INVAL);
    size_t idx = 99;
    MK_CHECK_EQ_INT(mk_usb_find_tty(&t.roots, "/dev/ttyUSB2", &f, &idx), MK_OK);
    MK_CHECK_EQ_STR(f.port, "3-1");
    MK_CHECK_EQ_INT(f.intf[idx].number, 2);
    MK_CHECK_EQ_INT(mk_usb_find_tty(&t.roots, "ttyUSB9", &f, NULL), MK_E_NOENT);

    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, d, &dg), MK_OK);
    MK_CHECK_EQ_STR(dg.tty, "ttyUSB2");
    MK_CHECK_EQ_INT(dg.mm_pid, 0);
    MK_CHECK(contains(dg.msg, "/dev/ttyUSB2"));
    MK_CHECK(!strstr(dg.msg, "ModemManager"));

    char line[256];
    mk_usb_describe(d, line, sizeof line);
    MK_CHECK(contains(line, "3-1 1e0e:9001 dev 7"));
    MK_CHECK(contains(line, "if2 option ttyUSB2"));
    MK_CHECK(contains(line, "if5 qmi_wwan"));
    mk_usb_describe(d, line, 12); /* truncation is safe */
    MK_CHECK_EQ_INT(strlen(line), 11);
    tree_free(&t);
}

MK_TEST(rc7620_normal_and_boot_and_hold)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "3-1", MK_FAKEUSB_RC76XX, 59, true), 0);
    struct mk_usb_dev d;
    struct mk_usb_class c;
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &d), MK_OK);
    MK_CHECK_EQ_STR(d.product, "Sierra Wireless RC7620");
    MK_CHECK_EQ_INT(d.num_interfaces, 4);
    MK_CHECK(mk_usb_classify(&d, &c));
    MK_CHECK_EQ_INT(c.mode, MK_USB_MODE_NORMAL);
    MK_CHECK_EQ_STR(c.at_tty, "ttyUSB2"); /* seed 004: ttyUSB2 (at), ttyUSB0 (qcdm) */
    MK_CHECK_EQ_INT(c.known->at_intf, 3);

    /* TP1 low at power-on (seed 004): same VID:PID, one interface, one tty. */
    MK_CHECK_EQ_INT(mk_fakeusb_remove(t.sys, "3-1"), 0);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &d), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "3-1", MK_FAKEUSB_RC76XX_BOOTHOLD, 60, true), 0);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &d), MK_OK);
    MK_CHECK_EQ_INT(d.num_interfaces, 1);
    MK_CHECK(mk_usb_classify(&d, &c));
    MK_CHECK_EQ_INT(c.mode, MK_USB_MODE_BOOTHOLD);
    MK_CHECK(c.at_tty == NULL);
    MK_CHECK_EQ_STR(c.dl_tty, "ttyUSB0");
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_OK);
    MK_CHECK_EQ_STR(dg.tty, "ttyUSB0");
    MK_CHECK(contains(dg.msg, "boot-and-hold"));
    tree_free(&t);
}

MK_TEST(edl_9008_with_and_without_qcserial)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "2-3", MK_FAKEUSB_EDL, 11, true), 0);
    struct mk_usb_dev d;
    struct mk_usb_class c;
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_find_id(&t.roots, 0x05c6, 0x9008, &d), MK_OK);
    MK_CHECK(mk_usb_classify(&d, &c));
    MK_CHECK_EQ_INT(c.mode, MK_USB_MODE_EDL);
    MK_CHECK_EQ_STR(c.dl_tty, "ttyUSB0");
    MK_CHECK(contains(c.known->note, "signed programmer"));
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_OK);
    MK_CHECK_EQ_INT(dg.cls.mode, MK_USB_MODE_EDL);

    /* Same device, qcserial not loaded. */
    MK_CHECK_EQ_INT(mk_fakeusb_remove(t.sys, "2-3"), 0);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "2-3", MK_FAKEUSB_EDL, 12, false), 0);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "2-3", &d), MK_OK);
    MK_CHECK_EQ_STR(d.intf[0].driver, "");
    MK_CHECK_EQ_STR(d.intf[0].tty, "");
    MK_CHECK(mk_usb_classify(&d, &c));
    MK_CHECK(c.dl_tty == NULL);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_E_NO_DRIVER);
    MK_CHECK(contains(dg.msg, "2-3 (05c6:9008"));
    MK_CHECK(contains(dg.msg, "no serial driver is bound to interface 0"));
    MK_CHECK(contains(dg.msg, "sudo modprobe qcserial"));
    MK_CHECK(
        contains(dg.msg, "echo 05c6 9008 | sudo tee /sys/bus/usb-serial/drivers/qcserial/new_id"));

    /* The driver loads late: the tty appears, the diagnosis clears. */
    MK_CHECK_EQ_INT(mk_fakeusb_bind(t.sys, "2-3", 0, "qcserial", "ttyUSB0"), 0);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "2-3", &d), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_OK);
    MK_CHECK_EQ_STR(dg.tty, "ttyUSB0");
    tree_free(&t);
}

MK_TEST(simcom_without_option_driver)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "1-2", MK_FAKEUSB_SIM7600, 4, false), 0);
    struct mk_usb_dev d;
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "1-2", &d), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_E_NO_DRIVER);
    MK_CHECK(contains(dg.msg, "interface 2 (the AT port)"));
    MK_CHECK(contains(dg.msg, "sudo modprobe option"));
    MK_CHECK(
        contains(dg.msg, "echo 1e0e 9001 | sudo tee /sys/bus/usb-serial/drivers/option1/new_id"));

    /* Interface 2 taken by a non-serial driver is explained as such. */
    MK_CHECK_EQ_INT(mk_fakeusb_bind(t.sys, "1-2", 2, "usbfs", NULL), 0);
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "1-2", &d), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_E_NO_DRIVER);
    MK_CHECK(contains(dg.msg, "interface 2 is bound to usbfs"));
    MK_CHECK(contains(dg.msg, "libusb"));
    tree_free(&t);
}

MK_TEST(unknown_devices_vendor_and_acm)
{
    struct tree t;
    tree_init(&t);
    /* A modem we have no table row for, with no driver on its vendor interfaces. */
    struct mk_fakeusb_intf vif[2] = {{0, 0xff, 0xff, 0xff, NULL, NULL},
                                     {1, 0xff, 0xff, 0xff, NULL, NULL}};
    struct mk_fakeusb_dev odd = {
        .port = "4-1.2", .vid = 0x1234, .pid = 0x5678, .devnum = 3, .intf = vif, .nintf = 2};
    MK_CHECK_EQ_INT(mk_fakeusb_add(t.sys, &odd), 0);
    struct mk_usb_dev d;
    struct mk_usb_class c;
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "4-1.2", &d), MK_OK);
    MK_CHECK_EQ_STR(d.devpath, "1.2");
    MK_CHECK(!mk_usb_classify(&d, &c));
    MK_CHECK_EQ_INT(c.mode, MK_USB_MODE_UNKNOWN);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_E_NO_DRIVER);
    MK_CHECK(
        contains(dg.msg, "echo 1234 5678 | sudo tee /sys/bus/usb-serial/drivers/option1/new_id"));

    /* A CDC ACM modem: tty under <intf>/tty/ttyACM0. */
    struct mk_fakeusb_intf aif[2] = {{0, 0x02, 0x02, 0x01, "cdc_acm", "ttyACM0"},
                                     {1, 0x0a, 0x00, 0x00, "cdc_acm", NULL}};
    struct mk_fakeusb_dev acm = {
        .port = "4-2", .vid = 0x2341, .pid = 0x8053, .devnum = 5, .intf = aif, .nintf = 2};
    MK_CHECK_EQ_INT(mk_fakeusb_add(t.sys, &acm), 0);
    size_t idx = 0;
    MK_CHECK_EQ_INT(mk_usb_find_tty(&t.roots, "ttyACM0", &d, &idx), MK_OK);
    MK_CHECK_EQ_STR(d.port, "4-2");
    MK_CHECK_EQ_STR(d.intf[idx].driver, "cdc_acm");
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_OK);
    MK_CHECK_EQ_STR(dg.tty, "ttyACM0");

    /* Listing with too small an array: the first cap are filled, NOSPC says more exist. */
    struct mk_usb_dev two[2];
    size_t n = 0;
    MK_CHECK_EQ_INT(mk_usb_list(&t.roots, two, 2, &n), MK_E_NOSPC);
    MK_CHECK_EQ_INT(n, 3);
    MK_CHECK_EQ_STR(two[0].port, "1-1");
    MK_CHECK_EQ_STR(two[1].port, "4-1.2");

    struct mk_usb_roots none = {"/nonexistent-modemkit-sys", "/nonexistent-modemkit-proc"};
    MK_CHECK_EQ_INT(mk_usb_list(&none, two, 2, &n), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_usb_modemmanager_pid(&none), 0);
    tree_free(&t);
}

MK_TEST(modemmanager_holds_the_at_port)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "3-1", MK_FAKEUSB_SIM7600, 7, true), 0);
    static const char *const mm_fds[] = {"/dev/null", "socket:[1234]", "/dev/ttyUSB2",
                                         "/dev/ttyUSB3"};
    MK_CHECK_EQ_INT(mk_fakeusb_proc_add(t.proc, 812, "ModemManager", mm_fds, 4), 0);
    MK_CHECK_EQ_INT(mk_usb_modemmanager_pid(&t.roots), 812);

    struct mk_usb_dev d;
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &d), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_E_PORT_HELD);
    MK_CHECK_EQ_INT(dg.holder.pid, 812);
    MK_CHECK_EQ_STR(dg.holder.comm, "ModemManager");
    MK_CHECK_EQ_INT(dg.mm_pid, 812);
    MK_CHECK(contains(dg.msg, "/dev/ttyUSB2 is held open by ModemManager (pid 812)"));
    MK_CHECK(contains(dg.msg, "systemctl stop ModemManager"));
    MK_CHECK(contains(dg.msg, "mmcli --inhibit-device="));
    MK_CHECK(contains(dg.msg, "/devices/platform/fake-xhci/usb3/3-1"));
    MK_CHECK(contains(dg.msg, "ATTRS{idVendor}==\"1e0e\""));
    MK_CHECK(contains(dg.msg, "ENV{ID_MM_DEVICE_IGNORE}=\"1\""));
    tree_free(&t);
}

MK_TEST(another_process_holds_the_port)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "3-1", MK_FAKEUSB_RC76XX, 59, true), 0);
    static const char *const fds[] = {"/dev/pts/0", "/dev/ttyUSB2"};
    MK_CHECK_EQ_INT(mk_fakeusb_proc_add(t.proc, 4242, "minicom", fds, 2), 0);
    MK_CHECK_EQ_INT(mk_fakeusb_proc_add(t.proc, 4243, "cat", fds + 1, 1), 0);

    struct mk_usb_holder h[1];
    size_t n = 0;
    unsigned unreadable = 9;
    MK_CHECK_EQ_INT(mk_usb_find_holders(&t.roots, "/dev/ttyUSB2", h, 1, &n, &unreadable),
                    MK_E_NOSPC);
    MK_CHECK_EQ_INT(n, 2);
    MK_CHECK_EQ_INT(unreadable, 0);
    MK_CHECK_EQ_INT(mk_usb_find_holders(&t.roots, "/dev/ttyUSB0", h, 1, &n, NULL), MK_OK);
    MK_CHECK_EQ_INT(n, 0);

    struct mk_usb_dev d;
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &d), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_E_PORT_HELD);
    MK_CHECK(dg.holder.pid == 4242 || dg.holder.pid == 4243);
    MK_CHECK(contains(dg.msg, "and 1 other process"));
    MK_CHECK(contains(dg.msg, "kill"));
    MK_CHECK(!strstr(dg.msg, "systemctl"));
    MK_CHECK_EQ_INT(dg.mm_pid, 0);
    tree_free(&t);
}

MK_TEST(modemmanager_running_but_not_holding_is_a_warning)
{
    struct tree t;
    tree_init(&t);
    MK_CHECK_EQ_INT(mk_fakeusb_add_profile(t.sys, "3-1", MK_FAKEUSB_RC76XX_BOOTHOLD, 60, true), 0);
    MK_CHECK_EQ_INT(mk_fakeusb_proc_add(t.proc, 700, "ModemManager", NULL, 0), 0);
    struct mk_usb_dev d;
    struct mk_usb_diag dg;
    MK_CHECK_EQ_INT(mk_usb_read(&t.roots, "3-1", &d), MK_OK);
    MK_CHECK_EQ_INT(mk_usb_diagnose(&t.roots, &d, &dg), MK_OK);
    MK_CHECK_EQ_INT(dg.mm_pid, 700);
    MK_CHECK(contains(dg.msg, "Warning: ModemManager is running (pid 700)"));
    tree_free(&t);
}

/* Every row of the table says where its facts come from and what the mode means. */
MK_TEST(known_table_rows_cite_sources)
{
    size_t n = 0;
    const struct mk_usb_known *k = mk_usb_known_table(&n);
    MK_CHECK(n >= 15);
    for (size_t i = 0; i < n; i++) {
        MK_CHECK(k[i].source && strlen(k[i].source) > 10);
        MK_CHECK(k[i].note && k[i].note[0]);
        MK_CHECK(k[i].model && k[i].model[0]);
        MK_CHECK(k[i].mode != MK_USB_MODE_UNKNOWN);
        MK_CHECK(k[i].mode == MK_USB_MODE_NORMAL || k[i].at_intf < 0);
    }
    /* Spot checks of the modes the flasher relies on. */
    static const struct {
        uint16_t vid, pid;
        unsigned nif;
        enum mk_usb_mode mode;
    } cases[] = {
        {0x1199, 0x9090, 1, MK_USB_MODE_BOOTHOLD}, {0x1199, 0xc080, 1, MK_USB_MODE_BOOTHOLD},
        {0x1199, 0x9062, 1, MK_USB_MODE_BOOTHOLD}, {0x05c6, 0x900e, 1, MK_USB_MODE_CRASHDUMP},
        {0x2c7c, 0x0125, 5, MK_USB_MODE_NORMAL},   {0x1e0e, 0x9206, 4, MK_USB_MODE_NORMAL},
        {0x1e0e, 0x9205, 6, MK_USB_MODE_NORMAL},   {0x1199, 0x68c0, 1, MK_USB_MODE_BOOTHOLD},
        {0x1199, 0x68c0, 4, MK_USB_MODE_NORMAL},   {0x05c6, 0x9008, 1, MK_USB_MODE_EDL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mk_usb_dev d;
        memset(&d, 0, sizeof d);
        d.vid = cases[i].vid;
        d.pid = cases[i].pid;
        d.num_interfaces = cases[i].nif;
        struct mk_usb_class c;
        MK_CHECK(mk_usb_classify(&d, &c));
        MK_CHECK_EQ_INT(c.mode, cases[i].mode);
    }
}

MK_TEST_MAIN()
