"""System tests of anydnsd replication when things go wrong.

anydnsd runs as a secondary against a fake primary (tests/system/
fakeprimary.py: a threaded UDP+TCP server whose answers the test controls
message by message, broken ones included) and against another anydnsd;
everything on 127.0.0.1 with free ports (printed), files in temporary
directories, every process stopped by its PID. Checked:

1. truncated, corrupted and oversized transfers leave the old serial
   served, counted as failures with the reason in `anydnsc zones` and a
   "pull failed" log line; a good transfer afterwards goes through; the
   SOA answer of a failed pull still tells the primary's serial (lag);
2. NOTIFY (RFC 1996): from a primary with a newer serial it makes the
   secondary pull at once, from anyone else it is REFUSED and pulls
   nothing; the response echoes ID, opcode and question with QR and AA;
3. TSIG (RFC 8945) on the secondary's side (signed pulls, answers signed
   with the wrong key or unsigned, NOTIFY without or with an unknown key)
   and a BADTIME answer from an anydnsd primary;
4. a secondary killed in the middle of a transfer serves its stored copy
   at once after the restart, then gets the new version;
5. expiry (RFC 1034 §4.3.5): SERVFAIL once no primary answered for the
   SOA expire time, served again when the primary is back;
6. serial-policy increment and keep on a primary;
7. anydnsd primary to anydnsd secondary: every change arrives by IXFR;
8. a secondary zone lagging its primary longer than zones-max-lag takes
   its network's zones check down (in a network namespace of its own:
   the network's address goes on its loopback; needs root).

Run from the repository root:

    /usr/bin/python3 -m pytest tests/system/test_replication_faults.py

ANYDNS_BIN_DIR=build/asan/bin runs the ASan+UBSan build instead.
"""

import os
import re
import shutil
import signal
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.tsig
import pytest

from fakeprimary import FakePrimary, split_tsig, tcp_exchange, tsig_sign
from test_daemon import ANYDNSC, ANYDNSD, UDP_IO_LINE, Daemon, free_port, samples

pytestmark = pytest.mark.skipif(
    not (os.access(ANYDNSD, os.X_OK) and os.access(ANYDNSC, os.X_OK)),
    reason="build/release/bin/anydnsd and anydnsc not built (make release)")

NET = "example.net."
COM = "example.com."
KEY = dns.tsig.Key("xfr-key.", b"anydns-replication-test-key-0001",
                   dns.tsig.HMAC_SHA256)
SECRET = "YW55ZG5zLXJlcGxpY2F0aW9uLXRlc3Qta2V5LTAwMDE="  # base64 of KEY's
OTHER_KEY = dns.tsig.Key("other-key.", b"a key the secondary does not know",
                         dns.tsig.HMAC_SHA256)
# transfer-max-size of the secondaries of the broken-transfer tests.
MAX_SIZE = 4000
TSIG_BADKEY, TSIG_BADTIME = 17, 18


# ---- anydnsd with a replication configuration ------------------------------

class Node(Daemon):
    """One anydnsd (test_daemon.Daemon) with the configuration written here:
    replication (storage in its directory, a 1 s transfer timeout, key
    xfr-key), zones given as YAML, optionally in a network namespace. Its
    log is appended to across restarts."""

    def __init__(self, workdir, zones="", extra="", http=True, netns=None,
                 port=None):
        super().__init__(workdir, http=http)
        if port is not None:
            self.port = port
            print("anydnsd test: port %d in network namespace %s" % (port, netns))
        self.netns = netns
        self.zones = zones
        self.extra = extra
        self.storage = os.path.join(self.dir, "storage")

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write("server:\n"
                    "  listen: [\"127.0.0.1@%d\"]\n"
                    "  workers: 1\n%s"
                    "  identity: test.anydns\n"
                    "control:\n  socket: %s\n"
                    "log:\n  level: info\n" % (self.port, UDP_IO_LINE, self.sock))
            if self.http_port:
                f.write("http:\n  listen: 127.0.0.1@%d\n" % self.http_port)
            f.write("replication:\n"
                    "  storage: %s\n"
                    "  transfer-timeout: 1s\n"
                    "  notify-timeout: 300ms\n"
                    "  notify-retries: 3\n"
                    "  keys:\n"
                    "    - name: xfr-key\n"
                    "      algorithm: hmac-sha256\n"
                    "      secret: \"%s\"\n" % (self.storage, SECRET))
            f.write(self.extra)
            f.write("zones:\n" + self.zones)

    def start(self):
        self.write_conf()
        self.log = open(self.log_path, "a")
        cmd = [ANYDNSD, "-c", self.conf]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("anydnsd exited with %d:\n%s"
                                     % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.sock) and self.ctl("status").returncode == 0:
                return self
            time.sleep(0.05)
        raise AssertionError("anydnsd did not start:\n" + self.log_text())

    def stop(self):
        """SIGTERM, then SIGKILL when still running after 5 s (a clean stop
        takes well under a second; the exit status tells which it was)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()

    def kill(self):
        """SIGKILL: no clean-up of any kind."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def zone(self, name):
        """The fields of NAME's line of `anydnsc zones`: key=value pairs,
        result= and error= running to the end of their text."""
        r = self.ctl("zones")
        assert r.returncode == 0, r.stderr
        for line in r.stdout.splitlines():
            head, _, rest = line.partition(" ")
            if head != name:
                continue
            fields = {}
            rest, _, fields["error"] = rest.partition(" error=")
            rest, _, fields["result"] = rest.partition(" result=")
            for word in rest.split():
                k, _, v = word.partition("=")
                fields[k] = v
            fields["line"] = line
            return fields
        raise AssertionError("no line for %s in:\n%s" % (name, r.stdout))

    def answer(self, name, rdtype="SOA"):
        q = dns.message.make_query(name, rdtype)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=2)

    def served(self, zone):
        """The serial answered for zone, None when it is not NOERROR."""
        r = self.answer(zone)
        if r.rcode() != dns.rcode.NOERROR or not r.answer:
            return None
        return r.answer[0][0].serial

    def txt(self, name):
        r = self.answer(name, "TXT")
        assert r.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(r.rcode())
        return [b"".join(rd.strings).decode() for rd in r.answer[0]]


