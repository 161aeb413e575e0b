/* Unit tests for JWT-SVID signing and verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/encoding.h"
#include "crypto/jwk.h"
#include "identity/jwtsvid.h"

#define ISSUED_AT 1700000000
#define EXPIRES_AT 1700000300
#define NOW 1700000100

struct keys {
	EVP_PKEY *p256;
	EVP_PKEY *p384;
	EVP_PKEY *rsa;
	struct jwt_authority authorities[3];
};

static struct keys keys;

static int keys_setup(void **state)
{
	(void)state;
	keys.p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	keys.p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	keys.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (!keys.p256 || !keys.p384 || !keys.rsa)
		return -1;
	keys.authorities[0] = (struct jwt_authority){ "kid-p256", keys.p256 };
	keys.authorities[1] = (struct jwt_authority){ "kid-p384", keys.p384 };
	keys.authorities[2] = (struct jwt_authority){ "kid-rsa", keys.rsa };
	return 0;
}

static int keys_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(keys.p256);
	EVP_PKEY_free(keys.p384);
	EVP_PKEY_free(keys.rsa);
	return 0;
}

static struct spiffe_id workload_id(void)
{
	struct spiffe_id id;
	static const char text[] = "spiffe://example.org/workload";

	assert_int_equal(spiffe_id_parse(text, strlen(text), &id, NULL), 0);
	return id;
}

/* Signs a token for spiffe://example.org/workload valid from ISSUED_AT to
 * EXPIRES_AT. */
static char *sign_with(EVP_PKEY *key, const char *kid, enum jwtsvid_rsa_alg rsa_alg,
	const char *const *audience, size_t audience_count)
{
	struct spiffe_id subject = workload_id();
	struct jwtsvid_claims_in claims = {
		.subject = &subject,
		.audience = audience,
		.audience_count = audience_count,
		.issued_at = ISSUED_AT,
		.expires_at = EXPIRES_AT,
	};
	struct wd_error err;
	char *token = NULL;

	assert_int_equal(jwtsvid_sign(key, kid, rsa_alg, &claims, &token, &err), 0);
	assert_non_null(token);
	return token;
}

static int verify(const char *token, const char *audience, int64_t now, struct wd_error *err)
{
	struct jwtsvid_verified verified;

	return jwtsvid_verify(token, strlen(token), keys.authorities, 3, audience, now, &verified,
		err);
}

/* Returns the decoded text of part index (0 header, 1 claims) of token. */
static char *decode_part(const char *token, int index)
{
	const char *start = token;
	const char *end;
	uint8_t *data = NULL;
	size_t len = 0;

	for (int i = 0; i < index; i++)
		start = strchr(start, '.') + 1;
	end = strchr(start, '.');
	assert_non_null(end);
	assert_int_equal(wd_base64url_decode(start, (size_t)(end - start), &data, &len), 0);
	return (char *)data;
}

/* Builds a token from literal header and claims JSON, signed with ES256
 * under the P-256 key, so header and claim checks are reached with a valid
 * signature. */
static char *forge(const char *header, const char *claims)
{
	char *header_part = NULL, *claims_part = NULL, *sig_part = NULL, *token;
	uint8_t der[80], raw[64];
	size_t der_len = sizeof(der);
	size_t input_len;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_int_equal(wd_base64url_encode((const uint8_t *)header, strlen(header), &header_part),
		0);
	assert_int_equal(wd_base64url_encode((const uint8_t *)claims, strlen(claims), &claims_part),
		0);
	input_len = strlen(header_part) + 1 + strlen(claims_part);
	token = malloc(input_len + 1 + 100);
	assert_non_null(token);
	memcpy(token, header_part, strlen(header_part));
	token[strlen(header_part)] = '.';
	memcpy(token + strlen(header_part) + 1, claims_part, strlen(claims_part) + 1);

	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, keys.p256, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &der_len, (const uint8_t *)token, input_len), 1);
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, der_len, 32, raw, sizeof(raw)), 0);
	assert_int_equal(wd_base64url_encode(raw, sizeof(raw), &sig_part), 0);
	token[input_len] = '.';
	memcpy(token + input_len + 1, sig_part, strlen(sig_part) + 1);

	EVP_MD_CTX_free(ctx);
	free(header_part);
	free(claims_part);
	free(sig_part);
	return token;
}

static const char good_claims[] =
	"{\"aud\":\"svc-a\",\"exp\":1700000300,\"iat\":1700000000,"
	"\"sub\":\"spiffe://example.org/workload\"}";

