#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Block-list imports from cron: packaging/cron/ipbanset-import never empties a source
# because a download failed, came back empty or truncated; sync --max-removals and
# --jitter, which it relies on.

load helper

IMPORT="$BATS_TEST_DIRNAME/../packaging/cron/ipbanset-import"
CRONFILE="$BATS_TEST_DIRNAME/../packaging/cron/ipbanset-import.cron"
HTTP_PORT=8080

file_setup() {
	ibs_init
	# The script execs one program: a wrapper, as $IPBANSET may be a command line.
	printf '#!/bin/sh\nexec %s "$@"\n' "$IPBANSET" >"$WORK/ipbanset"
	# logger(1) stand-in, so the syslog path runs without touching the host's log
	mkdir "$WORK/bin" "$WORK/tmp"
	printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\n' "$WORK/logger.log" >"$WORK/bin/logger"
	chmod 0755 "$WORK/ipbanset" "$WORK/bin/logger"
}

# imp [OPTIONS] SOURCE URL: the import script in the server namespace, on the test's
# journal and config, with its temporary files in $WORK/tmp.
imp() {
	ip netns exec "$SRV" env PATH="$WORK/bin:$PATH" TMPDIR="$WORK/tmp" \
		"$IMPORT" --ipbanset "$WORK/ipbanset" "$@" -- -d "$DB" -c "$CONF"
}

imp_ok() {
	run --separate-stderr imp "$@"
	if [ "$status" -ne 0 ]; then
		printf 'ipbanset-import %s exited %s\nstdout: %s\nstderr: %s\n' \
			"$*" "$status" "$output" "$stderr" >&2
		return 1
	fi
}

# imp_refused STATUS [OPTIONS] SOURCE URL: refused with STATUS and an
# "ipbanset-import: " message, nothing changed, no temporary file left.
imp_refused() {
	local want=$1 before
	shift
	before=$(snapshot)
	run --separate-stderr imp "$@"
	assert_status "$want"
	[[ "$stderr" == *"ipbanset-import: "*"nothing changed"* ]] ||
		fail "no ipbanset-import message saying nothing changed: $stderr"
	assert_unchanged "$before"
	assert_no_temp_files
}

assert_no_temp_files() {
	local left
	left=$(ls -A "$WORK/tmp")
	[ -z "$left" ] || fail "temporary files left: $left"
}

# A DROP-style list: an attacker's /24, an address, an IPv6 /48 and a private
# range that the script skips.
write_feed() {
	printf '; Spamhaus DROP List 2026/11/26\n; Expires: Thu, 26 Nov 2026\n' >"$WORK/feed"
	printf '%s\n' '203.0.113.0/24 ; SBL1' '198.51.100.77 ; SBL2' \
		'2001:db8:2::/48 ; SBL3' '10.0.0.0/8 ; bogon' >>"$WORK/feed"
}

# numbered_feed FILE FIRST LAST: 203.0.113.FIRST .. 203.0.113.LAST, one a line.
numbered_feed() {
	seq "$2" "$3" | sed 's/^/203.0.113./' >"$1"
}

