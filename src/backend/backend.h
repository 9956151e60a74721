/* SPDX-License-Identifier: MIT */
/* Backends launch the command: a small vtable (prepare, start, release, wait, cleanup, metadata).
 */
#ifndef GH_BACKEND_H
#define GH_BACKEND_H

#include <stdint.h>
#include <sys/types.h>

#include "core/hash.h"
#include "core/names.h"
#include "backend/guest.h"
#include "core/priv.h"

/* The command's network (--network): glasshouse's own, or a new namespace. */
enum gh_network {
	GH_NET_HOST,
	GH_NET_NONE,	 /* a new network namespace with no interface up */
	GH_NET_LOOPBACK, /* a new network namespace with only lo up */
};

/* Something the wait loop services while the command runs (the collector's ring buffer). */
struct gh_pollable {
	int fd;			 /* readable when work is waiting; -1 for none */
	int interval_ms;	 /* call ready() at least this often; <= 0: only on fd */
	int (*ready)(void *ctx); /* < 0 stops further calls; the wait itself goes on */
	void *ctx;
};

struct gh_backend_config {
	int guest;		    /* process: guest/init duties (mounts, memlock, reaping) */
	char *fc_kernel;	    /* firecracker: kernel image */
	char *fc_rootfs;	    /* firecracker: root filesystem image */
	char *fc_binary;	    /* firecracker: VMM binary (PATH-searched when unset) */
	char *fc_socket;	    /* firecracker: API socket path */
	const struct gh_user *user; /* process: run as this user (copied); NULL: as glasshouse */
	enum gh_network network;    /* process */
	int wait_all;		    /* process: wait for the whole tree, not just the command */
	int64_t wait_all_ms;	    /* at most this long after the command exits; < 0: no limit */
};

struct gh_result {
	pid_t pid;
	int exited;    /* the command ran and its status is known */
	int exit_code; /* -1 when it died of a signal or never ran */
	int signal;    /* terminating signal, 0 if none */
	int core_dumped;
	int received_signal;	   /* first SIGINT/SIGTERM/SIGHUP/SIGQUIT glasshouse got */
	int64_t start_realtime_ns; /* wall clock when the command was released */
	int64_t duration_ns;	   /* release to reap, monotonic */
	int64_t cpu_time_us;	   /* user + system of the command and its waited-for children */
	long max_rss_kb;
	uint64_t stdout_bytes, stderr_bytes;
	int stdout_reader_closed; /* writing it on failed with EPIPE: the pipe was closed */
	int stderr_reader_closed;
	int stdout_more_may_follow; /* the pipe still had a writer when glasshouse stopped reading
				     */
	int stderr_more_may_follow;
	int setup_failed; /* the command's user or namespace could not be set up: nothing ran */
	char stdout_hash[GH_SHA256_HEX_LEN + 1];
	char stderr_hash[GH_SHA256_HEX_LEN + 1];
};

enum gh_backend_state {
	GH_BACKEND_NEW,
	GH_BACKEND_PREPARED,
	GH_BACKEND_STARTED, /* forked, held at the gate */
	GH_BACKEND_RUNNING, /* released */
	GH_BACKEND_DONE,    /* waited */
	GH_BACKEND_CLEANED,
};

struct gh_backend;

struct gh_backend_ops {
	const char *name;
	const char *isolation;
	int (*prepare)(struct gh_backend *b);
	int (*start)(struct gh_backend *b, char *const argv[]);
	int (*release)(struct gh_backend *b);
	int (*wait)(struct gh_backend *b, const struct gh_pollable *p);
	void (*cleanup)(struct gh_backend *b);
};

struct gh_backend {
	const struct gh_backend_ops *ops;
	struct gh_backend_config cfg;
	enum gh_backend_state state;
	struct gh_result result;
	struct gh_guest_report guest;
	char errmsg[512]; /* what the last failing step said, for the user */
	void *priv;
};

/* Make a backend by name ("process", "firecracker"); cfg strings are copied. 0, -EINVAL, -ENOMEM.
 */
int gh_backend_new(const char *name, const struct gh_backend_config *cfg, struct gh_backend **out);
/* Each step returns 0 or -errno and leaves a message in b->errmsg; -EBADFD for out-of-order calls.
 */
int gh_backend_prepare(struct gh_backend *b);
/* Fork the command held at a gate: nothing of it runs until gh_backend_release. */
int gh_backend_start(struct gh_backend *b, char *const argv[]);
/* Let the command exec; -errno with "<cmd>: <reason>" when it could not start. */
int gh_backend_release(struct gh_backend *b);
/* Run until the command exits, streaming its output; p may be NULL. Fills b->result. */
int gh_backend_wait(struct gh_backend *b, const struct gh_pollable *p);
/* Reap what is left and release resources; safe to call in any state, more than once. */
void gh_backend_cleanup(struct gh_backend *b);
void gh_backend_free(struct gh_backend *b);

extern const struct gh_backend_ops gh_backend_process_ops;
extern const struct gh_backend_ops gh_backend_firecracker_ops;

#endif
