#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The Ansible role (packaging/ansible): three "hosts" that are three network
# namespaces on this machine, each with its own journal and config. Host 1 is the
# helper's server namespace, so packets from the attacker prove its bans.

load helper

# keep the helper's teardown, and delete this file's namespaces as well
eval "helper_$(declare -f teardown)"

ROLE_DIR="$BATS_TEST_DIRNAME/../packaging/ansible"

# The fleet list of most tests; what each namespace's kernel must then hold.
FLEET="203.0.113.5 198.51.100.77 203.0.5.0/24 2001:db8:2::5"
FLEET_ELEMENTS="v4_24 203.0.5.0
v4_32 198.51.100.77
v4_32 203.0.113.5
v6_128 2001:db8:2::5"

file_setup() {
	local tag=${SRV#ibs-srv-}
	H2="ibs-fleetb-$tag"
	H3="ibs-fleetc-$tag"
	local ns
	for ns in "$H2" "$H3"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	NS=([1]="$SRV" [2]="$H2" [3]="$H3")

	local a="$WORK/ansible"
	mkdir -p "$a/tmp" "$a/remote" "$a/home" "$WORK/h1/bin" "$WORK/h2/bin" "$WORK/h3/bin"
	# the role copies this one, which no rebuild of ./ipbanset changes mid-test
	cp "$BATS_TEST_DIRNAME/../ipbanset" "$WORK/ipbanset.src"
	export HOME="$a/home" ANSIBLE_HOME="$a/home" ANSIBLE_LOCAL_TEMP="$a/tmp"
	export ANSIBLE_REMOTE_TEMP="$a/remote" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
	export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_STDOUT_CALLBACK=default
	export ANSIBLE_ROLES_PATH="$ROLE_DIR/roles" ANSIBLE_CONFIG="$a/ansible.cfg"
	export ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
	: >"$ANSIBLE_CONFIG"

	# host 2 allowlists 192.0.2.0/24; host 3 rejects instead of dropping
	cat >"$WORK/inventory.yml" <<-EOF
		ipbanset:
		  vars:
		    ansible_connection: local
		    ansible_python_interpreter: /usr/bin/python3
		    ansible_become: false
		    ipbanset_install_method: copy
		    ipbanset_binary_src: $WORK/ipbanset.src
		    ipbanset_manage_units: false
		    ipbanset_fleet_timeout: 1d
		  hosts:
		    host1:
		      ipbanset_netns: ${NS[1]}
		      ipbanset_binary: $WORK/h1/bin/ipbanset
		      ipbanset_config_path: $WORK/h1/etc/ipbanset.conf
		      ipbanset_db: $WORK/h1/lib/ipbanset.db
		    host2:
		      ipbanset_netns: ${NS[2]}
		      ipbanset_binary: $WORK/h2/bin/ipbanset
		      ipbanset_config_path: $WORK/h2/etc/ipbanset.conf
		      ipbanset_db: $WORK/h2/lib/ipbanset.db
		      ipbanset_allow: [192.0.2.0/24]
		    host3:
		      ipbanset_netns: ${NS[3]}
		      ipbanset_binary: $WORK/h3/bin/ipbanset
		      ipbanset_config_path: $WORK/h3/etc/ipbanset.conf
		      ipbanset_db: $WORK/h3/lib/ipbanset.db
		      ipbanset_verdict: reject
	EOF
	fleet $FLEET
}

teardown() {
	ip netns del "$H2" 2>/dev/null || true
	ip netns del "$H3" 2>/dev/null || true
	helper_teardown
}

# fleet TARGET...: the fleet list the next play applies
fleet() {
	{
		echo "ipbanset_fleet_bans:"
		local t
		for t in "$@"; do echo "  - \"$t\""; done
	} >"$WORK/fleet.yml"
}

# play [ARGS...]: run the example playbook against the three hosts
play() {
	(cd "$WORK" && ansible-playbook -i "$WORK/inventory.yml" -e "@$WORK/fleet.yml" \
		"$ROLE_DIR/site.yml" "$@")
}

play_ok() {
	run --separate-stderr play "$@"
	PLAY_OUT=$output
	if [ "$status" -ne 0 ]; then
		printf 'ansible-playbook %s exited %s\nstdout: %s\nstderr: %s\n' \
			"$*" "$status" "$output" "$stderr" >&2
		return 1
	fi
}

# recap HOST KEY: a number from the PLAY RECAP line of HOST in the last play
# (PLAY_OUT: its stdout)
recap() {
	local line
	line=$(grep -E "^$1 +: " <<<"$PLAY_OUT") || { fail "no PLAY RECAP line for $1"; return 1; }
	sed -E "s/.* $2=([0-9]+).*/\\1/" <<<"$line"
}

assert_recap() {
	local got
	got=$(recap "$1" "$2") || return 1
	[ "$got" "$3" "$4" ] || fail "PLAY RECAP $1: $2=$got, expected $3 $4"$'\n'"$PLAY_OUT"
}

# on HOSTNUM FUNCTION ARGS...: a helper function (ibs, kernel_elements, snapshot...)
# run against that host's namespace, journal and config
on() {
	local n=$1
	shift
	(
		SRV=${NS[$n]}
		DB="$WORK/h$n/lib/ipbanset.db"
		CONF="$WORK/h$n/etc/ipbanset.conf"
		"$@"
	)
}

assert_fleet_kernel() {
	local n=$1 want=$2 got
	got=$(on "$n" kernel_elements)
	[ "$got" = "$want" ] || fail "host$n kernel holds:"$'\n'"$got"$'\nexpected:\n'"$want"
}

# assert_diff_lines LINE N: the last play printed LINE exactly N times
assert_diff_lines() {
	local got
	got=$(grep -cxF -- "$1" <<<"$PLAY_OUT" || true)
	[ "$got" -eq "$2" ] || fail "the diff has $got lines '$1', expected $2:"$'\n'"$PLAY_OUT"
}

# the verdict of every rule in the table ("drop" or "reject")
rule_verdicts() {
	nft_json | jq -r '.nftables[] | select(.rule) | .rule.expr[] | keys[] | select(. == "drop" or . == "reject")' | sort -u
}

# Every host's journal, kernel and history, to show that a run changed nothing: a
# dry run records nothing, and neither does a real run that changes nothing.
full_snapshot() {
	local n
	for n in 1 2 3; do
		echo "== host$n"
		on "$n" snapshot
		on "$n" ibs --json log | jq -c '[.[] | {kind, target, source, detail}]'
	done
}

@test "ansible: check mode on fresh hosts changes nothing; the first run bans the fleet list everywhere, the second changes nothing" {
	play_ok --check --diff
	local n
	for n in 1 2 3; do
		assert_recap "host$n" failed -eq 0
		refute on "$n" kernel_has_table
		[ ! -e "$WORK/h$n/bin/ipbanset" ] || fail "check mode copied the binary"
		[ ! -e "$WORK/h$n/etc/ipbanset.conf" ] || fail "check mode wrote the config"
		[ ! -e "$WORK/h$n/lib/ipbanset.db" ] || fail "check mode created the journal"
	done

	play_ok
	for n in 1 2 3; do
		assert_recap "host$n" changed -gt 0
		assert_fleet_kernel "$n" "$FLEET_ELEMENTS"
		run on "$n" ibs --json list
		jq_ok 'length == 4 and all(.[]; .source == "fleet")'
		[ "$(stat -c %a "$WORK/h$n/lib")" = 700 ] || fail "journal directory is not 0700"
	done
	# each host has its own files: the allow list only in host 2's config
	grep -qx 'allow = 192.0.2.0/24' "$WORK/h2/etc/ipbanset.conf"
	refute grep -q '^allow' "$WORK/h1/etc/ipbanset.conf"
	# init got the per-host verdict
	[ "$(on 3 rule_verdicts)" = reject ] || fail "host3's rules: $(on 3 rule_verdicts)"
	[ "$(on 1 rule_verdicts)" = drop ] || fail "host1's rules: $(on 1 rule_verdicts)"
	# packets prove host 1's bans
	assert_dropped 203.0.113.5
	assert_dropped 198.51.100.77
	assert_dropped 203.0.5.5
	assert_dropped 2001:db8:2::5
	assert_reachable 198.51.100.3
	assert_reachable 2001:db8:1::3

	local before after
	before=$(full_snapshot)
	play_ok
	for n in 1 2 3; do
		assert_recap "host$n" changed -eq 0
		assert_recap "host$n" failed -eq 0
	done
	after=$(full_snapshot)
	[ "$after" = "$before" ] || fail "a second run changed state: $(diff <(echo "$before") <(echo "$after"))"
}

@test "ansible: after a list change --check --diff shows it and changes nothing; the run then adds and withdraws on every host" {
	play_ok
	on 1 ibs -q ban -s manual 198.51.100.3
	local before after n
	before=$(full_snapshot)
	# 198.51.100.77 leaves the list; 203.0.113.9 and 2001:db8:2::6 (spelt oddly) join
	fleet 203.0.113.5 203.0.5.0/24 2001:db8:2::5 203.0.113.9 2001:db8:2:0::6
	play_ok --check --diff
	for n in 1 2 3; do
		assert_recap "host$n" changed -eq 1
		assert_recap "host$n" failed -eq 0
	done
	# one diff per host, in ipbanset's spelling
	assert_diff_lines '+203.0.113.9' 3
	assert_diff_lines '+2001:db8:2::6' 3
	assert_diff_lines '-198.51.100.77' 3
	assert_diff_lines '-203.0.113.5' 0
	assert_diff_lines '+203.0.113.5' 0
	assert_diff_lines '--- before: ipbanset source fleet, targets to be withdrawn' 3
	assert_diff_lines '+++ after: ipbanset source fleet, targets to be banned' 3
	[[ "$stderr" != *"diff is an estimate"* ]] || fail "predicted diff disagrees with the dry run: $stderr"
	after=$(full_snapshot)
	[ "$after" = "$before" ] || fail "check mode changed state: $(diff <(echo "$before") <(echo "$after"))"
	assert_dropped 198.51.100.77
	assert_reachable 203.0.113.9

	play_ok --diff
	local want
	want=$(printf '%s\n' 'v4_24 203.0.5.0' 'v4_32 203.0.113.5' 'v4_32 203.0.113.9' \
		'v6_128 2001:db8:2::5' 'v6_128 2001:db8:2::6' | sort)
	for n in 1 2 3; do
		assert_recap "host$n" changed -eq 1
		if [ "$n" = 1 ]; then
			assert_fleet_kernel 1 "$( (echo "$want"; echo 'v4_32 198.51.100.3') | sort)"
		else
			assert_fleet_kernel "$n" "$want"
		fi
	done
	assert_diff_lines '-198.51.100.77' 3
	assert_diff_lines '+203.0.113.9' 3
	assert_diff_lines '+2001:db8:2::6' 3
	assert_reachable 198.51.100.77
	assert_dropped 203.0.113.9
	assert_dropped 2001:db8:2::6
	# the manual ban of another source is untouched
	assert_dropped 198.51.100.3
	run on 1 ibs --json list --source manual
	jq_ok 'length == 1 and .[0].target == "198.51.100.3"'
}

@test "ansible: a fleet target in one host's allowlist fails that host and changes nothing there" {
	fleet $FLEET 192.0.2.10
	run --separate-stderr play
	PLAY_OUT=$output
	assert_status 2
	assert_recap host2 failed -eq 1
	assert_recap host1 failed -eq 0
	assert_recap host3 failed -eq 0
	[[ "$output" == *"overlaps the allowlisted range 192.0.2.0/24"* ]] || fail "no allowlist message: $output"
	# all or nothing: host 2 has its table, but none of the list's other targets
	on 2 kernel_has_table
	[ "$(on 2 kernel_element_count)" -eq 0 ] || fail "host2 holds elements: $(on 2 kernel_elements)"
	[ "$(on 2 ibs --json list | jq length)" -eq 0 ] || fail "host2's journal holds bans"
	assert_dropped 192.0.2.10
	assert_dropped 203.0.113.5
	on 3 ibs query 192.0.2.10
}

@test "ansible: --diff of a list of more than 1000 targets shows the first 1000 and counts the rest" {
	# shellcheck disable=SC2046
	fleet $(awk 'BEGIN { for (i = 0; i < 1003; i++) printf "100.64.%d.%d\n", int(i / 256), i % 256 }')
	play_ok --diff
	local n
	for n in 1 2 3; do
		assert_recap "host$n" changed -gt 0
		[ "$(on "$n" ibs --json list | jq length)" -eq 1003 ] || fail "host$n does not ban all 1003"
	done
	assert_diff_lines '+100.64.3.231' 3 # the 1000th
	assert_diff_lines '+100.64.3.232' 0
	assert_diff_lines '(not listed: 3 more banned)' 3
}
