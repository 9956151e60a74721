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
# With SIGN=KEY set, the run is signed too (RECEIPT's attestation beside it).
WORK='echo hi >out.txt; cat out.txt; t=$(mktemp); echo x >"$t"; rm "$t"; eval "$EXTRA"'
work() {
	rm -rf "$1" && mkdir -p "$1"
	(cd "$1" && EXTRA=${3-} "$GH" run -o "$T/$2" ${SIGN:+--sign "$SIGN"} -- sh -c "$WORK" \
		>/dev/null 2>&1 </dev/null)
}
# gh_diff ARGS...: sets rc, out (stdout) and err (stderr).
gh_diff() {
	"$GH" diff "$@" >out.txt 2>err.txt
	rc=$?
	out=$(cat out.txt)
	err=$(cat err.txt)
}

# The collector is what makes two runs comparable beyond their outcome, and what tells the
# programs a policy's exec rules judge: CI must have it.
need_collector
work a a.json
work b b.json
gh_diff a.json b.json
expect_eq "identical work in two directories (and mktemp names): exit 0, nothing printed" "0||" \
	"$rc|$out|$err"

work c c.json 'echo >extra.txt'
gh_diff a.json c.json
expect_eq "an extra file: exit 1, + under files written and created and products, relative to the cwd" \
	"1|--- a.json|+++ c.json|files written|  + ./extra.txt|files created|  + ./extra.txt|products|  + ./extra.txt: $(printf '\n' | sha256sum | cut -c1-12)|" \
	"$rc|$(paste -sd'|' out.txt)|$err"

work c c.json '/bin/true'
gh_diff a.json c.json
expect_eq "an extra process: exit 1, + under processes with its place in the tree" \
	"1|--- a.json|+++ c.json|processes|  + /bin/true  [in sh]: exit 0, in ., exe $(sha256sum /bin/true | cut -c1-12)" \
	"$rc|$(paste -sd'|' out.txt)"

work c c.json 'exit 4'
gh_diff a.json c.json
SH12=$(sha256sum "$(readlink -f /bin/sh)" | cut -c1-12)
expect_eq "a changed exit status: ~ for the process and in outcome" \
	"1|--- a.json|+++ c.json|processes|  ~ sh -c '$WORK': exit 0, in ., exe $SH12 -> exit 4, in ., exe $SH12|outcome|  ~ exit status: 0 -> 4" \
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
	"1|run 2 differs from run 1:|files written|  - ./n|files created|  - ./n|products|  - ./n: e3b0c44298fc|run 3 differs from run 1:|files written|  - ./n|files created|  - ./n|products|  - ./n: e3b0c44298fc|2 of 2 runs differed from the first" \
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
	"$(sed -n '/^processes/,/^$/p' out.txt | grep -E '^processes|^  ├─ (seq 1 30|/bin/true) |more$' | sed 's/  *exit.*//' | sort -u | sort -r | head -4 | paste -sd'|')"
expect_eq "show: written files by directory with a count, cut after 3 lines" \
	"  $T/many/ (41)|    f1 [+w]  f10 [+w]  f11 [+w]  f12 [+w]  f13 [+w]  f14 [+w]  f15 [+w]|    … and 20 more" \
	"$(grep -A4 "^  $T/many/ " out.txt | sed -n '1p;2p;5p' | paste -sd'|')"
expect_eq "show: a name with a newline and an invalid byte, escaped" 1 "$(grep -A1 "^  $T/many/odd/ (1)" out.txt | grep -cx '    n\\nl\\xff \[+w\]')"
"$GH" show --color=always many.json >color.txt
expect_eq "show --color=always: bold titles; without a terminal: none" "1|0" \
	"$(grep -c $'^\033\\[1mprocesses' color.txt)|$(grep -c $'\033' out.txt)"
if command -v tmux >/dev/null; then
	tmux -L gh-judge-$$ new-session -d -x 80 -y 60 "$GH show many.json | head -50; sleep 30"
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

