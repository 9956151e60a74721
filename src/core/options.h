/* SPDX-License-Identifier: MIT */
/* Settings given as text (environment variables, --backend-opt): strict parsers, no locale. */
#ifndef GH_OPTIONS_H
#define GH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s as a plain decimal number from lo to hi into *out. Only digits are accepted: no sign,
 * space, hex, fraction or exponent, and no leading zero ("0" itself is fine), so that "010" is
 * not read as ten by one program and eight by another. 0, -EINVAL when s is not such a number
 * (or lo > hi), -ERANGE when it is but lies outside lo..hi or past UINT64_MAX. *out is written
 * only on success.
 */
int gh_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/*
 * Split s as KEY=VALUE, KEY one or more of [A-Za-z0-9_] and VALUE anything (empty too): the key
 * is the first *klen bytes of s, *value points just past the '='. 0 or -EINVAL; outputs are
 * written only on success.
 */
int gh_parse_kv(const char *s, size_t *klen, const char **value);

#endif
