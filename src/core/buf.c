// SPDX-License-Identifier: MIT
/* Growable byte buffer, and writing bytes out whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"

int gh_buf_append(struct gh_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int gh_buf_puts(struct gh_buf *b, const char *s)
{
	return gh_buf_append(b, s, strlen(s));
}

int gh_buf_putc(struct gh_buf *b, char c)
{
	return gh_buf_append(b, &c, 1);
}

void gh_buf_reset(struct gh_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void gh_buf_free(struct gh_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int gh_write_all(int fd, const void *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}
