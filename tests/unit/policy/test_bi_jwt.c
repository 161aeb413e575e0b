/* Unit tests of the io.jwt.* builtins with keys made here: decoding and its
 * errors, signing with every algorithm and verifying with PEM keys,
 * certificates and JWK sets, and decode_verify's constraints. */
#include "test_bi_jwt_keys.h"

#define BIE "eval_builtin_error"
#define TYE "eval_type_error"

/* A token with the given header and payload JSON and signature bytes. */
static void make_token(struct wd_buf *out, const char *header, const char *payload,
		       const uint8_t *sig, size_t sig_len)
{
	tk_b64url(out, (const uint8_t *)header, strlen(header));
	assert_int_equal(wd_buf_append_byte(out, '.'), 0);
	tk_b64url(out, (const uint8_t *)payload, strlen(payload));
	assert_int_equal(wd_buf_append_byte(out, '.'), 0);
	tk_b64url(out, sig, sig_len);
}

/* An HS256 token signed here with OpenSSL's HMAC. */
static void make_hs256(struct wd_buf *out, const char *header, const char *payload,
		       const char *secret)
{
	uint8_t mac[32];
	unsigned int mac_len = 0;

	make_token(out, header, payload, (const uint8_t *)"", 0);
	wd_buf_truncate(out, wd_buf_len(out) - 1);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), wd_buf_data(out),
			     wd_buf_len(out), mac, &mac_len));
	assert_int_equal(wd_buf_append_byte(out, '.'), 0);
	tk_b64url(out, mac, mac_len);
}

/* Builds the JSON array of string arguments. */
static void string_args(struct wd_buf *out, size_t count, ...)
{
	va_list ap;

	va_start(ap, count);
	assert_int_equal(wd_buf_append_byte(out, '['), 0);
	for (size_t i = 0; i < count; i++) {
		if (i)
			assert_int_equal(wd_buf_append_byte(out, ','), 0);
		tb_json_string(out, va_arg(ap, const char *));
	}
	assert_int_equal(wd_buf_append_byte(out, ']'), 0);
	va_end(ap);
}

static struct tb_result res;

static const char *call_strings(const char *name, size_t count, ...)
{
	struct wd_buf args;
	va_list ap;

	wd_buf_init(&args, 1024, 1 << 20);
	va_start(ap, count);
	assert_int_equal(wd_buf_append_byte(&args, '['), 0);
	for (size_t i = 0; i < count; i++) {
		if (i)
			assert_int_equal(wd_buf_append_byte(&args, ','), 0);
		tb_json_string(&args, va_arg(ap, const char *));
	}
	assert_int_equal(wd_buf_append_byte(&args, ']'), 0);
	va_end(ap);
	tb_call(name, wd_buf_str(&args), &res);
	wd_buf_free(&args);
	return res.rc == 0 ? res.json : res.message;
}

static void decode_token_parts(void **state)
{
	struct wd_buf token, args;
	static const uint8_t sig[] = { 0x01, 0x02, 0xfe };

	(void)state;
	wd_buf_init(&token, 256, 4096);
	wd_buf_init(&args, 256, 4096);
	make_token(&token, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
		   "{\"sub\":\"svc\",\"n\":1.5,\"k\":{\"a\":[1,\"1\"]},\"sub\":\"last\"}", sig,
		   sizeof(sig));
	string_args(&args, 1, wd_buf_str(&token));
	/* A repeated claim keeps its last value, as Go's JSON decoder does. */
	tb_expect("io.jwt.decode", wd_buf_str(&args),
		  "[{\"alg\":\"HS256\",\"typ\":\"JWT\"},{\"k\":{\"a\":[1,\"1\"]},\"n\":1.5,\"sub\":\"last\"},"
		  "\"0102fe\"]");
	wd_buf_free(&token);
	wd_buf_free(&args);
}

