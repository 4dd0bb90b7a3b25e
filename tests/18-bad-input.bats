#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Invalid input: exit 2, a message on stderr starting "ipbanset: ", nothing changed.
#
# The argument and configuration cases never reach the kernel: each group below is one
# table of cases run against one namespace and one journal (a test's set-up costs more
# than a case), and reports every case that fails, not only the first.

load helper

file_setup() {
	ibs_init
	ibs_ok ban -s keep 198.51.100.3
	BEFORE=$(snapshot)
	FAILED=()
	CASES=0
}

# bad NAME [--names TOKEN] ARGS...: ipbanset ARGS exits 2 with a message on stderr that
# starts "ipbanset: " (and names TOKEN), and changes nothing. A failing case is printed
# and counted; `cases_pass` at the end of the test fails it.
bad() {
	local name=$1 token=
	shift
	if [ "${1:-}" = --names ]; then
		token=$2
		shift 2
	fi
	run --separate-stderr ibs "$@"
	bad_check "$name" "$token"
}

# bad_check NAME TOKEN: the checks of `bad`, on the last run.
bad_check() {
	local why=
	CASES=$((CASES + 1))
	if [ "$status" -ne 2 ]; then
		why="exit $status, not 2"
	elif [[ "$stderr" != ipbanset:\ * ]]; then
		why="stderr does not start with 'ipbanset: '"
	elif [ -n "$2" ] && [[ "$stderr" != *"$2"* ]]; then
		why="stderr does not name '$2'"
	elif [ "$(snapshot)" != "$BEFORE" ]; then
		why="the journal or the kernel changed"
	fi
	if [ -n "$why" ]; then
		printf 'case "%s": %s\nstdout: %s\nstderr: %s\n' "$1" "$why" "$output" "$stderr" >&2
		FAILED+=("$1")
	fi
}

# bad_config_line LINE: a config whose line 2 is LINE makes ban exit 2 naming CONF:2:.
bad_config_line() {
	cp "$CONF" "$WORK/good.conf"
	printf '# line 1\n%s\n' "$1" >"$CONF"
	chmod 0600 "$CONF"
	run --separate-stderr ibs ban "$ATK_ADDR"
	cp "$WORK/good.conf" "$CONF"
	bad_check "config: $1" "$CONF:2:"
}

cases_pass() {
	if [ "${#FAILED[@]}" -gt 0 ]; then
		fail "${#FAILED[@]} of $CASES cases failed: $(printf '"%s" ' "${FAILED[@]}")"
	fi
	[ "$CASES" -gt 0 ] || fail "no case ran"
}

# invalid [--names TOKEN] ARGS...: one case, in a test of its own.
invalid() {
	bad "$BATS_TEST_DESCRIPTION" "$@"
	cases_pass
}

@test "bad addresses and prefixes (16 cases)" {
	bad "bad address: 256.1.1.1" --names 256.1.1.1 ban 256.1.1.1
	bad "bad address: 1.2.3" --names 1.2.3 ban 1.2.3
	bad "bad address: 1.2.3.4.5" --names 1.2.3.4.5 ban 1.2.3.4.5
	bad "bad address: 010.1.1.1 (leading zero)" --names 010.1.1.1 ban 010.1.1.1
	bad "bad address: 2001:db8::g" --names 2001:db8::g ban 2001:db8::g
	bad "bad address: empty string" ban ""
	bad "bad address: trailing space '1.2.3.4 '" ban "1.2.3.4 "
	bad "bad address: 2001:db8:::1" --names 2001:db8:::1 ban 2001:db8:::1
	bad "bad address: a hostname" --names example.com ban example.com
	bad "bad address in unban" --names 300.1.1.1 unban 300.1.1.1
	bad "bad prefix: 1.2.3.4/33" --names 1.2.3.4/33 ban 1.2.3.4/33
	bad "bad prefix: ::/129" --names ::/129 ban ::/129
	bad "bad prefix: 1.2.3.4/ (empty length)" --names 1.2.3.4/ ban 1.2.3.4/
	bad "bad prefix: /24 (no address)" --names /24 ban /24
	bad "bad prefix: 1.2.3.4/-1" --names 1.2.3.4/-1 ban 1.2.3.4/-1
	bad "bad prefix: 1.2.3.4/24x" --names 1.2.3.4/24x ban 1.2.3.4/24x
	cases_pass
}

