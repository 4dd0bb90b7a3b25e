// SPDX-License-Identifier: GPL-2.0-only
/* Shared types and helpers for every ipbanset module. */
#ifndef IPBANSET_COMMON_H
#define IPBANSET_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPB_ERRLEN 1024

/* Lower layers fill one of these and return a negative errno; only commands print. */
struct ipb_err {
	char msg[IPB_ERRLEN];
};

__attribute__((format(printf, 2, 3)))
void ipb_seterr(struct ipb_err *e, const char *fmt, ...);

/* Expiry instants are Unix seconds; a permanent ban never expires. */
#define IPB_NEVER INT64_MAX

/* Exit status from the contract. */
enum {
	IPB_EXIT_OK = 0,
	IPB_EXIT_NOTBANNED = 1,
	IPB_EXIT_USAGE = 2,
	IPB_EXIT_ALLOW = 3,
	IPB_EXIT_SYSTEM = 4,
};

/* Escape control characters, ANSI escapes and invalid UTF-8 for printing:
 * writes at most outlen-1 bytes plus NUL; returns out. */
char *ipb_escape(const char *in, char *out, size_t outlen);
/* The inverse of ipb_escape: "\\\\" and "\\xNN" back to the bytes they stand for. */
char *ipb_unescape(const char *in, char *out, size_t outlen);

/* A growing text buffer. When memory runs out it keeps what it holds, takes no more,
 * and sets ipb_oom, which main turns into exit status 4: the output is incomplete. */
struct strbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};
extern bool ipb_oom;
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
const char *sb_str(const struct strbuf *sb); /* the text so far; "" before any */
__attribute__((format(printf, 2, 3)))
void sb_printf(struct strbuf *sb, const char *fmt, ...);
/* Append s as a JSON string literal (quotes included). */
void sb_json_str(struct strbuf *sb, const char *s); /* s may be NULL -> null */

/* Text columns as wide as their widest cell: a first pass over the rows measures
 * (cols_fit), a second prints (cols_cell). The last column of a row is never padded. */
#define COLS_MAX 4
struct cols {
	int w[COLS_MAX];
	bool measure;
};
void cols_init(struct cols *k, const char *const *heads, size_t n); /* heads may be NULL */
void cols_fit(struct cols *k, size_t i, const char *cell);
/* The cell padded to its column's width, followed by one space. */
void cols_cell(const struct cols *k, struct strbuf *sb, size_t i, const char *cell);
void cols_end(struct strbuf *sb); /* ends the row: no trailing blanks, a newline */

/* Make the array at *pv hold at least need elements of size elsize, doubling its
 * capacity *cap; returns 0 or -ENOMEM (the array is unchanged then). */
int ipb_grow(void *pv, size_t *cap, size_t need, size_t elsize);

/* Copies of strings that stay where they are until strpool_free. A run of equal strings
 * (a bulk import's source, a listing's comments) is stored once. */
struct strpool {
	struct strpool_block *head;
	const char *last;
};
/* The pool's copy of s, or NULL when out of memory. */
const char *strpool_add(struct strpool *sp, const char *s);
void strpool_free(struct strpool *sp);

/* Wall-clock Unix time in milliseconds, moved by ipb_clock_offset_ms (0; main sets it
 * from the test suite's IPBANSET_TEST_CLOCK_OFFSET). */
int64_t ipb_now_ms(void);
extern int64_t ipb_clock_offset_ms;
/* How far ipbanset's clock is ahead of the monotonic one, which the kernel's element
 * timeouts follow: it moves when the wall clock is stepped or the machine sleeps. */
int64_t ipb_clock_skew_ms(void);

/* RFC 3339 UTC ("2026-11-26T07:00:00Z"); buf >= 32 bytes. */
void ipb_rfc3339(int64_t t, char *buf, size_t len);

#endif
