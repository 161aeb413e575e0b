/* Unit tests for the authority: first start and reload, key types, key file
 * permissions, configuration checks, X.509- and JWT-SVID signing verified
 * against the published bundle, and the status object. */
#include <pthread.h>

#include "authority_fixture.h"

static void expect_key_file_mode(const struct fixture *f, int64_t slot_id, const char *role)
{
	char path[256];
	struct stat st;

	key_file_path(f, slot_id, role, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void open_first_start(void **state)
{
	struct fixture *f = *state;
	char path[256];
	char buf[16];
	struct stat st;

	fixture_open(f, T0);

	expect_key_file_mode(f, 1, "x509-ca");
	expect_key_file_mode(f, 1, "jwt");
	snprintf(path, sizeof(path), "%s/authority", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(slot_count(f), 1);
	assert_string_equal(slot_state(f, 1, buf, sizeof(buf)), "active");
	assert_int_equal(authority_bundle_sequence(f->authority), 1);
}

static void open_status_fields(void **state)
{
	struct fixture *f = *state;
	json_t *status = NULL;
	json_t *slot;
	X509 *ca;
	int64_t not_after;

	fixture_open(f, T0);
	assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);

	assert_string_equal(json_string_value(json_object_get(status, "trust_domain")),
		"example.org");
	assert_int_equal(json_integer_value(json_object_get(status, "sequence")), 1);
	assert_int_equal(json_integer_value(json_object_get(status, "crl_number")), 1);
	slot = json_array_get(json_object_get(status, "slots"), 0);
	assert_int_equal(json_integer_value(json_object_get(slot, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(slot, "key_type")), "ec-p256");
	assert_int_equal(json_integer_value(json_object_get(slot, "issued_at")), T0);
	assert_int_equal(json_integer_value(json_object_get(slot, "not_before")), T0 - 10);
	assert_int_equal(json_integer_value(json_object_get(slot, "not_after")), T0 + 86400);
	assert_int_equal(strlen(json_string_value(json_object_get(slot, "jwt_kid"))), 43);

	ca = slot_cert(f, 1);
	assert_int_equal(crypto_x509_not_after(ca, &not_after), 0);
	assert_int_equal(not_after, T0 + 86400);
	X509_free(ca);
	json_decref(status);
}

static void reopen_loads_same_ca(void **state)
{
	struct fixture *f = *state;
	json_t *before = NULL;
	json_t *after = NULL;
	json_t *slot_before;
	json_t *slot_after;

	fixture_open(f, T0);
	assert_int_equal(authority_status_json(f->authority, &before, &f->err), 0);
	fixture_reopen(f, T0 + 60);
	assert_int_equal(authority_status_json(f->authority, &after, &f->err), 0);

	slot_before = json_array_get(json_object_get(before, "slots"), 0);
	slot_after = json_array_get(json_object_get(after, "slots"), 0);
	assert_int_equal(json_array_size(json_object_get(after, "slots")), 1);
	assert_string_equal(json_string_value(json_object_get(slot_before, "x509_fingerprint")),
		json_string_value(json_object_get(slot_after, "x509_fingerprint")));
	assert_string_equal(json_string_value(json_object_get(slot_before, "jwt_kid")),
		json_string_value(json_object_get(slot_after, "jwt_kid")));
	assert_int_equal(json_integer_value(json_object_get(slot_after, "issued_at")), T0);
	/* A restart reissues the CRLs, which bumps the sequence and cRLNumber. */
	assert_int_equal(json_integer_value(json_object_get(after, "sequence")), 2);
	assert_int_equal(json_integer_value(json_object_get(after, "crl_number")), 2);
	json_decref(before);
	json_decref(after);
}

static void sign_and_verify_both(struct fixture *f, int64_t now)
{
	struct authority_x509_svid svid = { 0 };
	struct jwt_authority *jwt = NULL;
	struct jwtsvid_verified verified;
	struct spiffe_id id = make_id("spiffe://example.org/web");
	const char *audience[] = { "db" };
	size_t jwt_count = 0;
	char *token = NULL;
	int64_t expires_at = 0;

	issue_svid(f, "spiffe://example.org/web", NULL, 0, now, &svid);
	assert_int_equal(verify_with_bundle(f, authority_x509_svid_cert(&svid), now), 0);
	authority_x509_svid_clear(&svid);

	assert_int_equal(authority_sign_jwt(f->authority, &id, audience, 1, 0, now, &token,
		&expires_at, &f->err), 0);
	assert_int_equal(expires_at, now + 300);
	assert_int_equal(authority_jwt_authorities(f->authority, &jwt, &jwt_count, &f->err), 0);
	assert_int_equal(jwtsvid_verify(token, strlen(token), jwt, jwt_count, "db", now,
		&verified, &f->err), 0);
	assert_string_equal(verified.subject.path, "/web");
	assert_int_equal(verified.expires_at, now + 300);
	authority_jwt_authorities_free(jwt, jwt_count);
	free(token);
}

static void open_each_key_type(void **state)
{
	struct fixture *f = *state;
	static const enum crypto_key_type types[] = {
		CRYPTO_KEY_EC_P256, CRYPTO_KEY_EC_P384, CRYPTO_KEY_RSA_2048,
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(types); i++) {
		json_t *status = NULL;
		json_t *slot;

		/* Each key type starts from an empty data directory and store. */
		authority_close(f->authority);
		f->authority = NULL;
		store_close(f->store);
		nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
		assert_int_equal(mkdir(f->dir, 0700), 0);
		test_datastore_setup(f->db_path, sizeof(f->db_path), f->dir, "state.db");
		assert_int_equal(store_open(f->db_path, NULL, &f->store, &f->err), 0);

		f->config.ca_key_type = types[i];
		f->config.jwt_rsa_alg = JWTSVID_PS256;
		fixture_open(f, T0);
		assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);
		slot = json_array_get(json_object_get(status, "slots"), 0);
		assert_string_equal(json_string_value(json_object_get(slot, "key_type")),
			crypto_key_type_name(types[i]));
		json_decref(status);

		sign_and_verify_both(f, T0 + 5);
		fixture_reopen(f, T0 + 6);
		sign_and_verify_both(f, T0 + 7);
	}
}

static void open_rejects_readable_key(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	char path[256];

	fixture_open(f, T0);
	authority_close(f->authority);
	f->authority = NULL;

	key_file_path(f, 1, "x509-ca", path, sizeof(path));
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err), WD_EPERM);
	assert_null(authority);
	assert_non_null(strstr(f->err.detail, "slot-1-x509-ca.pem"));
}

