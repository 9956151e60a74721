/* SPDX-License-Identifier: MIT */
/* The command's output pipes: hashed and passed through as they are read, and at the end handed
 * to a relay when a process that outlives the run still holds one. */
#ifndef GH_BACKEND_STREAM_H
#define GH_BACKEND_STREAM_H

#include <stdint.h>

#include "core/hash.h"

struct gh_stream {
	int fd;		    /* read end of the command's pipe; -1 once closed */
	int out;	    /* where the bytes are passed through */
	int out_broken;	    /* passing through failed; hashing goes on */
	int *reader_closed; /* result flag: the reader went away (EPIPE) */
	uint64_t bytes;
	struct gh_sha256 hash;
};

/* Read, hash and pass through what the pipe holds now (non-blocking); EOF or a reader that went
 * away (EPIPE, flagged) closes it. */
void gh_stream_pass(struct gh_stream *s);

/* At the end: the last bytes both pipes hold are hashed; more[i] is set for a pipe that still
 * has a writer, and those go to a relay process. */
void gh_stream_finish(struct gh_stream s[2], int *more[2]);

#endif
