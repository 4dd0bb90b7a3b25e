// SPDX-License-Identifier: GPL-2.0-only
/* status: counts and expiries from the journal, and whether the kernel enforces them.
 * The drift check never dumps a large set: it trusts an unchanged ruleset generation,
 * dumps small sets, and samples large ones with targeted GETs (--verify dumps all). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "repair.h"

#define SAMPLE_SIZE 256

struct kcheck {
	bool checked, present, in_sync, exact, sampled;
	uint64_t missing, unexpected, retime;
	uint64_t sample_size, sampled_from; /* large sets: elements looked up, of how many */
	uint64_t packets, bytes;
	char method[256];
	char refused[sizeof(((struct ipb_err *)0)->msg)]; /* the table is not this journal's to check */
	struct tamper tamper; /* the chain and its rules against what ipbanset makes */
};

struct sample {
	struct target *t;
	size_t n;
	int64_t now;
	const bool *large;
};

static int sample_cb(void *arg, const struct ban *b)
{
	struct sample *s = arg;

	/* only large sets are sampled; skip bans about to expire (the kernel may be first) */
	if (!s->large[plan_set_index(b->t.family, b->t.plen)])
		return 0;
	if (b->expires != IPB_NEVER && b->expires - s->now < SETCMP_SLACK_MS / 1000 + 1)
		return 0;
	s->t[s->n++] = b->t;
	return 0;
}

static int check_small_set(struct kcheck *k, struct journal *j, struct backend *n, unsigned idx,
			   const struct ctx *c, struct ipb_err *e)
{
	struct setcmp s = { 0 };
	int r;

	r = repair_compare_set(&s, j, n, idx, c->now, c->now_ms, e);
	if (!r) {
		k->missing += s.nmissing;
		k->unexpected += s.nunexpected;
		k->retime += s.nretime;
	}
	setcmp_free(&s);
	return r;
}

/* Targeted GETs of a random sample of the large sets' elements. The elements found
 * missing are counted as they are: scaled up to the set, one missing element in a
 * sample of 256 of 197000 read as 770 missing bans. */
static int check_large_sets(struct kcheck *k, struct journal *j, struct backend *n, const bool *large,
			    uint64_t large_total, const struct ctx *c, struct ipb_err *e)
{
	struct target t[SAMPLE_SIZE];
	bool present[SAMPLE_SIZE];
	struct sample s = { t, 0, c->now, large };
	size_t i, miss = 0;
	int r;

	if ((r = journal_sample(j, c->now, SAMPLE_SIZE, sample_cb, &s, e)))
		return r;
	k->sampled = true;
	k->sampled_from = large_total;
	if (!s.n)
		return 0;
	if ((r = be_get_elems(n, t, s.n, present, NULL, e)))
		return r;
	for (i = 0; i < s.n; i++)
		miss += !present[i];
	k->sample_size = s.n;
	k->missing += miss;
	return 0;
}

/* Distinct live targets per set; on error, says that status could not check. With one
 * source holding live bans, every live row is a distinct target: no second pass. */
static int set_counts_exact(struct journal *j, const struct ctx *c,
			    const struct journal_counts *jc, uint64_t counts[PLAN_NSETS],
			    struct kcheck *k)
{
	struct ipb_err e;

	if (jc->nsources <= 1) {
		memcpy(counts, jc->set_rows, PLAN_NSETS * sizeof(counts[0]));
		return 0;
	}
	if (!journal_set_counts(j, c->now, counts, &e))
		return 0;
	k->checked = false;
	k->in_sync = false;
	snprintf(k->method, sizeof(k->method), "not checked: %.200s", e.msg);
	return -1;
}

static void kernel_check(const struct ctx *c, struct journal *j, const struct journal_counts *jc,
			 struct kcheck *k)
{
	char what[IPB_NAME_MAX + 32];
	uint64_t counts[PLAN_NSETS] = { 0 }, large_total = 0;
	bool large[PLAN_NSETS] = { false }, broken = false, any_large = false;
	struct config want = c->cfg; /* with the hook, priority and verdict init applied */
	bool compared[PLAN_NSETS] = { false }; /* by kernel set: ipset's hold many lengths */
	struct be_layout l;
	struct backend *n = NULL;
	struct ipb_err e;
	uint32_t genid = 0;
	bool clock_moved = false;
	uint64_t id;
	unsigned i, dumped = 0;