static void decode_nested_token(void **state)
{
	struct wd_buf inner, outer, quoted, args;

	(void)state;
	wd_buf_init(&inner, 256, 4096);
	wd_buf_init(&outer, 256, 4096);
	wd_buf_init(&quoted, 256, 4096);
	wd_buf_init(&args, 256, 4096);
	make_token(&inner, "{\"alg\":\"none\"}", "{\"inner\":true}", (const uint8_t *)"", 0);
	/* jwt.io quotes the nested token; the quotes are stripped. */
	assert_int_equal(wd_buf_appendf(&quoted, "\"%s\"", wd_buf_str(&inner)), 0);
	make_token(&outer, "{\"alg\":\"HS256\",\"cty\":\"JWT\"}", wd_buf_str(&quoted),
		   (const uint8_t *)"x", 1);
	string_args(&args, 1, wd_buf_str(&outer));
	tb_expect("io.jwt.decode", wd_buf_str(&args), "[{\"alg\":\"none\"},{\"inner\":true},\"\"]");
	wd_buf_free(&inner);
	wd_buf_free(&outer);
	wd_buf_free(&quoted);
	wd_buf_free(&args);
}

static void decode_errors(void **state)
{
	(void)state;
	tb_expect_error("io.jwt.decode", "[\"abc\"]", BIE,
			"io.jwt.decode: encoded JWT had no period separators");
	tb_expect_error("io.jwt.decode", "[\"a.b\"]", BIE,
			"io.jwt.decode: encoded JWT must have 3 sections, found 2");
	tb_expect_error("io.jwt.decode", "[\"a.b.c.d\"]", BIE,
			"io.jwt.decode: encoded JWT must have 3 sections, found 4");
	/* "eyJh" decodes to '{"a'; the '$' is the fifth character. */
	tb_expect_error("io.jwt.decode", "[\"eyJh$Zw.e30.\"]", BIE,
			"io.jwt.decode: JWT header had invalid encoding: illegal base64 data at "
			"input byte 4");
	/* The JSON parser's own detail follows the prefix. */
	tb_call("io.jwt.decode", "[\"eyJhbGci.e30.\"]", &res);
	assert_true(res.rc < 0);
	assert_string_equal(res.code, BIE);
	assert_memory_equal(res.message, "io.jwt.decode: bad JWT header: invalid JSON: ", 44);
	tb_expect_error("io.jwt.decode", "[\"W10.e30.\"]", BIE,
			"io.jwt.decode: bad JWT header: decoded JSON type was not an Object");
	/* {"enc":"A128GCM"} */
	tb_expect_error("io.jwt.decode", "[\"eyJlbmMiOiJBMTI4R0NNIn0.e30.\"]", BIE,
			"io.jwt.decode: JWT is a JWE object, which is not supported");
	tb_expect_error("io.jwt.decode", "[\"e30.e30xx.\"]", BIE,
			"io.jwt.decode: JWT payload had invalid encoding: illegal base64url string: "
			"e30xx");
	tb_expect_error("io.jwt.decode", "[\"e30.e30.A\"]", BIE,
			"io.jwt.decode: JWT signature had invalid encoding: illegal base64url "
			"string: A");
	tb_expect_error("io.jwt.decode", "[1]", TYE,
			"io.jwt.decode: operand 1 must be string but got number");

	/* Input past the 16 MiB ceiling is rejected before decoding. */
	{
		size_t len = (16u << 20) + 1;
		char *big = malloc(len);
		struct rv *args = rv_array_new(1);

		assert_non_null(big);
		memset(big, 'a', len);
		big[len / 2] = '.';
		big[len / 2 + 1] = '.';
		assert_int_equal(rv_array_push(args, rv_string(big, len)), 0);
		tb_call_values("io.jwt.decode", args, &res);
		assert_true(res.rc < 0);
		assert_string_equal(res.message,
				    "io.jwt.decode: encoded JWT is longer than 16777216 bytes");
		rv_unref(args);
		free(big);
	}
}

static void verify_hmac(void **state)
{
	struct wd_buf token;

	(void)state;
	wd_buf_init(&token, 256, 4096);
	make_hs256(&token, "{\"alg\":\"HS256\"}", "{\"sub\":\"svc\"}", "s3cr3t");
	assert_string_equal(call_strings("io.jwt.verify_hs256", 2, wd_buf_str(&token), "s3cr3t"),
			    "true");
	assert_string_equal(call_strings("io.jwt.verify_hs256", 2, wd_buf_str(&token), "s3cr3T"),
			    "false");
	assert_string_equal(call_strings("io.jwt.verify_hs384", 2, wd_buf_str(&token), "s3cr3t"),
			    "false");
	assert_string_equal(call_strings("io.jwt.verify_hs256", 2, "a.b", "s3cr3t"),
			    "io.jwt.verify_hs256: encoded JWT must have 3 sections, found 2");
	/* The secret never appears in a message. */
	assert_string_equal(call_strings("io.jwt.verify_hs512", 2, "e30.e30.A", "s3cr3t"),
			    "io.jwt.verify_hs512: illegal base64url string: A");
	wd_buf_free(&token);
}

