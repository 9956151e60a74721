/* SPDX-License-Identifier: MIT */
/* The record the BPF programs send through the ring buffer; shared by kernel and user side.
 * A record is a gh_event header, then nstr strings, each a little-endian u16 length and that
 * many bytes (no NUL). Socket addresses travel as strings holding the raw struct sockaddr. */
#ifndef GH_EVENT_ABI_H
#define GH_EVENT_ABI_H

enum gh_ev_kind {
	GH_EV_FORK = 1,		/* a tracked process made a process: pid child, ppid its parent,
				   ret the process that forked (differs under CLONE_PARENT) */
	GH_EV_EXEC = 2,		/* exec succeeded: s0 filename, s1 argv (NUL-separated), s2 cwd,
				   s3 the file the kernel really runs (for a #! script, its
				   interpreter), walked; sock its inode, mode its device, exe_ctime
				   its change time; uid/gid/euid the credentials it runs with */
	GH_EV_EXEC_FAIL = 3,	/* execve/execveat failed: s0 filename, s1 dirfd path, ret -errno */
	GH_EV_EXIT = 4,		/* the last thread of a process exited: ret = wait status */
	GH_EV_CWD = 5,		/* chdir/fchdir succeeded: s0 = the new cwd, walked; with
				   GH_F_CWD_MOVED (no syscall): the same cwd walked again, a
				   rename having maybe moved a directory on its path */
	GH_EV_OPEN = 6,		/* open/openat/openat2/creat: s0 path, s1 dirfd path */
	GH_EV_UNLINK = 7,	/* unlink/unlinkat/rmdir: s0 path, s1 dirfd path */
	GH_EV_RENAME = 8,	/* rename*: s0 from, s1 from's dir, s2 to, s3 to's dir */
	GH_EV_MKDIR = 9,	/* mkdir/mkdirat: s0 path, s1 dirfd path */
	GH_EV_SYMLINK = 10,	/* symlink/symlinkat: s0 target as written, s2 linkpath, s3 its dir */
	GH_EV_LINK = 11,	/* link/linkat: s0 old, s1 old's dir, s2 new, s3 new's dir */
	GH_EV_MKNOD = 12,	/* mknod/mknodat: s0 path, s1 dirfd path */
	GH_EV_CONNECT = 13,	/* connect: s0 destination sockaddr */
	GH_EV_SENDTO = 14,	/* sendto/sendmsg naming a destination: s0 sockaddr, ret bytes */
	GH_EV_BIND = 15,	/* bind: s0 local sockaddr */
	GH_EV_LISTEN = 16,	/* listen: s0 the socket's local sockaddr as the kernel knows it */
	GH_EV_ACCEPT = 17,	/* accept/accept4: s0 peer sockaddr, s1 local sockaddr */
	GH_EV_CONNECT_RESULT = 18, /* a non-blocking connect's outcome, once known (no syscall):
				   pid the process that connected, ret 0 connected or -errno, sock
				   its inode, s0 the peer sockaddr */
	GH_EV_TRUNCATE = 19,	/* truncate (by path; ftruncate works on a descriptor already opened
				   for writing): s0 path, s1 empty (relative to the cwd) */
	GH_EV_KIND_MAX = 20,
};

/* gh_event.flags2 */
#define GH_F_IS_DIR	(1u << 0)	/* the opened file is a directory */
#define GH_F_CREATED	(1u << 1)	/* the open created the file */
#define GH_F_RMDIR	(1u << 2)	/* rmdir, or unlinkat with AT_REMOVEDIR */
#define GH_F_SCRIPT	(1u << 4)	/* exec: the file named was not the one run (#!, binfmt_misc) */
#define GH_F_ENFORCED	(1u << 5)	/* the kernel found this exec, connect or file record
					   violating the policy it enforces: the task was killed,
					   the tree stopped */
#define GH_F_WALKED	(1u << 3)	/* s1 (and s3) are kernel path walks: components leaf first,
					   each ended by NUL (the root: one empty component) */
#define GH_F_CWD_MOVED	(1u << 6)	/* cwd: walked again after a rename, not a chdir */
#define GH_F_IN_ROOT	(1u << 7)	/* openat2 with RESOLVE_IN_ROOT: s0 resolves under the dirfd
					   (s1, walked even for an absolute name; empty: the cwd) as
					   its root: leading slashes and ".." stop there */

