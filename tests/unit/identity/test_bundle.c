/* Unit tests for SPIFFE bundle JSON and PEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/encoding.h"
#include "identity/bundle.h"

struct fixture {
	EVP_PKEY *ca_keys[2];
	X509 *cas[2];
	EVP_PKEY *jwt_keys[2];
	struct jwt_authority jwt[2];
	struct bundle_view view;
};

static struct fixture fx;

/* Makes a self-signed CA certificate for key, valid for a day. */
static X509 *make_ca(EVP_PKEY *key, const char *common_name)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (!cert || !name)
		return NULL;
	if (X509_set_version(cert, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), 86400) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)common_name,
		    -1, -1, 0) != 1 ||
	    X509_set_subject_name(cert, name) != 1 || X509_set_issuer_name(cert, name) != 1 ||
	    X509_set_pubkey(cert, key) != 1 || X509_sign(cert, key, EVP_sha256()) <= 0) {
		X509_NAME_free(name);
		X509_free(cert);
		return NULL;
	}
	X509_NAME_free(name);
	return cert;
}

static int fixture_setup(void **state)
{
	(void)state;
	fx.ca_keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	fx.ca_keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	fx.jwt_keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	fx.jwt_keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	for (int i = 0; i < 2; i++) {
		if (!fx.ca_keys[i] || !fx.jwt_keys[i])
			return -1;
	}
	fx.cas[0] = make_ca(fx.ca_keys[0], "CA one");
	fx.cas[1] = make_ca(fx.ca_keys[1], "CA two");
	if (!fx.cas[0] || !fx.cas[1])
		return -1;

	fx.jwt[0] = (struct jwt_authority){ "kid-ec", fx.jwt_keys[0] };
	fx.jwt[1] = (struct jwt_authority){ "kid-rsa", fx.jwt_keys[1] };
	fx.view = (struct bundle_view){
		.trust_domain = "example.org",
		.x509_authorities = fx.cas,
		.x509_authority_count = 2,
		.jwt_authorities = fx.jwt,
		.jwt_authority_count = 2,
		.sequence = 42,
		.refresh_hint_seconds = 300,
	};
	return 0;
}

static int fixture_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		X509_free(fx.cas[i]);
		EVP_PKEY_free(fx.ca_keys[i]);
		EVP_PKEY_free(fx.jwt_keys[i]);
	}
	return 0;
}

static char *encode_fixture(void)
{
	struct wd_error err;
	char *json = NULL;

	assert_int_equal(bundle_to_spiffe_json(&fx.view, &json, &err), 0);
	assert_non_null(json);
	return json;
}

static json_t *load(const char *text)
{
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(root);
	return root;
}

/* Asserts that obj has exactly the members named in the NULL-terminated
 * list. */
static void assert_members(const json_t *obj, const char *const *names)
{
	size_t count = 0;

	for (; names[count]; count++)
		assert_non_null(json_object_get(obj, names[count]));
	assert_int_equal(json_object_size(obj), count);
}

static const char *member(const json_t *obj, const char *name)
{
	const char *value = json_string_value(json_object_get(obj, name));

	assert_non_null(value);
	return value;
}

static char *cert_base64(X509 *cert)
{
	unsigned char *der = NULL;
	int len = i2d_X509(cert, &der);
	char *text = NULL;

	assert_true(len > 0);
	assert_int_equal(wd_base64_encode(der, (size_t)len, &text), 0);
	OPENSSL_free(der);
	return text;
}

