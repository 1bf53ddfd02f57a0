"""Knot DNS and NSD as transfer partners in system tests, and the kdig
helpers that read zones back from any server.

Each server runs in the foreground on 127.0.0.1 with a free port and every
file of its own (configuration, zone files, databases, run directory,
control socket) in one directory; it is stopped by its PID. The
configurations use only options of knot.conf(5) (Knot DNS 3.2) and
nsd.conf(5) (NSD 4.6).

Zones are described by small dicts:

    {"name": "example.com.",
     "file": "example.com.zone",        # primary: the file, in the directory
     "primaries": [("127.0.0.1", 5300)],  # secondary: where it is pulled from
     "notify": [("127.0.0.1", 5301)],   # secondaries told of changes
     "key": "xfr-key"}                  # TSIG key for all of the above

Keys: [(name, algorithm, base64 secret)].
"""

import base64
import os
import re
import shutil
import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rcode

KNOTD = "/usr/sbin/knotd"
KNOTC = "/usr/sbin/knotc"
NSD = "/usr/sbin/nsd"
NSD_CHECKCONF = "/usr/sbin/nsd-checkconf"
KDIG = "kdig"


def have_knot():
    return all(os.access(p, os.X_OK) for p in (KNOTD, KNOTC)) and shutil.which(KDIG)


def have_nsd():
    return os.access(NSD, os.X_OK) and shutil.which(KDIG) is not None


def wait_for(what, fn, timeout=5.0, interval=0.02):
    """Polls fn() until it returns something true, which is returned;
    fails naming what, with the last value seen."""
    end = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


