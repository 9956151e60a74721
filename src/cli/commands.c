// SPDX-License-Identifier: MIT
/*
 * The subcommands of glasshouse, one row each: help, the man page and completion checks
 * (`glasshouse help --list`) and run.lua's option parser all read this table.
 */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "bindings/bindings.h"
#include "cli/commands.h"
#include "cli/repl.h"

/* What each does with its value is in lua/run.lua, under the long name. */
static const struct gh_cli_option run_options[] = {
	{ 'o', "output", "FILE", NULL, "write the receipt to FILE instead of ./receipt.json" },
	{ 0, "guest", NULL, NULL,
	  "act as a VM's init: mount proc, sysfs, bpf, tracefs; reap children" },
	{ 0, "backend", "NAME", "process firecracker", "process (default) or firecracker" },
	{ 0, "backend-opt", "KEY=VALUE", "kernel= rootfs= binary= api_socket=",
	  "backend setting (firecracker: kernel, rootfs, binary, api_socket)" },
	{ 0, "events", "FILE", NULL,
	  "also write every event as JSON Lines to FILE (a FIFO is followed live)" },
	{ 0, "user", "NAME|UID[:GID]", NULL,
	  "run CMD as this user (from root; under sudo or doas: the invoking user)" },
	{ 0, "network", "MODE", "host none loopback",
	  "host (default), none (no interface up) or loopback (only lo up)" },
	{ 0, "wait-all", "[=SECONDS]", NULL,
	  "wait for the whole tree (daemons too), at most SECONDS after CMD exits" },
	{ 0, "materials", NULL, NULL, "hash every file the command read (filesystem.materials)" },
	{ 0, "sign", "KEY", NULL,
	  "sign an in-toto attestation of the receipt with the Ed25519 private key KEY" },
	{ 0, "attestation", "FILE", NULL,
	  "write the attestation to FILE (default: the receipt's path, .json -> .intoto.jsonl)" },
	{ 0, "summary", NULL, NULL,
	  "after the command, print the receipt's header lines (as show) on stderr" },
	{ 0, "policy", "FILE.lua", NULL,
	  "judge the run by the policy FILE.lua; exit 3 when it fails" },
	{ 0, "enforce", NULL, NULL,
	  "stop the tree at the policy's first violation (exit 3; docs/enforcement.md)" },
	{ 0 },
};

/* lua/replay.lua parses these itself. */
static const struct gh_cli_option replay_options[] = {
	{ 'o', "output", "FILE", NULL,
	  "write the rebuilt receipt to FILE instead of ./receipt.json" },
	{ 0, "script", "FILE.lua", NULL,
	  "run FILE.lua (the words after it are its arguments) with gh.run reading the log" },
	{ 0, "policy", "FILE.lua", NULL,
	  "judge the log as run --policy would judge the run; exit 3 when it fails" },
	{ 0 },
};

/* What each does is in lua/verify.lua. */
static const struct gh_cli_option verify_options[] = {
	{ 0, "key", "PUB", NULL, "the signer's public key (SubjectPublicKeyInfo PEM)" },
	{ 0, "receipt", "FILE", NULL,
	  "the receipt to check (default: the subject's name beside the attestation)" },
	{ 0, "products", "DIR", NULL,
	  "re-hash every product under DIR; list each missing or changed" },
	{ 0 },
};

#define COLOR_OPTION                                                                               \
	{                                                                                          \
		0, "color", "WHEN", "auto always never",                                           \
			"colour the output: auto (on a terminal), always, never"                   \
	}

static const struct gh_cli_option diff_options[] = {
	{ 0, "json", NULL, NULL, "print the differences as JSON" },
	{ 0, "ignore", "GLOB", NULL, "leave out paths matching GLOB (may be repeated)" },
	COLOR_OPTION,
	{ 0, "all", NULL, NULL, "compare byte and syscall counts too" },
	{ 0 },
};

static const struct gh_cli_option show_options[] = {
	COLOR_OPTION,
	{ 0 },
};

static const struct gh_cli_option check_options[] = {
	{ 0, "policy", "FILE.lua", NULL, "the policy to judge the receipts by (required)" },
	{ 0, "events", "LOG", NULL,
	  "the run's event log (run --events): its rules functions see the events" },
	{ 0 },
};

/*
 * A subcommand is a row here and either a Lua script, lua/SCRIPT.lua (compiled in by
 * bindings/registry.c), or a C function declared in commands.h; the order is the order of help.
 */
