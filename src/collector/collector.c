// SPDX-License-Identifier: MIT
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collector/btf_min.h"
#include "collector/collector.h"
#include "core/priv.h"
#include "glasshouse.skel.h" /* bpftool gen skeleton: the BPF object, embedded */

struct gh_collector {
	struct glasshouse_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[GH_PROBES];
	void *file_bytes; /* the object read from GLASSHOUSE_BPF_DIR, if that was used */
	int core_btf;	  /* memfd: the CO-RE target BTF (btf_min.c), until loaded */
	gh_sink_fn sink;
	void *ctx;
	uint64_t events, malformed, truncated;
};

/* The probes, by section name. sys_exit is the one glasshouse cannot do without: it registers
 * the command. The others are attached when the kernel has them (sock_*_length: 6.4+;
 * inet_sock_set_state: the outcome of non-blocking connects). */
static const char *const probe_names[GH_PROBES] = {
	"tp_btf/sys_exit",
	"tp_btf/sched_process_fork",
	"tp_btf/sched_process_exec",
	"tp_btf/sched_process_exit",
	"tp_btf/sock_send_length",
	"tp_btf/sock_recv_length",
	"tp_btf/inet_sock_set_state",
};

/* libbpf's own messages: kept (the last one names what failed), never printed by the core. */
static __thread char last_msg[512];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n && strncmp(line, "libbpf: prog", 12)) /* skip the verifier log's lines */
		memcpy(last_msg, line, n + 1);
	return 0;
}

static int fail(char *err, size_t n, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return e < 0 ? e : -e;
}

/* The inode of glasshouse's pid namespace: events name pids as glasshouse sees them. */
static int pidns_of_self(unsigned *inum)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st))
		return -errno;
	*inum = (unsigned)st.st_ino;
	return 0;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct gh_collector *c = ctx;
	struct gh_event_view v;

	if (gh_event_decode(data, len, &v)) {
		c->malformed++;
		return 0;
	}
	c->events++;
	c->truncated += v.truncated;
	return c->sink ? c->sink(c->ctx, &v) : 0;
}

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

static const char vmlinux_btf[] = "/sys/kernel/btf/vmlinux";

/*
 * tp_btf programs without libbpf parsing the kernel's BTF. libbpf 1.1 reads and parses all of
 * it (about 20 ms here) only to look up each program's attach point, and it needs it for no
 * other program type. So a SEC("tp_btf/") handler of our own declares them raw tracepoints
 * and, just before each one loads, makes it tp_btf again with the attach id that btf_min.c
 * found in its own walk of the kernel's BTF (libbpf calls prog_prepare_load_fn before it
 * reads the program's type). The ids are process-wide: collectors are opened one at a time.
 */
static const char *const probe_typedefs[GH_PROBES + 1] = {
	"btf_trace_sys_exit",
	"btf_trace_sched_process_fork",
	"btf_trace_sched_process_exec",
	"btf_trace_sched_process_exit",
	"btf_trace_sock_send_length",
	"btf_trace_sock_recv_length",
	"btf_trace_inet_sock_set_state",
	NULL,
};
static int probe_ids[GH_PROBES];

static int probe_index(const struct bpf_program *prog)
{
	int i;

	for (i = 0; i < GH_PROBES; i++)
		if (!strcmp(bpf_program__section_name(prog), probe_names[i]))
			return i;
	return -1;
}

static int tp_btf_prepare(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	int i = probe_index(prog);

	if (i < 0 || probe_ids[i] <= 0)
		return -ENOENT;
	opts->expected_attach_type = BPF_TRACE_RAW_TP;
	opts->attach_btf_obj_fd = 0; /* vmlinux */
	opts->attach_btf_id = probe_ids[i];
	return bpf_program__set_type(prog, BPF_PROG_TYPE_TRACING);
}

static int tp_btf_attach(const struct bpf_program *prog, long cookie, struct bpf_link **link)
{
	*link = bpf_program__attach_trace(prog);
	return *link ? 0 : -errno;
}

/* Registered once, before the first open; 0 when libbpf refused (it then parses the kernel's
 * BTF itself). */
