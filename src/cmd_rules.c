// SPDX-License-Identifier: GPL-2.0-only
/* init --print-rules: the iptables and ip6tables rules that make the kernel drop what the
 * ipset backend's sets hold. ipbanset never installs them: they belong to the host's
 * firewall configuration (iptables-persistent, firewalld), which must load after
 * `ipbanset init` has created the sets. */
#include <stdio.h>

#include "ipbanset.h"
#include "ipset.h"

/* As for the nftables backend's sets: the options, then the config file's keys, then what
 * `init` applied last (the journal records it). */
static int applied(struct ctx *c)
{
	int64_t hook, verdict;
	bool found_hook = false, found_verdict = false;
	struct journal *j;
	struct ipb_err e;
	int r;

	if ((r = open_journal(c, &j, false)) || !j)
		return r;
	if (journal_meta_get(j, "hook", &hook, &found_hook, &e) ||
	    journal_meta_get(j, "verdict", &verdict, &found_verdict, &e)) {
		journal_close(j);
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	}
	journal_close(j);
	if (found_hook && !c->hook_set && !c->cfg.hook_set)
		c->cfg.hook = hook ? IPB_HOOK_PREROUTING : IPB_HOOK_INPUT;
	if (found_verdict && !c->verdict_set && !c->cfg.verdict_set)
		c->cfg.verdict = verdict ? IPB_VERDICT_REJECT : IPB_VERDICT_DROP;
	return 0;
}

int cmd_print_rules(struct ctx *c)
{
	static const char *const tool[] = { "iptables", "iptables", "ip6tables", "ip6tables" };
	bool pre = c->cfg.hook == IPB_HOOK_PREROUTING;
	char name[IPS_NAME_MAX], rule[IPS_NAME_MAX + 64];
	const char *table;
	unsigned k;
	int r;

	if (c->cfg.backend != IPB_BACKEND_IPSET)
		return ipb_error("init --print-rules: only for the ipset backend (with nftables, "
				 "ipbanset's table holds its own rules)"),
		       IPB_EXIT_USAGE;
	if ((r = applied(c)))
		return r;
	pre = c->cfg.hook == IPB_HOOK_PREROUTING;
	if (pre && c->cfg.verdict == IPB_VERDICT_REJECT)
		return ipb_error("init --print-rules: iptables cannot reject in the raw table's "
				 "PREROUTING chain; use --hook input or --verdict drop"),
		       IPB_EXIT_USAGE;
	table = pre ? "-t raw " : "";
	/* each line checks first (-C), so running them again adds no second copy */
	for (k = 0; k < 4; k++) {
		ips_set_name(c->cfg.table, k, name, sizeof(name));
		snprintf(rule, sizeof(rule), "%s -m set --match-set %s src -j %s",
			 pre ? "PREROUTING" : "INPUT", name,
			 c->cfg.verdict == IPB_VERDICT_REJECT ? "REJECT" : "DROP");
		printf("%s %s-C %s 2>/dev/null || %s %s-I %s\n", tool[k], table, rule, tool[k], table,
		       rule);
	}
	return 0;
}
