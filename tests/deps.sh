#!/bin/bash
# Installs what building and testing ipbanset needs, unless it is all there already.
set -eu

PACKAGES="gcc make pkg-config libmnl-dev libnftnl-dev libsqlite3-dev
nftables iproute2 iputils-ping netcat-openbsd bats jq mandoc util-linux procps"

missing=()
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; install them with: apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PACKAGES
