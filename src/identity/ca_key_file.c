/* Encrypted CA key files: a private key sealed with AES-256-GCM under the
 * key-encryption key (KEK) that the secrets barrier keeps, with the public key
 * beside it in the clear, so that a sealed authority can still publish it.
 *
 * Layout, integers big-endian:
 *   magic "WDCAKEY" (7 bytes), version 1 (1 byte), nonce (12 random bytes),
 *   public key length (4 bytes), public key (DER SubjectPublicKeyInfo),
 *   ciphertext of the DER PKCS#8 private key, GCM tag (16 bytes).
 * The additional authenticated data is the file's base name, a NUL byte and
 * every byte before the ciphertext. A file renamed to another slot or role,
 * or one whose public key was replaced, therefore fails authentication. */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "common/file.h"
#include "common/random.h"
#include "identity/authority_internal.h"

#define MAGIC "WDCAKEY"
#define MAGIC_LEN 7
#define FORMAT_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define HEADER_FIXED_LEN (MAGIC_LEN + 1 + NONCE_LEN + 4)

/* Ceiling of a key file: an RSA-2048 key takes about 1.5 KiB. */
#define KEY_FILE_MAX ((size_t)64 << 10)

/* A key file split into its parts; the pointers borrow the file's bytes. */
struct key_file {
	const uint8_t *header;      /* everything before the ciphertext */
	size_t header_len;
	const uint8_t *nonce;
	const uint8_t *public_der;
	size_t public_len;
	const uint8_t *ciphertext;
	size_t ciphertext_len;
	const uint8_t *tag;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void put_u32be(uint8_t *out, uint32_t value)
{
	out[0] = (uint8_t)(value >> 24);
	out[1] = (uint8_t)(value >> 16);
	out[2] = (uint8_t)(value >> 8);
	out[3] = (uint8_t)value;
}

static uint32_t get_u32be(const uint8_t *in)
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

static int parse(const char *path, const uint8_t *data, size_t len, struct key_file *ret_file,
	struct wd_error *err)
{
	size_t public_len;

	*ret_file = (struct key_file){ 0 };
	if (len < HEADER_FIXED_LEN + TAG_LEN || memcmp(data, MAGIC, MAGIC_LEN) != 0)
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" is not an encrypted warden CA key file", path);
	if (data[MAGIC_LEN] != FORMAT_VERSION)
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" has format version %u, expected %d", path,
			data[MAGIC_LEN], FORMAT_VERSION);

	public_len = get_u32be(data + MAGIC_LEN + 1 + NONCE_LEN);
	if (public_len == 0 || public_len > len - HEADER_FIXED_LEN - TAG_LEN)
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" is truncated: its public key length %zu does not fit",
			path, public_len);

	*ret_file = (struct key_file){
		.header = data,
		.header_len = HEADER_FIXED_LEN + public_len,
		.nonce = data + MAGIC_LEN + 1,
		.public_der = data + HEADER_FIXED_LEN,
		.public_len = public_len,
		.ciphertext = data + HEADER_FIXED_LEN + public_len,
		.ciphertext_len = len - HEADER_FIXED_LEN - public_len - TAG_LEN,
		.tag = data + len - TAG_LEN,
	};
	return 0;
}

/* Feeds the additional authenticated data to an initialized GCM context. */
static int add_aad(EVP_CIPHER_CTX *ctx, const char *name, const uint8_t *header,
	size_t header_len, bool encrypt)
{
	static const uint8_t separator = 0;
	int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int) =
		encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
	int out_len = 0;

	/* Both lengths are bounded by KEY_FILE_MAX and NAME_MAX. */
	if (update(ctx, NULL, &out_len, (const uint8_t *)name, (int)strlen(name)) != 1 ||
	    update(ctx, NULL, &out_len, &separator, 1) != 1 ||
	    update(ctx, NULL, &out_len, header, (int)header_len) != 1)
		return WD_ECRYPTO;
	return 0;
}

/* Encodes the private key as DER PKCS#8 in OpenSSL memory that the caller
 * frees with OPENSSL_clear_free. */
static int private_der(EVP_PKEY *key, uint8_t **ret_der, size_t *ret_len)
{
	PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8(key);
	unsigned char *der = NULL;
	int len;

	*ret_der = NULL;
	*ret_len = 0;
	if (!info)
		return WD_ECRYPTO;
	len = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
	PKCS8_PRIV_KEY_INFO_free(info);
	if (len <= 0)
		return WD_ECRYPTO;
	*ret_der = der;
	*ret_len = (size_t)len;
	return 0;
}

