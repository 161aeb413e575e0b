/* Unit tests for X.509-SVIDs: every field of the issued profile read back
 * with the OpenSSL API, the CA profile, and verification of good and bad
 * chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */
#define CA_TTL (24 * 3600)
#define SVID_TTL 3600

struct fixture {
	EVP_PKEY *ca_key;
	X509 *ca;
	EVP_PKEY *other_ca_key;
	X509 *other_ca;
	EVP_PKEY *leaf_key;
	struct spiffe_id id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (crypto_key_generate(CRYPTO_KEY_EC_P256, &f->ca_key, NULL) < 0 ||
	    crypto_key_generate(CRYPTO_KEY_EC_P256, &f->other_ca_key, NULL) < 0 ||
	    crypto_key_generate(CRYPTO_KEY_EC_P256, &f->leaf_key, NULL) < 0)
		return -1;
	if (x509svid_ca_create(f->ca_key, "example.org", NOW, CA_TTL, 10, &f->ca, NULL) < 0 ||
	    x509svid_ca_create(f->other_ca_key, "example.org", NOW, CA_TTL, 10, &f->other_ca,
		    NULL) < 0)
		return -1;
	if (spiffe_id_parse("spiffe://example.org/ns/prod/sa/web", 35, &f->id, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->other_ca_key);
	EVP_PKEY_free(f->leaf_key);
	X509_free(f->ca);
	X509_free(f->other_ca);
	free(f);
	return 0;
}

static X509 *issue(struct fixture *f, const char *const *dns, size_t dns_count, int64_t ttl)
{
	struct x509svid_request req = {
		.id = &f->id,
		.public_key = f->leaf_key,
		.dns_names = dns,
		.dns_name_count = dns_count,
		.now = NOW,
		.ttl_seconds = ttl,
		.backdate_seconds = X509SVID_DEFAULT_BACKDATE_SECONDS,
	};
	struct wd_error err;
	X509 *cert = NULL;

	wd_error_clear(&err);
	if (x509svid_issue(f->ca, f->ca_key, &req, &cert, &err) < 0)
		print_error("issue failed: %s\n", err.detail);
	assert_non_null(cert);
	return cert;
}

/* Returns the criticality of the extension nid (-1 when absent). */
static int ext_critical(X509 *cert, int nid)
{
	int idx = X509_get_ext_by_NID(cert, nid, -1);

	if (idx < 0)
		return -1;
	assert_int_equal(X509_get_ext_by_NID(cert, nid, idx), -1);
	return X509_EXTENSION_get_critical(X509_get_ext(cert, idx));
}

static void name_entry(X509_NAME *name, int nid, char *out, size_t out_len)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *value;

	out[0] = '\0';
	if (idx < 0)
		return;
	value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	snprintf(out, out_len, "%.*s", ASN1_STRING_length(value),
		(const char *)ASN1_STRING_get0_data(value));
}

static int64_t time_of(const ASN1_TIME *t)
{
	struct tm tm;

	assert_true(ASN1_TIME_to_tm(t, &tm));
	return (int64_t)timegm(&tm);
}

