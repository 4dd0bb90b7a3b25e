// SPDX-License-Identifier: GPL-2.0-only
/* ipbanset: ban addresses and prefixes in nftables sets, with a journal.
 * This file only parses the command line and dispatches. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <utmpx.h>

#include "duration.h"
#include "ipbanset.h"

#ifndef IPBANSET_VERSION
#define IPBANSET_VERSION "0.1"
#endif

enum opt_id {
	O_FILE = 1 << 0,
	O_TIMEOUT = 1 << 1,
	O_SOURCE = 1 << 2,
	O_REASON = 1 << 3,
	O_REPLACE = 1 << 4,
	O_FORCE = 1 << 5,
	O_ALL_SOURCES = 1 << 6,
	O_FAMILY = 1 << 7,
	O_SINCE = 1 << 8,
	O_FORMAT = 1 << 9,
	O_VERIFY = 1 << 10,
	O_HOOK = 1 << 11,
	O_PRIORITY = 1 << 12,
	O_VERDICT = 1 << 13,
	O_JITTER = 1 << 14,
	O_MAX_REMOVALS = 1 << 15,
	O_INTERVAL = 1 << 16,
	O_PRINT_RULES = 1 << 17,
	O_ADOPT = 1 << 18,
};

struct command {
	const char *name;
	int (*fn)(struct ctx *c);
	unsigned opts;	/* command options it accepts */
	int min_args, max_args; /* -1: any */
	const char *synopsis;
	const char *help;
};

static const struct command commands[] = {
	{ "init", cmd_init, O_HOOK | O_PRIORITY | O_VERDICT | O_PRINT_RULES | O_ADOPT, 0, 0,
	  "init [--hook input|prerouting] [--priority N] [--verdict drop|reject] [--print-rules] "
	  "[--adopt]",
	  "create or repair the table, its chain and sets; --print-rules: iptables rules (ipset); "
	  "--adopt: take over a table an older ipbanset made" },
	{ "ban", cmd_ban, O_FILE | O_TIMEOUT | O_SOURCE | O_REASON | O_REPLACE | O_FORCE | O_JITTER,
	  0, -1,
	  "ban [-t DUR] [--jitter DUR] [-s SOURCE] [-r REASON] [--replace] [--force] TARGET... | -f FILE",
	  "ban addresses or prefixes" },
	{ "unban", cmd_unban, O_FILE | O_SOURCE | O_ALL_SOURCES, 0, -1,
	  "unban [-s SOURCE | --all-sources] TARGET... | -f FILE", "withdraw bans" },
	{ "sync", cmd_sync,
	  O_FILE | O_TIMEOUT | O_SOURCE | O_REASON | O_FORCE | O_JITTER | O_MAX_REMOVALS, 0, 0,
	  "sync -s SOURCE [-t DUR] [--jitter DUR] [--max-removals N|P%] [-r REASON] [--force] -f FILE",
	  "make SOURCE's bans exactly the targets in FILE" },
	{ "flush", cmd_flush, O_SOURCE, 0, 0, "flush [-s SOURCE]", "withdraw all bans (of one source)" },
	{ "query", cmd_query, 0, 1, 1, "query TARGET", "is TARGET banned, and by which bans" },
	{ "list", cmd_list, O_SOURCE | O_FAMILY, 0, 0, "list [-s SOURCE] [--family 4|6]",
	  "list live bans" },
	{ "status", cmd_status, O_FORMAT | O_VERIFY, 0, 0,
	  "status [--format text|json|prometheus] [--verify]",
	  "counts, expiries, and whether the kernel (chain, rules, sets) enforces the journal" },
	{ "reconcile", cmd_reconcile, 0, 0, 0, "reconcile",
	  "make the kernel hold exactly the journal's live bans, in ipbanset's own chain and rules" },
	{ "log", cmd_log, O_SINCE | O_SOURCE, 0, 0, "log [--since DUR] [-s SOURCE]",
	  "history of ban and unban events" },
	{ "gc", cmd_gc, 0, 0, 0, "gc", "drop expired bans and old history from the journal" },
	{ "teardown", cmd_teardown, 0, 0, 0, "teardown", "delete the nftables table (the journal is kept)" },
	{ "recover", cmd_recover, O_FORCE, 0, 0, "recover [--force]",
	  "rebuild a damaged journal from the kernel's elements, keeping the old file" },
	{ "watch", cmd_watch, O_INTERVAL, 0, 0, "watch [--interval DUR]",
	  "daemon: restore bans that others remove; record expiries" },
};

