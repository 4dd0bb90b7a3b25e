#!/usr/bin/env bats
# Durations; a repeated ban never shortens; --replace does.

load helper

file_setup() {
	ibs_init
}

# expect_expiry TARGET LOW HIGH: the journal's expiry is LOW..HIGH seconds away.
expect_expiry() {
	local e left
	e=$(expires_of "$1")
	[ -n "$e" ] && [ "$e" != null ] || fail "no expiry for $1: '$e'"
	left=$(seconds_until "$e")
	if [ "$left" -lt "$2" ] || [ "$left" -gt "$3" ]; then
		fail "$1 expires in ${left}s, expected $2..$3"
	fi
}

@test "the default timeout is 1h" {
	ibs_ok ban "$ATK_ADDR"
	expect_expiry "$ATK_ADDR" 3590 3600
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -le 3600 ]
	[ "$t" -ge 3590 ]
}

@test "config default_timeout is used when --timeout is not given" {
	config 'default_timeout = 10m'
	ibs_ok ban "$ATK_ADDR"
	expect_expiry "$ATK_ADDR" 590 600
}

@test "duration forms: seconds, units, combined units" {
	ibs_ok ban --timeout 300 198.51.100.10
	ibs_ok ban --timeout 1h30m 198.51.100.11
	ibs_ok ban --timeout 2d 198.51.100.12
	ibs_ok ban --timeout 1w 198.51.100.13
	ibs_ok ban --timeout 90s 198.51.100.14
	ibs_ok ban -t 5m 198.51.100.15
	expect_expiry 198.51.100.10 290 300
	expect_expiry 198.51.100.11 5390 5400
	expect_expiry 198.51.100.12 172790 172800
	expect_expiry 198.51.100.13 604790 604800
	expect_expiry 198.51.100.14 80 90
	expect_expiry 198.51.100.15 290 300
}

@test "0, -1 and permanent mean no expiry" {
	ibs_ok ban --timeout 0 198.51.100.10
	ibs_ok ban --timeout -1 198.51.100.11
	ibs_ok ban --timeout permanent 198.51.100.12
	run list_json
	jq_ok 'length == 3 and all(.[]; .expires == null)'
	[ "$(kernel_timeout v4_32 198.51.100.10)" = none ]
	[ "$(kernel_timeout v4_32 198.51.100.11)" = none ]
	[ "$(kernel_timeout v4_32 198.51.100.12)" = none ]
}

@test "a repeated ban never shortens: 1h then 10m keeps the 1h expiry" {
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	local e1 e2
	e1=$(expires_of "$ATK_ADDR")
	ibs_ok --json ban --timeout 10m "$ATK_ADDR"
	jq_ok '.changed == false and .unchanged == 1'
	e2=$(expires_of "$ATK_ADDR")
	[ "$e1" = "$e2" ]
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -gt 3000 ]
}

@test "a permanent ban stays permanent when banned again for 10 minutes" {
	ibs_ok ban --timeout -1 "$ATK_ADDR"
	ibs_ok --json ban --timeout 10m "$ATK_ADDR"
	jq_ok '.changed == false'
	[ "$(expires_of "$ATK_ADDR")" = null ]
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" = none ]
}

@test "a repeated ban with a longer timeout extends it" {
	ibs_ok ban --timeout 10m "$ATK_ADDR"
	ibs_ok --json ban --timeout 2h "$ATK_ADDR"
	jq_ok '.changed == true and .updated == 1'
	expect_expiry "$ATK_ADDR" 7190 7200
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -gt 7000 ]
}

@test "--replace shortens a ban" {
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	ibs_ok --json ban --replace --timeout 10m "$ATK_ADDR"
	jq_ok '.changed == true and .updated == 1'
	expect_expiry "$ATK_ADDR" 590 600
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -le 600 ]
	assert_dropped "$ATK_ADDR"
}

@test "--replace makes a permanent ban temporary" {
	ibs_ok ban --timeout permanent "$ATK_ADDR"
	ibs_ok ban --replace --timeout 2s "$ATK_ADDR"
	sleep 2.5
	assert_reachable "$ATK_ADDR"
}