	memset(k, 0, sizeof(*k));
	k->exact = true;
	if (be_open(&n, &c->cfg, &e) || be_get_layout(n, &l, &e) || be_check_objects(n, &e) ||
	    (j && engine_applied_settings(c, j, &want, &e))) {
		snprintf(k->method, sizeof(k->method), "not checked: %.200s", e.msg);
		goto out;
	}
	if (owner_journal_id(j, false, &id, &e) ||
	    owner_check_table(c, &l, id, j ? journal_path(j) : c->cfg.db, OWNER_USE, &e)) {
		snprintf(k->refused, sizeof(k->refused), "%s", e.msg);
		goto out;
	}
	k->checked = true;
	/* live rows per set (from the counting pass) say which sets must exist; the distinct
	 * targets they hold (a scan twice as long at 1M) are counted only when status reports
	 * or compares them */
	memcpy(counts, jc->set_rows, sizeof(counts));
	if (!l.table && j && set_counts_exact(j, c, jc, counts, k)) {
		goto out;
	} else if (!l.table) {
		for (i = 0; i < PLAN_NSETS; i++)
			k->missing += counts[i];
		k->in_sync = k->missing == 0;
		snprintf(k->method, sizeof(k->method), "%s is missing",
			 be_objects(&c->cfg, what, sizeof(what)));
		goto out;
	}
	k->present = true;
	tamper_check(&l, &want, &k->tamper);
	be_get_counters(n, &k->packets, &k->bytes, &e);
	for (i = 0; i < PLAN_NSETS; i++) {
		if (counts[i] && (!l.set[i] || !l.rule[i] || !l.chain)) {
			k->missing += counts[i];
			broken = true;
		} else if (!counts[i] && l.set[i] && be_drops_empty_sets(n)) {
			k->unexpected++; /* a set the journal does not need: at least one element */
			broken = true;
			k->exact = false;
		}
	}
	/* the generation is the whole ruleset's: it is trusted for this table only when it
	 * was recorded for this very table (its handle), which our commit made exact */
	if (!c->verify && !broken && j && !be_get_genid(n, &genid, &e) &&
	    engine_generation_trusted(j, genid, l.table_handle, &clock_moved)) {
		k->in_sync = true;
		snprintf(k->method, sizeof(k->method),
			 "ruleset generation %u unchanged since ipbanset's last commit", genid);
		goto out;
	}
	if (j && set_counts_exact(j, c, jc, counts, k))
		goto out;
	for (k->missing = 0, i = 0; i < PLAN_NSETS; i++)
		if (counts[i] && (!l.set[i] || !l.rule[i] || !l.chain))
			k->missing += counts[i];
	for (i = 0; i < PLAN_NSETS; i++) {
		/* an ipset set holds every length: look for strays in lengths with no bans */
		if ((!counts[i] && be_drops_empty_sets(n)) || !l.set[i])
			continue;
		if (c->verify || counts[i] <= SETCMP_DUMP_LIMIT || !be_drops_empty_sets(n)) {
			if (check_small_set(k, j, n, i, c, &e))
				break;
			dumped += !compared[be_kernel_set(n, i)];
			compared[be_kernel_set(n, i)] = true;
		} else {
			large[i] = any_large = true;
			large_total += counts[i];
		}
	}
	if (any_large && check_large_sets(k, j, n, large, large_total, c, &e) == 0)
		k->exact = k->exact && !any_large;
	k->in_sync = !k->missing && !k->unexpected && !k->retime;
	snprintf(k->method, sizeof(k->method), "%s%s; compared %u set%s by dump%s",
		 c->verify			 ? "full comparison (--verify)"
		 : !be_drops_empty_sets(n) ? "ipset sets listed (ipset has no generation id)"
					   : "ruleset changed since ipbanset's last commit",
		 broken ? ", sets or rules missing" : "", dumped, dumped == 1 ? "" : "s",
		 any_large ? "; looked up a sample of the large sets' elements (missing counts only "
			     "those of the sample, unexpected ones in them are not counted; use --verify)"
			   : "");
out:
	/* a chain or rules not as ipbanset makes them enforce nothing, whatever the sets hold */
	if (tamper_found(&k->tamper))
		k->in_sync = false;
	if (n)
		be_close(n);
}