def make_secret(nbytes=32):
    """A TSIG secret in Base64: tsig-keygen's when there is one, else
    openssl's (both draw from the system's random source)."""
    if shutil.which("tsig-keygen"):
        out = subprocess.run(["tsig-keygen", "-a", "hmac-sha256", "k"],
                             capture_output=True, text=True, check=True).stdout
        return re.search(r'secret "([^"]+)"', out).group(1)
    if shutil.which("openssl"):
        return subprocess.run(["openssl", "rand", "-base64", str(nbytes)],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    return base64.b64encode(os.urandom(nbytes)).decode()


# ---- reading zones back -------------------------------------------------------

def soa_serial(port, zone, addr="127.0.0.1"):
    """The serial a server answers for zone (UDP), None when it answers
    anything else or nothing."""
    q = dns.message.make_query(zone, "SOA")
    try:
        r = dns.query.udp(q, addr, port=port, timeout=0.5)
    except Exception:  # timeout, connection refused: not (yet) serving
        return None
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def kdig_run(*args, timeout=20):
    """kdig's full output (header, records, errors) as text."""
    p = subprocess.run([KDIG, "+time=3", "+retry=0"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def parse_records(text):
    """The records of kdig output, in order, each (name, ttl, class, type,
    rdata) with the rdata as kdig printed it."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        f = line.split(None, 4)
        assert len(f) == 5, "not a record line: %r" % line
        out.append((f[0].lower(), int(f[1]), f[2], f[3], f[4].strip()))
    return out


def xfr(port, zone, kind="AXFR", key=None, addr="127.0.0.1"):
    """The records of a transfer (kind AXFR or IXFR=N) through kdig, in the
    order received; fails on any kdig error."""
    args = ["@" + addr, "-p", str(port), kind, zone, "+nostats"]
    if key is not None:
        args[:0] = ["-y", key]
    code, out = kdig_run(*args)
    assert code == 0 and ";; ERROR" not in out, \
        "kdig %s %s from port %d failed:\n%s" % (kind, zone, port, out)
    recs = parse_records(out)
    # kdig checked the TSIGs of a signed transfer (a bad one is an ERROR);
    # they are not zone data.
    tsigs = [r for r in recs if r[3] == "TSIG"]
    if key is not None:
        assert tsigs, "a transfer signed with %s came back unsigned:\n%s" % (key, out)
    return [r for r in recs if r[3] != "TSIG"]


def axfr_set(port, zone, key=None, addr="127.0.0.1"):
    """An AXFR as a set of records, the SOA once. Fails unless the SOA
    comes first and last and nothing else twice: a set would hide it."""
    recs = xfr(port, zone, "AXFR", key, addr)
    assert len(recs) >= 2 and recs[0] == recs[-1] and recs[0][3] == "SOA", recs[:3]
    body = recs[:-1]
    assert len(set(body)) == len(body), "a record sent twice: %r" % sorted(
        r for r in body if body.count(r) > 1)
    return set(body)


# ---- servers ------------------------------------------------------------------

class Server:
    """One foreground daemon with its files in workdir."""

    name = "server"

    def __init__(self, workdir, port):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.log_path = os.path.join(self.dir, self.name + ".log")
        self.proc = None
        self.log = None

    def command(self):
        raise NotImplementedError

    def ready(self):
        raise NotImplementedError

    def start(self, timeout=10):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.command(), stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        print("%s: pid %d, port %d, dir %s" % (self.name, self.proc.pid,
                                               self.port, self.dir))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %d:\n%s" % (
                    self.name, self.proc.returncode, self.log_text()))
            if self.ready():
                return self
            time.sleep(0.05)
        raise AssertionError("%s did not start:\n%s" % (self.name, self.log_text()))

    def stop(self):
        """SIGTERM to our process (by its PID), SIGKILL if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def serial(self, zone):
        return soa_serial(self.port, zone)

    def axfr(self, zone, key=None):
        return axfr_set(self.port, zone, key)


def _addr(a):
    return "%s@%d" % a


class Knot(Server):
    """knotd -c DIR/knot.conf in the foreground; zones of our own are
    loaded with `zonefile-load: difference` and a journal of changes, so
    that a reload of a changed file is served as IXFR."""

    name = "knotd"

    def __init__(self, workdir, port, zones, keys=()):
        super().__init__(workdir, port)
        self.conf = os.path.join(self.dir, "knot.conf")
        self.sock = os.path.join(self.dir, "run", "knot.sock")
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        lines = ["server:",
                 "    rundir: %s/run" % self.dir,
                 "    pidfile: %s/run/knot.pid" % self.dir,
                 "    listen: 127.0.0.1@%d" % port,
                 "    udp-workers: 1",
                 "    tcp-workers: 1",
                 "    background-workers: 1",
                 "log:",
                 "  - target: stderr",
                 "    any: info",
                 "database:",
                 "    storage: %s/db" % self.dir,
                 "control:",
                 "    listen: %s" % self.sock]
        if keys:
            lines.append("key:")
            for name, alg, secret in keys:
                lines += ["  - id: %s" % name, "    algorithm: %s" % alg,
                          "    secret: %s" % secret]
        remotes, acls = [], []
        for i, z in enumerate(zones):
            key = z.get("key")
            keyline = ["    key: %s" % key] if key else []
            for j, a in enumerate(z.get("primaries", [])):
                remotes.append(["  - id: primary%d_%d" % (i, j),
                                "    address: %s" % _addr(a)] + keyline)
                acls.append(["  - id: notify%d_%d" % (i, j),
                             "    address: %s" % a[0],
                             "    action: notify"] + keyline)
            for j, a in enumerate(z.get("notify", [])):
                remotes.append(["  - id: notify%d_%d" % (i, j),
                                "    address: %s" % _addr(a)] + keyline)
            # Anyone on loopback may transfer: the tests compare AXFRs.
            acls.append(["  - id: transfer%d" % i, "    address: 127.0.0.0/8",
                         "    action: transfer"] + keyline)
        if remotes:
            lines.append("remote:")
            for r in remotes:
                lines += r
        lines.append("acl:")
        for a in acls:
            lines += a
        lines += ["template:",
                  "  - id: default",
                  "    storage: %s" % self.dir,
                  "    journal-content: changes",
                  "    zonefile-load: difference",
                  # Never rewrite our files (tests edit them) nor the
                  # secondaries' copies behind our back.
                  "    zonefile-sync: -1",
                  "    semantic-checks: on",
                  "zone:"]
        for i, z in enumerate(zones):
            lines.append("  - domain: %s" % z["name"])
            if "primaries" in z:
                lines.append("    master: [%s]" % ", ".join(
                    "primary%d_%d" % (i, j) for j in range(len(z["primaries"]))))
                lines.append("    file: %s" % z.get("file", "%s.secondary.zone"
                                                   % z["name"].rstrip(".")))
                lines.append("    zonefile-load: none")
                lines.append("    journal-content: all")
            else:
                lines.append("    file: %s" % z["file"])
            if z.get("notify"):
                lines.append("    notify: [%s]" % ", ".join(
                    "notify%d_%d" % (i, j) for j in range(len(z["notify"]))))
            acl_ids = ["transfer%d" % i] + ["notify%d_%d" % (i, j) for j in
                                            range(len(z.get("primaries", [])))]
            lines.append("    acl: [%s]" % ", ".join(acl_ids))
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def command(self):
        return [KNOTD, "-c", self.conf]

    def ctl(self, *args, check=True):
        p = subprocess.run([KNOTC, "-c", self.conf, "-t", "10"] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check:
            assert p.returncode == 0, "knotc %s: %s%s\n%s" % (
                " ".join(args), p.stdout, p.stderr, self.log_text())
        return p

    def ready(self):
        return os.path.exists(self.sock) and self.ctl("status", check=False).returncode == 0

    def check_conf(self):
        return self.ctl("conf-check", check=False)

    def reload(self, zone):
        return self.ctl("zone-reload", zone)


class Nsd(Server):
    """nsd -d -c DIR/nsd.conf, no database, no privilege drop, no rate
    limit, no remote control; secondary zones only."""

    name = "nsd"

    def __init__(self, workdir, port, zones, keys=()):
        super().__init__(workdir, port)
        self.conf = os.path.join(self.dir, "nsd.conf")
        lines = ["server:",
                 "    ip-address: 127.0.0.1@%d" % port,
                 "    port: %d" % port,
                 "    do-ip6: no",
                 "    server-count: 1",
                 "    username: \"\"",
                 "    chroot: \"\"",
                 "    zonesdir: \"%s\"" % self.dir,
                 "    pidfile: \"%s/nsd.pid\"" % self.dir,
                 "    database: \"\"",
                 "    zonelistfile: \"%s/zone.list\"" % self.dir,
                 "    xfrdfile: \"%s/xfrd.state\"" % self.dir,
                 "    xfrdir: \"%s\"" % self.dir,
                 "    xfrd-reload-timeout: 0",
                 "    zonefiles-write: 0",
                 "    verbosity: 2",
                 "    rrl-ratelimit: 0",
                 "    rrl-whitelist-ratelimit: 0",
                 "remote-control:",
                 "    control-enable: no"]
        for name, alg, secret in keys:
            lines += ["key:", "    name: %s" % name, "    algorithm: %s" % alg,
                      "    secret: \"%s\"" % secret]
        for z in zones:
            key = z.get("key") or "NOKEY"
            lines += ["zone:", "    name: %s" % z["name"],
                      "    zonefile: \"%s\"" % z.get(
                          "file", "%s.secondary.zone" % z["name"].rstrip("."))]
            for a in z.get("primaries", []):
                lines += ["    request-xfr: %s %s" % (_addr(a), key),
                          "    allow-notify: %s %s" % (a[0], key)]
            for a in z.get("notify", []):
                lines.append("    notify: %s %s" % (_addr(a), key))
            lines.append("    provide-xfr: 127.0.0.0/8 %s" % key)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def command(self):
        return [NSD, "-d", "-c", self.conf]

    def check_conf(self):
        return subprocess.run([NSD_CHECKCONF, self.conf], capture_output=True,
                              text=True, timeout=10)

    def ready(self):
        """Answering at all (a zone not transferred yet is SERVFAIL)."""
        q = dns.message.make_query("version.server.", "TXT", rdclass="CH")
        try:
            dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.2)
            return True
        except Exception:
            return False
