#!/usr/bin/python3
"""`make bench-propagation`: how fast a change made at a hidden primary is
answered by every PoP, measured in the anycast lab (docs/lab.md).

It brings up the lab's world topology under a name of its own (namespaces
`adl-propPID-*`, so a lab or demo already running is left alone): three
transit routers (BIRD 2), three PoPs running build/release/bin/anydnsd (or
$ANYDNS_BIN_DIR/anydnsd) as secondaries of example.com, three clients, and
the hidden primary, anydnsd with the zone of its own, joined to each PoP
by a management link that BGP never carries. Then it runs the lab's
`propagation` scenario (lab/scenarios/propagation.py):

  N changes (default 50), one at a time: the primary's zone file is
  rewritten with the serial one higher and one TXT record changed, then
  `anydnsc reload` at the primary. The primary journals the difference,
  serves it and sends NOTIFY to every PoP; each PoP pulls it by IXFR. One
  watcher per PoP, a long-running process in the primary's namespace with
  one UDP socket, asks that PoP's management address for the SOA every
  2 ms. A change's figure is the time from just before the file is written
  (so the reload command's own run is included) to the moment the last
  PoP answers the new serial.

  Then a restart check: one PoP's anydnsd is stopped by its PID (SIGTERM),
  the primary makes a change meanwhile, the PoP is started again; it must
  answer at once from its stored copy and catch up.

Printed: every change's figures, median, p90 and worst, and the bar:
median <= 100 ms and worst <= 1 s to the 3 PoPs, with PASS or FAIL. Exit
status 0 when the bar is met, 1 when not, 2 when the run itself failed.
The lab is brought down at the end whatever happens (Ctrl-C included).

    /usr/bin/python3 bench/propagation.py [--changes 50] [--no-restart]
        [--pop POP] [--seed N] [--keep]

Needs root (network namespaces), BIRD 2 and kdig (scripts/install-deps).
Set PROPAGATION_JSON=file to get every figure as JSON. Standard library
only.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "lab"))

from anydnslab import topology  # noqa: E402
from anydnslab.cli import teardown  # noqa: E402
from anydnslab.lab import Lab, LabError  # noqa: E402
from anydnslab.system import CommandError  # noqa: E402
from scenarios import propagation  # noqa: E402

WORLD = os.path.join(REPO, "lab", "topologies", "world.toml")


class Interrupted(Exception):
    pass


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def fmt(v):
    return "-" if v is None else "%6.1f ms" % v


def print_changes(data):
    pops, prim = data["pops"], data["primary"]
    print("Per change (ms from just before the zone file is written; `reload`: when "
          "`anydnsc reload` returned):")
    print("  %6s  %10s  %9s  %s  %9s  %9s" % ("change", "serial", "reload", "  ".join(
        "%9s" % h for h in [prim] + pops), "all PoPs", "after reload"))
    for c in data["changes"]:
        cells = ["%9s" % ("-" if c["ms"][h] is None else "%.1f" % c["ms"][h])
                 for h in [prim] + pops]
        after = None if c["all_ms"] is None else c["all_ms"] - c["reload_ms"]
        print("  %6d  %10d  %9.1f  %s  %9s  %9s"
              % (c["change"], c["serial"], c["reload_ms"], "  ".join(cells),
                 "-" if c["all_ms"] is None else "%.1f" % c["all_ms"],
                 "-" if after is None else "%.1f" % after))


def summary_line(name, values):
    if not values:
        print("  %-34s -" % name)
        return
    v = sorted(values)
    print("  %-34s median %s  p90 %s  worst %s  best %s  mean %s  (n=%d)"
          % (name, fmt(statistics.median(v)), fmt(propagation.percentile(v, 90)), fmt(v[-1]),
             fmt(v[0]), fmt(statistics.mean(v)), len(v)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=50, help="changes at the primary (default 50)")
    ap.add_argument("--no-restart", dest="restart", action="store_false",
                    help="leave out the restart check")
    ap.add_argument("--pop", help="the PoP the restart check restarts (default pop-us)")
    ap.add_argument("--seed", type=int, help="seed of the pauses between changes")
    ap.add_argument("-t", "--topology", default=WORLD,
                    help="a topology with a [primary] (default: the lab's world)")
    ap.add_argument("--keep", action="store_true", help="keep the logs (printed where)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench-propagation: needs root (network namespaces)", file=sys.stderr)
        return 2
    if not 1 <= a.changes <= 1000:
        ap.error("--changes: 1 to 1000")

    try:
        topo = topology.load(a.topology)
    except topology.TopologyError as e:
        print("bench-propagation: %s" % e, file=sys.stderr)
        return 2
    topo.name = "prop%d" % (os.getpid() % 10000000)
    out = tempfile.mkdtemp(prefix="anydns-propagation-")
    lab = Lab(topo, out_dir=out, say=lambda s: print(s, flush=True))
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    print("== bench-propagation: %d changes, %s; anydnsd from %s; load average %s"
          % (a.changes, os.path.relpath(a.topology, REPO), os.path.relpath(lab.bin_dir, REPO),
             " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
    res, status = None, 2
    try:
        lab.up()
        res = propagation.run(lab, changes=a.changes, restart=a.restart, pop=a.pop, seed=a.seed)
    except (KeyboardInterrupt, Interrupted) as e:
        print("\ninterrupted (%s): bringing the lab down" % (str(e) or "Ctrl-C"), file=sys.stderr)
        status = 130
    except (LabError, CommandError, RuntimeError) as e:
        print("bench-propagation: %s" % e, file=sys.stderr)
        for h in topo.hosts():
            log = os.path.join(lab.log_dir, h + ".log")
            if os.path.exists(log) and topo.kind(h) in ("pop", "primary"):
                with open(log, errors="replace") as f:
                    tail = f.readlines()[-5:]
                print("-- last lines of %s:\n%s" % (log, "".join(tail).rstrip()), file=sys.stderr)
    finally:
        teardown(lab)
    if res is None:
        print("logs kept in %s" % out)
        return status

    d = res.data
    print()
    print_changes(d)
    print()
    # The scenario's JSON lives in the lab's output directory, which goes
    # unless kept: PROPAGATION_JSON is the bench's way to keep the figures.
    res.notes = [n for n in res.notes if not n.startswith("every figure:")]
    print(res.text())
    print()
    print("Summary (ms from just before the zone file is written):")
    done = [c for c in d["changes"] if c["all_ms"] is not None]
    for h in [d["primary"]] + d["pops"]:
        summary_line("%s answers the new serial" % h,
                     [c["ms"][h] for c in d["changes"] if c["ms"][h] is not None])
    summary_line("every PoP answers it", [c["all_ms"] for c in done])
    summary_line("  counted from the reload returning", [c["all_ms"] - c["reload_ms"] for c in done])
    summary_line("`anydnsc reload` returned", [c["reload_ms"] for c in d["changes"]])
    r = d["restart"]
    if r:
        print()
        print("Restart check (%s): stopped by SIGTERM in %.1f s%s; serial %d made while it was "
              "down; after its start: first answer %s with serial %s%s, serial %d %s, "
              "announced again after %s."
              % (r["pop"], r["stop_s"], "" if r["exited"] else
                 " (it did not exit by itself: killed)", r["serial"],
                 fmt(r["first_answer_ms"]).strip(), r["first_serial"],
                 " (its stored copy)" if r["first_serial"] == r["old_serial"] else "",
                 r["serial"], fmt(r["caught_up_ms"]).strip(),
                 "%.1f s" % r["announced_s"] if r["announced_s"] is not None else "never"))
    print()
    n, npops = len(d["changes"]), len(d["pops"])
    all_ms = [c["all_ms"] for c in done]
    checks = [
        ("every change answered by all %d PoPs" % npops, len(done) == n and n == a.changes,
         "%d/%d" % (len(done), a.changes)),
        ("median <= %d ms" % propagation.BAR_MEDIAN_MS,
         bool(all_ms) and statistics.median(all_ms) <= propagation.BAR_MEDIAN_MS,
         fmt(statistics.median(all_ms)).strip() if all_ms else "-"),
        ("worst <= %d ms" % propagation.BAR_WORST_MS,
         bool(all_ms) and max(all_ms) <= propagation.BAR_WORST_MS,
         fmt(max(all_ms)).strip() if all_ms else "-"),
    ]
    print("Bar (a change at the primary answered by every PoP):")
    for name, ok, val in checks:
        print("  %-42s %-10s %s" % (name, val, "PASS" if ok else "FAIL"))
    if r:
        print("  %-42s %-10s %s" % ("restart, last record at every PoP", "",
                                   "PASS" if res.ok else "FAIL"))
    passed = all(ok for _, ok, _ in checks) and res.ok
    print("bar: %s" % ("PASS" if passed else "FAIL"))
    path = os.environ.get("PROPAGATION_JSON")
    if path:
        with open(path, "w") as f:
            json.dump(d, f, indent=1)
        print("every figure as JSON: %s" % path)
    if a.keep or not passed:
        print("logs kept in %s" % out)
    else:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
