#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The shipped fail2ban action (packaging/fail2ban/action.d/ipbanset.conf), driven by
# the real fail2ban-server running inside the server namespace, with a private
# configuration, database and log file per test.

load helper

ACTION_CONF="$BATS_TEST_DIRNAME/../packaging/fail2ban/action.d/ipbanset.conf"
JAIL_EXAMPLE="$BATS_TEST_DIRNAME/../packaging/fail2ban/jail.d/ipbanset.conf"

# helper.bash's teardown, kept under another name: ours shows fail2ban's log first
# when the test failed. helper_teardown kills fail2ban-server (it is in BG_PIDS);
# the tests that need a clean stop call f2b_stop themselves.
eval "helper_$(declare -f teardown)"

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -s "${F2B_LOG:-}" ]; then
		echo "--- the end of fail2ban's log:" >&2
		tail -n 25 "$F2B_LOG" >&2
	fi
	helper_teardown
}

file_setup() {
	F2B="$WORK/f2b"
	F2B_SOCK="$F2B/f2b.sock"
	F2B_LOG="$F2B/fail2ban.log"
	AUTH_LOG="$F2B/auth.log"
	F2B_PID=
	F2B_NS=$SRV
	mkdir -p "$F2B/conf/action.d" "$F2B/conf/filter.d"
	cp "$ACTION_CONF" "$F2B/conf/action.d/ipbanset.conf"
	: >"$AUTH_LOG"
	# fail2ban runs the action through sh; $IPBANSET may be a wrapped command line.
	printf '#!/bin/sh\nexec %s "$@"\n' "$IPBANSET" >"$F2B/ipbanset"
	chmod 0755 "$F2B/ipbanset"
	cat >"$F2B/conf/fail2ban.conf" <<-EOF
		[Definition]
		loglevel = INFO
		logtarget = $F2B_LOG
		syslogsocket = auto
		socket = $F2B_SOCK
		pidfile = $F2B/f2b.pid
		allowipv6 = auto
		dbfile = $F2B/f2b.sqlite3
		dbpurgeage = 1d
	EOF
	cat >"$F2B/conf/filter.d/ibstest.conf" <<-'EOF'
		[Definition]
		failregex = ^FAIL from <HOST>$
		            ^FAIL user <F-USER>.+</F-USER> from <HOST>$
		datepattern = {NONE}
	EOF
	ibs_init
}

# f2b_jail [LINE...]: the jail "test" on $AUTH_LOG with the shipped action; extra
# lines go into the jail section (a later key overrides an earlier one).
f2b_jail() {
	{
		printf '%s\n' '[DEFAULT]' 'backend = polling' 'maxretry = 3' 'findtime = 10m' \
			'bantime = 600' "action = $(f2b_action)"
		printf '%s\n' '[test]' 'enabled = true' 'filter = ibstest' "logpath = $AUTH_LOG"
		printf '%s\n' "$@"
	} >"$F2B/conf/jail.conf"
}

# f2b_action [PARAM...]: the jail's action line, with the test's binary, and global
# options $F2B_OPTS (by default the test's journal and config), and more parameters
# (name="value"; fail2ban turns a repeated parameter into a list).
f2b_action() {
	local params opts=${F2B_OPTS:-"-d $DB -c $CONF"}
	params=$(printf ', %s' "ipbanset=\"$F2B/ipbanset\"" "ipbanset_opts=\"$opts\"" "$@")
	printf 'ipbanset[%s]' "${params#, }"
}

f2b_client() {
	fail2ban-client -c "$F2B/conf" -s "$F2B_SOCK" "$@"
}

# Starts fail2ban-server in the foreground, inside namespace $F2B_NS, and waits
# until the jail answers.
f2b_start() {
	ip netns exec "$F2B_NS" fail2ban-server -f -x -c "$F2B/conf" -s "$F2B_SOCK" \
		-p "$F2B/f2b.pid" >>"$F2B/server.out" 2>&1 </dev/null 3>&- &
	F2B_PID=$!
	BG_PIDS+=("$F2B_PID")
	local _
	for _ in $(seq 100); do
		if f2b_client status test >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$F2B_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$F2B/server.out" "$F2B_LOG" >&2 2>/dev/null
	fail "fail2ban-server did not start"
}

