// SPDX-License-Identifier: MIT
/* Guest mode: which filesystems mountinfo says are there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "backend/guest.h"

static const char fresh_vm[] =
	"22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
	"25 24 0:6 / /sys/kernel/security rw - securityfs securityfs rw\n";

static const char full[] =
	"22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"23 22 0:21 / /proc rw - proc proc rw\n"
	"24 22 0:22 / /sys rw - sysfs sysfs rw\n"
	"30 24 0:30 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:9 - bpf bpf rw,mode=700\n"
	"31 24 0:12 / /sys/kernel/tracing rw - tracefs tracefs rw";

static void gh_guest_mounted__fresh_vm__proc_and_sys_only(void **state)
{
	assert_int_equal(gh_guest_mounted(fresh_vm), GH_MOUNT_PROC | GH_MOUNT_SYSFS);
}

static void gh_guest_mounted__everything__all_bits(void **state)
{
	assert_int_equal(gh_guest_mounted(full),
			 GH_MOUNT_PROC | GH_MOUNT_SYSFS | GH_MOUNT_BPF | GH_MOUNT_TRACEFS);
}

static void gh_guest_mounted__wrong_fstype_or_empty__not_counted(void **state)
{
	/* A tmpfs sitting on /proc is not procfs. */
	assert_int_equal(gh_guest_mounted("23 22 0:21 / /proc rw - tmpfs none rw\n"), 0);
	assert_int_equal(gh_guest_mounted(""), 0);
	assert_int_equal(gh_guest_mounted("garbage without separator\n"), 0);
}

static void gh_guest_mounted__this_machine__proc_and_sys_present(void **state)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char text[65536];
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_int_equal(gh_guest_mounted(text) & (GH_MOUNT_PROC | GH_MOUNT_SYSFS),
			 GH_MOUNT_PROC | GH_MOUNT_SYSFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gh_guest_mounted__fresh_vm__proc_and_sys_only),
		cmocka_unit_test(gh_guest_mounted__everything__all_bits),
		cmocka_unit_test(gh_guest_mounted__wrong_fstype_or_empty__not_counted),
		cmocka_unit_test(gh_guest_mounted__this_machine__proc_and_sys_present),
	};

	return cmocka_run_group_tests_name("guest", tests, NULL, NULL);
}
