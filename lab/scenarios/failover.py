#!/usr/bin/python3
"""Failover: the DNS service of one PoP stops answering; its clients must
move to the next PoP.

The failure (`anydns-lab fail POP service`) drops every query to the
service addresses at the PoP, while anydnsd and its BGP sessions keep
running: as when the DNS side of a server hangs. Only anydnsd's health
check can notice. It withdraws the routes, BGP carries the withdrawal to
every router, and the PoP's clients follow the next best path. Every
client queries every 10 ms; a client's outage runs from its first
unanswered query to its next answered one.

The PoP stays failed afterwards (the recovery scenario, or `anydns-lab
restore POP`, brings it back). With --repeat N the PoP is restored and
failed again N times, and the table shows the median and worst outage.

    lab/anydns-lab scenario failover [--pop POP] [--repeat N]
"""

import os
import statistics
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from anydnslab import scenario  # noqa: E402
from anydnslab.probe import ProbeSet  # noqa: E402
from anydnslab.report import ms  # noqa: E402

WHAT = {
    "service": ("%s's DNS service stops answering", "DNS service of %s stops"),
    "host": ("%s's host vanishes (link down, processes killed)", "%s crashes"),
    "link": ("%s's uplinks go down", "%s's links go down"),
}


def outage_run(lab, name, pop, kind, repeat=1, explain=""):
    topo = lab.topo
    repeat = max(1, min(int(repeat), 20))
    scenario.require_announced(lab, pop)
    res = scenario.Result(name, WHAT[kind][0] % pop)
    res.explain = explain
    clients = list(topo.clients)
    # Bounded: each trial waits at most 15 s for the move and 25 s for the
    # return; the probers stop by themselves after that much anyway.
    probes = ProbeSet(lab, clients, max_seconds=min(600, 3 + repeat * 45))
    events, trials = [], []
    try:
        t_base = scenario.baseline(probes, clients)
        before = {c: probes.series(c).main_pop(0, t_base) for c in clients}
        moved = [c for c in clients if before[c] == pop]
        others = set(topo.pops) - {pop}
        for i in range(repeat):
            # From when the failure took effect; queries already on their
            # way a moment before are lost with it too.
            t_fail = lab.fail(pop, kind) - probes.t0
            events.append((t_fail, WHAT[kind][1] % pop, True))
            probes.wait_until(scenario.all_moved(probes, moved, others, t_fail), 15)
            probes.wait_until(lambda: probes.now() >= t_fail + 1.0, 2)
            time.sleep(0.5)
            t_end = probes.now()
            trials.append((t_fail, t_end))
            if i + 1 < repeat:
                t_back = probes.now()
                lab.restore(pop)
                events.append((t_back, "%s restored" % pop, False))
                probes.wait_until(scenario.all_moved(probes, moved, {pop}, t_back), 25)
                time.sleep(0.5)
    except BaseException:
        probes.stop()
        raise
    t_stop = probes.now()
    probes.stop()

    per_client = {}
    for c in clients:
        s = probes.series(c)
        outs, lost = [], 0
        for t_fail, t_end in trials:
            outs.append(s.longest_outage(t_fail - 0.02, t_end)[1])
            lost += s.lost(t_fail - 0.02, t_end)
        t_fail, t_end = trials[-1]
        after = s.main_pop(t_end - 0.3, None)
        per_client[c] = {"before": before[c], "after": after, "lost": lost, "outages": outs}
        if c in moved:
            if after is None:
                res.fail("%s was not answered at all after %s failed" % (c, pop))
            elif after == pop:
                res.fail("%s is still answered by %s" % (c, pop))
        elif after != before[c]:
            res.fail("%s moved from %s to %s though %s was not its PoP" % (c, before[c], after, pop))

    rows, svg_rows = [], []
    for c in clients:
        d = per_client[c]
        outs = d["outages"]
        if repeat == 1:
            rows.append([c, d["before"] or "-", d["after"] or "nobody", d["lost"],
                         ms(outs[0]) if c in moved else "-"])
        else:
            rows.append([c, d["before"] or "-", d["after"] or "nobody", d["lost"],
                         ms(statistics.median(outs)) if c in moved else "-",
                         ms(max(outs)) if c in moved else "-"])
        if c in moved:
            summary = ["%s -> %s" % (d["before"], d["after"] or "nobody"),
                       ("lost %d queries, outage %s" % (d["lost"], ms(outs[0])) if repeat == 1 else
                        "lost %d queries in %d trials" % (d["lost"], repeat))]
            if repeat > 1:
                summary.append("outage median %s, worst %s" % (ms(statistics.median(outs)),
                                                               ms(max(outs))))
        else:
            summary = ["%s all along" % (d["before"] or "-"),
                       "lost %d queries" % d["lost"]]
        svg_rows.append((c, "nearest: %s" % ", ".join(topo.home_pops(c)), probes.series(c), summary))
    if repeat == 1:
        res.headers = ["client", "answered by before", "after", "queries lost", "outage"]
    else:
        res.headers = ["client", "answered by before", "after", "queries lost",
                       "outage median (%d trials)" % repeat, "outage worst"]
    res.rows = rows
    all_outs = [o for c in moved for o in per_client[c]["outages"]]
    res.data = {"pop": pop, "kind": kind, "moved": moved, "clients": per_client,
                "outages": all_outs}
    if all_outs:
        res.summary = ("%s moved off %s; outage median %s, worst %s over %d trial(s)"
                       % (", ".join(moved), pop, ms(statistics.median(all_outs)),
                          ms(max(all_outs)), repeat))
    else:
        res.summary = "no client was answered by %s before it failed" % pop
    res.notes.append("%s stays failed: the recovery scenario (or `anydns-lab restore %s`) "
                     "brings it back." % (pop, pop))
    scenario.write_timeline(lab, res, svg_rows, events, t_stop,
                            "Clients of %s must move to the next PoP; the red gap is the outage."
                            % pop)
    return res


def run(lab, pop=None, repeat=1):
    pop = scenario.pick_pop(lab, pop, "failover-pop")
    return outage_run(lab, "failover", pop, "service", repeat, explain=(
        "%s keeps running, but every query to its anycast addresses is now dropped at the "
        "PoP (as when the DNS side of a server hangs). anydnsd's health check sends a probe "
        "every 100 ms; after 2 failures it withdraws the routes, and BGP moves %s's clients "
        "to the next PoP. Outage: from a client's first unanswered query to its next "
        "answered one." % (pop, pop)))


def main(argv=None, lab=None):
    return scenario.main("failover", __doc__, run, argv, lab, [
        (("--pop",), {"help": "the PoP to fail (default: the topology's failover-pop)"}),
        (("--repeat",), {"type": int, "default": 1,
                         "help": "fail, measure and restore this many times (at most 20)"}),
    ])


if __name__ == "__main__":
    sys.exit(main())
