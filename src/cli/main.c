// SPDX-License-Identifier: MIT
/* The glasshouse command: finds the subcommand in the table (commands.c) and runs it. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/bindings.h"
#include "cli/commands.h"
#include "core/priv.h"
#include "core/signals.h"

#ifndef GH_VERSION
#define GH_VERSION "0.3.0"
#endif

/* With file capabilities, nothing in the environment may choose the code that runs with them. */
static int refuse_secure_env(void)
{
	static const char *const vars[] = { "GLASSHOUSE_LUA_PATH", "GLASSHOUSE_BPF_DIR" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v) {
			fprintf(stderr,
				"glasshouse: %s is refused: glasshouse runs with file "
				"capabilities, "
				"and the code it names would run with them\n",
				vars[i]);
			return 1;
		}
	}
	return 0;
}

/* Only absolute entries of package.path and cpath: "./?.so" would run the working
 * directory's code with glasshouse's capabilities. */
static const char secure_paths[] = "for _, k in ipairs{'path', 'cpath'} do local keep = {} "
				   "for e in package[k]:gmatch('[^;]+') do "
				   "if e:sub(1, 1) == '/' then keep[#keep + 1] = e end end "
				   "package[k] = table.concat(keep, ';') end";

int main(int argc, char **argv)
{
	const struct gh_cli_command *cmd = argc > 1 ? gh_cli_find(argv[1]) : NULL;
	const char *lua_dir;
	lua_State *L;
	int code, err, secure = gh_priv_secure();

	/* With file capabilities, only glasshouse's own compiled-in flows keep them: the user's
	 * scripts and the REPL run with none, dropped before any other thread exists. */
	if (secure && (!cmd || !cmd->script) && gh_priv_drop_caps()) {
		fprintf(stderr, "glasshouse: cannot drop the file capabilities: %s\n",
			strerror(errno));
		return GH_EXIT_FAILURE;
	}
	if (secure && refuse_secure_env())
		return GH_EXIT_USAGE;
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
	if (secure) {
		/* LUA_PATH, LUA_CPATH and LUA_INIT are ignored, as by `lua -E`. */
		lua_pushboolean(L, 1);
		lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
	}
	luaL_openlibs(L);
	if (secure && luaL_dostring(L, secure_paths) != LUA_OK) {
		fprintf(stderr, "glasshouse: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return GH_EXIT_FAILURE;
	}
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
