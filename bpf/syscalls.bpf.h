/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The syscall program's routing: per-syscall counts, a row per syscall reported (its kind,
 * handler and arguments), and the handlers that build file and network records from it. */
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

/*
 * How each syscall is reported: a row per syscall number says the record's kind, the handler
 * that builds it, when it is reported and where its arguments are. One load from .rodata finds
 * a syscall's row on every syscall (a switch cost a chain of compares); the handlers read the
 * row again, so a syscall needs no code of its own unless it does something no row describes
 * (open and openat are also checked for repeats in gh_sys_exit itself: open_early).
 * Reporting another syscall is a row here (a new kind also needs its number in glasshouse.h,
 * after the others, and user space's handling of it).
 */
enum { H_FILE = 1, H_NET };	/* the handler: file_event, net_event */

#define R_IF_OK		(1 << 0)	/* reported only when it succeeded */
#define R_IF_FAILED	(1 << 1)	/* reported only when it failed */
#define R_OPEN		(1 << 2)	/* an open: a repeat is counted, not sent (opencache) */
#define R_CREAT		(1 << 3)	/* creat: its flags are O_CREAT | O_WRONLY | O_TRUNC */
#define R_HOW		(1 << 4)	/* openat2: flags and mode from the struct open_how at fl */
#define R_RMDIR		(1 << 5)	/* rmdir: GH_F_RMDIR */
#define R_RMDIR_AT	(1 << 6)	/* unlinkat: GH_F_RMDIR when fl has AT_REMOVEDIR */
#define R_TARGET	(1 << 7)	/* name is a symlink's target: resolved against nothing */
#define R_CWD		(1 << 8)	/* the record is the new cwd, walked in the kernel */
#define R_TO		(1 << 9)	/* reported only when addr names a destination */
#define R_MSGHDR	(1 << 10)	/* addr is a struct msghdr; its msg_name is the sockaddr */
#define R_PEER		(1 << 11)	/* a string: the socket's peer address, from the kernel */
#define R_LOCAL		(1 << 12)	/* a string: the socket's local address, from the kernel */

/* Where a value is: argument i is Ai, the syscall's result RETVAL; 0 is none (a missing name is
 * NULL, a missing directory the cwd, missing flags and mode 0). */
enum { A0 = 1, A1, A2, A3, A4, A5, RETVAL };

struct route {
	__u8 kind;	/* GH_EV_*; 0: only counted */
	__u8 handler;	/* H_* */
	__u16 flags;	/* R_* */
	__u8 dfd, name;		/* file: a name and the directory it is relative to */
	__u8 dfd2, name2;	/* file: a second name (rename, link, symlink) and its directory */
	__u8 fl, mode;		/* file: open flags or at-flags, creation mode */
	__u8 fd, addr, alen;	/* network: the socket, a sockaddr in user memory and its length */
	__u8 pad[3];		/* 16 bytes: a row's offset is a shift */
};

#define FILE_EV(k, f, ...) { .kind = k, .handler = H_FILE, .flags = f, __VA_ARGS__ }
#define NET_EV(k, f, ...) { .kind = k, .handler = H_NET, .flags = f, __VA_ARGS__ }

