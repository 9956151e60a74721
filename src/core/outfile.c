// SPDX-License-Identifier: MIT
/* Files glasshouse writes, made safely by a root process in directories others can write. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/outfile.h"

static int failf(struct gh_outfile *f, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(f->errmsg, sizeof(f->errmsg), "cannot write %s: ", f->path ? f->path : "?");
	if (n < 0 || (size_t)n >= sizeof(f->errmsg))
		return err;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(f->errmsg + n, sizeof(f->errmsg) - (size_t)n, fmt, ap);
		va_end(ap);
	} else {
		snprintf(f->errmsg + n, sizeof(f->errmsg) - (size_t)n, "%s", strerror(-err));
	}
	return err;
}

static mode_t current_umask(void)
{
	mode_t m = umask(077);

	umask(m);
	return m;
}

/*
 * A symbolic link at the path is followed only where nobody but root could have put it there:
 * in a directory owned by root that group and others cannot write (/dev/stdout, /dev/fd/N).
 */
static int trusted_link_dir(const char *path)
{
	char *copy = strdup(path);
	struct stat ds;
	int ok;

	if (!copy)
		return 0;
	ok = stat(dirname(copy), &ds) == 0 && ds.st_uid == 0 && !(ds.st_mode & 022);
	free(copy);
	return ok;
}

static const char *kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file, a FIFO or a character device";
}

/* Open the FIFO or character device at f->path, checked to be the object st describes. */
static int open_direct(struct gh_outfile *f, const struct stat *st, int follow)
{
	struct stat now;
	int flags = O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);

	f->fd = open(f->path, flags);
	if (f->fd < 0) {
		if (errno == ENXIO && S_ISFIFO(st->st_mode))
			return failf(f, -ENXIO, "it is a FIFO with no reader");
		return failf(f, -errno, NULL);
	}
	if (fstat(f->fd, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		close(f->fd);
		f->fd = -1;
		return failf(f, -EAGAIN, "it was replaced while being opened");
	}
	/* Non-blocking only for the open: a slow reader is waited for, not an error. */
	fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK);
	f->direct = 1;
	return 0;
}

/* The owner and mode the new file gets: those of the file it replaces (old may be NULL) when
 * that file belongs to root or to the user the file is for; never anyone else's. */
static void final_owner(const struct gh_outfile_opts *o, const struct stat *old, uid_t *uid,
			gid_t *gid, mode_t *mode)
{
	*uid = o->uid;
	*gid = o->gid;
	*mode = (o->mode ? o->mode : 0644) & ~current_umask() & 0777;
	if (old && (old->st_uid == 0 || (o->uid != (uid_t)-1 && old->st_uid == o->uid))) {
		*uid = old->st_uid;
		*gid = old->st_gid;
		*mode = old->st_mode & 0777;
	}
}

/* A random O_EXCL temporary beside f->path (mkostemp: mode 0600, never through a link). */
static int open_temp(struct gh_outfile *f)
{
	const char *slash = strrchr(f->path, '/');
	size_t dirlen = slash ? (size_t)(slash - f->path) + 1 : 0;

	f->tmp = malloc(strlen(f->path) + sizeof("..XXXXXX"));
	if (!f->tmp)
		return failf(f, -ENOMEM, NULL);
	/* The name's head, cut so the temporary's name fits NAME_MAX whatever the name's length. */
	sprintf(f->tmp, "%.*s.%.*s.XXXXXX", (int)dirlen, f->path, NAME_MAX - 8, f->path + dirlen);
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		int err = -errno;

		free(f->tmp);
		f->tmp = NULL;
		return failf(f, err, NULL);
	}
	return 0;
}