/* Verifies a token forged with header and the good claims. */
static int verify_header(const char *header, struct wd_error *err)
{
	char *token = forge(header, good_claims);
	int rc = verify(token, "svc-a", NOW, err);

	free(token);
	return rc;
}

/* Verifies a token forged with the usual header and claims. */
static int verify_claims(const char *claims, struct wd_error *err)
{
	char *token = forge("{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"typ\":\"JWT\"}", claims);
	int rc = verify(token, "svc-a", NOW, err);

	free(token);
	return rc;
}

static void check_sign_verify(EVP_PKEY *key, const char *kid, enum jwtsvid_rsa_alg rsa_alg,
	const char *expected_header)
{
	static const char *const audience[] = { "svc-a" };
	struct jwtsvid_verified verified;
	struct wd_error err;
	char *token = sign_with(key, kid, rsa_alg, audience, 1);
	char *header = decode_part(token, 0);

	assert_string_equal(header, expected_header);
	assert_int_equal(jwtsvid_verify(token, strlen(token), keys.authorities, 3, "svc-a", NOW,
				 &verified, &err),
		0);
	assert_string_equal(verified.subject.trust_domain, "example.org");
	assert_string_equal(verified.subject.path, "/workload");
	assert_int_equal(verified.issued_at, ISSUED_AT);
	assert_int_equal(verified.expires_at, EXPIRES_AT);

	free(header);
	free(token);
}

static void sign_verify_es256(void **state)
{
	(void)state;
	check_sign_verify(keys.p256, "kid-p256", JWTSVID_RS256,
		"{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"typ\":\"JWT\"}");
}

static void sign_verify_es384(void **state)
{
	(void)state;
	check_sign_verify(keys.p384, "kid-p384", JWTSVID_PS256,
		"{\"alg\":\"ES384\",\"kid\":\"kid-p384\",\"typ\":\"JWT\"}");
}

static void sign_verify_rs256(void **state)
{
	(void)state;
	check_sign_verify(keys.rsa, "kid-rsa", JWTSVID_RS256,
		"{\"alg\":\"RS256\",\"kid\":\"kid-rsa\",\"typ\":\"JWT\"}");
}

static void sign_verify_ps256(void **state)
{
	(void)state;
	check_sign_verify(keys.rsa, "kid-rsa", JWTSVID_PS256,
		"{\"alg\":\"PS256\",\"kid\":\"kid-rsa\",\"typ\":\"JWT\"}");
}

static void one_audience_is_string(void **state)
{
	static const char *const audience[] = { "svc-a" };
	char *token = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, audience, 1);
	char *claims = decode_part(token, 1);

	(void)state;
	assert_string_equal(claims, good_claims);
	free(claims);
	free(token);
}

static void several_audiences_are_array(void **state)
{
	static const char *const audience[] = { "svc-a", "svc-b" };
	struct wd_error err;
	char *token = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, audience, 2);
	char *claims = decode_part(token, 1);

	(void)state;
	assert_string_equal(claims,
		"{\"aud\":[\"svc-a\",\"svc-b\"],\"exp\":1700000300,\"iat\":1700000000,"
		"\"sub\":\"spiffe://example.org/workload\"}");
	assert_int_equal(verify(token, "svc-a", NOW, &err), 0);
	assert_int_equal(verify(token, "svc-b", NOW, &err), 0);
	assert_int_equal(verify(token, "svc-c", NOW, &err), WD_EAUTH);
	free(claims);
	free(token);
}

static void expired_token_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	struct wd_error err;
	char *token = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, audience, 1);

	(void)state;
	assert_int_equal(verify(token, "svc-a", EXPIRES_AT - 1, &err), 0);
	assert_int_equal(verify(token, "svc-a", EXPIRES_AT, &err), WD_EEXPIRED);
	assert_string_equal(err.detail, "JWT-SVID expired at 1700000300 (now 1700000300)");
	assert_int_equal(verify(token, "svc-a", EXPIRES_AT + 3600, &err), WD_EEXPIRED);
	free(token);
}

static void wrong_audience_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	struct jwtsvid_verified verified;
	struct wd_error err;
	char *token = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, audience, 1);

	(void)state;
	verified.expires_at = 99;
	assert_int_equal(jwtsvid_verify(token, strlen(token), keys.authorities, 3, "svc-b", NOW,
				 &verified, &err),
		WD_EAUTH);
	assert_string_equal(err.detail, "JWT-SVID claim aud does not contain \"svc-b\"");
	assert_int_equal(verified.expires_at, 0);
	assert_string_equal(verified.subject.trust_domain, "");
	free(token);
}

