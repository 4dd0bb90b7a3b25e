// SPDX-License-Identifier: GPL-2.0-only
/* Targets: IPv4/IPv6 addresses and CIDR prefixes. Pure; no I/O except listfile_read. */
#ifndef IPBANSET_ADDR_H
#define IPBANSET_ADDR_H

#include <endian.h>
#include <stdio.h>
#include <string.h>
#include "common.h"

/* family is 4 or 6; addr holds the network in network byte order (IPv4 in
 * addr[0..3], the rest zero); host bits beyond plen are always zero. */
struct target {
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];
};

#define TARGET_STRLEN 64

/* flags reported by target_parse */
#define TARGET_HOSTBITS 0x1 /* host bits were set and have been cleared */
#define TARGET_BARE	0x2 /* no "/len" was written: a plain address */

/* Parse "203.0.113.7", "198.51.100.0/24", "2001:db8::/48", "::ffff:1.2.3.4" (-> IPv4).
 * Returns 0, or -EINVAL with e->msg = "invalid address 'X'" / "invalid prefix length in 'X'". */
int target_parse(const char *s, struct target *t, unsigned *flags, struct ipb_err *e);

/* "203.0.113.7" for a full-length prefix, "10.0.0.0/8" otherwise. */
char *target_format(const struct target *t, char *buf, size_t len);

/* Clear host bits beyond plen, setting t->plen = plen (plen <= t->plen). */
void target_truncate(struct target *t, unsigned plen);

/* The address as two big-endian halves, for comparing and masking in whole words. */
static inline uint64_t target_word(const struct target *t, unsigned half)
{
	uint64_t v;

	memcpy(&v, t->addr + 8 * half, sizeof(v));
	return be64toh(v);
}

/* The top n bits of a 64-bit word (n <= 64). */
static inline uint64_t target_mask64(unsigned n)
{
	return n ? ~(uint64_t)0 << (64 - n) : 0;
}

/* inner lies within outer (the same prefix, or a longer one inside it). */
static inline bool target_contains(const struct target *outer, const struct target *inner)
{
	unsigned plen = outer->plen;

	if (outer->family != inner->family || plen > inner->plen)
		return false;
	if (plen <= 64)
		return ((target_word(outer, 0) ^ target_word(inner, 0)) & target_mask64(plen)) == 0;
	return target_word(outer, 0) == target_word(inner, 0) &&
	       ((target_word(outer, 1) ^ target_word(inner, 1)) & target_mask64(plen - 64)) == 0;
}

bool target_overlaps(const struct target *a, const struct target *b);

/* Total order: family, then address bytes, then plen. Sorting, merging and the
 * journal's reads compare millions of these, so it compares whole words inline. */
static inline int target_cmp(const struct target *a, const struct target *b)
{
	uint64_t x, y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	x = target_word(a, 0), y = target_word(b, 0);
	if (x == y)
		x = target_word(a, 1), y = target_word(b, 1);
	if (x != y)
		return x < y ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return 0;
}

static inline bool target_equal(const struct target *a, const struct target *b)
{
	return target_cmp(a, b) == 0;
}

static inline unsigned target_addrlen(const struct target *t)
{
	return t->family == 4 ? 4 : 16;
}

/* A list of targets read from argv or a file; line[i] is 0 for argv. */
struct target_list {
	struct target *v;
	uint32_t *line;
	size_t n, cap;
};
void target_list_free(struct target_list *l);
int target_list_push(struct target_list *l, const struct target *t, uint32_t line);

/* Read a list file (Spamhaus DROP, FireHOL netset, plain list): one target per
 * line, first whitespace-separated word; blank lines and '#'/';' comments skipped.
 * name is used in messages ("-" reads as "stdin"). On the first bad line returns
 * -EINVAL with e->msg = "NAME:LINE: invalid address 'X'"; -errno on read errors.
 * Host bits: warns via *hostbits_line (first such line, 0 if none). */
int listfile_read(FILE *f, const char *name, struct target_list *out,
		  uint32_t *hostbits_line, struct ipb_err *e);

#endif
