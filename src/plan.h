// SPDX-License-Identifier: GPL-2.0-only
/* Planning: from logical bans (journal rows) to kernel elements, and the diffs between
 * them. Pure; no I/O.
 *
 * Kernel layout: one hash set per (family, prefix length) in use, named "v4_24",
 * "v6_64", ..., holding network addresses with their own timeouts; one rule per set
 * matches "saddr & mask @set". A logical target maps to exactly one element: its network
 * address in the set of its prefix length, with the latest expiry among its live bans.
 */
#ifndef IPBANSET_PLAN_H
#define IPBANSET_PLAN_H

#include "addr.h"

#define PLAN_SETNAME_MAX 8 /* "v6_128" + NUL */

/* fam 4 or 6, plen 0..32 / 0..128 */
char *plan_set_name(unsigned family, unsigned plen, char *buf, size_t len);
/* Parse a set name back; returns 0 or -EINVAL for names ipbanset does not own. */
int plan_parse_set_name(const char *name, unsigned *family, unsigned *plen);
/* Index of a set among all 34 + 129 possible: family 4 -> plen, family 6 -> 33 + plen. */
static inline unsigned plan_set_index(unsigned family, unsigned plen)
{
	return family == 4 ? plen : 33 + plen;
}
#define PLAN_NSETS (33 + 129)
/* The inverse of plan_set_index. */
static inline unsigned plan_set_family(unsigned idx)
{
	return idx < 33 ? 4 : 6;
}
static inline unsigned plan_set_plen(unsigned idx)
{
	return idx < 33 ? idx : idx - 33;
}

/* One source's ban on one target. expires is Unix seconds or IPB_NEVER. */
struct srcexp {
	const char *source;
	int64_t expires;
};

/* The kernel element's expiry for a target: the latest expiry among bans still live at
 * now (expires > now), or 0 when none is live. */
int64_t plan_effective(const struct srcexp *bans, size_t n, int64_t now);

/* The expiry a source's ban gets when it is banned again: never shorter than the old
 * live one unless replace. old = 0 when there is none (or it has expired). */
int64_t plan_reban(int64_t old, int64_t requested, bool replace, int64_t now);

/* What the kernel must do for one element when its effective expiry goes from before to
 * after (both 0 = absent). RETIME = delete and re-add in the same batch (the kernel does
 * not update the timeout of an existing element). */
enum plan_op { PLAN_NONE, PLAN_ADD, PLAN_DEL, PLAN_RETIME };
enum plan_op plan_element_op(int64_t before, int64_t after);

/* ---- one request on one target: journal rows before -> rows after + element op ----
 *
 * The journal holds one row per (target, source); a row whose expiry is <= now has
 * expired and awaits gc (it is no ban any more, but it is still a row). A request bans
 * the target on behalf of one source (expires != 0; never shorter than that source's
 * live ban unless replace), or withdraws the ban of one source, or of every source. */
struct plan_row {
	const char *source;
	int64_t created, expires; /* expires: Unix seconds or IPB_NEVER */
	const char *reason;	  /* NULL: none */
};

struct plan_req {
	const char *source;
	int64_t expires; /* a ban's requested expiry; 0: withdraw */
	bool replace;	 /* a ban: set exactly this expiry, even if shorter */
	bool all_sources; /* a withdrawal: of every source's row, not only source's */
	const char *reason; /* a ban: NULL keeps the row's reason */
};

/* What the kernel does to the target's element. EXTEND: a finite expiry changes and the
 * comment (the winning row's source and reason) does not, so the element may be changed
 * in place where the kernel can; RETIME: delete and re-add. */
enum plan_kop { PLAN_K_NONE, PLAN_K_ADD, PLAN_K_DEL, PLAN_K_RETIME, PLAN_K_EXTEND };

struct plan_change {
	/* the journal. A ban puts row (source's row after: created kept from a live row) */
	bool put;
	struct plan_row row;
	bool added;	/* put: the source had no live ban before */
	bool expiry_changed; /* put: the source's expiry changed (a history event) */
	/* a withdrawal deletes rows: del[i] for rows[i] (the caller's array of n) */
	size_t ndel;
	size_t removed; /* of those, the live ones (bans withdrawn; one event each) */
	/* the kernel element: op, and its expiry and comment after */
	enum plan_kop kop;
	int64_t k_expires;
	const char *k_source, *k_reason;
};

/* The change one request makes to one target whose journal rows are rows[0..n) (one per
 * source, any order). del must have room for n flags. Pure: pointers in *out point into
 * rows and q. */
void plan_change(const struct plan_row *rows, size_t n, const struct plan_req *q, int64_t now,
		 bool *del, struct plan_change *out);

/* Kernel timeout in milliseconds for an element expiring at expires, seen at now_ms
 * (Unix ms); 0 means "no timeout" (permanent). Never returns less than 1000 for a live
 * finite ban. */
uint64_t plan_timeout_ms(int64_t expires, int64_t now_ms);

/* Is address a (family, 16-byte addr, plen = full) blocked by the kernel model: some
 * element in the set of some length L contains a & mask(L), with expiry > now? The
 * model is given as sorted arrays; used by the property test and by `query`. */
struct plan_elem {
	struct target t; /* network + plen: which set, which element */
	int64_t expires; /* IPB_NEVER or Unix seconds */
};
bool plan_blocked(const struct plan_elem *elems, size_t n, const struct target *t, int64_t now);

/* Build kernel elements from a list of (target, expiry) bans (any order, duplicates of a
 * target by several sources allowed): one element per distinct target with the max live
 * expiry. Result sorted by target_cmp. *out malloc'd; returns count or -ENOMEM. */
ssize_t plan_elements(const struct plan_elem *bans, size_t n, int64_t now, struct plan_elem **out);

/* Sorted-merge diff of two sorted target arrays (target_cmp order, no duplicates):
 * calls add(i) for b[i] not in a, del(i) for a[i] not in b, same(ia, ib) for both. */
struct plan_diff_cb {
	void (*add)(void *arg, size_t ib);
	void (*del)(void *arg, size_t ia);
	void (*same)(void *arg, size_t ia, size_t ib);
	void *arg;
};
void plan_diff(const struct target *a, size_t na, const struct target *b, size_t nb,
	       const struct plan_diff_cb *cb);

/* Sort and deduplicate a target list in place (keeping line of the first occurrence). */
void plan_sort_unique(struct target_list *l);

#endif
