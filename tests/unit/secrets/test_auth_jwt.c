/* JWT auth: config and role endpoints, logins with JWT-SVIDs of the trust
 * domain, and logins with JWTs signed by a configured key, checked against
 * issuer, subject, audience, bound claims and time leeways. */
#include "token_fixture.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/encoding.h"
#include "crypto/jwk.h"
#include "crypto/key.h"
#include "identity/jwtsvid.h"
#include "secrets/auth_jwt_internal.h"

/* Writes an ES256 JWT of claims signed with key, with header alg (which
 * may lie about the key, to test refusals). */
static char *sign_jwt(EVP_PKEY *key, const char *alg, json_t *claims)
{
	json_t *header = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
	char *header_text = json_dumps(header, JSON_COMPACT);
	char *claims_text = json_dumps(claims, JSON_COMPACT);
	char *header_b64 = NULL, *claims_b64 = NULL, *sig_b64 = NULL, *token;
	uint8_t der[128], raw[64];
	size_t der_len = sizeof(der), input_len;
	char input[4096];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_int_equal(wd_base64url_encode((const uint8_t *)header_text, strlen(header_text),
		&header_b64), 0);
	assert_int_equal(wd_base64url_encode((const uint8_t *)claims_text, strlen(claims_text),
		&claims_b64), 0);
	input_len = (size_t)snprintf(input, sizeof(input), "%s.%s", header_b64, claims_b64);

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &der_len, (const uint8_t *)input, input_len), 1);
	assert_int_equal(crypto_ecdsa_sig_der_to_raw(der, der_len, 32, raw, sizeof(raw)), 0);
	assert_int_equal(wd_base64url_encode(raw, sizeof(raw), &sig_b64), 0);

	token = malloc(input_len + strlen(sig_b64) + 2);
	assert_non_null(token);
	snprintf(token, input_len + strlen(sig_b64) + 2, "%s.%s", input, sig_b64);

	EVP_MD_CTX_free(ctx);
	free(header_b64);
	free(claims_b64);
	free(sig_b64);
	free(header_text);
	free(claims_text);
	json_decref(header);
	return token;
}

static char *public_pem(EVP_PKEY *key)
{
	char *pem = NULL;

	assert_int_equal(crypto_pubkey_to_pem(key, &pem, NULL), 0);
	return pem;
}

static char *svid_jwt(struct fixture *f, const char *spiffe_id, const char *audience)
{
	struct spiffe_id id;
	const char *audiences[] = { audience };
	char *token = NULL;
	int64_t expires_at = 0;

	assert_int_equal(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, NULL), 0);
	assert_int_equal(authority_sign_jwt(f->authority, &id, audiences, 1, 300,
		(int64_t)time(NULL), &token, &expires_at, &f->err), 0);
	return token;
}

static void write_role(struct fixture *f, const char *name, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), "auth/jwt/role/%s", name);
	call_ok(f, VAULT_OP_UPDATE, path, body, ROOT_TOKEN);
}

/* Logs in with role (NULL: none given) and jwt; c keeps the reply. */
static int login(struct fixture *f, struct call *c, const char *role, const char *jwt)
{
	json_t *body = json_object();
	char *text;
	int rc;

	if (role)
		json_object_set_new(body, "role", json_string(role));
	if (jwt)
		json_object_set_new(body, "jwt", json_string(jwt));
	text = json_dumps(body, 0);
	rc = call_backend(f, c, VAULT_OP_UPDATE, "auth/jwt/login", text, NULL);
	free(text);
	json_decref(body);
	return rc;
}

