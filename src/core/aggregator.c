// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/aggregator.h"
#include "core/path.h"

struct gh_vec {
	void *v;
	size_t n, cap, size;
};

#define GH_VEC_AT(vec, type, i) (((type *)(vec).v)[i])

struct gh_agg {
	struct gh_intern strs;
	struct gh_map procs_by_pid;	   /* pid -> the newest gh_proc with that pid */
	struct gh_vec procs;		   /* struct gh_proc *, in order of appearance */
	struct gh_map sets[GH_NSETS];	   /* istr -> istr */
	struct gh_vec set_items[GH_NSETS]; /* const struct gh_istr *, first-seen order */
	struct gh_vec renames;		   /* struct gh_rename */
	struct gh_vec failed;		   /* struct gh_failed_op */
	struct gh_vec attempts;		   /* struct gh_attempt */
	struct gh_vec servers;		   /* struct gh_server */
	struct gh_vec accepted;		   /* struct gh_accepted */
	struct gh_map dedupe;		   /* interned composite key -> index + 1 */
	struct gh_map socks; /* socket inode -> entry index + 1 (attempts: >0, accepted: <0) */
	uint64_t base_ns;    /* the command's start, CLOCK_MONOTONIC */
	uint64_t events, unknown_pid, truncated;
	struct gh_buf tmp, tmp2;
	int error; /* first -ENOMEM; the aggregate is incomplete */
};

static int vec_push(struct gh_vec *v, const void *item, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->v, cap * size);

		if (!p)
			return -ENOMEM;
		v->v = p;
		v->cap = cap;
	}
	memcpy((char *)v->v + v->n * size, item, size);
	v->n++;
	return 0;
}

struct gh_agg *gh_agg_new(uint64_t base_ns)
{
	struct gh_agg *a = calloc(1, sizeof(*a));

	if (a)
		a->base_ns = base_ns;
	return a;
}

static void proc_free(struct gh_proc *p)
{
	size_t i;

	for (i = 0; i < p->nexecs; i++)
		free(p->execs[i].argv);
	free(p->execs);
	free(p->argv);
	free(p->fexec);
	free(p);
}

/* Remember one more program p ran (its own fields already say the last one). */
static int add_exec(struct gh_proc *p, const struct gh_event_view *v)
{
	struct gh_exec *e;

	if (p->nexecs == p->capexecs) {
		size_t cap = p->capexecs ? p->capexecs * 2 : 2;

		e = realloc(p->execs, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		p->execs = e;
		p->capexecs = cap;
	}
	e = &p->execs[p->nexecs];
	*e = (struct gh_exec){ .exe = p->exe,
			       .script = p->script,
			       .cwd = p->cwd,
			       .argv_len = v->s[1].len,
			       .argv_truncated = v->argv_truncated,
			       .time_ns = v->h.time_ns };
	if (e->argv_len && !(e->argv = malloc(e->argv_len)))
		return -ENOMEM;
	if (e->argv_len)
		memcpy(e->argv, v->s[1].p, e->argv_len);
	p->nexecs++;
	return 0;
}

void gh_agg_free(struct gh_agg *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->procs.n; i++)
		proc_free(GH_VEC_AT(a->procs, struct gh_proc *, i));
	free(a->procs.v);
	gh_map_free(&a->procs_by_pid);
	for (i = 0; i < GH_NSETS; i++) {
		gh_map_free(&a->sets[i]);
		free(a->set_items[i].v);
	}
	free(a->renames.v);
	free(a->failed.v);
	free(a->attempts.v);
	free(a->servers.v);
	free(a->accepted.v);
	gh_map_free(&a->dedupe);
	gh_map_free(&a->socks);
	gh_intern_free(&a->strs);
	gh_buf_free(&a->tmp);
	gh_buf_free(&a->tmp2);
	free(a);
}

static int nomem(struct gh_agg *a)
{
	if (!a->error)
		a->error = -ENOMEM;
	return -ENOMEM;
}

