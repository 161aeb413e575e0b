// Unit tests of the proxy's JWT verifier: each algorithm, key selection by
// kid, rejected algorithms and keys, time, issuer and audience checks,
// hostile tokens, the cache, and the JWKS reload.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jwt_fixture.h"

#include "policy/value.h"
#include "proxy/authz.h"

#define NOW 1700000000
#define ISSUER "https://issuer.example"

struct fixture {
	char dir[64];
	char jwks_path[128];
	EVP_PKEY *ec256, *ec384, *rsa, *ed, *other;
	struct proxy_jwt_verifier *verifier;
};

static const char *const audiences[] = { "proxy", "api" };

static char *claims_text(int64_t exp, const char *extra)
{
	char *text = malloc(512);

	assert_non_null(text);
	snprintf(text, 512, "{\"iss\":\"" ISSUER "\",\"aud\":\"proxy\",\"sub\":\"alice\",\"exp\":%lld%s}",
		(long long)exp, extra ? extra : "");
	return text;
}

static void write_default_jwks(struct fixture *f)
{
	json_t *jwks[] = {
		fixture_jwk(f->ec256, "ec256", NULL),
		fixture_jwk(f->ec384, "ec384", "ES384"),
		fixture_jwk(f->rsa, "rsa", NULL),
		fixture_jwk(f->ed, "ed", NULL),
	};

	fixture_write_jwks(f->jwks_path, jwks, WD_ARRAY_LEN(jwks));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct proxy_jwt_config config = {
		.issuer = ISSUER,
		.audiences = audiences,
		.audience_count = 2,
		.leeway_seconds = 30,
	};

	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-jwt-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->jwks_path, sizeof(f->jwks_path), "%s/jwks.json", f->dir);
	f->ec256 = fixture_key("EC", "P-256");
	f->ec384 = fixture_key("EC", "P-384");
	f->rsa = fixture_key("RSA", "2048");
	f->ed = fixture_key("ED25519", NULL);
	f->other = fixture_key("EC", "P-256");
	write_default_jwks(f);
	config.jwks_path = f->jwks_path;
	assert_int_equal(proxy_jwt_verifier_new(&config, &f->verifier, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	proxy_jwt_verifier_free(f->verifier);
	EVP_PKEY_free(f->ec256);
	EVP_PKEY_free(f->ec384);
	EVP_PKEY_free(f->rsa);
	EVP_PKEY_free(f->ed);
	EVP_PKEY_free(f->other);
	unlink(f->jwks_path);
	rmdir(f->dir);
	free(f);
	return 0;
}

// Verifies token at NOW and returns the code; on success checks sub.
static int verify_at(struct fixture *f, const char *token, int64_t now, struct wd_error *err)
{
	struct rv *claims = NULL;
	int rc = proxy_jwt_verify(f->verifier, token, strlen(token), now, &claims, err);

	if (rc == 0) {
		assert_non_null(claims);
		assert_string_equal(rv_str(rv_object_get_str(claims, "sub")), "alice");
	} else {
		assert_null(claims);
	}
	rv_unref(claims);
	return rc;
}

static void expect_rejected(struct fixture *f, char *token, int code, const char *detail)
{
	struct wd_error err = { 0 };

	assert_int_equal(verify_at(f, token, NOW, &err), code);
	assert_string_equal(err.detail, detail);
	free(token);
}

static void expect_accepted(struct fixture *f, char *token)
{
	struct wd_error err = { 0 };
	int rc = verify_at(f, token, NOW, &err);

	if (rc != 0)
		fail_msg("token rejected: %s", err.detail);
	free(token);
}

static void each_algorithm_verifies(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW + 60, NULL);

	expect_accepted(f, fixture_token("ES256", "ec256", f->ec256, claims));
	expect_accepted(f, fixture_token("ES384", "ec384", f->ec384, claims));
	expect_accepted(f, fixture_token("RS256", "rsa", f->rsa, claims));
	expect_accepted(f, fixture_token("RS384", "rsa", f->rsa, claims));
	expect_accepted(f, fixture_token("RS512", "rsa", f->rsa, claims));
	expect_accepted(f, fixture_token("PS256", "rsa", f->rsa, claims));
	expect_accepted(f, fixture_token("EdDSA", "ed", f->ed, claims));
	// Without kid every key is tried.
	expect_accepted(f, fixture_token("ES256", NULL, f->ec256, claims));
	expect_accepted(f, fixture_token("EdDSA", NULL, f->ed, claims));
	free(claims);
}

