#!/usr/bin/env python3
"""`modemctl mqtt sub` heals itself: the broker is stopped and started again, the
simulated module is power-cycled (modemsim --control), the network goes away
(+CMQTTNONET) and the keep-alive fails (+CMQTTPING). Each time modemctl reconnects with
backoff, subscribes every topic again (the broker keeps no session: clean session, no
persistence), and a message published afterwards arrives.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from mqtt_env import (Broker, Sim, Tail, TmpDir, mosquitto_pub, start_modemctl,  # noqa: E402
                      wait_for)


class Recovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TmpDir("mqtt-recovery")
        cls.broker = Broker(cls.tmp.sub("broker"))

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        cls.tmp.cleanup()

    def start_sub(self, sim, count):
        p = start_modemctl(["-d", sim.link, "mqtt", "sub", "-h", "127.0.0.1", "-p",
                            str(self.broker.port), "-t", "r/a", "-t", "r/b/#", "-q", "1", "-v",
                            "-C", str(count), "-W", "60"])
        tail = Tail(p.stderr)
        self.out = Tail(p.stdout)
        wait_for(lambda: "subscribed" in tail.text(), 15, "modemctl sub to subscribe")
        return p, tail

    def wait_line(self, line):
        wait_for(lambda: line + "\n" in self.out.text(), 10, "modemctl to print " + line)

    def subscribes(self):
        return self.broker.count_log("Received SUBSCRIBE")

    def finish(self, p, tail, want):
        p.wait(timeout=30)
        self.out.t.join(5)
        self.assertEqual(p.returncode, 0, tail.text())
        self.assertEqual(self.out.text().splitlines(), want)

    def test_broker_restart(self):
        sim = Sim(self.tmp.sub("sim-broker"), "SIM7600E-H")
        try:
            p, tail = self.start_sub(sim, 2)
            mosquitto_pub(self.broker.port, "r/a", "-m", "before", "-q", "1")
            self.wait_line("r/a before")
            self.broker.restart()
            wait_for(lambda: "reconnected" in tail.text(), 30, "modemctl to reconnect")
            self.assertIn("connection lost: +CMQTTCONNLOST: 0", tail.text())
            self.assertIn("2 subscription(s) renewed", tail.text())
            mosquitto_pub(self.broker.port, "r/b/x", "-m", "after", "-q", "1")
            self.finish(p, tail, ["r/a before", "r/b/x after"])
        finally:
            sim.stop()

    def test_module_power_cycle(self):
        sim = Sim(self.tmp.sub("sim-power"), "SIM7600E-H")
        try:
            p, tail = self.start_sub(sim, 2)
            mosquitto_pub(self.broker.port, "r/a", "-m", "one", "-q", "1")
            self.wait_line("r/a one")
            before = self.subscribes()
            sim.ctl("power-cycle 300")
            try:
                wait_for(lambda: "reconnected" in tail.text(), 40, "modemctl to come back")
            except AssertionError:
                raise AssertionError(tail.text() + sim.log_text())
            self.assertIn("connection lost", tail.text())
            self.assertGreater(self.subscribes(), before)
            mosquitto_pub(self.broker.port, "r/b/y", "-m", "two", "-q", "1")
            self.finish(p, tail, ["r/a one", "r/b/y two"])
        finally:
            sim.stop()

    def test_nonet_and_ping(self):
        for fault, urc in (("nonet@conn+300ms", "+CMQTTNONET"), ("ping@conn+300ms",
                                                                 "+CMQTTPING: 0,1")):
            sim = Sim(self.tmp.sub("sim-" + fault[:4]), "SIM7600E-H", "--fault", fault)
            try:
                p, tail = self.start_sub(sim, 1)
                wait_for(lambda: "reconnected" in tail.text(), 30, "recovery from " + urc)
                self.assertIn("connection lost: " + urc, tail.text())
                mosquitto_pub(self.broker.port, "r/a", "-m", "back", "-q", "1")
                self.finish(p, tail, ["r/a back"])
            finally:
                sim.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
