#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The systemd units under a live systemd: builds the Debian package from the tree as it
# is, installs it into a minimal Debian root (mmdebstrap, cached), boots that root's
# systemd in private namespaces (mount, PID, network, UTS, IPC, cgroup; see boot.sh),
# and drives it with systemctl through nsenter. The units run in that systemd's network
# namespace, so the nftables they change are its own; the host's ruleset is compared
# before and after.
#
#   sudo make check-systemd            (or, once built: sudo tests/systemd/run.sh)
#
# Checks: the reconcile unit restores the bans after "nft flush ruleset" (start,
# restart, reload, and a restart of nftables.service); the watch unit repairs a flush
# and a deleted table within 2 s, runs with CAP_NET_ADMIN alone on a read-only root,
# comes back after a SIGKILL and stops cleanly; the gc timer is scheduled and the gc
# unit runs; every run ends with Result=success and exit status 0. Then the same root
# boots again, as after a reboot: the enabled units restore the bans before
# network-pre.target, watch and the timer are up, and no unit failed.
#
# Runs for one to two minutes once the Debian tree is cached (the first run adds
# mmdebstrap's minute or more). Not part of make check nor of CI.
#
# Ends with one line "N passed, N failed"; exit 1 if any failed, 2 if it could not run.
#
# IBS_SYSTEMD_CACHE: where the Debian tree is kept between runs (default
#   tests/systemd/.cache); remove it to make a new one.
# IBS_SYSTEMD_KEEP=1: keep the temporary directory under /var/tmp (boot.log, deb.log,
#   journal.txt, the root's upper layer).
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
SUITE=bookworm
INCLUDE=systemd,systemd-sysv,dbus,nftables,libmnl0,libnftnl11,libipset13,libsqlite3-0
CACHE=${IBS_SYSTEMD_CACHE:-$here/.cache}

start_time=$(date +%s)
say() { echo "== $*"; }
die() {
	echo "run.sh: $*" >&2
	exit 2
}

[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, mounts, chroot)"

# --- what this needs on the host ---------------------------------------------------------
need=()
for p in mmdebstrap dpkg-dev debhelper fakeroot git nftables util-linux; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
	say "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" ||
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends "${need[@]}"; } || die "could not install ${need[*]}"
fi

TMP=$(mktemp -d /var/tmp/ipbanset-systemd.XXXXXX) || die "mktemp failed"
CG=
UNSHARE_PID=
PID=

