#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Bans are owned by sources.

load helper

file_setup() {
	ibs_init
}

@test "two sources ban the same target; unbanning one keeps the other's ban" {
	ibs_ok ban --source f2b-sshd "$ATK_ADDR"
	ibs_ok ban --source blocklist "$ATK_ADDR"
	run list_json
	jq_ok 'length == 2'
	ibs_ok unban --source f2b-sshd "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	run ibs query "$ATK_ADDR"
	assert_status 0
	run list_json
	jq_ok 'length == 1 and .[0].source == "blocklist"'
	ibs_ok unban --source blocklist "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
}

@test "unban without --source withdraws only manual's ban" {
	ibs_ok ban "$ATK_ADDR"
	ibs_ok ban -s f2b-sshd "$ATK_ADDR"
	ibs_ok unban "$ATK_ADDR"
	run list_json
	jq_ok 'length == 1 and .[0].source == "f2b-sshd"'
	assert_dropped "$ATK_ADDR"
}

@test "unban --all-sources withdraws every source's ban" {
	ibs_ok ban -s a "$ATK_ADDR"
	ibs_ok ban -s b "$ATK_ADDR"
	ibs_ok ban -s c "$ATK_ADDR" 198.51.100.3
	ibs_ok --json unban --all-sources "$ATK_ADDR"
	jq_ok '.changed == true and .removed == 3'
	assert_reachable "$ATK_ADDR"
	assert_dropped 198.51.100.3
	run list_json
	jq_ok 'length == 1 and .[0].target == "198.51.100.3"'
}

@test "the kernel holds the latest expiry among the sources' bans" {
	ibs_ok ban -s short --timeout 2s "$ATK_ADDR"
	ibs_ok ban -s long --timeout 1h "$ATK_ADDR"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -gt 3000 ]
	sleep 2.5
	assert_dropped "$ATK_ADDR"
	ibs_ok unban -s long "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
}

@test "withdrawing the longer ban leaves the kernel with the shorter one's expiry" {
	ibs_ok ban -s a --timeout 1h "$ATK_ADDR"
	ibs_ok ban -s b --timeout 10m "$ATK_ADDR"
	ibs_ok unban -s a "$ATK_ADDR"
	local t
	t=$(kernel_expires v4_32 "$ATK_ADDR")
	[ "$t" -le 600 ]
	[ "$t" -gt 500 ]
}

@test "list --source shows only that source" {
	ibs_ok ban -s a "$ATK_ADDR"
	ibs_ok ban -s b 198.51.100.3
	run list_json --source b
	jq_ok 'length == 1 and .[0].source == "b" and .[0].target == "198.51.100.3"'
}

@test "flush withdraws a target that two sources ban with different expiries" {
	ibs_ok ban -s a -t 2h "$ATK_ADDR" 203.0.113.0/24
	ibs_ok ban -s b -t 1h "$ATK_ADDR" 203.0.113.0/24
	ibs_ok --json flush
	jq_ok '.removed == 4'
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_kernel_lacks v4_24 203.0.113.0
	[ "$(kernel_element_count)" -eq 0 ]
	assert_reachable "$ATK_ADDR"
	assert_reachable 203.0.113.9
}

@test "flush withdraws multi-source targets when the set is rebuilt and swapped" {
	ibs_ok ban -s a -t 2h "$ATK_ADDR" 198.51.100.3 198.51.100.77 203.0.113.0/24 203.0.5.0/24
	ibs_ok ban -s b -t 1h "$ATK_ADDR" 198.51.100.3 198.51.100.77 203.0.113.0/24 203.0.5.0/24
	ibs_ok ban -s c -t 1h 198.51.100.4
	# IPBANSET_IPSET_SWAP_MIN: the ipset backend rebuilds a set from 2 changes on
	IPBANSET_IPSET_SWAP_MIN=2 ibs_ok --json flush -s c
	jq_ok '.removed == 1'
	IPBANSET_IPSET_SWAP_MIN=2 ibs_ok --json flush
	jq_ok '.removed == 10'
	run kernel_elements
	[ -z "$output" ]
	assert_reachable "$ATK_ADDR"
	assert_reachable 198.51.100.77
	assert_reachable 203.0.5.5
}

@test "unban --all-sources withdraws a target that sources ban with different expiries" {
	ibs_ok ban -s a -t 2h "$ATK_ADDR" 2001:db8:2::/48
	ibs_ok ban -s b -t 1h "$ATK_ADDR" 2001:db8:2::/48
	ibs_ok ban -s c -t 30m "$ATK_ADDR"
	ibs_ok --json unban --all-sources "$ATK_ADDR" 2001:db8:2::/48
	jq_ok '.removed == 5'
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_kernel_lacks v6_48 2001:db8:2::
	[ "$(kernel_element_count)" -eq 0 ]
	assert_reachable "$ATK_ADDR"
	assert_reachable 2001:db8:2::5
}
