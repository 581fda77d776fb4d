"""Test environment for modemctl's MQTT commands: mosquitto brokers on free 127.0.0.1
ports (plain, TLS, with passwords), a throw-away PKI made with openssl, modemsim started
with the options a test needs, and helpers that run modemctl or mosquitto_sub/pub with
deadlines. Everything started is stopped; nothing but 127.0.0.1 is used; waits poll a
condition until a deadline (no fixed sleeps as synchronisation).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MODEMCTL = os.environ.get("MODEMCTL", "modemctl")
MODEMSIM = os.environ.get("MODEMSIM", "modemsim")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, step=0.02):
    """Polls cond() until it is true or timeout seconds pass (then AssertionError)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Pki:
    """CA, server (127.0.0.1/localhost), client, and an unrelated CA: EC P-256, 2 days."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        k = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

        def ossl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True,
                           timeout=30)
        ossl("req", "-x509", *k, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=modemkit-test-ca")
        ossl("req", "-x509", *k, "-keyout", "other.key", "-out", "other-ca.pem", "-days", "2",
             "-subj", "/CN=modemkit-other-ca")
        for who, cn, ext in (("server", "127.0.0.1", True), ("client", "dev1", False)):
            ossl("req", *k, "-keyout", who + ".key", "-out", who + ".csr", "-subj", "/CN=" + cn)
            ossl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", who + ".pem", "-days", "2",
                 *(["-extfile", "san.ext"] if ext else []))

    def path(self, name):
        return os.path.join(self.dir, name)


class Broker:
    """mosquitto on a free 127.0.0.1 port; restart() brings it back on the same port."""

    def __init__(self, d, pki=None, require_cert=False, users=None):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.port = free_port()
        self.log = os.path.join(d, "mosquitto.log")
        self.conf = os.path.join(d, "mosquitto.conf")
        lines = ["listener %d 127.0.0.1" % self.port, "persistence false",
                 "log_dest file " + self.log, "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")
        if users:
            pw = os.path.join(d, "passwd")
            open(pw, "w").close()
            for u, p in users.items():
                subprocess.run(["mosquitto_passwd", "-b", pw, u, p], check=True,
                               capture_output=True, timeout=10)
            lines += ["allow_anonymous false", "password_file " + pw]
        else:
            lines.append("allow_anonymous true")
        if pki:
            lines += ["cafile " + pki.path("ca.pem"), "certfile " + pki.path("server.pem"),
                      "keyfile " + pki.path("server.key"),
                      "require_certificate " + ("true" if require_cert else "false")]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port), 10, "mosquitto on port %d" % self.port)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def restart(self):
        self.stop()
        # the port is ours again only when nothing listens on it
        wait_for(lambda: not port_open(self.port), 5, "the old broker to go")
        self.start()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def count_log(self, needle):
        return self.log_text().count(needle)


class Sim:
    """modemsim with a --link symlink (what modemctl -d opens) and a --control FIFO."""

    def __init__(self, d, profile, *extra, verbose=False):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.link = os.path.join(d, "tty")
        self.control = os.path.join(d, "ctl")
        self.errlog = os.path.join(d, "modemsim.err")
        args = [MODEMSIM, "--profile", profile, "--link", self.link, "--control", self.control,
                "--boot-delay-ms", "0", "--sim-delay-ms", "0", "--reenum-delay-ms", "100",
                *extra]
        if verbose:
            args.append("-v")
        self.err = open(self.errlog, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.err)
        self.proc.stdout.readline()  # the pty path: the link exists now

    def ctl(self, line):
        subprocess.run([MODEMSIM, "--ctl", self.control, *line.split()], check=True,
                       timeout=10, capture_output=True)

    def log_text(self):
        self.err.flush()
        with open(self.errlog, errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


def modemctl(args, timeout=30, stdin=None):
    """Runs modemctl; returns (exit status, stdout bytes, stderr text)."""
    p = subprocess.run([MODEMCTL, *args], input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def start_modemctl(args):
    return subprocess.Popen([MODEMCTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class Tail:
    """Collects a child's stderr lines in the background for wait_for()."""

    def __init__(self, stream):
        import threading
        self.lines = []
        self.t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.t.start()

    def _run(self, stream):
        for line in iter(stream.readline, b""):
            self.lines.append(line.decode(errors="replace"))

    def text(self):
        return "".join(self.lines)


class SubClient:
    """mosquitto_sub in the background (to see what reached the broker, byte for byte)."""

    def __init__(self, port, topic, count, extra=(), timeout=20):
        self.proc = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-C", str(count),
             "-W", str(timeout), "-N", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def result(self, timeout=25):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out


def mosquitto_pub(port, topic, *args):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, *args],
                   check=True, timeout=10, capture_output=True)


class TmpDir:
    def __init__(self, tag):
        self.path = tempfile.mkdtemp(prefix="modemkit-%s-" % tag)

    def sub(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)
