#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare what `strace -f -y` saw with what a glasshouse receipt says, for the same workload.

usage: oracle.py STRACE_LOG RECEIPT START_DIR
Sets compared: executed programs (the paths execve named, the receipt's `script` or `exe` for
each of a process's `execs`), each process's exec chain in order, files opened (and those
opened for writing), deleted, renamed, and connect destinations (ephemeral ports masked).
The cwd follows chdir, fchdir and renames of a directory on its path (by any process traced).
And each #! script's `exe` must be its interpreter, resolved (read from the script's first
line). Exit 0 when all agree; otherwise each difference is printed.
"""
import json
import os
import re
import sys

LINE = re.compile(r"^(\d+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)(?:\s+(\w+))?")
STR = re.compile(r'"((?:[^"\\]|\\.)*)"')
FD = re.compile(r"^(-?\d+|AT_FDCWD)(?:<([^>]*)>)?")


def unescape(s):
    # strace prints non-printable bytes as \xNN and escapes quotes and backslashes
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1").decode(
        "utf-8", "surrogateescape")


def norm(path):
    return os.path.normpath(path).replace("//", "/")


def join(base, name):
    return norm(name if name.startswith("/") else os.path.join(base, name))


def merged(lines):
    """Join '<unfinished ...>' halves with their '<... resumed>' rest, per pid."""
    pending = {}
    for raw in lines:
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        pid, rest = int(m.group(1)), m.group(2)
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest[: -len("<unfinished ...>")].rstrip()
            continue
        r = re.match(r"^<\.\.\. \w+ resumed>\s?(.*)$", rest)
        if r:
            rest = pending.pop(pid, "") + r.group(1)
        yield pid, rest


def split_args(s):
    out, depth, cur, q = [], 0, "", False
    i = 0
    while i < len(s):
        c = s[i]
        if q:
            cur += c
            if c == "\\":
                cur += s[i + 1]
                i += 1
            elif c == '"':
                q = False
        elif c == '"':
            q = True
            cur += c
        elif c in "[{(":
            depth += 1
            cur += c
        elif c in "]})":
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out


def first_str(arg):
    m = STR.search(arg)
    return unescape(m.group(1)) if m else None


def base_of(fdarg, cwd):
    m = FD.match(fdarg)
    if not m or m.group(1) == "AT_FDCWD":
        return cwd
    return m.group(2) or cwd


def mask_port(dst):
    m = re.match(r"^(.*):(\d+)$", dst)
    if m and int(m.group(2)) >= 32768:
        return m.group(1) + ":P"
    return dst


def sockaddr(arg):
    if "AF_INET6" in arg:
        port = re.search(r"sin6_port=htons\((\d+)\)", arg).group(1)
        host = re.search(r'inet_pton\(AF_INET6, "([^"]+)"', arg).group(1)
        return mask_port("[%s]:%s" % (host, port))
    if "AF_INET" in arg:
        port = re.search(r"sin_port=htons\((\d+)\)", arg).group(1)
        host = re.search(r'inet_addr\("([^"]+)"\)', arg).group(1)
        return mask_port("%s:%s" % (host, port))
    if "AF_UNIX" in arg:
        return first_str(arg)
    return None


def parents(path):
    """child pid -> the pid that cloned it: strace -f may print a child's first calls before its
    parent's clone returns, so a child's cwd cannot be taken from the clone line's place alone."""
    parent = {}
    with open(path, encoding="latin-1") as f:
        for pid, rest in merged(f):
            m = CALL.match(rest)
            if m and m.group(1) in ("clone", "clone3", "fork", "vfork") and m.group(3).isdigit():
                parent[int(m.group(3))] = pid
    return parent


def moved(cwd, old, new):
    """A directory renamed from old to new: every cwd at or under it moves with it."""
    for pid, c in cwd.items():
        if c == old or c.startswith(old + "/"):
            cwd[pid] = new + c[len(old):]


