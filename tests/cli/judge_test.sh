#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Judging receipts on the built binary, on real runs: glasshouse diff (and flaky.lua).
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
T=$(mktemp -d /tmp/gh-judge-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

# work DIR RECEIPT [EXTRA]: the same shell script in DIR (made fresh), with its receipt at
# RECEIPT; EXTRA is evaluated at its end (from the environment, so the argv stays the same).
WORK='echo hi >out.txt; cat out.txt; t=$(mktemp); echo x >"$t"; rm "$t"; eval "$EXTRA"'
work() {
	rm -rf "$1" && mkdir -p "$1"
	(cd "$1" && EXTRA=${3-} "$GH" run -o "$T/$2" -- sh -c "$WORK" >/dev/null 2>&1 </dev/null)
}
# gh_diff ARGS...: sets rc, out (stdout) and err (stderr).
gh_diff() {
	"$GH" diff "$@" >out.txt 2>err.txt
	rc=$?
	out=$(cat out.txt)
	err=$(cat err.txt)
}

# The collector is what makes two runs comparable beyond their outcome: CI must have it.
work a a.json
if [ "$(jq -r .collector.status a.json)" != ok ]; then
	if [ -n "${CI:-}" ]; then
		not_ok "diff needs the eBPF collector" "$(jq -c .collector a.json)"
	else
		ok "diff # SKIP no eBPF collector: $(jq -r .collector.error a.json)"
	fi
	finish
	exit
fi

work b b.json
gh_diff a.json b.json
expect_eq "identical work in two directories (and mktemp names): exit 0, nothing printed" "0||" \
	"$rc|$out|$err"

work c c.json 'echo >extra.txt'
gh_diff a.json c.json
expect_eq "an extra file: exit 1, + under files written and created, relative to the cwd" \
	"1|--- a.json|+++ c.json|files written|  + ./extra.txt|files created|  + ./extra.txt|" \
	"$rc|$(paste -sd'|' out.txt)|$err"

work c c.json '/bin/true'
gh_diff a.json c.json
expect_eq "an extra process: exit 1, + under processes with its place in the tree" \
	"1|--- a.json|+++ c.json|processes|  + /bin/true  [in sh]: exit 0, in ." \
	"$rc|$(paste -sd'|' out.txt)"

work c c.json 'exit 4'
gh_diff a.json c.json
expect_eq "a changed exit status: ~ for the process and in outcome" \
	"1|--- a.json|+++ c.json|processes|  ~ sh -c '$WORK': exit 0, in . -> exit 4, in .|outcome|  ~ exit status: 0 -> 4" \
	"$rc|$(paste -sd'|' out.txt)"
gh_diff --json a.json c.json
jq_eq "--json: the same change as data" out.txt '.sections.outcome' \
	'[{"change":"~","item":"exit status","old":"0","new":"4"}]'
gh_diff --color=always a.json c.json
expect_eq "--color=always: coloured ~ lines" "$(printf '  \033[33m~ exit status: 0 -> 4\033[0m')" \
	"$(grep 'exit status' out.txt)"

# Products come with the evidence issue; a hand-made filesystem.products stands in until then.
jq '.filesystem.products = [{"path": "'"$T"'/a/out.txt", "sha256": "'"$(printf 'a%.0s' {1..64})"'", "size": 3}]' \
	a.json >pa.json
jq '.filesystem.products = [{"path": "'"$T"'/b/out.txt", "sha256": "'"$(printf 'b%.0s' {1..64})"'", "size": 3}]' \
	b.json >pb.json
gh_diff pa.json pb.json
expect_eq "a changed product digest (hand-made filesystem.products)" \
	"1|--- pa.json|+++ pb.json|products|  ~ ./out.txt: aaaaaaaaaaaa -> bbbbbbbbbbbb" \
	"$rc|$(paste -sd'|' out.txt)"

echo '{"receipt_version": ' >broken.json
gh_diff a.json broken.json
expect_eq "broken input: exit 2, one line naming the file" \
	"2||glasshouse: diff: broken.json: not JSON: Expected value but found T_END at character 22" \
	"$rc|$out|$err"
gh_diff a.json nosuch.json
expect_eq "a missing file: exit 2, one line" \
	"2||glasshouse: diff: cannot read nosuch.json: No such file or directory" "$rc|$out|$err"
echo '[1]' >list.json
gh_diff list.json a.json
expect_eq "JSON that is no receipt: exit 2" \
	"2|glasshouse: diff: list.json: not a glasshouse receipt (no receipt_version, process_tree or filesystem)" \
	"$rc|$err"
gh_diff a.json
expect_eq "one receipt: a usage error" "2|glasshouse: diff takes two receipts, OLD and NEW; got 1" \
	"$rc|$(head -1 err.txt)"
gh_diff --color=sometimes a.json b.json
expect_eq "--color takes auto, always, never" \
	"2|glasshouse: option --color takes auto, always, never, got 'sometimes'" "$rc|$(head -1 err.txt)"
gh_diff --ignore 'log' a.json b.json
expect_eq "a relative --ignore glob: exit 2" \
	"2|glasshouse: diff: bad ignore glob: 'log' is relative: start it with /, ./, ~/ or **" "$rc|$err"
gh_diff a.json c.json --ignore '/etc/**' --ignore './**' --json
jq_eq "--ignore (repeated, after the operands) leaves out those paths" out.txt \
	'[.sections.written, .sections.read | length]' '[0,0]'

"$GH" script "$ROOT/lua/examples/flaky.lua" 3 -- sh -c 'echo same >/dev/null' >out.txt 2>&1
expect_eq "flaky.lua: a deterministic command: exit 0" "0|0 of 2 runs differed from the first" \
	"$?|$(tail -1 out.txt)"
rm -f n
"$GH" script "$ROOT/lua/examples/flaky.lua" 3 -- sh -c '[ -e n ] || : >n' >out.txt 2>&1
expect_eq "flaky.lua: a command that differs: exit 1, what differed" \
	"1|run 2 differs from run 1:|files written|  - ./n|files created|  - ./n|run 3 differs from run 1:|files written|  - ./n|files created|  - ./n|2 of 2 runs differed from the first" \
	"$?|$(paste -sd'|' out.txt)"

# --- show
# A run with many processes and files, and names that a terminal must not take as they are.
mkdir -p many && (cd many && "$GH" run -o "$T/many.json" -- sh -c \
	'for i in $(seq 1 30); do /bin/true; done; for i in $(seq 1 40); do : >"f$i"; done; mkdir odd; : >"odd/$(printf "n\\nl\\377")"' \
	>/dev/null 2>&1 </dev/null)
"$GH" show many.json >out.txt 2>err.txt
rc=$?
expect_eq "show: exit 0, the command first, nothing on stderr" \
	"0|command  sh -c 'for i in \$(seq 1 30); do /bin/true; done; for i in \$(seq 1 40);…|" \
	"$rc|$(head -1 out.txt)|$(cat err.txt)"
expect_eq "show: no line wider than 80 columns" "" \
	"$(python3 -c 'import sys; [print(len(l), l) for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if len(l) > 80]' out.txt)"
expect_eq "show: the result and the collector's completeness" \
	"result   exit 0|observed ok, complete: " \
	"$(sed -n 2p out.txt | cut -d, -f1)|$(sed -n 3p out.txt | sed 's/[0-9].*//')"
expect_eq "show: the tree, cut with a count" \
	"processes (35)|  ├─ seq 1 30|  ├─ /bin/true|  … and 23 more" \
	"$(grep -E '^processes|^  ├─ (seq 1 30|/bin/true) |more$' out.txt | sed 's/  *exit.*//' | sort -u | sort -r | head -4 | paste -sd'|')"
expect_eq "show: written files by directory with a count, cut after 3 lines" \
	"  $T/many/ (41)|    f1 [+w]  f10 [+w]  f11 [+w]  f12 [+w]  f13 [+w]  f14 [+w]  f15 [+w]|    … and 20 more" \
	"$(grep -A4 "^  $T/many/ " out.txt | sed -n '1p;2p;5p' | paste -sd'|')"
expect_eq "show: a name with a newline and an invalid byte, escaped" 1 "$(grep -A1 "^  $T/many/odd/ (1)" out.txt | grep -cx '    n\\nl\\xff \[+w\]')"
"$GH" show --color=always many.json >color.txt
expect_eq "show --color=always: bold titles; without a terminal: none" "1|0" \
	"$(grep -c $'^\033\\[1mprocesses' color.txt)|$(grep -c $'\033' out.txt)"
if command -v tmux >/dev/null; then
	tmux -L gh-judge-$$ new-session -d -x 80 -y 60 "$GH show many.json; sleep 30"
	sleep 1
	tmux -L gh-judge-$$ capture-pane -p -t 0 | sed -n '1,50p' | sed 's/ *$//' >pane.txt
	tmux -L gh-judge-$$ kill-server
	if diff <(sed -n '1,50p' out.txt | sed 's/ *$//') pane.txt >pane-diff.txt; then
		ok "show in tmux at 80 columns: the first 50 lines, none wrapped"
	else
		not_ok "show in tmux at 80 columns: the first 50 lines, none wrapped" "$(head -6 pane-diff.txt)"
	fi
elif [ -n "${CI:-}" ]; then
	not_ok "show in tmux" "tmux is not installed"
fi
"$GH" show pa.json >out.txt
expect_eq "show: products with short digests (hand-made filesystem.products)" \
	"products (1)|  $T/a/out.txt  aaaaaaaaaaaa  3 B" "$(grep -A1 '^products' out.txt | paste -sd'|')"
"$GH" show broken.json >out.txt 2>err.txt
expect_eq "show: broken input: exit 2, one line" \
	"2||glasshouse: show: broken.json: not JSON: Expected value but found T_END at character 22" \
	"$?|$(cat out.txt)|$(cat err.txt)"
"$GH" run --summary -o s.json -- sh -c 'echo out; exit 3' >out.txt 2>err.txt
rc=$?
"$GH" show s.json | head -3 >head.txt
expect_eq "run --summary: the command's status, then show's header lines on stderr" \
	"3|out|$(cat head.txt)" "$rc|$(cat out.txt)|$(cat err.txt)"

finish
