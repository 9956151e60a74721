// SPDX-License-Identifier: MIT
/* glasshouse.core's user functions: who the command runs as, and the capability mode. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "bindings/bindings.h"
#include "core/priv.h"

/* Push {name, uid, gid, groups = {...}, home}. */
static void push_user(lua_State *L, const struct gh_user *u)
{
	int i;

	lua_createtable(L, 0, 5);
	gh_l_setstr(L, "name", u->name);
	gh_l_setint(L, "uid", u->uid);
	gh_l_setint(L, "gid", u->gid);
	gh_l_setstr(L, "home", u->home);
	lua_createtable(L, u->ngroups, 0);
	for (i = 0; i < u->ngroups; i++) {
		lua_pushinteger(L, u->groups[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "groups");
}

static lua_Integer id_field(lua_State *L, int idx, const char *where, const char *key)
{
	lua_Integer v;

	if (lua_getfield(L, idx, key) != LUA_TNUMBER || !lua_isinteger(L, -1))
		luaL_error(L, "%s: user.%s must be an integer", where, key);
	v = lua_tointeger(L, -1);
	if (v < 0 || v > 4294967294LL)
		luaL_error(L, "%s: user.%s out of range", where, key);
	lua_pop(L, 1);
	return v;
}

static void str_field(lua_State *L, int idx, const char *key, char *dst, size_t cap)
{
	const char *s;

	lua_getfield(L, idx, key);
	s = lua_tostring(L, -1);
	if (s)
		snprintf(dst, cap, "%s", s);
	lua_pop(L, 1);
}

void gh_l_check_user(lua_State *L, int idx, const char *where, struct gh_user *u)
{
	lua_Integer i, n;

	luaL_checktype(L, idx, LUA_TTABLE);
	memset(u, 0, sizeof(*u));
	u->uid = (uid_t)id_field(L, idx, where, "uid");
	u->gid = (gid_t)id_field(L, idx, where, "gid");
	snprintf(u->name, sizeof(u->name), "%u", (unsigned int)u->uid);
	str_field(L, idx, "name", u->name, sizeof(u->name));
	snprintf(u->home, sizeof(u->home), "/");
	str_field(L, idx, "home", u->home, sizeof(u->home));
	if (lua_getfield(L, idx, "groups") == LUA_TTABLE) {
		n = (lua_Integer)lua_rawlen(L, -1);
		if (n > GH_USER_MAX_GROUPS)
			luaL_error(L, "%s: more than %d groups", where, GH_USER_MAX_GROUPS);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			if (!lua_isinteger(L, -1))
				luaL_error(L, "%s: user.groups[%d] must be an integer", where,
					   (int)i);
			u->groups[u->ngroups++] = (gid_t)lua_tointeger(L, -1);
			lua_pop(L, 1);
		}
	} else {
		u->groups[u->ngroups++] = u->gid;
	}
	lua_pop(L, 1);
}

/* core.user(spec) -> {name, uid, gid, groups, home} | nil, msg, code: NAME, UID[:GID] looked up */
static int l_core_user(lua_State *L)
{
	const char *spec = luaL_checkstring(L, 1);
	struct gh_user u;
	char msg[512];
	int err = gh_user_lookup(spec, &u, msg, sizeof(msg));

	if (err)
		return gh_l_fail_msg(L, msg, err);
	push_user(L, &u);
	return 1;
}

/*
 * core.invoking_user() -> {name, uid, gid, groups, home} | false | nil, msg, code
 * The user who ran sudo or doas to start glasshouse as root; false when there is none.
 */
static int l_core_invoking_user(lua_State *L)
{
	struct gh_user u;
	char msg[512];
	int r = gh_user_invoking(&u, msg, sizeof(msg));

	if (r < 0)
		return gh_l_fail_msg(L, msg, r);
	if (r == 0)
		lua_pushboolean(L, 0);
	else
		push_user(L, &u);
	return 1;
}

/* core.secure() -> whether glasshouse runs with more privilege than its caller (AT_SECURE) */
static int l_core_secure(lua_State *L)
{
	lua_pushboolean(L, gh_priv_secure());
	return 1;
}

/* core.drop_caps() -> true | nil, msg, code: glasshouse keeps no capability from here on */
static int l_core_drop_caps(lua_State *L)
{
	int err = gh_priv_drop_caps();

	if (err)
		return gh_l_fail(L, "core.drop_caps", -err);
	lua_pushboolean(L, 1);
	return 1;
}

void gh_l_core_priv(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "user", l_core_user },
		{ "invoking_user", l_core_invoking_user },
		{ "secure", l_core_secure },
		{ "drop_caps", l_core_drop_caps },
		{ NULL, NULL },
	};

	luaL_setfuncs(L, fns, 0);
}
