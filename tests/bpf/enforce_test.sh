#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Enforcement for real (policy enforce = true / --enforce), as root: a denied exec's program
# never runs, a denied connect sends nothing, a denied read or write (absolute, relative, through
# a dirfd or '..') is never acted on, a fork bomb and a process that blocks every signal it can
# are stopped to the last process, and a write judged in user space stops the tree.
# Needs root and BPF; outside CI it skips when they are missing, in CI (CI=true) it fails.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
T=$(mktemp -d /tmp/gh-enforce-XXXXXX)
chmod 755 "$T"
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"

need_collector

# enf POLICY ARGS...: glasshouse run --policy POLICY ARGS; sets rc, out (stdout), err.
enf() {
	local pol=$1
	shift
	rm -f r.json
	"$GH" run -o r.json --policy "$pol" "$@" >out.txt 2>err.txt </dev/null
	rc=$?
	out=$(cat out.txt)
	err=$(cat err.txt)
	nrec=$((nrec + 1))
	cp r.json "receipt-$nrec.json" 2>/dev/null
}
nrec=0

# --- exec, decided in the kernel
sh=$(command -v sh)     # the program as the receipt names it: the name run, not a link's target
bash=$(command -v bash)
PY=$(python3 -c 'import sys; print(sys.executable)') # not a shim script (pyenv)
cat >deny-id.lua <<'P'
return { exec = { deny = { "/usr/bin/id" } }, enforce = true }
P
enf deny-id.lua -- sh -c 'echo before; id -u; echo after'
expect_eq "exec denied: exit 3; the denied program's output never appears, nor the shell's next command's" \
	"3|before" "$rc|$out"
jq_eq "exec denied: the kernel decided exec, stopped the tree at the exec of /usr/bin/id" r.json \
	'[.outcome.killed_by_policy, .policy.enforced, .policy.enforcement.exec, .policy.enforcement.stopped, .policy.enforcement.trigger.by, .policy.enforcement.trigger.event.kind, .policy.enforcement.trigger.event.path, .policy.enforcement.trigger.violation.rule, .policy.verdict]' \
	'[true,true,"kernel",true,"kernel","exec","/usr/bin/id","exec.deny","fail"]'
jq_eq "exec denied: id and the shell were killed (SIGKILL), nothing is left running" r.json \
	'[.process_tree[] | [.exe, .signal, .state]]' \
	"[[\"$sh\",\"SIGKILL\",\"exited\"],[\"/usr/bin/id\",\"SIGKILL\",\"exited\"]]"
expect_eq "exec denied: stderr names the violation and the stop" \
	"glasshouse: policy deny-id.lua: fail, 1 violation|  exec.deny: exec /usr/bin/id matches deny '/usr/bin/id' (pid N /usr/bin/id)|  stopped the command (by the kernel) at exec.deny: exec /usr/bin/id matches deny '/usr/bin/id' (pid N /usr/bin/id)" \
	"$(sed 's/pid [0-9]*/pid N/g' err.txt | paste -sd'|')"

# fexecve: the program is the file the descriptor names, not /dev/fd/N
enf deny-id.lua -- "$PY" -c 'import os
fd = os.open("/usr/bin/id", os.O_RDONLY)
print("opened", flush=True)
os.execve(fd, ["id"], {})'
expect_eq "exec denied through fexecve: stopped by the kernel, id prints nothing" \
	"3|opened|kernel|/usr/bin/id" \
	"$rc|$out|$(jq -r .policy.enforcement.trigger.by r.json)|$(jq -r .policy.enforcement.trigger.event.path r.json)"

# an allow list: a copy of echo outside it is denied; the shell (dash, under /usr/bin) is not
mkdir -p bin
cp /usr/bin/echo bin/myecho
cat >allow.lua <<'P'
return { exec = { allow = { "/usr/bin/**", "/usr/lib/**" } }, enforce = true }
P
enf allow.lua -- sh -c 'echo one; ./bin/myecho two; echo three'
expect_eq "exec outside an allow list: its output never appears, nor what follows" "3|one" "$rc|$out"
jq_eq "exec outside an allow list: the trigger is the copy, rule exec.allow" r.json \
	'.policy.enforcement.trigger | [.by, .event.path, .violation.rule]' \
	"[\"kernel\",\"$T/bin/myecho\",\"exec.allow\"]"
