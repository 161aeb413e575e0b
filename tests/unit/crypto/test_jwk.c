/* Unit tests for JWKs, RFC 7638 thumbprints and ECDSA signature forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/encoding.h"
#include "crypto/jwk.h"

/* RFC 7638 section 3.1: the RSA key of the example and its thumbprint. */
static const char rfc7638_n[] =
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
	"BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
	"FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
	"vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

static EVP_PKEY *make_ec(const char *curve)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(key);
	return key;
}

static EVP_PKEY *make_rsa(size_t bits)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);

	assert_non_null(key);
	return key;
}

static const char *member(const json_t *jwk, const char *name)
{
	const char *value = json_string_value(json_object_get(jwk, name));

	assert_non_null(value);
	return value;
}

/* Encodes key, checks the member set, decodes it again and compares. */
static void check_round_trip(EVP_PKEY *key, const char *kty, const char *crv,
	size_t coordinate_chars)
{
	struct wd_error err;
	json_t *jwk = NULL;
	EVP_PKEY *back = NULL;
	char thumb_a[CRYPTO_JWK_THUMBPRINT_LEN + 1], thumb_b[CRYPTO_JWK_THUMBPRINT_LEN + 1];

	assert_int_equal(crypto_jwk_from_key(key, &jwk, &err), 0);
	assert_string_equal(member(jwk, "kty"), kty);
	if (crv) {
		assert_int_equal(json_object_size(jwk), 4);
		assert_string_equal(member(jwk, "crv"), crv);
		assert_int_equal(strlen(member(jwk, "x")), coordinate_chars);
		assert_int_equal(strlen(member(jwk, "y")), coordinate_chars);
	} else {
		assert_int_equal(json_object_size(jwk), 3);
		assert_string_equal(member(jwk, "e"), "AQAB");
		/* 256 bytes of modulus are 342 base64url characters. */
		assert_int_equal(strlen(member(jwk, "n")), 342);
	}

	assert_int_equal(crypto_jwk_to_key(jwk, &back, &err), 0);
	assert_int_equal(EVP_PKEY_eq(key, back), 1);

	assert_int_equal(crypto_jwk_thumbprint(key, thumb_a, sizeof(thumb_a)), 0);
	assert_int_equal(crypto_jwk_thumbprint(back, thumb_b, sizeof(thumb_b)), 0);
	assert_int_equal(strlen(thumb_a), CRYPTO_JWK_THUMBPRINT_LEN);
	assert_string_equal(thumb_a, thumb_b);

	EVP_PKEY_free(back);
	json_decref(jwk);
}

static void jwk_round_trip_p256(void **state)
{
	EVP_PKEY *key = make_ec("P-256");
	const struct crypto_ec_curve *curve;

	(void)state;
	assert_int_equal(crypto_ec_curve_of(key, &curve), 0);
	assert_string_equal(curve->jwk_name, "P-256");
	assert_int_equal(curve->coordinate_size, 32);
	check_round_trip(key, "EC", "P-256", 43);
	EVP_PKEY_free(key);
}

static void jwk_round_trip_p384(void **state)
{
	EVP_PKEY *key = make_ec("P-384");
	const struct crypto_ec_curve *curve;

	(void)state;
	assert_int_equal(crypto_ec_curve_of(key, &curve), 0);
	assert_string_equal(curve->jwk_name, "P-384");
	assert_int_equal(curve->coordinate_size, 48);
	check_round_trip(key, "EC", "P-384", 64);
	EVP_PKEY_free(key);
}

static void jwk_round_trip_rsa2048(void **state)
{
	EVP_PKEY *key = make_rsa(2048);
	const struct crypto_ec_curve *curve;

	(void)state;
	assert_int_equal(crypto_ec_curve_of(key, &curve), WD_EUNSUPPORTED);
	assert_null(curve);
	check_round_trip(key, "RSA", NULL, 0);
	EVP_PKEY_free(key);
}

static void jwk_rfc7638_thumbprint(void **state)
{
	struct wd_error err;
	json_t *jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "n", rfc7638_n, "e", "AQAB",
		"alg", "RS256");
	EVP_PKEY *key = NULL;
	char thumb[CRYPTO_JWK_THUMBPRINT_LEN + 1];

	(void)state;
	assert_non_null(jwk);
	assert_int_equal(crypto_jwk_to_key(jwk, &key, &err), 0);
	assert_int_equal(EVP_PKEY_get_bits(key), 2048);
	assert_int_equal(crypto_jwk_thumbprint(key, thumb, sizeof(thumb)), 0);
	assert_string_equal(thumb, rfc7638_thumbprint);

	/* The buffer must hold 43 characters and the NUL. */
	assert_int_equal(crypto_jwk_thumbprint(key, thumb, CRYPTO_JWK_THUMBPRINT_LEN), WD_EINVAL);
	assert_string_equal(thumb, "");

	EVP_PKEY_free(key);
	json_decref(jwk);
}

