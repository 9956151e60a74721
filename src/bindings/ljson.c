// SPDX-License-Identifier: MIT
/* The ordered JSON encoder: walks Lua values, honouring the key order run.lua declares. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "bindings/bindings.h"

/* Tables nested deeper than this are refused: receipts are a handful deep, and the walk recurses
 * in C. */
#define MAX_DEPTH 64
/* Lua stack slots one level of the walk uses at most (see encode_object), with room to spare. */
#define LEVEL_SLOTS 12

/* One step of the path to the value being written: a key, or an array index when key is NULL. */
struct seg {
	const char *key;
	size_t klen;
	lua_Integer index;
};

struct enc {
	lua_State *L;
	struct gh_buf out;
	int indent;			/* spaces per level; 0: compact */
	int depth;			/* tables entered */
	struct seg path[MAX_DEPTH + 1]; /* path[i]: the step taken out of table i, for messages */
	const void *open[MAX_DEPTH];	/* the tables entered, to tell a cycle from sharing */
};

/* An object's key, pointing into a Lua string the walk keeps anchored. */
struct key {
	const char *s;
	size_t len;
};

enum jtype { JT_AUTO, JT_ARRAY, JT_OBJECT };

static void oom(struct enc *e)
{
	gh_l_nomem(e->L, "json.encode");
}

static void put(struct enc *e, const char *s, size_t n)
{
	if (gh_buf_append(&e->out, s, n))
		oom(e);
}

static void newline(struct enc *e, int depth)
{
	static const char spaces[] = "                                ";
	size_t n;

	if (!e->indent)
		return;
	put(e, "\n", 1);
	for (n = (size_t)depth * (size_t)e->indent; n; n -= n < 32 ? n : 32)
		put(e, spaces, n < 32 ? n : 32);
}

/* Raises "json.encode: <what> at value.<the first nseg steps of the path>". */
static int fail_at(struct enc *e, const char *what, int nseg)
{
	lua_State *L = e->L;
	luaL_Buffer p;
	int i;

	luaL_checkstack(L, LUA_MINSTACK, "json.encode");
	luaL_buffinit(L, &p);
	luaL_addstring(&p, "json.encode: ");
	luaL_addstring(&p, what);
	luaL_addstring(&p, " at value");
	for (i = 1; i <= nseg; i++) {
		luaL_addchar(&p, '.');
		if (e->path[i].key) {
			luaL_addlstring(&p, e->path[i].key, e->path[i].klen);
		} else {
			lua_pushinteger(L, e->path[i].index);
			luaL_addvalue(&p);
		}
	}
	luaL_pushresult(&p);
	return lua_error(L);
}

/* Raises naming the value being written: the path down to it. */
static int fail(struct enc *e, const char *what)
{
	return fail_at(e, what, e->depth);
}

static void encode(struct enc *e, int idx);

/* The value at the stack top, as the path's last step names it, written; then popped. */
static void encode_top(struct enc *e)
{
	encode(e, lua_gettop(e->L));
	lua_pop(e->L, 1);
}

static void encode_array(struct enc *e, int idx, lua_Integer n)
{
	lua_Integer i;

	put(e, "[", 1);
	for (i = 1; i <= n; i++) {
		if (i > 1)
			put(e, ",", 1);
		newline(e, e->depth);
		e->path[e->depth] = (struct seg){ .index = i };
		lua_rawgeti(e->L, idx, i);
		encode_top(e);
	}
	if (n)
		newline(e, e->depth - 1);
	put(e, "]", 1);
}

/* Byte order, so keys holding NULs sort too; for other keys it is strcmp's order. */
static int cmp_keys(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Writes key: value unless the value is nil. Raw access: no metamethod runs mid-walk. */
static void encode_member(struct enc *e, int idx, const struct key *k, int *first)
{
	lua_pushlstring(e->L, k->s, k->len);
	if (lua_rawget(e->L, idx) == LUA_TNIL) {
		lua_pop(e->L, 1);
		return;
	}
	if (!*first)
		put(e, ",", 1);
	*first = 0;
	newline(e, e->depth);
	if (gh_json_string(&e->out, k->s, k->len))
		oom(e);
	put(e, e->indent ? ": " : ":", e->indent ? 2 : 1);
	e->path[e->depth] = (struct seg){ .key = k->s, .klen = k->len };
	encode_top(e);
}

/*
 * The keys of the table at idx not yet in the set at seen, sorted, in a userdata pushed on the
 * stack, so Lua's garbage collector frees it however the walk ends. Adding the keys to seen
 * anchors their strings.
 */
static struct key *rest_keys(struct enc *e, int idx, int seen, size_t *nrest)
{
	lua_State *L = e->L;
	struct key *rest;
	size_t cap = 0, n = 0;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		cap++;
	}
	rest = lua_newuserdatauv(L, (cap ? cap : 1) * sizeof(*rest), 0);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			fail_at(e,
				lua_pushfstring(L, "object key of type %s (keys must be strings)",
						luaL_typename(L, -1)),
				e->depth - 1);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, seen) != LUA_TNIL) {
			lua_pop(L, 1);
			continue;
		}
		lua_pop(L, 1);
		if (n == cap) /* only if a finalizer added keys since the count */
			fail_at(e, "table changed while being encoded", e->depth - 1);
		rest[n].s = lua_tolstring(L, -1, &rest[n].len);
		n++;
		lua_pushvalue(L, -1);
		lua_pushboolean(L, 1);
		lua_rawset(L, seen);
	}
	if (n > 1)
		qsort(rest, n, sizeof(*rest), cmp_keys);
	*nrest = n;
	return rest;
}

