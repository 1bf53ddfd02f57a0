"""What every scenario shares: its result (a table for the terminal, an SVG
timeline, data for tests), the command line of a scenario run on its own,
and small waits built on the probers.
"""

import argparse
import os
import sys
import textwrap
import time

from .lab import Lab, LabError
from .report import table, timeline


class Result:
    def __init__(self, name, title):
        self.name = name
        self.title = title
        self.explain = ""
        self.headers = []
        self.rows = []
        self.notes = []
        self.svg = None
        self.ok = True
        self.summary = ""
        self.data = {}

    def fail(self, why):
        self.ok = False
        self.notes.append("NOT AS EXPECTED: " + why)

    def text(self):
        out = ["== %s: %s" % (self.name, self.title)]
        if self.explain:
            out.append(textwrap.fill(self.explain, 78, initial_indent="  ",
                                     subsequent_indent="  "))
        out.append("")
        out.append(table(self.headers, self.rows))
        for n in self.notes:
            out.append("  " + n)
        if self.svg:
            out.append("  timeline: %s" % os.path.relpath(self.svg))
        out.append("  => %s: %s" % ("ok" if self.ok else "FAILED", self.summary))
        return "\n".join(out)


def pick_pop(lab, given, key):
    """The PoP a scenario works on: the one given, else the topology's
    [scenarios] choice, else the first."""
    pop = given or lab.topo.scenarios.get(key) or next(iter(lab.topo.pops))
    if pop not in lab.topo.pops:
        raise LabError("%s is not a PoP (PoPs: %s)" % (pop, ", ".join(lab.topo.pops)))
    return pop


def require_announced(lab, pop):
    if pop in lab.state["failed"] or pop in lab.state["drained"]:
        raise LabError("%s is failed or drained already: run the recovery scenario "
                       "(or anydns-lab restore/undrain %s) first" % (pop, pop))
    deadline = time.monotonic() + 10
    while True:
        nets = lab.networks(pop)
        if nets and all(v["state"] == "announced" for v in nets.values()):
            return
        if time.monotonic() > deadline:
            raise LabError("%s is not announced: %s" % (pop, nets or "anydnsd does not answer"))
        time.sleep(0.2)


def baseline(probes, clients, seconds=1.0):
    """Lets the probers run for `seconds` (at least 50 queries each);
    returns the time it ended."""
    probes.wait_until(lambda: probes.now() >= seconds and all(
        len(probes.series(c).samples) >= 50 for c in clients), seconds + 3)
    return probes.now()


def all_moved(probes, clients, pops, since, hold=30):
    """True once every client in clients is answered by one of pops (a
    function of the client, or a set) for `hold` queries in a row after
    `since`."""
    def check():
        for c in clients:
            want = pops(c) if callable(pops) else pops
            if probes.series(c).first_answer_by(want, since, hold) is None:
                return False
        return True
    return check


def write_timeline(lab, res, rows, events, t_end, subtitle, server=None):
    path = os.path.join(lab.out_dir, "%s.svg" % res.name)
    server = server or lab.topo.service_addresses(4)[0]
    caption = ("Each client sends one query to %s every 10 ms (%s, asking for NSID); the colour "
               "is the PoP that answered, red a query with no answer within 1 s." %
               (server, lab.topo.query_name))
    res.svg = timeline(path, "%s: %s" % (res.name, res.title), subtitle, rows, events,
                       list(lab.topo.pops), t_end, caption)


def main(name, doc, run, argv, lab, options):
    """The command line of a scenario run on its own (`python3
    lab/scenarios/NAME.py` or `anydns-lab scenario NAME`)."""
    ap = argparse.ArgumentParser(prog="anydns-lab scenario " + name,
                                 description=" ".join(doc.strip().split("\n\n")[0].split()))
    if lab is None:
        from .cli import DEFAULT_TOPOLOGY
        ap.add_argument("-t", "--topology", default=DEFAULT_TOPOLOGY)
        ap.add_argument("--bin")
    for args, kw in options:
        ap.add_argument(*args, **kw)
    a = ap.parse_args(argv)
    try:
        if lab is None:
            from .topology import TopologyError, load
            try:
                lab = Lab(load(a.topology), bin_dir=a.bin)
            except TopologyError as e:
                raise LabError(str(e))
        lab.require_up()
        kw = {k: v for k, v in vars(a).items() if k not in ("topology", "bin")}
        res = run(lab, **kw)
    except LabError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 1
    print(res.text())
    return 0 if res.ok else 1
