#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The subcommand table against what is made from it or must follow it: help, help CMD and
# CMD --help, the man page, bash completion, and make install.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
ROOT=$PWD
MAN=$ROOT/docs/glasshouse.1
T=$(mktemp -d /tmp/gh-help-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

# The table, as the binary lists it: "command NAME", "option NAME FLAG VALUE|[=VALUE]|- [VALUES...]",
# "global FLAG -".
if ! "$GH" help --list >list.txt 2>err.txt || ! grep -q '^command run$' list.txt; then
	not_ok "help --list" "$(head -3 err.txt list.txt)"
	finish
	exit
fi
mapfile -t commands < <(awk '$1 == "command" { print $2 }' list.txt)
ok "help --list: ${#commands[*]} subcommands, $(grep -c '^option ' list.txt) option flags"

# flags KIND [NAME]: the flags of the subcommand NAME (KIND option) or the global ones, sorted.
flags() {
	awk -v k="$1" -v n="${2-}" '$1 == k && (k == "global" || $2 == n) { print $(k == "global" ? 2 : 3) }' \
		list.txt | sort
}

# --- help
"$GH" help >help.txt 2>&1
expect_eq "help: exit 0" 0 $?
"$GH" --help >dash-help.txt 2>&1
if cmp -s help.txt dash-help.txt; then ok "help and --help print the same"; else not_ok "help and --help print the same"; fi
for c in "${commands[@]}"; do
	if grep -qE "^(usage:|      ) glasshouse $c( |\$)" help.txt; then
		ok "help: a usage line for $c"
	else
		not_ok "help: a usage line for $c" "$(head -6 help.txt)"
	fi
	"$GH" help "$c" >one.txt 2>err.txt
	rc=$?
	expect_eq "help $c: exit 0, usage first, nothing on stderr" "0|usage: glasshouse $c|" \
		"$rc|$(head -1 one.txt | cut -d' ' -f1-3)|$(cat err.txt)"
	missing=
	for f in $(flags option "$c") -h --help; do
		grep -qE -- "(^|[ ,])$f([ ,[]|\$)" one.txt || missing+=" $f"
	done
	expect_eq "help $c: every option of the table is shown" "" "$missing"
	for h in --help -h; do
		"$GH" "$c" "$h" >cmd-help.txt 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && cmp -s one.txt cmd-help.txt; then
			ok "$c $h: exit 0, as help $c"
		else
			not_ok "$c $h: exit 0, as help $c" "rc=$rc" "$(diff one.txt cmd-help.txt | head -4)"
		fi
	done
done
"$GH" help nosuch >out.txt 2>err.txt
expect_eq "help nosuch: exit 2, one line, then the usage, nothing on stdout" \
	"2|glasshouse: unknown subcommand 'nosuch'|usage: glasshouse run|" \
	"$?|$(sed -n 1p err.txt)|$(sed -n 2p err.txt | cut -d' ' -f1-3)|$(cat out.txt)"
"$GH" help run script >/dev/null 2>err.txt
expect_eq "help with two subcommands: a usage error" "2|glasshouse: help takes one subcommand at most" \
	"$?|$(head -1 err.txt)"

# --- the man page: every subcommand has its section, every option is in it, and what the page
# lists as an option is in the table. The text with roff's \- and font escapes undone.
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$MAN" >man.txt
# section HEADING: the lines from the line HEADING (".SS run", ".SH OPTIONS") to the next heading.
section() {
	awk -v h="$1" '/^\.S[SH] / { on = ($0 == h) } on' man.txt
}
# has_flag FLAG: FLAG stands alone on stdin (--backend is not in --backend-opt).
has_flag() {
	grep -qE -- "(^|[^-[:alnum:]_])$1([^-[:alnum:]_]|\$)"
}
# listed_flags: the flags of the options a section lists (the lines after .TP).
listed_flags() {
	awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' | grep -oE -- '(^|[ ,])--?[[:alnum:]][-[:alnum:]]*' |
		tr -d ' ,' | sort -u
}

expect_eq "man page: the version of the binary" "$("$GH" --version)" \
	"$(sed -n 's/^\.TH .*"\(glasshouse [^"]*\)".*/\1/p' "$MAN")"
for c in "${commands[@]}"; do
	section ".SS $c" >sec.txt
	if [ -s sec.txt ] && section ".SH SYNOPSIS" | grep -qx ".B glasshouse $c"; then
		ok "man page: $c in the synopsis and a section of its own"
	else
		not_ok "man page: $c in the synopsis and a section of its own"
	fi
	missing=
	while read -r _ _ f value values; do
		has_flag "$f" <sec.txt || missing+=" $f"
		[ "$value" = - ] || grep -qF -- "$value" sec.txt || missing+=" $f's $value"
		for v in $values; do
			grep -qw -- "${v%=}" sec.txt || missing+=" $f's ${v%=}"
		done
	done < <(awk -v c="$c" '$1 == "option" && $2 == c' list.txt)
	expect_eq "man page: every option of $c and its values" "" "$missing"
	expect_eq "man page: $c's section lists only options of the table" "$(flags option "$c" | paste -sd' ')" \
		"$(listed_flags <sec.txt | paste -sd' ')"
done
section ".SH OPTIONS" >sec.txt
expect_eq "man page: OPTIONS lists the global options of the table" "$(flags global | paste -sd' ')" \
	"$(listed_flags <sec.txt | paste -sd' ')"
for s in "EXIT STATUS" ENVIRONMENT FILES; do
	if [ -n "$(section ".SH $s")" ]; then ok "man page: $s"; else not_ok "man page: $s"; fi
done
section ".SH EXIT STATUS" >sec.txt
missing=
for status in 1 2 125 128+N; do
	grep -qx "$status" sec.txt || missing+=" $status"
done
expect_eq "man page: the exit statuses" "" "$missing"
missing=
for v in $(grep -oE '`GLASSHOUSE_[A-Z_]+' "$ROOT/README.md" | tr -d '`' | sort -u); do
	section ".SH ENVIRONMENT" | grep -q "^\.B $v" || missing+=" $v"
done
expect_eq "man page: every variable of README's Environment" "" "$missing"

# --- bash completion, driven as bash does: COMP_WORDS, COMP_CWORD, then COMPREPLY.
. "$ROOT/scripts/glasshouse.bash-completion"
# offered WORD...: what completing the last word offers, sorted, on one line.
offered() {
	local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
	_glasshouse
	printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}
expect_eq "completion: exactly the subcommands" "$(printf '%s\n' "${commands[@]}" | sort | paste -sd' ')" \
	"$(offered glasshouse '')"
expect_eq "completion: exactly the global options" "$(flags global | paste -sd' ')" "$(offered glasshouse -)"
for c in "${commands[@]}"; do
	want=$( (flags option "$c"; printf '%s\n' -h --help) | sort | paste -sd' ')
	expect_eq "completion: exactly the options of $c, -h and --help" "$want" "$(offered glasshouse "$c" -)"
	while read -r _ _ f value values; do
		# a switch, or an optional value (given only after =: --wait-all[=SECONDS])
		if [ "$value" = - ] || [ "${value#[=}" != "$value" ]; then
			expect_eq "completion: after $c $f, options still" "$want" \
				"$(offered glasshouse "$c" "$f" -)"
		else
			expect_eq "completion: after $c $f $value, options still" "$want" \
				"$(offered glasshouse "$c" "$f" x -)"
		fi
		[ -n "$values" ] || continue
		expect_eq "completion: the values of $c $f" "$(printf '%s\n' $values | sort | paste -sd' ')" \
			"$(offered glasshouse "$c" "$f" '')"
	done < <(awk -v c="$c" '$1 == "option" && $2 == c' list.txt)
done
expect_eq "completion: a value after = (bash splits --backend=fi)" firecracker \
	"$(offered glasshouse run --backend = fi)"
expect_eq "completion: a backend setting's path" "kernel=|vmlinuz" \
	"$(touch vmlinuz && offered glasshouse run --backend-opt kernel | tr ' ' '\n' | grep kernel)|$(offered glasshouse run --backend-opt kernel = vm)"
expect_eq "completion: help completes subcommands" "$(offered glasshouse '')" "$(offered glasshouse help '')"
mkdir -p dir && touch a.lua b.txt
expect_eq "completion: script takes *.lua files and folders" "a.lua dir" \
	"$(offered glasshouse script '' | tr ' ' '\n' | grep -E '^(a.lua|b.txt|dir)$' | paste -sd' ')"
expect_eq "completion: a command after run's options" "sh" \
	"$(offered glasshouse run -o r.json -- sh | tr ' ' '\n' | grep -x sh)"
expect_eq "completion: the command's words are files" "b.txt" \
	"$(offered glasshouse run --guest ls b.)"
expect_eq "completion: the command after script's --" "sh" \
	"$(offered glasshouse script a.lua x -- sh | tr ' ' '\n' | grep -x sh)"

# --- make install
dest=$T/dest
if make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/usr >install.txt 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	not_ok "make install DESTDIR PREFIX=/usr" "$(tail -3 install.txt)"
fi
missing=
[ -x "$dest/usr/bin/glasshouse" ] || missing+=" bin/glasshouse"
cmp -s "$MAN" "$dest/usr/share/man/man1/glasshouse.1" || missing+=" man1/glasshouse.1"
cmp -s "$ROOT/scripts/glasshouse.bash-completion" \
	"$dest/usr/share/bash-completion/completions/glasshouse" || missing+=" completions/glasshouse"
expect_eq "make install: the binary, the man page and the completion" "" "$missing"
if command -v man >/dev/null; then
	MANWIDTH=80 man -l "$dest/usr/share/man/man1/glasshouse.1" >man-out.txt 2>man-err.txt
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s man-err.txt ] && grep -q 'glasshouse run \[OPTIONS\]' man-out.txt; then
		ok "man -l renders the installed page without a warning"
	else
		not_ok "man -l renders the installed page without a warning" "rc=$rc" "$(head -3 man-err.txt)"
	fi
elif [ -n "${CI:-}" ]; then
	not_ok "man -l renders the installed page" "man-db is not installed"
else
	ok "man -l renders the installed page # SKIP man-db is not installed"
fi

finish
