// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: plan_change, one request on one target, against the contract.
 *
 * The input bytes are a sequence of steps on one target: the clock moves on a little,
 * then a source (of five) bans with some expiry (or --replace), or withdraws its ban,
 * or every source's. The harness keeps the journal's rows itself, applying only what
 * plan_change says (the row it puts, the rows it deletes), and keeps the kernel's
 * element itself, applying only the operation plan_change names. After every step:
 *  - the rows are what the contract says: a ban never shortens the source's live ban
 *    unless --replace, keeps its creation time and reason unless given, a withdrawal
 *    deletes exactly the matching rows and counts the live ones;
 *  - the element, as the operations left it, is live exactly until the latest expiry
 *    among the live rows, and its comment is one of those rows' (the kernel blocks the
 *    target exactly while the journal says it is banned);
 *  - EXTEND is named only between two finite expiries with the same comment.
 * Any disagreement aborts, so libFuzzer keeps the input. */
#include "fuzz.h"
#include "plan.h"

#define NSRC 5
#define T0 1700000000LL

static const char *const sources[NSRC] = { "a", "b", "c", "f2b-sshd", "manual" };
static const char *const reasons[4] = { NULL, "", "ssh", "list" };

static int64_t expiry(uint8_t b, int64_t now)
{
	static const int64_t d[] = { 1, 2, 5, 30, 60, 600, 3600, 86400 };

	return b % 9 == 8 ? IPB_NEVER : now + d[b % 9];
}

static int64_t effective(const struct plan_row *rows, size_t n, int64_t now)
{
	int64_t best = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].expires > now && rows[i].expires > best)
			best = rows[i].expires;
	return best;
}

/* The kernel's element: an expiry (0: none) and a comment, changed only by the ops. */
struct element {
	int64_t expires;
	const char *source, *reason;
};

static void apply_kop(struct element *k, const struct plan_change *c)
{
	if (c->kop == PLAN_K_DEL) {
		*k = (struct element){ 0, NULL, NULL };
	} else if (c->kop != PLAN_K_NONE) {
		FUZZ_ASSERT(c->k_expires != 0);
		*k = (struct element){ c->k_expires, c->k_source, c->k_reason };
	}
}

static void check_step(const struct plan_row *before, size_t nb, const struct plan_row *rows,
		       size_t n, const struct plan_req *q, const struct plan_change *c,
		       int64_t now)
{
	const struct plan_row *own = NULL, *mine = NULL;
	size_t i, live = 0, match = 0;

	for (i = 0; i < nb; i++)
		if (!strcmp(before[i].source, q->source))
			own = &before[i];
	for (i = 0; i < n; i++)
		if (!strcmp(rows[i].source, q->source))
			mine = &rows[i];
	if (q->expires) {
		int64_t old = own && own->expires > now ? own->expires : 0;
		int64_t want = old && !q->replace && old > q->expires ? old : q->expires;

		FUZZ_ASSERT(mine && mine->expires == want);
		FUZZ_ASSERT(mine->created == (old ? own->created : now));
		FUZZ_ASSERT(q->reason ? mine->reason && !strcmp(mine->reason, q->reason)
				      : mine->reason == (own ? own->reason : NULL));
		FUZZ_ASSERT(n == nb + !own && c->ndel == 0 && c->added == !old);
		return;
	}
	for (i = 0; i < nb; i++) {
		bool m = q->all_sources || !strcmp(before[i].source, q->source);

		match += m;
		live += m && before[i].expires > now;
	}
	FUZZ_ASSERT(n == nb - match && c->ndel == match && c->removed == live && !c->put);
	FUZZ_ASSERT(!mine);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct plan_row rows[NSRC], before[NSRC];
	struct element k = { 0, NULL, NULL };
	struct plan_change c;
	bool del[NSRC];
	int64_t now = T0, want, kb;
	size_t n = 0, nb, i, o;

	while (r.n) {
		uint8_t op = rd8(&r), a = rd8(&r), b = rd8(&r);
		struct plan_req q = { sources[a % NSRC], 0, false, false, NULL };

		now += op >> 5; /* 0..7 seconds pass: rows and the element expire */
		if (op % 4 != 3) {
			q.expires = expiry(b, now);
			q.replace = op % 4 == 2;
			q.reason = reasons[(a / NSRC) % 4];
		} else {
			q.all_sources = (b & 1) != 0;
		}
		kb = k.expires > now ? k.expires : 0;
		FUZZ_ASSERT(kb == effective(rows, n, now)); /* the state each step starts from */
		memcpy(before, rows, sizeof(rows));
		nb = n;
		plan_change(rows, n, &q, now, del, &c);
		/* the journal, as the plan changes it */
		for (i = 0, o = 0; i < n; i++)
			if (!del[i])
				rows[o++] = before[i];
		n = o;
		if (c.put) {
			for (i = 0; i < n && strcmp(rows[i].source, q.source); i++)
				;
			rows[i] = c.row;
			n += i == n;
		}
		check_step(before, nb, rows, n, &q, &c, now);
		/* the kernel, as the plan changes it */
		if (kb == 0 && k.expires)
			k = (struct element){ 0, NULL, NULL }; /* the kernel let it go */
		apply_kop(&k, &c);
		want = effective(rows, n, now);
		FUZZ_ASSERT(k.expires == want);
		FUZZ_ASSERT((c.kop == PLAN_K_NONE) == (kb == want));
		FUZZ_ASSERT((c.kop == PLAN_K_ADD) == (!kb && want));
		FUZZ_ASSERT(c.kop != PLAN_K_EXTEND || (kb != IPB_NEVER && want != IPB_NEVER));
		if (want) {
			bool found = false;

			for (i = 0; i < n; i++)
				found |= rows[i].expires == want && !strcmp(rows[i].source, k.source) &&
					 rows[i].reason == k.reason;
			FUZZ_ASSERT(found || c.kop == PLAN_K_NONE);
		}
	}
	return 0;
}
