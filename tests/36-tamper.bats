#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Tampering with ipbanset's own chain and rules: status sees a rule turned into an accept,
# a rule inserted before ipbanset's, another base chain in its table, a changed policy;
# reconcile puts the chain and its rules back, and leaves chains it did not create alone.
# See "status" and "reconcile" in ipbanset(8).

load helper

file_setup() {
	ibs_init
}

nft_srv() {
	ip netns exec "$SRV" nft "$@"
}

# rule_handle SET: the handle of the rule that looks up SET in chain filter.
rule_handle() {
	nft_json | jq -r --arg s "@$1" '.nftables[] | select(.rule) | .rule
		| select(any(.expr[]; .match.right? == $s)) | .handle' | head -n1
}

# tamper_counts: the status keys about the chain and its rules, as one line.
tamper_counts() {
	jq -r '.kernel | "\(.in_sync) \(.chain_ok) \(.rules_tampered) \(.foreign_rules)" +
		" \(.foreign_chains)"' \
		<<<"$output"
}

# assert_tamper IN_SYNC CHAIN_OK TAMPERED FOREIGN_RULES FOREIGN_CHAINS (status --json)
assert_tamper() {
	ibs_ok status --json
	[ "$(tamper_counts)" = "$*" ] || fail "status: $(tamper_counts), expected $*: $output"
}

@test "a clean table: the chain and its rules are what ipbanset makes, all counts 0" {
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24 "$ATK_ADDR6" 2001:db8:2::/48
	assert_tamper true true 0 0 0
	ibs_ok status --verify --json
	[ "$(tamper_counts)" = "true true 0 0 0" ] || fail "$output"
	run --separate-stderr ibs status --format prometheus
	assert_status 0
	[[ "$output" == *"ipbanset_kernel_chain_ok 1"* ]] || fail "$output"
	[[ "$output" == *"ipbanset_kernel_rules_tampered 0"* ]] || fail "$output"
	[[ "$output" == *"ipbanset_kernel_foreign_chains 0"* ]] || fail "$output"
	ibs_ok --json reconcile
	jq_ok '.changed == false and .chain_repaired == false and .rules_repaired == 0 and
		.foreign_rules_removed == 0 and .foreign_chains == 0'
}

@test "rules made with --verdict reject, for every kind of set, are ipbanset's too" {
	skip_unless_nft "with ipset the rules are the administrator's iptables rules"
	ibs_ok init --verdict reject
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24 "$ATK_ADDR6" 2001:db8:2::/48
	assert_tamper true true 0 0 0
}

@test "nft replace rule: our rule turned into an accept is seen, and reconcile restores it" {
	skip_unless_nft "with ipset the rules are the administrator's iptables rules"
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	nft_srv replace rule inet ipbanset filter handle "$(rule_handle v4_32)" ip saddr @v4_32 accept
	assert_reachable "$ATK_ADDR"
	assert_tamper false true 1 0 0
	jq_ok '.kernel.repair == "ipbanset reconcile" and .kernel.missing == 0'
	run --separate-stderr ibs status
	assert_status 0
	[[ "$output" == *"NOT in sync"*"1 rule changed"*"ipbanset reconcile"* ]] || fail "$output"
	ibs_ok --json reconcile
	jq_ok '.changed == true and .rules_repaired == 1 and .chain_repaired == false'
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
	assert_tamper true true 0 0 0
}

@test "an inverted lookup or an extra match in our rule is seen and undone" {
	skip_unless_nft "with ipset the rules are the administrator's iptables rules"
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24
	nft_srv replace rule inet ipbanset filter handle "$(rule_handle v4_32)" \
		ip saddr != @v4_32 counter drop comment '"v4_32"'
	assert_tamper false true 1 0 0
	ibs_ok reconcile
	assert_tamper true true 0 0 0
	nft_srv replace rule inet ipbanset filter handle "$(rule_handle v4_32)" \
		ip saddr @v4_32 tcp dport 22 counter drop comment '"v4_32"'
	assert_tamper false true 1 0 0
	ibs_ok reconcile
	assert_tamper true true 0 0 0
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.5
}

@test "an accept inserted before ipbanset's rules is a foreign rule; reconcile removes it" {
	skip_unless_nft "with ipset the rules are the administrator's iptables rules"
	ibs_ok ban "$ATK_ADDR" "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR"
	nft_srv insert rule inet ipbanset filter accept
	assert_reachable "$ATK_ADDR"
	assert_reachable "$ATK_ADDR6"
	assert_tamper false true 0 1 0
	run --separate-stderr ibs status
	[[ "$output" == *"1 rule in chain filter that ipbanset did not make"* ]] || fail "$output"
	ibs_ok --json reconcile
	jq_ok '.changed == true and .foreign_rules_removed == 1 and .rules_repaired == 0'
	assert_dropped "$ATK_ADDR"
	assert_dropped "$ATK_ADDR6"
	assert_tamper true true 0 0 0
	[ "$(nft_json | jq '[.nftables[] | select(.rule)] | length')" -eq 2 ]
}

