// Unit tests of the cosign-compatible signing code: the scrypt + secretbox
// envelope (including a vector from go-securesystemslib's encrypted package,
// which cosign uses), the key PEM files, and blob signatures.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "common/encoding.h"
#include "supply/sign.h"

#define PASSWORD "correct horse"

// TestDecrypt of go-securesystemslib encrypted/encrypted_test.go: the
// passphrase "supersecret" opens it to "reallyimportant".
static const char go_vector[] =
	"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":32768,\"r\":8,\"p\":1},"
	"\"salt\":\"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=\"},"
	"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik\"},"
	"\"ciphertext\":\"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ==\"}";

static int decrypt_text(const char *json, const char *password, uint8_t **ret_plain,
	size_t *ret_len, struct wd_error *err)
{
	return supply_key_decrypt(json, strlen(json), password, strlen(password), ret_plain,
		ret_len, err);
}

static void envelope_opens_go_vector(void **state)
{
	struct wd_error err = { 0 };
	uint8_t *plain = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(decrypt_text(go_vector, "supersecret", &plain, &len, &err), WD_OK);
	assert_int_equal(len, 15);
	assert_memory_equal(plain, "reallyimportant", 15);
	free(plain);

	assert_int_equal(decrypt_text(go_vector, "supersecreT", &plain, &len, &err), WD_ECRYPTO);
	assert_null(plain);
	assert_int_equal(len, 0);
}

static void envelope_round_trip(void **state)
{
	static const uint8_t secret[] = "a PKCS#8 key would go here";
	struct wd_error err = { 0 };
	char *json = NULL;
	uint8_t *plain = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;
	json_t *doc;

	(void)state;
	assert_int_equal(supply_key_encrypt(secret, sizeof(secret), PASSWORD, strlen(PASSWORD),
				 &json, &err), WD_OK);

	doc = json_loads(json, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "kdf"), "name")),
		"scrypt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "cipher"),
				    "name")), "nacl/secretbox");
	json_t *params = json_object_get(json_object_get(doc, "kdf"), "params");
	assert_int_equal(json_integer_value(json_object_get(params, "N")), 32768);
	assert_int_equal(json_integer_value(json_object_get(params, "r")), 8);
	assert_int_equal(json_integer_value(json_object_get(params, "p")), 1);

	const char *salt = json_string_value(json_object_get(json_object_get(doc, "kdf"), "salt"));
	assert_int_equal(wd_base64_decode(salt, strlen(salt), &bytes, &len), WD_OK);
	assert_int_equal(len, 32);
	free(bytes);
	const char *nonce = json_string_value(json_object_get(json_object_get(doc, "cipher"),
		"nonce"));
	assert_int_equal(wd_base64_decode(nonce, strlen(nonce), &bytes, &len), WD_OK);
	assert_int_equal(len, 24);
	free(bytes);
	const char *sealed = json_string_value(json_object_get(doc, "ciphertext"));
	assert_int_equal(wd_base64_decode(sealed, strlen(sealed), &bytes, &len), WD_OK);
	assert_int_equal(len, sizeof(secret) + 16);
	free(bytes);
	json_decref(doc);

	assert_int_equal(decrypt_text(json, PASSWORD, &plain, &len, &err), WD_OK);
	assert_int_equal(len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));
	free(plain);
	free(json);
}

static void envelope_wrong_password_fails(void **state)
{
	struct wd_error err = { 0 };
	char *json = NULL;
	uint8_t *plain = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(supply_key_encrypt((const uint8_t *)"key", 3, PASSWORD, strlen(PASSWORD),
				 &json, &err), WD_OK);
	assert_int_equal(decrypt_text(json, "correct horsf", &plain, &len, &err), WD_ECRYPTO);
	assert_null(plain);
	assert_non_null(strstr(err.detail, "wrong password"));
	assert_int_equal(decrypt_text(json, "", &plain, &len, &err), WD_ECRYPTO);
	free(json);
}

static void envelope_tampered_ciphertext_fails(void **state)
{
	struct wd_error err = { 0 };
	char *json = NULL;
	char *tampered_text = NULL;
	char *dumped;
	uint8_t *sealed = NULL;
	uint8_t *plain = NULL;
	size_t len = 0;
	json_t *doc;

	(void)state;
	assert_int_equal(supply_key_encrypt((const uint8_t *)"key bytes", 9, PASSWORD,
				 strlen(PASSWORD), &json, &err), WD_OK);
	doc = json_loads(json, 0, NULL);
	const char *text = json_string_value(json_object_get(doc, "ciphertext"));
	assert_int_equal(wd_base64_decode(text, strlen(text), &sealed, &len), WD_OK);

	// Flip one bit of the encrypted part (after the 16-byte MAC).
	sealed[16] ^= 0x01;
	assert_int_equal(wd_base64_encode(sealed, len, &tampered_text), WD_OK);
	json_object_set_new(doc, "ciphertext", json_string(tampered_text));
	dumped = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(decrypt_text(dumped, PASSWORD, &plain, &len, &err), WD_ECRYPTO);
	assert_null(plain);

	free(dumped);
	free(tampered_text);
	free(sealed);
	json_decref(doc);
	free(json);
}

