#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the libFuzzer targets over the pure modules and run each for FUZZ_SECONDS.
#
#   tests/fuzz/run.sh                 # every fuzzer, 60 s each
#   FUZZ_SECONDS=600 tests/fuzz/run.sh
#   tests/fuzz/run.sh plan config     # only fuzz_plan and fuzz_config
#
# Binaries go to tests/fuzz/out/. The committed corpus tests/fuzz/corpus/NAME/ is only
# read: new inputs go to a scratch corpus under /tmp, crashes to a scratch artifact
# directory whose path is printed. Each fuzzer run is one test; the last line is
# "N passed, N failed" and the exit status is non-zero when any fuzzer crashed.
set -u
cd "$(dirname "$0")/../.." || exit 2

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_DIR=tests/fuzz
OUT=$FUZZ_DIR/out
PURE_SRC="src/common.c src/addr.c src/duration.c src/config.c src/plan.c"
ALL="target duration listfile config plan change"
CC=${FUZZ_CC:-clang}

if [ $# -gt 0 ]; then names="$*"; else names=$ALL; fi
for n in $names; do
	case " $ALL " in *" ${n#fuzz_} "*) ;; *) echo "run.sh: unknown fuzzer '$n' (have: $ALL)" >&2; exit 2 ;; esac
done

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "run.sh: $CC not found; installing Debian's clang"
	if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang >/dev/null
	if ! command -v "$CC" >/dev/null 2>&1; then
		echo "run.sh: cannot install clang" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

# libFuzzer's runtime is only a Recommends of Debian's clang: add it when a trivial
# fuzzer does not link.
fuzz_links() {
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
		"$CC" -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1
}
if ! fuzz_links; then
	ver=$("$CC" -dumpversion | cut -d. -f1)
	echo "run.sh: libFuzzer runtime missing; installing libclang-rt-$ver-dev"
	if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "libclang-rt-$ver-dev" >/dev/null
	if ! fuzz_links; then
		echo "run.sh: cannot link a libFuzzer program with $CC" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

# The pure modules get libFuzzer's coverage instrumentation; the harnesses (brute-force
# models, reference parsers) only the sanitizers, so the fuzzer's time and its coverage
# feedback go to the code under test. -O1 -g: fast enough, readable stack traces.
SAN=("-fsanitize=address,undefined" -fno-sanitize-recover=all)
CFLAGS_FUZZ=(-std=gnu11 -D_GNU_SOURCE -Isrc "-I$FUZZ_DIR" -g -O1 -fno-omit-frame-pointer
	-Wall -Wextra -Wshadow -Wno-unused-parameter)
OBJS=()
build_objs() {
	local f o
	mkdir -p "$scratch/obj"
	for f in $PURE_SRC; do
		o=$scratch/obj/$(basename "$f" .c).o
		"$CC" "${CFLAGS_FUZZ[@]}" "${SAN[@]}" -fsanitize=fuzzer-no-link -c -o "$o" "$f" || return 1
		OBJS+=("$o")
	done
}

mkdir -p "$OUT"
scratch=$(mktemp -d /tmp/ipbanset-fuzz.XXXXXX)
echo "run.sh: ${FUZZ_SECONDS}s per fuzzer; scratch corpus and crashes in $scratch"

passed=0
failed=0
summary=()
if ! build_objs; then
	echo "run.sh: cannot build the pure modules with $CC"
	echo "0 passed, 1 failed"
	exit 1
fi
for n in $names; do
	n=${n#fuzz_}
	bin=$OUT/fuzz_$n
	log=$scratch/$n.log
	echo "== fuzz_$n"
	if ! { "$CC" "${CFLAGS_FUZZ[@]}" "${SAN[@]}" -c -o "$scratch/obj/fuzz_$n.o" "$FUZZ_DIR/fuzz_$n.c" &&
		"$CC" "${SAN[@]}" -fsanitize=fuzzer -o "$bin" "$scratch/obj/fuzz_$n.o" "${OBJS[@]}"; }; then
		echo "fuzz_$n: BUILD FAILED"
		summary+=("fuzz_$n: build failed")
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$scratch/corpus-$n" "$scratch/crashes-$n"
	dict=()
	[ -f "$FUZZ_DIR/$n.dict" ] && dict=(-dict="$FUZZ_DIR/$n.dict")
	case $n in plan) maxlen=1024 ;; *) maxlen=4096 ;; esac
	# The first corpus directory receives new inputs: the scratch one, so the committed
	# seeds are only read.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -max_len=$maxlen "${dict[@]}" \
		-artifact_prefix="$scratch/crashes-$n/" \
		"$scratch/corpus-$n" "$FUZZ_DIR/corpus/$n" >"$log" 2>&1
	rc=$?
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n1)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n1 | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
	crashes=$(find "$scratch/crashes-$n" -type f | sort)
	if [ "$rc" -eq 0 ] && [ -z "$crashes" ]; then
		echo "fuzz_$n: ok: ${execs:-?} executions, coverage ${cov:-?} edges, $(find "$scratch/corpus-$n" -type f | wc -l) new corpus inputs"
		summary+=("fuzz_$n: ok, ${execs:-?} executions")
		passed=$((passed + 1))
	else
		echo "fuzz_$n: FAILED (exit $rc) after ${execs:-?} executions"
		# the harness's or the sanitizer's message, then the top of the stack
		grep -m1 -B4 -E '==[0-9]+== ?ERROR|runtime error' "$log" | grep -vE '^(#[0-9]+[[:space:]]|INFO:|MS:|base unit:)'
		grep -E '^ *#[0-9]+ 0x' "$log" | head -n 12
		for c in $crashes; do echo "fuzz_$n: crash input: $c (reproduce: $bin $c)"; done
		echo "fuzz_$n: full log: $log"
		summary+=("fuzz_$n: FAILED, ${execs:-?} executions")
		failed=$((failed + 1))
	fi
done

echo "== summary"
for s in "${summary[@]}"; do echo "$s"; done
if [ "$failed" -eq 0 ]; then
	rm -rf "$scratch"
else
	echo "run.sh: logs, crash inputs and the scratch corpus are kept in $scratch"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
