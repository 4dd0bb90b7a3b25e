#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# list --json, log with --source and --since, gc.

load helper

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

file_setup() {
	ibs_init
}

@test "list --json: target, source, expires, reason, created" {
	ibs_ok ban -s f2b-sshd -r "5 failures" -t 1h "$ATK_ADDR"
	ibs_ok ban -t permanent 2001:db8:2::/48
	run list_json
	jq_ok 'type == "array" and length == 2'
	jq_ok 'all(.[]; has("target") and has("source") and has("expires") and has("reason") and has("created"))'
	jq_ok --arg a "$ATK_ADDR" --arg re "$RFC3339" \
		'.[] | select(.target == $a) | .source == "f2b-sshd" and .reason == "5 failures" and (.expires | test($re)) and (.created | test($re))'
	jq_ok '.[] | select(.target == "2001:db8:2::/48") | .expires == null and .source == "manual"'
}

@test "list of an empty journal is an empty array" {
	run list_json
	jq_ok '. == []'
}

@test "list --family 4 / 6" {
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24 "$ATK_ADDR6"
	run list_json --family 6
	jq_ok --arg a "$ATK_ADDR6" 'length == 1 and .[0].target == $a'
	run list_json --family 4
	jq_ok 'length == 2'
}

@test "list text output shows target, source and reason" {
	ibs_ok ban -s f2b-sshd -r "brute force" "$ATK_ADDR"
	ibs_ok list
	[[ "$output" == *"$ATK_ADDR"* ]]
	[[ "$output" == *f2b-sshd* ]]
	[[ "$output" == *"brute force"* ]]
}

@test "list, log and status text: columns line up with long IPv6 targets and long source names" {
	ibs_ok ban -t 1h 198.51.100.7
	ibs_ok ban -t 2h -s f2b-a-very-long-jail-name -r "long one" 2001:db8:1234:5678:9abc:def0:1234:5678
	ibs_ok ban -t 3h -r "short" 203.0.113.0/25
	ibs_ok list
	[[ "${lines[0]}" == TARGET* ]] || fail "no heading: $output"
	columns_line_up 3 "$output"
	ibs_ok log
	columns_line_up 4 "$output"
	ibs_ok status
	columns_line_up 3 "$(sed -n '/^next to expire:/,$p' <<<"$output" | sed 1d)"
	# no trailing blanks where a ban has no reason
	ibs_ok list
	refute grep -q ' $' <<<"$output"
}

@test "log shows ban and unban events" {
	ibs_ok ban -s f2b-sshd -r "ssh brute force" "$ATK_ADDR"
	ibs_ok ban -s feed 198.51.100.3
	ibs_ok unban -s f2b-sshd "$ATK_ADDR"
	ibs_ok --json log
	jq_ok --arg a "$ATK_ADDR" 'any(.[]; .kind == "ban" and .target == $a and .source == "f2b-sshd" and .reason == "ssh brute force")'
	jq_ok --arg a "$ATK_ADDR" 'any(.[]; .kind == "unban" and .target == $a and .source == "f2b-sshd")'
	jq_ok 'any(.[]; .kind == "ban" and .target == "198.51.100.3" and .source == "feed")'
	jq_ok --arg re "$RFC3339" 'all(.[]; .time | test($re))'
	ibs_ok log
	[[ "$output" == *"$ATK_ADDR"* ]]
	[[ "$output" == *unban* ]]
}

@test "log --source filters by source" {
	ibs_ok ban -s f2b-sshd "$ATK_ADDR"
	ibs_ok ban -s feed 198.51.100.3
	ibs_ok unban -s feed 198.51.100.3
	ibs_ok --json log --source feed
	jq_ok 'length == 2 and all(.[]; .source == "feed")'
	ibs_ok log -s f2b-sshd
	[[ "$output" == *"$ATK_ADDR"* ]]
	[[ "$output" != *198.51.100.3* ]]
}

@test "log --since keeps recent events" {
	ibs_ok ban "$ATK_ADDR"
	ibs_ok --json log --since 1h
	jq_ok 'length >= 1'
}

@test "gc drops expired bans from the journal" {
	ibs_ok ban --timeout 1s "$ATK_ADDR"
	ibs_ok ban --timeout 1h 198.51.100.3
	sleep 2
	ibs_ok status --json
	jq_ok '.journal.expired_rows >= 1 and .total == 1'
	ibs_ok --json gc
	jq_ok '.changed == true'
	ibs_ok status --json
	jq_ok '.journal.expired_rows == 0 and .total == 1'
	ibs_ok --json gc
	jq_ok '.changed == false'
	assert_dropped 198.51.100.3
}

