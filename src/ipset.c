// SPDX-License-Identifier: GPL-2.0-only
/* The ipset backend over libipset: see ipset.h for the layout and the guarantees.
 * Commands go through ipset_parse_line, the parser of `ipset restore`, one line each;
 * listings come back in save format through the library's output callback. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libipset/ipset.h>

#include "ipset.h"
#include "plan.h"

#define IPS_NKINDS 4
#define IPS_LINE_MAX 1024
/* At or above this many changes to one set, it is rebuilt and swapped in rather than
 * changed element by element (IPBANSET_IPSET_SWAP_MIN overrides, for tests). */
/* ... and at least 1/IPS_SWAP_SHARE as many as it holds. */
#define IPS_SWAP_SHARE 4

static const char *const kind_suffix[IPS_NKINDS] = { "ip4", "net4", "ip6", "net6" };
static const char *const kind_type[IPS_NKINDS] = { "hash:ip", "hash:net", "hash:ip", "hash:net" };
static const char *const kind_family[IPS_NKINDS] = { "inet", "inet", "inet6", "inet6" };

struct ips_elem {
	struct target t;
	int64_t expires_ms; /* Unix ms when the kernel lets it go, as listed; 0 = none */
	const char *comment;
};

struct ips_op {
	struct target t;
	bool del;
	int64_t expires_ms; /* Unix ms when the kernel is to let it go; 0 = no timeout */
	const char *comment; /* the caller's, valid until commit returns */
	size_t tag;
};

/* A set's elements as listed, ordered by prefix length (see dump_load). */
struct ips_dump {
	bool valid;
	struct ips_elem *v;
	size_t n;
	size_t start[130]; /* elements of length L are v[start[L] .. start[L + 1]) */
	size_t cap;
	struct strpool comments;
	bool unusable; /* its "create" line lacks the type, family or extensions we need */
};

struct ips {
	struct ipset *lib;
	struct ipset_session *s;
	char name[IPS_NKINDS][IPS_NAME_MAX], tmp[IPS_NKINDS][IPS_NAME_MAX];
	uint32_t maxelem;
	size_t swap_min; /* rebuild a set at this many changes (and by share of its size) */
	bool swap_forced; /* ... whatever its size (IPBANSET_IPSET_SWAP_MIN, tests) */
	bool exists[IPS_NKINDS];
	bool tmp_exists[IPS_NKINDS]; /* left by a command killed while it rebuilt a set */
	bool layout_read;
	/* the batch */
	struct ips_op *ops;
	size_t nops, capops;
	bool create[IPS_NKINDS], destroy, flush[PLAN_NSETS];
	size_t queued;
	size_t *undo, nundo, capundo; /* ops[] added element by element, to take back */
	/* listings */
	struct ips_dump dump[IPS_NKINDS];
	struct ips_dump *sink; /* the set being listed: its lines are parsed as they come */
	char *out;
	size_t outlen, outcap;
	bool out_failed;
	char report[IPB_ERRLEN];
};

unsigned ips_kind(unsigned family, unsigned plen)
{
	unsigned full = family == 4 ? 32 : 128;

	return (family == 6 ? 2 : 0) + (plen < full ? 1 : 0);
}

void ips_set_name(const char *table, unsigned kind, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s", table, kind_suffix[kind]);
}

/* The iptables and ip6tables rules that make the kernel drop what the sets hold.
 * ipbanset never installs them: they belong to the host's firewall configuration
 * (iptables-persistent, firewalld), which must load after `ipbanset init` has created
 * the sets. Each line checks first (-C), so running them again adds no second copy. */
int ips_print_rules(const struct config *cfg, FILE *out, struct ipb_err *e)
{
	static const char *const tool[] = { "iptables", "iptables", "ip6tables", "ip6tables" };
	bool pre = cfg->hook == IPB_HOOK_PREROUTING;
	const char *table = pre ? "-t raw " : "";
	char name[IPB_NAME_MAX + 16], rule[sizeof(name) + 64]; /* table: IPB_NAME_MAX */
	unsigned k;

	if (pre && cfg->verdict == IPB_VERDICT_REJECT)
		return ipb_seterr(e, "iptables cannot reject in the raw table's PREROUTING chain; "
				     "use --hook input or --verdict drop"),
		       -EINVAL;
	for (k = 0; k < 4; k++) {
		ips_set_name(cfg->table, k, name, sizeof(name));
		snprintf(rule, sizeof(rule), "%s -m set --match-set %s src -j %s",
			 pre ? "PREROUTING" : "INPUT", name,
			 cfg->verdict == IPB_VERDICT_REJECT ? "REJECT" : "DROP");
		fprintf(out, "%s %s-C %s 2>/dev/null || %s %s-I %s\n", tool[k], table, rule,
			tool[k], table, rule);
	}
	return 0;
}

/* ---- talking to libipset ---- */

static void report_add(struct ips *p, const char *msg)
{
	size_t n = strlen(p->report);

	if (!msg || !*msg || n + 3 >= sizeof(p->report))
		return;
	snprintf(p->report + n, sizeof(p->report) - n, "%s%s", n ? "; " : "", msg);
	/* libipset ends its messages with a newline */
	n = strlen(p->report);
	while (n && (p->report[n - 1] == '\n' || p->report[n - 1] == ' '))
		p->report[--n] = 0;
}

