"""System test of a PoP's anycast side: anydnsd with two networks in a
network namespace of its own, peering over a veth pair with a BGP router in
a second namespace (build/<variant>/bin/anydns-bgp-speak, the project's own
speaker driven over stdin; skipped, with the BGP checks only, when it is not
built). Checked here:

- every network address is put on the network's interface (a dummy
  interface, or a veth end where the kernel has no dummy driver);
- a query sent to a network's address for a zone that network does not
  serve is REFUSED, while the same zone answers on the address of a network
  that serves it (UDP and TCP);
- the DNS probe fails once the daemon's answer changes (a zone reloaded
  with other RDATA than the probe expects): the network is withdrawn, the
  router receives the withdrawal, and the network comes back after the
  hold-down once the answer is right again;
- `anydnsc drain` announces with 65535:0 (RFC 8326) and withdraws after the
  drain time while DNS keeps answering; `undrain` announces again;
- SIGTERM drains, withdraws, removes the addresses the daemon added and
  closes the session with a Cease.

Run as root from the repository root: /usr/bin/python3 -m pytest tests/system.
Both namespaces and every process started here are removed by PID at the
end, also on failure.
"""

import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time

import pytest

# ANYDNS_TEST_UDP_IO=uring|mmsg|auto runs every daemon with that
# server.udp-io; unset: the default (auto).
UDP_IO_LINE = ("  udp-io: %s\n" % os.environ["ANYDNS_TEST_UDP_IO"]
               if os.environ.get("ANYDNS_TEST_UDP_IO") else "")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("ANYDNS_BIN_DIR", "build/release/bin"))
ANYDNSD = os.path.join(BIN, "anydnsd")
ANYDNSC = os.path.join(BIN, "anydnsc")
SPEAK = os.path.join(BIN, "anydns-bgp-speak")
NS_POP = "anydns-pop-%d" % os.getpid()
NS_RTR = "anydns-rtr-%d" % os.getpid()
POP_IP, RTR_IP = "10.53.0.1", "10.53.0.2"

ZONE_COM = """$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster %d 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A %s
"""

ZONE_NET = """$ORIGIN example.net.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 198.51.100.53
www A 198.51.100.80
"""

CONF = """server:
  identity: test-pop
  listen: ["0.0.0.0", "::"]
  port: 53
  workers: 2
{udp_io}control:
  socket: {tmp}/ctl.sock
http:
  listen: "127.0.0.1@9153"
log:
  level: info
zones:
  - {{name: example.com, file: example.com.zone}}
  - {{name: example.net, file: example.net.zone}}
health:
  interval: 100ms
  timeout: 50ms
  rise: 2
  fall: 2
  hold-down: 1s
{bgp}
networks:
  - name: global
    prefixes: [192.0.2.1/32, "2001:db8::53/128"]
    interface: dummy0
    zones: [example.com]
    communities: ["64500:100"]
    drain-time: 1s
    checks:
      dns: {{name: www.example.com, type: A, expect-rdata: 192.0.2.80}}
  - name: eu
    prefixes: [198.51.100.53/32]
    interface: dummy0
    zones: [example.net]
    drain-time: 1s
"""

