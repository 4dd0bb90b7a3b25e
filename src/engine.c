// SPDX-License-Identifier: GPL-2.0-only
/* The engine: every state-changing command is one journal transaction (BEGIN IMMEDIATE)
 * that brackets one netlink batch. The journal is written first, inside the open
 * transaction; the batch goes to the kernel; the journal commits only after the kernel
 * acked everything. A crash before the kernel commit leaves neither changed; a crash
 * between the kernel commit and the journal commit leaves the kernel ahead of the
 * journal, which the generation id recorded at every commit exposes and `reconcile`
 * repairs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "engine.h"
#include "owner.h"

/* ---- a chunked arena for element comments: pointers stay valid until freed ---- */
struct pool {
	struct pool *next;
	size_t used, cap;
	char data[];
};

static const char *pool_strdup(struct pool **pp, const char *s)
{
	size_t n = strlen(s) + 1;
	struct pool *p = *pp;
	char *r;

	if (!p || p->used + n > p->cap) {
		size_t cap = n > 65536 ? n : 65536;

		p = malloc(sizeof(*p) + cap);
		if (!p)
			return NULL;
		p->used = 0;
		p->cap = cap;
		p->next = *pp;
		*pp = p;
	}
	r = p->data + p->used;
	memcpy(r, s, n);
	p->used += n;
	return r;
}

static void pool_free(struct pool *p)
{
	while (p) {
		struct pool *next = p->next;

		free(p);
		p = next;
	}
}

static bool elemvec_push(struct elemvec *v, const struct be_elem *el)
{
	if (ipb_grow(&v->v, &v->cap, v->n + 1, sizeof(*v->v)))
		return false;
	v->v[v->n++] = *el;
	return true;
}

/* Is c what engine_comment formats for source and reason? (Without formatting it: a
 * restore asks a million times, mostly for the same comment.) */
static bool comment_is(const char *c, const char *source, const char *reason)
{
	size_t n = strlen(source), rlen;

	if (strncmp(c, source, n))
		return false;
	c += n;
	if (!reason || !*reason)
		return !*c;
	rlen = strnlen(reason, BE_COMMENT_MAX);
	return c[0] == ':' && c[1] == ' ' && strlen(c + 2) == rlen && !memcmp(c + 2, reason, rlen);
}

const char *engine_comment(struct engine *g, const char *source, const char *reason)
{
	char buf[BE_COMMENT_MAX + 64];
	const char *r;
	int n;

	/* the key is the raw source and reason: the comment itself is escaped */
	if (g->last_comment_ptr && comment_is(g->last_raw, source, reason))
		return g->last_comment_ptr;
	/* nft list prints comments raw to an admin's terminal: control characters and
	 * invalid UTF-8 go in escaped, cut whole at the comment limit */
	n = snprintf(buf, sizeof(buf), reason && *reason ? "%s: " : "%s", source);
	if (reason && *reason && n > 0 && n < BE_COMMENT_MAX)
		ipb_escape(reason, buf + n, (size_t)(BE_COMMENT_MAX - n));
	/* consecutive elements mostly share one comment (a list from one source) */
	if (g->last_comment_ptr && !strcmp(buf, g->last_comment))
		return g->last_comment_ptr;
	r = pool_strdup(&g->pool, buf);
	if (!r)
		return source;
	snprintf(g->last_comment, sizeof(g->last_comment), "%s", buf);
	if (reason && *reason)
		snprintf(g->last_raw, sizeof(g->last_raw), "%s: %.*s", source, BE_COMMENT_MAX, reason);
	else
		snprintf(g->last_raw, sizeof(g->last_raw), "%s", source);
	g->last_comment_ptr = r;
	return r;
}

static void stream_push(struct engine *g);

static void queue(struct engine *g, struct elemvec *v, const struct target *t, int64_t expires,
		  const char *comment)
{
	/* the timeout is computed when the batch is built: see set_timeouts */
	struct be_elem el = { .t = *t, .comment = comment, .expires = expires };

	if (g->failed)
		return;
	if (g->stream) { /* the other thread reads v->v: it must never move */
		if (v->n == v->cap) {
			ipb_error("internal error: more elements than journal rows; run 'ipbanset reconcile'");
			g->failed = true;
			return;
		}
		v->v[v->n++] = el;
		stream_push(g);
		g->touched[plan_set_index(t->family, t->plen)] = true;
		return;
	}
	if (!elemvec_push(v, &el)) {
		ipb_error("out of memory");
		g->failed = true;
		return;
	}
	g->touched[plan_set_index(t->family, t->plen)] = true;
}

void engine_elem_add(struct engine *g, const struct target *t, int64_t expires, const char *source,
		     const char *reason)
{
	queue(g, &g->add[plan_set_index(t->family, t->plen)], t, expires,
	      engine_comment(g, source, reason));
	g->k_added++;
}

/* Take back the addition of t queued last in v, if there is one. */
static bool unqueue_last(struct elemvec *v, const struct target *t)
{
	if (!v->n || target_cmp(&v->v[v->n - 1].t, t))
		return false;
	v->n--;
	return true;
}

void engine_elem_del(struct engine *g, const struct target *t)
{
	unsigned idx = plan_set_index(t->family, t->plen);

	g->k_removed++;
	/* The batch sends a set's deletions before its additions: a target changed again
	 * in this run (flush withdraws one source's ban at a time, in target order) must
	 * not keep an addition queued before this deletion. A retime queued its own. */
	if (!g->stream) {
		unqueue_last(&g->add[idx], t);
		unqueue_last(&g->refresh[idx], t);
		if (g->del[idx].n && !target_cmp(&g->del[idx].v[g->del[idx].n - 1].t, t))
			return;
	}
	queue(g, &g->del[idx], t, 0, NULL);
}

void engine_elem_retime(struct engine *g, const struct target *t, int64_t expires,
			const char *source, const char *reason)
{
	unsigned idx = plan_set_index(t->family, t->plen);

	queue(g, &g->del[idx], t, 0, NULL);
	queue(g, &g->add[idx], t, expires, engine_comment(g, source, reason));
	g->k_retimed++;
}

void engine_elem_extend(struct engine *g, const struct target *t, int64_t expires,
			const char *source, const char *reason)
{
	if (g->stream) { /* a restore: nothing there to extend */
		engine_elem_retime(g, t, expires, source, reason);
		return;
	}
	queue(g, &g->refresh[plan_set_index(t->family, t->plen)], t, expires,
	      engine_comment(g, source, reason));
	g->k_retimed++;
}

/* Hook, priority and verdict are what `init` last applied, so a set created later by
 * `ban` gets the same verdict as the others. `init` applies, in order of precedence, its
 * options, the keys written in the config file, then what it applied before: an
 * idempotent `init` (fail2ban's actionstart) never undoes an earlier `init --verdict`. */
int engine_applied_settings(const struct ctx *c, struct journal *j, struct config *cfg,
			    struct ipb_err *e)
{
	static const char *const keys[] = { "hook", "priority", "verdict" };
	bool init = !strcmp(c->command, "init");
	int64_t v[3];
	bool found[3];
	unsigned i;
	int r;

