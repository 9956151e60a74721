// SPDX-License-Identifier: MIT
/* The process backend: fork the command held at a gate, stream and hash its output, wait4 it. */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/command.h"
#include "backend/stream.h"
#include "core/signals.h"

struct proc {
	pid_t pid;
	int gate_w; /* closing it with a byte written lets the child exec */
	int exec_r; /* the child writes its exec errno here; EOF means exec worked */
	int sfd;    /* signalfd for SIGCHLD and the forwarded signals */
	int reaped;
	int tree_gone; /* wait_all: wait4(-1) said ECHILD, every process of the tree is reaped */
	int subreaper; /* we made glasshouse a child subreaper; restored at cleanup */
	int released;  /* the gate was opened: the command runs in our process group */
	sigset_t oldmask;
	int mask_saved;
	struct timespec t0;
	struct gh_stream s[2];
	char **envp;	/* the command's environment, built before fork */
	char **sh_argv; /* sh FILE ARGS..., for a program the kernel cannot exec (ENOEXEC) */
	const char *path_var;
	char own_env[PATH_MAX + 256]; /* HOME=, USER=, LOGNAME= for another user */
};

/* What the child tells the parent on the exec pipe: where it stopped, and why. */
enum child_stage {
	STAGE_READY,   /* set up and waiting at the gate */
	STAGE_NETWORK, /* the network namespace could not be made */
	STAGE_USER,    /* the user's credentials could not be taken */
	STAGE_EXEC,    /* after release: the program could not be run */
};

struct child_report {
	int stage;
	int err;
};

/*
 * What glasshouse was given by its caller, taken before main: the descriptors the command may
 * inherit (any other is made close-on-exec in the child, whoever opened it) and the
 * RLIMIT_MEMLOCK to give back if it was raised (guest mode, libbpf).
 */
#define MAX_INHERITED 64
static struct {
	int fds[MAX_INHERITED]; /* ascending, all >= 3 */
	int nfds;
	int known; /* /proc/self/fd could be read and had few enough */
	struct rlimit memlock;
	int memlock_known;
} caller;

__attribute__((constructor)) static void take_caller_state(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd, self;

	caller.memlock_known = getrlimit(RLIMIT_MEMLOCK, &caller.memlock) == 0;
	if (!d)
		return;
	self = dirfd(d);
	caller.known = 1;
	while ((e = readdir(d))) {
		fd = atoi(e->d_name);
		if (fd < 3 || fd == self)
			continue;
		if (caller.nfds == MAX_INHERITED) {
			caller.known = 0;
			break;
		}
		caller.fds[caller.nfds++] = fd;
	}
	closedir(d);
	for (int i = 1; i < caller.nfds; i++) /* insertion sort: a handful at most */
		for (int j = i; j > 0 && caller.fds[j - 1] > caller.fds[j]; j--) {
			fd = caller.fds[j];
			caller.fds[j] = caller.fds[j - 1];
			caller.fds[j - 1] = fd;
		}
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int proc_prepare(struct gh_backend *b)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(b->errmsg, sizeof(b->errmsg), "process backend: out of memory");
		return -ENOMEM;
	}
	p->pid = -1;
	p->gate_w = p->exec_r = p->sfd = p->s[0].fd = p->s[1].fd = -1;
	b->priv = p;
	if (b->cfg.guest || getpid() == 1)
		gh_guest_setup(&b->guest);
	return 0;
}

/* What the signalfd takes: SIGCHLD, and the forwarded signals unless the signal thread
 * (signals.c) takes those from the start of main. */
static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	if (gh_signals_active())
		return;
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	/* Held so a closed terminal shows up as EPIPE on write, not as our death. */
	sigaddset(set, SIGPIPE);
}

/* Everything below runs in the child, between fork and exec: async-signal-safe calls only. */

static void report(int fd, int stage, int err)
{
	struct child_report r = { stage, err };

	if (write(fd, &r, sizeof(r)) < 0)
		_exit(127);
}

