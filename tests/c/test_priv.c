// SPDX-License-Identifier: MIT
/* Who the command runs as: --user specs, sudo's and doas's variables, and who may be traced. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/priv.h"

static struct gh_user u;
static char msg[512];

static void gh_user_lookup__root_by_name__uid_0_home_root(void **state)
{
	assert_int_equal(gh_user_lookup("root", &u, msg, sizeof(msg)), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.name, "root");
	assert_string_equal(u.home, "/root");
	assert_true(u.ngroups >= 1);
	assert_int_equal(u.groups[0], 0);
}

static void gh_user_lookup__uid_with_gid__gid_overrides(void **state)
{
	assert_int_equal(gh_user_lookup("0:5", &u, msg, sizeof(msg)), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 5);
	assert_string_equal(u.name, "root");
}

static void gh_user_lookup__uid_not_in_database__bare_ids(void **state)
{
	assert_int_equal(gh_user_lookup("54321", &u, msg, sizeof(msg)), 0);
	assert_int_equal(u.uid, 54321);
	assert_int_equal(u.gid, 54321);
	assert_int_equal(u.ngroups, 1);
	assert_string_equal(u.name, "54321");
	assert_string_equal(u.home, "/");
}

static void gh_user_lookup__unknown_name__enoent_naming_it(void **state)
{
	assert_int_equal(gh_user_lookup("no-such-user-x", &u, msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "unknown user 'no-such-user-x'");
}

static void gh_user_lookup__bad_specs__einval(void **state)
{
	assert_int_equal(gh_user_lookup("", &u, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "--user needs NAME, UID or UID:GID, got ''");
	assert_int_equal(gh_user_lookup("root:wheel", &u, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "--user 'root:wheel': the group must be a number, got 'wheel'");
	/* -1 means "unchanged" to setresuid: never a user. */
	assert_int_equal(gh_user_lookup("0:4294967295", &u, msg, sizeof(msg)), -EINVAL);
}

static void gh_user_invoking__sudo_and_doas__their_user_or_refusal(void **state)
{
	if (geteuid() != 0) {
		assert_int_equal(gh_user_invoking(&u, msg, sizeof(msg)), 0);
		return;
	}
	unsetenv("SUDO_UID");
	unsetenv("DOAS_USER");
	assert_int_equal(gh_user_invoking(&u, msg, sizeof(msg)), 0);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "7", 1);
	assert_int_equal(gh_user_invoking(&u, msg, sizeof(msg)), 1);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(u.gid, 7); /* sudo's record of the group wins */
	setenv("SUDO_UID", "4242424", 1);
	assert_int_equal(gh_user_invoking(&u, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, "SUDO_UID=4242424 is not a user of this system"));
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	setenv("DOAS_USER", "nobody", 1);
	assert_int_equal(gh_user_invoking(&u, msg, sizeof(msg)), 1);
	assert_string_equal(u.name, "nobody");
	setenv("DOAS_USER", "no-such-user-x", 1);
	assert_int_equal(gh_user_invoking(&u, msg, sizeof(msg)), -ENOENT);
	unsetenv("DOAS_USER");
}

static void gh_priv_may_trace__by_ids_and_caps(void **state)
{
	int fds[2], status;
	pid_t pid;
	char c;

	assert_int_equal(gh_priv_may_trace(0x3fffffff), -ENOENT);
	if (geteuid() != 0)
		return;
	/* root with capabilities: a plain user could not trace us, nor init */
	assert_int_equal(gh_priv_may_trace(getpid()), 0);
	assert_int_equal(gh_priv_may_trace(1), 0);
	/* the same ids with every capability dropped: yes */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		gh_priv_drop_caps();
		close(fds[0]);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(gh_priv_may_trace(pid), 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gh_user_lookup__root_by_name__uid_0_home_root),
		cmocka_unit_test(gh_user_lookup__uid_with_gid__gid_overrides),
		cmocka_unit_test(gh_user_lookup__uid_not_in_database__bare_ids),
		cmocka_unit_test(gh_user_lookup__unknown_name__enoent_naming_it),
		cmocka_unit_test(gh_user_lookup__bad_specs__einval),
		cmocka_unit_test(gh_user_invoking__sudo_and_doas__their_user_or_refusal),
		cmocka_unit_test(gh_priv_may_trace__by_ids_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
