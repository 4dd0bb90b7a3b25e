// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for setcmp.c: the journal's elements of one set against the kernel's, fed
 * by hand as the journal and a dump would feed them, including the repeats a dump returns
 * while the kernel resizes the set's hash table. */
#include <stdlib.h>
#include <string.h>

#include "setcmp.h"
#include "unit.h"

#define NOW_MS 1700000000000LL

static void journal_elem(struct setcmp *s, const char *target, int64_t expires)
{
	struct target t = tgt(target);

	if (setcmp_journal_elem(s, &t, expires, "src", NULL))
		fprintf(stderr, "test setup: out of memory\n"), exit(2);
}

/* remaining: ms the kernel still holds it (0 = permanent) */
static void kernel_elem(struct setcmp *s, const char *target, uint64_t remaining)
{
	struct target t = tgt(target);

	if (setcmp_kernel_elem(s, &t, remaining, NULL))
		fprintf(stderr, "test setup: out of memory\n"), exit(2);
}

/* The journal wants a, b, c; the dump returned b twice, c twice and x three times. */
static void test_repeats_in_dump(void)
{
	int64_t exp = ipb_now_ms() / 1000 + 3600;
	uint64_t left = (uint64_t)(exp * 1000 - ipb_now_ms());
	struct setcmp s = { 0 };
	struct ipb_err e;

	journal_elem(&s, "10.0.0.1", exp);
	journal_elem(&s, "10.0.0.2", exp);
	journal_elem(&s, "10.0.0.3", IPB_NEVER);
	kernel_elem(&s, "10.0.0.9", 0);
	kernel_elem(&s, "10.0.0.2", left);
	kernel_elem(&s, "10.0.0.3", 0);
	kernel_elem(&s, "10.0.0.9", 0);
	kernel_elem(&s, "10.0.0.2", left);
	kernel_elem(&s, "10.0.0.3", 0);
	kernel_elem(&s, "10.0.0.9", 0);
	CHECK_INT(setcmp_diff(&s, ipb_now_ms(), 0, &e), 0);
	/* only 10.0.0.1 is missing; a repeat of a wanted element is not unexpected */
	if (CHECK_INT(s.nmissing, 1))
		CHECK_STR(fmt(&s.j[s.missing[0]].t), "10.0.0.1");
	CHECK_INT(s.nretime, 0);
	/* 10.0.0.9 is deleted once: a second delete of it in the batch would fail */
	if (CHECK_INT(s.nunexpected, 1))
		CHECK_STR(fmt(&s.k[s.unexpected[0]].t), "10.0.0.9");
	setcmp_free(&s);
}

/* Random journals and dumps with random repeats: the diff is the set difference. */
static void test_random(void)
{
	unsigned round, i, ok = 1;

	for (round = 0; round < 200; round++) {
		bool want[256] = { false }, have[256] = { false }, seen[256] = { false };
		unsigned nmiss = 0, nunexp = 0;
		struct setcmp s = { 0 };
		struct ipb_err e;
		char buf[32];

		for (i = 0; i < 256; i++) {
			want[i] = unit_below(3) == 0;
			have[i] = unit_below(3) == 0;
			snprintf(buf, sizeof(buf), "10.1.0.%u", i);
			if (want[i])
				journal_elem(&s, buf, IPB_NEVER);
			nmiss += want[i] && !have[i];
			nunexp += have[i] && !want[i];
		}
		/* the dump in a random order, each present element one to three times */
		for (i = 0; i < 600; i++) {
			unsigned k = (unsigned)unit_below(256);

			if (!have[k] || (seen[k] && unit_below(2)))
				continue;
			seen[k] = true;
			snprintf(buf, sizeof(buf), "10.1.0.%u", k);
			kernel_elem(&s, buf, 0);
		}
		for (i = 0; i < 256; i++)
			if (have[i] && !seen[i]) {
				snprintf(buf, sizeof(buf), "10.1.0.%u", i);
				kernel_elem(&s, buf, 0);
			}
		ok &= setcmp_diff(&s, NOW_MS, 0, &e) == 0;
		ok &= s.nmissing == nmiss && s.nunexpected == nunexp && s.nretime == 0;
		for (i = 1; i < s.nunexpected; i++)
			ok &= target_cmp(&s.k[s.unexpected[i - 1]].t, &s.k[s.unexpected[i]].t) < 0;
		setcmp_free(&s);
	}
	CHECK(ok);
}

/* The kernel elements come out of setcmp_diff sorted as target_cmp sorts, without
 * repeats: one family and length (the radix sort, with bytes all elements share), and
 * a mixed batch (qsort). */
