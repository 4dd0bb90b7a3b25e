#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Durations; a repeated ban never shortens; --replace does.

load helper

file_setup() {
	ibs_init
}

# expect_expiry TARGET LOW HIGH: the journal's expiry is LOW..HIGH seconds away, less
# the seconds this test has run so far (with files side by side, its commands may take
# a while before the check).
expect_expiry() {
	local e left low=$(($2 - SECONDS))
	e=$(expires_of "$1")
	[ -n "$e" ] && [ "$e" != null ] || fail "no expiry for $1: '$e'"
	left=$(seconds_until "$e")
	if [ "$left" -lt "$low" ] || [ "$left" -gt "$3" ]; then
		fail "$1 expires in ${left}s, expected $low..$3"
	fi
}

@test "the default timeout is 1h" {
	ibs_ok ban "$ATK_ADDR"
	expect_expiry "$ATK_ADDR" 3590 3600
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -le 3600 ]
	[ "$t" -ge $((3590 - SECONDS)) ]
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

# ---- extending in place (nftables on Linux 6.12 on) ----
# From IPBANSET_REFRESH_MIN extensions on (1 here, 1000 by default), ipbanset asks the
# kernel with a throwaway table whether an element added again takes the new timeout,
# and if so sends each extension as one add instead of a delete and an add.

# What the kernel does, found with nft itself: "updates" or "does not update".
kernel_refresh_word() {
	ip netns exec "$SRV" nft -f - <<-'NFT'
		table ip refcheck {
			set s { type ipv4_addr; flags timeout; elements = { 192.0.2.99 timeout 1h } }
		}
	NFT
	ip netns exec "$SRV" nft add element ip refcheck s '{ 192.0.2.99 timeout 2h expires 2h }'
	local t
	t=$(ip netns exec "$SRV" nft -j list set ip refcheck s |
		jq '[.nftables[] | select(.set) | .set.elem[] | .elem.timeout] | first')
	ip netns exec "$SRV" nft delete table ip refcheck
	if [ "$t" -gt 3600 ]; then echo updates; else echo "does not update"; fi
}

@test "the probe says what the kernel does, leaves no table, and status still trusts the generation" {
	skip_unless_nft "the probe is of nftables"
	local word
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	IPBANSET_REFRESH_MIN=1 ibs_ok -v ban --timeout 2h "$ATK_ADDR"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -gt 7000 ]
	run ip netns exec "$SRV" nft list tables
	[ "$output" = "table inet ipbanset" ] || fail "tables after the probe: $output"
	ibs_ok --json status
	jq_ok '.kernel.in_sync == true'
	[[ "$(jq_val .kernel.method)" == *generation* ]] || fail "status compared: $(jq_val .kernel.method)"
	# last: nft changing the ruleset makes status compare sets from then on
	word=$(kernel_refresh_word)
	IPBANSET_REFRESH_MIN=1 ibs_ok -v ban --timeout 3h "$ATK_ADDR"
	assert_stderr_has "the kernel $word an element's timeout in place: 1 extension sent as"
}

@test "an extension in place moves the kernel's expiry later and earlier, and keeps the comment" {
	local t0 t1 t2
	ibs_ok ban --timeout 8s --reason scan "$ATK_ADDR"
	t0=$SECONDS
	ibs_ok ban --timeout 1h --reason scan 198.51.100.3
	sleep 2
	# 2s on: $ATK_ADDR's kernel expiry moves from at most 6s away to 20s away. The margins
	# are wide: with the files side by side, a command can take a second or two.
	t1=$SECONDS
	IPBANSET_REFRESH_MIN=1 ibs_ok --json ban --timeout 20s --reason scan "$ATK_ADDR" 198.51.100.3
	jq_ok '.updated == 1 and .unchanged == 1'
	IPBANSET_REFRESH_MIN=1 ibs_ok --json ban --replace --timeout 5s --reason scan 198.51.100.3
	t2=$SECONDS
	jq_ok '.updated == 1'
	[ "$(kernel_elem v4_32 "$ATK_ADDR" | jq -r .comment)" = "manual: scan" ]
	[ "$(kernel_elem v4_32 198.51.100.3 | jq -r .comment)" = "manual: scan" ]
	# past the first expiry of $ATK_ADDR and the shortened one of .3
	sleep_until $((t0 + 9 > t2 + 6 ? t0 + 9 : t2 + 6))
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
	sleep_until $((t1 + 21))
	assert_reachable "$ATK_ADDR"
}

