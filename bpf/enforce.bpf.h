/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Enforcement (a policy with enforce = true): the exec, read, write and connect rules user
 * space compiled into maps are decided here, and a violating task is killed before it runs
 * another instruction; from then on every task of the tree is killed at its next syscall exit.
 *
 * There are no kprobes, fentry or BPF LSM here, so nothing can refuse the call itself: the
 * tools are the tracepoints glasshouse already has and bpf_send_signal. A SIGKILL sent from
 * sched_process_exec or from sys_exit is pending when the task returns to user space, which it
 * never does: the kernel acts on a fatal signal first. So the new program of a denied exec runs
 * no instruction, and a process whose connect, open, rename... was denied never runs another
 * one (the handshake may still have happened, the file been created). What the call itself did stays done.
 *
 * Exec, read and write: the path as the receipt names it (the name given, resolved lexically
 * against the walked cwd or dirfd as user space resolves it, ".." folded; for a #! script also
 * the interpreter's walked path) is built root first into a key and looked up in one LPM trie
 * whose entries are exact paths (with their NUL) and directory prefixes ending in '/'. An
 * entry's value holds the allow and deny bits of every rule matching its whole key (user space
 * folds a shorter prefix's bits into the longer entries it covers), so the longest match alone
 * says whether any allow or deny rule of each kind matches: one lookup per path. A path
 * longer than the key (256 bytes) is judged by the prefixes that cover its first 256 bytes;
 * strings that were cut, and a ".." folding back past those bytes, are not decided here (user
 * space judges them). A file event is judged at its syscall's exit, by the kinds policy.event_subjects
 * gives it: an open reads and/or writes its path, the others write theirs (both of a rename's;
 * the name a link or symlink makes).
 * Connect: the destination the caller gave (AF_INET, AF_INET6, AF_UNIX; any other family as
 * one) against a hash of {family, address or any, port or any}: four lookups.
 */
#ifndef __GH_ENFORCE_BPF_H
#define __GH_ENFORCE_BPF_H

#define GH_SIGKILL 9

/* Written by user space before the command starts (enf_stopped also during the run); a section
 * of its own, so its layout does not move with the .bss's build settings. */
__u32 enf_stopped SEC(".data.enforce");	/* the tree is stopped: kill at every syscall exit */
__u32 enf_exec SEC(".data.enforce");	/* GH_ENF_* bits for exec */
__u32 enf_net SEC(".data.enforce");	/* GH_ENF_* bits for connect */
__u32 enf_read SEC(".data.enforce");	/* GH_ENF_* bits for files read */
__u32 enf_write SEC(".data.enforce");	/* GH_ENF_* bits for files written */
__u64 enf_killed SEC(".data.enforce");	/* tasks signalled after the stop (read by user space) */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GH_ENF_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gh_enf_path);
	__type(value, __u8); /* GH_ENF_PATH_BITS of each kind */
} enf_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GH_ENF_RULES);
	__type(key, struct gh_enf_net);
	__type(value, __u8); /* GH_ENF_ALLOW | GH_ENF_DENY */
} enf_net_rules SEC(".maps");

/* The tree is stopped: this task (its whole process) is killed before it returns to user space. */
static __always_inline void enf_kill(void)
{
	bpf_send_signal(GH_SIGKILL);
	__sync_fetch_and_add(&enf_killed, 1);
}

/* A violation the kernel decided: the record is the trigger, the tree is stopped, the task is
 * killed, and user space is woken now (not at its next poll) to kill what makes no syscall. */
static __always_inline void enf_violation(struct scratch *s)
{
	s->ev.flags2 |= GH_F_ENFORCED;
	enf_stopped = 1;
	enf_kill();
}

/* No record could be built (the ring's scratch areas were busy), so nothing can be judged:
 * while the kernel decides this kind, the tree is stopped rather than let through (fails
 * closed); the receipt says the trigger was lost. */
static __always_inline void enf_unjudged(__u32 bits)
{
	if (bits & GH_ENF_KERNEL) {
		enf_stopped = 1;
		enf_kill();
	}
}

/* The forward path is built in the scratch area's upper half, which records never use. Its
 * first GH_ENF_PATH bytes (the whole key) are kept; a longer path is judged by them. */
#define ENF_KEY_OFF GH_DATA_CAP
#define ENF_TMP_OFF (GH_DATA_CAP + 1024)

