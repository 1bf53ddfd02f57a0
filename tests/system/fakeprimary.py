"""A fake primary for system tests of anydnsd's secondary side.

A small threaded UDP+TCP server on 127.0.0.1 (dnspython for the messages)
that serves one zone the test controls version by version, and whose
AXFR stream the test controls message by message, broken ones included:

- SOA queries (UDP and TCP) answer the serial of the version served now;
- AXFR answers that version as a stream of messages of `rr_per_msg`
  records each, the closing SOA alone in the last message (RFC 5936 §2.2),
  `delay` seconds apart; `fault` breaks it (see FAULTS);
- IXFR answers NOTIMP (`ixfr = "notimp"`, so the secondary falls back to
  AXFR, RFC 1995 §2) or the whole zone AXFR-style (`ixfr = "axfr"`, RFC
  1995 §4);
- `refuse_transfers` answers AXFR and IXFR REFUSED;
- with a TSIG key (RFC 8945), requests are verified (a request signed
  with another key is dropped) and answers are signed as `sign` says:
  "key" (every message of a stream, §5.3.1), "wrong" (same key name,
  another secret: the secondary sees BADSIG) or "none" (unsigned).

Every request is recorded in `requests` (transport, qtype, key name or
None, ID), so a test can tell that no pull happened. `notify()` sends a
NOTIFY (RFC 1996) from any loopback address, signed or not, and returns
the response split from its TSIG.

Run alone to try it with a real client:

    /usr/bin/python3 tests/system/fakeprimary.py --port 5399 [--key SECRET]
    kdig @127.0.0.1 -p 5399 AXFR example.net
"""

import argparse
import base64
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TSIG
import dns.rrset
import dns.tsig

# Ways to break an AXFR stream; "at" is the index of the message broken.
FAULTS = (
    "cut-inside",      # closes the connection halfway through message `at`
    "cut-before-end",  # closes it after every message but the closing SOA
    "garbage",         # message `at`: a sound header, then garbage octets
    "out-of-zone",     # message `at` also carries www.example.org. A
    "wrong-id",        # message `at` has another ID than the request
)

OUT_OF_ZONE = "www.example.org."


def tsig_append(wire, keyname, rdata):
    """wire with the TSIG RR (owner keyname, RDATA rdata) added at the end
    of the additional section (RFC 8945 §4.2: last, uncompressed)."""
    rd = rdata.to_wire()
    rr = keyname.to_wire() + struct.pack("!HHIH", dns.rdatatype.TSIG,
                                         dns.rdataclass.ANY, 0, len(rd)) + rd
    arcount = struct.unpack("!H", wire[10:12])[0] + 1
    return wire[:10] + struct.pack("!H", arcount) + wire[12:] + rr


def tsig_sign(wire, key, request_mac=b"", ctx=None, multi=False,
              time_signed=None, fudge=300):
    """Signs wire (RFC 8945 §5.3) with key at time_signed (now when None).
    Returns (signed wire, MAC, context for the next message of a stream).
    The first message of a stream is signed with the request's MAC, the
    next ones with ctx (dnspython's dns.tsig.sign does the digests)."""
    original_id = struct.unpack("!H", wire[:2])[0]
    rd = dns.rdtypes.ANY.TSIG.TSIG(dns.rdataclass.ANY, dns.rdatatype.TSIG,
                                   key.algorithm, 0, fudge, b"", original_id,
                                   0, b"")
    when = int(time.time()) if time_signed is None else int(time_signed)
    tsig, ctx = dns.tsig.sign(wire, key, rd, when, request_mac or None, ctx,
                              multi)
    return tsig_append(wire, key.name, tsig), tsig.mac, ctx


