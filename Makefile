# SPDX-License-Identifier: GPL-2.0-only
# ipbanset — see README.md
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# /etc even under PREFIX=/usr/local: fail2ban and ipbanset itself look there.
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/ipbanset
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif
# The libraries' flags are asked of pkg-config when a recipe first needs them, not when make
# reads this file: on a new machine `make demo` and `make check` install the libraries
# (deps) first, and a value computed before that would leave the link line without them.
# Each is computed once, then kept.
PKGS := libmnl libnftnl libipset sqlite3
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
ALL_CFLAGS = -std=gnu11 $(WARN) -pthread -MMD -MP -D_GNU_SOURCE -DIPBANSET_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) -pthread

# Pure modules: no kernel, no SQLite. Unit tests and fuzzers link only these.
PURE_SRC := src/common.c src/addr.c src/duration.c src/config.c src/plan.c src/setcmp.c
SRC := $(sort $(wildcard src/*.c))
OBJ := $(SRC:.c=.o)
UNIT_TESTS := $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))

all: ipbanset

ipbanset: $(OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)

# A clear word instead of a compiler's "No such file" when the libraries are missing.
libs-present:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { \
		echo "ipbanset needs the development files of $(PKGS) (and pkg-config):" >&2; \
		echo "run 'sudo make deps-build' (Debian) or install them by hand" >&2; exit 1; }
$(OBJ): | libs-present

src/%.o: src/%.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# --version is compiled into ipbanset.o; src/.version changes only when VERSION does,
# so a new commit (or a tree turning dirty) rebuilds that object and no other.
src/.version: FORCE
	@v='$(VERSION)'; [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" >$@
src/ipbanset.o: src/.version
FORCE:

# Unit tests need no root: the pure modules (the journal-against-kernel diff among them,
# fed by hand), plus the journal on a temporary file and the two-ended read.
UNIT_SRC := $(PURE_SRC) src/journal.c src/meet.c
# every header: one build of all the sources, so any header change rebuilds them
tests/unit/test_%: tests/unit/test_%.c $(UNIT_SRC) tests/unit/unit.h $(wildcard src/*.h)
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(UNIT_SRC) $(LIBS)

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

# Root: the bats suite builds its own network namespaces; it never touches the host's ruleset.
# deps first, then a new make for the build: it asks pkg-config only once the libraries
# are installed (tests/25-install.bats runs these two targets on a machine that has none).
check: deps
	$(MAKE) check-build
	$(RUN_ALL)

# everything the suites run, built and not run (CI builds it once, then runs suites side by side)
check-build: ipbanset $(UNIT_TESTS)

# The core files and those that concern every backend, against the ipset backend
# (tests/33-ipset.bats, about ipset alone, runs in `make check`).
IPSET_TESTS := $(wildcard tests/0*.bats tests/1*.bats) tests/27-netns.bats tests/28-watch.bats \
	tests/29-recover.bats tests/31-hostile.bats tests/32-faults.bats tests/35-ownership.bats \
	tests/36-tamper.bats tests/37-model.bats
check-ipset: deps
	$(MAKE) check-build
	IBS_BACKEND=ipset $(RUN_ALL) $(IPSET_TESTS)

# The suite again under AddressSanitizer + UBSan, on the files that run ipbanset's own
# code: the integration and packaging files (20-26) run the same commands through
# fail2ban, systemd, cron, Ansible and the packages (26 even builds without the
# sanitizers), so they prove nothing more there; `make asan-all` runs them too.
# asan-ipset: check-ipset's files.
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
ASAN_TESTS := $(filter-out $(wildcard tests/2[0-6]-*.bats),$(wildcard tests/*.bats))
# The crash tests kill smaller batches there (still several kernel transactions each):
# what the sanitizers look at is the same code, three times slower.
ASAN_SIZES := CRASH_SIZE=16000 CRASH_BATCH=4000 TORTURE_SIZE=8000 MODEL_STEPS=20
asan: asan-build
	$(ASAN_ENV) $(ASAN_SIZES) $(RUN_ALL) $(ASAN_TESTS)

asan-all: deps asan-build
	$(ASAN_ENV) $(RUN_ALL)

# asan-ipset leaves out the files whose code does not depend on the backend (the
# environment, argv and config parsing, journal reads and permissions), and the two whose
# ipset part is small or repeats check-ipset's (tamper: one test; the random model: the
# same engine code `make asan` runs it through): `make asan` runs them under the
# sanitizers, `make check-ipset` against the ipset backend.
ASAN_IPSET_TESTS := $(filter-out tests/00-env.bats tests/11-query.bats tests/17-permissions.bats \
	tests/18-bad-input.bats tests/36-tamper.bats tests/37-model.bats,$(IPSET_TESTS))
asan-ipset: deps asan-build
	$(ASAN_ENV) $(ASAN_SIZES) IBS_BACKEND=ipset $(RUN_ALL) $(ASAN_IPSET_TESTS)

asan-build:
	$(MAKE) clean
	$(MAKE) CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" ipbanset $(UNIT_TESTS)

# Root: the units under a live systemd. tests/systemd/run.sh builds the .deb, installs it
# into a minimal Debian root (mmdebstrap, cached in tests/systemd/.cache) and boots that
# root's systemd in private namespaces; it installs what it needs (mmdebstrap, debhelper).
# Neither part of check nor of CI.
check-systemd: deps-build
	./tests/systemd/run.sh

# Crash torture: many more SIGKILLs of much larger commands than `make check` runs
# (there: 3 kills per command of 20000 targets, and 15-crash's kills at 40000), and
# a model run of 1000 random steps on each backend (there: 40).
torture: ipbanset
	TORTURE_TRIALS=$${TORTURE_TRIALS:-100} TORTURE_SIZE=$${TORTURE_SIZE:-200000} \
		CRASH_SIZE=$${CRASH_SIZE:-200000} MODEL_STEPS=$${MODEL_STEPS:-1000} IBS_JOBS=1 \
		./tests/run-all.sh tests/15-crash.bats tests/30-torture.bats tests/37-model.bats
	MODEL_STEPS=$${MODEL_STEPS:-1000} IBS_BACKEND=ipset ./tests/run-all.sh tests/37-model.bats

# deps-build: what building and the demo need; deps: that and what the test suites need.
# DEPS, DEMO and RUN_ALL are variables so that a test can put stand-ins in their place.
DEPS ?= ./tests/deps.sh
DEMO ?= ./tests/demo.sh
RUN_ALL ?= ./tests/run-all.sh
deps-build:
	@$(DEPS) build
deps:
	@$(DEPS) test

# libFuzzer (clang) on the pure modules, from the committed corpus; FUZZ_SECONDS each.
fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} ./tests/fuzz/run.sh

# Root: benchmarks in private namespaces against nft -f, ipset restore and a minimal
# libnftnl loader; results in tests/bench/out/ (see tests/bench/README.md).
bench: ipbanset
	./tests/bench/run.sh

demo: deps-build
	$(MAKE) ipbanset
	$(DEMO)

# shellcheck only where it is installed: not a build dependency.
lint:
	mandoc -Tlint -W warning man/ipbanset.8 man/ipbanset-import.8
	@if command -v shellcheck >/dev/null 2>&1; then \
		echo "shellcheck packaging/cron/ipbanset-import"; \
		shellcheck packaging/cron/ipbanset-import; \
	else \
		echo "shellcheck is not installed: packaging/cron/ipbanset-import not checked"; \
	fi

# The units name the binary as @SBINDIR@. The configuration is installed once, mode 0600,
# and never overwritten; uninstall keeps it if it differs from the example (edited).
CONF_DIR = $(DESTDIR)$(SYSCONFDIR)/ipbanset
UNITS = ipbanset-reconcile.service ipbanset-watch.service ipbanset-gc.service ipbanset-gc.timer
EXAMPLES = $(DESTDIR)$(DOCDIR)/examples

install: ipbanset
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/action.d $(CONF_DIR) \
		$(EXAMPLES)/fail2ban/jail.d $(EXAMPLES)/cron.d $(EXAMPLES)/ansible
	install -m 0755 ipbanset $(DESTDIR)$(SBINDIR)/ipbanset
	install -m 0755 packaging/cron/ipbanset-import $(DESTDIR)$(SBINDIR)/ipbanset-import
	install -m 0644 man/ipbanset.8 $(DESTDIR)$(MANDIR)/man8/ipbanset.8
	install -m 0644 man/ipbanset-import.8 $(DESTDIR)$(MANDIR)/man8/ipbanset-import.8
	install -m 0644 completions/ipbanset.bash $(DESTDIR)$(BASHCOMPDIR)/ipbanset
	install -m 0644 completions/_ipbanset $(DESTDIR)$(ZSHCOMPDIR)/_ipbanset
	install -m 0644 completions/ipbanset.fish $(DESTDIR)$(FISHCOMPDIR)/ipbanset.fish
	for u in $(UNITS); do \
		sed '/^[[:space:]]*[#;]/!s|@SBINDIR@|$(SBINDIR)|g' packaging/systemd/$$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	install -m 0644 packaging/fail2ban/action.d/ipbanset.conf \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/action.d/ipbanset.conf
	if [ -e $(CONF_DIR)/ipbanset.conf ]; then \
		echo "keeping the existing $(CONF_DIR)/ipbanset.conf"; \
	else \
		install -m 0600 packaging/ipbanset.conf $(CONF_DIR)/ipbanset.conf; \
	fi
	install -m 0644 packaging/fail2ban/jail.d/ipbanset.conf $(EXAMPLES)/fail2ban/jail.d/ipbanset.conf
	install -m 0644 packaging/cron/ipbanset-import.cron $(EXAMPLES)/cron.d/ipbanset-import
	install -m 0644 packaging/cron/README $(DESTDIR)$(DOCDIR)/README.cron
	cp -R packaging/ansible/. $(EXAMPLES)/ansible/
	find $(EXAMPLES)/ansible \( -name __pycache__ -o -name '*.pyc' -o -name '*.retry' \) -prune \
		-exec rm -rf {} +
	chmod -R u+rwX,go=rX $(EXAMPLES)/ansible

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ipbanset $(DESTDIR)$(SBINDIR)/ipbanset-import \
		$(DESTDIR)$(MANDIR)/man8/ipbanset.8 $(DESTDIR)$(MANDIR)/man8/ipbanset-import.8 \
		$(DESTDIR)$(BASHCOMPDIR)/ipbanset $(DESTDIR)$(ZSHCOMPDIR)/_ipbanset \
		$(DESTDIR)$(FISHCOMPDIR)/ipbanset.fish \
		$(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS)) \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/action.d/ipbanset.conf
	rm -f $(EXAMPLES)/fail2ban/jail.d/ipbanset.conf $(EXAMPLES)/cron.d/ipbanset-import \
		$(DESTDIR)$(DOCDIR)/README.cron
	rm -rf $(EXAMPLES)/ansible
	rmdir $(EXAMPLES)/fail2ban/jail.d $(EXAMPLES)/fail2ban $(EXAMPLES)/cron.d $(EXAMPLES) \
		$(DESTDIR)$(DOCDIR) 2>/dev/null || true
	if cmp -s packaging/ipbanset.conf $(CONF_DIR)/ipbanset.conf; then \
		rm -f $(CONF_DIR)/ipbanset.conf; \
		rmdir $(CONF_DIR) 2>/dev/null || true; \
	elif [ -e $(CONF_DIR)/ipbanset.conf ]; then \
		echo "keeping the edited $(CONF_DIR)/ipbanset.conf"; \
	fi

clean:
	rm -f ipbanset src/*.o src/*.d src/.version $(UNIT_TESTS) tests/unit/*.d

.PHONY: all unit check check-build check-ipset check-systemd asan asan-all asan-ipset asan-build torture fuzz bench deps deps-build \
	demo libs-present lint install uninstall clean
-include $(SRC:.c=.d)
