#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# init: table, chain, hook/priority/verdict, idempotence, repair; teardown.

load helper

@test "init creates table inet ipbanset with chain filter at hook input priority -10" {
	skip_unless_nft "the chain and its hook/priority are nftables objects; with ipset the host's iptables rules decide (33-ipset tests init --print-rules)"
	ibs_init
	kernel_has_table
	run kernel_chain
	[ -n "$output" ]
	jq_ok '.hook == "input" and .prio == -10 and .type == "filter" and .policy == "accept"'
}

@test "init is idempotent: a second run reports changed false and leaves the table alone" {
	ibs_ok --json init
	jq_ok '.changed == true'
	local before
	before=$(kernel_structure)
	ibs_ok --json init
	jq_ok '.changed == false'
	[ "$(kernel_structure)" = "$before" ]
}

@test "init repairs a table whose chain was deleted" {
	skip_unless_nft "the chain and its hook/priority are nftables objects; with ipset the host's iptables rules decide (33-ipset tests init --print-rules)"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	ip netns exec "$SRV" nft flush chain inet ipbanset filter
	ip netns exec "$SRV" nft delete chain inet ipbanset filter
	assert_reachable "$ATK_ADDR"
	ibs_ok --json init
	jq_ok '.changed == true'
	run kernel_chain
	jq_ok '.hook == "input" and .prio == -10'
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
}

@test "init repairs a table whose set was deleted; reconcile restores its elements" {
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	kernel_has_set v4_32
	kernel_delete_set v4_32
	refute kernel_has_set v4_32
	ibs_ok init
	kernel_has_set v4_32
	ibs_ok reconcile
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
}

@test "init --hook prerouting puts the chain at prerouting priority -300 and still drops" {
	skip_unless_nft "the chain and its hook/priority are nftables objects; with ipset the host's iptables rules decide (33-ipset tests init --print-rules)"
	ibs_init --hook prerouting
	run kernel_chain
	jq_ok '.hook == "prerouting" and .prio == -300'
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
}

@test "init moves an existing chain when --hook/--priority change" {
	skip_unless_nft "the chain and its hook/priority are nftables objects; with ipset the host's iptables rules decide (33-ipset tests init --print-rules)"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	ibs_ok --json init --hook prerouting --priority -200
	jq_ok '.changed == true'
	run kernel_chain
	jq_ok '.hook == "prerouting" and .prio == -200'
	assert_dropped "$ATK_ADDR"
	ibs_ok init --hook input
	run kernel_chain
	jq_ok '.hook == "input" and .prio == -10'
	assert_dropped "$ATK_ADDR"
}

@test "init takes hook and priority from the config file" {
	skip_unless_nft "the chain and its hook/priority are nftables objects; with ipset the host's iptables rules decide (33-ipset tests init --print-rules)"
	config 'hook = prerouting' 'priority = -250'
	ibs_init
	run kernel_chain
	jq_ok '.hook == "prerouting" and .prio == -250'
}

@test "default verdict drop: a banned TCP connect times out" {
	ibs_init
	tcp_listen 8080
	can_connect "$ATK_ADDR" 8080
	ibs_ok ban "$ATK_ADDR"
	local t0=$SECONDS
	run ip netns exec "$ATK" nc -v -z -w 2 -s "$ATK_ADDR" "$SRV_ADDR" 8080
	[ "$status" -ne 0 ]
	[ $((SECONDS - t0)) -ge 2 ]
	[[ "$output" != *refused* ]]
}

# kernel_structure: what init creates, without elements.
kernel_structure() {
	if is_ipset; then
		ip netns exec "$SRV" ipset list -t | grep -v '^Size in memory'
	else
		nft_json | jq -c '[.nftables[] | select(.chain or .set or .rule)]'
	fi
}

# rule_verdicts: the verdict of every rule in our chain ("drop" or "reject"); with ipset,
# of the iptables rules that reference the sets.
rule_verdicts() {
	if is_ipset; then
		ip netns exec "$SRV" iptables -S INPUT | grep -e --match-set | sed -E 's/.* -j ([A-Z]+).*/\1/' |
			tr '[:upper:]' '[:lower:]' | sort -u
		return
	fi
	nft_json | jq -r '.nftables[] | select(.rule) | .rule.expr[] | keys[] | select(. == "drop" or . == "reject")' | sort -u
}

@test "init --verdict reject: a banned TCP connect fails at once instead of timing out" {
	ibs_init --verdict reject
	tcp_listen 8080
	can_connect "$ATK_ADDR" 8080
	ibs_ok ban "$ATK_ADDR"
	[ "$(rule_verdicts)" = reject ]
	local t0=$SECONDS
	run ip netns exec "$ATK" nc -v -z -w 5 -s "$ATK_ADDR" "$SRV_ADDR" 8080
	[ "$status" -ne 0 ]
	[ $((SECONDS - t0)) -lt 3 ] || fail "connect took $((SECONDS - t0))s: $output"
	can_connect 198.51.100.3 8080
}