enf allow.lua -- sh -c 'echo one; /usr/bin/echo two'
expect_eq "exec inside the allow list: runs to the end, exit 0, not stopped" \
	"0|one two|false|false" \
	"$rc|$(echo $out)|$(jq -c .outcome.killed_by_policy r.json)|$(jq -c .policy.enforcement.stopped r.json)"
# a #! script: its process's program is the interpreter that really runs (the kernel's walk)
printf '#!/bin/sh\necho from-script\n' >bin/script
chmod 755 bin/script
printf 'return { exec = { deny = { "%s" } }, enforce = true }\n' "$(readlink -f /bin/sh)" >nodash.lua
enf nodash.lua -- /usr/bin/env ./bin/script
expect_eq "a #! script whose interpreter is denied: stopped by the kernel before the script runs" \
	"3||kernel|$(readlink -f /bin/sh)" \
	"$rc|$out|$(jq -r .policy.enforcement.trigger.by r.json)|$(jq -r .policy.enforcement.trigger.violation.path r.json)"
# a name with "..": the kernel folds it as the receipt does
mkdir -p sub
enf allow.lua -- sh -c 'cd sub && ../bin/myecho two; sleep 30; echo three'
expect_eq "an exec named with '..': decided by the kernel, the program never runs" \
	"3|0|0|kernel|$T/bin/myecho" \
	"$rc|$(grep -c two out.txt)|$(grep -c three out.txt)|$(jq -r .policy.enforcement.trigger.by r.json)|$(jq -r .policy.enforcement.trigger.event.path r.json)"

# --- connect, decided in the kernel: a server outside the tree counts what it receives
cat >server.py <<'P'
import socket, sys
s = socket.socket(socket.AF_INET6 if sys.argv[2] == "6" else socket.AF_INET)
s.bind(("::1" if sys.argv[2] == "6" else "127.0.0.1", 0))
s.listen(5)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
c, _ = s.accept()
got = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
open(sys.argv[1] + ".tmp", "w").write(str(got))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
P
# serve NAME 4|6: a server in the background; its port in $port once it listens.
serve() {
	rm -f "$1" "$1.port"
	"$PY" server.py "$1" "$2" &
	srv_pid=$!
	for _ in $(seq 500); do [ -s "$1.port" ] && break; sleep 0.01; done
	port=$(cat "$1.port")
}
# received NAME: what the server received once its client is gone (5 s at most)
received() {
	for _ in $(seq 500); do [ -s "$1" ] && break; sleep 0.01; done
	cat "$1" 2>/dev/null || echo "nothing (server still waiting)"
	kill "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	srv_pid=
}
cat >deny-lo.lua <<'P'
return { connect = { deny = { "127.0.0.1:*", "[::1]:*" } }, enforce = true }
P
client='import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"x" * 1000)
print("sent", flush=True)'
serve got4 4
enf deny-lo.lua -- "$PY" -c "$client" 127.0.0.1 "$port"
expect_eq "connect to 127.0.0.1 denied: exit 3, the client never says it sent, the server outside the tree receives 0 bytes" \
	"3||0" "$rc|$out|$(received got4)"
jq_eq "connect denied: the kernel decided connect; the trigger is the connect, its bytes 0" r.json \
	"[.policy.enforcement.connect, .policy.enforcement.trigger.by, .policy.enforcement.trigger.event.dst, .policy.enforcement.trigger.violation.rule, [.network.attempts[] | select(.dst | startswith(\"127.\")) | .bytes_sent], .outcome.signal]" \
	"[\"kernel\",\"kernel\",\"127.0.0.1:$port\",\"connect.deny\",[0],\"SIGKILL\"]"
serve got6 6
enf deny-lo.lua -- "$PY" -c "$client" ::1 "$port"
expect_eq "connect to [::1] denied: the same, over IPv6" "3||0|[::1]:$port" \
	"$rc|$out|$(received got6)|$(jq -r .policy.enforcement.trigger.event.dst r.json)"
cat >allow-other.lua <<'P'
return { connect = { allow = { "10.0.0.1:443", "unix:*" } }, enforce = true }
P
serve got4 4
enf allow-other.lua -- "$PY" -c "$client" 127.0.0.1 "$port"
expect_eq "connect outside an allow list: stopped by the kernel, nothing received" "3||0|kernel|connect.allow" \
	"$rc|$out|$(received got4)|$(jq -r .policy.enforcement.connect r.json)|$(jq -r .policy.enforcement.trigger.violation.rule r.json)"
