#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Kernel refusals: the error names the target that caused it, and nothing changes.

load helper

file_setup() {
	ibs_init
}

# small_v4_32_set SIZE: someone replaced our /32 set (holding 198.51.100.3) with one
# that holds at most SIZE elements
small_v4_32_set() {
	if is_ipset; then
		# the set with the smaller maxelem, and the config that a rebuild follows
		kernel_delete_set v4_32
		ip netns exec "$SRV" ipset create ipbanset-ip4 hash:ip family inet timeout 0 comment maxelem "$1"
		ip netns exec "$SRV" ipset add ipbanset-ip4 198.51.100.3
		config "maxelem = $1"
		ipset_rules
		return
	fi
	ip netns exec "$SRV" nft -f - <<-EOF
		flush chain inet ipbanset filter
		delete set inet ipbanset v4_32
		add set inet ipbanset v4_32 { type ipv4_addr; flags timeout; size $1; }
		add element inet ipbanset v4_32 { 198.51.100.3 }
		add rule inet ipbanset filter ip saddr @v4_32 counter drop comment "v4_32"
	EOF
}

@test "a full set: the kernel's refusal names the target, journal and kernel unchanged" {
	ibs_ok ban 198.51.100.3
	small_v4_32_set 2
	local before
	before=$(snapshot)
	run --separate-stderr ibs ban "$ATK_ADDR" 198.51.100.5 198.51.100.6
	assert_status 4
	assert_stderr_prefixed
	[[ "$stderr" == *"kernel refused 198.51.100."* ]] || fail "no target named: $stderr"
	[[ "$stderr" == *"nothing changed"* ]] || fail "$stderr"
	assert_unchanged "$before"
	assert_reachable "$ATK_ADDR"
}

@test "the table deleted by someone else between two commands: the next ban restores it" {
	ibs_ok ban 198.51.100.3
	kernel_delete_table
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	assert_dropped 198.51.100.3
}

# 5000 addresses from 100.64.0.0 up, plus the attacker's
many_targets() {
	local i
	for ((i = 0; i < 5000; i++)); do
		echo "100.64.$((i / 256)).$((i % 256))"
	done
	echo "$ATK_ADDR"
}

@test "a large load split into several kernel transactions is complete, and status trusts it" {
	many_targets >"$BATS_TEST_TMPDIR/list.txt"
	IPBANSET_BATCH_ELEMENTS=1000 ibs_ok --json ban -f "$BATS_TEST_TMPDIR/list.txt"
	jq_ok '.added == 5001'
	assert_dropped "$ATK_ADDR"
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true and .total == 5001'
	is_ipset || [[ "$(jq -r .kernel.method <<<"$output")" == *generation* ]]
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0 and .kernel.retime == 0'
	[ "$(kernel_elements | grep -c '^v4_32 ')" -eq 5001 ]
}

@test "a refusal in a later kernel transaction takes back the earlier ones" {
	ibs_ok ban 198.51.100.3
	small_v4_32_set 2500
	local before
	before=$(snapshot)
	many_targets >"$BATS_TEST_TMPDIR/list.txt"
	IPBANSET_BATCH_ELEMENTS=1000 run --separate-stderr ibs ban -f "$BATS_TEST_TMPDIR/list.txt"
	assert_status 4
	[[ "$stderr" == *"kernel refused 100.64."* ]] || fail "$stderr"
	assert_unchanged "$before"
	assert_reachable "$ATK_ADDR"
}

# The journal has no /32 yet, so the load is a first import, sent by a second thread
# while the journal is written (nftables: in transactions; ipset: a rebuilt set, packed):
# the refusal still undoes both.
@test "a refusal during a first import (two threads) leaves journal and kernel unchanged" {
	ibs_ok ban 203.0.113.0/24
	if is_ipset; then
		small_v4_32_set 2500
	else
		ip netns exec "$SRV" nft -f - <<-EOF
			add set inet ipbanset v4_32 { type ipv4_addr; flags timeout; size 2500; }
			add rule inet ipbanset filter ip saddr @v4_32 counter drop comment "v4_32"
		EOF
	fi
	local before
	before=$(snapshot)
	many_targets >"$BATS_TEST_TMPDIR/list.txt"
	IPBANSET_BATCH_ELEMENTS=1000 run --separate-stderr ibs ban -f "$BATS_TEST_TMPDIR/list.txt"
	assert_status 4
	[[ "$stderr" == *"kernel refused 100.64."* ]] || fail "$stderr"
	assert_unchanged "$before"
	assert_reachable "$ATK_ADDR"
	ibs_ok --json log
	jq_ok 'all(.[]; .kind != "ban" or .target == "203.0.113.0/24")'
}

@test "a first import of 5001 addresses in one kernel transaction, then a second source" {
	many_targets >"$BATS_TEST_TMPDIR/list.txt"
	ibs_ok --json ban -s feed -f "$BATS_TEST_TMPDIR/list.txt"
	jq_ok '.added == 5001 and .kernel.added == 5001'
	assert_dropped "$ATK_ADDR"
	ibs_ok --json ban -s other -t 2h -f "$BATS_TEST_TMPDIR/list.txt"
	jq_ok '.added == 5001 and .kernel.retimed == 5001'
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .total == 10002 and .sources.feed == 5001'
}
