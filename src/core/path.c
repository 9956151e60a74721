// SPDX-License-Identifier: MIT
/* Lexical path resolution: what the receipt needs for relative names, without touching the
 * file system (the files may be gone by the time the record is read). */
#include <errno.h>
#include <string.h>

#include "core/path.h"

int gh_path_from_walk(struct gh_buf *out, const char *walk, size_t len)
{
	size_t end = len;

	gh_buf_reset(out);
	/* Components are leaf first: emit them from the last one back. */
	while (end > 0) {
		size_t stop = end - 1, start; /* walk[stop] is the NUL ending a component */

		if (walk[stop] != '\0')
			stop = end; /* a final component cut without its NUL */
		start = stop;
		while (start > 0 && walk[start - 1] != '\0')
			start--;
		if (stop > start && /* an empty component (never sent by the kernel side) adds
				       nothing */
		    (gh_buf_putc(out, '/') || gh_buf_append(out, walk + start, stop - start)))
			return -ENOMEM;
		end = start;
	}
	if (out->len == 0 && gh_buf_putc(out, '/'))
		return -ENOMEM;
	return 0;
}

/* Append component c (not "." or "..") or fold it into out, which holds an absolute path. */
static int push(struct gh_buf *out, const char *c, size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		while (out->len > 1 && out->data[out->len - 1] != '/')
			out->len--;
		if (out->len > 1)
			out->len--; /* the slash before the dropped component */
		out->data[out->len] = '\0';
		return 0;
	}
	if (out->len > 1 && gh_buf_putc(out, '/'))
		return -ENOMEM;
	return gh_buf_append(out, c, n);
}

static int push_all(struct gh_buf *out, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && p[j] != '/')
			j++;
		if (push(out, p + i, j - i))
			return -ENOMEM;
		i = j + 1;
	}
	return 0;
}

int gh_path_resolve(struct gh_buf *out, const char *base, size_t blen, const char *name,
		    size_t nlen)
{
	gh_buf_reset(out);
	if (gh_buf_putc(out, '/'))
		return -ENOMEM;
	if (!(nlen > 0 && name[0] == '/') && push_all(out, base, blen))
		return -ENOMEM;
	return push_all(out, name, nlen);
}