static void svid_profile(void **state)
{
	static const char *const dns[] = { "web.example.org", "web.internal" };
	struct fixture *f = *state;
	X509 *cert = issue(f, dns, 2, SVID_TTL);
	BASIC_CONSTRAINTS *bc;
	EXTENDED_KEY_USAGE *eku;
	GENERAL_NAMES *san;
	AUTHORITY_KEYID *akid;
	char text[128];
	int crit = -1;

	(void)state;
	assert_int_equal(X509_get_version(cert), X509_VERSION_3);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(f->ca)), 0);
	name_entry(X509_get_subject_name(cert), NID_organizationName, text, sizeof(text));
	assert_string_equal(text, "warden");
	name_entry(X509_get_subject_name(cert), NID_commonName, text, sizeof(text));
	assert_string_equal(text, "web.example.org");
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(cert)), 2);

	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), f->leaf_key), 1);
	assert_int_equal(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);

	assert_int_equal(ext_critical(cert, NID_basic_constraints), 1);
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(bc->ca, 0);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);

	assert_int_equal(ext_critical(cert, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(cert),
		KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT);

	assert_int_equal(ext_critical(cert, NID_ext_key_usage), 0);
	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 2);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)), NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);

	/* The subject is not empty, so the SAN need not be critical. */
	assert_int_equal(ext_critical(cert, NID_subject_alt_name), 0);
	san = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 3);
	{
		const GENERAL_NAME *uri = sk_GENERAL_NAME_value(san, 0);
		const GENERAL_NAME *dns0 = sk_GENERAL_NAME_value(san, 1);
		const GENERAL_NAME *dns1 = sk_GENERAL_NAME_value(san, 2);

		assert_int_equal(uri->type, GEN_URI);
		assert_string_equal((const char *)ASN1_STRING_get0_data(
					    uri->d.uniformResourceIdentifier),
			"spiffe://example.org/ns/prod/sa/web");
		assert_int_equal(dns0->type, GEN_DNS);
		assert_string_equal((const char *)ASN1_STRING_get0_data(dns0->d.dNSName),
			"web.example.org");
		assert_int_equal(dns1->type, GEN_DNS);
		assert_string_equal((const char *)ASN1_STRING_get0_data(dns1->d.dNSName),
			"web.internal");
	}
	GENERAL_NAMES_free(san);

	assert_int_equal(ext_critical(cert, NID_subject_key_identifier), 0);
	assert_non_null(X509_get0_subject_key_id(cert));
	assert_int_equal(ext_critical(cert, NID_authority_key_identifier), 0);
	akid = X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, NULL);
	assert_non_null(akid);
	assert_non_null(akid->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(f->ca)), 0);
	AUTHORITY_KEYID_free(akid);

	assert_int_equal(time_of(X509_get0_notBefore(cert)), NOW - 10);
	assert_int_equal(time_of(X509_get0_notAfter(cert)), NOW + SVID_TTL);
	assert_int_equal(X509_verify(cert, f->ca_key), 1);
	X509_free(cert);
}

/* The certificate x509svid_issue built through OpenSSL's configuration
 * path before it kept an issuer: X509_set_pubkey and X509V3_EXT_conf_nid for
 * every extension. The reference for the field by field comparison. */
static X509 *issue_reference(struct fixture *f, EVP_PKEY *leaf_key, const char *dns_name)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *name;
	X509V3_CTX ctx;
	X509 *cert = X509_new();
	X509_NAME *subject = X509_NAME_new();
	static const struct {
		int nid;
		const char *value;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature,keyEncipherment,keyAgreement" },
		{ NID_ext_key_usage, "serverAuth,clientAuth" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};

	assert_non_null(cert);
	assert_non_null(names);
	assert_true(X509_set_version(cert, X509_VERSION_3));
	assert_true(X509_set_issuer_name(cert, X509_get_subject_name(f->ca)));
	assert_true(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
		(const unsigned char *)"warden", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
		(const unsigned char *)dns_name, -1, -1, 0));
	assert_true(X509_set_subject_name(cert, subject));
	X509_NAME_free(subject);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), NOW - 10));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), NOW + SVID_TTL));
	assert_true(X509_set_pubkey(cert, leaf_key));

	X509V3_set_ctx(&ctx, f->ca, cert, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);

		assert_non_null(ext);
		assert_true(X509_add_ext(cert, ext, -1));
		X509_EXTENSION_free(ext);
	}
	name = GENERAL_NAME_new();
	name->type = GEN_URI;
	name->d.uniformResourceIdentifier = ASN1_IA5STRING_new();
	assert_true(ASN1_STRING_set(name->d.uniformResourceIdentifier,
		"spiffe://example.org/ns/prod/sa/web", -1));
	assert_true(sk_GENERAL_NAME_push(names, name));
	name = GENERAL_NAME_new();
	name->type = GEN_DNS;
	name->d.dNSName = ASN1_IA5STRING_new();
	assert_true(ASN1_STRING_set(name->d.dNSName, dns_name, -1));
	assert_true(sk_GENERAL_NAME_push(names, name));
	assert_int_equal(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0,
		X509V3_ADD_DEFAULT), 1);
	GENERAL_NAMES_free(names);
	assert_true(X509_sign(cert, f->ca_key, EVP_sha256()) > 0);
	return cert;
}

