#!/usr/bin/env bats
# Invalid input: exit 2, a message on stderr starting "ipbanset: ", nothing changed.

load helper

file_setup() {
	ibs_init
	ibs_ok ban -s keep 198.51.100.3
	BEFORE=$(snapshot)
}

# invalid [--names TOKEN] ARGS...: ipbanset ARGS exits 2 and changes nothing.
invalid() {
	local token=
	if [ "$1" = --names ]; then
		token=$2
		shift 2
	fi
	run --separate-stderr ibs "$@"
	assert_status 2
	assert_stderr_prefixed
	if [ -n "$token" ]; then assert_stderr_has "$token"; fi
	assert_unchanged "$BEFORE"
}

# bad_config LINE: a config whose line 2 is LINE makes ban exit 2 with CONF:2:.
bad_config() {
	cp "$CONF" "$WORK/good.conf"
	printf '# line 1\n%s\n' "$1" >"$CONF"
	chmod 0600 "$CONF"
	run --separate-stderr ibs ban "$ATK_ADDR"
	cp "$WORK/good.conf" "$CONF"
	assert_status 2
	assert_stderr_prefixed
	assert_stderr_has "$CONF:2:"
	assert_unchanged "$BEFORE"
}

# ---- addresses
@test "bad address: 256.1.1.1" { invalid --names 256.1.1.1 ban 256.1.1.1; }
@test "bad address: 1.2.3" { invalid --names 1.2.3 ban 1.2.3; }
@test "bad address: 1.2.3.4.5" { invalid --names 1.2.3.4.5 ban 1.2.3.4.5; }
@test "bad address: 010.1.1.1 (leading zero)" { invalid --names 010.1.1.1 ban 010.1.1.1; }
@test "bad address: 2001:db8::g" { invalid --names 2001:db8::g ban 2001:db8::g; }
@test "bad address: empty string" { invalid ban ""; }
@test "bad address: trailing space '1.2.3.4 '" { invalid ban "1.2.3.4 "; }
@test "bad address: 2001:db8:::1" { invalid --names 2001:db8:::1 ban 2001:db8:::1; }
@test "bad address: a hostname" { invalid --names example.com ban example.com; }
@test "bad address in unban" { invalid --names 300.1.1.1 unban 300.1.1.1; }

# ---- prefixes
@test "bad prefix: 1.2.3.4/33" { invalid --names 1.2.3.4/33 ban 1.2.3.4/33; }
@test "bad prefix: ::/129" { invalid --names ::/129 ban ::/129; }
@test "bad prefix: 1.2.3.4/ (empty length)" { invalid --names 1.2.3.4/ ban 1.2.3.4/; }
@test "bad prefix: /24 (no address)" { invalid --names /24 ban /24; }
@test "bad prefix: 1.2.3.4/-1" { invalid --names 1.2.3.4/-1 ban 1.2.3.4/-1; }
@test "bad prefix: 1.2.3.4/24x" { invalid --names 1.2.3.4/24x ban 1.2.3.4/24x; }

# ---- all-or-nothing
@test "one bad target among good ones: nothing is banned" {
	invalid --names 256.1.1.1 ban "$ATK_ADDR" 203.0.113.0/24 256.1.1.1
	assert_reachable "$ATK_ADDR"
}

# ---- durations
@test "bad duration: abc" { invalid --names abc ban --timeout abc "$ATK_ADDR"; }
@test "bad duration: 1x" { invalid --names 1x ban --timeout 1x "$ATK_ADDR"; }
@test "bad duration: 1h1h" { invalid --names 1h1h ban --timeout 1h1h "$ATK_ADDR"; }
@test "bad duration: 1.5h" { invalid --names 1.5h ban --timeout 1.5h "$ATK_ADDR"; }
@test "bad duration: 99999999999999999999" { invalid --names 99999999999999999999 ban --timeout 99999999999999999999 "$ATK_ADDR"; }
@test "bad duration: 20y" { invalid --names 20y ban --timeout 20y "$ATK_ADDR"; }
@test "bad duration: -5" { invalid ban --timeout -5 "$ATK_ADDR"; }
@test "bad duration: empty" { invalid ban --timeout "" "$ATK_ADDR"; }
@test "bad duration for sync" { printf '%s\n' "$ATK_ADDR" >"$WORK/f"; invalid sync -s feed --timeout 5q -f "$WORK/f"; }
@test "bad duration for log --since" { invalid log --since soon; }

