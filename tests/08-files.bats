#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# -f FILE and -f - (stdin): plain lists, Spamhaus DROP, FireHOL netsets; bad lines.

load helper

file_setup() {
	ibs_init
}

@test "ban -f FILE bans every target, skipping blanks and comments" {
	cat >"$WORK/list" <<-EOT
	# a plain list
	$ATK_ADDR

	198.51.100.77   trailing words are ignored
	203.0.113.0/24 # comment
	$ATK_ADDR6 ; another comment
	EOT
	ibs_ok --json ban -f "$WORK/list"
	jq_ok '.added == 4'
	run list_json
	jq_ok '[.[].target] | sort == (["198.51.100.2", "198.51.100.77", "203.0.113.0/24", "2001:db8:1::2"] | sort)'
	assert_dropped 198.51.100.77
	assert_dropped 203.0.113.5
	assert_reachable 198.51.100.3
}

# A first import (an empty journal) writes the journal rows straight from the sorted
# list, in target order, while the second thread makes the kernel's elements set by
# set. When prefix lengths alternate in target order, each set's targets are spread
# through the list.
# first_import_alternating [CHUNK]: a first import of alternating prefix lengths puts
# each target in its own set, in journal and kernel; with CHUNK, nftables sends it in
# transactions of CHUNK targets each (IPBANSET_BATCH_ELEMENTS), made just before sending.
first_import_alternating() {
	if [ -n "${1:-}" ]; then export IPBANSET_BATCH_ELEMENTS=$1; fi
	cat >"$WORK/list" <<-'EOT'
	203.0.200.1
	2001:db8:2::/112
	203.0.5.0/24
	192.0.2.10
	2001:db8:1::3
	203.0.113.4/30
	2001:db8:2:1::5
	198.51.100.77
	EOT
	# more than 1000 targets, as a first import needs: 1500 more /128s, after the rest
	local i
	for ((i = 1; i <= 1500; i++)); do printf '2001:db8:9::%x\n' "$i"; done >>"$WORK/list"
	ibs_ok -v --json ban -f "$WORK/list"
	assert_stderr_has "journal written ahead" # the first-import path
	jq_ok '.added == 1508'
	run list_json
	jq_ok '[.[].target | select(startswith("2001:db8:9::") | not)] | sort == (["192.0.2.10", "198.51.100.77", "2001:db8:1::3",
		"2001:db8:2:1::5", "2001:db8:2::/112", "203.0.113.4/30", "203.0.200.1",
		"203.0.5.0/24"] | sort)'
	jq_ok '[.[] | select(.target | startswith("2001:db8:9::"))] | length == 1500'
	run kernel_elements
	[ "$(grep -c '^v6_128 2001:db8:9::' <<<"$output")" -eq 1500 ] || fail "kernel: $output"
	output=$(grep -v '^v6_128 2001:db8:9::' <<<"$output")
	[ "$output" = "$(sort <<-'EOT'
	v4_32 192.0.2.10
	v4_32 198.51.100.77
	v4_24 203.0.5.0
	v4_30 203.0.113.4
	v4_32 203.0.200.1
	v6_128 2001:db8:1::3
	v6_112 2001:db8:2::
	v6_128 2001:db8:2:1::5
	EOT
	)" ] || fail "kernel: $output"
	ibs_ok --json status
	jq_ok '.kernel.in_sync == true'
	assert_dropped 192.0.2.10
	assert_dropped 203.0.5.5
	assert_dropped 203.0.113.5
	assert_dropped 2001:db8:2::6
	assert_dropped 2001:db8:2:1::5
	assert_reachable 203.0.113.9
	assert_reachable 198.51.100.3
	assert_reachable "$ATK_ADDR6"
}

@test "a first import of alternating prefix lengths puts each target in its own set, in journal and kernel" {
	first_import_alternating
}

# Chunks of 3 cut across the sets: each transaction holds parts of several.
@test "the same first import in kernel transactions of 3 targets each" {
	first_import_alternating 3
}

@test "a file with one bad line: exit 2, FILE:LINE in the message, nothing applied" {
	printf '%s\n' 198.51.100.10 198.51.100.11 10.0.300.1 198.51.100.12 "$ATK_ADDR" >"$WORK/bad"
	local before
	before=$(snapshot)
	run --separate-stderr ibs ban -f "$WORK/bad"
	assert_status 2
	assert_stderr_prefixed
	assert_stderr_has "$WORK/bad:3:"
	assert_stderr_has 10.0.300.1
	assert_unchanged "$before"
	assert_reachable "$ATK_ADDR"
}

@test "a bad line read from stdin is reported by line number" {
	printf '%s\n' 198.51.100.10 1.2.3.4/40 >"$WORK/bad"
	run --separate-stderr ibs ban -f - <"$WORK/bad"
	assert_status 2
	assert_stderr_has ':2:'
	assert_stderr_has 1.2.3.4/40
	[ "$(list_count)" -eq 0 ]
}

@test "Spamhaus DROP format from stdin (-f -)" {
	cat >"$WORK/drop.txt" <<-'EOT'
	; Spamhaus DROP List 2024/05/01 - (c) 2024 The Spamhaus Project SLU
	; https://www.spamhaus.org/drop/drop.txt
	; Last-Modified: Wed, 01 May 2024 12:00:00 GMT
	; Expires: Wed, 01 May 2024 14:00:00 GMT
	1.10.16.0/20 ; SBL256894
	1.19.0.0/16 ; SBL434604
	2.56.192.0/22 ; SBL459831
	203.0.0.0/16 ; SBL000001
	EOT
	run --separate-stderr ibs --json ban -s spamhaus -t 1d -f - <"$WORK/drop.txt"
	assert_status 0
	jq_ok '.added == 4'
	run list_json --source spamhaus
	jq_ok '[.[].target] | sort == (["1.10.16.0/20", "1.19.0.0/16", "2.56.192.0/22", "203.0.0.0/16"] | sort)'
	assert_kernel_has v4_20 1.10.16.0
	assert_kernel_has v4_22 2.56.192.0
	assert_dropped 203.0.5.5
}

@test "FireHOL netset format (# headers, bare prefixes)" {
	cat >"$WORK/firehol.netset" <<-'EOT'
	#
	# firehol_level1
	#
	# Maintainer      : FireHOL
	#
	198.51.100.64/26
	203.0.113.0/24
	EOT
	ibs_ok ban -s firehol -f "$WORK/firehol.netset"
	assert_dropped 198.51.100.77
	assert_dropped 203.0.113.9
	assert_reachable "$ATK_ADDR"
}

@test "unban -f FILE" {
	printf '%s\n' "$ATK_ADDR" 198.51.100.3 198.51.100.77 >"$WORK/list"
	ibs_ok ban -f "$WORK/list"
	printf '%s\n' "$ATK_ADDR" 198.51.100.77 >"$WORK/undo"
	ibs_ok --json unban -f "$WORK/undo"
	jq_ok '.removed == 2'
	run list_json
	jq_ok 'length == 1 and .[0].target == "198.51.100.3"'
	assert_reachable "$ATK_ADDR"
}

@test "a missing file is an error that names it" {
	run --separate-stderr ibs ban -f "$WORK/nope"
	[ "$status" -ne 0 ]
	assert_stderr_prefixed
	assert_stderr_has "$WORK/nope"
	[ "$(list_count)" -eq 0 ]
}
