// SPDX-License-Identifier: GPL-2.0-only
/* The ipset backend: the only file that includes libipset (the library the ipset tool
 * is built on). It never runs the ipset program.
 *
 * Sets, created with the timeout and comment extensions and the config's maxelem:
 *   <table>-ip4   hash:ip  family inet    IPv4 addresses (/32)
 *   <table>-net4  hash:net family inet    IPv4 prefixes /1../31, nested freely: each
 *                                         element lives until its own timeout
 *   <table>-ip6   hash:ip  family inet6   IPv6 addresses (/128)
 *   <table>-net6  hash:net family inet6   IPv6 prefixes /1../127
 * The host's iptables/ip6tables rules reference them (`ipbanset init --print-rules`);
 * ipbanset never changes those rules, so it never destroys a set except in teardown.
 *
 * ipset has no transaction over several elements. A commit is all or nothing this way:
 *   - a set that gets many changes for its size (a bulk load), or whose prefix length
 *     the engine rewrites (ips_batch_flush_set), is rebuilt as
 *     "<name>-tmp" with its full new content and swapped in (atomic); a failure before
 *     the swap destroys the temporary set and leaves the live one as it was;
 *   - other changes are applied to the live set in place, new elements first, and a
 *     refusal (a full set) deletes the ones already added;
 *   - either way elements go as data, packed many to a netlink message as `ipset
 *     restore` packs them, and the kernel names the one it refused;
 *   - a crash part-way leaves the journal's transaction uncommitted; `reconcile`
 *     (and the next command's clean-up of a stale "-tmp" set) repairs the kernel.
 *
 * The kernel holds an element's timeout only up to IPS_MAX_TIMEOUT_S (2147483 s, about
 * 24.8 days: the kernel's IPSET_MAX_TIMEOUT, and libipset refuses more). A longer or permanent ban
 * is added with no timeout; `gc` and `reconcile` give it its exact kernel timeout once
 * it ends within that limit, and remove what outlived its ban. */
#ifndef IPBANSET_IPSET_H
#define IPBANSET_IPSET_H

#include <stdio.h>

#include "config.h"
#include "kernel.h"

#define IPS_MAX_TIMEOUT_S 2147483u
#define IPS_MAX_TIMEOUT_MS ((uint64_t)IPS_MAX_TIMEOUT_S * 1000)
#define IPS_NAME_MAX 32 /* IPSET_MAXNAMELEN, NUL included */
#define IPS_TABLE_MAX 22 /* "<table>-net6-tmp" fits IPS_NAME_MAX */

struct ips;

int ips_open(struct ips **p, const struct config *cfg, struct ipb_err *e);
void ips_close(struct ips *p);

/* The set holding a family/prefix length: kind 0..3 = ip4 net4 ip6 net6. */
unsigned ips_kind(unsigned family, unsigned plen);
void ips_set_name(const char *table, unsigned kind, char *buf, size_t len);
/* init --print-rules: see be_print_rules. */
int ips_print_rules(const struct config *cfg, FILE *out, struct ipb_err *e);

/* table = any of the four sets exists; set[idx] = the set for that length exists;
 * rule[idx] = set[idx] (the rules are the host's). */
int ips_get_layout(struct ips *p, struct be_layout *l, struct ipb_err *e);
/* Each existing set's full header: the timeout and comment extensions (a walk of its
 * elements in the kernel: 60 ms at 1M, so only init and status ask). */
int ips_check_sets(struct ips *p, struct ipb_err *e);

void ips_batch_begin(struct ips *p);
void ips_batch_add_sets(struct ips *p);			       /* all four, if missing */
void ips_batch_add_set(struct ips *p, unsigned family, unsigned plen); /* its set, if missing */
void ips_batch_destroy_sets(struct ips *p);		       /* teardown */
/* Remove every element of one prefix length (the set is rebuilt and swapped). */
void ips_batch_flush_set(struct ips *p, unsigned family, unsigned plen);
void ips_batch_add_elems(struct ips *p, const struct be_elem *elems, size_t count, size_t tag);
void ips_batch_del_elems(struct ips *p, const struct be_elem *elems, size_t count, size_t tag);
size_t ips_batch_size(const struct ips *p);
int ips_batch_commit(struct ips *p, size_t *bad_tag, struct ipb_err *e);
void ips_batch_abort(struct ips *p);

int ips_get_elems(struct ips *p, const struct target *t, size_t count, bool *present,
		  uint64_t *remaining_ms, struct ipb_err *e);
int ips_dump_set(struct ips *p, unsigned family, unsigned plen, be_elem_cb cb, void *arg,
		 struct ipb_err *e);

#endif
