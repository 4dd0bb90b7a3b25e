// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for plan.c, with a property test of the kernel layout: for random nested,
 * overlapping, duplicated bans, the per-length sets block exactly what the bans say. */
#include <errno.h>
#include <stdlib.h>

#include "plan.h"
#include "unit.h"

#define NOW 1700000000LL

static void test_set_names(void)
{
	static const char *const bad[] = {
		"v4_33", "v6_129", "v4_024", "v4_00", "v4_", "v5_1", "v4_-1", "v4_+1", "V4_1",
		"v4_1x", "v4 1", "filter", "v6_1000", "v6_0128", "", "v4", "v4_ 1", "v44_1",
	};
	unsigned fam, plen, f2, p2, i;
	bool seen[PLAN_NSETS] = { false };
	char name[PLAN_SETNAME_MAX];
	int ok = 1;

	for (fam = 4; fam <= 6; fam += 2)
		for (plen = 0; plen <= (fam == 4 ? 32u : 128u); plen++) {
			plan_set_name(fam, plen, name, sizeof(name));
			ok &= plan_parse_set_name(name, &f2, &p2) == 0 && f2 == fam && p2 == plen;
			ok &= plan_set_index(fam, plen) < PLAN_NSETS && !seen[plan_set_index(fam, plen)];
			seen[plan_set_index(fam, plen)] = true;
		}
	CHECK(ok);
	CHECK_STR(plan_set_name(4, 24, name, sizeof(name)), "v4_24");
	CHECK_STR(plan_set_name(6, 128, name, sizeof(name)), "v6_128");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(plan_parse_set_name(bad[i], &f2, &p2), -EINVAL))
			fprintf(stderr, "     '%s'\n", bad[i]);
}

static void test_element_op(void)
{
	CHECK_INT(plan_element_op(0, 0), PLAN_NONE);
	CHECK_INT(plan_element_op(0, NOW + 5), PLAN_ADD);
	CHECK_INT(plan_element_op(0, IPB_NEVER), PLAN_ADD);
	CHECK_INT(plan_element_op(NOW + 5, 0), PLAN_DEL);
	CHECK_INT(plan_element_op(IPB_NEVER, 0), PLAN_DEL);
	CHECK_INT(plan_element_op(NOW + 5, NOW + 5), PLAN_NONE);
	CHECK_INT(plan_element_op(IPB_NEVER, IPB_NEVER), PLAN_NONE);
	CHECK_INT(plan_element_op(NOW + 5, NOW + 6), PLAN_RETIME);
	CHECK_INT(plan_element_op(NOW + 6, NOW + 5), PLAN_RETIME);
	CHECK_INT(plan_element_op(NOW + 5, IPB_NEVER), PLAN_RETIME);
	CHECK_INT(plan_element_op(IPB_NEVER, NOW + 5), PLAN_RETIME);
}

static void test_reban(void)
{
	/* never shorter unless replace */
	CHECK_INT(plan_reban(NOW + 100, NOW + 50, false, NOW), NOW + 100);
	CHECK_INT(plan_reban(NOW + 100, NOW + 500, false, NOW), NOW + 500);
	CHECK_INT(plan_reban(NOW + 100, NOW + 50, true, NOW), NOW + 50);
	/* fail2ban re-bans a permanently banned address for ten minutes */
	CHECK_INT(plan_reban(IPB_NEVER, NOW + 600, false, NOW), IPB_NEVER);
	CHECK_INT(plan_reban(IPB_NEVER, NOW + 600, true, NOW), NOW + 600);
	CHECK_INT(plan_reban(NOW + 600, IPB_NEVER, false, NOW), IPB_NEVER);
	/* none, or expired: the request counts as given */
	CHECK_INT(plan_reban(0, NOW + 60, false, NOW), NOW + 60);
	CHECK_INT(plan_reban(NOW - 1, NOW + 60, false, NOW), NOW + 60);
	CHECK_INT(plan_reban(NOW, NOW + 60, false, NOW), NOW + 60);
	CHECK_INT(plan_reban(NOW + 1, NOW + 60, false, NOW), NOW + 60);
	CHECK_INT(plan_reban(NOW + 61, NOW + 60, false, NOW), NOW + 61);
}

