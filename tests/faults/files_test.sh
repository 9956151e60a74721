#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where a receipt goes when the path is odd or hostile (docs/receipt.md, "Where it goes"):
# devices, FIFOs, sockets, files and links planted by another user, full and read-only disks,
# two runs racing for one path. Runs as root; it adds a user and mounts tmpfs, undone on exit.
set -u
cd "$(dirname "$0")/../.." || exit
. tests/cli/lib.sh
umask 022
HOSTILE=ghhostile
HOSTILE_TAG="glasshouse faults test"
T=$(mktemp -d /tmp/gh-faults-XXXXXX)
chmod 0755 "$T" # the hostile user must reach its playground inside
bg=()
mounts=()

cleanup() {
	local p m
	for p in "${bg[@]+"${bg[@]}"}"; do kill "$p" 2>/dev/null; done
	for m in "${mounts[@]+"${mounts[@]}"}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
	# Only the user this suite made (a run killed before its trap left one with the same tag).
	if [ "$(getent passwd "$HOSTILE" | cut -d: -f5)" = "$HOSTILE_TAG" ]; then
		userdel -r "$HOSTILE" >/dev/null 2>&1
	fi
	cd / && rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ "$(id -u)" -ne 0 ]; then
	not_ok "the faults suite runs as root" "uid: $(id -u)"
	finish
	exit 1
fi
cd "$T" || exit

# gh_in DIR ARGS...: glasshouse run in DIR, stdin from /dev/null, stopped after 20 s (status
# 124: it hung). Sets rc and err (all of stderr); its output goes to $T, never to DIR.
gh_in() {
	local d=$1
	shift
	(cd "$d" && exec timeout 20 "$GH" "$@") </dev/null >"$T/out.txt" 2>"$T/err.txt"
	rc=$?
	err=$(cat "$T/err.txt")
}
gh() { gh_in . "$@"; }

# temps DIR NAME: the temporaries of NAME (.NAME.XXXXXX) left in DIR, one a line.
temps() {
	find "$1" -maxdepth 1 -name ".$2.??????" -printf '%f\n' | sort
}

# mount_tmpfs DIR OPTIONS: a tmpfs at DIR, unmounted on exit.
mount_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "$2" tmpfs "$1" && mounts+=("$T/$1")
}

# private_dev STATE CMD...: CMD in a mount namespace whose /dev is a fresh tmpfs holding only
# null (1,3), full (1,7) and stdout -> /proc/self/fd/1, so a writer that wrongly replaced one
# of them harms a copy, never the system's. STATE gets their types and what else is in /dev.
# Status 97: the private /dev could not be made (nothing was run).
private_dev() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount --propagation private bash -c '
		state=$1
		shift
		mount -t tmpfs -o mode=0755,size=64k tmpfs /dev || exit 97
		mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/full c 1 7 &&
			ln -s /proc/self/fd/1 /dev/stdout || exit 97
		"$@"
		rc=$?
		{
			stat -c "%F %t,%T %a" /dev/null /dev/full
			stat -c "%F %N" /dev/stdout
			ls -A /dev | tr "\n" " "
		} >"$state"
		exit $rc' private_dev "$@"
}
DEV_STATE="character special file 1,3 666
character special file 1,7 666
symbolic link '/dev/stdout' -> '/proc/self/fd/1'
full null stdout "

# 1. /dev/null (and /dev/full, a device that fails every write)
private_dev dev1.state "$GH" run -o /dev/null -- true </dev/null >out.txt 2>err.txt
expect_eq "-o /dev/null: exit 0, nothing on stderr" "0 " "$? $(cat err.txt)"
expect_eq "-o /dev/null: null still the device 1,3, nothing added to /dev" "$DEV_STATE" \
	"$(cat dev1.state 2>&1)"
expect_eq "the system's /dev/null untouched" "character special file 1,3 666" \
	"$(stat -c '%F %t,%T %a' /dev/null)"
private_dev dev2.state "$GH" run -o /dev/full -- true </dev/null >out.txt 2>err.txt
expect_eq "-o /dev/full: exit 125, the write's error" \
	"125 glasshouse: cannot write /dev/full: No space left on device" "$? $(cat err.txt)"
expect_eq "-o /dev/full: still the device 1,7, nothing added to /dev" "$DEV_STATE" \
	"$(cat dev2.state 2>&1)"

