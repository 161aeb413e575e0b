/* Unit tests for revocation by serial, SPIFFE ID and entry. The CRLs are
 * read back with OpenSSL to check entries, signature, cRLNumber and
 * nextUpdate, expired serials leaving the list, and the old slot's CRL after
 * a rotation. */
#include <ctype.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>

#include "authority_fixture.h"

struct crl_set {
	X509_CRL *crls[AUTHORITY_MAX_SLOTS];
	size_t count;
};

static void crl_set_free(struct crl_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		X509_CRL_free(set->crls[i]);
	set->count = 0;
}

/* Reads every CRL in authority_crl_pem, active slot first. */
static void fetch_crls(struct fixture *f, struct crl_set *ret_set)
{
	char *pem = NULL;
	BIO *bio;
	X509_CRL *crl;

	*ret_set = (struct crl_set){ 0 };
	assert_int_equal(authority_crl_pem(f->authority, &pem, &f->err), 0);
	bio = BIO_new_mem_buf(pem, -1);
	assert_non_null(bio);
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		assert_true(ret_set->count < AUTHORITY_MAX_SLOTS);
		ret_set->crls[ret_set->count++] = crl;
	}
	ERR_clear_error();
	BIO_free(bio);
	free(pem);
}

static bool crl_lists(X509_CRL *crl, const char *serial_hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;
	X509_REVOKED *entry = NULL;
	int found;

	assert_true(BN_hex2bn(&bn, serial_hex) > 0);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	assert_non_null(serial);
	found = X509_CRL_get0_by_serial(crl, &entry, serial);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return found == 1;
}

static long crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	long value;

	assert_non_null(number);
	value = ASN1_INTEGER_get(number);
	ASN1_INTEGER_free(number);
	return value;
}

static int64_t crl_next_update(X509_CRL *crl)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	struct tm tm;

	assert_non_null(next);
	assert_int_equal(ASN1_TIME_to_tm(next, &tm), 1);
	return (int64_t)timegm(&tm);
}

static bool crl_signed_by(X509_CRL *crl, X509 *ca)
{
	return X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;
}

static void revoke_serial_on_crl(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid a = { 0 };
	struct authority_x509_svid b = { 0 };
	struct authority_revocation revocation;
	struct crl_set before;
	struct crl_set after;
	uint64_t sequence;
	X509 *ca;

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 1, &a);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 1, &b);
	fetch_crls(f, &before);
	assert_int_equal(before.count, 1);
	assert_false(crl_lists(before.crls[0], a.serial_hex));
	sequence = authority_bundle_sequence(f->authority);

	assert_int_equal(authority_revoke_serial(f->authority, a.serial_hex, "key compromise",
		T0 + 10, &revocation, &f->err), 0);
	assert_string_equal(revocation.serial_hex, a.serial_hex);
	assert_int_equal(revocation.slot_id, 1);
	assert_int_equal(revocation.revoked_at, T0 + 10);
	assert_int_equal(revocation.not_after, T0 + 3601);
	assert_false(revocation.already_revoked);
	assert_int_equal(authority_bundle_sequence(f->authority), sequence + 1);

	fetch_crls(f, &after);
	assert_int_equal(after.count, 1);
	assert_true(crl_lists(after.crls[0], a.serial_hex));
	assert_false(crl_lists(after.crls[0], b.serial_hex));
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(after.crls[0])), 1);
	ca = slot_cert(f, 1);
	assert_true(crl_signed_by(after.crls[0], ca));
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(after.crls[0]),
		X509_get_subject_name(ca)), 0);
	assert_true(crl_number(after.crls[0]) > crl_number(before.crls[0]));

	X509_free(ca);
	crl_set_free(&before);
	crl_set_free(&after);
	authority_x509_svid_clear(&a);
	authority_x509_svid_clear(&b);
}

