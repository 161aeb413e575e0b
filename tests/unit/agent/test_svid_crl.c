/* Unit tests for the serial-on-CRL check of cached X.509-SVIDs, and for the
 * cache dropping a revoked SVID in the step that stores the new CRLs. */
#include "cert_fixture.h"

#include "agent/cache.h"
#include "agent/selectors.h"
#include "agent/svid_crl.h"

struct pki {
	EVP_PKEY *ca_key;
	X509 *ca;
	uint8_t *ca_der;
	size_t ca_der_len;
};

static struct pki pki_new(const char *cn)
{
	struct pki pki = { 0 };

	pki.ca_key = fixture_key();
	pki.ca = fixture_cert(cn, pki.ca_key, 1, NULL, NULL);
	fixture_append_der(pki.ca, &pki.ca_der, &pki.ca_der_len);
	return pki;
}

static void pki_free(struct pki *pki)
{
	X509_free(pki->ca);
	EVP_PKEY_free(pki->ca_key);
	free(pki->ca_der);
}

/* Returns the DER chain of a fresh leaf with serial, issued by issuer. */
static uint8_t *leaf_chain(long serial, X509 *issuer, EVP_PKEY *issuer_key, size_t *ret_len)
{
	EVP_PKEY *key = fixture_key();
	X509 *leaf = fixture_cert("workload", key, serial, issuer, issuer_key);
	uint8_t *der = NULL;

	*ret_len = 0;
	fixture_append_der(leaf, &der, ret_len);
	X509_free(leaf);
	EVP_PKEY_free(key);
	return der;
}

static struct agent_crl_set *crl_set(const struct pki *pki, const uint8_t *const *crls,
	const size_t *lens, size_t count)
{
	struct agent_crl_set *set = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(agent_crl_set_new(pki->ca_der, pki->ca_der_len, crls, lens, count, &set,
		&err), 0);
	return set;
}

static void listed_serial_revoked(void **state)
{
	struct pki pki = pki_new("ca");
	const char *const serials[] = { "3", "2b" };
	size_t crl_len = 0;
	uint8_t *crl = fixture_crl_der(pki.ca, pki.ca_key, serials, 2, &crl_len);
	const uint8_t *crls[] = { crl };
	struct agent_crl_set *set = crl_set(&pki, crls, &crl_len, 1);
	size_t listed_len = 0;
	size_t other_len = 0;
	uint8_t *listed = leaf_chain(0x2b, pki.ca, pki.ca_key, &listed_len);
	uint8_t *other = leaf_chain(0x2c, pki.ca, pki.ca_key, &other_len);
	char serial[AGENT_CRL_SERIAL_HEX_SIZE];
	bool revoked = false;

	(void)state;
	assert_int_equal(agent_crl_set_count(set), 1);
	assert_int_equal(agent_crl_set_check(set, listed, listed_len, &revoked, serial), 0);
	assert_true(revoked);
	assert_string_equal(serial, "2b");

	assert_int_equal(agent_crl_set_check(set, other, other_len, &revoked, serial), 0);
	assert_false(revoked);
	assert_string_equal(serial, "2c");

	free(listed);
	free(other);
	agent_crl_set_free(set);
	OPENSSL_free(crl);
	pki_free(&pki);
}

/* Checks that a CRL listing the leaf's serial, signed by a new CA named
 * signer_name, does not revoke a leaf of the trusted CA "ca". */
static void check_crl_of_other_key_ignored(const char *signer_name)
{
	struct pki pki = pki_new("ca");
	struct pki signer = pki_new(signer_name);
	const char *const serials[] = { "2b" };
	size_t crl_len = 0;
	uint8_t *crl = fixture_crl_der(signer.ca, signer.ca_key, serials, 1, &crl_len);
	const uint8_t *crls[] = { crl };
	struct agent_crl_set *set = crl_set(&pki, crls, &crl_len, 1);
	size_t chain_len = 0;
	uint8_t *chain = leaf_chain(0x2b, pki.ca, pki.ca_key, &chain_len);
	char serial[AGENT_CRL_SERIAL_HEX_SIZE];
	bool revoked = true;

	assert_int_equal(agent_crl_set_check(set, chain, chain_len, &revoked, serial), 0);
	assert_false(revoked);

	free(chain);
	agent_crl_set_free(set);
	OPENSSL_free(crl);
	pki_free(&signer);
	pki_free(&pki);
}

