// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * glasshouse's kernel side: raw (tp_btf) tracepoints on syscall exit, on process fork, exec and
 * exit, and on socket sends and receives. The syscall program's typed argument, the saved
 * registers, is read with plain loads: a helper call per syscall would cost more than the rest
 * of a syscall that reports nothing. CO-RE relocates against the small BTF user space cuts
 * from the kernel's (src/btf_min.c). Only the `tracked` threads (the command's tree) produce
 * anything: the set starts with the command, registered before it runs, and grows on fork.
 * Records go to one ring buffer without a wakeup each; user space polls on a short timer and
 * is woken early only when the ring passes a fill threshold.
 *
 * Syscall arguments are read at syscall exit: on x86-64 the saved registers still hold them,
 * so no enter/exit pairing map is needed and a record carries the result with the arguments.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <asm/unistd_64.h>

#include "glasshouse.h"

/* User-space ABI structs, laid out by the ABI and not by the running kernel: plain copies here,
 * because vmlinux.h marks every struct for CO-RE relocation, and each relocated type costs a
 * search of the kernel's BTF (about 1 ms of start-up) for nothing. */
struct gh_open_how {
	__u64 flags, mode, resolve;
};

struct gh_msghdr {
	void *msg_name;
	int msg_namelen;
};

struct gh_sockaddr_in {
	__u16 sin_family;
	__u16 sin_port;
	__u32 sin_addr;
	__u8 sin_zero[8];
};

struct gh_sockaddr_in6 {
	__u16 sin6_family;
	__u16 sin6_port;
	__u32 sin6_flowinfo;
	__u8 sin6_addr[16];
	__u32 sin6_scope_id;
};

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_ACCMODE 03
#define O_PATH 010000000
#define FMODE_CREATED 0x100000
#define S_IFMT 00170000
#define S_IFDIR 0040000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SIGNAL_GROUP_EXIT 0x00000004
#define MSG_PEEK 2
#define EEXIST 17

/* Set by user space before load. */
const volatile __u32 ns_inum = 0;	  /* glasshouse's pid namespace's inode number */
const volatile __u8 capture_argv = 1;	  /* GLASSHOUSE_CAPTURE_ARGV=0 clears it */
const volatile __u64 wakeup_bytes = 1 << 20; /* wake user space past this much unread data */
const volatile __u32 sock_slot_mask = GH_SOCK_SLOTS - 1; /* slots used: fewer for a small table */

/* Written by user space at run time (the .bss is memory-mapped). */
__u32 pending_root;	/* the command's pid in glasshouse's namespace, until registered */

/* Set when the command registers: the depth of glasshouse's pid namespace (0 = the initial
 * one), read from the command's own struct pid (user space cannot see it when /proc was
 * mounted inside that namespace). */
__u32 ns_level;

/* Read by user space. */
__u64 lost_events;	/* ring full (or scratch busy): the record was dropped and counted */
__u64 sockets_full;	/* a socket's bytes could not be counted: sock_bytes was full */
__u32 root_tgid;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by user space */
} events SEC(".maps");

struct open_key {
	__u64 name[16];
	__u64 start;	/* the process's start time: with pid, this process and no later one */
	__u64 fs;	/* its fs_struct (cwd and root), and that struct's sequence number below */
	__u64 cwd_dentry, cwd_mnt;	/* the cwd a relative name resolves against (0: absolute) */
	__s64 result;	/* -errno, or the open's access class */
	__u32 pid;
	__u32 fs_seq;	/* moved by every chdir, fchdir and chroot of the processes sharing fs */
	__u32 len;
	__u32 pad;
};

/*
 * The last opens sent from each CPU, checked before anything else: a loop opening the same
 * names is recognised with a few compares, no hashing, no helper call and no record built.
 * Per CPU rather than per thread: a thread's task storage cost a helper call on every open
 * (about 30 ns here), and a key names its process, so entries of different processes never
 * match each other. Only the tasks of one CPU use its entries (the program cannot migrate).
 * Like the scratch area, the cache does not rely on the program being run with preemption
 * disabled: readers take no lock and check a sequence count that a writer (one at a time, by
 * `wbusy`) holds odd while it writes; a reader that saw it odd, or saw it move, misses and
 * asks seen_opens.
 */
#define OPEN_HITS 4
struct open_hits {
	__u32 seq;
	__u32 wbusy;
	__u32 next;
	__u32 pad;
	struct open_key ent[OPEN_HITS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct open_hits);
} open_hits SEC(".maps");

/* The open being handled by each thread, when it missed open_hits: the key open_record looks
 * up in seen_opens (len 0: the open has none), in task-local storage made at the thread's
 * first such open. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct open_key);
} thread_opens SEC(".maps");

/* The tracked set: one bit per thread, indexed by its global thread id (below PID_MAX_LIMIT,
 * 2^22 on 64-bit). Every syscall of the machine asks, so the check is two loads from .bss,
 * no helper call. A thread's bit is set when its parent (or the gate) marks it and cleared at
 * its exit, before its id can be reused; an exec by a non-leader thread, which takes the
 * leader's id, moves the bit (gh_exec). */
#define GH_TIDS (1 << 22)
__u64 tracked[GH_TIDS / 64];

static __always_inline __u64 *tid_word(__u32 tid)
{
	return &tracked[(tid >> 6) & (GH_TIDS / 64 - 1)];
}

static __always_inline int tid_tracked(__u32 tid)
{
	return (*tid_word(tid) >> (tid & 63)) & 1;
}

static __always_inline void tid_mark(__u32 tid)
{
	__sync_fetch_and_or(tid_word(tid), 1ULL << (tid & 63));
}

static __always_inline void tid_unmark(__u32 tid)
{
	__sync_fetch_and_and(tid_word(tid), ~(1ULL << (tid & 63)));
}

/*
 * The syscall program's own scope check, which needs no helper call: the tracked threads by
 * where their saved registers are. That address (the tracepoint's regs argument) is the top of
 * the thread's kernel stack, fixed for its life and freed only after its exit, where its entry
 * goes. Every syscall of the machine asks, and a bpf_get_current_task_btf() call per syscall
 * cost bystanders about 1% of their time. An open-addressed table in .bss (up to RPROBE
 * slots from a stack's slot), of keys made by subtracting the table's own address (the
 * verifier lets a pointer become a number only by subtracting another). A thread that finds
 * no room sets regs_full, and from then on a miss asks the tid bitmap, which stays the truth.
 */
