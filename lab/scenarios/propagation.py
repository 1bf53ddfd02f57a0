#!/usr/bin/python3
"""Propagation: how long a change made at the hidden primary takes to be
answered by every PoP.

Needs a topology with a [primary] (the world has one). The scenario
changes the zone N times at the primary, one change at a time: it rewrites
the primary's copy of the zone file with the serial one higher and one
record changed (`propagation.ZONE TXT "change I serial S"`), then runs
`anydnsc reload` there. The primary journals the difference, serves it and
sends NOTIFY to every PoP's management address; each PoP asks for IXFR and
serves the new version. From the primary's namespace, one watcher per PoP
(and one for the primary itself) asks that server's management address
for the SOA every 2 ms, so the time from just before the file is written
to the first answer with the new serial is known to a few milliseconds.
A change has arrived when every PoP answers its serial.

With --restart (the default), one PoP's anydnsd is then stopped by its PID
(SIGTERM: it drains and withdraws first), the primary makes a change while
it is down, and it is started again: it must answer at once from its
stored copy, catch up, and be announced again.

    lab/anydns-lab scenario propagation [--changes 50] [--no-restart] [--pop POP]
"""

import json
import math
import os
import random
import re
import signal
import statistics
import sys
import time

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from anydnslab import scenario  # noqa: E402
from anydnslab.lab import LabError  # noqa: E402
from anydnslab.soapoll import SerialWatch  # noqa: E402

# The bar a change must meet to every PoP (bench/propagation.py prints it).
BAR_MEDIAN_MS = 100
BAR_WORST_MS = 1000
CHANGE_NAME = "propagation"


def soa_serial_span(text):
    """(start, end) of the SOA serial in a master file's text: the third
    field after the first `SOA` token, parentheses, comments and quoted
    strings understood (RFC 1035 section 5.1). None when there is none."""
    tokens = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == ";":
            while i < n and text[i] != "\n":
                i += 1
        elif c.isspace() or c in "()":
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            tokens.append((i, j + 1))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '();"':
                j += 2 if text[j] == "\\" else 1
            tokens.append((i, j))
            i = j
    for k, (a, b) in enumerate(tokens):
        if text[a:b].upper() == "SOA" and k + 3 < len(tokens):
            a3, b3 = tokens[k + 3]
            if text[a3:b3].isdigit():
                return a3, b3
            return None
    return None


