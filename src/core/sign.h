/* SPDX-License-Identifier: MIT */
/* Ed25519 keys and signatures over OpenSSL EVP (no cryptography of our own), and file hashes. */
#ifndef GH_SIGN_H
#define GH_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "core/hash.h"
#include "core/priv.h"

#define GH_SIG_LEN 64 /* an Ed25519 signature */

typedef struct evp_pkey_st gh_pkey; /* OpenSSL's EVP_PKEY */

/*
 * Write PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SubjectPublicKeyInfo PEM) for a new
 * Ed25519 key, both created exclusively (an existing file is an error naming it; nothing is
 * left behind on failure). keyid gets the key id. 0 or -errno, with errmsg filled.
 */
int gh_keygen(const char *prefix, uid_t uid, gid_t gid, char keyid[GH_SHA256_HEX_LEN + 1],
	      char *errmsg, size_t errlen);

/*
 * Read an Ed25519 private key (PEM) from path for signing, refusing a file that is not regular,
 * is readable or writable by group or others, or is owned by anyone but owner or root. NULL
 * with errno set and errmsg ("PATH: what is wrong") filled on failure.
 */
gh_pkey *gh_key_load_private(const char *path, uid_t owner, char *errmsg, size_t errlen);
/* Read an Ed25519 public key (SubjectPublicKeyInfo PEM). NULL with errmsg filled. */
gh_pkey *gh_key_load_public(const char *path, char *errmsg, size_t errlen);
void gh_key_free(gh_pkey *k);
/* Lowercase hex SHA-256 of the key's public half as DER SubjectPublicKeyInfo. 0 or -errno. */
int gh_key_id(gh_pkey *k, char keyid[GH_SHA256_HEX_LEN + 1]);
/* Ed25519 signature of p[0..n) into sig. 0 or -errno. */
int gh_sign(gh_pkey *k, const void *p, size_t n, unsigned char sig[GH_SIG_LEN]);
/* 1: sig is k's signature of p[0..n); 0: it is not; -errno: could not check. */
int gh_verify(gh_pkey *k, const void *p, size_t n, const unsigned char *sig, size_t siglen);

/* The identity a file must still have to be hashed (an exec record's executed file). */
struct gh_file_ident {
	uint64_t dev; /* st_dev as user space sees it (makedev(major, minor)) */
	uint64_t ino;
	int64_t ctime_sec;
	uint32_t ctime_nsec;
};

/* How gh_sha256_file opens what it hashes. */
struct gh_hash_opts {
	const struct gh_file_ident *want; /* hash only a file that still has this identity */
	const struct gh_user *as;	  /* open it as this user (NULL: with our own rights) */
	int follow;			  /* a symbolic link as the last component is followed */
	char *real; /* when set: the opened file's own path (real_len bytes) */
	size_t real_len;
};

/*
 * Stream path's contents through SHA-256 (flat memory whatever its size). Opened with
 * O_NONBLOCK and, unless o->follow, O_NOFOLLOW (-ELOOP for a link), as o->as when given (so a
 * path the command controls gets nothing hashed that its user could not read); only what fstat
 * shows to be a regular file, not on a kernel pseudo-filesystem, is read (else -EINVAL). With
 * o->want, only a file that still has that identity (else -ESTALE). size gets its length.
 * 0 or -errno, errmsg filled.
 */
int gh_sha256_file(const char *path, const struct gh_hash_opts *o, char hex[GH_SHA256_HEX_LEN + 1],
		   uint64_t *size, char *errmsg, size_t errlen);

#endif
