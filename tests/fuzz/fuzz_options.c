// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: any bytes as a GLASSHOUSE_* number and as a --backend-opt KEY=VALUE, each
 * checked against a second, plainer reading of the same rules (strspn for the grammar, strtoull
 * for the value). The first byte picks the bounds; the rest, cut at a NUL as argv and the
 * environment would be, is the text, in an allocation of its exact size so ASan sees over-reads.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"

#define DIGITS	"0123456789"
#define KEYCHAR "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
#define UNSET	0x5eed5eed5eed5eedULL

static const struct {
	uint64_t lo, hi;
} bounds[] = {
	{ 4, 4194304 }, { 1, 16777216 }, { 0, UINT64_MAX },
	{ 0, 0 },	{ 10, 9 },	 { 18446744073709551615ULL, UINT64_MAX },
};

static void check(int cond, const char *what, const char *s)
{
	if (cond)
		return;
	fprintf(stderr, "fuzz_options: %s for '%s'\n", what, s);
	abort();
}

/* What gh_parse_uint should say, reached another way. */
static int expect_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *want)
{
	size_t len = strlen(s);
	unsigned long long v;

	if (!len || strspn(s, DIGITS) != len || (s[0] == '0' && len > 1) || lo > hi)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, NULL, 10);
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*want = v;
	return 0;
}

static void fuzz_uint(const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t got = UNSET, want = UNSET;
	int rc = gh_parse_uint(s, lo, hi, &got);

	check(rc == expect_uint(s, lo, hi, &want), "gh_parse_uint's verdict", s);
	check(got == want, "gh_parse_uint's value", s);
}

static void fuzz_kv(const char *s)
{
	const char *eq = strchr(s, '='), *value = NULL;
	size_t klen = 0, want = eq ? (size_t)(eq - s) : 0;
	int ok = want > 0 && strspn(s, KEYCHAR) == want;
	int rc = gh_parse_kv(s, &klen, &value);

	check(rc == (ok ? 0 : -EINVAL), "gh_parse_kv's verdict", s);
	check(klen == (ok ? want : 0), "gh_parse_kv's key length", s);
	check(value == (ok ? eq + 1 : NULL), "gh_parse_kv's value", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t b, len;
	char *s;

	if (!size)
		return 0;
	b = data[0] % (sizeof(bounds) / sizeof(bounds[0]));
	len = strnlen((const char *)data + 1, size - 1);
	s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, len);
	s[len] = '\0';
	fuzz_uint(s, bounds[b].lo, bounds[b].hi);
	fuzz_kv(s);
	free(s);
	return 0;
}
