// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for duration.c. */
#include <errno.h>

#include "duration.h"
#include "unit.h"

static void test_parse_valid(void)
{
	static const struct {
		const char *in;
		int64_t secs;
	} cases[] = {
		{ "0", 0 }, { "-1", 0 }, { "permanent", 0 },
		{ "1", 1 }, { "300", 300 }, { "45s", 45 }, { "5m", 300 }, { "1h", 3600 },
		{ "1h30m", 5400 }, { "2d", 172800 }, { "1w", 604800 }, { "1w2d", 777600 },
		{ "1w1d1h1m1s", 694861 }, { "2h0m", 7200 }, { "90m", 5400 }, { "1d25h", 176400 },
		{ "100000s", 100000 }, { "315360000", 315360000 },
		{ "316224000", DURATION_MAX_SECS }, { "3660d", DURATION_MAX_SECS },
		{ "522w5d", 522 * 604800 + 5 * 86400 },
	};
	struct ipb_err e;
	int64_t secs;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		secs = -42;
		if (!CHECK_INT(duration_parse(cases[i].in, &secs, &e), 0))
			fprintf(stderr, "     '%s': %s\n", cases[i].in, e.msg);
		CHECK_INT(secs, cases[i].secs);
	}
}

static void test_parse_invalid(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *msg;
	} cases[] = {
		{ "", -EINVAL, "invalid duration ''" },
		{ "abc", -EINVAL, "invalid duration 'abc'" },
		{ "1x", -EINVAL, "invalid duration '1x'" },
		{ "h", -EINVAL, "invalid duration 'h'" },
		{ "1h1h", -EINVAL, "invalid duration '1h1h'" },
		{ "1m1h", -EINVAL, "invalid duration '1m1h'" },
		{ "-5", -EINVAL, "invalid duration '-5'" },
		{ "-1h", -EINVAL, "invalid duration '-1h'" },
		{ "+5", -EINVAL, "invalid duration '+5'" },
		{ "1.5h", -EINVAL, "invalid duration '1.5h'" },
		{ " 5", -EINVAL, "invalid duration ' 5'" },
		{ "5 ", -EINVAL, "invalid duration '5 '" },
		{ "1h 30m", -EINVAL, "invalid duration '1h 30m'" },
		{ "1h30", -EINVAL, "invalid duration '1h30'" },
		{ "1H", -EINVAL, "invalid duration '1H'" },
		{ "1hh", -EINVAL, "invalid duration '1hh'" },
		{ "007", -EINVAL, "invalid duration '007'" },
		{ "0s", -EINVAL, "invalid duration '0s'" },
		{ "0h0m", -EINVAL, "invalid duration '0h0m'" },
		{ "Permanent", -EINVAL, "invalid duration 'Permanent'" },
		{ "permanently", -EINVAL, "invalid duration 'permanently'" },
		{ "1y", -EINVAL, "invalid duration '1y'" },
		{ "0x10", -EINVAL, "invalid duration '0x10'" },
		{ "5m\n", -EINVAL, "invalid duration '5m\\x0a'" },
		{ "99999999999999999999", -ERANGE,
		  "duration '99999999999999999999' is too long (at most 10 years)" },
		{ "316224001", -ERANGE, "duration '316224001' is too long (at most 10 years)" },
		{ "3661d", -ERANGE, "duration '3661d' is too long (at most 10 years)" },
		{ "9223372036854775807s", -ERANGE,
		  "duration '9223372036854775807s' is too long (at most 10 years)" },
		{ "15250284452471w", -ERANGE,
		  "duration '15250284452471w' is too long (at most 10 years)" },
		{ "3660d1s", -ERANGE, "duration '3660d1s' is too long (at most 10 years)" },
		{ "99999999999999999999x", -EINVAL, "invalid duration '99999999999999999999x'" },
	};
	struct ipb_err e;
	int64_t secs;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e.msg[0] = 0;
		secs = 12345;
		CHECK_REJECT(duration_parse(cases[i].in, &secs, &e), cases[i].rc, e.msg, cases[i].msg);
		CHECK_INT(secs, 12345); /* untouched on error */
	}
	CHECK_INT(duration_parse("x", &secs, NULL), -EINVAL);
}

static void test_format(void)
{
	static const struct {
		int64_t secs;
		const char *out;
	} cases[] = {
		{ 0, "0s" }, { -5, "0s" }, { 1, "1s" }, { 45, "45s" }, { 60, "1m" }, { 252, "4m12s" },
		{ 3600, "1h" }, { 3605, "1h" }, { 5400, "1h30m" }, { 86399, "23h59m" },
		{ 86400, "1d" }, { 183600, "2d3h" }, { 604800, "1w" }, { 1814400, "3w" },
		{ 777600, "1w2d" }, { DURATION_MAX_SECS, "522w6d" },
	};
	char buf[32];
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(duration_format(cases[i].secs, buf, sizeof(buf)), cases[i].out);
	CHECK(strlen(duration_format(INT64_MAX, buf, sizeof(buf))) < sizeof(buf));
}

/* Whatever duration_format prints, duration_parse reads back as at most the input
 * (the format drops the less significant units) and exactly when two units suffice. */
static void test_round_trip(void)
{
	struct ipb_err e;
	char buf[32];
	int64_t secs, back;
	int i, ok = 1;

	for (i = 0; i < 100000; i++) {
		secs = 1 + (int64_t)unit_below(DURATION_MAX_SECS);
		if (i % 2)
			secs = 1 + (int64_t)unit_below(200000);
		duration_format(secs, buf, sizeof(buf));
		if (duration_parse(buf, &back, &e) || back > secs || back <= 0) {
			fprintf(stderr, "     %lld -> '%s' -> %lld\n", (long long)secs, buf,
				(long long)back);
			ok = 0;
			break;
		}
	}
	CHECK(ok);
}

int main(void)
{
	unit_seed();
	test_parse_valid();
	test_parse_invalid();
	test_format();
	test_round_trip();
	return unit_done("test_duration");
}
