# mmscope — one non-recursive Makefile.
#   make            build everything into build/
#   make check      deps, build, unit tests (cmocka) + e2e tests (pytest)
#   make demo       deps, build, a traced run and its summary
#   make bench      benchmarks -> bench/RESULTS.md
#   make fuzz       AFL++ on `mmscope show` (FUZZ_SECONDS=600 per format) and
#                   on the gdb protocol layer (build/tests/fuzz/rsp_fuzz)
#   make install    PREFIX=/usr/local DESTDIR= : bin/mmscope, lib/mmscope/ (the
#                   agent), include/mmscope/, share/doc/mmscope/, share/mmscope/ (gdb)
#   V=1             show commands;  SAN=address,undefined  sanitizer build
#
# The agent (libmmscope-agent.so) is never built with sanitizers: it
# interposes mmap/sigaction exactly like the sanitizer runtimes do.  The
# engine it is made of is covered by the sanitized unit tests.

B       ?= build$(if $(SAN),-san,)
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
ifeq ($(CI),true)
WARN    += -Werror
endif
BASEFLAGS := -std=gnu11 $(WARN) -fPIC -MMD -MP -D_GNU_SOURCE -Iinclude -Isrc
ifneq ($(SAN),)
SANFLAGS := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

ENGINE_SRC := $(wildcard src/engine/*.c) $(wildcard src/engine/*.S)
UTIL_SRC   := $(wildcard src/util/*.c)
TRACE_SRC  := $(wildcard src/trace/*.c)
DEBUG_SRC  := $(wildcard src/debug/*.c)
AGENT_SRC  := $(wildcard src/agent/*.c) $(wildcard src/agent/*.S)
CLI_SRC    := $(wildcard src/cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
PROG_SRC   := $(wildcard tests/progs/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/*.c)
BENCH_SRC  := $(wildcard bench/*.c)

objs = $(patsubst %,$(B)/$(1)/%.o,$(basename $(2)))

# Two object flavours: "agent" (never sanitized) and "host" (SAN applies).
AGENT_OBJ := $(call objs,agent,$(ENGINE_SRC) $(UTIL_SRC) $(TRACE_SRC) $(DEBUG_SRC) $(AGENT_SRC))
CLI_OBJ   := $(call objs,host,$(ENGINE_SRC) $(UTIL_SRC) $(TRACE_SRC) $(CLI_SRC))
LIB_HOST_OBJ := $(call objs,host,$(ENGINE_SRC) $(UTIL_SRC) $(TRACE_SRC) $(DEBUG_SRC))

AGENT_SO := $(B)/libmmscope-agent.so
MMSCOPE  := $(B)/mmscope
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
PROG_BIN := $(patsubst tests/progs/%.c,$(B)/tests/progs/%,$(PROG_SRC))
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRC))

LIBS := -lZydis -lpthread -ldl
CLI_LIBS := $(LIBS) -ldw -lelf

comma := ,

all: $(AGENT_SO) $(MMSCOPE) $(UNIT_BIN) $(PROG_BIN) $(BENCH_BIN) $(FUZZ_BIN)

# The hot sites' fast path runs with no vector register saved: what it
# runs is built not to touch one (src/agent/hot-fast.c says why;
# tests/e2e/test_hot.py checks the machine code).
VECTOR_FREE := src/agent/hot-fast.c src/agent/hot-run.c src/agent/record.c \
	src/agent/shadow.c src/agent/thread.c src/agent/hwshare.c src/trace/stream.c \
	src/trace/shadow.c src/engine/region.c src/util/log.c
$(call objs,agent,$(VECTOR_FREE)): AGENT_XFLAGS := -mgeneral-regs-only -fno-tree-loop-distribute-patterns
$(call objs,agent,$(VECTOR_FREE)): Makefile

$(B)/agent/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [agent] $<")
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(AGENT_XFLAGS) -fvisibility=hidden -ftls-model=initial-exec -DMMS_AGENT -c -o $@ $<
$(B)/agent/%.o: %.S
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASEFLAGS) -c -o $@ $<
$(B)/host/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(SANFLAGS) -c -o $@ $<
$(B)/host/%.o: %.S
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASEFLAGS) -c -o $@ $<

$(AGENT_SO): $(AGENT_OBJ)
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) -shared -o $@ $^ -Wl,-z,now -Wl,--no-undefined $(LIBS)

$(MMSCOPE): $(CLI_OBJ)
	@$(if $(Q),echo "  LD $@")
	$(Q)$(CC) $(SANFLAGS) -o $@ $^ $(CLI_LIBS)

$(B)/tests/unit/%: tests/unit/%.c $(LIB_HOST_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(SANFLAGS) -o $@ $(filter-out %.h,$^) -lcmocka $(CLI_LIBS)

# Fuzz harnesses: the debugger's protocol layer alone, nothing else linked
# (make check runs them briefly, make fuzz under AFL++ from build-fuzz/)
DEBUG_HOST_OBJ := $(call objs,host,$(DEBUG_SRC))
.SECONDARY: $(DEBUG_HOST_OBJ) # kept when a harness alone is made (run_rsp.sh)
$(B)/tests/fuzz/%: tests/fuzz/%.c $(DEBUG_HOST_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) $(SANFLAGS) -o $@ $(filter-out %.h,$^)

# Test programs are targets: plain builds, AVX-512 code only behind cpuid.
$(B)/tests/progs/%: tests/progs/%.c $(wildcard tests/progs/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC $<")
	$(Q)$(CC) -std=gnu11 -O1 -g -Wall -D_GNU_SOURCE -Iinclude -o $@ $< -lpthread $(if $(findstring uring,$*),-luring,) $(if $(findstring static,$*),-static,) $(if $(filter early,$*),-L$(B)/tests/progs -learly -Wl$(comma)-rpath$(comma)'$$ORIGIN',)

# early links with a library of its own (its constructor maps before the agent starts)
$(B)/tests/progs/early: $(B)/tests/progs/libearly.so
$(B)/tests/progs/libearly.so: tests/progs/lib/early.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O1 -g -Wall -shared -fPIC -o $@ $<

# The symbolizer's tests.  test_symbolize links the file it tests.
# symbols (test_symbols.py) loads libsymlib.so (argv[1]) and exports
# sym_watched so that a stripped copy can still be watched by name;
# stripped/ holds copies of both with no symbol table but .dynsym;
# debug/symbols.debug is the program's symbols and DWARF split out, and
# stripped/symbols-dl the stripped program with a .gnu_debuglink naming
# it.  debug/ is nowhere the default search looks: only show --debug-dir
# finds it.
SYM_DIR := $(B)/tests/progs
all: $(SYM_DIR)/libsymlib.so $(SYM_DIR)/stripped/libsymlib.so $(SYM_DIR)/stripped/symbols \
	$(SYM_DIR)/stripped/symbols-dl $(SYM_DIR)/debug/symbols.debug
$(B)/tests/unit/test_symbolize: $(B)/host/src/cli/symbolize.o
$(SYM_DIR)/symbols: tests/progs/symbols.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O1 -g -Wall -D_GNU_SOURCE -o $@ $< -ldl \
		-Wl,--export-dynamic-symbol=sym_watched -Wl,--build-id
$(SYM_DIR)/libsymlib.so: tests/progs/lib/symlib.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O1 -g -Wall -shared -fPIC -o $@ $<
$(SYM_DIR)/stripped/%: $(SYM_DIR)/%
	@mkdir -p $(@D)
	$(Q)strip --strip-all -o $@ $<
$(SYM_DIR)/debug/symbols.debug: $(SYM_DIR)/symbols
	@mkdir -p $(@D)
	$(Q)objcopy --only-keep-debug $< $@
$(SYM_DIR)/stripped/symbols-dl: $(SYM_DIR)/symbols $(SYM_DIR)/debug/symbols.debug
	@mkdir -p $(@D)
	$(Q)objcopy --strip-all --add-gnu-debuglink=$(SYM_DIR)/debug/symbols.debug $< $@

$(B)/bench/%: bench/%.c include/mmscope/trace-format.h
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -D_GNU_SOURCE -Iinclude -o $@ $< -lpthread

# ---- peers: Debian's own programs under mmscope (tests/e2e/test_peers_*.py) ----
# uring_ud_static is uring_ud.c with liburing.a inside the executable: libc
# stays dynamic, so the agent loads, and liburing's raw mmap syscalls are
# then the only way its rings get mapped.
PEER_BIN := $(B)/tests/progs/uring_ud_static
all: $(PEER_BIN)
$(B)/tests/progs/uring_ud_static: tests/progs/uring_ud.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC $< (liburing.a)")
	$(Q)$(CC) -std=gnu11 -O1 -g -Wall -D_GNU_SOURCE -Iinclude -o $@ $< -l:liburing.a

# make peers: the peer suite alone (make check runs it too, with the rest)
peers: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)MMS_BUILD="$(abspath $(B))" $(or $(wildcard /usr/bin/python3),python3) -m pytest \
		tests/e2e/test_peers_*.py -q -rsxX -p no:cacheprovider

# make bench-peers: what mmscope costs fio and tcpdump, section 7 of bench/RESULTS.md
bench-peers: all
	$(Q)B=$(B) bash bench/peers.sh

# make bench-gdb: the gdb stub against gdbserver, section 8 of bench/RESULTS.md
bench-gdb: all
	$(Q)B=$(B) bash bench/gdbstub.sh

# make bench-park: a park's look at each thread, section 9 of bench/RESULTS.md
bench-park: all
	$(Q)B=$(B) bash bench/park.sh

# make bench-core: what a core that includes the device costs, section 10
bench-core: all
	$(Q)B=$(B) bash bench/core.sh

# make bench-hot: a traced access on a patched hot site, section 11
bench-hot: all
	$(Q)B=$(B) bash bench/hot.sh

.PHONY: peers bench-peers bench-gdb bench-park bench-core bench-hot
# ---- end of peers ----

deps:
	$(Q)bash scripts/deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)B=$(B) bash scripts/check.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)B=$(B) bash scripts/demo.sh

bench: all
	$(Q)B=$(B) bash bench/run.sh; rc=$$?; B=$(B) bash bench/watch.sh || rc=1; B=$(B) bash bench/peers.sh || rc=1; B=$(B) bash bench/gdbstub.sh || rc=1; B=$(B) bash bench/park.sh || rc=1; B=$(B) bash bench/core.sh || rc=1; B=$(B) bash bench/hot.sh || rc=1; exit $$rc

fuzz: deps
	$(Q)B=$(B) bash tests/fuzz/run.sh

# .clang-format is the style; `clang-format -i FILE` fixes a file
format-check:
	$(Q)clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h') && echo "format: clean"

# The agent goes to lib/mmscope/ beside bin/: mmscope finds it there,
# relative to its own path (src/cli/main.c), so the tree can move.
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
install: $(AGENT_SO) $(MMSCOPE)
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/mmscope \
		$(DESTDIR)$(PREFIX)/include/mmscope $(DESTDIR)$(PREFIX)/share/doc/mmscope
	$(INSTALL) -m 0755 $(MMSCOPE) $(DESTDIR)$(PREFIX)/bin/mmscope
	$(INSTALL) -m 0644 $(AGENT_SO) $(DESTDIR)$(PREFIX)/lib/mmscope/libmmscope-agent.so
	$(INSTALL) -m 0644 include/mmscope/mmscope.h include/mmscope/trace-format.h \
		$(DESTDIR)$(PREFIX)/include/mmscope/
	$(INSTALL) -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/mmscope/
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/share/mmscope
	$(INSTALL) -m 0644 share/mmscope.gdb $(DESTDIR)$(PREFIX)/share/mmscope/mmscope.gdb

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mmscope \
		$(DESTDIR)$(PREFIX)/lib/mmscope/libmmscope-agent.so \
		$(DESTDIR)$(PREFIX)/include/mmscope/mmscope.h \
		$(DESTDIR)$(PREFIX)/include/mmscope/trace-format.h
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/mmscope $(DESTDIR)$(PREFIX)/share/mmscope
	-rmdir $(DESTDIR)$(PREFIX)/lib/mmscope $(DESTDIR)$(PREFIX)/include/mmscope

clean:
	rm -rf $(B)

.PHONY: all deps check demo bench fuzz clean format-check install uninstall
-include $(shell find $(B) -name '*.d' 2>/dev/null)
