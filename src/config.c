// SPDX-License-Identifier: GPL-2.0-only
/* /etc/ipbanset/ipbanset.conf: parse "key = value" lines and load the file safely. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"

#define CONFIG_MAX_BYTES (1 << 20)
#define PRIORITY_PREROUTING (-300) /* raw: before conntrack, the cheapest place to drop */
#define PRIORITY_INPUT (-10)

static int allow_default(struct config *c, const char *s)
{
	struct target t;
	unsigned flags;

	if (target_parse(s, &t, &flags, NULL) || target_list_push(&c->allow, &t, 0))
		return -ENOMEM; /* the parse cannot fail: s is one of ours */
	return 0;
}

int config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->table, sizeof(c->table), "%s", IPB_DEFAULT_TABLE);
	snprintf(c->db, sizeof(c->db), "%s", IPB_DEFAULT_DB);
	c->default_timeout = 3600;
	c->hook = IPB_HOOK_INPUT;
	c->priority = PRIORITY_INPUT;
	c->verdict = IPB_VERDICT_DROP;
	c->ipv6_prefix = 128;
	c->history_days = 90;
	c->history_max_rows = 1000000;
	c->backend = IPB_BACKEND_NFT;
	c->maxelem = IPB_DEFAULT_MAXELEM;
	c->tuning = (struct tuning){ .batch_elements = IPB_DEFAULT_BATCH_ELEMENTS,
				     .refresh_min = IPB_DEFAULT_REFRESH_MIN,
				     .ipset_swap_min = IPB_DEFAULT_IPSET_SWAP_MIN };
	return allow_default(c, "127.0.0.0/8") || allow_default(c, "::1") ? -ENOMEM : 0;
}

/* A count from the environment into *v; false (and *v kept) when unset, empty, not a
 * number, or 0 where 0 is not allowed. */
static bool env_count(const char *name, bool zero_ok, size_t *v)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long n;

	if (!s || !*s)
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*end || errno || (n == 0 && !zero_ok) || n > SIZE_MAX || *s == '-')
		return false;
	*v = (size_t)n;
	return true;
}

void config_tuning_from_env(struct config *c)
{
	env_count("IPBANSET_BATCH_ELEMENTS", false, &c->tuning.batch_elements);
	env_count("IPBANSET_REFRESH_MIN", true, &c->tuning.refresh_min);
	c->tuning.ipset_swap_forced =
		env_count("IPBANSET_IPSET_SWAP_MIN", true, &c->tuning.ipset_swap_min);
}

void config_free(struct config *c)
{
	target_list_free(&c->allow);
}

bool config_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IPB_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Strict decimal in [min, max]: optional '-', no '+', no leading zeros, no spaces.
 * Bounds stay far below LLONG_MAX, so 15 digits cannot overflow. */
static bool parse_int(const char *s, long long min, long long max, long long *out)
{
	bool neg = *s == '-';
	const char *p = s + neg;
	long long v = 0;
	size_t digits = 0;

	if (!*p || (p[0] == '0' && (p[1] || neg)))
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || ++digits > 15)
			return false;
		v = v * 10 + (*p - '0');
	}
	v = neg ? -v : v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

struct parse_state {
	const char *name; /* escaped file name */
	unsigned line;
	struct config *c;
	struct ipb_err *e;
};

static int bad_value(struct parse_state *ps, const char *key, const char *value, const char *hint)
{
	char q[80];

	ipb_escape(value, q, sizeof(q));
	ipb_seterr(ps->e, "%s:%u: invalid value '%s' for %s (%s)", ps->name, ps->line, q, key, hint);
	return -EINVAL;
}

static int set_allow(struct parse_state *ps, char *value)
{
	struct ipb_err perr;
	struct target t;
	unsigned flags;
	char *word, *save = NULL;
	bool any = false;

	for (word = strtok_r(value, " \t,", &save); word; word = strtok_r(NULL, " \t,", &save)) {
		if (target_parse(word, &t, &flags, &perr)) {
			ipb_seterr(ps->e, "%s:%u: allow: %s", ps->name, ps->line, perr.msg);
			return -EINVAL;
		}
		if (target_list_push(&ps->c->allow, &t, ps->line)) {
			ipb_seterr(ps->e, "%s:%u: out of memory", ps->name, ps->line);
			return -ENOMEM;
		}
		any = true;
	}
	if (!any) {
		ipb_seterr(ps->e, "%s:%u: missing value for 'allow'", ps->name, ps->line);
		return -EINVAL;
	}
	return 0;
}

