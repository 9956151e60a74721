/* SPDX-License-Identifier: MIT */
/* What the command is run as: its program found along PATH, and its environment. */
#ifndef GH_BACKEND_COMMAND_H
#define GH_BACKEND_COMMAND_H

#include <stddef.h>
#include <string.h>

#include "core/priv.h"

/* Whether environment entry e names variable name (a literal: the length is known). */
#define GH_IS_VAR(e, name) (!strncmp((e), name "=", sizeof(name)))

/*
 * Where execvp would find name along path, searched with the calling process's credentials
 * (the child's, after it took the command's user): async-signal-safe, for the child between
 * fork and exec. 0 with buf filled, or an errno (EACCES when something by that name was there
 * but could not be run, as execvp says).
 */
int gh_find_program(const char *name, const char *path, char *buf, size_t cap);

/* The command's environment: glasshouse's without GLASSHOUSE_*, and for another user u its
 * HOME, USER and LOGNAME (written into own). Pointers into environ, u and own; free() the
 * array only. NULL when out of memory. */
char **gh_command_env(const struct gh_user *u, char *own, size_t own_len);

#endif
