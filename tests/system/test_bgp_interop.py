"""Interop tests of the BGP speaker (src/bgp) with BIRD 2, FRR 8 and a raw
test peer, in network namespaces.

Two namespaces joined by a veth pair: the speaker's (192.0.2.1,
2001:db8::1, AS 64496) runs build/<variant>/bin/anydns-bgp-speak; the
router's (192.0.2.2, 2001:db8::2, AS 64497) runs BIRD, then FRR (bgpd and
zebra), then a Python peer that speaks raw BGP. Checked:

- sessions reach Established with BIRD and with FRR over IPv4 and over IPv6
  transport, with TCP-MD5 (RFC 2385) on the IPv4 session;
- 192.0.2.53/32 and 2001:db8::53/128 show up in the router's BGP table
  with our AS_PATH prepends, communities and large communities, and in
  its kernel table; a withdrawal removes them; an IPv6 route over the IPv4
  session carries the configured IPv6 next hop;
- a wrong MD5 password keeps the session down;
- malformed OPENs and UPDATEs get the right NOTIFICATION code/subcode
  (RFC 4271 section 6), an UPDATE that RFC 7606 treats as withdraw does not
  reset the session;
- a peer that stops sending keepalives is dropped when the hold timer (3 s)
  expires, with NOTIFICATION 4/0.

Run as root from the repository root: /usr/bin/python3 -m pytest
tests/system/test_bgp_interop.py. Every process is stopped by PID and the
namespaces are deleted at the end, also on failure.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, os.environ.get("ANYDNS_BIN_DIR", "build/release/bin"))
SPEAK = os.path.join(BIN, "anydns-bgp-speak")
PID = os.getpid()
NS_S = "adbgp%d-s" % PID       # the speaker's namespace
NS_R = "adbgp%d-r" % PID       # the router's
VETH_S = "ab%ds" % PID
VETH_R = "ab%dr" % PID
S4, R4 = "192.0.2.1", "192.0.2.2"
S6, R6 = "2001:db8::1", "2001:db8::2"
AS_S, AS_R = 64496, 64497
MD5 = "anydns-md5-key"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def wait_for(what, fn, timeout, interval=0.1):
    """Polls fn() until it returns something true; fails with what."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                         % (timeout, what, last))


def stop_pid(proc, timeout=5):
    """Stops one process we started, by its PID."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def net():
    if not os.path.exists(SPEAK):
        pytest.fail("%s is missing: build it first (make release)" % SPEAK)
    tmp = tempfile.mkdtemp(prefix="anydns-bgp-")
    os.chmod(tmp, 0o755)
    try:
        sh("ip", "netns", "add", NS_S)
        sh("ip", "netns", "add", NS_R)
        sh("ip", "link", "add", VETH_S, "netns", NS_S, "type", "veth",
           "peer", "name", VETH_R, "netns", NS_R)
        for ns, dev, a4, a6 in ((NS_S, VETH_S, S4, S6), (NS_R, VETH_R, R4, R6)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        print("namespaces %s %s, files in %s" % (NS_S, NS_R, tmp))
        yield tmp
    finally:
        for ns in (NS_S, NS_R):
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


class Speaker:
    """anydns-bgp-speak in the speaker's namespace, driven on stdin."""

    def __init__(self, tmp, name, args):
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_S, SPEAK, "--local-as", str(AS_S),
             "--router-id", S4, "--log-level", "info"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True, bufsize=1)
        self.states = []
        self.replies = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("state "):
                self.states.append(line.split()[1:])
            else:
                self.replies.put(line)

    def command(self, line, timeout=5):
        """Sends one command; returns its reply lines up to ok/error."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out = []
        while True:
            reply = self.replies.get(timeout=timeout)
            if reply in ("started", "stopped"):
                continue
            out.append(reply)
            if reply == "ok" or reply.startswith(("error", "flushed")):
                return out

    def ok(self, line):
        reply = self.command(line)
        assert reply[-1] == "ok", "%s: %s" % (line, reply)

    def status(self):
        peers = {}
        for line in self.command("status"):
            if not line.startswith("peer "):
                continue
            words = line.split(" ", 2)
            fields = {}
            for kv in words[2].split(" "):
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    fields.setdefault(k, v)
            peers[words[1]] = fields
        return peers

    def state(self, peer):
        return self.status().get(peer, {}).get("state")

    def stop(self):
        """quit, as an operator would; it must exit cleanly (an ASan build
        reports leaks and errors through its exit status)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        code = self.proc.poll()
        stop_pid(self.proc)
        self.log.close()
        if sys.exc_info()[0] is None and code != 0:
            raise AssertionError("speaker exited with %r:\n%s" % (code, self.tail()))

    def tail(self):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-40:])


