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
	-DGH_VERSION='"$(VERSION)"' -I$(OBJ) -Isrc $(LUA_CFLAGS)
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

CORE_SRCS := buf.c outfile.c signals.c json.c hash.c btf_min.c backend.c backend_process.c backend_firecracker.c guest.c \
	event.c path.c map.c aggregator.c collector.c
LUA_SRCS := lcore.c ljson.c lbackend.c lglasshouse.c lcollector.c laggregator.c
CORE_OBJS := $(addprefix $(OBJ)/,$(CORE_SRCS:.c=.o))
LUA_OBJS := $(addprefix $(OBJ)/,$(LUA_SRCS:.c=.o))
BIN_SRCS := main.c repl.c $(CORE_SRCS) $(LUA_SRCS)
LUA_FILES := $(shell find lua -name '*.lua' | sort)

C_TESTS := test_json test_btf_min test_backend test_guest test_firecracker test_event

# The decoder and the aggregator again under ASan/UBSan, and as a libFuzzer target: they take
# what came through the ring buffer.
SAN_SRCS := $(addprefix src/,event.c path.c map.c aggregator.c buf.c)
SAN_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

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

$(OBJ)/%.o: src/%.c $(wildcard src/*.h) bpf/glasshouse.h | $(OBJ)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(ASAN)/obj/%.o: src/%.c $(wildcard src/*.h) bpf/glasshouse.h | $(ASAN)/obj
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

$(OBJ)/collector.o $(ASAN)/obj/collector.o: $(OBJ)/glasshouse.skel.h

# Syscall names for syscalls.counts, from the kernel headers of this architecture.
$(OBJ)/syscall_names.h: | $(OBJ)
	echo '#include <asm/unistd.h>' | $(CC) -E -dM - | \
		awk '$$2 ~ /^__NR_/ && $$3 ~ /^[0-9]+$$/ { sub("__NR_", "", $$2); \
		printf "\t[%s] = \"%s\",\n", $$3, $$2 }' | sort -t'[' -k2 -n > $@.body
	{ echo 'static const char *const gh_syscall_names[] = {'; cat $@.body; echo '};'; } > $@
	rm -f $@.body

$(OBJ)/event.o $(ASAN)/obj/event.o: $(OBJ)/syscall_names.h

bpf-objects: $(OBJ)/glasshouse.bpf.o

# The Lua files are assembled into this object with .incbin.
$(OBJ)/lglasshouse.o $(ASAN)/obj/lglasshouse.o: $(LUA_FILES)

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
	$(CC) $(SAN_FLAGS) -std=gnu11 -D_GNU_SOURCE -I$(OBJ) -Isrc -o $@ tests/c/test_event.c $(SAN_SRCS) -lcmocka

$(BUILD)/tests/fuzz_event: tests/fuzz/fuzz_event.c $(SAN_SRCS) $(OBJ)/syscall_names.h | $(BUILD)/tests
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -I$(OBJ) -Isrc \
		-o $@ tests/fuzz/fuzz_event.c $(SAN_SRCS)

fuzz: $(BUILD)/tests/fuzz_event
	$(BUILD)/tests/fuzz_event -max_total_time=60 -max_len=4096

test-c-build: $(addprefix $(BUILD)/tests/,$(C_TESTS)) $(BUILD)/tests/test_event_san $(BUILD)/tests/fuzz_event

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
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/glasshouse/examples
	install -m 0755 glasshouse $(DESTDIR)$(PREFIX)/bin/glasshouse
	if ls lua/examples/*.lua >/dev/null 2>&1; then \
		install -m 0644 lua/examples/*.lua $(DESTDIR)$(PREFIX)/share/glasshouse/examples/; fi

format:
	clang-format -i src/*.c src/*.h tests/c/*.c

clean:
	rm -rf $(BUILD) glasshouse

.DELETE_ON_ERROR:
