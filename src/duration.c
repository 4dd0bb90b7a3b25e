// SPDX-License-Identifier: GPL-2.0-only
/* Durations: "300", "1h30m", "2d", "permanent". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "duration.h"

static const struct unit {
	char c;
	int64_t secs;
} units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

static int unit_index(char c)
{
	unsigned i;

	for (i = 0; i < NUNITS; i++)
		if (units[i].c == c)
			return (int)i;
	return -1;
}

static int duration_fail(struct ipb_err *e, int err, const char *s)
{
	char q[80];

	ipb_escape(s, q, sizeof(q));
	if (err == -ERANGE)
		ipb_seterr(e, "duration '%s' is too long (at most 10 years)", q);
	else
		ipb_seterr(e, "invalid duration '%s'", q);
	return err;
}

/* Values saturate just above the limit, so no arithmetic can overflow. */
static int64_t add_capped(int64_t a, int64_t b)
{
	return a + b > DURATION_MAX_SECS ? DURATION_MAX_SECS + 1 : a + b;
}

static int64_t mul_capped(int64_t a, int64_t b)
{
	return a > (DURATION_MAX_SECS + 1) / b ? DURATION_MAX_SECS + 1 : a * b;
}

int duration_parse(const char *s, int64_t *secs, struct ipb_err *e)
{
	const char *p = s;
	int64_t total = 0, num;
	int last = -1, u;

	if (!strcmp(s, "0") || !strcmp(s, "-1") || !strcmp(s, "permanent")) {
		*secs = 0;
		return 0;
	}
	if (!*s)
		return duration_fail(e, -EINVAL, s);
	while (*p) {
		if (*p < '0' || *p > '9')
			return duration_fail(e, -EINVAL, s);
		if (*p == '0' && p[1] >= '0' && p[1] <= '9')
			return duration_fail(e, -EINVAL, s); /* "007" */
		for (num = 0; *p >= '0' && *p <= '9'; p++)
			num = add_capped(mul_capped(num, 10), *p - '0');
		if (!*p && last < 0) {
			total = num; /* plain seconds: "300" */
			break;
		}
		u = unit_index(*p);
		/* each unit once, largest first: "1h30m", never "30m1h", "1h1h" or "1h30" */
		if (u < 0 || u <= last)
			return duration_fail(e, -EINVAL, s);
		last = u;
		total = add_capped(total, mul_capped(num, units[u].secs));
		p++;
	}
	/* 0 means permanent; only the spellings above may ask for that. */
	if (total == 0)
		return duration_fail(e, -EINVAL, s);
	if (total > DURATION_MAX_SECS)
		return duration_fail(e, -ERANGE, s);
	*secs = total;
	return 0;
}

/* The two most significant units, truncated: "45s", "4m12s", "1h30m", "2d3h", "3w". */
char *duration_format(int64_t secs, char *buf, size_t len)
{
	unsigned i;
	int64_t q;

	if (secs <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < NUNITS - 1 && secs < units[i].secs; i++)
		;
	q = secs / units[i].secs;
	secs -= q * units[i].secs;
	if (i + 1 < NUNITS && secs / units[i + 1].secs)
		snprintf(buf, len, "%lld%c%lld%c", (long long)q, units[i].c,
			 (long long)(secs / units[i + 1].secs), units[i + 1].c);
	else
		snprintf(buf, len, "%lld%c", (long long)q, units[i].c);
	return buf;
}

/* splitmix64: jitter needs spread, not secrecy; seeded once per run. */
static uint64_t jitter_random(void)
{
	static uint64_t state;
	uint64_t z;

	if (!state && getrandom(&state, sizeof(state), 0) != sizeof(state))
		state = (uint64_t)ipb_now_ms() ^ ((uint64_t)getpid() << 32);
	z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t duration_expiry(int64_t now, int64_t timeout, int64_t jitter)
{
	if (timeout == 0)
		return IPB_NEVER;
	if (jitter > 0)
		timeout += (int64_t)(jitter_random() % (uint64_t)(jitter + 1));
	return now + timeout;
}