static void open_rejects_open_key_dir(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/authority", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err), WD_EPERM);
	assert_null(authority);
	assert_non_null(strstr(f->err.detail, "0755"));
}

static void open_rejects_swapped_key(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	EVP_PKEY *other = NULL;
	char path[256];

	fixture_open(f, T0);
	authority_close(f->authority);
	f->authority = NULL;

	key_file_path(f, 1, "x509-ca", path, sizeof(path));
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &other, NULL), 0);
	assert_int_equal(crypto_key_save(other, path, NULL), 0);
	assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
		WD_ECORRUPT);
	assert_null(authority);
	EVP_PKEY_free(other);
}

static void open_rejects_missing_key(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	char path[256];

	fixture_open(f, T0);
	authority_close(f->authority);
	f->authority = NULL;

	key_file_path(f, 1, "jwt", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	/* On PostgreSQL a key missing before the first unseal may be one that
	 * another server has not stored yet. */
	if (strcmp(store_backend(f->store), "postgres") == 0) {
		assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
			WD_EUNAVAILABLE);
		assert_non_null(strstr(f->err.detail, "CA slot 1 are not in the datastore"));
		return;
	}
	assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
		WD_ECORRUPT);
	assert_non_null(strstr(f->err.detail, "slot-1-jwt.pem"));
}

