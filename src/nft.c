// SPDX-License-Identifier: GPL-2.0-only
/* The kernel side: nf_tables over one netlink socket, with libmnl + libnftnl.
 *
 * Batches are built in one growable buffer and sent with one sendmsg: nfnetlink only
 * treats BATCH_BEGIN..END as one transaction when they arrive in the same skb. Only the
 * last message asks for an ACK (errors are reported anyway), so a 1M-element batch does
 * not flood the receive buffer. Element lists are written by hand, without a libnftnl
 * object per element, and split before the 16-bit attribute length overflows.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nft.h"

#define NFT_SOCKBUF (64 << 20)	    /* socket buffers; grown for bigger batches */
#define NFT_RBUF_SIZE (128 << 10)    /* dumps come in <= 32 KiB datagrams */
#define NFT_ELEMLIST_MAX 65000	    /* NFTA_SET_ELEM_LIST_ELEMENTS nla_len is 16 bits */
#define NFT_MSG_ROOM (NFT_ELEMLIST_MAX + 4096) /* ensured before building any message */
#define NFT_GET_WINDOW 256	    /* targeted GETs in flight at once */
#define NFT_TYPE_IPV4_ADDR 7	    /* nft's datatype ids, so `nft list` names the type */
#define NFT_TYPE_IPV6_ADDR 8
#define NFT_BYTEORDER_BIG 2	    /* nft's enum byteorder: BYTEORDER_BIG_ENDIAN */
#define NFT_USERDATA_MAX 256

enum nft_op {
	NFT_OP_ADD_TABLE,
	NFT_OP_DEL_TABLE,
	NFT_OP_ADD_CHAIN,
	NFT_OP_DEL_CHAIN,
	NFT_OP_FLUSH_CHAIN,
	NFT_OP_ADD_SET,
	NFT_OP_DEL_SET,
	NFT_OP_FLUSH_SET,
	NFT_OP_ADD_RULE,
	NFT_OP_DEL_RULE,
	NFT_OP_ADD_ELEMS,
	NFT_OP_DEL_ELEMS,
};

static const char *const nft_op_text[] = {
	[NFT_OP_ADD_TABLE] = "creating table",
	[NFT_OP_DEL_TABLE] = "deleting table",
	[NFT_OP_ADD_CHAIN] = "creating chain " NFT_CHAIN_NAME " in table",
	[NFT_OP_DEL_CHAIN] = "deleting chain " NFT_CHAIN_NAME " in table",
	[NFT_OP_FLUSH_CHAIN] = "deleting the rules of chain " NFT_CHAIN_NAME " in table",
	[NFT_OP_ADD_SET] = "creating set",
	[NFT_OP_DEL_SET] = "deleting set",
	[NFT_OP_FLUSH_SET] = "flushing set",
	[NFT_OP_ADD_RULE] = "adding the rule for set",
	[NFT_OP_DEL_RULE] = "deleting rule",
	[NFT_OP_ADD_ELEMS] = "adding elements to set",
	[NFT_OP_DEL_ELEMS] = "deleting elements from set",
};

/* One queued batch message, kept to explain a kernel error about it. */
struct nft_msg {
	size_t off;	 /* of its nlmsghdr in the batch buffer */
	size_t tag;	 /* tag of its first element, SIZE_MAX if it has none */
	uint64_t handle; /* NFT_OP_DEL_RULE */
	uint8_t op, family, plen;
};

/* The probe's table is ours plus this: '/' is in no table name ipbanset accepts, so it
 * is never another instance's table. */
#define NFT_PROBE_SUFFIX "/probe"

struct nft {
	struct mnl_socket *nl;
	uint32_t seq;
	char table[IPB_NAME_MAX + sizeof(NFT_PROBE_SUFFIX)];
	char *rbuf;
	/* the batch being built: BATCH_BEGIN at offset 0, then msgs[] */
	char *buf;
	size_t len, cap;
	struct nft_msg *msgs;
	size_t nmsgs, msgcap;
	bool started, oom;
	uint32_t next_set_id;
	uint32_t set_id[PLAN_NSETS]; /* NFTA_SET_ID of sets created in this batch */
	uint64_t owner; /* journal id written into the table's marker (0: none) */
};

/* ---- small helpers ---- */

static unsigned nft_addrlen(unsigned family)
{
	return family == 4 ? 4 : 16;
}

static const char *nft_set_name(unsigned family, unsigned plen, char *buf, size_t len)
{
	return plan_set_name(family, plen, buf, len);
}

/* Bytes of comment kept: at most BE_COMMENT_MAX - 1, cut at a UTF-8 boundary. */
static size_t nft_comment_len(const char *c)
{
	size_t len;

	if (!c)
		return 0;
	len = strnlen(c, BE_COMMENT_MAX);
	if (len < BE_COMMENT_MAX)
		return len;
	len = BE_COMMENT_MAX - 1;
	while (len > 0 && ((unsigned char)c[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/* Appends one nftnl_udata TLV (type, len, value) to buf. */
static size_t nft_udata_put(uint8_t *buf, size_t off, uint8_t type, const void *v, size_t len)
{
	buf[off] = type;
	buf[off + 1] = (uint8_t)len;
	memcpy(buf + off + 2, v, len);
	return off + 2 + len;
}

/* A string TLV with its NUL, the way nft stores comments. */
static size_t nft_udata_strz(uint8_t *buf, uint8_t type, const char *s, size_t len)
{
	buf[0] = type;
	buf[1] = (uint8_t)(len + 1);
	memcpy(buf + 2, s, len);
	buf[2 + len] = 0;
	return 3 + len;
}

static void nft_prefix_mask(unsigned family, unsigned plen, uint8_t *mask)
{
	unsigned i, alen = nft_addrlen(family);

	for (i = 0; i < alen; i++) {
		if (plen >= 8 * (i + 1))
			mask[i] = 0xff;
		else if (plen > 8 * i)
			mask[i] = (uint8_t)(0xff << (8 - (plen - 8 * i)));
		else
			mask[i] = 0;
	}
}

static bool nft_seq_in(uint32_t seq, uint32_t first, uint32_t last)
{
	return seq - first <= last - first;
}

/* ---- opening ---- */

/* SO_*BUFFORCE needs CAP_NET_ADMIN; without it the plain option is still worth having. */
static void nft_set_sockbuf(int fd, int force, int plain, size_t size)
{
	int v = size > INT_MAX / 2 ? INT_MAX / 2 : (int)size;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}

static int nft_socket_setup(struct nft *n, struct ipb_err *e)
{
	int fd, one = 1;

	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl) {
		ipb_seterr(e, "cannot open netfilter netlink socket: %s", strerror(errno));
		return -errno;
	}
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ipb_seterr(e, "cannot bind netfilter netlink socket: %s", strerror(errno));
		return -errno;
	}
	fd = mnl_socket_get_fd(n->nl);
	/* extack gives the kernel's reason; CAP_ACK keeps error replies small */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nft_set_sockbuf(fd, SO_SNDBUFFORCE, SO_SNDBUF, NFT_SOCKBUF);
	nft_set_sockbuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, NFT_SOCKBUF);
	return 0;
}

static int nft_genid(struct nft *n, uint32_t *genid, const char *what, struct ipb_err *e);

int nft_open(struct nft **np, const char *table, struct ipb_err *e)
{
	struct nft *n;
	uint32_t genid;
	int err;

	*np = NULL;
	if (strlen(table) >= IPB_NAME_MAX) {
		ipb_seterr(e, "table name too long: '%s'", table);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->rbuf = malloc(NFT_RBUF_SIZE))) {
		free(n);
		ipb_seterr(e, "out of memory");
		return -ENOMEM;
	}
	strcpy(n->table, table);
	n->seq = (uint32_t)time(NULL);
	err = nft_socket_setup(n, e);
	/* every nfnetlink request needs CAP_NET_ADMIN: find out now, not mid-command */
	if (!err)
		err = nft_genid(n, &genid, "cannot use nf_tables", e);
	if (err) {
		nft_close(n);
		return err;
	}
	*np = n;
	return 0;
}

