// SPDX-License-Identifier: GPL-2.0-only
/* reconcile: the kernel made to hold exactly the journal's live bans, and ipbanset's chain
 * and rules what init made them. */
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