static void open_rejects_bad_config(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	struct authority_config config;

	config = f->config;
	config.trust_domain = NULL;
	assert_int_equal(authority_open(&config, f->store, T0, &authority, &f->err), WD_ECONFIG);

	config = f->config;
	config.trust_domain = "Example.org";
	assert_int_equal(authority_open(&config, f->store, T0, &authority, &f->err), WD_ECONFIG);
	assert_non_null(strstr(f->err.detail, "Example.org"));

	config = f->config;
	config.ca_ttl_seconds = 59;
	assert_int_equal(authority_open(&config, f->store, T0, &authority, &f->err), WD_ECONFIG);
	assert_non_null(strstr(f->err.detail, "ca_ttl 59"));

	config = f->config;
	config.x509_backdate_seconds = -1;
	assert_int_equal(authority_open(&config, f->store, T0, &authority, &f->err), WD_ECONFIG);

	config = f->config;
	config.ca_key_type = (enum crypto_key_type)42;
	assert_int_equal(authority_open(&config, f->store, T0, &authority, &f->err), WD_ECONFIG);

	config = f->config;
	config.data_dir = "/nonexistent/warden-test";
	assert_int_equal(authority_open(&config, f->store, T0, &authority, &f->err), WD_ECONFIG);
	assert_null(authority);
}

static void svid_ttl_limit(void **state)
{
	struct authority_config config;

	(void)state;
	authority_config_init(&config);
	assert_int_equal(authority_svid_ttl_limit(&config), 14400);
	assert_false(authority_svid_ttl_exceeds_limit(&config));

	config.x509_svid_ttl_seconds = 14401;
	assert_true(authority_svid_ttl_exceeds_limit(&config));

	config.x509_svid_ttl_seconds = 3600;
	config.jwt_svid_ttl_seconds = 14401;
	assert_true(authority_svid_ttl_exceeds_limit(&config));

	config.ca_ttl_seconds = 365 * 86400;
	assert_int_equal(authority_svid_ttl_limit(&config), 7 * 86400);
}

static void sign_x509_fields(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };
	STACK_OF(X509) *parsed = NULL;
	bool revoked = true;
	char hex[AUTHORITY_SERIAL_HEX_SIZE];
	int64_t not_after = 0;

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", "entry-1", 0, T0 + 100, &svid);

	assert_int_equal(svid.slot_id, 1);
	assert_int_equal(svid.not_after, T0 + 100 + 3600);
	assert_int_equal(crypto_x509_not_after(authority_x509_svid_cert(&svid), &not_after), 0);
	assert_int_equal(not_after, T0 + 100 + 3600);
	assert_int_equal(crypto_x509_serial_hex(authority_x509_svid_cert(&svid), hex,
		sizeof(hex)), 0);
	assert_string_equal(svid.serial_hex, hex);

	/* The chain is the leaf alone: the self-signed CA travels in the bundle. */
	assert_int_equal(crypto_x509_chain_from_pem(svid.chain_pem, strlen(svid.chain_pem), 4,
		&parsed, &f->err), 0);
	assert_int_equal(sk_X509_num(parsed), 1);
	assert_int_equal(X509_cmp(sk_X509_value(parsed, 0), authority_x509_svid_cert(&svid)),
		0);

	assert_int_equal(verify_with_bundle(f, authority_x509_svid_cert(&svid), T0 + 100), 0);
	assert_int_equal(authority_is_revoked(f->authority, svid.serial_hex, &revoked, &f->err), 0);
	assert_false(revoked);
	/* Plain issuance leaves the bundle sequence alone. */
	assert_int_equal(authority_bundle_sequence(f->authority), 1);

	sk_X509_pop_free(parsed, X509_free);
	authority_x509_svid_clear(&svid);
}

static void sign_x509_ttl_capped_by_ca(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 30 * 86400, T0 + 100, &svid);
	assert_int_equal(svid.not_after, T0 + 86400);
	authority_x509_svid_clear(&svid);

	issue_svid(f, "spiffe://example.org/web", NULL, 60, T0 + 100, &svid);
	assert_int_equal(svid.not_after, T0 + 160);
	authority_x509_svid_clear(&svid);
}

