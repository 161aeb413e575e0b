/* Private keys: generation, PEM encoding and 0600 key files. PEM text of a
 * private key is held only in buffers that are wiped before release. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "common/alloc.h"
#include "crypto/key.h"

/* Largest key file or PEM text accepted. An RSA-4096 PKCS#8 PEM is about
 * 3.3 KiB, so this leaves room for comments without reading unbounded files. */
#define KEY_PEM_MAX_BYTES (64u * 1024u)

static const char *const key_type_names[] = {
	[CRYPTO_KEY_EC_P256] = "ec-p256",
	[CRYPTO_KEY_EC_P384] = "ec-p384",
	[CRYPTO_KEY_RSA_2048] = "rsa-2048",
};

int crypto_key_type_parse(const char *text, enum crypto_key_type *ret_type,
	struct wd_error *err)
{
	if (ret_type)
		*ret_type = CRYPTO_KEY_EC_P256;
	if (!text || !ret_type)
		return wd_error_set(err, WD_EINVAL, "invalid key type: missing argument");

	for (size_t i = 0; i < WD_ARRAY_LEN(key_type_names); i++) {
		if (strcmp(text, key_type_names[i]) == 0) {
			*ret_type = (enum crypto_key_type)i;
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL,
		"invalid key type \"%.64s\": expected ec-p256, ec-p384 or rsa-2048", text);
}

const char *crypto_key_type_name(enum crypto_key_type type)
{
	if ((size_t)type >= WD_ARRAY_LEN(key_type_names))
		return "unknown";
	return key_type_names[type];
}

int crypto_key_generate(enum crypto_key_type type, EVP_PKEY **ret_key, struct wd_error *err)
{
	EVP_PKEY *key = NULL;

	if (ret_key)
		*ret_key = NULL;
	if (!ret_key)
		return wd_error_set(err, WD_EINVAL, "key generation: missing argument");

	switch (type) {
	case CRYPTO_KEY_EC_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CRYPTO_KEY_EC_P384:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CRYPTO_KEY_RSA_2048:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	default:
		return wd_error_set(err, WD_EINVAL, "invalid key type %d", (int)type);
	}
	if (!key) {
		ERR_clear_error();
		return wd_error_set(err, WD_ECRYPTO, "generating a %s key failed",
			crypto_key_type_name(type));
	}
	*ret_key = key;
	return 0;
}

/* Returns the NID of the named curve of an EC key, or NID_undef for keys
 * with explicit parameters or of another algorithm. */
static int ec_curve_nid(const EVP_PKEY *key)
{
	char group[64];
	size_t group_len = 0;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return NID_undef;
	if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len)) {
		ERR_clear_error();
		return NID_undef;
	}
	return OBJ_txt2nid(group);
}

int crypto_key_type_of(const EVP_PKEY *key, enum crypto_key_type *ret_type)
{
	if (ret_type)
		*ret_type = CRYPTO_KEY_EC_P256;
	if (!key || !ret_type)
		return WD_EINVAL;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		switch (ec_curve_nid(key)) {
		case NID_X9_62_prime256v1:
			*ret_type = CRYPTO_KEY_EC_P256;
			return 0;
		case NID_secp384r1:
			*ret_type = CRYPTO_KEY_EC_P384;
			return 0;
		default:
			return WD_EUNSUPPORTED;
		}
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(key) != 2048)
			return WD_EUNSUPPORTED;
		*ret_type = CRYPTO_KEY_RSA_2048;
		return 0;
	default:
		return WD_EUNSUPPORTED;
	}
}

const EVP_MD *crypto_key_signing_digest(const EVP_PKEY *key)
{
	if (key && ec_curve_nid(key) == NID_secp384r1)
		return EVP_sha384();
	return EVP_sha256();
}

/* Copies the contents of a memory BIO into a NUL-terminated malloc'd
 * string. */
