// SPDX-License-Identifier: GPL-2.0-only
/* Ownership: ipbanset uses, changes and deletes only what it created, and one journal
 * drives one table.
 *
 *   - A journal gets a random id at its first use ("journal_id" in its meta) and is bound
 *     to the kernel objects of that use ("binding": "table inet NAME" or "ipset set
 *     NAME-*"); any other backend or table is refused.
 *   - An nftables table ipbanset creates carries a marker, the table comment "ipbanset
 *     journal=<id>" (nft_parse_marker). A table without it is not ipbanset's: it is never
 *     used, changed or deleted. One an older ipbanset made (no marker, nothing in it that
 *     ipbanset would not have made) is taken over once, with `init --adopt`.
 *   - A table marked with another journal's id belongs to that journal.
 *   - ipset sets have no userdata: a set named like ours must have exactly the type,
 *     family and extensions ipbanset gives it (ipset.c), and that is all ipbanset can tell.
 * Functions return 0 or -errno (-EPERM: refused) and fill e->msg; they never print. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "owner.h"

#define OWNER_ID_KEY "journal_id"
#define OWNER_BINDING_KEY "binding"

int owner_journal_id(struct journal *j, bool create, uint64_t *id, struct ipb_err *e)
{
	int64_t v = 0;
	bool found = false;
	int r;

	*id = 0;
	if (!j)
		return 0;
	if ((r = journal_meta_get(j, OWNER_ID_KEY, &v, &found, e)))
		return r;
	if (found && v) {
		*id = (uint64_t)v;
		return 0;
	}
	if (!create)
		return 0;
	do {
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			return ipb_seterr(e, "making the journal's id: %s", strerror(errno)), -errno;
	} while (!v);
	if ((r = journal_meta_set(j, OWNER_ID_KEY, v, e)))
		return r;
	*id = (uint64_t)v;
	return 0;
}

int owner_set_journal_id(struct journal *j, uint64_t id, struct ipb_err *e)
{
	return journal_meta_set(j, OWNER_ID_KEY, (int64_t)id, e);
}

int owner_binding(const struct ctx *c, struct journal *j, bool record, struct ipb_err *e)
{
	char want[IPB_NAME_MAX + 32], have[IPB_NAME_MAX + 64];
	bool found;
	int r;

	if (!j)
		return 0;
	be_objects(&c->cfg, want, sizeof(want));
	if ((r = journal_meta_get_text(j, OWNER_BINDING_KEY, have, sizeof(have), &found, e)))
		return r;
	if (found && strcmp(have, want))
		return ipb_seterr(e, "journal %s belongs to %s, not %s: a journal drives one table; "
				     "use the options that name %s (-T, -B or the config), or another "
				     "journal (-d) for %s",
				  journal_path(j), have, want, have, want),
		       -EPERM;
	if (!found && record)
		return journal_meta_set_text(j, OWNER_BINDING_KEY, want, e);
	return 0;
}

static int refuse_unmarked(const struct ctx *c, const char *what, struct ipb_err *e)
{
	return ipb_seterr(e, "%s was not created by ipbanset (it has no ipbanset marker): ipbanset "
			     "will not use, change or delete it; choose another table (-T, or "
			     "'table =' in the config), or, if an older ipbanset created it, take "
			     "it over once with 'ipbanset %s%s%sinit --adopt'",
			  what, strcmp(c->cfg.table, IPB_DEFAULT_TABLE) ? "-T " : "",
			  strcmp(c->cfg.table, IPB_DEFAULT_TABLE) ? c->cfg.table : "",
			  strcmp(c->cfg.table, IPB_DEFAULT_TABLE) ? " " : ""),
	       -EPERM;
}

int owner_check_table(const struct ctx *c, const struct be_layout *l, uint64_t id,
		      const char *journal, enum owner_use use, struct ipb_err *e)
{
	char what[IPB_NAME_MAX + 32];

	if (c->cfg.backend != IPB_BACKEND_NFT || !l->table)
		return 0;
	be_objects(&c->cfg, what, sizeof(what));
	if (!l->table_marked && use != OWNER_ADOPT)
		return refuse_unmarked(c, what, e);
	if (l->table_marked && l->table_owner != id)
		return ipb_seterr(e, "%s belongs to another ipbanset journal (id %016" PRIx64 "), "
				     "not to journal %s: use the journal that created the table (-d), "
				     "or another table (-T)",
				  what, l->table_owner, journal),
		       -EPERM;
	if (l->clash)
		return ipb_seterr(e, "%s holds %s, which ipbanset did not create: ipbanset will not "
				     "use, change or delete it; rename or delete it",
				  what, l->foreign_name),
		       -EPERM;
	if (l->foreign && (use == OWNER_DELETE || (use == OWNER_ADOPT && !l->table_marked)))
		return ipb_seterr(e, "%s holds %s%s, which ipbanset did not create: ipbanset will not "
				     "%s it; %s",
				  what, l->foreign_name, l->foreign > 1 ? " and other objects" : "",
				  use == OWNER_DELETE ? "delete" : "take over",
				  use == OWNER_DELETE ? "delete those objects first"
						      : "it is not a table an older ipbanset made"),
		       -EPERM;
	return 0;
}

int open_journal(struct ctx *c, struct journal **j, bool create)
{
	struct ipb_err e;
	struct stat st;
	int r;

	/* a dry run creates no journal: with none yet, it plans against an empty one */
	/* lstat: a dangling symlink is not "no journal"; journal_open refuses it */
	if (create && c->dry_run && lstat(c->cfg.db, &st) < 0 && errno == ENOENT)
		r = journal_open_scratch(j, c->cfg.db, &e);
	else
		r = journal_open(j, c->cfg.db, create, !create, &e);
	if (r == -ENOENT && !create) {
		*j = NULL; /* no journal yet: readers see no bans */
		return 0;
	}
	if (r) {
		ipb_error("%s", e.msg);
		if (c->db_env)
			ipb_error("(the journal path came from $%s)", c->db_env);
		return IPB_EXIT_SYSTEM;
	}
	if (owner_binding(c, *j, false, &e)) { /* engine_start records a new binding */
		ipb_error("%s", e.msg);
		journal_close(*j);
		*j = NULL;
		return IPB_EXIT_SYSTEM;
	}
	return 0;
}
