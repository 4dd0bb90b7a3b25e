// SPDX-License-Identifier: GPL-2.0-only
/* Small helpers shared by every module: error text, escaping, a string buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

void ipb_seterr(struct ipb_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *ipb_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t o = 0, n;
	char tmp[8];

	if (outlen == 0)
		return out;
	while (*s) {
		n = utf8_len(s);
		if (n == 1 && *s >= 0x20 && *s != 0x7f && *s != '\\') {
			tmp[0] = (char)*s;
			tmp[1] = 0;
		} else if (n == 1 && *s == '\\') {
			strcpy(tmp, "\\\\");
		} else if (n > 1) {
			memcpy(tmp, s, n);
			tmp[n] = 0;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *s);
			n = 1;
		}
		if (o + strlen(tmp) >= outlen)
			break;
		memcpy(out + o, tmp, strlen(tmp));
		o += strlen(tmp);
		s += n;
	}
	out[o] = 0;
	return out;
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->failed = false;
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

bool ipb_oom;

/* Room for more bytes and a NUL; false (and nothing changed) when memory ran out. */
static bool sb_reserve(struct strbuf *sb, size_t more)
{
	size_t cap = sb->cap ? sb->cap : 256;
	char *buf;

	if (sb->failed)
		return false;
	if (sb->len + more + 1 <= sb->cap)
		return true;
	while (cap < sb->len + more + 1)
		cap *= 2;
	buf = realloc(sb->buf, cap);
	if (!buf) {
		sb->failed = ipb_oom = true;
		return false;
	}
	sb->buf = buf;
	sb->cap = cap;
	return true;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *ipb_unescape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return out;
	while (in && *in && o + 1 < outlen) {
		if (in[0] == '\\' && in[1] == '\\') {
			out[o++] = '\\';
			in += 2;
		} else if (in[0] == '\\' && in[1] == 'x' && hexval(in[2]) >= 0 && hexval(in[3]) >= 0) {
			out[o++] = (char)(hexval(in[2]) << 4 | hexval(in[3]));
			in += 4;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = 0;
	return out;
}

void cols_init(struct cols *k, const char *const *heads, size_t n)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	k->measure = true;
	for (i = 0; heads && i < n && i < COLS_MAX; i++)
		cols_fit(k, i, heads[i]);
}

void cols_fit(struct cols *k, size_t i, const char *cell)
{
	size_t n = cell ? strlen(cell) : 0;

	if (i < COLS_MAX && n > (size_t)k->w[i])
		k->w[i] = n > 256 ? 256 : (int)n;
}

void cols_cell(const struct cols *k, struct strbuf *sb, size_t i, const char *cell)
{
	sb_printf(sb, "%-*s ", i < COLS_MAX ? k->w[i] : 0, cell ? cell : "");
}

void cols_end(struct strbuf *sb)
{
	while (sb->len && sb->buf[sb->len - 1] == ' ')
		sb->len--;
	sb_printf(sb, "\n");
}

void sb_json_str(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (!s) {
		sb_printf(sb, "null");
		return;
	}
	sb_printf(sb, "\"");
	while (*p) {
		n = utf8_len(p);
		if (n == 0)
			sb_printf(sb, "\\ufffd"), n = 1;
		else if (*p == '"' || *p == '\\')
			sb_printf(sb, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(sb, "\\u%04x", *p);
		else
			sb_printf(sb, "%.*s", (int)n, (const char *)p);
		p += n;
	}
	sb_printf(sb, "\"");
}

int ipb_grow(void *pv, size_t *cap, size_t need, size_t elsize)
{
	void **p = pv, *nv;
	size_t ncap = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*p, ncap * elsize);
	if (!nv)
		return -ENOMEM;
	*p = nv;
	*cap = ncap;
	return 0;
}

#define STRPOOL_BLOCK 65536

struct strpool_block {
	struct strpool_block *next;
	size_t used, size;
	char data[];
};

const char *strpool_add(struct strpool *sp, const char *s)
{
	size_t n = strlen(s) + 1;
	struct strpool_block *b = sp->head;
	char *copy;

	if (sp->last && !strcmp(sp->last, s))
		return sp->last;
	if (!b || b->size - b->used < n) {
		size_t size = n > STRPOOL_BLOCK ? n : STRPOOL_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->next = sp->head;
		b->used = 0;
		b->size = size;
		sp->head = b;
	}
	copy = memcpy(b->data + b->used, s, n);
	b->used += n;
	return sp->last = copy;
}

void strpool_free(struct strpool *sp)
{
	while (sp->head) {
		struct strpool_block *b = sp->head;

		sp->head = b->next;
		free(b);
	}
	sp->last = NULL;
}

int64_t ipb_clock_offset_ms;

int64_t ipb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ipb_clock_offset_ms;
}

int64_t ipb_clock_skew_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ipb_now_ms() - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void ipb_rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
