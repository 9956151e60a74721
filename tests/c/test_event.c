// SPDX-License-Identifier: MIT
/* The record decoder, the path resolver and the aggregator, table-tested on built records. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "core/aggregator.h"
#include "collector/event.h"
#include "core/path.h"

/* A record: header fields, then up to four strings (len < 0: strlen). */
struct rec {
	unsigned char b[8192];
	size_t len;
};

static void rec_build(struct rec *r, const struct gh_event *h, int n, ...)
{
	va_list ap;
	int i;

	memcpy(r->b, h, sizeof(*h));
	((struct gh_event *)r->b)->nstr = (unsigned short)n;
	r->len = sizeof(*h);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *s = va_arg(ap, const char *);
		int len = va_arg(ap, int);
		size_t l = len < 0 ? strlen(s) : (size_t)len;

		r->b[r->len] = l & 0xff;
		r->b[r->len + 1] = (unsigned char)(l >> 8);
		memcpy(r->b + r->len + 2, s, l);
		r->len += 2 + l;
	}
	va_end(ap);
}

static void decode_rejects_bad_records(void **state)
{
	struct gh_event h = { .kind = GH_EV_OPEN, .pid = 1 };
	struct gh_event_view v;
	struct rec r;

	(void)state;
	assert_int_equal(gh_event_decode(&h, sizeof(h) - 1, &v), -EBADMSG);
	h.kind = 0;
	assert_int_equal(gh_event_decode(&h, sizeof(h), &v), -EPROTO);
	h.kind = GH_EV_KIND_MAX;
	assert_int_equal(gh_event_decode(&h, sizeof(h), &v), -EPROTO);
	h.kind = GH_EV_OPEN;
	h.nstr = GH_MAX_STRS + 1;
	assert_int_equal(gh_event_decode(&h, sizeof(h), &v), -EPROTO);
	h.nstr = 0;
	rec_build(&r, &h, 2, "abc", -1, "defg", -1);
	assert_int_equal(gh_event_decode(r.b, r.len - 1, &v), -EBADMSG); /* string past the end */
	assert_int_equal(gh_event_decode(r.b, sizeof(h) + 1, &v), -EBADMSG); /* half a length */
}

static void decode_points_at_strings(void **state)
{
	struct gh_event h = { .kind = GH_EV_RENAME, .pid = 7, .ret = -2, .truncated = 4 };
	struct gh_event_view v;
	struct rec r;

	(void)state;
	rec_build(&r, &h, 3, "from", -1, "", 0, "t\0o", 3);
	assert_int_equal(gh_event_decode(r.b, r.len, &v), 0);
	assert_int_equal(v.h.pid, 7);
	assert_int_equal(v.h.ret, -2);
	assert_int_equal(v.s[0].len, 4);
	assert_memory_equal(v.s[0].p, "from", 4);
	assert_int_equal(v.s[1].len, 0);
	assert_int_equal(v.s[2].len, 3);
	assert_memory_equal(v.s[2].p, "t\0o", 3);
	assert_int_equal(v.s[3].len, 0); /* missing strings are empty */
	assert_int_equal(v.truncated, 1);
	assert_string_equal(gh_event_kind_name(GH_EV_SENDTO), "send");
	assert_null(gh_event_kind_name(99));
	assert_string_equal(gh_syscall_name(0), "read");
	assert_string_equal(gh_syscall_name(59), "execve");
	assert_null(gh_syscall_name(100000));
}

static void walk_paths(void **state)
{
	static const struct {
		const char *walk;
		size_t len;
		int cut;
		const char *want;
	} t[] = {
		{ "c\0b\0a\0", 6, 0, "/a/b/c" },
		{ "c\0b\0", 4, 1, "(cut)/b/c" }, /* the walk stopped before the root */
		{ "", 0, 1, "(cut)" },
		{ "", 0, 0, "/" },
		{ "tmp\0", 4, 0, "/tmp" },
		{ "cut", 3, 0, "/cut" }, /* a last component without its NUL */
		{ "\xff\xfe\0d\0", 5, 0, "/d/\xff\xfe" },
		{ "b\0\0a\0", 5, 0, "/a/b" }, /* empty components add nothing */
		{ "\0", 1, 0, "/" },	      /* the root's walk: one empty component */
	};
	struct gh_buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(gh_path_from_walk(&b, t[i].walk, t[i].len, t[i].cut), 0);
		assert_string_equal(b.data, t[i].want);
	}
	gh_buf_free(&b);
}