static void claims_become_value(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW + 60, ",\"groups\":[\"admin\",\"dev\"],\"n\":1.5");
	char *token = fixture_token("ES256", "ec256", f->ec256, claims);
	struct rv *value = NULL;
	struct wd_buf json;

	wd_buf_init(&json, 256, 4096);
	assert_int_equal(proxy_jwt_verify(f->verifier, token, strlen(token), NOW, &value, NULL), 0);
	assert_int_equal(rv_write_json(value, &json), 0);
	assert_string_equal(wd_buf_str(&json),
		"{\"aud\":\"proxy\",\"exp\":1700000060,\"groups\":[\"admin\",\"dev\"],"
		"\"iss\":\"https://issuer.example\",\"n\":1.5,\"sub\":\"alice\"}");
	rv_unref(value);
	wd_buf_free(&json);
	free(token);
	free(claims);
}

static void unsafe_algorithms_rejected(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW + 60, NULL);

	expect_rejected(f, fixture_token("none", NULL, NULL, claims), WD_EINVAL,
		"JWT alg \"none\" is not allowed; use RS, PS or ES 256/384/512 or EdDSA");
	expect_rejected(f, fixture_token("HS256", "ec256", NULL, claims), WD_EINVAL,
		"JWT alg \"HS256\" is not allowed; use RS, PS or ES 256/384/512 or EdDSA");
	expect_rejected(f, fixture_token_raw("ES256", f->ec256, "{\"typ\":\"JWT\"}", claims),
		WD_EINVAL, "JWT header alg is missing or not a string");
	expect_rejected(f,
		fixture_token_raw("ES256", f->ec256, "{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}",
			claims),
		WD_EINVAL, "JWT header crit names an unsupported extension");
	free(claims);
}

static void mismatched_keys_rejected(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW + 60, NULL);

	// An RSA alg on an EC key's kid, and ES256 on the P-384 key.
	expect_rejected(f, fixture_token("RS256", "ec256", f->rsa, claims), WD_ECRYPTO,
		"JWT RS256 signature does not verify with any key of its kid");
	expect_rejected(f, fixture_token("ES256", "ec384", f->ec256, claims), WD_ECRYPTO,
		"JWT ES256 signature does not verify with any key of its kid");
	// ES512 needs a P-521 key (RFC 7518 section 3.4), and this JWK names ES384.
	expect_rejected(f, fixture_token("ES512", "ec384", f->ec384, claims), WD_ECRYPTO,
		"JWT ES512 signature does not verify with any key of its kid");
	expect_rejected(f, fixture_token("ES256", "nope", f->ec256, claims), WD_ECRYPTO,
		"no JWKS key has kid \"nope\"");
	expect_rejected(f, fixture_token("ES256", "ec256", f->other, claims), WD_ECRYPTO,
		"JWT ES256 signature does not verify with any key of its kid");
	expect_rejected(f, fixture_token("ES256", NULL, f->other, claims), WD_ECRYPTO,
		"JWT ES256 signature does not verify with any key");
	free(claims);
}

