// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for config.c: parsing, validation and safe loading. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static void test_defaults(void)
{
	struct config c;

	config_defaults(&c);
	CHECK_STR(c.table, "ipbanset");
	CHECK_STR(c.db, IPB_DEFAULT_DB);
	CHECK_INT(c.default_timeout, 3600);
	CHECK_INT(c.hook, IPB_HOOK_INPUT);
	CHECK_INT(c.priority, -10);
	CHECK(!c.priority_set);
	CHECK_INT(c.verdict, IPB_VERDICT_DROP);
	CHECK_INT(c.ipv6_prefix, 128);
	CHECK_INT(c.history_days, 90);
	CHECK_INT(c.history_max_rows, 1000000);
	CHECK_INT(c.backend, IPB_BACKEND_NFT);
	CHECK_INT(c.maxelem, 1048576);
	CHECK_INT(c.allow.n, 2);
	if (c.allow.n == 2) {
		CHECK_STR(fmt(&c.allow.v[0]), "127.0.0.0/8");
		CHECK_STR(fmt(&c.allow.v[1]), "::1");
	}
	config_free(&c);
}

static void test_parse_full(void)
{
	static const char text[] =
		"# ipbanset configuration\n"
		"\n"
		"table=edge_bans\n"
		"   db   =   /srv/ipbanset/bans.db   # trailing comment\n"
		"default_timeout = 1h30m\n"
		"hook = prerouting\n"
		"verdict = reject\r\n"
		"allow = 10.0.0.0/8, 192.168.1.7 2001:db8::/32\n"
		"allow = 192.0.2.0/24\n"
		"\t# indented comment\n"
		"ipv6_prefix = 64\n"
		"history_days = 0\n"
		"history_max_rows = 0\n"
		"backend = ipset\n"
		"maxelem = 65536\n";
	struct config c;
	struct ipb_err e;

	config_defaults(&c);
	if (!CHECK_INT(config_parse("test.conf", text, &c, &e), 0))
		fprintf(stderr, "     %s\n", e.msg);
	CHECK_STR(c.table, "edge_bans");
	CHECK_STR(c.db, "/srv/ipbanset/bans.db");
	CHECK_INT(c.default_timeout, 5400);
	CHECK_INT(c.hook, IPB_HOOK_PREROUTING);
	CHECK_INT(c.priority, -300); /* prerouting without an explicit priority: raw */
	CHECK(!c.priority_set);
	CHECK_INT(c.verdict, IPB_VERDICT_REJECT);
	CHECK_INT(c.allow.n, 6);
	if (c.allow.n == 6) {
		CHECK_STR(fmt(&c.allow.v[2]), "10.0.0.0/8");
		CHECK_STR(fmt(&c.allow.v[3]), "192.168.1.7");
		CHECK_STR(fmt(&c.allow.v[4]), "2001:db8::/32");
		CHECK_STR(fmt(&c.allow.v[5]), "192.0.2.0/24");
		CHECK_INT(c.allow.line[5], 9);
	}
	CHECK_INT(c.ipv6_prefix, 64);
	CHECK_INT(c.history_days, 0);
	CHECK_INT(c.history_max_rows, 0);
	CHECK_INT(c.backend, IPB_BACKEND_IPSET);
	CHECK_INT(c.maxelem, 65536);
	config_free(&c);
}

