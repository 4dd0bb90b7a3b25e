#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Random sequences of ban, unban, --replace, sync and flush across several sources and
# nested IPv4/IPv6 targets, checked after every step against a model of the contract:
# the journal holds each source's ban with its expiry (a re-ban never shortens without
# --replace; sync renews a listed ban when less than half its duration remains), and
# the kernel holds each target once, until the latest expiry among its sources.
# The seed is printed on failure; MODEL_SEED and MODEL_STEPS (40) replay or lengthen a run.

load helper

file_setup() {
	ibs_init
}

TARGETS=(198.51.100.0/24 198.51.100.0/26 198.51.100.5 198.51.100.70 203.0.113.0/24
	203.0.113.128/25 203.0.113.200 2001:db8::/32 2001:db8:1::/48 2001:db8:1::5
	2001:db8:2::/64 2001:db8:2::9)
SOURCES=(a b c)
# Seconds by which an expiry may differ from the model's: the model reads the clock
# just before each command, ipbanset a moment later (seconds later on a loaded machine).
# The durations differ by minutes, so no wrong choice hides in it.
SLACK=6
# ban and sync durations, chosen so that no remaining time lies near half a sync
# duration (50m, 90m), where a second of clock difference would decide
BAN_DURS=(600 3600 18000 permanent)
SYNC_DURS=(6000 10800)

# secs D: the duration as ipbanset's -t takes it
dur_arg() { if [ "$1" = permanent ]; then echo permanent; else echo "${1}s"; fi; }

# model_ban S D REPLACE T: the journal's rule for one target of a ban.
model_ban() {
	local key="$4|$1" now new old
	now=$(date +%s)
	if [ "$2" = permanent ]; then new=never; else new=$((now + $2)); fi
	old=${MODEL[$key]:-}
	if [ -n "$old" ] && [ "$3" = no ]; then
		if [ "$old" = never ] || { [ "$new" != never ] && [ "$old" -ge "$new" ]; }; then
			new=$old
		fi
	fi
	MODEL[$key]=$new
}

# model_sync S D T...: S's bans become exactly T...; a kept one is renewed when less
# than half of D remains.
model_sync() {
	local s=$1 d=$2 now key t old keep
	shift 2
	now=$(date +%s)
	for key in "${!MODEL[@]}"; do
		[ "${key#*|}" = "$s" ] || continue
		keep=no
		for t in "$@"; do [ "$key" = "$t|$s" ] && keep=yes; done
		[ "$keep" = yes ] || unset 'MODEL[$key]'
	done
	for t in "$@"; do
		old=${MODEL[$t|$s]:-}
		if [ -z "$old" ] || { [ "$old" != never ] && [ $((old - now)) -lt $((d / 2)) ]; }; then
			MODEL[$t|$s]=$((now + d))
		fi
	done
}

model_drop() { # model_drop SOURCE|"*" TARGET|"*"
	local key
	for key in "${!MODEL[@]}"; do
		if { [ "$1" = "*" ] || [ "${key#*|}" = "$1" ]; } && { [ "$2" = "*" ] || [ "${key%|*}" = "$2" ]; }; then
			unset 'MODEL[$key]'
		fi
	done
}

# set_of TARGET: "SET VALUE" as the kernel names it (v4_24 203.0.113.0)
set_of() {
	local v=${1%/*} fam=4 plen
	[[ "$1" == *:* ]] && fam=6
	if [[ "$1" == */* ]]; then plen=${1#*/}; elif [ $fam = 4 ]; then plen=32; else plen=128; fi
	echo "v${fam}_$plen $v"
}

# The kernel's elements as "SET VALUE SECONDS-LEFT|none", sorted.
kernel_state() {
	if is_ipset; then
		ipset_elements_raw | awk '{ print $1, $2, ($3 > 0 ? $3 : "none") }' | sort
		return
	fi
	nft_json | jq -r '.nftables[] | select(.set) | .set as $s | ($s.elem // [])[]
		| if type == "object" then .elem else {val: .} end
		| "\($s.name) \(.val) \(if .expires then (.expires | floor) else "none" end)"' | sort
}

# check_step WHAT: journal and kernel agree with the model.
check_step() {
	local what=$1 now key t best exp want got line
	now=$(date +%s)
	# the journal: every (target, source) with its expiry
	want=$(for key in "${!MODEL[@]}"; do echo "$key ${MODEL[$key]}"; done | sort)
	run --separate-stderr ibs --json list
	[ "$status" -eq 0 ] || fail "$what: list failed: $stderr"
	got=$(jq -r '.[] | "\(.target)|\(.source) \(if .expires then (.expires | fromdateiso8601) else "never" end)"' <<<"$output" | sort)
	compare_times "$what: journal" "$want" "$got" "$SLACK"
	# the kernel: each target once, until its latest expiry, as seconds left
	declare -A best=()
	for key in "${!MODEL[@]}"; do
		t=${key%|*}
		exp=${MODEL[$key]}
		if [ "$exp" = never ] || [ "${best[$t]:-0}" = never ]; then best[$t]=never
		elif [ "$exp" -gt "${best[$t]:-0}" ]; then best[$t]=$exp; fi
	done
	# seconds left as of now: the kernel is read right after
	now=$(date +%s)
	want=$(for t in "${!best[@]}"; do
		if [ "${best[$t]}" = never ]; then echo "$(set_of "$t") none"
		else echo "$(set_of "$t") $((best[$t] - now))"; fi
	done | sort)
	got=$(kernel_state)
	compare_times "$what: kernel" "$want" "$got" "$SLACK"
}

