#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# sync: one source's bans become exactly a file's targets; other sources untouched.

load helper

file_setup() {
	ibs_init
}

@test "sync adds a file's targets and a second run changes nothing" {
	printf '%s\n' "$ATK_ADDR" 203.0.113.0/24 >"$WORK/feed"
	ibs_ok --json sync --source feed --timeout 1h -f "$WORK/feed"
	jq_ok '.changed == true and .added == 2 and .removed == 0'
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.5
	local before
	before=$(snapshot)
	ibs_ok --json sync --source feed --timeout 1h -f "$WORK/feed"
	jq_ok '.changed == false and .added == 0 and .removed == 0 and .updated == 0'
	assert_unchanged "$before"
}

@test "sync replaces the source's bans: removed ones pass, new ones drop" {
	printf '%s\n' "$ATK_ADDR" 198.51.100.3 >"$WORK/feed"
	ibs_ok sync -s feed -f "$WORK/feed"
	printf '%s\n' 198.51.100.3 198.51.100.77 >"$WORK/feed"
	ibs_ok --json sync -s feed -f "$WORK/feed"
	jq_ok '.changed == true and .added == 1 and .removed == 1'
	run list_json --source feed
	jq_ok '[.[].target] | sort == ["198.51.100.3", "198.51.100.77"]'
	assert_reachable "$ATK_ADDR"
	assert_dropped 198.51.100.77
	assert_dropped 198.51.100.3
}

@test "sync leaves other sources' bans alone, even on the same target" {
	ibs_ok ban -s manual "$ATK_ADDR"
	ibs_ok ban -s f2b-sshd 198.51.100.77
	printf '%s\n' "$ATK_ADDR" 198.51.100.3 >"$WORK/feed"
	ibs_ok sync -s feed -f "$WORK/feed"
	: >"$WORK/empty"
	ibs_ok --json sync -s feed -f "$WORK/empty"
	jq_ok '.removed == 2'
	run list_json
	jq_ok 'length == 2'
	jq_ok --arg a "$ATK_ADDR" 'any(.[]; .target == $a and .source == "manual")'
	jq_ok 'any(.[]; .target == "198.51.100.77" and .source == "f2b-sshd")'
	assert_dropped "$ATK_ADDR"
	assert_dropped 198.51.100.77
	assert_reachable 198.51.100.3
}

@test "sync from stdin in Spamhaus format" {
	printf '; header\n203.0.0.0/16 ; SBL1\n2001:db8:2::/48 ; SBL2\n' >"$WORK/drop"
	run --separate-stderr ibs --json sync -s spamhaus -t 2d -f - <"$WORK/drop"
	assert_status 0
	jq_ok '.added == 2'
	assert_dropped 203.0.5.5
	assert_dropped 2001:db8:2::5
}

@test "a re-run extends entries with less than half the timeout left" {
	printf '%s\n' "$ATK_ADDR" >"$WORK/feed"
	# margins wide enough for a slow (valgrind, ASan) binary: at 7s, 5s of 12s remain
	ibs_ok sync -s feed -t 12s -f "$WORK/feed"
	sleep 7
	ibs_ok --json sync -s feed -t 12s -f "$WORK/feed"
	jq_ok '.changed == true and .updated == 1'
	sleep 6 # past the first expiry: still dropped only because it was extended
	assert_dropped "$ATK_ADDR"
}

@test "sync with a bad line changes nothing" {
	printf '%s\n' "$ATK_ADDR" >"$WORK/feed"
	ibs_ok sync -s feed -f "$WORK/feed"
	printf '%s\n' 198.51.100.3 bogus >"$WORK/feed2"
	local before
	before=$(snapshot)
	run --separate-stderr ibs sync -s feed -f "$WORK/feed2"
	assert_status 2
	assert_stderr_has "$WORK/feed2:2:"
	assert_unchanged "$before"
}

