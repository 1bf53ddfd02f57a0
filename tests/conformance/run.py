#!/usr/bin/python3
"""Conformance suite: anydns against Knot DNS as the reference.

Loads the zones of tests/conformance/zones/ into Knot DNS (knotd) and into
anydns-engine-serve, sends every query of queries.txt and every hand-built
packet of raw_cases.txt to both over UDP and TCP, and compares the responses
field by field: RCODE (extended included), opcode, header flags, the question
as echoed (case-sensitive, RFC 4343 §4.1), EDNS (RFC 6891: presence, version,
payload, DO, options such as NSID of RFC 5001) and the three sections as
multisets of (owner, type, class, TTL, RDATA), owners and names inside RDATA
compared without case (RFC 4343 §3). A UDP response longer than the query
allowed (RFC 6891 §6.2.3-6.2.5, 512 without EDNS) is a difference of its
own. No response (a drop, a closed TCP connection) is a result too.
Differences listed in known_differences.txt count as passed with a note.

    python3 tests/conformance/run.py [--anydns BIN] [--knotd /usr/sbin/knotd]
                                     [--keep] [--self-check]

--self-check runs two knotd instances against each other (the suite itself
must then find no difference). Exit status: 0 all passed, 1 a difference,
2 the servers could not be set up.
"""

