#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The eBPF collector end to end, as root: workloads whose every effect is known
# (tests/bpf/workload.c), run under glasshouse, with exact receipts checked. Needs root and
# BPF; outside CI it skips when they are missing, in CI (CI=true) it fails instead.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
make -s build/tests/workload >/dev/null || { echo "not ok 1 - build the workload"; exit 1; }
W=$ROOT/build/tests/workload
T=$(mktemp -d /tmp/gh-bpf-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

# The collector must work here; in CI its absence is a failure, elsewhere a skip.
need_collector

# wl NAME ARGS...: run the workload in a fresh directory $T/NAME; receipt in $T/NAME.json, event
# log in $T/events/NAME.jsonl (replayed at the end).
mkdir -p "$T/events" "$T/replayed" "$T/cuts"
wl() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	(cd "$T/$name" && "$GH" run -o "$T/$name.json" --events "$T/events/$name.jsonl" -- "$W" "$@" \
		>"$T/$name.out" 2>&1)
	rc=$?
	D=$T/$name
	R=$T/$name.json
}

# --- processes
wl relpaths relpaths
expect_eq "relpaths exits 0" 0 "$rc"
jq_eq "one process, exe and argv exact" "$R" '[.process_tree[]|[.exe,.argv,.working_dir,.exit_code]]' \
	"[[\"$W\",[\"$W\",\"relpaths\"],\"$D\",0]]"
jq_eq "dirfd-, cwd-, fchdir-relative and dot-dot names resolved" "$R" '.filesystem.writes' \
	"[\"$D/d/after-fchdir\",\"$D/d/at-dirfd\",\"$D/d/at-dirfd-dotdot\",\"$D/d/from-sub\",\"$D/d/sub/here\"]"
jq_eq "creating opens and mkdir are created" "$R" '.filesystem.created' \
	"[\"$D/d\",\"$D/d/after-fchdir\",\"$D/d/at-dirfd\",\"$D/d/at-dirfd-dotdot\",\"$D/d/from-sub\",\"$D/d/sub\",\"$D/d/sub/here\"]"
jq_eq "the read through ./sub/.. is one absolute path" "$R" "[.filesystem.reads[]|select(startswith(\"$D\"))]" \
	"[\"$D/d/at-dirfd\"]"
jq_eq "a directory opened for listing is not a read" "$R" '.filesystem.directories' "[\"$D/d\"]"
jq_eq "collector complete" "$R" '[.collector.status,.collector.lost,.collector.complete]' '["ok",0,true]'

mkdir -p "$T/pathsearch"
(cd "$T/pathsearch" && PATH=/nonexistent-a:/nonexistent-b:/usr/bin "$GH" run -o "$T/ps.json" -- env true)
jq_eq "PATH search, then env's exec: one process showing the last program" "$T/ps.json" \
	'[.process_tree[]|[.exe,.argv]]' '[["/usr/bin/true",["true"]]]'
jq_eq "PATH-search misses are not failed execs" "$T/ps.json" '[.process_tree[]|.failed_execs|length]' '[0]'
# glasshouse searches PATH before the gate (as strace does) and execs env once; env's own execvp
# tries /nonexistent-a, /nonexistent-b, then /usr/bin: 1 + 3.
jq_eq "execve counted for every try: glasshouse's one, env's three" "$T/ps.json" '.syscalls.counts.execve' 4

wl execfail execfail
jq_eq "failed exec recorded, then the program that ran" "$R" \
	'.process_tree[1]|[.exe,.argv,.failed_execs]' \
	"[\"/bin/true\",[\"true\",\"after-failure\"],[{\"path\":\"$D/no-such-program\",\"error\":\"ENOENT\"}]]"

wl doublefork doublefork
jq_eq "double fork: three processes, the orphan tracked" "$R" '[.process_tree[]|.argv[-1]]' \
	'["doublefork","doublefork","orphan"]'