void nft_close(struct nft *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n->rbuf);
	free(n->buf);
	free(n->msgs);
	free(n);
}

/* ---- receiving ---- */

/* Reading the replies to requests numbered first..last. fn returns 1 for more, 0 when
 * the exchange is complete. */
struct nft_rx {
	uint32_t first, last;
	int (*fn)(struct nft_rx *rx, const struct nlmsghdr *nlh);
	void *arg;
	bool nonblock; /* drain what is queued, then stop */
	bool intr;     /* a dump saw the ruleset change under it */
};

/* Replies from requests abandoned earlier (a dump cut short) fall outside first..last
 * and are skipped. Returns 0 or -errno (ENOBUFS: replies were lost). */
static int nft_receive(struct nft *n, struct nft_rx *rx)
{
	int fd = mnl_socket_get_fd(n->nl);
	bool more = true;

	while (more) {
		ssize_t len = recv(fd, n->rbuf, NFT_RBUF_SIZE, rx->nonblock ? MSG_DONTWAIT : 0);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)n->rbuf;
		int rem = (int)len;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (rx->nonblock && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (!nft_seq_in(nlh->nlmsg_seq, rx->first, rx->last))
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				rx->intr = true;
			if (rx->fn(rx, nlh) == 0) {
				more = false;
				break;
			}
		}
	}
	return 0;
}

/* An NLMSG_ERROR: its errno (0 = ack), extack text and bad-attribute offset. */
struct nft_ack {
	int err;
	const char *msg;
	uint32_t off;
	bool has_off;
};

static int nft_ack_attr_cb(const struct nlattr *a, void *data)
{
	struct nft_ack *ack = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		ack->msg = mnl_attr_get_str(a);
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS && mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
		ack->off = mnl_attr_get_u32(a);
		ack->has_off = true;
	}
	return MNL_CB_OK;
}

static void nft_parse_ack(const struct nlmsghdr *nlh, struct nft_ack *ack)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*err);

	memset(ack, 0, sizeof(*ack));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
		ack->err = -EBADMSG;
		return;
	}
	ack->err = err->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* without NLM_F_CAPPED the whole request is echoed before the TLVs */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off < mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, (unsigned)off, nft_ack_attr_cb, ack);
}

/* Error text: "<what>: <strerror> (kernel: <extack>)", with a hint for EPERM. */
static void nft_seterr(struct ipb_err *e, int err, const char *what, const char *extack)
{
	const char *hint = err == -EPERM ? " (need root or CAP_NET_ADMIN)" : "";

	if (extack && *extack)
		ipb_seterr(e, "%s: %s%s (kernel: %s)", what, strerror(-err), hint, extack);
	else
		ipb_seterr(e, "%s: %s%s", what, strerror(-err), hint);
}

/* ---- single requests and dumps ---- */

typedef int (*nft_reply_cb)(const struct nlmsghdr *nlh, void *arg);

struct nft_req {
	nft_reply_cb cb;
	void *arg;
	int err;    /* kernel's answer */
	int cb_err; /* first error from cb: later replies are read but not passed on */
	char extack[256];
};

static int nft_req_fn(struct nft_rx *rx, const struct nlmsghdr *nlh)
{
	struct nft_req *req = rx->arg;
	struct nft_ack ack;

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		nft_parse_ack(nlh, &ack);
		req->err = ack.err;
		if (ack.msg)
			snprintf(req->extack, sizeof(req->extack), "%s", ack.msg);
		return 0;
	case NLMSG_DONE:
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
			req->err = *(const int *)mnl_nlmsg_get_payload(nlh);
		return 0;
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return 1;
	}
	if (!req->cb_err && req->cb)
		req->cb_err = req->cb(nlh, req->arg);
	return 1;
}

/* Sends one request built in buf and passes each reply to cb. A plain GET asks for an
 * ACK so that the exchange always ends with an NLMSG_ERROR; a dump ends with DONE. */
static int nft_request(struct nft *n, struct nlmsghdr *nlh, nft_reply_cb cb, void *arg,
		       const char *what, struct ipb_err *e)
{
	struct nft_req req = { .cb = cb, .arg = arg };
	struct nft_rx rx = { .fn = nft_req_fn, .arg = &req };
	int err;

	nlh->nlmsg_seq = ++n->seq;
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	rx.first = rx.last = nlh->nlmsg_seq;
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		nft_seterr(e, err, what, NULL);
		return err;
	}
	err = nft_receive(n, &rx);
	if (!err)
		err = req.err;
	if (err) {
		nft_seterr(e, err, what, req.extack);
		return err;
	}
	if (req.cb_err < 0) { /* a positive value only stopped the callbacks */
		nft_seterr(e, req.cb_err, what, NULL);
		return req.cb_err;
	}
	if (rx.intr) {
		ipb_seterr(e, "%s: the ruleset changed during the dump; try again", what);
		return -EAGAIN;
	}
	return 0;
}

/* ---- generation id ---- */

static int nft_gen_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(uint32_t *)arg = ntohl(mnl_attr_get_u32(a));
	}
	return 0;
}

static int nft_genid(struct nft *n, uint32_t *genid, const char *what, struct ipb_err *e)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, 0);

	*genid = 0;
	return nft_request(n, nlh, nft_gen_cb, genid, what, e);
}

int nft_get_genid(struct nft *n, uint32_t *genid, struct ipb_err *e)
{
	return nft_genid(n, genid, "reading the ruleset generation", e);
}

/* ---- layout ---- */

/* The comment TLV of a table's userdata, as nft stores it ("" when there is none). */
static void nft_table_comment(const struct nftnl_table *t, char *buf, size_t len)
{
	uint32_t ulen = 0, off = 0;
	const uint8_t *ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &ulen);

	buf[0] = 0;
	while (ud && off + 2 <= ulen && off + 2 + ud[off + 1] <= ulen) {
		if (ud[off] == NFTNL_UDATA_TABLE_COMMENT) {
			snprintf(buf, len, "%.*s", (int)strnlen((const char *)ud + off + 2, ud[off + 1]),
				 (const char *)ud + off + 2);
			return;
		}
		off += 2 + ud[off + 1];
	}
}

int nft_parse_marker(const char *comment, uint64_t *owner)
{
	size_t plen = strlen(NFT_MARKER_PREFIX);
	char *end;

	*owner = 0;
	if (strncmp(comment, NFT_MARKER_PREFIX, plen) || strlen(comment) != plen + 16)
		return -EINVAL;
	errno = 0;
	*owner = strtoull(comment + plen, &end, 16);
	return errno || *end || !*owner ? -EINVAL : 0;
}

static int nft_table_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct be_layout *l = arg;
	struct nftnl_table *t = nftnl_table_alloc();
	char comment[NFT_USERDATA_MAX];

	if (!t)
		return -ENOMEM;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return -EBADMSG;
	}
	l->table = true;
	l->table_handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	nft_table_comment(t, comment, sizeof(comment));
	l->table_marked = nft_parse_marker(comment, &l->table_owner) == 0;
	nftnl_table_free(t);
	return 0;
}

static int nft_layout_table(struct nft *n, struct be_layout *l, struct ipb_err *e)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, 0, 0);
	int err;

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, n->table);
	err = nft_request(n, nlh, nft_table_cb, l, "reading table", e);
	return err == -ENOENT ? 0 : err;
}

int nft_get_table_handle(struct nft *n, uint64_t *handle, struct ipb_err *e)
{
	struct be_layout l = { .table = false };
	int err = nft_layout_table(n, &l, e);

	*handle = l.table ? l.table_handle : 0;
	return err;
}

/* Notes the first object of the table that ipbanset did not create, for messages. */
static void nft_foreign(struct be_layout *l, const char *what, const char *name)
{
	if (!l->foreign++)
		snprintf(l->foreign_name, sizeof(l->foreign_name), "%s %s", what, name);
}

