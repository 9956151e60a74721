// SPDX-License-Identifier: MIT
/*
 * The demo workload, in the spirit of the old sneaky.py: file reads and writes, directory churn,
 * rename, chmod, symlink, unlink, JSON, TCP/UDP/IPv6/unix connections to listeners it starts
 * itself on loopback, a refused connect, a thread, and child processes. Usage: workload DIR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

static void path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	path(p, sizeof(p), name);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void files(void)
{
	char a[512], b[512], buf[256];
	FILE *f;
	int fd;

	write_file("config.json", "{\"name\": \"demo\", \"secret\": false}\n");
	path(a, sizeof(a), "config.json");
	f = fopen(a, "r");
	if (f && fgets(buf, sizeof(buf), f))
		printf("read config: %s", buf);
	if (f)
		fclose(f);
	fd = open("/etc/hostname", O_RDONLY);	/* a read outside the work dir */
	if (fd >= 0)
		close(fd);
	open("/nonexistent/secret", O_RDONLY);	/* a failed open: never a read */

	path(a, sizeof(a), "nested");
	mkdir(a, 0755);
	path(a, sizeof(a), "nested/deeper");
	mkdir(a, 0755);
	write_file("nested/deeper/note.txt", "churn\n");
	path(a, sizeof(a), "nested/deeper/note.txt");
	unlink(a);
	path(a, sizeof(a), "nested/deeper");
	rmdir(a);

	write_file("draft.txt", "draft\n");
	path(a, sizeof(a), "draft.txt");
	path(b, sizeof(b), "final.txt");
	rename(a, b);
	chmod(b, 0600);
	path(a, sizeof(a), "final.link");
	symlink("final.txt", a);
	write_file("result.json", "{\"ok\": true}\n");
}

static int listener(int family, int type, struct sockaddr_storage *ss, socklen_t *len)
{
	int s = socket(family, type, 0);

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof(*in6);
	}
	if (bind(s, (struct sockaddr *)ss, *len) || getsockname(s, (struct sockaddr *)ss, len))
		return -1;
	if (type == SOCK_STREAM)
		listen(s, 4);
	return s;
}

/* Connect to a listener of our own, send msg, and let the listener echo it back. */
static void tcp_roundtrip(int family, const char *msg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l = listener(family, SOCK_STREAM, &ss, &len), c, a;
	char buf[128];
	ssize_t n;

	if (l < 0) {
		printf("no %s loopback here\n", family == AF_INET ? "IPv4" : "IPv6");
		return;
	}
	c = socket(family, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&ss, len) == 0) {
		a = accept(l, NULL, NULL);
		send(c, msg, strlen(msg), 0);
		n = recv(a, buf, sizeof(buf), 0);
		if (n > 0)
			send(a, buf, (size_t)n, 0);
		recv(c, buf, sizeof(buf), 0);
		close(a);
	}
	close(c);
	close(l);
}

static void network(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in refused = { .sin_family = AF_INET, .sin_port = htons(1) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t len;
	int u, s, l;

	tcp_roundtrip(AF_INET, "hello over tcp\n");
	tcp_roundtrip(AF_INET6, "hello over ipv6\n");

	refused.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	connect(s, (struct sockaddr *)&refused, sizeof(refused));	/* nobody listens on port 1 */
	close(s);

	u = listener(AF_INET, SOCK_DGRAM, &ss, &len);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(s, "ping", 4, 0, (struct sockaddr *)&ss, len);		/* UDP without connect */
	close(s);
	close(u);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s/demo.sock", dir);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(l, (struct sockaddr *)&un, sizeof(un));
	listen(l, 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(s, (struct sockaddr *)&un, sizeof(un));
	close(s);
	close(l);
	unlink(un.sun_path);
}

static void *thread_main(void *arg)
{
	write_file("from-thread.txt", "written by a thread\n");
	return arg;
}

static void children(void)
{
	char cmd[600];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "cd %s && echo child > child.txt && ls > listing.txt", dir);
	pid = fork();
	if (pid == 0) {
		execlp("sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 2) {
		fprintf(stderr, "usage: workload DIR\n");
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	files();
	pthread_create(&t, NULL, thread_main, NULL);
	pthread_join(t, NULL);
	network();
	children();
	puts("workload done");
	return 0;
}
