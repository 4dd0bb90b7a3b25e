// SPDX-License-Identifier: GPL-2.0-only
/* Making the kernel's sets and ipbanset's chain what the journal and init's settings
 * say: the repair init and reconcile make (gc too, on ipset), what it counts, its report
 * and its history event; and the comparison of one set, which status reports. */
#ifndef IPBANSET_REPAIR_H
#define IPBANSET_REPAIR_H

#include "ipbanset.h"
#include "setcmp.h"

struct repair_stats {
	uint64_t restored, removed, retimed, sets_rewritten, sets_created, sets_removed;
	struct tamper tamper; /* what was wrong with the chain and its rules (nftables) */
};

/* Fills s with set idx's elements from the journal and from a dump of the kernel's set,
 * and compares them (setcmp_diff): reconcile repairs what differs, status reports it. */
int repair_compare_set(struct setcmp *s, struct journal *j, struct backend *n, unsigned idx,
		       int64_t now, int64_t now_ms, struct ipb_err *e);
/* Queue in g's batch what makes the chain and its rules what ipbanset makes. */
void repair_chain(struct engine *g, struct repair_stats *st);
/* Queue in g's batch what makes the kernel's sets hold exactly the journal's live bans;
 * 0 or an exit status, having printed the error. */
int repair_sets(struct engine *g, struct repair_stats *st);
/* Delete a table a probe left behind (nftables). */
void repair_drop_probe(struct engine *g);
/* Did the repair change anything? */
bool repair_changes(const struct engine *g, const struct repair_stats *st);
/* "VERB: restored N, ..." or the JSON object, on stdout. */
void repair_report(const struct ctx *c, const struct engine *g, const struct repair_stats *st,
		   const char *verb);
/* The history event of kind "init", "reconcile" or "gc". */
int repair_event(struct engine *g, const struct repair_stats *st, const char *kind);

#endif
