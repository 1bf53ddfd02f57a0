"""The anydns lab (docs/lab.md): a multi-PoP anycast network built on one
machine from network namespaces, BIRD 2 transit routers, anydnsd PoPs and
clients, driven by lab/anydns-lab and the scenarios in lab/scenarios/."""