jq_eq "the orphan's exec and exit" "$R" '.process_tree[2]|[.exe,.exit_code]' '["/bin/true",0]'
jq_eq "the orphan's file" "$R" '.filesystem.writes' "[\"$D/orphan-was-here\"]"
jq_eq "parent links" "$R" '[.process_tree[0].pid == .process_tree[1].ppid, .process_tree[1].pid != .process_tree[2].ppid]' '[true,true]'

wl forkfirst forkfirst
jq_eq "a fork-only child shows its image and exit code" "$R" '.process_tree[1]|[.exe,.exit_code,.working_dir]' \
	"[\"$W\",3,\"$D\"]"
jq_eq "its file" "$R" '.filesystem.writes' "[\"$D/child-file\"]"

wl threads threads
jq_eq "threads are not processes" "$R" '.process_tree|length' 1
jq_eq "every thread's file" "$R" '.filesystem.writes' \
	"[\"$D/thread-0\",\"$D/thread-1\",\"$D/thread-2\",\"$D/thread-3\"]"
jq_eq "clone counted" "$R" '.syscalls.counts.clone3 // .syscalls.counts.clone' 4

# The syscall program finds tracked threads by where their registers are, in a table; when
# it is full, the tid bitmap answers. With one slot, every thread but the first is found there.
make -s -C "$ROOT" build/tests/rslots1/glasshouse.bpf.o >/dev/null 2>&1 || not_ok "build the one-slot object"
for w in threads doublefork; do
	mkdir -p "$T/rs-$w"
	(cd "$T/rs-$w" && GLASSHOUSE_BPF_DIR=$ROOT/build/tests/rslots1 "$GH" run -o "$T/rs-$w.json" -- "$W" $w >/dev/null 2>&1)
done
jq_eq "a full registers table: every thread's file" "$T/rs-threads.json" '.filesystem.writes' \
	"[\"$T/rs-threads/thread-0\",\"$T/rs-threads/thread-1\",\"$T/rs-threads/thread-2\",\"$T/rs-threads/thread-3\"]"
jq_eq "a full registers table: every thread's syscalls counted" "$T/rs-threads.json" \
	'[.syscalls.counts.clone3 // .syscalls.counts.clone, .syscalls.counts.openat, .collector.complete]' \
	"$(jq -c '[.syscalls.counts.clone3 // .syscalls.counts.clone, .syscalls.counts.openat, .collector.complete]' "$T/threads.json")"
jq_eq "a full registers table: the double fork's orphan and its file" "$T/rs-doublefork.json" \
	'[[.process_tree[]|.argv[-1]], .filesystem.writes]' \
	"[[\"doublefork\",\"doublefork\",\"orphan\"],[\"$T/rs-doublefork/orphan-was-here\"]]"

# --- files
wl longnames longnames
long=$(printf 'a%.0s' $(seq 199))
want="$D/a$long/b$long/c$long/d$long/e$long/leaf"
jq_eq "a path of ${#want} bytes kept whole" "$R" '.filesystem.writes[0]' "\"$want\""
got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["filesystem"]["writes"][1].encode("utf-8","surrogateescape") == (sys.argv[2] + "/bad-").encode() + b"\xff\xfe-name")' "$R" "$D")
expect_eq "a non-UTF-8 name decodes to its exact bytes" True "$got"
grep -q 'bad-\\udcff\\udcfe-name' "$R" && ok "the receipt file escapes the bytes" || not_ok "the receipt file escapes the bytes"
jq_eq "nothing truncated" "$R" '.collector.truncated' 0

wl fsops fsops
jq_eq "renames" "$R" '.filesystem.renames' "[{\"from\":\"$D/a\",\"to\":\"$D/a2\"},{\"from\":\"$D/b\",\"to\":\"$D/b2\"}]"
jq_eq "deletes (unlink, rmdir)" "$R" '.filesystem.deletes' "[\"$D/b2\",\"$D/dir\"]"
jq_eq "created (open, symlink, link, mknod, mkdir)" "$R" '.filesystem.created' \
	"[\"$D/a\",\"$D/b\",\"$D/dir\",\"$D/fifo\",\"$D/hard\",\"$D/link-to-a2\"]"
