#!/usr/bin/env python3
"""modemctl mqtt pub/sub, cert and net against modemsim + real mosquitto brokers.

What reaches the broker is checked with mosquitto_sub, what modemctl receives is sent
with mosquitto_pub, byte for byte: QoS 0/1/2, retain, several topics on one
subscription, a 10240-byte binary payload with CR/LF and "\\r\\nOK\\r\\n" inside in both
directions, --json, -L, stdin. Credentials: accepted on the SIM7600E-H profile, refused
before anything is sent on the SIM7600SA (LE11B01SIM7600M21-A) profile, and caught at
run time on SIM7500A (a revision the quirks table does not know); `info` says the same.
TLS with authmode 2 on the SIM7500A profile without "sslversion"; a wrong CA is a TLS
handshake failure (32); bad PEM files are named before anything is uploaded.
"""
import base64
import json
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from mqtt_env import (Broker, Pki, Sim, SubClient, Tail, TmpDir, modemctl,  # noqa: E402
                      mosquitto_pub, start_modemctl, wait_for)


def binary_payload():
    rnd = random.Random(1234)
    b = bytearray(rnd.getrandbits(8) for _ in range(10240))
    evil = b"\r\nOK\r\n\r\n+CMQTTRXEND: 0\r\nERROR\r\n\x00\r\n"
    for off in (0, 1490, 5000, 10240 - len(evil)):
        b[off:off + len(evil)] = evil
    return bytes(b)


class Env:
    tmp = None
    broker = None
    sim = None


def setUpModule():
    Env.tmp = TmpDir("mqtt-cli")
    Env.pki = Pki(Env.tmp.sub("pki"))
    Env.broker = Broker(Env.tmp.sub("broker"))
    Env.sim = Sim(Env.tmp.sub("sim-eh"), "SIM7600E-H")


def tearDownModule():
    for x in (Env.sim, Env.broker):
        if x:
            x.stop()
    Env.tmp.cleanup()


def wait_subscribed(broker, before):
    wait_for(lambda: broker.count_log("Received SUBSCRIBE") > before, 10, "a SUBSCRIBE")


def reference_sub(broker, topic, count=1, extra=()):
    before = broker.count_log("Received SUBSCRIBE")
    s = SubClient(broker.port, topic, count, extra)
    wait_subscribed(broker, before)
    return s