static void resolve_paths(void **state)
{
	static const struct {
		const char *base, *name, *want;
	} t[] = {
		{ "/a/b", "c", "/a/b/c" },
		{ "/a/b", "./c", "/a/b/c" },
		{ "/a/b", "../c", "/a/c" },
		{ "/a/b", "../../../../c", "/c" },
		{ "/a", "/x/./y//z/..", "/x/y" },
		{ "/a", "", "/a" },
		{ "/a", ".", "/a" },
		{ "/a", "..", "/" },
		{ "/", "..", "/" },
		{ "/a/", "b/", "/a/b" },
		{ "//a//b", "c", "/a/b/c" },
		{ "/a", "..b", "/a/..b" },
		{ "/a", ".hidden/./x", "/a/.hidden/x" },
		{ "/d", "bad-\xff\xfe-name", "/d/bad-\xff\xfe-name" },
		/* a cut base stays cut, and .. never folds past the cut */
		{ "(cut)/a/b", "c", "(cut)/a/b/c" },
		{ "(cut)/a/b", "../../../c", "(cut)/c" },
		{ "(cut)", "x/..", "(cut)" },
		{ "(cut)/a", "/abs", "/abs" },
		{ "/(cut)", "x", "/(cut)/x" },
	};
	/* RESOLVE_IN_ROOT: the base is the name's root */
	static const struct {
		const char *base, *name, *want;
	} in[] = {
		{ "/a/b", "/c", "/a/b/c" },
		{ "/a/b", "../../c", "/a/b/c" },
		{ "/a/b", "/x/../../y/./z", "/a/b/y/z" },
		{ "/", "/../etc/x", "/etc/x" },
		{ "/a/b/", "c/..", "/a/b" },
	};
	struct gh_buf b = { 0 };
	char base[4200], name[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(gh_path_resolve(&b, t[i].base, strlen(t[i].base), t[i].name,
						 strlen(t[i].name)),
				 0);
		assert_string_equal(b.data, t[i].want);
	}
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(gh_path_resolve_in(&b, in[i].base, strlen(in[i].base), in[i].name,
						    strlen(in[i].name)),
				 0);
		assert_string_equal(b.data, in[i].want);
	}
	/* Long names stay whole: a 4000-byte base and a 255-byte component. */
	memset(base, 'x', 4000);
	base[0] = '/';
	base[4000] = '\0';
	memset(name, 'n', 255);
	name[255] = '\0';
	assert_int_equal(gh_path_resolve(&b, base, 4000, name, 255), 0);
	assert_int_equal(b.len, 4000 + 1 + 255);
	gh_buf_free(&b);
}

static void format_addresses(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(8080) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct gh_buf b = { 0 };

	(void)state;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in6.sin6_addr = in6addr_loopback;
	assert_int_equal(gh_format_sockaddr(&b, &in, sizeof(in), true), 0);
	assert_string_equal(b.data, "127.0.0.1:8080");
	gh_format_sockaddr(&b, &in, sizeof(in), false);
	assert_string_equal(b.data, "127.0.0.1");
	in.sin_addr.s_addr = htonl(0x0a00ff63); /* every digit count, and a zero */
	in.sin_port = htons(65535);
	gh_format_sockaddr(&b, &in, sizeof(in), true);
	assert_string_equal(b.data, "10.0.255.99:65535");
	in.sin_addr.s_addr = 0;
	in.sin_port = 0;
	gh_format_sockaddr(&b, &in, sizeof(in), true);
	assert_string_equal(b.data, "0.0.0.0:0");
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in.sin_port = htons(8080);
	gh_format_sockaddr(&b, &in6, sizeof(in6), true);
	assert_string_equal(b.data, "[::1]:443");
	gh_format_sockaddr(&b, &in6, sizeof(in6), false);
	assert_string_equal(b.data, "::1");
	strcpy(un.sun_path, "/run/x.sock");
	gh_format_sockaddr(&b, &un, offsetof(struct sockaddr_un, sun_path) + 12, true);
	assert_string_equal(b.data, "/run/x.sock");
	memcpy(un.sun_path, "\0abstract", 9);
	gh_format_sockaddr(&b, &un, offsetof(struct sockaddr_un, sun_path) + 9, true);
	assert_string_equal(b.data, "@abstract");
	gh_format_sockaddr(&b, &un, 2, true);
	assert_string_equal(b.data, "(unnamed)");
	gh_format_sockaddr(&b, &in, 3, true); /* too short for its family */
	assert_string_equal(b.data, "family 2");
	assert_string_equal(gh_protocol_name(AF_INET, SOCK_STREAM), "tcp");
	assert_string_equal(gh_protocol_name(AF_INET6, SOCK_DGRAM), "udp");
	assert_string_equal(gh_protocol_name(AF_UNIX, SOCK_STREAM), "unix");
	assert_string_equal(gh_protocol_name(AF_INET, SOCK_RAW), "raw");
	gh_buf_free(&b);
}