static void sign_x509_rejects_bad_request(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };
	struct spiffe_id other = make_id("spiffe://other.org/web");
	struct spiffe_id root = make_id("spiffe://example.org");
	struct spiffe_id good = make_id("spiffe://example.org/web");
	struct authority_x509_request request;
	EVP_PKEY *key = NULL;

	fixture_open(f, T0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);

	request = (struct authority_x509_request){ .spiffe_id = &other, .public_key = key };
	assert_int_equal(authority_sign_x509(f->authority, &request, T0, &svid, &f->err),
		WD_EINVAL);
	assert_non_null(strstr(f->err.detail, "spiffe://other.org/web"));
	assert_null(svid.der);

	request.spiffe_id = &root;
	assert_int_equal(authority_sign_x509(f->authority, &request, T0, &svid, &f->err),
		WD_EINVAL);

	request.spiffe_id = &good;
	request.ttl_seconds = -1;
	assert_int_equal(authority_sign_x509(f->authority, &request, T0, &svid, &f->err),
		WD_EINVAL);

	request.ttl_seconds = 0;
	request.entry_id = "bad\nid";
	assert_int_equal(authority_sign_x509(f->authority, &request, T0, &svid, &f->err),
		WD_EINVAL);

	request.entry_id = NULL;
	request.public_key = NULL;
	assert_int_equal(authority_sign_x509(f->authority, &request, T0, &svid, &f->err),
		WD_EINVAL);

	/* Past the CA's notAfter, signing waits for the next tick. */
	request.public_key = key;
	assert_int_equal(authority_sign_x509(f->authority, &request, T0 + 86400, &svid,
		&f->err), WD_EUNAVAILABLE);
	assert_null(svid.der);
	EVP_PKEY_free(key);
}

static void sign_jwt_verifies_with_bundle_json(void **state)
{
	struct fixture *f = *state;
	struct spiffe_id id = make_id("spiffe://example.org/api");
	const char *audience[] = { "spiffe://example.org/db", "other" };
	struct bundle_parsed *bundle = NULL;
	struct jwtsvid_verified verified;
	char *json = NULL;
	char *token = NULL;
	int64_t expires_at = 0;

	fixture_open(f, T0);
	assert_int_equal(authority_sign_jwt(f->authority, &id, audience, 2, 120, T0 + 10, &token,
		&expires_at, &f->err), 0);
	assert_int_equal(expires_at, T0 + 130);

	assert_int_equal(authority_bundle_json(f->authority, &json, &f->err), 0);
	assert_int_equal(bundle_from_spiffe_json(json, strlen(json), &bundle, &f->err), 0);
	assert_int_equal(bundle->sequence, 1);
	assert_int_equal(bundle->refresh_hint_seconds, 300);
	assert_int_equal(sk_X509_num(bundle->x509_authorities), 1);
	assert_int_equal(bundle->jwt_authority_count, 1);

	assert_int_equal(jwtsvid_verify(token, strlen(token), bundle->jwt_authorities,
		bundle->jwt_authority_count, "other", T0 + 20, &verified, &f->err), 0);
	assert_string_equal(verified.subject.path, "/api");
	assert_int_equal(verified.issued_at, T0 + 10);
	assert_int_not_equal(jwtsvid_verify(token, strlen(token), bundle->jwt_authorities,
		bundle->jwt_authority_count, "nobody", T0 + 20, &verified, NULL), 0);

	bundle_parsed_free(bundle);
	free(json);
	free(token);
}

static void sign_jwt_capped_and_rejects(void **state)
{
	struct fixture *f = *state;
	struct spiffe_id id = make_id("spiffe://example.org/api");
	struct spiffe_id other = make_id("spiffe://other.org/api");
	const char *audience[] = { "db" };
	char *token = NULL;
	int64_t expires_at = 0;

	fixture_open(f, T0);
	assert_int_equal(authority_sign_jwt(f->authority, &id, audience, 1, 7 * 86400, T0,
		&token, &expires_at, &f->err), 0);
	assert_int_equal(expires_at, T0 + 86400);
	free(token);
	token = NULL;

	assert_int_equal(authority_sign_jwt(f->authority, &id, audience, 0, 0, T0, &token,
		&expires_at, &f->err), WD_EINVAL);
	assert_int_equal(authority_sign_jwt(f->authority, &other, audience, 1, 0, T0, &token,
		&expires_at, &f->err), WD_EINVAL);
	assert_int_equal(authority_sign_jwt(f->authority, &id, audience, 1, -5, T0, &token,
		&expires_at, &f->err), WD_EINVAL);
	assert_null(token);
	assert_int_equal(expires_at, 0);
}

