// SPDX-License-Identifier: MIT
/* Record decoding: the one place that trusts nothing about what came through the ring. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector/event.h"
#include "syscall_names.h" /* generated from <asm/unistd_64.h> by the Makefile */

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
	return 0;
}

static const char *const kind_names[GH_EV_KIND_MAX] = {
	[GH_EV_FORK] = "fork",	     [GH_EV_EXEC] = "exec",	  [GH_EV_EXEC_FAIL] = "exec_failed",
	[GH_EV_EXIT] = "exit",	     [GH_EV_CWD] = "chdir",	  [GH_EV_OPEN] = "open",
	[GH_EV_UNLINK] = "unlink",   [GH_EV_RENAME] = "rename",	  [GH_EV_MKDIR] = "mkdir",
	[GH_EV_SYMLINK] = "symlink", [GH_EV_LINK] = "link",	  [GH_EV_MKNOD] = "mknod",
	[GH_EV_CONNECT] = "connect", [GH_EV_SENDTO] = "send",	  [GH_EV_BIND] = "bind",
	[GH_EV_LISTEN] = "listen",   [GH_EV_ACCEPT] = "accept",
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
