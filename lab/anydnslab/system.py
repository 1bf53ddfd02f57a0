"""What the lab asks of the operating system, in one file: running
commands (in a namespace or not), starting long-lived processes in a
namespace and recording them, and stopping exactly those processes again.

A process is recorded with its PID and its start time (field 22 of
/proc/PID/stat, proc(5)), and is only ever signalled while both still
match, so a PID the kernel gave to somebody else since is left alone.
"""

import os
import signal
import subprocess
import time


class CommandError(Exception):
    """A command the lab needed failed; the message has its output."""


def run(argv, check=True, timeout=30, quiet=False):
    """Runs argv; returns its combined output. Raises CommandError when it
    fails and check is set."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        raise CommandError("%s: no result within %ds" % (" ".join(argv), timeout))
    except FileNotFoundError:
        raise CommandError("%s: command not found" % argv[0])
    if check and p.returncode != 0:
        raise CommandError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                p.stdout.strip()))
    return p.stdout if not quiet else p.returncode


def ns_argv(ns, argv):
    """argv run inside network namespace ns (`ip netns exec` execs it, so the
    PID is the command's own)."""
    return ["ip", "netns", "exec", ns] + list(argv)


def start_time(pid):
    """The process's start time in clock ticks since boot, or None when it
    is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


class Processes:
    """The long-lived processes of one lab: started here, recorded in the
    lab's state, stopped by PID."""

    def __init__(self, records):
        self.records = records          # list of dicts, saved in the state file
        self.children = {}              # pid -> Popen, while we are the parent

    def start(self, host, what, ns, argv, log_path):
        """Starts argv in namespace ns, in a session of its own (so Ctrl-C at
        the terminal reaches the lab, which then stops it, and not the
        process directly); output appended to log_path."""
        log = open(log_path, "ab")
        try:
            p = subprocess.Popen(ns_argv(ns, argv), stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
        finally:
            log.close()
        self.children[p.pid] = p
        rec = {"host": host, "what": what, "pid": p.pid, "start": None,
               "argv": argv}
        # The start time is read once the exec happened; it is only used to
        # recognise the process later.
        for _ in range(50):
            rec["start"] = start_time(p.pid)
            if rec["start"] is not None:
                break
            time.sleep(0.01)
        self.records.append(rec)
        return rec

    def alive(self, rec):
        p = self.children.get(rec["pid"])
        if p is not None and p.poll() is not None:
            return False
        st = start_time(rec["pid"])
        return st is not None and st == rec["start"]

    def find(self, host, what):
        for rec in self.records:
            if rec["host"] == host and rec["what"] == what and self.alive(rec):
                return rec
        return None

    def send(self, rec, sig):
        if self.alive(rec):
            try:
                os.kill(rec["pid"], sig)
            except ProcessLookupError:
                pass

    def stop(self, recs, sig=signal.SIGTERM, wait=3.0):
        """Sends sig to every record's process, waits up to `wait` seconds,
        then SIGKILLs what is left. Forgets the records."""
        recs = list(recs)
        for rec in recs:
            self.send(rec, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(self.alive(r) for r in recs):
            time.sleep(0.02)
        for rec in recs:
            if self.alive(rec):
                self.send(rec, signal.SIGKILL)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(self.alive(r) for r in recs):
            time.sleep(0.02)
        for rec in recs:
            p = self.children.pop(rec["pid"], None)
            if p is not None:
                try:
                    p.wait(0.5)
                except subprocess.TimeoutExpired:
                    pass
            if rec in self.records:
                self.records.remove(rec)


def netns_list():
    out = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_pids(ns):
    """PIDs of the processes inside namespace ns."""
    out = run(["ip", "netns", "pids", ns], check=False)
    return [int(w) for w in out.split() if w.isdigit()]
