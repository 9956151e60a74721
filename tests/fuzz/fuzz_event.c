// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: any bytes as a ring-buffer record, through the decoder and the aggregator
 * (paths, addresses, process table). Built with clang -fsanitize=fuzzer,address,undefined;
 * `make fuzz` runs it for a while, the test suite for a fixed number of inputs.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/aggregator.h"
#include "collector/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gh_agg *a;
	static int n;
	struct gh_event_view v;

	if (!a || ++n % 4096 == 0) { /* keep state across inputs, but bounded */
		gh_agg_free(a);
		a = gh_agg_new(0);
		if (!a)
			return 0;
		gh_agg_root(a, 1, 0, "/", NULL);
	}
	if (gh_event_decode(data, size, &v) == 0) {
		gh_agg_event(a, &v);
		gh_agg_sock_bytes(a, v.h.sock, 1, 1);
	}
	return 0;
}