def secondary(primary_port, name="example.net", extra="", key=False):
    """A secondary zone's entry in zones:."""
    return ("  - name: %s\n"
            "    primaries: [\"127.0.0.1@%d\"]\n"
            "    refresh-min: 200ms\n%s%s"
            % (name, primary_port, "    primary-key: xfr-key\n" if key else "",
               extra))


def wait_until(what, fn, timeout=5.0, interval=0.05, node=None):
    """Polls fn() until it returns something true, which is returned; on
    a timeout the end of node's log is in the failure."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except (dns.exception.Timeout, ConnectionError) as e:
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)%s"
                                 % (timeout, what, last,
                                    "\nlog:\n" + node.log_text()[-4000:] if node else ""))
        time.sleep(interval)


def txt_records(serial, count, size=8):
    """A version of example.net: the small zone plus count TXT records."""
    return [("@", "NS", "ns1"), ("ns1", "A", "192.0.2.1"),
            ("www", "A", "192.0.2.80"), ("www", "TXT", '"version %d"' % serial)] + \
        [("t%d" % i, "TXT", '"%s"' % ("%d" % i).rjust(size, "x")) for i in range(count)]


@pytest.fixture
def fake():
    fp = FakePrimary(free_port()).start()
    print("fake primary on 127.0.0.1:%d" % fp.port)
    try:
        yield fp
    finally:
        fp.stop()


@pytest.fixture
def nodes():
    """Every Node a test starts goes in here and is stopped (SIGTERM) at
    the end; a clean stop is exit 0."""
    started = []
    try:
        yield started
    finally:
        for n in started:
            n.stop()
    for n in started:
        assert n.proc is None or n.proc.returncode == 0, n.log_text()


def run(nodes, node):
    nodes.append(node)
    return node.start()


def loaded_secondary(tmp_path, nodes, fake, extra="", key=False):
    """A secondary of example.net from fake with version 1 in place."""
    sec = run(nodes, Node(tmp_path / "secondary",
                          zones=secondary(fake.port, extra=extra, key=key)))
    wait_until("serial 1 at the secondary", lambda: sec.served(NET) == 1)
    z = sec.zone(NET)
    assert (z["serial"], z["state"], z["transfers"], z["failures"]) == \
        ("1", "loaded", "1", "0"), z["line"]
    return sec


def failures(node, zone=NET):
    return int(node.zone(zone)["failures"])


# ---- the fake primary itself ------------------------------------------------

def test_fake_primary_against_kdig(fake):
    """kdig takes the fake primary's streams, TSIG-signed ones included:
    what anydnsd is told below is sound DNS unless a fault is asked for."""
    fake.set_version(7, txt_records(7, 40))
    r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(fake.port), "+time=3",
                        "+retry=0", "AXFR", NET], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r";; Received \d+ B \(6 messages, 46 records\)", r.stdout), r.stdout
    fake.key = KEY
    fake.sign = "key"
    r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(fake.port), "+time=3",
                        "+retry=0", "-y", "hmac-sha256:xfr-key:" + SECRET,
                        "AXFR", NET], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "(6 messages, 46 records)" in r.stdout, r.stdout
    assert "WARNING" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert fake.requests_of("AXFR")[-1][2] == "xfr-key."
    # dnspython agrees, and sees a wrong key for what it is.
    msgs = list(dns.query.xfr("127.0.0.1", NET, port=fake.port, keyring=KEY,
                              keyname=KEY.name, timeout=3))
    assert len(msgs) == 6
    fake.sign = "wrong"
    with pytest.raises(dns.tsig.BadSignature):
        list(dns.query.xfr("127.0.0.1", NET, port=fake.port, keyring=KEY,
                           keyname=KEY.name, timeout=3))


# ---- 1. broken transfers ----------------------------------------------------

# (case, fault, the reason expected after "127.0.0.1#PORT: AXFR: "; {n},
# {k}, {bad}, {id} are filled in from what the fake primary sent).
BROKEN = [
    ("cut-inside", ("cut-inside", 1), "connection closed inside message 2"),
    ("cut-before-end", ("cut-before-end", None),
     "connection closed after {n} messages, before the end of the transfer"),
    ("garbage", ("garbage", 1), "message 2: malformed message"),
    ("out-of-zone", ("out-of-zone", 1),
     "message 2: out-of-zone record www.example.org. A"),
    ("wrong-id", ("wrong-id", 1), "message 2: ID {bad}, the request's is {id}"),
    ("oversized", None, "message {k}: over the limit of %d octets" % MAX_SIZE),
]


@pytest.mark.parametrize("case,fault,reason", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_transfer_keeps_old_version(tmp_path, fake, nodes, case, fault,
                                           reason):
    sec = loaded_secondary(tmp_path, nodes, fake,
                           extra="    transfer-max-size: %d\n" % MAX_SIZE)
    if case == "oversized":
        fake.set_version(2, txt_records(2, 200, size=100))
    else:
        fake.set_version(2, txt_records(2, 30))
        fake.fault = fault
    streams = len(fake.streams)
    r = sec.ctl("reload", "example.net")
    assert r.returncode == 0, r.stdout + r.stderr
    z = wait_until("the failed pull", lambda: failures(sec) >= 1 and sec.zone(NET))

    # What the fake primary did (IXFR answered NOTIMP, then the AXFR).
    assert len(fake.streams) == streams + 1
    sent = fake.streams[-1]
    axfr_id = fake.requests_of("AXFR")[-1][3]
    total, k = 0, None
    for i, n in enumerate(sent):
        total += n
        if total > MAX_SIZE and k is None:
            k = i + 1
    expected = "127.0.0.1#%d: AXFR: " % fake.port + reason.format(
        n=len(sent), k=k, bad=axfr_id ^ 0x5555, id=axfr_id)

    assert z["result"] == expected, z["line"]
    assert (z["serial"], z["state"], z["transfers"], z["failures"]) == \
        ("1", "loaded", "1", "1"), z["line"]
    assert "zone example.net.: pull failed: " + expected in sec.log_text()
    assert sec.served(NET) == 1
    assert sec.txt("www.example.net.") == ["version 1"]

    # A good transfer afterwards.
    fake.fault = None
    fake.set_version(2, txt_records(2, 30))
    assert sec.ctl("reload", "example.net").returncode == 0
    wait_until("serial 2", lambda: sec.served(NET) == 2)
    assert sec.txt("www.example.net.") == ["version 2"]
    assert sec.txt("t29.example.net.") == ["xxxxxx29"]
    z = sec.zone(NET)
    assert (z["serial"], z["state"], z["transfers"], z["failures"]) == \
        ("2", "loaded", "2", "1"), z["line"]
    assert re.fullmatch(r"AXFR \(IXFR failed\) serial 2 from 127\.0\.0\.1@%d: "
                        r"\d+ records, \d+ ms" % fake.port, z["result"]), z["line"]
    assert z["error"] == "", z["line"]


def test_failed_pull_still_learns_the_primary_serial(tmp_path, fake, nodes):
    """The SOA answer of a pull whose transfer then fails tells the
    primary's serial: the zone lags from then on (what zones-max-lag acts
    on when no NOTIFY comes)."""
    sec = loaded_secondary(tmp_path, nodes, fake)
    fake.set_version(2)
    fake.refuse_transfers = True
    assert sec.ctl("reload", "example.net").returncode == 0
    z = wait_until("the failed pull", lambda: failures(sec) >= 1 and sec.zone(NET))
    assert z["result"] == "127.0.0.1#%d: AXFR: message 1: REFUSED" % fake.port, z["line"]
    assert [r[1] for r in fake.requests[-3:]] == ["SOA", "IXFR", "AXFR"], fake.requests
    time.sleep(1.2)
    z = sec.zone(NET)
    assert (z["serial"], z["primary-serial"]) == ("1", "2"), z["line"]
    assert float(z["lag"]) >= 1.0, z["line"]
    s = samples(sec.metrics())
    assert s[("anydns_zone_primary_serial", '{zone="example.net."}')] == 2
    assert s[("anydns_zone_lag_seconds", '{zone="example.net."}')] >= 1.0


# ---- 2. NOTIFY -----------------------------------------------------------------

def check_notify_response(wire, qid, rcode):
    r = dns.message.from_wire(wire)
    assert r.id == qid
    assert r.flags & dns.flags.QR
    assert r.opcode() == dns.opcode.NOTIFY
    assert r.rcode() == rcode, dns.rcode.to_text(r.rcode())
    assert [(q.name, q.rdtype) for q in r.question] == \
        [(dns.name.from_text(NET), dns.rdatatype.SOA)]
    return r


def test_notify_pulls_at_once_and_only_from_primaries(tmp_path, fake, nodes):
    sec = loaded_secondary(tmp_path, nodes, fake)
    fake.set_version(2)
    before = len(fake.requests)

    # From an address that is not a primary: REFUSED, nothing pulled.
    qid, wire, _ = fake.notify(sec.port, serial=2, source="127.0.0.2")
    check_notify_response(wire, qid, dns.rcode.REFUSED)
    time.sleep(1.0)
    assert len(fake.requests) == before, fake.requests[before:]
    assert sec.served(NET) == 1
    assert sec.zone(NET)["primary-serial"] == "1"
    assert re.search(r"zone example\.net\.: refused NOTIFY from 127\.0\.0\.2#\d+: "
                     r"not allowed", sec.log_text()), sec.log_text()

    # From the primary, with a newer serial: the pull starts at once,
    # whatever the SOA refresh (3600) says.
    start = time.monotonic()
    qid, wire, _ = fake.notify(sec.port, serial=2)
    r = check_notify_response(wire, qid, dns.rcode.NOERROR)
    assert r.flags & dns.flags.AA
    wait_until("serial 2 after the NOTIFY", lambda: sec.served(NET) == 2, timeout=1.0,
               interval=0.02)
    print("NOTIFY to serial 2 served: %.0f ms" % ((time.monotonic() - start) * 1000))
    log = sec.log_text()
    assert re.search(r"zone example\.net\.: NOTIFY from 127\.0\.0\.1#\d+, serial 2\n",
                     log), log
    assert "zone example.net.: NOTIFY serial 2: pulling" in log
    z = sec.zone(NET)
    assert (z["serial"], z["primary-serial"], z["lag"], z["transfers"]) == \
        ("2", "2", "0.0", "2"), z["line"]


# ---- 3. TSIG ------------------------------------------------------------------

def test_tsig_on_the_secondary(tmp_path, nodes):
    fake = FakePrimary(free_port(), key=KEY).start()
    try:
        run_tsig_secondary(tmp_path, nodes, fake)
    finally:
        fake.stop()


def run_tsig_secondary(tmp_path, nodes, fake):
    sec = loaded_secondary(tmp_path, nodes, fake, key=True)
    # Every request of the pull was signed with the key.
    assert fake.requests and all(r[2] == "xfr-key." for r in fake.requests), \
        fake.requests
    fake.set_version(2)

    # NOTIFY without TSIG: NOTAUTH, unsigned (nothing to echo), no pull.
    before = len(fake.requests)
    qid, wire, _ = fake.notify(sec.port, serial=2)
    m, tsig = split_tsig(wire)
    assert (m.id, m.opcode(), m.rcode()) == (qid, dns.opcode.NOTIFY, dns.rcode.NOTAUTH)
    assert tsig is None
    # NOTIFY signed with a key the secondary does not know: NOTAUTH with
    # the TSIG error BADKEY and no MAC (RFC 8945 §5.3.2).
    qid, wire, _ = fake.notify(sec.port, serial=2, key=OTHER_KEY)
    m, tsig = split_tsig(wire)
    assert (m.id, m.opcode(), m.rcode()) == (qid, dns.opcode.NOTIFY, dns.rcode.NOTAUTH)
    assert tsig is not None and tsig.error == TSIG_BADKEY and tsig.mac == b"", tsig
    time.sleep(1.0)
    assert len(fake.requests) == before, fake.requests[before:]
    assert sec.served(NET) == 1
    log = sec.log_text()
    assert re.search(r"zone example\.net\.: refused NOTIFY from 127\.0\.0\.1#\d+: "
                     r"TSIG required", log), log
    assert re.search(r"zone example\.net\.: NOTIFY: TSIG BADKEY from 127\.0\.0\.1#\d+",
                     log), log

    # Answers signed with another secret, then unsigned: the pull fails on
    # TSIG and the old version keeps serving.
    where = "127.0.0.1#%d" % fake.port
    for n, (sign, reason) in enumerate((("wrong", "SOA: TSIG BADSIG"),
                                        ("none", "SOA: TSIG missing")), 1):
        fake.sign = sign
        assert sec.ctl("reload", "example.net").returncode == 0
        z = wait_until("failure %d" % n, lambda: failures(sec) >= n and sec.zone(NET))
        assert z["result"] == "%s: %s" % (where, reason), z["line"]
        assert (z["serial"], z["failures"]) == ("1", str(n)), z["line"]
        assert "zone example.net.: pull failed: %s: %s" % (where, reason) in \
            sec.log_text()
        assert sec.served(NET) == 1

    # Signed right again: a signed NOTIFY is answered signed, and pulls.
    fake.sign = "key"
    qid, wire, mac = fake.notify(sec.port, serial=2, key=KEY)
    r = dns.message.from_wire(wire, keyring={KEY.name: KEY}, request_mac=mac)
    assert (r.id, r.rcode(), r.had_tsig) == (qid, dns.rcode.NOERROR, True)
    wait_until("serial 2", lambda: sec.served(NET) == 2, timeout=2)
    assert sec.txt("www.example.net.") == ["version 2"]
    assert all(r[2] == "xfr-key." for r in fake.requests), fake.requests


def test_badtime_from_a_primary(tmp_path, nodes):
    prim = run(nodes, Node(tmp_path, zones=(
        "  - name: example.com\n"
        "    file: example.com.zone\n"
        "    allow-transfer: [\"127.0.0.0/8\"]\n"
        "    transfer-key: xfr-key\n")))
    q = dns.message.make_query(COM, "AXFR")
    q.flags = 0

    # Signed an hour ago: NOTAUTH, TSIG error BADTIME, and the answer
    # carries the primary's clock in Other Data (RFC 8945 §5.2.3).
    wire, _, _ = tsig_sign(q.to_wire(), KEY, time_signed=time.time() - 3600)
    msgs = tcp_exchange(wire, prim.port, expect=1)
    m, tsig = split_tsig(msgs[0])
    assert (m.id, m.rcode()) == (q.id, dns.rcode.NOTAUTH), dns.rcode.to_text(m.rcode())
    assert not m.answer
    assert tsig is not None and tsig.error == TSIG_BADTIME, tsig
    assert len(tsig.other) == 6
    assert abs(int.from_bytes(tsig.other, "big") - time.time()) < 5
    assert re.search(r"zone example\.com\.: AXFR: TSIG BADTIME from 127\.0\.0\.1#\d+",
                     prim.log_text()), prim.log_text()

    # Unsigned: NOTAUTH without TSIG.
    msgs = tcp_exchange(q.to_wire(), prim.port, expect=1)
    m, tsig = split_tsig(msgs[0])
    assert (m.rcode(), tsig) == (dns.rcode.NOTAUTH, None)
    assert re.search(r"zone example\.com\.: refused AXFR from 127\.0\.0\.1#\d+: "
                     r"TSIG required", prim.log_text()), prim.log_text()

    # Signed now: the zone, every message verified by dnspython.
    msgs = list(dns.query.xfr("127.0.0.1", COM, port=prim.port, keyring=KEY,
                              keyname=KEY.name, timeout=3, relativize=False))
    rrs = [rrset for m in msgs for rrset in m.answer]
    assert rrs[0].rdtype == dns.rdatatype.SOA and rrs[0][0].serial == 2024010101
    assert any(r.name == dns.name.from_text("www.example.com.") and
               r.rdtype == dns.rdatatype.AAAA for r in rrs)


# ---- 4. restart in the middle of a transfer ---------------------------------

def stored_serial(path):
    """The serial of the SOA in a stored copy, a master file with RDATA in
    the generic form of RFC 3597 §5 (or in the usual one)."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"^\S+\s+\d+\s+IN\s+TYPE6\s+\\# \d+ ([0-9a-fA-F ]+)$", text, re.M)
    if m:
        wire = bytes.fromhex(m.group(1).replace(" ", ""))
        return dns.rdata.from_wire("IN", "SOA", wire, 0, len(wire)).serial
    m = re.search(r"\sSOA\s+\S+\s+\S+\s+(\d+)\s", text)
    return int(m.group(1)) if m else None