static void test_sort_matches_target_cmp(void)
{
	static const char *const shapes[] = { "v4", "v4 one /16", "v6 /64", "mixed" };
	unsigned shape, i, ok = 1;

	for (shape = 0; shape < 4; shape++) {
		struct setcmp s = { 0 };
		struct ipb_err e;
		size_t n = 0, j;

		for (i = 0; i < 5000; i++) {
			struct target t = { .family = 4, .plen = 32 };
			unsigned r = (unsigned)unit_rand();

			if (shape == 2 || (shape == 3 && (r & 1))) {
				t.family = 6;
				t.plen = 64;
				t.addr[0] = 0x20;
				t.addr[1] = 0x01;
				t.addr[2] = 0x0d;
				t.addr[3] = 0xb8;
				for (j = 4; j < 8; j++)
					t.addr[j] = (uint8_t)unit_below(shape == 3 ? 4 : 256);
			} else {
				t.addr[0] = shape == 1 ? 100 : (uint8_t)unit_below(256);
				t.addr[1] = shape == 1 ? 64 : (uint8_t)unit_below(256);
				t.addr[2] = (uint8_t)unit_below(shape == 3 ? 2 : 256);
				t.addr[3] = (uint8_t)unit_below(256);
				if (shape == 3 && (r & 2))
					t.plen = 24, t.addr[3] = 0;
			}
			if (setcmp_kernel_elem(&s, &t, 0, NULL))
				fprintf(stderr, "test setup: out of memory\n"), exit(2);
			if (unit_below(4) == 0 && setcmp_kernel_elem(&s, &t, 0, NULL)) /* a repeat */
				fprintf(stderr, "test setup: out of memory\n"), exit(2);
		}
		n = s.nk;
		if (setcmp_diff(&s, NOW_MS, 0, &e)) {
			ok = 0;
		} else {
			for (j = 1; j < s.nk; j++)
				if (target_cmp(&s.k[j - 1].t, &s.k[j].t) >= 0) {
					fprintf(stderr, "  %s: out of order at %zu of %zu\n", shapes[shape], j, n);
					ok = 0;
					break;
				}
			/* every element is unexpected (no journal): each distinct one once */
			ok &= s.nunexpected == s.nk && s.nk > 1000 && s.nk <= n;
		}
		setcmp_free(&s);
	}
	CHECK(ok);
}

/* A kernel whose timeouts stop at max_ms (ipset: 2147483 s): a ban that ends later is held
 * without a timeout and agrees; once it is within reach it must carry its timeout. */
static void test_max_timeout(void)
{
	const uint64_t max_ms = 2147483000ull;
	int64_t now = ipb_now_ms(), far = now / 1000 + 40 * 86400, near = now / 1000 + 3600;
	struct setcmp s = { 0 };
	struct ipb_err e;

	journal_elem(&s, "10.2.0.1", far);  /* no timeout in the kernel: agrees */
	journal_elem(&s, "10.2.0.2", far);  /* a timeout the kernel cannot have held: retime */
	journal_elem(&s, "10.2.0.3", near); /* within reach but held without one: retime */
	journal_elem(&s, "10.2.0.4", near); /* within reach, right timeout: agrees */
	journal_elem(&s, "10.2.0.5", IPB_NEVER);
	kernel_elem(&s, "10.2.0.1", 0);
	kernel_elem(&s, "10.2.0.2", max_ms);
	kernel_elem(&s, "10.2.0.3", 0);
	kernel_elem(&s, "10.2.0.4", (uint64_t)(near * 1000 - now));
	kernel_elem(&s, "10.2.0.5", 0);
	CHECK_INT(setcmp_diff(&s, now, max_ms, &e), 0);
	CHECK_INT(s.nmissing, 0);
	CHECK_INT(s.nunexpected, 0);
	if (CHECK_INT(s.nretime, 2)) {
		CHECK_STR(fmt(&s.j[s.retime[0]].t), "10.2.0.2");
		CHECK_STR(fmt(&s.j[s.retime[1]].t), "10.2.0.3");
	}
	setcmp_free(&s);
}

/* The string pool: copies stay put as the pool grows, a run of equal strings is
 * stored once, and a string longer than a block gets a block of its own. */
static void test_strpool(void)
{
	struct strpool sp = { 0 };
	const char *first, *a, *b, *c, *big;
	char buf[32], *huge = malloc(100000);
	unsigned i, ok = 1;

	first = strpool_add(&sp, "feed");
	CHECK_STR(first, "feed");
	CHECK(strpool_add(&sp, "feed") == first);
	a = strpool_add(&sp, "manual");
	b = strpool_add(&sp, "feed");
	CHECK(b != first); /* only the last string is compared */
	CHECK_STR(a, "manual");
	memset(huge, 'x', 99999);
	huge[99999] = 0;
	big = strpool_add(&sp, huge);
	CHECK(big && strlen(big) == 99999);
	for (i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "reason %u", i);
		c = strpool_add(&sp, buf);
		if (!c || strcmp(c, buf))
			ok = 0;
	}
	CHECK(ok);
	CHECK_STR(first, "feed");
	CHECK_STR(a, "manual");
	CHECK_STR(b, "feed");
	CHECK(big[0] == 'x' && big[99998] == 'x' && !big[99999]);
	strpool_free(&sp);
	CHECK(sp.head == NULL && sp.last == NULL);
	free(huge);
}

int main(void)
{
	unit_seed();
	test_strpool();
	test_repeats_in_dump();
	test_max_timeout();
	test_random();
	test_sort_matches_target_cmp();
	return unit_done("test_setcmp");
}