struct next_state {
	struct strbuf *sb;
	const struct ctx *c;
	size_t n;
	struct cols k; /* text: measured by a first pass */
};

/* "  TARGET SOURCE in 4m12s REASON", columns as wide as the widest row's */
static void next_text(struct next_state *s, const struct ban *b)
{
	char t[TARGET_STRLEN], r[256], d[32], in[40];
	const char *cell[3] = { target_format(&b->t, t, sizeof(t)), b->source, in };
	size_t i;

	snprintf(in, sizeof(in), "in %s", duration_format(b->expires - s->c->now, d, sizeof(d)));
	if (s->k.measure) {
		for (i = 0; i < 3; i++)
			cols_fit(&s->k, i, cell[i]);
		return;
	}
	sb_printf(s->sb, "  ");
	for (i = 0; i < 3; i++)
		cols_cell(&s->k, s->sb, i, cell[i]);
	sb_printf(s->sb, "%s", ipb_escape(b->reason, r, sizeof(r)));
	cols_end(s->sb);
}

static int next_cb(void *arg, const struct ban *b)
{
	struct next_state *s = arg;
	char t[TARGET_STRLEN], ts[32];

	if (s->c->json || (s->c->format && !strcmp(s->c->format, "json"))) {
		sb_printf(s->sb, "%s{\"target\": ", s->n ? ", " : "");
		sb_json_str(s->sb, target_format(&b->t, t, sizeof(t)));
		sb_printf(s->sb, ", \"source\": ");
		sb_json_str(s->sb, b->source);
		ipb_rfc3339(b->expires, ts, sizeof(ts));
		sb_printf(s->sb, ", \"expires\": \"%s\", \"reason\": ", ts);
		sb_json_str(s->sb, b->reason);
		sb_printf(s->sb, "}");
	} else {
		next_text(s, b);
	}
	s->n++;
	return 0;
}

/* Out of sync only because of chains ipbanset did not create: reconcile leaves them, they
 * are the administrator's to remove. */
static bool only_foreign_chains(const struct kcheck *k)
{
	return k->tamper.foreign_chains && !k->missing && !k->unexpected && !k->retime &&
	       !tamper_repairable(&k->tamper);
}

/* The command that repairs drift, or what the administrator must do. */
static void print_repair(struct strbuf *sb, const struct ctx *c, const struct kcheck *k)
{
	char what[IPB_NAME_MAX + 160];

	if (k->in_sync || !k->checked) {
		sb_printf(sb, "null");
	} else if (!only_foreign_chains(k)) {
		sb_printf(sb, "\"ipbanset reconcile\"");
	} else {
		snprintf(what, sizeof(what), "remove chain %s from table inet %s: ipbanset did not "
			 "create it", k->tamper.foreign_chain, c->cfg.table);
		sb_json_str(sb, what);
	}
}