# A source's first sync into prefix lengths the journal has never held is all adds: it
# takes ban -f's first-import path (journal rows and kernel side by side).
@test "a first sync of 3000 targets takes the first-import path; the next sync is a plain diff" {
	local i
	for ((i = 0; i < 2999; i++)); do echo "100.64.$((i / 256)).$((i % 256))"; done >"$WORK/feed"
	echo "$ATK_ADDR" >>"$WORK/feed"
	IPBANSET_BATCH_ELEMENTS=1000 run --separate-stderr ibs -v --json sync -s feed -t 1h --jitter 10m -f "$WORK/feed"
	assert_status 0
	[[ "$stderr" == *"sync: a first import"* && "$stderr" == *"journal written ahead"* ]] ||
		fail "not the first-import path: $stderr"
	jq_ok '.changed == true and .added == 3000 and .removed == 0 and .updated == 0'
	assert_dropped "$ATK_ADDR"
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0 and .total == 3000 and .sources.feed == 3000'
	[ "$(kernel_element_count)" -eq 3000 ]
	# one sync event with the counts, as the plain path writes it
	ibs_ok --json log --source feed
	jq_ok '[.[] | select(.kind == "sync")] | length == 1'
	jq_ok '[.[] | select(.kind == "sync")][0].detail == "3000 listed: 3000 added, 0 removed, 0 updated"'
	# the jitter spread the expiries
	ibs_ok --json list --source feed
	[ "$(jq '[.[].expires] | unique | length' <<<"$output")" -gt 100 ]
	# the next sync withdraws the attacker and adds one: a diff, not a first import
	grep -v "^$ATK_ADDR\$" "$WORK/feed" >"$WORK/feed2"
	echo 203.0.113.9 >>"$WORK/feed2"
	run --separate-stderr ibs -v --json sync -s feed -t 1h -f "$WORK/feed2"
	assert_status 0
	[[ "$stderr" != *"first import"* ]] || fail "$stderr"
	jq_ok '.added == 1 and .removed == 1'
	assert_reachable "$ATK_ADDR"
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .total == 3000'
}

# A list in a regular file is read on a second thread while the journal is read; a pipe
# is read first. Either way bad input is reported as such and changes nothing.
@test "a list file is read beside the journal: bad line, allowlisted target, broken journal; stdin first" {
	printf '%s\n' "$ATK_ADDR" 198.51.100.7 >"$WORK/feed"
	run --separate-stderr ibs -v sync -s feed -f "$WORK/feed"
	assert_status 0
	[[ "$stderr" == *"list and current bans read"* ]] || fail "not read beside the journal: $stderr"
	assert_dropped "$ATK_ADDR"
	run --separate-stderr ibs -v sync -s feed -f - <"$WORK/feed"
	assert_status 0
	[[ "$stderr" != *"list and current bans read"* ]] || fail "stdin read beside the journal: $stderr"
	local before
	before=$(snapshot)
	printf '%s\n' 198.51.100.3 10.9.300.1 >"$WORK/bad"
	run --separate-stderr ibs sync -s feed -f "$WORK/bad"
	assert_status 2
	assert_stderr_has "$WORK/bad:2:"
	assert_unchanged "$before"
	printf '%s\n' 198.51.100.3 127.0.0.5 >"$WORK/allow"
	run --separate-stderr ibs sync -s feed -f "$WORK/allow"
	assert_status 3
	assert_stderr_has "127.0.0.0/8"
	assert_unchanged "$before"
	# a journal that cannot be opened: the bad list is still what the exit code reports
	run --separate-stderr ibs -d "$WORK/feed/db" sync -s feed -f "$WORK/bad"
	assert_status 2
	assert_stderr_has "$WORK/bad:2:"
	run --separate-stderr ibs -d "$WORK/feed/db" sync -s feed -f "$WORK/feed"
	assert_status 4
	assert_unchanged "$before"
	assert_dropped "$ATK_ADDR"
}