/* The same serial from another CA is another certificate. */
static void other_issuer_crl_ignored(void **state)
{
	(void)state;
	check_crl_of_other_key_ignored("other-ca");
}

/* A CRL that carries the issuer's name but another key's signature revokes
 * nothing. */
static void forged_crl_ignored(void **state)
{
	(void)state;
	check_crl_of_other_key_ignored("ca");
}

/* An intermediate in the SVID's chain signs the CRL of its leaves. */
static void intermediate_crl_revokes(void **state)
{
	struct pki pki = pki_new("root");
	EVP_PKEY *mid_key = fixture_key();
	X509 *mid = fixture_cert("intermediate", mid_key, 7, pki.ca, pki.ca_key);
	const char *const serials[] = { "99" };
	size_t crl_len = 0;
	uint8_t *crl = fixture_crl_der(mid, mid_key, serials, 1, &crl_len);
	const uint8_t *crls[] = { crl };
	struct agent_crl_set *set = crl_set(&pki, crls, &crl_len, 1);
	size_t chain_len = 0;
	uint8_t *chain = leaf_chain(0x99, mid, mid_key, &chain_len);
	char serial[AGENT_CRL_SERIAL_HEX_SIZE];
	bool revoked = false;

	(void)state;
	/* Without the intermediate, the issuer's key is unknown. */
	assert_int_equal(agent_crl_set_check(set, chain, chain_len, &revoked, serial), 0);
	assert_false(revoked);

	fixture_append_der(mid, &chain, &chain_len);
	assert_int_equal(agent_crl_set_check(set, chain, chain_len, &revoked, serial), 0);
	assert_true(revoked);
	assert_string_equal(serial, "99");

	free(chain);
	agent_crl_set_free(set);
	OPENSSL_free(crl);
	X509_free(mid);
	EVP_PKEY_free(mid_key);
	pki_free(&pki);
}

static void bad_der_rejected(void **state)
{
	struct pki pki = pki_new("ca");
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	const uint8_t *crls[] = { garbage };
	size_t lens[] = { sizeof(garbage) };
	struct agent_crl_set *set = NULL;
	struct wd_error err = { 0 };
	char serial[AGENT_CRL_SERIAL_HEX_SIZE];
	bool revoked = true;

	(void)state;
	/* A CRL that does not decode is left out. */
	set = crl_set(&pki, crls, lens, 1);
	assert_int_equal(agent_crl_set_count(set), 0);
	assert_int_equal(agent_crl_set_check(set, garbage, sizeof(garbage), &revoked, serial),
		WD_EINVAL);
	assert_false(revoked);
	assert_string_equal(serial, "");
	agent_crl_set_free(set);

	set = NULL;
	assert_int_equal(agent_crl_set_new(garbage, sizeof(garbage), crls, lens, 1, &set, &err),
		WD_EINVAL);
	assert_null(set);
	assert_string_equal(err.detail, "bundle certificate 1 is not valid DER");
	pki_free(&pki);
}

static void put_entry(struct agent_cache *cache, const char *id, const char *spiffe_id)
{
	static const char *const selectors[] = { "unix:uid:1000" };
	struct agent_entry_view view = {
		.id = id,
		.spiffe_id = spiffe_id,
		.selectors = selectors,
		.selector_count = 1,
		.revision = 1,
	};
	struct wd_error err = { 0 };

	assert_int_equal(agent_cache_put_entry(cache, &view, &err), 0);
}

