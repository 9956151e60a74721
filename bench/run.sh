#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: each workload under `glasshouse run` between two bare runs, ROUNDS times (9);
# the ratio is the median of the per-round ratios. Also strace -f (and bpftrace when
# installed) side by side, events delivered and lost, glasshouse's peak RSS, start-up time of
# `glasshouse run -- /bin/true`, and openloop under a script with a Lua filter hook.
# Also what bystanders pay: openloop outside the traced tree while glasshouse runs.
# WORKLOADS="openloop net" runs only those (the extra measurements still run).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
GH=$ROOT/glasshouse
ROUNDS=${ROUNDS:-9} # this VM's speed moves by 10-20% run to run: 5 rounds left medians ±5%
B=$ROOT/build/bench
mkdir -p "$B"
cc -O2 -o "$B/openloop" bench/openloop.c
cc -O2 -o "$B/netloop" bench/netloop.c
W=$(mktemp -d /tmp/gh-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT

# The build workload: about 120 small C files and a Makefile.
mkdir -p "$W/proj"
for i in $(seq 1 120); do
	printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' "$i" "$i" >"$W/proj/f$i.c"
done
printf 'int main(void) { return 0; }\n' >"$W/proj/main.c"
cat >"$W/proj/Makefile" <<'EOF'
SRCS := $(wildcard *.c)
prog: $(SRCS:.c=.o)
	$(CC) -o $@ $^
%.o: %.c
	$(CC) -O2 -c $< -o $@
clean:
	rm -f *.o prog
EOF

# timed CMD...: wall seconds of CMD (output discarded). bash's own clock: a `date` process per
# reading would add its fork and exec to every bare time.
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	t1=$EPOCHREALTIME
	echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# peak_rss CMD...: run CMD (glasshouse), print its own VmHWM in KiB, sampled until it exits.
peak_rss() {
	"$@" >/dev/null 2>&1 &
	local pid=$! hwm=0 v
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		sleep 0.02
	done
	wait "$pid"
	echo "$hwm"
}

declare -A CMD PREP
CMD[openloop]="$B/openloop 200000"
CMD[spawn]="sh -c 'i=0; while [ \$i -lt 1000 ]; do /bin/true; i=\$((i+1)); done'"
CMD[build]="make -s -C $W/proj -j2"
PREP[build]="make -s -C $W/proj clean"
CMD[net]="$B/netloop 10000"

# run --events: whole runs with the event log against the same runs without, alternating, for
# build and spawn (targets: ≤ 1.05 and ≤ 1.10). BENCH_EVENTS_ONLY=1 runs just this.
events_bench() {
	for w in build spawn; do
		ratios=()
		for r in $(seq 1 "$ROUNDS"); do
			[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
			p1=$(timed "$GH" run -o "$W/plain.json" -- bash -c "${CMD[$w]}")
			[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
			e=$(timed "$GH" run -o "$W/events.json" --events "$W/events.jsonl" -- bash -c "${CMD[$w]}")
			[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
			p2=$(timed "$GH" run -o "$W/plain.json" -- bash -c "${CMD[$w]}")
			ratios+=("$(echo "$e / (($p1 + $p2) / 2)" | bc -l)")
		done
		printf '%s with --events: median whole ratio %.2f against without (target ≤ %s), %d lines, %d KiB\n' \
			"$w" "$(printf '%s\n' "${ratios[@]}" | median)" "$([ $w = build ] && echo 1.05 || echo 1.10)" \
			"$(wc -l <"$W/events.jsonl")" "$(($(stat -c %s "$W/events.jsonl") / 1024))"
	done

}
# Policies: the build judged by a policy of 50 glob rules (exec, read, write, connect; all of
# them pass), against the same build traced without a policy, alternated each round (targets:
# ≤ 1.03); and the same policy enforced (--enforce: every rule is one the kernel decides, so it
# judges each exec, connect and file event in the kernel, and user space judges every event as
# it comes too; target ≤ 1.05). BENCH_POLICY_ONLY=1 runs just this.
policy_bench() {
	{
		echo 'return {'
		echo '  name = "bench-50",'
		printf '  exec = { allow = { "/usr/bin/**", "/usr/lib/**", "/usr/libexec/**", "/bin/**", "/usr/local/bin/**"'
		for i in $(seq 1 10); do printf ', "/opt/tool%d/bin/**"' "$i"; done
		echo ' } },'
		printf '  read = { deny = { "/etc/shadow", "/root/.ssh/**", "~/.ssh/**", "~/.aws/**", "~/.gnupg/**"'
		for i in $(seq 1 10); do printf ', "/srv/secret%d/**"' "$i"; done
		echo ' } },'
		printf '  write = { allow = { "%s/**", "/tmp/**", "/dev/null", "/dev/tty"' "$W"
		for i in $(seq 1 11); do printf ', "/var/tmp/build%d/**"' "$i"; done
		echo ' } },'
		printf '  connect = { allow = { "127.0.0.1:*", "[::1]:*", "unix:*", "10.0.0.1:443", "[fe80::1]:443"'
		echo ' } },'
		echo '}'
	} >"$W/policy50.lua"
	local n
	n=$(grep -o '"[^"]*"' "$W/policy50.lua" | grep -vc bench-50)
	for mode in judge enforce; do
		ratios=()
		for r in $(seq 1 "$ROUNDS"); do
			for side in $( ((r % 2)) && echo "u p" || echo "p u"); do
				eval "${PREP[build]}" >/dev/null 2>&1
				if [ "$side" = u ]; then
					u=$(timed "$GH" run -o "$W/nopolicy.json" -- bash -c "${CMD[build]}")
				else
					p=$(timed "$GH" run -o "$W/policy.json" --policy "$W/policy50.lua" \
						$([ $mode = enforce ] && echo --enforce) -- bash -c "${CMD[build]}")
				fi
			done
			ratios+=("$(echo "$p / $u" | bc -l)")
		done
		printf 'build with a policy of %d glob rules%s: whole-run ratio against the traced build without one %.3f (median; target ≤ %s), verdict %s, stopped %s%s\n' \
			"$n" "$([ $mode = enforce ] && echo ", enforced")" "$(printf '%s\n' "${ratios[@]}" | median)" \
			"$([ $mode = enforce ] && echo 1.05 || echo 1.03)" "$(jq -r .policy.verdict "$W/policy.json")" \
			"$(jq -r '.policy.enforcement.stopped // false' "$W/policy.json")" \
			"$(jq -r '.policy.enforcement // empty | ", decided by " + ([to_entries[] | select(.value == "kernel" or .value == "user") | "\(.key) \(.value)"] | join(", "))' "$W/policy.json")"
	done
}
if [ -n "${BENCH_POLICY_ONLY:-}" ]; then
	policy_bench
	exit
fi
if [ -n "${BENCH_EVENTS_ONLY:-}" ]; then
	events_bench
	exit
fi

cat <<EOF
glasshouse bench: $(uname -r), $(nproc) CPUs, $ROUNDS rounds (bare, traced, bare), median ratios
Two ratios per workload, both medians of per-round ratios against the bare run:
  command: the command's own wall time inside the traced run (the receipt's timing.duration_ms)
  whole:   the whole \`glasshouse run\` (start-up, BPF load, receipt), timed from outside
  bpftrace: a whole run printing a line per open, exec and connect of the machine (where installed)
| workload | bare s | command s | command ratio | target | whole s | whole ratio | strace -f ratio | bpftrace ratio | events | lost | glasshouse peak RSS |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
# bpftrace (make bench installs it) needs tracefs for its syscall tracepoints.
HAVE_BT=
if command -v bpftrace >/dev/null; then
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	ulimit -l unlimited 2>/dev/null
	HAVE_BT=1
fi
BT_PRINT='tracepoint:syscalls:sys_exit_openat, tracepoint:syscalls:sys_exit_execve,
tracepoint:syscalls:sys_exit_connect { printf("%d %s %d\n", pid, probe, args->ret); }'
declare -A TARGET=([openloop]=1.15 [spawn]=1.10 [build]=1.05 [net]=1.10)
for w in ${WORKLOADS:-}; do
	[ -n "${CMD[$w]:-}" ] || { echo "bench: unknown workload '$w' (known: openloop spawn build net)" >&2; exit 2; }
done
for w in ${WORKLOADS:-openloop spawn build net}; do
	ratios=() bares=() ghs=() cmds=() cratios=()
	for r in $(seq 1 "$ROUNDS"); do
		# Each traced run between two bare ones, against their mean: this VM's speed drifts
		# by 10-20% over seconds, and one bare run beside it would hand the drift to one side.
		[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
		b1=$(timed bash -c "${CMD[$w]}")
		[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
		g=$(timed "$GH" run -o "$W/$w.json" -- bash -c "${CMD[$w]}")
		c=$(jq '.timing.duration_ms / 1000' "$W/$w.json")
		[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
		b2=$(timed bash -c "${CMD[$w]}")
		b=$(echo "($b1 + $b2) / 2" | bc -l)
		bares+=("$b") ghs+=("$g") cmds+=("$c")
		ratios+=("$(echo "$g / $b" | bc -l)")
		cratios+=("$(echo "$c / $b" | bc -l)")
	done
	[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
	s=$(timed strace -f -qq -o /dev/null bash -c "${CMD[$w]}")
	[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
	bt=-
	if [ -n "$HAVE_BT" ]; then
		printf '%s\n' "${CMD[$w]}" >"$W/$w.sh"
		[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
		bt=$(timed bpftrace -e "$BT_PRINT" -c "/bin/bash $W/$w.sh")
	fi
	[ -n "${PREP[$w]:-}" ] && eval "${PREP[$w]}" >/dev/null 2>&1
	rss=$(peak_rss "$GH" run -o "$W/$w-rss.json" -- bash -c "${CMD[$w]}")
	mb=$(printf '%s\n' "${bares[@]}" | median)
	mg=$(printf '%s\n' "${ghs[@]}" | median)
	mr=$(printf '%s\n' "${ratios[@]}" | median)
	mc=$(printf '%s\n' "${cmds[@]}" | median)
	mcr=$(printf '%s\n' "${cratios[@]}" | median)
	ev=$(jq '.collector.events' "$W/$w.json")
	lost=$(jq '.collector.lost' "$W/$w.json")
	[ "$bt" = - ] || bt=$(printf '%.1f' "$(echo "$bt / $mb" | bc -l)")
	printf '| %s | %.3f | %.3f | %.2f | ≤ %s | %.3f | %.2f | %.1f | %s | %s | %s | %d MB |\n' "$w" \
		"$mb" "$mc" "$mcr" "${TARGET[$w]}" "$mg" "$mr" "$(echo "$s / $mb" | bc -l)" "$bt" "$ev" \
		"$lost" "$((rss / 1024))"
	case $w in
	openloop) jq -r '"  openloop: openat counted \(.syscalls.counts.openat) (want 202002 + loader opens), collapsed into \(.collector.events) events"' "$W/$w.json" ;;
	net) jq -r '"  net: \(.network.attempts[0].count) connects, bytes sent \(.network.attempts[0].bytes_sent) (want 1000000), received \(.network.attempts[0].bytes_received) (want 1000000)"' "$W/$w.json" ;;
	esac
done
# build-signed: the build with --sign against the same build traced unsigned (the products'
# hashes are in both; signing adds the Statement, the PAE and one Ed25519 signature), alternated
# each round. And hashing a 1 GiB (sparse) file: gh.sha256_file against sha256sum.
if [[ " ${WORKLOADS:-build} " == *" build "* ]]; then
	"$GH" keygen "$W/bench" >/dev/null 2>&1
	ratios=()
	for r in $(seq 1 "$ROUNDS"); do
		# unsigned first in odd rounds, signed first in even ones: the VM's drift within a
		# round then favours neither side
		for side in $( ((r % 2)) && echo "u g" || echo "g u"); do
			eval "${PREP[build]}" >/dev/null 2>&1
			if [ "$side" = u ]; then
				u=$(timed "$GH" run -o "$W/unsigned.json" -- bash -c "${CMD[build]}")
			else
				g=$(timed "$GH" run -o "$W/signed.json" --sign "$W/bench.key" -- \
					bash -c "${CMD[build]}")
			fi
		done
		ratios+=("$(echo "$g / $u" | bc -l)")
	done
	printf 'build-signed: whole-run ratio against the unsigned traced build %.3f (median; target ≤ 1.03), %d products\n' \
		"$(printf '%s\n' "${ratios[@]}" | median)" "$(jq '.filesystem.products | length' "$W/signed.json")"
	truncate -s 1G "$W/big"
	printf 'local gh = require "glasshouse"\nassert(gh.sha256_file(arg[1]))\n' >"$W/hash.lua"
	ratios=()
	for r in 1 2 3; do
		h=$(timed "$GH" script "$W/hash.lua" "$W/big" -- true)
		s=$(timed sha256sum "$W/big")
		ratios+=("$(echo "$s / $h" | bc -l)")
	done
	printf 'hashing 1 GiB: %.2f× the speed of sha256sum (median of 3; target ≥ 0.80)\n' \
		"$(printf '%s\n' "${ratios[@]}" | median)"
	rm -f "$W/big"
fi

# bpftrace on openloop, where installed (make bench installs it): one printed line per open,
# and the opens counted in a kernel map. Whole runs, bpftrace's own start-up included.
if [ -n "$HAVE_BT" ]; then
	declare -A BT=(
		[printing]='tracepoint:syscalls:sys_exit_openat /pid == cpid/ { printf("%d %d\n", pid, args->ret); }'
		[counting]='tracepoint:syscalls:sys_exit_openat /pid == cpid/ { @opens = count(); }'
	)
	for how in printing counting; do
		ratios=()
		for r in $(seq 1 "$ROUNDS"); do
			b=$(timed "$B/openloop" 200000)
			g=$(timed bpftrace -e "${BT[$how]}" -c "$B/openloop 200000")
			ratios+=("$(echo "$g / $b" | bc -l)")
		done
		printf 'bpftrace %s on openloop: median whole ratio %.2f\n' \
			"$([ $how = printing ] && echo "printing a line per open" || echo "counting opens in a map")" \
			"$(printf '%s\n' "${ratios[@]}" | median)"
	done
else
	echo "(bpftrace is not installed: make bench installs it for this comparison)"
fi

# Bystanders: what observing a command costs the machine's other processes (every syscall of
# the machine passes the kernel-side scope check). openloop outside the traced tree, while
# glasshouse traces a sleep, against openloop with nothing traced. That is also the floor any
# syscall-tracepoint program costs (the kernel's slow syscall path and the program's entry,
# for every process), so each round also runs openloop traced: the difference of the two, in
# the same round, is what glasshouse's own work costs the command above that floor.
ratios=() tratios=() own=()
for r in $(seq 1 "$ROUNDS"); do
	b1=$(timed "$B/openloop" 200000)
	"$GH" run -o "$W/sleep.json" -- sleep 30 >/dev/null 2>&1 &
	gpid=$!
	sleep 0.3 # loaded and attached
	g=$(timed "$B/openloop" 200000)
	kill -INT "$gpid" 2>/dev/null
	wait "$gpid" 2>/dev/null
	"$GH" run -o "$W/own.json" -- "$B/openloop" 200000 >/dev/null 2>&1
	t=$(jq '.timing.duration_ms / 1000' "$W/own.json")
	b=$(echo "($b1 + $(timed "$B/openloop" 200000)) / 2" | bc -l)
	ratios+=("$(echo "$g / $b" | bc -l)")
	tratios+=("$(echo "$t / $b" | bc -l)")
	own+=("$(echo "($t - $g) / $b" | bc -l)")
done
printf 'openloop outside the traced tree, while glasshouse traces another command: median ratio %.2f\n' \
	"$(printf '%s\n' "${ratios[@]}" | median)"
printf '  in the same rounds, openloop traced: %.2f; glasshouse'"'"'s own share above that floor: %+.2f\n' \
	"$(printf '%s\n' "${tratios[@]}" | median)" "$(printf '%s\n' "${own[@]}" | median)"

# Start-up: glasshouse run -- /bin/true
st=()
for r in $(seq 1 10); do st+=("$(timed "$GH" run -o "$W/true.json" -- /bin/true)"); done
printf 'start-up of glasshouse run -- /bin/true: median %.0f ms (10 runs; target ≤ 100 ms)\n' \
	"$(printf '%s\n' "${st[@]}" | median | awk '{print $1 * 1000}')"

# openloop under a script with a Lua filter hook
cat >"$W/filter.lua" <<'EOF'
local gh = require "glasshouse"
local seen = 0
gh.run(gh.command, { output = os.getenv("OUT"), filter = function(ev) seen = seen + 1; return true end })
return 0
EOF
ratios=() cratios=()
for r in $(seq 1 "$ROUNDS"); do
	b1=$(timed "$B/openloop" 200000)
	g=$(OUT=$W/filter.json timed "$GH" script "$W/filter.lua" -- "$B/openloop" 200000)
	b=$(echo "($b1 + $(timed "$B/openloop" 200000)) / 2" | bc -l)
	ratios+=("$(echo "$g / $b" | bc -l)")
	cratios+=("$(echo "$(jq '.timing.duration_ms / 1000' "$W/filter.json") / $b" | bc -l)")
done
printf 'openloop with a Lua filter hook: median command ratio %.2f (target ≤ 1.5), whole ratio %.2f\n' \
	"$(printf '%s\n' "${cratios[@]}" | median)" "$(printf '%s\n' "${ratios[@]}" | median)"

events_bench
policy_bench
