#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# make install / make uninstall into a temporary root: every file, its mode and content,
# the @SBINDIR@ substitution in the units, the configuration that is never overwritten,
# and an uninstall that leaves no file. The installed binary, with the installed example
# configuration, then bans for real in the test's namespaces.

load helper

file_setup() {
	SRCDIR=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	ROOT="$BATS_TEST_TMPDIR/root"
	[ -x "$SRCDIR/ipbanset" ] || fail "no $SRCDIR/ipbanset: run make first"
}

# mk ARGS...: the tree's Makefile. -o ipbanset: install the binary that is there and
# never rebuild it, so an ASan build under test is not replaced by a plain one.
mk() {
	make -s -C "$SRCDIR" -o ipbanset "$@"
}

UNITS="ipbanset-reconcile.service ipbanset-watch.service ipbanset-gc.service ipbanset-gc.timer"

# Where the files of each case must land.
expect_usr() {
	SBINDIR=/usr/sbin MANDIR=/usr/share/man
	BASHCOMPDIR=/usr/share/bash-completion/completions
	ZSHCOMPDIR=/usr/share/zsh/site-functions
	FISHCOMPDIR=/usr/share/fish/vendor_completions.d
	SYSTEMDUNITDIR=/lib/systemd/system SYSCONFDIR=/etc DOCDIR=/usr/share/doc/ipbanset
	VARS=(DESTDIR="$ROOT" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system)
}

# PREFIX=/usr/local with some directories moved; the others follow PREFIX, except
# SYSCONFDIR, which stays /etc (where ipbanset and fail2ban look).
expect_custom() {
	SBINDIR=/opt/ipbanset/bin MANDIR=/opt/ipbanset/man
	BASHCOMPDIR=/etc/bash_completion.d
	ZSHCOMPDIR=/usr/local/share/zsh/site-functions
	FISHCOMPDIR=/opt/ipbanset/fish
	SYSTEMDUNITDIR=/etc/systemd/system SYSCONFDIR=/etc DOCDIR=/opt/ipbanset/doc
	VARS=(DESTDIR="$ROOT" PREFIX=/usr/local SBINDIR="$SBINDIR" MANDIR="$MANDIR"
		BASHCOMPDIR="$BASHCOMPDIR" FISHCOMPDIR="$FISHCOMPDIR"
		SYSTEMDUNITDIR="$SYSTEMDUNITDIR" DOCDIR="$DOCDIR")
}

