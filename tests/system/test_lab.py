"""System test of the anycast lab (lab/, docs/lab.md): the world topology
(three regions, BIRD transit routers, anydnsd PoPs with their own BGP
speaker, clients) built in network namespaces under a name of its own, and
the scenarios run against it, checking behaviour, not timing:

- catchment: every client is answered by its own region's PoP, over IPv4
  and IPv6;
- failover: when pop-eu's DNS service stops answering, its client is
  answered by another PoP, and the other clients stay where they were;
- drain: draining pop-us loses no query, and its clients move;
- recovery: afterwards every client is answered again, by its own PoP;
- crash: when pop-ap's host vanishes its client is answered by another
  PoP, and comes back after the recovery;
- propagation: five changes made at the hidden primary are answered by
  every PoP (their SOA serial and the changed record), and a PoP restarted
  while a change is made answers from its stored copy and catches up;
- down leaves no namespace, process or state behind.

Run as root from the repository root: /usr/bin/python3 -m pytest
tests/system/test_lab.py (ANYDNS_BIN_DIR picks the build, as for the other
system tests). The lab is brought down at the end, also on failure; its
logs stay in the printed directory when a test failed.
"""

import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from anydnslab import popconf, topology  # noqa: E402
from anydnslab.lab import Lab  # noqa: E402
from anydnslab.system import netns_list, start_time  # noqa: E402
from scenarios import catchment, crash, drain, failover, propagation, recovery  # noqa: E402

WORLD = os.path.join(ROOT, "lab", "topologies", "world.toml")
BIN = os.environ.get("ANYDNS_BIN_DIR", "build/release/bin")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


@pytest.fixture(scope="module")
def lab(request):
    topo = topology.load(WORLD)
    topo.name = "t%d" % (os.getpid() % 1000000)   # apart from a `make demo` running
    out = tempfile.mkdtemp(prefix="anydns-lab-")
    lab = Lab(topo, bin_dir=BIN, out_dir=out)
    print("lab %s, logs and timelines in %s" % (topo.name, out))
    failed_before = request.session.testsfailed
    try:
        lab.up()
        yield lab
    finally:
        lab.down(quiet=True)
        if request.session.testsfailed > failed_before:
            print("logs kept in %s" % out)
        else:
            shutil.rmtree(out, ignore_errors=True)


def test_world_topology_addresses():
    topo = topology.load(WORLD)
    assert list(topo.routers) == ["eu", "us", "ap"]
    assert topo.home_pops("client-eu") == ["pop-eu"]
    assert topo.service_addresses() == ["192.0.2.53", "2001:db8::53"]
    # Links are numbered in file order: transits, PoPs, then clients.
    first = topo.links[0]
    assert (first.a, first.b, first.a4, first.b4, first.a6) == (
        "eu", "us", "198.51.100.1", "198.51.100.2", "2001:db8:1::1")
    assert topo.clients["client-ap"].link.b4 == "203.0.113.10"
    assert topo.pops["pop-us"].router_id == "198.51.100.18"
    # The hidden primary: a management link to each PoP, after every other link.
    assert topo.kind("primary") == "primary"
    assert topo.primary.address("pop-eu") == "192.0.2.129"
    assert topo.primary.pop_address("pop-ap") == "192.0.2.138"
    assert topo.pops["pop-us"].mgmt.end("pop-us")[4] == "primary"
    assert topo.primary.zones_max_lag == "10s"


def test_topology_without_primary(tmp_path):
    """A topology without [primary]: the PoPs read the zone files and the
    zones check does not look at lag, as before the primary existed."""
    small = tmp_path / "small.toml"
    small.write_text('name = "small"\n[service]\nprefixes = ["192.0.2.53/32"]\nasn = 64496\n'
                     'zones = [{name = "example.com", file = "%s"}]\n'
                     '[routers.r1]\nasn = 64497\n[pops.p1]\nrouters = ["r1"]\n'
                     '[clients.c1]\nrouter = "r1"\n'
                     % os.path.join(ROOT, "lab", "zones", "example.com.zone"))
    topo = topology.load(str(small))
    assert topo.primary is None and "primary" not in topo.hosts()
    text = popconf.render(topo, "p1", "/run/anydns-lab/small/p1")
    assert "zones: [{name: example.com, file: \"%s\"}]" % topo.zones[0][1] in text
    assert "zones-max-lag: 0\n" in text
    assert "storage: /run/anydns-lab/small/p1/storage" in text


