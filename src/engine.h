// SPDX-License-Identifier: GPL-2.0-only
/* The engine: one journal transaction bracketing one kernel batch. Commands start it,
 * hand it changes (engine_change: planned by plan_change, applied to the journal and
 * queued for the kernel), and finish it: the kernel batch is sent and acknowledged,
 * then the journal commits. */
#ifndef IPBANSET_ENGINE_H
#define IPBANSET_ENGINE_H

#include "backend.h"
#include "ctx.h"
#include "journal.h"
#include "plan.h"

struct pool; /* stable storage for element comments */

struct engine {
	struct ctx *c;
	struct journal *j;
	struct backend *n;
	struct be_layout layout;
	bool began;
	bool failed; /* a change could not be queued (out of memory): engine_finish sends
		      * and commits nothing */
	/* kernel element changes, per set */
	struct elemvec {
		struct be_elem *v;
		size_t n, cap;
	} add[PLAN_NSETS], del[PLAN_NSETS], flush_add[PLAN_NSETS];
	/* elements whose expiry changes and whose comment does not: one add each on a
	 * kernel that updates them in place, else a delete and an add */
	struct elemvec refresh[PLAN_NSETS];
	bool touched[PLAN_NSETS]; /* sets whose emptiness must be re-checked */
	bool flush[PLAN_NSETS];	  /* rewrite this set: flush + add flush_add */
	bool drop_set[PLAN_NSETS];
	struct pool *pool;
	/* counts for the contract's JSON */
	uint64_t added, removed, updated, unchanged;
	uint64_t k_added, k_removed, k_retimed;
	bool structure_changed;
	bool table_was_missing;
	uint64_t owner;	       /* the journal's id, marked on a table this command creates */
	uint64_t replace_table; /* init --adopt: handle of the old table, deleted in the batch */
	/* init and reconcile: delete the rules of our chain before anything else (a verdict
	 * change, rules changed or added by others); recreate the chain (a hook or priority
	 * change) */
	bool flush_chain, recreate_chain;
	/* The generation at the start: if nobody else changed the ruleset since our last
	 * commit, the one after ours may be trusted by status, reconcile and init; these two
	 * make the kernel exact, so theirs may too, unless another program committed while
	 * they ran. */
	uint32_t genid_before;
	bool have_genid_before, authoritative;
	bool trusted_record; /* reconcile, init: took the kernel as left (engine_kernel_as_left) */
	/* the table was missing and this command restores the journal's live bans: how
	 * many of them were not this command's own, told once the journal committed */
	bool note_restore;
	uint64_t restored_by_repair;
	/* per set, at the start: 0 unknown, 1 the journal has rows of it, 2 none (then a new
	 * ban in it needs no look-up: targets are unique within a command) */
	uint8_t set_rows[PLAN_NSETS];
	char last_comment[BE_COMMENT_MAX + 64];
	char last_raw[BE_COMMENT_MAX + 64]; /* "SOURCE: REASON" it was made from */
	const char *last_comment_ptr;
	/* A command on more than ENGINE_TARGET_EVENTS_MAX targets records one summary event
	 * (kind summary_kind, unless NULL) instead of one event per target. */
	bool summarize;
	const char *summary_kind, *summary_source, *summary_extra;
	size_t ntargets;
	struct stream *stream; /* a restore into a missing table, sent while it is read */
};

#define ENGINE_TARGET_EVENTS_MAX 1000

/* Open journal (create) and netlink, BEGIN IMMEDIATE, read the kernel layout.
 * Returns 0 or an exit status, having printed the error. */
int engine_start(struct engine *g, struct ctx *c);
/* Queue kernel changes. expires/comment describe the element after the change. */
void engine_elem_add(struct engine *g, const struct target *t, int64_t expires, const char *source,
		     const char *reason);
void engine_elem_del(struct engine *g, const struct target *t);
void engine_elem_retime(struct engine *g, const struct target *t, int64_t expires,
			const char *source, const char *reason);
/* The same, for an element that keeps its comment (source and reason) and has a finite
 * expiry before and after: it may be changed in place. */
void engine_elem_extend(struct engine *g, const struct target *t, int64_t expires,
			const char *source, const char *reason);
