// SPDX-License-Identifier: MIT
/* The process backend's contract: statuses, pids, output hashes, the gate, signals. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "backend/backend.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

/* Run argv to the end through the whole lifecycle; returns the backend for inspection. */
static struct gh_backend *run(char *const argv[], int *start_err)
{
	struct gh_backend *b;

	assert_int_equal(gh_backend_new("process", NULL, &b), 0);
	assert_int_equal(gh_backend_prepare(b), 0);
	assert_int_equal(gh_backend_start(b, argv), 0);
	*start_err = gh_backend_release(b);
	if (!*start_err)
		assert_int_equal(gh_backend_wait(b, NULL), 0);
	gh_backend_cleanup(b);
	return b;
}

static void process__true__exit_0_and_real_pid(void **state)
{
	char *argv[] = { "true", NULL };
	int err;
	struct gh_backend *b = run(argv, &err);

	assert_int_equal(err, 0);
	assert_int_equal(b->result.exit_code, 0);
	assert_int_equal(b->result.signal, 0);
	assert_true(b->result.pid > 1 && b->result.pid != getpid());
	assert_string_equal(b->result.stdout_hash, EMPTY_SHA);
	assert_string_equal(b->result.stderr_hash, EMPTY_SHA);
	assert_true(b->result.start_realtime_ns > 1700000000LL * 1000000000LL);
	gh_backend_free(b);
}

static void process__false_and_exit_7__statuses_mirrored(void **state)
{
	char *f[] = { "false", NULL }, *seven[] = { "sh", "-c", "exit 7", NULL };
	int err;
	struct gh_backend *b = run(f, &err);

	assert_int_equal(b->result.exit_code, 1);
	gh_backend_free(b);
	b = run(seven, &err);
	assert_int_equal(b->result.exit_code, 7);
	gh_backend_free(b);
}

static void process__echo_hello__stdout_hashed_exactly(void **state)
{
	char *argv[] = { "sh", "-c", "echo hello; echo oops >&2", NULL };
	int err;
	struct gh_backend *b = run(argv, &err);

	assert_string_equal(b->result.stdout_hash, HELLO_SHA);
	/* sha256("oops\n") */
	assert_string_equal(b->result.stderr_hash,
			    "fe19778cf1ce280658154f2b9c01ffbccd825a23460141dcf3794e7a2c0eb629");
	assert_int_equal(b->result.stdout_bytes, 6);
	assert_int_equal(b->result.stderr_bytes, 5);
	gh_backend_free(b);
}

static void process__large_output__streamed_and_counted(void **state)
{
	/* 1 MiB of zeros: more than any pipe holds, so it must stream while the child runs. */
	char *argv[] = { "head", "-c", "1048576", "/dev/zero", NULL };
	int err, saved = dup(1), null = open("/dev/null", O_WRONLY);
	struct gh_backend *b;

	dup2(null, 1);
	b = run(argv, &err);
	dup2(saved, 1);
	close(saved);
	close(null);
	assert_int_equal(b->result.stdout_bytes, 1048576);
	assert_string_equal(b->result.stdout_hash,
			    "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58");
	gh_backend_free(b);
}

static void process__missing_binary__enoent_and_no_status(void **state)
{
	char *argv[] = { "/bin/does-not-exist", NULL };
	int err;
	struct gh_backend *b = run(argv, &err);

	assert_int_equal(err, -ENOENT);
	assert_string_equal(b->errmsg, "No such file or directory");
	assert_int_equal(b->result.exited, 0);
	assert_string_equal(b->result.stdout_hash, EMPTY_SHA);
	gh_backend_free(b);
}

/* A command that leaves a mark (dir/ran) when it runs: fills dir, path and cmd. */
static void marking_command(char dir[], char path[64], char cmd[128])
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, 64, "%s/ran", dir);
	snprintf(cmd, 128, "touch %s", path);
}

