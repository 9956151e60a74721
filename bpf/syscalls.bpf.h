/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The syscall program's routing: per-syscall counts, the kind of each syscall reported, and
 * the handlers that build file and network records. */
#ifndef __GH_SYSCALLS_BPF_H
#define __GH_SYSCALLS_BPF_H

/* Every syscall of the tracked tree, by number, per CPU: read by user space at the end. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GH_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u64);
} syscall_counts SEC(".maps");

static __always_inline void count_syscall(long nr)
{
	__u32 key = nr;
	__u64 *cnt = bpf_map_lookup_elem(&syscall_counts, &key);

	if (cnt)
		*cnt += 1;
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

#endif /* __GH_SYSCALLS_BPF_H */
