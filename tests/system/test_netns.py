"""System tests of anydnsd on a host of its own: a network namespace.

The namespace gets several service addresses on its loopback (as a PoP holds
its anycast addresses), anydnsd listens on the wildcard addresses, and every
client runs inside the namespace too, so nothing leaves it. Checked here:

- each reply leaves from the address its query was sent to (IP_PKTINFO /
  IPV6_PKTINFO), for every address of the host, over IPv4 and IPv6;
- a truncated UDP answer makes kdig retry over TCP and get it whole;
- many queries pipelined on one TCP connection are all answered (RFC 7766);
- malformed and random datagrams get FORMERR or nothing, and the server
  keeps answering;
- the per-client TCP connection limit refuses the connection over the limit
  and serves the others.

Run as root from the repository root: /usr/bin/python3 -m pytest tests/system.
The namespace and every process are removed at the end, also on failure.
Random inputs are seeded; the seed is printed so a failure can be replayed.
"""

import os
import random
import signal
import socket
import struct
import subprocess
import tempfile
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("ANYDNS_BIN_DIR", "build/release/bin"))
ANYDNSD = os.path.join(BIN, "anydnsd")
NS = "anydns-sys-%d" % os.getpid()
ADDRS4 = ["192.0.2.1", "192.0.2.2", "198.51.100.53"]
ADDRS6 = ["2001:db8::1", "2001:db8::2", "2001:db8:53::53"]
PER_CLIENT = 4
# ANYDNS_TEST_UDP_IO=uring|mmsg|auto runs every daemon with that
# server.udp-io; unset: the default (auto).
UDP_IO_LINE = ("  udp-io: %s\n" % os.environ["ANYDNS_TEST_UDP_IO"]
               if os.environ.get("ANYDNS_TEST_UDP_IO") else "")