static int tp_btf_handler(void)
{
	static int id;
	LIBBPF_OPTS(libbpf_prog_handler_opts, ho, .prog_prepare_load_fn = tp_btf_prepare,
		    .prog_attach_fn = tp_btf_attach);

	if (!id)
		id = libbpf_register_prog_handler("tp_btf/", BPF_PROG_TYPE_RAW_TRACEPOINT,
						  BPF_TRACE_RAW_TP, &ho);
	return id > 0;
}

/* The CO-RE target: the kernel's definitions of just the types the object names, in a memfd
 * that libbpf reads by path when it loads (the path is fixed at open, before the object's own
 * BTF can be read), so libbpf searches a few hundred types for each relocated one, not the
 * kernel's 126k. The same walk finds the probes' attach ids; a probe the kernel lacks is not
 * loaded, and is reported missing. */
static int core_btf_write(struct gh_collector *c)
{
	const struct btf *local = bpf_object__btf(c->skel->obj);
	struct gh_btf_min m = { .typedefs = probe_typedefs, .ids = probe_ids };
	struct bpf_program *p;
	int e, i;

	if (!local)
		return -ENOENT;
	e = gh_btf_min_write(vmlinux_btf, local, c->core_btf, &m);
	if (e)
		return e;
	bpf_object__for_each_program(p, c->skel->obj)
		if ((i = probe_index(p)) > 0 && probe_ids[i] < 0) /* sys_exit is never optional */
			bpf_program__set_autoload(p, false);
	return 0;
}

/* libbpf's own words for its error codes (LIBBPF_ERRNO__*, 4000 and up, which strerror calls
 * "Unknown error 4001"), and strerror's for the rest. */
