#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Drift and repair: nft flush ruleset, a reboot.

load helper

file_setup() {
	ibs_init
}

@test "after nft flush ruleset, status says in_sync false and reconcile repairs it" {
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24 "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR"
	kernel_wipe
	assert_reachable "$ATK_ADDR"
	run --separate-stderr ibs status --json
	assert_status 0
	jq_ok '.kernel.in_sync == false and .kernel.missing > 0'
	jq_ok '.kernel.present == false'
	ibs_ok --json reconcile
	jq_ok '.changed == true and .restored == 3'
	ibs_ok status --json
	jq_ok '.kernel.present == true and .kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0'
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.5
	assert_dropped "$ATK_ADDR6"
	assert_reachable 198.51.100.3
}

@test "after the sets were flushed, status text suggests reconcile" {
	ibs_ok ban "$ATK_ADDR"
	kernel_flush_set v4_32
	run --separate-stderr ibs status
	assert_status 0
	[[ "$output$stderr" == *reconcile* ]]
	ibs_ok reconcile
	assert_dropped "$ATK_ADDR"
}

@test "reconcile on a kernel in sync changes nothing" {
	ibs_ok ban "$ATK_ADDR"
	ibs_ok --json reconcile
	jq_ok '.changed == false'
}

@test "reconcile restores the remaining timeout, not the original one" {
	local t t0=$SECONDS
	ibs_ok ban --timeout 20s "$ATK_ADDR"
	sleep 3
	kernel_wipe
	ibs_ok reconcile
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -le 17 ] || fail "kernel timeout $t, expected <= 17"
	# what was left when reconcile ran, give or take the seconds' rounding
	[ "$t" -ge $((20 - (SECONDS - t0) - 2)) ] || fail "kernel timeout $t, $((SECONDS - t0))s after the ban"
}

@test "a reboot: init + reconcile with the same journal restore remaining timeouts, not expired bans" {
	local tb=$SECONDS
	ibs_ok ban --timeout 30s "$ATK_ADDR"
	ibs_ok ban --timeout 2s 198.51.100.3
	ibs_ok ban --timeout permanent 203.0.113.0/24
	ibs_ok ban -s f2b --timeout 1h "$ATK_ADDR6"
	local t0=$SECONDS
	reboot_server
	refute kernel_has_table
	sleep 3
	ibs_ok init
	ibs_ok reconcile
	local elapsed=$((SECONDS - t0)) t
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -le $((30 - elapsed)) ] || fail "timeout $t > remaining $((30 - elapsed))"
	[ "$t" -ge $((30 - (SECONDS - tb) - 2)) ] || fail "timeout $t, $((SECONDS - tb))s after the ban"
	assert_kernel_lacks v4_32 198.51.100.3
	[ "$(kernel_timeout v4_24 203.0.113.0)" = none ]
	t=$(kernel_timeout v6_128 "$ATK_ADDR6")
	[ "$t" -le 3600 ]
	[ "$t" -gt 3500 ]
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.5
	assert_dropped "$ATK_ADDR6"
	assert_reachable 198.51.100.3
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .total == 3'
}

@test "reconcile recreates the table by itself after a reboot" {
	ibs_ok ban "$ATK_ADDR"
	reboot_server
	ibs_ok reconcile
	assert_dropped "$ATK_ADDR"
}

@test "reconcile removes elements whose ban was withdrawn while the kernel was away" {
	ibs_ok ban "$ATK_ADDR" 198.51.100.3
	kernel_save "$WORK/saved.nft"
	ibs_ok unban "$ATK_ADDR"
	kernel_restore "$WORK/saved.nft"
	assert_kernel_has v4_32 "$ATK_ADDR"
	ibs_ok --json reconcile
	jq_ok '.changed == true'
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_kernel_has v4_32 198.51.100.3
	assert_reachable "$ATK_ADDR"
}

