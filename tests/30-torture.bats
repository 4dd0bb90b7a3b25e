#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Crash torture: SIGKILL at random instants during ban -f, unban -f, sync, reconcile
# and gc of a large list. After each kill, reconcile; then journal and kernel agree
# (status --verify), the killed command took effect wholly or not at all, and SQLite's
# integrity_check is ok.
#
# TORTURE_TRIALS kills per operation of TORTURE_SIZE targets: in `make check` 3 of
# 20000, a few representative kills of each command (15-crash kills batches that span
# several kernel transactions); `make torture` runs 100 trials of 200000.

load helper

TRIALS=${TORTURE_TRIALS:-3}
N=${TORTURE_SIZE:-20000}

file_setup() {
	ibs_init
	# list A: N addresses from 10.0.0.0; list B: A without its first 10%, plus as many new
	awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
		printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$WORK/a"
	awk -v n="$N" 'BEGIN { d = int(n / 10); for (i = d; i < n + d; i++)
		printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$WORK/b"
	A_ONLY=10.0.0.1
	B_ONLY=$(tail -n1 "$WORK/b")
	NB=$(wc -l <"$WORK/b")
	ibs_ok ban -t 1h 198.51.100.77 # a bystander that must survive every trial
	TLOG="$WORK/torture.log"
	: >"$TLOG"
}

ibsq() {
	# shellcheck disable=SC2086
	timeout 600 ip netns exec "$SRV" $IPBANSET -q -d "$DB" -c "$CONF" "$@"
}

source_count() {
	ibsq --json status | jq -r --arg s "$1" '.sources[$s] // 0'
}