const struct gh_cli_command gh_cli_commands[] = {
	{
		.name = "run",
		.usage = "[OPTIONS] [--] CMD [ARGS...]",
		.summary = "run CMD, observe it, write receipt.json (or FILE) and exit with CMD's "
			   "status",
		.options = run_options,
		.script = "run",
		.flags = GH_CLI_GUARDED,
	},
	{
		.name = "replay",
		.usage = "EVENTS [-o RECEIPT] [--policy FILE.lua] [--script FILE.lua [ARGS...]]",
		.summary =
			"rebuild the receipt of a run from its event log (run --events), or run a "
			"script over it",
		.options = replay_options,
		.script = "replay",
	},
	{
		.name = "diff",
		.usage = "[OPTIONS] OLD NEW",
		.summary = "what changed between two receipts (or attestations); exit 0 same, 1 "
			   "different, 2 trouble",
		.options = diff_options,
		.script = "diff",
	},
	{
		.name = "show",
		.usage = "[OPTIONS] RECEIPT|ATTESTATION",
		.summary = "the receipt for people: process tree, files by directory, network, 80 "
			   "columns",
		.options = show_options,
		.script = "show",
	},
	{
		.name = "check",
		.usage = "--policy FILE.lua [--events LOG] RECEIPT...",
		.summary =
			"judge saved receipts (or attestations) by a policy; exit 0 pass, 3 fail, "
			"2 trouble",
		.options = check_options,
		.script = "check",
	},
	{
		.name = "script",
		.usage = "FILE.lua [SCRIPT-ARGS...] -- CMD [ARGS...]",
		.summary = "run FILE.lua with the glasshouse module loaded; CMD is in gh.command",
		.handler = gh_cli_script_cmd,
	},
	{
		.name = "repl",
		.usage = "",
		.summary = "a Lua prompt with gh loaded (history in ~/.glasshouse_history)",
		.handler = gh_repl,
		.flags = GH_CLI_INTERACTIVE,
	},
	{
		.name = "keygen",
		.usage = "[PREFIX]",
		.summary = "write a new Ed25519 key pair PREFIX.key and PREFIX.pub (default "
			   "glasshouse) and print its key id",
		.script = "keygen",
	},
	{
		.name = "verify",
		.usage = "ATTESTATION --key PUB [--receipt FILE] [--products DIR]",
		.summary = "check a signed attestation, the receipt it names and, with DIR, its "
			   "products",
		.options = verify_options,
		.script = "verify",
	},
	{
		.name = "help",
		.usage = "[CMD]",
		.summary = "print this, or CMD's usage and options",
		.handler = gh_cli_help_cmd,
		.flags = GH_CLI_NO_LUA,
	},
	{ .name = NULL },
};

const struct gh_cli_option gh_cli_global_options[] = {
	{ 'h', "help", NULL, NULL, "print the usage; after a subcommand, its usage and options" },
	{ 0, "version", NULL, NULL, "print glasshouse's version" },
	{ 0 },
};

const struct gh_cli_command *gh_cli_find(const char *name)
{
	const struct gh_cli_command *c;

	for (c = gh_cli_commands; name && c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* Push {short, long, value, values = {...}, help, optional} for o; an optional value
 * ("[=SECONDS]") by its name alone ("SECONDS"). */
static void push_option(lua_State *L, const struct gh_cli_option *o)
{
	int optional = o->value && !strncmp(o->value, "[=", 2);
	const char *v, *end;
	int n = 0;

	lua_createtable(L, 0, 6);
	if (o->short_name) {
		lua_pushlstring(L, &o->short_name, 1);
		lua_setfield(L, -2, "short");
	}
	gh_l_setstr(L, "long", o->long_name);
	if (optional)
		lua_pushlstring(L, o->value + 2, strlen(o->value) - 3);
	else
		lua_pushstring(L, o->value);
	lua_setfield(L, -2, "value");
	gh_l_setbool(L, "optional", optional);
	gh_l_setstr(L, "help", o->help);
	lua_newtable(L);
	for (v = o->values; v && *v; v = end + strspn(end, " ")) {
		end = v + strcspn(v, " ");
		lua_pushlstring(L, v, (size_t)(end - v));
		lua_rawseti(L, -2, ++n);
	}
	lua_setfield(L, -2, "values");
}

int luaopen_glasshouse_cli(lua_State *L)
{
	const struct gh_cli_command *c;
	const struct gh_cli_option *o;
	int n;

	lua_newtable(L);
	for (c = gh_cli_commands; c->name; c++) {
		lua_createtable(L, 0, 4);
		gh_l_setstr(L, "usage", c->usage);
		gh_l_setstr(L, "summary", c->summary);
		gh_l_setstr(L, "script", c->script);
		lua_newtable(L);
		for (n = 0, o = c->options; o && o->long_name; o++) {
			push_option(L, o);
			lua_rawseti(L, -2, ++n);
		}
		lua_setfield(L, -2, "options");
		lua_setfield(L, -2, c->name);
	}
	return 1;
}
