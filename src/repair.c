// SPDX-License-Identifier: GPL-2.0-only
/* Making the kernel's sets and ipbanset's chain what the journal and init's settings
 * say, in the command's batch: the repair init and reconcile make (gc too, on ipset), its
 * counts, report and history event, the removal of a table a probe left behind, and
 * the comparison of one set that status reports too. */
#include <stdio.h>
#include <string.h>

#include "repair.h"

static int jelem_cb(void *arg, const struct ban *b)
{
	return setcmp_journal_elem(arg, &b->t, b->expires, b->source, b->reason);
}

int repair_compare_set(struct setcmp *s, struct journal *j, struct backend *n, unsigned idx,
		       int64_t now, int64_t now_ms, struct ipb_err *e)
{
	unsigned family = plan_set_family(idx), plen = plan_set_plen(idx);
	int r;

	r = journal_set_elements(j, family, plen, now, jelem_cb, s, e);
	if (!r)
		r = be_dump_set(n, family, plen, setcmp_kernel_elem, s, e);
	if (!r)
		r = setcmp_diff(s, now_ms, be_max_timeout_ms(n), e);
	return r;
}

/* Dump the set, compare, and fix only what differs. */
static int repair_by_diff(struct engine *g, unsigned idx, struct repair_stats *st, struct ipb_err *e)
{
	struct setcmp s = { .retime_slack_ms = be_coarse_timeouts(g->n) ? SETCMP_SLACK_MS / 2 : 0 };
	const struct jelem *el;
	size_t i;
	int r;

	if ((r = repair_compare_set(&s, g->j, g->n, idx, g->c->now, g->c->now_ms, e)))
		goto out;
	/* A dump while the kernel resizes its hash table can skip elements (a crashed bulk
	 * load leaves it resizing): deleting only the strays it saw could leave others. So
	 * an nftables set with strays is rewritten from the journal in the batch instead. */
	if (s.nunexpected && be_drops_empty_sets(g->n)) {
		g->flush[idx] = true;
		r = engine_restore_set(g, idx, e);
		st->restored += s.nmissing;
		st->retimed += s.nretime;
		st->removed += s.nunexpected;
		st->sets_rewritten++;
		goto out;
	}
	for (i = 0; i < s.nmissing; i++) {
		el = &s.j[s.missing[i]];
		engine_elem_add(g, &el->t, el->expires, el->source, el->reason);
	}
	for (i = 0; i < s.nretime; i++) {
		el = &s.j[s.retime[i]];
		engine_elem_retime(g, &el->t, el->expires, el->source, el->reason);
	}
	for (i = 0; i < s.nunexpected; i++)
		engine_elem_del(g, &s.k[s.unexpected[i]].t);
	st->restored += s.nmissing;
	st->retimed += s.nretime;
	st->removed += s.nunexpected;
out:
	setcmp_free(&s);
	return r;
}

/* An nftables set dump costs time that grows with the square of the set (measured here:
 * about 1.4 s at 200k, 30 s at 1M), a rewrite about 2 s at 1M: above this many bans,
 * reconcile rewrites a set the generation cannot vouch for instead of comparing it. */
#define RECONCILE_DUMP_MAX 250000

/* Queue everything that makes the kernel hold exactly the journal's live bans. When the
 * kernel is as ipbanset's last commit left it, its sets hold the journal's elements with
 * their timeouts (the kernel expires them itself: nftables holds every timeout), so only
 * sets and rules are checked; otherwise each set is dumped and compared. */
