/* SPDX-License-Identifier: MIT */
/*
 * The event log (docs/events.md): JSON Lines written as the run goes (a header, one line per
 * delivered event, trailers), and read back by replay. The writer is a pipeline tap put first,
 * so it sees every event before any filter; the reader rebuilds each record for the pipeline.
 */
#ifndef GH_EVLOG_H
#define GH_EVLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/outfile.h"
#include "core/pipeline.h"

#define GH_EVLOG_FORMAT	 "glasshouse-events"
#define GH_EVLOG_VERSION 1
#define GH_EVLOG_LIMIT	 (64u << 20) /* bytes held for a slow reader before lines are dropped */

struct gh_evlog {
	struct gh_outfile f;
	struct gh_buf pending; /* formatted, not yet written */
	size_t off;	       /* of pending already written */
	size_t limit;
	uint64_t events, dropped, bytes; /* event lines, event lines dropped, bytes written */
	int err;	       /* first write error (-errno), then nothing more is written */
	struct gh_buf sockets; /* the sockets trailer being built */
	unsigned nsockets;
};

/* Open path for the log (gh_outfile_open's rules; a FIFO is written without blocking until
 * close). 0 or -errno with l->f.errmsg set. */
int gh_evlog_open(struct gh_evlog *l, const char *path, const struct gh_outfile_opts *o);
/* Append one line of JSON text (no newline in it): header and trailers. 0 or -ENOMEM. */
int gh_evlog_line(struct gh_evlog *l, const char *json, size_t n);
/* The tap: one event line for every event (never drops the event). */
enum gh_tap_verdict gh_evlog_tap(void *ctx, const struct gh_event_view *v,
				 const struct gh_resolved *r);
/* One socket's byte counts into the sockets trailer (written by gh_evlog_close). */
int gh_evlog_sock_bytes(struct gh_evlog *l, uint64_t sock, uint64_t sent, uint64_t received);
/* The sockets trailer line, after the last gh_evlog_sock_bytes. 0 or -ENOMEM. */
int gh_evlog_sockets_line(struct gh_evlog *l);
/* Write what is pending without blocking (a FIFO's reader may be slow). 0 or -errno. */
int gh_evlog_flush(struct gh_evlog *l);
/* Write everything, waiting for the reader, and put the file in place. 0 or -errno (errmsg). */
int gh_evlog_close(struct gh_evlog *l);
/* Give up: remove a temporary, free everything. Idempotent. */
void gh_evlog_abort(struct gh_evlog *l);

/* Reading a log back. */
struct gh_evlog_reader {
	FILE *fp;
	char *line;
	size_t cap;
	size_t len;
	uint64_t lineno;
	unsigned char rec[sizeof(struct gh_event) + GH_MAX_STRS * (2 + GH_DATA_CAP)];
	char errmsg[256];
};

enum gh_evlog_line_type {
	GH_EVLOG_EOF = 0,
	GH_EVLOG_EVENT = 1, /* rd->rec holds the record: decode it with gh_event_decode */
	GH_EVLOG_OTHER = 2, /* a header or trailer line: rd->line, rd->len */
	GH_EVLOG_BAD = -1,  /* rd->errmsg says why, at rd->lineno */
};

int gh_evlog_reader_open(struct gh_evlog_reader *rd, const char *path);
/* The next line; for events, *reclen is the rebuilt record's length. */
enum gh_evlog_line_type gh_evlog_next(struct gh_evlog_reader *rd, size_t *reclen);
void gh_evlog_reader_close(struct gh_evlog_reader *rd);
/* The JSON integer at *p (advanced past it): 0, or -1 when there is none or it is too big. */
int gh_evlog_read_int(const char **p, const char *end, long long *out);
/* The JSON string at *p (advanced past it), its bytes (\udcXX escapes undone) into out, cap
 * bytes at most: the length, or -1. */
long gh_evlog_read_str(const char **p, const char *end, unsigned char *out, size_t cap);

#endif