jq_eq "failed open/unlink/rename with errno names" "$R" '.filesystem.failed' \
	"[{\"path\":\"$D/never-existed\",\"op\":\"unlink\",\"error\":\"ENOENT\"},{\"path\":\"$D/missing-too\",\"op\":\"open\",\"error\":\"ENOENT\"},{\"path\":\"$D/nope\",\"op\":\"rename\",\"error\":\"ENOENT\"},{\"path\":\"$D/missing-2\",\"op\":\"open\",\"error\":\"ENOENT\"}]"
jq_eq "a failed open is not a read; openat2's read is" "$R" "[.filesystem.reads[]|select(startswith(\"$D\"))]" "[\"$D/hard\"]"
jq_eq "counts: rename, renameat2, chmod" "$R" \
	'[.syscalls.counts.rename, .syscalls.counts.renameat2, .syscalls.counts.chmod]' '[2,1,1]'

# --- network
wl net net
jq_eq "connect attempts: v4, v6, refused, unix; UDP sendto and sendmsg" "$R" \
	'[.network.attempts[]|[.op,.protocol,.result,.count]]' \
	'[["connect","tcp","connected",1],["connect","tcp","connected",1],["connect","tcp","refused",1],["sendto","udp","sent",3],["sendto","udp","sent",1],["connect","unix","connected",1]]'
jq_eq "destinations" "$R" '[.network.attempts[]|.dst|sub(":[0-9]+$";":P")]' \
	"[\"127.0.0.1:P\",\"[::1]:P\",\"127.0.0.1:P\",\"127.0.0.1:P\",\"127.0.0.1:P\",\"$D/gh.sock\"]"
jq_eq "refused is 127.0.0.1:1, UDP to ports 9 (sendto) and 10 (sendmsg)" "$R" \
	'[.network.attempts[2].dst,.network.attempts[3].dst,.network.attempts[4].dst]' \
	'["127.0.0.1:1","127.0.0.1:9","127.0.0.1:10"]'
jq_eq "exact bytes per attempt" "$R" '[.network.attempts[]|[.bytes_sent,.bytes_received]]' \
	'[[1000,2500],[300,70],[0,0],[30,0],[7,0],[4,0]]'
jq_eq "accepted peers with bytes" "$R" '[.network.accepted[]|[.peer,.protocol,.bytes_sent,.bytes_received]]' \
	'[["127.0.0.1","tcp",2500,1000],["::1","tcp",70,300]]'
jq_eq "totals" "$R" '[.network.bytes_sent,.network.bytes_received]' '[3911,3870]'
jq_eq "servers: bind and listen with the real port" "$R" \
	'[.network.servers[]|[.op,.protocol,(.address|test(":0$"))]]' \
	'[["bind","tcp",true],["listen","tcp",false],["bind","tcp",true],["listen","tcp",false],["bind","unix",false],["listen","unix",false]]'
jq_eq "the listen address is the connect destination" "$R" \
	'.network.servers[1].address == .network.attempts[0].dst' true

# --- argv capture
wl bigargv bigargv 64 10
jq_eq "64 arguments captured whole" "$R" '.process_tree[0]|[(.argv|length),.argv_truncated]' '[65,false]'
wl bigargv2 bigargv 64 4096
jq_eq "past 16 KiB argv is cut and says so" "$R" \
	'.process_tree[0]|[.argv_truncated,(.argv|map(length+1)|add) - 1]' '[true,16384]'
jq_eq "a cut argv makes the receipt incomplete" "$R" '[.collector.truncated,.collector.complete]' '[1,false]'
mkdir -p "$T/noargv"
(cd "$T/noargv" && GLASSHOUSE_CAPTURE_ARGV=0 "$GH" run -o "$T/noargv.json" -- "$W" bigargv 3 5)
jq_eq "GLASSHOUSE_CAPTURE_ARGV=0 leaves argv out" "$T/noargv.json" '.process_tree[0].argv' '[]'

