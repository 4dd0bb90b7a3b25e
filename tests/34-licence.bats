#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# The licence, GPL-2.0-only: COPYING holds the GPL version 2, every source file, script
# and test file names it in an SPDX line at its top, and the Debian and RPM packaging
# say the same (tests/26-packages.bats checks the built packages).

load helper

file_setup() {
	SRCDIR=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
}

SPDX=GPL-2.0-only

@test "COPYING is the text of the GNU General Public License, version 2" {
	local c=$SRCDIR/COPYING
	[ -f "$c" ] || fail "no COPYING"
	[ "$(sed -n 1p "$c" | tr -s ' ')" = " GNU GENERAL PUBLIC LICENSE" ] || fail "line 1: $(sed -n 1p "$c")"
	[ "$(sed -n 2p "$c" | tr -s ' ')" = " Version 2, June 1991" ] || fail "line 2: $(sed -n 2p "$c")"
	grep -q 'END OF TERMS AND CONDITIONS' "$c"
	if [ -f /usr/share/common-licenses/GPL-2 ]; then
		cmp "$c" /usr/share/common-licenses/GPL-2 || fail "COPYING differs from /usr/share/common-licenses/GPL-2"
	fi
}

# spdx_ok FILE PREFIX: the first line, or the second after a "#!" line, is
# "PREFIX SPDX-License-Identifier: GPL-2.0-only".
spdx_ok() {
	local f=$1 want="$2 SPDX-License-Identifier: $SPDX" line
	line=$(sed -n 1p "$f")
	[[ "$line" == '#!'* ]] && line=$(sed -n 2p "$f")
	[ "$line" = "$want" ] || fail "$f: '$line', expected '$want'"
}

@test "every source file, script, test file and the Makefile starts with the SPDX line" {
	cd "$SRCDIR"
	local f n=0
	for f in src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h \
		tests/bench/*.c; do
		spdx_ok "$f" '//'
		n=$((n + 1))
	done
	for f in tests/*.sh tests/*/*.sh packaging/cron/ipbanset-import .ci/run Makefile \
		tests/*.bats tests/helper.bash; do
		spdx_ok "$f" '#'
		n=$((n + 1))
	done
	for f in man/*.8; do
		spdx_ok "$f" '.\"'
		n=$((n + 1))
	done
	# the globs matched (an empty one would check its own pattern and fail above)
	[ "$n" -ge 90 ] || fail "only $n files checked"
}

@test "the Debian copyright file and the RPM spec name the licence" {
	local copyright=$SRCDIR/packaging/debian/copyright spec=$SRCDIR/packaging/rpm/ipbanset.spec
	# DEP-5: the stanza for every file says GPL-2, whose text is the system's copy
	awk '/^Files: \*$/ { f = 1; next } f && /^License:/ { print; exit }' "$copyright" |
		grep -qx 'License: GPL-2' || fail "Files: * is not License: GPL-2: $(cat "$copyright")"
	grep -q '/usr/share/common-licenses/GPL-2' "$copyright"
	refute grep -qi 'no-licence\|not stated' "$copyright"
	grep -Eqx "License:[[:space:]]+$SPDX" "$spec" || fail "spec: $(grep '^License:' "$spec")"
	grep -qx '%license COPYING' "$spec"
}