# 2. /dev/stdout into a pipe
private_dev dev3.state "$GH" run -o /dev/stdout -- true </dev/null 2>err.txt | cat >piped.json
expect_eq "-o /dev/stdout | cat: exit 0, nothing on stderr" "0 " "${PIPESTATUS[0]} $(cat err.txt)"
expect_eq "-o /dev/stdout | cat: the output is one receipt" '[1,"v0.4"]' \
	"$(jq -cs '[length,.[0].receipt_version]' piped.json 2>&1)"
expect_eq "-o /dev/stdout: still the link, nothing added to /dev" "$DEV_STATE" \
	"$(cat dev3.state 2>&1)"

# 3. FIFOs, with and without a reader
mkfifo ff
cat ff >from-fifo.json &
reader=$!
bg+=("$reader")
wait_fifo_reader "$reader"
gh run -o ff -- true
kill "$reader" 2>/dev/null # only if still waiting: glasshouse never opened the FIFO
wait "$reader"
expect_eq "FIFO with a reader: exit 0, nothing on stderr" "0 " "$rc $err"
jq_eq "FIFO with a reader: it reads the receipt" from-fifo.json .receipt_version '"v0.4"'
expect_eq "FIFO with a reader: still a FIFO, no temporary" "fifo" "$(stat -c %F ff; temps . ff)"
start=$SECONDS
gh run -o ff -- sh -c 'echo 1 > side'
expect_eq "FIFO without a reader: exit 125 at once (no hang)" "125 fast" \
	"$rc $([ $((SECONDS - start)) -lt 10 ] && echo fast || echo slow)"
expect_eq "FIFO without a reader: one line" \
	"glasshouse: cannot write ff: it is a FIFO with no reader" "$err"
expect_eq "FIFO without a reader: the command ran all the same" "1" "$(cat side 2>&1)"
expect_eq "FIFO without a reader: still a FIFO, no temporary" "fifo" "$(stat -c %F ff; temps . ff)"

# 4. A directory and a socket are refused
mkdir dd
gh run -o dd -- true
expect_eq "a directory: exit 125, one line" \
	"125 glasshouse: cannot write dd: it is a directory" "$rc $err"
expect_eq "a directory: still an empty directory, no temporary" "directory" \
	"$(stat -c %F dd; ls -A dd; temps . dd)"
python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.bind("sock")'
gh run -o sock -- true
expect_eq "a socket: exit 125, one line" \
	"125 glasshouse: cannot write sock: it is a socket" "$rc $err"
expect_eq "a socket: still a socket, no temporary" "socket" "$(stat -c %F sock; temps . sock)"

# 5. Another user's traps in a sticky world-writable directory ($S) and in its own ($H)
getent passwd "$HOSTILE" >/dev/null ||
	useradd -M -s /usr/sbin/nologin -c "$HOSTILE_TAG" "$HOSTILE" ||
	{ not_ok "useradd $HOSTILE"; finish; exit 1; }
as_hostile() { runuser -u "$HOSTILE" -- "$@"; }
S=$(mktemp -d "$T/sticky-XXXXXX")
chmod 1777 "$S"
H=$T/hostile-home
mkdir "$H" && chown "$HOSTILE": "$H"
printf 'root-owned victim: must never change\n' >victim
victim_sum=$(sha256sum <victim)
LINK_MSG="glasshouse: cannot write receipt.json: it is a symbolic link in a directory others can \
write (name the file it points to instead)"

# a. a link to the victim where the receipt goes
for d in "$S" "$H"; do
	w=$([ "$d" = "$S" ] && echo "sticky dir" || echo "its own dir")
	(cd "$d" && as_hostile ln -s "$T/victim" receipt.json)
	gh_in "$d" run -- true
	expect_eq "planted link ($w): exit 125, one line" "125 $LINK_MSG" "$rc $err"
	expect_eq "planted link ($w): victim unchanged" "$victim_sum" "$(sha256sum <victim)"
	expect_eq "planted link ($w): the link stays, no temporary" "$T/victim" \
		"$(readlink "$d/receipt.json"; temps "$d" receipt.json)"
	rm -f "$d/receipt.json"
done

# b. the old predictable temporary names, receipt.json.tmp.<pid>, planted for the next 500 pids
# (one process plants them all, so planting uses up none of the pids it aims at)
first=$(cd "$S" && as_hostile /usr/bin/python3 -c '
import os, sys
last = int(open("/proc/sys/kernel/ns_last_pid").read())
for pid in range(last + 1, last + 501):
    os.symlink(sys.argv[1], "receipt.json.tmp.%d" % pid)
print(last + 1)' "$T/victim")
gh_in "$S" run -- true
expect_eq "planted tmp.<pid> links: exit 0, nothing on stderr" "0 " "$rc $err"
pid=$(jq .process_tree[0].pid "$S/receipt.json" 2>/dev/null)
expect_eq "planted tmp.<pid> links: the run's pids were among those aimed at" in \
	"$([ "${pid:-0}" -ge "${first:-1}" ] && [ "$pid" -lt $((first + 500)) ] && echo in ||
		echo "out ($pid, from $first)")"
