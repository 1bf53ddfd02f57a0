"""Zone replication between anydnsd and real Knot DNS and NSD.

Every server runs on 127.0.0.1 with a free port (printed, so a failure can
be replayed) and its own temporary directory, and is stopped by its PID at
the end of the test, also on failure (the `servers` fixture); anydnsd must
then exit 0. Zones are read back with kdig (AXFR and IXFR) and compared as
sets of (name, TTL, class, type, RDATA) records, the SOA once. Checked:

1. Knot DNS primary -> anydnsd secondary: a zone of mixed types (TXT with
   spaces, MX, SRV, CAA, NAPTR, TLSA, a wildcard, a delegation with glue
   and DS) arrives whole; a change reloaded at Knot is NOTIFYed and pulled
   by IXFR; `anydnsc zones` and /metrics show the secondary in sync, and
   its stored copy holds the same records.
2. anydnsd primary -> NSD and Knot DNS secondaries: both load the zone
   record for record and follow a change by IXFR.
3. 100 successive changes at an anydnsd primary reach a Knot DNS secondary
   and an anydnsd secondary: the first 50 one at a time (each its own
   IXFR), the last 50 without waiting; the end states are equal.
4. A restarted primary serves IXFR from its journal with the exact
   difference sequences.
5. TSIG (RFC 8945): a Knot DNS secondary with the key follows the zone;
   kdig with the key transfers; a wrong secret is NOTAUTH/BADSIG, an
   unknown key NOTAUTH/BADKEY, an unsigned request NOTAUTH, each logged.

Run as root from the repository root:

    /usr/bin/python3 -m pytest tests/system/test_replication_interop.py

ANYDNS_BIN_DIR=build/asan/bin runs the ASan+UBSan build instead.
"""

import os
import random
import re
import socket
import struct

import dns.message
import dns.rdata
import dns.rdatatype
import dns.rcode
import dns.tsig
import dns.zone
import pytest

from dnsservers import (Knot, Nsd, axfr_set, have_knot, have_nsd, kdig_run,
                        make_secret, parse_records, soa_serial, wait_for, xfr)
from test_daemon import (ANYDNSC, ANYDNSD, UDP_IO_LINE, Daemon, free_port,
                         samples)

ZONE = "example.com."
LOOP = "127.0.0.1"

pytestmark = [
    pytest.mark.skipif(not (os.access(ANYDNSD, os.X_OK) and os.access(ANYDNSC, os.X_OK)),
                       reason="anydnsd and anydnsc not built (make release)"),
    pytest.mark.skipif(not have_knot(), reason="Knot DNS (knot, knot-dnsutils) not installed"),
]

_used_ports = set()


def new_port():
    """A free port no other server of this run was given."""
    while True:
        p = free_port()
        if p not in _used_ports:
            _used_ports.add(p)
            return p


# ---- zones --------------------------------------------------------------------

def soa_rdata(serial):
    return "ns1.example.com. hostmaster.example.com. %d 7200 3600 1209600 300" % serial


def zone_text(serial, records):
    """A master file: SOA refresh 7200 s, so that only NOTIFY makes a
    secondary pull within a test."""
    return ("$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster %d 7200 3600 1209600 300\n"
            % serial) + "".join(r + "\n" for r in records)


def rec(owner, rtype, rdata, ttl=300):
    """A record as kdig prints it."""
    name = ZONE if owner == "@" else "%s.%s" % (owner, ZONE)
    return (name, ttl, "IN", rtype, rdata)


_mtime = [1_700_000_000]


