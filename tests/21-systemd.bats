#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The systemd units in packaging/systemd: they pass systemd-analyze verify without a
# single message, enable into the right targets with no ordering cycle at boot, and the
# commands they run put the bans back after the ruleset was flushed or reloaded; the
# watch daemon's command, with the unit's capability bounding set, repairs a flush
# within 2 s and ends with exit status 0 on SIGTERM.
# Nothing is started by systemd: systemd-analyze and systemctl --root work on copies
# only, and the commands run in the test's own namespaces.

load helper

SRC_UNITS="$BATS_TEST_DIRNAME/../packaging/systemd"
UNITS="ipbanset-reconcile.service ipbanset-watch.service ipbanset-gc.service ipbanset-gc.timer"

file_setup() {
	# what the Makefile puts in @SBINDIR@: here the directory of the binary under test
	SBIN=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	[ -x "$SBIN/ipbanset" ] || fail "$SBIN/ipbanset is missing; run make"
	U="$WORK/units"
	install_units "$U"
}

# install_units DIR: the units with @SBINDIR@ substituted, beside a stand-in for
# Debian's nftables.service, so the checks do not depend on what this host has.
install_units() {
	local dir=$1 u
	mkdir -p "$dir"
	for u in $UNITS; do
		sed "s|@SBINDIR@|$SBIN|g" "$SRC_UNITS/$u" >"$dir/$u"
	done
	cat >"$dir/nftables.service" <<-'EOF'
		[Unit]
		Description=nftables
		Wants=network-pre.target
		Before=network-pre.target shutdown.target
		Conflicts=shutdown.target
		DefaultDependencies=no

		[Service]
		Type=oneshot
		RemainAfterExit=yes
		StandardInput=null
		ProtectSystem=full
		ProtectHome=true
		ExecStart=/bin/true
		ExecReload=/bin/true
		ExecStop=/bin/true

		[Install]
		WantedBy=sysinit.target
	EOF
}

# analyze DIR ARGS...: systemd-analyze with DIR first in the unit path (the trailing
# colon keeps the host's own directories for sysinit.target and the like).
analyze() {
	local dir=$1
	shift
	SYSTEMD_UNIT_PATH="$dir:" systemd-analyze "$@"
}

