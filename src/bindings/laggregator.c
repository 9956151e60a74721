// SPDX-License-Identifier: MIT
/* glasshouse.aggregator: the C aggregator as a Lua object; result() returns the receipt's parts. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "core/aggregator.h"
#include "backend/backend.h"
#include "bindings/laggregator.h"
#include "bindings/bindings.h"

struct gh_agg *gh_l_check_agg(lua_State *L, int idx)
{
	struct gh_agg **a = luaL_checkudata(L, idx, GH_AGG_MT);

	if (!*a)
		luaL_error(L, "aggregator: the aggregator is closed");
	return *a;
}

struct gh_agg **gh_l_agg_slot(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, GH_AGG_MT);
}

/* aggregator.new([base_ns]) -> aggregator: base_ns (CLOCK_MONOTONIC) is the command's start. */
static int l_agg_new(lua_State *L)
{
	lua_Integer base = luaL_optinteger(L, 1, 0);
	struct gh_agg **a = lua_newuserdatauv(L, sizeof(*a), 0);

	*a = NULL;
	luaL_setmetatable(L, GH_AGG_MT);
	*a = gh_agg_new((uint64_t)base);
	if (!*a)
		return gh_l_nomem(L, "aggregator.new");
	return 1;
}

/* agg:root(pid, ppid, cwd, exe): the command's process, before any record about it. */
static int l_agg_root(lua_State *L)
{
	struct gh_agg *a = gh_l_check_agg(L, 1);
	lua_Integer pid = luaL_checkinteger(L, 2), ppid = luaL_checkinteger(L, 3);
	const char *cwd = luaL_optstring(L, 4, NULL), *exe = luaL_optstring(L, 5, NULL);

	if (gh_agg_root(a, (uint32_t)pid, (uint32_t)ppid, cwd, exe))
		return gh_l_nomem(L, "aggregator:root");
	return 0;
}

/* agg:set_base(ns): the command's start on the monotonic clock (start_offset_ms counts from it). */
static int l_agg_set_base(lua_State *L)
{
	struct gh_agg *a = gh_l_check_agg(L, 1);

	gh_agg_set_base(a, (uint64_t)luaL_checkinteger(L, 2));
	return 0;
}

/* agg:sock_bytes(sock, sent, received): a socket's byte counts (an event log's sockets line). */
static int l_agg_sock_bytes(lua_State *L)
{
	struct gh_agg *a = gh_l_check_agg(L, 1);

	if (gh_agg_sock_bytes(a, (uint64_t)luaL_checkinteger(L, 2),
			      (uint64_t)luaL_checkinteger(L, 3), (uint64_t)luaL_checkinteger(L, 4)))
		return gh_l_nomem(L, "aggregator:sock_bytes");
	return 0;
}

void gh_l_push_istr(lua_State *L, const struct gh_istr *s)
{
	if (s)
		lua_pushlstring(L, s->s, s->len);
	else
		lua_pushnil(L);
}

void gh_l_setistr(lua_State *L, const char *k, const struct gh_istr *s)
{
	gh_l_push_istr(L, s);
	lua_setfield(L, -2, k);
}

/* argv bytes, NUL-separated, as a list (a final NUL ends the last argument). */
void gh_l_push_argv(lua_State *L, const char *argv, size_t len)
{
	size_t i = 0;
	int n = 0;

	lua_createtable(L, 4, 0);
	while (i < len) {
		const char *nul = memchr(argv + i, '\0', len - i);
		size_t end = nul ? (size_t)(nul - argv) : len;

		lua_pushlstring(L, argv + i, end - i);
		lua_rawseti(L, -2, ++n);
		i = end + 1;
	}
}

/* Exit status fields from a wait status. */
void gh_l_set_status(lua_State *L, int status)
{
	if ((status & 0x7f) == 0) {
		gh_l_setint(L, "exit_code", (status >> 8) & 0xff);
	} else {
		gh_l_setstr(L, "signal", gh_signal_name(status & 0x7f));
		gh_l_setint(L, "signal_number", status & 0x7f);
	}
}

