// SPDX-License-Identifier: GPL-2.0-only
/* query, list, log: read-only views of the journal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "ipbanset.h"

/* "in 4m12s", "permanent", "expired" */
static char *when(int64_t expires, int64_t now, char *buf, size_t len)
{
	char d[32];

	if (expires == IPB_NEVER)
		snprintf(buf, len, "permanent");
	else if (expires <= now)
		snprintf(buf, len, "expired");
	else
		snprintf(buf, len, "in %s", duration_format(expires - now, d, sizeof(d)));
	return buf;
}

static void json_ban(struct strbuf *sb, const struct ban *b)
{
	char t[TARGET_STRLEN], ts[32];

	sb_printf(sb, "{\"target\": ");
	sb_json_str(sb, target_format(&b->t, t, sizeof(t)));
	sb_printf(sb, ", \"source\": ");
	sb_json_str(sb, b->source);
	if (b->expires == IPB_NEVER) {
		sb_printf(sb, ", \"expires\": null");
	} else {
		ipb_rfc3339(b->expires, ts, sizeof(ts));
		sb_printf(sb, ", \"expires\": \"%s\"", ts);
	}
	sb_printf(sb, ", \"reason\": ");
	sb_json_str(sb, b->reason);
	ipb_rfc3339(b->created, ts, sizeof(ts));
	sb_printf(sb, ", \"created\": \"%s\"}", ts);
}

/* One ban as a text row (target, source, expiry, reason): measured, or appended. */
static void text_ban(struct cols *k, struct strbuf *sb, const char *indent, int64_t now,
		     const struct ban *b)
{
	char t[TARGET_STRLEN], w[48], r[512];
	const char *cell[3] = { target_format(&b->t, t, sizeof(t)), b->source,
				when(b->expires, now, w, sizeof(w)) };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (k->measure)
			cols_fit(k, i, cell[i]);
		else if (!i)
			sb_printf(sb, "%s", indent);
		if (!k->measure)
			cols_cell(k, sb, i, cell[i]);
	}
	if (!k->measure) {
		sb_printf(sb, "%s", ipb_escape(b->reason, r, sizeof(r)));
		cols_end(sb);
	}
}

/* Prints and empties sb (text rows are written as they are made). */
static void sb_flush(struct strbuf *sb)
{
	if (sb->len)
		fwrite(sb->buf, 1, sb->len, stdout);
	sb->len = 0;
}

/* ---- query ---- */

struct query_state {
	const struct ctx *c;
	struct strbuf sb;
	struct cols k;
	size_t hits;
};

static int query_cb(void *arg, const struct ban *b)
{
	struct query_state *q = arg;

	if (b->expires <= q->c->now)
		return 0;
	if (q->c->json) {
		sb_printf(&q->sb, q->hits ? ", " : "");
		json_ban(&q->sb, b);
	} else if (!q->c->quiet) {
		text_ban(&q->k, &q->sb, "  ", q->c->now, b);
	}
	q->hits++;
	return 0;
}

/* Every ban that wholly contains t: one indexed look-up per shorter prefix. */
static int query_covering(struct journal *j, const struct target *t, struct query_state *q,
			  struct ipb_err *e)
{
	struct target p;
	unsigned len;

	for (len = 0; len <= t->plen; len++) {
		p = *t;
		target_truncate(&p, len);
		if (journal_bans_of_target(j, &p, query_cb, q, e))
			return -1;
	}
	return 0;
}

/* ---- a prefix may also be covered wholly by several longer bans together ---- */

typedef unsigned __int128 u128;

struct span {
	u128 lo, hi;
};

#define INNER_SHOWN 100 /* bans inside a prefix named in an answer; the rest are counted */

struct inner {
	struct span *v;
	size_t n, cap, shown;
	bool again;	  /* the text's second pass: rendering only */
	bool covers;	  /* together they cover the prefix */
	struct strbuf sb; /* the first INNER_SHOWN of them, rendered */
	struct cols k;
	const struct ctx *c;
};

static struct span target_span(const struct target *t)
{
	unsigned full = target_addrlen(t) * 8, i;
	struct span s = { 0, 0 };

	for (i = 0; i < target_addrlen(t); i++)
		s.lo = (s.lo << 8) | t->addr[i];
	s.hi = s.lo;
	if (t->plen < full)
		s.hi |= (((u128)1 << (full - t->plen)) - 1);
	return s;
}

