#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# kill -9 in the middle of a big batch: reconcile leaves journal and kernel agreeing,
# with all of the batch or none of it.

load helper

# CI kills batches of CRASH_SIZE (40k) sent in kernel transactions of 10k, so a batch
# spans several transactions as a 200k one does at the default 100k; `make torture`
# runs the full 200k at the default transaction size.
# CRASH_BATCH sets the transaction size for another CRASH_SIZE (make asan: 16k in 4k).
N=${CRASH_SIZE:-40000}
if [ -n "${CRASH_BATCH:-}" ]; then
	export IPBANSET_BATCH_ELEMENTS=$CRASH_BATCH
elif [ -z "${CRASH_SIZE:-}" ]; then
	export IPBANSET_BATCH_ELEMENTS=10000
fi

file_setup() {
	ibs_init
	# 10.0.0.0 .. 10.3.13.63
	awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
		printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$WORK/big"
	[ "$(wc -l <"$WORK/big")" -eq $N ]
}

ibs_timed() {
	local secs=$1
	shift
	# shellcheck disable=SC2086
	timeout "$secs" ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" "$@"
}

# One run of: start the batch, kill -9 after DELAY ms, reconcile, check. OTHERS32 (1 by
# default) is how many of the test's other bans are in the kernel's set v4_32.
crash_once() {
	local delay_ms=$1 others32=${2:-1} pid total bulk kernel
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" -q ban --timeout 1h -s bulk -f "$WORK/big" \
		</dev/null >/dev/null 2>"$WORK/ban.err" 3>&- &
	pid=$!
	BG_PIDS+=("$pid")
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	run --separate-stderr ibs_timed 300 reconcile
	assert_status 0
	run --separate-stderr ibs_timed 300 status --verify --json
	assert_status 0
	total=$(jq_val '.total')
	bulk=$(jq_val '.sources.bulk // 0')
	echo "# delay ${delay_ms}ms: journal holds $bulk of the batch" >&3
	[ "$bulk" -eq 0 ] || [ "$bulk" -eq $N ] || fail "journal has $bulk bans of the batch, expected 0 or $N"
	# The test's other ban (198.51.100.77) is the only other one.
	[ "$total" -eq $((bulk + 1)) ] || fail "journal total $total, expected $((bulk + 1))"
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0'
	kernel=$(kernel_elements | grep -c '^v4_32 ' || true)
	[ -n "$kernel" ] || kernel=0
	[ "$kernel" -eq $((bulk + others32)) ] || fail "kernel holds $kernel elements, journal $total"
}

@test "kill -9 during a large ban, then reconcile: all or nothing, kernel agrees" {
	ibs_ok ban 198.51.100.77
	crash_once $((RANDOM % 900 + 50))
	assert_dropped 198.51.100.77
}

@test "kill -9 very early in a large ban" {
	ibs_ok ban 198.51.100.77
	crash_once $((RANDOM % 40 + 5))
}

# The last two thirds of a full run, timed first: these delays land around the kernel
# commits and the journal's.
@test "kill -9 late in a large ban" {
	local t0 ms
	ibs_ok ban 198.51.100.77
	t0=$EPOCHREALTIME
	ibs_timed 300 -q ban --timeout 1h -s bulk -f "$WORK/big"
	ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
	ibs_timed 300 -q flush -s bulk
	crash_once $((ms / 3 + RANDOM % (ms * 2 / 3 + 1)))
	assert_dropped 198.51.100.77
}

# With no /32 in the journal the batch is a first import: the journal rows and the kernel
# transactions are written side by side on two threads.
@test "kill -9 during a first import (journal and kernel on two threads)" {
	ibs_ok ban 198.51.100.0/24
	crash_once $((RANDOM % 1500 + 50)) 0
	assert_dropped 198.51.100.77
}

# The table is gone, so reconcile reads the journal and sends it side by side: a kill in
# the middle leaves part of it in the kernel, and the next reconcile completes it.
@test "kill -9 during a streamed reconcile, then reconcile again: kernel agrees" {
	run --separate-stderr ibs_timed 300 -q ban --timeout 1h -s bulk -f "$WORK/big"
	assert_status 0
	ip netns exec "$SRV" nft flush ruleset
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" -q reconcile </dev/null >/dev/null 2>&1 3>&- &
	local pid=$!
	BG_PIDS+=("$pid")
	sleep "0.$((RANDOM % 900 + 50))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	run --separate-stderr ibs_timed 300 reconcile
	assert_status 0
	run --separate-stderr ibs_timed 300 status --verify --json
	assert_status 0
	jq_ok ".total == $N and .kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0"
}

@test "a large ban completes, and flush removes it all" {
	local t0=$EPOCHREALTIME
	run --separate-stderr ibs_timed 300 --json ban -t 1h -s bulk -f "$WORK/big"
	assert_status 0
	echo "# full ban of $N took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s" >&3
	jq_ok ".added == $N"
	run --separate-stderr ibs_timed 300 status --verify --json
	jq_ok ".total == $N and .kernel.in_sync == true"
	assert_kernel_has v4_32 "$(tail -n1 "$WORK/big")"
	run --separate-stderr ibs_timed 300 --json flush -s bulk
	assert_status 0
	jq_ok ".removed == $N"
	[ "$(kernel_element_count)" -eq 0 ]
}