# --- attestations: diff, show and check read the receipt an attestation names
"$GH" keygen k >/dev/null 2>&1
SIGN=$T/k.key work sa sa.json
SIGN=$T/k.key work sc sc.json 'echo >extra.txt; exit 4'
gh_diff sa.json sc.json
want="$rc|$(tail -n +3 out.txt)"
gh_diff sa.intoto.jsonl sc.intoto.jsonl
expect_eq "diff of two attestations: the diff of their receipts (exit 1, the same sections)" \
	"$want|--- sa.intoto.jsonl|+++ sc.intoto.jsonl|" "$rc|$(tail -n +3 out.txt)|$(head -2 out.txt | paste -sd'|')|$err"
gh_diff --json sa.json sc.json
want=$(cat out.txt)
gh_diff --json sa.intoto.jsonl sc.json
expect_eq "diff --json: an attestation against a receipt, the same data" "1|$want" "$rc|$(cat out.txt)"
gh_diff sa.intoto.jsonl sa.json
expect_eq "diff of an attestation and its own receipt: exit 0" "0||" "$rc|$out|$err"
"$GH" show sa.json >want.txt
"$GH" show sa.intoto.jsonl >out.txt 2>err.txt
rc=$?
expect_eq "show of an attestation: the receipt's view, and a line saying what was read and that the signature was not verified" \
	"0||$(head -3 want.txt | paste -sd'|')|attested sa.intoto.jsonl -> sa.json, digest matches; signature not verified|$(tail -n +4 want.txt | paste -sd'|')" \
	"$rc|$(cat err.txt)|$(paste -sd'|' out.txt)"
mkdir -p tam && cp sa.intoto.jsonl sa.json tam/ && echo ' ' >>tam/sa.json
gh_diff tam/sa.intoto.jsonl sa.json
expect_eq "a tampered receipt beside its attestation: exit 2, one line naming both digests" \
	"2||glasshouse: diff: tam/sa.json: the receipt's SHA-256 is $(sha256sum tam/sa.json | cut -d' ' -f1), but tam/sa.intoto.jsonl records $(sha256sum sa.json | cut -d' ' -f1)" \
	"$rc|$out|$err"
"$GH" show tam/sa.intoto.jsonl >out.txt 2>err.txt
expect_eq "show: the same, exit 2" "2||glasshouse: show: tam/sa.json: the receipt's SHA-256 is" \
	"$?|$(cat out.txt)|$(cut -d' ' -f1-7 err.txt)"
rm tam/sa.json
gh_diff sa.json tam/sa.intoto.jsonl
expect_eq "an attestation whose receipt is missing: exit 2, one line" \
	"2||glasshouse: diff: tam/sa.intoto.jsonl: its receipt: cannot read tam/sa.json: No such file or directory" \
	"$rc|$out|$err"
jq -c '.payloadType = "application/vnd.example+json"' sa.intoto.jsonl >type.jsonl
gh_diff type.jsonl sa.json
expect_eq "a DSSE envelope whose payloadType is not in-toto: exit 2, one line" \
	"2||glasshouse: diff: type.jsonl: payloadType is 'application/vnd.example+json', not application/vnd.in-toto+json" \
	"$rc|$out|$err"
jq -c '.payload = "e30="' sa.intoto.jsonl >stmt.jsonl
gh_diff sa.json stmt.jsonl
expect_eq "an in-toto envelope whose payload is no Statement: exit 2" \
	"2|glasshouse: diff: stmt.jsonl: the payload is not an in-toto Statement v1 with a runtime-trace predicate" \
	"$rc|$err"
# payload FILTER [JQ-OPTIONS...]: sa.intoto.jsonl with its Statement changed by the jq FILTER
# (so no longer signed: reading an attestation does not check its signature)
payload() {
	local filter=$1
	shift
	jq -c --arg p "$(jq -r .payload sa.intoto.jsonl | base64 -d | jq -c "$@" "$filter" | base64 -w0)" \
		'.payload = $p' sa.intoto.jsonl
}
payload '.subject |= map(del(.annotations))' >nosub.jsonl
gh_diff nosub.jsonl sa.json
expect_eq "a Statement without a receipt subject: exit 2" \
	"2|glasshouse: diff: nosub.jsonl: no subject is marked as the receipt" "$rc|$err"
