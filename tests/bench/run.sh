#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmarks ipbanset against nft, ipset and a minimal libnftnl loader (the kernel
# floor, tests/bench/floor.c). Run as root from anywhere: sudo make bench, or
#
#   sudo tests/bench/run.sh                                     # N = 10k, 100k, 1M
#   sudo BENCH_SIZES="10000 100000" BENCH_RUNS=3 tests/bench/run.sh   # quick
#
# Every sample runs in a fresh private network namespace (unshare -n): the host's
# ruleset is never read or changed, and is checked to be unchanged at the end.
# Results: tests/bench/out/{results.tsv,results.md,bench.png,raw.tsv,logs/}.
# See tests/bench/README.md for what each row measures.
set -euo pipefail
export LC_ALL=C

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
SELF="$BENCH_DIR/run.sh"

# ------------------------------------------------------------------ sample helpers
# (used inside the namespaces; the outer run exports what they need)

# measure NAME N STDOUT CMD...: runs CMD once under timeit (tests/bench/timeit.c) and
# appends "NAME N RUN wall_s peak_rss_kb" to $RAW. timeit takes the time from just
# before its fork to the child's exit and the child's peak RSS (ru_maxrss), so nothing
# but CMD's own start, run and exit is counted: see the exec_baseline row.
measure() {
	local name=$1 n=$2 out=$3 rc=0
	shift 3
	echo "+ [$name N=$n run=$RUN] $*" >>"$LOG"
	"$TIMEIT" "$SCRATCH/timeit" "$@" </dev/null >"$out" 2>>"$LOG" || rc=$?
	if ((rc)); then
		echo "bench: $name N=$n run $RUN: '$*' exited $rc (log: $LOG)" >&2
		tail -n 5 "$LOG" >&2
		return 1
	fi
	printf '%s\t%s\t%s\t%s\n' "$name" "$n" "$RUN" "$(cat "$SCRATCH/timeit")" >>"$RAW"
}

# Leave the namespace empty before it dies, so the kernel frees a million elements
# now and not in a background worker during the next sample.
inner_cleanup() {
	nft flush ruleset 2>/dev/null || true
	ipset destroy 2>/dev/null || true
	rm -rf "$SCRATCH"
}

# Batch load of N elements of one KIND (addr | net24) by one METHOD.
scenario_load() {
	local method=$1 kind=$2 n=$3 in="$INPUT"
	local name="load_${method}_${kind}" p=()
	[[ $kind == net24 ]] && p=(-p)
	case $method in
	ipbanset) measure "$name" "$n" /dev/null "${IPBC[@]}" -q ban -t 1h -f "$in/${kind}_$n.txt" ;;
	ipbanset_ipset) # the ipset backend: its sets, and no iptables rule (none is needed to load)
		measure "$name" "$n" /dev/null "$IPB" -c "$IPSET_CONF" -d "$SCRATCH/ipbanset.db" -q ban -t 1h \
			-f "$in/${kind}_$n.txt" ;;
	nft) measure "$name" "$n" /dev/null nft -f "$in/nft_${kind}_$n.nft" ;;
	ipset) measure "$name" "$n" /dev/null ipset restore -file "$in/ipset_${kind}_$n.txt" ;;
	floor_1tx) measure "$name" "$n" "$SCRATCH/floor.out" "$FLOOR" -v "${p[@]}" -t 1 -f "$in/${kind}_$n.txt" ;;
	floor_10tx) measure "$name" "$n" "$SCRATCH/floor.out" "$FLOOR" -v "${p[@]}" -t 10 -f "$in/${kind}_$n.txt" ;;
	floor_10tx_size) measure "$name" "$n" "$SCRATCH/floor.out" "$FLOOR" -v "${p[@]}" -t 10 -s -f "$in/${kind}_$n.txt" ;;
	floor_10tx_size_comment)
		measure "$name" "$n" "$SCRATCH/floor.out" "$FLOOR" -v "${p[@]}" -t 10 -s -c manual -f "$in/${kind}_$n.txt" ;;
	*) echo "bench: unknown method $method" >&2; return 2 ;;
	esac
	[[ ${BENCH_VERIFY:-0} == 1 ]] && verify_count "$method" "$kind" "$n"
	return 0
}

