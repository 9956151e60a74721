// SPDX-License-Identifier: MIT
/* The firecracker backend: precise validation errors, and a start that says it is not built. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "backend/backend.h"

static char dir[] = "/tmp/gh-fc-XXXXXX";
static char kernel[64], rootfs[64], vmm[64], sock[64];

static int setup(void **state)
{
	FILE *f;

	if (!mkdtemp(dir))
		return -1;
	snprintf(kernel, sizeof(kernel), "%s/vmlinux", dir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs.ext4", dir);
	snprintf(vmm, sizeof(vmm), "%s/firecracker", dir);
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	fclose(fopen(kernel, "w"));
	fclose(fopen(rootfs, "w"));
	f = fopen(vmm, "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(vmm, 0755);
	return 0;
}

static int teardown(void **state)
{
	unlink(kernel);
	unlink(rootfs);
	unlink(vmm);
	rmdir(dir);
	return 0;
}

static int prepare_with(struct gh_backend_config *cfg, char *msg, size_t n)
{
	struct gh_backend *b;
	int err;

	assert_int_equal(gh_backend_new("firecracker", cfg, &b), 0);
	err = gh_backend_prepare(b);
	snprintf(msg, n, "%s", b->errmsg);
	gh_backend_free(b);
	return err;
}

static void firecracker__nothing_set__kernel_named(void **state)
{
	struct gh_backend_config cfg = { 0 };
	char msg[512];

	assert_int_equal(prepare_with(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "firecracker backend: kernel is not set (--backend-opt KEY=PATH)");
}

static void firecracker__missing_kernel_file__path_and_reason(void **state)
{
	struct gh_backend_config cfg = { .fc_kernel = "/nonexistent/vmlinux", .fc_rootfs = rootfs };
	char msg[512];

	assert_int_equal(prepare_with(&cfg, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg,
			    "firecracker backend: /nonexistent/vmlinux: No such file or directory");
}

static void firecracker__rootfs_is_directory__rejected(void **state)
{
	struct gh_backend_config cfg = { .fc_kernel = kernel, .fc_rootfs = dir };
	char msg[512], want[512];

	assert_int_equal(prepare_with(&cfg, msg, sizeof(msg)), -EINVAL);
	snprintf(want, sizeof(want), "firecracker backend: %s: not a regular file", dir);
	assert_string_equal(msg, want);
}

static void firecracker__binary_not_in_path__named(void **state)
{
	struct gh_backend_config cfg = { .fc_kernel = kernel,
					 .fc_rootfs = rootfs,
					 .fc_binary = "no-such-vmm",
					 .fc_socket = sock };
	char msg[512];

	assert_int_equal(prepare_with(&cfg, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "firecracker backend: no-such-vmm: not found in PATH "
				 "(--backend-opt binary=PATH)");
}

static void firecracker__socket_dir_missing__named(void **state)
{
	struct gh_backend_config cfg = { .fc_kernel = kernel,
					 .fc_rootfs = rootfs,
					 .fc_binary = vmm,
					 .fc_socket = "/nonexistent/api.sock" };
	char msg[512];

	assert_int_equal(prepare_with(&cfg, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "firecracker backend: api socket directory /nonexistent: does "
				 "not exist");
}

static void firecracker__valid_config__prepares_then_start_is_enosys(void **state)
{
	struct gh_backend_config cfg = {
		.fc_kernel = kernel, .fc_rootfs = rootfs, .fc_binary = vmm, .fc_socket = sock
	};
	char *argv[] = { "true", NULL };
	struct gh_backend *b;

	assert_int_equal(gh_backend_new("firecracker", &cfg, &b), 0);
	assert_string_equal(b->ops->name, "firecracker");
	assert_string_equal(b->ops->isolation, "vm");
	assert_int_equal(gh_backend_prepare(b), 0);
	assert_int_equal(gh_backend_start(b, argv), -ENOSYS);
	assert_string_equal(b->errmsg,
			    "firecracker backend: starting a microVM is not implemented");
	gh_backend_cleanup(b);
	assert_string_equal(b->result.stdout_hash,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	gh_backend_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(firecracker__nothing_set__kernel_named),
		cmocka_unit_test(firecracker__missing_kernel_file__path_and_reason),
		cmocka_unit_test(firecracker__rootfs_is_directory__rejected),
		cmocka_unit_test(firecracker__binary_not_in_path__named),
		cmocka_unit_test(firecracker__socket_dir_missing__named),
		cmocka_unit_test(firecracker__valid_config__prepares_then_start_is_enosys),
	};

	return cmocka_run_group_tests_name("firecracker", tests, setup, teardown);
}