BGP = """bgp:
  local-as: 64500
  router-id: 10.53.0.1
  drain-on-stop: 1s
  withdraw-grace: 300ms
  peers:
    - {name: router, address: 10.53.0.2, remote-as: 64501, connect-retry: 1s, hold-time: 9s}
"""


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def in_ns(ns, *cmd, **kw):
    kw.setdefault("timeout", 30)
    return subprocess.run(("ip", "netns", "exec", ns) + cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


class Router:
    """anydns-bgp-speak in its namespace; commands on stdin, lines on stdout."""

    def __init__(self, tmp):
        self.lines = queue.Queue()
        self.log = open(os.path.join(tmp, "router.log"), "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_RTR, SPEAK, "--local-as", "64501",
             "--router-id", RTR_IP, "--peer", POP_IP + ",64500,passive,name=pop,hold=9",
             "--listen", RTR_IP],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def status(self):
        """The key=value pairs of the peer line, as ints where they are."""
        while not self.lines.empty():
            self.lines.get_nowait()
        self.proc.stdin.write("status\n")
        self.proc.stdin.flush()
        peer = {}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line.startswith("peer "):
                for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line):
                    peer[k] = int(v) if v.isdigit() else v.strip('"')
            elif line == "ok":
                return peer
        raise AssertionError("the router did not answer status")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Pop:
    def __init__(self, tmp, with_bgp):
        self.tmp = tmp
        self.interface_kind = None
        self.with_bgp = with_bgp
        self.proc = None
        self.router = None

    def ctl(self, *words, check=True):
        r = in_ns(NS_POP, ANYDNSC, "-s", os.path.join(self.tmp, "ctl.sock"), *words)
        if check:
            assert r.returncode == 0, r.stdout
        return r

    def networks(self):
        """name -> (state, why) from `anydnsc networks`."""
        out = {}
        for line in self.ctl("networks").stdout.splitlines():
            m = re.match(r'network (\S+): state=(\S+) .* why="(.*)"$', line)
            if m:
                out[m.group(1)] = (m.group(2), m.group(3))
        return out

    def wait_state(self, network, state, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.networks().get(network)
            if got is not None and got[0] == state:
                return got
            time.sleep(0.05)
        raise AssertionError("network %s not %s within %ss: %s\nlog:\n%s" % (
            network, state, timeout, self.networks(), self.log_text()[-4000:]))

    def dig(self, server, name, *opts):
        r = in_ns(NS_POP, "kdig", "@" + server, "+time=1", "+retry=0", name, "A", *opts)
        m = re.search(r"status: (\w+)", r.stdout)
        answers = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", r.stdout, re.M)
        return (m.group(1) if m else "NONE"), answers

    def addresses(self):
        r = sh("ip", "-n", NS_POP, "addr", "show", "dev", "dummy0")
        return set(re.findall(r"inet6? (\S+)", r.stdout))

    def log_text(self):
        with open(os.path.join(self.tmp, "anydnsd.log")) as f:
            return f.read()

    def write_com(self, serial, www):
        with open(os.path.join(self.tmp, "example.com.zone"), "w") as f:
            f.write(ZONE_COM % (serial, www))


@pytest.fixture(scope="module")
def pop():
    if os.geteuid() != 0:
        pytest.fail("these tests need root (network namespaces)")
    for ns in (NS_POP, NS_RTR):
        sh("ip", "netns", "del", ns, check=False)
    tmp = tempfile.mkdtemp(prefix="anydns-pop-")
    p = Pop(tmp, os.path.exists(SPEAK))
    try:
        sh("ip", "netns", "add", NS_POP)
        sh("ip", "netns", "add", NS_RTR)
        sh("ip", "-n", NS_POP, "link", "set", "lo", "up")
        sh("ip", "-n", NS_RTR, "link", "set", "lo", "up")
        sh("ip", "-n", NS_POP, "link", "add", "pop0", "type", "veth", "peer", "name",
           "rtr0", "netns", NS_RTR)
        sh("ip", "-n", NS_POP, "addr", "add", POP_IP + "/24", "dev", "pop0")
        sh("ip", "-n", NS_RTR, "addr", "add", RTR_IP + "/24", "dev", "rtr0")
        sh("ip", "-n", NS_POP, "link", "set", "pop0", "up")
        sh("ip", "-n", NS_RTR, "link", "set", "rtr0", "up")
        # The anycast interface: a dummy where the kernel has the driver,
        # else one end of a veth pair (any interface that is up will do).
        if sh("ip", "-n", NS_POP, "link", "add", "dummy0", "type", "dummy",
              check=False).returncode == 0:
            p.interface_kind = "dummy"
        else:
            sh("ip", "-n", NS_POP, "link", "add", "dummy0", "type", "veth", "peer",
               "name", "dummy0p")
            sh("ip", "-n", NS_POP, "link", "set", "dummy0p", "up")
            p.interface_kind = "veth"
        print("anycast interface: %s" % p.interface_kind)
        sh("ip", "-n", NS_POP, "link", "set", "dummy0", "up")

        p.write_com(1, "192.0.2.80")
        with open(os.path.join(tmp, "example.net.zone"), "w") as f:
            f.write(ZONE_NET)
        with open(os.path.join(tmp, "anydnsd.yaml"), "w") as f:
            f.write(CONF.format(tmp=tmp, bgp=BGP if p.with_bgp else "",
                               udp_io=UDP_IO_LINE))
        if p.with_bgp:
            p.router = Router(tmp)
        log = open(os.path.join(tmp, "anydnsd.log"), "w")
        p.proc = subprocess.Popen(["ip", "netns", "exec", NS_POP, ANYDNSD, "-c",
                                   os.path.join(tmp, "anydnsd.yaml")],
                                  stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if p.proc.poll() is not None:
                pytest.fail("anydnsd exited: " + p.log_text())
            if os.path.exists(os.path.join(tmp, "ctl.sock")):
                nets = p.ctl("networks", check=False)
                if nets.returncode == 0 and nets.stdout.count("state=announced") == 2:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("networks not announced; log: " + p.log_text())
        yield p
    finally:
        if p.proc is not None and p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
            try:
                p.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()
        if p.router is not None:
            p.router.stop()
        for ns in (NS_POP, NS_RTR):
            sh("ip", "netns", "del", ns, check=False)
        subprocess.run(["rm", "-rf", tmp])


def need_bgp(p):
    if not p.with_bgp:
        pytest.skip("%s is not built: no BGP peer" % SPEAK)


def test_addresses_on_the_interface(pop):
    assert {"192.0.2.1/32", "2001:db8::53/128", "198.51.100.53/32"} <= pop.addresses()
    out = pop.ctl("networks").stdout
    assert "address 192.0.2.1/32: on dummy0, added by anydnsd" in out, out
    assert "address 2001:db8::53/128: on dummy0, added by anydnsd" in out, out


def test_zone_refused_outside_its_network(pop):
    for tcp in ([], ["+tcp"]):
        # example.com is served by "global" only.
        assert pop.dig("192.0.2.1", "www.example.com", *tcp) == ("NOERROR", ["192.0.2.80"])
        assert pop.dig("2001:db8::53", "www.example.com", *tcp) == ("NOERROR", ["192.0.2.80"])
        assert pop.dig("198.51.100.53", "www.example.com", *tcp)[0] == "REFUSED"
        # example.net by "eu" only.
        assert pop.dig("198.51.100.53", "www.example.net", *tcp) == ("NOERROR", ["198.51.100.80"])
        assert pop.dig("192.0.2.1", "www.example.net", *tcp)[0] == "REFUSED"
        # An address in no network serves every zone.
        assert pop.dig("127.0.0.1", "www.example.com", *tcp)[0] == "NOERROR"
        assert pop.dig("127.0.0.1", "www.example.net", *tcp)[0] == "NOERROR"


def test_session_and_routes_at_the_router(pop):
    need_bgp(pop)
    st = pop.router.status()
    assert st["state"] == "Established", st
    # 192.0.2.1/32 and 198.51.100.53/32; IPv6 needs a next hop of its own
    # over this IPv4 session, and none is configured.
    assert st["prefixes_received"] >= 2, st
    out = pop.ctl("bgp").stdout
    assert re.search(r"^peer router: .*state=Established", out, re.M), out
    assert re.search(r"^route 192\.0\.2\.1/32: network=global state=announced "
                     r"prepend=0 communities=64500:100 .* to=router ", out, re.M), out
    assert re.search(r"^route 2001:db8::53/128: .* to=- ", out, re.M), out


def test_anycast_metrics(pop):
    """Every anycast metric documented in docs/operations.md is on the page
    (the BGP ones with a peer), with the values of the moment."""
    r = in_ns(NS_POP, "/usr/bin/python3", "-c",
              "import urllib.request; print(urllib.request.urlopen("
              "'http://127.0.0.1:9153/metrics', timeout=5).read().decode())")
    assert r.returncode == 0, r.stdout
    page = r.stdout
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        documented = set(re.findall(r"^\| `(anydns_(?:network|health|bgp)_[a-z_]+)`",
                                    f.read(), re.M))
    typed = set(re.findall(r"^# TYPE (anydns_(?:network|health|bgp)_\S+) ", page, re.M))
    if not pop.with_bgp:
        documented = {m for m in documented if not m.startswith("anydns_bgp_")}
    assert documented and documented == typed
    assert 'anydns_network_announced{network="global"} 1' in page
    assert 'anydns_network_address_present{network="eu",address="198.51.100.53/32"} 1' in page
    assert re.search(r'^anydns_health_check_up\{network="global",'
                     r'check="global/dns@192\.0\.2\.1",kind="dns"\} 1$', page, re.M)
    if pop.with_bgp:
        assert 'anydns_bgp_session_established{peer="router"} 1' in page
        assert 'anydns_bgp_prefixes_announced{peer="router"} 2' in page


def test_failing_probe_withdraws(pop):
    updates = pop.router.status()["updates_in"] if pop.with_bgp else 0
    pop.write_com(2, "192.0.2.81")
    start = time.monotonic()
    pop.ctl("reload")
    state, why = pop.wait_state("global", "withdrawn", 5)
    print("reload to withdrawn: %.0f ms" % ((time.monotonic() - start) * 1000))
    assert "RDATA 192.0.2.81, expected 192.0.2.80" in why, why
    out = pop.ctl("bgp").stdout
    assert re.search(r"^withdrawn 192\.0\.2\.1/32: network=global state=withdrawn", out, re.M), out
    # The other network is not touched.
    assert pop.networks()["eu"][0] == "announced"
    if pop.with_bgp:
        deadline = time.monotonic() + 3
        while pop.router.status()["updates_in"] == updates and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pop.router.status()["updates_in"] > updates
    # Right again: back after the hold-down (1 s after it went down).
    pop.write_com(3, "192.0.2.80")
    pop.ctl("reload")
    pop.wait_state("global", "announced", 5)


def test_drain_then_undrain(pop):
    pop.wait_state("global", "announced", 5)
    before = pop.router.status()["updates_in"] if pop.with_bgp else 0
    start = time.monotonic()
    out = pop.ctl("drain", "global").stdout
    assert "network global: state=draining" in out, out
    out = pop.ctl("bgp").stdout
    assert re.search(r"^route 192\.0\.2\.1/32: network=global state=draining prepend=0 "
                     r"communities=64500:100,65535:0 ", out, re.M), out
    # DNS is answered all along the drain.
    assert pop.dig("192.0.2.1", "www.example.com") == ("NOERROR", ["192.0.2.80"])
    if pop.with_bgp:
        # The re-announcement with 65535:0 reaches the router first...
        deadline = time.monotonic() + 0.8
        while pop.router.status()["updates_in"] == before and time.monotonic() < deadline:
            time.sleep(0.02)
        mid = pop.router.status()["updates_in"]
        assert mid == before + 1, (before, mid)
        assert time.monotonic() - start < 0.9
    state, why = pop.wait_state("global", "drained", 3)
    assert time.monotonic() - start >= 0.9
    assert why == "drain time over, withdrawn", why
    if pop.with_bgp:
        # ...then the withdrawal, once the drain time is over.
        deadline = time.monotonic() + 2
        while pop.router.status()["updates_in"] == mid and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pop.router.status()["updates_in"] == mid + 1
    assert pop.dig("192.0.2.1", "www.example.com")[0] == "NOERROR"
    r = pop.ctl("drain", "nowhere", check=False)
    assert r.returncode == 1 and "no network named 'nowhere'" in r.stdout, r.stdout
    pop.ctl("undrain", "global")
    pop.wait_state("global", "announced", 2)
    assert "communities=64500:100 " in pop.ctl("bgp").stdout


def test_stop_drains_withdraws_and_removes_addresses(pop):
    pop.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # Draining: still answering, the routes carry 65535:0.
    assert pop.dig("192.0.2.1", "www.example.com")[0] == "NOERROR"
    out = pop.ctl("bgp", check=False).stdout
    assert "stopping: yes" in out, out
    assert "65535:0" in out, out
    assert pop.proc.wait(timeout=15) == 0
    log = pop.log_text()
    drained = log.index("network global: draining -> drained")
    removed = log.index("network global: 192.0.2.1/32 removed from dummy0")
    assert drained < removed
    assert "192.0.2.1/32" not in pop.addresses()
    assert "198.51.100.53/32" not in pop.addresses()
    if pop.with_bgp:
        assert log.index("anycast: stopped") < log.index("sent NOTIFICATION 6/2")
        st = pop.router.status()
        assert st["state"] != "Established", st
        assert st["last_error"] == "6/2" and st["last_error_sent"] == 0, st