def write_file(path, text):
    """Replaces a file as a deploy tool would (new file, then rename), with
    a modification time of its own, so any reload sees the change."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    _mtime[0] += 10
    os.utime(tmp, (_mtime[0], _mtime[0]))
    os.rename(tmp, path)


# About 50 records of mixed types.
BIG_ZONE = [
    "@ NS ns1",
    "@ NS ns2",
    "@ A 192.0.2.1",
    "@ AAAA 2001:db8::1",
    "@ MX 10 mx1",
    "@ MX 20 mx2",
    "@ MX 30 mail.example.net.",
    '@ TXT "v=spf1 mx -all"',
    '@ CAA 0 issue "letsencrypt.org"',
    '@ CAA 0 iodef "mailto:security@example.com"',
    '@ CAA 128 tbs "critical unknown"',
    "ns1 A 192.0.2.53",
    "ns1 AAAA 2001:db8::53",
    "ns2 A 198.51.100.53",
    "mx1 A 192.0.2.25",
    "mx2 A 192.0.2.26",
    "mail 600 A 192.0.2.27",
    "www CNAME @",
    "ftp CNAME www",
    'txt TXT "hello world" "with  two  spaces" "semi;colon"',
    'txt2 TXT "a \\"quoted\\" word"',
    'long TXT "%s" "%s"' % ("x" * 200, "y y " * 40),
    "_sip._tcp SRV 10 60 5060 sip",
    "_sip._udp SRV 10 60 5060 sip",
    "_xmpp-server._tcp SRV 5 0 5269 xmpp",
    "sip A 192.0.2.60",
    "xmpp AAAA 2001:db8::5269",
    "*.wild A 192.0.2.99",
    '*.wild TXT "wildcard here"',
    "sub NS ns1.sub",
    "sub NS ns2.sub",
    "sub DS 12345 13 2 " + "ab" * 32,
    "ns1.sub A 192.0.2.200",
    "ns1.sub AAAA 2001:db8:53::1",
    "ns2.sub A 192.0.2.201",
    "ptr PTR www",
    'hinfo HINFO "PC" "Linux"',
    'naptr NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .',
    "sshfp SSHFP 1 1 " + "0123456789abcdef0123" * 2,
    "_443._tcp.www TLSA 3 1 1 " + "cd" * 32,
] + ["h%02d A 192.0.2.%d" % (i, 100 + i) for i in range(1, 11)]

# BIG_ZONE changed: two removals, two modifications, three additions.
BIG_ZONE_2 = [r for r in BIG_ZONE if r not in (
    "h03 A 192.0.2.103", "mail 600 A 192.0.2.27",
    'txt TXT "hello world" "with  two  spaces" "semi;colon"')] + [
    "mail 900 A 192.0.2.27",
    'txt TXT "changed  text" "second string"',
    "new A 192.0.2.77",
    "h01 AAAA 2001:db8::101",
    "@ MX 40 mx3.example.net.",
]
# What the change is as records (SOA aside).
BIG_REMOVED = {rec("h03", "A", "192.0.2.103"), rec("mail", "A", "192.0.2.27", 600),
               rec("txt", "TXT", '"hello world" "with  two  spaces" "semi;colon"')}
BIG_ADDED = {rec("mail", "A", "192.0.2.27", 900),
             rec("txt", "TXT", '"changed  text" "second string"'),
             rec("new", "A", "192.0.2.77"), rec("h01", "AAAA", "2001:db8::101"),
             rec("@", "MX", "40 mx3.example.net.")}


def expected_set(serial, records):
    """The records of a master file as kdig prints them (dnspython's
    presentation matches kdig's for the types used with it)."""
    z = dns.zone.from_text(zone_text(serial, records), origin=ZONE, relativize=False)
    return {(name.to_text().lower(), ttl, "IN", dns.rdatatype.to_text(rd.rdtype), rd.to_text())
            for name, ttl, rd in z.iterate_rdatas()}


def as_rdata(records):
    """kdig's records as (name, TTL, dnspython rdata), which compare by
    their wire form whatever text they came from."""
    return {(name, ttl, dns.rdata.from_text(cls, rtype, rdata))
            for name, ttl, cls, rtype, rdata in records}


def ixfr_sequences(records):
    """An IXFR answer (RFC 1995 §4) as (new serial, [(from, to, deleted,
    added)]) with the SOAs inside the deleted and added sets. Fails when
    it is not made of difference sequences (an AXFR-style answer)."""
    assert records and records[0][3] == "SOA", records[:3]
    def serial(soa):
        return int(soa[4].split()[2])

    if len(records) == 1:
        return serial(records[0]), []
    assert records[-1] == records[0], "IXFR does not end with its first SOA"
    body, seqs, i = records[1:-1], [], 0
    while i < len(body):
        assert body[i][3] == "SOA", "not a difference sequence at %d: %r" % (i + 1, body[i])
        old, dels = body[i], {body[i]}
        i += 1
        while i < len(body) and body[i][3] != "SOA":
            dels.add(body[i])
            i += 1
        assert i < len(body), "a deletion sequence without its new SOA"
        new, adds = body[i], {body[i]}
        i += 1
        while i < len(body) and body[i][3] != "SOA":
            adds.add(body[i])
            i += 1
        seqs.append((serial(old), serial(new), dels, adds))
    return serial(records[0]), seqs


def first_response(port, zone, qtype="AXFR", key=None):
    """Sends one transfer request over TCP, signed with key = (name,
    algorithm, secret) when given; returns (RCODE, TSIG error of the
    answer or None). The error answers of RFC 8945 §5.3.2 carry no MAC,
    which dnspython reports as PeerBadSignature/PeerBadKey."""
    q = dns.message.make_query(zone, qtype)
    if key is not None:
        q.use_tsig(dns.tsig.Key(key[0], key[2], key[1]))
    wire = q.to_wire()
    with socket.create_connection((LOOP, port), timeout=3) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            chunk = s.recv(65536)
            assert chunk, "connection closed before a whole answer"
            buf += chunk
    answer = buf[2:2 + struct.unpack("!H", buf[:2])[0]]
    rcode = answer[3] & 0x0F
    tsig_error = None
    try:
        dns.message.from_wire(answer, keyring=q.keyring, request_mac=q.mac)
    except dns.tsig.PeerBadSignature:
        tsig_error = "BADSIG"
    except dns.tsig.PeerBadKey:
        tsig_error = "BADKEY"
    return dns.rcode.to_text(rcode), tsig_error


# ---- anydnsd ------------------------------------------------------------------

class Anydnsd(Daemon):
    """test_daemon's Daemon with a configuration of replication: zones are
    dicts as in dnsservers, plus allow_transfer, transfer_key, notify_key
    and primary_key."""

    def __init__(self, workdir, zones, keys=(), port=None):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or new_port()
        self.http_port = new_port()
        self.sock = os.path.join(self.dir, "run", "anydnsd.sock")
        self.zone_file = os.path.join(self.dir, "example.com.zone")
        self.storage = os.path.join(self.dir, "storage")
        self.log_path = os.path.join(self.dir, "anydnsd.log")
        self.conf = os.path.join(self.dir, "anydnsd.yaml")
        self.proc = None
        self.name = "anydnsd"
        print("anydnsd: port %d, http port %d, dir %s" % (self.port, self.http_port, self.dir))
        def addrs(pairs):
            return "[%s]" % ", ".join('"%s@%d"' % a for a in pairs)

        c = ["server:",
             '  listen: ["127.0.0.1@%d"]' % self.port,
             "  workers: 1",
             UDP_IO_LINE.rstrip("\n"),
             "control:",
             "  socket: %s" % self.sock,
             "log:",
             "  level: info",
             "http:",
             "  listen: 127.0.0.1@%d" % self.http_port,
             "replication:",
             "  storage: %s" % self.storage,
             "  notify-timeout: 500ms",
             "  transfer-timeout: 5s"]
        if keys:
            c.append("  keys:")
            for name, alg, secret in keys:
                c += ["    - name: %s" % name, "      algorithm: %s" % alg,
                      '      secret: "%s"' % secret]
        c.append("zones:")
        for z in zones:
            c.append("  - name: %s" % z["name"])
            if "file" in z:
                c.append("    file: %s" % z["file"])
            if "primaries" in z:
                c.append("    primaries: %s" % addrs(z["primaries"]))
            if "notify" in z:
                c.append("    notify: %s" % addrs(z["notify"]))
            if "allow_transfer" in z:
                c.append("    allow-transfer: [%s]" % ", ".join(
                    '"%s"' % p for p in z["allow_transfer"]))
            for opt in ("transfer_key", "notify_key", "primary_key"):
                if opt in z:
                    c.append("    %s: %s" % (opt.replace("_", "-"), z[opt]))
        with open(self.conf, "w") as f:
            f.write("\n".join(l for l in c if l) + "\n")

    def start(self):
        # A restart writes a new log: what the last run said goes to .1.
        if os.path.exists(self.log_path):
            os.replace(self.log_path, self.log_path + ".1")
        return super().start()

    def publish(self, serial, records):
        write_file(self.zone_file, zone_text(serial, records))

    def reload(self, serial):
        """anydnsc reload, which must say the zone is loaded at serial."""
        r = self.ctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "%s serial=%d state=loaded" % (ZONE, serial) in r.stdout, r.stdout
        return r.stdout

    def serial(self, zone=ZONE):
        return soa_serial(self.port, zone)

    def axfr(self, zone=ZONE, key=None):
        return axfr_set(self.port, zone, key)


@pytest.fixture
def servers():
    """Starts servers and stops each (by PID) when the test ends, in
    reverse order; anydnsd must exit 0 (sanitizer reports included)."""
    started = []

    def start(server, **kw):
        started.append(server)
        server.start(**kw)
        return server

    yield start
    for s in reversed(started):
        s.stop()
    for s in started:
        tail = "".join(s.log_text().splitlines(True)[-40:])
        print("---- %s (%s), last lines of its log:\n%s" % (s.name, s.dir, tail))
    for s in started:
        if isinstance(s, Anydnsd) and s.proc is not None:
            assert s.proc.returncode == 0, "anydnsd exited with %d:\n%s" % (
                s.proc.returncode, s.log_text())


def knot_primary_file(knot):
    return os.path.join(knot.dir, "example.com.zone")


# ---- 1. Knot DNS primary, anydnsd secondary -------------------------------------

def test_knot_primary_anydnsd_secondary(tmp_path, servers):
    s1, s2 = 2024010101, 2024010102
    knot_port = new_port()
    a = Anydnsd(tmp_path / "anydnsd", [{
        "name": ZONE, "primaries": [(LOOP, knot_port)],
        "allow_transfer": ["127.0.0.0/8"]}])
    knot = Knot(tmp_path / "knot", knot_port, [{
        "name": ZONE, "file": "example.com.zone", "notify": [(LOOP, a.port)]}])
    write_file(knot_primary_file(knot), zone_text(s1, BIG_ZONE))
    servers(knot)
    wait_for("Knot serving serial %d" % s1, lambda: knot.serial(ZONE) == s1)
    servers(a)
    wait_for("anydnsd at serial %d" % s1, lambda: a.serial() == s1, timeout=10)

    at_knot = knot.axfr(ZONE)
    assert len(at_knot) == len(BIG_ZONE) + 1
    assert a.axfr() == at_knot

    write_file(knot_primary_file(knot), zone_text(s2, BIG_ZONE_2))
    knot.reload(ZONE)
    wait_for("Knot serving serial %d" % s2, lambda: knot.serial(ZONE) == s2)
    wait_for("anydnsd at serial %d" % s2, lambda: a.serial() == s2, timeout=5)
    at_knot_2 = knot.axfr(ZONE)
    assert at_knot - at_knot_2 == BIG_REMOVED | {rec("@", "SOA", soa_rdata(s1))}
    assert at_knot_2 - at_knot == BIG_ADDED | {rec("@", "SOA", soa_rdata(s2))}
    assert a.axfr() == at_knot_2

    # The change came by IXFR, served by Knot from its journal.
    log = a.log_text()
    assert re.search(r"zone example\.com\.: NOTIFY serial %d: pulling" % s2, log), log
    assert re.search(r"zone example\.com\.: IXFR from 127\.0\.0\.1@%d: serial %d -> %d, "
                     % (knot_port, s1, s2), log), log
    assert re.search(r"\[example\.com\.\] IXFR, outgoing, remote 127\.0\.0\.1@\d+, "
                     r"started, serial %d -> %d" % (s1, s2), knot.log_text())

    zones = a.ctl("zones")
    assert zones.returncode == 0, zones.stderr
    m = re.search(r"^example\.com\. serial=(\d+) state=loaded loaded=\S+ file=(\S+) "
                  r"role=secondary primary-serial=(\d+) lag=(\S+) last-transfer=\S+ "
                  r"transfers=(\d+) failures=(\d+) result=(.*)$", zones.stdout, re.M)
    assert m, zones.stdout
    serial, stored, primary_serial, lag, transfers, failures, result = m.groups()
    assert (int(serial), int(primary_serial), lag, int(transfers), int(failures)) == \
        (s2, s2, "0.0", 2, 0), zones.stdout
    assert result.startswith("IXFR %d -> %d from 127.0.0.1@%d" % (s1, s2, knot_port)), result

    s = samples(a.metrics())
    label = '{zone="example.com."}'
    assert s[("anydns_zone_serial", label)] == s2
    assert s[("anydns_zone_primary_serial", label)] == s2
    assert s[("anydns_zone_lag_seconds", label)] == 0
    assert s[("anydns_zone_transfers_total", label)] >= 2
    assert s[("anydns_zone_transfer_failures_total", label)] == 0
    assert s[("anydns_zone_expired", label)] == 0

    # The stored copy follows (written after each transfer) in
    # replication.storage, which "is created when missing".
    assert stored == os.path.join(a.storage, "example.com.zone"), stored
    wait_for("the stored copy at serial %d" % s2, lambda: os.path.exists(stored) and
             re.search(r"\b%d\b" % s2, open(stored).read()), timeout=3)
    # One record a line, in the generic form of RFC 3597 §5.
    with open(stored) as f:
        lines = [l for l in f.read().splitlines() if l and not l.startswith((";", "$"))]
    assert as_rdata(parse_records("\n".join(lines))) == as_rdata(at_knot_2)


# ---- 2. anydnsd primary, NSD and Knot DNS secondaries ---------------------------

@pytest.mark.skipif(not have_nsd(), reason="NSD not installed")
def test_anydnsd_primary_nsd_and_knot_secondaries(tmp_path, servers):
    s1, s2 = 2024020101, 2024020102
    nsd_port, knot_port = new_port(), new_port()
    a = Anydnsd(tmp_path / "anydnsd", [{
        "name": ZONE, "file": "example.com.zone",
        "notify": [(LOOP, nsd_port), (LOOP, knot_port)],
        "allow_transfer": ["127.0.0.0/8"]}])
    a.publish(s1, BIG_ZONE)
    nsd = Nsd(tmp_path / "nsd", nsd_port, [{"name": ZONE, "primaries": [(LOOP, a.port)]}])
    knot = Knot(tmp_path / "knot", knot_port, [{"name": ZONE, "primaries": [(LOOP, a.port)]}])
    servers(a)
    servers(nsd)
    servers(knot)
    for sec in (nsd, knot):
        wait_for("%s at serial %d" % (sec.name, s1), lambda: sec.serial(ZONE) == s1, timeout=10)

    ours = a.axfr()
    assert len(ours) == len(BIG_ZONE) + 1
    assert nsd.axfr(ZONE) == ours
    assert knot.axfr(ZONE) == ours

    a.publish(s2, BIG_ZONE_2)
    a.reload(s2)
    for sec in (nsd, knot):
        wait_for("%s at serial %d" % (sec.name, s2), lambda: sec.serial(ZONE) == s2, timeout=5)
    ours_2 = a.axfr()
    assert ours - ours_2 == BIG_REMOVED | {rec("@", "SOA", soa_rdata(s1))}
    assert ours_2 - ours == BIG_ADDED | {rec("@", "SOA", soa_rdata(s2))}
    assert nsd.axfr(ZONE) == ours_2
    assert knot.axfr(ZONE) == ours_2

    # Both secondaries asked for the difference and got it: one IXFR each
    # from serial s1 (NSD does not log the kind, Knot does).
    served = re.findall(r"zone example\.com\.: IXFR to 127\.0\.0\.1#\d+ from serial %d "
                        r"\(1 changes\)" % s1, a.log_text())
    assert len(served) == 2, a.log_text()
    assert "AXFR-style" not in a.log_text()
    assert re.search(r"\[example\.com\.\] IXFR, incoming, remote 127\.0\.0\.1@%d, finished"
                     % a.port, knot.log_text()), knot.log_text()
    assert "zone example.com. serial %d is updated to %d" % (s1, s2) in nsd.log_text()


# ---- 3. a chain of 100 changes ---------------------------------------------------

class ChangingZone:
    """A zone changed at random (seeded): records added, removed, their
    data or TTL changed, members of one RRset added and removed."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n = 0
        self.records = {}     # id (owner c<id>) -> (data number, type, TTL)
        self.pool = set()     # members of the "pool" A RRset
        for _ in range(20):
            self.add()
        for i in range(1, 4):
            self.pool.add(i)

    def fresh(self):
        self.n += 1
        return self.n

    def line(self, owner, kind, k, ttl=300):
        data = {"A": "198.51.100.%d" % (k % 250 + 1),
                "AAAA": "2001:db8::%x" % k,
                "TXT": '"change %d with  spaces"' % k,
                "MX": "%d mx%d.example.net." % (k % 100, k)}[kind]
        return "%s %d %s %s" % (owner, ttl, kind, data)

    def add(self):
        k = self.fresh()
        self.records[k] = (k, self.rng.choice(["A", "AAAA", "TXT", "MX"]), 300)

    def remove(self):
        del self.records[self.rng.choice(sorted(self.records))]

    def modify(self):
        k = self.rng.choice(sorted(self.records))
        data, kind, ttl = self.records[k]
        if self.rng.random() < 0.3:
            self.records[k] = (data, kind, ttl + 60)
        else:
            self.records[k] = (self.fresh(), kind, ttl)

    def pool_change(self):
        if len(self.pool) > 1 and self.rng.random() < 0.5:
            self.pool.discard(self.rng.choice(sorted(self.pool)))
        else:
            m = self.fresh() % 250 + 1
            while m in self.pool:
                m = m % 250 + 1
            self.pool.add(m)

    def step(self):
        ops = self.rng.choice([["add"], ["remove"], ["modify"], ["pool_change"],
                               ["add", "remove", "modify"], ["add", "add"]])
        if len(self.records) < 5:
            ops = ["add"]
        for op in ops:
            getattr(self, op)()

    def lines(self):
        out = ["@ NS ns1", "ns1 A 192.0.2.53"]
        for k, (data, kind, ttl) in sorted(self.records.items()):
            out.append(self.line("c%d" % k, kind, data, ttl))
        out += ["pool A 203.0.113.%d" % m for m in sorted(self.pool)]
        return out


@pytest.mark.parametrize("secondary", ["knot", "anydnsd"])
def test_chain_of_100_changes(tmp_path, servers, secondary):
    base = 1000
    sec_port = new_port()
    p = Anydnsd(tmp_path / "primary", [{
        "name": ZONE, "file": "example.com.zone", "notify": [(LOOP, sec_port)],
        "allow_transfer": ["127.0.0.0/8"]}])
    if secondary == "knot":
        sec = Knot(tmp_path / "knot", sec_port, [{"name": ZONE, "primaries": [(LOOP, p.port)]}])
    else:
        sec = Anydnsd(tmp_path / "secondary", [{
            "name": ZONE, "primaries": [(LOOP, p.port)],
            "allow_transfer": ["127.0.0.0/8"]}], port=sec_port)
    z = ChangingZone(seed=1995)
    p.publish(base, z.lines())
    servers(p)
    servers(sec)
    wait_for("%s at serial %d" % (sec.name, base), lambda: sec.serial(ZONE) == base, timeout=10)

    previous = z.lines()
    for step in range(1, 101):
        z.step()
        assert z.lines() != previous, "step %d changed nothing" % step
        previous = z.lines()
        p.publish(base + step, previous)
        p.reload(base + step)
        # The first half one change at a time: each arrives before the
        # next is made; the second half as fast as reloads go.
        if step <= 50:
            wait_for("%s at serial %d" % (sec.name, base + step),
                     lambda: sec.serial(ZONE) == base + step, timeout=5, interval=0.01)
    final = base + 100
    wait_for("%s at serial %d" % (sec.name, final), lambda: sec.serial(ZONE) == final,
             timeout=10)

    expected = expected_set(final, z.lines())
    assert p.axfr() == expected
    assert sec.axfr(ZONE) == expected

    # Each of the first 50 changes went as an IXFR of that one change.
    served = re.findall(r"zone example\.com\.: IXFR to 127\.0\.0\.1#\d+ from serial (\d+) "
                        r"\((\d+) changes", p.log_text())
    singles = {int(f) for f, n in served if n == "1"}
    missing = sorted(set(range(base, base + 50)) - singles)
    assert not missing, "no single-change IXFR from serials %s:\n%s" % (missing, p.log_text())
    assert "AXFR-style" not in p.log_text()
    if secondary == "anydnsd":
        pulled = re.findall(r"zone example\.com\.: IXFR from 127\.0\.0\.1@%d: serial (\d+) -> (\d+)"
                            % p.port, sec.log_text())
        assert {(base + i - 1, base + i) for i in range(1, 51)} <= \
            {(int(f), int(t)) for f, t in pulled}
        zones = sec.ctl("zones").stdout
        assert re.search(r"^example\.com\. serial=%d state=loaded .* role=secondary "
                         r"primary-serial=%d lag=0\.0 .* failures=0 " % (final, final),
                         zones, re.M), zones
    else:
        incoming = re.findall(r"\[example\.com\.\] IXFR, incoming, remote 127\.0\.0\.1@%d, "
                              r"finished" % p.port, sec.log_text())
        assert len(incoming) >= 50


# ---- 4. IXFR from the journal after a restart -----------------------------------

RESTART_R1 = ["@ NS ns1", "ns1 A 192.0.2.53", "old A 192.0.2.100", 'txt TXT "one"']
RESTART_R2 = RESTART_R1 + ["a2 A 192.0.2.2"]
RESTART_R3 = [r for r in RESTART_R2 if r not in ("old A 192.0.2.100", 'txt TXT "one"')] + \
    ['txt TXT "two words"']
RESTART_R4 = [r for r in RESTART_R3 if r != "a2 A 192.0.2.2"] + ["a4 AAAA 2001:db8::4"]
SOA = {n: rec("@", "SOA", soa_rdata(n)) for n in range(1, 5)}
RESTART_DIFFS = [
    (1, 2, {SOA[1]}, {SOA[2], rec("a2", "A", "192.0.2.2")}),
    (2, 3, {SOA[2], rec("old", "A", "192.0.2.100"), rec("txt", "TXT", '"one"')},
     {SOA[3], rec("txt", "TXT", '"two words"')}),
    (3, 4, {SOA[3], rec("a2", "A", "192.0.2.2")}, {SOA[4], rec("a4", "AAAA", "2001:db8::4")}),
]


def test_restarted_primary_serves_ixfr_from_journal(tmp_path, servers):
    a = Anydnsd(tmp_path / "anydnsd", [{
        "name": ZONE, "file": "example.com.zone", "allow_transfer": ["127.0.0.0/8"]}])
    a.publish(1, RESTART_R1)
    servers(a)
    for serial, records in ((2, RESTART_R2), (3, RESTART_R3), (4, RESTART_R4)):
        a.publish(serial, records)
        a.reload(serial)
    assert ixfr_sequences(xfr(a.port, ZONE, "IXFR=2")) == (4, RESTART_DIFFS[1:])

    a.stop()
    assert a.proc.returncode == 0, a.log_text()
    a.start()
    assert a.serial() == 4
    # The file did not change: the journal is the history.
    assert ixfr_sequences(xfr(a.port, ZONE, "IXFR=2")) == (4, RESTART_DIFFS[1:])
    assert ixfr_sequences(xfr(a.port, ZONE, "IXFR=1")) == (4, RESTART_DIFFS)
    # Up to date: our SOA alone.
    assert xfr(a.port, ZONE, "IXFR=4") == [SOA[4]]
    log = a.log_text()
    assert re.search(r"zone example\.com\.: IXFR to 127\.0\.0\.1#\d+ from serial 2 \(2 changes\)",
                     log), log
    assert re.search(r"zone example\.com\.: IXFR to 127\.0\.0\.1#\d+ from serial 1 \(3 changes\)",
                     log), log
    assert a.axfr() == expected_set(4, RESTART_R4)


# ---- 5. TSIG -----------------------------------------------------------------------

def test_tsig_with_knot_and_kdig(tmp_path, servers):
    s1, s2 = 2024050101, 2024050102
    secret = make_secret()
    key = ("xfr-key", "hmac-sha256", secret)
    ykey = "hmac-sha256:xfr-key:" + secret
    knot_port = new_port()
    a = Anydnsd(tmp_path / "anydnsd", [{
        "name": ZONE, "file": "example.com.zone", "notify": [(LOOP, knot_port)],
        "notify_key": "xfr-key", "allow_transfer": ["127.0.0.0/8"],
        "transfer_key": "xfr-key"}], keys=[key])
    knot = Knot(tmp_path / "knot", knot_port, [{
        "name": ZONE, "primaries": [(LOOP, a.port)], "key": "xfr-key"}], keys=[key])
    a.publish(s1, BIG_ZONE)
    servers(a)
    servers(knot)
    wait_for("Knot at serial %d" % s1, lambda: knot.serial(ZONE) == s1, timeout=10)
    ours = a.axfr(key=ykey)
    assert ours == knot.axfr(ZONE, key=ykey)
    assert len(ours) == len(BIG_ZONE) + 1

    # A change: a signed NOTIFY (Knot's ACL wants the key), a signed IXFR.
    a.publish(s2, BIG_ZONE_2)
    a.reload(s2)
    wait_for("Knot at serial %d" % s2, lambda: knot.serial(ZONE) == s2, timeout=5)
    assert a.axfr(key=ykey) == knot.axfr(ZONE, key=ykey)
    assert re.search(r"\[example\.com\.\] notify, incoming, remote 127\.0\.0\.1@\d+, serial %d"
                     % s2, knot.log_text()), knot.log_text()
    assert re.search(r"\[example\.com\.\] IXFR, incoming, remote 127\.0\.0\.1@%d, finished"
                     % a.port, knot.log_text()), knot.log_text()
    assert re.search(r"zone example\.com\.: IXFR to 127\.0\.0\.1#\d+ from serial %d \(1 changes\)"
                     % s1, a.log_text()), a.log_text()
    assert first_response(a.port, ZONE, key=key) == ("NOERROR", None)

    port = str(a.port)
    cases = [
        # (kdig -y, key for dnspython, kdig's error, RCODE, TSIG error, log line)
        ("hmac-sha256:xfr-key:" + make_secret(), ("xfr-key", "hmac-sha256", make_secret()),
         "BADSIG", "NOTAUTH", "BADSIG",
         r"zone example\.com\.: AXFR: TSIG BADSIG from 127\.0\.0\.1#\d+"),
        ("hmac-sha256:other-key:" + secret, ("other-key", "hmac-sha256", secret),
         "BADKEY", "NOTAUTH", "BADKEY",
         r"zone example\.com\.: AXFR: TSIG BADKEY from 127\.0\.0\.1#\d+"),
        (None, None, "NOTAUTH", "NOTAUTH", None,
         r"zone example\.com\.: refused AXFR from 127\.0\.0\.1#\d+: TSIG required"),
    ]
    for y, k, kdig_error, rcode, tsig_error, logged in cases:
        args = ["@" + LOOP, "-p", port, "AXFR", ZONE]
        if y:
            args = ["-y", y] + args
        code, out = kdig_run(*args)
        assert code != 0 and "server replied with error '%s'" % kdig_error in out, out
        assert first_response(a.port, ZONE, key=k) == (rcode, tsig_error)
        assert len(re.findall(logged, a.log_text())) == 2, a.log_text()
    # IXFR is guarded the same way.
    code, out = kdig_run("@" + LOOP, "-p", port, "IXFR=%d" % s1, ZONE)
    assert code != 0 and "server replied with error 'NOTAUTH'" in out, out
    assert re.search(r"zone example\.com\.: refused IXFR from 127\.0\.0\.1#\d+: TSIG required",
                     a.log_text()), a.log_text()