/* One of them has the name of an object ipbanset would use: messages name it first. */
static void nft_clash(struct be_layout *l, const char *what, const char *name)
{
	if (!l->clash)
		snprintf(l->foreign_name, sizeof(l->foreign_name), "%s %s", what, name);
	l->clash = true;
}

struct be_layout_arg {
	struct be_layout *l;
	uint64_t packets, bytes; /* counters, for nft_get_counters */
};

/* A set named like ours is ours only with exactly the type and flags ipbanset gives it. */
static bool nft_set_is_ours(const struct nftnl_set *s, unsigned family)
{
	return nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == NFT_SET_TIMEOUT &&
	       nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) ==
		       (family == 4 ? NFT_TYPE_IPV4_ADDR : NFT_TYPE_IPV6_ADDR) &&
	       nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == nft_addrlen(family) &&
	       !nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE) && !nftnl_set_is_set(s, NFTNL_SET_OBJ_TYPE);
}

static int nft_set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct be_layout *l = ((struct be_layout_arg *)arg)->l;
	struct nftnl_set *s = nftnl_set_alloc();
	unsigned family, plen;
	const char *name;

	if (!s)
		return -ENOMEM;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return -EBADMSG;
	}
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	if (name && plan_parse_set_name(name, &family, &plen) == 0 && nft_set_is_ours(s, family)) {
		l->set[plan_set_index(family, plen)] = true;
	} else {
		nft_foreign(l, "set", name ? name : "?");
		if (name && plan_parse_set_name(name, &family, &plen) == 0)
			nft_clash(l, "set", name);
	}
	nftnl_set_free(s);
	return 0;
}

static int nft_layout_sets(struct nft *n, struct be_layout_arg *la, struct ipb_err *e)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, 0);

	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, n->table);
	return nft_request(n, nlh, nft_set_cb, la, "listing sets", e);
}

struct nft_chain_arg {
	struct be_layout *l;
	const char *table;
};

/* Our chain is the base filter chain named NFT_CHAIN_NAME; any other is not ours. */
static int nft_chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nft_chain_arg *ca = arg;
	struct be_layout *l = ca->l;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *name, *table, *type;

	if (!c)
		return -ENOMEM;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		return -EBADMSG;
	}
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
	if (!table || strcmp(table, ca->table)) {
		/* an older kernel's dump is not filtered by table */
	} else if (name && !strcmp(name, NFT_CHAIN_NAME) && type && !strcmp(type, "filter") &&
		   nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		l->chain = true;
		l->chain_hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
		l->chain_priority = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
		l->chain_policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
					  ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
					  : NF_ACCEPT;
	} else {
		nft_foreign(l, "chain", name ? name : "?");
		if (!l->foreign_chains++)
			snprintf(l->foreign_chain, sizeof(l->foreign_chain), "%s", name ? name : "?");
		if (name && !strcmp(name, NFT_CHAIN_NAME))
			nft_clash(l, "chain", name);
	}
	nftnl_chain_free(c);
	return 0;
}

static int nft_layout_chains(struct nft *n, struct be_layout *l, struct ipb_err *e)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, 0);
	struct nft_chain_arg ca = { .l = l, .table = n->table };

	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, n->table);
	return nft_request(n, nlh, nft_chain_cb, &ca, "listing chains", e);
}

/* What one of our rules says: which set it looks up, its verdict, its counter. */
struct nft_rule_info {
	char set[NFT_USERDATA_MAX];
	char comment[NFT_USERDATA_MAX];
	bool reject;
	uint64_t packets, bytes;
};

static int nft_rule_expr_cb(struct nftnl_expr *x, void *arg)
{
	struct nft_rule_info *ri = arg;
	const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);
	const char *set;

	if (!name)
		return MNL_CB_OK;
	if (!strcmp(name, "lookup") && (set = nftnl_expr_get_str(x, NFTNL_EXPR_LOOKUP_SET)))
		snprintf(ri->set, sizeof(ri->set), "%s", set);
	else if (!strcmp(name, "reject"))
		ri->reject = true;
	else if (!strcmp(name, "counter")) {
		ri->packets += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_PACKETS);
		ri->bytes += nftnl_expr_get_u64(x, NFTNL_EXPR_CTR_BYTES);
	}
	return MNL_CB_OK;
}

static void nft_rule_comment(const struct nftnl_rule *r, struct nft_rule_info *ri)
{
	uint32_t len = 0;
	const uint8_t *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	uint32_t off = 0;

	while (ud && off + 2 <= len && off + 2 + ud[off + 1] <= len) {
		if (ud[off] == NFTNL_UDATA_RULE_COMMENT && ud[off + 1] > 0) {
			snprintf(ri->comment, sizeof(ri->comment), "%.*s", (int)ud[off + 1],
				 (const char *)ud + off + 2);
			return;
		}
		off += 2 + ud[off + 1];
	}
}

static bool nft_rule_exact(const struct nftnl_rule *r, unsigned family, unsigned plen,
			   bool reject);

static void nft_foreign_rule(struct be_layout *l, uint64_t handle)
{
	char name[64];

	snprintf(name, sizeof(name), "handle %llu in chain " NFT_CHAIN_NAME,
		 (unsigned long long)handle);
	nft_foreign(l, "rule", name);
	l->foreign_rules++;
}

/* Records a rule against the set it matches: the lookup's set name, else the comment. */
static void nft_layout_rule(struct be_layout *l, const struct nftnl_rule *r,
			    const struct nft_rule_info *ri)
{
	uint64_t handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	unsigned family, plen, i;

	if ((!ri->set[0] || plan_parse_set_name(ri->set, &family, &plen) != 0) &&
	    (!ri->comment[0] || plan_parse_set_name(ri->comment, &family, &plen) != 0)) {
		nft_foreign_rule(l, handle);
		return;
	}
	i = plan_set_index(family, plen);
	if (l->rule[i]) { /* a duplicate: the first one stands for the set */
		nft_foreign_rule(l, handle);
		return;
	}
	l->rule[i] = true;
	l->rule_handle[i] = handle;
	l->rule_reject[i] = ri->reject;
	l->rule_exact[i] = nft_rule_exact(r, family, plen, ri->reject);
}

static int nft_rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct be_layout_arg *la = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nft_rule_info ri = { 0 };

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		return -EBADMSG;
	}
	nftnl_expr_foreach(r, nft_rule_expr_cb, &ri);
	nft_rule_comment(r, &ri);
	la->packets += ri.packets;
	la->bytes += ri.bytes;
	if (la->l)
		nft_layout_rule(la->l, r, &ri);
	nftnl_rule_free(r);
	return 0;
}

static int nft_dump_rules(struct nft *n, struct be_layout_arg *la, struct ipb_err *e)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, 0);

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, n->table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, NFT_CHAIN_NAME);
	return nft_request(n, nlh, nft_rule_cb, la, "listing rules", e);
}

int nft_get_layout(struct nft *n, struct be_layout *l, struct ipb_err *e)
{
	struct be_layout_arg la = { .l = l };
	int err;

	memset(l, 0, sizeof(*l));
	err = nft_layout_table(n, l, e);
	if (err || !l->table)
		return err;
	err = nft_layout_sets(n, &la, e);
	if (!err)
		err = nft_layout_chains(n, l, e);
	if (!err && l->chain)
		err = nft_dump_rules(n, &la, e);
	return err;
}

int nft_get_counters(struct nft *n, uint64_t *packets, uint64_t *bytes, struct ipb_err *e)
{
	struct be_layout_arg la = { .l = NULL };
	int err = nft_dump_rules(n, &la, e);

	*packets = la.packets;
	*bytes = la.bytes;
	return err;
}

/* ---- parsing element lists (targeted GETs and dumps) ---- */