int repair_sets(struct engine *g, struct repair_stats *st)
{
	bool as_left = engine_kernel_as_left(g);
	uint64_t counts[PLAN_NSETS];
	struct ipb_err e;
	unsigned idx;
	int r = 0;

	/* rows, not distinct targets: enough to choose how to repair each set */
	if (journal_set_rows(g->j, g->c->now, counts, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	g->trusted_record = as_left;
	if (as_left)
		ipb_verbose(g->c, "ruleset generation %u unchanged since ipbanset's last commit: "
				  "the sets are not compared", g->genid_before);
	engine_stream_start(g, counts); /* only when the table is missing and it is big */
	for (idx = 0; idx < PLAN_NSETS; idx++) {
		bool present = g->layout.table && g->layout.set[idx];
		size_t queued = g->add[idx].n;

		g->touched[idx] = counts[idx] || present || g->layout.rule[idx];
		if (!counts[idx] && be_drops_empty_sets(g->n)) {
			st->sets_removed += present;
			continue;
		}
		if (!counts[idx] && !present)
			continue;
		if (!present) {
			r = engine_restore_set(g, idx, &e);
			st->restored += g->add[idx].n - queued;
			st->sets_created++;
		} else if (!as_left && counts[idx] > RECONCILE_DUMP_MAX && be_drops_empty_sets(g->n)) {
			/* comparing would cost more than rewriting: reported as a rewrite */
			g->flush[idx] = true;
			r = engine_restore_set(g, idx, &e);
			st->sets_rewritten++;
		} else if (!as_left) {
			/* dumped and compared: a set that holds the journal's bans is left as it
			 * is, and the command reports no change */
			r = repair_by_diff(g, idx, st, &e);
		}
		if (r)
			return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	}
	return 0;
}

bool repair_changes(const struct engine *g, const struct repair_stats *st)
{
	return st->restored || st->removed || st->retimed || st->sets_rewritten ||
	       st->sets_removed || g->structure_changed;
}

void repair_report(const struct ctx *c, const struct engine *g, const struct repair_stats *st,
		   const char *verb)
{
	bool changed = repair_changes(g, st);
	const struct tamper *t = &st->tamper;
	char fixed[256], what[IPB_NAME_MAX + 32];

	if (c->json) {
		printf("{\"changed\": %s, \"added\": %llu, \"removed\": %llu, \"updated\": %llu, "
		       "\"unchanged\": 0, \"dry_run\": %s, \"restored\": %llu, \"retimed\": %llu, "
		       "\"sets_rewritten\": %llu, \"sets_created\": %llu, \"sets_removed\": %llu, "
		       "\"table_created\": %s, \"chain_repaired\": %s, \"rules_repaired\": %u, "
		       "\"foreign_rules_removed\": %u, \"foreign_chains\": %u}\n",
		       changed ? "true" : "false", (unsigned long long)st->restored,
		       (unsigned long long)st->removed, (unsigned long long)st->retimed,
		       c->dry_run ? "true" : "false", (unsigned long long)st->restored,
		       (unsigned long long)st->retimed, (unsigned long long)st->sets_rewritten,
		       (unsigned long long)st->sets_created, (unsigned long long)st->sets_removed,
		       g->table_was_missing ? "true" : "false", tamper_chain_ok(t) ? "false" : "true",
		       t->rules_tampered, t->foreign_rules, t->foreign_chains);
		return;
	}
	if (c->quiet)
		return;
	printf("%s%s: restored %llu, removed %llu, retimed %llu", c->dry_run ? "dry run (nothing changed): " : "",
	       verb, (unsigned long long)st->restored, (unsigned long long)st->removed,
	       (unsigned long long)st->retimed);
	if (st->sets_rewritten)
		printf(", rewrote %llu set%s", (unsigned long long)st->sets_rewritten,
		       st->sets_rewritten > 1 ? "s" : "");
	if (g->table_was_missing)
		printf(" (%s %s)", be_objects(&c->cfg, what, sizeof(what)),
		       c->dry_run ? "is missing and would be created" : "was missing and was created");
	if (tamper_repairable(t))
		printf("; %s: %s", c->dry_run ? "would repair" : "repaired",
		       tamper_describe(t, fixed, sizeof(fixed)));
	putchar('\n');
}

int repair_event(struct engine *g, const struct repair_stats *st, const char *kind)
{
	char detail[512], fixed[256];
	bool repaired = tamper_repairable(&st->tamper);

	snprintf(detail, sizeof(detail),
		 "%srestored %llu, removed %llu, retimed %llu, rewrote %llu sets%s%s",
		 strcmp(kind, "gc") ? "" : "kernel: ", (unsigned long long)st->restored,
		 (unsigned long long)st->removed, (unsigned long long)st->retimed,
		 (unsigned long long)st->sets_rewritten, repaired ? "; repaired: " : "",
		 tamper_describe(&st->tamper, fixed, sizeof(fixed)));
	return engine_event(g, kind, NULL, NULL, NULL, detail);
}

/* init and reconcile: ipbanset's chain and its rules become again what ipbanset makes,
 * at the hook, priority and verdict that init applied (the journal's): the rules are
 * deleted and made again, those others put in the chain too, in the command's batch.
 * Chains that others added to the table are not ipbanset's: named, and left alone. */
void repair_chain(struct engine *g, struct repair_stats *st)
{
	struct tamper *t = &st->tamper;
	unsigned i;

	tamper_check(&g->layout, &g->c->cfg, t);
	if (t->foreign_chains)
		ipb_info(g->c, "warning: table inet %s holds chain %s%s, which ipbanset did not "
			       "create: ipbanset leaves it alone; remove it from the table, or move "
			       "it to a table of your own", g->c->cfg.table, t->foreign_chain,
			 t->foreign_chains > 1 ? " and others" : "");
	if (!tamper_repairable(t))
		return;
	g->structure_changed = true;
	if (t->chain_missing)
		return; /* the batch creates it, with a rule for each set */
	/* a base chain's hook cannot change in place: it is recreated; its policy can */
	g->recreate_chain = t->chain_moved;
	g->flush_chain = t->chain_moved || t->rules_tampered || t->foreign_rules;
	if (t->chain_moved || t->policy_drop)
		g->layout.chain = false;
	for (i = 0; g->flush_chain && i < PLAN_NSETS; i++)
		g->layout.rule[i] = false;
}

/* A table a probe left when it died (see nft_probe_refresh) goes with reconcile and
 * teardown. Under the journal's lock: no probe runs meanwhile. */
void repair_drop_probe(struct engine *g)
{
	struct ipb_err e;
	unsigned ntx = 0;

	if (!g->c->dry_run && be_drop_probe(g->n, &ntx, &e))
		ipb_info(g->c, "warning: could not delete the probe table: %s", e.msg);
	else if (ntx)
		ipb_verbose(g->c, "deleted the table a probe left behind");
	g->genid_before += ntx; /* ours: the generation after them is still as we left it */
}
