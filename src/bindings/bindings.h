/* SPDX-License-Identifier: MIT */
/* The Lua side of glasshouse: module openers and what the bindings share. */
#ifndef GH_LGLASSHOUSE_H
#define GH_LGLASSHOUSE_H

#include <lauxlib.h>
#include <lua.h>

#include "core/names.h"

int luaopen_glasshouse_core(lua_State *L);
int luaopen_glasshouse_backend(lua_State *L);
int luaopen_glasshouse_collector(lua_State *L);
int luaopen_glasshouse_aggregator(lua_State *L);
int luaopen_glasshouse_evidence(lua_State *L);

int gh_l_json_encode(lua_State *L);
/* Add core.user, core.invoking_user, core.secure, core.drop_caps to the table on the top. */
void gh_l_core_priv(lua_State *L);
struct gh_user;
/* The user table at idx ({uid, gid [, groups, name, home]}) into u; raises "<where>: ...". */
void gh_l_check_user(lua_State *L, int idx, const char *where, struct gh_user *u);
int gh_l_json_unescape_bytes(lua_State *L);
struct gh_outfile_opts;
/* The options table at idx (may be absent: the defaults) of core.write_file: mode, exclusive,
 * uid, gid. */
void gh_l_outfile_opts(lua_State *L, int idx, struct gh_outfile_opts *o);

/* Push nil, "<what>: <strerror>", "<ERRNAME>" and return 3: the environment-failure triple. */
int gh_l_fail(lua_State *L, const char *what, int err);
/* Same with a message of the caller's own. */
int gh_l_fail_msg(lua_State *L, const char *msg, int err);
/* Raise "<where>: out of memory": the one way the bindings report it (as Lua itself does). */
static inline int gh_l_nomem(lua_State *L, const char *where)
{
	return luaL_error(L, "%s: out of memory", where);
}
/* t[k] = v for the table on the stack top. */
void gh_l_setint(lua_State *L, const char *k, lua_Integer v);
void gh_l_setstr(lua_State *L, const char *k, const char *s);
void gh_l_setbool(lua_State *L, const char *k, int b);

/* A userdata class: the metatable `name` (created once) with metamethods `meta` and the
 * methods as its __index; pushes the module table of `funcs` and returns 1. */
int gh_l_newclass(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods,
		  const luaL_Reg *funcs);

/* Interrupts by signal (see signals.h): arm them on L's main thread; guarded: glasshouse's own
 * flow runs first (the `run` subcommand), so a signal waits for the command. */
void gh_l_interrupts_init(lua_State *L, int guarded);
/* lua_pcall for user code (hooks): interruptible by a signal even inside glasshouse's flow; a
 * string error comes back with its traceback (gh_l_traceback). */
int gh_l_pcall_user(lua_State *L, int nargs, int nresults);
/* Whether the value at idx is an interrupt or os.exit object ({glasshouse_signal|exit = n}). */
int gh_l_is_control(lua_State *L, int idx);
/* Message handler: a traceback for errors; tables (interrupts, exits, usage) pass through. */
int gh_l_traceback(lua_State *L);

/*
 * Register every module in package.preload: the C ones always, the built-in Lua files unless
 * lua_dir is set (then package.path searches lua_dir first). Returns 0 or -ENOMEM.
 */
int gh_lua_preload(lua_State *L, const char *lua_dir);
/* Load a built-in script by name ("run") or, with lua_dir, lua_dir/<name>.lua. Lua status code. */
int gh_lua_load_script(lua_State *L, const char *lua_dir, const char *name);

#endif