def test_topology_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[service]\nprefixes = ["192.0.2.53/32"]\nasn = 64496\n'
                   'zones = [{name = "example.com", file = "%s"}]\n'
                   '[routers.r1]\nasn = 64497\n[pops.p1]\nrouters = ["r2"]\n'
                   % os.path.join(ROOT, "lab", "zones", "example.com.zone"))
    with pytest.raises(topology.TopologyError, match=r"\[pops.p1\]: routers"):
        topology.load(str(bad))


def test_catchment(lab):
    res = catchment.run(lab)
    print(res.text())
    for client, by_server in res.data["answered_by"].items():
        home = lab.topo.home_pops(client)
        for server, by in by_server.items():
            assert set(by) == set(home), "%s on %s: %s" % (client, server, by)
    assert res.ok


def test_failover(lab):
    res = failover.run(lab, pop="pop-eu")
    print(res.text())
    assert res.data["moved"] == ["client-eu"]
    eu = res.data["clients"]["client-eu"]
    assert eu["before"] == "pop-eu"
    assert eu["after"] not in (None, "pop-eu")
    for c in ("client-us", "client-ap"):
        d = res.data["clients"][c]
        assert d["before"] == d["after"] == lab.topo.home_pops(c)[0]
        assert d["lost"] == 0
    assert res.ok


def test_drain_loses_nothing(lab):
    res = drain.run(lab, pop="pop-us")
    print(res.text())
    assert res.data["lost"] == 0
    assert "client-us" in res.data["moved"]
    for c in res.data["moved"]:
        assert res.data["clients"][c]["after"] not in (None, "pop-us")
    assert res.ok


def test_recovery(lab):
    res = recovery.run(lab)
    print(res.text())
    assert sorted(res.data["restored"]) == ["pop-eu"]
    assert res.data["undrained"] == ["pop-us"]
    for c, d in res.data["clients"].items():
        assert d["answered_at_end"], c
        assert d["after"] == lab.topo.home_pops(c)[0], (c, d)
    assert res.ok
    assert lab.state["failed"] == {} and lab.state["drained"] == []


def test_crash_and_back(lab):
    res = crash.run(lab, pop="pop-ap")
    print(res.text())
    ap = res.data["clients"]["client-ap"]
    assert ap["before"] == "pop-ap"
    assert ap["after"] not in (None, "pop-ap")
    assert lab.procs.find("pop-ap", "anydnsd") is None
    res = recovery.run(lab)
    print(res.text())
    for c, d in res.data["clients"].items():
        assert d["after"] == lab.topo.home_pops(c)[0], (c, d)
    assert lab.procs.find("pop-ap", "anydnsd") is not None


def test_propagation(lab):
    res = propagation.run(lab, changes=5, restart=True)
    print(res.text())
    d = res.data
    assert len(d["changes"]) == 5
    for c in d["changes"]:
        assert all(v is not None for v in c["ms"].values()), c
    last = d["restart"]["change"]
    for p in lab.topo.pops:
        assert d["txt"][p] == '"change %d serial %d"' % tuple(last)
        assert d["zones"][p]["role"] == "secondary"
        assert d["zones"][p]["serial"] == str(last[1])
    r = d["restart"]
    assert r["first_serial"] in (r["old_serial"], r["serial"])
    assert r["caught_up_ms"] is not None and r["announced_s"] is not None
    assert "stored copy" in r["stored_log"]
    assert res.ok


def test_down_leaves_nothing(lab):
    pids = [(r["pid"], r["start"]) for r in lab.state["procs"]]
    assert len(pids) == 7            # 3 BIRD, 3 anydnsd PoPs, the primary
    lab.down(quiet=True)
    assert [n for n in netns_list() if n.startswith(lab.prefix)] == []
    assert not os.path.exists(lab.state_dir)
    for pid, st in pids:
        assert start_time(pid) != st, "process %d still runs" % pid