def test_restart_mid_transfer(tmp_path, fake, nodes):
    sec = loaded_secondary(tmp_path, nodes, fake)
    copy = os.path.join(sec.storage, "example.net.zone")
    wait_until("the stored copy of serial 1",
               lambda: os.path.exists(copy) and stored_serial(copy) == 1, node=sec)

    # Version 2 is big and comes slowly: killed after a few messages.
    fake.set_version(2, txt_records(2, 3000))
    fake.rr_per_msg = 100
    fake.delay = 0.1
    streams = len(fake.streams)
    assert sec.ctl("reload", "example.net").returncode == 0
    wait_until("the slow transfer under way",
               lambda: len(fake.streams) > streams and fake.sent >= 3)
    sec.kill()
    assert stored_serial(copy) == 1

    # Back up while the primary is still slow: the stored copy at once.
    sec.start()
    assert sec.served(NET) == 1
    assert sec.txt("www.example.net.") == ["version 1"]
    assert "zone example.net.: serial 1 from the stored copy %s" % copy in sec.log_text()
    z = sec.zone(NET)
    assert (z["serial"], z["state"]) == ("1", "loaded"), z["line"]

    # The primary fast again: version 2 arrives and is stored.
    fake.delay = 0
    wait_until("serial 2", lambda: sec.served(NET) == 2, timeout=10)
    assert sec.txt("t2999.example.net.") == ["xxxx2999"]
    wait_until("the stored copy of serial 2", lambda: stored_serial(copy) == 2)


