#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The ipset backend's own behaviour: its sets, the iptables rules it prints, maxelem,
# bans longer than the kernel's longest timeout, and all or nothing through a swap.
# Runs whatever IBS_BACKEND says: these tests are about ipset.

load helper

# shellcheck disable=SC2034 # read by helper.bash
IBS_BACKEND=ipset

file_setup() {
	: # each test chooses when to init
}

ipset_header() {
	ip netns exec "$SRV" ipset list -t "$1" | sed -n 's/^Header: //p'
}

@test "init creates hash:ip and hash:net sets per family with timeout, comment and maxelem" {
	config 'maxelem = 5000'
	ibs_init
	local s
	for s in ipbanset-ip4 ipbanset-ip6; do
		ip netns exec "$SRV" ipset list -t "$s" | grep -qx 'Type: hash:ip'
	done
	for s in ipbanset-net4 ipbanset-net6; do
		ip netns exec "$SRV" ipset list -t "$s" | grep -qx 'Type: hash:net'
	done
	[[ "$(ipset_header ipbanset-ip4)" == "family inet "*"maxelem 5000 timeout 0 comment"* ]]
	[[ "$(ipset_header ipbanset-net6)" == "family inet6 "*"maxelem 5000 timeout 0 comment"* ]]
	ibs_ok --json init
	jq_ok '.changed == false'
}