static int set_choice(struct parse_state *ps, const char *key, const char *value,
		      const char *a, const char *b, int *out)
{
	char hint[64];

	if (!strcmp(value, a) || !strcmp(value, b)) {
		*out = strcmp(value, a) ? 1 : 0;
		return 0;
	}
	snprintf(hint, sizeof(hint), "%s or %s", a, b);
	return bad_value(ps, key, value, hint);
}

static int set_number(struct parse_state *ps, const char *key, const char *value,
		      long long min, long long max, const char *hint, long long *out)
{
	if (!parse_int(value, min, max, out))
		return bad_value(ps, key, value, hint);
	return 0;
}

static int set_key(struct parse_state *ps, const char *key, char *value)
{
	struct config *c = ps->c;
	long long n;
	int r, choice;

	if (!strcmp(key, "table")) {
		if (!config_valid_name(value))
			return bad_value(ps, key, value, "letters, digits, '_', '.', '-'; at most 31");
		snprintf(c->table, sizeof(c->table), "%s", value);
	} else if (!strcmp(key, "db")) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->db))
			return bad_value(ps, key, value, "an absolute path");
		snprintf(c->db, sizeof(c->db), "%s", value);
	} else if (!strcmp(key, "default_timeout")) {
		if (duration_parse(value, &c->default_timeout, NULL))
			return bad_value(ps, key, value,
					 "a duration such as 300, 1h30m, 2d or permanent; at most 10 years");
	} else if (!strcmp(key, "hook")) {
		if ((r = set_choice(ps, key, value, "input", "prerouting", &choice)))
			return r;
		c->hook = choice ? IPB_HOOK_PREROUTING : IPB_HOOK_INPUT;
		c->hook_set = true;
	} else if (!strcmp(key, "verdict")) {
		if ((r = set_choice(ps, key, value, "drop", "reject", &choice)))
			return r;
		c->verdict = choice ? IPB_VERDICT_REJECT : IPB_VERDICT_DROP;
		c->verdict_set = true;
	} else if (!strcmp(key, "priority")) {
		if ((r = set_number(ps, key, value, -1000, 1000, "an integer from -1000 to 1000", &n)))
			return r;
		c->priority = (int)n;
		c->priority_set = true;
	} else if (!strcmp(key, "allow")) {
		return set_allow(ps, value);
	} else if (!strcmp(key, "ipv6_prefix")) {
		if ((r = set_number(ps, key, value, 1, 128, "a prefix length from 1 to 128", &n)))
			return r;
		c->ipv6_prefix = (unsigned)n;
	} else if (!strcmp(key, "history_days")) {
		if ((r = set_number(ps, key, value, 0, 36600, "days from 0 to 36600; 0 keeps all", &n)))
			return r;
		c->history_days = (unsigned)n;
	} else if (!strcmp(key, "history_max_rows")) {
		if ((r = set_number(ps, key, value, 0, 1000000000000LL,
				    "a row count; 0 means no cap", &n)))
			return r;
		c->history_max_rows = (size_t)n;
	} else if (!strcmp(key, "backend")) {
		if ((r = set_choice(ps, key, value, "nftables", "ipset", &choice)))
			return r;
		c->backend = choice ? IPB_BACKEND_IPSET : IPB_BACKEND_NFT;
	} else if (!strcmp(key, "maxelem")) {
		if ((r = set_number(ps, key, value, 1, IPB_MAXELEM_MAX, "an element count from 1 to 2147483647",
				    &n)))
			return r;
		c->maxelem = (uint32_t)n;
	} else if (!strcmp(key, "protect_self")) {
		if ((r = set_choice(ps, key, value, "warn", "refuse", &choice)))
			return r;
		c->protect_self = choice ? IPB_SELF_REFUSE : IPB_SELF_WARN;
	}
	return 0;
}

static const char *const keys[] = {
	"table", "db", "default_timeout", "hook", "priority", "verdict",
	"allow", "ipv6_prefix", "history_days", "history_max_rows", "backend", "maxelem",
	"protect_self",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int key_index(const char *key)
{
	unsigned i;

	for (i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i], key))
			return (int)i;
	return -1;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		*--end = 0;
	return s;
}

/* "# ..." after whitespace ends the line; a '#' inside a word (a path) does not. */
static void cut_comment(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '#' && (p == s || is_blank(p[-1]))) {
			*p = 0;
			return;
		}
}

