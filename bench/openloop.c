// SPDX-License-Identifier: MIT
/* bench workload: N open/read/close of one file, plus N/100 opens that fail. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000, i, fd;
	const char *path = argc > 2 ? argv[2] : "/etc/hostname";
	char buf[256];

	for (i = 0; i < n; i++) {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		if (read(fd, buf, sizeof(buf)) < 0)
			return 1;
		close(fd);
		if (i % 100 == 0)
			open("/nonexistent/glasshouse-bench", O_RDONLY);
	}
	return 0;
}