/* Compares two DER encodings made by an i2d function. */
#define assert_same_der(i2d, a, b)                                                     \
	do {                                                                           \
		unsigned char *der_a_ = NULL, *der_b_ = NULL;                          \
		int len_a_ = i2d(a, &der_a_);                                          \
		int len_b_ = i2d(b, &der_b_);                                          \
		assert_true(len_a_ > 0);                                               \
		assert_int_equal(len_a_, len_b_);                                      \
		assert_memory_equal(der_a_, der_b_, (size_t)len_a_);                   \
		OPENSSL_free(der_a_);                                                  \
		OPENSSL_free(der_b_);                                                  \
	} while (0)

static void compare_with_reference(struct fixture *f, EVP_PKEY *leaf_key)
{
	static const char *const dns[] = { "web.example.org" };
	struct x509svid_issuer *issuer = NULL;
	struct x509svid_request req = {
		.id = &f->id,
		.public_key = leaf_key,
		.dns_names = dns,
		.dns_name_count = 1,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
		.backdate_seconds = X509SVID_DEFAULT_BACKDATE_SECONDS,
	};
	struct wd_error err;
	X509 *reference = issue_reference(f, leaf_key, dns[0]);
	X509 *cert = NULL;
	const X509_ALGOR *alg_a, *alg_b;

	assert_int_equal(x509svid_issuer_new(f->ca, f->ca_key, &issuer, &err), 0);
	assert_int_equal(x509svid_issuer_issue(issuer, &req, &cert, &err), 0);

	assert_int_equal(X509_get_version(cert), X509_get_version(reference));
	assert_same_der(i2d_X509_NAME, X509_get_issuer_name(cert),
		X509_get_issuer_name(reference));
	assert_same_der(i2d_X509_NAME, X509_get_subject_name(cert),
		X509_get_subject_name(reference));
	assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(cert),
		X509_get0_notBefore(reference)), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(cert),
		X509_get0_notAfter(reference)), 0);
	assert_same_der(i2d_X509_PUBKEY, X509_get_X509_PUBKEY(cert),
		X509_get_X509_PUBKEY(reference));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), leaf_key), 1);

	assert_int_equal(X509_get_ext_count(cert), X509_get_ext_count(reference));
	for (int i = 0; i < X509_get_ext_count(reference); i++)
		assert_same_der(i2d_X509_EXTENSION, X509_get_ext(cert, i), X509_get_ext(reference, i));

	X509_get0_signature(NULL, &alg_a, cert);
	X509_get0_signature(NULL, &alg_b, reference);
	assert_same_der(i2d_X509_ALGOR, alg_a, alg_b);
	assert_int_equal(X509_verify(cert, f->ca_key), 1);

	X509_free(cert);
	X509_free(reference);
	x509svid_issuer_free(issuer);
}

/* The issuer, with its cached extensions, its EC subject key path and its
 * copied signing context, builds the same certificate as OpenSSL's
 * configuration path, field by field, for EC and RSA subject keys. */
static void issuer_matches_openssl_path(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *p384 = NULL;
	EVP_PKEY *rsa = NULL;

	compare_with_reference(f, f->leaf_key);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P384, &p384, NULL), 0);
	compare_with_reference(f, p384);
	/* The curve changes back: the issuer's cached group is replaced. */
	compare_with_reference(f, f->leaf_key);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA_2048, &rsa, NULL), 0);
	compare_with_reference(f, rsa);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
}

static void issuer_rejects_mismatched_key(void **state)
{
	struct fixture *f = *state;
	struct x509svid_issuer *issuer = NULL;
	struct wd_error err;

	assert_int_equal(x509svid_issuer_new(f->ca, f->other_ca_key, &issuer, &err), WD_EINVAL);
	assert_null(issuer);
	assert_non_null(strstr(err.detail, "does not match"));
	assert_int_equal(x509svid_issuer_new(NULL, f->ca_key, &issuer, &err), WD_EINVAL);
	x509svid_issuer_free(NULL);
}

static void svid_without_dns_names(void **state)
{
	struct fixture *f = *state;
	X509 *cert = issue(f, NULL, 0, SVID_TTL);
	GENERAL_NAMES *san;
	char text[128];

	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(cert)), 1);
	name_entry(X509_get_subject_name(cert), NID_organizationName, text, sizeof(text));
	assert_string_equal(text, "warden");
	san = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	assert_int_equal(sk_GENERAL_NAME_value(san, 0)->type, GEN_URI);
	GENERAL_NAMES_free(san);
	X509_free(cert);
}

