#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The allowlist refuses bans (exit 3); nothing changes; the message names the range.

load helper

file_setup() {
	config 'allow = 192.0.2.0/29, 2001:db8:2:1::/64' 'allow = 203.0.113.9'
	ibs_init
	ibs_ok ban 198.51.100.3
	BEFORE=$(snapshot)
}

# refused RANGE ARGS...: ipbanset ARGS exits 3, names RANGE, changes nothing.
refused() {
	local range=$1
	shift
	run --separate-stderr ibs "$@"
	assert_status 3
	assert_stderr_prefixed
	assert_stderr_has "$range"
	assert_unchanged "$BEFORE"
}

@test "127.0.0.1 is refused" {
	refused 127.0.0.0/8 ban 127.0.0.1
}

@test "another loopback address, 127.1.2.3, is refused" {
	refused 127.0.0.0/8 ban 127.1.2.3
}

@test "::1 is refused" {
	refused ::1 ban ::1
}

@test "::ffff:127.0.0.1 is refused as 127.0.0.1" {
	refused 127.0.0.0/8 ban ::ffff:127.0.0.1
}

@test "an address in a config allow range is refused" {
	refused 192.0.2.0/29 ban 192.0.2.5
	refused 203.0.113.9 ban 203.0.113.9
	refused 2001:db8:2:1::/64 ban 2001:db8:2:1::5
}

@test "a prefix that contains an allowlisted range is refused and names it" {
	refused 192.0.2.0/29 ban 192.0.0.0/16
	refused 127.0.0.0/8 ban 0.0.0.0/0
	refused 127.0.0.0/8 ban 126.0.0.0/7
	refused ::1 ban ::/0
	refused 2001:db8:2:1::/64 ban 2001:db8::/32
	refused 203.0.113.9 ban 203.0.113.0/24
}

@test "one allowlisted target among good ones: exit 3 and none is banned" {
	refused 127.0.0.0/8 ban "$ATK_ADDR" 127.0.0.1 "$ATK_ADDR6"
	assert_reachable "$ATK_ADDR"
}

@test "an allowlisted line in a file refuses the whole file" {
	printf '%s\n' "$ATK_ADDR" 198.51.100.77 192.0.2.1 >"$WORK/list"
	refused 192.0.2.0/29 ban -f "$WORK/list"
	refused 192.0.2.0/29 sync -s feed -f "$WORK/list"
}

@test "an address just outside an allow range can be banned" {
	ibs_ok ban 192.0.2.8 192.0.2.10
	assert_dropped 192.0.2.10
}

@test "the SSH_CONNECTION client address is refused; --force overrides" {
	export SSH_CONNECTION="$ATK_ADDR 51234 $SRV_ADDR 22"
	refused "$ATK_ADDR" ban "$ATK_ADDR"
	refused "$ATK_ADDR" ban 198.51.100.0/24
	ibs_ok ban --force "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
}

@test "a link-local SSH client, written with its zone, is refused as well" {
	export SSH_CONNECTION="fe80::2%ibs0 51234 fe80::1%ibs0 22"
	refused fe80::2 ban fe80::/64
	refused fe80::2 ban fe80::2
	refused fe80::2 ban --dry-run fe80::/10
	export SSH_CONNECTION="2001:db8:1::2%ibs0 51234 2001:db8:1::1%ibs0 22"
	refused 2001:db8:1::2 ban 2001:db8:1::/64
}

@test "an SSH_CONNECTION with no address in it is a warning, not a silent loss of the guard" {
	export SSH_CONNECTION=$'bogus\e[31m 51234 198.51.100.1 22'
	ibs_ok ban 198.51.100.77
	assert_stderr_prefixed
	assert_stderr_has "warning: no client address in \$SSH_CONNECTION"
	assert_stderr_has "not protected"
	[[ "$stderr" != *$'\e'* ]]
	assert_dropped 198.51.100.77
	export SSH_CONNECTION="10.0.0.0/8 51234 198.51.100.1 22"
	ibs_ok ban 198.51.100.3
	assert_stderr_has "warning: no client address"
	ibs_ok ban --force 203.0.113.5
	[ -z "$stderr" ]
	ibs_ok list
	[ -z "$stderr" ]
}

@test "--force does not override the configured allowlist" {
	refused 127.0.0.0/8 ban --force 127.0.0.1
	refused 192.0.2.0/29 ban --force 192.0.2.1
}

@test "dry-run of an allowlisted target is refused as well" {
	refused 127.0.0.0/8 --dry-run ban 127.0.0.1
}

# The server namespace's own addresses: 198.51.100.1 and 2001:db8:1::1 on ibs0.
@test "a ban that covers one of the host's own addresses is made, with a warning naming it" {
	ibs_ok ban 198.51.100.0/25 "$SRV_ADDR6" 203.0.113.5
	assert_stderr_has "warning: 198.51.100.0/25 covers $SRV_ADDR, an address of this host (ibs0)"
	assert_stderr_has "warning: $SRV_ADDR6 is $SRV_ADDR6, an address of this host (ibs0)"
	[[ "$stderr" != *203.0.113.5* ]] || fail "warned about a target the host does not hold: $stderr"
	assert_dropped "$ATK_ADDR"
	ibs_ok -q ban 198.51.100.0/24
	[[ "$stderr" != *warning* ]] || fail "-q printed: $stderr"
	printf '%s\n' "$SRV_ADDR" 198.51.100.4 198.51.100.0/30 198.51.100.0/29 198.51.100.0/28 >"$WORK/list"
	ibs_ok sync -s feed -f "$WORK/list"
	assert_stderr_has "warning: 1 more targets cover addresses of this host"
}

@test "protect_self = refuse: a ban or sync covering the host's own address is refused; --force bans it" {
	config 'protect_self = refuse'
	refused "$SRV_ADDR, an address of this host (ibs0)" ban 203.0.113.5 198.51.100.0/25
	assert_stderr_has "protect_self = refuse"
	refused "$SRV_ADDR6" ban 2001:db8:1::/48
	printf '%s\n' 203.0.113.5 "$SRV_ADDR" >"$WORK/list"
	refused "$SRV_ADDR" sync -s feed -f "$WORK/list"
	refused "$SRV_ADDR" --dry-run ban "$SRV_ADDR"
	ibs_ok ban 203.0.113.5
	ibs_ok ban --force 198.51.100.0/25
	[[ "$stderr" != *"this host"* ]] || fail "--force still spoke: $stderr"
	assert_dropped "$ATK_ADDR"
}