# compare_times WHAT WANT GOT SLACK: the same lines, numbers (last field) within SLACK.
compare_times() {
	local bad
	bad=$(join -a1 -a2 -e MISSING -o 0,1.2,2.2 \
		<(awk 'NF { k = $1; for (i = 2; i < NF; i++) k = k "_" $i; print k, $NF }' <<<"$2" | sort) \
		<(awk 'NF { k = $1; for (i = 2; i < NF; i++) k = k "_" $i; print k, $NF }' <<<"$3" | sort) |
		awk -v s="$4" '$2 == "MISSING" || $3 == "MISSING" { print; next }
			$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { d = $2 - $3; if (d < -s || d > s) print; next }
			$2 != $3 { print }')
	[ -z "$bad" ] || fail "$1 differs from the model (key, model, actual):
$bad
seed $SEED, steps so far:
$(cat "$WORK/steps")"
}

pick() { # pick ARRAY-NAME: one element at random
	local -n arr=$1
	echo "${arr[RANDOM % ${#arr[@]}]}"
}

# some_targets: 1 to 3 distinct targets at random
some_targets() {
	local n=$((RANDOM % 3 + 1)) out=() t
	while [ "${#out[@]}" -lt "$n" ]; do
		t=$(pick TARGETS)
		[[ " ${out[*]} " == *" $t "* ]] || out+=("$t")
	done
	echo "${out[@]}"
}

# one_step: a random command, run, and applied to the model when it succeeded.
one_step() {
	local op=$((RANDOM % 10)) s d ts t key mine=()
	s=$(pick SOURCES)
	read -r -a ts <<<"$(some_targets)"
	case $op in
	0 | 1 | 2)
		d=$(pick BAN_DURS)
		echo "ban -s $s -t $(dur_arg "$d") ${ts[*]}" >>"$WORK/steps"
		ibs_ok ban -s "$s" -t "$(dur_arg "$d")" "${ts[@]}"
		for t in "${ts[@]}"; do model_ban "$s" "$d" no "$t"; done
		;;
	3)
		d=$(pick BAN_DURS)
		echo "ban --replace -s $s -t $(dur_arg "$d") ${ts[*]}" >>"$WORK/steps"
		ibs_ok ban --replace -s "$s" -t "$(dur_arg "$d")" "${ts[@]}"
		for t in "${ts[@]}"; do model_ban "$s" "$d" yes "$t"; done
		;;
	4 | 5)
		# withdraw one of this source's bans, when it has any
		for key in "${!MODEL[@]}"; do [ "${key#*|}" = "$s" ] && mine+=("${key%|*}"); done
		[ "${#mine[@]}" -gt 0 ] || return 0
		t=${mine[RANDOM % ${#mine[@]}]}
		echo "unban -s $s $t" >>"$WORK/steps"
		ibs_ok unban -s "$s" "$t"
		model_drop "$s" "$t"
		;;
	6)
		t=${ts[0]}
		echo "unban --all-sources $t" >>"$WORK/steps"
		run --separate-stderr ibs unban --all-sources "$t"
		model_drop "*" "$t"
		;;
	7)
		d=$(pick SYNC_DURS)
		printf '%s\n' "${ts[@]}" >"$WORK/list"
		echo "sync -s $s -t ${d}s -f [${ts[*]}]" >>"$WORK/steps"
		ibs_ok sync -s "$s" -t "${d}s" -f "$WORK/list"
		model_sync "$s" "$d" "${ts[@]}"
		;;
	8)
		echo "flush -s $s" >>"$WORK/steps"
		ibs_ok flush -s "$s"
		model_drop "$s" "*"
		;;
	9)
		# a full flush now and then; most steps build up state
		if [ $((RANDOM % 3)) -eq 0 ]; then
			echo "flush" >>"$WORK/steps"
			ibs_ok flush
			model_drop "*" "*"
		fi
		;;
	esac
}

@test "random ban/unban/--replace/sync/flush sequences: journal and kernel match the model after every step" {
	declare -gA MODEL=() # "target|source" -> expiry (epoch seconds) or "never"
	SEED=${MODEL_SEED:-$((($(date +%s%N) / 1000) % 32768))}
	RANDOM=$SEED
	local step steps=${MODEL_STEPS:-40}
	: >"$WORK/steps"
	for ((step = 1; step <= steps; step++)); do
		one_step
		check_step "step $step"
	done
}
