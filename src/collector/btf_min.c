// SPDX-License-Identifier: MIT
/*
 * The CO-RE target BTF glasshouse hands libbpf. libbpf 1.1 finds a relocated type's candidates
 * by scanning every type of its target (126k in a 6.18 kernel, about 1.5 ms per struct here)
 * and must first read and parse the whole file; bpftool's `gen min_core_btf` cuts a target
 * down offline, but no library does it at run time, so this does: one pass over the running
 * kernel's BTF keeps the structs and unions the object names and what they embed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/btf_min.h"
#include "core/buf.h"

/* The object's struct and union names, "___flavour" cut off: an open-addressed set. */
struct names {
	char **slot;
	size_t mask;
};

static size_t name_hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* The length of name without its flavour suffix, as libbpf compares names. */
static size_t essential_len(const char *name)
{
	const char *f = strstr(name, "___");

	return f ? (size_t)(f - name) : strlen(name);
}

static char **names_find(struct names *ns, const char *s, size_t n)
{
	size_t i = name_hash(s, n) & ns->mask;

	while (ns->slot[i] && (strlen(ns->slot[i]) != n || memcmp(ns->slot[i], s, n)))
		i = (i + 1) & ns->mask;
	return &ns->slot[i];
}

static int names_of(const struct btf *local, struct names *ns)
{
	unsigned n = btf__type_cnt(local), i;

	ns->mask = 1;
	while (ns->mask < 2 * n)
		ns->mask <<= 1;
	ns->slot = calloc(ns->mask--, sizeof(*ns->slot));
	if (!ns->slot)
		return -ENOMEM;
	for (i = 1; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(local, i);
		const char *name = btf__name_by_offset(local, t->name_off);
		size_t len;
		char **p;

		if (!btf_is_composite(t) || !name || !*name)
			continue;
		len = essential_len(name);
		p = names_find(ns, name, len);
		if (!*p && !(*p = strndup(name, len)))
			return -ENOMEM;
	}
	return 0;
}

static void names_free(struct names *ns)
{
	size_t i;

	for (i = 0; ns->slot && i <= ns->mask; i++)
		free(ns->slot[i]);
	free(ns->slot);
}

/* The kernel's BTF, walked where it lies: mapped where the kernel allows it (6.16+; a read
 * costs a syscall per page of sysfs), else read. libbpf's btf__new would copy and validate all
 * 5.5 MB first (8 ms of every start-up); this only indexes the records, checking each fits. */
struct kbtf {
	const struct btf_header *h;
	const char *types, *strs;
	__u32 *off; /* each type's offset in types, by id (0: void) */
	unsigned n; /* ids 0 .. n-1 */
	void *map, *buf;
	size_t len;
};

static long record_size(const struct btf_type *t)
{
	long v = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return sizeof(*t) + 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return sizeof(*t);
	case BTF_KIND_ARRAY:
		return sizeof(*t) + sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return sizeof(*t) + v * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return sizeof(*t) + v * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return sizeof(*t) + v * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return sizeof(*t) + v * sizeof(struct btf_var_secinfo);
	case BTF_KIND_ENUM64:
		return sizeof(*t) + v * sizeof(struct btf_enum64);
	default:
		return -1;
	}
}

static int kbtf_index(struct kbtf *k)
{
	const struct btf_header *h = k->h;
	size_t at = 0, cap = 1024;
	long sz;

	if (k->len < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) ||
	    (size_t)h->hdr_len + h->type_off + h->type_len > k->len ||
	    (size_t)h->hdr_len + h->str_off + h->str_len > k->len || !h->str_len || h->type_off % 4)
		return -EPROTO;
	k->types = (const char *)h + h->hdr_len + h->type_off;
	k->strs = (const char *)h + h->hdr_len + h->str_off;
	if (k->strs[h->str_len - 1])
		return -EPROTO;
	k->n = 1;
	k->off = malloc(cap * sizeof(*k->off));
	while (k->off && at < h->type_len) {
		if (h->type_len - at < sizeof(struct btf_type))
			return -EPROTO;
		sz = record_size((const struct btf_type *)(k->types + at));
		if (sz < 0 || (size_t)sz > h->type_len - at)
			return -EPROTO;
		if (k->n == cap) {
			__u32 *more = realloc(k->off, (cap *= 2) * sizeof(*k->off));

			if (!more)
				return -ENOMEM;
			k->off = more;
		}
		k->off[k->n++] = at;
		at += sz;
	}
	return k->off ? 0 : -ENOMEM;
}

