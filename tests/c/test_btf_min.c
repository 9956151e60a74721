// SPDX-License-Identifier: MIT
/* The CO-RE target cut from a kernel BTF: exactly the named composites and what they embed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/btf_min.h"

/* A kernel-like BTF:
 *   struct task_struct { int pid; struct fs_struct *fs; u64 arr[4]; union { int a; long b; };
 *                        const state_t state; unsigned flags:3; }
 *   struct fs_struct { int users; struct path pwd; }   struct path { void *mnt; struct dentry
 * *dentry; } struct dentry { int d_flags; }   struct unrelated { int x; }   enum state_t { RUNNING
 * = 1 }
 */
static char kernel_path[64];
static int trace_id;

static int kernel_setup(void **state)
{
	struct btf *k = btf__new_empty();
	const void *raw;
	__u32 size;
	int fd, task, fs, path, dentry, u64, anon, st, td, cst, pi, pd, pfs, arr;
	FILE *f;

	/* 1 int, 2 long, 3 u64 */
	assert_int_equal(btf__add_int(k, "int", 4, BTF_INT_SIGNED), 1);
	assert_int_equal(btf__add_int(k, "long", 8, BTF_INT_SIGNED), 2);
	u64 = btf__add_int(k, "u64", 8, 0);
	dentry = btf__add_struct(k, "dentry", 4);
	btf__add_field(k, "d_flags", 1, 0, 0);
	pd = btf__add_ptr(k, dentry);
	pi = btf__add_ptr(k, 0);
	/* a struct's fields follow it directly: the types they use are made first */
	path = btf__add_struct(k, "path", 16);
	btf__add_field(k, "mnt", pi, 0, 0);
	btf__add_field(k, "dentry", pd, 64, 0);
	fs = btf__add_struct(k, "fs_struct", 24);
	btf__add_field(k, "users", 1, 0, 0);
	btf__add_field(k, "pwd", path, 64, 0);
	st = btf__add_enum(k, "state_t", 4);
	btf__add_enum_value(k, "RUNNING", 1);
	td = btf__add_typedef(k, "state_t", st);
	cst = btf__add_const(k, td);
	anon = btf__add_union(k, NULL, 8);
	btf__add_field(k, "a", 1, 0, 0);
	btf__add_field(k, "b", 2, 0, 0);
	pfs = btf__add_ptr(k, fs);
	arr = btf__add_array(k, 1, u64, 4);
	task = btf__add_struct(k, "task_struct", 64);
	btf__add_field(k, "pid", 1, 0, 0);
	btf__add_field(k, "fs", pfs, 64, 0);
	btf__add_field(k, "arr", arr, 128, 0);
	btf__add_field(k, NULL, anon, 384, 0);
	btf__add_field(k, "state", cst, 448, 0);
	btf__add_field(k, "flags", 1, 480, 3);
	assert_true(task > 0);
	btf__add_struct(k, "unrelated", 4);
	btf__add_field(k, "x", 1, 0, 0);
	trace_id = btf__add_typedef(k, "btf_trace_sys_exit", pi);
	raw = btf__raw_data(k, &size);
	strcpy(kernel_path, "/tmp/gh-test-btf-XXXXXX");
	fd = mkstemp(kernel_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(fwrite(raw, 1, size, f), size);
	fclose(f);
	btf__free(k);
	return 0;
}

static int kernel_teardown(void **state)
{
	unlink(kernel_path);
	return 0;
}

/* Cuts the target for a local BTF naming `names` (structs), returns it parsed. */
static struct btf *cut(const char *const *names, unsigned *types)
{
	struct btf *local = btf__new_empty(), *out;
	int fd = memfd_create("test", 0), i;
	struct gh_btf_min m = { 0 };
	char path[64];

	btf__add_int(local, "int", 4, BTF_INT_SIGNED);
	for (i = 0; names[i]; i++) {
		btf__add_struct(local, names[i], 4);
		btf__add_field(local, "pid", 1, 0, 0);
	}
	assert_int_equal(gh_btf_min_write(kernel_path, local, fd, &m), 0);
	*types = m.types;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	out = btf__parse(path, NULL);
	assert_non_null(out);
	close(fd);
	btf__free(local);
	return out;
}

static const struct btf_type *member_type(const struct btf *b, const struct btf_type *t,
					  const char *name, unsigned *bit_off)
{
	unsigned i;

	for (i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = &btf_members(t)[i];

		if (!strcmp(btf__name_by_offset(b, m->name_off), name)) {
			*bit_off = btf_member_bit_offset(t, i);
			return btf__type_by_id(b, m->type);
		}
	}
	fail_msg("no member %s", name);
	return NULL;
}

static void gh_btf_min_write__flavoured_name__struct_and_embedded_types_kept(void **state)
{
	const char *const names[] = { "task_struct___v2", NULL };
	unsigned types = 0, off = 0;
	struct btf *b = cut(names, &types);
	int id = btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT);
	const struct btf_type *t, *m;

	/* int, u64, state_t enum, typedef, const, anon union, long, the fs pointer, the array,
	 * task_struct: the closure of what task_struct embeds, nothing it only points to. */
	assert_int_equal(types, 10);
	assert_true(id > 0);
	t = btf__type_by_id(b, id);
	assert_int_equal(t->size, 64);
	assert_int_equal(btf_vlen(t), 6);
	m = member_type(b, t, "fs", &off);
	assert_int_equal(off, 64);
	assert_true(btf_is_ptr(m));
	assert_int_equal(m->type, 0); /* void *: CO-RE asks only that it stays a pointer */
	m = member_type(b, t, "arr", &off);
	assert_int_equal(off, 128);
	assert_true(btf_is_array(m));
	assert_int_equal(btf_array(m)->nelems, 4);
	assert_int_equal(btf__type_by_id(b, btf_array(m)->type)->size, 8);
	m = member_type(b, t, "", &off);
	assert_int_equal(off, 384);
	assert_true(btf_is_union(m));
	assert_int_equal(btf_vlen(m), 2);
	m = member_type(b, t, "state", &off);
	assert_true(btf_is_const(m));
	m = btf__type_by_id(b, m->type);
	assert_true(btf_is_typedef(m));
	m = btf__type_by_id(b, m->type);
	assert_true(btf_is_enum(m));
	assert_string_equal(btf__name_by_offset(b, btf_enum(m)[0].name_off), "RUNNING");
	member_type(b, t, "flags", &off);
	assert_int_equal(off, 480);
	assert_int_equal(btf_member_bitfield_size(t, 5), 3);
	assert_true(btf__find_by_name_kind(b, "fs_struct", BTF_KIND_STRUCT) < 0);
	assert_true(btf__find_by_name_kind(b, "dentry", BTF_KIND_STRUCT) < 0);
	assert_true(btf__find_by_name_kind(b, "unrelated", BTF_KIND_STRUCT) < 0);
	btf__free(b);
}