# verify_clean DIR UNIT...: systemd-analyze verify exits 0 and prints nothing at all.
# (It exits 0 on unknown keys and ordering cycles, so the output is what counts.)
verify_clean() {
	local dir=$1 u out rc=0
	shift
	local files=()
	for u in "$@"; do files+=("$dir/$u"); done
	out=$(analyze "$dir" verify --man=no "${files[@]}" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		printf 'systemd-analyze verify %s: exit %s\n%s\n' "$*" "$rc" "$out" >&2
		return 1
	fi
}

# unit_dump DIR UNIT: systemd's own parse of the unit (the debug dump of verify),
# without the "(origin-file)" notes.
unit_dump() {
	SYSTEMD_LOG_LEVEL=debug analyze "$1" verify --man=no "$1/$2" 2>/dev/null |
		sed -n "/^\t-> Unit $2:/,/^\t-> Unit /p" | sed 's/ (origin-[^)]*)$//'
}

# unit_args UNIT KEY: the arguments of the command line of KEY (ExecStart, ExecReload)
# of the unit as shipped, after the binary, in the array UNIT_ARGS.
unit_args() {
	local file="$SRC_UNITS/$1" key=$2 line
	[ "$(grep -c "^$key=" "$file")" -eq 1 ] || fail "$1: expected exactly one $key=" || return 1
	line=$(sed -n "s/^$key=//p" "$file")
	# no systemd specifiers or variables: the words are the command line as is
	[[ $line != *[%\$\"\'\\]* ]] ||
		fail "$1: $key= needs expansion this test does not do: $line" || return 1
	# @SBINDIR@ as the Makefile replaces it, then systemd's prefixes ("-", "@", ...)
	line=${line//@SBINDIR@/$SBIN}
	while [[ $line == [-@:+!]* ]]; do line=${line:1}; done
	local -a words
	read -ra words <<<"$line"
	[ "${words[0]}" = "$SBIN/ipbanset" ] || fail "$1: $key= runs ${words[0]}" || return 1
	UNIT_ARGS=("${words[@]:1}")
}

# unit_exec UNIT KEY: run the command line of KEY of the unit as shipped, in the server
# namespace, with the binary under test and the test's journal and config as global
# options.
unit_exec() {
	unit_args "$1" "$2" || return 1
	# shellcheck disable=SC2086 # IPBANSET may be a wrapped command line
	ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" "${UNIT_ARGS[@]}"
}

# unit_bounding_set UNIT: the unit's CapabilityBoundingSet= as setpriv --bounding-set
# wants it ("-all,+net_admin").
unit_bounding_set() {
	local caps c out=-all
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$SRC_UNITS/$1")
	[ -n "$caps" ] || fail "$1 has no CapabilityBoundingSet=" || return 1
	for c in $caps; do
		c=${c,,}
		out+=",+${c#cap_}"
	done
	echo "$out"
}

# ---------------------------------------------------------------- static checks

@test "the shipped units name the binary as @SBINDIR@/ipbanset and nothing else to substitute" {
	local u
	for u in $UNITS; do
		[ -f "$SRC_UNITS/$u" ] || fail "missing packaging/systemd/$u"
		if grep -n '@[A-Z_]*@' "$U/$u"; then fail "$u: an @...@ placeholder is left after substitution"; fi
	done
	grep -q '^ExecStart=@SBINDIR@/ipbanset reconcile$' "$SRC_UNITS/ipbanset-reconcile.service"
	grep -q '^ExecStart=@SBINDIR@/ipbanset gc$' "$SRC_UNITS/ipbanset-gc.service"
	grep -q '^ExecStart=@SBINDIR@/ipbanset watch$' "$SRC_UNITS/ipbanset-watch.service"
}

@test "systemd-analyze verify: every unit loads without a single message" {
	verify_clean "$U" $UNITS
	# each one alone too (a timer is verified with its service loaded by name)
	verify_clean "$U" ipbanset-reconcile.service
	verify_clean "$U" ipbanset-watch.service
	verify_clean "$U" ipbanset-gc.timer
}

@test "the man page named in Documentation= exists" {
	local u doc
	for u in $UNITS; do
		doc=$(sed -n 's/^Documentation=//p' "$SRC_UNITS/$u")
		[ "$doc" = 'man:ipbanset(8)' ] || fail "$u: Documentation=$doc"
	done
	[ -f "$BATS_TEST_DIRNAME/../man/ipbanset.8" ]
}

@test "the verify check fails on a typo, a missing binary and a bad calendar" {
	local bad="$WORK/bad"
	install_units "$bad"
	sed -i 's/^After=local-fs.target/Afterr=local-fs.target/' "$bad/ipbanset-reconcile.service"
	run verify_clean "$bad" ipbanset-reconcile.service
	[ "$status" -ne 0 ]
	[[ $output == *"Unknown key 'Afterr'"* ]] || [[ $output == *Afterr* ]]

	install_units "$bad"
	sed -i "s|^ExecStart=$SBIN/ipbanset|ExecStart=$SBIN/no-such-ipbanset|" "$bad/ipbanset-gc.service"
	run verify_clean "$bad" ipbanset-gc.service
	[ "$status" -ne 0 ]

	install_units "$bad"
	sed -i 's/^OnCalendar=daily/OnCalendar=dayly/' "$bad/ipbanset-gc.timer"
	run verify_clean "$bad" ipbanset-gc.timer
	[ "$status" -ne 0 ]
}

@test "reconcile unit as systemd reads it: after nftables.service, before network-pre.target, follows its restarts and reloads" {
	local d
	d=$(unit_dump "$U" ipbanset-reconcile.service)
	[ -n "$d" ] || fail "no unit dump from systemd-analyze"
	local want
	for want in 'After: nftables.service' 'After: local-fs.target' 'Before: network-pre.target' \
		'Wants: network-pre.target' 'PartOf: nftables.service' \
		'ReloadPropagatedFrom: nftables.service' 'Conflicts: shutdown.target' \
		'RequiresMountsFor: /var/lib/ipbanset' 'DefaultDependencies: no' 'Type: oneshot' \
		'RemainAfterExit: yes' 'CapabilityBoundingSet: cap_net_admin' 'PrivateNetwork: no' \
		'PrivateUsers: no' 'ProtectSystem: strict' 'StateDirectory: ipbanset' \
		'StateDirectoryMode: 0700'; do
		grep -qxF "		$want" <<<"$d" || fail "reconcile unit lacks '$want'"
	done
	# Requires=/BindsTo= would keep the bans away on hosts without nftables.service
	if grep -E '^		(Requires|BindsTo|Requisite): nftables' <<<"$d"; then
		fail "reconcile unit must not require nftables.service"
	fi
	# a reload of nftables reconciles again, with the very same command
	local start reload
	start=$(sed -n '/-> ExecStart:/{n;s/.*Command Line: //p}' <<<"$d")
	reload=$(sed -n '/-> ExecReload:/{n;s/.*Command Line: //p}' <<<"$d")
	[ "$start" = "$SBIN/ipbanset reconcile" ] || fail "ExecStart: $start"
	[ "$reload" = "$start" ] || fail "ExecReload: $reload"
}

@test "watch unit as systemd reads it: a restarting daemon after nftables.service, not tied to it" {
	local d
	d=$(unit_dump "$U" ipbanset-watch.service)
	[ -n "$d" ] || fail "no unit dump from systemd-analyze"
	local want
	for want in 'After: nftables.service' 'After: ipbanset-reconcile.service' \
		'After: basic.target' 'DefaultDependencies: yes' 'Type: exec' 'Restart: on-failure' \
		'RestartSec: 5s' 'RemainAfterExit: no' 'KillSignal: SIGTERM' \
		'CapabilityBoundingSet: cap_net_admin' 'PrivateNetwork: no' 'PrivateUsers: no' \
		'ProtectSystem: strict' 'StateDirectory: ipbanset' 'StateDirectoryMode: 0700' \
		'RequiresMountsFor: /var/lib/ipbanset' 'UMask: 0077'; do
		grep -qxF "		$want" <<<"$d" || fail "watch unit lacks '$want'"
	done
	# It repairs a reload or stop of nftables.service by itself and must keep running
	# when that unit stops or does not exist: no dependency on it but the ordering.
	if grep -E '^		(Requires|Requisite|BindsTo|PartOf|Wants|ReloadPropagatedFrom|PropagatesReloadTo|PropagatesStopTo|StopPropagatedFrom): nftables' <<<"$d"; then
		fail "watch unit must not be tied to nftables.service"
	fi
	# SIGHUP ends watch (exit 0): a reload would stop it
	if grep -q -- '-> ExecReload:' <<<"$d"; then fail "watch unit has an ExecReload="; fi
	local start
	start=$(sed -n '/-> ExecStart:/{n;s/.*Command Line: //p}' <<<"$d")
	[ "$start" = "$SBIN/ipbanset watch" ] || fail "ExecStart: $start"
	# a crash loop gives up instead of restarting forever
	grep -q '^StartLimitIntervalSec=' "$SRC_UNITS/ipbanset-watch.service"
	grep -q '^StartLimitBurst=' "$SRC_UNITS/ipbanset-watch.service"
}

@test "watch unit has exactly the confinement of the reconcile unit" {
	# every [Service] line of the reconcile unit but what makes it a oneshot
	local r w
	r=$(sed -n '/^\[Service\]/,/^\[/p' "$SRC_UNITS/ipbanset-reconcile.service" |
		grep -E '^[A-Z][A-Za-z]*=' | grep -Ev '^(Type|RemainAfterExit|Exec[A-Za-z]*)=' | sort)
	w=$(sed -n '/^\[Service\]/,/^\[/p' "$SRC_UNITS/ipbanset-watch.service" |
		grep -E '^[A-Z][A-Za-z]*=' | grep -Ev '^(Type|Restart|RestartSec|Exec[A-Za-z]*)=' | sort)
	[ "$(wc -l <<<"$r")" -ge 20 ] || fail "too few settings found: $r"
	diff <(echo "$r") <(echo "$w") || fail "confinement differs (-reconcile +watch)"
	grep -qx 'RestrictAddressFamilies=AF_NETLINK AF_UNIX' <<<"$w"
	grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN' <<<"$w"
}

@test "enabled: reconcile is wanted by multi-user.target and nftables.service, watch by multi-user.target, the timer by timers.target; no ordering cycle at boot" {
	local root="$WORK/root" sys u
	sys="$root/usr/lib/systemd/system"
	mkdir -p "$sys"
	install_units "$sys"
	run systemctl --root="$root" enable ipbanset-reconcile.service ipbanset-watch.service \
		ipbanset-gc.timer nftables.service
	assert_status 0
	local etc="$root/etc/systemd/system"
	[ -L "$etc/multi-user.target.wants/ipbanset-reconcile.service" ]
	[ -L "$etc/nftables.service.wants/ipbanset-reconcile.service" ]
	[ -L "$etc/multi-user.target.wants/ipbanset-watch.service" ]
	[ ! -e "$etc/nftables.service.wants/ipbanset-watch.service" ]
	[ -L "$etc/timers.target.wants/ipbanset-gc.timer" ]
	[ -L "$etc/sysinit.target.wants/nftables.service" ]
	run systemctl --root="$root" is-enabled ipbanset-gc.service
	[ "$output" = static ]

	# The whole boot transaction (multi-user.target and all it pulls in, this host's
	# units plus ours): our units are in it, and no cycle goes through them.
	local out
	out=$(SYSTEMD_LOG_LEVEL=debug SYSTEMD_UNIT_PATH="$etc:$sys:" \
		systemd-analyze verify --man=no multi-user.target 2>&1 >/dev/null)
	grep -q 'Installed new job ipbanset-reconcile.service/start' <<<"$out" ||
		fail "multi-user.target does not pull in ipbanset-reconcile.service"
	grep -q 'Installed new job ipbanset-watch.service/start' <<<"$out" ||
		fail "multi-user.target does not pull in ipbanset-watch.service"
	grep -q 'Installed new job ipbanset-gc.timer/start' <<<"$out" ||
		fail "multi-user.target does not pull in ipbanset-gc.timer"
	grep -q 'Installed new job nftables.service/start' <<<"$out"
	# at the normal log level: not one message about our units, no cycle anywhere
	out=$(SYSTEMD_UNIT_PATH="$etc:$sys:" systemd-analyze verify --man=no multi-user.target 2>&1)
	if grep -iE 'cycle|ipbanset' <<<"$out"; then
		fail "boot transaction problems above"
	fi

	# The same check finds a cycle when there is one: after network.target, which
	# itself comes after network-pre.target, which we must precede.
	sed -i 's/^After=local-fs.target nftables.service$/& network.target/; s/^Wants=network-pre.target$/& network.target/' \
		"$sys/ipbanset-reconcile.service"
	grep -q '^After=.*network.target' "$sys/ipbanset-reconcile.service"
	out=$(SYSTEMD_UNIT_PATH="$etc:$sys:" systemd-analyze verify --man=no multi-user.target 2>&1)
	grep -q 'ordering cycle' <<<"$out" || fail "a deliberate cycle went unnoticed: $out"
}

@test "systemd-analyze security: exposure of every service at most 2.5" {
	local u
	for u in ipbanset-reconcile.service ipbanset-watch.service ipbanset-gc.service; do
		run analyze "$U" security --offline=yes --threshold=25 --no-pager "$U/$u"
		[ "$status" -eq 0 ] || fail "$u: $(tail -n1 <<<"$output")"
	done
}

# ---------------------------------------------------------------- the commands run

@test "ExecStart of ipbanset-reconcile.service restores the bans after nft flush ruleset" {
	ibs_init
	ibs_ok ban -t 1h "$ATK_ADDR" 203.0.113.0/24
	ibs_ok ban -s f2b-sshd -t permanent "$ATK_ADDR6"
	assert_dropped "$ATK_ADDR"
	local before
	before=$(kernel_elements)
	ip netns exec "$SRV" nft flush ruleset
	assert_reachable "$ATK_ADDR"
	assert_reachable "$ATK_ADDR6"

	run --separate-stderr unit_exec ipbanset-reconcile.service ExecStart
	assert_status 0
	[[ $output == *"restored 3"* ]] || fail "reconcile said: $output"
	[ "$(kernel_elements)" = "$before" ]
	assert_dropped "$ATK_ADDR"
	assert_dropped 203.0.113.5
	assert_dropped "$ATK_ADDR6"
	assert_reachable 198.51.100.3
	ibs_ok status --json
	jq_ok '.kernel.in_sync == true'
}

@test "ExecReload after nftables.service reloads a ruleset with flush ruleset: bans back, its tables kept" {
	ibs_init
	ibs_ok ban -t 1h "$ATK_ADDR" 2001:db8:2::/48
	assert_dropped "$ATK_ADDR"
	# what "systemctl reload nftables" does: nft -f /etc/nftables.conf (Debian's default)
	cat >"$WORK/nftables.conf" <<-'EOF'
		flush ruleset
		table inet filter {
			chain input { type filter hook input priority filter; }
			chain forward { type filter hook forward priority filter; }
			chain output { type filter hook output priority filter; }
		}
	EOF
	ip netns exec "$SRV" nft -f "$WORK/nftables.conf"
	refute kernel_has_table
	assert_reachable "$ATK_ADDR"

	run --separate-stderr unit_exec ipbanset-reconcile.service ExecReload
	assert_status 0
	assert_dropped "$ATK_ADDR"
	assert_dropped 2001:db8:2::5
	assert_reachable 198.51.100.3
	ip netns exec "$SRV" nft list chain inet filter input >/dev/null

	# and a second reload of ours, with nothing flushed, changes nothing
	ibs_ok --json reconcile
	jq_ok '.changed == false'
}

@test "ExecStart of ipbanset-gc.service drops expired bans and the set they left empty" {
	ibs_init
	ibs_ok ban -t 2s 198.51.100.3
	ibs_ok ban -t permanent 203.0.113.0/24
	assert_kernel_has v4_32 198.51.100.3
	sleep 3
	assert_reachable 198.51.100.3
	run --separate-stderr unit_exec ipbanset-gc.service ExecStart
	assert_status 0
	[[ $output == *"removed 1 expired ban"* ]] || fail "gc said: $output"
	refute kernel_has_set v4_32
	kernel_has_set v4_24
	assert_dropped 203.0.113.5
	[ "$(list_count)" -eq 1 ]
	# nothing left to do the second time
	run --separate-stderr unit_exec ipbanset-gc.service ExecStart
	[[ $output == *"removed 0 expired bans"* ]] || fail "gc said: $output"
}

@test "ExecStart of ipbanset-watch.service, with only the unit's capabilities, drops the attacker again within 2 s of nft flush ruleset; SIGTERM ends it with 0" {
	ibs_init
	ibs_ok ban -t 1h "$ATK_ADDR"
	ibs_ok ban -s f2b-sshd -t permanent "$ATK_ADDR6"
	local before log="$WORK/watch.log" caps
	before=$(kernel_elements)
	caps=$(unit_bounding_set ipbanset-watch.service)
	[ "$caps" = "-all,+net_admin" ] || fail "bounding set $caps"
	unit_args ipbanset-watch.service ExecStart
	[ "${UNIT_ARGS[*]}" = watch ]

	# As systemd would run it: CapabilityBoundingSet= and NoNewPrivileges=.
	# (ip netns exec and setpriv exec, so $! is the daemon itself.)
	# shellcheck disable=SC2086 # IPBANSET may be a wrapped command line
	ip netns exec "$SRV" setpriv --bounding-set="$caps" --inh-caps=-all --no-new-privs \
		$IPBANSET -d "$DB" -c "$CONF" "${UNIT_ARGS[@]}" >"$log" 2>&1 &
	local pid=$!
	BG_PIDS+=("$pid")
	local _
	for _ in $(seq 100); do
		grep -q '^reconcile:' "$log" && break
		sleep 0.05
	done
	grep -q '^reconcile:' "$log" || fail "watch did not start: $(cat "$log")"
	# it really runs with CAP_NET_ADMIN (bit 12) and nothing else
	grep -qx 'CapBnd:	0000000000001000' "/proc/$pid/status" || fail "$(grep Cap "/proc/$pid/status")"
	grep -qx 'CapEff:	0000000000001000' "/proc/$pid/status" || fail "$(grep Cap "/proc/$pid/status")"
	grep -qx 'NoNewPrivs:	1' "/proc/$pid/status"
	assert_dropped "$ATK_ADDR"

	ip netns exec "$SRV" nft flush ruleset
	local end=$((SECONDS + 2)) dropped=
	while [ "$SECONDS" -le "$end" ]; do
		if ! ping_once "$ATK_ADDR"; then
			dropped=1
			break
		fi
	done
	[ -n "$dropped" ] || fail "packets from $ATK_ADDR still get through 2 s after the flush; log: $(cat "$log")"
	assert_dropped "$ATK_ADDR6"
	assert_reachable 198.51.100.3
	[ "$(kernel_elements)" = "$before" ]
	grep -q 'changed by another program' "$log" || fail "log: $(cat "$log")"
	kill -0 "$pid"

	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "watch exited $rc on SIGTERM: $(cat "$log")"
	grep -q 'watch: stopped' "$log"
	# stopped, it repairs nothing: the bans stay out after another flush
	ip netns exec "$SRV" nft flush ruleset
	sleep 1
	assert_reachable "$ATK_ADDR"
}
