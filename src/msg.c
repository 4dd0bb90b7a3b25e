// SPDX-License-Identifier: GPL-2.0-only
/* Messages: "ipbanset: ..." on stderr, as -q and -v say; the first error kept for -j. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"

static void vmessage(const char *fmt, va_list ap)
{
	fputs("ipbanset: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* The run's first error, for the JSON error object (ipb_json_error). */
static char first_error[IPB_ERRLEN];

void ipb_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!first_error[0] && strncmp(fmt, "warning: ", 9)) {
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(first_error, sizeof(first_error), fmt, copy);
		va_end(copy);
	}
	vmessage(fmt, ap);
	va_end(ap);
}

void ipb_json_error(int status)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_printf(&sb, "{\"error\": ");
	sb_json_str(&sb, first_error[0] ? first_error : "failed");
	sb_printf(&sb, ", \"exit\": %d}\n", status);
	if (sb.buf)
		fputs(sb.buf, stdout);
	sb_free(&sb);
}

void ipb_info(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void ipb_verbose(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void ipb_phase(const struct ctx *c, const char *what)
{
	if (c->verbose)
		fprintf(stderr, "ipbanset: %6lld ms  %s\n", (long long)(ipb_now_ms() - c->now_ms), what);
}

int ipb_exit_for(int err)
{
	return err == -EINVAL ? IPB_EXIT_USAGE : IPB_EXIT_SYSTEM;
}