static void gh_btf_min_write__nested_struct__embedded_kept_pointee_dropped(void **state)
{
	const char *const names[] = { "fs_struct", "no_such_struct", NULL };
	unsigned types = 0, off = 0;
	struct btf *b = cut(names, &types);
	const struct btf_type *t, *m;

	/* int, path, its two pointers, fs_struct */
	assert_int_equal(types, 5);
	t = btf__type_by_id(b, btf__find_by_name_kind(b, "fs_struct", BTF_KIND_STRUCT));
	m = member_type(b, t, "pwd", &off);
	assert_int_equal(off, 64);
	assert_true(btf_is_struct(m));
	assert_string_equal(btf__name_by_offset(b, m->name_off), "path");
	m = member_type(b, m, "dentry", &off);
	assert_int_equal(off, 64);
	assert_true(btf_is_ptr(m));
	assert_true(btf__find_by_name_kind(b, "dentry", BTF_KIND_STRUCT) < 0);
	btf__free(b);
}

static void gh_btf_min_write__typedefs_asked__kernel_ids_or_enoent(void **state)
{
	const char *const want[] = { "btf_trace_sys_exit", "btf_trace_sock_send_length", NULL };
	int ids[2] = { 0, 0 }, fd = memfd_create("test", 0);
	struct gh_btf_min m = { .typedefs = want, .ids = ids };
	struct btf *local = btf__new_empty();

	assert_int_equal(gh_btf_min_write(kernel_path, local, fd, &m), 0);
	assert_true(trace_id > 0);
	assert_int_equal(ids[0], trace_id);
	assert_int_equal(ids[1], -ENOENT);
	assert_int_equal(m.types, 0); /* the local BTF names nothing */
	close(fd);
	btf__free(local);
}

static void gh_btf_min_write__no_kernel_btf__enoent(void **state)
{
	struct btf *local = btf__new_empty();
	int fd = memfd_create("test", 0);

	assert_int_equal(gh_btf_min_write("/nonexistent/vmlinux", local, fd, NULL), -ENOENT);
	close(fd);
	btf__free(local);
}

static void gh_btf_min_write__not_btf__error_nothing_written(void **state)
{
	char path[] = "/tmp/gh-test-notbtf-XXXXXX";
	struct btf *local = btf__new_empty();
	int fd = memfd_create("test", 0), k = mkstemp(path);

	assert_int_equal(write(k, "not a BTF file", 14), 14);
	close(k);
	assert_true(gh_btf_min_write(path, local, fd, NULL) < 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	unlink(path);
	close(fd);
	btf__free(local);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gh_btf_min_write__flavoured_name__struct_and_embedded_types_kept),
		cmocka_unit_test(gh_btf_min_write__nested_struct__embedded_kept_pointee_dropped),
		cmocka_unit_test(gh_btf_min_write__typedefs_asked__kernel_ids_or_enoent),
		cmocka_unit_test(gh_btf_min_write__no_kernel_btf__enoent),
		cmocka_unit_test(gh_btf_min_write__not_btf__error_nothing_written),
	};

	return cmocka_run_group_tests_name("btf_min", tests, kernel_setup, kernel_teardown);
}
