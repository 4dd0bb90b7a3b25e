#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the C unit tests (tests/unit/test_*, built by make) and the bats suite, then
# prints one line "N passed, N failed[, N skipped]" summing both. Exit 1 if any failed.
#
#   tests/run-all.sh                 everything
#   tests/run-all.sh tests/04-*.bats only these bats files (unit tests still run)
#   IPBANSET='valgrind -q --error-exitcode=99 /path/ipbanset' tests/run-all.sh
set -u
cd "$(dirname "$0")/.." || exit 2

passed=0
failed=0
skipped=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== unit tests"
units=0
for t in tests/unit/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	case "$t" in *.c | *.h | *.d | *.o) continue ;; esac
	units=$((units + 1))
	rc=0
	"./$t" >"$tmp/unit.out" 2>&1 || rc=$?
	cat "$tmp/unit.out"
	# The summary may carry a prefix ("test_addr: 12 passed, 0 failed").
	line=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$tmp/unit.out" | tail -n1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line##*passed, }
		f=${f%% failed*}
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "run-all: $t exited $rc although it reported no failure" >&2
			failed=$((failed + 1))
		fi
	else
		echo "run-all: $t printed no summary (exit $rc)" >&2
		failed=$((failed + 1))
	fi
done
[ "$units" -gt 0 ] || echo "run-all: no unit test binaries (run make first?)" >&2

# names this run's namespaces (see helper.bash), so leftovers are told apart
export IBS_RUN="r$$"

# Files run side by side, IBS_JOBS at a time (bats --jobs, with GNU parallel): each test
# makes its own namespaces, journal and configuration. The files in SERIAL run alone,
# before the others: 26-packages installs the .deb on the machine itself, where
# 22-completions checks that no ipbanset is on the PATH. First, so that on two cores
# its package builds overlap with a suite run beside this one, not end the run alone.
SERIAL=" tests/26-packages.bats "
jobs=${IBS_JOBS:-3}
if [ "$#" -gt 0 ]; then
	files=("$@")
else
	files=(tests/*.bats)
fi
together=()
alone=()
for f in "${files[@]}"; do
	if [[ "$SERIAL" == *" $f "* ]] || [ "$jobs" -le 1 ]; then alone+=("$f"); else together+=("$f"); fi
done

b_pass=0
b_fail=0
b_skip=0
# bats_tap NAME ARGS...: runs bats --tap ARGS, adds its counts to b_pass/b_fail/b_skip.
bats_tap() {
	local name=$1 rc plan ok skip bad
	shift
	echo "== bats ($name)"
	bats --tap "$@" 2>&1 | tee "$tmp/$name.tap"
	rc=${PIPESTATUS[0]}
	plan=$(grep -Em1 '^1\.\.[0-9]+$' "$tmp/$name.tap" | sed 's/^1\.\.//')
	ok=$(grep -Ec '^ok [0-9]+ ' "$tmp/$name.tap")
	skip=$(grep -Ec '^ok [0-9]+ .*# [Ss][Kk][Ii][Pp]' "$tmp/$name.tap")
	bad=$(grep -Ec '^not ok [0-9]+ ' "$tmp/$name.tap")
	if [ -z "$plan" ]; then
		echo "run-all: bats printed no plan (exit $rc)" >&2
		bad=$((bad + 1))
	elif [ $((ok + bad)) -lt "$plan" ]; then
		echo "run-all: bats planned $plan tests but reported $((ok + bad))" >&2
		bad=$((bad + plan - ok - bad))
	fi
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "run-all: bats exited $rc although no test failed" >&2
		bad=1
	fi
	b_pass=$((b_pass + ok - skip))
	b_fail=$((b_fail + bad))
	b_skip=$((b_skip + skip))
}

if [ "${#alone[@]}" -gt 0 ]; then
	bats_tap "one at a time" "${alone[@]}"
fi
if [ "${#together[@]}" -gt 0 ]; then
	bats_tap "$jobs at a time" --jobs "$jobs" "${together[@]}"
fi
passed=$((passed + b_pass))
failed=$((failed + b_fail))
skipped=$((skipped + b_skip))

# only this run's namespaces: another suite may be running beside it
leftover=$(ip netns list 2>/dev/null | grep -E "^ibs-[a-z]+-$IBS_RUN-" || true)
if [ -n "$leftover" ]; then
	echo "run-all: namespaces left behind: $leftover" >&2
	failed=$((failed + 1))
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
