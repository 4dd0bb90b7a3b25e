// SPDX-License-Identifier: GPL-2.0-only
/* Set comparison by dump: only for sets small enough to dump (see SETCMP_DUMP_LIMIT).
 * Pure: the kernel's elements, sorted and without the repeats a dump can return, against
 * the journal's, with slack for timeouts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "setcmp.h"

int setcmp_journal_elem(struct setcmp *s, const struct target *t, int64_t expires,
			const char *source, const char *reason)
{
	struct jelem *el;

	if (ipb_grow(&s->j, &s->capj, s->nj + 1, sizeof(*s->j)))
		return -ENOMEM;
	el = &s->j[s->nj];
	el->t = *t;
	el->expires = expires;
	el->source = strpool_add(&s->sources, source);
	el->reason = reason ? strpool_add(&s->reasons, reason) : NULL;
	if (!el->source || (reason && !el->reason))
		return -ENOMEM;
	s->nj++;
	return 0;
}

int setcmp_kernel_elem(void *arg, const struct target *t, uint64_t remaining_ms,
		       const char *comment)
{
	struct setcmp *s = arg;

	(void)comment;
	if (ipb_grow(&s->k, &s->capk, s->nk + 1, sizeof(*s->k)))
		return -ENOMEM;
	s->k[s->nk].t = *t;
	/* a dump of a large set takes seconds: anchor each element's time when it arrives */
	s->k[s->nk++].expires_ms = remaining_ms ? ipb_now_ms() + (int64_t)remaining_ms : 0;
	return 0;
}

static int kelem_cmp(const void *a, const void *b)
{
	return target_cmp(&((const struct kelem *)a)->t, &((const struct kelem *)b)->t);
}

/* max_ms: the longest timeout the kernel holds (0 = no limit); a ban that ends later is
 * an element without timeout until it comes within reach. */
static bool timeouts_agree(int64_t expires, int64_t kernel_ms, int64_t now_ms, uint64_t max_ms,
			   int64_t slack_ms)
{
	int64_t left = expires == IPB_NEVER ? 0 : expires * 1000 - now_ms;

	if (max_ms && expires != IPB_NEVER && left > (int64_t)max_ms - SETCMP_SLACK_MS) {
		if (kernel_ms == 0)
			return true;
		if (left > (int64_t)max_ms)
			return false;
	}
	if (expires == IPB_NEVER || kernel_ms == 0)
		return expires == IPB_NEVER && kernel_ms == 0;
	return llabs(expires * 1000 - kernel_ms) <= slack_ms;
}

/* Drops repeats from the sorted kernel elements. A set dump is a walk of the kernel's
 * hash table, restarted for each part of the dump; while the table is resized (it grows
 * in the background for a while after a big insert) the walk can return an element
 * twice. A repeat taken as unexpected would be deleted: a live ban, or an error. */
static size_t kelem_unique(struct kelem *k, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++)
		if (!out || target_cmp(&k[out - 1].t, &k[i].t))
			k[out++] = k[i];
	return out;
}

/* Sorts the kernel elements as target_cmp does. One set's elements share a family and
 * prefix length, so an LSD radix sort on the address bytes does it in a few linear
 * passes (a byte that all share is skipped: 2 passes for addresses in one /16) instead
 * of qsort's n log n comparisons; anything else goes to qsort. */
static void kelem_sort(struct kelem *k, size_t n)
{
	size_t i, count[256], pos;
	unsigned len, byte, d;
	struct kelem *tmp, *from = k, *to;

	for (i = 1; i < n; i++)
		if (k[i].t.family != k[0].t.family || k[i].t.plen != k[0].t.plen)
			break;
	len = target_addrlen(&k[0].t);
	if (i < n || n < 64 || !(tmp = malloc(n * sizeof(*k)))) {
		qsort(k, n, sizeof(*k), kelem_cmp);
		return;
	}
	to = tmp;
	for (byte = len; byte-- > 0;) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[from[i].t.addr[byte]]++;
		if (count[from[0].t.addr[byte]] == n)
			continue; /* all alike */
		for (d = 0, pos = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = pos;
			pos += c;
		}
		for (i = 0; i < n; i++)
			to[count[from[i].t.addr[byte]]++] = from[i];
		to = from;
		from = from == k ? tmp : k;
	}
	if (from != k)
		memcpy(k, from, n * sizeof(*k));
	free(tmp);
}

int setcmp_diff(struct setcmp *s, int64_t now_ms, uint64_t max_ms, struct ipb_err *e)
{
	size_t a = 0, b = 0;
	int c;

	/* what expired while the dump ran is not missing */
	if (ipb_now_ms() > now_ms)
		now_ms = ipb_now_ms();
	if (s->nk) {
		kelem_sort(s->k, s->nk);
		s->nk = kelem_unique(s->k, s->nk);
	}
	s->missing = malloc((s->nj + 1) * sizeof(size_t));
	s->retime = malloc((s->nj + 1) * sizeof(size_t));
	s->unexpected = malloc((s->nk + 1) * sizeof(size_t));
	if (!s->missing || !s->retime || !s->unexpected)
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	while (a < s->nj || b < s->nk) {
		c = a == s->nj ? 1 : b == s->nk ? -1 : target_cmp(&s->j[a].t, &s->k[b].t);
		if (c < 0) {
			/* about to expire anyway: the kernel may have let it go already */
			if (s->j[a].expires == IPB_NEVER || s->j[a].expires * 1000 - now_ms > SETCMP_SLACK_MS)
				s->missing[s->nmissing++] = a;
			a++;
		} else if (c > 0) {
			s->unexpected[s->nunexpected++] = b++;
		} else {
			if (!timeouts_agree(s->j[a].expires, s->k[b].expires_ms, now_ms,
					    max_ms,
					    s->retime_slack_ms ? s->retime_slack_ms : SETCMP_SLACK_MS))
				s->retime[s->nretime++] = a;
			a++, b++;
		}
	}
	return 0;
}

void setcmp_free(struct setcmp *s)
{
	strpool_free(&s->sources);
	strpool_free(&s->reasons);
	free(s->j);
	free(s->k);
	free(s->missing);
	free(s->retime);
	free(s->unexpected);
	memset(s, 0, sizeof(*s));
}