# ---- 5. expiry ---------------------------------------------------------------

def test_expiry(tmp_path, fake, nodes):
    # refresh 1, retry 1, expire 4 (s).
    fake.set_version(1, timers=(1, 1, 4, 300))
    sec = loaded_secondary(tmp_path, nodes, fake)
    fake.stop()
    start = time.monotonic()
    wait_until("SERVFAIL", lambda: sec.answer(NET).rcode() == dns.rcode.SERVFAIL,
               timeout=7)
    took = time.monotonic() - start
    print("primary stopped to SERVFAIL: %.1fs" % took)
    # The last good refresh was at most ~1 s before the primary stopped.
    assert 2.5 <= took <= 5.0
    assert sec.answer("www.example.net.", "A").rcode() == dns.rcode.SERVFAIL
    z = sec.zone(NET)
    assert z.get("expired") == "yes", z["line"]
    assert z["serial"] == "-" and z["state"].startswith("failed"), z["line"]
    assert z["error"] == "expired: no primary answered for the SOA expire time", z["line"]
    log = sec.log_text()
    assert "zone example.net.: expired: no primary answered for the SOA expire time" in log
    assert "zone example.net.: pull failed: 127.0.0.1#%d: SOA: " % fake.port in log
    s = samples(sec.metrics())
    assert s[("anydns_zone_expired", '{zone="example.net."}')] == 1

    # The primary is back: served again at the next retry (SOA retry 1 s).
    # Should that not happen, a pull asked for by hand checks the rest,
    # and the test fails at the end.
    fake.start()
    late = None
    try:
        wait_until("served again", lambda: sec.served(NET) == 1, timeout=4, node=sec)
    except AssertionError as e:
        late = e
        assert sec.ctl("reload", "example.net").returncode == 0
        wait_until("served again after a reload", lambda: sec.served(NET) == 1,
                   node=sec)
    z = sec.zone(NET)
    assert "expired" not in z and z["state"] == "loaded", z["line"]
    assert samples(sec.metrics())[("anydns_zone_expired", '{zone="example.net."}')] == 0
    if late is not None:
        raise AssertionError("no retry after the expiry") from late


