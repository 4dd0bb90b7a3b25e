// SPDX-License-Identifier: GPL-2.0-only
/* Dispatch from the backend calls to nft.c or ipset.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "ipset.h"
#include "nft.h"

struct backend {
	enum ipb_backend kind;
	struct nft *nft;
	struct ips *ips;
};

#define DISPATCH(b, nft_call, ips_call) ((b)->kind == IPB_BACKEND_IPSET ? (ips_call) : (nft_call))

int be_open(struct backend **bp, const struct config *cfg, struct ipb_err *e)
{
	struct backend *b = calloc(1, sizeof(*b));
	int r;

	*bp = NULL;
	if (!b)
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	b->kind = cfg->backend;
	r = DISPATCH(b, nft_open(&b->nft, cfg->table, e), ips_open(&b->ips, cfg, e));
	if (r) {
		free(b);
		return r;
	}
	*bp = b;
	return 0;
}

void be_close(struct backend *b)
{
	if (!b)
		return;
	if (b->nft)
		nft_close(b->nft);
	if (b->ips)
		ips_close(b->ips);
	free(b);
}

const char *be_name(const struct backend *b)
{
	return DISPATCH(b, "nftables", "ipset");
}

const char *be_objects(const struct config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, cfg->backend == IPB_BACKEND_IPSET ? "ipset set %s-*" : "table inet %s",
		 cfg->table);
	return buf;
}

uint64_t be_max_timeout_ms(const struct backend *b)
{
	return DISPATCH(b, 0, IPS_MAX_TIMEOUT_MS);
}

bool be_drops_empty_sets(const struct backend *b)
{
	return b->kind == IPB_BACKEND_NFT;
}

unsigned be_kernel_set(const struct backend *b, unsigned idx)
{
	return DISPATCH(b, idx, ips_kind(plan_set_family(idx), plan_set_plen(idx)));
}

bool be_can_split(const struct backend *b)
{
	return b->kind == IPB_BACKEND_NFT;
}

bool be_coarse_timeouts(const struct backend *b)
{
	return b->kind == IPB_BACKEND_IPSET;
}

bool be_has_chain(const struct backend *b)
{
	return b->kind == IPB_BACKEND_NFT;
}

int be_get_layout(struct backend *b, struct be_layout *l, struct ipb_err *e)
{
	return DISPATCH(b, nft_get_layout(b->nft, l, e), ips_get_layout(b->ips, l, e));
}

int be_check_objects(struct backend *b, struct ipb_err *e)
{
	return b->kind == IPB_BACKEND_IPSET ? ips_check_sets(b->ips, e) : 0;
}

int be_get_genid(struct backend *b, uint32_t *genid, struct ipb_err *e)
{
	if (b->kind == IPB_BACKEND_IPSET)
		return ipb_seterr(e, "ipset has no generation id"), -EOPNOTSUPP;
	return nft_get_genid(b->nft, genid, e);
}

int be_get_table_handle(struct backend *b, uint64_t *handle, struct ipb_err *e)
{
	*handle = 0;
	return b->kind == IPB_BACKEND_NFT ? nft_get_table_handle(b->nft, handle, e) : 0;
}

void be_batch_begin(struct backend *b)
{
	DISPATCH(b, nft_batch_begin(b->nft), ips_batch_begin(b->ips));
}

void be_batch_add_table(struct backend *b)
{
	DISPATCH(b, nft_batch_add_table(b->nft), ips_batch_add_sets(b->ips));
}

/* ipset has no chain: the host's iptables rules reference its sets. */
void be_batch_add_chain(struct backend *b, enum ipb_hook hook, int priority)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_batch_add_chain(b->nft, hook, priority);
}

void be_batch_del_chain(struct backend *b)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_batch_del_chain(b->nft);
}

void be_batch_flush_chain(struct backend *b)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_batch_flush_chain(b->nft);
}

void be_batch_del_table(struct backend *b, uint64_t handle)
{
	DISPATCH(b, nft_batch_del_table(b->nft, handle), ips_batch_destroy_sets(b->ips));
}

void be_set_owner(struct backend *b, uint64_t owner)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_set_owner(b->nft, owner);
}

void be_batch_add_set(struct backend *b, unsigned family, unsigned plen, uint32_t size_hint)
{
	DISPATCH(b, nft_batch_add_set(b->nft, family, plen, size_hint),
		 ips_batch_add_set(b->ips, family, plen));
}

void be_batch_del_set(struct backend *b, unsigned family, unsigned plen)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_batch_del_set(b->nft, family, plen);
	else
		ips_batch_flush_set(b->ips, family, plen);
}

void be_batch_flush_set(struct backend *b, unsigned family, unsigned plen)
{
	DISPATCH(b, nft_batch_flush_set(b->nft, family, plen), ips_batch_flush_set(b->ips, family, plen));
}

void be_batch_add_rule(struct backend *b, unsigned family, unsigned plen, enum ipb_verdict v)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_batch_add_rule(b->nft, family, plen, v);
}

