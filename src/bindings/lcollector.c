// SPDX-License-Identifier: MIT
/*
 * glasshouse.collector: the C collector as a Lua object. Records go straight from the ring
 * into an attached aggregator in C; only when a script set a filter or on_event hook is a
 * Lua table built per record.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "collector/collector.h"
#include "core/evlog.h"
#include "core/pipeline.h"
#include "bindings/laggregator.h"
#include "bindings/bindings.h"
#include "bindings/lcollector.h"

struct lcollector *gh_l_collector_check(lua_State *L, int idx)
{
	struct lcollector *lc = luaL_checkudata(L, idx, COLLECTOR_MT);

	if (!lc->c && !lc->rd)
		luaL_error(L, "collector: the collector is closed");
	lc->L = L;
	return lc;
}

/* The kernel side, for the methods a replay does not have. */
struct gh_collector *gh_l_collector_live(lua_State *L, int idx)
{
	struct lcollector *lc = gh_l_collector_check(L, idx);

	if (!lc->c)
		luaL_error(L, "collector: a replay has no kernel side");
	return lc->c;
}

/* The event table the hooks see (docs/scripting.md lists the fields by kind). */
static void t_integer(void *L, const char *k, long long v)
{
	gh_l_setint(L, k, (lua_Integer)v);
}

static void t_string(void *L, const char *k, const char *s, size_t n)
{
	lua_pushlstring(L, s, n);
	lua_setfield(L, -2, k);
}

static void t_boolean(void *L, const char *k, int v)
{
	gh_l_setbool(L, k, v);
}

static void t_argv(void *L, const char *k, const char *argv, size_t n)
{
	gh_l_push_argv(L, argv, n);
	lua_setfield(L, -2, k);
}

static void push_event(lua_State *L, const struct gh_event_view *v, const struct gh_resolved *r)
{
	static const struct gh_field_sink table_fields = { t_integer, t_string, t_boolean, t_argv };

	lua_createtable(L, 0, 12);
	gh_event_fields(v, r, &table_fields, L);
}

/* Call hook slot uv with the event on the stack top; 1 = keep, 0 = drop, -1 = it raised. */
static int call_hook(struct lcollector *lc, int uv, int ud_idx)
{
	lua_State *L = lc->L;
	int keep = 1;

	lua_getiuservalue(L, ud_idx, uv);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 1;
	}
	lua_pushvalue(L, -2);
	if (gh_l_pcall_user(L, 1, 1) != LUA_OK) {
		/* Interrupts and os.exit stay tables, for gh.run to raise once the receipt is
		 * written; other errors become a message. */
		if (!gh_l_is_control(L, -1)) {
			const char *msg = lua_tostring(L, -1);

			lua_pushfstring(L, "%s hook failed: %s",
					uv == UV_FILTER ? "filter" : "on_event",
					msg ? msg : "(error object is not a string)");
		}
		lua_setiuservalue(L, ud_idx, UV_ERROR);
		lua_settop(L, ud_idx + 1);
		lc->hook_failed = 1;
		return -1;
	}
	if (uv == UV_FILTER)
		keep = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1)); /* only false drops */
	lua_pop(L, 1);
	return keep;
}

/* The Lua hooks as a pipeline tap: an event table is built only here, only when a script set
 * a filter, an on_event hook or keep_events. */
static enum gh_tap_verdict lua_tap(void *ctx, const struct gh_event_view *v,
				   const struct gh_resolved *r)
{
	struct lcollector *lc = ctx;
	lua_State *L = lc->L;
	int top, keep;

	if (lc->hook_failed)
		return GH_TAP_KEEP;
	top = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, lc->self_ref);
	push_event(L, v, r);
	keep = call_hook(lc, UV_FILTER, top + 1);
	if (keep == 1) {
		if (lc->keep) {
			lua_getiuservalue(L, top + 1, UV_EVENTS);
			lua_pushvalue(L, -2);
			lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
			lua_pop(L, 1);
		}
		call_hook(lc, UV_ON_EVENT, top + 1);
	}
	lua_settop(L, top);
	return keep == 0 ? GH_TAP_DROP : GH_TAP_KEEP; /* a failed filter's event still counts */
}

/* The numeric options of collector.open and their bounds, also exported as collector.limits
 * for callers that check settings of their own (the GLASSHOUSE_* environment). */
static const struct {
	const char *name;
	lua_Integer lo, hi;
	int pow2;
} limits[] = {
	{ "ring_kb", 4, 1 << 22, 1 },
	{ "max_sockets", 1, 1 << 24, 0 },
};
enum { LIM_RING_KB, LIM_MAX_SOCKETS };

