// SPDX-License-Identifier: GPL-2.0-only
/* What ipbanset may use, change or delete (owner.c), and its chain and rules against
 * what it creates (tamper.c). */
#ifndef IPBANSET_OWNER_H
#define IPBANSET_OWNER_H

#include "backend.h"
#include "ctx.h"
#include "journal.h"

enum owner_use {
	OWNER_USE,    /* use and change our objects in it */
	OWNER_DELETE, /* delete the whole table: nothing in it may be another's */
	OWNER_ADOPT,  /* init --adopt: an unmarked table is fine if an older ipbanset made it */
};
/* Open the journal (creating it for writers), checked against the objects it is bound
 * to, and print errors; returns the exit status. A dry run with no journal yet plans
 * against an empty scratch one; a reader with none gets *j NULL (no bans). */
int open_journal(struct ctx *c, struct journal **j, bool create);
/* The journal's random id (0 when it has none and create is false; j may be NULL). */
int owner_journal_id(struct journal *j, bool create, uint64_t *id, struct ipb_err *e);
int owner_set_journal_id(struct journal *j, uint64_t id, struct ipb_err *e);
/* The journal drives the kernel objects c names (backend and table); record: bind an
 * unbound journal to them. -EPERM when it is bound to others. */
int owner_binding(const struct ctx *c, struct journal *j, bool record, struct ipb_err *e);
/* May the table in l be used this way by the journal with this id (0: it has none) at
 * path journal? -EPERM, with the reason and what to do, when not. */
int owner_check_table(const struct ctx *c, const struct be_layout *l, uint64_t id,
		      const char *journal, enum owner_use use, struct ipb_err *e);

/* ---- tamper.c: ipbanset's chain and rules against what it creates (nftables) ---- */

struct tamper {
	bool chain_missing, chain_moved, policy_drop; /* moved: another hook or priority */
	unsigned rules_tampered; /* rules of our sets not exactly as ipbanset makes them */
	unsigned foreign_rules;	 /* rules in our chain that ipbanset did not make */
	unsigned foreign_chains; /* chains in our table that ipbanset did not create */
	char foreign_chain[64];	 /* the first of them */
};
/* cfg: the settings ipbanset applies (its hook, priority and verdict). All zero for the
 * ipset backend and for a missing table. */
void tamper_check(const struct be_layout *l, const struct config *cfg, struct tamper *t);
bool tamper_chain_ok(const struct tamper *t);
bool tamper_repairable(const struct tamper *t); /* by init and reconcile */
bool tamper_found(const struct tamper *t);	/* that, or foreign chains */
/* What is wrong with the chain and its rules, in words ("" when nothing). */
const char *tamper_describe(const struct tamper *t, char *buf, size_t len);

#endif
