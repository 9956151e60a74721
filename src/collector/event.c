// SPDX-License-Identifier: MIT
/* Record decoding: the one place that trusts nothing about what came through the ring. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <string.h>

#include "collector/event.h"
#include "syscall_names.h" /* generated from <asm/unistd_64.h> by the Makefile */

/* The named fields of v, from the header's bits. */
static void meaning(struct gh_event_view *v)
{
	const struct gh_event *h = &v->h;
	unsigned acc = h->flags & O_ACCMODE;

	if (h->kind != GH_EV_FORK && h->kind != GH_EV_EXIT && h->ret < 0)
		v->err = h->ret >= -INT_MAX ? (int)-h->ret : INT_MAX;
	v->has_syscall = h->syscall != GH_NO_SYSCALL;
	v->walked = (h->flags2 & GH_F_WALKED) != 0;
	v->enforced = (h->flags2 & GH_F_ENFORCED) != 0;
	if (h->kind == GH_EV_EXEC) {
		v->argv_truncated = (h->truncated & (1u << 1)) != 0; /* s1 is argv */
		v->script = (h->flags2 & GH_F_SCRIPT) != 0;
		/* The kernel's dev_t is major << 20 | minor; stat(2) numbers it as makedev does.
		 * Bit 31 of the nanoseconds is the kernel's I_CTIME_QUERIED mark (6.13+). */
		v->exec = (struct gh_exec_facts){
			.has_ident = h->sock != 0 && (h->exe_ctime_sec || h->exe_ctime_nsec),
			.has_creds = true,
			.dev = makedev(h->mode >> 20, h->mode & 0xfffff),
			.ino = h->sock,
			.ctime_sec = h->exe_ctime_sec,
			.ctime_nsec = h->exe_ctime_nsec & 0x7fffffffu,
			.uid = h->uid,
			.gid = h->gid,
			.euid = h->euid,
		};
	}
	if (h->kind == GH_EV_UNLINK)
		v->rmdir = (h->flags2 & GH_F_RMDIR) != 0;
	if (h->kind == GH_EV_CWD)
		v->cwd_moved = (h->flags2 & GH_F_CWD_MOVED) != 0;
	if (h->kind != GH_EV_OPEN)
		return;
	v->created = (h->flags2 & GH_F_CREATED) != 0;
	v->directory = (h->flags2 & GH_F_IS_DIR) != 0;
	/* Access mode 3 asks for neither reading nor writing (ioctl-only handles). */
	v->path_only = (h->flags & O_PATH) != 0;
	v->reads = !v->path_only && (acc == O_RDONLY || acc == O_RDWR);
	v->writes = !v->path_only && (acc == O_WRONLY || acc == O_RDWR ||
				      (h->flags & (O_CREAT | O_TRUNC | O_APPEND)));
}

int gh_event_decode(const void *data, size_t len, struct gh_event_view *v)
{
	const unsigned char *p = data, *end = p + len;
	unsigned i;

	memset(v, 0, sizeof(*v));
	if (len < sizeof(v->h))
		return -EBADMSG;
	memcpy(&v->h, p, sizeof(v->h));
	if (v->h.kind == 0 || v->h.kind >= GH_EV_KIND_MAX || v->h.nstr > GH_MAX_STRS)
		return -EPROTO;
	p += sizeof(v->h);
	for (i = 0; i < v->h.nstr; i++) {
		size_t n;

		if (end - p < 2)
			return -EBADMSG;
		n = (size_t)p[0] | (size_t)p[1] << 8;
		p += 2;
		if ((size_t)(end - p) < n)
			return -EBADMSG;
		v->s[i].p = (const char *)p;
		v->s[i].len = n;
		p += n;
		if (v->h.truncated & (1u << i))
			v->truncated++;
	}
	for (; i < GH_MAX_STRS; i++)
		v->s[i].p = "";
	meaning(v);
	return 0;
}

static const char *const kind_names[GH_EV_KIND_MAX] = {
	[GH_EV_FORK] = "fork",
	[GH_EV_EXEC] = "exec",
	[GH_EV_EXEC_FAIL] = "exec_failed",
	[GH_EV_EXIT] = "exit",
	[GH_EV_CWD] = "chdir",
	[GH_EV_OPEN] = "open",
	[GH_EV_UNLINK] = "unlink",
	[GH_EV_RENAME] = "rename",
	[GH_EV_MKDIR] = "mkdir",
	[GH_EV_SYMLINK] = "symlink",
	[GH_EV_LINK] = "link",
	[GH_EV_MKNOD] = "mknod",
	[GH_EV_TRUNCATE] = "truncate",
	[GH_EV_CONNECT] = "connect",
	[GH_EV_SENDTO] = "send",
	[GH_EV_BIND] = "bind",
	[GH_EV_LISTEN] = "listen",
	[GH_EV_ACCEPT] = "accept",
	[GH_EV_CONNECT_RESULT] = "connect_result",
};

const char *gh_event_kind_name(unsigned kind)
{
	return kind < GH_EV_KIND_MAX ? kind_names[kind] : NULL;
}

const char *gh_syscall_name(unsigned nr)
{
	if (nr >= sizeof(gh_syscall_names) / sizeof(gh_syscall_names[0]))
		return NULL;
	return gh_syscall_names[nr];
}
