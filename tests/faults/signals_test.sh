#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Signals at every moment of a run, interrupted scripts, os.exit, a vanished reader, and the
# smaller faults: each with its documented exit status, message and receipt.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
T=$(mktemp -d /tmp/gh-faults-sig-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
ST="python3 $ROOT/tests/faults/sigtime.py"

# at SIG MS ARGS...: run glasshouse ARGS with signal SIG (or pty Ctrl-C) MS ms after main began;
# sets rc (glasshouse's status) and secs.
at() {
	local out
	out=$($ST "$@" 2>err.txt)
	rc=${out% *}
	secs=${out#* }
}

# moments HOW NAME STATUS SIGNAL MS...: `run -- sleep 5` with HOW (a signal, or pty for a
# terminal's Ctrl-C) at each moment; it must end at once with STATUS, the receipt saying SIGNAL.
moments() {
	local how=$1 name=$2 status=$3 sig=$4 ms
	shift 4
	for ms in "$@"; do
		rm -f r.json
		at "$how" "$ms" "$GH" run -o r.json -- sleep 5
		expect_eq "$name at ${ms} ms: exit $status at once (${secs}s)" "$status yes" \
			"$rc $(awk -v s="$secs" 'BEGIN { print (s < 4) ? "yes" : "no" }')"
		jq_eq "$name at ${ms} ms: receipt" r.json .outcome \
			"{\"exit_code\":$status,\"signal\":\"$sig\",\"error\":null,\"received_signal\":\"$sig\",\"killed_by_policy\":false}"
	done
}

# --- SIGTERM from another process at each moment: forwarded, never lost
moments TERM SIGTERM 143 SIGTERM 0 10 30 60 100
# --- Ctrl-C on a real terminal at ten moments: the command stops with SIGINT either way
moments pty Ctrl-C 130 SIGINT 0 5 10 20 40 60 80 100 150 300

# --- scripts are interrupted like any program
echo 'while true do end' >loop.lua
for sig in INT TERM HUP; do
	at "$sig" 200 "$GH" script loop.lua
	want=$((128 + $(kill -l "$sig")))
	expect_eq "a looping script stops on SIG$sig: exit $want" "$want" "$rc"
	expect_eq "a looping script stops on SIG$sig: message" "glasshouse: interrupted by SIG$sig" \
		"$(cat err.txt)"
done

cat >hookloop.lua <<'LUA'
local gh = require "glasshouse"
gh.run(gh.command, { output = "r.json", on_event = function() while true do end end })
print("not reached")
LUA
rm -f r.json
at TERM 400 "$GH" script hookloop.lua -- sh -c 'echo hi > x; sleep 3'
expect_eq "a looping hook stops on SIGTERM: exit 143" 143 "$rc"
expect_eq "a looping hook: message, nothing after gh.run" "glasshouse: interrupted by SIGTERM" \
	"$(cat err.txt)"
jq_eq "a looping hook: the command got the signal too, the receipt was written" r.json \
	'[.outcome.signal,.outcome.received_signal,.outcome.error]' \
	'["SIGTERM","SIGTERM","interrupted by SIGTERM"]'

# --- os.exit in a hook: the command finishes, the receipt is written, then the exit
cat >hookexit.lua <<'LUA'
local gh = require "glasshouse"
gh.run(gh.command, { output = "r.json", on_event = function() os.exit(7) end })
print("not reached")
LUA
rm -f r.json late
"$GH" script hookexit.lua -- sh -c 'sleep 0.3; echo late > late' >out.txt 2>err.txt
rc=$?
expect_eq "os.exit(7) in a hook: exit 7, nothing printed" "7||" "$rc|$(cat out.txt)|$(cat err.txt)"
jq_eq "os.exit(7) in a hook: the command ran to its end" r.json \
	'[.outcome.exit_code,(.filesystem.writes|index("'"$T"'/late")!=null),.outcome.error]' \
	'[0,true,"os.exit(7)"]'
echo 'os.exit(false)' >exit.lua
"$GH" script exit.lua 2>err.txt
expect_eq "os.exit(false) in a script: exit 1" "1|" "$?|$(cat err.txt)"

# --- a vanished reader: the command sees SIGPIPE as in a plain pipeline
rm -f r.json
timeout 20 "$GH" run -o r.json -- yes | head -c 100 >/dev/null
expect_eq "run -- yes | head: glasshouse exits with yes's SIGPIPE status" 141 "${PIPESTATUS[0]}"
jq_eq "run -- yes | head: reader closed, command died of SIGPIPE" r.json \
	'[.outcome.signal,.artifacts.stdout_reader_closed,.artifacts.stderr_reader_closed]' \
	'["SIGPIPE",true,false]'

# --- commands that cannot start say why, and still get a receipt
rm -f receipt.json
"$GH" run -- '' 2>err.txt
expect_eq "run -- '': exit 1 and one line" "1|glasshouse: (empty command name): No such file or directory" \
	"$?|$(cat err.txt)"
jq_eq "run -- '': receipt" receipt.json .outcome.error '"(empty command name): No such file or directory"'
"$GH" run -- /nonexistent/prog 2>err.txt
expect_eq "a missing program: exit 1 and one line" "1|glasshouse: /nonexistent/prog: No such file or directory" \
	"$?|$(cat err.txt)"
"$GH" run --backend firecracker -- true 2>err.txt
expect_eq "a firecracker setting missing: exit 1 and the reasons in one line" \
	"1|glasshouse: firecracker backend: kernel is not set (--backend-opt KEY=PATH); firecracker backend: starting a microVM is not implemented" \
	"$?|$(cat err.txt)"

# --- a module override that is not a module
mkdir -p lp/glasshouse
cp "$ROOT/lua/run.lua" lp/
echo 'return 42' >lp/glasshouse/init.lua
GLASSHOUSE_LUA_PATH=$T/lp "$GH" run -- true 2>err.txt
expect_eq "an init.lua that returns 42: exit 125 and why" \
	"125|glasshouse: cannot load the glasshouse module: it returned a number, not a table (check GLASSHOUSE_LUA_PATH's glasshouse/init.lua)" \
	"$?|$(cat err.txt)"

# --- the collector unavailable: the command still runs, the receipt says why
mkdir -p badbpf
echo garbage >badbpf/glasshouse.bpf.o
rm -f receipt.json
GLASSHOUSE_BPF_DIR=$T/badbpf "$GH" run -- sh -c 'exit 4' 2>err.txt
expect_eq "collector unavailable: the command's status, libbpf's own words" \
	"4|glasshouse: collector: cannot open the BPF object: BPF object format invalid; running without it" \
	"$?|$(cat err.txt)"
jq_eq "collector unavailable: receipt" receipt.json '[.collector.status,.collector.complete,.collector.error]' \
	'["unavailable",false,"collector: cannot open the BPF object: BPF object format invalid"]'

# --- huge trees: a 5,000-process fan-out and a 1,000-deep chain, nothing lost
rm -f receipt.json
"$GH" run -- sh -c 'for i in $(seq 5000); do true & done; wait' 2>err.txt
expect_eq "5,000-process fan-out: exit 0" 0 $?
jq_eq "5,000-process fan-out: every process (and sh, seq), nothing lost" receipt.json \
	'[(.process_tree|length),.collector.status,.collector.lost,.collector.complete]' '[5002,"ok",0,true]'
make -s -C "$ROOT" build/tests/workload >/dev/null
rm -f receipt.json
"$GH" run -- "$ROOT/build/tests/workload" chain 1000 2>err.txt
expect_eq "1,000-deep chain: exit 0" 0 $?
jq_eq "1,000-deep chain: 1,001 processes, each the child of the one before, the deepest wrote" receipt.json \
	'[(.process_tree|length), ([.process_tree[]|{key:(.pid|tostring),value:.ppid}]|from_entries) as $p
	  | ([.process_tree[]|select($p[(.ppid|tostring)]!=null)]|length), .filesystem.writes[0],
	  .collector.lost]' "[1001,1000,\"$T/deepest\",0]"

finish
