/* ban, unban, sync, flush: the commands that change bans. Each is one engine run:
 * one journal transaction bracketing one kernel batch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "ipbanset.h"

#define REASON_MAX 1024 /* bytes kept in the journal; the kernel comment is shorter */

static int64_t requested_expiry(const struct ctx *c)
{
	int64_t t = c->timeout_set ? c->timeout : c->cfg.default_timeout;

	return t == 0 ? IPB_NEVER : c->now + t;
}

static int check_reason(const struct ctx *c)
{
	if (c->reason && strlen(c->reason) > REASON_MAX)
		return ipb_error("reason is %zu bytes long; at most %d", strlen(c->reason), REASON_MAX),
		       IPB_EXIT_USAGE;
	return 0;
}

int cmd_ban(struct ctx *c)
{
	struct target_list l = { 0 };
	struct engine g;
	int64_t exp = requested_expiry(c);
	size_t i;
	int r;

	if ((r = check_reason(c)) || (r = read_targets(c, &l, true)))
		goto out;
	if ((r = engine_start(&g, c)))
		goto out;
	for (i = 0; i < l.n && !r; i++)
		r = engine_change(&g, &l.v[i], c->source, exp, c->replace, c->reason, false, "ban");
	if (r) {
		engine_abort(&g);
		goto out;
	}
	if (!(r = engine_finish(&g)))
		engine_report(&g, "ban");
out:
	target_list_free(&l);
	return r;
}

int cmd_unban(struct ctx *c)
{
	struct target_list l = { 0 };
	struct engine g;
	uint64_t before;
	size_t i;
	int r;

	if ((r = read_targets(c, &l, false)))
		goto out;
	if ((r = engine_start(&g, c)))
		goto out;
	for (i = 0; i < l.n && !r; i++) {
		before = g.removed;
		r = engine_change(&g, &l.v[i], c->source, 0, false, NULL, c->all_sources, "unban");
		if (g.removed == before)
			g.unchanged++;
	}
	if (r) {
		engine_abort(&g);
		goto out;
	}
	if (!(r = engine_finish(&g)))
		engine_report(&g, "unban");
out:
	target_list_free(&l);
	return r;
}

/* ---- sync ---- */

struct current {
	struct target *t;
	int64_t *expires;
	size_t n, cap;
};

static int current_cb(void *arg, const struct ban *b)
{
	struct current *cur = arg;

	if (cur->n == cur->cap) {
		size_t cap = cur->cap ? cur->cap * 2 : 1024;
		struct target *nt = realloc(cur->t, cap * sizeof(*nt));
		int64_t *ne;

		if (!nt)
			return -ENOMEM;
		cur->t = nt;
		ne = realloc(cur->expires, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		cur->expires = ne;
		cur->cap = cap;
	}
	cur->t[cur->n] = b->t;
	cur->expires[cur->n++] = b->expires;
	return 0;
}

struct sync_state {
	struct engine *g;
	const struct target_list *want;
	const struct current *cur;
	int64_t exp, timeout;
	int r;
};

static void sync_add(void *arg, size_t ib)
{
	struct sync_state *s = arg;

	if (!s->r)
		s->r = engine_change(s->g, &s->want->v[ib], s->g->c->source, s->exp, false,
				     s->g->c->reason, false, "sync");
}

static void sync_del(void *arg, size_t ia)
{
	struct sync_state *s = arg;

	if (!s->r)
		s->r = engine_change(s->g, &s->cur->t[ia], s->g->c->source, 0, false, NULL, false,
				     "sync");
}

/* A listed target keeps its expiry until less than half the timeout remains: a re-run
 * changes nothing, and a daily import with --timeout 2d keeps listed entries alive. */
static void sync_same(void *arg, size_t ia, size_t ib)
{
	struct sync_state *s = arg;
	int64_t have = s->cur->expires[ia], now = s->g->c->now;
	bool refresh;

	if (s->r)
		return;
	if (s->exp == IPB_NEVER)
		refresh = have != IPB_NEVER;
	else
		refresh = have != IPB_NEVER && have - now < s->timeout / 2;
	if (refresh)
		s->r = engine_change(s->g, &s->want->v[ib], s->g->c->source, s->exp, false,
				     s->g->c->reason, false, "sync");
	else
		s->g->unchanged++;
}

int cmd_sync(struct ctx *c)
{
	struct current cur = { 0 };
	struct target_list l = { 0 };
	struct sync_state s = { 0 };
	struct plan_diff_cb cb = { sync_add, sync_del, sync_same, &s };
	struct ipb_err e;
	struct engine g;
	char detail[128];
	int r;

	if (!c->source_set)
		return ipb_error("sync: --source NAME is required"), IPB_EXIT_USAGE;
	if (!c->file)
		return ipb_error("sync: -f FILE is required"), IPB_EXIT_USAGE;
	if ((r = check_reason(c)) || (r = read_targets(c, &l, true)))
		goto out;
	if ((r = engine_start(&g, c)))
		goto out;
	if (journal_bans_of_source(g.j, c->now, c->source, current_cb, &cur, &e)) {
		ipb_error("%s", e.msg);
		engine_abort(&g);
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	s = (struct sync_state){ &g, &l, &cur, requested_expiry(c),
				 c->timeout_set ? c->timeout : c->cfg.default_timeout, 0 };
	plan_diff(cur.t, cur.n, l.v, l.n, &cb);
	snprintf(detail, sizeof(detail), "%zu listed: %llu added, %llu removed, %llu updated", l.n,
		 (unsigned long long)g.added, (unsigned long long)g.removed,
		 (unsigned long long)g.updated);
	if (!s.r)
		s.r = engine_event(&g, "sync", NULL, c->source, c->reason, detail);
	if ((r = s.r)) {
		engine_abort(&g);
		goto out;
	}
	if (!(r = engine_finish(&g)))
		engine_report(&g, "sync");
out:
	free(cur.t);
	free(cur.expires);
	target_list_free(&l);
	return r;
}

/* ---- flush ---- */

struct flush_rows {
	struct target *t;
	char (*source)[IPB_NAME_MAX];
	size_t n, cap;
};

static int flush_cb(void *arg, const struct ban *b)
{
	struct flush_rows *f = arg;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct target *nt = realloc(f->t, cap * sizeof(*nt));
		char(*ns)[IPB_NAME_MAX];

		if (!nt)
			return -ENOMEM;
		f->t = nt;
		ns = realloc(f->source, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		f->source = ns;
		f->cap = cap;
	}
	f->t[f->n] = b->t;
	snprintf(f->source[f->n++], IPB_NAME_MAX, "%s", b->source);
	return 0;
}

int cmd_flush(struct ctx *c)
{
	struct flush_rows f = { 0 };
	struct ipb_err e;
	struct engine g;
	size_t i;
	int r;

	if (c->nargs)
		return ipb_error("flush: unexpected argument '%s'", c->args[0]), IPB_EXIT_USAGE;
	if ((r = engine_start(&g, c)))
		return r;
	if (journal_bans_live(g.j, c->now, c->source_set ? c->source : NULL, 0, flush_cb, &f, &e)) {
		ipb_error("%s", e.msg);
		engine_abort(&g);
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	for (i = 0; i < f.n && !r; i++)
		r = engine_change(&g, &f.t[i], f.source[i], 0, false, NULL, false, "flush");
	if (r) {
		engine_abort(&g);
		goto out;
	}
	if (!(r = engine_finish(&g)))
		engine_report(&g, "flush");
out:
	free(f.t);
	free(f.source);
	return r;
}
