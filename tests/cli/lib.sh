# SPDX-License-Identifier: MIT
# TAP helpers for the shell suites: check NAME CMD... passes when CMD succeeds.
# GLASSHOUSE_BIN picks the binary under test (run-all.sh's asan suites: build/asan/glasshouse).
GH=${GLASSHOUSE_BIN:-$PWD/glasshouse}
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "want: $2" "got:  $3"; fi
}

# A jq filter that leaves out glibc's probes of nscd's socket (connect to
# /var/run/nscd/socket, ENOENT here), which a program makes or not depending on its caller's
# environment (python3 without HOME makes a dozen; CI runs with a minimal one). They are real
# attempts and the receipt keeps them; tests about other destinations look past them.
NOT_NSCD='select((.dst // "" | test("^(unix:)?/var/run/nscd/socket$")) | not)'

# jq_eq NAME FILE FILTER WANT
jq_eq() {
	local got
	got=$(jq -c "$3" "$2" 2>&1)
	expect_eq "$1" "$4" "$got"
}

# wait_fifo_reader PID: until PID is blocked opening a FIFO for reading (5 s at most), so a
# writer that comes next finds its reader.
wait_fifo_reader() {
	local _
	for _ in $(seq 500); do
		[ "$(cat "/proc/$1/wchan" 2>/dev/null)" = wait_for_partner ] && return
		sleep 0.01
	done
}

# need_collector: in the current directory, run `true` under glasshouse; when the eBPF collector
# is not ok there, end the suite: a failure under CI=true (it must work there), else a skip.
need_collector() {
	local status why
	"$GH" run -o probe.json -- true >/dev/null 2>probe.err
	status=$(jq -r .collector.status probe.json 2>/dev/null)
	[ "$status" = ok ] && return
	why=$(jq -r .collector.error probe.json 2>/dev/null)
	if [ "${CI:-}" = true ]; then
		not_ok "the eBPF collector loads (CI=true: it must)" "status: $status" "error: $why"
		finish
		exit 1
	fi
	echo "ok 1 # SKIP the eBPF collector is not available here: $why"
	echo "1..1"
	exit 0
}

finish() {
	echo "1..$n"
	[ "$fails" -eq 0 ]
}
