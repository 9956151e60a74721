// SPDX-License-Identifier: MIT
/* The event log: one JSON line per event as it is drained, buffered for a slow reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/evlog.h"
#include "core/json.h"
#include "core/names.h"

int gh_evlog_open(struct gh_evlog *l, const char *path, const struct gh_outfile_opts *o)
{
	int e;

	memset(l, 0, sizeof(*l));
	l->limit = GH_EVLOG_LIMIT;
	e = gh_outfile_open(&l->f, path, o);
	if (e)
		return e;
	/* A FIFO's reader must never hold up the drain: writes during the run do not wait. */
	if (l->f.direct)
		fcntl(l->f.fd, F_SETFL, fcntl(l->f.fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

int gh_evlog_line(struct gh_evlog *l, const char *json, size_t n)
{
	if (gh_buf_append(&l->pending, json, n) || gh_buf_putc(&l->pending, '\n'))
		return -ENOMEM;
	return 0;
}

/* The event's named fields as JSON members (gh_event_fields' sink). */
struct line {
	struct gh_buf *b;
	int n; /* members written */
};

static void key(struct line *l, const char *k)
{
	gh_buf_puts(l->b, l->n++ ? ",\"" : "{\"");
	gh_buf_puts(l->b, k);
	gh_buf_puts(l->b, "\":");
}

static void j_integer(void *ctx, const char *k, long long v)
{
	key(ctx, k);
	gh_json_integer(((struct line *)ctx)->b, v);
}

static void j_string(void *ctx, const char *k, const char *s, size_t n)
{
	key(ctx, k);
	gh_json_string(((struct line *)ctx)->b, s, n);
}

static void j_boolean(void *ctx, const char *k, int v)
{
	key(ctx, k);
	gh_buf_puts(((struct line *)ctx)->b, v ? "true" : "false");
}

static void j_argv(void *ctx, const char *k, const char *argv, size_t len)
{
	struct gh_buf *b = ((struct line *)ctx)->b;
	size_t i = 0;

	key(ctx, k);
	gh_buf_putc(b, '[');
	while (i < len) {
		const char *nul = memchr(argv + i, '\0', len - i);
		size_t end = nul ? (size_t)(nul - argv) : len;

		if (i)
			gh_buf_putc(b, ',');
		gh_json_string(b, argv + i, end - i);
		i = end + 1;
	}
	gh_buf_putc(b, ']');
}

static const struct gh_field_sink json_fields = { j_integer, j_string, j_boolean, j_argv };

/*
 * "rec": the record itself, every header field of struct gh_event in this order (the reader
 * rebuilds it from the same list), then its strings, for replay (docs/events.md). A field added
 * to struct gh_event and not here fails the build (the sizes below no longer add up).
 */
#define GH_REC_FIELDS(X)                                                                           \
	X(kind)                                                                                    \
	X(syscall)                                                                                 \
	X(pid)                                                                                     \
	X(tid)                                                                                     \
	X(ppid)                                                                                    \
	X(flags)                                                                                   \
	X(time_ns)                                                                                 \
	X(ret)                                                                                     \
	X(sock)                                                                                    \
	X(mode)                                                                                    \
	X(flags2)                                                                                  \
	X(sock_type)                                                                               \
	X(truncated)                                                                               \
	X(uid)                                                                                     \
	X(gid)                                                                                     \
	X(euid)                                                                                    \
	X(exe_ctime_nsec)                                                                          \
	X(exe_ctime_sec)

#define GH_REC_SIZE(name)  +sizeof(((struct gh_event *)0)->name)
#define GH_REC_COUNT(name) +1
/* nstr is the length of the list of strings; pad is padding. */
_Static_assert(sizeof(struct gh_event) == 0 GH_REC_FIELDS(GH_REC_SIZE) +
						  sizeof(((struct gh_event *)0)->nstr) +
						  sizeof(((struct gh_event *)0)->pad),
	       "a field of struct gh_event is missing from GH_REC_FIELDS");
enum { GH_REC_NFIELDS = 0 GH_REC_FIELDS(GH_REC_COUNT) };

static void record(struct gh_buf *b, const struct gh_event_view *v)
{
	const struct gh_event *h = &v->h;
	unsigned i;

	gh_buf_puts(b, ",\"rec\":[");
#define GH_REC_WRITE(name)                                                                         \
	gh_json_integer(b, (long long)h->name);                                                    \
	gh_buf_putc(b, ',');
	GH_REC_FIELDS(GH_REC_WRITE)
#undef GH_REC_WRITE
	gh_buf_putc(b, '[');
	for (i = 0; i < h->nstr; i++) {
		if (i)
			gh_buf_putc(b, ',');
		gh_json_string(b, v->s[i].p, v->s[i].len);
	}
	gh_buf_puts(b, "]]");
}

enum gh_tap_verdict gh_evlog_tap(void *ctx, const struct gh_event_view *v,
				 const struct gh_resolved *r)
{
	struct gh_evlog *l = ctx;
	struct gh_buf *b = &l->pending;
	struct line line = { b, 0 };
	size_t start = b->len;

	if (b->len - l->off > l->limit || l->err || l->f.fd < 0) {
		l->dropped++;
		return GH_TAP_KEEP;
	}
	gh_event_fields(v, r, &json_fields, &line);
	record(b, v);
	if (gh_buf_puts(b, "}\n")) {
		/* Out of memory part way: take the partial line back, count the event. */
		b->len = start;
		l->dropped++;
		return GH_TAP_KEEP;
	}
	l->events++;
	return GH_TAP_KEEP;
}

int gh_evlog_sock_bytes(struct gh_evlog *l, uint64_t sock, uint64_t sent, uint64_t received)
{
	struct gh_buf *b = &l->sockets;

	gh_buf_puts(b, l->nsockets++ ? ",[" : "[");
	gh_json_integer(b, (long long)sock);
	gh_buf_putc(b, ',');
	gh_json_integer(b, (long long)sent);
	gh_buf_putc(b, ',');
	gh_json_integer(b, (long long)received);
	return gh_buf_putc(b, ']');
}

int gh_evlog_flush(struct gh_evlog *l)
{
	while (!l->err && l->off < l->pending.len) {
		ssize_t n = write(l->f.fd, l->pending.data + l->off, l->pending.len - l->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			l->err = n < 0 ? -errno : -EIO;
			snprintf(l->f.errmsg, sizeof(l->f.errmsg), "cannot write %s: %s", l->f.path,
				 strerror(-l->err));
			break;
		}
		l->off += (size_t)n;
		l->bytes += (uint64_t)n;
	}
	if (l->off == l->pending.len) {
		gh_buf_reset(&l->pending);
		l->off = 0;
	} else if (l->off > (1u << 20)) {
		memmove(l->pending.data, l->pending.data + l->off, l->pending.len - l->off);
		l->pending.len -= l->off;
		l->off = 0;
	}
	return l->err;
}

int gh_evlog_close(struct gh_evlog *l)
{
	int e;

	if (l->f.fd < 0)
		return -EBADF;
	if (l->f.direct)
		fcntl(l->f.fd, F_SETFL, fcntl(l->f.fd, F_GETFL) & ~O_NONBLOCK);
	e = gh_evlog_flush(l);
	if (!e)
		e = gh_outfile_commit(&l->f);
	else
		gh_outfile_abort(&l->f);
	gh_buf_free(&l->pending);
	gh_buf_free(&l->sockets);
	l->f.fd = -1;
	return e;
}

void gh_evlog_abort(struct gh_evlog *l)
{
	gh_outfile_abort(&l->f);
	gh_buf_free(&l->pending);
	gh_buf_free(&l->sockets);
}

int gh_evlog_sockets_line(struct gh_evlog *l)
{
	struct gh_buf *b = &l->pending;

	gh_buf_puts(b, "{\"kind\":\"sockets\",\"sockets\":[");
	if (l->nsockets)
		gh_buf_append(b, l->sockets.data, l->sockets.len);
	return gh_buf_puts(b, "]}\n");
}

/* Reading. */

int gh_evlog_reader_open(struct gh_evlog_reader *rd, const char *path)
{
	memset(rd, 0, sizeof(*rd));
	rd->fp = fopen(path, "re");
	if (!rd->fp)
		return -errno;
	return 0;
}

void gh_evlog_reader_close(struct gh_evlog_reader *rd)
{
	if (rd->fp)
		fclose(rd->fp);
	rd->fp = NULL;
	free(rd->line);
	rd->line = NULL;
}

static int bad(struct gh_evlog_reader *rd, const char *why)
{
	snprintf(rd->errmsg, sizeof(rd->errmsg), "%s", why);
	return GH_EVLOG_BAD;
}

/* A JSON integer at *p (strict: optional '-', digits, no leading zero). */
int gh_evlog_read_int(const char **p, const char *end, long long *out)
{
	const char *s = *p;
	int neg = 0;
	unsigned long long v = 0;

	if (s < end && *s == '-')
		neg = 1, s++;
	if (s >= end || *s < '0' || *s > '9' ||
	    (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (unsigned long long)INT64_MAX / 10)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > (unsigned long long)INT64_MAX)
		return -1;
	*out = neg ? -(long long)v : (long long)v;
	*p = s;
	return 0;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A JSON string at *p as gh_json_string writes it, its bytes into out (cap bytes). Length or
 * -1. */
long gh_evlog_read_str(const char **p, const char *end, unsigned char *out, size_t cap)
{
	const char *s = *p;
	size_t n = 0;

	if (s >= end || *s++ != '"')
		return -1;
	while (s < end && *s != '"') {
		unsigned char c = (unsigned char)*s++;
		unsigned u;

		if (c < 0x20 || n + 4 > cap)
			return -1;
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		if (s >= end)
			return -1;
		c = (unsigned char)*s++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			out[n++] = c;
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u':
			if (end - s < 4 || hex4(s, &u))
				return -1;
			s += 4;
			if (u >= 0xdc80 && u <= 0xdcff) {
				out[n++] =
					(unsigned char)(u - 0xdc00); /* a byte that is not UTF-8 */
			} else if (u < 0x80) {
				out[n++] = (unsigned char)u;
			} else if (u < 0x800) {
				out[n++] = (unsigned char)(0xc0 | u >> 6);
				out[n++] = (unsigned char)(0x80 | (u & 0x3f));
			} else if (u < 0xd800 || u > 0xdfff) {
				out[n++] = (unsigned char)(0xe0 | u >> 12);
				out[n++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
				out[n++] = (unsigned char)(0x80 | (u & 0x3f));
			} else {
				return -1; /* the writer never splits characters into surrogates */
			}
			break;
		default:
			return -1;
		}
	}
	if (s >= end)
		return -1;
	*p = s + 1;
	return (long)n;
}

/* The "rec" array at p (after its '['), rebuilt as the record the ring carried. */
static int rebuild(struct gh_evlog_reader *rd, const char *p, const char *end, size_t *reclen)
{
	long long f[GH_REC_NFIELDS];
	struct gh_event h;
	unsigned char *out = rd->rec + sizeof(h);
	size_t cap = sizeof(rd->rec) - sizeof(h);
	unsigned i, nstr = 0;

	for (i = 0; i < GH_REC_NFIELDS; i++) {
		if (gh_evlog_read_int(&p, end, &f[i]) || p >= end || *p++ != ',') {
			snprintf(rd->errmsg, sizeof(rd->errmsg),
				 "the record's fields are not %d integers", GH_REC_NFIELDS);
			return GH_EVLOG_BAD;
		}
	}
	memset(&h, 0, sizeof(h));
	i = 0;
#define GH_REC_READ(name) h.name = (__typeof__(h.name))f[i++];
	GH_REC_FIELDS(GH_REC_READ)
#undef GH_REC_READ
	if (p >= end || *p++ != '[')
		return bad(rd, "the record has no list of strings");
	while (p < end && *p != ']') {
		long n;

		if (nstr && *p++ != ',')
			return bad(rd, "the record's strings are not a list");
		if (nstr == GH_MAX_STRS || cap < 2)
			return bad(rd, "the record has too many strings");
		n = gh_evlog_read_str(&p, end, out + 2, cap - 2 < 65535 ? cap - 2 : 65535);
		if (n < 0)
			return bad(rd, "a string of the record is malformed or too long");
		out[0] = (unsigned char)(n & 0xff);
		out[1] = (unsigned char)(n >> 8);
		out += 2 + n;
		cap -= 2 + (size_t)n;
		nstr++;
	}
	if (end - p != 3 || memcmp(p, "]]}", 3))
		return bad(rd, "the line does not end after the record");
	h.nstr = (unsigned short)nstr;
	memcpy(rd->rec, &h, sizeof(h));
	*reclen = (size_t)(out - rd->rec);
	return GH_EVLOG_EVENT;
}

enum gh_evlog_line_type gh_evlog_next(struct gh_evlog_reader *rd, size_t *reclen)
{
	static const char tag[] = ",\"rec\":[";
	ssize_t n;
	const char *rec;

	errno = 0;
	n = getline(&rd->line, &rd->cap, rd->fp);
	if (n < 0) {
		if (errno)
			return bad(rd, strerror(errno));
		return GH_EVLOG_EOF;
	}
	rd->lineno++;
	if (rd->line[n - 1] != '\n')
		return bad(rd, "the line is cut short (no newline at its end)");
	rd->line[--n] = '\0';
	rd->len = (size_t)n;
	if (n < 10 || memcmp(rd->line, "{\"kind\":\"", 9))
		return bad(rd, "the line is not an object starting with \"kind\"");
	/* Inside a JSON string every '"' follows a backslash, so the tag is the record's. */
	rec = memmem(rd->line, (size_t)n, tag, sizeof(tag) - 1);
	if (!rec)
		return GH_EVLOG_OTHER;
	rec += sizeof(tag) - 1;
	return rebuild(rd, rec, rd->line + n, reclen);
}
