// SPDX-License-Identifier: GPL-2.0-only
/* Planning: from logical bans to kernel elements, and the diffs between them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

char *plan_set_name(unsigned family, unsigned plen, char *buf, size_t len)
{
	snprintf(buf, len, "v%u_%u", family == 4 ? 4u : 6u, plen);
	return buf;
}

/* Only the exact spellings plan_set_name writes: "v4_24", never "v4_024" or "v4_+24". */
int plan_parse_set_name(const char *name, unsigned *family, unsigned *plen)
{
	unsigned fam, v = 0, max;
	const char *p;

	if (strncmp(name, "v4_", 3) && strncmp(name, "v6_", 3))
		return -EINVAL;
	fam = name[1] == '4' ? 4 : 6;
	max = fam == 4 ? 32 : 128;
	p = name + 3;
	if (!*p || (p[0] == '0' && p[1]) || strlen(p) > 3)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return -EINVAL;
	*family = fam;
	*plen = v;
	return 0;
}

int64_t plan_effective(const struct srcexp *bans, size_t n, int64_t now)
{
	int64_t best = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (bans[i].expires > now && bans[i].expires > best)
			best = bans[i].expires;
	return best;
}

/* requested is an absolute instant (IPB_NEVER for permanent), so "never shorter" is a
 * plain max: a live permanent ban stays permanent unless replace. */
int64_t plan_reban(int64_t old, int64_t requested, bool replace, int64_t now)
{
	if (replace || old <= now)
		return requested;
	return old > requested ? old : requested;
}

enum plan_op plan_element_op(int64_t before, int64_t after)
{
	if (before == after)
		return PLAN_NONE;
	if (!before)
		return PLAN_ADD;
	if (!after)
		return PLAN_DEL;
	return PLAN_RETIME;
}

/* The live row with the latest expiry among rows[0..n) not deleted and, if extra, the
 * row *extra standing for rows[skip]; NULL when none is live. */
static const struct plan_row *winner(const struct plan_row *rows, size_t n, const bool *del,
				     size_t skip, const struct plan_row *extra, int64_t now)
{
	const struct plan_row *w = NULL, *r;
	size_t i;

	for (i = 0; i <= n; i++) {
		if (i == n)
			r = extra && skip == n ? extra : NULL;
		else if (del && del[i])
			r = NULL;
		else
			r = extra && i == skip ? extra : &rows[i];
		if (r && r->expires > now && (!w || r->expires > w->expires))
			w = r;
	}
	return w;
}

