"""The anydns-lab command line: one subcommand per thing a person does to
the lab, and `demo`, which does what `make demo` shows."""

import argparse
import importlib
import os
import signal
import sys
import time

from .lab import LAB_DIR, FAIL_KINDS, Lab, LabError
from .system import CommandError
from .topology import TopologyError, load

DEFAULT_TOPOLOGY = os.path.join(LAB_DIR, "topologies", "world.toml")
SCENARIOS = ["catchment", "failover", "crash", "drain", "recovery", "propagation"]
DEMO = ["catchment", "failover", "drain", "recovery"]


def scenario_module(name):
    if name not in SCENARIOS:
        raise LabError("no scenario %s (scenarios: %s)" % (name, ", ".join(SCENARIOS)))
    if LAB_DIR not in sys.path:
        sys.path.insert(0, LAB_DIR)
    return importlib.import_module("scenarios." + name)


class Interrupted(Exception):
    pass


def _on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def teardown(lab):
    """Brings the lab down with Ctrl-C and SIGTERM ignored, so a second
    interrupt cannot leave half of it behind."""
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        lab.down()
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def demo(lab, args):
    """up, the demo scenarios, down: whatever happens in between, down."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    t0 = time.monotonic()
    results = []
    ok = True
    interrupted = False
    try:
        print("== anydns lab: %s" % lab.topo.path)
        lab.up()
        print()
        for name in DEMO:
            mod = scenario_module(name)
            res = mod.run(lab)
            print(res.text())
            print()
            results.append(res)
            ok = ok and res.ok
    except (KeyboardInterrupt, Interrupted) as e:
        print("\ninterrupted (%s): bringing the lab down" % (str(e) or "Ctrl-C"), file=sys.stderr)
        interrupted = True
    finally:
        teardown(lab)
    if results:
        print()
        print("Summary")
        for r in results:
            print("  %-10s %s  %s" % (r.name, "ok  " if r.ok else "FAIL", r.summary))
        print("Timelines (SVG): %s" % ", ".join(os.path.relpath(r.svg) for r in results if r.svg))
        print("Logs of every router and PoP: %s" % os.path.relpath(lab.log_dir))
    passed = ok and not interrupted and len(results) == len(DEMO)
    print("demo %s in %.0f s" % ("passed" if passed else "interrupted" if interrupted
                                 else "FAILED", time.monotonic() - t0))
    if interrupted:
        return 130
    return 0 if passed else 1


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="anydns-lab",
        description="The anydns anycast lab: routers (BIRD), PoPs (anydnsd) and clients "
                    "in network namespaces on this machine. docs/lab.md explains it.")
    ap.add_argument("-t", "--topology", default=os.environ.get("ANYDNS_LAB_TOPOLOGY", DEFAULT_TOPOLOGY),
                    help="the topology file (default: lab/topologies/world.toml)")
    ap.add_argument("--bin", help="where anydnsd and anydnsc are (default: build/release/bin "
                                  "or $ANYDNS_BIN_DIR)")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    sub.add_parser("up", help="build the lab (after clearing what an earlier run left)")
    sub.add_parser("down", help="stop every process of the lab and delete its namespaces")
    sub.add_parser("status", help="BGP sessions, where each router sends the anycast "
                                  "prefixes, each PoP's state")
    p = sub.add_parser("exec", help="run a command in a host's namespace")
    p.add_argument("host")
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p = sub.add_parser("query", help="ask the anycast address from a host; shows the PoP (NSID)")
    p.add_argument("host")
    p.add_argument("name", nargs="?")
    p.add_argument("type", nargs="?", default="A")
    p.add_argument("--server", help="address to ask (default: the first service address)")
    p = sub.add_parser("fail", help="break a PoP: service (DNS stops answering), "
                                    "link (uplinks down), host (uplinks down, processes killed)")
    p.add_argument("pop")
    p.add_argument("kind", choices=FAIL_KINDS)
    p = sub.add_parser("restore", help="undo every failure of a PoP")
    p.add_argument("pop")
    p = sub.add_parser("drain", help="anydnsc drain at a PoP (graceful shutdown, then withdraw)")
    p.add_argument("pop")
    p = sub.add_parser("undrain", help="anydnsc undrain at a PoP")
    p.add_argument("pop")
    p = sub.add_parser("scenario", help="run a scenario on the running lab: " + ", ".join(SCENARIOS))
    p.add_argument("name", choices=SCENARIOS)
    p.add_argument("options", nargs=argparse.REMAINDER,
                   help="the scenario's own options (anydns-lab scenario NAME --help)")
    sub.add_parser("demo", help="up, " + ", ".join(DEMO) + ", down (what make demo runs)")
    args = ap.parse_args(argv)

    try:
        topo = load(args.topology)
        lab = Lab(topo, bin_dir=args.bin)
        if args.cmd == "up":
            try:
                lab.up()
            except (KeyboardInterrupt, LabError, CommandError):
                teardown(lab)
                raise
        elif args.cmd == "down":
            lab.down()
        elif args.cmd == "status":
            lab.require_up()
            from .status import status
            print(status(lab))
        elif args.cmd == "exec":
            return lab.exec(args.host, args.argv or ["sh"])
        elif args.cmd == "query":
            out, pop = lab.query(args.host, args.name or topo.query_name, args.type, args.server)
            print(out.rstrip())
            print("=> answered by %s" % (pop or "nobody (no NSID in the answer, or no answer)"))
            return 0 if pop else 1
        elif args.cmd == "fail":
            lab.fail(args.pop, args.kind)
            print("%s: %s failed" % (args.pop, args.kind))
        elif args.cmd == "restore":
            undone = lab.restore(args.pop)
            print("%s: restored (%s)" % (args.pop, ", ".join(undone) or "nothing was failed"))
        elif args.cmd == "drain":
            print(lab.drain(args.pop).rstrip())
        elif args.cmd == "undrain":
            print(lab.undrain(args.pop).rstrip())
        elif args.cmd == "scenario":
            return scenario_module(args.name).main(args.options, lab=lab)
        elif args.cmd == "demo":
            return demo(lab, args)
    except (TopologyError, LabError, CommandError) as e:
        print("anydns-lab: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("anydns-lab: interrupted", file=sys.stderr)
        return 130
    return 0
