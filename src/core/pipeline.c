// SPDX-License-Identifier: MIT
/* The record pipeline: resolve each record once, show it to the taps, fold it in. */
#include <errno.h>
#include <string.h>

#include "core/names.h"
#include "core/pipeline.h"

void gh_pipeline_init(struct gh_pipeline *p, struct gh_agg **agg)
{
	memset(p, 0, sizeof(*p));
	p->agg = agg;
}

int gh_pipeline_add_tap(struct gh_pipeline *p, gh_tap_fn fn, void *ctx)
{
	if (p->ntaps == GH_MAX_TAPS)
		return -ENOSPC;
	p->taps[p->ntaps].fn = fn;
	p->taps[p->ntaps].ctx = ctx;
	p->ntaps++;
	return 0;
}

int gh_pipeline_feed(void *ctx, const struct gh_event_view *v)
{
	struct gh_pipeline *p = ctx;
	struct gh_agg *agg = p->agg ? *p->agg : NULL;
	struct gh_resolved r;
	int i;

	if (!agg && !p->ntaps)
		return 0;
	if (!agg)
		memset(&r, 0, sizeof(r));
	else if (gh_agg_resolve(agg, v, &r))
		return 0; /* out of memory: the aggregate records it */
	for (i = 0; i < p->ntaps; i++) {
		if (p->taps[i].fn(p->taps[i].ctx, v, &r) == GH_TAP_DROP) {
			p->dropped++;
			return 0;
		}
	}
	if (agg)
		gh_agg_apply(agg, v, &r);
	return 0;
}

static int feed_bytes(void *ctx, uint64_t sock, const struct gh_sock_bytes *b)
{
	return gh_agg_sock_bytes(ctx, sock, b->sent, b->received);
}

int gh_pipeline_finish(struct gh_pipeline *p, struct gh_collector *c)
{
	struct gh_agg *agg = p->agg ? *p->agg : NULL;

	return agg ? gh_collector_sock_bytes(c, feed_bytes, agg) : -EINVAL;
}

static void str(const struct gh_field_sink *o, void *ctx, const char *k, const char *s)
{
	if (s)
		o->string(ctx, k, s, strlen(s));
}

static void istr(const struct gh_field_sink *o, void *ctx, const char *k, const struct gh_istr *s)
{
	if (s)
		o->string(ctx, k, s->s, s->len);
}

void gh_event_fields(const struct gh_event_view *v, const struct gh_resolved *r,
		     const struct gh_field_sink *o, void *ctx)
{
	const struct gh_event *h = &v->h;
	const char *sc = v->has_syscall ? gh_syscall_name(h->syscall) : NULL;

	str(o, ctx, "kind", gh_event_kind_name(h->kind));
	o->integer(ctx, "pid", h->pid);
	o->integer(ctx, "tid", h->tid);
	if (h->ppid)
		o->integer(ctx, "ppid", h->ppid);
	o->integer(ctx, "time_ns", (long long)h->time_ns);
	str(o, ctx, "syscall", sc);
	if (v->err)
		str(o, ctx, "error", gh_errno_name(v->err));
	if (v->truncated)
		o->boolean(ctx, "truncated", 1);
	if (v->enforced)
		o->boolean(ctx, "enforced", 1);
	switch (h->kind) {
	case GH_EV_FORK:
		o->integer(ctx, "parent", h->ret);
		break;
	case GH_EV_EXEC:
		istr(o, ctx, "exe", r->path);
		/* A #! script (or binfmt_misc program): the interpreter the kernel really ran. */
		if (v->script)
			istr(o, ctx, "interpreter", r->real);
		istr(o, ctx, "cwd", r->path2);
		o->argv(ctx, "argv", v->s[1].p, v->s[1].len);
		o->boolean(ctx, "argv_truncated", v->argv_truncated);
		break;
	case GH_EV_EXIT:
		if ((h->ret & 0x7f) == 0) {
			o->integer(ctx, "exit_code", (h->ret >> 8) & 0xff);
		} else {
			str(o, ctx, "signal", gh_signal_name((int)(h->ret & 0x7f)));
			o->integer(ctx, "signal_number", h->ret & 0x7f);
		}
		break;
	case GH_EV_EXEC_FAIL:
	case GH_EV_CWD:
	case GH_EV_UNLINK:
	case GH_EV_MKDIR:
	case GH_EV_MKNOD:
	case GH_EV_TRUNCATE:
		istr(o, ctx, "path", r->path);
		if (v->rmdir)
			o->boolean(ctx, "rmdir", 1);
		if (v->cwd_moved)
			o->boolean(ctx, "moved", 1);
		break;
	case GH_EV_OPEN:
		istr(o, ctx, "path", r->path);
		o->integer(ctx, "flags", h->flags);
		o->boolean(ctx, "write", v->writes);
		o->boolean(ctx, "created", v->created);
		o->boolean(ctx, "directory", v->directory);
		if (h->ret >= 0)
			o->integer(ctx, "fd", h->ret);
		break;
	case GH_EV_RENAME:
	case GH_EV_LINK:
		istr(o, ctx, "from", r->path);
		istr(o, ctx, "to", r->path2);
		break;
	case GH_EV_SYMLINK:
		istr(o, ctx, "target", r->path);
		istr(o, ctx, "path", r->path2);
		break;
	case GH_EV_CONNECT:
	case GH_EV_CONNECT_RESULT:
	case GH_EV_SENDTO:
		istr(o, ctx, "dst", r->addr);
		str(o, ctx, "protocol", r->protocol);
		str(o, ctx, "result", r->result);
		if (h->kind == GH_EV_SENDTO && h->ret >= 0)
			o->integer(ctx, "bytes", h->ret);
		break;
	case GH_EV_BIND:
	case GH_EV_LISTEN:
		istr(o, ctx, "address", r->addr);
		str(o, ctx, "protocol", r->protocol);
		str(o, ctx, "result", r->result);
		break;
	case GH_EV_ACCEPT:
		istr(o, ctx, "peer", r->addr);
		istr(o, ctx, "local", r->addr2);
		str(o, ctx, "protocol", r->protocol);
		break;
	}
}