static void envelope_rejects_bad_fields(void **state)
{
	static const struct {
		const char *from, *to;
		int code;
	} cases[] = {
		{ "\"scrypt\"", "\"pbkdf2\"", WD_EUNSUPPORTED },
		{ "\"nacl/secretbox\"", "\"aes-gcm\"", WD_EUNSUPPORTED },
		{ "32768", "99", WD_EUNSUPPORTED },
		{ "32768", "1048576", WD_EUNSUPPORTED },
		{ "\"r\":8", "\"r\":99", WD_EUNSUPPORTED },
		{ "2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik", "2h8HxMmgRfuYdpswZBQaU3xJ", WD_EINVAL },
		{ "SEW6sUh0", "SEW6s!h0", WD_EINVAL },
		{ "\"ciphertext\"", "\"cipherText\"", WD_EINVAL },
	};
	struct wd_error err = { 0 };
	uint8_t *plain = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char edited[1024];
		const char *at = strstr(go_vector, cases[i].from);

		assert_non_null(at);
		snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - go_vector), go_vector,
			cases[i].to, at + strlen(cases[i].from));
		assert_int_equal(decrypt_text(edited, "supersecret", &plain, &len, &err),
			cases[i].code);
		assert_null(plain);
	}
	assert_int_equal(decrypt_text("[1]", "supersecret", &plain, &len, &err), WD_EINVAL);
	assert_int_equal(decrypt_text("{", "supersecret", &plain, &len, &err), WD_EINVAL);
}

// Re-encodes the body of the PEM block pem under another PEM type.
static char *rewrap_pem(const char *pem, const char *type)
{
	BIO *in = BIO_new_mem_buf(pem, -1);
	BIO *out = BIO_new(BIO_s_mem());
	char *name = NULL, *header = NULL, *data;
	unsigned char *body = NULL;
	long len = 0;

	assert_int_equal(PEM_read_bio(in, &name, &header, &body, &len), 1);
	assert_true(PEM_write_bio(out, type, "", body, len) > 0);
	long out_len = BIO_get_mem_data(out, &data);
	char *text = strndup(data, (size_t)out_len);

	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(body);
	BIO_free(in);
	BIO_free(out);
	return text;
}