# ---- 6. serial policy on a primary -----------------------------------------

@pytest.mark.parametrize("policy", ["increment", "keep"])
def test_serial_policy(tmp_path, nodes, policy):
    prim = run(nodes, Node(tmp_path, zones=(
        "  - name: example.com\n"
        "    file: example.com.zone\n"
        "    serial-policy: %s\n" % policy)))
    assert prim.served(COM) == 2024010101
    prim.write_zone(2024010101, "new A 192.0.2.2\n")
    r = prim.ctl("reload")
    new = prim.answer("new.example.com.", "A")
    if policy == "increment":
        assert r.returncode == 0, r.stdout + r.stderr
        assert "example.com. serial=2024010102 state=loaded" in r.stdout, r.stdout
        assert prim.served(COM) == 2024010102
        assert new.rcode() == dns.rcode.NOERROR and str(new.answer[0][0]) == "192.0.2.2"
        assert "zone example.com.: changed without a newer serial (2024010101): " \
               "serving it as serial 2024010102" in prim.log_text()
        # Again: old + 1 from the served serial.
        prim.write_zone(2024010101, "new A 192.0.2.3\n")
        assert prim.ctl("reload").returncode == 0
        assert prim.served(COM) == 2024010103
        return
    assert r.returncode == 1, r.stdout + r.stderr
    z = prim.zone(COM)
    assert (z["serial"], z["state"]) == ("2024010101", "failed-kept-old"), z["line"]
    assert z["error"] == ("%s: the zone changed but serial 2024010101 is not newer "
                          "than 2024010101 (serial-policy keep)" % prim.zone_file), z["line"]
    assert prim.served(COM) == 2024010101
    assert new.rcode() == dns.rcode.NXDOMAIN
    # With a newer serial the change goes through.
    prim.write_zone(2024010102, "new A 192.0.2.2\n")
    assert prim.ctl("reload").returncode == 0
    assert prim.served(COM) == 2024010102
    assert prim.zone(COM)["error"] == ""