expect_eq "planted tmp.<pid> links: victim unchanged" "$victim_sum" "$(sha256sum <victim)"
expect_eq "planted tmp.<pid> links: receipt.json a regular file, root's, 0644" \
	"regular file root:root 644" \
	"$(stat -c '%F %U:%G %a' "$S/receipt.json")"
jq_eq "planted tmp.<pid> links: it holds the receipt" "$S/receipt.json" .receipt_version '"v0.4"'
expect_eq "planted tmp.<pid> links: no temporary" "" "$(temps "$S" receipt.json)"
rm -f "$S"/receipt.json*

# c. a regular file the attacker owns, writable by all
(cd "$S" && as_hostile sh -c 'umask 0; echo planted >receipt.json')
expect_eq "planted file: the attacker's, 0666, before the run" "$HOSTILE 666" \
	"$(stat -c '%U %a' "$S/receipt.json")"
gh_in "$S" run -- true
expect_eq "planted file: exit 0, nothing on stderr" "0 " "$rc $err"
expect_eq "planted file: replaced by root's 0644 file" "regular file root:root 644" \
	"$(stat -c '%F %U:%G %a' "$S/receipt.json")"
jq_eq "planted file: it holds the receipt" "$S/receipt.json" .receipt_version '"v0.4"'
before=$(sha256sum <"$S/receipt.json")
append=fails
(cd "$S" && as_hostile sh -c 'echo x >>receipt.json' 2>/dev/null) && append=succeeds
[ "$(sha256sum <"$S/receipt.json")" = "$before" ] && append+=", unchanged" || append+=", changed"
expect_eq "planted file: the attacker can no longer append" "fails, unchanged" "$append"
expect_eq "planted file: no temporary" "" "$(temps "$S" receipt.json)"
rm -f "$S/receipt.json"

# d. a FIFO nobody reads
(cd "$S" && as_hostile mkfifo receipt.json)
gh_in "$S" run -- true
expect_eq "planted FIFO: exit 125 within the timeout, one line" \
	"125 glasshouse: cannot write receipt.json: it is a FIFO with no reader" "$rc $err"
expect_eq "planted FIFO: still the attacker's FIFO, no temporary" "fifo $HOSTILE" \
	"$(stat -c '%F %U' "$S/receipt.json"; temps "$S" receipt.json)"
rm -f "$S/receipt.json"

# 6. Mode and owner of a replaced file: root's are kept, anyone else's are not
mkdir keep
echo old >keep/root.json && chmod 0640 keep/root.json
gh run -o keep/root.json -- true
expect_eq "root's 0640 file: exit 0, stays root:root 0640" "0 root:root 640" \
	"$rc $(stat -c '%U:%G %a' keep/root.json)"
jq_eq "root's 0640 file: holds the new receipt" keep/root.json .receipt_version '"v0.4"'
echo old >keep/nobody.json && chmod 0666 keep/nobody.json && chown nobody: keep/nobody.json
gh run -o keep/nobody.json -- true
expect_eq "nobody's 0666 file: exit 0, becomes root:root 0644" "0 root:root 644" \
	"$rc $(stat -c '%U:%G %a' keep/nobody.json)"
jq_eq "nobody's 0666 file: holds the new receipt" keep/nobody.json .receipt_version '"v0.4"'
expect_eq "kept files: no temporary" "" "$(temps keep root.json; temps keep nobody.json)"

