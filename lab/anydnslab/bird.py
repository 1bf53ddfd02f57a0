"""The lab's transit routers: a BIRD 2 configuration for each, and reading
`birdc` output back.

Each router is its own AS with eBGP to its neighbours (one session per
address family over that family's link addresses), learns the anycast
prefixes from its PoPs and the connected networks of every router, and
installs its best routes into its namespace's kernel table (the `kernel`
protocols), so the lab's packets go where BGP decides. A route carrying
GRACEFUL_SHUTDOWN (65535:0, RFC 8326) gets LOCAL_PREF 0: it stays usable
but loses to any other, which is what makes `anydnsc drain` lossless.
"""

import re

from .system import run


def proto_name(host, family):
    """BIRD protocol names allow letters, digits and '_'."""
    return "%s%d" % (host.replace("-", "_"), family)


def _prefix_set(nets):
    return "[ %s ]" % ", ".join(nets)


def config(topo, router, log_path):
    """The BIRD configuration of one router, as text."""
    r = topo.routers[router]
    svc4 = topo.service_networks(4)
    svc6 = topo.service_networks(6)
    out = []
    w = out.append
    w("# BIRD 2 configuration of router %s (AS %d) in the anydns lab %s,"
      % (r.name, r.asn, topo.name))
    w("# written by anydns-lab from %s." % topo.path)
    w('log "%s" all;' % log_path)
    w("router id %s;" % r.router_id)
    w("timeformat protocol iso long;")
    w("timeformat route iso long;")
    w("debug protocols { states, events };")
    w("")
    w("# Interfaces and their addresses; links are checked every 5 s and on")
    w("# every netlink event.")
    w("protocol device { scan time 5; }")
    w("")
    w("# Connected networks (links, client LANs) go into BGP, so every host")
    w("# can reach every other one and answers find their way back.")
    w('protocol direct { ipv4; ipv6; interface "-lo", "*"; }')
    w("")
    w("# Best BGP routes into the kernel: packets follow BGP.")
    w("protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; }")
    w("protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; }")
    w("")
    w("# From a PoP: only the service prefixes. RFC 8326: a route with")
    w("# GRACEFUL_SHUTDOWN (65535:0) is kept but preferred least.")
    for fam, nets in ((4, svc4), (6, svc6)):
        w("filter from_pop%d {" % fam)
        if nets:
            w("  if net ~ %s then {" % _prefix_set(nets))
            w("    if (65535, 0) ~ bgp_community then bgp_local_pref = 0;")
            w("    accept;")
            w("  }")
        w("  reject;")
        w("}")
    w("filter from_transit {")
    w("  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;")
    w("  accept;")
    w("}")
    w("")
    w("# Short timers: a lab converges in seconds, and a session that failed")
    w("# is ready again 1 or 2 s later, however often it failed. A session to")
    w("# a directly connected neighbour goes down as soon as its link does")
    w("# (check link), as routers' fast external fallover does.")
    w("template bgp lab {")
    w("  local as %d;" % r.asn)
    w("  hold time 9;")
    w("  keepalive time 3;")
    w("  connect delay time 1;")
    w("  connect retry time 2;")
    w("  error wait time 1, 2;")
    w("  error forget time 10;")
    w("  check link yes;")
    w("}")
    for link in r.links:
        if link.kind == "client":
            continue
        own4, own6, peer4, peer6, peer = link.end(r.name)
        for fam, own, addr in ((4, own4, peer4), (6, own6, peer6)):
            w("")
            if link.kind == "transit":
                pr = topo.routers[peer]
                n = link.prepend.get(r.name, 0)
                w("protocol bgp %s from lab {" % proto_name(peer, fam))
                w('  description "transit %s (AS %d)";' % (peer, pr.asn))
                w("  neighbor %s as %d;" % (addr, pr.asn))
                w("  source address %s;" % own)
                if n:
                    w("  # Routes sent this way are made %d AS hop(s) longer." % n)
                    exp = "filter { %s accept; }" % "".join(
                        "bgp_path.prepend(%d); " % r.asn for _ in range(n))
                else:
                    exp = "all"
                w("  ipv%d { import filter from_transit; export %s; };" % (fam, exp))
                w("}")
            else:
                w("protocol bgp %s from lab {" % proto_name(peer, fam))
                w('  description "PoP %s (AS %d)";' % (peer, topo.asn))
                w("  neighbor %s as %d;" % (addr, topo.asn))
                w("  source address %s;" % own)
                w("  # The PoP connects; it learns nothing from us.")
                w("  passive on;")
                w("  ipv%d { import filter from_pop%d; export none; };" % (fam, fam))
                w("}")
    return "\n".join(out) + "\n"


def cli(sock, *args, timeout=10):
    return run(["birdc", "-s", sock] + list(args), check=False, timeout=timeout)


def protocols(sock):
    """name -> (state, info) of every BGP protocol."""
    out = {}
    for line in cli(sock, "show", "protocols").splitlines():
        f = line.split(None, 5)
        if len(f) >= 4 and f[1] == "BGP":
            info = f[5] if len(f) > 5 else (f[4] if len(f) > 4 else "")
            # "up 2024-01-01 12:00:00 Established" has the info after the time.
            m = re.search(r"(Established|Idle|Connect|Active|OpenSent|OpenConfirm|Passive)\S*.*$", line)
            out[f[0]] = (f[3], m.group(0).strip() if m else info.strip())
    return out


def best_route(sock, prefix):
    """The router's primary route for prefix: a dict with via, iface, proto,
    as_path, communities; or None when it has none."""
    text = cli(sock, "show", "route", "for", prefix, "primary", "all")
    route = None
    for line in text.splitlines():
        m = re.match(r"^(\S+)?\s+unicast \[(\S+) ", line)
        if m and route is None:
            route = {"proto": m.group(2), "via": None, "iface": None,
                     "as_path": "", "communities": "", "local_pref": ""}
            continue
        if route is None:
            continue
        m = re.match(r"^\s+via (\S+) on (\S+)", line)
        if m and route["via"] is None:
            route["via"], route["iface"] = m.group(1), m.group(2)
        m = re.match(r"^\s+BGP\.as_path:\s*(.*)$", line)
        if m:
            route["as_path"] = m.group(1).strip()
        m = re.match(r"^\s+BGP\.community:\s*(.*)$", line)
        if m:
            route["communities"] = m.group(1).strip()
        m = re.match(r"^\s+BGP\.local_pref:\s*(.*)$", line)
        if m:
            route["local_pref"] = m.group(1).strip()
        if re.match(r"^\S", line) and "unicast" in line:
            break
    return route