def test_serial_policy_survives_restart(tmp_path, nodes):
    """A serial the policy gave is kept across a restart (the stored version
    the journal leads to), so secondaries never see the serial go back; a
    file changed while the daemon was down is journaled like any change."""
    prim = run(nodes, Node(tmp_path, zones=(
        "  - name: example.com\n"
        "    file: example.com.zone\n"
        "    allow-transfer: [\"127.0.0.0/8\"]\n"
        "    serial-policy: increment\n")))
    base = 2024010101
    prim.write_zone(base, "new A 192.0.2.2\n")
    assert prim.ctl("reload").returncode == 0
    assert prim.served(COM) == base + 1
    assert os.path.exists(os.path.join(prim.storage, "example.com.zone"))
    prim.stop()
    prim.start()
    assert prim.served(COM) == base + 1
    assert str(prim.answer("new.example.com.", "A").answer[0][0]) == "192.0.2.2"
    # Changed while stopped, serial still the file's old one: base + 2.
    prim.stop()
    prim.write_zone(base, "new A 192.0.2.3\n")
    prim.start()
    assert prim.served(COM) == base + 2
    # IXFR from the first version spans both changes, from the journal.
    q = dns.message.make_query(COM, "IXFR")
    q.authority.append(dns.rrset.from_text(
        COM, 300, "IN", "SOA", "ns1.example.com. hostmaster.example.com. "
        "%d 7200 3600 1209600 300" % base))
    r = dns.query.tcp(q, "127.0.0.1", port=prim.port, timeout=5,
                      one_rr_per_rrset=True)
    soas = [rr[0].serial for rr in r.answer if rr.rdtype == dns.rdatatype.SOA]
    assert soas == [base + 2, base, base + 1, base + 1, base + 2, base + 2], soas


