#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `glasshouse repl` in a real terminal (tmux): expressions, tables, continuation lines, Ctrl-C
# interrupting a running chunk, gh.run and gh.last, errors, Ctrl-D, the history file.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
T=$(mktemp -d /tmp/gh-repl-XXXXXX)
S=gh-repl-test-$$
trap 'tmux kill-session -t "$S" 2>/dev/null; rm -rf "$T"' EXIT

# The pane gets its environment from the tmux server, which may be older than this test: pass
# the sanitizers' settings on (run-all.sh's asan-cli).
tmux new-session -d -s "$S" -x 200 -y 80 -e "ASAN_OPTIONS=${ASAN_OPTIONS:-}" \
	-e "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}" \
	"cd $T && GLASSHOUSE_HISTORY=$T/history $GH repl; echo REPL-EXIT=\$?; sleep 60"
# wait_for TEXT: until the pane shows TEXT (5 s at most)
wait_for() {
	for _ in $(seq 50); do
		tmux capture-pane -t "$S" -p -S -200 | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
send() { tmux send-keys -t "$S" "$@"; }

wait_for "gh>" && ok "the prompt appears" || not_ok "the prompt appears"
send '40 + 2' Enter
wait_for "42" && ok "an expression prints its value" || not_ok "an expression prints its value"
send 't = {a = {b = 1}, "s"}' Enter 't' Enter
wait_for 'b = 1' && ok "a table prints with its nesting" || not_ok "a table prints with its nesting"
send 'long = {} for i = 1, 50 do long[i] = i end' Enter 'long' Enter
wait_for '... (30 more)' && ok "a long table is cut with a count" || not_ok "a long table is cut with a count"
send 'for i = 1,' Enter
wait_for '..>' && ok "incomplete input continues" || not_ok "incomplete input continues"
send '3 do z = i end' Enter 'z * 10' Enter
wait_for '30' && ok "the continued chunk ran" || not_ok "the continued chunk ran"
send 'while true do end' Enter
sleep 0.5
send C-c
wait_for 'interrupted' && ok "Ctrl-C interrupts a running chunk" || not_ok "Ctrl-C interrupts a running chunk"
send 'r = gh.run({"sh", "-c", "exit 3"}, {output = false})' Enter 'r.outcome.exit_code + 100' Enter
wait_for '103' && ok "gh.run returns the receipt" || not_ok "gh.run returns the receipt"
send '#gh.last.events > 1, gh.last.events[#gh.last.events].kind' Enter
wait_for '"exit"' && ok "gh.last.events holds the run's events" || not_ok "gh.last.events holds the run's events"
send 'error("boom")' Enter
wait_for 'stdin:1: boom' && ok "an error prints and the prompt stays" || not_ok "an error prints and the prompt stays"
send C-d
wait_for 'REPL-EXIT=0' && ok "Ctrl-D leaves with status 0" || not_ok "Ctrl-D leaves with status 0"
grep -qxF '40 + 2' "$T/history" && grep -qxF 'z * 10' "$T/history" && ok "history is saved" ||
	not_ok "history is saved" "$(cat "$T/history" 2>&1)"

# A glasshouse/init.lua from GLASSHOUSE_LUA_PATH that is no module (it was a Lua panic here).
mkdir -p "$T/lp/glasshouse" && echo 'return 42' >"$T/lp/glasshouse/init.lua"
GLASSHOUSE_LUA_PATH=$T/lp "$GH" repl </dev/null >/dev/null 2>"$T/err"
expect_eq "an init.lua that returns 42: exit 125 and why" \
	"125|glasshouse: cannot load the glasshouse module: it returned a number, not a table (check GLASSHOUSE_LUA_PATH's glasshouse/init.lua)" \
	"$?|$(cat "$T/err")"
finish