static void bundle_pem_holds_ca(void **state)
{
	struct fixture *f = *state;
	STACK_OF(X509) *parsed = NULL;
	X509 *ca;
	char *pem = NULL;

	fixture_open(f, T0);
	assert_int_equal(authority_bundle_pem(f->authority, &pem, &f->err), 0);
	assert_int_equal(crypto_x509_chain_from_pem(pem, strlen(pem), 8, &parsed, &f->err), 0);
	assert_int_equal(sk_X509_num(parsed), 1);
	ca = slot_cert(f, 1);
	assert_int_equal(X509_cmp(sk_X509_value(parsed, 0), ca), 0);
	X509_free(ca);
	sk_X509_pop_free(parsed, X509_free);
	free(pem);
}

static void jwt_authorities_are_public(void **state)
{
	struct fixture *f = *state;
	struct jwt_authority *jwt = NULL;
	size_t count = 0;
	json_t *status = NULL;
	const char *kid;

	fixture_open(f, T0);
	assert_int_equal(authority_jwt_authorities(f->authority, &jwt, &count, &f->err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);
	kid = json_string_value(json_object_get(json_array_get(json_object_get(status, "slots"),
		0), "jwt_kid"));
	assert_string_equal(jwt[0].kid, kid);
	/* The copy carries no private key: exporting it as PKCS#8 fails. */
	assert_int_not_equal(crypto_key_to_pem(jwt[0].key, &(char *){ NULL }, NULL), 0);
	authority_jwt_authorities_free(jwt, count);
	json_decref(status);
}

#define SIGN_THREADS 4
#define SIGNS_PER_THREAD 10

struct sign_job {
	struct fixture *f;
	char serials[SIGNS_PER_THREAD][AUTHORITY_SERIAL_HEX_SIZE];
	int failures;
};

static void *sign_worker(void *arg)
{
	struct sign_job *job = arg;
	struct spiffe_id id = make_id("spiffe://example.org/bench");
	const char *audience[] = { "db" };
	EVP_PKEY *key = NULL;

	if (crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL) < 0) {
		job->failures++;
		return NULL;
	}
	for (size_t i = 0; i < SIGNS_PER_THREAD; i++) {
		struct authority_x509_request request = { .spiffe_id = &id, .public_key = key };
		struct authority_x509_svid svid = { 0 };
		char *token = NULL;
		int64_t expires_at;

		if (authority_sign_x509(job->f->authority, &request, T0 + 1, &svid, NULL) < 0 ||
		    authority_sign_jwt(job->f->authority, &id, audience, 1, 0, T0 + 1, &token,
			    &expires_at, NULL) < 0)
			job->failures++;
		memcpy(job->serials[i], svid.serial_hex, sizeof(svid.serial_hex));
		authority_x509_svid_clear(&svid);
		free(token);
	}
	EVP_PKEY_free(key);
	return NULL;
}

static void sign_from_several_threads(void **state)
{
	struct fixture *f = *state;
	struct sign_job jobs[SIGN_THREADS];
	pthread_t threads[SIGN_THREADS];

	fixture_open(f, T0);
	for (size_t t = 0; t < SIGN_THREADS; t++) {
		jobs[t] = (struct sign_job){ .f = f };
		assert_int_equal(pthread_create(&threads[t], NULL, sign_worker, &jobs[t]), 0);
	}
	for (size_t t = 0; t < SIGN_THREADS; t++)
		assert_int_equal(pthread_join(threads[t], NULL), 0);

	for (size_t t = 0; t < SIGN_THREADS; t++) {
		assert_int_equal(jobs[t].failures, 0);
		for (size_t i = 0; i < SIGNS_PER_THREAD; i++) {
			bool revoked = true;

			assert_int_equal(authority_is_revoked(f->authority, jobs[t].serials[i],
				&revoked, &f->err), 0);
			assert_false(revoked);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_first_start, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_status_fields, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(reopen_loads_same_ca, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(open_each_key_type, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_readable_key, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_open_key_dir, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_swapped_key, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_missing_key, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(open_rejects_bad_config, fixture_setup,
			fixture_teardown),
		cmocka_unit_test(svid_ttl_limit),
		cmocka_unit_test_setup_teardown(sign_x509_fields, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(sign_x509_ttl_capped_by_ca, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(sign_x509_rejects_bad_request, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(sign_jwt_verifies_with_bundle_json, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(sign_jwt_capped_and_rejects, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(bundle_pem_holds_ca, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(jwt_authorities_are_public, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(sign_from_several_threads, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