ZONE = """$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
"""


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def in_ns(*cmd, **kw):
    return subprocess.run(("ip", "netns", "exec", NS) + cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


# A client that runs inside the namespace: given in argv the calls to make,
# it prints one result line per call. Kept as a script so every socket lives
# in the namespace.
CLIENT = r'''
import random, socket, struct, sys, time
import dns.message, dns.rcode

def query(name, qtype="A", qid=None):
    m = dns.message.make_query(name, qtype)
    if qid is not None:
        m.id = qid
    return m

def source_check(family, addr):
    """Unconnected socket: report the source address of the reply."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(query("www.example.com.").to_wire(), (addr, 53))
    data, peer = s.recvfrom(65535)
    r = dns.message.from_wire(data)
    print("source", addr, peer[0], dns.rcode.to_text(r.rcode()), len(r.answer))

def pipeline(addr, n):
    s = socket.create_connection((addr, 53), timeout=5)
    out = b""
    for i in range(n):
        w = query("www.example.com." if i % 2 else "nx%d.example.com." % i, qid=i).to_wire()
        out += struct.pack("!H", len(w)) + w
    s.sendall(out)
    buf, ids = b"", set()
    while len(ids) < n:
        chunk = s.recv(65535)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            l = struct.unpack("!H", buf[:2])[0]
            ids.add(dns.message.from_wire(buf[2:2 + l]).id)
            buf = buf[2 + l:]
    print("pipeline", n, len(ids), sorted(ids) == list(range(n)))

def fuzz(addr, seed, count):
    """Sends count mangled or random datagrams in bursts and checks every
    reply that comes back is a response (QR set)."""
    rnd = random.Random(seed)
    base = query("www.example.com.").to_wire()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad = answers = 0
    for burst in range(0, count, 50):
        for i in range(burst, min(burst + 50, count)):
            if i % 3 == 0:
                pkt = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 64)))
            else:
                pkt = bytearray(base)
                for _ in range(rnd.randrange(1, 6)):
                    pkt[rnd.randrange(len(pkt))] = rnd.getrandbits(8)
                pkt = bytes(pkt[:rnd.randrange(1, len(pkt) + 8)])
            s.sendto(pkt, (addr, 53))
        s.settimeout(0.05)
        while True:
            try:
                data = s.recv(65535)
            except socket.timeout:
                break
            answers += 1
            if len(data) < 12 or not (data[2] & 0x80):
                bad += 1
    s.sendto(base, (addr, 53))
    s.settimeout(2)
    alive = dns.message.from_wire(s.recv(65535)).rcode() == 0
    print("fuzz", count, answers, bad, alive)

def limit(addr, n):
    conns = []
    for _ in range(n):
        conns.append(socket.create_connection((addr, 53), timeout=3))
    time.sleep(0.3)
    # Every connection answers unless the server closed it.
    served = 0
    for c in conns:
        try:
            w = query("www.example.com.").to_wire()
            c.sendall(struct.pack("!H", len(w)) + w)
            data = c.recv(65535)
            served += 1 if len(data) > 2 else 0
        except OSError:
            pass
    print("limit", n, served)

for call in sys.argv[1:]:
    fn, *args = call.split(":")
    if fn == "source4":
        source_check(socket.AF_INET, args[0])
    elif fn == "source6":
        source_check(socket.AF_INET6, args[0].replace("_", ":"))
    elif fn == "pipeline":
        pipeline(args[0], int(args[1]))
    elif fn == "fuzz":
        fuzz(args[0], int(args[1]), int(args[2]))
    elif fn == "limit":
        limit(args[0], int(args[1]))
'''


@pytest.fixture(scope="module")
def pop():
    """A namespace with the service addresses and anydnsd listening on the
    wildcard addresses. Yields the temporary directory."""
    if os.geteuid() != 0:
        pytest.fail("these tests need root (network namespaces)")
    sh("ip", "netns", "del", NS, check=False)
    sh("ip", "netns", "add", NS)
    tmp = tempfile.mkdtemp(prefix="anydns-sys-")
    proc = None
    try:
        in_ns("ip", "link", "set", "lo", "up", check=True)
        for a in ADDRS4:
            in_ns("ip", "addr", "add", a + "/32", "dev", "lo", check=True)
        for a in ADDRS6:
            in_ns("ip", "addr", "add", a + "/128", "dev", "lo", "nodad", check=True)
        big = "".join('big TXT "%s"\n' % ("%03d" % i * 30) for i in range(40))
        with open(os.path.join(tmp, "example.com.zone"), "w") as f:
            f.write(ZONE + big)
        with open(os.path.join(tmp, "client.py"), "w") as f:
            f.write(CLIENT)
        with open(os.path.join(tmp, "anydnsd.yaml"), "w") as f:
            f.write("""server:
  identity: test-pop
  listen: ["0.0.0.0", "::"]
  port: 53
  workers: 2
%s  tcp-max-per-client: %d
control:
  socket: %s/ctl.sock
log:
  level: info
zones:
  - name: example.com
    file: example.com.zone
""" % (UDP_IO_LINE, PER_CLIENT, tmp))
        log = open(os.path.join(tmp, "anydnsd.log"), "w")
        proc = subprocess.Popen(["ip", "netns", "exec", NS, ANYDNSD, "-c",
                                 os.path.join(tmp, "anydnsd.yaml")],
                                stdout=log, stderr=subprocess.STDOUT)
        for _ in range(100):
            r = in_ns("kdig", "@192.0.2.1", "+short", "+time=1", "+retry=0",
                      "www.example.com", "A")
            if "192.0.2.80" in r.stdout:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        else:
            pytest.fail("anydnsd did not answer; log: " + open(log.name).read())
        if proc.poll() is not None:
            pytest.fail("anydnsd exited: " + open(log.name).read())
        yield tmp
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        sh("ip", "netns", "del", NS, check=False)
        subprocess.run(["rm", "-rf", tmp])


def client(tmp, *calls):
    r = in_ns("/usr/bin/python3", os.path.join(tmp, "client.py"), *calls, timeout=120)
    assert r.returncode == 0, r.stdout
    return [line.split() for line in r.stdout.splitlines()]


def test_reply_leaves_from_query_address(pop):
    calls = ["source4:" + a for a in ADDRS4] + ["source6:" + a.replace(":", "_") for a in ADDRS6]
    results = client(pop, *calls)
    assert len(results) == len(ADDRS4) + len(ADDRS6)
    for kind, asked, replied, rcode, answers in results:
        assert kind == "source"
        assert replied == asked, "reply to %s came from %s" % (asked, replied)
        assert rcode == "NOERROR" and answers == "1"


def test_truncated_udp_answer_retried_over_tcp(pop):
    r = in_ns("kdig", "@192.0.2.2", "+bufsize=1232", "big.example.com", "TXT")
    assert "truncated reply" in r.stdout and "retrying over TCP" in r.stdout, r.stdout
    assert "ANSWER: 40" in r.stdout, r.stdout
    # With +ignore, the UDP answer itself: TC and a whole-RRset-or-nothing body.
    r = in_ns("kdig", "@192.0.2.2", "+ignore", "+bufsize=1232", "big.example.com", "TXT")
    assert " tc" in r.stdout and "ANSWER: 0" in r.stdout, r.stdout


def test_tcp_pipelining(pop):
    (result,) = client(pop, "pipeline:192.0.2.1:200")
    assert result == ["pipeline", "200", "200", "True"], result


def test_malformed_datagrams(pop):
    seed = random.randrange(1 << 30)
    print("fuzz seed", seed)
    (result,) = client(pop, "fuzz:198.51.100.53:%d:3000" % seed)
    kind, count, answers, bad, alive = result
    assert int(bad) == 0, "responses without QR: %s (seed %d)" % (bad, seed)
    assert int(answers) > 0
    assert alive == "True", "server stopped answering (seed %d)" % seed


def test_per_client_tcp_limit(pop):
    (result,) = client(pop, "limit:192.0.2.1:%d" % (PER_CLIENT + 2))
    assert result == ["limit", str(PER_CLIENT + 2), str(PER_CLIENT)], result
    # Once those are closed, a new connection is served again.
    (result,) = client(pop, "limit:192.0.2.1:1")
    assert result == ["limit", "1", "1"], result