payload '.subject[-1].name = "../sa\njson"' >nl.jsonl
gh_diff nl.jsonl sa.json
expect_eq "a receipt name with a newline: still one line" \
	"2|glasshouse: diff: nl.jsonl: its receipt: cannot read ../sa\\x0ajson: No such file or directory" \
	"$rc|$err"
payload '.predicate.glasshouse.receipt = $r[0] | .subject = []' --slurpfile r sc.json >embed.jsonl
gh_diff sc.json embed.jsonl
expect_eq "an attestation whose predicate embeds the receipt (glasshouse.receipt): read from there" \
	"0||" "$rc|$out|$err"
"$GH" show embed.jsonl | grep '^attested' >out.txt
expect_eq "show: an embedded receipt says so" \
	"attested embed.jsonl -> the receipt it embeds; signature not verified" "$(cat out.txt)"

# --- policies
mkdir -p pol && cd pol
cat >build.lua <<'P'
return {
  name = "ci-build",
  exec = { allow = { "/usr/bin/**" } },
  read = { deny = { "/etc/shadow" } },
  write = { allow = { "./**", "/dev/null" } },
  rules = { function(ev) if ev.kind == "exec" and ev.exe == "/usr/bin/od" then return "no od" end end },
}
P
# pol_run ARGS...: glasshouse run in pol/; sets rc, out, err.
pol_run() {
	rm -f r.json
	"$GH" run -o r.json "$@" >out.txt 2>err.txt </dev/null
	rc=$?
	out=$(cat out.txt)
	err=$(cat err.txt)
}
pol_run --policy build.lua -- sh -c 'echo ok >mine.txt; cat mine.txt'
expect_eq "run --policy: a pass exits with the command's status, nothing on stderr" "0|ok||pass|[]" \
	"$rc|$out|$err|$(jq -r .policy.verdict r.json)|$(jq -c .policy.violations r.json)"
jq_eq "run --policy: the block names the policy and its file's sha256" r.json \
	'.policy | [.name, .source, .sha256, .enforced, .error]' \
	"[\"ci-build\",\"build.lua\",\"$(sha256sum build.lua | cut -d' ' -f1)\",false,null]"
pol_run --policy build.lua -- sh -c 'cat /etc/shadow >/dev/null; echo x >"$1"; od /dev/null; rm -f "$1"' sh "$T.out"
expect_eq "run --policy: a failing verdict exits 3 and lists the violations on stderr (with a rules function, events name each one's process)" \
	"3|glasshouse: policy ci-build: fail, 4 violations|  read.deny: read /etc/shadow matches deny '/etc/shadow' (pid N /usr/bin/cat)|  write.allow: write $T.out matches no allow entry (pid N /usr/bin/sh)|  rules[1]: no od (pid N /usr/bin/od)|  write.allow: write $T.out matches no allow entry (pid N /usr/bin/rm)|fail" \
	"$rc|$(sed 's/pid [0-9]*/pid N/' err.txt | paste -sd'|')|$(jq -r .policy.verdict r.json)"
jq_eq "run --policy: a rules function's violation names the event's pid and program" r.json \
	'[.policy.violations[] | select(.rule == "rules[1]") | [.kind, .exe, .path, .message, (.pid|type)]]' \
	'[["exec","/usr/bin/od",null,"no od","number"]]'
pol_run --policy build.lua -- sh -c 'cat /etc/shadow >/dev/null; exit 5'
expect_eq "run --policy: the command's own non-zero status wins over 3" "5|fail" \
	"$rc|$(jq -r .policy.verdict r.json)"
cat >many.lua <<'P'
return { write = { deny = { "./**" } } }
P
pol_run --policy many.lua -- sh -c 'for i in $(seq 1 15); do : >f$i; done'
expect_eq "run --policy: up to 10 violations on stderr, then a count" \
	"3|glasshouse: policy many.lua: fail, 15 violations|10|  … and 5 more" \
	"$rc|$(head -1 err.txt)|$(grep -c '^  write.deny' err.txt)|$(tail -1 err.txt)"