import argparse
import collections
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:
    import dns.edns
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.opcode
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
except ImportError:
    # Debian's dnspython belongs to Debian's interpreter; a python3 from
    # pyenv or a venv earlier on PATH does not see it.
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("run.py needs dnspython (Debian: apt-get install python3-dnspython)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ZONE_DIR = os.path.join(HERE, "zones")

# What both servers are told to say about themselves (RFC 4892, RFC 5001).
IDENTITY = "conformance.anydns.example"
VERSION = "anydns-conformance-1"
NSID = "conformance-nsid"
UDP_MAX_PAYLOAD = 1232

TIMEOUT = 2.0
FLAG_NAMES = [("QR", 0x8000), ("AA", 0x0400), ("TC", 0x0200), ("RD", 0x0100),
              ("RA", 0x0080), ("Z", 0x0040), ("AD", 0x0020), ("CD", 0x0010)]
SECTIONS = ("answer", "authority", "additional")


def log(msg=""):
    print(msg, flush=True)


# ---- test inputs -----------------------------------------------------------

class Test:
    """One query (from queries.txt or raw_cases.txt) and its transports."""

    def __init__(self, source, lineno, text, name, qtype, transports):
        self.source = source        # file name, for reports
        self.lineno = lineno
        self.udp_limit = None       # largest UDP response allowed, if known
        self.text = text            # the line as written, for reports
        self.name = name            # allowlist key, first part
        self.qtype = qtype          # allowlist key, second part ("RAW" for raw)
        self.variant = ()           # class and flags as written, for the allowlist
        self.transports = transports
        self.wire = None            # raw query, without the TCP length prefix
        self.wire_fn = None         # or: builds a fresh query (random ID)


def parse_queries(path):
    tests = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            tokens = text.split()
            if len(tokens) < 2:
                raise SystemExit(f"{path}:{lineno}: need NAME TYPE")
            name, qtype = tokens[0], tokens[1]
            rest = tokens[2:]
            qclass = "IN"
            if rest and not rest[0].startswith("+"):
                qclass = rest.pop(0)
            opts = {"edns": True, "payload": UDP_MAX_PAYLOAD, "version": 0,
                    "do": False, "nsid": False, "flags": 0, "ednsopts": []}
            transports = ["udp", "tcp"]
            for fl in rest:
                if fl == "+dnssec":
                    opts["do"] = True
                elif fl == "+noedns":
                    opts["edns"] = False
                elif fl.startswith("+bufsize="):
                    opts["payload"] = int(fl.split("=", 1)[1])
                elif fl.startswith("+edns="):
                    opts["version"] = int(fl.split("=", 1)[1])
                elif fl == "+nsid":
                    opts["nsid"] = True
                elif fl.startswith("+ednsopt="):
                    code, _, data = fl.split("=", 1)[1].partition(":")
                    opts["ednsopts"].append((int(code), bytes.fromhex(data)))
                elif fl == "+tcp":
                    transports = ["tcp"]
                elif fl == "+udp":
                    transports = ["udp"]
                elif fl == "+case":
                    pass        # marks a case-preservation test; qname is sent as written
                elif fl in ("+rd", "+cd", "+ad"):
                    opts["flags"] |= {"+rd": dns.flags.RD, "+cd": dns.flags.CD,
                                      "+ad": dns.flags.AD}[fl]
                else:
                    raise SystemExit(f"{path}:{lineno}: unknown flag {fl}")
            try:
                qname = dns.name.from_text(name)
                rdtype = dns.rdatatype.from_text(qtype)
                rdclass = dns.rdataclass.from_text(qclass)
            except dns.exception.DNSException as e:
                raise SystemExit(f"{path}:{lineno}: {e}")
            t = Test(os.path.basename(path), lineno, text, name, qtype, transports)
            t.variant = tuple(sorted(tokens[2:]))
            t.wire_fn = make_builder(qname, rdtype, rdclass, opts)
            # RFC 6891 §6.2.3-6.2.5: no EDNS means 512; a smaller payload
            # is read as 512; the server never sends more than it is set to.
            t.udp_limit = max(512, min(opts["payload"], UDP_MAX_PAYLOAD)) \
                if opts["edns"] else 512
            tests.append(t)
    return tests


def make_builder(qname, rdtype, rdclass, opts):
    def build():
        options = []
        if opts["nsid"]:
            options.append(dns.edns.GenericOption(dns.edns.NSID, b""))
        for code, data in opts["ednsopts"]:
            options.append(dns.edns.GenericOption(code, data))
        q = dns.message.Message(id=random.randint(0, 65535))
        q.flags = opts["flags"]
        q.find_rrset(q.question, qname, rdclass, rdtype, create=True,
                     force_unique=True)
        if opts["edns"]:
            q.use_edns(opts["version"], dns.flags.DO if opts["do"] else 0,
                       opts["payload"], options=options)
        return q.to_wire()
    return build


def parse_raw_cases(path):
    tests = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            tokens = text.split()
            if len(tokens) < 3 or tokens[1] not in ("udp", "tcp", "both"):
                raise SystemExit(f"{path}:{lineno}: need NAME udp|tcp|both HEX")
            name = tokens[0]
            if name in seen:
                raise SystemExit(f"{path}:{lineno}: duplicate case name {name}")
            seen.add(name)
            transports = ["udp", "tcp"] if tokens[1] == "both" else [tokens[1]]
            try:
                hextext = "".join(tokens[2:])
                wire = b"" if hextext == "-" else bytes.fromhex(hextext)
            except ValueError as e:
                raise SystemExit(f"{path}:{lineno}: {e}")
            t = Test(os.path.basename(path), lineno, name, name, "RAW", transports)
            t.wire = wire
            tests.append(t)
    return tests


def parse_allowlist(path):
    """known_differences.txt: NAME TYPE [CLASS/+flags...] TRANSPORT FIELD
    # reason (RFC ...). TRANSPORT and FIELD may be '*'. Without class and
    flags a line covers every variant of NAME TYPE in queries.txt; with
    them, only the line written with exactly those (in any order).
    Returns {(name, type, variant or None, transport, field): reason}."""
    allow = {}
    if not os.path.exists(path):
        return allow
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            body, _, reason = line.partition("#")
            tokens = body.split()
            if not tokens:
                continue
            if len(tokens) < 4:
                raise SystemExit(f"{path}:{lineno}: need NAME TYPE [+flags] TRANSPORT FIELD"
                                 "  # reason")
            if not reason.strip():
                raise SystemExit(f"{path}:{lineno}: every known difference needs a reason")
            variant = tuple(sorted(tokens[2:-2])) or None
            key = (tokens[0].lower(), tokens[1].upper(), variant,
                   tokens[-2].lower(), tokens[-1].lower())
            allow[key] = reason.strip()
    return allow


def allowed(allow, test, transport, field):
    for variant in (test.variant, None):
        for tr in (transport, "*"):
            for fld in (field, "*"):
                key = (test.name.lower(), test.qtype.upper(), variant, tr, fld)
                if key in allow:
                    return allow[key]
    return None


# ---- sending ---------------------------------------------------------------

def exchange(transport, port, wire):
    """Sends one query; returns the response octets, or a string saying why
    there is none ("no response", "connection closed", ...)."""
    if transport == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(TIMEOUT)
            s.connect(("127.0.0.1", port))
            s.send(wire)
            try:
                return s.recv(65535)
            except socket.timeout:
                return "no response"
            except ConnectionRefusedError:
                return "port unreachable"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(struct.pack("!H", len(wire)) + wire)
            hdr = recv_exact(s, 2)
            if hdr is None:
                return "connection closed"
            body = recv_exact(s, struct.unpack("!H", hdr)[0])
            if body is None:
                return "connection closed mid-message"
            return body
        except socket.timeout:
            return "no response"
        except ConnectionResetError:
            return "connection reset"
        except ConnectionRefusedError:
            return "connection refused"


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


# ---- normalising responses -------------------------------------------------

def flag_list(bits):
    return " ".join(n for n, b in FLAG_NAMES if bits & b) or "-"


def rr_key(name, rdtype, rdclass, ttl, rdata_digest, text):
    return (name.lower(), rdtype, rdclass, ttl, rdata_digest, text)


def rdata_canonical(rd):
    """RDATA with every embedded domain name lowercased, as octets. Names in
    RDATA compare case-insensitively (RFC 4343 §3); a server may keep the
    zone file's case or the query's (through compression), and either is
    right. dnspython lowercases only the RFC 4034 §6.2 types, so do it for
    every name-bearing field ourselves."""
    changes = {}
    for slot in rd._get_all_slots():
        value = getattr(rd, slot, None)
        if isinstance(value, dns.name.Name):
            changes[slot] = value.canonicalize()
    if changes:
        rd = rd.replace(**changes)
    return rd.to_wire()


def type_text(t):
    return dns.rdatatype.to_text(t)


def class_text(c):
    return dns.rdataclass.to_text(c)


def limit_for(test, transport):
    return test.udp_limit if transport == "udp" else None


def normalise(wire, query_wire, udp_limit=None):
    """Turns a response (or the reason there is none) into a dict of
    comparable fields."""
    if isinstance(wire, str):
        return {"response": wire}
    r = {"response": "yes"}
    if udp_limit is not None and len(wire) > udp_limit:
        r["size"] = f"{len(wire)} octets, over the {udp_limit} allowed"
    if len(wire) < 12:
        r["response"] = f"short ({len(wire)} octets): {wire.hex()}"
        return r
    qid = struct.unpack("!H", query_wire[:2])[0] if len(query_wire) >= 2 else None
    rid, bits = struct.unpack("!HH", wire[:4])
    r["id"] = "echoed" if rid == qid else f"{rid} (query {qid})"
    r["opcode"] = dns.opcode.to_text((bits >> 11) & 0xF) if ((bits >> 11) & 0xF) in \
        (0, 1, 2, 4, 5, 6) else str((bits >> 11) & 0xF)
    r["flags"] = flag_list(bits)
    try:
        msg = dns.message.from_wire(wire, one_rr_per_rrset=True)
    except Exception as e:          # anything dnspython refuses: parse by hand
        return normalise_by_hand(wire, r, f"{type(e).__name__}: {e}")
    r["parse"] = "ok"
    r["rcode"] = dns.rcode.to_text(msg.rcode())
    r["question"] = [f"{rr.name.to_text()} {class_text(rr.rdclass)} {type_text(rr.rdtype)}"
                     for rr in msg.question]
    if msg.edns >= 0:
        r["edns"] = edns_text(msg.edns, msg.payload, msg.ednsflags,
                              [(o.otype, o.to_wire() if hasattr(o, "to_wire") else b"")
                               for o in msg.options])
    else:
        r["edns"] = "none"
    for sect, rrsets in zip(SECTIONS, (msg.answer, msg.authority, msg.additional)):
        rows = []
        for rrset in rrsets:
            for rd in rrset:
                rows.append(rr_key(rrset.name.to_text(), type_text(rrset.rdtype),
                                   class_text(rrset.rdclass), rrset.ttl,
                                   rdata_canonical(rd).hex(), rd.to_text()))
        r[sect] = sorted(rows)
    return r


def edns_text(version, payload, ednsflags, options):
    do = "DO" if ednsflags & dns.flags.DO else "-"
    other = ednsflags & 0xFFFF & ~dns.flags.DO
    opts = []
    for code, data in sorted(options):
        if int(code) == 3:
            opts.append(f"NSID={data!r}")
        elif int(code) == 15 and len(data) >= 2:
            info = struct.unpack("!H", data[:2])[0]
            extra = f":{data[2:]!r}" if len(data) > 2 else ""
            opts.append(f"EDE={info}{extra}")
        else:
            opts.append(f"{int(code)}={data.hex()}")
    z = f" Z=0x{other:04x}" if other else ""
    return f"v{version} payload={payload} {do}{z} opts=[{', '.join(opts)}]"


def read_name(wire, off):
    """Name at off (following pointers); returns (text, offset after it)."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(wire):
            raise ValueError("name past end")
        n = wire[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(wire):
                raise ValueError("pointer past end")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | wire[off + 1]
            jumps += 1
            if jumps > 64:
                raise ValueError("pointer loop")
            continue
        if n & 0xC0:
            raise ValueError("bad label type")
        off += 1
        if n == 0:
            break
        labels.append(wire[off:off + n])
        off += n
    text = dns.name.Name(labels + [b""]).to_text()
    return text, (end if end is not None else off)


def normalise_by_hand(wire, r, why):
    """For responses dnspython will not parse (a TSIG without a key, say):
    header, question and records with RDATA as hex."""
    r["parse"] = "by hand (dnspython: " + why.split(":")[0] + ")"
    qd, an, ns, ar = struct.unpack("!HHHH", wire[4:12])
    rcode = struct.unpack("!H", wire[2:4])[0] & 0xF
    off = 12
    try:
        r["question"] = []
        for _ in range(qd):
            name, off = read_name(wire, off)
            t, c = struct.unpack("!HH", wire[off:off + 4])
            off += 4
            r["question"].append(f"{name} {class_text(c)} {type_text(t)}")
        r["edns"] = "none"
        for sect, count in zip(SECTIONS, (an, ns, ar)):
            rows = []
            for _ in range(count):
                name, off = read_name(wire, off)
                t, c, ttl, rdlen = struct.unpack("!HHIH", wire[off:off + 10])
                off += 10
                rdata = wire[off:off + rdlen]
                if len(rdata) != rdlen:
                    raise ValueError("RDATA past end")
                off += rdlen
                if t == 41:
                    opts, p = [], 0
                    while p + 4 <= len(rdata):
                        code, olen = struct.unpack("!HH", rdata[p:p + 4])
                        opts.append((code, rdata[p + 4:p + 4 + olen]))
                        p += 4 + olen
                    rcode |= (ttl >> 24) << 4
                    r["edns"] = edns_text((ttl >> 16) & 0xFF, c, ttl & 0xFFFF, opts)
                    continue
                rows.append(rr_key(name, type_text(t), class_text(c), ttl, rdata.hex(),
                                   "\\# %d %s" % (rdlen, rdata.hex())))
            r[sect] = sorted(rows)
        if off != len(wire):
            r["trailing"] = f"{len(wire) - off} octets"
    except (ValueError, struct.error) as e:
        r["malformed"] = str(e)
    r["rcode"] = dns.rcode.to_text(rcode) if rcode < 4096 else str(rcode)
    return r


def rr_text(row):
    name, t, c, ttl, _digest, text = row
    return f"{name} {ttl} {c} {t} {text}"


def summary(r):
    """One line for a whole response, when the other side sent none."""
    if r["response"] != "yes":
        return r["response"]
    counts = "/".join(str(len(r.get(s, []))) for s in SECTIONS)
    return (f"{r.get('rcode')} [{r.get('flags')}] question={r.get('question')} "
            f"edns={r.get('edns')} an/ns/ar={counts}")


def compare(a, b):
    """Differences between two normalised responses: [(field, a, b)]."""
    if a["response"] != b["response"] and "yes" in (a["response"], b["response"]):
        return [("response", summary(a), summary(b))]
    diffs = []
    fields = ["response", "parse", "malformed", "trailing", "size", "id", "opcode",
              "rcode", "flags", "question", "edns"]
    for f in fields:
        if a.get(f) != b.get(f):
            diffs.append((f, a.get(f), b.get(f)))
    for sect in SECTIONS:
        # the presentation text (last element) is for display only
        ca = collections.Counter(row[:5] for row in a.get(sect, []))
        cb = collections.Counter(row[:5] for row in b.get(sect, []))
        if ca != cb:
            text_a = {row[:5]: row for row in a.get(sect, [])}
            text_b = {row[:5]: row for row in b.get(sect, [])}
            only_a = sorted((ca - cb).elements())
            only_b = sorted((cb - ca).elements())
            diffs.append((sect, [rr_text(text_a[x]) for x in only_a],
                          [rr_text(text_b[x]) for x in only_b]))
    return diffs


# ---- servers ---------------------------------------------------------------

def zone_list():
    """(origin, path) for every zones/*.zone: the file name is the origin."""
    zones = []
    for fn in sorted(os.listdir(ZONE_DIR)):
        if fn.endswith(".zone"):
            zones.append((fn[:-len(".zone")] + ".", os.path.join(ZONE_DIR, fn)))
    return zones


def uses_generate(path):
    with open(path, encoding="utf-8") as f:
        return any(line.startswith("$GENERATE") for line in f)


def generate_text(template, i):
    """One $GENERATE field with the iterator i: $ and ${offset[,width[,base]]}
    substituted, $$ and \\$ kept as a literal $ (BIND's rules)."""
    out, k = [], 0
    while k < len(template):
        ch = template[k]
        if ch == "\\" and template[k + 1:k + 2] == "$":
            out.append("$")
            k += 2
        elif ch == "$" and template[k + 1:k + 2] == "$":
            out.append("$")
            k += 2
        elif ch == "$" and template[k + 1:k + 2] == "{":
            end = template.index("}", k)
            parts = template[k + 2:end].split(",")
            offset = int(parts[0]) if parts[0] else 0
            width = int(parts[1]) if len(parts) > 1 else 0
            base = parts[2] if len(parts) > 2 else "d"
            v = i + offset
            if base in ("n", "N"):
                digits = f"{v:x}" if base == "n" else f"{v:X}"
                digits = digits.rjust(max(width, 1), "0")
                out.append(".".join(reversed(digits)))
            else:
                fmt = {"d": "d", "o": "o", "x": "x", "X": "X"}[base]
                out.append(format(v, f"0{width}{fmt}"))
            k = end + 1
        elif ch == "$":
            out.append(str(i))
            k += 1
        else:
            out.append(ch)
            k += 1
    return "".join(out)


def expand_generate(src, dst):
    """Writes src with its $GENERATE lines expanded into dst (for Knot,
    whose libzscanner lacks the directive); relative $INCLUDEs are made
    absolute so that they still find their files."""
    srcdir = os.path.dirname(os.path.abspath(src))
    out = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            if line.startswith("$INCLUDE"):
                parts = line.split(None, 2)
                if len(parts) > 1 and not os.path.isabs(parts[1]):
                    parts[1] = os.path.join(srcdir, parts[1])
                line = " ".join(parts).rstrip("\n") + "\n"
            if not line.startswith("$GENERATE"):
                out.append(line)
                continue
            tokens = line.split(None, 3)     # $GENERATE range lhs rest
            rng, lhs, rest = tokens[1], tokens[2], tokens[3].rstrip("\n")
            step = 1
            if "/" in rng:
                rng, step = rng.split("/")
                step = int(step)
            start, stop = (int(x) for x in rng.split("-"))
            out.append(f"; expanded from: {line}")
            for i in range(start, stop + 1, step):
                out.append(f"{generate_text(lhs, i)} {generate_text(rest, i)}\n")
    with open(dst, "w", encoding="utf-8") as f:
        f.writelines(out)


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(100):
        port = random.randint(20000, 60000)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                t.bind(("127.0.0.1", port))
                u.bind(("127.0.0.1", port))
                return port
        except OSError:
            continue
    raise RuntimeError("no free port")


class Server:
    label = "?"

    def __init__(self, workdir, port):
        self.workdir = workdir
        self.port = port
        self.proc = None
        self.log_path = os.path.join(workdir, "server.log")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass

    def log_tail(self, n=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def check_started(self):
        pass


class Knot(Server):
    def __init__(self, workdir, port, knotd, zones, label="knot"):
        super().__init__(workdir, port)
        self.label = label
        self.knotd = knotd
        self.zones = zones
        for d in ("run", "db"):
            os.makedirs(os.path.join(workdir, d), exist_ok=True)
        self.conf = os.path.join(workdir, "knot.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(self.config())

    def config(self):
        w = self.workdir
        user = "" if os.geteuid() != 0 else '    user: "root:root"\n'
        lines = [
            "server:",
            f'    rundir: "{w}/run"',
            f'    pidfile: "{w}/run/knot.pid"',
            user.rstrip("\n") if user else None,
            f"    listen: 127.0.0.1@{self.port}",
            f'    identity: "{IDENTITY}"',
            f'    version: "{VERSION}"',
            f'    nsid: "{NSID}"',
            f"    udp-max-payload: {UDP_MAX_PAYLOAD}",
            "    udp-workers: 1",
            "    tcp-workers: 1",
            "    background-workers: 1",
            "    answer-rotation: off",
            "",
            "log:",
            "  - target: stderr",
            "    any: info",
            "",
            "database:",
            f'    storage: "{w}/db"',
            "",
            "control:",
            f'    listen: "{w}/run/knot.sock"',
            "",
            "template:",
            "  - id: default",
            f'    storage: "{w}/db"',
            "    semantic-checks: off",
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "",
            "zone:",
        ]
        for origin, path in self.zones:
            if uses_generate(path):
                expanded = os.path.join(w, origin + "zone.expanded")
                expand_generate(path, expanded)
                path = expanded
            lines.append(f"  - domain: \"{origin}\"")
            lines.append(f"    file: \"{path}\"")
        return "\n".join(x for x in lines if x is not None) + "\n"

    def start(self):
        logf = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([self.knotd, "-c", self.conf], stdout=logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir)
        logf.close()

    def check_started(self):
        """Knot serves the zones that loaded and logs the others: any zone
        load error makes the suite meaningless, so it stops here."""
        deadline = time.time() + 15
        while time.time() < deadline:
            text = open(self.log_path, encoding="utf-8", errors="replace").read()
            loaded = sum(1 for o, _ in self.zones if f"[{o}] loaded" in text)
            # every zone problem Knot reports names the zone: "error: [z.]"
            # or "warning: [z.]"; other warnings (capabilities...) are not ours
            bad = [ln for ln in text.splitlines()
                   if "error:" in ln or "warning: [" in ln]
            if bad:
                raise RuntimeError(f"{self.label}: zone problems:\n  " + "\n  ".join(bad))
            if loaded == len(self.zones):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.label}: not all zones loaded; log:\n{self.log_tail()}")


class Anydns(Server):
    label = "anydns"

    def __init__(self, workdir, port, binary, zones):
        super().__init__(workdir, port)
        self.binary = binary
        self.zones = zones

    def argv(self):
        argv = [self.binary, "--listen", "127.0.0.1", "--port", str(self.port),
                "--identity", IDENTITY, "--version", VERSION, "--nsid", NSID,
                "--udp-max-payload", str(UDP_MAX_PAYLOAD)]
        for origin, path in self.zones:
            argv += ["--zone", f"{origin}={path}"]
        return argv

    def start(self):
        logf = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.PIPE, stderr=logf,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        logf.close()

    def check_started(self):
        deadline = time.time() + 15
        buf = b""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anydns exited with {self.proc.returncode}; log:\n"
                                   + self.log_tail())
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                buf += chunk
                if b"ready" in buf.split(b"\n"):
                    return
                if not chunk:
                    raise RuntimeError("anydns closed stdout before 'ready'; log:\n"
                                       + self.log_tail())
        raise RuntimeError("anydns did not print 'ready'; log:\n" + self.log_tail())


def wait_serving(server, zones):
    """Every zone's SOA must come back authoritative over UDP and TCP."""
    deadline = time.time() + 15
    for origin, _ in zones:
        for transport in ("udp", "tcp"):
            while True:
                q = dns.message.make_query(origin, "SOA", flags=0)
                resp = exchange(transport, server.port, q.to_wire())
                if not isinstance(resp, str):
                    m = dns.message.from_wire(resp)
                    if m.rcode() == dns.rcode.NOERROR and m.flags & dns.flags.AA and \
                            any(rr.rdtype == dns.rdatatype.SOA for rr in m.answer):
                        break
                    raise RuntimeError(f"{server.label}: zone {origin} not served "
                                       f"({dns.rcode.to_text(m.rcode())} over {transport})"
                                       f"; log:\n{server.log_tail()}")
                if time.time() > deadline:
                    raise RuntimeError(f"{server.label}: no answer on port {server.port}"
                                       f"; log:\n{server.log_tail()}")
                time.sleep(0.1)


# ---- main ------------------------------------------------------------------

def show(v):
    if isinstance(v, list):
        return "\n".join("        " + x for x in v) if v else "        (nothing)"
    return f"{v}"


def run_tests(tests, ref, sut, allow, by_field=None):
    passed = failed = noted = 0
    by_field = by_field if by_field is not None else collections.Counter()
    for t in tests:
        for transport in t.transports:
            wire = t.wire if t.wire is not None else t.wire_fn()
            a = normalise(exchange(transport, ref.port, wire), wire, limit_for(t, transport))
            b = normalise(exchange(transport, sut.port, wire), wire, limit_for(t, transport))
            diffs = compare(a, b)
            unexpected, notes = [], []
            for d in diffs:
                reason = allowed(allow, t, transport, d[0])
                (notes if reason else unexpected).append((d, reason))
            tag = f"{t.text}  [{transport}]  ({t.source}:{t.lineno})"
            if unexpected:
                failed += 1
                by_field.update(d[0] for d, _ in unexpected)
                log(f"FAIL {tag}")
                for (field, va, vb), _ in unexpected:
                    if field in SECTIONS:
                        log(f"    {field}: only in {ref.label}:\n{show(va)}\n"
                            f"    {field}: only in {sut.label}:\n{show(vb)}")
                    else:
                        log(f"    {field}: {ref.label}={show(va)}  {sut.label}={show(vb)}")
            else:
                passed += 1
                if notes:
                    noted += 1
                    log(f"pass {tag} (known difference: "
                        + "; ".join(f"{d[0]}: {r}" for d, r in notes) + ")")
    return passed, failed, noted


def main():
    global TIMEOUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--anydns", default=os.path.join(
        REPO, "build/release/bin/anydns-engine-serve"))
    ap.add_argument("--knotd", default="/usr/sbin/knotd")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--self-check", action="store_true",
                    help="compare two knotd instances instead of knotd and anydns")
    ap.add_argument("--queries", default=os.path.join(HERE, "queries.txt"))
    ap.add_argument("--raw", default=os.path.join(HERE, "raw_cases.txt"))
    ap.add_argument("--allow", default=os.path.join(HERE, "known_differences.txt"))
    ap.add_argument("--only", help="run only tests whose line contains this text")
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help=f"seconds to wait for each response (default {TIMEOUT})")
    ap.add_argument("--no-generate", action="store_true",
                    help="leave out the zones that use $GENERATE, and their queries")
    args = ap.parse_args()
    TIMEOUT = args.timeout

    tests = parse_queries(args.queries) + parse_raw_cases(args.raw)
    if args.only:
        tests = [t for t in tests if args.only in t.text]
    allow = parse_allowlist(args.allow)
    zones = zone_list()
    if args.no_generate:
        dropped = [dns.name.from_text(o) for o, p in zones if uses_generate(p)]
        zones = [(o, p) for o, p in zones if not uses_generate(p)]
        tests = [t for t in tests if t.qtype == "RAW" or not any(
            dns.name.from_text(t.name).is_subdomain(d) for d in dropped)]

    tmp = tempfile.mkdtemp(prefix="anydns-conformance-")
    servers = []
    rc = 2
    try:
        ref_port = free_port()
        os.makedirs(os.path.join(tmp, "knot"))
        ref = Knot(os.path.join(tmp, "knot"), ref_port, args.knotd, zones)
        servers.append(ref)
        sut_port = free_port()
        while sut_port == ref_port:
            sut_port = free_port()
        os.makedirs(os.path.join(tmp, "sut"))
        if args.self_check:
            sut = Knot(os.path.join(tmp, "sut"), sut_port, args.knotd, zones, label="knot2")
        else:
            if not os.access(args.anydns, os.X_OK):
                raise RuntimeError(f"{args.anydns} not found (build it, or use --self-check)")
            sut = Anydns(os.path.join(tmp, "sut"), sut_port, args.anydns, zones)
        servers.append(sut)
        log(f"temp dir: {tmp}")
        log(f"{ref.label}: 127.0.0.1 port {ref_port}: {args.knotd} -c {ref.conf}")
        if isinstance(sut, Knot):
            log(f"{sut.label}: 127.0.0.1 port {sut_port}: {args.knotd} -c {sut.conf}")
        else:
            log(f"{sut.label}: 127.0.0.1 port {sut_port}: " + " ".join(sut.argv()))
        log(f"{len(zones)} zones, {len(tests)} tests from "
            f"{os.path.relpath(args.queries)} and {os.path.relpath(args.raw)}")
        for s in servers:
            s.start()
        for s in servers:
            s.check_started()
            wait_serving(s, zones)
        by_field = collections.Counter()
        passed, failed, noted = run_tests(tests, ref, sut, allow, by_field)
        log()
        if by_field:
            log("differences by field: " + ", ".join(
                f"{f} {n}" for f, n in by_field.most_common()))
        log(f"summary: {passed + failed} tests ({sum(len(t.transports) for t in tests)} "
            f"expected), {failed} with differences, {noted} passed with a known difference")
        for s in servers:
            if s.proc.poll() is not None:
                log(f"{s.label} died during the run (exit {s.proc.returncode})")
                failed += 1
        log(f"{passed} passed, {failed} failed")
        rc = 1 if failed else 0
    except (RuntimeError, OSError) as e:
        log(f"setup failed: {e}")
        log("0 passed, 1 failed")
        rc = 2
    finally:
        for s in servers:
            s.stop()
        if args.keep or rc == 2:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
