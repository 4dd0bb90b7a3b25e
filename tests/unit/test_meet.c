// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for meet.c: two reads of one sorted sequence, ascending and descending, in
 * every interleaving a pair of threads could produce (driven here from one thread by a
 * seeded random schedule), must join into the sequence, each element once. A real pair
 * of threads runs the same check too. */
#include <pthread.h>
#include <stdlib.h>

#include "meet.h"
#include "unit.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* n distinct targets in target_cmp order: IPv4 addresses and prefixes, then IPv6. */
static struct target *sequence(size_t n)
{
	struct target *v = calloc(n ? n : 1, sizeof(*v));
	size_t i, v4 = n / 2 + n % 2;

	for (i = 0; i < n; i++) {
		uint32_t k = (uint32_t)(i < v4 ? i : i - v4) * 7u;

		v[i].family = i < v4 ? 4 : 6;
		v[i].plen = i < v4 ? 32 : 128;
		v[i].addr[0] = (uint8_t)(k >> 24);
		v[i].addr[1] = (uint8_t)(k >> 16);
		v[i].addr[2] = (uint8_t)(k >> 8);
		v[i].addr[3] = (uint8_t)k;
		if (i % 5 == 1 && i < v4) { /* a network and an address in it: same net, two keys */
			v[i] = v[i - 1];
			v[i - 1].plen = 24;
		}
	}
	for (i = 1; i < n; i++)
		if (target_cmp(&v[i - 1], &v[i]) >= 0)
			fprintf(stderr, "test setup: sequence not increasing at %zu\n", i), exit(2);
	return v;
}

static struct ban ban_of(const struct target *v, size_t i)
{
	return (struct ban){ .t = v[i], .expires = 1000 + (int64_t)i };
}

/* The joined result is exactly v[0..n), with each one's expiry. */
static int same(const struct current *cur, const struct target *v, size_t n)
{
	size_t i;

	if (cur->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (target_cmp(&cur->t[i], &v[i]) || cur->exp[i] != 1000 + (int64_t)i)
			return 0;
	return 1;
}

/* One schedule: the descending side starts after `delay` ascending steps (or never), and
 * at each step a coin picks which side moves. Returns whether the join was exact. */
static int one_schedule(const struct target *v, size_t n, size_t delay, bool down_runs)
{
	struct meet m;
	struct current cur = { 0 };
	size_t up_i = 0, down_i = n, steps = 0;
	bool up_end = false, up_stopped = false, down_end = !down_runs;
	struct ban b;
	int ok;

	meet_init(&m);
	while (!up_end || !down_end) {
		bool up_moves = !up_end && (down_end || steps < delay || next_rand() % 2);

		steps++;
		if (up_moves) {
			if (up_i == n) {
				up_end = true;
				meet_exchange(&m.up);
				continue;
			}
			b = ban_of(v, up_i);
			if (meet_cb(&m.up, &b)) {
				up_end = up_stopped = true;
				continue;
			}
			up_i++;
		} else {
			if (down_i == 0) {
				down_end = true;
				continue;
			}
			b = ban_of(v, down_i - 1);
			if (meet_cb(&m.down, &b)) {
				down_end = true;
				continue;
			}
			down_i--;
		}
	}
	if (!up_stopped) { /* the ascending side read everything: its rows are the result */
		cur = m.up.rows;
		memset(&m.up.rows, 0, sizeof(m.up.rows));
	} else if (meet_join(&m, &cur)) {
		fprintf(stderr, "test: out of memory\n");
		exit(2);
	}
	ok = same(&cur, v, n);
	current_free(&cur);
	meet_destroy(&m);
	return ok;
}

static void test_schedules(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 4097 };
	unsigned bad = 0, runs = 0;
	size_t s, n, k;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct target *v = sequence(n = sizes[s]);

		for (k = 0; k < 200; k++, runs++)
			bad += !one_schedule(v, n, k < 100 ? next_rand() % (n + 2) : 0, k % 10 != 9);
		free(v);
	}
	for (k = 0; k < 300; k++, runs++) { /* random sizes */
		struct target *v = sequence(n = next_rand() % 3000);

		bad += !one_schedule(v, n, next_rand() % (n + 2), true);
		free(v);
	}
	printf("  %u schedules, %u joins wrong\n", runs, bad);
	CHECK_INT(bad, 0);
}

/* Both sides on real threads over 200k elements, a few times. */
struct thread_arg {
	struct meet_side *side;
	const struct target *v;
	size_t n;
	bool stopped;
};

static void *side_run(void *arg)
{
	struct thread_arg *a = arg;
	struct ban b;
	size_t i;

	for (i = 0; i < a->n; i++) {
		size_t k = a->side->up ? i : a->n - 1 - i;

		b = ban_of(a->v, k);
		if (meet_cb(a->side, &b)) {
			a->stopped = true;
			return NULL;
		}
	}
	meet_exchange(a->side);
	return NULL;
}

static void test_threads(void)
{
	const size_t n = 200000;
	struct target *v = sequence(n);
	unsigned round, bad = 0, met = 0;

	for (round = 0; round < 5; round++) {
		struct meet m;
		struct current cur = { 0 };
		struct thread_arg up, down;
		pthread_t tu, td;

		meet_init(&m);
		up = (struct thread_arg){ &m.up, v, n, false };
		down = (struct thread_arg){ &m.down, v, n, false };
		pthread_create(&tu, NULL, side_run, &up);
		pthread_create(&td, NULL, side_run, &down);
		pthread_join(tu, NULL);
		pthread_join(td, NULL);
		if (!up.stopped) {
			cur = m.up.rows;
			memset(&m.up.rows, 0, sizeof(m.up.rows));
		} else {
			met++;
			if (meet_join(&m, &cur))
				exit(2);
		}
		bad += !same(&cur, v, n);
		current_free(&cur);
		meet_destroy(&m);
	}
	printf("  threads: 5 rounds of %zu, %u met in the middle, %u wrong\n", n, met, bad);
	CHECK_INT(bad, 0);
	free(v);
}

int main(void)
{
	test_schedules();
	test_threads();
	return unit_done("meet");
}
