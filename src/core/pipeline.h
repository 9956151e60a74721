/* SPDX-License-Identifier: MIT */
/*
 * The record pipeline: collector -> decode -> resolve -> taps -> apply -> aggregator. Every
 * consumer of events (the Lua hooks, the event log, policies, content hashing) is a tap: a C
 * callback that sees each resolved event, in delivery order, and may drop it.
 */
#ifndef GH_PIPELINE_H
#define GH_PIPELINE_H

#include <stdint.h>

#include "collector/collector.h"
#include "core/aggregator.h"

#define GH_MAX_TAPS 8

enum gh_tap_verdict {
	GH_TAP_KEEP = 0,
	GH_TAP_DROP = 1, /* the event is not aggregated, and later taps do not see it */
};

/* r is resolved against the aggregate as it stands (zeroed without an aggregator). */
typedef enum gh_tap_verdict (*gh_tap_fn)(void *ctx, const struct gh_event_view *v,
					 const struct gh_resolved *r);

struct gh_pipeline {
	struct gh_agg **agg; /* where the aggregate is (NULL or *agg NULL: none) */
	struct {
		gh_tap_fn fn;
		void *ctx;
	} taps[GH_MAX_TAPS];
	int ntaps;
	uint64_t dropped; /* events a tap dropped */
};

/* Where gh_event_fields puts each named field of an event (s NULL: the field is absent). */
struct gh_field_sink {
	void (*integer)(void *ctx, const char *k, long long v);
	void (*string)(void *ctx, const char *k, const char *s, size_t n);
	void (*boolean)(void *ctx, const char *k, int v);
	void (*argv)(void *ctx, const char *k, const char *nul_separated, size_t n);
};

/* The event as the scripting API and the event log name its fields (docs/scripting.md), kind
 * first, each into sink: one list for the Lua tables and the log's lines. */
void gh_event_fields(const struct gh_event_view *v, const struct gh_resolved *r,
		     const struct gh_field_sink *sink, void *ctx);

/* An empty pipeline feeding *agg (agg may be NULL). */
void gh_pipeline_init(struct gh_pipeline *p, struct gh_agg **agg);
/* Add a tap after those already there. 0, or -ENOSPC past GH_MAX_TAPS. */
int gh_pipeline_add_tap(struct gh_pipeline *p, gh_tap_fn fn, void *ctx);
/* The collector's sink (gh_sink_fn): one decoded record through the pipeline. Always 0: an
 * aggregate that ran out of memory says so itself. */
int gh_pipeline_feed(void *p, const struct gh_event_view *v);
/* At the end, after the last drain: join each socket's byte counts to its records. 0 or -errno. */
int gh_pipeline_finish(struct gh_pipeline *p, struct gh_collector *c);

#endif