class PubSub(unittest.TestCase):
    def dev(self):
        return ["-d", Env.sim.link]

    def pub(self, *args, **kw):
        return modemctl([*self.dev(), "mqtt", "pub", "-h", "127.0.0.1", "-p",
                         str(Env.broker.port), *args], **kw)

    def test_pub_qos_0_1_2_and_retain(self):
        for qos in (0, 1, 2):
            ref = reference_sub(Env.broker, "pq/%d" % qos)
            rc, _, err = self.pub("-t", "pq/%d" % qos, "-m", "hello %d" % qos, "-q", str(qos))
            self.assertEqual(rc, 0, err)
            self.assertEqual(ref.result(), (0, b"hello %d" % qos))
        rc, _, err = self.pub("-t", "pr/kept", "-m", "retained one", "-r", "-q", "1")
        self.assertEqual(rc, 0, err)
        # only a retained message reaches a subscriber that came afterwards
        ref = SubClient(Env.broker.port, "pr/kept", 1, timeout=5)
        self.assertEqual(ref.result(), (0, b"retained one"))

    def test_sub_several_topics_qos_0_1_2(self):
        p = start_modemctl([*self.dev(), "mqtt", "sub", "-h", "127.0.0.1", "-p",
                            str(Env.broker.port), "-t", "sa/#", "-t", "sb", "-t", "sc/+/x",
                            "-q", "2", "-v", "-C", "3", "-W", "20"])
        tail = Tail(p.stderr)
        wait_for(lambda: "subscribed" in tail.text(), 10, "modemctl sub to subscribe")
        mosquitto_pub(Env.broker.port, "sa/1", "-m", "zero", "-q", "0")
        mosquitto_pub(Env.broker.port, "sb", "-m", "one", "-q", "1")
        mosquitto_pub(Env.broker.port, "sc/y/x", "-m", "two", "-q", "2")
        out, _ = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, tail.text())
        self.assertEqual(out.decode().splitlines(), ["sa/1 zero", "sb one", "sc/y/x two"])
        # one SUBSCRIBE with three filters (the SUBTOPIC cache), not three
        self.assertIn("sa/# (QoS 2)", Env.broker.log_text())

    def test_binary_10240_bytes_both_directions(self):
        data = binary_payload()
        path = Env.tmp.sub("blob.bin")
        with open(path, "wb") as f:
            f.write(data)
        ref = reference_sub(Env.broker, "bin/up")
        rc, _, err = self.pub("-t", "bin/up", "-f", path, "-q", "1")
        self.assertEqual(rc, 0, err)
        code, got = ref.result()
        self.assertEqual(code, 0)
        self.assertEqual(got, data)

        for json_mode in (False, True):
            args = [*self.dev(), "mqtt", "sub", "-h", "127.0.0.1", "-p", str(Env.broker.port),
                    "-t", "bin/down", "-C", "1", "-N", "-W", "20"]
            p = start_modemctl((["--json"] if json_mode else []) + args)
            tail = Tail(p.stderr) if not json_mode else None
            if json_mode:
                first = p.stdout.readline()  # {"event":"subscribed",...}
                self.assertEqual(json.loads(first)["event"], "subscribed")
            else:
                wait_for(lambda: "subscribed" in tail.text(), 10, "subscribe")
            mosquitto_pub(Env.broker.port, "bin/down", "-f", path, "-q", "2")
            out, _ = p.communicate(timeout=20)
            self.assertEqual(p.returncode, 0)
            if json_mode:
                doc = json.loads(out)
                self.assertEqual(doc["encoding"], "base64")
                self.assertEqual(doc["len"], 10240)
                self.assertEqual(base64.b64decode(doc["payload"]), data)
                self.assertEqual(doc["topic"], "bin/down")
                self.assertIsNone(doc["retained"])
            else:
                self.assertEqual(out, data)

    def test_json_url_and_stdin(self):
        ref = reference_sub(Env.broker, "js/t")
        rc, out, err = modemctl([*self.dev(), "--json", "mqtt", "pub", "-L",
                                 "mqtt://127.0.0.1:%d/js/t" % Env.broker.port, "-s", "-q", "1"],
                                stdin=b"from stdin \xc3\xa9")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"published": True, "topic": "js/t", "len": 13,
                                           "qos": 1, "retain": False})
        self.assertEqual(ref.result(), (0, b"from stdin \xc3\xa9"))
        # text payloads come as UTF-8 strings
        p = start_modemctl([*self.dev(), "--json", "mqtt", "sub", "-L",
                            "mqtt://127.0.0.1:%d/js/in" % Env.broker.port, "-C", "1", "-W", "20"])
        self.assertEqual(json.loads(p.stdout.readline())["event"], "subscribed")
        mosquitto_pub(Env.broker.port, "js/in", "-m", "caf\u00e9 \"q\"\n")
        out, _ = p.communicate(timeout=20)
        doc = json.loads(out)
        self.assertEqual((doc["payload"], doc["encoding"]), ("caf\u00e9 \"q\"\n", "utf-8"))

    def test_usage_errors(self):
        rc, _, err = modemctl([*self.dev(), "mqtt", "pub", "-t", "x"])
        self.assertEqual(rc, 2)
        self.assertIn("exactly one of -m MSG", err)
        rc, _, err = modemctl([*self.dev(), "mqtt", "pub", "-t", "x", "-m", "y", "-V", "5"])
        self.assertEqual(rc, 2)
        self.assertIn("MQTT 5", err)
        rc, out, _ = modemctl(["mqtt", "sub", "--help"])
        self.assertEqual(rc, 0)
        self.assertIn(b"--cafile FILE", out)


