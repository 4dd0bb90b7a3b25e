// SPDX-License-Identifier: GPL-2.0-only
/* flush: withdraw every live ban, or one source's. One engine run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipbanset.h"

struct flush_row {
	struct target t;
	char source[IPB_NAME_MAX];
};

struct flush_rows {
	struct flush_row *v;
	size_t n, cap;
};

static int flush_cb(void *arg, const struct ban *b)
{
	struct flush_rows *f = arg;

	if (ipb_grow(&f->v, &f->cap, f->n + 1, sizeof(*f->v)))
		return -ENOMEM;
	f->v[f->n].t = b->t;
	snprintf(f->v[f->n++].source, IPB_NAME_MAX, "%s", b->source);
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
	engine_summarize(&g, f.n, "flush", c->source_set ? c->source : NULL, NULL);
	for (i = 0; i < f.n && !r; i++)
		r = engine_change(&g, &f.v[i].t, f.v[i].source, 0, false, NULL, false, "flush");
	if (r) {
		engine_abort(&g);
		goto out;
	}
	if (!(r = engine_finish(&g)))
		engine_report(&g, "flush");
out:
	free(f.v);
	return r;
}