static int custom_error(struct ipset *lib, void *arg, int status, const char *msg, ...)
{
	struct ips *p = arg;
	char buf[IPB_ERRLEN];
	va_list ap;

	(void)status;
	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	report_add(p, buf);
	ipset_session_report_reset(ipset_session(lib));
	return -1;
}

static int standard_error(struct ipset *lib, void *arg)
{
	struct ips *p = arg;
	struct ipset_session *s = ipset_session(lib);
	bool warning = ipset_session_report_type(s) != IPSET_ERROR;

	if (!warning)
		report_add(p, ipset_session_report_msg(s));
	ipset_session_report_reset(s);
	return warning ? 0 : -1;
}

static int sink_lines(struct ips *p);

static int output(struct ipset_session *s, void *arg, const char *fmt, ...)
{
	struct ips *p = arg;
	va_list ap;
	int n;

	(void)s;
	for (;;) {
		size_t room = p->outcap - p->outlen;

		va_start(ap, fmt);
		n = vsnprintf(p->out ? p->out + p->outlen : NULL, p->out ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < room) {
			p->outlen += (size_t)n;
			return p->sink && memchr(p->out + p->outlen - n, '\n', (size_t)n) ? sink_lines(p) : 0;
		}
		if (ipb_grow(&p->out, &p->outcap, p->outlen + (size_t)n + 1 + p->outcap, 1)) {
			p->out_failed = true;
			return -1;
		}
	}
}

/* The errno a refusal stands for, from libipset's message. */
static int report_errno(const char *msg)
{
	if (strstr(msg, "not permitted"))
		return -EPERM;
	if (strstr(msg, "does not exist"))
		return -ENOENT;
	if (strstr(msg, "is full"))
		return -ENOSPC;
	if (strstr(msg, "in use"))
		return -EBUSY;
	if (strstr(msg, "already exists") || strstr(msg, "already added"))
		return -EEXIST;
	if (strstr(msg, "Syntax error") || strstr(msg, "out of range"))
		return -EINVAL;
	return -EIO;
}

/* Run one restore-format line; exist = ignore "already there" / "not there". */
static __attribute__((format(printf, 3, 4))) int run(struct ips *p, bool exist, const char *fmt, ...)
{
	char line[IPS_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		snprintf(p->report, sizeof(p->report), "ipset command too long");
		return -EINVAL;
	}
	p->report[0] = 0;
	if (exist)
		ipset_envopt_set(p->s, IPSET_ENV_EXIST);
	else
		ipset_envopt_unset(p->s, IPSET_ENV_EXIST);
	if (ipset_parse_line(p->lib, line) == 0)
		return 0;
	if (!p->report[0])
		snprintf(p->report, sizeof(p->report), "ipset refused '%.200s'", line);
	return report_errno(p->report);
}

static int fail(struct ips *p, struct ipb_err *e, int r, const char *what)
{
	ipb_seterr(e, "ipset: %s: %s", what, p->report);
	return r;
}

static int lib_init(struct ips *p)
{
	p->lib = ipset_init();
	if (!p->lib)
		return -ENOMEM;
	ipset_custom_printf(p->lib, custom_error, standard_error, output, p);
	p->s = ipset_session(p->lib);
	ipset_session_output(p->s, IPSET_LIST_SAVE);
	return 0;
}

/* After a failed listing libipset's session answers every later listing with "Internal
 * protocol error": start a new one. */
static void lib_reset(struct ips *p)
{
	if (p->lib)
		ipset_fini(p->lib);
	p->lib = NULL;
	lib_init(p);
}

static int list_names(struct ips *p, struct ipb_err *e);

int ips_open(struct ips **pp, const struct config *cfg, struct ipb_err *e)
{
	struct ips *p;
	unsigned k;
	int r;

	*pp = NULL;
	if (strlen(cfg->table) > IPS_TABLE_MAX)
		return ipb_seterr(e, "table name '%s' is too long for ipset set names (at most %d "
				     "characters)", cfg->table, IPS_TABLE_MAX),
		       -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	p->maxelem = cfg->maxelem;
	p->swap_min = cfg->tuning.ipset_swap_min;
	p->swap_forced = cfg->tuning.ipset_swap_forced;
	for (k = 0; k < IPS_NKINDS; k++) {
		ips_set_name(cfg->table, k, p->name[k], sizeof(p->name[k]));
		snprintf(p->tmp[k], sizeof(p->tmp[k]), "%s-tmp", p->name[k]);
	}
	ipset_load_types();
	if (lib_init(p)) {
		free(p);
		return ipb_seterr(e, "ipset: cannot initialise libipset"), -ENOMEM;
	}
	/* listing the names shows a missing privilege at once */
	if ((r = list_names(p, e))) {
		ips_close(p);
		return r;
	}
	*pp = p;
	return 0;
}

static void dump_free(struct ips_dump *d)
{
	free(d->v);
	strpool_free(&d->comments);
	memset(d, 0, sizeof(*d));
}

void ips_close(struct ips *p)
{
	unsigned k;

	if (!p)
		return;
	for (k = 0; k < IPS_NKINDS; k++)
		dump_free(&p->dump[k]);
	free(p->ops);
	free(p->undo);
	free(p->out);
	if (p->lib)
		ipset_fini(p->lib);
	free(p);
}

/* ---- reading sets ---- */

/* Is a set of this type and header ("family inet hashsize 1024 maxelem 65536 timeout 0
 * comment ...") one of kind k that ipbanset can use? */
