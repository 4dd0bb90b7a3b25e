// SPDX-License-Identifier: GPL-2.0-only
/* The ban journal: an SQLite database (WAL). The only file that includes sqlite3.h.
 * Functions return 0 or -errno (-EIO for SQLite errors, -EBUSY when the busy timeout ran
 * out, -ENOSPC for a full disk, -EPERM for unsafe permissions, -EBADMSG for a corrupt
 * file) and fill e->msg; they never print.
 *
 * Schema (PRAGMA user_version = 1):
 *   bans(fam, plen, net BLOB, source, created, expires, reason,
 *        PRIMARY KEY (fam, plen, net, source)) WITHOUT ROWID
 *        expires = Unix seconds, IPB_NEVER (INT64_MAX) for permanent
 *   index bans_source(source, fam, net, plen, expires): target_cmp order per source,
 *         covering for status counts (no expires index: each index costs a 1M ban ~1 s)
 *   events(id INTEGER PRIMARY KEY, time, kind, target, source, reason, detail, uid, user)
 *   meta(key PRIMARY KEY, value)   -- e.g. "genid": kernel generation at our last commit;
 *        "journal_id", "backend", "table": the journal's identity and the kernel objects
 *        it is bound to (owner.c)
 */
#ifndef IPBANSET_JOURNAL_H
#define IPBANSET_JOURNAL_H

#include "addr.h"
#include "config.h"
#include "plan.h"

struct journal;

/* Open (create when create is true: parent directories 0700, file 0600). Refuses with
 * -EPERM a file or its directory that group/other can write, a symlink, or a file not
 * owned by the effective uid. A missing file with create false gives -ENOENT.
 * read_only opens without taking write locks (status, list, log, query). */
int journal_open(struct journal **j, const char *path, bool create, bool read_only,
		 struct ipb_err *e);
/* An empty journal in memory (for a dry run with no journal file); shown names it. */
int journal_open_scratch(struct journal **j, const char *shown, struct ipb_err *e);
void journal_close(struct journal *j);
const char *journal_path(const struct journal *j);
int64_t journal_size_bytes(struct journal *j); /* main file + WAL */

/* BEGIN IMMEDIATE (writers queue behind each other; busy timeout 60 s). */
int journal_begin(struct journal *j, struct ipb_err *e);
/* BEGIN (deferred) for a consistent read snapshot. */
int journal_begin_read(struct journal *j, struct ipb_err *e);
int journal_commit(struct journal *j, struct ipb_err *e);
void journal_rollback(struct journal *j);

struct ban {
	struct target t;
	const char *source;
	int64_t created;
	int64_t expires; /* IPB_NEVER = permanent */
	const char *reason; /* may be NULL */
};
/* Pointers in a ban passed to a callback are valid only during the call.
 * A callback returning non-zero stops the iteration and that value is returned. */
typedef int (*journal_ban_cb)(void *arg, const struct ban *b);

/* Every row (any source, live or expired) on exactly this target. */
int journal_bans_of_target(struct journal *j, const struct target *t, journal_ban_cb cb,
			   void *arg, struct ipb_err *e);
/* Does any row (live or expired) of (family, plen) exist? */
int journal_set_has_rows(struct journal *j, unsigned family, unsigned plen, bool *has,
			 struct ipb_err *e);
/* Live rows strictly inside t (longer prefixes within it), by prefix length then net. */
int journal_bans_within(struct journal *j, const struct target *t, int64_t now,
			journal_ban_cb cb, void *arg, struct ipb_err *e);
/* Live rows (expires > now), optionally of one source (NULL: all) and one family
 * (0: both), ordered by family, plen, net, source. */
int journal_bans_live(struct journal *j, int64_t now, const char *source, unsigned family,
		      journal_ban_cb cb, void *arg, struct ipb_err *e);
/* Live rows of one source in target_cmp order (fam, net, plen), or the reverse, for
 * sync diffs; target, source and expiry only (created 0, reason NULL): one pass over the
 * index. A callback's positive return stops the pass and is returned; errors are < 0. */
int journal_bans_of_source(struct journal *j, int64_t now, const char *source, bool descending,
			   journal_ban_cb cb, void *arg, struct ipb_err *e);
/* The kernel elements one set must hold: for each distinct live target of (fam, plen),
 * one callback with b->expires = the latest expiry among its live rows and b->source,
 * b->reason of that row; ordered by net. */
int journal_set_elements(struct journal *j, unsigned family, unsigned plen, int64_t now,
			 journal_ban_cb cb, void *arg, struct ipb_err *e);
/* Number of distinct live targets per set (index plan_set_index). */
int journal_set_counts(struct journal *j, int64_t now, uint64_t counts[PLAN_NSETS],
		       struct ipb_err *e);
/* Number of live rows per set: an upper bound on its distinct targets (a target that k
 * sources ban counts k times), zero exactly when the set holds none; cheaper. */
int journal_set_rows(struct journal *j, int64_t now, uint64_t rows[PLAN_NSETS],
		     struct ipb_err *e);
/* The next n live bans to expire (finite expiry), soonest first. */
int journal_next_expiring(struct journal *j, int64_t now, unsigned n, journal_ban_cb cb,
			  void *arg, struct ipb_err *e);
/* A random sample of up to n distinct live targets (for drift checks). */
int journal_sample(struct journal *j, int64_t now, unsigned n, journal_ban_cb cb, void *arg,
		   struct ipb_err *e);

