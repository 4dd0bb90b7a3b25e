// SPDX-License-Identifier: GPL-2.0-only
/* Two reads of one sorted sequence that meet in the middle: one side reads ascending, the
 * other descending, each on its own thread, and together they hold every element once.
 *
 * Every MEET_EVERY elements each side publishes the last key it read (the ascending side
 * its highest, the descending side its lowest) and looks at the other's; it stops at a
 * key the other has already read. The ascending side then holds every key below where it
 * stopped and the descending side every key from its lowest up, so together they hold
 * every element; the keys both read are dropped from the ascending side's end when the
 * two are joined. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "meet.h"

int current_push(struct current *cur, const struct target *t, int64_t expires)
{
	if ((cur->n == cur->tcap && ipb_grow(&cur->t, &cur->tcap, cur->n + 1, sizeof(*cur->t))) ||
	    (cur->n == cur->ecap && ipb_grow(&cur->exp, &cur->ecap, cur->n + 1, sizeof(*cur->exp))))
		return -ENOMEM;
	cur->exp[cur->n] = expires;
	cur->t[cur->n++] = *t;
	return 0;
}

void current_free(struct current *cur)
{
	free(cur->t);
	free(cur->exp);
	memset(cur, 0, sizeof(*cur));
}

void meet_init(struct meet *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->up.m = m->down.m = m;
	m->up.up = true;
}

void meet_destroy(struct meet *m)
{
	current_free(&m->up.rows);
	current_free(&m->down.rows);
	pthread_mutex_destroy(&m->mu);
}

void meet_exchange(struct meet_side *s)
{
	struct meet *m = s->m;
	int me = s->up ? 0 : 1;

	pthread_mutex_lock(&m->mu);
	if (s->rows.n) {
		m->pos[me] = s->rows.t[s->rows.n - 1];
		m->known[me] = true;
	}
	s->other = m->pos[!me];
	s->other_known = m->known[!me];
	pthread_mutex_unlock(&m->mu);
}

int meet_cb(void *arg, const struct ban *b)
{
	struct meet_side *s = arg;
	int cmp;

	if (s->rows.n % MEET_EVERY == 0)
		meet_exchange(s);
	if (s->other_known) {
		cmp = target_cmp(&b->t, &s->other);
		if (s->up ? cmp >= 0 : cmp <= 0)
			return 1;
	}
	return current_push(&s->rows, &b->t, b->expires);
}

int meet_join(struct meet *m, struct current *cur)
{
	struct current *up = &m->up.rows, *down = &m->down.rows;
	size_t i;

	if (down->n)
		while (up->n && target_cmp(&up->t[up->n - 1], &down->t[down->n - 1]) >= 0)
			up->n--;
	*cur = *up;
	memset(up, 0, sizeof(*up));
	for (i = down->n; i > 0; i--)
		if (current_push(cur, &down->t[i - 1], down->exp[i - 1]))
			return -ENOMEM;
	return 0;
}