static bool header_usable(const char *type, const char *header, unsigned k)
{
	char want[32];

	snprintf(want, sizeof(want), "family %s ", kind_family[k]);
	return !strcmp(type, kind_type[k]) && !strncmp(header, want, strlen(want)) &&
	       strstr(header, " timeout ") && strstr(header, " comment");
}

static int elem_report(struct ips *p, uint32_t *line);

static int unusable(const char *name, unsigned k, struct ipb_err *e)
{
	return ipb_seterr(e, "ipset: set %s exists but is not a %s set of family %s with timeout "
			     "and comment; rename or destroy it", name, kind_type[k], kind_family[k]),
	       -EEXIST;
}

/* Set k exists: is it of the right type and family? The kernel's short header of one
 * set tells (libipset caches it for the adds). Its extensions show in the full header,
 * which costs a walk of every element (60 ms at 1M): read_header and dump_load check
 * them, for large batches and listings, and the kernel refuses a timeout or a comment
 * that a set cannot hold. */
static int check_type(struct ips *p, unsigned k, struct ipb_err *e)
{
	struct ipset_data *data = ipset_session_data(p->s);
	const struct ipset_type *type;
	uint8_t family;
	uint32_t line;
	bool ok;

	ipset_session_data_set(p->s, IPSET_SETNAME, p->name[k]);
	type = ipset_type_get(p->s, IPSET_CMD_ADD);
	family = ipset_data_family(data);
	ipset_data_reset(data);
	if (!type) {
		int r = elem_report(p, &line);

		return fail(p, e, r, p->name[k]);
	}
	ok = !strcmp(type->name, kind_type[k]) && family == (k < 2 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	return ok ? 0 : unusable(p->name[k], k, e);
}

/* A plain listing of one set (name) or of all, limited by env (names only, or headers
 * only), into p->out as one string. */
static int list_plain(struct ips *p, enum ipset_envopt env, const char *name, struct ipb_err *e)
{
	int r;

	p->outlen = 0;
	ipset_session_output(p->s, IPSET_LIST_PLAIN);
	ipset_envopt_set(p->s, env);
	r = name ? run(p, false, "list %s", name) : run(p, false, "list");
	ipset_envopt_unset(p->s, env);
	ipset_session_output(p->s, IPSET_LIST_SAVE);
	if (r) {
		lib_reset(p);
		return fail(p, e, r, name ? name : "listing sets");
	}
	if (p->out_failed || ipb_grow(&p->out, &p->outcap, p->outlen + 1, 1))
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	p->out[p->outlen] = 0;
	return 0;
}

/* Which of our sets exist (a listing of names only), and are they of the right type. */
static int list_names(struct ips *p, struct ipb_err *e)
{
	char *line, *save = NULL;
	unsigned k;
	int r;

	if ((r = list_plain(p, IPSET_ENV_LIST_SETNAME, NULL, e)))
		return r;
	memset(p->exists, 0, sizeof(p->exists));
	memset(p->tmp_exists, 0, sizeof(p->tmp_exists));
	for (line = strtok_r(p->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (k = 0; k < IPS_NKINDS; k++) {
			p->tmp_exists[k] |= !strcmp(line, p->tmp[k]);
			p->exists[k] |= !strcmp(line, p->name[k]);
		}
	p->outlen = 0;
	for (k = 0; k < IPS_NKINDS; k++)
		if (p->exists[k] && (r = check_type(p, k, e)))
			return r;
	p->layout_read = true;
	return 0;
}

/* Set k's full header: its extensions, and how many elements it holds. */
static int read_header(struct ips *p, unsigned k, size_t *entries, struct ipb_err *e)
{
	char *line, *save = NULL, *type = NULL;
	int r;

	*entries = 0;
	if (!p->exists[k])
		return 0;
	if ((r = list_plain(p, IPSET_ENV_LIST_HEADER, p->name[k], e)))
		return r;
	for (line = strtok_r(p->out, "\n", &save); line && !r; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "Type: ", 6))
			type = line + 6;
		else if (!strncmp(line, "Header: ", 8) && (!type || !header_usable(type, line + 8, k)))
			r = unusable(p->name[k], k, e);
		else if (!strncmp(line, "Number of entries: ", 19))
			*entries = strtoull(line + 19, NULL, 10);
	}
	p->outlen = 0;
	return r;
}

int ips_check_sets(struct ips *p, struct ipb_err *e)
{
	size_t entries;
	unsigned k;
	int r;

	if (!p->layout_read && (r = list_names(p, e)))
		return r;
	for (k = 0; k < IPS_NKINDS; k++)
		if ((r = read_header(p, k, &entries, e)))
			return r;
	return 0;
}

int ips_get_layout(struct ips *p, struct be_layout *l, struct ipb_err *e)
{
	unsigned k, i;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = list_names(p, e)))
		return r;
	for (k = 0; k < IPS_NKINDS; k++)
		l->table = l->table || p->exists[k];
	l->chain = l->table;
	for (i = 0; i < PLAN_NSETS; i++) {
		unsigned fam = plan_set_family(i), plen = plan_set_plen(i);

		l->set[i] = l->rule[i] = p->exists[ips_kind(fam, plen)];
	}
	return 0;
}

/* One "add NAME ADDR[/L] timeout N [comment "..."]" line; the comment is cut out of
 * the text in place. */
