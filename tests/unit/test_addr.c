// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for addr.c: target parsing, formatting, comparison and list files. */
#include <arpa/inet.h>
#include <errno.h>
#include <time.h>

#include "addr.h"
#include "unit.h"

static void test_parse_valid(void)
{
	static const struct {
		const char *in, *out;
		unsigned family, plen, flags;
	} cases[] = {
		{ "203.0.113.7", "203.0.113.7", 4, 32, TARGET_BARE },
		{ "0.0.0.0", "0.0.0.0", 4, 32, TARGET_BARE },
		{ "255.255.255.255", "255.255.255.255", 4, 32, TARGET_BARE },
		{ "198.51.100.0/24", "198.51.100.0/24", 4, 24, 0 },
		{ "10.1.2.3/8", "10.0.0.0/8", 4, 8, TARGET_HOSTBITS },
		{ "10.1.2.3/32", "10.1.2.3", 4, 32, 0 },
		{ "10.1.2.3/0", "0.0.0.0/0", 4, 0, TARGET_HOSTBITS },
		{ "0.0.0.0/0", "0.0.0.0/0", 4, 0, 0 },
		{ "192.168.1.129/25", "192.168.1.128/25", 4, 25, TARGET_HOSTBITS },
		{ "192.168.1.128/25", "192.168.1.128/25", 4, 25, 0 },
		{ "2001:db8::1", "2001:db8::1", 6, 128, TARGET_BARE },
		{ "2001:DB8::1", "2001:db8::1", 6, 128, TARGET_BARE },
		{ "2001:db8::/48", "2001:db8::/48", 6, 48, 0 },
		{ "2001:db8:1:2::5/64", "2001:db8:1:2::/64", 6, 64, TARGET_HOSTBITS },
		{ "2001:db8::1/127", "2001:db8::/127", 6, 127, TARGET_HOSTBITS },
		{ "::", "::", 6, 128, TARGET_BARE },
		{ "::/0", "::/0", 6, 0, 0 },
		{ "::1", "::1", 6, 128, TARGET_BARE },
		{ "::ffff:1.2.3.4", "1.2.3.4", 4, 32, TARGET_BARE },
		{ "::ffff:1.2.3.0/120", "1.2.3.0/24", 4, 24, 0 },
		{ "::ffff:1.2.3.4/120", "1.2.3.0/24", 4, 24, TARGET_HOSTBITS },
		{ "::ffff:0:0/96", "0.0.0.0/0", 4, 0, 0 },
		{ "::ffff:102:304", "1.2.3.4", 4, 32, TARGET_BARE },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", 6, 128, TARGET_BARE },
		{ "fe80::1:2/10", "fe80::/10", 6, 10, TARGET_HOSTBITS },
	};
	unsigned i, flags;
	struct ipb_err e;
	struct target t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&t, 0xaa, sizeof(t));
		if (!CHECK_INT(target_parse(cases[i].in, &t, &flags, &e), 0)) {
			fprintf(stderr, "     input '%s': %s\n", cases[i].in, e.msg);
			continue;
		}
		CHECK_STR(fmt(&t), cases[i].out);
		CHECK_INT(t.family, cases[i].family);
		CHECK_INT(t.plen, cases[i].plen);
		CHECK_INT(flags, cases[i].flags);
		if (t.family == 4)
			CHECK(!memcmp(t.addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12));
	}
}