# Stops fail2ban the way an administrator does (its jails stop and flush), and
# waits for the process to end.
f2b_stop() {
	[ -n "${F2B_PID:-}" ] || return 0
	local pid=$F2B_PID _
	F2B_PID=
	f2b_client stop >/dev/null 2>&1 || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		fail "fail2ban-server did not stop"
		return 1
	fi
	wait "$pid" 2>/dev/null || true
}

# failures ADDR [N]: N (default 3) failed logins from ADDR in the jail's log.
failures() {
	local _
	for _ in $(seq "${2:-3}"); do
		printf 'FAIL from %s\n' "$1" >>"$AUTH_LOG"
	done
}

# wait_for CMD...: poll CMD for up to 10 s.
wait_for() {
	local _
	for _ in $(seq 50); do
		if "$@"; then
			return 0
		fi
		sleep 0.2
	done
	fail "timed out waiting for: $*"
}

# jail_bans N: the journal holds N bans of the jail's source.
jail_bans() {
	[ "$(list_count --source f2b-test)" -eq "$1" ]
}

wait_log() {
	wait_for grep -qF -- "$1" "$F2B_LOG"
}

# No action failed: fail2ban logs every failed command at ERROR level. The start-up
# poll's "status test" can reach the server before the jail exists; that query's
# UnknownJailException is the test's own, not an action's.
assert_f2b_log_clean() {
	if grep -E 'ERROR|CRITICAL' "$F2B_LOG" |
		grep -vF "Command ['status', 'test'] has failed. Received UnknownJailException('test')" >&2; then
		fail "fail2ban logged errors (above)"
	fi
}

@test "failed logins make fail2ban ban the attacker under source f2b-test" {
	f2b_jail
	f2b_start
	assert_reachable "$ATK_ADDR"
	failures "$ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	assert_reachable 198.51.100.3
	local t
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -ge 595 ] && [ "$t" -le 600 ] || fail "kernel timeout $t, want about 600"
	run list_json
	jq_ok 'length == 1 and .[0].target == "198.51.100.2" and .[0].source == "f2b-test"
		and .[0].reason == "fail2ban test: 3 failures"'
	t=$(seconds_until "$(expires_of "$ATK_ADDR" f2b-test)")
	[ "$t" -ge 595 ] && [ "$t" -le 600 ] || fail "journal expiry in $t s, want about 600"
	run f2b_client status test
	[[ "$output" == *"Banned IP list:"*"$ATK_ADDR"* ]] || fail "fail2ban status: $output"
	assert_f2b_log_clean
}

@test "IPv6: fail2ban bans an IPv6 attacker" {
	f2b_jail
	f2b_start
	failures 2001:db8:1::2
	wait_for kernel_has_element v6_128 2001:db8:1::2
	assert_dropped 2001:db8:1::2
	assert_reachable "$ATK_ADDR"
	run list_json
	jq_ok '.[0].target == "2001:db8:1::2" and .[0].source == "f2b-test"'
	assert_f2b_log_clean
}

@test "fail2ban-client unbanip lets the attacker through again" {
	f2b_jail
	f2b_start
	failures "$ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	f2b_client set test unbanip "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	[ "$(list_count)" -eq 0 ]
	run ibs --json log
	jq_ok '[.[] | select(.source == "f2b-test")] | length == 2'
	assert_f2b_log_clean
}

@test "bantime = -1 is a permanent ban: no kernel timeout, no journal expiry" {
	f2b_jail 'bantime = -1'
	f2b_start
	failures "$ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" = none ]
	run list_json
	jq_ok 'length == 1 and .[0].source == "f2b-test" and .[0].expires == null'
	assert_f2b_log_clean
}

@test "restart: fail2ban restores its bans from its database, none shorter than before" {
	f2b_jail
	f2b_start
	failures "$ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	local before after
	before=$(date -u -d "$(expires_of "$ATK_ADDR" f2b-test)" +%s)
	f2b_stop
	f2b_start
	wait_log "Restore Ban $ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	after=$(date -u -d "$(expires_of "$ATK_ADDR" f2b-test)" +%s)
	[ "$after" -ge "$before" ] || fail "expiry went from $before to $after"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" -gt 590 ]
	run f2b_client status test
	[[ "$output" == *"Banned IP list:"*"$ATK_ADDR"* ]] || fail "fail2ban status: $output"
	# the restored ticket's unban still reaches the kernel
	f2b_client set test unbanip "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
	assert_f2b_log_clean
}

