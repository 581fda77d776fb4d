"""Helpers for the download-mode end-to-end tests: modemsim with --link/--control/--state,
test images (mk_mkcwe), QFIL-style EDL packages, and running modemctl.

Every process started here is stopped by its pid. Waits poll a condition until a deadline.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time

MODEMCTL = os.environ.get("MODEMCTL", "modemctl")
MODEMSIM = os.environ.get("MODEMSIM", "modemsim")
BUILD = os.environ.get("MK_BUILD_DIR", ".")
MKCWE = os.path.join(BUILD, "tests", "flash", "mk_mkcwe")

# fast detection for tests: listen 0.3 s, 0.5 s per probe
FAST = ["--hello-wait", "0.3", "--probe-wait", "0.5", "--reboot-timeout", "20",
        "--final-wait", "20"]


def wait_for(cond, timeout=10.0, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


class Sim:
    """modemsim behind a --link symlink, with a --control FIFO and a --state directory."""

    def __init__(self, workdir, profile="RC7620", extra=()):
        self.dir = workdir
        self.link = os.path.join(workdir, "tty")
        self.ctl = os.path.join(workdir, "ctl")
        self.state = os.path.join(workdir, "state")
        self.err_path = os.path.join(workdir, "sim.err")
        self.args = [MODEMSIM, "--profile", profile, "--link", self.link, "--control",
                     self.ctl, "--state", self.state, "--boot-delay-ms", "0",
                     "--reenum-delay-ms", "100"] + list(extra)
        self.proc = None

    def start(self):
        self.err = open(self.err_path, "ab")
        self.ptys = []  # one line per port appearance (modemsim prints each pty path)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True)
        threading.Thread(target=self._read_ptys, daemon=True).start()
        if not wait_for(lambda: os.path.exists(self.ctl) and self.ptys, 10):
            raise RuntimeError("modemsim did not start: " + open(self.err_path).read())
        return self

    def _read_ptys(self):
        for line in self.proc.stdout:
            self.ptys.append(line.strip())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.err.close()
        self.proc = None

    def sanitizer_report(self):
        """What ASan/UBSan said about modemsim (builds with MK_SANITIZE), "" if nothing."""
        try:
            text = open(self.err_path, errors="replace").read()
        except OSError:
            return ""
        bad = [l for l in text.splitlines()
               if "runtime error" in l or "AddressSanitizer" in l or "LeakSanitizer" in l]
        return "\n".join(bad)

    def ctl_send(self, *words):
        subprocess.run([MODEMSIM, "--ctl", self.ctl] + list(words), check=True)

    def link_target(self):
        try:
            return os.readlink(self.link)
        except OSError:
            return None

    def appearances(self):
        return len(self.ptys)

    def wait_port(self, after, timeout=10):
        """Waits until the port appeared more than `after` times; returns the pty."""
        if not wait_for(lambda: len(self.ptys) > after and os.path.exists(self.link), timeout):
            raise RuntimeError("the simulated port did not come back")
        return self.ptys[-1]

    def tp1_power_cycle(self):
        """Hold TP1, cut and restore power, release TP1 once the port is back (seed 004:
        the module then stays in download mode)."""
        n = self.appearances()
        self.ctl_send("tp1", "on")
        self.ctl_send("power-cycle")
        port = self.wait_port(n)
        self.ctl_send("tp1", "off")
        return port

    def packets(self):
        try:
            return int(open(os.path.join(self.state, "dl", "packets")).read())
        except OSError:
            return 0


def mkcwe(path, **opts):
    args = [MKCWE, path]
    for k, v in opts.items():
        args += ["--" + k, str(v)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return path


def modemctl(*args, timeout=120, env=None):
    """Runs modemctl; returns (rc, stdout, stderr)."""
    p = subprocess.run([MODEMCTL] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def json_lines(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def elf_programmer(path, signed=True, size=70000):
    """A 32-bit ELF with two PT_LOAD segments, as a PBL loads one (header, program
    headers, segments); 'signed' carries modemsim's signature marker."""
    seg1 = bytes((i * 7 + 1) & 0xFF for i in range(size // 2))
    seg2 = (b"MODEMSIM-SIGNED" if signed else b"NOT-SIGNED-AT-ALL") + \
        bytes((i * 13 + 5) & 0xFF for i in range(size // 2))
    phoff, nph = 52, 2
    off1 = phoff + 32 * nph
    off2 = off1 + len(seg1)
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    hdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x8000000, phoff, 0, 0, 52, 32,
                              nph, 40, 0, 0)
    ph = b""
    for off, seg, addr in ((off1, seg1, 0x8000000), (off2, seg2, 0x8100000)):
        ph += struct.pack("<IIIIIIII", 1, off, addr, addr, len(seg), len(seg), 5, 4096)
    data = hdr + ph + seg1 + seg2
    with open(path, "wb") as f:
        f.write(data)
    return data


def qfil_package(d, revision, signed=True, nand=True):
    """A QFIL-style package as SIMCom ships them: programmer, rawprogram and patch XML,
    partition images next to them. modem.img carries the revision modemsim boots."""
    os.makedirs(d, exist_ok=True)
    elf_programmer(os.path.join(d, "prog_firehose_sdx55.mbn"), signed)
    modem = ("MODEMSIM-REVISION:%s\n" % revision).encode() + bytes(range(256)) * 300
    boot = bytes((i * 3) & 0xFF for i in range(20000))
    for name, data in (("modem.img", modem), ("sbl1.mbn", boot)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    raw = "rawprogram_nand_p4K_b256K.xml" if nand else "rawprogram0.xml"
    with open(os.path.join(d, raw), "w") as f:
        f.write('<?xml version="1.0" ?>\n<data>\n'
                '  <!--NOTE: generated for modemkit tests-->\n'
                '  <program SECTOR_SIZE_IN_BYTES="4096" file_sector_offset="0" '
                'filename="sbl1.mbn" label="sbl" num_partition_sectors="64" '
                'physical_partition_number="0" start_sector="0"/>\n'
                '  <program SECTOR_SIZE_IN_BYTES="4096" filename="" label="efs2" '
                'num_partition_sectors="128" physical_partition_number="0" '
                'start_sector="64"/>\n'
                '  <program SECTOR_SIZE_IN_BYTES="4096" filename="modem.img" label="modem" '
                'num_partition_sectors="2048" physical_partition_number="0" '
                'start_sector="192"/>\n'
                '</data>\n')
    with open(os.path.join(d, "patch_p4K_b256K.xml"), "w") as f:
        f.write('<?xml version="1.0" ?>\n<patches>\n'
                '  <patch SECTOR_SIZE_IN_BYTES="4096" byte_offset="16" filename="DISK" '
                'physical_partition_number="0" size_in_bytes="4" start_sector="0" '
                'value="0" what="zero the CRC"/>\n'
                '  <patch SECTOR_SIZE_IN_BYTES="4096" byte_offset="16" filename="gpt.bin" '
                'physical_partition_number="0" size_in_bytes="4" start_sector="0" '
                'value="0" what="host file: not sent"/>\n'
                '</patches>\n')
    return d


class Workdir:
    def __init__(self, tag):
        self.path = tempfile.mkdtemp(prefix="modemkit-flash-%s-" % tag)

    def __enter__(self):
        return self.path

    def __exit__(self, *a):
        shutil.rmtree(self.path, ignore_errors=True)
