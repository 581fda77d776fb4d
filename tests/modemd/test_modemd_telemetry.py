#!/usr/bin/env python3
"""modemd end to end: 1000 samples, nothing lost.

modemd samples every 10 ms (sample.count = 1000) through modemsim (SIM7600E-H) to
mosquitto while, in turn:
  1. the broker is stopped for 3 s and started again on the same port,
  2. the module is power-cycled (modemsim --ctl power-cycle: the pty hangs up, the
     module reboots, modemd reopens the port by path, the MQTT layer reconnects),
  3. modemd itself is killed with SIGKILL and started again.
A subscriber with a persistent session (QoS 1, clean session off; the broker keeps
sessions across its restart) must end with every seq 1..1000; duplicates (QoS 1
redelivery, a sample in flight at the kill) are counted and printed, never a loss.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import mdtest  # noqa: E402

N = 1000
TOPIC = "devices/logger-1/telemetry"


class Telemetry(unittest.TestCase):
    def setUp(self):
        self.s = mdtest.Scratch("telemetry")

    def tearDown(self):
        self.s.cleanup(keep=os.environ.get("MK_KEEP") == "1")

    def test_thousand_samples_survive_everything(self):
        t0 = time.monotonic()
        s = self.s
        broker = mdtest.Broker(s)
        broker.start()
        sub = mdtest.Subscriber(s, broker, TOPIC, "fleet-sub")
        sim = mdtest.Sim(s, "SIM7600E-H")
        cfg = mdtest.base_config(
            broker.url, sim.link, s.path("state"),
            device="power_cycle_command = %s" % sim.power_cycle_command(), extra="""
[sample]
interval = 10ms
count = %d
source = synthetic

[queue]
max_bytes = 4M
""" % N)
        md = mdtest.Modemd(s, cfg)
        md.start()

        def received():
            return len(sub.payloads(TOPIC))

        # 1. broker outage
        mdtest.wait_until(lambda: received() >= 100, 30, "100 samples at the subscriber")
        broker.stop()
        t_down = time.monotonic()
        md.wait_log("MQTT connection lost", 15)
        time.sleep(3.0)  # the length of the outage (a fault parameter, not a sync)
        broker.start()
        outage = time.monotonic() - t_down
        before = received()
        mdtest.wait_until(lambda: received() >= before + 100, 30,
                          "samples flowing again after the broker came back")

        # 2. module power cycle
        at = len(md.log_text())
        sim.control("power-cycle")
        md.wait_log("the module's port went away", 15, at)
        md.wait_log("MQTT reconnected", 30, at)
        before = received()
        mdtest.wait_until(lambda: received() >= before + 100, 30,
                          "samples flowing again after the module rebooted")

        # 3. kill -9 of modemd, restart
        md.kill9()
        killed_at = received()
        md.start("--exit-when-done")
        rc = md.proc.wait(60)
        self.assertEqual(rc, 0, md.log_text()[-3000:])

        # every sample at the broker, exactly once by seq (duplicates allowed, counted)
        mdtest.wait_until(lambda: not mdtest.seq_report(sub.payloads(TOPIC), N)[0], 15,
                          "every seq 1..%d at the subscriber" % N)
        payloads = sub.payloads(TOPIC)
        missing, dups, bad = mdtest.seq_report(payloads, N)
        self.assertEqual(missing, [])
        self.assertEqual(bad, [])
        for p in payloads[:5]:
            self.assertEqual(p["data"]["sensor"], "synthetic")
            self.assertGreater(p["ts"], 1600000000000)
        log = md.log_text()
        self.assertIn("MQTT connection lost", log)
        self.assertIn("the module is back", log)
        self.assertEqual(log.count("---- start"), 2)
        # the restarted modemd went on from the queue: its first line says what waited
        self.assertRegex(log.split("---- start 1 ----")[1], r"last seq \d+")
        total = time.monotonic() - t0
        print("# telemetry: %d samples, %d messages at the subscriber, %d duplicate(s) "
              "detected by seq; broker down %.1f s, module power-cycled once, modemd "
              "SIGKILLed at %d received; total %.1f s"
              % (N, len(payloads), dups, outage, killed_at, total))
        self.assertLess(total, 90)


if __name__ == "__main__":
    unittest.main(verbosity=2)
