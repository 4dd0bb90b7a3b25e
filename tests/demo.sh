#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: ipbanset end to end in a pair of throwaway network namespaces.
# Nothing touches the host's firewall: the "server" namespace has its own nftables.
set -eu
cd "$(dirname "$0")/.."

IPBANSET=${IPBANSET:-./ipbanset}
[ -x ./ipbanset ] || make -s ipbanset
IPBANSET=$(realpath "$IPBANSET")

SRV="ibs-demo-srv-$$"
ATK="ibs-demo-atk-$$"
WORK=$(mktemp -d /tmp/ipbanset-demo.XXXXXX)
chmod 0700 "$WORK"

cleanup() {
	ip netns del "$SRV" 2>/dev/null || true
	ip netns del "$ATK" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root (it creates network namespaces)" >&2
	exit 1
fi

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# show CMD...: print the command as a user would type it, then run it.
show() {
	local words=("$@")
	case "$1" in
	ibs) words=(ipbanset "${@:2}") ;;
	attacker_ping) words=(ip netns exec "$ATK" ping -c1 -W1 -I 198.51.100.2 198.51.100.1) ;;
	esac
	printf '$'
	printf ' %q' "${words[@]}"
	printf '\n'
	"$@"
}
ibs() { ip netns exec "$SRV" "$IPBANSET" -d "$WORK/ipbanset.db" -c "$WORK/ipbanset.conf" "$@"; }
attacker_ping() { ip netns exec "$ATK" ping -c1 -W1 -I 198.51.100.2 198.51.100.1; }

say "Setting up two namespaces: server $SRV (198.51.100.1) and attacker $ATK (198.51.100.2)"
ip netns add "$SRV"
ip netns add "$ATK"
ip link add ibs0 netns "$SRV" type veth peer name ibs1 netns "$ATK"
ip -n "$SRV" addr add 198.51.100.1/24 dev ibs0
ip -n "$ATK" addr add 198.51.100.2/24 dev ibs1
for ns in "$SRV" "$ATK"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set ibs0 up
ip -n "$ATK" link set ibs1 up
printf '# demo configuration\ndefault_timeout = 1h\n' >"$WORK/ipbanset.conf"
chmod 0600 "$WORK/ipbanset.conf"

say "ipbanset init (in the server namespace)"
show ibs init

say "Before the ban: the attacker's ping gets through"
show attacker_ping

say "Banning the attacker for 10 minutes, with a reason"
show ibs ban --timeout 10m --source demo --reason "too many failed logins" 198.51.100.2

say "ipbanset status"
show ibs status

say "ipbanset list"
show ibs list

say "nft list table inet ipbanset"
show ip netns exec "$SRV" nft list table inet ipbanset

say "After the ban: the ping is dropped"
if attacker_ping; then
	echo "demo: FAILED: the ping got through although the attacker is banned" >&2
	exit 1
fi
echo "(dropped, as expected)"

say "ipbanset query 198.51.100.2 (exit 0 = banned)"
show ibs query 198.51.100.2

say "Unbanning the attacker"
show ibs unban --source demo 198.51.100.2

say "After the unban: the ping gets through again"
show attacker_ping

say "ipbanset log"
show ibs log

say "Done; the namespaces are removed on exit"