printf 'return {\n  rules = { function(ev)\n    if ev.kind == "exit" then error("boom") end\n  end },\n}\n' >raise.lua
pol_run --policy raise.lua -- true
expect_eq "run --policy: a raising rules function is an error, not a pass: 125, file:line, receipt written" \
	"125|glasshouse: policy raise.lua: error, 0 violations|  error: rules[1]: raise.lua:3: boom|error|rules[1]: raise.lua:3: boom" \
	"$rc|$(paste -sd'|' err.txt)|$(jq -r .policy.verdict r.json)|$(jq -r .policy.error r.json)"
printf 'return {\n  finally = function(r) return r.x.y end,\n}\n' >fin.lua
pol_run --policy fin.lua -- true
expect_eq "run --policy: a raising finally too" "125|error|finally: fin.lua:2: attempt to index a nil value (field 'x')" \
	"$rc|$(jq -r .policy.verdict r.json)|$(jq -r .policy.error r.json)"
for bad in 'return {\n  read = { deny = { "/etc" }\n' 'return {\n  name = "x",\n  wirte = {},\n}\n' \
	'return {\n  exec = { allow = { "usr/**" } },\n}\n'; do
	printf "$bad" >broken.lua
	pol_run --policy broken.lua -- sh -c 'echo RAN; : >ran'
	printf '%s|%s|%s\n' "$rc" "$(head -1 err.txt)" "$out$([ -e ran ] || [ -e r.json ] && echo ' and it ran')"
done >broken.txt
expect_eq "a broken policy: exit 2 with file:line, and the command does not run" \
	"2|glasshouse: broken.lua:3: '}' expected (to close '{' at line 2) near <eof>|
2|glasshouse: broken.lua:3: unknown key 'wirte' (known: name, exec, read, write, connect, rules, finally, enforce)|
2|glasshouse: broken.lua:2: bad glob in exec.allow: 'usr/**' is relative: start it with /, ./, ~/ or **|" \
	"$(cat broken.txt)"
expect_eq "a broken policy: the message is the only line on stderr (no usage text)" "1" \
	"$(wc -l <err.txt)"
printf 'return {\n  read = { deny = { "~/.ssh/**" } },\n}\n' >tilde.lua
rm -f ran r.json
env -u HOME "$GH" run -o r.json --policy tilde.lua -- sh -c ': >ran' >out.txt 2>err.txt </dev/null
expect_eq "a ~ glob with HOME unset: run refuses the policy (exit 2, file:line), the command does not run" \
	"2|glasshouse: tilde.lua:2: bad glob in read.deny: '~' needs a home directory (\$HOME is unset)|no" \
	"$?|$(cat err.txt)|$([ -e ran ] || [ -e r.json ] && echo ran || echo no)"
"$GH" run -o r.json -- true >/dev/null 2>&1
env -u HOME "$GH" check --policy tilde.lua r.json >out.txt 2>err.txt
expect_eq "a ~ glob with HOME unset: check refuses it too (exit 2)" \
	"2|glasshouse: tilde.lua:2: bad glob in read.deny: '~' needs a home directory (\$HOME is unset)" \
	"$?|$(cat err.txt)"
printf 'return { enforce = true }\n' >enforce.lua
pol_run --policy enforce.lua -- sh -c ': >ran'
expect_eq "enforce = true with nothing to deny: the command runs and passes, exit 0" \
	"0||ran" "$rc|$err|$([ -e ran ] && echo ran || echo no)"
jq_eq "enforce = true: policy.enforced, no kind enforced, not stopped, not killed" r.json \
	'[.policy.enforced, .policy.enforcement, .outcome.killed_by_policy]' \
	'[true,{"exec":null,"read":null,"write":null,"connect":null,"rules":null,"stopped":false,"trigger":null},false]'
pol_run --policy build.lua -- true
jq_eq "without enforcement: policy.enforcement is null, outcome.killed_by_policy false" r.json \
	'[.policy.enforced, .policy.enforcement, .outcome.killed_by_policy]' '[false,null,false]'
rm -f ran
pol_run --policy build.lua --enforce -- sh -c 'echo x >"$1"; sleep 10; : >ran' sh "$T.out"
expect_eq "--enforce: a write the policy denies stops the command at the open (the kernel decides build.lua's write rules): exit 3, what the command would do next never happens" \
	"3|glasshouse: policy ci-build: fail, 1 violation|  write.allow: write $T.out matches no allow entry (pid N /usr/bin/sh)|  stopped the command (by the kernel) at write.allow: write $T.out matches no allow entry (pid N /usr/bin/sh)|no" \
	"$rc|$(sed 's/pid [0-9]*/pid N/g' err.txt | paste -sd'|')|$([ -e ran ] && echo ran || echo no)"
