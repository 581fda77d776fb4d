"""Support for modemd end-to-end tests: a mosquitto broker that can be stopped and
started again on the same port (with persistence, so a subscriber's session survives),
modemsim with a --link and a --control FIFO, a persistent-session subscriber
(mosquitto_sub), and modemd itself (config file, log, SIGKILL, restart).

Everything runs on 127.0.0.1 on free ports and in a scratch directory; every wait polls
a condition until a deadline.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MODEMD = os.environ.get("MODEMD", "modemd")
MODEMSIM = os.environ.get("MODEMSIM", "modemsim")
MODEMCTL = os.environ.get("MODEMCTL", "modemctl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, step=0.02):
    """Polls pred() until it is true; fails with what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(step)


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Scratch:
    def __init__(self, tag):
        self.dir = tempfile.mkdtemp(prefix="modemd-%s-" % tag)
        self.procs = []
        self.files = []

    def open(self, name, mode):
        f = open(self.path(name), mode)
        self.files.append(f)
        return f

    def path(self, *names):
        return os.path.join(self.dir, *names)

    def track(self, p):
        self.procs.append(p)
        return p

    def cleanup(self, keep=False):
        for p in reversed(self.procs):  # modemd before the module and the broker
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for f in self.files:
            f.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Broker:
    """mosquitto on a fixed free port; stop() and start() again keep the port and, with
    persistence, the sessions of clients with clean_session false."""

    def __init__(self, scratch):
        self.s = scratch
        self.port = free_port()
        self.dir = scratch.path("broker")
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "mosquitto.log")
        conf = [
            "listener %d 127.0.0.1" % self.port,
            "allow_anonymous true",
            "persistence true",
            "persistence_location %s/" % self.dir,
            "max_queued_messages 20000",
            "log_dest file %s" % self.log,
            "log_type all",
        ]
        if os.geteuid() == 0:
            conf.append("user root")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.proc = None

    def start(self):
        self.proc = self.s.track(subprocess.Popen(["mosquitto", "-c", self.conf],
                                                  stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL))
        wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, 10,
                   "mosquitto on port %d" % self.port)
        if self.proc.poll() is not None:
            raise AssertionError("mosquitto did not start (port %d taken?)" % self.port)

    def stop(self):
        self.proc.terminate()  # saves the persistence database
        self.proc.wait(10)

    def log_has(self, needle):
        try:
            with open(self.log, errors="replace") as f:
                return needle in f.read()
        except FileNotFoundError:
            return False

    @property
    def url(self):
        return "mqtt://127.0.0.1:%d" % self.port


class Subscriber:
    """mosquitto_sub with a persistent session (-c, QoS 1): messages published while it
    is away (broker restart) are kept for it. Lines are 'topic payload'."""

    def __init__(self, scratch, broker, topic, cid):
        self.out = scratch.path("sub-%s.txt" % cid)
        self.f = scratch.open(os.path.basename(self.out), "wb")
        self.proc = scratch.track(subprocess.Popen(
            ["mosquitto_sub", "-p", str(broker.port), "-h", "127.0.0.1", "-i", cid, "-c",
             "-q", "1", "-v", "-t", topic], stdout=self.f, stderr=subprocess.DEVNULL))
        wait_until(lambda: broker.log_has("%s 1 %s" % (cid, topic)), 10,
                   "the subscriber %s to subscribe" % cid)

    def messages(self, topic=None):
        """[(topic, payload-dict-or-str)] of every complete line so far."""
        out = []
        with open(self.out, "rb") as f:
            data = f.read().decode(errors="replace")
        for line in data.split("\n")[:-1]:
            t, _, p = line.partition(" ")
            if topic and t != topic:
                continue
            try:
                p = json.loads(p)
            except ValueError:
                pass
            out.append((t, p))
        return out

    def payloads(self, topic):
        return [p for _, p in self.messages(topic)]


class Sim:
    """modemsim with a --link that follows the simulated module across reboots, a
    --control FIFO (power-cycle) and a --state directory (the module's flash)."""

    def __init__(self, scratch, profile, extra=()):
        self.link = scratch.path("ttyMODEM")
        self.ctl = scratch.path("sim.ctl")
        self.state = scratch.path("simstate")
        self.err = scratch.open("modemsim.err", "wb")
        self.proc = scratch.track(subprocess.Popen(
            [MODEMSIM, "--profile", profile, "--link", self.link, "--control", self.ctl,
             "--state", self.state, "--boot-delay-ms", "100"] + list(extra),
            stdout=subprocess.DEVNULL, stderr=self.err))
        wait_until(lambda: os.path.exists(self.link), 10, "the modemsim pty link")
        wait_until(lambda: os.path.exists(self.ctl), 10, "the modemsim control FIFO")

    def control(self, line):
        subprocess.run([MODEMSIM, "--ctl", self.ctl] + line.split(), check=True, timeout=10)

    def power_cycle_command(self):
        return "%s --ctl %s power-cycle" % (MODEMSIM, self.ctl)


class Modemd:
    def __init__(self, scratch, config_text, name="modemd"):
        self.s = scratch
        self.conf = scratch.path("%s.conf" % name)
        with open(self.conf, "w") as f:
            f.write(config_text)
        self.log = scratch.path("%s.log" % name)
        self.proc = None
        self.starts = 0

    def start(self, *args):
        f = self.s.open(os.path.basename(self.log), "ab")
        f.write(b"---- start %d ----\n" % self.starts)
        f.flush()
        self.starts += 1
        self.proc = self.s.track(subprocess.Popen([MODEMD, "--config", self.conf] + list(args),
                                                  stdout=f, stderr=f))
        return self.proc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(20)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout, start=0):
        return wait_until(lambda: needle in self.log_text()[start:], timeout,
                          "modemd to log %r" % needle)


def base_config(broker_url, port, state_dir, client_id="logger-1", extra="", device=""):
    return """# written by the modemd tests
[device]
port = %s
reopen_timeout = 30s
%s

[mqtt]
url = %s
client_id = %s
keepalive = 10s
reconnect_max = 2s

[state]
dir = %s

[log]
level = info
%s""" % (port, device, broker_url, client_id, state_dir, extra)


def seq_report(payloads, n):
    """(missing, duplicates, out_of_range) of telemetry payloads against 1..n."""
    seen = {}
    bad = []
    for p in payloads:
        s = p.get("seq") if isinstance(p, dict) else None
        if not isinstance(s, int) or s < 1 or s > n:
            bad.append(p)
            continue
        seen[s] = seen.get(s, 0) + 1
    missing = [i for i in range(1, n + 1) if i not in seen]
    dups = sum(c - 1 for c in seen.values())
    return missing, dups, bad
