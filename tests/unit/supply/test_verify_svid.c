// Unit tests of bundles signed with an X.509-SVID: the chain check against
// the trust bundle, the expected SPIFFE ID, the time of the check, and the
// signature made with the leaf's key.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identity/x509svid.h"
#include "supply/bundle.h"
#include "supply/verify.h"

#define NOW 1750000000
#define SVID_TTL 3600
#define CA_TTL (30 * 86400)

struct fixture {
	EVP_PKEY *ca_key;
	EVP_PKEY *other_ca_key;
	X509 *ca;
	X509 *other_ca;
	EVP_PKEY *leaf_key;
	X509 *leaf;
	uint8_t digest[SUPPLY_DIGEST_LEN];
	char *bundle_text;
};

static X509 *issue(struct fixture *f, X509 *ca, EVP_PKEY *ca_key, const char *path)
{
	struct spiffe_id id = { .trust_domain = "example.org" };
	struct x509svid_request request = {
		.id = &id,
		.public_key = f->leaf_key,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
		.backdate_seconds = X509SVID_DEFAULT_BACKDATE_SECONDS,
	};
	X509 *cert = NULL;

	snprintf(id.path, sizeof(id.path), "%s", path);
	assert_int_equal(x509svid_issue(ca, ca_key, &request, &cert, NULL), WD_OK);
	return cert;
}

// Writes a bundle over f->digest signed with f->leaf_key, carrying cert.
static char *signed_bundle(struct fixture *f, X509 *cert)
{
	struct supply_bundle bundle = { .content = SUPPLY_CONTENT_MESSAGE_SIGNATURE };
	char *text = NULL;

	bundle.material = SUPPLY_MATERIAL_CERTIFICATE;
	bundle.certificates = sk_X509_new_null();
	assert_non_null(bundle.certificates);
	assert_int_equal(X509_up_ref(cert), 1);
	assert_true(sk_X509_push(bundle.certificates, cert) > 0);
	bundle.has_message_digest = true;
	memcpy(bundle.message_digest, f->digest, SUPPLY_DIGEST_LEN);
	assert_int_equal(supply_digest_sign(f->leaf_key, f->digest, &bundle.signature,
				 &bundle.signature_len, NULL), WD_OK);
	assert_int_equal(supply_bundle_write(&bundle, &text, NULL), WD_OK);
	supply_bundle_clear(&bundle);
	return text;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(supply_key_generate(&f->ca_key, NULL), WD_OK);
	assert_int_equal(supply_key_generate(&f->other_ca_key, NULL), WD_OK);
	assert_int_equal(supply_key_generate(&f->leaf_key, NULL), WD_OK);
	assert_int_equal(x509svid_ca_create(f->ca_key, "example.org", NOW, CA_TTL, 10, &f->ca,
				 NULL), WD_OK);
	assert_int_equal(x509svid_ca_create(f->other_ca_key, "example.org", NOW, CA_TTL, 10,
				 &f->other_ca, NULL), WD_OK);
	f->leaf = issue(f, f->ca, f->ca_key, "/builder");
	assert_int_equal(supply_digest_bytes("artifact", 8, f->digest, NULL), WD_OK);
	f->bundle_text = signed_bundle(f, f->leaf);
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
	X509_free(f->leaf);
	free(f->bundle_text);
	free(f);
	return 0;
}

static int verify(struct fixture *f, X509 *authority, const char *spiffe_id, int64_t now,
	bool require_current, struct supply_verified *verified, struct wd_error *err)
{
	struct supply_trust trust = {
		.authorities = &authority,
		.authority_count = 1,
		.spiffe_id = spiffe_id,
		.now = now,
		.require_current = require_current,
	};

	return supply_verify_bundle_text(f->digest, f->bundle_text, strlen(f->bundle_text),
		&trust, verified, err);
}

static void svid_bundle_verifies(void **state)
{
	struct fixture *f = *state;
	struct supply_verified verified;
	struct wd_error err = { 0 };

	assert_non_null(strstr(f->bundle_text, "\"verificationMaterial\":{\"certificate\":"
					       "{\"rawBytes\":\""));
	assert_int_equal(verify(f, f->ca, "spiffe://example.org/builder", NOW + 60, false,
				 &verified, &err), WD_OK);
	assert_string_equal(verified.spiffe_id, "spiffe://example.org/builder");
}

static void wrong_spiffe_id_fails(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	assert_int_equal(verify(f, f->ca, "spiffe://example.org/deployer", NOW + 60, false, NULL,
				 &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "wrong signer: the certificate's SPIFFE ID is "
		"spiffe://example.org/builder, expected spiffe://example.org/deployer");

	assert_int_equal(verify(f, f->ca, "spiffe://other.org/builder", NOW + 60, false, NULL,
				 &err), WD_ECRYPTO);
	assert_int_equal(verify(f, f->ca, "not an id", NOW + 60, false, NULL, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "not an id"));
}

static void other_server_ca_fails(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	assert_int_equal(verify(f, f->other_ca, "spiffe://example.org/builder", NOW + 60, false,
				 NULL, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "X.509-SVID chain verification failed at depth 0"));
}

static void certificate_of_another_key_fails(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	EVP_PKEY *signing_key = f->leaf_key;
	X509 *other_leaf;

	// The certificate is a valid SVID of the same ID, for another key.
	assert_int_equal(supply_key_generate(&f->leaf_key, NULL), WD_OK);
	other_leaf = issue(f, f->ca, f->ca_key, "/builder");
	EVP_PKEY_free(f->leaf_key);
	f->leaf_key = signing_key;
	free(f->bundle_text);
	f->bundle_text = NULL;

	struct supply_bundle bundle;
	char *good = signed_bundle(f, f->leaf);
	char *swapped = signed_bundle(f, other_leaf);
	f->bundle_text = swapped;
	assert_int_equal(verify(f, f->ca, "spiffe://example.org/builder", NOW + 60, false, NULL,
				 &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "invalid signature"));
	assert_int_equal(supply_bundle_parse(swapped, strlen(swapped), &bundle, &err), WD_OK);
	supply_bundle_clear(&bundle);

	free(swapped);
	f->bundle_text = good;
	X509_free(other_leaf);
}

static void check_time_follows_svid_validity(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	const char *id = "spiffe://example.org/builder";

	// Expired: accepted by default, since it chained while it was valid,
	// and rejected when a currently valid SVID is required.
	assert_int_equal(verify(f, f->ca, id, NOW + SVID_TTL + 86400, false, NULL, &err), WD_OK);
	assert_int_equal(verify(f, f->ca, id, NOW + SVID_TTL + 86400, true, NULL, &err),
		WD_EEXPIRED);
	assert_non_null(strstr(err.detail, "certificate has expired"));

	// Not yet valid, and a CA that had expired at the SVID's end.
	assert_int_equal(verify(f, f->ca, id, NOW - 3600, false, NULL, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "not yet valid"));
}

static void key_trust_rejects_svid_bundle(void **state)
{
	struct fixture *f = *state;
	struct supply_trust trust = { .keys = &f->leaf_key, .key_count = 1 };
	struct wd_error err = { 0 };

	assert_int_equal(supply_verify_bundle_text(f->digest, f->bundle_text,
				 strlen(f->bundle_text), &trust, NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail, "the signature comes with an X.509 certificate: verify it "
		"with a trust bundle and the expected SPIFFE ID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(svid_bundle_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_spiffe_id_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(other_server_ca_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(certificate_of_another_key_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(check_time_follows_svid_validity, setup, teardown),
		cmocka_unit_test_setup_teardown(key_trust_rejects_svid_bundle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
