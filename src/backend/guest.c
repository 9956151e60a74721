// SPDX-License-Identifier: MIT
/* Guest mode: the duties of glasshouse as a VM's init (mounts, memlock). Failures are notes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "backend/guest.h"

static const struct {
	int bit;
	const char *fstype, *target, *name;
} mounts[] = {
	{ GH_MOUNT_PROC, "proc", "/proc", "proc" },
	{ GH_MOUNT_SYSFS, "sysfs", "/sys", "sysfs" },
	{ GH_MOUNT_BPF, "bpf", "/sys/fs/bpf", "bpf" },
	{ GH_MOUNT_TRACEFS, "tracefs", "/sys/kernel/tracing", "tracefs" },
};

#define NMOUNTS (sizeof(mounts) / sizeof(mounts[0]))

/* mountinfo lines: "id parent maj:min root mountpoint opts [optional...] - fstype source super". */
int gh_guest_mounted(const char *mountinfo)
{
	const char *line = mountinfo;
	int found = 0;

	while (line && *line) {
		char point[256], fstype[64];
		const char *dash = strstr(line, " - ");
		const char *eol = strchr(line, '\n');
		size_t i;

		if (dash && (!eol || dash < eol) &&
		    sscanf(line, "%*s %*s %*s %*s %255s", point) == 1 &&
		    sscanf(dash + 3, "%63s", fstype) == 1) {
			for (i = 0; i < NMOUNTS; i++)
				if (!strcmp(point, mounts[i].target) &&
				    !strcmp(fstype, mounts[i].fstype))
					found |= mounts[i].bit;
		}
		line = eol ? eol + 1 : NULL;
	}
	return found;
}

static char *read_mountinfo(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void note_error(struct gh_guest_report *r, const char *what, int err)
{
	if (r->error_count >= GH_GUEST_MAX_NOTES)
		return;
	snprintf(r->errors[r->error_count++], sizeof(r->errors[0]), "%s: %s", what, strerror(err));
}

void gh_guest_setup(struct gh_guest_report *r)
{
	struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };
	char what[96];
	int have = 0;
	size_t i;

	r->active = 1;
	for (i = 0; i < NMOUNTS; i++) {
		char *text = read_mountinfo(); /* re-read: mounting sysfs may bring others along */

		have = text ? gh_guest_mounted(text) : have;
		free(text);
		if (have & mounts[i].bit)
			continue;
		mkdir(mounts[i].target, 0555);
		if (mount(mounts[i].fstype, mounts[i].target, mounts[i].fstype, 0, NULL) == 0) {
			r->mounted[r->mounted_count++] = mounts[i].name;
		} else {
			snprintf(what, sizeof(what), "mount %s on %s", mounts[i].fstype,
				 mounts[i].target);
			note_error(r, what, errno);
		}
	}
	if (setrlimit(RLIMIT_MEMLOCK, &inf) == 0)
		r->memlock_raised = 1;
	else
		note_error(r, "raise RLIMIT_MEMLOCK", errno);
}