struct be_elem_info {
	const uint8_t *key;
	size_t keylen;
	uint64_t remaining_ms; /* 0 = permanent */
	char comment[BE_COMMENT_MAX];
};

static void nft_elem_comment(const struct nlattr *a, struct be_elem_info *ei)
{
	const uint8_t *ud = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a), off = 0, clen;

	while (off + 2 <= len && off + 2 + ud[off + 1] <= len) {
		if (ud[off] == NFTNL_UDATA_SET_ELEM_COMMENT) {
			clen = strnlen((const char *)ud + off + 2, ud[off + 1]);
			if (clen >= sizeof(ei->comment))
				clen = sizeof(ei->comment) - 1;
			memcpy(ei->comment, ud + off + 2, clen);
			ei->comment[clen] = 0;
			return;
		}
		off += 2 + ud[off + 1];
	}
}

static void nft_elem_key(const struct nlattr *key, struct be_elem_info *ei)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, key) {
		if (mnl_attr_get_type(a) == NFTA_DATA_VALUE) {
			ei->key = mnl_attr_get_payload(a);
			ei->keylen = mnl_attr_get_payload_len(a);
		}
	}
}

static void nft_parse_elem(const struct nlattr *elem, struct be_elem_info *ei)
{
	const struct nlattr *a;
	uint64_t ms;

	ei->key = NULL;
	ei->keylen = 0;
	ei->remaining_ms = 0;
	ei->comment[0] = 0;
	mnl_attr_for_each_nested(a, elem) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			nft_elem_key(a, ei);
			break;
		case NFTA_SET_ELEM_EXPIRATION:
			if (mnl_attr_validate(a, MNL_TYPE_U64) == 0) {
				ms = be64toh(mnl_attr_get_u64(a));
				/* 0 means permanent to our callers; an element about to expire is not */
				ei->remaining_ms = ms ? ms : 1;
			}
			break;
		case NFTA_SET_ELEM_USERDATA:
			nft_elem_comment(a, ei);
			break;
		}
	}
}

typedef int (*nft_elem_fn)(void *arg, const struct be_elem_info *ei);

/* Calls fn for each element of a NEWSETELEM message; stops at fn's first error. */
static int nft_parse_elems(const struct nlmsghdr *nlh, nft_elem_fn fn, void *arg)
{
	const struct nlattr *list, *a;
	struct be_elem_info ei;
	int err;

	mnl_attr_for_each(list, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(a, list) {
			if (mnl_attr_get_type(a) != NFTA_LIST_ELEM)
				continue;
			nft_parse_elem(a, &ei);
			if (!ei.key)
				continue;
			err = fn(arg, &ei);
			if (err)
				return err;
		}
	}
	return 0;
}

/* ---- building element messages ---- */

/* full: with timeout and comment (an add); refresh: with the expiration too, which
 * makes a kernel that updates elements in place (6.12 on) set this element's expiry
 * even when its timeout is the same number as before. */
static void nft_put_elem(struct nlmsghdr *nlh, const struct be_elem *el, bool full, bool refresh)
{
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	struct nlattr *key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	uint8_t ud[2 + BE_COMMENT_MAX];
	size_t clen;

	mnl_attr_put(nlh, NFTA_DATA_VALUE, target_addrlen(&el->t), el->t.addr);
	mnl_attr_nest_end(nlh, key);
	if (full && el->timeout_ms)
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(el->timeout_ms));
	if (full && refresh && el->timeout_ms)
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION, htobe64(el->timeout_ms));
	clen = full ? nft_comment_len(el->comment) : 0;
	if (clen)
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA,
			     nft_udata_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, el->comment, clen), ud);
	mnl_attr_nest_end(nlh, elem);
}

/* Exactly what nft_put_elem writes, so chunks are cut by size. */
static size_t nft_elem_size(const struct be_elem *el, bool full, bool refresh)
{
	size_t size = 3 * MNL_ATTR_HDRLEN + MNL_ALIGN(target_addrlen(&el->t));
	size_t clen = full ? nft_comment_len(el->comment) : 0;

	if (full && el->timeout_ms)
		size += (refresh ? 2 : 1) * (MNL_ATTR_HDRLEN + sizeof(uint64_t));
	if (clen)
		size += MNL_ATTR_HDRLEN + MNL_ALIGN(3 + clen);
	return size;
}

/* How many of elems (at least one) fit in one element-list attribute. */
static size_t nft_elems_chunk(const struct be_elem *elems, size_t count, bool full, bool refresh)
{
	size_t i, size = MNL_ATTR_HDRLEN;

	for (i = 0; i < count; i++) {
		size += nft_elem_size(&elems[i], full, refresh);
		if (size > NFT_ELEMLIST_MAX)
			break;
	}
	return i ? i : 1;
}

/* ---- the batch ---- */

static void nft_reset(struct nft *n)
{
	n->len = 0;
	n->nmsgs = 0;
	n->started = false;
	n->oom = false;
	memset(n->set_id, 0, sizeof(n->set_id));
}

/* Room for the next message, zeroed: libmnl leaves attribute padding unwritten, and
 * stale heap bytes must never be sent. Only that room is zeroed, not the whole growth:
 * a batch of a million elements doubles the buffer to 128 MiB, and zeroing it all made
 * every page of it resident. */
static bool nft_reserve(struct nft *n, size_t more)
{
	size_t cap = n->cap ? n->cap : (1 << 20);
	char *buf;

	if (n->len + more > n->cap) {
		while (cap < n->len + more)
			cap *= 2;
		buf = realloc(n->buf, cap);
		if (!buf)
			return false;
		n->buf = buf;
		n->cap = cap;
	}
	memset(n->buf + n->len, 0, more);
	return true;
}

void nft_batch_begin(struct nft *n)
{
	nft_reset(n);
	n->started = true;
	if (!nft_reserve(n, NFT_MSG_ROOM)) {
		n->oom = true;
		return;
	}
	/* sequence numbers are written at commit time */
	n->len = nftnl_batch_begin(n->buf, 0)->nlmsg_len;
}

/* Starts one batch message of the given kind; NULL after an allocation failure (which
 * commit reports). The caller fills it, then calls nft_msg_end. */
static struct nlmsghdr *nft_msg_start(struct nft *n, uint16_t type, uint16_t flags,
				      enum nft_op op, unsigned family, unsigned plen)
{
	struct nft_msg *m;

	if (!n->started)
		nft_batch_begin(n);
	if (n->oom)
		return NULL;
	if (n->nmsgs == n->msgcap) {
		size_t cap = n->msgcap ? 2 * n->msgcap : 64;

		m = realloc(n->msgs, cap * sizeof(*m));
		if (!m)
			goto oom;
		n->msgs = m;
		n->msgcap = cap;
	}
	if (!nft_reserve(n, NFT_MSG_ROOM))
		goto oom;
	m = &n->msgs[n->nmsgs];
	*m = (struct nft_msg){ .off = n->len, .tag = SIZE_MAX, .op = (uint8_t)op,
			       .family = (uint8_t)family, .plen = (uint8_t)plen };
	return nftnl_nlmsg_build_hdr(n->buf + n->len, type, NFPROTO_INET, flags, 0);
oom:
	n->oom = true;
	return NULL;
}

static void nft_msg_end(struct nft *n, struct nlmsghdr *nlh)
{
	n->len += nlh->nlmsg_len;
	n->nmsgs++;
}

/* A message whose payload is just table [+ name attribute]. */
static void nft_batch_simple(struct nft *n, uint16_t type, uint16_t flags, enum nft_op op,
			     uint16_t table_attr, uint16_t name_attr, const char *name)
{
	struct nlmsghdr *nlh = nft_msg_start(n, type, flags, op, 0, 0);

	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, table_attr, n->table);
	if (name)
		mnl_attr_put_strz(nlh, name_attr, name);
	nft_msg_end(n, nlh);
}

void nft_set_owner(struct nft *n, uint64_t owner)
{
	n->owner = owner;
}

