# SPDX-License-Identifier: MIT
"""Signals at exact moments of a glasshouse run, for tests/faults/signals_test.sh.

usage: sigtime.py SIG MS GH ARGS...   signal SIG (TERM, INT, HUP) from another process, MS ms
                                      after main began
       sigtime.py pty MS GH ARGS...   Ctrl-C typed on a real terminal, MS ms after main began
MS may be @FILE: as soon as FILE exists (10 s at most), not after a time.

"main began" is when glasshouse's main thread shows SIGTERM blocked in /proc/PID/status (its
first act); before that no program could see a signal. Prints the exit status as glasshouse
would report it to a shell (128+N for signal N) and the seconds it took.
"""
import os
import pty
import signal
import sys
import time

SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def main_began(pid, deadline):
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("SigBlk:") and int(line.split()[1], 16) & SIGTERM_BIT:
                        return True
        except (FileNotFoundError, ProcessLookupError):
            return False
        time.sleep(0.0002)
    return False


def status_of(st):
    return 128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)


def exec_with_defaults(argv):
    """A job-control-free parent may have left SIGINT ignored, nohup SIGHUP: start from the
    defaults, as a terminal's shell would."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    os.execv(argv[0], argv)


def main():
    mode, ms, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    t0 = time.monotonic()
    if mode == "pty":
        pid, master = pty.fork()
        if pid == 0:
            exec_with_defaults(argv)
    else:
        master = None
        pid = os.fork()
        if pid == 0:
            exec_with_defaults(argv)
    if not main_began(pid, t0 + 10):
        print("glasshouse never started", file=sys.stderr)
        sys.exit(99)
    if ms.startswith("@"):
        deadline = time.monotonic() + 10
        while not os.path.exists(ms[1:]) and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        time.sleep(float(ms) / 1000)
    if master is not None:
        os.write(master, b"\x03")
        # Drain the terminal so the child never blocks writing to it.
        while True:
            try:
                if not os.read(master, 4096):
                    break
            except OSError:
                break
    else:
        os.kill(pid, getattr(signal, "SIG" + mode))
    # Bounded: a run the signal did not end is killed after 60 s and reported as 137, so a
    # broken case fails its test instead of hanging the suite.
    deadline = time.monotonic() + 60
    while True:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, st = os.waitpid(pid, 0)
            break
        time.sleep(0.01)
    print(status_of(st), f"{time.monotonic() - t0:.1f}")


main()
