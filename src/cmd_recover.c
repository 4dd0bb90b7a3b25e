// SPDX-License-Identifier: GPL-2.0-only
/* recover: rebuild a damaged journal from what the kernel still enforces. Each element's
 * comment carries "SOURCE: REASON" and its remaining timeout gives the expiry. */
#include <errno.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipbanset.h"

struct recovered {
	struct journal *j;
	int64_t now;
	uint64_t bans, unnamed;
	struct ipb_err *e;
};

/* "SOURCE: REASON" or "SOURCE": a name ipbanset could have written, else "recovered". */
static void split_comment(const char *comment, char *source, size_t len, const char **reason)
{
	size_t n = comment ? strcspn(comment, ":") : 0;

	*reason = NULL;
	snprintf(source, len, "recovered");
	if (!comment || !n || n >= len)
		return;
	memcpy(source, comment, n);
	source[n] = 0;
	if (!config_valid_name(source)) {
		snprintf(source, len, "recovered");
		*reason = comment;
		return;
	}
	if (comment[n] == ':')
		*reason = comment[n + 1] == ' ' ? comment + n + 2 : comment + n + 1;
}

static int recover_elem(void *arg, const struct target *t, uint64_t remaining_ms, const char *comment)
{
	struct recovered *rc = arg;
	char source[IPB_NAME_MAX], reason[BE_COMMENT_MAX + 1];
	struct ban b = { .t = *t, .created = rc->now };

	split_comment(comment, source, sizeof(source), &b.reason);
	/* the comment holds the reason escaped (engine_comment) */
	if (b.reason)
		b.reason = ipb_unescape(b.reason, reason, sizeof(reason));
	b.source = source;
	b.expires = remaining_ms ? rc->now + (int64_t)((remaining_ms + 999) / 1000) : IPB_NEVER;
	if (!strcmp(source, "recovered"))
		rc->unnamed++;
	rc->bans++;
	return journal_put_ban(rc->j, &b, rc->e);
}

/* The chain's hook, priority and verdict become the journal's applied settings. */
static int recover_settings(struct journal *j, const struct be_layout *l, bool has_chain,
			    struct ipb_err *e)
{
	bool reject = false;
	unsigned i;
	int r;

	for (i = 0; i < PLAN_NSETS; i++)
		reject |= l->rule[i] && l->rule_reject[i];
	if (!l->chain || !has_chain)
		return 0; /* ipset: the host's iptables rules hold the hook and verdict */
	if ((r = journal_meta_set(j, "hook", l->chain_hook != NF_INET_LOCAL_IN, e)) ||
	    (r = journal_meta_set(j, "priority", l->chain_priority, e)))
		return r;
	return journal_meta_set(j, "verdict", reject, e);
}

static int recover_fill(struct ctx *c, struct backend *n, const struct be_layout *l, const char *path,
			struct recovered *rc, struct ipb_err *e)
{
	char detail[128], what[IPB_NAME_MAX + 32];
	unsigned i;
	int r;

	if ((r = journal_open(&rc->j, path, true, false, e)) || (r = journal_begin(rc->j, e)))
		return r;
	rc->now = c->now;
	rc->e = e;
	/* the new journal is the one the table belongs to */
	if (l->table_marked && (r = owner_set_journal_id(rc->j, l->table_owner, e)))
		return journal_rollback(rc->j), r;
	if ((r = owner_binding(c, rc->j, true, e)))
		return journal_rollback(rc->j), r;
	for (i = 0; i < PLAN_NSETS && !r; i++)
		if (l->set[i])
			r = be_dump_set(n, plan_set_family(i), plan_set_plen(i), recover_elem, rc, e);
	if (!r)
		r = recover_settings(rc->j, l, be_has_chain(n), e);
	snprintf(detail, sizeof(detail), "%llu bans rebuilt from %s", (unsigned long long)rc->bans,
		 be_objects(&c->cfg, what, sizeof(what)));
	if (!r) {
		struct event ev = { .time = c->now, .kind = "recover", .detail = detail };

		r = journal_add_event(rc->j, &ev, e);
	}
	if (!r)
		r = c->dry_run ? (journal_rollback(rc->j), 0) : journal_commit(rc->j, e);
	else
		journal_rollback(rc->j);
	return r;
}

