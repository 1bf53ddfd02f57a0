"""System test of anydnsd and anydnsc: the real daemon on loopback.

Each test starts build/release/bin/anydnsd on 127.0.0.1 and ::1 with a
free port (printed, so a failure can be replayed), a control socket and a
zone in a temporary directory, and stops it by PID when done. Queries go
through kdig and dnspython; the control socket through anydnsc; /metrics
through urllib. Run from the repository root:

    /usr/bin/python3 -m pytest tests/system/test_daemon.py

ANYDNS_BIN_DIR=build/asan/bin runs the ASan+UBSan build instead.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

# ANYDNS_TEST_UDP_IO=uring|mmsg|auto runs every daemon with that
# server.udp-io; unset: the default (auto).
UDP_IO_LINE = ("  udp-io: %s\n" % os.environ["ANYDNS_TEST_UDP_IO"]
               if os.environ.get("ANYDNS_TEST_UDP_IO") else "")


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ANYDNS_BIN_DIR=build/asan/bin runs the same tests on the ASan build.
BIN = os.path.join(ROOT, os.environ.get("ANYDNS_BIN_DIR", "build/release/bin"))
ANYDNSD = os.path.join(BIN, "anydnsd")
ANYDNSC = os.path.join(BIN, "anydnsc")
OPERATIONS_MD = os.path.join(ROOT, "docs", "operations.md")

ZONE = "example.com."
ZONE_HEAD = """$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster {serial} 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
www AAAA 2001:db8::80
"""
# In a broken zone the bad record is on this line of the file.
BROKEN_LINE = 8
BROKEN_RECORD = "bad A 192.0.2.300\n"

pytestmark = pytest.mark.skipif(
    not (os.access(ANYDNSD, os.X_OK) and os.access(ANYDNSC, os.X_OK)),
    reason="build/release/bin/anydnsd and anydnsc not built (make release)")


def bindable(family, kind, addr, port):
    s = socket.socket(family, kind)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 and ::1 (checked, then
    released: the daemon binds it a moment later)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if all(bindable(f, k, a, port)
               for f, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1"))
               for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM)):
            return port
    raise RuntimeError("no free port found")


class Daemon:
    """One anydnsd with its files in a directory of its own."""

    def __init__(self, workdir, extra_conf="", zones=None, http=True,
                 sock=None):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.http_port = free_port() if http else None
        self.sock = sock or os.path.join(self.dir, "run", "anydnsd.sock")
        self.zone_file = os.path.join(self.dir, "example.com.zone")
        self.log_path = os.path.join(self.dir, "anydnsd.log")
        self.conf = os.path.join(self.dir, "anydnsd.yaml")
        self.mtime = 1_700_000_000
        self.proc = None
        print("anydnsd test: port %d, http port %s, dir %s"
              % (self.port, self.http_port, self.dir))
        self.write_zone(2024010101)
        zones = zones or [(ZONE, "example.com.zone")]
        with open(self.conf, "w") as f:
            f.write("server:\n"
                    "  listen: [\"127.0.0.1@%d\", \"::1@%d\"]\n"
                    "  workers: 2\n%s"
                    "  identity: test.anydns\n%s"
                    "control:\n  socket: %s\n"
                    "log:\n  level: info\n"
                    % (self.port, self.port, UDP_IO_LINE, extra_conf,
                       self.sock))
            if http:
                f.write("http:\n  listen: 127.0.0.1@%d\n" % self.http_port)
            f.write("zones:\n")
            for name, path in zones:
                f.write("  - name: %s\n    file: %s\n" % (name, path))

    def write_zone(self, serial, extra="", path=None):
        """Replaces the zone file as a deploy tool would (new file, then
        rename), with a modification time of its own: a reload must see
        the change whatever the file system's timestamp granularity."""
        path = path or self.zone_file
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write(ZONE_HEAD.format(serial=serial) + extra)
        self.mtime += 10
        os.utime(tmp, (self.mtime, self.mtime))
        os.rename(tmp, path)

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([ANYDNSD, "-c", self.conf],
                                     stdout=self.log, stderr=self.log)
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
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def ctl(self, *args):
        return subprocess.run([ANYDNSC, "-s", self.sock] + list(args),
                              capture_output=True, text=True, timeout=30)

    def query(self, name, rdtype="A", addr="127.0.0.1", tcp=False):
        q = dns.message.make_query(name, rdtype)
        if tcp:
            return dns.query.tcp(q, addr, port=self.port, timeout=3)
        return dns.query.udp(q, addr, port=self.port, timeout=3)

    def serial(self, addr="127.0.0.1"):
        r = self.query(ZONE, "SOA", addr)
        assert r.rcode() == dns.rcode.NOERROR
        return r.answer[0][0].serial

    def metrics(self):
        url = "http://127.0.0.1:%d/metrics" % self.http_port
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return r.read().decode()


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    try:
        yield d.start()
    finally:
        d.stop()
    # A clean stop is exit 0: also what catches sanitizer reports at exit.
    assert d.proc.returncode == 0, d.log_text()


