#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Hostile input and files: reasons with control characters, ANSI escapes, newlines,
# invalid UTF-8 or huge lengths are stored exactly, escaped on every output, and cut
# whole for the kernel comment; list files with NUL bytes or huge lines are refused
# by line; unsafe journal and config files are refused; no setuid.

load helper

file_setup() {
	ibs_init
}

# no_raw_controls TEXT: TEXT holds no ESC, BEL, DEL, CR or other C0 byte but \n and \t.
no_raw_controls() {
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$1"; then
		fail "raw control characters in output: $(printf '%s' "$1" | od -c | head -5)"
	fi
}

EVIL=$'evil\e[31mred\e[0m\e]0;pwned\aline2\x07\x7f\r tab\there'

@test "a reason with ANSI escapes and control characters: stored exactly, escaped on output" {
	ibs_ok ban -r "$EVIL" 203.0.113.5
	run --separate-stderr ibs list
	assert_status 0
	no_raw_controls "$output"
	[[ "$output" == *'evil\x1b[31mred'* ]]
	[ "$(wc -l <<<"$output")" -eq 2 ] || fail "the reason broke the line structure: $output"
	run --separate-stderr ibs log
	no_raw_controls "$output"
	run --separate-stderr ibs status
	no_raw_controls "$output"
	# JSON carries the exact string
	run --separate-stderr ibs --json list
	[ "$(jq -r '.[0].reason' <<<"$output")" = "$EVIL" ]
	run --separate-stderr ibs --json status
	[ "$(jq -r '.next[0].reason' <<<"$output")" = "$EVIL" ]
	# the kernel comment is escaped too: nft list prints it raw to a terminal
	local k
	if is_ipset; then
		k=$(ip netns exec "$SRV" ipset list ipbanset-ip4)
	else
		k=$(ip netns exec "$SRV" nft list set inet ipbanset v4_32)
	fi
	no_raw_controls "$k"
	[[ "$k" == *'manual: evil\x1b[31mred'* ]]
}

