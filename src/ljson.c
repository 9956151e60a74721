// SPDX-License-Identifier: MIT
/* The ordered JSON encoder: walks Lua values, honouring the key order run.lua declares. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lglasshouse.h"

#define MAX_DEPTH 64

struct enc {
	lua_State *L;
	struct gh_buf out;
	int indent;		/* spaces per level; 0: compact */
	int depth;
	const char *path[MAX_DEPTH + 1];	/* keys down to the value, for messages */
};

static void put(struct enc *e, const char *s, size_t n)
{
	if (gh_buf_append(&e->out, s, n))
		luaL_error(e->L, "json.encode: out of memory");
}

static void newline(struct enc *e, int depth)
{
	int i;

	if (!e->indent)
		return;
	put(e, "\n", 1);
	for (i = 0; i < depth * e->indent; i++)
		put(e, " ", 1);
}

static int fail(struct enc *e, const char *what)
{
	struct gh_buf p = { 0 };
	int i;

	gh_buf_puts(&p, "value");
	for (i = 1; i <= e->depth; i++) {
		gh_buf_putc(&p, '.');
		gh_buf_puts(&p, e->path[i] ? e->path[i] : "?");
	}
	lua_pushfstring(e->L, "json.encode: %s at %s", what, p.data ? p.data : "value");
	gh_buf_free(&p);
	return lua_error(e->L);
}

static void encode(struct enc *e, int idx);

/* The metatable field name of t (at idx), as a string, or NULL. Leaves the stack as it was. */
static const char *meta_string(lua_State *L, int idx, const char *field)
{
	const char *s = NULL;

	if (luaL_getmetafield(L, idx, field) != LUA_TNIL) {
		s = lua_tostring(L, -1); /* metatables are long-lived: the string stays anchored */
		lua_pop(L, 1);
	}
	return s;
}

static void encode_array(struct enc *e, int idx, lua_Integer n)
{
	char label[24];
	lua_Integer i;

	put(e, "[", 1);
	for (i = 1; i <= n; i++) {
		if (i > 1)
			put(e, ",", 1);
		newline(e, e->depth);
		snprintf(label, sizeof(label), "%lld", (long long)i);
		e->path[e->depth] = label;
		lua_rawgeti(e->L, idx, i);
		encode(e, lua_gettop(e->L));
		lua_pop(e->L, 1);
	}
	if (n)
		newline(e, e->depth - 1);
	put(e, "]", 1);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void encode_member(struct enc *e, int idx, const char *key, size_t klen, int *first)
{
	lua_getfield(e->L, idx, key);
	if (lua_isnil(e->L, -1)) {
		lua_pop(e->L, 1);
		return;
	}
	if (!*first)
		put(e, ",", 1);
	*first = 0;
	newline(e, e->depth);
	if (gh_json_string(&e->out, key, klen))
		luaL_error(e->L, "json.encode: out of memory");
	put(e, e->indent ? ": " : ":", e->indent ? 2 : 1);
	e->path[e->depth] = key;
	encode(e, lua_gettop(e->L));
	lua_pop(e->L, 1);
}

/* Keys named in the metatable's __jsonorder come first, in that order; the rest sorted. */
static void encode_object(struct enc *e, int idx)
{
	lua_State *L = e->L;
	const char **rest;
	size_t nrest = 0, cap = 0, i, klen;
	int first = 1, order, seen, t;

	lua_newtable(L); /* keys already written */
	seen = lua_gettop(L);
	put(e, "{", 1);
	t = luaL_getmetafield(L, idx, "__jsonorder");
	if (t == LUA_TTABLE) {
		order = lua_gettop(L);
		for (i = 1; lua_rawgeti(L, order, (lua_Integer)i) == LUA_TSTRING; i++) {
			const char *k = lua_tolstring(L, -1, &klen);

			lua_pushvalue(L, -1);
			lua_pushboolean(L, 1);
			lua_rawset(L, seen);
			encode_member(e, idx, k, klen, &first);
			lua_pop(L, 1);
		}
		lua_pop(L, 1); /* the non-string that ended the list */
	}
	if (t != LUA_TNIL)
		lua_pop(L, 1);
	rest = NULL;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			free(rest);
			fail(e, lua_pushfstring(L, "object key of type %s (keys must be strings)",
						luaL_typename(L, -1)));
		}
		lua_pushvalue(L, -1);
		if (lua_rawget(L, seen) != LUA_TNIL) {
			lua_pop(L, 1);
			continue;
		}
		lua_pop(L, 1);
		if (nrest == cap) {
			const char **grown = realloc(rest, (cap ? cap * 2 : 16) * sizeof(*rest));

			if (!grown) {
				free(rest);
				luaL_error(L, "json.encode: out of memory");
			}
			rest = grown;
			cap = cap ? cap * 2 : 16;
		}
		rest[nrest++] = lua_tostring(L, -1); /* anchored by the table being encoded */
	}
	if (nrest) /* qsort's base may not be NULL, even for no items */
		qsort(rest, nrest, sizeof(*rest), cmp_keys);
	for (i = 0; i < nrest; i++)
		encode_member(e, idx, rest[i], strlen(rest[i]), &first);
	free(rest);
	if (!first)
		newline(e, e->depth - 1);
	put(e, "}", 1);
	lua_settop(L, seen - 1);
}

/* Arrays: marked by __jsontype = "array", or a non-empty sequence with no other keys. */
static void encode_table(struct enc *e, int idx)
{
	lua_State *L = e->L;
	const char *type = meta_string(L, idx, "__jsontype");
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;

	if (e->depth >= MAX_DEPTH)
		fail(e, "tables nested too deep (a cycle?)");
	if (!type) {
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			lua_pop(L, 1);
			count++;
		}
		type = (n > 0 && count == n) ? "array" : "object";
		if (n > 0 && count != n)
			fail(e, "table mixes list items and keys");
	}
	e->depth++;
	if (!strcmp(type, "array"))
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
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if (gh_json_string(&e->out, s, len))
			luaL_error(L, "json.encode: out of memory");
		break;
	case LUA_TTABLE:
		encode_table(e, idx);
		break;
	default:
		fail(e, lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx)));
	}
}

static int encode_protected(lua_State *L)
{
	struct enc *e = lua_touserdata(L, 1);

	encode(e, 2);
	return 0;
}

/* core.json_encode(value [, {compact = bool}]) -> string; raises on values JSON cannot hold. */
int gh_l_json_encode(lua_State *L)
{
	struct enc e = { .L = L, .indent = 2 };
	int status;

	luaL_checkany(L, 1);
	if (lua_istable(L, 2) && lua_getfield(L, 2, "compact") != LUA_TNIL && lua_toboolean(L, -1))
		e.indent = 0;
	lua_settop(L, 1);
	/* Run the walk protected so the buffer is freed when a value cannot be encoded. */
	lua_pushcfunction(L, encode_protected);
	lua_pushlightuserdata(L, &e);
	lua_pushvalue(L, 1);
	status = lua_pcall(L, 2, 0, 0);
	if (status != LUA_OK) {
		gh_buf_free(&e.out);
		return lua_error(L);
	}
	lua_pushlstring(L, e.out.data ? e.out.data : "", e.out.len);
	gh_buf_free(&e.out);
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
