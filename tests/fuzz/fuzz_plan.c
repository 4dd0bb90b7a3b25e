// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the kernel layout of plan.c against brute force.
 *
 * The input bytes are decoded into a small ban set (up to 64 bans by several sources,
 * targets concentrated in a few IPv4 /16s and IPv6 /48s so that nesting, overlap and
 * duplicates are common; expiries permanent, live, expiring right now or expired) and
 * into probe addresses and prefixes. Then, as tests/unit/test_plan.c does:
 *  - plan_elements gives one element per distinct target with a live ban, with the
 *    latest expiry, strictly sorted;
 *  - at several instants, for every probe, the logical bans (brute force, with its own
 *    prefix comparison rather than addr.c's), an independent simulation of the per-length kernel sets and
 *    plan_blocked all agree on whether it is blocked;
 *  - plan_sort_unique and plan_diff on lists built from the decoded targets agree with
 *    brute force.
 * Any disagreement aborts, so libFuzzer keeps the input. */
#include <errno.h>

#include "fuzz.h"
#include "plan.h"

#define NOW 1700000000LL
#define MAX_BANS 64
#define MAX_PROBES 32

/* A few /16s and /48s, each with room for several /24s, /64s and addresses. */
static const uint8_t v4_bases[][4] = {
	{ 10, 0, 0, 0 }, { 10, 0, 4, 0 }, { 10, 1, 0, 0 }, { 192, 0, 2, 0 }, { 198, 51, 100, 0 },
};
static const uint8_t v6_bases[][6] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad },
	{ 0x2a, 0x06, 0x48, 0x80, 0x00, 0x00 },
};
static const uint8_t v4_lens[] = { 0, 1, 8, 15, 16, 20, 22, 23, 24, 25, 26, 28, 30, 31, 32, 32 };
static const uint8_t v6_lens[] = { 0, 1, 32, 47, 48, 56, 63, 64, 100, 112, 119, 120, 124, 127, 128, 128 };
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Four bytes: where (family, base, a far-away variant) and the low bits, then the length. */
static struct target decode_target(struct reader *r, bool full)
{
	uint8_t k = rd8(r), a = rd8(r), b = rd8(r), l = rd8(r);
	struct target t;
	unsigned len;

	memset(&t, 0, sizeof(t));
	if (k % 3 != 2) {
		t.family = 4;
		memcpy(t.addr, v4_bases[(k >> 2) % NELEMS(v4_bases)], 4);
		t.addr[2] |= a & 3;
		t.addr[3] = b;
		if ((k >> 4) == 15)
			t.addr[0] = a, t.addr[1] = (uint8_t)(a * 7); /* sometimes far away */
		t.plen = 32;
		len = full ? 32 : v4_lens[l % NELEMS(v4_lens)];
	} else {
		t.family = 6;
		memcpy(t.addr, v6_bases[(k >> 2) % NELEMS(v6_bases)], 6);
		t.addr[7] = a & 1;
		t.addr[13] = (a >> 1) & 1;
		t.addr[14] = (a >> 2) & 1;
		t.addr[15] = b;
		if ((k >> 4) == 15)
			t.addr[0] = a, t.addr[9] = b; /* sometimes far away */
		t.plen = 128;
		len = full ? 128 : v6_lens[l % NELEMS(v6_lens)];
	}
	target_truncate(&t, len);
	return t;
}

static int64_t decode_expiry(struct reader *r)
{
	uint8_t k = rd8(r), v = rd8(r);

	switch (k % 8) {
	case 0:
		return IPB_NEVER;
	case 1:
		return NOW - 1 - v; /* expired */
	case 2:
		return NOW; /* expiring at this very second: not live */
	case 3:
		return NOW + 1;
	case 7:
		switch (v % 4) {
		case 0:
			return 0;
		case 1:
			return IPB_NEVER - 1;
		case 2:
			return NOW + 100000;
		default:
			return 1;
		}
	default:
		return NOW + 1 + (int64_t)v * 4;
	}
}

/* ---- brute force ----
 * Written here rather than with addr.c's helpers, so that they are checked too and so
 * that the brute force is not instrumented for coverage (run.sh builds this file
 * without it): the fuzzer's time goes to the code under test. */

