#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# watch: a daemon that listens to nf_tables events and, when another program removes
# the table or its elements, reconciles within a second; it records expiries in the
# history and never fights changes made by ipbanset itself.

load helper

file_setup() {
	ibs_init
	WATCH_LOG="$WORK/watch.log"
}

# start_watch [ARGS...]: watch in the server namespace, ready when it has listened.
start_watch() {
	# shellcheck disable=SC2086
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" watch "$@" >"$WATCH_LOG" 2>&1 &
	WATCH_PID=$!
	BG_PIDS+=("$WATCH_PID")
	local _
	for _ in $(seq 100); do
		grep -q '^reconcile:' "$WATCH_LOG" && return 0
		sleep 0.05
	done
	fail "watch did not start: $(cat "$WATCH_LOG")"
}

# dropped_within SECONDS SRC: pings from SRC stop getting through within SECONDS.
dropped_within() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -le "$end" ]; do
		ping_once "$2" || return 0
	done
	fail "packets from $2 still get through after $1 s; watch log: $(cat "$WATCH_LOG")"
}

reconciles() {
	ibs --json log | jq '[.[] | select(.kind == "reconcile")] | length'
}

@test "watch: after nft flush ruleset the attacker is dropped again within 2 s" {
	skip_unless_nft "watch repairs on nf_tables events, and ipset sends none (33-ipset tests its repair on --interval)"
	ibs_ok ban -t 1h "$ATK_ADDR"
	ibs_ok ban -t 1h 2001:db8:1::2
	start_watch
	assert_dropped "$ATK_ADDR"
	ip netns exec "$SRV" nft flush ruleset
	dropped_within 2 "$ATK_ADDR"
	dropped_within 1 "$ATK_ADDR6"
	grep -q 'changed by another program' "$WATCH_LOG"
	run --separate-stderr ibs --json status --verify
	jq_ok '.kernel.in_sync'
}

@test "watch: an element deleted with nft is put back; the kernel keeps its remaining timeout" {
	skip_unless_nft "watch repairs on nf_tables events, and ipset sends none (33-ipset tests its repair on --interval)"
	ibs_ok ban -t 1h 203.0.113.5
	start_watch
	ip netns exec "$SRV" nft delete element inet ipbanset v4_32 '{ 203.0.113.5 }'
	dropped_within 2 203.0.113.5
	local left
	left=$(kernel_expires v4_32 203.0.113.5)
	[[ "$left" =~ ^[0-9]+$ ]] && [ "$left" -gt 3500 ] && [ "$left" -le 3600 ]
}

@test "watch: a deleted table after a firewall reload (nft -f with flush) comes back" {
	skip_unless_nft "watch repairs on nf_tables events, and ipset sends none (33-ipset tests its repair on --interval)"
	ibs_ok ban -t 1h 198.51.100.0/24
	start_watch
	printf 'flush ruleset\ntable inet other { chain c { type filter hook input priority 0; }; }\n' >"$WORK/fw.nft"
	ip netns exec "$SRV" nft -f "$WORK/fw.nft"
	dropped_within 2 "$ATK_ADDR"
	ip netns exec "$SRV" nft list table inet other >/dev/null
}

@test "watch does not fight ipbanset: an unban stays unbanned, a teardown stays torn down" {
	ibs_ok ban -t 1h "$ATK_ADDR" 203.0.113.9
	start_watch
	local before
	before=$(reconciles)
	ibs_ok unban "$ATK_ADDR"
	sleep 1.5
	assert_reachable "$ATK_ADDR"
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	ibs_ok teardown
	sleep 1.5
	refute kernel_has_table
	[ "$(reconciles)" -eq "$before" ] || fail "watch reconciled after ipbanset's own changes"
}

@test "watch does not loop: one repair per foreign change" {
	skip_unless_nft "watch repairs on nf_tables events, and ipset sends none (33-ipset tests its repair on --interval)"
	ibs_ok ban -t 1h "$ATK_ADDR"
	start_watch
	local before
	before=$(reconciles)
	ip netns exec "$SRV" nft flush ruleset
	dropped_within 2 "$ATK_ADDR"
	sleep 2
	[ "$(reconciles)" -eq $((before + 1)) ] ||
		fail "expected one reconcile after the flush, got $(($(reconciles) - before))"
}

