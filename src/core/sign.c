// SPDX-License-Identifier: MIT
/* Ed25519 keys and signatures over OpenSSL EVP, and SHA-256 of files opened safely as root. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/outfile.h"
#include "core/sign.h"

#define KEY_FILE_MAX 65536	/* a PEM key is a few hundred bytes */
#define HASH_CHUNK   (1u << 20) /* read size when hashing: one buffer, whatever the file's size */

static int failf(char *errmsg, size_t errlen, int err, const char *path, const char *why)
{
	snprintf(errmsg, errlen, "%s: %s", path, why ? why : strerror(-err));
	return err;
}

static void *failp(char *errmsg, size_t errlen, int err, const char *path, const char *why)
{
	failf(errmsg, errlen, err, path, why);
	errno = -err;
	return NULL;
}

int gh_key_id(gh_pkey *k, char keyid[GH_SHA256_HEX_LEN + 1])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der), err;

	if (n <= 0)
		return -EINVAL;
	err = gh_sha256_hex(der, (size_t)n, keyid);
	OPENSSL_free(der);
	return err;
}

/* The PEM text of k (private: PKCS#8; else SubjectPublicKeyInfo) into a memory BIO. */
static BIO *pem_of(gh_pkey *k, int private)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (!b)
		return NULL;
	if (private ? !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
		    : !PEM_write_bio_PUBKEY(b, k)) {
		BIO_free(b);
		return NULL;
	}
	return b;
}

/* Write k's PEM into f; 0 or -errno with errmsg naming f's path. */
static int write_pem(struct gh_outfile *f, gh_pkey *k, int private, char *errmsg, size_t errlen)
{
	BIO *b = pem_of(k, private);
	char *p;
	long n;
	int err;

	if (!b)
		return failf(errmsg, errlen, -ENOMEM, f->path, "OpenSSL could not encode the key");
	n = BIO_get_mem_data(b, &p);
	err = gh_outfile_write(f, p, (size_t)n);
	BIO_free(b); /* BIO_s_mem clears its buffer as it frees it */
	if (err)
		snprintf(errmsg, errlen, "%s", f->errmsg);
	return err;
}

int gh_keygen(const char *prefix, uid_t uid, gid_t gid, char keyid[GH_SHA256_HEX_LEN + 1],
	      char *errmsg, size_t errlen)
{
	const struct gh_outfile_opts priv = {
		.mode = 0600, .exclusive = 1, .uid = uid, .gid = gid
	};
	const struct gh_outfile_opts pub = { .mode = 0644, .exclusive = 1, .uid = uid, .gid = gid };
	struct gh_outfile kf = { .fd = -1 }, pf = { .fd = -1 };
	char *kpath = NULL, *ppath = NULL;
	EVP_PKEY *k = NULL;
	int err = -ENOMEM;

	if (asprintf(&kpath, "%s.key", prefix) < 0 || asprintf(&ppath, "%s.pub", prefix) < 0) {
		failf(errmsg, errlen, err, prefix, NULL);
		goto cleanup;
	}
	/* Both names are taken before anything is generated: one existing file stops both. */
	if ((err = gh_outfile_open(&kf, kpath, &priv))) {
		snprintf(errmsg, errlen, "%s", kf.errmsg);
		goto cleanup;
	}
	if ((err = gh_outfile_open(&pf, ppath, &pub))) {
		snprintf(errmsg, errlen, "%s", pf.errmsg);
		goto cleanup;
	}
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k) {
		err = failf(errmsg, errlen, -EINVAL, kpath, "OpenSSL could not generate a key");
		goto cleanup;
	}
	if ((err = write_pem(&kf, k, 1, errmsg, errlen)) ||
	    (err = write_pem(&pf, k, 0, errmsg, errlen)))
		goto cleanup;
	if ((err = gh_key_id(k, keyid))) {
		failf(errmsg, errlen, err, ppath, NULL);
		goto cleanup;
	}
	if ((err = gh_outfile_commit(&kf))) {
		snprintf(errmsg, errlen, "%s", kf.errmsg);
		goto cleanup;
	}
	kf.fd = -1; /* committed: the abort below must not remove it if the .pub fails */
	if ((err = gh_outfile_commit(&pf))) {
		snprintf(errmsg, errlen, "%s", pf.errmsg);
		unlink(kpath);
	}