static void print_json(const struct ctx *c, const struct journal_counts *jc, const char *next,
		       const struct kcheck *k, struct journal *j)
{
	struct strbuf sb;
	size_t i;

	sb_init(&sb);
	sb_printf(&sb, "{\"table\": ");
	sb_json_str(&sb, c->cfg.table);
	sb_printf(&sb, ", \"total\": %llu, \"families\": {\"ipv4\": {\"addresses\": %llu, \"networks\": %llu}, "
		       "\"ipv6\": {\"addresses\": %llu, \"networks\": %llu}}, \"sources\": {",
		  (unsigned long long)jc->total, (unsigned long long)jc->v4_addresses,
		  (unsigned long long)jc->v4_networks, (unsigned long long)jc->v6_addresses,
		  (unsigned long long)jc->v6_networks);
	for (i = 0; i < jc->nsources; i++) {
		sb_printf(&sb, i ? ", " : "");
		sb_json_str(&sb, jc->sources[i].name);
		sb_printf(&sb, ": %llu", (unsigned long long)jc->sources[i].count);
	}
	sb_printf(&sb, "}, \"expiring\": {\"1m\": %llu, \"1h\": %llu, \"1d\": %llu, \"later\": %llu, "
		       "\"permanent\": %llu}, \"next\": [%s], ",
		  (unsigned long long)jc->exp_1m, (unsigned long long)jc->exp_1h,
		  (unsigned long long)jc->exp_1d, (unsigned long long)jc->exp_later,
		  (unsigned long long)jc->exp_permanent, next ? next : "");
	sb_printf(&sb, "\"journal\": {\"path\": ");
	sb_json_str(&sb, c->cfg.db);
	sb_printf(&sb, ", \"size_bytes\": %lld, \"expired_rows\": %llu, \"events\": %llu}, ",
		  (long long)(j ? journal_size_bytes(j) : 0), (unsigned long long)jc->expired_rows,
		  (unsigned long long)jc->events);
	sb_printf(&sb, "\"kernel\": {\"checked\": %s, \"present\": %s, \"in_sync\": %s, \"missing\": %llu, "
		       "\"unexpected\": %llu, \"retime\": %llu, \"exact\": %s, \"sampled\": %s, "
		       "\"sample_size\": %llu, \"sampled_from\": %llu, \"method\": ",
		  k->checked ? "true" : "false", k->present ? "true" : "false",
		  k->in_sync ? "true" : "false", (unsigned long long)k->missing,
		  (unsigned long long)k->unexpected, (unsigned long long)k->retime,
		  k->exact ? "true" : "false", k->sampled ? "true" : "false",
		  (unsigned long long)k->sample_size, (unsigned long long)k->sampled_from);
	sb_json_str(&sb, k->method);
	sb_printf(&sb, ", \"chain_ok\": %s, \"rules_tampered\": %u, \"foreign_rules\": %u, "
		       "\"foreign_chains\": %u, \"repair\": ",
		  tamper_chain_ok(&k->tamper) ? "true" : "false", k->tamper.rules_tampered,
		  k->tamper.foreign_rules, k->tamper.foreign_chains);
	print_repair(&sb, c, k);
	sb_printf(&sb, ", \"dropped_packets\": %llu, \"dropped_bytes\": %llu}}\n",
		  (unsigned long long)k->packets, (unsigned long long)k->bytes);
	fwrite(sb.buf, 1, sb.len, stdout);
	sb_free(&sb);
}

