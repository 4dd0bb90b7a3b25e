#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package and the RPM, built from a copy of the tree: lintian has no error;
# the .deb installs (conffiles, no unit started), its ipbanset bans for real with the
# shipped configuration and the default journal, and a purge removes every trace; the
# .rpm holds the same files, its configuration %config(noreplace) with mode 0600.
#
# The machine is changed for real (dpkg -i, then dpkg --purge): this file refuses to
# run where ipbanset is installed already, and cleans up in teardown.

load helper

# The two builds take most of this file's time: run them once, side by side.
setup_file() {
	local srcdir list
	srcdir=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	PKG=$BATS_FILE_TMPDIR/pkg
	DEB_DIR=$PKG/deb
	RPM_TOP=$PKG/rpm
	export PKG DEB_DIR RPM_TOP
	mkdir -p "$DEB_DIR" "$RPM_TOP/tmp"

	# The tree as it is, not as committed: tracked and new files (not build output),
	# and everything under packaging/, where .gitignore's "*.d" would hide action.d/.
	list=$PKG/files
	{
		git -C "$srcdir" ls-files --cached --others --exclude-standard
		git -C "$srcdir" ls-files --others --ignored --exclude-standard -- packaging
	} | sort -u >"$list"
	DEB_VERSION=$(dpkg-parsechangelog -l "$srcdir/packaging/debian/changelog" -S Version)
	UPSTREAM=${DEB_VERSION%-*}
	export DEB_VERSION UPSTREAM

	mkdir "$DEB_DIR/ipbanset-$UPSTREAM"
	tar -C "$srcdir" -cf - -T "$list" | tar -C "$DEB_DIR/ipbanset-$UPSTREAM" -xf -
	cp -a "$DEB_DIR/ipbanset-$UPSTREAM/packaging/debian" "$DEB_DIR/ipbanset-$UPSTREAM/debian"
	tar -C "$DEB_DIR" -czf "$RPM_TOP/ipbanset-$UPSTREAM.tar.gz" "ipbanset-$UPSTREAM"

	# Not the make (or sanitizer) settings of a surrounding "make check".
	local clean_env=(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u CFLAGS -u LDFLAGS -u CPPFLAGS
		-u DEB_BUILD_OPTIONS DEBIAN_FRONTEND=noninteractive)
	(cd "$DEB_DIR/ipbanset-$UPSTREAM" &&
		"${clean_env[@]}" timeout 600 dpkg-buildpackage -us -uc -b >"$PKG/deb.log" 2>&1
		echo $? >"$PKG/deb.rc") &
	# Debian's rpm lacks the BuildRequires packages by their RPM names: --nodeps.
	(cd "$RPM_TOP" &&
		"${clean_env[@]}" timeout 600 rpmbuild -bb --nodeps --define "_topdir $RPM_TOP" \
			--define "_sourcedir $RPM_TOP" --define "_tmppath $RPM_TOP/tmp" \
			"$srcdir/packaging/rpm/ipbanset.spec" >"$PKG/rpm.log" 2>&1
		echo $? >"$PKG/rpm.rc") &
	wait
}

# helper.bash's teardown, kept under another name for the one below to call.
eval "helper_$(declare -f teardown)"

# Put the machine back: the package purged (with its journal), policy-rc.d as it was.
teardown() {
	if [ -n "${INSTALLED_HERE:-}" ]; then
		dpkg --purge ipbanset >/dev/null 2>&1 || true
		rm -rf /var/lib/ipbanset
	fi
	if [ -n "${POLICY_SAVED:-}" ]; then
		if [ -e "$POLICY_SAVED" ]; then
			cp -p "$POLICY_SAVED" /usr/sbin/policy-rc.d
		else
			rm -f /usr/sbin/policy-rc.d
		fi
	fi
	helper_teardown
}

# build_ok deb|rpm: the build exited 0 (else show its log's end).
build_ok() {
	local rc
	rc=$(cat "$PKG/$1.rc" 2>/dev/null || echo none)
	if [ "$rc" != 0 ]; then
		tail -n 40 "$PKG/$1.log" >&2
		fail "the $1 build failed (exit $rc); log above"
	fi
}

deb_file() {
	echo "$DEB_DIR/ipbanset_${DEB_VERSION}_$(dpkg --print-architecture).deb"
}