static void push_proc(lua_State *L, const struct gh_agg *a, const struct gh_proc *p)
{
	size_t i;

	lua_createtable(L, 0, 10);
	gh_l_setint(L, "pid", p->pid);
	gh_l_setint(L, "ppid", p->ppid);
	gh_l_setistr(L, "exe", p->exe);
	gh_l_push_argv(L, p->argv, p->argv_len);
	lua_setfield(L, -2, "argv");
	gh_l_setistr(L, "working_dir", p->cwd);
	lua_pushboolean(L, p->argv_truncated);
	lua_setfield(L, -2, "argv_truncated");
	if (p->exited)
		gh_l_set_status(L, p->status);
	gh_l_setstr(L, "state", p->exited ? "exited" : "running");
	gh_l_setint(L, "start_offset_ms",
		    p->start_ns > gh_agg_base(a)
			    ? (lua_Integer)((p->start_ns - gh_agg_base(a)) / 1000000)
			    : 0);
	lua_createtable(L, (int)p->nfexec, 0);
	for (i = 0; i < p->nfexec; i++) {
		lua_createtable(L, 0, 2);
		gh_l_setistr(L, "path", p->fexec[i].path);
		gh_l_setstr(L, "error", gh_errno_name(p->fexec[i].err));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "failed_execs");
	lua_createtable(L, (int)p->nexecs, 0);
	for (i = 0; i < p->nexecs; i++) {
		const struct gh_exec *e = &p->execs[i];

		lua_createtable(L, 0, 5);
		gh_l_setistr(L, "exe", e->exe);
		gh_l_push_argv(L, e->argv, e->argv_len);
		lua_setfield(L, -2, "argv");
		gh_l_setistr(L, "working_dir", e->cwd);
		gh_l_setistr(L, "script", e->script);
		lua_pushboolean(L, e->argv_truncated);
		lua_setfield(L, -2, "argv_truncated");
		gh_l_setint(L, "time_offset_ms",
			    e->time_ns > gh_agg_base(a)
				    ? (lua_Integer)((e->time_ns - gh_agg_base(a)) / 1000000)
				    : 0);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "execs");
	gh_l_setistr(L, "script", p->script);
	gh_l_setistr(L, "exe_real", p->exe_real);
	if (p->exec.has_creds) {
		gh_l_setint(L, "uid", p->exec.uid);
		gh_l_setint(L, "gid", p->exec.gid);
		gh_l_setint(L, "euid", p->exec.euid);
	}
	if (p->exec.has_ident) {
		lua_createtable(L, 0, 4);
		gh_l_setint(L, "dev", (lua_Integer)p->exec.dev);
		gh_l_setint(L, "ino", (lua_Integer)p->exec.ino);
		gh_l_setint(L, "ctime_sec", p->exec.ctime_sec);
		gh_l_setint(L, "ctime_nsec", p->exec.ctime_nsec);
		lua_setfield(L, -2, "exe_ident");
	}
}

