/* SPDX-License-Identifier: MIT */
/* JSON text primitives: strings with lossless bytes, numbers; the ordered encoder is built on them.
 */
#ifndef GH_JSON_H
#define GH_JSON_H

#include <stddef.h>

#include "core/buf.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not valid UTF-8. */
size_t gh_utf8_seqlen(const unsigned char *s, size_t n);

/*
 * Append s as a quoted JSON string. Valid UTF-8 is written as is (only '"', '\\' and control
 * characters are escaped; '/' is not). Each byte that is not part of valid UTF-8 is written as
 * the escape \udcXX (PEP 383 "surrogateescape"), so any byte string round-trips. 0 or -ENOMEM.
 */
int gh_json_string(struct gh_buf *b, const char *s, size_t n);

/* Append an integer. 0 or -ENOMEM. */
int gh_json_integer(struct gh_buf *b, long long v);

/* Append a float in the shortest form that reads back exactly. -EDOM for NaN and infinities. */
int gh_json_double(struct gh_buf *b, double v);

/*
 * Undo gh_json_string's byte escapes in a JSON text before a UTF-8 decoder sees it: each
 * \udc80..\udcff escape becomes the raw byte. Writes into out (at least n bytes); returns the new
 * length. Escaped backslashes are honoured, so "\\udc80" stays text.
 */
size_t gh_json_unescape_bytes(const char *in, size_t n, char *out);

#endif