# 7. A full disk, with an old receipt in place
if mount_tmpfs full size=64k; then
	printf 'old receipt\n' >full/receipt.json
	head -c 1M /dev/zero >full/fill 2>/dev/null
	gh run -o full/receipt.json -- sh -c 'echo 1 > side7'
	expect_eq "full disk: exit 125, one line" \
		"125 glasshouse: cannot write full/receipt.json: No space left on device" "$rc $err"
	expect_eq "full disk: the old receipt unchanged, no temporary" "old receipt" \
		"$(cat full/receipt.json; temps full receipt.json)"
	expect_eq "full disk: the command ran all the same" "1" "$(cat side7 2>&1)"
	# the attestation on a full disk: its own one line, the receipt written elsewhere
	"$GH" keygen "$T/fk" >/dev/null 2>&1
	gh run -o r7.json --sign "$T/fk.key" --attestation full/a.intoto.jsonl -- true
	expect_eq "full disk, attestation: exit 125, one line, the receipt written" \
		"125 glasshouse: cannot write full/a.intoto.jsonl: No space left on device yes" \
		"$rc $err $([ -s r7.json ] && echo yes || echo no)"
	expect_eq "full disk, attestation: no temporary left" "" "$(temps full a.intoto.jsonl)"
	# the event log on a full disk: the same, and the run's receipt is written elsewhere
	gh run -o r7e.json --events full/ev.jsonl -- true
	expect_eq "full disk, event log: exit 125, one line, the receipt written, no temporary" \
		"125 glasshouse: cannot write full/ev.jsonl: No space left on device yes " \
		"$rc $err $([ -s r7e.json ] && echo yes || echo no) $(temps full ev.jsonl)"
else
	not_ok "mount a 64k tmpfs"
fi

# 8. A read-only directory (root ignores mode bits: a read-only mount), empty or with a receipt
if mount_tmpfs ro size=64k && printf 'old receipt\n' >ro/old.json && mount -o remount,ro ro; then
	gh run -o ro/receipt.json -- true
	expect_eq "read-only mount: exit 125, one line" \
		"125 glasshouse: cannot write ro/receipt.json: Read-only file system" "$rc $err"
	gh run -o ro/old.json -- true
	expect_eq "read-only mount, old receipt: exit 125, one line" \
		"125 glasshouse: cannot write ro/old.json: Read-only file system" "$rc $err"
	expect_eq "read-only mount: the old receipt unchanged, nothing added" "old receipt
old.json " \
		"$(cat ro/old.json; find ro -mindepth 1 -printf '%P ')"
else
	not_ok "mount a read-only tmpfs"
fi

# 9. Two runs writing one path at once, five times; odd rounds start with no file, even ones
# with an old receipt (the two ways a temporary is put in place)
mkdir race
CMD_A='echo A > a; sleep 0.2'
CMD_B='echo B > b; sleep 0.2'
for i in 1 2 3 4 5; do
	rm -f race/receipt.json
	[ $((i % 2)) -eq 0 ] && echo old >race/receipt.json
	timeout 20 "$GH" run -o race/receipt.json -- sh -c "$CMD_A" </dev/null >/dev/null 2>race/a.err &
	pa=$!
	timeout 20 "$GH" run -o race/receipt.json -- sh -c "$CMD_B" </dev/null >/dev/null 2>race/b.err &
	pb=$!
	bg+=("$pa" "$pb")
	wait "$pa"
	ra=$?
	wait "$pb"
	rb=$?
	argv=$(jq -r '.process_tree[0].argv[2]' race/receipt.json 2>&1)
	got="$ra $rb $(cat race/a.err race/b.err)|$(jq -r .receipt_version race/receipt.json 2>&1)"
	got+="|$([ "$argv" = "$CMD_A" ] || [ "$argv" = "$CMD_B" ] && echo one-of-the-two || echo "$argv")"
	got+="|$(temps race receipt.json)"
	expect_eq "two runs at once, round $i: both exit 0, one whole receipt, no temporary" \
		"0 0 |v0.4|one-of-the-two|" "$got"
done

# 10. A parent directory that does not exist
gh run -o nodir/r.json -- true
expect_eq "missing parent: exit 125, one line" \
	"125 glasshouse: cannot write nodir/r.json: No such file or directory" "$rc $err"
expect_eq "missing parent: nothing created" "absent" \
	"$([ -e nodir ] && echo present || echo absent)"

# 11. An empty name
mkdir empty
gh_in empty run -o '' -- touch ran
expect_eq "-o '': a usage error before anything runs" "2 glasshouse: option -o needs a file name, got ''" \
	"$rc $(head -1 "$T/err.txt")"
expect_eq "-o '': nothing written" "" "$(ls -A empty)"

# 12. The longest name a directory takes (255 bytes) is a name like any other
long=$(printf 'r%.0s' $(seq 255))
mkdir longname
gh run -o "longname/$long" -- true
expect_eq "a 255-byte name: exit 0, nothing on stderr" "0 " "$rc $err"
jq_eq "a 255-byte name: it holds the receipt" "longname/$long" .receipt_version '"v0.4"'
expect_eq "a 255-byte name: no temporary" "" "$(temps longname "$long")"

finish
