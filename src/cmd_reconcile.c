// SPDX-License-Identifier: GPL-2.0-only
/* reconcile, init, teardown, gc: the commands that bring kernel and journal together. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "setcmp.h"

struct rec_stats {
	uint64_t restored, removed, retimed, sets_rewritten, sets_created, sets_removed;
	struct tamper tamper; /* what was wrong with the chain and its rules (nftables) */
};

/* Dump the set, compare, and fix only what differs. */
static int repair_by_diff(struct engine *g, unsigned idx, struct rec_stats *st, struct ipb_err *e)
{
	struct setcmp s = { .retime_slack_ms = be_coarse_timeouts(g->n) ? SETCMP_SLACK_MS / 2 : 0 };
	const struct jelem *el;
	size_t i;
	int r;

	r = setcmp_load_journal(&s, g->j, idx, g->c->now, e);
	if (!r)
		r = setcmp_compare(&s, g->n, idx, g->c->now_ms, e);
	if (r)
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
static int reconcile_plan(struct engine *g, struct rec_stats *st)
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

static bool reconcile_changes(const struct engine *g, const struct rec_stats *st)
{
	return st->restored || st->removed || st->retimed || st->sets_rewritten ||
	       st->sets_removed || g->structure_changed;
}

static void reconcile_report(const struct ctx *c, const struct engine *g, const struct rec_stats *st,
			     const char *verb)
{
	bool changed = reconcile_changes(g, st);
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

static int reconcile_event(struct engine *g, const struct rec_stats *st, const char *kind)
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
static void plan_chain_repair(struct engine *g, struct rec_stats *st)
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
static void drop_probe(struct engine *g)
{
	struct ipb_err e;
	unsigned ntx = 0;

	if (!g->c->dry_run && be_drop_probe(g->n, &ntx, &e))
		ipb_info(g->c, "warning: could not delete the probe table: %s", e.msg);
	else if (ntx)
		ipb_verbose(g->c, "deleted the table a probe left behind");
	g->genid_before += ntx; /* ours: the generation after them is still as we left it */
}

int cmd_reconcile(struct ctx *c)
{
	struct rec_stats st = { 0 };
	struct engine g;
	int r;

	if ((r = engine_start(&g, c)))
		return r;
	plan_chain_repair(&g, &st);
	g.authoritative = true;
	drop_probe(&g); /* before reconcile_plan: a restore it starts owns the netlink socket */
	r = reconcile_plan(&g, &st);
	/* the history records changes: a reconcile that found nothing to repair leaves none */
	if (!r && reconcile_changes(&g, &st))
		r = reconcile_event(&g, &st, "reconcile");
	if (r) {
		engine_abort(&g);
		return r;
	}
	/* engine_finish's missing-table warning is for partial commands, not for this one */
	r = engine_finish(&g);
	if (!r)
		reconcile_report(c, &g, &st, "reconcile");
	return r;
}

/* What init is about to change, if anything: the history records init only then. */
static bool init_changes(const struct engine *g, const struct rec_stats *st, bool created,
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
	struct rec_stats st = { 0 };
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
	plan_chain_repair(&g, &st);
	r = reconcile_plan(&g, &st);
	if (!r)
		r = engine_record_settings(&g, &settings_changed);
	changed = !r && init_changes(&g, &st, created, settings_changed);
	if (changed)
		r = reconcile_event(&g, &st, "init");
	if (r) {
		engine_abort(&g);
		return r;
	}
	if ((r = engine_finish(&g)))
		return r;
	/* a verdict recorded for sets that do not exist yet is a change too */
	if (changed)
		g.structure_changed = true;
	reconcile_report(c, &g, &st, "init");
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
		drop_probe(&g);
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

static bool gc_kernel_changed(const struct rec_stats *st)
{
	return st->restored || st->removed || st->retimed || st->sets_rewritten ||
	       st->sets_created || st->sets_removed;
}

static void gc_report(const struct ctx *c, const struct engine *g, const struct rec_stats *st,
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
	struct rec_stats st = { 0 };
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
	if (!be_drops_empty_sets(g.n) && g.layout.table && (r = reconcile_plan(&g, &st))) {
		engine_abort(&g);
		return r;
	}
	/* what it did to the kernel, drift it repaired included, is in the history too */
	if (gc_kernel_changed(&st) && (r = reconcile_event(&g, &st, "gc"))) {
		engine_abort(&g);
		return r;
	}
	if ((r = engine_finish(&g)))
		return r;
	gc_report(c, &g, &st, bans, events);
	return 0;
}