/* Feed one built record to the aggregator. */
static void feed(struct gh_agg *a, struct rec *r)
{
	struct gh_event_view v;

	assert_int_equal(gh_event_decode(r->b, r->len, &v), 0);
	assert_int_equal(gh_agg_event(a, &v), 0);
}

static const char *set_item(struct gh_agg *a, enum gh_pathset s, size_t i)
{
	size_t n;
	const struct gh_istr *const *items = gh_agg_set(a, s, &n);

	assert_true(i < n);
	return items[i]->s;
}

static void aggregate_processes_and_files(void **state)
{
	struct gh_agg *a;
	size_t n;
	struct rec r;
	struct gh_event h;
	struct gh_proc *p;

	(void)state;
	a = gh_agg_new(1000000000);
	assert_non_null(a);
	assert_int_equal(gh_agg_root(a, 10, 9, "/home/u", NULL), 0);

	/* exec of a relative name, against the cwd the record carries (walked, leaf first) */
	h = (struct gh_event){ .kind = GH_EV_EXEC, .pid = 10, .ppid = 9, .time_ns = 1001000000 };
	rec_build(&r, &h, 3, "./bin/tool", -1, "tool\0-v\0", 8, "w\0u\0home\0", 9);
	feed(a, &r);
	/* failed exec in a PATH search of the same name, then success: the miss is dropped */
	h = (struct gh_event){ .kind = GH_EV_EXEC_FAIL, .pid = 10, .ret = -ENOENT };
	rec_build(&r, &h, 2, "/usr/local/bin/tool", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_EXEC_FAIL, .pid = 10, .ret = -EACCES };
	rec_build(&r, &h, 2, "/opt/other", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_EXEC, .pid = 10, .ppid = 9, .time_ns = 1002000000 };
	rec_build(&r, &h, 3, "/usr/bin/tool", -1, "tool\0", 5, "w\0u\0home\0", 9);
	feed(a, &r);

	p = gh_agg_procs(a, &n)[0];
	assert_string_equal(p->exe->s, "/usr/bin/tool");
	assert_string_equal(p->cwd->s, "/home/u/w");
	assert_int_equal(p->nfexec, 1);
	assert_string_equal(p->fexec[0].path->s, "/opt/other");
	assert_int_equal(p->fexec[0].err, EACCES);

	/* chdir, then a cwd-relative open; a dirfd-relative open; a directory; a failure */
	h = (struct gh_event){ .kind = GH_EV_CWD, .pid = 10 };
	rec_build(&r, &h, 1, "tmp\0", 4);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_OPEN,
			       .pid = 10,
			       .ret = 3,
			       .flags = O_WRONLY | O_CREAT,
			       .flags2 = GH_F_CREATED };
	rec_build(&r, &h, 2, "out/../o.txt", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){
		.kind = GH_EV_OPEN, .pid = 10, .ret = 4, .flags = O_RDONLY, .flags2 = GH_F_WALKED
	};
	rec_build(&r, &h, 2, "in.txt", -1, "src\0p\0", 6);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_OPEN, .pid = 10, .ret = 5, .flags = O_RDWR };
	rec_build(&r, &h, 2, "/var/db", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){
		.kind = GH_EV_OPEN, .pid = 10, .ret = 6, .flags = O_RDONLY, .flags2 = GH_F_IS_DIR
	};
	rec_build(&r, &h, 2, ".", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_OPEN, .pid = 10, .ret = -ENOENT, .flags = O_RDONLY };
	rec_build(&r, &h, 2, "missing", -1, "", 0);
	feed(a, &r);
	feed(a, &r); /* the same failure twice is listed once */
	h = (struct gh_event){ .kind = GH_EV_OPEN, .pid = 10, .ret = 7, .flags = O_PATH };
	rec_build(&r, &h, 2, "/handle", -1, "", 0);
	feed(a, &r);

	assert_int_equal((gh_agg_set(a, GH_SET_WRITES, &n), n), 2);
	assert_string_equal(set_item(a, GH_SET_WRITES, 0), "/tmp/o.txt");
	assert_string_equal(set_item(a, GH_SET_WRITES, 1), "/var/db");
	assert_int_equal((gh_agg_set(a, GH_SET_READS, &n), n), 2);
	assert_string_equal(set_item(a, GH_SET_READS, 0), "/p/src/in.txt");
	assert_string_equal(set_item(a, GH_SET_READS, 1), "/var/db"); /* O_RDWR: both */
	assert_int_equal((gh_agg_set(a, GH_SET_CREATED, &n), n), 1);
	assert_string_equal(set_item(a, GH_SET_DIRS, 0), "/tmp");
	assert_int_equal((gh_agg_failed(a, &n), n), 1);
	assert_string_equal(gh_agg_failed(a, &n)[0].path->s, "/tmp/missing");
	assert_string_equal(gh_agg_failed(a, &n)[0].op, "open");

	/* unlink, rmdir, rename and a failed rename */
	h = (struct gh_event){ .kind = GH_EV_UNLINK, .pid = 10 };
	rec_build(&r, &h, 2, "o.txt", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){
		.kind = GH_EV_UNLINK, .pid = 10, .flags2 = GH_F_RMDIR, .ret = -ENOTEMPTY
	};
	rec_build(&r, &h, 2, "/full", -1, "", 0);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_RENAME, .pid = 10 };
	rec_build(&r, &h, 4, "a", -1, "", 0, "../b", -1, "", 0);
	feed(a, &r);
	assert_string_equal(set_item(a, GH_SET_DELETES, 0), "/tmp/o.txt");
	assert_string_equal(gh_agg_failed(a, &n)[1].op, "rmdir");
	assert_int_equal(gh_agg_failed(a, &n)[1].err, ENOTEMPTY);
	assert_string_equal(gh_agg_renames(a, &n)[0].from->s, "/tmp/a");
	assert_string_equal(gh_agg_renames(a, &n)[0].to->s, "/b");

	/* a fork inherits the forking process's image and current directory */
	h = (struct gh_event){
		.kind = GH_EV_FORK, .pid = 11, .ppid = 10, .ret = 10, .time_ns = 1500000000
	};
	rec_build(&r, &h, 0);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_EXIT, .pid = 11, .ret = 9 }; /* SIGKILL */
	rec_build(&r, &h, 0);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_EXIT, .pid = 10, .ret = 3 << 8 };
	rec_build(&r, &h, 0);
	feed(a, &r);
	p = gh_agg_procs(a, &n)[1];
	assert_int_equal(p->ppid, 10);
	assert_string_equal(p->exe->s, "/usr/bin/tool");
	assert_string_equal(p->cwd->s, "/tmp");
	assert_int_equal(p->argv_len, 5);
	assert_true(p->exited);
	assert_int_equal(p->status, 9);
	assert_int_equal(p->start_ns - gh_agg_base(a), 500000000);
	assert_int_equal(gh_agg_procs(a, &n)[0]->status, 3 << 8);
	{
		struct gh_agg_stats st;

		gh_agg_stats(a, &st);
		assert_int_equal(st.unknown_pid, 0);
	}
	gh_agg_free(a);
}

