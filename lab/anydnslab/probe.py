"""The lab's prober: DNS queries at a fixed rate from one client, each
asking for NSID (RFC 5001), so every answer says which PoP sent it.

Run as a script inside a client's namespace, it sends one UDP query every
--interval seconds to --server and prints one line per query once its fate
is known:

    A SEQ T_SENT RTT_MS NSID      answered (NSID "-" when none came back)
    L SEQ T_SENT                  lost: no answer within --timeout

T_SENT is CLOCK_MONOTONIC, which every namespace shares, so the lab can
line the results up with what it did at the same moment. It stops after
--max-count queries or --max-seconds, or on SIGTERM, and then waits for
the answers still due (at most --timeout). Probing is therefore bounded in
count and in time whatever happens to the lab process.

Imported as a module, ProbeSet runs one prober per client and collects
their lines.
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


def build_query(qid, name, qtype=1):
    """A query for name/qtype with an OPT record asking for NSID."""
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode("ascii")
    q += b"\x00" + struct.pack("!HH", qtype, 1)
    # OPT: root name, type 41, payload 1232, no extended flags, NSID option.
    q += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 4) + struct.pack("!HH", 3, 0)
    return q


def _skip_name(msg, off):
    while True:
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def parse_reply(msg):
    """(id, rcode, nsid or None) of a response; ValueError if it is not one."""
    if len(msg) < 12:
        raise ValueError("short")
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if not flags & 0x8000:
        raise ValueError("not a response")
    off = 12
    for _ in range(qd):
        off = _skip_name(msg, off) + 4
    for _ in range(an + ns):
        off = _skip_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("truncated record")
        off += 10 + struct.unpack("!H", msg[off + 8:off + 10])[0]
    nsid = None
    for _ in range(ar):
        off = _skip_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("truncated record")
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if off + rdlen > len(msg):
            raise ValueError("truncated RDATA")
        if rtype == 41:
            o, end = off, off + rdlen
            while o + 4 <= end:
                code, olen = struct.unpack("!HH", msg[o:o + 4])
                if code == 3 and o + 4 + olen <= end:
                    nsid = msg[o + 4:o + 4 + olen].decode("ascii", "replace")
                o += 4 + olen
        off += rdlen
    return qid, flags & 0xF, nsid


def probe(server, port, name, interval, timeout, max_count, max_seconds, out):
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect((server, port))
    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the lab stops us
    t0 = time.monotonic()
    deadline = t0 + max_seconds
    next_send, seq = t0, 0
    pending = {}                  # qid -> (seq, t_sent)
    out.write("S %.6f %s\n" % (t0, server))
    while True:
        now = time.monotonic()
        sending = not stopping[0] and seq < max_count and now < deadline
        if sending and now >= next_send:
            qid = seq & 0xFFFF
            try:
                sock.send(build_query(qid, name))
                pending[qid] = (seq, now)
            except OSError:
                out.write("L %d %.6f\n" % (seq, now))
            seq += 1
            next_send += interval
            if next_send < now - 5 * interval:     # we were not scheduled: skip ahead
                next_send = now + interval
            continue
        for qid, (s, ts) in list(pending.items()):
            if now - ts >= timeout:
                out.write("L %d %.6f\n" % (s, ts))
                del pending[qid]
        if not sending and not pending:
            break
        out.flush()
        wake = [ts + timeout for _, ts in pending.values()]
        if sending:
            wake.append(next_send)
        wait = max(0.0, min(wake) - time.monotonic()) if wake else 0.05
        try:
            ready, _, _ = select.select([sock], [], [], wait)
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
                break        # ICMP error on the connected socket: the query stays due
            rt = time.monotonic()
            try:
                qid, rcode, nsid = parse_reply(msg)
            except (ValueError, struct.error):
                continue
            if qid in pending:
                s, ts = pending.pop(qid)
                out.write("A %d %.6f %.3f %s\n" % (s, ts, (rt - ts) * 1000, nsid or "-"))
    out.write("E %d\n" % seq)
    out.flush()


class ProbeSet:
    """One prober per (client, server address), each in its client's
    namespace, in a session of its own; lines collected by threads."""

    def __init__(self, lab, clients, servers=None, interval=0.01, timeout=1.0,
                 max_seconds=60.0):
        self.lab = lab
        self.interval = interval
        self.servers = servers or lab.topo.service_addresses(4)
        self.t0 = time.monotonic()
        self.data = {}            # (client, server) -> list of (t_abs, pop, rtt)
        self.procs = {}
        self.lock = threading.Lock()
        self.threads = []
        self.started = {}
        max_count = int(max_seconds / interval) + 1
        for c in clients:
            for s in self.servers:
                key = (c, s)
                self.data[key] = []
                argv = [sys.executable, os.path.abspath(__file__), "--server", s,
                        "--port", str(lab.topo.port), "--name", lab.topo.query_name,
                        "--interval", str(interval), "--timeout", str(timeout),
                        "--max-count", str(max_count), "--max-seconds", str(max_seconds)]
                p = subprocess.Popen(["ip", "netns", "exec", lab.ns(c)] + argv,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
                self.procs[key] = p
                th = threading.Thread(target=self._read, args=(key, p), daemon=True)
                th.start()
                self.threads.append(th)
        # Time 0 is when the first prober started sending, not when Python
        # was launched in the namespaces.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(self.started) < len(self.procs):
            if any(p.poll() is not None for p in self.procs.values()):
                break
            time.sleep(0.01)
        if len(self.started) < len(self.procs):
            self.stop()
            raise RuntimeError("the probers did not start (python3 in the clients' namespaces)")
        self.t0 = min(self.started.values())

    def _read(self, key, p):
        for line in p.stdout:
            f = line.split()
            if not f:
                continue
            if f[0] == "A":
                item = (float(f[2]), None if f[4] == "-" else f[4], float(f[3]))
            elif f[0] == "L":
                item = (float(f[2]), None, None)
            elif f[0] == "S":
                with self.lock:
                    self.started[key] = float(f[1])
                continue
            else:
                continue
            with self.lock:
                self.data[key].append(item)

    def now(self):
        return time.monotonic() - self.t0

    def series(self, client, server=None, label=None):
        """A report.Series of what the client saw so far, t from self.t0."""
        from .report import Series
        server = server or self.servers[0]
        with self.lock:
            samples = [(t - self.t0, pop, rtt) for t, pop, rtt in self.data[(client, server)]]
        return Series(label or client, samples, self.interval)

    def wait_until(self, predicate, timeout, poll=0.05):
        """Polls predicate() until true or timeout; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(poll)

    def stop(self):
        """SIGTERM to each prober (by the PID we started), then waits for the
        answers still due."""
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
    ap.add_argument("--name", default="www.example.com")
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--max-count", type=int, default=6000)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    a = ap.parse_args(argv)
    if a.interval < 0.001 or a.max_count > 100000 or a.max_seconds > 600:
        ap.error("interval at least 1 ms, at most 100000 queries and 600 s")
    probe(a.server, a.port, a.name, a.interval, a.timeout, a.max_count,
          a.max_seconds, sys.stdout)


if __name__ == "__main__":
    main()