static void svid_not_after_capped_by_ca(void **state)
{
	struct fixture *f = *state;
	X509 *cert = issue(f, NULL, 0, 7 * 24 * 3600);

	assert_int_equal(time_of(X509_get0_notAfter(cert)), NOW + CA_TTL);
	assert_int_equal(time_of(X509_get0_notAfter(cert)),
		time_of(X509_get0_notAfter(f->ca)));
	X509_free(cert);
}

static void svid_serials_random_and_unique(void **state)
{
	struct fixture *f = *state;
	char serials[100][41];

	for (size_t i = 0; i < 100; i++) {
		X509 *cert = issue(f, NULL, 0, SVID_TTL);
		const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);

		assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
		assert_true(ASN1_STRING_length(serial) >= 1);
		assert_true(ASN1_STRING_length(serial) <= 16);
		assert_int_equal(crypto_x509_serial_hex(cert, serials[i], sizeof(serials[i])), 0);
		assert_true(strlen(serials[i]) <= 32);
		assert_true(serials[i][0] != '0');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(serials[i], serials[j]);
		X509_free(cert);
	}
}

static void svid_issue_rejects_bad_requests(void **state)
{
	static const char *const bad_dns[] = { "bad name.example.org" };
	struct fixture *f = *state;
	struct spiffe_id root;
	struct wd_error err;
	X509 *cert = (X509 *)1;
	struct x509svid_request req = {
		.id = &f->id,
		.public_key = f->leaf_key,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
		.backdate_seconds = 10,
	};

	assert_int_equal(spiffe_id_parse("spiffe://example.org", 20, &root, NULL), 0);
	req.id = &root;
	assert_int_equal(x509svid_issue(f->ca, f->ca_key, &req, &cert, &err), WD_EINVAL);
	assert_null(cert);
	assert_non_null(strstr(err.detail, "the ID needs a path"));
	req.id = &f->id;

	req.ttl_seconds = 0;
	assert_int_equal(x509svid_issue(f->ca, f->ca_key, &req, &cert, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "TTL 0 is not positive"));
	req.ttl_seconds = SVID_TTL;

	req.dns_names = bad_dns;
	req.dns_name_count = 1;
	assert_int_equal(x509svid_issue(f->ca, f->ca_key, &req, &cert, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "invalid DNS name \"bad name.example.org\""));
	req.dns_names = NULL;
	req.dns_name_count = 0;

	assert_int_equal(x509svid_issue(f->ca, f->other_ca_key, &req, &cert, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "CA key does not match"));

	req.now = NOW + CA_TTL + 1;
	assert_int_equal(x509svid_issue(f->ca, f->ca_key, &req, &cert, &err), WD_EEXPIRED);
	assert_non_null(strstr(err.detail, "CA certificate expired"));
	assert_null(cert);
}