static int parse_add_line(char *line, struct ips_elem *el, uint32_t *timeout)
{
	char *tok, *save = NULL, *c;
	unsigned flags;

	*timeout = 0;
	el->comment = NULL;
	c = strstr(line, " comment \"");
	if (c) {
		char *end = strrchr(c + 10, '"');

		*c = 0;
		if (end)
			*end = 0;
		el->comment = c + 10;
	}
	if (!(tok = strtok_r(line, " ", &save)) || strcmp(tok, "add") || !strtok_r(NULL, " ", &save) ||
	    !(tok = strtok_r(NULL, " ", &save)) || target_parse(tok, &el->t, &flags, NULL))
		return -EINVAL;
	while ((tok = strtok_r(NULL, " ", &save)))
		if (!strcmp(tok, "timeout") && (tok = strtok_r(NULL, " ", &save)))
			*timeout = (uint32_t)strtoul(tok, NULL, 10);
	return 0;
}

/* One listed line into the set being listed; its timeout (seconds) waits in
 * expires_ms until the listing ends (dump_load). */
static int sink_line(struct ips *p, char *line)
{
	struct ips_dump *d = p->sink;
	struct ips_elem el;
	uint32_t timeout;

	if (!strncmp(line, "create ", 7)) {
		/* "create NAME TYPE family inet hashsize ... timeout 0 comment ..." */
		char *type = strchr(line + 7, ' '), *header = type ? strchr(type + 1, ' ') : NULL;

		if (header) {
			*header++ = 0;
			d->unusable = !header_usable(type + 1, header, (unsigned)(d - p->dump));
		}
		return 0;
	}
	if (strncmp(line, "add ", 4) || parse_add_line(line, &el, &timeout))
		return 0;
	if (el.comment && !(el.comment = strpool_add(&d->comments, el.comment)))
		return -1;
	if (ipb_grow(&d->v, &d->cap, d->n + 1, sizeof(*d->v)))
		return -1;
	el.expires_ms = timeout;
	d->v[d->n++] = el;
	return 0;
}

/* Parse the complete lines libipset has printed, keep the rest. */
static int sink_lines(struct ips *p)
{
	char *line = p->out, *end = p->out + p->outlen, *nl;
	size_t used;

	while ((nl = memchr(line, '\n', (size_t)(end - line)))) {
		*nl = 0;
		if (sink_line(p, line)) {
			p->out_failed = true;
			return -1;
		}
		line = nl + 1;
	}
	used = (size_t)(line - p->out);
	memmove(p->out, line, p->outlen - used);
	p->outlen -= used;
	return 0;
}

/* Order the listed elements by prefix length, keeping their order within a length
 * (a counting sort: a set of addresses has one length, and stays as it is). */
static int order_by_plen(struct ips_dump *d)
{
	size_t count[129] = { 0 }, at[129], i, lengths = 0, pos = 0;
	struct ips_elem *v;

	for (i = 0; i < d->n; i++)
		lengths += count[d->v[i].t.plen]++ == 0;
	for (i = 0; i <= 128; i++) {
		d->start[i] = at[i] = pos;
		pos += count[i];
	}
	d->start[129] = pos;
	if (lengths <= 1)
		return 0;
	v = malloc(d->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < d->n; i++)
		v[at[d->v[i].t.plen]++] = d->v[i];
	free(d->v);
	d->v = v;
	return 0;
}

/* List set k and keep its elements, ordered by prefix length. libipset prints the
 * listing in save format, parsed line by line as it comes (the text is never whole).
 * The kernel lists whole seconds left, rounded down, and a large listing takes a second
 * or more: an element's expiry counts from when it was listed (interpolated between
 * the listing's start and end by its place in it), plus half a second. */
static int dump_load(struct ips *p, unsigned k, struct ipb_err *e)
{
	struct ips_dump *d = &p->dump[k];
	int64_t start, span;
	size_t i;
	int r;

	dump_free(d);
	if (!p->layout_read && (r = list_names(p, e)))
		return r;
	d->valid = true;
	if (!p->exists[k])
		return 0;
	p->outlen = 0;
	p->sink = d;
	start = ipb_now_ms();
	r = run(p, false, "list %s", p->name[k]);
	span = ipb_now_ms() - start;
	p->sink = NULL;
	p->outlen = 0;
	if (r || p->out_failed) {
		lib_reset(p);
		if (p->out_failed)
			return ipb_seterr(e, "out of memory"), -ENOMEM;
		return fail(p, e, r, p->name[k]);
	}
	if (d->unusable) {
		dump_free(d);
		return unusable(p->name[k], k, e);
	}
	for (i = 0; i < d->n; i++)
		if (d->v[i].expires_ms)
			d->v[i].expires_ms = start + (int64_t)((double)span * (double)i / (double)d->n) +
					     d->v[i].expires_ms * 1000 + 500;
	if (order_by_plen(d))
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	return 0;
}

static struct ips_dump *dump_get(struct ips *p, unsigned k, struct ipb_err *e, int *r)
{
	*r = p->dump[k].valid ? 0 : dump_load(p, k, e);
	return *r ? NULL : &p->dump[k];
}

/* A listed element's time left at now: 0 = none, else at least 1 ms. */
static uint64_t remaining(const struct ips_elem *el, int64_t now)
{
	if (!el->expires_ms)
		return 0;
	return el->expires_ms > now ? (uint64_t)(el->expires_ms - now) : 1;
}

int ips_dump_set(struct ips *p, unsigned family, unsigned plen, be_elem_cb cb, void *arg,
		 struct ipb_err *e)
{
	struct ips_dump *d;
	int64_t now;
	size_t i;
	int r;