struct enf_fwd {
	struct scratch *s;
	__u32 src;	/* where the walked string's bytes start in s->data */
	__u32 len;	/* its length: components leaf first, each ended by NUL */
	__u32 p;	/* the next component's offset in it */
	int bad;
};

/* One component: leaf-first offset p becomes "/name" ending at len - p in the forward path. */
static long enf_fwd_step(__u32 i, struct enf_fwd *f)
{
	struct scratch *s = f->s;
	__u32 c, dst;
	long n;

	if (!s || f->p >= f->len)
		return 1;
	n = bpf_probe_read_kernel_str(&s->data[ENF_TMP_OFF], GH_NAME_MAX,
				      &s->data[(f->src + f->p) & (GH_DATA_CAP - 1)]);
	if (n <= 1) {
		f->bad = 1;
		return 1;
	}
	c = n - 1;
	if (f->p + c + 1 > f->len) {
		f->bad = 1;
		return 1;
	}
	dst = f->len - f->p - c; /* >= 1: the '/' before it */
	if (dst - 1 < GH_ENF_PATH)
		s->data[ENF_KEY_OFF + 4 + ((dst - 1) & (GH_ENF_PATH - 1))] = '/';
	if (dst < GH_ENF_PATH) { /* what of it falls within the kept bytes */
		__u32 k = GH_ENF_PATH - dst < c ? GH_ENF_PATH - dst : c;

		bpf_probe_read_kernel(&s->data[(ENF_KEY_OFF + 4 + (dst & (GH_ENF_PATH - 1)))],
				      k & (GH_ENF_PATH - 1), &s->data[ENF_TMP_OFF]);
	}
	f->p += n;
	return 0;
}

/* The verdict of rule bits m (GH_ENF_ALLOW | GH_ENF_DENY, those matching) under a kind's mode
 * (its enf_* bits): 1 for a violation. Deny wins; with an allow list, no allow is one too. */
static __always_inline int enf_decide(__u32 m, __u32 mode)
{
	if (m & GH_ENF_DENY)
		return 1;
	return (mode & GH_ENF_ALLOW_LIST) && !(m & GH_ENF_ALLOW);
}

/* A record string's length: the u16 before its bytes, at offset st of s->data. */
static __always_inline __u32 enf_str_len(struct scratch *s, __u32 st)
{
	return s->data[st & (GH_DATA_CAP - 1)] | (s->data[(st + 1) & (GH_DATA_CAP - 1)] << 8);
}

/* The forward path of the walked string at st into the key (its first GH_ENF_PATH bytes): its
 * length, or -1 when the kernel cannot decide it (not read whole). */
__noinline int enf_walk_key(struct scratch *s, __u32 st)
{
	struct enf_fwd f = { .s = s };
	__u32 len;

	if (!s)
		return -1;
	len = enf_str_len(s, st);
	f.src = (st + 2) & (GH_DATA_CAP - 1);
	if (len == 1 && s->data[f.src] == 0)
		return 0; /* the root */
	f.len = len;
	bpf_loop(GH_WALK_DEPTH, enf_fwd_step, &f, 0);
	if (f.bad || f.p != len)
		return -1;
	return len;
}

/* Appending a name to the key as user space resolves it (gh_path_resolve): empty and "."
 * components dropped, ".." dropping the component before it (never the root). Bytes past
 * GH_ENF_PATH are counted, not kept; a ".." that would fold back over them leaves the name to
 * user space. */
struct enf_name {
	struct scratch *s;
	__u32 src, len;	/* the name's bytes in s->data */
	__u32 pos;	/* the path's length so far (its first GH_ENF_PATH bytes in the key) */
	__u32 comp;	/* where the current component's '/' is */
	__u32 clen;	/* the current component's length */
	__u8 c0, c1;	/* and its first two bytes */
	int in_comp, bad, done;
};

static __always_inline void enf_put(struct enf_name *n, __u8 c)
{
	if (n->pos < GH_ENF_PATH)
		n->s->data[ENF_KEY_OFF + 4 + (n->pos & (GH_ENF_PATH - 1))] = c;
	n->pos++;
}

/* One step back from n->pos to the '/' of the component before it (the key starts with one). */
static long enf_back_step(__u32 i, struct enf_name *n)
{
	if (!n->s || n->pos == 0)
		return 1;
	n->pos--;
	return n->s->data[ENF_KEY_OFF + 4 + (n->pos & (GH_ENF_PATH - 1))] == '/';
}

