// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for common.c: escaping and its inverse, text columns, the string buffer. */
#include "common.h"
#include "unit.h"

static void test_escape(void)
{
	static const struct {
		const char *raw, *escaped;
	} cases[] = {
		{ "plain", "plain" },
		{ "C:\\temp", "C:\\\\temp" },
		{ "tab\there", "tab\\x09here" },
		{ "\x01\x7f", "\\x01\\x7f" },
		{ "\\x41 is not A", "\\\\x41 is not A" },
		{ "ünïcode", "ünïcode" },
		{ "bad \xff byte", "bad \\xff byte" },
		{ "", "" },
	};
	char esc[256], back[256];
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_STR(ipb_escape(cases[i].raw, esc, sizeof(esc)), cases[i].escaped);
		CHECK_STR(ipb_unescape(esc, back, sizeof(back)), cases[i].raw);
	}
	/* text that ipb_escape never makes stays as it is */
	CHECK_STR(ipb_unescape("a\\xZZ \\q \\", back, sizeof(back)), "a\\xZZ \\q \\");
	CHECK_STR(ipb_unescape("abcdef", back, 4), "abc");
}

/* Any bytes come back from escape + unescape as they were. */
static void test_escape_round_trip(void)
{
	char raw[64], esc[512], back[64];
	unsigned i, k, n, bad = 0;

	for (i = 0; i < 20000; i++) {
		n = (unsigned)(unit_rand() % (sizeof(raw) - 1));
		for (k = 0; k < n; k++)
			raw[k] = (char)(unit_rand() % 255 + 1);
		raw[n] = 0;
		ipb_escape(raw, esc, sizeof(esc));
		ipb_unescape(esc, back, sizeof(back));
		bad += strcmp(raw, back) != 0;
	}
	CHECK_INT(bad, 0);
}

static void test_cols(void)
{
	static const char *const heads[] = { "TARGET", "SOURCE" };
	struct strbuf sb;
	struct cols k;

	sb_init(&sb);
	cols_init(&k, heads, 2);
	CHECK(k.measure);
	cols_fit(&k, 0, "2001:db8::1");
	cols_fit(&k, 1, "f2b");
	CHECK_INT(k.w[0], 11);
	CHECK_INT(k.w[1], 6);
	k.measure = false;
	cols_cell(&k, &sb, 0, "1.2.3.4");
	cols_cell(&k, &sb, 1, "manual");
	sb_printf(&sb, "%s", "");
	cols_end(&sb);
	CHECK_STR(sb_str(&sb), "1.2.3.4     manual\n");
	sb_free(&sb);
	CHECK_STR(sb_str(&sb), "");
	CHECK(!sb.failed && !ipb_oom);
}

int main(void)
{
	unit_seed();
	test_escape();
	test_escape_round_trip();
	test_cols();
	return unit_done("test_common");
}