static void revoke_serial_twice_idempotent(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };
	struct authority_revocation revocation;
	char upper[AUTHORITY_SERIAL_HEX_SIZE + 2];
	uint64_t sequence;
	bool revoked = false;

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0, &svid);
	assert_int_equal(authority_revoke_serial(f->authority, svid.serial_hex, NULL, T0 + 5,
		&revocation, &f->err), 0);
	sequence = authority_bundle_sequence(f->authority);

	/* Leading zeros and upper case name the same serial. */
	snprintf(upper, sizeof(upper), "00%s", svid.serial_hex);
	for (char *c = upper; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	assert_int_equal(authority_revoke_serial(f->authority, upper, NULL, T0 + 50, &revocation,
		&f->err), 0);
	assert_true(revocation.already_revoked);
	assert_int_equal(revocation.revoked_at, T0 + 5);
	assert_string_equal(revocation.serial_hex, svid.serial_hex);
	assert_int_equal(authority_bundle_sequence(f->authority), sequence);

	assert_int_equal(authority_is_revoked(f->authority, upper, &revoked, &f->err), 0);
	assert_true(revoked);
	authority_x509_svid_clear(&svid);
}

static void revoke_unknown_serial(void **state)
{
	struct fixture *f = *state;
	struct authority_revocation revocation;
	uint64_t sequence;
	bool revoked = true;

	fixture_open(f, T0);
	sequence = authority_bundle_sequence(f->authority);
	assert_int_equal(authority_revoke_serial(f->authority, "0A1B2C", NULL, T0, &revocation,
		&f->err), WD_ENOTFOUND);
	assert_non_null(strstr(f->err.detail, "a1b2c"));
	assert_false(revocation.already_revoked);
	assert_int_equal(revocation.serial_hex[0], '\0');
	assert_int_equal(authority_bundle_sequence(f->authority), sequence);

	assert_int_equal(authority_is_revoked(f->authority, "a1b2c", &revoked, &f->err), 0);
	assert_false(revoked);
}

static void revoke_rejects_malformed(void **state)
{
	struct fixture *f = *state;
	struct authority_revocation revocation;
	char too_long[80];
	char reason[AUTHORITY_REASON_MAX_LEN + 2];
	bool revoked;
	static const char *const bad[] = { "", "xyz", "12 34", "0x12", "12:34", "-1" };

	fixture_open(f, T0);
	for (size_t i = 0; i < WD_ARRAY_LEN(bad); i++)
		assert_int_equal(authority_revoke_serial(f->authority, bad[i], NULL, T0, &revocation,
			&f->err), WD_EINVAL);
	assert_int_equal(authority_revoke_serial(f->authority, NULL, NULL, T0, &revocation,
		&f->err), WD_EINVAL);

	/* 42 significant digits are more than 20 octets. */
	memset(too_long, 'f', 42);
	too_long[42] = '\0';
	assert_int_equal(authority_revoke_serial(f->authority, too_long, NULL, T0, &revocation,
		&f->err), WD_EINVAL);
	memset(too_long, '0', 70);
	too_long[70] = '\0';
	assert_int_equal(authority_revoke_serial(f->authority, too_long, NULL, T0, &revocation,
		&f->err), WD_EINVAL);
	assert_int_equal(authority_is_revoked(f->authority, "g", &revoked, &f->err), WD_EINVAL);

	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(authority_revoke_serial(f->authority, "01", reason, T0, &revocation,
		&f->err), WD_ETOOBIG);
}