serve got4 4
enf allow-other.lua --enforce -- "$PY" -c "$client" 127.0.0.1 "$port" 2>/dev/null
# (--enforce on a policy that enforces already changes nothing)
expect_eq "--enforce with enforce = true: the same" "3|0" "$rc|$(received got4)"

# netlink is the kernel's own messages (glibc's getaddrinfo sends them), not a destination
cat >lo-only.lua <<'P'
return { connect = { allow = { "127.0.0.1:*", "[::1]:*", "unix:*" } }, enforce = true }
P
enf lo-only.lua -- "$PY" -c 'import socket
socket.getaddrinfo("localhost", 80, flags=socket.AI_ADDRCONFIG)
print("resolved", flush=True)'
expect_eq "getaddrinfo under a loopback-only connect policy (its netlink messages are no destination): not stopped" \
	"0|resolved|false" "$rc|$out|$(jq -r .outcome.killed_by_policy r.json)"

# --- a fork bomb, bounded by its user's process limit, stopped by a denied exec
cat >bomb.lua <<'P'
return { exec = { deny = { "/usr/bin/id" } }, enforce = true }
P
mkfifo fifo
chmod 666 fifo
# shellcheck disable=SC2016
enf bomb.lua --user nobody -- bash -c 'ulimit -u 200; bomb() { bomb & bomb & wait; }
bomb 2>/dev/null & exec 3<>"$1"; read -t 1 -u 3; exec /usr/bin/id' GH_BOMB_MARK "$T/fifo"
expect_eq "fork bomb: stopped at the denied exec, exit 3, id printed nothing" "3|" "$rc|$out"
expect_eq "fork bomb: no process of the tree is left alive when glasshouse exits" "0" \
	"$(pgrep -c -f GH_BOMB_MARK)"
jq_eq "fork bomb: many processes, every one of them exited (none running), all killed" r.json \
	'[(.process_tree | length) > 20, ([.process_tree[] | .state] | unique), ([.process_tree[] | .signal] | unique), .policy.enforcement.trigger.event.path]' \
	'[true,["exited"],["SIGKILL"],"/usr/bin/id"]'

# --- a process that blocks and ignores every signal it can, and one that makes no syscalls
cat >blocker.py <<'P'
import os, signal, sys
for s in range(1, signal.NSIG):
    try:
        signal.signal(s, signal.SIG_IGN)
    except (OSError, ValueError):
        pass
signal.pthread_sigmask(signal.SIG_BLOCK, range(1, signal.NSIG))
print("blocked", flush=True)
os.execv("/usr/bin/id", ["id"])
P
enf deny-id.lua -- bash -c 'while :; do :; done & "$1" blocker.py; echo after' GH_SPIN_MARK "$PY"
expect_eq "signals blocked and ignored: the exec is still stopped (SIGKILL cannot be blocked), exit 3" \
	"3|blocked" "$rc|$out"
expect_eq "the busy loop that makes no syscalls is killed too (by user space): nothing survives" \
	"0" "$(pgrep -c -f GH_SPIN_MARK)"
jq_eq "signals blocked: every process of the tree was killed" r.json \
	'[([.process_tree[] | [.exe, .signal]] | sort), .policy.enforcement.trigger.by]' \
	"[[[\"$bash\",\"SIGKILL\"],[\"$bash\",\"SIGKILL\"],[\"/usr/bin/id\",\"SIGKILL\"]],\"kernel\"]"

# --- read and write rules, decided in the kernel
# fields JQ...: those values of r.json, joined with '|' (TR, EN: the enforcement block's paths)
fields() {
	local IFS=,
	jq -r "[$*] | map(tostring) | join(\"|\")" r.json
}
TR=.policy.enforcement.trigger
EN=.policy.enforcement
mkdir -p data out denied
echo classified >data/secret
printf 'return { read = { deny = { "%s/data/secret" } }, enforce = true }\n' "$T" >noread.lua
enf noread.lua -- sh -c 'cat data/secret; echo after'
expect_eq "read denied (a relative name): exit 3; cat never prints it, the shell's next command never runs" \
	"3|" "$rc|$out"
jq_eq "read denied: the kernel decided read, the trigger is cat's open of the absolute path" r.json \
	"[$EN.read, $TR.by, $TR.event.kind, $TR.event.exe, $TR.event.path, $TR.violation.rule, .outcome.killed_by_policy]" \
	"[\"kernel\",\"kernel\",\"open\",\"/usr/bin/cat\",\"$T/data/secret\",\"read.deny\",true]"