static __always_inline void enf_name_end(struct enf_name *n)
{
	n->in_comp = 0;
	if (n->clen == 1 && n->c0 == '.') {
		n->pos = n->comp;
	} else if (n->clen == 2 && n->c0 == '.' && n->c1 == '.') {
		/* ".." and the component before it dropped: found in the kept bytes */
		if (n->comp > GH_ENF_PATH) {
			n->bad = 1;
			return;
		}
		n->pos = n->comp;
		bpf_loop(GH_ENF_PATH, enf_back_step, n, 0);
	}
}

static long enf_name_step(__u32 i, struct enf_name *n)
{
	struct scratch *s = n->s;
	__u8 c;

	if (!s)
		return 1;
	if (i >= n->len) {
		if (n->in_comp)
			enf_name_end(n);
		n->done = 1;
		return 1;
	}
	c = s->data[(n->src + i) & (GH_DATA_CAP - 1)];
	if (c == '/') {
		if (n->in_comp)
			enf_name_end(n);
		return n->bad ? 1 : 0;
	}
	if (!n->in_comp) {
		n->in_comp = 1;
		n->comp = n->pos;
		n->clen = 0;
		enf_put(n, '/');
	}
	if (n->clen == 0)
		n->c0 = c;
	else if (n->clen == 1)
		n->c1 = c;
	n->clen++;
	enf_put(n, c);
	return 0;
}

/* The name (the record's string at offset st) appended to the key's first pos bytes: the
 * key's length, or -1 when the kernel does not decide it (the name not read whole, or a ".."
 * folding back past the bytes the key keeps). */
__noinline int enf_name_key(struct scratch *s, __u32 st, __u32 pos)
{
	struct enf_name n = { .s = s, .src = (st + 2) & (GH_DATA_CAP - 1), .pos = pos };

	if (!s)
		return -1;
	n.len = enf_str_len(s, st);
	if (n.len > GH_PATH_MAX)
		return -1;
	bpf_loop(n.len + 1, enf_name_step, &n, 0);
	if (!n.done || n.bad || n.pos == 0)
		return -1;
	return n.pos;
}

/* The path rules of kind (GH_ENF_EXEC, _READ, _WRITE; mode its enf_* bits) on the key, a path
 * of len bytes: 1 if they make it a violation. A path of GH_ENF_PATH bytes or more (no room
 * for its NUL) is judged by its first GH_ENF_PATH bytes: every entry fits the key, so the
 * prefix entries covering them are all those covering it, and no exact entry (its NUL
 * included) can name it. */
static __always_inline int enf_path_violates(struct scratch *s, __u32 len, __u32 kind, __u32 mode)
{
	struct gh_enf_path *key = (void *)&s->data[ENF_KEY_OFF];
	__u8 *v;
	__u32 m;

	if (len < GH_ENF_PATH) {
		s->data[ENF_KEY_OFF + 4 + (len & (GH_ENF_PATH - 1))] = 0;
		key->prefixlen = (len + 1) * 8;
	} else {
		key->prefixlen = GH_ENF_PATH * 8;
	}
	v = bpf_map_lookup_elem(&enf_paths, key);
	m = v ? (*v >> (2 * kind)) & 3 : 0;
	return enf_decide(m, mode);
}

/*
 * At sched_process_exec, once the record holds its strings: whether the exec violates the exec
 * rules, judged as user space judges it. The program is the name given (s0, at offset 0),
 * resolved against the cwd (s2, walked, at offset st2) lexically, as the receipt names it; for
 * a #! script (GH_F_SCRIPT) also the interpreter that really runs (s3, walked, at st3), which
 * the receipt names as the process's program; for a program run through a descriptor
 * (fexecve: "/dev/fd/N") only the file that ran (s3), as the receipt names it. A name the
 * kernel cannot resolve as user space does (not read whole, a ".." folding back past the
 * bytes the key keeps) is not decided here: user space judges it.
 */
static __always_inline int enf_exec_violates(struct scratch *s, __u32 st2, __u32 st3)
{
	__u32 nlen = enf_str_len(s, 0);
	int base = 0, len, fdname;

	if (!(enf_exec & GH_ENF_KERNEL))
		return 0;
	fdname = nlen > 8 && s->data[2] == '/' && s->data[3] == 'd' && s->data[4] == 'e' &&
		 s->data[5] == 'v' && s->data[6] == '/' && s->data[7] == 'f' && s->data[8] == 'd' &&
		 s->data[9] == '/';
	if (!fdname && !(s->ev.truncated & 1) && nlen > 0) {
		if (s->data[2] != '/')
			base = s->ev.truncated & (1 << 2) ? -1 : enf_walk_key(s, st2);
		len = base < 0 ? -1 : enf_name_key(s, 0, base);
		if (len > 0 && enf_path_violates(s, len, GH_ENF_EXEC, enf_exec))
			return 1;
	}
	if ((fdname || (s->ev.flags2 & GH_F_SCRIPT)) && !(s->ev.truncated & (1 << 3))) {
		base = enf_walk_key(s, st3);
		if (base > 0 && enf_path_violates(s, base, GH_ENF_EXEC, enf_exec))
			return 1;
	}
	return 0;
}