/* Every descriptor but 0-2 and the caller's is closed at exec, however it was opened. */
static void seal_fds(void)
{
	unsigned int from = 3;
	int i;

	if (!caller.known)
		return; /* then O_CLOEXEC everywhere is all there is */
	for (i = 0; i < caller.nfds; i++) {
		if ((unsigned int)caller.fds[i] > from)
			close_range(from, (unsigned int)caller.fds[i] - 1, CLOSE_RANGE_CLOEXEC);
		from = (unsigned int)caller.fds[i] + 1;
	}
	close_range(from, ~0U, CLOSE_RANGE_CLOEXEC);
}

/* A network namespace of the command's own; with loopback, lo is brought up in it. */
static int make_network(enum gh_network net)
{
	struct ifreq ifr;
	int s, e = 0;

	if (net == GH_NET_HOST)
		return 0;
	if (unshare(CLONE_NEWNET))
		return errno;
	if (net != GH_NET_LOOPBACK)
		return 0;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			e = errno;
	} else {
		e = errno;
	}
	close(s);
	return e;
}

/* The user's groups, gid and uid, in that order (setgroups needs root); then no capability
 * left, for a user other than root and for glasshouse run with file capabilities. */
static int take_user(const struct gh_user *u)
{
	if (u) {
		if (setgroups((size_t)u->ngroups, u->groups) || setresgid(u->gid, u->gid, u->gid) ||
		    setresuid(u->uid, u->uid, u->uid))
			return errno;
	}
	if ((u && u->uid != 0) || gh_priv_secure())
		return -gh_priv_drop_caps();
	return 0;
}

static void child(struct proc *p, const struct gh_backend_config *cfg, const int gate[2],
		  const int ex[2], const int out[2], const int errp[2], char *const argv[])
{
	int gate_r = gate[0], exec_w = ex[1];
	char go, prog[4096];
	int e, found;

	/* Our copy of the gate's write end would keep the read below from ever seeing EOF. */
	close(gate[1]);
	close(ex[0]);
	close(out[0]);
	close(errp[0]);
	if (dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0) {
		report(exec_w, STAGE_EXEC, errno);
		_exit(127);
	}
	seal_fds();
	if (caller.memlock_known)
		setrlimit(RLIMIT_MEMLOCK, &caller.memlock);
	e = make_network(cfg->network);
	if (e) {
		report(exec_w, STAGE_NETWORK, e);
		_exit(127);
	}
	e = take_user(cfg->user);
	if (e) {
		report(exec_w, STAGE_USER, e);
		_exit(127);
	}
	found = gh_find_program(argv[0], p->path_var, prog, sizeof(prog));
	report(exec_w, STAGE_READY, 0);
	if (read(gate_r, &go, 1) != 1)
		_exit(127); /* the parent gave up before releasing us */
	/* Only now the mask glasshouse was started with (dispositions are as inherited): a
	 * signal that reached us at the gate, and what the parent forwarded at release, were held
	 * and merge into one delivery here. */
	sigprocmask(SIG_SETMASK, gh_signals_active() ? gh_signals_oldmask() : &p->oldmask, NULL);
	if (found) {
		report(exec_w, STAGE_EXEC, found);
		_exit(127);
	}
	execve(prog, argv, p->envp);
	if (errno == ENOEXEC) {
		/* A script without #!: the shell runs it, as execvp does. */
		p->sh_argv[1] = prog;
		execve("/bin/sh", p->sh_argv, p->envp);
	}
	report(exec_w, STAGE_EXEC, errno);
	_exit(127);
}

/* The environment, and sh's argv for ENOEXEC, made before fork (the child cannot allocate). */
static int prepare_exec(struct gh_backend *b, char *const argv[])
{
	struct proc *p = b->priv;
	size_t n = 0, i;

	p->envp = gh_command_env(b->cfg.user, p->own_env, sizeof(p->own_env));
	while (argv[n])
		n++;
	p->sh_argv = calloc(n + 2, sizeof(char *));
	if (!p->envp || !p->sh_argv) {
		snprintf(b->errmsg, sizeof(b->errmsg), "process backend: out of memory");
		return -ENOMEM;
	}
	p->sh_argv[0] = "sh";
	for (i = 1; i < n; i++)
		p->sh_argv[i + 1] = argv[i];
	p->path_var = "/bin:/usr/bin"; /* execvp's when PATH is unset */
	for (i = 0; p->envp[i]; i++)
		if (GH_IS_VAR(p->envp[i], "PATH"))
			p->path_var = p->envp[i] + 5;
	return 0;
}