static void test_parse_invalid(void)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "", "invalid address ''" },
		{ "1.2.3", "invalid address '1.2.3'" },
		{ "1.2.3.4.5", "invalid address '1.2.3.4.5'" },
		{ "256.1.1.1", "invalid address '256.1.1.1'" },
		{ "10.9.300.1", "invalid address '10.9.300.1'" },
		{ "1.2.3.4/33", "invalid prefix length in '1.2.3.4/33'" },
		{ "1.2.3.4/", "invalid prefix length in '1.2.3.4/'" },
		{ "/24", "invalid address '/24'" },
		{ "::1/129", "invalid prefix length in '::1/129'" },
		{ "2001:db8::g", "invalid address '2001:db8::g'" },
		{ "1.2.3.4/24x", "invalid prefix length in '1.2.3.4/24x'" },
		{ "1.2.3.4 ", "invalid address '1.2.3.4 '" },
		{ " 1.2.3.4", "invalid address ' 1.2.3.4'" },
		{ "010.1.2.3", "invalid address '010.1.2.3'" },
		{ "1.2.3.04", "invalid address '1.2.3.04'" },
		{ "+1.2.3.4", "invalid address '+1.2.3.4'" },
		{ "1.+2.3.4", "invalid address '1.+2.3.4'" },
		{ "1.2.3.4/+8", "invalid prefix length in '1.2.3.4/+8'" },
		{ "1.2.3.4/-1", "invalid prefix length in '1.2.3.4/-1'" },
		{ "1.2.3.4/08", "invalid prefix length in '1.2.3.4/08'" },
		{ "1.2.3.4/ 8", "invalid prefix length in '1.2.3.4/ 8'" },
		{ "1.2.3.4/8/8", "invalid prefix length in '1.2.3.4/8/8'" },
		{ "1..2.3", "invalid address '1..2.3'" },
		{ "1.2.3.", "invalid address '1.2.3.'" },
		{ ".1.2.3", "invalid address '.1.2.3'" },
		{ "0x1.2.3.4", "invalid address '0x1.2.3.4'" },
		{ "1.2.3.1000", "invalid address '1.2.3.1000'" },
		{ "16909060", "invalid address '16909060'" },
		{ "localhost", "invalid address 'localhost'" },
		{ "2001:db8:::1", "invalid address '2001:db8:::1'" },
		{ "1:2:3:4:5:6:7:8:9", "invalid address '1:2:3:4:5:6:7:8:9'" },
		{ "fe80::1%eth0", "invalid address 'fe80::1%eth0'" },
		{ "[::1]", "invalid address '[::1]'" },
		{ "::ffff:1.2.3.4/95", "invalid prefix length in '::ffff:1.2.3.4/95'" },
		{ "::ffff:1.2.3.04", "invalid address '::ffff:1.2.3.04'" },
		{ "1.2.3.4/0032", "invalid prefix length in '1.2.3.4/0032'" },
		{ "1.2.3.4\n", "invalid address '1.2.3.4\\x0a'" },
		{ "1.2.\x1b[31m3.4", "invalid address '1.2.\\x1b[31m3.4'" },
		{ "1.2.3.4/2\x07", "invalid prefix length in '1.2.3.4/2\\x07'" },
	};
	unsigned i, flags;
	struct ipb_err e;
	struct target t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e.msg[0] = 0;
		CHECK_REJECT(target_parse(cases[i].in, &t, &flags, &e), -EINVAL, e.msg, cases[i].msg);
	}
	/* no error struct: still refused, nothing written */
	CHECK_INT(target_parse("1.2.3", &t, &flags, NULL), -EINVAL);
}

static void test_parse_long_input(void)
{
	char in[5000], want[128];
	unsigned flags;
	struct ipb_err e;
	struct target t;

	memset(in, '1', sizeof(in) - 1);
	in[sizeof(in) - 1] = 0;
	CHECK_INT(target_parse(in, &t, &flags, &e), -EINVAL);
	snprintf(want, sizeof(want), "invalid address '%.61s...'", in);
	CHECK_STR(e.msg, want);
	/* an IPv6 address padded past INET6_ADDRSTRLEN */
	CHECK_INT(target_parse("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", &t, &flags, &e),
		  -EINVAL);
}

/* Random short strings: target_parse agrees with inet_pton (which also refuses leading
 * zeros in IPv4), and whatever parses formats back to the same target. */