# The source's current bans are read from both ends at once (one thread ascending on the
# command's connection, the other descending on its own) once the list file is read; the
# diff must be exact wherever the two reads met.
@test "a sync of 40k against 40k current bans, read from both ends: the exact difference" {
	awk 'BEGIN { for (i = 0; i < 40000; i++) printf "100.%d.%d.%d\n", 64 + int(i / 65536), int(i / 256) % 256, i % 256 }' >"$WORK/a"
	ibs_ok -q sync -s feed -t 1h -f "$WORK/a"
	# withdraw 300 from the start, the middle and the end; add 300 others
	awk 'NR > 100 && (NR <= 20000 || NR > 20100) && NR <= 39900' "$WORK/a" >"$WORK/b"
	awk 'BEGIN { for (i = 0; i < 300; i++) printf "100.80.%d.%d\n", int(i / 256), i % 256 }' >>"$WORK/b"
	echo "$ATK_ADDR" >>"$WORK/b"
	ibs_ok ban -s manual -t 1h 2001:db8::7 # IPv6 is shared, IPv4 is feed's alone
	run --separate-stderr ibs -v --json sync -s feed -t 1h -f "$WORK/b"
	assert_status 0
	[[ "$stderr" == *"40000 current bans"* ]] || fail "$stderr"
	[[ "$stderr" == *"no other source holds IPv4 bans: no look-ups"* && "$stderr" != *"holds IPv6"* ]] ||
		fail "not the look-up-free path for IPv4 alone: $stderr"
	echo "# $(grep -o '[0-9]* of them read from the other end' <<<"$stderr")" >&3
	jq_ok '.added == 301 and .removed == 300 and .unchanged == 39700'
	assert_dropped "$ATK_ADDR"
	ibs_ok --json list --source feed
	diff <(jq -r '.[].target' <<<"$output" | sort) <(sort "$WORK/b") || fail "journal differs from the list"
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true and .total == 40002'
	# and back: the same again from the other list
	ibs_ok --json sync -s feed -t 1h -f "$WORK/a"
	jq_ok '.added == 300 and .removed == 301'
	ibs_ok --json list --source feed
	diff <(jq -r '.[].target' <<<"$output" | sort) <(sort "$WORK/a") || fail "journal differs from the list"
}

# Where another source holds bans of the family, a big sync looks up each target: a
# withdrawn target another source bans stays dropped, and a new one another source bans
# for longer keeps the longer expiry in the kernel.
@test "a big sync beside another source's bans of the same targets: each target looked up" {
	awk 'BEGIN { for (i = 0; i < 3000; i++) printf "100.64.%d.%d\n", int(i / 256), i % 256 }' >"$WORK/a"
	echo "$ATK_ADDR" >>"$WORK/a"
	ibs_ok -q sync -s feed -t 1h -f "$WORK/a"
	ibs_ok ban -s manual -t 1d "$ATK_ADDR" 100.64.5.5
	grep -v -e "^$ATK_ADDR\$" -e '^100\.64\.0\.' "$WORK/a" >"$WORK/b"
	echo 100.64.5.200 >>"$WORK/b" # already listed: no change
	echo 198.51.100.9 >>"$WORK/b"
	ibs_ok ban -s manual -t 2d 198.51.100.9
	run --separate-stderr ibs -v --json sync -s feed -t 1h -f "$WORK/b"
	assert_status 0
	[[ "$stderr" != *"no other source holds IPv4"* ]] || fail "looked nothing up beside manual: $stderr"
	jq_ok '.added == 1 and .removed == 257'
	assert_dropped "$ATK_ADDR" # manual still bans it
	ibs_ok --json list --source manual
	jq_ok 'length == 3'
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true'
	# the kernel element of 198.51.100.9 carries manual's 2-day timeout, not feed's hour
	local t
	t=$(kernel_expires v4_32 198.51.100.9)
	[ "$t" -gt 86400 ] || fail "kernel expiry of 198.51.100.9: $t"
}