# shellcheck disable=SC2016
enf noread.lua -- "$PY" -c 'import os
fd = os.open("out", os.O_RDONLY)
print("opened", flush=True)
os.open("../data/./secret", os.O_RDONLY, dir_fd=fd)
print("read it", flush=True)'
expect_eq "read denied through a dirfd and '..': the process never runs another instruction" \
	"3|opened|kernel|$T/data/secret" \
	"$rc|$out|$(fields $TR.by $TR.event.path)"
# a name relative to a descriptor on / (its walk is the root, not "no directory": the cwd)
# shellcheck disable=SC2016
enf noread.lua -- "$PY" -c "import os
os.chdir('/usr')
r = os.open('/', os.O_DIRECTORY)
fd = os.open('${T#/}/data/secret', os.O_RDONLY, dir_fd=r)
print('read', os.read(fd, 100), flush=True)"
expect_eq "read denied relative to a descriptor on /: stopped by the kernel, named from the root" \
	"3||kernel|$T/data/secret" "$rc|$out|$(fields $TR.by $TR.event.path)"
# a name opened as a directory, then replaced by a file: the file's open is no repeat
printf 'return { read = { deny = { "%s/flip" } }, enforce = true }\n' "$T" >noflip.lua
enf noflip.lua -- "$PY" -c "import os
os.mkdir('flip'); os.close(os.open('flip', os.O_RDONLY)); os.rmdir('flip')
open('flip.tmp', 'w').write('secret'); os.rename('flip.tmp', 'flip')
fd = os.open('flip', os.O_RDONLY)
print('read', os.read(fd, 100), flush=True)"
expect_eq "a directory's name opened again once it is a file: judged as a read, stopped by the kernel" \
	"3||kernel|$T/flip" "$rc|$out|$(fields $TR.by $TR.event.path)"
