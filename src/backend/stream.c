// SPDX-License-Identifier: MIT
/* The command's output pipes: hashed and passed through, then relayed past glasshouse's exit. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/stream.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void gh_stream_pass(struct gh_stream *s)
{
	char buf[65536];
	ssize_t n, w, off;

	while (s->fd >= 0) {
		n = read(s->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_fd(&s->fd);
			return;
		}
		s->bytes += (uint64_t)n;
		gh_sha256_update(&s->hash, buf, (size_t)n);
		for (off = 0; !s->out_broken && off < n; off += w) {
			w = write(s->out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR) {
				w = 0;
			} else if (w < 0 && errno == EPIPE) {
				/* As in a plain pipeline: the command's next write gets EPIPE or
				 * SIGPIPE once nobody reads its pipe. */
				*s->reader_closed = 1;
				close_fd(&s->fd);
				return;
			} else if (w < 0) {
				s->out_broken = 1;
			}
		}
	}
}

/* From here to start_relay, what runs in the relay, after fork: async-signal-safe only. */

/* Write all of buf to fd; 0, or the errno that stopped it. */
static int write_all(int fd, const char *buf, ssize_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, buf, (size_t)n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno;
		buf += w;
		n -= w;
	}
	return 0;
}

/*
 * The relay: copies the command's pipes (at fds 3 and 4, or -1) to glasshouse's stdout and
 * stderr until each has no writer left, then exits. Its own session (a terminal's Ctrl-C for
 * glasshouse is not for it), default dispositions and an empty mask; SIGPIPE ignored so that
 * a closed stdout ends only that stream: the relay closes its pipe and the writer sees EPIPE
 * or SIGPIPE there, as it would have written to that reader itself.
 */
static __attribute__((noreturn)) void relay(int in[2], const int broken[2])
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	struct pollfd fds[2];
	int skip[2] = { broken[0], broken[1] };
	char buf[16384];
	sigset_t none;
	ssize_t n;
	int i, e;

	setsid();
	for (i = 1; i < NSIG; i++)
		sigaction(i, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, reserved ones */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	while (in[0] >= 0 || in[1] >= 0) {
		for (i = 0; i < 2; i++)
			fds[i] = (struct pollfd){ .fd = in[i], .events = POLLIN };
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		for (i = 0; i < 2; i++) {
			if (in[i] < 0 || !fds[i].revents)
				continue;
			n = read(in[i], buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			e = n > 0 && !skip[i] ? write_all(1 + i, buf, n) : 0;
			if (n > 0 && e != EPIPE) {
				skip[i] |= e != 0; /* as the wait loop: drained, no longer passed */
				continue;
			}
			close(in[i]); /* EOF, or nobody reads our side any more */
			in[i] = -1;
		}
	}
	_exit(0);
}

/*
 * Hand the pipes that still have a writer (a process that outlives the run) to a relay, so
 * that writer goes on as it would without glasshouse: its output still reaches glasshouse's
 * stdout and stderr, and it is not killed by SIGPIPE for a reader that went away with
 * glasshouse. Double-forked: the middle process exits at once and is reaped here, so the
 * relay is nobody's zombie and delays nothing. glasshouse is not in the tree, so neither is
 * the relay: no receipt shows it. Every other descriptor (the collector's BPF objects too) is
 * closed in it.
 */
static void start_relay(const struct gh_stream s[2])
{
	int in[2], broken[2], i, status;
	pid_t mid;

	mid = fork();
	if (mid < 0)
		return; /* then the pipes close with glasshouse, as they did before relays */
	if (mid == 0) {
		if (fork() != 0)
			_exit(0);
		for (i = 0; i < 2; i++) {
			in[i] = s[i].fd >= 0 ? fcntl(s[i].fd, F_DUPFD, 16) : -1;
			broken[i] = s[i].out_broken;
		}
		for (i = 0; i < 2; i++)
			if (in[i] >= 0)
				in[i] = dup2(in[i], 3 + i);
		close_range(5, ~0U, 0);
		close(0);
		relay(in, broken);
	}
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
}

void gh_stream_finish(struct gh_stream s[2], int *more[2])
{
	int open = 0, i;

	for (i = 0; i < 2; i++) {
		if (s[i].fd < 0 || !s[i].hash.ctx)
			continue;
		gh_stream_pass(&s[i]);
		*more[i] = s[i].fd >= 0;
		open |= *more[i];
	}
	if (open)
		start_relay(s);
}
