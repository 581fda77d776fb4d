#!/usr/bin/env python3
"""modemd's configuration file and command line: the example in the repository is valid;
every kind of mistake is reported with the file name and line number, all of them in one
run; --check-config -v shows the defaults and the substituted topics; --help documents
every key (the same table drives the parser); usage errors and a sim:PROFILE device.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import mdtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "tools", "modemd", "modemd.conf.example")


def run(*args, timeout=30):
    p = subprocess.run([mdtest.MODEMD] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Config(unittest.TestCase):
    def setUp(self):
        self.s = mdtest.Scratch("config")

    def tearDown(self):
        self.s.cleanup()

    def write(self, text, name="m.conf"):
        path = self.s.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_example_is_valid(self):
        rc, out, err = run("--check-config", EXAMPLE)
        self.assertEqual(rc, 0, err)
        self.assertIn("valid", out)
        rc, out, err = run("--check-config", EXAMPLE, "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("telemetry = devices/logger-0042/telemetry", out)
        self.assertIn("interval = 1800000ms", out)
        self.assertIn("[param motor_speed]\ntype = int\nmin = 0\nmax = 3000", out)
        self.assertIn("path = /var/lib/modemd/queue.log", out)  # default from state.dir

    def test_errors_with_line_numbers(self):
        path = self.write("""[device]
port = /dev/ttyUSB2
speed = 9600
[mqtt]
url = mqtt://127.0.0.1
client_id = a
keepalive = ten
url = mqtt://other
[sample]
source = carrier-pigeon
interval = 5x
[queue]
max_bytes = lots
drop = random
[widgets]
size = 1
[param motor_speed]
type = integer
colour = red
not a key value line
""")
        rc, out, err = run("--check-config", path)
        self.assertEqual(rc, 3)
        lines = err.strip().split("\n")
        want = [
            (3, "unknown key 'speed' in [device] (known: port, baud, power_cycle_command"),
            (7, "mqtt.keepalive: 'ten' is not a duration"),
            (8, "mqtt.url is given twice"),
            (10, "sample.source: 'carrier-pigeon' is not one of synthetic|command|fifo|file"),
            (11, "sample.interval: '5x' is not a duration"),
            (13, "queue.max_bytes: 'lots' is not a size"),
            (14, "queue.drop: 'random' is not one of oldest|newest"),
            (15, "unknown section [widgets]"),
            (18, "param motor_speed: type must be int, number, bool or string, not 'integer'"),
            (19, "unknown key 'colour' in [param motor_speed]"),
            (20, "expected 'key = value' or '[section]'"),
        ]
        self.assertEqual(len(lines), len(want), err)
        for (n, text), line in zip(want, lines):
            self.assertTrue(line.startswith("%s:%d: " % (path, n)), line)
            self.assertIn(text, line)

    def test_semantic_errors(self):
        path = self.write("""[device]
port = /dev/ttyUSB2
[mqtt]
url = http://broker
client_id = a/b
password = x
[sample]
source = fifo
[topics]
telemetry = devices/+/telemetry
""")
        rc, _, err = run("--check-config", path)
        self.assertEqual(rc, 3)
        for text in ["mqtt.url: 'http://broker' is not mqtt://HOST[:PORT]",
                     "mqtt.client_id: no '\"', '/', '+', '#'",
                     "mqtt.password needs mqtt.username",
                     "topics.telemetry must be a topic name without wildcards",
                     "sample.source = fifo needs sample.path"]:
            self.assertIn(text, err)
        self.assertNotIn("device.port", err)
        rc, _, err = run("--check-config", self.write("[mqtt]\nurl = mqtt://h\n", "n.conf"))
        self.assertIn("device.port is required", err)
        self.assertIn("mqtt.client_id is required", err)

    def test_parameter_definitions_checked_like_the_agent(self):
        path = self.write("""[device]
port = /dev/ttyUSB2
[mqtt]
url = mqtt://127.0.0.1
client_id = a
[param speed]
type = int
min = 10
max = 5
[param sample_interval_ms]
type = number
min = 1
[param mode]
type = string
default = auto
""")
        rc, _, err = run("--check-config", path)
        self.assertEqual(rc, 3)
        self.assertIn("%s:6: speed: min is above max" % path, err)
        self.assertIn("%s:10: sample_interval_ms must be an int parameter" % path, err)
        self.assertIn("%s:13: default of mode: \"auto\" is not a JSON value" % path, err)

    def test_help_documents_every_key(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        section = None
        keys = []
        with open(EXAMPLE) as f:
            for line in f:
                line = line.strip()
                if line.startswith("[param"):
                    section = None
                elif line.startswith("["):
                    section = line[1:-1]
                elif "=" in line and section and not line.startswith("#"):
                    keys.append((section, line.split("=")[0].strip()))
        for section, key in keys:
            self.assertIn("  [%s]" % section, out)
            self.assertRegex(out, r"\n    %s = " % key)
        for text in ["--check-config FILE", "--once", "--exit-when-done", "Exit status",
                     "{\"seq\":N,\"ts\":UNIX_MS,\"data\":VALUE}", "[param NAME]",
                     "max_length", "LwM2M"]:
            self.assertIn(text, out)

    def test_usage_errors(self):
        self.assertEqual(run()[0], 2)
        self.assertEqual(run("--bogus")[0], 2)
        self.assertEqual(run("--config", EXAMPLE, "--check-config", EXAMPLE)[0], 2)
        self.assertEqual(run("--config", "/nonexistent/m.conf")[0], 3)
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("modemd "))


if __name__ == "__main__":
    unittest.main(verbosity=2)