@test "reconcile says it rewrote a set without calling a 2-element set large" {
	ibs_ok ban "$ATK_ADDR" 198.51.100.3
	kernel_save "$WORK/saved.nft"
	ibs_ok unban "$ATK_ADDR"
	kernel_restore "$WORK/saved.nft"
	ibs_ok reconcile
	[[ "$output" != *large* ]] || fail "reconcile said: $output"
	# the restore gave 198.51.100.3 its saved time left: on a slow machine (ASan) the
	# seconds the save and restore took make its kernel expiry later, which is retimed
	if is_ipset; then # deleted in place: ipset lists the whole set
		[[ "$output" =~ ^"reconcile: restored 0, removed 1, retimed "[01]$ ]] ||
			fail "reconcile said: $output"
	else # a dump that finds a stray rewrites the set (see repair_by_diff)
		[[ "$output" =~ ^"reconcile: restored 0, removed 1, retimed "[01]", rewrote 1 set"$ ]] ||
			fail "reconcile said: $output"
	fi
	assert_kernel_lacks v4_32 "$ATK_ADDR"
}

@test "a later ban does not hide drift that someone else caused" {
	ibs_ok ban "$ATK_ADDR" 198.51.100.3
	kernel_del_element v4_32 "$ATK_ADDR"
	ibs_ok ban 198.51.100.4
	ibs_ok status --json
	jq_ok '.kernel.in_sync == false and .kernel.missing == 1'
	ibs_ok reconcile
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
	# ipset has no generation id: status compares by listing
	is_ipset || [[ "$(jq -r .kernel.method <<<"$output")" == *generation* ]]
	assert_dropped "$ATK_ADDR"
}

@test "after nft flush ruleset, the next ban restores every live ban with it" {
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24
	kernel_wipe
	assert_reachable "$ATK_ADDR"
	run --separate-stderr ibs ban 198.51.100.3
	assert_status 0
	[[ "$stderr" == *"was missing: created it and restored the journal's 2 other live bans"* ]] ||
		fail "no notice of the restore: $stderr"
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.9
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .total == 3'
}

# More elements than one kernel transaction holds, into a missing table: one thread reads
# the journal while the other creates the table and sends the elements.
@test "reconcile of a flushed ruleset sends a big restore while it reads it" {
	local i
	for ((i = 0; i < 5000; i++)); do echo "100.64.$((i / 256)).$((i % 256))"; done >"$BATS_TEST_TMPDIR/big"
	echo "$ATK_ADDR" >>"$BATS_TEST_TMPDIR/big"
	ibs_ok ban -s feed -t 1h -f "$BATS_TEST_TMPDIR/big"
	ibs_ok ban -s other -t 2h "$ATK_ADDR" 203.0.113.0/24 "$ATK_ADDR6"
	kernel_wipe
	IPBANSET_BATCH_ELEMENTS=1000 run --separate-stderr ibs -v --json reconcile
	assert_status 0
	# ipset has no multi-element transactions to stream: it fills each set, then swaps
	if ! is_ipset; then
		[[ "$stderr" == *"journal read"* ]] || fail "not streamed: $stderr"
	fi
	jq_ok '.restored == 5003 and .sets_created == 3'
	is_ipset || jq_ok '.table_created == true'
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0 and .kernel.retime == 0 and .total == 5004'
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.9
	is_ipset && return
	[[ "$(jq -r .kernel.method <<<"$output")" == *dump* ]]
	ibs_ok status --json
	[[ "$(jq -r .kernel.method <<<"$output")" == *generation* ]]
}

@test "init into a missing table with a big journal restores it the same way" {
	local i
	for ((i = 0; i < 3000; i++)); do echo "100.64.$((i / 256)).$((i % 256))"; done >"$BATS_TEST_TMPDIR/big"
	ibs_ok ban -t 1h -f "$BATS_TEST_TMPDIR/big"
	kernel_delete_table
	IPBANSET_BATCH_ELEMENTS=500 ibs_ok --json init
	jq_ok '.restored == 3000'
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .total == 3000'
}

# ---- large sets (more than the 50000 elements status samples instead of dumping)

# big_list N: N IPv6 addresses of 2001:db8::/32 in $WORK/big.txt, as nft prints them
big_list() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "2001:db8:%x:%x::1\n", int(i / 65536) + 16, i % 65536 }' \
		| sed 's/:0::1$/::1/' >"$WORK/big.txt"
}

# big_has ADDR: the kernel holds ADDR in the /128 set (one lookup, not a dump of the set)
big_has() {
	if is_ipset; then
		ip netns exec "$SRV" ipset test "${TABLE:-ipbanset}-ip6" "$1" 2>/dev/null
	else
		ip netns exec "$SRV" nft get element inet "${TABLE:-ipbanset}" v6_128 "{ $1 }" >/dev/null 2>&1
	fi
}