static const char *const stage_what[] = {
	[STAGE_NETWORK] = "cannot make the command's network namespace",
	[STAGE_USER] = "cannot run the command as that user",
	[STAGE_EXEC] = "cannot start the command",
};

/* The child's word that it is set up and held at the gate; a failure there means nothing ran. */
static int wait_ready(struct gh_backend *b, int fd)
{
	struct proc *p = b->priv;
	struct child_report r;
	ssize_t n;
	int status;

	do
		n = read(fd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(r) && r.stage == STAGE_READY)
		return 0;
	if (n != (ssize_t)sizeof(r) || r.stage < STAGE_NETWORK || r.stage > STAGE_EXEC)
		r = (struct child_report){ STAGE_EXEC, EPIPE };
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	p->reaped = 1;
	gh_signals_command_live(0);
	b->result.setup_failed = 1;
	snprintf(b->errmsg, sizeof(b->errmsg), "%s: %s%s", stage_what[r.stage], strerror(r.err),
		 r.stage == STAGE_NETWORK && r.err == EPERM ? " (it needs CAP_SYS_ADMIN)" : "");
	return -r.err;
}

/*
 * With wait_all, glasshouse becomes a child subreaper before the fork: a process of the tree
 * orphaned by its parent (a double-forked, setsid daemon) is reparented to glasshouse, not to
 * init, so the wait loop sees it exit and wait4(-1) says ECHILD only when the tree is gone.
 */
static int become_subreaper(struct gh_backend *b)
{
	struct proc *p = b->priv;
	int was = 0;

	if (!b->cfg.wait_all || b->guest.active)
		return 0; /* an init is every orphan's parent already */
	if (prctl(PR_GET_CHILD_SUBREAPER, &was) == 0 && was)
		return 0;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		snprintf(b->errmsg, sizeof(b->errmsg),
			 "process backend: cannot become the tree's subreaper: %s",
			 strerror(errno));
		return -errno;
	}
	p->subreaper = 1;
	return 0;
}