static void ca_profile(void **state)
{
	struct fixture *f = *state;
	BASIC_CONSTRAINTS *bc;
	GENERAL_NAMES *san;
	struct spiffe_id id;
	char text[128];

	assert_int_equal(X509_get_version(f->ca), X509_VERSION_3);
	assert_int_equal(X509_check_issued(f->ca, f->ca), X509_V_OK);
	assert_int_equal(X509_verify(f->ca, f->ca_key), 1);
	name_entry(X509_get_subject_name(f->ca), NID_organizationName, text, sizeof(text));
	assert_string_equal(text, "warden");
	name_entry(X509_get_subject_name(f->ca), NID_commonName, text, sizeof(text));
	assert_string_equal(text, "example.org CA");

	assert_int_equal(ext_critical(f->ca, NID_basic_constraints), 1);
	bc = X509_get_ext_d2i(f->ca, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_int_not_equal(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(ext_critical(f->ca, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(f->ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(ext_critical(f->ca, NID_ext_key_usage), -1);
	assert_non_null(X509_get0_subject_key_id(f->ca));

	san = X509_get_ext_d2i(f->ca, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	GENERAL_NAMES_free(san);
	assert_int_equal(x509svid_spiffe_id(f->ca, &id, NULL), 0);
	assert_string_equal(id.trust_domain, "example.org");
	assert_string_equal(id.path, "");

	assert_int_equal(time_of(X509_get0_notBefore(f->ca)), NOW - 10);
	assert_int_equal(time_of(X509_get0_notAfter(f->ca)), NOW + CA_TTL);
}

static void ca_p384_signs_with_sha384(void **state)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY *leaf_key = NULL;
	X509 *ca = NULL;
	X509 *leaf = NULL;
	struct spiffe_id id;
	struct wd_error err;
	struct x509svid_request req = { .id = &id, .now = NOW, .ttl_seconds = 60 };

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P384, &key, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA_2048, &leaf_key, NULL), 0);
	assert_int_equal(x509svid_ca_create(key, "td", NOW, CA_TTL, 0, &ca, &err), 0);
	assert_int_equal(X509_get_signature_nid(ca), NID_ecdsa_with_SHA384);
	assert_int_equal(spiffe_id_parse("spiffe://td/a", 13, &id, NULL), 0);
	req.public_key = leaf_key;
	assert_int_equal(x509svid_issue(ca, key, &req, &leaf, &err), 0);
	assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA384);
	assert_int_equal(time_of(X509_get0_notBefore(leaf)), NOW);

	X509_free(ca);
	assert_int_equal(x509svid_ca_create(key, "Bad.TD", NOW, CA_TTL, 0, &ca, &err), WD_EINVAL);
	assert_null(ca);
	assert_non_null(strstr(err.detail, "invalid trust domain \"Bad.TD\""));

	X509_free(leaf);
	EVP_PKEY_free(key);
	EVP_PKEY_free(leaf_key);
}

static STACK_OF(X509) *chain_of(X509 *leaf)
{
	STACK_OF(X509) *chain = sk_X509_new_null();

	assert_non_null(chain);
	assert_true(sk_X509_push(chain, leaf) > 0);
	return chain;
}

static int verify_one(struct fixture *f, X509 *leaf, int64_t now, struct spiffe_id *id,
	struct wd_error *err)
{
	STACK_OF(X509) *chain = chain_of(leaf);
	X509 *authorities[] = { f->ca };
	int rc = x509svid_verify(chain, authorities, 1, now, id, err);

	sk_X509_free(chain);
	return rc;
}

static void verify_accepts_issued_svid(void **state)
{
	struct fixture *f = *state;
	X509 *leaf = issue(f, NULL, 0, SVID_TTL);
	X509 *authorities[] = { f->other_ca, f->ca };
	STACK_OF(X509) *chain = chain_of(leaf);
	struct spiffe_id id;
	struct wd_error err;

	wd_error_clear(&err);
	assert_int_equal(verify_one(f, leaf, NOW, &id, &err), 0);
	assert_string_equal(id.trust_domain, "example.org");
	assert_string_equal(id.path, "/ns/prod/sa/web");

	/* The signing CA among several authorities, one second before
	 * notAfter (OpenSSL treats notAfter itself as expired). */
	assert_int_equal(x509svid_verify(chain, authorities, 2, NOW + SVID_TTL - 1, &id, &err), 0);

	sk_X509_free(chain);
	X509_free(leaf);
}

static void verify_rejects_other_ca(void **state)
{
	struct fixture *f = *state;
	X509 *leaf = issue(f, NULL, 0, SVID_TTL);
	X509 *authorities[] = { f->other_ca };
	STACK_OF(X509) *chain = chain_of(leaf);
	struct spiffe_id id;
	struct wd_error err;

	assert_int_equal(x509svid_verify(chain, authorities, 1, NOW, &id, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "chain verification failed at depth 0"));
	assert_string_equal(id.path, "");
	assert_int_equal(x509svid_verify(chain, authorities, 0, NOW, &id, &err), WD_EINVAL);
	sk_X509_free(chain);
	X509_free(leaf);
}

static void verify_rejects_expired(void **state)
{
	struct fixture *f = *state;
	X509 *leaf = issue(f, NULL, 0, SVID_TTL);
	struct spiffe_id id;
	struct wd_error err;

	assert_int_equal(verify_one(f, leaf, NOW + SVID_TTL + 1, &id, &err), WD_EEXPIRED);
	assert_non_null(strstr(err.detail, "certificate has expired"));
	assert_int_equal(verify_one(f, leaf, NOW - 11, &id, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "not yet valid"));
	X509_free(leaf);
}

/* Signs a leaf for leaf_key with the fixture CA, with the given extension
 * values in OpenSSL configuration syntax (NULL leaves one out). */
static X509 *craft_leaf(struct fixture *f, const char *san, const char *bc, const char *ku,
	const char *eku)
{
	const char *values[] = { bc, ku, eku, "hash", "keyid:always", san };
	const int nids[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
		NID_subject_key_identifier, NID_authority_key_identifier,
		NID_subject_alt_name };
	X509 *cert = X509_new();
	X509V3_CTX ctx;

	assert_non_null(cert);
	assert_true(X509_set_version(cert, X509_VERSION_3));
	assert_int_equal(crypto_x509_set_random_serial(cert), 0);
	assert_true(X509_set_issuer_name(cert, X509_get_subject_name(f->ca)));
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "O", MBSTRING_UTF8,
		(const unsigned char *)"crafted", -1, -1, 0));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), NOW - 10));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), NOW + SVID_TTL));
	assert_true(X509_set_pubkey(cert, f->leaf_key));
	X509V3_set_ctx(&ctx, f->ca, cert, NULL, NULL, 0);
	for (size_t i = 0; i < WD_ARRAY_LEN(nids); i++) {
		X509_EXTENSION *ext;

		if (!values[i])
			continue;
		ext = X509V3_EXT_conf_nid(NULL, &ctx, nids[i], values[i]);
		assert_non_null(ext);
		assert_true(X509_add_ext(cert, ext, -1));
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(cert, f->ca_key, EVP_sha256()) > 0);
	return cert;
}