#ifndef GH_RSLOTS /* the suite builds an object with one slot, to test regs_full */
#define GH_RSLOTS (1 << 16)
#endif
#define GH_RPROBE 4
__u64 rslots[GH_RSLOTS];
__u32 regs_full;

static __always_inline __u64 regs_key(const void *regs)
{
	return (__u64)((const char *)regs - (const char *)rslots);
}

static __always_inline __u64 *rslot(__u64 key, int k)
{
	/* stacks are 16 KiB-aligned: the bits above 14 tell them apart */
	return &rslots[((key >> 14) + k) & (GH_RSLOTS - 1)];
}

static __always_inline int regs_tracked(__u64 key)
{
	int k;

	for (k = 0; k < GH_RPROBE; k++)
		if (*rslot(key, k) == key)
			return 1;
	return 0;
}

static __always_inline void regs_add(__u64 key)
{
	int k;

	for (k = 0; k < GH_RPROBE; k++) {
		__u64 *sl = rslot(key, k);

		if (*sl == key || (*sl == 0 && __sync_val_compare_and_swap(sl, 0, key) == 0))
			return;
	}
	regs_full = 1;
}

static __always_inline void regs_del(__u64 key)
{
	int k;

	for (k = 0; k < GH_RPROBE; k++)
		if (*rslot(key, k) == key)
			*rslot(key, k) = 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GH_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u64);
} syscall_counts SEC(".maps");

/* Byte counts per socket, first in a slot of sock_slots (by inode number), else here. */
struct gh_sock_slot sock_slots[GH_SOCK_SLOTS];

/* Byte counts per socket whose slot was taken. A plain hash, allocated as it fills (nothing
 * to pre-allocate at start-up); a socket that finds it full is counted in sockets_full, never
 * silently evicted. Sized by user space (GLASSHOUSE_MAX_SOCKETS). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 131072);
	__type(key, __u64);	/* the socket's inode number */
	__type(value, struct gh_sock_bytes);
} sock_bytes SEC(".maps");

/* Records are built here, then copied to the ring at their real size. Two slots per CPU: a
 * syscall tracepoint may be preempted (it runs with migration, not preemption, disabled) by
 * another tracked task on the same CPU. */
struct scratch {
	__u32 off;	/* bytes of strings written */
	__u32 busy;
	struct gh_event ev;
	__u8 data[2 * GH_DATA_CAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); /* 2 * CPUs, set by user space */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline struct scratch *scratch_get(void)
{
	__u32 key = bpf_get_smp_processor_id() * 2;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &key);

	if (s && __sync_fetch_and_add(&s->busy, 1) != 0) {
		__sync_fetch_and_add(&s->busy, -1);
		key++;
		s = bpf_map_lookup_elem(&scratch_map, &key);
		if (s && __sync_fetch_and_add(&s->busy, 1) != 0) {
			__sync_fetch_and_add(&s->busy, -1);
			s = NULL;
		}
	}
	if (!s)
		__sync_fetch_and_add(&lost_events, 1);
	return s;
}

static __always_inline void scratch_put(struct scratch *s)
{
	__sync_fetch_and_add(&s->busy, -1);
}

/* The pid number of a struct pid in glasshouse's namespace (0 if not visible there). */
static __always_inline __u32 pid_in_ns(struct pid *p)
{
	struct upid up;

	if (!p)
		return 0;
	if (BPF_CORE_READ(p, level) < ns_level)
		return 0;
	if (bpf_probe_read_kernel(&up, sizeof(up), &p->numbers[ns_level & 31]))
		return 0;
	if (ns_level && BPF_CORE_READ(up.ns, ns.inum) != ns_inum)
		return 0;
	return up.nr;
}

static __always_inline __u32 tgid_in_ns(struct task_struct *t)
{
	if (ns_level == 0)
		return BPF_CORE_READ(t, tgid);
	return pid_in_ns(BPF_CORE_READ(t, group_leader, thread_pid));
}

static __always_inline __u32 tid_in_ns(struct task_struct *t)
{
	if (ns_level == 0)
		return BPF_CORE_READ(t, pid);
	return pid_in_ns(BPF_CORE_READ(t, thread_pid));
}

/* The calling task's tgid and tid in glasshouse's namespace: t is the current task, a trusted
 * pointer, so the common case (no pid namespace) is a direct load, not a helper call. */
static __always_inline __u32 cur_tgid(struct task_struct *t)
{
	return ns_level == 0 ? t->tgid : tgid_in_ns(t);
}

static __always_inline __u32 cur_tid(struct task_struct *t)
{
	return ns_level == 0 ? t->pid : tid_in_ns(t);
}

/* A record's header (global: verified once, not on every path that makes a record). */
__noinline int ev_init(struct scratch *s, __u32 kind, __u32 nr)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (!s)
		return 0;
	s->off = 0;
	s->ev.kind = kind;
	s->ev.nstr = 0;
	s->ev.truncated = 0;
	s->ev.syscall = nr;
	s->ev.pid = cur_tgid(t);
	s->ev.tid = cur_tid(t);
	s->ev.ppid = 0;
	s->ev.flags = 0;
	s->ev.time_ns = 0; /* set when sent */
	s->ev.ret = 0;
	s->ev.sock = 0;
	s->ev.mode = 0;
	s->ev.flags2 = 0;
	s->ev.sock_type = 0;
	s->ev.pad = 0;
	return 0;
}

static __always_inline struct scratch *ev_begin(__u16 kind, __u16 nr)
{
	struct scratch *s = scratch_get();

	if (s)
		ev_init(s, kind, nr);
	return s;
}

static __always_inline void ev_submit(struct scratch *s)
{
	__u64 size = sizeof(s->ev) + s->off;
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (size > sizeof(s->ev) + GH_DATA_CAP)
		size = sizeof(s->ev) + GH_DATA_CAP;
	s->ev.time_ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&events, &s->ev, size, flags))
		__sync_fetch_and_add(&lost_events, 1);
	scratch_put(s);
}

/* Start string number nstr at the current offset: returns where its bytes go. */
static __always_inline __u8 *str_begin(struct scratch *s)
{
	return &s->data[(s->off + 2) & (GH_DATA_CAP - 1)];
}

static __always_inline void str_end(struct scratch *s, __u32 len, int truncated)
{
	__u32 off = s->off & (GH_DATA_CAP - 1);

	if (off + 2 + len > GH_DATA_CAP) { /* no room: an empty, truncated string */
		len = 0;
		truncated = 1;
	}
	s->data[off] = len & 0xff;
	s->data[(off + 1) & (2 * GH_DATA_CAP - 1)] = len >> 8;
	if (truncated)
		s->ev.truncated |= 1 << (s->ev.nstr & 7);
	s->ev.nstr++;
	s->off = off + 2 + len;
}

