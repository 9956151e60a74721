// SPDX-License-Identifier: MIT
/* bench workload: N loopback TCP connects, each sending 100 bytes and reading 100 back. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000, i, l, c;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char buf[100] = { 0 };
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 128) || getsockname(l, (void *)&a, &len))
		return perror("listen"), 1;
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < n; i++) {
			c = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(c, (void *)&a, sizeof(a)) || write(c, buf, 100) != 100 ||
			    read(c, buf, 100) != 100)
				return perror("client"), 1;
			close(c);
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		int s = accept(l, NULL, NULL), got = 0, r;

		while (got < 100 && (r = (int)read(s, buf, 100 - got)) > 0)
			got += r;
		if (write(s, buf, 100) != 100)
			return perror("server"), 1;
		close(s);
	}
	waitpid(pid, &i, 0);
	return i != 0;
}
