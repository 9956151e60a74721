// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for gh.json. Input not starting with a NUL byte is JSON text for gh.json.decode
 * (the byte unescape, then lua-cjson): it must decode or fail with a "json.decode: " error, and a
 * value that decodes must come back the same through encode and decode (or be one the encoder
 * refuses by design: NaN, infinity, nesting past 64). Input starting with a NUL is a program that
 * builds a Lua value (nested and cyclic tables, marked arrays and objects, bad keys, strings of any
 * bytes, integers, floats with NaN and infinity, booleans, json.null): encoding it must give text
 * gh.json.decode reads, or a "json.encode: " error. Any other outcome aborts.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/bindings.h"

#ifndef GH_SRC_DIR
#define GH_SRC_DIR "."
#endif

enum { NREG = 8 }; /* the builder's registers */

static lua_State *S; /* one state for all inputs, as glasshouse has one per run */

/* Just the JSON functions of glasshouse.core: the rest would pull in the backends. */
static int open_core(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "json_encode", gh_l_json_encode },
		{ "json_unescape_bytes", gh_l_json_unescape_bytes },
		{ NULL, NULL },
	};

	luaL_newlib(L, fns);
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	return 1;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_json: %s: %s\n", what, lua_tostring(S, -1));
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	S = luaL_newstate();
	if (!S)
		abort();
	luaL_openlibs(S);
	luaL_getsubtable(S, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(S, open_core);
	lua_setfield(S, -2, "glasshouse.core");
	lua_getglobal(S, "package");
	lua_pushstring(S, GH_SRC_DIR "/lua/?.lua");
	lua_setfield(S, -2, "path");
	lua_settop(S, 0);
	if (luaL_dofile(S, GH_SRC_DIR "/tests/fuzz/fuzz_json.lua"))
		die("loading the checks");
	return 0;
}

/* Up to 8 bytes of input, little-endian; fewer when the input ends. */
static uint64_t take(const uint8_t **p, size_t *n, size_t want)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < want && *n; i++, (*p)++, (*n)--)
		v |= (uint64_t)(*p)[0] << (8 * i);
	return v;
}

/* Pushes a string of up to 15 input bytes, any bytes at all. */
static void take_string(const uint8_t **p, size_t *n)
{
	size_t len = take(p, n, 1) % 16;

	len = len < *n ? len : *n;
	lua_pushlstring(S, (const char *)*p, len);
	*p += len;
	*n -= len;
}

/* regs[r] = the value on top (popped). */
static void set_reg(int regs, int r)
{
	lua_rawseti(S, regs, r + 1);
}

/* t[k] = v for registers t, k, v; raw, and skipped where Lua would raise (k nil or NaN). */
static void set_member(int regs, int t, int k, int v)
{
	if (lua_rawgeti(S, regs, t + 1) == LUA_TTABLE && lua_rawgeti(S, regs, k + 1) != LUA_TNIL &&
	    lua_rawequal(S, -1, -1)) {
		lua_rawgeti(S, regs, v + 1);
		lua_rawset(S, -3);
	}
	lua_settop(S, regs);
}

/* Runs the builder program at p; leaves register 0 on the stack. */
static void build(const uint8_t *p, size_t n)
{
	int regs, r, a;
	double d;
	uint64_t u;

	lua_createtable(S, NREG, 0);
	regs = lua_gettop(S);
	while (n) {
		r = *p & (NREG - 1);
		a = (*p >> 3) % 12;
		p++, n--;
		switch (a) {
		case 0: /* nil */
			lua_pushnil(S);
			break;
		case 1:
			lua_pushboolean(S, take(&p, &n, 1) & 1);
			break;
		case 2:
			lua_pushinteger(S, (lua_Integer)take(&p, &n, 8));
			break;
		case 3: /* any double, NaN and infinities too */
			u = take(&p, &n, 8);
			memcpy(&d, &u, sizeof(d));
			lua_pushnumber(S, d);
			break;
		case 4:
			take_string(&p, &n);
			break;
		case 5: /* json.null */
			lua_pushlightuserdata(S, NULL);
			break;
		case 6:
			lua_newtable(S);
			break;
		case 7: /* a table marked __jsontype = array, object or something else */
			lua_newtable(S);
			lua_createtable(S, 0, 2);
			u = take(&p, &n, 1);
			lua_pushstring(S, u % 3 == 0 ? "array" : u % 3 == 1 ? "object" : "thing");
			lua_setfield(S, -2, "__jsontype");
			if (u & 4) { /* with an order: the strings in register u >> 3 */
				lua_rawgeti(S, regs, (int)(u >> 3) % NREG + 1);
				lua_setfield(S, -2, "__jsonorder");
			}
			lua_setmetatable(S, -2);
			break;
		case 8: /* t[k] = v */
			u = take(&p, &n, 2);
			set_member(regs, r, (int)u % NREG, (int)(u >> 8) % NREG);
			continue;
		case 9: /* t[#t + 1] = v */
			u = take(&p, &n, 1);
			if (lua_rawgeti(S, regs, r + 1) == LUA_TTABLE) {
				lua_rawgeti(S, regs, (int)u % NREG + 1);
				lua_rawseti(S, -2, (lua_Integer)lua_rawlen(S, -2) + 1);
			}
			lua_settop(S, regs);
			continue;
		case 10: /* t["..."] = v */
			u = take(&p, &n, 1);
			if (lua_rawgeti(S, regs, r + 1) == LUA_TTABLE) {
				take_string(&p, &n);
				lua_rawgeti(S, regs, (int)u % NREG + 1);
				lua_rawset(S, -3);
			}
			lua_settop(S, regs);
			continue;
		default: /* copy a register: tables end up in several places, or inside themselves
			  */
			lua_rawgeti(S, regs, (int)take(&p, &n, 1) % NREG + 1);
			break;
		}
		set_reg(regs, r);
	}
	lua_rawgeti(S, regs, 1);
	lua_remove(S, regs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int compact = size & 1;

	if (size && data[0] == 0) {
		lua_getglobal(S, "encode_built");
		build(data + 1, size - 1);
	} else {
		lua_getglobal(S, "round_trip");
		lua_pushlstring(S, (const char *)data, size);
	}
	lua_pushboolean(S, compact);
	if (lua_pcall(S, 2, 0, 0) != LUA_OK)
		die("finding");
	return 0;
}
