/* SPDX-License-Identifier: MIT */
/* Paths: absolute names from a process's cwd or a dirfd's path, with . and .. folded. */
#ifndef GH_PATH_H
#define GH_PATH_H

#include <stddef.h>

#include "core/buf.h"

/*
 * A path whose leading components are not known (its kernel walk was cut at its capture limit,
 * PATH_MAX bytes) starts with this instead of "/": "(cut)/c/d" is a path ending in c/d. It
 * cannot be an absolute path, and `..` never folds past it (what lies above is not known).
 */
#define GH_PATH_CUT "(cut)"

/*
 * Turn a kernel path walk (components leaf first, each ended by NUL) into "/a/b/c" in out
 * (replacing its contents); cut: the walk stopped before the root (the path starts with
 * GH_PATH_CUT). An empty walk is "/". 0 or -ENOMEM.
 */
int gh_path_from_walk(struct gh_buf *out, const char *walk, size_t len, int cut);

/*
 * out = name made absolute against base (an absolute path, or one starting with GH_PATH_CUT),
 * then . and .. folded lexically and repeated slashes squeezed. An absolute name ignores base.
 * An empty name is base itself. Bytes are kept as they are (names need not be UTF-8). 0 or
 * -ENOMEM.
 */
int gh_path_resolve(struct gh_buf *out, const char *base, size_t blen, const char *name,
		    size_t nlen);
/* The same with base as the name's root (openat2's RESOLVE_IN_ROOT): a leading slash starts
 * at base, and ".." never folds below it. */
int gh_path_resolve_in(struct gh_buf *out, const char *base, size_t blen, const char *name,
		       size_t nlen);

#endif