static void print_prometheus(const struct ctx *c, const struct journal_counts *jc,
			     const struct kcheck *k, struct journal *j)
{
	size_t i;

	printf("# HELP ipbanset_bans Live bans in the journal.\n# TYPE ipbanset_bans gauge\n");
	printf("ipbanset_bans{family=\"ipv4\",kind=\"address\"} %llu\n", (unsigned long long)jc->v4_addresses);
	printf("ipbanset_bans{family=\"ipv4\",kind=\"network\"} %llu\n", (unsigned long long)jc->v4_networks);
	printf("ipbanset_bans{family=\"ipv6\",kind=\"address\"} %llu\n", (unsigned long long)jc->v6_addresses);
	printf("ipbanset_bans{family=\"ipv6\",kind=\"network\"} %llu\n", (unsigned long long)jc->v6_networks);
	printf("# HELP ipbanset_bans_by_source Live bans per source.\n# TYPE ipbanset_bans_by_source gauge\n");
	for (i = 0; i < jc->nsources; i++)
		printf("ipbanset_bans_by_source{source=\"%s\"} %llu\n", jc->sources[i].name,
		       (unsigned long long)jc->sources[i].count);
	printf("# HELP ipbanset_bans_expiring Live bans by time to expiry.\n# TYPE ipbanset_bans_expiring gauge\n");
	printf("ipbanset_bans_expiring{within=\"1m\"} %llu\n", (unsigned long long)jc->exp_1m);
	printf("ipbanset_bans_expiring{within=\"1h\"} %llu\n", (unsigned long long)jc->exp_1h);
	printf("ipbanset_bans_expiring{within=\"1d\"} %llu\n", (unsigned long long)jc->exp_1d);
	printf("ipbanset_bans_expiring{within=\"later\"} %llu\n", (unsigned long long)jc->exp_later);
	printf("ipbanset_bans_expiring{within=\"permanent\"} %llu\n", (unsigned long long)jc->exp_permanent);
	printf("# HELP ipbanset_kernel_in_sync 1 when the kernel enforces exactly the journal.\n"
	       "# TYPE ipbanset_kernel_in_sync gauge\nipbanset_kernel_in_sync %d\n", k->in_sync ? 1 : 0);
	printf("# HELP ipbanset_kernel_missing Live bans found missing from the kernel (of the "
	       "sample only, when ipbanset_kernel_sampled is 1).\n"
	       "# TYPE ipbanset_kernel_missing gauge\nipbanset_kernel_missing %llu\n",
	       (unsigned long long)k->missing);
	printf("# HELP ipbanset_kernel_sampled 1 when large sets were checked by looking up a "
	       "sample of their elements.\n"
	       "# TYPE ipbanset_kernel_sampled gauge\nipbanset_kernel_sampled %d\n",
	       k->sampled ? 1 : 0);
	printf("# HELP ipbanset_kernel_sample_size Elements of large sets looked up.\n"
	       "# TYPE ipbanset_kernel_sample_size gauge\nipbanset_kernel_sample_size %llu\n",
	       (unsigned long long)k->sample_size);
	printf("# TYPE ipbanset_kernel_unexpected gauge\nipbanset_kernel_unexpected %llu\n",
	       (unsigned long long)k->unexpected);
	printf("# HELP ipbanset_kernel_chain_ok 0 when ipbanset's chain is missing or has another "
	       "hook, priority or policy than ipbanset gives it.\n"
	       "# TYPE ipbanset_kernel_chain_ok gauge\nipbanset_kernel_chain_ok %d\n",
	       tamper_chain_ok(&k->tamper) ? 1 : 0);
	printf("# HELP ipbanset_kernel_rules_tampered Rules for ipbanset's sets that are not as "
	       "ipbanset makes them.\n"
	       "# TYPE ipbanset_kernel_rules_tampered gauge\nipbanset_kernel_rules_tampered %u\n",
	       k->tamper.rules_tampered);
	printf("# HELP ipbanset_kernel_foreign_rules Rules in ipbanset's chain that it did not "
	       "make.\n"
	       "# TYPE ipbanset_kernel_foreign_rules gauge\nipbanset_kernel_foreign_rules %u\n",
	       k->tamper.foreign_rules);
	printf("# HELP ipbanset_kernel_foreign_chains Chains in ipbanset's table that it did not "
	       "create.\n"
	       "# TYPE ipbanset_kernel_foreign_chains gauge\nipbanset_kernel_foreign_chains %u\n",
	       k->tamper.foreign_chains);
	printf("# TYPE ipbanset_dropped_packets_total counter\nipbanset_dropped_packets_total %llu\n",
	       (unsigned long long)k->packets);
	printf("# TYPE ipbanset_journal_bytes gauge\nipbanset_journal_bytes %lld\n",
	       (long long)(j ? journal_size_bytes(j) : 0));
	(void)c;
}

static const char *sampled_note(const struct kcheck *k, char *buf, size_t len)
{
	if (!k->sampled)
		return "";
	snprintf(buf, len, " (in a sample of %llu of %llu elements)",
		 (unsigned long long)k->sample_size, (unsigned long long)k->sampled_from);
	return buf;
}

