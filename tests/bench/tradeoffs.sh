#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What the two trades that were on the table would buy for a bulk ban: a batch ban of N
# addresses (default 1M) by ipbanset as it is, without per-element comments, without
# the journal's bans_source index, and without both, against the floor loader with and
# without a comment, in rotating order in fresh private network namespaces. Two more
# variants bound what any journal format could buy: no_rows writes no ban rows at all
# (the journal's cost at zero; not a usable program), no_rows_no_comment the same
# without comments.
#
#   sudo tests/bench/tradeoffs.sh            # 5 rounds of N = 1M: about 5 min
#   sudo TRADEOFF_RUNS=3 TRADEOFF_N=200000 tests/bench/tradeoffs.sh
#
# The variants are built from a copy of the working tree with one change each (sed,
# checked to apply); they are for this measurement only. Besides the wall time it
# prints the machine-wide busy CPU-seconds of each sample, from /proc/stat, which
# counts the kernel's rehash workers that per-process times miss: on a machine with C
# cores no sample can take less than busy / C seconds.
set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
RUNS=${TRADEOFF_RUNS:-5}
N=${TRADEOFF_N:-1000000}

die() { echo "tradeoffs: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root: every sample needs its own network namespace"
unshare -n true || die "unshare -n failed"
for c in gcc make nft pkg-config bc; do command -v $c >/dev/null || die "needs $c"; done

WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/ipbanset-tradeoffs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/src"
: >"$WORK/empty.conf" && chmod 0600 "$WORK/empty.conf"
awk -v n="$N" 'BEGIN { b = 100 * 16777216 + 64 * 65536
	for (i = 0; i < n; i++) { x = b + i; printf "%d.%d.%d.%d\n", int(x / 16777216), int(x / 65536) % 256, int(x / 256) % 256, x % 256 } }' \
	>"$WORK/addr.txt"
# shellcheck disable=SC2046 # pkg-config prints several flags
gcc -O2 -Wall -o "$WORK/bin/floor" "$BENCH_DIR/floor.c" $(pkg-config --cflags --libs libmnl libnftnl)

# build NAME SED-ON-NFT SED-ON-JOURNAL [SED-ON-ENGINE]: a copy of the tree with those
# edits, built as bin/NAME
build() {
	local name=$1 nft_edit=$2 journal_edit=$3 engine_edit=${4:-} d="$WORK/src/$1"
	mkdir -p "$d"
	(cd "$ROOT" && tar -c --exclude=./tests --exclude=.git --exclude='*.o' --exclude='*.d' \
		--exclude=./ipbanset -f - .) | tar -x -C "$d"
	if [[ -n $nft_edit ]]; then
		grep -q 'full ? nft_comment_len(el->comment) : 0' "$d/src/nft.c" || die "$name: nft.c edit does not apply"
		sed -i "$nft_edit" "$d/src/nft.c"
	fi
	if [[ -n $journal_edit ]]; then
		grep -q '"CREATE INDEX bans_source ON' "$d/src/journal.c" || die "$name: journal.c edit does not apply"
		sed -i "$journal_edit" "$d/src/journal.c"
	fi
	if [[ -n $engine_edit ]]; then
		grep -q 'if (g->add\[i\].n && journal_insert_bans(' "$d/src/engine.c" || die "$name: engine.c edit does not apply"
		sed -i "$engine_edit" "$d/src/engine.c"
	fi
	make -s -C "$d" ipbanset >"$d/build.log" 2>&1 || { cat "$d/build.log" >&2; die "$name: build failed"; }
	cp "$d/ipbanset" "$WORK/bin/$name"
}
NO_COMMENT='s/full ? nft_comment_len(el->comment) : 0/0/'
NO_INDEX='/"CREATE INDEX bans_source ON/d'
NO_ROWS='s/if (g->add\[i\].n && journal_insert_bans(/if (0 \&\& journal_insert_bans(/'
build ipbanset '' ''
build no_comment "$NO_COMMENT" ''
build no_index '' "$NO_INDEX"
build no_both "$NO_COMMENT" "$NO_INDEX"
build no_rows '' '' "$NO_ROWS"
build no_rows_no_comment "$NO_COMMENT" '' "$NO_ROWS"

busy() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
export -f busy
RAW="$WORK/raw.tsv"
: >"$RAW"
# sample NAME: one load in a fresh namespace; appends "NAME wall_s busy_cpu_s" to $RAW.
# The namespace is flushed before it dies (outside the timing), then a pause lets the
# kernel's workers finish, so no sample pays for the one before it.
sample() {
	local name=$1 cmd
	case $name in
	floor) cmd="$WORK/bin/floor -t 10 -s -f $WORK/addr.txt >/dev/null" ;;
	floor_comment) cmd="$WORK/bin/floor -t 10 -s -c manual -f $WORK/addr.txt >/dev/null" ;;
	*) rm -rf "$WORK/j" && mkdir -m 0700 "$WORK/j"
	   cmd="$WORK/bin/$name -c $WORK/empty.conf -d $WORK/j/db -q ban -t 1h -f $WORK/addr.txt" ;;
	esac
	sleep 3
	unshare -n bash -c "b0=\$(busy); t0=\$EPOCHREALTIME; $cmd || exit 9; t1=\$EPOCHREALTIME; b1=\$(busy)
		echo \"$name \$(echo \"\$t1 - \$t0\" | bc) \$(echo \"(\$b1 - \$b0) / $(getconf CLK_TCK)\" | bc -l)\" >>$RAW
		nft flush ruleset"
}
NAMES=(floor floor_comment ipbanset no_comment no_index no_both no_rows no_rows_no_comment)
for ((r = 0; r < RUNS; r++)); do
	# rotate the order, so no variant always runs first or after the same one
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		sample "${NAMES[$(((i + r) % ${#NAMES[@]}))]}"
	done
	echo "tradeoffs: round $((r + 1))/$RUNS done" >&2
done

echo "# batch ban of $N addresses, $RUNS rounds, medians; $(nproc) cores; $(uname -r); $(date -u '+%F %H:%M') UTC"
echo "| variant | wall s | vs floor | busy CPU-s | all walls |"
echo "|---|---|---|---|---|"
awk -v names="${NAMES[*]}" '
	{ k = $1; n[k]++; w[k, n[k]] = $2; c[k, n[k]] = $3 }
	function med(a, k, m,   i, j, t, v) { for (i = 1; i <= m; i++) v[i] = a[k, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
	END { split(names, o, " "); f = med(w, "floor", n["floor"])
		for (x = 1; x in o; x++) { k = o[x]; s = ""
			for (i = 1; i <= n[k]; i++) s = s sprintf(" %.2f", w[k, i])
			printf "| %s | %.3f | %.2fx | %.2f |%s |\n", k, med(w, k, n[k]), med(w, k, n[k]) / f, med(c, k, n[k]), s } }' "$RAW"