static int bio_to_string(BIO *bio, char **ret_text)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	char *text;

	if (len < 0 || !data)
		return WD_EINTERNAL;
	text = wd_strndup(data, (size_t)len);
	if (!text)
		return WD_ENOMEM;
	*ret_text = text;
	return 0;
}

int crypto_key_to_pem(EVP_PKEY *key, char **ret_pem, struct wd_error *err)
{
	BIO *bio = NULL;
	int rc;

	if (ret_pem)
		*ret_pem = NULL;
	if (!key || !ret_pem)
		return wd_error_set(err, WD_EINVAL, "key encoding: missing argument");

	/* A secure-memory BIO wipes its buffer, which contains the private
	 * key, when it grows and when it is freed. */
	bio = BIO_new(BIO_s_secmem());
	WD_ENSURE(bio, WD_ENOMEM);
	if (!PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		rc = wd_error_set(err, WD_ECRYPTO, "encoding the private key as PEM failed");
		goto out;
	}
	WD_GUARD(bio_to_string(bio, ret_pem));
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int crypto_pubkey_to_pem(EVP_PKEY *key, char **ret_pem, struct wd_error *err)
{
	BIO *bio = NULL;
	int rc;

	if (ret_pem)
		*ret_pem = NULL;
	if (!key || !ret_pem)
		return wd_error_set(err, WD_EINVAL, "public key encoding: missing argument");

	bio = BIO_new(BIO_s_mem());
	WD_ENSURE(bio, WD_ENOMEM);
	if (!PEM_write_bio_PUBKEY(bio, key)) {
		rc = wd_error_set(err, WD_ECRYPTO, "encoding the public key as PEM failed");
		goto out;
	}
	WD_GUARD(bio_to_string(bio, ret_pem));
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* Refuses to prompt for a passphrase: the default PEM callback would read
 * one from the terminal, and warden's key files are never encrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)userdata;
	return -1;
}

int crypto_key_from_pem(const char *pem, size_t len, EVP_PKEY **ret_key,
	struct wd_error *err)
{
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	if (ret_key)
		*ret_key = NULL;
	if (!pem || !ret_key)
		return wd_error_set(err, WD_EINVAL, "key parsing: missing argument");
	if (len > KEY_PEM_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG,
			"private key PEM of %zu bytes is larger than %u bytes", len,
			KEY_PEM_MAX_BYTES);

	bio = BIO_new_mem_buf(pem, (int)len);
	WD_ENSURE(bio, WD_ENOMEM);
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!key) {
		rc = wd_error_set(err, WD_EINVAL,
			"invalid private key PEM: no unencrypted PKCS#8, SEC1 or PKCS#1 "
			"private key found");
		goto out;
	}
	*ret_key = WD_TAKE_PTR(key);
	rc = 0;
out:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Flushes the directory that contains path so a completed rename survives
 * a crash. */
static int fsync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t dir_len;
	int fd;
	int rc;

	if (!slash) {
		dir[0] = '.';
		dir_len = 1;
	} else {
		dir_len = slash == path ? 1 : (size_t)(slash - path);
		if (dir_len >= sizeof(dir))
			return -1;
		memcpy(dir, path, dir_len);
	}
	dir[dir_len] = '\0';

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int crypto_key_save(EVP_PKEY *key, const char *path, struct wd_error *err)
{
	char *pem = NULL;
	char tmp_path[PATH_MAX];
	int fd = -1;
	int rc;
	int n;

	if (!key || !path)
		return wd_error_set(err, WD_EINVAL, "key saving: missing argument");

	n = snprintf(tmp_path, sizeof(tmp_path), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp_path))
		return wd_error_set(err, WD_EINVAL, "key file path \"%.200s\" is too long", path);

	WD_GUARD(crypto_key_to_pem(key, &pem, err));

	/* mkstemp creates the file with mode 0600, so the key is never
	 * readable by others, not even before the fchmod. */
	fd = mkostemp(tmp_path, O_CLOEXEC);
	if (fd < 0) {
		rc = wd_error_set(err, WD_EIO, "creating a temporary file for \"%.200s\" failed: %s",
			path, strerror(errno));
		tmp_path[0] = '\0';
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write_all(fd, pem, strlen(pem)) < 0 || fsync(fd) < 0) {
		rc = wd_error_set(err, WD_EIO, "writing key file \"%.200s\" failed: %s", tmp_path,
			strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = wd_error_set(err, WD_EIO, "closing key file \"%.200s\" failed: %s", tmp_path,
			strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp_path, path) < 0) {
		rc = wd_error_set(err, WD_EIO, "renaming \"%.200s\" to \"%.200s\" failed: %s",
			tmp_path, path, strerror(errno));
		goto out;
	}
	tmp_path[0] = '\0';
	if (fsync_parent_dir(path) < 0) {
		rc = wd_error_set(err, WD_EIO, "syncing the directory of \"%.200s\" failed: %s",
			path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp_path[0] && rc < 0)
		unlink(tmp_path);
	wd_free_secret_str(pem);
	return rc;
}

/* Reads at most max bytes of fd into a malloc'd NUL-terminated buffer whose
 * allocated size is stored in ret_cap (for wiping). */
static int read_bounded(int fd, size_t max, char **ret_data, size_t *ret_len, size_t *ret_cap)
{
	size_t cap = max + 2;
	size_t len = 0;
	char *data = malloc(cap);

	if (!data)
		return WD_ENOMEM;
	while (len <= max) {
		ssize_t n = read(fd, data + len, cap - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			wd_free_secret(data, cap);
			return WD_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		wd_free_secret(data, cap);
		return WD_ETOOBIG;
	}
	data[len] = '\0';
	*ret_data = data;
	*ret_len = len;
	*ret_cap = cap;
	return 0;
}

int crypto_key_load(const char *path, EVP_PKEY **ret_key, struct wd_error *err)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	size_t cap = 0;
	int fd = -1;
	int rc;

	if (ret_key)
		*ret_key = NULL;
	if (!path || !ret_key)
		return wd_error_set(err, WD_EINVAL, "key loading: missing argument");

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = wd_error_set(err, errno == ENOENT ? WD_ENOTFOUND : WD_EIO,
			"opening key file \"%.200s\" failed: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = wd_error_set(err, WD_EIO, "reading key file \"%.200s\" failed: %s", path,
			strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = wd_error_set(err, WD_EINVAL, "key file \"%.200s\" is not a regular file",
			path);
		goto out;
	}
	/* As OpenSSH does for identity files: a key that others may read
	 * must be treated as disclosed, so refuse to use it. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = wd_error_set(err, WD_EPERM,
			"key file \"%.200s\" has mode %04o and is accessible by group or others; "
			"run chmod 600 on it",
			path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* A key owned by another user is in that user's hands, mode or not. */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		rc = wd_error_set(err, WD_EPERM,
			"key file \"%.200s\" is owned by uid %u, not by this process's uid %u; "
			"run chown on it", path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}

	rc = read_bounded(fd, KEY_PEM_MAX_BYTES, &data, &len, &cap);
	if (rc == WD_ETOOBIG) {
		rc = wd_error_set(err, rc, "key file \"%.200s\" is larger than %u bytes", path,
			KEY_PEM_MAX_BYTES);
		goto out;
	}
	if (rc < 0) {
		rc = wd_error_set(err, rc, "reading key file \"%.200s\" failed", path);
		goto out;
	}
	rc = crypto_key_from_pem(data, len, ret_key, err);
	if (rc < 0)
		wd_error_set(err, rc, "invalid key file \"%.200s\": no unencrypted PEM private key "
			"found", path);
out:
	if (fd >= 0)
		close(fd);
	wd_free_secret(data, cap);
	return rc;
}
