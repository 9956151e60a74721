// SPDX-License-Identifier: MIT
/* glasshouse.backend: the backends as Lua objects (glasshouse.Backend). */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "core/priv.h"

#include "backend/backend.h"
#include "bindings/bindings.h"

#define BACKEND_MT "glasshouse.Backend"

struct lbackend {
	struct gh_backend *b;
};

static struct gh_backend *check_open(lua_State *L)
{
	struct lbackend *lb = luaL_checkudata(L, 1, BACKEND_MT);

	if (!lb->b)
		luaL_error(L, "backend: the backend is closed");
	return lb->b;
}

static char *opt_string(lua_State *L, int idx, const char *key)
{
	const char *s;

	lua_getfield(L, idx, key);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "backend.new: option '%s' must be a string", key);
	s = lua_tostring(L, -1);
	lua_pop(L, 1);
	return (char *)s; /* copied by gh_backend_new before the options table can go */
}

/* The network option: "host" (or nil), "none", "loopback". */
static enum gh_network opt_network(lua_State *L, int idx)
{
	static const char *const names[] = { "host", "none", "loopback", NULL };
	int i;

	lua_getfield(L, idx, "network");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return GH_NET_HOST;
	}
	for (i = 0; names[i]; i++)
		if (lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), names[i]))
			break;
	if (!names[i])
		luaL_error(L,
			   "backend.new: option 'network' must be host, none or loopback, got %s",
			   luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	return (enum gh_network)i;
}

/* The wait_all option: nil or false (wait for the command), true (for the whole tree) or a
 * number of seconds from 0 (for the tree, at most that long after the command exits). */
static void opt_wait_all(lua_State *L, int idx, const char *backend, struct gh_backend_config *cfg)
{
	lua_Number secs;

	lua_getfield(L, idx, "wait_all");
	cfg->wait_all_ms = -1;
	if (lua_isboolean(L, -1) || lua_isnil(L, -1)) {
		cfg->wait_all = lua_toboolean(L, -1);
	} else {
		secs = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
		/* NaN fails both; 1e9 s (31 years) keeps the ms far inside int64 */
		if (!(secs >= 0 && secs <= 1e9))
			luaL_error(
				L,
				"backend.new: option 'wait_all' must be a boolean or a number of "
				"seconds from 0 to 1e9, got %s",
				luaL_tolstring(L, -1, NULL));
		cfg->wait_all = 1;
		cfg->wait_all_ms = (int64_t)(secs * 1000 + 0.5);
	}
	if (cfg->wait_all && strcmp(backend, "process"))
		luaL_error(L, "backend.new: option 'wait_all' is for the process backend only");
	lua_pop(L, 1);
}

/*
 * backend.new(name [, {guest, kernel, rootfs, binary, api_socket, user, network, wait_all}])
 * -> Backend. user: {uid, gid, groups, name, home} to run the command as (core.user's table);
 * network: "host" (default), "none" or "loopback"; wait_all: see opt_wait_all. Raises on misuse.
 */
static int l_backend_new(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct gh_backend_config cfg = { 0 };
	struct gh_user user;
	struct lbackend *lb;
	int err;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "guest");
		cfg.guest = lua_toboolean(L, -1);
		lua_pop(L, 1);
		cfg.fc_kernel = opt_string(L, 2, "kernel");
		cfg.fc_rootfs = opt_string(L, 2, "rootfs");
		cfg.fc_binary = opt_string(L, 2, "binary");
		cfg.fc_socket = opt_string(L, 2, "api_socket");
		cfg.network = opt_network(L, 2);
		opt_wait_all(L, 2, name, &cfg);
		if (lua_getfield(L, 2, "user") != LUA_TNIL) {
			gh_l_check_user(L, lua_gettop(L), "backend.new", &user);
			cfg.user = &user;
		}
		lua_pop(L, 1);
	}
	lb = lua_newuserdatauv(L, sizeof(*lb), 0);
	lb->b = NULL;
	luaL_setmetatable(L, BACKEND_MT);
	err = gh_backend_new(name, &cfg, &lb->b);
	if (err == -EINVAL)
		return luaL_argerror(L, 1,
				     lua_pushfstring(L,
						     "unknown backend '%s' (known: process, "
						     "firecracker)",
						     name));
	if (err)
		return gh_l_nomem(L, "backend.new");
	return 1;
}

