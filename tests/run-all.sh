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

echo "== bats"
if [ "$#" -gt 0 ]; then
	files=("$@")
else
	files=(tests/*.bats)
fi
bats --tap "${files[@]}" 2>&1 | tee "$tmp/bats.tap"
rc=${PIPESTATUS[0]}
plan=$(grep -Em1 '^1\.\.[0-9]+$' "$tmp/bats.tap" | sed 's/^1\.\.//')
b_ok=$(grep -Ec '^ok [0-9]+ ' "$tmp/bats.tap")
b_skip=$(grep -Ec '^ok [0-9]+ .*# [Ss][Kk][Ii][Pp]' "$tmp/bats.tap")
b_fail=$(grep -Ec '^not ok [0-9]+ ' "$tmp/bats.tap")
b_pass=$((b_ok - b_skip))
if [ -z "$plan" ]; then
	echo "run-all: bats printed no plan (exit $rc)" >&2
	b_fail=$((b_fail + 1))
elif [ $((b_ok + b_fail)) -lt "$plan" ]; then
	echo "run-all: bats planned $plan tests but reported $((b_ok + b_fail))" >&2
	b_fail=$((b_fail + plan - b_ok - b_fail))
fi
if [ "$rc" -ne 0 ] && [ "$b_fail" -eq 0 ]; then
	echo "run-all: bats exited $rc although no test failed" >&2
	b_fail=1
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
