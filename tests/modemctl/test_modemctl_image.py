#!/usr/bin/env python3
"""modemctl image info / image verify: text and --json, a corrupted sub-image named in the
error, exit codes, and agreement with libqmi's `qmi-firmware-update --verify` on the
versions and the image tree (skipped when qmi-firmware-update is not installed)."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import flashtest as ft  # noqa: E402


class Image(unittest.TestCase):
    def setUp(self):
        self.wd = ft.Workdir("image")
        self.dir = self.wd.path
        self.spk = ft.mkcwe(os.path.join(self.dir, "fw.spk"), firmware="00.08.24.02",
                            carrier="GENERIC", config="001.110_000")
        self.nvu = ft.mkcwe(os.path.join(self.dir, "sierra.nvu"), top="NVUP", boot=0, appl=0,
                            modm=0, nvup=5000, carrier="SIERRA", config="000.057_000")

    def tearDown(self):
        self.wd.__exit__()

    def test_info_text(self):
        rc, out, err = ft.modemctl("image", "info", self.spk)
        self.assertEqual(rc, 0, err)
        self.assertIn("SPKG image for product 9X07", out)
        self.assertIn("firmware 00.08.24.02, config 001.110_000, carrier GENERIC", out)
        for path, typ in (("0.0.0", "SBL1"), ("0.1.0", "APPS"), ("0.2.0", "AMSS"),
                          ("0.3", "NVUP")):
            self.assertRegex(out, r"\s%s\s+%s 9X07 offset" % (re.escape(path), typ))
        self.assertEqual(out.count("crc ok"), 8)

    def test_info_json_two_files(self):
        rc, out, err = ft.modemctl("--json", "image", "info", self.spk, self.nvu)
        self.assertEqual(rc, 0, err)
        a, b = ft.json_lines(out)
        self.assertTrue(a["ok"])
        self.assertEqual((a["type"], a["product"], a["firmware"], a["config"], a["carrier"]),
                         ("SPKG", "9X07", "00.08.24.02", "001.110_000", "GENERIC"))
        self.assertEqual([i["path"] for i in a["images"]],
                         ["0", "0.0", "0.0.0", "0.1", "0.1.0", "0.2", "0.2.0", "0.3"])
        self.assertTrue(all(i["crc"] == "ok" and i["psb_crc"] == "ok" for i in a["images"]))
        self.assertEqual(a["size"], os.path.getsize(self.spk))
        self.assertEqual((b["type"], b["carrier"], b["config"]), ("NVUP", "SIERRA", "000.057_000"))

    def test_verify_names_the_corrupt_sub_image(self):
        size = os.path.getsize(self.spk)
        bad = ft.mkcwe(os.path.join(self.dir, "bad.spk"), flip=size - 5000)  # inside AMSS
        rc, out, err = ft.modemctl("image", "verify", self.spk, bad)
        self.assertEqual(rc, 17, err)  # MK_EXIT_IMAGE
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith(self.spk + ": OK (SPKG 9X07, firmware 00.08.24.02"))
        self.assertRegex(lines[1], r"bad.spk: FAILED: AMSS image 0.2.0 at offset \d+: payload "
                                   r"CRC mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)")
        self.assertIn("AMSS image 0.2.0", err)
        rc, out, err = ft.modemctl("--json", "image", "verify", bad)
        self.assertEqual(rc, 17)
        doc = ft.json_lines(out)[0]
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["error"]["code"], "MK_E_IMAGE_CRC")
        self.assertEqual(doc["error"]["image"], "0.2.0")
        self.assertEqual(doc["error"]["type"], "AMSS")
        crcs = {i["path"]: i["crc"] for i in doc["images"]}
        self.assertEqual(crcs["0.2.0"], "BAD")
        self.assertEqual(crcs["0.2"], "BAD")   # its parents contain the byte too
        self.assertEqual(crcs["0.1.0"], "ok")
        # info still shows the tree (exit 0) with the bad CRC marked
        rc, out, err = ft.modemctl("image", "info", bad)
        self.assertEqual(rc, 0, err)
        self.assertIn("PROBLEM: AMSS image 0.2.0", out)

    def test_truncated_and_not_cwe(self):
        cut = os.path.join(self.dir, "cut.spk")
        with open(self.spk, "rb") as f, open(cut, "wb") as g:
            g.write(f.read()[:-1000])
        rc, out, err = ft.modemctl("image", "verify", cut)
        self.assertEqual(rc, 17)
        self.assertIn("truncated", out)
        junk = os.path.join(self.dir, "junk.bin")
        with open(junk, "wb") as f:
            f.write(b"\x00" * 1000)
        rc, out, err = ft.modemctl("image", "info", junk)
        self.assertEqual(rc, 17)
        rc, out, err = ft.modemctl("image", "verify", os.path.join(self.dir, "missing.spk"))
        self.assertEqual(rc, 3)
        rc, out, err = ft.modemctl("image", "verify")
        self.assertEqual(rc, 2)

    @unittest.skipUnless(shutil.which("qmi-firmware-update"), "qmi-firmware-update missing")
    def test_agrees_with_qmi_firmware_update(self):
        cases = {
            "fw.spk": self.spk,
            "sierra.nvu": self.nvu,
            # firmware only in BOOT, carrier/config only in NVUP (libqmi's lookup order)
            "split.spk": ft.mkcwe(os.path.join(self.dir, "split.spk"),
                                  **{"top-version": "INTERNAL_X", "firmware": "05.05.63.01",
                                     "carrier": "SPRINT", "config": "005.037_000"}),
        }
        for name, path in cases.items():
            p = subprocess.run(["qmi-firmware-update", "--verify", name], cwd=self.dir,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            text = p.stdout + p.stderr
            q = {k: (re.search(r"\[cwe\] detected %s:\s*(\S+)" % k, text) or [None, "n/a"])[1]
                 for k in ("firmware version", "config version", "carrier")}
            tree = re.findall(r"\[cwe ([0-9.]+)\] type:\s*(\w+)", text)
            rc, out, err = ft.modemctl("--json", "image", "info", path)
            self.assertEqual(rc, 0, err)
            ours = ft.json_lines(out)[0]
            self.assertEqual(ours["firmware"] or "n/a", q["firmware version"], name)
            self.assertEqual(ours["config"] or "n/a", q["config version"], name)
            self.assertEqual(ours["carrier"] or "n/a", q["carrier"], name)
            self.assertEqual([(i["path"], i["type"]) for i in ours["images"]], tree, name)
            print("# %s: both say %s / %s / %s, %d images" % (
                name, q["firmware version"], q["config version"], q["carrier"], len(tree)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
