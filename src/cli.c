// SPDX-License-Identifier: GPL-2.0-only
/* Command-line plumbing shared by the commands: targets (with the allowlist and the
 * SSH and self guards), and a ban's timeout, expiry and reason (ban, sync). */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
#include "ipbanset.h"

#define REASON_MAX 1024 /* bytes kept in the journal; the kernel comment is shorter */

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

/* One address configured on this host (in the network namespace ipbanset runs in). */
struct host_addr {
	struct target t;
	char ifname[IF_NAMESIZE];
};

/* The host's own addresses, loopback aside (the allowlist holds it). Returns how many,
 * at most max; none when they cannot be read (the check is a guard, not a promise). */
static size_t host_addrs(struct host_addr *out, size_t max)
{
	struct ifaddrs *ifa, *p;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (p = ifa; p && n < max; p = p->ifa_next) {
		struct host_addr *h = &out[n];

		if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK))
			continue;
		memset(h, 0, sizeof(*h));
		if (p->ifa_addr->sa_family == AF_INET) {
			h->t.family = 4, h->t.plen = 32;
			memcpy(h->t.addr, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, 4);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			h->t.family = 6, h->t.plen = 128;
			memcpy(h->t.addr, &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		snprintf(h->ifname, sizeof(h->ifname), "%s", p->ifa_name);
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

/* A ban that covers one of the host's own addresses cuts the host off from whoever
 * shares it (a blocklist holding the host's own prefix): refused with protect_self =
 * refuse, as the allowlist refuses, else a warning naming the first few. --force
 * bans anyway, silently. Returns 0 or IPB_EXIT_ALLOW. */
static int check_self(struct ctx *c, const struct target_list *l)
{
	enum { MAX_ADDRS = 256, MAX_NAMED = 3 };
	struct host_addr h[MAX_ADDRS];
	char a[TARGET_STRLEN], b[TARGET_STRLEN];
	size_t n, i, k, hits = 0;

	if (c->force || !(n = host_addrs(h, MAX_ADDRS)))
		return 0;
	for (i = 0; i < l->n; i++) {
		for (k = 0; k < n && !target_contains(&l->v[i], &h[k].t); k++)
			;
		if (k == n)
			continue;
		target_format(&l->v[i], a, sizeof(a));
		target_format(&h[k].t, b, sizeof(b));
		if (c->cfg.protect_self == IPB_SELF_REFUSE)
			return ipb_error("%s %s %s, an address of this host (%s); use --force to ban it "
					 "anyway (protect_self = refuse); nothing changed",
					 a, l->v[i].plen == h[k].t.plen ? "is" : "covers", b, h[k].ifname),
			       IPB_EXIT_ALLOW;
		if (hits++ < MAX_NAMED)
			ipb_info(c, "warning: %s %s %s, an address of this host (%s)", a,
				 l->v[i].plen == h[k].t.plen ? "is" : "covers", b, h[k].ifname);
	}
	if (hits > MAX_NAMED)
		ipb_info(c, "warning: %zu more targets cover addresses of this host", hits - MAX_NAMED);
	return 0;
}

/* Returns 0, or IPB_EXIT_ALLOW having named the allowlisted range. */
static int check_allowlist(struct ctx *c, const struct target_list *l)
{
	char a[TARGET_STRLEN], b[TARGET_STRLEN];
	size_t i, k;

	if (c->ssh_client_unreadable && !c->force) {
		char env[160];

		ipb_error("warning: no client address in $SSH_CONNECTION '%s'; this SSH session's "
			  "address is not protected from the ban",
			  ipb_escape(getenv("SSH_CONNECTION"), env, sizeof(env)));
	}
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
	if (check_allow && ((r = check_allowlist(c, l)) || (r = check_self(c, l))))
		return r;
	plan_sort_unique(l);
	ipb_phase(c, "targets checked and sorted");
	return 0;
}

int64_t ban_timeout(const struct ctx *c)
{
	return c->timeout_set ? c->timeout : c->cfg.default_timeout;
}

int64_t ban_expiry(const struct ctx *c)
{
	return duration_expiry(c->now, ban_timeout(c), c->jitter);
}

int check_reason(const struct ctx *c)
{
	if (c->reason && strlen(c->reason) > REASON_MAX)
		return ipb_error("reason is %zu bytes long; at most %d", strlen(c->reason), REASON_MAX),
		       IPB_EXIT_USAGE;
	return 0;
}
