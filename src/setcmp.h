// SPDX-License-Identifier: GPL-2.0-only
/* Comparing one kernel set with what the journal says it must hold (reconcile, status):
 * pure; the journal's elements and the kernel's dump are fed in by the caller (repair.c). */
#ifndef IPBANSET_SETCMP_H
#define IPBANSET_SETCMP_H

#include "addr.h"

/* Above this many journal elements status does not dump a set but samples it: the
 * kernel's set dump is quadratic (100k: 0.16 s, 1M: 29 s here). reconcile dumps one only
 * when the ruleset changed since ipbanset's last commit. */
#define SETCMP_DUMP_LIMIT 50000
/* Kernel and journal expiries closer than this agree (jiffies rounding, batch time). */
#define SETCMP_SLACK_MS 3000

struct jelem {
	struct target t;
	int64_t expires;
	const char *source, *reason; /* in the setcmp's pools */
};

struct kelem {
	struct target t;
	int64_t expires_ms; /* Unix ms when the kernel lets it go; 0 = permanent */
};

struct setcmp {
	/* timeouts this far apart disagree; 0 = SETCMP_SLACK_MS. reconcile uses half of it
	 * with ipset, whose whole-second timeouts would otherwise leave a repaired element
	 * at the edge of what status accepts */
	int64_t retime_slack_ms;
	struct jelem *j;
	size_t nj, capj;
	struct strpool sources, reasons;
	struct kelem *k;
	size_t nk, capk;
	/* results: indexes into j (missing, retime) and k (unexpected) */
	size_t *missing, nmissing;
	size_t *retime, nretime;
	size_t *unexpected, nunexpected;
};

/* Collects one journal element; source and reason are copied. */
int setcmp_journal_elem(struct setcmp *s, const struct target *t, int64_t expires,
			const char *source, const char *reason);
/* Collects one kernel element (a be_dump_set callback). */
int setcmp_kernel_elem(void *arg, const struct target *t, uint64_t remaining_ms,
		       const char *comment);
/* Compare the journal's elements with the kernel's collected ones (fills the results). */
/* max_ms: the longest timeout the kernel holds (0 = no limit). */
int setcmp_diff(struct setcmp *s, int64_t now_ms, uint64_t max_ms, struct ipb_err *e);
void setcmp_free(struct setcmp *s);


#endif