static void test_effective(void)
{
	struct srcexp b[] = {
		{ "manual", NOW - 10 }, { "f2b", NOW + 30 }, { "drop", NOW + 20 }, { "x", NOW },
	};

	CHECK_INT(plan_effective(b, 4, NOW), NOW + 30);
	CHECK_INT(plan_effective(b, 4, NOW + 25), NOW + 30);
	CHECK_INT(plan_effective(b, 4, NOW + 30), 0);
	CHECK_INT(plan_effective(b, 0, NOW), 0);
	b[2].expires = IPB_NEVER;
	CHECK_INT(plan_effective(b, 4, NOW + 1000000), IPB_NEVER);
	CHECK_INT(plan_effective(b, 1, NOW), 0);
}

static void test_timeout(void)
{
	int64_t now_ms = NOW * 1000 + 250;

	CHECK_INT(plan_timeout_ms(IPB_NEVER, now_ms), 0);
	CHECK_INT(plan_timeout_ms(NOW + 60, now_ms), 59750);
	CHECK_INT(plan_timeout_ms(NOW + 60, NOW * 1000), 60000);
	CHECK_INT(plan_timeout_ms(NOW + 1, now_ms), 1000); /* 750 ms left: at least a second */
	CHECK_INT(plan_timeout_ms(NOW, now_ms), 1000);
	CHECK_INT(plan_timeout_ms(NOW - 5, now_ms), 1000);
	CHECK_INT(plan_timeout_ms(NOW + 2, now_ms), 1750);
	CHECK(plan_timeout_ms(INT64_MAX - 1, now_ms) > (uint64_t)315360000 * 1000);
	CHECK_INT(plan_timeout_ms(NOW + 3600, -1), (NOW + 3600) * 1000 + 1);
}

/* ---- property test: kernel layout vs. the logical bans ---- */

/* Targets concentrated in a few small ranges, so nesting and duplicates are common. */
static struct target random_target(bool full)
{
	static const uint8_t v4_bases[][4] = { { 10, 0, 0, 0 }, { 10, 0, 1, 0 }, { 192, 0, 2, 0 } };
	static const uint8_t v4_lens[] = { 0, 8, 16, 20, 22, 23, 24, 25, 26, 28, 30, 31, 32, 32, 32 };
	static const uint8_t v6_lens[] = { 0, 32, 48, 64, 100, 112, 119, 120, 124, 127, 128, 128 };
	struct target t = { 0 };
	unsigned len;

	if (unit_below(3)) {
		t.family = 4;
		memcpy(t.addr, v4_bases[unit_below(3)], 4);
		t.addr[2] |= (uint8_t)unit_below(4);
		t.addr[3] = (uint8_t)unit_below(256);
		if (!unit_below(20))
			t.addr[0] = (uint8_t)unit_below(256); /* sometimes far away */
		t.plen = 32;
		len = full ? 32 : v4_lens[unit_below(sizeof(v4_lens))];
	} else {
		t.family = 6;
		t.addr[0] = 0x20, t.addr[1] = 0x01, t.addr[2] = 0x0d, t.addr[3] = 0xb8;
		t.addr[7] = (uint8_t)unit_below(2);
		t.addr[14] = (uint8_t)unit_below(2);
		t.addr[15] = (uint8_t)unit_below(256);
		t.plen = 128;
		len = full ? 128 : v6_lens[unit_below(sizeof(v6_lens))];
	}
	target_truncate(&t, len);
	return t;
}

static int64_t random_expiry(void)
{
	switch (unit_below(6)) {
	case 0:
		return IPB_NEVER;
	case 1:
		return NOW - (int64_t)unit_below(1000); /* already expired (or expiring now) */
	default:
		return NOW + 1 + (int64_t)unit_below(1000);
	}
}

/* Brute force over the logical bans: some ban contains the address, live at t. */
static bool bans_block(const struct plan_elem *bans, size_t n, const struct target *a, int64_t t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (bans[i].expires > t && target_contains(&bans[i].t, a))
			return true;
	return false;
}

/* The kernel: one hash set per (family, length) in use, each matched by a rule
 * "saddr & mask(L) @set". Simulated independently of plan_blocked. */