static int step_result(lua_State *L, struct gh_backend *b, int err)
{
	if (err == -EBADFD)
		return luaL_error(L, "backend:%s", b->errmsg); /* out of order: misuse */
	if (err)
		return gh_l_fail_msg(L, b->errmsg[0] ? b->errmsg : strerror(-err), err);
	lua_pushboolean(L, 1);
	return 1;
}

/* backend:prepare() -> true | nil, msg, code */
static int l_backend_prepare(lua_State *L)
{
	struct gh_backend *b = check_open(L);

	return step_result(L, b, gh_backend_prepare(b));
}

/*
 * backend:start(argv [, on_pid]) -> pid | nil, msg, code
 * The command is forked held at a gate; on_pid(pid) runs before it may exec (the collector
 * registers it there), then the gate opens. An error in on_pid is raised after the child is gone.
 */
static int l_backend_start(lua_State *L)
{
	struct gh_backend *b = check_open(L);
	lua_Integer i, n;
	char **argv;
	int err;

	luaL_checktype(L, 2, LUA_TTABLE);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TFUNCTION);
	n = (lua_Integer)lua_rawlen(L, 2);
	if (n == 0)
		return luaL_argerror(L, 2, "argv is empty");
	argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(char *), 0); /* freed by the GC */
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
			return luaL_argerror(
				L, 2, lua_pushfstring(L, "argv[%d] is not a string", (int)i));
		argv[i - 1] = (char *)lua_tostring(L, -1);
		lua_pop(L, 1); /* still anchored by the argv table */
	}
	argv[n] = NULL;
	err = gh_backend_start(b, argv);
	if (err)
		return step_result(L, b, err);
	if (lua_isfunction(L, 3)) {
		lua_pushvalue(L, 3);
		lua_pushinteger(L, b->result.pid);
		if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
			gh_backend_cleanup(b); /* the held child exits without running anything */
			return lua_error(L);
		}
	}
	err = gh_backend_release(b);
	if (err)
		return gh_l_fail_msg(L,
				     lua_pushfstring(L, "%s: %s",
						     *argv[0] ? argv[0] : "(empty command name)",
						     b->errmsg),
				     err);
	lua_pushinteger(L, b->result.pid);
	return 1;
}

struct lua_poll {
	lua_State *L;
	int fn_idx;
	int failed;
};

/* A Lua function as the wait loop's pollable: errors stop the calls and are kept. */
static int lua_ready(void *ctx)
{
	struct lua_poll *lp = ctx;

	lua_pushvalue(lp->L, lp->fn_idx);
	if (lua_pcall(lp->L, 0, 0, 0) != LUA_OK) {
		lp->failed = 1;
		lua_replace(lp->L, lp->fn_idx + 1); /* keep the message in the reserved slot */
		return -1;
	}
	return 0;
}

static void push_result(lua_State *L, const struct gh_result *r)
{
	lua_createtable(L, 0, 16);
	gh_l_setint(L, "pid", r->pid);
	gh_l_setint(L, "exit_code", r->exit_code);
	if (r->signal) {
		lua_pushstring(L, gh_signal_name(r->signal));
		lua_setfield(L, -2, "signal");
		gh_l_setint(L, "signal_number", r->signal);
	}
	lua_pushboolean(L, r->core_dumped);
	lua_setfield(L, -2, "core_dumped");
	if (r->received_signal) {
		lua_pushstring(L, gh_signal_name(r->received_signal));
		lua_setfield(L, -2, "received_signal");
	}
	gh_l_setint(L, "start_ns", r->start_realtime_ns);
	gh_l_setint(L, "duration_ns", r->duration_ns);
	gh_l_setint(L, "cpu_time_us", r->cpu_time_us);
	gh_l_setint(L, "max_rss_kb", r->max_rss_kb);
	gh_l_setint(L, "stdout_bytes", (lua_Integer)r->stdout_bytes);
	gh_l_setint(L, "stderr_bytes", (lua_Integer)r->stderr_bytes);
	gh_l_setbool(L, "stdout_reader_closed", r->stdout_reader_closed);
	gh_l_setbool(L, "stderr_reader_closed", r->stderr_reader_closed);
	gh_l_setbool(L, "stdout_more_may_follow", r->stdout_more_may_follow);
	gh_l_setbool(L, "stderr_more_may_follow", r->stderr_more_may_follow);
	gh_l_setbool(L, "setup_failed", r->setup_failed);
}

