// SPDX-License-Identifier: GPL-2.0-only
/* Targets: parsing, formatting and comparing IPv4/IPv6 prefixes; reading list files. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* Longest input quoted in a message: enough for any valid target, short enough that a
 * megabyte of garbage on one line does not flood the terminal. */
#define QUOTE_MAX 64

/* The input as it may be printed: control characters escaped, at most QUOTE_MAX chars.
 * out holds QUOTE_BUF bytes. */
#define QUOTE_BUF (QUOTE_MAX + 16)
static const char *quote(const char *s, char *out)
{
	ipb_escape(s, out, QUOTE_BUF);
	if (strlen(out) > QUOTE_MAX) {
		ipb_escape(s, out, QUOTE_MAX - 3 + 1);
		strcat(out, "...");
	}
	return out;
}

/* Decimal 0..max with no sign, no leading zero (except "0" itself), nothing else. */
static bool parse_small_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Strict dotted quad: exactly four parts; "010" is refused rather than guessed at
 * (inet_aton would read it as octal 8). */
static bool parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t start = 0, i;
	unsigned part = 0, v;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (part == 4 || !parse_small_uint(s + start, i - start, 255, &v))
			return false;
		out[part++] = (uint8_t)v;
		start = i + 1;
	}
	return part == 4;
}

static bool parse_v6(const char *s, size_t n, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	return inet_pton(AF_INET6, buf, out) == 1;
}

static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* Are any bits beyond plen set? */
static bool has_host_bits(const struct target *t, unsigned plen)
{
	unsigned i, full = plen / 8;

	if (plen % 8 && (t->addr[full] & (0xffu >> (plen % 8))))
		return true;
	for (i = (plen + 7) / 8; i < 16; i++)
		if (t->addr[i])
			return true;
	return false;
}

void target_truncate(struct target *t, unsigned plen)
{
	unsigned i;

	if (plen > t->plen)
		plen = t->plen;
	if (plen % 8)
		t->addr[plen / 8] &= (uint8_t)(0xff00u >> (plen % 8));
	for (i = (plen + 7) / 8; i < 16; i++)
		t->addr[i] = 0;
	t->plen = (uint8_t)plen;
}

static int parse_fail(struct ipb_err *e, const char *what, const char *s)
{
	char q[QUOTE_BUF];

	if (e)
		ipb_seterr(e, "%s '%s'", what, quote(s, q));
	return -EINVAL;
}

int target_parse(const char *s, struct target *t, unsigned *flags, struct ipb_err *e)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned plen = 0, full;
	struct target r;

	memset(&r, 0, sizeof(r));
	*flags = 0;
	if (memchr(s, ':', alen)) {
		if (!parse_v6(s, alen, r.addr))
			return parse_fail(e, "invalid address", s);
		r.family = 6;
	} else {
		if (!parse_v4(s, alen, r.addr))
			return parse_fail(e, "invalid address", s);
		r.family = 4;
	}
	full = r.family == 4 ? 32 : 128;
	if (slash) {
		if (!parse_small_uint(slash + 1, strlen(slash + 1), full, &plen))
			return parse_fail(e, "invalid prefix length in", s);
	} else {
		plen = full;
		*flags |= TARGET_BARE;
	}
	if (r.family == 6 && is_v4_mapped(r.addr)) {
		if (plen < 96)
			return parse_fail(e, "invalid prefix length in", s);
		memmove(r.addr, r.addr + 12, 4);
		memset(r.addr + 4, 0, 12);
		r.family = 4;
		plen -= 96;
	}
	r.plen = (uint8_t)(r.family == 4 ? 32 : 128);
	if (has_host_bits(&r, plen))
		*flags |= TARGET_HOSTBITS;
	target_truncate(&r, plen);
	*t = r;
	return 0;
}

