/* SPDX-License-Identifier: MIT */
/* A small CO-RE target: the kernel's own definitions of just the types a BPF object names. */
#ifndef GH_BTF_MIN_H
#define GH_BTF_MIN_H

#include <bpf/btf.h>

/* What gh_btf_min_write also finds and reports. */
struct gh_btf_min {
	const char *const *typedefs; /* in: kernel typedefs to find (NULL-terminated), or NULL */
	int *ids;		     /* out: each one's type id in the kernel BTF, or -ENOENT */
	unsigned types;		     /* out: the number of types written */
};

/*
 * Writes to fd (at its current offset) a BTF holding the kernel's definitions of every struct
 * and union that `local` (a BPF object's BTF) names, "___flavour" suffixes stripped, with the
 * types they embed; every pointer becomes void *, since CO-RE only asks that a pointer field
 * stay a pointer. Relocating against it gives what relocating against the whole kernel BTF
 * gives, with nothing but the candidates to search. kernel_btf is the kernel's BTF file
 * (/sys/kernel/btf/vmlinux), mapped when the kernel allows it (6.16+), else read. m may be
 * NULL. Returns 0 or -errno.
 */
int gh_btf_min_write(const char *kernel_btf, const struct btf *local, int fd, struct gh_btf_min *m);

#endif
