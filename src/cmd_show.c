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

static void text_ban(const struct ctx *c, const struct ban *b, const char *indent)
{
	char t[TARGET_STRLEN], w[48], r[512];

	printf("%s%-20s %-16s %-16s %s\n", indent, target_format(&b->t, t, sizeof(t)), b->source,
	       when(b->expires, c->now, w, sizeof(w)), ipb_escape(b->reason, r, sizeof(r)));
}

/* ---- query ---- */

struct query_state {
	const struct ctx *c;
	struct strbuf sb;
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
		if (!q->hits)
			printf("banned by:\n");
		text_ban(q->c, b, "  ");
	}
	q->hits++;
	return 0;
}

/* ---- a prefix may also be covered wholly by several longer bans together ---- */

typedef unsigned __int128 u128;

struct span {
	u128 lo, hi;
};

struct inner {
	struct span *v;
	size_t n, cap;
	struct strbuf sb; /* the bans, rendered, for when they do cover */
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
	char t[TARGET_STRLEN], w[48], r[512];

	if (ipb_grow(&in->v, &in->cap, in->n + 1, sizeof(*in->v)))
		return -ENOMEM;
	in->v[in->n++] = target_span(&b->t);
	if (in->c->json) {
		sb_printf(&in->sb, in->n > 1 ? ", " : "");
		json_ban(&in->sb, b);
	} else {
		sb_printf(&in->sb, "  %-20s %-16s %-16s %s\n", target_format(&b->t, t, sizeof(t)),
			  b->source, when(b->expires, in->c->now, w, sizeof(w)),
			  ipb_escape(b->reason, r, sizeof(r)));
	}
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

int cmd_query(struct ctx *c)
{
	struct query_state q = { .c = c };
	struct inner in = { .c = c };
	char buf[TARGET_STRLEN];
	struct journal *j;
	struct ipb_err e;
	struct target t, p;
	unsigned flags, len;
	int r;

	if (target_parse(c->args[0], &t, &flags, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_USAGE;
	if ((r = open_journal(c, &j, false)))
		return r;
	sb_init(&q.sb);
	sb_init(&in.sb);
	/* every ban that wholly contains t: one indexed look-up per shorter prefix */
	for (len = 0; j && len <= t.plen; len++) {
		p = t;
		target_truncate(&p, len);
		if (journal_bans_of_target(j, &p, query_cb, &q, &e)) {
			ipb_error("%s", e.msg);
			r = IPB_EXIT_SYSTEM;
			break;
		}
	}
	/* otherwise longer bans inside t may still cover all of it together */
	if (j && !r && !q.hits && t.plen < target_addrlen(&t) * 8) {
		if (journal_bans_within(j, &t, c->now, inner_cb, &in, &e)) {
			ipb_error("%s", e.msg);
			r = IPB_EXIT_SYSTEM;
		} else if (in.n && spans_cover(in.v, in.n, target_span(&t))) {
			q.hits = in.n;
			if (c->json)
				sb_printf(&q.sb, "%s", in.sb.buf);
			else if (!c->quiet)
				printf("banned, wholly covered by:\n%s", in.sb.buf);
		} else if (in.n && !c->json && !c->quiet) {
			printf("%s is not wholly banned: %zu ban%s inside it cover%s part of it\n",
			       target_format(&t, buf, sizeof(buf)), in.n, in.n > 1 ? "s" : "",
			       in.n > 1 ? "" : "s");
			in.n = SIZE_MAX; /* already said */
		}
	}
	if (j)
		journal_close(j);
	if (!r && c->json) {
		printf("{\"target\": \"%s\", \"banned\": %s, \"bans\": [%s]}\n",
		       target_format(&t, buf, sizeof(buf)), q.hits ? "true" : "false",
		       q.sb.buf ? q.sb.buf : "");
	} else if (!r && !c->quiet && !q.hits && in.n != SIZE_MAX) {
		printf("%s is not banned\n", target_format(&t, buf, sizeof(buf)));
	}
	sb_free(&q.sb);
	sb_free(&in.sb);
	free(in.v);
	if (r)
		return r;
	return q.hits ? IPB_EXIT_OK : IPB_EXIT_NOTBANNED;
}

/* ---- list ---- */

struct list_state {
	const struct ctx *c;
	struct strbuf sb;
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
		if (!l->n)
			printf("%-20s %-16s %-16s %s\n", "TARGET", "SOURCE", "EXPIRES", "REASON");
		text_ban(l->c, b, "");
	}
	l->n++;
	return 0;
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
	if (j && journal_bans_live(j, c->now, c->source_set ? c->source : NULL, c->family, list_cb, &l,
				   &e)) {
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
	}
	if (c->json) {
		if (l.sb.len)
			fwrite(l.sb.buf, 1, l.sb.len, stdout);
		printf("]\n");
	}
	sb_free(&l.sb);
	if (j)
		journal_close(j);
	return r;
}

/* ---- log ---- */

struct log_state {
	const struct ctx *c;
	size_t n;
};

static int log_cb(void *arg, const struct event *ev)
{
	struct log_state *l = arg;
	char ts[32], r[512], d[256];
	struct strbuf sb;

	ipb_rfc3339(ev->time, ts, sizeof(ts));
	if (l->c->json) {
		sb_init(&sb);
		sb_printf(&sb, "%s{\"time\": \"%s\", \"kind\": ", l->n ? ",\n " : "", ts);
		sb_json_str(&sb, ev->kind);
		sb_printf(&sb, ", \"target\": ");
		sb_json_str(&sb, ev->target);
		sb_printf(&sb, ", \"source\": ");
		sb_json_str(&sb, ev->source);
		sb_printf(&sb, ", \"reason\": ");
		sb_json_str(&sb, ev->reason);
		sb_printf(&sb, ", \"detail\": ");
		sb_json_str(&sb, ev->detail);
		sb_printf(&sb, ", \"uid\": %lld, \"user\": ", (long long)ev->uid);
		sb_json_str(&sb, ev->user);
		sb_printf(&sb, "}");
		fwrite(sb.buf, 1, sb.len, stdout);
		sb_free(&sb);
	} else {
		printf("%s  %-9s %-20s %-16s %s%s%s\n", ts, ev->kind, ev->target ? ev->target : "-",
		       ev->source ? ev->source : "-", ipb_escape(ev->reason, r, sizeof(r)),
		       ev->reason && ev->detail ? "; " : "", ipb_escape(ev->detail, d, sizeof(d)));
	}
	l->n++;
	return 0;
}

int cmd_log(struct ctx *c)
{
	struct log_state l = { .c = c };
	struct journal *j;
	struct ipb_err e;
	int r;

	if ((r = open_journal(c, &j, false)))
		return r;
	if (c->json) {
		printf("[");
		c->json_printed = true;
	}
	if (j && journal_events(j, c->since_set ? c->now - c->since : 0,
				c->source_set ? c->source : NULL, log_cb, &l, &e)) {
		ipb_error("%s", e.msg);
		r = IPB_EXIT_SYSTEM;
	}
	if (c->json)
		printf("]\n");
	if (j)
		journal_close(j);
	return r;
}
