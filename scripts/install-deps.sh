#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages glasshouse needs to build and test; does nothing when all are present.
set -eu

PKGS="make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libssl-dev \
liblua5.4-dev lua5.4 lua-cjson libreadline-dev lua-busted libcmocka-dev \
strace tmux python3 python3-jsonschema python3-securesystemslib openssl iproute2 jq bc libclang-rt-14-dev clang-format valgrind \
sudo libcap2-bin"
# `make bench` also compares with bpftrace.
[ -n "${BENCH:-}" ] && PKGS="$PKGS bpftrace"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing; run as root or install them with apt-get" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (a second make, unattended upgrades) may hold dpkg's lock: wait for it.
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
