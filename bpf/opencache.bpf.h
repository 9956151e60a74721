/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The open collapse: a repeated open is counted, not sent (each CPU's last opens, then an
 * LRU hash of every open sent, keyed as below). */
#ifndef __GH_OPENCACHE_BPF_H
#define __GH_OPENCACHE_BPF_H

struct open_key {
	__u64 name[16];
	__u64 start;	/* the process's start time: with pid, this process and no later one */
	__u64 fs;	/* its fs_struct (cwd and root), and that struct's sequence number below */
	__u64 cwd_dentry, cwd_mnt;	/* the cwd a relative name resolves against (0: absolute) */
	__s64 result;	/* -errno, or the open's access class */
	__u32 pid;
	__u32 fs_seq;	/* moved by every chdir, fchdir and chroot of the processes sharing fs */
	__u32 len;
	__u32 gen;	/* a relative name: rename_gen when it was read (0: absolute) */
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

/* Each thread's state, in task-local storage made at its first open that missed open_hits (or
 * its exec, or its fork): the key open_record looks up in seen_opens (len 0: the open has
 * none), and the cwd its process's records were last resolved against (cwd_check): the
 * rename_gen when it was walked, and its signature (path_sig). */
struct thread_state {
	struct open_key k;
	__u64 cwd_sig;
	__u32 cwd_gen;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} thread_opens SEC(".maps");

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
	    e->start != k->start || e->cwd_mnt != k->cwd_mnt || e->gen != k->gen)
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
	/* A rename anywhere may have moved the cwd's path: the key holds when the name was read,
	 * so no open collapses into one made before a rename (cwd_check sends the cwd again). */
	k->gen = relative ? GH_ONCE(rename_gen) : 0;
	return 0;
}

/* 1 if this open repeats one of this CPU's last opens (then it is only counted). Else the
 * open's key is left in the thread's thread_opens for open_record (len 0 when it has none: a
 * name too long or unreadable, a name relative to a dirfd, or an open that may create a file
 * is always sent). */
__noinline int open_cached(long ret, long flags, long dfd, long name)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct thread_state *c;
	struct open_key k;
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
	__builtin_memcpy(&c->k, &k, sizeof(k));
	return 0;
nokey:
	c = bpf_task_storage_get(&thread_opens, t, 0, 0);
	if (c)
		c->k.len = 0;
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
 * without a key (it may create a file, or its name is too long or unreadable) is always sent,
 * and so is a directory's. A sent open gets its result flags.
 */
static __always_inline int open_record(struct scratch *s, long ret, const void *name)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct thread_state *ts = bpf_task_storage_get(&thread_opens, t, 0, 0);
	struct open_key *c = ts ? &ts->k : NULL;
	__u32 len = c ? c->len : 0;
	int seen = 0;
	__u8 one = 1;

	if (!len || bpf_probe_read_kernel(str_begin(s), len & (sizeof(c->name) - 1), c->name)) {
		put_user_str(s, name, GH_PATH_MAX + 1);
		c = NULL; /* no key: sent */
	} else {
		str_end(s, len, 0);
	}
	open_result(s, ret);
	/* A directory is never collapsed: the name may be a file at its next open, which is
	 * then a read (and judged as one), not a repeat of this listing. */
	if (!c || (s->ev.flags2 & GH_F_IS_DIR))
		return 0;
	if (bpf_map_lookup_elem(&seen_opens, c))
		seen = 1;
	else
		bpf_map_update_elem(&seen_opens, c, &one, BPF_ANY);
	open_hit_add(c);
	return seen;
}

/*
 * A process's cwd, as user space knows it, is the one walked at its exec or its last chdir
 * (or its parent's at fork); a rename since, by any task, may have moved a directory on its
 * path. So each thread keeps the rename_gen at which its process's cwd was last walked, with
 * the walk's signature, and before a record whose name is relative to the cwd, a thread
 * behind the current rename_gen takes the cwd's signature again: when it changed (a rename
 * moved a directory on the cwd's path), the cwd is walked and sent first (GH_EV_CWD with
 * GH_F_CWD_MOVED, no syscall). Renames elsewhere cost a signature walk and send nothing. A
 * name relative to a dirfd needs none of this: the dirfd's directory is walked with each
 * record. Threads of a process share its cwd (and user space keeps one per process): a
 * thread that is behind sends it again, which changes nothing.
 */

/* 1 if name (in user memory, relative to dfd) resolves against the cwd. */
static __always_inline int cwd_relative(long dfd, long name)
{
	char c = 0;

	if (!name || (int)dfd != AT_FDCWD)
		return 0;
	bpf_probe_read_user(&c, 1, (const void *)name);
	return c != '/' && c != 0;
}

/* The cwd of t's process, of signature sig, was walked (and sent) when rename_gen was gen. */
static __always_inline void cwd_walked(struct task_struct *t, __u32 gen, __u64 sig)
{
	struct thread_state *ts =
		bpf_task_storage_get(&thread_opens, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts) {
		ts->cwd_gen = gen;
		ts->cwd_sig = sig;
	}
}

/* A child knows its cwd as its parent does (user space gives it the parent's). */
static __always_inline void cwd_inherit(struct task_struct *parent, struct task_struct *child)
{
	struct thread_state *ts = bpf_task_storage_get(&thread_opens, parent, 0, 0);

	if (ts) /* else the child's own state starts empty too */
		cwd_walked(child, ts->cwd_gen, ts->cwd_sig);
}

/* Before a file record of the current thread with names n0 (relative to dirfd d0) and n1 (d1):
 * the cwd sent again when a rename may have moved it since it was last walked; chdir: the
 * record itself walks the new cwd. Global: verified once. */
__noinline int cwd_check(long d0, long n0, long d1, long n1, long chdir)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 gen = GH_ONCE(rename_gen);
	struct thread_state *ts;
	struct scratch *s;
	__u64 sig;

	if (chdir) { /* the record walks the new cwd */
		cwd_walked(t, gen, cwd_sig(t));
		return 0;
	}
	ts = bpf_task_storage_get(&thread_opens, t, 0, 0);
	if (ts ? ts->cwd_gen == gen : gen == 0)
		return 0;
	if (!cwd_relative(d0, n0) && !cwd_relative(d1, n1))
		return 0;
	sig = cwd_sig(t);
	if (ts && ts->cwd_sig == sig) { /* the renames did not touch the cwd's path */
		ts->cwd_gen = gen;
		return 0;
	}
	s = ev_begin(GH_EV_CWD, GH_NO_SYSCALL);
	if (!s)
		return 0; /* lost (and counted): the next relative name tries again */
	s->ev.flags2 = GH_F_CWD_MOVED;
	put_cwd(s, t);
	ev_submit(s);
	cwd_walked(t, gen, sig);
	return 0;
}

#endif /* __GH_OPENCACHE_BPF_H */
