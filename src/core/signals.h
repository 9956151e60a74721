/* SPDX-License-Identifier: MIT */
/* The signals glasshouse forwards to the command, seen from the first instruction of main. */
#ifndef GH_SIGNALS_H
#define GH_SIGNALS_H

#include <signal.h>
#include <sys/types.h>

struct gh_signal {
	int signo;
	int code;  /* si_code: SI_KERNEL for a terminal's Ctrl-C, SI_USER for kill(2) */
	pid_t pid; /* the sender, for SI_USER */
};

/*
 * Block SIGINT, SIGTERM, SIGHUP and SIGQUIT (those not inherited as ignored, so nohup keeps
 * working) and SIGPIPE (so a vanished reader is EPIPE, never our death) in the calling
 * thread, then start one thread that takes them with sigwaitinfo and queues them. Call it
 * first thing in main, before any other thread exists. 0 or -errno.
 */
int gh_signals_start(void);
/* Whether gh_signals_start ran: the process backend then takes signals from here. */
int gh_signals_active(void);
/* The mask and SIGPIPE disposition main was started with, for the command to get back. */
const sigset_t *gh_signals_oldmask(void);
/* Readable while signals are queued; -1 when not started. */
int gh_signals_fd(void);
/* Take the oldest queued signal, to forward: 1, or 0 when none is queued. */
int gh_signals_take(struct gh_signal *out);
/* The first signal not yet forwarded (gh_signals_take) or claimed; 0 when none. */
int gh_signals_pending(void);
/* Take that signal for a script to be interrupted by: returns it, and, when no command is
 * running, empties the queue so it is not forwarded to a command started later. */
int gh_signals_claim(void);
/* Whether a command exists (forked, not yet reaped) that queued signals are for. */
void gh_signals_command_live(int live);
/* When one of our signals is pending in the kernel but not yet queued, or when signal expect
 * (one of ours: a terminal's Ctrl-C that also killed the command) is due, wait up to timeout_ms
 * for the thread to queue it. 1 if something was queued. */
int gh_signals_settle(int expect, int timeout_ms);
/* Called on the signal thread as each signal arrives (to interrupt a running script). */
void gh_signals_on_arrival(void (*fn)(int signo, void *ctx), void *ctx);

#endif