@test "stopping fail2ban flushes only the jail's source; manual and other bans stay" {
	f2b_jail
	f2b_start
	ibs_ok ban --timeout 1h 198.51.100.3
	ibs_ok ban --source f2b-other --timeout 1h 198.51.100.77
	# the jail's source also bans what another source bans
	failures "$ATK_ADDR"
	failures 198.51.100.3
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	wait_for jail_bans 2
	# a reload that keeps the jail keeps its bans
	f2b_client reload >/dev/null
	jail_bans 2
	assert_dropped "$ATK_ADDR"
	f2b_stop
	grep -qF 'Flush ticket(s) with ipbanset' "$F2B_LOG"
	[ "$(list_count --source f2b-test)" -eq 0 ]
	assert_reachable "$ATK_ADDR"
	assert_dropped 198.51.100.3
	assert_dropped 198.51.100.77
	run list_json
	jq_ok 'length == 2 and ([.[].source] | sort) == ["f2b-other", "manual"]'
	# the table stays: actionstop does nothing
	kernel_has_table
	assert_f2b_log_clean
}

@test "fail2ban-client unban --all flushes only the jail's source" {
	f2b_jail
	f2b_start
	ibs_ok ban --timeout 1h 198.51.100.3
	failures "$ATK_ADDR"
	failures 2001:db8:1::2
	wait_for jail_bans 2
	f2b_client unban --all
	[ "$(list_count --source f2b-test)" -eq 0 ]
	assert_reachable "$ATK_ADDR"
	assert_reachable 2001:db8:1::2
	assert_dropped 198.51.100.3
	assert_f2b_log_clean
}

@test "after nft delete table, fail2ban's next ban recreates it and restores the jail's bans" {
	f2b_jail
	f2b_start
	failures "$ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	ip netns exec "$SRV" nft delete table inet ipbanset
	assert_reachable "$ATK_ADDR"
	failures 198.51.100.3
	wait_for kernel_has_element v4_32 198.51.100.3
	assert_dropped 198.51.100.3
	assert_dropped "$ATK_ADDR"
	run ibs --json status
	jq_ok '.kernel.present and .kernel.in_sync and .sources["f2b-test"] == 2'
	assert_f2b_log_clean
}

@test "an allowlisted address: fail2ban logs ipbanset's refusal, bans nothing, keeps banning others" {
	config 'allow = 203.0.113.0/24'
	f2b_jail
	f2b_start
	failures 203.0.113.5
	wait_log 'overlaps the allowlisted range 203.0.113.0/24'
	wait_log 'Error banning 203.0.113.5'
	# actioncheck ran and passed (the table is there), so no restart of the action
	if grep -F 'Invariant check failed' "$F2B_LOG" >&2; then
		fail "actioncheck failed although the table is present"
	fi
	assert_reachable 203.0.113.5
	[ "$(list_count)" -eq 0 ]
	failures "$ATK_ADDR"
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	# fail2ban counts the refused address as banned; its unban is harmless
	run f2b_client status test
	[[ "$output" == *"Banned IP list:"*203.0.113.5* ]] || fail "fail2ban status: $output"
	f2b_client set test unbanip 203.0.113.5
	f2b_client set test unbanip "$ATK_ADDR"
	assert_reachable "$ATK_ADDR"
	[ "$(grep -c 'Error banning' "$F2B_LOG")" -eq 1 ]
	if grep -E 'ERROR.*(nban|lush)' "$F2B_LOG" >&2; then
		fail "unban or flush failed"
	fi
}

@test "actioncheck and actionrepair: a failed ban with the table gone restores the table" {
	config 'allow = 203.0.113.0/24'
	f2b_jail
	f2b_start
	ibs_ok ban --timeout 1h 198.51.100.3
	ip netns exec "$SRV" nft delete table inet ipbanset
	assert_reachable 198.51.100.3
	# ipbanset refuses this ban (exit 3) without touching the kernel. fail2ban then
	# runs actioncheck, which fails without the table, then actionrepair (init),
	# which restores the table and the journal's bans, then the ban once more.
	failures 203.0.113.5
	wait_log 'Invariant check failed'
	wait_log 'Error banning 203.0.113.5'
	wait_for kernel_has_table
	assert_dropped 198.51.100.3
	assert_reachable 203.0.113.5
	if grep -F 'Unable to restore environment' "$F2B_LOG" >&2; then
		fail "actioncheck still failed after actionrepair"
	fi
	run ibs --json status
	jq_ok '.kernel.present and .kernel.in_sync'
}

