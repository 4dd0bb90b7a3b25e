#!/usr/bin/env bats
# Kernel refusals: the error names the target that caused it, and nothing changes.

load helper

file_setup() {
	ibs_init
}

@test "a full set: the kernel's refusal names the target, journal and kernel unchanged" {
	ibs_ok ban 198.51.100.3
	# someone replaced our /32 set with one that holds at most two elements
	ip netns exec "$SRV" nft -f - <<-EOF2
		flush chain inet ipbanset filter
		delete set inet ipbanset v4_32
		add set inet ipbanset v4_32 { type ipv4_addr; flags timeout; size 2; }
		add element inet ipbanset v4_32 { 198.51.100.3 }
		add rule inet ipbanset filter ip saddr @v4_32 counter drop comment "v4_32"
	EOF2
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
	ip netns exec "$SRV" nft delete table inet ipbanset
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	assert_dropped 198.51.100.3
}