# openat2 with RESOLVE_IN_ROOT: the name resolves under the descriptor (user space judges it)
cat >inroot.py <<'P'
import ctypes, os, sys, time
class How(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
libc = ctypes.CDLL(None, use_errno=True)
d = os.open(sys.argv[1], os.O_DIRECTORY)
h = How(os.O_RDONLY, 0, 0x10)
fd = libc.syscall(437, d, sys.argv[2].encode(), ctypes.byref(h), ctypes.sizeof(h))
print("opened" if fd >= 0 else "failed", flush=True)
time.sleep(30)
print("after", flush=True)
P
enf noread.lua -- "$PY" inroot.py "$T/data" /../../secret
expect_eq "openat2 RESOLVE_IN_ROOT of /../../secret under data/: named $T/data/secret, judged in user space, stopped" \
	"3|opened|user|$T/data/secret" "$rc|$out|$(fields $TR.by $TR.event.path)"
# a descriptor that can read, whatever else the open asks (O_CREAT, O_APPEND, O_TRUNC), is a read
for fl in O_CREAT O_APPEND; do
	enf noread.lua -- "$PY" -c "import os
fd = os.open('data/secret', os.O_RDONLY | os.$fl)
print('read', os.read(fd, 100), flush=True)"
	expect_eq "read denied with O_RDONLY|$fl: stopped by the kernel at the open, nothing read" \
		"3||kernel|open" "$rc|$out|$(fields $TR.by $TR.event.kind)"
done
# access mode 3 opens for neither reading nor writing: not a read, not stopped
enf noread.lua -- "$PY" -c "import os
fd = os.open('data/secret', 3)
print('opened', flush=True)"
expect_eq "an open of a denied file with access mode 3 (no read, no write): runs on" \
	"0|opened|false" "$rc|$out|$(fields .outcome.killed_by_policy)"
enf noread.lua -- sh -c 'cat data/secret >/dev/null 2>&1 </dev/null & wait; echo after' 2>/dev/null
expect_eq "read denied in a background child: the whole tree is stopped" "3|" "$rc|$out"
printf 'return { write = { allow = { "./out/**", "/dev/null", "/dev/tty" } }, enforce = true }\n' >onlyout.lua
enf onlyout.lua -- sh -c 'echo a >out/a; echo b >elsewhere.txt; echo c >out/c'
expect_eq "write outside an allow list: stopped at the open (the file it created stays), nothing after it" \
	"3|elsewhere.txt,out/a|kernel|kernel|$T/elsewhere.txt|write.allow" \
	"$rc|$(ls out/a elsewhere.txt out/c 2>/dev/null | paste -sd,)|$(fields $EN.write $TR.by $TR.event.path $TR.violation.rule)"
enf onlyout.lua -- sh -c 'mv out/a denied/a; echo after >out/after'
expect_eq "a rename out of the allowed tree: the rename happened, stopped at it (its new name is the violation)" \
	"3|denied/a|rename|$T/out/a|$T/denied/a" \
	"$rc|$(ls out/a out/after denied/a 2>/dev/null | paste -sd,)|$(fields $TR.event.kind $TR.event.path $TR.violation.path)"
enf onlyout.lua -- sh -c 'ln -s /etc/passwd denied/link; echo after >out/after2'
expect_eq "a symlink made outside the allowed tree: stopped at it" \
	"3||symlink|$T/denied/link" \
	"$rc|$(ls out/after2 2>/dev/null)|$(fields $TR.event.kind $TR.violation.path)"
enf onlyout.lua -- sh -c 'mkdir -p out/d/e && cd out/d/e && echo x >f && ln f g && rm f g && cd ../.. && rmdir d/e d && echo done'
expect_eq "writes inside the allow list (relative names, mkdir, a link from there, unlink, rmdir): run to the end" \
	"0|done|false|kernel" \
	"$rc|$out|$(fields .outcome.killed_by_policy $EN.write)"
enf onlyout.lua -- "$PY" -c 'import os
os.truncate("data/secret", 0)
print("truncated", flush=True)'
expect_eq "truncate(2) of a file outside the allowed tree: stopped at it (the call itself truncated it)" \
	"3||truncate|$T/data/secret|0" \
	"$rc|$out|$(fields $TR.event.kind $TR.violation.path)|$(stat -c %s data/secret)"
echo classified >data/secret
printf 'return { read = { deny = { "%s/data/**" } }, enforce = true }\n' "$T" >nodata.lua
enf nodata.lua -- sh -c 'ls data; test -e data/secret && echo exists'
expect_eq "listing a denied directory and testing a name in it read no file: not stopped" \
	"0|secret exists|false" "$rc|$(echo $out)|$(fields .outcome.killed_by_policy)"
# a name with a space, a newline and a byte that is not UTF-8, denied exactly
mkdir -p odd
printf 'return { write = { deny = { "%s/odd/a b\\n\\255" } }, enforce = true }\n' "$T" >odd.lua
enf odd.lua -- sh -c 'echo x >"odd/a b
$(printf "\377")"; echo after'
expect_eq "a denied name with a space, a newline and invalid UTF-8: stopped by the kernel" \
	"3||kernel|kernel" \
	"$rc|$out|$(fields $EN.write $TR.by)"
# run from a directory whose name has a '*' (anyone can make one in a shared /tmp): "./**" is
# that directory, not every sibling its name would match as a glob
mkdir -p 'st*r' stXr
printf 'return { write = { allow = { "./**", "/dev/null" } }, enforce = true }\n' >'st*r/p.lua'
cd 'st*r'
enf p.lua -- sh -c 'echo a >ok; echo b >../stXr/sibling; echo after >ok2'
cd "$T"
expect_eq "cwd named st*r with write allow ./**: a write to sibling stXr is stopped by the kernel" \
	"3|kernel|kernel|$T/stXr/sibling|st*r/ok" \
	"$rc|$(cd 'st*r' && fields $EN.write $TR.by $TR.event.path)|$(ls 'st*r/ok' 'st*r/ok2' 2>/dev/null | paste -sd,)"
# a cwd renamed under the process: the kernel judges the name where the cwd now is
rm -rf w w2
printf 'return { write = { deny = { "%s/w2/a/**" } }, enforce = true }\n' "$T" >now2.lua
enf now2.lua -- sh -c 'mkdir -p w/a && cd w/a && mv ../../w ../../w2 && echo x >f; echo after'
expect_eq "a write relative to a cwd that was renamed: judged by the cwd's new path, stopped" \
	"3||kernel|$T/w2/a/f" \
	"$rc|$out|$(fields $TR.by $TR.event.path)"
# a path longer than the kernel's keys (256 bytes): judged by the prefixes covering its first
# 256 bytes, whether named whole or relative to a deep cwd
deep=deep/$(printf 'd%.0s' $(seq 100))/$(printf 'e%.0s' $(seq 100))/$(printf 'f%.0s' $(seq 100))
mkdir -p "$deep" denied
printf 'return { write = { deny = { "%s/deep/**", "%s/denied/**" } }, enforce = true }\n' "$T" "$T" >nodeep.lua
enf nodeep.lua -- sh -c "echo x >$deep/file; echo y >after-deep"
expect_eq "a denied write at a path longer than 256 bytes: stopped by the kernel (a prefix rule covers its first 256 bytes)" \
	"3|kernel|kernel|$T/$deep/file|" \
	"$rc|$(fields $EN.write $TR.by $TR.event.path)|$(ls after-deep 2>/dev/null)"
enf nodeep.lua -- sh -c "cd $deep && echo x >rel; echo y >$T/after-deep"
expect_eq "the same, named relative to a cwd longer than 256 bytes: stopped by the kernel" \
	"3|kernel|$T/$deep/rel|" \
	"$rc|$(fields $TR.by $TR.event.path)|$(ls after-deep 2>/dev/null)"
# a '..' folding back over bytes the kernel did not keep: left to user space, which stops it
enf nodeep.lua -- sh -c "echo x >$deep/../../../../denied/z; sleep 30; echo y >after-deep"
expect_eq "a long name whose '..' folds back past the kept 256 bytes: judged in user space, stopped there" \
	"3|user|$T/denied/z|" \
	"$rc|$(fields $TR.by $TR.event.path)|$(ls after-deep 2>/dev/null)"
# a /** rule on a directory of exactly 255 bytes (its prefix entry is the whole 256-byte key)
d255=$T/$(printf 'g%.0s' $(seq $((254 - ${#T}))))
mkdir -p "$d255"
printf 'return { write = { allow = { "%s/**", "/dev/null" } }, enforce = true }\n' "$d255" >allow255.lua
enf allow255.lua -- sh -c "echo x >$d255/x && echo done"
expect_eq "an allow rule on a 255-byte directory: a file in it is allowed (${#d255} bytes)" \
	"0|done" "$rc|$out"
printf 'return { write = { deny = { "%s/**" } }, enforce = true }\n' "$d255" >deny255.lua
enf deny255.lua -- sh -c "echo x >$d255/y; echo after"
expect_eq "a deny rule on a 255-byte directory: stopped by the kernel" \
	"3||kernel" "$rc|$out|$(fields $TR.by)"
printf 'return { write = { allow = { "./**", "/dev/null" } }, enforce = true }\n' >alldot.lua
enf alldot.lua -- sh -c "echo x >$deep/ok; cd $deep && echo y >ok2 && echo done"
expect_eq "long paths inside an allow list (./**): allowed by the kernel, run to the end" \
	"0|done|false" "$rc|$out|$(fields .outcome.killed_by_policy)"

# --- a write rule, judged in user space
cat >nowrite.lua <<'P'
return { write = { deny = { "./**/secret*" } }, enforce = true }
P
enf nowrite.lua -- sh -c 'echo x >secret.txt; sleep 30; echo y >after.txt'
expect_eq "a denied write, judged in user space: the tree is stopped (the file the open created stays), what follows never happens" \
	"3|secret.txt|user|user|open|$T/secret.txt|SIGKILL" \
	"$rc|$(ls secret.txt after.txt 2>/dev/null | paste -sd,)|$(jq -r .policy.enforcement.write r.json)|$(jq -r .policy.enforcement.trigger.by r.json)|$(jq -r .policy.enforcement.trigger.event.kind r.json)|$(jq -r .policy.enforcement.trigger.event.path r.json)|$(jq -r .outcome.signal r.json)"

# a stopped run's event log replays to the same receipt
enf deny-id.lua --events ev.jsonl -- sh -c 'echo before; id -u; echo after'
"$GH" replay ev.jsonl -o replayed.json >/dev/null 2>&1
expect_eq "a stopped run replays to the same receipt (killed_by_policy, the enforcement block)" \
	"3|$(jq -cS 'del(.collector.events)' r.json)" "$rc|$(jq -cS 'del(.collector.events)' replayed.json)"
cp replayed.json receipt-replayed.json
python3 "$ROOT/tests/cli/validate.py" "$ROOT/docs/receipt.schema.json" receipt-*.json >val.txt 2>&1
expect_eq "every receipt written here ($nrec) validates against docs/receipt.schema.json" "" \
	"$(cat val.txt)"
finish
