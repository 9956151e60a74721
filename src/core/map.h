/* SPDX-License-Identifier: MIT */
/*
 * The two tables the aggregator needs: a u64-keyed hash map and a string interner. Written
 * here because none of the fixed libraries offers one (glibc's hsearch cannot grow, delete or
 * iterate); open addressing with linear probing, grown at 50% load.
 */
#ifndef GH_MAP_H
#define GH_MAP_H

#include <stddef.h>
#include <stdint.h>

struct gh_map_slot {
	uint64_t key;
	void *val; /* NULL: empty slot (so values are never NULL) */
};

struct gh_map {
	struct gh_map_slot *slots;
	size_t cap, n; /* cap is 0 or a power of two */
};

void *gh_map_get(const struct gh_map *m, uint64_t key);
/* Insert or replace; val must not be NULL. 0 or -ENOMEM. */
int gh_map_put(struct gh_map *m, uint64_t key, void *val);
void gh_map_free(struct gh_map *m);

/* An interned string: one copy of each distinct byte string, NUL-terminated for convenience. */
struct gh_istr {
	uint64_t hash;
	size_t len;
	char s[];
};

struct gh_intern {
	struct gh_istr **slots;
	size_t cap, n;
	size_t bytes; /* memory held by the strings */
};

/* The one gh_istr with these bytes (created on first use); NULL only when out of memory. */
const struct gh_istr *gh_intern(struct gh_intern *t, const char *s, size_t len);
void gh_intern_free(struct gh_intern *t);

uint64_t gh_map_hash(const void *p, size_t n);

#endif