static int kbtf_load(struct kbtf *k, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;
	struct stat st;
	ssize_t r;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0) {
		e = errno ? -errno : -EPROTO;
		goto out;
	}
	k->len = st.st_size;
	k->map = mmap(NULL, k->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (k->map != MAP_FAILED) {
		k->h = k->map;
		goto out;
	}
	k->map = NULL;
	if (!(k->buf = malloc(k->len))) {
		e = -ENOMEM;
		goto out;
	}
	while (got < k->len && (r = read(fd, (char *)k->buf + got, k->len - got)) > 0)
		got += r;
	if (got != k->len)
		e = -EIO;
	k->h = k->buf;
out:
	close(fd);
	return e ? e : kbtf_index(k);
}

static void kbtf_free(struct kbtf *k)
{
	if (k->map)
		munmap(k->map, k->len);
	free(k->buf);
	free(k->off);
}

static const struct btf_type *ktype(const struct kbtf *k, unsigned id)
{
	return (const struct btf_type *)(k->types + k->off[id]);
}

static const char *kname(const struct kbtf *k, __u32 off)
{
	return off < k->h->str_len ? k->strs + off : "";
}

/* The type a kept type refers to and that must be kept with it (0: none). A pointer keeps
 * nothing: it is written as void *. */
static unsigned embedded_ref(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return t->type;
	default:
		return 0;
	}
}

/* Marks id and everything it embeds (keep[id] = 1), depth first with an explicit stack. */
static int keep_closure(const struct kbtf *k, unsigned id, unsigned *keep, unsigned *stack)
{
	unsigned sp = 0, i;

	if (keep[id])
		return 0;
	keep[id] = 1;
	stack[sp++] = id;
	while (sp) {
		const struct btf_type *t = ktype(k, stack[--sp]);
		unsigned refs[2] = { embedded_ref(t), 0 }, nref = 1, vlen = btf_vlen(t);

		if (btf_is_array(t)) {
			refs[0] = btf_array(t)->type;
			refs[1] = btf_array(t)->index_type;
			nref = 2;
		}
		for (i = 0; i < nref + (btf_is_composite(t) ? vlen : 0); i++) {
			unsigned r = i < nref ? refs[i] : btf_members(t)[i - nref].type;

			if (r >= k->n)
				return -EPROTO;
			if (!r || keep[r])
				continue;
			keep[r] = 1;
			stack[sp++] = r;
		}
	}
	return 0;
}