@test "init --print-rules prints the iptables and ip6tables rules, and changes nothing" {
	run --separate-stderr ibs init --print-rules
	assert_status 0
	local r4='INPUT -m set --match-set ipbanset-ip4 src -j DROP' n4='INPUT -m set --match-set ipbanset-net4 src -j DROP'
	local r6='INPUT -m set --match-set ipbanset-ip6 src -j DROP' n6='INPUT -m set --match-set ipbanset-net6 src -j DROP'
	[ "$output" = "iptables -C $r4 2>/dev/null || iptables -I $r4
iptables -C $n4 2>/dev/null || iptables -I $n4
ip6tables -C $r6 2>/dev/null || ip6tables -I $r6
ip6tables -C $n6 2>/dev/null || ip6tables -I $n6" ]
	refute kernel_has_table
	run --separate-stderr ibs -T edge init --print-rules --hook prerouting
	assert_status 0
	r4='PREROUTING -m set --match-set edge-ip4 src -j DROP'
	[[ "$output" == "iptables -t raw -C $r4 2>/dev/null || iptables -t raw -I $r4"$'\n'* ]]
	run --separate-stderr ibs init --print-rules --verdict reject
	[[ "$output" == *"--match-set ipbanset-net6 src -j REJECT" ]]
	run --separate-stderr ibs init --print-rules --verdict reject --hook prerouting
	assert_status 2
	run --separate-stderr ibs --backend nftables init --print-rules
	assert_status 2
	assert_stderr_has "only for the ipset backend"
}

@test "the printed rules drop what the sets hold, IPv4 and IPv6, addresses and prefixes" {
	ibs_init
	ip netns exec "$SRV" iptables -S INPUT | grep -q -e '--match-set ipbanset-net4 src -j DROP'
	ibs_ok ban "$ATK_ADDR" 203.0.113.0/24 "$ATK_ADDR6" 2001:db8:2::/48
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.9
	assert_dropped "$ATK_ADDR6"
	assert_dropped 2001:db8:2:1::5
	assert_reachable 198.51.100.3
	assert_kernel_has v4_24 203.0.113.0
	assert_kernel_has v6_48 2001:db8:2::
}

@test "the printed rules run twice through sh add each rule once" {
	ibs_init
	local t
	for t in iptables ip6tables; do
		[ "$(ip netns exec "$SRV" "$t" -S INPUT | grep -c -e '--match-set ipbanset-')" -eq 2 ]
	done
	ibs_ok init --print-rules
	ip netns exec "$SRV" sh -e <<<"$output"
	ip netns exec "$SRV" sh -e <<<"$output"
	for t in iptables ip6tables; do
		[ "$(ip netns exec "$SRV" "$t" -S INPUT | grep -c -e '--match-set ipbanset-')" -eq 2 ]
	done
	ibs_ok init --print-rules --hook prerouting
	ip netns exec "$SRV" sh -e <<<"$output"
	ip netns exec "$SRV" sh -e <<<"$output"
	[ "$(ip netns exec "$SRV" iptables -t raw -S PREROUTING | grep -c -e '--match-set ipbanset-')" -eq 2 ]
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
}

@test "teardown refuses while iptables rules reference the sets, and names the way out" {
	ibs_init
	# shellcheck disable=SC2086 # IPBANSET may be a wrapped command line
	run --separate-stderr ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" teardown
	assert_status 4
	assert_stderr_has "in use by iptables rules"
	kernel_has_table
}

@test "maxelem: a full set refuses the ban, element by element or rebuilt, and nothing changes" {
	config 'maxelem = 3'
	ibs_init
	ibs_ok ban 198.51.100.3 198.51.100.4
	local before
	before=$(snapshot)
	run --separate-stderr ibs ban "$ATK_ADDR" 198.51.100.5 198.51.100.6
	assert_status 4
	assert_stderr_has "kernel refused 198.51.100."
	assert_stderr_has "is full"
	assert_unchanged "$before"
	IPBANSET_IPSET_SWAP_MIN=1 run --separate-stderr ibs ban "$ATK_ADDR" 198.51.100.5 198.51.100.6
	assert_status 4
	assert_unchanged "$before"
	ip netns exec "$SRV" ipset list -n | grep -c -- -tmp | grep -qx 0
	assert_reachable "$ATK_ADDR"
}

@test "a refusal deep in a packed batch names the refused target and takes back the rest" {
	# libipset packs about 80 adds (comment "manual") into each message; the kernel stops
	# at the first it refuses and names its line: the 299th new address, a few messages in
	config 'maxelem = 300'
	ibs_init
	ibs_ok ban 198.51.100.3 198.51.100.4
	local before f="$BATS_TEST_TMPDIR/list.txt" i
	for i in $(seq 10 250); do echo "198.51.100.$i"; done >"$f"
	for i in $(seq 1 200); do echo "203.0.113.$i"; done >>"$f"
	before=$(snapshot)
	IPBANSET_IPSET_SWAP_MIN=100000 run --separate-stderr ibs ban -f "$f"
	assert_status 4
	assert_stderr_has "kernel refused 203.0.113.58"
	assert_stderr_has "is full"
	assert_unchanged "$before"
	IPBANSET_IPSET_SWAP_MIN=1 run --separate-stderr ibs ban -f "$f"
	assert_status 4
	assert_stderr_has "kernel refused 203.0.113.58"
	assert_unchanged "$before"
	ip netns exec "$SRV" ipset list -n | grep -c -- -tmp | grep -qx 0
	# element by element, deletions and new timeouts packed with the new elements
	ibs_ok unban 198.51.100.3
	IPBANSET_IPSET_SWAP_MIN=100000 ibs_ok ban -t 2h 198.51.100.4 198.51.100.5
	run kernel_elements
	[ "$output" = "v4_32 198.51.100.4
v4_32 198.51.100.5" ]
}

@test "a rebuild through a temporary set and swap gives the same content as element by element" {
	ibs_init
	ibs_ok ban -t 1h -r one "$ATK_ADDR" 203.0.113.0/24
	ibs_ok ban -t 2h 198.51.100.3
	IPBANSET_IPSET_SWAP_MIN=1 ibs_ok ban -t 3h 198.51.100.4 203.0.113.0/25
	IPBANSET_IPSET_SWAP_MIN=1 ibs_ok unban 198.51.100.3
	run kernel_elements
	[ "$output" = "v4_24 203.0.113.0
v4_25 203.0.113.0
v4_32 198.51.100.2
v4_32 198.51.100.4" ]
	ibs_ok status --verify --json
	jq_ok '.kernel.in_sync == true'
	[ "$(kernel_elem v4_24 203.0.113.0 | jq -r .comment)" = "manual: one" ]
	assert_dropped "$ATK_ADDR"
}

@test "a 60-day ban: no kernel timeout at first, its exact timeout once within 24.8 days, gone after" {
	ibs_init
	ibs_ok ban -t 60d "$ATK_ADDR"
	ibs_ok ban -t permanent 198.51.100.3
	ibs_ok ban -t 1d 198.51.100.4
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" = none ]
	[ "$(kernel_timeout v4_32 198.51.100.3)" = none ]
	[ "$(kernel_timeout v4_32 198.51.100.4)" -gt 86000 ]
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
	assert_dropped "$ATK_ADDR"
	# 40 days on (ipbanset's clock only): 20 days are left, within the kernel's reach
	IPBANSET_TEST_CLOCK_OFFSET=$((40 * 86400)) ibs_ok --json gc
	local t
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -le $((20 * 86400)) ] && [ "$t" -ge $((20 * 86400 - 30)) ] || fail "kernel timeout $t"
	[ "$(kernel_timeout v4_32 198.51.100.3)" = none ]
	IPBANSET_TEST_CLOCK_OFFSET=$((40 * 86400)) ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
	assert_dropped "$ATK_ADDR"
	# 61 days on: the ban is over, and gc takes the element out
	IPBANSET_TEST_CLOCK_OFFSET=$((61 * 86400)) ibs_ok gc
	assert_kernel_lacks v4_32 "$ATK_ADDR"
	assert_kernel_lacks v4_32 198.51.100.4
	assert_kernel_has v4_32 198.51.100.3
	assert_reachable "$ATK_ADDR"
	assert_dropped 198.51.100.3
}

@test "reconcile, too, gives a long ban its kernel timeout when it comes within reach" {
	ibs_init
	ibs_ok ban -t 30d "$ATK_ADDR"
	[ "$(kernel_timeout v4_32 "$ATK_ADDR")" = none ]
	IPBANSET_TEST_CLOCK_OFFSET=$((10 * 86400)) ibs_ok --json reconcile
	jq_ok '.retimed == 1'
	local t
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -le $((20 * 86400)) ] && [ "$t" -ge $((20 * 86400 - 30)) ] || fail "kernel timeout $t"
}

# crash_swap DELAY_MS: kill -9 a 20k-address ban (a rebuild and swap) after DELAY_MS.
crash_swap() {
	local n=$SWAP_N delay_ms=$1 pid kernel total bulk tmp
	# shellcheck disable=SC2086
	ip netns exec "$SRV" $IPBANSET -q -d "$DB" -c "$CONF" ban -s bulk -f "$WORK/list.txt" &
	pid=$!
	BG_PIDS+=("$pid")
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# without any repair, the live set holds the old content or the new, never a part
	kernel=$(kernel_elements | grep -c '^v4_32 ' || true)
	tmp=no
	if ip netns exec "$SRV" ipset list -n ipbanset-ip4-tmp >/dev/null 2>&1; then tmp=yes; fi
	[ "$kernel" -eq 1 ] || [ "$kernel" -eq $((n + 1)) ] ||
		fail "delay ${delay_ms}ms: the kernel holds $kernel elements, expected 1 or $((n + 1))"
	ibs_ok reconcile
	ibs_ok status --verify --json
	total=$(jq_val .total)
	bulk=$(jq_val '.sources.bulk // 0')
	echo "# delay ${delay_ms}ms: kernel had $kernel (temporary set left: $tmp), journal holds $bulk of the batch" >&3
	[ "$bulk" -eq 0 ] || [ "$bulk" -eq $n ] || fail "journal has $bulk of the batch"
	jq_ok '.kernel.in_sync == true and .kernel.missing == 0 and .kernel.unexpected == 0'
	kernel=$(kernel_elements | grep -c '^v4_32 ' || true)
	[ "$kernel" -eq "$total" ] || fail "kernel holds $kernel elements, journal $total"
	refute ip netns exec "$SRV" ipset list -n ipbanset-ip4-tmp
	if [ "$bulk" -ne 0 ]; then
		ibs_ok flush -s bulk
	fi
}

@test "kill -9 at random instants during a swapped bulk ban: all or nothing, then reconcile agrees" {
	ibs_init
	ibs_ok ban 198.51.100.77
	local i t0 span step
	SWAP_N=50000
	for ((i = 0; i < SWAP_N; i++)); do
		echo "100.64.$((i / 256)).$((i % 256))"
	done >"$WORK/list.txt"
	# time one whole run, then kill at instants spread over that span (before, during
	# the journal's writes, the kernel's batch and the swap, and after)
	t0=$(date +%s%N)
	ibs_ok -q ban -s bulk -f "$WORK/list.txt"
	span=$((($(date +%s%N) - t0) / 1000000))
	ibs_ok flush -s bulk
	step=$((span / 6 + 1))
	echo "# one uninterrupted run: ${span}ms" >&3
	for delay in 5 $((step + RANDOM % step)) $((2 * step + RANDOM % step)) $((3 * step + RANDOM % step)) \
		$((4 * step + RANDOM % step)) $((5 * step + RANDOM % step)) $((6 * step + RANDOM % step)) \
		$((3 * span + 100)); do
		crash_swap "$delay"
	done
	assert_dropped 198.51.100.77
}

@test "a set of ipbanset's name that it cannot use: every command says so, and changes nothing" {
	ip netns exec "$SRV" ipset create ipbanset-ip4 hash:net family inet timeout 0 comment
	run --separate-stderr ibs ban 198.51.100.7
	assert_status 4
	assert_stderr_has "set ipbanset-ip4 exists but is not a hash:ip set of family inet with timeout and comment"
	ip netns exec "$SRV" ipset destroy ipbanset-ip4
	ip netns exec "$SRV" ipset create ipbanset-ip4 hash:ip family inet6 timeout 0 comment
	run --separate-stderr ibs ban 198.51.100.7
	assert_status 4
	assert_stderr_has "is not a hash:ip set of family inet"
	# the right type and family, no timeout or comment: init and status read the full
	# header; a ban is refused by the kernel, and taken back
	ip netns exec "$SRV" ipset destroy ipbanset-ip4
	ip netns exec "$SRV" ipset create ipbanset-ip4 hash:ip family inet timeout 0
	run --separate-stderr ibs init
	assert_status 4
	assert_stderr_has "is not a hash:ip set of family inet with timeout and comment"
	ibs_ok status --json
	[[ "$(jq_val .kernel.method)" == *"exists but is not a hash:ip set"* ]]
	run --separate-stderr ibs ban 198.51.100.8
	assert_status 4
	assert_stderr_has "kernel refused 198.51.100.8"
	assert_stderr_has "without comment support"
	ibs_ok --json list
	[ "$output" = "[]" ]
	[ -z "$(ip netns exec "$SRV" ipset list ipbanset-ip4 | sed -n '/^Members:/,$p' | tail -n +2)" ]
	ip netns exec "$SRV" ipset destroy ipbanset-ip4
	ibs_ok init
	ibs_ok ban 198.51.100.8
	assert_kernel_has v4_32 198.51.100.8
}

@test "bad backend settings are usage errors that change nothing" {
	run --separate-stderr ibs --backend pf init
	assert_status 2
	assert_stderr_has "invalid backend 'pf' (nftables or ipset)"
	config 'maxelem = 0'
	run --separate-stderr ibs init
	assert_status 2
	assert_stderr_has "maxelem"
	sed -i '/maxelem/d' "$CONF"
	run --separate-stderr ibs -T a_table_name_of_23_chrs init
	assert_status 2
	assert_stderr_has "too long for ipset set names"
	refute kernel_has_table
	ibs_ok -T a_table_name_of_22_chr init
	TABLE=a_table_name_of_22_chr kernel_has_table
}

@test "status says how it compared, and finds drift in a prefix length with no bans" {
	ibs_init
	ibs_ok ban 203.0.113.0/24
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
	[[ "$(jq_val .kernel.method)" == *"ipset sets listed"* ]]
	# four sets, each listed once, not one per prefix length they hold
	[[ "$(jq_val .kernel.method)" == *"compared 4 sets by dump"* ]] || fail "status said: $(jq_val .kernel.method)"
	kernel_add_element v4_16 10.9.0.0 3600
	ibs_ok status --json
	jq_ok '.kernel.in_sync == false and .kernel.unexpected == 1'
	ibs_ok --json reconcile
	jq_ok '.removed == 1'
	assert_kernel_lacks v4_16 10.9.0.0
	assert_kernel_has v4_24 203.0.113.0
}

@test "watch repairs on its interval: ipset sends no change events" {
	ibs_init
	ibs_ok ban -t 1h "$ATK_ADDR"
	# shellcheck disable=SC2086
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" watch --interval 1 >"$WORK/watch.log" 2>&1 &
	BG_PIDS+=($!)
	sleep 1
	kernel_del_element v4_32 "$ATK_ADDR"
	local end=$((SECONDS + 5))
	while [ "$SECONDS" -le "$end" ] && ! kernel_has_element v4_32 "$ATK_ADDR"; do
		sleep 0.2
	done
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
	local t
	t=$(kernel_timeout v4_32 "$ATK_ADDR")
	[ "$t" -gt 3500 ] && [ "$t" -le 3600 ] || fail "kernel timeout $t"
}