static void test_role_validation(void **state)
{
	struct fixture *f = *state;
	struct call c;
	static const struct {
		const char *body;
		const char *message;
	} cases[] = {
		{ "{\"user_claim\": \"sub\", \"bound_audiences\": \"vault\"}",
			"role_type \"oidc\" (the default) is not supported; set role_type to \"jwt\"" },
		{ "{\"role_type\": \"oidc\", \"user_claim\": \"sub\"}",
			"role_type \"oidc\" (the default) is not supported; set role_type to \"jwt\"" },
		{ "{\"role_type\": \"saml\"}", "invalid 'role_type': \"saml\"" },
		{ "{\"role_type\": \"jwt\", \"bound_audiences\": \"vault\"}",
			"a user claim must be defined on the role" },
		{ "{\"role_type\": \"jwt\", \"user_claim\": \"sub\"}",
			"must have at least one bound constraint when creating/updating a role" },
		{ "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", \"bound_subject\": \"x\", "
		  "\"bound_claims_type\": \"regex\"}", "invalid 'bound_claims_type': \"regex\"" },
		{ "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", \"bound_claims\": {\"g\": 5}}",
			"bound_claims[\"g\"] must be a string or a list of at most 256 strings" },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		call_backend(f, &c, VAULT_OP_UPDATE, "auth/jwt/role/web", cases[i].body, ROOT_TOKEN);
		assert_call_error(&c, WD_EINVAL, cases[i].message);
		call_clear(&c);
	}
}

static void test_role_crud(void **state)
{
	struct fixture *f = *state;
	struct call c;

	write_role(f, "web", "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", "
		"\"bound_audiences\": [\"vault\"], \"bound_claims\": {\"team\": [\"a\", \"b\"]}, "
		"\"token_policies\": [\"web\"], \"token_ttl\": 600, \"clock_skew_leeway\": -1}");
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/jwt/role/web", NULL,
		ROOT_TOKEN), 0);
	assert_string_equal(json_str(c.resp.data, "role_type"), "jwt");
	assert_string_equal(json_str(c.resp.data, "user_claim"), "sub");
	assert_string_list(json_object_get(c.resp.data, "bound_audiences"), "vault", NULL);
	assert_string_list(json_object_get(json_object_get(c.resp.data, "bound_claims"), "team"),
		"a", "b", NULL);
	assert_string_equal(json_str(c.resp.data, "bound_claims_type"), "string");
	assert_int_equal(json_int(c.resp.data, "clock_skew_leeway"), -1);
	assert_int_equal(json_int(c.resp.data, "token_ttl"), 600);
	call_clear(&c);

	/* An update without role_type keeps the jwt type. */
	write_role(f, "web", "{\"bound_subject\": \"spiffe://example.org/web\"}");
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/jwt/role/web", NULL,
		ROOT_TOKEN), 0);
	assert_string_equal(json_str(c.resp.data, "bound_subject"), "spiffe://example.org/web");
	call_clear(&c);

	assert_int_equal(call_backend(f, &c, VAULT_OP_LIST, "auth/jwt/role/", NULL, ROOT_TOKEN),
		0);
	assert_string_list(json_object_get(c.resp.data, "keys"), "web", NULL);
	call_clear(&c);

	call_ok(f, VAULT_OP_DELETE, "auth/jwt/role/web", NULL, ROOT_TOKEN);
	call_backend(f, &c, VAULT_OP_READ, "auth/jwt/role/web", NULL, ROOT_TOKEN);
	assert_int_equal(c.rc, WD_ENOTFOUND);
	call_clear(&c);
}

static void test_login_with_jwt_svid(void **state)
{
	struct fixture *f = *state;
	char *jwt = svid_jwt(f, "spiffe://example.org/web", "vault");
	struct vault_token *token = NULL;
	const json_t *meta;
	struct call c;

	write_role(f, "web", "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", "
		"\"bound_audiences\": \"vault\", \"token_policies\": \"web\", \"token_ttl\": 600}");
	assert_int_equal(login(f, &c, "web", jwt), 0);
	assert_string_list(json_object_get(c.resp.auth, "policies"), "default", "web", NULL);
	assert_int_equal(json_int(c.resp.auth, "lease_duration"), 600);
	meta = json_object_get(c.resp.auth, "metadata");
	assert_string_equal(json_str(meta, "role"), "web");
	assert_string_equal(json_str(meta, "sub"), "spiffe://example.org/web");
	/* The server finds the tokens of a revoked workload by this key. */
	assert_string_equal(json_str(meta, "spiffe_id"), "spiffe://example.org/web");
	assert_int_equal(json_object_size(meta), 3);

	assert_int_equal(token_lookup(f->secrets, json_str(c.resp.auth, "client_token"), &token,
		&f->err), 0);
	assert_string_equal(token->display_name, "jwt-spiffe://example.org/web");
	assert_string_equal(token->path, "auth/jwt/login");
	token_free(token);
	call_clear(&c);
	free(jwt);
}