static void test_parse_differential(void)
{
	static const char v4chars[] = "0123456789.......";
	static const char v6chars[] = "0123456789abcdefABCDEF::::::.";
	unsigned i, k, len, flags, bad = 0, parsed = 0;
	char s[48], out[TARGET_STRLEN];
	uint8_t want[16];
	struct target t, back;
	int pton;

	for (i = 0; i < 400000; i++) {
		bool v6 = i % 2;

		len = 1 + (unsigned)unit_below(v6 ? 40 : 16);
		for (k = 0; k < len; k++)
			s[k] = v6 ? v6chars[unit_below(sizeof(v6chars) - 1)]
				  : v4chars[unit_below(sizeof(v4chars) - 1)];
		s[len] = 0;
		if (!v6 && i % 4 == 0) /* mostly well-formed quads with odd numbers */
			snprintf(s, sizeof(s), "%u.%u.%u.%u", (unsigned)unit_below(300),
				 (unsigned)unit_below(300), (unsigned)unit_below(3),
				 (unsigned)unit_below(1000));
		pton = inet_pton(v6 ? AF_INET6 : AF_INET, s, want);
		if (v6 && !strchr(s, ':'))
			continue; /* digits and dots only: the IPv4 parser's business */
		if ((target_parse(s, &t, &flags, NULL) == 0) != (pton == 1)) {
			if (!bad++)
				fprintf(stderr, "     '%s': inet_pton %d\n", s, pton);
			continue;
		}
		if (pton != 1)
			continue;
		parsed++;
		if (t.family == 4 && v6)
			bad += t.plen != 32 || memcmp(want + 12, t.addr, 4);
		else
			bad += memcmp(want, t.addr, v6 ? 16 : 4) != 0;
		target_format(&t, out, sizeof(out));
		bad += target_parse(out, &back, &flags, NULL) || !target_equal(&t, &back);
	}
	printf("  differential: %u of 400000 random strings were addresses\n", parsed);
	CHECK_INT(bad, 0);
	CHECK(parsed > 1000);
}

static void test_truncate_contains(void)
{
	struct target a = tgt("10.1.2.3"), b;

	target_truncate(&a, 16);
	CHECK_STR(fmt(&a), "10.1.0.0/16");
	target_truncate(&a, 20); /* never lengthens */
	CHECK_STR(fmt(&a), "10.1.0.0/16");
	a = tgt("2001:db8:ffff:ffff::1");
	target_truncate(&a, 35);
	CHECK_STR(fmt(&a), "2001:db8:e000::/35");

	a = tgt("10.0.0.0/8");
	b = tgt("10.1.2.3");
	CHECK(target_contains(&a, &b));
	CHECK(!target_contains(&b, &a));
	CHECK(target_overlaps(&a, &b) && target_overlaps(&b, &a));
	CHECK(target_contains(&a, &a));
	b = tgt("11.0.0.0/8");
	CHECK(!target_overlaps(&a, &b));
	b = tgt("0.0.0.0/0");
	CHECK(target_contains(&b, &a));
	b = tgt("::/0");
	CHECK(!target_overlaps(&a, &b)); /* families never overlap */
	a = tgt("2001:db8::/32");
	b = tgt("2001:db8:1::/48");
	CHECK(target_contains(&a, &b));
	b = tgt("2001:db9::/48");
	CHECK(!target_overlaps(&a, &b));
	a = tgt("127.0.0.0/8");
	b = tgt("127.0.0.53");
	CHECK(target_overlaps(&a, &b));
	b = tgt("0.0.0.0/1");
	CHECK(target_overlaps(&a, &b));
	b = tgt("128.0.0.0/1");
	CHECK(!target_overlaps(&a, &b));
}

static void test_cmp(void)
{
	static const char *const order[] = {
		"0.0.0.0/0", "0.0.0.0", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0", "10.0.0.1",
		"10.1.0.0/16", "255.255.255.255", "::/0", "::", "::1", "2001:db8::/32",
		"2001:db8::/48", "2001:db8::1",
	};
	unsigned i, j;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		for (j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
			struct target a = tgt(order[i]), b = tgt(order[j]);
			int want = i < j ? -1 : i > j;

			if (!CHECK_INT(target_cmp(&a, &b), want))
				fprintf(stderr, "     %s vs %s\n", order[i], order[j]);
			CHECK(target_equal(&a, &b) == (i == j));
		}
}

