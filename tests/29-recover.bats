#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# A damaged journal is detected (exit 4, a message that points at the recovery), never
# silently recreated, and `recover` rebuilds it from the kernel's elements, whose
# comments carry the source, keeping the damaged file.

load helper

file_setup() {
	ibs_init --verdict reject
	ibs_ok ban -t 1h -s f2b-sshd -r '5 failures' 203.0.113.5
	ibs_ok ban -t permanent 198.51.100.0/24
	ibs_ok ban -t 2h -s feed 2001:db8:2::/48
	KERNEL_BEFORE=$(kernel_elements)
}

# damaged_journal_refused: every command exits 4 naming recover; kernel and file unchanged.
damaged_journal_refused() {
	local sum
	sum=$(sha256sum "$DB")
	for cmd in "ban 203.0.113.9" "unban 203.0.113.5" "list" "status" "reconcile"; do
		# shellcheck disable=SC2086
		run --separate-stderr ibs $cmd
		assert_status 4
		assert_stderr_prefixed
		assert_stderr_has "$DB"
		assert_stderr_has "ipbanset recover"
	done
	[ "$(kernel_elements)" = "$KERNEL_BEFORE" ] || fail "the kernel changed"
	[ "$(sha256sum "$DB")" = "$sum" ] || fail "the damaged journal was modified"
	assert_dropped 203.0.113.5
}

# recovered_state: the journal holds the kernel's bans again, with sources and reasons.
recovered_state() {
	run --separate-stderr ibs --json list
	jq_ok 'length == 3'
	jq_ok '.[] | select(.target == "203.0.113.5") | .source == "f2b-sshd" and .reason == "5 failures"'
	jq_ok '.[] | select(.target == "198.51.100.0/24") | .source == "manual" and .expires == null'
	jq_ok '.[] | select(.target == "2001:db8:2::/48") | .source == "feed"'
	local left
	left=$(seconds_until "$(expires_of 203.0.113.5 f2b-sshd)")
	[ "$left" -gt 3500 ] && [ "$left" -le 3601 ] || fail "expiry drifted: $left s left"
	run --separate-stderr ibs --json status --verify
	jq_ok '.kernel.in_sync'
	# the verdict the kernel had is the journal's again: a plain init keeps reject (the
	# host's iptables rules hold it with ipset, where the kernel cannot tell it)
	ibs_ok init
	if ! is_ipset; then
		[ "$(kernel_chain | jq -r .hook)" = input ]
		nft_json | jq -e '[.nftables[] | select(.rule) | .rule.expr[] | select(has("reject"))] | length >= 1' >/dev/null
	fi
	ls "$DB".damaged-* >/dev/null
}

@test "journal with an overwritten header: exit 4 naming recover; recover rebuilds it" {
	printf 'this is not sqlite' | dd of="$DB" conv=notrunc status=none
	damaged_journal_refused
	run --separate-stderr ibs recover
	assert_status 0
	[[ "$output" == *"rebuilt 3 bans"* ]]
	recovered_state
}

@test "journal truncated: detected, then recovered" {
	ibs_ok gc # checkpoint nothing special; make the file larger than one page
	ip netns exec "$SRV" true
	local size
	size=$(stat -c %s "$DB")
	truncate -s $((size / 2)) "$DB"
	rm -f "$DB-wal" "$DB-shm"
	run --separate-stderr ibs list
	if [ "$status" -eq 0 ]; then
		# a cut that kept every page this command reads: the integrity check finds it
		run --separate-stderr ibs recover
		assert_status 0
	else
		damaged_journal_refused
		ibs_ok recover
	fi
	recovered_state
}

@test "journal replaced by a text file: detected, never silently recreated" {
	rm -f "$DB-wal" "$DB-shm"
	printf 'hello\nworld\n%.0s' $(seq 500) >"$DB"
	chmod 0600 "$DB"
	damaged_journal_refused
	ibs_ok recover
	recovered_state
	grep -q hello "$DB".damaged-*
}

@test "recover --force twice in one second keeps both old journals" {
	ibs_ok recover --force
	ibs_ok recover --force
	[ "$(ls -d "$DB".damaged-* | wc -l)" -eq 2 ]
	recovered_state
}

@test "recover refuses a healthy journal without --force; --dry-run changes nothing" {
	run --separate-stderr ibs recover
	assert_status 2
	assert_stderr_has "healthy"
	local before
	before=$(snapshot)
	run --separate-stderr ibs --dry-run --json recover --force
	assert_status 0
	jq_ok '.added == 3 and .dry_run'
	assert_unchanged "$before"
	[ -z "$(ls "$DB".damaged-* 2>/dev/null)" ]
	[ -z "$(ls "$DB".recover-* 2>/dev/null)" ]
}

@test "recover with no table in the kernel: exit 4, the damaged journal is left alone" {
	printf 'this is not sqlite' | dd of="$DB" conv=notrunc status=none
	kernel_wipe
	local sum
	sum=$(sha256sum "$DB")
	run --separate-stderr ibs recover
	assert_status 4
	assert_stderr_has "nothing to recover"
	[ "$(sha256sum "$DB")" = "$sum" ]
}

@test "recover attributes a foreign comment to source 'recovered'" {
	if is_ipset; then
		ip netns exec "$SRV" ipset add ipbanset-ip4 203.0.113.9 timeout 3600 comment "added by hand"
	else
		ip netns exec "$SRV" nft add element inet ipbanset v4_32 '{ 203.0.113.9 timeout 1h comment "added by hand" }'
	fi
	printf 'this is not sqlite' | dd of="$DB" conv=notrunc status=none
	run --separate-stderr ibs --json recover
	assert_status 0
	jq_ok '.added == 4 and .unattributed == 1'
	run --separate-stderr ibs --json list
	jq_ok '.[] | select(.target == "203.0.113.9") | .source == "recovered" and .reason == "added by hand"'
}

@test "recover brings reasons back as they were given, not as the kernel comment escapes them" {
	local reason=$'C:\\temp\\x41 \x01 tab\there ünïcode'
	ibs_ok ban -t 1h -s f2b-sshd -r "$reason" 203.0.113.77
	run --separate-stderr ibs --json list
	jq_ok --arg r "$reason" '.[] | select(.target == "203.0.113.77") | .reason == $r'
	printf 'this is not sqlite' | dd of="$DB" conv=notrunc status=none
	run --separate-stderr ibs recover
	assert_status 0
	run --separate-stderr ibs --json list
	jq_ok --arg r "$reason" '.[] | select(.target == "203.0.113.77") | .source == "f2b-sshd" and .reason == $r'
}
