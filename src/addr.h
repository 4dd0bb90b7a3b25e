/* Targets: IPv4/IPv6 addresses and CIDR prefixes. Pure; no I/O except listfile_read. */
#ifndef IPBANSET_ADDR_H
#define IPBANSET_ADDR_H

#include <stdio.h>
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

bool target_contains(const struct target *outer, const struct target *inner);
bool target_overlaps(const struct target *a, const struct target *b);
/* Total order: family, then address bytes, then plen. */
int target_cmp(const struct target *a, const struct target *b);
bool target_equal(const struct target *a, const struct target *b);
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
