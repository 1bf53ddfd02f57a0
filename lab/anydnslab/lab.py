"""One running lab: its namespaces, links, BIRD routers, anydnsd PoPs and
clients, what was done to them (failures, drains), and the state file
that lets a later command, or a later run after an interruption, find all
of it again.

With a [primary] in the topology, a hidden primary runs anydnsd too, and
the PoPs pull the zones from it over management links (docs/lab.md).

Everything the lab creates is named from its topology's name: namespaces
`adl-NAME-HOST`, state in /run/anydns-lab/NAME/ (the same tmpfs as the
namespaces' own /run/netns, so both disappear together at a reboot), logs
and timelines in lab/out/NAME/. Nothing is done outside those namespaces:
no route, sysctl or firewall rule of the machine itself is touched.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time

from . import bird, popconf
from .system import (CommandError, Processes, netns_list, netns_pids, ns_argv,
                     run, start_time)

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(LAB_DIR)
STATE_ROOT = "/run/anydns-lab"
FAIL_KINDS = ("service", "link", "host")
# The policy rule priority of the blackhole rules `fail POP service` adds,
# and where the `local` table's rule moves to make room before them.
FAIL_RULE_PREF = 10
LOCAL_RULE_PREF = 100
# Where the PoP's own queries to its service go while it hangs. Host names
# cannot contain '_', so the name is never a link's.
HANG_DEV = "svc_hang"
HANG_TABLE = "53"


class LabError(Exception):
    """The lab cannot do what was asked; the message says why."""


class Lab:
    def __init__(self, topo, bin_dir=None, state_root=STATE_ROOT, out_dir=None,
                 say=print):
        self.topo = topo
        self.prefix = "adl-%s-" % topo.name
        self.state_dir = os.path.join(state_root, topo.name)
        self.state_path = os.path.join(self.state_dir, "state.json")
        self.out_dir = out_dir or os.path.join(LAB_DIR, "out", topo.name)
        self.log_dir = os.path.join(self.out_dir, "logs")
        bin_dir = bin_dir or os.environ.get("ANYDNS_BIN_DIR") or "build/release/bin"
        self.bin_dir = os.path.join(REPO, bin_dir)
        self.say = say
        self.state = self._load_state()
        self.procs = Processes(self.state["procs"])

    # --- state ---------------------------------------------------------

    def _fresh_state(self):
        return {"name": self.topo.name, "topology": self.topo.path,
                "bin_dir": self.bin_dir, "namespaces": [], "procs": [],
                "failed": {}, "drained": [], "up": False}

    def _load_state(self):
        try:
            with open(self.state_path) as f:
                st = json.load(f)
        except (OSError, ValueError):
            return self._fresh_state()
        return st

    def save(self):
        os.makedirs(self.state_dir, mode=0o755, exist_ok=True)
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=1)
        os.replace(tmp, self.state_path)

    @property
    def is_up(self):
        return self.state.get("up", False)

    def require_up(self):
        if not self.is_up:
            raise LabError("lab %s is not up: run `anydns-lab -t %s up` first"
                           % (self.topo.name, os.path.relpath(self.topo.path)))

    # --- names -----------------------------------------------------------

    def ns(self, host):
        return self.prefix + host

    def host_dir(self, host):
        return os.path.join(self.state_dir, host)

    def bird_sock(self, router):
        return os.path.join(self.host_dir(router), "bird.ctl")

    def ctl_sock(self, pop):
        return os.path.join(self.host_dir(pop), "anydnsd.sock")

    def binary(self, name):
        return os.path.join(self.bin_dir, name)

    def in_ns(self, host, argv, check=True, timeout=30):
        return run(ns_argv(self.ns(host), argv), check=check, timeout=timeout)

    def ip(self, host, *args, check=True):
        return run(["ip", "-n", self.ns(host)] + list(args), check=check)

    # --- up and down -------------------------------------------------------

    def _check_tools(self):
        missing = [b for b in ("anydnsd", "anydnsc") if not os.access(self.binary(b), os.X_OK)]
        if missing:
            raise LabError("%s missing in %s: build it first (make release)"
                           % (" and ".join(missing), self.bin_dir))
        for tool in ("ip", "bird", "birdc", "kdig", "sysctl"):
            if shutil.which(tool) is None:
                raise LabError("%s is not installed (scripts/install-deps installs it)" % tool)
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces)")

    def up(self, timeout=60):
        """Builds the whole topology and waits until BGP has converged."""
        self._check_tools()
        self.down(quiet=True)
        t0 = time.monotonic()
        os.makedirs(self.state_dir, mode=0o755, exist_ok=True)
        shutil.rmtree(self.log_dir, ignore_errors=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self.state = self._fresh_state()
        self.procs = Processes(self.state["procs"])
        self.save()
        topo = self.topo
        for host in topo.hosts():
            ns = self.ns(host)
            run(["ip", "netns", "add", ns])
            self.state["namespaces"].append(ns)
            self.save()
            os.makedirs(self.host_dir(host), exist_ok=True)
            # Inside the namespace only: addresses are ours, so no duplicate
            # address detection; routers forward.
            # IPv6 addresses stay on a link that goes down (as IPv4 ones do).
            sysctls = ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                       "net.ipv6.conf.all.keep_addr_on_down=1",
                       "net.ipv6.conf.default.keep_addr_on_down=1"]
            if topo.kind(host) == "router":
                sysctls += ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]
            self.in_ns(host, ["sysctl", "-q", "-w"] + sysctls)
            self.ip(host, "link", "set", "dev", "lo", "up")
        for link in topo.links:
            run(["ip", "link", "add", "name", link.b, "netns", self.ns(link.a), "type", "veth",
                 "peer", "name", link.a, "netns", self.ns(link.b)])
            for host, dev, a4, a6 in ((link.a, link.b, link.a4, link.a6),
                                      (link.b, link.a, link.b4, link.b6)):
                self.ip(host, "addr", "add", "%s/%d" % (a4, link.len4), "dev", dev)
                self.ip(host, "-6", "addr", "add", "%s/%d" % (a6, link.len6), "dev", dev, "nodad")
                self.ip(host, "link", "set", "dev", dev, "up")
        for host in list(topo.pops) + list(topo.clients):
            self._default_routes(host)
        self.say("lab %s: %d namespaces, %d links" % (topo.name, len(topo.hosts()), len(topo.links)))
        for r in topo.routers:
            self._start_bird(r)
        # The primary first, so that every PoP's first pull finds it.
        if topo.primary:
            self._start_primary()
        for p in topo.pops:
            self._start_pop(p)
        self.state["up"] = True
        self.state["since"] = time.time()
        self.save()
        self.wait_converged(timeout)
        self.say("lab %s is up (%.1fs): %s" % (topo.name, time.monotonic() - t0,
                                               ", ".join(topo.hosts())))

    def _default_routes(self, host):
        """A PoP's or client's default routes, through its (first) router.
        Also after its link was down: the kernel drops routes through a
        link that goes down."""
        t = self.topo
        link = t.pops[host].links[0] if host in t.pops else t.clients[host].link
        _, _, r4, r6, _ = link.end(host)
        self.ip(host, "route", "replace", "default", "via", r4)
        self.ip(host, "-6", "route", "replace", "default", "via", r6)

    def _start_bird(self, router):
        d = self.host_dir(router)
        conf = os.path.join(d, "bird.conf")
        with open(conf, "w") as f:
            f.write(bird.config(self.topo, router, os.path.join(self.log_dir, router + ".log")))
        sock = self.bird_sock(router)
        rec = self.procs.start(router, "bird", self.ns(router),
                               ["bird", "-f", "-c", conf, "-s", sock, "-P",
                                os.path.join(d, "bird.pid")],
                               os.path.join(self.log_dir, router + ".out"))
        self.save()
        self._wait_file(sock, rec, "BIRD of %s" % router)

    def _start_pop(self, pop):
        try:
            conf = popconf.write(self.topo, pop, self.host_dir(pop))
        except (KeyError, ValueError) as e:
            raise LabError(str(e))
        self._start_anydnsd(pop, conf)

    def _start_primary(self):
        name = self.topo.primary.name
        try:
            conf = popconf.write_primary(self.topo, self.host_dir(name))
        except (KeyError, ValueError, OSError) as e:
            raise LabError(str(e))
        self._start_anydnsd(name, conf)

    def _start_anydnsd(self, host, conf):
        check = subprocess.run([self.binary("anydnsd"), "-n", "-c", conf],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check.returncode != 0:
            raise LabError("%s's configuration %s is not valid:\n%s"
                           % (host, conf, check.stdout.strip()))
        sock = self.ctl_sock(host)
        if os.path.exists(sock):
            os.unlink(sock)
        rec = self.procs.start(host, "anydnsd", self.ns(host),
                               [self.binary("anydnsd"), "-c", conf],
                               os.path.join(self.log_dir, host + ".log"))
        self.save()
        self._wait_file(sock, rec, "anydnsd of %s" % host)

    def _wait_file(self, path, rec, what, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                return
            if not self.procs.alive(rec):
                raise LabError("%s exited at start; its log is in %s" % (what, self.log_dir))
            time.sleep(0.02)
        raise LabError("%s did not create %s within %ds" % (what, path, timeout))

    def down(self, quiet=False):
        """Stops every process of the lab and deletes its namespaces and its
        state; also what an interrupted run left behind."""
        ours = [n for n in netns_list() if n.startswith(self.prefix)]
        recs = [r for r in self.state.get("procs", []) if self.procs.alive(r)]
        known = {r["pid"] for r in recs}
        # Processes still inside our namespaces were started by this lab
        # (by a run whose state was lost, for instance): they go too.
        for ns in ours:
            for pid in netns_pids(ns):
                if pid not in known and pid != os.getpid():
                    st = start_time(pid)
                    if st is not None:
                        recs.append({"host": ns, "what": "?", "pid": pid, "start": st})
                        known.add(pid)
        self.procs.stop(recs, signal.SIGTERM, wait=1.5)
        for ns in ours:
            run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.state = self._fresh_state()
        self.procs = Processes(self.state["procs"])
        left = [n for n in netns_list() if n.startswith(self.prefix)]
        if left:
            raise LabError("could not delete namespaces: %s" % " ".join(left))
        if not quiet:
            self.say("lab %s is down: %d processes stopped, %d namespaces deleted"
                     % (self.topo.name, len(recs), len(ours)))

    # --- routing state -----------------------------------------------------

    def reach(self, router, prefix, depth=0):
        """Where packets to prefix entering at router end up: (PoP name or
        None, first best route)."""
        route = bird.best_route(self.bird_sock(router), prefix)
        if route is None or route["iface"] is None:
            return None, route
        nxt = route["iface"]          # interfaces are named after the host behind
        if nxt in self.topo.pops:
            return nxt, route
        if nxt in self.topo.routers and depth < 2 * len(self.topo.routers):
            return self.reach(nxt, prefix, depth + 1)[0], route
        return None, route

    def routes(self):
        """{(router, prefix): PoP or None} for every router and service
        network."""
        out = {}
        for r in self.topo.routers:
            for fam in (4, 6):
                for p in self.topo.service_networks(fam):
                    out[(r, p)] = self.reach(r, p)[0]
        return out

    def sessions(self):
        """{(router, protocol): state} of every BGP session."""
        out = {}
        for r in self.topo.routers:
            for name, (state, info) in bird.protocols(self.bird_sock(r)).items():
                out[(r, name)] = info.split()[0] if info else state
        return out

    def wait_converged(self, timeout=60):
        """Waits until every BGP session of a PoP that is not failed is
        Established, every such PoP that is not drained announces all its
        networks, every router reaches a PoP for every service prefix, and
        that picture held still for a moment."""
        deadline = time.monotonic() + timeout
        failed = set(self.state["failed"])
        serving = [p for p in self.topo.pops if p not in failed and p not in self.state["drained"]]
        last, stable_since = None, None
        while True:
            sess = self.sessions()
            down = [k for k, v in sess.items() if v != "Established"
                    and not any(k[1].startswith(p.replace("-", "_")) for p in failed)]
            for p in serving:
                nets = self.networks(p)
                if not nets:
                    down.append((p, "anydnsd does not answer"))
                for n, v in nets.items():
                    if v["state"] != "announced":
                        down.append((p, "network %s %s: %s" % (n, v["state"], v["why"])))
            routes = self.routes()
            complete = not down and all(v is not None for v in routes.values())
            now = time.monotonic()
            if complete and routes == last:
                if now - stable_since >= 0.6:
                    return routes
            else:
                stable_since = now
            last = routes if complete else None
            if now > deadline:
                raise LabError("the lab did not converge within %ds: %s; routes: %s; logs in %s"
                               % (timeout, "; ".join("%s %s" % k for k in down) or "all up",
                                  ", ".join("%s %s -> %s" % (k[0], k[1], v)
                                            for k, v in routes.items()), self.log_dir))
            time.sleep(0.2)

    # --- PoPs ----------------------------------------------------------------

    def anydnsc(self, host, *args, check=True):
        """anydnsc at a PoP's (or the primary's) anydnsd."""
        return run([self.binary("anydnsc"), "-s", self.ctl_sock(host), "-t", "10"] + list(args),
                   check=check)

    def zones(self, host):
        """{zone: {field: value}} from `anydnsc zones` at a PoP or the
        primary (serial, state, role, primary-serial, lag, transfers,
        result, ...); {} when the daemon does not answer."""
        out = {}
        try:
            text = self.anydnsc(host, "zones")
        except CommandError:
            return out
        for line in text.splitlines():
            words = line.split(None, 1)
            if len(words) < 2 or "=" not in words[1]:
                continue
            # A value runs to the next " key=": `result=` holds spaces.
            keys = list(re.finditer(r"(?:^|\s)([a-z][a-z-]*)=", words[1]))
            fields = {}
            for i, m in enumerate(keys):
                end = keys[i + 1].start() if i + 1 < len(keys) else len(words[1])
                fields[m.group(1)] = words[1][m.end():end].strip()
            out[words[0]] = fields
        return out

    def primary_zone_file(self, apex=None):
        """The hidden primary's copy of a zone's file (the first zone's by
        default): rewrite it and `anydnsc reload` at the primary to change
        the zone."""
        if not self.topo.primary:
            raise LabError("topology %s has no [primary]" % self.topo.name)
        apex = (apex or self.topo.zones[0][0]).rstrip(".")
        return popconf.zone_copy(self.host_dir(self.topo.primary.name), apex)

    def stop_anydnsd(self, host, sig=signal.SIGTERM, wait=15):
        """Stops a PoP's (or the primary's) anydnsd by its PID: SIGTERM
        lets a PoP drain and withdraw first (bgp.drain-on-stop), so the
        wait must cover that. What is still running after `wait` seconds
        gets SIGKILL. Returns when it is gone: True if it exited by itself."""
        self.require_up()
        rec = self.procs.find(host, "anydnsd")
        if rec is None:
            raise LabError("anydnsd of %s is not running" % host)
        self.procs.send(rec, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and self.procs.alive(rec):
            time.sleep(0.02)
        exited = not self.procs.alive(rec)
        self.procs.stop([rec], signal.SIGKILL, wait=2)
        self.save()
        return exited

    def start_anydnsd(self, host):
        """Starts a PoP's (or the primary's) anydnsd again with the
        configuration the lab writes; returns the CLOCK_MONOTONIC time
        just before it was started."""
        self.require_up()
        if self.procs.find(host, "anydnsd") is not None:
            raise LabError("anydnsd of %s is running already" % host)
        t = time.monotonic()
        if self.topo.primary and host == self.topo.primary.name:
            self._start_primary()
        else:
            self._pop(host)
            self._start_pop(host)
        return t

    def networks(self, pop):
        """{network: {state, healthy, why}} from `anydnsc networks`; {} when
        the daemon does not answer."""
        out = {}
        try:
            text = self.anydnsc(pop, "networks")
        except CommandError:
            return out
        for line in text.splitlines():
            if line.startswith("network "):
                name = line.split()[1].rstrip(":")
                fields = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
                why = line.split('why="', 1)[1].rstrip('"') if 'why="' in line else ""
                out[name] = {"state": fields.get("state", "?"),
                             "healthy": fields.get("healthy", "?"), "why": why}
        return out

    def bgp_peers(self, pop):
        """{peer: state} from `anydnsc bgp`."""
        out = {}
        try:
            text = self.anydnsc(pop, "bgp")
        except CommandError:
            return out
        for line in text.splitlines():
            if line.startswith("peer "):
                name = line.split()[1].rstrip(":")
                fields = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
                out[name] = fields.get("state", "?")
        return out

    def _pop(self, pop):
        if pop not in self.topo.pops:
            raise LabError("%s is not a PoP of %s (PoPs: %s)"
                           % (pop, self.topo.name, ", ".join(self.topo.pops)))

    def fail(self, pop, kind):
        """Breaks a PoP: `service` makes its DNS service hang (every query to
        the service addresses is dropped at the PoP; the daemon and its BGP
        sessions keep running: only the health check can notice), `link`
        takes its uplinks down, `host` takes them down and kills its
        processes, as a host that lost power. Returns the CLOCK_MONOTONIC
        time the failure took effect (what is only preparation is done
        before it)."""
        self.require_up()
        self._pop(pop)
        if kind not in FAIL_KINDS:
            raise LabError("fail %s: say service, link or host" % pop)
        done = self.state["failed"].setdefault(pop, [])
        if kind in done:
            return time.monotonic()
        if kind == "service":
            self._hang_dev(pop, add=True)
            self._service_rules(pop, add=True)
            t = self._service_block(pop)
        else:
            t = time.monotonic()
            for link in self.topo.pops[pop].links:
                self.ip(pop, "link", "set", "dev", link.end(pop)[4], "down")
            if kind == "host":
                rec = self.procs.find(pop, "anydnsd")
                if rec:
                    self.procs.stop([rec], signal.SIGKILL, wait=2)
        done.append(kind)
        self.save()
        return t

    def _service_rules(self, pop, add):
        """Prepares the PoP's DNS service to hang, or makes it stop hanging.
        Policy routing rules placed before the `local` table (whose rule
        moves from priority 0 to LOCAL_RULE_PREF) do it, for every service
        address, UDP and TCP:

        - a query the PoP sends itself (iif lo: anydnsd's health probe) is
          routed into a veth whose peer is down, where it vanishes, so the
          probe times out as it would against a hung server (a blackhole
          would make its send() fail at once instead);
        - a query from outside is dropped silently (blackhole), once
          _service_block() adds those rules.
        """
        for fam in ("-4", "-6"):
            addrs = self.topo.service_addresses(4 if fam == "-4" else 6)
            if add:
                rules = self.ip(pop, fam, "rule", "show")
                if not any(l.startswith("%d:" % LOCAL_RULE_PREF) for l in rules.splitlines()):
                    self.ip(pop, fam, "rule", "add", "pref", str(LOCAL_RULE_PREF), "lookup", "local")
                    self.ip(pop, fam, "rule", "del", "pref", "0", "lookup", "local", check=False)
                for a in addrs:
                    self.ip(pop, fam, "route", "replace", a, "dev", HANG_DEV, "table", HANG_TABLE)
            else:
                for pref in (FAIL_RULE_PREF - 1, FAIL_RULE_PREF):
                    while self.ip(pop, fam, "rule", "del", "pref", str(pref),
                                  check=False).strip() == "":
                        pass
                self.ip(pop, fam, "route", "flush", "table", HANG_TABLE, check=False)

    def _service_block(self, pop):
        """The moment the service hangs: every blocking rule of a family in
        one `ip -batch`, IPv4 first. Returns when it began."""
        port = str(self.topo.port)
        t = time.monotonic()
        for fam in ("-4", "-6"):
            lines = []
            for a in self.topo.service_addresses(4 if fam == "-4" else 6):
                for proto in ("udp", "tcp"):
                    sel = "to %s ipproto %s dport %s" % (a, proto, port)
                    lines.append("rule add pref %d %s iif lo lookup %s"
                                 % (FAIL_RULE_PREF - 1, sel, HANG_TABLE))
                    lines.append("rule add pref %d %s blackhole" % (FAIL_RULE_PREF, sel))
            p = subprocess.run(["ip", "-n", self.ns(pop), fam, "-batch", "-"],
                               input="\n".join(lines) + "\n", text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                raise CommandError("ip -batch in %s: %s" % (pop, p.stdout.strip()))
        return t

    def _hang_dev(self, pop, add):
        """The dead end of `fail POP service`: a veth pair inside the PoP,
        one end up without ARP, the other down, so what is sent into it is
        dropped without an error."""
        if add:
            self.ip(pop, "link", "add", "name", HANG_DEV, "type", "veth", "peer", "name",
                    HANG_DEV + "_p")
            self.ip(pop, "link", "set", "dev", HANG_DEV, "arp", "off", "up")
        else:
            self.ip(pop, "link", "del", "dev", HANG_DEV, check=False)

    def restore(self, pop):
        """Undoes every failure of the PoP, last first. Returns what was
        undone."""
        self.require_up()
        self._pop(pop)
        done = self.state["failed"].get(pop, [])
        for kind in reversed(done):
            if kind == "service":
                self._service_rules(pop, add=False)
                self._hang_dev(pop, add=False)
            else:
                for link in self.topo.pops[pop].links:
                    self.ip(pop, "link", "set", "dev", link.end(pop)[4], "up")
                self._default_routes(pop)
                if kind == "host" and self.procs.find(pop, "anydnsd") is None:
                    self._start_pop(pop)
        self.state["failed"].pop(pop, None)
        self.save()
        return list(reversed(done))

    def drain(self, pop):
        self.require_up()
        self._pop(pop)
        out = self.anydnsc(pop, "drain")
        if pop not in self.state["drained"]:
            self.state["drained"].append(pop)
        self.save()
        return out

    def undrain(self, pop):
        self.require_up()
        self._pop(pop)
        out = self.anydnsc(pop, "undrain")
        if pop in self.state["drained"]:
            self.state["drained"].remove(pop)
        self.save()
        return out

    # --- hosts ---------------------------------------------------------------

    def exec(self, host, argv):
        """Runs argv in the host's namespace with the terminal; its exit code."""
        self.require_up()
        if host not in self.topo.hosts():
            raise LabError("no host %s (hosts: %s)" % (host, ", ".join(self.topo.hosts())))
        return subprocess.call(ns_argv(self.ns(host), argv))

    def query(self, host, name, qtype="A", server=None):
        """kdig from a host with NSID asked; (kdig's output, PoP or None)."""
        self.require_up()
        server = server or self.topo.service_addresses()[0]
        out = self.in_ns(host, ["kdig", "@" + server, "-p", str(self.topo.port), "+nsid",
                                "+retry=0", "+timeout=2", name, qtype], check=False)
        pop = None
        for line in out.splitlines():
            if "NSID:" in line and '"' in line:
                pop = line.split('"')[1]
        return out, pop
