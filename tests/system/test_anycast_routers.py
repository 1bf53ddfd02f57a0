"""End-to-end test of anycast routing: the real daemon with real routers.

Three network namespaces joined by veth pairs: a client, a router and a
PoP. The router runs BIRD 2, then (second parametrized run) FRR 8, with
its own config, control socket and pid files, and installs the BGP routes
it learns in its kernel table (BIRD's `kernel` protocol, FRR's zebra). The
PoP runs build/<variant>/bin/anydnsd with one anycast network,
192.0.2.53/32 and 2001:db8::53/128 serving example.com with a DNS probe,
peering with the router over IPv4 (with TCP-MD5, RFC 2385) and over IPv6.
The client's default routes point at the router. Checked, for each router:

- both sessions Established, at the router and in `anydnsc bgp`;
- both anycast routes in the router's kernel table, and the client gets
  answers from 192.0.2.53 and 2001:db8::53 through the router;
- a failing probe (the zone reloaded with RDATA the probe does not expect)
  takes both routes out of the router's table; the right answer again
  brings them back after the hold-down;
- `anydnsc drain` puts 65535:0 (RFC 8326) on the routes at the router
  before they are withdrawn, and a client asking every 10 ms through the
  drain window loses no query; `undrain` announces them without it;
- SIGTERM drains (65535:0 at the router), then withdraws, and the daemon
  exits 0; a restarted daemon is announced again within 2 s of its zones
  loading and its probes passing (the figure is printed).

Run as root from the repository root: /usr/bin/python3 -m pytest
tests/system/test_anycast_routers.py. Every process is stopped by its PID
and the namespaces are deleted at the end, also on failure.
"""

import calendar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("ANYDNS_BIN_DIR", "build/release/bin"))
ANYDNSD = os.path.join(BIN, "anydnsd")
ANYDNSC = os.path.join(BIN, "anydnsc")
TAG = "adar%d" % os.getpid()
NS_C, NS_R, NS_P = TAG + "-client", TAG + "-router", TAG + "-pop"

ANY4, ANY6 = "192.0.2.53", "2001:db8::53"
ROUTE4, ROUTE6 = ANY4 + "/32", ANY6 + "/128"
CLI4, CLI6, RC4, RC6 = "198.51.100.10", "2001:db8:c::10", "198.51.100.1", "2001:db8:c::1"
RP4, RP6, POP4, POP6 = "203.0.113.1", "2001:db8:1::1", "203.0.113.2", "2001:db8:1::2"
AS_POP, AS_RTR = 64496, 64497
MD5 = "anydns-e2e-key"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")

ZONE = """$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster %d 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
www A %s
"""

POP_CONF = """server:
  identity: anydns-e2e-pop
  listen: ["0.0.0.0", "::"]
  workers: 2
control:
  socket: {tmp}/ctl.sock
log:
  level: info
zones:
  - {{name: example.com, file: example.com.zone}}
bgp:
  local-as: 64496
  router-id: 203.0.113.2
  drain-on-stop: 1s
  withdraw-grace: 300ms
  peers:
    - {{name: r4, address: 203.0.113.1, remote-as: 64497, connect-retry: 1s,
       hold-time: 9s, md5-password: {md5}, ipv6: false}}
    - {{name: r6, address: "2001:db8:1::1", remote-as: 64497, connect-retry: 1s,
       hold-time: 9s, ipv4: false}}
health:
  rise: 2
  hold-down: 1s
networks:
  - name: global
    prefixes: [192.0.2.53/32, "2001:db8::53/128"]
    zones: [example.com]
    drain-time: 1500ms
    checks:
      dns: {{name: www.example.com, type: A, expect-rdata: 192.0.2.80}}
"""

BIRD_CONF = """router id 198.51.100.1;
log stderr all;
protocol device { }
protocol kernel kernel4 { ipv4 { import none; export all; }; }
protocol kernel kernel6 { ipv6 { import none; export all; }; }
filter from_pop {
  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
  accept;
}
template bgp pop {
  local as 64497;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
}
protocol bgp r4 from pop {
  neighbor 203.0.113.2 as 64496;
  source address 203.0.113.1;
  password "%s";
  ipv4 { import filter from_pop; export none; };
}
protocol bgp r6 from pop {
  neighbor 2001:db8:1::2 as 64496;
  source address 2001:db8:1::1;
  ipv6 { import filter from_pop; export none; };
}
""" % MD5