/* The table is new: NLM_F_EXCL, so that one someone else made since the layout was read
 * is never taken over (the kernel ignores userdata on an existing table). */
void nft_batch_add_table(struct nft *n)
{
	struct nlmsghdr *nlh = nft_msg_start(n, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
					     NFT_OP_ADD_TABLE, 0, 0);
	uint8_t ud[2 + NFT_USERDATA_MAX];
	char marker[64];

	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, n->table);
	if (n->owner) {
		snprintf(marker, sizeof(marker), NFT_MARKER_PREFIX "%016llx",
			 (unsigned long long)n->owner);
		mnl_attr_put(nlh, NFTA_TABLE_USERDATA,
			     nft_udata_strz(ud, NFTNL_UDATA_TABLE_COMMENT, marker, strlen(marker)), ud);
	}
	nft_msg_end(n, nlh);
}

void nft_batch_del_table(struct nft *n, uint64_t handle)
{
	struct nlmsghdr *nlh = nft_msg_start(n, NFT_MSG_DELTABLE, 0, NFT_OP_DEL_TABLE, 0, 0);

	if (!nlh)
		return;
	if (handle)
		mnl_attr_put_u64(nlh, NFTA_TABLE_HANDLE, htobe64(handle));
	else
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, n->table);
	nft_msg_end(n, nlh);
}

void nft_batch_del_chain(struct nft *n)
{
	nft_batch_simple(n, NFT_MSG_DELCHAIN, 0, NFT_OP_DEL_CHAIN, NFTA_CHAIN_TABLE,
			 NFTA_CHAIN_NAME, NFT_CHAIN_NAME);
}

/* DELRULE without a handle deletes every rule of the chain. */
void nft_batch_flush_chain(struct nft *n)
{
	nft_batch_simple(n, NFT_MSG_DELRULE, 0, NFT_OP_FLUSH_CHAIN, NFTA_RULE_TABLE,
			 NFTA_RULE_CHAIN, NFT_CHAIN_NAME);
}

void nft_batch_add_chain(struct nft *n, enum ipb_hook hook, int priority)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c) {
		n->oom = true;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFT_CHAIN_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM,
			    hook == IPB_HOOK_PREROUTING ? NF_INET_PRE_ROUTING : NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, priority);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nft_msg_start(n, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFT_OP_ADD_CHAIN, 0, 0);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nft_msg_end(n, nlh);
	}
	nftnl_chain_free(c);
}

void nft_batch_add_set(struct nft *n, unsigned family, unsigned plen, uint32_t size_hint)
{
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t order = NFT_BYTEORDER_BIG, id = ++n->next_set_id;
	uint8_t ud[8];
	char name[PLAN_SETNAME_MAX];
	struct nlmsghdr *nlh;

	if (!s) {
		n->oom = true;
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, nft_set_name(family, plen, name, sizeof(name)));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, family == 4 ? NFT_TYPE_IPV4_ADDR : NFT_TYPE_IPV6_ADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, nft_addrlen(family));
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	if (size_hint)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size_hint);
	/* nft prints the key as addresses only when told its byte order */
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, ud,
			   (uint32_t)nft_udata_put(ud, 0, NFTNL_UDATA_SET_KEYBYTEORDER, &order, 4));
	nlh = nft_msg_start(n, NFT_MSG_NEWSET, NLM_F_CREATE, NFT_OP_ADD_SET, family, plen);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nft_msg_end(n, nlh);
		n->set_id[plan_set_index(family, plen)] = id;
	}
	nftnl_set_free(s);
}

static void nft_batch_set_msg(struct nft *n, uint16_t type, enum nft_op op, uint16_t table_attr,
			      uint16_t name_attr, unsigned family, unsigned plen)
{
	struct nlmsghdr *nlh = nft_msg_start(n, type, 0, op, family, plen);
	char name[PLAN_SETNAME_MAX];

	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, table_attr, n->table);
	mnl_attr_put_strz(nlh, name_attr, nft_set_name(family, plen, name, sizeof(name)));
	nft_msg_end(n, nlh);
}

void nft_batch_del_set(struct nft *n, unsigned family, unsigned plen)
{
	nft_batch_set_msg(n, NFT_MSG_DELSET, NFT_OP_DEL_SET, NFTA_SET_TABLE, NFTA_SET_NAME,
			  family, plen);
}

/* DELSETELEM without an element list flushes the set. */
void nft_batch_flush_set(struct nft *n, unsigned family, unsigned plen)
{
	nft_batch_set_msg(n, NFT_MSG_DELSETELEM, NFT_OP_FLUSH_SET, NFTA_SET_ELEM_LIST_TABLE,
			  NFTA_SET_ELEM_LIST_SET, family, plen);
}

/* ---- rules ---- */

static bool nft_rule_push(struct nftnl_rule *r, struct nftnl_expr *x)
{
	if (!x)
		return false;
	nftnl_rule_add_expr(r, x);
	return true;
}

/* meta nfproto == family; payload saddr -> reg1 */
static bool nft_rule_match_saddr(struct nftnl_rule *r, unsigned family)
{
	struct nftnl_expr *meta = nftnl_expr_alloc("meta");
	struct nftnl_expr *cmp = nftnl_expr_alloc("cmp");
	struct nftnl_expr *pl = nftnl_expr_alloc("payload");
	uint8_t proto = family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

	if (meta) {
		nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, NFT_META_NFPROTO);
		nftnl_expr_set_u32(meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	if (cmp) {
		nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &proto, sizeof(proto));
	}
	if (pl) {
		nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_OFFSET, family == 4 ? 12 : 8);
		nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_LEN, nft_addrlen(family));
		nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return nft_rule_push(r, meta) & nft_rule_push(r, cmp) & nft_rule_push(r, pl);
}

/* reg1 &= prefix mask; not needed for full-length sets */
static bool nft_rule_mask(struct nftnl_rule *r, unsigned family, unsigned plen)
{
	uint8_t mask[16], zero[16] = { 0 };
	uint32_t alen = nft_addrlen(family);
	struct nftnl_expr *bw;

	if (plen == 8 * alen)
		return true;
	bw = nftnl_expr_alloc("bitwise");
	if (!bw)
		return false;
	nft_prefix_mask(family, plen, mask);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, alen);
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, mask, alen);
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, zero, alen);
	return nft_rule_push(r, bw);
}

/* lookup reg1 @set; counter; drop or reject */
static bool nft_rule_action(struct nftnl_rule *r, const char *set, uint32_t set_id,
			    enum ipb_verdict v)
{
	struct nftnl_expr *lk = nftnl_expr_alloc("lookup");
	struct nftnl_expr *ctr = nftnl_expr_alloc("counter");
	struct nftnl_expr *act = nftnl_expr_alloc(v == IPB_VERDICT_REJECT ? "reject" : "immediate");

