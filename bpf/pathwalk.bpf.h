/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Kernel paths as strings: a dentry walked up through its mounts (the cwd, a dirfd's
 * directory). */
#ifndef __GH_PATHWALK_BPF_H
#define __GH_PATHWALK_BPF_H

/* A kernel path walked from its dentry up to the root, crossing mounts: components leaf first,
 * each NUL-terminated (the root itself: one empty component). (bpf_d_path is not allowed in tracepoints.) One step per bpf_loop
 * callback, so the verifier checks a step once instead of every path through all of them. A
 * path longer than GH_PATH_MAX bytes keeps its last whole components and is marked truncated
 * (user space writes it cut: "(cut)/c/d"). */
struct walk {
	struct scratch *s; /* NULL: the signature alone (path_sig) */
	struct dentry *d;
	struct mount *m;
	__u32 start, len;
	int truncated;
	__u64 sig;
};

/* One more object (a dentry, a mount) or name hash in a walk's signature (FNV-1a's prime). */
static __always_inline __u64 sig_mix(__u64 sig, __u64 v)
{
	return (sig ^ v) * 0x100000001b3ULL;
}

static long walk_step(__u32 i, struct walk *w)
{
	struct dentry *d = w->d, *parent = BPF_CORE_READ(d, d_parent);
	struct mount *m = w->m;
	const unsigned char *name;
	struct scratch *s = w->s;
	long n;

	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *mp = BPF_CORE_READ(m, mnt_parent);

		if (mp == m) {
			w->truncated = 0;
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = mp;
		w->sig = sig_mix(w->sig, (__u64)m);
		return 0;
	}
	if (d == parent) {
		w->truncated = 0;
		return 1;
	}
	/* the dentry and its name (hash and length): a rename changes one or the other */
	w->sig = sig_mix(sig_mix(w->sig, (__u64)d), BPF_CORE_READ(d, d_name.hash_len));
	if (!s) {
		w->d = parent;
		return 0;
	}
	name = BPF_CORE_READ(d, d_name.name);
	n = bpf_probe_read_kernel_str(&s->data[(w->start + 2 + w->len) & (GH_DATA_CAP - 1)],
				      GH_NAME_MAX, name);
	if (n <= 0)
		return 1;
	if (w->len + n > GH_PATH_MAX) /* whole components only: the walk is cut before this one */
		return 1;
	w->len += n;
	w->d = parent;
	return 0;
}

/* Global (verified once, for every caller): path is a struct path's kernel address, read
 * through probes as the walk reads everything. */
__noinline int put_walk(struct scratch *s, long kpath)
{
	struct path *path = (struct path *)kpath;
	struct vfsmount *vm = BPF_CORE_READ(path, mnt);
	struct walk w = {
		.s = s,
		.d = BPF_CORE_READ(path, dentry),
		.m = (void *)vm - bpf_core_field_offset(struct mount, mnt),
		.truncated = 1,
	};

	if (!s)
		return 0;
	w.start = s->off & (GH_DATA_CAP - 1);
	bpf_loop(GH_WALK_DEPTH, walk_step, &w, 0);
	/* The root has no component: it is sent as one empty component, so that a directory
	 * walked to the root is never taken for no directory (an empty string: the cwd). */
	if (w.len == 0 && !w.truncated) {
		s->data[(w.start + 2) & (GH_DATA_CAP - 1)] = 0;
		w.len = 1;
	}
	s->off = w.start;
	s->ev.flags2 |= GH_F_WALKED;
	str_end(s, w.len, w.truncated);
	return 0;
}

static __always_inline void put_path(struct scratch *s, struct path *path)
{
	put_walk(s, (long)path);
}

/* The signature of a path: its dentries and mounts up to the root, and their names' hashes.
 * The same path keeps it; a rename of any directory on it changes it (but for a collision of
 * 64-bit hashes). Names are not read. */
static __always_inline __u64 path_sig(struct path *path)
{
	struct vfsmount *vm = BPF_CORE_READ(path, mnt);
	struct walk w = {
		.d = BPF_CORE_READ(path, dentry),
		.m = (void *)vm - bpf_core_field_offset(struct mount, mnt),
		.sig = 0xcbf29ce484222325ULL,
	};

	bpf_loop(GH_WALK_DEPTH, walk_step, &w, 0);
	return w.sig;
}

/* The signature of task t's cwd. */
static __always_inline __u64 cwd_sig(struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	return path_sig(&fs->pwd);
}

/* The cwd of task t (read through a plain kernel pointer, which the walk takes). */
static __always_inline void put_cwd(struct scratch *s, struct task_struct *t)
{
	struct fs_struct *fs = BPF_CORE_READ(t, fs);

	put_path(s, &fs->pwd);
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

#endif /* __GH_PATHWALK_BPF_H */
