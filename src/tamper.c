// SPDX-License-Identifier: GPL-2.0-only
/* Tampering: how ipbanset's chain and rules differ from what it creates (nftables only;
 * with ipset the rules are the administrator's iptables rules). status reports it; init
 * and reconcile put the chain and its rules right. Chains in the table that ipbanset did
 * not create are reported and left alone: they are not ipbanset's to change. */
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "owner.h"

void tamper_check(const struct be_layout *l, const struct config *cfg, struct tamper *t)
{
	uint32_t hook = cfg->hook == IPB_HOOK_PREROUTING ? NF_INET_PRE_ROUTING : NF_INET_LOCAL_IN;
	bool reject = cfg->verdict == IPB_VERDICT_REJECT;
	unsigned i;

	memset(t, 0, sizeof(*t));
	if (cfg->backend != IPB_BACKEND_NFT || !l->table)
		return;
	t->chain_missing = !l->chain;
	t->chain_moved = l->chain && (l->chain_hook != hook || l->chain_priority != cfg->priority);
	t->policy_drop = l->chain && l->chain_policy != NF_ACCEPT;
	for (i = 0; i < PLAN_NSETS; i++)
		t->rules_tampered += l->rule[i] && (!l->rule_exact[i] || l->rule_reject[i] != reject);
	t->foreign_rules = l->foreign_rules;
	t->foreign_chains = l->foreign_chains;
	/* a name someone else chose: printed, so without control characters */
	ipb_escape(l->foreign_chain, t->foreign_chain, sizeof(t->foreign_chain));
}

bool tamper_chain_ok(const struct tamper *t)
{
	return !t->chain_missing && !t->chain_moved && !t->policy_drop;
}

bool tamper_repairable(const struct tamper *t)
{
	return !tamper_chain_ok(t) || t->rules_tampered || t->foreign_rules;
}

bool tamper_found(const struct tamper *t)
{
	return tamper_repairable(t) || t->foreign_chains;
}

/* "chain filter has policy drop; 1 rule changed; 2 rules ipbanset did not make", or ""
 * when the chain and its rules are as ipbanset makes them. */
const char *tamper_describe(const struct tamper *t, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
#define TAMPER_ADD(...) \
	(off += (size_t)snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__))
	if (t->chain_missing)
		TAMPER_ADD("chain %s is missing", IPB_CHAIN_NAME);
	if (t->chain_moved)
		TAMPER_ADD("chain %s has another hook or priority than ipbanset applied",
			   IPB_CHAIN_NAME);
	if (t->policy_drop)
		TAMPER_ADD("%schain %s has policy drop", off ? "; " : "", IPB_CHAIN_NAME);
	if (t->rules_tampered)
		TAMPER_ADD("%s%u rule%s changed (verdict, match or expressions)", off ? "; " : "",
			   t->rules_tampered, t->rules_tampered == 1 ? "" : "s");
	if (t->foreign_rules)
		TAMPER_ADD("%s%u rule%s in chain %s that ipbanset did not make", off ? "; " : "",
			   t->foreign_rules, t->foreign_rules == 1 ? "" : "s", IPB_CHAIN_NAME);
#undef TAMPER_ADD
	return buf;
}
