// SPDX-License-Identifier: GPL-2.0-only
/* /etc/ipbanset/ipbanset.conf: "key = value" lines, '#' comments. Pure parse + file load. */
#ifndef IPBANSET_CONFIG_H
#define IPBANSET_CONFIG_H

#include <limits.h>
#include "addr.h"

#define IPB_DEFAULT_CONFIG "/etc/ipbanset/ipbanset.conf"
#define IPB_DEFAULT_DB "/var/lib/ipbanset/ipbanset.db"
#define IPB_DEFAULT_TABLE "ipbanset"
#define IPB_NAME_MAX 32 /* table and source names: [A-Za-z0-9_.-], 1..31 chars */

enum ipb_hook { IPB_HOOK_INPUT, IPB_HOOK_PREROUTING };
enum ipb_verdict { IPB_VERDICT_DROP, IPB_VERDICT_REJECT };
enum ipb_backend { IPB_BACKEND_NFT, IPB_BACKEND_IPSET };
enum ipb_self { IPB_SELF_WARN, IPB_SELF_REFUSE }; /* a ban that covers the host's own address */
#define IPB_DEFAULT_MAXELEM 1048576 /* ipset: elements per set */
#define IPB_MAXELEM_MAX 2147483647

#define IPB_DEFAULT_BATCH_ELEMENTS 100000 /* the kernel's hash set grows between transactions */
#define IPB_DEFAULT_REFRESH_MIN 1000	  /* fewer changes: delete and re-add, no probe */
#define IPB_DEFAULT_IPSET_SWAP_MIN 1000	  /* fewer changes: never rebuild an ipset set */

struct config {
	char table[IPB_NAME_MAX];
	char db[PATH_MAX];
	int64_t default_timeout; /* seconds; 0 = permanent; built-in 3600 */
	enum ipb_hook hook;	 /* built-in input */
	bool hook_set, verdict_set; /* written in the file (not built-in) */
	int priority;		 /* built-in -10 (input) / -300 (prerouting) */
	bool priority_set;
	enum ipb_verdict verdict; /* built-in drop */
	struct target_list allow; /* from config; 127.0.0.0/8 and ::1 are added by config_defaults */
	unsigned ipv6_prefix;	  /* 1..128, built-in 128 */
	unsigned history_days;	  /* built-in 90; 0 keeps history forever */
	size_t history_max_rows;  /* history size cap, built-in 1000000; 0 = no cap */
	enum ipb_backend backend; /* built-in nftables */
	uint32_t maxelem;	  /* ipset sets' maxelem, built-in IPB_DEFAULT_MAXELEM */
	enum ipb_self protect_self; /* built-in warn */
	/* Tuning, from the environment only (config_tuning_from_env); for tests and
	 * benchmarks, see tests/README.md. */
	struct tuning {
		size_t batch_elements; /* IPBANSET_BATCH_ELEMENTS: per kernel transaction */
		size_t refresh_min;    /* IPBANSET_REFRESH_MIN: extend in place from this many */
		size_t ipset_swap_min; /* IPBANSET_IPSET_SWAP_MIN: rebuild at this many changes */
		bool ipset_swap_forced; /* ... whatever the set holds (set in the environment) */
	} tuning;
};

int config_defaults(struct config *c); /* -ENOMEM */
/* The tuning knobs from the environment, over their defaults; read once, by main. */
void config_tuning_from_env(struct config *c);
void config_free(struct config *c);

/* Parse a whole config text. name is used in messages: "NAME:LINE: unknown key 'x'".
 * Keys: table db default_timeout hook priority verdict allow ipv6_prefix history_days
 * history_max_rows backend maxelem protect_self. allow takes targets separated by spaces or commas and may repeat.
 * Returns 0 or -EINVAL. */
int config_parse(const char *name, const char *text, struct config *c, struct ipb_err *e);

/* Load a file. A missing file is fine (-ENOENT returned, defaults kept) unless explicit,
 * then -ENOENT is an error the caller reports. A file that group/other can write, or
 * that is not a regular file, gives -EPERM (exit 4). Bad content -EINVAL (exit 2). */
int config_load(const char *path, bool explicit_path, struct config *c, struct ipb_err *e);

bool config_valid_name(const char *s); /* table/source name check */

#endif
