// SPDX-License-Identifier: MIT
/* Settings given as text: plain decimal numbers and KEY=VALUE. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/options.h"

#define UNSET 0xdeadbeefULL

/* gh_parse_uint on s with the bounds lo..hi; *out holds the number, or UNSET when it failed. */
static int parse(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	*out = UNSET;
	return gh_parse_uint(s, lo, hi, out);
}

static void gh_parse_uint__plain_decimal__value(void **state)
{
	uint64_t v;

	assert_int_equal(parse("4096", 4, 4194304, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse("4", 4, 4, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(parse("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void gh_parse_uint__other_spellings__einval(void **state)
{
	static const char *const bad[] = {
		"",	 "0x1000", " 16",      "16 ", "\t16", "16\n", "+16",
		"-16",	 "4096.0", "1e3",      "010", "00",   "abc",  "16k",
		"1_000", "1,000",  "\xd9\xa3", "inf", "nan",  "0b10",
	};
	size_t i;
	uint64_t v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], 0, UINT64_MAX, &v), -EINVAL);
		assert_true(v == UNSET);
	}
	assert_int_equal(parse(NULL, 0, 10, &v), -EINVAL);
}

static void gh_parse_uint__outside_bounds_or_uint64__erange(void **state)
{
	uint64_t v;

	assert_int_equal(parse("3", 4, 4194304, &v), -ERANGE);
	assert_int_equal(parse("4194305", 4, 4194304, &v), -ERANGE);
	assert_int_equal(parse("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse("99999999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_true(v == UNSET);
}

static void gh_parse_uint__garbage_after_overflow__einval(void **state)
{
	uint64_t v;

	assert_int_equal(parse("99999999999999999999999999x", 0, UINT64_MAX, &v), -EINVAL);
}

static void gh_parse_uint__lo_above_hi__einval(void **state)
{
	uint64_t v;

	assert_int_equal(parse("5", 10, 1, &v), -EINVAL);
	assert_true(v == UNSET);
}

static void gh_parse_kv__key_and_value__split(void **state)
{
	const char *s = "api_socket=/run/fc.sock", *value = NULL;
	size_t klen = 0;

	assert_int_equal(gh_parse_kv(s, &klen, &value), 0);
	assert_int_equal(klen, 10);
	assert_ptr_equal(value, s + 11);
	assert_string_equal(value, "/run/fc.sock");
}

static void gh_parse_kv__empty_value_and_more_equals__kept(void **state)
{
	const char *value = NULL;
	size_t klen = 0;

	assert_int_equal(gh_parse_kv("kernel=", &klen, &value), 0);
	assert_int_equal(klen, 6);
	assert_string_equal(value, "");
	assert_int_equal(gh_parse_kv("K_9=a=b c", &klen, &value), 0);
	assert_int_equal(klen, 3);
	assert_string_equal(value, "a=b c");
}

static void gh_parse_kv__bad_key_or_no_equals__einval(void **state)
{
	static const char *const bad[] = { "",	   "=x",   "kernel",	 "a-b=x",
					   " k=x", "k =x", "k\xc3\xa9=x" };
	const char *value = NULL;
	size_t klen = 0, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gh_parse_kv(bad[i], &klen, &value), -EINVAL);
		assert_int_equal(klen, 0);
		assert_null(value);
	}
	assert_int_equal(gh_parse_kv(NULL, &klen, &value), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gh_parse_uint__plain_decimal__value),
		cmocka_unit_test(gh_parse_uint__other_spellings__einval),
		cmocka_unit_test(gh_parse_uint__outside_bounds_or_uint64__erange),
		cmocka_unit_test(gh_parse_uint__garbage_after_overflow__einval),
		cmocka_unit_test(gh_parse_uint__lo_above_hi__einval),
		cmocka_unit_test(gh_parse_kv__key_and_value__split),
		cmocka_unit_test(gh_parse_kv__empty_value_and_more_equals__kept),
		cmocka_unit_test(gh_parse_kv__bad_key_or_no_equals__einval),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