static void revoke_spiffe_id_all_live(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid web[3] = { 0 };
	struct authority_x509_svid db = { 0 };
	struct authority_serial_list list = { 0 };
	struct spiffe_id id = make_id("spiffe://example.org/web");
	struct crl_set crls;
	bool revoked;

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0, &web[0]);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0, &web[1]);
	/* This one expires before the revocation and is not live. */
	issue_svid(f, "spiffe://example.org/web", NULL, 5, T0, &web[2]);
	issue_svid(f, "spiffe://example.org/db", NULL, 0, T0, &db);

	assert_int_equal(authority_revoke_spiffe_id(f->authority, &id, "compromised", T0 + 100,
		&list, &f->err), 0);
	assert_int_equal(list.count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(strcmp(list.serials[i], web[0].serial_hex) == 0 ||
			strcmp(list.serials[i], web[1].serial_hex) == 0);
	}
	assert_string_not_equal(list.serials[0], list.serials[1]);

	fetch_crls(f, &crls);
	assert_true(crl_lists(crls.crls[0], web[0].serial_hex));
	assert_true(crl_lists(crls.crls[0], web[1].serial_hex));
	assert_false(crl_lists(crls.crls[0], web[2].serial_hex));
	assert_false(crl_lists(crls.crls[0], db.serial_hex));
	assert_int_equal(authority_is_revoked(f->authority, db.serial_hex, &revoked, &f->err), 0);
	assert_false(revoked);
	assert_int_equal(authority_is_revoked(f->authority, web[2].serial_hex, &revoked,
		&f->err), 0);
	assert_false(revoked);
	authority_serial_list_clear(&list);

	/* A second call finds nothing live left to revoke. */
	assert_int_equal(authority_revoke_spiffe_id(f->authority, &id, NULL, T0 + 101, &list,
		&f->err), 0);
	assert_int_equal(list.count, 0);
	assert_null(list.serials);

	crl_set_free(&crls);
	for (size_t i = 0; i < 3; i++)
		authority_x509_svid_clear(&web[i]);
	authority_x509_svid_clear(&db);
}

static void revoke_entry_serials(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid one = { 0 };
	struct authority_x509_svid two = { 0 };
	struct authority_x509_svid other = { 0 };
	struct authority_serial_list list = { 0 };
	struct crl_set crls;

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", "entry-a", 0, T0, &one);
	issue_svid(f, "spiffe://example.org/web2", "entry-a", 0, T0, &two);
	issue_svid(f, "spiffe://example.org/web", "entry-b", 0, T0, &other);

	assert_int_equal(authority_revoke_entry(f->authority, "entry-a", "entry deleted", T0 + 1,
		&list, &f->err), 0);
	assert_int_equal(list.count, 2);

	fetch_crls(f, &crls);
	assert_true(crl_lists(crls.crls[0], one.serial_hex));
	assert_true(crl_lists(crls.crls[0], two.serial_hex));
	assert_false(crl_lists(crls.crls[0], other.serial_hex));
	authority_serial_list_clear(&list);

	assert_int_equal(authority_revoke_entry(f->authority, "no-such-entry", NULL, T0 + 1,
		&list, &f->err), 0);
	assert_int_equal(list.count, 0);
	assert_int_equal(authority_revoke_entry(f->authority, "", NULL, T0 + 1, &list, &f->err),
		WD_EINVAL);

	crl_set_free(&crls);
	authority_x509_svid_clear(&one);
	authority_x509_svid_clear(&two);
	authority_x509_svid_clear(&other);
}

/* The server finds a sensor's node through the entry its SVID came from. */
static void serial_entry_lookup(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid issued = { 0 };
	struct authority_x509_svid minted = { 0 };
	char upper[AUTHORITY_SERIAL_HEX_SIZE + 2];
	char *entry_id = (char *)"unset";

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/sensor", "entry-a", 0, T0, &issued);
	issue_svid(f, "spiffe://example.org/sensor", NULL, 0, T0, &minted);

	assert_int_equal(authority_serial_entry(f->authority, issued.serial_hex, &entry_id,
		&f->err), 0);
	assert_string_equal(entry_id, "entry-a");
	free(entry_id);

	/* Leading zeros and upper case name the same serial. */
	snprintf(upper, sizeof(upper), "0%s", issued.serial_hex);
	for (char *p = upper; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	assert_int_equal(authority_serial_entry(f->authority, upper, &entry_id, &f->err), 0);
	assert_string_equal(entry_id, "entry-a");
	free(entry_id);

	entry_id = (char *)"unset";
	assert_int_equal(authority_serial_entry(f->authority, minted.serial_hex, &entry_id,
		&f->err), 0);
	assert_null(entry_id);

	assert_int_equal(authority_serial_entry(f->authority, "abcdef", &entry_id, &f->err),
		WD_ENOTFOUND);
	assert_string_equal(wd_error_text(&f->err),
		"serial abcdef was not issued by this authority");
	assert_null(entry_id);
	assert_int_equal(authority_serial_entry(f->authority, "xyz", &entry_id, &f->err),
		WD_EINVAL);

	authority_x509_svid_clear(&issued);
	authority_x509_svid_clear(&minted);
}

static void crl_number_increases(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid[3] = { 0 };
	struct authority_revocation revocation;
	long last = 0;

	fixture_open(f, T0);
	for (size_t i = 0; i < 3; i++) {
		struct crl_set crls;

		issue_svid(f, "spiffe://example.org/web", NULL, 0, T0, &svid[i]);
		assert_int_equal(authority_revoke_serial(f->authority, svid[i].serial_hex, NULL,
			T0 + 1, &revocation, &f->err), 0);
		fetch_crls(f, &crls);
		assert_true(crl_number(crls.crls[0]) > last);
		last = crl_number(crls.crls[0]);
		assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crls.crls[0])),
			(int)i + 1);
		crl_set_free(&crls);
		authority_x509_svid_clear(&svid[i]);
	}

	/* The number survives a restart and keeps increasing. */
	fixture_reopen(f, T0 + 2);
	{
		struct crl_set crls;

		fetch_crls(f, &crls);
		assert_true(crl_number(crls.crls[0]) > last);
		assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crls.crls[0])), 3);
		crl_set_free(&crls);
	}
}