static void private_key_pem_round_trip(void **state)
{
	struct wd_error err = { 0 };
	EVP_PKEY *key = NULL;
	EVP_PKEY *read_back = NULL;
	char *pem = NULL;
	char *cosign_pem;

	(void)state;
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(supply_private_key_to_pem(key, PASSWORD, strlen(PASSWORD), &pem, &err),
		WD_OK);
	assert_true(strncmp(pem, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", 47) == 0);

	assert_int_equal(supply_private_key_from_pem(pem, strlen(pem), PASSWORD, strlen(PASSWORD),
				 &read_back, &err), WD_OK);
	assert_int_equal(EVP_PKEY_eq(key, read_back), 1);
	EVP_PKEY_free(read_back);
	read_back = NULL;

	assert_int_equal(supply_private_key_from_pem(pem, strlen(pem), "wrong", 5, &read_back,
				 &err), WD_ECRYPTO);
	assert_null(read_back);

	// Older cosign releases wrote the same body under the COSIGN type.
	cosign_pem = rewrap_pem(pem, "ENCRYPTED COSIGN PRIVATE KEY");
	assert_non_null(strstr(cosign_pem, "BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"));
	assert_int_equal(supply_private_key_from_pem(cosign_pem, strlen(cosign_pem), PASSWORD,
				 strlen(PASSWORD), &read_back, &err), WD_OK);
	assert_int_equal(EVP_PKEY_eq(key, read_back), 1);
	EVP_PKEY_free(read_back);

	// The right body under another PEM type is rejected.
	char *other_type = rewrap_pem(pem, "EC PRIVATE KEY");
	assert_int_equal(supply_private_key_from_pem(other_type, strlen(other_type), PASSWORD,
				 strlen(PASSWORD), &read_back, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "PEM type \"EC PRIVATE KEY\""));
	free(other_type);

	free(cosign_pem);
	free(pem);
	EVP_PKEY_free(key);
}

static void sign_verify_round_trip(void **state)
{
	struct wd_error err = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	EVP_PKEY *key = NULL;
	EVP_PKEY *public_key = NULL;
	char *signature = NULL;
	char *public_pem = NULL;

	(void)state;
	SHA256((const unsigned char *)"blob", 4, digest);
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(supply_public_key_to_pem(key, &public_pem, &err), WD_OK);
	assert_true(strncmp(public_pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	assert_int_equal(supply_public_key_from_pem(public_pem, strlen(public_pem), &public_key,
				 &err), WD_OK);

	assert_int_equal(supply_blob_sign(key, digest, &signature, &err), WD_OK);
	assert_int_equal(supply_blob_verify(public_key, digest, signature, strlen(signature), &err),
		WD_OK);

	// A trailing newline, as in a hand-edited file, is accepted.
	char with_newline[256];
	snprintf(with_newline, sizeof(with_newline), "%s\n", signature);
	assert_int_equal(supply_blob_verify(public_key, digest, with_newline, strlen(with_newline),
				 &err), WD_OK);

	free(signature);
	free(public_pem);
	EVP_PKEY_free(public_key);
	EVP_PKEY_free(key);
}

static void tampered_blob_and_wrong_key_fail(void **state)
{
	struct wd_error err = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t other_digest[SUPPLY_DIGEST_LEN];
	EVP_PKEY *key = NULL;
	EVP_PKEY *other = NULL;
	char *signature = NULL;

	(void)state;
	SHA256((const unsigned char *)"blob", 4, digest);
	SHA256((const unsigned char *)"blob!", 5, other_digest);
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(supply_key_generate(&other, &err), WD_OK);
	assert_int_equal(supply_blob_sign(key, digest, &signature, &err), WD_OK);

	assert_int_equal(supply_blob_verify(key, other_digest, signature, strlen(signature), &err),
		WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "invalid signature"));
	assert_int_equal(supply_blob_verify(other, digest, signature, strlen(signature), &err),
		WD_ECRYPTO);

	free(signature);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
}

static void malformed_signature_and_rsa_key_rejected(void **state)
{
	struct wd_error err = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN] = { 0 };
	EVP_PKEY *key = NULL;
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	char *signature = NULL;

	(void)state;
	assert_non_null(rsa);
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);

	assert_int_equal(supply_blob_verify(key, digest, "not base64!", 11, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "not valid base64"));
	assert_int_equal(supply_blob_verify(key, digest, "aGVsbG8=", 8, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "not a DER ECDSA signature"));
	assert_int_equal(supply_blob_verify(key, digest, " \n", 2, &err), WD_EINVAL);

	assert_int_equal(supply_blob_sign(key, digest, &signature, &err), WD_OK);
	assert_int_equal(supply_blob_verify(rsa, digest, signature, strlen(signature), &err),
		WD_EUNSUPPORTED);
	assert_non_null(strstr(err.detail, "wrong key type: rsaEncryption"));

	// An RSA public key in a PEM file is rejected when it is read.
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	EVP_PKEY *read_back = NULL;
	assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa), 1);
	long len = BIO_get_mem_data(bio, &data);
	assert_int_equal(supply_public_key_from_pem(data, (size_t)len, &read_back, &err),
		WD_EUNSUPPORTED);
	assert_null(read_back);

	BIO_free(bio);
	free(signature);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(key);
}

// The signature must be over SHA-256 of the whole file, as openssl dgst
// -sha256 -sign produces it.
static void digest_file_matches_openssl(void **state)
{
	char path[] = "/tmp/test_sign_XXXXXX";
	struct wd_error err = { 0 };
	uint8_t expected[SUPPLY_DIGEST_LEN];
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t der[80];
	size_t der_len = sizeof(der);
	char *base64 = NULL;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, blob\n", 12), 12);
	close(fd);
	SHA256((const unsigned char *)"hello, blob\n", 12, expected);
	assert_int_equal(supply_blob_digest_file(path, digest, &err), WD_OK);
	assert_memory_equal(digest, expected, SUPPLY_DIGEST_LEN);

	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)"hello, blob\n",
				 12), 1);
	assert_int_equal(wd_base64_encode(der, der_len, &base64), WD_OK);
	assert_int_equal(supply_blob_verify(key, digest, base64, strlen(base64), &err), WD_OK);

	assert_int_equal(supply_blob_digest_file("/nonexistent/blob", digest, &err),
		WD_ENOTFOUND);

	unlink(path);
	free(base64);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(envelope_opens_go_vector),
		cmocka_unit_test(envelope_round_trip),
		cmocka_unit_test(envelope_wrong_password_fails),
		cmocka_unit_test(envelope_tampered_ciphertext_fails),
		cmocka_unit_test(envelope_rejects_bad_fields),
		cmocka_unit_test(private_key_pem_round_trip),
		cmocka_unit_test(sign_verify_round_trip),
		cmocka_unit_test(tampered_blob_and_wrong_key_fail),
		cmocka_unit_test(malformed_signature_and_rsa_key_rejected),
		cmocka_unit_test(digest_file_matches_openssl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