static void time_checks_use_leeway(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW - 10, NULL);
	char *token = fixture_token("ES256", "ec256", f->ec256, claims);
	struct wd_error err = { 0 };

	// exp 10 s ago is inside the 30 s leeway; 31 s later it is not.
	assert_int_equal(verify_at(f, token, NOW, &err), 0);
	assert_int_equal(verify_at(f, token, NOW + 20, &err), WD_EEXPIRED);
	assert_string_equal(err.detail, "JWT expired at 1699999990 (now 1700000020, leeway 30 s)");
	// The cached token is checked again too.
	assert_int_equal(verify_at(f, token, NOW + 19, &err), 0);
	free(token);
	free(claims);

	claims = claims_text(NOW + 600, ",\"nbf\":1700000100");
	token = fixture_token("ES256", "ec256", f->ec256, claims);
	assert_int_equal(verify_at(f, token, NOW, &err), WD_EAUTH);
	assert_string_equal(err.detail, "JWT is not valid before 1700000100 (now 1700000000)");
	assert_int_equal(verify_at(f, token, NOW + 70, &err), 0);
	free(token);
	free(claims);

	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"iss\":\"" ISSUER "\",\"aud\":\"proxy\",\"sub\":\"alice\"}"),
		WD_EINVAL, "JWT claim exp is missing");
	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"iss\":\"" ISSUER "\",\"aud\":\"proxy\",\"exp\":\"soon\"}"),
		WD_EINVAL, "JWT claim exp is not a NumericDate");
}

static void issuer_and_audience_checked(void **state)
{
	struct fixture *f = *state;

	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"iss\":\"https://evil.example\",\"aud\":\"proxy\",\"exp\":1800000000}"),
		WD_EAUTH, "JWT claim iss is not \"https://issuer.example\"");
	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"aud\":\"proxy\",\"exp\":1800000000}"),
		WD_EAUTH, "JWT claim iss is not \"https://issuer.example\"");
	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"iss\":\"" ISSUER "\",\"aud\":\"other\",\"exp\":1800000000}"),
		WD_EAUTH, "JWT claim aud holds none of the configured audiences");
	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"iss\":\"" ISSUER "\",\"exp\":1800000000}"),
		WD_EAUTH, "JWT claim aud holds none of the configured audiences");
	expect_accepted(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"iss\":\"" ISSUER "\",\"sub\":\"alice\",\"aud\":[\"x\",\"api\"],\"exp\":1800000000}"));
}

static void hostile_tokens_rejected(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW + 60, NULL);
	char *token = fixture_token("ES256", "ec256", f->ec256, claims);
	char *big = malloc(PROXY_JWT_MAX_LEN + 2);
	char *tampered;
	char *dot;

	expect_rejected(f, strdup("abc"), WD_EINVAL,
		"JWT has no \".\"; expected header.payload.signature");
	expect_rejected(f, strdup("a.b"), WD_EINVAL, "JWT does not have exactly 3 parts");
	expect_rejected(f, strdup("a.b.c.d"), WD_EINVAL, "JWT does not have exactly 3 parts");
	expect_rejected(f, strdup("..."), WD_EINVAL, "JWT does not have exactly 3 parts");
	expect_rejected(f, strdup("a..c"), WD_EINVAL, "JWT has an empty part");
	expect_rejected(f, strdup("a=.b.c"), WD_EINVAL, "JWT header is not valid base64url");
	expect_rejected(f, strdup("WyJhIl0.b.c"), WD_EINVAL, "JWT header is not a JSON object");
	expect_rejected(f, strdup("bnVsbA.b.c"), WD_EINVAL, "JWT header is not valid JSON at byte 4");
	expect_rejected(f, strdup("e30.e30.c2ln"), WD_EINVAL, "JWT header alg is missing or not a string");
	// Duplicate claim names are refused even when signed.
	expect_rejected(f, fixture_token("ES256", "ec256", f->ec256,
				   "{\"exp\":1800000000,\"sub\":\"a\",\"sub\":\"b\"}"),
		WD_EINVAL, "JWT payload is not valid JSON at byte 33");

	// A payload swapped under a valid signature.
	tampered = strdup(token);
	dot = strchr(tampered, '.') + 1;
	dot[2] = dot[2] == 'A' ? 'B' : 'A';
	expect_rejected(f, tampered, WD_ECRYPTO,
		"JWT ES256 signature does not verify with any key of its kid");

	memset(big, 'a', PROXY_JWT_MAX_LEN + 1);
	big[PROXY_JWT_MAX_LEN + 1] = '\0';
	expect_rejected(f, big, WD_ETOOBIG, "JWT is 16385 bytes; the limit is 16384");
	free(token);
	free(claims);
}

