#!/usr/bin/python3
"""Deterministic test zone and query mix for the anydns benchmark.

Writes a master file (RFC 1035 §5) for example.com. and, for the normal
~10,000-name zone, a dnsperf query file. The zone holds what an operator's
zone holds: hosts with A/AAAA, mail exchangers, TXT, SRV (RFC 2782) and CAA
(RFC 8659) records, aliases (CNAME, in and out of the zone), names below
empty non-terminals, a wildcard (RFC 4592) and a delegation with glue and a
DS record at the cut (RFC 4035 §2.4). Every address is a documentation
address (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849:
2001:db8::/32). The same seed always gives the same files, so every server
and every run sees exactly the same data and queries.

The query mix follows issue 3: ~70% positive (an existing name and one of
its types), 10% NXDOMAIN, 10% CNAME (type A asked for an alias), 5% wildcard
and 5% other (SOA, NS and MX at the apex, DS at the cut, referrals).

    gen_zone.py [--names 10000] [--seed 1] [--zone FILE] [--queries FILE]
    gen_zone.py --records 1000000 --zone FILE      # the big zone

run.py imports this module; the command line is for looking at the data.
"""

import argparse
import random
import sys

ORIGIN = "example.com."
V4_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
SITES = 50            # empty non-terminals: hosts live under siteNN too
WORDS = ("web", "app", "api", "db", "cache", "mail", "vpn", "git", "ci",
         "shop", "blog", "cdn", "img", "static", "auth", "login", "dev",
         "stage", "test", "node", "edge", "proxy", "lb", "queue", "log")
SRV_SERVICES = ("_sip._tcp", "_sip._udp", "_xmpp-client._tcp",
                "_xmpp-server._tcp", "_ldap._tcp", "_imaps._tcp",
                "_submission._tcp", "_caldav._tcp")
TTLS = (300, 3600, 3600, 3600, 86400)

# The probe name run.py polls for the time to the first answer: written
# last, so a server that answers it has loaded the whole file.
PROBE_NAME = "zz-probe." + ORIGIN
PROBE_ADDR = "192.0.2.53"

# Fixed names of the apex, the wildcard and the delegation.
DELEG = "sub." + ORIGIN
WILD_PARENT = "wild." + ORIGIN


def _v4(rng):
    return rng.choice(V4_NETS) + str(rng.randrange(1, 255))


def _v6(rng):
    return "2001:db8:%x::%x" % (rng.randrange(0, 0x10000),
                                rng.randrange(1, 0x10000))


def _txt(rng):
    kind = rng.randrange(3)
    if kind == 0:
        return '"v=spf1 ip4:%s ip6:%s -all"' % (_v4(rng), _v6(rng))
    if kind == 1:
        return '"site-verification=%032x"' % rng.getrandbits(128)
    return '"owner=team-%d" "cost-centre=%d"' % (rng.randrange(100),
                                                 rng.randrange(1000, 9999))


class Zone:
    """The generated zone: text lines plus what the query mix needs."""

    def __init__(self):
        self.lines = []
        self.records = 0
        self.by_type = {}        # name -> list of types present there
        self.aliases = []        # names owning a CNAME
        self.taken = set()       # every owner name (lower case)

    def add(self, owner, ttl, rtype, rdata):
        self.lines.append("%s\t%d\tIN\t%s\t%s" % (owner, ttl, rtype, rdata))
        self.records += 1
        self.taken.add(owner.lower())

    def positive(self, owner, rtype):
        types = self.by_type.setdefault(owner, [])
        if rtype not in types:
            types.append(rtype)