gc_events() {
	ibs --json log | jq '[.[] | select(.kind == "gc")] | length'
}

# With ipset, gc makes the kernel match the journal (see "The ipset backend" in the man
# page); with nftables it leaves the kernel to reconcile and watch. Either way what it
# reports and records is what it did.
@test "gc reports and records every change it makes to the kernel" {
	ibs_ok ban -t 1h "$ATK_ADDR" 198.51.100.3
	kernel_del_element v4_32 "$ATK_ADDR"
	kernel_add_element v4_32 198.51.100.77 3600
	ibs_ok --json -n gc
	if is_ipset; then
		jq_ok '.changed == true and .dry_run == true and .kernel.added == 1 and .kernel.removed == 1'
	else
		jq_ok '.changed == false and .kernel.added == 0 and .kernel.removed == 0'
	fi
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	[ "$(gc_events)" -eq 0 ] || fail "a dry run recorded a gc event"
	ibs_ok --json gc
	if is_ipset; then
		jq_ok '.changed == true and .removed == 0 and .kernel.added == 1 and .kernel.removed == 1
			and .kernel.retimed == 0'
		assert_kernel_has v4_32 "$ATK_ADDR"
		assert_kernel_lacks v4_32 198.51.100.77
		assert_dropped "$ATK_ADDR"
		run --separate-stderr ibs --json log
		jq_ok '[.[] | select(.kind == "gc")] | length == 1
			and (.[-1].detail | test("restored 1, removed 1, retimed 0"))'
		kernel_del_element v4_32 "$ATK_ADDR"
		ibs_ok gc
		[[ "$output" == *"kernel: restored 1, removed 0, retimed 0"* ]] || fail "gc said: $output"
		[ "$(gc_events)" -eq 2 ]
	else
		jq_ok '.changed == false and .kernel.added == 0 and .kernel.removed == 0'
		assert_kernel_lacks v4_32 "$ATK_ADDR"
		assert_kernel_has v4_32 198.51.100.77
		[ "$(gc_events)" -eq 0 ] || fail "gc recorded a kernel change it did not make"
		ibs_ok gc
		[[ "$output" != *kernel* ]] || fail "gc claimed a kernel change: $output"
	fi
	ibs_ok --json gc
	jq_ok '.changed == false and .kernel.added == 0 and .kernel.removed == 0'
}

# Above 1000 targets a command leaves one event that counts what it did, not one each.
@test "gc where no journal exists yet creates none (the daily timer on an unused host)" {
	local fresh="$WORK/fresh"
	DB="$fresh/ipbanset.db" ibs_ok gc
	[[ "$output" == *"no journal"* ]] || fail "no word of the missing journal: $output"
	DB="$fresh/ipbanset.db" ibs_ok --json gc
	jq_ok '.changed == false and .removed == 0 and .events_removed == 0'
	[ ! -e "$fresh" ]
}

@test "log: a ban of more than 1000 targets is one summary event; a small one, one per target" {
	local i
	for ((i = 0; i < 1500; i++)); do echo "100.64.$((i / 256)).$((i % 256))"; done >"$BATS_TEST_TMPDIR/big"
	ibs_ok ban -s feed -r "list" -t 1h -f "$BATS_TEST_TMPDIR/big"
	ibs_ok ban -s feed "$ATK_ADDR"
	ibs_ok unban -s feed -f "$BATS_TEST_TMPDIR/big"
	ibs_ok --json log
	output=$(jq -c '[.[] | select(.kind != "init")]' <<<"$output")
	jq_ok 'length == 3'
	jq_ok '.[0].kind == "ban" and .[0].target == null and .[0].source == "feed" and .[0].reason == "list"'
	jq_ok '.[0].detail | startswith("1500 targets: 1500 added, 0 removed, 0 updated, 0 unchanged; expires ")'
	jq_ok --arg a "$ATK_ADDR" '.[1].kind == "ban" and .[1].target == $a'
	jq_ok '.[2].kind == "unban" and .[2].target == null and (.[2].detail | startswith("1500 targets: 0 added, 1500 removed"))'
	ibs_ok log
	[[ "$output" == *"1500 targets: 1500 added"* ]]
}
