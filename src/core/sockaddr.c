// SPDX-License-Identifier: MIT
/* Socket addresses as receipts show them: "127.0.0.1:80", "[::1]:443", "/run/x.sock". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/sockaddr.h"

const char *gh_protocol_name(unsigned family, unsigned sock_type)
{
	if (family == AF_UNIX)
		return "unix";
	switch (sock_type & 0xf) {
	case SOCK_STREAM:
		return "tcp";
	case SOCK_DGRAM:
		return "udp";
	case SOCK_RAW:
		return "raw";
	default:
		return "other";
	}
}

/* The dotted quad of b[0..3] into out (16 bytes). By hand, like port_tail below: glibc's
 * inet_ntop formats IPv4 with sprintf. */
static void ipv4_str(char *out, const unsigned char *b)
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

/* tail = sep followed by port in decimal. By hand: this runs for every network record, and
 * snprintf's format parsing showed in profiles of connect-heavy runs. */
static void port_tail(char tail[16], const char *sep, unsigned port)
{
	char digits[8];
	int n = 0;

	do
		digits[n++] = (char)('0' + port % 10);
	while ((port /= 10) && n < 7);
	while (*sep)
		*tail++ = *sep++;
	while (n)
		*tail++ = digits[--n];
	*tail = '\0';
}

int gh_format_sockaddr(struct gh_buf *out, const void *sa, size_t len, bool with_port)
{
	unsigned short family = 0;
	char host[INET6_ADDRSTRLEN], tail[16] = "";

	gh_buf_reset(out);
	if (len >= 2)
		memcpy(&family, sa, 2);
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;

		memcpy(&in, sa, sizeof(in));
		ipv4_str(host, (const unsigned char *)&in.sin_addr);
		if (with_port)
			port_tail(tail, ":", ntohs(in.sin_port));
		return gh_buf_puts(out, host) || gh_buf_puts(out, tail) ? -ENOMEM : 0;
	}
	if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;

		memcpy(&in6, sa, sizeof(in6));
		inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof(host));
		if (!with_port)
			return gh_buf_puts(out, host);
		port_tail(tail, "]:", ntohs(in6.sin6_port));
		return gh_buf_putc(out, '[') || gh_buf_puts(out, host) || gh_buf_puts(out, tail)
			       ? -ENOMEM
			       : 0;
	}
	if (family == AF_UNIX) {
		const char *path = (const char *)sa + 2;
		size_t n = len > 2 ? len - 2 : 0;

		if (n == 0)
			return gh_buf_puts(out, "(unnamed)");
		if (path[0] == '\0') /* abstract: shown with a leading @, as ss(8) does */
			return gh_buf_putc(out, '@') || gh_buf_append(out, path + 1, n - 1)
				       ? -ENOMEM
				       : 0;
		return gh_buf_append(out, path, strnlen(path, n));
	}
	snprintf(host, sizeof(host), "family %u", family);
	return gh_buf_puts(out, host);
}
