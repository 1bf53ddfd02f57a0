#!/usr/bin/python3
"""`make bench`: anydnsd, Knot DNS and NSD side by side, in one run.

Every server gets the same generated zone (gen_zone.py) and the same dnsperf
query mix, one DNS worker, and CPU 1 for itself; dnsperf runs on CPU 0. In
each round the servers take turns (the order rotates from round to round),
each through two load modes:

  full   dnsperf sends as fast as it can. On one core dnsperf saturates
         before a fast server does, so qps here mostly measures dnsperf;
         the server's CPU time per answered query is the honest number.
  fixed  a fixed offered load (dnsperf -Q) that every server sustains with
         no loss: ~60% of the slowest server's full-load qps, measured in a
         short calibration first.

For each run the driver reads the server's CPU time (utime + stime of the
process and its children, from /proc/PID/stat) just before and after
dnsperf, and reports qps, latency, lost queries and server CPU-seconds per
million answered queries. At the end it prints per-metric medians with
their spread (min-max over rounds) and the anydns/knot and anydns/nsd
ratios, computed round by round. A second part loads a 1,000,000-record
zone into each server and reports the time from process start to the first
correct answer, and resident memory once answering.

Only 127.0.0.1 is used; every process is stopped by its PID and the
temporary directory removed, whatever happens.

    /usr/bin/python3 bench/run.py [--rounds N] [--seconds S] [--quick]
        [--skip-bigzone] [--servers anydns,knot,nsd] [--rate QPS] ...

Standard library only: Debian's /usr/bin/python3 runs it as it is.
"""

import argparse
import os
import random
import re
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_zone  # noqa: E402  (lives beside this file)

ANYDNSD = os.path.join(REPO, "build/release/bin/anydnsd")
ENGINE_SERVE = os.path.join(REPO, "build/release/bin/anydns-engine-serve")
KNOTD = "/usr/sbin/knotd"
NSD = "/usr/sbin/nsd"
DNSPERF = "/usr/bin/dnsperf"
TASKSET = "/usr/bin/taskset"
ADDR = "127.0.0.1"
ZONE = "example.com."
SERVER_CPU = "1"
CLIENT_CPU = "0"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(Exception):
    pass


def log(msg=""):
    print(msg, flush=True)


# --- a minimal DNS client (RFC 1035 §4.1) for readiness and probes --------

def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def _skip_name(msg, pos):
    while True:
        if pos >= len(msg):
            raise ValueError("name past the end")
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += 1 + n


