# SPDX-License-Identifier: MIT
# glasshouse: `make` builds ./glasshouse; `make test` and `make demo` install what is missing first.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD := build
OBJ := $(BUILD)/obj
VERSION := 0.3.0

CC ?= cc
CFLAGS ?= -O2 -g
LUA_CFLAGS := $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
GH_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fPIC -D_GNU_SOURCE \
	-DGH_VERSION='"$(VERSION)"' -I$(OBJ) -Isrc -I. $(LUA_CFLAGS)
ALL_CFLAGS := $(CFLAGS) $(GH_CFLAGS)
LIBS := $(LUA_LIBS) -lbpf -lelf -lz -lcrypto -lm
NATIVE_LIBS := -lbpf -lelf -lz -lcrypto -lm

# The BPF side: CO-RE, compiled with clang against the running kernel's BTF, embedded in the
# binary through a bpftool skeleton.
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -g -O2 -mcpu=v3 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OBJ) -Ibpf \
	-I/usr/include/$(MULTIARCH)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

# The layers, each in its folder of src/ (ARCHITECTURE.md has the map).
CORE_SRCS := $(addprefix core/,names.c buf.c sockaddr.c outfile.c signals.c json.c options.c hash.c sign.c path.c map.c priv.c \
	aggregator.c pipeline.c evlog.c) \
	$(addprefix collector/,btf_min.c event.c collector.c) \
	$(addprefix backend/,backend.c process.c command.c stream.c firecracker.c guest.c)
LUA_SRCS := $(addprefix bindings/,lcore.c lpriv.c ljson.c lbackend.c registry.c lcollector.c lenforce.c levlog.c \
	laggregator.c levidence.c)