jq_eq "--enforce: the modes of build.lua's kinds, the trigger, killed_by_policy" r.json \
	'[.policy.enforcement | .exec, .read, .write, .connect, .rules, .stopped, .trigger.by, .trigger.event.kind, .trigger.violation.rule], .outcome.killed_by_policy, .outcome.signal' \
	'["kernel","kernel","kernel",null,"user",true,"kernel","open","write.allow"]
true
"SIGKILL"'
rm -f "$T.out"
pol_run --policy build.lua --enforce -- sh -c 'cat /etc/shadow >/dev/null; exit 5'
expect_eq "--enforce: when glasshouse stopped the tree, 3 wins over the command's own status" "3|fail|true" \
	"$rc|$(jq -r .policy.verdict r.json)|$(jq -r .outcome.killed_by_policy r.json)"
pol_run --enforce -- true
expect_eq "--enforce without --policy: a usage error" "2|glasshouse: --enforce needs --policy FILE.lua" \
	"$rc|$(head -1 err.txt)"
rm -f ran
GLASSHOUSE_BPF_DIR=/nonexistent pol_run --policy enforce.lua -- sh -c ': >ran'
expect_eq "enforcement without the collector: refused with one line, exit 2, nothing runs" \
	"2|glasshouse: enforcement needs the eBPF collector: collector: |no" \
	"$rc|$(head -1 err.txt | cut -d'(' -f1 | sed 's/cannot read.*//;s/no kernel BTF.*//;s/loading.*//')|$([ -e ran ] && echo ran || echo no)"

GLASSHOUSE_BPF_DIR=/nonexistent pol_run --policy build.lua -- true
expect_eq "run --policy without the collector: the pass says it covers only what was seen" \
	"0|glasshouse: policy ci-build: the collector was not complete (" \
	"$rc|$(grep '^glasshouse: policy' err.txt | cut -d'(' -f1)("

# connect: a refused loopback connect and a unix socket, allowed and denied by destination.
printf 'return {\n  connect = { allow = { "127.0.0.1:*" }, deny = { "*:9" } },\n}\n' >net.lua
pol_run --policy net.lua -- bash -c 'echo >/dev/tcp/127.0.0.1/1; echo >/dev/tcp/127.0.0.1/9; python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect_ex(\"/nonexistent.sock\")"' 
jq_eq "connect: allow and deny by destination (ip:port, unix:/path), deny wins, with pid and program" r.json \
	'[.policy.violations[] | '"$NOT_NSCD"' | [.rule, .dst, (.pid|type), (.exe|test("bash|python"))]]' \
	'[["connect.deny","127.0.0.1:9","number",true],["connect.allow","unix:/nonexistent.sock","number",true]]'

# Names with spaces, newlines and bytes that are not UTF-8, matched by ./ globs.
printf 'return { write = { deny = { "./sp ace", "./nl\\nx", "./\\255*" } } }\n' >odd.lua
pol_run --policy odd.lua -- sh -c ': >"sp ace"; : >"$(printf "nl\\nx")"; : >"$(printf "\\377\\376")"; : >plain'
expect_eq "globs match names with spaces, newlines and invalid UTF-8 byte for byte" \
	"[b'nl\\nx', b'sp ace', b'\\xff\\xfe']" "$(python3 -c 'import json, os
print([os.path.basename(os.fsencode(v["path"])) for v in json.load(open("r.json"))["policy"]["violations"]])')"

# check: the same verdict offline.
pol_run --policy build.lua -- sh -c 'cat /etc/shadow >/dev/null; od /dev/null'
cp r.json fail.json
pol_run -- sh -c 'echo ok'
cp r.json pass.json
"$GH" show fail.json >out.txt
expect_eq "show: a policy's verdict in the header, its violations apart" \
	"policy   ci-build: fail, 2 violations|policy violations (2)|  read.deny: read /etc/shadow matches deny '/etc/shadow'|  rules[1]: no od" \
	"$(grep '^policy   ' out.txt)|$(grep -A2 '^policy violations' out.txt | paste -sd'|')"