def _apex(z):
    z.lines.append("$ORIGIN " + ORIGIN)
    z.lines.append("$TTL 3600")
    z.add(ORIGIN, 3600, "SOA",
          "ns1.example.com. hostmaster.example.com. "
          "2024010101 7200 3600 1209600 3600")
    for ns in ("ns1", "ns2"):
        z.add(ORIGIN, 86400, "NS", ns + ".example.com.")
    z.add(ORIGIN, 3600, "MX", "10 mail1.example.com.")
    z.add(ORIGIN, 3600, "MX", "20 mail2.example.com.")
    z.add(ORIGIN, 3600, "TXT", '"v=spf1 mx -all"')
    z.add(ORIGIN, 3600, "CAA", '0 issue "ca.example.net"')
    z.add(ORIGIN, 3600, "A", "192.0.2.1")
    z.add(ORIGIN, 3600, "AAAA", "2001:db8::1")
    for i, name in enumerate(("ns1", "ns2", "mail1", "mail2", "www")):
        owner = name + "." + ORIGIN
        z.add(owner, 3600, "A", "198.51.100.%d" % (i + 1))
        z.add(owner, 3600, "AAAA", "2001:db8:1::%d" % (i + 1))
        z.positive(owner, "A")
        z.positive(owner, "AAAA")
    # The wildcard: any name below wild.example.com. (RFC 4592).
    z.add("*." + WILD_PARENT, 300, "A", "203.0.113.80")
    z.add("*." + WILD_PARENT, 300, "AAAA", "2001:db8:80::80")
    z.add("*." + WILD_PARENT, 300, "TXT", '"synthesised from a wildcard"')
    # The delegation: NS and DS at the cut, glue below it.
    z.add(DELEG, 86400, "NS", "ns1." + DELEG)
    z.add(DELEG, 86400, "NS", "ns2." + DELEG)
    z.add(DELEG, 86400, "DS",
          "12345 13 2 "
          "3F1A0C6E2B4D8A9F7E6D5C4B3A29180F1E2D3C4B5A69788796A5B4C3D2E1F0A9")
    z.add("ns1." + DELEG, 86400, "A", "203.0.113.53")
    z.add("ns1." + DELEG, 86400, "AAAA", "2001:db8:53::1")
    z.add("ns2." + DELEG, 86400, "A", "198.51.100.53")


def _host_name(rng, i):
    label = "%s%d" % (rng.choice(WORDS), i)
    if rng.random() < 0.4:
        return "%s.site%02d.%s" % (label, rng.randrange(SITES), ORIGIN)
    return label + "." + ORIGIN


def _one_name(z, rng, i, hosts):
    """Adds the records of one generated name."""
    owner = _host_name(rng, i)
    ttl = rng.choice(TTLS)
    kind = rng.random()
    if kind < 0.35:
        addrs = {_v4(rng) for _ in range(rng.choice((1, 1, 1, 2)))}
        for addr in sorted(addrs):
            z.add(owner, ttl, "A", addr)
        z.positive(owner, "A")
        hosts.append(owner)
    elif kind < 0.60:
        z.add(owner, ttl, "A", _v4(rng))
        z.add(owner, ttl, "AAAA", _v6(rng))
        z.positive(owner, "A")
        z.positive(owner, "AAAA")
        hosts.append(owner)
    elif kind < 0.65:
        z.add(owner, ttl, "A", _v4(rng))
        z.add(owner, ttl, "AAAA", _v6(rng))
        z.add(owner, ttl, "TXT", _txt(rng))
        for t in ("A", "AAAA", "TXT"):
            z.positive(owner, t)
        hosts.append(owner)
    elif kind < 0.70:
        z.add(owner, ttl, "MX", "10 mail1.example.com.")
        z.add(owner, ttl, "MX", "20 mail2.example.com.")
        z.add(owner, ttl, "A", _v4(rng))
        z.positive(owner, "MX")
        z.positive(owner, "A")
    elif kind < 0.75:
        z.add(owner, ttl, "TXT", _txt(rng))
        z.positive(owner, "TXT")
    elif kind < 0.80:
        srv_owner = rng.choice(SRV_SERVICES) + "." + owner
        target = rng.choice(hosts) if hosts else "www." + ORIGIN
        z.add(srv_owner, ttl, "SRV", "%d %d %d %s" % (
            rng.randrange(0, 20), rng.randrange(0, 100),
            rng.choice((443, 5060, 5222, 389, 993, 587, 8443)), target))
        z.positive(srv_owner, "SRV")
    elif kind < 0.83:
        z.add(owner, ttl, "A", _v4(rng))
        z.add(owner, ttl, "CAA", '0 issue "ca.example.net"')
        z.add(owner, ttl, "CAA", '0 iodef "mailto:security@example.com"')
        z.positive(owner, "A")
        z.positive(owner, "CAA")
        hosts.append(owner)
    else:
        if hosts and rng.random() < 0.85:
            target = rng.choice(hosts)
        else:
            target = "edge%d.cdn.example.net." % rng.randrange(100)
        z.add(owner, ttl, "CNAME", target)
        z.aliases.append(owner)


