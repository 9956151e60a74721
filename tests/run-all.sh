#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the suites (all, or those named: c lua cli bpf faults asan-cli asan-bpf), each speaking TAP, and
# ends with one line "N passed, N failed". Exits non-zero when anything failed or a suite died.
set -u
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(c lua cli bpf faults asan-cli asan-bpf)

passed=0 failed=0 broken=()
log=$(mktemp)
san=$(mktemp -d /tmp/gh-san-XXXXXX)
trap 'rm -rf "$log" "$san"' EXIT

# Run one TAP producer, echo its output, and add up its ok / not ok lines.
tally() {
	local name=$1
	shift
	echo "== $name"
	"$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	local ok bad
	ok=$(grep -cE '^ok [0-9]+' "$log")
	bad=$(grep -cE '^not ok [0-9]+' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		broken+=("$name (exit $rc)")
	fi
	if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then
		broken+=("$name (ran no test)")
	fi
}

# The asan suites run the cli and eBPF suites on build/asan/glasshouse. A report stops the
# process with status 86 and is written to $san/NAME.PID, not to stderr: some tests do not look
# at every status (a workload's, or the REPL's inside tmux), so the reports themselves are the
# verdict. The folder is open to all: the eBPF suite also runs glasshouse as nobody.
# LeakSanitizer stays on and nothing is suppressed: main closes the Lua state on every path, which
# destroys the collectors and with them libbpf's objects.
san_env=(GLASSHOUSE_BIN="$PWD/build/asan/glasshouse"
	ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=1:log_path=$san/asan"
	UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$san/ubsan")
chmod 1777 "$san"

# sanitizer_reports NAME: one TAP line, failing with the reports the suite's processes left.
sanitizer_reports() {
	local reports=("$san"/*)
	if [ ! -e "${reports[0]}" ]; then
		echo "ok 1 - $1: no ASan, UBSan or LeakSanitizer report"
	else
		echo "not ok 1 - $1: ${#reports[@]} sanitizer report(s)"
		sed 's/^/#   /' "${reports[@]}"
		rm -f "${reports[@]}"
	fi
	echo "1..1"
}

# fuzz NAME RUNS ARGS...: run build/tests/NAME from a fresh corpus (ARGS may add seed folders)
# for RUNS inputs with a fixed seed, as one TAP line; a crash's input is kept in build/tests.
fuzz() {
	local name=$1 runs=$2 corpus=build/tests/$1.corpus
	shift 2
	rm -rf "$corpus" && mkdir -p "$corpus"
	if "build/tests/$name" -runs="$runs" -seed=1 -artifact_prefix=build/tests/ "$corpus" "$@" \
		>"build/tests/$name.log" 2>&1; then
		echo "ok 1 - $name: $runs inputs, no crash"
	else
		tail -20 "build/tests/$name.log"
		echo "not ok 1 - $name crashed"
	fi
}

for s in "${suites[@]}"; do
	case $s in
	c)
		make -s test-c-build || broken+=("c: build failed")
		for t in build/tests/test_*; do
			[ -x "$t" ] || continue
			# The backend tests pass output through; keep it out of the TAP stream.
			case $t in *fuzz_*) continue ;; esac
			tally "c/$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=tap "$t"
		done
		# The fuzz targets for a fixed number of inputs each (no timing).
		tally "c/fuzz_event" fuzz fuzz_event 200000 -max_len=4096
		tally "c/fuzz_json" fuzz fuzz_json 200000 -max_len=4096 -dict=tests/fuzz/json.dict \
			tests/fuzz/json_seeds
		tally "c/fuzz_options" fuzz fuzz_options 1000000 -max_len=64
		tally "c/format" bash -c 'make -s check-format && echo "ok 1 - every C file is as clang-format writes it" ||
			echo "not ok 1 - C files differ from clang-format (make format)"'
		;;
	lua)
		tally "lua" lua5.4 /usr/bin/busted -o TAP --helper=tests/lua/helper.lua tests/lua
		;;
	cli)
		tally "cli" bash tests/cli/cli_test.sh
		tally "cli/repl" bash tests/cli/repl_test.sh
		tally "cli/help" bash tests/cli/help_test.sh
		tally "cli/priv" bash tests/cli/priv_test.sh
		tally "cli/evidence" bash tests/cli/evidence_test.sh
		tally "cli/judge" bash tests/cli/judge_test.sh
		tally "cli/valgrind" bash tests/cli/valgrind_test.sh
		;;
	bpf)
		[ -f tests/bpf/bpf_test.sh ] && tally "bpf" bash tests/bpf/bpf_test.sh
		tally "bpf/events" bash tests/bpf/events_test.sh
		tally "bpf/wait" bash tests/bpf/wait_test.sh
		tally "bpf/enforce" bash tests/bpf/enforce_test.sh
		tally "bpf/accuracy" bash tests/bpf/accuracy_test.sh
		;;
	faults)
		# Each fault of the reliability issue: planted files, full disks, signals at every
		# moment, huge trees (tests/faults/*_test.sh, root).
		for f in tests/faults/*_test.sh; do
			[ -f "$f" ] && tally "faults/$(basename "$f" _test.sh)" bash "$f"
		done
		;;
	asan-cli)
		make -s asan || broken+=("asan: build failed")
		tally "asan-cli" env "${san_env[@]}" bash tests/cli/cli_test.sh
		tally "asan-cli/repl" env "${san_env[@]}" bash tests/cli/repl_test.sh
		tally "asan-cli/priv" env "${san_env[@]}" bash tests/cli/priv_test.sh
		tally "asan-cli/evidence" env "${san_env[@]}" bash tests/cli/evidence_test.sh
		tally "asan-cli/judge" env "${san_env[@]}" bash tests/cli/judge_test.sh
		tally "asan-cli/help" env "${san_env[@]}" bash tests/cli/help_test.sh
		tally "asan-cli/reports" sanitizer_reports asan-cli
		;;
	asan-bpf)
		make -s asan || broken+=("asan: build failed")
		tally "asan-bpf" env "${san_env[@]}" bash tests/bpf/bpf_test.sh
		tally "asan-bpf/events" env "${san_env[@]}" bash tests/bpf/events_test.sh
		tally "asan-bpf/wait" env "${san_env[@]}" bash tests/bpf/wait_test.sh
		tally "asan-bpf/enforce" env "${san_env[@]}" bash tests/bpf/enforce_test.sh
		tally "asan-bpf/accuracy" env "${san_env[@]}" bash tests/bpf/accuracy_test.sh
		tally "asan-bpf/reports" sanitizer_reports asan-bpf
		;;
	*)
		echo "run-all: unknown suite '$s' (known: c lua cli bpf faults asan-cli asan-bpf)" >&2
		exit 2
		;;
	esac
done

for b in "${broken[@]+"${broken[@]}"}"; do
	echo "suite broken: $b"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
