// SPDX-License-Identifier: GPL-2.0-only
/* The kernel backend: what the engine and the commands call to change and read the
 * kernel, so that everything above (journal, planning, commands, output) is shared by
 * the firewalls ipbanset can drive:
 *
 *   nftables  table "inet <table>", one hash set per prefix length, with its own rules
 *             (nft.c; the default)
 *   ipset     hash:ip and hash:net sets per family, referenced by the host's own
 *             iptables rules (ipset.c; see ipset.h)
 *
 * The calls mirror nft.h, which also defines the element and layout descriptions both
 * backends use (struct be_elem, struct be_layout). Each backend reads a set index
 * (plan_set_index: family and prefix length) in its own terms. Functions return 0 or
 * -errno and fill e->msg; they never print or exit. */
#ifndef IPBANSET_BACKEND_H
#define IPBANSET_BACKEND_H

#include <stdio.h>

#include "config.h"
#include "kernel.h"

struct backend;

/* Opens the backend cfg->backend names, for cfg->table. */
int be_open(struct backend **b, const struct config *cfg, struct ipb_err *e);
void be_close(struct backend *b); /* NULL is fine */
const char *be_name(const struct backend *b);
/* How messages name the kernel objects of cfg's backend and table: "table inet ipbanset",
 * "ipset set ipbanset-*". */
const char *be_objects(const struct config *cfg, char *buf, size_t len);

/* What the engine must know about a backend's kernel objects. */
/* The longest timeout the kernel holds; a longer or permanent ban is an element with no
 * timeout that ipbanset expires itself (0 = no limit). */
uint64_t be_max_timeout_ms(const struct backend *b);
/* nftables removes a prefix length's set (and rule) when its last ban goes; ipset keeps
 * its sets, which the host's iptables rules reference. */
bool be_drops_empty_sets(const struct backend *b);
/* Which of the backend's kernel sets holds set index idx: idx itself (nftables), or one
 * of the four that hold every prefix length of a family (ipset). */
unsigned be_kernel_set(const struct backend *b, unsigned idx);
/* A huge load may be split into several kernel transactions (nftables). */
bool be_can_split(const struct backend *b);
/* The kernel lists timeouts in whole seconds (ipset), not milliseconds (nftables). */
bool be_coarse_timeouts(const struct backend *b);
/* The backend owns a chain with a hook and priority (nftables). */
bool be_has_chain(const struct backend *b);

int be_get_layout(struct backend *b, struct be_layout *l, struct ipb_err *e);
/* The objects that exist are fit for use, in full (ipset: each set's extensions, a walk
 * of its elements in the kernel; nftables: get_layout checks everything already). For
 * init and status; other commands rely on get_layout's cheaper checks. */
int be_check_objects(struct backend *b, struct ipb_err *e);
int be_get_genid(struct backend *b, uint32_t *genid, struct ipb_err *e); /* -EOPNOTSUPP */
/* nftables: the table's handle, 0 when it is missing (ipset: always 0). */
int be_get_table_handle(struct backend *b, uint64_t *handle, struct ipb_err *e);

void be_batch_begin(struct backend *b);
void be_batch_add_table(struct backend *b);
void be_batch_add_chain(struct backend *b, enum ipb_hook hook, int priority);
void be_batch_del_chain(struct backend *b);
void be_batch_flush_chain(struct backend *b); /* delete every rule of our chain */
/* handle: the table's (nftables), so that only the table checked is deleted; 0 by name. */
void be_batch_del_table(struct backend *b, uint64_t handle);
/* The journal id a table this backend creates is marked with (nftables; see owner.c). */
void be_set_owner(struct backend *b, uint64_t owner);
void be_batch_add_set(struct backend *b, unsigned family, unsigned plen, uint32_t size_hint);
void be_batch_del_set(struct backend *b, unsigned family, unsigned plen);
void be_batch_flush_set(struct backend *b, unsigned family, unsigned plen);
void be_batch_add_rule(struct backend *b, unsigned family, unsigned plen, enum ipb_verdict v);
void be_batch_del_rule(struct backend *b, uint64_t handle);
void be_batch_add_elems(struct backend *b, const struct be_elem *elems, size_t count, size_t tag);
void be_batch_del_elems_any(struct backend *b, const struct be_elem *elems, size_t count,
			    size_t tag);
/* Elements that may exist, their expiry set in place: only after be_probe_refresh said
 * yes (nftables on Linux 6.12 on; never for ipset). See nft_probe_refresh. */
void be_batch_refresh_elems(struct backend *b, const struct be_elem *elems, size_t count,
			    size_t tag);
bool be_probe_refresh(struct backend *b, unsigned *ntx, struct ipb_err *left_behind);
int be_drop_probe(struct backend *b, unsigned *ntx, struct ipb_err *e);
size_t be_batch_size(const struct backend *b);
/* All or nothing, as nft_batch_commit: see each backend for how. */
int be_batch_commit(struct backend *b, size_t *bad_tag, struct ipb_err *e);
void be_batch_abort(struct backend *b);

int be_get_elems(struct backend *b, const struct target *t, size_t count, bool *present,
		 uint64_t *remaining_ms, struct ipb_err *e);
int be_dump_set(struct backend *b, unsigned family, unsigned plen, be_elem_cb cb, void *arg,
		struct ipb_err *e);
int be_get_counters(struct backend *b, uint64_t *packets, uint64_t *bytes, struct ipb_err *e);

/* cfg's table name fits the names of the backend's kernel objects (ipset: the set names
 * are "<table>-net6-tmp" at most). */
int be_check_table_name(const struct config *cfg, struct ipb_err *e);

/* The rules that make the kernel drop what the sets hold, as shell commands to out
 * (ipset: iptables/ip6tables lines that check before they insert; nftables: the table
 * holds its own rules, -EOPNOTSUPP). cfg's hook and verdict apply. */
int be_print_rules(const struct config *cfg, FILE *out, struct ipb_err *e);

/* Change events from the kernel, for watch. nftables: nf_tables notifications about the
 * table (see nft_mon_read); ipset sends none: its monitor's fd is -1 and never reads
 * ready, so watch relies on its timer. */
struct be_mon;
struct be_mon_events {
	unsigned own, foreign; /* transactions on the table: by ipbanset, by anyone else */
	bool lost;	       /* events were dropped */
};
int be_mon_open(struct be_mon **m, const struct config *cfg, struct ipb_err *e);
void be_mon_close(struct be_mon *m); /* NULL is fine */
int be_mon_fd(const struct be_mon *m);
int be_mon_read(struct be_mon *m, struct be_mon_events *ev);

#endif
