#!/usr/bin/env python3
"""modemd end to end: parameters down, acknowledgements up, status.

Through modemsim and mosquitto: a parameter message from mosquitto_pub is validated,
applied through the hook (apply_command sees the values; apply_file is replaced),
persisted (params.json), acknowledged on the reply topic, and changes the agent's own
behaviour (sample_interval_ms: samples come 20 times faster). Invalid messages (bad
JSON, unknown key, wrong type, out of range, one bad key among good ones, the hook
refusing) are rejected with a reason and change nothing: not the values, not the
files, not the schedule. After a restart the stored values are back and applied again.
The retained status says online (with the values), and offline after SIGTERM.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import mdtest  # noqa: E402

PFX = "devices/logger-1/"

HOOK = """#!/bin/sh
# test apply hook: records what it got; refuses motor_speed 1234 like a busy controller
{ echo "call CHANGED=$MODEMD_CHANGED SPEED=$PARAM_MOTOR_SPEED MODE=$PARAM_MODE"; cat; echo; } >> "%s"
if [ "$PARAM_MOTOR_SPEED" = 1234 ]; then echo "motor controller refuses 1234" >&2; exit 3; fi
exit 0
"""


class Params(unittest.TestCase):
    def setUp(self):
        self.s = mdtest.Scratch("params")

    def tearDown(self):
        self.s.cleanup(keep=os.environ.get("MK_KEEP") == "1")

    def pub(self, payload):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port),
                        "-q", "1", "-t", PFX + "params", "-m", payload], check=True, timeout=10)

    def replies(self):
        return self.sub.payloads(PFX + "params/reply")

    def ask(self, payload):
        """Publishes a parameter message and returns the reply it produced."""
        n = len(self.replies())
        self.pub(payload)
        mdtest.wait_until(lambda: len(self.replies()) > n, 15, "a reply to %s" % payload)
        return self.replies()[n]

    def read(self, path):
        try:
            with open(path) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def test_parameters(self):
        s = self.s
        self.broker = mdtest.Broker(s)
        self.broker.start()
        self.sub = mdtest.Subscriber(s, self.broker, PFX + "#", "fleet-params")
        sim = mdtest.Sim(s, "SIM7600SA")  # seed 000: the old LE11B01 firmware
        calls = s.path("hook-calls.txt")
        hook = s.path("apply-hook.sh")
        with open(hook, "w") as f:
            f.write(HOOK % calls)
        os.chmod(hook, 0o755)
        applied = s.path("applied.json")
        state = s.path("state")
        cfg = mdtest.base_config(self.broker.url, sim.link, state, extra="""
[sample]
interval = 2s

[params]
apply_command = %s
apply_file = %s

[param motor_speed]
type = int
min = 0
max = 3000
default = 1200

[param gain]
type = number
min = -1.5
max = 2.5

[param mode]
type = string
max_length = 8
default = "auto"