/* The cwd walked into the key: its length, or -1. The walk is made where the record's next
 * string would go and then taken back (the record is unchanged). */
__noinline int enf_cwd_key(struct scratch *s)
{
	__u32 st, nstr, cut, f2;
	int base;

	if (!s)
		return -1;
	st = s->off, nstr = s->ev.nstr, cut = s->ev.truncated, f2 = s->ev.flags2;

	put_cwd(s, bpf_get_current_task_btf());
	base = s->ev.truncated != cut ? -1 : enf_walk_key(s, st);
	s->off = st;
	s->ev.nstr = nstr;
	s->ev.truncated = cut;
	s->ev.flags2 = f2;
	return base;
}

/* Where a file record's strings start in s->data (file_names notes them). */
struct enf_strs {
	__u32 off[4];
};

/* One name of a file record (string i at offset st, relative to the walked directory that is
 * string i + 1 at std, or to the cwd when that is empty), judged for the kinds in which
 * (1 << GH_ENF_READ, 1 << GH_ENF_WRITE): 1 if a kernel-decided kind violates. Global:
 * verified once for the up to two names of a record. */
__noinline int enf_file_name(struct scratch *s, __u32 i, __u32 st, __u32 std, __u32 which)
{
	int base = 0, len;

	/* an in-root name (openat2's RESOLVE_IN_ROOT) is user space's: its ".." stops at its
	 * root, which the key's folding does not know */
	if (!s || (s->ev.truncated >> i) & 1 || enf_str_len(s, st) == 0 ||
	    (s->ev.flags2 & GH_F_IN_ROOT))
		return 0;
	if (s->data[(st + 2) & (GH_DATA_CAP - 1)] != '/') {
		if (enf_str_len(s, std))
			base = (s->ev.truncated >> (i + 1)) & 1 ? -1 : enf_walk_key(s, std);
		else
			base = enf_cwd_key(s);
		if (base < 0)
			return 0;
	}
	len = enf_name_key(s, st, base);
	if (len < 0)
		return 0;
	if ((which & (1 << GH_ENF_READ)) && (enf_read & GH_ENF_KERNEL) &&
	    enf_path_violates(s, len, GH_ENF_READ, enf_read))
		return 1;
	return (which & (1 << GH_ENF_WRITE)) && (enf_write & GH_ENF_KERNEL) &&
	       enf_path_violates(s, len, GH_ENF_WRITE, enf_write);
}

/* What an open judges (policy.event_subjects): nothing for O_PATH or a directory; a read
 * when the descriptor can read (O_RDONLY, O_RDWR: whatever else the flags ask); a write when it
 * writes or created the file. */
static __always_inline __u32 enf_open_kinds(__u32 flags, __u32 flags2)
{
	__u32 acc = flags & O_ACCMODE, w, which = 0;

	if ((flags & O_PATH) || (flags2 & GH_F_IS_DIR))
		return 0;
	w = acc == O_WRONLY || acc == O_RDWR || (flags & (O_CREAT | O_TRUNC | O_APPEND)) ||
	    (flags2 & GH_F_CREATED);
	if (acc == 0 /* O_RDONLY */ || acc == O_RDWR)
		which |= 1 << GH_ENF_READ;
	if (w)
		which |= 1 << GH_ENF_WRITE;
	return which;
}

/* What a successful file record of kind k is judged by (1 << GH_ENF_READ, 1 << GH_ENF_WRITE):
 * an open's from its flags (and flags2, once known), the other calls that name files write. */
static __always_inline __u32 enf_file_kinds(__u32 k, __u32 flags, __u32 flags2)
{
	if (k == GH_EV_OPEN)
		return enf_open_kinds(flags, flags2);
	if (k == GH_EV_UNLINK || k == GH_EV_RENAME || k == GH_EV_MKDIR || k == GH_EV_SYMLINK ||
	    k == GH_EV_LINK || k == GH_EV_MKNOD || k == GH_EV_TRUNCATE)
		return 1 << GH_ENF_WRITE;
	return 0;
}

