// SPDX-License-Identifier: GPL-2.0-only
/* One run of ipbanset: the configuration, the command line's settings and the clock,
 * read by main and handed down to the commands and the engine; and the messages a run
 * prints (msg.c), which these settings govern (-q, -v, -j). */
#ifndef IPBANSET_CTX_H
#define IPBANSET_CTX_H

#include "addr.h"
#include "config.h"

struct ctx {
	struct config cfg;
	const char *config_path;
	bool config_explicit;
	const char *db_env, *table_env; /* which environment variable set db / table, if any */
	bool json, dry_run, quiet, verbose;

	/* command options */
	const char *command;
	int64_t timeout; /* seconds, 0 = permanent */
	bool timeout_set;
	const char *source;
	bool source_set, all_sources, replace, force, verify;
	const char *reason;
	const char *file;
	unsigned family;
	int64_t since;
	bool since_set;
	const char *format;
	bool hook_set, priority_set, verdict_set;
	bool print_rules; /* init: print the iptables rules for the ipset backend */
	bool adopt;	  /* init: take over a table an older ipbanset made (owner.c) */
	int64_t jitter;	      /* seconds; 0 = none */
	int64_t max_removals; /* sync: -1 = no cap */
	bool max_removals_pct; /* max_removals is a percentage of the source's bans */
	const char *netns;
	int64_t interval; /* watch: seconds between expiry checks */
	char **args;
	int nargs;

	int64_t now;	/* Unix seconds at start */
	int64_t now_ms; /* Unix milliseconds at start */
	struct target ssh_client; /* from $SSH_CONNECTION */
	bool have_ssh_client;
	bool ssh_client_unreadable; /* $SSH_CONNECTION is set but names no address */
	bool json_printed; /* a JSON document is on stdout already (list and log stream theirs) */
};

/* Messages: "ipbanset: ..." on stderr. */
__attribute__((format(printf, 1, 2))) void ipb_error(const char *fmt, ...);
/* With -j, after an error (exit 2, 3 or 4): {"error": "<the first message>", "exit": N}
 * on stdout, where no JSON document went already. */
void ipb_json_error(int status);
__attribute__((format(printf, 2, 3))) void ipb_info(const struct ctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void ipb_verbose(const struct ctx *c, const char *fmt, ...);
/* With -v: milliseconds since the start, and what was just done. */
void ipb_phase(const struct ctx *c, const char *what);
/* Exit status for a negative errno from a lower layer. */
int ipb_exit_for(int err);

#endif