struct alg_case {
	const char *alg, *verify, *type, *param;
};

static const struct alg_case alg_cases[] = {
	{ "RS256", "io.jwt.verify_rs256", "RSA", "2048" },
	{ "RS384", "io.jwt.verify_rs384", "RSA", "2048" },
	{ "RS512", "io.jwt.verify_rs512", "RSA", "2048" },
	{ "PS256", "io.jwt.verify_ps256", "RSA", "2048" },
	{ "PS384", "io.jwt.verify_ps384", "RSA", "2048" },
	{ "PS512", "io.jwt.verify_ps512", "RSA", "2048" },
	{ "ES256", "io.jwt.verify_es256", "EC", "P-256" },
	{ "ES384", "io.jwt.verify_es384", "EC", "P-384" },
	{ "ES512", "io.jwt.verify_es512", "EC", "P-521" },
	{ "EdDSA", "io.jwt.verify_eddsa", "ED25519", NULL },
};

/* Checks an RS256 or ES256 token's signature with OpenSSL directly. */
static void check_with_openssl(const char *token, EVP_PKEY *key, const struct alg_case *c)
{
	const char *last = strrchr(token, '.');
	uint8_t *sig = NULL, *der = NULL;
	size_t sig_len = 0;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	ECDSA_SIG *esig = NULL;
	int der_len;

	assert_int_equal(wd_base64url_decode(last + 1, strlen(last + 1), &sig, &sig_len), 0);
	if (strcmp(c->alg, "ES256") == 0) {
		assert_int_equal(sig_len, 64);
		esig = ECDSA_SIG_new();
		ECDSA_SIG_set0(esig, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		der_len = i2d_ECDSA_SIG(esig, &der);
		assert_true(der_len > 0);
		free(sig);
		sig = OPENSSL_memdup(der, (size_t)der_len);
		sig_len = (size_t)der_len;
	}
	assert_int_equal(EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(mctx, sig, sig_len, (const uint8_t *)token,
					  (size_t)(last - token)), 1);
	if (esig)
		OPENSSL_free(sig);
	else
		free(sig);
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	EVP_MD_CTX_free(mctx);
}

static void sign_and_verify_each_alg(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(alg_cases) / sizeof(alg_cases[0]); i++) {
		const struct alg_case *c = &alg_cases[i];
		EVP_PKEY *key = tk_generate(c->type, c->param);
		EVP_PKEY *other = tk_generate(c->type, c->param);
		X509 *cert = tk_certificate(key, key, "signer", "signer", false, NULL);
		struct wd_buf jwk, pub, other_pub, cert_pem, header, token;

		wd_buf_init(&jwk, 1024, 1 << 16);
		wd_buf_init(&pub, 1024, 1 << 16);
		wd_buf_init(&other_pub, 1024, 1 << 16);
		wd_buf_init(&cert_pem, 1024, 1 << 16);
		wd_buf_init(&header, 64, 256);
		wd_buf_init(&token, 1024, 1 << 16);
		tk_jwk(&jwk, key, true, NULL, NULL);
		tk_public_pem(&pub, key);
		tk_public_pem(&other_pub, other);
		tk_cert_pem(&cert_pem, cert);
		assert_int_equal(wd_buf_appendf(&header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", c->alg),
				 0);

		call_strings("io.jwt.encode_sign_raw", 3, wd_buf_str(&header),
			     "{\"iss\":\"warden\"}", wd_buf_str(&jwk));
		if (res.rc != 0)
			fail_msg("%s: %s", c->alg, res.message);
		/* The result is a JSON string: drop its quotes. */
		assert_int_equal(wd_buf_append(&token, res.json + 1, strlen(res.json) - 2), 0);

		assert_string_equal(call_strings(c->verify, 2, wd_buf_str(&token), wd_buf_str(&pub)),
				    "true");
		assert_string_equal(call_strings(c->verify, 2, wd_buf_str(&token),
						 wd_buf_str(&cert_pem)),
				    "true");
		assert_string_equal(call_strings(c->verify, 2, wd_buf_str(&token),
						 wd_buf_str(&other_pub)),
				    "false");
		if (strcmp(c->alg, "RS256") == 0 || strcmp(c->alg, "ES256") == 0)
			check_with_openssl(wd_buf_str(&token), key, c);

		EVP_PKEY_free(key);
		EVP_PKEY_free(other);
		X509_free(cert);
		wd_buf_free(&jwk);
		wd_buf_free(&pub);
		wd_buf_free(&other_pub);
		wd_buf_free(&cert_pem);
		wd_buf_free(&header);
		wd_buf_free(&token);
	}
}

/* A fixture: an RS256 token with kid "k2" and a JWK set of two keys. */
struct rsa_fixture {
	EVP_PKEY *key, *other;
	struct wd_buf jwk_private, jwks, pub, token;
};

static void rsa_fixture_init(struct rsa_fixture *f, const char *payload)
{
	f->key = tk_generate("RSA", "2048");
	f->other = tk_generate("RSA", "2048");
	wd_buf_init(&f->jwk_private, 4096, 1 << 16);
	wd_buf_init(&f->jwks, 4096, 1 << 16);
	wd_buf_init(&f->pub, 4096, 1 << 16);
	wd_buf_init(&f->token, 4096, 1 << 16);
	tk_jwk(&f->jwk_private, f->key, true, NULL, NULL);
	tk_public_pem(&f->pub, f->key);
	assert_int_equal(wd_buf_append_str(&f->jwks, "{\"keys\":["), 0);
	tk_jwk(&f->jwks, f->other, false, "RS256", "k1");
	assert_int_equal(wd_buf_append_byte(&f->jwks, ','), 0);
	tk_jwk(&f->jwks, f->key, false, "RS256", "k2");
	assert_int_equal(wd_buf_append_str(&f->jwks, "]}"), 0);

	call_strings("io.jwt.encode_sign_raw", 3, "{\"alg\":\"RS256\",\"kid\":\"k2\"}", payload,
		     wd_buf_str(&f->jwk_private));
	assert_int_equal(res.rc, 0);
	assert_int_equal(wd_buf_append(&f->token, res.json + 1, strlen(res.json) - 2), 0);
}

static void rsa_fixture_free(struct rsa_fixture *f)
{
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->other);
	wd_buf_free(&f->jwk_private);
	wd_buf_free(&f->jwks);
	wd_buf_free(&f->pub);
	wd_buf_free(&f->token);
}

