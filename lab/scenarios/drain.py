#!/usr/bin/python3
"""Drain: planned maintenance of one PoP with `anydnsc drain`; no query
may be lost.

anydnsd announces its routes again with the GRACEFUL_SHUTDOWN community
(65535:0, RFC 8326); the lab's routers give such routes LOCAL_PREF 0, so
they move traffic to the next PoP while the drained one still answers
whatever is in flight. After the network's drain time (5 s by default)
anydnsd withdraws the routes. The PoP stays drained afterwards (the
recovery scenario, or `anydns-lab undrain POP`, brings it back).

    lab/anydns-lab scenario drain [--pop POP]
"""

import os
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from anydnslab import scenario  # noqa: E402
from anydnslab.probe import ProbeSet  # noqa: E402
from anydnslab.report import ms  # noqa: E402


def run(lab, pop=None, timeout=30.0):
    topo = lab.topo
    pop = scenario.pick_pop(lab, pop, "drain-pop")
    scenario.require_announced(lab, pop)
    res = scenario.Result("drain", "%s drained for maintenance" % pop)
    res.explain = (
        "`anydnsc drain` at %s: its routes are announced again with the GRACEFUL_SHUTDOWN "
        "community (65535:0), which the routers rank last, so traffic moves to the next PoP "
        "while %s keeps answering; after the drain time the routes are withdrawn. Every "
        "client queries every 10 ms: none of those queries may be lost." % (pop, pop))
    clients = list(topo.clients)
    probes = ProbeSet(lab, clients, max_seconds=timeout + 10)
    events = []
    try:
        t_base = scenario.baseline(probes, clients)
        before = {c: probes.series(c).main_pop(0, t_base) for c in clients}
        moved = [c for c in clients if before[c] == pop]
        t_drain = probes.now()
        lab.drain(pop)
        events.append((t_drain, "anydnsc drain %s (65535:0)" % pop, False))
        t_withdrawn = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            nets = lab.networks(pop)
            if nets and all(v["state"] == "drained" for v in nets.values()):
                t_withdrawn = probes.now()
                break
            time.sleep(0.1)
        if t_withdrawn is None:
            res.fail("%s did not withdraw its routes within %g s" % (pop, timeout))
        else:
            events.append((t_withdrawn, "routes withdrawn", False))
        # Queries sent after the withdrawal must be answered too.
        time.sleep(1.0)
    except BaseException:
        probes.stop()
        raise
    t_stop = probes.now()
    probes.stop()

    rows, svg_rows, per_client = [], [], {}
    for c in clients:
        s = probes.series(c)
        lost = s.lost(t_drain)
        after = s.main_pop(t_stop - 0.5, None)
        t_move = s.first_answer_by(set(topo.pops) - {pop}, t_drain) if c in moved else None
        per_client[c] = {"before": before[c], "after": after, "lost": lost,
                         "moved_after": None if t_move is None else t_move - t_drain}
        rows.append([c, before[c] or "-", after or "nobody", lost,
                     ms(t_move - t_drain) if t_move is not None else "-"])
        if lost:
            res.fail("%s lost %d queries during the drain" % (c, lost))
        if c in moved and (after is None or after == pop):
            res.fail("%s did not move off %s" % (c, pop))
        svg_rows.append((c, "nearest: %s" % ", ".join(topo.home_pops(c)), s,
                         ["%s -> %s" % (before[c], after) if c in moved else
                          "%s all along" % (before[c] or "-"),
                          "lost %d queries" % lost]))
    res.headers = ["client", "answered by before", "after", "queries lost",
                   "moved after the drain began"]
    res.rows = rows
    total = sum(d["lost"] for d in per_client.values())
    res.data = {"pop": pop, "moved": moved, "clients": per_client, "lost": total}
    res.summary = "%d queries lost; %s moved off %s" % (total, ", ".join(moved) or "nobody", pop)
    res.notes.append("%s stays drained: the recovery scenario (or `anydns-lab undrain %s`) "
                     "brings it back." % (pop, pop))
    scenario.write_timeline(lab, res, svg_rows, events, t_stop,
                            "Clients of %s move before its routes are withdrawn: no red." % pop)
    return res


def main(argv=None, lab=None):
    return scenario.main("drain", __doc__, run, argv, lab, [
        (("--pop",), {"help": "the PoP to drain (default: the topology's drain-pop)"}),
    ])


if __name__ == "__main__":
    sys.exit(main())
