"""A lab topology: the TOML file (docs/lab.md describes it) read, checked,
and turned into plain objects with every address allocated, so the rest of
the lab never looks at the file again.

Addresses come from the documentation ranges unless the file says
otherwise: links between routers and from routers to PoPs are /30s of
198.51.100.0/24 (RFC 5737) and /64s of 2001:db8:1::/48, clients' links
/30s of 203.0.113.0/24 and /64s of 2001:db8:2::/48 (RFC 3849), the side
named first in a link taking the lower address. They are given out in the
order the file lists things, so the same file always gives the same
addresses.

An optional [primary] adds a hidden primary: a host running anydnsd as the
primary of the service zones, joined to every PoP by a management link of
its own (/30s of 192.0.2.128/25 and /64s of 2001:db8:3::/48 by default),
which BGP never carries; the PoPs become its secondaries.
"""

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field

# A host name is also the name of the interface that leads to it (at most
# 15 octets, IFNAMSIZ) and, with '-' as '_', of its BIRD protocols.
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}$")

DEFAULTS = {
    "links4": "198.51.100.0/24",
    "links6": "2001:db8:1::/48",
    "clients4": "203.0.113.0/24",
    "clients6": "2001:db8:2::/48",
    "mgmt4": "192.0.2.128/25",
    "mgmt6": "2001:db8:3::/48",
}
# A duration as anydnsd writes them: 10s, 500ms, 1m.
DURATION_RE = re.compile(r"^[0-9]+(ms|s|m|h|d)?$")


class TopologyError(Exception):
    """The topology file is not usable; the message says where and why."""


@dataclass
class Link:
    """One veth pair: host a's end is named b, host b's end is named a."""
    kind: str                   # "transit", "pop" or "client"
    a: str
    b: str
    a4: str
    b4: str
    a6: str
    b6: str
    len4: int
    len6: int
    prepend: dict = field(default_factory=dict)   # router -> extra copies

    def end(self, host):
        """(own v4, own v6, peer v4, peer v6, peer name) seen from host."""
        if host == self.a:
            return self.a4, self.a6, self.b4, self.b6, self.b
        return self.b4, self.b6, self.a4, self.a6, self.a


@dataclass
class Router:
    name: str
    asn: int
    router_id: str = ""
    links: list = field(default_factory=list)


@dataclass
class Pop:
    name: str
    index: int
    routers: list
    config: str
    links: list = field(default_factory=list)
    mgmt: Link = None           # the link to the hidden primary, if any

    @property
    def router_id(self):
        return self.links[0].end(self.name)[0]


@dataclass
class Client:
    name: str
    router: str
    link: Link = None


@dataclass
class Primary:
    """The hidden primary: anydnsd serving the zones to the PoPs over one
    management link each (its end is the lower address, named after the
    PoP), never announced into BGP and with no route beyond those links."""
    name: str
    config: str
    zones_max_lag: str          # the PoPs' networks.checks.zones-max-lag
    links: dict = field(default_factory=dict)   # PoP -> Link (a = primary)

    def address(self, pop, family=4):
        """The primary's address on its link to pop."""
        e = self.links[pop].end(self.name)
        return e[0] if family == 4 else e[1]

    def pop_address(self, pop, family=4):
        """The PoP's management address: where NOTIFY goes and what the
        primary lets transfer."""
        e = self.links[pop].end(self.name)
        return e[2] if family == 4 else e[3]


@dataclass
class Topology:
    name: str
    path: str
    prefixes: list              # service prefixes, as written ("192.0.2.53/32")
    asn: int                    # the PoPs' AS
    zones: list                 # [(apex, absolute file path)]
    port: int
    query_name: str             # what probes and `query` ask by default
    routers: dict
    pops: dict
    clients: dict
    links: list
    scenarios: dict
    primary: Primary = None     # [primary], or None: the PoPs read the zone files

    def hosts(self):
        """Every host name: routers first, then PoPs, then clients, then the
        primary if there is one."""
        return (list(self.routers) + list(self.pops) + list(self.clients)
                + ([self.primary.name] if self.primary else []))

    def kind(self, host):
        if host in self.routers:
            return "router"
        if host in self.pops:
            return "pop"
        if host in self.clients:
            return "client"
        if self.primary and host == self.primary.name:
            return "primary"
        raise KeyError(host)

    def service_addresses(self, family=None):
        """The service prefixes' addresses ("192.0.2.53"), v4 first."""
        out = []
        for p in self.prefixes:
            a = ipaddress.ip_interface(p).ip
            if family is None or a.version == family:
                out.append(str(a))
        return sorted(out, key=lambda s: ":" in s)

    def service_networks(self, family):
        """The routes the PoPs announce for one family ("192.0.2.53/32")."""
        return [str(ipaddress.ip_interface(p).network) for p in self.prefixes
                if ipaddress.ip_interface(p).version == family]

    def home_pops(self, client):
        """The PoPs behind the client's own router: where it should land."""
        r = self.clients[client].router
        return [p.name for p in self.pops.values() if r in p.routers]

    def owner_of(self, address):
        """The host whose link address this is, or None."""
        for link in self.links:
            for host, a4, a6 in ((link.a, link.a4, link.a6), (link.b, link.b4, link.b6)):
                if address in (a4, a6):
                    return host
        return None


