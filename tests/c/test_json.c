// SPDX-License-Identifier: MIT
/* JSON text primitives: escaping, lossless bytes, numbers. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/json.h"

static char *enc(const char *s, size_t n)
{
	static struct gh_buf b;

	gh_buf_reset(&b);
	assert_int_equal(gh_json_string(&b, s, n), 0);
	return b.data;
}

#define ENC(lit) enc(lit, sizeof(lit) - 1)

static void gh_json_string__plain_and_slash__written_as_is(void **state)
{
	assert_string_equal(ENC("/usr/bin/env"), "\"/usr/bin/env\"");
	assert_string_equal(ENC(""), "\"\"");
}

static void gh_json_string__quotes_backslash_controls__escaped(void **state)
{
	assert_string_equal(ENC("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(ENC("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
	assert_string_equal(ENC("\x01\x1f"), "\"\\u0001\\u001f\"");
	assert_string_equal(enc("a\0b", 3), "\"a\\u0000b\"");
	assert_string_equal(ENC("\x7f"), "\"\x7f\"");
}

static void gh_json_string__valid_utf8__kept(void **state)
{
	assert_string_equal(ENC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

static void gh_json_string__invalid_bytes__surrogate_escaped(void **state)
{
	/* A lone Latin-1 byte, a truncated sequence, an overlong '/', an encoded surrogate. */
	assert_string_equal(ENC("caf\xe9.txt"), "\"caf\\udce9.txt\"");
	assert_string_equal(ENC("\xe2\x82"), "\"\\udce2\\udc82\"");
	assert_string_equal(ENC("\xc0\xaf"), "\"\\udcc0\\udcaf\"");
	assert_string_equal(ENC("\xed\xa0\x80"), "\"\\udced\\udca0\\udc80\"");
	assert_string_equal(ENC("\xf4\x90\x80\x80"), "\"\\udcf4\\udc90\\udc80\\udc80\"");
	assert_string_equal(ENC("\xff"), "\"\\udcff\"");
}

static void gh_utf8_seqlen__table__exact_lengths(void **state)
{
	static const struct {
		const char *s;
		size_t n, want;
	} cases[] = {
		{ "a", 1, 1 },
		{ "\xc3\xa9", 2, 2 },
		{ "\xc3", 1, 0 },
		{ "\xc1\xbf", 2, 0 },
		{ "\xe0\x9f\xbf", 3, 0 },
		{ "\xe0\xa0\x80", 3, 3 },
		{ "\xed\x9f\xbf", 3, 3 },
		{ "\xed\xa0\x80", 3, 0 },
		{ "\xf0\x8f\xbf\xbf", 4, 0 },
		{ "\xf0\x90\x80\x80", 4, 4 },
		{ "\xf4\x8f\xbf\xbf", 4, 4 },
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\x80", 1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(gh_utf8_seqlen((const unsigned char *)cases[i].s, cases[i].n),
				 cases[i].want);
}

static void gh_json_numbers__integers_and_doubles__shortest_exact(void **state)
{
	struct gh_buf b = { 0 };

	assert_int_equal(gh_json_integer(&b, -9223372036854775807LL - 1), 0);
	assert_string_equal(b.data, "-9223372036854775808");
	gh_buf_reset(&b);
	assert_int_equal(gh_json_double(&b, 0.1), 0);
	assert_string_equal(b.data, "0.1");
	gh_buf_reset(&b);
	assert_int_equal(gh_json_double(&b, 1.0 / 3.0), 0);
	assert_string_equal(b.data, "0.3333333333333333");
	gh_buf_reset(&b);
	assert_int_equal(gh_json_double(&b, 1e300), 0);
	assert_string_equal(b.data, "1e+300");
	assert_int_equal(gh_json_double(&b, NAN), -EDOM);
	assert_int_equal(gh_json_double(&b, INFINITY), -EDOM);
	gh_buf_free(&b);
}

/* gh_json_unescape_bytes on a literal, as a C string. */
static const char *unescape(const char *in, size_t n)
{
	static char out[128];

	assert_true(n < sizeof(out));
	out[gh_json_unescape_bytes(in, n, out)] = '\0';
	return out;
}

#define UNESCAPE(lit) unescape(lit, sizeof(lit) - 1)

static void gh_json_unescape_bytes__escapes__become_raw_bytes(void **state)
{
	assert_string_equal(UNESCAPE("\"caf\\udce9\" \"\\\\udce9\" \"\\udb80\" \"\\u00e9\""),
			    "\"caf\xe9\" \"\\\\udce9\" \"\\udb80\" \"\\u00e9\"");
}

static void gh_json_unescape_bytes__surrogate_pair__left_for_the_decoder(void **state)
{
	/* U+1F480 as a pair whose low half is in the byte range, then one lone escaped byte. */
	assert_string_equal(
		UNESCAPE("\"\\ud83d\\udc80\" \"\\uD83D\\uDCFF\" \"\\ud83d\" \"\\udc80\""),
		"\"\\ud83d\\udc80\" \"\\uD83D\\uDCFF\" \"\\ud83d\" \"\x80\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gh_json_string__plain_and_slash__written_as_is),
		cmocka_unit_test(gh_json_string__quotes_backslash_controls__escaped),
		cmocka_unit_test(gh_json_string__valid_utf8__kept),
		cmocka_unit_test(gh_json_string__invalid_bytes__surrogate_escaped),
		cmocka_unit_test(gh_utf8_seqlen__table__exact_lengths),
		cmocka_unit_test(gh_json_numbers__integers_and_doubles__shortest_exact),
		cmocka_unit_test(gh_json_unescape_bytes__escapes__become_raw_bytes),
		cmocka_unit_test(gh_json_unescape_bytes__surrogate_pair__left_for_the_decoder),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
