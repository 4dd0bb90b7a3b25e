// SPDX-License-Identifier: GPL-2.0-only
/* The kernel side: nf_tables over netlink with libmnl + libnftnl. The only file that
 * includes libmnl/libnftnl. Functions return 0 or -errno and fill e->msg with a
 * message that includes the kernel's extended-ack text when there is one; they never
 * print or exit.
 *
 * Layout of table "inet <table>":
 *   set v4_<L> { type ipv4_addr; flags timeout; }   one per IPv4 prefix length in use
 *   set v6_<L> { type ipv6_addr; flags timeout; }   one per IPv6 prefix length in use
 *   chain filter { type filter hook <hook> priority <prio>; policy accept; }
 *     one rule per set: "ip saddr & <mask L> @v4_L counter drop|reject"
 *     (no bitwise for full-length sets), with rule userdata comment = set name,
 *     so rules are found by the set they match.
 */
#ifndef IPBANSET_NFT_H
#define IPBANSET_NFT_H

#include "addr.h"
#include "config.h"
#include "kernel.h"
#include "plan.h"

#define NFT_CHAIN_NAME IPB_CHAIN_NAME

struct nft;

/* Opens one NETLINK_NETFILTER socket with NETLINK_EXT_ACK and large buffers. */
int nft_open(struct nft **n, const char *table, struct ipb_err *e);
void nft_close(struct nft *n);

int nft_get_layout(struct nft *n, struct be_layout *l, struct ipb_err *e);

/* The table's handle (0: no table); one GETTABLE. */
int nft_get_table_handle(struct nft *n, uint64_t *handle, struct ipb_err *e);

/* Ruleset generation id (NFT_MSG_GETGEN). */
int nft_get_genid(struct nft *n, uint32_t *genid, struct ipb_err *e);


/* Building one transaction (NFNL_MSG_BATCH_BEGIN ... END). Calls queue messages in
 * memory; nft_batch_commit sends them all and reads every ack. */
void nft_batch_begin(struct nft *n);
/* Create the table (it must not exist) with the owner's marker; create-if-missing (no
 * NLM_F_EXCL) the chain, with hook/priority from config. */
void nft_batch_add_table(struct nft *n);
/* The journal id the table's marker names when this handle creates the table. */
void nft_set_owner(struct nft *n, uint64_t owner);
/* The marker: the comment "ipbanset journal=<16 hex digits>" on the table. 0 or -EINVAL. */
#define NFT_MARKER_PREFIX "ipbanset journal="
int nft_parse_marker(const char *comment, uint64_t *owner);
void nft_batch_add_chain(struct nft *n, enum ipb_hook hook, int priority);
void nft_batch_del_chain(struct nft *n); /* to change hook/priority: delete + add */
void nft_batch_flush_chain(struct nft *n); /* delete every rule in our chain */
/* handle 0: by name. */
void nft_batch_del_table(struct nft *n, uint64_t handle);
/* Sets and their rules. size_hint 0 = none. */
void nft_batch_add_set(struct nft *n, unsigned family, unsigned plen, uint32_t size_hint);
void nft_batch_del_set(struct nft *n, unsigned family, unsigned plen);
void nft_batch_flush_set(struct nft *n, unsigned family, unsigned plen);
void nft_batch_add_rule(struct nft *n, unsigned family, unsigned plen, enum ipb_verdict v);
void nft_batch_del_rule(struct nft *n, uint64_t handle);
/* Elements, all of one set (the set of elems[i].t's family and plen). Split into
 * messages below the 64 KiB attribute limit. tag is an opaque index the caller uses to
 * map a kernel error back to its input: element i is reported as tag + i. */
void nft_batch_add_elems(struct nft *n, const struct be_elem *elems, size_t count, size_t tag);
void nft_batch_del_elems(struct nft *n, const struct be_elem *elems, size_t count, size_t tag);
/* Add elements that may exist already, setting the timeout and the expiry of those
 * that do in place (their comments stay): only on a kernel nft_probe_refresh found
 * doing so. Elements that do not exist are added. */
void nft_batch_refresh_elems(struct nft *n, const struct be_elem *elems, size_t count,
			     size_t tag);
/* Does this kernel set an existing element's timeout when it is added again (Linux
 * 6.12 on)? Older kernels keep the old expiry and report success. Finds out with a
 * throwaway table (this table's name plus "/probe") in its own transactions, counted
 * in *ntx; any failure means no. left_behind->msg is empty unless that table could not
 * be deleted again. */
bool nft_probe_refresh(struct nft *n, unsigned *ntx, struct ipb_err *left_behind);
/* Delete a probe table that a crash left behind (reconcile and teardown do): 0 when
 * there is none (any more), else -errno. A deletion counts in *ntx. */
int nft_drop_probe(struct nft *n, unsigned *ntx, struct ipb_err *e);
/* Delete an element whether or not the kernel still holds it (it may have just timed
 * out, or been flushed): add-if-missing then delete, in the same batch. */
void nft_batch_del_elems_any(struct nft *n, const struct be_elem *elems, size_t count, size_t tag);
/* Messages queued so far (0 = nothing to send). */
size_t nft_batch_size(const struct nft *n);
/* Send and wait for every ack. On a kernel error returns -errno, *bad_tag is the tag of
 * the element that caused it (or SIZE_MAX when the error is not about an element), and
 * e->msg carries the kernel's text. Out-of-memory while building reported here too. */
int nft_batch_commit(struct nft *n, size_t *bad_tag, struct ipb_err *e);
void nft_batch_abort(struct nft *n); /* discard queued messages */

/* Targeted GET of single elements (no dump): present[i] = the kernel holds elems[i]
 * (same network and plen) right now; remaining_ms[i] (may be NULL) = its expiration. */
int nft_get_elems(struct nft *n, const struct target *t, size_t count, bool *present,
		  uint64_t *remaining_ms, struct ipb_err *e);

/* Full dump of one set (quadratic in the kernel: only for small sets or --verify).
 * cb is called for each element; remaining_ms 0 = permanent. */
int nft_dump_set(struct nft *n, unsigned family, unsigned plen, be_elem_cb cb, void *arg,
		 struct ipb_err *e);

/* Rule counters summed over our chain (packets, bytes dropped). */
int nft_get_counters(struct nft *n, uint64_t *packets, uint64_t *bytes, struct ipb_err *e);

/* Listening to nf_tables events (watch). nft_mon_read drains what is queued without
 * blocking and counts the transactions that changed our table, by who committed them:
 * "own" = a process named ipbanset (its changes are journalled), "foreign" = anyone
 * else; lost = the socket overran and events were dropped. */
struct nft_mon;
struct nft_mon_events {
	unsigned own, foreign;
	bool lost;
};
int nft_mon_open(struct nft_mon **m, const char *table, struct ipb_err *e);
void nft_mon_close(struct nft_mon *m);
int nft_mon_fd(const struct nft_mon *m);
int nft_mon_read(struct nft_mon *m, struct nft_mon_events *ev);

#endif