/* Say how many targets the command has: above ENGINE_TARGET_EVENTS_MAX, per-target
 * history events give way to one event of kind (NULL: the command writes its own) whose
 * detail counts the changes, followed by extra (may be NULL). */
void engine_summarize(struct engine *g, size_t ntargets, const char *kind, const char *source,
		      const char *extra);
/* Would engine_ban_new take its first-import path for l? (sync asks first: it writes its own
 * event before the rows) */
bool engine_ban_new_applies(struct engine *g, const struct target_list *l);
/* A big ban into prefix lengths the journal has never held (a first import): every target
 * is a new ban and a new element, so the journal takes the rows in one bulk insert while
 * another thread sends the kernel batches. Sets *done when it ran (then, as
 * engine_finish, it released everything and returns the exit status); otherwise the
 * caller goes target by target (always with the ipset backend, whose bulk path is the
 * swap-based batch of engine_finish). Targets sorted and unique (read_targets). */
int engine_ban_new(struct engine *g, const struct target_list *l, const char *source,
		   const char *reason, int64_t timeout, bool *done); /* timeout: seconds, 0 permanent */
/* Build the batch (sets and rules created/removed as the journal now requires), send it,
 * record the kernel generation and commit the journal; or, with --dry-run, roll back.
 * Returns exit status, having printed any error. Always releases everything. */
int engine_finish(struct engine *g);
/* reconcile with the table missing: rows[] are the live rows per set (journal_set_rows).
 * When the restore is big, a second thread creates the table and sends the elements in
 * transactions while engine_restore_set still reads them; engine_finish waits for it
 * before the journal commits, engine_abort takes back what it sent. nftables only: with
 * the ipset backend it does nothing and engine_finish restores the sets in one batch. */
void engine_stream_start(struct engine *g, const uint64_t rows[PLAN_NSETS]);
/* Queue every live journal element of set idx for adding (reconcile, a missing table). */
int engine_restore_set(struct engine *g, unsigned idx, struct ipb_err *e);
/* The hook, priority and verdict that init last applied (the journal's), in place of
 * cfg's; for init, its options and the config file's keys take precedence. */
int engine_applied_settings(const struct ctx *c, struct journal *j, struct config *cfg,
			    struct ipb_err *e);
/* init: remember the hook, priority and verdict it applied, for later commands;
 * *changed tells whether they differ from what was recorded. */
int engine_record_settings(struct engine *g, bool *changed);
/* Abandon: roll back, close. */
void engine_abort(struct engine *g);
/* Print the contract's JSON / a one-line summary for a state-changing command. */
void engine_report(const struct engine *g, const char *verb);
/* The keys of that JSON without the braces, for a command that adds keys of its own. */
void engine_report_keys(const struct engine *g);
/* The kernel element comment for a ban: "SOURCE: REASON" (pool-backed). */
const char *engine_comment(struct engine *g, const char *source, const char *reason);

/* Apply one source's new expiry for one target to journal and kernel: handles the other
 * sources' bans on the same target. newexp 0 = withdraw this source's ban (all_sources:
 * every source's). Returns 0 or exit status. */
int engine_change(struct engine *g, const struct target *t, const char *source, int64_t newexp,
		  bool replace, const char *reason, bool all_sources, const char *event_kind);
/* sync's new ban (have 0) or withdrawal (newexp 0, have the source's live expiry) of a
 * target that no other source holds a live ban of: its one row is known, so there is no
 * look-up. Only for a summarizing command (no per-target event, which would want the
 * row's reason); anything else goes to engine_change. */
int engine_change_known(struct engine *g, const struct target *t, const char *source,
			int64_t newexp, int64_t have, const char *reason, const char *event_kind);

/* Is the kernel exactly as this journal's last commit left it? True when the ruleset
 * generation and the table's handle are those recorded then (see record_generation),
 * and the wall clock kept pace with the kernel's since. */
bool engine_kernel_as_left(struct engine *g);
/* The same test for any reader of journal j: genid and the table's handle are those
 * recorded at the journal's last trusted commit, and the clock kept pace since
 * (*clock_moved says when it did not). */
bool engine_generation_trusted(struct journal *j, uint32_t genid, uint64_t table_handle,
			       bool *clock_moved);

/* Journal event helper. */
int engine_event(struct engine *g, const char *kind, const struct target *t, const char *source,
		 const char *reason, const char *detail);

#endif