struct kernel_model {
	struct plan_elem *set[PLAN_NSETS][64];
	size_t n[PLAN_NSETS];
	unsigned used[PLAN_NSETS], nused;
};

static void model_build(struct kernel_model *m, struct plan_elem *el, size_t n)
{
	size_t i;
	unsigned k;

	memset(m->n, 0, sizeof(m->n));
	m->nused = 0;
	for (i = 0; i < n; i++) {
		k = plan_set_index(el[i].t.family, el[i].t.plen);
		if (!m->n[k])
			m->used[m->nused++] = k;
		m->set[k][m->n[k]++] = &el[i];
	}
}

static bool model_blocks(const struct kernel_model *m, const struct target *a, int64_t t)
{
	struct target x;
	unsigned u, k, len;
	size_t i;

	for (u = 0; u < m->nused; u++) {
		k = m->used[u];
		if ((k < 33) != (a->family == 4))
			continue;
		len = k < 33 ? k : k - 33;
		x = *a;
		target_truncate(&x, len);
		for (i = 0; i < m->n[k]; i++)
			if (!memcmp(m->set[k][i]->t.addr, x.addr, 16) && m->set[k][i]->expires > t)
				return true;
	}
	return false;
}

/* Each distinct target with a live ban yields exactly one element, with the latest
 * expiry; nothing else appears; the result is strictly sorted. */
static bool check_elements(const struct plan_elem *bans, size_t n, const struct plan_elem *el,
			   size_t nel)
{
	size_t i, j, distinct = 0;
	int64_t best;
	bool first;

	for (i = 0; i < nel; i++)
		if (el[i].expires <= NOW || (i && target_cmp(&el[i - 1].t, &el[i].t) >= 0))
			return false;
	for (i = 0; i < n; i++) {
		best = 0;
		first = true;
		for (j = 0; j < n; j++) {
			if (!target_equal(&bans[i].t, &bans[j].t))
				continue;
			if (j < i)
				first = false;
			if (bans[j].expires > NOW && bans[j].expires > best)
				best = bans[j].expires;
		}
		if (!first || !best)
			continue;
		distinct++;
		for (j = 0; j < nel && !target_equal(&el[j].t, &bans[i].t); j++)
			;
		if (j == nel || el[j].expires != best)
			return false;
	}
	return distinct == nel;
}

static void test_property(void)
{
	static struct kernel_model m;
	struct plan_elem bans[64], *el = NULL;
	unsigned round, probes = 0, blocked = 0, bad_elems = 0, bad_model = 0, bad_lookup = 0;
	int64_t times[8];
	size_t n, i;
	ssize_t nel;
	struct target a;
	unsigned p, k;

	for (round = 0; round < 4000; round++) {
		n = unit_below(40);
		for (i = 0; i < n; i++) {
			if (i && !unit_below(4))
				bans[i].t = bans[unit_below(i)].t; /* the same target, another source */
			else
				bans[i].t = random_target(false);
			bans[i].expires = random_expiry();
		}
		nel = plan_elements(bans, n, NOW, &el);
		if (nel < 0) {
			CHECK(nel >= 0);
			return;
		}
		bad_elems += !check_elements(bans, n, el, (size_t)nel);
		model_build(&m, el, (size_t)nel);

		times[0] = NOW;
		times[1] = NOW + 1;
		times[2] = NOW + (int64_t)unit_below(1100);
		times[3] = n ? bans[unit_below(n)].expires : NOW + 7;
		times[4] = times[3] == IPB_NEVER ? NOW + 999 : times[3] - 1;
		times[5] = NOW + 1000;
		times[6] = NOW + 100000;
		times[7] = IPB_NEVER - 1;
		for (p = 0; p < 32; p++) {
			/* probe inside a ban often, anywhere sometimes */
			if (n && p % 2) {
				a = bans[unit_below(n)].t;
				for (k = a.plen; k < target_addrlen(&a) * 8; k++)
					if (unit_below(2))
						a.addr[k / 8] |= (uint8_t)(0x80 >> (k % 8));
				a.plen = (uint8_t)(target_addrlen(&a) * 8);
			} else {
				a = random_target(true);
			}
			for (k = 0; k < 8; k++) {
				bool want = bans_block(bans, n, &a, times[k]);

				if (times[k] < NOW)
					continue;
				probes++;
				blocked += want;
				if (model_blocks(&m, &a, times[k]) != want) {
					if (!bad_model++)
						fprintf(stderr, "     %s at now+%lld: model %d, bans %d\n",
							fmt(&a), (long long)(times[k] - NOW), !want, want);
				}
				bad_lookup += plan_blocked(el, (size_t)nel, &a, times[k]) != want;
			}
		}
		free(el);
		el = NULL;
	}
	printf("  property: 4000 ban sets, %u probes (%u blocked)\n", probes, blocked);
	CHECK_INT(bad_elems, 0);
	CHECK_INT(bad_model, 0);
	CHECK_INT(bad_lookup, 0);
	CHECK(blocked > probes / 5 && blocked < probes * 4 / 5); /* the test tests something */
}

