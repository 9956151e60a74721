// SPDX-License-Identifier: MIT
/* Who the command runs as, looked up before fork; the capability mode and dropping out of it. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/options.h"
#include "core/priv.h"

/* A uid or gid in plain decimal (not -1, which means "unchanged" to the kernel). */
static int parse_id(const char *s, unsigned int *out)
{
	uint64_t v;

	if (gh_parse_uint(s, 0, 4294967294u, &v))
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static void fill_from_passwd(struct gh_user *u, const struct passwd *pw)
{
	int n = GH_USER_MAX_GROUPS;

	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir ? pw->pw_dir : "/");
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &n) < 0)
		n = GH_USER_MAX_GROUPS; /* more than we keep: the first ones */
	u->ngroups = n;
}

int gh_user_lookup(const char *spec, struct gh_user *u, char *msg, size_t len)
{
	char name[256], buf[16384];
	struct passwd pw, *found = NULL;
	const char *colon = strchr(spec, ':');
	unsigned int id, gid = 0;
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	memset(u, 0, sizeof(*u));
	if (n == 0 || n >= sizeof(name)) {
		snprintf(msg, len, "--user needs NAME, UID or UID:GID, got '%s'", spec);
		return -EINVAL;
	}
	memcpy(name, spec, n);
	name[n] = '\0';
	if (colon && parse_id(colon + 1, &gid)) {
		snprintf(msg, len, "--user '%s': the group must be a number, got '%s'", spec,
			 colon + 1);
		return -EINVAL;
	}
	if (parse_id(name, &id) == 0)
		getpwuid_r(id, &pw, buf, sizeof(buf), &found);
	else
		getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (found) {
		fill_from_passwd(u, found);
	} else if (parse_id(name, &id) == 0) {
		/* A bare uid, as setpriv --reuid takes it: no name, no home, no other groups. */
		u->uid = id;
		u->gid = colon ? gid : id;
		u->ngroups = 1;
		u->groups[0] = u->gid;
		snprintf(u->name, sizeof(u->name), "%u", id);
		snprintf(u->home, sizeof(u->home), "/");
	} else {
		snprintf(msg, len, "unknown user '%s'", name);
		return -ENOENT;
	}
	if (colon) {
		u->gid = gid;
		if (u->ngroups == 0)
			u->groups[u->ngroups++] = gid;
	}
	return 0;
}

/* No fall back to root for a variable that names nobody. */
static int no_such(char *msg, size_t len, const char *var, const char *value)
{
	snprintf(msg, len,
		 "%s=%s is not a user of this system: refusing to run the command as root in its "
		 "place (--user root to mean it)",
		 var, value);
	return -ENOENT;
}

int gh_user_invoking(struct gh_user *u, char *msg, size_t len)
{
	const char *sudo_uid = getenv("SUDO_UID"), *sudo_gid = getenv("SUDO_GID");
	const char *doas = getenv("DOAS_USER");
	char buf[16384];
	struct passwd pw, *found = NULL;
	unsigned int id, gid;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0 || getuid() != 0)
		return 0;
	if (sudo_uid && *sudo_uid) {
		if (parse_id(sudo_uid, &id) == 0)
			getpwuid_r(id, &pw, buf, sizeof(buf), &found);
		if (!found)
			return no_such(msg, len, "SUDO_UID", sudo_uid);
		fill_from_passwd(u, found);
		/* sudo's own record of the group it was run with wins over the database's. */
		if (sudo_gid && parse_id(sudo_gid, &gid) == 0)
			u->gid = gid;
		return 1;
	}
	if (doas && *doas) {
		getpwnam_r(doas, &pw, buf, sizeof(buf), &found);
		if (!found)
			return no_such(msg, len, "DOAS_USER", doas);
		fill_from_passwd(u, found);
		return 1;
	}
	return 0;
}

int gh_priv_secure(void)
{
	return getauxval(AT_SECURE) != 0;
}

int gh_priv_drop_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

/* "Uid:\t0\t0\t0\t0": all four equal to want. */
static int all_ids(const char *status, const char *key, unsigned long want)
{
	const char *p = strstr(status, key);
	char *end;
	int i;

	if (!p)
		return 0;
	p += strlen(key);
	for (i = 0; i < 4; i++, p = end)
		if (strtoul(p, &end, 10) != want || end == p)
			return 0;
	return 1;
}

int gh_priv_may_trace(pid_t pid)
{
	char path[64], status[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(status, 1, sizeof(status) - 1, f);
	fclose(f);
	status[n] = '\0';
	return all_ids(status, "\nUid:", getuid()) && all_ids(status, "\nGid:", getgid()) &&
	       strstr(status, "\nCapPrm:\t0000000000000000\n") &&
	       strstr(status, "\nCapEff:\t0000000000000000\n");
}

/*
 * By raw syscalls: the kernel keeps credentials per thread, and glibc's setgroups() would set
 * every thread's (its setxid broadcast). setfsuid/setfsgid return the previous value and never
 * fail visibly, so each is checked by asking again with -1.
 */
static int set_fs(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0)
		return -errno;
	setfsgid(gid);
	setfsuid(uid);
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
		return -EPERM;
	return 0;
}

int gh_priv_fs_enter(const struct gh_user *u, struct gh_fscreds *saved)
{
	int err;

	saved->ngroups = getgroups(GH_USER_MAX_GROUPS, saved->groups);
	if (saved->ngroups < 0)
		return -errno;
	saved->fsuid = (uid_t)setfsuid((uid_t)-1);
	saved->fsgid = (gid_t)setfsgid((gid_t)-1);
	if ((err = set_fs(u->uid, u->gid, u->ngroups, u->groups)))
		gh_priv_fs_leave(saved);
	return err;
}

void gh_priv_fs_leave(const struct gh_fscreds *saved)
{
	/* Back to what was held: fsuid first, which brings the filesystem capabilities back. */
	setfsuid(saved->fsuid);
	setfsgid(saved->fsgid);
	syscall(SYS_setgroups, (size_t)saved->ngroups, saved->groups);
}