#define GOOD_SAN "URI:spiffe://example.org/crafted"
#define GOOD_BC "critical,CA:FALSE"
#define GOOD_KU "critical,digitalSignature"
#define GOOD_EKU "serverAuth,clientAuth"

static void check_crafted(struct fixture *f, const char *san, const char *bc, const char *ku,
	const char *eku, int code, const char *reason)
{
	X509 *leaf = craft_leaf(f, san, bc, ku, eku);
	struct spiffe_id id;
	struct wd_error err;
	int rc;

	wd_error_clear(&err);
	rc = verify_one(f, leaf, NOW, &id, &err);
	if (rc != code || (reason && !strstr(err.detail, reason)))
		print_error("rc %d detail: %s\n", rc, err.detail);
	assert_int_equal(rc, code);
	if (reason)
		assert_non_null(strstr(err.detail, reason));
	if (code == 0)
		assert_string_equal(id.path, "/crafted");
	X509_free(leaf);
}

static void verify_checks_leaf_rules(void **state)
{
	struct fixture *f = *state;

	/* The crafted profile itself passes, also without EKU (SHOULD). */
	check_crafted(f, GOOD_SAN, GOOD_BC, GOOD_KU, GOOD_EKU, 0, NULL);
	check_crafted(f, GOOD_SAN, GOOD_BC, GOOD_KU, NULL, 0, NULL);
	check_crafted(f, GOOD_SAN, NULL, GOOD_KU, GOOD_EKU, 0, NULL);

	check_crafted(f, GOOD_SAN ",URI:spiffe://example.org/second", GOOD_BC, GOOD_KU, GOOD_EKU,
		WD_EINVAL, "has 2 URI SANs, an X.509-SVID must have exactly one");
	check_crafted(f, "DNS:web.example.org", GOOD_BC, GOOD_KU, GOOD_EKU, WD_EINVAL,
		"has 0 URI SANs");
	check_crafted(f, NULL, GOOD_BC, GOOD_KU, GOOD_EKU, WD_EINVAL,
		"no subjectAltName extension");
	check_crafted(f, "URI:https://example.org/web", GOOD_BC, GOOD_KU, GOOD_EKU, WD_EINVAL,
		"URI SAN is not a SPIFFE ID: invalid SPIFFE ID \"https://example.org/web\"");
	check_crafted(f, "URI:spiffe://example.org", GOOD_BC, GOOD_KU, GOOD_EKU, WD_EINVAL,
		"with no path; a leaf needs a non-root path");
	check_crafted(f, GOOD_SAN, GOOD_BC, "critical,digitalSignature,keyCertSign", GOOD_EKU,
		WD_EINVAL, "keyUsage includes keyCertSign");
	check_crafted(f, GOOD_SAN, GOOD_BC, "critical,digitalSignature,cRLSign", GOOD_EKU,
		WD_EINVAL, "keyUsage includes cRLSign");
	check_crafted(f, GOOD_SAN, GOOD_BC, "critical,keyEncipherment", GOOD_EKU, WD_EINVAL,
		"keyUsage lacks digitalSignature");
	check_crafted(f, GOOD_SAN, GOOD_BC, NULL, GOOD_EKU, WD_EINVAL, "no keyUsage extension");
	check_crafted(f, GOOD_SAN, GOOD_BC, GOOD_KU, "serverAuth", WD_EINVAL,
		"must contain both serverAuth and clientAuth");
	check_crafted(f, GOOD_SAN, GOOD_BC, GOOD_KU, "clientAuth,codeSigning", WD_EINVAL,
		"must contain both serverAuth and clientAuth");
	check_crafted(f, GOOD_SAN, "critical,CA:TRUE", GOOD_KU, GOOD_EKU, WD_EINVAL,
		"is a CA certificate");
}

