// SPDX-License-Identifier: MIT
/*
 * Small workloads whose every effect is known, one per subcommand, for the collector's
 * integration tests (tests/bpf/bpf_test.sh). All work happens below the current directory;
 * network traffic stays on loopback and unix sockets.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/openat2.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(99);
}

static void touch_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0)
		die(name);
	close(fd);
}

static void read_file(const char *name)
{
	char buf[64];
	int fd = open(name, O_RDONLY);

	if (fd < 0)
		die(name);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* dirfd- and cwd-relative names, . and .. */
static int relpaths(void)
{
	int dfd;

	if (mkdir("d", 0755) || mkdir("d/sub", 0755))
		die("mkdir");
	dfd = open("d", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die("open d");
	touch_at(dfd, "at-dirfd");
	touch_at(dfd, "sub/../at-dirfd-dotdot");
	if (chdir("d/sub"))
		die("chdir");
	touch_at(AT_FDCWD, "../from-sub");
	touch_at(AT_FDCWD, "./here");
	if (fchdir(dfd))
		die("fchdir");
	touch_at(AT_FDCWD, "after-fchdir");
	read_file("./sub/../at-dirfd");
	return 0;
}

/* The grandchild outlives its parent; the root waits for it through a pipe. */
static int doublefork(void)
{
	int p[2];
	pid_t c;
	char b;

	if (pipe(p))
		die("pipe");
	c = fork();
	if (c == 0) {
		pid_t mid = getpid();

		if (fork() == 0) {
			close(p[0]);
			while (getppid() == mid) /* until the middle process is gone */
				usleep(1000);
			touch_at(AT_FDCWD, "orphan-was-here");
			execl("/bin/true", "true", "orphan", (char *)NULL);
			die("exec");
		}
		_exit(0);
	}
	close(p[1]);
	waitpid(c, NULL, 0);
	while (read(p[0], &b, 1) > 0) /* EOF: the grandchild exec'd (cloexec-less fd closed at exit) */
		;
	return 0;
}

/* Forks before doing anything itself; the child works. */
static int forkfirst(void)
{
	pid_t c = fork();

	if (c == 0) {
		touch_at(AT_FDCWD, "child-file");
		_exit(3);
	}
	waitpid(c, NULL, 0);
	return 0;
}

static void *thread_main(void *arg)
{
	char name[32];

	snprintf(name, sizeof(name), "thread-%ld", (long)arg);
	touch_at(AT_FDCWD, name);
	return NULL;
}

static int threads(void)
{
	pthread_t t[4];
	long i;

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, (void *)i);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* A path of more than 255 bytes (every component 200) and a name that is not UTF-8. */
static int longnames(void)
{
	char comp[201], path[4096] = ".";
	int i;

	memset(comp, 'a', 200);
	comp[200] = '\0';
	for (i = 0; i < 5; i++) {
		comp[0] = (char)('a' + i);
		strcat(path, "/");
		strcat(path, comp);
		if (mkdir(path, 0755))
			die("mkdir long");
	}
	strcat(path, "/leaf");
	touch_at(AT_FDCWD, path);
	touch_at(AT_FDCWD, "bad-\xff\xfe-name");
	return 0;
}

static int fsops(void)
{
	touch_at(AT_FDCWD, "a");
	touch_at(AT_FDCWD, "b");
	if (rename("a", "a2"))
		die("rename");
	if (syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "b2", 0))
		die("renameat2");
	if (symlink("a2", "link-to-a2"))
		die("symlink");
	if (link("a2", "hard"))
		die("link");
	if (mknod("fifo", S_IFIFO | 0644, 0))
		die("mknod");
	if (mkdir("dir", 0755) || rmdir("dir"))
		die("mkdir/rmdir");
	if (unlink("b2"))
		die("unlink");
	if (unlink("never-existed") == 0 || errno != ENOENT)
		die("unlink missing");
	if (open("missing-too", O_RDONLY) >= 0)
		die("open missing");
	if (rename("nope", "nope2") == 0)
		die("rename missing");
	if (chmod("a2", 0600))
		die("chmod");
	{ /* openat2: one read, one failure */
		struct open_how how = { .flags = O_RDONLY };
		long fd = syscall(SYS_openat2, AT_FDCWD, "hard", &how, sizeof(how));

		if (fd < 0)
			die("openat2");
		close((int)fd);
		if (syscall(SYS_openat2, AT_FDCWD, "missing-2", &how, sizeof(how)) >= 0)
			die("openat2 missing");
	}
	return 0;
}

static int execfail(void)
{
	char *argv[] = { "prog", NULL };
	pid_t c = fork();

	if (c == 0) {
		execv("./no-such-program", argv);
		execl("/bin/true", "true", "after-failure", (char *)NULL);
		_exit(127);
	}
	waitpid(c, NULL, 0);
	return 0;
}

