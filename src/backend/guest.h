/* SPDX-License-Identifier: MIT */
/* Guest (init) duties of the process backend in a VM: mounts, memlock, reaping. */
#ifndef GH_GUEST_H
#define GH_GUEST_H

#define GH_GUEST_MAX_NOTES 8

/* What guest mode did; failures are notes, never fatal. */
struct gh_guest_report {
	int active;
	int mounted_count;
	const char *mounted[GH_GUEST_MAX_NOTES]; /* static names: "proc", "sysfs", ... */
	int error_count;
	char errors[GH_GUEST_MAX_NOTES][160];
	int memlock_raised;
};

/* Guest (init) duties, used by the process backend; see guest.c. */
#define GH_MOUNT_PROC	 (1 << 0)
#define GH_MOUNT_SYSFS	 (1 << 1)
#define GH_MOUNT_BPF	 (1 << 2)
#define GH_MOUNT_TRACEFS (1 << 3)
/* Bits of the GH_MOUNT_* targets present in a /proc/self/mountinfo text. */
int gh_guest_mounted(const char *mountinfo);
/* Mount what is missing and raise RLIMIT_MEMLOCK; results go to r, never fails. */
void gh_guest_setup(struct gh_guest_report *r);

#endif
