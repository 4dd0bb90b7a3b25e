#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# --netns NAME: ipbanset enters the named network namespace itself (like ip -n), so a
# host can manage the bans of its containers' namespaces without "ip netns exec".

load helper

# nsibs ARGS...: ipbanset run from the host's namespace, pointed at the server's.
nsibs() {
	local rc=0
	# shellcheck disable=SC2086
	$IPBANSET -d "$DB" -c "$CONF" --netns "$SRV" "$@" || rc=$?
	if is_ipset; then
		ipset_rules
	fi
	return $rc
}

@test "--netns: bans land in the named namespace, and packets prove it" {
	run --separate-stderr nsibs init
	assert_status 0
	run --separate-stderr nsibs ban -t 1h "$ATK_ADDR"
	assert_status 0
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	# the host's own ruleset never saw the table
	refute nft list table inet ipbanset
	run --separate-stderr nsibs unban "$ATK_ADDR"
	assert_status 0
	assert_reachable "$ATK_ADDR"
}

@test "--netns stands after the command too, and status reads the namespace's kernel" {
	nsibs init
	nsibs ban 203.0.113.0/24
	run --separate-stderr $IPBANSET -d "$DB" -c "$CONF" status --json --netns "$SRV"
	assert_status 0
	jq_ok '.kernel.present and .kernel.in_sync and .total == 1'
	assert_dropped 203.0.113.5
}

@test "--netns: one journal per namespace keeps two namespaces apart" {
	local other="ibs-oth-${IBS_RUN:-$$}-$BATS_TEST_NUMBER-$RANDOM"
	ip netns add "$other"
	nsibs init
	nsibs ban 203.0.113.9
	$IPBANSET -d "$WORK/other.db" -c "$CONF" --netns "$other" init
	$IPBANSET -d "$WORK/other.db" -c "$CONF" --netns "$other" ban 192.0.2.10
	if is_ipset; then
		run ip netns exec "$other" ipset list -o save
		ip netns del "$other"
		[ "$status" -eq 0 ]
		[ "$(grep '^add ' <<<"$output" | cut -d' ' -f3)" = 192.0.2.10 ]
	else
		run ip netns exec "$other" nft -j list table inet ipbanset
		ip netns del "$other"
		[ "$status" -eq 0 ]
		jq -e '[.nftables[] | select(.set) | .set.elem // [] | .[]] | map(if type == "object" then .elem.val else . end) == ["192.0.2.10"]' <<<"$output" >/dev/null
	fi
	assert_dropped 203.0.113.9
	assert_reachable 192.0.2.10
}

@test "--netns as an unprivileged user: exit 4, nothing changed" {
	nsibs init
	prepare_nobody
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		$NOBODY_BIN -d "$NOBODY_DIR/state/ipbanset.db" -c "$NOBODY_DIR/state/ipbanset.conf" \
		--netns "$SRV" ban "$ATK_ADDR"
	assert_status 4
	assert_stderr_prefixed
	assert_stderr_has "$SRV"
	assert_reachable "$ATK_ADDR"
}
