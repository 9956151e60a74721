// SPDX-License-Identifier: MIT
/*
 * `glasshouse repl`: a Lua 5.4 prompt with `gh` loaded, GNU readline for line editing and a
 * history file, expressions printed (glasshouse.repl.show), incomplete input continued,
 * Ctrl-C interrupting a running chunk, Ctrl-D leaving.
 */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "cli/commands.h"
#include "cli/repl.h"

#ifndef GH_VERSION
#define GH_VERSION "0.3.0"
#endif

static lua_State *running_L; /* set while a chunk runs: Ctrl-C interrupts it */

static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted");
}

static void on_sigint(int sig)
{
	(void)sig;
	if (running_L) { /* like lua.c: stop at the next Lua instruction */
		lua_sethook(running_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
		return;
	}
	/* At the prompt: drop the line being typed and start a fresh one. */
	rl_replace_line("", 0);
	rl_crlf();
	rl_on_new_line();
	rl_redisplay();
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Compile buf as an expression ("return buf") or else as statements. LUA_OK, or the error
 * status with the message on the stack; *incomplete when more lines could finish it. */
static int compile(lua_State *L, const char *buf, int *incomplete)
{
	const char *ret = lua_pushfstring(L, "return %s;", buf);
	int st = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
	size_t n;
	const char *msg;

	lua_remove(L, -2);
	*incomplete = 0;
	if (st == LUA_OK)
		return st;
	lua_pop(L, 1);
	st = luaL_loadbuffer(L, buf, strlen(buf), "=stdin");
	if (st == LUA_ERRSYNTAX) {
		msg = lua_tolstring(L, -1, &n);
		if (n >= 5 && !strcmp(msg + n - 5, "<eof>"))
			*incomplete = 1;
	}
	return st;
}

/* Run the compiled chunk and show what it returned. */
static void execute(lua_State *L)
{
	int base = lua_gettop(L), st, n;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	running_L = L;
	st = lua_pcall(L, 0, LUA_MULTRET, base);
	running_L = NULL;
	lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	if (st != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return;
	}
	n = lua_gettop(L) - base + 1;
	if (n > 0) {
		lua_getglobal(L, "require");
		lua_pushliteral(L, "glasshouse.repl");
		lua_call(L, 1, 1);
		lua_getfield(L, -1, "show");
		lua_remove(L, -2);
		lua_insert(L, base);
		if (lua_pcall(L, n, 0, 0) != LUA_OK) {
			fprintf(stderr, "%s\n", lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	}
	lua_settop(L, base - 1);
}

static void history_path(char *out, size_t n)
{
	const char *h = getenv("GLASSHOUSE_HISTORY"), *home = getenv("HOME");

	if (h && *h)
		snprintf(out, n, "%s", h);
	else
		snprintf(out, n, "%s/.glasshouse_history", home && *home ? home : ".");
}

int gh_repl(lua_State *L, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	char hist[4096], *line;
	char *buf = NULL;
	size_t len = 0;

	if (argc > 1)
		return gh_cli_usage_error("repl takes no arguments");
	if (gh_cli_require_glasshouse(L))
		return GH_EXIT_FAILURE;
	lua_pushboolean(L, 1); /* keep the events of every run: gh.last.events */
	lua_setfield(L, -2, "keep_events");
	lua_setglobal(L, "gh");

	history_path(hist, sizeof(hist));
	using_history();
	read_history(hist); /* a missing file is a first session */
	rl_catch_signals = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	printf("glasshouse %s REPL (%s): gh is loaded; gh.run{...} returns a receipt, "
	       "gh.last.events its events. Ctrl-D leaves.\n",
	       GH_VERSION, LUA_RELEASE);
	for (;;) {
		int incomplete, st;
		char *joined;

		line = readline(buf ? "..> " : "gh> ");
		if (!line) { /* Ctrl-D */
			putchar('\n');
			break;
		}
		joined = realloc(buf, len + strlen(line) + 2);
		if (!joined) {
			free(line);
			break;
		}
		if (buf)
			joined[len++] = '\n';
		else
			joined[0] = '\0';
		buf = joined;
		strcpy(buf + len, line);
		len += strlen(line);
		free(line);
		if (len == 0) {
			free(buf);
			buf = NULL;
			continue;
		}
		st = compile(L, buf, &incomplete);
		if (st != LUA_OK && incomplete) {
			lua_pop(L, 1);
			continue;
		}
		add_history(buf);
		if (append_history(1, hist) != 0) /* no file yet */
			write_history(hist);
		if (st != LUA_OK) {
			fprintf(stderr, "%s\n", lua_tostring(L, -1));
			lua_pop(L, 1);
		} else {
			execute(L);
		}
		free(buf);
		buf = NULL;
		len = 0;
	}
	free(buf);
	history_truncate_file(hist, 1000);
	return 0;
}
