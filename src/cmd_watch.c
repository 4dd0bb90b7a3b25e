// SPDX-License-Identifier: GPL-2.0-only
/* watch: a small daemon that puts the bans back when someone else removes them (a
 * firewall reload, "nft flush ruleset"), and records expiries in the history. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ipbanset.h"

#define WATCH_SETTLE_MS 150 /* let the rest of a reload arrive before repairing */
#define WATCH_RETRY_MIN_S 1
#define WATCH_RETRY_MAX_S 60

/* A failed repair is tried again on its own: waiting for the next event would leave
 * every ban unenforced after a refused start-up reconcile, and ipset sends no events. */
struct watch_retry {
	int64_t at_ms; /* 0: nothing to retry */
	unsigned delay_s;
};

static volatile sig_atomic_t watch_stop;

static void watch_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static void watch_signals(void)
{
	struct sigaction sa = { .sa_handler = watch_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void watch_clock(struct ctx *c)
{
	c->now_ms = ipb_now_ms();
	c->now = c->now_ms / 1000;
}

/* After lost events: is the structure that the journal needs still there? Element-level
 * drift in that window is left to the reconcile timer or status --verify. */
static bool watch_structure_intact(struct ctx *c)
{
	uint64_t counts[PLAN_NSETS];
	struct be_layout l;
	struct journal *j = NULL;
	struct backend *n = NULL;
	struct ipb_err e;
	bool ok = false;
	unsigned i;

	if (open_journal(c, &j, false) || be_open(&n, &c->cfg, &e) ||
	    be_get_layout(n, &l, &e) || journal_set_counts(j, c->now, counts, &e))
		goto out;
	ok = l.table && l.chain;
	for (i = 0; ok && i < PLAN_NSETS; i++)
		if (counts[i] && (!l.set[i] || !l.rule[i]))
			ok = false;
out:
	be_close(n);
	journal_close(j);
	return ok;
}

/* Reconcile; after a failure, schedule the next try 1 s later, then twice as long each
 * time up to a minute; a success ends the backoff. */
static void watch_reconcile(struct ctx *c, struct watch_retry *rt, const char *why)
{
	int r;

	ipb_info(c, "watch: %s; reconciling", why);
	watch_clock(c);
	r = cmd_reconcile(c);
	if (!r) {
		if (rt->at_ms)
			ipb_info(c, "watch: reconcile succeeded; the bans are enforced again");
		*rt = (struct watch_retry){ 0 };
		return;
	}
	rt->delay_s = rt->delay_s ? rt->delay_s * 2 : WATCH_RETRY_MIN_S;
	if (rt->delay_s > WATCH_RETRY_MAX_S)
		rt->delay_s = WATCH_RETRY_MAX_S;
	rt->at_ms = ipb_now_ms() + (int64_t)rt->delay_s * 1000;
	ipb_error("watch: reconcile failed (exit %d); retrying in %u s", r, rt->delay_s);
}

/* Expired bans become "expire" events in the history (gc), every interval. */
static void watch_tick(struct ctx *c)
{
	bool quiet = c->quiet;

	watch_clock(c);
	c->quiet = true;
	if (cmd_gc(c))
		ipb_error("watch: gc failed; retrying at the next tick");
	c->quiet = quiet;
}

static int watch_wait(struct be_mon *m, int timeout_ms)
{
	struct pollfd p = { .fd = be_mon_fd(m), .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);

	if (r < 0 && errno != EINTR)
		return -errno;
	return r > 0;
}

static int watch_loop(struct ctx *c, struct be_mon *m, struct watch_retry *rt)
{
	int64_t next_tick = ipb_now_ms() + c->interval * 1000;
	struct be_mon_events ev;
	int r;

	while (!watch_stop) {
		int64_t now = ipb_now_ms(), wait = next_tick - now;

		if (rt->at_ms && rt->at_ms <= now) {
			watch_reconcile(c, rt, "retrying the failed reconcile");
			continue;
		}
		if (wait <= 0) {
			watch_tick(c);
			next_tick = ipb_now_ms() + c->interval * 1000;
			continue;
		}
		if (rt->at_ms && rt->at_ms - now < wait)
			wait = rt->at_ms - now;
		if ((r = watch_wait(m, (int)wait)) < 0)
			return ipb_error("watch: poll: %s", strerror(-r)), IPB_EXIT_SYSTEM;
		if (r == 0)
			continue;
		/* one reload is many transactions: gather them, then repair once */
		if ((r = watch_wait(m, WATCH_SETTLE_MS)) < 0 || (r = be_mon_read(m, &ev)) < 0)
			return ipb_error("watch: reading the kernel's events: %s", strerror(-r)),
			       IPB_EXIT_SYSTEM;
		if (ev.foreign)
			watch_reconcile(c, rt, "table changed by another program");
		else if (ev.lost && !watch_structure_intact(c))
			watch_reconcile(c, rt, "events were lost and the table is incomplete");
	}
	return 0;
}

int cmd_watch(struct ctx *c)
{
	struct watch_retry rt = { 0 };
	struct be_mon *m;
	struct ipb_err e;
	int r;

	if (c->dry_run)
		return ipb_error("watch: --dry-run does not apply"), IPB_EXIT_USAGE;
	if (c->json)
		return ipb_error("watch: --json does not apply"), IPB_EXIT_USAGE;
	if (!c->interval)
		c->interval = 60;
	setvbuf(stdout, NULL, _IOLBF, 0); /* a log, read while it runs */
	watch_signals();
	/* listen first, so a change during the first repair is not missed */
	if ((r = be_mon_open(&m, &c->cfg, &e)))
		return ipb_error("%s", e.msg), IPB_EXIT_SYSTEM;
	watch_reconcile(c, &rt, "starting");
	if (!rt.at_ms)
		watch_tick(c);
	r = watch_loop(c, m, &rt);
	be_mon_close(m);
	if (!r)
		ipb_info(c, "watch: stopped");
	return r;
}
