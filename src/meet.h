// SPDX-License-Identifier: GPL-2.0-only
/* meet.c: two reads of one sorted sequence, one ascending and one descending on
 * another thread, that stop where they meet. */
#ifndef IPBANSET_MEET_H
#define IPBANSET_MEET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "journal.h"

#define MEET_EVERY 256 /* elements between two looks at the other side's position */

/* A source's live bans in target order, and each one's expiry. */
struct current {
	struct target *t;
	int64_t *exp;
	size_t n, tcap, ecap;
};
int current_push(struct current *cur, const struct target *t, int64_t expires);
void current_free(struct current *cur);

struct meet;

struct meet_side {
	struct meet *m;
	bool up;		/* ascending */
	struct current rows;	/* in the order read */
	struct target other;	/* the other side's position, as last seen */
	bool other_known;
};

struct meet {
	pthread_mutex_t mu;
	struct target pos[2]; /* published positions: [0] ascending, [1] descending */
	bool known[2];
	/* Each on cache lines of its own (the struct's size is a multiple of 64 too): every
	 * row read writes its side's count, and two sides on one line made each thread's
	 * writes evict the other's. */
	_Alignas(64) struct meet_side up;
	_Alignas(64) struct meet_side down;
};

void meet_init(struct meet *m);
void meet_destroy(struct meet *m);
/* A journal_ban_cb for either side (arg: &m->up or &m->down), keys in target_cmp order
 * (descending for m->down): stores the element, or returns 1 at a key the other side
 * has read. */
int meet_cb(void *arg, const struct ban *b);
/* Publishes the side's last key and takes the other's; a side that read to its end calls
 * it once more so that the other stops at once. */
void meet_exchange(struct meet_side *s);
/* After the ascending side stopped: both sides' elements, ascending, each once, moved
 * into *cur. Returns 0 or -ENOMEM. */
int meet_join(struct meet *m, struct current *cur);

#endif