static struct gh_proc *proc_new(struct gh_agg *a, uint32_t pid, uint32_t ppid, uint64_t t)
{
	struct gh_proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	p->ppid = ppid;
	p->start_ns = t;
	if (vec_push(&a->procs, &p, sizeof(p)) || gh_map_put(&a->procs_by_pid, pid, p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int set_argv(struct gh_proc *p, const char *argv, size_t len, bool truncated)
{
	char *copy = NULL;

	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, argv, len);
	}
	free(p->argv);
	p->argv = copy;
	p->argv_len = len;
	p->argv_truncated = truncated;
	return 0;
}

int gh_agg_root(struct gh_agg *a, uint32_t pid, uint32_t ppid, const char *cwd, const char *exe)
{
	struct gh_proc *p = proc_new(a, pid, ppid, a->base_ns);

	if (!p)
		return nomem(a);
	p->cwd = p->cur_cwd = cwd ? gh_intern(&a->strs, cwd, strlen(cwd)) : NULL;
	p->exe = exe ? gh_intern(&a->strs, exe, strlen(exe)) : NULL;
	return 0;
}

/* The process a record belongs to; one the aggregate has not met is added (and counted). */
static struct gh_proc *proc_of(struct gh_agg *a, uint32_t pid, uint64_t t)
{
	struct gh_proc *p = gh_map_get(&a->procs_by_pid, pid);

