// SPDX-License-Identifier: MIT
/* glasshouse.core: hashing, JSON encoding, clocks and names the Lua modules build on. */
#include <arpa/inet.h>
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

#include "backend/backend.h"
#include "core/buf.h"
#include "core/hash.h"
#include "bindings/bindings.h"
#include "core/outfile.h"
#include "core/signals.h"
#include "core/options.h"

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
		return gh_l_nomem(L, "core.sha256");
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
		return gh_l_fail(L, "core: uname", errno);
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
		return gh_l_fail(L, "core: getcwd", errno);
	lua_pushstring(L, buf);
	return 1;
}

/* core.inet_canonical("inet" | "inet6", text) -> the address as the receipt writes it
 * (inet_ntop's form) | nil when text is no address of that family. */
static int l_core_inet_canonical(lua_State *L)
{
	int af = luaL_checkoption(L, 1, NULL, (const char *const[]){ "inet", "inet6", NULL })
			 ? AF_INET6
			 : AF_INET;
	const char *text = luaL_checkstring(L, 2);
	unsigned char addr[16];
	char back[INET6_ADDRSTRLEN];

	if (inet_pton(af, text, addr) != 1 || !inet_ntop(af, addr, back, sizeof(back)))
		lua_pushnil(L);
	else
		lua_pushstring(L, back);
	return 1;
}

/* core.getuid() -> the effective user id of glasshouse */
static int l_core_getuid(lua_State *L)
{
	lua_pushinteger(L, geteuid());
	return 1;
}

/* core.getgid() -> the effective group id of glasshouse */
static int l_core_getgid(lua_State *L)
{
	lua_pushinteger(L, getegid());
	return 1;
}

/* core.getpid() -> pid of glasshouse */
static int l_core_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

/* core.isatty(fd) -> whether fd is a terminal (colour on a terminal only) */
static int l_core_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)) == 1);
	return 1;
}

/* Options table at idx (may be absent) for core.write_file (and collector.event_log). */
void gh_l_outfile_opts(lua_State *L, int idx, struct gh_outfile_opts *o)
{
	*o = (struct gh_outfile_opts){ .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "mode") != LUA_TNIL)
		o->mode = (mode_t)luaL_checkinteger(L, -1) & 0777;
	if (lua_getfield(L, idx, "exclusive") != LUA_TNIL)
		o->exclusive = lua_toboolean(L, -1);
	if (lua_getfield(L, idx, "uid") != LUA_TNIL)
		o->uid = (uid_t)luaL_checkinteger(L, -1);
	if (lua_getfield(L, idx, "gid") != LUA_TNIL)
		o->gid = (gid_t)luaL_checkinteger(L, -1);
	lua_pop(L, 4);
}

/*
 * core.write_file(path, data [, {mode=, exclusive=, uid=, gid=}]) -> true | nil, msg, code
 * The whole file at once, safely (see outfile.h): a reader sees the old file or the whole new
 * one. No fsync: it costs a disk flush per run (milliseconds on a VM) and guards only against
 * the machine crashing in the next seconds.
 */
static int l_core_write_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t n;
	const char *data = luaL_checklstring(L, 2, &n);
	struct gh_outfile_opts o;
	char msg[sizeof(((struct gh_outfile *)0)->errmsg)];
	int err;

	gh_l_outfile_opts(L, 3, &o);
	err = gh_outfile_replace(path, data, n, &o, msg, sizeof(msg));
	if (err)
		return gh_l_fail_msg(L, msg, err);
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * Interrupting scripts. A signal sets a hook on the main Lua thread, as lua.c does for Ctrl-C;
 * the hook raises {glasshouse_signal = N} in user code. While glasshouse's own flow runs
 * (guard > 0) the signal is left for the wait loop to forward to the command instead, so a run
 * that has started a command always waits for it and writes its receipt.
 */
static lua_State *interrupt_L;
static int guard;

static int l_interrupt_tostring(lua_State *L)
{
	lua_getfield(L, 1, "glasshouse_signal");
	lua_pushfstring(L, "interrupted by %s", gh_signal_name((int)lua_tointeger(L, -1)));
	return 1;
}