class Credentials(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(Env.tmp.sub("broker-auth"), users={"alice": "s3cret"})

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def pub(self, sim, *args):
        return modemctl(["-v", "-d", sim.link, "mqtt", "pub", "-h", "127.0.0.1", "-p",
                         str(self.broker.port), "-t", "auth/t", "-m", "x", *args])

    def info(self, sim):
        rc, out, err = modemctl(["--json", "-d", sim.link, "info"])
        self.assertEqual(rc, 0, err)
        return json.loads(out)["capabilities"]

    def test_sim7600e_h_accepts_credentials(self):
        self.assertTrue(self.info(Env.sim)["mqtt_credentials"])
        ref = reference_sub(self.broker, "auth/t", extra=("-u", "alice", "-P", "s3cret"))
        rc, _, err = self.pub(Env.sim, "-u", "alice", "-P", "s3cret", "-q", "1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(ref.result(), (0, b"x"))
        self.assertNotIn("s3cret", err)  # -v trace: the password is redacted
        self.assertIn('AT+CMQTTCONNECT=0,"***",60,1,"***","***"', err)
        rc, _, err = self.pub(Env.sim, "-u", "alice", "-P", "wrong")
        self.assertEqual(rc, 7)
        # mosquitto 2 answers a wrong password with CONNACK 5 ("not authorised")
        self.assertIn("module error 31: connection refused: not authorized (CONNACK 5)", err)
        self.assertIn("(-u/-P", err)
        rc, out, err = modemctl(["--json", "-d", Env.sim.link, "mqtt", "pub", "-h", "127.0.0.1",
                                 "-p", str(self.broker.port), "-t", "auth/t", "-m", "x", "-u",
                                 "alice", "-P", "wrong"])
        doc = json.loads(out)
        self.assertEqual((rc, doc["error"], doc["module_error"]), (7, "MK_E_MQTT_REFUSED_NOT_AUTHORIZED", 31))
        self.assertIn("not authorized", doc["meaning"])

    def test_sim7600sa_refuses_before_sending(self):
        sim = Sim(Env.tmp.sub("sim-sa"), "SIM7600SA")
        try:
            self.assertFalse(self.info(sim)["mqtt_credentials"])
            rc, _, err = self.pub(sim, "-u", "alice", "-P", "s3cret")
            self.assertEqual(rc, 6, err)
            self.assertIn("firmware LE11B01SIM7600M21-A", err)
            self.assertIn("user name or password", err)
            self.assertIn("modemctl fota", err)
            self.assertNotIn(">> AT+CMQTT", err.replace(">> AT+CMQTTACCQ=?", ""))
            # MQTT 3.1.1 too: no version choice on this firmware
            rc, _, err = self.pub(sim, "-V", "311")
            self.assertEqual(rc, 6, err)
            self.assertIn("MQTT 3.1.1", err)
        finally:
            sim.stop()

    def test_unknown_revision_rejecting_credentials_at_run_time(self):
        sim = Sim(Env.tmp.sub("sim-7500a-auth"), "SIM7500A")
        try:
            rc, _, err = self.pub(sim, "-u", "alice", "-P", "s3cret")
            self.assertEqual(rc, 6, err)
            self.assertIn("this firmware (LE11B02SIM7500A) rejected user name/password", err)
            self.assertIn(">> AT+CMQTTCONNECT", err)
        finally:
            sim.stop()


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(Env.tmp.sub("broker-tls"), pki=Env.pki, require_cert=True)

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def ref_sub(self, topic):
        p = Env.pki.path
        return reference_sub(self.broker, topic, extra=(
            "--cafile", p("ca.pem"), "--cert", p("client.pem"), "--key", p("client.key")))

    def pub(self, sim, *args):
        return modemctl(["-v", "-d", sim.link, "mqtt", "pub", "-h", "127.0.0.1", "-p",
                         str(self.broker.port), *args])

    def test_sim7500a_authmode2_without_sslversion(self):
        sim = Sim(Env.tmp.sub("sim-7500a"), "SIM7500A")
        p = Env.pki.path
        try:
            for run in range(2):
                ref = self.ref_sub("tls/t")
                rc, _, err = self.pub(sim, "-t", "tls/t", "-m", "over tls %d" % run, "-q", "1",
                                      "--cafile", p("ca.pem"), "--cert", p("client.pem"),
                                      "--key", p("client.key"))
                self.assertEqual(rc, 0, err)
                self.assertEqual(ref.result(), (0, b"over tls %d" % run))
                self.assertNotIn('>> AT+CSSLCFG="sslversion"', err)
                self.assertIn('AT+CSSLCFG="authmode",0,2', err)
                self.assertNotIn("PRIVATE KEY", err)  # key bytes redacted in the trace
                if run == 0:
                    self.assertEqual(err.count(">> AT+CCERTDOWN"), 3)
                    self.assertIn("bytes redacted>", err)
                else:  # the store has them (names carry a content hash): no upload
                    self.assertNotIn("AT+CCERTDOWN", err)
            # pinning "all" on this firmware: refused before anything is sent
            rc, _, err = self.pub(sim, "-t", "tls/t", "-m", "x", "--cafile", p("ca.pem"),
                                  "--tls-version", "all")
            self.assertEqual(rc, 6, err)
            self.assertIn("LE11B02SIM7500A", err)
            self.assertNotIn(">> AT+CSSLCFG=\"", err)
        finally:
            sim.stop()

    def test_wrong_ca_is_a_tls_handshake_failure(self):
        p = Env.pki.path
        rc, _, err = self.pub(Env.sim, "-t", "tls/x", "-m", "x", "--cafile", p("other-ca.pem"),
                              "--cert", p("client.pem"), "--key", p("client.key"))
        self.assertEqual(rc, 8, err)
        self.assertIn("CONNECT: module error 32: TLS handshake failed", err)
        self.assertNotIn("busy", err)

    def test_bad_local_files_are_named(self):
        p = Env.pki.path
        with open(p("ca.pem")) as f:
            ca = f.read()
        cut = Env.tmp.sub("cut.pem")
        with open(cut, "w") as f:
            f.write(ca[:len(ca) // 2])
        rc, _, err = self.pub(Env.sim, "-t", "t", "-m", "x", "--cafile", cut)
        self.assertEqual(rc, 8, err)
        self.assertIn("--cafile %s: line 1: a BEGIN line without its END line" % cut, err)
        self.assertNotIn("AT+CCERTDOWN", err)
        rc, _, err = self.pub(Env.sim, "-t", "t", "-m", "x", "--cafile", p("client.key"))
        self.assertEqual(rc, 8, err)
        self.assertIn("expected certificate(s) only", err)
        big = Env.tmp.sub("big.pem")
        with open(big, "w") as f:
            f.write(ca * 20)
        rc, _, err = self.pub(Env.sim, "-t", "t", "-m", "x", "--cafile", big)
        self.assertNotEqual(rc, 0)
        self.assertIn("at most 10240", err)


class CertAndNet(unittest.TestCase):
    def test_cert_put_ls_rm(self):
        dev = ["-d", Env.sim.link]
        ca = Env.pki.path("ca.pem")
        rc, out, err = modemctl([*dev, "cert", "put", ca, "--name", "mine.pem"])
        self.assertEqual(rc, 0, err)
        self.assertIn(b"stored as mine.pem", out)
        rc, out, err = modemctl([*dev, "--json", "cert", "ls"])
        self.assertEqual(rc, 0, err)
        self.assertIn("mine.pem", json.loads(out)["files"])
        rc, out, err = modemctl([*dev, "cert", "rm", "mine.pem"])
        self.assertEqual(rc, 0, err)
        rc, out, err = modemctl([*dev, "cert", "ls"])
        self.assertNotIn(b"mine.pem", out)
        rc, out, err = modemctl([*dev, "cert", "rm", "mine.pem"])
        self.assertEqual(rc, 5)
        self.assertIn("no such file", err)
        rc, out, err = modemctl([*dev, "cert", "put", Env.pki.path("ca.key")])
        self.assertEqual(rc, 2)  # "ca.key" is no .pem/.der name: use --name
        self.assertIn("--name", err)

    def test_net_status_and_up(self):
        rc, out, err = modemctl(["-d", Env.sim.link, "--json", "net", "status"])
        self.assertEqual(rc, 0, err)
        st = json.loads(out)
        self.assertEqual(st["sim"], "READY")
        self.assertTrue(st["registered"])
        self.assertIn("LTE,Online", st["cpsi"])
        rc, out, err = modemctl(["-d", Env.sim.link, "net", "up", "--apn", "internet"])
        self.assertEqual(rc, 0, err)
        self.assertIn(b"Data:          up, IP 10.184.19.67, APN internet", out)
        sim = Sim(Env.tmp.sub("sim-7000"), "SIM7000G")
        try:
            rc, out, err = modemctl(["-d", sim.link, "--json", "net", "up", "--apn", "ctnb"])
            self.assertEqual(rc, 0, err)
            st = json.loads(out)
            self.assertTrue(st["data"])
            self.assertEqual(st["ip"], "10.94.36.44")
            # and MQTT through AT+SM* on it
            ref = reference_sub(Env.broker, "sm/t")
            rc, _, err = modemctl(["-d", sim.link, "mqtt", "pub", "-h", "127.0.0.1", "-p",
                                   str(Env.broker.port), "-t", "sm/t", "-m", "via SM", "-q", "1"])
            self.assertEqual(rc, 0, err)
            self.assertEqual(ref.result(), (0, b"via SM"))
        finally:
            sim.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