static int open_path(struct gh_outfile *f, const char *path, const struct gh_outfile_opts *opts)
{
	static const struct gh_outfile_opts defaults = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
	const struct gh_outfile_opts *o = opts ? opts : &defaults;
	struct stat st;
	int exists;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = strdup(path);
	if (!f->path)
		return failf(f, -ENOMEM, NULL);
	if (!*path)
		return failf(f, -ENOENT, "the file name is empty");
	exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return failf(f, -errno, NULL);
	if (exists && o->exclusive)
		return failf(f, -EEXIST, "it already exists (it is never overwritten)");
	if (exists && S_ISLNK(st.st_mode)) {
		if (!trusted_link_dir(path))
			return failf(f, -ELOOP,
				     "it is a symbolic link in a directory others can write "
				     "(name the file it points to instead)");
		if (stat(path, &st))
			return failf(f, -errno, NULL);
		/* Through a link only to a stream (/dev/stdout): a regular file behind a link is
		 * never truncated or replaced, whoever made the link. */
		if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
			return open_direct(f, &st, 1);
		return failf(f, -ELOOP, "it is a symbolic link to %s (name the file itself)",
			     S_ISREG(st.st_mode) ? "a regular file" : kind_name(st.st_mode));
	}
	if (exists && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
		return open_direct(f, &st, 0);
	if (exists && !S_ISREG(st.st_mode))
		return failf(f, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "it is %s",
			     kind_name(st.st_mode));
	final_owner(o, exists ? &st : NULL, &f->uid, &f->gid, &f->mode);
	f->replace = exists;
	if (o->exclusive) {
		/* Keys: created in place, exclusively; a link planted there fails the open. */
		f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd < 0)
			return failf(f, -errno,
				     errno == EEXIST ? "it already exists (it is never "
						       "overwritten)"
						     : NULL);
		return 0;
	}
	return open_temp(f);
}

int gh_outfile_open(struct gh_outfile *f, const char *path, const struct gh_outfile_opts *opts)
{
	int err = open_path(f, path, opts);

	if (err)
		gh_outfile_abort(f); /* frees what open_path took; errmsg stays */
	return err;
}

int gh_outfile_write(struct gh_outfile *f, const void *p, size_t n)
{
	int err;

	if (f->fd < 0)
		return failf(f, -EBADF, "it is not open");
	err = gh_write_all(f->fd, p, n);
	return err ? failf(f, err, NULL) : 0;
}

/* Give the file its final owner and mode while only we can reach it. */
static int settle(struct gh_outfile *f)
{
	if ((f->uid != (uid_t)-1 || f->gid != (gid_t)-1) && geteuid() == 0 &&
	    fchown(f->fd, f->uid, f->gid))
		return failf(f, -errno, "cannot hand it to uid %d: %s", (int)f->uid,
			     strerror(errno));
	if (fchmod(f->fd, f->mode))
		return failf(f, -errno, NULL);
	return 0;
}

/* Rename the temporary over the path: over a regular file only, so a device or FIFO that
 * appeared there meanwhile is never replaced. */
static int put_in_place(struct gh_outfile *f)
{
	struct stat st;

	if (!f->replace) {
		if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			return failf(f, -errno, NULL);
		/* Another writer (a second run with the same -o) got there first. */
		if (lstat(f->path, &st) || !S_ISREG(st.st_mode))
			return failf(f, -EEXIST,
				     "something other than a regular file appeared "
				     "there while it was being written");
	}
	if (rename(f->tmp, f->path))
		return failf(f, -errno, NULL);
	return 0;
}

int gh_outfile_commit(struct gh_outfile *f)
{
	int err = 0;

	if (f->fd < 0)
		return failf(f, -EBADF, "it is not open");
	if (!f->direct)
		err = settle(f);
	if (close(f->fd) && !err && !f->direct)
		err = failf(f, -errno, NULL);
	f->fd = -1;
	if (!err && f->tmp)
		err = put_in_place(f);
	if (err) {
		gh_outfile_abort(f);
		return err;
	}
	free(f->tmp);
	f->tmp = NULL;
	free(f->path);
	f->path = NULL;
	return 0;
}

void gh_outfile_abort(struct gh_outfile *f)
{
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
		/* An exclusive file (a key) was made by us at the path itself. */
		if (!f->tmp && !f->direct && f->path)
			unlink(f->path);
	}
	if (f->tmp) {
		unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
	}
	free(f->path);
	f->path = NULL;
}

int gh_outfile_replace(const char *path, const void *p, size_t n, const struct gh_outfile_opts *o,
		       char *errmsg, size_t errlen)
{
	struct gh_outfile f;
	int err;

	err = gh_outfile_open(&f, path, o);
	if (!err)
		err = gh_outfile_write(&f, p, n);
	if (!err)
		err = gh_outfile_commit(&f);
	if (err) {
		snprintf(errmsg, errlen, "%s", f.errmsg);
		gh_outfile_abort(&f);
	}
	return err;
}