/* Returns the JWK of a fresh P-256 key with y's last byte changed, which
 * moves the point off the curve. */
static json_t *off_curve_jwk(void)
{
	EVP_PKEY *key = make_ec("P-256");
	json_t *jwk = NULL;
	uint8_t *y = NULL;
	size_t y_len = 0;
	char *text = NULL;
	const char *y_text;

	assert_int_equal(crypto_jwk_from_key(key, &jwk, NULL), 0);
	y_text = member(jwk, "y");
	assert_int_equal(wd_base64url_decode(y_text, strlen(y_text), &y, &y_len), 0);
	assert_int_equal(y_len, 32);
	y[31] ^= 0x01;
	assert_int_equal(wd_base64url_encode(y, y_len, &text), 0);
	assert_int_equal(json_object_set_new(jwk, "y", json_string(text)), 0);

	free(text);
	free(y);
	EVP_PKEY_free(key);
	return jwk;
}

static void jwk_off_curve_rejected(void **state)
{
	struct wd_error err;
	json_t *jwk = off_curve_jwk();
	EVP_PKEY *key = (EVP_PKEY *)1;

	(void)state;
	assert_int_equal(crypto_jwk_to_key(jwk, &key, &err), WD_EINVAL);
	assert_null(key);
	assert_string_equal(err.detail, "JWK EC point is not on curve P-256");
	json_decref(jwk);
}

/* Replaces one member of a valid P-256 JWK (or removes it when value is
 * NULL) and returns the result of crypto_jwk_to_key. */
static int to_key_with(const char *name, json_t *value, struct wd_error *err)
{
	EVP_PKEY *key = make_ec("P-256");
	EVP_PKEY *back = NULL;
	json_t *jwk = NULL;
	int rc;

	assert_int_equal(crypto_jwk_from_key(key, &jwk, NULL), 0);
	if (value)
		assert_int_equal(json_object_set_new(jwk, name, value), 0);
	else
		assert_int_equal(json_object_del(jwk, name), 0);
	rc = crypto_jwk_to_key(jwk, &back, err);
	if (rc < 0)
		assert_null(back);
	EVP_PKEY_free(back);
	json_decref(jwk);
	EVP_PKEY_free(key);
	return rc;
}

