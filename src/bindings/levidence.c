// SPDX-License-Identifier: MIT
/* glasshouse.evidence: file hashes, Ed25519 keys and signatures, base64, for the attestations. */
#include <errno.h>
#include <limits.h>
#include <lauxlib.h>
#include <lua.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/bindings.h"
#include "core/sign.h"

#define KEY_MT "glasshouse.Key"

struct lkey {
	gh_pkey *k;
	int private;
};

/* evidence.sha256_file(path [, {dev, ino, ctime_sec, ctime_nsec}] [, {user =, follow =}])
 * -> hex, size, real | nil, msg, code (ENOENT, ELOOP for a link, EINVAL for no regular file,
 * ESTALE, EACCES as user). user: core.user's table, opened with that user's rights; follow: a
 * link as the last component is followed; real: the path of the file hashed. */
static int l_evidence_sha256_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct gh_file_ident want;
	struct gh_user user;
	char hex[GH_SHA256_HEX_LEN + 1], msg[4352], real[PATH_MAX];
	struct gh_hash_opts o = { .real = real, .real_len = sizeof(real) };
	uint64_t size;
	int err;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "dev");
		lua_getfield(L, 2, "ino");
		lua_getfield(L, 2, "ctime_sec");
		lua_getfield(L, 2, "ctime_nsec");
		want = (struct gh_file_ident){ (uint64_t)luaL_checkinteger(L, -4),
					       (uint64_t)luaL_checkinteger(L, -3),
					       (int64_t)luaL_checkinteger(L, -2),
					       (uint32_t)luaL_checkinteger(L, -1) };
		lua_pop(L, 4);
		o.want = &want;
	}
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "user") == LUA_TTABLE) {
			gh_l_check_user(L, lua_gettop(L), "evidence.sha256_file", &user);
			o.as = &user;
		} else if (!lua_isnil(L, -1) && lua_toboolean(L, -1)) {
			luaL_error(L,
				   "evidence.sha256_file: user must be core.user's table or false");
		}
		lua_getfield(L, 3, "follow");
		o.follow = lua_toboolean(L, -1);
		lua_pop(L, 2);
	}
	err = gh_sha256_file(path, &o, hex, &size, msg, sizeof(msg));
	if (err == -ENOMEM)
		return gh_l_nomem(L, "evidence.sha256_file");
	if (err)
		return gh_l_fail_msg(L, msg, err);
	lua_pushstring(L, hex);
	lua_pushinteger(L, (lua_Integer)size);
	lua_pushstring(L, real);
	return 3;
}

/* evidence.keygen(prefix [, {uid=, gid=}]) -> keyid | nil, msg, code: PREFIX.key and
 * PREFIX.pub, never over anything, owned by uid:gid when glasshouse runs as root */
static int l_evidence_keygen(lua_State *L)
{
	const char *prefix = luaL_checkstring(L, 1);
	char keyid[GH_SHA256_HEX_LEN + 1], msg[4352];
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int err;

	if (lua_istable(L, 2)) {
		if (lua_getfield(L, 2, "uid") != LUA_TNIL)
			uid = (uid_t)luaL_checkinteger(L, -1);
		if (lua_getfield(L, 2, "gid") != LUA_TNIL)
			gid = (gid_t)luaL_checkinteger(L, -1);
		lua_pop(L, 2);
	}
	err = gh_keygen(prefix, uid, gid, keyid, msg, sizeof(msg));

	if (err)
		return gh_l_fail_msg(L, msg, err);
	lua_pushstring(L, keyid);
	return 1;
}

static int push_key(lua_State *L, gh_pkey *k, int private)
{
	struct lkey *u = lua_newuserdatauv(L, sizeof(*u), 0);

	u->k = k;
	u->private = private;
	luaL_setmetatable(L, KEY_MT);
	return 1;
}

/* evidence.load_key(path, owner_uid) -> Key | nil, msg, code: a private Ed25519 key for signing,
 * refused when group or others can read it or its owner is neither owner_uid nor root */
static int l_evidence_load_key(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	uid_t owner = (uid_t)luaL_checkinteger(L, 2);
	char msg[4352];
	gh_pkey *k = gh_key_load_private(path, owner, msg, sizeof(msg));

	if (!k)
		return gh_l_fail_msg(L, msg, errno);
	return push_key(L, k, 1);
}

/* evidence.load_public_key(path) -> Key | nil, msg, code */
static int l_evidence_load_public_key(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char msg[4352];
	gh_pkey *k = gh_key_load_public(path, msg, sizeof(msg));

	if (!k)
		return gh_l_fail_msg(L, msg, errno);
	return push_key(L, k, 0);
}

static struct lkey *check_key(lua_State *L, const char *fn)
{
	struct lkey *u = luaL_checkudata(L, 1, KEY_MT);