"$GH" check --policy build.lua pass.json >out.txt 2>&1
expect_eq "check: a pass exits 0, and says the rules functions were skipped" \
	"0|pass.json: policy ci-build: pass, 0 violations|pass.json: rules functions skipped: a receipt holds no events (check --events LOG)" \
	"$?|$(paste -sd'|' out.txt)"
"$GH" check --policy build.lua pass.json fail.json >out.txt 2>&1
expect_eq "check: a failing receipt exits 3 and prints each violation on a line" \
	"3|fail.json: policy ci-build: fail, 1 violation|  read.deny: read /etc/shadow matches deny '/etc/shadow'" \
	"$?|$(grep -A1 '^fail.json: policy' out.txt | paste -sd'|')"
"$GH" check --policy build.lua nosuch.json >out.txt 2>err.txt
expect_eq "check: an unreadable receipt exits 2" "2|glasshouse: check: cannot read nosuch.json: No such file or directory" \
	"$?|$(cat err.txt)"
"$GH" check --policy broken.lua pass.json >out.txt 2>err.txt
expect_eq "check: a broken policy exits 2 with file:line" "2|glasshouse: broken.lua:2: bad glob in exec.allow: 'usr/**' is relative: start it with /, ./, ~/ or **" \
	"$?|$(head -1 err.txt)"
"$GH" check pass.json >out.txt 2>err.txt
expect_eq "check without --policy: a usage error" "2|glasshouse: check needs --policy FILE.lua" \
	"$?|$(head -1 err.txt)"
pol_run --policy raise.lua -- true
cp r.json error.json
if python3 "$ROOT/tests/cli/validate.py" "$ROOT/docs/receipt.schema.json" pass.json fail.json error.json >schema.txt 2>&1; then
	ok "receipts with a policy block validate against docs/receipt.schema.json"
else
	not_ok "receipts with a policy block validate against docs/receipt.schema.json" "$(head -5 schema.txt)"
fi
"$GH" check --policy fin.lua pass.json >out.txt 2>err.txt
expect_eq "check: a raising finally exits 125" "125|pass.json: policy fin.lua: error, 0 violations" \
	"$?|$(head -1 out.txt)"

# check on attestations, and with the run's event log.
# gh_check ARGS...: glasshouse check; sets rc, out (its lines joined by |) and err.
gh_check() {
	"$GH" check "$@" >out.txt 2>err.txt
	rc=$?
	out=$(paste -sd'|' out.txt)
	err=$(cat err.txt)
}
# live NAME: the live run's verdict and violations (live.txt) as check prints them for NAME.
live() { sed "1s|^|$1: |" live.txt | paste -sd'|'; }
pol_run --policy build.lua --sign "$T/k.key" --events ev.jsonl -- sh -c 'cat /etc/shadow >/dev/null; od /dev/null'
sed 's/^glasshouse: //' err.txt >live.txt
expect_eq "run --policy --events: a rules function flags an exec, exit 3" "3|fail|2" \
	"$rc|$(jq -r .policy.verdict r.json)|$(grep -c '^  ' live.txt)"
gh_check --policy build.lua r.intoto.jsonl
expect_eq "check on an attestation: the verdict on the receipt it names (no events: the glob rules only)" \
	"3||r.intoto.jsonl: policy ci-build: fail, 1 violation|  read.deny: read /etc/shadow matches deny '/etc/shadow'|r.intoto.jsonl: rules functions skipped: a receipt holds no events (check --events LOG)" \
	"$rc|$err|$out"
gh_check --policy build.lua --events ev.jsonl r.json
expect_eq "check --events LOG RECEIPT: the live run's violations, exit 3" \
	"3||$(live r.json)|r.json: rules functions saw the events of ev.jsonl" "$rc|$err|$out"
gh_check --policy build.lua r.intoto.jsonl --events ev.jsonl
expect_eq "check --events LOG ATTESTATION: the same" \
	"3||$(live r.intoto.jsonl)|r.intoto.jsonl: rules functions saw the events of ev.jsonl" \
	"$rc|$err|$out"