static void aggregate_network(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "s.sock" };
	struct gh_agg *a;
	size_t n;
	struct rec r;
	struct gh_event h;
	uint64_t sent, received;
	const struct gh_attempt *at;

	(void)state;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a = gh_agg_new(0);
	assert_non_null(a);
	gh_agg_root(a, 10, 9, "/w", NULL);
	h = (struct gh_event){
		.kind = GH_EV_CONNECT, .pid = 10, .sock = 100, .sock_type = SOCK_STREAM
	};
	rec_build(&r, &h, 1, (const char *)&in, (int)sizeof(in));
	feed(a, &r);
	h.ret = -ECONNREFUSED;
	h.sock = 101;
	rec_build(&r, &h, 1, (const char *)&in, (int)sizeof(in));
	feed(a, &r);
	feed(a, &r); /* the same refused attempt again: counted */
	h = (struct gh_event){
		.kind = GH_EV_SENDTO, .pid = 10, .sock = 102, .ret = 12, .sock_type = SOCK_DGRAM
	};
	rec_build(&r, &h, 1, (const char *)&in, (int)sizeof(in));
	feed(a, &r);
	feed(a, &r);
	h = (struct gh_event){ .kind = GH_EV_CONNECT,
			       .pid = 10,
			       .sock = 103,
			       .ret = -EINPROGRESS,
			       .sock_type = SOCK_STREAM };
	rec_build(&r, &h, 1, (const char *)&un, (int)(offsetof(struct sockaddr_un, sun_path) + 7));
	feed(a, &r);
	gh_agg_sock_bytes(a, 100, 1000, 2500);
	gh_agg_sock_bytes(a, 102, 24, 5);
	gh_agg_sock_bytes(a, 999, 7, 7); /* a socket no attempt names: not attributed */

	assert_int_equal((gh_agg_attempts(a, &n), n), 4);
	at = &gh_agg_attempts(a, &n)[0];
	assert_string_equal(at->dst->s, "127.0.0.1:80");
	assert_string_equal(at->result, "connected");
	assert_int_equal(at->sent, 1000);
	assert_int_equal(at->received, 2500);
	at = &gh_agg_attempts(a, &n)[1];
	assert_string_equal(at->result, "refused");
	assert_int_equal(at->count, 2);
	at = &gh_agg_attempts(a, &n)[2];
	assert_string_equal(at->op, "sendto");
	assert_string_equal(at->protocol, "udp");
	assert_int_equal(at->count, 2);
	assert_int_equal(at->sent, 24); /* what the calls returned, not counted twice */
	assert_int_equal(at->received, 5);
	at = &gh_agg_attempts(a, &n)[3];
	assert_string_equal(at->dst->s, "/w/s.sock"); /* relative unix path made absolute */
	assert_string_equal(at->protocol, "unix");
	assert_string_equal(at->result, "in_progress");
	gh_agg_net_totals(a, &sent, &received);
	assert_int_equal(sent, 1024);
	assert_int_equal(received, 2505);
	gh_agg_free(a);
}