static int seal_into(const uint8_t kek[static AUTHORITY_KEK_LEN], const char *name,
	const uint8_t *plaintext, size_t plaintext_len, uint8_t *file, size_t header_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t *ciphertext = file + header_len;
	const uint8_t *nonce = file + MAGIC_LEN + 1;
	int out_len = 0;
	int final_len = 0;
	int rc;

	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, nonce) == 1, WD_ECRYPTO);
	WD_GUARD(add_aad(ctx, name, file, header_len, true));
	WD_ENSURE(EVP_EncryptUpdate(ctx, ciphertext, &out_len, plaintext, (int)plaintext_len) == 1,
		WD_ECRYPTO);
	WD_ENSURE(EVP_EncryptFinal_ex(ctx, ciphertext + out_len, &final_len) == 1, WD_ECRYPTO);
	WD_ENSURE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
		ciphertext + plaintext_len) == 1, WD_ECRYPTO);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ca_key_seal(const uint8_t kek[static AUTHORITY_KEK_LEN], EVP_PKEY *key, const char *name,
	uint8_t **ret_data, size_t *ret_len, struct wd_error *err)
{
	unsigned char *public_der = NULL;
	uint8_t *plaintext = NULL;
	size_t plaintext_len = 0;
	uint8_t *file = NULL;
	size_t header_len;
	size_t file_len = 0;
	int public_len;
	int rc;

	*ret_data = NULL;
	*ret_len = 0;
	public_len = i2d_PUBKEY(key, &public_der);
	WD_ENSURE(public_len > 0, WD_ECRYPTO);
	WD_GUARD(private_der(key, &plaintext, &plaintext_len));

	header_len = HEADER_FIXED_LEN + (size_t)public_len;
	file_len = header_len + plaintext_len + TAG_LEN;
	if (file_len > KEY_FILE_MAX) {
		rc = wd_error_set(err, WD_ETOOBIG, "the key for \"%.200s\" takes %zu bytes, above "
			"the maximum of %zu", name, file_len, KEY_FILE_MAX);
		goto out;
	}
	file = malloc(file_len);
	WD_ENSURE(file, WD_ENOMEM);
	memcpy(file, MAGIC, MAGIC_LEN);
	file[MAGIC_LEN] = FORMAT_VERSION;
	WD_GUARD(wd_random_bytes(file + MAGIC_LEN + 1, NONCE_LEN));
	put_u32be(file + MAGIC_LEN + 1 + NONCE_LEN, (uint32_t)public_len);
	memcpy(file + HEADER_FIXED_LEN, public_der, (size_t)public_len);
	WD_GUARD(seal_into(kek, name, plaintext, plaintext_len, file, header_len));

	*ret_data = WD_TAKE_PTR(file);
	*ret_len = file_len;
	rc = 0;
out:
	if (rc == WD_ECRYPTO || rc == WD_ENOMEM || rc == WD_EINTERNAL)
		wd_error_set(err, rc, "encrypting the key \"%.200s\" failed: %s", name,
			wd_strerror(rc));
	ERR_clear_error();
	OPENSSL_free(public_der);
	OPENSSL_clear_free(plaintext, plaintext_len);
	free(file);
	return rc;
}

int ca_key_file_write(const uint8_t kek[static AUTHORITY_KEK_LEN], EVP_PKEY *key,
	const char *path, struct wd_error *err)
{
	uint8_t *file = NULL;
	size_t file_len = 0;
	int rc;

	WD_TRY(ca_key_seal(kek, key, base_name(path), &file, &file_len, err));
	rc = wd_file_write_atomic(path, file, file_len, 0600, err);
	free(file);
	return rc;
}

/* Reads and splits the file at path; *ret_data owns the bytes. */
static int read_file(const char *path, uint8_t **ret_data, struct key_file *ret_file,
	struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*ret_data = NULL;
	WD_TRY(wd_file_check_private(path, err));
	WD_TRY(wd_file_read(path, KEY_FILE_MAX, &data, &len, err));
	rc = parse(path, data, len, ret_file, err);
	if (rc < 0) {
		free(data);
		return rc;
	}
	*ret_data = data;
	return 0;
}

static int decode_public(const char *path, const struct key_file *file, EVP_PKEY **ret_key,
	struct wd_error *err)
{
	const unsigned char *cursor = file->public_der;
	EVP_PKEY *key;

	*ret_key = NULL;
	key = d2i_PUBKEY(NULL, &cursor, (long)file->public_len);
	ERR_clear_error();
	if (!key || cursor != file->public_der + file->public_len) {
		EVP_PKEY_free(key);
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" holds an invalid public key", path);
	}
	*ret_key = key;
	return 0;
}

int ca_key_open_public(const char *label, const uint8_t *data, size_t len,
	EVP_PKEY **ret_public, struct wd_error *err)
{
	struct key_file file;

	*ret_public = NULL;
	WD_TRY(parse(label, data, len, &file, err));
	return decode_public(label, &file, ret_public, err);
}

