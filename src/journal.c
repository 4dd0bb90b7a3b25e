// SPDX-License-Identifier: GPL-2.0-only
/* The ban journal on SQLite: safe opening, schema migrations, cached statements. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "journal.h"

/* ---- schema ---- */

/* migrations[v] takes a journal from version v to v + 1; all pending ones run in one
 * transaction. Never edit a released step: append a new one. */
static const char *const migrations[] = {
	/* Every index costs about as much per ban as the row itself (a 1M-target ban
	 * writes 1M rows in one transaction), so there are only the ones hot paths need:
	 * the primary key serves bans_of_target and set_elements; bans_source serves sync
	 * (target_cmp order per source) and, covering expires, status counts without
	 * reading the rows.
	 * gc, next_expiring and the history's time filter scan instead: they are rare. */
	"CREATE TABLE bans (fam INTEGER NOT NULL, plen INTEGER NOT NULL, net BLOB NOT NULL,"
	"  source TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL, reason TEXT,"
	"  PRIMARY KEY (fam, plen, net, source)) WITHOUT ROWID;"
	"CREATE INDEX bans_source ON bans (source, fam, net, plen, expires);"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,"
	"  target TEXT, source TEXT, reason TEXT, detail TEXT, uid INTEGER, user TEXT);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;",
};
#define JOURNAL_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- cached statements ---- */

#define BAN_COLS "fam, plen, net, source, created, expires, reason"

enum stmt_id {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_OF_TARGET,
	ST_LIVE,
	ST_OF_SOURCE,
	ST_OF_SOURCE_DESC,
	ST_SOURCE_FAMILY,
	ST_SET_ELEMENTS,
	ST_SET_COUNTS,
	ST_SET_ROWS,
	ST_NEXT,
	ST_SET_NEXT,
	ST_NET_MIN,
	ST_NET_MAX,
	ST_SEEK,
	ST_TARGET_MAX,
	ST_PUT,
	ST_ANY,
	ST_DEL,
	ST_COUNT_ALL,
	ST_ONE,
	ST_COUNT_EVENTS,
	ST_SOURCE_NEXT,
	ST_ADD_EVENT,
	ST_EVENTS,
	ST_GC_EXPIRED,
	ST_GC_DEL_BANS,
	ST_GC_OLD_EVENTS,
	ST_GC_CAP_EVENTS,
	ST_META_GET,
	ST_META_SET,
	ST_WITHIN,
	ST_SET_ANY,
	ST_RANGE_ROWS,
	ST_RANGE_DEL,
	ST_AHEAD,
	ST_COUNT_
};

static const char *const stmt_sql[ST_COUNT_] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_OF_TARGET] = "SELECT " BAN_COLS " FROM bans WHERE fam = ?1 AND plen = ?2 AND net = ?3",
	[ST_LIVE] = "SELECT " BAN_COLS " FROM bans WHERE expires > ?1"
		    " AND (?2 IS NULL OR source = ?2) AND (?3 = 0 OR fam = ?3)"
		    " ORDER BY fam, plen, net, source",
	/* only the index's own columns: created and reason would cost a table seek per row */
	[ST_OF_SOURCE] = "SELECT fam, plen, net, expires FROM bans"
			 " INDEXED BY bans_source WHERE source = ?1 AND expires > ?2"
			 " ORDER BY fam, net, plen",
	[ST_SOURCE_FAMILY] = "SELECT 1 FROM bans INDEXED BY bans_source"
			     " WHERE source = ?1 AND fam = ?2 AND expires > ?3 LIMIT 1",
	[ST_OF_SOURCE_DESC] = "SELECT fam, plen, net, expires FROM bans"
			      " INDEXED BY bans_source WHERE source = ?1 AND expires > ?2"
			      " ORDER BY fam DESC, net DESC, plen DESC",
	/* rows in primary-key order; journal_set_elements keeps each net's latest */
	[ST_SET_ELEMENTS] = "SELECT " BAN_COLS " FROM bans WHERE fam = ?1 AND plen = ?2"
			    " AND expires > ?3 ORDER BY net",
	[ST_SET_ROWS] = "SELECT fam, plen, count(*) FROM bans WHERE expires > ?1 GROUP BY fam, plen",
	[ST_SET_COUNTS] = "SELECT fam, plen, count(DISTINCT net) FROM bans WHERE expires > ?1"
			  " GROUP BY fam, plen",
	[ST_NEXT] = "SELECT " BAN_COLS " FROM bans WHERE expires > ?1 AND expires < ?2"
		    " ORDER BY expires LIMIT ?3",
	[ST_SET_NEXT] = "SELECT fam, plen FROM bans WHERE (fam, plen) > (?1, ?2)"
			" ORDER BY fam, plen LIMIT 1",
	[ST_NET_MIN] = "SELECT net FROM bans WHERE fam = ?1 AND plen = ?2 ORDER BY net LIMIT 1",
	[ST_NET_MAX] = "SELECT net FROM bans WHERE fam = ?1 AND plen = ?2 ORDER BY net DESC LIMIT 1",
	[ST_SEEK] = "SELECT net FROM bans WHERE fam = ?1 AND plen = ?2 AND net >= ?3 AND expires > ?4"
		    " ORDER BY net LIMIT 1",
	[ST_TARGET_MAX] = "SELECT fam, plen, net, source, created, max(expires), reason FROM bans"
			  " WHERE fam = ?1 AND plen = ?2 AND net = ?3 AND expires > ?4",
	[ST_PUT] = "INSERT INTO bans (" BAN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		   " ON CONFLICT (fam, plen, net, source) DO UPDATE SET created = excluded.created,"
		   " expires = excluded.expires, reason = excluded.reason",
	[ST_ANY] = "SELECT 1 FROM bans LIMIT 1",
	[ST_DEL] = "DELETE FROM bans WHERE fam = ?1 AND plen = ?2 AND net = ?3 AND source = ?4",
	[ST_COUNT_ALL] = "SELECT source, fam, plen, expires, net FROM bans INDEXED BY bans_source",
	[ST_ONE] = "SELECT " BAN_COLS " FROM bans WHERE fam = ?1 AND plen = ?2 AND net = ?3"
		   " AND source = ?4",
	[ST_COUNT_EVENTS] = "SELECT count(*) FROM events",
	[ST_SOURCE_NEXT] = "SELECT source FROM bans INDEXED BY bans_source"
			   " WHERE source > ?1 AND expires > ?2 ORDER BY source LIMIT 1",
	[ST_ADD_EVENT] = "INSERT INTO events (time, kind, target, source, reason, detail, uid, user)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_EVENTS] = "SELECT time, kind, target, source, reason, detail, uid, user FROM events"
		      " WHERE time >= ?1 AND (?2 IS NULL OR source = ?2) ORDER BY time, id",
	[ST_GC_EXPIRED] = "SELECT " BAN_COLS " FROM bans WHERE expires <= ?1",
	[ST_GC_DEL_BANS] = "DELETE FROM bans WHERE expires <= ?1",
	[ST_GC_OLD_EVENTS] = "DELETE FROM events WHERE time < ?1",
	[ST_GC_CAP_EVENTS] = "DELETE FROM events WHERE id < (SELECT id FROM events"
			     " ORDER BY id DESC LIMIT 1 OFFSET ?1 - 1)",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_WITHIN] = "SELECT " BAN_COLS " FROM bans WHERE fam = ?1 AND plen = ?2"
		      " AND net >= ?3 AND net <= ?4 AND expires > ?5 ORDER BY net",
	[ST_SET_ANY] = "SELECT 1 FROM bans WHERE fam = ?1 AND plen = ?2 LIMIT 1",
	/* the rows of one set from (net, source) ?3, ?4 to ?5, ?6, in primary-key order */
	[ST_RANGE_ROWS] = "SELECT net, source FROM bans WHERE fam = ?1 AND plen = ?2"
			  " AND (net, source) >= (?3, ?4) AND (net, source) <= (?5, ?6)"
			  " ORDER BY net, source LIMIT ?7",
	[ST_RANGE_DEL] = "DELETE FROM bans WHERE fam = ?1 AND plen = ?2"
			 " AND (net, source) >= (?3, ?4) AND (net, source) <= (?5, ?6)",
	[ST_AHEAD] = "SELECT " BAN_COLS " FROM bans WHERE (fam, plen, net) >= (?1, ?2, ?3)"
		     " ORDER BY fam, plen, net, source LIMIT ?4",
	[ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
			" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
};

/* A row journal_del_ban has noted but not yet deleted (see "deferred deletes"). */
struct pend_row {
	uint8_t fam, plen;
	uint8_t net[16];
	char source[IPB_NAME_MAX];
};

/* Rows journal_bans_of_target has read ahead (see "reading ahead"). */
struct ahead_row {
	struct target t;
	char source[IPB_NAME_MAX];
	int64_t created, expires;
	size_t reason; /* offset into text, or SIZE_MAX for none */
};

struct ahead {
	struct ahead_row *v;
	size_t n, cap;
	char *text;
	size_t tlen, tcap;
	struct target lo, hi, dirty; /* the rows of lo <= target < hi, none put since but dirty */
	bool valid, to_end, has_dirty;
	bool busy; /* answering: a callback that looks up again reads afresh */
	size_t want, served;
};

struct journal {
	sqlite3 *db;
	char *path;
	bool read_only;
	int64_t uid;
	const char *user;
	sqlite3_stmt *stmt[ST_COUNT_];
	bool in_use[ST_COUNT_];
	struct pend_row *pend; /* noted deletes, in the order they came */
	size_t npend, pend_cap;
	uint32_t *pend_hash; /* PEND_HASH slots: 1 + index into pend of a noted target */
	struct ahead ahead;
};

/* ---- errors ---- */