static void test_jwt_svid_rejections(void **state)
{
	struct fixture *f = *state;
	char *other_aud = svid_jwt(f, "spiffe://example.org/web", "other");
	char *good = svid_jwt(f, "spiffe://example.org/web", "vault");
	char *tampered = strdup(good);
	struct call c;

	write_role(f, "web", "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", "
		"\"bound_audiences\": \"vault\", \"bound_subject\": \"spiffe://example.org/web\"}");
	write_role(f, "subject-only", "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", "
		"\"bound_subject\": \"spiffe://example.org/web\"}");
	write_role(f, "db", "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", "
		"\"bound_audiences\": \"vault\", \"bound_subject\": \"spiffe://example.org/db\"}");

	login(f, &c, "web", other_aud);
	assert_call_error(&c, WD_EINVAL, "error validating token: invalid audience (aud) claim: "
		"audience claim does not match any expected audience");
	call_clear(&c);

	login(f, &c, "subject-only", good);
	assert_call_error(&c, WD_EINVAL,
		"audience claim found in JWT but no audiences bound to the role");
	call_clear(&c);

	login(f, &c, "db", good);
	assert_call_error(&c, WD_EINVAL, "error validating token: invalid subject (sub) claim");
	call_clear(&c);

	/* One changed signature byte. */
	tampered[strlen(tampered) - 2] = tampered[strlen(tampered) - 2] == 'A' ? 'B' : 'A';
	login(f, &c, "web", tampered);
	assert_call_error(&c, WD_EINVAL, "error validating token: JWT-SVID ES256 signature is "
		"invalid");
	call_clear(&c);

	login(f, &c, "web", "not.a-jwt");
	assert_call_error(&c, WD_EINVAL, "error validating token: token is not a compact JWS");
	call_clear(&c);

	login(f, &c, "web", NULL);
	assert_call_error(&c, WD_EINVAL, "missing token");
	call_clear(&c);

	login(f, &c, NULL, good);
	assert_call_error(&c, WD_EINVAL, "missing role");
	call_clear(&c);

	login(f, &c, "nobody", good);
	assert_call_error(&c, WD_EINVAL, "role \"nobody\" could not be found");
	call_clear(&c);

	free(tampered);
	free(good);
	free(other_aud);
}

/* A mount configured with one EC key, and a role that binds claims. */
struct keyed {
	EVP_PKEY *key;
	EVP_PKEY *stranger;
	int64_t now;
};

static void keyed_setup(struct fixture *f, struct keyed *k)
{
	char *pem;
	json_t *config;
	char *text;

	k->now = (int64_t)time(NULL);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &k->key, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &k->stranger, NULL), 0);
	pem = public_pem(k->key);
	config = json_pack("{s:[s], s:s, s:s}", "jwt_validation_pubkeys", pem, "bound_issuer",
		"https://issuer.example", "default_role", "ops");
	text = json_dumps(config, 0);
	call_ok(f, VAULT_OP_UPDATE, "auth/jwt/config", text, ROOT_TOKEN);
	free(text);
	json_decref(config);
	free(pem);

	write_role(f, "ops", "{\"role_type\": \"jwt\", \"user_claim\": \"email\", "
		"\"bound_audiences\": \"vault\", \"bound_claims\": {\"groups\": [\"admins\"], "
		"\"/org/team\": \"infra\"}, \"token_policies\": \"ops\"}");
}

static void keyed_free(struct keyed *k)
{
	EVP_PKEY_free(k->key);
	EVP_PKEY_free(k->stranger);
}

/* Claims the "ops" role accepts, at now + exp_offset. */
static json_t *ops_claims(const struct keyed *k, int64_t exp_offset)
{
	return json_pack("{s:s, s:s, s:s, s:[s, s], s:{s:s}, s:I, s:I}",
		"iss", "https://issuer.example",
		"aud", "vault",
		"email", "ana@example.org",
		"groups", "devs", "admins",
		"org", "team", "infra",
		"exp", (json_int_t)(k->now + exp_offset),
		"iat", (json_int_t)k->now);
}

/* Signs claims with key and logs in with the default role. */
static void keyed_login(struct fixture *f, struct call *c, EVP_PKEY *key, json_t *claims)
{
	char *jwt = sign_jwt(key, "ES256", claims);

	login(f, c, NULL, jwt);
	free(jwt);
	json_decref(claims);
}