	if (!(d = dump_get(p, ips_kind(family, plen), e, &r)))
		return r;
	now = ipb_now_ms();
	for (i = d->start[plen]; i < d->start[plen + 1]; i++)
		if (d->v[i].t.family == family &&
		    (r = cb(arg, &d->v[i].t, remaining(&d->v[i], now), d->v[i].comment)))
			return r < 0 ? r : 0;
	return 0;
}

int ips_get_elems(struct ips *p, const struct target *t, size_t count, bool *present,
		  uint64_t *remaining_ms, struct ipb_err *e)
{
	char buf[TARGET_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < count; i++) {
		unsigned k = ips_kind(t[i].family, t[i].plen);

		/* "test" with an explicit prefix looks for that element, not a covering one */
		r = run(p, false, "test %s %s", p->name[k], target_format(&t[i], buf, sizeof(buf)));
		present[i] = r == 0;
		if (r && !strstr(p->report, "is NOT in set"))
			return fail(p, e, r, p->name[k]);
		if (remaining_ms)
			remaining_ms[i] = 0;
	}
	if (remaining_ms) {
		/* only a listing tells the timeouts */
		for (i = 0; i < count; i++) {
			unsigned k = ips_kind(t[i].family, t[i].plen);
			struct ips_dump *d = dump_get(p, k, e, &r);
			size_t j;

			if (!d)
				return r;
			for (j = d->start[t[i].plen]; j < d->start[t[i].plen + 1]; j++)
				if (!target_cmp(&d->v[j].t, &t[i]))
					remaining_ms[i] = remaining(&d->v[j], ipb_now_ms());
		}
	}
	return 0;
}

/* ---- the batch ---- */

void ips_batch_begin(struct ips *p)
{
	p->nops = 0;
	p->queued = 0;
	p->destroy = false;
	memset(p->create, 0, sizeof(p->create));
	memset(p->flush, 0, sizeof(p->flush));
}

void ips_batch_abort(struct ips *p)
{
	ips_batch_begin(p);
}

void ips_batch_add_sets(struct ips *p)
{
	unsigned k;

	for (k = 0; k < IPS_NKINDS; k++)
		p->create[k] = true;
	p->queued++;
}

void ips_batch_add_set(struct ips *p, unsigned family, unsigned plen)
{
	p->create[ips_kind(family, plen)] = true;
	p->queued++;
}

void ips_batch_destroy_sets(struct ips *p)
{
	p->destroy = true;
	p->queued++;
}

void ips_batch_flush_set(struct ips *p, unsigned family, unsigned plen)
{
	p->flush[plan_set_index(family, plen)] = true;
	p->queued++;
}

/* The kernel timeout for an element that expires at expires_ms, computed when it is
 * sent (filling a large set takes seconds): whole seconds, or none for a permanent ban
 * and beyond the kernel's limit (ipbanset expires those itself, see ipset.h). */
static uint32_t timeout_s(int64_t expires_ms)
{
	int64_t ms = expires_ms - ipb_now_ms();

	if (!expires_ms || ms > (int64_t)IPS_MAX_TIMEOUT_MS)
		return 0;
	return ms < 1000 ? 1 : (uint32_t)((ms + 500) / 1000);
}

static int64_t op_expires_ms(const struct be_elem *el)
{
	if (!el->timeout_ms)
		return 0;
	if (el->expires && el->expires != IPB_NEVER)
		return el->expires * 1000;
	return ipb_now_ms() + (int64_t)el->timeout_ms;
}

static void queue_ops(struct ips *p, const struct be_elem *elems, size_t count, size_t tag,
		      bool del)
{
	size_t i;

	if (ipb_grow(&p->ops, &p->capops, p->nops + count, sizeof(*p->ops))) {
		p->out_failed = true; /* reported by commit */
		return;
	}
	for (i = 0; i < count; i++)
		p->ops[p->nops++] = (struct ips_op){ .t = elems[i].t,
						     .del = del,
						     .expires_ms = del ? 0 : op_expires_ms(&elems[i]),
						     .comment = elems[i].comment, .tag = tag + i };
	p->queued += count;
}

void ips_batch_add_elems(struct ips *p, const struct be_elem *elems, size_t count, size_t tag)
{
	queue_ops(p, elems, count, tag, false);
}

void ips_batch_del_elems(struct ips *p, const struct be_elem *elems, size_t count, size_t tag)
{
	queue_ops(p, elems, count, tag, true);
}

size_t ips_batch_size(const struct ips *p)
{
	return p->queued;
}

/* ---- committing ---- */

/* ---- elements in restore mode ----
 *
 * Adds and deletes reach libipset as data, not as text (no parser, no resolver), each
 * with a line number: libipset then packs consecutive commands for one set into
 * page-sized messages, as `ipset restore` does, and the kernel answers a refusal with
 * the line it refused, after applying the lines before it. elem_flush sends what is
 * packed; call it before any other command, which would otherwise send it and take
 * its error. */

/* The refusal libipset reports, and the line it names (0 = none). */
static int elem_report(struct ips *p, uint32_t *line)
{
	const char *msg = ipset_session_report_msg(p->s);
	unsigned n = 0;
	int off = 0;

	*line = 0;
	if (msg && sscanf(msg, "Error in line %u: %n", &n, &off) == 1 && off > 0) {
		*line = n;
		msg += off;
	}
	p->report[0] = 0;
	report_add(p, msg);
	ipset_session_report_reset(p->s);
	ipset_session_lineno(p->s, 0);
	if (!p->report[0])
		snprintf(p->report, sizeof(p->report), "ipset refused an element");
	return report_errno(p->report);
}