/* Map an SQLite result to -errno and a message naming the journal; call before reset. */
static int journal_fail(struct journal *j, int rc, const char *what, struct ipb_err *e)
{
	const char *path = j->path, *msg = j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc);
	int sys = j->db ? sqlite3_system_errno(j->db) : 0;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		ipb_seterr(e, "journal %s: %s: still locked by another ipbanset after 60 s (%s)",
			   path, what, msg);
		return -EBUSY;
	case SQLITE_FULL:
		ipb_seterr(e, "journal %s: %s: no space left on device", path, what);
		return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		ipb_seterr(e, "journal %s is damaged (%s); it was left untouched: run 'ipbanset "
			   "recover' to rebuild it from the kernel's elements, or restore a backup",
			   path, msg);
		return -EBADMSG;
	case SQLITE_READONLY:
		ipb_seterr(e, "journal %s: %s: read-only (%s)", path, what, msg);
		return -EPERM;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		ipb_seterr(e, "journal %s: %s: permission denied (%s)", path, what, msg);
		return -EPERM;
	case SQLITE_CANTOPEN:
		ipb_seterr(e, "journal %s: cannot open (%s)", path,
			   sys ? strerror(sys) : msg);
		return sys == EACCES || sys == EPERM ? -EPERM : -EIO;
	case SQLITE_NOMEM:
		ipb_seterr(e, "journal %s: %s: out of memory", path, what);
		return -ENOMEM;
	case SQLITE_IOERR:
		if (sys == ENOSPC || sys == EDQUOT) {
			ipb_seterr(e, "journal %s: %s: no space left on device (%s); nothing was "
				      "changed: free space and run the command again", path, what,
				   strerror(sys));
			return -ENOSPC;
		}
		ipb_seterr(e, "journal %s: %s: %s", path, what, sys ? strerror(sys) : msg);
		return -EIO;
	default:
		ipb_seterr(e, "journal %s: %s: %s", path, what, msg);
		return -EIO;
	}
}

/* ---- statement cache ---- */

static int pend_flush(struct journal *j, struct ipb_err *e);

/* Statements that cannot see a noted delete, or check for one themselves: any other
 * statement first deletes the noted rows. */
static bool stmt_sees_pend(enum stmt_id id)
{
	switch (id) {
	case ST_OF_TARGET: /* journal_bans_of_target checks its target */
	case ST_AHEAD:	   /* and answers no noted target from what it read */
	case ST_PUT:	   /* journal_put_ban too */
	case ST_DEL:
	case ST_RANGE_ROWS:
	case ST_RANGE_DEL:
	case ST_ADD_EVENT: /* another table */
	case ST_ROLLBACK:  /* drops the noted rows */
		return false;
	default:
		return true;
	}
}

/* Statements after which the rows read ahead still hold: reads of them, and puts, which
 * mark their target (journal_put_ban). */
static bool stmt_keeps_ahead(enum stmt_id id)
{
	return id == ST_OF_TARGET || id == ST_AHEAD || id == ST_PUT || id == ST_ADD_EVENT;
}

/* The cached statement, or a fresh one when a callback re-enters the same query. */
static int stmt_get(struct journal *j, enum stmt_id id, sqlite3_stmt **s, struct ipb_err *e)
{
	sqlite3_stmt **slot = &j->stmt[id];
	int rc, r;

	if (!stmt_keeps_ahead(id))
		j->ahead.valid = false;
	if (j->npend && stmt_sees_pend(id) && (r = pend_flush(j, e)))
		return r;
	if (*slot && !j->in_use[id]) {
		j->in_use[id] = true;
		*s = *slot;
		return 0;
	}
	rc = sqlite3_prepare_v3(j->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
	if (rc != SQLITE_OK)
		return journal_fail(j, rc, "preparing a query", e);
	if (!*slot) {
		*slot = *s;
		j->in_use[id] = true;
	}
	return 0;
}

/* Reset releases the read snapshot an unfinished statement would otherwise hold. */
static void stmt_put(struct journal *j, enum stmt_id id, sqlite3_stmt *s)
{
	sqlite3_reset(s);
	if (s == j->stmt[id])
		j->in_use[id] = false;
	else
		sqlite3_finalize(s);
}

/* Run a statement that returns no rows. */
static int stmt_done(struct journal *j, enum stmt_id id, sqlite3_stmt *s, const char *what,
		     struct ipb_err *e)
{
	int rc = sqlite3_step(s), r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = journal_fail(j, rc, what, e);
	stmt_put(j, id, s);
	return r;
}

static int exec_simple(struct journal *j, enum stmt_id id, const char *what, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, id, &s, e)))
		return r;
	return stmt_done(j, id, s, what, e);
}

/* Run one statement returning a single integer (0 when NULL). */
static int query_int(struct journal *j, enum stmt_id id, sqlite3_stmt *s, int64_t *v,
		     const char *what, struct ipb_err *e)
{
	int rc = sqlite3_step(s), r = 0;

	*v = 0;
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		r = journal_fail(j, rc, what, e);
	stmt_put(j, id, s);
	return r;
}

static void bind_net(sqlite3_stmt *s, int col, const struct target *t)
{
	sqlite3_bind_blob(s, col, t->addr, (int)target_addrlen(t), SQLITE_STATIC);
}

static void bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, col);
}

/* ---- deferred deletes ---- */

/* A DELETE of one row descends both B-trees from the root: about 5 us a row at 1M rows,
 * three times what inserting it cost. So inside a write transaction journal_del_ban
 * only notes the row. Before any statement that could see it, the noted rows are
 * deleted in primary-key order, and a stretch of the table that holds nothing but noted
 * rows goes in one ranged DELETE: an unban of a whole imported list takes a third of
 * the time. The stretch is read first, so a row put in between is never deleted. */

#define PEND_MAX 65536		/* rows noted at most before they go (3.3 MB) */
#define PEND_HASH (2 * PEND_MAX) /* slots of the target index (512 KB) */
#define PEND_RUN 4096		/* rows read ahead of one ranged DELETE at most */

static uint32_t pend_slot(unsigned fam, unsigned plen, const uint8_t *net)
{
	uint32_t h = 2166136261u ^ (fam << 8 | plen);
	size_t i, len = fam == 4 ? 4 : 16;

	for (i = 0; i < len; i++)
		h = (h ^ net[i]) * 16777619u;
	return h & (PEND_HASH - 1);
}

static bool pend_same_target(const struct pend_row *p, const struct target *t)
{
	return p->fam == t->family && p->plen == t->plen &&
	       !memcmp(p->net, t->addr, target_addrlen(t));
}

/* Whether a row of target t is noted. */
static bool pend_has(const struct journal *j, const struct target *t)
{
	uint32_t k = pend_slot(t->family, t->plen, t->addr), v;

	if (!j->npend)
		return false;
	for (; (v = j->pend_hash[k]); k = (k + 1) & (PEND_HASH - 1))
		if (pend_same_target(&j->pend[v - 1], t))
			return true;
	return false;
}

static void pend_clear(struct journal *j)
{
	if (j->npend)
		memset(j->pend_hash, 0, PEND_HASH * sizeof(*j->pend_hash));
	j->npend = 0;
}

static void pend_free(struct journal *j)
{
	free(j->pend);
	free(j->pend_hash);
	j->pend = NULL;
	j->pend_hash = NULL;
	j->npend = j->pend_cap = 0;
}

static int pend_add(struct journal *j, const struct target *t, const char *source,
		    struct ipb_err *e)
{
	struct pend_row *p;
	uint32_t k;

	if ((!j->pend_hash && !(j->pend_hash = calloc(PEND_HASH, sizeof(*j->pend_hash)))) ||
	    ipb_grow(&j->pend, &j->pend_cap, j->npend + 1, sizeof(*j->pend)))
		return ipb_seterr(e, "journal %s: removing a ban: out of memory", j->path), -ENOMEM;
	p = &j->pend[j->npend++];
	memset(p, 0, sizeof(*p));
	p->fam = t->family;
	p->plen = t->plen;
	memcpy(p->net, t->addr, target_addrlen(t));
	snprintf(p->source, sizeof(p->source), "%s", source);
	for (k = pend_slot(p->fam, p->plen, p->net); j->pend_hash[k]; k = (k + 1) & (PEND_HASH - 1))
		;
	j->pend_hash[k] = (uint32_t)j->npend;
	return 0;
}

static size_t pend_netlen(const struct pend_row *p)
{
	return p->fam == 4 ? 4 : 16;
}

/* SQLite's order of the primary key: fam, plen, then net and source byte by byte. */
static int pend_cmp(const void *a, const void *b)
{
	const struct pend_row *x = a, *y = b;
	int c;

	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	if ((c = memcmp(x->net, y->net, pend_netlen(x))))
		return c;
	return strcmp(x->source, y->source);
}

static void bind_pend(sqlite3_stmt *s, int col, const struct pend_row *p)
{
	sqlite3_bind_blob(s, col, p->net, (int)pend_netlen(p), SQLITE_STATIC);
	sqlite3_bind_text(s, col + 1, p->source, -1, SQLITE_STATIC);
}

static int pend_del_one(struct journal *j, const struct pend_row *p, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_DEL, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, p->fam);
	sqlite3_bind_int(s, 2, p->plen);
	bind_pend(s, 3, p);
	return stmt_done(j, ST_DEL, s, "removing a ban", e);
}

/* How many of the noted rows v[0..m) are, in order, the table's first rows from v[0]:
 * the stretch from v[0] to v[*k - 1] holds those rows and nothing else. */