static void bad_jwks_files_rejected(void **state)
{
	struct fixture *f = *state;
	struct proxy_jwt_config config = { .jwks_path = f->jwks_path };
	struct proxy_jwt_verifier *verifier = NULL;
	struct wd_error err = { 0 };
	EVP_PKEY *small = fixture_key("RSA", "1024");
	json_t *jwks[1];
	FILE *file;

	jwks[0] = json_pack("{s:s, s:s}", "kty", "oct", "k", "c2VjcmV0");
	fixture_write_jwks(f->jwks_path, jwks, 1);
	assert_int_equal(proxy_jwt_verifier_new(&config, &verifier, &err), WD_EINVAL);
	assert_null(verifier);
	assert_non_null(strstr(err.detail, "key 0 is symmetric (kty oct)"));

	jwks[0] = fixture_jwk(small, "small", NULL);
	fixture_write_jwks(f->jwks_path, jwks, 1);
	assert_int_equal(proxy_jwt_verifier_new(&config, &verifier, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "key 0 is RSA-1024; at least 2048 bits are required"));

	file = fopen(f->jwks_path, "w");
	fputs("{\"keys\": [", file);
	fclose(file);
	assert_int_equal(proxy_jwt_verifier_new(&config, &verifier, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "is invalid: failed to unmarshal JSON"));

	fixture_write_jwks(f->jwks_path, jwks, 0);
	assert_int_equal(proxy_jwt_verifier_new(&config, &verifier, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "holds no keys"));

	config.jwks_path = "/nonexistent/jwks.json";
	assert_int_equal(proxy_jwt_verifier_new(&config, &verifier, &err), WD_ENOTFOUND);
	config.jwks_path = NULL;
	assert_int_equal(proxy_jwt_verifier_new(&config, &verifier, &err), WD_ECONFIG);

	EVP_PKEY_free(small);
	write_default_jwks(f);
}

static void jwks_reloads_on_change(void **state)
{
	struct fixture *f = *state;
	char *claims = claims_text(NOW + 60, NULL);
	char *token = fixture_token("ES256", "new", f->other, claims);
	char *old_token = fixture_token("ES256", "ec256", f->ec256, claims);
	json_t *jwks[1];
	struct wd_error err = { 0 };

	assert_int_equal(verify_at(f, old_token, NOW, &err), 0);
	assert_int_equal(verify_at(f, token, NOW, &err), WD_ECRYPTO);

	// The new file replaces the keys; the cached old token goes with them.
	jwks[0] = fixture_jwk(f->other, "new", NULL);
	fixture_write_jwks(f->jwks_path, jwks, 1);
	usleep(1100 * 1000);
	assert_int_equal(verify_at(f, token, NOW, &err), 0);
	assert_int_equal(verify_at(f, old_token, NOW, &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "no JWKS key has kid \"ec256\"");

	// A broken file keeps the last good keys.
	{
		FILE *file = fopen(f->jwks_path, "w");

		fputs("not json", file);
		fclose(file);
	}
	usleep(1100 * 1000);
	assert_int_equal(verify_at(f, token, NOW, &err), 0);

	write_default_jwks(f);
	usleep(1100 * 1000);
	assert_int_equal(verify_at(f, old_token, NOW, &err), 0);
	free(token);
	free(old_token);
	free(claims);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_algorithm_verifies),
		cmocka_unit_test(claims_become_value),
		cmocka_unit_test(unsafe_algorithms_rejected),
		cmocka_unit_test(mismatched_keys_rejected),
		cmocka_unit_test(time_checks_use_leeway),
		cmocka_unit_test(issuer_and_audience_checked),
		cmocka_unit_test(hostile_tokens_rejected),
		cmocka_unit_test(bad_jwks_files_rejected),
		cmocka_unit_test(jwks_reloads_on_change),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
