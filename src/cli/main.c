// SPDX-License-Identifier: MIT
/* The glasshouse command: finds the subcommand in the table (commands.c) and runs it. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/bindings.h"
#include "cli/commands.h"
#include "core/signals.h"

#ifndef GH_VERSION
#define GH_VERSION "0.3.0"
#endif

int main(int argc, char **argv)
{
	const struct gh_cli_command *cmd = argc > 1 ? gh_cli_find(argv[1]) : NULL;
	const char *lua_dir;
	lua_State *L;
	int code, err;

	/* First of all, so no signal sent to glasshouse is lost before the command exists; the
	 * REPL keeps SIGINT for itself (Ctrl-C stops the running chunk, not the prompt). */
	err = cmd && cmd->flags & GH_CLI_INTERACTIVE ? 0 : gh_signals_start();
	if (err)
		fprintf(stderr,
			"glasshouse: cannot start the signal thread (%s); signals that "
			"arrive before the command starts are lost\n",
			strerror(-err));
	lua_dir = getenv("GLASSHOUSE_LUA_PATH");
	if (lua_dir && !*lua_dir)
		lua_dir = NULL;

	/* The words before the subcommand's own */
	if (argc < 2)
		return gh_cli_usage_error("no subcommand given");
	if (gh_cli_is_help(argv[1])) {
		gh_cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("glasshouse %s\n", GH_VERSION);
		return 0;
	}
	if (!cmd)
		return gh_cli_unknown(argv[1]);
	if (argc > 2 && gh_cli_is_help(argv[2])) {
		gh_cli_help(stdout, cmd);
		return 0;
	}
	if (cmd->flags & GH_CLI_NO_LUA)
		return cmd->handler(NULL, argc - 1, argv + 1);

	/* A Lua state with glasshouse's modules and the subcommand table (glasshouse.cli) */
	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "glasshouse: cannot create a Lua state: out of memory\n");
		return GH_EXIT_FAILURE;
	}
	luaL_openlibs(L);
	gh_lua_preload(L, lua_dir);
	luaL_requiref(L, "glasshouse.cli", luaopen_glasshouse_cli, 0);
	lua_pop(L, 1);
	/* os.exit in a script or hook ends the way a script does: a run under way is waited for
	 * and its receipt written first. */
	if (!(cmd->flags & GH_CLI_INTERACTIVE) &&
	    luaL_dostring(L, "os.exit = require('glasshouse.core').exit") != LUA_OK) {
		fprintf(stderr, "glasshouse: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return GH_EXIT_FAILURE;
	}
	/* The standard flow is glasshouse itself: a signal waits for the command it starts. */
	gh_l_interrupts_init(L, !!(cmd->flags & GH_CLI_GUARDED));

	/* Run it: its built-in Lua script, or its C function */
	if (cmd->script)
		code = gh_cli_run_script(L, lua_dir, cmd, argc - 1, argv + 1);
	else
		code = cmd->handler(L, argc - 1, argv + 1);
	lua_close(L);
	return code;
}
