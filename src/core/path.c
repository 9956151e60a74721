// SPDX-License-Identifier: MIT
/* Lexical path resolution: what the receipt needs for relative names, without touching the
 * file system (the files may be gone by the time the record is read). */
#include <errno.h>
#include <string.h>

#include "core/path.h"

int gh_path_from_walk(struct gh_buf *out, const char *walk, size_t len, int cut)
{
	size_t end = len;

	gh_buf_reset(out);
	if (cut && gh_buf_append(out, GH_PATH_CUT, sizeof(GH_PATH_CUT) - 1))
		return -ENOMEM;
	/* Components are leaf first: emit them from the last one back. */
	while (end > 0) {
		size_t stop = end - 1, start; /* walk[stop] is the NUL ending a component */

		if (walk[stop] != '\0')
			stop = end; /* a final component cut without its NUL */
		start = stop;
		while (start > 0 && walk[start - 1] != '\0')
			start--;
		if (stop > start && /* an empty component (the root's walk) adds nothing */
		    (gh_buf_putc(out, '/') || gh_buf_append(out, walk + start, stop - start)))
			return -ENOMEM;
		end = start;
	}
	if (out->len == 0 && gh_buf_putc(out, '/'))
		return -ENOMEM;
	return 0;
}

/* Append component c or fold it ("." and "..") into out, which holds an absolute path or a cut
 * one: its first root bytes ("/" or GH_PATH_CUT) are never folded away. */
static int push(struct gh_buf *out, size_t root, const char *c, size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		while (out->len > root && out->data[out->len - 1] != '/')
			out->len--;
		if (out->len > root)
			out->len--; /* the slash before the dropped component */
		out->data[out->len] = '\0';
		return 0;
	}
	if (out->data[out->len - 1] != '/' && gh_buf_putc(out, '/'))
		return -ENOMEM;
	return gh_buf_append(out, c, n);
}

static int push_all(struct gh_buf *out, size_t root, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && p[j] != '/')
			j++;
		if (push(out, root, p + i, j - i))
			return -ENOMEM;
		i = j + 1;
	}
	return 0;
}

int gh_path_resolve_in(struct gh_buf *out, const char *base, size_t blen, const char *name,
		       size_t nlen)
{
	int e = gh_path_resolve(out, base, blen, "", 0);

	return e ? e : push_all(out, out->len, name, nlen);
}

int gh_path_resolve(struct gh_buf *out, const char *base, size_t blen, const char *name,
		    size_t nlen)
{
	size_t cut = sizeof(GH_PATH_CUT) - 1, root = 1;

	gh_buf_reset(out);
	if (nlen > 0 && name[0] == '/')
		blen = 0;
	else if (blen >= cut && !memcmp(base, GH_PATH_CUT, cut)) /* a cut base stays cut */
		root = cut;
	if (gh_buf_append(out, root == 1 ? "/" : GH_PATH_CUT, root))
		return -ENOMEM;
	if (push_all(out, root, base + (root == 1 ? 0 : root), blen - (root == 1 ? 0 : root)))
		return -ENOMEM;
	return push_all(out, root, name, nlen);
}
