/* Unit tests for CA rotation driven by explicit times: with a 600 s CA the
 * next slot is prepared after 300 s, activated after 500 s and the old one
 * pruned once it has expired. */
#include "authority_fixture.h"

static int rotation_setup(void **state)
{
	struct fixture *f;

	fixture_setup(state);
	f = *state;
	f->config.ca_ttl_seconds = 600;
	f->config.x509_svid_ttl_seconds = 60;
	f->config.jwt_svid_ttl_seconds = 60;
	f->config.refresh_hint_seconds = 30;
	return 0;
}

static void tick(struct fixture *f, int64_t now, struct authority_changes *changes)
{
	int rc = authority_tick(f->authority, now, changes, &f->err);

	if (rc != 0)
		fail_msg("authority_tick at %lld: %d %s", (long long)now, rc, f->err.detail);
}

static struct bundle_parsed *fetch_bundle(struct fixture *f)
{
	struct bundle_parsed *bundle = NULL;
	char *json = NULL;

	assert_int_equal(authority_bundle_json(f->authority, &json, &f->err), 0);
	assert_int_equal(bundle_from_spiffe_json(json, strlen(json), &bundle, &f->err), 0);
	free(json);
	return bundle;
}

static void rotation_nothing_early(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;

	fixture_open(f, T0);
	tick(f, T0 + 100, &changes);
	assert_int_equal(changes.prepared_slot, 0);
	assert_int_equal(changes.activated_slot, 0);
	assert_int_equal(changes.pruned_count, 0);
	assert_false(changes.bundle_changed);
	assert_int_equal(changes.sequence, 1);

	/* Exactly at the preparation point (300 s left) nothing happens yet. */
	tick(f, T0 + 300, &changes);
	assert_int_equal(changes.prepared_slot, 0);
	assert_int_equal(slot_count(f), 1);
}

static void rotation_prepare_publishes(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct authority_x509_svid svid = { 0 };
	struct bundle_parsed *bundle;
	STACK_OF(X509) *old_only = sk_X509_new_null();
	struct spiffe_id id;
	char buf[16];

	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	assert_int_equal(changes.prepared_slot, 2);
	assert_int_equal(changes.activated_slot, 0);
	assert_true(changes.bundle_changed);
	assert_int_equal(changes.sequence, 2);
	assert_string_equal(slot_state(f, 1, buf, sizeof(buf)), "active");
	assert_string_equal(slot_state(f, 2, buf, sizeof(buf)), "prepared");

	bundle = fetch_bundle(f);
	assert_int_equal(sk_X509_num(bundle->x509_authorities), 2);
	assert_int_equal(bundle->jwt_authority_count, 2);
	assert_int_equal(bundle->sequence, 2);
	assert_int_equal(bundle->refresh_hint_seconds, 30);
	bundle_parsed_free(bundle);

	/* The prepared slot signs nothing: new SVIDs still chain to slot 1. */
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 302, &svid);
	assert_int_equal(svid.slot_id, 1);
	assert_true(sk_X509_push(old_only, slot_cert(f, 1)) > 0);
	assert_int_equal(verify_against(authority_x509_svid_cert(&svid), old_only, T0 + 302,
		&id), 0);

	/* A second tick before activation changes nothing. */
	tick(f, T0 + 400, &changes);
	assert_int_equal(changes.prepared_slot, 0);
	assert_false(changes.bundle_changed);
	assert_int_equal(slot_count(f), 2);

	sk_X509_pop_free(old_only, X509_free);
	authority_x509_svid_clear(&svid);
}

