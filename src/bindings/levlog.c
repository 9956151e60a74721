// SPDX-License-Identifier: MIT
/* The event log, both ways: collector.event_log's writer object (the tap's file), and
 * collector.replay's collector whose records come from a log (c:next_line). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/bindings.h"
#include "bindings/lcollector.h"

#define EVLOG_MT "glasshouse.EventLog"

/* An event log being written (collector.event_log). */
struct levlog {
	struct gh_evlog l;
	int open;
};

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

struct gh_evlog *gh_l_evlog_check(lua_State *L, int idx, const char *where)
{
	struct levlog *ll = luaL_checkudata(L, idx, EVLOG_MT);

	if (!ll->open)
		luaL_error(L, "%s: the event log is closed", where);
	return &ll->l;
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
	struct lcollector *lc = gh_l_collector_check(L, 1);
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

const luaL_Reg gh_l_collector_log_methods[] = {
	{ "next_line", l_next_line },
	{ NULL, NULL },
};

const luaL_Reg gh_l_collector_log_funcs[] = {
	{ "event_log", l_event_log },
	{ "replay", l_replay },
	{ NULL, NULL },
};

void gh_l_evlog_class(lua_State *L)
{
	static const luaL_Reg meth[] = {
		{ "write", l_log_write },
		{ "stats", l_log_stats },
		{ "close", l_log_close },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", l_log_gc },
		{ "__close", l_log_gc },
		{ NULL, NULL },
	};
	static const luaL_Reg none[] = { { NULL, NULL } };

	gh_l_newclass(L, EVLOG_MT, meta, meth, none);
	lua_pop(L, 1);
}
