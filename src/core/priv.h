/* SPDX-License-Identifier: MIT */
/* Who the command runs as (sudo's and doas's invoking user, --user), and the capability mode. */
#ifndef GH_PRIV_H
#define GH_PRIV_H

#include <limits.h>
#include <sys/types.h>

#define GH_USER_MAX_GROUPS 256

/* Everything the command's credentials and environment need, resolved before fork (the child
 * between fork and exec may only make async-signal-safe calls, and NSS is not one). */
struct gh_user {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[GH_USER_MAX_GROUPS];
	char name[64];
	char home[PATH_MAX];
};

/* Look up spec: NAME, UID, NAME:GID or UID:GID (a GID overrides the user's primary group). A
 * UID in the user database gets its name, home and groups; a UID that is not has none of
 * them (only root may ask for it). 0, or -ENOENT / -EINVAL with msg filled. */
int gh_user_lookup(const char *spec, struct gh_user *u, char *msg, size_t len);
/* The user who ran sudo or doas to start glasshouse as root (SUDO_UID/SUDO_GID/SUDO_USER, or
 * DOAS_USER): 1 with u filled, 0 when there is none (not root, or no such variables), -ENOENT
 * with msg filled when the variables name a user the database does not have. */
int gh_user_invoking(struct gh_user *u, char *msg, size_t len);
/* Whether glasshouse was started with more privilege than its caller has (file capabilities,
 * setuid): the kernel's AT_SECURE. Then nothing from the environment may change what code is
 * loaded, and the command gets no capabilities. */
int gh_priv_secure(void);
/* Drop every capability (effective, permitted, inheritable, ambient) of the calling thread;
 * async-signal-safe. 0 or -errno. */
int gh_priv_drop_caps(void);
/* Whether the caller could ptrace pid: its real, effective, saved and filesystem uids and
 * gids are all the caller's real ones and it holds no capability (what a plain user may
 * trace). 1, 0, or -errno when pid cannot be looked at. */
int gh_priv_may_trace(pid_t pid);

/* The calling thread's filesystem credentials, kept to be given back by gh_priv_fs_leave. */
struct gh_fscreds {
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t groups[GH_USER_MAX_GROUPS];
};
/*
 * Open files as u from here on, in the calling thread only: its fsuid, fsgid and supplementary
 * groups become u's (which also takes the filesystem capabilities out of its effective set), so
 * root reads only what u could. The other threads keep theirs. 0 with saved filled, or -errno
 * with nothing changed.
 */
int gh_priv_fs_enter(const struct gh_user *u, struct gh_fscreds *saved);
/* Give the calling thread back the credentials gh_priv_fs_enter saved. */
void gh_priv_fs_leave(const struct gh_fscreds *saved);

#endif