int ca_key_file_read_public(const char *path, EVP_PKEY **ret_public, struct wd_error *err)
{
	struct key_file file;
	uint8_t *data = NULL;
	int rc;

	*ret_public = NULL;
	WD_TRY(read_file(path, &data, &file, err));
	rc = decode_public(path, &file, ret_public, err);
	free(data);
	return rc;
}

/* Decrypts the ciphertext into plaintext (ciphertext_len bytes). A failing
 * final step is the tag check. */
static int open_into(const uint8_t kek[static AUTHORITY_KEK_LEN], const char *name,
	const struct key_file *file, uint8_t *plaintext)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int out_len = 0;
	int final_len = 0;
	int rc;

	WD_ENSURE(ctx, WD_ENOMEM);
	WD_ENSURE(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, file->nonce) == 1,
		WD_EINTERNAL);
	WD_GUARD(add_aad(ctx, name, file->header, file->header_len, false));
	WD_ENSURE(EVP_DecryptUpdate(ctx, plaintext, &out_len, file->ciphertext,
		(int)file->ciphertext_len) == 1, WD_EINTERNAL);
	/* OpenSSL only reads the tag when decrypting, despite the non-const
	 * pointer. */
	WD_ENSURE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)file->tag) == 1,
		WD_EINTERNAL);
	WD_ENSURE(EVP_DecryptFinal_ex(ctx, plaintext + out_len, &final_len) == 1, WD_ECRYPTO);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static int decode_private(const char *path, const uint8_t *der, size_t len,
	EVP_PKEY **ret_key, struct wd_error *err)
{
	const unsigned char *cursor = der;
	PKCS8_PRIV_KEY_INFO *info;
	EVP_PKEY *key = NULL;

	*ret_key = NULL;
	info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &cursor, (long)len);
	if (info && cursor == der + len)
		key = EVP_PKCS82PKEY(info);
	PKCS8_PRIV_KEY_INFO_free(info);
	ERR_clear_error();
	if (!key)
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" decrypts to an invalid PKCS#8 private key", path);
	*ret_key = key;
	return 0;
}

/* Decrypts the private key of a parsed key file. label names it in
 * errors and name is the additional authenticated data. */
static int open_private(const uint8_t kek[static AUTHORITY_KEK_LEN], const char *label,
	const char *name, const struct key_file *parsed, EVP_PKEY **ret_key, struct wd_error *err)
{
	struct key_file file = *parsed;
	uint8_t *plaintext = NULL;
	EVP_PKEY *key = NULL;
	EVP_PKEY *public_key = NULL;
	int rc;

	*ret_key = NULL;
	/* One spare byte, so an empty ciphertext still gets a buffer. */
	plaintext = malloc(file.ciphertext_len + 1);
	WD_ENSURE(plaintext, WD_ENOMEM);

	rc = open_into(kek, name, &file, plaintext);
	if (rc == WD_ECRYPTO) {
		wd_error_set(err, rc, "key file \"%.200s\" failed authentication: it was encrypted "
			"under another key-encryption key, or modified or renamed", label);
		goto out;
	}
	WD_GUARD(rc);
	WD_GUARD(decode_private(label, plaintext, file.ciphertext_len, &key, err));

	/* The public key in the clear was authenticated with the ciphertext,
	 * but it must also be the half of this private key. */
	WD_GUARD(decode_public(label, &file, &public_key, err));
	if (EVP_PKEY_eq(key, public_key) != 1) {
		ERR_clear_error();
		rc = wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" holds a public key that does not match its private key",
			label);
		goto out;
	}

	*ret_key = WD_TAKE_PTR(key);
	rc = 0;
out:
	if (rc == WD_ENOMEM || rc == WD_EINTERNAL)
		wd_error_set(err, rc, "decrypting the key file \"%.200s\" failed: %s", label,
			wd_strerror(rc));
	if (plaintext)
		wd_free_secret(plaintext, file.ciphertext_len + 1);
	EVP_PKEY_free(key);
	EVP_PKEY_free(public_key);
	return rc;
}

int ca_key_open_private(const uint8_t kek[static AUTHORITY_KEK_LEN], const char *name,
	const uint8_t *data, size_t len, EVP_PKEY **ret_key, struct wd_error *err)
{
	struct key_file file;

	*ret_key = NULL;
	WD_TRY(parse(name, data, len, &file, err));
	return open_private(kek, name, name, &file, ret_key, err);
}

int ca_key_file_read_private(const uint8_t kek[static AUTHORITY_KEK_LEN], const char *path,
	EVP_PKEY **ret_key, struct wd_error *err)
{
	struct key_file file;
	uint8_t *data = NULL;
	int rc;

	*ret_key = NULL;
	WD_TRY(read_file(path, &data, &file, err));
	rc = open_private(kek, path, base_name(path), &file, ret_key, err);
	free(data);
	return rc;
}