	if (lk) {
		nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(lk, NFTNL_EXPR_LOOKUP_SET, set);
		if (set_id) /* the set is created in this same batch */
			nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	}
	if (act && v == IPB_VERDICT_REJECT) {
		nftnl_expr_set_u32(act, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
		/* port unreachable: TCP clients see "connection refused" at once, as with nft's reject */
		nftnl_expr_set_u8(act, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
	} else if (act) {
		nftnl_expr_set_u32(act, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(act, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	}
	return nft_rule_push(r, lk) & nft_rule_push(r, ctr) & nft_rule_push(r, act);
}

static struct nftnl_rule *nft_rule_new(struct nft *n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFT_CHAIN_NAME);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

/* An attribute that one of two expressions lacks must be zero in the other (the kernel
 * lists a lookup's flags, a bitwise's operation even when they are 0). */
static bool nft_attr_same(const struct nftnl_expr *a, const struct nftnl_expr *b, uint16_t type)
{
	uint32_t alen = 0, blen = 0;
	const uint8_t *x = nftnl_expr_get(a, type, &alen), *y = nftnl_expr_get(b, type, &blen);

	if (x && y)
		return alen == blen && !memcmp(x, y, alen);
	if (y) {
		x = y;
		alen = blen;
	}
	while (x && alen)
		if (x[--alen])
			return false;
	return true;
}

/* Same name and attributes; a counter's values count packets, they do not match them. */
static bool nft_expr_same(const struct nftnl_expr *want, const struct nftnl_expr *have)
{
	const char *name = nftnl_expr_get_str(want, NFTNL_EXPR_NAME);
	const char *other = nftnl_expr_get_str(have, NFTNL_EXPR_NAME);
	uint16_t t;

	if (!name || !other || strcmp(name, other))
		return false;
	if (!strcmp(name, "counter"))
		return true;
	for (t = NFTNL_EXPR_BASE; t < NFTNL_EXPR_BASE + 16; t++)
		if (!nft_attr_same(want, have, t))
			return false;
	return true;
}

/* Is r, expression by expression, the rule nft_batch_add_rule makes for this set? */
static bool nft_rule_exact(const struct nftnl_rule *r, unsigned family, unsigned plen,
			   bool reject)
{
	enum ipb_verdict v = reject ? IPB_VERDICT_REJECT : IPB_VERDICT_DROP;
	struct nftnl_rule *want = nftnl_rule_alloc();
	struct nftnl_expr_iter *wi = NULL, *hi = NULL;
	struct nftnl_expr *w = NULL, *h = NULL;
	char name[PLAN_SETNAME_MAX];
	bool same = false;

	nft_set_name(family, plen, name, sizeof(name));
	if (!want || !nft_rule_match_saddr(want, family) || !nft_rule_mask(want, family, plen) ||
	    !nft_rule_action(want, name, 0, v))
		goto out;
	wi = nftnl_expr_iter_create(want);
	hi = nftnl_expr_iter_create(r);
	if (!wi || !hi)
		goto out;
	do {
		w = nftnl_expr_iter_next(wi);
		h = nftnl_expr_iter_next(hi);
	} while (w && h && nft_expr_same(w, h));
	same = !w && !h;
out:
	if (wi)
		nftnl_expr_iter_destroy(wi);
	if (hi)
		nftnl_expr_iter_destroy(hi);
	if (want)
		nftnl_rule_free(want);
	return same;
}

void nft_batch_add_rule(struct nft *n, unsigned family, unsigned plen, enum ipb_verdict v)
{
	struct nftnl_rule *r = nft_rule_new(n);
	char name[PLAN_SETNAME_MAX];
	uint8_t ud[2 + PLAN_SETNAME_MAX];
	struct nlmsghdr *nlh;
	bool ok;

	nft_set_name(family, plen, name, sizeof(name));
	ok = r && nft_rule_match_saddr(r, family) && nft_rule_mask(r, family, plen) &&
	     nft_rule_action(r, name, n->set_id[plan_set_index(family, plen)], v);
	if (!ok) {
		n->oom = true;
		if (r)
			nftnl_rule_free(r);
		return;
	}
	/* the comment names the set, so the rule is found by the set it serves */
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, ud,
			    (uint32_t)nft_udata_strz(ud, NFTNL_UDATA_RULE_COMMENT, name, strlen(name)));
	nlh = nft_msg_start(n, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFT_OP_ADD_RULE,
			    family, plen);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nft_msg_end(n, nlh);
	}
	nftnl_rule_free(r);
}

void nft_batch_del_rule(struct nft *n, uint64_t handle)
{
	struct nftnl_rule *r = nft_rule_new(n);
	struct nlmsghdr *nlh;

	if (!r) {
		n->oom = true;
		return;
	}
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = nft_msg_start(n, NFT_MSG_DELRULE, 0, NFT_OP_DEL_RULE, 0, 0);
	if (nlh) {
		n->msgs[n->nmsgs].handle = handle;
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nft_msg_end(n, nlh);
	}
	nftnl_rule_free(r);
}

/* ---- elements ---- */

static void nft_batch_elems_msg(struct nft *n, uint16_t type, uint16_t flags,
				const struct be_elem *elems, size_t count, size_t tag, bool full,
				bool refresh)
{
	unsigned family = elems[0].t.family, plen = elems[0].t.plen;
	enum nft_op op = type == NFT_MSG_NEWSETELEM ? NFT_OP_ADD_ELEMS : NFT_OP_DEL_ELEMS;
	struct nlmsghdr *nlh = nft_msg_start(n, type, flags, op, family, plen);
	uint32_t set_id = n->set_id[plan_set_index(family, plen)];
	char name[PLAN_SETNAME_MAX];
	struct nlattr *list;
	size_t i;

	if (!nlh)
		return;
	n->msgs[n->nmsgs].tag = tag;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, n->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nft_set_name(family, plen, name, sizeof(name)));
	if (set_id)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (i = 0; i < count; i++)
		nft_put_elem(nlh, &elems[i], full, refresh);
	mnl_attr_nest_end(nlh, list);
	nft_msg_end(n, nlh);
}

/* Splits elems into messages; with both set, each chunk is added then deleted. */
static void nft_batch_elems(struct nft *n, const struct be_elem *elems, size_t count,
			    size_t tag, bool add, bool del, bool refresh)
{
	size_t done = 0, chunk;

	while (done < count) {
		/* deleting needs only keys, and the add before a delete only makes it exist */
		chunk = nft_elems_chunk(elems + done, count - done, !del, refresh);
		if (add)
			nft_batch_elems_msg(n, NFT_MSG_NEWSETELEM, NLM_F_CREATE, elems + done,
					    chunk, tag + done, !del, refresh);
		if (del)
			nft_batch_elems_msg(n, NFT_MSG_DELSETELEM, 0, elems + done, chunk,
					    tag + done, false, false);
		done += chunk;
	}
}

void nft_batch_add_elems(struct nft *n, const struct be_elem *elems, size_t count, size_t tag)
{
	nft_batch_elems(n, elems, count, tag, true, false, false);
}

void nft_batch_refresh_elems(struct nft *n, const struct be_elem *elems, size_t count,
			     size_t tag)
{
	nft_batch_elems(n, elems, count, tag, true, false, true);
}

void nft_batch_del_elems(struct nft *n, const struct be_elem *elems, size_t count, size_t tag)
{
	nft_batch_elems(n, elems, count, tag, false, true, false);
}

void nft_batch_del_elems_any(struct nft *n, const struct be_elem *elems, size_t count,
			     size_t tag)
{
	nft_batch_elems(n, elems, count, tag, true, true, false);
}

size_t nft_batch_size(const struct nft *n)
{
	return n->nmsgs;
}

void nft_batch_abort(struct nft *n)
{
	nft_reset(n);
}

/* ---- commit ---- */

struct nft_commit {
	struct nft *n;
	uint32_t seq0; /* BATCH_BEGIN; message i is seq0 + 1 + i */
	bool acked;    /* the last message's ACK came */
	int err;
	uint32_t err_seq;
	struct nft_ack ack;
	char extack[256];
};

static int nft_commit_fn(struct nft_rx *rx, const struct nlmsghdr *nlh)
{
	struct nft_commit *c = rx->arg;
	struct nft_ack ack;

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 1;
	nft_parse_ack(nlh, &ack);
	if (ack.err == 0) {
		c->acked |= nlh->nlmsg_seq == rx->last;
		return !c->acked || c->err;
	}
	if (!c->err) {
		c->err = ack.err;
		c->err_seq = nlh->nlmsg_seq;
		c->ack = ack;
		snprintf(c->extack, sizeof(c->extack), "%s", ack.msg ? ack.msg : "");
	}
	/* the kernel queued every reply during sendmsg: drain them, then stop */
	rx->nonblock = true;
	return 1;
}

/* Which element of message m the kernel's bad-attribute offset points into. */
static size_t nft_bad_elem(const struct nft *n, const struct nft_msg *m, uint32_t off)
{
	const struct nlmsghdr *nlh = (const void *)(n->buf + m->off);
	const struct nlattr *list, *a;
	size_t i = 0, pos;

	mnl_attr_for_each(list, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(a, list) {
			pos = (size_t)((const char *)a - (const char *)nlh);
			if (off >= pos && off < pos + a->nla_len)
				return m->tag + i;
			i++;
		}
	}
	return m->tag; /* about the message as a whole: the set, say */
}

static void nft_commit_error(struct nft *n, const struct nft_commit *c, size_t *bad_tag,
			     struct ipb_err *e)
{
	size_t i = c->err_seq - c->seq0 - 1;
	char what[160], name[PLAN_SETNAME_MAX];
	const struct nft_msg *m;

