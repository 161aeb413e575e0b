/* The password envelope of cosign's private keys: the JSON layout of
 * go-securesystemslib's encrypted package (scrypt, then NaCl secretbox). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "common/encoding.h"
#include "common/random.h"
#include "supply/sign.h"

#define SALT_LEN 32
#define BOX_KEY_LEN crypto_secretbox_KEYBYTES     /* 32 */
#define BOX_NONCE_LEN crypto_secretbox_NONCEBYTES /* 24 */
#define BOX_MAC_LEN crypto_secretbox_MACBYTES     /* 16 */

/* The scrypt cost cosign writes (go-securesystemslib's "legacy" setting). */
#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1

/* go-securesystemslib also reads N=65536 and N=131072 (its "standard" and
 * "OWASP" settings), all with r=8 and p=1. Other costs are rejected as it
 * rejects them, which also bounds the memory a hostile file can demand. */
#define SCRYPT_N_MAX 131072

/* scrypt needs about 128 * r * N bytes; 256 MiB covers N_MAX with r=8. */
#define SCRYPT_MAXMEM ((uint64_t)256 * 1024 * 1024)

/* Ceiling on the sealed plaintext: a PKCS#8 P-256 key is under 200 bytes. */
#define PLAINTEXT_MAX (16 * 1024)

static int derive_key(const char *password, size_t password_len, const uint8_t *salt,
	size_t salt_len, uint64_t n, uint8_t key[static BOX_KEY_LEN], struct wd_error *err)
{
	if (EVP_PBE_scrypt(password, password_len, salt, salt_len, n, SCRYPT_R, SCRYPT_P,
		    SCRYPT_MAXMEM, key, BOX_KEY_LEN) != 1)
		return wd_error_set(err, WD_ECRYPTO, "scrypt key derivation failed");
	return WD_OK;
}

static int ensure_sodium(struct wd_error *err)
{
	if (sodium_init() < 0)
		return wd_error_set(err, WD_EINTERNAL, "libsodium failed to initialize");
	return WD_OK;
}

static json_t *build_envelope(const uint8_t *salt, const uint8_t *nonce, const uint8_t *sealed,
	size_t sealed_len)
{
	char *salt_text = NULL;
	char *nonce_text = NULL;
	char *sealed_text = NULL;
	json_t *envelope = NULL;

	if (wd_base64_encode(salt, SALT_LEN, &salt_text) < 0 ||
	    wd_base64_encode(nonce, BOX_NONCE_LEN, &nonce_text) < 0 ||
	    wd_base64_encode(sealed, sealed_len, &sealed_text) < 0)
		goto out;

	envelope = json_pack("{s:{s:s, s:{s:i, s:i, s:i}, s:s}, s:{s:s, s:s}, s:s}",
		"kdf", "name", "scrypt", "params", "N", SCRYPT_N, "r", SCRYPT_R, "p", SCRYPT_P,
		"salt", salt_text,
		"cipher", "name", "nacl/secretbox", "nonce", nonce_text,
		"ciphertext", sealed_text);
out:
	free(salt_text);
	free(nonce_text);
	free(sealed_text);
	return envelope;
}

int supply_key_encrypt(const uint8_t *plaintext, size_t len, const char *password,
	size_t password_len, char **ret_json, struct wd_error *err)
{
	uint8_t salt[SALT_LEN];
	uint8_t nonce[BOX_NONCE_LEN];
	uint8_t key[BOX_KEY_LEN];
	uint8_t *sealed = NULL;
	json_t *envelope = NULL;
	char *text;
	int rc;

	*ret_json = NULL;
	WD_ENSURE(len <= PLAINTEXT_MAX, wd_error_set(err, WD_ETOOBIG,
		"plaintext of %zu bytes is over the %d-byte limit", len, PLAINTEXT_MAX));
	WD_GUARD(ensure_sodium(err));
	WD_GUARD(wd_random_bytes(salt, sizeof(salt)));
	WD_GUARD(wd_random_bytes(nonce, sizeof(nonce)));
	WD_GUARD(derive_key(password, password_len, salt, sizeof(salt), SCRYPT_N, key, err));

	sealed = malloc(len + BOX_MAC_LEN);
	WD_ENSURE(sealed, WD_ENOMEM);
	WD_ENSURE(crypto_secretbox_easy(sealed, plaintext, len, nonce, key) == 0,
		wd_error_set(err, WD_ECRYPTO, "secretbox sealing failed"));

	envelope = build_envelope(salt, nonce, sealed, len + BOX_MAC_LEN);
	WD_ENSURE(envelope, WD_ENOMEM);
	text = json_dumps(envelope, JSON_COMPACT | JSON_PRESERVE_ORDER);
	WD_ENSURE(text, WD_ENOMEM);
	*ret_json = text;
	rc = WD_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(sealed);
	json_decref(envelope);
	return rc;
}

/* Decodes the base64 string member name of object. */
static int get_base64(json_t *object, const char *path, const char *name, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err)
{
	const char *text = json_string_value(json_object_get(object, name));

	if (!text)
		return wd_error_set(err, WD_EINVAL, "encrypted key: missing string \"%s%s\"", path,
			name);
	if (wd_base64_decode(text, strlen(text), ret_data, ret_len) < 0)
		return wd_error_set(err, WD_EINVAL, "encrypted key: \"%s%s\" is not valid base64",
			path, name);
	return WD_OK;
}