ms_now() {
	local t=$EPOCHREALTIME
	echo $((${t%.*} * 1000 + 10#${t#*.} / 1000))
}

# killed MAX_MS CMD...: start ipbanset CMD, SIGKILL it at a random instant in
# [0, MAX_MS] ms (unless it finished), and report in LAST whether it was cut short.
killed() {
	local max=$1 delay pid
	shift
	delay=$(((RANDOM * 32768 + RANDOM) % (max + 1)))
	# shellcheck disable=SC2086
	ip netns exec "$SRV" $IPBANSET -q -d "$DB" -c "$CONF" "$@" </dev/null >/dev/null 2>>"$TLOG" 3>&- &
	pid=$!
	BG_PIDS+=("$pid")
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	if kill -9 "$pid" 2>/dev/null; then LAST="killed at ${delay} ms"; else LAST="finished before ${delay} ms"; fi
	wait "$pid" 2>/dev/null || true
}

# timed CMD...: run ipbanset CMD and print how long it took in ms.
timed() {
	local t0
	t0=$(ms_now)
	ibsq "$@" >/dev/null
	echo $(($(ms_now) - t0))
}

# After a kill: repair, then check agreement and integrity.
repaired() {
	ibsq reconcile >/dev/null || fail "$1: reconcile failed"
	run --separate-stderr ibsq --json status --verify
	assert_status 0
	jq_ok '.kernel.in_sync and .kernel.missing == 0 and .kernel.unexpected == 0' ||
		fail "$1: journal and kernel disagree after reconcile"
	local ic
	ic=$(sqlite3 "file:$DB?mode=ro" 'PRAGMA integrity_check' 2>&1)
	[ "$ic" = ok ] || fail "$1: integrity_check: $ic"
	[ "$(source_count manual)" -eq 1 ] || fail "$1: the bystander ban was lost"
}

report() {
	echo "# $1: $TRIALS trials of $N: $(grep -c killed "$WORK/trials" || true) killed mid-run" >&3
}

@test "torture: SIGKILL during ban -f" {
	local t max have
	max=$(timed ban -t 1h -s bulk -f "$WORK/a")
	: >"$WORK/trials"
	for t in $(seq "$TRIALS"); do
		[ "$(source_count bulk)" -eq 0 ] || ibsq flush -s bulk >/dev/null
		killed "$max" ban -t 1h -s bulk -f "$WORK/a"
		echo "$LAST" >>"$WORK/trials"
		repaired "ban trial $t ($LAST)"
		have=$(source_count bulk)
		[ "$have" -eq 0 ] || [ "$have" -eq "$N" ] ||
			fail "ban trial $t ($LAST): $have of $N bans"
	done
	report ban
	assert_dropped 198.51.100.77
}

@test "torture: SIGKILL during unban -f" {
	local t max have
	ibsq ban -t 1h -s bulk -f "$WORK/a" >/dev/null
	max=$(timed unban -s bulk -f "$WORK/a")
	: >"$WORK/trials"
	for t in $(seq "$TRIALS"); do
		[ "$(source_count bulk)" -eq "$N" ] || ibsq ban -t 1h -s bulk -f "$WORK/a" >/dev/null
		killed "$max" unban -s bulk -f "$WORK/a"
		echo "$LAST" >>"$WORK/trials"
		repaired "unban trial $t ($LAST)"
		have=$(source_count bulk)
		[ "$have" -eq 0 ] || [ "$have" -eq "$N" ] ||
			fail "unban trial $t ($LAST): $have of $N bans"
	done
	report unban
}

@test "torture: SIGKILL during sync to a list that differs by 10%" {
	local t max have
	ibsq sync -t 1h -s bulk -f "$WORK/a" >/dev/null
	max=$(timed sync -t 1h -s bulk -f "$WORK/b")
	: >"$WORK/trials"
	for t in $(seq "$TRIALS"); do
		ibsq sync -t 1h -s bulk -f "$WORK/a" >/dev/null
		killed "$max" sync -t 1h -s bulk -f "$WORK/b"
		echo "$LAST" >>"$WORK/trials"
		repaired "sync trial $t ($LAST)"
		have=$(source_count bulk)
		if ibsq query "$B_ONLY" >/dev/null; then
			[ "$have" -eq "$NB" ] && ! ibsq query "$A_ONLY" >/dev/null ||
				fail "sync trial $t ($LAST): half-applied: $have bans"
		else
			[ "$have" -eq "$N" ] && ibsq query "$A_ONLY" >/dev/null ||
				fail "sync trial $t ($LAST): half-applied: $have bans"
		fi
	done
	report sync
}

@test "torture: SIGKILL during reconcile after nft flush ruleset" {
	local t max k
	ibsq ban -t 1h -s bulk -f "$WORK/a" >/dev/null
	ip netns exec "$SRV" nft flush ruleset
	max=$(timed reconcile)
	: >"$WORK/trials"
	for t in $(seq "$TRIALS"); do
		ip netns exec "$SRV" nft flush ruleset
		killed "$max" reconcile
		echo "$LAST" >>"$WORK/trials"
		# Up to IPBANSET_BATCH_ELEMENTS (100k) the restore is one kernel transaction:
		# the table is back whole, or not at all. A larger restore is sent in
		# transactions of that size (README), so a kill between two leaves part of
		# it, which the reconcile below must complete.
		k=$(kernel_element_count)
		if [ $((N + 1)) -le "${IPBANSET_BATCH_ELEMENTS:-100000}" ]; then
			[ "$k" -eq 0 ] || [ "$k" -eq $((N + 1)) ] ||
				fail "reconcile trial $t ($LAST): the kernel holds $k of $((N + 1))"
		fi
		repaired "reconcile trial $t ($LAST)"
		[ "$(source_count bulk)" -eq "$N" ] || fail "reconcile trial $t: journal lost bans"
	done
	report reconcile
	assert_dropped 198.51.100.77
}

@test "torture: SIGKILL during gc of expired bans" {
	local t max rows
	ibsq ban -t 1s -s old -f "$WORK/a" >/dev/null
	sleep 1.2
	max=$(timed gc)
	: >"$WORK/trials"
	for t in $(seq "$TRIALS"); do
		if [ "$(ibsq --json status | jq '.journal.expired_rows')" -eq 0 ]; then
			ibsq ban -t 1s -s old -f "$WORK/a" >/dev/null
			sleep 1.2
		fi
		killed "$max" gc
		echo "$LAST" >>"$WORK/trials"
		repaired "gc trial $t ($LAST)"
		rows=$(ibsq --json status | jq '.journal.expired_rows')
		[ "$rows" -eq 0 ] || [ "$rows" -eq "$N" ] ||
			fail "gc trial $t ($LAST): $rows of $N expired rows left"
	done
	report gc
}