class Bird:
    """BIRD 2 in the router's namespace with its own config, socket and
    pid file."""

    def __init__(self, tmp, conf):
        self.conf = os.path.join(tmp, "bird.conf")
        self.sock = os.path.join(tmp, "bird.ctl")
        self.pidfile = os.path.join(tmp, "bird.pid")
        self.log_path = os.path.join(tmp, "bird.log")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_R, "bird", "-c", self.conf, "-s",
             self.sock, "-P", self.pidfile, "-f"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for("BIRD's control socket", lambda: os.path.exists(self.sock), 5)

    def cli(self, *args):
        return sh("birdc", "-s", self.sock, *args, check=False).stdout

    def established(self, proto):
        return "Established" in self.cli("show", "protocols", proto)

    def route(self, prefix):
        out = self.cli("show", "route", "for", prefix, "all")
        return out if ("BGP.as_path" in out and prefix.split("/")[0] in out) else ""

    def stop(self):
        stop_pid(self.proc)
        self.log.close()

    def tail(self):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-30:])


class Frr:
    """FRR 8 zebra and bgpd in the router's namespace with their own
    config, vty sockets and pid files in one directory."""

    def __init__(self, tmp, conf):
        self.dir = os.path.join(tmp, "frr")
        os.makedirs(self.dir, exist_ok=True)
        shutil.chown(self.dir, "frr", "frr")
        api = os.path.join(self.dir, "zserv.api")
        self.procs = []
        self.logs = []
        for daemon, text in (("zebra", "hostname anydns-test-zebra\n"),
                             ("bgpd", conf)):
            path = os.path.join(self.dir, daemon + ".conf")
            with open(path, "w") as f:
                f.write(text)
            log = open(os.path.join(self.dir, daemon + ".log"), "w")
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", NS_R, "/usr/lib/frr/" + daemon,
                 "-f", path, "-i", os.path.join(self.dir, daemon + ".pid"),
                 "-z", api, "--vty_socket", self.dir, "-P", "0",
                 "--log", "stdout"],
                stdout=log, stderr=subprocess.STDOUT))
            wait_for(daemon + "'s vty socket", lambda d=daemon: os.path.exists(
                os.path.join(self.dir, d + ".vty")), 10)

    def vtysh(self, command):
        return sh("vtysh", "--vty_socket", self.dir, "-c", command, check=False).stdout

    def json(self, command):
        try:
            return json.loads(self.vtysh(command))
        except ValueError:
            return {}

    def established(self, neighbor):
        n = self.json("show bgp neighbors %s json" % neighbor).get(neighbor, {})
        return n.get("bgpState") == "Established"

    def route(self, afi, prefix):
        r = self.json("show bgp %s unicast %s json" % (afi, prefix))
        return r if r.get("paths") else None

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


def kernel_route(prefix):
    family = "-6" if ":" in prefix else "-4"
    return sh("ip", "-n", NS_R, family, "route", "show", prefix).stdout.strip()


ANNOUNCE = ["--announce", "192.0.2.53/32,prepend=2,community=64496:53,"
            "large=64496:1:2,med=10",
            "--announce", "2001:db8::53/128,prepend=1,community=64496:66,"
            "large=64496:6:6"]


def speaker_args(md5=MD5, ipv6_session=True):
    args = ["--listen", S4, "--listen", S6,
            "--peer", "%s,%d,retry=1,hold=9,md5=%s,nh6=%s,name=v4" % (R4, AS_R, md5, S6)]
    if ipv6_session:
        args += ["--peer", "%s,%d,retry=1,hold=9,name=v6" % (R6, AS_R)]
    return args + ANNOUNCE


BIRD_CONF = """
router id 192.0.2.2;
log stderr all;
protocol device { }
protocol kernel kernel4 { ipv4 { import none; export all; }; }
protocol kernel kernel6 { ipv6 { import none; export all; }; }
template bgp anydns {
  local as 64497;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
protocol bgp anydns_v4 from anydns {
  neighbor 192.0.2.1 as 64496;
  source address 192.0.2.2;
  password "%s";
}
protocol bgp anydns_v6 from anydns {
  neighbor 2001:db8::1 as 64496;
  source address 2001:db8::2;
}
"""

