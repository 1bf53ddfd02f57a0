#!/usr/bin/python3
"""Catchment: which PoP answers each client, over IPv4 and IPv6.

Every client queries each service address every 10 ms for a second and
reads the answering PoP from NSID. With every PoP healthy, each client
must land on its nearest PoP: the one behind its own router (shortest AS
path). Run it on a lab that is up:

    lab/anydns-lab scenario catchment        or    lab/scenarios/catchment.py
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from anydnslab import scenario  # noqa: E402
from anydnslab.probe import ProbeSet  # noqa: E402


def answered_cell(series):
    by = series.answered_by()
    total = len(series.samples)
    if not by:
        return "nobody"
    parts = sorted(by.items(), key=lambda kv: -kv[1])
    return ", ".join("%s (%d/%d)" % (p, n, total) for p, n in parts)


def run(lab, seconds=1.0):
    topo = lab.topo
    res = scenario.Result("catchment", "which PoP answers each client")
    res.explain = ("Every client sends a query every 10 ms for %g s to each anycast address. "
                   "BGP picks the path: each client should be answered by the PoP behind its "
                   "own router, the shortest AS path." % seconds)
    clients = list(topo.clients)
    servers = topo.service_addresses()
    probes = ProbeSet(lab, clients, servers=servers, max_seconds=seconds + 5)
    try:
        probes.wait_until(lambda: all(len(probes.series(c, s).samples) >= int(seconds * 100)
                                      for c in clients for s in servers), seconds + 4)
    finally:
        probes.stop()
    t_end = probes.now()
    res.headers = ["client", "nearest PoP"] + ["answered on %s" % s for s in servers] + \
                  ["median RTT", "lost"]
    rows, svg_rows, caught = [], [], {}
    for c in clients:
        home = topo.home_pops(c)
        series = [probes.series(c, s) for s in servers]
        lost = sum(s.lost() for s in series)
        rtts = [s.rtt() for s in series if s.rtt() is not None]
        rows.append([c, ", ".join(home) or "-"] + [answered_cell(s) for s in series] +
                    ["%.1f ms" % (sorted(rtts)[len(rtts) // 2]) if rtts else "-", lost])
        caught[c] = {s: ser.answered_by() for s, ser in zip(servers, series)}
        for s, ser in zip(servers, series):
            by = ser.answered_by()
            if not by:
                res.fail("%s got no answer on %s" % (c, s))
            elif home and set(by) - set(home):
                res.fail("%s on %s was answered by %s, not by its nearest PoP %s"
                         % (c, s, ", ".join(sorted(set(by) - set(home))), ", ".join(home)))
            svg_rows.append((c, "%s %s" % ("IPv6" if ":" in s else "IPv4", s), ser,
                             ["answered by %s" % (ser.main_pop() or "nobody"),
                              "lost %d of %d" % (ser.lost(), len(ser.samples))]))
    res.rows = rows
    res.data = {"answered_by": caught, "home": {c: topo.home_pops(c) for c in clients}}
    res.summary = ("every client answered by its nearest PoP" if res.ok else
                   "some clients were not answered by their nearest PoP")
    scenario.write_timeline(lab, res, svg_rows, [], max(t_end, seconds),
                            "Each client queries every anycast address; the colour says "
                            "which PoP answered. Expected: one colour per client, its own region's.",
                            server="each anycast address")
    return res


def main(argv=None, lab=None):
    return scenario.main("catchment", __doc__, run, argv, lab,
                         [(("--seconds",), {"type": float, "default": 1.0,
                                            "help": "how long to probe (default 1)"})])


if __name__ == "__main__":
    sys.exit(main())