/* The modes (enf_* bits) of the kinds a successful file record of kind k may be judged by,
 * before its record is built (for enf_unjudged). */
static __always_inline __u32 enf_file_mode(__u32 k, __u32 flags)
{
	__u32 which = enf_file_kinds(k, flags, 0);

	return ((which & (1 << GH_ENF_READ)) ? enf_read : 0) |
	       ((which & (1 << GH_ENF_WRITE)) ? enf_write : 0);
}

/*
 * At the exit of a successful file call, once its record holds its names (st: where its
 * strings start): 1 if it violates the read or write rules the kernel decides. Its names are
 * those the receipt lists: string 0 (the name a call acts on), except for symlink and link,
 * whose name made is string 2; a rename's both. Global: verified once.
 */
__noinline int enf_file(struct scratch *s, struct enf_strs *st)
{
	__u32 k, which;

	if (!s || !st || !((enf_read | enf_write) & GH_ENF_KERNEL) || s->ev.ret < 0)
		return 0;
	k = s->ev.kind;
	which = enf_file_kinds(k, s->ev.flags, s->ev.flags2);
	if (!which)
		return 0;
	if (k != GH_EV_SYMLINK && k != GH_EV_LINK &&
	    enf_file_name(s, 0, st->off[0], st->off[1], which))
		return 1;
	return (k == GH_EV_RENAME || k == GH_EV_SYMLINK || k == GH_EV_LINK) &&
	       enf_file_name(s, 2, st->off[2], st->off[3], which);
}

/* The rules for one key shape (an address or any, a port or any): GH_ENF_ALLOW | GH_ENF_DENY. */
static __always_inline __u32 enf_net_lookup(struct gh_enf_net *k, const __u8 *addr, __u16 port,
					    int any_addr, int any_port)
{
	__u8 *v;

	k->any_addr = any_addr;
	k->any_port = any_port;
	k->port = any_port ? 0 : port;
	if (any_addr)
		__builtin_memset(k->addr, 0, sizeof(k->addr));
	else
		__builtin_memcpy(k->addr, addr, sizeof(k->addr));
	v = bpf_map_lookup_elem(&enf_net_rules, k);
	return v ? *v : 0;
}

/* At the exit of connect, sendto or sendmsg: whether the destination the caller gave (the
 * record's string at offset st, as it was copied) violates the connect rules. */
static __always_inline int enf_net_violates(struct scratch *s, __u32 st)
{
	struct gh_enf_net *k = (void *)&s->data[ENF_KEY_OFF];
	__u8 addr[16] = {};
	__u32 len, fam, bit, m;
	__u16 port = 0;
	__u8 *a;

	if (!(enf_net & GH_ENF_KERNEL))
		return 0;
	len = enf_str_len(s, st);
	a = &s->data[(st + 2) & (GH_DATA_CAP - 1)];
	__builtin_memset(k, 0, sizeof(*k));
	fam = len >= 2 ? a[0] | (a[1] << 8) : 0;
	if (fam == AF_INET && len >= 16) {
		bit = GH_ENF_V4;
		port = a[2] << 8 | a[3];
		__builtin_memcpy(addr, a + 4, 4);
	} else if (fam == AF_INET6 && len >= 28) {
		if (a[24] | a[25] | a[26] | a[27])
			return 0; /* a scope id: shown as %N, user space judges it */
		bit = GH_ENF_V6;
		port = a[2] << 8 | a[3];
		__builtin_memcpy(addr, a + 8, 16);
	} else if (fam == AF_UNIX) {
		bit = GH_ENF_UNIX;
	} else if (fam == AF_NETLINK) {
		return 0; /* the kernel's own messages, not a destination (policy.lua) */
	} else {
		bit = GH_ENF_OTHER;
		fam = 0;
	}
	if (!(enf_net & bit))
		return 0; /* this family's rules are user space's to judge */
	k->family = fam;
	m = enf_net_lookup(k, addr, port, 1, 1);
	if (bit == GH_ENF_V4 || bit == GH_ENF_V6)
		m |= enf_net_lookup(k, addr, port, 0, 0) | enf_net_lookup(k, addr, port, 0, 1) |
		     enf_net_lookup(k, addr, port, 1, 0);
	return enf_decide(m, enf_net);
}

#endif /* __GH_ENFORCE_BPF_H */