# big_timeout ADDR: the timeout nftables set on the element when it was added. A rewrite
# adds it again with the time left, so a different value proves the set was rewritten.
big_timeout() {
	ip netns exec "$SRV" nft get element inet "${TABLE:-ipbanset}" v6_128 "{ $1 }" |
		grep -o 'timeout [0-9a-z]*'
}

big_flush() {
	if is_ipset; then
		ip netns exec "$SRV" ipset flush "${TABLE:-ipbanset}-ip6"
	else
		ip netns exec "$SRV" nft flush set inet "${TABLE:-ipbanset}" v6_128
	fi
}

events() {
	ibs --json log | jq length
}

@test "init and reconcile leave an unchanged large set alone: changed false, not rewritten, no history" {
	local cmd t0 n
	big_list 60000
	ibs_ok ban -t 1h -s big -f "$WORK/big.txt"
	is_ipset || t0=$(big_timeout 2001:db8:10::1)
	n=$(events)
	for cmd in init init reconcile reconcile; do
		ibs_ok -n --json "$cmd"
		jq_ok '.changed == false and .dry_run == true and .sets_rewritten == 0 and .restored == 0'
		ibs_ok --json "$cmd"
		jq_ok '.changed == false and .sets_rewritten == 0 and .restored == 0 and .removed == 0 and .retimed == 0'
	done
	ibs_ok reconcile
	[ "$output" = "reconcile: restored 0, removed 0, retimed 0" ] || fail "reconcile said: $output"
	is_ipset || [ "$(big_timeout 2001:db8:10::1)" = "$t0" ] ||
		fail "the set was rewritten: $t0, now $(big_timeout 2001:db8:10::1)"
	[ "$(events)" = "$n" ] || fail "the history grew by $(($(events) - n)) events"
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true and .total == 60000'
}

@test "after another program changed the ruleset, reconcile compares a large set and leaves it alone" {
	skip_unless_nft "the ruleset generation is nftables'; ipset always compares"
	local t0
	big_list 60000
	ibs_ok ban -t 1h -s big -f "$WORK/big.txt"
	t0=$(big_timeout 2001:db8:10::1)
	ip netns exec "$SRV" nft add table inet other
	ibs_ok status --json
	[[ "$(jq_val .kernel.method)" == *"ruleset changed"* ]] || fail "status compared: $(jq_val .kernel.method)"
	ibs_ok -n --json reconcile
	jq_ok '.changed == false and .sets_rewritten == 0'
	ibs_ok --json reconcile
	jq_ok '.changed == false and .sets_rewritten == 0 and .restored == 0 and .removed == 0 and .retimed == 0'
	[ "$(big_timeout 2001:db8:10::1)" = "$t0" ] || fail "the set was rewritten"
	# the comparison found the kernel exact: the next check trusts the generation again
	ibs_ok status --json
	[[ "$(jq_val .kernel.method)" == *generation* ]] || fail "status compared: $(jq_val .kernel.method)"
}

# Below RECONCILE_DUMP_MAX (250000) reconcile compares a set of any size the same way: 6000
# bans make the same path as 60000 in a tenth of the time.
@test "drift in a set is found and repaired: deleted elements, a stray, a flushed set, a wipe" {
	local t0
	big_list 6000
	ibs_ok ban -t 1h -s big -f "$WORK/big.txt"
	is_ipset || t0=$(big_timeout 2001:db8:10:7::1)
	kernel_del_element v6_128 2001:db8:10::1
	kernel_del_element v6_128 2001:db8:10:5::1
	ibs_ok -n --json reconcile
	jq_ok '.changed == true and .restored == 2'
	refute big_has 2001:db8:10::1
	ibs_ok --json reconcile
	jq_ok '.changed == true and .restored == 2 and .removed == 0 and .sets_rewritten == 0'
	big_has 2001:db8:10::1
	big_has 2001:db8:10:5::1
	# put back one by one: the other elements were not touched
	is_ipset || [ "$(big_timeout 2001:db8:10:7::1)" = "$t0" ] || fail "the set was rewritten"
	ibs_ok --json reconcile
	jq_ok '.changed == false'

	kernel_add_element v6_128 2001:db8:ffff::1 3600
	ibs_ok --json reconcile
	jq_ok '.changed == true and .removed == 1'
	refute big_has 2001:db8:ffff::1
	big_has 2001:db8:10:7::1

	big_flush
	ibs_ok -n --json init
	jq_ok '.changed == true and .restored == 6000'
	refute big_has 2001:db8:10:7::1
	ibs_ok --json init
	jq_ok '.changed == true and .restored == 6000'
	big_has 2001:db8:10:7::1

	kernel_wipe
	ibs_ok --json reconcile
	jq_ok '.changed == true and .restored == 6000'
	big_has 2001:db8:10:7::1
	ibs_ok --json reconcile
	jq_ok '.changed == false'
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0 and .total == 6000'
}