/* Appends kernel type t to out, its references mapped through newid. Returns the new id. */
static int copy_type(struct btf *out, const struct kbtf *k, const struct btf_type *t,
		     const unsigned *newid)
{
	const char *name = kname(k, t->name_off);
	unsigned vlen = btf_vlen(t), i;
	int id, e;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return btf__add_int(out, name, t->size, btf_int_encoding(t));
	case BTF_KIND_FLOAT:
		return btf__add_float(out, name, t->size);
	case BTF_KIND_PTR:
		return btf__add_ptr(out, 0);
	case BTF_KIND_ARRAY:
		return btf__add_array(out, newid[btf_array(t)->index_type],
				      newid[btf_array(t)->type], btf_array(t)->nelems);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		id = btf_is_struct(t) ? btf__add_struct(out, name, t->size)
				      : btf__add_union(out, name, t->size);
		for (i = 0; id > 0 && i < vlen; i++) {
			const struct btf_member *m = &btf_members(t)[i];

			e = btf__add_field(out, kname(k, m->name_off), newid[m->type],
					   btf_member_bit_offset(t, i),
					   btf_member_bitfield_size(t, i));
			if (e)
				return e;
		}
		return id;
	case BTF_KIND_ENUM:
		id = btf__add_enum(out, name, t->size);
		for (i = 0; id > 0 && i < vlen; i++)
			if ((e = btf__add_enum_value(out, kname(k, btf_enum(t)[i].name_off),
						     btf_enum(t)[i].val)))
				return e;
		return id;
	case BTF_KIND_ENUM64:
		id = btf__add_enum64(out, name, t->size, btf_kflag(t));
		for (i = 0; id > 0 && i < vlen; i++)
			if ((e = btf__add_enum64_value(out, kname(k, btf_enum64(t)[i].name_off),
						       btf_enum64_value(&btf_enum64(t)[i]))))
				return e;
		return id;
	case BTF_KIND_FWD:
		return btf__add_fwd(out, name, btf_kflag(t) ? BTF_FWD_UNION : BTF_FWD_STRUCT);
	case BTF_KIND_TYPEDEF:
		return btf__add_typedef(out, name, newid[t->type]);
	case BTF_KIND_VOLATILE:
		return btf__add_volatile(out, newid[t->type]);
	case BTF_KIND_CONST:
		return btf__add_const(out, newid[t->type]);
	case BTF_KIND_RESTRICT:
		return btf__add_restrict(out, newid[t->type]);
	case BTF_KIND_TYPE_TAG:
		return btf__add_type_tag(out, name, newid[t->type]);
	default: /* functions, variables, sections, tags: never embedded in a struct */
		return -EINVAL;
	}
}

/* Records the ids of the typedefs m asks for (tp_btf attach points are typedefs). */
static void find_typedef(const struct kbtf *k, unsigned id, const struct btf_type *t,
			 struct gh_btf_min *m)
{
	const char *name = kname(k, t->name_off);
	unsigned i;

	for (i = 0; m && m->typedefs && m->typedefs[i]; i++)
		if (m->ids[i] < 0 && !strcmp(name, m->typedefs[i]))
			m->ids[i] = id;
}

int gh_btf_min_write(const char *kernel_btf, const struct btf *local, int fd, struct gh_btf_min *m)
{
	struct names ns = { 0 };
	struct kbtf k = { 0 };
	struct btf *out = NULL;
	unsigned *keep = NULL, *stack = NULL, i, next = 1;
	const void *raw;
	__u32 size;
	int e;

	for (i = 0; m && m->typedefs && m->typedefs[i]; i++)
		m->ids[i] = -ENOENT;
	if ((e = names_of(local, &ns)) || (e = kbtf_load(&k, kernel_btf)))
		goto out;
	keep = calloc(k.n, sizeof(*keep));
	stack = calloc(k.n, sizeof(*stack));
	out = btf__new_empty();
	if (!keep || !stack || !out) {
		e = -ENOMEM;
		goto out;
	}
	for (i = 1; i < k.n; i++) {
		const struct btf_type *t = ktype(&k, i);
		const char *name;

		if (btf_is_typedef(t))
			find_typedef(&k, i, t, m);
		if (!btf_is_composite(t) || !t->name_off)
			continue;
		name = kname(&k, t->name_off);
		if (*names_find(&ns, name, strlen(name)) && (e = keep_closure(&k, i, keep, stack)))
			goto out;
	}
	/* New ids in the old order, then each kept type written under its new id. */
	for (i = 1; i < k.n; i++)
		if (keep[i])
			keep[i] = next++;
	for (i = 1; i < k.n; i++) {
		if (!keep[i])
			continue;
		e = copy_type(out, &k, ktype(&k, i), keep);
		if (e < 0)
			goto out;
		if ((unsigned)e != keep[i]) {
			e = -EINVAL;
			goto out;
		}
	}
	raw = btf__raw_data(out, &size);
	e = raw ? gh_write_all(fd, raw, size) : -ENOMEM;
	if (!e && m)
		m->types = next - 1;
out:
	btf__free(out);
	kbtf_free(&k);
	free(keep);
	free(stack);
	names_free(&ns);
	return e < 0 ? e : 0;
}