FRR_CONF = """hostname anydns-test-bgpd
router bgp 64497
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 neighbor 192.0.2.1 remote-as 64496
 neighbor 192.0.2.1 password %s
 neighbor 192.0.2.1 timers connect 1
 neighbor 2001:db8::1 remote-as 64496
 neighbor 2001:db8::1 timers connect 1
 address-family ipv4 unicast
  neighbor 192.0.2.1 activate
  neighbor 2001:db8::1 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor 192.0.2.1 activate
  neighbor 2001:db8::1 activate
 exit-address-family
""" % MD5


def report(*parts):
    """On failure, print the logs (pytest shows them with the failure)."""
    if sys.exc_info()[0] is not None:
        for p in parts:
            if p is not None:
                print("---- %s\n%s" % (type(p).__name__, p.tail()))


def test_bird(net):
    bird = speaker = None
    try:
        bird = Bird(net, BIRD_CONF % MD5)
        speaker = Speaker(net, "speak-bird", speaker_args())
        wait_for("both sessions up at BIRD",
                 lambda: bird.established("anydns_v4") and bird.established("anydns_v6"), 15)
        st = speaker.status()
        assert st["v4"]["state"] == "Established" and st["v6"]["state"] == "Established"
        assert st["v4"]["hold"] == "9"

        r4 = wait_for("192.0.2.53/32 at BIRD", lambda: bird.route("192.0.2.53/32"), 5)
        assert "BGP.as_path: 64496 64496 64496" in r4, r4
        assert "(64496,53)" in r4, r4
        assert "(64496, 1, 2)" in r4, r4
        assert "BGP.med: 10" in r4, r4
        assert "BGP.next_hop: 192.0.2.1" in r4, r4
        r6 = wait_for("2001:db8::53/128 at BIRD", lambda: bird.route("2001:db8::53/128"), 5)
        assert "BGP.as_path: 64496 64496" in r6, r6
        assert "(64496,66)" in r6 and "(64496, 6, 6)" in r6, r6
        # Learned over both sessions: the IPv4 one carries nh6.
        assert "anydns_v4" in r6 and "anydns_v6" in r6, r6
        assert "BGP.next_hop: 2001:db8::1" in r6, r6
        k4 = wait_for("192.0.2.53 in the kernel", lambda: kernel_route("192.0.2.53"), 5)
        assert "via 192.0.2.1" in k4 and "proto bird" in k4, k4
        k6 = wait_for("2001:db8::53 in the kernel", lambda: kernel_route("2001:db8::53"), 5)
        assert "via 2001:db8::1" in k6, k6

        speaker.ok("withdraw 192.0.2.53/32")
        speaker.ok("withdraw 2001:db8::53/128")
        wait_for("withdrawal at BIRD", lambda: not bird.route("192.0.2.53/32")
                 and not bird.route("2001:db8::53/128"), 5)
        wait_for("withdrawal in the kernel", lambda: not kernel_route("192.0.2.53")
                 and not kernel_route("2001:db8::53"), 5)
        assert speaker.command("flushed") == ["flushed yes"]

        # Announced again, now with the GRACEFUL_SHUTDOWN community.
        speaker.ok("announce 192.0.2.53/32 community=65535:0 prepend=1")
        r4 = wait_for("192.0.2.53/32 back at BIRD", lambda: bird.route("192.0.2.53/32"), 5)
        assert "(65535,0)" in r4 and "BGP.as_path: 64496 64496" in r4, r4
        st = speaker.status()
        assert st["v4"]["prefixes_announced"] == "1", st
        assert st["v6"]["prefixes_announced"] == "0", st   # no nh4 there
        assert st["v4"]["established"] == "1" and st["v6"]["established"] == "1", st
    finally:
        report(speaker, bird)
        if speaker:
            speaker.stop()
        if bird:
            bird.stop()


def test_bird_md5_mismatch(net):
    bird = speaker = None
    try:
        bird = Bird(net, BIRD_CONF % MD5)
        speaker = Speaker(net, "speak-md5", speaker_args(md5="not-the-key"))
        # The session without MD5 comes up; the one with the wrong key not.
        wait_for("the IPv6 session", lambda: bird.established("anydns_v6"), 15)
        time.sleep(4)
        assert not bird.established("anydns_v4")
        assert speaker.state("v4") != "Established"
        assert not bird.route("192.0.2.53/32")
    finally:
        report(speaker, bird)
        if speaker:
            speaker.stop()
        if bird:
            bird.stop()