static void push_interrupt(lua_State *L, int sig)
{
	lua_createtable(L, 0, 1);
	lua_pushinteger(L, sig);
	lua_setfield(L, -2, "glasshouse_signal");
	if (luaL_newmetatable(L, "glasshouse.Interrupt")) {
		lua_pushcfunction(L, l_interrupt_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
}

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	int sig;

	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	if (guard > 0)
		return;
	sig = gh_signals_claim();
	if (!sig)
		return;
	push_interrupt(L, sig);
	lua_error(L);
}

static void arm_interrupt(int signo, void *ctx)
{
	(void)signo;
	lua_sethook(ctx, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void gh_l_interrupts_init(lua_State *L, int guarded)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	interrupt_L = lua_tothread(L, -1);
	lua_pop(L, 1);
	guard = guarded;
	gh_signals_on_arrival(arm_interrupt, interrupt_L);
	if (gh_signals_pending())
		arm_interrupt(0, interrupt_L);
}

static void set_guard(int g)
{
	guard = g;
	if (!guard && interrupt_L && gh_signals_pending())
		arm_interrupt(0, interrupt_L);
}

/* Message handler: a traceback for errors; tables (interrupts, exits, usage) pass through. */
int gh_l_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg && lua_istable(L, 1))
		return 1;
	if (msg && strstr(msg, "\nstack traceback:"))
		return 1; /* a hook's error, raised again with its own traceback */
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

int gh_l_pcall_user(lua_State *L, int nargs, int nresults)
{
	int saved = guard, base = lua_gettop(L) - nargs, status;

	lua_pushcfunction(L, gh_l_traceback);
	lua_insert(L, base);
	set_guard(0);
	status = lua_pcall(L, nargs, nresults, base);
	guard = saved;
	lua_remove(L, base);
	return status;
}

int gh_l_is_control(lua_State *L, int idx)
{
	int top = lua_gettop(L), yes = 0;

	idx = lua_absindex(L, idx);
	if (lua_istable(L, idx))
		yes = lua_getfield(L, idx, "glasshouse_signal") == LUA_TNUMBER ||
		      lua_getfield(L, idx, "glasshouse_exit") == LUA_TNUMBER;
	lua_settop(L, top);
	return yes;
}

/* core.call_user(f, ...) -> true, ... | false, err: pcall for user code (hooks), which a signal
 * may interrupt even inside glasshouse's flow; a string error carries the hook's traceback. */
static int l_core_call_user(lua_State *L)
{
	int status;

	luaL_checkany(L, 1);
	status = gh_l_pcall_user(L, lua_gettop(L) - 1, LUA_MULTRET);
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, 1);
	return lua_gettop(L);
}

/* core.is_control(v) -> whether v is an interrupt or os.exit object, to be raised on */
static int l_core_is_control(lua_State *L)
{
	lua_pushboolean(L, gh_l_is_control(L, 1));
	return 1;
}

static int l_guard_close(lua_State *L)
{
	int *held = luaL_checkudata(L, 1, "glasshouse.SignalGuard");

	if (*held) {
		*held = 0;
		set_guard(guard - 1);
	}
	return 0;
}

/* core.defer_signals() -> a to-be-closed guard: until it is closed, a signal waits for the
 * command (forwarded to it) instead of interrupting the script. */
static int l_core_defer_signals(lua_State *L)
{
	int *held = lua_newuserdatauv(L, sizeof(int), 0);

	*held = 1;
	guard++;
	if (luaL_newmetatable(L, "glasshouse.SignalGuard")) {
		lua_pushcfunction(L, l_guard_close);
		lua_setfield(L, -2, "__close");
		lua_pushcfunction(L, l_guard_close);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return 1;
}

static int l_exit_tostring(lua_State *L)
{
	lua_getfield(L, 1, "glasshouse_exit");
	lua_pushfstring(L, "os.exit(%d)", (int)lua_tointeger(L, -1));
	return 1;
}

/* os.exit([code]) in glasshouse's scripts: raises {glasshouse_exit = code}, so a run under way
 * still waits for its command and writes its receipt before glasshouse exits with code. */
static int l_core_exit(lua_State *L)
{
	lua_Integer code = 0;

	if (lua_isboolean(L, 1))
		code = lua_toboolean(L, 1) ? 0 : 1;
	else if (!lua_isnoneornil(L, 1))
		code = luaL_checkinteger(L, 1);
	lua_createtable(L, 0, 1);
	lua_pushinteger(L, code & 0xff);
	lua_setfield(L, -2, "glasshouse_exit");
	if (luaL_newmetatable(L, "glasshouse.Exit")) {
		lua_pushcfunction(L, l_exit_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
	return lua_error(L);
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
		{ "getgid", l_core_getgid },
		{ "uname", l_core_uname },
		{ "getcwd", l_core_getcwd },
		{ "inet_canonical", l_core_inet_canonical },
		{ "getpid", l_core_getpid },
		{ "isatty", l_core_isatty },
		{ "write_file", l_core_write_file },
		{ "call_user", l_core_call_user },
		{ "is_control", l_core_is_control },
		{ "defer_signals", l_core_defer_signals },
		{ "exit", l_core_exit },
		{ "parse_uint", l_core_parse_uint },
		{ "parse_kv", l_core_parse_kv },
		{ NULL, NULL },
	};

	luaL_newlib(L, fns);
	gh_l_core_priv(L);
	lua_pushstring(L, GH_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushlightuserdata(L, NULL); /* the same value as cjson.null */
	lua_setfield(L, -2, "null");
	return 1;
}
