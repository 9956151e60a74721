/* SPDX-License-Identifier: MIT */
/* The names receipts and messages give signals and errno values. */
#ifndef GH_NAMES_H
#define GH_NAMES_H

/* "SIGKILL" for 9; "SIG<n>" for numbers without a name. Thread-local storage. */
const char *gh_signal_name(int sig);
/* "ENOENT" for ENOENT; "E<n>" for numbers without a name. */
const char *gh_errno_name(int err);

#endif