static void test_login_with_configured_key(void **state)
{
	struct fixture *f = *state;
	struct keyed k;
	struct call c;

	keyed_setup(f, &k);
	keyed_login(f, &c, k.key, ops_claims(&k, 300));
	if (c.rc != 0)
		fail_msg("login: %s", c.err.detail);
	assert_string_equal(json_str(json_object_get(c.resp.auth, "metadata"), "email"),
		"ana@example.org");
	assert_string_equal(json_str(json_object_get(c.resp.auth, "metadata"), "role"), "ops");
	/* A JWT of a configured key is no JWT-SVID of the trust domain. */
	assert_null(json_object_get(json_object_get(c.resp.auth, "metadata"), "spiffe_id"));
	assert_string_list(json_object_get(c.resp.auth, "policies"), "default", "ops", NULL);
	call_clear(&c);

	/* Expired 100 s ago: inside the default 60 s skew + 150 s leeway. */
	keyed_login(f, &c, k.key, ops_claims(&k, -100));
	assert_int_equal(c.rc, 0);
	call_clear(&c);
	keyed_free(&k);
}

static void test_configured_key_rejections(void **state)
{
	struct fixture *f = *state;
	struct keyed k;
	struct call c;
	json_t *claims;

	keyed_setup(f, &k);

	keyed_login(f, &c, k.stranger, ops_claims(&k, 300));
	assert_call_error(&c, WD_EINVAL, "error validating token: no known key successfully "
		"validated the token signature");
	call_clear(&c);

	keyed_login(f, &c, k.key, ops_claims(&k, -1000));
	assert_call_error(&c, WD_EINVAL, "error validating token: token is expired (exp)");
	call_clear(&c);

	claims = ops_claims(&k, 300);
	json_object_set_new(claims, "nbf", json_integer(k.now + 1000));
	keyed_login(f, &c, k.key, claims);
	assert_call_error(&c, WD_EINVAL, "error validating token: token not valid yet (nbf)");
	call_clear(&c);

	claims = ops_claims(&k, 300);
	json_object_set_new(claims, "iss", json_string("https://evil.example"));
	keyed_login(f, &c, k.key, claims);
	assert_call_error(&c, WD_EINVAL, "error validating token: invalid issuer (iss) claim");
	call_clear(&c);

	claims = ops_claims(&k, 300);
	json_object_del(claims, "groups");
	keyed_login(f, &c, k.key, claims);
	assert_call_error(&c, WD_EINVAL, "error validating claims: claim \"groups\" is missing");
	call_clear(&c);

	claims = ops_claims(&k, 300);
	json_object_set_new(claims, "org", json_pack("{s:s}", "team", "web"));
	keyed_login(f, &c, k.key, claims);
	assert_call_error(&c, WD_EINVAL, "error validating claims: claim \"/org/team\" does not "
		"match any associated bound claim values");
	call_clear(&c);

	claims = ops_claims(&k, 300);
	json_object_del(claims, "email");
	keyed_login(f, &c, k.key, claims);
	assert_call_error(&c, WD_EINVAL, "claim \"email\" not found in token");
	call_clear(&c);

	/* A header that names another algorithm than the key's. */
	claims = ops_claims(&k, 300);
	{
		char *jwt = sign_jwt(k.key, "RS256", claims);

		login(f, &c, "ops", jwt);
		free(jwt);
	}
	json_decref(claims);
	assert_call_error(&c, WD_EINVAL, "error validating token: no known key successfully "
		"validated the token signature");
	call_clear(&c);

	claims = ops_claims(&k, 300);
	{
		char *jwt = sign_jwt(k.key, "none", claims);

		login(f, &c, "ops", jwt);
		free(jwt);
	}
	json_decref(claims);
	assert_call_error(&c, WD_EINVAL,
		"error validating token: unsupported signing algorithm \"none\"");
	call_clear(&c);
	keyed_free(&k);
}

