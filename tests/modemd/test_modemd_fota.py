#!/usr/bin/env python3
"""modemd end to end: firmware update jobs over MQTT (seed 000 module, seed 002 lesson).

A job message sent with mosquitto_pub makes modemd update the simulated SIM7600SA from
LE11B01SIM7600M21-A to LE11B14SIM7600M22 (package made by `modemctl fota pack` from a
`modemsim --make-delta` delta). The fleet side sees the progress (LwM2M state 1, then 3
just before the module goes away) and, after the module rebooted into the new firmware,
the final result (state 0, result 1) with the new revision; the status then reports the
new firmware. Sampling goes on during the update (no seq lost). Sent again, the job is
not run again: the result is re-sent.

Second module: modemd is killed with SIGKILL while the module updates and the broker is
down when the restarted modemd finishes the job; the result is kept (job.json, the FOTA
journal) and reaches the broker once it is back; the module applied the delta once.
A job whose expectations do not match the package is refused (result 6) untouched.
"""
import hashlib
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import mdtest  # noqa: E402

PFX = "devices/logger-1/"
SRC, DST = "LE11B01SIM7600M21-A", "LE11B14SIM7600M22"
SIM_ARGS = ["--sim-delay-ms", "5", "--reenum-delay-ms", "50", "--fota-time-ms", "500"]


def sim_applies(sim):
    """AT+CDELTA commands the simulated module acted on (its persisted counters)."""
    try:
        with open(os.path.join(sim.state, "sys", "fota")) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k == "applies":
                    return int(v)
    except FileNotFoundError:
        pass
    return 0