static int pend_match(struct journal *j, const struct pend_row *v, size_t m, size_t *k,
		      struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	*k = 0;
	if ((r = stmt_get(j, ST_RANGE_ROWS, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, v->fam);
	sqlite3_bind_int(s, 2, v->plen);
	bind_pend(s, 3, v);
	bind_pend(s, 5, &v[m - 1]);
	sqlite3_bind_int64(s, 7, (int64_t)m);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const struct pend_row *p = &v[*k];
		const char *src = (const char *)sqlite3_column_text(s, 1);

		if ((size_t)sqlite3_column_bytes(s, 0) != pend_netlen(p) || !src ||
		    memcmp(sqlite3_column_blob(s, 0), p->net, pend_netlen(p)) ||
		    strcmp(src, p->source))
			break;
		++*k;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = journal_fail(j, rc, "removing bans", e);
	stmt_put(j, ST_RANGE_ROWS, s);
	return r;
}

static int pend_del_range(struct journal *j, const struct pend_row *v, size_t k,
			  struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r = 0, n;

	if ((r = stmt_get(j, ST_RANGE_DEL, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, v->fam);
	sqlite3_bind_int(s, 2, v->plen);
	bind_pend(s, 3, v);
	bind_pend(s, 5, &v[k - 1]);
	rc = sqlite3_step(s);
	n = sqlite3_changes(j->db);
	if (rc != SQLITE_DONE) {
		r = journal_fail(j, rc, "removing bans", e);
	} else if ((size_t)n != k) { /* they were read a moment ago, in this transaction */
		ipb_seterr(e, "journal %s: removing bans: %d rows went where %zu were read",
			   j->path, n, k);
		r = -EIO;
	}
	stmt_put(j, ST_RANGE_DEL, s);
	return r;
}

/* Delete the noted rows. A stretch of want rows is read ahead; what matched goes in one
 * statement. After a match of one row (the noted rows are scattered), the next few go
 * one by one, and ever more of them while that lasts. */
static int pend_flush(struct journal *j, struct ipb_err *e)
{
	struct pend_row *v = j->pend;
	size_t n = j->npend, i = 0, m, k, want = 2, singles = 0, backoff = 1;
	int r = 0;

	j->npend = 0; /* the statements below must not flush again */
	j->ahead.valid = false;
	qsort(v, n, sizeof(*v), pend_cmp);
	while (i < n && !r) {
		for (m = 1; m < want && i + m < n && v[i + m].fam == v[i].fam &&
			    v[i + m].plen == v[i].plen; m++)
			;
		if (m == 1 || singles) {
			singles -= singles > 0;
			r = pend_del_one(j, &v[i++], e);
			continue;
		}
		if ((r = pend_match(j, &v[i], m, &k, e)))
			break;
		if (k <= 1) { /* one row, or none (a row that is not there: a no-op) */
			r = pend_del_one(j, &v[i++], e);
			singles = backoff;
			backoff = backoff < 64 ? 2 * backoff : 64;
			want = 2;
			continue;
		}
		r = pend_del_range(j, &v[i], k, e);
		i += k;
		backoff = 1;
		want = k == m ? (2 * m < PEND_RUN ? 2 * m : PEND_RUN) : k;
	}
	j->npend = n;
	pend_clear(j);
	return r;
}

int journal_flush(struct journal *j, struct ipb_err *e)
{
	int r, rc;

	if (j->npend && (r = pend_flush(j, e)))
		return r;
	/* The pages go to the WAL now rather than at the commit: a full disk fails here.
	 * Not synced; the commit still adds its last frame and syncs. */
	if ((rc = sqlite3_db_cacheflush(j->db)) != SQLITE_OK)
		return journal_fail(j, rc, "writing", e);
	return 0;
}

/* ---- rows to bans ---- */

/* The target of a row whose first three columns are fam, plen, net. */
static int row_to_target(struct journal *j, sqlite3_stmt *s, struct target *t, struct ipb_err *e)
{
	int fam = sqlite3_column_int(s, 0), plen = sqlite3_column_int(s, 1);
	const void *net = sqlite3_column_blob(s, 2);
	int len = sqlite3_column_bytes(s, 2);

	memset(t, 0, sizeof(*t));
	if (!((fam == 4 && len == 4 && plen <= 32) || (fam == 6 && len == 16 && plen <= 128)) ||
	    plen < 0 || !net) {
		ipb_seterr(e, "journal %s is damaged (a ban row has family %d, length %d, "
			   "%d address bytes): restore it from a backup", j->path, fam, plen, len);
		return -EBADMSG;
	}
	t->family = (uint8_t)fam;
	t->plen = (uint8_t)plen;
	memcpy(t->addr, net, (size_t)len);
	return 0;
}

static int row_to_ban(struct journal *j, sqlite3_stmt *s, struct ban *b, struct ipb_err *e)
{
	int r;

	memset(b, 0, sizeof(*b));
	if ((r = row_to_target(j, s, &b->t, e)))
		return r;
	b->source = (const char *)sqlite3_column_text(s, 3);
	b->created = sqlite3_column_int64(s, 4);
	b->expires = sqlite3_column_int64(s, 5);
	b->reason = (const char *)sqlite3_column_text(s, 6);
	if (!b->source)
		b->source = "";
	return 0;
}

/* Step through BAN_COLS rows calling cb; a non-zero cb result stops and is returned. */
static int each_ban(struct journal *j, enum stmt_id id, sqlite3_stmt *s, journal_ban_cb cb,
		    void *arg, struct ipb_err *e)
{
	struct ban b;
	int rc, r = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = row_to_ban(j, s, &b, e)) || (r = cb(arg, &b)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = journal_fail(j, rc, "reading bans", e);
	stmt_put(j, id, s);
	return r;
}

/* ---- reading ahead ---- */

/* A look-up of one target costs about 2.4 us at 1M rows: a statement step that descends
 * the B-tree from the root. A bulk unban or flush asks for its targets in about
 * primary-key order, so inside a transaction a look-up reads the rows of the following
 * targets too, and the next look-ups are answered from them. Any statement that could
 * change the rows, other than a put, drops them; a put marks its target, and no target
 * up to the highest one marked is answered from them. A noted delete is deleted before
 * its target is looked up. While the look-ups keep landing in what was read, it reads
 * twice as far the next time, up to AHEAD_MAX rows; while they do not, half as far. */

#define AHEAD_MAX 4096

/* Primary-key order of targets: family, prefix length, network. */
static int pk_cmp(const struct target *a, const struct target *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return memcmp(a->addr, b->addr, target_addrlen(a));
}

static bool ahead_covers(const struct ahead *a, const struct target *t)
{
	return a->valid && pk_cmp(t, &a->lo) >= 0 && (a->to_end || pk_cmp(t, &a->hi) < 0) &&
	       (!a->has_dirty || pk_cmp(t, &a->dirty) > 0);
}

static void ahead_mark(struct ahead *a, const struct target *t)
{
	if (!ahead_covers(a, t))
		return;
	a->dirty = *t;
	a->has_dirty = true;
}

static void ahead_free(struct ahead *a)
{
	free(a->v);
	free(a->text);
	memset(a, 0, sizeof(*a));
}

static int ahead_keep(struct journal *j, const struct ban *b, struct ipb_err *e)
{
	struct ahead *a = &j->ahead;
	struct ahead_row *w;
	size_t len;

	if (ipb_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v)))
		goto oom;
	w = &a->v[a->n++];
	w->t = b->t;
	snprintf(w->source, sizeof(w->source), "%s", b->source);
	w->created = b->created;
	w->expires = b->expires;
	w->reason = SIZE_MAX;
	if (b->reason) {
		len = strlen(b->reason) + 1;
		if (ipb_grow(&a->text, &a->tcap, a->tlen + len, 1))
			goto oom;
		memcpy(a->text + a->tlen, b->reason, len);
		w->reason = a->tlen;
		a->tlen += len;
	}
	return 0;
oom:
	ipb_seterr(e, "journal %s: reading bans: out of memory", j->path);
	return -ENOMEM;
}

/* Read the rows from target t on: whole targets up to the last one read (all of them
 * when the table ends first). */
static int ahead_fill(struct journal *j, const struct target *t, struct ipb_err *e)
{
	struct ahead *a = &j->ahead;
	sqlite3_stmt *s;
	struct ban b;
	int rc, r = 0;

	if (!a->want)
		a->want = 2;
	else if (a->valid && 2 * a->served >= a->n)
		a->want = 2 * a->want < AHEAD_MAX ? 2 * a->want : AHEAD_MAX;
	else
		a->want = a->want / 2 > 2 ? a->want / 2 : 2;
	a->valid = a->has_dirty = false;
	a->n = a->tlen = a->served = 0;
	if ((r = stmt_get(j, ST_AHEAD, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, t->family);
	sqlite3_bind_int(s, 2, t->plen);
	bind_net(s, 3, t);
	sqlite3_bind_int64(s, 4, (int64_t)a->want);
	while (!r && (rc = sqlite3_step(s)) == SQLITE_ROW)
		if (!(r = row_to_ban(j, s, &b, e)))
			r = ahead_keep(j, &b, e);
	if (!r && rc != SQLITE_DONE)
		r = journal_fail(j, rc, "reading bans", e);
	stmt_put(j, ST_AHEAD, s);
	if (r)
		return r;
	a->lo = *t;
	a->to_end = a->n < a->want;
	if (!a->to_end)
		a->hi = a->v[a->n - 1].t;
	a->valid = true;
	return 0;
}

/* The rows of target t, which the rows read ahead cover. */
static int ahead_serve(struct journal *j, const struct target *t, journal_ban_cb cb, void *arg)
{
	struct ahead *a = &j->ahead;
	size_t lo = 0, hi = a->n, i;
	struct ban b;
	int r = 0;

	a->served++;
	a->busy = true;
	while (lo < hi) { /* the first row not before t */
		i = lo + (hi - lo) / 2;
		if (pk_cmp(&a->v[i].t, t) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	for (i = lo; i < a->n && !r && !pk_cmp(&a->v[i].t, t); i++) {
		b = (struct ban){ .t = a->v[i].t, .source = a->v[i].source,
				  .created = a->v[i].created, .expires = a->v[i].expires,
				  .reason = a->v[i].reason == SIZE_MAX ? NULL : a->text + a->v[i].reason };
		r = cb(arg, &b);
	}
	a->busy = false;
	return r;
}

/* ---- opening ---- */

static int parent_dir(const char *path, char *dir, size_t len)
{
	char tmp[PATH_MAX];

	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	snprintf(dir, len, "%s", dirname(tmp));
	return 0;
}

/* mkdir -p; only directories created here get 0700 (chmod: umask-proof). */
static int make_parents(const char *dir, struct ipb_err *e)
{
	char p[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n >= sizeof(p))
		return ipb_seterr(e, "journal directory %s: name too long", dir), -ENAMETOOLONG;
	strcpy(p, dir);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		p[i] = 0;
		if (mkdir(p, 0700) == 0) {
			if (chmod(p, 0700) < 0)
				return ipb_seterr(e, "chmod %s: %m", p), -errno;
		} else if (errno != EEXIST) {
			return ipb_seterr(e, "cannot create journal directory %s: %m", p), -errno;
		}
		p[i] = dir[i];
	}
	return 0;
}

/* Create an empty file 0600 whatever the umask; an existing file is left alone. */
static int create_file(const char *path, struct ipb_err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return ipb_seterr(e, "cannot create journal %s: %m", path), -errno;
	}
	if (fchmod(fd, 0600) < 0) {
		ipb_seterr(e, "chmod %s: %m", path);
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

/* Another user who can write the journal or replace it could forge bans or unbans. */
static int check_owner_mode(const char *what, const char *path, const struct stat *st,
			    struct ipb_err *e)
{
	uid_t euid = geteuid();

	if (st->st_uid != euid && st->st_uid != 0) {
		ipb_seterr(e, "%s %s is owned by uid %u, not by root%s; refusing it (fix: chown "
			   "%u %s)", what, path, (unsigned)st->st_uid, euid ? " or you" : "",
			   (unsigned)euid, path);
		return -EPERM;
	}
	/* A shared directory such as /tmp must stay writable: the fix is another directory. */
	if (S_ISDIR(st->st_mode) && (st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    (st->st_mode & (S_ISVTX | S_IWOTH))) {
		ipb_seterr(e, "%s %s is writable by group or others; refusing it (fix: keep the "
			   "journal in a directory that only root can write, such as "
			   "/var/lib/ipbanset, and give its path with --db)", what, path);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		ipb_seterr(e, "%s %s is writable by group or others; refusing it (fix: chmod %s %s)",
			   what, path, S_ISDIR(st->st_mode) ? "go-w" : "600", path);
		return -EPERM;
	}
	return 0;
}

/* The journal's directory: nobody but its owner (root or us) may add or replace files in it. */
static int check_dir(const char *path, struct ipb_err *e)
{
	char dir[PATH_MAX];
	struct stat st;
	int r;

	if ((r = parent_dir(path, dir, sizeof(dir))))
		return ipb_seterr(e, "journal %s: name too long", path), r;
	if (stat(dir, &st) < 0)
		return ipb_seterr(e, "journal directory %s: %m", dir), -errno;
	return check_owner_mode("journal directory", dir, &st, e);
}

static int check_safe(const char *path, bool create, struct ipb_err *e)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && !create)
			return ipb_seterr(e, "journal %s does not exist", path), -ENOENT;
		return ipb_seterr(e, "journal %s: %m", path), errno == EACCES ? -EPERM : -errno;
	}
	if (S_ISLNK(st.st_mode))
		return ipb_seterr(e, "journal %s is a symbolic link; refusing it (give the real "
				  "path with --db)", path), -EPERM;
	if (!S_ISREG(st.st_mode))
		return ipb_seterr(e, "journal %s is not a regular file", path), -EPERM;
	if ((r = check_owner_mode("journal", path, &st, e)))
		return r;
	return check_dir(path, e);
}

static int pragma(struct journal *j, const char *sql, struct ipb_err *e)
{
	int rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : journal_fail(j, rc, "opening", e);
}

static int pragma_int(struct journal *j, const char *sql, int64_t *v, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(j->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return journal_fail(j, rc, sql, e);
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		int r = journal_fail(j, rc, sql, e);

		sqlite3_finalize(s);
		return r;
	}
	sqlite3_finalize(s);
	return 0;
}

static int schema_version(struct journal *j, int64_t *v, struct ipb_err *e)
{
	int r = pragma_int(j, "PRAGMA user_version", v, e);

	if (!r && *v > JOURNAL_VERSION) {
		ipb_seterr(e, "journal %s: schema version %lld is newer than this ipbanset supports "
			   "(%d); upgrade ipbanset", j->path, (long long)*v, JOURNAL_VERSION);
		return -EIO;
	}
	return r;
}

/* Apply pending migrations in one write transaction, re-reading the version under the
 * lock so two first runs racing to create the journal do it once. */
static int migrate(struct journal *j, struct ipb_err *e)
{
	char sql[64];
	int64_t v;
	int r;

	if ((r = pragma(j, "BEGIN IMMEDIATE", e)))
		return r;
	if ((r = schema_version(j, &v, e)))
		goto fail;
	for (; v < JOURNAL_VERSION; v++)
		if ((r = pragma(j, migrations[v], e)))
			goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", JOURNAL_VERSION);
	if ((r = pragma(j, sql, e)) || (r = pragma(j, "COMMIT", e)))
		goto fail;
	return 0;
fail:
	sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* WAL lets readers (status, list) run beside a writer; the mode is stored in the file. */
static int set_wal(struct journal *j, struct ipb_err *e)
{
	sqlite3_stmt *s;
	bool wal = false;
	int rc = sqlite3_prepare_v2(j->db, "PRAGMA journal_mode", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return journal_fail(j, rc, "reading the journal mode", e);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		wal = !sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal");
	else
		rc = journal_fail(j, rc, "reading the journal mode", e);
	sqlite3_finalize(s);
	if (rc < 0)
		return rc;
	return wal ? 0 : pragma(j, "PRAGMA journal_mode = WAL", e);
}

static int journal_setup(struct journal *j, struct ipb_err *e)
{
	int64_t v;
	int r;

	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, 60000);
	/* FULL: a commit is on disk before we tell the user (and after the kernel acked).
	 * A writer keeps up to 32 MiB of pages, most of them dirty in a big transaction; a
	 * reader scans (status, list, sync's second read) and reuses 4 MiB: filling a
	 * bigger cache only faults in fresh memory for pages it never reads again. */
	if ((r = pragma(j, j->read_only ? "PRAGMA synchronous = FULL; PRAGMA cache_size = -4096;"
					  : "PRAGMA synchronous = FULL; PRAGMA cache_size = -32768;",
			e)) ||
	    (r = pragma(j, "PRAGMA journal_size_limit = 67108864", e)))
		return r;
	if ((r = schema_version(j, &v, e)))
		return r;
	if (v < JOURNAL_VERSION || !j->read_only)
		if ((r = set_wal(j, e)))
			return r;
	if (v < JOURNAL_VERSION && (r = migrate(j, e)))
		return r;
	if (j->read_only)
		return pragma(j, "PRAGMA query_only = 1", e);
	return 0;
}

/* Memory statistics take a global mutex on every allocation; nothing here reads them.
 * Must precede SQLite's initialisation, so a later call is a harmless no-op. */
static void journal_global_init(void)
{
	static bool done;

	if (!done)
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	done = true;
}

/* Opens file (a path, or ":memory:") as the journal that messages call path; with image
 * (from sqlite3_malloc64, taken over), the database is that copy, read-only. */
static int journal_connect_image(struct journal **jp, const char *file, const char *path,
				 int flags, bool read_only, unsigned char *image, size_t len,
				 struct ipb_err *e)
{
	struct journal *j;
	int r, rc;

	journal_global_init();
	j = calloc(1, sizeof(*j));
	if (!j || !(j->path = strdup(path))) {
		free(j);
		sqlite3_free(image);
		return ipb_seterr(e, "journal %s: out of memory", path), -ENOMEM;
	}
	j->read_only = read_only;
	j->uid = (int64_t)getuid();
	j->user = getenv("SUDO_USER");
	rc = sqlite3_open_v2(file, &j->db, flags, NULL);
	if (rc == SQLITE_OK && image)
		rc = sqlite3_deserialize(j->db, "main", image, (sqlite3_int64)len,
					 (sqlite3_int64)len,
					 SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
	else
		sqlite3_free(image);
	r = rc == SQLITE_OK ? journal_setup(j, e) : journal_fail(j, rc, "opening", e);
	if (r) {
		journal_close(j);
		return r;
	}
	*jp = j;
	return 0;
}

static int journal_connect(struct journal **jp, const char *file, const char *path, int flags,
			   bool read_only, struct ipb_err *e)
{
	return journal_connect_image(jp, file, path, flags, read_only, NULL, 0, e);
}

/* Can this process create files beside the journal? (EROFS on a read-only mount) */
static bool dir_writable(const char *path)
{
	char dir[PATH_MAX];

	return parent_dir(path, dir, sizeof(dir)) == 0 && access(dir, W_OK) == 0;
}

static bool wal_exists(const char *path)
{
	char wal[PATH_MAX];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return lstat(wal, &st) == 0;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The whole file in memory from sqlite3_malloc64, if it did not change while read. */
static int read_image(int fd, unsigned char **image, size_t *len)
{
	struct stat a, b;
	size_t done = 0;
	ssize_t n;

	if (fstat(fd, &a) < 0)
		return -errno;
	if (!(*image = sqlite3_malloc64((sqlite3_uint64)a.st_size + 1)))
		return -ENOMEM;
	while (done < (size_t)a.st_size) {
		n = pread(fd, *image + done, (size_t)a.st_size - done, (off_t)done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (fstat(fd, &b) < 0 || done != (size_t)a.st_size || !same_file_state(&a, &b)) {
		sqlite3_free(*image);
		*image = NULL;
		return -EAGAIN;
	}
	*len = done;
	return 0;
}

/* A reader that cannot create files beside the journal (a read-only mount, a directory
 * of another user's) cannot open it in place: SQLite reads a WAL journal only with its
 * -wal and -shm files, and creates them. Without a -wal file no other connection is
 * open and the file holds every commit, so a copy read while neither the file nor the
 * -wal changed is a consistent snapshot. (immutable=1 would read the file in place, with
 * no lock to stop a writer that starts meanwhile from checkpointing into it.) -EAGAIN:
 * a -wal file is there, so SQLite can open the journal read-only in place. */
static int journal_open_snapshot(struct journal **jp, const char *path, struct ipb_err *e)
{
	unsigned char *image = NULL;
	size_t len = 0;
	int fd, r = -EAGAIN, tries;

	for (tries = 0; tries < 20 && r == -EAGAIN; tries++) {
		if (wal_exists(path))
			return -EAGAIN;
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return ipb_seterr(e, "journal %s: %m", path), errno == EACCES ? -EPERM : -errno;
		r = read_image(fd, &image, &len);
		close(fd);
		if (!r && wal_exists(path)) {
			sqlite3_free(image);
			image = NULL;
			r = -EAGAIN;
		}
		if (r == -EAGAIN)
			usleep(50000);
	}
	if (r == -EAGAIN)
		return ipb_seterr(e, "journal %s: it kept changing while being read, and its "
				  "directory is not writable here", path), -EBUSY;
	if (r)
		return ipb_seterr(e, "journal %s: reading it: %s", path, strerror(-r)), r;
	/* bytes 18 and 19: the copy is no WAL database (a WAL one would need a -wal file) */
	if (len >= 100 && image[18] == 2 && image[19] == 2)
		image[18] = image[19] = 1;
	return journal_connect_image(jp, ":memory:", path,
				     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				     true, image, len, e);
}

int journal_open(struct journal **jp, const char *path, bool create, bool read_only,
		 struct ipb_err *e)
{
	char dir[PATH_MAX];
	int r, flags = SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX;

	*jp = NULL;
	if (create && (r = parent_dir(path, dir, sizeof(dir))))
		return ipb_seterr(e, "journal %s: name too long", path), r;
	/* the directory first: a refused one must not keep an empty journal */
	if (create && ((r = make_parents(dir, e)) || (r = check_dir(path, e)) ||
		       (r = create_file(path, e))))
		return r;
	if ((r = check_safe(path, create, e)))
		return r;
	if (read_only && !dir_writable(path)) {
		r = journal_open_snapshot(jp, path, e);
		if (r != -EAGAIN)
			return r;
	} else if (!read_only && !dir_writable(path)) {
		r = -errno;
		ipb_seterr(e, "journal %s: cannot change it: its directory is not writable here (%s), "
			   "and SQLite creates %s-wal and %s-shm beside it", path, strerror(-r), path,
			   path);
		return r == -EACCES ? -EPERM : r;
	}
	/* A reader that may not write the file (read-only mount) still reads it. */
	if (read_only && access(path, W_OK) < 0)
		flags |= SQLITE_OPEN_READONLY;
	else
		flags |= SQLITE_OPEN_READWRITE;
	return journal_connect(jp, path, path, flags, read_only, e);
}

/* An empty journal in memory, for a dry run where no journal file exists yet: the run
 * plans against no bans and leaves no file behind. shown names it in messages. */
int journal_open_scratch(struct journal **jp, const char *shown, struct ipb_err *e)
{
	*jp = NULL;
	return journal_connect(jp, ":memory:", shown,
			       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, false, e);
}

void journal_close(struct journal *j)
{
	unsigned i;

	if (!j)
		return;
	for (i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(j->stmt[i]);
	pend_free(j);
	ahead_free(&j->ahead);
	sqlite3_close(j->db);
	free(j->path);
	free(j);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

int64_t journal_size_bytes(struct journal *j)
{
	char wal[PATH_MAX];
	struct stat st;
	int64_t n = 0;

	if (stat(j->path, &st) == 0)
		n += st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", j->path);
	if (stat(wal, &st) == 0)
		n += st.st_size;
	return n;
}

/* ---- transactions ---- */

int journal_begin(struct journal *j, struct ipb_err *e)
{
	if (j->read_only)
		return ipb_seterr(e, "journal %s was opened read-only", j->path), -EPERM;
	return exec_simple(j, ST_BEGIN, "starting a transaction", e);
}

int journal_begin_read(struct journal *j, struct ipb_err *e)
{
	return exec_simple(j, ST_BEGIN_READ, "starting a read transaction", e);
}

int journal_commit(struct journal *j, struct ipb_err *e)
{
	return exec_simple(j, ST_COMMIT, "committing", e);
}

void journal_rollback(struct journal *j)
{
	struct ipb_err e;

	pend_clear(j);
	/* An I/O error or a full disk may already have rolled the transaction back. */
	if (!sqlite3_get_autocommit(j->db))
		exec_simple(j, ST_ROLLBACK, "rolling back", &e);
}

/* ---- bans ---- */

int journal_bans_of_target(struct journal *j, const struct target *t, journal_ban_cb cb,
			   void *arg, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if (pend_has(j, t) && (r = pend_flush(j, e)))
		return r;
	if (!sqlite3_get_autocommit(j->db) && !j->ahead.busy) { /* in a transaction: read ahead */
		if (!ahead_covers(&j->ahead, t) && (r = ahead_fill(j, t, e)))
			return r;
		if (ahead_covers(&j->ahead, t))
			return ahead_serve(j, t, cb, arg);
	}
	if ((r = stmt_get(j, ST_OF_TARGET, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, t->family);
	sqlite3_bind_int(s, 2, t->plen);
	bind_net(s, 3, t);
	return each_ban(j, ST_OF_TARGET, s, cb, arg, e);
}

int journal_set_has_rows(struct journal *j, unsigned family, unsigned plen, bool *has,
			 struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r;

	if ((r = stmt_get(j, ST_SET_ANY, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, (int)family);
	sqlite3_bind_int(s, 2, (int)plen);
	rc = sqlite3_step(s);
	*has = rc == SQLITE_ROW;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : journal_fail(j, rc, "looking up a set", e);
	stmt_put(j, ST_SET_ANY, s);
	return r;
}

int journal_bans_within(struct journal *j, const struct target *t, int64_t now,
			journal_ban_cb cb, void *arg, struct ipb_err *e)
{
	unsigned alen = target_addrlen(t), full = alen * 8, plen, i;
	uint8_t hi[16];
	sqlite3_stmt *s;
	int r;

	memcpy(hi, t->addr, alen);
	for (i = t->plen; i < full; i++)
		hi[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (plen = t->plen + 1; plen <= full; plen++) {
		if ((r = stmt_get(j, ST_WITHIN, &s, e)))
			return r;
		sqlite3_bind_int(s, 1, t->family);
		sqlite3_bind_int(s, 2, (int)plen);
		bind_net(s, 3, t);
		sqlite3_bind_blob(s, 4, hi, (int)alen, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 5, now);
		if ((r = each_ban(j, ST_WITHIN, s, cb, arg, e)))
			return r;
	}
	return 0;
}

int journal_bans_live(struct journal *j, int64_t now, const char *source, unsigned family,
		      journal_ban_cb cb, void *arg, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_LIVE, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, now);
	bind_text(s, 2, source);
	sqlite3_bind_int(s, 3, (int)family);
	return each_ban(j, ST_LIVE, s, cb, arg, e);
}

int journal_bans_of_source(struct journal *j, int64_t now, const char *source, bool descending,
			   journal_ban_cb cb, void *arg, struct ipb_err *e)
{
	enum stmt_id id = descending ? ST_OF_SOURCE_DESC : ST_OF_SOURCE;
	struct ban b = { .source = source };
	sqlite3_stmt *s;
	int r, rc;

	if ((r = stmt_get(j, id, &s, e)))
		return r;
	bind_text(s, 1, source);
	sqlite3_bind_int64(s, 2, now);
	/* a sync reads a million of these: only the index's columns it needs */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		b.expires = sqlite3_column_int64(s, 3);
		if ((r = row_to_target(j, s, &b.t, e)) || (r = cb(arg, &b)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = journal_fail(j, rc, "reading bans", e);
	stmt_put(j, id, s);
	return r;
}

/* The row a net's element takes its expiry, source and reason from, copied out of the
 * statement, which moves on before the net's last row is known. */
struct set_best {
	struct ban b;
	char source[IPB_NAME_MAX * 4];
	char *reason;
	size_t reason_cap;
	bool have;
};

static int best_take(struct set_best *bs, const struct ban *b)
{
	size_t len = b->reason ? strlen(b->reason) + 1 : 0;

	bs->b = *b;
	snprintf(bs->source, sizeof(bs->source), "%s", b->source);
	bs->b.source = bs->source;
	if (b->reason) {
		if (ipb_grow(&bs->reason, &bs->reason_cap, len, 1))
			return -ENOMEM;
		memcpy(bs->reason, b->reason, len);
		bs->b.reason = bs->reason;
	}
	bs->have = true;
	return 0;
}

/* A GROUP BY net with max(expires) took three times as long at 1M rows as this plain
 * scan in key order that keeps the first row with the latest expiry of each net. */
int journal_set_elements(struct journal *j, unsigned family, unsigned plen, int64_t now,
			 journal_ban_cb cb, void *arg, struct ipb_err *e)
{
	struct set_best bs = { .have = false };
	sqlite3_stmt *s;
	struct ban b;
	int rc, r;

	if ((r = stmt_get(j, ST_SET_ELEMENTS, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, (int)family);
	sqlite3_bind_int(s, 2, (int)plen);
	sqlite3_bind_int64(s, 3, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = row_to_ban(j, s, &b, e)))
			break;
		if (bs.have && !memcmp(b.t.addr, bs.b.t.addr, sizeof(b.t.addr))) {
			if (b.expires > bs.b.expires && (r = best_take(&bs, &b)))
				goto oom;
			continue;
		}
		if (bs.have && (r = cb(arg, &bs.b)))
			break;
		if ((r = best_take(&bs, &b)))
			goto oom;
	}
	if (!r && rc != SQLITE_DONE)
		r = journal_fail(j, rc, "reading bans", e);
	else if (!r && bs.have)
		r = cb(arg, &bs.b);
	if (0) {
oom:
		ipb_seterr(e, "journal %s: out of memory", j->path);
	}
	stmt_put(j, ST_SET_ELEMENTS, s);
	free(bs.reason);
	return r;
}

static int set_counts(struct journal *j, enum stmt_id id, int64_t now,
		      uint64_t counts[PLAN_NSETS], struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r = 0, fam, plen;

	memset(counts, 0, PLAN_NSETS * sizeof(counts[0]));
	if ((r = stmt_get(j, id, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fam = sqlite3_column_int(s, 0);
		plen = sqlite3_column_int(s, 1);
		if ((fam == 4 && plen >= 0 && plen <= 32) || (fam == 6 && plen >= 0 && plen <= 128))
			counts[plan_set_index((unsigned)fam, (unsigned)plen)] =
				(uint64_t)sqlite3_column_int64(s, 2);
	}
	if (rc != SQLITE_DONE)
		r = journal_fail(j, rc, "counting set elements", e);
	stmt_put(j, id, s);
	return r;
}

int journal_set_counts(struct journal *j, int64_t now, uint64_t counts[PLAN_NSETS],
		       struct ipb_err *e)
{
	return set_counts(j, ST_SET_COUNTS, now, counts, e);
}

/* count(DISTINCT net) keeps a temporary B-tree of the nets: twice the time at 1M rows */
int journal_set_rows(struct journal *j, int64_t now, uint64_t rows[PLAN_NSETS], struct ipb_err *e)
{
	return set_counts(j, ST_SET_ROWS, now, rows, e);
}

int journal_next_expiring(struct journal *j, int64_t now, unsigned n, journal_ban_cb cb,
			  void *arg, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_NEXT, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, IPB_NEVER);
	sqlite3_bind_int64(s, 3, n);
	return each_ban(j, ST_NEXT, s, cb, arg, e);
}

int journal_put_ban(struct journal *j, const struct ban *b, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if (pend_has(j, &b->t) && (r = pend_flush(j, e)))
		return r;
	ahead_mark(&j->ahead, &b->t);
	if ((r = stmt_get(j, ST_PUT, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, b->t.family);
	sqlite3_bind_int(s, 2, b->t.plen);
	bind_net(s, 3, &b->t);
	bind_text(s, 4, b->source);
	sqlite3_bind_int64(s, 5, b->created);
	sqlite3_bind_int64(s, 6, b->expires);
	bind_text(s, 7, b->reason);
	return stmt_done(j, ST_PUT, s, "recording a ban", e);
}

/* Rows per INSERT of a bulk insert: one statement step per row reopens its cursors and
 * descends both B-trees from the root each time; 64 rows per step take a third of the
 * time at 1M rows. */
#define INSERT_ROWS 64

/* INSERT INTO bans VALUES (?4, ?5, ?6, ?1, ?2, ?7, ?3), (?8, ...): source, created and
 * reason are ?1..?3, bound once; row k is fam, plen, net, expires at 4 + 4k... */
static int prepare_insert(struct journal *j, size_t rows, sqlite3_stmt **s, struct ipb_err *e)
{
	char sql[64 + INSERT_ROWS * 64];
	size_t k, len;
	int rc;

	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO bans (" BAN_COLS ") VALUES ");
	for (k = 0; k < rows; k++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s(?%zu, ?%zu, ?%zu, ?1, ?2, ?%zu, ?3)",
					k ? ", " : "", 4 + 4 * k, 5 + 4 * k, 6 + 4 * k, 7 + 4 * k);
	rc = sqlite3_prepare_v2(j->db, sql, -1, s, NULL);
	return rc == SQLITE_OK ? 0 : journal_fail(j, rc, "preparing a query", e);
}

/* Steps s once with the next rows of row(): rows [*i, *i + rows). */
static int insert_step(struct journal *j, sqlite3_stmt *s, size_t rows, size_t *i,
		       journal_row_fn row, void *arg, struct ipb_err *e)
{
	const struct target *t;
	int64_t expires;
	int p, rc;
	size_t k;

	for (k = 0; k < rows; k++, (*i)++) {
		t = row(arg, *i, &expires);
		p = 4 + 4 * (int)k;
		sqlite3_bind_int(s, p, t->family);
		sqlite3_bind_int(s, p + 1, t->plen);
		bind_net(s, p + 2, t);
		sqlite3_bind_int64(s, p + 3, expires);
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : journal_fail(j, rc, "recording bans", e);
}

int journal_insert_bans(struct journal *j, const char *source, int64_t created,
			const char *reason, size_t n, journal_row_fn row, void *arg,
			struct ipb_err *e)
{
	sqlite3_stmt *s[2] = { NULL, NULL };
	size_t i = 0, rows;
	int r = 0, k;

	if (j->npend && (r = pend_flush(j, e)))
		return r;
	j->ahead.valid = false;
	for (k = 0; k < 2 && !r; k++) {
		rows = k ? 1 : INSERT_ROWS;
		if (n - i < rows)
			continue;
		if ((r = prepare_insert(j, rows, &s[k], e)))
			break;
		bind_text(s[k], 1, source);
		sqlite3_bind_int64(s[k], 2, created);
		bind_text(s[k], 3, reason);
		while (!r && n - i >= rows)
			r = insert_step(j, s[k], rows, &i, row, arg, e);
	}
	sqlite3_finalize(s[0]);
	sqlite3_finalize(s[1]);
	return r;
}

/* The open transaction's pages go to the WAL file and to disk now, so the commit only
 * adds its last pages and the commit frame. Frames without a commit frame are ignored by
 * recovery: a crash after this still loses the whole transaction, as it should. */
int journal_write_ahead(struct journal *j, struct ipb_err *e)
{
	char wal[PATH_MAX];
	int fd, r;

	if ((r = journal_flush(j, e)))
		return r;
	snprintf(wal, sizeof(wal), "%s-wal", j->path);
	fd = open(wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0; /* not in WAL mode after all: the commit syncs everything */
	if (fdatasync(fd) < 0) {
		ipb_seterr(e, "journal %s: writing ahead: %m", j->path);
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int journal_is_empty(struct journal *j, bool *empty, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r;

	if ((r = stmt_get(j, ST_ANY, &s, e)))
		return r;
	rc = sqlite3_step(s);
	*empty = rc == SQLITE_DONE;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : journal_fail(j, rc, "reading bans", e);
	stmt_put(j, ST_ANY, s);
	return r;
}

int journal_del_ban(struct journal *j, const struct target *t, const char *source,
		    struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	/* Noted while a write transaction is open (see "deferred deletes"). A second delete
	 * of a noted target, or a full list, deletes what is noted first. */
	if (!sqlite3_get_autocommit(j->db)) {
		if ((pend_has(j, t) || j->npend >= PEND_MAX) && (r = pend_flush(j, e)))
			return r;
		return pend_add(j, t, source, e);
	}
	if ((r = stmt_get(j, ST_DEL, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, t->family);
	sqlite3_bind_int(s, 2, t->plen);
	bind_net(s, 3, t);
	bind_text(s, 4, source);
	return stmt_done(j, ST_DEL, s, "removing a ban", e);
}

/* ---- sampling ---- */

/* One (family, plen) present in the journal and its lowest and highest network. */
struct sample_set {
	uint8_t fam, plen;
	uint64_t lo, hi; /* first 8 bytes of the min and max net, big-endian */
};

struct sample {
	struct sample_set sets[PLAN_NSETS];
	unsigned nsets;
	struct target *seen;
	unsigned nseen;
	uint64_t rng;
};

static uint64_t sample_rand(struct sample *sm)
{
	/* xorshift64*: plenty for picking which bans to spot-check */
	sm->rng ^= sm->rng >> 12;
	sm->rng ^= sm->rng << 25;
	sm->rng ^= sm->rng >> 27;
	return sm->rng * 2685821657736338717ULL;
}

static uint64_t net_prefix64(const void *net, int len)
{
	const uint8_t *p = net;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | (i < len ? p[i] : 0);
	return v;
}

static int net_edge(struct journal *j, enum stmt_id id, struct sample_set *ss, uint64_t *v,
		    struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	if ((r = stmt_get(j, id, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, ss->fam);
	sqlite3_bind_int(s, 2, ss->plen);
	rc = sqlite3_step(s);
	*v = 0;
	if (rc == SQLITE_ROW)
		*v = net_prefix64(sqlite3_column_blob(s, 0), sqlite3_column_bytes(s, 0));
	else if (rc != SQLITE_DONE)
		r = journal_fail(j, rc, "sampling bans", e);
	stmt_put(j, id, s);
	return r;
}

/* Find the sets by skipping from one (fam, plen) to the next: at most 162 index seeks. */
static int sample_sets(struct journal *j, struct sample *sm, struct ipb_err *e)
{
	int fam = 0, plen = 0, rc, r = 0;
	struct sample_set *ss;
	sqlite3_stmt *s;

	if ((r = stmt_get(j, ST_SET_NEXT, &s, e)))
		return r;
	for (;;) {
		sqlite3_bind_int(s, 1, fam);
		sqlite3_bind_int(s, 2, plen);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		fam = sqlite3_column_int(s, 0);
		plen = sqlite3_column_int(s, 1);
		sqlite3_reset(s);
		if (sm->nsets < PLAN_NSETS) {
			ss = &sm->sets[sm->nsets++];
			ss->fam = (uint8_t)fam;
			ss->plen = (uint8_t)plen;
		}
	}
	if (rc != SQLITE_DONE)
		r = journal_fail(j, rc, "sampling bans", e);
	stmt_put(j, ST_SET_NEXT, s);
	for (unsigned i = 0; !r && i < sm->nsets; i++)
		if (!(r = net_edge(j, ST_NET_MIN, &sm->sets[i], &sm->sets[i].lo, e)))
			r = net_edge(j, ST_NET_MAX, &sm->sets[i], &sm->sets[i].hi, e);
	return r;
}

/* The first live net at or after key in the set; *found false when there is none. */
static int sample_seek(struct journal *j, const struct sample_set *ss, const uint8_t *key,
		       int64_t now, struct target *t, bool *found, struct ipb_err *e)
{
	int len = ss->fam == 4 ? 4 : 16, rc, r = 0;
	sqlite3_stmt *s;

	*found = false;
	if ((r = stmt_get(j, ST_SEEK, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, ss->fam);
	sqlite3_bind_int(s, 2, ss->plen);
	sqlite3_bind_blob(s, 3, key, len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == len) {
		memset(t, 0, sizeof(*t));
		t->family = ss->fam;
		t->plen = ss->plen;
		memcpy(t->addr, sqlite3_column_blob(s, 0), (size_t)len);
		*found = true;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = journal_fail(j, rc, "sampling bans", e);
	}
	stmt_put(j, ST_SEEK, s);
	return r;
}

/* Report one target with its latest live ban, as journal_set_elements would. */
static int sample_emit(struct journal *j, const struct target *t, int64_t now, journal_ban_cb cb,
		       void *arg, struct ipb_err *e)
{
	sqlite3_stmt *s;
	struct ban b;
	int rc, r = 0;

	if ((r = stmt_get(j, ST_TARGET_MAX, &s, e)))
		return r;
	sqlite3_bind_int(s, 1, t->family);
	sqlite3_bind_int(s, 2, t->plen);
	bind_net(s, 3, t);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 5) != SQLITE_NULL) {
		if (!(r = row_to_ban(j, s, &b, e)))
			r = cb(arg, &b);
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = journal_fail(j, rc, "sampling bans", e);
	}
	stmt_put(j, ST_TARGET_MAX, s);
	return r;
}

static bool sample_seen(const struct sample *sm, const struct target *t)
{
	for (unsigned i = 0; i < sm->nseen; i++)
		if (target_equal(&sm->seen[i], t))
			return true;
	return false;
}

/* One try: a random set, a random key between its lowest and highest net, the next live
 * net from there (wrapping to the set's start). */
static int sample_one(struct journal *j, struct sample *sm, int64_t now, struct target *t,
		      bool *found, struct ipb_err *e)
{
	const struct sample_set *ss = &sm->sets[sample_rand(sm) % sm->nsets];
	uint64_t span = ss->hi - ss->lo, v = ss->lo;
	uint8_t key[16] = { 0 };
	int i, r;

	if (span)
		v += span == UINT64_MAX ? sample_rand(sm) : sample_rand(sm) % (span + 1);
	for (i = 0; i < 8; i++)
		key[i] = (uint8_t)(v >> (56 - 8 * i));
	if (ss->fam == 4) /* an IPv4 net sits in the top 4 of those 8 bytes */
		memset(key + 4, 0, 4);
	if ((r = sample_seek(j, ss, key, now, t, found, e)) || *found)
		return r;
	memset(key, 0, sizeof(key));
	return sample_seek(j, ss, key, now, t, found, e);
}

static uint64_t sample_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return seed ? seed : 0x9e3779b97f4a7c15ULL;
}

/* Index seeks only (no ORDER BY random() over the whole table). Each present set is
 * equally likely, and within a set keys are picked uniformly between its lowest and
 * highest net, so dense runs are under-sampled: good enough to spot drift. */
int journal_sample(struct journal *j, int64_t now, unsigned n, journal_ban_cb cb, void *arg,
		   struct ipb_err *e)
{
	struct sample *sm = calloc(1, sizeof(*sm));
	unsigned tries;
	struct target t;
	bool found;
	int r = 0;

	if (!sm || !(sm->seen = calloc(n ? n : 1, sizeof(*sm->seen)))) {
		free(sm);
		return ipb_seterr(e, "journal %s: out of memory", j->path), -ENOMEM;
	}
	sm->rng = sample_seed();
	r = sample_sets(j, sm, e);
	for (tries = 0; !r && sm->nsets && sm->nseen < n && tries < 8 * n + 64; tries++) {
		if ((r = sample_one(j, sm, now, &t, &found, e)) || !found || sample_seen(sm, &t))
			continue;
		sm->seen[sm->nseen++] = t;
		r = sample_emit(j, &t, now, cb, arg, e);
	}
	free(sm->seen);
	free(sm);
	return r;
}

/* ---- status aggregates ---- */

/* A new source in the scan: its live bans are counted into v->count. */
static int counts_new_source(struct journal_counts *c, const char *name)
{
	struct journal_source_count *v = realloc(c->sources, (c->nsources + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->sources = v;
	v += c->nsources++;
	snprintf(v->name, sizeof(v->name), "%s", name ? name : "");
	v->count = 0;
	return 0;
}

/* Bucket bounds as now + d, saturating so a far-future now cannot overflow. */
static int64_t after(int64_t now, int64_t d)
{
	return now > IPB_NEVER - 1 - d ? IPB_NEVER - 1 : now + d;
}

static void counts_add(struct journal_counts *c, int64_t now, int fam, int plen, int64_t exp)
{
	c->total++;
	c->sources[c->nsources - 1].count++;
	if (exp == IPB_NEVER)
		c->exp_permanent++;
	else if (exp <= after(now, 60))
		c->exp_1m++;
	else if (exp <= after(now, 3600))
		c->exp_1h++;
	else if (exp <= after(now, 86400))
		c->exp_1d++;
	else
		c->exp_later++;
	if (fam == 4 && plen >= 0 && plen <= 32) {
		*(plen == 32 ? &c->v4_addresses : &c->v4_networks) += 1;
		c->set_rows[plan_set_index(4, (unsigned)plen)]++;
	} else if (fam == 6 && plen >= 0 && plen <= 128) {
		*(plen == 128 ? &c->v6_addresses : &c->v6_networks) += 1;
		c->set_rows[plan_set_index(6, (unsigned)plen)]++;
	}
}

/* Keep the JOURNAL_NEXT_MAX soonest finite expiries, the first seen first among equals. */
static void counts_next(struct journal_counts *c, sqlite3_stmt *s, int fam, int plen, int64_t exp)
{
	const void *net = sqlite3_column_blob(s, 4);
	int len = sqlite3_column_bytes(s, 4);
	struct journal_next *nx;
	unsigned i;

	if (exp == IPB_NEVER || (c->nnext == JOURNAL_NEXT_MAX && exp >= c->next[c->nnext - 1].expires))
		return;
	if (!net || len != (fam == 4 ? 4 : 16) || plen < 0 || plen > 8 * len)
		return; /* a damaged row: listing it is not worth failing status */
	for (i = c->nnext; i > 0 && c->next[i - 1].expires > exp; i--)
		;
	if (c->nnext < JOURNAL_NEXT_MAX)
		c->nnext++;
	memmove(&c->next[i + 1], &c->next[i], (c->nnext - 1 - i) * sizeof(c->next[0]));
	nx = &c->next[i];
	memset(&nx->t, 0, sizeof(nx->t));
	nx->t.family = (uint8_t)fam;
	nx->t.plen = (uint8_t)plen;
	memcpy(nx->t.addr, net, (size_t)len);
	snprintf(nx->source, sizeof(nx->source), "%s", c->sources[c->nsources - 1].name);
	nx->expires = exp;
}

/* One pass over the covering source index does every count: at 1M rows, SQL aggregates
 * with a FILTER per bucket took two passes and twice the time. Sources come grouped
 * and sorted; one without live bans is dropped at the end of its group. */
static int counts_scan(struct journal *j, int64_t now, struct journal_counts *c,
		       struct ipb_err *e)
{
	char last[IPB_NAME_MAX * 4] = "";
	const unsigned char *name;
	bool have = false;
	sqlite3_stmt *s;
	int rc, r, len, last_len = -1, fam, plen;
	int64_t exp;

	if ((r = stmt_get(j, ST_COUNT_ALL, &s, e)))
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		exp = sqlite3_column_int64(s, 3);
		name = sqlite3_column_text(s, 0);
		len = sqlite3_column_bytes(s, 0);
		if (len != last_len || (len && memcmp(last, name, (size_t)len))) {
			if (have && !c->sources[c->nsources - 1].count)
				c->nsources--;
			if ((size_t)len >= sizeof(last))
				len = sizeof(last) - 1; /* no such source name: only a damaged row */
			memcpy(last, name ? (const char *)name : "", (size_t)(name ? len : 0));
			last[name ? len : 0] = 0;
			last_len = len;
			if ((r = counts_new_source(c, last)))
				break;
			have = true;
		}
		if (exp <= now) {
			c->expired_rows++;
			continue;
		}
		fam = sqlite3_column_int(s, 1);
		plen = sqlite3_column_int(s, 2);
		counts_add(c, now, fam, plen, exp);
		counts_next(c, s, fam, plen, exp);
	}
	if (have && !r && !c->sources[c->nsources - 1].count)
		c->nsources--;
	if (r)
		ipb_seterr(e, "journal %s: out of memory", j->path);
	else if (rc != SQLITE_DONE)
		r = journal_fail(j, rc, "counting bans", e);
	stmt_put(j, ST_COUNT_ALL, s);
	return r;
}

int journal_counts(struct journal *j, int64_t now, struct journal_counts *c, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int64_t v;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = counts_scan(j, now, c, e)) ||
	    (r = stmt_get(j, ST_COUNT_EVENTS, &s, e)) ||
	    (r = query_int(j, ST_COUNT_EVENTS, s, &v, "counting events", e))) {
		journal_counts_free(c);
		return r;
	}
	c->events = (uint64_t)v;
	return 0;
}

int journal_counts_next(struct journal *j, const struct journal_counts *c, journal_ban_cb cb,
			void *arg, struct ipb_err *e)
{
	sqlite3_stmt *s;
	unsigned i;
	int r = 0;

	for (i = 0; i < c->nnext && !r; i++) {
		if ((r = stmt_get(j, ST_ONE, &s, e)))
			break;
		sqlite3_bind_int(s, 1, c->next[i].t.family);
		sqlite3_bind_int(s, 2, c->next[i].t.plen);
		bind_net(s, 3, &c->next[i].t);
		bind_text(s, 4, c->next[i].source);
		r = each_ban(j, ST_ONE, s, cb, arg, e);
	}
	return r;
}

void journal_counts_free(struct journal_counts *c)
{
	free(c->sources);
	c->sources = NULL;
	c->nsources = 0;
}

/* Skip from one source to the next through the index: one seek per source. */
int journal_sources(struct journal *j, int64_t now, void (*cb)(void *, const char *), void *arg,
		    struct ipb_err *e)
{
	char last[IPB_NAME_MAX * 8] = "";
	sqlite3_stmt *s;
	int rc, r;

	if ((r = stmt_get(j, ST_SOURCE_NEXT, &s, e)))
		return r;
	for (;;) {
		sqlite3_bind_text(s, 1, last, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, now);
		if ((rc = sqlite3_step(s)) != SQLITE_ROW)
			break;
		snprintf(last, sizeof(last), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		cb(arg, last);
	}
	r = rc == SQLITE_DONE ? 0 : journal_fail(j, rc, "listing sources", e);
	stmt_put(j, ST_SOURCE_NEXT, s);
	return r;
}

struct names {
	char (*v)[IPB_NAME_MAX * 8];
	size_t n, cap;
	bool oom;
};

static void names_cb(void *arg, const char *name)
{
	struct names *ns = arg;

	if (ipb_grow(&ns->v, &ns->cap, ns->n + 1, sizeof(*ns->v))) {
		ns->oom = true;
		return;
	}
	snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s", name);
}

int journal_family_shared(struct journal *j, int64_t now, const char *source, unsigned family,
			  bool *shared, struct ipb_err *e)
{
	struct names ns = { 0 };
	sqlite3_stmt *s;
	size_t i;
	int r, rc;

	*shared = true; /* until shown otherwise */
	if ((r = journal_sources(j, now, names_cb, &ns, e)))
		goto out;
	if (ns.oom) {
		ipb_seterr(e, "journal %s: out of memory", j->path);
		r = -ENOMEM;
		goto out;
	}
	*shared = false;
	for (i = 0; i < ns.n && !*shared && !r; i++) {
		if (!strcmp(ns.v[i], source))
			continue;
		if ((r = stmt_get(j, ST_SOURCE_FAMILY, &s, e)))
			break;
		bind_text(s, 1, ns.v[i]);
		sqlite3_bind_int(s, 2, (int)family);
		sqlite3_bind_int64(s, 3, now);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*shared = true;
		else if (rc != SQLITE_DONE)
			r = journal_fail(j, rc, "looking for other sources", e);
		stmt_put(j, ST_SOURCE_FAMILY, s);
	}
	if (r)
		*shared = true;
out:
	free(ns.v);
	return r;
}

/* ---- history ---- */

int journal_add_event(struct journal *j, const struct event *ev, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_ADD_EVENT, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, ev->time ? ev->time : (int64_t)time(NULL));
	bind_text(s, 2, ev->kind ? ev->kind : "");
	bind_text(s, 3, ev->target);
	bind_text(s, 4, ev->source);
	bind_text(s, 5, ev->reason);
	bind_text(s, 6, ev->detail);
	sqlite3_bind_int64(s, 7, ev->uid >= 0 ? ev->uid : j->uid);
	bind_text(s, 8, ev->user ? ev->user : j->user);
	return stmt_done(j, ST_ADD_EVENT, s, "recording an event", e);
}

int journal_events(struct journal *j, int64_t since, const char *source, journal_event_cb cb,
		   void *arg, struct ipb_err *e)
{
	struct event ev;
	sqlite3_stmt *s;
	int rc, r;

	if ((r = stmt_get(j, ST_EVENTS, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, since);
	bind_text(s, 2, source);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.time = sqlite3_column_int64(s, 0);
		ev.kind = (const char *)sqlite3_column_text(s, 1);
		ev.target = (const char *)sqlite3_column_text(s, 2);
		ev.source = (const char *)sqlite3_column_text(s, 3);
		ev.reason = (const char *)sqlite3_column_text(s, 4);
		ev.detail = (const char *)sqlite3_column_text(s, 5);
		ev.uid = sqlite3_column_int64(s, 6);
		ev.user = (const char *)sqlite3_column_text(s, 7);
		if ((r = cb(arg, &ev)))
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = journal_fail(j, rc, "reading the history", e);
	stmt_put(j, ST_EVENTS, s);
	return r;
}

/* ---- gc ---- */

struct gc_ctx {
	struct journal *j;
	struct ipb_err *e;
	uint64_t n;
};

/* The event is dated at the ban's expiry: the history shows when it ended. */
static int gc_expire_event(void *arg, const struct ban *b)
{
	struct gc_ctx *g = arg;
	char buf[TARGET_STRLEN];
	struct event ev = { .time = b->expires, .kind = "expire", .source = b->source,
			    .reason = b->reason, .uid = -1 };

	ev.target = target_format(&b->t, buf, sizeof(buf));
	g->n++;
	return journal_add_event(g->j, &ev, g->e);
}

static int gc_run(struct journal *j, enum stmt_id id, int64_t v, uint64_t *removed,
		  struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, id, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, v);
	if ((r = stmt_done(j, id, s, "removing old rows", e)))
		return r;
	*removed += (uint64_t)sqlite3_changes(j->db);
	return 0;
}

static int gc_all(struct journal *j, int64_t now, int64_t history_before, uint64_t max_events,
		  uint64_t *bans_removed, uint64_t *events_removed, struct ipb_err *e)
{
	struct gc_ctx g = { .j = j, .e = e };
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_GC_EXPIRED, &s, e)))
		return r;
	sqlite3_bind_int64(s, 1, now);
	if ((r = each_ban(j, ST_GC_EXPIRED, s, gc_expire_event, &g, e)) ||
	    (r = gc_run(j, ST_GC_DEL_BANS, now, bans_removed, e)))
		return r;
	if (history_before > 0 &&
	    (r = gc_run(j, ST_GC_OLD_EVENTS, history_before, events_removed, e)))
		return r;
	if (max_events > 0 && max_events <= INT64_MAX &&
	    (r = gc_run(j, ST_GC_CAP_EVENTS, (int64_t)max_events, events_removed, e)))
		return r;
	return 0;
}

/* Runs inside the caller's transaction; alone, it makes its own so it stays one step. */
int journal_gc(struct journal *j, int64_t now, int64_t history_before, uint64_t max_events,
	       uint64_t *bans_removed, uint64_t *events_removed, struct ipb_err *e)
{
	bool own = sqlite3_get_autocommit(j->db);
	int r;

	*bans_removed = *events_removed = 0;
	if (own && (r = journal_begin(j, e)))
		return r;
	r = gc_all(j, now, history_before, max_events, bans_removed, events_removed, e);
	if (own && !r)
		r = journal_commit(j, e);
	if (own && r)
		journal_rollback(j);
	return r;
}

/* ---- meta ---- */

int journal_meta_get(struct journal *j, const char *key, int64_t *value, bool *found,
		     struct ipb_err *e)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	*found = false;
	*value = 0;
	if ((r = stmt_get(j, ST_META_GET, &s, e)))
		return r;
	bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		*value = sqlite3_column_int64(s, 0);
	} else if (rc != SQLITE_DONE) {
		r = journal_fail(j, rc, "reading meta", e);
	}
	stmt_put(j, ST_META_GET, s);
	return r;
}

int journal_meta_set(struct journal *j, const char *key, int64_t value, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_META_SET, &s, e)))
		return r;
	bind_text(s, 1, key);
	sqlite3_bind_int64(s, 2, value);
	return stmt_done(j, ST_META_SET, s, "writing meta", e);
}

int journal_meta_get_text(struct journal *j, const char *key, char *buf, size_t len, bool *found,
			  struct ipb_err *e)
{
	const unsigned char *v;
	sqlite3_stmt *s;
	int rc, r = 0;

	*found = false;
	if (len)
		buf[0] = 0;
	if ((r = stmt_get(j, ST_META_GET, &s, e)))
		return r;
	bind_text(s, 1, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		v = sqlite3_column_text(s, 0);
		snprintf(buf, len, "%s", v ? (const char *)v : "");
	} else if (rc != SQLITE_DONE) {
		r = journal_fail(j, rc, "reading meta", e);
	}
	stmt_put(j, ST_META_GET, s);
	return r;
}

int journal_meta_set_text(struct journal *j, const char *key, const char *value, struct ipb_err *e)
{
	sqlite3_stmt *s;
	int r;

	if ((r = stmt_get(j, ST_META_SET, &s, e)))
		return r;
	bind_text(s, 1, key);
	bind_text(s, 2, value);
	return stmt_done(j, ST_META_SET, s, "writing meta", e);
}

/* ---- integrity ---- */

int journal_check(struct journal *j, bool *ok, char *detail, size_t len, struct ipb_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*ok = false;
	if (len)
		detail[0] = 0;
	rc = sqlite3_prepare_v2(j->db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);

		*ok = v && !strcmp(v, "ok");
		if (len)
			snprintf(detail, len, "%s", v ? v : "no answer");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
		if (len)
			snprintf(detail, len, "%s", sqlite3_errstr(rc));
		return 0;
	}
	return rc == SQLITE_OK ? 0 : journal_fail(j, rc, "checking integrity", e);
}