/* Keys of the options that have no short form. */
enum {
	K_REPLACE = 256,
	K_FORCE,
	K_ALL_SOURCES,
	K_FAMILY,
	K_SINCE,
	K_FORMAT,
	K_VERIFY,
	K_HOOK,
	K_PRIORITY,
	K_VERDICT,
	K_JITTER,
	K_MAX_REMOVALS,
	K_INTERVAL,
	K_PRINT_RULES,
	K_ADOPT,
};

/* Every option, once: getopt's tables and the names in messages are made from it. */
static const struct opt_def {
	const char *name;
	int key;	 /* the short option's letter, or a K_* key */
	int has_arg;	 /* no_argument or required_argument */
	unsigned bit;	 /* O_*: an option of some commands only; 0: a global option */
} opt_defs[] = {
	{ "config", 'c', required_argument, 0 },
	{ "db", 'd', required_argument, 0 },
	{ "table", 'T', required_argument, 0 },
	{ "backend", 'B', required_argument, 0 },
	{ "netns", 'N', required_argument, 0 },
	{ "json", 'j', no_argument, 0 },
	{ "dry-run", 'n', no_argument, 0 },
	{ "quiet", 'q', no_argument, 0 },
	{ "verbose", 'v', no_argument, 0 },
	{ "help", 'h', no_argument, 0 },
	{ "version", 'V', no_argument, 0 },
	{ "file", 'f', required_argument, O_FILE },
	{ "timeout", 't', required_argument, O_TIMEOUT },
	{ "source", 's', required_argument, O_SOURCE },
	{ "reason", 'r', required_argument, O_REASON },
	{ "replace", K_REPLACE, no_argument, O_REPLACE },
	{ "force", K_FORCE, no_argument, O_FORCE },
	{ "all-sources", K_ALL_SOURCES, no_argument, O_ALL_SOURCES },
	{ "family", K_FAMILY, required_argument, O_FAMILY },
	{ "since", K_SINCE, required_argument, O_SINCE },
	{ "format", K_FORMAT, required_argument, O_FORMAT },
	{ "verify", K_VERIFY, no_argument, O_VERIFY },
	{ "hook", K_HOOK, required_argument, O_HOOK },
	{ "priority", K_PRIORITY, required_argument, O_PRIORITY },
	{ "verdict", K_VERDICT, required_argument, O_VERDICT },
	{ "jitter", K_JITTER, required_argument, O_JITTER },
	{ "max-removals", K_MAX_REMOVALS, required_argument, O_MAX_REMOVALS },
	{ "interval", K_INTERVAL, required_argument, O_INTERVAL },
	{ "print-rules", K_PRINT_RULES, no_argument, O_PRINT_RULES },
	{ "adopt", K_ADOPT, no_argument, O_ADOPT },
};

#define NOPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static const struct opt_def *opt_by_key(int key)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opt_defs[i].key == key)
			return &opt_defs[i];
	return NULL;
}

