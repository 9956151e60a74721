/* SPDX-License-Identifier: MIT */
/* The collector object's insides, shared by its binding's files: lcollector.c (the object and
 * its pipeline), lenforce.c (its enforcement methods), levlog.c (the event log, both ways). */
#ifndef GH_BINDINGS_LCOLLECTOR_H
#define GH_BINDINGS_LCOLLECTOR_H

#include <lauxlib.h>
#include <lua.h>

#include "backend/backend.h"
#include "collector/collector.h"
#include "core/evlog.h"
#include "core/pipeline.h"

#define COLLECTOR_MT "glasshouse.Collector"

/* Uservalue slots of the collector userdata. */
enum { UV_AGG = 1, UV_FILTER, UV_ON_EVENT, UV_EVENTS, UV_ERROR, UV_LOG, UV_N = UV_LOG };

struct lcollector {
	struct gh_collector *c;
	struct gh_pipeline pl; /* the collector's sink: resolve, taps, aggregate */
	lua_State *L;	       /* the thread that is draining, set at each entry */
	int self_ref;	       /* registry ref to the userdata while hooks are set */
	int hooks;	       /* filter or on_event set: the Lua tap is in the pipeline */
	int keep;	       /* keep every event table in UV_EVENTS */
	int hook_failed;
	struct gh_pollable pollable;
	struct gh_evlog *log;	    /* the event log's tap is first in the pipeline */
	struct gh_evlog_reader *rd; /* a replay: records come from a log, not the kernel */
	uint64_t replayed;	    /* event lines a replay fed through the pipeline */
};

/* The collector at idx (raises when it is closed); its thread is L from now. */
struct lcollector *gh_l_collector_check(lua_State *L, int idx);
/* Its kernel side, for the methods a replay does not have (raises for a replay). */
struct gh_collector *gh_l_collector_live(lua_State *L, int idx);

/* c:enforce_path, c:enforce_net, c:enforce, c:stop, c:stopped, c:kill_tree, c:settle,
 * c:tree_alive (lenforce.c). */
extern const luaL_Reg gh_l_collector_enforce_methods[];
/* c:next_line (levlog.c), and collector.event_log, collector.replay. */
extern const luaL_Reg gh_l_collector_log_methods[];
extern const luaL_Reg gh_l_collector_log_funcs[];
/* The event log class (collector.event_log's objects); the log at idx, open (raises). */
void gh_l_evlog_class(lua_State *L);
struct gh_evlog *gh_l_evlog_check(lua_State *L, int idx, const char *where);

#endif
