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

#define COLLECTOR_MT "glasshouse.Collector"
#define EVLOG_MT     "glasshouse.EventLog"

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

/* An event log being written (collector.event_log). */
struct levlog {
	struct gh_evlog l;
	int open;
};

static struct lcollector *check_lc(lua_State *L, int idx)
{
	struct lcollector *lc = luaL_checkudata(L, idx, COLLECTOR_MT);

	if (!lc->c && !lc->rd)
		luaL_error(L, "collector: the collector is closed");
	lc->L = L;
	return lc;
}

/* The kernel side, for the methods a replay does not have. */
static struct gh_collector *check_live(lua_State *L, int idx)
{
	struct lcollector *lc = check_lc(L, idx);

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
	struct gh_collector *c = check_live(L, 1);
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
	struct lcollector *lc = check_lc(L, 1);

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
			struct levlog *ll = luaL_checkudata(L, -1, EVLOG_MT);

			if (!ll->open)
				return luaL_error(L, "collector:attach: the event log is closed");
			lc->log = &ll->l;
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
	struct lcollector *lc = check_lc(L, 1);
	int n = gh_collector_drain(check_live(L, 1));

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
	struct lcollector *lc = check_lc(L, 1);

	lc->pollable.fd = gh_collector_fd(check_live(L, 1));
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
	struct lcollector *lc = check_lc(L, 1);
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

/* c:enforce_exec("allow" | "deny", path, prefix) -> true | false: an exec rule for the kernel
 * (the exact path, or with prefix every path under it); false when it does not fit a key. */
static int l_enforce_exec(lua_State *L)
{
	struct gh_collector *c = check_live(L, 1);
	int deny = luaL_checkoption(L, 2, NULL, (const char *const[]){ "allow", "deny", NULL });
	size_t len;
	const char *path = luaL_checklstring(L, 3, &len);
	int e = gh_collector_enforce_path(c, deny, path, len, lua_toboolean(L, 4));

	if (e == -ENAMETOOLONG) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (e)
		return gh_l_fail(L, "collector: cannot write an exec rule", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* c:enforce_net("allow" | "deny", family, addr, port) -> true | false: a connect rule for the
 * kernel. family "inet", "inet6", "unix" or "other"; addr the address as the receipt writes it
 * (nil: any), port a number (nil: any). false when addr is not one the receipt would write as
 * given (not canonical): the kernel could not decide it as the glob does. */
static int l_enforce_net(lua_State *L)
{
	static const char *const fams[] = { "inet", "inet6", "unix", "other", NULL };
	static const unsigned short afs[] = { AF_INET, AF_INET6, AF_UNIX, 0 };
	struct gh_collector *c = check_live(L, 1);
	int deny = luaL_checkoption(L, 2, NULL, (const char *const[]){ "allow", "deny", NULL });
	int fam = luaL_checkoption(L, 3, NULL, fams), e;
	struct gh_enf_net k;

	memset(&k, 0, sizeof(k));
	k.family = afs[fam];
	k.any_addr = lua_isnoneornil(L, 4);
	k.any_port = lua_isnoneornil(L, 5);
	if (!k.any_addr) {
		const char *text = luaL_checkstring(L, 4);
		char back[INET6_ADDRSTRLEN];
		int af = k.family == AF_INET6 ? AF_INET6 : AF_INET;

		if (k.family != AF_INET && k.family != AF_INET6)
			return luaL_error(
				L, "collector:enforce_net: only inet and inet6 have addresses");
		if (inet_pton(af, text, k.addr) != 1 ||
		    !inet_ntop(af, k.addr, back, sizeof(back)) || strcmp(back, text)) {
			lua_pushboolean(L, 0);
			return 1;
		}
	}
	if (!k.any_port) {
		lua_Integer port = luaL_checkinteger(L, 5);

		if (port < 0 || port > 65535)
			return luaL_error(L, "collector:enforce_net: port %d out of range",
					  (int)port);
		k.port = (unsigned short)port;
	}
	e = gh_collector_enforce_net(c, deny, &k);
	if (e)
		return gh_l_fail(L, "collector: cannot write a connect rule", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* c:enforce(exec_bits, net_bits): the kernel decides what the rules written cover (bits from
 * collector.enforcement); before the command starts. */
static int l_enforce(lua_State *L)
{
	struct gh_collector *c = check_live(L, 1);

	gh_collector_enforce(c, (unsigned)luaL_checkinteger(L, 2),
			     (unsigned)luaL_checkinteger(L, 3));
	return 0;
}

/* c:stop(): stop the tree now (a violation user space found). */
static int l_stop(lua_State *L)
{
	int e = gh_collector_stop(check_live(L, 1));

	if (e)
		return gh_l_fail(L, "collector: stopping the tree failed", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* c:stopped() -> whether the tree was stopped (by the kernel or c:stop()). */
static int l_stopped(lua_State *L)
{
	lua_pushboolean(L, gh_collector_stopped(check_live(L, 1)));
	return 1;
}

/* c:kill_tree() -> n | nil, msg, code: SIGKILL what of the tree the kernel still tracks. */
static int l_kill_tree(lua_State *L)
{
	int n = gh_collector_kill_tree(check_live(L, 1));

	if (n < 0)
		return gh_l_fail(L, "collector: cannot name the tree's threads", n);
	lua_pushinteger(L, n);
	return 1;
}

/* c:settle(pids [, timeout_ms]) -> threads still alive: a stopped tree killed to its last
 * thread, draining (so the exits are delivered) every 10 ms until none is left or timeout_ms
 * (default 2000) passed. pids (a set {pid = true}) are killed instead where the kernel's thread
 * ids are not glasshouse's (another pid namespace). */
static int l_settle(lua_State *L)
{
	struct lcollector *lc = check_lc(L, 1);
	struct gh_collector *c = check_live(L, 1);
	lua_Integer timeout = luaL_optinteger(L, 3, 2000), waited = 0;
	int alive;

	luaL_checktype(L, 2, LUA_TTABLE);
	for (;;) {
		if (gh_collector_kill_tree(c) == -EOPNOTSUPP) {
			lua_pushnil(L);
			while (lua_next(L, 2)) {
				lua_pop(L, 1);
				if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0)
					kill((pid_t)lua_tointeger(L, -1), SIGKILL);
			}
		}
		gh_collector_drain(c);
		if (lc->log)
			gh_evlog_flush(lc->log);
		alive = gh_collector_tree_alive(c);
		if (alive == 0 || waited >= timeout)
			break;
		usleep(10000);
		waited += 10;
	}
	lua_pushinteger(L, alive);
	return 1;
}

/* c:tree_alive() -> threads of the tree still alive. */
static int l_tree_alive(lua_State *L)
{
	lua_pushinteger(L, gh_collector_tree_alive(check_live(L, 1)));
	return 1;
}

/* c:probes() -> {attached = {...}, missing = {...}} */
static int l_probes(lua_State *L)
{
	struct gh_collector *c = check_live(L, 1);
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
	int e = gh_collector_syscall_counts(check_live(L, 1), counts, GH_SYSCALL_MAX);

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
	struct lcollector *lc = check_lc(L, 1);
	int e;

	if (!lc->pl.agg)
		return luaL_error(L, "collector:finish: no aggregator attached");
	check_live(L, 1);
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
	check_lc(L, 1);
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

/* collector.event_log(path [, limit_bytes [, {uid=, gid=}]]) -> log | nil, msg, code: an event
 * log to pass to c:attach; limit_bytes (default 64 MiB) are held for a slow reader before events
 * are dropped; uid and gid own the file, as core.write_file's (the receipt's owner). */
static int l_event_log(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer limit = luaL_optinteger(L, 2, GH_EVLOG_LIMIT);
	struct gh_outfile_opts o;
	struct levlog *ll;
	int e;

	luaL_argcheck(L, limit > 0, 2, "the limit must be positive");
	gh_l_outfile_opts(L, 3, &o);
	ll = lua_newuserdatauv(L, sizeof(*ll), 0);
	memset(ll, 0, sizeof(*ll));
	luaL_setmetatable(L, EVLOG_MT);
	e = gh_evlog_open(&ll->l, path, &o);
	if (e)
		return gh_l_fail_msg(L, ll->l.f.errmsg, e);
	ll->l.limit = (size_t)limit;
	ll->open = 1;
	return 1;
}

static struct levlog *check_log(lua_State *L)
{
	struct levlog *ll = luaL_checkudata(L, 1, EVLOG_MT);

	if (!ll->open)
		luaL_error(L, "event log: the log is closed");
	return ll;
}

/* log:write(json): one header or trailer line (JSON text without newlines), written now. */
static int l_log_write(lua_State *L)
{
	struct levlog *ll = check_log(L);
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);

	if (memchr(s, '\n', n))
		return luaL_error(L, "log:write: a line must not hold a newline");
	if (gh_evlog_line(&ll->l, s, n))
		return gh_l_nomem(L, "log:write");
	gh_evlog_flush(&ll->l);
	return 0;
}

/* log:stats() -> {events, dropped, bytes} */
static int l_log_stats(lua_State *L)
{
	struct levlog *ll = luaL_checkudata(L, 1, EVLOG_MT);

	lua_createtable(L, 0, 3);
	gh_l_setint(L, "events", (lua_Integer)ll->l.events);
	gh_l_setint(L, "dropped", (lua_Integer)ll->l.dropped);
	gh_l_setint(L, "bytes", (lua_Integer)ll->l.bytes);
	return 1;
}

/* log:close() -> true | nil, msg, code: write everything (waiting for a FIFO's reader) and put
 * the file in place. */
static int l_log_close(lua_State *L)
{
	struct levlog *ll = check_log(L);
	int e;

	ll->open = 0;
	e = gh_evlog_close(&ll->l);
	if (e)
		return gh_l_fail_msg(L, ll->l.f.errmsg, e);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_log_gc(lua_State *L)
{
	struct levlog *ll = luaL_checkudata(L, 1, EVLOG_MT);

	if (ll->open)
		gh_evlog_abort(&ll->l);
	ll->open = 0;
	return 0;
}

/* collector.replay(path) -> collector | nil, msg, code: records come from an event log. */
static int l_replay(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct lcollector *lc = lua_newuserdatauv(L, sizeof(*lc), UV_N);
	int e;

	memset(lc, 0, sizeof(*lc));
	lc->self_ref = LUA_NOREF;
	luaL_setmetatable(L, COLLECTOR_MT);
	gh_pipeline_init(&lc->pl, NULL);
	lc->rd = malloc(sizeof(*lc->rd));
	if (!lc->rd)
		return gh_l_nomem(L, "collector.replay");
	e = gh_evlog_reader_open(lc->rd, path);
	if (e) {
		free(lc->rd);
		lc->rd = NULL;
		lua_pushfstring(L, "cannot read %s", path);
		return gh_l_fail(L, lua_tostring(L, -1), e);
	}
	return 1;
}

/* The JSON value at *p onto the stack (integers stay integers, where cjson makes floats that
 * lose a nanosecond time's digits); scratch holds a string's bytes. 0 or -1. */
static int push_json(lua_State *L, const char **p, const char *end, unsigned char *scratch,
		     size_t cap, int depth)
{
	const char *s = *p;
	long long i;
	long n;
	int k = 0;

	if (s >= end || depth > 32 || !lua_checkstack(L, 3))
		return -1;
	if (*s == '"') {
		if ((n = gh_evlog_read_str(p, end, scratch, cap)) < 0)
			return -1;
		lua_pushlstring(L, (const char *)scratch, (size_t)n);
		return 0;
	}
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		char *e;
		const char *t = s;

		if (!gh_evlog_read_int(&t, end, &i) && (t == end || !strchr(".eE", *t))) {
			lua_pushinteger(L, i);
			*p = t;
			return 0;
		}
		lua_pushnumber(L, strtod(s, &e)); /* the line ends in '}', so strtod stops */
		*p = e;
		return e == s ? -1 : 0;
	}
	if ((size_t)(end - s) >= 4 && !memcmp(s, "true", 4))
		return lua_pushboolean(L, 1), *p = s + 4, 0;
	if ((size_t)(end - s) >= 5 && !memcmp(s, "false", 5))
		return lua_pushboolean(L, 0), *p = s + 5, 0;
	if ((size_t)(end - s) >= 4 && !memcmp(s, "null", 4))
		return lua_pushlightuserdata(L, NULL), *p = s + 4, 0;
	if (*s != '{' && *s != '[')
		return -1;
	lua_newtable(L);
	for (s++; s < end && *s != (**p == '{' ? '}' : ']'); k++) {
		if (k && *s++ != ',')
			return -1;
		if (**p == '{') {
			if (push_json(L, &s, end, scratch, cap, depth + 1) ||
			    lua_type(L, -1) != LUA_TSTRING || s >= end || *s++ != ':')
				return -1;
		}
		if (push_json(L, &s, end, scratch, cap, depth + 1))
			return -1;
		if (**p == '{')
			lua_rawset(L, -3);
		else
			lua_rawseti(L, -2, k + 1);
	}
	if (s >= end)
		return -1;
	*p = s + 1;
	return 0;
}

/*
 * c:next_line() -> table, lineno | nil, lines (the end) | false, msg, lineno
 * A replay: every event line up to the next other line goes through the pipeline (hooks,
 * aggregate), then that line is returned decoded.
 */
static int l_next_line(lua_State *L)
{
	struct lcollector *lc = check_lc(L, 1);
	struct gh_event_view v;
	size_t len;

	if (!lc->rd)
		return luaL_error(L, "collector:next_line: only a replay reads lines");
	for (;;) {
		enum gh_evlog_line_type t = gh_evlog_next(lc->rd, &len);

		if (t == GH_EVLOG_EVENT) {
			if (gh_event_decode(lc->rd->rec, len, &v)) {
				t = GH_EVLOG_BAD;
				snprintf(lc->rd->errmsg, sizeof(lc->rd->errmsg),
					 "the record is not one glasshouse knows");
			} else {
				gh_pipeline_feed(&lc->pl, &v);
				lc->replayed++;
				continue;
			}
		}
		if (t == GH_EVLOG_EOF) {
			lua_pushnil(L);
			lua_pushinteger(L, (lua_Integer)lc->rd->lineno);
			return 2;
		}
		if (t == GH_EVLOG_BAD) {
			lua_pushboolean(L, 0);
			lua_pushstring(L, lc->rd->errmsg);
			lua_pushinteger(L, (lua_Integer)lc->rd->lineno);
			return 3;
		}
		{
			const char *p = lc->rd->line, *end = p + lc->rd->len;
			unsigned char *scratch = lua_newuserdatauv(L, lc->rd->len + 1, 0);
			int top = lua_gettop(L);

			if (push_json(L, &p, end, scratch, lc->rd->len + 1, 0) || p != end) {
				lua_settop(L, top - 1);
				lua_pushboolean(L, 0);
				lua_pushliteral(L, "the line is not valid JSON");
				lua_pushinteger(L, (lua_Integer)lc->rd->lineno);
				return 3;
			}
			lua_remove(L, top);
		}
		lua_pushinteger(L, (lua_Integer)lc->rd->lineno);
		return 2;
	}
}

int luaopen_glasshouse_collector(lua_State *L)
{
	static const luaL_Reg meth[] = {
		{ "track", l_track },
		{ "attach", l_attach },
		{ "drain", l_drain },
		{ "stats", l_stats },
		{ "probes", l_probes },
		{ "syscall_counts", l_syscall_counts },
		{ "finish", l_finish },
		{ "events", l_events },
		{ "close", l_close },
		{ "next_line", l_next_line },
		{ "enforce_exec", l_enforce_exec },
		{ "enforce_net", l_enforce_net },
		{ "enforce", l_enforce },
		{ "stop", l_stop },
		{ "stopped", l_stopped },
		{ "kill_tree", l_kill_tree },
		{ "tree_alive", l_tree_alive },
		{ "settle", l_settle },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", l_close },
		{ "__close", l_close },
		{ "pollable", l_pollable },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "open", l_open },
		{ "event_log", l_event_log },
		{ "replay", l_replay },
		{ NULL, NULL },
	};
	static const luaL_Reg log_meth[] = {
		{ "write", l_log_write },
		{ "stats", l_log_stats },
		{ "close", l_log_close },
		{ NULL, NULL },
	};
	static const luaL_Reg log_meta[] = {
		{ "__gc", l_log_gc },
		{ "__close", l_log_gc },
		{ NULL, NULL },
	};

	static const luaL_Reg none[] = { { NULL, NULL } };
	size_t i;

	gh_l_newclass(L, EVLOG_MT, log_meta, log_meth, none);
	lua_pop(L, 1);

	gh_l_newclass(L, COLLECTOR_MT, meta, meth, funcs);
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
	lua_setfield(L, -2, "enforcement");
	return 1;
}
