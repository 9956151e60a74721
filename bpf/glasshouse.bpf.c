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
 *
 * The programs are here; what they are built from is in headers by concern, included in this
 * order (each uses those before it, and the settings and counters below): defs.bpf.h,
 * tracking.bpf.h (the tracked set), record.bpf.h (records and the ring), fds.bpf.h (a
 * descriptor's file), pathwalk.bpf.h (kernel paths), sockets.bpf.h (sockets and their byte
 * counts), opencache.bpf.h (the open collapse), enforce.bpf.h (a policy's kills),
 * syscalls.bpf.h (what each syscall reports,
 * and how). glasshouse.h is the record's ABI, shared with user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <asm/unistd_64.h>

#include "glasshouse.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

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

/* Moved by every successful rename, renameat and renameat2 of the machine (any task): a
 * directory on a tracked process's cwd path may have moved, so that process's cwd is walked
 * again before its next name relative to it (opencache.bpf.h, cwd_check). */
__u32 rename_gen;

/* Entries of pending_connects (sockets.bpf.h): while there are none, a socket's state change
 * costs a compare. */
__u32 connects_pending;

/* Socket byte counts, first level (sockets.bpf.h). Declared before anything whose size a build
 * setting changes (the regs-slot table, GH_RSLOTS): user space reads it at the skeleton's
 * offset, also from an object built with one slot (GLASSHOUSE_BPF_DIR in the suite). */
struct gh_sock_slot sock_slots[GH_SOCK_SLOTS];

#include "defs.bpf.h"
#include "tracking.bpf.h"
#include "record.bpf.h"
#include "fds.bpf.h"
#include "pathwalk.bpf.h"
#include "sockets.bpf.h"
#include "opencache.bpf.h"
#include "enforce.bpf.h"
#include "syscalls.bpf.h"

/* The one syscall program: counts every syscall of the tree and reports the ones that touch
 * files, processes and the network. (exit and exit_group never return: sched_process_exit
 * counts them.) */
SEC("tp_btf/sys_exit")
int BPF_PROG(gh_sys_exit, struct pt_regs *regs, long ret)
{
	const struct route *r;
	struct sc_args args;
	long nr;

	/* Renames of any task (a rename outside the tree can move a tracked cwd too). */
	if (ret == 0 && (regs->orig_ax == __NR_rename || regs->orig_ax == __NR_renameat ||
			 regs->orig_ax == __NR_renameat2))
		__sync_fetch_and_add(&rename_gen, 1);
	if (!regs_tracked(regs_key(regs)) &&
	    (!regs_full || !tid_tracked(bpf_get_current_task_btf()->pid))) {
		/* The command's first read is its gate's: it registers there, so nothing glasshouse's
		 * child did to get ready is counted as the command's. */
		if (pending_root && regs->orig_ax == __NR_read)
			register_root(bpf_get_current_task_btf(), regs);
		return 0;
	}
	if (enf_stopped) /* a policy stopped the tree: no task of it returns to user space */
		enf_kill();
	nr = regs->orig_ax;
	/* A new child returns from clone too: the call is counted once, in the caller. */
	if (ret != 0 || (nr != __NR_clone && nr != __NR_clone3 && nr != __NR_fork && nr != __NR_vfork))
		count_syscall(nr);
	r = route_of(nr);
	if (!r)
		return 0; /* only counted */
	/* The commonest call of all, first: a repeated open ends here. Its arguments are read
	 * from the registers by name: found through its row, they cost the open path some 40
	 * instructions more. */
	if (open_early(nr)) {
		if (nr == __NR_openat && open_cached(ret, regs->dx, regs->di, regs->si))
			return 0;
		if (nr == __NR_open && open_cached(ret, regs->si, AT_FDCWD, regs->di))
			return 0;
	}
	args.nr = nr;
	args.v[0] = 0;
	args.v[A0] = regs->di;
	args.v[A1] = regs->si;
	args.v[A2] = regs->dx;
	args.v[A3] = regs->r10;
	args.v[A4] = regs->r8;
	args.v[A5] = regs->r9;
	args.v[RETVAL] = ret;
	if (r->handler == H_NET)
		net_event(&args);
	else
		file_event(&args);
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
	cwd_inherit(parent, child);
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

/* Who runs and what really runs: the credentials exec committed, and the file the kernel
 * executes (for a #! script or binfmt_misc, the interpreter, which bprm->interp then names
 * instead of the script) with its identity, so user space hashes that very file or none. */
static __always_inline void exec_identity(struct scratch *s, struct task_struct *t,
					  struct linux_binprm *bprm)
{
	struct file *f = BPF_CORE_READ(bprm, file);
	struct inode *ino = BPF_CORE_READ(f, f_inode);

	s->ev.uid = BPF_CORE_READ(t, cred, uid.val);
	s->ev.gid = BPF_CORE_READ(t, cred, gid.val);
	s->ev.euid = BPF_CORE_READ(t, cred, euid.val);
	s->ev.sock = BPF_CORE_READ(ino, i_ino);
	s->ev.mode = BPF_CORE_READ(ino, i_sb, s_dev);
	if (bpf_core_field_exists(ino->i_ctime_sec)) { /* 6.11 and later */
		s->ev.exe_ctime_sec = BPF_CORE_READ(ino, i_ctime_sec);
		s->ev.exe_ctime_nsec = BPF_CORE_READ(ino, i_ctime_nsec);
	}
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		s->ev.flags2 |= GH_F_SCRIPT;
	put_path(s, (struct path *)&f->f_path);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(gh_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	unsigned long start, end, len;
	struct scratch *s;
	__u32 gen;
	__u8 *p;

	if (!tid_tracked(old_pid))
		return 0;
	if (old_pid != t->pid) { /* a non-leader thread's exec: it took the leader's id */
		tid_mark(t->pid);
		tid_unmark(old_pid);
	}
	s = ev_begin(GH_EV_EXEC, 0xffff);
	if (!s) {
		enf_unjudged(enf_exec);
		return 0;
	}
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
	gen = GH_ONCE(rename_gen);
	{
		__u32 st2 = s->off, st3; /* where the cwd's walk and the run file's start */

		put_cwd(s, t);
		st3 = s->off;
		exec_identity(s, t, bprm);
		if (enf_exec_violates(s, st2, st3))
			enf_violation(s); /* its first instruction is never run */
	}
	ev_submit(s);
	cwd_walked(t, gen, cwd_sig(t));
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

/* A socket's state changes (any socket of the machine; in softirq for most): the outcome of
 * a tracked non-blocking connect (sockets.bpf.h). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(gh_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	long skp = 0;

	if (!connects_pending || (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV))
		return 0;
	/* sk as a number (a global function takes no trusted pointer): read, not loaded */
	bpf_probe_read_kernel(&skp, sizeof(skp), &ctx[0]);
	connect_settle(skp, newstate);
	return 0;
}