cleanup:
	gh_outfile_abort(&kf);
	gh_outfile_abort(&pf);
	EVP_PKEY_free(k);
	free(kpath);
	free(ppath);
	return err;
}

/* The whole of a small key file opened safely; *n its length. NULL with errmsg on failure. */
static char *read_key_file(const char *path, int private, uid_t owner, size_t *n, char *errmsg,
			   size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return failp(errmsg, errlen, -errno, path,
			     errno == ELOOP ? "it is a symbolic link (name the key file itself)"
					    : NULL);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return failp(errmsg, errlen, -EINVAL, path, "not a regular file");
	}
	if (private && (st.st_mode & 077)) {
		close(fd);
		return failp(errmsg, errlen, -EPERM, path,
			     "the private key is readable or writable by group or others "
			     "(chmod 600 it)");
	}
	if (private && st.st_uid != 0 && st.st_uid != owner) {
		close(fd);
		snprintf(errmsg, errlen,
			 "%s: the private key is owned by uid %u, not by uid %u or root", path,
			 (unsigned)st.st_uid, (unsigned)owner);
		errno = EPERM;
		return NULL;
	}
	buf = malloc(KEY_FILE_MAX);
	if (!buf) {
		close(fd);
		return failp(errmsg, errlen, -ENOMEM, path, NULL);
	}
	*n = 0;
	while ((r = read(fd, buf + *n, KEY_FILE_MAX - *n)) > 0)
		*n += (size_t)r;
	close(fd);
	if (r < 0 || *n == KEY_FILE_MAX) {
		OPENSSL_cleanse(buf, KEY_FILE_MAX);
		free(buf);
		return failp(errmsg, errlen, r < 0 ? -errno : -EFBIG, path,
			     r < 0 ? NULL : "too large for a key file");
	}
	return buf;
}

/* An encrypted key would ask for a passphrase: there is nobody to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static gh_pkey *load_key(const char *path, int private, uid_t owner, char *errmsg, size_t errlen)
{
	size_t n;
	char *buf = read_key_file(path, private, owner, &n, errmsg, errlen);
	EVP_PKEY *k = NULL;
	BIO *b;

	if (!buf)
		return NULL;
	b = BIO_new_mem_buf(buf, (int)n);
	if (b)
		k = private ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
			    : PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	OPENSSL_cleanse(buf, n);
	free(buf);
	if (!k)
		return failp(errmsg, errlen, -EINVAL, path,
			     private ? "not a PEM private key (PKCS#8, unencrypted)"
				     : "not a PEM public key (SubjectPublicKeyInfo)");
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return failp(errmsg, errlen, -EINVAL, path, "not an Ed25519 key");
	}
	return k;
}

gh_pkey *gh_key_load_private(const char *path, uid_t owner, char *errmsg, size_t errlen)
{
	return load_key(path, 1, owner, errmsg, errlen);
}

gh_pkey *gh_key_load_public(const char *path, char *errmsg, size_t errlen)
{
	return load_key(path, 0, 0, errmsg, errlen);
}

void gh_key_free(gh_pkey *k)
{
	EVP_PKEY_free(k);
}

int gh_sign(gh_pkey *k, const void *p, size_t n, unsigned char sig[GH_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = GH_SIG_LEN;
	int ok;

	if (!ctx)
		return -ENOMEM;
	/* Ed25519 is one-shot over the whole message (no digest of ours first). */
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) && EVP_DigestSign(ctx, sig, &len, p, n) &&
	     len == GH_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EINVAL;
}

int gh_verify(gh_pkey *k, const void *p, size_t n, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return -ENOMEM;
	if (!EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k)) {
		EVP_MD_CTX_free(ctx);
		return -EINVAL;
	}
	r = EVP_DigestVerify(ctx, sig, siglen, p, n);
	EVP_MD_CTX_free(ctx);
	return r == 1;
}