	for (i = 0; i < 3; i++)
		if ((r = journal_meta_get(j, keys[i], &v[i], &found[i], e)))
			return r;
	if (found[0] && !(init && (c->hook_set || cfg->hook_set))) {
		cfg->hook = v[0] ? IPB_HOOK_PREROUTING : IPB_HOOK_INPUT;
		if (found[1] && !(init && (c->priority_set || cfg->priority_set)))
			cfg->priority = (int)v[1];
	}
	if (found[2] && !(init && (c->verdict_set || cfg->verdict_set)))
		cfg->verdict = v[2] ? IPB_VERDICT_REJECT : IPB_VERDICT_DROP;
	return 0;
}

int engine_record_settings(struct engine *g, bool *changed)
{
	static const char *const keys[] = { "hook", "priority", "verdict" };
	const struct config *cfg = &g->c->cfg;
	int64_t want[3] = { cfg->hook == IPB_HOOK_PREROUTING, cfg->priority,
			    cfg->verdict == IPB_VERDICT_REJECT };
	struct ipb_err e;
	unsigned i;

	*changed = false;
	for (i = 0; i < 3; i++) {
		int64_t have;
		bool found;

		if (journal_meta_get(g->j, keys[i], &have, &found, &e))
			return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
		if (found && have == want[i])
			continue;
		*changed = true;
		if (journal_meta_set(g->j, keys[i], want[i], &e))
			return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	}
	return 0;
}

static enum owner_use owner_use(const struct ctx *c)
{
	if (!strcmp(c->command, "teardown"))
		return OWNER_DELETE;
	return c->adopt ? OWNER_ADOPT : OWNER_USE;
}

int engine_start(struct engine *g, struct ctx *c)
{
	struct ipb_err e;
	int r;

	memset(g, 0, sizeof(*g));
	g->c = c;
	if ((r = open_journal(c, &g->j, true)))
		return r;
	r = be_open(&g->n, &c->cfg, &e);
	if (r) {
		ipb_error("%s%s", e.msg, r == -EPERM ? " (run as root: needs CAP_NET_ADMIN)" : "");
		journal_close(g->j);
		return IPB_EXIT_SYSTEM;
	}
	if ((r = journal_begin(g->j, &e)))
		goto fail;
	g->began = true;
	if ((r = engine_applied_settings(c, g->j, &c->cfg, &e)) ||
	    (r = be_get_layout(g->n, &g->layout, &e)) ||
	    (r = owner_binding(c, g->j, true, &e)) ||
	    (r = owner_journal_id(g->j, true, &g->owner, &e)) ||
	    (r = owner_check_table(c, &g->layout, g->owner, journal_path(g->j), owner_use(c), &e)))
		goto fail;
	be_set_owner(g->n, g->owner);
	g->table_was_missing = !g->layout.table;
	g->have_genid_before = be_get_genid(g->n, &g->genid_before, &e) == 0;
	ipb_phase(c, "journal locked, kernel layout read");
	return 0;
fail:
	ipb_error("%s", e.msg);
	engine_abort(g);
	return IPB_EXIT_SYSTEM;
}

static void engine_free(struct engine *g)
{
	unsigned i;

	for (i = 0; i < PLAN_NSETS; i++) {
		free(g->add[i].v);
		free(g->del[i].v);
		free(g->flush_add[i].v);
		free(g->refresh[i].v);
	}
	pool_free(g->pool);
	if (g->n)
		be_close(g->n);
	if (g->j)
		journal_close(g->j);
	g->n = NULL;
	g->j = NULL;
	g->pool = NULL;
}

static void stream_stop(struct engine *g);

void engine_abort(struct engine *g)
{
	if (g->stream)
		stream_stop(g);
	if (g->began && g->j)
		journal_rollback(g->j);
	g->began = false;
	engine_free(g);
}

