"""The lab's serial watcher: asks one server for a zone's SOA every few
milliseconds over UDP and says when the serial it answers changes, so the
propagation scenario sees the moment each PoP serves a new version.

Run as a script inside a namespace (one long-running process per server,
one socket, so it can poll every 2 ms), it prints:

    S T                   started sending (T: CLOCK_MONOTONIC)
    V T SERIAL RCODE      the first answer with a serial other than the
                          last one printed, or the first answer after the
                          server stopped answering (SERIAL "-" when the
                          answer holds no SOA, e.g. SERVFAIL)
    D T                   the server stopped answering: an ICMP error, or
                          no answer for --down-after seconds
    E COUNT ANSWERS       stopped: queries sent, answers received

T of a V line is when that answer arrived. It stops after --max-seconds or
on SIGTERM, so it never outlives the lab by much.

Imported as a module, SerialWatch runs one watcher per server address
and keeps what they print, on the same clock as the lab.
"""

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from anydnslab.probe import _skip_name  # noqa: E402


def build_soa_query(qid, zone):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in zone.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode("ascii")
    return q + b"\x00" + struct.pack("!HH", 6, 1)


def parse_soa_reply(msg):
    """(id, rcode, serial or None) of a response; ValueError if it is not
    one. The serial is the first SOA of the answer section."""
    if len(msg) < 12:
        raise ValueError("short")
    qid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if not flags & 0x8000:
        raise ValueError("not a response")
    off = 12
    for _ in range(qd):
        off = _skip_name(msg, off) + 4
    for _ in range(an):
        off = _skip_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("truncated record")
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 6:
            o = _skip_name(msg, _skip_name(msg, off))     # MNAME, RNAME
            if o + 4 > off + rdlen:
                raise ValueError("short SOA")
            return qid, flags & 0xF, struct.unpack("!I", msg[o:o + 4])[0]
        off += rdlen
    return qid, flags & 0xF, None


def watch(server, port, zone, interval, down_after, max_seconds, out):
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect((server, port))
    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the lab stops us
    t0 = time.monotonic()
    deadline = t0 + max_seconds
    out.write("S %.6f\n" % t0)
    out.flush()
    seq, answers = 0, 0
    last = None                # what the last V line said
    up = False                 # answering since the last V line
    last_answer = t0
    next_send = t0
    while not stopping[0]:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_send:
            try:
                sock.send(build_soa_query(seq & 0xFFFF, zone))
            except OSError:
                # An earlier query's ICMP port unreachable, reported here:
                # nothing listens there (a stopped anydnsd).
                if up:
                    up = False
                    out.write("D %.6f\n" % now)
                    out.flush()
            seq += 1
            next_send += interval
            if next_send < now:            # we were not scheduled: skip ahead
                next_send = now + interval
        if up and now - last_answer > down_after:
            up = False
            out.write("D %.6f\n" % now)
            out.flush()
        try:
            ready, _, _ = select.select([sock], [], [], max(0.0, next_send - time.monotonic()))
        except InterruptedError:
            continue
        if not ready:
            continue
        while True:
            try:
                msg = sock.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                # ICMP port unreachable: nothing listens there (a stopped
                # anydnsd).
                if up:
                    up = False
                    out.write("D %.6f\n" % time.monotonic())
                    out.flush()
                break
            rt = time.monotonic()
            try:
                _, rcode, serial = parse_soa_reply(msg)
            except (ValueError, struct.error):
                continue
            answers += 1
            last_answer = rt
            value = (serial, rcode)
            if not up or value != last:
                out.write("V %.6f %s %d\n" % (rt, "-" if serial is None else serial, rcode))
                out.flush()
                last, up = value, True
    out.write("E %d %d\n" % (seq, answers))
    out.flush()


class SerialWatch:
    """One watcher per server address, all in one namespace, each in a
    session of its own; their lines collected by threads."""

    def __init__(self, lab, ns_host, servers, zone, interval=0.002,
                 down_after=0.2, max_seconds=300.0):
        """servers: {label: address}. ns_host: the lab host whose namespace
        they run in (one with a route to every address)."""
        self.procs = {}
        self.events = {k: [] for k in servers}   # label -> [(t, serial|None, rcode) | (t, "down")]
        self.counts = {}
        self.started = {}
        self.lock = threading.Lock()
        self.threads = []
        for label, addr in servers.items():
            argv = [sys.executable, os.path.abspath(__file__), "--server", addr,
                    "--port", str(lab.topo.port), "--zone", zone,
                    "--interval", str(interval), "--down-after", str(down_after),
                    "--max-seconds", str(max_seconds)]
            p = subprocess.Popen(["ip", "netns", "exec", lab.ns(ns_host)] + argv,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True,
                                 start_new_session=True)
            self.procs[label] = p
            th = threading.Thread(target=self._read, args=(label, p), daemon=True)
            th.start()
            self.threads.append(th)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(self.started) < len(self.procs):
            if any(p.poll() is not None for p in self.procs.values()):
                break
            time.sleep(0.01)
        if len(self.started) < len(self.procs):
            self.stop()
            raise RuntimeError("the serial watchers did not start (python3 in %s's namespace)"
                               % ns_host)

    def _read(self, label, p):
        for line in p.stdout:
            f = line.split()
            if not f:
                continue
            with self.lock:
                if f[0] == "S":
                    self.started[label] = float(f[1])
                elif f[0] == "V":
                    self.events[label].append((float(f[1]), None if f[2] == "-" else int(f[2]),
                                               int(f[3])))
                elif f[0] == "D":
                    self.events[label].append((float(f[1]), "down", None))
                elif f[0] == "E":
                    self.counts[label] = (int(f[1]), int(f[2]))

    def history(self, label):
        with self.lock:
            return list(self.events[label])

    def current(self, label):
        """The serial the server answers now: None when it does not answer
        (or answers without a SOA)."""
        h = self.history(label)
        if not h or h[-1][1] == "down":
            return None
        return h[-1][1]

    def first_serial(self, label, serial, since):
        """When the server first answered `serial` at or after `since`,
        or None."""
        for t, s, _ in self.history(label):
            if t >= since and s == serial:
                return t
        return None

    def wait(self, predicate, timeout, poll=0.001):
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(poll)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(2)
        for th in self.threads:
            th.join(2)


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--interval", type=float, default=0.002)
    ap.add_argument("--down-after", type=float, default=0.2)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    a = ap.parse_args(argv)
    if a.interval < 0.0005 or a.max_seconds > 3600:
        ap.error("interval at least 0.5 ms, at most 3600 s")
    watch(a.server, a.port, a.zone, a.interval, a.down_after, a.max_seconds, sys.stdout)


if __name__ == "__main__":
    main()