static void verify_with_jwks_and_errors(void **state)
{
	struct rsa_fixture f;

	(void)state;
	rsa_fixture_init(&f, "{\"sub\":\"svc\"}");
	assert_string_equal(call_strings("io.jwt.verify_rs256", 2, wd_buf_str(&f.token),
					 wd_buf_str(&f.jwks)),
			    "true");
	/* The wrong family of algorithm never verifies. */
	assert_string_equal(call_strings("io.jwt.verify_ps256", 2, wd_buf_str(&f.token),
					 wd_buf_str(&f.pub)),
			    "false");
	assert_string_equal(call_strings("io.jwt.verify_es256", 2, wd_buf_str(&f.token),
					 wd_buf_str(&f.pub)),
			    "false");

	assert_string_equal(call_strings("io.jwt.verify_rs256", 2, wd_buf_str(&f.token),
					 "-----BEGIN KEY-----\nAAAA\n-----END KEY-----\n"),
			    "io.jwt.verify_rs256: failed to extract a Key from the PEM certificate");
	{
		struct wd_buf extra;

		wd_buf_init(&extra, 4096, 1 << 16);
		assert_int_equal(wd_buf_appendf(&extra, "%sjunk", wd_buf_str(&f.pub)), 0);
		assert_string_equal(call_strings("io.jwt.verify_rs256", 2, wd_buf_str(&f.token),
						 wd_buf_str(&extra)),
				    "io.jwt.verify_rs256: extra data after a PEM certificate block");
		wd_buf_free(&extra);
	}
	assert_string_equal(call_strings("io.jwt.verify_rs256", 2, wd_buf_str(&f.token),
					 "{\"kty\":\"XYZ\"}"),
			    "io.jwt.verify_rs256: failed to parse a JWK key (set): invalid key type "
			    "from JSON (XYZ)");
	assert_string_equal(call_strings("io.jwt.verify_rs256", 2, wd_buf_str(&f.token),
					 "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
			    "io.jwt.verify_rs256: failed to parse a PEM certificate: x509: "
			    "malformed certificate");
	rsa_fixture_free(&f);
}

/* decode_verify with the constraints object given as JSON around cert. */
static const char *decode_verify(const char *token, const char *constraints_fmt,
				 const char *cert)
{
	struct wd_buf args, cert_json;

	wd_buf_init(&args, 4096, 1 << 20);
	wd_buf_init(&cert_json, 4096, 1 << 20);
	if (cert)
		tb_json_string(&cert_json, cert);
	assert_int_equal(wd_buf_append_byte(&args, '['), 0);
	tb_json_string(&args, token);
	assert_int_equal(wd_buf_append_byte(&args, ','), 0);
	/* constraints_fmt contains one "%s", replaced by the cert string. */
	{
		const char *mark = strstr(constraints_fmt, "%s");

		if (mark) {
			assert_int_equal(wd_buf_append(&args, constraints_fmt,
						       (size_t)(mark - constraints_fmt)), 0);
			assert_int_equal(wd_buf_append(&args, wd_buf_data(&cert_json),
						       wd_buf_len(&cert_json)), 0);
			assert_int_equal(wd_buf_append_str(&args, mark + 2), 0);
		} else {
			assert_int_equal(wd_buf_append_str(&args, constraints_fmt), 0);
		}
	}
	assert_int_equal(wd_buf_append_byte(&args, ']'), 0);
	tb_call("io.jwt.decode_verify", wd_buf_str(&args), &res);
	wd_buf_free(&args);
	wd_buf_free(&cert_json);
	return res.rc == 0 ? res.json : res.message;
}

#define UNVERIFIED "[false,{},{}]"

static void decode_verify_claims(void **state)
{
	struct rsa_fixture f;
	const char *t;

	(void)state;
	rsa_fixture_init(&f, "{\"iss\":\"ca\",\"aud\":[\"api\",\"web\"],\"exp\":1709208000.5,"
			 "\"nbf\":1709207000}");
	t = wd_buf_str(&f.token);
	assert_string_equal(decode_verify(t, "{\"cert\":%s}", wd_buf_str(&f.jwks)), UNVERIFIED);
	assert_string_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"web\",\"iss\":\"ca\"}",
					  wd_buf_str(&f.jwks)),
			    "[true,{\"alg\":\"RS256\",\"kid\":\"k2\"},{\"aud\":[\"api\",\"web\"],"
			    "\"exp\":1709208000.5,\"iss\":\"ca\",\"nbf\":1709207000}]");
	assert_string_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"web\",\"iss\":\"other\"}",
					  wd_buf_str(&f.jwks)),
			    UNVERIFIED);
	assert_string_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"web\",\"alg\":\"RS384\"}",
					  wd_buf_str(&f.jwks)),
			    UNVERIFIED);
	/* exp is exclusive and compared exactly, fractions included. */
	assert_string_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"api\",\"time\":1709208000400000000}",
					  wd_buf_str(&f.jwks)),
			    "[true,{\"alg\":\"RS256\",\"kid\":\"k2\"},{\"aud\":[\"api\",\"web\"],"
			    "\"exp\":1709208000.5,\"iss\":\"ca\",\"nbf\":1709207000}]");
	assert_string_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"api\",\"time\":1709208000500000000}",
					  wd_buf_str(&f.jwks)),
			    UNVERIFIED);
	/* nbf is inclusive. */
	assert_int_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"api\",\"time\":1709207000000000000}",
					  wd_buf_str(&f.jwks))[1],
			    't');
	assert_string_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"api\",\"time\":1709206999900000000}",
					  wd_buf_str(&f.jwks)),
			    UNVERIFIED);
	/* Without "time" the query's time applies: TB_NOW_NS is before exp. */
	assert_int_equal(decode_verify(t, "{\"cert\":%s,\"aud\":\"api\"}", wd_buf_str(&f.pub))[1],
			    't');
	rsa_fixture_free(&f);
}

