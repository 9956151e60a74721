/* SPDX-License-Identifier: MIT */
/* Files glasshouse writes (receipts, attestations, event logs, keys), made safely as root. */
#ifndef GH_OUTFILE_H
#define GH_OUTFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Who the file is for: the user the command runs as. uid -1: glasshouse's own user. */
struct gh_outfile_opts {
	mode_t mode;   /* of a new file (before the umask); 0: 0644 */
	int exclusive; /* fail with -EEXIST when anything is at the path (keys) */
	uid_t uid;     /* owner of a new file, and the one owner besides root an old file keeps */
	gid_t gid;
};

struct gh_outfile {
	int fd;
	int direct; /* writing straight into an existing FIFO or character device */
	char *path;
	char *tmp;   /* the temporary beside path; NULL when direct or exclusive */
	int replace; /* a regular file was at the path when it was opened */
	uid_t uid;   /* what the file gets at commit; -1: left as created */
	gid_t gid;
	mode_t mode;
	char errmsg[4352]; /* what failed and why (a whole path, then the reason) */
};

/*
 * Open path for writing the way a root process must in a directory others can write:
 * - nothing there: a new file, created with O_EXCL and O_NOFOLLOW (mode 0600 until committed);
 * - a regular file: a random O_EXCL temporary beside it, renamed over it by commit, with the old
 *   file's mode and owner when its owner is root or opts->uid (never anyone else's);
 * - a FIFO or a character device (/dev/null, a terminal, a log reader's pipe): opened without
 *   O_CREAT and O_NONBLOCK (a FIFO with no reader is an error, not a hang), checked with fstat
 *   to be what was there, and written directly;
 * - a symbolic link is followed only to a FIFO or character device, and only in a directory
 *   nobody but root can write (/dev/stdout);
 * - anything else (a directory, a socket, a block device, any other link) is refused.
 * Returns 0 or -errno, with f->errmsg set on failure (nothing is left to free). opts may be NULL.
 */
int gh_outfile_open(struct gh_outfile *f, const char *path, const struct gh_outfile_opts *opts);
/* Write all n bytes; 0 or -errno (f->errmsg set). */
int gh_outfile_write(struct gh_outfile *f, const void *p, size_t n);
/* Put the file in place (rename the temporary over the path) and close it; 0 or -errno. */
int gh_outfile_commit(struct gh_outfile *f);
/* Close and remove the temporary; the old file, if any, stays as it was. Idempotent. */
void gh_outfile_abort(struct gh_outfile *f);

/* Open, write, commit: the whole file at once. 0 or -errno, with errmsg (size n) filled. */
int gh_outfile_replace(const char *path, const void *p, size_t n, const struct gh_outfile_opts *o,
		       char *errmsg, size_t errlen);

#endif
