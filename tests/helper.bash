# SPDX-License-Identifier: GPL-2.0-only
# Shared helper for the ipbanset bats suite.
#
# Every test runs against two network namespaces it creates itself (a "server" that
# runs ipbanset and an "attacker" that sends packets), joined by a veth pair. The
# host's firewall is never touched. The binary is taken from $IPBANSET so it can be
# wrapped:  IPBANSET='valgrind -q --error-exitcode=99 ./ipbanset' bats tests/
#
# Server:   198.51.100.1/24, 2001:db8:1::1/64
# Attacker: 198.51.100.2/24, 2001:db8:1::2/64 and the extra sources below; the server
#           routes 203.0.0.0/16, 192.0.2.0/24 and 2001:db8:2::/48 back via the attacker.

bats_require_minimum_version 1.5.0

IPBANSET=${IPBANSET:-"$BATS_TEST_DIRNAME/../ipbanset"}

# The kernel backend under test: nftables (default) or ipset. With ipset the test's config
# says "backend = ipset", and the server namespace gets the iptables/ip6tables rules that
# `ipbanset init --print-rules` prints, as soon as the sets exist (see ipset_rules): the
# host's own firewall would load them at boot. Everything stays inside the namespaces.
IBS_BACKEND=${IBS_BACKEND:-nftables}

SRV_ADDR=198.51.100.1
SRV_ADDR6=2001:db8:1::1
ATK_ADDR=198.51.100.2
ATK_ADDR6=2001:db8:1::2
# Extra attacker source addresses (all usable with can_reach SRC).
ATK_EXTRA4="198.51.100.3 198.51.100.77 203.0.113.5 203.0.113.9 203.0.5.5 192.0.2.10"
ATK_EXTRA6="2001:db8:1::3 2001:db8:2::5 2001:db8:2::6 2001:db8:2:1::5"

# ---------------------------------------------------------------- namespaces

make_server_ns() {
	ip netns add "$SRV"
	ip -n "$SRV" link set lo up
	no_dad "$SRV"
}

make_attacker_ns() {
	ip netns add "$ATK"
	ip -n "$ATK" link set lo up
	no_dad "$ATK"
}

# no_dad NS: interfaces made later in NS skip duplicate address detection, so their
# link-local addresses are usable at once. While a link-local address is tentative,
# neighbour discovery can take longer than a ping's one-second wait (a CI run under
# ASan once lost two pings in a row that way).
no_dad() {
	ip netns exec "$1" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad &&
		echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad'
}

# veth pair named inside the namespaces, so nothing appears on the host. Called again
# after a server "reboot": the pair dies with the server namespace, so the attacker's
# end is new too and gets its addresses again. One `ip -batch` per namespace: every
# test calls this, and twenty-odd `ip` processes took 0.2 s of each test's setup.
link_namespaces() {
	ip link add ibs0 netns "$SRV" type veth peer name ibs1 netns "$ATK"
	ip -n "$SRV" -batch - <<-EOF
		addr add $SRV_ADDR/24 dev ibs0
		addr add $SRV_ADDR6/64 dev ibs0 nodad
		link set ibs0 up
		route add 203.0.0.0/16 via $ATK_ADDR
		route add 192.0.2.0/24 via $ATK_ADDR
		route add 2001:db8:2::/48 via $ATK_ADDR6 dev ibs0
	EOF
	local a
	{
		echo "addr add $ATK_ADDR/24 dev ibs1"
		echo "addr add $ATK_ADDR6/64 dev ibs1 nodad"
		for a in $ATK_EXTRA4; do echo "addr add $a/32 dev ibs1"; done
		for a in $ATK_EXTRA6; do echo "addr add $a/128 dev ibs1 nodad"; done
		echo "link set ibs1 up"
	} | ip -n "$ATK" -batch -
}