static void test_parse_values(void)
{
	struct config c;
	struct ipb_err e;

	config_defaults(&c);
	CHECK_INT(config_parse("a", "hook = prerouting\npriority = -150\n", &c, &e), 0);
	CHECK_INT(c.priority, -150);
	CHECK(c.priority_set);
	config_free(&c);

	config_defaults(&c);
	CHECK_INT(config_parse("a", "\xef\xbb\xbfpriority = 5\n", &c, &e), 0); /* a byte order mark */
	CHECK_INT(c.priority, 5);
	config_free(&c);

	config_defaults(&c);
	CHECK_INT(config_parse("a", "priority = 0\ndefault_timeout = permanent\n"
				    "db = /var/lib/a#b.db\n",
			       &c, &e),
		  0);
	CHECK_INT(c.priority, 0);
	CHECK_INT(c.default_timeout, 0);
	CHECK_STR(c.db, "/var/lib/a#b.db"); /* '#' inside a word is not a comment */
	config_free(&c);

	config_defaults(&c);
	CHECK_INT(config_parse("a", "priority=1000\nipv6_prefix=1\ndefault_timeout=-1\n"
				    "history_max_rows = 1000000000000\nverdict = drop\nhook = input",
			       &c, &e),
		  0);
	CHECK_INT(c.priority, 1000);
	CHECK_INT(c.ipv6_prefix, 1);
	CHECK_INT(c.default_timeout, 0);
	CHECK_INT(c.history_max_rows, 1000000000000LL);
	CHECK_INT(c.hook, IPB_HOOK_INPUT);
	config_free(&c);

	config_defaults(&c);
	CHECK_INT(config_parse("a", "backend = nftables\nmaxelem = 2147483647\n", &c, &e), 0);
	CHECK_INT(c.backend, IPB_BACKEND_NFT);
	CHECK_INT(c.maxelem, 2147483647);
	CHECK_INT(config_parse("b", "maxelem = 1\n", &c, &e), 0);
	CHECK_INT(c.maxelem, 1);
	config_free(&c);

	config_defaults(&c);
	CHECK_INT(config_parse("a", "", &c, &e), 0);
	CHECK_INT(config_parse("a", "\n\n  \n# only comments\n", &c, &e), 0);
	CHECK_INT(c.allow.n, 2);
	CHECK_INT(config_parse("a", "allow = 10.1.2.3/8\n", &c, &e), 0);
	CHECK_STR(fmt(&c.allow.v[2]), "10.0.0.0/8");
	config_free(&c);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "foo = 1\n", "my.conf:1: unknown key 'foo'" },
		{ "# x\n\nTable = a\n", "my.conf:3: unknown key 'Table'" },
		{ "table\n", "my.conf:1: missing '=' in 'table'" },
		{ "table = a\ntable = b\n", "my.conf:2: duplicate key 'table'" },
		{ "hook = forward\n", "my.conf:1: invalid value 'forward' for hook (input or prerouting)" },
		{ "hook = Input\n", "my.conf:1: invalid value 'Input' for hook (input or prerouting)" },
		{ "verdict = accept\n", "my.conf:1: invalid value 'accept' for verdict (drop or reject)" },
		{ "table = -x\n",
		  "my.conf:1: invalid value '-x' for table (letters, digits, '_', '.', '-'; at most 31)" },
		{ "table = a b\n",
		  "my.conf:1: invalid value 'a b' for table (letters, digits, '_', '.', '-'; at most 31)" },
		{ "table = 0123456789012345678901234567890123\n",
		  "my.conf:1: invalid value '0123456789012345678901234567890123' for table (letters, "
		  "digits, '_', '.', '-'; at most 31)" },
		{ "db = relative/path.db\n",
		  "my.conf:1: invalid value 'relative/path.db' for db (an absolute path)" },
		{ "default_timeout = 1x\n",
		  "my.conf:1: invalid value '1x' for default_timeout (a duration such as 300, 1h30m, 2d "
		  "or permanent; at most 10 years)" },
		{ "default_timeout = 20y\n",
		  "my.conf:1: invalid value '20y' for default_timeout (a duration such as 300, 1h30m, 2d "
		  "or permanent; at most 10 years)" },
		{ "priority = 1001\n",
		  "my.conf:1: invalid value '1001' for priority (an integer from -1000 to 1000)" },
		{ "priority = -1001\n",
		  "my.conf:1: invalid value '-1001' for priority (an integer from -1000 to 1000)" },
		{ "priority = +5\n",
		  "my.conf:1: invalid value '+5' for priority (an integer from -1000 to 1000)" },
		{ "priority = 05\n",
		  "my.conf:1: invalid value '05' for priority (an integer from -1000 to 1000)" },
		{ "priority = -0\n",
		  "my.conf:1: invalid value '-0' for priority (an integer from -1000 to 1000)" },
		{ "priority = 99999999999999999999999\n",
		  "my.conf:1: invalid value '99999999999999999999999' for priority (an integer from "
		  "-1000 to 1000)" },
		{ "priority = raw\n",
		  "my.conf:1: invalid value 'raw' for priority (an integer from -1000 to 1000)" },
		{ "ipv6_prefix = 0\n",
		  "my.conf:1: invalid value '0' for ipv6_prefix (a prefix length from 1 to 128)" },
		{ "ipv6_prefix = 129\n",
		  "my.conf:1: invalid value '129' for ipv6_prefix (a prefix length from 1 to 128)" },
		{ "history_days = -1\n",
		  "my.conf:1: invalid value '-1' for history_days (days from 0 to 36600; 0 keeps all)" },
		{ "history_max_rows = lots\n",
		  "my.conf:1: invalid value 'lots' for history_max_rows (a row count; 0 means no cap)" },
		{ "backend = iptables\n",
		  "my.conf:1: invalid value 'iptables' for backend (nftables or ipset)" },
		{ "backend = IPSET\n", "my.conf:1: invalid value 'IPSET' for backend (nftables or ipset)" },
		{ "maxelem = 0\n",
		  "my.conf:1: invalid value '0' for maxelem (an element count from 1 to 2147483647)" },
		{ "maxelem = 2147483648\n",
		  "my.conf:1: invalid value '2147483648' for maxelem (an element count from 1 to 2147483647)" },
		{ "maxelem = 64k\n",
		  "my.conf:1: invalid value '64k' for maxelem (an element count from 1 to 2147483647)" },
		{ "backend = ipset\nbackend = ipset\n", "my.conf:2: duplicate key 'backend'" },
		{ "allow = 10.0.0.0/8, 10.9.300.1\n", "my.conf:1: allow: invalid address '10.9.300.1'" },
		{ "allow = 1.2.3.4/33\n", "my.conf:1: allow: invalid prefix length in '1.2.3.4/33'" },
		{ "allow = 1.2.3.4;5.6.7.8\n", "my.conf:1: allow: invalid address '1.2.3.4;5.6.7.8'" },
		{ "table =\n", "my.conf:1: missing value for 'table'" },
		{ "allow = ,\n", "my.conf:1: missing value for 'allow'" },
		{ "= 5\n", "my.conf:1: unknown key ''" },
		{ "hook = input # ok\nhook=input\n", "my.conf:2: duplicate key 'hook'" },
		{ "verdict = drop#x\n", "my.conf:1: invalid value 'drop#x' for verdict (drop or reject)" },
		{ "tab\x1b[2Jle = 1\n", "my.conf:1: unknown key 'tab\\x1b[2Jle'" },
	};
	struct config c;
	struct ipb_err e;
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&c);
		e.msg[0] = 0;
		CHECK_REJECT(config_parse("my.conf", cases[i].text, &c, &e), -EINVAL, e.msg,
			     cases[i].msg);
		config_free(&c);
	}
}