	if (p)
		return p;
	a->unknown_pid++;
	return proc_new(a, pid, 0, t);
}

static const struct gh_istr *intern_buf(struct gh_agg *a, const struct gh_buf *b)
{
	return gh_intern(&a->strs, b->data, b->len);
}

/* 1 if string i of v was cut at its capture limit (a walk: its leading components are
 * missing). */
static int cut_str(const struct gh_event_view *v, int i)
{
	return (v->h.truncated >> i) & 1;
}

/* name (string i of v) made absolute: against the walked dir in string i+1 when there is
 * one, else against the process's cwd. */
static const struct gh_istr *resolve_name(struct gh_agg *a, const struct gh_event_view *v,
					  const struct gh_proc *p, int i)
{
	const struct gh_str *name = &v->s[i], *dir = &v->s[i + 1];
	const char *base = "/";
	size_t blen = 1;

	if (dir->len && v->walked) {
		if (gh_path_from_walk(&a->tmp2, dir->p, dir->len, cut_str(v, i + 1)))
			return NULL;
		base = a->tmp2.data;
		blen = a->tmp2.len;
	} else if (p && p->cur_cwd) {
		base = p->cur_cwd->s;
		blen = p->cur_cwd->len;
	}
	if (i == 0 && (v->h.flags2 & GH_F_IN_ROOT)
		    ? gh_path_resolve_in(&a->tmp, base, blen, name->p, name->len)
		    : gh_path_resolve(&a->tmp, base, blen, name->p, name->len))
		return NULL;
	return intern_buf(a, &a->tmp);
}

/* String i of v, a kernel path walk. */
static const struct gh_istr *walk_path(struct gh_agg *a, const struct gh_event_view *v, int i)
{
	if (gh_path_from_walk(&a->tmp, v->s[i].p, v->s[i].len, cut_str(v, i)))
		return NULL;
	return intern_buf(a, &a->tmp);
}

static const struct gh_istr *addr_str(struct gh_agg *a, const struct gh_str *s, bool port)
{
	if (gh_format_sockaddr(&a->tmp, s->p, s->len, port))
		return NULL;
	return intern_buf(a, &a->tmp);
}

static unsigned addr_family(const struct gh_str *s)
{
	unsigned short f = 0;

	if (s->len >= 2)
		memcpy(&f, s->p, 2);
	return f;
}

/* A unix socket named relative to the cwd is shown absolute, like any path (addr is the
 * formatted name of sockaddr s). -ENOMEM or 0. */
static int unix_absolute(struct gh_agg *a, const struct gh_proc *p, const struct gh_str *s,
			 const struct gh_istr **addr)
{
	if (addr_family(s) != AF_UNIX || !(*addr)->len || strchr("/@(", (*addr)->s[0]) || !p ||
	    !p->cur_cwd)
		return 0;
	if (gh_path_resolve(&a->tmp, p->cur_cwd->s, p->cur_cwd->len, (*addr)->s, (*addr)->len) ||
	    !(*addr = intern_buf(a, &a->tmp)))
		return -ENOMEM;
	return 0;
}

static const char *connect_result(const struct gh_event_view *v)
{
	if (v->h.ret == 0)
		return "connected";
	if (v->err == ECONNREFUSED)
		return "refused";
	if (v->err == EINPROGRESS)
		return "in_progress";
	return gh_errno_name(v->err);
}

int gh_agg_resolve(struct gh_agg *a, const struct gh_event_view *v, struct gh_resolved *r)
{
	struct gh_proc *p = gh_map_get(&a->procs_by_pid, v->h.pid);

	memset(r, 0, sizeof(*r));
	switch (v->h.kind) {
	case GH_EV_EXEC:
		/* The filename is relative to the cwd at the exec, which the record carries. */
		if (!(r->path2 = walk_path(a, v, 2)))
			return nomem(a);
		if (gh_path_resolve(&a->tmp, r->path2->s, r->path2->len, v->s[0].p, v->s[0].len) ||
		    !(r->path = intern_buf(a, &a->tmp)))
			return nomem(a);
		if (v->s[3].len && !(r->real = walk_path(a, v, 3)))
			return nomem(a);
		/* fexecve or execveat(fd, "", AT_EMPTY_PATH): the kernel names the program
		 * "/dev/fd/N" (or "/dev/fd/N/name"), which says nothing once the process is gone;
		 * the program is the file the kernel ran, its walk. */
		if (r->real && !v->script && v->s[0].len > 8 && !memcmp(v->s[0].p, "/dev/fd/", 8))
			r->path = r->real;
		return 0;
	case GH_EV_CWD:
		if (!(r->path = walk_path(a, v, 0)))
			return nomem(a);
		return 0;
	case GH_EV_EXEC_FAIL:
	case GH_EV_OPEN:
	case GH_EV_UNLINK:
	case GH_EV_MKDIR:
	case GH_EV_MKNOD:
	case GH_EV_TRUNCATE:
		if (!(r->path = resolve_name(a, v, p, 0)))
			return nomem(a);
		return 0;
	case GH_EV_RENAME:
	case GH_EV_LINK:
		if (!(r->path = resolve_name(a, v, p, 0)))
			return nomem(a);
		/* fall through: the new name */
		__attribute__((fallthrough));
	case GH_EV_SYMLINK:
		if (!(r->path2 = resolve_name(a, v, p, 2)))
			return nomem(a);
		if (v->h.kind == GH_EV_SYMLINK &&
		    !(r->path =
			      gh_intern(&a->strs, v->s[0].p, v->s[0].len))) /* target as written */
			return nomem(a);
		return 0;
	case GH_EV_CONNECT:
	case GH_EV_CONNECT_RESULT:
	case GH_EV_SENDTO:
	case GH_EV_BIND:
	case GH_EV_LISTEN:
		r->protocol = gh_protocol_name(addr_family(&v->s[0]), v->h.sock_type);
		if (!(r->addr = addr_str(a, &v->s[0], true)))
			return nomem(a);
		if (unix_absolute(a, p, &v->s[0], &r->addr))
			return nomem(a);
		if (v->h.kind == GH_EV_CONNECT || v->h.kind == GH_EV_CONNECT_RESULT)
			r->result = connect_result(v);
		else if (v->h.kind == GH_EV_SENDTO)
			r->result = v->h.ret >= 0 ? "sent" : gh_errno_name(v->err);
		else
			r->result = v->h.ret == 0 ? "ok" : gh_errno_name(v->err);
		return 0;
	case GH_EV_ACCEPT:
		r->protocol = gh_protocol_name(addr_family(&v->s[1]), v->h.sock_type);
		if (!(r->addr = addr_str(a, &v->s[0], true)) ||
		    !(r->addr2 = addr_str(a, &v->s[1], true)) ||
		    unix_absolute(a, p, &v->s[1], &r->addr2))
			return nomem(a);
		r->result = "accepted";
		return 0;
	default:
		return 0;
	}
}

static int set_add(struct gh_agg *a, enum gh_pathset set, const struct gh_istr *s)
{
	if (gh_map_get(&a->sets[set], (uintptr_t)s))
		return 0;
	if (gh_map_put(&a->sets[set], (uintptr_t)s, (void *)s) ||
	    vec_push(&a->set_items[set], &s, sizeof(s)))
		return nomem(a);
	return 0;
}

/*
 * The entry of vec for the composite key k (bytes naming what makes entries distinct): the
 * one already there, or item appended. Its index + 1, or 0 when out of memory.
 */
static size_t find_or_add(struct gh_agg *a, struct gh_vec *vec, const void *item, size_t size,
			  const void *k, size_t klen)
{
	const struct gh_istr *ks = gh_intern(&a->strs, k, klen);
	size_t idx;

	if (!ks)
		return nomem(a), 0;
	idx = (size_t)(uintptr_t)gh_map_get(&a->dedupe, (uintptr_t)ks);
	if (idx)
		return idx;
	if (vec_push(vec, item, size) ||
	    gh_map_put(&a->dedupe, (uintptr_t)ks, (void *)(uintptr_t)vec->n))
		return nomem(a), 0;
	return vec->n;
}

static int failed_op(struct gh_agg *a, const struct gh_istr *path, const char *op, int err,
		     uint32_t pid)
{
	struct gh_failed_op f = { path, op, err, pid };
	const void *k[3] = { path, op, (void *)(intptr_t)err };

	return find_or_add(a, &a->failed, &f, sizeof(f), k, sizeof(k)) ? 0 : -ENOMEM;
}

/* A successful exec: PATH-search misses of the same program before it are not failures. */
static void drop_path_misses(struct gh_proc *p, const struct gh_istr *exe)
{
	const char *base = strrchr(exe->s, '/');
	size_t i, keep = 0;

	base = base ? base + 1 : exe->s;
	for (i = 0; i < p->nfexec; i++) {
		const char *b = strrchr(p->fexec[i].path->s, '/');
		int miss = (p->fexec[i].err == ENOENT || p->fexec[i].err == EACCES ||
			    p->fexec[i].err == ENOTDIR) &&
			   b && !strcmp(b + 1, base);

		if (!miss)
			p->fexec[keep++] = p->fexec[i];
	}
	p->nfexec = keep;
}

static int add_fexec(struct gh_agg *a, struct gh_proc *p, const struct gh_istr *path, int err)
{
	if (p->nfexec == p->capfexec) {
		size_t cap = p->capfexec ? p->capfexec * 2 : 4;
		void *n = realloc(p->fexec, cap * sizeof(*p->fexec));

		if (!n)
			return nomem(a);
		p->fexec = n;
		p->capfexec = cap;
	}
	p->fexec[p->nfexec].path = path;
	p->fexec[p->nfexec].err = err;
	p->nfexec++;
	return 0;
}

static int net_attempt(struct gh_agg *a, const struct gh_event_view *v, const struct gh_resolved *r,
		       const char *op)
{
	struct gh_attempt at = { op, r->addr, r->protocol, r->result, v->h.pid, 0, 0, 0 };
	const void *k[5] = { op, r->addr, r->protocol, r->result, (void *)(uintptr_t)v->h.pid };
	size_t idx = find_or_add(a, &a->attempts, &at, sizeof(at), k, sizeof(k));
	struct gh_attempt *e;

	if (!idx)
		return -ENOMEM;
	e = &GH_VEC_AT(a->attempts, struct gh_attempt, idx - 1);
	e->count++;
	if (v->h.kind == GH_EV_SENDTO && v->h.ret > 0)
		e->sent += (uint64_t)v->h.ret;
	if (v->h.sock && !gh_map_get(&a->socks, v->h.sock) &&
	    gh_map_put(&a->socks, v->h.sock, (void *)(intptr_t)idx))
		return nomem(a);
	return 0;
}

/* A non-blocking connect's outcome: one count of its socket's in_progress attempt moves to an
 * attempt with the same destination and the real result, which the socket's bytes then join.
 * An attempt left with no count is not shown. */
static int net_outcome(struct gh_agg *a, const struct gh_event_view *v, const struct gh_resolved *r)
{
	intptr_t idx = (intptr_t)gh_map_get(&a->socks, v->h.sock);
	struct gh_attempt *e, at;
	const void *k[5];
	size_t to;

	if (idx <= 0)
		return 0; /* its connect was not seen */
	e = &GH_VEC_AT(a->attempts, struct gh_attempt, idx - 1);
	if (strcmp(e->result, "in_progress") || !e->count)
		return 0;
	at = (struct gh_attempt){ e->op, e->dst, e->protocol, r->result, e->pid, 0, 0, 0 };
	k[0] = at.op, k[1] = at.dst, k[2] = at.protocol, k[3] = at.result;
	k[4] = (void *)(uintptr_t)at.pid;
	to = find_or_add(a, &a->attempts, &at, sizeof(at), k, sizeof(k));
	if (!to)
		return -ENOMEM;
	GH_VEC_AT(a->attempts, struct gh_attempt, idx - 1).count--; /* the vector may have moved */
	GH_VEC_AT(a->attempts, struct gh_attempt, to - 1).count++;
	if (gh_map_put(&a->socks, v->h.sock, (void *)(intptr_t)to))
		return nomem(a);
	return 0;
}

static int net_server(struct gh_agg *a, const struct gh_event_view *v, const struct gh_resolved *r,
		      const char *op)
{
	struct gh_server s = { r->addr, r->protocol, op, v->h.pid };
	const void *k[4] = { op, r->addr, r->protocol, (void *)(uintptr_t)v->h.pid };

	if (v->h.ret != 0)
		return 0;
	return find_or_add(a, &a->servers, &s, sizeof(s), k, sizeof(k)) ? 0 : -ENOMEM;
}

static int net_accepted(struct gh_agg *a, const struct gh_event_view *v,
			const struct gh_resolved *r)
{
	const struct gh_istr *peer = addr_str(a, &v->s[0], false);
	struct gh_accepted ac = { peer, r->addr2, r->protocol, v->h.pid, 0, 0, 0 };
	const void *k[5] = { "accept", peer, r->addr2, r->protocol, (void *)(uintptr_t)v->h.pid };
	size_t idx;

	if (!peer)
		return nomem(a);
	idx = find_or_add(a, &a->accepted, &ac, sizeof(ac), k, sizeof(k));
	if (!idx)
		return -ENOMEM;
	GH_VEC_AT(a->accepted, struct gh_accepted, idx - 1).count++;
	if (v->h.sock && gh_map_put(&a->socks, v->h.sock, (void *)(intptr_t) - (intptr_t)idx))
		return nomem(a);
	return 0;
}

int gh_agg_apply(struct gh_agg *a, const struct gh_event_view *v, const struct gh_resolved *r)
{
	const struct gh_event *h = &v->h;
	struct gh_proc *p, *parent;
	int err = v->err;

	a->events++;
	a->truncated += v->truncated;
	if (h->kind == GH_EV_FORK) {
		/* The forking process (ret) lends its image and cwd; ppid is the real parent. */
		parent = gh_map_get(&a->procs_by_pid, (uint32_t)h->ret);
		p = proc_new(a, h->pid, h->ppid, h->time_ns);
		if (!p)
			return nomem(a);
		if (parent) {
			/* A child that only forks runs its parent's image, as its parent. */
			p->exe = parent->exe;
			p->script = parent->script;
			p->exe_real = parent->exe_real;
			p->exec = parent->exec;
			p->cwd = p->cur_cwd = parent->cur_cwd;
			if (set_argv(p, parent->argv, parent->argv_len, parent->argv_truncated))
				return nomem(a);
		}
		return 0;
	}
	p = proc_of(a, h->pid, h->time_ns);
	if (!p)
		return nomem(a);
	switch (h->kind) {
	case GH_EV_EXEC:
		/* A script's process runs its interpreter: exe names what really ran. */
		p->script = v->script ? r->path : NULL;
		p->exe = v->script && r->real ? r->real : r->path;
		p->exe_real = r->real ? r->real : r->path;
		p->exec = v->exec;
		p->cwd = p->cur_cwd = r->path2;
		p->execed = true;
		if (h->ppid)
			p->ppid = h->ppid;
		drop_path_misses(p, r->path);
		if (set_argv(p, v->s[1].p, v->s[1].len, v->argv_truncated) || add_exec(p, v))
			return nomem(a);
		return 0;
	case GH_EV_EXEC_FAIL:
		return add_fexec(a, p, r->path, err);
	case GH_EV_EXIT:
		p->exited = true;
		p->status = (int)h->ret;
		return 0;
	case GH_EV_CWD:
		p->cur_cwd = r->path;
		return 0;
	case GH_EV_OPEN:
		if (err)
			return failed_op(a, r->path, "open", err, h->pid);
		if (v->created && set_add(a, GH_SET_CREATED, r->path))
			return -ENOMEM;
		if (v->path_only)
			return 0; /* a handle (tar x's O_PATH directories), not a read nor a listing
				   */
		if (v->directory)
			return set_add(a, GH_SET_DIRS, r->path);
		if (v->writes && set_add(a, GH_SET_WRITES, r->path))
			return -ENOMEM;
		if (v->reads)
			return set_add(a, GH_SET_READS, r->path);
		return 0;
	case GH_EV_UNLINK: {
		const char *op = v->rmdir ? "rmdir" : "unlink";

		if (err)
			return failed_op(a, r->path, op, err, h->pid);
		return set_add(a, GH_SET_DELETES, r->path);
	}
	case GH_EV_RENAME: {
		struct gh_rename rn = { r->path, r->path2, h->pid };

		if (err)
			return failed_op(a, r->path, "rename", err, h->pid);
		return vec_push(&a->renames, &rn, sizeof(rn)) ? nomem(a) : 0;
	}
	case GH_EV_MKDIR:
	case GH_EV_MKNOD:
		return err ? 0 : set_add(a, GH_SET_CREATED, r->path);
	case GH_EV_TRUNCATE: /* a write of the file, by name */
		if (err)
			return failed_op(a, r->path, "truncate", err, h->pid);
		return set_add(a, GH_SET_WRITES, r->path);
	case GH_EV_SYMLINK:
	case GH_EV_LINK:
		return err ? 0 : set_add(a, GH_SET_CREATED, r->path2);
	case GH_EV_CONNECT:
		if (addr_family(&v->s[0]) == AF_UNSPEC)
			return 0; /* dissolves a UDP association: not an attempt */
		return net_attempt(a, v, r, "connect");
	case GH_EV_CONNECT_RESULT:
		return net_outcome(a, v, r);
	case GH_EV_SENDTO:
		return net_attempt(a, v, r, "sendto");
	case GH_EV_BIND:
		return net_server(a, v, r, "bind");
	case GH_EV_LISTEN:
		return net_server(a, v, r, "listen");
	case GH_EV_ACCEPT:
		return net_accepted(a, v, r);
	}
	return 0;
}

int gh_agg_event(struct gh_agg *a, const struct gh_event_view *v)
{
	struct gh_resolved r;
	int e = gh_agg_resolve(a, v, &r);

	return e ? e : gh_agg_apply(a, v, &r);
}

int gh_agg_sock_bytes(struct gh_agg *a, uint64_t sock, uint64_t sent, uint64_t received)
{
	intptr_t idx = (intptr_t)gh_map_get(&a->socks, sock);

	if (idx > 0) {
		struct gh_attempt *e = &GH_VEC_AT(a->attempts, struct gh_attempt, idx - 1);

		if (strcmp(e->op, "sendto")) /* sendto attempts count what each call returned */
			e->sent += sent;
		e->received += received;
	} else if (idx < 0) {
		struct gh_accepted *e = &GH_VEC_AT(a->accepted, struct gh_accepted, -idx - 1);

		e->sent += sent;
		e->received += received;
	}
	return 0;
}

void gh_agg_net_totals(const struct gh_agg *a, uint64_t *sent, uint64_t *received)
{
	size_t i;

	*sent = *received = 0;
	for (i = 0; i < a->attempts.n; i++) {
		*sent += GH_VEC_AT(a->attempts, struct gh_attempt, i).sent;
		*received += GH_VEC_AT(a->attempts, struct gh_attempt, i).received;
	}
	for (i = 0; i < a->accepted.n; i++) {
		*sent += GH_VEC_AT(a->accepted, struct gh_accepted, i).sent;
		*received += GH_VEC_AT(a->accepted, struct gh_accepted, i).received;
	}
}

struct gh_proc *const *gh_agg_procs(const struct gh_agg *a, size_t *n)
{
	*n = a->procs.n;
	return a->procs.v;
}

const struct gh_istr *const *gh_agg_set(const struct gh_agg *a, enum gh_pathset set, size_t *n)
{
	*n = a->set_items[set].n;
	return a->set_items[set].v;
}

const struct gh_rename *gh_agg_renames(const struct gh_agg *a, size_t *n)
{
	*n = a->renames.n;
	return a->renames.v;
}

const struct gh_failed_op *gh_agg_failed(const struct gh_agg *a, size_t *n)
{
	*n = a->failed.n;
	return a->failed.v;
}

const struct gh_attempt *gh_agg_attempts(const struct gh_agg *a, size_t *n)
{
	*n = a->attempts.n;
	return a->attempts.v;
}

const struct gh_server *gh_agg_servers(const struct gh_agg *a, size_t *n)
{
	*n = a->servers.n;
	return a->servers.v;
}

const struct gh_accepted *gh_agg_accepted(const struct gh_agg *a, size_t *n)
{
	*n = a->accepted.n;
	return a->accepted.v;
}

uint64_t gh_agg_base(const struct gh_agg *a)
{
	return a->base_ns;
}

void gh_agg_set_base(struct gh_agg *a, uint64_t base_ns)
{
	a->base_ns = base_ns;
}

void gh_agg_stats(const struct gh_agg *a, struct gh_agg_stats *st)
{
	*st = (struct gh_agg_stats){ .events = a->events,
				     .truncated = a->truncated,
				     .unknown_pid = a->unknown_pid,
				     .strings = a->strs.n,
				     .string_bytes = a->strs.bytes };
}

int gh_agg_error(const struct gh_agg *a)
{
	return a->error;
}