static void test_elements_examples(void)
{
	struct plan_elem bans[] = {
		{ tgt("10.0.0.0/8"), NOW + 100 },     { tgt("10.1.0.0/16"), NOW + 500 },
		{ tgt("10.1.2.3"), IPB_NEVER },       { tgt("10.0.0.0/8"), NOW + 300 },
		{ tgt("10.0.0.0/8"), NOW - 1 },       { tgt("192.0.2.1"), NOW },
		{ tgt("2001:db8::/32"), NOW + 1 },    { tgt("10.1.2.3"), NOW + 5 },
	};
	struct plan_elem *el;
	struct target a = tgt("10.1.2.4");
	ssize_t n;

	n = plan_elements(bans, sizeof(bans) / sizeof(bans[0]), NOW, &el);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_STR(fmt(&el[0].t), "10.0.0.0/8");
		CHECK_INT(el[0].expires, NOW + 300);
		CHECK_STR(fmt(&el[1].t), "10.1.0.0/16");
		CHECK_STR(fmt(&el[2].t), "10.1.2.3");
		CHECK_INT(el[2].expires, IPB_NEVER);
		CHECK_STR(fmt(&el[3].t), "2001:db8::/32");
		/* when the /8 lapses the /16 holds; when the /16 lapses only 10.1.2.3 stays */
		CHECK(plan_blocked(el, 4, &a, NOW + 299));
		CHECK(plan_blocked(el, 4, &a, NOW + 499));
		CHECK(!plan_blocked(el, 4, &a, NOW + 500));
		a = tgt("10.1.2.3");
		CHECK(plan_blocked(el, 4, &a, NOW + 100000));
		a = tgt("10.1.0.0/20"); /* query of a prefix: wholly inside the /16 */
		CHECK(plan_blocked(el, 4, &a, NOW));
		a = tgt("10.0.0.0/7");
		CHECK(!plan_blocked(el, 4, &a, NOW));
	}
	free(el);
	n = plan_elements(NULL, 0, NOW, &el);
	CHECK_INT(n, 0);
	free(el);
}

/* ---- plan_diff against a brute-force diff ---- */

struct diff_log {
	size_t add[64], del[64], same_a[64], same_b[64];
	size_t nadd, ndel, nsame;
	bool ordered;
	size_t last_a, last_b; /* +1, 0 = none yet */
};

static void log_add(void *arg, size_t ib)
{
	struct diff_log *d = arg;

	d->ordered &= ib + 1 > d->last_b;
	d->last_b = ib + 1;
	d->add[d->nadd++] = ib;
}

static void log_del(void *arg, size_t ia)
{
	struct diff_log *d = arg;

	d->ordered &= ia + 1 > d->last_a;
	d->last_a = ia + 1;
	d->del[d->ndel++] = ia;
}

static void log_same(void *arg, size_t ia, size_t ib)
{
	struct diff_log *d = arg;

	d->ordered &= ia + 1 > d->last_a && ib + 1 > d->last_b;
	d->last_a = ia + 1;
	d->last_b = ib + 1;
	d->same_a[d->nsame] = ia;
	d->same_b[d->nsame++] = ib;
}