void be_batch_del_rule(struct backend *b, uint64_t handle)
{
	if (b->kind == IPB_BACKEND_NFT)
		nft_batch_del_rule(b->nft, handle);
}

void be_batch_add_elems(struct backend *b, const struct be_elem *elems, size_t count, size_t tag)
{
	DISPATCH(b, nft_batch_add_elems(b->nft, elems, count, tag),
		 ips_batch_add_elems(b->ips, elems, count, tag));
}

void be_batch_refresh_elems(struct backend *b, const struct be_elem *elems, size_t count,
			    size_t tag)
{
	DISPATCH(b, nft_batch_refresh_elems(b->nft, elems, count, tag),
		 ips_batch_add_elems(b->ips, elems, count, tag));
}

bool be_probe_refresh(struct backend *b, unsigned *ntx, struct ipb_err *left_behind)
{
	left_behind->msg[0] = 0;
	return b->kind == IPB_BACKEND_NFT && nft_probe_refresh(b->nft, ntx, left_behind);
}

int be_drop_probe(struct backend *b, unsigned *ntx, struct ipb_err *e)
{
	return b->kind == IPB_BACKEND_NFT ? nft_drop_probe(b->nft, ntx, e) : 0;
}

void be_batch_del_elems_any(struct backend *b, const struct be_elem *elems, size_t count,
			    size_t tag)
{
	DISPATCH(b, nft_batch_del_elems_any(b->nft, elems, count, tag),
		 ips_batch_del_elems(b->ips, elems, count, tag));
}

size_t be_batch_size(const struct backend *b)
{
	return DISPATCH(b, nft_batch_size(b->nft), ips_batch_size(b->ips));
}

int be_batch_commit(struct backend *b, size_t *bad_tag, struct ipb_err *e)
{
	return DISPATCH(b, nft_batch_commit(b->nft, bad_tag, e), ips_batch_commit(b->ips, bad_tag, e));
}

void be_batch_abort(struct backend *b)
{
	DISPATCH(b, nft_batch_abort(b->nft), ips_batch_abort(b->ips));
}

int be_get_elems(struct backend *b, const struct target *t, size_t count, bool *present,
		 uint64_t *remaining_ms, struct ipb_err *e)
{
	return DISPATCH(b, nft_get_elems(b->nft, t, count, present, remaining_ms, e),
			ips_get_elems(b->ips, t, count, present, remaining_ms, e));
}

int be_dump_set(struct backend *b, unsigned family, unsigned plen, be_elem_cb cb, void *arg,
		struct ipb_err *e)
{
	return DISPATCH(b, nft_dump_set(b->nft, family, plen, cb, arg, e),
			ips_dump_set(b->ips, family, plen, cb, arg, e));
}

int be_get_counters(struct backend *b, uint64_t *packets, uint64_t *bytes, struct ipb_err *e)
{
	if (b->kind == IPB_BACKEND_IPSET) {
		*packets = *bytes = 0; /* the host's iptables rules count, not ipbanset's */
		return 0;
	}
	return nft_get_counters(b->nft, packets, bytes, e);
}

int be_check_table_name(const struct config *cfg, struct ipb_err *e)
{
	if (cfg->backend == IPB_BACKEND_IPSET && strlen(cfg->table) > IPS_TABLE_MAX)
		return ipb_seterr(e, "table name '%s' is too long for ipset set names (at most %d "
				     "characters)",
				  cfg->table, IPS_TABLE_MAX),
		       -EINVAL;
	return 0;
}

int be_print_rules(const struct config *cfg, FILE *out, struct ipb_err *e)
{
	if (cfg->backend != IPB_BACKEND_IPSET)
		return ipb_seterr(e, "only for the ipset backend (with nftables, ipbanset's table "
				     "holds its own rules)"),
		       -EOPNOTSUPP;
	return ips_print_rules(cfg, out, e);
}

struct be_mon {
	struct nft_mon *nft; /* NULL with ipset */
};

int be_mon_open(struct be_mon **mp, const struct config *cfg, struct ipb_err *e)
{
	struct be_mon *m = calloc(1, sizeof(*m));
	int r;

	*mp = NULL;
	if (!m)
		return ipb_seterr(e, "out of memory"), -ENOMEM;
	if (cfg->backend != IPB_BACKEND_IPSET && (r = nft_mon_open(&m->nft, cfg->table, e))) {
		free(m);
		return r;
	}
	*mp = m;
	return 0;
}

void be_mon_close(struct be_mon *m)
{
	if (!m)
		return;
	if (m->nft)
		nft_mon_close(m->nft);
	free(m);
}

int be_mon_fd(const struct be_mon *m)
{
	return m->nft ? nft_mon_fd(m->nft) : -1;
}

int be_mon_read(struct be_mon *m, struct be_mon_events *ev)
{
	struct nft_mon_events nev = { 0 };
	int r = m->nft ? nft_mon_read(m->nft, &nev) : 0;

	*ev = (struct be_mon_events){ nev.own, nev.foreign, nev.lost };
	return r;
}
