#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# query: 0 wholly banned, 1 not, 2 invalid.

load helper

file_setup() {
	ibs_init
	ibs_ok ban -s f2b-sshd -r "ssh" "$ATK_ADDR"
	ibs_ok ban -s feed 203.0.113.0/24
	ibs_ok ban 2001:db8:2::/48
}

@test "query a banned address: exit 0" {
	run ibs query "$ATK_ADDR"
	assert_status 0
}

@test "query an address that is not banned: exit 1" {
	run ibs query 198.51.100.3
	assert_status 1
	run ibs query 2001:db8:1::3
	assert_status 1
}

@test "query an address inside a banned prefix: exit 0" {
	run ibs query 203.0.113.77
	assert_status 0
	run ibs query 2001:db8:2:ffff::1
	assert_status 0
}

@test "query a prefix inside a banned prefix: exit 0" {
	run ibs query 203.0.113.128/25
	assert_status 0
	run ibs query 203.0.113.0/24
	assert_status 0
}

@test "query a prefix wider than the ban (not wholly banned): exit 1" {
	run ibs query 203.0.112.0/23
	assert_status 1
	run ibs query 198.51.100.0/24
	assert_status 1
	run ibs query 2001:db8::/32
	assert_status 1
}

@test "query invalid input: exit 2 with a message naming it" {
	run --separate-stderr ibs query 1.2.3
	assert_status 2
	assert_stderr_prefixed
	assert_stderr_has 1.2.3
	run --separate-stderr ibs query 203.0.113.0/33
	assert_status 2
}

@test "query --json names the bans that cover the target" {
	run --separate-stderr ibs --json query 203.0.113.77
	assert_status 0
	jq_ok '.banned == true and (.bans | length) == 1 and .bans[0].target == "203.0.113.0/24" and .bans[0].source == "feed"'
	run --separate-stderr ibs --json query 198.51.100.3
	assert_status 1
	jq_ok '.banned == false and (.bans | length) == 0'
}

@test "query --json of a partly covered prefix: not banned, and the bans inside it listed" {
	run --separate-stderr ibs --json query 203.0.112.0/23
	assert_status 1
	jq_ok '.banned == false and .bans == [] and (.partly | length) == 1
		and .partly[0].target == "203.0.113.0/24" and .partly[0].source == "feed" and .partly_more == 0'
	run --separate-stderr ibs query 203.0.112.0/23
	assert_status 1
	[[ "$output" == *"not wholly banned: 1 ban inside it covers part of it:"*"203.0.113.0/24"*feed* ]] ||
		fail "query said: $output"
	# nothing inside: no partly key, and the text says not banned
	run --separate-stderr ibs --json query 198.51.100.128/25
	assert_status 1
	jq_ok '.banned == false and .bans == [] and (has("partly") | not)'
	# more than a hundred inside (these and the set-up's): a hundred named, the rest counted
	printf '198.51.100.%d\n' $(seq 10 2 250) >"$WORK/many.txt"
	ibs_ok ban -s many -f "$WORK/many.txt"
	run --separate-stderr ibs --json query 198.51.100.0/24
	assert_status 1
	jq_ok '(.partly | length) == 100 and .partly_more == 22'
	run --separate-stderr ibs query 198.51.100.0/24
	[[ "$output" == *"122 bans inside it cover part of it:"*"  and 22 more" ]] || fail "query said: $output"
}

@test "query text: the covering bans' columns line up" {
	ibs_ok ban -s a-much-longer-source-name 203.0.0.0/16
	run --separate-stderr ibs query 203.0.113.9
	assert_status 0
	columns_line_up 3 "$(sed 1d <<<"$output")"
}

@test "query after unban: exit 1" {
	ibs_ok unban -s f2b-sshd "$ATK_ADDR"
	run ibs query "$ATK_ADDR"
	assert_status 1
}

@test "query an IPv4-mapped address inside a banned prefix" {
	run ibs query ::ffff:203.0.113.5
	assert_status 0
}