	if (c->err_seq == c->seq0 || i >= n->nmsgs) {
		nft_seterr(e, c->err, "applying the ruleset change", c->extack);
		return;
	}
	m = &n->msgs[i];
	if (m->tag != SIZE_MAX)
		*bad_tag = c->ack.has_off ? nft_bad_elem(n, m, c->ack.off) : m->tag;
	if (m->op == NFT_OP_DEL_RULE)
		snprintf(what, sizeof(what), "%s %llu in table inet %s", nft_op_text[m->op],
			 (unsigned long long)m->handle, n->table);
	else if (m->op >= NFT_OP_ADD_SET)
		snprintf(what, sizeof(what), "%s %s in table inet %s", nft_op_text[m->op],
			 nft_set_name(m->family, m->plen, name, sizeof(name)), n->table);
	else
		snprintf(what, sizeof(what), "%s inet %s", nft_op_text[m->op], n->table);
	nft_seterr(e, c->err, what, c->extack);
}

/* Writes sequence numbers, BATCH_END and the one ACK request. */
static uint32_t nft_batch_seal(struct nft *n)
{
	uint32_t seq0 = n->seq + 1;
	size_t i;

	((struct nlmsghdr *)n->buf)->nlmsg_seq = seq0;
	for (i = 0; i < n->nmsgs; i++)
		((struct nlmsghdr *)(n->buf + n->msgs[i].off))->nlmsg_seq = seq0 + 1 + (uint32_t)i;
	((struct nlmsghdr *)(n->buf + n->msgs[n->nmsgs - 1].off))->nlmsg_flags |= NLM_F_ACK;
	n->len += nftnl_batch_end(n->buf + n->len, seq0 + 1 + (uint32_t)n->nmsgs)->nlmsg_len;
	n->seq = seq0 + 1 + (uint32_t)n->nmsgs;
	return seq0;
}

/* The whole batch goes in one datagram, which must fit the send buffer. */
static int nft_batch_send(struct nft *n, struct ipb_err *e)
{
	int fd = mnl_socket_get_fd(n->nl), cur = 0;
	socklen_t sl = sizeof(cur);

	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl);
	if (cur < 0 || (size_t)cur < n->len + (1 << 16))
		nft_set_sockbuf(fd, SO_SNDBUFFORCE, SO_SNDBUF, n->len + (1 << 20));
	if (mnl_socket_sendto(n->nl, n->buf, n->len) < 0) {
		int err = -errno;

		ipb_seterr(e, "sending a %zu-byte batch of %zu messages: %s", n->len, n->nmsgs,
			   strerror(-err));
		return err;
	}
	return 0;
}

int nft_batch_commit(struct nft *n, size_t *bad_tag, struct ipb_err *e)
{
	struct nft_commit c = { .n = n };
	struct nft_rx rx = { .fn = nft_commit_fn, .arg = &c };
	int err;

	*bad_tag = SIZE_MAX;
	if (n->oom) {
		nft_reset(n);
		ipb_seterr(e, "out of memory building the batch");
		return -ENOMEM;
	}
	if (n->nmsgs == 0) {
		nft_reset(n);
		return 0;
	}
	c.seq0 = nft_batch_seal(n);
	rx.first = c.seq0;
	rx.last = c.seq0 + (uint32_t)n->nmsgs;
	err = nft_batch_send(n, e);
	while (!err) {
		err = nft_receive(n, &rx);
		if (err != -ENOBUFS)
			break;
		/* replies were lost: keep draining, but the outcome is unknown */
		if (!c.err)
			c.err = -ENOBUFS, c.err_seq = c.seq0;
		rx.nonblock = true;
		err = 0;
	}
	if (err)
		nft_seterr(e, err, "reading the kernel's answer", NULL);
	else if (c.err)
		nft_commit_error(n, &c, bad_tag, e);
	else if (!c.acked)
		ipb_seterr(e, "the kernel did not acknowledge the batch");
	err = err ? err : c.err ? c.err : c.acked ? 0 : -EIO;
	nft_reset(n);
	return err;
}

/* ---- targeted element GETs ---- */

struct nft_get {
	const struct target *t;
	bool *present;
	uint64_t *remaining_ms;
	uint32_t first;
	size_t base, answered, want;
	int err;
	char extack[256];
};

struct nft_get_one {
	struct nft_get *g;
	size_t i;
};

static int nft_get_elem_fn(void *arg, const struct be_elem_info *ei)
{
	struct nft_get_one *one = arg;
	const struct target *t = &one->g->t[one->i];

	if (ei->keylen != target_addrlen(t) || memcmp(ei->key, t->addr, ei->keylen))
		return 0;
	one->g->present[one->i] = true;
	if (one->g->remaining_ms)
		one->g->remaining_ms[one->i] = ei->remaining_ms;
	return 0;
}

static int nft_get_fn(struct nft_rx *rx, const struct nlmsghdr *nlh)
{
	struct nft_get *g = rx->arg;
	struct nft_get_one one = { g, g->base + (nlh->nlmsg_seq - g->first) };
	struct nft_ack ack;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		nft_parse_ack(nlh, &ack);
		/* ENOENT: no such element, set or table; all mean "not there" */
		if (ack.err && ack.err != -ENOENT && !g->err) {
			g->err = ack.err;
			snprintf(g->extack, sizeof(g->extack), "%s", ack.msg ? ack.msg : "");
		}
	} else if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWSETELEM) {
		nft_parse_elems(nlh, nft_get_elem_fn, &one);
	} else {
		return 1;
	}
	return ++g->answered < g->want;
}

/* One GETSETELEM (no NLM_F_DUMP) holding one key: answered by the element or ENOENT. */
static void nft_put_get(struct nft *n, char *buf, const struct target *t, uint32_t seq)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, 0, seq);
	struct be_elem el = { .t = *t };
	char name[PLAN_SETNAME_MAX];
	struct nlattr *list;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, n->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nft_set_name(t->family, t->plen, name, sizeof(name)));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	nft_put_elem(nlh, &el, false, false);
	mnl_attr_nest_end(nlh, list);
}

#define NFT_GET_MSG_MAX 128 /* bytes one targeted GET takes, rounded up */

static int nft_get_window(struct nft *n, struct nft_get *g, char *buf, size_t count)
{
	struct nft_rx rx = { .fn = nft_get_fn, .arg = g };
	size_t i, len = 0;
	int err;

	g->first = n->seq + 1;
	g->answered = 0;
	g->want = count;
	for (i = 0; i < count; i++) {
		nft_put_get(n, buf + len, &g->t[g->base + i], ++n->seq);
		len += ((struct nlmsghdr *)(buf + len))->nlmsg_len;
	}
	rx.first = g->first;
	rx.last = n->seq;
	if (mnl_socket_sendto(n->nl, buf, len) < 0)
		return -errno;
	err = nft_receive(n, &rx);
	return err;
}

