// SPDX-License-Identifier: GPL-2.0-only
/* init --print-rules: the rules that make the kernel drop what the ipset backend's sets
 * hold (see be_print_rules), under the hook and verdict init applied. */
#include <stdio.h>

#include "ipbanset.h"

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
	struct ipb_err e;
	int r;

	if (c->cfg.backend != IPB_BACKEND_IPSET) {
		be_print_rules(&c->cfg, stdout, &e);
		return ipb_error("init --print-rules: %s", e.msg), IPB_EXIT_USAGE;
	}
	if ((r = applied(c)))
		return r;
	if (be_print_rules(&c->cfg, stdout, &e))
		return ipb_error("init --print-rules: %s", e.msg), IPB_EXIT_USAGE;
	return 0;
}