rpm_file() {
	local f
	f=$(find "$RPM_TOP/RPMS" -name "ipbanset-$UPSTREAM-*.rpm" | head -n1)
	[ -n "$f" ] && echo "$f"
}

# The files every package must hold (units where debhelper 13 on bookworm wants them).
DEB_FILES="/usr/sbin/ipbanset /usr/sbin/ipbanset-import /usr/share/man/man8/ipbanset.8.gz
/usr/share/man/man8/ipbanset-import.8.gz
/usr/share/bash-completion/completions/ipbanset /usr/share/zsh/site-functions/_ipbanset
/usr/share/fish/vendor_completions.d/ipbanset.fish /etc/fail2ban/action.d/ipbanset.conf
/etc/ipbanset/ipbanset.conf /lib/systemd/system/ipbanset-reconcile.service
/lib/systemd/system/ipbanset-watch.service
/lib/systemd/system/ipbanset-gc.service /lib/systemd/system/ipbanset-gc.timer
/usr/share/doc/ipbanset/examples/fail2ban/jail.d/ipbanset.conf
/usr/share/doc/ipbanset/examples/cron.d/ipbanset-import"

@test "deb: dpkg-buildpackage builds a package with the library dependencies" {
	build_ok deb
	[ -f "$(deb_file)" ] || fail "no $(deb_file): $(ls "$DEB_DIR")"
	run dpkg-deb -f "$(deb_file)" Version Depends Recommends Suggests
	assert_status 0
	[[ "$output" == *"Version: $DEB_VERSION"* ]]
	local lib
	for lib in libc6 libipset13 libmnl0 libnftnl11 libsqlite3-0; do
		[[ "$output" == *"$lib "* ]] || fail "Depends lacks $lib: $output"
	done
	[[ "$output" == *"Suggests: fail2ban"* ]]
	# the build ran the unit tests (dh_auto_test), and they passed
	grep -qE '^test_plan: [0-9]+ passed, 0 failed' "$PKG/deb.log"
}

@test "deb: lintian reports no error, and the overrides are in force; every program has its manual page" {
	build_ok deb
	run lintian --tag-display-limit 0 "$DEB_DIR/ipbanset_${DEB_VERSION}_$(dpkg --print-architecture).changes"
	echo "$output" >&2
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "lintian failed to run (exit $status)"
	refute grep -q '^E:' <<<"$output"
	refute grep -q 'non-standard-file-perm' <<<"$output"
	refute grep -q 'systemd-service-file-refers-to-unusual-wantedby-target' <<<"$output"
	refute grep -q 'no-manual-page' <<<"$output"
	refute grep -q 'manpage-has' <<<"$output"
	# nothing about the copyright file or a licence (extra-license-file, a DEP-5 mistake)
	refute grep -Eqi 'copyright|licen[cs]e' <<<"$output"
}

