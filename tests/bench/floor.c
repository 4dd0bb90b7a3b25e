// SPDX-License-Identifier: GPL-2.0-only
/* floor: the kernel floor for loading IPv4 bans into an nftables hash set.
 *
 * A minimal libmnl + libnftnl loader, written only for the benchmarks: it shares no
 * code with ipbanset, keeps no journal and attaches no comments (unless -c), so its
 * time is what the kernel needs to take the elements, and the gap between it and
 * ipbanset is ipbanset's own cost.
 *
 * It creates "table inet floor" with the hash set "s" (type ipv4_addr; flags timeout)
 * or, with -p, "s24" holding the network addresses of disjoint /24 prefixes (the
 * layout ipbanset uses for /24 bans), and adds N elements with timeout 1h, in one
 * transaction or in -t TX of them. Run it in a fresh network namespace.
 *
 *   floor [-n N] [-t TX] [-s] [-p] [-c COMMENT] [-f FILE] [-v]
 *
 * Prints the seconds from opening the socket to the last acknowledgement.
 *
 * Build: gcc -O2 -o floor floor.c $(pkg-config --cflags --libs libmnl libnftnl)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#define TABLE "floor"
#define TIMEOUT_MS 3600000ULL
#define TYPE_IPADDR 7 /* nft's datatype id for ipv4_addr */
#define GEN_BASE 0x64400000u /* 100.64.0.0 */
#define COMMENT_MAX 128

/* One element list is one attribute, and an attribute length is 16 bits: keep each
 * list below 64 KiB. An element with a timeout is 28 bytes; with a comment, more. */
#define ELEM_LIST_MAX 65000
#define MSG_ROOM (ELEM_LIST_MAX + 4096)

struct opts {
	size_t n;
	unsigned tx;
	bool size_hint;
	bool net24;
	bool verbose;
	const char *file;
	const char *comment;
};

struct buf {
	char *p;
	size_t len, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: floor [-n N] [-t TX] [-s] [-p] [-c COMMENT] [-f FILE] [-v]\n"
			"  -n N        number of elements (default 10000; with -f: all of the file's, or its first N)\n"
			"  -t TX       number of transactions (default 1)\n"
			"  -s          set size hint = N\n"
			"  -p          /24 prefixes into set s24 (network addresses) instead of addresses into s\n"
			"  -c COMMENT  attach a comment to every element (as ipbanset does)\n"
			"  -f FILE     addresses or prefixes, one per line (first word; # comments)\n"
			"  -v          report elements, transactions and messages on stderr\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ input */

static uint32_t *read_file(const char *path, size_t max, bool net24, size_t *count)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n = 0, cap = 1024, lineno = 0, linecap = 0;
	uint32_t *a = malloc(cap * sizeof(*a));
	char *line = NULL;

	if (!f)
		die(path);
	if (!a)
		die("malloc");
	while (getline(&line, &linecap, f) > 0 && (!max || n < max)) {
		char *w = line + strspn(line, " \t");
		struct in_addr in;

		lineno++;
		w[strcspn(w, " \t\r\n#;/")] = '\0';
		if (!*w)
			continue;
		if (inet_pton(AF_INET, w, &in) != 1) {
			fprintf(stderr, "floor: %s:%zu: invalid address '%s'\n", path, lineno, w);
			exit(2);
		}
		if (n == cap && !(a = realloc(a, (cap *= 2) * sizeof(*a))))
			die("realloc");
		a[n++] = net24 ? in.s_addr & htonl(0xffffff00u) : in.s_addr;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	*count = n;
	return a;
}

static uint32_t *generate(size_t n, bool net24)
{
	uint32_t *a = malloc((n ? n : 1) * sizeof(*a));

	if (!a)
		die("malloc");
	for (size_t i = 0; i < n; i++)
		a[i] = htonl(GEN_BASE + (uint32_t)(net24 ? i << 8 : i));
	return a;
}

/* ------------------------------------------------------------------ batch */

static char *room(struct buf *b)
{
	if (b->cap - b->len < MSG_ROOM) {
		b->cap = b->cap ? b->cap * 2 : 1 << 20;
		if (!(b->p = realloc(b->p, b->cap)))
			die("realloc");
	}
	return b->p + b->len;
}

static struct nlmsghdr *put(struct buf *b, struct nlmsghdr *nlh)
{
	b->len += nlh->nlmsg_len;
	return nlh;
}

static void put_table(struct buf *b, uint32_t seq)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, TABLE);
	nlh = nftnl_nlmsg_build_hdr(room(b), NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	put(b, nlh);
	nftnl_table_free(t);
}

static void put_set(struct buf *b, const char *name, uint32_t size, uint32_t seq)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint32_t));
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	if (size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nlh = nftnl_nlmsg_build_hdr(room(b), NFT_MSG_NEWSET, NFPROTO_INET,
				    NLM_F_CREATE, seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	put(b, nlh);
	nftnl_set_free(s);
}

/* The comment as nft stores it: one userdata TLV holding the string with its NUL. */
static size_t comment_udata(const char *comment, char *out)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(COMMENT_MAX + 8);
	size_t len;

	nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
	len = nftnl_udata_buf_len(u);
	memcpy(out, nftnl_udata_buf_data(u), len);
	nftnl_udata_buf_free(u);
	return len;
}

/* One NEWSETELEM message with as many of a[*i..end) as fit below ELEM_LIST_MAX.
 * Built with raw attributes: libnftnl's element objects would add an allocation
 * per element to what is meant to be the floor. */