# BENCH_VERIFY=1: check that the kernel holds exactly N elements after a load (a dump:
# quadratic, so only for small N).
verify_count() {
	local method=$1 kind=$2 n=$3 have set=s v4=v4_32 ips=bench ipsk=ip4
	[[ $kind == net24 ]] && set=s24 v4=v4_24 ips=bench24 ipsk=net4
	case $method in
	ipbanset) have=$(nft -j list set inet ipbanset $v4 | jq '.nftables[1].set.elem | length') ;;
	ipbanset_ipset) have=$(ipset list -t "ipbanset-$ipsk" | awk -F': ' '/Number of entries/ { print $2 }') ;;
	nft) have=$(nft -j list set inet bench $set | jq '.nftables[1].set.elem | length') ;;
	ipset) have=$(ipset list -t $ips | awk -F': ' '/Number of entries/ { print $2 }') ;;
	*) have=$(nft -j list set inet floor $set | jq '.nftables[1].set.elem | length') ;;
	esac
	echo "verify: $method $kind N=$n: kernel holds $have" >>"$LOG"
	[[ $have == "$n" ]] || { echo "bench: $method $kind: kernel holds $have elements, not $n" >&2; return 1; }
}

# A table holding N bans: one more ban, status, list, a dump by nft, and reconcile
# after the ruleset is flushed.
scenario_state() {
	local n=$1 i
	if ((n > 0)); then
		"${IPBC[@]}" -q ban -t 1h -f "$INPUT/addr_$n.txt" 2>>"$LOG"
		measure status_ipbanset "$n" "$SCRATCH/status.out" "${IPBC[@]}" status
		cat "$SCRATCH/status.out" >>"$LOG"
		measure list_ipbanset "$n" /dev/null "${IPBC[@]}" list
	else
		"${IPBC[@]}" -q init 2>>"$LOG"
	fi
	# Alternate the two tools, each adding a new address into the same set v4_32.
	for ((i = 0; i < BAN1_SAMPLES; i++)); do
		measure ban1_ipbanset "$n" /dev/null "${IPBC[@]}" -q ban -t 1h "203.0.113.$((9 + i))"
		measure ban1_nft "$n" /dev/null nft add element inet ipbanset v4_32 \
			"{ 203.0.113.$((109 + i)) timeout 1h }"
	done
	((n > 0)) || return 0
	# nft changed the ruleset behind ipbanset's back: status must look closer.
	measure status_ipbanset_drift "$n" "$SCRATCH/status.out" "${IPBC[@]}" status
	cat "$SCRATCH/status.out" >>"$LOG"
	# A dump is quadratic in the kernel (~37 s at 1M): once at large N.
	if ((RUN == 1 || n < DUMP_ONCE_FROM)); then
		measure list_nft_json "$n" /dev/null nft -j list set inet ipbanset v4_32
	fi
	nft flush ruleset
	measure reconcile_ipbanset "$n" /dev/null "${IPBC[@]}" -q reconcile
	"${IPBC[@]}" status >>"$LOG" 2>&1 || true
	# The same list again with a longer timeout: every ban is extended (journal and kernel).
	measure reban_ipbanset "$n" /dev/null "${IPBC[@]}" -q ban -t 2h -f "$INPUT/addr_$n.txt"
	# and the whole list withdrawn
	measure unban_ipbanset "$n" /dev/null "${IPBC[@]}" -q unban -f "$INPUT/addr_$n.txt"
	"${IPBC[@]}" status >>"$LOG" 2>&1 || true
}

# sync of a source's whole list, the same list again, then a list that differs by 1%.
scenario_sync() {
	local n=$1
	measure sync_full "$n" /dev/null "${IPBC[@]}" -q sync -s bench -t 1h -f "$INPUT/addr_$n.txt"
	measure sync_rerun "$n" /dev/null "${IPBC[@]}" -q sync -s bench -t 1h -f "$INPUT/addr_$n.txt"
	measure sync_1pct "$n" /dev/null "${IPBC[@]}" -q sync -s bench -t 1h -f "$INPUT/sync2_$n.txt"
	: >"$SCRATCH/empty.txt"
	measure sync_empty "$n" /dev/null "${IPBC[@]}" -q sync -s bench -f "$SCRATCH/empty.txt"
}