@test "deb: the binary is hardened, reports the package version, and the units name it" {
	build_ok deb
	local x=$BATS_TEST_TMPDIR/x
	dpkg-deb -x "$(deb_file)" "$x"
	run hardening-check --nocfprotection "$x/usr/sbin/ipbanset"
	assert_status 0
	run "$x/usr/sbin/ipbanset" --version
	assert_status 0
	[ "$output" = "ipbanset $UPSTREAM" ]
	grep -qx 'ExecStart=/usr/sbin/ipbanset reconcile' "$x/lib/systemd/system/ipbanset-reconcile.service"
	grep -qx 'ExecStart=/usr/sbin/ipbanset gc' "$x/lib/systemd/system/ipbanset-gc.service"
	grep -qx 'ExecStart=/usr/sbin/ipbanset watch' "$x/lib/systemd/system/ipbanset-watch.service"
	[ "$(stat -c %a "$x/etc/ipbanset/ipbanset.conf")" = 600 ]
	# No maintainer script starts a unit, nor stops one for an upgrade (--no-start, and
	# --no-stop-on-upgrade, which would leave an enabled timer stopped). The only unit
	# actions: the watch daemon is try-restarted (restarted only if it runs) after an
	# upgrade, and stopped when the package is removed.
	dpkg-deb -e "$(deb_file)" "$x/DEBIAN.ctl"
	local script actions
	actions=$(cd "$x/DEBIAN.ctl" && for script in preinst postinst prerm postrm; do
		[ -f "$script" ] || continue
		grep -E 'deb-systemd-invoke|invoke-rc.d|systemctl.*(start|stop|restart)' "$script" |
			sed "s|^[[:space:]]*|$script: |"
	done)
	[ "$actions" = "postinst: deb-systemd-invoke try-restart 'ipbanset-watch.service' >/dev/null || true
prerm: deb-systemd-invoke stop ipbanset-watch.service >/dev/null || true" ] ||
		fail "unexpected unit actions in the maintainer scripts: $actions"
	# ... the first only on an upgrade ($2, the old version, set), the second only on remove
	grep -B3 'deb-systemd-invoke try-restart' "$x/DEBIAN.ctl/postinst" | grep -q 'if \[ -n "\$2" \]'
	grep -B1 'deb-systemd-invoke stop' "$x/DEBIAN.ctl/prerm" | grep -q '\[ "\$1" = "remove" \]'
	# every unit is known to deb-systemd-helper, so a purge forgets its state
	grep -q "deb-systemd-helper purge.*'ipbanset-watch.service'" "$x/DEBIAN.ctl/postrm"
	grep -q 'rm -rf /var/lib/ipbanset' "$x/DEBIAN.ctl/postrm"
}

@test "deb: dpkg -i installs it without starting a unit, it bans, dpkg --purge removes it" {
	build_ok deb
	if dpkg-query -W -f='${db:Status-Status}' ipbanset 2>/dev/null | grep -qv '^not-installed$'; then
		fail "ipbanset is installed on this machine; this test would purge it: remove it first"
	fi
	local p
	for p in /usr/sbin/ipbanset /etc/ipbanset /var/lib/ipbanset; do
		[ ! -e "$p" ] || fail "$p exists already; this test would install over or purge it"
	done

	POLICY_SAVED=$BATS_TEST_TMPDIR/policy-rc.d.saved
	if [ -e /usr/sbin/policy-rc.d ]; then cp -p /usr/sbin/policy-rc.d "$POLICY_SAVED"; fi
	printf '#!/bin/sh\n# ipbanset tests: start no service\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d

	INSTALLED_HERE=1
	run env DEBIAN_FRONTEND=noninteractive dpkg -i "$(deb_file)"
	assert_status 0
	run dpkg-query -W -f='${db:Status-Status}' ipbanset
	[ "$output" = installed ]

	run dpkg -L ipbanset
	assert_status 0
	for p in $DEB_FILES; do
		grep -qx "$p" <<<"$output" || fail "dpkg -L ipbanset lacks $p"
	done
	run dpkg-query -W -f='${Conffiles}\n' ipbanset
	grep -q '^ /etc/ipbanset/ipbanset.conf [0-9a-f]\{32\}$' <<<"$output" ||
		fail "not a conffile: $output"
	grep -q '^ /etc/fail2ban/action.d/ipbanset.conf ' <<<"$output"
	[ "$(stat -c '%a %U' /etc/ipbanset/ipbanset.conf)" = "600 root" ]
	# installed, not enabled
	refute compgen -G '/etc/systemd/system/*/ipbanset*'

	run /usr/sbin/ipbanset --version
	assert_status 0
	[ "$output" = "ipbanset $UPSTREAM" ]
	# The installed binary with its defaults: /etc/ipbanset/ipbanset.conf as shipped and
	# the journal /var/lib/ipbanset/ipbanset.db, in the test's server namespace.
	run --separate-stderr ip netns exec "$SRV" /usr/sbin/ipbanset init
	assert_status 0
	run --separate-stderr ip netns exec "$SRV" /usr/sbin/ipbanset ban -r 'deb test' "$ATK_ADDR"
	assert_status 0
	assert_dropped "$ATK_ADDR"
	assert_kernel_has v4_32 "$ATK_ADDR"
	[ -f /var/lib/ipbanset/ipbanset.db ]
	[ "$(stat -c %a /var/lib/ipbanset)" = 700 ]

	run env DEBIAN_FRONTEND=noninteractive dpkg --purge ipbanset
	assert_status 0
	INSTALLED_HERE=
	run dpkg-query -W -f='${db:Status-Status}' ipbanset
	[ "$output" = not-installed ] || [ "$status" -ne 0 ]
	for p in $DEB_FILES /etc/ipbanset /var/lib/ipbanset /usr/share/doc/ipbanset; do
		[ ! -e "$p" ] || fail "$p is still there after the purge"
	done
	# the firewall was left alone: the namespace's bans are still enforced
	assert_dropped "$ATK_ADDR"
}

@test "rpm: rpmbuild builds a package with the files, the config noreplace and 0600" {
	build_ok rpm
	local rpm
	rpm=$(rpm_file) || fail "no ipbanset-$UPSTREAM rpm in $RPM_TOP/RPMS"
	run rpm -qlp "$rpm"
	assert_status 0
	for p in /usr/sbin/ipbanset /usr/sbin/ipbanset-import /usr/share/man/man8/ipbanset.8 \
		/usr/share/man/man8/ipbanset-import.8 /usr/lib/systemd/system/ipbanset-watch.service \
		/usr/lib/systemd/system/ipbanset-reconcile.service /usr/lib/systemd/system/ipbanset-gc.service \
		/usr/lib/systemd/system/ipbanset-gc.timer /etc/fail2ban/action.d/ipbanset.conf \
		/etc/ipbanset/ipbanset.conf /usr/share/bash-completion/completions/ipbanset \
		/usr/share/zsh/site-functions/_ipbanset /usr/share/fish/vendor_completions.d/ipbanset.fish \
		/usr/share/doc/ipbanset/README.md /usr/share/doc/ipbanset/examples/cron.d/ipbanset-import; do
		grep -Eqx "$p(\.gz)?" <<<"$output" || fail "rpm -qlp lacks $p"
	done
	run rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME} %{FILENAMES}\n]' "$rpm"
	grep -qx 'cn -rw------- root /etc/ipbanset/ipbanset.conf' <<<"$output" ||
		fail "ipbanset.conf: $(grep ipbanset/ipbanset.conf <<<"$output")"
	grep -qx 'cn -rw-r--r-- root /etc/fail2ban/action.d/ipbanset.conf' <<<"$output"

	# the payload: the binary reports the spec's version, the units name it
	local x=$BATS_TEST_TMPDIR/x
	mkdir "$x"
	rpm2archive - <"$rpm" | tar -C "$x" -xzf -
	run "$x/usr/sbin/ipbanset" --version
	assert_status 0
	[ "$output" = "ipbanset $UPSTREAM" ]
	grep -qx 'ExecStart=/usr/sbin/ipbanset reconcile' "$x/usr/lib/systemd/system/ipbanset-reconcile.service"
	grep -qx 'ExecStart=/usr/sbin/ipbanset watch' "$x/usr/lib/systemd/system/ipbanset-watch.service"
	# the build ran the unit tests (%check), and they passed
	grep -qE '^test_plan: [0-9]+ passed, 0 failed' "$PKG/rpm.log"
}

