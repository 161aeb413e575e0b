/* cosign's key files: ECDSA P-256 key generation, the encrypted private key
 * PEM (PKCS#8 DER inside the password envelope) and the public key PEM. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "supply/sign.h"

int supply_key_check_type(EVP_PKEY *key, struct wd_error *err)
{
	char group[64];

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"wrong key type: %s, expected ECDSA P-256",
			OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), NULL))
		return wd_error_set(err, WD_EUNSUPPORTED,
			"wrong key type: EC key without a named curve, expected ECDSA P-256");
	if (strcmp(group, SN_X9_62_prime256v1) != 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"wrong key type: EC curve %s, expected ECDSA P-256", group);
	return WD_OK;
}

int supply_key_generate(EVP_PKEY **ret_key, struct wd_error *err)
{
	*ret_key = EVP_EC_gen("P-256");
	if (!*ret_key)
		return wd_error_set(err, WD_ECRYPTO, "generating an ECDSA P-256 key failed");
	return WD_OK;
}

/* Copies the contents of bio into a NUL-terminated malloc'd string. */
static int bio_to_string(BIO *bio, char **ret_text)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	char *text;

	if (len < 0)
		return WD_EINTERNAL;
	text = malloc((size_t)len + 1);
	if (!text)
		return WD_ENOMEM;
	memcpy(text, data, (size_t)len);
	text[len] = '\0';
	*ret_text = text;
	return WD_OK;
}

static int private_key_to_der(EVP_PKEY *key, uint8_t **ret_der, size_t *ret_len,
	struct wd_error *err)
{
	PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8(key);
	unsigned char *der = NULL;
	int len;

	if (!info)
		return wd_error_set(err, WD_ECRYPTO, "encoding the private key as PKCS#8 failed");
	len = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
	PKCS8_PRIV_KEY_INFO_free(info);
	if (len <= 0)
		return wd_error_set(err, WD_ECRYPTO, "encoding the private key as PKCS#8 failed");
	*ret_der = der;
	*ret_len = (size_t)len;
	return WD_OK;
}

int supply_private_key_to_pem(EVP_PKEY *key, const char *password, size_t password_len,
	char **ret_pem, struct wd_error *err)
{
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *json = NULL;
	BIO *bio = NULL;
	int rc;

	*ret_pem = NULL;
	WD_GUARD(supply_key_check_type(key, err));
	WD_GUARD(private_key_to_der(key, &der, &der_len, err));
	WD_GUARD(supply_key_encrypt(der, der_len, password, password_len, &json, err));

	bio = BIO_new(BIO_s_mem());
	WD_ENSURE(bio, WD_ENOMEM);
	WD_ENSURE(PEM_write_bio(bio, SUPPLY_PEM_SIGSTORE_KEY, "", (unsigned char *)json,
			  (long)strlen(json)) > 0,
		wd_error_set(err, WD_EINTERNAL, "writing the private key PEM failed"));
	WD_GUARD(bio_to_string(bio, ret_pem));
	rc = WD_OK;
out:
	if (der)
		OPENSSL_clear_free(der, der_len);
	free(json);
	BIO_free(bio);
	return rc;
}

/* Reads the one PEM block of pem and checks that its type is one of cosign's
 * encrypted private key types. The body (the JSON envelope) goes to
 * *ret_body, freed with OPENSSL_free. */
static int read_key_pem(const char *pem, size_t len, unsigned char **ret_body,
	long *ret_body_len, struct wd_error *err)
{
	char *type = NULL;
	char *header = NULL;
	int rc = WD_OK;
	BIO *bio;

	if (len > SUPPLY_KEY_FILE_MAX)
		return wd_error_set(err, WD_ETOOBIG, "private key: over %d bytes",
			SUPPLY_KEY_FILE_MAX);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return WD_ENOMEM;
	if (!PEM_read_bio(bio, &type, &header, ret_body, ret_body_len)) {
		rc = wd_error_set(err, WD_EINVAL, "private key: no PEM block found");
	} else if (strcmp(type, SUPPLY_PEM_SIGSTORE_KEY) != 0 &&
		   strcmp(type, SUPPLY_PEM_COSIGN_KEY) != 0) {
		rc = wd_error_set(err, WD_EINVAL, "private key: PEM type \"%.64s\", expected \"%s\"",
			type, SUPPLY_PEM_SIGSTORE_KEY);
		OPENSSL_free(*ret_body);
		*ret_body = NULL;
	}
	OPENSSL_free(type);
	OPENSSL_free(header);
	BIO_free(bio);
	return rc;
}

int supply_private_key_from_pem(const char *pem, size_t len, const char *password,
	size_t password_len, EVP_PKEY **ret_key, struct wd_error *err)
{
	unsigned char *body = NULL;
	long body_len = 0;
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *cursor;
	PKCS8_PRIV_KEY_INFO *info = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	*ret_key = NULL;
	WD_GUARD(read_key_pem(pem, len, &body, &body_len, err));
	WD_GUARD(supply_key_decrypt((const char *)body, (size_t)body_len, password, password_len,
		&der, &der_len, err));

	cursor = der;
	info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &cursor, (long)der_len);
	WD_ENSURE(info && cursor == der + der_len, wd_error_set(err, WD_EINVAL,
		"private key: the decrypted key is not PKCS#8 DER"));
	key = EVP_PKCS82PKEY(info);
	WD_ENSURE(key, wd_error_set(err, WD_EINVAL,
		"private key: the decrypted PKCS#8 holds no usable key"));
	WD_GUARD(supply_key_check_type(key, err));

	*ret_key = WD_TAKE_PTR(key);
	rc = WD_OK;
out:
	if (der)
		OPENSSL_clear_free(der, der_len);
	OPENSSL_free(body);
	PKCS8_PRIV_KEY_INFO_free(info);
	EVP_PKEY_free(key);
	return rc;
}

int supply_public_key_to_pem(EVP_PKEY *key, char **ret_pem, struct wd_error *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc;

	*ret_pem = NULL;
	if (!bio)
		return WD_ENOMEM;
	if (PEM_write_bio_PUBKEY(bio, key) != 1)
		rc = wd_error_set(err, WD_EINTERNAL, "writing the public key PEM failed");
	else
		rc = bio_to_string(bio, ret_pem);
	BIO_free(bio);
	return rc;
}

int supply_public_key_from_pem(const char *pem, size_t len, EVP_PKEY **ret_key,
	struct wd_error *err)
{
	BIO *bio;
	EVP_PKEY *key;
	int rc;

	*ret_key = NULL;
	if (len > SUPPLY_KEY_FILE_MAX)
		return wd_error_set(err, WD_ETOOBIG, "public key: over %d bytes",
			SUPPLY_KEY_FILE_MAX);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return WD_ENOMEM;
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key)
		return wd_error_set(err, WD_EINVAL, "public key: no PEM \"PUBLIC KEY\" block found");

	rc = supply_key_check_type(key, err);
	if (rc < 0) {
		EVP_PKEY_free(key);
		return rc;
	}
	*ret_key = key;
	return WD_OK;
}
