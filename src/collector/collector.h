/* SPDX-License-Identifier: MIT */
/*
 * The collector: loads and attaches the BPF programs, registers the command's process before
 * it runs, drains the one ring buffer and hands each decoded record to a sink. C only; the
 * Lua binding (lcollector.c) is a thin wrapper.
 */
#ifndef GH_COLLECTOR_H
#define GH_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collector/event.h"

struct gh_collector;

/* Receives every decoded record; a non-zero return stops this drain and is passed back. */
typedef int (*gh_sink_fn)(void *ctx, const struct gh_event_view *ev);

struct gh_collector_opts {
	size_t ring_bytes;    /* ring buffer size, a power of two >= 4096 (0: 16 MiB) */
	unsigned max_sockets; /* sockets whose byte counts are certainly kept (0: 131072) */
	int capture_argv;     /* 0: exec records carry no argv */
	const char *bpf_dir;  /* load glasshouse.bpf.o from here instead of the built-in one */
	gh_sink_fn sink;
	void *ctx;
};

#define GH_PROBES 7

struct gh_collector_stats {
	uint64_t events;       /* records delivered to the sink */
	uint64_t malformed;    /* records the decoder refused */
	uint64_t lost;	       /* records the kernel side dropped (ring full), counted there */
	uint64_t truncated;    /* strings cut at a capture limit */
	uint64_t sockets_full; /* sockets whose bytes were not counted: the table was full */
	int root_registered;   /* the command's process was registered before it ran */
};

/*
 * Load and attach. On failure returns -errno and writes one line saying what is missing to
 * err (for example no BTF, no permission); *out is NULL then. Probes that fail to attach
 * while the core ones work are reported by gh_collector_probe, not as a failure.
 */
int gh_collector_open(struct gh_collector **out, const struct gh_collector_opts *o, char *err,
		      size_t errlen);
void gh_collector_close(struct gh_collector *c);

/* Track pid (as glasshouse's pid namespace numbers it) from its next syscall on. */
int gh_collector_track(struct gh_collector *c, pid_t pid);
/* The pid the kernel registered, 0 while still pending. */
int gh_collector_root_registered(struct gh_collector *c);

/* A descriptor readable when the ring passed its wakeup threshold (epoll). */
int gh_collector_fd(struct gh_collector *c);
/* Drain everything in the ring now. Records delivered, or the sink's non-zero, or -errno. */
int gh_collector_drain(struct gh_collector *c);

void gh_collector_stats(struct gh_collector *c, struct gh_collector_stats *st);
/* Probe i (0 <= i < GH_PROBES): its name, and whether it is attached. NULL past the end. */
const char *gh_collector_probe(struct gh_collector *c, int i, int *attached);
/* counts[nr] for nr < n: the traced processes' syscalls, summed over CPUs. 0 or -errno. */
int gh_collector_syscall_counts(struct gh_collector *c, uint64_t *counts, size_t n);
/* Call fn for every socket the tree read or wrote: its inode number and byte counts. */
int gh_collector_sock_bytes(struct gh_collector *c,
			    int (*fn)(void *ctx, uint64_t sock, const struct gh_sock_bytes *b),
			    void *ctx);

/*
 * Enforcement (bpf/enforce.bpf.h). Rules first, then gh_collector_enforce turns the kernel's
 * decisions on, before the command starts.
 */
/* A path rule entry: the exact path (prefix 0) or every path under the directory path (prefix
 * 1; "" is every path), with bits (GH_ENF_PATH_BITS of each kind) those of every rule matching
 * the entry's whole key: the kernel reads only the longest matching entry. -ENAMETOOLONG when
 * it does not fit a key: the kernel cannot decide it. */
int gh_collector_enforce_path(struct gh_collector *c, unsigned bits, const char *path, size_t len,
			      int prefix);
/* A connect rule (key->any_addr, key->any_port mark wildcards; the others zero). */
int gh_collector_enforce_net(struct gh_collector *c, int deny, const struct gh_enf_net *key);
/* What the kernel decides, per kind: GH_ENF_* bits (0: user space judges it alone). */
struct gh_enf_modes {
	unsigned exec, read, write, net;
};
int gh_collector_enforce(struct gh_collector *c, const struct gh_enf_modes *m);
/* Stop the tree: every task of it is killed at its next syscall exit, and those user space can
 * name now (gh_collector_kill_tree) at once. */
int gh_collector_stop(struct gh_collector *c);
/* Whether the tree was stopped (by the kernel's own decision or gh_collector_stop). */
int gh_collector_stopped(struct gh_collector *c);
/* SIGKILL every thread of the tree the kernel still tracks, where glasshouse's pid namespace
 * is the initial one (the kernel's tids are then glasshouse's): their count, or -errno
 * (-EOPNOTSUPP in another pid namespace: the caller kills the pids it knows). Each thread is
 * signalled through a pidfd taken before its tracked bit is checked again, so an id reused by
 * a process outside the tree is never signalled. */
int gh_collector_kill_tree(struct gh_collector *c);
/* Threads of the tree still alive (tracked by the kernel). */
int gh_collector_tree_alive(struct gh_collector *c);

#endif