def from_strace(path, start):
    cwd, parent, chains = {}, parents(path), {}
    execs, opened, written, deleted, renamed, dsts = set(), set(), set(), set(), set(), set()
    with open(path, encoding="latin-1") as f:
        for pid, rest in merged(f):
            m = CALL.match(rest)
            if not m:
                continue
            name, args, ret = m.group(1), split_args(m.group(2)), m.group(3)
            ok = ret != "?" and ret != "-1"
            if pid not in cwd:  # a child seen before its parent's clone returned
                cwd[pid] = cwd.get(parent.get(pid), start)
            here = cwd[pid]
            if name in ("clone", "clone3", "fork", "vfork") and ok:
                cwd.setdefault(int(ret), here)  # unless its own lines came first
            elif name == "chdir" and ok:
                cwd[pid] = join(here, first_str(args[0]))
            elif name == "fchdir" and ok:
                cwd[pid] = base_of(args[0], here)
            elif name in ("execve", "execveat") and ret == "0":
                if name == "execve":
                    e = join(here, first_str(args[0]))
                else:
                    e = join(base_of(args[0], here), first_str(args[1]))
                execs.add(e)
                chains.setdefault(pid, []).append(e)
            elif name in ("open", "openat", "openat2", "creat") and ok:
                if name in ("open", "creat"):
                    p, flags = join(here, first_str(args[0])), (args[1] if name == "open" else "O_CREAT|O_WRONLY")
                else:
                    p, flags = join(base_of(args[0], here), first_str(args[1])), args[2]
                if "O_PATH" in flags:
                    continue
                opened.add(p)
                if re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND", flags):
                    written.add(p)
            elif name == "truncate" and ok:  # written by name; in the receipt's writes
                p = join(here, first_str(args[0]))
                opened.add(p)
                written.add(p)
            elif name in ("unlink", "rmdir") and ok:
                deleted.add(join(here, first_str(args[0])))
            elif name == "unlinkat" and ok:
                deleted.add(join(base_of(args[0], here), first_str(args[1])))
            elif name == "rename" and ok:
                rn = (join(here, first_str(args[0])), join(here, first_str(args[1])))
                renamed.add(rn)
                moved(cwd, *rn)
            elif name in ("renameat", "renameat2") and ok:
                rn = (join(base_of(args[0], here), first_str(args[1])),
                      join(base_of(args[2], here), first_str(args[3])))
                renamed.add(rn)
                moved(cwd, *rn)
            elif name == "connect":
                d = sockaddr(args[1])
                if d:
                    dsts.add(d)
    return dict(execs=execs, chains=sorted(map(tuple, chains.values())), opened=opened,
                written=written, deleted=deleted, renamed=renamed, connects=dsts)


def interpreter(script):
    """The program a #! script names, resolved as /proc/PID/exe shows it (None: no #! line)."""
    try:
        with open(script, "rb") as f:
            line = f.readline()
    except OSError:
        return None
    if not line.startswith(b"#!"):
        return None
    return os.path.realpath(line[2:].split()[0].decode())


def from_receipt(path):
    r = json.load(open(path))
    fs, net = r["filesystem"], r["network"]
    # every program each process executed, by the path it was executed under (a script's
    # path, not its interpreter's); a fork-only child has none
    chains = [tuple(x["script"] or x["exe"] for x in p["execs"]) for p in r["process_tree"]]
    execs = {e for c in chains for e in c}
    wrong = {(x["script"], x["exe"]) for p in r["process_tree"] for x in p["execs"]
             if x["script"] and interpreter(x["script"]) not in (None, x["exe"])}
    opened = set(fs["reads"]) | set(fs["writes"]) | set(fs["directories"])
    dsts = {mask_port(a["dst"]) for a in net["attempts"] if a["op"] == "connect"}
    return dict(execs=execs, chains=sorted(c for c in chains if c), opened=opened,
                written=set(fs["writes"]), deleted=set(fs["deletes"]),
                renamed={(x["from"], x["to"]) for x in fs["renames"]}, connects=dsts,
                interpreters_wrong=wrong)


def main():
    st = from_strace(sys.argv[1], sys.argv[3])
    gh = from_receipt(sys.argv[2])
    bad = 0
    for k in ("execs", "chains", "opened", "written", "deleted", "renamed", "connects"):
        a, b = st[k], gh[k]
        if a != b:
            bad = 1
            print("%s differ:" % k)
            if k == "chains":  # lists of exec chains, one per process that executed
                a, b = set(a), set(b)
            for x in sorted(map(str, a - b)):
                print("  only strace:     %s" % x)
            for x in sorted(map(str, b - a)):
                print("  only glasshouse: %s" % x)
    for script, exe in sorted(gh["interpreters_wrong"]):
        bad = 1
        print("#! script %s: exe %s is not its interpreter %s" % (script, exe, interpreter(script)))
    if not bad:
        print(", ".join("%d %s" % (len(st[k]), k) for k in st))
    return bad


if __name__ == "__main__":
    sys.exit(main())
