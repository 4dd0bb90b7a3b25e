// SPDX-License-Identifier: GPL-2.0-only
/* Shared helpers for the libFuzzer targets: an assertion that aborts with a message
 * (so libFuzzer saves the input as a crash), and the invariants of a parsed target. */
#ifndef IPBANSET_FUZZ_H
#define IPBANSET_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* The fuzzer's bytes read one at a time, as decoders of structured input want them;
 * past the end, zeros. */
struct reader {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t rd8(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

/* A NUL-terminated copy of the fuzzer's bytes (embedded NULs end the string early). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* A target as addr.h promises it: family 4 or 6; plen within the family; host bits
 * beyond plen zero; IPv4 in addr[0..3] and the rest zero. */
static inline void fuzz_check_target_shape(const struct target *t)
{
	unsigned i, plen = t->plen;

	FUZZ_ASSERT(t->family == 4 || t->family == 6);
	if (t->family == 4) {
		FUZZ_ASSERT(plen <= 32);
		for (i = 4; i < 16; i++)
			FUZZ_ASSERT(t->addr[i] == 0);
	} else {
		FUZZ_ASSERT(plen <= 128);
	}
	if (plen % 8)
		FUZZ_ASSERT((t->addr[plen / 8] & (0xffu >> (plen % 8))) == 0);
	for (i = (plen + 7) / 8; i < 16; i++)
		FUZZ_ASSERT(t->addr[i] == 0);
}

/* Shape, plus: formatting and parsing again gives the same target, as a bare address
 * when the prefix is full length, with no host bits to clear. */
static inline void fuzz_check_target(const struct target *t)
{
	char buf[TARGET_STRLEN];
	struct target t2;
	struct ipb_err e;
	unsigned flags;
	size_t full = target_addrlen(t) * 8;

	fuzz_check_target_shape(t);
	target_format(t, buf, sizeof(buf));
	FUZZ_ASSERT(strlen(buf) < sizeof(buf) - 1); /* not cut short */
	if (target_parse(buf, &t2, &flags, &e)) {
		fprintf(stderr, "formatted target '%s' does not parse: %s\n", buf, e.msg);
		abort();
	}
	if (!target_equal(t, &t2) || memcmp(t, &t2, sizeof(*t))) {
		fprintf(stderr, "round trip changed the target: '%s'\n", buf);
		abort();
	}
	FUZZ_ASSERT(!(flags & TARGET_HOSTBITS));
	FUZZ_ASSERT(!!(flags & TARGET_BARE) == (t->plen == full));
}

#endif