def kdig(*args):
    p = subprocess.run(["kdig", "+short", "+time=3", "+retry=0"] + list(args),
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def samples(text):
    """{(name, labels): value} of a Prometheus text page."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)", line)
        assert m, "not a sample line: %r" % line
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def wait_for(predicate, what, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


# ---- tests ------------------------------------------------------------------

def test_udp_and_tcp_on_v4_and_v6(daemon):
    p = str(daemon.port)
    assert kdig("@127.0.0.1", "-p", p, "www.example.com", "A") == ["192.0.2.80"]
    assert kdig("@::1", "-p", p, "www.example.com", "AAAA") == ["2001:db8::80"]
    assert kdig("@127.0.0.1", "-p", p, "+tcp", "www.example.com", "A") == ["192.0.2.80"]
    assert kdig("@::1", "-p", p, "+tcp", "www.example.com", "AAAA") == ["2001:db8::80"]
    r = daemon.query("nope.example.com.", "A", "::1", tcp=True)
    assert r.rcode() == dns.rcode.NXDOMAIN


def test_control_status_zones_stats(daemon):
    sent = {"udp4": 5, "udp6": 3, "tcp4": 2, "tcp6": 1}
    for transport, n in sent.items():
        addr = "127.0.0.1" if transport.endswith("4") else "::1"
        for _ in range(n):
            r = daemon.query("www.example.com.", "A", addr,
                             tcp=transport.startswith("tcp"))
            assert r.rcode() == dns.rcode.NOERROR

    st = daemon.ctl("status")
    assert st.returncode == 0, st.stderr
    assert "workers: 2\n" in st.stdout
    assert "listen: 127.0.0.1@%d\n" % daemon.port in st.stdout
    assert "listen: ::1@%d\n" % daemon.port in st.stdout
    assert "zones: 1 served, 0 failed, 1 configured\n" in st.stdout
    assert re.search(r"^version: \S+$", st.stdout, re.M)
    assert re.search(r"^uptime: \d+s$", st.stdout, re.M)

    zones = daemon.ctl("zones")
    assert zones.returncode == 0
    assert re.fullmatch(r"example\.com\. serial=2024010101 state=loaded "
                        r"loaded=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ file=%s\n"
                        % re.escape(daemon.zone_file), zones.stdout)

    stats = daemon.ctl("stats")
    assert stats.returncode == 0
    for transport, n in sent.items():
        assert 'anydns_queries_total{transport="%s"} %d\n' % (transport, n) in stats.stdout
    total = sum(sent.values())
    assert 'anydns_responses_total{rcode="NOERROR"} %d\n' % total in stats.stdout
    assert 'anydns_queries_by_type_total{qtype="A"} %d\n' % total in stats.stdout
    assert 'anydns_zone_serial{zone="example.com."} 2024010101\n' in stats.stdout


def test_anydnsc_errors(daemon, tmp_path):
    r = daemon.ctl("bogus")
    assert r.returncode == 1
    assert "unknown command 'bogus'" in r.stderr
    r = daemon.ctl("reload", "not-configured.example")
    assert r.returncode == 1
    assert "zone not-configured.example. is not configured" in r.stderr
    missing = str(tmp_path / "no.sock")
    r = subprocess.run([ANYDNSC, "-s", missing, "status"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert missing in r.stderr


def test_reload_new_serial(daemon):
    assert daemon.serial() == 2024010101
    daemon.write_zone(2024010102, "new A 192.0.2.2\n")
    r = daemon.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert "example.com. serial=2024010102 state=loaded" in r.stdout
    assert daemon.serial() == 2024010102
    assert daemon.serial("::1") == 2024010102
    assert kdig("@127.0.0.1", "-p", str(daemon.port), "new.example.com") == ["192.0.2.2"]
    # Nothing changed since: the zone is kept as it is.
    r = daemon.ctl("reload")
    assert r.returncode == 0
    assert "state=unchanged" in r.stdout
    # Asked for by name, it is read again.
    r = daemon.ctl("reload", "example.com")
    assert r.returncode == 0
    assert "example.com. serial=2024010102 state=loaded" in r.stdout


def test_broken_zone_keeps_old_version(daemon):
    daemon.write_zone(2024010199, BROKEN_RECORD)
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "failed-kept-old" in daemon.ctl("zones").stdout,
             "the failed reload")
    where = "%s:%d:" % (daemon.zone_file, BROKEN_LINE)
    zones = daemon.ctl("zones").stdout
    assert "serial=2024010101 state=failed-kept-old" in zones
    assert "error=" + where in zones
    assert where in daemon.log_text()
    assert daemon.serial() == 2024010101
    assert kdig("@::1", "-p", str(daemon.port), "+tcp", "www.example.com") == ["192.0.2.80"]
    # The same through the control socket: error reply, old data served.
    r = daemon.ctl("reload")
    assert r.returncode == 1
    assert "failed to load" in r.stderr
    assert where in r.stdout
    assert daemon.serial() == 2024010101
    # Fixed: the new serial is served.
    daemon.write_zone(2024010200)
    assert daemon.ctl("reload").returncode == 0
    assert daemon.serial() == 2024010200


def test_zone_failing_at_start(tmp_path):
    d = Daemon(tmp_path, zones=[(ZONE, "example.com.zone"),
                                ("broken.test", "broken.zone")])
    with open(os.path.join(d.dir, "broken.zone"), "w") as f:
        f.write("$ORIGIN broken.test.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\n"
                "ns 300 A 192.0.2.1\nx 300 TXT \"unterminated\n")
    try:
        d.start()
        assert d.serial() == 2024010101
        r = d.query("ns.broken.test.", "A")
        assert r.rcode() == dns.rcode.REFUSED
        zones = d.ctl("zones").stdout
        assert "broken.test. serial=- state=failed-absent" in zones
        assert "error=%s:5:" % os.path.join(d.dir, "broken.zone") in zones
        assert "zones: 1 served, 1 failed, 2 configured" in d.ctl("status").stdout
    finally:
        d.stop()
    assert d.proc.returncode == 0, d.log_text()


def test_control_socket_in_use_and_stale(tmp_path):
    first = Daemon(tmp_path / "first")
    second = Daemon(tmp_path / "second", sock=first.sock)
    try:
        first.start()
        # Another daemon answers on the socket: the second one stops
        # before it serves anything.
        log = open(second.log_path, "w")
        r = subprocess.run([ANYDNSD, "-c", second.conf], stdout=log,
                           stderr=log, timeout=10)
        log.close()
        assert r.returncode == 2
        assert "another process answers on %s" % first.sock in second.log_text()
        assert "server:" not in second.log_text()
        assert first.ctl("status").returncode == 0
        # The first one dies without cleaning up: its socket file stays,
        # and the next daemon replaces it.
        first.proc.kill()
        first.proc.wait()
        assert os.path.exists(first.sock)
        second.start()
        assert "replacing stale socket %s" % first.sock in second.log_text()
        assert second.serial() == 2024010101
    finally:
        first.stop()
        second.stop()
    assert second.proc.returncode == 0


def test_check_config(tmp_path):
    d = Daemon(tmp_path)
    r = subprocess.run([ANYDNSD, "-n", "-c", d.conf], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert '    - "127.0.0.1@%d"\n' % d.port in r.stdout
    assert '    - "::1@%d"\n' % d.port in r.stdout
    assert '  workers: 2\n' in r.stdout
    assert '  - name: "example.com."\n    file: "%s"\n' % d.zone_file in r.stdout
    # The normalised form is a configuration that normalises to itself.
    printed = os.path.join(d.dir, "printed.yaml")
    with open(printed, "w") as f:
        f.write(r.stdout)
    again = subprocess.run([ANYDNSD, "-n", "-c", printed], capture_output=True,
                           text=True, timeout=10)
    assert again.returncode == 0 and again.stdout == r.stdout

    bad = os.path.join(d.dir, "bad.yaml")
    with open(bad, "w") as f:
        f.write("server:\n  workers: 2\n  colour: blue\n")
    r = subprocess.run([ANYDNSD, "-n", "-c", bad], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert r.stdout == ""
    assert re.search(r"%s:3:\d+: " % re.escape(bad), r.stderr), r.stderr
    # Not running with a bad configuration either.
    r = subprocess.run([ANYDNSD, "-c", bad], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1


def test_metrics(daemon):
    for _ in range(4):
        daemon.query("www.example.com.", "AAAA", "127.0.0.1")
    for _ in range(2):
        daemon.query("nope.example.com.", "A", "::1", tcp=True)
    page = daemon.metrics()
    s = samples(page)
    assert s[("anydns_queries_total", '{transport="udp4"}')] == 4
    assert s[("anydns_queries_total", '{transport="tcp6"}')] == 2
    assert s[("anydns_queries_total", '{transport="udp6"}')] == 0
    assert s[("anydns_responses_total", '{rcode="NOERROR"}')] == 4
    assert s[("anydns_responses_total", '{rcode="NXDOMAIN"}')] == 2
    assert s[("anydns_queries_by_type_total", '{qtype="AAAA"}')] == 4
    assert s[("anydns_queries_by_type_total", '{qtype="A"}')] == 2
    assert s[("anydns_tcp_connections_total", '{event="accepted"}')] == 2
    assert s[("anydns_zone_serial", '{zone="example.com."}')] == 2024010101
    assert s[("anydns_zone_load_failed", '{zone="example.com."}')] == 0
    assert s[("anydns_zones", "")] == 1
    assert s[("anydns_workers", "")] == 2
    assert s[("anydns_reloads_total", "")] == 1
    assert s[("anydns_uptime_seconds", "")] > 0
    assert any(k[0] == "anydns_build_info" and v == 1 for k, v in s.items())

    # Every metric documented in docs/operations.md is on the page, and
    # every metric on the page is documented. The anycast metrics come only
    # with networks or BGP configured (tests/system/test_pop_local.py).
    with open(OPERATIONS_MD) as f:
        documented = set(re.findall(r"^\| `(anydns_[a-z_]+)`", f.read(), re.M))
    documented = {m for m in documented
                  if not m.startswith(("anydns_network_", "anydns_health_", "anydns_bgp_"))}
    typed = set(re.findall(r"^# TYPE (\S+) ", page, re.M))
    assert documented and documented == typed

    url = "http://127.0.0.1:%d/other" % daemon.http_port
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url, timeout=5)
    assert e.value.code == 404


def test_privileges_and_pidfile():
    # pytest's temporary directories are private to root: nobody could not
    # read the zone files there after the switch.
    workdir = tempfile.mkdtemp(prefix="anydns-privs-")
    os.chmod(workdir, 0o755)
    pidfile = os.path.join(workdir, "anydnsd.pid")
    d = Daemon(workdir, "  user: nobody\n  pidfile: %s\n" % pidfile)
    os.chmod(d.zone_file, 0o644)
    nobody = pwd.getpwnam("nobody").pw_uid
    try:
        d.start()
        with open(pidfile) as f:
            assert int(f.read()) == d.proc.pid
        with open("/proc/%d/status" % d.proc.pid) as f:
            uids = re.search(r"^Uid:\s+(.*)$", f.read(), re.M).group(1).split()
        assert uids == [str(nobody)] * 4
        st = os.stat(d.sock)
        assert st.st_mode & 0o777 == 0o660
        assert st.st_uid == nobody
        # Reloading as nobody still works.
        d.write_zone(2024010102)
        os.chmod(d.zone_file, 0o644)
        assert d.ctl("reload").returncode == 0
        assert d.serial() == 2024010102
        d.stop()
        assert d.proc.returncode == 0
        # The socket's directory was made for nobody: the socket went away.
        assert not os.path.exists(d.sock)
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_sigterm_under_load(tmp_path):
    d = Daemon(tmp_path, http=False)
    d.start()
    stop = threading.Event()
    sent = [0]

    def blast(family, addr):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setblocking(False)
        wire = dns.message.make_query("www.example.com.", "A").to_wire()
        while not stop.is_set():
            try:
                s.sendto(wire, (addr, d.port))
                sent[0] += 1
            except BlockingIOError:
                time.sleep(0.001)
            try:
                while True:
                    s.recv(4096)
            except BlockingIOError:
                pass
        s.close()

    def tcp_clients():
        while not stop.is_set():
            try:
                d.query("www.example.com.", "A", "127.0.0.1", tcp=True)
            except Exception:
                pass

    threads = [threading.Thread(target=blast, args=(socket.AF_INET, "127.0.0.1")),
               threading.Thread(target=blast, args=(socket.AF_INET6, "::1")),
               threading.Thread(target=tcp_clients)]
    try:
        for t in threads:
            t.start()
        time.sleep(0.5)
        start = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        code = d.proc.wait(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        stop.set()
        for t in threads:
            t.join()
        d.stop()
    assert sent[0] > 100
    assert code == 0, d.log_text()
    assert elapsed < 2, "stopping took %.2fs" % elapsed
    assert "stopping on SIGTERM" in d.log_text()
    assert not os.path.exists(d.sock)
