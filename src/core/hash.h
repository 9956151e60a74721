/* SPDX-License-Identifier: MIT */
/* Streaming SHA-256 (OpenSSL EVP), hex-encoded. */
#ifndef GH_HASH_H
#define GH_HASH_H

#include <stddef.h>

#define GH_SHA256_HEX_LEN 64

struct gh_sha256 {
	void *ctx; /* EVP_MD_CTX */
};

/* 0 or -ENOMEM. */
int gh_sha256_init(struct gh_sha256 *h);
int gh_sha256_update(struct gh_sha256 *h, const void *p, size_t n);
/* Writes 64 hex digits and a NUL into hex; frees the context. */
int gh_sha256_final(struct gh_sha256 *h, char hex[GH_SHA256_HEX_LEN + 1]);
void gh_sha256_free(struct gh_sha256 *h);
/* One-shot digest of a buffer. */
int gh_sha256_hex(const void *p, size_t n, char hex[GH_SHA256_HEX_LEN + 1]);

#endif
