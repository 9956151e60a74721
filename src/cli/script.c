// SPDX-License-Identifier: MIT
/*
 * Subcommands that are Lua chunks: the built-in scripts (lua/NAME.lua, compiled in) and the
 * user's file of `glasshouse script`; their errors become exit statuses here.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>

#include "bindings/bindings.h"
#include "cli/commands.h"

/* The exit status for the error object on the stack top, with its message printed. */
static int error_status(lua_State *L)
{
	int t = lua_gettop(L);

	if (lua_istable(L, t)) {
		if (lua_getfield(L, t, "glasshouse_usage") == LUA_TSTRING)
			return gh_cli_usage_error(lua_tostring(L, -1));
		if (lua_getfield(L, t, "glasshouse_refuse") == LUA_TSTRING) {
			fprintf(stderr, "glasshouse: %s\n", lua_tostring(L, -1));
			return GH_EXIT_USAGE; /* one line: nothing ran */
		}
		if (lua_getfield(L, t, "glasshouse_exit") == LUA_TNUMBER)
			return (int)lua_tointeger(L, -1); /* os.exit(n): no message */
		if (lua_getfield(L, t, "glasshouse_signal") == LUA_TNUMBER) {
			fprintf(stderr, "glasshouse: %s\n", luaL_tolstring(L, t, NULL));
			return 128 + (int)lua_tointeger(L, -2);
		}
	}
	fprintf(stderr, "glasshouse: %s\n", luaL_tolstring(L, t, NULL));
	return GH_EXIT_FAILURE;
}

int gh_cli_require_glasshouse(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_pushstring(L, "glasshouse");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "glasshouse: cannot load the glasshouse module: %s\n",
			lua_tostring(L, -1));
		return GH_EXIT_FAILURE;
	}
	if (!lua_istable(L, -1)) {
		fprintf(stderr,
			"glasshouse: cannot load the glasshouse module: it returned a %s, not a "
			"table (check GLASSHOUSE_LUA_PATH's glasshouse/init.lua)\n",
			luaL_typename(L, -1));
		return GH_EXIT_FAILURE;
	}
	return 0;
}

/* Push the list argv[from..to) as a table. */
static void push_list(lua_State *L, char **argv, int from, int to)
{
	int i;

	lua_createtable(L, to > from ? to - from : 0, 0);
	for (i = from; i < to; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - from + 1);
	}
}

/*
 * Run the loaded chunk (on the stack) with `arg` = {[0] = name, argv[from..split)} and, when
 * has_cmd, glasshouse.command = argv[split+1..argc). Returns the process exit status.
 */
static int run_chunk(lua_State *L, const char *name, char **argv, int from, int split, int argc,
		     int has_cmd)
{
	int status, base, code = 0;

	push_list(L, argv, from, split);
	lua_pushstring(L, name);
	lua_rawseti(L, -2, 0);
	lua_setglobal(L, "arg");
	if (gh_cli_require_glasshouse(L))
		return GH_EXIT_FAILURE;
	if (has_cmd)
		push_list(L, argv, split + 1, argc);
	else
		lua_pushnil(L);
	lua_setfield(L, -2, "command");
	lua_pop(L, 1);

	base = lua_gettop(L);
	lua_pushcfunction(L, gh_l_traceback);
	lua_insert(L, base);
	status = lua_pcall(L, 0, 1, base);
	if (status != LUA_OK)
		return error_status(L);
	if (lua_isinteger(L, -1))
		code = (int)lua_tointeger(L, -1);
	else if (lua_isboolean(L, -1))
		code = lua_toboolean(L, -1) ? 0 : 1;
	return code;
}

int gh_cli_run_script(lua_State *L, const char *lua_dir, const struct gh_cli_command *cmd, int argc,
		      char **argv)
{
	if (gh_lua_load_script(L, lua_dir, cmd->script) != LUA_OK) {
		fprintf(stderr, "glasshouse: cannot load %s.lua: %s\n", cmd->script,
			lua_tostring(L, -1));
		return GH_EXIT_FAILURE;
	}
	return run_chunk(L, cmd->name, argv, 1, argc, argc, 0);
}

/* glasshouse script FILE.lua [SCRIPT-ARGS...] -- CMD [ARGS...] */
int gh_cli_script_cmd(lua_State *L, int argc, char **argv)
{
	int status, split;

	if (argc < 2)
		return gh_cli_usage_error("script: no script file given");
	for (split = 2; split < argc && strcmp(argv[split], "--"); split++)
		;
	status = luaL_loadfile(L, argv[1]);
	if (status != LUA_OK) {
		fprintf(stderr, "glasshouse: %s\n", lua_tostring(L, -1));
		return status == LUA_ERRFILE ? GH_EXIT_USAGE : GH_EXIT_FAILURE;
	}
	return run_chunk(L, argv[1], argv, 2, split, argc, split < argc);
}