static bool bits_equal(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned i;

	for (i = 0; i < bits / 8; i++)
		if (x[i] != y[i])
			return false;
	for (i = bits / 8 * 8; i < bits; i++)
		if (((x[i / 8] ^ y[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool same(const struct target *a, const struct target *b)
{
	return a->family == b->family && a->plen == b->plen && bits_equal(a->addr, b->addr, 128);
}

static bool ref_contains(const struct target *outer, const struct target *inner)
{
	return outer->family == inner->family && outer->plen <= inner->plen &&
	       bits_equal(outer->addr, inner->addr, outer->plen);
}

static bool bans_block(const struct plan_elem *bans, size_t n, const struct target *a, int64_t t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (bans[i].expires > t && ref_contains(&bans[i].t, a))
			return true;
	return false;
}

/* The kernel: one hash set per (family, length) in use, each matched by a rule
 * "saddr & mask(L) @set"; only full-length addresses are looked up. */
struct kernel_model {
	const struct plan_elem *set[PLAN_NSETS][MAX_BANS];
	size_t n[PLAN_NSETS];
	unsigned used[PLAN_NSETS], nused;
};

static struct kernel_model kernel; /* built from this input's elements */

static void model_build(struct kernel_model *m, const struct plan_elem *el, size_t n)
{
	size_t i;
	unsigned k;

	memset(m->n, 0, sizeof(m->n));
	m->nused = 0;
	for (i = 0; i < n; i++) {
		k = plan_set_index(el[i].t.family, el[i].t.plen);
		FUZZ_ASSERT(k < PLAN_NSETS && m->n[k] < MAX_BANS);
		if (!m->n[k])
			m->used[m->nused++] = k;
		m->set[k][m->n[k]++] = &el[i];
	}
}

static bool model_blocks(const struct kernel_model *m, const struct target *a, int64_t t)
{
	unsigned u, k, len;
	size_t i;

	/* elements have no host bits, so "a & mask(len) == element" is a match of the
	 * first len bits */
	for (u = 0; u < m->nused; u++) {
		k = m->used[u];
		if ((k < 33) != (a->family == 4))
			continue;
		len = k < 33 ? k : k - 33;
		for (i = 0; i < m->n[k]; i++)
			if (bits_equal(m->set[k][i]->t.addr, a->addr, len) && m->set[k][i]->expires > t)
				return true;
	}
	return false;
}

/* The logical bans, the kernel simulation (full-length addresses only: the kernel never
 * looks up a prefix) and plan_blocked agree on whether a is blocked at t. */
static void check_probe(const struct plan_elem *bans, size_t n, const struct plan_elem *el,
			size_t nel, const struct target *a, int64_t t)
{
	bool want;
	char buf[TARGET_STRLEN];

	if (t < NOW)
		return; /* plan_elements already dropped what had expired by NOW */
	want = bans_block(bans, n, a, t);
	if (a->plen == target_addrlen(a) * 8 && model_blocks(&kernel, a, t) != want) {
		fprintf(stderr, "kernel model: %s at now+%lld: %d, bans say %d\n",
			target_format(a, buf, sizeof(buf)), (long long)(t - NOW), !want, want);
		abort();
	}
	if (plan_blocked(el, nel, a, t) != want) {
		fprintf(stderr, "plan_blocked: %s at now+%lld: %d, bans say %d\n",
			target_format(a, buf, sizeof(buf)), (long long)(t - NOW), !want, want);
		abort();
	}
}

static void check_elements(const struct plan_elem *bans, size_t n, const struct plan_elem *el,
			   size_t nel)
{
	size_t i, j, distinct = 0;
	int64_t best;
	bool first;

	for (i = 0; i < nel; i++) {
		fuzz_check_target_shape(&el[i].t);
		FUZZ_ASSERT(el[i].expires > NOW);
		FUZZ_ASSERT(i == 0 || target_cmp(&el[i - 1].t, &el[i].t) < 0);
	}
	for (i = 0; i < n; i++) {
		best = 0;
		first = true;
		for (j = 0; j < n; j++) {
			if (!same(&bans[i].t, &bans[j].t))
				continue;
			if (j < i)
				first = false;
			if (bans[j].expires > NOW && bans[j].expires > best)
				best = bans[j].expires;
		}
		if (!first || !best)
			continue;
		distinct++;
		for (j = 0; j < nel && !same(&el[j].t, &bans[i].t); j++)
			;
		if (j == nel || el[j].expires != best) {
			fprintf(stderr, "element for ban %zu: %s\n", i,
				j == nel ? "missing" : "wrong expiry");
			abort();
		}
	}
	FUZZ_ASSERT(distinct == nel);
}

/* plan_sort_unique: strictly sorted, the distinct targets of the input exactly, each
 * with the line of its first occurrence (lines are non-decreasing, as in a file). */
static void check_sort_unique(const struct target_list *orig, const struct target_list *l)
{
	size_t i, j, distinct = 0;

	for (i = 0; i < l->n; i++)
		FUZZ_ASSERT(i == 0 || target_cmp(&l->v[i - 1], &l->v[i]) < 0);
	for (i = 0; i < orig->n; i++) {
		for (j = 0; j < i && !same(&orig->v[j], &orig->v[i]); j++)
			;
		if (j < i)
			continue; /* not the first occurrence */
		distinct++;
		for (j = 0; j < l->n && !same(&l->v[j], &orig->v[i]); j++)
			;
		FUZZ_ASSERT(j < l->n);
		FUZZ_ASSERT(l->line[j] == orig->line[i]);
	}
	FUZZ_ASSERT(distinct == l->n);
}

/* plan_diff: each index of a and of b reported exactly once, as the brute force says. */
struct diff_rec {
	const struct target *a, *b;
	size_t na, nb;
	uint8_t seen_a[MAX_BANS + MAX_PROBES], seen_b[MAX_BANS + MAX_PROBES];
	size_t last_a, last_b; /* indices arrive in increasing order: 1 + the last one */
};

static void on_add(void *arg, size_t ib)
{
	struct diff_rec *d = arg;

	FUZZ_ASSERT(ib < d->nb && !d->seen_b[ib] && ib + 1 > d->last_b);
	d->seen_b[ib] = 1;
	d->last_b = ib + 1;
}

static void on_del(void *arg, size_t ia)
{
	struct diff_rec *d = arg;

	FUZZ_ASSERT(ia < d->na && !d->seen_a[ia] && ia + 1 > d->last_a);
	d->seen_a[ia] = 1;
	d->last_a = ia + 1;
}

static void on_same(void *arg, size_t ia, size_t ib)
{
	struct diff_rec *d = arg;

	FUZZ_ASSERT(ia < d->na && ib < d->nb && !d->seen_a[ia] && !d->seen_b[ib]);
	FUZZ_ASSERT(ia + 1 > d->last_a && ib + 1 > d->last_b);
	FUZZ_ASSERT(same(&d->a[ia], &d->b[ib]));
	d->seen_a[ia] = 2;
	d->seen_b[ib] = 2;
	d->last_a = ia + 1;
	d->last_b = ib + 1;
}

static bool in_list(const struct target *v, size_t n, const struct target *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same(&v[i], t))
			return true;
	return false;
}

static void check_diff(const struct target *a, size_t na, const struct target *b, size_t nb)
{
	static struct diff_rec d;
	struct plan_diff_cb cb = { on_add, on_del, on_same, &d };
	size_t i;

	FUZZ_ASSERT(na <= sizeof(d.seen_a) && nb <= sizeof(d.seen_b));
	memset(&d, 0, sizeof(d));
	d.a = a, d.na = na, d.b = b, d.nb = nb;
	plan_diff(a, na, b, nb, &cb);
	for (i = 0; i < na; i++)
		FUZZ_ASSERT(d.seen_a[i] == (in_list(b, nb, &a[i]) ? 2 : 1));
	for (i = 0; i < nb; i++)
		FUZZ_ASSERT(d.seen_b[i] == (in_list(a, na, &b[i]) ? 2 : 1));
	/* callbacks left out are simply not called */
	cb.add = NULL, cb.same = NULL;
	memset(&d, 0, sizeof(d));
	d.a = a, d.na = na, d.b = b, d.nb = nb;
	plan_diff(a, na, b, nb, &cb);
	for (i = 0; i < na; i++)
		FUZZ_ASSERT(d.seen_a[i] == (in_list(b, nb, &a[i]) ? 0 : 1));
}

static void push(struct target_list *l, const struct target *t, uint32_t line)
{
	if (target_list_push(l, t, line))
		abort();
}

static void sorted_copy(const struct target_list *in, struct target_list *out)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		push(out, &in->v[i], in->line[i]);
	plan_sort_unique(out);
	check_sort_unique(in, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct plan_elem bans[MAX_BANS], *el = NULL;
	struct target a;
	struct target_list la = { 0 }, lp = { 0 }, sa = { 0 }, sp = { 0 }, se = { 0 };
	int64_t times[8];
	size_t n, np, i;
	ssize_t nel;
	unsigned k, len, fam, plen;
	uint32_t line = 1;
	uint8_t c, tb, h[2];
	char name[PLAN_SETNAME_MAX];

	n = rd8(&r) % (MAX_BANS + 1);
	np = 1 + rd8(&r) % MAX_PROBES;
	for (i = 0; i < n; i++) {
		c = rd8(&r);
		if (i && (c & 3) == 0)
			bans[i].t = bans[(c >> 2) % i].t; /* the same target, another source */
		else
			bans[i].t = decode_target(&r, false);
		bans[i].expires = decode_expiry(&r);
		push(&la, &bans[i].t, line);
		line += (c >> 7) & 1; /* lines non-decreasing, sometimes repeated */
	}

	nel = plan_elements(bans, n, NOW, &el);
	FUZZ_ASSERT(nel >= 0 && el);
	check_elements(bans, n, el, (size_t)nel);
	model_build(&kernel, el, (size_t)nel);
	for (i = 0; i < (size_t)nel; i++) {
		plan_set_name(el[i].t.family, el[i].t.plen, name, sizeof(name));
		FUZZ_ASSERT(!plan_parse_set_name(name, &fam, &plen));
		FUZZ_ASSERT(fam == el[i].t.family && plen == el[i].t.plen);
		if (el[i].expires == IPB_NEVER)
			FUZZ_ASSERT(plan_timeout_ms(el[i].expires, NOW * 1000 + 999) == 0);
		else if (el[i].expires <= NOW + 100000)
			FUZZ_ASSERT(plan_timeout_ms(el[i].expires, NOW * 1000 + 999) ==
				    (uint64_t)(el[i].expires * 1000 - NOW * 1000 - 999 < 1000
						       ? 1000
						       : el[i].expires * 1000 - NOW * 1000 - 999));
		else
			FUZZ_ASSERT(plan_timeout_ms(el[i].expires, NOW * 1000) >= 1000);
	}

	times[0] = NOW;
	times[1] = NOW + 1;
	times[2] = NOW + rd8(&r) * 5;
	times[3] = n ? bans[rd8(&r) % n].expires : NOW + 7;
	times[4] = times[3] == IPB_NEVER ? NOW + 999 : times[3] - 1;
	times[5] = NOW + 1021;
	times[6] = NOW + 100000;
	times[7] = IPB_NEVER - 1;

	for (i = 0; i < np; i++) {
		c = rd8(&r);
		h[0] = rd8(&r), h[1] = rd8(&r);
		if (n && (c & 1)) {
			/* inside a ban, with host bits from the input */
			a = bans[(c >> 1) % n].t;
			for (k = a.plen; k < target_addrlen(&a) * 8; k++)
				if ((h[k % 2] >> (k % 8)) & 1)
					a.addr[k / 8] |= (uint8_t)(0x80 >> (k % 8));
			a.plen = (uint8_t)(target_addrlen(&a) * 8);
		} else {
			a = decode_target(&r, true);
		}
		if ((c & 6) == 6) {
			/* a prefix probe: blocked only when one live ban covers it whole */
			len = h[0] % (target_addrlen(&a) * 8 + 1u);
			target_truncate(&a, len);
		}
		fuzz_check_target_shape(&a);
		push(&lp, &a, (uint32_t)i + 1);

		/* two of the instants per probe, chosen by the input (plan_blocked costs one
		 * look-up per prefix length, so all eight would slow the fuzzer down) */
		tb = rd8(&r);
		check_probe(bans, n, el, (size_t)nel, &a, times[tb & 7]);
		if (((tb >> 3) & 7) != (tb & 7))
			check_probe(bans, n, el, (size_t)nel, &a, times[(tb >> 3) & 7]);
	}

	/* plan_sort_unique and plan_diff on the decoded lists */
	sorted_copy(&la, &sa);
	sorted_copy(&lp, &sp);
	for (i = 0; i < (size_t)nel; i++)
		push(&se, &el[i].t, (uint32_t)i);
	check_diff(sa.v, sa.n, se.v, se.n); /* journal targets vs kernel elements */
	check_diff(se.v, se.n, sa.v, sa.n);
	check_diff(sa.v, sa.n, sp.v, sp.n); /* bans vs probes: mostly disjoint */
	check_diff(sp.v, sp.n, sa.v, sa.n);
	check_diff(sa.v, sa.n, sa.v, sa.n);
	check_diff(sa.v, 0, sp.v, sp.n);
	check_diff(sa.v, sa.n, sp.v, 0);
	/* a sorted list is left as it is */
	{
		struct target_list again = { 0 };

		sorted_copy(&sa, &again);
		FUZZ_ASSERT(again.n == sa.n && (!sa.n || !memcmp(again.v, sa.v, sa.n * sizeof(*sa.v))));
		target_list_free(&again);
	}
	target_list_free(&la);
	target_list_free(&lp);
	target_list_free(&sa);
	target_list_free(&sp);
	target_list_free(&se);
	free(el);
	return 0;
}