static __always_inline void put_empty(struct scratch *s)
{
	str_end(s, 0, 0);
}

/* A NUL-terminated user string of at most max - 1 bytes (max <= GH_PATH_MAX + 1). */
static __always_inline void put_user_str(struct scratch *s, const void *p, __u32 max)
{
	long n = bpf_probe_read_user_str(str_begin(s), max, p);

	if (n <= 0) {
		str_end(s, 0, 0);
		return;
	}
	str_end(s, n - 1, n == max);
}

static __always_inline void put_user_bytes(struct scratch *s, const void *p, __u64 len)
{
	__u64 n = len & 0xffffffff;

	if (n > GH_ADDR_MAX)
		n = GH_ADDR_MAX;
	barrier_var(n);
	n &= GH_ADDR_MAX * 2 - 1;
	if (!p || !n || bpf_probe_read_user(str_begin(s), n, p))
		n = 0;
	str_end(s, n, 0);
}

/* A kernel path walked from its dentry up to the root, crossing mounts: components leaf first,
 * each NUL-terminated. (bpf_d_path is not allowed in tracepoints.) One step per bpf_loop
 * callback, so the verifier checks a step once instead of every path through 48 of them. */
struct walk {
	struct scratch *s;
	struct dentry *d;
	struct mount *m;
	__u32 start, len;
	int truncated;
};

static long walk_step(__u32 i, struct walk *w)
{
	struct dentry *d = w->d, *parent = BPF_CORE_READ(d, d_parent);
	struct mount *m = w->m;
	const unsigned char *name;
	struct scratch *s = w->s;
	long n;

	if (!s)
		return 1;
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *mp = BPF_CORE_READ(m, mnt_parent);

		if (mp == m) {
			w->truncated = 0;
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = mp;
		return 0;
	}
	if (d == parent) {
		w->truncated = 0;
		return 1;
	}
	name = BPF_CORE_READ(d, d_name.name);
	n = bpf_probe_read_kernel_str(&s->data[(w->start + 2 + w->len) & (GH_DATA_CAP - 1)],
				      GH_NAME_MAX, name);
	if (n <= 0)
		return 1;
	w->len += n;
	if (w->len > GH_PATH_MAX) {
		w->len = GH_PATH_MAX;
		return 1;
	}
	w->d = parent;
	return 0;
}

static __always_inline void put_path(struct scratch *s, struct path *path)
{
	struct vfsmount *vm = BPF_CORE_READ(path, mnt);
	struct walk w = {
		.s = s,
		.d = BPF_CORE_READ(path, dentry),
		.m = (void *)vm - bpf_core_field_offset(struct mount, mnt),
		.start = s->off & (GH_DATA_CAP - 1),
		.truncated = 1,
	};

	bpf_loop(GH_WALK_DEPTH, walk_step, &w, 0);
	s->off = w.start;
	s->ev.flags2 |= GH_F_WALKED;
	str_end(s, w.len, w.truncated);
}
/* The cwd of task t (read through a plain kernel pointer, which the walk takes). */
static __always_inline void put_cwd(struct scratch *s, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	put_path(s, &fs->pwd);
}

/* A kernel object's leading bytes, read at once: its fields are then picked from the copy at
 * their relocated offsets (a field past the copy is read alone). One probe read where a
 * BPF_CORE_READ per field cost one each. */
#define GH_HEAD 128
#define HEAD_GET(h, obj, type, field, out)						\
	do {										\
		if (bpf_core_field_offset(type, field) + sizeof(out) <= GH_HEAD)	\
			__builtin_memcpy(&(out), &(h)[bpf_core_field_offset(type, field)],	\
					 sizeof(out));					\
		else									\
			BPF_CORE_READ_INTO(&(out), (type *)(obj), field);		\
	} while (0)

/* fd's struct file in the current task (0 if none), with probe reads at field addresses: a
 * pointer loaded from the trusted task pointer would cost the verifier four scans of the
 * kernel's BTF (about 3 ms of start-up); this runs only for records that are sent. */
__noinline long fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = NULL;
	struct fdtable *fdt = NULL;
	struct file **arr = NULL, *f = NULL;
	unsigned int max_fds = 0;
	__u8 h[GH_HEAD];

	if (fd < 0 || bpf_probe_read_kernel(&files, sizeof(files), &t->files) || !files)
		return 0;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt || bpf_probe_read_kernel(h, sizeof(h), fdt))
		return 0;
	HEAD_GET(h, fdt, struct fdtable, max_fds, max_fds);
	HEAD_GET(h, fdt, struct fdtable, fd, arr);
	if (fd >= max_fds)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return (long)f;
}

/* The directory a *at() call resolves a relative name against, when it is not the cwd. */
__noinline int put_dirfd(struct scratch *s, long dfd, long name)
{
	char c = 0;
	struct file *f;

	if (!s)
		return 0;
	if ((int)dfd != AT_FDCWD)
		bpf_probe_read_user(&c, 1, (const char *)name);
	if ((int)dfd == AT_FDCWD || c == '/') {
		put_empty(s);
		return 0;
	}
	f = (struct file *)fd_file((int)dfd); /* an int in a 64-bit register */
	if (!f) {
		put_empty(s);
		return 0;
	}
	put_path(s, (struct path *)&f->f_path);
	return 0;
}

/* What a record needs of an open file, from the leading bytes of its struct file and inode
 * (two probe reads). */
struct file_facts {
	struct inode *inode;
	void *private_data;
	fmode_t f_mode;
	umode_t i_mode;
	__u64 i_ino;
};

static __always_inline int file_facts(struct file *f, struct file_facts *ff)
{
	__u8 h[GH_HEAD];

	if (!f || bpf_probe_read_kernel(h, sizeof(h), f))
		return -1;
	HEAD_GET(h, f, struct file, f_inode, ff->inode);
	HEAD_GET(h, f, struct file, private_data, ff->private_data);
	HEAD_GET(h, f, struct file, f_mode, ff->f_mode);
	if (!ff->inode || bpf_probe_read_kernel(h, sizeof(h), ff->inode))
		return -1;
	HEAD_GET(h, ff->inode, struct inode, i_mode, ff->i_mode);
	HEAD_GET(h, ff->inode, struct inode, i_ino, ff->i_ino);
	return 0;
}