static void push_set(lua_State *L, const struct gh_agg *a, enum gh_pathset set, const char *k)
{
	size_t i, n;
	const struct gh_istr *const *items = gh_agg_set(a, set, &n);

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		gh_l_push_istr(L, items[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, k);
}

static void push_filesystem(lua_State *L, const struct gh_agg *a)
{
	size_t i, n;
	const struct gh_rename *rn;
	const struct gh_failed_op *fo;

	lua_createtable(L, 0, 7);
	push_set(L, a, GH_SET_READS, "reads");
	push_set(L, a, GH_SET_WRITES, "writes");
	push_set(L, a, GH_SET_DELETES, "deletes");
	push_set(L, a, GH_SET_CREATED, "created");
	push_set(L, a, GH_SET_DIRS, "directories");
	rn = gh_agg_renames(a, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct gh_rename *r = &rn[i];

		lua_createtable(L, 0, 2);
		gh_l_setistr(L, "from", r->from);
		gh_l_setistr(L, "to", r->to);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "renames");
	fo = gh_agg_failed(a, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct gh_failed_op *f = &fo[i];

		lua_createtable(L, 0, 3);
		gh_l_setistr(L, "path", f->path);
		gh_l_setstr(L, "op", f->op);
		gh_l_setstr(L, "error", gh_errno_name(f->err));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "failed");
}

static void push_network(lua_State *L, const struct gh_agg *a)
{
	const struct gh_attempt *at;
	const struct gh_server *sv;
	const struct gh_accepted *ac;
	uint64_t sent, received;
	size_t i, n, shown = 0;

	lua_createtable(L, 0, 5);
	at = gh_agg_attempts(a, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct gh_attempt *e = &at[i];

		if (!e->count)
			continue; /* an in_progress connect whose outcome came: counted there */
		lua_createtable(L, 0, 8);
		gh_l_setistr(L, "dst", e->dst);
		gh_l_setstr(L, "protocol", e->protocol);
		gh_l_setstr(L, "result", e->result);
		gh_l_setstr(L, "op", e->op);
		gh_l_setint(L, "pid", e->pid);
		gh_l_setint(L, "count", (lua_Integer)e->count);
		gh_l_setint(L, "bytes_sent", (lua_Integer)e->sent);
		gh_l_setint(L, "bytes_received", (lua_Integer)e->received);
		lua_rawseti(L, -2, (lua_Integer)++shown);
	}
	lua_setfield(L, -2, "attempts");
	sv = gh_agg_servers(a, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct gh_server *s = &sv[i];

		lua_createtable(L, 0, 4);
		gh_l_setistr(L, "address", s->address);
		gh_l_setstr(L, "protocol", s->protocol);
		gh_l_setstr(L, "op", s->op);
		gh_l_setint(L, "pid", s->pid);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "servers");
	ac = gh_agg_accepted(a, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct gh_accepted *e = &ac[i];

		lua_createtable(L, 0, 7);
		gh_l_setistr(L, "peer", e->peer);
		gh_l_setistr(L, "local", e->local);
		gh_l_setstr(L, "protocol", e->protocol);
		gh_l_setint(L, "pid", e->pid);
		gh_l_setint(L, "count", (lua_Integer)e->count);
		gh_l_setint(L, "bytes_sent", (lua_Integer)e->sent);
		gh_l_setint(L, "bytes_received", (lua_Integer)e->received);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "accepted");
	gh_agg_net_totals(a, &sent, &received);
	gh_l_setint(L, "bytes_sent", (lua_Integer)sent);
	gh_l_setint(L, "bytes_received", (lua_Integer)received);
}

/* agg:result() -> {processes, filesystem, network}: the shapes receipt.build takes. */
static int l_agg_result(lua_State *L)
{
	struct gh_agg *a = gh_l_check_agg(L, 1);
	struct gh_proc *const *procs;
	size_t i, n;

	if (gh_agg_error(a))
		return gh_l_nomem(L, "aggregator:result");
	lua_createtable(L, 0, 3);
	procs = gh_agg_procs(a, &n);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		push_proc(L, a, procs[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "processes");
	push_filesystem(L, a);
	lua_setfield(L, -2, "filesystem");
	push_network(L, a);
	lua_setfield(L, -2, "network");
	return 1;
}

/* agg:stats() -> {events, truncated, unknown_pid, strings, string_bytes} */
static int l_agg_stats(lua_State *L)
{
	struct gh_agg_stats st;

	gh_agg_stats(gh_l_check_agg(L, 1), &st);
	lua_createtable(L, 0, 5);
	gh_l_setint(L, "events", (lua_Integer)st.events);
	gh_l_setint(L, "truncated", (lua_Integer)st.truncated);
	gh_l_setint(L, "unknown_pid", (lua_Integer)st.unknown_pid);
	gh_l_setint(L, "strings", (lua_Integer)st.strings);
	gh_l_setint(L, "string_bytes", (lua_Integer)st.string_bytes);
	return 1;
}

static int l_agg_gc(lua_State *L)
{
	struct gh_agg **a = luaL_checkudata(L, 1, GH_AGG_MT);

	gh_agg_free(*a);
	*a = NULL; /* closed: methods raise, a second close does nothing */
	return 0;
}

int luaopen_glasshouse_aggregator(lua_State *L)
{
	static const luaL_Reg meth[] = {
		{ "root", l_agg_root },
		{ "set_base", l_agg_set_base },
		{ "result", l_agg_result },
		{ "stats", l_agg_stats },
		{ "close", l_agg_gc },
		{ "sock_bytes", l_agg_sock_bytes },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", l_agg_gc },
		{ "__close", l_agg_gc },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "new", l_agg_new },
		{ NULL, NULL },
	};

	return gh_l_newclass(L, GH_AGG_MT, meta, meth, funcs);
}