static void rotation_activate_switches_signer(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct authority_x509_svid svid = { 0 };
	struct bundle_parsed *peer_bundle;
	STACK_OF(X509) *old_only = sk_X509_new_null();
	X509 *peer_authorities[AUTHORITY_MAX_SLOTS];
	struct spiffe_id jwt_id = make_id("spiffe://example.org/api");
	const char *audience[] = { "db" };
	struct jwtsvid_verified verified;
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct spiffe_id id;
	char *token = NULL;
	int64_t expires_at;
	char buf[16];

	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	/* A peer fetches the bundle right after the preparation. */
	peer_bundle = fetch_bundle(f);

	tick(f, T0 + 500, &changes);
	assert_int_equal(changes.activated_slot, 0);

	tick(f, T0 + 501, &changes);
	assert_int_equal(changes.activated_slot, 2);
	assert_int_equal(changes.deactivated_slot, 1);
	assert_int_equal(changes.prepared_slot, 0);
	assert_false(changes.bundle_changed);
	assert_string_equal(slot_state(f, 1, buf, sizeof(buf)), "old");
	assert_string_equal(slot_state(f, 2, buf, sizeof(buf)), "active");

	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 502, &svid);
	assert_int_equal(svid.slot_id, 2);
	assert_int_equal(svid.not_after, T0 + 562);

	/* The peer's bundle from the preparation already trusts the new CA. */
	for (int i = 0; i < sk_X509_num(peer_bundle->x509_authorities); i++)
		peer_authorities[i] = sk_X509_value(peer_bundle->x509_authorities, i);
	assert_true(sk_X509_push(chain, authority_x509_svid_cert(&svid)) > 0);
	assert_int_equal(x509svid_verify(chain, peer_authorities,
		(size_t)sk_X509_num(peer_bundle->x509_authorities), T0 + 502, &id, &f->err), 0);
	assert_string_equal(id.path, "/web");

	/* The old CA alone no longer verifies new SVIDs. */
	assert_true(sk_X509_push(old_only, slot_cert(f, 1)) > 0);
	assert_int_not_equal(verify_against(authority_x509_svid_cert(&svid), old_only,
		T0 + 502, &id), 0);

	/* JWT-SVIDs switch keys too, and the peer's old bundle verifies them. */
	assert_int_equal(authority_sign_jwt(f->authority, &jwt_id, audience, 1, 0, T0 + 502,
		&token, &expires_at, &f->err), 0);
	assert_int_equal(jwtsvid_verify(token, strlen(token), peer_bundle->jwt_authorities,
		peer_bundle->jwt_authority_count, "db", T0 + 503, &verified, &f->err), 0);
	/* The peer bundle lists slot 1 (active when fetched) first: only slot 2's
	 * key verifies the token. */
	assert_int_equal(jwtsvid_verify(token, strlen(token), &peer_bundle->jwt_authorities[1], 1,
		"db", T0 + 503, &verified, &f->err), 0);
	assert_int_not_equal(jwtsvid_verify(token, strlen(token),
		&peer_bundle->jwt_authorities[0], 1, "db", T0 + 503, &verified, NULL), 0);

	free(token);
	sk_X509_free(chain);
	sk_X509_pop_free(old_only, X509_free);
	bundle_parsed_free(peer_bundle);
	authority_x509_svid_clear(&svid);
}

static void rotation_prune_after_expiry(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct bundle_parsed *bundle;
	char path[256];
	char buf[16];

	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	tick(f, T0 + 501, &changes);

	/* Slot 1 expires at T0 + 600 and is valid through that second. */
	tick(f, T0 + 600, &changes);
	assert_int_equal(changes.pruned_count, 0);

	tick(f, T0 + 601, &changes);
	assert_int_equal(changes.pruned_count, 1);
	assert_int_equal(changes.pruned_slots[0], 1);
	assert_true(changes.bundle_changed);
	/* Slot 2 (made at T0 + 301) has exactly 300 s left: not prepared yet. */
	assert_int_equal(changes.prepared_slot, 0);
	assert_null(slot_state(f, 1, buf, sizeof(buf)));

	bundle = fetch_bundle(f);
	assert_int_equal(sk_X509_num(bundle->x509_authorities), 1);
	assert_int_equal(bundle->jwt_authority_count, 1);
	assert_int_equal(bundle->sequence, changes.sequence);
	bundle_parsed_free(bundle);

	key_file_path(f, 1, "x509-ca", path, sizeof(path));
	assert_false(file_exists(path));
	key_file_path(f, 1, "jwt", path, sizeof(path));
	assert_false(file_exists(path));

	tick(f, T0 + 602, &changes);
	assert_int_equal(changes.prepared_slot, 3);
}

static void rotation_prune_grace_delays(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;

	f->config.prune_grace_seconds = 100;
	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	tick(f, T0 + 501, &changes);
	tick(f, T0 + 601, &changes);
	assert_int_equal(changes.pruned_count, 0);
	assert_int_equal(slot_count(f), 2);

	tick(f, T0 + 701, &changes);
	assert_int_equal(changes.pruned_count, 1);
	assert_int_equal(changes.pruned_slots[0], 1);
}