# ---- config lines
@test "config: unknown key" { bad_config 'colour = blue'; }
@test "config: hook = sideways" { bad_config 'hook = sideways'; }
@test "config: priority = abc" { bad_config 'priority = abc'; }
@test "config: priority out of range" { bad_config 'priority = 5000'; }
@test "config: verdict = maybe" { bad_config 'verdict = maybe'; }
@test "config: allow = 300.1.1.1" { bad_config 'allow = 300.1.1.1'; }
@test "config: ipv6_prefix = 129" { bad_config 'ipv6_prefix = 129'; }
@test "config: default_timeout = forever" { bad_config 'default_timeout = forever'; }
@test "config: missing '='" { bad_config 'default_timeout 1h'; }
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

# ---- options and commands
@test "unknown option --bogus" { invalid --names --bogus ban --bogus "$ATK_ADDR"; }
@test "unknown global option before the command" { invalid --names --frobnicate --frobnicate list; }
@test "unknown command" { invalid --names frobnicate frobnicate; }
@test "no command at all" { invalid; }
@test "ban with no target" { invalid ban; }
@test "unban with no target" { invalid unban; }
@test "ban with both targets and -f" {
	printf '%s\n' 198.51.100.77 >"$WORK/f"
	invalid ban "$ATK_ADDR" -f "$WORK/f"
}
@test "sync without --source" {
	printf '%s\n' "$ATK_ADDR" >"$WORK/f"
	invalid sync -f "$WORK/f"
}
@test "sync without -f" { invalid sync -s feed; }
@test "unban with both --source and --all-sources" { invalid unban -s keep --all-sources 198.51.100.3; }
@test "list --family 5" { invalid list --family 5; }
@test "status --format xml" { invalid --names xml status --format xml; }
@test "query with two targets" { invalid query "$ATK_ADDR" 198.51.100.3; }
@test "query with no target" { invalid query; }
@test "init --hook sideways" { invalid --names sideways init --hook sideways; }
@test "init --verdict maybe" { invalid --names maybe init --verdict maybe; }
@test "init --priority abc" { invalid --names abc init --priority abc; }
@test "init --priority ' 5' (a leading blank, as no other number takes)" { invalid --names "' 5'" init --priority ' 5'; }
@test "init --priority +5" { invalid --names +5 init --priority +5; }
@test "--timeout with no value" { invalid ban "$ATK_ADDR" --timeout; }
@test "bad table name" { invalid -T 'bad name!' list; }
@test "--jitter abc" { invalid --names abc ban --jitter abc "$ATK_ADDR"; }
@test "--jitter 0" { invalid --names 0 ban --jitter 0 "$ATK_ADDR"; }
@test "--jitter that overflows the timeout" { invalid --names 1000w ban -t 500w --jitter 1000w "$ATK_ADDR"; }
@test "--jitter does not apply to unban" { invalid --names --jitter unban --jitter 1m "$ATK_ADDR"; }
@test "--max-removals 5x" { printf '%s\n' "$ATK_ADDR" >"$WORK/f"; invalid --names 5x sync -s feed --max-removals 5x -f "$WORK/f"; }
@test "--max-removals 101%" { printf '%s\n' "$ATK_ADDR" >"$WORK/f"; invalid --names 101% sync -s feed --max-removals 101% -f "$WORK/f"; }
@test "--max-removals -1" { printf '%s\n' "$ATK_ADDR" >"$WORK/f"; invalid --names -1 sync -s feed --max-removals -1 -f "$WORK/f"; }
@test "--max-removals applies only to sync" { invalid --names --max-removals ban --max-removals 3 "$ATK_ADDR"; }
@test "--netns with a slash" { invalid --names ../x --netns ../x list; }
@test "--netns that does not exist" { invalid --names ibs-no-such-ns --netns ibs-no-such-ns ban "$ATK_ADDR"; }
@test "missing explicit config file" {
	run --separate-stderr ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$WORK/nope.conf" ban "$ATK_ADDR"
	assert_status 2
	assert_stderr_prefixed
	assert_stderr_has "$WORK/nope.conf"
	assert_unchanged "$BEFORE"
}