/* target_cmp and target_contains work on whole words; check them against byte-wise
 * references on random targets, with prefixes near the word boundaries and pairs that
 * share a long common start. */
static int ref_cmp(const struct target *a, const struct target *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r)
		return r < 0 ? -1 : 1;
	return a->plen < b->plen ? -1 : a->plen > b->plen;
}

static bool ref_contains(const struct target *outer, const struct target *inner)
{
	struct target x = *inner;

	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	target_truncate(&x, outer->plen);
	return memcmp(x.addr, outer->addr, sizeof(x.addr)) == 0;
}

static struct target random_target(const struct target *near)
{
	static const unsigned plens6[] = { 0, 1, 7, 8, 32, 63, 64, 65, 100, 127, 128 };
	struct target t = { .family = unit_rand() % 2 ? 4 : 6 };
	unsigned i, keep;

	for (i = 0; i < target_addrlen(&t); i++)
		t.addr[i] = (uint8_t)unit_rand();
	if (near && near->family == t.family) { /* a common start of random length */
		keep = unit_rand() % (target_addrlen(&t) + 1);
		memcpy(t.addr, near->addr, keep);
	}
	if (t.family == 4)
		t.plen = (uint8_t)(unit_rand() % 33);
	else
		t.plen = (uint8_t)(unit_rand() % 2 ? plens6[unit_rand() % 11] : unit_rand() % 129);
	target_truncate(&t, t.plen);
	return t;
}

static void test_cmp_contains_property(void)
{
	unsigned i, bad = 0;

	for (i = 0; i < 200000; i++) {
		struct target a = random_target(NULL), b = random_target(&a);

		if (unit_rand() % 8 == 0) { /* b inside a, or equal */
			b = a;
			if (b.family == 6 && b.plen < 128)
				b.addr[15] |= 1, b.plen = 128;
			else if (b.family == 4 && b.plen < 32)
				b.addr[3] |= 1, b.plen = 32;
		}
		bad += target_cmp(&a, &b) != ref_cmp(&a, &b) || target_cmp(&b, &a) != ref_cmp(&b, &a);
		bad += target_contains(&a, &b) != ref_contains(&a, &b) ||
		       target_contains(&b, &a) != ref_contains(&b, &a);
		bad += target_equal(&a, &b) != (ref_cmp(&a, &b) == 0);
	}
	CHECK_INT(bad, 0);
}

static void test_format(void)
{
	struct target t = { .family = 6, .plen = 128 };
	char small[8];

	CHECK_STR(fmt(&t), "::");
	t.addr[15] = 1;
	t.plen = 64;
	target_truncate(&t, 64);
	CHECK_STR(fmt(&t), "::/64");
	t = tgt("255.255.255.255");
	target_format(&t, small, sizeof(small)); /* truncated, still terminated */
	CHECK_STR(small, "255.255");
}

static void test_list_push(void)
{
	struct target_list l = { 0 };
	struct target t = tgt("1.2.3.4");
	uint32_t i;
	int ok = 1;

	for (i = 0; i < 100000; i++)
		ok &= target_list_push(&l, &t, i) == 0;
	CHECK(ok);
	CHECK_INT(l.n, 100000);
	CHECK(l.cap >= l.n && l.cap < 2 * l.n + 64);
	CHECK_INT(l.line[99999], 99999);
	target_list_free(&l);
	CHECK(l.v == NULL && l.n == 0 && l.cap == 0);
}

static int read_text(const char *text, size_t len, const char *name, struct target_list *l,
		     uint32_t *hb, struct ipb_err *e)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int r;

	memset(l, 0, sizeof(*l));
	e->msg[0] = 0;
	r = listfile_read(f, name, l, hb, e);
	fclose(f);
	return r;
}