static void crl_drops_expired_serial(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid short_lived = { 0 };
	struct authority_x509_svid long_lived = { 0 };
	struct authority_revocation revocation;
	struct authority_changes changes;
	struct crl_set crls;

	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 60, T0, &short_lived);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0, &long_lived);
	assert_int_equal(authority_revoke_serial(f->authority, short_lived.serial_hex, NULL,
		T0 + 1, &revocation, &f->err), 0);
	assert_int_equal(authority_revoke_serial(f->authority, long_lived.serial_hex, NULL,
		T0 + 1, &revocation, &f->err), 0);

	/* Still valid through its notAfter (T0 + 60). */
	assert_int_equal(authority_tick(f->authority, T0 + 60, &changes, &f->err), 0);
	assert_false(changes.crls_reissued);
	fetch_crls(f, &crls);
	assert_true(crl_lists(crls.crls[0], short_lived.serial_hex));
	crl_set_free(&crls);

	assert_int_equal(authority_tick(f->authority, T0 + 61, &changes, &f->err), 0);
	assert_true(changes.crls_reissued);
	assert_true(changes.bundle_changed);
	fetch_crls(f, &crls);
	assert_false(crl_lists(crls.crls[0], short_lived.serial_hex));
	assert_true(crl_lists(crls.crls[0], long_lived.serial_hex));
	crl_set_free(&crls);

	/* Revoking an already expired serial records it but changes no CRL. */
	authority_x509_svid_clear(&short_lived);
	issue_svid(f, "spiffe://example.org/web", NULL, 10, T0 + 100, &short_lived);
	{
		uint64_t sequence = authority_bundle_sequence(f->authority);

		assert_int_equal(authority_revoke_serial(f->authority, short_lived.serial_hex,
			NULL, T0 + 200, &revocation, &f->err), 0);
		assert_false(revocation.already_revoked);
		assert_int_equal(authority_bundle_sequence(f->authority), sequence);
	}

	authority_x509_svid_clear(&short_lived);
	authority_x509_svid_clear(&long_lived);
}

static void crl_refreshed_before_next_update(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct crl_set crls;
	uint64_t sequence;

	f->config.crl_next_update_seconds = 100;
	fixture_open(f, T0);
	fetch_crls(f, &crls);
	assert_int_equal(crl_next_update(crls.crls[0]), T0 + 100);
	crl_set_free(&crls);
	sequence = authority_bundle_sequence(f->authority);

	assert_int_equal(authority_tick(f->authority, T0 + 49, &changes, &f->err), 0);
	assert_false(changes.crls_reissued);

	/* Half the validity has passed: reissue, and tell bundle pollers. */
	assert_int_equal(authority_tick(f->authority, T0 + 50, &changes, &f->err), 0);
	assert_true(changes.crls_reissued);
	assert_int_equal(changes.sequence, sequence + 1);
	fetch_crls(f, &crls);
	assert_int_equal(crl_next_update(crls.crls[0]), T0 + 150);
	crl_set_free(&crls);
}

