/* SPDX-License-Identifier: MIT */
/*
 * The aggregator: folds decoded collector records into what the receipt shows — the process
 * table, file sets, network attempts — with every path made absolute and interned once.
 * Pure C, no Lua, no I/O: fed records, read back through the accessors below.
 */
#ifndef GH_AGGREGATOR_H
#define GH_AGGREGATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "collector/event.h"
#include "core/map.h"
#include "core/sockaddr.h"

struct gh_failed_exec {
	const struct gh_istr *path;
	int err; /* positive errno */
};

/* One program a process executed, in order (the last one is also the process's own fields). */
struct gh_exec {
	const struct gh_istr *exe, *cwd, *script;
	char *argv; /* NUL-separated, argv_len bytes */
	size_t argv_len;
	bool argv_truncated;
	uint64_t time_ns; /* CLOCK_MONOTONIC */
};

struct gh_proc {
	uint32_t pid, ppid;
	const struct gh_istr *exe;     /* NULL until known */
	const struct gh_istr *cwd;     /* working_dir: at its exec (or fork); NULL until known */
	const struct gh_istr *cur_cwd; /* now: relative names resolve against it */
	char *argv;		       /* NUL-separated, argv_len bytes */
	size_t argv_len;
	bool argv_truncated;
	bool exited;
	int status;	   /* wait status when exited */
	bool execed;	   /* exe comes from an exec it made (else the image it was forked with) */
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	struct gh_failed_exec *fexec;
	size_t nfexec, capfexec;
	struct gh_exec *execs;		/* every program it executed, in order */
	size_t nexecs, capexecs;	/* From its last exec (else inherited at fork): */
	const struct gh_istr *script;	/* the #! script it executed; exe is then its interpreter */
	const struct gh_istr *exe_real; /* the file the kernel ran, symlinks resolved */
	struct gh_exec_facts exec;	/* identity of the file run, credentials */
};

enum gh_pathset {
	GH_SET_READS,
	GH_SET_WRITES,
	GH_SET_DELETES,
	GH_SET_CREATED,
	GH_SET_DIRS, /* directories opened for listing */
	GH_NSETS,
};

struct gh_rename {
	const struct gh_istr *from, *to;
	uint32_t pid;
};

struct gh_failed_op {
	const struct gh_istr *path;
	const char *op; /* "open", "unlink", "rmdir", "rename" */
	int err;
	uint32_t pid;
};

struct gh_attempt {
	const char *op; /* "connect" or "sendto" */
	const struct gh_istr *dst;
	const char *protocol; /* "tcp", "udp", "unix", "raw", "other" */
	const char *result;   /* "connected", "refused", "in_progress", "sent", or an errno name */
	uint32_t pid;
	uint64_t count, sent, received;
};

struct gh_server {
	const struct gh_istr *address;
	const char *protocol;
	const char *op; /* "bind" or "listen" */
	uint32_t pid;
};

struct gh_accepted {
	const struct gh_istr *peer; /* the peer's address without its port */
	const struct gh_istr *local;
	const char *protocol;
	uint32_t pid;
	uint64_t count, sent, received;
};

/* What one record means once its paths are resolved (interned): see gh_agg_resolve. */
struct gh_resolved {
	const struct gh_istr *path, *path2; /* open/unlink/...: path; rename/link: from, to */
	const struct gh_istr *addr, *addr2; /* network: destination or local; accept: peer, local */
	const struct gh_istr *real;	    /* exec: the file the kernel runs, symlinks resolved */
	const char *protocol;
	const char *result;
};

/* The aggregate: opaque, read through the accessors below. */
struct gh_agg;

struct gh_agg_stats {
	uint64_t events, truncated, unknown_pid; /* records folded, cut strings, unknown pids */
	size_t strings, string_bytes;		 /* interned paths and addresses */
};

/* A new, empty aggregate; base_ns (CLOCK_MONOTONIC) is the command's start. NULL: no memory. */
struct gh_agg *gh_agg_new(uint64_t base_ns);
void gh_agg_free(struct gh_agg *a);

/* The command's process, known before any record: its pid, parent, cwd and image. */
int gh_agg_root(struct gh_agg *a, uint32_t pid, uint32_t ppid, const char *cwd, const char *exe);

/* Resolve a record's paths and addresses (against the process's cwd as the aggregate knows it
 * now); r stays valid while a lives. 0 or -ENOMEM. */
int gh_agg_resolve(struct gh_agg *a, const struct gh_event_view *v, struct gh_resolved *r);
/* Fold a resolved record in. 0 or -ENOMEM. */
int gh_agg_apply(struct gh_agg *a, const struct gh_event_view *v, const struct gh_resolved *r);
/* Both. */
int gh_agg_event(struct gh_agg *a, const struct gh_event_view *v);

/* A socket's byte counts, read from the kernel at the end. */
int gh_agg_sock_bytes(struct gh_agg *a, uint64_t sock, uint64_t sent, uint64_t received);
/* Network totals: sum over the attempts and accepted connections. */
void gh_agg_net_totals(const struct gh_agg *a, uint64_t *sent, uint64_t *received);

/* What the receipt is built from: arrays owned by the aggregate, valid until the next
 * record is folded in or the aggregate is freed; *n is set to their length. */
struct gh_proc *const *gh_agg_procs(const struct gh_agg *a, size_t *n);
const struct gh_istr *const *gh_agg_set(const struct gh_agg *a, enum gh_pathset set, size_t *n);
const struct gh_rename *gh_agg_renames(const struct gh_agg *a, size_t *n);
const struct gh_failed_op *gh_agg_failed(const struct gh_agg *a, size_t *n);
const struct gh_attempt *gh_agg_attempts(const struct gh_agg *a, size_t *n);
const struct gh_server *gh_agg_servers(const struct gh_agg *a, size_t *n);
const struct gh_accepted *gh_agg_accepted(const struct gh_agg *a, size_t *n);
/* The command's start (CLOCK_MONOTONIC); set when the command is released. */
uint64_t gh_agg_base(const struct gh_agg *a);
void gh_agg_set_base(struct gh_agg *a, uint64_t base_ns);
void gh_agg_stats(const struct gh_agg *a, struct gh_agg_stats *st);
/* The first -ENOMEM met while folding (the aggregate is incomplete), or 0. */
int gh_agg_error(const struct gh_agg *a);

#endif