# "MODE PATH SOURCE" for every file install must put there; nothing else may appear.
expected_files() {
	local u f mode
	echo "755 $SBINDIR/ipbanset ipbanset"
	echo "755 $SBINDIR/ipbanset-import packaging/cron/ipbanset-import"
	echo "644 $MANDIR/man8/ipbanset.8 man/ipbanset.8"
	echo "644 $MANDIR/man8/ipbanset-import.8 man/ipbanset-import.8"
	echo "644 $BASHCOMPDIR/ipbanset completions/ipbanset.bash"
	echo "644 $ZSHCOMPDIR/_ipbanset completions/_ipbanset"
	echo "644 $FISHCOMPDIR/ipbanset.fish completions/ipbanset.fish"
	for u in $UNITS; do
		echo "644 $SYSTEMDUNITDIR/$u packaging/systemd/$u"
	done
	echo "644 $SYSCONFDIR/fail2ban/action.d/ipbanset.conf packaging/fail2ban/action.d/ipbanset.conf"
	echo "600 $SYSCONFDIR/ipbanset/ipbanset.conf packaging/ipbanset.conf"
	echo "644 $DOCDIR/examples/fail2ban/jail.d/ipbanset.conf packaging/fail2ban/jail.d/ipbanset.conf"
	echo "644 $DOCDIR/examples/cron.d/ipbanset-import packaging/cron/ipbanset-import.cron"
	echo "644 $DOCDIR/README.cron packaging/cron/README"
	(cd "$SRCDIR/packaging/ansible" && find . -type f ! -path '*/__pycache__/*' \
		! -name '*.pyc' ! -name '*.retry') | sort | while read -r f; do
		f=${f#./}
		mode=644
		[ -x "$SRCDIR/packaging/ansible/$f" ] && mode=755
		echo "$mode $DOCDIR/examples/ansible/$f packaging/ansible/$f"
	done
}

installed_files() {
	(cd "$ROOT" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort)
}

# An installed unit is its source with @SBINDIR@ replaced in the Exec lines, which
# must name the installed binary.
check_unit() {
	local src=$1 dst=$2 line execs=0
	diff <(grep -v '^Exec' "$src") <(grep -v '^Exec' "$dst") ||
		fail "$dst differs from $src outside its Exec lines"
	diff <(grep '^Exec' "$src" | sed "s|@SBINDIR@|$SBINDIR|g") <(grep '^Exec' "$dst") ||
		fail "$dst: Exec lines not substituted"
	while read -r line; do
		[[ "$line" == *=$SBINDIR/ipbanset\ * ]] || fail "$dst: $line"
		execs=$((execs + 1))
	done < <(grep '^Exec' "$dst")
	if grep -v '^[[:space:]]*[#;]' "$dst" | grep -q '@[A-Z_]*@'; then
		fail "$dst: a placeholder is left: $(grep -n '@[A-Z_]*@' "$dst")"
	fi
	[ "$execs" -ge 1 ] || [[ "$dst" == *.timer ]] || fail "$dst runs nothing"
}

# Every expected file, with its mode and content, and no other file.
check_installed() {
	local mode path src got
	while read -r mode path src; do
		[ -f "$ROOT$path" ] || fail "missing $path" || return 1
		[ ! -L "$ROOT$path" ] || fail "$path is a symlink" || return 1
		got=$(stat -c %a "$ROOT$path")
		[ "$got" = "$mode" ] || fail "$path: mode $got, expected $mode" || return 1
		if [[ "$src" == packaging/systemd/* ]]; then
			check_unit "$SRCDIR/$src" "$ROOT$path" || return 1
		else
			cmp "$SRCDIR/$src" "$ROOT$path" || fail "$path differs from $src" || return 1
		fi
	done < <(expected_files)
	diff -u <(expected_files | awk '{print $2}' | sort) <(installed_files) ||
		fail "the installed files are not the expected ones (-expected +installed)"
}

assert_nothing_installed() {
	local left
	left=$(installed_files)
	[ -z "$left" ] || fail "uninstall left files behind: $left"
}

# assert_timeout_1h SET ADDR: the kernel element has the default timeout, 1h (whole
# seconds, anchored at the ban: the last one may be gone already).
assert_timeout_1h() {
	local t
	t=$(kernel_timeout "$1" "$2")
	if ! [[ "$t" =~ ^[0-9]+$ ]] || [ "$t" -lt 3590 ] || [ "$t" -gt 3600 ]; then
		fail "$1 $2: timeout $t, expected 1h"
	fi
}

# The installed binary with its installed configuration, in the server namespace.
installed_ibs() {
	ip netns exec "$SRV" "$ROOT$SBINDIR/ipbanset" -d "$DB" -c "$ROOT$SYSCONFDIR/ipbanset/ipbanset.conf" "$@"
}

@test "install: PREFIX=/usr puts every file in place with its mode and content" {
	expect_usr
	run mk install "${VARS[@]}"
	assert_status 0
	check_installed
	run "$ROOT/usr/sbin/ipbanset" --version
	assert_status 0
	[ "$output" = "$("$SRCDIR/ipbanset" --version)" ]
	run "$ROOT/usr/sbin/ipbanset-import" --help
	assert_status 0
	[[ "$output" == Usage:* ]]
}

@test "install: PREFIX=/usr/local with custom SBINDIR, MANDIR, completion, unit and doc dirs" {
	expect_custom
	run mk install "${VARS[@]}"
	assert_status 0
	check_installed
	[ ! -e "$ROOT/usr/local/sbin" ] && [ ! -e "$ROOT/usr/local/share/man" ] &&
		[ ! -e "$ROOT/usr/local/lib" ]
	grep -qx "ExecStart=/opt/ipbanset/bin/ipbanset reconcile" "$ROOT/etc/systemd/system/ipbanset-reconcile.service"
	grep -qx "ExecStart=/opt/ipbanset/bin/ipbanset watch" "$ROOT/etc/systemd/system/ipbanset-watch.service"
}

@test "uninstall with the same variables removes every installed file" {
	expect_usr
	mk install "${VARS[@]}"
	run mk uninstall "${VARS[@]}"
	assert_status 0
	assert_nothing_installed
	[ ! -e "$ROOT/etc/ipbanset" ]

	rm -rf "$ROOT"
	expect_custom
	mk install "${VARS[@]}"
	run mk uninstall "${VARS[@]}"
	assert_status 0
	assert_nothing_installed
}

@test "install never overwrites the configuration; uninstall keeps an edited one" {
	expect_usr
	SYSCONFDIR=/srv/etc
	VARS+=(SYSCONFDIR=/srv/etc)
	mk install "${VARS[@]}"
	local conf="$ROOT/srv/etc/ipbanset/ipbanset.conf"
	[ "$(stat -c %a "$conf")" = 600 ]
	[ -f "$ROOT/srv/etc/fail2ban/action.d/ipbanset.conf" ]
	echo "default_timeout = 2h" >>"$conf"
	cp -p "$conf" "$BATS_TEST_TMPDIR/edited"

	run mk install "${VARS[@]}"
	assert_status 0
	[[ "$output" == *"keeping the existing $conf"* ]]
	cmp "$conf" "$BATS_TEST_TMPDIR/edited"

	run mk uninstall "${VARS[@]}"
	assert_status 0
	[[ "$output" == *"keeping the edited $conf"* ]]
	[ "$(installed_files)" = /srv/etc/ipbanset/ipbanset.conf ]
	cmp "$conf" "$BATS_TEST_TMPDIR/edited"
}

@test "the installed binary bans with the installed configuration, which holds the defaults" {
	expect_usr
	mk install "${VARS[@]}"
	local conf="$ROOT/etc/ipbanset/ipbanset.conf"

	# As shipped: every key commented out, accepted as it is (mode 0600, owner root).
	refute grep -Eq '^[[:space:]]*[a-z_]+[[:space:]]*=' "$conf"
	run --separate-stderr installed_ibs init
	assert_status 0
	run --separate-stderr installed_ibs ban "$ATK_ADDR"
	assert_status 0
	assert_dropped "$ATK_ADDR"
	assert_kernel_has v4_32 "$ATK_ADDR"
	assert_timeout_1h v4_32 "$ATK_ADDR"
	run --separate-stderr installed_ibs unban "$ATK_ADDR"
	assert_status 0
	assert_reachable "$ATK_ADDR"

	# Every key of src/config.c is in the example, and uncommented they are the defaults.
	local key keys
	keys=$(sed -n '/^static const char \*const keys\[\]/,/};/p' "$SRCDIR/src/config.c" |
		grep -o '"[a-z_0-9]*"' | tr -d '"')
	[ "$(wc -w <<<"$keys")" -ge 10 ]
	for key in $keys; do
		grep -Eq "^#$key = " "$conf" || fail "key $key is not in the example configuration"
	done
	sed -E 's/^#([a-z_0-9]+ = )/\1/' "$conf" >"$WORK/uncommented.conf"
	chmod 0600 "$WORK/uncommented.conf"
	installed_ibs teardown
	run --separate-stderr ip netns exec "$SRV" "$ROOT/usr/sbin/ipbanset" -d "$DB" \
		-c "$WORK/uncommented.conf" init
	assert_status 0
	kernel_chain | jq -e '.hook == "input" and .prio == -10 and .policy == "accept"' >/dev/null ||
		fail "chain: $(kernel_chain)"
	run --separate-stderr ip netns exec "$SRV" "$ROOT/usr/sbin/ipbanset" -d "$DB" \
		-c "$WORK/uncommented.conf" ban 198.51.100.3
	assert_status 0
	assert_dropped 198.51.100.3
	assert_timeout_1h v4_32 198.51.100.3
	# ... and the example allowlist entry is in force.
	run --separate-stderr ip netns exec "$SRV" "$ROOT/usr/sbin/ipbanset" -d "$DB" \
		-c "$WORK/uncommented.conf" ban 192.0.2.10
	assert_status 3
	assert_reachable 192.0.2.10
}

# first_contact_tree DIR: a copy of the source tree (no build products) with stand-ins for
# a new machine: a pkg-config that knows no library until the deps step has run, and a
# deps step that records its argument and "installs" them.
first_contact_tree() {
	T=$1
	mkdir -p "$T/src" "$T/bin"
	(cd "$SRCDIR" && git ls-files -z | tar --null -T - -cf -) | tar -C "$T/src" -xf -
	cat >"$T/bin/pkg-config" <<-EOF2
		#!/bin/sh
		[ -e "$T/installed" ] || exit 1
		exec /usr/bin/pkg-config "\$@"
	EOF2
	cat >"$T/bin/deps" <<-EOF2
		#!/bin/sh
		echo "deps \$1" >>"$T/deps.log"
		touch "$T/installed"
	EOF2
	chmod +x "$T/bin/pkg-config" "$T/bin/deps"
	# a new user's make: not the flags of a make that runs this suite (CI's WERROR=1,
	# which make also exports to the environment)
	FIRST=(-C "$T/src" PKG_CONFIG="$T/bin/pkg-config" DEPS="$T/bin/deps" CFLAGS=-O0 WERROR=)
	unset MAKEFLAGS MFLAGS MAKELEVEL WERROR
}

@test "a new machine: the first make demo installs the build's packages, then builds, links and runs the demo" {
	first_contact_tree "$BATS_TEST_TMPDIR/fresh"
	# without the libraries, a plain make says what to do instead of failing to link
	run --separate-stderr make "${FIRST[@]}" ipbanset
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"sudo make deps-build"* ]] || fail "no advice: $stderr"
	[ ! -e "$T/src/ipbanset" ]
	run --separate-stderr make "${FIRST[@]}" demo
	assert_status 0
	[ "$(cat "$T/deps.log")" = "deps build" ] || fail "deps ran as: $(cat "$T/deps.log")"
	[[ "$output" == *"(dropped, as expected)"* ]] || fail "the demo did not show the drop: $output"
	"$T/src/ipbanset" --version
}

@test "a new machine: the first make check installs the test packages, then builds and runs the suite" {
	first_contact_tree "$BATS_TEST_TMPDIR/fresh"
	printf '#!/bin/sh\necho "suite ran in $PWD"; ls tests/unit/test_addr ipbanset\n' >"$T/bin/run-all"
	chmod +x "$T/bin/run-all"
	run --separate-stderr make "${FIRST[@]}" RUN_ALL="$T/bin/run-all" check
	assert_status 0
	[ "$(cat "$T/deps.log")" = "deps test" ] || fail "deps ran as: $(cat "$T/deps.log")"
	[[ "$output" == *"suite ran in $T/src"* ]] || fail "the suite did not run: $output"
	"$T/src/tests/unit/test_addr" >/dev/null
	"$T/src/ipbanset" --version
}
