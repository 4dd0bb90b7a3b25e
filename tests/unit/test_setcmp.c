/* Unit tests for setcmp.c: the journal's elements of one set against the kernel's, fed
 * by hand as a dump would feed them, including the repeats a dump returns while the
 * kernel resizes the set's hash table. */
#include <stdlib.h>

#include "setcmp.h"
#include "unit.h"

#define NOW_MS 1700000000000LL

static void journal_elem(struct setcmp *s, const char *target, int64_t expires)
{
	s->j = realloc(s->j, (s->nj + 1) * sizeof(*s->j));
	s->j[s->nj++] = (struct jelem){ tgt(target), expires, strdup("src"), NULL };
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

int main(void)
{
	unit_seed();
	test_repeats_in_dump();
	test_max_timeout();
	test_random();
	return unit_done("test_setcmp");
}