def build(names=None, records=None, seed=1):
    """Builds the zone: `names` generated names, or names until the zone
    holds at least `records` records. Returns a Zone."""
    rng = random.Random(seed)
    z = Zone()
    _apex(z)
    hosts = []
    i = 0
    while True:
        if names is not None and i >= names:
            break
        if records is not None and z.records >= records - 1:
            break
        _one_name(z, rng, i, hosts)
        i += 1
    z.add(PROBE_NAME, 3600, "A", PROBE_ADDR)
    return z


def write_zone(z, path):
    with open(path, "w") as f:
        f.write("; generated by bench/gen_zone.py; documentation addresses "
                "only (RFC 5737, RFC 3849)\n")
        f.write("\n".join(z.lines))
        f.write("\n")


def _nx_name(z, rng):
    while True:
        if rng.random() < 0.5:
            name = "nx%d.%s" % (rng.getrandbits(24), ORIGIN)
        else:
            name = "nx%d.site%02d.%s" % (rng.getrandbits(24),
                                        rng.randrange(SITES), ORIGIN)
        if name.lower() not in z.taken:
            return name


def queries(z, count=100000, seed=1):
    """The query mix as (name, type) pairs, shuffled deterministically."""
    rng = random.Random(seed + 1000)
    owners = sorted(z.by_type)
    out = []
    n_pos = count * 70 // 100
    n_nx = count * 10 // 100
    n_cname = count * 10 // 100
    n_wild = count * 5 // 100
    n_other = count - n_pos - n_nx - n_cname - n_wild
    for _ in range(n_pos):
        owner = rng.choice(owners)
        out.append((owner, rng.choice(z.by_type[owner])))
    for _ in range(n_nx):
        out.append((_nx_name(z, rng), rng.choice(("A", "A", "AAAA", "TXT"))))
    for _ in range(n_cname):
        out.append((rng.choice(z.aliases), rng.choice(("A", "A", "AAAA"))))
    for _ in range(n_wild):
        label = "w%d" % rng.getrandbits(24)
        out.append((label + "." + WILD_PARENT,
                    rng.choice(("A", "A", "AAAA", "TXT"))))
    other = [(ORIGIN, "SOA"), (ORIGIN, "NS"), (ORIGIN, "MX"), (DELEG, "DS")]
    for k in range(n_other):
        if k % 5 == 4:     # a referral: a name below the cut
            name = "host%d.%s" % (rng.randrange(1000), DELEG)
            out.append((name, rng.choice(("A", "AAAA"))))
        else:
            out.append(other[k % 5])
    rng.shuffle(out)
    return out


def write_queries(qs, path):
    with open(path, "w") as f:
        for name, rtype in qs:
            f.write("%s %s\n" % (name, rtype))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", type=int, default=10000,
                    help="generated names (default 10000)")
    ap.add_argument("--records", type=int,
                    help="generate names until the zone has this many "
                         "records (the big-zone mode)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--zone", default="example.com.zone")
    ap.add_argument("--queries", help="dnsperf query file to write")
    ap.add_argument("--query-count", type=int, default=100000)
    args = ap.parse_args()
    if args.records:
        z = build(records=args.records, seed=args.seed)
    else:
        z = build(names=args.names, seed=args.seed)
    write_zone(z, args.zone)
    print("%s: %d records, %d names" % (args.zone, z.records,
                                        len(z.taken)), file=sys.stderr)
    if args.queries:
        write_queries(queries(z, args.query_count, args.seed), args.queries)
        print("%s: %d queries" % (args.queries, args.query_count),
              file=sys.stderr)


if __name__ == "__main__":
    main()
