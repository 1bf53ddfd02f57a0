"""`anydns-lab status`: the lab as a newcomer wants to see it — every BGP
session, where each router sends the anycast prefixes (followed hop by
hop to the PoP that answers), each PoP's own view, and with a hidden
primary, every zone's serial at the primary and at each PoP.
"""

from . import bird
from .report import table


def status(lab):
    topo = lab.topo
    out = []
    w = out.append
    w("lab %s (%s): namespaces %s*" % (topo.name, topo.path, lab.prefix))
    w("")
    w("BGP sessions of the transit routers")
    rows = []
    for r in topo.routers:
        protos = bird.protocols(lab.bird_sock(r))
        for link in topo.routers[r].links:
            if link.kind == "client":
                continue
            own4, own6, p4, p6, peer = link.end(r)
            for fam, addr in ((4, p4), (6, p6)):
                name = bird.proto_name(peer, fam)
                state, info = protos.get(name, ("?", "no such protocol"))
                kind = "transit" if peer in topo.routers else "PoP"
                asn = topo.routers[peer].asn if peer in topo.routers else topo.asn
                rows.append([r, "%s %s" % (kind, peer), "AS %d" % asn, addr, info or state])
    w(table(["router", "neighbour", "AS", "address", "state"], rows))
    w("")
    w("Where each router sends the anycast prefixes (its best BGP path)")
    rows = []
    for r in topo.routers:
        for fam in (4, 6):
            for p in topo.service_networks(fam):
                pop, route = lab.reach(r, p)
                if route is None:
                    rows.append([r, p, "-", "-", "(no route)"])
                    continue
                why = ""
                if route.get("local_pref") == "0":
                    why = " (LOCAL_PREF 0: draining)"
                rows.append([r, p, route["iface"] or "-", route["as_path"] or "-",
                             (pop or "?") + why])
    w(table(["router", "prefix", "next hop", "AS path", "answered by"], rows))
    w("")
    w("PoPs (anydnsc networks and bgp)")
    rows = []
    for p in topo.pops:
        nets = lab.networks(p)
        peers = lab.bgp_peers(p)
        broken = lab.state["failed"].get(p, [])
        notes = []
        if broken:
            notes.append("anydns-lab fail " + ", ".join(broken))
        if p in lab.state["drained"]:
            notes.append("anydns-lab drain")
        if not nets:
            rows.append([p, "-", "anydnsd not answering", "-", "; ".join(notes)])
            continue
        for n, v in nets.items():
            rows.append([p, n, "%s (healthy=%s)" % (v["state"], v["healthy"]),
                         ", ".join("%s %s" % kv for kv in peers.items()) or "-",
                         "; ".join(notes + ([v["why"]] if v["why"] else []))])
    w(table(["PoP", "network", "state", "BGP sessions", "notes"], rows))
    if topo.primary:
        w("")
        w("Zones (anydnsc zones): the hidden primary %s and its secondaries" % topo.primary.name)
        rows = []
        for h in [topo.primary.name] + list(topo.pops):
            zones = lab.zones(h)
            if not zones:
                rows.append([h, "-", "anydnsd not answering", "-", "-", "-"])
            for z, f in zones.items():
                rows.append([h, z, f.get("serial", "?"), f.get("role", "primary"),
                             f.get("lag", "-"), f.get("error") or f.get("result", "-")])
        w(table(["host", "zone", "serial", "role", "lag (s)", "last result"], rows))
    return "\n".join(out)