static void test_glob_bound_claims(void **state)
{
	struct fixture *f = *state;
	struct keyed k;
	struct call c;
	json_t *claims;

	keyed_setup(f, &k);
	write_role(f, "ops", "{\"bound_claims_type\": \"glob\", \"bound_claims\": "
		"{\"email\": \"*@example.org\"}}");

	keyed_login(f, &c, k.key, ops_claims(&k, 300));
	assert_int_equal(c.rc, 0);
	call_clear(&c);

	claims = ops_claims(&k, 300);
	json_object_set_new(claims, "email", json_string("eve@example.com"));
	keyed_login(f, &c, k.key, claims);
	assert_call_error(&c, WD_EINVAL, "error validating claims: claim \"email\" does not "
		"match any associated bound claim values");
	call_clear(&c);
	keyed_free(&k);
}

static void test_config_endpoint(void **state)
{
	struct fixture *f = *state;
	struct call c;

	/* No config yet reads as not found. */
	call_backend(f, &c, VAULT_OP_READ, "auth/jwt/config", NULL, ROOT_TOKEN);
	assert_int_equal(c.rc, WD_ENOTFOUND);
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/jwt/config",
		"{\"jwks_url\": \"https://issuer.example/keys\"}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "jwks_url is not supported: set jwt_validation_pubkeys, "
		"or leave it empty to use the trust domain's JWT authorities");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/jwt/config",
		"{\"jwt_validation_pubkeys\": [\"garbage\"]}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL,
		"jwt_validation_pubkeys[0] is not a PEM public key or certificate");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/jwt/config",
		"{\"jwt_supported_algs\": [\"HS256\"]}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "jwt_supported_algs[0] \"HS256\" is not supported; use "
		"RS, PS or ES with 256, 384 or 512");
	call_clear(&c);

	call_ok(f, VAULT_OP_UPDATE, "auth/jwt/config",
		"{\"bound_issuer\": \"https://issuer.example\", \"jwt_supported_algs\": \"ES256\"}",
		ROOT_TOKEN);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/jwt/config", NULL, ROOT_TOKEN),
		0);
	assert_string_equal(json_str(c.resp.data, "bound_issuer"), "https://issuer.example");
	assert_string_list(json_object_get(c.resp.data, "jwt_supported_algs"), "ES256", NULL);
	assert_string_list(json_object_get(c.resp.data, "jwt_validation_pubkeys"), NULL);
	call_clear(&c);
}

static void test_supported_algs_limit_svids(void **state)
{
	struct fixture *f = *state;
	char *jwt = svid_jwt(f, "spiffe://example.org/web", "vault");
	struct call c;

	write_role(f, "web", "{\"role_type\": \"jwt\", \"user_claim\": \"sub\", "
		"\"bound_audiences\": \"vault\"}");
	call_ok(f, VAULT_OP_UPDATE, "auth/jwt/config", "{\"jwt_supported_algs\": [\"RS256\"]}",
		ROOT_TOKEN);
	login(f, &c, "web", jwt);
	assert_call_error(&c, WD_EINVAL,
		"error validating token: unsupported signing algorithm \"ES256\"");
	call_clear(&c);
	free(jwt);
}

static void test_claim_lookup(void **state)
{
	json_t *claims = json_loads("{\"a\": {\"b/c\": [\"x\", \"y\"], \"t~\": 7}, \"n\": 42}", 0,
		NULL);
	char text[32];

	(void)state;
	assert_non_null(claims);
	assert_string_equal(json_string_value(jwt_claim_get(claims, "/a/b~1c/1")), "y");
	assert_int_equal(json_integer_value(jwt_claim_get(claims, "/a/t~0")), 7);
	assert_null(jwt_claim_get(claims, "/a/missing"));
	assert_null(jwt_claim_get(claims, "/a/b~1c/01"));
	assert_int_equal(jwt_user_claim(claims, "n", text, sizeof(text), NULL), 0);
	assert_string_equal(text, "42");
	assert_int_equal(jwt_user_claim(claims, "a", text, sizeof(text), NULL), WD_EINVAL);
	json_decref(claims);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_role_validation),
		TEST(test_role_crud),
		TEST(test_login_with_jwt_svid),
		TEST(test_jwt_svid_rejections),
		TEST(test_login_with_configured_key),
		TEST(test_configured_key_rejections),
		TEST(test_glob_bound_claims),
		TEST(test_config_endpoint),
		TEST(test_supported_algs_limit_svids),
		cmocka_unit_test(test_claim_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
