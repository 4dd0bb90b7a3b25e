// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: duration_parse and duration_format.
 *
 * duration_parse on arbitrary text: on success 0 <= secs <= DURATION_MAX_SECS, and 0 only
 * for the three spellings of "permanent"; on failure -EINVAL or -ERANGE with the
 * documented message. duration_format, into a heap buffer of exactly the documented 32
 * bytes (so ASan sees any overflow), of the parsed value and of a value taken from the
 * input bytes: a NUL-terminated string that parses back to at most the value, short of
 * it by less than the second unit shown. */
#include <errno.h>

#include "duration.h"
#include "fuzz.h"

static const int64_t unit_secs[] = { 7 * 86400, 86400, 3600, 60, 1 };

static void check_format(int64_t secs)
{
	char *buf = malloc(32);
	int64_t back, lead, next;
	struct ipb_err e;
	unsigned i;

	if (!buf)
		abort();
	FUZZ_ASSERT(duration_format(secs, buf, 32) == buf);
	FUZZ_ASSERT(memchr(buf, 0, 32) != NULL);
	if (secs <= 0) {
		FUZZ_ASSERT(!strcmp(buf, "0s"));
	} else if (secs <= DURATION_MAX_SECS) {
		for (i = 0; i < 4 && secs < unit_secs[i]; i++)
			;
		lead = unit_secs[i];
		next = i < 4 ? unit_secs[i + 1] : 1;
		if (duration_parse(buf, &back, &e)) {
			fprintf(stderr, "duration_format(%lld) = '%s' does not parse: %s\n",
				(long long)secs, buf, e.msg);
			abort();
		}
		FUZZ_ASSERT(back > 0 && back <= secs && secs - back < next);
		FUZZ_ASSERT(back >= lead);
	}
	free(buf);
}

static bool is_message(const char *msg, int r)
{
	if (r == -EINVAL)
		return !strncmp(msg, "invalid duration '", 18);
	return !strncmp(msg, "duration '", 10) && strstr(msg, "' is too long");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size);
	struct ipb_err e;
	int64_t secs = -12345, raw = 0;
	int r;

	memset(&e, 0, sizeof(e));
	r = duration_parse(s, &secs, &e);
	if (r == 0) {
		FUZZ_ASSERT(secs >= 0 && secs <= DURATION_MAX_SECS);
		FUZZ_ASSERT((secs == 0) ==
			    (!strcmp(s, "0") || !strcmp(s, "-1") || !strcmp(s, "permanent")));
		check_format(secs);
	} else {
		FUZZ_ASSERT(r == -EINVAL || r == -ERANGE);
		FUZZ_ASSERT(secs == -12345); /* untouched */
		FUZZ_ASSERT(is_message(e.msg, r));
		FUZZ_ASSERT(duration_parse(s, &secs, NULL) == r); /* no error buffer is fine */
	}
	/* Any int64 through duration_format, including negatives and INT64_MAX. */
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	check_format(raw);
	check_format(raw & 0x3ffffffffLL); /* mostly within the accepted range */
	free(s);
	return 0;
}
