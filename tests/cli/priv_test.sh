#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Least privilege (root): under sudo the command runs as the invoking user, --user, nothing of
# glasshouse leaks into the command, --network none|loopback, and the installed binary with file
# capabilities run by a plain user. Oracles: id, getent, /proc of the command itself, the same
# probe run without glasshouse, a server on the host's loopback.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
REPO=$PWD

if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "priv_test needs root"
	else
		ok "# SKIP priv_test needs root"
	fi
	finish
	exit
fi

T=$(mktemp -d /tmp/gh-priv-XXXXXX)
chmod 755 "$T"
U1=ghpriv1$$ U2=ghpriv2$$ G1=ghprivg$$
cleanup() {
	rm -f /etc/sudoers.d/ghpriv$$
	userdel -r "$U1" 2>/dev/null
	userdel "$U2" 2>/dev/null
	groupdel "$G1" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
groupadd "$G1" && useradd -m -s /bin/sh -G "$G1" "$U1" &&
	useradd -M -d "$T/no-such-home" -s /bin/sh "$U2" ||
	{ not_ok "useradd"; finish; exit 1; }
uid1=$(id -u "$U1") gid1=$(id -g "$U1")
cd "$T" || exit 1
chown "$U1": "$T"

# gh ARGS...: run glasshouse; rc, out, err set.
gh() {
	"$GH" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
IDS='echo "$(id -u) $(id -g) $(id -G | tr " " "\n" | sort -n | tr "\n" " ")$HOME $USER $LOGNAME"'
want_ids() { echo "$(id -u "$1") $(id -g "$1") $(id -G "$1" | tr ' ' '\n' | sort -n | tr '\n' ' ')$2 $1 $1"; }

# 1. sudo's variables: the invoking user's ids, groups from the group database, HOME/USER/LOGNAME
SUDO_UID=$uid1 SUDO_GID=$gid1 SUDO_USER=$U1 gh run -o r1.json -- sh -c "$IDS"
expect_eq "SUDO_UID: the command runs as the invoking user, with their groups" \
	"0 $(want_ids "$U1" "$(getent passwd "$U1" | cut -d: -f6)")" "$rc $out"
expect_eq "SUDO_UID: the receipt is the invoking user's file" "$U1:$U1" "$(stat -c %U:%G r1.json)"
jq_eq "SUDO_UID: environment.user names them" r1.json .environment.user "\"$U1\""
jq_eq "SUDO_UID: the processes were observed" r1.json '[.collector.status, .process_tree[0].exe]' \
	'["ok","/usr/bin/sh"]'
SUDO_UID=$uid1 SUDO_GID=$gid1 SUDO_USER=$U1 gh run -o r2.json --events ev.jsonl -- id -u
expect_eq "SUDO_UID: the event log is the invoking user's file, as the receipt" \
	"0 $uid1 $U1:$U1 $U1:$U1" "$rc $out $(stat -c %U:%G r2.json ev.jsonl | xargs)"
gh replay ev.jsonl -o r2-replay.json
expect_eq "SUDO_UID: replay (as root) gives the run's receipt, environment.user the logged one" \
	"0 same \"$U1\"" "$rc $(cmp -s r2.json r2-replay.json && echo same) $(jq .environment.user r2-replay.json)"

SUDO_UID=$uid1 SUDO_GID=$gid1 SUDO_USER=$U1 gh keygen k1
expect_eq "SUDO_UID: keygen's keys are the invoking user's" "0 $U1:$U1 600 $U1:$U1 644" \
	"$rc $(stat -c '%U:%G %a' k1.key k1.pub | xargs)"

DOAS_USER=$U1 gh run -o r2.json -- sh -c "$IDS"
expect_eq "DOAS_USER: the command runs as that user" \
	"0 $(want_ids "$U1" "$(getent passwd "$U1" | cut -d: -f6)")" "$rc $out"

SUDO_UID=$uid1 SUDO_GID=$gid1 SUDO_USER=$U1 gh run --user root -o r3.json -- sh -c "$IDS"
expect_eq "--user root under sudo keeps root" "0 $(want_ids root /root)" "$rc $out"
jq_eq "--user root: environment.user" r3.json .environment.user '"root"'
expect_eq "--user root: the receipt stays root's" "root" "$(stat -c %U r3.json)"

gh run --user "$U2" -o r4.json -- sh -c "$IDS"
expect_eq "--user NAME whose home is missing: runs, HOME is the database's" \
	"0 $(want_ids "$U2" "$T/no-such-home")" "$rc $out"

gh run --user 54321:54322 -o r5.json -- sh -c 'echo $(id -u) $(id -g) $(id -G)'
expect_eq "--user UID:GID not in the database" "0 54321 54322 54322" "$rc $out"
jq_eq "--user UID: environment.user is the uid" r5.json .environment.user '"54321"'

# 2. Unknown users: exit 2, the name in the message, nothing runs, no receipt
rm -f ran
SUDO_UID=4242424 SUDO_GID=1 SUDO_USER=ghost gh run -o r6.json -- touch ran
expect_eq "unknown SUDO_UID: exit 2, one line naming it" \
	"2 glasshouse: SUDO_UID=4242424 is not a user of this system: refusing to run the command as root in its place (--user root to mean it)" \
	"$rc $err"
expect_eq "unknown SUDO_UID: nothing ran, no receipt" "" "$(ls ran r6.json 2>/dev/null)"
gh run --user no-such-user$$ -o r7.json -- touch ran
expect_eq "unknown --user: exit 2, the name first" "2 glasshouse: unknown user 'no-such-user$$'" \
	"$rc $(head -1 "$T/err")"
expect_eq "unknown --user: nothing ran, no receipt" "" "$(ls ran r7.json 2>/dev/null)"

# 3. Real sudo, where it is installed
if command -v sudo >/dev/null; then
	echo "$U1 ALL=(root) NOPASSWD: $GH" >/etc/sudoers.d/ghpriv$$
	chmod 0440 /etc/sudoers.d/ghpriv$$
	out=$(cd "$T" && runuser -u "$U1" -- sudo -n "$GH" run -o "$T/r8.json" -- sh -c "$IDS" 2>&1)
	expect_eq "real sudo: the command runs as the user who typed it" \
		"$(want_ids "$U1" "$(getent passwd "$U1" | cut -d: -f6)")" "$out"
	expect_eq "real sudo: the receipt is theirs" "$U1" "$(stat -c %U r8.json)"
	rm -f /etc/sudoers.d/ghpriv$$
else
	ok "# SKIP sudo is not installed"
fi

# 4. Nothing leaks: fds, signal mask, dispositions, RLIMIT_MEMLOCK, environment, capabilities.
# The probe reads the command's own /proc; the same probe run without glasshouse is the oracle.
# Each probe is a program that leaves its mask and dispositions as it got them (a shell does not).
# Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): a threaded glibc program such as
# glasshouse handles 33 itself, exec resets it, and no program can set either back to ignored,
# so an environment that starts everything with them ignored shows a difference there; masked.
probe() {
	"$@" grep -E "^(SigBlk|SigIgn|CapInh|CapPrm|CapEff|CapAmb)" /proc/self/status |
		while read -r k v; do
			[ "$k" = SigIgn: ] && v=$(printf '%016x' $((0x$v & ~0x180000000)))
			printf '%s\t%s\n' "$k" "$v"
		done
	echo "fds: $("$@" ls /proc/self/fd | sort -n | tr '\n' ' ')"
	"$@" grep "locked memory" /proc/self/limits
	echo "env: $("$@" env | grep -c ^GLASSHOUSE_)"
}
# SIGUSR1 alone blocked and SIGHUP ignored by the caller, fd 7 open, memlock's soft limit lowered
# (guest mode raises it where it may: with CAP_SYS_RESOURCE).
start() { python3 -c 'import signal, os, sys
signal.pthread_sigmask(signal.SIG_SETMASK, {signal.SIGUSR1})
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # python ignores these two itself
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' prlimit --memlock=65536: "$@" 7</dev/null; }
direct=$(unset GLASSHOUSE_BIN && probe start) # the suite's own variable is not the caller's
inside=$(GLASSHOUSE_RING_KB=4096 GLASSHOUSE_CAPTURE_ARGV=1 probe start "$GH" run --guest -o r9.json --)
expect_eq "leaks as root: fds, mask, ignored signals, memlock and caps as the caller's, no GLASSHOUSE_*" \
	"$direct" "$inside"
expect_eq "leaks: the oracle saw what was set up (SIGUSR1 blocked, SIGHUP ignored, memlock, fd 7)" \
	"0000000000000200 0000000000000001 65536 0 1" \
	"$(echo "$direct" | awk '/^SigBlk/{b=$2} /^SigIgn/{i=$2} /locked/{m=$4} /^env/{e=$2}
		/^fds/{f=($0 ~ / 7 /)} END{print b, i, m, e, f}')"
if [ "$(jq .execution.guest.memlock_raised r9.json)" = true ]; then
	ok "leaks: guest mode had raised RLIMIT_MEMLOCK for itself, and the command got 65536 back"
else
	jq_eq "leaks: guest mode could not raise RLIMIT_MEMLOCK here (no CAP_SYS_RESOURCE)" r9.json \
		.execution.guest.errors '["raise RLIMIT_MEMLOCK: Operation not permitted"]'
fi
inside=$(probe start "$GH" run --user "$U1" -o r10.json -- | grep -E "^Cap")
expect_eq "another user: no capability at all" \
	"$(printf 'CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000')" \
	"$inside"

# 5. --network: none cannot reach a server on the host's loopback; loopback has lo only
cat >srv.py <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(float(sys.argv[2]))
try:
    s.accept()
    print("accepted\n", end="", flush=True)  # one write: a client shares the pipe
except socket.timeout:
    print("nobody came")
EOF
cat >cl.py <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("connected\n", end="", flush=True)
except OSError as e:
    print("errno", e.errno)
EOF
python3 srv.py port 3 >srv.out &
srv=$!
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
port=$(cat port)
gh run --network none -o n1.json -- python3 cl.py "$port"
expect_eq "--network none: the host's loopback server is unreachable (ENETUNREACH)" "0 errno 101" "$rc $out"
jq_eq "--network none: the attempt is recorded with its real error" n1.json \
	'[.environment.sandbox.network, (.network.attempts[]|'"$NOT_NSCD"'|[.dst, .result])]' \
	"[\"none\",[\"127.0.0.1:$port\",\"ENETUNREACH\"]]"
gh run --network none -o n2.json -- ip -br link
expect_eq "--network none: only lo, and down" "0 lo DOWN" "$rc $(echo "$out" | awk '{print $1, $2}')"
wait "$srv"
expect_eq "--network none: the server saw nobody" "nobody came" "$(cat srv.out)"

rm -f port
python3 srv.py port 10 >srv.out &
srv=$!
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
gh run -o n3.json -- python3 cl.py "$(cat port)"
expect_eq "--network host (the default): it connects" "0 connected" "$rc $out"
jq_eq "--network host: environment.sandbox.network" n3.json .environment.sandbox.network '"host"'
wait "$srv"

gh run --network loopback -o n4.json -- sh -c 'rm -f lport; python3 srv.py lport 5 & while [ ! -s lport ]; do sleep 0.05; done; python3 cl.py $(cat lport); wait'
expect_eq "--network loopback: a server and a client inside meet on lo" "0 accepted connected" \
	"$rc $(echo "$out" | sort | xargs)"
jq_eq "--network loopback: recorded" n4.json \
	'[.environment.sandbox.network, [.network.attempts[]|'"$NOT_NSCD"'|.result], [.network.accepted[].protocol]]' \
	'["loopback",["connected"],["tcp"]]'
gh run --network loopback -o n5.json -- python3 cl.py "$port"
expect_eq "--network loopback: the host's loopback is not this one (refused)" "0 errno 111" "$rc $out"

gh run --network bogus -- true
expect_eq "--network bogus: usage error" "2 glasshouse: --network must be host, none or loopback, got 'bogus'" \
	"$rc $(head -1 "$T/err")"
rm -f ran n6.json
capsh --drop=cap_sys_admin -- -c "exec '$GH' run --network none -o n6.json -- touch ran" >out 2>err
rc=$?
expect_eq "no CAP_SYS_ADMIN: exit 2, one line, nothing ran, no receipt" \
	"2 glasshouse: cannot make the command's network namespace: Operation not permitted (it needs CAP_SYS_ADMIN)|" \
	"$rc $(cat err)|$(ls ran n6.json 2>/dev/null)"

# 6. A setuid program in the tree: it became root; the receipt lists it once the kernel side
# reports credentials (process_tree[].uid), and until then says nothing false.
cp /usr/bin/id id-suid && chown root: id-suid && chmod 4755 id-suid
SUDO_UID=$uid1 SUDO_GID=$gid1 SUDO_USER=$U1 gh run -o s1.json -- ./id-suid -u
expect_eq "setuid id: it ran with euid 0" "0 0" "$rc $out"
if [ "$(jq '.process_tree[0].uid' s1.json)" = null ]; then
	jq_eq "setuid id: no credentials from the kernel yet: no privilege change claimed" s1.json \
		'[.privilege_changes, [.process_tree[]|[.uid,.gid,.euid]]]' '[[],[[null,null,null]]]'
else
	jq_eq "setuid id: listed in privilege_changes with what it became" s1.json \
		'[.privilege_changes[]|[.exe,.uid,.euid]]' "[[\"$T/id-suid\",$uid1,0]]"
fi

# 7. The installed binary with file capabilities, run by a plain user
I=$T/inst
make -s -C "$REPO" install DESTDIR="$I" PREFIX=/usr CAPS=1 >/dev/null 2>&1
chmod -R go+rX "$I"
GC=$I/usr/bin/glasshouse
expect_eq "make install CAPS=1: cap_bpf,cap_perfmon" "cap_perfmon,cap_bpf=ep" "$(getcap "$GC" | cut -d' ' -f2)"
asu() { (cd "$T" && runuser -u "$U1" -- "$@"); }
out=$(asu "$GC" run -o "$T/c1.json" -- sh -c 'id -u; grep -E "^Cap(Inh|Prm|Eff|Amb)" /proc/$$/status' 2>&1)
expect_eq "file caps: the command runs as the user with no capability" \
	"$(printf '%s\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000' "$uid1")" \
	"$out"
jq_eq "file caps: a full receipt" c1.json \
	'[.collector.status, .collector.complete, [.process_tree[].exe], .environment.user]' \
	"[\"ok\",true,[\"/usr/bin/sh\",\"/usr/bin/id\",\"/usr/bin/grep\"],\"$U1\"]"
expect_eq "file caps: the receipt is the user's" "$U1" "$(stat -c %U c1.json)"
for v in GLASSHOUSE_LUA_PATH GLASSHOUSE_BPF_DIR; do
	out=$(asu env "$v=$T" "$GC" run -o "$T/c2.json" -- touch "$T/ran" 2>&1)
	expect_eq "file caps: $v refused, exit 2, nothing ran" \
		"2 glasshouse: $v is refused: glasshouse runs with file capabilities, and the code it names would run with them|" \
		"$? $out|$(ls "$T/ran" c2.json 2>/dev/null)"
done
cat >caps.lua <<'EOF'
local gh = require "glasshouse"
local f = io.open("/proc/self/status")
local eff = f:read("a"):match("CapEff:\t(%x+)")
f:close()
local r = gh.run(gh.command, { output = false, quiet = true })
print(gh.core.secure(), eff, r.collector.status)
EOF
out=$(asu "$GC" script "$T/caps.lua" -- true 2>&1)
expect_eq "file caps: a user's script runs with no capability, so no collector" \
	"true	0000000000000000	unavailable" "$out"
# (short lines: readline redraws a long one with escapes when stdin is no terminal)
out=$(printf '%s\n' 'print(gh.core.secure())' 'f = io.open("/proc/self/status")' \
	'print(f:read("a"):match("CapEff:\t(%x+)"))' 'r = gh.run({ "true" }, { output = false, quiet = true })' \
	'print(r.collector.status)' | asu "$GC" repl 2>&1 | grep -v -e '^gh>' -e '^glasshouse .* REPL' | xargs)
expect_eq "file caps: the REPL drops the capabilities before the user's Lua runs, so no collector" \
	"true 0000000000000000 unavailable" "$out"
out=$(asu env LUA_INIT='print("LUA_INIT ran")' LUA_CPATH="$T/?.so" "$GC" run -o "$T/c3.json" -- true 2>&1)
expect_eq "file caps: LUA_INIT and LUA_CPATH are ignored" "0 " "$? $out"
out=$(asu "$GC" run --network none -o "$T/c4.json" -- touch "$T/ran" 2>&1)
expect_eq "file caps: --network none refused (no CAP_SYS_ADMIN), nothing ran" \
	"2 glasshouse: cannot make the command's network namespace: Operation not permitted (it needs CAP_SYS_ADMIN)|" \
	"$? $out|$(ls "$T/ran" c4.json 2>/dev/null)"
out=$(asu "$GC" run --user root -o "$T/c5.json" -- true 2>&1 | head -1)
expect_eq "file caps: --user another user is refused" "glasshouse: --user root needs glasshouse to run as root" "$out"
out=$(asu "$GC" run --user "$U1" -o "$T/c6.json" -- id -u 2>&1)
expect_eq "file caps: --user naming oneself is nothing to switch" "0 $uid1" "$? $out"

finish