static void test_valid_name(void)
{
	static const char *const good[] = { "ipbanset", "a", "f2b-sshd", "my_table.v2", "A9",
					    "_x", "0123456789012345678901234567890" };
	static const char *const bad[] = { "", "-x", ".x", "a b", "a/b", "a:b", "ä", "a\n",
					   "01234567890123456789012345678901", "x;y", "$x" };
	unsigned i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!CHECK(config_valid_name(good[i])))
			fprintf(stderr, "     '%s'\n", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(!config_valid_name(bad[i])))
			fprintf(stderr, "     '%s'\n", bad[i]);
}

static char dir[] = "/tmp/ipbanset-config-XXXXXX";

static const char *path_in_dir(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	int fd = open(path_in_dir(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) || close(fd)) {
		perror("test setup");
		exit(2);
	}
}

static int load(const char *name, struct config *c, struct ipb_err *e)
{
	config_defaults(c);
	e->msg[0] = 0;
	return config_load(path_in_dir(name), true, c, e);
}

static void test_load(void)
{
	char want[1024], target[256], *big;
	struct config c;
	struct ipb_err e;
	const char *p;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	write_file("good.conf", "table = t1\n", 11, 0644);
	CHECK_INT(load("good.conf", &c, &e), 0);
	CHECK_STR(c.table, "t1");
	config_free(&c);

	/* a symlink is refused: whoever can change the link chooses the file */
	snprintf(target, sizeof(target), "%s", path_in_dir("good.conf"));
	CHECK(symlink(target, path_in_dir("link.conf")) == 0);
	p = path_in_dir("link.conf");
	snprintf(want, sizeof(want),
		 "config file %s is a symbolic link; refusing it (give the real path with --config)", p);
	CHECK_REJECT(load("link.conf", &c, &e), -EPERM, e.msg, want);
	CHECK_STR(c.table, "ipbanset");
	config_free(&c);

	write_file("gw.conf", "table = t2\n", 11, 0664);
	p = path_in_dir("gw.conf");
	snprintf(want, sizeof(want), "config file %s is writable by group or other; chmod go-w %s",
		 p, p);
	CHECK_REJECT(load("gw.conf", &c, &e), -EPERM, e.msg, want);
	CHECK_STR(c.table, "ipbanset");
	config_free(&c);

	write_file("ow.conf", "table = t2\n", 11, 0602);
	CHECK_INT(load("ow.conf", &c, &e), -EPERM);
	config_free(&c);
	snprintf(target, sizeof(target), "%s", path_in_dir("ow.conf"));
	CHECK(symlink(target, path_in_dir("owlink.conf")) == 0);
	CHECK_INT(load("owlink.conf", &c, &e), -EPERM);
	config_free(&c);

	snprintf(want, sizeof(want), "config file %s is not a regular file", dir);
	config_defaults(&c);
	CHECK_REJECT(config_load(dir, true, &c, &e), -EINVAL, e.msg, want);
	config_free(&c);

	CHECK(mkfifo(path_in_dir("fifo"), 0600) == 0);
	snprintf(want, sizeof(want), "config file %s is not a regular file", path_in_dir("fifo"));
	CHECK_REJECT(load("fifo", &c, &e), -EINVAL, e.msg, want);
	config_free(&c);

	snprintf(want, sizeof(want), "config file %s: No such file or directory",
		 path_in_dir("missing.conf"));
	CHECK_REJECT(load("missing.conf", &c, &e), -ENOENT, e.msg, want);
	config_free(&c);
	config_defaults(&c);
	CHECK_INT(config_load(path_in_dir("missing.conf"), false, &c, &e), -ENOENT);
	CHECK_STR(c.table, "ipbanset"); /* defaults kept */
	config_free(&c);

	write_file("bad.conf", "table = t\nhook = sideways\n", 26, 0600);
	snprintf(want, sizeof(want), "%s:2: invalid value 'sideways' for hook (input or prerouting)",
		 path_in_dir("bad.conf"));
	CHECK_REJECT(load("bad.conf", &c, &e), -EINVAL, e.msg, want);
	config_free(&c);

	write_file("nul.conf", "table = t\0x\n", 12, 0600);
	snprintf(want, sizeof(want), "config file %s: contains a NUL byte", path_in_dir("nul.conf"));
	CHECK_REJECT(load("nul.conf", &c, &e), -EINVAL, e.msg, want);
	config_free(&c);

	big = malloc((1 << 20) + 2);
	memset(big, '\n', (1 << 20) + 1);
	write_file("big.conf", big, (1 << 20) + 1, 0600);
	snprintf(want, sizeof(want), "config file %s: larger than 1 MiB", path_in_dir("big.conf"));
	CHECK_REJECT(load("big.conf", &c, &e), -EINVAL, e.msg, want);
	config_free(&c);
	write_file("big.conf", big, 1 << 20, 0600); /* exactly 1 MiB is fine */
	CHECK_INT(load("big.conf", &c, &e), 0);
	config_free(&c);
	free(big);

	unlink(path_in_dir("good.conf"));
	unlink(path_in_dir("link.conf"));
	unlink(path_in_dir("gw.conf"));
	unlink(path_in_dir("ow.conf"));
	unlink(path_in_dir("owlink.conf"));
	unlink(path_in_dir("fifo"));
	unlink(path_in_dir("bad.conf"));
	unlink(path_in_dir("nul.conf"));
	unlink(path_in_dir("big.conf"));
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	umask(022);
	test_defaults();
	test_parse_full();
	test_parse_values();
	test_parse_errors();
	test_valid_name();
	test_load();
	return unit_done("test_config");
}