# An extension sends the time left twice: as the element's timeout and as its expiration.
# Two bans of the same length whose commands ran a whole number of seconds apart, to
# the millisecond, send a timeout equal to the one the element has; the kernel then
# changes nothing but the expiry (nf_tables_api.c: the timeout is set when it differs,
# the expiry whenever an expiration is given). ipbanset cannot be timed to the
# millisecond, so nft sends that message here, and the expiry must still move.
@test "an extension whose timeout equals the element's own still moves its expiry" {
	skip_unless_nft "extension in place is of nftables"
	local word t
	word=$(kernel_refresh_word)
	if [ "$word" != updates ]; then # ipbanset deletes and adds: the equal case cannot arise
		ibs_ok ban --timeout 1h "$ATK_ADDR"
		IPBANSET_REFRESH_MIN=1 ibs_ok -v ban --timeout 2h "$ATK_ADDR"
		assert_stderr_has "does not update an element's timeout in place"
		return
	fi
	ip netns exec "$SRV" nft -f - <<-'NFT'
		table ip refeq { set s { type ipv4_addr; flags timeout; }; }
		add element ip refeq s { 192.0.2.98 timeout 1h expires 5m }
	NFT
	t=$(ip netns exec "$SRV" nft -j list set ip refeq s | jq '.nftables[] | select(.set) | .set.elem[0].elem')
	[ "$(jq .timeout <<<"$t")" -eq 3600 ] && [ "$(jq .expires <<<"$t")" -le 300 ] ||
		fail "planted: $t"
	# what an extension of 1h sends when the element's timeout is already 1h
	ip netns exec "$SRV" nft add element ip refeq s '{ 192.0.2.98 timeout 1h expires 1h }'
	t=$(ip netns exec "$SRV" nft -j list set ip refeq s | jq '.nftables[] | select(.set) | .set.elem[0].elem')
	ip netns exec "$SRV" nft delete table ip refeq
	[ "$(jq .timeout <<<"$t")" -eq 3600 ] && [ "$(jq .expires <<<"$t")" -gt 3500 ] ||
		fail "after the equal-timeout add: $t"
}

@test "a re-ban of 1500 bans extends every one of them in the kernel" {
	local i
	for ((i = 1; i <= 1500; i++)); do printf '2001:db8:5::%x\n' "$i"; done >"$BATS_TEST_TMPDIR/list"
	ibs_ok ban --timeout 1h -f "$BATS_TEST_TMPDIR/list"
	ibs_ok -v --json ban --timeout 3h -f "$BATS_TEST_TMPDIR/list"
	jq_ok '.updated == 1500 and .added == 0'
	is_ipset || assert_stderr_has "an element's timeout in place: 1500 extensions sent as"
	run kernel_elements
	[ "$(grep -c '^v6_128 ' <<<"$output")" -eq 1500 ]
	local low=0 a
	for a in 2001:db8:5::1 2001:db8:5::2a 2001:db8:5::5dc; do
		[ "$(kernel_timeout v6_128 "$a")" -gt 10000 ] || low=$((low + 1))
	done
	[ "$low" -eq 0 ]
	if ! is_ipset; then # every element, from one dump
		[ "$(nft_json | jq '[.nftables[] | select(.set.name == "v6_128") | .set.elem[]
			| select(.elem.expires > 10000)] | length')" -eq 1500 ]
	fi
	ibs_ok --json status
	jq_ok '.kernel.in_sync == true'
}

@test "a probe table left behind by a crash goes with the next probe" {
	skip_unless_nft "the probe is of nftables"
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	ip netns exec "$SRV" nft add table inet ipbanset/probe
	IPBANSET_REFRESH_MIN=1 ibs_ok ban --timeout 2h "$ATK_ADDR"
	run ip netns exec "$SRV" nft list tables
	[ "$output" = "table inet ipbanset" ] || fail "tables after the probe: $output"
}

@test "IPBANSET_REFRESH_MIN=0: no probe, the extension is a delete and an add" {
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	IPBANSET_REFRESH_MIN=0 ibs_ok -v ban --timeout 2h "$ATK_ADDR"
	[[ "$stderr" != *"in place"* ]] || fail "probed: $stderr"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -gt 7000 ]
	assert_dropped "$ATK_ADDR"
}

@test "reconcile and teardown delete a probe table a crash left behind" {
	skip_unless_nft "the probe is of nftables"
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	ip netns exec "$SRV" nft add table inet ipbanset/probe
	ibs_ok --dry-run reconcile
	ip netns exec "$SRV" nft list table inet ipbanset/probe >/dev/null
	ibs_ok -v --json reconcile
	assert_stderr_has "deleted the table a probe left behind"
	run ip netns exec "$SRV" nft list tables
	[ "$output" = "table inet ipbanset" ] || fail "tables after reconcile: $output"
	ibs_ok --json status
	jq_ok '.kernel.in_sync == true'
	[[ "$(jq_val .kernel.method)" == *generation* ]] || fail "status compared: $(jq_val .kernel.method)"
	ip netns exec "$SRV" nft add table inet ipbanset/probe
	ibs_ok teardown
	run ip netns exec "$SRV" nft list tables
	[ -z "$output" ] || fail "tables after teardown: $output"
}
