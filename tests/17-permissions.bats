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
