#!/usr/bin/env python3
"""A scripted AT peer on a pty, for end-to-end tests of modemctl without modemsim.

The peer answers each command line with the reply of the first matching rule. It
starts with echo on (like a module after boot), honours ATE0/ATE1, can interleave a
URC with the reply, and records every line it received so tests can assert what was
sent on the wire.

    peer = ScriptedPeer(rules={"AT+CSQ": "+CSQ: 20,99\r\n\r\nOK"})
    out = peer.run([modemctl, "-d", "{pty}", "at", "AT+CSQ"])
"""
import os
import pty
import select
import subprocess
import termios
import time
import tty


class ScriptedPeer:
    def __init__(self, rules, echo=True, silent=False, urc_after=None):
        self.rules = rules          # {command text: reply text (CRLF framed here)}
        self.echo = echo
        self.silent = silent        # never answer (a dead port)
        self.urc_after = urc_after  # (command, urc text): send urc before that reply
        self.received = []

    def _reply(self, line):
        if line.upper() == "ATE0":
            self.echo = False
            return "OK"
        if line.upper() == "ATE1":
            self.echo = True
            return "OK"
        if line in self.rules:
            return self.rules[line]
        if line == "AT":
            return "OK"
        return "ERROR"

    def run(self, argv, timeout=20):
        master, slave = pty.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        argv = [a.replace("{pty}", path) for a in argv]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.05)
                if not r:
                    continue
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                buf += data
                while b"\r" in buf:
                    raw, buf = buf.split(b"\r", 1)
                    if buf.startswith(b"\n"):
                        buf = buf[1:]
                    line = raw.decode("latin-1")
                    self.received.append(line)
                    if self.silent:
                        continue
                    out = b""
                    if self.echo:
                        out += raw + b"\r"
                    if self.urc_after and self.urc_after[0] == line:
                        out += b"\r\n" + self.urc_after[1].encode() + b"\r\n"
                    reply = self._reply(line)
                    out += b"\r\n" + reply.replace("\r\n", "\n").replace("\n", "\r\n").encode() + b"\r\n"
                    os.write(master, out)
            try:
                stdout, stderr = proc.communicate(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
                raise AssertionError("modemctl did not finish in %ss" % timeout)
        finally:
            os.close(master)
            os.close(slave)
        return proc.returncode, stdout.decode(), stderr.decode()