/* Comments: no reason and an empty one make the same comment. */
static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Journal rows: a reason "" is kept as given, unlike none. */
static bool same_reason(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* A ban: the source's row after, and whether anything changes. */
static void change_ban(const struct plan_row *rows, size_t n, const struct plan_req *q,
		       int64_t now, size_t *own_at, struct plan_change *out)
{
	const struct plan_row *own = NULL;
	int64_t old = 0;
	size_t i;

	*own_at = n;
	for (i = 0; i < n; i++)
		if (!strcmp(rows[i].source, q->source))
			own = &rows[i], *own_at = i;
	if (own && own->expires > now)
		old = own->expires;
	out->row.source = q->source;
	out->row.expires = plan_reban(old, q->expires, q->replace, now);
	out->row.created = old ? own->created : now;
	out->row.reason = q->reason ? q->reason : own ? own->reason : NULL;
	out->added = !old;
	out->expiry_changed = out->row.expires != old;
	/* the same expiry and reason again: nothing to write */
	out->put = !old || out->expiry_changed || !same_reason(out->row.reason, own->reason);
	if (old && !out->put)
		out->row = *own;
}

void plan_change(const struct plan_row *rows, size_t n, const struct plan_req *q, int64_t now,
		 bool *del, struct plan_change *out)
{
	const struct plan_row *before, *after;
	size_t i, own_at = n;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		del[i] = false;
	before = winner(rows, n, NULL, n, NULL, now);
	if (q->expires) {
		change_ban(rows, n, q, now, &own_at, out);
		after = winner(rows, n, NULL, own_at, &out->row, now);
	} else {
		for (i = 0; i < n; i++) {
			if (!q->all_sources && strcmp(rows[i].source, q->source))
				continue;
			del[i] = true;
			out->ndel++;
			out->removed += rows[i].expires > now;
		}
		after = winner(rows, n, del, n, NULL, now);
	}
	out->k_expires = after ? after->expires : 0;
	out->k_source = after ? after->source : NULL;
	out->k_reason = after ? after->reason : NULL;
	switch (plan_element_op(before ? before->expires : 0, out->k_expires)) {
	case PLAN_NONE:
		out->kop = PLAN_K_NONE;
		break;
	case PLAN_ADD:
		out->kop = PLAN_K_ADD;
		break;
	case PLAN_DEL:
		out->kop = PLAN_K_DEL;
		break;
	case PLAN_RETIME:
		out->kop = before->expires != IPB_NEVER && after->expires != IPB_NEVER &&
					   !strcmp(before->source, after->source) &&
					   same_str(before->reason, after->reason)
				   ? PLAN_K_EXTEND
				   : PLAN_K_RETIME;
		break;
	}
}

/* The exact remaining time, so the kernel lets go at the instant the journal says; at
 * least a second so that a ban about to lapse is not sent as "no timeout" or refused. */
uint64_t plan_timeout_ms(int64_t expires, int64_t now_ms)
{
	int64_t expires_ms;
	uint64_t left;

	if (expires == IPB_NEVER)
		return 0;
	expires_ms = expires > INT64_MAX / 1000 ? INT64_MAX : expires * 1000;
	if (expires_ms <= now_ms)
		return 1000;
	left = (uint64_t)expires_ms - (uint64_t)now_ms;
	return left < 1000 ? 1000 : left;
}

/* target order, then the latest expiry first */
static int elem_cmp(const void *pa, const void *pb)
{
	const struct plan_elem *a = pa, *b = pb;
	int r = target_cmp(&a->t, &b->t);

	if (r)
		return r;
	return a->expires > b->expires ? -1 : a->expires < b->expires;
}

ssize_t plan_elements(const struct plan_elem *bans, size_t n, int64_t now, struct plan_elem **out)
{
	struct plan_elem *v;
	size_t i, live = 0, k = 0;

	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (bans[i].expires > now)
			v[live++] = bans[i];
	qsort(v, live, sizeof(*v), elem_cmp);
	for (i = 0; i < live; i++)
		if (k == 0 || !target_equal(&v[k - 1].t, &v[i].t))
			v[k++] = v[i];
	*out = v;
	return (ssize_t)k;
}

void plan_diff(const struct target *a, size_t na, const struct target *b, size_t nb,
	       const struct plan_diff_cb *cb)
{
	size_t ia = 0, ib = 0;
	int r;

	while (ia < na || ib < nb) {
		if (ia == na)
			r = 1;
		else if (ib == nb)
			r = -1;
		else
			r = target_cmp(&a[ia], &b[ib]);
		if (r < 0) {
			if (cb->del)
				cb->del(cb->arg, ia);
			ia++;
		} else if (r > 0) {
			if (cb->add)
				cb->add(cb->arg, ib);
			ib++;
		} else {
			if (cb->same)
				cb->same(cb->arg, ia, ib);
			ia++, ib++;
		}
	}
}

/* Heapsort on the two parallel arrays: no allocation, so it cannot fail. Ties on the
 * target are broken by line, so the first occurrence in a file sorts first. */
static int entry_cmp(const struct target_list *l, size_t i, size_t j)
{
	int r = target_cmp(&l->v[i], &l->v[j]);

	if (r)
		return r;
	return l->line[i] < l->line[j] ? -1 : l->line[i] > l->line[j];
}

static void entry_swap(struct target_list *l, size_t i, size_t j)
{
	struct target t = l->v[i];
	uint32_t line = l->line[i];

	l->v[i] = l->v[j];
	l->line[i] = l->line[j];
	l->v[j] = t;
	l->line[j] = line;
}

static void sift_down(struct target_list *l, size_t root, size_t n)
{
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && entry_cmp(l, child, child + 1) < 0)
			child++;
		if (entry_cmp(l, root, child) >= 0)
			return;
		entry_swap(l, root, child);
		root = child;
	}
}

static bool sorted_unique(const struct target_list *l)
{
	size_t i;

	for (i = 1; i < l->n; i++)
		if (target_cmp(&l->v[i - 1], &l->v[i]) >= 0)
			return false;
	return true;
}

void plan_sort_unique(struct target_list *l)
{
	size_t i, k = 0;

	/* block lists usually come sorted: one linear pass instead of a heapsort */
	if (sorted_unique(l))
		return;
	for (i = l->n / 2; i-- > 0;)
		sift_down(l, i, l->n);
	for (i = l->n; i-- > 1;) {
		entry_swap(l, 0, i);
		sift_down(l, 0, i);
	}
	for (i = 0; i < l->n; i++) {
		if (k && target_equal(&l->v[k - 1], &l->v[i]))
			continue;
		l->v[k] = l->v[i];
		l->line[k] = l->line[i];
		k++;
	}
	l->n = k;
}

static const struct plan_elem *find_elem(const struct plan_elem *el, size_t n,
					 const struct target *t)
{
	size_t lo = 0, hi = n, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = target_cmp(&el[mid].t, t);
		if (r == 0)
			return &el[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* What the kernel does with one set per length and a "saddr & mask(L) @set" rule each:
 * look t up, masked to every length up to its own. A prefix t is blocked here only when
 * one element covers it whole. */
bool plan_blocked(const struct plan_elem *elems, size_t n, const struct target *t, int64_t now)
{
	const struct plan_elem *hit;
	struct target x;
	int len;

	for (len = t->plen; len >= 0; len--) {
		x = *t;
		target_truncate(&x, (unsigned)len);
		hit = find_elem(elems, n, &x);
		if (hit && hit->expires > now)
			return true;
	}
	return false;
}
