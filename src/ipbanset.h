// SPDX-License-Identifier: GPL-2.0-only
/* What the command modules share: the parsed command line and the engine that brackets
 * one netlink batch inside one journal transaction. */
#ifndef IPBANSET_IPBANSET_H
#define IPBANSET_IPBANSET_H

#include "addr.h"
#include "config.h"
#include "journal.h"
#include "backend.h"
#include "meet.h"
#include "plan.h"

struct ctx {
	struct config cfg;
	const char *config_path;
	bool config_explicit;
	const char *db_env, *table_env; /* which environment variable set db / table, if any */
	bool json, dry_run, quiet, verbose;

	/* command options */
	const char *command;
	int64_t timeout; /* seconds, 0 = permanent */
	bool timeout_set;
	const char *source;
	bool source_set, all_sources, replace, force, verify;
	const char *reason;
	const char *file;
	unsigned family;
	int64_t since;
	bool since_set;
	const char *format;
	bool hook_set, priority_set, verdict_set;
	bool print_rules; /* init: print the iptables rules for the ipset backend */
	bool adopt;	  /* init: take over a table an older ipbanset made (owner.c) */
	int64_t jitter;	      /* seconds; 0 = none */
	int64_t max_removals; /* sync: -1 = no cap */
	bool max_removals_pct; /* max_removals is a percentage of the source's bans */
	const char *netns;
	int64_t interval; /* watch: seconds between expiry checks */
	char **args;
	int nargs;

	int64_t now;	/* Unix seconds at start */
	int64_t now_ms; /* Unix milliseconds at start */
	struct target ssh_client; /* from $SSH_CONNECTION */
	bool have_ssh_client;
	bool ssh_client_unreadable; /* $SSH_CONNECTION is set but names no address */
	bool json_printed; /* a JSON document is on stdout already (list and log stream theirs) */
};

/* Messages: "ipbanset: ..." on stderr. */
__attribute__((format(printf, 1, 2))) void ipb_error(const char *fmt, ...);
/* With -j, after an error (exit 2, 3 or 4): {"error": "<the first message>", "exit": N}
 * on stdout, where no JSON document went already. */
void ipb_json_error(int status);
__attribute__((format(printf, 2, 3))) void ipb_info(const struct ctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void ipb_verbose(const struct ctx *c, const char *fmt, ...);
/* With -v: milliseconds since the start, and what was just done. */
void ipb_phase(const struct ctx *c, const char *what);
/* An expiry for a ban that starts now: now + timeout, plus --jitter's random share. */
int64_t ban_expiry(const struct ctx *c);
/* Exit status for a negative errno from a lower layer. */
int ipb_exit_for(int err);

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

/* ---- sync_read.c: the list and the source's current bans, read side by side ---- */

struct engine;
/* Reads c->file into *l (as read_targets) and c->source's live bans into *cur, and starts
 * the engine (journal locked). Returns 0 with the engine started, or an exit status with
 * the engine stopped, having printed the error. */
int sync_read(struct ctx *c, struct engine *g, struct target_list *l, struct current *cur);

/* Open the journal (creating it for writers) and print errors; returns exit status. */
int open_journal(struct ctx *c, struct journal **j, bool create);

/* ---- owner.c: what ipbanset may use, change or delete ---- */

enum owner_use {
	OWNER_USE,    /* use and change our objects in it */
	OWNER_DELETE, /* delete the whole table: nothing in it may be another's */
	OWNER_ADOPT,  /* init --adopt: an unmarked table is fine if an older ipbanset made it */
};
/* The journal's random id (0 when it has none and create is false; j may be NULL). */
int owner_journal_id(struct journal *j, bool create, uint64_t *id, struct ipb_err *e);
int owner_set_journal_id(struct journal *j, uint64_t id, struct ipb_err *e);
/* The journal drives the kernel objects c names (backend and table); record: bind an
 * unbound journal to them. -EPERM when it is bound to others. */
int owner_binding(const struct ctx *c, struct journal *j, bool record, struct ipb_err *e);
/* May the table in l be used this way by the journal with this id (0: it has none) at
 * path journal? -EPERM, with the reason and what to do, when not. */
int owner_check_table(const struct ctx *c, const struct nft_layout *l, uint64_t id,
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
void tamper_check(const struct nft_layout *l, const struct config *cfg, struct tamper *t);
bool tamper_chain_ok(const struct tamper *t);
bool tamper_repairable(const struct tamper *t); /* by init and reconcile */
bool tamper_found(const struct tamper *t);	/* that, or foreign chains */
/* What is wrong with the chain and its rules, in words ("" when nothing). */
const char *tamper_describe(const struct tamper *t, char *buf, size_t len);

/* ---- engine.c: one journal transaction bracketing one kernel batch ---- */

struct pool; /* stable storage for element comments */

struct engine {
	struct ctx *c;
	struct journal *j;
	struct backend *n;
	struct nft_layout layout;
	bool began;
	/* kernel element changes, per set */
	struct elemvec {
		struct nft_elem *v;
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
	char last_comment[NFT_COMMENT_MAX + 64];
	char last_raw[NFT_COMMENT_MAX + 64]; /* "SOURCE: REASON" it was made from */
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

/* Journal event helper. */
int engine_event(struct engine *g, const char *kind, const struct target *t, const char *source,
		 const char *reason, const char *detail);

/* reconcile.c, shared with status --verify */
struct drift {
	uint64_t missing, unexpected, retime;
	bool exact;
	const char *method;
};

#endif
