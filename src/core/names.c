// SPDX-License-Identifier: MIT
/* The names receipts and messages give signals and errno values (glibc's own tables). */
#include <stdio.h>
#include <string.h>

#include "core/names.h"

const char *gh_signal_name(int sig)
{
	static __thread char name[24];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(name, sizeof(name), "SIG%s", abbrev);
	else
		snprintf(name, sizeof(name), "SIG%d", sig);
	return name;
}

const char *gh_errno_name(int err)
{
	static __thread char name[16];
	const char *s = strerrorname_np(err);

	if (s)
		return s;
	snprintf(name, sizeof(name), "E%d", err);
	return name;
}