/* Is the journal at path healthy? Missing counts as not healthy (nothing to keep). */
static bool journal_healthy(const char *path)
{
	struct journal *j;
	struct ipb_err e;
	char why[256];
	bool ok = false;

	if (journal_open(&j, path, false, true, &e))
		return false;
	if (journal_check(j, &ok, why, sizeof(why), &e))
		ok = false;
	journal_close(j);
	return ok;
}

#define RECOVER_PATH_MAX (PATH_MAX + 64)

/* Keep the damaged journal (and its WAL, which belongs to it) under a new name, then
 * move the new one into place with one rename: no instant without a journal file. */
static int recover_swap(const char *db, const char *tmp, char *kept, size_t len)
{
	char from[RECOVER_PATH_MAX], to[RECOVER_PATH_MAX + 8], ts[32];
	time_t now = (time_t)(ipb_now_ms() / 1000);
	struct tm tm;
	unsigned i;

	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	for (i = 0;; i++) {
		if (i)
			snprintf(kept, len, "%s.damaged-%s-%u", db, ts, i);
		else
			snprintf(kept, len, "%s.damaged-%s", db, ts);
		if (!link(db, kept) || errno == ENOENT)
			break;
		if (errno != EEXIST || i == 99)
			return -errno;
	}
	snprintf(from, sizeof(from), "%s-wal", db);
	snprintf(to, sizeof(to), "%s-wal", kept);
	if (rename(from, to) && errno != ENOENT)
		return -errno;
	snprintf(from, sizeof(from), "%s-shm", db);
	unlink(from);
	return rename(tmp, db) ? -errno : 0;
}

int cmd_recover(struct ctx *c)
{
	struct recovered rc = { 0 };
	char tmp[RECOVER_PATH_MAX], kept[RECOVER_PATH_MAX], side[RECOVER_PATH_MAX + 8];
	char what[IPB_NAME_MAX + 32];
	struct be_layout l;
	struct backend *n = NULL;
	struct ipb_err e;
	int r;

	if (journal_healthy(c->cfg.db) && !c->force)
		return ipb_error("recover: journal %s is healthy; recover would replace it with what "
				 "the kernel holds (use --force to do so anyway)", c->cfg.db),
		       IPB_EXIT_USAGE;
	if ((r = be_open(&n, &c->cfg, &e)) || (r = be_get_layout(n, &l, &e))) {
		ipb_error("%s", e.msg);
		be_close(n);
		return IPB_EXIT_SYSTEM;
	}
	if (!l.table) {
		be_close(n);
		return ipb_error("recover: %s is not in the kernel: nothing to recover from",
				 be_objects(&c->cfg, what, sizeof(what))), IPB_EXIT_SYSTEM;
	}
	/* a table marked for any journal, or one an older ipbanset made (which then wants
	 * `init --adopt`); never one with objects ipbanset did not create */
	if (owner_check_table(c, &l, l.table_owner, c->cfg.db, OWNER_ADOPT, &e)) {
		be_close(n);
		return ipb_error("recover: %s", e.msg), IPB_EXIT_SYSTEM;
	}
	snprintf(tmp, sizeof(tmp), "%s.recover-%d", c->cfg.db, (int)getpid());
	r = recover_fill(c, n, &l, tmp, &rc, &e);
	journal_close(rc.j);
	be_close(n);
	if (!r && !c->dry_run && (r = recover_swap(c->cfg.db, tmp, kept, sizeof(kept))))
		ipb_seterr(&e, "recover: moving the new journal into place: %s", strerror(-r));
	if (r || c->dry_run) {
		unlink(tmp);
		snprintf(side, sizeof(side), "%s-wal", tmp);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", tmp);
		unlink(side);
	}
	if (r)
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	if (c->json)
		printf("{\"changed\": %s, \"added\": %llu, \"removed\": 0, \"updated\": 0, \"unchanged\": 0, "
		       "\"dry_run\": %s, \"unattributed\": %llu}\n",
		       "true", (unsigned long long)rc.bans,
		       c->dry_run ? "true" : "false", (unsigned long long)rc.unnamed);
	else if (c->dry_run)
		printf("dry run (nothing changed): recover would rebuild %llu bans from %s\n",
		       (unsigned long long)rc.bans, be_objects(&c->cfg, what, sizeof(what)));
	else
		printf("recover: rebuilt %llu bans from %s into %s; the old journal is %s\n",
		       (unsigned long long)rc.bans, be_objects(&c->cfg, what, sizeof(what)), c->cfg.db, kept);
	return 0;
}
