# anydns — one plain Makefile.
#
#   make            release build (-O2) of the library and programs
#   make asan       the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   make test       installs dependencies, builds both, runs every test
#   make fuzz       runs each libFuzzer target for FUZZ_SECONDS
#   make demo       the multi-PoP lab (see README.md)
#
# Objects go to build/<variant>/ mirroring the source tree; header
# dependencies are tracked automatically (-MMD).

CC      ?= cc
CLANG   ?= clang
PKGS    := libzscanner liburcu yaml-0.1 libuv libmicrohttpd libmnl liburing libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CSTD    := -std=c17 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS_COMMON := $(CSTD) $(WARN) -Isrc -MMD -MP $(PKG_CFLAGS)
LIBS    := $(PKG_LIBS) -lpthread

CFLAGS_release := -O2 -g
LDFLAGS_release :=
CFLAGS_asan := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
LDFLAGS_asan := -fsanitize=address,undefined

# Modules, lowest first; each builds into its own archive and the daemon's
# library is all of them. A unit test test_<module>_<file>.c links exactly
# its module and the ones below it (deps_<module>).
MODULES := lib bgp dns conf zone answer xfr server health pop ctl
deps_lib    := lib
deps_bgp    := bgp lib
deps_conf   := conf dns lib
deps_dns    := dns lib
deps_zone   := zone dns lib
deps_answer := answer zone dns lib
deps_xfr    := xfr zone dns lib
deps_server := server xfr answer zone dns lib
deps_health := health dns lib
deps_pop    := pop health bgp dns lib
deps_ctl    := ctl pop health bgp server xfr answer zone conf dns lib
LIB_DIRS := $(addprefix src/,$(MODULES))
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
mod_srcs = $(wildcard src/$(1)/*.c)
mod_archives = $(foreach m,$(deps_$(2)),build/$(1)/libmod-$(m).a)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_NAMES := $(basename $(notdir $(UNIT_SRCS)))
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
unit_module = $(word 2,$(subst _, ,$(1)))

PROGS := anydns-engine-serve anydnsd anydnsc anydns-bgp-speak
PROG_SRCS_anydns-engine-serve := tests/conformance/engine_serve.c

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(basename $(notdir $(FUZZ_SRCS)))
FUZZ_SECONDS ?= 600

.PHONY: all release asan test unit fuzz fuzz-build demo clean install-deps lint

all: release

# --- one set of rules per variant ------------------------------------------
define module_rule
build/$(1)/libmod-$(2).a: $$(patsubst %.c,build/$(1)/%.o,$$(call mod_srcs,$(2)))
	@mkdir -p $$(@D)
	rm -f $$@
	ar rcs $$@ $$^
endef

define unit_rule
build/$(1)/tests/unit/$(2): build/$(1)/tests/unit/$(2).o $$(patsubst %.c,build/$(1)/%.o,$$(UNIT_HELPERS)) $$(call mod_archives,$(1),$$(call unit_module,$(2)))
	$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS) -lcmocka
endef

define variant_rules
build/$(1)/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) -c $$< -o $$@

build/$(1)/libanydns.a: $$(patsubst %.c,build/$(1)/%.o,$$(LIB_SRCS))
	@mkdir -p $$(@D)
	rm -f $$@
	ar rcs $$@ $$^

$$(foreach m,$$(MODULES),$$(eval $$(call module_rule,$(1),$$(m))))

$$(foreach t,$$(UNIT_NAMES),$$(eval $$(call unit_rule,$(1),$$(t))))

build/$(1)/bin/anydns-engine-serve: build/$(1)/tests/conformance/engine_serve.o $$(call mod_archives,$(1),answer)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS)

# The daemon links every module through ctl; the control CLI needs none
# but lib.
build/$(1)/bin/anydnsd: $$(patsubst %.c,build/$(1)/%.o,$$(wildcard src/anydnsd/*.c)) $$(call mod_archives,$(1),ctl)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS)

build/$(1)/bin/anydnsc: $$(patsubst %.c,build/$(1)/%.o,$$(wildcard src/anydnsc/*.c)) $$(call mod_archives,$(1),lib)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS)

# The BGP speaker alone on its own loop, driven by the interop tests.
build/$(1)/bin/anydns-bgp-speak: build/$(1)/tests/system/bgp_speak.o $$(call mod_archives,$(1),bgp)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS)

# Fuzz targets built as plain programs that replay a corpus (no fuzzer).
build/$(1)/fuzz-replay/%: build/$(1)/tests/fuzz/%.o build/$(1)/tests/fuzz/replay_main.o build/$(1)/libanydns.a
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS)

$(1): build/$(1)/libanydns.a \
	$$(addprefix build/$(1)/bin/,$$(PROGS)) \
	$$(addprefix build/$(1)/tests/unit/,$$(UNIT_NAMES)) \
	$$(addprefix build/$(1)/fuzz-replay/,$$(FUZZ_NAMES))
endef

$(eval $(call variant_rules,release))
$(eval $(call variant_rules,asan))

# --- libFuzzer builds (clang) -----------------------------------------------
FUZZ_CFLAGS := $(CSTD) -Wall -Wextra -Werror -Isrc $(PKG_CFLAGS) -O1 -g \
               -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard src/*/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(LIBS)

fuzz-build: $(addprefix build/fuzz/,$(FUZZ_NAMES))

fuzz: fuzz-build
	@for t in $(FUZZ_NAMES); do \
		corpus=tests/fuzz/corpus/$${t#fuzz_}; \
		work=build/fuzz/corpus-$${t#fuzz_}; mkdir -p $$work; \
		echo "== $$t for $(FUZZ_SECONDS)s"; \
		build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$$work $$corpus || exit 1; \
	done

# --- benchmark: anydnsd vs Knot DNS vs NSD (bench/README.md) --------------------
# BENCH_ARGS passes options to bench/run.py, e.g. make bench BENCH_ARGS=--quick
.PHONY: bench
bench: release
	/usr/bin/python3 bench/run.py $(BENCH_ARGS)

# --- benchmark: anycast failover against BIRD 2 (bench/README.md) -----------
# Needs root (network namespaces); FAILOVER_ARGS passes options to
# bench/failover.py, e.g. make bench-failover FAILOVER_ARGS="--trials 40"
.PHONY: bench-failover
bench-failover: release
	/usr/bin/python3 bench/failover.py $(FAILOVER_ARGS)

# --- benchmark: zone propagation in the anycast lab (bench/README.md) --------
# Needs root (network namespaces); PROPAGATION_ARGS passes options to
# bench/propagation.py, e.g. make bench-propagation PROPAGATION_ARGS="--changes 100"
.PHONY: bench-propagation
bench-propagation: build/release/bin/anydnsd build/release/bin/anydnsc
	/usr/bin/python3 bench/propagation.py $(PROPAGATION_ARGS)

# --- tests --------------------------------------------------------------------
install-deps:
	@scripts/install-deps

test: install-deps
	$(MAKE) release asan
	@/usr/bin/python3 tests/run-all.py

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr -Isrc $(LIB_DIRS)

# The multi-PoP lab (docs/lab.md): three regions in network namespaces,
# BIRD transit routers, anydnsd PoPs; up, catchment, failover, drain,
# recovery, down. anydns-lab brings the lab down whatever happens,
# Ctrl-C included.
demo: install-deps
	@if [ "$$(id -u)" -ne 0 ]; then echo "make demo: run as root (network namespaces)" >&2; exit 1; fi
	$(MAKE) build/release/bin/anydnsd build/release/bin/anydnsc
	@/usr/bin/python3 lab/anydns-lab demo

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