@test "init --verdict reject switches the rules of an existing table" {
	skip_unless_nft "ipbanset changes its own nftables rules; it never changes the host's iptables rules"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	[ "$(rule_verdicts)" = drop ]
	ibs_ok --json init --verdict reject
	jq_ok '.changed == true'
	[ "$(rule_verdicts)" = reject ]
	ibs_ok ban 203.0.113.0/24
	[ "$(rule_verdicts)" = reject ]
}

@test "verdict reject: a banned TCP connect is refused (Connection refused)" {
	config 'verdict = reject'
	ibs_init
	tcp_listen 8080
	ibs_ok ban "$ATK_ADDR"
	local t0=$SECONDS
	run ip netns exec "$ATK" nc -v -z -w 5 -s "$ATK_ADDR" "$SRV_ADDR" 8080
	[ "$status" -ne 0 ]
	[ $((SECONDS - t0)) -lt 3 ]
	[[ "$output" == *refused* ]] || fail "nc said: $output"
}

@test "-T / IPBANSET_TABLE choose the table name" {
	ibs_ok -T ibs_other init
	TABLE=ibs_other kernel_has_table
	refute kernel_has_table
	ibs_ok -T ibs_other ban "$ATK_ADDR"
	TABLE=ibs_other assert_kernel_has v4_32 "$ATK_ADDR"
	TABLE=ibs_other assert_dropped "$ATK_ADDR"
	# a journal drives one table (35-ownership.bats): the other table gets its own
	DB="$WORK/env.db" IPBANSET_TABLE=ibs_env ibs_ok init
	TABLE=ibs_env kernel_has_table
}

@test "teardown removes the table and keeps the journal; init + reconcile bring the bans back" {
	ibs_init
	ibs_ok ban --reason kept "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	ibs_ok --json teardown
	jq_ok '.changed == true'
	refute kernel_has_table
	assert_reachable "$ATK_ADDR"
	[ -f "$DB" ]
	run list_json
	jq_ok --arg a "$ATK_ADDR" 'length == 1 and .[0].target == $a and .[0].reason == "kept"'
	ibs_ok init
	ibs_ok reconcile
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
}

@test "teardown of an absent table succeeds with changed false" {
	ibs_ok --json teardown
	jq_ok '.changed == false'
}

@test "init --verdict reject with no sets yet reports changed, since the verdict is recorded for later sets" {
	skip_unless_nft "ipbanset changes its own nftables rules; it never changes the host's iptables rules"
	ibs_init
	ibs_ok --json init --verdict reject
	jq_ok '.changed == true'
	ibs_ok --json init --verdict reject
	jq_ok '.changed == false'
	ibs_ok --json init
	jq_ok '.changed == false'
	ibs_ok ban "$ATK_ADDR"
	[ "$(rule_verdicts)" = reject ]
}

# init_events: the history's init events as a JSON array of {detail}.
init_events() {
	ibs --json log | jq -c '[.[] | select(.kind == "init") | {detail}]'
}

@test "the history records an init that changes something, and not one that changes nothing" {
	ibs_ok init
	[ "$(init_events | jq length)" -eq 1 ]
	ibs_ok --json init
	jq_ok '.changed == false'
	ibs_ok init
	[ "$(init_events | jq length)" -eq 1 ] || fail "an idempotent init wrote history: $(init_events)"
	# a set deleted behind ipbanset's back: init restores it, and says so
	ibs_ok ban "$ATK_ADDR"
	kernel_delete_set v4_32
	ibs_ok --json init
	jq_ok '.changed == true'
	run init_events
	jq_ok 'length == 2 and .[1].detail == "restored 1, removed 0, retimed 0, rewrote 0 sets"'
	assert_dropped "$ATK_ADDR"
	# a new verdict is a change of its own, recorded once
	ibs_ok --json init --verdict reject
	jq_ok '.changed == true'
	ibs_ok --json init --verdict reject
	jq_ok '.changed == false'
	[ "$(init_events | jq length)" -eq 3 ] || fail "$(init_events)"
}

@test "init puts back a rule deleted behind its back, reports the change and records it" {
	skip_unless_nft "ipbanset's own nftables rule; with ipset the host's iptables rules reference the sets"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	local handle
	handle=$(nft_json | jq '.nftables[] | select(.rule) | .rule.handle')
	ip netns exec "$SRV" nft delete rule inet ipbanset filter handle "$handle"
	assert_reachable "$ATK_ADDR"
	ibs_ok --json init
	jq_ok '.changed == true'
	assert_dropped "$ATK_ADDR"
	[ "$(init_events | jq length)" -eq 2 ] || fail "$(init_events)"
	ibs_ok --json init
	jq_ok '.changed == false'
	[ "$(init_events | jq length)" -eq 2 ] || fail "$(init_events)"
}