static void put_elems(struct buf *b, const char *set, const uint32_t *a, size_t *i,
		      size_t end, const char *ud, size_t udlen, uint32_t seq)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(room(b), NFT_MSG_NEWSETELEM,
						     NFPROTO_INET, NLM_F_CREATE, seq);
	struct nlattr *list;
	size_t start;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	start = nlh->nlmsg_len;
	for (; *i < end && nlh->nlmsg_len - start + 64 + udlen < ELEM_LIST_MAX; (*i)++) {
		struct nlattr *e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		struct nlattr *k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);

		mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(a[*i]), &a[*i]);
		mnl_attr_nest_end(nlh, k);
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(TIMEOUT_MS));
		if (udlen)
			mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, udlen, ud);
		mnl_attr_nest_end(nlh, e);
	}
	mnl_attr_nest_end(nlh, list);
	put(b, nlh);
}

/* ------------------------------------------------------------------ socket */

static void force_buffers(struct mnl_socket *nl, size_t sndbuf)
{
	int fd = mnl_socket_get_fd(nl);
	int snd = sndbuf > (1 << 20) ? (int)sndbuf : 1 << 20;
	int rcv = 16 << 20;

	/* The whole batch goes in one sendmsg, which fails unless it fits sk_sndbuf. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		die("SO_SNDBUFFORCE");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		die("SO_RCVBUFFORCE");
}

static struct mnl_socket *open_socket(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int on = 1;

	if (!nl)
		die("mnl_socket_open");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	/* Errors echo only the header of the failed message, not 64 KiB of elements. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof(on));
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof(on));
	return nl;
}

static const char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off = MNL_NLMSG_HDRLEN + sizeof(*err);
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	mnl_attr_for_each(attr, nlh, off - MNL_NLMSG_HDRLEN)
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
			return mnl_attr_get_str(attr);
	return NULL;
}

/* Reads until the acknowledgement of last_seq; any error fails the run. The kernel
 * reports errors whether or not NLM_F_ACK was set, so only the last message asks for
 * an ack: one ack per message overflows the receive buffer at 1M elements. */
static void wait_ack(struct mnl_socket *nl, uint32_t last_seq)
{
	static char rbuf[1 << 20];

	for (;;) {
		int len = (int)mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;

		if (len < 0)
			die("recv");
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
			const char *msg;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (err->error) {
				msg = extack_msg(nlh);
				fprintf(stderr, "floor: kernel: message %u: %s%s%s\n",
					nlh->nlmsg_seq, strerror(-err->error),
					msg ? ": " : "", msg ? msg : "");
				exit(1);
			}
			if (nlh->nlmsg_seq == last_seq)
				return;
		}
	}
}

/* ------------------------------------------------------------------ main */

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .tx = 1 };
	while ((c = getopt(argc, argv, "n:t:spc:f:vh")) != -1) {
		switch (c) {
		case 'n': o->n = strtoull(optarg, NULL, 10); break;
		case 't': o->tx = strtoul(optarg, NULL, 10); break;
		case 's': o->size_hint = true; break;
		case 'p': o->net24 = true; break;
		case 'c': o->comment = optarg; break;
		case 'f': o->file = optarg; break;
		case 'v': o->verbose = true; break;
		default: usage();
		}
	}
	if (optind != argc || o->tx == 0 || (o->comment && strlen(o->comment) >= COMMENT_MAX))
		usage();
	if (!o->file && !o->n)
		o->n = 10000;
}

int main(int argc, char **argv)
{
	static char ud[COMMENT_MAX + 16];
	struct opts o;
	struct buf b = { 0 };
	struct mnl_socket *nl;
	const char *set;
	uint32_t *a, seq = 1;
	size_t n, i = 0, udlen = 0, msgs = 0;
	double t0;

	parse(argc, argv, &o);
	set = o.net24 ? "s24" : "s";
	a = o.file ? read_file(o.file, o.n, o.net24, &n) : generate(n = o.n, o.net24);
	if (o.comment)
		udlen = comment_udata(o.comment, ud);

	t0 = now();
	nl = open_socket();
	for (unsigned t = 0; t < o.tx; t++) {
		size_t end = n * (t + 1) / o.tx, last = 0;
		struct nlmsghdr *nlh;

		b.len = 0;
		put(&b, nftnl_batch_begin(room(&b), seq++));
		if (t == 0) {
			put_table(&b, seq++);
			last = b.len;
			put_set(&b, set, o.size_hint ? (uint32_t)n : 0, seq++);
		}
		while (i < end) {
			last = b.len;
			put_elems(&b, set, a, &i, end, ud, udlen, seq++);
			msgs++;
		}
		if (!last)
			continue; /* nothing for this transaction (N < TX) */
		/* An offset, not a pointer: room() may move the buffer. */
		nlh = (struct nlmsghdr *)(b.p + last);
		nlh->nlmsg_flags |= NLM_F_ACK;
		put(&b, nftnl_batch_end(room(&b), seq++));
		force_buffers(nl, b.len + 4096);
		if (mnl_socket_sendto(nl, b.p, b.len) < 0)
			die("send");
		wait_ack(nl, ((struct nlmsghdr *)(b.p + last))->nlmsg_seq);
	}
	printf("%.4f\n", now() - t0);
	if (o.verbose)
		fprintf(stderr, "floor: %zu elements in %u transactions, %zu messages\n",
			n, o.tx, msgs);
	mnl_socket_close(nl);
	free(b.p);
	free(a);
	return 0;
}
