/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The tracked set (the command's tree): a bit per thread id, the table of where tracked
 * threads keep their saved registers, pids as glasshouse's namespace numbers them, and the
 * command's registration. */
#ifndef __GH_TRACKING_BPF_H
#define __GH_TRACKING_BPF_H

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
__u32 regs_full;
__u64 rslots[GH_RSLOTS]; /* last of the .bss: its size is a build setting */

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

#endif /* __GH_TRACKING_BPF_H */