/* Option limits[i] of the table at index 1, or 0 when absent; raises when out of bounds. */
static lua_Integer opt_int(lua_State *L, int i)
{
	lua_Integer n = 0;

	lua_getfield(L, 1, limits[i].name);
	if (!lua_isnil(L, -1)) {
		n = luaL_checkinteger(L, -1);
		if (n < limits[i].lo || n > limits[i].hi || (limits[i].pow2 && (n & (n - 1))))
			return luaL_error(L,
					  "collector.open: %s must be %s from %d to %d, "
					  "got %d",
					  limits[i].name,
					  limits[i].pow2 ? "a power of two" : "a whole number",
					  (int)limits[i].lo, (int)limits[i].hi, (int)n);
	}
	lua_pop(L, 1);
	return n;
}

/*
 * collector.open{ring_kb=16384, max_sockets=131072, capture_argv=true, bpf_dir=nil}
 *   -> collector | nil, msg, code
 * Loads and attaches the BPF programs. Failures of the system (no root, no BTF) come back as
 * nil, a one-line message, and an errno name.
 */
static int l_open(lua_State *L)
{
	struct gh_collector_opts o = { .capture_argv = 1 };
	struct lcollector *lc;
	char err[512] = "";
	int e;

	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		o.ring_bytes = (size_t)opt_int(L, LIM_RING_KB) * 1024;
		o.max_sockets = (unsigned)opt_int(L, LIM_MAX_SOCKETS);
		lua_getfield(L, 1, "capture_argv");
		if (!lua_isnil(L, -1))
			o.capture_argv = lua_toboolean(L, -1);
		lua_getfield(L, 1, "bpf_dir");
		o.bpf_dir = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
		lua_pop(L, 2);
	}
	lc = lua_newuserdatauv(L, sizeof(*lc), UV_N);
	memset(lc, 0, sizeof(*lc));
	lc->self_ref = LUA_NOREF;
	luaL_setmetatable(L, COLLECTOR_MT);
	gh_pipeline_init(&lc->pl, NULL);
	o.sink = gh_pipeline_feed;
	o.ctx = &lc->pl;
	e = gh_collector_open(&lc->c, &o, err, sizeof(err));
	if (e)
		return gh_l_fail_msg(L, err, e);
	return 1;
}

/* c:track(pid): follow pid (the command, held at its gate) and everything it starts. */
static int l_track(lua_State *L)
{
	struct gh_collector *c = gh_l_collector_live(L, 1);
	lua_Integer pid = luaL_checkinteger(L, 2);
	int e = gh_collector_track(c, (pid_t)pid);

	if (e == -EPERM)
		return luaL_error(
			L,
			"collector:track: pid %d is not the caller's to follow (glasshouse "
			"runs with file capabilities: only processes the caller could ptrace)",
			(int)pid);
	if (e)
		return luaL_error(L, "collector:track: invalid pid %d", (int)pid);
	return 0;
}

/*
 * c:attach(aggregator [, hooks]): send records to the aggregator. hooks.filter(ev) -> false
 * drops an event before aggregation; hooks.on_event(ev) sees those kept; hooks.keep_events
 * keeps every event table (c:events()).
 */
static int l_attach(lua_State *L)
{
	struct lcollector *lc = gh_l_collector_check(L, 1);

	if (!lua_isnil(L, 2))
		gh_l_check_agg(L, 2);
	gh_pipeline_init(&lc->pl, lua_isnil(L, 2) ? NULL : gh_l_agg_slot(L, 2));
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 1, UV_AGG);
	lc->hooks = 0;
	lc->keep = 0;
	lc->log = NULL;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "event_log") != LUA_TNIL) {
			lc->log = gh_l_evlog_check(L, -1, "collector:attach");
			gh_pipeline_add_tap(&lc->pl, gh_evlog_tap, lc->log); /* first: sees all */
		}
		lua_setiuservalue(L, 1, UV_LOG);
	}
	if (!lua_isnoneornil(L, 3)) {
		static const struct {
			const char *name;
			int uv;
		} hk[] = {
			{ "filter", UV_FILTER },
			{ "on_event", UV_ON_EVENT },
		};
		size_t i;

		luaL_checktype(L, 3, LUA_TTABLE);
		for (i = 0; i < 2; i++) {
			lua_getfield(L, 3, hk[i].name);
			if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
				return luaL_error(L,
						  "collector:attach: hook '%s' must be a "
						  "function, got %s",
						  hk[i].name, luaL_typename(L, -1));
			lc->hooks |= !lua_isnil(L, -1);
			lua_setiuservalue(L, 1, hk[i].uv);
		}
		lua_getfield(L, 3, "keep_events");
		lc->keep = lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (lc->keep) {
			lc->hooks = 1;
			lua_newtable(L);
			lua_setiuservalue(L, 1, UV_EVENTS);
		}
	}
	if (lc->hooks && lc->self_ref == LUA_NOREF) {
		lua_pushvalue(L, 1);
		lc->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	if (lc->hooks)
		gh_pipeline_add_tap(&lc->pl, lua_tap, lc);
	return 0;
}