static void jwk_malformed_rejected(void **state)
{
	struct wd_error err;
	EVP_PKEY *key = NULL;
	json_t *not_object = json_string("EC");

	(void)state;
	assert_int_equal(crypto_jwk_to_key(not_object, &key, &err), WD_EINVAL);
	json_decref(not_object);

	assert_int_equal(to_key_with("x", json_string("AAAA"), &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWK x and y are 3 and 32 bytes; curve P-256 needs 32 each");
	assert_int_equal(to_key_with("x", json_string("not base64url!"), &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWK member \"x\" is not valid base64url");
	assert_int_equal(to_key_with("x", json_string("AAAA===="), &err), WD_EINVAL);
	assert_int_equal(to_key_with("y", NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWK member \"y\" is missing or not a string");
	assert_int_equal(to_key_with("x", json_integer(5), &err), WD_EINVAL);
	assert_int_equal(to_key_with("kty", NULL, &err), WD_EINVAL);
	assert_int_equal(to_key_with("crv", json_integer(1), &err), WD_EINVAL);
	assert_int_equal(to_key_with("d", json_string("AAAA"), &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWK holds private key member \"d\"");
}

static void jwk_unknown_type_unsupported(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(to_key_with("crv", json_string("secp256k1"), &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "unsupported JWK crv \"secp256k1\"");
	assert_int_equal(to_key_with("kty", json_string("oct"), &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "unsupported JWK kty \"oct\"");
	assert_int_equal(to_key_with("kty", json_string("OKP"), &err), WD_EUNSUPPORTED);
}

static void jwk_short_rsa_rejected(void **state)
{
	struct wd_error err;
	EVP_PKEY *small = make_rsa(1024);
	EVP_PKEY *back = NULL;
	json_t *jwk = NULL;

	(void)state;
	assert_int_equal(crypto_jwk_from_key(small, &jwk, &err), 0);
	assert_int_equal(crypto_jwk_to_key(jwk, &back, &err), WD_EINVAL);
	assert_null(back);
	assert_string_equal(err.detail, "JWK RSA modulus has 1024 bits; 2048 to 16384 are accepted");
	json_decref(jwk);
	EVP_PKEY_free(small);
}

/* r = 1 and s = 0x80 followed by 31 zero bytes: s needs a leading zero
 * octet in DER because its top bit is set. */
static void ecdsa_known_vector(uint8_t raw[64], uint8_t der[40])
{
	static const uint8_t der_head[] = { 0x30, 0x26, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00, 0x80 };

	memset(raw, 0, 64);
	raw[31] = 0x01;
	raw[32] = 0x80;
	memset(der, 0, 40);
	memcpy(der, der_head, sizeof(der_head));
}

static void ecdsa_raw_to_der_vector(void **state)
{
	uint8_t raw[64], expected[40];
	uint8_t *der = NULL;
	size_t der_len = 0;

	(void)state;
	ecdsa_known_vector(raw, expected);
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, sizeof(raw), 32, &der, &der_len), 0);
	assert_int_equal(der_len, 40);
	assert_memory_equal(der, expected, 40);
	free(der);
}

static void ecdsa_der_to_raw_vector(void **state)
{
	uint8_t expected[64], der[40], raw[64];

	(void)state;
	ecdsa_known_vector(expected, der);
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, sizeof(der), 32, raw, sizeof(raw)), 0);
	assert_memory_equal(raw, expected, 64);
}

static void ecdsa_bad_lengths_rejected(void **state)
{
	uint8_t raw[133] = { 0 }, der[40], out[132], padded[41];
	uint8_t *der_out = (uint8_t *)1;
	size_t der_out_len = 7;

	(void)state;
	ecdsa_known_vector(raw, der);

	/* r || s must be exactly twice the coordinate size. */
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, 63, 32, &der_out, &der_out_len),
		WD_EINVAL);
	assert_null(der_out);
	assert_int_equal(der_out_len, 0);
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, 65, 32, &der_out, &der_out_len),
		WD_EINVAL);
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, 96, 32, &der_out, &der_out_len),
		WD_EINVAL);
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, 0, 0, &der_out, &der_out_len),
		WD_EINVAL);
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, 134, 67, &der_out, &der_out_len),
		WD_EINVAL);

	/* The output buffer is too small, the DER has a trailing byte, or the
	 * DER is truncated. */
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, sizeof(der), 32, out, 63), WD_EINVAL);
	memcpy(padded, der, sizeof(der));
	padded[40] = 0x00;
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(padded, sizeof(padded), 32, out, 64),
		WD_EINVAL);
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, sizeof(der) - 1, 32, out, 64),
		WD_EINVAL);
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, 0, 32, out, 64), WD_EINVAL);

	/* s is 32 bytes, so it does not fit a 16-byte coordinate. */
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, sizeof(der), 16, out, 64), WD_EINVAL);
}

static void ecdsa_real_signature_round_trip(void **state)
{
	static const uint8_t message[] = "signing input";
	EVP_PKEY *key = make_ec("P-384");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[128], raw[96];
	size_t sig_len = sizeof(sig);
	uint8_t *der = NULL;
	size_t der_len = 0;

	(void)state;
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, "SHA384", NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, message, sizeof(message)), 1);

	assert_int_equal(crypto_ecdsa_sig_der_to_raw(sig, sig_len, 48, raw, sizeof(raw)), 0);
	assert_int_equal(crypto_ecdsa_sig_raw_to_der(raw, sizeof(raw), 48, &der, &der_len), 0);
	assert_int_equal(der_len, sig_len);
	assert_memory_equal(der, sig, sig_len);

	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, "SHA384", NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestVerify(ctx, der, der_len, message, sizeof(message)), 1);

	free(der);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jwk_round_trip_p256),
		cmocka_unit_test(jwk_round_trip_p384),
		cmocka_unit_test(jwk_round_trip_rsa2048),
		cmocka_unit_test(jwk_rfc7638_thumbprint),
		cmocka_unit_test(jwk_off_curve_rejected),
		cmocka_unit_test(jwk_malformed_rejected),
		cmocka_unit_test(jwk_unknown_type_unsupported),
		cmocka_unit_test(jwk_short_rsa_rejected),
		cmocka_unit_test(ecdsa_raw_to_der_vector),
		cmocka_unit_test(ecdsa_der_to_raw_vector),
		cmocka_unit_test(ecdsa_bad_lengths_rejected),
		cmocka_unit_test(ecdsa_real_signature_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