def _skip_name(wire, pos):
    while True:
        n = wire[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n


def split_tsig(wire):
    """(the message without its TSIG as a dns.message.Message, the TSIG
    RDATA or None). dnspython itself would refuse a TSIG it cannot verify,
    such as the MAC-less BADKEY answers of RFC 8945 §5.3.2."""
    qd, an, ns, ar = struct.unpack("!HHHH", wire[4:12])
    pos = 12
    for _ in range(qd):
        pos = _skip_name(wire, pos) + 4
    total = an + ns + ar
    for i in range(total):
        start = pos
        pos = _skip_name(wire, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", wire[pos:pos + 10])
        pos += 10
        if i == total - 1 and rtype == dns.rdatatype.TSIG and ar > 0:
            rd = dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG,
                                     wire, pos, rdlen)
            rest = wire[:10] + struct.pack("!H", ar - 1) + wire[12:start]
            return dns.message.from_wire(rest), rd
        pos += rdlen
    return dns.message.from_wire(wire), None


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_exchange(wire, port, addr="127.0.0.1", timeout=5, expect=None):
    """Sends one message over TCP and returns the response messages (raw
    wires): expect of them, or all until the server closes or falls silent
    for a second."""
    out = []
    with socket.create_connection((addr, port), timeout=timeout) as s:
        s.sendall(struct.pack("!H", len(wire)) + wire)
        s.settimeout(1.0 if expect is None else timeout)
        while expect is None or len(out) < expect:
            try:
                hdr = recv_exact(s, 2)
            except socket.timeout:
                break
            if hdr is None:
                break
            msg = recv_exact(s, struct.unpack("!H", hdr)[0])
            if msg is None:
                break
            out.append(msg)
    return out


class FakePrimary:
    """The fake primary of one zone on 127.0.0.1:port."""

    def __init__(self, port, zone="example.net.", key=None):
        self.port = port
        self.origin = dns.name.from_text(zone)
        self.key = key                  # dns.tsig.Key or None
        self.sign = "key" if key is not None else "none"
        self.ixfr = "notimp"
        self.refuse_transfers = False
        self.fault = None               # (kind, at) or None
        self.delay = 0.0
        self.rr_per_msg = 10
        self.lock = threading.Lock()
        self.requests = []
        self.streams = []               # per AXFR: lengths of messages sent
        self.sent = 0                   # messages of the last stream sent
        self.serial = 0
        self.timers = (3600, 3600, 1209600, 300)
        self.records = []
        self._stop = threading.Event()
        self._threads = []
        self._udp = self._tcp = None
        self.set_version(1)

    # ---- the zone --------------------------------------------------------

    def set_version(self, serial, records=None, timers=None):
        """Serves serial from now on: records (owner, type, rdata text),
        relative to the zone, besides the SOA; the default is a small zone
        whose www TXT names the version."""
        if records is None:
            records = [("@", "NS", "ns1"), ("ns1", "A", "192.0.2.1"),
                       ("www", "A", "192.0.2.80"),
                       ("www", "TXT", '"version %d"' % serial)]
        rrs = []
        for owner, rtype, text in records:
            name = dns.name.from_text(owner, self.origin)
            rd = dns.rdata.from_text(dns.rdataclass.IN, rtype, text,
                                     self.origin, relativize=False)
            rrs.append((name, rd))
        with self.lock:
            self.serial = serial
            if timers is not None:
                self.timers = timers
            self.records = rrs

    def soa_rdata(self):
        refresh, retry, expire, minimum = self.timers
        return dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.SOA,
            "ns1 hostmaster %d %d %d %d %d" % (self.serial, refresh, retry,
                                               expire, minimum), self.origin,
            relativize=False)

    # ---- life ------------------------------------------------------------

    def start(self):
        self._stop.clear()
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind(("127.0.0.1", self.port))
        self._udp.settimeout(0.1)
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind(("127.0.0.1", self.port))
        self._tcp.listen(16)
        self._tcp.settimeout(0.1)
        self._threads = [threading.Thread(target=self._udp_loop, daemon=True),
                         threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        """Stops answering: the sockets are closed (queries then meet ICMP
        port unreachable or a refused connection), streams under way are
        cut."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        for s in (self._udp, self._tcp):
            if s is not None:
                s.close()
        self._udp = self._tcp = None

    def requests_of(self, qtype=None):
        with self.lock:
            return [r for r in self.requests if qtype is None or r[1] == qtype]

    # ---- requests --------------------------------------------------------

    def _parse(self, wire):
        """(query, request MAC, key name) or None for what is dropped."""
        keyring = {self.key.name: self.key} if self.key is not None else None
        try:
            q = dns.message.from_wire(wire, keyring=keyring)
        except Exception:
            return None
        if q.flags & dns.flags.QR or len(q.question) != 1:
            return None
        if not q.had_tsig:
            return q, b"", None
        return q, q.mac, q.keyname

    def _record(self, transport, q, keyname):
        with self.lock:
            self.requests.append((transport, dns.rdatatype.to_text(q.question[0].rdtype),
                                  keyname.to_text() if keyname is not None else None,
                                  q.id))

    def _signing_key(self):
        if self.key is None or self.sign == "none":
            return None
        if self.sign == "wrong":
            return dns.tsig.Key(self.key.name, b"not-the-secret-" * 2,
                                self.key.algorithm)
        return self.key

    def _message(self, q, rrs, first, rcode=dns.rcode.NOERROR, msg_id=None):
        m = dns.message.Message(id=q.id if msg_id is None else msg_id)
        m.flags = dns.flags.QR | dns.flags.AA
        m.set_rcode(rcode)
        if first:
            m.question = [dns.rrset.RRset(q.question[0].name, dns.rdataclass.IN,
                                          q.question[0].rdtype)]
        for name, rd in rrs:
            m.answer.append(dns.rrset.from_rdata(name, 300, rd))
        return m.to_wire()

    def _sign_all(self, wires, request_mac):
        key = self._signing_key()
        if key is None:
            return wires
        out, ctx = [], None
        for i, w in enumerate(wires):
            signed, _, ctx = tsig_sign(w, key, request_mac if i == 0 else b"",
                                       ctx, multi=len(wires) > 1)
            out.append(signed)
        return out

    def _answer_soa(self, q, request_mac):
        with self.lock:
            rrs = [(self.origin, self.soa_rdata())]
        return self._sign_all([self._message(q, rrs, True)], request_mac)[0]

    def _stream(self, q, request_mac):
        """Every message of the answer to an AXFR (or an IXFR answered
        AXFR-style), with its fault, as [(wire, cut)]: cut is None for a
        whole message, else how many octets of it go before the close."""
        with self.lock:
            soa = (self.origin, self.soa_rdata())
            body = list(self.records)
            fault, per = self.fault, self.rr_per_msg
        first = [soa] + body[:per - 1]
        chunks = [first] + [body[i:i + per] for i in range(per - 1, len(body), per)]
        chunks.append([soa])
        kind, at = fault if fault else (None, None)
        wires = []
        for i, rrs in enumerate(chunks):
            msg_id = None
            if kind == "out-of-zone" and i == at:
                rrs = rrs + [(dns.name.from_text(OUT_OF_ZONE),
                              dns.rdata.from_text("IN", "A", "192.0.2.9"))]
            if kind == "wrong-id" and i == at:
                msg_id = q.id ^ 0x5555
            w = self._message(q, rrs, i == 0, msg_id=msg_id)
            if kind == "garbage" and i == at:
                w = struct.pack("!HHHHHH", q.id, 0x8400, 0, 3, 0, 0) + \
                    b"\xde\xad\xbe\xef" * 8
            wires.append(w)
        wires = self._sign_all(wires, request_mac)
        out = [(w, None) for w in wires]
        if kind == "cut-inside":
            out = out[:at] + [(wires[at], len(wires[at]) // 2)]
        elif kind == "cut-before-end":
            out = out[:-1]
        return out

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                wire, peer = self._udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            parsed = self._parse(wire)
            if parsed is None:
                continue
            q, mac, keyname = parsed
            self._record("udp", q, keyname)
            try:
                if q.question[0].rdtype == dns.rdatatype.SOA:
                    reply = self._answer_soa(q, mac)
                else:
                    reply = self._sign_all(
                        [self._message(q, [], True, dns.rcode.NOTIMP)], mac)[0]
                self._udp.sendto(reply, peer)
            except Exception as e:     # the test sees no answer, and why
                print("fake primary: UDP answer failed: %r" % e, flush=True)

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_conn, args=(conn,),
                             daemon=True).start()

    def _serve_conn(self, conn):
        conn.settimeout(5)
        try:
            while not self._stop.is_set():
                hdr = recv_exact(conn, 2)
                if hdr is None:
                    return
                wire = recv_exact(conn, struct.unpack("!H", hdr)[0])
                if wire is None:
                    return
                parsed = self._parse(wire)
                if parsed is None:
                    return
                q, mac, keyname = parsed
                self._record("tcp", q, keyname)
                if not self._answer_tcp(conn, q, mac):
                    return
        except OSError:
            pass
        except Exception as e:
            print("fake primary: TCP answer failed: %r" % e, flush=True)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _answer_tcp(self, conn, q, mac):
        """Answers one query; False when the connection is to be closed."""
        qtype = q.question[0].rdtype
        if qtype == dns.rdatatype.SOA:
            self._send(conn, self._answer_soa(q, mac))
            return True
        if qtype not in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            self._send(conn, self._message(q, [], True, dns.rcode.NOTIMP))
            return True
        if self.refuse_transfers or (qtype == dns.rdatatype.IXFR and
                                     self.ixfr == "notimp"):
            rcode = dns.rcode.REFUSED if self.refuse_transfers else dns.rcode.NOTIMP
            self._send(conn, self._sign_all([self._message(q, [], True, rcode)],
                                            mac)[0])
            return True
        stream = self._stream(q, mac)
        lengths = []
        with self.lock:
            self.streams.append(lengths)
            self.sent = 0
        for wire, cut in stream:
            if self._stop.is_set():
                return False
            if cut is not None:
                conn.sendall(struct.pack("!H", len(wire)) + wire[:cut])
                return False
            self._send(conn, wire)
            with self.lock:
                lengths.append(len(wire))
                self.sent += 1
            if self.delay:
                time.sleep(self.delay)
        # A stream cut before its end closes the connection.
        return not (self.fault and self.fault[0] == "cut-before-end")

    @staticmethod
    def _send(conn, wire):
        conn.sendall(struct.pack("!H", len(wire)) + wire)

    # ---- NOTIFY ----------------------------------------------------------

    def notify(self, port, serial=None, source="127.0.0.1", key=None,
               timeout=2):
        """Sends a NOTIFY for the zone (RFC 1996 §3.7: SOA in the answer
        section with serial, if given) from source to 127.0.0.1:port,
        signed with key if given. Returns (request ID, response wire,
        the request's MAC or None)."""
        q = dns.message.make_query(self.origin, dns.rdatatype.SOA)
        q.flags = dns.flags.AA
        q.set_opcode(dns.opcode.NOTIFY)
        if serial is not None:
            with self.lock:
                refresh, retry, expire, minimum = self.timers
            rd = dns.rdata.from_text(
                "IN", "SOA", "ns1 hostmaster %d %d %d %d %d"
                % (serial, refresh, retry, expire, minimum), self.origin,
                relativize=False)
            q.answer.append(dns.rrset.from_rdata(self.origin, 300, rd))
        wire, mac = q.to_wire(), None
        if key is not None:
            wire, mac, _ = tsig_sign(wire, key)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((source, 0))
            s.settimeout(timeout)
            s.sendto(wire, ("127.0.0.1", port))
            reply, _ = s.recvfrom(65535)
        return q.id, reply, mac


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--zone", default="example.net.")
    ap.add_argument("--serial", type=int, default=1)
    ap.add_argument("--records", type=int, default=0,
                    help="this many TXT records more")
    ap.add_argument("--key", help="base64 secret of key xfr-key (hmac-sha256)")
    args = ap.parse_args()
    key = dns.tsig.Key("xfr-key.", base64.b64decode(args.key)) if args.key else None
    fp = FakePrimary(args.port, args.zone, key)
    recs = [("@", "NS", "ns1"), ("ns1", "A", "192.0.2.1")] + \
        [("t%d" % i, "TXT", '"record %d"' % i) for i in range(args.records)]
    fp.set_version(args.serial, recs)
    fp.start()
    print("fake primary of %s on 127.0.0.1:%d" % (args.zone, args.port), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        fp.stop()


if __name__ == "__main__":
    main()
