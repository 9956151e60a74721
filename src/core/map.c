// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/map.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Eight bytes a step (a byte-at-a-time FNV showed in profiles of busy runs: every record
 * interns a name or a composite key), then a final mix so linear probing sees well-spread low
 * bits. */
uint64_t gh_map_hash(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ n, w;

	for (; n >= 8; n -= 8, c += 8) {
		memcpy(&w, c, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, c, n);
	return mix64(h ^ w);
}

void *gh_map_get(const struct gh_map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = mix64(key) & (m->cap - 1); m->slots[i].val; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].key == key)
			return m->slots[i].val;
	return NULL;
}

static void map_place(struct gh_map_slot *slots, size_t cap, uint64_t key, void *val)
{
	size_t i = mix64(key) & (cap - 1);

	while (slots[i].val && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	slots[i].key = key;
	slots[i].val = val;
}

int gh_map_put(struct gh_map *m, uint64_t key, void *val)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64, i;
		struct gh_map_slot *s = calloc(cap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (i = 0; i < m->cap; i++)
			if (m->slots[i].val)
				map_place(s, cap, m->slots[i].key, m->slots[i].val);
		free(m->slots);
		m->slots = s;
		m->cap = cap;
	}
	if (!gh_map_get(m, key))
		m->n++;
	map_place(m->slots, m->cap, key, val);
	return 0;
}

void gh_map_free(struct gh_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

const struct gh_istr *gh_intern(struct gh_intern *t, const char *s, size_t len)
{
	uint64_t h = gh_map_hash(s, len);
	struct gh_istr *e;
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct gh_istr **slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return NULL;
		for (i = 0; i < t->cap; i++) {
			size_t j;

			if (!t->slots[i])
				continue;
			for (j = t->slots[i]->hash & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
				;
			slots[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	for (i = h & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1)) {
		e = t->slots[i];
		if (e->hash == h && e->len == len && !memcmp(e->s, s, len))
			return e;
	}
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->hash = h;
	e->len = len;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	t->slots[i] = e;
	t->n++;
	t->bytes += sizeof(*e) + len + 1;
	return e;
}

void gh_intern_free(struct gh_intern *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
