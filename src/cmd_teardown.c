// SPDX-License-Identifier: GPL-2.0-only
/* teardown: ipbanset's table (on ipset, its sets) deleted, and a table a probe left;
 * the journal is kept. */
#include <stdio.h>

#include "repair.h"

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
