// SPDX-License-Identifier: MIT
/* glasshouse.core: hashing, JSON encoding, clocks and names the Lua modules build on. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "backend.h"
#include "buf.h"
#include "hash.h"
#include "lglasshouse.h"
#include "options.h"

#ifndef GH_VERSION
#define GH_VERSION "0.3.0"
#endif

void gh_l_setint(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

void gh_l_setstr(lua_State *L, const char *k, const char *s)
{
	lua_pushstring(L, s);
	lua_setfield(L, -2, k);
}

void gh_l_setbool(lua_State *L, const char *k, int b)
{
	lua_pushboolean(L, b);
	lua_setfield(L, -2, k);
}

int gh_l_newclass(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods,
		  const luaL_Reg *funcs)
{
	if (luaL_newmetatable(L, name)) { /* also sets __name */
		luaL_setfuncs(L, meta, 0);
		lua_newtable(L);
		luaL_setfuncs(L, methods, 0);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	lua_newtable(L);
	luaL_setfuncs(L, funcs, 0);
	return 1;
}

int gh_l_fail_msg(lua_State *L, const char *msg, int err)
{
	lua_pushnil(L);
	lua_pushstring(L, msg);
	lua_pushstring(L, gh_errno_name(err < 0 ? -err : err));
	return 3;
}

int gh_l_fail(lua_State *L, const char *what, int err)
{
	err = err < 0 ? -err : err;
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", what, strerror(err));
	lua_pushstring(L, gh_errno_name(err));
	return 3;
}

/* core.sha256(s) -> 64 lowercase hex digits */
static int l_core_sha256(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	char hex[GH_SHA256_HEX_LEN + 1];

	if (gh_sha256_hex(s, n, hex))
		return luaL_error(L, "sha256: OpenSSL failed to compute the digest");
	lua_pushstring(L, hex);
	return 1;
}

static int push_clock(lua_State *L, clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	lua_pushinteger(L, (lua_Integer)t.tv_sec * 1000000000 + t.tv_nsec);
	return 1;
}

/* core.now() -> wall-clock nanoseconds since the epoch */
static int l_core_now(lua_State *L)
{
	return push_clock(L, CLOCK_REALTIME);
}

/* core.monotonic() -> monotonic nanoseconds */
static int l_core_monotonic(lua_State *L)
{
	return push_clock(L, CLOCK_MONOTONIC);
}

/* core.signal_name(n) -> "SIGKILL" */
static int l_core_signal_name(lua_State *L)
{
	lua_pushstring(L, gh_signal_name((int)luaL_checkinteger(L, 1)));
	return 1;
}

/* core.access(path, "r"|"w"|"x"|"") -> boolean: access(2) for the real user. */
static int l_core_access(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1), *m = luaL_optstring(L, 2, "");
	int mode = F_OK;

	if (strchr(m, 'r'))
		mode |= R_OK;
	if (strchr(m, 'w'))
		mode |= W_OK;
	if (strchr(m, 'x'))
		mode |= X_OK;
	lua_pushboolean(L, access(path, mode) == 0);
	return 1;
}

/* core.errno_name(n) -> "ENOENT" */
static int l_core_errno_name(lua_State *L)
{
	lua_pushstring(L, gh_errno_name((int)luaL_checkinteger(L, 1)));
	return 1;
}

/* core.uname() -> {sysname, nodename, release, machine} | nil, msg, code */
static int l_core_uname(lua_State *L)
{
	struct utsname u;

	if (uname(&u))
		return gh_l_fail(L, "uname", errno);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, u.sysname);
	lua_setfield(L, -2, "sysname");
	lua_pushstring(L, u.nodename);
	lua_setfield(L, -2, "nodename");
	lua_pushstring(L, u.release);
	lua_setfield(L, -2, "release");
	lua_pushstring(L, u.machine);
	lua_setfield(L, -2, "machine");
	return 1;
}

