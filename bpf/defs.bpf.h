/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* What vmlinux.h lacks: user-space ABI structs as plain copies, and the kernel's and user
 * space's constants the programs test. */
#ifndef __GH_DEFS_BPF_H
#define __GH_DEFS_BPF_H

/* User-space ABI structs, laid out by the ABI and not by the running kernel: plain copies here,
 * because vmlinux.h marks every struct for CO-RE relocation, and each relocated type costs a
 * search of the kernel's BTF (about 1 ms of start-up) for nothing. */
struct gh_open_how {
	__u64 flags, mode, resolve;
};
#define GH_RESOLVE_IN_ROOT 0x10

struct gh_msghdr {
	void *msg_name;
	int msg_namelen;
};

struct gh_sockaddr_in {
	__u16 sin_family;
	__u16 sin_port;
	__u32 sin_addr;
	__u8 sin_zero[8];
};

struct gh_sockaddr_in6 {
	__u16 sin6_family;
	__u16 sin6_port;
	__u32 sin6_flowinfo;
	__u8 sin6_addr[16];
	__u32 sin6_scope_id;
};

#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_ACCMODE 03
#define O_PATH 010000000
#define FMODE_CREATED 0x100000
#define S_IFMT 00170000
#define S_IFDIR 0040000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define SIGNAL_GROUP_EXIT 0x00000004
#define MSG_PEEK 2
#define EEXIST 17
#define EINPROGRESS 115

#endif /* __GH_DEFS_BPF_H */
