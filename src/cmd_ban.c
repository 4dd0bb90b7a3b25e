// SPDX-License-Identifier: GPL-2.0-only
/* ban and unban: the targets given as arguments or in -f FILE, banned or withdrawn. Each
 * is one engine run: one journal transaction bracketing one kernel batch. */
#include <stdio.h>

#include "ipbanset.h"

/* The summary event's account of the expiries, "expires ..." or "permanent". */
static void expiry_summary(const struct ctx *c, char *buf, size_t len)
{
	int64_t t = ban_timeout(c);
	char a[32], b[32];

	if (t == 0) {
		snprintf(buf, len, "permanent");
		return;
	}
	ipb_rfc3339(c->now + t, a, sizeof(a));
	if (c->jitter <= 0) {
		snprintf(buf, len, "expires %s", a);
		return;
	}
	ipb_rfc3339(c->now + t + c->jitter, b, sizeof(b));
	snprintf(buf, len, "expires %s to %s", a, b);
}

int cmd_ban(struct ctx *c)
{
	struct target_list l = { 0 };
	struct engine g;
	char extra[96];
	bool done;
	size_t i;
	int r;

	if ((r = check_reason(c)) || (r = read_targets(c, &l, true)))
		goto out;
	if ((r = engine_start(&g, c)))
		goto out;
	expiry_summary(c, extra, sizeof(extra));
	engine_summarize(&g, l.n, "ban", c->source, extra);
	r = engine_ban_new(&g, &l, c->source, c->reason, ban_timeout(c), &done);
	if (done) {
		if (!r)
			engine_report(&g, "ban");
		goto out;
	}
	for (i = 0; i < l.n && !r; i++)
		r = engine_change(&g, &l.v[i], c->source, ban_expiry(c), c->replace, c->reason, false,
				  "ban");
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
	engine_summarize(&g, l.n, "unban", c->all_sources ? NULL : c->source, NULL);
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