/* The comment as libipset takes it: no '"' (it refuses them), at most
 * IPSET_MAX_COMMENT_SIZE bytes, cut between UTF-8 characters. */
static const char *comment_text(const char *comment, char text[IPSET_MAX_COMMENT_SIZE + 1])
{
	size_t i, n = 0;

	for (i = 0; comment && comment[i] && n < IPSET_MAX_COMMENT_SIZE; i++)
		text[n++] = comment[i] == '"' ? '\'' : comment[i];
	while (n && ((unsigned char)text[n - 1] & 0xc0) == 0x80 && comment[i])
		n--; /* cut whole UTF-8 characters: drop a trailing partial one */
	if (n && ((unsigned char)text[n - 1] & 0xc0) == 0xc0 && comment[i])
		n--;
	text[n] = 0;
	return text;
}

/* Queue "add -exist SET T timeout N comment C" (add) or "del -exist SET T" as `line`. */
static int elem_cmd(struct ips *p, bool add, const char *set, const struct target *t,
		    int64_t expires_ms, const char *comment, uint32_t line, uint32_t *bad_line)
{
	struct ipset_session *s = p->s;
	enum ipset_cmd cmd = add ? IPSET_CMD_ADD : IPSET_CMD_DEL;
	char text[IPSET_MAX_COMMENT_SIZE + 1];
	union nf_inet_addr a;
	uint32_t timeout = timeout_s(expires_ms);
	uint8_t cidr = t->plen;
	int r;

	memset(&a, 0, sizeof(a));
	memcpy(&a, t->addr, t->family == 4 ? 4 : 16);
	ipset_envopt_set(s, IPSET_ENV_EXIST);
	/* the set's type and family come from libipset's cache (a set this session
	 * created or already used), else from one header query */
	if (ipset_session_data_set(s, IPSET_SETNAME, set) < 0 || !ipset_type_get(s, cmd) ||
	    ipset_session_data_set(s, IPSET_OPT_IP, &a) < 0 ||
	    (t->plen < (t->family == 4 ? 32 : 128) && ipset_session_data_set(s, IPSET_OPT_CIDR, &cidr) < 0) ||
	    (add && ipset_session_data_set(s, IPSET_OPT_TIMEOUT, &timeout) < 0) ||
	    (add && *comment_text(comment, text) && ipset_session_data_set(s, IPSET_OPT_ADT_COMMENT, text) < 0)) {
		ipset_data_reset(ipset_session_data(s));
		r = elem_report(p, bad_line);
		*bad_line = line; /* refused before it was queued */
		return r;
	}
	return ipset_cmd(s, cmd, line) < 0 ? elem_report(p, bad_line) : 0;
}

static int elem_flush(struct ips *p, uint32_t *bad_line)
{
	int r = ipset_commit(p->s) < 0 ? elem_report(p, bad_line) : 0;

	ipset_session_lineno(p->s, 0);
	return r;
}

static int create_line(struct ips *p, const char *set, unsigned k)
{
	return run(p, true, "create %s %s family %s timeout 0 comment maxelem %u", set, kind_type[k],
		   kind_family[k], p->maxelem);
}

/* Destroy a set that may not exist. */
static int destroy_line(struct ips *p, const char *set)
{
	int r = run(p, false, "destroy %s", set);

	return r == -ENOENT ? 0 : r;
}

static int op_index_cmp(const void *a, const void *b, void *arg)
{
	const struct ips_op *ops = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = target_cmp(&ops[x].t, &ops[y].t);

	return c ? c : (x > y) - (x < y);
}

/* The indexes of the batch's changes to set k, sorted by target, then by order (a bulk
 * ban's come sorted already). */
