#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# glasshouse under valgrind's memcheck: no error, at the BPF syscall boundary included (buffers
# the kernel fills are initialised first), and no definite leak. libbpf's own false positives are
# suppressed in tests/valgrind.supp, which the repository's .valgrindrc names, so the plain
# command works from the top of the tree. With eBPF (root, or CI=true where it must work) the receipt
# is checked too; elsewhere that part is skipped.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
T=$(mktemp -d /tmp/gh-valgrind-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

if ! command -v valgrind >/dev/null; then
	not_ok "valgrind is installed (make deps)"
	finish
	exit 1
fi
VG=(valgrind --error-exitcode=9 --suppressions="$ROOT/tests/valgrind.supp" --log-file="$T/vg.log")

# vg NAME WANT-RC VALGRIND-OPTIONS... -- GLASSHOUSE-ARGS...: memcheck's status, with its report.
vg() {
	local name=$1 want=$2 opts=()
	shift 2
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	rm -f receipt.json
	"${VG[@]}" "${opts[@]}" "$GH" "$@" >out.txt 2>err.txt </dev/null
	local rc=$? report
	mapfile -t report < <(grep -E '^==[0-9]+== +[^ ]' "$T/vg.log" | sed '1,/Parent PID:/d' | head -40)
	if [ "$rc" -eq "$want" ]; then ok "$name"; else not_ok "$name" "exit $rc" "${report[@]}"; fi
}

# The command as a user types it at the top of the tree (./.valgrindrc adds the suppressions;
# valgrind reads it only when HOME is set, as it is in a user's shell but not in CI's).
(cd "$ROOT" && HOME=${HOME:-$T} valgrind --error-exitcode=9 --log-file="$T/vg.log" ./glasshouse run -o "$T/receipt.json" \
	-- /bin/true >"$T/out.txt" 2>"$T/err.txt" </dev/null)
rc=$?
expect_eq "valgrind --error-exitcode=9 ./glasshouse run -- /bin/true (at the top of the tree): exit 0" \
	"0" "$rc$( [ "$rc" = 0 ] || grep -E '^==[0-9]+== +[^ ]' "$T/vg.log" | head -20)"
jq_eq "/bin/true under valgrind: its status in the receipt" receipt.json .outcome.exit_code 0
vg "the same with the suppressions named: exit 0" 0 -- run -- /bin/true

vg "a file read and one written, --leak-check=full: exit 0, no definite leak" 0 \
	--leak-check=full --errors-for-leak-kinds=definite -- run -- sh -c 'cat /etc/hostname > out'
expect_eq "the workload ran" "$(cat /etc/hostname)" "$(cat out 2>&1)"
status=$(jq -r .collector.status receipt.json 2>/dev/null)
if [ "$status" = ok ] || [ "${CI:-}" = true ] || [ "$(id -u)" = 0 ]; then
	jq_eq "under valgrind the collector saw the write and the read" receipt.json \
		'[.collector.status, .filesystem.writes, (.filesystem.reads | index("/etc/hostname") != null)]' \
		"[\"ok\",[\"$T/out\"],true]"
else
	echo "ok $((n += 1)) # SKIP the eBPF collector is not available here: $status"
fi
finish
