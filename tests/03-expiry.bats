#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The kernel enforces expiry on its own: no ipbanset process runs when a ban ends.

load helper

file_setup() {
	ibs_init
}

# 6s, not less: with files side by side the checks before the expiry can take seconds
@test "the kernel lifts a 6s ban with no ipbanset process running" {
	local t0=$SECONDS
	ibs_ok ban --timeout 6 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	run kernel_timeout v4_32 "$ATK_ADDR"
	[ "$output" -ge 1 ]
	[ "$output" -le 6 ]
	sleep_until $((t0 + 7))
	sleep 0.5
	assert_reachable "$ATK_ADDR"
	assert_kernel_lacks v4_32 "$ATK_ADDR"
}

@test "an expired ban is neither listed nor reported by query" {
	# expiries are whole seconds, and on a loaded machine (files run side by side) the
	# second ban and the query may take a second or more: 4s, then wait out the rest
	local t0=$SECONDS
	ibs_ok ban --timeout 4s "$ATK_ADDR"
	ibs_ok ban --timeout 1h 198.51.100.3
	run ibs query "$ATK_ADDR"
	assert_status 0
	sleep_until $((t0 + 5))
	run ibs query "$ATK_ADDR"
	assert_status 1
	run list_json
	jq_ok 'length == 1 and .[0].target == "198.51.100.3"'
}

@test "an IPv6 ban expires in the kernel too" {
	local t0=$SECONDS
	ibs_ok ban --timeout 6s "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR6"
	sleep_until $((t0 + 7))
	assert_reachable "$ATK_ADDR6"
}

@test "a permanent ban carries no kernel timeout" {
	ibs_ok ban --timeout permanent "$ATK_ADDR"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" = none ]
	run list_json
	jq_ok '.[0].expires == null'
}
