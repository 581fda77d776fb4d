#!/usr/bin/env python3
"""modemd end to end: data sources, --once, sim:PROFILE, lost network, TLS.

* source = command: the command's output is the sample (JSON kept, text as a string),
  MODEMD_SEQ is the sequence number it will get;
* source = fifo: every line written to the FIFO is a sample;
* source = file: every line appended is a sample, also after the file was rotated;
* --once with port = sim:PROFILE: modemd starts its own simulator, takes one sample,
  publishes it and what was queued, and exits 0;
* the module loses its network (+CMQTTNONET from modemsim's nonet fault): modemd
  reconnects and the samples go on without a gap;
* mqtts:// with a CA file: the file is uploaded to the module's store once and the
  connection verifies the broker.
"""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import mdtest  # noqa: E402

TEL = "devices/logger-1/telemetry"


class Sources(unittest.TestCase):
    def setUp(self):
        self.s = mdtest.Scratch("sources")

    def tearDown(self):
        self.s.cleanup(keep=os.environ.get("MK_KEEP") == "1")

    def world(self, extra, profile="SIM7600E-H", sim_extra=(), broker=None):
        s = self.s
        self.broker = broker or mdtest.Broker(s)
        if not broker:
            self.broker.start()
        self.sub = mdtest.Subscriber(s, self.broker, TEL, "sub-%d" % len(s.procs))
        self.sim = mdtest.Sim(s, profile, sim_extra)
        return mdtest.Modemd(s, mdtest.base_config(self.broker.url, self.sim.link,
                                                   s.path("state"), extra=extra))

    def data(self):
        return [(p["seq"], p["data"]) for p in self.sub.payloads(TEL)]

    def test_command_source(self):
        script = self.s.path("read-sensor.sh")
        with open(script, "w") as f:
            f.write('#!/bin/sh\nif [ $((MODEMD_SEQ % 2)) = 1 ]; then echo "{\\"v\\":$MODEMD_SEQ}"\n'
                    'else echo "reading $MODEMD_SEQ"; fi\n')
        os.chmod(script, 0o755)
        md = self.world("[sample]\nsource = command\ncommand = %s\ninterval = 50ms\ncount = 4\n"
                        % script)
        md.start("--exit-when-done")
        self.assertEqual(md.proc.wait(30), 0, md.log_text())
        self.assertEqual(self.data(), [(1, {"v": 1}), (2, "reading 2"), (3, {"v": 3}),
                                       (4, "reading 4")])

    def test_fifo_and_file_sources(self):
        fifo = self.s.path("samples.fifo")
        md = self.world("[sample]\nsource = fifo\npath = %s\ncount = 3\n" % fifo)
        md.start("--exit-when-done")
        mdtest.wait_until(lambda: os.path.exists(fifo), 10, "the FIFO")
        md.wait_log("subscribed to", 20)
        with open(fifo, "w") as f:
            f.write('{"a":1}\nplain text\n')
            f.flush()
            f.write("42\n")
        self.assertEqual(md.proc.wait(30), 0, md.log_text())
        self.assertEqual(self.data(), [(1, {"a": 1}), (2, "plain text"), (3, 42)])

        # a file followed like tail -F: lines already there are not samples, new ones are,
        # also in a new file under the same name
        path = self.s.path("data.log")
        with open(path, "w") as f:
            f.write("old line\n")
        md2 = mdtest.Modemd(self.s, mdtest.base_config(
            self.broker.url, self.sim.link, self.s.path("state2"),
            extra="[sample]\nsource = file\npath = %s\ncount = 3\n" % path), name="md2")
        n0 = len(self.sub.payloads(TEL))
        md2.start("--exit-when-done")
        md2.wait_log("subscribed to", 20)
        with open(path, "a") as f:
            f.write('{"t":1}\n')
        mdtest.wait_until(lambda: len(self.sub.payloads(TEL)) > n0, 10, "the first line")
        os.rename(path, path + ".1")
        with open(path, "w") as f:
            f.write('{"t":2}\n{"t":3}\n')
        self.assertEqual(md2.proc.wait(30), 0, md2.log_text())
        self.assertEqual(self.data()[n0:], [(1, {"t": 1}), (2, {"t": 2}), (3, {"t": 3})])
        self.assertIn("following the new file", md2.log_text())

    def test_once_with_a_simulated_module(self):
        s = self.s
        broker = mdtest.Broker(s)
        broker.start()
        sub = mdtest.Subscriber(s, broker, TEL, "sub-once")
        state = s.path("state")
        cfg = mdtest.base_config(broker.url, "sim:SIM7600SA", state)
        md = mdtest.Modemd(s, cfg)
        for run in range(2):
            md.start("--once")
            self.assertEqual(md.proc.wait(60), 0, md.log_text())
            mdtest.wait_until(lambda: len(sub.payloads(TEL)) == run + 1, 10, "the sample")
        self.assertEqual([p["seq"] for p in sub.payloads(TEL)], [1, 2])
        self.assertTrue(os.path.isdir(os.path.join(state, "sim")))  # the module's flash
        self.assertIn("module SIMCOM_SIM7600SA, firmware LE11B01SIM7600M21-A", md.log_text())

    def test_network_lost_and_back(self):
        md = self.world("[sample]\ninterval = 50ms\ncount = 80\n",
                        sim_extra=["--fault", "nonet@conn+1500ms"])
        md.start("--exit-when-done")
        self.assertEqual(md.proc.wait(60), 0, md.log_text())
        missing, dups, bad = mdtest.seq_report(self.sub.payloads(TEL), 80)
        self.assertEqual((missing, bad), ([], []))
        log = md.log_text()
        self.assertIn("+CMQTTNONET", log)
        self.assertIn("MQTT reconnected", log)
        print("# network loss: 80 samples, none lost, %d duplicate(s)" % dups)

    def test_hung_module_is_power_cycled(self):
        # a module that takes no input (deaf firmware): only a power cycle cures it; the
        # "power-cycle command" here replaces the hung simulator by a healthy one on the
        # same port path, as cutting the supply would
        s = self.s
        broker = mdtest.Broker(s)
        broker.start()
        sub = mdtest.Subscriber(s, broker, TEL, "sub-hung")
        link, state = s.path("tty"), s.path("simstate")
        hung = subprocess.Popen([mdtest.MODEMSIM, "--profile", "SIM7600E-H", "--link", link,
                                 "--state", state, "--fault", "drop=1/rx"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s.track(hung)
        mdtest.wait_until(lambda: os.path.exists(link), 10, "the hung module's port")
        script = s.path("power-cycle.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nkill %d\nwhile [ -e %s ]; do sleep 0.05; done\n"
                    "%s --profile SIM7600E-H --link %s --state %s >/dev/null 2>&1 &\n"
                    "echo $! > %s\n" % (hung.pid, link, mdtest.MODEMSIM, link, state,
                                        s.path("healthy.pid")))
        os.chmod(script, 0o755)
        cfg = mdtest.base_config(broker.url, link, s.path("mdstate"),
                                 device="power_cycle_command = %s\nhang_timeout = 3s" % script,
                                 extra="[sample]\ninterval = 100ms\ncount = 10\n")
        md = mdtest.Modemd(s, cfg)
        t0 = time.monotonic()
        md.start("--exit-when-done")
        try:
            self.assertEqual(md.proc.wait(60), 0, md.log_text())
        finally:
            pidfile = s.path("healthy.pid")
            if os.path.exists(pidfile):
                with open(pidfile) as f:
                    os.kill(int(f.read()), 15)
        log = md.log_text()
        self.assertIn("the module has not answered for", log)
        self.assertIn("power-cycling the module: " + script, log)
        self.assertEqual([p["seq"] for p in sub.payloads(TEL)], list(range(1, 11)))
        print("# hung module: power-cycled after the 3 s hang_timeout, 10 samples kept and "
              "published, %.1f s" % (time.monotonic() - t0))

    def test_tls_broker(self):
        s = self.s
        pki = s.path("pki")
        os.makedirs(pki)

        def ossl(*args):
            subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=pki,
                           timeout=30)
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=modemd test CA")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(pki, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
        broker = mdtest.Broker(s)
        tls_port = mdtest.free_port()
        with open(broker.conf, "a") as f:
            f.write("\nlistener %d 127.0.0.1\ncafile %s/ca.pem\ncertfile %s/server.pem\n"
                    "keyfile %s/server.key\n" % (tls_port, pki, pki, pki))
        broker.start()
        mdtest.wait_until(lambda: mdtest.port_open(tls_port), 10, "the TLS listener")
        sim = mdtest.Sim(s, "SIM7600E-H")
        sub = mdtest.Subscriber(s, broker, TEL, "sub-tls")
        cfg = mdtest.base_config("mqtts://127.0.0.1:%d" % tls_port, sim.link, s.path("state"),
                                 extra="[sample]\ninterval = 50ms\ncount = 5\n")
        cfg = cfg.replace("[mqtt]\n", "[mqtt]\ncafile = %s/ca.pem\n" % pki, 1)
        md = mdtest.Modemd(s, cfg)
        md.start("--exit-when-done")
        self.assertEqual(md.proc.wait(60), 0, md.log_text())
        self.assertEqual([p["seq"] for p in sub.payloads(TEL)], [1, 2, 3, 4, 5])
        self.assertEqual(md.log_text().count("uploaded to the module as ca-"), 1)
        # the module keeps its store: the next run does not upload again
        with open(md.conf, "w") as f:
            f.write(cfg.replace("count = 5", "count = 7"))
        md.start("--exit-when-done")
        self.assertEqual(md.proc.wait(60), 0, md.log_text())
        self.assertEqual([p["seq"] for p in sub.payloads(TEL)], [1, 2, 3, 4, 5, 6, 7])
        self.assertEqual(md.log_text().count("uploaded to the module as ca-"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
