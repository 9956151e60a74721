/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Sockets: the socket behind a descriptor, its addresses, and byte counts per socket from
 * the socket layer's own tracepoints. */
#ifndef __GH_SOCKETS_BPF_H
#define __GH_SOCKETS_BPF_H

/* Byte counts per socket, first in a slot of sock_slots (by inode number, declared in
 * glasshouse.bpf.c), else here. */

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

/*
 * The outcome of a non-blocking TCP connect (connect returned EINPROGRESS): the socket is
 * remembered here by its struct sock's address, and its first state change out of SYN_SENT
 * (inet_sock_set_state, run in softirq in whatever task is current) says how it ended:
 * ESTABLISHED is connected, CLOSE with the socket's error refused, timed out, unreachable. The
 * connect may have ended before its own syscall program ran (on loopback the handshake runs
 * inside the call): connect_pending reads the state after it registers the socket. Whoever
 * deletes the entry (the connect or the state change) sends the GH_EV_CONNECT_RESULT record.
 */
struct pending_connect {
	__u64 ino;
	__u32 pid, tid;
	__u32 sock_type;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u64); /* the struct sock's address */
	__type(value, struct pending_connect);
} pending_connects SEC(".maps");

/* What a socket's state says of its connect: 0 undecided, 1 decided (*ret: 0 connected, or
 * -errno), 2 over without an outcome (closed before it was known). */
static __always_inline int connect_state(long skp, int state, long *ret)
{
	int err = 0;

	if (state == TCP_SYN_SENT || state == TCP_SYN_RECV)
		return 0;
	if (state != TCP_CLOSE) { /* established, and maybe already closing */
		*ret = 0;
		return 1;
	}
	bpf_probe_read_kernel(&err, sizeof(err), (char *)skp + bpf_core_field_offset(struct sock, sk_err));
	*ret = -err;
	return err > 0 ? 1 : 2;
}

/* Socket skp is in state: when that decides its pending connect, send the outcome (once). */
__noinline int connect_settle(long skp, int state) /* global: checked once */
{
	struct pending_connect pc, *e;
	__u64 key = skp;
	struct scratch *s;
	long ret = 0;
	int how = connect_state(skp, state, &ret);

	if (!how)
		return 0;
	e = bpf_map_lookup_elem(&pending_connects, &key);
	if (!e)
		return 0;
	pc = *e;
	if (bpf_map_delete_elem(&pending_connects, &key))
		return 0; /* the other side sent it */
	__sync_fetch_and_add(&connects_pending, -1);
	if (how != 1)
		return 0; /* nothing to send */
	s = ev_begin(GH_EV_CONNECT_RESULT, GH_NO_SYSCALL);
	if (!s)
		return 0;
	s->ev.pid = pc.pid; /* not the current task's: this may run in softirq */
	s->ev.tid = pc.tid;
	s->ev.ret = ret;
	s->ev.sock = pc.ino;
	s->ev.sock_type = pc.sock_type;
	put_sock_addr(s, skp, 1);
	ev_submit(s);
	return 0;
}

/* A connect of the current task returned EINPROGRESS on socket r: remember it, then settle
 * it at once if it has already ended. */
static __always_inline void connect_pending(const struct sock_ref *r)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pending_connect pc = { .ino = r->ino, .sock_type = r->type };
	__u64 key = r->sk;
	__u8 state = 0;

	pc.pid = cur_tgid(t);
	pc.tid = cur_tid(t);
	if (!bpf_map_update_elem(&pending_connects, &key, &pc, BPF_NOEXIST))
		__sync_fetch_and_add(&connects_pending, 1);
	else if (bpf_map_update_elem(&pending_connects, &key, &pc, BPF_EXIST))
		return; /* full */
	bpf_probe_read_kernel(&state, 1,
			      (char *)r->sk + bpf_core_field_offset(struct sock_common, skc_state));
	connect_settle(r->sk, state);
}

#endif /* __GH_SOCKETS_BPF_H */