def zone_text(base, span, serial, apex, i):
    """The base zone with the given serial and the change record."""
    text = base[:span[0]] + str(serial) + base[span[1]:]
    if not text.endswith("\n"):
        text += "\n"
    return text + ('; written by the propagation scenario\n'
                   '%s.%s. 300 IN TXT "change %d serial %d"\n' % (CHANGE_NAME, apex, i, serial))


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def percentile(values, p):
    """Nearest rank."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "p90": percentile(values, 90),
            "worst": max(values), "best": min(values), "n": len(values)}


def fmt(v):
    return "-" if v is None else "%.1f ms" % v


def run(lab, changes=50, restart=True, pop=None, gap=0.15, timeout=5.0, seed=None,
        interval=0.002):
    topo = lab.topo
    if not topo.primary:
        raise LabError("topology %s has no [primary]: the PoPs read the zone files "
                       "themselves (docs/lab.md, Writing a topology)" % topo.name)
    changes = max(1, min(int(changes), 1000))
    prim = topo.primary.name
    pops = list(topo.pops)
    apex, zfile = topo.zones[0]
    with open(zfile) as f:
        base = f.read()
    span = soa_serial_span(base)
    if span is None:
        raise LabError("%s: no SOA serial found" % zfile)
    seed = seed if seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    zone_path = lab.primary_zone_file(apex)
    rpop = scenario.pick_pop(lab, pop, "propagation-pop") if restart else None
    if rpop:
        scenario.require_announced(lab, rpop)

    res = scenario.Result("propagation", "a change at the hidden primary reaches every PoP")
    res.explain = (
        "%d changes to %s at the primary %s, one at a time (a random %.0f-%.0f ms pause "
        "between them, seed %d): the zone file rewritten with serial + 1 and one TXT "
        "record changed, then `anydnsc reload`. NOTIFY goes to each PoP, which pulls the "
        "change by IXFR. Watchers in %s's namespace ask every server's management address "
        "for the SOA every %g ms; a figure is the time from just before the file is written "
        "to the first answer with the new serial."
        % (changes, apex, prim, gap * 1000 / 3, gap * 1000 * 5 / 3, seed, prim,
           interval * 1000))
    servers = {p: topo.primary.pop_address(p) for p in pops}
    servers[prim] = topo.primary.address(pops[0])
    budget = changes * (timeout + 2 * gap + 0.5) + (90 if restart else 0) + 30
    watch = SerialWatch(lab, prim, servers, apex, interval=interval,
                        max_seconds=min(3600, budget))
    trials, failures = [], 0
    restart_data = None
    last = None                       # (i, serial) of the last change made
    try:
        if not watch.wait(lambda: len({watch.current(h) for h in servers}) == 1
                          and watch.current(prim) is not None, 15, poll=0.05):
            raise LabError("the PoPs do not answer the primary's serial at the start: %s"
                           % ", ".join("%s %s" % (h, watch.current(h)) for h in servers))
        serial0 = watch.current(prim)

        def change(i, serial, hosts):
            """Makes change i; returns its figures (ms from just before
            the write) once every host answers it, or after timeout."""
            t_write = time.monotonic()
            write_atomically(zone_path, zone_text(base, span, serial, apex, i))
            lab.anydnsc(prim, "reload")
            t_reload = time.monotonic()
            watch.wait(lambda: all(watch.first_serial(h, serial, t_write) for h in hosts),
                       timeout)
            at = {h: watch.first_serial(h, serial, t_write) for h in hosts}
            figures = {h: None if t is None else (t - t_write) * 1000 for h, t in at.items()}
            return {"change": i, "serial": serial, "t_write": t_write,
                    "reload_ms": (t_reload - t_write) * 1000, "ms": figures}

        serial = serial0
        for i in range(1, changes + 1):
            serial = (serial + 1) % (1 << 32)
            tr = change(i, serial, list(servers))
            last = (i, serial)
            missing = [h for h, v in tr["ms"].items() if v is None]
            pop_ms = [tr["ms"][p] for p in pops]
            tr["all_ms"] = None if missing else max(pop_ms)
            trials.append(tr)
            if missing:
                failures += 1
                res.fail("change %d (serial %d): %s did not answer it within %g s"
                         % (i, serial, ", ".join(missing), timeout))
                if failures >= 3:
                    res.fail("stopped after 3 changes that did not arrive")
                    break
            time.sleep(rnd.uniform(gap / 3, gap * 5 / 3))

        if restart and failures < 3:
            restart_data = restart_check(lab, watch, rpop, servers, change, last, res)
            last = restart_data["change"]
    finally:
        watch.stop()

    # The record of the last change, at each PoP (not only its serial).
    txt = {}
    if last:
        want = '"change %d serial %d"' % last
        for p in pops:
            out = lab.in_ns(prim, ["kdig", "@" + servers[p], "-p", str(topo.port), "+short",
                                   "+retry=0", "+timeout=2", "%s.%s" % (CHANGE_NAME, apex),
                                   "TXT"], check=False).strip()
            txt[p] = out
            if out != want:
                res.fail("%s answers %s.%s TXT with %r, not %s" % (p, CHANGE_NAME, apex, out, want))

    zones = {h: lab.zones(h).get(apex + ".", {}) for h in pops}
    done = [t for t in trials if t["all_ms"] is not None]
    per_host = {h: stats([t["ms"][h] for t in trials if t["ms"][h] is not None])
                for h in servers}
    overall = stats([t["all_ms"] for t in done])
    reload_st = stats([t["reload_ms"] for t in trials])
    res.headers = ["server", "answers the new serial: median", "p90", "worst",
                   "changes", "transfers", "last transfer"]
    rows = []
    for h in [prim] + pops:
        st = per_host[h]
        z = zones.get(h, {})
        rows.append([h + (" (primary)" if h == prim else ""),
                     fmt(st and st["median"]), fmt(st and st["p90"]), fmt(st and st["worst"]),
                     "%d/%d" % (st["n"] if st else 0, len(trials)),
                     z.get("transfers", "-") if h != prim else "-",
                     (z.get("result", "-")[:60] if h != prim else "-")])
    rows.append(["every PoP", fmt(overall and overall["median"]), fmt(overall and overall["p90"]),
                 fmt(overall and overall["worst"]), "%d/%d" % (len(done), len(trials)), "", ""])
    res.rows = rows
    if reload_st:
        res.notes.append("`anydnsc reload` at the primary returned %s after the write "
                         "(median; worst %s)." % (fmt(reload_st["median"]),
                                                   fmt(reload_st["worst"])))
    bar = None
    if overall:
        bar = {"median_ms": overall["median"], "worst_ms": overall["worst"],
               "median_ok": overall["median"] <= BAR_MEDIAN_MS and len(done) == len(trials),
               "worst_ok": overall["worst"] <= BAR_WORST_MS and len(done) == len(trials)}
        res.summary = ("%d changes to %d PoPs: median %s, p90 %s, worst %s (bar: median "
                       "<= %d ms %s, worst <= %d ms %s)"
                       % (len(trials), len(pops), fmt(overall["median"]), fmt(overall["p90"]),
                          fmt(overall["worst"]), BAR_MEDIAN_MS,
                          "met" if bar["median_ok"] else "MISSED", BAR_WORST_MS,
                          "met" if bar["worst_ok"] else "MISSED"))
    else:
        res.summary = "no change reached every PoP"
    if restart_data:
        r = restart_data
        res.notes.append(
            "restart of %s: stopped (SIGTERM, %.1f s with its drain%s); serial %s made while "
            "it was down; started again: first answer after %s with serial %s%s; serial %s "
            "after %s; announced again after %s."
            % (r["pop"], r["stop_s"], "" if r["exited"] else
               "; it did not exit by itself and was killed", r["serial"],
               fmt(r["first_answer_ms"]),
               r["first_serial"], " (its stored copy)" if r["first_serial"] == r["old_serial"]
               else "", r["serial"], fmt(r["caught_up_ms"]),
               "%.1f s" % r["announced_s"] if r["announced_s"] is not None else "never"))
        if r["stored_log"]:
            res.notes.append("%s's log: %s" % (r["pop"], r["stored_log"]))
    res.data = {"changes": [{k: v for k, v in t.items() if k != "t_write"} for t in trials],
                "per_host": per_host, "all": overall, "reload": reload_st, "bar": bar,
                "restart": restart_data, "txt": txt, "zones": zones, "seed": seed,
                "pops": pops, "primary": prim, "interval_ms": interval * 1000}
    os.makedirs(lab.out_dir, exist_ok=True)
    path = os.path.join(lab.out_dir, "propagation.json")
    with open(path, "w") as f:
        json.dump(res.data, f, indent=1)
    rel = os.path.relpath(path)
    res.notes.append("every figure: %s" % (path if rel.startswith("..") else rel))
    return res


def lab_drain_on_stop(lab, pop):
    """The PoP's bgp.drain-on-stop in seconds, from its written
    configuration (5 s, anydnsd's default, when not set there)."""
    try:
        with open(os.path.join(lab.host_dir(pop), "anydnsd.yaml")) as f:
            m = re.search(r"^\s*drain-on-stop:\s*([0-9]+)(ms|s|m)?\s*$", f.read(), re.M)
    except OSError:
        m = None
    if not m:
        return 5.0
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)]


