/* SPDX-License-Identifier: MIT */
/* Decoding ring-buffer records (bpf/glasshouse.h) into views that point into the record. */
#ifndef GH_EVENT_H
#define GH_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/glasshouse.h"
#include "core/names.h"

struct gh_str {
	const char *p; /* not NUL-terminated */
	size_t len;
};

/* An exec's facts from the kernel: the run file's identity and the credentials it runs with. */
struct gh_exec_facts {
	bool has_ident; /* the kernel reported the run file's identity below */
	bool has_creds;
	uint64_t dev; /* the file's device, as stat(2) numbers it */
	uint64_t ino;
	int64_t ctime_sec; /* its change time */
	uint32_t ctime_nsec;
	uint32_t uid, gid, euid; /* real uid and gid, effective uid */
};

struct gh_event_view {
	struct gh_event h;	      /* copied: records need not be aligned */
	struct gh_str s[GH_MAX_STRS]; /* missing strings are empty */
	unsigned truncated;	      /* strings cut at a capture limit */
	/* What the record's bits mean: only this decoder and bpf/glasshouse.h read the bits. */
	int err;	     /* the syscall failed with this errno (fork and exit: 0) */
	bool has_syscall;    /* a syscall's record; false for the sched events */
	bool argv_truncated; /* exec: argv was cut at the capture limit */
	bool created;	     /* open: it created the file */
	bool directory;	     /* open: the file is a directory */
	bool rmdir;	     /* unlink: rmdir, or unlinkat with AT_REMOVEDIR */
	bool walked;	     /* s1 (and s3) are kernel path walks, not names */
	bool path_only;	     /* open: O_PATH, a handle that neither reads nor writes */
	bool reads;	     /* open: read access (O_RDONLY or O_RDWR) */
	bool writes;	/* open: may change the file (write access, O_CREAT, O_TRUNC, O_APPEND) */
	bool script;	/* exec: the file named (s0) is not the one run (s3): #! or binfmt_misc */
	bool enforced;	/* the kernel killed the task for this event: a policy's trigger */
	bool cwd_moved; /* cwd: the same cwd walked again after a rename, not a chdir */
	struct gh_exec_facts exec; /* exec: what really runs, and as whom */
};

/*
 * Check a record and point v at its parts: no allocation, no copy of the strings.
 * 0, or -EBADMSG when it is shorter than its header or its strings say, -EPROTO for an unknown
 * kind or too many strings.
 */
int gh_event_decode(const void *data, size_t len, struct gh_event_view *v);

/* "open", "exec", ...: the event kinds as Lua and the docs name them; NULL if unknown. */
const char *gh_event_kind_name(unsigned kind);

/* The name of syscall number nr on this architecture, NULL if unknown. */
const char *gh_syscall_name(unsigned nr);

#endif