# ---- all-or-nothing
@test "one bad target among good ones: nothing is banned" {
	invalid --names 256.1.1.1 ban "$ATK_ADDR" 203.0.113.0/24 256.1.1.1
	assert_reachable "$ATK_ADDR"
}

@test "bad durations (10 cases)" {
	bad "bad duration: abc" --names abc ban --timeout abc "$ATK_ADDR"
	bad "bad duration: 1x" --names 1x ban --timeout 1x "$ATK_ADDR"
	bad "bad duration: 1h1h" --names 1h1h ban --timeout 1h1h "$ATK_ADDR"
	bad "bad duration: 1.5h" --names 1.5h ban --timeout 1.5h "$ATK_ADDR"
	bad "bad duration: 99999999999999999999" --names 99999999999999999999 ban --timeout 99999999999999999999 "$ATK_ADDR"
	bad "bad duration: 20y" --names 20y ban --timeout 20y "$ATK_ADDR"
	bad "bad duration: -5" ban --timeout -5 "$ATK_ADDR"
	bad "bad duration: empty" ban --timeout "" "$ATK_ADDR"
	printf '%s\n' "$ATK_ADDR" >"$WORK/f"
	bad "bad duration for sync" sync -s feed --timeout 5q -f "$WORK/f"
	bad "bad duration for log --since" log --since soon
	cases_pass
}

@test "bad configuration lines name CONF:2: (10 cases)" {
	bad_config_line 'colour = blue'
	bad_config_line 'hook = sideways'
	bad_config_line 'priority = abc'
	bad_config_line 'priority = 5000'
	bad_config_line 'verdict = maybe'
	bad_config_line 'allow = 300.1.1.1'
	bad_config_line 'ipv6_prefix = 129'
	bad_config_line 'default_timeout = forever'
	bad_config_line 'default_timeout 1h'
	bad_config_line 'protect_self = maybe'
	cases_pass
}

@test "config: a leading UTF-8 byte order mark is skipped, not an invisible unknown key" {
	local backend
	backend=$(grep '^backend' "$CONF" || true)
	printf '\xef\xbb\xbfdefault_timeout = 2h\n%s\n' "$backend" >"$CONF"
	ibs_ok ban "$ATK_ADDR"
	[ -z "$stderr" ]
	[ "$(seconds_until "$(expires_of "$ATK_ADDR")")" -gt 3700 ]
	printf '# line 1\n\xef\xbb\xbfhook = input\n%s\n' "$backend" >"$CONF"
	run --separate-stderr ibs ban 198.51.100.77
	assert_status 2
	assert_stderr_has "$CONF:2: unknown key"
}

# ---- errors with --json
# json_error STATUS TEXT ARGS...: ipbanset ARGS exits STATUS, prints the message on stderr
# and one JSON object {"error": "...TEXT...", "exit": STATUS} on stdout.
json_error() {
	local want=$1 text=$2
	shift 2
	run --separate-stderr ibs "$@"
	assert_status "$want"
	assert_stderr_prefixed
	assert_stderr_has "$text"
	jq_ok --arg t "$text" --argjson x "$want" \
		'keys == ["error", "exit"] and .exit == $x and (.error | contains($t))'
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[[ "$stderr" == *"$(jq_val .error)"* ]]
	assert_unchanged "$BEFORE"
}

@test "--json: invalid input prints a JSON error object on stdout too (exit 2)" {
	json_error 2 "'1.2.3'" --json ban 1.2.3
	json_error 2 "invalid duration '1x'" ban -j --timeout 1x "$ATK_ADDR"
	json_error 2 "unknown command 'frobnicate'" -nj frobnicate
	# found before getopt reaches -j
	json_error 2 "invalid option '--bogus'" --bogus --json list
	json_error 2 "' 5'" init --priority ' 5' --json
}

@test "--json: a refusal by the allowlist (exit 3) and a system error (exit 4) too" {
	json_error 3 127.0.0.0/8 --json ban 127.0.0.1
	# shellcheck disable=SC2086 # IPBANSET may be a wrapped command line
	run --separate-stderr ip netns exec "$SRV" $IPBANSET -c "$CONF" -d /proc/nonexistent/x.db --json ban "$ATK_ADDR"
	assert_status 4
	jq_ok '.exit == 4 and (.error | contains("/proc/nonexistent"))'
}

