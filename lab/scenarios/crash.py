#!/usr/bin/python3
"""Crash: a PoP's host vanishes — its uplinks go down and its processes are
killed, as when a server loses power. Its clients must move to the next
PoP.

The router sees its link go down and drops the BGP session at once (BIRD's
`check link`), so no health check is involved: the outage is as long as
BGP takes to move traffic. The PoP stays down afterwards (the recovery
scenario, or `anydns-lab restore POP`, restarts it).

    lab/anydns-lab scenario crash [--pop POP] [--repeat N]
"""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from anydnslab import scenario  # noqa: E402
from scenarios.failover import outage_run  # noqa: E402


def run(lab, pop=None, repeat=1):
    pop = scenario.pick_pop(lab, pop, "crash-pop")
    return outage_run(lab, "crash", pop, "host", repeat, explain=(
        "%s's uplinks go down and anydnsd is killed (SIGKILL), as a host that loses power. "
        "Its router notices the link is gone and drops the BGP session at once; the routes "
        "learned over it go, and %s's clients follow the next best path. Outage: from a "
        "client's first unanswered query to its next answered one." % (pop, pop)))


def main(argv=None, lab=None):
    return scenario.main("crash", __doc__, run, argv, lab, [
        (("--pop",), {"help": "the PoP to crash (default: the topology's crash-pop)"}),
        (("--repeat",), {"type": int, "default": 1,
                         "help": "crash, measure and restore this many times (at most 20)"}),
    ])


if __name__ == "__main__":
    sys.exit(main())