static int cmp_target(const void *a, const void *b)
{
	return target_cmp(a, b);
}

static size_t random_sorted_set(struct target *v, size_t max)
{
	size_t n = unit_below(max + 1), i, k = 0;

	for (i = 0; i < n; i++)
		v[i] = random_target(false);
	qsort(v, n, sizeof(*v), cmp_target);
	for (i = 0; i < n; i++)
		if (!k || !target_equal(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

static void test_diff(void)
{
	struct target a[64], b[64];
	struct diff_log d;
	struct plan_diff_cb cb = { log_add, log_del, log_same, &d };
	size_t na, nb, i, j, k;
	unsigned round, bad = 0;

	for (round = 0; round < 20000; round++) {
		na = random_sorted_set(a, round % 3 ? 30 : 3);
		nb = random_sorted_set(b, round % 5 ? 30 : 3);
		if (round % 7 == 0) /* b is a plus and minus a few */
			for (nb = 0, i = 0; i < na; i++)
				if (unit_below(4))
					b[nb++] = a[i];
		memset(&d, 0, sizeof(d));
		d.ordered = true;
		plan_diff(a, na, b, nb, &cb);
		bool ok = d.ordered && d.nadd + d.nsame == nb && d.ndel + d.nsame == na;

		for (k = 0, i = 0; ok && i < nb; i++) { /* adds: exactly b's not in a, in order */
			for (j = 0; j < na && !target_equal(&a[j], &b[i]); j++)
				;
			if (j == na)
				ok = k < d.nadd && d.add[k++] == i;
		}
		for (k = 0, i = 0; ok && i < na; i++) {
			for (j = 0; j < nb && !target_equal(&a[i], &b[j]); j++)
				;
			if (j == nb)
				ok = k < d.ndel && d.del[k++] == i;
		}
		for (k = 0; ok && k < d.nsame; k++)
			ok = target_equal(&a[d.same_a[k]], &b[d.same_b[k]]);
		bad += !ok;
	}
	CHECK_INT(bad, 0);
	/* callbacks may be NULL */
	cb.add = NULL;
	cb.same = NULL;
	na = random_sorted_set(a, 10);
	plan_diff(a, na, b, 0, &cb);
	CHECK(1);
}

static void test_sort_unique(void)
{
	struct target_list l = { 0 };
	struct target want[200];
	uint32_t want_line[200];
	unsigned round, bad = 0;
	size_t n, i, j, nw;

	for (round = 0; round < 3000; round++) {
		memset(&l, 0, sizeof(l));
		n = unit_below(round % 10 ? 60 : 200);
		for (i = 0; i < n; i++) {
			struct target t = i && unit_below(3) ? l.v[unit_below(i)] : random_target(false);

			target_list_push(&l, &t, round % 4 ? (uint32_t)(i + 1) : 0);
		}
		/* brute force: first occurrence of each target, then sorted */
		for (nw = 0, i = 0; i < n; i++) {
			for (j = 0; j < nw && !target_equal(&want[j], &l.v[i]); j++)
				;
			if (j == nw)
				want[nw] = l.v[i], want_line[nw++] = l.line[i];
		}
		for (i = 1; i < nw; i++) /* insertion sort, carrying the line */
			for (j = i; j > 0 && target_cmp(&want[j - 1], &want[j]) > 0; j--) {
				struct target t = want[j];
				uint32_t ln = want_line[j];

				want[j] = want[j - 1], want_line[j] = want_line[j - 1];
				want[j - 1] = t, want_line[j - 1] = ln;
			}
		plan_sort_unique(&l);
		bool ok = l.n == nw;

		for (i = 0; ok && i < nw; i++)
			ok = target_equal(&l.v[i], &want[i]) && l.line[i] == want_line[i];
		bad += !ok;
		target_list_free(&l);
	}
	CHECK_INT(bad, 0);
}

/* Sorted input takes the linear check and stays as it is; a duplicate in otherwise
 * sorted input still goes through the sort that drops it. */
static void test_sort_presorted(void)
{
	struct target_list l = { 0 };
	struct target t;
	size_t i;

	for (i = 0; i < 300; i++) {
		t = random_target(false);
		target_list_push(&l, &t, (uint32_t)(i + 1));
	}
	plan_sort_unique(&l);
	for (i = 1; i < l.n && target_cmp(&l.v[i - 1], &l.v[i]) < 0; i++)
		;
	CHECK_INT(i, l.n);
	for (i = 0; i < l.n; i++)
		l.line[i] = (uint32_t)(1000 + i);
	plan_sort_unique(&l); /* already sorted: nothing moves */
	for (i = 0; i < l.n && l.line[i] == 1000 + i; i++)
		;
	CHECK_INT(i, l.n);
	if (l.n > 10) {
		size_t n = l.n;

		l.v[5] = l.v[4]; /* sorted, but not unique */
		plan_sort_unique(&l);
		CHECK_INT(l.n, n - 1);
		CHECK_INT(l.line[4], 1004);
	}
	target_list_free(&l);
}


/* ---- plan_change: one request on one target ---- */

static void test_change_examples(void)
{
	struct plan_row rows[3] = {
		{ "f2b", NOW - 100, NOW + 600, "ssh" },
		{ "manual", NOW - 50, IPB_NEVER, NULL },
		{ "feed", NOW - 9000, NOW - 10, NULL }, /* expired, awaiting gc */
	};
	bool del[3];
	struct plan_change c;
	struct plan_req q = { .source = "f2b", .expires = NOW + 60 };

	/* a shorter re-ban changes nothing; the permanent ban keeps the element */
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(!c.put && !c.added && !c.expiry_changed && c.kop == PLAN_K_NONE);
	/* --replace shortens the row; the element is still the permanent ban's */
	q.replace = true;
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(c.put && !c.added && c.expiry_changed && c.row.expires == NOW + 60);
	CHECK_INT(c.row.created, NOW - 100);
	CHECK_STR(c.row.reason, "ssh");
	CHECK(c.kop == PLAN_K_NONE);
	/* withdrawing the permanent ban retimes the element to f2b's expiry, new comment */
	q = (struct plan_req){ .source = "manual" };
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(!del[0] && del[1] && !del[2] && c.ndel == 1 && c.removed == 1);
	CHECK(c.kop == PLAN_K_RETIME && c.k_expires == NOW + 600);
	CHECK_STR(c.k_source, "f2b");
	/* all sources: three rows deleted, two of them bans; the element goes */
	q.all_sources = true;
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(c.ndel == 3 && c.removed == 2 && c.kop == PLAN_K_DEL && c.k_expires == 0);
	/* a source whose row expired bans again: a new ban, created now */
	q = (struct plan_req){ .source = "feed", .expires = NOW + 30, .reason = "list" };
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(c.put && c.added && c.row.created == NOW && c.kop == PLAN_K_NONE);
	/* extending the winner's own finite expiry keeps the comment: in place */
	rows[1].expires = NOW + 100;
	q = (struct plan_req){ .source = "f2b", .expires = NOW + 7200 };
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(c.kop == PLAN_K_EXTEND && c.k_expires == NOW + 7200);
	/* only a new reason: the row is written, no expiry change, the comment changes */
	q = (struct plan_req){ .source = "f2b", .expires = NOW + 60, .reason = "web" };
	plan_change(rows, 3, &q, NOW, del, &c);
	CHECK(c.put && !c.expiry_changed && c.kop == PLAN_K_NONE);
	/* nothing on the target yet */
	q = (struct plan_req){ .source = "manual", .expires = IPB_NEVER };
	plan_change(rows, 0, &q, NOW, del, &c);
	CHECK(c.put && c.added && c.kop == PLAN_K_ADD && c.k_expires == IPB_NEVER);
	q.expires = 0;
	plan_change(rows, 0, &q, NOW, del, &c);
	CHECK(!c.put && c.ndel == 0 && c.kop == PLAN_K_NONE);
}

/* The contract, written plainly: what the source's row becomes, and the element's
 * expiry (the latest live one). */
static int64_t model_effective(const struct plan_row *r, size_t n, const bool *gone)
{
	int64_t best = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!(gone && gone[i]) && r[i].expires > NOW && r[i].expires > best)
			best = r[i].expires;
	return best;
}

static const char *const model_sources[] = { "a", "b", "c", "d" };
static const char *const model_reasons[] = { NULL, "", "x", "y" };

static int64_t change_expiry(void)
{
	static const int64_t pick[] = { NOW - 5, NOW, NOW + 1, NOW + 60, NOW + 3600, IPB_NEVER };

	return pick[unit_below(sizeof(pick) / sizeof(pick[0]))];
}

static void test_change_model(void)
{
	unsigned trial, bad = 0;

	for (trial = 0; trial < 200000 && bad < 5; trial++) {
		struct plan_row rows[4], after[5];
		bool del[4], gone[5] = { false };
		struct plan_req q = { model_sources[unit_below(4)], 0, false, false, NULL };
		struct plan_change c;
		size_t n = 0, na, i, own = 4;
		int64_t before, want, old = 0;
		bool ok = true;

		for (i = 0; i < 4; i++) /* each source's row, or none */
			if (unit_below(2))
				rows[n++] = (struct plan_row){ model_sources[i], NOW - 1000 - (int64_t)i,
							       change_expiry(),
							       model_reasons[unit_below(4)] };
		if (unit_below(3)) {
			q.expires = change_expiry();
			if (q.expires <= NOW)
				q.expires = NOW + 10;
			q.replace = unit_below(3) == 0;
			q.reason = model_reasons[unit_below(4)];
		} else {
			q.all_sources = unit_below(3) == 0;
		}
		before = model_effective(rows, n, NULL);
		plan_change(rows, n, &q, NOW, del, &c);
		/* the journal after, from the plan */
		memcpy(after, rows, n * sizeof(rows[0]));
		na = n;
		for (i = 0; i < n; i++) {
			gone[i] = del[i];
			if (!strcmp(rows[i].source, q.source))
				own = i;
		}
		if (c.put) {
			if (own == 4)
				own = na++;
			after[own] = c.row;
		}
		/* the contract */
		if (q.expires) {
			const struct plan_row *o = own < n ? &rows[own] : NULL;
			int64_t exp = q.expires;

			if (o && o->expires > NOW)
				old = o->expires;
			if (old && !q.replace && old > exp)
				exp = old;
			ok &= own < na && after[own].expires == exp && c.ndel == 0;
			ok &= after[own].created == (old ? o->created : NOW);
			ok &= (q.reason ? q.reason : o ? o->reason : NULL) == after[own].reason ||
			      (!c.put && q.reason && o->reason && !strcmp(q.reason, o->reason));
			ok &= c.added == !old && c.expiry_changed == (exp != old);
		} else {
			size_t live = 0, match = 0;

			for (i = 0; i < n; i++) {
				bool m = q.all_sources || !strcmp(rows[i].source, q.source);

				ok &= del[i] == m;
				match += m;
				live += m && rows[i].expires > NOW;
			}
			ok &= !c.put && c.ndel == match && c.removed == live;
		}
		want = model_effective(after, na, gone);
		ok &= c.k_expires == want;
		ok &= (c.kop == PLAN_K_NONE) == (before == want);
		ok &= (c.kop == PLAN_K_ADD) == (!before && want);
		ok &= (c.kop == PLAN_K_DEL) == (before && !want);
		if (want) { /* the comment is a winning row's */
			bool found = false;

			for (i = 0; i < na; i++)
				found |= !gone[i] && after[i].expires == want &&
					 !strcmp(after[i].source, c.k_source) && after[i].reason == c.k_reason;
			ok &= found;
		}
		if (c.kop == PLAN_K_EXTEND)
			ok &= before != IPB_NEVER && want != IPB_NEVER;
		if (!ok) {
			bad++;
			fprintf(stderr, "plan_change disagrees with the model (trial %u: %zu rows, %s %s)\n",
				trial, n, q.expires ? "ban by" : "withdraw of", q.source);
		}
	}
	CHECK_INT(bad, 0);
}

int main(void)
{
	unit_seed();
	test_set_names();
	test_element_op();
	test_reban();
	test_effective();
	test_timeout();
	test_elements_examples();
	test_property();
	test_diff();
	test_sort_unique();
	test_sort_presorted();
	test_change_examples();
	test_change_model();
	return unit_done("test_plan");
}