class Fota(unittest.TestCase):
    def setUp(self):
        self.s = mdtest.Scratch("fota")
        self.pkgdir = self.s.path("packages")
        os.makedirs(self.pkgdir)

    def tearDown(self):
        self.s.cleanup(keep=os.environ.get("MK_KEEP") == "1")

    def make_package(self, size=96 * 1024, target=DST):
        delta = os.path.join(self.pkgdir, "delta-%d.bin" % size)
        subprocess.run([mdtest.MODEMSIM, "--make-delta", "--model", "SIM7600SA", "--from", SRC,
                        "--to", DST, "--size", str(size), "--seed", "3", "-o", delta],
                       check=True, timeout=30)
        pkg = delta + ".fota"
        subprocess.run([mdtest.MODEMCTL, "fota", "pack", "--model", "SIM7600SA", "--from", SRC,
                        "--to", target, "--method", "cdelta", delta, "-o", pkg],
                       check=True, timeout=30, capture_output=True)
        with open(pkg, "rb") as f:
            return pkg, hashlib.sha256(f.read()).hexdigest()

    def setup_world(self, tag):
        s = self.s
        self.broker = mdtest.Broker(s)
        self.broker.start()
        self.sub = mdtest.Subscriber(s, self.broker, PFX + "#", "fleet-" + tag)
        self.sim = mdtest.Sim(s, "SIM7600SA", SIM_ARGS)
        cfg = mdtest.base_config(
            self.broker.url, self.sim.link, s.path("state-" + tag),
            device="power_cycle_command = %s" % self.sim.power_cycle_command(), extra="""
[sample]
interval = 250ms

[fota]
package_dir = %s
reboot_timeout = 60s
fetch_command = sh -c 'cp "${0#copy://}" "$1"' {url} {out}
""" % self.pkgdir)
        self.md = mdtest.Modemd(s, cfg, name="modemd-" + tag)

    def job(self, payload):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-q",
                        "1", "-t", PFX + "jobs", "-m", json.dumps(payload)], check=True,
                       timeout=10)

    def results(self, job=None):
        return [r for r in self.sub.payloads(PFX + "jobs/result")
                if job is None or r.get("job") == job]

    def final(self, job):
        return [r for r in self.results(job) if r["status"] != "IN_PROGRESS"]

    def status(self):
        st = self.sub.payloads(PFX + "status")
        return st[-1] if st else {}

    def test_update_job(self):
        self.setup_world("a")
        pkg, pkg_id = self.make_package()
        self.md.start()
        mdtest.wait_until(lambda: self.status().get("fw") == SRC, 30, "status with " + SRC)

        # a job whose expectations do not match: refused before anything happens
        self.job({"job": "J-0", "package": pkg, "expect": {"target": "LE11B99SIM7600M22"}})
        mdtest.wait_until(lambda: self.final("J-0"), 20, "J-0 refused")
        r = self.final("J-0")[0]
        self.assertEqual((r["status"], r["state"], r["result"]), ("REJECTED", 0, 6))
        self.assertIn("expects target revision LE11B99SIM7600M22; the package has " + DST,
                      r["detail"])
        self.assertEqual(sim_applies(self.sim), 0)

        self.job({"job": "J-1", "package": pkg,
                  "expect": {"model": "SIM7600SA", "source": SRC, "target": DST,
                             "package": pkg_id}})
        mdtest.wait_until(lambda: self.final("J-1"), 90, "the result of J-1")
        res = self.results("J-1")
        final = res[-1]
        self.assertEqual(final["status"], "SUCCEEDED", final)
        self.assertEqual((final["state"], final["result"], final["result_name"]),
                         (0, 1, "success"))
        self.assertEqual((final["from"], final["to"], final["fw"]), (SRC, DST, DST))
        # progress before the module went away: downloading, the transfer, updating (3)
        progress = [r for r in res if r["status"] == "IN_PROGRESS"]
        self.assertEqual(progress[0]["state"], 1)
        self.assertIn(100, [r.get("progress") for r in progress])
        self.assertEqual(progress[-1]["state"], 3)
        self.assertEqual(progress[-1]["phase"], "apply")
        # the result came after the reboot: modemd waited for the module to come back
        log = self.md.log_text()
        self.assertLess(log.index("the module is back"), log.index("the result of update job "
                                                                    "J-1 reached the broker"))
        self.assertEqual(sim_applies(self.sim), 1)
        mdtest.wait_until(lambda: self.status().get("fw") == DST, 30, "status with " + DST)
        self.assertEqual(self.status()["job"], {"id": "J-1", "status": "SUCCEEDED", "result": 1})

        # sent again (a redelivery, a confused fleet service): not run again
        n = len(self.final("J-1"))
        self.job({"job": "J-1", "package": pkg})
        mdtest.wait_until(lambda: len(self.final("J-1")) > n, 20, "the result re-sent")
        self.assertEqual(self.final("J-1")[-1]["status"], "SUCCEEDED")
        self.assertEqual(sim_applies(self.sim), 1)

        # a job by URL (fetched with fota.fetch_command) for a module already on the
        # target: nothing to do, success without a second apply
        self.job({"job": "J-3", "url": "copy://" + pkg})
        mdtest.wait_until(lambda: self.final("J-3"), 30, "the result of J-3")
        r = self.final("J-3")[-1]
        self.assertEqual((r["status"], r["result"]), ("SUCCEEDED", 1), r)
        self.assertIn("already runs the target revision", r["detail"])
        self.assertTrue(os.path.exists(os.path.join(self.pkgdir, "job-J-3.pkg")))
        self.assertEqual(sim_applies(self.sim), 1)
        # an unknown scheme without a way to fetch it: refused (7 invalid URI)
        self.job({"job": "J-4", "url": "ftp://example.invalid/p.fota"})
        mdtest.wait_until(lambda: self.final("J-4"), 30, "the result of J-4")
        r = self.final("J-4")[-1]
        self.assertEqual((r["status"], r["result"]), ("REJECTED", 7), r)
        self.assertIn("fetching ftp://example.invalid/p.fota failed", r["detail"])

        # sampling went on while the module was updating: no seq missing
        tel = self.sub.payloads(PFX + "telemetry")
        top = max(p["seq"] for p in tel)
        missing, dups, bad = mdtest.seq_report(tel, top)
        self.assertEqual(missing, [])
        print("# fota: J-1 %s -> %s, %d progress message(s) then the result after the reboot; "
              "%d samples meanwhile, none lost" % (SRC, DST, len(progress), top))

    def test_kill_during_update_and_broker_down(self):
        self.setup_world("b")
        pkg, _ = self.make_package(size=64 * 1024)
        self.md.start()
        mdtest.wait_until(lambda: self.status().get("fw") == SRC, 30, "status with " + SRC)
        self.job({"job": "J-2", "url": "file://" + pkg})
        # the module is told to update (state 3): modemd dies right then
        mdtest.wait_until(lambda: any(r["state"] == 3 for r in self.results("J-2")), 60,
                          "J-2 updating")
        self.md.kill9()
        self.broker.stop()
        at = len(self.md.log_text())
        self.md.start()
        # the restarted modemd resumes the job (never starts it afresh) and finishes it
        # while the broker is away; the result waits on disk
        self.md.wait_log("resuming update job J-2", 30, at)
        self.md.wait_log("job J-2: the module was updated", 90, at)
        with open(self.s.path("state-b", "job.json")) as f:
            rec = json.load(f)
        self.assertEqual((rec["phase"], rec["status"], rec["result"]), ("done", "SUCCEEDED", 1))
        self.assertEqual(self.final("J-2"), [])
        self.broker.start()
        mdtest.wait_until(lambda: self.final("J-2"), 60, "the result of J-2 after the outage")
        final = self.final("J-2")[-1]
        self.assertEqual((final["status"], final["result"], final["fw"]), ("SUCCEEDED", 1, DST))
        self.assertEqual(final["attempts"], 2)
        self.assertEqual(sim_applies(self.sim), 1)
        def phase():
            with open(self.s.path("state-b", "job.json")) as f:
                return json.load(f)["phase"]
        mdtest.wait_until(lambda: phase() == "reported", 10, "job.json reported")
        jdir = self.s.path("state-b", "fota")
        journals = [f for f in os.listdir(jdir) if f.endswith(".json")]
        with open(os.path.join(jdir, journals[0])) as f:
            j = json.load(f)
        self.assertTrue(j["final"])
        self.assertTrue(j["reported"])
        print("# fota: J-2 survived SIGKILL mid-update and a broker outage; applied once, "
              "result delivered after the broker came back")


if __name__ == "__main__":
    unittest.main(verbosity=2)