static int parse_line(struct parse_state *ps, char *line, unsigned *seen)
{
	char q[80], *eq, *key, *value;
	int k;

	cut_comment(line);
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		ipb_seterr(ps->e, "%s:%u: missing '=' in '%s'", ps->name, ps->line,
			   ipb_escape(line, q, sizeof(q)));
		return -EINVAL;
	}
	*eq = 0;
	key = trim(line);
	value = trim(eq + 1);
	k = key_index(key);
	if (k < 0) {
		ipb_seterr(ps->e, "%s:%u: unknown key '%s'", ps->name, ps->line,
			   ipb_escape(key, q, sizeof(q)));
		return -EINVAL;
	}
	if ((*seen & (1u << k)) && strcmp(key, "allow")) {
		ipb_seterr(ps->e, "%s:%u: duplicate key '%s'", ps->name, ps->line, key);
		return -EINVAL;
	}
	*seen |= 1u << k;
	if (!*value) {
		ipb_seterr(ps->e, "%s:%u: missing value for '%s'", ps->name, ps->line, key);
		return -EINVAL;
	}
	return set_key(ps, key, value);
}

/* On error the config may hold some of the settings read before the bad line. */
int config_parse(const char *name, const char *text, struct config *c, struct ipb_err *e)
{
	char qname[256], *copy, *line, *next;
	struct parse_state ps = { .name = qname, .c = c, .e = e };
	unsigned seen = 0;
	int r = 0;

	ipb_escape(name, qname, sizeof(qname));
	copy = strdup(text);
	if (!copy) {
		ipb_seterr(e, "%s: out of memory", qname);
		return -ENOMEM;
	}
	line = copy;
	if (!strncmp(line, "\xef\xbb\xbf", 3))
		line += 3; /* a UTF-8 byte order mark, as some Windows editors write */
	for (; line && !r; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		ps.line++;
		r = parse_line(&ps, line, &seen);
	}
	free(copy);
	/* prerouting runs at the raw priority unless the file says otherwise */
	if (!c->priority_set)
		c->priority = c->hook == IPB_HOOK_PREROUTING ? PRIORITY_PREROUTING : PRIORITY_INPUT;
	return r;
}

static int read_all(int fd, const char *qpath, char **out, struct ipb_err *e)
{
	char *buf = malloc(CONFIG_MAX_BYTES + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf) {
		ipb_seterr(e, "config file %s: out of memory", qpath);
		return -ENOMEM;
	}
	while (len <= CONFIG_MAX_BYTES) {
		n = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			ipb_seterr(e, "config file %s: %s", qpath, strerror(err));
			free(buf);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_BYTES || memchr(buf, 0, len)) {
		ipb_seterr(e, "config file %s: %s", qpath,
			   len > CONFIG_MAX_BYTES ? "larger than 1 MiB" : "contains a NUL byte");
		free(buf);
		return -EINVAL;
	}
	buf[len] = 0;
	*out = buf;
	return 0;
}

/* Like the journal: no symlink (whoever can change the link chooses the file), owned by
 * root or the caller, not writable by group or other. Checked on the open file, through
 * fstat, so nothing can be swapped in between. */
static int open_checked(const char *path, const char *qpath, struct ipb_err *e)
{
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		err = errno;
		if (err == ELOOP) {
			ipb_seterr(e, "config file %s is a symbolic link; refusing it (give the real "
				      "path with --config)", qpath);
			return -EPERM;
		}
		ipb_seterr(e, "config file %s: %s", qpath, strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		ipb_seterr(e, "config file %s: %s", qpath, strerror(err));
		close(fd);
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		ipb_seterr(e, "config file %s is not a regular file", qpath);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ipb_seterr(e, "config file %s is writable by group or other; chmod go-w %s",
			   qpath, qpath);
		close(fd);
		return -EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		ipb_seterr(e, "config file %s is owned by uid %u, not by root or uid %u; refusing it",
			   qpath, (unsigned)st.st_uid, (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	return fd;
}

int config_load(const char *path, bool explicit_path, struct config *c, struct ipb_err *e)
{
	char qpath[256], *text = NULL;
	int fd, r;

	(void)explicit_path; /* a missing file is -ENOENT either way; the caller decides */
	ipb_escape(path, qpath, sizeof(qpath));
	fd = open_checked(path, qpath, e);
	if (fd < 0)
		return fd;
	r = read_all(fd, qpath, &text, e);
	close(fd);
	if (r)
		return r;
	r = config_parse(qpath, text, c, e);
	free(text);
	return r;
}