static void unknown_kid_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	struct wd_error err;
	char *token = sign_with(keys.p256, "kid-other", JWTSVID_RS256, audience, 1);

	(void)state;
	assert_int_equal(verify(token, "svc-a", NOW, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "no JWT authority has kid \"kid-other\"");
	free(token);

	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID header kid is missing or empty");
}

static void tampered_payload_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	static const char *const other_audience[] = { "svc-b" };
	struct wd_error err;
	char *token = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, audience, 1);
	char *other = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, other_audience, 1);
	char *spliced = malloc(strlen(token) + strlen(other) + 1);
	const char *token_claims = strchr(token, '.') + 1;
	const char *other_claims = strchr(other, '.') + 1;
	size_t header_len = (size_t)(token_claims - token);
	size_t claims_len = (size_t)(strchr(other_claims, '.') - other_claims);

	(void)state;
	/* Token's header and signature around the other token's claims. */
	assert_non_null(spliced);
	memcpy(spliced, token, header_len);
	memcpy(spliced + header_len, other_claims, claims_len);
	memcpy(spliced + header_len + claims_len, strchr(token_claims, '.'),
		strlen(strchr(token_claims, '.')) + 1);

	assert_int_equal(verify(spliced, "svc-b", NOW, &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "JWT-SVID ES256 signature is invalid");
	free(spliced);
	free(other);
	free(token);
}

static void tampered_signature_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	struct wd_error err;
	char *token = sign_with(keys.rsa, "kid-rsa", JWTSVID_PS256, audience, 1);
	char *sig = strrchr(token, '.') + 1;
	size_t len = strlen(token);

	(void)state;
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(token, "svc-a", NOW, &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "JWT-SVID PS256 signature is invalid");

	/* A signature cut short is rejected too, whatever its length. */
	token[len - 4] = '\0';
	assert_true(verify(token, "svc-a", NOW, &err) < 0);
	free(token);
}

static void ec_signature_wrong_length_rejected(void **state)
{
	struct wd_error err;
	char *token = forge("{\"alg\":\"ES256\",\"kid\":\"kid-p256\"}", good_claims);
	char *sig = strrchr(token, '.') + 1;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	char *short_sig = NULL;

	(void)state;
	/* Re-encode the first 62 of the 64 signature bytes. */
	assert_int_equal(wd_base64url_decode(sig, strlen(sig), &raw, &raw_len), 0);
	assert_int_equal(raw_len, 64);
	assert_int_equal(wd_base64url_encode(raw, 62, &short_sig), 0);
	memcpy(sig, short_sig, strlen(short_sig) + 1);

	assert_int_equal(verify(token, "svc-a", NOW, &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "JWT-SVID ES256 signature is 62 bytes; expected 64");
	free(short_sig);
	free(raw);
	free(token);
}

static void alg_none_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_header("{\"alg\":\"none\",\"kid\":\"kid-p256\",\"typ\":\"JWT\"}", &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID alg \"none\" is not allowed");

	assert_int_equal(verify_header("{\"alg\":\"HS256\",\"kid\":\"kid-p256\"}", &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"JWT-SVID alg \"HS256\" is not one of RS, ES or PS 256/384/512");
	assert_int_equal(verify_header("{\"alg\":\"es256\",\"kid\":\"kid-p256\"}", &err), WD_EINVAL);
	assert_int_equal(verify_header("{\"kid\":\"kid-p256\"}", &err), WD_EINVAL);
	assert_int_equal(verify_header("{\"alg\":256,\"kid\":\"kid-p256\"}", &err), WD_EINVAL);
}

static void alg_key_mismatch_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_header("{\"alg\":\"RS256\",\"kid\":\"kid-p256\"}", &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "alg \"RS256\" does not match the EC key");
	assert_int_equal(verify_header("{\"alg\":\"ES384\",\"kid\":\"kid-p256\"}", &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "alg \"ES384\" needs a P-384 key");
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-rsa\"}", &err), WD_ECRYPTO);
	assert_int_equal(verify_header("{\"alg\":\"PS256\",\"kid\":\"kid-p384\"}", &err), WD_ECRYPTO);
}

static void extra_header_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"jku\":\"https://evil.example\","
				       "\"kid\":\"kid-p256\",\"typ\":\"JWT\"}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID header parameter \"jku\" is not allowed");
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"crit\":[\"b64\"]}",
				 &err),
		WD_EINVAL);
}