@test "--json: no error object without --json, nor for query's 'not banned'" {
	run --separate-stderr ibs ban 1.2.3
	assert_status 2
	[ -z "$output" ]
	run --separate-stderr ibs --json query 203.0.113.77
	assert_status 1
	jq_ok '.banned == false and (has("error") | not)'
	run --separate-stderr ibs --reason -j ban
	assert_status 2
	[ -z "$output" ]
}

# ---- file lines
@test "file: bad address on line 3 of 5 names FILE:3:" {
	printf '%s\n' 198.51.100.10 198.51.100.11 10.0.300.1 198.51.100.12 198.51.100.13 >"$WORK/five"
	invalid --names "$WORK/five:3:" ban -f "$WORK/five"
	assert_stderr_has 10.0.300.1
}
@test "file: bad prefix on line 2 for unban" {
	printf '%s\n' 198.51.100.3 10.0.0.0/40 >"$WORK/two"
	invalid --names "$WORK/two:2:" unban -s keep -f "$WORK/two"
}

@test "bad options and commands (31 cases)" {
	bad "unknown option --bogus" --names --bogus ban --bogus "$ATK_ADDR"
	bad "unknown global option before the command" --names --frobnicate --frobnicate list
	bad "unknown command" --names frobnicate frobnicate
	bad "no command at all"
	bad "ban with no target" ban
	bad "unban with no target" unban
	printf '%s\n' 198.51.100.77 >"$WORK/f"
	bad "ban with both targets and -f" ban "$ATK_ADDR" -f "$WORK/f"
	printf '%s\n' "$ATK_ADDR" >"$WORK/f"
	bad "sync without --source" sync -f "$WORK/f"
	bad "sync without -f" sync -s feed
	bad "unban with both --source and --all-sources" unban -s keep --all-sources 198.51.100.3
	bad "list --family 5" list --family 5
	bad "status --format xml" --names xml status --format xml
	bad "query with two targets" query "$ATK_ADDR" 198.51.100.3
	bad "query with no target" query
	bad "init --hook sideways" --names sideways init --hook sideways
	bad "init --verdict maybe" --names maybe init --verdict maybe
	bad "init --priority abc" --names abc init --priority abc
	bad "init --priority ' 5' (a leading blank, as no other number takes)" --names "' 5'" init --priority ' 5'
	bad "init --priority +5" --names +5 init --priority +5
	bad "--timeout with no value" ban "$ATK_ADDR" --timeout
	bad "bad table name" -T 'bad name!' list
	bad "--jitter abc" --names abc ban --jitter abc "$ATK_ADDR"
	bad "--jitter 0" --names 0 ban --jitter 0 "$ATK_ADDR"
	bad "--jitter that overflows the timeout" --names 1000w ban -t 500w --jitter 1000w "$ATK_ADDR"
	bad "--jitter does not apply to unban" --names --jitter unban --jitter 1m "$ATK_ADDR"
	printf '%s\n' "$ATK_ADDR" >"$WORK/f"
	bad "--max-removals 5x" --names 5x sync -s feed --max-removals 5x -f "$WORK/f"
	printf '%s\n' "$ATK_ADDR" >"$WORK/f"
	bad "--max-removals 101%" --names 101% sync -s feed --max-removals 101% -f "$WORK/f"
	printf '%s\n' "$ATK_ADDR" >"$WORK/f"
	bad "--max-removals -1" --names -1 sync -s feed --max-removals -1 -f "$WORK/f"
	bad "--max-removals applies only to sync" --names --max-removals ban --max-removals 3 "$ATK_ADDR"
	bad "--netns with a slash" --names ../x --netns ../x list
	bad "--netns that does not exist" --names ibs-no-such-ns --netns ibs-no-such-ns ban "$ATK_ADDR"
	cases_pass
}

@test "missing explicit config file" {
	run --separate-stderr ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$WORK/nope.conf" ban "$ATK_ADDR"
	assert_status 2
	assert_stderr_prefixed
	assert_stderr_has "$WORK/nope.conf"
	assert_unchanged "$BEFORE"
}