/* getopt_long's tables, made from opt_defs: ":c:d:...jnq..." and struct option[]. */
static void getopt_tables(char *shortopts, struct option *longopts)
{
	size_t i, n = 0;

	shortopts[n++] = ':'; /* a missing argument is ':', not '?' */
	for (i = 0; i < NOPTS; i++) {
		longopts[i] = (struct option){ opt_defs[i].name, opt_defs[i].has_arg, NULL,
					       opt_defs[i].key };
		if (opt_defs[i].key < 256) {
			shortopts[n++] = (char)opt_defs[i].key;
			if (opt_defs[i].has_arg == required_argument)
				shortopts[n++] = ':';
		}
	}
	shortopts[n] = 0;
	longopts[NOPTS] = (struct option){ NULL, 0, NULL, 0 };
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: ipbanset [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
		   "Ban IPv4/IPv6 addresses and CIDR prefixes in nftables (or ipset) sets with\n"
		   "per-ban kernel timeouts; a journal keeps every ban across reboots and reloads.\n\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n      ipbanset %s\n", commands[i].name, commands[i].help,
			commands[i].synopsis);
	fprintf(f, "\nGlobal options (before or after COMMAND):\n"
		   "  -c, --config PATH   configuration file (default %s)\n"
		   "  -d, --db PATH       ban journal, env IPBANSET_DB (default %s)\n"
		   "  -T, --table NAME    nftables table (family inet), env IPBANSET_TABLE (default %s);\n"
		   "                      with ipset, the prefix of the set names\n"
		   "  -B, --backend NAME  nftables (default) or ipset (sets for iptables rules)\n"
		   "  -N, --netns NAME    work in network namespace NAME (/run/netns/NAME), like ip -n\n"
		   "  -j, --json          machine-readable output (one JSON document)\n"
		   "  -n, --dry-run       print what would change; change nothing\n"
		   "  -q, --quiet         less on stderr\n"
		   "  -v, --verbose       more on stderr (phase timings)\n"
		   "  -h, --help          this help\n"
		   "  -V, --version       print the version\n"
		   "\nTARGET: an address (203.0.113.7, 2001:db8::1) or prefix (198.51.100.0/24).\n"
		   "DUR: seconds or units s m h d w (1h30m, 2d); 0, -1 or 'permanent' for no expiry.\n"
		   "FILE: one target per line, '#'/';' comments; '-' reads stdin.\n"
		   "Exit status: 0 ok, 1 query: not banned, 2 invalid input, 3 allowlisted, 4 system error.\n"
		   "See ipbanset(8).\n",
		IPB_DEFAULT_CONFIG, IPB_DEFAULT_DB, IPB_DEFAULT_TABLE);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void set_now(struct ctx *c)
{
	c->now_ms = ipb_now_ms();
	c->now = c->now_ms / 1000;
}

/* sudo's env_reset drops $SSH_CONNECTION: fall back to the utmp record of our terminal,
 * which sshd fills with the client's address. */
static bool ssh_client_from_utmp(struct target *t)
{
	const char *tty = ttyname(STDIN_FILENO);
	struct utmpx *u;
	bool found = false;

	if (!tty || strncmp(tty, "/dev/", 5))
		return false;
	setutxent();
	while (!found && (u = getutxent())) {
		if (u->ut_type != USER_PROCESS || strncmp(u->ut_line, tty + 5, sizeof(u->ut_line)))
			continue;
		memset(t, 0, sizeof(*t));
		if (u->ut_addr_v6[1] == 0 && u->ut_addr_v6[2] == 0 && u->ut_addr_v6[3] == 0) {
			if (!u->ut_addr_v6[0])
				break;
			t->family = 4, t->plen = 32;
			memcpy(t->addr, &u->ut_addr_v6[0], 4);
		} else {
			t->family = 6, t->plen = 128;
			memcpy(t->addr, u->ut_addr_v6, 16);
		}
		found = true;
	}
	endutxent();
	return found;
}

/* The administrator's own address: never ban it by accident (unless --force). */
static void read_ssh_client(struct ctx *c)
{
	const char *s = getenv("SSH_CONNECTION");
	char word[64];
	unsigned flags;
	size_t n;

	if (!s) {
		c->have_ssh_client = ssh_client_from_utmp(&c->ssh_client);
		return;
	}
	/* sshd writes a link-local client with its zone: "fe80::2%eth0 50000 fe80::1%eth0 22" */
	n = strcspn(s, " %");
	if (n > 0 && n < sizeof(word) && (s[n] == ' ' || s[n] == '%')) {
		memcpy(word, s, n);
		word[n] = 0;
		if (!strchr(word, '/') && target_parse(word, &c->ssh_client, &flags, NULL) == 0) {
			c->have_ssh_client = true;
			return;
		}
	}
	c->ssh_client_unreadable = true; /* check_allowlist warns when the guard applies */
}

struct pending {
	const char *db, *table, *hook, *priority, *verdict, *timeout, *since, *jitter, *max_removals,
		*interval, *backend;
	unsigned seen; /* command options seen (O_*) */
};

/* "N" (a count) or "P%" (a percentage of the source's live bans). */
static int parse_max_removals(struct ctx *c, const char *s)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	if (*end == '%' && !end[1] && v <= 100)
		c->max_removals_pct = true;
	else if (*end)
		return -1;
	c->max_removals = v;
	return 0;
}

