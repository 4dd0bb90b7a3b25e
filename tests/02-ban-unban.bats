#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# ban drops, unban restores; IPv4 and IPv6; targets as given.

load helper

file_setup() {
	ibs_init
}

@test "ban drops an IPv4 address and unban lets it through again" {
	assert_reachable "$ATK_ADDR"
	ibs_ok --json ban "$ATK_ADDR"
	jq_ok '.changed == true and .added == 1 and .removed == 0'
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
	ibs_ok --json unban "$ATK_ADDR"
	jq_ok '.changed == true and .removed == 1'
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
}

@test "ban blocks TCP, unban restores it" {
	tcp_listen 2222
	can_connect "$ATK_ADDR" 2222
	ibs_ok ban "$ATK_ADDR"
	refute can_connect "$ATK_ADDR" 2222 1
	can_connect 198.51.100.3 2222
	ibs_ok unban "$ATK_ADDR"
	can_connect "$ATK_ADDR" 2222
}

@test "ban drops an IPv6 address and unban restores it" {
	assert_reachable "$ATK_ADDR6"
	ibs_ok ban "$ATK_ADDR6"
	assert_kernel_has v6_128 "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR6"
	assert_reachable 2001:db8:1::3
	assert_reachable "$ATK_ADDR"
	ibs_ok unban "$ATK_ADDR6"
	assert_reachable "$ATK_ADDR6"
}

@test "IPv6 TCP is blocked too" {
	tcp_listen 2223 6
	can_connect "$ATK_ADDR6" 2223
	ibs_ok ban "$ATK_ADDR6"
	refute can_connect "$ATK_ADDR6" 2223 1
	can_connect 2001:db8:1::3 2223
}

@test "several targets in one ban, one unban" {
	ibs_ok --json ban "$ATK_ADDR" 198.51.100.3 "$ATK_ADDR6"
	jq_ok '.added == 3'
	[ "$(list_count)" -eq 3 ]
	assert_dropped 198.51.100.3
	assert_dropped "$ATK_ADDR6"
	ibs_ok --json unban "$ATK_ADDR" 198.51.100.3 "$ATK_ADDR6"
	jq_ok '.removed == 3'
	[ "$(list_count)" -eq 0 ]
	[ "$(kernel_element_count)" -eq 0 ]
	assert_reachable 198.51.100.3
}

@test "global options may follow the command" {
	ibs_ok ban "$ATK_ADDR" --json
	jq_ok '.added == 1'
	run list_json
	jq_ok 'length == 1'
}

@test "ban records reason and source in the journal and the element comment" {
	ibs_ok ban --source f2b-sshd --reason "5 failures" "$ATK_ADDR"
	run list_json
	jq_ok --arg a "$ATK_ADDR" '.[0].target == $a and .[0].source == "f2b-sshd" and .[0].reason == "5 failures"'
	run kernel_elem v4_32 "$ATK_ADDR"
	jq_ok '.comment | contains("f2b-sshd") and contains("5 failures")'
}

@test "an IPv4-mapped IPv6 address is banned as the IPv4 address" {
	ibs_ok ban "::ffff:$ATK_ADDR"
	assert_kernel_has v4_32 "$ATK_ADDR"
	run list_json
	jq_ok --arg a "$ATK_ADDR" 'length == 1 and .[0].target == $a'
	assert_dropped "$ATK_ADDR"
}

@test "a prefix with host bits set is normalised to its network, with a warning" {
	run --separate-stderr ibs ban 198.51.100.77/24
	assert_status 0
	assert_stderr_prefixed
	assert_stderr_has 198.51.100.0/24
	run list_json
	jq_ok 'length == 1 and .[0].target == "198.51.100.0/24"'
	assert_kernel_has v4_24 198.51.100.0
}

@test "unban of a target that is not banned changes nothing" {
	ibs_ok ban "$ATK_ADDR"
	ibs_ok --json unban 198.51.100.3
	jq_ok '.changed == false'
	assert_dropped "$ATK_ADDR"
}

@test "flush withdraws every ban; flush --source only that source's" {
	ibs_ok ban -s a "$ATK_ADDR"
	ibs_ok ban -s b 198.51.100.3 "$ATK_ADDR6"
	ibs_ok --json flush --source b
	jq_ok '.removed == 2'
	[ "$(list_count)" -eq 1 ]
	assert_reachable 198.51.100.3
	assert_dropped "$ATK_ADDR"
	ibs_ok flush
	[ "$(list_count)" -eq 0 ]
	[ "$(kernel_element_count)" -eq 0 ]
	assert_reachable "$ATK_ADDR"
}
