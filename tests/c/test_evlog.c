// SPDX-License-Identifier: MIT
/* The event log's record lines: written by the tap, read back to the very bytes of the record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/evlog.h"

static char path[] = "/tmp/gh-test-evlog-XXXXXX";

/* A record as the ring carries it: kind, fields, then strings (u16 length, bytes). */
static size_t make_record(unsigned char *buf, unsigned kind, const char *const *s,
			  const size_t *len, unsigned n)
{
	struct gh_event h = { .kind = (unsigned short)kind,
			      .nstr = (unsigned short)n,
			      .syscall = 257,
			      .pid = 42,
			      .tid = 43,
			      .flags = 0101,
			      .time_ns = 1796187021005104556ULL,
			      .ret = -2,
			      .sock = 7,
			      .mode = 0644,
			      .flags2 = 2,
			      .truncated = 1 };
	size_t off = sizeof(h);
	unsigned i;

	memcpy(buf, &h, sizeof(h));
	for (i = 0; i < n; i++) {
		buf[off] = (unsigned char)(len[i] & 0xff);
		buf[off + 1] = (unsigned char)(len[i] >> 8);
		memcpy(buf + off + 2, s[i], len[i]);
		off += 2 + len[i];
	}
	return off;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void gh_evlog_tap__hostile_strings__read_back_byte_for_byte(void **state)
{
	static const char *const s[] = { "a\nb\xff\xfe\"\\,\"rec\":[", "\0x\x01\t\xc3\xa9" };
	static const size_t len[] = { 17, 6 };
	unsigned char rec[256];
	size_t n = make_record(rec, 6, s, len, 2), got;
	struct gh_event_view v;
	struct gh_resolved r = { 0 };
	struct gh_evlog l;
	struct gh_evlog_reader rd;

	assert_int_equal(gh_event_decode(rec, n, &v), 0);
	unlink(path);
	assert_int_equal(gh_evlog_open(&l, path, NULL), 0);
	assert_int_equal(gh_evlog_line(&l, "{\"kind\":\"header\"}", 17), 0);
	assert_int_equal(gh_evlog_tap(&l, &v, &r), GH_TAP_KEEP);
	assert_int_equal(gh_evlog_close(&l), 0);
	assert_int_equal(l.events, 1);

	assert_int_equal(gh_evlog_reader_open(&rd, path), 0);
	assert_int_equal(gh_evlog_next(&rd, &got), GH_EVLOG_OTHER);
	assert_string_equal(rd.line, "{\"kind\":\"header\"}");
	assert_int_equal(gh_evlog_next(&rd, &got), GH_EVLOG_EVENT);
	assert_int_equal(got, n);
	assert_memory_equal(rd.rec, rec, n);
	assert_int_equal(gh_evlog_next(&rd, &got), GH_EVLOG_EOF);
	gh_evlog_reader_close(&rd);
	unlink(path);
}

/* The first line of text: its type and, when bad, the reason. */
static int first(const char *text, const char **why)
{
	static struct gh_evlog_reader rd;
	size_t n;
	int t;

	write_file(text);
	assert_int_equal(gh_evlog_reader_open(&rd, path), 0);
	t = gh_evlog_next(&rd, &n);
	*why = rd.errmsg;
	gh_evlog_reader_close(&rd);
	return t;
}

static void gh_evlog_next__damaged_lines__bad_with_reason(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "{\"kind\":\"open\",\"rec\":[6,257,1,1,0,0,5,3,0,0,0,0,0,0,0,0,0,0,[\"/x\"]]}",
		  "the line is cut short (no newline at its end)" },
		{ "[1]\n", "the line is not an object starting with \"kind\"" },
		{ "{\"kind\":\"open\",\"rec\":[6,257,1]}\n",
		  "the record's fields are not 18 integers" },
		{ "{\"kind\":\"open\",\"rec\":[6,257,1,1,0,0,5,3,0,0,0,0,0,0,0,0,0,0,1.5]}\n",
		  "the record has no list of strings" },
		{ "{\"kind\":\"open\",\"rec\":[6,257,1,1,0,0,5,3,0,0,0,0,0,0,0,0,0,0,[\"\\ud800\"]]"
		  "}\n",
		  "a string of the record is malformed or too long" },
		{ "{\"kind\":\"open\",\"rec\":[6,257,1,1,0,0,5,3,0,0,0,0,0,0,0,0,0,0,[\"a\",\"b\","
		  "\"c\","
		  "\"d\",\"e\"]]}\n",
		  "the record has too many strings" },
		{ "{\"kind\":\"open\",\"rec\":[6,257,1,1,0,0,5,3,0,0,0,0,0,0,0,0,0,0,[]],\"x\":1}"
		  "\n",
		  "the line does not end after the record" },
		{ "{\"kind\":\"open\",\"rec\":[6,257,1,1,0,0,05,3,0,0,0,0,0,0,0,0,0,0,[]]}\n",
		  "the record's fields are not 18 integers" },
	};
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(first(cases[i].text, &why), GH_EVLOG_BAD);
		assert_string_equal(why, cases[i].why);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gh_evlog_tap__hostile_strings__read_back_byte_for_byte),
		cmocka_unit_test(gh_evlog_next__damaged_lines__bad_with_reason),
	};
	int fd = mkstemp(path);

	close(fd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
