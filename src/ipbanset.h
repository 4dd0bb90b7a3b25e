// SPDX-License-Identifier: GPL-2.0-only
/* What the command modules share: the parsed command line and the engine that brackets
 * one netlink batch inside one journal transaction. */
#ifndef IPBANSET_IPBANSET_H
#define IPBANSET_IPBANSET_H

#include "addr.h"
#include "config.h"
#include "ctx.h"
#include "engine.h"
#include "journal.h"
#include "backend.h"
#include "meet.h"
#include "owner.h"
#include "plan.h"

/* Commands; each returns the exit status. */
int cmd_init(struct ctx *c);
int cmd_ban(struct ctx *c);
int cmd_unban(struct ctx *c);
int cmd_sync(struct ctx *c);
int cmd_flush(struct ctx *c);
int cmd_query(struct ctx *c);
int cmd_list(struct ctx *c);
int cmd_status(struct ctx *c);
int cmd_reconcile(struct ctx *c);
int cmd_log(struct ctx *c);
int cmd_gc(struct ctx *c);
int cmd_teardown(struct ctx *c);
int cmd_watch(struct ctx *c);
int cmd_recover(struct ctx *c);
int cmd_print_rules(struct ctx *c); /* init --print-rules */

/* Targets from argv or -f, validated, allowlist-checked, sorted and deduplicated.
 * Returns 0 or an exit status (2 invalid, 3 allowlist), having printed the error. */
int read_targets(struct ctx *c, struct target_list *l, bool check_allow);
/* ban and sync: the timeout asked for (--timeout, or the configured default; 0 =
 * permanent), and the expiry of a ban that starts now: now + timeout, plus --jitter's
 * random share. */
int64_t ban_timeout(const struct ctx *c);
int64_t ban_expiry(const struct ctx *c);
/* --reason no longer than the journal keeps; 0, or exit status 2 having printed why. */
int check_reason(const struct ctx *c);

/* ---- sync_read.c: the list and the source's current bans, read side by side ---- */

struct engine;
/* Reads c->file into *l (as read_targets) and c->source's live bans into *cur, and starts
 * the engine (journal locked). Returns 0 with the engine started, or an exit status with
 * the engine stopped, having printed the error. */
int sync_read(struct ctx *c, struct engine *g, struct target_list *l, struct current *cur);

#endif
