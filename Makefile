# ipbanset — see README.md
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN += -Werror
endif
ALL_CFLAGS := -std=gnu11 $(WARN) -pthread -MMD -MP -D_GNU_SOURCE -DIPBANSET_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags libmnl libnftnl sqlite3) $(CFLAGS)
LIBS := $(shell $(PKG_CONFIG) --libs libmnl libnftnl sqlite3) -pthread

# Pure modules: no kernel, no SQLite. Unit tests and fuzzers link only these.
PURE_SRC := src/common.c src/addr.c src/duration.c src/config.c src/plan.c
SRC := $(sort $(wildcard src/*.c))
OBJ := $(SRC:.c=.o)
UNIT_TESTS := $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))

all: ipbanset

ipbanset: $(OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)

src/%.o: src/%.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests need no root: the pure modules, plus the journal on a temporary file.
tests/unit/test_%: tests/unit/test_%.c $(PURE_SRC) src/journal.c tests/unit/unit.h
	$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(PURE_SRC) src/journal.c $(LIBS)

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do ./$$t || exit 1; done

# Root: the bats suite builds its own network namespaces; it never touches the host's ruleset.
check: deps ipbanset $(UNIT_TESTS)
	./tests/run-all.sh

# The whole suite again under AddressSanitizer + UBSan.
asan:
	$(MAKE) clean
	$(MAKE) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" ipbanset $(UNIT_TESTS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/run-all.sh

deps:
	@./tests/deps.sh

# libFuzzer (clang) on the pure modules, from the committed corpus; FUZZ_SECONDS each.
fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} ./tests/fuzz/run.sh

# Root: benchmarks in private namespaces against nft -f, ipset restore and a minimal
# libnftnl loader; results in tests/bench/out/ (see tests/bench/README.md).
bench: ipbanset
	./tests/bench/run.sh

demo: deps ipbanset
	./tests/demo.sh

lint:
	mandoc -Tlint -W warning man/ipbanset.8

install: ipbanset
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 ipbanset $(DESTDIR)$(SBINDIR)/ipbanset
	install -m 0644 man/ipbanset.8 $(DESTDIR)$(MANDIR)/man8/ipbanset.8
	install -m 0644 completions/ipbanset.bash $(DESTDIR)$(BASHCOMPDIR)/ipbanset
	install -m 0644 completions/_ipbanset $(DESTDIR)$(ZSHCOMPDIR)/_ipbanset
	install -m 0644 completions/ipbanset.fish $(DESTDIR)$(FISHCOMPDIR)/ipbanset.fish

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ipbanset $(DESTDIR)$(MANDIR)/man8/ipbanset.8 \
		$(DESTDIR)$(BASHCOMPDIR)/ipbanset $(DESTDIR)$(ZSHCOMPDIR)/_ipbanset \
		$(DESTDIR)$(FISHCOMPDIR)/ipbanset.fish

clean:
	rm -f ipbanset src/*.o src/*.d $(UNIT_TESTS) tests/unit/*.d

.PHONY: all unit check asan fuzz bench deps demo lint install uninstall clean
-include $(SRC:.c=.d)