static void test_listfile(void)
{
	static const char drop[] =
		"; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project\n"
		"; https://www.spamhaus.org/drop/drop.txt\n"
		"1.10.16.0/20 ; SBL256894\n"
		"1.19.0.0/16 ; SBL434604\n";
	static const char netset[] =
		"#\n# firehol_level1\n#\n\n"
		"0.0.0.0/8\n"
		"   10.1.2.3/8   trailing words ignored\r\n"
		"\t2001:db8::/32\t# comment\n"
		"203.0.113.7;comment without space\n"
		"198.51.100.1#x\n"
		"\r\n"
		"192.0.2.1"; /* no final newline */
	struct target_list l;
	struct ipb_err e;
	uint32_t hb = 99;

	CHECK_INT(read_text(drop, sizeof(drop) - 1, "drop.txt", &l, &hb, &e), 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(fmt(&l.v[0]), "1.10.16.0/20");
	CHECK_STR(fmt(&l.v[1]), "1.19.0.0/16");
	CHECK_INT(l.line[0], 3);
	CHECK_INT(hb, 0);
	target_list_free(&l);

	CHECK_INT(read_text(netset, sizeof(netset) - 1, "level1.netset", &l, &hb, &e), 0);
	CHECK_INT(l.n, 6);
	if (l.n == 6) {
		CHECK_STR(fmt(&l.v[0]), "0.0.0.0/8");
		CHECK_STR(fmt(&l.v[1]), "10.0.0.0/8");
		CHECK_STR(fmt(&l.v[2]), "2001:db8::/32");
		CHECK_STR(fmt(&l.v[3]), "203.0.113.7");
		CHECK_STR(fmt(&l.v[4]), "198.51.100.1");
		CHECK_STR(fmt(&l.v[5]), "192.0.2.1");
		CHECK_INT(l.line[5], 11);
	}
	CHECK_INT(hb, 6);
	target_list_free(&l);

	CHECK_INT(read_text("", 0, "empty", &l, &hb, &e), 0);
	CHECK_INT(l.n, 0);
	target_list_free(&l);
	CHECK_INT(read_text("\xef\xbb\xbf" "1.2.3.4\n", 11, "bom", &l, &hb, &e), 0);
	CHECK_INT(l.n, 1);
	target_list_free(&l);
}

static void test_listfile_errors(void)
{
	static const struct {
		const char *text;
		size_t len;
		const char *name, *msg;
	} cases[] = {
		{ "1.2.3.4\n10.9.300.1\n", 19, "bans.txt", "bans.txt:2: invalid address '10.9.300.1'" },
		{ "1.2.3.4\n\n# x\n1.2.3.4/33 ; y\n", 28, "-",
		  "stdin:4: invalid prefix length in '1.2.3.4/33'" },
		{ "1.2.3.4\n1.2\0.3.4\n", 18, "nul.txt", "nul.txt:2: line contains a NUL byte" },
		{ "1,2,3,4\n", 8, "commas", "commas:1: invalid address '1,2,3,4'" },
		{ "1.2.3.4,5.6.7.8\n", 16, "x", "x:1: invalid address '1.2.3.4,5.6.7.8'" },
		{ "# x\n\t2001:db8::/48/8 # y\n", 24, "v6", "v6:2: invalid prefix length in '2001:db8::/48/8'" },
		{ "ok\n", 3, "bad\x1bname", "bad\\x1bname:1: invalid address 'ok'" },
	};
	struct target_list l;
	struct ipb_err e;
	uint32_t hb;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_REJECT(read_text(cases[i].text, cases[i].len, cases[i].name, &l, &hb, &e),
			     -EINVAL, e.msg, cases[i].msg);
		target_list_free(&l);
	}
}

/* Plain dotted-quad lines take a fast path in listfile_read; a trailing space sends
 * the same line the general way. Both must agree on every line: the target, the
 * host-bits line, and the exact error. */