# ---- 7. anydnsd to anydnsd by IXFR -------------------------------------------

def test_ixfr_between_anydnsd(tmp_path, nodes):
    prim = Node(tmp_path / "primary")
    sec = Node(tmp_path / "secondary")
    prim.zones = ("  - name: example.com\n"
                  "    file: example.com.zone\n"
                  "    notify: [\"127.0.0.1@%d\"]\n"
                  "    allow-transfer: [\"127.0.0.0/8\"]\n" % sec.port)
    sec.zones = secondary(prim.port, name="example.com")
    run(nodes, prim)
    run(nodes, sec)
    base = 2024010101
    wait_until("the first transfer", lambda: sec.served(COM) == base)

    extra = ""
    for i in range(1, 11):
        extra += "c%d A 192.0.2.%d\n" % (i, i)
        prim.write_zone(base + i, extra)
        r = prim.ctl("reload")
        assert r.returncode == 0, r.stdout + r.stderr
        wait_until("serial %d at the secondary" % (base + i),
                   lambda: sec.served(COM) == base + i, timeout=3, interval=0.02)
    assert str(sec.answer("c10.example.com.", "A").answer[0][0]) == "192.0.2.10"

    log = sec.log_text()
    src = r"zone example\.com\.: (AXFR|IXFR) from 127\.0\.0\.1@%d: serial " % prim.port
    kinds = re.findall(src, log)
    assert kinds == ["AXFR"] + ["IXFR"] * 10, log
    steps = re.findall(src[:-len("serial ")] + r"serial (\d+) -> (\d+)", log)
    assert [(int(a), int(b)) for _, a, b in steps] == \
        [(base + i - 1, base + i) for i in range(1, 11)], log
    assert len(re.findall(r"zone example\.com\.: IXFR to 127\.0\.0\.1#\d+ from serial",
                          prim.log_text())) == 10, prim.log_text()

    z = sec.zone(COM)
    assert (z["serial"], z["primary-serial"], z["lag"], z["transfers"], z["failures"]) \
        == (str(base + 10), str(base + 10), "0.0", "11", "0"), z["line"]
    assert z["result"].startswith("IXFR %d -> %d from 127.0.0.1@%d: 1 changes"
                                  % (base + 9, base + 10, prim.port)), z["line"]
    s = samples(sec.metrics())
    label = '{zone="example.com."}'
    assert s[("anydns_zone_lag_seconds", label)] == 0
    assert s[("anydns_zone_transfers_total", label)] == 11
    assert s[("anydns_zone_transfer_failures_total", label)] == 0
    assert s[("anydns_zone_serial", label)] == base + 10
    assert s[("anydns_zone_primary_serial", label)] == base + 10
    p = samples(prim.metrics())
    assert p[("anydns_zone_journal_bytes", label)] > 0
    assert p[("anydns_zone_notifies_sent_total", label)] >= 10


