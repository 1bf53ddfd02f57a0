"""The PoPs' anydnsd configurations: a template (lab/templates/anydnsd.yaml
unless the topology names another) with the lab's values put in place of
$names by string.Template, so whatever else the template says is used as
written: a production configuration can be tried by turning it into a
template.

The names (docs/lab.md has the same list):

  $pop        the PoP's name: use it as server.identity, so NSID tells
              which PoP answered
  $state      the PoP's state directory (control socket, PID file)
  $port       the service's DNS port
  $storage    the PoP's replication storage (journals, stored copies of
              secondary zones): keep `replication.storage: $storage`
  $zones      the zones, a YAML flow list: [{name: ..., file: ...}], or,
              with a [primary], the zones as its secondaries
              [{name: ..., primaries: [the primary's management address]}]
  $zones_max_lag
              the topology's primary.zones-max-lag ("0": not checked,
              and always without a [primary]), for
              networks.checks.zones-max-lag
  $asn        the PoPs' AS number
  $router_id  the PoP's first uplink IPv4 address
  $prefixes   the service prefixes, a YAML flow list
  $peers      the BGP sessions to the upstream routers, a YAML flow list:
              one per router and address family, hold-time 9s,
              connect-retry 1s
  $uplink4, $uplink6, $router4, $router6, $router_asn
              the first uplink's own and router-side addresses, and that
              router's AS, for templates that spell their peers out

A template with no `replication:` section gets one naming $storage, so
that no journal or stored copy is ever written outside the lab's state
directory (anydnsd's default is /var/lib/anydns).

The hidden primary's configuration (lab/templates/primary.yaml unless
[primary] config names another) is written the same way, with:

  $primary    its name (server.identity)
  $state      its state directory (control socket, PID file, zone files)
  $storage    its replication storage (the zones' journals)
  $port       the service's DNS port: it serves and sends NOTIFY on it
  $zones      the zones of its own, a YAML flow list: each with its file
              (a copy in $state/zones that the lab and the propagation
              scenario rewrite), `notify` to every PoP's management
              address and `allow-transfer` for those addresses
"""

import os
import re
import shutil
import string


def _q(s):
    return '"%s"' % s


def _addr(addr, port):
    """ADDR, or ADDR@PORT when the port is not 53, quoted for YAML."""
    return _q(addr if port == 53 else "%s@%d" % (addr, port))


def storage_dir(state_dir):
    return os.path.join(state_dir, "storage")


def zone_copy(state_dir, apex):
    """Where the primary's copy of a zone file is."""
    return os.path.join(state_dir, "zones", "%s.zone" % apex)


def values(topo, pop, state_dir):
    p = topo.pops[pop]
    peers = []
    for link in p.links:
        own4, own6, r4, r6, router = link.end(pop)
        ras = topo.routers[router].asn
        peers.append("{name: %s-v4, address: %s, remote-as: %d, ipv6: false, "
                     "hold-time: 9s, connect-retry: 1s}" % (router, r4, ras))
        peers.append("{name: %s-v6, address: %s, remote-as: %d, ipv4: false, "
                     "hold-time: 9s, connect-retry: 1s}" % (router, _q(r6), ras))
    first = p.links[0].end(pop)
    if topo.primary:
        prim = topo.primary.address(pop)
        zones = "[%s]" % ", ".join("{name: %s, primaries: [%s]}" % (z, _addr(prim, topo.port))
                                   for z, _ in topo.zones)
        lag = topo.primary.zones_max_lag
    else:
        zones = "[%s]" % ", ".join("{name: %s, file: %s}" % (z, _q(f)) for z, f in topo.zones)
        lag = "0"
    return {
        "pop": pop,
        "state": state_dir,
        "storage": storage_dir(state_dir),
        "port": str(topo.port),
        "zones": zones,
        "zones_max_lag": lag,
        "asn": str(topo.asn),
        "router_id": p.router_id,
        "prefixes": "[%s]" % ", ".join(_q(x) for x in topo.prefixes),
        "peers": "[%s]" % ", ".join(peers),
        "uplink4": first[0],
        "uplink6": first[1],
        "router4": first[2],
        "router6": first[3],
        "router_asn": str(topo.routers[first[4]].asn),
    }


def primary_values(topo, state_dir):
    pr = topo.primary
    zones = []
    for z, _ in topo.zones:
        notify = ", ".join(_addr(pr.pop_address(p), topo.port) for p in pr.links)
        allow = ", ".join(_q("%s/32" % pr.pop_address(p)) for p in pr.links)
        zones.append("{name: %s, file: %s, notify: [%s], allow-transfer: [%s]}"
                     % (z, _q(zone_copy(state_dir, z)), notify, allow))
    return {
        "primary": pr.name,
        "state": state_dir,
        "storage": storage_dir(state_dir),
        "port": str(topo.port),
        "zones": "[%s]" % ", ".join(zones),
    }


def _substitute(template, vals, state_dir):
    with open(template) as f:
        text = f.read()
    try:
        text = string.Template(text).substitute(vals)
    except KeyError as e:
        raise KeyError("%s: unknown name $%s (docs/lab.md lists them)"
                       % (template, e.args[0]))
    except ValueError as e:
        raise ValueError("%s: %s (write $$ for a literal $)" % (template, e))
    if not re.search(r"^replication\s*:", text, re.M):
        text += ("\n# Added by anydns-lab: journals and stored copies stay in the lab.\n"
                 "replication:\n  storage: %s\n" % _q(storage_dir(state_dir)))
    return text


def render(topo, pop, state_dir):
    """The PoP's configuration text. Raises KeyError or ValueError naming
    an unknown $name or a stray $ in the template."""
    return _substitute(topo.pops[pop].config, values(topo, pop, state_dir), state_dir)


def write(topo, pop, state_dir):
    # anydnsd creates the storage directory only for journals of its own
    # zones; a secondary's stored copy needs it too.
    os.makedirs(storage_dir(state_dir), exist_ok=True)
    path = os.path.join(state_dir, "anydnsd.yaml")
    with open(path, "w") as f:
        f.write("# Written by anydns-lab from %s for PoP %s.\n"
                % (topo.pops[pop].config, pop))
        f.write(render(topo, pop, state_dir))
    return path


def write_primary(topo, state_dir):
    """The hidden primary's configuration, and its copies of the zone files
    (the topology's files are never written to). A copy that exists is
    kept: a restarted primary serves what it was last given."""
    os.makedirs(os.path.join(state_dir, "zones"), exist_ok=True)
    for z, f in topo.zones:
        if not os.path.exists(zone_copy(state_dir, z)):
            shutil.copyfile(f, zone_copy(state_dir, z))
    path = os.path.join(state_dir, "anydnsd.yaml")
    text = _substitute(topo.primary.config, primary_values(topo, state_dir), state_dir)
    with open(path, "w") as f:
        f.write("# Written by anydns-lab from %s for the hidden primary %s.\n"
                % (topo.primary.config, topo.primary.name))
        f.write(text)
    return path