@test "another base chain with policy drop in ipbanset's table is reported and left alone" {
	skip_unless_nft "with ipset ipbanset has no table"
	ibs_ok ban "$ATK_ADDR"
	nft_srv add chain inet ipbanset x '{ type filter hook input priority 0; policy drop; }'
	refute can_reach 198.51.100.3
	assert_tamper false true 0 0 1
	jq_ok '.kernel.repair | test("remove chain x")'
	run --separate-stderr ibs status
	[[ "$output" == *"holds chain x, which ipbanset did not create"* ]] || fail "$output"
	# reconcile does all else it can, exits 0, names the chain, and leaves it in place
	run --separate-stderr ibs --json reconcile
	assert_status 0
	jq_ok '.foreign_chains == 1 and .changed == false'
	assert_stderr_has "chain x, which ipbanset did not create"
	nft_srv list chain inet ipbanset x | grep -q 'policy drop'
	assert_tamper false true 0 0 1
	# the administrator's to remove; then all is well
	nft_srv delete chain inet ipbanset x
	assert_tamper true true 0 0 0
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
}

@test "our chain's policy set to drop is seen, and reconcile sets it back to accept" {
	skip_unless_nft "with ipset ipbanset has no chain"
	ibs_ok ban "$ATK_ADDR"
	nft_srv chain inet ipbanset filter '{ policy drop; }'
	refute can_reach 198.51.100.3
	assert_tamper false false 0 0 0
	run --separate-stderr ibs status --format prometheus
	[[ "$output" == *"ipbanset_kernel_chain_ok 0"* ]] || fail "$output"
	ibs_ok --json reconcile
	jq_ok '.changed == true and .chain_repaired == true'
	run kernel_chain
	jq_ok '.policy == "accept" and .hook == "input" and .prio == -10'
	assert_reachable 198.51.100.3
	assert_dropped "$ATK_ADDR"
	assert_tamper true true 0 0 0
}

@test "our chain made again at another priority is moved back by reconcile" {
	skip_unless_nft "with ipset ipbanset has no chain"
	ibs_ok ban "$ATK_ADDR"
	nft_srv -f - <<-EOF
		flush chain inet ipbanset filter
		delete chain inet ipbanset filter
		add chain inet ipbanset filter { type filter hook input priority 0; policy accept; }
		add rule inet ipbanset filter ip saddr @v4_32 counter drop comment "v4_32"
		add rule inet ipbanset filter accept
	EOF
	assert_tamper false false 0 1 0
	ibs_ok --json reconcile
	jq_ok '.changed == true and .chain_repaired == true and .foreign_rules_removed == 1'
	run kernel_chain
	jq_ok '.policy == "accept" and .hook == "input" and .prio == -10'
	assert_dropped "$ATK_ADDR"
	assert_tamper true true 0 0 0
}

@test "reconcile --dry-run reports the repairs and changes nothing" {
	skip_unless_nft "with ipset the rules are the administrator's iptables rules"
	ibs_ok ban "$ATK_ADDR"
	nft_srv replace rule inet ipbanset filter handle "$(rule_handle v4_32)" ip saddr @v4_32 accept
	nft_srv insert rule inet ipbanset filter accept
	nft_srv chain inet ipbanset filter '{ policy drop; }'
	local before
	before=$(nft_srv list table inet ipbanset | sed 's/ expires [^ ]*//')
	ibs_ok --json --dry-run reconcile
	jq_ok '.changed == true and .dry_run == true and .chain_repaired == true and
		.rules_repaired == 1 and .foreign_rules_removed == 1'
	ibs_ok --dry-run reconcile
	[[ "$output" == *"would repair: chain filter has policy drop"* ]] || fail "$output"
	[ "$(nft_srv list table inet ipbanset | sed 's/ expires [^ ]*//')" = "$before" ] ||
		fail "the table changed"
	assert_tamper false false 1 1 0
	# init repairs as reconcile does
	ibs_ok --json init
	jq_ok '.changed == true and .chain_repaired == true and .rules_repaired == 1'
	assert_tamper true true 0 0 0
	assert_dropped "$ATK_ADDR"
}