# The ipset backend holding N bans of one source: status (ipset has no generation id:
# it lists the sets) beside `ipset list`, a 1%-changed sync, and reconcile after the
# set is flushed.
scenario_ipset_state() {
	local n=$1 ips=("$IPB" -c "$IPSET_CONF" -d "$SCRATCH/ipbanset.db")
	"${ips[@]}" -q sync -s bench -t 1h -f "$INPUT/addr_$n.txt" 2>>"$LOG"
	measure ipset_list "$n" /dev/null ipset list ipbanset-ip4
	measure ipset_status "$n" "$SCRATCH/status.out" "${ips[@]}" status
	cat "$SCRATCH/status.out" >>"$LOG"
	measure ipset_sync_1pct "$n" /dev/null "${ips[@]}" -q sync -s bench -t 1h -f "$INPUT/sync2_$n.txt"
	ipset flush ipbanset-ip4
	measure ipset_reconcile "$n" /dev/null "${ips[@]}" -q reconcile
	"${ips[@]}" status >>"$LOG" 2>&1 || true
}

# What one fork and exec of a small program cost by themselves (the least any row can take).
scenario_baseline() {
	local i
	for ((i = 0; i < BAN1_SAMPLES; i++)); do
		measure exec_baseline 0 /dev/null /bin/true
	done
}

