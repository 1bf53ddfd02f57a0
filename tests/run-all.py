#!/usr/bin/python3
"""Runs every test suite of anydns and prints one closing line.

Suites: the cmocka unit tests (release and ASan+UBSan builds), the replay
of every fuzz corpus (ASan+UBSan), cppcheck, the conformance comparison
with Knot DNS, and the system tests. Each suite reports its own counts;
this script adds them up and ends with `N passed, N failed`. Exit status
is 1 when anything failed. `--only NAME` runs the suites whose name
contains NAME.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, timeout, env=None):
    """Runs cmd from the repo root; returns (exit code, combined output)."""
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           env=env, text=True, errors="replace")
        out, code = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\n*** timed out after %ds\n" % timeout
        code = -1
    return code, out, time.monotonic() - start


def counts_cmocka(code, out):
    passed = sum(int(m) for m in re.findall(r"^\[  PASSED  \] (\d+) test", out, re.M))
    failed = sum(int(m) for m in re.findall(r"^\[  FAILED  \] (\d+) test", out, re.M))
    if code != 0 and failed == 0:
        failed = 1  # crashed before cmocka could report
    return passed, failed


def counts_plain(code, out):
    """The last `N passed, N failed` line of a suite's output."""
    m = re.findall(r"^(?:\w+: )?(\d+) passed, (\d+) failed", out, re.M)
    if not m:
        return 0, 1
    passed, failed = map(int, m[-1])
    if code != 0 and failed == 0:
        failed = 1
    return passed, failed


def counts_pytest(code, out):
    """pytest's closing line, e.g. `1 failed, 4 passed, 1 skipped in 3.2s`.
    A skipped test counts as failed: in `make test` everything must run."""
    m = re.findall(r"^=*\s*(.*\d+ (?:passed|failed|skipped|error).*) in [\d.]+s", out, re.M)
    if not m:
        return 0, 1
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", m[-1]))
    passed = counts.get("passed", 0)
    failed = counts.get("failed", 0) + counts.get("skipped", 0) + counts.get("error", 0) + counts.get("errors", 0)
    if code != 0 and failed == 0:
        failed = 1
    return passed, failed


def counts_single(code, out):
    return (1, 0) if code == 0 else (0, 1)


def suites(args):
    for variant in ("release", "asan"):
        for exe in sorted(glob.glob(os.path.join(ROOT, "build", variant, "tests", "unit", "test_*"))):
            if exe.endswith((".o", ".d")):
                continue
            name = "unit/%s/%s" % (variant, os.path.basename(exe))
            yield name, [exe], 300, counts_cmocka, None
    for exe in sorted(glob.glob(os.path.join(ROOT, "build", "asan", "fuzz-replay", "fuzz_*"))):
        target = os.path.basename(exe)[len("fuzz_"):]
        corpus = os.path.join("tests", "fuzz", "corpus", target)
        yield "fuzz-replay/" + target, [exe, corpus], 600, counts_single, None
    yield "cppcheck", ["make", "-s", "lint"], 600, counts_single, None
    serve = os.path.join(ROOT, "build", "release", "bin", "anydns-engine-serve")
    yield "conformance", [sys.executable, "tests/conformance/run.py", "--anydns", serve], 900, counts_plain, None
    for variant in ("release", "asan"):
        env = dict(os.environ, ANYDNS_BIN_DIR=os.path.join("build", variant, "bin"))
        yield ("system/" + variant, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                     "tests/system"], 900, counts_pytest, env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run only suites whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every suite's output")
    args = ap.parse_args()
    total_p = total_f = 0
    failures = []
    for name, cmd, timeout, parse, env in suites(args):
        if args.only and args.only not in name:
            continue
        code, out, secs = run(cmd, timeout, env)
        p, f = parse(code, out)
        total_p += p
        total_f += f
        status = "ok" if f == 0 else "FAIL"
        print("%-44s %4s  %4d passed %3d failed  %6.1fs" % (name, status, p, f, secs), flush=True)
        if f:
            failures.append(name)
        if f or args.verbose:
            sys.stdout.write(out if len(out) < 20000 else out[-20000:])
            sys.stdout.write("\n")
    if failures:
        print("failed suites: " + ", ".join(failures))
    print("%d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
