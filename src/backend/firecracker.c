// SPDX-License-Identifier: MIT
/* The firecracker backend: validates its configuration; launching a microVM is not built yet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"

static int fail(struct gh_backend *b, int err, const char *fmt, const char *arg, const char *why)
{
	int n = snprintf(b->errmsg, sizeof(b->errmsg), "firecracker backend: ");

	snprintf(b->errmsg + n, sizeof(b->errmsg) - (size_t)n, fmt, arg, why);
	return -err;
}

/* A file the VMM will read: it must exist, be a regular file and be readable. */
static int check_file(struct gh_backend *b, const char *key, const char *path)
{
	struct stat st;

	if (!path || !*path)
		return fail(b, EINVAL, "%s is not set%s", key, " (--backend-opt KEY=PATH)");
	if (stat(path, &st))
		return fail(b, errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(b, EINVAL, "%s: %s", path, "not a regular file");
	if (access(path, R_OK))
		return fail(b, errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* Find the VMM like execvp would; an explicit path must be executable. */
static int check_binary(struct gh_backend *b, const char *bin)
{
	const char *path = getenv("PATH");
	char cand[4096];

	if (!bin || !*bin)
		bin = "firecracker";
	if (strchr(bin, '/'))
		return access(bin, X_OK) ? fail(b, errno, "%s: %s", bin, strerror(errno)) : 0;
	for (path = path ? path : "/usr/bin:/bin"; *path;) {
		size_t len = strcspn(path, ":");

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, path, bin);
		if (!access(cand, X_OK))
			return 0;
		path += len + (path[len] == ':');
	}
	return fail(b, ENOENT, "%s: %s", bin, "not found in PATH (--backend-opt binary=PATH)");
}

/* The API socket is created by the VMM: its directory must exist and the path must be free. */
static int check_socket(struct gh_backend *b, const char *sock)
{
	char dir[4096];
	char *slash;
	struct stat st;

	if (!sock || !*sock)
		return fail(b, EINVAL, "%s is not set%s", "api_socket",
			    " (--backend-opt api_socket=PATH)");
	snprintf(dir, sizeof(dir), "%s", sock);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return fail(b, ENOENT, "api socket directory %s: %s", dir, "does not exist");
	if (lstat(sock, &st) == 0)
		return fail(b, EEXIST, "api socket %s: %s", sock, "already exists");
	return 0;
}

static int fc_prepare(struct gh_backend *b)
{
	int err;

	if ((err = check_file(b, "kernel", b->cfg.fc_kernel)) ||
	    (err = check_file(b, "rootfs", b->cfg.fc_rootfs)) ||
	    (err = check_binary(b, b->cfg.fc_binary)) || (err = check_socket(b, b->cfg.fc_socket)))
		return err;
	return 0;
}

static int fc_start(struct gh_backend *b, char *const argv[])
{
	(void)argv;
	snprintf(b->errmsg, sizeof(b->errmsg),
		 "firecracker backend: starting a microVM is not implemented");
	return -ENOSYS;
}

static int fc_release(struct gh_backend *b)
{
	(void)b;
	return -ENOSYS;
}

static int fc_wait(struct gh_backend *b, const struct gh_pollable *p)
{
	(void)b;
	(void)p;
	return -ENOSYS;
}

static void fc_cleanup(struct gh_backend *b)
{
	(void)b;
}

const struct gh_backend_ops gh_backend_firecracker_ops = {
	.name = "firecracker",
	.isolation = "vm",
	.prepare = fc_prepare,
	.start = fc_start,
	.release = fc_release,
	.wait = fc_wait,
	.cleanup = fc_cleanup,
};