	if (!u->k)
		luaL_error(L, "%s: the key is closed", fn);
	return u;
}

/* key:sign(bytes) -> the raw 64-byte Ed25519 signature */
static int l_key_sign(lua_State *L)
{
	struct lkey *u = check_key(L, "key:sign");
	size_t n;
	const char *p = luaL_checklstring(L, 2, &n);
	unsigned char sig[GH_SIG_LEN];

	if (!u->private)
		return luaL_error(L, "key:sign: a public key cannot sign");
	if (gh_sign(u->k, p, n, sig))
		return luaL_error(L, "key:sign: OpenSSL could not sign");
	lua_pushlstring(L, (const char *)sig, sizeof(sig));
	return 1;
}

/* key:verify(bytes, sig) -> whether sig (raw) is this key's signature of bytes */
static int l_key_verify(lua_State *L)
{
	struct lkey *u = check_key(L, "key:verify");
	size_t n, siglen;
	const char *p = luaL_checklstring(L, 2, &n);
	const char *sig = luaL_checklstring(L, 3, &siglen);
	int r = gh_verify(u->k, p, n, (const unsigned char *)sig, siglen);

	if (r == -ENOMEM)
		return gh_l_nomem(L, "key:verify");
	lua_pushboolean(L, r == 1);
	return 1;
}

/* key:keyid() -> lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo */
static int l_key_keyid(lua_State *L)
{
	struct lkey *u = check_key(L, "key:keyid");
	char keyid[GH_SHA256_HEX_LEN + 1];

	if (gh_key_id(u->k, keyid))
		return gh_l_nomem(L, "key:keyid");
	lua_pushstring(L, keyid);
	return 1;
}

/* key:close(): idempotent; also __gc and __close */
static int l_key_close(lua_State *L)
{
	struct lkey *u = luaL_checkudata(L, 1, KEY_MT);

	gh_key_free(u->k);
	u->k = NULL;
	return 0;
}

static int l_key_tostring(lua_State *L)
{
	struct lkey *u = luaL_checkudata(L, 1, KEY_MT);

	lua_pushfstring(L, "glasshouse.Key (%s%s)", u->private ? "private" : "public",
			u->k ? "" : ", closed");
	return 1;
}

/* evidence.base64(bytes) -> standard base64 with padding */
static int l_evidence_base64(lua_State *L)
{
	size_t n;
	const char *p = luaL_checklstring(L, 1, &n);
	size_t out = 4 * ((n + 2) / 3) + 1;
	unsigned char *b = malloc(out);
	int len;

	if (!b)
		return gh_l_nomem(L, "evidence.base64");
	len = EVP_EncodeBlock(b, (const unsigned char *)p, (int)n);
	lua_pushlstring(L, (const char *)b, (size_t)len);
	free(b);
	return 1;
}

/* evidence.unbase64(text) -> bytes | nil, msg, code: standard or URL-safe alphabet, padding
 * optional */
static int l_evidence_unbase64(lua_State *L)
{
	size_t n, i, m = 0, pad;
	const char *s = luaL_checklstring(L, 1, &n);
	unsigned char *t = malloc(n + 4), *out = malloc(n + 4);
	int len;

	if (!t || !out) {
		free(t);
		free(out);
		return gh_l_nomem(L, "evidence.unbase64");
	}
	for (i = 0; i < n && s[i] != '='; i++)
		t[m++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : (unsigned char)s[i];
	for (; i < n && s[i] == '='; i++)
		;
	pad = (4 - m % 4) % 4;
	len = i == n && m % 4 != 1 ? 0 : -1;
	memset(t + m, '=', pad);
	if (!len && m + pad)
		len = EVP_DecodeBlock(out, t, (int)(m + pad));
	free(t);
	if (len < 0) {
		free(out);
		return gh_l_fail_msg(L, "not base64", EINVAL);
	}
	lua_pushlstring(L, (const char *)out, (size_t)len - (len ? pad : 0));
	free(out);
	return 1;
}

int luaopen_glasshouse_evidence(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{ "__gc", l_key_close },
		{ "__close", l_key_close },
		{ "__tostring", l_key_tostring },
		{ NULL, NULL },
	};
	static const luaL_Reg methods[] = {
		{ "sign", l_key_sign },	  { "verify", l_key_verify },
		{ "keyid", l_key_keyid }, { "close", l_key_close },
		{ NULL, NULL },
	};
	static const luaL_Reg fns[] = {
		{ "sha256_file", l_evidence_sha256_file },
		{ "keygen", l_evidence_keygen },
		{ "load_key", l_evidence_load_key },
		{ "load_public_key", l_evidence_load_public_key },
		{ "base64", l_evidence_base64 },
		{ "unbase64", l_evidence_unbase64 },
		{ NULL, NULL },
	};

	return gh_l_newclass(L, KEY_MT, meta, methods, fns);
}
