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