# Simulates a reboot of the server: its namespace (and with it every nftables object)
# disappears; a fresh one comes up with the same addresses. The journal survives.
reboot_server() {
	ip netns del "$SRV"
	# The kernel dismantles the old namespace asynchronously; wait for the veth
	# peer to vanish from the attacker's side.
	local _
	for _ in $(seq 100); do
		ip -n "$ATK" link show ibs1 >/dev/null 2>&1 || break
		sleep 0.1
	done
	make_server_ns
	link_namespaces
	rm -f "$WORK"/ipset-rules-*
}

setup() {
	unset SSH_CONNECTION SSH_CLIENT IPBANSET_DB IPBANSET_TABLE
	# BASHPID: files run side by side (bats --jobs), and their test numbers repeat
	local tag="${IBS_RUN:-$$}-${BATS_TEST_NUMBER}-${BASHPID}-${RANDOM}"
	SRV="ibs-srv-$tag"
	ATK="ibs-atk-$tag"
	BG_PIDS=()
	WORK="$BATS_TEST_TMPDIR/ibs"
	mkdir -p "$WORK"
	chmod 0700 "$WORK"
	DB="$WORK/ipbanset.db"
	CONF="$WORK/ipbanset.conf"
	printf '# ipbanset test configuration\n' >"$CONF"
	if [ "$IBS_BACKEND" = ipset ]; then
		printf 'backend = ipset\n' >>"$CONF"
	fi
	chmod 0600 "$CONF"
	make_server_ns
	make_attacker_ns
	link_namespaces
	if declare -F file_setup >/dev/null; then
		file_setup
	fi
}

teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$SRV" 2>/dev/null || true
	ip netns del "$ATK" 2>/dev/null || true
	if [ -n "${NOBODY_DIR:-}" ]; then rm -rf "$NOBODY_DIR"; fi
	rm -rf "$WORK"
}

# ---------------------------------------------------------------- running ipbanset

# ibs ARGS...: run ipbanset in the server namespace with the test's journal and config.
ibs() {
	local rc=0 table=${IPBANSET_TABLE:-${TABLE:-ipbanset}} prev= a
	if [ "$IBS_BACKEND" = ipset ]; then
		for a in "$@"; do
			if [ "$prev" = -T ] || [ "$prev" = --table ]; then table=$a; fi
			prev=$a
		done
		if [[ " $* " == *" teardown "* ]]; then
			TABLE=$table ipset_rules_remove
		fi
	fi
	# shellcheck disable=SC2086 # IPBANSET may be a wrapped command line
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" "$@" || rc=$?
	if [ "$IBS_BACKEND" = ipset ]; then
		# a command that failed (a bad config) may leave print-rules failing too
		TABLE=$table ipset_rules || true
	fi
	return $rc
}

is_ipset() {
	[ "$IBS_BACKEND" = ipset ]
}

# skip_unless_nft REASON: for the few tests about nftables objects themselves.
skip_unless_nft() {
	if is_ipset; then
		skip "nftables only: $*"
	fi
}

# ---------------------------------------------------------------- ipset backend

ipset_names() {
	local t=${TABLE:-ipbanset}
	echo "$t-ip4 $t-net4 $t-ip6 $t-net6"
}

# The rules `init --print-rules` prints, applied in the server namespace once all four
# sets exist (iptables refuses a rule that names a missing set).
ipset_rules() {
	local t=${TABLE:-ipbanset}
	[ -e "$WORK/ipset-rules-$t" ] && return 0
	local s have
	have=$(ip netns exec "$SRV" ipset list -n 2>/dev/null)
	for s in $(ipset_names); do
		grep -qx "$s" <<<"$have" || return 0
	done
	# shellcheck disable=SC2086
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" -T "$t" init --print-rules >"$WORK/ipset-rules.txt" ||
		return 1
	# as an administrator runs them: "ipbanset init --print-rules | sh"
	ip netns exec "$SRV" sh -e <"$WORK/ipset-rules.txt" || return 1
	touch "$WORK/ipset-rules-$t"
}

