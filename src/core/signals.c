// SPDX-License-Identifier: MIT
/*
 * The signals glasshouse forwards, taken by one thread in sigwaitinfo from the first instruction
 * of main: a handler would have to drop a signal that came before the command existed, and a
 * signalfd is only read while the wait loop runs, so a script looping in Lua could never see one.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/signals.h"

#define QUEUE_LEN 64

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static struct {
	int active;
	sigset_t oldmask;
	sigset_t waited;
	int efd;
	pthread_mutex_t lock;
	struct gh_signal queue[QUEUE_LEN];
	unsigned head, len;
	int pending;	  /* first signal neither forwarded nor claimed by a script */
	int command_live; /* a command exists that queued signals are for */
	void (*on_arrival)(int, void *);
	void *ctx;
} hub = { .efd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void queue_push(const siginfo_t *si)
{
	uint64_t one = 1;

	pthread_mutex_lock(&hub.lock);
	/* A full queue keeps the oldest: the first signal decides, repeats add nothing. */
	if (hub.len < QUEUE_LEN) {
		hub.queue[(hub.head + hub.len) % QUEUE_LEN] = (struct gh_signal){
			.signo = si->si_signo, .code = si->si_code, .pid = si->si_pid
		};
		hub.len++;
	}
	if (!hub.pending)
		__atomic_store_n(&hub.pending, si->si_signo, __ATOMIC_RELEASE);
	/* Under the lock, so gh_signals_take never drains the counter past a queued signal. */
	if (write(hub.efd, &one, sizeof(one)) < 0) {
		/* the counter is far from overflow; nothing else can fail here */
	}
	pthread_mutex_unlock(&hub.lock);
}

static void *signal_thread(void *arg)
{
	siginfo_t si;
	void (*fn)(int, void *);

	(void)arg;
	for (;;) {
		if (sigwaitinfo(&hub.waited, &si) < 0)
			continue;
		queue_push(&si);
		fn = __atomic_load_n(&hub.on_arrival, __ATOMIC_ACQUIRE);
		if (fn)
			fn(si.si_signo, __atomic_load_n(&hub.ctx, __ATOMIC_ACQUIRE));
	}
	return NULL;
}

int gh_signals_start(void)
{
	struct sigaction old;
	sigset_t block, all;
	pthread_t t;
	size_t i;
	int err;

	if (hub.active)
		return 0;
	sigemptyset(&hub.waited);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		if (sigaction(forwarded[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaddset(&hub.waited, forwarded[i]);
	block = hub.waited;
	sigaddset(&block, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &block, &hub.oldmask))
		return -errno;
	hub.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (hub.efd < 0) {
		err = -errno;
		goto fail;
	}
	/* The thread starts with every signal blocked, so SIGCHLD and the rest still reach the
	 * main thread's signalfd, and ours reach only its sigwaitinfo. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	err = -pthread_create(&t, NULL, signal_thread, NULL);
	/* Back in one step: never a moment with ours unblocked (a SIGTERM then would kill us). */
	sigorset(&all, &hub.oldmask, &block);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	if (err)
		goto fail;
	pthread_detach(t);
	hub.active = 1;
	return 0;
fail:
	if (hub.efd >= 0)
		close(hub.efd);
	hub.efd = -1;
	pthread_sigmask(SIG_SETMASK, &hub.oldmask, NULL);
	return err;
}

int gh_signals_active(void)
{
	return hub.active;
}

const sigset_t *gh_signals_oldmask(void)
{
	return &hub.oldmask;
}

int gh_signals_fd(void)
{
	return hub.efd;
}

int gh_signals_take(struct gh_signal *out)
{
	uint64_t n;
	int got = 0;

	if (!hub.active)
		return 0;
	pthread_mutex_lock(&hub.lock);
	if (hub.len) {
		*out = hub.queue[hub.head];
		hub.head = (hub.head + 1) % QUEUE_LEN;
		hub.len--;
		got = 1;
	}
	if (!hub.len)
		__atomic_store_n(&hub.pending, 0, __ATOMIC_RELEASE); /* all forwarded */
	if (!hub.len && read(hub.efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already drained */
	}
	pthread_mutex_unlock(&hub.lock);
	return got;
}

void gh_signals_on_arrival(void (*fn)(int signo, void *ctx), void *ctx)
{
	__atomic_store_n(&hub.ctx, ctx, __ATOMIC_RELEASE);
	__atomic_store_n(&hub.on_arrival, fn, __ATOMIC_RELEASE);
}

int gh_signals_pending(void)
{
	return __atomic_load_n(&hub.pending, __ATOMIC_ACQUIRE);
}

int gh_signals_claim(void)
{
	uint64_t n;
	int sig;

	pthread_mutex_lock(&hub.lock);
	sig = hub.pending;
	hub.pending = 0;
	/* With a command running the queue still goes to it; without one nothing is left for
	 * a command a script starts later. */
	if (!hub.command_live) {
		hub.len = 0;
		if (read(hub.efd, &n, sizeof(n)) < 0) {
			/* EAGAIN: nothing was queued */
		}
	}
	pthread_mutex_unlock(&hub.lock);
	return sig;
}

void gh_signals_command_live(int live)
{
	pthread_mutex_lock(&hub.lock);
	hub.command_live = live;
	pthread_mutex_unlock(&hub.lock);
}

int gh_signals_settle(int expect, int timeout_ms)
{
	struct pollfd pfd = { .fd = hub.efd, .events = POLLIN };
	sigset_t pend;
	int i;

	if (!hub.active || sigpending(&pend))
		return 0;
	/* Taken from the kernel but not queued yet: the thread is between sigwaitinfo and the
	 * queue, where no call can see it, so only waiting tells. */
	if (expect > 0 && expect < NSIG && sigismember(&hub.waited, expect) == 1)
		return poll(&pfd, 1, timeout_ms) > 0;
	for (i = 1; i < NSIG; i++)
		if (sigismember(&hub.waited, i) == 1 && sigismember(&pend, i) == 1)
			return poll(&pfd, 1, timeout_ms) > 0;
	return 0;
}