static int tcp_pair_transfer(int family, int out, int back)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int l = socket(family, SOCK_STREAM, 0), c, s;
	char buf[4096];
	int got = 0, n;

	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
	}
	if (l < 0 || bind(l, (void *)&ss, len) || listen(l, 4) || getsockname(l, (void *)&ss, &len))
		die("listen");
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&ss, len))
		die("connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	memset(buf, 'x', sizeof(buf));
	if (write(c, buf, (size_t)out) != out)
		die("write");
	while (got < out && (n = (int)read(s, buf, sizeof(buf))) > 0)
		got += n;
	if (send(s, buf, (size_t)back, 0) != back)
		die("send");
	got = 0;
	while (got < back && (n = (int)recv(c, buf, sizeof(buf), 0)) > 0)
		got += n;
	close(c);
	close(s);
	close(l);
	return 0;
}

static int net(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(1) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int s, u, srv;

	tcp_pair_transfer(AF_INET, 1000, 2500);
	tcp_pair_transfer(AF_INET6, 300, 70);

	/* refused: nothing listens on 127.0.0.1:1 */
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (void *)&in, sizeof(in)) == 0 || errno != ECONNREFUSED)
		die("refused connect");
	close(s);

	/* UDP sendto without connect, 3 datagrams of 10 bytes */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	in.sin_port = htons(9); /* discard; nothing needs to listen for UDP to be sent */
	for (int i = 0; i < 3; i++)
		if (sendto(s, "0123456789", 10, 0, (void *)&in, sizeof(in)) != 10)
			die("sendto");
	close(s);

	/* UDP sendmsg with a destination: one datagram of 7 bytes to port 10 */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	in.sin_port = htons(10);
	{
		struct iovec iov = { .iov_base = "abcdefg", .iov_len = 7 };
		struct msghdr m = { .msg_name = &in, .msg_namelen = sizeof(in), .msg_iov = &iov,
				    .msg_iovlen = 1 };

		if (sendmsg(s, &m, 0) != 7)
			die("sendmsg");
	}
	close(s);

	/* unix stream socket */
	strcpy(un.sun_path, "gh.sock");
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	if (srv < 0 || bind(srv, (void *)&un, sizeof(un)) || listen(srv, 1))
		die("unix listen");
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(u, (void *)&un, sizeof(un)))
		die("unix connect");
	if (write(u, "ping", 4) != 4)
		die("unix write");
	close(u);
	close(srv);
	unlink("gh.sock");
	return 0;
}

/* n failed opens of distinct names (identical opens collapse in the kernel) as fast as
 * possible: with a tiny ring, some records must be lost. */
static int burst(int n)
{
	char name[64];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "no-such-file-%d", i);
		open(name, O_RDONLY);
	}
	return 0;
}

/* argv of n arguments, each len bytes, through exec of /bin/true. */
static int bigargv(int n, int len)
{
	char **argv = calloc((size_t)n + 2, sizeof(*argv));
	int i;

	argv[0] = "true";
	for (i = 1; i <= n; i++) {
		argv[i] = malloc((size_t)len + 1);
		memset(argv[i], 'a' + i % 26, (size_t)len);
		argv[i][len] = '\0';
	}
	execv("/bin/true", argv);
	die("exec");
	return 1;
}

/* A thread (not the leader) execs: the kernel gives it the leader's id. The new program must
 * still be tracked: it writes "out" in the cwd. */
static void *exec_thread(void *arg)
{
	char *argv[] = { "sh", "-c", "echo done > out", NULL };

	(void)arg;
	execv("/bin/sh", argv);
	return NULL;
}

static int threadexec(void)
{
	pthread_t t;

	pthread_create(&t, NULL, exec_thread, NULL);
	pthread_join(t, NULL); /* never returns: the exec replaces the process */
	return 1;
}

/* n rounds of: six names in turn, twice (more than the kernel's cache of a CPU's last opens
 * holds), then the same relative name "f" from two directories, and a name through "..":
 * every name must be in the receipt once however the repeats collapse. Needs c0..c5, a/f and
 * b/f in the cwd. */
static int cycle(int n)
{
	char name[8];
	int i, k, pass;

	for (i = 0; i < n; i++) {
		for (pass = 0; pass < 2; pass++) /* more names than the cache holds */
			for (k = 0; k < 6; k++) {
				snprintf(name, sizeof(name), "c%d", k);
				close(open(name, O_RDONLY));
			}
		if (chdir("a"))
			return 1;
		close(open("f", O_RDONLY));
		close(open("f", O_RDONLY));
		if (chdir("../b"))
			return 1;
		close(open("f", O_RDONLY));
		close(open("f", O_RDONLY));
		if (chdir(".."))
			return 1;
		close(open("a/../b/f", O_RDWR));
		close(open("a/../b/f", O_RDWR));
	}
	return 0;
}

/* Two processes on one CPU take turns (a pipe each way) opening the same name "f" n times
 * each: the kernel's cache of last opens is shared by the CPU's tasks, and each process's first
 * open must still be sent, once. They share their cwd and root (CLONE_FS), so only the process
 * in the key tells their opens apart. Needs f in the cwd. */
