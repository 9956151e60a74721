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

finish