@test "watch records expiries in the history" {
	ibs_ok ban -t 2s 203.0.113.9
	ibs_ok ban -t 1h 203.0.113.5
	start_watch --interval 1s
	local _
	for _ in $(seq 50); do
		run --separate-stderr ibs --json log
		if jq -e '[.[] | select(.kind == "expire" and .target == "203.0.113.9")] | length == 1' \
			<<<"$output" >/dev/null; then
			break
		fi
		sleep 0.2
	done
	jq_ok '[.[] | select(.kind == "expire" and .target == "203.0.113.9")] | length == 1'
	jq_ok '[.[] | select(.kind == "expire" and .target == "203.0.113.5")] | length == 0'
}

# A set of ipbanset's name that cannot hold timeouts: every reconcile fails while it is
# there (the kernel refuses the elements, or ipbanset refuses the set).
kernel_conflict_add() {
	if is_ipset; then
		ip netns exec "$SRV" ipset create ipbanset-ip4 hash:ip
	else
		ip netns exec "$SRV" nft add table inet ipbanset
		ip netns exec "$SRV" nft add set inet ipbanset v4_32 '{ type ipv4_addr; }'
	fi
}

kernel_conflict_remove() {
	if is_ipset; then
		ip netns exec "$SRV" ipset destroy ipbanset-ip4
	else
		ip netns exec "$SRV" nft delete table inet ipbanset
	fi
}

# wait_log SECONDS TEXT [N]: the watch log has N (default 1) lines with TEXT within SECONDS.
wait_log() {
	local end=$((SECONDS + $1)) alive=running
	while [ "$SECONDS" -le "$end" ]; do
		[ "$(grep -cF -- "$2" "$WATCH_LOG")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	kill -0 "$WATCH_PID" 2>/dev/null || alive=exited
	fail "fewer than ${3:-1} '$2' in the watch log after $1 s (watch $alive): $(cat "$WATCH_LOG")"
}

@test "watch: a failed start-up reconcile is retried with backoff; watch keeps running and repairs" {
	ibs_ok ban -t 1h "$ATK_ADDR"
	kernel_wipe
	kernel_conflict_add
	# shellcheck disable=SC2086
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" watch >"$WATCH_LOG" 2>&1 &
	WATCH_PID=$!
	BG_PIDS+=("$WATCH_PID")
	wait_log 10 'reconcile failed' 2
	grep -qF 'retrying in 1 s' "$WATCH_LOG"
	grep -qF 'retrying in 2 s' "$WATCH_LOG"
	kill -0 "$WATCH_PID" || fail "watch exited: $(cat "$WATCH_LOG")"
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	kernel_conflict_remove
	local end=$((SECONDS + 10))
	while [ "$SECONDS" -le "$end" ] && ! kernel_has_element v4_32 "$ATK_ADDR"; do
		sleep 0.2
	done
	assert_kernel_has v4_32 "$ATK_ADDR"
	if is_ipset; then ipset_rules; fi
	assert_dropped "$ATK_ADDR"
	wait_log 2 'enforced again'
	kill -0 "$WATCH_PID" || fail "watch exited: $(cat "$WATCH_LOG")"
	run --separate-stderr ibs --json status --verify
	jq_ok '.kernel.in_sync'
}

@test "watch stops cleanly on SIGTERM" {
	start_watch
	kill -TERM "$WATCH_PID"
	local rc=0
	wait "$WATCH_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "watch exited $rc: $(cat "$WATCH_LOG")"
	grep -q 'watch: stopped' "$WATCH_LOG"
}

@test "watch: --interval must be a duration of 1s to 1d; --dry-run does not apply" {
	run --separate-stderr ibs watch --interval soon
	assert_status 2
	assert_stderr_has soon
	run --separate-stderr ibs watch --interval 2d
	assert_status 2
	run --separate-stderr ibs --dry-run watch
	assert_status 2
}
