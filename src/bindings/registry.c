// SPDX-License-Identifier: MIT
/* Registers glasshouse's modules in package.preload: the C ones and the Lua files built in. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>

#include "bindings/bindings.h"

/* The Lua files are embedded with the assembler's .incbin: no generator, exact bytes. */
#define EMBED(sym, file)                                                                           \
	__asm__(".section .rodata\n"                                                               \
		".balign 8\n"                                                                      \
		".global " #sym "\n"                                                               \
		".hidden " #sym "\n" #sym ":\n"                                                    \
		".incbin \"" file "\"\n"                                                           \
		".global " #sym "_end\n"                                                           \
		".hidden " #sym "_end\n" #sym "_end:\n"                                            \
		".byte 0\n"                                                                        \
		".previous\n");                                                                    \
	extern const char sym[], sym##_end[]

EMBED(gh_lua_init, "lua/glasshouse/init.lua");
EMBED(gh_lua_receipt, "lua/glasshouse/receipt.lua");
EMBED(gh_lua_json, "lua/glasshouse/json.lua");
EMBED(gh_lua_repl, "lua/glasshouse/repl.lua");
EMBED(gh_lua_replay, "lua/glasshouse/replay.lua");
EMBED(gh_lua_attest, "lua/glasshouse/attest.lua");
EMBED(gh_lua_args, "lua/glasshouse/args.lua");
EMBED(gh_lua_glob, "lua/glasshouse/glob.lua");
EMBED(gh_lua_enforce, "lua/glasshouse/enforce.lua");
EMBED(gh_lua_diff, "lua/glasshouse/diff.lua");
EMBED(gh_lua_show, "lua/glasshouse/show.lua");
EMBED(gh_lua_policy, "lua/glasshouse/policy.lua");

/*
 * The subcommands written in Lua (lua/NAME.lua, run by `glasshouse NAME`): the Makefile writes a
 * line GH_SCRIPT(NAME) into lua_scripts.h for each, so a new one needs no line here.
 */
#define GH_SCRIPT(name) EMBED(gh_script_##name, "lua/" #name ".lua");
#include "lua_scripts.h"
#undef GH_SCRIPT

struct embedded {
	const char *module; /* require name, or NULL for a script */
	const char *file;   /* path below lua/, also the chunk name */
	const char *start, *end;
};

static const struct embedded files[] = {
	{ "glasshouse", "glasshouse/init.lua", gh_lua_init, gh_lua_init_end },
	{ "glasshouse.receipt", "glasshouse/receipt.lua", gh_lua_receipt, gh_lua_receipt_end },
	{ "glasshouse.json", "glasshouse/json.lua", gh_lua_json, gh_lua_json_end },
	{ "glasshouse.repl", "glasshouse/repl.lua", gh_lua_repl, gh_lua_repl_end },
	{ "glasshouse.replay", "glasshouse/replay.lua", gh_lua_replay, gh_lua_replay_end },
	{ "glasshouse.attest", "glasshouse/attest.lua", gh_lua_attest, gh_lua_attest_end },
	{ "glasshouse.args", "glasshouse/args.lua", gh_lua_args, gh_lua_args_end },
	{ "glasshouse.glob", "glasshouse/glob.lua", gh_lua_glob, gh_lua_glob_end },
	{ "glasshouse.enforce", "glasshouse/enforce.lua", gh_lua_enforce, gh_lua_enforce_end },
	{ "glasshouse.diff", "glasshouse/diff.lua", gh_lua_diff, gh_lua_diff_end },
	{ "glasshouse.show", "glasshouse/show.lua", gh_lua_show, gh_lua_show_end },
	{ "glasshouse.policy", "glasshouse/policy.lua", gh_lua_policy, gh_lua_policy_end },
#define GH_SCRIPT(name) { NULL, #name ".lua", gh_script_##name, gh_script_##name##_end },
#include "lua_scripts.h"
#undef GH_SCRIPT
};

static const luaL_Reg cmodules[] = {
	{ "glasshouse.core", luaopen_glasshouse_core },
	{ "glasshouse.backend", luaopen_glasshouse_backend },
	{ "glasshouse.collector", luaopen_glasshouse_collector },
	{ "glasshouse.aggregator", luaopen_glasshouse_aggregator },
	{ "glasshouse.evidence", luaopen_glasshouse_evidence },
	{ NULL, NULL },
};

static int load_embedded(lua_State *L, const struct embedded *f)
{
	char chunk[128];

	snprintf(chunk, sizeof(chunk), "@%s", f->file);
	return luaL_loadbuffer(L, f->start, (size_t)(f->end - f->start), chunk);
}

/* package.preload loader for a built-in Lua module: upvalue 1 is its index in files[]. */
static int preload_embedded(lua_State *L)
{
	const struct embedded *f = &files[lua_tointeger(L, lua_upvalueindex(1))];

	if (load_embedded(L, f) != LUA_OK)
		return lua_error(L);
	lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	return 1;
}

int gh_lua_preload(lua_State *L, const char *lua_dir)
{
	size_t i;

	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	for (i = 0; cmodules[i].name; i++) {
		lua_pushcfunction(L, cmodules[i].func);
		lua_setfield(L, -2, cmodules[i].name);
	}
	for (i = 0; !lua_dir && i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i].module)
			continue;
		lua_pushinteger(L, (lua_Integer)i);
		lua_pushcclosure(L, preload_embedded, 1);
		lua_setfield(L, -2, files[i].module);
	}
	lua_pop(L, 1);
	if (lua_dir) {
		/* Development: the files on disk win over nothing, since none are preloaded. */
		lua_getglobal(L, "package");
		lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_dir, lua_dir);
		lua_getfield(L, -2, "path");
		lua_concat(L, 2);
		lua_setfield(L, -2, "path");
		lua_pop(L, 1);
	}
	return 0;
}

int gh_lua_load_script(lua_State *L, const char *lua_dir, const char *name)
{
	char path[4096];
	size_t i;

	if (lua_dir) {
		snprintf(path, sizeof(path), "%s/%s.lua", lua_dir, name);
		return luaL_loadfile(L, path);
	}
	snprintf(path, sizeof(path), "%s.lua", name);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!files[i].module && !strcmp(files[i].file, path))
			return load_embedded(L, &files[i]);
	lua_pushfstring(L, "no built-in script '%s'", name);
	return LUA_ERRFILE;
}

/* require "glasshouse.native" from a stock lua5.4 (the test suites): preloads everything. */
int luaopen_glasshouse_native(lua_State *L)
{
	gh_lua_preload(L, NULL);
	lua_pushboolean(L, 1);
	return 1;
}
