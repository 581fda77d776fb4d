#!/usr/bin/env python3
"""The documentation cannot drift from the program:

- every command in `modemctl --help` has its own --help and a man-page section (both come
  from one table, tools/modemctl/*.c), and at least one test that runs it;
- docs/exit-codes.md lists exactly the exit codes `modemctl --help` prints;
- modemsim's man page documents the options of `modemsim --help`.
"""
import glob
import os
import re
import subprocess
import unittest

MODEMCTL = os.environ.get("MODEMCTL", "modemctl")
MODEMSIM = os.environ.get("MODEMSIM", "modemsim")
BUILD = os.environ.get("MK_BUILD_DIR", ".")
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def out(*args):
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def commands():
    text = out(MODEMCTL, "--help")
    block = text.split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    return [re.split(r"\s{2,}", l.strip())[0] for l in block.splitlines() if l.strip()]


class Docs(unittest.TestCase):
    def test_every_command_has_help_and_a_man_section(self):
        man = open(os.path.join(BUILD, "tools", "modemctl", "modemctl.1")).read()
        cmds = commands()
        self.assertGreaterEqual(len(cmds), 18)
        for c in cmds:
            h = out(MODEMCTL, *c.split(), "--help")
            self.assertIn("Usage: modemctl [global options] " + c, h)
            self.assertIn(".SS " + c.replace("-", "\\-") + "\n", man, c)

    def test_every_command_has_a_test(self):
        files = [f for pat in ("tests/**/*.py", "tests/**/*.sh", "tests/**/*.c",
                               "scripts/demo.sh")
                 for f in glob.glob(os.path.join(SRC, pat), recursive=True)
                 if not f.endswith("test_modemctl_docs.py")]
        text = "\n".join(open(f, errors="replace").read() for f in files)
        for c in commands():
            words = c.split()
            # "fota status" as shell words or as Python list items: "fota", "status"
            sep = r"""["'\s,]+"""
            pat = r"\b" + sep.join(re.escape(w) for w in words) + r"\b"
            if len(words) == 1:
                pat = r"""(["'\s])""" + re.escape(words[0]) + r"""(["'\s])"""
            self.assertRegex(text, pat, "no test runs 'modemctl %s'" % c)

    def test_exit_codes_page_matches_help(self):
        text = out(MODEMCTL, "--help")
        helped = re.findall(r"^\s+(\d+)\s+(.+)$", text.split("Exit codes:", 1)[1], re.M)
        page = open(os.path.join(SRC, "docs", "exit-codes.md")).read()
        documented = re.findall(r"^\| (\d+) \| (.+) \|$", page, re.M)
        self.assertEqual(helped, documented)
        self.assertEqual([int(c) for c, _ in helped], sorted(int(c) for c, _ in helped))

    def test_modemsim_man_page(self):
        man_path = os.path.join(BUILD, "sim", "modemsim.1")
        if not os.path.exists(man_path):
            self.skipTest("help2man not installed")
        man = open(man_path).read().replace("\\-", "-")
        opts = set(re.findall(r"^\s+(--[a-z-]+)", out(MODEMSIM, "--help"), re.M))
        self.assertGreater(len(opts), 15)
        for o in opts:
            self.assertIn(o, man)


if __name__ == "__main__":
    unittest.main(verbosity=2)