int engine_event(struct engine *g, const char *kind, const struct target *t, const char *source,
		 const char *reason, const char *detail)
{
	char buf[TARGET_STRLEN];
	struct event ev = { .time = g->c->now, .kind = kind, .source = source,
			    .reason = reason, .detail = detail, .uid = -1 };
	struct ipb_err e;

	if (t && g->summarize)
		return 0; /* one summary event stands for all of them */
	if (t)
		ev.target = target_format(t, buf, sizeof(buf));
	if (journal_add_event(g->j, &ev, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	return 0;
}

void engine_summarize(struct engine *g, size_t ntargets, const char *kind, const char *source,
		      const char *extra)
{
	g->ntargets = ntargets;
	g->summarize = ntargets > ENGINE_TARGET_EVENTS_MAX;
	g->summary_kind = kind;
	g->summary_source = source;
	g->summary_extra = extra;
}

/* A million history rows would cost as much as the bans themselves and drown the rest
 * of the history: a big command leaves one event that counts what it did. */
static int write_summary(struct engine *g)
{
	char detail[256];

	if (!g->summarize || !g->summary_kind)
		return 0;
	snprintf(detail, sizeof(detail), "%zu targets: %llu added, %llu removed, %llu updated, "
		 "%llu unchanged%s%s", g->ntargets, (unsigned long long)g->added,
		 (unsigned long long)g->removed, (unsigned long long)g->updated,
		 (unsigned long long)g->unchanged, g->summary_extra ? "; " : "",
		 g->summary_extra ? g->summary_extra : "");
	return engine_event(g, g->summary_kind, NULL, g->summary_source, g->c->reason, detail);
}

/* ---- one target: the rows of every source on it, before and after ---- */

struct row {
	char source[IPB_NAME_MAX];
	int64_t created, expires;
	const char *reason; /* pool */
};

struct rows {
	struct engine *g;
	struct row *v;
	size_t n, cap;
};

static int rows_cb(void *arg, const struct ban *b)
{
	struct rows *rs = arg;
	struct row *r;

	if (ipb_grow(&rs->v, &rs->cap, rs->n + 1, sizeof(*rs->v)))
		return -ENOMEM;
	r = &rs->v[rs->n++];
	snprintf(r->source, sizeof(r->source), "%s", b->source);
	r->created = b->created;
	r->expires = b->expires;
	r->reason = b->reason ? pool_strdup(&rs->g->pool, b->reason) : NULL;
	return 0;
}

static void expiry_detail(int64_t expires, char *buf, size_t len)
{
	char t[32];

	if (expires == IPB_NEVER) {
		snprintf(buf, len, "permanent");
		return;
	}
	ipb_rfc3339(expires, t, sizeof(t));
	snprintf(buf, len, "expires %s", t);
}

/* The journal's part of a plan: the row put or the rows deleted, counts and events. */
static int apply_rows(struct engine *g, const struct target *t, const struct plan_row *rows,
		      size_t n, const bool *del, const struct plan_change *c,
		      const struct plan_req *q, const char *kind)
{
	struct ban b = { .t = *t };
	struct ipb_err e;
	char detail[64];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (!del[i])
			continue;
		if (journal_del_ban(g->j, t, rows[i].source, &e))
			return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
		if (rows[i].expires <= g->c->now)
			continue; /* an expired row awaiting gc: not a ban any more */
		g->removed++;
		if ((r = engine_event(g, kind, t, rows[i].source, rows[i].reason, NULL)))
			return r;
	}
	if (!c->put) {
		g->unchanged += q->expires != 0;
		return 0;
	}
	b.source = c->row.source;
	b.created = c->row.created;
	b.expires = c->row.expires;
	b.reason = c->row.reason;
	if (journal_put_ban(g->j, &b, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	if (c->added)
		g->added++;
	else
		g->updated++; /* a longer (or --replace) expiry, or only a new reason */
	if (!c->expiry_changed || g->summarize) /* no per-target event: skip the detail */
		return 0;
	expiry_detail(b.expires, detail, sizeof(detail));
	return engine_event(g, kind, t, b.source, b.reason, detail);
}

/* The kernel's part of a plan: the element's operation. */
static void apply_element(struct engine *g, const struct target *t, const struct plan_change *c)
{
	switch (c->kop) {
	case PLAN_K_ADD:
		engine_elem_add(g, t, c->k_expires, c->k_source, c->k_reason);
		break;
	case PLAN_K_DEL:
		engine_elem_del(g, t);
		break;
	case PLAN_K_EXTEND:
		engine_elem_extend(g, t, c->k_expires, c->k_source, c->k_reason);
		break;
	case PLAN_K_RETIME:
		engine_elem_retime(g, t, c->k_expires, c->k_source, c->k_reason);
		break;
	case PLAN_K_NONE:
		break;
	}
}

/* A bulk ban into a length the journal has never held (a first import) skips the
 * per-target look-up. Only for bans: withdrawals go through rows they found. */
static bool set_is_empty(struct engine *g, const struct target *t, int64_t newexp,
			 struct ipb_err *e)
{
	unsigned idx = plan_set_index(t->family, t->plen);
	bool has = true;

	if (!newexp)
		return false;
	if (!g->set_rows[idx]) {
		if (journal_set_has_rows(g->j, t->family, t->plen, &has, e))
			has = true; /* fall back to the look-up, which reports the error */
		g->set_rows[idx] = has ? 1 : 2;
	}
	return g->set_rows[idx] == 2;
}

/* The rows of one target, looked up or known, and the request: planned (plan_change),
 * then applied to the journal and queued for the kernel. */
static int change_rows(struct engine *g, const struct target *t, const struct rows *rs,
		       const struct plan_req *q, const char *event_kind)
{
	struct plan_row few[8], *pr = few;
	bool few_del[8], *del = few_del;
	struct plan_change c;
	size_t i;
	int r;

	if (rs->n > 8) {
		pr = malloc(rs->n * sizeof(*pr));
		del = malloc(rs->n * sizeof(*del));
		if (!pr || !del) {
			ipb_error("out of memory");
			r = IPB_EXIT_SYSTEM;
			goto out;
		}
	}
	for (i = 0; i < rs->n; i++)
		pr[i] = (struct plan_row){ rs->v[i].source, rs->v[i].created, rs->v[i].expires,
					   rs->v[i].reason };
	plan_change(pr, rs->n, q, g->c->now, del, &c);
	r = apply_rows(g, t, pr, rs->n, del, &c, q, event_kind);
	if (!r)
		apply_element(g, t, &c);
out:
	if (pr != few)
		free(pr);
	if (del != few_del)
		free(del);
	return r;
}

int engine_change(struct engine *g, const struct target *t, const char *source, int64_t newexp,
		  bool replace, const char *reason, bool all_sources, const char *event_kind)
{
	struct plan_req q = { source, newexp, replace, all_sources, reason };
	struct rows rs = { .g = g };
	struct ipb_err e;
	int r;

	if (!set_is_empty(g, t, newexp, &e) && journal_bans_of_target(g->j, t, rows_cb, &rs, &e)) {
		free(rs.v);
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	}
	r = change_rows(g, t, &rs, &q, event_kind);
	free(rs.v);
	return r;
}

int engine_change_known(struct engine *g, const struct target *t, const char *source,
			int64_t newexp, int64_t have, const char *reason, const char *event_kind)
{
	struct plan_req q = { source, newexp, false, false, reason };
	struct row own = { .expires = have };
	struct rows rs = { .g = g, .v = &own, .n = have ? 1 : 0, .cap = 1 };

	if (!g->summarize || (newexp != 0) == (have != 0)) /* only what it is made for */
		return engine_change(g, t, source, newexp, false, reason, false, event_kind);
	snprintf(own.source, sizeof(own.source), "%s", source);
	return change_rows(g, t, &rs, &q, event_kind);
}

/* ---- building and sending the batch ---- */

static int stop_first(void *arg, const struct ban *b)
{
	(void)b;
	*(bool *)arg = true;
	return 1;
}

static int set_has_live(struct engine *g, unsigned idx, bool *live)
{
	unsigned family = plan_set_family(idx), plen = plan_set_plen(idx);
	struct ipb_err e;
	int r;

	*live = false;
	r = journal_set_elements(g->j, family, plen, g->c->now, stop_first, live, &e);
	if (r < 0)
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	return 0;
}

static bool append_refresh(struct engine *g, unsigned idx)
{
	size_t i;

	for (i = 0; i < g->refresh[idx].n; i++)
		if (!elemvec_push(&g->add[idx], &g->refresh[idx].v[i]))
			return false;
	return true;
}

/* Which sets to create or remove, given what the journal now says. */
static int plan_structure(struct engine *g, bool create[PLAN_NSETS])
{
	unsigned i;
	bool live;
	int r;

	for (i = 0; i < PLAN_NSETS; i++) {
		create[i] = false;
		if (!g->touched[i] && !g->flush[i])
			continue;
		if ((r = set_has_live(g, i, &live)))
			return r;
		if (live && !g->layout.set[i])
			create[i] = true;
		if (!live && (g->layout.set[i] || g->layout.rule[i]) && be_drops_empty_sets(g->n))
			g->drop_set[i] = true;
		/* A set being created or removed holds nothing to delete element by element,
		 * or to extend: a new set gets those elements added. */
		if (!g->layout.set[i] || g->drop_set[i]) {
			g->del[i].n = 0;
			g->flush[i] = false;
			if (!g->drop_set[i] && g->refresh[i].n && !append_refresh(g, i))
				return ipb_error("out of memory"), IPB_EXIT_SYSTEM;
			g->refresh[i].n = 0;
		}
		if (g->drop_set[i])
			g->add[i].n = 0;
	}
	return 0;
}

/* The kernel counts a timeout from when it inserts the element, so it is computed from
 * the expiry just before the elements go into a batch: a long command (a million journal
 * rows, ten kernel transactions) must not push kernel expiries past the journal's. */
static void set_timeouts(struct be_elem *el, size_t count)
{
	int64_t ms = ipb_now_ms();
	size_t i;

	for (i = 0; i < count; i++)
		el[i].timeout_ms = el[i].expires ? plan_timeout_ms(el[i].expires, ms) : 0;
}

/* Maps a kernel error's tag back to the element: tags tag.. of one emitted chunk are
 * elements offset.. of vector v. */
struct tagmap {
	size_t tag, offset, count;
	const struct elemvec *v;
};

struct tags {
	struct tagmap v[4 * PLAN_NSETS]; /* per set: del, del of refresh, add, refresh */
	size_t n, next;
};

enum emit_op { EMIT_ADD, EMIT_DEL, EMIT_REFRESH };

static void emit_elems(struct engine *g, struct tags *tg, struct elemvec *v, enum emit_op op,
		       size_t offset, size_t count)
{
	if (!count)
		return;
	tg->v[tg->n++] = (struct tagmap){ tg->next, offset, count, v };
	if (op != EMIT_DEL)
		set_timeouts(v->v + offset, count);
	if (op == EMIT_ADD)
		be_batch_add_elems(g->n, v->v + offset, count, tg->next);
	else if (op == EMIT_REFRESH)
		be_batch_refresh_elems(g->n, v->v + offset, count, tg->next);
	else
		be_batch_del_elems_any(g->n, v->v + offset, count, tg->next);
	tg->next += count;
}

/* Table, chain, new sets and their rules (and, for init, what must go first). */
static void build_head(struct engine *g, const bool create[PLAN_NSETS])
{
	struct backend *n = g->n;
	unsigned i;

	be_batch_begin(n);
	if (g->flush_chain)
		be_batch_flush_chain(n);
	if (g->recreate_chain)
		be_batch_del_chain(n);
	if (g->replace_table)
		be_batch_del_table(n, g->replace_table);
	if (!g->layout.table)
		be_batch_add_table(n);
	if (!g->layout.chain)
		be_batch_add_chain(n, g->c->cfg.hook, g->c->cfg.priority);
	for (i = 0; i < PLAN_NSETS; i++) {
		unsigned fam = plan_set_family(i), plen = plan_set_plen(i);

		if (create[i])
			be_batch_add_set(n, fam, plen, 0);
		if ((create[i] || (g->layout.set[i] && !g->layout.rule[i])) && !g->drop_set[i])
			be_batch_add_rule(n, fam, plen, g->c->cfg.verdict);
	}
}

/* Sets that lost their last live ban go last, with their rules. */
static void build_tail(struct engine *g, const bool create[PLAN_NSETS])
{
	unsigned i;

	for (i = 0; i < PLAN_NSETS; i++) {
		unsigned fam = plan_set_family(i), plen = plan_set_plen(i);

		if (g->drop_set[i] && g->layout.rule[i])
			be_batch_del_rule(g->n, g->layout.rule_handle[i]);
		if (g->drop_set[i] && g->layout.set[i])
			be_batch_del_set(g->n, fam, plen);
		/* a set's rule that build_head put back is a change too */
		if (create[i] || g->drop_set[i] || (g->layout.set[i] && !g->layout.rule[i]))
			g->structure_changed = true;
	}
}

/* refresh: the kernel updates an element's expiry when it is added again (see
 * engine_elem_extend); otherwise those elements are deleted and added. */
static void build_batch(struct engine *g, const bool create[PLAN_NSETS], bool refresh,
			struct tags *tg)
{
	unsigned i;

	build_head(g, create);
	for (i = 0; i < PLAN_NSETS; i++) {
		unsigned fam = plan_set_family(i), plen = plan_set_plen(i);

		if (g->flush[i])
			be_batch_flush_set(g->n, fam, plen);
		emit_elems(g, tg, &g->del[i], EMIT_DEL, 0, g->del[i].n);
		if (!refresh)
			emit_elems(g, tg, &g->refresh[i], EMIT_DEL, 0, g->refresh[i].n);
		emit_elems(g, tg, &g->add[i], EMIT_ADD, 0, g->add[i].n);
		emit_elems(g, tg, &g->refresh[i], refresh ? EMIT_REFRESH : EMIT_ADD, 0,
			   g->refresh[i].n);
	}
	build_tail(g, create);
}

static void report_kernel_error(const struct tags *tg, size_t bad_tag,
				const struct ipb_err *e)
{
	char buf[TARGET_STRLEN];
	size_t k;

	for (k = 0; bad_tag != SIZE_MAX && k < tg->n; k++) {
		const struct tagmap *m = &tg->v[k];
		const struct elemvec *v = m->v;

		if (bad_tag >= m->tag && bad_tag - m->tag < m->count) {
			ipb_error("kernel refused %s: %s; nothing changed",
				  target_format(&v->v[m->offset + bad_tag - m->tag].t, buf, sizeof(buf)),
				  e->msg);
			return;
		}
	}
	ipb_error("kernel refused the change: %s; nothing changed", e->msg);
}

/* ---- a huge load in several kernel transactions ----
 *
 * The kernel's hash set cannot grow inside one transaction, so a million new elements
 * load about twice as fast in transactions of 100k. Only a batch that adds and nothing
 * else is split; it stays inside the one journal transaction, and a refusal part-way
 * undoes the transactions already committed (a crash part-way is repaired by
 * reconcile, as always). */

static size_t tx_limit(const struct engine *g)
{
	return g->c->cfg.tuning.batch_elements;
}

/* Whether a batch may be split: it only adds (and makes what it adds to). */
static bool split_allowed(const struct engine *g)
{
	unsigned i;

	if (g->flush_chain || g->recreate_chain || g->replace_table ||
	    (g->layout.table && !g->layout.chain) || !be_can_split(g->n))
		return false;
	for (i = 0; i < PLAN_NSETS; i++)
		if (g->flush[i] || g->drop_set[i] || g->del[i].n ||
		    g->refresh[i].n)
			return false;
	return true;
}

static bool can_split(const struct engine *g, size_t limit)
{
	size_t total = 0;
	unsigned i;

	for (i = 0; i < PLAN_NSETS; i++)
		total += g->add[i].n;
	return total > limit && split_allowed(g);
}

/* Emit the adds numbered [from, from + limit) in set order; returns how many. sizes[i]
 * is how many adds set i has (NULL: g->add[i].n). */
static size_t emit_slice(struct engine *g, struct tags *tg, size_t from, size_t limit,
			 const size_t *sizes)
{
	size_t pos = 0, done = 0, lo, cnt;
	unsigned i;

	for (i = 0; i < PLAN_NSETS && done < limit; i++) {
		size_t n = sizes ? sizes[i] : g->add[i].n;

		if (from < pos + n) {
			lo = from > pos ? from - pos : 0;
			cnt = n - lo < limit - done ? n - lo : limit - done;
			emit_elems(g, tg, &g->add[i], EMIT_ADD, lo, cnt);
			done += cnt;
			from += cnt;
		}
		pos += n;
	}
	return done;
}

/* A first import's targets: the journal reads its rows straight from the list, while
 * the kernel thread copies them into its element vectors. */
struct new_rows {
	const struct target_list *l;
	size_t count[PLAN_NSETS]; /* targets per set */
	int64_t expires;
	int64_t *jittered;	  /* with --jitter: each target's own expiry */
	const char *comment;
	size_t chunk;		  /* > 0: the kernel's elements are made this many at a time */
};

/* The element vectors were sized for nr by the other thread; this one fills them with
 * targets [from, from + count), skipping the sets in skip (if any), so the 48 bytes per
 * target that only the kernel needs are written off the journal's path. */
static void make_elems(struct engine *g, const struct new_rows *nr, size_t from, size_t count,
		       const bool *skip)
{
	const struct target_list *l = nr->l;
	struct be_elem el = { .comment = nr->comment, .expires = nr->expires };
	struct elemvec *v;
	unsigned idx;
	size_t k;

	for (idx = 0; idx < PLAN_NSETS; idx++)
		g->add[idx].n = 0;
	for (k = from; k < from + count; k++) {
		el.t = l->v[k];
		idx = plan_set_index(el.t.family, el.t.plen);
		if (skip && skip[idx])
			continue;
		if (nr->jittered)
			el.expires = nr->jittered[k];
		v = &g->add[idx];
		v->v[v->n++] = el;
	}
}

/* undo_split's elements for a first import sent chunk by chunk: the first `sent` targets
 * made again, a chunk at a time, and queued for deletion from the sets that existed
 * before (the new sets go whole). */
static void undo_chunks(struct engine *g, const bool create[PLAN_NSETS],
			const struct new_rows *nr, size_t sent)
{
	size_t k, n;
	unsigned i;

	for (k = 0; k < sent; k += n) {
		n = sent - k < nr->chunk ? sent - k : nr->chunk;
		make_elems(g, nr, k, n, create);
		for (i = 0; i < PLAN_NSETS; i++)
			if (g->add[i].n)
				be_batch_del_elems_any(g->n, g->add[i].v, g->add[i].n, 0);
	}
}

/* Take back the first `sent` adds: the whole table when this command created it,
 * otherwise the new sets (with their rules) and the elements added to the others.
 * nr: a first import sent chunk by chunk, whose first `sent` targets are made again. */
static void undo_split(struct engine *g, const bool create[PLAN_NSETS], size_t sent,
		       const struct new_rows *nr)
{
	struct be_layout now;
	struct ipb_err e;
	size_t pos = 0, bad;
	unsigned i;

	if (g->layout.table && be_get_layout(g->n, &now, &e)) {
		ipb_error("could not take back the part already applied (%s): run 'ipbanset reconcile'",
			  e.msg);
		return;
	}
	be_batch_begin(g->n);
	if (!g->layout.table) {
		be_batch_del_table(g->n, 0);
	} else {
		for (i = 0; i < PLAN_NSETS; i++) {
			if (!create[i])
				continue;
			if (now.rule[i])
				be_batch_del_rule(g->n, now.rule_handle[i]);
			if (now.set[i])
				be_batch_del_set(g->n, plan_set_family(i), plan_set_plen(i));
		}
		if (nr)
			undo_chunks(g, create, nr, sent);
		for (i = 0; i < PLAN_NSETS && !nr; i++) {
			size_t n = g->add[i].n, cnt = sent > pos ? (sent - pos < n ? sent - pos : n) : 0;

			if (!create[i] && cnt)
				be_batch_del_elems_any(g->n, g->add[i].v, cnt, 0);
			pos += n;
		}
	}
	if (be_batch_commit(g->n, &bad, &e))
		ipb_error("could not take back the part already applied (%s): run 'ipbanset reconcile'",
			  e.msg);
}

/* Transactions of `limit` adds each. nr: a first import (nftables), whose elements are
 * made one transaction's worth at a time, in target order, into vectors that each
 * transaction reuses. Whole, the kernel's copy of 1M targets is 48 MB of memory that only
 * page faults make (0.2-0.4 s on the benchmark's VM); reused, 100k targets' worth is
 * faulted in once. */
static int commit_split(struct engine *g, const bool create[PLAN_NSETS], size_t limit,
			const struct new_rows *nr, unsigned *ntx)
{
	struct tags tg = { .n = 0 };
	size_t from = 0, n, bad = SIZE_MAX;
	struct ipb_err e;

	build_head(g, create);
	for (;;) {
		if (nr) {
			n = nr->l->n - from < limit ? nr->l->n - from : limit;
			make_elems(g, nr, from, n, NULL);
			emit_slice(g, &tg, 0, n, NULL);
		} else {
			n = emit_slice(g, &tg, from, limit, NULL);
		}
		if (!n && from)
			break;
		if (be_batch_commit(g->n, &bad, &e)) {
			report_kernel_error(&tg, bad, &e);
			if (from)
				undo_split(g, create, from, nr);
			return IPB_EXIT_SYSTEM;
		}
		(*ntx)++;
		from += n;
		tg.n = 0;
		be_batch_begin(g->n);
	}
	be_batch_abort(g->n);
	build_tail(g, create); /* nothing to remove in a batch that only adds */
	return 0;
}

/* Record the generation status may trust: only when the ruleset holds exactly what the
 * journal says, i.e. nobody changed it since our last trusted commit (or this command
 * made it exact). Otherwise forget it, so status compares elements until a reconcile. */
static int record_generation(struct engine *g, unsigned ntx)
{
	bool trusted = g->authoritative, found = false, same = false;
	int64_t stored = -1, value = -1, table = -1;
	uint64_t handle = g->layout.table_handle;
	struct ipb_err e;
	uint32_t genid;

	if (!ntx && !g->authoritative)
		return 0;
	/* a generation beyond ours: another program committed while this command ran, and
	 * what it changed may not be what this command saw (reconcile trusts the record) */
	if (be_get_genid(g->n, &genid, &e) || !g->have_genid_before || genid != g->genid_before + ntx)
		trusted = false;
	else if (!trusted && !journal_meta_get(g->j, "genid", &stored, &found, &e) && found &&
		 !journal_meta_get(g->j, "genid_table", &table, &same, &e))
		trusted = same && (uint64_t)table == handle && stored == g->genid_before;
	/* the generation counts every table's commits: status trusts it only for the table
	 * whose handle is recorded with it (a table made by this command has a new one) */
	if (trusted && (g->table_was_missing || g->replace_table) &&
	    be_get_table_handle(g->n, &handle, &e))
		trusted = false;
	if (trusted)
		value = genid;
	if (journal_meta_set(g->j, "genid", value, &e) ||
	    journal_meta_set(g->j, "genid_table", trusted ? (int64_t)handle : -1, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	/* the clocks as they were when the kernel was last made exact, not at a later
	 * commit that only trusted the record (it would hide a step in between) */
	if (g->authoritative && !g->trusted_record &&
	    journal_meta_set(g->j, "genid_clock_skew_ms", ipb_clock_skew_ms(), &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	return 0;
}

/* The kernel counts an element's timeout down on its own clock and the journal keeps
 * expiries in wall-clock time: once the wall clock was stepped (or the machine slept)
 * they disagree, and the kernel may hold bans the journal let go, or have dropped live
 * ones. Beyond this, reconcile compares the sets. */
#define CLOCK_SKEW_SLACK_MS 2000

bool engine_generation_trusted(struct journal *j, uint32_t genid, uint64_t table_handle,
			       bool *clock_moved)
{
	int64_t recorded, table, skew;
	bool found, same, clock;
	struct ipb_err e;

	*clock_moved = false;
	if (journal_meta_get(j, "genid", &recorded, &found, &e) || !found || recorded < 0 ||
	    journal_meta_get(j, "genid_table", &table, &same, &e) || !same || table < 0 ||
	    journal_meta_get(j, "genid_clock_skew_ms", &skew, &clock, &e) || !clock)
		return false;
	if ((uint32_t)recorded != genid || (uint64_t)table != table_handle)
		return false;
	*clock_moved = llabs(ipb_clock_skew_ms() - skew) > CLOCK_SKEW_SLACK_MS;
	return !*clock_moved;
}

bool engine_kernel_as_left(struct engine *g)
{
	bool moved;

	if (!g->have_genid_before || !g->layout.table || g->replace_table)
		return false;
	if (engine_generation_trusted(g->j, g->genid_before, g->layout.table_handle, &moved))
		return true;
	if (moved)
		ipb_verbose(g->c, "the clock moved against the kernel's since ipbanset's last commit: "
				  "the sets are compared");
	return false;
}

static int restore_cb(void *arg, const struct ban *b)
{
	struct engine *g = arg;
	unsigned idx = plan_set_index(b->t.family, b->t.plen);

	queue(g, &g->add[idx], &b->t, b->expires, engine_comment(g, b->source, b->reason));
	return 0;
}

int engine_restore_set(struct engine *g, unsigned idx, struct ipb_err *e)
{
	unsigned family = plan_set_family(idx), plen = plan_set_plen(idx);

	return journal_set_elements(g->j, family, plen, g->c->now, restore_cb, g, e);
}

static int target_order(const void *a, const void *b)
{
	return target_cmp(a, b);
}

/* The elements this command adds for bans that were not live before it: its additions,
 * less those that replace an element it deletes (a retime). */
static int own_new_elems(const struct engine *g, uint64_t *own)
{
	struct target *del = NULL;
	size_t i, k, cap = 0;
	unsigned idx;

	*own = 0;
	for (idx = 0; idx < PLAN_NSETS; idx++) {
		const struct elemvec *a = &g->add[idx], *d = &g->del[idx];

		if (d->n && ipb_grow(&del, &cap, d->n, sizeof(*del))) {
			free(del);
			return ipb_error("out of memory"), IPB_EXIT_SYSTEM;
		}
		for (k = 0; k < d->n; k++)
			del[k] = d->v[k].t;
		if (d->n)
			qsort(del, d->n, sizeof(*del), target_order);
		for (i = 0; i < a->n; i++)
			*own += !d->n || !bsearch(&a->v[i].t, del, d->n, sizeof(*del), target_order);
	}
	free(del);
	return 0;
}

/* The table is gone (a firewall reload, nft flush ruleset): rather than enforce only this
 * command's bans, load every live ban of the journal, which already holds this command's
 * changes, into the new table in the same batch. */
static int restore_missing_table(struct engine *g)
{
	uint64_t counts[PLAN_NSETS], total = 0, own;
	struct ipb_err e;
	unsigned i;
	int r;

	if (journal_set_rows(g->j, g->c->now, counts, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	if ((r = own_new_elems(g, &own)))
		return r;
	for (i = 0; i < PLAN_NSETS; i++) {
		g->add[i].n = g->del[i].n = g->refresh[i].n = 0;
		if (!counts[i])
			continue;
		if (engine_restore_set(g, i, &e))
			return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
		total += g->add[i].n;
	}
	g->authoritative = true; /* the new table holds exactly the journal */
	g->note_restore = true;
	g->restored_by_repair = total > own ? total - own : 0;
	return 0;
}

/* Told only once it is true: after the journal committed, or as what a dry run would do. */
static void note_restore(const struct engine *g)
{
	char what[IPB_NAME_MAX + 32];
	uint64_t n = g->restored_by_repair;

	if (!g->note_restore)
		return;
	be_objects(&g->c->cfg, what, sizeof(what));
	if (!n)
		ipb_info(g->c, "%s %s", what,
			 g->c->dry_run ? "is missing: would create it" : "was missing: created it");
	else
		ipb_info(g->c, "%s %s missing: %s it and %s the journal's %llu other live ban%s", what,
			 g->c->dry_run ? "is" : "was", g->c->dry_run ? "would create" : "created",
			 g->c->dry_run ? "would restore" : "restored", (unsigned long long)n, n == 1 ? "" : "s");
}

/* ---- extending elements in place ----
 *
 * A kernel from 6.12 on sets an existing element's timeout and expiry when it is added
 * again; older ones keep the old expiry and report success. Extending a million bans
 * by a delete and an add each sends twice the messages and takes the kernel twice as
 * long, so from IPBANSET_REFRESH_MIN extensions on (default 1000; 0 = never) the
 * command asks the kernel first, with a throwaway table. */

static bool use_refresh(struct engine *g, unsigned *ntx)
{
	size_t total = 0, min = g->c->cfg.tuning.refresh_min;
	struct ipb_err left;
	unsigned i;
	bool ok;

	for (i = 0; i < PLAN_NSETS; i++)
		total += g->refresh[i].n;
	if (!min || total < min)
		return false;
	ok = be_probe_refresh(g->n, ntx, &left);
	if (left.msg[0])
		ipb_info(g->c, "warning: could not delete the probe table: %s", left.msg);
	ipb_verbose(g->c, "the kernel %s an element's timeout in place: %zu extension%s sent as %s",
		  ok ? "updates" : "does not update", total, total == 1 ? "" : "s",
		  ok ? "adds" : "a delete and an add");
	return ok;
}

/* Send the whole change: in several transactions when it is a huge load, else in one.
 * A refusal has been reported, and any part already applied taken back. */
static int kernel_apply(struct engine *g, const bool create[PLAN_NSETS], unsigned *ntx)
{
	struct tags tg = { .n = 0 };
	size_t bad_tag = SIZE_MAX, limit = tx_limit(g);
	struct ipb_err e;
	bool refresh;

	if (can_split(g, limit))
		return commit_split(g, create, limit, NULL, ntx);
	refresh = use_refresh(g, ntx);
	build_batch(g, create, refresh, &tg);
	ipb_phase(g->c, "batch built");
	*ntx += be_batch_size(g->n) > 0;
	if (be_batch_commit(g->n, &bad_tag, &e)) {
		report_kernel_error(&tg, bad_tag, &e);
		return IPB_EXIT_SYSTEM;
	}
	return 0;
}

/* The kernel holds the change: record its generation and commit. */
static int commit_journal(struct engine *g, unsigned ntx)
{
	struct ipb_err e;
	int r;

	if ((r = record_generation(g, ntx)))
		return r;
	if (journal_commit(g->j, &e)) {
		ipb_error("%s; the kernel was changed but the journal was not: run 'ipbanset reconcile'",
			  e.msg);
		return IPB_EXIT_SYSTEM;
	}
	g->began = false;
	ipb_phase(g->c, "journal committed");
	return 0;
}

static int stream_finish(struct engine *g);

int engine_finish(struct engine *g)
{
	bool create[PLAN_NSETS];
	struct ipb_err e;
	unsigned ntx = 0;
	int r;

	r = IPB_EXIT_SYSTEM;
	if (g->failed) /* a change could not be queued: nothing is sent or committed */
		goto out;
	if (g->stream) {
		r = stream_finish(g);
		goto out;
	}
	if (g->table_was_missing && !g->authoritative && (r = restore_missing_table(g)))
		goto out;
	if ((r = plan_structure(g, create)))
		goto out;
	if (g->failed) {
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	if ((r = write_summary(g)))
		goto out;
	if (g->c->dry_run) {
		journal_rollback(g->j);
		g->began = false;
		note_restore(g);
		goto out;
	}
	if (journal_flush(g->j, &e)) { /* every journal write before the kernel's */
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
		goto out;
	}
	ipb_phase(g->c, "journal written");
	if ((r = kernel_apply(g, create, &ntx)))
		goto out;
	ipb_phase(g->c, "kernel acked");
	if (!(r = commit_journal(g, ntx)))
		note_restore(g);
out:
	engine_abort(g);
	return r;
}

void engine_report_keys(const struct engine *g)
{
	bool changed = g->added || g->removed || g->updated || g->k_added || g->k_removed ||
		       g->k_retimed || g->structure_changed;

	printf("\"changed\": %s, \"added\": %llu, \"removed\": %llu, \"updated\": %llu, "
	       "\"unchanged\": %llu, \"dry_run\": %s, \"kernel\": {\"added\": %llu, "
	       "\"removed\": %llu, \"retimed\": %llu}",
	       changed ? "true" : "false", (unsigned long long)g->added,
	       (unsigned long long)g->removed, (unsigned long long)g->updated,
	       (unsigned long long)g->unchanged, g->c->dry_run ? "true" : "false",
	       (unsigned long long)g->k_added, (unsigned long long)g->k_removed,
	       (unsigned long long)g->k_retimed);
}

void engine_report(const struct engine *g, const char *verb)
{
	const struct ctx *c = g->c;

	if (c->json) {
		putchar('{');
		engine_report_keys(g);
		printf("}\n");
		return;
	}
	if (c->quiet)
		return;
	printf("%s%s: %llu added, %llu removed, %llu updated, %llu unchanged\n",
	       c->dry_run ? "dry run (nothing changed): " : "", verb, (unsigned long long)g->added,
	       (unsigned long long)g->removed, (unsigned long long)g->updated,
	       (unsigned long long)g->unchanged);
}

/* ---- a first import: journal and kernel side by side ---- */

/* Every target is new to the journal, and its set is one the journal has never held:
 * no look-ups, no other source's rows to weigh. A missing table is fine only when the
 * journal is empty, since then this command's bans are all it must restore. */
static bool ban_new_applies(struct engine *g, const struct target_list *l)
{
	unsigned idx, last = PLAN_NSETS;
	struct ipb_err e;
	bool empty;
	size_t i;

	/* the kernel thread sends its own transactions (nftables) or its one swap-based
	 * batch (ipset), and a journal failure takes them back (undo_split) */
	if (!g->summarize || g->c->dry_run)
		return false;
	if (!g->layout.table &&
	    (journal_is_empty(g->j, &empty, &e) || !empty))
		return false;
	if (g->layout.table && !g->layout.chain)
		return false;
	for (i = 0; i < l->n; i++) {
		idx = plan_set_index(l->v[i].family, l->v[i].plen);
		if (idx != last && !set_is_empty(g, &l->v[i], IPB_NEVER, &e))
			return false;
		last = idx;
	}
	return true;
}

static const struct target *new_row(void *arg, size_t i, int64_t *expires)
{
	const struct new_rows *nr = arg;

	*expires = nr->jittered ? nr->jittered[i] : nr->expires;
	return &nr->l->v[i];
}

/* In target order (family, network, prefix length): within each set that is the
 * primary key's order, and the sets of a mixed list are few places to append to. */
static int journal_write_new(struct engine *g, const struct new_rows *nr, const char *source,
			     const char *reason)
{
	struct ipb_err e;
	int r;

	if (journal_insert_bans(g->j, source, g->c->now, reason, nr->l->n, new_row, (void *)nr,
				&e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	if ((r = write_summary(g)))
		return r;
	ipb_phase(g->c, "journal rows inserted");
	/* the disk writes overlap the kernel's work too, not only the inserts */
	if (journal_write_ahead(g->j, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	return 0;
}

struct kernel_job {
	struct engine *g;
	const bool *create;
	const struct new_rows *nr; /* the elements to make first */
	unsigned ntx;
	int r;
};

static void *kernel_job_run(void *arg)
{
	struct kernel_job *k = arg;

	if (k->nr->chunk) {
		ipb_verbose(k->g->c, "first import: %zu kernel transactions of up to %zu targets, "
			    "each made just before it is sent",
			    (k->nr->l->n + k->nr->chunk - 1) / k->nr->chunk, k->nr->chunk);
		k->r = commit_split(k->g, k->create, k->nr->chunk, k->nr, &k->ntx);
	} else {
		make_elems(k->g, k->nr, 0, k->nr->l->n, NULL);
		ipb_phase(k->g->c, "elements made (second thread)");
		k->r = kernel_apply(k->g, k->create, &k->ntx);
	}
	if (!k->r)
		ipb_phase(k->g->c, "kernel acked (second thread)");
	return NULL;
}

/* The kernel thread owns g->n and the element vectors; this thread owns the journal.
 * The journal still commits only after the kernel acked everything, and a journal
 * error takes back what the kernel applied. */
static int apply_side_by_side(struct engine *g, const bool create[PLAN_NSETS],
			      const struct new_rows *nr, const char *source, const char *reason)
{
	struct kernel_job k = { .g = g, .create = create, .nr = nr };
	pthread_t th;
	bool threaded;
	int rj;

	threaded = pthread_create(&th, NULL, kernel_job_run, &k) == 0;
	if (!threaded)
		kernel_job_run(&k);
	rj = journal_write_new(g, nr, source, reason);
	ipb_phase(g->c, "journal written ahead");
	if (threaded)
		pthread_join(th, NULL);
	if (k.r)
		return k.r;
	if (rj) {
		undo_split(g, create, nr->l->n, nr->chunk ? nr : NULL);
		return rj;
	}
	return commit_journal(g, k.ntx);
}

bool engine_ban_new_applies(struct engine *g, const struct target_list *l)
{
	return ban_new_applies(g, l);
}

int engine_ban_new(struct engine *g, const struct target_list *l, const char *source,
		   const char *reason, int64_t timeout, bool *done)
{
	struct new_rows nr = { .l = l };
	bool create[PLAN_NSETS];
	unsigned i;
	size_t k;
	int r;

	*done = false;
	if (!ban_new_applies(g, l))
		return 0;
	*done = true;
	nr.expires = duration_expiry(g->c->now, timeout, 0);
	nr.comment = engine_comment(g, source, reason);
	r = IPB_EXIT_SYSTEM;
	if (g->c->jitter > 0 && nr.expires != IPB_NEVER) { /* drawn here, for both threads */
		if (l->n > SIZE_MAX / sizeof(*nr.jittered) ||
		    !(nr.jittered = malloc(l->n * sizeof(*nr.jittered))))
			goto oom;
		for (k = 0; k < l->n; k++)
			nr.jittered[k] = duration_expiry(g->c->now, timeout, g->c->jitter);
	}
	for (k = 0; k < l->n; k++)
		nr.count[plan_set_index(l->v[k].family, l->v[k].plen)]++;
	if (l->n > tx_limit(g) && split_allowed(g))
		nr.chunk = tx_limit(g);
	/* reserved here, written by the kernel thread: reserving touches no page */
	for (i = 0; i < PLAN_NSETS; i++) {
		size_t want = nr.chunk && nr.chunk < nr.count[i] ? nr.chunk : nr.count[i];

		if (want && ipb_grow(&g->add[i].v, &g->add[i].cap, want, sizeof(*g->add[i].v)))
			goto oom;
	}
	g->added = g->k_added = l->n;
	g->authoritative |= !g->layout.table; /* the new table will hold exactly the journal */
	for (i = 0; i < PLAN_NSETS; i++) {
		g->touched[i] = nr.count[i] > 0;
		create[i] = g->touched[i] && !g->layout.set[i];
	}
	r = apply_side_by_side(g, create, &nr, source, reason);
out:
	free(nr.jittered);
	engine_abort(g);
	return r;
oom:
	ipb_error("out of memory");
	goto out;
}

/* ---- a restore into a missing table: read and sent side by side ----
 *
 * The reader (this thread) appends to vectors sized in advance, so they never move, and
 * publishes under the lock how far each set got; the sender takes a transaction's worth
 * of published elements at a time. Only a missing table qualifies: every set is new, so
 * the batch only adds and taking it back means deleting the table. */

struct stream {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool create[PLAN_NSETS];
	size_t pub_n[PLAN_NSETS]; /* published size of each add vector */
	size_t ready;		  /* published elements, all sets */
	size_t sent;		  /* elements the kernel committed */
	size_t total;		  /* elements queued, this thread only */
	bool done, failed;	  /* set by the reader */
	int r;			  /* the sender's result */
	unsigned ntx;
};

#define STREAM_PUBLISH 4096 /* elements between two publications */

/* Every set's size, so that the sender numbers the elements as emit_slice does. */
static void stream_publish(struct engine *g, bool done, bool failed)
{
	struct stream *st = g->stream;
	unsigned i;

	pthread_mutex_lock(&st->mu);
	for (i = 0; i < PLAN_NSETS; i++)
		st->pub_n[i] = g->add[i].n;
	st->ready = st->total;
	st->done |= done;
	st->failed |= failed;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

static void stream_push(struct engine *g)
{
	if (++g->stream->total % STREAM_PUBLISH == 0)
		stream_publish(g, false, false);
}

/* The sender's next slice: waits for a transaction's worth, or for the end. */
static size_t stream_wait(struct stream *st, size_t from, size_t limit, size_t sizes[PLAN_NSETS],
			  bool *done, bool *failed)
{
	size_t avail;

	pthread_mutex_lock(&st->mu);
	while (!st->done && st->ready - from < limit)
		pthread_cond_wait(&st->cv, &st->mu);
	avail = st->ready - from;
	*done = st->done;
	*failed = st->failed;
	memcpy(sizes, st->pub_n, sizeof(st->pub_n));
	pthread_mutex_unlock(&st->mu);
	return avail < limit ? avail : limit;
}

static size_t sizes_total(const size_t sizes[PLAN_NSETS])
{
	size_t t = 0;
	unsigned i;

	for (i = 0; i < PLAN_NSETS; i++)
		t += sizes[i];
	return t;
}

static void *stream_run(void *arg)
{
	struct engine *g = arg;
	struct stream *st = g->stream;
	size_t from = 0, n, want, limit = tx_limit(g), bad = SIZE_MAX, sizes[PLAN_NSETS];
	struct tags tg = { .n = 0 };
	struct ipb_err e;
	bool done, failed;

	build_head(g, st->create);
	for (;;) {
		want = stream_wait(st, from, limit, sizes, &done, &failed);
		if (failed)
			break;
		n = emit_slice(g, &tg, from, want, sizes);
		if (!n && (from || !done)) {
			if (done)
				break;
			continue;
		}
		if (be_batch_commit(g->n, &bad, &e)) {
			report_kernel_error(&tg, bad, &e);
			st->r = IPB_EXIT_SYSTEM;
			return NULL; /* the reader's side takes back what was sent */
		}
		st->ntx++;
		st->sent = from += n;
		tg.n = 0;
		if (done && from == sizes_total(sizes))
			break;
		be_batch_begin(g->n);
	}
	be_batch_abort(g->n);
	return NULL;
}

void engine_stream_start(struct engine *g, const uint64_t rows[PLAN_NSETS])
{
	struct stream *st;
	uint64_t total = 0;
	unsigned i;

	for (i = 0; i < PLAN_NSETS; i++)
		total += rows[i];
	/* nftables only (several transactions, taken back by deleting the table): the ipset
	 * backend restores its sets in one swap-based batch in engine_finish */
	if (!be_can_split(g->n) || g->layout.table || g->replace_table || g->c->dry_run ||
	    total <= tx_limit(g) || total > SIZE_MAX / 2)
		return;
	st = calloc(1, sizeof(*st));
	if (!st)
		return;
	for (i = 0; i < PLAN_NSETS; i++) {
		st->create[i] = rows[i] > 0;
		if (rows[i] && ipb_grow(&g->add[i].v, &g->add[i].cap, (size_t)rows[i],
					sizeof(*g->add[i].v)))
			goto fail;
	}
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	g->stream = st;
	if (pthread_create(&st->thread, NULL, stream_run, g) == 0)
		return;
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
	g->stream = NULL;
fail:
	free(st);
}

/* Publish the end (every set's final size), wait for the sender. */
static void stream_join(struct engine *g, bool failed)
{
	struct stream *st = g->stream;

	stream_publish(g, true, failed);
	pthread_join(st->thread, NULL);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv);
}

/* The command failed, or the kernel did: delete the table this restore created. */
static void stream_undo(struct engine *g, const struct stream *st)
{
	bool create[PLAN_NSETS] = { false };

	if (st->ntx)
		undo_split(g, create, st->sent, NULL);
}

static void stream_stop(struct engine *g)
{
	struct stream *st = g->stream;

	stream_join(g, true);
	g->stream = NULL;
	stream_undo(g, st);
	free(st);
}

static int stream_finish(struct engine *g)
{
	struct stream *st = g->stream;
	unsigned i;
	int r;

	ipb_phase(g->c, "journal read");
	stream_join(g, false);
	g->stream = NULL;
	if ((r = st->r)) {
		stream_undo(g, st);
	} else {
		ipb_phase(g->c, "kernel acked");
		for (i = 0; i < PLAN_NSETS; i++)
			g->structure_changed |= st->create[i];
		r = commit_journal(g, st->ntx);
	}
	free(st);
	return r;
}
