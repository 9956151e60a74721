/* SPDX-License-Identifier: MIT */
/* The subcommand table and what reads it: help, `help --list`, run.lua's parser, the handlers. */
#ifndef GH_COMMANDS_H
#define GH_COMMANDS_H

#include <lua.h>
#include <stdio.h>

#define GH_EXIT_USAGE	2
#define GH_EXIT_FAILURE 125 /* glasshouse itself failed: a script error, an unwritable receipt */

/* One option of a subcommand, as help shows it and run.lua's parser takes it. */
struct gh_cli_option {
	char short_name;       /* 'o' for -o, or 0 */
	const char *long_name; /* "output" for --output; run.lua handles it under this name */
	const char *value;     /* the value's name in help ("FILE"), or NULL for a switch;
				* "[=SECONDS]": optional, and given only as --long=SECONDS */
	const char *values;    /* what completion offers for the value, space-separated, or NULL */
	const char *help;      /* one line */
};

enum {
	GH_CLI_NO_LUA = 1 << 0,	     /* runs before any Lua state exists: the handler gets L NULL */
	GH_CLI_INTERACTIVE = 1 << 1, /* keeps SIGINT (no signal thread) and the stock os.exit */
	GH_CLI_GUARDED = 1 << 2,     /* glasshouse's own flow: a signal waits for the command */
};

/* A subcommand written in C: argv[0] is its name, argv[1..argc) its words. */
typedef int gh_cli_handler(lua_State *L, int argc, char **argv);

struct gh_cli_command {
	const char *name;
	const char *usage;		     /* what follows the name in a synopsis, one line */
	const char *summary;		     /* one line */
	const struct gh_cli_option *options; /* ended by a row without long_name; or NULL */
	const char *script;	 /* the built-in Lua script lua/SCRIPT.lua that runs it */
	gh_cli_handler *handler; /* or the C function that does */
	unsigned flags;		 /* GH_CLI_* */
};

/* The table, ended by a row without name; and the options taken before any subcommand. */
extern const struct gh_cli_command gh_cli_commands[];
extern const struct gh_cli_option gh_cli_global_options[];

/* The subcommand called name, or NULL. */
const struct gh_cli_command *gh_cli_find(const char *name);
/* require "glasshouse.cli" -> {[name] = {usage, summary, script, options = {{short, long,
 * value, values = {...}, help, optional}...}}}: the table, for run.lua's parser (an optional
 * value's name without its brackets). */
int luaopen_glasshouse_cli(lua_State *L);

/* Print the whole usage: every subcommand and its options, the exit statuses. */
void gh_cli_usage(FILE *f);
/* Print one subcommand's usage, summary and options. */
void gh_cli_help(FILE *f, const struct gh_cli_command *cmd);
/* Whether word asks for help (-h, --help). */
int gh_cli_is_help(const char *word);
/* Print "glasshouse: MSG" and the usage on stderr; returns GH_EXIT_USAGE. */
int gh_cli_usage_error(const char *msg);
/* The usage error for a word that is no subcommand (or no option, when it starts with -). */
int gh_cli_unknown(const char *word);

/* Run cmd's built-in script (lua_dir/SCRIPT.lua with lua_dir) with `arg` = argv[1..argc);
 * returns the exit status. */
int gh_cli_run_script(lua_State *L, const char *lua_dir, const struct gh_cli_command *cmd, int argc,
		      char **argv);

/* Push require "glasshouse"; 0, or GH_EXIT_FAILURE with why printed (it failed, or a module
 * from GLASSHOUSE_LUA_PATH returned no table). */
int gh_cli_require_glasshouse(lua_State *L);

/* The subcommands written in C (and gh_repl, in repl.h). */
int gh_cli_help_cmd(lua_State *L, int argc, char **argv);
int gh_cli_script_cmd(lua_State *L, int argc, char **argv);

#endif
