// SPDX-License-Identifier: GPL-2.0-only
/* sync: make one source's bans exactly the list in -f FILE (read with the source's
 * current bans by sync_read.c), and with --json name what changed. One engine run. */
#include <stdio.h>
#include <stdlib.h>

#include "ipbanset.h"

/* sync --json names the targets it added, removed and retimed, so that a caller can show
 * them (Ansible's --diff): the first SYNC_LIST_MAX of each kind, in target order, and
 * how many more. */
#define SYNC_LIST_MAX 1000

enum { SYNC_ADDED, SYNC_REMOVED, SYNC_RETIMED, SYNC_NLISTS };

struct sync_list {
	const struct target **v; /* into the list or the current bans */
	size_t n, cap;
	uint64_t more;
};

struct sync_state {
	struct engine *g;
	const struct target_list *want;
	const struct current *cur;
	int64_t timeout;
	size_t removals;
	int r;
	bool sole[2]; /* no other source holds a live IPv4 [0] / IPv6 [1] ban */
	struct sync_list lists[SYNC_NLISTS]; /* with --json */
};

static int sync_list_push(struct sync_list *sl, const struct target *t)
{
	if (sl->n == SYNC_LIST_MAX) {
		sl->more++;
		return 0;
	}
	if (ipb_grow(&sl->v, &sl->cap, sl->n + 1, sizeof(*sl->v)))
		return ipb_error("out of memory"), IPB_EXIT_SYSTEM;
	sl->v[sl->n++] = t;
	return 0;
}

/* The journal's counts before one target's change, to tell what the change was. */
struct sync_counts {
	uint64_t added, removed, updated;
};

static struct sync_counts sync_counts(const struct engine *g)
{
	return (struct sync_counts){ g->added, g->removed, g->updated };
}

/* List t under what its change turned out to be, if it changed. */
static void sync_note(struct sync_state *s, const struct target *t, struct sync_counts before)
{
	const struct engine *g = s->g;
	int k = -1;

	if (g->added > before.added)
		k = SYNC_ADDED;
	else if (g->removed > before.removed)
		k = SYNC_REMOVED;
	else if (g->updated > before.updated)
		k = SYNC_RETIMED; /* sync renews expiries; it never changes only a reason */
	if (!s->r && k >= 0 && g->c->json)
		s->r = sync_list_push(&s->lists[k], t);
}

static void sync_lists_free(struct sync_state *s)
{
	unsigned k;

	for (k = 0; k < SYNC_NLISTS; k++)
		free(s->lists[k].v);
}

static void sync_list_print(const struct sync_list *sl, const char *kind)
{
	char buf[TARGET_STRLEN];
	size_t i;

	printf(", \"%s_targets\": [", kind);
	for (i = 0; i < sl->n; i++)
		printf("%s\"%s\"", i ? ", " : "", target_format(sl->v[i], buf, sizeof(buf)));
	printf("], \"%s_more\": %llu", kind, (unsigned long long)sl->more);
}

/* engine_report, and with --json the lists too. */
static void sync_report(const struct sync_state *s)
{
	static const char *const kinds[SYNC_NLISTS] = { "added", "removed", "retimed" };
	unsigned k;

	if (!s->g->c->json) {
		engine_report(s->g, "sync");
		return;
	}
	putchar('{');
	engine_report_keys(s->g);
	for (k = 0; k < SYNC_NLISTS; k++)
		sync_list_print(&s->lists[k], kinds[k]);
	printf("}\n");
}

static bool sync_sole(const struct sync_state *s, const struct target *t)
{
	return s->sole[t->family == 6];
}

static void sync_add(void *arg, size_t ib)
{
	struct sync_state *s = arg;
	const struct target *t = &s->want->v[ib];
	struct sync_counts before = sync_counts(s->g);

	if (s->r)
		return;
	if (sync_sole(s, t))
		s->r = engine_change_known(s->g, t, s->g->c->source, ban_expiry(s->g->c), 0,
					   s->g->c->reason, "sync");
	else
		s->r = engine_change(s->g, t, s->g->c->source, ban_expiry(s->g->c), false,
				     s->g->c->reason, false, "sync");
	sync_note(s, t, before);
}

static void sync_del(void *arg, size_t ia)
{
	struct sync_state *s = arg;
	const struct target *t = &s->cur->t[ia];
	struct sync_counts before = sync_counts(s->g);

	s->removals++;
	if (s->r)
		return;
	if (sync_sole(s, t))
		s->r = engine_change_known(s->g, t, s->g->c->source, 0, s->cur->exp[ia], NULL, "sync");
	else
		s->r = engine_change(s->g, t, s->g->c->source, 0, false, NULL, false, "sync");
	sync_note(s, t, before);
}

/* A big sync (one summary event, no per-target ones) of a family no other source holds
 * knows each target's rows from its own read: no per-target look-up. */