FRR_CONF = """hostname anydns-e2e-bgpd
router bgp 64497
 bgp router-id 198.51.100.1
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 203.0.113.2 remote-as 64496
 neighbor 203.0.113.2 password %s
 neighbor 203.0.113.2 timers connect 1
 neighbor 2001:db8:1::2 remote-as 64496
 neighbor 2001:db8:1::2 timers connect 1
 address-family ipv4 unicast
  neighbor 203.0.113.2 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor 2001:db8:1::2 activate
 exit-address-family
""" % MD5

# A client asking every 10 ms for `seconds`; prints how many queries it
# sent and how many got an answer (within 500 ms of the last one sent).
PROBER = r'''
import json, select, socket, struct, sys, time
target, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in target else socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
q = b"\x03www\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
sent, answered = 0, set()
start = time.monotonic()
nxt = start
end = start + seconds
while True:
    now = time.monotonic()
    if now >= end + 0.5:
        break
    if now >= nxt and now < end:
        try:
            s.sendto(struct.pack("!HHHHHH", sent, 0, 1, 0, 0, 0) + q, (target, 53))
        except OSError:
            pass
        sent += 1
        nxt += 0.01
        continue
    wait = (nxt if now < end else end + 0.5) - now
    select.select([s], [], [], max(0, wait))
    while True:
        try:
            m = s.recv(4096)
        except BlockingIOError:
            break
        except OSError:
            continue
        if len(m) >= 4 and m[3] & 0x0f == 0:
            answered.add(struct.unpack("!H", m[:2])[0])
print(json.dumps({"sent": sent, "answered": len(answered)}))
'''


def sh(*cmd, check=True, timeout=30):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, "%s: %s" % (" ".join(cmd), r.stdout)
    return r


def wait_for(what, fn, timeout, interval=0.05):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                         % (timeout, what, last))


def stop_pid(proc, timeout=10):
    """Stops one process we started, by its PID."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def kernel_route(prefix):
    """The router's kernel route to prefix, '' when it has none."""
    fam = "-6" if ":" in prefix else "-4"
    return sh("ip", "-n", NS_R, fam, "route", "show", prefix.split("/")[0]).stdout.strip()


def dig(server, name="www.example.com", qtype="A", qclass="IN"):
    """(RCODE, answer RDATAs) of a query from the client's namespace."""
    r = sh("ip", "netns", "exec", NS_C, "kdig", "@" + server, "+time=1", "+retry=0",
           "-c", qclass, name, qtype, check=False)
    m = re.search(r"status: (\w+)", r.stdout)
    answers = re.findall(r"^\S+\s+\d+\s+%s\s+%s\s+(.+)$" % (qclass, qtype), r.stdout, re.M)
    return (m.group(1) if m else "NONE"), answers


def probe(target, seconds):
    r = sh("ip", "netns", "exec", NS_C, sys.executable, "-c", PROBER, target,
           str(seconds), timeout=seconds + 10)
    return json.loads(r.stdout)


def log_time(line):
    """CLOCK_MONOTONIC time of an anydnsd log line (stamped in UTC to the
    millisecond)."""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z ", line)
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    wall = calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000.0
    return wall - (time.time() - time.monotonic())


class Bird:
    name = "bird"
    gshut = "(65535,0)"

    def __init__(self, tmp):
        self.conf = os.path.join(tmp, "bird.conf")
        self.sock = os.path.join(tmp, "bird.ctl")
        self.log_path = os.path.join(tmp, "bird.log")
        with open(self.conf, "w") as f:
            f.write(BIRD_CONF)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_R, "bird", "-f", "-c", self.conf, "-s",
             self.sock, "-P", os.path.join(tmp, "bird.pid")],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for("BIRD's control socket", lambda: os.path.exists(self.sock), 5)

    def cli(self, *args):
        return sh("birdc", "-s", self.sock, *args, check=False).stdout

    def state(self, session):
        m = re.search(r"BGP state:\s+(\S+)", self.cli("show", "protocols", "all", session))
        return m.group(1) if m else None

    def established(self):
        return self.state("r4") == "Established" and self.state("r6") == "Established"

    def ready_for_reconnect(self):
        return all(self.state(s) in ("Active", "Connect") for s in ("r4", "r6"))

    def route(self, prefix):
        """The route's attributes in BIRD's table, '' when it has none."""
        out = self.cli("show", "route", "for", prefix, "all")
        return out if "BGP.as_path" in out else ""

    def stop(self):
        stop_pid(self.proc)
        self.log.close()

    def tail(self):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-30:])