@test "deb and rpm: the licence, GPL-2 in the .deb's copyright file, GPL-2.0-only and COPYING in the .rpm" {
	build_ok deb
	build_ok rpm
	local src x=$BATS_TEST_TMPDIR/x rpm lic
	src=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	mkdir -p "$x/deb"
	dpkg-deb -x "$(deb_file)" "$x/deb"
	cmp "$src/packaging/debian/copyright" "$x/deb/usr/share/doc/ipbanset/copyright"
	grep -qx 'License: GPL-2' "$x/deb/usr/share/doc/ipbanset/copyright"
	# Debian points to /usr/share/common-licenses/GPL-2: no second copy (extra-license-file)
	[ ! -e "$x/deb/usr/share/doc/ipbanset/COPYING" ]

	rpm=$(rpm_file) || fail "no ipbanset-$UPSTREAM rpm in $RPM_TOP/RPMS"
	run rpm -qp --qf '%{LICENSE}' "$rpm"
	assert_status 0
	[ "$output" = GPL-2.0-only ] || fail "License: $output"
	# %license COPYING: in ipbanset/ (Fedora) or ipbanset-VERSION/ (Debian's rpm lacks
	# the distribution's %_docdir_fmt)
	run rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm"
	lic=$(grep -Ex "l /usr/share/licenses/ipbanset(-$UPSTREAM)?/COPYING" <<<"$output") ||
		fail "no %license COPYING: $(grep -i copying <<<"$output")"
	mkdir -p "$x/rpm"
	rpm2archive - <"$rpm" | tar -C "$x/rpm" -xzf -
	cmp "$src/COPYING" "$x/rpm${lic#l }"
}