static void json_fields_exact(void **state)
{
	static const char *const top_names[] = { "keys", "spiffe_refresh_hint", "spiffe_sequence",
		NULL };
	static const char *const x509_ec_names[] = { "crv", "kty", "use", "x", "x5c", "y", NULL };
	static const char *const x509_rsa_names[] = { "e", "kty", "n", "use", "x5c", NULL };
	static const char *const jwt_ec_names[] = { "crv", "kid", "kty", "use", "x", "y", NULL };
	static const char *const jwt_rsa_names[] = { "e", "kid", "kty", "n", "use", NULL };
	static const char prefix[] =
		"{\"keys\":[{\"crv\":\"P-256\",\"kty\":\"EC\",\"use\":\"x509-svid\",\"x\":\"";
	char *json = encode_fixture();
	json_t *root = load(json);
	json_t *keys = json_object_get(root, "keys");
	const json_t *jwk;

	(void)state;
	assert_members(root, top_names);
	assert_int_equal(json_integer_value(json_object_get(root, "spiffe_sequence")), 42);
	assert_int_equal(json_integer_value(json_object_get(root, "spiffe_refresh_hint")), 300);
	assert_int_equal(json_array_size(keys), 4);

	for (size_t i = 0; i < 2; i++) {
		char *expected = cert_base64(fx.cas[i]);
		const json_t *x5c;

		jwk = json_array_get(keys, i);
		assert_members(jwk, i == 0 ? x509_ec_names : x509_rsa_names);
		assert_string_equal(member(jwk, "use"), "x509-svid");
		x5c = json_object_get(jwk, "x5c");
		assert_int_equal(json_array_size(x5c), 1);
		assert_string_equal(json_string_value(json_array_get(x5c, 0)), expected);
		free(expected);
	}
	assert_string_equal(member(json_array_get(keys, 0), "kty"), "EC");
	assert_string_equal(member(json_array_get(keys, 0), "crv"), "P-256");
	assert_string_equal(member(json_array_get(keys, 1), "kty"), "RSA");
	assert_string_equal(member(json_array_get(keys, 1), "e"), "AQAB");

	jwk = json_array_get(keys, 2);
	assert_members(jwk, jwt_ec_names);
	assert_string_equal(member(jwk, "use"), "jwt-svid");
	assert_string_equal(member(jwk, "kid"), "kid-ec");
	assert_string_equal(member(jwk, "crv"), "P-384");
	jwk = json_array_get(keys, 3);
	assert_members(jwk, jwt_rsa_names);
	assert_string_equal(member(jwk, "kid"), "kid-rsa");
	assert_string_equal(member(jwk, "kty"), "RSA");

	/* Sorted keys and no whitespace. */
	assert_int_equal(strncmp(json, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(json, "],\"spiffe_refresh_hint\":300,\"spiffe_sequence\":42}"));
	assert_null(strchr(json, ' '));
	assert_null(strchr(json, '\n'));

	json_decref(root);
	free(json);
}

static void json_round_trip(void **state)
{
	struct bundle_parsed *parsed = NULL;
	struct wd_error err;
	char *json = encode_fixture();
	char *again = NULL;

	(void)state;
	assert_int_equal(bundle_from_spiffe_json(json, strlen(json), &parsed, &err), 0);
	assert_int_equal(sk_X509_num(parsed->x509_authorities), 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(X509_cmp(sk_X509_value(parsed->x509_authorities, i), fx.cas[i]), 0);
	assert_int_equal(parsed->jwt_authority_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(parsed->jwt_authorities[i].kid, fx.jwt[i].kid);
		assert_int_equal(EVP_PKEY_eq(parsed->jwt_authorities[i].key, fx.jwt[i].key), 1);
	}
	assert_int_equal(parsed->sequence, 42);
	assert_int_equal(parsed->refresh_hint_seconds, 300);

	/* Encoding the parsed bundle again gives the same bytes. */
	X509 *certs[2] = { sk_X509_value(parsed->x509_authorities, 0),
		sk_X509_value(parsed->x509_authorities, 1) };
	struct bundle_view view = {
		.trust_domain = "example.org",
		.x509_authorities = certs,
		.x509_authority_count = 2,
		.jwt_authorities = parsed->jwt_authorities,
		.jwt_authority_count = parsed->jwt_authority_count,
		.sequence = parsed->sequence,
		.refresh_hint_seconds = parsed->refresh_hint_seconds,
	};
	assert_int_equal(bundle_to_spiffe_json(&view, &again, &err), 0);
	assert_string_equal(again, json);

	free(again);
	bundle_parsed_free(parsed);
	free(json);
}

/* Dumps root, parses the text as a bundle and returns the result code. */
static int parse_json(const json_t *root, struct wd_error *err)
{
	struct bundle_parsed *parsed = (struct bundle_parsed *)1;
	char *text = json_dumps(root, JSON_COMPACT);
	int rc;

	assert_non_null(text);
	rc = bundle_from_spiffe_json(text, strlen(text), &parsed, err);
	if (rc < 0)
		assert_null(parsed);
	bundle_parsed_free(parsed);
	free(text);
	return rc;
}

static int parse_text(const char *text, struct wd_error *err)
{
	struct bundle_parsed *parsed = (struct bundle_parsed *)1;
	int rc = bundle_from_spiffe_json(text, strlen(text), &parsed, err);

	if (rc < 0)
		assert_null(parsed);
	bundle_parsed_free(parsed);
	return rc;
}

static void duplicate_keys_rejected(void **state)
{
	struct wd_error err;
	char *json = encode_fixture();
	char *doubled;
	size_t len = strlen(json);

	(void)state;
	assert_int_equal(parse_text("{\"keys\":[],\"keys\":[]}", &err), WD_EINVAL);
	assert_int_equal(parse_text("{\"keys\":[],\"spiffe_sequence\":1,\"spiffe_sequence\":2}",
				 &err),
		WD_EINVAL);

	/* A repeated member inside a JWK: "use" twice in the first key. */
	doubled = malloc(len + 32);
	assert_non_null(doubled);
	memcpy(doubled, "{\"keys\":[{\"use\":\"jwt-svid\",", 27);
	memcpy(doubled + 27, json + 10, len - 10 + 1);
	assert_int_equal(parse_text(doubled, &err), WD_EINVAL);

	free(doubled);
	free(json);
}

static void missing_keys_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(parse_text("{\"spiffe_sequence\":1}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle has no \"keys\" array");
	assert_int_equal(parse_text("{\"keys\":{}}", &err), WD_EINVAL);
	assert_int_equal(parse_text("[]", &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle is not a JSON object");
	assert_int_equal(parse_text("{\"keys\":[]", &err), WD_EINVAL);
	assert_int_equal(parse_text("", &err), WD_EINVAL);
}

static void empty_keys_accepted(void **state)
{
	struct bundle_parsed *parsed = NULL;
	struct wd_error err;
	static const char text[] = "{\"keys\":[]}";

	(void)state;
	assert_int_equal(bundle_from_spiffe_json(text, strlen(text), &parsed, &err), 0);
	assert_int_equal(sk_X509_num(parsed->x509_authorities), 0);
	assert_int_equal(parsed->jwt_authority_count, 0);
	assert_int_equal(parsed->sequence, 0);
	assert_int_equal(parsed->refresh_hint_seconds, 0);
	bundle_parsed_free(parsed);
	bundle_parsed_free(NULL);
}

static void x5c_with_two_certs_rejected(void **state)
{
	struct wd_error err;
	char *json = encode_fixture();
	json_t *root = load(json);
	json_t *first = json_array_get(json_object_get(root, "keys"), 0);
	json_t *x5c = json_object_get(first, "x5c");
	char *second = cert_base64(fx.cas[1]);

	(void)state;
	assert_int_equal(json_array_append_new(x5c, json_string(second)), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"bundle keys[0]: x509-svid key needs x5c with exactly one certificate");

	assert_int_equal(json_array_clear(x5c), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);

	assert_int_equal(json_object_del(first, "x5c"), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);

	free(second);
	json_decref(root);
	free(json);
}

static void x5c_key_mismatch_rejected(void **state)
{
	struct wd_error err;
	char *json = encode_fixture();
	json_t *root = load(json);
	json_t *first = json_array_get(json_object_get(root, "keys"), 0);
	json_t *x5c = json_object_get(first, "x5c");
	char *other = cert_base64(fx.cas[1]);

	(void)state;
	/* keys[0] has the P-256 CA's JWK members but the RSA CA's certificate. */
	assert_int_equal(json_array_set_new(x5c, 0, json_string(other)), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"bundle keys[0]: x5c certificate key differs from the JWK key");

	assert_int_equal(json_array_set_new(x5c, 0, json_string("not base64!")), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[0]: x5c[0] is not valid base64");
	assert_int_equal(json_array_set_new(x5c, 0, json_string("AAAA")), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[0]: x5c[0] is not one DER certificate");

	free(other);
	json_decref(root);
	free(json);
}

static void jwt_key_without_kid_rejected(void **state)
{
	struct wd_error err;
	char *json = encode_fixture();
	json_t *root = load(json);
	json_t *jwt = json_array_get(json_object_get(root, "keys"), 2);

	(void)state;
	assert_int_equal(json_object_del(jwt, "kid"), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[2]: jwt-svid key has no kid");

	assert_int_equal(json_object_set_new(jwt, "kid", json_string("")), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);

	/* Two JWT keys under one kid. */
	assert_int_equal(json_object_set_new(jwt, "kid", json_string("kid-rsa")), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[3]: kid \"kid-rsa\" repeats");

	json_decref(root);
	free(json);
}

static void unknown_use_ignored(void **state)
{
	struct bundle_parsed *parsed = NULL;
	struct wd_error err;
	char *json = encode_fixture();
	json_t *root = load(json);
	json_t *keys = json_object_get(root, "keys");
	char *text;

	(void)state;
	assert_int_equal(json_object_set_new(json_array_get(keys, 0), "use",
				 json_string("wit-svid")), 0);
	assert_int_equal(json_object_set_new(json_array_get(keys, 2), "use",
				 json_string("JWT-SVID")), 0);
	assert_int_equal(json_array_append_new(keys,
				 json_pack("{s:s, s:s, s:s, s:s}", "use", "jwt-svid", "kty", "OKP",
					 "crv", "Ed25519", "kid", "kid-okp")),
		0);
	assert_int_equal(json_array_append_new(keys,
				 json_pack("{s:s, s:s, s:s}", "use", "jwt-svid", "kty", "oct",
					 "kid", "kid-oct")),
		0);
	text = json_dumps(root, JSON_COMPACT);
	assert_non_null(text);

	assert_int_equal(bundle_from_spiffe_json(text, strlen(text), &parsed, &err), 0);
	assert_int_equal(sk_X509_num(parsed->x509_authorities), 1);
	assert_int_equal(X509_cmp(sk_X509_value(parsed->x509_authorities, 0), fx.cas[1]), 0);
	assert_int_equal(parsed->jwt_authority_count, 1);
	assert_string_equal(parsed->jwt_authorities[0].kid, "kid-rsa");

	bundle_parsed_free(parsed);
	free(text);
	json_decref(root);
	free(json);
}

static void malformed_key_rejected(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(parse_text("{\"keys\":[{\"kty\":\"EC\"}]}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[0] has no use");
	assert_int_equal(parse_text("{\"keys\":[{\"use\":\"jwt-svid\",\"kid\":\"k\"}]}", &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[0] has no kty");
	assert_int_equal(parse_text("{\"keys\":[7]}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[0] is not an object");
	assert_int_equal(parse_text("{\"keys\":[{\"use\":\"jwt-svid\",\"kty\":\"EC\","
				    "\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
				 &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"bundle keys[0]: JWK x and y are 3 and 3 bytes; curve P-256 needs 32 each");
}

static void sequence_and_hint_checked(void **state)
{
	struct bundle_parsed *parsed = NULL;
	struct wd_error err;
	static const char big[] = "{\"keys\":[],\"spiffe_sequence\":9223372036854775807,"
				  "\"spiffe_refresh_hint\":0}";

	(void)state;
	assert_int_equal(parse_text("{\"keys\":[],\"spiffe_sequence\":-1}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle spiffe_sequence is not a non-negative integer");
	assert_int_equal(parse_text("{\"keys\":[],\"spiffe_sequence\":\"1\"}", &err), WD_EINVAL);
	assert_int_equal(parse_text("{\"keys\":[],\"spiffe_sequence\":1.5}", &err), WD_EINVAL);
	assert_int_equal(parse_text("{\"keys\":[],\"spiffe_refresh_hint\":-5}", &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle spiffe_refresh_hint is not a non-negative integer");

	assert_int_equal(bundle_from_spiffe_json(big, strlen(big), &parsed, &err), 0);
	assert_int_equal(parsed->sequence, 9223372036854775807ULL);
	assert_int_equal(parsed->refresh_hint_seconds, 0);
	bundle_parsed_free(parsed);
}

static void size_ceilings_enforced(void **state)
{
	struct wd_error err;
	struct bundle_parsed *parsed = NULL;
	size_t big_len = 1024 * 1024 + 1;
	char *big = malloc(big_len);
	size_t many_len = 9 + 513 * 3 + 2;
	char *many = malloc(many_len + 1);
	size_t pos = 0;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', big_len);
	assert_int_equal(bundle_from_spiffe_json(big, big_len, &parsed, &err), WD_ETOOBIG);
	assert_null(parsed);
	free(big);

	/* 513 empty objects, one past the key ceiling. */
	assert_non_null(many);
	memcpy(many, "{\"keys\":[", 9);
	pos = 9;
	for (int i = 0; i < 513; i++) {
		memcpy(many + pos, i == 0 ? "{}" : ",{}", i == 0 ? 2 : 3);
		pos += i == 0 ? 2 : 3;
	}
	memcpy(many + pos, "]}", 3);
	assert_int_equal(parse_text(many, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "bundle has 513 keys; the limit is 512");
	free(many);
}

static void private_jwk_rejected(void **state)
{
	struct wd_error err;
	char *json = encode_fixture();
	json_t *root = load(json);
	json_t *jwt = json_array_get(json_object_get(root, "keys"), 2);

	(void)state;
	assert_int_equal(json_object_set_new(jwt, "d", json_string("AAAA")), 0);
	assert_int_equal(parse_json(root, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle keys[2]: JWK holds private key member \"d\"");
	json_decref(root);
	free(json);
}

static void encode_bad_view_rejected(void **state)
{
	struct bundle_view view = fx.view;
	struct jwt_authority same_kid[2] = { { "k", fx.jwt_keys[0] }, { "k", fx.jwt_keys[1] } };
	struct wd_error err;
	char *json = (char *)1;

	(void)state;
	view.sequence = (uint64_t)INT64_MAX + 1;
	assert_int_equal(bundle_to_spiffe_json(&view, &json, &err), WD_EINVAL);
	assert_null(json);

	view = fx.view;
	view.refresh_hint_seconds = -1;
	assert_int_equal(bundle_to_spiffe_json(&view, &json, &err), WD_EINVAL);

	view = fx.view;
	view.jwt_authorities = same_kid;
	assert_int_equal(bundle_to_spiffe_json(&view, &json, &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWT authorities 0 and 1 share kid \"k\"");

	same_kid[1].kid = NULL;
	assert_int_equal(bundle_to_spiffe_json(&view, &json, &err), WD_EINVAL);
	assert_string_equal(err.detail, "JWT authority 1 has no kid or no key");
}

static void empty_view_encodes(void **state)
{
	struct bundle_view view = { .trust_domain = "example.org", .sequence = 1 };
	struct wd_error err;
	char *json = NULL, *pem = NULL;

	(void)state;
	assert_int_equal(bundle_to_spiffe_json(&view, &json, &err), 0);
	assert_string_equal(json, "{\"keys\":[],\"spiffe_sequence\":1}");
	assert_int_equal(bundle_to_pem(&view, &pem, &err), 0);
	assert_string_equal(pem, "");
	free(pem);
	free(json);
}

static void pem_holds_x509_authorities(void **state)
{
	struct wd_error err;
	char *pem = NULL;
	BIO *bio;
	X509 *cert;

	(void)state;
	assert_int_equal(bundle_to_pem(&fx.view, &pem, &err), 0);
	bio = BIO_new_mem_buf(pem, -1);
	assert_non_null(bio);
	for (int i = 0; i < 2; i++) {
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		assert_non_null(cert);
		assert_int_equal(X509_cmp(cert, fx.cas[i]), 0);
		X509_free(cert);
	}
	assert_null(PEM_read_bio_X509(bio, NULL, NULL, NULL));
	BIO_free(bio);
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_fields_exact),
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(duplicate_keys_rejected),
		cmocka_unit_test(missing_keys_rejected),
		cmocka_unit_test(empty_keys_accepted),
		cmocka_unit_test(x5c_with_two_certs_rejected),
		cmocka_unit_test(x5c_key_mismatch_rejected),
		cmocka_unit_test(jwt_key_without_kid_rejected),
		cmocka_unit_test(unknown_use_ignored),
		cmocka_unit_test(malformed_key_rejected),
		cmocka_unit_test(sequence_and_hint_checked),
		cmocka_unit_test(size_ceilings_enforced),
		cmocka_unit_test(private_jwk_rejected),
		cmocka_unit_test(encode_bad_view_rejected),
		cmocka_unit_test(empty_view_encodes),
		cmocka_unit_test(pem_holds_x509_authorities),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
