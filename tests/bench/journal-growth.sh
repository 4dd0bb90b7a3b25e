#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Journal size under churn: does the journal stay compact after a million ban/unban
# cycles with gc? Runs in a private network namespace; prints one line per checkpoint:
#   phase cycles live_bans history_rows file_bytes(main+wal)
#
#   sudo tests/bench/journal-growth.sh                 # 1M bulk cycles, 20k single cycles
#   GROWTH_BULK_ROUNDS=10 GROWTH_SINGLE=2000 sudo tests/bench/journal-growth.sh
#
# Bulk: rounds of "ban -f 10k targets, unban -f the same 10k" (10k cycles per round),
# gc every 10 rounds. Single: one ban and one unban invocation per cycle, as fail2ban
# does, with gc every 1000 cycles. history_max_rows is set low (20000) for the
# single phase so the cap is exercised; both phases share one journal.
set -eu
cd "$(dirname "$0")/../.."
IPB=${IPBANSET:-$PWD/ipbanset}
ROUNDS=${GROWTH_BULK_ROUNDS:-100}
SINGLE=${GROWTH_SINGLE:-20000}
dir=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/ipbanset-growth.XXXXXX")
ns="ibs-growth-$$"
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$dir"' EXIT
chmod 0700 "$dir"
ip netns add "$ns"
printf 'history_max_rows = 20000\n' >"$dir/conf"
chmod 0600 "$dir/conf"
ibs() { "$IPB" -q -d "$dir/db" -c "$dir/conf" --netns "$ns" "$@"; }
size() { stat -c %s "$dir/db" "$dir/db-wal" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
report() {
	local live events
	live=$(ibs --json status | jq '.total')
	events=$(ibs --json status | jq '.journal.events')
	printf '%-7s %9s %9s %9s %12s\n' "$1" "$2" "$live" "$events" "$(size)"
}
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "10.%d.%d.%d\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256 }' >"$dir/list"
ibs init
printf '%-7s %9s %9s %9s %12s\n' phase cycles live history bytes
report start 0
for r in $(seq "$ROUNDS"); do
	ibs ban -t 1h -s bulk -f "$dir/list"
	ibs unban -s bulk -f "$dir/list"
	if [ $((r % 10)) -eq 0 ]; then
		ibs gc
		report bulk $((r * 10000))
	fi
done
for i in $(seq "$SINGLE"); do
	a="10.200.$((i / 256 % 256)).$((i % 256))"
	ibs ban -t 1h -s f2b-sshd "$a"
	ibs unban -s f2b-sshd "$a"
	if [ $((i % 1000)) -eq 0 ]; then
		ibs gc
		[ $((i % 5000)) -ne 0 ] || report single "$i"
	fi
done
report end "$((ROUNDS * 10000 + SINGLE))"