static void print_text(const struct ctx *c, const struct journal_counts *jc, const char *next,
		       const struct kcheck *k, struct journal *j)
{
	char note[96], fixed[256];
	bool tty = isatty(STDOUT_FILENO);
	const char *ok = tty ? "\033[32m" : "", *bad = tty ? "\033[31m" : "", *end = tty ? "\033[0m" : "";
	size_t i;

	if (c->cfg.backend == IPB_BACKEND_IPSET)
		printf("%-12s ipset %s-ip4, -net4, -ip6, -net6\n", "sets", c->cfg.table);
	else
		printf("%-12s inet %s\n", "table", c->cfg.table);
	printf("%-12s %llu (IPv4: %llu addresses, %llu networks; IPv6: %llu addresses, %llu networks)\n",
	       "bans", (unsigned long long)jc->total, (unsigned long long)jc->v4_addresses,
	       (unsigned long long)jc->v4_networks, (unsigned long long)jc->v6_addresses,
	       (unsigned long long)jc->v6_networks);
	printf("%-12s", "sources");
	for (i = 0; i < jc->nsources; i++)
		printf(" %s %llu%s", jc->sources[i].name, (unsigned long long)jc->sources[i].count,
		       i + 1 < jc->nsources ? "," : "");
	printf("%s\n", jc->nsources ? "" : " none");
	printf("%-12s 1m: %llu  1h: %llu  1d: %llu  later: %llu  permanent: %llu\n", "expiring",
	       (unsigned long long)jc->exp_1m, (unsigned long long)jc->exp_1h,
	       (unsigned long long)jc->exp_1d, (unsigned long long)jc->exp_later,
	       (unsigned long long)jc->exp_permanent);
	printf("%-12s %s (%lld bytes, %llu expired rows awaiting gc, %llu events)\n", "journal",
	       c->cfg.db, (long long)(j ? journal_size_bytes(j) : 0),
	       (unsigned long long)jc->expired_rows, (unsigned long long)jc->events);
	if (!k->checked)
		printf("%-12s %s\n", "kernel", k->method);
	else if (k->in_sync)
		printf("%-12s %sin sync%s (%s)\n", "kernel", ok, end, k->method);
	else if (only_foreign_chains(k))
		printf("%-12s %sNOT in sync%s: the bans are in place (%s), but see below\n", "kernel",
		       bad, end, k->method);
	else
		printf("%-12s %sNOT in sync%s: %llu missing%s, %llu unexpected, %llu with wrong timeout "
		       "(%s)%s%s; run 'ipbanset reconcile'\n", "kernel", bad, end,
		       (unsigned long long)k->missing, sampled_note(k, note, sizeof(note)),
		       (unsigned long long)k->unexpected, (unsigned long long)k->retime, k->method,
		       tamper_repairable(&k->tamper) ? "; " : "",
		       tamper_describe(&k->tamper, fixed, sizeof(fixed)));
	if (k->tamper.foreign_chains)
		printf("%-12s table inet %s holds chain %s%s, which ipbanset did not create: "
		       "ipbanset leaves it alone; remove it from the table\n", "foreign", c->cfg.table,
		       k->tamper.foreign_chain, k->tamper.foreign_chains > 1 ? " and others" : "");
	if (k->present)
		printf("%-12s %llu packets, %llu bytes\n", "dropped", (unsigned long long)k->packets,
		       (unsigned long long)k->bytes);
	if (next && *next)
		printf("next to expire:\n%s", next);
}

/* The next bans to expire; text makes them twice, measuring the columns first. */
static int next_rows(struct journal *j, const struct journal_counts *jc, struct next_state *ns,
		     struct ipb_err *e)
{
	if (ns->k.measure && journal_counts_next(j, jc, next_cb, ns, e))
		return -1;
	ns->k.measure = false;
	ns->n = 0;
	return journal_counts_next(j, jc, next_cb, ns, e);
}

int cmd_status(struct ctx *c)
{
	struct journal_counts jc = { 0 };
	struct strbuf next;
	struct next_state ns = { &next, c, 0, { { 0 }, false } };
	struct journal *j;
	struct kcheck k;
	struct ipb_err e;
	int r;

	if (c->json && !c->format)
		c->format = "json";
	if ((r = open_journal(c, &j, false)))
		return r;
	sb_init(&next);
	if (c->format && strcmp(c->format, "text"))
		ns.k.measure = false;
	else
		cols_init(&ns.k, NULL, 0);
	if (j && (journal_begin_read(j, &e) || journal_counts(j, c->now, &jc, &e) ||
		  next_rows(j, &jc, &ns, &e))) {
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	kernel_check(c, j, &jc, &k);
	if (k.refused[0]) {
		ipb_error("%s", k.refused);
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	if (c->format && !strcmp(c->format, "json"))
		print_json(c, &jc, next.buf, &k, j);
	else if (c->format && !strcmp(c->format, "prometheus"))
		print_prometheus(c, &jc, &k, j);
	else
		print_text(c, &jc, next.buf, &k, j);
out:
	if (j) {
		journal_rollback(j);
		journal_close(j);
	}
	sb_free(&next);
	journal_counts_free(&jc);
	return r;
}
