// SPDX-License-Identifier: GPL-2.0-only
/* reconcile, init, teardown, gc: the commands that bring kernel and journal together. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "repair.h"

int cmd_reconcile(struct ctx *c)
{
	struct repair_stats st = { 0 };
	struct engine g;
	int r;

	if ((r = engine_start(&g, c)))
		return r;
	repair_chain(&g, &st);
	g.authoritative = true;
	repair_drop_probe(&g); /* before repair_sets: a restore it starts owns the netlink socket */
	r = repair_sets(&g, &st);
	/* the history records changes: a reconcile that found nothing to repair leaves none */
	if (!r && repair_changes(&g, &st))
		r = repair_event(&g, &st, "reconcile");
	if (r) {
		engine_abort(&g);
		return r;
	}
	/* engine_finish's missing-table warning is for partial commands, not for this one */
	r = engine_finish(&g);
	if (!r)
		repair_report(c, &g, &st, "reconcile");
	return r;
}

/* What init is about to change, if anything: the history records init only then. */
static bool init_changes(const struct engine *g, const struct repair_stats *st, bool created,
			 bool settings_changed)
{
	unsigned i;

	if (created || settings_changed || g->recreate_chain || g->structure_changed ||
	    st->restored || st->removed || st->retimed || st->sets_rewritten || st->sets_created ||
	    st->sets_removed)
		return true;
	for (i = 0; i < PLAN_NSETS; i++)
		if (g->layout.set[i] && !g->layout.rule[i])
			return true; /* a set whose rule is gone gets it back */
	return false;
}

/* init --adopt of a table an older ipbanset made (engine_start checked that it holds
 * nothing else): the kernel keeps no new comment on an existing table, so the batch
 * deletes it and creates it again, marked, with the journal's live bans. One
 * transaction: the bans are enforced throughout. */
static void adopt_table(struct engine *g)
{
	char what[IPB_NAME_MAX + 32];

	g->replace_table = g->layout.table_handle;
	memset(&g->layout, 0, sizeof(g->layout));
	g->structure_changed = true;
	ipb_info(g->c, "%s adopting %s: it is recreated with ipbanset's marker and the journal's "
		       "live bans", g->c->dry_run ? "dry run:" : "init:",
		 be_objects(&g->c->cfg, what, sizeof(what)));
}

int cmd_init(struct ctx *c)
{
	struct repair_stats st = { 0 };
	struct engine g;
	bool created, changed, settings_changed = false;
	struct ipb_err e;
	int r;

	if (c->print_rules)
		return cmd_print_rules(c);
	if ((r = engine_start(&g, c)))
		return r;
	if (be_check_objects(g.n, &e)) {
		ipb_error("%s", e.msg);
		engine_abort(&g);
		return IPB_EXIT_SYSTEM;
	}
	if (c->adopt && g.layout.table && !g.layout.table_marked)
		adopt_table(&g);
	created = !g.layout.table || !g.layout.chain;
	g.authoritative = true;
	repair_chain(&g, &st);
	r = repair_sets(&g, &st);
	if (!r)
		r = engine_record_settings(&g, &settings_changed);
	changed = !r && init_changes(&g, &st, created, settings_changed);
	if (changed)
		r = repair_event(&g, &st, "init");
	if (r) {
		engine_abort(&g);
		return r;
	}
	if ((r = engine_finish(&g)))
		return r;
	/* a verdict recorded for sets that do not exist yet is a change too */
	if (changed)
		g.structure_changed = true;
	repair_report(c, &g, &st, "init");
	return 0;
}

int cmd_teardown(struct ctx *c)
{
	struct ipb_err e;
	struct engine g;
	bool had;
	int r;

	if ((r = engine_start(&g, c)))
		return r;
	had = g.layout.table;
	if (had && be_check_objects(g.n, &e)) { /* ipset: destroy only sets that are ours */
		ipb_error("teardown: %s", e.msg);
		engine_abort(&g);
		return IPB_EXIT_SYSTEM;
	}
	if (had && !c->dry_run) {
		size_t bad;

		be_batch_begin(g.n);
		be_batch_del_table(g.n, g.layout.table_handle);
		if (be_batch_commit(g.n, &bad, &e)) {
			ipb_error("teardown: %s", e.msg);
			engine_abort(&g);
			return IPB_EXIT_SYSTEM;
		}
		repair_drop_probe(&g);
		r = engine_event(&g, "teardown", NULL, NULL, NULL, "table deleted; journal kept");
		if (!r && journal_commit(g.j, &e)) {
			ipb_error("%s", e.msg);
			r = IPB_EXIT_SYSTEM;
		} else if (!r) {
			g.began = false;
		}
	}
	engine_abort(&g);
	if (r)
		return r;
	if (c->json)
		printf("{\"changed\": %s, \"added\": 0, \"removed\": 0, \"updated\": 0, \"unchanged\": 0, "
		       "\"dry_run\": %s}\n", had ? "true" : "false", c->dry_run ? "true" : "false");
	else if (!c->quiet)
		printf("%s\n", had ? (c->dry_run ? "dry run (nothing changed): teardown would delete the table" :
				      "table deleted; the journal is kept ('ipbanset init' restores it)")
				   : "table not present; nothing to do");
	return 0;
}

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