static int parse_enum_options(struct ctx *c, const struct pending *p)
{
	struct ipb_err e;
	char *end;
	long v;

	if (p->hook) {
		if (!strcmp(p->hook, "input"))
			c->cfg.hook = IPB_HOOK_INPUT;
		else if (!strcmp(p->hook, "prerouting"))
			c->cfg.hook = IPB_HOOK_PREROUTING;
		else
			return ipb_error("invalid hook '%s' (input or prerouting)", p->hook), IPB_EXIT_USAGE;
		c->hook_set = true;
	}
	if (p->priority) {
		const char *digits = p->priority + (p->priority[0] == '-');

		errno = 0;
		v = strtol(p->priority, &end, 10);
		/* strtol skips leading blanks and takes a '+': no other number does */
		if (*digits < '0' || *digits > '9' || errno || *end || v < -1000 || v > 1000)
			return ipb_error("invalid priority '%s' (-1000..1000)", p->priority), IPB_EXIT_USAGE;
		c->cfg.priority = (int)v;
		c->cfg.priority_set = c->priority_set = true;
	}
	if (c->hook_set && !c->cfg.priority_set)
		c->cfg.priority = c->cfg.hook == IPB_HOOK_PREROUTING ? -300 : -10;
	if (p->verdict) {
		if (!strcmp(p->verdict, "drop"))
			c->cfg.verdict = IPB_VERDICT_DROP;
		else if (!strcmp(p->verdict, "reject"))
			c->cfg.verdict = IPB_VERDICT_REJECT;
		else
			return ipb_error("invalid verdict '%s' (drop or reject)", p->verdict), IPB_EXIT_USAGE;
		c->verdict_set = true;
	}
	if (p->timeout) {
		if (duration_parse(p->timeout, &c->timeout, &e))
			return ipb_error("%s", e.msg), IPB_EXIT_USAGE;
		c->timeout_set = true;
	}
	if (p->jitter) {
		if (duration_parse(p->jitter, &c->jitter, &e) || c->jitter == 0)
			return ipb_error("invalid duration '%s' for --jitter", p->jitter), IPB_EXIT_USAGE;
		if ((c->timeout_set ? c->timeout : c->cfg.default_timeout) + c->jitter >
		    DURATION_MAX_SECS)
			return ipb_error("--timeout plus --jitter %s is too long", p->jitter), IPB_EXIT_USAGE;
	}
	if (p->max_removals && parse_max_removals(c, p->max_removals))
		return ipb_error("invalid --max-removals '%s' (a count, or a percentage 0%%..100%%)",
				 p->max_removals),
		       IPB_EXIT_USAGE;
	if (p->interval) {
		if (duration_parse(p->interval, &c->interval, &e) || c->interval == 0 ||
		    c->interval > 86400)
			return ipb_error("invalid duration '%s' for --interval (1s to 1d)", p->interval),
			       IPB_EXIT_USAGE;
	}
	if (p->since) {
		if (duration_parse(p->since, &c->since, &e) || c->since == 0)
			return ipb_error("invalid duration '%s' for --since", p->since), IPB_EXIT_USAGE;
		c->since_set = true;
	}
	return 0;
}

static int apply_settings(struct ctx *c, const struct pending *p)
{
	const char *db = p->db, *table = p->table;
	struct ipb_err e;
	int r;

	if (config_defaults(&c->cfg))
		return ipb_error("out of memory"), IPB_EXIT_SYSTEM;
	config_tuning_from_env(&c->cfg);
	r = config_load(c->config_path, c->config_explicit, &c->cfg, &e);
	if (r == -ENOENT && c->config_explicit)
		return ipb_error("config file %s: %s", c->config_path, strerror(ENOENT)), IPB_EXIT_USAGE;
	if (r && r != -ENOENT)
		return ipb_error("%s", e.msg), r == -EINVAL ? IPB_EXIT_USAGE : IPB_EXIT_SYSTEM;
	if (!db && getenv("IPBANSET_DB") && *getenv("IPBANSET_DB"))
		db = getenv("IPBANSET_DB"), c->db_env = "IPBANSET_DB";
	if (!table && getenv("IPBANSET_TABLE") && *getenv("IPBANSET_TABLE"))
		table = getenv("IPBANSET_TABLE"), c->table_env = "IPBANSET_TABLE";
	if (db) {
		if (strlen(db) >= sizeof(c->cfg.db) || !*db)
			return ipb_error("invalid journal path '%s'", db), IPB_EXIT_USAGE;
		strcpy(c->cfg.db, db);
	}
	if (table) {
		if (!config_valid_name(table))
			return ipb_error("invalid table name '%s'", table), IPB_EXIT_USAGE;
		strcpy(c->cfg.table, table);
	}
	if (p->backend) {
		if (!strcmp(p->backend, "nftables"))
			c->cfg.backend = IPB_BACKEND_NFT;
		else if (!strcmp(p->backend, "ipset"))
			c->cfg.backend = IPB_BACKEND_IPSET;
		else
			return ipb_error("invalid backend '%s' (nftables or ipset)", p->backend), IPB_EXIT_USAGE;
	}
	if (be_check_table_name(&c->cfg, &e))
		return ipb_error("%s", e.msg), IPB_EXIT_USAGE;
	return parse_enum_options(c, p);
}

