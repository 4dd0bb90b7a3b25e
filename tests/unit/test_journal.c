// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for journal.c on a temporary directory (no root needed).
 * "test_journal --bench N" times N bans + events in one transaction and the status
 * queries on the result. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "unit.h"

#define NOW 1800000000LL

static char tmpdir[] = "/tmp/test_journal.XXXXXX";

static char *path_in(const char *name)
{
	static char buf[8][512];
	static unsigned k;
	char *p = buf[k++ % 8];

	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static struct journal *open_ok(const char *path, bool create, bool ro)
{
	struct journal *j = NULL;
	struct ipb_err e = { "" };
	int r = journal_open(&j, path, create, ro, &e);

	if (!CHECK_INT(r, 0))
		fprintf(stderr, "     %s\n", e.msg), exit(1);
	return j;
}

static int put(struct journal *j, const char *target, const char *source, int64_t expires,
	       const char *reason)
{
	struct ban b = { .t = tgt(target), .source = source, .created = NOW - 100,
			 .expires = expires, .reason = reason };
	struct ipb_err e;
	int r = journal_put_ban(j, &b, &e);

	if (r)
		fprintf(stderr, "put %s: %s\n", target, e.msg);
	return r;
}

/* Collects callback rows as "target source expires reason" lines. */
struct rows {
	char text[8192];
	unsigned n;
};

static int collect(void *arg, const struct ban *b)
{
	struct rows *rs = arg;
	size_t len = strlen(rs->text);

	snprintf(rs->text + len, sizeof(rs->text) - len, "%s%s %s %lld %s", rs->n ? "|" : "",
		 fmt(&b->t), b->source, b->expires == IPB_NEVER ? -1LL : (long long)(b->expires - NOW),
		 b->reason ? b->reason : "-");
	rs->n++;
	return 0;
}

/* ---- opening and permissions ---- */

static void test_create_perms(void)
{
	struct journal *j;
	struct stat st;
	mode_t old = umask(0);
	char *p = path_in("a/b/ipb.db");

	j = open_ok(p, true, false);
	umask(old);
	CHECK_STR(journal_path(j), p);
	CHECK(stat(path_in("a"), &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK(stat(path_in("a/b"), &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(path_in("a/b/ipb.db-wal"), &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(journal_size_bytes(j) > 0);
	journal_close(j);
	/* an existing directory keeps its mode */
	mkdir(path_in("open"), 0755);
	j = open_ok(path_in("open/x.db"), true, false);
	CHECK(stat(path_in("open"), &st) == 0 && (st.st_mode & 07777) == 0755);
	journal_close(j);
}

static void test_refusals(void)
{
	struct journal *j = NULL;
	struct ipb_err e = { "" };
	char *p = path_in("a/b/ipb.db");

	CHECK_INT(journal_open(&j, path_in("none/x.db"), false, true, &e), -ENOENT);
	CHECK(j == NULL);
	CHECK(strstr(e.msg, "does not exist"));

	chmod(p, 0620);
	CHECK_INT(journal_open(&j, p, false, false, &e), -EPERM);
	CHECK(strstr(e.msg, p) && strstr(e.msg, "chmod 600"));
	printf("  refused: %s\n", e.msg);
	chmod(p, 0600);

	chmod(path_in("a/b"), 0770);
	CHECK_INT(journal_open(&j, p, false, false, &e), -EPERM);
	CHECK(strstr(e.msg, "directory") && strstr(e.msg, "chmod go-w"));
	printf("  refused: %s\n", e.msg);
	chmod(path_in("a/b"), 0700);

	/* only root can hand a file to someone else; as a user, test what we can */
	if (geteuid() == 0 && chown(p, 12345, 12345) == 0) {
		CHECK_INT(journal_open(&j, p, false, false, &e), -EPERM);
		CHECK(strstr(e.msg, "owned by uid 12345") && strstr(e.msg, "chown"));
		printf("  refused: %s\n", e.msg);
		CHECK(chown(p, 0, 0) == 0);
	}

	CHECK(symlink(p, path_in("link.db")) == 0);
	CHECK_INT(journal_open(&j, path_in("link.db"), false, false, &e), -EPERM);
	CHECK(strstr(e.msg, "symbolic link"));
	CHECK_INT(journal_open(&j, path_in("link.db"), true, false, &e), -EPERM);
	printf("  refused: %s\n", e.msg);
	CHECK(j == NULL);
}

static void test_reopen(void)
{
	char *p = path_in("reopen.db");
	struct journal *j = open_ok(p, true, false);
	struct ipb_err e;
	struct rows rs = { "", 0 };
	int64_t v;
	bool found;

	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(put(j, "192.0.2.1", "manual", NOW + 10, "r"), 0);
	CHECK_INT(journal_meta_set(j, "genid", 42, &e), 0);
	CHECK_INT(journal_commit(j, &e), 0);
	journal_close(j);

	j = open_ok(p, false, true);
	CHECK_INT(journal_bans_live(j, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "192.0.2.1 manual 10 r");
	CHECK_INT(journal_meta_get(j, "genid", &v, &found, &e), 0);
	CHECK(found && v == 42);
	/* a read-only handle never writes */
	CHECK_INT(journal_begin(j, &e), -EPERM);
	{
		struct ban b = { .t = tgt("192.0.2.2"), .source = "manual", .expires = NOW + 10 };

		CHECK_INT(journal_put_ban(j, &b, &e), -EPERM);
		CHECK(strstr(e.msg, "read-only"));
	}
	journal_close(j);
}

/* Overwrite bytes of the closed database file (no WAL left after a clean close). */
static void poke(const char *p, off_t off, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY);

	CHECK(fd >= 0 && pwrite(fd, buf, len, off) == (ssize_t)len);
	close(fd);
}

static void test_version_and_damage(void)
{
	char *p = path_in("ver.db");
	struct journal *j = open_ok(p, true, false);
	static const uint8_t v99[4] = { 0, 0, 0, 99 };
	uint8_t hdr[64];
	struct ipb_err e = { "" };
	struct stat st, st2;
	int fd;

	journal_close(j);
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr));
	close(fd);
	CHECK_INT(hdr[60] << 24 | hdr[61] << 16 | hdr[62] << 8 | hdr[63], 1); /* user_version */

	poke(p, 60, v99, 4);
	CHECK_INT(journal_open(&j, p, false, false, &e), -EIO);
	CHECK(strstr(e.msg, "schema version 99 is newer than this ipbanset supports"));
	printf("  refused: %s\n", e.msg);

	poke(p, 0, "garbage garbage!", 16);
	stat(p, &st);
	CHECK_INT(journal_open(&j, p, true, false, &e), -EBADMSG);
	CHECK(strstr(e.msg, "damaged") && strstr(e.msg, "backup") && strstr(e.msg, p));
	printf("  refused: %s\n", e.msg);
	/* left as it was, not recreated */
	CHECK(stat(p, &st2) == 0 && st2.st_size == st.st_size && st2.st_ino == st.st_ino);
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, hdr, 16, 0) == 16 && !memcmp(hdr, "garbage garbage!", 16));
	close(fd);
}

/* ---- bans ---- */

static void fill(struct journal *j)
{
	struct ipb_err e;

	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(put(j, "10.1.0.0/16", "b", NOW + 500, "wide"), 0);
	CHECK_INT(put(j, "10.0.0.1", "a", NOW + 100, "x"), 0);
	CHECK_INT(put(j, "10.0.0.1", "b", NOW + 300, "y"), 0);
	CHECK_INT(put(j, "10.0.0.1", "c", NOW - 1, "old"), 0);
	CHECK_INT(put(j, "10.0.0.0/8", "b", IPB_NEVER, NULL), 0);
	CHECK_INT(put(j, "10.0.0.0/16", "b", NOW + 50, "n16"), 0);
	CHECK_INT(put(j, "10.0.0.2", "a", NOW + 200, NULL), 0);
	CHECK_INT(put(j, "2001:db8::/48", "a", NOW + 1000, "v6"), 0);
	CHECK_INT(put(j, "2001:db8::1", "b", NOW, "gone"), 0);
	CHECK_INT(journal_commit(j, &e), 0);
}

static void test_bans(void)
{
	struct journal *j = open_ok(path_in("bans.db"), true, false);
	struct target t = tgt("10.0.0.1");
	struct ipb_err e;
	struct rows rs = { "", 0 };

	fill(j);
	CHECK_INT(journal_bans_of_target(j, &t, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.1 a 100 x|10.0.0.1 b 300 y|10.0.0.1 c -1 old");

	/* replace keeps one row per (target, source) */
	CHECK_INT(put(j, "10.0.0.1", "a", NOW + 150, "x2"), 0);
	memset(&rs, 0, sizeof(rs));
	journal_bans_of_target(j, &t, collect, &rs, &e);
	CHECK_STR(rs.text, "10.0.0.1 a 150 x2|10.0.0.1 b 300 y|10.0.0.1 c -1 old");
	CHECK_INT(journal_del_ban(j, &t, "a", &e), 0);
	memset(&rs, 0, sizeof(rs));
	journal_bans_of_target(j, &t, collect, &rs, &e);
	CHECK_STR(rs.text, "10.0.0.1 b 300 y|10.0.0.1 c -1 old");
	CHECK_INT(put(j, "10.0.0.1", "a", NOW + 100, "x"), 0);

	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_bans_live(j, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.0/8 b -1 -|10.0.0.0/16 b 50 n16|10.1.0.0/16 b 500 wide|"
			   "10.0.0.1 a 100 x|10.0.0.1 b 300 y|10.0.0.2 a 200 -|"
			   "2001:db8::/48 a 1000 v6");
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_bans_live(j, NOW, "a", 4, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.1 a 100 x|10.0.0.2 a 200 -");
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_bans_live(j, NOW, NULL, 6, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "2001:db8::/48 a 1000 v6");

	/* target_cmp order: family, address, plen */
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_bans_of_source(j, NOW, "b", false, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.0/8 b -1 -|10.0.0.0/16 b 50 -|10.0.0.1 b 300 -|"
			   "10.1.0.0/16 b 500 -");
	/* and from the other end, for sync's second reader */
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_bans_of_source(j, NOW, "b", true, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.1.0.0/16 b 500 -|10.0.0.1 b 300 -|10.0.0.0/16 b 50 -|"
			   "10.0.0.0/8 b -1 -");
	/* whether another source holds live bans of a family */
	{
		bool shared;

		CHECK_INT(journal_family_shared(j, NOW, "b", 4, &shared, &e), 0);
		CHECK(shared); /* a holds IPv4 bans */
		CHECK_INT(journal_family_shared(j, NOW, "a", 6, &shared, &e), 0);
		CHECK(!shared); /* only a holds IPv6 */
		CHECK_INT(journal_family_shared(j, NOW, "b", 6, &shared, &e), 0);
		CHECK(shared);
		CHECK_INT(journal_family_shared(j, NOW + 100000, "b", 4, &shared, &e), 0);
		CHECK(!shared); /* a's IPv4 bans have all expired by then */
	}
	journal_close(j);
}

/* journal_insert_bans: 64-row statements plus single-row ones for the tail; every row
 * lands with its own expiry and the shared source, created and reason. */
struct bulk {
	struct target t[200];
	int64_t expires[200];
};

static const struct target *bulk_row(void *arg, size_t i, int64_t *expires)
{
	struct bulk *b = arg;

	*expires = b->expires[i];
	return &b->t[i];
}

static int bulk_check_cb(void *arg, const struct ban *b)
{
	struct bulk *want = arg;
	unsigned i = b->t.addr[2] * 256u + b->t.addr[3];

	return i < 200 && b->expires == want->expires[i] && b->created == NOW - 7 &&
	       !strcmp(b->source, "feed") && b->reason && !strcmp(b->reason, "list") ? 0 : 1;
}

static void test_insert_bulk(void)
{
	struct journal *j = open_ok(path_in("bulk.db"), true, false);
	static struct bulk b;
	struct ipb_err e;
	struct rows rs = { "", 0 };
	bool empty;
	char buf[32];
	size_t i, n = 64 * 2 + 5;

	CHECK_INT(journal_is_empty(j, &empty, &e), 0);
	CHECK(empty);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "10.9.%zu.%zu", i / 256, i % 256);
		b.t[i] = tgt(buf);
		b.expires[i] = i % 7 ? NOW + 100 + (int64_t)i : IPB_NEVER;
	}
	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(journal_insert_bans(j, "feed", NOW - 7, "list", n, bulk_row, &b, &e), 0);
	CHECK_INT(journal_commit(j, &e), 0);
	CHECK_INT(journal_is_empty(j, &empty, &e), 0);
	CHECK(!empty);
	CHECK_INT(journal_bans_live(j, NOW, "feed", 4, bulk_check_cb, &b, &e), 0);
	CHECK_INT(journal_bans_live(j, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_INT(rs.n, n);
	/* fewer rows than one statement holds: only the single-row statement */
	CHECK_INT(journal_begin(j, &e), 0);
	b.t[0] = tgt("10.8.0.1"), b.t[1] = tgt("10.8.0.2");
	CHECK_INT(journal_insert_bans(j, "feed", NOW - 7, NULL, 2, bulk_row, &b, &e), 0);
	/* a row that exists already is an error, and the transaction rolls back */
	b.t[0] = tgt("10.9.0.3");
	CHECK(journal_insert_bans(j, "feed", NOW - 7, NULL, 1, bulk_row, &b, &e) < 0);
	journal_rollback(j);
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_bans_live(j, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_INT(rs.n, n);
	journal_close(j);
}

/* ---- deferred deletes and reading ahead, against a model ---- */

/* Targets 0..299 are 10.7.0.0 to 10.7.1.43, 300..309 are /24s: rows of three sources,
 * put, deleted and looked up in a transaction in orders that make long stretches of
 * noted deletes, stretches broken by other sources' rows and by puts, and scattered
 * ones. The model says what every look-up and, after the commit or rollback, the whole
 * table must hold. */
#define MT 310
#define MS 3

struct model {
	int64_t exp[MT][MS]; /* 0 = no row */
};

static const char *const msrc[MS] = { "a", "b", "c" };

static struct target mtarget(unsigned i)
{
	char buf[32];

	if (i < 300)
		snprintf(buf, sizeof(buf), "10.7.%u.%u", i / 256, i % 256);
	else
		snprintf(buf, sizeof(buf), "10.8.%u.0/24", i - 300);
	return tgt(buf);
}

struct mcheck {
	const struct model *m;
	unsigned i, seen;
	bool bad;
};

static int mcheck_cb(void *arg, const struct ban *b)
{
	struct mcheck *c = arg;
	struct target t = mtarget(c->i);
	unsigned k;

	for (k = 0; k < MS && strcmp(msrc[k], b->source); k++)
		;
	if (k == MS || !target_equal(&t, &b->t) || c->m->exp[c->i][k] != b->expires)
		c->bad = true;
	c->seen++;
	return 0;
}

static bool model_lookup(struct journal *j, const struct model *m, unsigned i)
{
	struct mcheck c = { m, i, 0, false };
	struct target t = mtarget(i);
	struct ipb_err e;
	unsigned k, want = 0;

	for (k = 0; k < MS; k++)
		want += m->exp[i][k] != 0;
	if (journal_bans_of_target(j, &t, mcheck_cb, &c, &e))
		return fprintf(stderr, "lookup: %s\n", e.msg), false;
	if (c.bad || c.seen != want)
		fprintf(stderr, "lookup of %s: %u rows, %u wanted%s\n", fmt(&t), c.seen, want,
			c.bad ? ", a wrong one" : "");
	return !c.bad && c.seen == want;
}

static bool model_all(struct journal *j, const struct model *m)
{
	unsigned i;

	for (i = 0; i < MT; i++)
		if (!model_lookup(j, m, i))
			return false;
	return true;
}

static int model_put(struct journal *j, struct model *m, unsigned i, unsigned k, int64_t exp)
{
	struct ban b = { .t = mtarget(i), .source = msrc[k], .created = NOW, .expires = exp };
	struct ipb_err e;

	m->exp[i][k] = exp;
	return journal_put_ban(j, &b, &e);
}

static int model_del(struct journal *j, struct model *m, unsigned i, unsigned k)
{
	struct target t = mtarget(i);
	struct ipb_err e;

	m->exp[i][k] = 0;
	return journal_del_ban(j, &t, msrc[k], &e);
}

static void test_deferred_deletes(void)
{
	struct journal *j = open_ok(path_in("defer.db"), true, false);
	static struct model m, saved;
	struct ipb_err e;
	unsigned i, k, round, seed = 12345;
	int fails = 0;

	CHECK_INT(journal_begin(j, &e), 0);
	for (i = 0; i < MT; i++)
		for (k = 0; k < MS; k++)
			if (k == 0 || (k == 1 && i % 10 == 3) || (k == 2 && i % 37 == 0))
				fails += model_put(j, &m, i, k, NOW + 1000 + i) != 0;
	CHECK_INT(journal_commit(j, &e), 0);
	CHECK_INT(fails, 0);
	CHECK(model_all(j, &m));

	/* a's whole list, in order, with a look-up before each delete (as unban does) */
	CHECK_INT(journal_begin(j, &e), 0);
	for (i = 0; i < MT; i++) {
		fails += !model_lookup(j, &m, i);
		if (i != 150 && i != 151)
			fails += model_del(j, &m, i, 0) != 0;
	}
	/* a row put amid the noted deletes, and a delete of a row that is not there */
	fails += model_put(j, &m, 100, 2, NOW + 5);
	{
		struct target t = mtarget(120);

		fails += journal_del_ban(j, &t, "c", &e) != 0;
	}
	CHECK_INT(fails, 0);
	CHECK(model_all(j, &m)); /* the noted rows are gone for every reader */
	{
		struct rows rs = { "", 0 };
		unsigned want = 0;

		for (i = 0; i < MT; i++)
			for (k = 0; k < MS; k++)
				want += m.exp[i][k] != 0;
		CHECK_INT(journal_bans_live(j, NOW, NULL, 0, collect, &rs, &e), 0);
		CHECK_INT(rs.n, want);
	}
	CHECK_INT(journal_commit(j, &e), 0);
	CHECK(model_all(j, &m));

	/* random rounds, half of them rolled back */
	for (round = 0; round < 40; round++) {
		saved = m;
		CHECK_INT(journal_begin(j, &e), 0);
		for (i = 0; i < 400; i++) {
			unsigned op, t, s;

			seed = seed * 1103515245u + 12345u;
			op = (seed >> 16) % 10;
			t = (seed >> 4) % MT;
			s = (seed >> 24) % MS;
			if (op < 3)
				fails += !model_lookup(j, &m, t);
			else if (op < 5)
				fails += model_put(j, &m, t, s, NOW + round * 1000 + i) != 0;
			else if (op < 6)
				fails += m.exp[t][s] && model_del(j, &m, t, s) != 0;
			else if (op == 9 && round % 4 == 0) {
				/* a run of deletes from t on, every source */
				unsigned u;

				for (u = t; u < MT && u < t + 120; u++)
					for (s = 0; s < MS; s++)
						fails += m.exp[u][s] && model_del(j, &m, u, s) != 0;
			} else {
				/* a few look-ups and deletes in ascending order */
				unsigned u;

				for (u = t; u < MT && u < t + 8; u++) {
					fails += !model_lookup(j, &m, u);
					fails += m.exp[u][s] && model_del(j, &m, u, s) != 0;
				}
			}
		}
		if (round % 2) {
			journal_rollback(j);
			m = saved;
		} else {
			CHECK_INT(journal_commit(j, &e), 0);
		}
		CHECK_INT(fails, 0);
		if (!model_all(j, &m)) {
			CHECK(!"the table is what the model says");
			break;
		}
	}
	journal_close(j);
}

/* More noted deletes than are kept at once, in stretches of every length. */
static struct target big_t[70000];

static const struct target *big_row(void *arg, size_t i, int64_t *expires)
{
	(void)arg;
	*expires = NOW + 100;
	return &big_t[i];
}

static void test_deferred_many(void)
{
	struct journal *j = open_ok(path_in("many.db"), true, false);
	struct ipb_err e;
	struct rows rs = { "", 0 };
	char buf[32];
	size_t i, n = sizeof(big_t) / sizeof(big_t[0]), left = 0;
	int fails = 0;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "10.%zu.%zu.%zu", 20 + i / 65536, i / 256 % 256, i % 256);
		big_t[i] = tgt(buf);
	}
	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(journal_insert_bans(j, "feed", NOW, NULL, n, big_row, NULL, &e), 0);
	CHECK_INT(journal_commit(j, &e), 0);
	CHECK_INT(journal_begin(j, &e), 0);
	for (i = 0; i < n; i++) {
		if (i % 5000 == 17 || (i > 30000 && i < 31000 && i % 2)) {
			left++;
			continue;
		}
		fails += journal_del_ban(j, &big_t[i], "feed", &e) != 0;
	}
	CHECK_INT(fails, 0);
	CHECK_INT(journal_commit(j, &e), 0);
	CHECK_INT(journal_bans_live(j, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_INT(rs.n, left);
	journal_close(j);
}

/* A callback may run the same query again (a fresh statement, not the busy cached one). */
struct nest {
	struct journal *j;
	struct rows inner;
};

static int nested_cb(void *arg, const struct ban *b)
{
	struct nest *n = arg;
	struct ipb_err e;

	return journal_bans_of_target(n->j, &b->t, collect, &n->inner, &e);
}

static void test_reentrant(void)
{
	struct journal *j = open_ok(path_in("bans.db"), false, true);
	struct nest n = { .j = j };
	struct target t = tgt("10.0.0.1");
	struct ipb_err e;

	CHECK_INT(journal_bans_of_target(j, &t, nested_cb, &n, &e), 0);
	CHECK_STR(n.inner.text, "10.0.0.1 a 100 x|10.0.0.1 b 300 y|10.0.0.1 c -1 old|"
				"10.0.0.1 a 100 x|10.0.0.1 b 300 y|10.0.0.1 c -1 old|"
				"10.0.0.1 a 100 x|10.0.0.1 b 300 y|10.0.0.1 c -1 old");
	journal_close(j);
}

static int stop_at_two(void *arg, const struct ban *b)
{
	(void)b;
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void test_sets(void)
{
	struct journal *j = open_ok(path_in("bans.db"), false, false);
	uint64_t counts[PLAN_NSETS];
	struct ipb_err e;
	struct rows rs = { "", 0 };
	int n = 0;

	CHECK_INT(put(j, "10.0.0.9", "z", NOW - 10, "dead"), 0);
	CHECK_INT(journal_set_elements(j, 4, 32, NOW, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.1 b 300 y|10.0.0.2 a 200 -");
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_set_elements(j, 6, 128, NOW, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "");
	CHECK_INT(journal_set_elements(j, 4, 32, NOW, stop_at_two, &n, &e), 7);
	/* a tie goes to the first source in key order; a later, longer ban without a reason
	 * gives the element no reason */
	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(put(j, "10.0.0.3", "a", NOW + 400, "r1"), 0);
	CHECK_INT(put(j, "10.0.0.3", "b", NOW + 400, "r2"), 0);
	CHECK_INT(put(j, "10.0.0.4", "a", NOW + 10, "a long reason that must not leak"), 0);
	CHECK_INT(put(j, "10.0.0.4", "b", NOW + 20, NULL), 0);
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_set_elements(j, 4, 32, NOW, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.1 b 300 y|10.0.0.2 a 200 -|10.0.0.3 a 400 r1|10.0.0.4 b 20 -");
	journal_rollback(j);

	CHECK_INT(journal_set_counts(j, NOW, counts, &e), 0);
	CHECK_INT(counts[plan_set_index(4, 32)], 2);
	CHECK_INT(counts[plan_set_index(4, 16)], 2);
	CHECK_INT(counts[plan_set_index(4, 8)], 1);
	CHECK_INT(counts[plan_set_index(6, 48)], 1);
	CHECK_INT(counts[plan_set_index(6, 128)], 0);
	/* live rows: 10.0.0.1 is banned by two sources */
	CHECK_INT(journal_set_rows(j, NOW, counts, &e), 0);
	CHECK_INT(counts[plan_set_index(4, 32)], 3);
	CHECK_INT(counts[plan_set_index(4, 8)], 1);
	CHECK_INT(counts[plan_set_index(6, 128)], 0);
	/* status's counting pass gives the same live rows per set, for every set */
	{
		struct journal_counts jc;
		unsigned i, same = 0;

		CHECK_INT(journal_counts(j, NOW, &jc, &e), 0);
		for (i = 0; i < PLAN_NSETS; i++)
			same += jc.set_rows[i] == counts[i];
		CHECK_INT(same, PLAN_NSETS);
		CHECK_INT(jc.set_rows[plan_set_index(4, 32)], 3);
		journal_counts_free(&jc);
	}

	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_next_expiring(j, NOW, 3, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "10.0.0.0/16 b 50 n16|10.0.0.1 a 100 x|10.0.0.2 a 200 -");
	journal_close(j);
}

static void source_cb(void *arg, const char *name)
{
	struct rows *rs = arg;
	size_t len = strlen(rs->text);

	snprintf(rs->text + len, sizeof(rs->text) - len, "%s%s", rs->n++ ? "," : "", name);
}

static void test_counts(void)
{
	struct journal *j = open_ok(path_in("counts.db"), true, false);
	struct journal_counts c;
	struct rows rs = { "", 0 };
	struct ipb_err e;
	int i;

	journal_begin(j, &e);
	put(j, "192.0.2.1", "s1", NOW + 60, NULL);	 /* 1m (boundary) */
	put(j, "192.0.2.2", "s1", NOW + 61, NULL);	 /* 1h */
	put(j, "192.0.2.3", "s1", NOW + 3600, NULL);	 /* 1h (boundary) */
	put(j, "192.0.2.0/24", "s2", NOW + 3601, NULL);	 /* 1d */
	put(j, "2001:db8::1", "s2", NOW + 86400, NULL);	 /* 1d (boundary) */
	put(j, "2001:db8::/64", "s2", NOW + 86401, NULL); /* later */
	put(j, "198.51.100.7", "s3", IPB_NEVER, NULL);	 /* permanent */
	put(j, "198.51.100.8", "s4", NOW, NULL);	 /* expired exactly now */
	put(j, "198.51.100.9", "s4", NOW - 5, NULL);	 /* expired */
	put(j, "198.51.100.10", "s1", NOW + 1, NULL);	 /* 1m */
	for (i = 0; i < 3; i++) {
		struct event ev = { .time = NOW, .kind = "ban", .uid = -1 };

		journal_add_event(j, &ev, &e);
	}
	journal_commit(j, &e);

	CHECK_INT(journal_counts(j, NOW, &c, &e), 0);
	CHECK_INT(c.total, 8);
	CHECK_INT(c.v4_addresses, 5);
	CHECK_INT(c.v4_networks, 1);
	CHECK_INT(c.v6_addresses, 1);
	CHECK_INT(c.v6_networks, 1);
	CHECK_INT(c.exp_1m, 2);
	CHECK_INT(c.exp_1h, 2);
	CHECK_INT(c.exp_1d, 2);
	CHECK_INT(c.exp_later, 1);
	CHECK_INT(c.exp_permanent, 1);
	CHECK_INT(c.expired_rows, 2);
	CHECK_INT(c.events, 3);
	CHECK_INT(c.nsources, 3);
	if (c.nsources == 3) {
		CHECK_STR(c.sources[0].name, "s1");
		CHECK_INT(c.sources[0].count, 4);
		CHECK_STR(c.sources[1].name, "s2");
		CHECK_INT(c.sources[1].count, 3);
		CHECK_STR(c.sources[2].name, "s3");
		CHECK_INT(c.sources[2].count, 1);
	}
	/* the soonest to expire, in full: finite and live only */
	CHECK_INT(c.nnext, 7);
	CHECK_INT(journal_counts_next(j, &c, collect, &rs, &e), 0);
	CHECK_STR(rs.text, "198.51.100.10 s1 1 -|192.0.2.1 s1 60 -|192.0.2.2 s1 61 -|"
			   "192.0.2.3 s1 3600 -|192.0.2.0/24 s2 3601 -|2001:db8::1 s2 86400 -|"
			   "2001:db8::/64 s2 86401 -");
	memset(&rs, 0, sizeof(rs));
	journal_counts_free(&c);
	CHECK(c.sources == NULL);

	CHECK_INT(journal_sources(j, NOW, source_cb, &rs, &e), 0);
	CHECK_STR(rs.text, "s1,s2,s3");
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_sources(j, NOW - 10, source_cb, &rs, &e), 0);
	CHECK_STR(rs.text, "s1,s2,s3,s4");
	journal_close(j);
}

struct seen {
	struct target t[64];
	unsigned n, dup, dead;
};

static int sample_cb(void *arg, const struct ban *b)
{
	struct seen *s = arg;

	for (unsigned i = 0; i < s->n; i++)
		if (target_equal(&s->t[i], &b->t))
			s->dup++;
	if (b->expires <= NOW)
		s->dead++;
	if (s->n < 64)
		s->t[s->n++] = b->t;
	return 0;
}

static void test_sample(void)
{
	struct journal *j = open_ok(path_in("sample.db"), true, false);
	struct ipb_err e;
	struct seen s = { .n = 0 };
	char buf[64];
	int i;

	CHECK_INT(journal_sample(j, NOW, 5, sample_cb, &s, &e), 0);
	CHECK_INT(s.n, 0);
	journal_begin(j, &e);
	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "203.0.113.%d", i);
		put(j, buf, "a", i % 2 ? NOW + 100 : NOW - 100, NULL); /* odd ones live */
		if (i % 3 == 0)
			put(j, buf, "b", NOW + 50, NULL); /* a second source on some */
	}
	put(j, "2001:db8:1::/48", "a", NOW + 10, NULL);
	journal_commit(j, &e);

	CHECK_INT(journal_sample(j, NOW, 20, sample_cb, &s, &e), 0);
	CHECK_INT(s.n, 20);
	CHECK_INT(s.dup, 0);
	CHECK_INT(s.dead, 0);
	for (i = 0; i < (int)s.n; i++) {
		unsigned last = s.t[i].family == 4 ? s.t[i].addr[3] : 1;

		CHECK(s.t[i].family == 6 || last % 2 == 1 || last % 3 == 0);
	}
	/* asking for more than exist gives each live target at most once */
	memset(&s, 0, sizeof(s));
	CHECK_INT(journal_sample(j, NOW + 60, 60, sample_cb, &s, &e), 0);
	CHECK(s.n <= 60 && s.n > 0);
	CHECK_INT(s.dup, 0);
	journal_close(j);
}

/* ---- events, gc, meta ---- */

static int event_cb(void *arg, const struct event *ev)
{
	struct rows *rs = arg;
	size_t len = strlen(rs->text);

	snprintf(rs->text + len, sizeof(rs->text) - len, "%s%lld %s %s %s %s", rs->n++ ? "|" : "",
		 (long long)(ev->time - NOW), ev->kind, ev->target ? ev->target : "-",
		 ev->source ? ev->source : "-", ev->reason ? ev->reason : "-");
	return 0;
}

static void add_event(struct journal *j, int64_t dt, const char *kind, const char *target,
		      const char *source)
{
	struct event ev = { .time = NOW + dt, .kind = kind, .target = target, .source = source,
			    .uid = -1 };
	struct ipb_err e;

	CHECK_INT(journal_add_event(j, &ev, &e), 0);
}

static int user_cb(void *arg, const struct event *ev)
{
	struct rows *rs = arg;

	snprintf(rs->text, sizeof(rs->text), "%lld %s", (long long)ev->uid,
		 ev->user ? ev->user : "(null)");
	return 1;
}

static void test_events(void)
{
	struct journal *j;
	struct rows rs = { "", 0 };
	struct ipb_err e;
	char want[64];

	setenv("SUDO_USER", "alice", 1);
	j = open_ok(path_in("events.db"), true, false);
	add_event(j, -100, "ban", "192.0.2.1", "a");
	add_event(j, -50, "ban", "192.0.2.2", "b");
	add_event(j, -10, "unban", "192.0.2.1", "a");
	add_event(j, 0, "sync", NULL, NULL);

	CHECK_INT(journal_events(j, 0, NULL, event_cb, &rs, &e), 0);
	CHECK_STR(rs.text, "-100 ban 192.0.2.1 a -|-50 ban 192.0.2.2 b -|"
			   "-10 unban 192.0.2.1 a -|0 sync - - -");
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_events(j, NOW - 50, "a", event_cb, &rs, &e), 0);
	CHECK_STR(rs.text, "-10 unban 192.0.2.1 a -");
	CHECK_INT(journal_events(j, 0, NULL, user_cb, &rs, &e), 1);
	snprintf(want, sizeof(want), "%lld alice", (long long)getuid());
	CHECK_STR(rs.text, want);
	journal_close(j);
	unsetenv("SUDO_USER");
	j = open_ok(path_in("events.db"), false, false);
	add_event(j, 1, "flush", NULL, NULL);
	memset(&rs, 0, sizeof(rs));
	CHECK_INT(journal_events(j, NOW + 1, NULL, user_cb, &rs, &e), 1);
	snprintf(want, sizeof(want), "%lld (null)", (long long)getuid());
	CHECK_STR(rs.text, want);
	journal_close(j);
}

static void test_gc(void)
{
	struct journal *j = open_ok(path_in("gc.db"), true, false);
	struct rows rs = { "", 0 };
	struct journal_counts c;
	uint64_t nb, ne;
	struct ipb_err e;

	journal_begin(j, &e);
	put(j, "192.0.2.1", "a", NOW - 30, "r1");
	put(j, "192.0.2.1", "b", NOW + 30, "r2");
	put(j, "10.0.0.0/8", "a", NOW, NULL);
	put(j, "2001:db8::/32", "c", IPB_NEVER, NULL);
	add_event(j, -100000, "ban", "192.0.2.9", "a");
	add_event(j, -1000, "ban", "192.0.2.1", "a");
	add_event(j, -999, "ban", "192.0.2.1", "b");
	journal_commit(j, &e);

	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(journal_gc(j, NOW, NOW - 50000, 0, &nb, &ne, &e), 0);
	CHECK_INT(journal_commit(j, &e), 0);
	CHECK_INT(nb, 2);
	CHECK_INT(ne, 1);
	CHECK_INT(journal_events(j, 0, NULL, event_cb, &rs, &e), 0);
	CHECK_STR(rs.text, "-1000 ban 192.0.2.1 a -|-999 ban 192.0.2.1 b -|"
			   "-30 expire 192.0.2.1 a r1|0 expire 10.0.0.0/8 a -");
	CHECK_INT(journal_counts(j, NOW, &c, &e), 0);
	CHECK_INT(c.total, 2);
	CHECK_INT(c.expired_rows, 0);
	CHECK_INT(c.events, 4);
	journal_counts_free(&c);

	/* the cap keeps the newest rows; gc alone makes its own transaction */
	CHECK_INT(journal_gc(j, NOW, 0, 3, &nb, &ne, &e), 0);
	CHECK_INT(nb, 0);
	CHECK_INT(ne, 1);
	memset(&rs, 0, sizeof(rs));
	journal_events(j, 0, NULL, event_cb, &rs, &e);
	CHECK_STR(rs.text, "-999 ban 192.0.2.1 b -|-30 expire 192.0.2.1 a r1|"
			   "0 expire 10.0.0.0/8 a -");
	CHECK_INT(journal_gc(j, NOW, 0, 10, &nb, &ne, &e), 0);
	CHECK_INT(ne, 0);
	journal_close(j);
}

static void test_meta_and_rollback(void)
{
	struct journal *j = open_ok(path_in("meta.db"), true, false);
	struct ipb_err e;
	int64_t v;
	bool found;

	CHECK_INT(journal_meta_get(j, "genid", &v, &found, &e), 0);
	CHECK(!found && v == 0);
	CHECK_INT(journal_meta_set(j, "genid", 7, &e), 0);
	CHECK_INT(journal_meta_set(j, "genid", -9, &e), 0);
	CHECK_INT(journal_meta_get(j, "genid", &v, &found, &e), 0);
	CHECK(found && v == -9);

	CHECK_INT(journal_begin(j, &e), 0);
	CHECK_INT(journal_meta_set(j, "genid", 100, &e), 0);
	journal_rollback(j);
	journal_rollback(j); /* harmless without a transaction */
	journal_meta_get(j, "genid", &v, &found, &e);
	CHECK_INT(v, -9);
	CHECK_INT(journal_begin_read(j, &e), 0);
	CHECK_INT(journal_commit(j, &e), 0);
	journal_close(j);
}

/* Two handles: the second writer waits for the first (busy timeout), readers don't. */
static void test_concurrency(void)
{
	struct journal *a = open_ok(path_in("conc.db"), true, false);
	struct journal *b = open_ok(path_in("conc.db"), false, true);
	struct rows rs = { "", 0 };
	struct ipb_err e;

	CHECK_INT(journal_begin(a, &e), 0);
	CHECK_INT(put(a, "192.0.2.1", "a", NOW + 10, NULL), 0);
	CHECK_INT(journal_bans_live(b, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 0); /* not committed yet */
	CHECK_INT(journal_commit(a, &e), 0);
	CHECK_INT(journal_bans_live(b, NOW, NULL, 0, collect, &rs, &e), 0);
	CHECK_INT(rs.n, 1);
	journal_close(a);
	journal_close(b);
}

/* A second writer queues behind the first (busy timeout) instead of failing. */
static void test_writers_queue(void)
{
	char *p = path_in("queue.db");
	struct journal *a = open_ok(p, true, false), *b;
	struct timespec t0, t1, hold = { 0, 300000000 };
	struct ipb_err e;
	int pipefd[2], status;
	char c;
	pid_t pid;

	journal_close(a);
	CHECK(pipe(pipefd) == 0);
	pid = fork();
	if (pid == 0) {
		a = open_ok(p, false, false);
		if (journal_begin(a, &e) || put(a, "192.0.2.1", "child", NOW + 10, NULL))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		nanosleep(&hold, NULL);
		_exit(journal_commit(a, &e) ? 1 : 0);
	}
	CHECK(read(pipefd[0], &c, 1) == 1);
	b = open_ok(p, false, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(journal_begin(b, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 150);
	CHECK_INT(put(b, "192.0.2.2", "parent", NOW + 10, NULL), 0);
	CHECK_INT(journal_commit(b, &e), 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		struct rows rs = { "", 0 };

		journal_bans_live(b, NOW, NULL, 0, collect, &rs, &e);
		CHECK_STR(rs.text, "192.0.2.1 child 10 -|192.0.2.2 parent 10 -");
	}
	journal_close(b);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* ---- benchmark ---- */

static double clock_secs(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall and CPU seconds since the last call: CPU time shows the cost on a busy machine. */
static const char *lap(void)
{
	static double w0, c0;
	static char buf[64];
	double w = clock_secs(CLOCK_MONOTONIC), c = clock_secs(CLOCK_PROCESS_CPUTIME_ID);

	snprintf(buf, sizeof(buf), "%.3f s (cpu %.3f s)", w - w0, c - c0);
	w0 = w;
	c0 = c;
	return buf;
}

static int count_cb(void *arg, const struct ban *b)
{
	(void)b;
	++*(uint64_t *)arg;
	return 0;
}

static int count_events_cb(void *arg, const struct event *ev)
{
	(void)ev;
	++*(uint64_t *)arg;
	return 0;
}

static int bench_load(struct journal *j, unsigned n, bool events)
{
	struct ban b = { .source = "bench", .created = NOW, .reason = "load" };
	struct event ev = { .time = NOW, .kind = "ban", .source = "bench", .uid = -1 };
	char buf[TARGET_STRLEN];
	struct ipb_err e;
	uint64_t k = 0;
	unsigned i;

	b.t.family = 4;
	b.t.plen = 32;
	journal_begin(j, &e);
	for (i = 0; i < n; i++) {
		b.t.addr[0] = events ? 10 : 11;
		b.t.addr[1] = (uint8_t)(i >> 16);
		b.t.addr[2] = (uint8_t)(i >> 8);
		b.t.addr[3] = (uint8_t)i;
		b.expires = NOW + 60 + (int64_t)(i % 100000);
		journal_bans_of_target(j, &b.t, count_cb, &k, &e);
		if (journal_put_ban(j, &b, &e))
			return fprintf(stderr, "%s\n", e.msg), 1;
		ev.target = target_format(&b.t, buf, sizeof(buf));
		if (events && journal_add_event(j, &ev, &e))
			return fprintf(stderr, "%s\n", e.msg), 1;
	}
	if (journal_commit(j, &e))
		return fprintf(stderr, "%s\n", e.msg), 1;
	return 0;
}

static void bench_reads(struct journal *j)
{
	uint64_t counts[PLAN_NSETS], k = 0;
	struct journal_counts c;
	struct ipb_err e;

	lap();
	CHECK_INT(journal_counts(j, NOW, &c, &e), 0);
	printf("bench: journal_counts: %s, total %llu\n", lap(), (unsigned long long)c.total);
	journal_counts_free(&c);
	CHECK_INT(journal_next_expiring(j, NOW, 5, count_cb, &k, &e), 0);
	printf("bench: journal_next_expiring(5): %s\n", lap());
	CHECK_INT(journal_set_counts(j, NOW, counts, &e), 0);
	printf("bench: journal_set_counts: %s\n", lap());
	CHECK_INT(journal_sample(j, NOW, 100, count_cb, &k, &e), 0);
	printf("bench: journal_sample(100): %s\n", lap());
	CHECK_INT(journal_set_elements(j, 4, 32, NOW, count_cb, &k, &e), 0);
	printf("bench: journal_set_elements(v4_32): %s\n", lap());
	CHECK_INT(journal_bans_of_source(j, NOW, "bench", false, count_cb, &k, &e), 0);
	printf("bench: journal_bans_of_source: %s\n", lap());
	CHECK_INT(journal_events(j, NOW + 1, NULL, count_events_cb, &k, &e), 0);
	printf("bench: journal_events(since, none match): %s\n", lap());
}

static int bench(unsigned n)
{
	struct journal *j = open_ok(path_in("bench1.db"), true, false);
	uint64_t nb, ne;
	struct ipb_err e;

	lap();
	if (bench_load(j, n, false))
		return 1;
	printf("bench: %u x (bans_of_target + put_ban), one transaction: %s\n", n, lap());
	journal_close(j);
	j = open_ok(path_in("bench2.db"), true, false);
	lap();
	if (bench_load(j, n, true))
		return 1;
	printf("bench: %u x (bans_of_target + put_ban + add_event), one transaction: %s\n", n,
	       lap());
	printf("bench: journal size %.1f MB\n", (double)journal_size_bytes(j) / 1e6);
	journal_close(j);
	j = open_ok(path_in("bench2.db"), false, true);
	printf("bench: open read-only: %s\n", lap());
	bench_reads(j);
	journal_close(j);
	j = open_ok(path_in("bench2.db"), false, false);
	lap();
	CHECK_INT(journal_gc(j, NOW + 60 + 50000, 0, 0, &nb, &ne, &e), 0);
	printf("bench: journal_gc removing %llu bans: %s\n", (unsigned long long)nb, lap());
	journal_close(j);
	return 0;
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	if (nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
	if (!mkdtemp(tmpdir))
		return perror("mkdtemp"), 2;
	if (argc == 3 && !strcmp(argv[1], "--bench")) {
		int r = bench((unsigned)strtoul(argv[2], NULL, 0));

		cleanup();
		return r || unit_failed;
	}
	test_create_perms();
	test_refusals();
	test_reopen();
	test_version_and_damage();
	test_bans();
	test_insert_bulk();
	test_deferred_deletes();
	test_deferred_many();
	test_reentrant();
	test_sets();
	test_counts();
	test_sample();
	test_events();
	test_gc();
	test_meta_and_rollback();
	test_concurrency();
	test_writers_queue();
	cleanup();
	return unit_done("journal");
}
