/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* A descriptor's open file in the current task, and what records need of it, read with
 * probe reads of kernel objects' leading bytes. */
#ifndef __GH_FDS_BPF_H
#define __GH_FDS_BPF_H

/* A kernel object's leading bytes, read at once: its fields are then picked from the copy at
 * their relocated offsets (a field past the copy is read alone). One probe read where a
 * BPF_CORE_READ per field cost one each. */
#define GH_HEAD 128
#define HEAD_GET(h, obj, type, field, out)						\
	do {										\
		if (bpf_core_field_offset(type, field) + sizeof(out) <= GH_HEAD)	\
			__builtin_memcpy(&(out), &(h)[bpf_core_field_offset(type, field)],	\
					 sizeof(out));					\
		else									\
			BPF_CORE_READ_INTO(&(out), (type *)(obj), field);		\
	} while (0)

/* fd's struct file in the current task (0 if none), with probe reads at field addresses: a
 * pointer loaded from the trusted task pointer would cost the verifier four scans of the
 * kernel's BTF (about 3 ms of start-up); this runs only for records that are sent. */
__noinline long fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = NULL;
	struct fdtable *fdt = NULL;
	struct file **arr = NULL, *f = NULL;
	unsigned int max_fds = 0;
	__u8 h[GH_HEAD];

	if (fd < 0 || bpf_probe_read_kernel(&files, sizeof(files), &t->files) || !files)
		return 0;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt || bpf_probe_read_kernel(h, sizeof(h), fdt))
		return 0;
	HEAD_GET(h, fdt, struct fdtable, max_fds, max_fds);
	HEAD_GET(h, fdt, struct fdtable, fd, arr);
	if (fd >= max_fds)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return (long)f;
}

/* What a record needs of an open file, from the leading bytes of its struct file and inode
 * (two probe reads). */
struct file_facts {
	struct inode *inode;
	void *private_data;
	fmode_t f_mode;
	umode_t i_mode;
	__u64 i_ino;
};

static __always_inline int file_facts(struct file *f, struct file_facts *ff)
{
	__u8 h[GH_HEAD];

	if (!f || bpf_probe_read_kernel(h, sizeof(h), f))
		return -1;
	HEAD_GET(h, f, struct file, f_inode, ff->inode);
	HEAD_GET(h, f, struct file, private_data, ff->private_data);
	HEAD_GET(h, f, struct file, f_mode, ff->f_mode);
	if (!ff->inode || bpf_probe_read_kernel(h, sizeof(h), ff->inode))
		return -1;
	HEAD_GET(h, ff->inode, struct inode, i_mode, ff->i_mode);
	HEAD_GET(h, ff->inode, struct inode, i_ino, ff->i_ino);
	return 0;
}

#endif /* __GH_FDS_BPF_H */
