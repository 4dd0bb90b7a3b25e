#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Ownership: ipbanset never uses, changes or deletes a table (or objects in its table) it
# did not create, a journal drives one table, and a table belongs to the journal that
# created it. See "OWNERSHIP" in ipbanset(8).

load helper

# The administrator's own table: a set named like one of ipbanset's, used by their rule.
user_table() {
	ip netns exec "$SRV" nft -f - <<-'EOF'
		table inet filter {
			set v4_32 { type ipv4_addr; flags timeout; }
			chain input {
				type filter hook input priority 0; policy accept;
				ip saddr @v4_32 drop
			}
		}
	EOF
	ip netns exec "$SRV" nft list table inet filter >"$WORK/user-table"
}

assert_user_table_intact() {
	ip netns exec "$SRV" nft list table inet filter >"$WORK/user-table.now" ||
		fail "table inet filter is gone"
	diff -u "$WORK/user-table" "$WORK/user-table.now" >&2
}

# refused ARGS...: ipbanset ARGS exits 4 and says why.
refused() {
	run --separate-stderr ibs "$@"
	assert_status 4
	assert_stderr_prefixed
}

@test "a table ipbanset did not create is never used, changed or deleted" {
	skip_unless_nft "ipset sets carry no owner mark"
	user_table
	assert_reachable "$ATK_ADDR"
	refused -T filter ban "$ATK_ADDR"
	assert_stderr_has "table inet filter was not created by ipbanset"
	assert_stderr_has "init --adopt"
	# the user's rule drops what is in their set: nothing was added to it
	assert_reachable "$ATK_ADDR"
	refused -T filter init
	refused -T filter reconcile
	refused -T filter status
	refused -T filter teardown
	assert_stderr_has "table inet filter"
	assert_user_table_intact
	[ "$(ip netns exec "$SRV" nft list chains | grep -c chain)" -eq 1 ]
	# the config's "table =" is the same as -T
	config 'table = filter'
	refused ban "$ATK_ADDR"
	refused teardown
	assert_user_table_intact
	assert_reachable "$ATK_ADDR"
}

@test "init --adopt refuses a table that holds what ipbanset would not create" {
	skip_unless_nft "ipset sets carry no owner mark"
	user_table
	refused -T filter init --adopt
	assert_stderr_has "chain input"
	assert_user_table_intact
}

@test "init --adopt takes over a table an older ipbanset made, once, and its bans stay enforced" {
	skip_unless_nft "ipset sets carry no owner mark"
	ibs_init
	ibs_ok ban -r old "$ATK_ADDR"
	# what an older ipbanset left: the same table without the marker comment
	kernel_save "$WORK/table"
	grep -q 'comment "ipbanset journal=' "$WORK/table" || fail "no marker: $(cat "$WORK/table")"
	sed -i '/comment "ipbanset journal=/d' "$WORK/table"
	kernel_restore "$WORK/table"
	refused ban "$ATK_ADDR6"
	assert_stderr_has "init --adopt"
	assert_dropped "$ATK_ADDR"
	assert_reachable "$ATK_ADDR6"
	ibs_ok --json init --adopt
	jq_ok '.changed == true'
	ip netns exec "$SRV" nft list table inet ipbanset | grep -q 'comment "ipbanset journal='
	assert_dropped "$ATK_ADDR"
	ibs_ok ban "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR6"
	# once adopted, --adopt is a plain init
	ibs_ok --json init --adopt
	jq_ok '.changed == false'
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
}

@test "objects in ipbanset's table that ipbanset did not create are not used or deleted" {
	skip_unless_nft "ipset sets carry no owner mark"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	ip netns exec "$SRV" nft add set inet ipbanset mine '{ type ipv4_addr; }'
	# bans go on; the whole table, with the user's set in it, is not deleted
	ibs_ok ban 203.0.113.5
	refused teardown
	assert_stderr_has "set mine"
	kernel_has_table
	assert_dropped "$ATK_ADDR"
	# a set named like ipbanset's, but not made as ipbanset makes it
	ip netns exec "$SRV" nft add set inet ipbanset v6_128 '{ type ipv6_addr; }'
	refused ban "$ATK_ADDR6"
	assert_stderr_has "set v6_128"
	ip netns exec "$SRV" nft list set inet ipbanset v6_128 | grep -q 'type ipv6_addr'
	assert_reachable "$ATK_ADDR6"
}