static int sync_find_sole(struct sync_state *s)
{
	struct engine *g = s->g;
	struct ipb_err e;
	bool shared;
	unsigned f;

	if (!g->summarize)
		return 0;
	for (f = 0; f < 2; f++) {
		if (journal_family_shared(g->j, g->c->now, g->c->source, f ? 6 : 4, &shared, &e))
			return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
		s->sole[f] = !shared;
		if (s->sole[f])
			ipb_verbose(g->c, "sync: no other source holds IPv%u bans: no look-ups",
				    f ? 6 : 4);
	}
	return 0;
}

/* A listed target keeps its expiry until less than half the timeout remains: a re-run
 * changes nothing, and a daily import with --timeout 2d keeps listed entries alive. */
static void sync_same(void *arg, size_t ia, size_t ib)
{
	struct sync_state *s = arg;
	int64_t have = s->cur->exp[ia], now = s->g->c->now;
	struct sync_counts before = sync_counts(s->g);
	bool refresh;

	if (s->r)
		return;
	if (s->timeout == 0)
		refresh = have != IPB_NEVER;
	else
		refresh = have != IPB_NEVER && have - now < s->timeout / 2;
	if (!refresh) {
		s->g->unchanged++;
		return;
	}
	s->r = engine_change(s->g, &s->want->v[ib], s->g->c->source, ban_expiry(s->g->c), false,
			     s->g->c->reason, false, "sync");
	sync_note(s, &s->want->v[ib], before);
}

/* --max-removals: a download that failed half-way must not withdraw most of a list. */
static int check_max_removals(const struct ctx *c, size_t removals, size_t current)
{
	uint64_t cap = (uint64_t)c->max_removals;

	if (c->max_removals < 0)
		return 0;
	if (c->max_removals_pct)
		cap = (uint64_t)current * cap / 100;
	if (removals <= cap)
		return 0;
	ipb_error("sync: %s would withdraw %zu of the %zu bans of source '%s', more than "
		  "--max-removals %lld%s allows; nothing changed",
		  c->file, removals, current, c->source, (long long)c->max_removals,
		  c->max_removals_pct ? "%" : "");
	return IPB_EXIT_USAGE;
}

int cmd_sync(struct ctx *c)
{
	struct current cur = { 0 };
	struct target_list l = { 0 };
	struct sync_state s = { 0 };
	struct plan_diff_cb cb = { sync_add, sync_del, sync_same, &s };
	struct engine g;
	char detail[128];
	int r;

	if (!c->source_set)
		return ipb_error("sync: --source NAME is required"), IPB_EXIT_USAGE;
	if (!c->file)
		return ipb_error("sync: -f FILE is required"), IPB_EXIT_USAGE;
	if ((r = check_reason(c)) || (r = sync_read(c, &g, &l, &cur)))
		goto out;
	/* sync writes its own summary event, when anything changed */
	engine_summarize(&g, l.n > cur.n ? l.n : cur.n, NULL, c->source, NULL);
	s.g = &g;
	s.want = &l;
	s.cur = &cur;
	s.timeout = ban_timeout(c);
	/* The source's first import into prefix lengths the journal has never held: every
	 * listed target is an add, so it takes ban -f's path (rows and kernel side by side). */
	if (!cur.n && engine_ban_new_applies(&g, &l)) {
		bool done;
		size_t i;

		snprintf(detail, sizeof(detail), "%zu listed: %zu added, 0 removed, 0 updated", l.n,
			 l.n);
		r = engine_event(&g, "sync", NULL, c->source, c->reason, detail);
		for (i = 0; i < l.n && !r && c->json; i++)
			r = sync_list_push(&s.lists[SYNC_ADDED], &l.v[i]);
		if (r) {
			engine_abort(&g);
			goto out;
		}
		ipb_phase(c, "sync: a first import");
		r = engine_ban_new(&g, &l, c->source, c->reason, ban_timeout(c), &done);
		if (!r)
			sync_report(&s);
		goto out;
	}
	if ((s.r = sync_find_sole(&s)) == 0)
		plan_diff(cur.t, cur.n, l.v, l.n, &cb);
	if (!s.r)
		s.r = check_max_removals(c, s.removals, cur.n);
	snprintf(detail, sizeof(detail), "%zu listed: %llu added, %llu removed, %llu updated", l.n,
		 (unsigned long long)g.added, (unsigned long long)g.removed,
		 (unsigned long long)g.updated);
	/* the history records changes: a list that matches the bans leaves no event */
	if (!s.r && (g.added || g.removed || g.updated))
		s.r = engine_event(&g, "sync", NULL, c->source, c->reason, detail);
	if ((r = s.r)) {
		engine_abort(&g);
		goto out;
	}
	if (!(r = engine_finish(&g)))
		sync_report(&s);
out:
	sync_lists_free(&s);
	current_free(&cur);
	target_list_free(&l);
	return r;
}
