#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Many invocations at once: all succeed, every ban is there afterwards.

load helper

file_setup() {
	ibs_init
}

@test "40 concurrent bans of different targets all succeed and all are present" {
	local n=40 i pids=() rc bad=0
	for i in $(seq 1 $n); do
		ibs ban -s "src$((i % 4))" "10.9.0.$i" >"$WORK/out.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in $(seq 1 $n); do
		rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		if [ "$rc" -ne 0 ]; then
			bad=$((bad + 1))
			echo "ban 10.9.0.$i exited $rc: $(cat "$WORK/out.$i")" >&2
		fi
	done
	[ "$bad" -eq 0 ]
	[ "$(list_count)" -eq $n ]
	[ "$(kernel_element_count)" -eq $n ]
	for i in $(seq 1 $n); do
		assert_kernel_has v4_32 "10.9.0.$i"
	done
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true'
}

@test "concurrent bans and unbans of the same target by different sources stay consistent" {
	local i pids=() rc bad=0
	for i in $(seq 1 32); do
		ibs ban -s "s$i" "$ATK_ADDR" >"$WORK/out.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		rc=0
		wait "$i" || rc=$?
		[ "$rc" -eq 0 ] || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ]
	[ "$(list_count)" -eq 32 ]
	pids=()
	for i in $(seq 1 31); do
		ibs unban -s "s$i" "$ATK_ADDR" >"$WORK/out.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		rc=0
		wait "$i" || rc=$?
		[ "$rc" -eq 0 ] || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ]
	run list_json
	jq_ok 'length == 1 and .[0].source == "s32"'
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
}