static void give_svid(struct agent_cache *cache, const char *id, const struct pki *pki,
	long serial)
{
	static const uint8_t key[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };
	size_t chain_len = 0;
	uint8_t *chain = leaf_chain(serial, pki->ca, pki->ca_key, &chain_len);

	assert_int_equal(agent_cache_set_svid(cache, id, chain, chain_len, key, sizeof(key),
		1000, 4000000000, 3000000000), 0);
	free(chain);
}

/* The revoked SVID leaves the cache with the CRL's arrival; the other
 * stays, and the revoked entry is due for minting. */
static void cache_drops_revoked_svid(void **state)
{
	static const char *const uid[] = { "unix:uid:1000" };
	struct pki pki = pki_new("ca");
	const char *const serials[] = { "a1" };
	size_t crl_len = 0;
	uint8_t *crl = fixture_crl_der(pki.ca, pki.ca_key, serials, 1, &crl_len);
	const uint8_t *crls[] = { crl };
	struct agent_cache *cache = NULL;
	struct agent_revoked_list *revoked = NULL;
	struct agent_selector_set *workload = NULL;
	struct agent_svid_list *list = NULL;
	struct wd_error err = { 0 };
	char **due = NULL;
	size_t due_count = 0;

	(void)state;
	assert_int_equal(agent_cache_new("example.org", NULL, NULL, NULL, &cache, &err), 0);
	put_entry(cache, "entry-a", "spiffe://example.org/a");
	put_entry(cache, "entry-b", "spiffe://example.org/b");
	give_svid(cache, "entry-a", &pki, 0xa1);
	give_svid(cache, "entry-b", &pki, 0xb2);

	/* The first bundle has no CRL. */
	assert_int_equal(agent_cache_set_bundle(cache, pki.ca_der, pki.ca_der_len, NULL, NULL,
		NULL, 0, 1, &revoked, &err), 0);
	assert_int_equal(revoked->count, 0);
	agent_revoked_list_free(revoked);
	uint64_t generation = agent_cache_generation(cache);

	assert_int_equal(agent_cache_set_bundle(cache, pki.ca_der, pki.ca_der_len, NULL, crls,
		&crl_len, 1, 2, &revoked, &err), 0);
	assert_int_equal(revoked->count, 1);
	assert_string_equal(revoked->items[0].entry_id, "entry-a");
	assert_string_equal(revoked->items[0].spiffe_id, "spiffe://example.org/a");
	assert_string_equal(revoked->items[0].serial, "a1");
	assert_int_equal(agent_cache_generation(cache), generation + 1);
	agent_revoked_list_free(revoked);

	assert_int_equal(agent_selector_set_parse(uid, 1, 0, &workload, &err), 0);
	assert_int_equal(agent_cache_match(cache, workload, &list), 0);
	assert_int_equal(list->count, 1);
	assert_string_equal(list->items[0].entry_id, "entry-b");
	agent_svid_list_free(list);

	assert_int_equal(agent_cache_due(cache, 2000, &due, &due_count), 0);
	assert_int_equal(due_count, 1);
	assert_string_equal(due[0], "entry-a");
	agent_cache_ids_free(due, due_count);

	/* The same CRL again finds nothing more to drop. */
	assert_int_equal(agent_cache_set_bundle(cache, pki.ca_der, pki.ca_der_len, NULL, crls,
		&crl_len, 1, 3, &revoked, &err), 0);
	assert_int_equal(revoked->count, 0);
	agent_revoked_list_free(revoked);

	agent_selector_set_free(workload);
	agent_cache_free(cache);
	OPENSSL_free(crl);
	pki_free(&pki);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listed_serial_revoked),
		cmocka_unit_test(other_issuer_crl_ignored),
		cmocka_unit_test(forged_crl_ignored),
		cmocka_unit_test(intermediate_crl_revokes),
		cmocka_unit_test(bad_der_rejected),
		cmocka_unit_test(cache_drops_revoked_svid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