static void decode_verify_errors(void **state)
{
	struct wd_buf token;
	const char *t;

	(void)state;
	wd_buf_init(&token, 256, 4096);
	make_hs256(&token, "{\"alg\":\"HS256\"}", "{\"exp\":\"soon\"}", "k");
	t = wd_buf_str(&token);
	assert_string_equal(decode_verify(t, "{\"secret\":\"k\"}", NULL),
			    "io.jwt.decode_verify: exp value must be a number");
	assert_string_equal(decode_verify(t, "{\"secret\":\"k\",\"colour\":\"red\"}", NULL),
			    "io.jwt.decode_verify: unknown token validation constraint: colour");
	assert_string_equal(decode_verify(t, "{}", NULL), "io.jwt.decode_verify: no key constraint");
	assert_string_equal(decode_verify(t, "{\"secret\":\"\"}", NULL),
			    "io.jwt.decode_verify: no key constraint");
	assert_string_equal(decode_verify(t, "{\"secret\":\"k\",\"cert\":\"{\\\"keys\\\":[]}\"}",
					  NULL),
			    "io.jwt.decode_verify: duplicate key constraints");
	assert_string_equal(decode_verify(t, "{\"secret\":1}", NULL),
			    "io.jwt.decode_verify: secret constraint: must be a string");
	assert_string_equal(decode_verify(t, "{\"secret\":\"k\",\"time\":-1}", NULL),
			    "io.jwt.decode_verify: token time constraint: must not be negative");
	assert_string_equal(decode_verify(t, "{\"secret\":\"wrong\"}", NULL), UNVERIFIED);

	/* A critical header that is not understood makes the token invalid. */
	wd_buf_reset(&token);
	make_hs256(&token, "{\"alg\":\"HS256\",\"crit\":[\"x-ext\"],\"x-ext\":1}", "{}", "k");
	assert_string_equal(decode_verify(wd_buf_str(&token), "{\"secret\":\"k\"}", NULL),
			    UNVERIFIED);
	wd_buf_reset(&token);
	make_hs256(&token, "{\"alg\":\"HS256\",\"crit\":[]}", "{}", "k");
	assert_string_equal(decode_verify(wd_buf_str(&token), "{\"secret\":\"k\"}", NULL),
			    "io.jwt.decode_verify: crit: must be a nonempty list");
	wd_buf_reset(&token);
	make_hs256(&token, "{\"typ\":\"JWT\"}", "{}", "k");
	assert_string_equal(decode_verify(wd_buf_str(&token), "{\"secret\":\"k\"}", NULL),
			    UNVERIFIED);
	wd_buf_reset(&token);
	make_hs256(&token, "{\"alg\":7}", "{}", "k");
	assert_string_equal(decode_verify(wd_buf_str(&token), "{\"secret\":\"k\"}", NULL),
			    "io.jwt.decode_verify: alg: must be a string");
	wd_buf_free(&token);
}