/* core.getcwd() -> path | nil, msg, code */
static int l_core_getcwd(lua_State *L)
{
	char buf[PATH_MAX];

	if (!getcwd(buf, sizeof(buf)))
		return gh_l_fail(L, "getcwd", errno);
	lua_pushstring(L, buf);
	return 1;
}

/* core.getuid() -> the effective user id of glasshouse */
static int l_core_getuid(lua_State *L)
{
	lua_pushinteger(L, geteuid());
	return 1;
}

/* core.getpid() -> pid of glasshouse */
static int l_core_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

/*
 * core.write_file_atomic(path, data) -> true | nil, msg, code
 * Writes a temporary file beside path and renames it over path, so a reader sees the old file or
 * the whole new one, never a part. No fsync: it costs a disk flush per run (milliseconds on a VM)
 * and guards only against the machine crashing in the next seconds.
 */
static int l_core_write_file_atomic(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t n;
	const char *data = luaL_checklstring(L, 2, &n);
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return gh_l_fail(L, path, ENAMETOOLONG);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return gh_l_fail(L, lua_pushfstring(L, "cannot write %s", path), errno);
	err = -gh_write_all(fd, data, n);
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		unlink(tmp);
		return gh_l_fail(L, lua_pushfstring(L, "cannot write %s", path), err);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* String argument arg as a C string, or NULL when it holds a NUL: C would stop reading there. */
static const char *check_cstring(lua_State *L, int arg)
{
	size_t n;
	const char *s = luaL_checklstring(L, arg, &n);

	if (strlen(s) != n)
		return NULL;
	return s;
}

/* core.parse_uint(s, lo, hi) -> n | nil, msg, code: s as plain decimal digits, lo <= n <= hi */
static int l_core_parse_uint(lua_State *L)
{
	const char *s = check_cstring(L, 1);
	lua_Integer lo = luaL_checkinteger(L, 2), hi = luaL_checkinteger(L, 3);
	uint64_t v;
	int err;

	luaL_argcheck(L, lo >= 0, 2, "must not be negative");
	luaL_argcheck(L, hi >= lo, 3, "must not be below lo");
	err = s ? gh_parse_uint(s, (uint64_t)lo, (uint64_t)hi, &v) : -EINVAL;
	if (err == -ERANGE)
		return gh_l_fail_msg(L, lua_pushfstring(L, "not from %I to %I", lo, hi), err);
	if (err)
		return gh_l_fail_msg(L, "not a plain decimal number", err);
	lua_pushinteger(L, (lua_Integer)v); /* v <= hi, a lua_Integer */
	return 1;
}

/* core.parse_kv(s) -> key, value | nil, msg, code: s split as KEY=VALUE, KEY of [A-Za-z0-9_] */
static int l_core_parse_kv(lua_State *L)
{
	const char *s = check_cstring(L, 1), *value;
	size_t klen;

	if (!s || gh_parse_kv(s, &klen, &value))
		return gh_l_fail_msg(L, "not KEY=VALUE with KEY of letters, digits and _", EINVAL);
	lua_pushlstring(L, s, klen);
	lua_pushstring(L, value);
	return 2;
}

int luaopen_glasshouse_core(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "sha256", l_core_sha256 },
		{ "json_encode", gh_l_json_encode },
		{ "json_unescape_bytes", gh_l_json_unescape_bytes },
		{ "now", l_core_now },
		{ "monotonic", l_core_monotonic },
		{ "signal_name", l_core_signal_name },
		{ "errno_name", l_core_errno_name },
		{ "access", l_core_access },
		{ "getuid", l_core_getuid },
		{ "uname", l_core_uname },
		{ "getcwd", l_core_getcwd },
		{ "getpid", l_core_getpid },
		{ "write_file_atomic", l_core_write_file_atomic },
		{ "parse_uint", l_core_parse_uint },
		{ "parse_kv", l_core_parse_kv },
		{ NULL, NULL },
	};

	luaL_newlib(L, fns);
	lua_pushstring(L, GH_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushlightuserdata(L, NULL); /* the same value as cjson.null */
	lua_setfield(L, -2, "null");
	return 1;
}
