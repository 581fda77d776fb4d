#!/usr/bin/env python3
"""Power cut at any packet of a download-mode flash (modemsim --fault power-cut@pktN).

A reference flash counts the packets one flash takes. Then, for each chosen cut point N,
a fresh module in download mode (TP1 at power-on) loses power at packet N while
`modemctl flash` runs; when power returns the module is wherever the cut left it: in its
old firmware if nothing was written yet, in download mode if the flash was half-written
(the application firmware must not boot from it). Running `modemctl flash` again must
then complete, and the module must boot the new version.

Usage: test_modemctl_flash_sweep.py [POINTS]   POINTS: how many cut points (default 8,
spread evenly) or "all" (every packet; ctest label slow). Also $MK_SWEEP_POINTS.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import flashtest as ft  # noqa: E402

NEW = "00.08.24.02"


def revision(sim):
    rc, out, err = ft.modemctl("--json", "-d", sim.link, "info")
    if rc != 0:
        raise AssertionError("info failed: " + err)
    return ft.json_lines(out)[-1]["revision"]


def flash(sim, spk):
    return ft.modemctl("-d", sim.link, "flash", *ft.FAST, spk)


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MK_SWEEP_POINTS", "8")
    t0 = time.monotonic()
    with ft.Workdir("sweep") as top:
        spk = ft.mkcwe(os.path.join(top, "fw.spk"), firmware=NEW, appl=60000, modm=30000)
        ref = os.path.join(top, "ref")
        os.mkdir(ref)
        sim = ft.Sim(ref).start()
        try:
            sim.tp1_power_cycle()
            rc, out, err = flash(sim, spk)
            assert rc == 0, err
        finally:
            sim.stop()
        total = sim.packets()
        assert total > 5, "reference flash counted %d packets" % total
        if arg == "all":
            points = list(range(1, total + 1))
        else:
            n = max(1, min(int(arg), total))
            points = sorted({1 + (total - 1) * i // max(1, n - 1) for i in range(n)})
        outcome = {"first run failed": 0, "first run completed anyway": 0,
                   "came back in download mode": 0, "came back in old firmware": 0,
                   "recovered": 0}
        failures = []
        for k in points:
            d = os.path.join(top, "cut%d" % k)
            os.mkdir(d)
            sim = ft.Sim(d, "RC7620", ["--fault", "power-cut@pkt%d" % k]).start()
            try:
                sim.tp1_power_cycle()
                rc1, _, err1 = flash(sim, spk)
                outcome["first run failed" if rc1 else "first run completed anyway"] += 1
                if rc1:
                    # where did the module come back? (the cut may also have happened
                    # while it was already resetting)
                    if os.path.exists(os.path.join(sim.state, "dl", "incomplete")):
                        outcome["came back in download mode"] += 1
                    else:
                        outcome["came back in old firmware"] += 1
                    rc2, _, err2 = flash(sim, spk)
                    if rc2 != 0:
                        failures.append("cut at packet %d: second flash exit %d: %s" %
                                        (k, rc2, err2.strip().splitlines()[-1:]))
                        continue
                rev = revision(sim)
                if NEW not in rev:
                    failures.append("cut at packet %d: module runs %s" % (k, rev))
                    continue
                outcome["recovered"] += 1
            finally:
                sim.stop()
                if sim.sanitizer_report():
                    failures.append("modemsim: " + sim.sanitizer_report())
        print("# power-cut sweep: %d packets per flash, %d cut points tried (%s) in %.1f s" %
              (total, len(points), "every packet" if arg == "all" else arg,
               time.monotonic() - t0))
        for k, v in outcome.items():
            print("#   %-28s %d" % (k, v))
        for f in failures:
            print("not ok: " + f)
        if failures or outcome["recovered"] != len(points):
            return 1
        print("ok: after a cut at any of those packets the module was flashed and boots %s" % NEW)
        return 0


if __name__ == "__main__":
    sys.exit(main())