static int proc_start(struct gh_backend *b, char *const argv[])
{
	struct proc *p = b->priv;
	int gate[2] = { -1, -1 }, ex[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	sigset_t set;
	int err = 0, i;

	/* Block before fork so no SIGCHLD or SIGTERM can slip past the signalfd. */
	handled_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, &p->oldmask) == 0)
		p->mask_saved = 1;
	sigdelset(&set, SIGPIPE);
	p->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (p->sfd < 0 || pipe2(gate, O_CLOEXEC) || pipe2(ex, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(errp, O_CLOEXEC)) {
		err = -errno;
		snprintf(b->errmsg, sizeof(b->errmsg), "process backend: cannot set up pipes: %s",
			 strerror(errno));
		goto cleanup;
	}
	err = prepare_exec(b, argv);
	if (err)
		goto cleanup;
	err = become_subreaper(b);
	if (err)
		goto cleanup;
	for (i = 0; i < 2; i++) {
		err = gh_sha256_init(&p->s[i].hash);
		if (err) {
			snprintf(b->errmsg, sizeof(b->errmsg), "process backend: sha256: %s",
				 strerror(-err));
			goto cleanup;
		}
	}
	p->pid = fork();
	if (p->pid < 0) {
		err = -errno;
		snprintf(b->errmsg, sizeof(b->errmsg), "fork: %s", strerror(errno));
		goto cleanup;
	}
	if (p->pid == 0)
		child(p, &b->cfg, gate, ex, out, errp, argv);
	gh_signals_command_live(1);
	close_fd(&ex[1]); /* so a child that dies in set-up is EOF, not a hang */
	err = wait_ready(b, ex[0]);
	if (err)
		goto cleanup;

	b->result.pid = p->pid;
	p->gate_w = gate[1];
	gate[1] = -1;
	p->exec_r = ex[0];
	ex[0] = -1;
	p->s[0] = (struct gh_stream){ .fd = out[0],
				      .out = 1,
				      .hash = p->s[0].hash,
				      .reader_closed = &b->result.stdout_reader_closed };
	p->s[1] = (struct gh_stream){ .fd = errp[0],
				      .out = 2,
				      .hash = p->s[1].hash,
				      .reader_closed = &b->result.stderr_reader_closed };
	out[0] = errp[0] = -1;
	for (i = 0; i < 2; i++)
		fcntl(p->s[i].fd, F_SETFL, fcntl(p->s[i].fd, F_GETFL) | O_NONBLOCK);
cleanup:
	close_fd(&gate[0]);
	close_fd(&gate[1]);
	close_fd(&ex[0]);
	close_fd(&ex[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	return err;
}

static void take_signals(struct gh_backend *b);

static int proc_release(struct gh_backend *b)
{
	struct proc *p = b->priv;
	struct child_report r;
	struct timespec rt;
	ssize_t n;
	int e;

	/* What came before the command existed (a Ctrl-C during start-up) is forwarded, even one
	 * the kernel holds for us that the signal thread has not queued yet. */
	gh_signals_settle(0, 100);
	take_signals(b);
	p->released = 1;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	b->result.start_realtime_ns = ts_ns(&rt);
	if (write(p->gate_w, "g", 1) != 1) {
		e = errno;
		snprintf(b->errmsg, sizeof(b->errmsg),
			 "process backend: cannot release the command: %s", strerror(e));
		return -e;
	}
	close_fd(&p->gate_w);
	do
		n = read(p->exec_r, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close_fd(&p->exec_r);
	if (n == (ssize_t)sizeof(r)) {
		/* The child could not exec; its exit status (127) is not the command's. */
		snprintf(b->errmsg, sizeof(b->errmsg), "%s", strerror(r.err));
		return -r.err;
	}
	return 0;
}

static void record_status(struct gh_backend *b, int status, const struct rusage *ru)
{
	struct gh_result *r = &b->result;
	struct proc *p = b->priv;
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->duration_ns = ts_ns(&t1) - ts_ns(&p->t0);
	r->exited = 1;
	if (WIFEXITED(status)) {
		r->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
		r->core_dumped = WCOREDUMP(status) ? 1 : 0;
	}
	r->cpu_time_us = (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec +
			 (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
	r->max_rss_kb = ru->ru_maxrss;
	p->reaped = 1;
}

/* Reap the command, and in guest mode (an init's duty) or with wait_all every other child too:
 * those are reaped silently, the command's status is the one kept. */
static void reap(struct gh_backend *b)
{
	struct proc *p = b->priv;
	int all = b->guest.active || b->cfg.wait_all;
	struct rusage ru;
	int status;
	pid_t w;

	for (;;) {
		w = wait4(all ? -1 : p->pid, &status, WNOHANG, &ru);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == ECHILD && all)
			p->tree_gone = 1;
		if (w <= 0)
			return;
		if (w == p->pid)
			record_status(b, status, &ru);
		if (!all)
			return;
	}
}

static void on_signal(struct gh_backend *b, int signo, int code)
{
	struct proc *p = b->priv;

	if (signo == SIGCHLD) {
		reap(b);
		return;
	}
	if (!b->result.received_signal)
		b->result.received_signal = signo;
	/* A terminal's Ctrl-C reaches the command's process group by itself once the command
	 * runs; send only what a process sent to us alone, so the command never gets the same
	 * signal twice. Before release everything is sent: the command held at the gate blocks
	 * it, and a second copy of a pending signal merges with the first. */
	if ((code != SI_KERNEL || !p->released) && p->pid > 0 && !p->reaped)
		kill(p->pid, signo);
}

/* Everything queued on the signalfd and by the signal thread. */
static void take_signals(struct gh_backend *b)
{
	struct proc *p = b->priv;
	struct signalfd_siginfo si;
	struct gh_signal gs;

	while (read(p->sfd, &si, sizeof(si)) == sizeof(si))
		on_signal(b, (int)si.ssi_signo, si.ssi_code);
	while (gh_signals_take(&gs))
		on_signal(b, gs.signo, gs.code);
}

/*
 * How much longer the wait loop runs, in ms: -1 without a limit, 0 when it is over. It ends when
 * the command is reaped; with wait_all, when the whole tree is, when wait_all_ms have passed
 * since the command was reaped, or when glasshouse got a signal (Ctrl-C, SIGTERM).
 */
static int64_t time_left(struct gh_backend *b)
{
	struct proc *p = b->priv;
	struct timespec now;
	int64_t left_ns;

	if (!p->reaped)
		return -1;
	if (!b->cfg.wait_all || p->tree_gone || b->result.received_signal)
		return 0;
	if (b->cfg.wait_all_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left_ns =
		ts_ns(&p->t0) + b->result.duration_ns + b->cfg.wait_all_ms * 1000000 - ts_ns(&now);
	return left_ns > 0 ? (left_ns + 999999) / 1000000 : 0;
}

static int proc_wait(struct gh_backend *b, const struct gh_pollable *pl)
{
	struct proc *p = b->priv;
	struct pollfd fds[5];
	int use_pl = pl && pl->ready, i, n, timeout;
	int64_t left;

	/* A signal that came before the command existed is forwarded now; a child that died
	 * before we got here sent its SIGCHLD already. */
	take_signals(b);
	reap(b);
	while ((left = time_left(b)) != 0) {
		fds[0] = (struct pollfd){ .fd = p->sfd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = p->s[0].fd, .events = POLLIN };
		fds[2] = (struct pollfd){ .fd = p->s[1].fd, .events = POLLIN };
		fds[3] = (struct pollfd){ .fd = use_pl ? pl->fd : -1, .events = POLLIN };
		fds[4] = (struct pollfd){ .fd = gh_signals_fd(), .events = POLLIN };
		timeout = use_pl && pl->interval_ms > 0 ? pl->interval_ms : -1;
		if (left > 0 && (timeout < 0 || left < timeout))
			timeout = (int)left;
		n = poll(fds, 5, timeout);
		if (n < 0 && errno != EINTR) {
			snprintf(b->errmsg, sizeof(b->errmsg), "process backend: poll: %s",
				 strerror(errno));
			return -errno;
		}
		for (i = 0; i < 2; i++)
			if (n > 0 && fds[i + 1].revents)
				gh_stream_pass(&p->s[i]);
		if (use_pl && (n == 0 || (n > 0 && fds[3].revents)) && pl->ready(pl->ctx) < 0)
			use_pl = 0;
		take_signals(b);
	}
	/* A terminal's Ctrl-C reached us in the same instant as the command it killed; let the
	 * signal thread catch up so received_signal does not miss it. */
	if (gh_signals_settle(b->result.received_signal ? 0 : b->result.signal, 100))
		take_signals(b);
	gh_signals_command_live(0);
	/* What the command wrote before it exited is in the pipes; what a process that outlives
	 * the wait writes later goes to the relay, unhashed (proc_cleanup). */
	gh_stream_pass(&p->s[0]);
	gh_stream_pass(&p->s[1]);
	return 0;
}

static void proc_cleanup(struct gh_backend *b)
{
	struct proc *p = b->priv;
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set;
	int status, i;

	if (!p)
		return;
	close_fd(&p->gate_w); /* a child still at the gate exits 127 without running anything */
	close_fd(&p->exec_r);
	if (p->pid > 0 && !p->reaped)
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
	if (p->pid > 0)
		gh_signals_command_live(0);
	/* Before the relay is forked, so it is not our child. */
	if (p->subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0);
	if (p->released)
		gh_stream_finish(p->s, (int *[2]){ &b->result.stdout_more_may_follow,
						   &b->result.stderr_more_may_follow });
	for (i = 0; i < 2; i++) {
		close_fd(&p->s[i].fd);
		if (p->s[i].hash.ctx) {
			char *hex = i ? b->result.stderr_hash : b->result.stdout_hash;

			gh_sha256_final(&p->s[i].hash, hex);
		}
	}
	b->result.stdout_bytes = p->s[0].bytes;
	b->result.stderr_bytes = p->s[1].bytes;
	close_fd(&p->sfd);
	if (p->mask_saved) {
		/* A SIGPIPE from a closed terminal stays pending; consume it before unblocking. */
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &p->oldmask, NULL);
	}
	free(p->envp);
	free(p->sh_argv);
	free(p);
	b->priv = NULL;
}

const struct gh_backend_ops gh_backend_process_ops = {
	.name = "process",
	.isolation = "none",
	.prepare = proc_prepare,
	.start = proc_start,
	.release = proc_release,
	.wait = proc_wait,
	.cleanup = proc_cleanup,
};
