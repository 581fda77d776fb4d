#!/usr/bin/env python3
"""modemctl flash end to end against modemsim's download-mode targets.

seed 004, reproduced: an RC7620 held in download mode with TP1 at power-on, its one-shot
Sahara HELLO already drained by an earlier reader; qmi-firmware-update failed there with
"unsupported download protocol". modemctl must detect Sahara (provoking a fresh HELLO and
keeping it), flash, and the module must boot the new version. The same after a reboot
loop: modemctl reports the loop with the TP1 advice; TP1 + a power cycle then let the
flash through. Also: AT!BOOTHOLD from normal mode with --json progress, a version that
did not change, wrong products, a half-written flash, PBL EDL (QFIL package) and QDL.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import flashtest as ft  # noqa: E402

SEED004_HELLO = bytes([1, 0, 0, 0, 0x30, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
                       0, 4, 0, 0, 2, 0, 0, 0]) + bytes(24)
OLD = "00.08.07.00"  # the RC7620 profile's factory firmware (seed 002)
NEW = "00.08.24.02"  # seed 004's release 9


def read_exact(path, n, timeout=5.0):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    data = b""
    try:
        def got():
            nonlocal data
            try:
                data += os.read(fd, n - len(data))
            except BlockingIOError:
                pass
            return len(data) >= n
        ft.wait_for(got, timeout, 0.01)
    finally:
        os.close(fd)
    return data


class Flash(unittest.TestCase):
    def setUp(self):
        self.wd = ft.Workdir(self.id().split(".")[-1])
        self.dir = self.wd.path
        self.sims = []
        self.spk = ft.mkcwe(os.path.join(self.dir, "RC76xx_Release9_GENERIC_GCF_7620.spk"),
                            firmware=NEW, appl=150000, modm=90000)

    def tearDown(self):
        for s in self.sims:
            s.stop()
            self.assertEqual(s.sanitizer_report(), "")
        self.wd.__exit__()

    def sim(self, profile="RC7620", *extra):
        s = ft.Sim(self.dir, profile, extra).start()
        self.sims.append(s)
        return s

    def revision(self, sim):
        rc, out, err = ft.modemctl("--json", "-d", sim.link, "info")
        self.assertEqual(rc, 0, err)
        return ft.json_lines(out)[-1]["revision"]

    def flash(self, sim, *args, expect_rc=0):
        rc, out, err = ft.modemctl("--json", "-d", sim.link, "flash", *ft.FAST, *args)
        events = ft.json_lines(out)
        self.assertEqual(rc, expect_rc, "stdout:\n%s\nstderr:\n%s" % (out, err))
        return events, err

    @staticmethod
    def notes(events):
        return "\n".join(e["text"] for e in events if e.get("event") == "note")

    def test_seed004_drained_hello(self):
        s = self.sim()
        s.tp1_power_cycle()
        # a first reader (qmi-firmware-update's 2 s wait, ModemManager...) takes the HELLO
        self.assertEqual(read_exact(s.link, 48), SEED004_HELLO)
        events, _ = self.flash(s, self.spk)
        notes = self.notes(events)
        # the HELLO was provoked, kept and used: Sahara, Sierra boot-and-hold
        self.assertRegex(notes, r"Sahara HELLO .* after the \w+ probe: Sierra boot-and-hold")
        self.assertIn('"confirmed"', notes)
        result = events[-1]
        self.assertEqual(result["event"], "result")
        self.assertTrue(result["ok"])
        self.assertIn("SWI9X07H_" + NEW, result["revision"])
        self.assertEqual(result["impref_fw"], NEW)
        # the module boots the new version (AT+CGMR through modemctl info)
        self.assertIn(NEW, self.revision(s))
        with open(self.spk, "rb") as a, open(os.path.join(s.state, "dl", "image.cwe"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_bootloop_then_tp1(self):
        s = self.sim("RC7620", "--fault", "bootloop=300/600", "--hello-lost-ms", "1")
        rc, out, err = ft.modemctl("-d", s.link, "flash", *ft.FAST, self.spk)
        self.assertEqual(rc, 18, err)  # MK_EXIT_BOOTLOOP
        self.assertIn("reboot loop", err)
        self.assertIn("TP1", err)
        self.assertIn("hard power cycle", err)
        # the operator holds TP1 and power-cycles; the HELLO is gone by the time modemctl
        # runs (--hello-lost-ms 1: modemctl "starts late")
        s.tp1_power_cycle()
        events, _ = self.flash(s, self.spk)
        self.assertRegex(self.notes(events), r"after the \w+ probe: Sierra boot-and-hold")
        self.assertTrue(events[-1]["ok"])
        self.assertIn(NEW, self.revision(s))  # and no loop any more

    def test_bootloop_recovered_by_power_cycle_cmd(self):
        s = self.sim("RC7620", "--fault", "bootloop=300/600")
        pc = "%s --ctl %s power-cycle" % (ft.MODEMSIM, s.ctl)
        pin = "%s --ctl %s tp1" % (ft.MODEMSIM, s.ctl)
        events, _ = self.flash(s, "--power-cycle-cmd", pc, "--boot-pin-cmd", pin, self.spk)
        notes = self.notes(events)
        self.assertIn("reboot loop", notes)
        self.assertIn("tp1 on", notes)
        self.assertIn("tp1 off", notes)
        self.assertTrue(events[-1]["ok"])
        self.assertIn(NEW, self.revision(s))

    def test_boothold_from_normal_mode_json_progress(self):
        s = self.sim()
        nvu = ft.mkcwe(os.path.join(self.dir, "carrier.nvu"), top="NVUP", boot=0, appl=0,
                       modm=0, nvup=30000)
        events, _ = self.flash(s, self.spk, nvu)
        notes = self.notes(events)
        self.assertIn("AT answer", notes)
        self.assertIn("AT!BOOTHOLD", notes)
        prog = [e for e in events if e.get("event") == "progress"]
        stages = [e["stage"] for e in prog]
        for st in ("detect", "handshake", "configure", "write", "finalize", "reset", "done"):
            self.assertIn(st, stages)
        done = [e["done"] for e in prog]
        self.assertEqual(done, sorted(done))
        self.assertEqual(prog[-1]["done"], prog[-1]["total"])
        self.assertEqual({e["file"] for e in prog if e["stage"] == "write"},
                         {os.path.basename(self.spk), "carrier.nvu"})
        r = events[-1]
        self.assertTrue(r["ok"])
        self.assertIn(OLD, r["revision_before"])
        self.assertIn(NEW, r["revision"])
        rc, out, err = ft.modemctl("-d", s.link, "at", 'AT!ENTERCND="A710"', "AT!IMPREF?")
        self.assertEqual(rc, 0, err)
        self.assertIn("current fw version: " + NEW, out)
        self.assertIn("current carrier name: GENERIC", out)
        self.assertIn("current config name: GENERIC_001.110_000", out)

    def test_version_unchanged_is_a_failure(self):
        s = self.sim()
        # versions that name no firmware: the module keeps running the old one
        plain = ft.mkcwe(os.path.join(self.dir, "noversion.cwe"),
                         **{"top-version": "INTERNAL_SWI9X07H", "boot-version": "SWI9X07H",
                            "nvup-version": "INTERNAL"})
        events, err = self.flash(s, plain, expect_rc=19)
        self.assertIn("still runs", err)
        self.assertIn(OLD, err)
        # and a module that runs something else than expected
        events, err = self.flash(s, "--expect-version", "00.09.00.00", self.spk, expect_rc=19)
        self.assertIn("not firmware 00.09.00.00", err)

    def test_products_and_half_written_flash(self):
        s = self.sim()
        other = ft.mkcwe(os.path.join(self.dir, "em7565.spk"), product="9X50")
        # known from the identity before AT!BOOTHOLD: refused, module untouched
        rc, out, err = ft.modemctl("-d", s.link, "flash", *ft.FAST, other)
        self.assertEqual(rc, 17, err)
        self.assertIn("9X50", err)
        self.assertIn(OLD, self.revision(s))
        self.assertEqual(s.packets(), 0)
        # in download mode nothing tells the host: the module NAKs it after the data
        s.tp1_power_cycle()
        rc, out, err = ft.modemctl("-d", s.link, "flash", *ft.FAST, other)
        self.assertEqual(rc, 16, err)
        self.assertIn("image is for product 9X50, this module is 9X07", err)
        # its flash is half-written now: a power cycle (TP1 released) comes back in
        # download mode, not in the old firmware, until a complete image is written
        n = s.appearances()
        s.ctl_send("power-cycle")
        s.wait_port(n)
        events, _ = self.flash(s, self.spk)
        self.assertTrue(events[-1]["ok"])
        self.assertIn(NEW, self.revision(s))

    def test_corrupt_image_never_reaches_the_module(self):
        s = self.sim()
        bad = ft.mkcwe(os.path.join(self.dir, "bad.spk"), flip=-5000)
        rc, out, err = ft.modemctl("-d", s.link, "flash", *ft.FAST, bad)
        self.assertEqual(rc, 17, err)
        self.assertIn("AMSS image 0.2.0", err)
        self.assertIn("payload CRC mismatch", err)
        self.assertEqual(s.packets(), 0)
        self.assertIn(OLD, self.revision(s))

    def test_pbl_edl_qfil_package(self):
        s = self.sim("SIM7600E-H")
        pkg = ft.qfil_package(os.path.join(self.dir, "qfil"), "LE20B05SIM7600M22")
        s.tp1_power_cycle()
        # CWE images are no use to a PBL: said plainly
        rc, out, err = ft.modemctl("-d", s.link, "flash", *ft.FAST, self.spk)
        self.assertEqual(rc, 16, err)
        self.assertIn("PBL", err)
        self.assertIn("signed programmer", err)
        events, _ = self.flash(s, "--expect-version", "LE20B05SIM7600M22", pkg)
        notes = self.notes(events)
        self.assertIn("Qualcomm PBL emergency download", notes)
        self.assertIn("programmer loaded", notes)
        self.assertTrue(events[-1]["ok"])
        self.assertEqual(self.revision(s), "LE20B05SIM7600M22")
        dl = os.path.join(s.state, "dl")
        self.assertEqual(open(os.path.join(dl, "lun0_192"), "rb").read()[:40],
                         open(os.path.join(pkg, "modem.img"), "rb").read()[:40])
        self.assertTrue(os.path.exists(os.path.join(dl, "lun0_0")))

    def test_pbl_edl_unsigned_programmer(self):
        s = self.sim("SIM7600E-H")
        pkg = ft.qfil_package(os.path.join(self.dir, "qfil"), "LE20B05SIM7600M22", signed=False)
        s.tp1_power_cycle()
        rc, out, err = ft.modemctl("-d", s.link, "flash", *ft.FAST, pkg)
        self.assertEqual(rc, 16, err)
        self.assertIn("IMAGE_AUTH_FAILURE (0x25)", err)

    def test_forced_sahara_without_hello(self):
        # --protocol sahara skips detection; the HELLO is long gone: an unsolicited
        # HELLO_RSP (as qdl sends) gets the boot-and-hold target going
        s = self.sim("RC7620", "--hello-lost-ms", "1")
        s.tp1_power_cycle()
        events, _ = self.flash(s, "--protocol", "sahara", self.spk)
        notes = self.notes(events)
        self.assertIn("protocol forced to sahara", notes)
        self.assertIn("unsolicited HELLO_RSP", notes)
        self.assertTrue(events[-1]["ok"])

    def test_qdl_9x30(self):
        s = self.sim("RC7620", "--download-mode", "qdl")
        s.tp1_power_cycle()
        events, _ = self.flash(s, self.spk)
        self.assertIn("QDL/DLOAD download mode", self.notes(events))
        self.assertTrue(events[-1]["ok"])
        self.assertIn(NEW, self.revision(s))


class UsbDiscovery(unittest.TestCase):
    """Without -d: the module is looked up in sysfs; a missing driver or ModemManager
    holding the port is reported with its fix (fake sysfs/procfs trees)."""
    TOOL = os.path.join(ft.BUILD, "tests", "modemctl", "mk_fakeusb_tool")

    def setUp(self):
        self.wd = ft.Workdir("usb")
        self.sys = os.path.join(self.wd.path, "sys")
        self.proc = os.path.join(self.wd.path, "proc")
        os.makedirs(os.path.join(self.sys, "bus", "usb", "devices"))
        os.makedirs(self.proc)
        self.spk = ft.mkcwe(os.path.join(self.wd.path, "fw.spk"))
        self.env = dict(os.environ, MODEMCTL_SYSFS=self.sys, MODEMCTL_PROCFS=self.proc)
        self.env.pop("MODEMCTL_DEVICE", None)

    def tearDown(self):
        self.wd.__exit__()

    def tool(self, *args):
        import subprocess
        subprocess.run([self.TOOL] + [str(a) for a in args], check=True)

    def run_flash(self):
        return ft.modemctl("flash", *ft.FAST, self.spk, env=self.env)

    def test_nothing_on_usb(self):
        rc, out, err = self.run_flash()
        self.assertEqual(rc, 3, err)
        self.assertIn("no known cellular module found on USB", err)

    def test_driver_missing(self):
        self.tool(self.sys, "add", "3-1", "boothold", 59, "unbound")
        rc, out, err = self.run_flash()
        self.assertEqual(rc, 3, err)
        self.assertIn("1199:68c0", err)
        self.assertIn("qcserial", err)

    def test_modemmanager_holds_the_port(self):
        self.tool(self.sys, "add", "3-1", "boothold", 59, "bound")
        self.tool(self.proc, "proc", 812, "ModemManager", "/dev/ttyUSB0")
        rc, out, err = self.run_flash()
        self.assertEqual(rc, 3, err)
        self.assertIn("ModemManager", err)
        self.assertIn("812", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
