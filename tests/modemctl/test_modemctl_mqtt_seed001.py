#!/usr/bin/env python3
"""Seed 001 cannot happen: with completion URCs delayed by seconds (modemsim
--urc-delay-ms and the urc-delay fault), modemctl sends no SUBTOPIC and no TOPIC before
"+CMQTTCONNECT: 0,0" arrived. Checked on both sides: the order in modemctl's -v trace,
and the module's own log (modemsim -v: when each command line arrived). A delayed
failure ("+CMQTTCONNECT: 0,32", TLS with the wrong CA) is reported as a TLS handshake
failure with its number, never as "client is busy".
"""
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from mqtt_env import (Broker, Pki, Sim, SubClient, Tail, TmpDir, modemctl,  # noqa: E402
                      mosquitto_pub, start_modemctl, wait_for)

URC_DELAY_MS = 1000
CONNECT_EXTRA_MS = 2000  # CONNECT's URC comes 3 s after the CONNACK


def module_times(log, name):
    """Times (s) at which the simulated module received command `name` (modemsim -v)."""
    return [float(m.group(1)) for m in
            re.finditer(r"modemsim\[([0-9.]+)\]: command %s type" % re.escape(name), log)]


def trace_index(trace, prefix):
    lines = trace.splitlines()
    for i, line in enumerate(lines):
        if line.split("] ", 1)[-1].startswith(prefix):
            return i
    return -1


class Seed001(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TmpDir("mqtt-seed001")
        cls.broker = Broker(cls.tmp.sub("broker"))

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        cls.tmp.cleanup()

    def slow_sim(self, name, *extra):
        return Sim(self.tmp.sub(name), "SIM7600E-H", "--urc-delay-ms", str(URC_DELAY_MS),
                   "--fault", "urc-delay=CONNECT/%d" % CONNECT_EXTRA_MS, *extra, verbose=True)

    def check_order(self, trace, sim, first_after):
        conn_urc = trace_index(trace, "<< +CMQTTCONNECT: 0,0")
        nxt = trace_index(trace, ">> " + first_after)
        self.assertGreater(conn_urc, 0, trace)
        self.assertGreater(nxt, conn_urc, "%s sent before +CMQTTCONNECT: 0,0" % first_after)
        # the module saw the next command only after the delayed result was out
        log = sim.log_text()
        connect = module_times(log, "+CMQTTCONNECT")
        after = module_times(log, first_after[2:].split("=")[0])
        self.assertTrue(connect and after, log[-2000:])
        waited = after[0] - connect[0]
        self.assertGreaterEqual(waited, (URC_DELAY_MS + CONNECT_EXTRA_MS) / 1000.0 - 0.05)
        self.assertNotIn("busy", trace.split(">> AT+CMQTTCONNECT", 1)[1])

    def test_sub_waits_for_the_connect_result(self):
        sim = self.slow_sim("sim-sub")
        try:
            p = start_modemctl(["-v", "-d", sim.link, "mqtt", "sub", "-h", "127.0.0.1", "-p",
                                str(self.broker.port), "-t", "cmd/#", "-C", "1", "-W", "40"])
            tail = Tail(p.stderr)
            wait_for(lambda: "subscribed" in tail.text(), 30, "subscribe")
            mosquitto_pub(self.broker.port, "cmd/speed", "-m", "1200")
            out, _ = p.communicate(timeout=30)
            self.assertEqual((p.returncode, out), (0, b"1200\n"), tail.text())
            self.check_order(tail.text(), sim, "AT+CMQTTSUBTOPIC")
        finally:
            sim.stop()

    def test_pub_waits_for_the_connect_result(self):
        sim = self.slow_sim("sim-pub")
        try:
            ref = SubClient(self.broker.port, "up/data", 1)
            wait_for(lambda: "Received SUBSCRIBE" in self.broker.log_text(), 10, "ref sub")
            t0 = time.monotonic()
            rc, _, err = modemctl(["-v", "-d", sim.link, "mqtt", "pub", "-h", "127.0.0.1", "-p",
                                   str(self.broker.port), "-t", "up/data", "-m", "42", "-q", "1"],
                                  timeout=60)
            self.assertEqual(rc, 0, err)
            self.assertGreaterEqual(time.monotonic() - t0, 3.0)
            self.assertEqual(ref.result(), (0, b"42"))
            self.check_order(err, sim, "AT+CMQTTTOPIC")
        finally:
            sim.stop()

    def test_delayed_tls_failure_is_reported_as_such(self):
        pki = Pki(self.tmp.sub("pki"))
        tls = Broker(self.tmp.sub("broker-tls"), pki=pki)
        sim = Sim(self.tmp.sub("sim-tls"), "SIM7600E-H", "--urc-delay-ms", "2500")
        try:
            t0 = time.monotonic()
            rc, _, err = modemctl(["-d", sim.link, "mqtt", "pub", "-h", "127.0.0.1", "-p",
                                   str(tls.port), "-t", "x", "-m", "x", "--cafile",
                                   pki.path("other-ca.pem")], timeout=60)
            self.assertGreaterEqual(time.monotonic() - t0, 2.5)
            self.assertEqual(rc, 8, err)
            self.assertIn("CONNECT: module error 32: TLS handshake failed", err)
            self.assertNotIn("busy", err)
        finally:
            sim.stop()
            tls.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