class Frr:
    name = "frr"
    gshut = "graceful-shutdown"

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "frr")
        os.makedirs(self.dir, exist_ok=True)
        shutil.chown(self.dir, "frr", "frr")
        api = os.path.join(self.dir, "zserv.api")
        self.procs, self.logs = [], []
        for daemon, text in (("zebra", "hostname anydns-e2e-zebra\n"), ("bgpd", FRR_CONF)):
            path = os.path.join(self.dir, daemon + ".conf")
            with open(path, "w") as f:
                f.write(text)
            log = open(os.path.join(self.dir, daemon + ".log"), "w")
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", NS_R, "/usr/lib/frr/" + daemon, "-f", path,
                 "-i", os.path.join(self.dir, daemon + ".pid"), "-z", api,
                 "--vty_socket", self.dir, "-P", "0", "--log", "stdout"],
                stdout=log, stderr=subprocess.STDOUT))
            wait_for(daemon + "'s vty socket", lambda d=daemon: os.path.exists(
                os.path.join(self.dir, d + ".vty")), 10)

    def json(self, command):
        r = sh("vtysh", "--vty_socket", self.dir, "-c", command, check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def state(self, neighbor):
        return self.json("show bgp neighbors %s json" % neighbor).get(
            neighbor, {}).get("bgpState")

    def established(self):
        return self.state(POP4) == "Established" and self.state(POP6) == "Established"

    def ready_for_reconnect(self):
        return all(self.state(n) in ("Active", "Connect") for n in (POP4, POP6))

    def route(self, prefix):
        """The route's paths as JSON text, '' when FRR has none."""
        afi = "ipv6" if ":" in prefix else "ipv4"
        r = self.json("show bgp %s unicast %s json" % (afi, prefix))
        return json.dumps(r["paths"]) if r.get("paths") else ""

    def stop(self):
        for proc in reversed(self.procs):
            stop_pid(proc)
        for log in self.logs:
            log.close()

    def tail(self):
        out = ""
        for daemon in ("zebra", "bgpd"):
            with open(os.path.join(self.dir, daemon + ".log")) as f:
                out += "".join(f.readlines()[-20:])
        return out


class Pop:
    def __init__(self, tmp):
        self.tmp = tmp
        self.conf = os.path.join(tmp, "anydnsd.yaml")
        self.log_path = os.path.join(tmp, "anydnsd.log")
        self.proc = None
        self.offset = 0
        with open(self.conf, "w") as f:
            f.write(POP_CONF.format(tmp=tmp, md5=MD5))
        self.write_zone(1, "192.0.2.80")

    def write_zone(self, serial, www):
        with open(os.path.join(self.tmp, "example.com.zone"), "w") as f:
            f.write(ZONE % (serial, www))

    def start(self):
        self.offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.started = time.monotonic()
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(["ip", "netns", "exec", NS_P, ANYDNSD, "-c",
                                          self.conf], stdout=log, stderr=subprocess.STDOUT)

    def ctl(self, *words):
        r = sh("ip", "netns", "exec", NS_P, ANYDNSC, "-s",
               os.path.join(self.tmp, "ctl.sock"), *words, check=False)
        assert r.returncode == 0, "anydnsc %s: %s" % (" ".join(words), r.stdout)
        return r.stdout

    def log(self):
        """This run's part of the log."""
        with open(self.log_path) as f:
            f.seek(self.offset)
            return f.read()

    def tail(self):
        return "".join(self.log().splitlines(True)[-40:])

    def stop(self):
        """SIGTERM, as an operator would; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            stop_pid(self.proc)
            return None


@pytest.fixture(scope="module")
def netns():
    for path in (ANYDNSD, ANYDNSC):
        if not os.path.exists(path):
            pytest.fail("%s is missing: build it first (make release)" % path)
    created = []
    try:
        for ns in (NS_C, NS_R, NS_P):
            sh("ip", "netns", "add", ns)
            created.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for sysctl in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"):
            sh("ip", "netns", "exec", NS_R, "sysctl", "-qw", sysctl)
        for ns, dev, a4, a6, rdev, r4, r6 in (
                (NS_C, "eth0", CLI4, CLI6, "to-client", RC4, RC6),
                (NS_P, "eth0", POP4, POP6, "to-pop", RP4, RP6)):
            sh("ip", "-n", NS_R, "link", "add", rdev, "type", "veth", "peer", "name",
               dev, "netns", ns)
            for n, d, x4, x6 in ((ns, dev, a4, a6), (NS_R, rdev, r4, r6)):
                sh("ip", "-n", n, "addr", "add", x4 + "/24", "dev", d)
                sh("ip", "-n", n, "addr", "add", x6 + "/64", "dev", d, "nodad")
                sh("ip", "-n", n, "link", "set", d, "up")
        # The client reaches everything through the router; the PoP only
        # the client's network.
        sh("ip", "-n", NS_C, "route", "add", "default", "via", RC4)
        sh("ip", "-n", NS_C, "-6", "route", "add", "default", "via", RC6)
        sh("ip", "-n", NS_P, "route", "add", "198.51.100.0/24", "via", RP4)
        sh("ip", "-n", NS_P, "-6", "route", "add", "2001:db8:c::/64", "via", RP6)
        # IPv6 starts on a link only once the kernel's link watcher (which
        # runs at most once a second) has seen its carrier; until then the
        # operational state is not UP and neighbour discovery stays silent.
        wait_for("the links up", lambda: all(
            "state UP" in sh("ip", "-n", n, "link", "show", d).stdout
            for n, d in ((NS_C, "eth0"), (NS_P, "eth0"), (NS_R, "to-client"),
                         (NS_R, "to-pop"))), 5)
        yield
    finally:
        for ns in created:
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture(scope="module", params=[Bird, Frr], ids=["bird", "frr"])
def lab(request, netns):
    tmp = tempfile.mkdtemp(prefix="anydns-e2e-")
    os.chmod(tmp, 0o755)
    router = pop = None
    try:
        router = request.param(tmp)
        pop = Pop(tmp)
        pop.start()
        wait_for("both sessions Established at %s" % router.name, router.established, 30)
        wait_for("the routes at %s" % router.name, lambda: routes_up(router), 10)
        yield router, pop
    finally:
        if sys.exc_info()[0] is not None and router is not None:
            print("---- router\n" + router.tail())
        if pop is not None:
            pop.stop()
        if router is not None:
            router.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def logs_on_failure(router, pop):
    if sys.exc_info()[0] is not None:
        print("---- %s\n%s\n---- anydnsd\n%s" % (router.name, router.tail(), pop.tail()))


def routes_up(router):
    return all(router.route(p) and kernel_route(p) for p in (ROUTE4, ROUTE6))


def routes_gone(router):
    return not any(router.route(p) or kernel_route(p) for p in (ROUTE4, ROUTE6))


def test_sessions_routes_and_answers(lab):
    router, pop = lab
    try:
        out = pop.ctl("bgp")
        assert re.search(r"^peer r4: .*state=Established", out, re.M), out
        assert re.search(r"^peer r6: .*state=Established", out, re.M), out
        assert re.search(r"^route 192\.0\.2\.53/32: network=global state=announced .* to=r4 ",
                         out, re.M), out
        assert re.search(r"^route 2001:db8::53/128: network=global state=announced .* to=r6 ",
                         out, re.M), out
        k4 = wait_for("192.0.2.53 in the router's kernel table", lambda: kernel_route(ROUTE4), 10)
        assert "via %s" % POP4 in k4 and ("proto bird" in k4 or "proto bgp" in k4), k4
        k6 = wait_for("2001:db8::53 in the router's kernel table", lambda: kernel_route(ROUTE6), 10)
        assert "via %s" % POP6 in k6, k6
        r4 = router.route(ROUTE4)
        assert "64496" in r4 and router.gshut not in r4, r4
        # The client has nothing but its default routes via the router.
        assert dig(ANY4) == ("NOERROR", ["192.0.2.80"])
        assert dig(ANY6) == ("NOERROR", ["192.0.2.80"])
        assert dig(ANY4, "id.server", "TXT", "CH") == ("NOERROR", ['"anydns-e2e-pop"'])
        assert dig(ANY6, "id.server", "TXT", "CH") == ("NOERROR", ['"anydns-e2e-pop"'])
    finally:
        logs_on_failure(router, pop)


def test_failing_probe_withdraws_recovery_announces(lab):
    router, pop = lab
    try:
        wait_for("routes up", lambda: routes_up(router), 10)
        pop.write_zone(2, "192.0.2.81")
        t0 = time.monotonic()
        pop.ctl("reload")
        wait_for("the routes to leave the router", lambda: routes_gone(router), 5, 0.02)
        print("%s: reload with wrong RDATA -> routes gone at the router: %.0f ms"
              % (router.name, (time.monotonic() - t0) * 1000))
        out = pop.ctl("networks")
        assert "RDATA 192.0.2.81, expected 192.0.2.80" in out, out
        # No route to the anycast addresses any more: the client gets nothing.
        assert dig(ANY4)[0] == "NONE"
        pop.write_zone(3, "192.0.2.80")
        t0 = time.monotonic()
        pop.ctl("reload")
        wait_for("the routes back at the router", lambda: routes_up(router), 5, 0.02)
        print("%s: right again -> routes back: %.0f ms (hold-down 1 s)"
              % (router.name, (time.monotonic() - t0) * 1000))
        assert dig(ANY4) == ("NOERROR", ["192.0.2.80"])
    finally:
        logs_on_failure(router, pop)


def test_drain_graceful_shutdown_then_withdraw(lab):
    router, pop = lab
    try:
        wait_for("routes up", lambda: routes_up(router), 10)
        prober = subprocess.Popen(
            ["ip", "netns", "exec", NS_C, sys.executable, "-c", PROBER, ANY4, "1.2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(0.1)
            t0 = time.monotonic()
            out = pop.ctl("drain", "global")
            assert "state=draining" in out, out
            # 65535:0 at the router on both routes, while they are still there.
            for prefix in (ROUTE4, ROUTE6):
                r = wait_for("65535:0 on %s at %s" % (prefix, router.name),
                             lambda p=prefix: router.gshut in router.route(p) and
                             router.route(p), 1.0, 0.02)
                assert "64496" in r
                assert kernel_route(prefix), prefix
            seen = time.monotonic() - t0
            got = json.loads(prober.communicate(timeout=15)[0])
        finally:
            stop_pid(prober)
        print("%s: 65535:0 at the router %.0f ms after the drain; client during the "
              "drain: %s" % (router.name, seen * 1000, got))
        assert seen < 1.2
        assert got["sent"] >= 100 and got["answered"] == got["sent"], got
        # Then withdrawn, once the drain time (1.5 s) is over.
        wait_for("the withdrawal after the drain", lambda: routes_gone(router), 4, 0.02)
        assert time.monotonic() - t0 >= 1.4
        assert dig(ANY4)[0] == "NONE"
        out = pop.ctl("undrain", "global")
        wait_for("the routes back after undrain", lambda: routes_up(router), 3, 0.02)
        for prefix in (ROUTE4, ROUTE6):
            assert router.gshut not in router.route(prefix)
        assert dig(ANY4) == ("NOERROR", ["192.0.2.80"])
    finally:
        logs_on_failure(router, pop)


def test_sigterm_drains_withdraws_and_restart_is_announced(lab):
    router, pop = lab
    try:
        wait_for("routes up", lambda: routes_up(router), 10)
        pop.proc.send_signal(signal.SIGTERM)
        wait_for("65535:0 at the router on SIGTERM",
                 lambda: router.gshut in router.route(ROUTE4), 0.9, 0.02)
        assert dig(ANY4) == ("NOERROR", ["192.0.2.80"])
        wait_for("the withdrawal on stop", lambda: routes_gone(router), 5, 0.02)
        assert pop.proc.wait(15) == 0, pop.tail()
        log = pop.log()
        assert log.index("network global: draining -> drained") < \
            log.index("network global: 192.0.2.53/32 removed from lo"), log

        # An upstream that takes the reconnect, then the restart.
        wait_for("%s ready for the reconnect" % router.name, router.ready_for_reconnect, 15)
        pop.start()
        t_route = wait_for("the route back after the restart",
                           lambda: kernel_route(ROUTE4) and time.monotonic(), 10, 0.01)
        wait_for("both routes back", lambda: routes_up(router), 5)
        line = wait_for("the announcement in the log", lambda: re.search(
            r"^.*network global: withdrawn -> announced.*$", pop.log(), re.M), 5)
        t_ready = log_time(line.group(0))
        figure = t_route - t_ready
        print("%s: restart: announced (zones loaded, probes passing) %.3f s after the "
              "start; route in the router's kernel table %.3f s after that"
              % (router.name, t_ready - pop.started, figure))
        assert figure <= 2.0, figure
        assert dig(ANY4) == ("NOERROR", ["192.0.2.80"])
    finally:
        logs_on_failure(router, pop)