@test "ipbanset_opts: fail2ban in another namespace bans in the server's with --netns" {
	# fail2ban runs in the attacker's namespace here; the action reaches the server's.
	F2B_NS=$ATK
	F2B_OPTS="--netns $SRV -d $DB -c $CONF"
	f2b_jail
	f2b_start
	failures 198.51.100.3
	wait_for kernel_has_element v4_32 198.51.100.3
	assert_dropped 198.51.100.3
	assert_reachable "$ATK_ADDR"
	if ip netns exec "$ATK" nft list table inet ipbanset >/dev/null 2>&1; then
		fail "the action created a table in fail2ban's own namespace"
	fi
	f2b_client set test unbanip 198.51.100.3
	assert_reachable 198.51.100.3
	assert_f2b_log_clean
}

@test "a hostile user name in the log reaches the reason verbatim and runs nothing" {
	f2b_jail "action = $(f2b_action 'reason="<failures> failures, user <F-USER>"')"
	f2b_start
	local user
	# shellcheck disable=SC2016 # literal on purpose
	user='x$(touch '$F2B'/PWNED1)`touch '$F2B'/PWNED2`;touch '$F2B'/PWNED3 "q'"'"' \ --replace'
	local _
	for _ in 1 2 3; do
		printf 'FAIL user %s from %s\n' "$user" "$ATK_ADDR" >>"$AUTH_LOG"
	done
	wait_for kernel_has_element v4_32 "$ATK_ADDR"
	run list_json
	# shellcheck disable=SC2016 # $r is jq's
	jq_ok --arg r "3 failures, user $user" '.[0].reason == $r and .[0].source == "f2b-test"'
	local f
	for f in PWNED1 PWNED2 PWNED3; do
		[ ! -e "$F2B/$f" ] || fail "$f was created"
	done
	assert_f2b_log_clean
}

@test "the example jail file, enabled on Debian's stock configuration, uses the action" {
	# No server and no namespace here: fail2ban-client -d only reads and resolves the
	# configuration, a copy of /etc/fail2ban with the shipped files added.
	local sys="$WORK/sys"
	cp -r /etc/fail2ban "$sys"
	cp "$ACTION_CONF" "$sys/action.d/ipbanset.conf"
	# every setting of the example enabled
	sed -E 's/^#([[:alpha:][])/\1/' "$JAIL_EXAMPLE" >"$sys/jail.d/ipbanset.local"
	run fail2ban-client -c "$sys" -d
	assert_status 0
	[[ "$output" == *"'actionban', 'ipbanset --config /etc/ipbanset/ipbanset.conf -q ban --source f2b-sshd --timeout <bantime> --reason \"fail2ban sshd: <failures> failures\" <ip>'"* ]] ||
		fail "sshd's actionban not found in: $output"
	# only the [DEFAULT] part enabled: banaction reaches the stock sshd jail
	sed -E '/^#\[sshd\]/,$d; s/^#([[:alpha:][])/\1/' "$JAIL_EXAMPLE" >"$sys/jail.d/ipbanset.local"
	run fail2ban-client -c "$sys" -d
	assert_status 0
	[[ "$output" =~ "'actionflush', 'ipbanset "\ *"-q flush --source f2b-sshd'" ]] ||
		fail "sshd's actionflush not found in: $output"
	# the file as shipped changes nothing
	cp "$JAIL_EXAMPLE" "$sys/jail.d/ipbanset.conf"
	rm "$sys/jail.d/ipbanset.local"
	run fail2ban-client -c "$sys" -d
	assert_status 0
	[[ "$output" == *"['set', 'sshd', 'addaction', '"* ]] || fail "sshd has no action: $output"
	[[ "$output" != *"'addaction', 'ipbanset'"* ]] || fail "the commented example enables something"
}
