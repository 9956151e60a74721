// SPDX-License-Identifier: MIT
/* Strict parsers for settings given as text; strtoul and tonumber accept too much. */
#include <errno.h>

#include "core/options.h"

int gh_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	int overflow = 0;
	const char *p;

	if (!s || !*s || lo > hi || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		/* Keep reading after an overflow: garbage later on is -EINVAL, not -ERANGE. */
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			overflow = 1;
		else
			v = v * 10 + (uint64_t)(*p - '0');
	}
	if (overflow || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

/* [A-Za-z0-9_], without the locale isalnum would consult. */
static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

int gh_parse_kv(const char *s, size_t *klen, const char **value)
{
	size_t n = 0;

	if (!s)
		return -EINVAL;
	while (key_char(s[n]))
		n++;
	if (!n || s[n] != '=')
		return -EINVAL;
	*klen = n;
	*value = s + n + 1;
	return 0;
}
