// SPDX-License-Identifier: GPL-2.0-only
/* A tiny unit-test framework: CHECK macros count passes and failures; unit_done()
 * prints "N passed, N failed" and gives the exit status. One test program per module. */
#ifndef IPBANSET_UNIT_H
#define IPBANSET_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned unit_passed, unit_failed;

static inline int unit_check(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		unit_passed++;
		return 1;
	}
	unit_failed++;
	fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
	return 0;
}

static inline int unit_check_str(const char *got, const char *want, const char *what,
				 const char *file, int line)
{
	int ok = got && want && !strcmp(got, want);

	if (!unit_check(ok, what, file, line))
		fprintf(stderr, "     got  '%s'\n     want '%s'\n", got ? got : "(null)",
			want ? want : "(null)");
	return ok;
}

static inline int unit_check_int(long long got, long long want, const char *what,
				 const char *file, int line)
{
	int ok = got == want;

	if (!unit_check(ok, what, file, line))
		fprintf(stderr, "     got  %lld\n     want %lld\n", got, want);
	return ok;
}

#define CHECK(cond) unit_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_STR(got, want) unit_check_str((got), (want), #got " == " #want, __FILE__, __LINE__)
#define CHECK_INT(got, want) \
	unit_check_int((long long)(got), (long long)(want), #got " == " #want, __FILE__, __LINE__)

/* An input that must be refused with exactly this message; shown, so a reader of the
 * test log sees what each invalid input produces. */
static inline void unit_rejected(int rc, int want_rc, const char *msg, const char *want_msg,
				 const char *file, int line)
{
	int ok = unit_check_int(rc, want_rc, "error code", file, line);

	ok &= unit_check_str(msg, want_msg, "error message", file, line);
	if (ok)
		printf("  rejected: %s\n", msg);
}
#define CHECK_REJECT(rc, want_rc, msg, want_msg) \
	unit_rejected((rc), (want_rc), (msg), (want_msg), __FILE__, __LINE__)

/* Deterministic pseudo-random numbers (xorshift64*), seeded from $UNIT_SEED if set. */
static uint64_t unit_rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t unit_rand(void)
{
	unit_rng_state ^= unit_rng_state >> 12;
	unit_rng_state ^= unit_rng_state << 25;
	unit_rng_state ^= unit_rng_state >> 27;
	return unit_rng_state * 0x2545f4914f6cdd1dull;
}

/* uniform enough in [0, n) for tests */
static inline uint64_t unit_below(uint64_t n)
{
	return n ? unit_rand() % n : 0;
}

static inline void unit_seed(void)
{
	const char *s = getenv("UNIT_SEED");

	if (s && *s)
		unit_rng_state = strtoull(s, NULL, 0) | 1;
	printf("seed %#" PRIx64 "\n", unit_rng_state);
}

static inline int unit_done(const char *name)
{
	printf("%s: ", name);
	printf("%u passed, %u failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

/* Targets for test tables: tgt("10.0.0.0/8") exits on a typo; fmt() formats one into
 * one of four rotating buffers, so a message may show several. */
#include "addr.h"

static inline struct target tgt(const char *s)
{
	struct target t;
	unsigned flags;

	if (target_parse(s, &t, &flags, NULL))
		fprintf(stderr, "test setup: cannot parse '%s'\n", s), exit(2);
	return t;
}

static inline const char *fmt(const struct target *t)
{
	static char buf[4][TARGET_STRLEN];
	static unsigned k;

	return target_format(t, buf[k++ % 4], TARGET_STRLEN);
}

#endif
