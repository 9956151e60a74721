/* SPDX-License-Identifier: MIT */
/* Socket addresses as receipts show them. */
#ifndef GH_SOCKADDR_H
#define GH_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* "127.0.0.1:80", "[::1]:443", "/run/x.sock", "@abstract", "(unnamed)"; with_port=false drops
 * the port. A family it does not know gives "family N". 0 or -ENOMEM. */
int gh_format_sockaddr(struct gh_buf *out, const void *sa, size_t len, bool with_port);
/* "tcp", "udp", "unix", "raw" or "other" for a socket's family and type. */
const char *gh_protocol_name(unsigned family, unsigned sock_type);

#endif