static int check_command_options(const struct command *cmd, unsigned seen)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if ((seen & opt_defs[i].bit) && !(cmd->opts & opt_defs[i].bit))
			return ipb_error("%s: option --%s does not apply", cmd->name, opt_defs[i].name),
			       IPB_EXIT_USAGE;
	return 0;
}

static int check_args(struct ctx *c, const struct command *cmd)
{
	if (c->nargs < cmd->min_args)
		return ipb_error("%s: missing argument; usage: ipbanset %s", cmd->name, cmd->synopsis), IPB_EXIT_USAGE;
	if (cmd->max_args >= 0 && c->nargs > cmd->max_args)
		return ipb_error("%s: unexpected argument '%s'", cmd->name, c->args[cmd->max_args]), IPB_EXIT_USAGE;
	if (c->source_set && !config_valid_name(c->source))
		return ipb_error("invalid source name '%s' (letters, digits, '_', '.', '-'; at most 31)",
				 c->source), IPB_EXIT_USAGE;
	if (c->family && c->family != 4 && c->family != 6)
		return IPB_EXIT_USAGE;
	if (c->format && strcmp(c->format, "text") && strcmp(c->format, "json") &&
	    strcmp(c->format, "prometheus"))
		return ipb_error("invalid format '%s' (text, json or prometheus)", c->format), IPB_EXIT_USAGE;
	if (c->all_sources && c->source_set)
		return ipb_error("unban: --source and --all-sources exclude each other"), IPB_EXIT_USAGE;
	return 0;
}

static int parse_option(struct ctx *c, struct pending *p, int o)
{
	const struct opt_def *d = opt_by_key(o);

	if (!d)
		return IPB_EXIT_USAGE; /* getopt printed the message */
	p->seen |= d->bit;
	switch (o) {
	case 'c': c->config_path = optarg, c->config_explicit = true; break;
	case 'd': p->db = optarg; break;
	case 'T': p->table = optarg; break;
	case 'B': p->backend = optarg; break;
	case 'N': c->netns = optarg; break;
	case 'j': c->json = true; break;
	case 'n': c->dry_run = true; break;
	case 'q': c->quiet = true; break;
	case 'v': c->verbose = true; break;
	case 'f': c->file = optarg; break;
	case 't': p->timeout = optarg; break;
	case 's': c->source = optarg, c->source_set = true; break;
	case 'r': c->reason = optarg; break;
	case K_REPLACE: c->replace = true; break;
	case K_FORCE: c->force = true; break;
	case K_ALL_SOURCES: c->all_sources = true; break;
	case K_FAMILY:
		if (strcmp(optarg, "4") && strcmp(optarg, "6"))
			return ipb_error("invalid family '%s' (4 or 6)", optarg), IPB_EXIT_USAGE;
		c->family = (unsigned)atoi(optarg);
		break;
	case K_SINCE: p->since = optarg; break;
	case K_FORMAT: c->format = optarg; break;
	case K_VERIFY: c->verify = true; break;
	case K_HOOK: p->hook = optarg; break;
	case K_PRIORITY: p->priority = optarg; break;
	case K_VERDICT: p->verdict = optarg; break;
	case K_JITTER: p->jitter = optarg; break;
	case K_MAX_REMOVALS: p->max_removals = optarg; break;
	case K_INTERVAL: p->interval = optarg; break;
	case K_PRINT_RULES: c->print_rules = true; break;
	case K_ADOPT: c->adopt = true; break;
	}
	return 0;
}

/* --netns NAME: the namespace `ip netns add NAME` made. Only the network changes: the
 * journal and config paths still name files of this mount namespace. */