static int procs(int n)
{
	int ab[2], ba[2], i, st;
	cpu_set_t one;
	char c = 0;
	pid_t pid;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) /* the child inherits it */
		die("sched_setaffinity");
	if (pipe(ab) || pipe(ba))
		die("pipe");
	pid = (pid_t)syscall(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0); /* a fork sharing fs */
	if (pid < 0)
		die("clone");
	for (i = 0; i < n; i++) {
		if (pid == 0 && read(ab[0], &c, 1) != 1)
			_exit(1);
		close(open("f", O_RDONLY));
		if (pid == 0) {
			if (write(ba[1], &c, 1) != 1)
				_exit(1);
		} else if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1) {
			return 1;
		}
	}
	if (pid == 0)
		_exit(0);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* Directories made, used and removed while still open, n times: each one's dentry is freed
 * when its last user lets go, and a later directory may get the same kernel address. Through
 * a dirfd and as the cwd, each opens a missing name: every one must be in the receipt. */
static int reuse(int n)
{
	char name[16];
	int i, fd;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		if (mkdir(name, 0755) || (fd = open(name, O_RDONLY | O_DIRECTORY)) < 0)
			return 1;
		close(openat(fd, "x", O_RDONLY));
		if (fchdir(fd))
			return 1;
		close(open("y", O_RDONLY));
		if (chdir("..") || rmdir(name))
			return 1;
		close(fd);
	}
	return 0;
}

/* n processes deep: each forks the next and waits for it; the deepest writes a file. */
static int chain(int n)
{
	int st;
	pid_t c;

	for (; n > 0; n--) {
		c = fork();
		if (c < 0)
			die("fork");
		if (c > 0) {
			if (waitpid(c, &st, 0) < 0)
				die("waitpid");
			return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
	}
	touch_at(AT_FDCWD, "deepest");
	return 0;
}

/* Put "text" in file name (the daemon's report: what its last write to stdout gave). */
static void note(const char *name, const char *text)
{
	int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		_exit(98);
	close(fd);
}

static void wait_for_file(const char *name)
{
	while (access(name, F_OK))
		usleep(10000);
}

/*
 * A daemon (tests/bpf/wait_test.sh): double fork and setsid, then the grandchild waits until the
 * command (this root) is gone, reaped by glasshouse: kill(root, 0) fails only then. It writes
 * "waiting", and with "go" waits for the file go. Then late.txt and a line to the inherited
 * stdout, and "daemon-done" says how that write went ("ok", or its errno's name): a daemon
 * killed by SIGPIPE leaves no daemon-done. With "epipe" it ignores SIGPIPE and writes a line
 * every 10 ms (1000 at most) until one fails.
 */
static int daemon_wl(const char *mode)
{
	const char *line = "late line from the daemon\n";
	pid_t root = getpid(), c;
	int i, e = 0;

	printf("the command's own line\n");
	fflush(stdout);
	c = fork();
	if (c < 0)
		die("fork");
	if (c > 0) {
		waitpid(c, NULL, 0);
		return 0;
	}
	if (fork() != 0)
		_exit(0);
	setsid();
	while (kill(root, 0) == 0)
		usleep(1000);
	note("waiting", "");
	if (strcmp(mode, "now"))
		wait_for_file("go");
	if (!strcmp(mode, "epipe"))
		signal(SIGPIPE, SIG_IGN);
	note("late.txt", "late\n");
	for (i = 0; i < (strcmp(mode, "epipe") ? 1 : 1000) && !e; i++) {
		if (write(1, line, strlen(line)) < 0)
			e = errno;
		else
			usleep(10000);
	}
	note("daemon-done", e ? strerrorname_np(e) : "ok");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "relpaths"))
		return relpaths();
	if (!strcmp(cmd, "doublefork"))
		return doublefork();
	if (!strcmp(cmd, "daemon"))
		return daemon_wl(argc > 2 ? argv[2] : "now");
	if (!strcmp(cmd, "forkfirst"))
		return forkfirst();
	if (!strcmp(cmd, "threads"))
		return threads();
	if (!strcmp(cmd, "longnames"))
		return longnames();
	if (!strcmp(cmd, "fsops"))
		return fsops();
	if (!strcmp(cmd, "execfail"))
		return execfail();
	if (!strcmp(cmd, "net"))
		return net();
	if (!strcmp(cmd, "threadexec"))
		return threadexec();
	if (!strcmp(cmd, "cycle"))
		return cycle(argc > 2 ? atoi(argv[2]) : 1000);
	if (!strcmp(cmd, "procs"))
		return procs(argc > 2 ? atoi(argv[2]) : 1000);
	if (!strcmp(cmd, "reuse"))
		return reuse(argc > 2 ? atoi(argv[2]) : 2000);
	if (!strcmp(cmd, "burst"))
		return burst(argc > 2 ? atoi(argv[2]) : 100000);
	if (!strcmp(cmd, "chain"))
		return chain(argc > 2 ? atoi(argv[2]) : 1000);
	if (!strcmp(cmd, "bigargv"))
		return bigargv(argc > 2 ? atoi(argv[2]) : 64, argc > 3 ? atoi(argv[3]) : 10);
	fprintf(stderr, "workload: unknown subcommand '%s'\n", cmd);
	return 2;
}
