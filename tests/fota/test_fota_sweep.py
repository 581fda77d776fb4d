#!/usr/bin/env python3
"""Power-cut sweep over a whole update (the MCUboot "count, then cut everywhere" method,
ota-and-fleet.md §2.1 and §2.7, applied to a module updated over AT).

For each profile (SIM7000G: AT+CFSWFILE + AT+CFOTA; SIM7600SA: AT+CFTRANRX + AT+CDELTA):
1. an uninterrupted reference update counts the AT command lines the module receives
   (modemsim's persisted counters) and the delta's chunks;
2. the cut points are: every AT command line (the module loses power when the line
   arrives, before it runs it), the middle of every chunk of file data, and every 10 % of
   the module's own update;
3. for each cut point a fresh module updates with `modemctl fota apply`, power is cut at
   that point, and `fota apply --resume` is run until it succeeds (at most 4 runs).
Every run must end with the module on the target revision, the journal saying success,
and the apply command (AT+CFOTA=1 / AT+CDELTA) received by the module exactly once.

By default a bounded sample spread over every phase is tried (FOTA_SWEEP_SAMPLE, default
10, split over the profiles); --full tries every point (ctest label slow, with
--full-unless-sampled: bounded when FOTA_SWEEP_SAMPLE is set, as in scripts/test.sh). The
output says how many cut points were tried and how each one ended.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import fotatest as ft  # noqa: E402

SETUP = {
    # profile: (delta payload bytes, modemctl fota apply options)
    "SIM7000G": (25000, []),
    "SIM7600SA": (25000, ["--chunk-size", "8192"]),
}


def chunks(total, size):
    out, off = [], 0
    while off < total:
        n = min(size, total - off)
        out.append((off, n))
        off += n
    return out


def one_run(profile, pkg, fault, extra):
    """An update with the fault; returns (outcome, detail)."""
    s = ft.Scratch("sweep")
    try:
        sim = ft.Sim(s, profile, ["--fault", fault] if fault else [])
        jdir = s.path("journal")
        try:
            runs = ft.apply_until_done(sim, pkg, jdir, extra=extra, tries=4)
        finally:
            sim.stop()
        rc = runs[-1][0]
        target = ft.PROFILES[profile][2]
        rev = sim.revision(ft.PROFILES[profile][1])
        applies = sim.applies()
        j = ft.journal(jdir) if os.path.isdir(jdir) and os.listdir(jdir) else {}
        stats = sim.stats()
        problems = []
        if rc != 0:
            problems.append("last run exit %d: %s" % (rc, (runs[-1][2] or "").strip()[-300:]))
        if rev != target:
            problems.append("module on %s" % rev)
        if applies != 1:
            problems.append("apply command received %d times" % applies)
        if not (j.get("final") and j.get("result") == 1):
            problems.append("journal result %s final %s" % (j.get("result"), j.get("final")))
        if problems:
            return "FAIL", "; ".join(problems)
        return ("ok" if len(runs) == 1 else "ok after %d runs" % len(runs)), stats
    finally:
        s.close()


def reference(profile, pkg, extra):
    s = ft.Scratch("sweep-ref")
    try:
        sim = ft.Sim(s, profile)
        runs = ft.apply_until_done(sim, pkg, s.path("journal"), extra=extra, tries=1)
        sim.stop()
        assert runs[-1][0] == 0, runs[-1][2]
        return sim.stats()
    finally:
        s.close()


def spread(points, n):
    """n points evenly spread over the list (all when n >= len)."""
    if n >= len(points):
        return list(points)
    step = len(points) / n
    return [points[int(i * step + step / 2)] for i in range(n)]


def sweep(profile, budget, full, scratch):
    size, extra = SETUP[profile]
    delta = ft.make_delta(scratch, profile, size, name="%s.bin" % profile)
    pkg = ft.pack(scratch, profile, delta)
    ref = reference(profile, pkg, extra)
    delta_len = size + 256
    chunk = 8192 if "--chunk-size" in extra else 10240
    steps = [("step", k) for k in range(1, ref["steps"] + 1)]
    data = [("data", off + n // 2) for off, n in chunks(delta_len, chunk)]
    update = [("update", p) for p in range(10, 100, 10)]
    if full:
        points = steps + data + update
    else:
        # every phase gets its share: commands (identify, checks, transfer, apply,
        # verify), file data, the module's own update
        n_data = max(1, budget // 4)
        n_update = max(1, budget // 4)
        n_steps = max(1, budget - n_data - n_update)
        points = spread(steps, n_steps) + spread(data, n_data) + spread(update, n_update)
    print("%s: reference update: %d AT command lines, %d chunks of file data; trying %d cut "
          "points" % (profile, ref["steps"], len(data), len(points)), flush=True)
    outcomes = {}
    failures = []
    for kind, value in points:
        fault = "power-cut@%s%d" % (kind, value)
        t0 = time.monotonic()
        outcome, detail = one_run(profile, pkg, fault, extra)
        key = outcome
        if outcome != "FAIL" and kind == "step" and value > detail.get("steps", 0):
            key = "ok (cut point not reached)"
        outcomes[key] = outcomes.get(key, 0) + 1
        print("  %-22s %-28s %.1f s%s" % (fault, key, time.monotonic() - t0,
                                         "" if outcome != "FAIL" else "  " + detail), flush=True)
        if outcome == "FAIL":
            failures.append((fault, detail))
    return len(points), outcomes, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="every cut point")
    ap.add_argument("--full-unless-sampled", action="store_true",
                    help="every cut point unless FOTA_SWEEP_SAMPLE is set")
    ap.add_argument("--sample", type=int,
                    default=int(os.environ.get("FOTA_SWEEP_SAMPLE", "10")),
                    help="cut points in the bounded run, over all profiles")
    ap.add_argument("--profile", action="append", choices=sorted(SETUP))
    args = ap.parse_args()
    if args.full_unless_sampled and "FOTA_SWEEP_SAMPLE" not in os.environ:
        args.full = True
    profiles = args.profile or sorted(SETUP)
    scratch = ft.Scratch("sweep-pkg")
    total, all_outcomes, all_failures = 0, {}, []
    try:
        for i, p in enumerate(profiles):
            budget = args.sample // len(profiles) + (1 if i < args.sample % len(profiles) else 0)
            n, outcomes, failures = sweep(p, budget, args.full, scratch)
            total += n
            for k, v in outcomes.items():
                all_outcomes[k] = all_outcomes.get(k, 0) + v
            all_failures += [(p, f, d) for f, d in failures]
    finally:
        scratch.close()
    print("power-cut sweep: %d cut points tried: %s" % (
        total, ", ".join("%s %d" % (k, v) for k, v in sorted(all_outcomes.items()))))
    for p, f, d in all_failures:
        print("FAILED %s %s: %s" % (p, f, d))
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main())