static int kind_ops(const struct ips *p, unsigned k, uint32_t **out, size_t *n)
{
	bool sorted = true;
	size_t i;

	*n = 0;
	*out = malloc((p->nops + 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < p->nops; i++) {
		if (ips_kind(p->ops[i].t.family, p->ops[i].t.plen) != k)
			continue;
		if (*n && target_cmp(&p->ops[(*out)[*n - 1]].t, &p->ops[i].t) >= 0)
			sorted = false;
		(*out)[(*n)++] = (uint32_t)i;
	}
	if (!sorted)
		qsort_r(*out, *n, sizeof(**out), op_index_cmp, p->ops);
	return 0;
}

/* Is t among the targets of the sorted op indexes? */
static bool ops_have(const struct ips *p, const uint32_t *v, size_t n, const struct target *t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = target_cmp(&p->ops[v[mid]].t, t);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Build "<name>-tmp" with set k's full new content (the live set is untouched): the
 * listed elements that the batch neither flushes nor changes, and each changed target
 * whose last change adds it. Lines: the listed elements 1..n, then op i is n + i + 1. */
static int build_tmp(struct ips *p, unsigned k, size_t *bad_tag, struct ipb_err *e)
{
	struct ips_dump *d;
	uint32_t *idx = NULL, line = 0;
	size_t i, n = 0, nidx = 0;
	int r;

	if ((r = destroy_line(p, p->tmp[k])) || (r = create_line(p, p->tmp[k], k)))
		return fail(p, e, r, p->tmp[k]);
	if (!(d = dump_get(p, k, e, &r)))
		return r;
	if (d->n + p->nops >= UINT32_MAX)
		return ipb_seterr(e, "ipset: too many elements for set %s", p->name[k]), -E2BIG;
	if (kind_ops(p, k, &idx, &nidx))
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	for (i = 0; i < d->n && !r; i++)
		if (!p->flush[plan_set_index(d->v[i].t.family, d->v[i].t.plen)] &&
		    !ops_have(p, idx, nidx, &d->v[i].t))
			r = elem_cmd(p, true, p->tmp[k], &d->v[i].t, d->v[i].expires_ms,
				     d->v[i].comment, (uint32_t)++n, &line);
	for (i = 0; i < nidx && !r; i++) {
		const struct ips_op *op = &p->ops[idx[i]];

		if (op->del || (i + 1 < nidx && !target_cmp(&op->t, &p->ops[idx[i + 1]].t)))
			continue; /* deleted, or changed again later */
		r = elem_cmd(p, true, p->tmp[k], &op->t, op->expires_ms, op->comment,
			     (uint32_t)(d->n + idx[i] + 1), &line);
	}
	free(idx);
	if (!r)
		r = elem_flush(p, &line);
	if (r) {
		if (line > d->n && line - d->n <= p->nops)
			*bad_tag = p->ops[line - d->n - 1].tag;
		fail(p, e, r, p->name[k]);
	}
	return r;
}

static void undo_added(struct ips *p)
{
	uint32_t line;
	size_t i;

	for (i = p->nundo; i-- > 0;) {
		const struct target *t = &p->ops[p->undo[i]].t;

		if (elem_cmd(p, false, p->name[ips_kind(t->family, t->plen)], t, 0, NULL,
			     (uint32_t)(p->nundo - i), &line))
			break;
	}
	elem_flush(p, &line);
	p->nundo = 0;
}

/* Which pass applies each element-by-element op: 0 a new element, 1 a new timeout (a
 * target deleted and added again, which "add -exist" does in one step), 2 a deletion;
 * -1 none. Only a target's last op counts, as in the kernel's own order: a delete
 * queued after an add removes the element. */
static int plan_passes(const struct ips *p, const bool swap[IPS_NKINDS], signed char *pass)
{
	uint32_t *idx = malloc((p->nops + 1) * sizeof(*idx));
	size_t i, n = 0, a, b;

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < p->nops; i++) {
		pass[i] = -1;
		if (!swap[ips_kind(p->ops[i].t.family, p->ops[i].t.plen)])
			idx[n++] = (uint32_t)i;
	}
	qsort_r(idx, n, sizeof(*idx), op_index_cmp, p->ops);
	for (a = 0; a < n; a = b) {
		const struct ips_op *last;
		bool deleted = false;

		for (b = a + 1; b < n && !target_cmp(&p->ops[idx[a]].t, &p->ops[idx[b]].t); b++)
			deleted |= p->ops[idx[b - 1]].del;
		last = &p->ops[idx[b - 1]];
		pass[idx[b - 1]] = last->del ? 2 : deleted ? 1 : 0;
	}
	free(idx);
	return 0;
}

/* Did an op of the passes before `pass`, or of `pass` before op `upto`, change an
 * element that was in the kernel (passes 1 and 2)? */
static bool applied_changes(const struct ips *p, const signed char *passes, int pass, size_t upto)
{
	size_t i;

	for (i = 0; i < p->nops; i++) {
		int q = passes[i];

		if (q >= 1 && (q < pass || (q == pass && i < upto)))
			return true;
	}
	return false;
}

/* Element by element, for the sets not being swapped: new elements first (their undo is
 * exact: delete them again), then new timeouts, then deletions, which fail only when the
 * set itself went away under us. Each pass is packed (restore mode, line = op index + 1)
 * and sent before the next; the kernel applied the lines before a refused one. */
static int apply_elements(struct ips *p, const bool swap[IPS_NKINDS], size_t *bad_tag,
			  struct ipb_err *e)
{
	signed char *passes = NULL;
	size_t i, bad = 0, u;
	uint32_t line = 0;
	unsigned k = 0;
	int r = 0, pass;

	p->nundo = 0;
	if (p->nops >= UINT32_MAX)
		return ipb_seterr(e, "ipset: too many changes in one batch"), -E2BIG;
	if (!(passes = malloc(p->nops + 1)) || plan_passes(p, swap, passes) ||
	    ipb_grow(&p->undo, &p->capundo, p->nops + 1, sizeof(*p->undo))) {
		free(passes);
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	}
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < p->nops && !r; i++) {
			const struct ips_op *op = &p->ops[i];

			if (passes[i] != pass)
				continue;
			k = ips_kind(op->t.family, op->t.plen);
			r = elem_cmd(p, !op->del, p->name[k], &op->t, op->expires_ms, op->comment,
				     (uint32_t)i + 1, &line);
			if (!r && pass == 0)
				p->undo[p->nundo++] = i;
		}
		bad = i; /* unless the kernel names the line: the op it stopped at, or the end */
		if (!r)
			r = elem_flush(p, &line);
		if (r)
			break;
	}
	if (!r) {
		free(passes);
		return 0;
	}
	if (line >= 1 && line <= p->nops)
		bad = line - 1;
	else if (bad > 0)
		bad--; /* the last op queued */
	if (bad < p->nops) {
		*bad_tag = p->ops[bad].tag;
		k = ips_kind(p->ops[bad].t.family, p->ops[bad].t.plen);
	}
	fail(p, e, r, p->name[k]);
	if (pass == 0) /* the new elements from the refused one on never reached the kernel */
		for (u = 0; u < p->nundo; u++)
			if (p->undo[u] >= bad) {
				p->nundo = u;
				break;
			}
	if (applied_changes(p, passes, pass, bad)) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n,
			 "; some new timeouts or deletions were applied before it: run 'ipbanset reconcile'");
	}
	free(passes);
	undo_added(p);
	return r;
}

