/* PKCS#10 certificate signing requests (RFC 2986): bounded parsing of PEM or
 * DER, the key type allowlist, then the self-signature check. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "identity/csr.h"

/* Larger RSA moduli make each verification slow enough to burn server CPU,
 * and no SVID key type in common use is larger than RSA-4096. */
#define CSR_RSA_MAX_BITS 8192
#define CSR_RSA_MIN_BITS 2048

static int parse_pem(const void *data, size_t len, X509_REQ **ret_req, struct wd_error *err)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509_REQ *req;

	if (!bio)
		return WD_ENOMEM;
	/* Reads a "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST" block. */
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!req)
		return wd_error_set(err, WD_EINVAL,
			"invalid CSR: no well-formed PEM \"CERTIFICATE REQUEST\" block found");
	*ret_req = req;
	return 0;
}

static int parse_der(const void *data, size_t len, X509_REQ **ret_req, struct wd_error *err)
{
	const unsigned char *start = data;
	const unsigned char *p = start;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);

	if (!req)
		return wd_error_set(err, WD_EINVAL,
			"invalid CSR: the %zu bytes are neither PEM nor a DER PKCS#10 request", len);
	if (p != start + len) {
		X509_REQ_free(req);
		return wd_error_set(err, WD_EINVAL,
			"invalid CSR: %zu bytes follow the DER request", len - (size_t)(p - start));
	}
	*ret_req = req;
	return 0;
}

/* Checks key against the allowlist: EC keys on P-256 or P-384 (named
 * curves only) and RSA keys of 2048 to 8192 bits. */
static int check_key_type(const EVP_PKEY *key, struct wd_error *err)
{
	char group[64];
	size_t group_len = 0;
	int bits;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len))
			return wd_error_set(err, WD_EINVAL,
				"invalid CSR: EC key without a named curve; use P-256 or P-384");
		switch (OBJ_txt2nid(group)) {
		case NID_X9_62_prime256v1:
		case NID_secp384r1:
			return 0;
		default:
			return wd_error_set(err, WD_EINVAL,
				"invalid CSR: EC curve \"%.40s\" is not allowed; use P-256 or P-384",
				group);
		}
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(key);
		if (bits < CSR_RSA_MIN_BITS)
			return wd_error_set(err, WD_EINVAL,
				"invalid CSR: RSA key of %d bits is too small; use at least %d bits",
				bits, CSR_RSA_MIN_BITS);
		if (bits > CSR_RSA_MAX_BITS)
			return wd_error_set(err, WD_EINVAL,
				"invalid CSR: RSA key of %d bits is larger than %d bits", bits,
				CSR_RSA_MAX_BITS);
		return 0;
	default:
		return wd_error_set(err, WD_EINVAL,
			"invalid CSR: key algorithm \"%.40s\" is not allowed; use EC P-256, "
			"P-384 or RSA", OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
	}
}

/* Encodes the request's SubjectPublicKeyInfo as it was decoded: OpenSSL
 * keeps the algorithm and key bits of the X509_PUBKEY, so this writes the
 * CSR's bytes back without encoding the key. */
static int encode_spki(X509_REQ *req, uint8_t **ret_spki, size_t *ret_spki_len)
{
	X509_PUBKEY *spki = X509_REQ_get_X509_PUBKEY(req);
	unsigned char *der = NULL;
	int der_len;

	if (!spki)
		return WD_EINVAL;
	der_len = i2d_X509_PUBKEY(spki, NULL);
	if (der_len <= 0)
		return WD_EINVAL;
	der = malloc((size_t)der_len);
	if (!der)
		return WD_ENOMEM;
	*ret_spki = der;
	if (i2d_X509_PUBKEY(spki, &der) != der_len) {
		free(*ret_spki);
		*ret_spki = NULL;
		return WD_EINTERNAL;
	}
	*ret_spki_len = (size_t)der_len;
	return 0;
}

int csr_parse_and_verify(const void *data, size_t len, EVP_PKEY **ret_public_key,
	struct wd_error *err)
{
	return csr_parse_and_verify_spki(data, len, ret_public_key, NULL, NULL, err);
}

int csr_parse_and_verify_spki(const void *data, size_t len, EVP_PKEY **ret_public_key,
	uint8_t **ret_spki, size_t *ret_spki_len, struct wd_error *err)
{
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	int rc;

	if (ret_public_key)
		*ret_public_key = NULL;
	if (ret_spki)
		*ret_spki = NULL;
	if (ret_spki_len)
		*ret_spki_len = 0;
	if (!ret_public_key || !ret_spki != !ret_spki_len || (!data && len > 0))
		return wd_error_set(err, WD_EINVAL, "invalid CSR: missing argument");
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "invalid CSR: the request is empty");
	if (len > CSR_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG,
			"invalid CSR: %zu bytes is larger than the limit of %u bytes", len,
			CSR_MAX_BYTES);

	if (memmem(data, len, "-----BEGIN", 10))
		WD_GUARD(parse_pem(data, len, &req, err));
	else
		WD_GUARD(parse_der(data, len, &req, err));

	key = X509_REQ_get_pubkey(req);
	if (!key) {
		rc = wd_error_set(err, WD_EINVAL, "invalid CSR: the public key cannot be decoded");
		goto out;
	}
	WD_GUARD(check_key_type(key, err));

	/* The self-signature proves the requester possesses the private key
	 * (RFC 2986 section 3). 0 is a bad signature, -1 a malformed one. */
	if (X509_REQ_verify(req, key) != 1) {
		rc = wd_error_set(err, WD_ECRYPTO,
			"invalid CSR: the self-signature does not verify with the request's key");
		goto out;
	}
	if (ret_spki) {
		rc = encode_spki(req, &spki, &spki_len);
		if (rc < 0) {
			rc = wd_error_set(err, rc, "encoding the CSR's SubjectPublicKeyInfo failed");
			goto out;
		}
		*ret_spki = WD_TAKE_PTR(spki);
		*ret_spki_len = spki_len;
	}
	*ret_public_key = WD_TAKE_PTR(key);
	rc = 0;
out:
	free(spki);
	EVP_PKEY_free(key);
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}