def _subnets(pool, newprefix, what):
    try:
        net = ipaddress.ip_network(pool)
    except ValueError as e:
        raise TopologyError("addresses.%s: %s" % (what, e))
    if net.prefixlen > newprefix:
        raise TopologyError("addresses.%s: %s is smaller than /%d" % (what, pool, newprefix))
    return net.subnets(new_prefix=newprefix)


def _name(where, name):
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise TopologyError("%s: host name %r: use 1 to 15 of a-z, 0-9 and '-', "
                            "starting with a letter" % (where, name))
    return name


def _asn(where, v):
    if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 4294967295:
        raise TopologyError("%s: asn must be an integer from 1 to 4294967295" % where)
    return v


def _table(doc, key):
    v = doc.get(key, {})
    if not isinstance(v, dict):
        raise TopologyError("[%s] must be a table" % key)
    return v


def _check_keys(where, table, allowed):
    for k in table:
        if k not in allowed:
            raise TopologyError("%s: unknown key %r (known: %s)"
                                % (where, k, ", ".join(sorted(allowed))))


def load(path):
    """Reads and checks a topology file; returns a Topology."""
    path = os.path.abspath(path)
    base = os.path.dirname(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TopologyError("%s: %s" % (path, e))
    _check_keys(path, doc, {"name", "service", "addresses", "routers", "links",
                            "pops", "clients", "scenarios", "primary"})

    name = doc.get("name")
    if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9]{0,11}$", name):
        raise TopologyError("name: 1 to 12 of a-z and 0-9, starting with a letter")

    svc = _table(doc, "service")
    _check_keys("[service]", svc, {"prefixes", "asn", "zones", "config", "port", "query"})
    prefixes = svc.get("prefixes")
    if not isinstance(prefixes, list) or not prefixes:
        raise TopologyError("service.prefixes: a list of ADDR/LEN")
    for p in prefixes:
        try:
            ipaddress.ip_interface(p)
        except ValueError as e:
            raise TopologyError("service.prefixes: %s" % e)
    zones = []
    for z in svc.get("zones", []):
        if not isinstance(z, dict) or "name" not in z or "file" not in z:
            raise TopologyError("service.zones: each a table {name = ..., file = ...}")
        f = os.path.normpath(os.path.join(base, z["file"]))
        if not os.path.isfile(f):
            raise TopologyError("service.zones: %s: no such file" % f)
        zones.append((z["name"].rstrip("."), f))
    if not zones:
        raise TopologyError("service.zones: at least one zone")
    default_config = os.path.normpath(os.path.join(
        base, svc.get("config", os.path.join(os.path.dirname(__file__), "..",
                                             "templates", "anydnsd.yaml"))))
    port = svc.get("port", 53)
    query_name = svc.get("query", "www." + zones[0][0])

    addr = _table(doc, "addresses")
    _check_keys("[addresses]", addr, set(DEFAULTS))
    pools = dict(DEFAULTS, **addr)
    infra4 = _subnets(pools["links4"], 30, "links4")
    infra6 = _subnets(pools["links6"], 64, "links6")
    cli4 = _subnets(pools["clients4"], 30, "clients4")
    cli6 = _subnets(pools["clients6"], 64, "clients6")
    mgmt4 = _subnets(pools["mgmt4"], 30, "mgmt4")
    mgmt6 = _subnets(pools["mgmt6"], 64, "mgmt6")

    seen = set()

    def new_host(where, n):
        _name(where, n)
        if n in seen:
            raise TopologyError("%s: %s is already a host's name" % (where, n))
        seen.add(n)
        return n

    routers = {}
    for n, t in _table(doc, "routers").items():
        new_host("[routers.%s]" % n, n)
        _check_keys("[routers.%s]" % n, t, {"asn"})
        routers[n] = Router(n, _asn("[routers.%s]" % n, t.get("asn")))
    if not routers:
        raise TopologyError("[routers]: at least one router")

    links = []

    def new_link(kind, a, b, pool4, pool6, prepend=None):
        try:
            n4, n6 = next(pool4), next(pool6)
        except StopIteration:
            raise TopologyError("too many %s links for the address pools" % kind)
        h4 = list(n4.hosts())
        link = Link(kind, a, b, str(h4[0]), str(h4[1]), str(n6[1]), str(n6[2]),
                    n4.prefixlen, n6.prefixlen, prepend or {})
        links.append(link)
        return link

    asn = _asn("service.asn", svc.get("asn"))
    for i, t in enumerate(doc.get("links", [])):
        where = "[[links]] #%d" % (i + 1)
        _check_keys(where, t, {"routers", "prepend"})
        pair = t.get("routers")
        if (not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]
                or any(r not in routers for r in pair)):
            raise TopologyError("%s: routers = [two different routers of [routers]]" % where)
        prepend = t.get("prepend", {})
        for r, v in prepend.items():
            if r not in pair or not isinstance(v, int) or not 0 <= v <= 15:
                raise TopologyError("%s: prepend = {ROUTER = 0..15}, ROUTER one of %s" % (where, pair))
        link = new_link("transit", pair[0], pair[1], infra4, infra6, prepend)
        routers[pair[0]].links.append(link)
        routers[pair[1]].links.append(link)

    pops = {}
    for i, (n, t) in enumerate(_table(doc, "pops").items()):
        where = "[pops.%s]" % n
        new_host(where, n)
        _check_keys(where, t, {"routers", "config"})
        ups = t.get("routers")
        if not isinstance(ups, list) or not ups or any(r not in routers for r in ups):
            raise TopologyError("%s: routers = [its upstream routers]" % where)
        cfg = os.path.normpath(os.path.join(base, t["config"])) if "config" in t else default_config
        if not os.path.isfile(cfg):
            raise TopologyError("%s: config %s: no such file" % (where, cfg))
        pop = Pop(n, i + 1, list(ups), cfg)
        for r in ups:
            link = new_link("pop", r, n, infra4, infra6)
            pop.links.append(link)
            routers[r].links.append(link)
        pops[n] = pop
    if not pops:
        raise TopologyError("[pops]: at least one PoP")

    clients = {}
    for n, t in _table(doc, "clients").items():
        where = "[clients.%s]" % n
        new_host(where, n)
        _check_keys(where, t, {"router"})
        r = t.get("router")
        if r not in routers:
            raise TopologyError("%s: router = one of [routers]" % where)
        c = Client(n, r)
        c.link = new_link("client", r, n, cli4, cli6)
        routers[r].links.append(c.link)
        clients[n] = c
    if not clients:
        raise TopologyError("[clients]: at least one client")

    for r in routers.values():
        if not r.links:
            raise TopologyError("[routers.%s]: connected to nothing" % r.name)
        r.router_id = r.links[0].end(r.name)[0]

    scen = _table(doc, "scenarios")
    for k, v in scen.items():
        if k.endswith("-pop") and v not in pops:
            raise TopologyError("scenarios.%s: %r is not a PoP" % (k, v))

    primary = None
    if "primary" in doc:
        pt = _table(doc, "primary")
        _check_keys("[primary]", pt, {"name", "zones-max-lag", "config"})
        pname = new_host("[primary]", pt.get("name", "primary"))
        lag = pt.get("zones-max-lag", "10s")
        if not isinstance(lag, str) or not DURATION_RE.match(lag):
            raise TopologyError("primary.zones-max-lag: a duration such as \"10s\" "
                                "(\"0\": lag not checked)")
        pcfg = os.path.normpath(os.path.join(
            base, pt.get("config", os.path.join(os.path.dirname(__file__), "..",
                                                "templates", "primary.yaml"))))
        if not os.path.isfile(pcfg):
            raise TopologyError("[primary]: config %s: no such file" % pcfg)
        _disjoint(pools, prefixes)
        primary = Primary(pname, pcfg, lag)
        for p in pops.values():
            try:
                n4, n6 = next(mgmt4), next(mgmt6)
            except StopIteration:
                raise TopologyError("too many PoPs for the management address pools")
            h4 = list(n4.hosts())
            link = Link("mgmt", pname, p.name, str(h4[0]), str(h4[1]), str(n6[1]),
                        str(n6[2]), n4.prefixlen, n6.prefixlen)
            links.append(link)
            p.mgmt = link
            primary.links[p.name] = link

    return Topology(name, path, list(prefixes), asn, zones, port, query_name,
                    routers, pops, clients, links, scen, primary)


def _disjoint(pools, prefixes):
    """The management pools must not overlap the other pools or hold a
    service address: the PoPs would route a management address into BGP
    or the anycast address into a management link."""
    nets = {k: ipaddress.ip_network(v) for k, v in pools.items()}
    for m in ("mgmt4", "mgmt6"):
        for k, n in nets.items():
            if k != m and n.version == nets[m].version and nets[m].overlaps(n):
                raise TopologyError("addresses.%s %s overlaps addresses.%s %s"
                                    % (m, nets[m], k, n))
        for p in prefixes:
            a = ipaddress.ip_interface(p).ip
            if a.version == nets[m].version and a in nets[m]:
                raise TopologyError("addresses.%s %s holds the service address %s"
                                    % (m, nets[m], a))