static void verify_rejects_ca_as_leaf(void **state)
{
	struct fixture *f = *state;
	struct spiffe_id id;
	struct wd_error err;

	assert_int_equal(verify_one(f, f->ca, NOW, &id, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "leaf is a CA certificate"));
	assert_string_equal(id.trust_domain, "");
}

static void verify_with_chain_of_intermediate(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *mid_key = NULL;
	X509 *mid = NULL;
	X509 *leaf = NULL;
	X509V3_CTX ctx;
	STACK_OF(X509) *chain;
	X509 *authorities[] = { f->ca };
	struct spiffe_id id;
	struct wd_error err;
	struct x509svid_request req = {
		.id = &f->id, .public_key = f->leaf_key, .now = NOW, .ttl_seconds = 60,
	};

	/* An intermediate CA signed by the root, as a nested server has. */
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &mid_key, NULL), 0);
	assert_int_equal(x509svid_ca_create(mid_key, "example.org", NOW, CA_TTL, 0, &mid, NULL),
		0);
	assert_true(X509_set_issuer_name(mid, X509_get_subject_name(f->ca)));
	X509V3_set_ctx(&ctx, f->ca, mid, NULL, NULL, 0);
	{
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx,
			NID_authority_key_identifier, "keyid:always");

		assert_non_null(ext);
		assert_true(X509_add_ext(mid, ext, -1));
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(mid, f->ca_key, EVP_sha256()) > 0);
	assert_int_equal(x509svid_issue(mid, mid_key, &req, &leaf, &err), 0);

	chain = chain_of(leaf);
	/* Without the intermediate the path cannot be built. */
	assert_int_equal(x509svid_verify(chain, authorities, 1, NOW, &id, &err), WD_ECRYPTO);
	assert_true(sk_X509_push(chain, mid) > 0);
	assert_int_equal(x509svid_verify(chain, authorities, 1, NOW, &id, &err), 0);
	assert_string_equal(id.path, "/ns/prod/sa/web");

	sk_X509_free(chain);
	X509_free(leaf);
	X509_free(mid);
	EVP_PKEY_free(mid_key);
}

static void verify_bad_arguments(void **state)
{
	struct fixture *f = *state;
	STACK_OF(X509) *empty = sk_X509_new_null();
	X509 *authorities[] = { f->ca };
	struct spiffe_id id;
	struct wd_error err;

	assert_int_equal(x509svid_verify(empty, authorities, 1, NOW, &id, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "chain is empty"));
	assert_int_equal(x509svid_verify(NULL, authorities, 1, NOW, &id, &err), WD_EINVAL);
	assert_int_equal(x509svid_spiffe_id(NULL, &id, &err), WD_EINVAL);
	sk_X509_free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(svid_profile),
		cmocka_unit_test(svid_without_dns_names),
		cmocka_unit_test(issuer_matches_openssl_path),
		cmocka_unit_test(issuer_rejects_mismatched_key),
		cmocka_unit_test(svid_not_after_capped_by_ca),
		cmocka_unit_test(svid_serials_random_and_unique),
		cmocka_unit_test(svid_issue_rejects_bad_requests),
		cmocka_unit_test(ca_profile),
		cmocka_unit_test(ca_p384_signs_with_sha384),
		cmocka_unit_test(verify_accepts_issued_svid),
		cmocka_unit_test(verify_rejects_other_ca),
		cmocka_unit_test(verify_rejects_expired),
		cmocka_unit_test(verify_checks_leaf_rules),
		cmocka_unit_test(verify_rejects_ca_as_leaf),
		cmocka_unit_test(verify_with_chain_of_intermediate),
		cmocka_unit_test(verify_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