/* Keys named in the metatable's __jsonorder come first, in that order; the rest sorted. */
static void encode_object(struct enc *e, int idx)
{
	lua_State *L = e->L;
	struct key *rest, k;
	size_t nrest, i;
	int first = 1, seen;

	lua_newtable(L); /* keys already written, which also anchors them */
	seen = lua_gettop(L);
	put(e, "{", 1);
	if (luaL_getmetafield(L, idx, "__jsonorder") == LUA_TTABLE) {
		for (i = 1; lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING; i++) {
			k.s = lua_tolstring(L, -1, &k.len);
			lua_pushvalue(L, -1);
			/* A name listed twice is written once. */
			if (lua_rawget(L, seen) == LUA_TNIL) {
				lua_pushvalue(L, -2);
				lua_pushboolean(L, 1);
				lua_rawset(L, seen);
				encode_member(e, idx, &k, &first);
			}
			lua_pop(L, 2);
		}
	}
	lua_settop(L, seen);
	rest = rest_keys(e, idx, seen, &nrest);
	for (i = 0; i < nrest; i++)
		encode_member(e, idx, &rest[i], &first);
	if (!first)
		newline(e, e->depth - 1);
	put(e, "}", 1);
	lua_settop(L, seen - 1);
}

/* __jsontype from the metatable of the table at idx: "array", "object", or neither. */
static enum jtype meta_type(lua_State *L, int idx)
{
	enum jtype t = JT_AUTO;

	if (luaL_getmetafield(L, idx, "__jsontype") != LUA_TNIL) {
		if (lua_type(L, -1) == LUA_TSTRING)
			t = !strcmp(lua_tostring(L, -1), "array") ? JT_ARRAY : JT_OBJECT;
		lua_pop(L, 1);
	}
	return t;
}

/* Unmarked: an array when the keys are exactly 1..n, n > 0; an object when none is in 1..n
 * (n is the border lua_rawlen finds). */
static enum jtype guess_type(struct enc *e, int idx, lua_Integer n)
{
	lua_State *L = e->L;
	lua_Integer count = 0, items = 0, k;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		count++;
		k = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
		items += k >= 1 && k <= n;
	}
	if (n > 0 && items == n && count == n)
		return JT_ARRAY; /* n distinct keys, all in 1..n: exactly 1..n */
	if (items)
		fail(e, "table mixes list items and keys");
	return JT_OBJECT;
}

static void encode_table(struct enc *e, int idx)
{
	lua_State *L = e->L;
	const void *t = lua_topointer(L, idx);
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
	enum jtype type;
	int i;

	/* Sharing a table between places is fine; meeting one inside itself is not. */
	for (i = 0; i < e->depth; i++)
		if (e->open[i] == t)
			fail(e, "cycle");
	if (e->depth >= MAX_DEPTH)
		fail(e, lua_pushfstring(L, "tables nested more than %d deep", MAX_DEPTH));
	luaL_checkstack(L, LEVEL_SLOTS, "json.encode");
	type = meta_type(L, idx);
	if (type == JT_AUTO)
		type = guess_type(e, idx, n);
	e->open[e->depth++] = t;
	if (type == JT_ARRAY)
		encode_array(e, idx, n);
	else
		encode_object(e, idx);
	e->depth--;
}

static void encode(struct enc *e, int idx)
{
	lua_State *L = e->L;
	const char *s;
	size_t len;
	int err;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		put(e, "null", 4);
		break;
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) != NULL)
			fail(e, "cannot encode a light userdata");
		put(e, "null", 4);
		break;
	case LUA_TBOOLEAN:
		lua_toboolean(L, idx) ? put(e, "true", 4) : put(e, "false", 5);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			err = gh_json_integer(&e->out, (long long)lua_tointeger(L, idx));
		else
			err = gh_json_double(&e->out, (double)lua_tonumber(L, idx));
		if (err == -EDOM)
			fail(e, "cannot encode NaN or infinity");
		if (err)
			oom(e);
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if (gh_json_string(&e->out, s, len))
			oom(e);
		break;
	case LUA_TTABLE:
		encode_table(e, idx);
		break;
	default:
		fail(e, lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx)));
	}
}

/* Runs the walk and pushes the text; any raise in here unwinds to gh_l_json_encode. */
static int encode_protected(lua_State *L)
{
	struct enc *e = lua_touserdata(L, 1);

	encode(e, 2);
	lua_pushlstring(L, e->out.data ? e->out.data : "", e->out.len);
	return 1;
}

/*
 * core.json_encode(value [, {compact = bool}]) -> string; raises on values JSON cannot hold.
 * The walk runs under lua_pcall because a raise can come from anywhere in it (a value JSON cannot
 * hold, a cycle, out of memory in Lua or in the buffer) and the output buffer is the one thing it
 * mallocs: freeing it here, on every way out, is simpler than anchoring it in a userdata. All the
 * walk's other allocations (key lists, seen-sets) are Lua objects the collector reclaims.
 */
int gh_l_json_encode(lua_State *L)
{
	struct enc e = { .L = L, .indent = 2 };
	int status;

	luaL_checkany(L, 1);
	if (lua_istable(L, 2) && lua_getfield(L, 2, "compact") != LUA_TNIL && lua_toboolean(L, -1))
		e.indent = 0;
	lua_settop(L, 1);
	lua_pushcfunction(L, encode_protected);
	lua_pushlightuserdata(L, &e);
	lua_pushvalue(L, 1);
	status = lua_pcall(L, 2, 1, 0);
	gh_buf_free(&e.out);
	if (status != LUA_OK)
		return lua_error(L);
	return 1;
}

/* core.json_unescape_bytes(text) -> text with \udc80..\udcff escapes turned back into bytes. */
int gh_l_json_unescape_bytes(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, n ? n : 1);

	luaL_pushresultsize(&b, gh_json_unescape_bytes(s, n, out));
	return 1;
}
