#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The test bed itself: private namespaces, every attacker source reaches the server.

load helper

@test "env: every attacker address reaches the server before any ban" {
	local a
	for a in $ATK_ADDR $ATK_EXTRA4 $ATK_ADDR6 $ATK_EXTRA6; do
		assert_reachable "$a"
	done
}

@test "env: TCP connects from the attacker" {
	tcp_listen 8080
	tcp_listen 8081 6
	can_connect "$ATK_ADDR" 8080
	can_connect "$ATK_ADDR6" 8081
}

@test "env: the server namespace starts with an empty ruleset" {
	run ip netns exec "$SRV" nft list ruleset
	assert_status 0
	[ -z "$output" ]
	refute kernel_has_table
}

@test "env: the binary exists and prints a version" {
	run --separate-stderr ibs --version
	assert_status 0
	[ -n "$output" ]
}

@test "env: --version with --json prints a JSON object" {
	run --separate-stderr ibs --version
	local text=$output
	run --separate-stderr ibs --json --version
	assert_status 0
	jq_ok --arg v "${text#ipbanset }" '. == {version: $v}'
	run --separate-stderr ibs -V -j
	jq_ok 'keys == ["version"]'
}
