// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: config_parse of the input as text (config_defaults first,
 * config_free after; LeakSanitizer checks that nothing leaks).
 *
 * On success every setting is within its documented range, the built-in allow entries
 * 127.0.0.0/8 and ::1 come first, and every allow target has the documented shape and
 * survives a format/parse round trip. On failure: -EINVAL and the message starts with
 * "NAME:LINE: " for a line that exists. Parsing is deterministic. */
#include <errno.h>

#include "config.h"
#include "duration.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

static void check_config(const struct config *c)
{
	struct target lo, one;
	unsigned flags;
	size_t i;

	FUZZ_ASSERT(memchr(c->table, 0, sizeof(c->table)) && config_valid_name(c->table));
	FUZZ_ASSERT(memchr(c->db, 0, sizeof(c->db)) && c->db[0] == '/');
	FUZZ_ASSERT(c->default_timeout >= 0 && c->default_timeout <= DURATION_MAX_SECS);
	FUZZ_ASSERT(c->hook == IPB_HOOK_INPUT || c->hook == IPB_HOOK_PREROUTING);
	FUZZ_ASSERT(c->verdict == IPB_VERDICT_DROP || c->verdict == IPB_VERDICT_REJECT);
	FUZZ_ASSERT(c->priority >= -1000 && c->priority <= 1000);
	if (!c->priority_set)
		FUZZ_ASSERT(c->priority == (c->hook == IPB_HOOK_PREROUTING ? -300 : -10));
	FUZZ_ASSERT(c->ipv6_prefix >= 1 && c->ipv6_prefix <= 128);
	FUZZ_ASSERT(c->history_days <= 36600);
	FUZZ_ASSERT(c->history_max_rows <= 1000000000000ULL);

	FUZZ_ASSERT(c->allow.n >= 2 && c->allow.n <= c->allow.cap);
	FUZZ_ASSERT(!target_parse("127.0.0.0/8", &lo, &flags, NULL));
	FUZZ_ASSERT(!target_parse("::1", &one, &flags, NULL));
	FUZZ_ASSERT(target_equal(&c->allow.v[0], &lo) && c->allow.line[0] == 0);
	FUZZ_ASSERT(target_equal(&c->allow.v[1], &one) && c->allow.line[1] == 0);
	for (i = 0; i < c->allow.n; i++) {
		fuzz_check_target(&c->allow.v[i]);
		if (i >= 2)
			FUZZ_ASSERT(c->allow.line[i] >= 1 && c->allow.line[i] >= c->allow.line[i - 1]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size), *p;
	struct config c, c2;
	struct ipb_err e, e2;
	unsigned long lines = 1, line;
	int r, r2;

	memset(&e, 0, sizeof(e));
	memset(&e2, 0, sizeof(e2));
	config_defaults(&c);
	r = config_parse(NAME, text, &c, &e);
	if (r == 0) {
		check_config(&c);
	} else {
		FUZZ_ASSERT(r == -EINVAL);
		FUZZ_ASSERT(!strncmp(e.msg, NAME ":", strlen(NAME ":")));
		for (p = text; (p = strchr(p, '\n')); p++)
			lines++;
		line = strtoul(e.msg + strlen(NAME ":"), &p, 10);
		FUZZ_ASSERT(p != e.msg + strlen(NAME ":") && !strncmp(p, ": ", 2));
		FUZZ_ASSERT(line >= 1 && line <= lines);
	}

	/* The same text again into a fresh config: the same outcome and message. */
	config_defaults(&c2);
	r2 = config_parse(NAME, text, &c2, &e2);
	FUZZ_ASSERT(r2 == r);
	if (r)
		FUZZ_ASSERT(!strcmp(e.msg, e2.msg));
	else
		FUZZ_ASSERT(c.allow.n == c2.allow.n && !strcmp(c.table, c2.table) &&
			    c.default_timeout == c2.default_timeout);
	config_free(&c2);
	config_free(&c);
	free(text);
	return 0;
}
