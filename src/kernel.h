// SPDX-License-Identifier: GPL-2.0-only
/* The kernel's objects as the engine and the commands see them, whichever backend holds
 * them (nft.c: an nftables table; ipset.c: four ipset sets and the host's iptables
 * rules): an element, the layout of what exists, a dump's callback. backend.h's
 * functions take and give these; only nft.c and ipset.c know more. */
#ifndef IPBANSET_KERNEL_H
#define IPBANSET_KERNEL_H

#include "addr.h"
#include "plan.h"

#define IPB_CHAIN_NAME "filter" /* nftables: the base chain ipbanset makes in its table */
#define BE_COMMENT_MAX 128	/* bytes including NUL, like nft's comment limit */

/* One element to add or delete. timeout_ms 0 = permanent. comment may be NULL; it is
 * truncated at a UTF-8 character boundary to fit BE_COMMENT_MAX. */
struct be_elem {
	struct target t;
	uint64_t timeout_ms;
	const char *comment;
	int64_t expires; /* the caller's bookkeeping (Unix s); not sent */
};

/* What exists of our table, found with small dumps (tables, sets, chains, rules: never
 * set elements). */
struct be_layout {
	bool table;
	bool chain;
	uint32_t chain_hook;	/* NF_INET_LOCAL_IN / NF_INET_PRE_ROUTING */
	int32_t chain_priority;
	uint32_t chain_policy;	/* NF_ACCEPT / NF_DROP */
	bool set[PLAN_NSETS];	     /* indexed by plan_set_index */
	bool rule[PLAN_NSETS];	     /* a rule matching that set exists */
	uint64_t rule_handle[PLAN_NSETS];
	bool rule_reject[PLAN_NSETS]; /* its verdict is reject (else drop) */
	/* it is exactly the rule ipbanset makes for that set, with rule_reject's verdict:
	 * not an accept, an inverted lookup or a rule with more or other expressions */
	bool rule_exact[PLAN_NSETS];
	/* rules in our chain that match none of our sets, or a second rule for one; other
	 * chains in the table (the first one named). All are counted in foreign too. */
	unsigned foreign_rules, foreign_chains;
	char foreign_chain[64];
	/* Ownership. nftables: the table's handle, whether its comment is ipbanset's marker
	 * and the journal id the marker names; objects in it ipbanset did not create (sets,
	 * chains and rules not named or made as ipbanset makes them), the first of them
	 * named; clash: one of them has the name of an object ipbanset would use. */
	uint64_t table_handle;
	bool table_marked;
	uint64_t table_owner;
	unsigned foreign;
	char foreign_name[80];
	bool clash;
};

/* A dump calls cb for each element; remaining_ms 0 = permanent. */
typedef int (*be_elem_cb)(void *arg, const struct target *t, uint64_t remaining_ms,
			   const char *comment);

#endif
