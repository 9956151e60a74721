// SPDX-License-Identifier: MIT
/* The record pipeline: resolve each record once, show it to the taps, fold it in. */
#include <errno.h>
#include <string.h>

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