@test "a reason with a newline cannot forge a second line in list or log" {
	ibs_ok ban -r $'x\n203.0.113.99         manual           permanent' 203.0.113.5
	run --separate-stderr ibs list
	[ "$(grep -c '203.0.113.99' <<<"$output")" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	run --separate-stderr ibs log
	[ "$(grep -c '203.0.113.99' <<<"$output")" -eq 1 ]
	[ "$(grep -c . <<<"$output")" -eq 2 ] # init and the ban
}

@test "invalid UTF-8 in a reason: valid JSON out, escaped text, escaped kernel comment" {
	ibs_ok ban -r $'bad \xff\xfe\xc3 end' 203.0.113.5
	run --separate-stderr ibs --json list
	jq -e . <<<"$output" >/dev/null
	run --separate-stderr ibs list
	[[ "$output" == *'bad \xff\xfe\xc3 end'* ]]
	run --separate-stderr ibs --json log
	jq -e . <<<"$output" >/dev/null
	# nft's JSON drops a comment that is not UTF-8; ours is escaped, so it is there
	[ "$(kernel_elem v4_32 203.0.113.5 | jq -r .comment)" = 'manual: bad \xff\xfe\xc3 end' ]
}

@test "a long multi-byte reason: kept whole in the journal, cut at a character boundary for the kernel" {
	local r
	r=$(printf 'é%.0s' $(seq 300)) # 600 bytes
	ibs_ok ban -r "$r" 203.0.113.5
	run --separate-stderr ibs --json list
	[ "$(jq -r '.[0].reason' <<<"$output")" = "$r" ]
	local c
	c=$(kernel_elem v4_32 203.0.113.5 | jq -r .comment)
	[ -n "$c" ] && [ "$c" != null ]
	[ "$(printf '%s' "$c" | wc -c)" -le 127 ]
	printf '%s' "$c" | iconv -f UTF-8 -t UTF-8 >/dev/null || fail "kernel comment is not valid UTF-8"
	[[ "manual: $r" == "$c"* ]]
}

@test "a reason over 1024 bytes is refused with exit 2 and nothing changes" {
	local before
	before=$(snapshot)
	run --separate-stderr ibs ban -r "$(head -c 5000 /dev/zero | tr '\0' x)" 203.0.113.5
	assert_status 2
	assert_stderr_has "at most 1024"
	assert_unchanged "$before"
}

@test "list files: a NUL byte, a 2 MB line and binary garbage are refused by line" {
	local before
	before=$(snapshot)
	printf '203.0.113.5\n203.0.113.9\0junk\n' >"$WORK/nul"
	run --separate-stderr ibs ban -f "$WORK/nul"
	assert_status 2
	assert_stderr_has "$WORK/nul:2:"
	head -c 2000000 /dev/zero | tr '\0' 9 >"$WORK/long"
	run --separate-stderr ibs ban -f "$WORK/long"
	assert_status 2
	assert_stderr_has "$WORK/long:1:"
	[ "${#stderr}" -lt 400 ] || fail "the error message echoes the whole line (${#stderr} bytes)"
	head -c 4096 /dev/urandom >"$WORK/garbage"
	run --separate-stderr ibs ban -f "$WORK/garbage"
	assert_status 2
	no_raw_controls "$stderr"
	assert_unchanged "$before"
}

@test "CRLF list files (downloaded from Windows hosts) are read as they are" {
	printf '203.0.113.5\r\n203.0.113.9 ; comment\r\n' >"$WORK/crlf"
	ibs_ok ban -f "$WORK/crlf"
	assert_kernel_has v4_32 203.0.113.5
	assert_kernel_has v4_32 203.0.113.9
}

@test "journal or config that is a symlink is refused with exit 4" {
	ibs_ok ban 203.0.113.5
	mv "$DB" "$WORK/real.db"
	ln -s "$WORK/real.db" "$DB"
	run --separate-stderr ibs ban 203.0.113.9
	assert_status 4
	assert_stderr_has "$DB"
	rm "$DB"
	mv "$WORK/real.db" "$DB"
	cp "$CONF" "$WORK/real.conf"
	ln -sf "$WORK/real.conf" "$WORK/link.conf"
	run --separate-stderr ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$WORK/link.conf" ban 203.0.113.9
	assert_status 4
	assert_stderr_has link.conf
	refute kernel_has_element v4_32 203.0.113.9
}

@test "journal or config owned by another user is refused with exit 4" {
	ibs_ok ban 203.0.113.5
	chown 65534 "$DB"
	run --separate-stderr ibs ban 203.0.113.9
	assert_status 4
	assert_stderr_has "$DB"
	chown 0 "$DB"
	chown 65534 "$CONF"
	run --separate-stderr ibs ban 203.0.113.9
	assert_status 4
	assert_stderr_has "$CONF"
	chown 0 "$CONF"
	refute kernel_has_element v4_32 203.0.113.9
}

@test "IPBANSET_DB pointing at a file another user controls is refused, and the message says where the path came from" {
	prepare_nobody
	touch "$NOBODY_DIR/state/ipbanset.db"
	chown 65534 "$NOBODY_DIR/state/ipbanset.db"
	run --separate-stderr env IPBANSET_DB="$NOBODY_DIR/state/ipbanset.db" \
		ip netns exec "$SRV" $IPBANSET -c "$CONF" ban 203.0.113.9
	assert_status 4
	assert_stderr_has IPBANSET_DB
	refute kernel_has_element v4_32 203.0.113.9
}

@test "a setuid copy refuses to run" {
	prepare_nobody
	[ -f "$NOBODY_DIR/ipbanset" ] || skip "IPBANSET is a wrapped command line"
	chmod 4755 "$NOBODY_DIR/ipbanset"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NOBODY_DIR/ipbanset" -d "$NOBODY_DIR/state/x.db" list
	assert_status 4
	assert_stderr_has setuid
}