[param sample_interval_ms]
type = int
min = 50
max = 3600000
""" % (hook, applied))
        md = mdtest.Modemd(s, cfg)
        md.start()

        def status():
            st = self.sub.payloads(PFX + "status")
            return st[-1] if st else None

        mdtest.wait_until(lambda: status() and status()["state"] == "online", 30, "status online")
        st = status()
        self.assertEqual(st["fw"], "LE11B01SIM7600M21-A")
        self.assertEqual(st["params"], {"motor_speed": 1200, "mode": "auto"})
        self.assertEqual(st["interval_ms"], 2000)
        # apply_on_start: the hook saw the defaults once
        mdtest.wait_until(lambda: (self.read(calls) or "").count("call") == 1, 10, "hook at start")

        # ---- accepted: hook, file, persisted, reply, behaviour ----
        r = self.ask('{"id":"r1","motor_speed":2500,"mode":"eco","sample_interval_ms":100}')
        self.assertEqual(r["id"], "r1")
        self.assertEqual(r["status"], "accepted")
        self.assertEqual(r["changed"], ["motor_speed", "mode", "sample_interval_ms"])
        self.assertEqual(r["params"], {"motor_speed": 2500, "mode": "eco",
                                       "sample_interval_ms": 100})
        last_call = self.read(calls).strip().split("call ")[-1]
        self.assertIn("CHANGED=motor_speed,mode,sample_interval_ms SPEED=2500 MODE=eco",
                      last_call)
        values = {"motor_speed": 2500, "mode": "eco", "sample_interval_ms": 100}
        self.assertEqual(json.loads(last_call.split("\n", 1)[1]), values)
        self.assertEqual(json.loads(self.read(applied)), values)
        self.assertEqual(json.loads(self.read(os.path.join(state, "params.json"))), values)
        # the schedule follows: ten samples 100 ms apart
        tel = PFX + "telemetry"
        n0 = len(self.sub.payloads(tel))
        mdtest.wait_until(lambda: len(self.sub.payloads(tel)) >= n0 + 10, 10,
                          "samples at the new interval")
        ts = [p["ts"] for p in self.sub.payloads(tel)[n0 + 1:n0 + 10]]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        self.assertTrue(all(60 <= g <= 400 for g in gaps), gaps)
        mdtest.wait_until(lambda: status()["interval_ms"] == 100, 10, "status with the interval")
        self.assertEqual(status()["params"]["motor_speed"], 2500)

        # ---- rejected: each with its reason, nothing changes ----
        files_before = (self.read(applied), self.read(os.path.join(state, "params.json")))
        calls_before = self.read(calls).count("call")
        bad = [
            ('{"motor_speed": 10', "the message is not valid JSON"),
            ('{"id":"r2","speed":10}', 'unknown parameter "speed"'),
            ('{"id":"r3","motor_speed":"fast"}', "motor_speed: expected an integer, got a string"),
            ('{"id":"r4","motor_speed":5000}', "motor_speed: 5000 is above the maximum 3000"),
            ('{"id":"r5","gain":-2}', "gain: -2 is below the minimum -1.5"),
            ('{"id":"r6","motor_speed":10,"sample_interval_ms":5}',
             "sample_interval_ms: 5 is below the minimum 50"),
            ('{"id":"r7","mode":"turbo-boost"}', "mode: the string is longer than 8 bytes"),
        ]
        for payload, reason in bad:
            r = self.ask(payload)
            self.assertEqual(r["status"], "rejected", payload)
            self.assertEqual(r["reason"], reason, payload)
            if '"id"' in payload:
                self.assertEqual(r["id"], json.loads(payload)["id"])
        self.assertEqual(self.read(calls).count("call"), calls_before)  # hook never ran
        # the hook refuses: rejected with its words, the file put back
        r = self.ask('{"id":"r8","motor_speed":1234}')
        self.assertEqual(r, {"id": "r8", "status": "rejected", "ts": r["ts"],
                             "reason": "the apply hook refused the values: motor controller "
                                       "refuses 1234"})
        self.assertEqual(self.read(calls).count("call"), calls_before + 1)
        self.assertEqual((self.read(applied), self.read(os.path.join(state, "params.json"))),
                         files_before)
        self.assertEqual(status()["params"]["motor_speed"], 2500)
        self.assertIn("parameter message rejected", md.log_text())

        # ---- restart: values back, applied again, still 100 ms ----
        self.assertEqual(md.stop(), 0)
        mdtest.wait_until(lambda: status()["state"] == "offline", 10, "retained offline status")
        calls_before = self.read(calls).count("call")
        md.start()
        mdtest.wait_until(lambda: status()["state"] == "online", 30, "online again")
        self.assertEqual(status()["params"], values)
        self.assertEqual(status()["interval_ms"], 100)
        self.assertEqual(self.read(calls).count("call"), calls_before + 1)
        r = self.ask('{"gain":2.5}')
        self.assertEqual(r["status"], "accepted")
        self.assertNotIn("id", r)
        self.assertEqual(json.loads(self.read(applied))["gain"], 2.5)
        print("# params: 1 accepted change applied and persisted, %d rejections with "
              "reasons, values kept across a restart" % (len(bad) + 1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
