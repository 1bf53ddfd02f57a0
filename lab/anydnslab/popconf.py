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
  $zones      the zones, a YAML flow list [{name: ..., file: ...}]
  $asn        the PoPs' AS number
  $router_id  the PoP's first uplink IPv4 address
  $prefixes   the service prefixes, a YAML flow list
  $peers      the BGP sessions to the upstream routers, a YAML flow list:
              one per router and address family, hold-time 9s,
              connect-retry 1s
  $uplink4, $uplink6, $router4, $router6, $router_asn
              the first uplink's own and router-side addresses, and that
              router's AS, for templates that spell their peers out
"""

import os
import string


def _q(s):
    return '"%s"' % s


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
    return {
        "pop": pop,
        "state": state_dir,
        "port": str(topo.port),
        "zones": "[%s]" % ", ".join("{name: %s, file: %s}" % (z, _q(f))
                                    for z, f in topo.zones),
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


def render(topo, pop, state_dir):
    """The PoP's configuration text. Raises KeyError or ValueError naming
    an unknown $name or a stray $ in the template."""
    with open(topo.pops[pop].config) as f:
        text = f.read()
    try:
        return string.Template(text).substitute(values(topo, pop, state_dir))
    except KeyError as e:
        raise KeyError("%s: unknown name $%s (docs/lab.md lists them)"
                       % (topo.pops[pop].config, e.args[0]))
    except ValueError as e:
        raise ValueError("%s: %s (write $$ for a literal $)"
                         % (topo.pops[pop].config, e))


def write(topo, pop, state_dir):
    path = os.path.join(state_dir, "anydnsd.yaml")
    with open(path, "w") as f:
        f.write("# Written by anydns-lab from %s for PoP %s.\n"
                % (topo.pops[pop].config, pop))
        f.write(render(topo, pop, state_dir))
    return path
