#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs what building and testing ipbanset needs, unless it is all there already.
set -eu

# deps.sh build: what building ipbanset and `make demo` need.
# deps.sh test (the default): that, and what the test suites need.
mode=${1:-test}
case "$mode" in
build | test) ;;
*)
	echo "usage: deps.sh [build|test]" >&2
	exit 2
	;;
esac

# build, and the demo (namespaces, nft, ping)
PACKAGES="gcc make pkg-config libmnl-dev libnftnl-dev libipset-dev libsqlite3-dev
nftables iproute2 iputils-ping"
if [ "$mode" = test ]; then
	# the core tests: bats (parallel runs its files side by side), the ipset backend
	# against iptables, the journal read with sqlite3
	PACKAGES="$PACKAGES bats parallel jq mandoc util-linux procps sqlite3 netcat-openbsd
ipset iptables"
	# integrations, each tested against the real program: fail2ban, systemd-analyze,
	# cron imports (curl, python3's http.server), Ansible, packages, completions
	PACKAGES="$PACKAGES fail2ban python3 systemd curl ansible-core
dpkg-dev debhelper devscripts fakeroot lintian rpm rpm2cpio git bash-completion zsh fish"
	# the libFuzzer targets (tests/fuzz)
	PACKAGES="$PACKAGES clang libclang-rt-14-dev"
fi

missing=()
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all packages present ($mode)"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; install them with: apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Installing fail2ban must not start it on this host (its default jail would add
# firewall rules to the host's ruleset): forbid service starts while apt runs.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	own_policy=1
	trap 'rm -f "$policy"' EXIT
fi
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PACKAGES
if [ -n "$own_policy" ]; then rm -f "$policy"; fi