static const char *bpf_strerror(int e)
{
	static __thread char buf[128];

	if (libbpf_strerror(e < 0 ? e : -e, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "%s", strerror(e < 0 ? -e : e));
	return buf;
}

static int open_skel(struct gh_collector *c, const char *dir, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char path[4096], btf_path[64];
	size_t size = 0;
	int e;

	c->core_btf = memfd_create("glasshouse-core-btf", MFD_CLOEXEC);
	if (c->core_btf < 0)
		return fail(err, errlen, errno,
			    "collector: cannot make a file for the CO-RE BTF: %s", strerror(errno));
	snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d", c->core_btf);
	opts.btf_custom_path = btf_path;
	tp_btf_handler();

	c->skel = calloc(1, sizeof(*c->skel));
	if (!c->skel)
		return fail(err, errlen, ENOMEM, "collector: out of memory");
	e = glasshouse_bpf__create_skeleton(c->skel);
	if (e)
		return fail(err, errlen, e, "collector: cannot describe the BPF object: %s",
			    bpf_strerror(e));
	if (dir) {
		snprintf(path, sizeof(path), "%s/glasshouse.bpf.o", dir);
		c->file_bytes = read_file(path, &size);
		if (!c->file_bytes)
			return fail(err, errlen, errno ? errno : EIO,
				    "collector: cannot read %s (GLASSHOUSE_BPF_DIR): %s", path,
				    strerror(errno ? errno : EIO));
		c->skel->skeleton->data = c->file_bytes;
		c->skel->skeleton->data_sz = size;
	}
	e = bpf_object__open_skeleton(c->skel->skeleton, &opts);
	if (e)
		return fail(err, errlen, e, "collector: cannot open the BPF object: %s",
			    bpf_strerror(e));
	e = core_btf_write(c);
	if (e)
		return fail(err, errlen, e, "collector: cannot read the kernel's types from %s: %s",
			    vmlinux_btf, strerror(-e));
	return 0;
}

int gh_collector_open(struct gh_collector **out, const struct gh_collector_opts *o, char *err,
		      size_t errlen)
{
	struct bpf_program *p;
	struct gh_collector *c;
	unsigned inum = 0;
	size_t ring = o->ring_bytes ? o->ring_bytes : 16u << 20;
	int e, i, ncpu;

	*out = NULL;
	if (ring < 4096 || (ring & (ring - 1)))
		return fail(
			err, errlen, EINVAL,
			"collector: ring buffer size %zu is not a power of two of at least 4096",
			ring);
	if (access(vmlinux_btf, R_OK))
		return fail(err, errlen, errno,
			    "collector: no kernel BTF at %s (%s): the kernel needs "
			    "CONFIG_DEBUG_INFO_BTF=y",
			    vmlinux_btf, strerror(errno));
	e = pidns_of_self(&inum);
	if (e)
		return fail(err, errlen, e,
			    "collector: cannot read /proc/self (is /proc mounted?): %s",
			    strerror(-e));
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return fail(err, errlen, ncpu ? ncpu : -EINVAL, "collector: cannot count the CPUs");
	libbpf_set_print(capture_print);
	last_msg[0] = '\0';

	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(err, errlen, ENOMEM, "collector: out of memory");
	c->core_btf = -1;
	c->sink = o->sink;
	c->ctx = o->ctx;
	if (o->bpf_dir && gh_priv_secure()) {
		free(c);
		return fail(
			err, errlen, EPERM,
			"collector: bpf_dir is refused: glasshouse runs with file capabilities");
	}
	e = open_skel(c, o->bpf_dir, err, errlen);
	if (e)
		goto out;
	c->skel->rodata->ns_inum = inum;
	c->skel->rodata->capture_argv = o->capture_argv ? 1 : 0;
	/* Wake user space early only when a quarter of the ring is waiting; else it polls. */
	c->skel->rodata->wakeup_bytes = ring / 4;
	/* max_sockets is what is certainly kept: slots (a power of two, at most GH_SOCK_SLOTS)
	 * and as many hash entries. */
	if (o->max_sockets) {
		unsigned slots = GH_SOCK_SLOTS;

		while (slots > o->max_sockets)
			slots /= 2;
		c->skel->rodata->sock_slot_mask = slots - 1;
	}
	if ((e = bpf_map__set_max_entries(c->skel->maps.events, ring)) ||
	    (e = bpf_map__set_max_entries(c->skel->maps.scratch_map, 2 * ncpu)) ||
	    (o->max_sockets &&
	     (e = bpf_map__set_max_entries(c->skel->maps.sock_bytes, o->max_sockets)))) {
		fail(err, errlen, e, "collector: cannot size the BPF maps: %s", bpf_strerror(e));
		goto out;
	}
	e = glasshouse_bpf__load(c->skel);
	close(c->core_btf); /* read by the load */
	c->core_btf = -1;
	if (e) {
		if (e == -EPERM || e == -EACCES)
			fail(err, errlen, e,
			     "collector: the kernel refused to load BPF programs (%s): "
			     "run as root, or with CAP_BPF and CAP_PERFMON",
			     bpf_strerror(e));
		else
			fail(err, errlen, e, "collector: loading the BPF programs failed: %s%s%s",
			     bpf_strerror(e), last_msg[0] ? " — " : "", last_msg);
		goto out;
	}
	e = -ENOENT; /* unless sys_exit's program is found */
	bpf_object__for_each_program(p, c->skel->obj) {
		if ((i = probe_index(p)) < 0 || !bpf_program__autoload(p))
			continue;
		c->links[i] = bpf_program__attach(p);
		if (i == 0)
			e = c->links[0] ? 0 : -errno;
	}
	if (!c->links[0]) { /* nothing is scoped without it */
		fail(err, errlen, e ? e : -EINVAL, "collector: cannot attach %s: %s",
		     probe_names[0], bpf_strerror(e ? e : -EINVAL));
		goto out;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_record, c, NULL);
	if (!c->rb) {
		e = -errno;
		fail(err, errlen, e, "collector: cannot map the ring buffer: %s", strerror(-e));
		goto out;
	}
	*out = c;
	return 0;
out:
	gh_collector_close(c);
	return e;
}

void gh_collector_close(struct gh_collector *c)
{
	int i;

	if (!c)
		return;
	ring_buffer__free(c->rb);
	for (i = 0; i < GH_PROBES; i++)
		bpf_link__destroy(c->links[i]);
	if (c->skel)
		glasshouse_bpf__destroy(c->skel);
	free(c->file_bytes);
	if (c->core_btf >= 0)
		close(c->core_btf);
	free(c);
}

int gh_collector_track(struct gh_collector *c, pid_t pid)
{
	if (pid <= 0)
		return -EINVAL;
	/* With file capabilities, only what the caller could ptrace itself. */
	if (gh_priv_secure() && gh_priv_may_trace(pid) != 1)
		return -EPERM;
	__atomic_store_n(&c->skel->bss->pending_root, (unsigned)pid, __ATOMIC_SEQ_CST);
	return 0;
}

int gh_collector_root_registered(struct gh_collector *c)
{
	return __atomic_load_n(&c->skel->bss->root_tgid, __ATOMIC_SEQ_CST);
}

int gh_collector_fd(struct gh_collector *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int gh_collector_drain(struct gh_collector *c)
{
	int n = ring_buffer__consume(c->rb);

	/* A stopped tree: what made no syscall since is killed here (each drain, until gone). */
	if (gh_collector_stopped(c))
		gh_collector_kill_tree(c);
	return n;
}

int gh_collector_enforce_path(struct gh_collector *c, unsigned bits, const char *path, size_t len,
			      int prefix)
{
	struct gh_enf_path k;
	unsigned char v = (unsigned char)bits;

	if (bits > 0xff)
		return -EINVAL;
	/* "/dir/" (the prefix) or "/path\0" (the exact path): the NUL ends an exact match */
	if (len + 1 > sizeof(k.data) || memchr(path, '\0', len))
		return -ENAMETOOLONG;
	memset(&k, 0, sizeof(k));
	memcpy(k.data, path, len);
	k.data[len] = prefix ? '/' : '\0';
	k.prefixlen = (unsigned)(len + 1) * 8;
	if (prefix && len == 0)
		k.prefixlen = 8; /* "/": every absolute path */
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.enf_paths), &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

int gh_collector_enforce_net(struct gh_collector *c, int deny, const struct gh_enf_net *key)
{
	int fd = bpf_map__fd(c->skel->maps.enf_net_rules);
	unsigned char v = 0;

	bpf_map_lookup_elem(fd, key, &v); /* allow and deny of one key share an entry */
	v |= deny ? GH_ENF_DENY : GH_ENF_ALLOW;
	if (bpf_map_update_elem(fd, key, &v, BPF_ANY))
		return -errno;
	return 0;
}

int gh_collector_enforce(struct gh_collector *c, const struct gh_enf_modes *m)
{
	__atomic_store_n(&c->skel->data_enforce->enf_exec, m->exec, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->skel->data_enforce->enf_read, m->read, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->skel->data_enforce->enf_write, m->write, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->skel->data_enforce->enf_net, m->net, __ATOMIC_SEQ_CST);
	return 0;
}

int gh_collector_stop(struct gh_collector *c)
{
	int n;

	__atomic_store_n(&c->skel->data_enforce->enf_stopped, 1, __ATOMIC_SEQ_CST);
	n = gh_collector_kill_tree(c);
	return n < 0 && n != -EOPNOTSUPP ? n : 0;
}

int gh_collector_stopped(struct gh_collector *c)
{
	return __atomic_load_n(&c->skel->data_enforce->enf_stopped, __ATOMIC_SEQ_CST) != 0;
}

static int tid_tracked(struct gh_collector *c, unsigned tid)
{
	uint64_t w = __atomic_load_n(&c->skel->bss->tracked[tid / 64], __ATOMIC_SEQ_CST);

	return (w >> (tid % 64)) & 1;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int gh_collector_kill_tree(struct gh_collector *c)
{
	size_t words = sizeof(c->skel->bss->tracked) / sizeof(c->skel->bss->tracked[0]), i;
	int n = 0;

	if (__atomic_load_n(&c->skel->bss->ns_level, __ATOMIC_SEQ_CST) != 0)
		return -EOPNOTSUPP;
	for (i = 0; i < words; i++) {
		uint64_t w = __atomic_load_n(&c->skel->bss->tracked[i], __ATOMIC_SEQ_CST);

		while (w) {
			unsigned tid = (unsigned)(i * 64 + (size_t)__builtin_ctzll(w));
			int fd;

			w &= w - 1;
			fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
			if (fd < 0)
				continue; /* gone already (or a kernel before 6.9) */
			if (tid_tracked(c, tid) &&
			    !syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0))
				n++;
			close(fd);
		}
	}
	return n;
}

int gh_collector_tree_alive(struct gh_collector *c)
{
	size_t words = sizeof(c->skel->bss->tracked) / sizeof(c->skel->bss->tracked[0]), i;
	int n = 0;

	for (i = 0; i < words; i++)
		n += __builtin_popcountll(
			__atomic_load_n(&c->skel->bss->tracked[i], __ATOMIC_SEQ_CST));
	return n;
}

void gh_collector_stats(struct gh_collector *c, struct gh_collector_stats *st)
{
	st->events = c->events;
	st->malformed = c->malformed;
	st->truncated = c->truncated;
	st->lost = __atomic_load_n(&c->skel->bss->lost_events, __ATOMIC_SEQ_CST);
	st->sockets_full = __atomic_load_n(&c->skel->bss->sockets_full, __ATOMIC_SEQ_CST);
	st->root_registered = gh_collector_root_registered(c) != 0;
}

const char *gh_collector_probe(struct gh_collector *c, int i, int *attached)
{
	if (i < 0 || i >= GH_PROBES)
		return NULL;
	*attached = c->links[i] != NULL;
	return probe_names[i];
}

int gh_collector_syscall_counts(struct gh_collector *c, uint64_t *counts, size_t n)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(c->skel->maps.syscall_counts),
	    e = 0;
	/* Zeroed though the kernel fills them: valgrind cannot tell what a batch lookup writes. */
	uint32_t keys[GH_SYSCALL_MAX] = { 0 }, out = 0, k, cpu, got = GH_SYSCALL_MAX;
	uint64_t *per = calloc((size_t)ncpu * GH_SYSCALL_MAX, sizeof(*per));

	if (!per)
		return -ENOMEM;
	/* One batch read of the whole per-CPU array, not a syscall per syscall number. */
	if (bpf_map_lookup_batch(fd, NULL, &out, keys, per, &got, NULL) && errno != ENOENT)
		e = -errno;
	for (k = 0; k < n && k < GH_SYSCALL_MAX; k++)
		counts[k] = 0;
	for (k = 0; !e && k < got; k++) {
		if (keys[k] >= n)
			continue;
		for (cpu = 0; cpu < (uint32_t)ncpu; cpu++)
			counts[keys[k]] += per[(size_t)k * ncpu + cpu];
	}
	free(per);
	return e;
}

int gh_collector_sock_bytes(struct gh_collector *c,
			    int (*fn)(void *ctx, uint64_t sock, const struct gh_sock_bytes *b),
			    void *ctx)
{
	enum { BATCH = 4096 };
	int fd = bpf_map__fd(c->skel->maps.sock_bytes), e = 0;
	/* calloc: valgrind does not know that the batch lookup fills them. */
	uint64_t *keys = calloc(BATCH, sizeof(*keys)), in = 0, out = 0;
	struct gh_sock_bytes *vals = calloc(BATCH, sizeof(*vals));
	void *pin = NULL;
	uint32_t i, got;
	int done = 0;

	if (!keys || !vals) {
		e = -ENOMEM;
		goto out;
	}
	for (i = 0; i < GH_SOCK_SLOTS && !e; i++) {
		const struct gh_sock_slot *sl = &c->skel->bss->sock_slots[i];

		if (sl->ino)
			e = fn(ctx, sl->ino, &sl->b);
	}
	/* Batches of sockets per syscall: a run may leave tens of thousands of them. */
	while (!done && !e) {
		got = BATCH;
		if (bpf_map_lookup_batch(fd, pin, &out, keys, vals, &got, NULL)) {
			if (errno != ENOENT) {
				e = -errno;
				break;
			}
			done = 1; /* the last, maybe partial, batch */
		}
		for (i = 0; i < got && !e; i++)
			e = fn(ctx, keys[i], &vals[i]);
		in = out;
		pin = &in;
	}
out:
	free(keys);
	free(vals);
	return e;
}
