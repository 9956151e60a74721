// SPDX-License-Identifier: MIT
/* JSON text primitives. Hand-written because lua-cjson escapes '/' and replaces no bytes
 * losslessly. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

size_t gh_utf8_seqlen(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	/* The second byte's range excludes overlongs, surrogates and code points past U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

int gh_json_string(struct gh_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0;
	char esc[7];
	int err;

	if ((err = gh_buf_putc(b, '"')))
		return err;
	while (i < n) {
		size_t len = gh_utf8_seqlen(s + i, n - i);
		const char *rep = NULL;

		if (len == 1 && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') {
			i++;
			run++;
			continue;
		}
		if (len > 1) {
			i += len;
			run += len;
			continue;
		}
		/* Flush the plain run before this byte. */
		if (run && (err = gh_buf_append(b, s + i - run, run)))
			return err;
		run = 0;
		switch (s[i]) {
		case '"':
			rep = "\\\"";
			break;
		case '\\':
			rep = "\\\\";
			break;
		case '\n':
			rep = "\\n";
			break;
		case '\r':
			rep = "\\r";
			break;
		case '\t':
			rep = "\\t";
			break;
		case '\b':
			rep = "\\b";
			break;
		case '\f':
			rep = "\\f";
			break;
		default:
			/* A control character, or a byte outside valid UTF-8 (len == 0). */
			snprintf(esc, sizeof(esc), "\\u%s%c%c", len ? "00" : "dc", hex[s[i] >> 4],
				 hex[s[i] & 15]);
			rep = esc;
		}
		if ((err = gh_buf_puts(b, rep)))
			return err;
		i++;
	}
	if (run && (err = gh_buf_append(b, s + n - run, run)))
		return err;
	return gh_buf_putc(b, '"');
}

int gh_json_integer(struct gh_buf *b, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	return gh_buf_puts(b, tmp);
}

int gh_json_double(struct gh_buf *b, double v)
{
	char tmp[32];
	int prec;

	if (!isfinite(v))
		return -EDOM;
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return gh_buf_puts(b, tmp);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of the \uXXXX escape at p (left bytes from p on), or -1 when p holds none. */
static long u_escape(const char *p, size_t left)
{
	long u = 0;
	int i;

	if (left < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (i = 2; i < 6; i++) {
		if (hexval(p[i]) < 0)
			return -1;
		u = u << 4 | hexval(p[i]);
	}
	return u;
}

size_t gh_json_unescape_bytes(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, len;
	long u;

	while (i < n) {
		if (in[i] != '\\' || i + 1 >= n) {
			out[o++] = in[i++];
			continue;
		}
		u = u_escape(in + i, n - i);
		if (u >= 0xdc80 && u <= 0xdcff) {
			out[o++] = (char)(u & 0xff);
			i += 6;
			continue;
		}
		/*
		 * Any other escape is copied whole so its second char is not re-read ("\\"
		 * included). A high surrogate goes with the escape after it: that is the low half
		 * of a pair (one character, such as U+1F480 "\ud83d\udc80"), never a byte
		 * gh_json_string escaped.
		 */
		len = u < 0 ? 2 : 6;
		if (u >= 0xd800 && u <= 0xdbff && u_escape(in + i + 6, n - i - 6) >= 0)
			len = 12;
		memcpy(out + o, in + i, len);
		o += len;
		i += len;
	}
	return o;
}