static int destroy_all(struct ips *p, struct ipb_err *e)
{
	unsigned k;
	int r;

	for (k = 0; k < IPS_NKINDS; k++) {
		if ((r = destroy_line(p, p->tmp[k])) || (r = destroy_line(p, p->name[k]))) {
			if (r == -EBUSY)
				return ipb_seterr(e, "ipset: set %s is in use by iptables rules: delete them "
						     "first (see 'ipbanset init --print-rules')", p->name[k]), r;
			return fail(p, e, r, p->name[k]);
		}
		p->exists[k] = false;
	}
	return 0;
}

static void batch_done(struct ips *p)
{
	unsigned k;

	for (k = 0; k < IPS_NKINDS; k++)
		dump_free(&p->dump[k]);
	ips_batch_begin(p);
}

static int check_ops(struct ips *p, size_t *bad_tag, struct ipb_err *e)
{
	char buf[TARGET_STRLEN];
	size_t i;

	if (p->out_failed)
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	for (i = 0; i < p->nops; i++)
		if (p->ops[i].t.plen == 0 && !p->ops[i].del) {
			*bad_tag = p->ops[i].tag;
			return ipb_seterr(e, "ipset: hash:net cannot hold the prefix %s",
					  target_format(&p->ops[i].t, buf, sizeof(buf))),
			       -EINVAL;
		}
	return 0;
}

/* Which sets are rebuilt and swapped: those losing a whole prefix length, and those
 * with many changes for their size (a bulk load: a crash leaves the live set whole).
 * Packed, a change costs the kernel about what a rebuilt element costs, so a set of 1M
 * with a 1% change is changed in place, not listed and rebuilt. */
static int plan_swaps(struct ips *p, bool swap[IPS_NKINDS], struct ipb_err *e)
{
	size_t count[IPS_NKINDS] = { 0 }, min = p->swap_min, i, entries;
	bool forced = p->swap_forced; /* tests: rebuild at min changes, whatever the set holds */
	unsigned k;
	int r;

	for (i = 0; i < p->nops; i++)
		count[ips_kind(p->ops[i].t.family, p->ops[i].t.plen)]++;
	for (k = 0; k < IPS_NKINDS; k++) {
		swap[k] = count[k] >= min && count[k] > 0;
		if (!swap[k] || forced)
			continue;
		if ((r = read_header(p, k, &entries, e)))
			return r;
		swap[k] = count[k] >= entries / IPS_SWAP_SHARE;
	}
	for (i = 0; i < PLAN_NSETS; i++)
		if (p->flush[i])
			swap[ips_kind(plan_set_family((unsigned)i), plan_set_plen((unsigned)i))] = true;
	return 0;
}

static void undo_created(struct ips *p, const bool created[IPS_NKINDS], const bool swap[IPS_NKINDS])
{
	unsigned k;

	for (k = 0; k < IPS_NKINDS; k++) {
		if (swap[k])
			destroy_line(p, p->tmp[k]);
		if (created[k] && !destroy_line(p, p->name[k]))
			p->exists[k] = false;
	}
}

int ips_batch_commit(struct ips *p, size_t *bad_tag, struct ipb_err *e)
{
	bool created[IPS_NKINDS] = { false }, swap[IPS_NKINDS] = { false }, swapped[IPS_NKINDS] = { false };
	unsigned k;
	int r = 0;

	*bad_tag = SIZE_MAX;
	if (p->destroy) {
		r = destroy_all(p, e);
		batch_done(p);
		return r;
	}
	if ((r = check_ops(p, bad_tag, e)))
		goto out;
	if (!p->layout_read && (r = list_names(p, e)))
		goto out;
	for (k = 0; k < IPS_NKINDS; k++)
		if (p->tmp_exists[k] && !destroy_line(p, p->tmp[k]))
			p->tmp_exists[k] = false;
	for (k = 0; k < IPS_NKINDS && !r; k++) {
		if (!p->create[k] || p->exists[k])
			continue;
		if ((r = create_line(p, p->name[k], k))) {
			fail(p, e, r, p->name[k]);
			break;
		}
		created[k] = p->exists[k] = true;
	}
	if (!r)
		r = plan_swaps(p, swap, e);
	for (k = 0; k < IPS_NKINDS && !r; k++)
		if (swap[k])
			r = build_tmp(p, k, bad_tag, e);
	if (!r)
		r = apply_elements(p, swap, bad_tag, e);
	for (k = 0; k < IPS_NKINDS && !r; k++) {
		if (!swap[k])
			continue;
		if ((r = run(p, false, "swap %s %s", p->tmp[k], p->name[k]))) {
			fail(p, e, r, p->name[k]);
			while (k-- > 0)
				if (swapped[k])
					run(p, false, "swap %s %s", p->tmp[k], p->name[k]);
			undo_added(p);
			break;
		}
		swapped[k] = true;
	}
	if (r)
		undo_created(p, created, swap);
	for (k = 0; k < IPS_NKINDS && !r; k++)
		if (swap[k])
			destroy_line(p, p->tmp[k]); /* the old content */
out:
	batch_done(p);
	return r;
}