/* c:drain() -> n: deliver everything waiting in the ring now. */
static int l_drain(lua_State *L)
{
	struct lcollector *lc = gh_l_collector_check(L, 1);
	int n = gh_collector_drain(gh_l_collector_live(L, 1));

	if (lc->log)
		gh_evlog_flush(lc->log);
	if (n < 0)
		return gh_l_fail(L, "collector: reading the ring buffer failed", n);
	lua_pushinteger(L, n);
	return 1;
}

static int ready(void *ctx)
{
	struct lcollector *lc = ctx;
	int n = gh_collector_drain(lc->c);

	/* The log is written here, after the drain, never from inside it. */
	if (lc->log)
		gh_evlog_flush(lc->log);
	return n < 0 ? n : 0;
}

/* The backend's wait loop services the ring through this (backend:wait(collector)). */
static int l_pollable(lua_State *L)
{
	struct lcollector *lc = gh_l_collector_check(L, 1);

	lc->pollable.fd = gh_collector_fd(gh_l_collector_live(L, 1));
	lc->pollable.interval_ms = 20;
	lc->pollable.ready = ready;
	lc->pollable.ctx = lc;
	lua_pushlightuserdata(L, &lc->pollable);
	return 1;
}

/* c:stats() -> {events, lost, truncated, malformed, sockets_full, filtered,
 * root_registered, hook_error} */
static int l_stats(lua_State *L)
{
	struct lcollector *lc = gh_l_collector_check(L, 1);
	struct gh_collector_stats st = { 0 };

	if (lc->c)
		gh_collector_stats(lc->c, &st); /* a replay's come from its log's trailer */
	lua_createtable(L, 0, 9);
	gh_l_setint(L, "events", (lua_Integer)st.events);
	gh_l_setint(L, "lost", (lua_Integer)st.lost);
	gh_l_setint(L, "truncated", (lua_Integer)st.truncated);
	gh_l_setint(L, "malformed", (lua_Integer)st.malformed);
	gh_l_setint(L, "sockets_full", (lua_Integer)st.sockets_full);
	gh_l_setint(L, "filtered", (lua_Integer)lc->pl.dropped);
	gh_l_setbool(L, "root_registered", st.root_registered);
	if (lc->rd)
		gh_l_setint(L, "replayed", (lua_Integer)lc->replayed);
	/* hook_error: the message, for the receipt; hook_raise: what gh.run raises once the
	 * receipt is written (the message with its traceback, an interrupt or os.exit). */
	lua_getiuservalue(L, 1, UV_ERROR);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "hook_raise");
	if (gh_l_is_control(L, -1)) {
		luaL_tolstring(L, -1, NULL);
		lua_remove(L, -2);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		const char *full = lua_tostring(L, -1), *tb = strstr(full, "\nstack traceback:");

		if (tb) {
			lua_pushlstring(L, full, (size_t)(tb - full));
			lua_remove(L, -2);
		}
	}
	lua_setfield(L, -2, "hook_error");
	return 1;
}

/* c:probes() -> {attached = {...}, missing = {...}} */
static int l_probes(lua_State *L)
{
	struct gh_collector *c = gh_l_collector_live(L, 1);
	int i, att, na = 0, nm = 0;
	const char *name;

	lua_createtable(L, 0, 2);
	lua_newtable(L);
	lua_newtable(L);
	for (i = 0; (name = gh_collector_probe(c, i, &att)); i++) {
		lua_pushstring(L, name);
		lua_rawseti(L, att ? -3 : -2, att ? ++na : ++nm);
	}
	lua_setfield(L, -3, "missing");
	lua_setfield(L, -2, "attached");
	return 1;
}

/* c:syscall_counts() -> {name = count} for every syscall the tree made. */
static int l_syscall_counts(lua_State *L)
{
	uint64_t counts[GH_SYSCALL_MAX];
	unsigned i;
	int e = gh_collector_syscall_counts(gh_l_collector_live(L, 1), counts, GH_SYSCALL_MAX);

	if (e)
		return gh_l_fail(L, "collector: reading the syscall counts failed", e);
	lua_newtable(L);
	for (i = 0; i < GH_SYSCALL_MAX; i++) {
		const char *name = gh_syscall_name(i);
		char num[24];

		if (!counts[i])
			continue;
		if (!name) {
			snprintf(num, sizeof(num), "syscall_%u", i);
			name = num;
		}
		lua_pushinteger(L, (lua_Integer)counts[i]);
		lua_setfield(L, -2, name);
	}
	return 1;
}

