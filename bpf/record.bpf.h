/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Records: built in a per-CPU scratch area (header, then length-prefixed strings) and copied
 * to the ring buffer at their real size. */
#ifndef __GH_RECORD_BPF_H
#define __GH_RECORD_BPF_H

/* The one ring buffer user space drains (ev_submit says when it is woken). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by user space */
} events SEC(".maps");

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
	s->ev.uid = s->ev.gid = s->ev.euid = s->ev.exe_ctime_nsec = 0;
	s->ev.exe_ctime_sec = 0;
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

	/* a policy's trigger wakes user space now: it kills what makes no syscall */
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ||
	    (s->ev.flags2 & GH_F_ENFORCED))
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

#endif /* __GH_RECORD_BPF_H */