/* The socket behind fd: its inode number (its identity for byte counts: unlike its address,
 * an inode number is not reused soon after the socket is freed), type and struct sock. */
struct sock_ref {
	__u64 ino;
	long sk;
	short type;
};

static __always_inline int fd_socket(long fd, struct sock_ref *r)
{
	struct file_facts ff = {};
	struct socket *sock;
	__u8 h[GH_HEAD];

	if (file_facts((struct file *)fd_file(fd), &ff) || (ff.i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	sock = ff.private_data;
	r->ino = ff.i_ino;
	if (!sock || bpf_probe_read_kernel(h, sizeof(h), sock))
		return 0;
	HEAD_GET(h, sock, struct socket, type, r->type);
	HEAD_GET(h, sock, struct socket, sk, r->sk);
	return r->sk != 0;
}

/* The record names its socket; the socket's byte counts join it by that inode number (their
 * sock_bytes entry is made by the first byte, in sock_add_bytes). */
static __always_inline void sock_note(struct scratch *s, const struct sock_ref *r)
{
	if (!r->sk)
		return;
	s->ev.sock = r->ino;
	s->ev.sock_type = r->type;
}

/* A socket's own address (local) or its peer's, as a struct sockaddr, from its struct sock
 * (skp), read once. */
__noinline int put_sock_addr(struct scratch *s, long skp, int peer) /* global: checked once */
{
	struct sock_common *sk = (void *)skp;
	__u16 family = 0, dport = 0, num = 0;
	__u32 daddr = 0, saddr = 0;
	__u8 h[GH_HEAD];
	__u8 *p;

	if (!s)
		return 0;
	p = str_begin(s);
	if (bpf_probe_read_kernel(h, sizeof(h), sk)) {
		put_empty(s);
		return 0;
	}
	HEAD_GET(h, sk, struct sock_common, skc_family, family);
	HEAD_GET(h, sk, struct sock_common, skc_dport, dport);
	HEAD_GET(h, sk, struct sock_common, skc_num, num);
	if (family == AF_INET) {
		struct gh_sockaddr_in *a = (void *)p;

		HEAD_GET(h, sk, struct sock_common, skc_daddr, daddr);
		HEAD_GET(h, sk, struct sock_common, skc_rcv_saddr, saddr);
		a->sin_family = AF_INET;
		a->sin_port = peer ? dport : bpf_htons(num);
		a->sin_addr = peer ? daddr : saddr;
		__builtin_memset(a->sin_zero, 0, sizeof(a->sin_zero));
		str_end(s, sizeof(*a), 0);
	} else if (family == AF_INET6) {
		struct gh_sockaddr_in6 *a = (void *)p;

		a->sin6_family = AF_INET6;
		a->sin6_port = peer ? dport : bpf_htons(num);
		a->sin6_flowinfo = 0;
		a->sin6_scope_id = 0;
		if (peer)
			HEAD_GET(h, sk, struct sock_common, skc_v6_daddr, a->sin6_addr);
		else
			HEAD_GET(h, sk, struct sock_common, skc_v6_rcv_saddr, a->sin6_addr);
		str_end(s, sizeof(*a), 0);
	} else if (family == AF_UNIX) {
		struct unix_sock *u = (void *)sk;
		struct unix_address *ua;
		int len = 0;

		if (peer)
			u = (void *)BPF_CORE_READ(u, peer);
		ua = u ? BPF_CORE_READ(u, addr) : NULL;
		if (ua) {
			len = BPF_CORE_READ(ua, len);
			if (len > GH_ADDR_MAX)
				len = GH_ADDR_MAX;
			if (len < 0 || bpf_probe_read_kernel(p, len & (GH_ADDR_MAX * 2 - 1), &ua->name))
				len = 0;
		}
		if (!len) {
			p[0] = AF_UNIX;
			p[1] = 0;
			len = 2;
		}
		str_end(s, len, 0);
	} else {
		put_empty(s);
	}
	return 0;
}

static __always_inline int is_tracked(struct task_struct *t)
{
	return tid_tracked(t->pid);
}

/* Marks t tracked: its tid, and where its saved registers are. */
static __always_inline int track(struct task_struct *t, const void *regs)
{
	tid_mark(t->pid);
	regs_add(regs_key(regs));
	return 0;
}

/* The command blocks at its gate until user space has set pending_root; its first syscall
 * exit after that (the gate's read) registers it, before it can exec. It is the process whose
 * pid in its own namespace is pending_root, that namespace being glasshouse's. */
static __always_inline int register_root(struct task_struct *t, const struct pt_regs *regs)
{
	struct pid *p = BPF_CORE_READ(t, group_leader, thread_pid);
	__u32 want = pending_root, level;
	struct upid up;

	if (!want || !p)
		return 0;
	level = BPF_CORE_READ(p, level);
	if (bpf_probe_read_kernel(&up, sizeof(up), &p->numbers[level & 31]))
		return 0;
	if (up.nr != want || BPF_CORE_READ(up.ns, ns.inum) != ns_inum)
		return 0;
	if (track(t, regs))
		return 0;
	ns_level = level;
	root_tgid = BPF_CORE_READ(t, tgid);
	pending_root = 0;
	return 1;
}

static __always_inline void count_syscall(long nr)
{
	__u32 key = nr;
	__u64 *cnt = bpf_map_lookup_elem(&syscall_counts, &key);

	if (cnt)
		*cnt += 1;
}

/* sk's socket and that socket's inode number; -1 if it has none. */
static __always_inline int sock_ino(struct sock *sk, struct socket **sock, __u64 *ino)
{
	char *in;

	*sock = NULL;
	*ino = 0;
	if (bpf_probe_read_kernel(sock, sizeof(*sock), &sk->sk_socket) || !*sock)
		return -1;
	in = (char *)*sock - bpf_core_field_offset(struct socket_alloc, socket) +
	     bpf_core_field_offset(struct socket_alloc, vfs_inode);
	if (bpf_probe_read_kernel(ino, sizeof(*ino), in + bpf_core_field_offset(struct inode, i_ino)))
		return -1;
	return *ino ? 0 : -1;
}

/* Bytes through a tracked process's sockets, from the kernel's own socket send and receive
 * tracepoints (6.4+): nothing runs for reads and writes of files. */
static __always_inline void sock_add_bytes(struct sock *sk, int ret, int received)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct gh_sock_slot *sl;
	struct gh_sock_bytes *b;
	struct socket *sock;
	__u64 key;

	if (ret <= 0 || !is_tracked(t))
		return;
	/* Probe reads at field addresses, not loads: a pointer loaded from the tracepoint's
	 * trusted sk costs the verifier four scans of the kernel's BTF (about 3 ms of start-up
	 * in each of the two programs). A socket's inode is allocated with it (socket_alloc). */
	if (sock_ino(sk, &sock, &key))
		return;
	/* Its slot first: plain loads and one compare-and-swap, no map call. */
	sl = &sock_slots[key & sock_slot_mask & (GH_SOCK_SLOTS - 1)];
	if (sl->ino != key) {
		if (sl->ino == 0 && __sync_val_compare_and_swap(&sl->ino, 0, key) == 0) {
			sl->b.pid = cur_tgid(t);
			sl->b.sock_type = BPF_CORE_READ(sock, type);
		} else if (sl->ino != key) {
			sl = NULL; /* taken by another socket: the hash holds this one */
		}
	}
	if (sl) {
		b = &sl->b;
		goto add;
	}
	b = bpf_map_lookup_elem(&sock_bytes, &key);
	if (!b) { /* the socket's first bytes: the entry is made holding them */
		struct gh_sock_bytes first = {};
		long e;

		first.pid = cur_tgid(t);
		first.sock_type = BPF_CORE_READ(sock, type);
		if (received)
			first.received = ret;
		else
			first.sent = ret;
		e = bpf_map_update_elem(&sock_bytes, &key, &first, BPF_NOEXIST);
		if (e == 0)
			return;
		if (e != -EEXIST) { /* full, or out of memory: these bytes are lost */
			__sync_fetch_and_add(&sockets_full, 1);
			return;
		}
		b = bpf_map_lookup_elem(&sock_bytes, &key); /* another thread made it first */
		if (!b)
			return;
	}
add:
	if (received)
		__sync_fetch_and_add(&b->received, ret);
	else
		__sync_fetch_and_add(&b->sent, ret);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(gh_sock_send, struct sock *sk, int ret, int flags)
{
	sock_add_bytes(sk, ret, 0);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(gh_sock_recv, struct sock *sk, int ret, int flags)
{
	if (!(flags & MSG_PEEK)) /* peeked bytes are received again by the next read */
		sock_add_bytes(sk, ret, 1);
	return 0;
}

/*
 * Repeated opens collapse in the kernel: a process opening the same name, from the same cwd
 * and root, with the same access and the same result as before adds nothing to the receipt,
 * so it is counted (syscalls.counts) and not sent. The key holds the whole name (names of
 * 128 bytes or more are always sent), so two different names never collapse; opens relative
 * to a dirfd are always sent (open_where says why).
 */

/* Every open sent, per process. An LRU hash is allocated whole when it is made, so it is kept
 * small for start-up: an open evicted from it is only sent again when repeated, and the
 * receipt's sets take it once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct open_key);
	__type(value, __u8);
} seen_opens SEC(".maps");

/* 1 if entry e is the open k, whose name is nw words (an entry's words past its name are zero,
 * and equal lengths mean equal word counts): the small fields first, then the name. */
static __always_inline int open_key_eq(const struct open_key *k, __u32 nw, const struct open_key *e)
{
	int i;

	if (e->len != k->len || e->result != k->result || e->pid != k->pid ||
	    e->cwd_dentry != k->cwd_dentry || e->fs_seq != k->fs_seq || e->fs != k->fs ||
	    e->start != k->start || e->cwd_mnt != k->cwd_mnt)
		return 0;
	for (i = 0; i < sizeof(e->name) / 8 && i < nw; i++)
		if (e->name[i] != k->name[i])
			return 0;
	return 1;
}

/* An access the compiler may not merge, split or move across gh_barrier(): open_hits's
 * sequence count. */
#define GH_ONCE(x) (*(volatile typeof(x) *)&(x))
#define gh_barrier() asm volatile("" ::: "memory")

/* 1 if open k (nw name words) is one of this CPU's last opens sent. */
static __always_inline int open_hit(const struct open_key *k, __u32 nw)
{
	__u32 zero = 0, seq;
	struct open_hits *h = bpf_map_lookup_elem(&open_hits, &zero);
	int i;

	if (!h)
		return 0;
	seq = GH_ONCE(h->seq);
	gh_barrier();
	if (seq & 1)
		return 0; /* a preempted writer is halfway */
	for (i = 0; i < OPEN_HITS; i++)
		if (open_key_eq(k, nw, &h->ent[i])) {
			gh_barrier();
			return GH_ONCE(h->seq) == seq;
		}
	return 0;
}

/* Adds sent (or seen) open k to this CPU's last opens, unless another task on this CPU is
 * adding one (the cache only saves work: a miss asks seen_opens). */
static __always_inline void open_hit_add(const struct open_key *k)
{
	__u32 zero = 0;
	struct open_hits *h = bpf_map_lookup_elem(&open_hits, &zero);

	if (!h)
		return;
	if (__sync_fetch_and_add(&h->wbusy, 1) == 0) {
		GH_ONCE(h->seq) = h->seq + 1; /* odd: readers miss */
		gh_barrier();
		__builtin_memcpy(&h->ent[h->next & (OPEN_HITS - 1)], k, sizeof(*k));
		h->next++;
		gh_barrier();
		GH_ONCE(h->seq) = h->seq + 1;
	}
	__sync_fetch_and_add(&h->wbusy, -1);
}

/* fs_struct's sequence count: a seqlock_t since 6.8, a bare seqcount before. */
struct fs_struct___seqcount {
	seqcount_spinlock_t seq;
} __attribute__((preserve_access_index));

/* Plain loads through the trusted pointer (a probe-read helper call costs far more). */
static __always_inline __u32 fs_seq(struct fs_struct *fs)
{
	struct fs_struct___seqcount *old = (void *)fs;

	if (bpf_core_field_exists(old->seq.seqcount.sequence))
		return old->seq.seqcount.sequence;
	return fs->seq.seqcount.seqcount.sequence;
}

/* Where the open's name resolves: the process (pid and start time), its fs_struct at its
 * current sequence, and for a relative name its cwd. Keys hold kernel addresses, and an
 * address can come back as another object once freed: the sequence moves with every change
 * of cwd or root, so a later directory at a freed one's address never matches its keys.
 * Returns -1 for a name relative to a dirfd: nothing the key could hold rules that reuse out
 * for the dirfd's directory, so such an open has no key and is always sent. */
static __always_inline int open_where(struct open_key *k, struct task_struct *t, long dfd,
				      int relative)
{
	struct fs_struct *fs = t->fs;

	if (relative && (int)dfd != AT_FDCWD)
		return -1;
	k->start = t->group_leader->start_time;
	k->fs = (__u64)fs;
	k->fs_seq = fs_seq(fs);
	k->cwd_dentry = relative ? (__u64)fs->pwd.dentry : 0;
	k->cwd_mnt = relative ? (__u64)fs->pwd.mnt : 0;
	return 0;
}

/* 1 if this open repeats one of this CPU's last opens (then it is only counted). Else the
 * open's key is left in the thread's thread_opens for open_record (len 0 when it has none: a
 * name too long or unreadable, a name relative to a dirfd, or an open that may create a file
 * is always sent). */
__noinline int open_cached(long ret, long flags, long dfd, long name)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct open_key k, *c;
	__u32 nw;
	long n;
	int i;

	if (flags & O_CREAT)
		goto nokey;
	/* Read onto the stack (not cleared first: only the name's words are used): the kernel's
	 * hardened-usercopy check of the destination costs less there than for a map value. */
	n = bpf_probe_read_user_str(k.name, sizeof(k.name), (const void *)name);
	if (n <= 1 || n >= sizeof(k.name))
		goto nokey;
	/* The name's words, NUL included; the last one's bytes past the NUL are cleared (the
	 * kernel clears them when it copies by words, not when a fault made it copy by bytes). */
	nw = (n + 7) / 8;
	if (n & 7)
		k.name[(nw - 1) & (sizeof(k.name) / 8 - 1)] &= (1ULL << ((n & 7) * 8)) - 1;
	if (open_where(&k, t, dfd, (k.name[0] & 0xff) != '/'))
		goto nokey;
	k.pid = cur_tgid(t);
	k.result = ret < 0 ? ret : (flags & (O_ACCMODE | O_TRUNC | O_APPEND | O_PATH));
	k.pad = 0;
	k.len = n - 1;
	if (open_hit(&k, nw))
		return 1;
	/* A miss: the key for open_record, its words past the name zero. */
	c = bpf_task_storage_get(&thread_opens, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0; /* then open_record finds no key and sends the open */
	for (i = 0; i < sizeof(k.name) / 8; i++)
		if (i >= nw)
			k.name[i] = 0;
	__builtin_memcpy(c, &k, sizeof(k));
	return 0;
nokey:
	c = bpf_task_storage_get(&thread_opens, t, 0, 0);
	if (c)
		c->len = 0;
	return 0;
}

/* What the open made: a directory listing, a created file (GH_F_IS_DIR, GH_F_CREATED). */
static __always_inline void open_result(struct scratch *s, long ret)
{
	struct file_facts ff = {};

	if (ret < 0 || file_facts((struct file *)fd_file(ret), &ff))
		return;
	if (!(s->ev.flags & (O_WRONLY | O_RDWR)) && /* a directory opens read-only */
	    (ff.i_mode & S_IFMT) == S_IFDIR)
		s->ev.flags2 |= GH_F_IS_DIR;
	if ((s->ev.flags & O_CREAT) && (ff.f_mode & FMODE_CREATED))
		s->ev.flags2 |= GH_F_CREATED;
}

/*
 * An open's record: its name, and whether it was sent before by its process (1: then it is
 * only counted). The name is the copy open_cached read into the thread's key when there is
 * one, so the record and the key cannot differ (user memory may change between two reads);
 * such a keyed open is looked up in seen_opens and joins this CPU's last opens. An open
 * without a key (it may create a file, or its name is too long or unreadable) is always sent.
 * A sent open gets its result flags.
 */
static __always_inline int open_record(struct scratch *s, long ret, const void *name)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct open_key *c = bpf_task_storage_get(&thread_opens, t, 0, 0);
	__u32 len = c ? c->len : 0;
	int seen = 0;
	__u8 one = 1;

	if (!len ||
	    bpf_probe_read_kernel(str_begin(s), len & (sizeof(c->name) - 1), c->name)) {
		put_user_str(s, name, GH_PATH_MAX + 1);
		goto send;
	}
	str_end(s, len, 0);
	if (bpf_map_lookup_elem(&seen_opens, c))
		seen = 1;
	else
		bpf_map_update_elem(&seen_opens, c, &one, BPF_ANY);
	open_hit_add(c);
	if (seen)
		return 1;
send:
	open_result(s, ret);
	return 0;
}

/* The record kind of each syscall reported (0: only counted). One table serves the prefilter
 * and both handlers: kinds below GH_EV_CONNECT are file_event's, the rest net_event's. A load
 * from .rodata, where a switch cost a chain of compares on every syscall. */
static const __u8 sys_kind[GH_SYSCALL_MAX] = {
	[__NR_open] = GH_EV_OPEN, [__NR_openat] = GH_EV_OPEN, [__NR_openat2] = GH_EV_OPEN,
	[__NR_creat] = GH_EV_OPEN,
	[__NR_unlink] = GH_EV_UNLINK, [__NR_unlinkat] = GH_EV_UNLINK, [__NR_rmdir] = GH_EV_UNLINK,
	[__NR_rename] = GH_EV_RENAME, [__NR_renameat] = GH_EV_RENAME,
	[__NR_renameat2] = GH_EV_RENAME,
	[__NR_mkdir] = GH_EV_MKDIR, [__NR_mkdirat] = GH_EV_MKDIR,
	[__NR_symlink] = GH_EV_SYMLINK, [__NR_symlinkat] = GH_EV_SYMLINK,
	[__NR_link] = GH_EV_LINK, [__NR_linkat] = GH_EV_LINK,
	[__NR_mknod] = GH_EV_MKNOD, [__NR_mknodat] = GH_EV_MKNOD,
	[__NR_chdir] = GH_EV_CWD, [__NR_fchdir] = GH_EV_CWD,
	/* when it fails; a successful exec is sched_process_exec's */
	[__NR_execve] = GH_EV_EXEC_FAIL, [__NR_execveat] = GH_EV_EXEC_FAIL,
	[__NR_connect] = GH_EV_CONNECT,
	[__NR_sendto] = GH_EV_SENDTO, [__NR_sendmsg] = GH_EV_SENDTO,
	[__NR_bind] = GH_EV_BIND,
	[__NR_listen] = GH_EV_LISTEN,
	[__NR_accept] = GH_EV_ACCEPT, [__NR_accept4] = GH_EV_ACCEPT,
};

static __always_inline __u16 syscall_kind(long nr)
{
	return nr >= 0 && nr < GH_SYSCALL_MAX ? sys_kind[nr & (GH_SYSCALL_MAX - 1)] : 0;
}

/* A syscall's number, result and arguments, handed to the global (separately verified)
 * functions below: verifying each once, rather than on every path into it, keeps the
 * program's load time low. */
struct sc_args {
	long nr, ret, a[6];
};

/* Where a file record's names are: name0 (relative to dfd0) and, for two-name calls,
 * name1 (relative to dfd1). */
struct names {
	long kind, ret, n0, n1, d0, d1, raw0; /* raw0: name0 is a symlink's target, as written */
};

/* The names of a file record (global: verified once, whichever syscall led here). Returns 1
 * if the record is a repeated open, to be counted and not sent. */
__noinline int file_names(struct scratch *s, struct names *nm)
{
	if (!s || !nm)
		return 0;
	if (nm->kind == GH_EV_CWD) {
		put_cwd(s, bpf_get_current_task_btf());
		return 0;
	}
	if (nm->kind == GH_EV_OPEN) {
		if (open_record(s, nm->ret, (const void *)nm->n0))
			return 1;
	} else {
		put_user_str(s, (const void *)nm->n0, GH_PATH_MAX + 1);
	}
	if (nm->raw0)
		put_empty(s);
	else
		put_dirfd(s, nm->d0, nm->n0);
	if (nm->n1) {
		put_user_str(s, (const void *)nm->n1, GH_PATH_MAX + 1);
		put_dirfd(s, nm->d1, nm->n1);
	}
	return 0;
}

__noinline int file_event(struct sc_args *args)
{
	long nr, ret, a0, a1, a2, a3, a4, flags = 0, mode = 0, flags2 = 0;
	const char *n0 = NULL, *n1 = NULL;
	long d0 = AT_FDCWD, d1 = AT_FDCWD;
	struct names names;
	struct scratch *s;
	int raw0 = 0;
	__u16 kind;

	if (!args)
		return 0;
	nr = args->nr, ret = args->ret;
	a0 = args->a[0], a1 = args->a[1], a2 = args->a[2], a3 = args->a[3], a4 = args->a[4];
	kind = syscall_kind(nr);
	if (!kind || kind >= GH_EV_CONNECT || (kind == GH_EV_CWD && ret != 0))
		return 0;
	if (kind == GH_EV_EXEC_FAIL && ret == 0)
		return 0; /* sched_process_exec reported it */
	switch (nr) {
	case __NR_open: /* (path, flags, mode) */
		n0 = (void *)a0, flags = a1, mode = a2;
		break;
	case __NR_creat: /* (path, mode) */
		n0 = (void *)a0, flags = O_CREAT | O_WRONLY | O_TRUNC, mode = a1;
		break;
	case __NR_openat: /* (dfd, path, flags, mode) */
		d0 = a0, n0 = (void *)a1, flags = a2, mode = a3;
		break;
	case __NR_openat2: { /* (dfd, path, how, size) */
		struct gh_open_how how = {};

		bpf_probe_read_user(&how, sizeof(how), (void *)a2);
		d0 = a0, n0 = (void *)a1, flags = how.flags, mode = how.mode;
		break;
	}
	case __NR_rmdir:
		flags2 = GH_F_RMDIR;
		n0 = (void *)a0;
		break;
	case __NR_unlink: case __NR_execve:
		n0 = (void *)a0;
		break;
	case __NR_mkdir: case __NR_mknod: /* (path, mode, ...) */
		n0 = (void *)a0, mode = a1;
		break;
	case __NR_unlinkat: /* (dfd, path, flag) */
		if (a2 & AT_REMOVEDIR)
			flags2 = GH_F_RMDIR;
		d0 = a0, n0 = (void *)a1, flags = a2;
		break;
	case __NR_mkdirat: case __NR_mknodat: /* (dfd, path, mode, ...) */
		d0 = a0, n0 = (void *)a1, mode = a2;
		break;
	case __NR_rename: case __NR_link: /* (old, new) */
		n0 = (void *)a0, n1 = (void *)a1;
		break;
	case __NR_renameat: case __NR_renameat2: case __NR_linkat: /* (od, old, nd, new, fl) */
		d0 = a0, n0 = (void *)a1, d1 = a2, n1 = (void *)a3;
		flags = nr == __NR_renameat ? 0 : a4;
		break;
	case __NR_symlink: /* (target, linkpath) */
		raw0 = 1, n0 = (void *)a0, n1 = (void *)a1;
		break;
	case __NR_symlinkat: /* (target, newdfd, linkpath) */
		raw0 = 1, n0 = (void *)a0, d1 = a1, n1 = (void *)a2;
		break;
	case __NR_execveat: /* (dfd, path, argv, envp, flags) */
		d0 = a0, n0 = (void *)a1, flags = a4;
		break;
	}
	/* A repeat of one of this CPU's last opens: counted, no record built. (gh_sys_exit
	 * checked open and openat already.) */
	if ((nr == __NR_creat || nr == __NR_openat2) && open_cached(ret, flags, d0, (long)n0))
		return 0;
	s = ev_begin(kind, nr);
	if (!s)
		return 0;
	s->ev.ret = ret;
	s->ev.flags = flags;
	s->ev.mode = mode;
	s->ev.flags2 = flags2;
	names.kind = kind;
	names.ret = ret;
	names.n0 = (long)n0, names.n1 = (long)n1;
	names.d0 = d0, names.d1 = d1;
	names.raw0 = raw0;
	if (file_names(s, &names)) { /* a repeated open: counted, not sent */
		scratch_put(s);
		return 0;
	}
	ev_submit(s);
	return 0;
}

__noinline int net_event(struct sc_args *args)
{
	long nr, ret, a0, a1, a2, a4, a5;
	struct sock_ref ref = {};
	struct scratch *s;
	__u16 kind;

	if (!args)
		return 0;
	nr = args->nr, ret = args->ret;
	a0 = args->a[0], a1 = args->a[1], a2 = args->a[2], a4 = args->a[4], a5 = args->a[5];

	kind = syscall_kind(nr);
	if (kind < GH_EV_CONNECT)
		return 0;
	switch (nr) {
	case __NR_sendto:
		if (!a4)
			return 0; /* no destination: a connected socket's traffic */
		break;
	case __NR_sendmsg: {
		struct gh_msghdr m = {};

		if (bpf_probe_read_user(&m, sizeof(m), (void *)a1) || !m.msg_name)
			return 0;
		a4 = (long)m.msg_name;
		a5 = m.msg_namelen;
		break;
	}
	case __NR_accept: case __NR_accept4:
		if (ret < 0)
			return 0;
		break;
	}
	s = ev_begin(kind, nr);
	if (!s)
		return 0;
	s->ev.ret = ret;
	fd_socket(kind == GH_EV_ACCEPT ? ret : a0, &ref);
	sock_note(s, &ref);
	switch (kind) {
	case GH_EV_CONNECT: case GH_EV_BIND: /* (fd, addr, len) */
		put_user_bytes(s, (void *)a1, a2);
		break;
	case GH_EV_SENDTO:
		put_user_bytes(s, (void *)a4, a5);
		break;
	case GH_EV_LISTEN:
		if (ref.sk)
			put_sock_addr(s, ref.sk, 0);
		else
			put_empty(s);
		break;
	case GH_EV_ACCEPT:
		if (ref.sk) {
			put_sock_addr(s, ref.sk, 1);
			put_sock_addr(s, ref.sk, 0);
		} else {
			put_empty(s);
			put_empty(s);
		}
		break;
	}
	ev_submit(s);
	return 0;
}

/* The one syscall program: counts every syscall of the tree and reports the ones that touch
 * files, processes and the network. (exit and exit_group never return: sched_process_exit
 * counts them.) */
SEC("tp_btf/sys_exit")
int BPF_PROG(gh_sys_exit, struct pt_regs *regs, long ret)
{
	struct sc_args args;
	__u16 kind;
	long nr;

	if (!regs_tracked(regs_key(regs)) &&
	    (!regs_full || !tid_tracked(bpf_get_current_task_btf()->pid))) {
		/* The command's first read is its gate's: it registers there, so nothing glasshouse's
		 * child did to get ready is counted as the command's. */
		if (pending_root && regs->orig_ax == __NR_read)
			register_root(bpf_get_current_task_btf(), regs);
		return 0;
	}
	nr = regs->orig_ax;
	/* A new child returns from clone too: the call is counted once, in the caller. */
	if (ret != 0 || (nr != __NR_clone && nr != __NR_clone3 && nr != __NR_fork && nr != __NR_vfork))
		count_syscall(nr);
	kind = syscall_kind(nr);
	if (!kind)
		return 0; /* only counted */
	/* The commonest call of all, first: a repeated open ends here. */
	if (nr == __NR_openat || nr == __NR_open) {
		if (nr == __NR_openat && open_cached(ret, regs->dx, regs->di, regs->si))
			return 0;
		if (nr == __NR_open && open_cached(ret, regs->si, AT_FDCWD, regs->di))
			return 0;
	}
	args.nr = nr;
	args.ret = ret;
	args.a[0] = regs->di;
	args.a[1] = regs->si;
	args.a[2] = regs->dx;
	args.a[3] = regs->r10;
	args.a[4] = regs->r8;
	args.a[5] = regs->r9;
	if (kind < GH_EV_CONNECT)
		file_event(&args);
	else
		net_event(&args);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(gh_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 nstgid;
	struct scratch *s;

	if (!is_tracked(parent))
		return 0;
	/* Threads are tracked too; only processes are reported. */
	track(child, (void *)bpf_task_pt_regs(child));
	if (BPF_CORE_READ(child, tgid) == BPF_CORE_READ(parent, tgid))
		return 0;
	nstgid = tid_in_ns(child); /* the child leads its group */
	s = ev_begin(GH_EV_FORK, 0xffff);
	if (!s)
		return 0;
	s->ev.ppid = tgid_in_ns(BPF_CORE_READ(child, real_parent));
	s->ev.ret = tgid_in_ns(parent); /* who forked: lends the child its image and cwd */
	s->ev.pid = nstgid;
	s->ev.tid = nstgid;
	ev_submit(s);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(gh_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	unsigned long start, end, len;
	struct scratch *s;
	__u8 *p;

	if (!tid_tracked(old_pid))
		return 0;
	if (old_pid != t->pid) { /* a non-leader thread's exec: it took the leader's id */
		tid_mark(t->pid);
		tid_unmark(old_pid);
	}
	s = ev_begin(GH_EV_EXEC, 0xffff);
	if (!s)
		return 0;
	s->ev.ppid = tgid_in_ns(BPF_CORE_READ(t, real_parent));
	{
		long n = bpf_probe_read_kernel_str(str_begin(s), GH_PATH_MAX + 1,
						   BPF_CORE_READ(bprm, filename));

		str_end(s, n > 0 ? n - 1 : 0, n == GH_PATH_MAX + 1);
	}
	start = BPF_CORE_READ(t, mm, arg_start);
	end = BPF_CORE_READ(t, mm, arg_end);
	len = end > start ? end - start : 0;
	if (!capture_argv)
		len = 0;
	p = str_begin(s);
	if (len > GH_ARGV_MAX) {
		if (bpf_probe_read_user(p, GH_ARGV_MAX, (void *)start))
			str_end(s, 0, 1);
		else
			str_end(s, GH_ARGV_MAX, 1);
	} else if (len && !bpf_probe_read_user(p, len & (GH_ARGV_MAX * 2 - 1), (void *)start)) {
		str_end(s, len, 0);
	} else {
		str_end(s, 0, len != 0);
	}
	put_cwd(s, t);
	ev_submit(s);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(gh_exit, struct task_struct *t)
{
	struct pt_regs *regs;
	struct scratch *s;
	long nr;
	int code;

	if (!is_tracked(t))
		return 0;
	tid_unmark(t->pid); /* before its id can be reused */
	/* A thread that left through exit or exit_group: that syscall never returns, count it. */
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	regs_del(regs_key(regs)); /* before its stack can be reused */
	nr = regs ? BPF_CORE_READ(regs, orig_ax) : -1;
	if (nr == __NR_exit || nr == __NR_exit_group)
		count_syscall(nr);
	/* Only the group's last thread ends the process (live has been decremented already). */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	if (BPF_CORE_READ(t, signal, flags) & SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(t, signal, group_exit_code);
	else
		code = BPF_CORE_READ(t, exit_code);
	s = ev_begin(GH_EV_EXIT, 0xffff);
	if (s) {
		s->ev.ret = code;
		ev_submit(s);
	}
	return 0;
}
