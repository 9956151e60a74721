// SPDX-License-Identifier: MIT
/* Streaming SHA-256 over OpenSSL's EVP interface. */
#include <errno.h>
#include <openssl/evp.h>

#include "core/hash.h"

int gh_sha256_init(struct gh_sha256 *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
		gh_sha256_free(h);
		return -EINVAL;
	}
	return 0;
}

int gh_sha256_update(struct gh_sha256 *h, const void *p, size_t n)
{
	return EVP_DigestUpdate(h->ctx, p, n) ? 0 : -EINVAL;
}

int gh_sha256_final(struct gh_sha256 *h, char hex[GH_SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	int ok = EVP_DigestFinal_ex(h->ctx, md, &len);

	gh_sha256_free(h);
	if (!ok || len * 2 != GH_SHA256_HEX_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[GH_SHA256_HEX_LEN] = '\0';
	return 0;
}

void gh_sha256_free(struct gh_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int gh_sha256_hex(const void *p, size_t n, char hex[GH_SHA256_HEX_LEN + 1])
{
	struct gh_sha256 h;
	int err = gh_sha256_init(&h);

	if (err)
		return err;
	if ((err = gh_sha256_update(&h, p, n))) {
		gh_sha256_free(&h);
		return err;
	}
	return gh_sha256_final(&h, hex);
}
