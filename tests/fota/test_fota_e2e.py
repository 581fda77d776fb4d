#!/usr/bin/env python3
"""modemctl fota against modemsim, end to end.

- SIM7000G (AT+CFSWFILE + AT+CFOTA) and SIM7600SA (AT+CFTRANRX + AT+CDELTA): the update
  runs, the module reboots into the target revision, `modemctl info` reports it (and on
  SIM7600SA, MQTT user name/password and version choice appear, seed 000), the journal
  says success, `fota status` reports it once.
- Refusals before any transfer, each with its own exit code: wrong source revision (11),
  wrong model (10), corrupt package (14), bad or missing signature (13), not enough
  space (12), missing power-cycle command for a package that needs one (2); the module's
  revision is unchanged and no file data reached it.
- A delta the module itself rejects: revision unchanged, AT+CFOTA? 7 (exit 15) / revision
  unchanged after AT+CDELTA (exit 19).
- Resume: modemctl killed with SIGKILL mid-transfer, then `fota apply --resume`, sends
  less than the whole delta; a module power cut mid-transfer and mid-update is survived
  within the run; the apply command reaches the module exactly once.
- Boot loop after the update (seed 002): the power-cycle command is run and reported, the
  job succeeds; without one it fails with exit 18 and says why.
- The package names a URL: the SIM7000 fetches the delta itself (AT+HTTPTOFS) from an
  HTTP server the test runs on 127.0.0.1.
"""
import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import fotatest as ft  # noqa: E402