static void rotation_survives_restart(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct authority_x509_svid svid = { 0 };
	char buf[16];

	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	fixture_reopen(f, T0 + 400);
	assert_string_equal(slot_state(f, 1, buf, sizeof(buf)), "active");
	assert_string_equal(slot_state(f, 2, buf, sizeof(buf)), "prepared");

	tick(f, T0 + 501, &changes);
	assert_int_equal(changes.activated_slot, 2);
	fixture_reopen(f, T0 + 601);
	assert_string_equal(slot_state(f, 2, buf, sizeof(buf)), "active");
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 601, &svid);
	assert_int_equal(svid.slot_id, 2);
	authority_x509_svid_clear(&svid);

	tick(f, T0 + 601, &changes);
	assert_int_equal(changes.pruned_count, 1);
	fixture_reopen(f, T0 + 602);
	assert_int_equal(slot_count(f), 1);
	assert_null(slot_state(f, 1, buf, sizeof(buf)));

	/* Slot ids are never reused after a prune. */
	tick(f, T0 + 700, &changes);
	assert_int_equal(changes.prepared_slot, 3);
}

static void rotation_after_long_outage(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct authority_x509_svid svid = { 0 };
	struct authority_x509_request request;
	struct spiffe_id id = make_id("spiffe://example.org/web");
	EVP_PKEY *key = NULL;
	char buf[16];

	fixture_open(f, T0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	request = (struct authority_x509_request){ .spiffe_id = &id, .public_key = key };
	assert_int_equal(authority_sign_x509(f->authority, &request, T0 + 5000, &svid, &f->err),
		WD_EUNAVAILABLE);

	/* One tick prepares, activates and prunes the expired CA. */
	tick(f, T0 + 5000, &changes);
	assert_int_equal(changes.prepared_slot, 2);
	assert_int_equal(changes.activated_slot, 2);
	assert_int_equal(changes.deactivated_slot, 1);
	assert_int_equal(changes.pruned_count, 1);
	assert_int_equal(changes.pruned_slots[0], 1);
	assert_int_equal(slot_count(f), 1);
	assert_string_equal(slot_state(f, 2, buf, sizeof(buf)), "active");

	assert_int_equal(authority_sign_x509(f->authority, &request, T0 + 5000, &svid, &f->err),
		0);
	assert_int_equal(svid.slot_id, 2);
	assert_int_equal(verify_with_bundle(f, authority_x509_svid_cert(&svid), T0 + 5001), 0);
	authority_x509_svid_clear(&svid);
	EVP_PKEY_free(key);
}

static void rotation_expired_prepared_replaced(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;

	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	assert_int_equal(changes.prepared_slot, 2);

	/* Both slot 1 and the prepared slot 2 (until T0 + 901) have expired. */
	tick(f, T0 + 2000, &changes);
	assert_int_equal(changes.prepared_slot, 3);
	assert_int_equal(changes.activated_slot, 3);
	assert_int_equal(changes.pruned_count, 2);
	assert_int_equal(slot_count(f), 1);
}

static void rotation_svid_capped_by_old_ca(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct authority_x509_svid svid = { 0 };

	fixture_open(f, T0);
	tick(f, T0 + 301, &changes);
	/* Slot 1 still signs until activation and cuts SVIDs at its notAfter. */
	issue_svid(f, "spiffe://example.org/web", NULL, 3600, T0 + 450, &svid);
	assert_int_equal(svid.slot_id, 1);
	assert_int_equal(svid.not_after, T0 + 600);
	authority_x509_svid_clear(&svid);
}

static void rotation_key_type_change(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	json_t *status = NULL;
	json_t *slots;

	fixture_open(f, T0);
	f->config.ca_key_type = CRYPTO_KEY_EC_P384;
	fixture_reopen(f, T0 + 10);
	tick(f, T0 + 301, &changes);

	/* Existing slots keep their type; the next one takes the configured type. */
	assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);
	slots = json_object_get(status, "slots");
	assert_string_equal(json_string_value(json_object_get(json_array_get(slots, 0),
		"key_type")), "ec-p256");
	assert_string_equal(json_string_value(json_object_get(json_array_get(slots, 1),
		"key_type")), "ec-p384");
	json_decref(status);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rotation_nothing_early, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_prepare_publishes, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_activate_switches_signer, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_prune_after_expiry, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_prune_grace_delays, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_survives_restart, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_after_long_outage, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_expired_prepared_replaced, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_svid_capped_by_old_ca, rotation_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_key_type_change, rotation_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