# --- loss is counted, never silent
mkdir -p "$T/burst"
(cd "$T/burst" && GLASSHOUSE_RING_KB=4 "$GH" run -o "$T/burst.json" -- "$W" burst 200000 2>/dev/null)
R=$T/burst.json
jq_eq "a 4 KiB ring loses records under a burst, and says so" "$R" \
	'[.collector.status,.collector.lost > 0,.collector.complete]' '["partial",true,false]'
jq_eq "delivered + lost = every record (200002 opens, exec, exit)" "$R" \
	'[.collector.events + .collector.lost, .syscalls.counts.openat]' '[200004,200002]'
jq_eq "the reason names the knob" "$R" '.collector.error|test("ring buffer was full \\(raise GLASSHOUSE_RING_KB\\)")' true
mkdir -p "$T/burst2"
(cd "$T/burst2" && "$GH" run -o "$T/burst2.json" -- "$W" burst 200000)
jq_eq "the default ring loses nothing in the same burst" "$T/burst2.json" \
	'[.collector.lost,.collector.events,.collector.complete]' '[0,200004,true]'

# --- identical opens collapse in the kernel, counts stay exact
mkdir -p "$T/collapse" && echo x >"$T/collapse/f"
(cd "$T/collapse" && "$GH" run -o "$T/collapse.json" -- /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do read x < f; done')
jq_eq "ten relative opens by one process: one record, ten counted" "$T/collapse.json" \
	"[(.filesystem.reads|index(\"$T/collapse/f\") != null), .syscalls.counts.openat >= 10, .collector.events < 10, .collector.complete]" \
	'[true,true,true,true]'

# --- an exec from a non-leader thread: the process keeps being observed under the leader's id
mkdir -p "$T/threadexec"
(cd "$T/threadexec" && "$GH" run -o "$T/threadexec.json" -- "$W" threadexec)
jq_eq "a thread's exec: the new program and its write are seen" "$T/threadexec.json" \
	'[.process_tree[0].exe, .process_tree[0].exit_code, (.filesystem.writes | map(select(endswith("/threadexec/out"))) | length)]' \
	'["/bin/sh",0,1]'

# --- collapse never drops a name: more names than the cache of a CPU's last opens, one
# relative name from two directories, the same file opened read-write through "..", each
# opened twice
C=$T/cycle
mkdir -p "$C/a" "$C/b" && touch "$C/a/f" "$C/b/f" "$C"/c0 "$C"/c1 "$C"/c2 "$C"/c3 "$C"/c4 "$C"/c5
(cd "$C" && "$GH" run -o "$T/cycle.json" -- "$W" cycle 1000)
jq_eq "1000 rounds of 9 opens: every name read, once" "$T/cycle.json" \
	"[.filesystem.reads[] | select(startswith(\"$C/\"))]" \
	"[\"$C/a/f\",\"$C/b/f\",\"$C/c0\",\"$C/c1\",\"$C/c2\",\"$C/c3\",\"$C/c4\",\"$C/c5\"]"
jq_eq "the read-write open through .. is a write too" "$T/cycle.json" '.filesystem.writes' "[\"$C/b/f\"]"
# A chdir starts the process's keys afresh (open_where): per round, the first of each pair
# of opens is sent, the second collapses; with the 3 chdirs, 12 records a round.
jq_eq "18000 opens counted (plus the loader's), only each first open and the 3000 chdirs sent" \
	"$T/cycle.json" "[.syscalls.counts.openat - ([.filesystem.reads[] | select(startswith(\"$C/\") | not)] | length), .syscalls.counts.chdir, .collector.events >= 12000 and .collector.events < 12040, .collector.lost]" \
	'[18000,3000,true,0]'

# --- the cache of last opens is per CPU: two processes sharing cwd and root (CLONE_FS) take
# turns on one CPU opening the same name; each gets its first open sent once (a filter hook
# counts the records per pid)
mkdir -p "$T/procs" && echo x >"$T/procs/f"
cat >"$T/procs.lua" <<'EOF'
local gh = require "glasshouse"
local per, pids = {}, {}
gh.run(gh.command, { output = os.getenv("OUT"), filter = function(ev)
	if ev.kind == "open" and ev.path == os.getenv("F") then
		if not per[ev.pid] then pids[#pids + 1] = ev.pid end
		per[ev.pid] = (per[ev.pid] or 0) + 1
	end
	return true
end })
local f = assert(io.open(os.getenv("COUNTS"), "w"))
for _, pid in ipairs(pids) do f:write(per[pid], "\n") end
f:close()
return 0
EOF
(cd "$T/procs" && OUT=$T/procs.json F=$T/procs/f COUNTS=$T/procs.counts "$GH" script "$T/procs.lua" -- "$W" procs 1000 >/dev/null 2>&1)
expect_eq "two processes, 1000 opens each on one CPU: one record each" "1 1 " \
	"$(tr '\n' ' ' <"$T/procs.counts" 2>&1)"
jq_eq "and all 2000 opens counted" "$T/procs.json" \
	"[.syscalls.counts.openat - ([.filesystem.reads[] | select(. != \"$T/procs/f\")] | length), (.process_tree | length), .collector.lost]" \
	'[2000,2,0]'

# --- a freed directory's kernel address is reused by later ones: no open collapses into an
# earlier directory's (each is removed while open, so its dentry is freed at once)
mkdir -p "$T/reuse"
(cd "$T/reuse" && "$GH" run -o "$T/reuse.json" -- "$W" reuse 2000)
jq_eq "2000 directories, a missing name in each through a dirfd and as the cwd: 4000 failures" \
	"$T/reuse.json" \
	"[(.filesystem.failed | length), ([.filesystem.failed[] | select(.path == \"$T/reuse/d1999/x\" or .path == \"$T/reuse/d1999/y\")] | length), (.filesystem.directories | length), .syscalls.counts.openat - ([.filesystem.reads[] | select(startswith(\"$T/reuse/\") | not)] | length), .syscalls.counts.fchdir]" \
	'[4000,2,2000,6000,2000]'

# --- sockets past the fast slots (128 here, keyed by inode number) are counted exactly in the hash
cc -O2 -o "$T/netloop" "$ROOT/bench/netloop.c"
mkdir -p "$T/slots"
(cd "$T/slots" && GLASSHOUSE_MAX_SOCKETS=150 "$GH" run -o "$T/slots.json" -- "$T/netloop" 100)
jq_eq "200 sockets, 128 slots: every byte counted, nothing lost" "$T/slots.json" \
	'[.network.attempts[0].count, .network.attempts[0].bytes_sent, .network.attempts[0].bytes_received, .network.accepted[0].bytes_sent, .network.accepted[0].bytes_received, .collector.complete]' \
	'[100,10000,10000,10000,10000,true]'

# --- a full socket table is said, never silent: the net workload's sockets with room for 4
mkdir -p "$T/socks"
(cd "$T/socks" && GLASSHOUSE_MAX_SOCKETS=2 "$GH" run -o "$T/socks.json" -- "$W" net >/dev/null)
jq_eq "sockets past the table's size: partial, incomplete, the knob named" "$T/socks.json" \
	'[.collector.status, .collector.complete, (.collector.error | test("socket sends or receives not counted: the socket table was full \\(raise GLASSHOUSE_MAX_SOCKETS\\)"))]' \
	'["partial",false,true]'

# --- the end of a short run is not lost
mkdir -p "$T/short"
(cd "$T/short" && "$GH" run -o "$T/short.json" -- sh -c 'echo a > last-file')
jq_eq "a short run's last write is there" "$T/short.json" '.filesystem.writes' "[\"$T/short/last-file\"]"
jq_eq "and its exit" "$T/short.json" '.process_tree[0].exit_code' 0

# --- signals
mkdir -p "$T/sig"
(cd "$T/sig" && "$GH" run -o "$T/sig.json" -- sh -c 'sh -c "kill -9 \$\$"; exit 0' 2>/dev/null)
jq_eq "a child killed by SIGKILL" "$T/sig.json" '[.process_tree[1].signal,.process_tree[1].exit_code]' '["SIGKILL",null]'

# --- scoping: other processes never show up
( while :; do cat /etc/hostname >/dev/null; done ) &
noise=$!
mkdir -p "$T/scope"
(cd "$T/scope" && "$GH" run -o "$T/scope.json" -- sh -c 'sleep 0.2')
{ kill "$noise" && wait "$noise"; } 2>/dev/null
jq_eq "a busy unrelated process is not in the receipt" "$T/scope.json" \
	'[(.filesystem.reads|index("/etc/hostname")), [.process_tree[].exe]]' '[null,["/usr/bin/sh","/usr/bin/sleep"]]'

# --- in a PID namespace
mkdir -p "$T/pidns"
(cd "$T/pidns" && unshare --pid --fork --mount-proc "$GH" run -o "$T/pidns.json" -- sh -c 'echo x > f; sh -c true')
# pid 1 is glasshouse and 2 its signal thread, so the command is 3
jq_eq "inside a PID namespace: pids as glasshouse sees them" "$T/pidns.json" \
	'[.process_tree[]|[.pid,.ppid,.exe]]' '[[3,1,"/usr/bin/sh"],[4,3,"/usr/bin/sh"]]'
jq_eq "inside a PID namespace: files" "$T/pidns.json" '[.filesystem.writes,.collector.status]' \
	"[[\"$T/pidns/f\"],\"ok\"]"

# --- without privilege: one clear line, the command still runs, the receipt says why
chmod o+x "$T" && mkdir -p "$T/nopriv" && chmod 777 "$T/nopriv"
(cd "$T/nopriv" && setpriv --reuid=65534 --regid=65534 --clear-groups "$GH" run -o "$T/nopriv/r.json" -- sh -c 'exit 4' 2>"$T/nopriv.err")
expect_eq "unprivileged: the command's status" 4 "$?"
jq_eq "unprivileged: collector unavailable with the reason" "$T/nopriv/r.json" '[.collector.status,.collector.error]' \
	'["unavailable","collector: the kernel refused to load BPF programs (Operation not permitted): run as root, or with CAP_BPF and CAP_PERFMON"]'
expect_eq "unprivileged: one line on stderr" \
	"glasshouse: collector: the kernel refused to load BPF programs (Operation not permitted): run as root, or with CAP_BPF and CAP_PERFMON; running without it" \
	"$(cat "$T/nopriv.err")"

# --- the event logs: replay rebuilds each workload's receipt byte for byte, with exit 0
for ev in "$T"/events/*.jsonl; do
	name=$(basename "$ev" .jsonl)
	"$GH" replay "$ev" -o "$T/replayed/$name.json" >"$T/replayed/$name.out" 2>&1
	rrc=$?
	if [ "$rrc" -eq 0 ] && [ ! -s "$T/replayed/$name.out" ] && cmp -s "$T/$name.json" "$T/replayed/$name.json"; then
		ok "replay of $name's event log: exit 0, the live receipt byte for byte"
	else
		not_ok "replay of $name's event log: exit 0, the live receipt byte for byte" "rc=$rrc" \
			"$(head -2 "$T/replayed/$name.out")" "$(diff "$T/$name.json" "$T/replayed/$name.json" | head -6)"
	fi
done
# The biggest log cut at every 10%: exit 1, one line naming the file and the line, a receipt
# that says it is incomplete; the ten pieces put back together replay to the live receipt.
ev=$(ls -S "$T"/events/*.jsonl | head -1)
name=$(basename "$ev" .jsonl)
size=$(stat -c %s "$ev")
bad=
for pct in 10 20 30 40 50 60 70 80 90; do
	cut=$T/cuts/$name-$pct.jsonl
	head -c $((size * pct / 100)) "$ev" >"$cut"
	"$GH" replay "$cut" -o "$T/cuts/$name-$pct.json" >"$T/cuts/$pct.out" 2>"$T/cuts/$pct.err"
	crc=$?
	line=$(head -c $((size * pct / 100)) "$ev" | wc -l)
	[ "$(head -c $((size * pct / 100)) "$ev" | tail -c 1 | od -An -c | tr -d ' ')" = '\n' ] || line=$((line + 1))
	want="1|1|glasshouse: $cut:$line: |false|partial"
	got="$crc|$(wc -l <"$T/cuts/$pct.err")|$(grep -o "^glasshouse: $cut:[0-9]*: " "$T/cuts/$pct.err")|$(jq -c .collector.complete "$T/cuts/$name-$pct.json")|$(jq -r .collector.status "$T/cuts/$name-$pct.json")"
	[ "$got" = "$want" ] || bad+=" $pct%: want $want, got $got ($(cat "$T/cuts/$pct.err"));"
	off=$((size * (pct - 10) / 100))
	tail -c +$((off + 1)) "$ev" | head -c $((size * pct / 100 - off)) >"$T/cuts/piece-$pct"
done
expect_eq "replay of $name's log cut at every 10%: exit 1, file:line, complete false" "" "$bad"
tail -c +$((size * 90 / 100 + 1)) "$ev" >"$T/cuts/piece-100"
cat "$T"/cuts/piece-{10,20,30,40,50,60,70,80,90,100} >"$T/cuts/whole.jsonl"
"$GH" replay "$T/cuts/whole.jsonl" -o "$T/cuts/whole.json" 2>/dev/null
expect_eq "the ten pieces reassembled: exit 0, the live receipt" "0|same" \
	"$?|$(cmp -s "$T/cuts/whole.json" "$T/$name.json" && echo same)"
out=$(python3 "$ROOT/tests/cli/validate.py" "$ROOT/docs/receipt.schema.json" "$T"/cuts/*.json 2>&1)
expect_eq "the receipts of cut logs match docs/receipt.schema.json" "" "$out"

# --- every receipt above is valid against the schema
out=$(python3 "$ROOT/tests/cli/validate.py" "$ROOT/docs/receipt.schema.json" "$T"/*.json 2>&1)
expect_eq "all receipts of this suite match docs/receipt.schema.json" "" "$out"

# --- the demo against strace -f: the same programs, files and destinations
if command -v strace >/dev/null; then
	make -s -C "$ROOT" build/demo/workload >/dev/null
	mkdir -p "$T/oracle"
	(cd "$T/oracle" && "$GH" run -o "$T/oracle-gh.json" -- "$ROOT/build/demo/workload" "$T/oracle/files" >/dev/null 2>&1)
	rm -rf "$T/oracle" && mkdir -p "$T/oracle"
	(cd "$T/oracle" && strace -f -y -qq -s 4096 -o "$T/oracle.strace" \
		-e trace=execve,execveat,open,openat,openat2,creat,truncate,unlink,unlinkat,rmdir,rename,renameat,renameat2,connect,chdir,fchdir,clone,clone3,fork,vfork \
		"$ROOT/build/demo/workload" "$T/oracle/files" >/dev/null 2>&1)
	python3 "$ROOT/tests/bpf/oracle.py" "$T/oracle.strace" "$T/oracle-gh.json" "$T/oracle" >"$T/oracle.diff" 2>&1
	orc=$?
	if [ $orc -eq 0 ]; then ok "oracle: strace -f and glasshouse agree on the demo ($(cat "$T/oracle.diff"))"; else
		not_ok "oracle: strace -f and glasshouse agree on the demo" "$(cat "$T/oracle.diff")"; fi
else
	not_ok "oracle: strace is installed"
fi

# --- a unix socket accepted under a relative name has an absolute local name; O_PATH
# directories (tar x opens them so) are not listings
mkdir -p "$T/ux/d"
(cd "$T/ux" && "$GH" run -o "$T/ux.json" -- /usr/bin/python3 -c '
import os, socket
s = socket.socket(socket.AF_UNIX); s.bind("ux.sock"); s.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect("ux.sock")
a, _ = s.accept()
os.close(os.open("d", os.O_PATH | os.O_DIRECTORY))
os.close(os.open(".", os.O_RDONLY | os.O_DIRECTORY))')
jq_eq "accepted unix socket: local name absolute" "$T/ux.json" \
	'[.network.accepted[]|[.protocol,.local]]' "[[\"unix\",\"$T/ux/ux.sock\"]]"
jq_eq "O_PATH directory open: not a listing; a listing open is" "$T/ux.json" \
	"[.filesystem.directories[]|select(startswith(\"$T/ux\"))]" "[\"$T/ux\"]"

# --- every program a process executed, in order
(cd "$T" && "$GH" run -o "$T/chain.json" -- sh -c 'exec env true')
jq_eq "exec chain: every program, in order, and the last at the top" "$T/chain.json" \
	'.process_tree[0]|[[.execs[]|.exe], [.execs[]|.argv], .exe]' \
	'[["/usr/bin/sh","/usr/bin/env","/usr/bin/true"],[["sh","-c","exec env true"],["env","true"],["true"]],"/usr/bin/true"]'

# --- what really ran: a #! script's interpreter (resolved) and the script, hashes of the very
# files run (sha256sum as the oracle), a binary replaced while it ran, a setuid program
mkdir -p "$T/ident"
printf '#!/usr/bin/python3\nprint("hi")\n' >"$T/ident/s.py"
chmod +x "$T/ident/s.py"
cp /usr/bin/id "$T/ident/suid-id"
chmod u+s "$T/ident/suid-id"
cp /usr/bin/sleep "$T/ident/mysleep"
(cd "$T/ident" && "$GH" run -o "$T/ident.json" -- sh -c './s.py >/dev/null
	runuser -u nobody -- ./suid-id -u >/dev/null
	./mysleep 0.5 & sleep 0.2; cp /usr/bin/true mysleep.new; mv mysleep.new mysleep; wait')
PY=$(readlink -f /usr/bin/python3)
jq_eq "#! script: exe is the interpreter that ran (resolved), script the file executed" \
	"$T/ident.json" "[.process_tree[]|select(.script != null)|[.exe,.script,.exe_sha256,.script_sha256]]" \
	"[[\"$PY\",\"$T/ident/s.py\",\"$(sha256sum "$PY" | cut -c1-64)\",\"$(sha256sum "$T/ident/s.py" | cut -c1-64)\"]]"
jq_eq "exe_sha256 of a binary reached through a symlink: the file that ran (sh -> dash)" \
	"$T/ident.json" '.process_tree[0]|[.exe,.exe_sha256]' \
	"[\"/usr/bin/sh\",\"$(sha256sum "$(readlink -f /usr/bin/sh)" | cut -c1-64)\"]"
jq_eq "a binary replaced while it ran: no hash, and why" "$T/ident.json" \
	"[.process_tree[]|select(.exe == \"$T/ident/mysleep\")|[.exe_sha256,.exe_hash_error]]" \
	"[[null,\"$T/ident/mysleep: replaced or changed since it was executed (its device, inode or change time differ)\"]]"
jq_eq "a setuid program: uid, euid, and listed in privilege_changes" "$T/ident.json" \
	'[[.process_tree[]|select(.exe|endswith("suid-id"))|[.uid,.gid,.euid]], [.privilege_changes[]|[.uid,.euid,(.exe|endswith("suid-id"))]]]' \
	'[[[65534,65534,0]],[[65534,0,true]]]'

# --- a process that outlives the command is marked running, and the receipt is not complete
rm -f "$T/late.txt"
(cd "$T" && "$GH" run -o "$T/late.json" -- sh -c 'sleep 1 &')
jq_eq "an outliving process: state running, collector partial with the count, not complete" \
	"$T/late.json" '[[.process_tree[]|.state], .collector.status, .collector.complete, .collector.error]' \
	'[["exited","running"],"partial",false,"1 process of the tree was still running when the receipt was written: what it did after that is not in it"]'

finish