# A big sync whose source's rows have all expired (not yet collected): every target is
# an add over an expired row of the same source, on the look-up-free path.
@test "a big sync over the source's own expired rows writes them anew" {
	awk 'BEGIN { for (i = 0; i < 2000; i++) printf "100.64.%d.%d\n", int(i / 256), i % 256 }' >"$WORK/a"
	ibs_ok -q sync -s feed -t 1h -f "$WORK/a"
	IPBANSET_TEST_CLOCK_OFFSET=7200 run --separate-stderr ibs -v --json sync -s feed -t 1h -f "$WORK/a"
	assert_status 0
	[[ "$stderr" == *"no other source holds IPv4 bans"* ]] || fail "$stderr"
	jq_ok '.added == 2000 and .removed == 0'
	IPBANSET_TEST_CLOCK_OFFSET=7200 ibs_ok --json list --source feed
	jq_ok 'length == 2000'
	IPBANSET_TEST_CLOCK_OFFSET=7200 ibs_ok --json status
	jq_ok '.total == 2000 and .journal.expired_rows == 0'
}

# sync_events: the history's sync events as a JSON array of {target, detail}.
sync_events() {
	ibs --json log --source feed | jq -c '[.[] | select(.kind == "sync") | {target, detail}]'
}

@test "the history records a sync that changes bans, and not one whose list equals them" {
	printf '%s\n' "$ATK_ADDR" 203.0.113.0/24 >"$WORK/feed"
	ibs_ok sync -s feed -t 1h -f "$WORK/feed"
	run sync_events
	jq_ok 'length == 3 and .[2].target == null and .[2].detail == "2 listed: 2 added, 0 removed, 0 updated"'
	local before
	before=$(sync_events)
	ibs_ok --json sync -s feed -t 1h -f "$WORK/feed"
	jq_ok '.changed == false'
	[ "$(sync_events)" = "$before" ] || fail "an unchanged sync wrote history: $(sync_events)"
	# a change: one event per target, then the count
	printf '%s\n' "$ATK_ADDR" 198.51.100.3 >"$WORK/feed"
	ibs_ok sync -s feed -t 1h -f "$WORK/feed"
	run sync_events
	jq_ok 'length == 6 and ([.[3:5][].target] | sort) == ["198.51.100.3", "203.0.113.0/24"]'
	jq_ok '.[5].target == null and .[5].detail == "2 listed: 1 added, 1 removed, 0 updated"'
	# a renewal is a change too (40 minutes on, 20 of the 60 are left)
	IPBANSET_TEST_CLOCK_OFFSET=2400 ibs_ok sync -s feed -t 1h -f "$WORK/feed"
	run sync_events
	jq_ok 'length == 9 and .[8].detail == "2 listed: 0 added, 0 removed, 2 updated"'
	before=$(sync_events)
	IPBANSET_TEST_CLOCK_OFFSET=2400 ibs_ok sync -s feed -t 1h -f "$WORK/feed"
	[ "$(sync_events)" = "$before" ] || fail "an unchanged sync wrote history: $(sync_events)"
}

@test "a big sync that changes nothing writes no summary event either" {
	awk 'BEGIN { for (i = 0; i < 1500; i++) printf "100.64.%d.%d\n", int(i / 256), i % 256 }' >"$WORK/a"
	ibs_ok -q sync -s feed -t 1h -f "$WORK/a"
	run sync_events
	jq_ok 'length == 1 and .[0].detail == "1500 listed: 1500 added, 0 removed, 0 updated"'
	ibs_ok --json sync -s feed -t 1h -f "$WORK/a"
	jq_ok '.changed == false and .unchanged == 1500'
	run sync_events
	jq_ok 'length == 1' || fail "an unchanged sync wrote history: $output"
}