static int ident_matches(const struct stat *st, const struct gh_file_ident *w)
{
	return (uint64_t)st->st_dev == w->dev && (uint64_t)st->st_ino == w->ino &&
	       (int64_t)st->st_ctim.tv_sec == w->ctime_sec &&
	       (uint32_t)st->st_ctim.tv_nsec == w->ctime_nsec;
}

/* Whether fd lives on a kernel pseudo-filesystem, whose "regular" files are live views (some
 * block on read, like trace_pipe) and have no content to attest. */
static int pseudo_file(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs))
		return 0;
	switch (fs.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case BPF_FS_MAGIC:
	case EFIVARFS_MAGIC:
		return 1;
	}
	return 0;
}

/* Hash fd (a regular file) to its end; 0 or -errno. */
static int hash_fd(int fd, char hex[GH_SHA256_HEX_LEN + 1], uint64_t *size)
{
	struct gh_sha256 h;
	unsigned char *buf = malloc(HASH_CHUNK);
	ssize_t r;
	int err;

	if (!buf)
		return -ENOMEM;
	if ((err = gh_sha256_init(&h))) {
		free(buf);
		return err;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*size = 0;
	while ((r = read(fd, buf, HASH_CHUNK)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (err = gh_sha256_update(&h, buf, (size_t)r))) {
			err = r < 0 ? -errno : err;
			gh_sha256_free(&h);
			free(buf);
			return err;
		}
		*size += (uint64_t)r;
	}
	free(buf);
	return gh_sha256_final(&h, hex);
}

/* Open path for hashing with o's rights and rules; the fd or -errno. */
static int open_for_hash(const char *path, const struct gh_hash_opts *o)
{
	int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (o->follow ? 0 : O_NOFOLLOW);
	struct gh_fscreds saved;
	int fd, err;

	if (o->as && (err = gh_priv_fs_enter(o->as, &saved)))
		return err;
	fd = open(path, flags);
	err = fd < 0 ? -errno : fd;
	if (o->as)
		gh_priv_fs_leave(&saved);
	return err;
}

int gh_sha256_file(const char *path, const struct gh_hash_opts *o, char hex[GH_SHA256_HEX_LEN + 1],
		   uint64_t *size, char *errmsg, size_t errlen)
{
	static const struct gh_hash_opts defaults;
	char link[64];
	struct stat st;
	ssize_t n;
	int err, fd;

	o = o ? o : &defaults;
	fd = open_for_hash(path, o);
	if (fd < 0)
		return failf(errmsg, errlen, fd, path,
			     fd == -ELOOP ? "a symbolic link (not followed)" : NULL);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return failf(errmsg, errlen, -EINVAL, path, "not a regular file");
	}
	if (o->want && !ident_matches(&st, o->want)) {
		close(fd);
		return failf(errmsg, errlen, -ESTALE, path,
			     "replaced or changed since it was executed (its device, inode or "
			     "change time differ)");
	}
	if (pseudo_file(fd)) {
		close(fd);
		return failf(errmsg, errlen, -EINVAL, path,
			     "a kernel pseudo-file (proc, sysfs, tracefs...), not a regular file");
	}
	if (o->real) {
		/* The file opened, named by the kernel: where a followed link led. */
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, o->real, o->real_len - 1);
		if (n < 0 || (size_t)n >= o->real_len - 1) {
			err = n < 0 ? -errno : -ENAMETOOLONG;
			close(fd);
			return failf(errmsg, errlen, err, path, "cannot name the file it leads to");
		}
		o->real[n] = '\0';
	}
	/* Still O_NONBLOCK: a regular file ignores it, a file that would block (a pipe-like one
	 * that fstat calls regular) fails with EAGAIN instead of hanging the run. */
	err = hash_fd(fd, hex, size);
	close(fd);
	return err ? failf(errmsg, errlen, err, path, NULL) : 0;
}
