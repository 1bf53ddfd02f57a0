#!/usr/bin/python3
"""Recovery: every failed PoP is restored and every drained one undrained;
traffic must return to each client's nearest PoP.

A PoP whose DNS service failed is announced again once its health check
passes 3 times in a row and its hold-down (5 s after the failure) is
over; a crashed PoP's anydnsd is started again and announces once its
BGP sessions are up and its checks pass. On a lab where nothing is
broken, the scenario first fails the topology's failover-pop's DNS
service, waits until its clients left, then restores it.

    lab/anydns-lab scenario recovery
"""

import os
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from anydnslab import scenario  # noqa: E402
from anydnslab.probe import ProbeSet  # noqa: E402
from anydnslab.report import ms  # noqa: E402


def _wait_withdrawn(lab, pop, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(v != pop for v in lab.routes().values()):
            return
        time.sleep(0.1)


def run(lab, timeout=30.0):
    topo = lab.topo
    res = scenario.Result("recovery", "traffic returns to every PoP")
    clients = list(topo.clients)
    failed = dict(lab.state["failed"])
    drained = list(lab.state["drained"])
    if not failed and not drained:
        pop = scenario.pick_pop(lab, None, "failover-pop")
        scenario.require_announced(lab, pop)
        lab.fail(pop, "service")
        _wait_withdrawn(lab, pop)
        time.sleep(0.5)
        failed = {pop: ["service"]}
        res.notes.append("nothing was broken: %s's DNS service was failed first" % pop)
    what = ["restore %s (%s)" % (p, ", ".join(k)) for p, k in failed.items()] + \
           ["undrain %s" % p for p in drained]
    res.explain = (
        "The lab undoes what earlier scenarios broke: %s. Each PoP announces its routes again "
        "once its health checks pass (and, after a failure, its 5 s hold-down is over); BGP "
        "brings each client back to its nearest PoP. Moving between two PoPs that both answer "
        "loses nothing." % "; ".join(what))
    probes = ProbeSet(lab, clients, max_seconds=timeout + 10)
    events = []
    try:
        t_base = scenario.baseline(probes, clients)
        before = {c: probes.series(c).main_pop(0, t_base) for c in clients}
        t_r = probes.now()
        for p in failed:
            lab.restore(p)
            events.append((probes.now(), "restore %s" % p, False))
        for p in drained:
            lab.undrain(p)
            events.append((probes.now(), "undrain %s" % p, False))
        home = {c: set(topo.home_pops(c)) for c in clients}
        waiting = [c for c in clients if home[c]]
        probes.wait_until(scenario.all_moved(probes, waiting, lambda c: home[c], t_r), timeout)
        time.sleep(0.5)
    except BaseException:
        probes.stop()
        raise
    t_stop = probes.now()
    probes.stop()

    rows, svg_rows, per_client = [], [], {}
    for c in clients:
        s = probes.series(c)
        after = s.main_pop(t_stop - 0.4, None)
        answered_at_end = bool(s.answered_by(t_stop - 0.4, None))
        back = s.first_answer_by(home[c], t_r) if home[c] else None
        lost = s.lost(t_r)
        per_client[c] = {"before": before[c], "after": after, "lost": lost,
                         "answered_at_end": answered_at_end,
                         "back_after": None if back is None else back - t_r}
        if before[c] in home[c]:
            when = "never left"
        elif back is not None:
            when = ms(back - t_r)
        else:
            when = "not back"
        rows.append([c, before[c] or "nobody", after or "nobody", when, lost])
        if not answered_at_end:
            res.fail("%s is not answered after the recovery" % c)
        elif home[c] and after not in home[c]:
            res.fail("%s is answered by %s, not by its nearest PoP %s"
                     % (c, after, ", ".join(sorted(home[c]))))
        svg_rows.append((c, "nearest: %s" % ", ".join(sorted(home[c])), s,
                         ["%s all along" % after if before[c] == after else
                          "%s -> %s" % (before[c] or "nobody", after or "nobody"),
                          "lost %d queries" % lost]))
    res.headers = ["client", "answered by before", "after", "back home after", "queries lost"]
    res.rows = rows
    res.data = {"clients": per_client, "restored": list(failed), "undrained": drained}
    res.summary = ("every client answered by its nearest PoP again" if res.ok
                   else "not every client is back")
    scenario.write_timeline(lab, res, svg_rows, events, t_stop,
                            "After the restore, every client returns to its own colour.")
    return res


def main(argv=None, lab=None):
    return scenario.main("recovery", __doc__, run, argv, lab, [])


if __name__ == "__main__":
    sys.exit(main())