# An HTTP server in the server namespace on 198.51.100.1: files from $WORK/www,
# /truncated/NAME sends half of NAME under the full Content-Length, 404 otherwise.
start_http() {
	mkdir -p "$WORK/www"
	cat >"$WORK/httpd.py" <<'EOF'
import http.server, os, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(sys.argv[2], os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, 'rb') as f:
            data = f.read()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.path.startswith('/truncated/'):
            data = data[:len(data) // 2]
        self.wfile.write(data)

    def log_message(self, *args):
        pass

http.server.HTTPServer(('198.51.100.1', int(sys.argv[1])), Handler).serve_forever()
EOF
	local py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	ip netns exec "$SRV" "$py" "$WORK/httpd.py" "$HTTP_PORT" "$WORK/www" </dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	wait_listening "$HTTP_PORT" || fail "HTTP server did not start"
}

@test "a first import bans the list: packets drop, the kernel has the elements, the source owns them" {
	write_feed
	imp_ok drop "file://$WORK/feed"
	[[ "$output" == "ipbanset-import: drop: 3 targets (1 excluded) from file://$WORK/feed: added 3, removed 0, updated 0, unchanged 0" ]] ||
		fail "summary: $output"
	assert_dropped 203.0.113.5
	assert_dropped 198.51.100.77
	assert_dropped 2001:db8:2::5
	assert_reachable "$ATK_ADDR"
	assert_kernel_has v4_24 203.0.113.0
	assert_kernel_has v4_32 198.51.100.77
	assert_kernel_has v6_48 2001:db8:2::
	[ "$(kernel_element_count)" -eq 3 ]
	run list_json
	jq_ok 'length == 3 and all(.[]; .source == "drop")'
	jq_ok '[.[].target] | sort == ["198.51.100.77", "2001:db8:2::/48", "203.0.113.0/24"]'
	assert_no_temp_files
	# the same summary went to syslog
	grep -qF -- "-p user.notice -- drop: 3 targets" "$WORK/logger.log"
}

@test "a second run with the same list reports no change" {
	write_feed
	imp_ok drop "file://$WORK/feed"
	local before
	before=$(snapshot)
	imp_ok drop "file://$WORK/feed"
	[[ "$output" == *": added 0, removed 0, updated 0, unchanged 3" ]] || fail "summary: $output"
	assert_unchanged "$before"
	imp_ok -q drop "file://$WORK/feed"
	[ -z "$output" ]
	assert_unchanged "$before"
	assert_dropped 203.0.113.5
}

@test "--dry-run downloads and reports, but changes nothing" {
	write_feed
	local before
	before=$(snapshot)
	imp_ok -n drop "file://$WORK/feed"
	[[ "$output" == *"dry run, would have added 3, removed 0"* ]] || fail "summary: $output"
	assert_unchanged "$before"
	assert_reachable 203.0.113.5
}

@test "a missing file:// list changes nothing and fails" {
	write_feed
	imp_ok drop "file://$WORK/feed"
	imp_refused 1 drop "file://$WORK/no-such-list"
	assert_stderr_has "download of file://$WORK/no-such-list failed"
	grep -q -- '-p user.err -- drop: download' "$WORK/logger.log"
	assert_dropped 203.0.113.5
}

@test "an empty list, a list of comments, an HTML page: refused, nothing changed" {
	write_feed
	imp_ok drop "file://$WORK/feed"
	: >"$WORK/empty"
	imp_refused 1 drop "file://$WORK/empty"
	assert_stderr_has "holds no address or prefix"
	printf '; Spamhaus DROP List\n# nothing today\n\n' >"$WORK/comments"
	imp_refused 1 drop "file://$WORK/comments"
	assert_stderr_has "holds no address or prefix"
	printf '10.0.0.0/8\n127.0.0.0/8\n' >"$WORK/private"
	imp_refused 1 drop "file://$WORK/private"
	assert_stderr_has "outside the excluded ranges"
	printf '<html>\n<body>Service unavailable</body>\n' >"$WORK/html"
	imp_refused 1 drop "file://$WORK/html"
	assert_stderr_has "line 1: not an address or prefix: '<html>'"
	assert_dropped 203.0.113.5
	run list_json --source drop
	jq_ok 'length == 3'
}

@test "over HTTP: a good list applies; 404, refused connection, truncated and empty bodies change nothing" {
	start_http
	numbered_feed "$WORK/www/list.txt" 1 10
	: >"$WORK/www/empty.txt"
	local base="http://$SRV_ADDR:$HTTP_PORT"
	imp_ok feed "$base/list.txt"
	[[ "$output" == *"10 targets (0 excluded) from $base/list.txt: added 10,"* ]] || fail "summary: $output"
	assert_dropped 203.0.113.5
	imp_refused 1 feed "$base/missing.txt"
	assert_stderr_has "curl exit 22"
	assert_stderr_has "404"
	imp_refused 1 feed "http://$SRV_ADDR:$((HTTP_PORT + 1))/list.txt"
	assert_stderr_has "curl exit 7"
	imp_refused 1 feed "$base/truncated/list.txt"
	assert_stderr_has "curl exit 18"
	imp_refused 1 feed "$base/empty.txt"
	assert_stderr_has "holds no address or prefix"
	imp_refused 1 --max-size 10 feed "$base/list.txt"
	assert_stderr_has "larger than --max-size 10"
	assert_dropped 203.0.113.5
	# and the list as updated upstream is applied over HTTP
	numbered_feed "$WORK/www/list.txt" 1 9
	imp_ok feed "$base/list.txt"
	[[ "$output" == *"added 0, removed 1, updated 0, unchanged 9" ]] || fail "summary: $output"
	assert_kernel_lacks v4_32 203.0.113.10
}

@test "a list that shrank too much is refused; one that shrank a little applies" {
	numbered_feed "$WORK/list" 1 20
	imp_ok drop "file://$WORK/list"
	assert_dropped 203.0.113.9
	# truncated to 5 of 20: a shrink of 75%, more than the default 25%
	numbered_feed "$WORK/short" 1 5
	imp_refused 1 drop "file://$WORK/short"
	assert_stderr_has "lists 5 targets but the source bans 20 now"
	assert_stderr_has "--max-shrink 25%"
	# 15 of 20 is a shrink of 25%: refused under --max-shrink 20, applied under 30
	numbered_feed "$WORK/fifteen" 1 15
	imp_refused 1 --max-shrink 20 drop "file://$WORK/fifteen"
	# 203.0.113.9 and .20 delisted: 10%
	{ seq 1 8; seq 10 19; } | sed 's/^/203.0.113./' >"$WORK/delisted"
	imp_ok drop "file://$WORK/delisted"
	[[ "$output" == *"18 targets (0 excluded)"*"added 0, removed 2, updated 0, unchanged 18" ]] ||
		fail "summary: $output"
	assert_kernel_lacks v4_32 203.0.113.9
	assert_kernel_lacks v4_32 203.0.113.20
	assert_kernel_has v4_32 203.0.113.5
	assert_reachable 203.0.113.9
	assert_dropped 203.0.113.5
	# --max-shrink 100 takes the short list
	imp_ok --max-shrink 100 drop "file://$WORK/short"
	[[ "$output" == *"removed 13,"* ]] || fail "summary: $output"
	assert_dropped 203.0.113.5
	run list_json --source drop
	jq_ok 'length == 5'
}

@test "a list as long as before but with other entries is refused by ipbanset's --max-removals" {
	numbered_feed "$WORK/list" 1 20
	imp_ok drop "file://$WORK/list"
	# same length, so the shrink check passes; 20 of 20 withdrawn is more than 25%
	numbered_feed "$WORK/other" 101 120
	imp_refused 2 drop "file://$WORK/other"
	assert_stderr_has "ipbanset: sync:"
	assert_stderr_has "--max-removals 25%"
	assert_dropped 203.0.113.5
}

@test "private ranges are skipped, --exclude skips more, --keep-private meets the allowlist" {
	printf '%s\n' 0.0.0.0/8 10.0.0.0/8 127.0.0.0/8 192.168.0.0/16 224.0.0.0/3 \
		203.0.113.0/24 2001:db8:2::/48 2001:db8:3::/48 fe80::/10 ::ffff:10.1.2.3 >"$WORK/level1"
	imp_ok -x 2001:db8:3::/64 fl1 "file://$WORK/level1"
	[[ "$output" == *"2 targets (8 excluded)"* ]] || fail "summary: $output"
	run list_json
	jq_ok '[.[].target] | sort == ["2001:db8:2::/48", "203.0.113.0/24"]'
	assert_dropped 203.0.113.5
	assert_dropped 2001:db8:2::5
	# without the skip, 127.0.0.0/8 meets the allowlist: exit 3, nothing changes
	imp_refused 3 --keep-private fl1 "file://$WORK/level1"
	assert_stderr_has "127.0.0.0/8"
	run --separate-stderr imp -x 10.0.0.0/33 fl1 "file://$WORK/level1"
	assert_status 2
	assert_stderr_has "invalid --exclude '10.0.0.0/33'"
}

@test "usage: --help, a missing URL, a bad option" {
	run --separate-stderr "$IMPORT" --help
	assert_status 0
	[[ "$output" == *"Usage: ipbanset-import [OPTIONS] SOURCE URL"* ]]
	run --separate-stderr "$IMPORT" drop
	assert_status 2
	assert_stderr_has "ipbanset-import: SOURCE and URL are required"
	run --separate-stderr "$IMPORT" --max-shrink 101 drop file:///x
	assert_status 2
	run --separate-stderr "$IMPORT" --timeout 1x drop file:///x
	assert_status 2
	run --separate-stderr "$IMPORT" drop /etc/hosts
	assert_status 2
	assert_stderr_has "URL must start with"
}

@test "sync --max-removals N and P%: over the cap exit 2 and nothing changed, under it applied" {
	numbered_feed "$WORK/ten" 1 10
	ibs_ok sync -s feed -f "$WORK/ten"
	numbered_feed "$WORK/six" 1 6 # withdraws 7..10: 4 of 10
	local before
	before=$(snapshot)
	local cap
	for cap in 0 3 30% 0%; do
		run --separate-stderr ibs sync -s feed --max-removals "$cap" -f "$WORK/six"
		assert_status 2
		assert_stderr_prefixed
		assert_stderr_has "max-removals"
		assert_unchanged "$before"
	done
	run --separate-stderr ibs sync -s feed --max-removals 10x -f "$WORK/six"
	assert_status 2
	assert_unchanged "$before"
	assert_dropped 203.0.113.9
	ibs_ok --json sync -s feed --max-removals 4 -f "$WORK/six"
	jq_ok '.removed == 4 and .unchanged == 6'
	assert_reachable 203.0.113.9
	assert_dropped 203.0.113.5
	numbered_feed "$WORK/four" 1 4 # withdraws 5, 6: 2 of 6
	ibs_ok --json sync -s feed --max-removals 50% -f "$WORK/four"
	jq_ok '.removed == 2'
	assert_reachable 203.0.113.5
	# a cap never stops additions
	numbered_feed "$WORK/more" 1 9
	ibs_ok --json sync -s feed --max-removals 0 -f "$WORK/more"
	jq_ok '.added == 5 and .removed == 0'
	assert_dropped 203.0.113.9
}

@test "--jitter spreads 2000 imported expiries over [now+1h, now+1h10m], and the kernel agrees" {
	seq 1 2000 | awk '{ printf "2001:db8:100::%x\n", $1 }' >"$WORK/big"
	local t0 t1
	t0=$(date -u +%s)
	imp_ok --timeout 1h --jitter 10m big "file://$WORK/big"
	t1=$(date -u +%s)
	[[ "$output" == *"2000 targets (0 excluded)"*"added 2000,"* ]] || fail "summary: $output"
	run list_json --source big
	jq_ok 'length == 2000'
	jq_ok --argjson lo $((t0 + 3600 - 1)) --argjson hi $((t1 + 4200 + 1)) \
		'all(.[]; (.expires | fromdateiso8601) as $e | $e >= $lo and $e <= $hi)'
	local distinct
	distinct=$(jq '[.[].expires] | unique | length' <<<"$output")
	[ "$distinct" -gt 300 ] || fail "only $distinct distinct expiry seconds"
	# spread over the whole window, not bunched at one end
	jq_ok --argjson t "$t0" '([.[].expires | fromdateiso8601] | min) < $t + 3600 + 120'
	jq_ok --argjson t "$t1" '([.[].expires | fromdateiso8601] | max) > $t + 4200 - 120'
	local json=$output target expires k j
	for target in 2001:db8:100::1 2001:db8:100::64 2001:db8:100::3e8 2001:db8:100::5dc 2001:db8:100::7d0; do
		expires=$(jq -r --arg t "$target" '.[] | select(.target == $t) | .expires' <<<"$json")
		j=$(seconds_until "$expires")
		k=$(kernel_expires v6_128 "$target")
		[ "$k" != none ] && [ -n "$k" ] || fail "kernel has no timeout for $target"
		[ $((k - j)) -le 3 ] && [ $((j - k)) -le 3 ] ||
			fail "$target: kernel expires in $k s, journal in $j s"
	done
	# ban --jitter too
	ibs_ok ban -s manual --timeout 1h --jitter 10m 203.0.113.5 203.0.113.9
	local e
	for target in 203.0.113.5 203.0.113.9; do
		e=$(seconds_until "$(expires_of "$target")")
		[ "$e" -ge 3590 ] && [ "$e" -le 4200 ] || fail "$target expires in $e s"
	done
	assert_dropped 203.0.113.5
}

@test "the cron.d example: commented out, five time fields, user, a command that runs" {
	[ -z "$(tail -c1 "$CRONFILE")" ] || fail "cron.d file does not end with a newline"
	# installing it changes nothing: every active line is blank, a comment or VAR=value
	run grep -vE '^[[:space:]]*(#|$)|^[A-Z_]+=' "$CRONFILE"
	[ "$status" -eq 1 ] || fail "active lines in $CRONFILE: $output"
	# cron reads "%" in a command as a newline
	run grep -cE '^#[0-9*@].*%' "$CRONFILE"
	[ "$output" = 0 ] || fail "a job line holds a %"
	grep -q '^PATH=.*/usr/sbin' "$CRONFILE"
	write_feed
	local jobs=0 line m h dom mon dow user cmd args f
	while IFS= read -r line; do
		read -r m h dom mon dow user cmd args <<<"${line#\#}"
		for f in "$m" "$h" "$dom" "$mon" "$dow"; do
			[[ "$f" =~ ^[0-9*/,-]+$ ]] || fail "bad time field '$f' in: $line"
		done
		[ "$user" = root ] || fail "user field '$user' in: $line"
		[ "$cmd" = ipbanset-import ] || fail "command '$cmd' in: $line"
		# the job's own options and source, on the test's list, as a dry run
		local -a a
		read -r -a a <<<"$args"
		[[ "${a[-1]}" == https://* ]] || fail "last argument is not a URL: $line"
		run --separate-stderr imp -n "${a[@]:0:${#a[@]}-1}" "file://$WORK/feed"
		assert_status 0
		jobs=$((jobs + 1))
	done < <(grep -E '^#[0-9*@]' "$CRONFILE")
	[ "$jobs" -ge 2 ] || fail "only $jobs example jobs"
	grep -q 'spamhaus.org/drop/drop.txt' "$CRONFILE"
	grep -q 'iplists.firehol.org/files/firehol_level1.netset' "$CRONFILE"
}