int nft_get_elems(struct nft *n, const struct target *t, size_t count, bool *present,
		  uint64_t *remaining_ms, struct ipb_err *e)
{
	struct nft_get g = { .t = t, .present = present, .remaining_ms = remaining_ms };
	char *buf = calloc(NFT_GET_WINDOW, NFT_GET_MSG_MAX);
	size_t chunk;
	int err = 0;

	if (!buf) {
		ipb_seterr(e, "out of memory");
		return -ENOMEM;
	}
	memset(present, 0, count * sizeof(*present));
	if (remaining_ms)
		memset(remaining_ms, 0, count * sizeof(*remaining_ms));
	for (g.base = 0; g.base < count && !err && !g.err; g.base += chunk) {
		chunk = count - g.base < NFT_GET_WINDOW ? count - g.base : NFT_GET_WINDOW;
		err = nft_get_window(n, &g, buf, chunk);
	}
	free(buf);
	err = err ? err : g.err;
	if (err)
		nft_seterr(e, err, "looking up set elements", g.extack);
	return err;
}

/* ---- does an add update an existing element's timeout? ---- */

#define NFT_PROBE_MS 3600000 /* the first timeout; the second is twice as long */

/* With n->table naming the probe's table: delete it if it is there (a probe that died
 * leaves it). 0 when it is gone, else -errno. */
static int nft_probe_delete(struct nft *n, unsigned *ntx, struct ipb_err *e)
{
	size_t bad;
	int err;

	nft_batch_begin(n);
	nft_batch_del_table(n, 0);
	err = nft_batch_commit(n, &bad, e);
	if (!err)
		(*ntx)++;
	else if (err == -ENOENT)
		err = 0, e->msg[0] = 0;
	return err;
}

bool nft_probe_refresh(struct nft *n, unsigned *ntx, struct ipb_err *left_behind)
{
	struct be_elem el = { .t = { .family = 4, .plen = 32, .addr = { 192, 0, 2, 1 } },
			       .timeout_ms = NFT_PROBE_MS, .comment = "" };
	char saved[sizeof(n->table)];
	uint64_t left = 0;
	bool present = false, ok = false;
	struct ipb_err e;
	size_t bad;

	left_behind->msg[0] = 0;
	memcpy(saved, n->table, sizeof(saved));
	strcat(n->table, NFT_PROBE_SUFFIX);
	nft_batch_begin(n);
	nft_batch_add_table(n);
	nft_batch_add_set(n, 4, 32, 0);
	nft_batch_add_elems(n, &el, 1, 0);
	if (!nft_batch_commit(n, &bad, &e)) {
		(*ntx)++;
		el.timeout_ms = 2 * NFT_PROBE_MS;
		nft_batch_begin(n);
		nft_batch_refresh_elems(n, &el, 1, 0);
		if (!nft_batch_commit(n, &bad, &e)) {
			(*ntx)++;
			ok = !nft_get_elems(n, &el.t, 1, &present, &left, &e) && present &&
			     left > NFT_PROBE_MS + NFT_PROBE_MS / 2;
		}
	}
	nft_probe_delete(n, ntx, left_behind);
	memcpy(n->table, saved, sizeof(saved));
	return ok;
}

int nft_drop_probe(struct nft *n, unsigned *ntx, struct ipb_err *e)
{
	char saved[sizeof(n->table)];
	int err;

	memcpy(saved, n->table, sizeof(saved));
	strcat(n->table, NFT_PROBE_SUFFIX);
	err = nft_probe_delete(n, ntx, e);
	memcpy(n->table, saved, sizeof(saved));
	return err;
}

/* ---- set dump ---- */

struct nft_dump {
	unsigned family, plen;
	be_elem_cb cb;
	void *arg;
};

static int nft_dump_elem_fn(void *arg, const struct be_elem_info *ei)
{
	struct nft_dump *d = arg;
	struct target t = { .family = (uint8_t)d->family, .plen = (uint8_t)d->plen };

	if (ei->keylen != target_addrlen(&t))
		return -EBADMSG;
	memcpy(t.addr, ei->key, ei->keylen);
	return d->cb(d->arg, &t, ei->remaining_ms, ei->comment[0] ? ei->comment : NULL);
}

static int nft_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	return nft_parse_elems(nlh, nft_dump_elem_fn, arg);
}

int nft_dump_set(struct nft *n, unsigned family, unsigned plen, be_elem_cb cb, void *arg,
		 struct ipb_err *e)
{
	struct nft_dump d = { family, plen, cb, arg };
	char buf[512] = { 0 }, name[PLAN_SETNAME_MAX], what[64];
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, 0);

	nft_set_name(family, plen, name, sizeof(name));
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, n->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	snprintf(what, sizeof(what), "listing set %s", name);
	return nft_request(n, nlh, nft_dump_cb, &d, what, e);
}

/* ---- monitor (watch) ---- */

/* A socket subscribed to NFNLGRP_NFTABLES. Events arrive per transaction: the changes,
 * then NFT_MSG_NEWGEN carrying the committing process's name. */
struct nft_mon {
	struct mnl_socket *nl;
	char table[IPB_NAME_MAX];
	char *rbuf;
	bool ours_touched; /* the transaction being read changed our table */
	struct nft_mon_events ev;
};

int nft_mon_open(struct nft_mon **mp, const char *table, struct ipb_err *e)
{
	struct nft_mon *m;
	int fd, grp = NFNLGRP_NFTABLES;

	*mp = NULL;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->rbuf = malloc(NFT_RBUF_SIZE))) {
		free(m);
		ipb_seterr(e, "out of memory");
		return -ENOMEM;
	}
	snprintf(m->table, sizeof(m->table), "%s", table);
	m->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!m->nl || mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		int err = errno;

		ipb_seterr(e, "cannot listen to nf_tables events: %s", strerror(err));
		nft_mon_close(m);
		return -err;
	}
	fd = mnl_socket_get_fd(m->nl);
	nft_set_sockbuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, NFT_SOCKBUF);
	*mp = m;
	return 0;
}

void nft_mon_close(struct nft_mon *m)
{
	if (!m)
		return;
	if (m->nl)
		mnl_socket_close(m->nl);
	free(m->rbuf);
	free(m);
}

int nft_mon_fd(const struct nft_mon *m)
{
	return mnl_socket_get_fd(m->nl);
}

static int nft_mon_table_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;

	/* NFTA_TABLE_NAME, NFTA_SET_TABLE, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE and
	 * NFTA_SET_ELEM_LIST_TABLE are all attribute 1 */
	if (mnl_attr_get_type(a) == 1 && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int nft_mon_gen_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(a) == NFTA_GEN_PROC_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static void nft_mon_msg(struct nft_mon *m, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const char *name = NULL;
	uint16_t type;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*nfg)))
		return;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type == NFT_MSG_NEWGEN) {
		mnl_attr_parse(nlh, sizeof(*nfg), nft_mon_gen_attr_cb, &name);
		if (m->ours_touched) {
			/* another ipbanset holds the journal lock while it commits: its
			 * changes are the journal's own, never drift */
			if (name && !strcmp(name, "ipbanset"))
				m->ev.own++;
			else
				m->ev.foreign++;
		}
		m->ours_touched = false;
		return;
	}
	switch (type) {
	case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE: case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN: case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE:
	case NFT_MSG_NEWSET: case NFT_MSG_DELSET: case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		break;
	default:
		return;
	}
	if (nfg->nfgen_family != NFPROTO_INET)
		return;
	mnl_attr_parse(nlh, sizeof(*nfg), nft_mon_table_attr_cb, &name);
	if (name && !strcmp(name, m->table))
		m->ours_touched = true;
}

int nft_mon_read(struct nft_mon *m, struct nft_mon_events *ev)
{
	int fd = mnl_socket_get_fd(m->nl);
	ssize_t len;

	memset(&m->ev, 0, sizeof(m->ev));
	for (;;) {
		const struct nlmsghdr *nlh;
		int left;

		len = recv(fd, m->rbuf, NFT_RBUF_SIZE, MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* events were lost: the caller cannot tell whose they were */
				m->ev.lost = true;
				m->ours_touched = false;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		left = (int)len;
		for (nlh = (const struct nlmsghdr *)m->rbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			nft_mon_msg(m, nlh);
	}
	*ev = m->ev;
	return 0;
}