/* A PS256 token whose salt is shorter than the hash: OPA's verify_ps256
 * accepts any salt length, decode_verify's JWS library only the hash's. */
static void pss_salt_length(void **state)
{
	EVP_PKEY *key = tk_generate("RSA", "2048");
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	struct wd_buf token, pub;
	uint8_t sig[256];
	size_t sig_len = sizeof(sig);

	(void)state;
	wd_buf_init(&token, 1024, 1 << 16);
	wd_buf_init(&pub, 1024, 1 << 16);
	tk_public_pem(&pub, key);
	make_token(&token, "{\"alg\":\"PS256\"}", "{\"sub\":\"svc\"}", (const uint8_t *)"", 0);
	wd_buf_truncate(&token, wd_buf_len(&token) - 1);
	assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 8), 1);
	assert_int_equal(EVP_DigestSign(mctx, sig, &sig_len, wd_buf_data(&token), wd_buf_len(&token)),
			 1);
	assert_int_equal(wd_buf_append_byte(&token, '.'), 0);
	tk_b64url(&token, sig, sig_len);

	assert_string_equal(call_strings("io.jwt.verify_ps256", 2, wd_buf_str(&token),
					 wd_buf_str(&pub)),
			    "true");
	assert_string_equal(decode_verify(wd_buf_str(&token), "{\"cert\":%s}", wd_buf_str(&pub)),
			    UNVERIFIED);
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(key);
	wd_buf_free(&token);
	wd_buf_free(&pub);
}