# Entry point inside "unshare -n": SCENARIO ARGS...
inner() {
	SCRATCH=$(mktemp -d "$WORK/ns.XXXXXX") # mode 0700, a fresh journal for each sample
	# An array, not a function: timeit must exec it. The empty config keeps the
	# host's /etc/ipbanset out of the measurement.
	IPBC=("$IPB" -c "$CONF" -d "$SCRATCH/ipbanset.db")
	trap inner_cleanup EXIT
	trap 'exit 130' INT TERM
	LOG="$LOGDIR/$1-${*:2}-run$RUN.log"
	LOG=${LOG// /-}
	local scenario=$1
	shift
	"scenario_$scenario" "$@"
}

if [[ ${1:-} == __inner ]]; then
	shift
	inner "$@"
	exit
fi

# ------------------------------------------------------------------ outer run

OUT=${BENCH_OUT:-$BENCH_DIR/out}
BENCH_SIZES=${BENCH_SIZES:-"10000 100000 1000000"}
BENCH_RUNS=${BENCH_RUNS:-3}
BAN1_SAMPLES=${BENCH_BAN1_SAMPLES:-5}
DUMP_ONCE_FROM=${BENCH_DUMP_ONCE_FROM:-1000000}
SRC_IPB=${IPBANSET:-$ROOT/ipbanset}
LOAD_METHODS="ipbanset ipbanset_ipset nft ipset floor_1tx floor_10tx floor_10tx_size floor_10tx_size_comment"
CHILD=
WORK=

die() { echo "bench: $*" >&2; exit 1; }

cleanup() {
	local rc=$?
	if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	[[ -n $WORK && -d $WORK ]] && rm -rf "$WORK"
	exit "$rc"
}

# Installs the Debian packages that are missing (dpkg -s first; apt-get only if needed).
need_packages() {
	local p missing=()
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	echo "bench: installing ${missing[*]}" >&2
	command -v apt-get >/dev/null || die "missing packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } ||
		die "could not install ${missing[*]}"
}

# Runs one scenario in a fresh network namespace. A failed sample is reported and
# counted; the other measurements go on.
FAILED=0
in_ns() {
	local rc=0
	unshare -n "$BASH" "$SELF" __inner "$@" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=
	((rc == 0)) || { FAILED=$((FAILED + 1)); echo "bench: scenario '$*' run $RUN failed ($rc)" >&2; }
}

# Inputs for N: addresses from 100.64.0.0 upward, disjoint /24s from 100.64.0.0/24
# upward, the same as nft -f and ipset restore files, and the 1%-changed sync list.
gen_inputs() {
	local n=$1 d=$INPUT k=$(($1 / 100))
	awk -v n="$n" -v d="$d" -v k="$k" '
	function ip(x) { return sprintf("%d.%d.%d.%d", int(x / 16777216), int(x / 65536) % 256, int(x / 256) % 256, x % 256) }
	BEGIN {
		base = 100 * 16777216 + 64 * 65536
		a = d "/addr_" n ".txt"; p = d "/net24_" n ".txt"; s = d "/sync2_" n ".txt"
		na = d "/nft_addr_" n ".nft"; np = d "/nft_net24_" n ".nft"
		ia = d "/ipset_addr_" n ".txt"; ip24 = d "/ipset_net24_" n ".txt"
		max = n < 65536 ? 65536 : n
		print "add table inet bench" > na
		print "add set inet bench s { type ipv4_addr; flags timeout; }" > na
		print "add element inet bench s {" > na
		print "add table inet bench" > np
		print "add set inet bench s24 { type ipv4_addr; flags timeout; }" > np
		print "add element inet bench s24 {" > np
		print "create bench hash:ip family inet maxelem " max " timeout 3600" > ia
		print "create bench24 hash:net family inet maxelem " max " timeout 3600" > ip24
		for (i = 0; i < n; i++) {
			x = ip(base + i); y = ip(base + i * 256)
			print x > a
			print y "/24" > p
			print x " timeout 1h," > na
			print y " timeout 1h," > np
			print "add bench " x " timeout 3600" > ia
			print "add bench24 " y "/24 timeout 3600" > ip24
		}
		print "}" > na; print "}" > np
		for (i = k; i < n + k; i++) print ip(base + i) > s
	}'
}

# Median wall time and largest peak RSS of every (name, N), plus the best floor.
aggregate() {
	sort -t$'\t' -k1,1 -k2,2n -k4,4g "$RAW" | awk -F'\t' -v OFS='\t' '
	function flush() {
		if (!cnt) return
		med = cnt % 2 ? t[(cnt + 1) / 2] : (t[cnt / 2] + t[cnt / 2 + 1]) / 2
		printf "%s\t%s\t%.6f\t%d\t%d\n", key1, key2, med, rss, cnt
	}
	{
		if ($1 != key1 || $2 != key2) { flush(); key1 = $1; key2 = $2; cnt = 0; rss = 0 }
		t[++cnt] = $4; if ($5 > rss) rss = $5
	}
	END { flush() }' >"$OUT/agg.tsv"
	# "floor" = the best of 1 tx, 10 tx and 10 tx + size hint (no comments).
	awk -F'\t' -v OFS='\t' '
	$1 ~ /^load_floor_(1tx|10tx|10tx_size)_(addr|net24)$/ {
		kind = $1; sub(/.*_/, "", kind); k = kind SUBSEP $2
		if (!(k in best) || $3 < best[k]) { best[k] = $3; rss[k] = $4; cnt[k] = $5 }
	}
	END { for (k in best) { split(k, p, SUBSEP); print "load_floor_best_" p[1], p[2], best[k], rss[k], cnt[k] } }' \
		"$OUT/agg.tsv" >>"$OUT/agg.tsv"
	local name
	{
		printf 'name\tN\tmedian_s\tpeak_rss_kb\n'
		for name in "${ROWS[@]}"; do
			awk -F'\t' -v OFS='\t' -v n="$name" '$1 == n { print $1, $2, $3, $4 }' "$OUT/agg.tsv" | sort -t$'\t' -k2,2n
		done
	} >"$OUT/results.tsv"
	while IFS=$'\t' read -r name n med rss cnt; do
		MED[$name,$n]=$med RSS[$name,$n]=$rss CNT[$name,$n]=$cnt
	done <"$OUT/agg.tsv"
}

ROWS=(load_ipbanset_addr load_ipbanset_ipset_addr load_nft_addr load_ipset_addr load_floor_1tx_addr load_floor_10tx_addr
	load_floor_10tx_size_addr load_floor_best_addr load_floor_10tx_size_comment_addr
	load_ipbanset_net24 load_ipbanset_ipset_net24 load_nft_net24 load_ipset_net24 load_floor_1tx_net24 load_floor_10tx_net24
	load_floor_10tx_size_net24 load_floor_best_net24 load_floor_10tx_size_comment_net24
	ban1_ipbanset ban1_nft status_ipbanset status_ipbanset_drift list_ipbanset list_nft_json
	reconcile_ipbanset reban_ipbanset unban_ipbanset sync_full sync_rerun sync_1pct sync_empty
	ipset_list ipset_status ipset_sync_1pct ipset_reconcile exec_baseline)
declare -A LABEL=(
	[load_ipbanset_addr]='ipbanset ban -f (N addresses, fresh journal)'
	[load_ipbanset_ipset_addr]='ipbanset ban -f, ipset backend (N addresses, fresh journal)'
	[load_nft_addr]='nft -f (table + set + add element, timeouts)'
	[load_ipset_addr]='ipset restore (hash:ip, timeout)'
	[load_floor_1tx_addr]='floor, 1 transaction'
	[load_floor_10tx_addr]='floor, 10 transactions'
	[load_floor_10tx_size_addr]='floor, 10 transactions + size hint'
	[load_floor_best_addr]='**floor** (best of the three above)'
	[load_floor_10tx_size_comment_addr]='floor, 10 tx + size + comment "manual"'
	[load_ipbanset_net24]='ipbanset ban -f (N /24s, fresh journal)'
	[load_ipbanset_ipset_net24]='ipbanset ban -f, ipset backend (N /24s, fresh journal)'
	[load_nft_net24]='nft -f (N /24 network addresses, hash set)'
	[load_ipset_net24]='ipset restore (hash:net /24, timeout)'
	[load_floor_1tx_net24]='floor -p, 1 transaction'
	[load_floor_10tx_net24]='floor -p, 10 transactions'
	[load_floor_10tx_size_net24]='floor -p, 10 transactions + size hint'
	[load_floor_best_net24]='**floor -p** (best of the three above)'
	[load_floor_10tx_size_comment_net24]='floor -p, 10 tx + size + comment'
	[ban1_ipbanset]='ipbanset ban ADDR into a table of N'
	[ban1_nft]='nft add element ... v4_32 { ADDR timeout 1h } into the same'
	[status_ipbanset]='ipbanset status (N bans)'
	[status_ipbanset_drift]='ipbanset status after a foreign change (nft add)'
	[list_ipbanset]='ipbanset list > /dev/null'
	[list_nft_json]='nft -j list set inet ipbanset v4_32 > /dev/null'
	[reconcile_ipbanset]='ipbanset reconcile after nft flush ruleset'
	[reban_ipbanset]='ipbanset ban -t 2h -f (the same N again: every ban extended)'
	[unban_ipbanset]='ipbanset unban -f (the same N withdrawn)'
	[sync_full]='ipbanset sync -f (first sync of N, fresh journal)'
	[sync_rerun]='ipbanset sync -f (same list again: no change)'
	[sync_1pct]='ipbanset sync -f (list differs by 1%)'
	[sync_empty]='ipbanset sync -f (an empty list: all N withdrawn)'
	[ipset_list]='ipset list ipbanset-ip4 > /dev/null (ipset backend, N bans)'
	[ipset_status]='ipbanset status, ipset backend'
	[ipset_sync_1pct]='ipbanset sync -f, ipset backend (list differs by 1%)'
	[ipset_reconcile]='ipbanset reconcile, ipset backend, after ipset flush'
	[exec_baseline]='/bin/true: one fork and exec (the least a row can take)'
)
declare -A MED RSS CNT

fmt_s() {
	awk -v x="$1" 'BEGIN { f = x < 0.01 ? "%.4f" : x < 1 ? "%.3f" : x < 100 ? "%.2f" : "%.1f"; printf f, x }'
}
fmt_mb() { awk -v k="$1" 'BEGIN { m = k / 1024; printf(m < 10 ? "%.1f MB" : "%.0f MB", m) }'; }
fmt_n() {
	case $1 in
	0) echo 0 ;;
	*000000) echo "$(($1 / 1000000))M" ;;
	*000) echo "$(($1 / 1000))k" ;;
	*) echo "$1" ;;
	esac
}
# ratio NAME_A N_A NAME_B N_B: "a / b = r×", or "n/a" when one is missing.
ratio() {
	local a=${MED[$1,$2]:-} b=${MED[$3,$4]:-}
	[[ -n $a && -n $b ]] || { echo "n/a"; return; }
	awk -v a="$a" -v b="$b" -v fa="$(fmt_s "$a")" -v fb="$(fmt_s "$b")" \
		'BEGIN {
			r = b > 0 ? a / b : 0
			printf "%s s / %s s = **%s×**", fa, fb, sprintf(r < 0.1 ? "%.3f" : "%.2f", r)
			if (r > 0 && r < 1) printf " (%.0f× less)", 1 / r
		}'
}