/*
 * backend:wait([poll]) -> result | nil, msg, code
 * poll: a function called about every 50 ms while the command runs, or an object with a
 * :pollable() method (the collector). An error in poll stops the calls; the wait goes on and the
 * message comes back as result.poll_error.
 */
static int l_backend_wait(lua_State *L)
{
	struct gh_backend *b = check_open(L);
	struct lua_poll lp = { .L = L, .fn_idx = 2 };
	struct gh_pollable pl = { .fd = -1, .interval_ms = 50, .ready = lua_ready, .ctx = &lp };
	const struct gh_pollable *use = NULL;
	int err;

	lua_settop(L, 2);
	lua_pushnil(L); /* slot 3: a poll error message */
	if (lua_isfunction(L, 2)) {
		use = &pl;
	} else if (!lua_isnil(L, 2)) {
		if (luaL_getmetafield(L, 2, "pollable") == LUA_TNIL)
			return luaL_argerror(L, 2, "expected a function or a collector");
		lua_pushvalue(L, 2);
		lua_call(L, 1, 1);
		use = lua_touserdata(L, -1);
		lua_pop(L, 1); /* the collector (slot 2) keeps the pollable alive */
		if (!use)
			return luaL_argerror(L, 2, "pollable() gave no pollable");
	}
	err = gh_backend_wait(b, use);
	if (err)
		return step_result(L, b, err);
	push_result(L, &b->result);
	if (lp.failed) {
		lua_pushvalue(L, 3);
		lua_setfield(L, -2, "poll_error");
	}
	return 1;
}

/* backend:cleanup() -> result: reaps what is left; the stream hashes are final after it. */
static int l_backend_cleanup(lua_State *L)
{
	struct gh_backend *b = check_open(L);

	gh_backend_cleanup(b);
	push_result(L, &b->result);
	lua_pushstring(L, b->result.stdout_hash);
	lua_setfield(L, -2, "stdout_hash");
	lua_pushstring(L, b->result.stderr_hash);
	lua_setfield(L, -2, "stderr_hash");
	return 1;
}

/* backend:metadata() -> {backend, isolation [, wait_all = true [, wait_all_timeout_ms]] [, guest
 * = {mounted, errors, memlock_raised}]} */
static int l_backend_metadata(lua_State *L)
{
	struct gh_backend *b = check_open(L);
	const struct gh_guest_report *g = &b->guest;
	int i;

	lua_createtable(L, 0, 3);
	lua_pushstring(L, b->ops->name);
	lua_setfield(L, -2, "backend");
	lua_pushstring(L, b->ops->isolation);
	lua_setfield(L, -2, "isolation");
	if (b->cfg.wait_all)
		gh_l_setbool(L, "wait_all", 1);
	if (b->cfg.wait_all && b->cfg.wait_all_ms >= 0)
		gh_l_setint(L, "wait_all_timeout_ms", b->cfg.wait_all_ms);
	if (!g->active)
		return 1;
	lua_createtable(L, 0, 3);
	lua_createtable(L, g->mounted_count, 0);
	for (i = 0; i < g->mounted_count; i++) {
		lua_pushstring(L, g->mounted[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "mounted");
	lua_createtable(L, g->error_count, 0);
	for (i = 0; i < g->error_count; i++) {
		lua_pushstring(L, g->errors[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "errors");
	lua_pushboolean(L, g->memlock_raised);
	lua_setfield(L, -2, "memlock_raised");
	lua_setfield(L, -2, "guest");
	return 1;
}

/* backend:close(): idempotent; also __gc and __close. Reaps a command still running. */
static int l_backend_close(lua_State *L)
{
	struct lbackend *lb = luaL_checkudata(L, 1, BACKEND_MT);

	gh_backend_free(lb->b);
	lb->b = NULL;
	return 0;
}

static int l_backend_index_name(lua_State *L)
{
	struct gh_backend *b = check_open(L);

	lua_pushstring(L, b->ops->name);
	return 1;
}

int luaopen_glasshouse_backend(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "prepare", l_backend_prepare },   { "start", l_backend_start },
		{ "wait", l_backend_wait },	    { "cleanup", l_backend_cleanup },
		{ "metadata", l_backend_metadata }, { "close", l_backend_close },
		{ "name", l_backend_index_name },   { NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", l_backend_close },
		{ "__close", l_backend_close },
		{ NULL, NULL },
	};
	static const luaL_Reg fns[] = {
		{ "new", l_backend_new },
		{ NULL, NULL },
	};

	return gh_l_newclass(L, BACKEND_MT, meta, methods, fns);
}
