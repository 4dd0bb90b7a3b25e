#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# --dry-run computes and reports, changes neither journal nor kernel.

load helper

file_setup() {
	ibs_init
}

@test "ban --dry-run reports the change and makes none" {
	local before
	before=$(snapshot)
	ibs_ok --json --dry-run ban "$ATK_ADDR" 203.0.113.0/24
	jq_ok '.changed == true and .added == 2 and .dry_run == true'
	assert_unchanged "$before"
	[ "$(list_count)" -eq 0 ]
	assert_reachable "$ATK_ADDR"
}

@test "-n works as the short form, after the command too" {
	ibs_ok ban "$ATK_ADDR" -n --json
	jq_ok '.changed == true and .dry_run == true'
	[ "$(list_count)" -eq 0 ]
	[ "$(kernel_element_count)" -eq 0 ]
}

@test "unban, flush, sync and --replace under --dry-run change nothing" {
	ibs_ok ban -s feed "$ATK_ADDR" 198.51.100.3
	local before
	before=$(snapshot)
	ibs_ok -n --json unban -s feed "$ATK_ADDR"
	jq_ok '.changed == true and .removed == 1'
	ibs_ok -n --json flush
	jq_ok '.changed == true and .removed == 2'
	printf '%s\n' 198.51.100.77 >"$WORK/feed"
	ibs_ok -n --json sync -s feed -f "$WORK/feed"
	jq_ok '.changed == true and .added == 1 and .removed == 2'
	ibs_ok -n --json ban -s feed --replace --timeout 10s "$ATK_ADDR"
	jq_ok '.changed == true and .updated == 1'
	assert_unchanged "$before"
	assert_dropped "$ATK_ADDR"
}

@test "dry-run that would change nothing says changed false" {
	ibs_ok ban --timeout 1h "$ATK_ADDR"
	ibs_ok -n --json ban --timeout 10m "$ATK_ADDR"
	jq_ok '.changed == false'
}

@test "reconcile --dry-run after a flush reports what is missing and repairs nothing" {
	ibs_ok ban "$ATK_ADDR"
	kernel_flush_set v4_32
	ibs_ok -n --json reconcile
	jq_ok '.changed == true and .dry_run == true'
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
}

@test "init --dry-run creates no table" {
	kernel_delete_table
	ibs_ok -n --json init
	jq_ok '.changed == true'
	refute kernel_has_table
}

@test "a dry run with no journal yet creates no journal file and no table" {
	local fresh="$WORK/fresh"
	kernel_delete_table
	printf '%s\n' 198.51.100.77 198.51.100.78 >"$WORK/feed"
	DB="$fresh/ipbanset.db" ibs_ok -n --json ban "$ATK_ADDR"
	jq_ok '.changed == true and .added == 1 and .dry_run == true'
	DB="$fresh/ipbanset.db" ibs_ok -n --json sync -s feed -f "$WORK/feed"
	jq_ok '.changed == true and .added == 2 and .removed == 0'
	[ ! -e "$fresh" ]
	refute kernel_has_table
	# the same command for real creates both
	DB="$fresh/ipbanset.db" ibs_ok ban "$ATK_ADDR"
	[ -f "$fresh/ipbanset.db" ]
	assert_dropped "$ATK_ADDR"
}
