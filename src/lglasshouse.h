/* SPDX-License-Identifier: MIT */
/* The Lua side of glasshouse: module openers and what the bindings share. */
#ifndef GH_LGLASSHOUSE_H
#define GH_LGLASSHOUSE_H

#include <lua.h>

int luaopen_glasshouse_core(lua_State *L);
int luaopen_glasshouse_backend(lua_State *L);
int luaopen_glasshouse_collector(lua_State *L);
int luaopen_glasshouse_aggregator(lua_State *L);

int gh_l_json_encode(lua_State *L);
int gh_l_json_unescape_bytes(lua_State *L);

/* Push nil, "<what>: <strerror>", "<ERRNAME>" and return 3: the environment-failure triple. */
int gh_l_fail(lua_State *L, const char *what, int err);
/* Same with a message of the caller's own. */
int gh_l_fail_msg(lua_State *L, const char *msg, int err);
/* "ENOENT" for ENOENT; "E<n>" for numbers without a name. */
const char *gh_errno_name(int err);

/*
 * Register every module in package.preload: the C ones always, the built-in Lua files unless
 * lua_dir is set (then package.path searches lua_dir first). Returns 0 or -ENOMEM.
 */
int gh_lua_preload(lua_State *L, const char *lua_dir);
/* Load a built-in script by name ("run") or, with lua_dir, lua_dir/<name>.lua. Lua status code. */
int gh_lua_load_script(lua_State *L, const char *lua_dir, const char *name);

#endif