static void process__gate__nothing_runs_before_release(void **state)
{
	char dir[] = "/tmp/gh-gate-XXXXXX", path[64], cmd[128];
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct gh_backend *b;
	struct stat st;

	marking_command(dir, path, cmd);

	assert_int_equal(gh_backend_new("process", NULL, &b), 0);
	assert_int_equal(gh_backend_start(b, argv), 0);
	usleep(200 * 1000);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(gh_backend_release(b), 0);
	assert_int_equal(gh_backend_wait(b, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	gh_backend_free(b);
	unlink(path);
	rmdir(dir);
}

static void process__cleanup_at_gate__command_never_runs(void **state)
{
	char dir[] = "/tmp/gh-gate-XXXXXX", path[64], cmd[128];
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct gh_backend *b;
	struct stat st;

	marking_command(dir, path, cmd);

	assert_int_equal(gh_backend_new("process", NULL, &b), 0);
	assert_int_equal(gh_backend_start(b, argv), 0);
	gh_backend_free(b);
	assert_int_equal(stat(path, &st), -1);
	rmdir(dir);
}

static void process__sigkill__signal_recorded(void **state)
{
	char *argv[] = { "sh", "-c", "kill -KILL $$", NULL };
	int err;
	struct gh_backend *b = run(argv, &err);

	assert_int_equal(b->result.signal, SIGKILL);
	assert_int_equal(b->result.exit_code, -1);
	assert_string_equal(gh_signal_name(b->result.signal), "SIGKILL");
	gh_backend_free(b);
}

static int calls;
static int count_ready(void *ctx)
{
	calls++;
	return calls >= 3 ? -1 : 0; /* stop being called after the third time */
}

static void process__pollable__called_until_it_declines(void **state)
{
	char *argv[] = { "sleep", "0.5", NULL };
	struct gh_pollable p = { .fd = -1, .interval_ms = 20, .ready = count_ready };
	struct gh_backend *b;

	calls = 0;
	assert_int_equal(gh_backend_new("process", NULL, &b), 0);
	assert_int_equal(gh_backend_start(b, argv), 0);
	assert_int_equal(gh_backend_release(b), 0);
	assert_int_equal(gh_backend_wait(b, &p), 0);
	assert_int_equal(calls, 3);
	assert_int_equal(b->result.exit_code, 0);
	assert_true(b->result.duration_ns >= 500000000LL);
	gh_backend_free(b);
}

/* Run argv with wait_all (ms < 0: no limit), stdout to /dev/null; returns the backend. */
static struct gh_backend *run_wait_all(char *const argv[], int64_t ms)
{
	struct gh_backend_config cfg = { .wait_all = 1, .wait_all_ms = ms };
	int saved = dup(1), null = open("/dev/null", O_WRONLY);
	struct gh_backend *b;

	dup2(null, 1); /* the relay, if any, inherits it too */
	assert_int_equal(gh_backend_new("process", &cfg, &b), 0);
	assert_int_equal(gh_backend_start(b, argv), 0);
	assert_int_equal(gh_backend_release(b), 0);
	assert_int_equal(gh_backend_wait(b, NULL), 0);
	gh_backend_cleanup(b);
	dup2(saved, 1);
	close(saved);
	close(null);
	return b;
}

static void process__wait_all__orphan_waited_for_and_its_output_hashed(void **state)
{
	char *argv[] = { "sh", "-c", "(sleep 0.2; echo late) & exit 3", NULL };
	struct gh_backend *b = run_wait_all(argv, -1);

	assert_int_equal(b->result.exit_code, 3); /* the command's status, not the orphan's */
	/* sha256("late\n") */
	assert_string_equal(b->result.stdout_hash,
			    "f152945b358aa26a9e72e25381deff94e254c547089bd690dccd218e9414d148");
	assert_int_equal(b->result.stdout_bytes, 5);
	assert_int_equal(b->result.stdout_more_may_follow, 0);
	assert_int_equal(b->result.stderr_more_may_follow, 0);
	gh_backend_free(b);
}

static void process__wait_all_zero__stops_at_the_command_more_may_follow(void **state)
{
	char *argv[] = { "sh", "-c", "echo now; sleep 0.3 &", NULL };
	struct gh_backend *b = run_wait_all(argv, 0);

	assert_int_equal(b->result.exit_code, 0);
	/* sha256("now\n") */
	assert_string_equal(b->result.stdout_hash,
			    "4ebabbd77cf9141d3ec6a774c99442b93c8d6b4850c6f28cb0fdc02e8b239e5f");
	assert_int_equal(b->result.stdout_more_may_follow, 1);
	assert_int_equal(b->result.stderr_more_may_follow, 1);
	gh_backend_free(b);
}

static void backend__misuse__ebadfd_with_message(void **state)
{
	struct gh_backend *b;

	assert_int_equal(gh_backend_new("nope", NULL, &b), -EINVAL);
	assert_int_equal(gh_backend_new("process", NULL, &b), 0);
	assert_int_equal(gh_backend_wait(b, NULL), -EBADFD);
	assert_string_equal(b->errmsg, "wait: backend has no running command");
	assert_int_equal(gh_backend_release(b), -EBADFD);
	gh_backend_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(process__true__exit_0_and_real_pid),
		cmocka_unit_test(process__false_and_exit_7__statuses_mirrored),
		cmocka_unit_test(process__echo_hello__stdout_hashed_exactly),
		cmocka_unit_test(process__large_output__streamed_and_counted),
		cmocka_unit_test(process__missing_binary__enoent_and_no_status),
		cmocka_unit_test(process__gate__nothing_runs_before_release),
		cmocka_unit_test(process__cleanup_at_gate__command_never_runs),
		cmocka_unit_test(process__sigkill__signal_recorded),
		cmocka_unit_test(process__pollable__called_until_it_declines),
		cmocka_unit_test(process__wait_all__orphan_waited_for_and_its_output_hashed),
		cmocka_unit_test(process__wait_all_zero__stops_at_the_command_more_may_follow),
		cmocka_unit_test(backend__misuse__ebadfd_with_message),
	};

	return cmocka_run_group_tests_name("backend", tests, NULL, NULL);
}