#define GH_MAX_STRS	4
#define GH_PATH_MAX	4096	/* PATH_MAX, with its NUL */
#define GH_NAME_MAX	256	/* NAME_MAX, with its NUL */
#define GH_ARGV_MAX	16384	/* bytes of argv captured per exec */
#define GH_ADDR_MAX	128	/* bytes of a sockaddr captured */
#define GH_DATA_CAP	32768	/* room for strings; the scratch area is twice this (verifier) */
#define GH_WALK_DEPTH	(GH_PATH_MAX / 2) /* steps of a walk: a component takes 2 bytes or more */
#define GH_SYSCALL_MAX	512	/* syscall numbers counted */
#define GH_NO_SYSCALL	0xffff	/* gh_event.syscall of the sched events */

struct gh_event {
	unsigned short kind;
	unsigned short nstr;	/* strings that follow */
	unsigned short truncated;	/* bit i: string i was cut at its capture limit */
	unsigned short syscall;	/* the syscall's number, GH_NO_SYSCALL for sched events */
	unsigned int pid;	/* process (tgid) as glasshouse's pid namespace numbers it */
	unsigned int tid;
	unsigned int ppid;	/* fork and exec: the parent */
	unsigned int flags;	/* open flags, at-flags, rename flags */
	unsigned long long time_ns;	/* CLOCK_MONOTONIC */
	long long ret;		/* the syscall's return value; exit: wait status */
	unsigned long long sock;	/* the socket's inode number: joins byte counts */
	unsigned int mode;	/* creation mode */
	unsigned int flags2;	/* GH_F_* */
	unsigned int sock_type;	/* SOCK_STREAM, SOCK_DGRAM, ... (0 when not a socket) */
	unsigned int pad;
	unsigned int uid, gid, euid;	/* exec: real uid and gid, effective uid (global ids) */
	unsigned int exe_ctime_nsec;	/* exec: the executed file's change time */
	long long exe_ctime_sec;
};

/* Value of the sock_bytes map, keyed by gh_event.sock. */
struct gh_sock_bytes {
	unsigned long long sent, received;
	unsigned int pid;	/* the process that first used the socket */
	unsigned int sock_type;
};

/* The first level of socket byte counts: a slot per socket inode number modulo GH_SOCK_SLOTS,
 * in the BPF object's .bss (ino 0: free). Sockets whose slot is taken go to the sock_bytes
 * hash. */
#define GH_SOCK_SLOTS (1 << 16)
struct gh_sock_slot {
	unsigned long long ino;
	struct gh_sock_bytes b;
};

/* Enforcement rules, written by user space into the kernel's maps (bpf/enforce.bpf.h). */
#define GH_ENF_RULES	1024	/* entries per rule map */
#define GH_ENF_PATH	256	/* bytes of a path key with its NUL (an LPM trie's most) */
/* enf_exec, enf_read, enf_write and enf_net bits */
#define GH_ENF_KERNEL	  (1u << 0)	/* the kernel decides this kind (where it can) */
#define GH_ENF_ALLOW_LIST (1u << 1)	/* an allow list: what matches no allow entry violates */
#define GH_ENF_V4	  (1u << 2)	/* connect: the kernel decides this family's destinations */
#define GH_ENF_V6	  (1u << 3)
#define GH_ENF_UNIX	  (1u << 4)
#define GH_ENF_OTHER	  (1u << 5)	/* any other family */
/* a rule entry's value: a connect rule's, or one kind's two bits in a path rule's */
#define GH_ENF_ALLOW	1
#define GH_ENF_DENY	2
/* The kinds of path rules; a path entry's value holds GH_ENF_PATH_BITS(kind, ALLOW | DENY) of
 * every rule that matches the entry's whole key (user space folds shorter prefixes in). */
#define GH_ENF_EXEC	0
#define GH_ENF_READ	1
#define GH_ENF_WRITE	2
#define GH_ENF_PATH_BITS(kind, v) ((v) << (2 * (kind)))

/* A path rule (exec, read, write): an exact path with its NUL, or a directory prefix ending in
 * '/', as an LPM key (prefixlen in bits). */
struct gh_enf_path {
	unsigned int prefixlen;
	unsigned char data[GH_ENF_PATH];
};

/* A connect rule: family (AF_INET, AF_INET6, AF_UNIX, 0 for any other), then the address and
 * port (host order), each zero and flagged when any matches. */
struct gh_enf_net {
	unsigned short family;
	unsigned short port;
	unsigned char any_addr, any_port, pad[2];
	unsigned char addr[16];
};

#endif
