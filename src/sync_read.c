// SPDX-License-Identifier: GPL-2.0-only
/* sync's two reads side by side. A list in a regular file is read on a second thread
 * while this one locks the journal and reads the source's current bans in target order.
 * When the list is read, the second thread opens its own read connection and reads the
 * source's bans from the other end, descending, until the two reads meet (meet.c): at 1M
 * rows the journal read is the longer of the two, and this splits it across both cores.
 *
 * The second connection sees exactly this one's data: this thread holds the journal's
 * write lock (engine_start) before the other begins, so no commit can come between, and
 * this thread writes nothing until both reads are done.
 *
 * A pipe is read first, before the journal is locked, so a slow download never holds the
 * lock; then this thread reads the whole source alone. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipbanset.h"
#include "journal.h"

struct sync_reads {
	struct meet m;		/* its mutex also guards db and up_done */
	struct ctx *c;
	struct target_list *l;
	const char *db;		/* set once this thread holds the journal's write lock */
	bool up_done;		/* the ascending read has finished */
	int list_r;		/* read_targets' result */
	bool down_failed;	/* the descending read did not finish */
};

static int whole_cb(void *arg, const struct ban *b)
{
	return current_push(arg, &b->t, b->expires);
}

static bool list_is_regular_file(const struct ctx *c)
{
	struct stat st;

	return c->file && strcmp(c->file, "-") && stat(c->file, &st) == 0 && S_ISREG(st.st_mode);
}

/* The descending read, on a connection of its own. Errors only mean "not done": this
 * thread then reads the whole source itself and reports any error it meets. */
static void read_down(struct sync_reads *sr, const char *db)
{
	struct journal *j = NULL;
	struct ipb_err e;
	int r;

	r = journal_open(&j, db, false, true, &e);
	if (!r)
		r = journal_begin_read(j, &e);
	if (!r)
		r = journal_bans_of_source(j, sr->c->now, sr->c->source, true, meet_cb, &sr->m.down,
					   &e);
	if (j) {
		journal_rollback(j);
		journal_close(j);
	}
	sr->down_failed = r < 0;
}

static void *list_run(void *arg)
{
	struct sync_reads *sr = arg;
	const char *db;

	if ((sr->list_r = read_targets(sr->c, sr->l, true)))
		return NULL;
	pthread_mutex_lock(&sr->m.mu);
	db = sr->up_done ? NULL : sr->db;
	pthread_mutex_unlock(&sr->m.mu);
	if (db)
		read_down(sr, db);
	return NULL;
}

int sync_read(struct ctx *c, struct engine *g, struct target_list *l, struct current *cur)
{
	struct sync_reads sr = { .c = c, .l = l };
	struct ipb_err e;
	bool threaded, started = false;
	size_t from_down = 0;
	pthread_t th;
	int r, rj = 0;

	memset(cur, 0, sizeof(*cur));
	meet_init(&sr.m);
	threaded = list_is_regular_file(c) && pthread_create(&th, NULL, list_run, &sr) == 0;
	if (!threaded && (r = read_targets(c, l, true)))
		goto out;
	if (!(r = engine_start(g, c))) {
		started = true;
		pthread_mutex_lock(&sr.m.mu);
		sr.db = journal_path(g->j);
		pthread_mutex_unlock(&sr.m.mu);
		rj = journal_bans_of_source(g->j, c->now, c->source, false, meet_cb, &sr.m.up, &e);
		pthread_mutex_lock(&sr.m.mu);
		sr.up_done = true;
		pthread_mutex_unlock(&sr.m.mu);
		meet_exchange(&sr.m.up); /* its last key, so the other side stops at once */
	}
	if (threaded) {
		pthread_join(th, NULL);
		if (sr.list_r) { /* bad input is reported as such, as when it is read first */
			r = sr.list_r;
			goto out;
		}
	}
	if (r)
		goto out;
	if (rj < 0) {
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	if (rj == 0) { /* the ascending read got everything */
		*cur = sr.m.up.rows;
		memset(&sr.m.up.rows, 0, sizeof(sr.m.up.rows));
	} else if (sr.down_failed) {
		if (journal_bans_of_source(g->j, c->now, c->source, false, whole_cb, cur, &e) < 0) {
			ipb_error("%s", e.msg);
			r = IPB_EXIT_SYSTEM;
			goto out;
		}
	} else if (meet_join(&sr.m, cur)) {
		ipb_error("out of memory");
		r = IPB_EXIT_SYSTEM;
		goto out;
	} else {
		from_down = sr.m.down.rows.n;
	}
	if (threaded) {
		ipb_verbose(c, "%zu current bans, %zu of them read from the other end", cur->n,
			    from_down);
		ipb_phase(c, "list and current bans read");
	}
out:
	if (r && started)
		engine_abort(g);
	if (r)
		current_free(cur);
	meet_destroy(&sr.m);
	return r;
}
