#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The glasshouse command line on the built binary: statuses, receipts, signals, usage errors.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
T=$(mktemp -d /tmp/gh-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
EMPTY=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
HELLO=5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03

# run_gh ARGS...: run glasshouse in a fresh directory; sets rc, out, err.
run_gh() {
	rm -f receipt.json
	"$GH" "$@" >out.txt 2>err.txt </dev/null
	rc=$?
}

run_gh run -- true
expect_eq "true exits 0" 0 "$rc"
jq_eq "true: outcome" receipt.json .outcome '{"exit_code":0,"signal":null,"error":null,"received_signal":null,"killed_by_policy":false}'
jq_eq "true: empty output hashes" receipt.json '[.artifacts.stdout_hash,.artifacts.stderr_hash]' "[\"$EMPTY\",\"$EMPTY\"]"
cp receipt.json true.json

run_gh run false
expect_eq "false exits 1 (no -- needed)" 1 "$rc"
jq_eq "false: exit_code and legacy copy" receipt.json '[.outcome.exit_code,.exit_code]' '[1,1]'

run_gh run /bin/does-not-exist
expect_eq "missing binary exits 1" 1 "$rc"
jq_eq "missing binary: error names command and reason" receipt.json .outcome.error '"/bin/does-not-exist: No such file or directory"'
cp receipt.json missing.json

run_gh run -- sh -c 'exit 7'
expect_eq "sh -c 'exit 7' exits 7" 7 "$rc"
jq_eq "exit 7 in receipt" receipt.json .outcome.exit_code 7

run_gh run -- echo hello
expect_eq "echo hello passes stdout through" "hello" "$(cat out.txt)"
jq_eq "echo hello: exact stdout hash" receipt.json .artifacts.stdout_hash "\"$HELLO\""
jq_eq "echo hello: argv and exe" receipt.json '.process_tree[0]|[.argv,.exe]' '[["echo","hello"],"/usr/bin/echo"]'

run_gh run -- sh -c 'echo oops >&2'
expect_eq "stderr passes through" "oops" "$(cat err.txt)"
jq_eq "stderr hash" receipt.json .artifacts.stderr_hash "\"$(printf 'oops\n' | sha256sum | cut -c1-64)\""

for args in "" "--bogus" "frobnicate" "run" "run --bogus true" "run -o" "script"; do
	# shellcheck disable=SC2086
	run_gh $args
	first=$(head -1 err.txt)
	if [ "$rc" -eq 2 ] && [ ! -e receipt.json ] && grep -q '^usage: glasshouse run' err.txt; then
		ok "usage error '$args': exit 2, usage, no receipt ($first)"
	else
		not_ok "usage error '$args'" "rc=$rc receipt=$([ -e receipt.json ] && echo yes)" "$first"
	fi
done
run_gh run --bogus true
expect_eq "unknown flag named in one line" "glasshouse: unknown option '--bogus'" "$(head -1 err.txt)"
run_gh run
expect_eq "no command named" "glasshouse: no command given" "$(head -1 err.txt)"
GLASSHOUSE_RING_KB=abc run_gh run -- true
expect_eq "a bad GLASSHOUSE_RING_KB: exit 2, no receipt" "2 no" "$rc $([ -e receipt.json ] && echo yes || echo no)"
expect_eq "and one line naming it" \
	"glasshouse: GLASSHOUSE_RING_KB must be a power of two from 4 to 4194304, got 'abc'" "$(head -1 err.txt)"
GLASSHOUSE_MAX_SOCKETS=0 run_gh run -- true
expect_eq "a bad GLASSHOUSE_MAX_SOCKETS is named" \
	"2 glasshouse: GLASSHOUSE_MAX_SOCKETS must be a whole number from 1 to 16777216, got '0'" \
	"$rc $(head -1 err.txt)"
# Plain decimal only: tonumber took all of these.
for v in 0x1000 " 16" 4096.0 +16 "16 " 010 1e3; do
	GLASSHOUSE_RING_KB=$v run_gh run -- true
	expect_eq "GLASSHOUSE_RING_KB='$v' is a usage error, no receipt" \
		"2 no glasshouse: GLASSHOUSE_RING_KB must be a power of two from 4 to 4194304, got '$v'" \
		"$rc $([ -e receipt.json ] && echo yes || echo no) $(head -1 err.txt)"
done
GLASSHOUSE_MAX_SOCKETS=" 16" run_gh run -- true
expect_eq "GLASSHOUSE_MAX_SOCKETS=' 16' is a usage error" \
	"2 glasshouse: GLASSHOUSE_MAX_SOCKETS must be a whole number from 1 to 16777216, got ' 16'" \
	"$rc $(head -1 err.txt)"
GLASSHOUSE_RING_KB=4096 GLASSHOUSE_MAX_SOCKETS=16 run_gh run -- true
expect_eq "plain decimal settings are taken" "0" "$rc"
run_gh run --backend-opt a-b=x -- true
expect_eq "--backend-opt with a bad key is a usage error" \
	"2 glasshouse: --backend-opt needs KEY=VALUE, got 'a-b=x'" "$rc $(head -1 err.txt)"

# --wait-all[=SECONDS]: the value only after "=", plain decimal seconds; anything else exit 2.
for v in abc "" -1 1e3 0x10 " 2" 2. inf nan 1000000001; do
	run_gh run "--wait-all=$v" -- true
	expect_eq "--wait-all='$v': usage error, one line naming it, no receipt" \
		"2 no glasshouse: option --wait-all takes a number of seconds from 0 to 1e9 (such as 2.5), got '$v'" \
		"$rc $([ -e receipt.json ] && echo yes || echo no) $(head -1 err.txt)"
done
run_gh run --wait-all -- true
jq_eq "--wait-all alone: no limit" receipt.json '[.execution.wait_all,.execution.wait_all_timeout_ms]' '[true,null]'
run_gh run --wait-all=2.5 -- true
jq_eq "--wait-all=2.5: 2500 ms at most" receipt.json '[.execution.wait_all,.execution.wait_all_timeout_ms]' '[true,2500]'
run_gh run --wait-all=.5 true
jq_eq "--wait-all=.5: 500 ms, the command after it" receipt.json \
	'[.execution.wait_all_timeout_ms,.process_tree[0].argv]' '[500,["true"]]'
run_gh run --wait-all 5 -- true
expect_eq "--wait-all 5: the 5 is the command (the value needs =)" "1 glasshouse: 5: No such file or directory" \
	"$rc $(head -1 err.txt)"
run_gh run -- true
jq_eq "without --wait-all: the receipt says so" receipt.json '[.execution.wait_all,.execution.wait_all_timeout_ms]' '[false,null]'

run_gh run -- sh -c 'kill -KILL $$'
expect_eq "SIGKILLed child: exit 137" 137 "$rc"
jq_eq "SIGKILLed child: signal named" receipt.json '[.outcome.signal,.outcome.exit_code]' '["SIGKILL",137]'

rm -f receipt.json
"$GH" run -- sleep 30 >/dev/null 2>&1 &
ghpid=$!
sleep 0.5
kill -TERM $ghpid
wait $ghpid
rc=$?
expect_eq "SIGTERM to glasshouse: forwarded, exit 143" 143 "$rc"
jq_eq "SIGTERM: receipt written with both signals" receipt.json '[.outcome.signal,.outcome.received_signal]' '["SIGTERM","SIGTERM"]'

rm -f receipt.json
# With job control, so the background job does not start with SIGINT ignored (glasshouse, like
# any program, keeps an ignored signal ignored, and so does its command).
set -m
rm -f trapped
"$GH" run -- sh -c 'trap "exit 3" INT; : >trapped; sleep 5 & wait' >/dev/null 2>&1 &
ghpid=$!
set +m
# Not before the trap is set (a slow start, under ASan, let SIGINT find sh without it: 130).
for _ in $(seq 500); do
	[ -e trapped ] && break
	sleep 0.01
done
kill -INT $ghpid
wait $ghpid
rc=$?
expect_eq "SIGINT to glasshouse: a command that handles it decides the status" 3 "$rc"
jq_eq "SIGINT: recorded as received" receipt.json '[.outcome.exit_code,.outcome.received_signal]' '[3,"SIGINT"]'

run_gh run -o custom.json -- true
if [ -s custom.json ] && [ ! -e receipt.json ]; then ok "-o writes the named file only"; else not_ok "-o writes the named file only"; fi
run_gh run --output=sub.json true
if [ -s sub.json ]; then ok "--output=FILE"; else not_ok "--output=FILE"; fi
leftover=$(ls ./*.tmp.* 2>/dev/null | wc -l)
expect_eq "atomic write leaves no temp file" 0 "$leftover"

run_gh run -o /nonexistent/dir/r.json -- true
expect_eq "unwritable receipt: exit 125" 125 "$rc"
expect_eq "unwritable receipt: one line naming it" "glasshouse: cannot write /nonexistent/dir/r.json: No such file or directory" "$(cat err.txt)"

out=$(echo "piped input" | "$GH" run -- cat 2>/dev/null)
expect_eq "stdin is passed to the command" "piped input" "$out"

run_gh script "$ROOT/lua/run.lua" -o script.json -- sh -c 'exit 4'
expect_eq "script lua/run.lua does what run does" 4 "$rc"
jq_eq "script run.lua receipt" script.json '[.outcome.exit_code,.process_tree[0].argv]' '[4,["sh","-c","exit 4"]]'

echo 'error("kaboom")' >bad.lua
run_gh script bad.lua -- true
expect_eq "script error: exit 125" 125 "$rc"
expect_eq "script error: file:line: message" "glasshouse: bad.lua:1: kaboom" "$(head -1 err.txt)"
if grep -q 'stack traceback' err.txt; then ok "script error: traceback"; else not_ok "script error: traceback"; fi

printf 'local gh = require "glasshouse"\nprint(#arg, arg[1], #gh.command, gh.command[2])\nreturn 9\n' >args.lua
run_gh script args.lua one -- echo two
expect_eq "script sees its args and gh.command" "1	one	2	two" "$(cat out.txt)"
expect_eq "script's returned integer is the exit status" 9 "$rc"

run_gh --version
expect_eq "--version" "glasshouse 0.3.0" "$(cat out.txt)"
run_gh --help
if [ "$rc" -eq 0 ] && grep -q 'glasshouse script FILE.lua' out.txt && grep -q 'glasshouse repl' out.txt; then
	ok "--help lists run, script and repl"
else
	not_ok "--help lists run, script and repl"
fi

run_gh run --guest -- sh -c 'sleep 0.2 & exit 6'
expect_eq "--guest mirrors the status while reaping" 6 "$rc"
# Raising RLIMIT_MEMLOCK needs CAP_SYS_RESOURCE, which a sandboxed root may lack: then it is a note.
jq_eq "--guest recorded, failures as notes only" receipt.json \
	'[.execution.guest.memlock_raised or (.execution.guest.errors|index("raise RLIMIT_MEMLOCK: Operation not permitted") != null), .outcome.error]' '[true,null]'

run_gh run --backend firecracker --backend-opt kernel=/nonexistent/vmlinux -- true
expect_eq "firecracker backend: exit 1" 1 "$rc"
jq_eq "firecracker backend: errors and metadata" receipt.json '[.outcome.error,.execution.backend,.execution.isolation]' \
	'["firecracker backend: /nonexistent/vmlinux: No such file or directory; firecracker backend: starting a microVM is not implemented","firecracker","vm"]'

cp receipt.json fc.json
run_gh run --backend vmware true
expect_eq "unknown backend is a usage error" 2 "$rc"

if python3 "$ROOT/tests/cli/validate.py" "$ROOT/docs/receipt.schema.json" true.json missing.json fc.json script.json >schema.txt 2>&1; then
	ok "receipts validate against docs/receipt.schema.json"
else
	not_ok "receipts validate against docs/receipt.schema.json" "$(head -5 schema.txt)"
fi

finish