static int check_names(json_t *kdf, json_t *cipher, struct wd_error *err)
{
	const char *kdf_name = json_string_value(json_object_get(kdf, "name"));
	const char *cipher_name = json_string_value(json_object_get(cipher, "name"));

	if (!kdf_name || !cipher_name)
		return wd_error_set(err, WD_EINVAL, "encrypted key: missing kdf.name or cipher.name");
	if (strcmp(kdf_name, "scrypt") != 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"encrypted key: unsupported kdf \"%.64s\" (expected \"scrypt\")", kdf_name);
	if (strcmp(cipher_name, "nacl/secretbox") != 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"encrypted key: unsupported cipher \"%.64s\" (expected \"nacl/secretbox\")",
			cipher_name);
	return WD_OK;
}

static int get_scrypt_n(json_t *kdf, uint64_t *ret_n, struct wd_error *err)
{
	json_t *params = json_object_get(kdf, "params");
	json_t *n = json_object_get(params, "N");
	json_t *r = json_object_get(params, "r");
	json_t *p = json_object_get(params, "p");
	json_int_t n_value;

	if (!json_is_integer(n) || !json_is_integer(r) || !json_is_integer(p))
		return wd_error_set(err, WD_EINVAL,
			"encrypted key: kdf.params needs integers N, r and p");
	n_value = json_integer_value(n);
	if (json_integer_value(r) != SCRYPT_R || json_integer_value(p) != SCRYPT_P ||
	    n_value < SCRYPT_N || n_value > SCRYPT_N_MAX || (n_value & (n_value - 1)) != 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"encrypted key: unsupported scrypt parameters N=%lld r=%lld p=%lld "
			"(expected N of 32768, 65536 or 131072 with r=8 and p=1)",
			(long long)n_value, (long long)json_integer_value(r),
			(long long)json_integer_value(p));
	*ret_n = (uint64_t)n_value;
	return WD_OK;
}

int supply_key_decrypt(const char *json, size_t len, const char *password,
	size_t password_len, uint8_t **ret_plaintext, size_t *ret_len, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *salt = NULL;
	_wd_cleanup_(wd_freep) uint8_t *nonce = NULL;
	_wd_cleanup_(wd_freep) uint8_t *sealed = NULL;
	size_t salt_len = 0, nonce_len = 0, sealed_len = 0;
	uint8_t key[BOX_KEY_LEN];
	uint8_t *plaintext = NULL;
	json_t *envelope = NULL;
	json_t *kdf, *cipher;
	json_error_t json_error;
	uint64_t n = 0;
	int rc;

	*ret_plaintext = NULL;
	*ret_len = 0;
	WD_GUARD(ensure_sodium(err));

	envelope = json_loadb(json, len, JSON_REJECT_DUPLICATES, &json_error);
	WD_ENSURE(json_is_object(envelope), wd_error_set(err, WD_EINVAL,
		"encrypted key: the body is not a JSON object"));
	kdf = json_object_get(envelope, "kdf");
	cipher = json_object_get(envelope, "cipher");
	WD_ENSURE(json_is_object(kdf) && json_is_object(cipher), wd_error_set(err, WD_EINVAL,
		"encrypted key: missing object \"kdf\" or \"cipher\""));
	WD_GUARD(check_names(kdf, cipher, err));
	WD_GUARD(get_scrypt_n(kdf, &n, err));

	WD_GUARD(get_base64(kdf, "kdf.", "salt", &salt, &salt_len, err));
	WD_GUARD(get_base64(cipher, "cipher.", "nonce", &nonce, &nonce_len, err));
	WD_GUARD(get_base64(envelope, "", "ciphertext", &sealed, &sealed_len, err));
	WD_ENSURE(salt_len > 0, wd_error_set(err, WD_EINVAL, "encrypted key: kdf.salt is empty"));
	WD_ENSURE(nonce_len == BOX_NONCE_LEN, wd_error_set(err, WD_EINVAL,
		"encrypted key: cipher.nonce is %zu bytes, expected %d", nonce_len, BOX_NONCE_LEN));
	WD_ENSURE(sealed_len >= BOX_MAC_LEN && sealed_len - BOX_MAC_LEN <= PLAINTEXT_MAX,
		wd_error_set(err, WD_EINVAL, "encrypted key: ciphertext of %zu bytes is out of "
			"range (%d to %d)", sealed_len, BOX_MAC_LEN, PLAINTEXT_MAX + BOX_MAC_LEN));

	WD_GUARD(derive_key(password, password_len, salt, salt_len, n, key, err));
	plaintext = malloc(sealed_len - BOX_MAC_LEN + 1);
	WD_ENSURE(plaintext, WD_ENOMEM);
	WD_ENSURE(crypto_secretbox_open_easy(plaintext, sealed, sealed_len, nonce, key) == 0,
		wd_error_set(err, WD_ECRYPTO,
			"decrypting the private key failed: wrong password or corrupted key file"));

	*ret_plaintext = WD_TAKE_PTR(plaintext);
	*ret_len = sealed_len - BOX_MAC_LEN;
	rc = WD_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (plaintext)
		OPENSSL_clear_free(plaintext, sealed_len - BOX_MAC_LEN + 1);
	json_decref(envelope);
	return rc;
}
