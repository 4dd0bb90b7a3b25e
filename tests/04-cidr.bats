#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# CIDR prefixes, nested prefixes with their own expiries.

load helper

file_setup() {
	ibs_init
}

@test "an IPv4 /24 drops every address in it and nothing outside" {
	ibs_ok ban 198.51.100.0/25
	assert_kernel_has v4_25 198.51.100.0
	assert_dropped "$ATK_ADDR"
	assert_dropped 198.51.100.77
	assert_reachable 203.0.113.5
	ibs_ok unban 198.51.100.0/25
	assert_reachable 198.51.100.77
}

@test "an IPv4 /16 reaches addresses routed from elsewhere" {
	ibs_ok ban 203.0.0.0/16
	assert_kernel_has v4_16 203.0.0.0
	assert_dropped 203.0.113.5
	assert_dropped 203.0.5.5
	assert_reachable 192.0.2.10
	assert_reachable "$ATK_ADDR"
}

@test "an IPv6 /48 drops every address in it and nothing outside" {
	ibs_ok ban 2001:db8:2::/48
	assert_kernel_has v6_48 2001:db8:2::
	assert_dropped 2001:db8:2::5
	assert_dropped 2001:db8:2:1::5
	assert_reachable "$ATK_ADDR6"
	ibs_ok unban 2001:db8:2::/48
	assert_reachable 2001:db8:2::5
}

@test "config ipv6_prefix = 64 bans a bare IPv6 address as its /64" {
	config 'ipv6_prefix = 64'
	ibs_ok ban 2001:db8:2::5
	assert_kernel_has v6_64 2001:db8:2::
	assert_dropped 2001:db8:2::6
	assert_reachable 2001:db8:2:1::5
}

# The /16 (8s) and the /24 (60s) inside it, added in the given order. After the /16
# has expired the /24 must still drop, and the rest of the /16 must pass. 8s: with the
# files side by side, the bans and the checks before the expiry can take seconds.
nested_expiry() {
	local order=$1 t0=$SECONDS
	if [ "$order" = outer-first ]; then
		ibs_ok ban --timeout 8s 203.0.0.0/16
		ibs_ok ban --timeout 60s 203.0.113.0/24
	else
		ibs_ok ban --timeout 60s 203.0.113.0/24
		t0=$SECONDS
		ibs_ok ban --timeout 8s 203.0.0.0/16
	fi
	assert_dropped 203.0.5.5
	assert_kernel_has v4_16 203.0.0.0
	assert_kernel_has v4_24 203.0.113.0
	[ "$(kernel_timeout v4_16 203.0.0.0)" -le 8 ]
	[ "$(kernel_timeout v4_24 203.0.113.0)" -gt 50 ]
	sleep_until $((t0 + 9))
	sleep 0.5
	assert_reachable 203.0.5.5
	assert_dropped 203.0.113.5
	assert_dropped 203.0.113.9
	run ibs query 203.0.113.5
	assert_status 0
	run ibs query 203.0.5.5
	assert_status 1
}

@test "nested prefixes: the inner /24 (60s) outlives the outer /16 (8s), outer added first" {
	nested_expiry outer-first
}

@test "nested prefixes: the inner /24 (60s) outlives the outer /16 (8s), inner added first" {
	nested_expiry inner-first
}

@test "withdrawing an inner ban keeps the outer one" {
	ibs_ok ban 203.0.0.0/16 203.0.113.0/24 203.0.113.5
	ibs_ok unban 203.0.113.0/24 203.0.113.5
	assert_kernel_lacks v4_24 203.0.113.0
	assert_dropped 203.0.113.5
	assert_dropped 203.0.5.5
	run ibs query 203.0.113.5
	assert_status 0
}

@test "withdrawing the outer ban keeps the inner ones" {
	ibs_ok ban 203.0.0.0/16 203.0.113.0/24 192.0.2.10
	ibs_ok unban 203.0.0.0/16
	assert_kernel_lacks v4_16 203.0.0.0
	assert_reachable 203.0.5.5
	assert_dropped 203.0.113.5
	assert_dropped 192.0.2.10
}

@test "a prefix and an address inside it are separate bans in the journal" {
	ibs_ok ban 198.51.100.0/24 "$ATK_ADDR"
	run list_json
	jq_ok --arg a "$ATK_ADDR" '[.[].target] | sort == ([$a, "198.51.100.0/24"] | sort)'
	ibs_ok unban 198.51.100.0/24
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
}

@test "sets for a prefix length disappear with their last ban" {
	skip_unless_nft "one set per prefix length is the nftables layout; ipset keeps its four sets"
	ibs_ok ban 203.0.113.0/24
	kernel_has_set v4_24
	ibs_ok unban 203.0.113.0/24
	refute kernel_has_set v4_24
	assert_reachable 203.0.113.5
}