CORE_OBJS := $(addprefix $(OBJ)/,$(CORE_SRCS:.c=.o))
LUA_OBJS := $(addprefix $(OBJ)/,$(LUA_SRCS:.c=.o))
CLI_SRCS := $(patsubst src/%,%,$(wildcard src/cli/*.c))
BIN_SRCS := $(CLI_SRCS) $(CORE_SRCS) $(LUA_SRCS)
HEADERS := $(wildcard src/*/*.h) bpf/glasshouse.h
LUA_FILES := $(shell find lua -name '*.lua' | sort)

C_TESTS := test_json test_options test_btf_min test_backend test_guest test_firecracker test_event test_priv test_evlog

# The decoder and the aggregator again under ASan/UBSan, and as a libFuzzer target: they take
# what came through the ring buffer.
SAN_SRCS := $(addprefix src/,core/names.c collector/event.c core/path.c core/map.c core/aggregator.c core/buf.c \
	core/sockaddr.c)
SAN_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -Isrc -I.
# Undefined behaviour stops these targets; fuzz_event still only reports it, as it finds some in
# the aggregator (negating a ret of INT64_MIN).
FUZZ_STRICT := $(FUZZ_FLAGS) -fno-sanitize-recover=all

# The whole binary under ASan/UBSan (`make asan`), from the same sources into its own folder;
# the cli and eBPF suites run it again as asan-cli and asan-bpf. With clang, whose one runtime
# writes UBSan's reports to log_path too (gcc's separate libubsan prints them on stderr, where
# run-all.sh cannot collect them).
ASAN := $(BUILD)/asan
ASAN_CC ?= clang
ASAN_OBJS := $(addprefix $(ASAN)/obj/,$(BIN_SRCS:.c=.o))

.PHONY: fuzz bpf-objects all asan deps test test-c test-c-build test-lua test-cli demo bench install clean format check-format

all: glasshouse $(BUILD)/lib/glasshouse/native.so

deps:
	@sh scripts/install-deps.sh

$(OBJ) $(ASAN)/obj $(BUILD)/lib/glasshouse $(BUILD)/tests:
	@mkdir -p $@

$(OBJ)/%.o: src/%.c $(HEADERS) | $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(ASAN)/obj/%.o: src/%.c $(HEADERS) | $(ASAN)/obj
	@mkdir -p $(@D)
	$(ASAN_CC) $(SAN_FLAGS) $(GH_CFLAGS) -c $< -o $@

$(OBJ)/vmlinux.h: | $(OBJ)
	bpftool btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OBJ)/glasshouse.bpf.o: bpf/glasshouse.bpf.c $(wildcard bpf/*.h) $(OBJ)/vmlinux.h
	clang $(BPF_CFLAGS) -c $< -o $@.tmp
	llvm-strip -g $@.tmp -o $@ 2>/dev/null || mv $@.tmp $@
	rm -f $@.tmp

# The same object with a one-slot table of tracked threads' registers, so that the eBPF suite
# tests its fallback to the tid bitmap (GLASSHOUSE_BPF_DIR loads it).
$(BUILD)/tests/rslots1/glasshouse.bpf.o: bpf/glasshouse.bpf.c $(wildcard bpf/*.h) $(OBJ)/vmlinux.h
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -DGH_RSLOTS=1 -c $< -o $@

$(OBJ)/glasshouse.skel.h: $(OBJ)/glasshouse.bpf.o
	bpftool gen skeleton $< name glasshouse_bpf > $@.tmp && mv $@.tmp $@

$(OBJ)/collector/collector.o $(ASAN)/obj/collector/collector.o: $(OBJ)/glasshouse.skel.h

# Syscall names for syscalls.counts, from the kernel headers of this architecture.
$(OBJ)/syscall_names.h: | $(OBJ)
	echo '#include <asm/unistd.h>' | $(CC) -E -dM - | \
		awk '$$2 ~ /^__NR_/ && $$3 ~ /^[0-9]+$$/ { sub("__NR_", "", $$2); \
		printf "\t[%s] = \"%s\",\n", $$3, $$2 }' | sort -t'[' -k2 -n > $@.body
	{ echo 'static const char *const gh_syscall_names[] = {'; cat $@.body; echo '};'; } > $@
	rm -f $@.body

$(OBJ)/collector/event.o $(ASAN)/obj/collector/event.o: $(OBJ)/syscall_names.h

bpf-objects: $(OBJ)/glasshouse.bpf.o

# The subcommands written in Lua, lua/NAME.lua, as GH_SCRIPT(NAME) lines: registry.c compiles
# in each one listed (the folder is a prerequisite, so a removed script goes too).
CLI_SCRIPTS := $(wildcard lua/*.lua)
$(OBJ)/lua_scripts.h: lua | $(OBJ)
	printf 'GH_SCRIPT(%s)\n' $(basename $(notdir $(CLI_SCRIPTS))) > $@

# The Lua files are assembled into this object with .incbin.
$(OBJ)/bindings/registry.o $(ASAN)/obj/bindings/registry.o: $(LUA_FILES) $(OBJ)/lua_scripts.h

glasshouse: $(addprefix $(OBJ)/,$(BIN_SRCS:.c=.o))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS) -lreadline

asan: $(ASAN)/glasshouse

$(ASAN)/glasshouse: $(ASAN_OBJS)
	$(ASAN_CC) $(SAN_FLAGS) $(GH_CFLAGS) -o $@ $^ $(LIBS) -lreadline

# The same objects as a Lua C module, so busted specs drive them from a stock lua5.4.
$(BUILD)/lib/glasshouse/native.so: $(CORE_OBJS) $(LUA_OBJS) | $(BUILD)/lib/glasshouse
	$(CC) $(ALL_CFLAGS) -shared -o $@ $^ $(NATIVE_LIBS)

$(BUILD)/tests/workload: tests/bpf/workload.c | $(BUILD)/tests
	$(CC) -O2 -Wall -Wextra -o $@ $< -lpthread

$(BUILD)/tests/%: tests/c/%.c $(CORE_OBJS) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcmocka $(LIBS)

test: deps
	@$(MAKE) --no-print-directory all asan
	@bash tests/run-all.sh

$(BUILD)/tests/test_event_san: tests/c/test_event.c $(SAN_SRCS) $(OBJ)/syscall_names.h | $(BUILD)/tests
	$(CC) $(SAN_FLAGS) -std=gnu11 -D_GNU_SOURCE -I$(OBJ) -Isrc -I. -o $@ tests/c/test_event.c $(SAN_SRCS) -lcmocka

$(BUILD)/tests/fuzz_event: tests/fuzz/fuzz_event.c $(SAN_SRCS) $(OBJ)/syscall_names.h | $(BUILD)/tests
	clang $(FUZZ_FLAGS) -I$(OBJ) -o $@ tests/fuzz/fuzz_event.c $(SAN_SRCS)

# gh.json: the encoder and the byte unescape in a Lua state of their own, with lua-cjson, and
# lua/glasshouse/json.lua and the checks (fuzz_json.lua) read from this tree when it starts.
$(BUILD)/tests/fuzz_json: tests/fuzz/fuzz_json.c src/bindings/ljson.c src/core/json.c src/core/buf.c \
		$(HEADERS) \
		| $(BUILD)/tests
	clang $(FUZZ_STRICT) $(LUA_CFLAGS) -DGH_SRC_DIR='"$(CURDIR)"' -o $@ \
		$(filter %.c,$^) $(LUA_LIBS) -lm

# The parsers of settings given as text: GLASSHOUSE_* numbers, --backend-opt KEY=VALUE.
$(BUILD)/tests/fuzz_options: tests/fuzz/fuzz_options.c src/core/options.c src/core/options.h | $(BUILD)/tests
	clang $(FUZZ_STRICT) -o $@ $(filter %.c,$^)

FUZZERS := $(addprefix $(BUILD)/tests/,fuzz_event fuzz_json fuzz_options)

fuzz: $(FUZZERS)
	$(BUILD)/tests/fuzz_event -max_total_time=60 -max_len=4096
	mkdir -p $(BUILD)/tests/fuzz_json.corpus
	$(BUILD)/tests/fuzz_json -max_total_time=60 -max_len=4096 -dict=tests/fuzz/json.dict \
		$(BUILD)/tests/fuzz_json.corpus tests/fuzz/json_seeds
	$(BUILD)/tests/fuzz_options -max_total_time=60 -max_len=64

test-c-build: $(addprefix $(BUILD)/tests/,$(C_TESTS)) $(BUILD)/tests/test_event_san $(FUZZERS)

test-c: test-c-build
	@bash tests/run-all.sh c

test-lua: all
	@bash tests/run-all.sh lua

test-cli: all
	@bash tests/run-all.sh cli

demo: deps
	@$(MAKE) --no-print-directory all $(BUILD)/demo/workload
	@bash demo/run-demo.sh

$(BUILD)/demo/workload: demo/workload.c
	@mkdir -p $(BUILD)/demo
	$(CC) -O2 -Wall -Wextra -o $@ $< -lpthread

bench: deps
	@BENCH=1 sh scripts/install-deps.sh
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh

install: glasshouse
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/glasshouse/examples \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 glasshouse $(DESTDIR)$(PREFIX)/bin/glasshouse
	install -m 0644 docs/glasshouse.1 $(DESTDIR)$(PREFIX)/share/man/man1/glasshouse.1
	install -m 0644 scripts/glasshouse.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/glasshouse
	if ls lua/examples/*.lua >/dev/null 2>&1; then \
		install -m 0644 lua/examples/*.lua $(DESTDIR)$(PREFIX)/share/glasshouse/examples/; fi
	@# CAPS=1: any user may run it and get a full receipt of their own command (README,
	@# "Running without root"); the capabilities it needs to load its eBPF programs, no more.
	if [ "$(CAPS)" = 1 ]; then setcap cap_bpf,cap_perfmon+ep $(DESTDIR)$(PREFIX)/bin/glasshouse; fi

FORMATTED := $(wildcard src/*/*.c src/*/*.h tests/c/*.c tests/fuzz/*.c)

format:
	clang-format -i $(FORMATTED)

# Fails, naming the files, when any differs from clang-format's output (make test runs it).
check-format:
	@bad=$$(for f in $(FORMATTED); do clang-format "$$f" | cmp -s - "$$f" || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "not formatted (make format):" $$bad >&2; exit 1; fi

clean:
	rm -rf $(BUILD) glasshouse

.DELETE_ON_ERROR:
