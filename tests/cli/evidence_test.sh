#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Evidence: keygen, products' content hashes, run --sign and verify, checked against tools nobody
# here wrote (openssl, sha256sum, Debian's python3-securesystemslib). Needs root and eBPF for
# the products: outside CI those tests are skipped when the collector cannot load.
set -u
cd "$(dirname "$0")/../.."
. tests/cli/lib.sh
T=$(mktemp -d /tmp/gh-evidence-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

# --- keygen
out=$("$GH" keygen k 2>err.txt)
rc=$?
want=$(openssl pkey -pubin -in k.pub -outform DER | sha256sum | cut -d' ' -f1)
expect_eq "keygen: exit 0, prints the SHA-256 of the DER SubjectPublicKeyInfo" "0|$want" "$rc|$out"
expect_eq "keygen: PREFIX.key is PKCS#8 PEM, mode 0600; PREFIX.pub SubjectPublicKeyInfo PEM" \
	"600|-----BEGIN PRIVATE KEY-----|-----BEGIN PUBLIC KEY-----|ED25519 Private-Key:" \
	"$(stat -c %a k.key)|$(head -1 k.key)|$(head -1 k.pub)|$(openssl pkey -in k.key -noout -text | head -1)"
before=$(sha256sum k.key k.pub)
"$GH" keygen k >out.txt 2>err.txt
expect_eq "keygen over an existing key: exit 1, names it, changes nothing" \
	"1|glasshouse: keygen: cannot write k.key: it already exists (it is never overwritten)|$before|" \
	"$?|$(cat err.txt)|$(sha256sum k.key k.pub)|$(cat out.txt)"
echo keep >only.pub
"$GH" keygen only >/dev/null 2>err.txt
expect_eq "keygen when PREFIX.pub exists: exit 1, names it, leaves no .key behind" \
	"1|glasshouse: keygen: cannot write only.pub: it already exists (it is never overwritten)|no|keep" \
	"$?|$(cat err.txt)|$([ -e only.key ] && echo yes || echo no)|$(cat only.pub)"
mkdir dflt && (cd dflt && "$GH" keygen >/dev/null 2>&1)
expect_eq "keygen: PREFIX defaults to glasshouse" "glasshouse.key glasshouse.pub" "$(cd dflt && echo *)"
"$GH" keygen a b >/dev/null 2>err.txt
expect_eq "keygen with two words: usage error" "2" "$?"

# --- the key is checked before the command runs
cp k.key bad-mode.key && chmod 640 bad-mode.key
cp k.key nobody.key && chown nobody nobody.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
chmod 600 ec.key
echo "not a key" >junk.key && chmod 600 junk.key
ln -s k.key link.key
check_key() { # NAME KEY WANT-MESSAGE
	rm -f ran
	"$GH" run -o r.json --sign "$2" -- touch ran >/dev/null 2>err.txt
	expect_eq "run --sign $1: exit 2, the file and the problem named, the command not run" \
		"2|$3|no" "$?|$(head -1 err.txt)|$([ -e ran ] && echo yes || echo no)"
}
check_key "missing" nokey.key "glasshouse: --sign: nokey.key: No such file or directory"
check_key "readable by group" bad-mode.key \
	"glasshouse: --sign: bad-mode.key: the private key is readable or writable by group or others (chmod 600 it)"
check_key "owned by another user" nobody.key \
	"glasshouse: --sign: nobody.key: the private key is owned by uid $(id -u nobody), not by uid 0 or root"
check_key "of the wrong type" ec.key "glasshouse: --sign: ec.key: not an Ed25519 key"
check_key "not a key" junk.key "glasshouse: --sign: junk.key: not a PEM private key (PKCS#8, unencrypted)"
check_key "a symbolic link" link.key \
	"glasshouse: --sign: link.key: it is a symbolic link (name the key file itself)"
cp k.pub pub.key && chmod 600 pub.key
check_key "the public key" pub.key "glasshouse: --sign: pub.key: not a PEM private key (PKCS#8, unencrypted)"
"$GH" run --attestation a.jsonl -- true >/dev/null 2>err.txt
expect_eq "run --attestation without --sign: usage error" \
	"2|glasshouse: --attestation needs --sign KEY" "$?|$(head -1 err.txt)"

# --- products (eBPF)
mkdir w
(cd w && "$GH" run -o ../r.json --sign ../k.key -- sh -c '
	echo hi > written.txt
	echo a > tmp1; mv tmp1 renamed.txt
	echo x > gone; rm gone
	printf "a longer first text" > rewritten; : > rewritten; printf short > rewritten
	echo h > h1; ln h1 h2
	ln -s target.txt link; echo s > link
	ln -s /etc/shadow made-link
	mkfifo fifo
	mkdir d; echo y > d/f
	printf m > /dev/null
	env > env.txt' >/dev/null 2>../err.txt)
rc=$?
status=$(jq -r .collector.status r.json 2>/dev/null)
if [ "$rc" -ne 0 ] || [ "$status" != ok ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "products need the collector (CI: no skipping)" "rc=$rc status=$status" "$(cat err.txt)"
	else
		echo "# skipping the products tests: collector $status ($(jq -r .collector.error r.json))"
	fi
	finish
	exit
fi
W=$T/w
want=$(cd w && for f in d/f env.txt h1 h2 renamed.txt rewritten target.txt written.txt; do
	printf '%s %s %s\n' "$W/$f" "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")"; done)
products() { jq -r '.filesystem.products[] | "\(.path) \(.sha256) \(.size)"' "$1"; }
expect_eq "products: written, renamed (final name), truncated and rewritten, hard-linked (both names), in a new directory, written through a symbolic link (the file it leads to; the link and the one only made are none); not the deleted file, the FIFO or /dev/null; hashes as sha256sum's" \
	"$want" "$(products r.json)"
jq_eq "no materials without --materials" r.json '.filesystem | has("materials")' false
python3 "$OLDPWD/tests/cli/validate.py" "$OLDPWD/docs/receipt.schema.json" r.json >/dev/null 2>&1
expect_eq "the receipt with products validates against the schema" 0 $?

# --materials: every regular file read, hashed; fileAccess carries them too.
echo src >w/input.txt
(cd w && "$GH" run -o ../m.json --materials --sign ../k.key -- sh -c 'cat input.txt > copy.txt' >/dev/null 2>&1)
jq_eq "--materials: the file read, hashed as sha256sum does" m.json \
	".filesystem.materials[] | select(.path == \"$W/input.txt\") | [.sha256, .size]" \
	"[\"$(sha256sum w/input.txt | cut -d' ' -f1)\",4]"
jq -r .payload m.intoto.jsonl | base64 -d >mpayload.json
jq_eq "--materials: the materials are in the predicate's fileAccess, with digests" mpayload.json \
	".predicate.monitorLog.fileAccess | map(select(.name == \"$W/input.txt\" or .name == \"$W/copy.txt\") | .digest.sha256)" \
	"[\"$(sha256sum w/copy.txt | cut -d' ' -f1)\",\"$(sha256sum w/input.txt | cut -d' ' -f1)\"]"

# A run that is not complete (here: a filter ran) is still signed, and says so; verify prints it.
cat >inc.lua <<'LUA'
local gh = require "glasshouse"
local key = assert(gh.load_key(arg[1], gh.invoking_uid()))
local r = gh.run(gh.command, { output = "inc.json", sign = key, filter = function() return true end })
return gh.exit_status(r)
LUA
"$GH" script inc.lua k.key -- true >/dev/null 2>&1
jq -r .payload inc.intoto.jsonl | base64 -d >inc-payload.json
jq_eq "an incomplete run is signed, its collector.complete false in the predicate" inc-payload.json \
	'.predicate.glasshouse.collector | [.status, .complete, .filter_active]' '["ok",false,true]'
expect_eq "verify: an incomplete run is valid, and the summary says it was not complete" \
	"  collector complete: NO (status ok, 0 lost, 0 truncated, a filter dropped events)" \
	"$("$GH" verify inc.intoto.jsonl --key k.pub 2>&1 | tail -1)"

# Under sudo (root, SUDO_UID set) a key owned by the invoking user is accepted; the command, the
# receipt and the attestation are that user's.
SUDO_UID=$(id -u nobody) "$GH" run -o s.json --sign nobody.key -- id -un >s.out 2>err.txt
expect_eq "run --sign under sudo: a key owned by the invoking user (SUDO_UID) is used" \
	"0|yes|nobody|nobody nobody" \
	"$?|$([ -e s.intoto.jsonl ] && echo yes || echo no)|$(cat s.out)|$(stat -c %U s.json s.intoto.jsonl | xargs)"

# A hostile user swaps a directory of its own product for a link to /etc once the command has
# written it (the command waits for that), before glasshouse hashes: root hashes nothing the user
# could not read (products and materials are opened with the command's rights), so /etc/shadow's
# digest is nowhere in the receipt, and the entry says why.
H=$(mktemp -d /tmp/gh-hostile-XXXXXX) # $T is root's alone; this one is nobody's
chown nobody "$H"
SUDO_UID=$(id -u nobody) "$GH" run -o hostile.json --materials -- sh -c '
	cd "$1" && mkdir a && echo mine > a/shadow && cat a/shadow >/dev/null && : > done
	i=0; while [ ! -e swapped ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done' sh "$H" \
	>/dev/null 2>err.txt &
runner=$!
for _ in $(seq 250); do [ -e "$H/done" ] && break; sleep 0.02; done
setpriv --reuid nobody --regid nogroup --clear-groups sh -c \
	'cd "$1" && mv a a.old && ln -s /etc a && : > swapped' sh "$H"
wait "$runner"
jq_eq "a directory swapped for a link to /etc by another user: the product is not hashed as root" \
	hostile.json '[.filesystem.products[], .filesystem.materials[] | select(.path | endswith("/a/shadow"))]' \
	"[{\"path\":\"$H/a/shadow\",\"sha256\":null,\"size\":null,\"error\":\"$H/a/shadow: Permission denied\"},{\"path\":\"$H/a/shadow\",\"sha256\":null,\"size\":null,\"error\":\"$H/a/shadow: Permission denied\"}]"
expect_eq "a directory swapped for a link to /etc: /etc/shadow's digest is nowhere in the receipt" \
	0 "$(grep -c "$(sha256sum /etc/shadow | cut -d' ' -f1)" hostile.json)"
rm -rf "$H"

# A 1 GiB product (sparse) is streamed: glasshouse's peak RSS stays within 16 MiB of a 1-byte one.
mkdir big
rss() { (cd big && /usr/bin/time -f %M "$GH" run -o r.json -- truncate -s "$1" p 2>&1 >/dev/null | tail -1); }
small=$(rss 1)
large=$(rss 1G)
expect_eq "a 1 GiB product: hashed as sha256sum does, size 1073741824" \
	"$(sha256sum big/p | cut -d' ' -f1) 1073741824" \
	"$(jq -r '.filesystem.products[] | select(.path | endswith("/big/p")) | "\(.sha256) \(.size)"' big/r.json)"
if [ -n "$small" ] && [ -n "$large" ] && [ $((large - small)) -lt 16384 ]; then
	ok "a 1 GiB product: peak RSS flat (${small} KiB for 1 byte, ${large} KiB for 1 GiB)"
else
	not_ok "a 1 GiB product: peak RSS flat" "1 byte: $small KiB, 1 GiB: $large KiB"
fi
rm -rf big

# --- the attestation
A=w/receipt.intoto.jsonl
[ -e r.intoto.jsonl ] && A=r.intoto.jsonl
expect_eq "run --sign: r.json -> r.intoto.jsonl, one line" "r.intoto.jsonl|1" "$A|$(wc -l <"$A")"
jq -r .payload "$A" | base64 -d >payload.json
jq_eq "envelope: payloadType, one signature with the key id" "$A" \
	'[.payloadType, (.signatures | length), .signatures[0].keyid]' \
	"[\"application/vnd.in-toto+json\",1,\"$(cat k.pub | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)\"]"
jq_eq "statement: type, predicateType" payload.json '[._type, .predicateType]' \
	'["https://in-toto.io/Statement/v1","https://in-toto.io/attestation/runtime-trace/v0.1"]'
wantsub=$(cd w && for f in d/f env.txt h1 h2 renamed.txt rewritten target.txt written.txt; do
	printf '%s %s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"; done
	printf 'r.json %s true\n' "$(sha256sum ../r.json | cut -d' ' -f1)")
expect_eq "subjects: products relative to the working directory, then the receipt, marked" "$wantsub" \
	"$(jq -r '.subject[] | "\(.name) \(.digest.sha256)\(if .annotations then " \(.annotations["dev.glasshouse.receipt"])" else "" end)"' payload.json)"
jq_eq "predicate: monitor, monitoredProcess, the tree, fileAccess digests, times, collector" payload.json \
	'[(.predicate.monitor.type | startswith("https://glasshouse.dev/monitor/glasshouse@")), .predicate.monitoredProcess.hostID == "'"$(uname -n)"'", (.predicate.monitoredProcess.event | startswith("sh -c")), (.predicate.monitorLog.process | length > 5), (.predicate.monitorLog.fileAccess | length), (.predicate.metadata.buildStartedOn <= .predicate.metadata.buildFinishedOn), .predicate.glasshouse.collector.complete, .predicate.glasshouse.exit_code]' \
	'[true,true,true,true,8,true,true,0]'
"$GH" run -o r2.json --sign k.key --attestation nodir/a.jsonl -- true >/dev/null 2>err.txt
expect_eq "run --sign: an attestation that cannot be written: exit 125, one line naming it" \
	"125|glasshouse: cannot write nodir/a.jsonl: No such file or directory|yes" \
	"$?|$(cat err.txt)|$([ -e r2.json ] && echo yes || echo no)"
keybody=$(sed -n 2p k.key)
if grep -rqF -- "$keybody" r.json "$A" payload.json w/env.txt err.txt; then
	not_ok "no key material in the receipt, the attestation, messages or the command's environment"
else
	ok "no key material in the receipt, the attestation, messages or the command's environment"
fi

# --- interop: openssl and securesystemslib over the PAE built here
ptype=$(jq -r .payloadType "$A")
{ printf 'DSSEv1 %d %s %d ' ${#ptype} "$ptype" "$(stat -c %s payload.json)"; cat payload.json; } >pae.bin
jq -r '.signatures[0].sig' "$A" | base64 -d >sig.bin
expect_eq "openssl pkeyutl -verify -rawin over the PAE" "Signature Verified Successfully" \
	"$(openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in pae.bin -sigfile sig.bin 2>&1)"
printf X >>pae.bin
expect_eq "openssl pkeyutl -verify: a changed PAE fails" "Signature Verification Failure" \
	"$(openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in pae.bin -sigfile sig.bin 2>&1 | head -1)"
pubhex=$(openssl pkey -pubin -in k.pub -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
got=$(/usr/bin/python3 - "$A" "$pubhex" <<'PY' 2>&1
import base64, json, sys
from securesystemslib.signer import SSlibKey, Signature
from securesystemslib.exceptions import UnverifiedSignatureError
env = json.load(open(sys.argv[1]))
body = base64.b64decode(env["payload"])
t = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
s = env["signatures"][0]
key = SSlibKey(s["keyid"], "ed25519", "ed25519", {"public": sys.argv[2]})
sig = Signature(s["keyid"], base64.b64decode(s["sig"]).hex())
key.verify_signature(sig, pae)
try:
    key.verify_signature(sig, pae + b" ")
    print("tampered accepted")
except UnverifiedSignatureError:
    print("verified; tampered refused")
PY
)
expect_eq "securesystemslib 0.26 (Debian) verifies the signature over the PAE" \
	"verified; tampered refused" "$got"

# --- verify
"$GH" verify "$A" --key k.pub --products w >out.txt 2>err.txt
expect_eq "verify: exit 0 and a summary" \
	"0|valid: $A|  command: sh -c|  exit status: 0|  products: 8 (all match under w)|  collector complete: yes|" \
	"$?|$(sed -n 1p out.txt)|$(sed -n 2p out.txt | cut -c1-16)|$(sed -n 3p out.txt)|$(sed -n 4p out.txt)|$(sed -n 6p out.txt)|$(cat err.txt)"
"$GH" keygen other >/dev/null 2>&1
"$GH" verify "$A" --key other.pub >/dev/null 2>err.txt
expect_eq "verify: the wrong key: exit 1" \
	"1|glasshouse: verify: NOT VALID: $A: no signature verifies with the key other.pub" "$?|$(cat err.txt)"
# reenvelope FILTER-ON-STATEMENT [FILTER-ON-ENVELOPE]: the envelope with its payload edited.
reenvelope() {
	local p
	p=$(jq -c "$1" payload.json | tr -d '\n' | base64 -w0)
	jq -c --arg p "$p" ".payload = \$p | ${2:-.}" "$A"
}
bad() { # NAME FILE WANT-RC WANT-LINE [ARGS...]
	local name=$1 f=$2 wrc=$3 wline=$4
	shift 4
	"$GH" verify "$f" --key k.pub "$@" >/dev/null 2>err.txt
	expect_eq "verify: $name: exit $wrc" "$wrc|$wline" "$?|$(tail -1 err.txt)"
}
reenvelope '.predicate.glasshouse.exit_code = 1' >edited.jsonl
bad "an edited payload" edited.jsonl 1 \
	"glasshouse: verify: NOT VALID: edited.jsonl: no signature verifies with the key k.pub"
reenvelope '.subject += [{"name": "extra", "digest": {"sha256": "00"}}]' >added.jsonl
bad "an added product subject" added.jsonl 1 \
	"glasshouse: verify: NOT VALID: added.jsonl: no signature verifies with the key k.pub"
jq -c '.payloadType = "application/json"' "$A" >swapped.jsonl
bad "a swapped payloadType (the PAE covers it)" swapped.jsonl 1 \
	"glasshouse: verify: NOT VALID: swapped.jsonl: no signature verifies with the key k.pub"
head -c 200 "$A" >truncated.jsonl
bad "a truncated envelope" truncated.jsonl 1 \
	"glasshouse: verify: NOT VALID: truncated.jsonl: not a DSSE envelope (JSON with payload, payloadType, signatures)"
jq -c '.payload |= (gsub("\\+"; "-") | gsub("/"; "_") | rtrimstr("=") | rtrimstr("="))
	| .signatures[0].sig |= (gsub("\\+"; "-") | gsub("/"; "_") | rtrimstr("=") | rtrimstr("="))' "$A" >urlsafe.jsonl
"$GH" verify urlsafe.jsonl --key k.pub --receipt r.json >/dev/null 2>err.txt
expect_eq "verify: URL-safe base64 without padding is accepted" "0|" "$?|$(cat err.txt)"
cp r.json r.saved && echo >>r.json
bad "an edited receipt" "$A" 1 \
	"glasshouse: verify: NOT VALID: r.json: the receipt's SHA-256 is $(sha256sum r.json | cut -d' ' -f1), the attestation says $(sha256sum r.saved | cut -d' ' -f1)"
mv r.saved r.json
bad "an edited receipt named by --receipt" "$A" 1 \
	"glasshouse: verify: NOT VALID: w/env.txt: the receipt's SHA-256 is $(sha256sum w/env.txt | cut -d' ' -f1), the attestation says $(sha256sum r.json | cut -d' ' -f1)" \
	--receipt w/env.txt
echo more >>w/h1
rm w/written.txt
"$GH" verify "$A" --key k.pub --products w >/dev/null 2>err.txt
rc=$?
h=$(sha256sum w/h1 | cut -d' ' -f1) old=$(jq -r '.subject[] | select(.name == "h1") | .digest.sha256' payload.json)
expect_eq "verify --products: changed products (h1 and its hard link h2) and a missing one listed, exit 1" \
	"1|glasshouse: verify: changed: w/h1 (SHA-256 $h, attested $old)|glasshouse: verify: changed: w/h2 (SHA-256 $h, attested $old)|glasshouse: verify: missing: w/written.txt|glasshouse: verify: NOT VALID: 3 of 8 products missing or changed under w" \
	"$rc|$(sed -n 1p err.txt)|$(sed -n 2p err.txt)|$(sed -n 3p err.txt)|$(sed -n 4p err.txt)"
bad "an unreadable attestation" nosuch.jsonl 2 "glasshouse: verify: nosuch.jsonl: No such file or directory"
bad "a public key that is not one" "$A" 2 "glasshouse: verify: k.key: not a PEM public key (SubjectPublicKeyInfo)" --key k.key
"$GH" verify "$A" >/dev/null 2>err.txt
expect_eq "verify without --key: usage error" "2|glasshouse: verify needs --key PUB" "$?|$(head -1 err.txt)"

finish
