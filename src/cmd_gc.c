// SPDX-License-Identifier: GPL-2.0-only
/* gc: expired bans and old history events out of the journal; on ipset, the sets repaired
 * too, so that bans beyond the kernel's longest timeout get it once within reach. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "repair.h"

static bool gc_kernel_changed(const struct repair_stats *st)
{
	return st->restored || st->removed || st->retimed || st->sets_rewritten ||
	       st->sets_created || st->sets_removed;
}

static void gc_report(const struct ctx *c, const struct engine *g, const struct repair_stats *st,
		      uint64_t bans, uint64_t events)
{
	bool kernel = gc_kernel_changed(st);

	if (c->json) {
		printf("{\"changed\": %s, \"added\": 0, \"removed\": %llu, \"updated\": 0, \"unchanged\": 0, "
		       "\"dry_run\": %s, \"events_removed\": %llu, \"kernel\": {\"added\": %llu, "
		       "\"removed\": %llu, \"retimed\": %llu}}\n",
		       bans || events || kernel || g->structure_changed ? "true" : "false",
		       (unsigned long long)bans, c->dry_run ? "true" : "false",
		       (unsigned long long)events, (unsigned long long)st->restored,
		       (unsigned long long)st->removed, (unsigned long long)st->retimed);
		return;
	}
	if (c->quiet)
		return;
	printf("%sgc: removed %llu expired bans and %llu old events",
	       c->dry_run ? "dry run (nothing changed): " : "", (unsigned long long)bans,
	       (unsigned long long)events);
	if (kernel)
		printf("; kernel: restored %llu, removed %llu, retimed %llu", (unsigned long long)st->restored,
		       (unsigned long long)st->removed, (unsigned long long)st->retimed);
	putchar('\n');
}

int cmd_gc(struct ctx *c)
{
	struct repair_stats st = { 0 };
	uint64_t bans = 0, events = 0;
	struct ipb_err e;
	struct engine g;
	int64_t before;
	struct stat sb;
	unsigned i;
	int r;

	/* A host that never banned has nothing to collect; the daily timer must not create
	 * a journal there. lstat: a dangling symlink is not "no journal", open refuses it. */
	if (lstat(c->cfg.db, &sb) < 0 && errno == ENOENT) {
		if (c->json)
			printf("{\"changed\": false, \"added\": 0, \"removed\": 0, \"updated\": 0, "
			       "\"unchanged\": 0, \"dry_run\": %s, \"events_removed\": 0}\n",
			       c->dry_run ? "true" : "false");
		else if (!c->quiet)
			printf("gc: no journal at %s yet; nothing to collect\n", c->cfg.db);
		return 0;
	}
	if ((r = engine_start(&g, c)))
		return r;
	before = c->cfg.history_days ? c->now - (int64_t)c->cfg.history_days * 86400 : 0;
	if (journal_gc(g.j, c->now, before, c->cfg.history_max_rows, &bans, &events, &e)) {
		ipb_error("%s", e.msg);
		engine_abort(&g);
		return IPB_EXIT_SYSTEM;
	}
	for (i = 0; i < PLAN_NSETS; i++)
		g.touched[i] = g.layout.set[i];
	/* ipset: bans beyond the kernel's longest timeout get it once within reach, and what
	 * outlived its ban goes (see ipset.h); the daily gc timer does this */
	if (!be_drops_empty_sets(g.n) && g.layout.table && (r = repair_sets(&g, &st))) {
		engine_abort(&g);
		return r;
	}
	/* what it did to the kernel, drift it repaired included, is in the history too */
	if (gc_kernel_changed(&st) && (r = repair_event(&g, &st, "gc"))) {
		engine_abort(&g);
		return r;
	}
	if ((r = engine_finish(&g)))
		return r;
	gc_report(c, &g, &st, bans, events);
	return 0;
}
