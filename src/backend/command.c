// SPDX-License-Identifier: MIT
/* What the command is run as: its program found along PATH, and its environment. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/command.h"

extern char **environ;

/* dir (len n, empty: the working directory) + "/" + name into buf; 0 when it does not fit. */
static int join(char *buf, size_t cap, const char *dir, size_t n, const char *name)
{
	size_t m = strlen(name);

	if (n == 0) {
		dir = ".";
		n = 1;
	}
	if (n + 1 + m + 1 > cap)
		return 0;
	memcpy(buf, dir, n);
	buf[n] = '/';
	memcpy(buf + n + 1, name, m + 1);
	return 1;
}

/*
 * Where execvp would find name, searched with the credentials the command runs with, before it
 * is released (as strace does): the command's one execve is of the program itself, and misses
 * along PATH are neither failed execs nor counted execve calls. 0 with buf filled, or an errno
 * (EACCES when something by that name was there but could not be run, as execvp says).
 */
int gh_find_program(const char *name, const char *path, char *buf, size_t cap)
{
	const char *dir, *end;
	struct stat st;
	int seen_eacces = 0;

	if (!*name)
		return ENOENT;
	if (strchr(name, '/')) {
		if (strlen(name) >= cap)
			return ENAMETOOLONG;
		memcpy(buf, name, strlen(name) + 1);
		return 0;
	}
	for (dir = path;; dir = end + 1) {
		end = strchr(dir, ':');
		if (!end)
			end = dir + strlen(dir);
		if (join(buf, cap, dir, (size_t)(end - dir), name) && stat(buf, &st) == 0) {
			if (S_ISREG(st.st_mode) && faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) == 0)
				return 0;
			seen_eacces = 1;
		}
		if (!*end)
			break;
	}
	return seen_eacces ? EACCES : ENOENT;
}

/* The command's environment: glasshouse's without GLASSHOUSE_*, and for another user its
 * HOME, USER and LOGNAME. Pointers into environ and u; freed with the proc. */
char **gh_command_env(const struct gh_user *u, char *own, size_t own_len)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *v = environ[i];

		if (!strncmp(v, "GLASSHOUSE_", 11))
			continue;
		if (u && (GH_IS_VAR(v, "HOME") || GH_IS_VAR(v, "USER") || GH_IS_VAR(v, "LOGNAME")))
			continue;
		env[k++] = environ[i];
	}
	if (u) {
		int a = snprintf(own, own_len, "HOME=%s", u->home) + 1;
		int b = snprintf(own + a, own_len - (size_t)a, "USER=%s", u->name) + 1;

		snprintf(own + a + b, own_len - (size_t)(a + b), "LOGNAME=%s", u->name);
		env[k++] = own;
		env[k++] = own + a;
		env[k++] = own + a + b;
	}
	return env;
}