@test "reconcile records a history event only when it repaired something" {
	local n
	ibs_ok ban "$ATK_ADDR"
	n=$(events)
	ibs_ok reconcile
	ibs_ok reconcile
	[ "$(events)" = "$n" ] || fail "a reconcile that changed nothing left $(($(events) - n)) events"
	kernel_del_element v4_32 "$ATK_ADDR"
	ibs_ok reconcile
	[ "$(events)" = $((n + 1)) ] || fail "the repair left $(($(events) - n)) events"
	ibs_ok --json log
	jq_ok '.[-1].kind == "reconcile" and (.[-1].detail | test("restored 1"))'
}

@test "the notice of a restore into a missing table counts only the bans the command did not make" {
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24
	kernel_wipe
	run --separate-stderr ibs -n ban 198.51.100.3 198.51.100.77
	assert_status 0
	[[ "$stderr" == *"is missing: would create it and would restore the journal's 2 other live bans"* ]] ||
		fail "dry run said: $stderr"
	refute kernel_has_table
	run --separate-stderr ibs ban 198.51.100.3 198.51.100.77
	assert_status 0
	[[ "$stderr" == *"was missing: created it and restored the journal's 2 other live bans"* ]] ||
		fail "ban said: $stderr"
	assert_dropped "$ATK_ADDR"
}

# The kernel counts timeouts down on its own clock: once the wall clock moved against
# it, the kernel is not "as ipbanset left it" whatever the generation says.
@test "after the wall clock was stepped, reconcile compares the sets instead of trusting the generation" {
	ibs_ok ban -t 1h "$ATK_ADDR"
	ibs_ok ban -t 3h 198.51.100.3
	ibs_ok --json reconcile
	jq_ok '.changed == false'
	# two hours later by the wall clock alone: the journal let the first ban go, and the
	# second has one hour left; the kernel still counts one hour and three
	IPBANSET_TEST_CLOCK_OFFSET=7200 ibs_ok --json reconcile
	jq_ok '.changed == true and .removed == 1 and .retimed == 1'
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_kernel_has v4_32 198.51.100.3
	IPBANSET_TEST_CLOCK_OFFSET=7200 ibs_ok --json reconcile
	jq_ok '.changed == false'
}

@test "after the wall clock was stepped, status compares the sets too, and finds the drift" {
	ibs_ok ban -t 1h "$ATK_ADDR"
	ibs_ok ban -t 3h 198.51.100.3
	ibs_ok --json status
	jq_ok '.kernel.in_sync == true'
	is_ipset || jq_ok '.kernel.method | test("unchanged since")' # ipset has no generation
	# two hours on by the wall clock alone: the kernel still holds the first ban
	IPBANSET_TEST_CLOCK_OFFSET=7200 ibs_ok --json status
	jq_ok '.kernel.in_sync == false and .kernel.unexpected == 1 and (.kernel.method | test("unchanged since") | not)'
}

@test "reconcile puts back a set's rule deleted behind its back, and reports the change" {
	skip_unless_nft "ipbanset's own nftables rule; with ipset the host's iptables rules reference the sets"
	ibs_ok ban "$ATK_ADDR"
	local handle
	handle=$(nft_json | jq '.nftables[] | select(.rule) | .rule.handle')
	ip netns exec "$SRV" nft delete rule inet ipbanset filter handle "$handle"
	assert_reachable "$ATK_ADDR"
	ibs_ok --json reconcile
	jq_ok '.changed == true'
	assert_dropped "$ATK_ADDR"
	ibs_ok --json reconcile
	jq_ok '.changed == false'
}