def test_frr(net):
    frr = speaker = None
    try:
        frr = Frr(net, FRR_CONF)
        speaker = Speaker(net, "speak-frr", speaker_args())
        wait_for("both sessions up at FRR",
                 lambda: frr.established(S4) and frr.established(S6), 30)
        r4 = wait_for("192.0.2.53/32 at FRR", lambda: frr.route("ipv4", "192.0.2.53/32"), 5)
        path = r4["paths"][0]
        assert path["aspath"]["string"] == "64496 64496 64496", path
        assert path["community"]["string"] == "64496:53", path
        assert path["largeCommunity"]["string"] == "64496:1:2", path
        assert path.get("metric") == 10, path
        r6 = wait_for("2001:db8::53/128 at FRR", lambda: frr.route("ipv6", "2001:db8::53/128"), 5)
        paths = r6["paths"]
        assert all(p["aspath"]["string"] == "64496 64496" for p in paths), paths
        assert all(p["community"]["string"] == "64496:66" for p in paths), paths
        assert {n["ip"] for p in paths for n in p["nexthops"]} == {S6}, paths
        k4 = wait_for("192.0.2.53 in the kernel", lambda: kernel_route("192.0.2.53"), 10)
        assert "via 192.0.2.1" in k4 and "bgp" in k4, k4
        wait_for("2001:db8::53 in the kernel", lambda: kernel_route("2001:db8::53"), 10)

        speaker.ok("withdraw 192.0.2.53/32")
        speaker.ok("withdraw 2001:db8::53/128")
        wait_for("withdrawal at FRR", lambda: not frr.route("ipv4", "192.0.2.53/32")
                 and not frr.route("ipv6", "2001:db8::53/128"), 5)
        wait_for("withdrawal in the kernel", lambda: not kernel_route("192.0.2.53")
                 and not kernel_route("2001:db8::53"), 5)
        # A ROUTE-REFRESH from FRR gets our routes again (RFC 2918).
        speaker.ok("announce 192.0.2.53/32 community=64496:99")
        wait_for("the new announcement", lambda: frr.route("ipv4", "192.0.2.53/32"), 5)
        before = int(speaker.status()["v4"]["updates_out"])
        frr.vtysh("clear bgp ipv4 unicast 192.0.2.1 soft in")
        wait_for("re-sent routes", lambda: int(speaker.status()["v4"]["updates_out"]) > before, 5)
        assert speaker.status()["v4"]["established"] == "1"
    finally:
        report(speaker, frr)
        if speaker:
            speaker.stop()
        if frr:
            frr.stop()


# A BGP peer in raw bytes, run in the router's namespace: prints one JSON
# object with what the speaker answered.
RAW_PEER = r'''
import json, socket, struct, sys, time

S4, R4 = "192.0.2.1", "192.0.2.2"
case = sys.argv[1]

def msg(t, body=b""):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body

def open_(version=4, my_as=64497, hold=90, ident="192.0.2.2"):
    # Capabilities: MP IPv4 and IPv6 unicast, route refresh, 4-octet AS.
    caps = bytes.fromhex("0214010400010001010400020001020041040000") + \
        struct.pack("!H", my_as)
    return msg(1, struct.pack("!BHH4sB", version, my_as, hold,
                              socket.inet_aton(ident), len(caps)) + caps)

def recv_msg(s):
    hdr = b""
    while len(hdr) < 19:
        chunk = s.recv(19 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    length, t = struct.unpack("!HB", hdr[16:19])
    body = b""
    while len(body) < length - 19:
        chunk = s.recv(length - 19 - len(body))
        if not chunk:
            return None
        body += chunk
    return t, body

def until(s, want):
    """Reads messages up to one of type want; a NOTIFICATION ends it."""
    while True:
        m = recv_msg(s)
        if m is None or m[0] == 3 or m[0] == want:
            return m

ORIGIN = "40010100"
AS_PATH = "4002060201" + "0000fbf1"
NH = "400304c0000202"
NLRI = "18c63364"

def update(attrs, nlri=NLRI, wd=""):
    a = bytes.fromhex("".join(attrs))
    w = bytes.fromhex(wd)
    return msg(2, struct.pack("!H", len(w)) + w + struct.pack("!H", len(a)) + a
               + bytes.fromhex(nlri))

UPDATES = {
    "unknown_well_known": update([ORIGIN, AS_PATH, NH, "40630100"]),
    "nlri_prefix_33": update([ORIGIN, AS_PATH, NH], nlri="21c000020000"),
    "withdrawn_len": msg(2, bytes.fromhex("00ff0000")),
    "bad_origin": update(["40010107", AS_PATH, NH]),
}

s = socket.socket()
s.bind((R4, 0))
s.settimeout(10)
s.connect((S4, 179))
out = {}
if case.startswith("open_"):
    kind = case[5:]
    o = {"version": open_(version=3), "as": open_(my_as=64999),
         "hold": open_(hold=2), "id": open_(ident="0.0.0.0")}[kind]
    s.sendall(o)
else:
    hold = 3 if case == "hold" else 90
    s.sendall(open_(hold=hold))
    m = until(s, 1)
    assert m and m[0] == 1, m
    out["their_hold"] = struct.unpack("!H", m[1][3:5])[0]
    m = until(s, 4)
    assert m and m[0] == 4, m
    s.sendall(msg(4))
    time.sleep(0.2)
    start = time.monotonic()
    if case == "hold":
        pass                       # and never send anything again
    else:
        s.sendall(UPDATES[case])
        if case == "bad_origin":
            # Treat-as-withdraw: the session stays. For 1.5 s, with our
            # KEEPALIVEs going out, only KEEPALIVEs and UPDATEs (the
            # speaker's routes) may come back, no NOTIFICATION.
            out["types"] = []
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                s.settimeout(max(0.05, end - time.monotonic()))
                try:
                    m = recv_msg(s)
                except socket.timeout:
                    continue
                out["types"].append(None if m is None else m[0])
                if m is None:
                    break
                s.sendall(msg(4))
            print(json.dumps(out), flush=True)
            sys.stdin.read()        # until the test has read the status
            sys.exit(0)
m = until(s, 3)
if case == "hold":
    out["elapsed"] = time.monotonic() - start
if m and m[0] == 3:
    out["notification"] = [m[1][0], m[1][1], m[1][2:].hex()]
print(json.dumps(out), flush=True)
sys.stdin.read()
'''