static int inner_cb(void *arg, const struct ban *b)
{
	struct inner *in = arg;

	if (!in->again) {
		if (ipb_grow(&in->v, &in->cap, in->n + 1, sizeof(*in->v)))
			return -ENOMEM;
		in->v[in->n++] = target_span(&b->t);
	}
	if (in->shown == INNER_SHOWN)
		return in->again; /* the second pass stops here: its rows are all shown */
	if (in->c->json) {
		sb_printf(&in->sb, in->shown ? ", " : "");
		json_ban(&in->sb, b);
	} else {
		text_ban(&in->k, &in->sb, "  ", in->c->now, b);
	}
	in->shown++;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool spans_cover(struct span *v, size_t n, struct span want)
{
	u128 next = want.lo;
	size_t i;

	qsort(v, n, sizeof(*v), span_cmp);
	for (i = 0; i < n; i++) {
		if (v[i].lo > next)
			return false;
		if (v[i].hi >= want.hi)
			return true;
		if (v[i].hi + 1 > next)
			next = v[i].hi + 1;
	}
	return false;
}

/* The bans that answer the query: those that contain t, else those inside it. Text makes
 * each list twice, measuring its columns first. */
static int query_run(const struct ctx *c, struct journal *j, const struct target *t,
		     struct query_state *q, struct inner *in, struct ipb_err *e)
{
	int r;

	if (!c->json && query_covering(j, t, q, e))
		return -1;
	q->k.measure = false;
	q->hits = 0;
	if (query_covering(j, t, q, e))
		return -1;
	if (q->hits || t->plen == target_addrlen(t) * 8)
		return 0;
	if (journal_bans_within(j, t, c->now, inner_cb, in, e))
		return -1;
	in->covers = in->n && spans_cover(in->v, in->n, target_span(t));
	if (c->json || !in->n)
		return 0;
	in->again = true;
	in->k.measure = false;
	in->shown = 0;
	r = journal_bans_within(j, t, c->now, inner_cb, in, e);
	return r > 0 ? 0 : r; /* 1: inner_cb stopped after the rows shown */
}

static void query_print(const struct ctx *c, const struct target *t, const struct query_state *q,
			const struct inner *in)
{
	char buf[TARGET_STRLEN];
	const char *tf = target_format(t, buf, sizeof(buf));
	size_t more = in->n - in->shown;

	if (c->json) {
		printf("{\"target\": \"%s\", \"banned\": %s, \"bans\": [%s]", tf,
		       q->hits || in->covers ? "true" : "false",
		       q->hits ? sb_str(&q->sb) : in->covers ? sb_str(&in->sb) : "");
		if (!q->hits && !in->covers && in->n)
			printf(", \"partly\": [%s], \"partly_more\": %zu", sb_str(&in->sb), more);
		printf("}\n");
		return;
	}
	if (c->quiet)
		return;
	if (q->hits) {
		printf("banned by:\n%s", sb_str(&q->sb));
		return;
	}
	if (in->covers) {
		printf("banned, wholly covered by:\n%s", sb_str(&in->sb));
	} else if (in->n) {
		printf("%s is not wholly banned: %zu ban%s inside it cover%s part of it:\n%s", tf,
		       in->n, in->n > 1 ? "s" : "", in->n > 1 ? "" : "s", sb_str(&in->sb));
	} else {
		printf("%s is not banned\n", tf);
		return;
	}
	if (more)
		printf("  and %zu more\n", more);
}

int cmd_query(struct ctx *c)
{
	struct query_state q = { .c = c };
	struct inner in = { .c = c };
	struct journal *j;
	struct ipb_err e;
	struct target t;
	unsigned flags;
	int r;

	if (target_parse(c->args[0], &t, &flags, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_USAGE;
	if ((r = open_journal(c, &j, false)))
		return r;
	sb_init(&q.sb);
	sb_init(&in.sb);
	cols_init(&q.k, NULL, 0);
	cols_init(&in.k, NULL, 0);
	if (j && query_run(c, j, &t, &q, &in, &e)) {
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
	}
	if (j)
		journal_close(j);
	if (!r)
		query_print(c, &t, &q, &in);
	sb_free(&q.sb);
	sb_free(&in.sb);
	free(in.v);
	if (r)
		return r;
	return q.hits || in.covers ? IPB_EXIT_OK : IPB_EXIT_NOTBANNED;
}

/* ---- list ---- */

struct list_state {
	const struct ctx *c;
	struct strbuf sb;
	struct cols k;
	size_t n;
};

static int list_cb(void *arg, const struct ban *b)
{
	struct list_state *l = arg;

	if (l->c->json) {
		sb_printf(&l->sb, l->n ? ",\n " : "");
		json_ban(&l->sb, b);
		/* stream large lists instead of holding them */
		if (l->sb.len > 1 << 20) {
			fwrite(l->sb.buf, 1, l->sb.len, stdout);
			l->sb.len = 0;
		}
	} else {
		text_ban(&l->k, &l->sb, "", l->c->now, b);
		if (l->sb.len > 1 << 16)
			sb_flush(&l->sb);
	}
	l->n++;
	return 0;
}

static const char *const list_heads[] = { "TARGET", "SOURCE", "EXPIRES" };

static int list_live(const struct ctx *c, struct journal *j, struct list_state *l,
		     struct ipb_err *e)
{
	return journal_bans_live(j, c->now, c->source_set ? c->source : NULL, c->family, list_cb, l,
				 e);
}

/* Text: a first pass measures the columns, the second prints under a heading. */
static int list_text(const struct ctx *c, struct journal *j, struct list_state *l,
		     struct ipb_err *e)
{
	size_t i;

	cols_init(&l->k, list_heads, 3);
	if (list_live(c, j, l, e))
		return -1;
	if (!l->n)
		return 0;
	l->k.measure = false;
	l->n = 0;
	for (i = 0; i < 3; i++)
		cols_cell(&l->k, &l->sb, i, list_heads[i]);
	sb_printf(&l->sb, "REASON");
	cols_end(&l->sb);
	return list_live(c, j, l, e);
}

int cmd_list(struct ctx *c)
{
	struct list_state l = { .c = c };
	struct journal *j;
	struct ipb_err e;
	int r;

	if ((r = open_journal(c, &j, false)))
		return r;
	sb_init(&l.sb);
	if (c->json) {
		printf("[");
		c->json_printed = true;
	}
	if (j && (c->json ? list_live(c, j, &l, &e) : list_text(c, j, &l, &e))) {
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
	}
	sb_flush(&l.sb);
	if (c->json)
		printf("]\n");
	sb_free(&l.sb);
	if (j)
		journal_close(j);
	return r;
}

/* ---- log ---- */

struct log_state {
	const struct ctx *c;
	struct strbuf sb;
	struct cols k;
	size_t n;
};

static void log_json(struct strbuf *sb, const struct event *ev, const char *ts, bool first)
{
	sb_printf(sb, "%s{\"time\": \"%s\", \"kind\": ", first ? "" : ",\n ", ts);
	sb_json_str(sb, ev->kind);
	sb_printf(sb, ", \"target\": ");
	sb_json_str(sb, ev->target);
	sb_printf(sb, ", \"source\": ");
	sb_json_str(sb, ev->source);
	sb_printf(sb, ", \"reason\": ");
	sb_json_str(sb, ev->reason);
	sb_printf(sb, ", \"detail\": ");
	sb_json_str(sb, ev->detail);
	sb_printf(sb, ", \"uid\": %lld, \"user\": ", (long long)ev->uid);
	sb_json_str(sb, ev->user);
	sb_printf(sb, "}");
}

/* time, kind, target, source, then reason and detail */
static void log_text(struct cols *k, struct strbuf *sb, const struct event *ev, const char *ts)
{
	const char *cell[4] = { ts, ev->kind, ev->target ? ev->target : "-",
				ev->source ? ev->source : "-" };
	char r[512], d[256];
	size_t i;

	for (i = 0; i < 4; i++) {
		if (k->measure)
			cols_fit(k, i, cell[i]);
		else
			cols_cell(k, sb, i, cell[i]);
	}
	if (k->measure)
		return;
	sb_printf(sb, "%s%s%s", ipb_escape(ev->reason, r, sizeof(r)),
		  ev->reason && ev->detail ? "; " : "", ipb_escape(ev->detail, d, sizeof(d)));
	cols_end(sb);
}

static int log_cb(void *arg, const struct event *ev)
{
	struct log_state *l = arg;
	char ts[32];

	ipb_rfc3339(ev->time, ts, sizeof(ts));
	if (l->c->json)
		log_json(&l->sb, ev, ts, !l->n);
	else
		log_text(&l->k, &l->sb, ev, ts);
	if (l->sb.len > 1 << 16)
		sb_flush(&l->sb);
	l->n++;
	return 0;
}

static int log_events(const struct ctx *c, struct journal *j, struct log_state *l,
		      struct ipb_err *e)
{
	return journal_events(j, c->since_set ? c->now - c->since : 0,
			      c->source_set ? c->source : NULL, log_cb, l, e);
}

int cmd_log(struct ctx *c)
{
	struct log_state l = { .c = c };
	struct journal *j;
	struct ipb_err e;
	int r;

	if ((r = open_journal(c, &j, false)))
		return r;
	sb_init(&l.sb);
	cols_init(&l.k, NULL, 0);
	if (c->json) {
		printf("[");
		c->json_printed = true;
	}
	/* text: a first pass measures the columns, the second prints */
	if (j && !c->json && log_events(c, j, &l, &e))
		r = IPB_EXIT_SYSTEM;
	l.k.measure = false;
	l.n = 0;
	if (j && !r && log_events(c, j, &l, &e))
		r = IPB_EXIT_SYSTEM;
	if (r)
		ipb_error("%s", e.msg);
	sb_flush(&l.sb);
	if (c->json)
		printf("]\n");
	sb_free(&l.sb);
	if (j)
		journal_close(j);
	return r;
}