@test "a journal drives one table: another table with the same journal is refused" {
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	refused -T ipb2 ban "$ATK_ADDR6"
	assert_stderr_has "belongs to"
	assert_stderr_has "ipb2"
	assert_stderr_has "ipbanset"
	TABLE=ipb2 refute kernel_has_table
	refused -T ipb2 status
	refused -T ipb2 init
	refused -T ipb2 list
	ibs_ok unban "$ATK_ADDR"
	# nothing else blocks it: the other table was never made
	assert_reachable "$ATK_ADDR"
	assert_reachable "$ATK_ADDR6"
	# another journal may drive the other table
	DB="$WORK/ipb2.db" ibs_ok -T ipb2 ban "$ATK_ADDR6"
	TABLE=ipb2 assert_dropped "$ATK_ADDR6"
}

@test "a table belongs to the journal that created it" {
	skip_unless_nft "ipset sets carry no owner mark"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	kernel_save "$WORK/before"
	sed -i 's/ expires [^ ]*//' "$WORK/before"
	run --separate-stderr ibs -d "$WORK/other.db" reconcile
	assert_status 4
	assert_stderr_has "belongs to another ipbanset journal"
	assert_stderr_has "$WORK/other.db"
	run --separate-stderr ibs -d "$WORK/other.db" teardown
	assert_status 4
	run --separate-stderr ibs -d "$WORK/other.db" ban 203.0.113.5
	assert_status 4
	run --separate-stderr ibs -d "$WORK/other.db" status
	assert_status 4
	kernel_save "$WORK/after"
	sed -i 's/ expires [^ ]*//' "$WORK/after"
	diff -u "$WORK/before" "$WORK/after" >&2
	assert_dropped "$ATK_ADDR"
}

@test "ipset: teardown destroys no set named like ipbanset's that ipbanset did not make" {
	is_ipset || skip "ipset only"
	ip netns exec "$SRV" ipset create ipbanset-ip4 hash:ip
	ip netns exec "$SRV" ipset add ipbanset-ip4 192.0.2.99
	refused teardown
	assert_stderr_has "ipbanset-ip4"
	ip netns exec "$SRV" ipset list ipbanset-ip4 | grep -qx 192.0.2.99
	# one of another type is refused by every command
	ip netns exec "$SRV" ipset destroy ipbanset-ip4
	ip netns exec "$SRV" ipset create ipbanset-ip4 hash:net timeout 0 comment
	refused ban "$ATK_ADDR"
	assert_stderr_has "ipbanset-ip4"
	ip netns exec "$SRV" ipset list -n ipbanset-ip4
}

@test "recover rebuilds a journal that the table it came from accepts" {
	ibs_init
	ibs_ok ban -r kept "$ATK_ADDR"
	rm -f "$DB" "$DB-wal" "$DB-shm"
	ibs_ok recover
	ibs_ok ban "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR"
	assert_dropped "$ATK_ADDR6"
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
}

@test "status trusts the ruleset generation only with the table it was recorded for" {
	skip_unless_nft "ipset has no generation id"
	ibs_init
	ibs_ok ban "$ATK_ADDR"
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
	[[ "$(jq_val .kernel.method)" == *"generation"*"unchanged"* ]]
	# init and ban were two transactions; a new namespace counts from the same start
	kernel_save "$WORK/table"
	sed -i '/elements = /d' "$WORK/table"
	reboot_server
	ip netns exec "$SRV" nft add table inet other
	ip netns exec "$SRV" nft -f "$WORK/table"
	# same generation number, another table without the ban: status must look
	ibs_ok status --json
	jq_ok '.kernel.in_sync == false and .kernel.missing == 1'
	ibs_ok reconcile
	assert_dropped "$ATK_ADDR"
}
