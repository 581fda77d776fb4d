"""Helpers for the FOTA end-to-end tests: a modemsim with --link/--state/--control in a
scratch directory, modemctl runs, deltas and packages, and what the simulated module
persisted (revision, update state, counters).

Everything runs on 127.0.0.1 and in a private temporary directory; every wait polls a
condition against a deadline (no fixed sleeps as synchronisation).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MODEMCTL = os.environ.get("MODEMCTL", "modemctl")
MODEMSIM = os.environ.get("MODEMSIM", "modemsim")

PROFILES = {
    # profile: (model, source, target, method)
    "SIM7000G": ("SIM7000G", "1529B04SIM7000G", "1529B05SIM7000G", "cfota"),
    "SIM7600SA": ("SIM7600SA", "LE11B01SIM7600M21-A", "LE11B14SIM7600M22", "cdelta"),
}

FAST = ["--boot-delay-ms", "0", "--sim-delay-ms", "5", "--reenum-delay-ms", "30",
        "--fota-time-ms", "200"]


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Scratch:
    """A temporary directory removed at close()."""

    def __init__(self, tag):
        self.dir = tempfile.mkdtemp(prefix="modemkit-fota-%s-" % tag)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Sim:
    """modemsim with a link, a state directory and a control FIFO."""

    def __init__(self, scratch, profile, extra=(), state=None, name="sim"):
        self.profile = profile
        self.link = scratch.path(name + ".tty")
        self.state = state or scratch.path(name + ".state")
        self.ctl = scratch.path(name + ".ctl")
        self.err_path = scratch.path(name + ".log")
        args = [MODEMSIM, "--profile", profile, "--link", self.link, "--state", self.state,
                "--control", self.ctl] + FAST + list(extra)
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.ptys = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_for(lambda: self.ptys and os.path.exists(self.link), 10, "modemsim's pty")

    def _read(self):
        for line in self.proc.stdout:
            self.ptys.append(line.strip())

    def reboots(self):
        """Re-enumerations so far (each reset or power cut prints a new pty path)."""
        return len(self.ptys) - 1

    def power_cycle_cmd(self):
        return "%s --ctl %s power-cycle" % (MODEMSIM, self.ctl)

    def control(self, line):
        subprocess.run([MODEMSIM, "--ctl", self.ctl] + line.split(), check=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()

    # what the module persisted
    def _kv(self, name):
        p = os.path.join(self.state, "sys", name)
        out = {}
        if os.path.exists(p):
            with open(p) as f:
                for line in f:
                    k, _, v = line.strip().partition(" ")
                    out[k] = v
        return out

    def fota_state(self):
        return self._kv("fota")

    def applies(self):
        return int(self.fota_state().get("applies", "0"))

    def stats(self):
        """Counters written at every reset and at exit (stop() first for final ones)."""
        return {k: int(v) for k, v in self._kv("stats").items()}

    def revision(self, factory):
        p = os.path.join(self.state, "revision")
        if not os.path.exists(p):
            return factory
        with open(p) as f:
            return f.read().strip()

    def file(self, module_path):
        """Bytes of a file on the module, or None."""
        esc = "".join(c if c.isalnum() or c in "_-" or (c == "." and i) else "%%%02X" % ord(c)
                      for i, c in enumerate(module_path))
        p = os.path.join(self.state, "fs", esc)
        if not os.path.exists(p):
            return None
        with open(p, "rb") as f:
            return f.read()


def run(args, timeout=120, check=None):
    """Runs modemctl ARGS; returns (rc, stdout, stderr)."""
    p = subprocess.run([MODEMCTL] + list(args), capture_output=True, text=True, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError("modemctl %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" %
                             (" ".join(args), p.returncode, check, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip().startswith("{")]


def final_result(stdout):
    docs = [d for d in json_lines(stdout) if "result" in d and "event" not in d]
    assert docs, "no final result object in:\n" + stdout
    return docs[-1]


def make_delta(scratch, profile, size, name=None, corrupt=False, source=None, seed=1):
    model, src, dst, _ = PROFILES[profile]
    out = scratch.path(name or "%s-%d%s.bin" % (profile, size, "-bad" if corrupt else ""))
    args = [MODEMSIM, "--make-delta", "--model", model, "--from", source or src, "--to", dst,
            "--size", str(size), "--seed", str(seed), "-o", out]
    if corrupt:
        args.append("--corrupt")
    subprocess.run(args, check=True)
    return out


def pack(scratch, profile, delta, out=None, model=None, source=None, target=None, extra=()):
    m, src, dst, method = PROFILES[profile]
    out = out or delta + ".fota"
    run(["fota", "pack", "--model", model or m, "--from", source or src, "--to", target or dst,
         "--method", method, delta, "-o", out] + list(extra), check=0)
    return out


def journal(jdir):
    """The one journal in jdir, as a dict."""
    files = [f for f in os.listdir(jdir) if f.endswith(".json")]
    assert len(files) == 1, files
    with open(os.path.join(jdir, files[0])) as f:
        return json.load(f)


def apply_until_done(sim, pkg, jdir, extra=(), tries=4, timeout=120):
    """fota apply, then --resume until it succeeds (at most tries runs). Returns the list
    of (rc, final result or None) per run."""
    runs = []
    args = ["-d", sim.link, "--json", "fota", "apply", pkg, "--journal", jdir,
            "--reboot-timeout", "20"] + list(extra)
    for i in range(tries):
        if i:
            # as a user would: run again once the module's port is there
            wait_for(lambda: os.path.exists(sim.link), 30, "the module's port")
        rc, out, err = run(args if i == 0 else args + ["--resume"], timeout=timeout)
        try:
            res = final_result(out)
        except AssertionError:
            res = None
        runs.append((rc, res, err))
        if rc == 0:
            break
    return runs


class HttpServer:
    """python3 -m http.server on a free 127.0.0.1 port, serving directory."""

    def __init__(self, directory):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
             "--directory", directory], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, 10, "the HTTP server")

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
