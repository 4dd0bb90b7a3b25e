// SPDX-License-Identifier: GPL-2.0-only
/* Command-line plumbing shared by the commands: messages, targets, the journal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipbanset.h"

static void vmessage(const char *fmt, va_list ap)
{
	fputs("ipbanset: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ipb_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
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

static int targets_from_args(struct ctx *c, struct target_list *l)
{
	char buf[TARGET_STRLEN], shown[TARGET_STRLEN];
	struct ipb_err e;
	struct target t;
	unsigned flags;
	int i;

	for (i = 0; i < c->nargs; i++) {
		if (target_parse(c->args[i], &t, &flags, &e))
			return ipb_error("%s", e.msg), IPB_EXIT_USAGE;
		if (flags & TARGET_HOSTBITS)
			ipb_info(c, "warning: '%s' has host bits set; using %s",
				 ipb_escape(c->args[i], shown, sizeof(shown)),
				 target_format(&t, buf, sizeof(buf)));
		if (target_list_push(l, &t, 0))
			return ipb_error("out of memory"), IPB_EXIT_SYSTEM;
	}
	return 0;
}

static int targets_from_file(struct ctx *c, struct target_list *l)
{
	bool is_stdin = !strcmp(c->file, "-");
	uint32_t hostbits_line = 0;
	struct ipb_err e;
	FILE *f;
	int r;

	f = is_stdin ? stdin : fopen(c->file, "re");
	if (!f)
		return ipb_error("%s: %s", c->file, strerror(errno)), IPB_EXIT_USAGE;
	/* a 1M-line list is 14 MB: read it in large pieces, not 4 KiB ones */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	r = listfile_read(f, c->file, l, &hostbits_line, &e);
	if (!is_stdin)
		fclose(f);
	if (r == -ENOMEM)
		return ipb_error("out of memory reading %s", c->file), IPB_EXIT_SYSTEM;
	if (r)
		return ipb_error("%s", e.msg), IPB_EXIT_USAGE;
	if (hostbits_line)
		ipb_info(c, "warning: %s:%u: prefix has host bits set; using its network",
			 is_stdin ? "stdin" : c->file, hostbits_line);
	return 0;
}

/* Returns 0, or IPB_EXIT_ALLOW having named the allowlisted range. */
static int check_allowlist(struct ctx *c, const struct target_list *l)
{
	char a[TARGET_STRLEN], b[TARGET_STRLEN];
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < c->cfg.allow.n; k++)
			if (target_overlaps(&l->v[i], &c->cfg.allow.v[k]))
				return ipb_error("%s overlaps the allowlisted range %s; nothing changed",
						 target_format(&l->v[i], a, sizeof(a)),
						 target_format(&c->cfg.allow.v[k], b, sizeof(b))),
				       IPB_EXIT_ALLOW;
		if (c->have_ssh_client && !c->force && target_overlaps(&l->v[i], &c->ssh_client))
			return ipb_error("%s overlaps %s, the client address of this SSH session "
					 "($SSH_CONNECTION); use --force to ban it anyway; nothing changed",
					 target_format(&l->v[i], a, sizeof(a)),
					 target_format(&c->ssh_client, b, sizeof(b))),
			       IPB_EXIT_ALLOW;
	}
	return 0;
}

int read_targets(struct ctx *c, struct target_list *l, bool check_allow)
{
	size_t i;
	int r;

	memset(l, 0, sizeof(*l));
	if (c->file && c->nargs)
		return ipb_error("%s: give targets or -f FILE, not both", c->command), IPB_EXIT_USAGE;
	if (!c->file && !c->nargs)
		return ipb_error("%s: missing TARGET (or -f FILE)", c->command), IPB_EXIT_USAGE;
	r = c->file ? targets_from_file(c, l) : targets_from_args(c, l);
	if (r)
		return r;
	/* ipv6_prefix: a single IPv6 address stands for its /N (one host owns a whole /64). */
	for (i = 0; i < l->n; i++)
		if (l->v[i].family == 6 && l->v[i].plen == 128 && c->cfg.ipv6_prefix < 128)
			target_truncate(&l->v[i], c->cfg.ipv6_prefix);
	ipb_phase(c, "targets read");
	if (check_allow && (r = check_allowlist(c, l)))
		return r;
	plan_sort_unique(l);
	ipb_phase(c, "targets checked and sorted");
	return 0;
}

int open_journal(struct ctx *c, struct journal **j, bool create)
{
	struct ipb_err e;
	struct stat st;
	int r;

	/* a dry run creates no journal: with none yet, it plans against an empty one */
	/* lstat: a dangling symlink is not "no journal"; journal_open refuses it */
	if (create && c->dry_run && lstat(c->cfg.db, &st) < 0 && errno == ENOENT)
		r = journal_open_scratch(j, c->cfg.db, &e);
	else
		r = journal_open(j, c->cfg.db, create, !create, &e);
	if (r == -ENOENT && !create) {
		*j = NULL; /* no journal yet: readers see no bans */
		return 0;
	}
	if (r) {
		ipb_error("%s", e.msg);
		if (c->db_env)
			ipb_error("(the journal path came from $%s)", c->db_env);
		return IPB_EXIT_SYSTEM;
	}
	if (owner_binding(c, *j, false, &e)) { /* engine_start records a new binding */
		ipb_error("%s", e.msg);
		journal_close(*j);
		*j = NULL;
		return IPB_EXIT_SYSTEM;
	}
	return 0;
}
