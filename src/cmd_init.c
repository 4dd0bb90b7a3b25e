// SPDX-License-Identifier: GPL-2.0-only
/* init: ipbanset's table, chain and sets made or repaired with the settings given, which
 * the journal records; --adopt takes over a table an older ipbanset made (--print-rules
 * is in cmd_rules.c). */
#include <string.h>

#include "repair.h"

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