static void intern_and_map(void **state)
{
	struct gh_intern t = { 0 };
	struct gh_map m = { 0 };
	const struct gh_istr *x, *y;
	char key[32];
	size_t i, seen = 0;

	(void)state;
	x = gh_intern(&t, "a\0b", 3);
	y = gh_intern(&t, "a\0b", 3);
	assert_ptr_equal(x, y);
	assert_ptr_not_equal(x, gh_intern(&t, "a", 1));
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_non_null(gh_intern(&t, key, strlen(key)));
		assert_int_equal(gh_map_put(&m, i * 7919, (void *)(i + 1)), 0);
	}
	assert_int_equal(t.n, 5002);
	assert_ptr_equal(gh_map_get(&m, 4999 * 7919), (void *)5000);
	assert_null(gh_map_get(&m, 3));
	for (i = 0; i < 5000; i++)
		seen += gh_map_get(&m, i * 7919) == (void *)(i + 1);
	assert_int_equal(seen, 5000);
	assert_int_equal(m.n, 5000);
	gh_map_free(&m);
	gh_intern_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_rejects_bad_records),
		cmocka_unit_test(decode_points_at_strings),
		cmocka_unit_test(walk_paths),
		cmocka_unit_test(resolve_paths),
		cmocka_unit_test(format_addresses),
		cmocka_unit_test(aggregate_processes_and_files),
		cmocka_unit_test(aggregate_network),
		cmocka_unit_test(intern_and_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