# ---- 8. lag as a health input -------------------------------------------------

NETNS = "anydns-repl-%d" % os.getpid()


def check_line(node, network, kind):
    out = node.ctl("networks").stdout
    m = re.search(r"^  check %s/%s: kind=%s state=(\S+) .* why=\"(.*)\" last=\"(.*)\"$"
                  % (network, kind, kind), out, re.M)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def network_state(node, network):
    m = re.search(r"^network %s: state=(\S+)" % network, node.ctl("networks").stdout,
                  re.M)
    return m.group(1) if m else None


@pytest.fixture
def netns():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and ip(8): the network's address goes on the "
                    "loopback of a network namespace")
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    try:
        subprocess.run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
        yield NETNS
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)


def test_lag_takes_the_zones_check_down(tmp_path, netns, nodes):
    # Both daemons in the namespace (fixed ports are free there); the
    # primary sends NOTIFY to the secondary but lets only 192.0.2.0/24
    # transfer, so the secondary learns of serial 2 and cannot get it.
    prim = Node(tmp_path / "primary", http=False, netns=netns, port=5300)
    sec = Node(tmp_path / "secondary", http=False, netns=netns, port=5301)
    prim.zones = ("  - name: example.com\n"
                  "    file: example.com.zone\n"
                  "    notify: [\"127.0.0.1@5301\"]\n"
                  "    allow-transfer: [\"192.0.2.0/24\"]\n")
    sec.zones = secondary(5300, name="example.com")
    sec.extra = ("health:\n  interval: 100ms\n  timeout: 50ms\n  rise: 1\n  fall: 1\n"
                 "  hold-down: 0s\n"
                 "networks:\n"
                 "  - name: lagnet\n"
                 "    prefixes: [192.0.2.53/32]\n"
                 "    interface: lo\n"
                 "    zones: [example.com]\n"
                 "    checks:\n"
                 "      zones: true\n"
                 "      zones-max-lag: 2s\n"
                 "      dns: {enabled: false}\n")
    # The secondary starts from a stored copy of the primary's version.
    os.makedirs(sec.storage)
    shutil.copy(prim.zone_file, os.path.join(sec.storage, "example.com.zone"))
    run(nodes, prim)
    run(nodes, sec)
    wait_until("the copy confirmed", lambda: sec.zone(COM)["result"].startswith(
        "up to date: serial 2024010101"))
    wait_until("lagnet announced", lambda: network_state(sec, "lagnet") == "announced")
    assert check_line(sec, "lagnet", "zones")[0] == "up"

    prim.write_zone(2024010102)
    start = time.monotonic()
    assert prim.ctl("reload").returncode == 0
    wait_until("the NOTIFY", lambda: "zone example.com.: NOTIFY serial 2024010102: "
               "pulling" in sec.log_text(), timeout=3)
    wait_until("the failed pull", lambda: failures(sec, COM) >= 1)
    z = sec.zone(COM)
    assert (z["serial"], z["primary-serial"]) == ("2024010101", "2024010102"), z["line"]
    assert "REFUSED" in z["result"], z["line"]
    assert "refused" in prim.log_text() and "not allowed" in prim.log_text()

    state = wait_until("the zones check down",
                       lambda: check_line(sec, "lagnet", "zones")[0] == "down" and
                       check_line(sec, "lagnet", "zones"), timeout=5)
    took = time.monotonic() - start
    print("NOTIFY to zones check down: %.1fs" % took)
    assert 1.9 <= took <= 4.0
    assert re.search(r"zone example\.com\. lags its primary by \d+\.\ds \(limit 2\.0s\)",
                     state[1] + " " + state[2]), state
    wait_until("lagnet withdrawn", lambda: network_state(sec, "lagnet") == "withdrawn",
               timeout=2)
    assert float(sec.zone(COM)["lag"]) >= 2.0
