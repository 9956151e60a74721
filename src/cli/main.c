// SPDX-License-Identifier: MIT
/* The glasshouse command: parses the subcommand and hands over to a Lua script. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/bindings.h"
#include "cli/repl.h"
#include "core/signals.h"

#define EXIT_USAGE 2
#define EXIT_FAILURE_GH 125 /* glasshouse itself failed: a script error, an unwritable receipt */

#ifndef GH_VERSION
#define GH_VERSION "0.3.0"
#endif

static const char usage_text[] =
	"usage: glasshouse run [--guest] [-o FILE] [--backend NAME [--backend-opt KEY=VALUE]...]\n"
	"                      [--] CMD [ARGS...]\n"
	"       glasshouse script FILE.lua [SCRIPT-ARGS...] -- CMD [ARGS...]\n"
	"       glasshouse repl\n"
	"       glasshouse --help | --version\n"
	"\n"
	"run      run CMD, observe it, write receipt.json (or FILE) and exit with CMD's status\n"
	"script   run FILE.lua with the glasshouse module loaded; CMD is in gh.command\n"
	"repl     a Lua prompt with gh loaded (history in ~/.glasshouse_history)\n"
	"\n"
	"options of run:\n"
	"  -o, --output FILE       write the receipt to FILE instead of ./receipt.json\n"
	"  --guest                 act as a VM's init: mount proc, sysfs, bpf, tracefs; reap children\n"
	"  --backend NAME          process (default) or firecracker\n"
	"  --backend-opt KEY=VAL   backend setting (firecracker: kernel, rootfs, binary, api_socket)\n"
	"\n"
	"exit status: CMD's own; 128+N when CMD died of signal N; 1 when CMD could not start;\n"
	"2 on a usage error (no receipt); 125 when glasshouse itself failed.\n";

static int usage_error(const char *msg)
{
	fprintf(stderr, "glasshouse: %s\n%s", msg, usage_text);
	return EXIT_USAGE;
}

/* The exit status for the error object on the stack top, with its message printed. */
static int error_status(lua_State *L)
{
	int t = lua_gettop(L);

	if (lua_istable(L, t)) {
		if (lua_getfield(L, t, "glasshouse_usage") == LUA_TSTRING)
			return usage_error(lua_tostring(L, -1));
		if (lua_getfield(L, t, "glasshouse_exit") == LUA_TNUMBER)
			return (int)lua_tointeger(L, -1); /* os.exit(n): no message */
		if (lua_getfield(L, t, "glasshouse_signal") == LUA_TNUMBER) {
			fprintf(stderr, "glasshouse: %s\n", luaL_tolstring(L, t, NULL));
			return 128 + (int)lua_tointeger(L, -2);
		}
	}
	fprintf(stderr, "glasshouse: %s\n", luaL_tolstring(L, t, NULL));
	return EXIT_FAILURE_GH;
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
	lua_getglobal(L, "require");
	lua_pushstring(L, "glasshouse");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "glasshouse: cannot load the glasshouse module: %s\n",
			lua_tostring(L, -1));
		return EXIT_FAILURE_GH;
	}
	if (!lua_istable(L, -1)) {
		fprintf(stderr,
			"glasshouse: cannot load the glasshouse module: it returned a %s, not a "
			"table (check GLASSHOUSE_LUA_PATH's glasshouse/init.lua)\n",
			luaL_typename(L, -1));
		return EXIT_FAILURE_GH;
	}
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


int main(int argc, char **argv)
{
	const char *lua_dir;
	lua_State *L;
	int status, split, code, err;

	/* First of all, so no signal sent to glasshouse is lost before the command exists; the
	 * REPL keeps SIGINT for itself (Ctrl-C stops the running chunk, not the prompt). */
	err = argc > 1 && !strcmp(argv[1], "repl") ? 0 : gh_signals_start();
	if (err)
		fprintf(stderr, "glasshouse: cannot start the signal thread (%s); signals that "
			"arrive before the command starts are lost\n", strerror(-err));
	lua_dir = getenv("GLASSHOUSE_LUA_PATH");
	if (lua_dir && !*lua_dir)
		lua_dir = NULL;
	if (argc < 2)
		return usage_error("no subcommand given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("glasshouse %s\n", GH_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run") && strcmp(argv[1], "script") && strcmp(argv[1], "repl")) {
		char msg[256];

		snprintf(msg, sizeof(msg), "unknown %s '%.200s'",
			 argv[1][0] == '-' ? "option" : "subcommand", argv[1]);
		return usage_error(msg);
	}
	if (!strcmp(argv[1], "script") && argc < 3)
		return usage_error("script: no script file given");

	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "glasshouse: cannot create a Lua state: out of memory\n");
		return EXIT_FAILURE_GH;
	}
	luaL_openlibs(L);
	gh_lua_preload(L, lua_dir);
	/* os.exit in a script or hook ends the way a script does: a run under way is waited for
	 * and its receipt written first. */
	if (strcmp(argv[1], "repl") &&
	    luaL_dostring(L, "os.exit = require('glasshouse.core').exit") != LUA_OK) {
		fprintf(stderr, "glasshouse: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return EXIT_FAILURE_GH;
	}
	/* The standard flow is glasshouse itself: a signal waits for the command it starts. */
	gh_l_interrupts_init(L, !strcmp(argv[1], "run"));

	if (!strcmp(argv[1], "repl")) {
		if (argc > 2) {
			lua_close(L);
			return usage_error("repl takes no arguments");
		}
		code = gh_repl(L);
	} else if (!strcmp(argv[1], "run")) {
		status = gh_lua_load_script(L, lua_dir, "run");
		if (status != LUA_OK) {
			fprintf(stderr, "glasshouse: cannot load run.lua: %s\n", lua_tostring(L, -1));
			lua_close(L);
			return EXIT_FAILURE_GH;
		}
		code = run_chunk(L, "run", argv, 2, argc, argc, 0);
	} else {
		for (split = 3; split < argc && strcmp(argv[split], "--"); split++)
			;
		status = luaL_loadfile(L, argv[2]);
		if (status != LUA_OK) {
			fprintf(stderr, "glasshouse: %s\n", lua_tostring(L, -1));
			lua_close(L);
			return status == LUA_ERRFILE ? EXIT_USAGE : EXIT_FAILURE_GH;
		}
		code = run_chunk(L, argv[2], argv, 3, split, argc, split < argc);
	}
	lua_close(L);
	return code;
}
