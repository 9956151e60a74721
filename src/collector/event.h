/* SPDX-License-Identifier: MIT */
/* Decoding ring-buffer records (bpf/glasshouse.h) into views that point into the record. */
#ifndef GH_EVENT_H
#define GH_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/glasshouse.h"
#include "core/names.h"

struct gh_str {
	const char *p;	/* not NUL-terminated */
	size_t len;
};

struct gh_event_view {
	struct gh_event h;	/* copied: records need not be aligned */
	struct gh_str s[GH_MAX_STRS];	/* missing strings are empty */
	unsigned truncated;	/* strings cut at a capture limit */
};

/*
 * Check a record and point v at its parts: no allocation, no copy of the strings.
 * 0, or -EBADMSG when it is shorter than its header or its strings say, -EPROTO for an unknown
 * kind or too many strings.
 */
int gh_event_decode(const void *data, size_t len, struct gh_event_view *v);

/* "open", "exec", ...: the event kinds as Lua and the docs name them; NULL if unknown. */
const char *gh_event_kind_name(unsigned kind);

/* The name of syscall number nr on this architecture, NULL if unknown. */
const char *gh_syscall_name(unsigned nr);


#endif
