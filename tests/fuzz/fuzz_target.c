// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: target_parse on arbitrary bytes.
 *
 * On success: the target has the shape addr.h promises (family 4 => plen <= 32 and
 * addr[4..15] zero; host bits beyond plen zero), target_format then target_parse gives
 * the same target back, and the result agrees with inet_pton on the address part.
 * On failure: the message is one of the two documented ones. */
#include <arpa/inet.h>
#include <errno.h>

#include "fuzz.h"

/* Decimal 0..max, no sign, no leading zero: what a prefix length may be. */
static int ref_plen(const char *s, unsigned max)
{
	size_t n = strlen(s), i;
	unsigned v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= max ? (int)v : -1;
}

/* An independent model of target_parse built on inet_pton: returns 0 and fills t, or -1. */
static int ref_parse(const char *s, struct target *t)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char addr[256];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int plen;

	if (alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = 0;
	memset(t, 0, sizeof(*t));
	if (inet_pton(AF_INET, addr, t->addr) == 1)
		t->family = 4;
	else if (inet_pton(AF_INET6, addr, t->addr) == 1)
		t->family = 6;
	else
		return -1;
	plen = slash ? ref_plen(slash + 1, t->family == 4 ? 32 : 128) : t->family == 4 ? 32 : 128;
	if (plen < 0)
		return -1;
	if (t->family == 6 && !memcmp(t->addr, mapped, 12)) {
		if (plen < 96)
			return -1;
		memmove(t->addr, t->addr + 12, 4);
		memset(t->addr + 4, 0, 12);
		t->family = 4;
		plen -= 96;
	}
	t->plen = (uint8_t)(t->family == 4 ? 32 : 128);
	target_truncate(t, (unsigned)plen);
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	struct target t, t2, ref, x;
	struct ipb_err e;
	unsigned flags, flags2, len;
	int r, r2, rr;

	memset(&e, 0, sizeof(e));
	r = target_parse(s, &t, &flags, &e);
	r2 = target_parse(s, &t2, &flags2, NULL); /* no error buffer: same outcome */
	rr = ref_parse(s, &ref);
	FUZZ_ASSERT(r == r2);
	FUZZ_ASSERT(r == 0 || r == -EINVAL);
	if (r != 0) {
		FUZZ_ASSERT(starts_with(e.msg, "invalid address '") ||
			    starts_with(e.msg, "invalid prefix length in '"));
		FUZZ_ASSERT(strlen(e.msg) < 128); /* the input is quoted at most 64 chars */
		if (rr == 0) {
			fprintf(stderr, "inet_pton accepts '%s', target_parse refuses: %s\n", s, e.msg);
			abort();
		}
		free(s);
		return 0;
	}
	FUZZ_ASSERT(!memcmp(&t, &t2, sizeof(t)) && flags == flags2);
	if (rr != 0 || memcmp(&t, &ref, sizeof(t))) {
		fprintf(stderr, "target_parse accepts '%s', the inet_pton model %s\n", s,
			rr ? "refuses it" : "gives another target");
		abort();
	}
	FUZZ_ASSERT(!!(flags & TARGET_BARE) == !strchr(s, '/'));
	fuzz_check_target(&t);

	/* Comparisons: reflexive; every shorter prefix of t contains t, not the reverse. */
	FUZZ_ASSERT(target_contains(&t, &t) && target_overlaps(&t, &t) && target_cmp(&t, &t) == 0);
	for (len = 0; len < t.plen; len += 1 + (unsigned)(size % 7)) {
		x = t;
		target_truncate(&x, len);
		fuzz_check_target_shape(&x);
		FUZZ_ASSERT(target_contains(&x, &t) && !target_contains(&t, &x));
		FUZZ_ASSERT(target_overlaps(&x, &t) && target_overlaps(&t, &x));
		FUZZ_ASSERT(target_cmp(&x, &t) < 0 && target_cmp(&t, &x) > 0);
	}
	free(s);
	return 0;
}