def dns_query(port, name, qtype, timeout):
    """One UDP query; returns (rcode, aa, [(type, rdata)] of the answer
    section) or None when nothing valid came back in time."""
    qid = random.randrange(0x10000)
    types = {"A": 1, "NS": 2, "SOA": 6}
    pkt = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + \
        _encode_name(name) + struct.pack("!HH", types[qtype], 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(pkt, (ADDR, port))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                return None
            msg = s.recv(65535)
            if len(msg) < 12:
                continue
            rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
            if rid != qid or not flags & 0x8000:
                continue
            try:
                pos = 12
                for _ in range(qd):
                    pos = _skip_name(msg, pos) + 4
                answers = []
                for _ in range(an):
                    pos = _skip_name(msg, pos)
                    rtype, _, _, rdlen = struct.unpack("!HHIH",
                                                       msg[pos:pos + 10])
                    pos += 10
                    answers.append((rtype, msg[pos:pos + rdlen]))
                    pos += rdlen
            except (ValueError, struct.error):
                return None
            return (flags & 0xF, bool(flags & 0x0400), answers)


def answers_soa(port, timeout=0.2):
    r = dns_query(port, ZONE, "SOA", timeout)
    return r is not None and r[0] == 0 and r[1] and \
        any(t == 6 for t, _ in r[2])


def answers_probe(port, timeout=0.01):
    r = dns_query(port, gen_zone.PROBE_NAME, "A", timeout)
    want = socket.inet_aton(gen_zone.PROBE_ADDR)
    return r is not None and r[0] == 0 and r[1] and (1, want) in r[2]


# --- processes: CPU time, memory, affinity ---------------------------------

def descendants(pid):
    """pid and every live process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    """utime + stime of the processes (all their threads), in seconds."""
    ticks = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        ticks += int(fields[11]) + int(fields[12])    # utime, stime
    return ticks / CLK_TCK


def memory_kib(pids):
    """(sum of VmRSS, sum of Pss) in KiB. Pss splits pages shared between
    processes (NSD forks its server and xfrd after loading the zone, so the
    zone is in every process's RSS, but in memory only once)."""
    rss = pss = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def pin(pids, cpu):
    """Pins every thread of every process to `cpu`, and checks it took."""
    for pid in pids:
        subprocess.run([TASKSET, "-a", "-p", "-c", cpu, str(pid)],
                       stdout=subprocess.DEVNULL, check=True)
    for pid in pids:
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    allowed = [ln.split()[1] for ln in f
                               if ln.startswith("Cpus_allowed_list:")]
            except OSError:
                continue
            if allowed and allowed[0] != cpu:
                raise BenchError("thread %s of %d runs on CPUs %s, not %s"
                                 % (tid, pid, allowed[0], cpu))


def free_port():
    """A port free for both UDP and TCP on ADDR."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((ADDR, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((ADDR, port))
                except OSError:
                    continue
        return port
    raise BenchError("no free port")


# --- the servers -------------------------------------------------------------

class Server:
    """One server process in its own directory: config, start, stop."""

    name = "?"

    def __init__(self, workdir, zone_path):
        self.dir = workdir
        self.zone_path = zone_path
        self.proc = None
        self.port = None
        self.known_pids = set()
        self.log_path = os.path.join(workdir, "server.log")

    def argv(self):
        raise NotImplementedError

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        argv = self.argv()
        self.logf = open(self.log_path, "ab")
        self.started = time.monotonic()
        # The server starts on CPU 1 already; threads that set their own
        # affinity (knotd) are pinned again once it answers.
        self.proc = subprocess.Popen([TASKSET, "-c", SERVER_CPU] + argv,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     cwd=self.dir)
        self.known_pids.add(self.proc.pid)

    def pids(self):
        pids = descendants(self.proc.pid)
        self.known_pids.update(pids)
        return pids

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, check, timeout, interval=0.01):
        """Polls `check` every `interval` s; returns seconds since start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise BenchError("%s exited with status %s; log: %s\n%s" % (
                    self.name, self.proc.returncode, self.log_path,
                    self.log_tail()))
            t0 = time.monotonic()
            if check(self.port):
                return time.monotonic() - self.started
            rest = interval - (time.monotonic() - t0)
            if rest > 0:
                time.sleep(rest)
        raise BenchError("%s gave no correct answer within %ds; log:\n%s"
                         % (self.name, timeout, self.log_tail()))

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-15:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.pids()
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            # Children (NSD's xfrd and server) end with their parent; any
            # left over is killed by the PID we saw.
            deadline = time.monotonic() + 5
            for pid in sorted(self.known_pids - {self.proc.pid}):
                while os.path.exists("/proc/%d" % pid) and \
                        time.monotonic() < deadline:
                    time.sleep(0.05)
                if os.path.exists("/proc/%d" % pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        finally:
            self.proc = None
            self.known_pids = set()
            self.logf.close()


class Anydns(Server):
    name = "anydns"
    # YAML lines added to the server: section (--anydns-conf-extra).
    conf_extra = []

    def __init__(self, workdir, zone_path, binary):
        super().__init__(workdir, zone_path)
        self.binary = binary

    def argv(self):
        if os.path.basename(self.binary) == "anydns-engine-serve":
            return [self.binary, "--listen", ADDR, "--port", str(self.port),
                    "--zone", "%s=%s" % (ZONE, self.zone_path)]
        conf = os.path.join(self.dir, "anydnsd.yaml")
        with open(conf, "w") as f:
            f.write("""# written by bench/run.py
server:
  identity: bench
  listen: [%s]
  port: %d
  workers: 1
%scontrol:
  socket: %s
log:
  level: warning
zones:
  - name: %s
    file: %s
""" % (ADDR, self.port,
       "".join("  %s\n" % line for line in self.conf_extra),
       os.path.join(self.dir, "anydnsd.sock"), ZONE, self.zone_path))
        return [self.binary, "-c", conf]


class Knot(Server):
    name = "knot"

    def argv(self):
        conf = os.path.join(self.dir, "knot.conf")
        with open(conf, "w") as f:
            # No mod-rrl anywhere: Knot has no rate limiting unless asked.
            f.write("""# written by bench/run.py
server:
    rundir: "{d}"
    listen: {addr}@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{d}/knot.sock"
database:
    storage: "{d}/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: {zone}
    file: "{zf}"
""".format(d=self.dir, addr=ADDR, port=self.port, zone=ZONE,
           zf=self.zone_path))
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        return [KNOTD, "-c", conf]


class Nsd(Server):
    name = "nsd"

    def argv(self):
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            # Debian's NSD is built with RRL and limits each /24 to 200 q/s
            # by default: rrl-ratelimit 0 turns it off, or dnsperf from
            # 127.0.0.1 would mostly get truncated answers.
            f.write("""# written by bench/run.py
server:
    ip-address: {addr}@{port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{d}"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    pidfile: "{d}/nsd.pid"
    logfile: "{d}/nsd.log"
    verbosity: 0
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    zonefiles-check: no
    zonefiles-write: 0
remote-control:
    control-enable: no
zone:
    name: {zone}
    zonefile: "{zf}"
""".format(d=self.dir, addr=ADDR, port=self.port, zone=ZONE,
           zf=self.zone_path))
        # -d: stay in the foreground, so the PID is the one we started.
        return [NSD, "-d", "-c", conf]


# --- dnsperf -------------------------------------------------------------------

def run_dnsperf(port, queries, seconds, clients, outstanding, rate=None,
                verbose_file=None):
    """Runs dnsperf on CPU 0 and returns its statistics. With
    `verbose_file`, dnsperf -v writes one line per answered query with its
    latency there, and the result carries the 99th percentile."""
    argv = [TASKSET, "-c", CLIENT_CPU, DNSPERF, "-s", ADDR, "-p", str(port),
            "-d", queries, "-l", str(seconds), "-c", str(clients),
            "-q", str(outstanding), "-t", "2"]
    if rate:
        argv += ["-Q", str(rate)]
    if verbose_file:
        argv.append("-v")
    # dnsperf writes into a file, not a pipe: reading a pipe while it runs
    # would put the driver on a CPU during the measurement.
    out_path = verbose_file or os.path.join(tempfile.gettempdir(),
                                            "dnsperf-%d.out" % os.getpid())
    try:
        with open(out_path, "w") as outf:
            r = subprocess.run(argv, stdout=outf, stderr=subprocess.STDOUT,
                               timeout=seconds + 60)
        lats = []
        lines = []
        with open(out_path) as f:
            for line in f:
                if line.startswith("> "):
                    parts = line.split()
                    if len(parts) == 5 and parts[1] != "T":
                        lats.append(float(parts[4]))
                else:
                    lines.append(line)
        out = "".join(lines)
    finally:
        try:
            os.unlink(out_path)
        except OSError:
            pass
    if r.returncode != 0:
        raise BenchError("dnsperf failed (%d):\n%s" % (r.returncode, out))

    def num(pattern):
        m = re.search(pattern, out)
        if not m:
            raise BenchError("dnsperf output lacks %r:\n%s" % (pattern, out))
        return float(m.group(1))
    res = {
        "sent": num(r"Queries sent:\s+(\d+)"),
        "completed": num(r"Queries completed:\s+(\d+)"),
        "lost": num(r"Queries lost:\s+(\d+)"),
        "qps": num(r"Queries per second:\s+([\d.]+)"),
        "lat_avg": num(r"Average Latency \(s\):\s+([\d.]+)"),
        "lat_max": num(r"Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, "
                       r"max ([\d.]+)\)"),
        "lat_sd": num(r"Latency StdDev \(s\):\s+([\d.]+)"),
        "resp_size": num(r"Average packet size:.*response (\d+)"),
        "lat_p99": float("nan"),
    }
    if lats:
        lats.sort()
        res["lat_p99"] = lats[min(len(lats) - 1, int(len(lats) * 0.99))]
    m = re.search(r"Response codes:\s+(.*)", out)
    res["rcodes"] = m.group(1).strip() if m else "?"
    return res


def measure(server, queries, seconds, clients, outstanding, rate=None,
            verbose_file=None):
    pids = server.pids()
    cpu0 = cpu_seconds(pids)
    res = run_dnsperf(server.port, queries, seconds, clients, outstanding,
                      rate, verbose_file)
    cpu1 = cpu_seconds(server.pids())
    if not server.alive():
        raise BenchError("%s died during the run; log:\n%s"
                         % (server.name, server.log_tail()))
    res["cpu"] = cpu1 - cpu0
    res["cpu_per_m"] = (res["cpu"] / res["completed"] * 1e6
                        if res["completed"] else float("nan"))
    return res


# --- output --------------------------------------------------------------------

def fmt_run(rnd, name, mode, r):
    p99 = r["lat_p99"] * 1e3
    return ("round %-2s %-7s %-5s qps %7.0f  latency ms avg %6.3f p99 %6s "
            "max %6.2f  lost %5d  cpu %5.2f s  cpu/M %6.2f s  resp %2.0f B"
            % (rnd, name, mode, r["qps"], r["lat_avg"] * 1e3,
               "%.3f" % p99 if p99 == p99 else "-", r["lat_max"] * 1e3,
               r["lost"], r["cpu"], r["cpu_per_m"], r["resp_size"]))


def spread(values, fmt):
    values = [v for v in values if v == v]
    if not values:
        return "-"
    return (fmt + " [" + fmt + "-" + fmt + "]") % (
        statistics.median(values), min(values), max(values))


def ratio(a, b):
    return a / b if b else float("nan")


# --- the two parts -----------------------------------------------------------

def tool_version(argv, pattern):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    m = re.search(pattern, r.stdout)
    return m.group(1) if m else "?"


def make_servers(names, tmp, zone_path, anydns_bin):
    out = []
    for n in names:
        d = os.path.join(tmp, n)
        if n == "anydns":
            out.append(Anydns(d, zone_path, anydns_bin))
        elif n == "knot":
            out.append(Knot(d, zone_path))
        else:
            out.append(Nsd(d, zone_path))
    return out


def start_ready(server):
    server.start()
    server.wait_ready(answers_soa, 60)
    pin(server.pids(), SERVER_CPU)


def throughput_part(args, tmp, anydns_bin):
    zone_path = os.path.join(tmp, "example.com.zone")
    qfile = os.path.join(tmp, "queries.txt")
    z = gen_zone.build(names=args.names, seed=args.seed)
    gen_zone.write_zone(z, zone_path)
    gen_zone.write_queries(gen_zone.queries(z, 100000, args.seed), qfile)
    log("zone: %d names, %d records; queries: 100000 lines (70%% positive, "
        "10%% NXDOMAIN, 10%% CNAME, 5%% wildcard, 5%% other)"
        % (len(z.taken), z.records))
    servers = make_servers(args.servers, tmp, zone_path, anydns_bin)
    rate = args.rate or calibrate(args, servers, qfile)
    log("fixed offered load: %d qps (dnsperf -Q)" % rate)
    results = run_rounds(args, servers, qfile, rate, tmp)
    print_summary(args, [s.name for s in servers], results)


def calibrate(args, servers, qfile):
    """60% of the slowest server's full-load rate, in thousands."""
    log("\ncalibration: %gs at full load per server" % args.calibrate)
    qps = {}
    for s in servers:
        try:
            start_ready(s)
            r = measure(s, qfile, args.calibrate, args.clients,
                        args.outstanding)
        finally:
            s.stop()
        qps[s.name] = r["qps"]
        log("  %-7s %9.0f qps" % (s.name, r["qps"]))
    return int(min(qps.values()) * 0.6 / 1000) * 1000 or 1000


def run_rounds(args, servers, qfile, rate, tmp):
    """Every server in turn, full then fixed load; returns
    {(round, server, mode): dnsperf result with the server's CPU}."""
    results = {}
    short = []             # fixed-load runs that fell short of the rate
    log("\nround by round (cpu/M = server CPU-seconds per million answered "
        "queries):")
    for rnd in range(args.rounds):
        shift = rnd % len(servers)
        for s in servers[shift:] + servers[:shift]:
            try:
                start_ready(s)
                for mode, qrate in (("full", None), ("fixed", rate)):
                    vfile = None
                    if mode == "fixed" or args.full_p99:
                        vfile = os.path.join(tmp, "dnsperf-verbose.out")
                    r = measure(s, qfile, args.seconds, args.clients,
                                args.outstanding, qrate, vfile)
                    results[(rnd, s.name, mode)] = r
                    line = fmt_run(rnd + 1, s.name, mode, r)
                    if qrate and r["qps"] < 0.97 * qrate:
                        line += "  BELOW THE OFFERED LOAD"
                        short.append("round %d %s" % (rnd + 1, s.name))
                    log(line)
            finally:
                s.stop()

    if short:
        log("\nfixed load not reached in: %s. dnsperf keeps at most %d "
            "queries outstanding, so a server whose latency exceeds %d/rate "
            "(here %.1f ms) is offered less; its fixed-load numbers are at a "
            "lower rate (try --rate or a quieter machine)." % (
                ", ".join(short), args.outstanding, args.outstanding,
                args.outstanding / rate * 1e3))
    return results


def print_summary(args, names, results):
    log("\nresponse codes seen (last round, full load):")
    for n in names:
        log("  %-7s %s" % (n, results[(args.rounds - 1, n, "full")]["rcodes"]))
    rounds = range(args.rounds)
    log("\nsummary over %d rounds: median [min-max]" % args.rounds)
    metrics = (
        ("qps", "%.0f", 1), ("lat_avg", "%.3f", 1e3), ("lat_p99", "%.3f", 1e3),
        ("lat_max", "%.2f", 1e3), ("lost", "%.0f", 1), ("cpu_per_m", "%.2f", 1))
    labels = {"qps": "qps", "lat_avg": "avg latency ms",
              "lat_p99": "p99 latency ms",
              "lat_max": "max latency ms", "lost": "lost queries",
              "cpu_per_m": "CPU-s per M answered"}
    log("%-28s" % "" + "".join("%-28s" % n for n in names))
    for mode in ("full", "fixed"):
        for key, fmt, scale in metrics:
            row = "%-28s" % ("%s %s" % (mode, labels[key]))
            for n in names:
                row += "%-28s" % spread(
                    [results[(r, n, mode)][key] * scale for r in rounds], fmt)
            log(row)

    if "anydns" in names:
        log("\nratios, computed per round, then median [min-max]:")
        log("  qps at full load: higher is better for anydns; CPU per "
            "answered query: lower is better")
        for other in (n for n in names if n != "anydns"):
            for label, mode, key in (
                    ("qps, full load", "full", "qps"),
                    ("CPU-s per M answered, fixed load", "fixed", "cpu_per_m"),
                    ("CPU-s per M answered, full load", "full", "cpu_per_m")):
                vals = [ratio(results[(r, "anydns", mode)][key],
                              results[(r, other, mode)][key]) for r in rounds]
                log("  anydns/%-5s %-34s %s" % (other, label,
                                               spread(vals, "%.2f")))
        log("\nper round, full-load qps anydns vs the others:")
        lower = []
        for r in rounds:
            row = "  round %d:" % (r + 1)
            for n in names:
                row += "  %s %.0f" % (n, results[(r, n, "full")]["qps"])
                if results[(r, n, "full")]["qps"] > \
                        results[(r, "anydns", "full")]["qps"]:
                    lower.append("round %d: %s" % (r + 1, n))
            log(row)
        log("\nissue 3 bar (medians of the per-round ratios):")
        if "knot" in names:
            med = statistics.median(
                ratio(results[(r, "anydns", "fixed")]["cpu_per_m"],
                      results[(r, "knot", "fixed")]["cpu_per_m"])
                for r in rounds)
            log("  CPU per answered query at the fixed load <= 1/1.3 = 0.77 "
                "of knot's: %.2f, %s" % (med, "met" if med <= 1 / 1.3
                                         else "NOT met"))
        log("  full-load qps never lower than knot or nsd in a round: %s"
            % ("met" if not lower else "NOT met (lower than " +
               ", ".join(lower) + ")"))


def bigzone_part(args, tmp, anydns_bin):
    zone_path = os.path.join(tmp, "big.zone")
    t0 = time.monotonic()
    z = gen_zone.build(records=args.bigzone_records, seed=args.seed)
    gen_zone.write_zone(z, zone_path)
    log("\nbig zone: %d records, %d names, %.0f MB, generated in %.1fs"
        % (z.records, len(z.taken), os.path.getsize(zone_path) / 1e6,
           time.monotonic() - t0))
    del z
    log("time from process start to the first correct answer (UDP query "
        "every 10 ms),\nthen resident memory 1 s later (RSS and PSS summed "
        "over the server's processes):")
    servers = make_servers(args.servers, os.path.join(tmp, "big"), zone_path,
                           anydns_bin)
    res = {}
    for rnd in range(args.bigzone_rounds):
        shift = rnd % len(servers)
        for s in servers[shift:] + servers[:shift]:
            try:
                s.start()
                ttfa = s.wait_ready(answers_probe, args.bigzone_timeout)
                time.sleep(1)
                pids = s.pids()
                rss, pss = memory_kib(pids)
            finally:
                s.stop()
            res[(rnd, s.name)] = (ttfa, rss / 1024, pss / 1024)
            log("round %-2d %-7s first answer %7.2f s  RSS %7.1f MiB  "
                "PSS %7.1f MiB  (%d process%s)" % (
                    rnd + 1, s.name, ttfa, rss / 1024, pss / 1024, len(pids),
                    "" if len(pids) == 1 else "es"))
    names = [s.name for s in servers]
    rounds = range(args.bigzone_rounds)
    if "anydns" in names:
        log("big-zone ratios (lower is better for anydns), median [min-max]:")
        for other in (n for n in names if n != "anydns"):
            for i, label in ((0, "time to first answer"), (1, "RSS"),
                             (2, "PSS")):
                vals = [ratio(res[(r, "anydns")][i], res[(r, other)][i])
                        for r in rounds]
                log("  anydns/%-5s %-22s %s" % (other, label,
                                               spread(vals, "%.2f")))
        if "knot" in names:
            log("issue 3 bar (medians of the per-round ratios):")
            for i, label in ((0, "time to first answer"),
                             (1, "resident memory (RSS)")):
                med = statistics.median(
                    ratio(res[(r, "anydns")][i], res[(r, "knot")][i])
                    for r in rounds)
                log("  %s no worse than knot's: %.2f, %s" % (
                    label, med, "met" if med <= 1 else "NOT met"))


def main():
    ap = argparse.ArgumentParser(
        description="anydns vs Knot DNS vs NSD (see bench/README.md)")
    ap.add_argument("--servers", default="anydns,knot,nsd",
                    help="comma-separated subset of anydns,knot,nsd")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20,
                    help="length of each dnsperf run (default 20)")
    ap.add_argument("--calibrate", type=float, default=5,
                    help="length of each calibration run (default 5)")
    ap.add_argument("--rate", type=int,
                    help="fixed offered load in qps (default: 60%% of the "
                         "slowest server's full-load qps)")
    ap.add_argument("--clients", type=int, default=10,
                    help="dnsperf -c (default 10)")
    ap.add_argument("--outstanding", type=int, default=200,
                    help="dnsperf -q (default 200)")
    ap.add_argument("--names", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bigzone-records", type=int, default=1000000)
    ap.add_argument("--bigzone-rounds", type=int, default=3)
    ap.add_argument("--bigzone-timeout", type=int, default=300)
    ap.add_argument("--full-p99", action="store_true",
                    help="also take p99 latency at full load (dnsperf -v, "
                         "which costs dnsperf ~15%% of its rate)")
    ap.add_argument("--skip-bigzone", action="store_true")
    ap.add_argument("--bigzone-only", action="store_true")
    ap.add_argument("--anydns", help="anydns binary (default: "
                    "build/release/bin/anydnsd; anydns-engine-serve is "
                    "accepted as a single-threaded stand-in)")
    ap.add_argument("--anydns-conf-extra", action="append", default=[],
                    metavar="LINE",
                    help="a YAML line added to anydnsd's server: section, "
                         "e.g. 'udp-io: mmsg' (repeatable)")
    ap.add_argument("--quick", action="store_true",
                    help="a one-minute smoke run: 3 rounds of 2 s, "
                         "100,000-record big zone")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (configs, logs)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.calibrate = 2, 1
        args.bigzone_records, args.bigzone_rounds = 100000, 1
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in args.servers:
        if s not in ("anydns", "knot", "nsd"):
            ap.error("unknown server %r" % s)

    anydns_bin = args.anydns or ANYDNSD
    Anydns.conf_extra = args.anydns_conf_extra
    note = ""
    if "anydns" in args.servers and not os.path.exists(anydns_bin):
        if args.anydns is None and os.path.exists(ENGINE_SERVE):
            anydns_bin = ENGINE_SERVE
            note = ("  (STAND-IN: build/release/bin/anydnsd does not exist; "
                    "measuring anydns-engine-serve)")
        else:
            sys.exit("run.py: %s does not exist (make release)" % anydns_bin)
    for tool in (DNSPERF, TASKSET) + ((KNOTD,) if "knot" in args.servers
                                      else ()) + \
            ((NSD,) if "nsd" in args.servers else ()):
        if not os.path.exists(tool):
            sys.exit("run.py: %s is missing (apt-get install dnsperf knot "
                     "nsd util-linux)" % tool)
    if os.cpu_count() < 2:
        sys.exit("run.py: needs 2 CPUs (server on CPU 1, dnsperf on CPU 0)")

    log("anydns benchmark: %s" % ", ".join(args.servers))
    if "anydns" in args.servers:
        log("anydns binary: %s%s" % (os.path.relpath(anydns_bin, REPO), note))
        if args.anydns_conf_extra:
            log("anydns server: section adds: %s"
                % "; ".join(args.anydns_conf_extra))
    log("knotd %s, nsd %s, dnsperf %s" % (
        tool_version([KNOTD, "-V"], r"version (\S+)"),
        tool_version([NSD, "-v"], r"NSD version (\S+)"),
        tool_version([DNSPERF, "-h"], r"Version (\S+)")))
    log("%d rounds x 2 modes x %gs per server; server on CPU %s, dnsperf "
        "(-c %d -q %d) on CPU %s; load avg now %s" % (
            args.rounds, args.seconds, SERVER_CPU, args.clients,
            args.outstanding, CLIENT_CPU,
            " ".join(open("/proc/loadavg").read().split()[:3])))
    # SIGTERM unwinds like an exception, so the finally blocks still stop
    # every server and remove the temporary directory.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    # The driver stays off the server's CPU; it sleeps while dnsperf runs.
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    tmp = tempfile.mkdtemp(prefix="anydns-bench-")
    t0 = time.monotonic()
    try:
        if not args.bigzone_only:
            throughput_part(args, tmp, anydns_bin)
        if not args.skip_bigzone:
            bigzone_part(args, tmp, anydns_bin)
    except BenchError as e:
        log("run.py: %s" % e)
        return 1
    finally:
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    log("\ndone in %.0f s" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