def raw_peer(net, case):
    """One raw session against a fresh speaker; returns the peer's report."""
    speaker = Speaker(net, "speak-raw-" + case,
                      ["--listen", S4, "--peer", "%s,%d,passive,hold=3,retry=1"
                       % (R4, AS_R)] + ANNOUNCE)
    try:
        wait_for("the speaker to listen", lambda: speaker.state(R4) == "Active", 5)
        peer = subprocess.Popen(["ip", "netns", "exec", NS_R, "/usr/bin/python3",
                                 "-c", RAW_PEER, case], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        try:
            line = peer.stdout.readline()
            try:
                result = json.loads(line)
            except ValueError:
                raise AssertionError("raw peer: %s%s" % (line, peer.stdout.read()))
            # Its connection is still open: the session's state now.
            result["status"] = speaker.status()[R4]
            peer.stdin.close()
            assert peer.wait(10) == 0
        finally:
            stop_pid(peer)
        return result
    except Exception:
        print(speaker.tail())
        raise
    finally:
        speaker.stop()


@pytest.mark.parametrize("case,code,sub,data", [
    ("open_version", 2, 1, "0004"),          # Unsupported Version Number
    ("open_as", 2, 2, ""),                   # Bad Peer AS
    ("open_hold", 2, 6, ""),                 # Unacceptable Hold Time
    ("open_id", 2, 3, ""),                   # Bad BGP Identifier
    ("unknown_well_known", 3, 2, "40630100"),  # Unrecognized Well-known
    ("nlri_prefix_33", 3, 10, ""),           # Invalid Network Field
    ("withdrawn_len", 3, 1, ""),             # Malformed Attribute List
])
def test_raw_malformed(net, case, code, sub, data):
    r = raw_peer(net, case)
    assert r.get("notification") == [code, sub, data], r
    assert r["status"]["last_error"] == "%d/%d" % (code, sub), r
    assert r["status"]["last_error_sent"] == "1", r


def test_raw_treat_as_withdraw(net):
    r = raw_peer(net, "bad_origin")
    assert r["types"] and set(r["types"]) <= {2, 4}, r     # no NOTIFICATION
    assert r["status"]["state"] == "Established", r
    assert r["status"]["updates_in"] == "1", r
    assert r["status"]["prefixes_received"] == "0", r


def test_raw_hold_timer(net):
    r = raw_peer(net, "hold")
    assert r["their_hold"] == 3, r
    assert r.get("notification") == [4, 0, ""], r
    assert 2.5 <= r["elapsed"] <= 4.5, r
    assert r["status"]["state"] != "Established", r
