// SPDX-License-Identifier: MIT
/* The collector's enforcement methods: rules for the kernel, and stopping the tree. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bindings/bindings.h"
#include "bindings/lcollector.h"

/* c:enforce_path(bits, path, prefix) -> true | false: a path rule entry for the kernel (the
 * exact path, or with prefix every path under it), bits the allow and deny bits of each kind
 * (collector.enforcement.path_bits) of every rule matching the entry's whole key; false when
 * it does not fit a key. */
static int l_enforce_path(lua_State *L)
{
	struct gh_collector *c = gh_l_collector_live(L, 1);
	lua_Integer bits = luaL_checkinteger(L, 2);
	size_t len;
	const char *path = luaL_checklstring(L, 3, &len);
	int e;

	luaL_argcheck(L, bits >= 0 && bits <= 0xff, 2, "path rule bits out of range");
	e = gh_collector_enforce_path(c, (unsigned)bits, path, len, lua_toboolean(L, 4));
	if (e == -ENAMETOOLONG) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (e)
		return gh_l_fail(L, "collector: cannot write a path rule", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* c:enforce_net("allow" | "deny", family, addr, port) -> true | false: a connect rule for the
 * kernel. family "inet", "inet6", "unix" or "other"; addr the address as the receipt writes it
 * (nil: any), port a number (nil: any). false when addr is not one the receipt would write as
 * given (not canonical): the kernel could not decide it as the glob does. */
static int l_enforce_net(lua_State *L)
{
	static const char *const fams[] = { "inet", "inet6", "unix", "other", NULL };
	static const unsigned short afs[] = { AF_INET, AF_INET6, AF_UNIX, 0 };
	struct gh_collector *c = gh_l_collector_live(L, 1);
	int deny = luaL_checkoption(L, 2, NULL, (const char *const[]){ "allow", "deny", NULL });
	int fam = luaL_checkoption(L, 3, NULL, fams), e;
	struct gh_enf_net k;

	memset(&k, 0, sizeof(k));
	k.family = afs[fam];
	k.any_addr = lua_isnoneornil(L, 4);
	k.any_port = lua_isnoneornil(L, 5);
	if (!k.any_addr) {
		const char *text = luaL_checkstring(L, 4);
		char back[INET6_ADDRSTRLEN];
		int af = k.family == AF_INET6 ? AF_INET6 : AF_INET;

		if (k.family != AF_INET && k.family != AF_INET6)
			return luaL_error(
				L, "collector:enforce_net: only inet and inet6 have addresses");
		if (inet_pton(af, text, k.addr) != 1 ||
		    !inet_ntop(af, k.addr, back, sizeof(back)) || strcmp(back, text)) {
			lua_pushboolean(L, 0);
			return 1;
		}
	}
	if (!k.any_port) {
		lua_Integer port = luaL_checkinteger(L, 5);

		if (port < 0 || port > 65535)
			return luaL_error(L, "collector:enforce_net: port %d out of range",
					  (int)port);
		k.port = (unsigned short)port;
	}
	e = gh_collector_enforce_net(c, deny, &k);
	if (e)
		return gh_l_fail(L, "collector: cannot write a connect rule", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* The field k of the table at index i, an integer or absent: 0. */
static unsigned mode_field(lua_State *L, int i, const char *k)
{
	lua_Integer v;

	lua_getfield(L, i, k);
	v = luaL_optinteger(L, -1, 0);
	lua_pop(L, 1);
	return (unsigned)v;
}

/* c:enforce{exec =, read =, write =, connect =}: the kernel decides what the rules written
 * cover, per kind (bits from collector.enforcement; absent: user space alone); before the
 * command starts. */
static int l_enforce(lua_State *L)
{
	struct gh_collector *c = gh_l_collector_live(L, 1);
	struct gh_enf_modes m;

	luaL_checktype(L, 2, LUA_TTABLE);
	m.exec = mode_field(L, 2, "exec");
	m.read = mode_field(L, 2, "read");
	m.write = mode_field(L, 2, "write");
	m.net = mode_field(L, 2, "connect");
	gh_collector_enforce(c, &m);
	return 0;
}

/* c:stop(): stop the tree now (a violation user space found). */
static int l_stop(lua_State *L)
{
	int e = gh_collector_stop(gh_l_collector_live(L, 1));

	if (e)
		return gh_l_fail(L, "collector: stopping the tree failed", e);
	lua_pushboolean(L, 1);
	return 1;
}

/* c:stopped() -> whether the tree was stopped (by the kernel or c:stop()). */
static int l_stopped(lua_State *L)
{
	lua_pushboolean(L, gh_collector_stopped(gh_l_collector_live(L, 1)));
	return 1;
}

/* c:kill_tree() -> n | nil, msg, code: SIGKILL what of the tree the kernel still tracks. */
static int l_kill_tree(lua_State *L)
{
	int n = gh_collector_kill_tree(gh_l_collector_live(L, 1));

	if (n < 0)
		return gh_l_fail(L, "collector: cannot name the tree's threads", n);
	lua_pushinteger(L, n);
	return 1;
}

/* c:settle(pids [, timeout_ms]) -> threads still alive: a stopped tree killed to its last
 * thread, draining (so the exits are delivered) every 10 ms until none is left or timeout_ms
 * (default 2000) passed. pids (a set {pid = true}) are killed instead where the kernel's thread
 * ids are not glasshouse's (another pid namespace). */
static int l_settle(lua_State *L)
{
	struct lcollector *lc = gh_l_collector_check(L, 1);
	struct gh_collector *c = gh_l_collector_live(L, 1);
	lua_Integer timeout = luaL_optinteger(L, 3, 2000), waited = 0;
	int alive;

	luaL_checktype(L, 2, LUA_TTABLE);
	for (;;) {
		if (gh_collector_kill_tree(c) == -EOPNOTSUPP) {
			lua_pushnil(L);
			while (lua_next(L, 2)) {
				lua_pop(L, 1);
				if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0)
					kill((pid_t)lua_tointeger(L, -1), SIGKILL);
			}
		}
		gh_collector_drain(c);
		if (lc->log)
			gh_evlog_flush(lc->log);
		alive = gh_collector_tree_alive(c);
		if (alive == 0 || waited >= timeout)
			break;
		usleep(10000);
		waited += 10;
	}
	lua_pushinteger(L, alive);
	return 1;
}

/* c:tree_alive() -> threads of the tree still alive. */
static int l_tree_alive(lua_State *L)
{
	lua_pushinteger(L, gh_collector_tree_alive(gh_l_collector_live(L, 1)));
	return 1;
}

const luaL_Reg gh_l_collector_enforce_methods[] = {
	{ "enforce_path", l_enforce_path },
	{ "enforce_net", l_enforce_net },
	{ "enforce", l_enforce },
	{ "stop", l_stop },
	{ "stopped", l_stopped },
	{ "kill_tree", l_kill_tree },
	{ "tree_alive", l_tree_alive },
	{ "settle", l_settle },
	{ NULL, NULL },
};
