// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: listfile_read over fmemopen of the input bytes.
 *
 * On success: every target has the documented shape and survives a format/parse round
 * trip, line numbers strictly increase, and the list equals what an independent model
 * of the format gives (one target per line, the first whitespace-separated word, blank
 * lines and '#'/';' comments skipped, a UTF-8 byte order mark on line 1 ignored);
 * *hostbits_line is the first line whose target had host bits. On failure: -EINVAL, the
 * message starts with the given name and ':', and names the line the model fails on. */
#include <errno.h>

#include "fuzz.h"

#define NAME "fuzz-list.txt"

struct model {
	struct target_list list;
	uint32_t hostbits_line;
	uint32_t bad_line; /* 0 when the whole file is good */
	bool nul;	   /* the bad line holds a NUL byte */
};

static bool blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void model_read(const uint8_t *data, size_t size, struct model *m)
{
	size_t pos = 0, end, i, ws, we;
	uint32_t lineno = 0;
	struct target t;
	unsigned flags;
	char word[1024];

	memset(m, 0, sizeof(*m));
	while (pos < size) {
		for (end = pos; end < size && data[end] != '\n'; end++)
			;
		lineno++;
		if (memchr(data + pos, 0, end - pos)) {
			m->bad_line = lineno, m->nul = true;
			return;
		}
		i = pos;
		if (lineno == 1 && end - pos >= 3 && !memcmp(data + pos, "\xef\xbb\xbf", 3))
			i += 3;
		for (ws = i; ws < end && blank(data[ws]) && data[ws] != '#' && data[ws] != ';'; ws++)
			;
		for (we = ws; we < end && !blank(data[we]) && data[we] != '#' && data[we] != ';'; we++)
			;
		pos = end + 1;
		if (we == ws)
			continue;
		if (we - ws >= sizeof(word)) {
			m->bad_line = lineno; /* far too long for any target */
			return;
		}
		memcpy(word, data + ws, we - ws);
		word[we - ws] = 0;
		if (target_parse(word, &t, &flags, NULL)) {
			m->bad_line = lineno;
			return;
		}
		if ((flags & TARGET_HOSTBITS) && !m->hostbits_line)
			m->hostbits_line = lineno;
		if (target_list_push(&m->list, &t, lineno))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target_list l = { 0 };
	struct ipb_err e;
	struct model m;
	uint32_t hostbits = 12345;
	uint8_t dummy = 0;
	char want[64];
	FILE *f;
	size_t i;
	int r;

	/* fmemopen wants a non-empty buffer; an empty file is a zero-length read of one. */
	f = fmemopen(size ? (void *)data : &dummy, size ? size : 1, "r");
	if (!f)
		abort();
	if (!size)
		fgetc(f); /* consume the dummy byte: the stream is now at EOF with nothing read */
	memset(&e, 0, sizeof(e));
	r = listfile_read(f, NAME, &l, &hostbits, &e);
	fclose(f);
	model_read(data, size, &m);

	if (r == 0) {
		if (m.bad_line) {
			fprintf(stderr, "listfile_read accepts a file the model refuses at line %u\n",
				m.bad_line);
			abort();
		}
		FUZZ_ASSERT(l.n == m.list.n);
		FUZZ_ASSERT(hostbits == m.hostbits_line);
		for (i = 0; i < l.n; i++) {
			fuzz_check_target(&l.v[i]);
			FUZZ_ASSERT(l.line[i] >= 1);
			FUZZ_ASSERT(i == 0 || l.line[i] > l.line[i - 1]);
			FUZZ_ASSERT(!memcmp(&l.v[i], &m.list.v[i], sizeof(l.v[i])));
			FUZZ_ASSERT(l.line[i] == m.list.line[i]);
		}
	} else {
		FUZZ_ASSERT(r == -EINVAL);
		FUZZ_ASSERT(!strncmp(e.msg, NAME ":", strlen(NAME ":")));
		if (!m.bad_line) {
			fprintf(stderr, "listfile_read refuses a file the model accepts: %s\n", e.msg);
			abort();
		}
		snprintf(want, sizeof(want), NAME ":%u: ", m.bad_line);
		if (strncmp(e.msg, want, strlen(want))) {
			fprintf(stderr, "message '%s' does not name line %u\n", e.msg, m.bad_line);
			abort();
		}
		if (m.nul)
			FUZZ_ASSERT(strstr(e.msg, "NUL byte"));
		else
			FUZZ_ASSERT(strstr(e.msg, ": invalid "));
	}
	target_list_free(&l);
	target_list_free(&m.list);
	return 0;
}