char *target_format(const struct target *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(t->family == 4 ? AF_INET : AF_INET6, t->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (t->plen < target_addrlen(t) * 8)
		snprintf(buf, len, "%s/%u", a, t->plen);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

/* Prefixes either nest or are disjoint. */
bool target_overlaps(const struct target *a, const struct target *b)
{
	return target_contains(a, b) || target_contains(b, a);
}

void target_list_free(struct target_list *l)
{
	free(l->v);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

int target_list_push(struct target_list *l, const struct target *t, uint32_t line)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct target *v;
		uint32_t *ln;

		if (cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		ln = realloc(l->line, cap * sizeof(*ln));
		if (!ln)
			return -ENOMEM;
		l->line = ln;
		l->cap = cap;
	}
	l->v[l->n] = *t;
	l->line[l->n] = line;
	l->n++;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Cut the line at a comment and return its first word (NUL-terminated in place), or
 * NULL for a line with no word. */
static char *first_word(char *line)
{
	char *p = line, *w;

	p[strcspn(p, "#;")] = 0;
	while (is_space(*p))
		p++;
	if (!*p)
		return NULL;
	w = p;
	while (*p && !is_space(*p))
		p++;
	*p = 0;
	return w;
}

/* A line that is a plain dotted quad and its newline, as block lists mostly are: the
 * target target_parse gives for it, without cutting words and comments. Anything else
 * (a leading zero, a part above 255, a space, a comment, a prefix) returns false and
 * goes the general way, which also words every error. */
static bool plain_v4_line(const char *s, size_t n, struct target *t)
{
	unsigned part = 0, digits = 0, v = 0;
	size_t i;

	if (n && s[n - 1] == '\n')
		n--;
	memset(t, 0, sizeof(*t));
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] >= '0' && s[i] <= '9') {
			if (digits == 3 || (digits == 1 && v == 0))
				return false;
			v = v * 10 + (unsigned)(s[i] - '0');
			digits++;
			continue;
		}
		if (!digits || v > 255 || part == 4 || (i < n && s[i] != '.'))
			return false;
		t->addr[part++] = (uint8_t)v;
		digits = v = 0;
	}
	t->family = 4;
	t->plen = 32;
	return part == 4;
}

int listfile_read(FILE *f, const char *name, struct target_list *out,
		  uint32_t *hostbits_line, struct ipb_err *e)
{
	char shown[256], *line = NULL, *word;
	size_t cap = 0;
	uint32_t lineno = 0;
	struct ipb_err perr;
	struct target t;
	unsigned flags;
	ssize_t n;
	int r = 0;

	ipb_escape(strcmp(name, "-") ? name : "stdin", shown, sizeof(shown));
	*hostbits_line = 0;
	/* one thread reads f: no lock per line */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (lineno == UINT32_MAX) {
			ipb_seterr(e, "%s: too many lines", shown);
			r = -EFBIG;
			break;
		}
		lineno++;
		if (plain_v4_line(line, (size_t)n, &t)) {
			if (target_list_push(out, &t, lineno)) {
				ipb_seterr(e, "%s:%u: out of memory", shown, lineno);
				r = -ENOMEM;
				break;
			}
			errno = 0;
			continue;
		}
		if (memchr(line, 0, (size_t)n)) {
			ipb_seterr(e, "%s:%u: line contains a NUL byte", shown, lineno);
			r = -EINVAL;
			break;
		}
		/* A UTF-8 byte order mark, as some Windows editors write. */
		word = first_word(lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3) ? line + 3 : line);
		if (!word)
			continue;
		if (target_parse(word, &t, &flags, &perr)) {
			ipb_seterr(e, "%s:%u: %s", shown, lineno, perr.msg);
			r = -EINVAL;
			break;
		}
		if ((flags & TARGET_HOSTBITS) && !*hostbits_line)
			*hostbits_line = lineno;
		if (target_list_push(out, &t, lineno)) {
			ipb_seterr(e, "%s:%u: out of memory", shown, lineno);
			r = -ENOMEM;
			break;
		}
		errno = 0;
	}
	/* getline fails without setting the error flag when it cannot grow its buffer. */
	if (!r && (ferror(f) || !feof(f))) {
		r = errno ? -errno : -EIO;
		ipb_seterr(e, "%s: %s", shown, strerror(-r));
	}
	free(line);
	return r;
}