static void crl_next_update_cut_to_ca(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };
	struct authority_revocation revocation;
	struct crl_set crls;

	f->config.ca_ttl_seconds = 600;
	fixture_open(f, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 250, &svid);
	assert_int_equal(authority_revoke_serial(f->authority, svid.serial_hex, NULL, T0 + 260,
		&revocation, &f->err), 0);
	fetch_crls(f, &crls);
	assert_int_equal(crl_next_update(crls.crls[0]), T0 + 600);
	crl_set_free(&crls);
	authority_x509_svid_clear(&svid);
}

static void crl_of_old_slot_after_rotation(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid old_svid = { 0 };
	struct authority_x509_svid new_svid = { 0 };
	struct authority_revocation revocation;
	struct authority_changes changes;
	struct crl_set crls;
	X509 *old_ca;
	X509 *new_ca;
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *cursor;
	X509_CRL *active_crl;

	f->config.ca_ttl_seconds = 600;
	fixture_open(f, T0);
	assert_int_equal(authority_tick(f->authority, T0 + 301, &changes, &f->err), 0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 450, &old_svid);
	assert_int_equal(old_svid.slot_id, 1);
	assert_int_equal(authority_tick(f->authority, T0 + 501, &changes, &f->err), 0);
	assert_int_equal(changes.activated_slot, 2);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 502, &new_svid);

	assert_int_equal(authority_revoke_serial(f->authority, old_svid.serial_hex, NULL,
		T0 + 510, &revocation, &f->err), 0);
	assert_int_equal(revocation.slot_id, 1);
	assert_int_equal(authority_revoke_serial(f->authority, new_svid.serial_hex, NULL,
		T0 + 511, &revocation, &f->err), 0);
	assert_int_equal(revocation.slot_id, 2);

	old_ca = slot_cert(f, 1);
	new_ca = slot_cert(f, 2);
	fetch_crls(f, &crls);
	assert_int_equal(crls.count, 2);
	/* Active slot first: slot 2's CRL lists only what slot 2 signed. */
	assert_true(crl_signed_by(crls.crls[0], new_ca));
	assert_false(crl_signed_by(crls.crls[0], old_ca));
	assert_true(crl_lists(crls.crls[0], new_svid.serial_hex));
	assert_false(crl_lists(crls.crls[0], old_svid.serial_hex));
	assert_true(crl_signed_by(crls.crls[1], old_ca));
	assert_true(crl_lists(crls.crls[1], old_svid.serial_hex));
	assert_false(crl_lists(crls.crls[1], new_svid.serial_hex));
	/* The old slot's CRL ends with its CA. */
	assert_int_equal(crl_next_update(crls.crls[1]), T0 + 600);

	assert_int_equal(authority_crl_der_active(f->authority, &der, &der_len, &f->err), 0);
	cursor = der;
	active_crl = d2i_X509_CRL(NULL, &cursor, (long)der_len);
	assert_non_null(active_crl);
	assert_true(crl_signed_by(active_crl, new_ca));
	assert_true(crl_lists(active_crl, new_svid.serial_hex));
	X509_CRL_free(active_crl);
	free(der);
	crl_set_free(&crls);

	/* Once slot 1 is pruned its CRL goes with it. */
	assert_int_equal(authority_tick(f->authority, T0 + 601, &changes, &f->err), 0);
	assert_int_equal(changes.pruned_count, 1);
	fetch_crls(f, &crls);
	assert_int_equal(crls.count, 1);
	assert_true(crl_signed_by(crls.crls[0], new_ca));
	crl_set_free(&crls);

	X509_free(old_ca);
	X509_free(new_ca);
	authority_x509_svid_clear(&old_svid);
	authority_x509_svid_clear(&new_svid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(revoke_serial_on_crl, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(revoke_serial_twice_idempotent, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(revoke_unknown_serial, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(revoke_rejects_malformed, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(revoke_spiffe_id_all_live, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(revoke_entry_serials, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(serial_entry_lookup, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(crl_number_increases, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(crl_drops_expired_serial, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(crl_refreshed_before_next_update, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(crl_next_update_cut_to_ca, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(crl_of_old_slot_after_rotation, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