static void typ_values_checked(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"typ\":\"JWS\"}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID typ \"JWS\" is not allowed; use JWT or JOSE");
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"typ\":\"jwt\"}",
				 &err),
		WD_EINVAL);
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"typ\":1}", &err),
		WD_EINVAL);
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-p256\",\"typ\":\"JOSE\"}",
				 &err),
		0);
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"kid\":\"kid-p256\"}", &err), 0);
}

static void duplicate_header_key_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_header("{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"kid-p256\"}",
				 &err),
		WD_EINVAL);
	assert_int_equal(verify_header("[\"ES256\"]", &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID header is not a JSON object");
	assert_int_equal(verify_header("{\"alg\":\"ES256\"", &err), WD_EINVAL);
}

static void sub_not_spiffe_id_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"exp\":1700000300,"
				       "\"sub\":\"https://example.org/workload\"}",
				 &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "JWT-SVID claim sub: "));
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"exp\":1700000300,"
				       "\"sub\":\"spiffe://Example.org/workload\"}",
				 &err),
		WD_EINVAL);
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"exp\":1700000300}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID claim sub is missing or not a string");
}

static void claim_shapes_checked(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID claim exp is missing");
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"exp\":\"1700000300\","
				       "\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID claim exp is not a NumericDate");
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"exp\":1700000300.5,\"iat\":1.5,"
				       "\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		0);
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"exp\":1700000300,\"iat\":\"x\","
				       "\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID claim iat is not a NumericDate");
	assert_int_equal(verify_claims("{\"exp\":1700000300,\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
	assert_int_equal(verify_claims("{\"aud\":[],\"exp\":1700000300,"
				       "\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
	assert_int_equal(verify_claims("{\"aud\":[\"svc-a\",7],\"exp\":1700000300,"
				       "\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID claim aud[1] is not a string");
	assert_int_equal(verify_claims("{\"aud\":\"svc-a\",\"aud\":\"svc-b\",\"exp\":1700000300,"
				       "\"sub\":\"spiffe://example.org/w\"}",
				 &err),
		WD_EINVAL);
}

static void part_count_checked(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(verify("eyJhbGciOiJFUzI1NiJ9.e30", "svc-a", NOW, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"JWT-SVID has 2 parts; the JWS compact serialization has 3");
	assert_int_equal(verify("eyJhbGciOiJFUzI1NiJ9.e30.AAAA.AAAA", "svc-a", NOW, &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"JWT-SVID has 4 parts; the JWS compact serialization has 3");
	assert_int_equal(verify("eyJhbGciOiJFUzI1NiJ9..AAAA", "svc-a", NOW, &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID part 2 is empty");
	assert_int_equal(verify("", "svc-a", NOW, &err), WD_EINVAL);
}

static void non_compact_forms_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	struct wd_error err;
	char *token = sign_with(keys.p256, "kid-p256", JWTSVID_RS256, audience, 1);
	size_t len = strlen(token);
	char *copy = malloc(len + 3);
	char expected[128];
	struct jwtsvid_verified verified;

	(void)state;
	assert_int_equal(verify("{\"payload\":\"e30\",\"signatures\":[]}", "svc-a", NOW, &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"JWT-SVID uses the JWS JSON serialization; only the compact form is allowed");

	/* Padding after the signature. */
	memcpy(copy, token, len);
	memcpy(copy + len, "==", 3);
	assert_int_equal(verify(copy, "svc-a", NOW, &err), WD_EINVAL);
	snprintf(expected, sizeof(expected),
		"JWT-SVID has byte 0x3d at offset %zu outside the base64url alphabet", len);
	assert_string_equal(err.detail, expected);

	/* A trailing newline and a space inside. */
	memcpy(copy + len, "\n", 2);
	assert_int_equal(verify(copy, "svc-a", NOW, &err), WD_EINVAL);
	memcpy(copy, token, len + 1);
	copy[5] = ' ';
	assert_int_equal(verify(copy, "svc-a", NOW, &err), WD_EINVAL);

	/* The length given, not the NUL, bounds the token: without its last
	 * character the 86-character ES256 signature is no valid base64url. */
	assert_int_equal(jwtsvid_verify(token, len - 1, keys.authorities, 3, "svc-a", NOW,
				 &verified, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "JWT-SVID signature is not valid base64url");

	free(copy);
	free(token);
}

static void oversized_token_rejected(void **state)
{
	struct wd_error err;
	size_t len = 16385;
	char *token = malloc(len + 1);
	struct jwtsvid_verified verified;

	(void)state;
	memset(token, 'A', len);
	token[100] = '.';
	token[200] = '.';
	token[len] = '\0';
	assert_int_equal(jwtsvid_verify(token, len, keys.authorities, 3, "svc-a", NOW, &verified,
				 &err),
		WD_ETOOBIG);
	assert_string_equal(err.detail, "JWT-SVID is 16385 bytes; the limit is 16384");
	free(token);
}

static void sign_bad_input_rejected(void **state)
{
	static const char *const audience[] = { "svc-a" };
	static const char *const empty_audience[] = { "" };
	struct spiffe_id subject = workload_id();
	struct jwtsvid_claims_in claims = {
		.subject = &subject,
		.audience = audience,
		.audience_count = 1,
		.issued_at = ISSUED_AT,
		.expires_at = ISSUED_AT,
	};
	struct wd_error err;
	char *token = (char *)1;
	EVP_PKEY *ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_int_equal(jwtsvid_sign(keys.p256, "k", JWTSVID_RS256, &claims, &token, &err),
		WD_EINVAL);
	assert_null(token);
	assert_string_equal(err.detail,
		"JWT-SVID expiry 1700000000 must be after its issue time 1700000000 (Unix seconds)");

	claims.expires_at = EXPIRES_AT;
	claims.audience_count = 0;
	assert_int_equal(jwtsvid_sign(keys.p256, "k", JWTSVID_RS256, &claims, &token, &err),
		WD_EINVAL);
	claims.audience = empty_audience;
	claims.audience_count = 1;
	assert_int_equal(jwtsvid_sign(keys.p256, "k", JWTSVID_RS256, &claims, &token, &err),
		WD_EINVAL);
	claims.audience = audience;
	assert_int_equal(jwtsvid_sign(keys.p256, "", JWTSVID_RS256, &claims, &token, &err),
		WD_EINVAL);
	assert_int_equal(jwtsvid_sign(keys.p256, "\xff", JWTSVID_RS256, &claims, &token, &err),
		WD_EINVAL);
	assert_int_equal(jwtsvid_sign(keys.rsa, "k", (enum jwtsvid_rsa_alg)7, &claims, &token,
				 &err),
		WD_EINVAL);

	assert_non_null(ed25519);
	assert_int_equal(jwtsvid_sign(ed25519, "k", JWTSVID_RS256, &claims, &token, &err),
		WD_EUNSUPPORTED);
	assert_null(token);
	EVP_PKEY_free(ed25519);
}

static void key_id_is_thumbprint(void **state)
{
	char kid[CRYPTO_JWK_THUMBPRINT_LEN + 1];
	char thumbprint[CRYPTO_JWK_THUMBPRINT_LEN + 1];

	(void)state;
	assert_int_equal(jwtsvid_key_id(keys.p256, kid, sizeof(kid)), 0);
	assert_int_equal(strlen(kid), 43);
	assert_int_equal(crypto_jwk_thumbprint(keys.p256, thumbprint, sizeof(thumbprint)), 0);
	assert_string_equal(kid, thumbprint);
	assert_int_equal(jwtsvid_key_id(keys.p256, kid, 43), WD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_verify_es256),
		cmocka_unit_test(sign_verify_es384),
		cmocka_unit_test(sign_verify_rs256),
		cmocka_unit_test(sign_verify_ps256),
		cmocka_unit_test(one_audience_is_string),
		cmocka_unit_test(several_audiences_are_array),
		cmocka_unit_test(expired_token_rejected),
		cmocka_unit_test(wrong_audience_rejected),
		cmocka_unit_test(unknown_kid_rejected),
		cmocka_unit_test(tampered_payload_rejected),
		cmocka_unit_test(tampered_signature_rejected),
		cmocka_unit_test(ec_signature_wrong_length_rejected),
		cmocka_unit_test(alg_none_rejected),
		cmocka_unit_test(alg_key_mismatch_rejected),
		cmocka_unit_test(extra_header_rejected),
		cmocka_unit_test(typ_values_checked),
		cmocka_unit_test(duplicate_header_key_rejected),
		cmocka_unit_test(sub_not_spiffe_id_rejected),
		cmocka_unit_test(claim_shapes_checked),
		cmocka_unit_test(part_count_checked),
		cmocka_unit_test(non_compact_forms_rejected),
		cmocka_unit_test(oversized_token_rejected),
		cmocka_unit_test(sign_bad_input_rejected),
		cmocka_unit_test(key_id_is_thumbprint),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