static int enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    snprintf(path, sizeof(path), "/run/netns/%s", name) >= (int)sizeof(path))
		return ipb_error("invalid network namespace name '%s'", name), IPB_EXIT_USAGE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ipb_error("network namespace '%s' not found (%s)", name, path), IPB_EXIT_USAGE;
		return ipb_error("network namespace '%s': %s: %s", name, path, strerror(errno)), IPB_EXIT_SYSTEM;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ipb_error("network namespace '%s': setns: %s", name, strerror(errno));
		r = IPB_EXIT_SYSTEM;
	}
	close(fd);
	return r;
}

static int run(struct ctx *c, const struct command *cmd)
{
	set_now(c);
	read_ssh_client(c);
	return cmd->fn(c);
}

static void print_version(bool json)
{
	struct strbuf sb;

	if (!json) {
		printf("ipbanset %s\n", IPBANSET_VERSION);
		return;
	}
	sb_init(&sb);
	sb_printf(&sb, "{\"version\": ");
	sb_json_str(&sb, IPBANSET_VERSION);
	sb_printf(&sb, "}\n");
	fputs(sb_str(&sb), stdout);
	sb_free(&sb);
}

/* getopt has read every option: c->json says whether -j was given. */
static bool options_read;

/* -j among the arguments, for an error found before getopt reaches it. */
static bool argv_wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json") ||
		    (argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i], 'j') &&
		     strspn(argv[i] + 1, "jnqvhV") == strlen(argv[i] + 1)))
			return true;
	return false;
}

static int run_args(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd;
	struct pending p = { 0 };
	bool help = false, version = false;
	char shortopts[2 * NOPTS + 2];
	struct option longopts[NOPTS + 1];
	int o, r;

	if (getuid() != geteuid() || getgid() != getegid())
		return ipb_error("refusing to run setuid or setgid"), IPB_EXIT_SYSTEM;
	getopt_tables(shortopts, longopts);
	opterr = 0;
	/* GNU getopt permutes: global and command options may stand anywhere. */
	while ((o = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (o == '?') {
			if (optopt)
				ipb_error("invalid option '-%c'", optopt);
			else
				ipb_error("invalid option '%s'", argv[optind - 1]);
			return IPB_EXIT_USAGE;
		}
		if (o == ':')
			return ipb_error("option '%s' needs an argument", argv[optind - 1]), IPB_EXIT_USAGE;
		if (o == 'h')
			help = true;
		else if (o == 'V')
			version = true;
		else if ((r = parse_option(c, &p, o)))
			return r;
	}
	options_read = true;
	if (help)
		return usage(stdout), IPB_EXIT_OK;
	if (version)
		return print_version(c->json), IPB_EXIT_OK;
	if (optind >= argc) {
		ipb_error("missing COMMAND; see 'ipbanset --help'");
		return IPB_EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return ipb_error("unknown command '%s'; see 'ipbanset --help'", argv[optind]), IPB_EXIT_USAGE;
	c->command = cmd->name;
	c->args = argv + optind + 1;
	c->nargs = argc - optind - 1;
	if ((r = check_command_options(cmd, p.seen)) || (r = check_args(c, cmd)))
		return r;
	if ((r = apply_settings(c, &p))) {
		config_free(&c->cfg);
		return r;
	}
	if (c->netns && (r = enter_netns(c->netns))) {
		config_free(&c->cfg);
		return r;
	}
	r = run(c, cmd);
	config_free(&c->cfg);
	return r;
}

/* IPBANSET_TEST_CLOCK_OFFSET=SECONDS moves ipbanset's clock (not the kernel's): the test
 * suite uses it to see what happens to a 60-day ban after 40 days (tests/README.md). */
static void test_clock(void)
{
	const char *s = getenv("IPBANSET_TEST_CLOCK_OFFSET");
	long long v = s && *s ? strtoll(s, NULL, 10) : 0;

	if (v > 0 && v <= 3650LL * 86400)
		ipb_clock_offset_ms = v * 1000;
}

int main(int argc, char **argv)
{
	struct ctx c = { .config_path = IPB_DEFAULT_CONFIG, .source = "manual", .max_removals = -1 };
	int r;

	test_clock();
	r = run_args(&c, argc, argv);

	if (r >= IPB_EXIT_USAGE && !c.json_printed &&
	    (c.json || (!options_read && argv_wants_json(argc, argv))))
		ipb_json_error(r);
	fflush(stdout);
	if (ferror(stdout))
		return ipb_error("write error on standard output"), IPB_EXIT_SYSTEM;
	if (ipb_oom)
		return ipb_error("out of memory: the output is incomplete"), IPB_EXIT_SYSTEM;
	return r;
}