results_table() {
	local ns=(0 $BENCH_SIZES) name n cell line
	line="| measurement |"
	for n in "${ns[@]}"; do line+=" N=$(fmt_n "$n") |"; done
	echo "$line"
	line="|---|"
	for n in "${ns[@]}"; do line+="---|"; done
	echo "$line"
	for name in "${ROWS[@]}"; do
		line="| ${LABEL[$name]} |"
		local any=0
		for n in "${ns[@]}"; do
			if [[ -n ${MED[$name,$n]:-} ]]; then
				cell="$(fmt_s "${MED[$name,$n]}") s, $(fmt_mb "${RSS[$name,$n]}")"
				((CNT[$name,$n] > 1 || BENCH_RUNS == 1)) || cell+=" (1×)"
				any=1
			else
				cell="–"
			fi
			line+=" $cell |"
		done
		((any)) && echo "$line"
	done
}

ratios_table() {
	local m=$NMAX M
	M=$(fmt_n "$m")
	echo "| comparison (N = $M) | value |"
	echo "|---|---|"
	echo "| batch ban $M addresses: ipbanset vs best floor | $(ratio load_ipbanset_addr "$m" load_floor_best_addr "$m") |"
	echo "| batch ban $M addresses: ipbanset vs nft -f | $(ratio load_ipbanset_addr "$m" load_nft_addr "$m") |"
	echo "| batch ban $M /24s: ipbanset vs best floor | $(ratio load_ipbanset_net24 "$m" load_floor_best_net24 "$m") |"
	echo "| batch ban $M /24s: ipbanset vs nft -f | $(ratio load_ipbanset_net24 "$m" load_nft_net24 "$m") |"
	echo "| batch ban $M addresses, ipset backend: ipbanset vs ipset restore | $(ratio load_ipbanset_ipset_addr "$m" load_ipset_addr "$m") |"
	echo "| batch ban $M /24s, ipset backend: ipbanset vs ipset restore | $(ratio load_ipbanset_ipset_net24 "$m" load_ipset_net24 "$m") |"
	echo "| one ban: ipbanset at $M vs at 0 | $(ratio ban1_ipbanset "$m" ban1_ipbanset 0) |"
	echo "| one ban at $M: ipbanset vs nft add element | $(ratio ban1_ipbanset "$m" ban1_nft "$m") |"
	echo "| status at $M vs nft -j list set | $(ratio status_ipbanset "$m" list_nft_json "$m") |"
	echo "| status after a foreign change at $M vs nft -j list set | $(ratio status_ipbanset_drift "$m" list_nft_json "$m") |"
	echo "| list at $M vs nft -j list set | $(ratio list_ipbanset "$m" list_nft_json "$m") |"
	echo "| reconcile $M vs best floor | $(ratio reconcile_ipbanset "$m" load_floor_best_addr "$m") |"
	echo "| 1%-changed sync of $M vs full load (ban -f, fresh journal) | $(ratio sync_1pct "$m" load_ipbanset_addr "$m") |"
	echo "| unchanged sync of $M vs full load | $(ratio sync_rerun "$m" load_ipbanset_addr "$m") |"
	echo "| re-ban of $M extending every ban vs full load | $(ratio reban_ipbanset "$m" load_ipbanset_addr "$m") |"
	echo "| unban -f of $M vs full load | $(ratio unban_ipbanset "$m" load_ipbanset_addr "$m") |"
	echo "| sync of $M to an empty list vs full load | $(ratio sync_empty "$m" load_ipbanset_addr "$m") |"
	echo "| ipset backend: status at $M vs ipset list | $(ratio ipset_status "$m" ipset_list "$m") |"
	echo "| ipset backend: 1%-changed sync of $M vs its full load | $(ratio ipset_sync_1pct "$m" load_ipbanset_ipset_addr "$m") |"
	echo "| ipset backend: reconcile of $M vs ipset restore | $(ratio ipset_reconcile "$m" load_ipset_addr "$m") |"
	echo
	echo "| peak RSS at N = $M | |"
	echo "|---|---|"
	local name
	for name in load_ipbanset_addr load_ipbanset_net24 load_ipbanset_ipset_addr sync_full sync_1pct status_ipbanset list_ipbanset \
		reconcile_ipbanset reban_ipbanset unban_ipbanset sync_empty ban1_ipbanset ipset_status ipset_sync_1pct ipset_reconcile load_nft_addr load_ipset_addr \
		load_floor_best_addr list_nft_json; do
		[[ -n ${RSS[$name,$m]:-} ]] && echo "| ${LABEL[$name]} | $(fmt_mb "${RSS[$name,$m]}") |"
	done
	return 0
}