/* Insert or replace (fam, plen, net, source). */
int journal_put_ban(struct journal *j, const struct ban *b, struct ipb_err *e);
int journal_del_ban(struct journal *j, const struct target *t, const char *source,
		    struct ipb_err *e);
/* Bulk insert of n new bans of one source, in the order row() gives them (primary-key
 * order is fastest): row(arg, i, &expires) returns target i and sets its expiry. No row
 * of (target, source) may exist yet; one that does is an error. */
typedef const struct target *(*journal_row_fn)(void *arg, size_t i, int64_t *expires);
int journal_insert_bans(struct journal *j, const char *source, int64_t created,
			const char *reason, size_t n, journal_row_fn row, void *arg,
			struct ipb_err *e);
/* Make the deletes journal_del_ban has only noted so far (inside a transaction, it
 * defers them: see journal.c; any other statement makes them first too), and write the
 * transaction's pages to the WAL, unsynced. A command calls this before it changes the
 * kernel, so that a full disk stops it before; only the commit's last frame remains. */
int journal_flush(struct journal *j, struct ipb_err *e);
/* Write the open transaction's pages to the WAL and sync them, ahead of the commit
 * (a big transaction, while the kernel is still busy). */
int journal_write_ahead(struct journal *j, struct ipb_err *e);
/* Does the journal hold no ban row at all (live or expired)? */
int journal_is_empty(struct journal *j, bool *empty, struct ipb_err *e);

/* Aggregates over live bans for status. */
struct journal_source_count {
	char name[IPB_NAME_MAX];
	uint64_t count;
};
#define JOURNAL_NEXT_MAX 10
struct journal_next {
	struct target t;
	char source[IPB_NAME_MAX];
	int64_t expires;
};
struct journal_counts {
	uint64_t total;
	uint64_t v4_addresses, v4_networks, v6_addresses, v6_networks;
	uint64_t exp_1m, exp_1h, exp_1d, exp_later, exp_permanent; /* disjoint buckets */
	struct journal_source_count *sources; /* malloc'd, sorted by name */
	size_t nsources;
	uint64_t expired_rows; /* rows past their expiry awaiting gc */
	uint64_t set_rows[PLAN_NSETS]; /* live rows per set, as journal_set_rows counts them */
	uint64_t events;
	/* the live bans that expire soonest (finite expiries), soonest first */
	struct journal_next next[JOURNAL_NEXT_MAX];
	unsigned nnext;
};
/* Every count in one pass over the source index, and the soonest to expire. */
int journal_counts(struct journal *j, int64_t now, struct journal_counts *c, struct ipb_err *e);
/* The bans of c->next in full (with reason and created), soonest first. */
int journal_counts_next(struct journal *j, const struct journal_counts *c, journal_ban_cb cb,
			void *arg, struct ipb_err *e);
void journal_counts_free(struct journal_counts *c);
/* Names of sources with live bans (for completions and list). */
int journal_sources(struct journal *j, int64_t now, void (*cb)(void *, const char *), void *arg,
		    struct ipb_err *e);

/* Whether a source other than `source` holds a live ban of the family (4 or 6): sync
 * needs no per-target look-up where none does. One seek per source. */
int journal_family_shared(struct journal *j, int64_t now, const char *source, unsigned family,
			  bool *shared, struct ipb_err *e);

/* History. uid (when < 0) and user (when NULL, from $SUDO_USER) are filled in by the
 * journal; time 0 means now. */
struct event {
	int64_t time;
	const char *kind; /* ban unban expire sync flush reconcile gc init teardown */
	const char *target; /* may be NULL for whole-command events */
	const char *source;
	const char *reason;
	const char *detail; /* e.g. "expires 2026-11-27T10:00:00Z", "restored 3, removed 0" */
	int64_t uid;
	const char *user;
};
int journal_add_event(struct journal *j, const struct event *ev, struct ipb_err *e);
typedef int (*journal_event_cb)(void *arg, const struct event *ev);
/* Events with time >= since (0: all) and of one source (NULL: all), oldest first. */
int journal_events(struct journal *j, int64_t since, const char *source, journal_event_cb cb,
		   void *arg, struct ipb_err *e);

/* gc: delete rows expired before now (recording an "expire" event for each, so the
 * history says when a ban ended), events older than history_before (0: keep), and the
 * oldest events beyond max_events (0: no cap). Counts what it removed. */
int journal_gc(struct journal *j, int64_t now, int64_t history_before, uint64_t max_events,
	       uint64_t *bans_removed, uint64_t *events_removed, struct ipb_err *e);

int journal_meta_get(struct journal *j, const char *key, int64_t *value, bool *found,
		     struct ipb_err *e);
int journal_meta_set(struct journal *j, const char *key, int64_t value, struct ipb_err *e);
/* The same for a text value (buf gets "" when the key is missing). */
int journal_meta_get_text(struct journal *j, const char *key, char *buf, size_t len, bool *found,
			  struct ipb_err *e);
int journal_meta_set_text(struct journal *j, const char *key, const char *value, struct ipb_err *e);

/* PRAGMA quick_check: *ok, and the first problem found in detail. A file too damaged to
 * check gives *ok false and 0, not an error. */
int journal_check(struct journal *j, bool *ok, char *detail, size_t len, struct ipb_err *e);

#endif