@test "sync --json lists the targets added, removed and retimed; --dry-run lists the same" {
	printf '%s\n' 198.51.100.3 198.51.100.77 203.0.113.0/24 2001:db8:2::/48 >"$WORK/a"
	ibs_ok --json sync -s feed -t 1h -f "$WORK/a"
	jq_ok '.added_targets == ["198.51.100.3", "198.51.100.77", "203.0.113.0/24", "2001:db8:2::/48"]'
	jq_ok '.removed_targets == [] and .retimed_targets == []'
	jq_ok '.added_more == 0 and .removed_more == 0 and .retimed_more == 0'
	# 40 minutes on, 20 of the 60 are left: the two listed again are renewed
	printf '%s\n' 2001:db8:2::5 198.51.100.77 "$ATK_ADDR" 2001:db8:2::/48 >"$WORK/b"
	local before
	before=$(IPBANSET_TEST_CLOCK_OFFSET=2400 snapshot)
	IPBANSET_TEST_CLOCK_OFFSET=2400 ibs_ok --json --dry-run sync -s feed -t 1h -f "$WORK/b"
	local dry=$output
	jq_ok '.dry_run == true and .changed == true and .added == 2 and .removed == 2 and .updated == 2'
	jq_ok --arg a "$ATK_ADDR" '.added_targets == [$a, "2001:db8:2::5"]'
	jq_ok '.removed_targets == ["198.51.100.3", "203.0.113.0/24"]'
	jq_ok '.retimed_targets == ["198.51.100.77", "2001:db8:2::/48"]'
	IPBANSET_TEST_CLOCK_OFFSET=2400 assert_unchanged "$before"
	IPBANSET_TEST_CLOCK_OFFSET=2400 ibs_ok --json sync -s feed -t 1h -f "$WORK/b"
	[ "$(jq -c 'del(.dry_run)' <<<"$output")" = "$(jq -c 'del(.dry_run)' <<<"$dry")" ] ||
		fail "the dry run said $dry"
	# again at once: nothing to list
	IPBANSET_TEST_CLOCK_OFFSET=2400 ibs_ok --json sync -s feed -t 1h -f "$WORK/b"
	jq_ok '.changed == false and .unchanged == 4'
	jq_ok '.added_targets == [] and .removed_targets == [] and .retimed_targets == []'
	jq_ok '.added_more == 0 and .removed_more == 0 and .retimed_more == 0'
}

@test "sync --json lists the first 1000 targets of each kind and counts the rest" {
	awk 'BEGIN { for (i = 0; i < 2234; i++) printf "100.64.%d.%d\n", int(i / 256), i % 256 }' >"$WORK/a"
	ibs_ok --json --dry-run sync -s feed -t 1h -f "$WORK/a"
	jq_ok '.added == 2234 and (.added_targets | length) == 1000 and .added_more == 1234'
	diff <(jq -r '.added_targets[]' <<<"$output") <(head -n 1000 "$WORK/a") || fail "not the first 1000"
	# the first import takes its own path (nftables): the same lists
	ibs_ok --json sync -s feed -t 1h -f "$WORK/a"
	jq_ok '.added == 2234 and (.added_targets | length) == 1000 and .added_more == 1234'
	jq_ok '.removed_targets == [] and .removed_more == 0 and .retimed_targets == [] and .retimed_more == 0'
	diff <(jq -r '.added_targets[]' <<<"$output") <(head -n 1000 "$WORK/a") || fail "not the first 1000"
	# withdraw 1100, add 3
	tail -n +1101 "$WORK/a" >"$WORK/b"
	printf '%s\n' 203.0.113.5 203.0.113.9 2001:db8:2::5 >>"$WORK/b"
	ibs_ok --json sync -s feed -t 1h -f "$WORK/b"
	jq_ok '.removed == 1100 and (.removed_targets | length) == 1000 and .removed_more == 100'
	jq_ok '.added_targets == ["203.0.113.5", "203.0.113.9", "2001:db8:2::5"] and .added_more == 0'
	diff <(jq -r '.removed_targets[]' <<<"$output") <(head -n 1000 "$WORK/a") || fail "not the first 1000"
	ibs_ok --json list --source feed
	jq_ok 'length == 1137'
}