def restart_check(lab, watch, pop, servers, change, last, res):
    """Stops pop's anydnsd, makes a change while it is down, starts it
    again: it must answer its stored copy at once, catch up, and be
    announced again."""
    old = watch.current(pop)
    i, serial = last[0] + 1, (last[1] + 1) % (1 << 32)
    log_path = os.path.join(lab.log_dir, pop + ".log")
    t0 = time.monotonic()
    # SIGTERM: the PoP drains for bgp.drain-on-stop (5 s by default) and
    # withdraws before it exits; a daemon still there 4 s later is killed.
    exited = lab.stop_anydnsd(pop, signal.SIGTERM, wait=lab_drain_on_stop(lab, pop) + 4)
    stop_s = time.monotonic() - t0
    others = [h for h in servers if h != pop]
    tr = change(i, serial, others)
    if any(v is None for v in tr["ms"].values()):
        res.fail("restart check: change %d did not reach %s" % (i, ", ".join(
            h for h, v in tr["ms"].items() if v is None)))
    log_off = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    t_start = lab.start_anydnsd(pop)
    watch.wait(lambda: watch.first_serial(pop, serial, t_start), 15, poll=0.005)
    caught = watch.first_serial(pop, serial, t_start)
    first = next(((t, s) for t, s, _ in watch.history(pop) if t >= t_start and s != "down"),
                 None)
    deadline, announced = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        nets = lab.networks(pop)
        if nets and all(v["state"] == "announced" for v in nets.values()):
            announced = time.monotonic() - t_start
            break
        time.sleep(0.1)
    stored = ""
    try:
        with open(log_path, errors="replace") as f:
            f.seek(log_off)
            for line in f:
                if "stored copy" in line:
                    stored = line.strip()
                    break
    except OSError:
        pass
    out = {"pop": pop, "stop_s": stop_s, "exited": exited, "old_serial": old, "serial": serial,
           "change": (i, serial),
           "first_answer_ms": None if first is None else (first[0] - t_start) * 1000,
           "first_serial": None if first is None else first[1],
           "caught_up_ms": None if caught is None else (caught - t_start) * 1000,
           "announced_s": announced, "stored_log": stored}
    if first is None:
        res.fail("restart check: %s did not answer after its start" % pop)
    elif first[1] not in (old, serial):
        res.fail("restart check: %s first answered serial %s, neither its stored copy's %s "
                 "nor the primary's %s" % (pop, first[1], old, serial))
    if caught is None:
        res.fail("restart check: %s did not catch up to serial %d within 15 s" % (pop, serial))
    if announced is None:
        res.fail("restart check: %s was not announced again within 30 s" % pop)
    return out


def main(argv=None, lab=None):
    return scenario.main("propagation", __doc__, run, argv, lab, [
        (("--changes",), {"type": int, "default": 50,
                          "help": "changes made at the primary (default 50)"}),
        (("--no-restart",), {"dest": "restart", "action": "store_false",
                             "help": "leave out the restart check"}),
        (("--pop",), {"help": "the PoP the restart check restarts "
                              "(default: the topology's propagation-pop)"}),
        (("--seed",), {"type": int, "help": "seed of the pauses between changes"}),
    ])


if __name__ == "__main__":
    sys.exit(main())