gh_check --policy build.lua --events ev.jsonl
expect_eq "check --events LOG alone: the receipt replayed from the log, the same violations" \
	"3||$(live ev.jsonl)|ev.jsonl: rules functions saw its events, the receipt is replayed from it" \
	"$rc|$err|$out"
gh_check --policy build.lua --events ev.jsonl pass.json
expect_eq "check --events with the receipt of another run: exit 2, one line naming both" \
	"2||glasshouse: check: ev.jsonl is the event log of another run (execution_id $(jq -r .execution_id r.json); pass.json has $(jq -r .execution_id pass.json))" \
	"$rc|$out|$err"
gh_check --policy build.lua --events ev.jsonl r.json pass.json
expect_eq "check --events with two receipts: a usage error" \
	"2|glasshouse: check --events takes the receipt of the logged run, or none; got 2" \
	"$rc|$(head -1 err.txt)"
gh_check --policy build.lua --events r.json
expect_eq "check --events with a file that is no event log: exit 2" \
	"2||glasshouse: check: r.json: not a glasshouse event log" "$rc|$out|$err"
head -n 20 ev.jsonl >cut.jsonl
gh_check --policy build.lua --events cut.jsonl r.json
expect_eq "check --events with a cut log: judged, with a note on what the log lacks" \
	"r.json: note: cut.jsonl:21: the log ends before its end line; the verdict covers the events it holds" \
	"$(grep 'cut.jsonl:' out.txt)"
cd "$T"

# --- exec rules on a #! script run through an exec chain (`env ./s.sh`; the script forks a
# child that only runs echo, and one that execs cat): run --policy, check on the receipt alone
# and check --events give the same violations, whether events reach Lua (a rules function) or not.
mkdir -p ex && cd ex
printf '#!/bin/sh\necho hi | cat\n' >s.sh
chmod 755 s.sh
DASH=$(readlink -f /bin/sh)
# ex_judge NAME RULES WANT: `env ./s.sh` under exec = RULES; WANT is the violations as run and
# check print them (`|` between), PID standing for the script's process's pid.
ex_judge() {
	local fn pid
	for fn in "" "rules = { function() end }, "; do
		printf 'return { %sexec = %s }\n' "$fn" "$2" >ex.lua
		pol_run --events ev.jsonl --policy ex.lua -- /usr/bin/env ./s.sh
		pid=$(jq .process_tree[0].pid r.json)
		local ran="$rc|$out|$(sed -n 's/^  //p' err.txt | paste -sd'|')" checked events
		"$GH" check --policy ex.lua r.json >out.txt 2>&1
		checked="$?|$(sed -n 's/^  //p' out.txt | paste -sd'|')"
		"$GH" check --policy ex.lua --events ev.jsonl r.json >out.txt 2>&1
		events="$?|$(sed -n 's/^  //p' out.txt | paste -sd'|')"
		expect_eq "$1 (${fn:+with a rules function: }run --policy, check, check --events)" \
			"3|hi|${3//PID/$pid}|3|${3//PID/$pid}|3|${3//PID/$pid}" "$ran|$checked|$events"
	done
}
ex_judge "exec: a script whose interpreter is denied, judged at the script's process alone" \
	"{ deny = { \"$DASH\" } }" \
	"exec.deny: exec $DASH matches deny '$DASH' (pid PID $DASH)"
ex_judge "exec: a script whose own path is denied" '{ deny = { "./*.sh" } }' \
	"exec.deny: exec $T/ex/s.sh matches deny './*.sh' (pid PID $DASH)"
ex_judge "exec: an exec chain whose first program is denied" '{ deny = { "/usr/bin/env" } }' \
	"exec.deny: exec /usr/bin/env matches deny '/usr/bin/env' (pid PID /usr/bin/env)"
ex_judge "exec: every program of the chain, in order, the script and its interpreter" \
	'{ allow = { "/usr/bin/cat" } }' \
	"exec.allow: exec /usr/bin/env matches no allow entry (pid PID /usr/bin/env)|exec.allow: exec $T/ex/s.sh matches no allow entry (pid PID $DASH)|exec.allow: exec $DASH matches no allow entry (pid PID $DASH)"
cd "$T"

finish