static void encode_sign_checks(void **state)
{
	static const char jwk[] = "{\"kty\":\"oct\",\"k\":\"c2VjcmV0LWtleQ\"}";
	struct wd_buf expected, args;

	(void)state;
	wd_buf_init(&expected, 256, 4096);
	wd_buf_init(&args, 256, 4096);

	/* The object form marshals as Go does: sorted keys, sets as arrays,
	 * "<" escaped. */
	make_hs256(&expected, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
		   "{\"aud\":[\"a\",\"b\"],\"note\":\"\\u003cb\\u003e\"}", "secret-key");
	assert_int_equal(wd_buf_append_byte(&args, '"'), 0);
	assert_int_equal(wd_buf_append(&args, wd_buf_data(&expected), wd_buf_len(&expected)), 0);
	assert_int_equal(wd_buf_append_byte(&args, '"'), 0);
	tb_expect("io.jwt.encode_sign",
		  "[{\"typ\":\"JWT\",\"alg\":\"HS256\"}, {\"note\":\"<b>\",\"aud\":{\"$set\":[\"b\",\"a\"]}}, "
		  "{\"kty\":\"oct\",\"k\":\"c2VjcmV0LWtleQ\"}]",
		  wd_buf_str(&args));

	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "{\"alg\":\"none\"}", "{}", jwk),
			    "io.jwt.encode_sign_raw: unknown JWS algorithm: none");
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "{}", "{}", jwk),
			    "io.jwt.encode_sign_raw: missing or invalid 'alg' header: jwsbb: header "
			    "\"alg\" not found");
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "  ", "{}", jwk),
			    "io.jwt.encode_sign_raw: missing or invalid 'alg' header: cannot parse "
			    "JSON: cannot parse empty string; unparsed tail: \"\"");
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "{\"alg\":\"HS256\"}", "x",
					 jwk),
			    "io.jwt.encode_sign_raw: type is JWT but payload is not JSON");
	/* A text payload may be empty; the MAC is checked with OpenSSL. */
	wd_buf_reset(&expected);
	make_hs256(&expected, "{\"alg\":\"HS256\",\"typ\":\"text/plain\"}", "", "secret-key");
	wd_buf_reset(&args);
	assert_int_equal(wd_buf_appendf(&args, "\"%s\"", wd_buf_str(&expected)), 0);
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3,
					 "{\"alg\":\"HS256\",\"typ\":\"text/plain\"}", "", jwk),
			    wd_buf_str(&args));
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "{\"alg\":\"RS256\"}", "{}", jwk),
			    "io.jwt.encode_sign_raw: failed to sign payload: key does not suit RS256");
	/* A broken key is reported by position, never by its text. */
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "{\"alg\":\"HS256\"}", "{}",
					 "{\"kty\":\"oct\",\"k\":\"c2VjcmV0"),
			    "io.jwt.encode_sign_raw: failed to parse jwk: failed to unmarshal JSON: "
			    "invalid JSON at byte 26");
	assert_string_equal(call_strings("io.jwt.encode_sign_raw", 3, "{\"alg\":\"HS256\"}", "{}",
					 "{\"keys\":[]}"),
			    "io.jwt.encode_sign_raw: no keys found in JWK set");
	wd_buf_free(&expected);
	wd_buf_free(&args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_token_parts),
		cmocka_unit_test(decode_nested_token),
		cmocka_unit_test(decode_errors),
		cmocka_unit_test(verify_hmac),
		cmocka_unit_test(sign_and_verify_each_alg),
		cmocka_unit_test(verify_with_jwks_and_errors),
		cmocka_unit_test(decode_verify_claims),
		cmocka_unit_test(decode_verify_errors),
		cmocka_unit_test(pss_salt_length),
		cmocka_unit_test(encode_sign_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