# Remove those rules again (before teardown, or to simulate a firewall reload).
ipset_rules_remove() {
	local t=${TABLE:-ipbanset} tool table rule
	for tool in iptables ip6tables; do
		for table in filter raw; do
			ip netns exec "$SRV" "$tool" -t "$table" -S 2>/dev/null | grep -e "--match-set $t-" |
				sed 's/^-A /-D /' | while read -r rule; do
					# shellcheck disable=SC2086
					ip netns exec "$SRV" "$tool" -t "$table" $rule
				done
		done
	done
	rm -f "$WORK/ipset-rules-$t"
}

# Kernel elements as "SET VALUE TIMEOUT" lines in the nftables backend's names
# (v4_24 203.0.113.0): the ipset listing translated.
ipset_elements_raw() {
	local t=${TABLE:-ipbanset}
	ip netns exec "$SRV" ipset list -o save 2>/dev/null | awk -v t="$t" '
		$1 == "add" && ($2 == t "-ip4" || $2 == t "-net4" || $2 == t "-ip6" || $2 == t "-net6") {
			fam = ($2 ~ /6$/) ? 6 : 4; v = $3; plen = (fam == 4) ? 32 : 128
			if (index(v, "/")) { plen = substr(v, index(v, "/") + 1); v = substr(v, 1, index(v, "/") - 1) }
			to = 0; for (i = 4; i <= NF && $i != "comment"; i++) if ($i == "timeout") to = $(i + 1)
			c = ""; j = index($0, " comment \""); if (j) { c = substr($0, j + 10); sub(/"$/, "", c) }
			print "v" fam "_" plen, v, to, c }'
}

# The ipset set and element that hold nftables-style SET ADDR (v4_24 203.0.113.0).
ipset_of() {
	local set=$1 addr=$2 t=${TABLE:-ipbanset} fam plen
	fam=${set%%_*}
	fam=${fam#v}
	plen=${set#*_}
	if { [ "$fam" = 4 ] && [ "$plen" = 32 ]; } || { [ "$fam" = 6 ] && [ "$plen" = 128 ]; }; then
		echo "$t-ip$fam $addr"
	else
		echo "$t-net$fam $addr/$plen"
	fi
}

# ---------------------------------------------------------------- kernel changes behind ipbanset's back

# What a firewall reload or "nft flush ruleset" does: ipbanset's kernel objects are gone.
kernel_wipe() {
	if is_ipset; then
		ipset_rules_remove
		local s
		for s in $(ipset_names); do
			ip netns exec "$SRV" ipset destroy "$s" 2>/dev/null || true
		done
	else
		ip netns exec "$SRV" nft flush ruleset
	fi
}

# What "nft delete table" does.
kernel_delete_table() {
	if is_ipset; then
		kernel_wipe
	else
		ip netns exec "$SRV" nft delete table inet "${TABLE:-ipbanset}"
	fi
}

# kernel_delete_set SET: the set (nftables name) is gone; with ipset, the set holding it,
# after the rules that reference it.
kernel_delete_set() {
	if is_ipset; then
		ipset_rules_remove
		# shellcheck disable=SC2046
		set -- $(ipset_of "$1" 0.0.0.0)
		ip netns exec "$SRV" ipset destroy "$1"
	else
		ip netns exec "$SRV" nft flush chain inet "${TABLE:-ipbanset}" filter
		ip netns exec "$SRV" nft delete set inet "${TABLE:-ipbanset}" "$1"
	fi
}

# kernel_save FILE / kernel_restore FILE: put back exactly what the kernel held.
kernel_save() {
	if is_ipset; then
		local s
		for s in $(ipset_names); do
			ip netns exec "$SRV" ipset save "$s"
		done >"$1"
	else
		ip netns exec "$SRV" nft list table inet "${TABLE:-ipbanset}" >"$1"
	fi
}

kernel_restore() {
	if is_ipset; then
		local s
		for s in $(ipset_names); do
			ip netns exec "$SRV" ipset flush "$s"
		done
		ip netns exec "$SRV" ipset restore -exist <"$1"
	else
		ip netns exec "$SRV" nft delete table inet "${TABLE:-ipbanset}"
		ip netns exec "$SRV" nft -f "$1"
	fi
}

# kernel_flush_set SET: empty one set (nftables name; with ipset, that length's elements).
kernel_flush_set() {
	if is_ipset; then
		ipset_elements_raw | while read -r s a _; do
			if [ "$s" = "$1" ]; then
				# shellcheck disable=SC2046
				ip netns exec "$SRV" ipset del $(ipset_of "$s" "$a")
			fi
		done
	else
		ip netns exec "$SRV" nft flush set inet "${TABLE:-ipbanset}" "$1"
	fi
}

# kernel_del_element SET ADDR / kernel_add_element SET ADDR [TIMEOUT_S]
kernel_del_element() {
	if is_ipset; then
		# shellcheck disable=SC2046
		ip netns exec "$SRV" ipset del $(ipset_of "$1" "$2")
	else
		ip netns exec "$SRV" nft delete element inet "${TABLE:-ipbanset}" "$1" "{ $2 }"
	fi
}

kernel_add_element() {
	if is_ipset; then
		# shellcheck disable=SC2046
		ip netns exec "$SRV" ipset add $(ipset_of "$1" "$2") timeout "${3:-0}"
	elif [ -n "${3:-}" ]; then
		ip netns exec "$SRV" nft add element inet "${TABLE:-ipbanset}" "$1" "{ $2 timeout ${3}s }"
	else
		ip netns exec "$SRV" nft add element inet "${TABLE:-ipbanset}" "$1" "{ $2 }"
	fi
}

# ibs_ok ARGS...: run and require exit 0 (prints stderr on failure).
ibs_ok() {
	run --separate-stderr ibs "$@"
	if [ "$status" -ne 0 ]; then
		echo "ipbanset $* exited $status" >&2
		echo "stdout: $output" >&2
		echo "stderr: $stderr" >&2
		return 1
	fi
}

ibs_init() {
	ibs_ok init "$@"
}

# config LINE...: append lines to the test's config file.
config() {
	printf '%s\n' "$@" >>"$CONF"
}

# ---------------------------------------------------------------- assertions

fail() {
	printf '%s\n' "$*" >&2
	return 1
}

# refute CMD...: CMD must fail. (A bare "! CMD" never fails a bats test.)
refute() {
	if "$@"; then
		fail "unexpectedly succeeded: $*"
	fi
}

assert_status() {
	local want=$1
	if [ "$status" -ne "$want" ]; then
		printf 'expected exit %s, got %s\nstdout: %s\nstderr: %s\n' \
			"$want" "$status" "$output" "${stderr:-}" >&2
		return 1
	fi
}

# assert_stderr_has TEXT: stderr (from run --separate-stderr) contains TEXT.
assert_stderr_has() {
	if [[ "${stderr:-}" != *"$1"* ]]; then
		printf 'stderr does not contain %q\nstderr: %s\n' "$1" "${stderr:-}" >&2
		return 1
	fi
}

# Every error message starts with "ipbanset: " (contract).
assert_stderr_prefixed() {
	if [[ "${stderr:-}" != ipbanset:\ * ]]; then
		printf 'stderr does not start with "ipbanset: "\nstderr: %s\n' "${stderr:-}" >&2
		return 1
	fi
}

# jq_ok FILTER: the stdout of the last run, as JSON, satisfies FILTER (-e).
jq_ok() {
	if ! jq -e "$@" >/dev/null <<<"$output"; then
		printf 'jq check failed: %s\nJSON: %s\n' "$*" "$output" >&2
		return 1
	fi
}

# columns_line_up N TEXT: in every line of TEXT, each of the first N blank-separated columns
# starts where it starts in the first line (the columns are as wide as their widest cell).
columns_line_up() {
	local n=$1 text=$2
	awk -v n="$n" '
		function starts(line, out,   i, pos, inword, c) {
			pos = 0; inword = 0
			for (i = 1; i <= length(line) && pos <= n; i++) {
				c = substr(line, i, 1)
				if (c != " " && !inword) { out[++pos] = i; inword = 1 }
				else if (c == " ") inword = 0
			}
			return pos
		}
		{ k = starts($0, s); if (NR == 1) { for (i = 1; i <= n; i++) first[i] = s[i]; next }
		  for (i = 2; i <= n; i++) if (s[i] != first[i]) { bad = bad "\n  line " NR ": " $0 } }
		END { if (bad != "") { print "columns do not line up:" bad > "/dev/stderr"; exit 1 } }
	' <<<"$text"
}

# jq_val FILTER: print a value from the last run's stdout.
jq_val() {
	jq -r "$@" <<<"$output"
}

# ---------------------------------------------------------------- reachability

# can_reach SRC [6]: one ping (retried once) from the attacker namespace with source SRC.
can_reach() {
	local src=$1 fam=${2:-} dst=$SRV_ADDR
	if [ "$fam" = 6 ] || [[ "$src" == *:* ]]; then
		dst=$SRV_ADDR6
		fam=-6
	else
		fam=-4
	fi
	ip netns exec "$ATK" ping "$fam" -n -q -c1 -W1 -I "$src" "$dst" >/dev/null 2>&1 ||
		ip netns exec "$ATK" ping "$fam" -n -q -c1 -W1 -I "$src" "$dst" >/dev/null 2>&1
}

# ping_once SRC: a single ping, no retry (for checks racing a short timeout).
ping_once() {
	local src=$1 fam=-4 dst=$SRV_ADDR
	if [[ "$src" == *:* ]]; then fam=-6; dst=$SRV_ADDR6; fi
	ip netns exec "$ATK" ping "$fam" -n -q -c1 -W1 -I "$src" "$dst" >/dev/null 2>&1
}

# drop_count: the packets that the server namespace's dropping rules have counted so far:
# with nftables every rule that counts and drops or rejects (ipbanset's, in whichever
# table the test chose), with ipset the iptables rules that match a set and drop or reject.
drop_count() {
	local n
	if is_ipset; then
		n=$({
			ip netns exec "$SRV" iptables-save -c
			ip netns exec "$SRV" ip6tables-save -c
		} 2>/dev/null | awk '/--match-set/ && / -j (DROP|REJECT)/ {
			gsub(/[][]/, "", $1); split($1, c, ":"); n += c[1] } END { print n + 0 }')
	else
		n=$(ip netns exec "$SRV" nft -j list ruleset 2>/dev/null | jq '[.nftables[] | select(.rule)
			| .rule.expr | select(any(.[]; type == "object" and (has("drop") or has("reject"))))
			| .[] | select(type == "object" and has("counter")) | .counter.packets] | add // 0')
	fi
	echo "${n:-0}"
}

# assert_dropped SRC [6]: one ping from SRC goes unanswered and ipbanset's rules counted
# it. The counter proves the drop at once, so the ping waits 0.3 s for an answer, not
# two pings of a second each. A ping that neither got an answer nor was counted had not
# reached the server yet (neighbour discovery on a loaded machine): it is sent again.
assert_dropped() {
	local src=$1 fam=-4 dst=$SRV_ADDR before after _
	if [ "${2:-}" = 6 ] || [[ "$src" == *:* ]]; then
		fam=-6
		dst=$SRV_ADDR6
	fi
	for _ in 1 2 3 4 5 6; do
		before=$(drop_count)
		if ip netns exec "$ATK" ping "$fam" -n -q -c1 -W0.3 -I "$src" "$dst" >/dev/null 2>&1; then
			fail "expected packets from $src to be dropped, but the ping got through"
			return
		fi
		after=$(drop_count)
		if [ "$after" -gt "$before" ]; then
			return 0
		fi
	done
	fail "no ping from $src was answered, but ipbanset's rules counted none of them"
}

# Two more tries here cost nothing when the packet gets through, and cover a neighbour
# resolution that outlasts two one-second waits on a loaded machine.
assert_reachable() {
	if ! can_reach "$@" && ! can_reach "$@"; then
		fail "expected packets from $1 to get through, but the ping was dropped"
	fi
}

# tcp_listen PORT [6]: a listener in the server namespace (IPv4, or IPv6 with 6),
# killed at teardown.
tcp_listen() {
	local fam=-4
	if [ "${2:-}" = 6 ]; then fam=-6; fi
	ip netns exec "$SRV" nc "$fam" -l -k "$1" </dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	wait_listening "$1" || fail "listener on port $1 did not start"
}

# wait_listening PORT: a TCP socket in the server namespace listens on PORT within 5 s.
wait_listening() {
	local _
	for _ in $(seq 50); do
		if ip netns exec "$SRV" ss -Hltn "sport = :$1" | grep -q LISTEN; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# can_connect SRC PORT [WAIT]: TCP connect from the attacker (source SRC) to the server.
can_connect() {
	local src=$1 port=$2 wait=${3:-2} dst=$SRV_ADDR
	if [[ "$src" == *:* ]]; then dst=$SRV_ADDR6; fi
	ip netns exec "$ATK" nc -z -w "$wait" -s "$src" "$dst" "$port" </dev/null
}

# ---------------------------------------------------------------- the kernel side

nft_json() {
	ip netns exec "$SRV" nft -j list table inet "${TABLE:-ipbanset}"
}

kernel_has_table() {
	if is_ipset; then
		local s
		for s in $(ipset_names); do
			ip netns exec "$SRV" ipset list -n "$s" >/dev/null 2>&1 && return 0
		done
		return 1
	fi
	ip netns exec "$SRV" nft list table inet "${TABLE:-ipbanset}" >/dev/null 2>&1
}

# The kernel's elements as sorted "SET VALUE" lines (no timeouts, which tick).
kernel_elements() {
	if is_ipset; then
		ipset_elements_raw | awk '{ print $1, $2 }' | sort
		return
	fi
	nft_json 2>/dev/null | jq -r '.nftables[] | select(.set) | .set as $s
		| ($s.elem // [])[] | "\($s.name) \(if type == "object" then .elem.val else . end)"' | sort
}

kernel_element_count() {
	kernel_elements | grep -c . || true
}

# kernel_elem SET ADDR: the element's JSON object ({"val":..,"timeout":..}), or nothing.
kernel_elem() {
	if is_ipset; then
		local set addr to comment
		while read -r set addr to comment; do
			if [ "$set" != "$1" ] || [ "$addr" != "$2" ]; then continue; fi
			jq -cn --arg v "$addr" --argjson t "$to" --arg c "$comment" \
				'{val: $v} + (if $t > 0 then {timeout: $t, expires: $t} else {} end)
				+ (if $c != "" then {comment: $c} else {} end)'
		done < <(ipset_elements_raw)
		return
	fi
	nft_json 2>/dev/null | jq -c --arg s "$1" --arg a "$2" '.nftables[] | select(.set and .set.name == $s)
		| (.set.elem // [])[] | if type == "object" then .elem else {val: .} end
		| select(.val == $a)'
}

kernel_has_element() {
	[ -n "$(kernel_elem "$1" "$2")" ]
}

assert_kernel_has() {
	kernel_has_element "$1" "$2" ||
		fail "kernel set $1 has no element $2; elements: $(kernel_elements | tr '\n' ',')"
}

assert_kernel_lacks() {
	if kernel_has_element "$1" "$2"; then
		fail "kernel set $1 still has element $2"
	fi
}

# kernel_timeout SET ADDR: the element's timeout in seconds ("none" when permanent).
kernel_timeout() {
	kernel_elem "$1" "$2" | jq -r '.timeout // "none"'
}

# kernel_expires SET ADDR: seconds left according to the kernel ("none" when permanent).
kernel_expires() {
	kernel_elem "$1" "$2" | jq -r '.expires // "none"'
}

kernel_has_set() {
	if is_ipset; then
		# shellcheck disable=SC2046
		set -- $(ipset_of "$1" 0.0.0.0)
		ip netns exec "$SRV" ipset list -n "$1" >/dev/null 2>&1
		return
	fi
	nft_json 2>/dev/null | jq -e --arg s "$1" '[.nftables[] | select(.set and .set.name == $s)] | length == 1' >/dev/null
}

kernel_chain() {
	nft_json 2>/dev/null | jq -c '.nftables[] | select(.chain and .chain.name == "filter") | .chain'
}

# ---------------------------------------------------------------- the journal side

# list_json [ARGS...]: the journal's live bans as a JSON array on stdout.
list_json() {
	ibs --json list "$@"
}

list_count() {
	list_json "$@" | jq 'length'
}

# expires_of TARGET [SOURCE]: the expires value of the journal's ban (null when permanent).
expires_of() {
	list_json | jq -r --arg t "$1" --arg s "${2:-manual}" \
		'.[] | select(.target == $t and .source == $s) | .expires'
}

# sleep_until T: sleep until bash's $SECONDS reaches T (at once if it has).
sleep_until() {
	local left=$(($1 - SECONDS))
	if [ "$left" -gt 0 ]; then sleep "$left"; fi
}

# Seconds from now to an RFC 3339 UTC time.
seconds_until() {
	echo $(($(date -u -d "$1" +%s) - $(date -u +%s)))
}

# A snapshot of journal and kernel, to prove that a failed command changed nothing.
snapshot() {
	{
		echo "== journal"
		list_json | jq -S -c 'sort_by(.target, .source) | .[] | {target, source, expires, reason}'
		echo "== kernel"
		kernel_elements
		echo "== table"
		kernel_has_table && echo present || echo absent
	}
}

# assert_unchanged SNAPSHOT: journal and kernel still look like SNAPSHOT.
assert_unchanged() {
	local now
	now=$(snapshot)
	if [ "$now" != "$1" ]; then
		printf 'state changed\nbefore:\n%s\nafter:\n%s\n' "$1" "$now" >&2
		return 1
	fi
}

# ---------------------------------------------------------------- unprivileged runs

# A copy of the binary that the user nobody can execute (the work tree may sit under
# a directory that nobody cannot enter), and a directory that nobody owns.
prepare_nobody() {
	NOBODY_DIR=$(mktemp -d /tmp/ibs-nobody.XXXXXX)
	chmod 0755 "$NOBODY_DIR"
	NOBODY_BIN=$IPBANSET
	if [ -f "$IPBANSET" ] && [ -x "$IPBANSET" ]; then
		cp "$IPBANSET" "$NOBODY_DIR/ipbanset"
		NOBODY_BIN="$NOBODY_DIR/ipbanset"
	fi
	mkdir "$NOBODY_DIR/state"
	printf '# nobody\n' >"$NOBODY_DIR/state/ipbanset.conf"
	chmod 0600 "$NOBODY_DIR/state/ipbanset.conf"
	chmod 0700 "$NOBODY_DIR/state"
	chown -R 65534:65534 "$NOBODY_DIR/state"
}

as_nobody() {
	# shellcheck disable=SC2086
	ip netns exec "$SRV" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$NOBODY_BIN -d "$NOBODY_DIR/state/ipbanset.db" -c "$NOBODY_DIR/state/ipbanset.conf" "$@"
}