/* A socket's byte counts into the aggregate and the event log. */
static int logged_bytes(void *ctx, uint64_t sock, const struct gh_sock_bytes *b)
{
	struct lcollector *lc = ctx;

	gh_evlog_sock_bytes(lc->log, sock, b->sent, b->received);
	return *lc->pl.agg ? gh_agg_sock_bytes(*lc->pl.agg, sock, b->sent, b->received) : 0;
}

/* c:finish(): the byte counts of every socket into the attached aggregator (call once, at the
 * end, after the last drain). */
static int l_finish(lua_State *L)
{
	struct lcollector *lc = gh_l_collector_check(L, 1);
	int e;

	if (!lc->pl.agg)
		return luaL_error(L, "collector:finish: no aggregator attached");
	gh_l_collector_live(L, 1);
	if (lc->log) {
		e = gh_collector_sock_bytes(lc->c, logged_bytes, lc);
		if (!e)
			e = gh_evlog_sockets_line(lc->log);
	} else {
		e = gh_pipeline_finish(&lc->pl, lc->c);
	}
	if (e)
		return gh_l_fail(L, "collector: reading socket byte counts failed", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* c:events() -> the event tables kept with keep_events (nil when not kept). */
static int l_events(lua_State *L)
{
	gh_l_collector_check(L, 1);
	lua_getiuservalue(L, 1, UV_EVENTS);
	return 1;
}

static int l_close(lua_State *L)
{
	struct lcollector *lc = luaL_checkudata(L, 1, COLLECTOR_MT);

	gh_collector_close(lc->c);
	lc->c = NULL;
	if (lc->rd) {
		gh_evlog_reader_close(lc->rd);
		free(lc->rd);
		lc->rd = NULL;
	}
	lc->log = NULL;
	gh_pipeline_init(&lc->pl, NULL);
	if (lc->self_ref != LUA_NOREF) {
		luaL_unref(L, LUA_REGISTRYINDEX, lc->self_ref);
		lc->self_ref = LUA_NOREF;
	}
	return 0;
}

int luaopen_glasshouse_collector(lua_State *L)
{
	static const luaL_Reg meth[] = {
		{ "track", l_track },	{ "attach", l_attach },
		{ "drain", l_drain },	{ "stats", l_stats },
		{ "probes", l_probes }, { "syscall_counts", l_syscall_counts },
		{ "finish", l_finish }, { "events", l_events },
		{ "close", l_close },	{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", l_close },
		{ "__close", l_close },
		{ "pollable", l_pollable },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "open", l_open },
		{ NULL, NULL },
	};
	size_t i;

	gh_l_evlog_class(L);

	gh_l_newclass(L, COLLECTOR_MT, meta, meth, funcs);
	luaL_setfuncs(L, gh_l_collector_log_funcs, 0);
	luaL_getmetatable(L, COLLECTOR_MT);
	lua_getfield(L, -1, "__index");
	luaL_setfuncs(L, gh_l_collector_enforce_methods, 0);
	luaL_setfuncs(L, gh_l_collector_log_methods, 0);
	lua_pop(L, 2);
	lua_createtable(L, 0, 2); /* limits = {name = {lo =, hi =, pow2 =}} */
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		lua_createtable(L, 0, 3);
		gh_l_setint(L, "lo", limits[i].lo);
		gh_l_setint(L, "hi", limits[i].hi);
		gh_l_setbool(L, "pow2", limits[i].pow2);
		lua_setfield(L, -2, limits[i].name);
	}
	lua_setfield(L, -2, "limits");
	lua_createtable(L, 0, 6); /* enforcement = the bits of c:enforce */
	gh_l_setint(L, "KERNEL", GH_ENF_KERNEL);
	gh_l_setint(L, "ALLOW_LIST", GH_ENF_ALLOW_LIST);
	gh_l_setint(L, "V4", GH_ENF_V4);
	gh_l_setint(L, "V6", GH_ENF_V6);
	gh_l_setint(L, "UNIX", GH_ENF_UNIX);
	gh_l_setint(L, "OTHER", GH_ENF_OTHER);
	lua_createtable(L, 0, 3); /* path_bits = {kind = {allow =, deny =}} */
	for (i = 0; i < 3; i++) {
		static const char *const kinds[] = { "exec", "read", "write" };
		static const int ks[] = { GH_ENF_EXEC, GH_ENF_READ, GH_ENF_WRITE };

		lua_createtable(L, 0, 2);
		gh_l_setint(L, "allow", GH_ENF_PATH_BITS(ks[i], GH_ENF_ALLOW));
		gh_l_setint(L, "deny", GH_ENF_PATH_BITS(ks[i], GH_ENF_DENY));
		lua_setfield(L, -2, kinds[i]);
	}
	lua_setfield(L, -2, "path_bits");
	lua_setfield(L, -2, "enforcement");
	return 1;
}