plot() {
	command -v gnuplot >/dev/null || { echo "bench: no gnuplot; skipping bench.png" >&2; return 0; }
	local dir="$OUT/plot" name kind method cmds=() n lc
	rm -rf "$dir" && mkdir -p "$dir"
	for kind in addr net24; do
		lc=0
		for method in ipbanset ipbanset_ipset nft ipset floor_1tx floor_10tx floor_10tx_size; do
			name="load_${method}_${kind}" lc=$((lc + 1))
			for n in $BENCH_SIZES; do
				[[ -n ${MED[$name,$n]:-} ]] && printf '%s %s\n' "$n" "${MED[$name,$n]}"
			done >"$dir/$name.dat"
			[[ -s $dir/$name.dat ]] || continue
			local style="lc $lc lw 2 pt 7"
			[[ $kind == net24 ]] && style="lc $lc lw 1 dt 2 pt 6"
			cmds+=("'$dir/$name.dat' using 1:2 with linespoints $style title '${method//_/ } ${kind/net24//24s}'")
		done
	done
	((${#cmds[@]})) || return 0
	local IFS=,
	gnuplot <<-EOF 2>>"$LOGDIR/gnuplot.log" || echo "bench: gnuplot failed (see $LOGDIR/gnuplot.log)" >&2
		set terminal pngcairo size 1000,700
		set output '$OUT/bench.png'
		set title 'Batch load of N IPv4 elements with timeout 1h (median wall time; dashed: /24s)'
		set logscale xy
		set xlabel 'N elements'
		set ylabel 'seconds'
		set grid
		set key top left
		plot ${cmds[*]}
	EOF
}

machine() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $(nproc) × $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- kernel: $(uname -r)"
	echo "- load average at the start: $LOADAVG (other work on the machine skews the numbers)"
	echo "- nft: $(nft --version 2>&1)"
	echo "- ipset: $(ipset --version 2>&1 | head -n 1)"
	echo "- libnftnl $(pkg-config --modversion libnftnl), libmnl $(pkg-config --modversion libmnl), SQLite $(pkg-config --modversion sqlite3 2>/dev/null || sqlite3 --version | cut -d' ' -f1) (sqlite3 CLI: $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo none))"
	echo "- journal on: $(df -T "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
	echo "- ipbanset: $IPB_VERSION"
	if [[ $IPB_VERSION_END != "$IPB_VERSION" ]]; then
		echo "  (the checkout's binary is now $IPB_VERSION_END: it was rebuilt during the run; the numbers are for $IPB_VERSION, copied at the start)"
	fi
	echo "- sizes: $BENCH_SIZES; runs per measurement: $BENCH_RUNS (one ban: $BAN1_SAMPLES samples per run; nft -j list at N ≥ $DUMP_ONCE_FROM: once)"
}

main() {
	[[ $(id -u) == 0 ]] || die "run as root (sudo make bench): every sample needs its own network namespace"
	[[ -x $SRC_IPB ]] || die "no ipbanset binary at $SRC_IPB (run make)"
	need_packages ipset gnuplot-nox nftables gcc pkg-config libmnl-dev libnftnl-dev
	unshare -n true || die "unshare -n failed: cannot create network namespaces"

	local host_before host_ipset
	host_before=$(nft list ruleset 2>&1)
	host_ipset=$(ipset list -n 2>&1)
	[[ -z $host_before ]] || echo "bench: note: the host's ruleset is not empty; it is left alone" >&2

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/ipbanset-bench.XXXXXX")
	mkdir -p "$OUT" "$WORK/bin" "$WORK/in"
	rm -rf "$OUT/logs" && mkdir -p "$OUT/logs"
	export WORK RAW="$OUT/raw.tsv" LOGDIR="$OUT/logs" INPUT="$WORK/in" IPB="$WORK/bin/ipbanset" \
		FLOOR="$OUT/floor" TIMEIT="$OUT/timeit" CONF="$WORK/empty.conf" IPSET_CONF="$WORK/ipset.conf" BAN1_SAMPLES \
		DUMP_ONCE_FROM RUN=0
	: >"$RAW"
	: >"$CONF" && chmod 0600 "$CONF"
	printf 'backend = ipset\n' >"$IPSET_CONF" && chmod 0600 "$IPSET_CONF"
	unset SSH_CONNECTION SSH_CLIENT IPBANSET_DB IPBANSET_TABLE

	# A copy, so a rebuild of ./ipbanset during the run cannot change the binary midway.
	cp "$SRC_IPB" "$IPB"
	IPB_VERSION=$("$IPB" --version 2>&1 | head -n 1)
	gcc -O2 -Wall -o "$FLOOR" "$BENCH_DIR/floor.c" $(pkg-config --cflags --libs libmnl libnftnl) ||
		die "could not build floor"
	gcc -O2 -Wall -o "$OUT/timeit" "$BENCH_DIR/timeit.c" || die "could not build timeit"

	LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
	local n sizes=($BENCH_SIZES) m t_start=$SECONDS
	NMAX=0
	for n in "${sizes[@]}"; do ((n > NMAX)) && NMAX=$n; done
	echo "bench: $IPB_VERSION; sizes ${sizes[*]}; $BENCH_RUNS runs; output in $OUT" >&2
	for n in "${sizes[@]}"; do gen_inputs "$n"; done

	for ((RUN = 1; RUN <= BENCH_RUNS; RUN++)); do
		export RUN
		in_ns baseline
		in_ns state 0
		for n in "${sizes[@]}"; do
			echo "bench: run $RUN/$BENCH_RUNS, N=$n ($((SECONDS - t_start)) s so far)" >&2
			for m in $LOAD_METHODS; do
				in_ns load "$m" addr "$n"
				in_ns load "$m" net24 "$n"
			done
			in_ns state "$n"
			in_ns sync "$n"
			in_ns ipset_state "$n"
		done
	done

	IPB_VERSION_END=$("$SRC_IPB" --version 2>&1 | head -n 1 || echo "missing")
	aggregate
	plot
	local table ratios
	table=$(results_table)
	ratios=$(ratios_table)
	{
		echo "# ipbanset benchmarks"
		echo
		machine
		echo
		echo "Median wall time of $BENCH_RUNS runs (one ban: of $((BENCH_RUNS * BAN1_SAMPLES)) samples)"
		echo "and the largest peak RSS of the measured process; each sample in a fresh network"
		echo "namespace. \"(1×)\" marks a measurement taken once. See tests/bench/README.md."
		echo
		echo "$table"
		echo
		echo "$ratios"
		echo
		echo "![batch load, time against N](bench.png)"
	} >"$OUT/results.md"
	echo
	echo "$table"
	echo
	echo "$ratios"
	echo
	echo "bench: $OUT/results.tsv, results.md, bench.png ($((SECONDS - t_start)) s)" >&2

	local host_after
	host_after=$(nft list ruleset 2>&1)
	[[ $host_after == "$host_before" && $(ipset list -n 2>&1) == "$host_ipset" ]] ||
		die "the host's ruleset or ipsets changed during the run"
	((FAILED == 0)) || die "$FAILED scenario(s) failed; see $OUT/logs"
}

main "$@"