static const struct route routes[GH_SYSCALL_MAX] = {
	[__NR_open] = FILE_EV(GH_EV_OPEN, R_OPEN, .name = A0, .fl = A1, .mode = A2),
	[__NR_openat] = FILE_EV(GH_EV_OPEN, R_OPEN, .dfd = A0, .name = A1, .fl = A2, .mode = A3),
	[__NR_openat2] = FILE_EV(GH_EV_OPEN, R_OPEN | R_HOW, .dfd = A0, .name = A1, .fl = A2),
	[__NR_creat] = FILE_EV(GH_EV_OPEN, R_OPEN | R_CREAT, .name = A0, .mode = A1),
	[__NR_unlink] = FILE_EV(GH_EV_UNLINK, 0, .name = A0),
	[__NR_unlinkat] = FILE_EV(GH_EV_UNLINK, R_RMDIR_AT, .dfd = A0, .name = A1, .fl = A2),
	[__NR_rmdir] = FILE_EV(GH_EV_UNLINK, R_RMDIR, .name = A0),
	[__NR_rename] = FILE_EV(GH_EV_RENAME, 0, .name = A0, .name2 = A1),
	[__NR_renameat] = FILE_EV(GH_EV_RENAME, 0, .dfd = A0, .name = A1, .dfd2 = A2, .name2 = A3),
	[__NR_renameat2] = FILE_EV(GH_EV_RENAME, 0, .dfd = A0, .name = A1, .dfd2 = A2, .name2 = A3,
				   .fl = A4),
	[__NR_mkdir] = FILE_EV(GH_EV_MKDIR, 0, .name = A0, .mode = A1),
	[__NR_mkdirat] = FILE_EV(GH_EV_MKDIR, 0, .dfd = A0, .name = A1, .mode = A2),
	[__NR_symlink] = FILE_EV(GH_EV_SYMLINK, R_TARGET, .name = A0, .name2 = A1),
	[__NR_symlinkat] = FILE_EV(GH_EV_SYMLINK, R_TARGET, .name = A0, .dfd2 = A1, .name2 = A2),
	[__NR_link] = FILE_EV(GH_EV_LINK, 0, .name = A0, .name2 = A1),
	[__NR_linkat] = FILE_EV(GH_EV_LINK, 0, .dfd = A0, .name = A1, .dfd2 = A2, .name2 = A3,
				.fl = A4),
	[__NR_mknod] = FILE_EV(GH_EV_MKNOD, 0, .name = A0, .mode = A1),
	[__NR_mknodat] = FILE_EV(GH_EV_MKNOD, 0, .dfd = A0, .name = A1, .mode = A2),
	[__NR_truncate] = FILE_EV(GH_EV_TRUNCATE, 0, .name = A0),
	[__NR_chdir] = FILE_EV(GH_EV_CWD, R_IF_OK | R_CWD),
	[__NR_fchdir] = FILE_EV(GH_EV_CWD, R_IF_OK | R_CWD),
	/* a successful exec is sched_process_exec's */
	[__NR_execve] = FILE_EV(GH_EV_EXEC_FAIL, R_IF_FAILED, .name = A0),
	[__NR_execveat] = FILE_EV(GH_EV_EXEC_FAIL, R_IF_FAILED, .dfd = A0, .name = A1, .fl = A4),
	[__NR_connect] = NET_EV(GH_EV_CONNECT, 0, .fd = A0, .addr = A1, .alen = A2),
	[__NR_bind] = NET_EV(GH_EV_BIND, 0, .fd = A0, .addr = A1, .alen = A2),
	/* without a destination: a connected socket's traffic */
	[__NR_sendto] = NET_EV(GH_EV_SENDTO, R_TO, .fd = A0, .addr = A4, .alen = A5),
	[__NR_sendmsg] = NET_EV(GH_EV_SENDTO, R_TO | R_MSGHDR, .fd = A0, .addr = A1),
	[__NR_listen] = NET_EV(GH_EV_LISTEN, R_LOCAL, .fd = A0),
	[__NR_accept] = NET_EV(GH_EV_ACCEPT, R_IF_OK | R_PEER | R_LOCAL, .fd = RETVAL),
	[__NR_accept4] = NET_EV(GH_EV_ACCEPT, R_IF_OK | R_PEER | R_LOCAL, .fd = RETVAL),
};

/* Syscall nr's row, or NULL when it is only counted. */
static __always_inline const struct route *route_of(long nr)
{
	const struct route *r;

	if ((unsigned long)nr >= GH_SYSCALL_MAX)
		return NULL;
	r = &routes[nr];
	return r->kind ? r : NULL;
}

/* The opens gh_sys_exit checks for repeats itself, from their registers; file_event checks
 * the others' (creat's, openat2's) once it knows their flags. */
static __always_inline int open_early(long nr)
{
	return nr == __NR_openat || nr == __NR_open;
}

/* A syscall's number and values (v[Ai] argument i, v[RETVAL] its result, v[0] 0), handed to
 * the global (separately verified) handlers below: verifying each once, rather than on every
 * path into it, keeps the program's load time low. */
struct sc_args {
	long nr;
	long v[8];
};

static __always_inline long sc_val(const struct sc_args *args, __u8 at)
{
	return args->v[at & 7];
}

/* A directory a name is relative to: the cwd when the row names none. */
static __always_inline long sc_dfd(const struct sc_args *args, __u8 at)
{
	return at ? sc_val(args, at) : AT_FDCWD;
}

/* 0 when the row reports the syscall only when it succeeded (or failed), and it did not. */
static __always_inline int route_wants(const struct route *r, long ret)
{
	if ((r->flags & R_IF_OK) && ret < 0)
		return 0;
	if ((r->flags & R_IF_FAILED) && ret >= 0)
		return 0;
	return 1;
}

/* Where a file record's names are: n0 (relative to d0) and, for two-name calls, n1 (relative
 * to d1); flags is the row's. st: where each string was put (for enf_file). */
struct names {
	long flags, ret, n0, n1, d0, d1;
	struct enf_strs st;
};

/* The names of a file record (global: verified once, whichever syscall led here). Returns 1
 * if the record is a repeated open, to be counted and not sent. */
__noinline int file_names(struct scratch *s, struct names *nm)
{
	if (!s || !nm)
		return 0;
	if (nm->flags & R_CWD) {
		put_cwd(s, bpf_get_current_task_btf());
		return 0;
	}
	nm->st.off[0] = s->off;
	if (nm->flags & R_OPEN) {
		if (open_record(s, nm->ret, (const void *)nm->n0))
			return 1;
	} else {
		put_user_str(s, (const void *)nm->n0, GH_PATH_MAX + 1);
	}
	nm->st.off[1] = s->off;
	if (nm->flags & R_TARGET)
		put_empty(s);
	else /* an in-root name resolves under the dirfd even when absolute: no name given */
		put_dirfd(s, nm->d0, (s->ev.flags2 & GH_F_IN_ROOT) ? 0 : nm->n0);
	if (nm->n1) {
		nm->st.off[2] = s->off;
		put_user_str(s, (const void *)nm->n1, GH_PATH_MAX + 1);
		nm->st.off[3] = s->off;
		put_dirfd(s, nm->d1, nm->n1);
	}
	return 0;
}