# --- clean-up, whatever happens ----------------------------------------------------------
# halt: the namespace's PID 1 killed, which kills every process of the namespace; the
# mount namespace, with all the mounts boot.sh made, goes with them. Then the cgroups
# systemd made, deepest first (they empty a moment after the kill).
halt() {
	local i
	if [ -n "$PID" ] && [ -d "/proc/$PID" ]; then kill -KILL "$PID" 2>/dev/null; fi
	if [ -n "$UNSHARE_PID" ]; then
		for i in $(seq 50); do
			kill -0 "$UNSHARE_PID" 2>/dev/null || break
			# boot.sh failed before systemd: its bash is the namespace's PID 1
			[ "$i" = 10 ] && kill_children "$UNSHARE_PID"
			sleep 0.1
		done
		wait "$UNSHARE_PID" 2>/dev/null
	fi
	PID=''
	UNSHARE_PID=
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		for i in $(seq 50); do
			find "$CG" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			rmdir "$CG" 2>/dev/null && break
			sleep 0.1
		done
		[ -d "$CG" ] && echo "run.sh: could not remove the cgroup $CG" >&2
	fi
}
cleanup() {
	halt
	if findmnt -rn -o TARGET | grep -q "^$TMP"; then
		echo "run.sh: something is still mounted under $TMP; left in place" >&2
	elif [ "${IBS_SYSTEMD_KEEP:-0}" = 1 ]; then
		echo "run.sh: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
# the direct children of a process, by number (never by name)
kill_children() {
	local c
	for c in $(tr ' ' '\n' <"/proc/$1/task/$1/children" 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP PIPE

# The host, to compare at the end: its ruleset, and the global settings a system
# manager likes to change.
host_state() {
	nft list ruleset
	hostname
	cat /proc/sys/fs/file-max /proc/sys/fs/nr_open /proc/sys/kernel/pid_max
}
host_state >"$TMP/host.before" 2>&1

# --- the Debian tree, cached -------------------------------------------------------------
key="$SUITE minbase $INCLUDE"
if [ ! -f "$CACHE/tree.ok" ] || [ "$(cat "$CACHE/tree.ok")" != "$key" ]; then
	say "mmdebstrap $SUITE into $CACHE/tree (once; about a minute)"
	rm -rf "$CACHE/tree" "$CACHE/tree.new" "$CACHE/tree.ok"
	mkdir -p "$CACHE"
	mmdebstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$CACHE/tree.new" \
		>"$CACHE/mmdebstrap.log" 2>&1 || {
		tail -n 20 "$CACHE/mmdebstrap.log" >&2
		die "mmdebstrap failed (log: $CACHE/mmdebstrap.log)"
	}
	mv "$CACHE/tree.new" "$CACHE/tree"
	echo "$key" >"$CACHE/tree.ok"
else
	say "Debian tree from the cache ($CACHE/tree)"
fi

# --- the package, from the tree as it is (as tests/26-packages.bats builds it) -----------
say "dpkg-buildpackage"
DEB_VERSION=$(dpkg-parsechangelog -l "$srcdir/packaging/debian/changelog" -S Version) ||
	die "cannot read packaging/debian/changelog"
UPSTREAM=${DEB_VERSION%-*}
b=$TMP/deb/ipbanset-$UPSTREAM
mkdir -p "$b"
{
	git -C "$srcdir" ls-files --cached --others --exclude-standard
	git -C "$srcdir" ls-files --others --ignored --exclude-standard -- packaging
} | sort -u | while read -r f; do [ -e "$srcdir/$f" ] && printf '%s\n' "$f"; done >"$TMP/files"
tar -C "$srcdir" -cf - -T "$TMP/files" | tar -C "$b" -xf -
cp -a "$b/packaging/debian" "$b/debian"
# nocheck: the unit tests are make unit's business, not this file's
(cd "$b" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u CFLAGS -u LDFLAGS -u CPPFLAGS \
	DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" DEBIAN_FRONTEND=noninteractive \
	dpkg-buildpackage -us -uc -b >"$TMP/deb.log" 2>&1) || {
	tail -n 30 "$TMP/deb.log" >&2
	die "dpkg-buildpackage failed"
}
DEB=$TMP/deb/ipbanset_${DEB_VERSION}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || die "no $DEB"

# --- boot ---------------------------------------------------------------------------------
CG2=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
[ -n "$CG2" ] || die "no cgroup2 file system mounted on this host"
mkdir -p "$TMP/upper" "$TMP/work" "$TMP/root"
# The cgroup of a run killed outright (its namespace died with it; see boot below), if
# that run's process is gone. A cgroup that still holds a process is not removed.
for d in "$CG2"/ipbanset-systemd-check.*; do
	if [ ! -d "$d" ] || [ -e "/proc/${d##*.}" ]; then continue; fi
	find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
	rmdir "$d" 2>/dev/null && echo "run.sh: removed the cgroup $d, left by a killed run"
done

# boot DEB|-: systemd started in new namespaces on the overlay of the tree and
# $TMP/upper (DEB installed first; "-" boots what the upper layer holds, a reboot).
# Sets PID (the namespace's PID 1, as the host numbers it) and STATE (what
# is-system-running says once the boot is over).
boot() {
	# A cgroup of its own, which becomes the root of the namespace's cgroup tree: the
	# cgroups systemd makes stay below it, and are removed with it.
	CG=$CG2/ipbanset-systemd-check.$$
	mkdir "$CG" || die "cannot make the cgroup $CG"
	# Into the cgroup first, then unshare: the new cgroup namespace is rooted there.
	# Should this script be killed outright (no trap runs), unshare dies with it
	# (--pdeathsig) and takes the namespace's PID 1 along (--kill-child).
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' cg "$CG" \
		setpriv --pdeathsig KILL \
		unshare --mount --propagation private --pid --net --uts --ipc --cgroup --fork \
		--kill-child=SIGKILL \
		"$here/boot.sh" "$CACHE/tree" "$TMP/upper" "$TMP/work" "$TMP/root" "$1" \
		>>"$TMP/boot.log" 2>&1 &
	UNSHARE_PID=$!

	# the namespace's PID 1 is unshare's only child
	local _
	for _ in $(seq 100); do
		PID=$(awk '{ print $1 }' "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null)
		[ -n "$PID" ] && break
		sleep 0.1
	done
	[ -n "$PID" ] || { cat "$TMP/boot.log" >&2; die "unshare did not start"; }

	# systemd is there once boot.sh has exec'd it, and its private socket answers
	for _ in $(seq 600); do
		kill -0 "$UNSHARE_PID" 2>/dev/null || { cat "$TMP/boot.log" >&2; die "boot failed"; }
		[ "$(cat "/proc/$PID/comm" 2>/dev/null)" = systemd ] &&
			ns systemctl show -p Version --value >/dev/null 2>&1 && break
		sleep 0.1
	done
	STATE=$(timeout 120 nsenter -t "$PID" -a -r -w systemctl is-system-running --wait 2>&1)
}
ns() { nsenter -t "$PID" -a -r -w "$@"; }

say "booting systemd in private namespaces"
boot "$DEB"

# --- checks -------------------------------------------------------------------------------
passed=0
failed=0
# check NAME COMMAND...: one line per check; what a failing command says is shown
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
		# shellcheck disable=SC2001
		[ -n "$out" ] && sed 's/^/#   /' <<<"$out"
	fi
}
# prop UNIT PROPERTY: its value
prop() { ns systemctl show -p "$2" --value "$1"; }
# unit_ok UNIT: the last run ended well (Result=success, exit status 0)
unit_ok() {
	local r s
	r=$(prop "$1" Result) s=$(prop "$1" ExecMainStatus)
	[ "$r" = success ] && [ "$s" = 0 ] && return 0
	echo "$1: Result=$r ExecMainStatus=$s"
	ns journalctl -b --no-pager -n 20 -u "$1"
	return 1
}
unit_state_is() { # UNIT ActiveState
	local a
	a=$(prop "$1" ActiveState)
	[ "$a" = "$2" ] || { echo "$1: ActiveState=$a, not $2"; ns journalctl -b --no-pager -n 20 -u "$1"; return 1; }
}

# is PROPERTY UNIT VALUE: the unit's property has that value
is() {
	local v
	v=$(prop "$2" "$1")
	[ "$v" = "$3" ] || { echo "$2: $1=$v, not $3"; return 1; }
}
# elapse_set TIMER: the timer has a next elapse
elapse_set() {
	local v
	v=$(prop "$1" NextElapseUSecRealtime)
	if [ -n "$v" ] && [ "$v" != 0 ]; then return 0; fi
	echo "$1: NextElapseUSecRealtime=$v"
	return 1
}
# grep_in PATTERN COMMAND...: the command's output has a line that matches (ERE)
grep_in() {
	local pat=$1 out
	shift
	out=$("$@" 2>&1) || { echo "$out"; return 1; }
	grep -Eq -- "$pat" <<<"$out" || { echo "$out"; return 1; }
}
# none_in PATTERN COMMAND...: no line of its output matches (ERE); they are shown if one does
none_in() {
	local pat=$1 out
	shift
	out=$("$@" 2>&1) || { echo "$out"; return 1; }
	! grep -E -- "$pat" <<<"$out"
}
# the watch daemon's process, by its number in the namespace's PID namespace
watch_pid() { prop ipbanset-watch.service MainPID; }
proc_of() { ns cat "/proc/$1/$2"; }

BANS="192.0.2.1 198.51.100.0/24 2001:db8::1 2001:db8:bad::/48"
# has_bans: the table holds every ban (the set of each prefix length, with the address)
has_bans() {
	local t a re missing=
	t=$(ns nft list table inet ipbanset 2>&1) || { echo "no table inet ipbanset: $t"; return 1; }
	for a in $BANS; do
		# "198.51.100.0/24" is 198.51.100.0 in the set of /24s, shown with or without "/24"
		re=${a%/*}
		re=${re//./\\.}
		grep -Eq "(^|[^0-9a-f:.])$re([^0-9a-f:./]|/${a#*/}|$)" <<<"$t" || missing="$missing $a"
	done
	[ -z "$missing" ] && return 0
	echo "missing:$missing"
	echo "$t"
	return 1
}
# flush: nothing is left in the namespace's ruleset
flush() { ns nft flush ruleset && [ -z "$(ns nft list ruleset)" ]; }
# The handle of the table: a table made again has a new one. watch repairs too soon to
# see the ruleset empty, so a new handle is how a check knows the flush happened.
table_handle() { ns nft -a list table inet ipbanset 2>/dev/null | sed -n '1s/.*# handle \([0-9]*\).*/\1/p'; }
# repaired OLD_HANDLE: the table is a new one, with every ban
repaired() {
	local h
	h=$(table_handle)
	if [ -z "$h" ] || [ "$h" = "$1" ]; then
		echo "table handle ${h:-none} (was $1)"
		return 1
	fi
	has_bans
}
# within SECONDS COMMAND...: true once COMMAND is, polled every 0.1 s
within() {
	local end=$(($(date +%s%N) + $1 * 1000000000)) out
	shift
	while :; do
		out=$("$@" 2>&1) && return 0
		[ "$(date +%s%N)" -lt "$end" ] || break
		sleep 0.1
	done
	echo "$out"
	return 1
}
booted() {
	[ "$STATE" = running ] && return 0
	echo "is-system-running: $STATE"
	ns systemctl --failed --no-pager
	return 1
}
# unit_files: how the package left them (gc.service has no [Install]: the timer starts it)
unit_files() {
	local u s
	for u in ipbanset-reconcile.service:disabled ipbanset-watch.service:disabled \
		ipbanset-gc.service:static ipbanset-gc.timer:disabled; do
		s=$(ns systemctl is-enabled "${u%:*}" 2>&1)
		[ "$s" = "${u#*:}" ] || { echo "${u%:*}: $s, not ${u#*:}"; return 1; }
	done
}
# confined PID: CAP_NET_ADMIN is all it has and may get, no new privileges, a seccomp filter
confined() {
	local s
	s=$(proc_of "$1" status) || return 1
	grep -q "^CapBnd:[[:space:]]*0000000000001000$" <<<"$s" &&
		grep -q "^CapEff:[[:space:]]*0000000000001000$" <<<"$s" &&
		grep -q "^NoNewPrivs:[[:space:]]*1$" <<<"$s" &&
		grep -q "^Seccomp:[[:space:]]*2$" <<<"$s" && return 0
	grep -E "^(Cap...|NoNewPrivs|Seccomp):" <<<"$s"
	return 1
}
# read_only_but_state PID: / is mounted read-only for it, /var/lib/ipbanset read-write
read_only_but_state() {
	local m
	m=$(proc_of "$1" mountinfo) || return 1
	awk '$5 == "/" { print $6 }' <<<"$m" | grep -q '^ro' &&
		awk '$5 == "/var/lib/ipbanset" { print $6 }' <<<"$m" | grep -q '^rw' && return 0
	awk '{ print $5, $6 }' <<<"$m"
	return 1
}
# new_invocation UNIT OLD_ID: the unit ran again since (another InvocationID), and is active
new_invocation() {
	local i a
	i=$(prop "$1" InvocationID) a=$(prop "$1" ActiveState)
	if [ -n "$i" ] && [ "$i" != "$2" ] && [ "$a" = active ]; then return 0; fi
	echo "$1: InvocationID=$i (was $2) ActiveState=$a"
	return 1
}
# signal_watch SIGNAL PID: kill -SIGNAL PID in the namespace (no kill(1) there: sh's),
# never with a PID 0 or -1, which would signal a group
signal_watch() {
	[[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "no main process: MainPID=$2"; return 1; }
	ns sh -c "kill -$1 $2"
}
# restarted OLD_PID: watch runs again, as another process
restarted() {
	local p a
	p=$(watch_pid) a=$(prop ipbanset-watch.service ActiveState)
	if [ "${p:-0}" -gt 0 ] && [ "$p" != "$1" ] && [ "$a" = active ]; then return 0; fi
	echo "MainPID=$p (was $1) ActiveState=$a"
	return 1
}
# before_network: reconcile was done before network-pre.target was reached
before_network() {
	local r n
	r=$(prop ipbanset-reconcile.service ActiveEnterTimestampMonotonic)
	n=$(prop network-pre.target ActiveEnterTimestampMonotonic)
	if [ "${r:-0}" -gt 0 ] && [ "${n:-0}" -gt 0 ] && [ "$r" -le "$n" ]; then return 0; fi
	echo "reconcile active at ${r:-?} us, network-pre.target at ${n:-?} us"
	return 1
}

check "systemd boots in the namespaces ($STATE)" booted
check "the package installed the four units, none enabled" unit_files
check "the namespace's ruleset starts empty" none_in . ns nft list ruleset

# (a) the reconcile unit
# shellcheck disable=SC2086
check "ban with the journal (ipbanset ban, outside any unit)" ns ipbanset ban -t 1d -r systemd-check $BANS
check "the bans are in the kernel" has_bans
check "nft flush ruleset empties the namespace's ruleset" flush
check "systemctl start ipbanset-reconcile.service" ns systemctl start ipbanset-reconcile.service
check "reconcile: Result=success, exit status 0" unit_ok ipbanset-reconcile.service
check "reconcile: active (exited) after the run" unit_state_is ipbanset-reconcile.service active
check "reconcile restored the bans" has_bans
check "nft flush ruleset again" flush
check "systemctl restart ipbanset-reconcile.service" ns systemctl restart ipbanset-reconcile.service
check "restart: Result=success, exit status 0" unit_ok ipbanset-reconcile.service
check "the restart restored the bans" has_bans
check "nft flush ruleset again" flush
check "systemctl reload ipbanset-reconcile.service (ExecReload=)" ns systemctl reload ipbanset-reconcile.service
check "the reload restored the bans" has_bans
# With the unit enabled, nftables.service (Debian's, /etc/nftables.conf begins with
# "flush ruleset") takes it along: PartOf= restarts it after the ruleset is loaded.
check "systemctl enable ipbanset-reconcile.service" ns systemctl enable --quiet ipbanset-reconcile.service
inv=$(prop ipbanset-reconcile.service InvocationID)
check "systemctl restart nftables.service" ns systemctl restart nftables.service
check "nftables.service loaded its ruleset (table inet filter)" ns nft list table inet filter
# (systemctl waits for nftables.service's job, not for the restart it propagates)
check "the restart of nftables.service restarted reconcile (a new invocation, active)" \
	within 10 new_invocation ipbanset-reconcile.service "$inv"
check "the restart of nftables.service restarted reconcile, which restored the bans" has_bans
check "reconcile: Result=success after the nftables.service restart" unit_ok ipbanset-reconcile.service
check "systemctl stop ipbanset-reconcile.service" ns systemctl stop ipbanset-reconcile.service
check "reconcile: inactive, not failed, after stop" unit_state_is ipbanset-reconcile.service inactive

# (b) the watch unit repairs
check "systemctl enable --now ipbanset-watch.service" ns systemctl enable --quiet --now ipbanset-watch.service
check "watch: active (running)" within 5 unit_state_is ipbanset-watch.service active
check "watch: the bans are in the kernel" within 5 has_bans
h=$(table_handle)
check "watch: nft flush ruleset" ns nft flush ruleset
check "watch made the table again, with the bans, within 2 s" within 2 repaired "$h"
h=$(table_handle)
check "watch: nft delete table inet ipbanset" ns nft delete table inet ipbanset
check "watch made the deleted table again, with the bans, within 2 s" within 2 repaired "$h"
# (e) the hardening is in force in the running process, and lets it work
wpid=$(watch_pid)
check "watch: CAP_NET_ADMIN is its only capability, no new privileges, a seccomp filter" confined "$wpid"
check "watch: the file system is read-only but for /var/lib/ipbanset" read_only_but_state "$wpid"

# (c) a crash, then a clean stop (MainPID is a number in the namespace's PID namespace:
# the kill is sent from there)
check "watch: MainPID is a process ($wpid)" signal_watch 0 "$wpid"
check "kill -9 the watch daemon" signal_watch KILL "$wpid"
# Restart=on-failure, RestartSec=5s
check "watch came back with a new PID, active, within 10 s" within 10 restarted "$wpid"
check "watch: NRestarts=1" is NRestarts ipbanset-watch.service 1
h=$(table_handle)
check "the restarted watch: nft flush ruleset" ns nft flush ruleset
check "the restarted watch made the table again, with the bans, within 2 s" within 2 repaired "$h"
check "systemctl stop ipbanset-watch.service" ns systemctl stop ipbanset-watch.service
check "watch: inactive after stop" unit_state_is ipbanset-watch.service inactive
check "watch: not failed after stop" none_in '^failed$' ns sh -c 'systemctl is-failed ipbanset-watch.service; true'
check "watch: the stop ended with Result=success, exit status 0" unit_ok ipbanset-watch.service

# (d) the gc timer and service
check "systemctl enable --now ipbanset-gc.timer" ns systemctl enable --quiet --now ipbanset-gc.timer
check "gc.timer: active (waiting)" unit_state_is ipbanset-gc.timer active
check "list-timers shows ipbanset-gc.timer with a next elapse" \
	grep_in '^[A-Z][a-z]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} .* ipbanset-gc\.timer +ipbanset-gc\.service' \
	ns systemctl list-timers --no-pager --no-legend ipbanset-gc.timer
check "gc.timer: NextElapseUSecRealtime is set" elapse_set ipbanset-gc.timer
# one ban that expires at once, for gc to drop
check "ban 203.0.113.9 for 1 s" ns ipbanset ban -t 1 -r gc-check 203.0.113.9
sleep 2
check "systemctl start ipbanset-gc.service" ns systemctl start ipbanset-gc.service
check "gc: Result=success, exit status 0" unit_ok ipbanset-gc.service
check "gc: inactive (dead), a oneshot without RemainAfterExit" unit_state_is ipbanset-gc.service inactive
check "gc dropped the expired ban from the journal" none_in '203\.0\.113\.9' ns ipbanset list
check "gc left the other bans" grep_in '192\.0\.2\.1' ns ipbanset list
check "no ipbanset unit failed" none_in . ns systemctl list-units --failed --no-legend --plain 'ipbanset*'

# --- a reboot: the three units enabled, the bans back at boot -----------------------------
# The same root (journal, enablement) booted again in new namespaces: a new network
# namespace, whose ruleset is empty, as after a real reboot.
say "rebooting: the same root in new namespaces"
halt
boot -
check "systemd boots again ($STATE)" booted
check "the new network namespace's bans were restored at boot" has_bans
check "reconcile ran at boot: Result=success, exit status 0" unit_ok ipbanset-reconcile.service
check "reconcile: active (exited)" unit_state_is ipbanset-reconcile.service active
# Before=network-pre.target: the bans are in before any interface is configured
check "reconcile was done before network-pre.target was reached" before_network
check "watch started at boot and runs" unit_state_is ipbanset-watch.service active
check "watch at boot: NRestarts=0" is NRestarts ipbanset-watch.service 0
h=$(table_handle)
check "watch at boot: nft flush ruleset" ns nft flush ruleset
check "watch at boot made the table again, with the bans, within 2 s" within 2 repaired "$h"
check "gc.timer active at boot" unit_state_is ipbanset-gc.timer active
check "gc.timer at boot: a next elapse" elapse_set ipbanset-gc.timer
# (the journal holds both boots: they share the host's boot ID)
check "no ordering cycle at either boot" \
	none_in 'ordering cycle|deleted to break' ns journalctl -b --no-pager -o cat _PID=1
check "systemd had nothing to say about the ipbanset units' files" \
	none_in 'ipbanset[^ ]*\.(service|timer):[0-9]+:' ns journalctl -b --no-pager -o cat _PID=1
check "no unit of the namespace failed after the reboot" \
	none_in . ns systemctl list-units --failed --no-legend --plain
# for IBS_SYSTEMD_KEEP=1
ns journalctl -b --no-pager >"$TMP/journal.txt" 2>&1

# --- the host -----------------------------------------------------------------------------
halt
host_state >"$TMP/host.after" 2>&1
check "the host's ruleset and global settings are as they were" diff "$TMP/host.before" "$TMP/host.after"

[ "$failed" -eq 0 ] || [ "${IBS_SYSTEMD_KEEP:-0}" = 1 ] ||
	echo "# IBS_SYSTEMD_KEEP=1 keeps the logs: boot.log, deb.log, journal.txt (systemd's journal)"
echo "$passed passed, $failed failed ($(($(date +%s) - start_time)) s)"
[ "$failed" -eq 0 ]
