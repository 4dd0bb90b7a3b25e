#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# Not root: exit 4. Journal or config writable by group/other: exit 4.

load helper

file_setup() {
	ibs_init
	ibs_ok ban 198.51.100.3
	BEFORE=$(snapshot)
}

@test "a non-root user gets exit 4 from ban and nothing changes" {
	prepare_nobody
	run --separate-stderr as_nobody ban "$ATK_ADDR"
	assert_status 4
	assert_stderr_prefixed
	assert_unchanged "$BEFORE"
	assert_reachable "$ATK_ADDR"
}

@test "a non-root user gets exit 4 from init, reconcile and teardown" {
	prepare_nobody
	run --separate-stderr as_nobody init
	assert_status 4
	assert_stderr_prefixed
	run --separate-stderr as_nobody reconcile
	assert_status 4
	run --separate-stderr as_nobody teardown
	assert_status 4
	assert_unchanged "$BEFORE"
}

@test "non-root against the root-owned journal: exit 4" {
	prepare_nobody
	chmod 0755 "$WORK"
	# shellcheck disable=SC2086
	run --separate-stderr ip netns exec "$SRV" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$NOBODY_BIN -d "$DB" -c "$NOBODY_DIR/state/ipbanset.conf" ban "$ATK_ADDR"
	chmod 0700 "$WORK"
	assert_status 4
	assert_unchanged "$BEFORE"
}

@test "a journal writable by group: exit 4, nothing changes" {
	chmod 0664 "$DB"
	run --separate-stderr ibs ban "$ATK_ADDR"
	assert_status 4
	assert_stderr_prefixed
	assert_stderr_has "$DB"
	chmod 0644 "$DB"
	assert_unchanged "$BEFORE"
}

@test "a journal writable by other: exit 4" {
	chmod 0646 "$DB"
	run --separate-stderr ibs ban "$ATK_ADDR"
	assert_status 4
	chmod 0644 "$DB"
	assert_unchanged "$BEFORE"
}

@test "a config file writable by group: exit 4" {
	chmod 0620 "$CONF"
	run --separate-stderr ibs ban "$ATK_ADDR"
	assert_status 4
	assert_stderr_prefixed
	assert_stderr_has "$CONF"
	chmod 0600 "$CONF"
	assert_unchanged "$BEFORE"
}

@test "a config file writable by other: exit 4" {
	chmod 0602 "$CONF"
	run --separate-stderr ibs ban "$ATK_ADDR"
	assert_status 4
	chmod 0600 "$CONF"
	assert_unchanged "$BEFORE"
}

@test "a config file that is world-readable but not writable is accepted" {
	chmod 0644 "$CONF"
	ibs_ok ban "$ATK_ADDR"
	assert_dropped "$ATK_ADDR"
}

# ro_ibs ARGS...: ipbanset with the test's directory (journal and config) mounted
# read-only, in a mount namespace of its own.
ro_ibs() {
	# shellcheck disable=SC2016,SC2086
	unshare -m --propagation private sh -c 'mount --bind -o ro "$1" "$1" && shift && exec "$@"' \
		sh "$WORK" ip netns exec "$SRV" $IPBANSET -d "$DB" -c "$CONF" "$@"
}

@test "a journal on a read-only mount: list, query, status and log read it; ban says what is missing" {
	ibs_ok ban -t 1h --reason ro-test 203.0.113.9
	run --separate-stderr ro_ibs --json list
	assert_status 0
	jq_ok 'length == 2 and any(.[]; .target == "203.0.113.9" and .reason == "ro-test")'
	run --separate-stderr ro_ibs query 203.0.113.9
	assert_status 0
	run --separate-stderr ro_ibs query 203.0.113.10
	assert_status 1
	run --separate-stderr ro_ibs --json status
	assert_status 0
	jq_ok '.total == 2 and .kernel.in_sync'
	run --separate-stderr ro_ibs --json log
	assert_status 0
	jq_ok 'any(.[]; .kind == "ban" and .target == "203.0.113.9")'
	# with another program reading it, its -wal and -shm files are there: read in place
	{ echo 'SELECT count(*) FROM bans;'; sleep 3; } | sqlite3 "$DB" >/dev/null &
	BG_PIDS+=($!)
	local _
	for _ in $(seq 50); do
		[ -e "$DB-wal" ] && break
		sleep 0.1
	done
	[ -e "$DB-wal" ] && [ -e "$DB-shm" ]
	run --separate-stderr ro_ibs --json list
	assert_status 0
	jq_ok 'length == 2'
	wait "${BG_PIDS[-1]}"
	local before
	before=$(snapshot)
	run --separate-stderr ro_ibs ban "$ATK_ADDR"
	assert_status 4
	assert_stderr_has "journal $DB: cannot change it: its directory is not writable here (Read-only file system), and SQLite creates $DB-wal and $DB-shm beside it"
	assert_unchanged "$before"
	assert_reachable "$ATK_ADDR"
}

@test "a journal in a directory of mode 0555: a non-root user lists, queries and reads status" {
	prepare_nobody
	mkdir "$NOBODY_DIR/ro"
	local db="$NOBODY_DIR/ro/ipbanset.db"
	# the journal is bound to its backend: the reader's config names the same one
	if is_ipset; then printf 'backend = ipset\n' >>"$NOBODY_DIR/state/ipbanset.conf"; fi
	# a second journal: its own table (a table belongs to one journal)
	ibs_ok -T ibs_ro -d "$db" ban -t 1h 203.0.113.9
	chmod 0644 "$db"
	chmod 0555 "$NOBODY_DIR/ro"
	run --separate-stderr as_nobody -T ibs_ro -d "$db" --json list
	assert_status 0
	jq_ok 'length == 1 and .[0].target == "203.0.113.9"'
	run --separate-stderr as_nobody -T ibs_ro -d "$db" query 203.0.113.9
	assert_status 0
	run --separate-stderr as_nobody -T ibs_ro -d "$db" --json status
	assert_status 0
	jq_ok '.total == 1'
}

@test "a journal in /tmp is refused with advice to use a private directory, and leaves no file" {
	local db
	db=/tmp/ibs-refused-$$-$RANDOM.db
	run --separate-stderr ibs -d "$db" ban "$ATK_ADDR"
	local left=no
	if [ -e "$db" ]; then left=yes; rm -f "$db"; fi
	assert_status 4
	assert_stderr_has "journal directory /tmp is writable by group or others"
	assert_stderr_has "keep the journal in a directory that only root can write"
	[[ "$stderr" != *"chmod go-w"* ]] || fail "advice to chmod /tmp: $stderr"
	[ "$left" = no ] || fail "a refused journal directory kept an empty $db"
	assert_reachable "$ATK_ADDR"
}

@test "a journal in a group-writable directory of its own is refused and leaves no file" {
	mkdir -m 0775 "$WORK/shared"
	chmod 0775 "$WORK/shared"
	run --separate-stderr ibs -d "$WORK/shared/ipbanset.db" ban "$ATK_ADDR"
	assert_status 4
	assert_stderr_has "chmod go-w $WORK/shared"
	[ ! -e "$WORK/shared/ipbanset.db" ] || fail "a refused journal directory kept an empty journal"
	# the sticky bit alone, with nobody else allowed to write, is no reason to refuse
	mkdir "$WORK/sticky"
	chmod 1755 "$WORK/sticky"
	ibs_ok -T ibs_sticky -d "$WORK/sticky/ipbanset.db" ban "$ATK_ADDR"
}