/* A file record, from its row: names, flags and mode where the row says they are. */
__noinline int file_event(struct sc_args *args)
{
	const struct route *r;
	long ret, flags, mode, flags2 = 0;
	struct names names;
	struct scratch *s;

	if (!args)
		return 0;
	ret = args->v[RETVAL];
	r = route_of(args->nr);
	if (!r || !route_wants(r, ret))
		return 0;
	names.n0 = sc_val(args, r->name);
	names.n1 = sc_val(args, r->name2);
	names.d0 = sc_dfd(args, r->dfd);
	names.d1 = sc_dfd(args, r->dfd2);
	flags = sc_val(args, r->fl);
	mode = sc_val(args, r->mode);
	if (r->flags & R_CREAT)
		flags = O_CREAT | O_WRONLY | O_TRUNC;
	if (r->flags & R_HOW) {
		struct gh_open_how how = {};

		bpf_probe_read_user(&how, sizeof(how), (void *)sc_val(args, r->fl));
		flags = how.flags, mode = how.mode;
		if (how.resolve & GH_RESOLVE_IN_ROOT)
			flags2 |= GH_F_IN_ROOT;
	}
	if ((r->flags & R_RMDIR) || ((r->flags & R_RMDIR_AT) && (flags & AT_REMOVEDIR)))
		flags2 = GH_F_RMDIR;
	/* A repeat of one of this CPU's last opens: counted, no record built. */
	if ((r->flags & R_OPEN) && !open_early(args->nr) &&
	    open_cached(ret, flags, names.d0, names.n0))
		return 0;
	/* A name relative to a cwd a rename may have moved: the cwd is walked and sent first. */
	cwd_check(names.d0, (r->flags & R_TARGET) ? 0 : names.n0, names.d1, names.n1,
		  r->flags & R_CWD);
	s = ev_begin(r->kind, args->nr);
	if (!s) {
		if (ret >= 0)
			enf_unjudged(enf_file_mode(r->kind, flags));
		return 0;
	}
	s->ev.ret = ret;
	s->ev.flags = flags;
	s->ev.mode = mode;
	s->ev.flags2 = flags2;
	names.flags = r->flags;
	names.ret = ret;
	__builtin_memset(&names.st, 0, sizeof(names.st));
	if (file_names(s, &names)) { /* a repeated open: counted, not sent */
		scratch_put(s);
		return 0;
	}
	/* a read or write a policy denies: the caller never runs another instruction */
	if (enf_file(s, &names.st))
		enf_violation(s);
	ev_submit(s);
	return 0;
}

/* A network record, from its row: the socket, then the address the caller gave, then the
 * addresses the kernel knows (the peer's before the socket's own). */
__noinline int net_event(struct sc_args *args)
{
	struct sock_ref ref = {};
	const struct route *r;
	long addr, alen;
	struct scratch *s;

	if (!args)
		return 0;
	r = route_of(args->nr);
	if (!r || !route_wants(r, args->v[RETVAL]))
		return 0;
	addr = sc_val(args, r->addr);
	alen = sc_val(args, r->alen);
	if (r->flags & R_MSGHDR) {
		struct gh_msghdr m = {};

		if (bpf_probe_read_user(&m, sizeof(m), (void *)addr))
			return 0;
		addr = (long)m.msg_name;
		alen = m.msg_namelen;
	}
	if ((r->flags & R_TO) && !addr)
		return 0;
	/* A unix socket named relative to a cwd a rename may have moved: the cwd first. */
	if (addr && alen > 2) {
		__u16 family = 0;

		bpf_probe_read_user(&family, sizeof(family), (void *)addr);
		if (family == AF_UNIX)
			cwd_check(AT_FDCWD, addr + 2, 0, 0, 0);
	}
	s = ev_begin(r->kind, args->nr);
	if (!s) {
		if (r->kind != GH_EV_BIND)
			enf_unjudged(enf_net);
		return 0;
	}
	s->ev.ret = args->v[RETVAL];
	fd_socket(sc_val(args, r->fd), &ref);
	sock_note(s, &ref);
	if (r->addr) {
		__u32 st = s->off;

		put_user_bytes(s, (void *)addr, alen);
		/* a destination a policy denies: the caller never runs another instruction */
		if (r->kind != GH_EV_BIND && enf_net_violates(s, st))
			enf_violation(s);
	}
	if (r->flags & R_PEER)
		put_sock_addr(s, ref.sk, 1); /* empty when there is no socket */
	if (r->flags & R_LOCAL)
		put_sock_addr(s, ref.sk, 0);
	ev_submit(s);
	/* A non-blocking connect: its outcome comes later (sockets.bpf.h). */
	if (args->nr == __NR_connect && args->v[RETVAL] == -EINPROGRESS && ref.sk)
		connect_pending(&ref);
	return 0;
}

#endif /* __GH_SYSCALLS_BPF_H */
