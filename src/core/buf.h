/* SPDX-License-Identifier: MIT */
/* A growable byte buffer, the one output type of the JSON writer and the receipt path code. */
#ifndef GH_BUF_H
#define GH_BUF_H

#include <stddef.h>

struct gh_buf {
	char *data;
	size_t len;
	size_t cap;
};

/* Append n bytes; 0 or -ENOMEM. data stays NUL-terminated after every append. */
int gh_buf_append(struct gh_buf *b, const void *p, size_t n);
int gh_buf_puts(struct gh_buf *b, const char *s);
int gh_buf_putc(struct gh_buf *b, char c);
void gh_buf_reset(struct gh_buf *b);
void gh_buf_free(struct gh_buf *b);

/* Writes all n bytes of p to fd, through short writes and EINTR: 0 or -errno (-EIO when a
 * write makes no progress). */
int gh_write_all(int fd, const void *p, size_t n);

#endif
