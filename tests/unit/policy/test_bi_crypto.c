/* Unit tests of the crypto.* builtins: digests and HMACs against published
 * test vectors, and X.509 certificates, requests and keys made by the tests
 * with OpenSSL. */
#include <openssl/pem.h>

#include "test_bi_jwt_keys.h"

#define BIE "eval_builtin_error"

static void digests(void **state)
{
	(void)state;
	tb_expect("crypto.md5", "[\"\"]", "\"d41d8cd98f00b204e9800998ecf8427e\"");
	tb_expect("crypto.sha1", "[\"\"]", "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"");
	/* FIPS 180-2 appendix B.1. */
	tb_expect("crypto.sha256", "[\"abc\"]",
		  "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
}

static void hmacs(void **state)
{
	(void)state;
	/* RFC 2202 and RFC 4231 test case 2: key "Jefe". */
	tb_expect("crypto.hmac.md5", "[\"what do ya want for nothing?\", \"Jefe\"]",
		  "\"750c783e6ab0b503eaa86e310a5db738\"");
	tb_expect("crypto.hmac.sha1", "[\"what do ya want for nothing?\", \"Jefe\"]",
		  "\"effcdf6ae5eb2fa2d27416d5f184df9c259a7c79\"");
	tb_expect("crypto.hmac.sha256", "[\"what do ya want for nothing?\", \"Jefe\"]",
		  "\"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843\"");
	tb_expect("crypto.hmac.sha512", "[\"what do ya want for nothing?\", \"Jefe\"]",
		  "\"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737\"");
	tb_expect("crypto.hmac.equal", "[\"abc123\", \"abc123\"]", "true");
	tb_expect("crypto.hmac.equal", "[\"abc123\", \"abc124\"]", "false");
	tb_expect("crypto.hmac.equal", "[\"abc123\", \"abc12\"]", "false");
	tb_expect_error("crypto.hmac.sha256", "[\"m\", 1]", "eval_type_error",
			"crypto.hmac.sha256: operand 2 must be string but got number");
}

/* A CA, an intermediate and a leaf, all EC P-256. */
struct chain {
	EVP_PKEY *root_key, *mid_key, *leaf_key;
	X509 *root, *mid, *leaf;
	struct wd_buf root_pem, mid_pem, leaf_pem, key_pem;
};

static void chain_init(struct chain *c)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	c->root_key = tk_generate("EC", "P-256");
	c->mid_key = tk_generate("EC", "P-256");
	c->leaf_key = tk_generate("EC", "P-256");
	c->root = tk_certificate(c->root_key, c->root_key, "Test Root", "Test Root", true, NULL);
	c->mid = tk_certificate(c->mid_key, c->root_key, "Test Mid", "Test Root", true, NULL);
	c->leaf = tk_certificate(c->leaf_key, c->mid_key, "svc.example", "Test Mid", false,
				 "DNS:svc.example,URI:spiffe://example.org/svc,IP:10.0.0.1,"
				 "email:ops@example.org");
	wd_buf_init(&c->root_pem, 1024, 1 << 16);
	wd_buf_init(&c->mid_pem, 1024, 1 << 16);
	wd_buf_init(&c->leaf_pem, 1024, 1 << 16);
	wd_buf_init(&c->key_pem, 1024, 1 << 16);
	tk_cert_pem(&c->root_pem, c->root);
	tk_cert_pem(&c->mid_pem, c->mid);
	tk_cert_pem(&c->leaf_pem, c->leaf);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, c->leaf_key, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	assert_int_equal(wd_buf_append(&c->key_pem, data, (size_t)len), 0);
	BIO_free(bio);
}

static void chain_free(struct chain *c)
{
	EVP_PKEY_free(c->root_key);
	EVP_PKEY_free(c->mid_key);
	EVP_PKEY_free(c->leaf_key);
	X509_free(c->root);
	X509_free(c->mid);
	X509_free(c->leaf);
	wd_buf_free(&c->root_pem);
	wd_buf_free(&c->mid_pem);
	wd_buf_free(&c->leaf_pem);
	wd_buf_free(&c->key_pem);
}

/* Calls name with string arguments and returns the result value. */
static struct rv *call_value(const char *name, const char *a, const char *b, int *ret_rc,
			     char *message)
{
	const struct rego_builtin *bi = rego_builtin_find(name);
	struct rego_bctx ctx = { .name = name, .now_ns = TB_NOW_NS };
	struct rv *args[2] = { rv_cstring(a), b ? rv_cstring(b) : NULL };
	struct rv *ret = NULL;

	assert_non_null(bi);
	*ret_rc = bi->fn(&ctx, args, b ? 2 : 1, &ret);
	if (*ret_rc < 0 && message)
		snprintf(message, 1024, "%s", ctx.err_msg);
	rv_unref(args[0]);
	rv_unref(args[1]);
	return ret;
}

/* Writes the member path (dot-separated, digits index arrays) as JSON. */
static void expect_member(const struct rv *v, const char *path, const char *want)
{
	char part[64];
	struct wd_buf out;

	while (*path) {
		size_t n = strcspn(path, ".");

		snprintf(part, sizeof(part), "%.*s", (int)n, path);
		if (rv_is(v, RV_ARRAY))
			v = rv_array_at(v, (size_t)strtoul(part, NULL, 10));
		else
			v = rv_object_get_str(v, part);
		if (!v)
			fail_msg("no member %s", part);
		path += n + (path[n] == '.');
	}
	wd_buf_init(&out, 256, 1 << 20);
	assert_int_equal(rv_write_json(v, &out), 0);
	assert_string_equal(wd_buf_str(&out), want);
	wd_buf_free(&out);
}

static void parse_certificates_fields(void **state)
{
	struct chain c;
	struct rv *certs;
	int rc;

	(void)state;
	chain_init(&c);
	certs = call_value("crypto.x509.parse_certificates", wd_buf_str(&c.leaf_pem), NULL, &rc,
			   NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(rv_array_len(certs), 1);
	expect_member(certs, "0.Subject.CommonName", "\"svc.example\"");
	expect_member(certs, "0.Issuer.CommonName", "\"Test Mid\"");
	expect_member(certs, "0.Subject.Names.0.Type", "[2,5,4,3]");
	expect_member(certs, "0.Subject.Country", "null");
	expect_member(certs, "0.DNSNames", "[\"svc.example\"]");
	expect_member(certs, "0.URIStrings", "[\"spiffe://example.org/svc\"]");
	expect_member(certs, "0.URIs.0.Host", "\"example.org\"");
	expect_member(certs, "0.URIs.0.Path", "\"/svc\"");
	expect_member(certs, "0.IPAddresses", "[\"10.0.0.1\"]");
	expect_member(certs, "0.EmailAddresses", "[\"ops@example.org\"]");
	expect_member(certs, "0.Version", "3");
	expect_member(certs, "0.SerialNumber", "4242");
	expect_member(certs, "0.SignatureAlgorithm", "10");
	expect_member(certs, "0.PublicKeyAlgorithm", "3");
	expect_member(certs, "0.IsCA", "false");
	expect_member(certs, "0.BasicConstraintsValid", "false");
	expect_member(certs, "0.MaxPathLen", "0");
	expect_member(certs, "0.PublicKey.Curve", "{}");
	rv_unref(certs);

	/* Two PEM blocks give two certificates; a CA has MaxPathLen -1. */
	{
		struct wd_buf both;

		wd_buf_init(&both, 4096, 1 << 16);
		assert_int_equal(wd_buf_appendf(&both, "%s%s", wd_buf_str(&c.root_pem),
						wd_buf_str(&c.mid_pem)), 0);
		certs = call_value("crypto.x509.parse_certificates", wd_buf_str(&both), NULL, &rc,
				   NULL);
		assert_int_equal(rc, 0);
		expect_member(certs, "1.Subject.CommonName", "\"Test Mid\"");
		expect_member(certs, "0.IsCA", "true");
		expect_member(certs, "0.MaxPathLen", "-1");
		expect_member(certs, "0.URIStrings", "null");
		rv_unref(certs);
		wd_buf_free(&both);
	}

	/* Base64 of DER works as well. */
	{
		unsigned char *der = NULL;
		int der_len = i2d_X509(c.root, &der);
		char *b64 = NULL;

		assert_int_equal(wd_base64_encode(der, (size_t)der_len, &b64), 0);
		certs = call_value("crypto.x509.parse_certificates", b64, NULL, &rc, NULL);
		assert_int_equal(rc, 0);
		expect_member(certs, "0.Subject.CommonName", "\"Test Root\"");
		rv_unref(certs);
		OPENSSL_free(der);
		free(b64);
	}
	chain_free(&c);
}

static void certificate_policies(void **state)
{
	EVP_PKEY *key = tk_generate("EC", "P-256");
	X509 *cert = tk_certificate(key, key, "policy", "policy", false, NULL);
	CERTIFICATEPOLICIES *policies = sk_POLICYINFO_new_null();
	POLICYINFO *info = POLICYINFO_new();
	struct wd_buf pem;
	struct rv *certs;
	int rc;

	(void)state;
	assert_non_null(policies);
	assert_non_null(info);
	ASN1_OBJECT_free(info->policyid);
	info->policyid = OBJ_txt2obj("2.23.140.1.2.1", 1);
	assert_true(sk_POLICYINFO_push(policies, info) > 0);
	assert_int_equal(X509_add1_ext_i2d(cert, NID_certificate_policies, policies, 0,
					   X509V3_ADD_DEFAULT), 1);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	wd_buf_init(&pem, 1024, 1 << 16);
	tk_cert_pem(&pem, cert);

	certs = call_value("crypto.x509.parse_certificates", wd_buf_str(&pem), NULL, &rc, NULL);
	assert_int_equal(rc, 0);
	expect_member(certs, "0.PolicyIdentifiers", "[[2,23,140,1,2,1]]");
	expect_member(certs, "0.Policies", "[\"2.23.140.1.2.1\"]");
	expect_member(certs, "0.Extensions.0.Id", "[2,5,29,32]");
	expect_member(certs, "0.Extensions.0.Critical", "false");
	rv_unref(certs);
	CERTIFICATEPOLICIES_free(policies);
	X509_free(cert);
	EVP_PKEY_free(key);
	wd_buf_free(&pem);
}

static void parse_certificates_errors(void **state)
{
	(void)state;
	tb_expect_error("crypto.x509.parse_certificates", "[\"foobar\"]", BIE,
			"crypto.x509.parse_certificates: illegal base64 data at input byte 4");
	/* "not a cert" */
	tb_expect_error("crypto.x509.parse_certificates", "[\"bm90IGEgY2VydA==\"]", BIE,
			"crypto.x509.parse_certificates: x509: malformed certificate");
	tb_expect_error("crypto.x509.parse_certificates",
			"[\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"]", BIE,
			"crypto.x509.parse_certificates: PEM block type is 'PUBLIC KEY', expected "
			"CERTIFICATE");
	tb_expect("crypto.x509.parse_certificates", "[\"-----BEGIN nothing\"]", "[]");
}

static void verify_chains(void **state)
{
	struct chain c;
	struct wd_buf text;
	struct rv *result;
	int rc;

	(void)state;
	chain_init(&c);
	wd_buf_init(&text, 4096, 1 << 16);

	/* Root first, leaf last; the verified chain comes back leaf first. */
	assert_int_equal(wd_buf_appendf(&text, "%s%s%s", wd_buf_str(&c.root_pem),
					wd_buf_str(&c.mid_pem), wd_buf_str(&c.leaf_pem)), 0);
	result = call_value("crypto.x509.parse_and_verify_certificates", wd_buf_str(&text), NULL,
			    &rc, NULL);
	assert_int_equal(rc, 0);
	expect_member(result, "0", "true");
	expect_member(result, "1.0.Subject.CommonName", "\"svc.example\"");
	expect_member(result, "1.1.Subject.CommonName", "\"Test Mid\"");
	expect_member(result, "1.2.Subject.CommonName", "\"Test Root\"");
	rv_unref(result);

	/* The leaf without its intermediate does not verify. */
	wd_buf_reset(&text);
	assert_int_equal(wd_buf_appendf(&text, "%s%s", wd_buf_str(&c.root_pem),
					wd_buf_str(&c.leaf_pem)), 0);
	result = call_value("crypto.x509.parse_and_verify_certificates", wd_buf_str(&text), NULL,
			    &rc, NULL);
	assert_int_equal(rc, 0);
	expect_member(result, "", "[false,[]]");
	rv_unref(result);

	/* One certificate is not a chain; bad input is [false, []] too. */
	result = call_value("crypto.x509.parse_and_verify_certificates", wd_buf_str(&c.root_pem),
			    NULL, &rc, NULL);
	expect_member(result, "", "[false,[]]");
	rv_unref(result);
	tb_expect("crypto.x509.parse_and_verify_certificates", "[\"%%%\"]", "[false,[]]");

	wd_buf_free(&text);
	chain_free(&c);
}

static void verify_with_options(void **state)
{
	struct chain c;
	struct wd_buf args;
	static struct tb_result res;

	(void)state;
	chain_init(&c);
	wd_buf_init(&args, 4096, 1 << 16);
	assert_int_equal(wd_buf_append_byte(&args, '['), 0);
	{
		struct wd_buf text;

		wd_buf_init(&text, 4096, 1 << 16);
		assert_int_equal(wd_buf_appendf(&text, "%s%s%s", wd_buf_str(&c.root_pem),
						wd_buf_str(&c.mid_pem), wd_buf_str(&c.leaf_pem)), 0);
		tb_json_string(&args, wd_buf_str(&text));
		wd_buf_free(&text);
	}
	size_t base = wd_buf_len(&args);

	assert_int_equal(wd_buf_append_str(&args, ",{\"DNSName\":\"svc.example\"}]"), 0);
	tb_call("crypto.x509.parse_and_verify_certificates_with_options", wd_buf_str(&args), &res);
	assert_int_equal(res.rc, 0);
	assert_memory_equal(res.json, "[true,[{", 8);

	wd_buf_truncate(&args, base);
	assert_int_equal(wd_buf_append_str(&args, ",{\"DNSName\":\"other.example\"}]"), 0);
	tb_expect("crypto.x509.parse_and_verify_certificates_with_options", wd_buf_str(&args),
		  "[false,[]]");

	/* Ten years on, the certificates have expired. */
	wd_buf_truncate(&args, base);
	assert_int_equal(wd_buf_append_str(&args, ",{\"CurrentTime\":2024000000000000000}]"), 0);
	tb_expect("crypto.x509.parse_and_verify_certificates_with_options", wd_buf_str(&args),
		  "[false,[]]");

	wd_buf_truncate(&args, base);
	assert_int_equal(wd_buf_append_str(&args, ",{\"Colour\":1}]"), 0);
	tb_expect_error("crypto.x509.parse_and_verify_certificates_with_options",
			wd_buf_str(&args), BIE,
			"crypto.x509.parse_and_verify_certificates_with_options: invalid key option");
	wd_buf_truncate(&args, base);
	assert_int_equal(wd_buf_append_str(&args, ",{\"KeyUsages\":[\"KeyUsageNope\"]}]"), 0);
	tb_expect_error("crypto.x509.parse_and_verify_certificates_with_options",
			wd_buf_str(&args), BIE,
			"crypto.x509.parse_and_verify_certificates_with_options: invalid entries "
			"for 'KeyUsages' found: [KeyUsageNope]");
	wd_buf_free(&args);
	chain_free(&c);
}

static void certificate_request(void **state)
{
	EVP_PKEY *key = tk_generate("EC", "P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *bio = BIO_new(BIO_s_mem());
	struct rv *value;
	char *data, message[1024];
	long len;
	int rc;

	(void)state;
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						    (const unsigned char *)"csr.example", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	len = BIO_get_mem_data(bio, &data);
	{
		char *pem = strndup(data, (size_t)len);

		value = call_value("crypto.x509.parse_certificate_request", pem, NULL, &rc, NULL);
		assert_int_equal(rc, 0);
		expect_member(value, "Subject.CommonName", "\"csr.example\"");
		expect_member(value, "PublicKeyAlgorithm", "3");
		expect_member(value, "SignatureAlgorithm", "10");
		rv_unref(value);
		free(pem);
	}
	value = call_value("crypto.x509.parse_certificate_request", "bm90IGEgY3Ny", NULL, &rc,
			   message);
	assert_true(rc < 0);
	assert_string_equal(message, "crypto.x509.parse_certificate_request: asn1: structure "
			    "error: tags don't match");
	tb_expect_error("crypto.x509.parse_certificate_request",
			"[\"-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n"
			"\"]", BIE,
			"crypto.x509.parse_certificate_request: asn1: structure error: tags don't "
			"match");
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	BIO_free(bio);
}

static void keypair(void **state)
{
	struct chain c;
	struct rv *value;
	char message[1024];
	int rc;

	(void)state;
	chain_init(&c);
	value = call_value("crypto.x509.parse_keypair", wd_buf_str(&c.leaf_pem),
			   wd_buf_str(&c.key_pem), &rc, message);
	assert_int_equal(rc, 0);
	expect_member(value, "Leaf.Subject.CommonName", "\"svc.example\"");
	expect_member(value, "OCSPStaple", "null");
	{
		unsigned char *der = NULL;
		int der_len = i2d_X509(c.leaf, &der);
		char *b64 = NULL, want[4096];

		assert_int_equal(wd_base64_encode(der, (size_t)der_len, &b64), 0);
		snprintf(want, sizeof(want), "\"%s\"", b64);
		expect_member(value, "Certificate.0", want);
		OPENSSL_free(der);
		free(b64);
	}
	rv_unref(value);

	/* The root's certificate with the leaf's key does not pair. */
	value = call_value("crypto.x509.parse_keypair", wd_buf_str(&c.root_pem),
			   wd_buf_str(&c.key_pem), &rc, message);
	assert_true(rc < 0);
	assert_string_equal(message, "crypto.x509.parse_keypair: tls: private key does not match "
			    "public key");
	value = call_value("crypto.x509.parse_keypair", wd_buf_str(&c.key_pem),
			   wd_buf_str(&c.key_pem), &rc, message);
	assert_true(rc < 0);
	assert_string_equal(message, "crypto.x509.parse_keypair: tls: failed to find certificate "
			    "PEM data in certificate input, but did find a private key; PEM inputs "
			    "may have been switched");
	chain_free(&c);
}

static void private_keys(void **state)
{
	EVP_PKEY *rsa = tk_generate("RSA", "2048");
	EVP_PKEY *ec = tk_generate("EC", "P-384");
	BIO *bio = BIO_new(BIO_s_mem());
	struct wd_buf pem, jwk;
	struct rv *value;
	char *data;
	long len;
	int rc;

	(void)state;
	wd_buf_init_secret(&pem, 4096, 1 << 16);
	wd_buf_init(&jwk, 4096, 1 << 16);
	/* PKCS #1 for RSA ("RSA PRIVATE KEY") and SEC 1 for EC. */
	assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, rsa, NULL, NULL, 0, NULL, NULL),
			 1);
	assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, ec, NULL, NULL, 0, NULL, NULL),
			 1);
	len = BIO_get_mem_data(bio, &data);
	assert_int_equal(wd_buf_append(&pem, data, (size_t)len), 0);
	assert_memory_equal(wd_buf_str(&pem), "-----BEGIN RSA PRIVATE KEY-----", 31);

	value = call_value("crypto.x509.parse_rsa_private_key", wd_buf_str(&pem), NULL, &rc, NULL);
	assert_int_equal(rc, 0);
	expect_member(value, "kty", "\"RSA\"");
	expect_member(value, "e", "\"AQAB\"");
	tk_jwk(&jwk, rsa, true, NULL, NULL);
	{
		struct rv *mine = rv_parse_json(wd_buf_str(&jwk), wd_buf_len(&jwk), 8, NULL);

		assert_true(rv_equal(rv_object_get_str(mine, "n"), rv_object_get_str(value, "n")));
		assert_true(rv_equal(rv_object_get_str(mine, "qi"), rv_object_get_str(value, "qi")));
		rv_unref(mine);
	}
	rv_unref(value);

	value = call_value("crypto.parse_private_keys", wd_buf_str(&pem), NULL, &rc, NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(rv_array_len(value), 2);
	expect_member(value, "0.E", "65537");
	expect_member(value, "0.Precomputed.CRTValues", "[]");
	expect_member(value, "1.Curve", "{}");
	rv_unref(value);

	tb_expect("crypto.parse_private_keys", "[\"\"]", "null");
	tb_expect("crypto.parse_private_keys", "[\"no keys here\"]", "[]");
	tb_expect("crypto.x509.parse_rsa_private_key",
		  "[\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"]", "null");
	tb_expect_error("crypto.x509.parse_rsa_private_key", "[\"\"]", BIE,
			"crypto.x509.parse_rsa_private_key: input PEM data was empty");
	tb_expect_error("crypto.x509.parse_rsa_private_key", "[\"invalid\"]", BIE,
			"crypto.x509.parse_rsa_private_key: illegal base64 data at input byte 4");
	tb_expect_error("crypto.parse_private_keys",
			"[\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"]", BIE,
			"crypto.parse_private_keys: x509: failed to parse private key");
	wd_buf_free(&pem);
	wd_buf_free(&jwk);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	BIO_free(bio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digests),
		cmocka_unit_test(hmacs),
		cmocka_unit_test(parse_certificates_fields),
		cmocka_unit_test(certificate_policies),
		cmocka_unit_test(parse_certificates_errors),
		cmocka_unit_test(verify_chains),
		cmocka_unit_test(verify_with_options),
		cmocka_unit_test(certificate_request),
		cmocka_unit_test(keypair),
		cmocka_unit_test(private_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