static void test_listfile_plain_v4(void)
{
	static const char chars[] = "0123456789012345678925.....";
	static const char *const fixed[] = {
		"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.256",
		"1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1000.1.1.1", "0.0.0.00",
		"99.199.249.255", "", ".", "10.0.0.0",
	};
	char a[48], b[56];
	struct target_list la, lb;
	struct ipb_err ea, eb;
	uint32_t ha, hb;
	unsigned i, k, len, bad = 0, fast = 0;
	int ra, rb;

	for (i = 0; i < 300000; i++) {
		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			snprintf(a, sizeof(a), "%s", fixed[i]);
		} else if (i % 3 == 0) {
			snprintf(a, sizeof(a), "%u.%u.%u.%u", (unsigned)unit_below(300),
				 (unsigned)unit_below(300), (unsigned)unit_below(20),
				 (unsigned)unit_below(1000));
		} else {
			len = 1 + (unsigned)unit_below(18);
			for (k = 0; k < len; k++)
				a[k] = chars[unit_below(sizeof(chars) - 1)];
			a[len] = 0;
		}
		len = (unsigned)strlen(a);
		snprintf(b, sizeof(b), "%s \n", a);
		if (i % 2)
			a[len++] = '\n'; /* the last line of a file may lack it */
		ra = read_text(a, len, "f", &la, &ha, &ea);
		rb = read_text(b, strlen(b), "f", &lb, &hb, &eb);
		fast += ra == 0 && la.n == 1;
		if (ra != rb || strcmp(ea.msg, eb.msg) || la.n != lb.n || ha != hb ||
		    (la.n && (!target_equal(&la.v[0], &lb.v[0]) || la.line[0] != lb.line[0]))) {
			if (!bad++)
				fprintf(stderr, "     '%s': %d '%s' vs %d '%s'\n", b, ra, ea.msg, rb,
					eb.msg);
		}
		target_list_free(&la);
		target_list_free(&lb);
	}
	printf("  plain IPv4 lines: %u of 300000 were addresses\n", fast);
	CHECK_INT(bad, 0);
	CHECK(fast > 10000);
}

static void test_listfile_long_word(void)
{
	size_t n = 1 << 20;
	char *text = malloc(n + 1), want[128];
	struct target_list l;
	struct ipb_err e;
	uint32_t hb;

	memset(text, 'a', n);
	text[n] = '\n';
	CHECK_INT(read_text(text, n + 1, "big", &l, &hb, &e), -EINVAL);
	snprintf(want, sizeof(want), "big:1: invalid address '%.61s...'", text);
	CHECK_STR(e.msg, want);
	target_list_free(&l);
	free(text);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A million lines: linear, and fast enough for a daily blocklist cron. */
static void test_listfile_million(void)
{
	FILE *f = tmpfile();
	struct target_list l = { 0 };
	struct ipb_err e;
	uint32_t hb, i;
	double t0;
	int r;

	for (i = 0; i < 1000000; i++)
		if (i % 3)
			fprintf(f, "%u.%u.%u.%u\n", 10 + (i >> 24), (i >> 16) & 255, (i >> 8) & 255,
				i & 255);
		else
			fprintf(f, "2001:db8:%x::/48 ; SBL%u\n", i & 0xffff, i);
	rewind(f);
	t0 = seconds();
	r = listfile_read(f, "million", &l, &hb, &e);
	printf("  1000000 lines read in %.3f s\n", seconds() - t0);
	CHECK_INT(r, 0);
	CHECK_INT(l.n, 1000000);
	CHECK_INT(l.line[999999], 1000000);
	CHECK(seconds() - t0 < 10);
	target_list_free(&l);
	fclose(f);
}

int main(void)
{
	unit_seed();
	test_parse_valid();
	test_parse_invalid();
	test_parse_long_input();
	test_parse_differential();
	test_truncate_contains();
	test_cmp();
	test_cmp_contains_property();
	test_format();
	test_list_push();
	test_listfile();
	test_listfile_errors();
	test_listfile_plain_v4();
	test_listfile_long_word();
	test_listfile_million();
	return unit_done("test_addr");
}