class FotaE2E(unittest.TestCase):
    def setUp(self):
        self.s = ft.Scratch(self._testMethodName)
        self.jdir = self.s.path("journal")
        self.sims = []

    def tearDown(self):
        for sim in self.sims:
            sim.stop()
        self.s.close()

    def sim(self, profile, extra=()):
        sim = ft.Sim(self.s, profile, extra, name="sim%d" % len(self.sims))
        self.sims.append(sim)
        return sim

    def info(self, sim):
        rc, out, err = ft.run(["-d", sim.link, "--json", "info"], check=0)
        return json.loads(out)

    def apply(self, sim, pkg, extra=(), check=None):
        rc, out, err = ft.run(["-d", sim.link, "--json", "fota", "apply", pkg, "--journal",
                               self.jdir, "--reboot-timeout", "20"] + list(extra), check=check)
        return rc, ft.final_result(out) if "{" in out else None, out, err

    # ---- success ----

    def test_sim7000g_update(self):
        sim = self.sim("SIM7000G")
        pkg = ft.pack(self.s, "SIM7000G", ft.make_delta(self.s, "SIM7000G", 25000))
        rc, res, out, err = self.apply(sim, pkg, check=0)
        self.assertEqual(res["result"], "success")
        self.assertEqual(res["revision"], "1529B05SIM7000G")
        self.assertEqual(res["bytes_sent"], 25256)
        self.assertEqual(res["chunks"], 3)  # 10240-byte AT+CFSWFILE chunks
        events = ft.json_lines(out)
        self.assertIn({"event": "progress", "phase": "updating", "percent": 100},
                      [{k: e[k] for k in ("event", "phase", "percent") if k in e}
                       for e in events if e.get("phase") == "updating"])
        self.assertTrue(any(e.get("event") == "progress" and e.get("phase") == "transfer" and
                            e["bytes"] == 25256 and "bytes_per_s" in e and "eta_s" in e
                            for e in events))
        self.assertEqual(self.info(sim)["revision"], "1529B05SIM7000G")
        rc, out, _ = ft.run(["-d", sim.link, "at", "AT+CFOTA?"], check=0)
        self.assertIn("+CFOTA: 6", out)
        j = ft.journal(self.jdir)
        self.assertEqual((j["state"], j["result"], j["final"]), (0, 1, True))
        self.assertEqual((j["apply_count"], j["apply_sent"], j["reported"]), (1, True, False))
        self.assertEqual(sim.applies(), 1)
        # status shows the result as new once, then marks it reported
        rc, out, _ = ft.run(["fota", "status", "--journal", self.jdir], check=0)
        self.assertIn("result 1 success, finished [new]", out)
        rc, out, _ = ft.run(["fota", "status", "--journal", self.jdir], check=0)
        self.assertNotIn("[new]", out)
        self.assertTrue(ft.journal(self.jdir)["reported"])
        # the same package again: nothing to do
        rc, res, _, _ = self.apply(sim, pkg, check=0)
        self.assertTrue(res["already"])
        self.assertEqual(sim.applies(), 1)

    def test_sim7600sa_update_gains_mqtt_credentials(self):
        sim = self.sim("SIM7600SA")
        before = self.info(sim)
        self.assertEqual(before["revision"], "LE11B01SIM7600M21-A")
        self.assertFalse(before["capabilities"]["mqtt_credentials"])
        self.assertEqual(before["capabilities"]["mqtt_versions"], ["3.1"])
        pkg = ft.pack(self.s, "SIM7600SA", ft.make_delta(self.s, "SIM7600SA", 40000))
        rc, res, out, err = self.apply(sim, pkg, extra=["--chunk-size", "16384"], check=0)
        self.assertEqual(res["result"], "success")
        self.assertEqual(res["chunks"], 3)
        after = self.info(sim)
        self.assertEqual(after["revision"], "LE11B14SIM7600M22")
        self.assertTrue(after["capabilities"]["mqtt_credentials"])
        self.assertEqual(after["capabilities"]["mqtt_versions"], ["3.1", "3.1.1"])
        self.assertIsNone(after["quirk"])
        j = ft.journal(self.jdir)
        self.assertEqual((j["result"], j["final"], j["method"]), (1, True, "cdelta"))
        self.assertEqual(sim.applies(), 1)
        self.assertIsNone(sim.file("F:/update.zip"))  # consumed by the update

    # ---- refusals before any transfer ----

    def test_refusals(self):
        key1, key2, pub1 = (self.s.path(n) for n in ("k1.pem", "k2.pem", "pub1.pem"))
        for k in (key1, key2):
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", k], check=True,
                           capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key1, "-pubout", "-out", pub1], check=True)
        delta = ft.make_delta(self.s, "SIM7000G", 12000)
        good = ft.pack(self.s, "SIM7000G", delta, out=self.s.path("good.fota"),
                       extra=["--sign", key1])
        wrong_src = ft.pack(self.s, "SIM7000G", delta, out=self.s.path("src.fota"),
                            source="1529B03SIM7000G")
        wrong_model = ft.pack(self.s, "SIM7000G", delta, out=self.s.path("model.fota"),
                              model="SIM7070G")
        bad_sig = ft.pack(self.s, "SIM7000G", delta, out=self.s.path("sig.fota"),
                          extra=["--sign", key2])
        unsigned = ft.pack(self.s, "SIM7000G", delta, out=self.s.path("unsigned.fota"))
        needs_cycle = ft.pack(self.s, "SIM7000G", delta, out=self.s.path("cycle.fota"),
                              extra=["--post", "hard-power-cycle"])
        corrupt = self.s.path("corrupt.fota")
        with open(good, "rb") as f:
            data = bytearray(f.read())
        data[len(data) - 2048] ^= 0x01  # a byte of the delta inside the package
        with open(corrupt, "wb") as f:
            f.write(data)
        sim = self.sim("SIM7000G", ["--fs-size", "20000"])
        big = ft.pack(self.s, "SIM7000G", ft.make_delta(self.s, "SIM7000G", 30000),
                      out=self.s.path("big.fota"))
        cases = [
            (wrong_src, [], 11, "MK_E_FOTA_SOURCE", "updates revision 1529B03SIM7000G; the module "
                                                    "runs 1529B04SIM7000G"),
            (wrong_model, [], 10, "MK_E_FOTA_MODEL", "is for model SIM7070G; the module is "
                                                     "SIMCOM_SIM7000G"),
            (corrupt, [], 14, "MK_E_FOTA_INTEGRITY", "the manifest expects SHA-256"),
            (bad_sig, ["--pubkey", pub1], 13, "MK_E_FOTA_SIGNATURE", "does not verify"),
            (unsigned, ["--pubkey", pub1, "--require-signature"], 13, "MK_E_FOTA_SIGNATURE",
             "not signed"),
            (big, [], 12, "MK_E_FOTA_SPACE", "needs 30256 bytes on the module; it has 20000"),
            (needs_cycle, [], 2, "MK_E_INVAL", "requires a hard power cycle"),
        ]
        codes = {}
        for pkg, extra, code, err, text in cases:
            rc, out, stderr = ft.run(["-v", "-d", sim.link, "--json", "fota", "apply", pkg,
                                      "--journal", self.jdir] + extra)
            res = ft.final_result(out)
            self.assertEqual(rc, code, (pkg, stderr))
            self.assertEqual((res["error"], res["code"]), (err, code))
            self.assertIn(text, res["message"])
            self.assertIn(text, stderr)
            for cmd in ("CFSWFILE", "CFSDFILE", "CFOTA=", "HTTPTOFS"):
                self.assertNotIn(cmd, stderr, "%s sent for %s" % (cmd, pkg))
            codes[err] = code
        # every kind of refusal has its own exit code
        self.assertEqual(len(set(codes.values())), len(codes))
        self.assertEqual(self.info(sim)["revision"], "1529B04SIM7000G")
        sim.stop()
        self.assertEqual(sim.stats()["data_bytes"], 0)
        self.assertEqual(sim.applies(), 0)
        self.assertIsNone(sim.file("/fota/update.zip"))
        # the refusals are in the journals with LwM2M results 6, 5 and 2
        rc, out, _ = ft.run(["--json", "fota", "status", "--journal", self.jdir], check=0)
        results = sorted(d["result"] for d in ft.json_lines(out))
        self.assertEqual(results, [2, 5, 5, 5, 6, 6, 6])

    def test_module_rejects_bad_delta(self):
        # a package that is consistent, holding a delta the module finds corrupt
        for profile, code, err in (("SIM7000G", 15, "MK_E_FOTA_FAILED"),
                                   ("SIM7600SA", 19, "MK_E_FOTA_VERSION")):
            sim = self.sim(profile)
            jdir = self.s.path("j-" + profile)
            pkg = ft.pack(self.s, profile, ft.make_delta(self.s, profile, 9000, corrupt=True))
            rc, out, stderr = ft.run(["-d", sim.link, "--json", "fota", "apply", pkg,
                                      "--journal", jdir, "--reboot-timeout", "20"])
            res = ft.final_result(out)
            self.assertEqual((rc, res["error"]), (code, err), stderr)
            self.assertEqual(res["revision"], ft.PROFILES[profile][1])
            self.assertEqual(res["lwm2m_result"], 8)
            self.assertEqual(self.info(sim)["revision"], ft.PROFILES[profile][1])
            self.assertEqual(sim.applies(), 1)
            if profile == "SIM7000G":
                self.assertIn("AT+CFOTA? 7", res["message"])
                rc, out, _ = ft.run(["-d", sim.link, "at", "AT+CFOTA?"], check=0)
                self.assertIn("+CFOTA: 7", out)

    # ---- resume ----

    def _kill_mid_transfer(self, profile, size, extra_sim, extra_apply, module_path):
        sim = self.sim(profile, extra_sim)
        pkg = ft.pack(self.s, profile, ft.make_delta(self.s, profile, size))
        p = subprocess.Popen([ft.MODEMCTL, "-d", sim.link, "fota", "apply", pkg, "--journal",
                              self.jdir] + extra_apply, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)

        def partial():
            f = sim.file(module_path)
            return f is not None and len(f) >= size // 3
        ft.wait_for(partial, 30, "a third of the delta on the module")
        p.send_signal(signal.SIGKILL)
        p.wait()
        j = ft.journal(self.jdir)
        self.assertFalse(j["final"])
        self.assertEqual(j["state"], 1)  # downloading
        have = len(sim.file(module_path))
        self.assertLess(have, size)
        rc, out, err = ft.run(["-d", sim.link, "--json", "fota", "apply", "--resume",
                               "--journal", self.jdir, "--reboot-timeout", "20"] + extra_apply,
                              check=0)
        res = ft.final_result(out)
        self.assertTrue(res["resumed"])
        self.assertGreater(res["resumed_from"], 0)
        self.assertLess(res["bytes_sent"], res["delta_size"])
        self.assertEqual(res["bytes_sent"] + res["resumed_from"], res["delta_size"])
        self.assertEqual(res["sessions"], 2)
        self.assertEqual(sim.applies(), 1)
        self.assertEqual(self.info(sim)["revision"], ft.PROFILES[profile][2])

    def test_resume_after_sigkill_sim7000g(self):
        self._kill_mid_transfer("SIM7000G", 90000, ["--baud", "230400"], [], "/fota/update.zip")

    def test_resume_after_sigkill_sim7600sa(self):
        self._kill_mid_transfer("SIM7600SA", 90000, ["--baud", "230400"],
                                ["--chunk-size", "8192"], "F:/update.zip")

    def test_power_cut_mid_transfer_and_mid_update(self):
        for profile, extra in (("SIM7000G", []), ("SIM7600SA", ["--chunk-size", "8192"])):
            jdir = self.s.path("j-" + profile)
            sim = self.sim(profile, ["--fault", "power-cut@data30000,power-cut@update50"])
            pkg = ft.pack(self.s, profile, ft.make_delta(self.s, profile, 50000))
            rc, out, err = ft.run(["-d", sim.link, "--json", "fota", "apply", pkg, "--journal",
                                   jdir, "--reboot-timeout", "20"] + extra, check=0)
            res = ft.final_result(out)
            self.assertGreaterEqual(res["reconnects"], 2)
            self.assertGreater(res["resumed_from"], 20000)  # the second transfer resumed
            self.assertLess(res["bytes_sent"], 2 * res["delta_size"])
            self.assertEqual(res["revision"], ft.PROFILES[profile][2])
            self.assertEqual(sim.applies(), 1)
            self.assertGreaterEqual(sim.reboots(), 4)  # cut, apply, cut in update, done

    # ---- boot loop (seed 002) ----

    def test_boot_loop_power_cycle(self):
        sim = self.sim("SIM7000G", ["--fault", "bootloop-after-update=400"])
        pkg = ft.pack(self.s, "SIM7000G", ft.make_delta(self.s, "SIM7000G", 8000),
                      extra=["--post", "hard-power-cycle"])
        rc, out, err = ft.run(["-d", sim.link, "--json", "fota", "apply", pkg, "--journal",
                               self.jdir, "--reboot-timeout", "20", "--power-cycle-cmd",
                               sim.power_cycle_cmd()], check=0)
        events = ft.json_lines(out)
        cycles = [e for e in events if e.get("event") == "power-cycle"]
        self.assertEqual(len(cycles), 1)  # the loop's cycle also satisfies the manifest
        self.assertIn("--ctl", cycles[0]["command"])
        self.assertTrue(any("boot loop" in e.get("text", "") for e in events))
        res = ft.final_result(out)
        self.assertEqual((res["result"], res["power_cycles"]), ("success", 1))
        self.assertTrue(ft.journal(self.jdir)["power_cycled"])
        self.assertEqual(self.info(sim)["revision"], "1529B05SIM7000G")

    def test_boot_loop_without_power_cycle_command(self):
        sim = self.sim("SIM7000G", ["--fault", "bootloop-after-update=300"])
        pkg = ft.pack(self.s, "SIM7000G", ft.make_delta(self.s, "SIM7000G", 8000))
        rc, out, err = ft.run(["-d", sim.link, "--json", "fota", "apply", pkg, "--journal",
                               self.jdir, "--reboot-timeout", "20"])
        res = ft.final_result(out)
        self.assertEqual((rc, res["error"]), (18, "MK_E_BOOTLOOP"))
        self.assertIn("boot loop", res["message"])
        self.assertIn("configure a power-cycle command", res["message"])
        # a hard power cycle by hand brings it back on the new firmware
        n = len(sim.ptys)
        sim.control("power-cycle")
        ft.wait_for(lambda: len(sim.ptys) > n and os.path.exists(sim.link), 10, "power-on")
        self.assertEqual(self.info(sim)["revision"], "1529B05SIM7000G")

    def test_post_update_hard_power_cycle(self):
        sim = self.sim("SIM7600SA")
        pkg = ft.pack(self.s, "SIM7600SA", ft.make_delta(self.s, "SIM7600SA", 6000),
                      extra=["--post", "hard-power-cycle"])
        rc, out, err = ft.run(["-d", sim.link, "--json", "fota", "apply", pkg, "--journal",
                               self.jdir, "--reboot-timeout", "20", "--power-cycle-cmd",
                               sim.power_cycle_cmd()], check=0)
        res = ft.final_result(out)
        self.assertEqual(res["power_cycles"], 1)
        self.assertTrue(any("requires a hard power cycle" in e.get("text", "")
                            for e in ft.json_lines(out)))
        self.assertEqual(res["revision"], "LE11B14SIM7600M22")

    # ---- module-side download ----

    def test_module_fetches_url(self):
        sim = self.sim("SIM7000G")
        delta = ft.make_delta(self.s, "SIM7000G", 20000)
        http = ft.HttpServer(self.s.dir)
        try:
            pkg = ft.pack(self.s, "SIM7000G", delta,
                          extra=["--url", http.url(os.path.basename(delta))])
            rc, out, err = ft.run(["-v", "-d", sim.link, "--json", "fota", "apply", pkg,
                                   "--journal", self.jdir, "--reboot-timeout", "20"], check=0)
        finally:
            http.stop()
        res = ft.final_result(out)
        self.assertTrue(res["fetched"])
        self.assertEqual(res["bytes_sent"], 0)
        self.assertIn("AT+HTTPTOFS=\"http://127.0.0.1:", err)
        self.assertNotIn("CFSWFILE", err)
        self.assertEqual(res["revision"], "1529B05SIM7000G")

    # ---- fs commands ----

    def test_fs_commands(self):
        payload = self.s.path("payload.bin")
        blob = os.urandom(23000)
        with open(payload, "wb") as f:
            f.write(blob)
        for profile, remote, ls_arg in (("SIM7600SA", "C:/payload.bin", "C:/"),
                                        ("SIM7000G", "/customer/payload.bin",
                                         "/customer/payload.bin")):
            sim = self.sim(profile)
            rc, out, _ = ft.run(["-d", sim.link, "--json", "fs", "put", payload, remote], check=0)
            self.assertEqual(json.loads(out)["bytes"], 23000)
            self.assertEqual(sim.file(remote), blob)
            rc, out, _ = ft.run(["-d", sim.link, "--json", "fs", "ls", ls_arg], check=0)
            doc = json.loads(out)
            self.assertIn({"name": "payload.bin", "dir": False, "size": 23000}, doc["entries"])
            self.assertGreater(doc["free"], 0)
            rc, out, _ = ft.run(["-d", sim.link, "fs", "rm", remote], check=0)
            self.assertIsNone(sim.file(remote))
            rc, out, err = ft.run(["-d", sim.link, "fs", "rm", remote])
            self.assertEqual(rc, 5, err)
            self.assertIn("no such file", err)
            rc, out, err = ft.run(["-d", sim.link, "fs", "put", payload, "X/bad"])
            self.assertEqual(rc, 2)

    def test_help_texts(self):
        for cmd in (["fota", "pack"], ["fota", "apply"], ["fota", "status"], ["fs", "put"],
                    ["fs", "ls"], ["fs", "rm"]):
            rc, out, _ = ft.run(cmd + ["--help"], check=0)
            self.assertIn("modemctl [global options] " + " ".join(cmd), out)
        rc, man, _ = ft.run(["--man"], check=0)
        for needle in ("fota apply", "power\\-cycle\\-cmd", "fs put", "hard\\-power\\-cycle"):
            self.assertIn(needle, man)


if __name__ == "__main__":
    unittest.main(verbosity=2)
