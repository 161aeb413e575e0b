/* Unit tests for CA keys encrypted at rest. They cover the encrypted key
 * file format (round trip, wrong key-encryption key, renamed or damaged
 * files) and the conversion of plaintext key files. An authority that opens
 * sealed rejects signing and records revocations, and once unlocked it signs
 * again with the same CA. */
#include <ctype.h>
#include <dirent.h>

#include <openssl/bn.h>
#include <openssl/err.h>

#include "authority_fixture.h"
#include "common/alloc.h"
#include "common/file.h"
#include "identity/authority_internal.h"

static const uint8_t kek_a[AUTHORITY_KEK_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};
static const uint8_t kek_b[AUTHORITY_KEK_LEN] = { 0xff };

static void encrypted_path(const struct fixture *f, int64_t slot_id, const char *role,
	char *out, size_t len)
{
	snprintf(out, len, "%s/authority/slot-%lld-%s.key.enc", f->dir, (long long)slot_id, role);
}

/* Returns the file's bytes (NUL-terminated) or fails the test. */
static uint8_t *read_all(const char *path, size_t *ret_len)
{
	uint8_t *data = NULL;

	assert_int_equal(wd_file_read(path, 1 << 20, &data, ret_len, NULL), 0);
	return data;
}

static void write_all(const char *path, const uint8_t *data, size_t len)
{
	assert_int_equal(wd_file_write_atomic(path, data, len, 0600, NULL), 0);
}

/* Whether any file in dir contains text. */
static bool dir_contains(const char *dir, const char *text)
{
	DIR *handle = opendir(dir);
	struct dirent *entry;
	bool found = false;

	assert_non_null(handle);
	while ((entry = readdir(handle)) != NULL) {
		char path[512];
		uint8_t *data;
		size_t len = 0;

		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		data = read_all(path, &len);
		found = found || memmem(data, len, text, strlen(text)) != NULL;
		free(data);
	}
	closedir(handle);
	return found;
}

static void expect_mode_0600(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* Whether the fixture's store is PostgreSQL, where the sealed keys live in
 * the authority_keys table rather than in files. */
static bool keys_in_store(const struct fixture *f)
{
	return strcmp(store_backend(f->store), "postgres") == 0;
}

static enum ca_key_role role_of(const char *role)
{
	return strcmp(role, "jwt") == 0 ? CA_KEY_ROLE_JWT : CA_KEY_ROLE_X509;
}

/* The slot's sealed key exists: an encrypted file of mode 0600, or a row
 * in the format of one, without the private key in the clear. */
static void expect_sealed_key(struct fixture *f, int64_t slot_id, const char *role)
{
	char path[256];
	uint8_t *data = NULL;
	size_t len = 0;

	encrypted_path(f, slot_id, role, path, sizeof(path));
	if (!keys_in_store(f)) {
		expect_mode_0600(path);
		return;
	}
	assert_false(file_exists(path));
	assert_int_equal(ca_key_store_get(f->store, slot_id, role_of(role), &data, &len, &f->err),
		0);
	assert_true(len > 8);
	assert_memory_equal(data, "WDCAKEY\x01", 8);
	assert_null(memmem(data, len, "PRIVATE KEY", 11));
	free(data);
}

static void expect_no_sealed_key(struct fixture *f, int64_t slot_id, const char *role)
{
	char path[256];
	uint8_t *data = NULL;
	size_t len = 0;

	encrypted_path(f, slot_id, role, path, sizeof(path));
	assert_false(file_exists(path));
	if (keys_in_store(f)) {
		assert_int_equal(ca_key_store_get(f->store, slot_id, role_of(role), &data, &len,
			&f->err), WD_ENOTFOUND);
		assert_null(data);
	}
}

/* The private halves are equal when their PKCS#8 encodings are. */
static void expect_same_private_key(EVP_PKEY *a, EVP_PKEY *b)
{
	unsigned char *der_a = NULL;
	unsigned char *der_b = NULL;
	int len_a = i2d_PrivateKey(a, &der_a);
	int len_b = i2d_PrivateKey(b, &der_b);

	assert_true(len_a > 0);
	assert_int_equal(len_a, len_b);
	assert_memory_equal(der_a, der_b, (size_t)len_a);
	OPENSSL_clear_free(der_a, (size_t)len_a);
	OPENSSL_clear_free(der_b, (size_t)len_b);
}

static void key_file_round_trip(void **state)
{
	static const enum crypto_key_type types[] = {
		CRYPTO_KEY_EC_P256, CRYPTO_KEY_EC_P384, CRYPTO_KEY_RSA_2048,
	};
	struct fixture *f = *state;
	char path[256];

	snprintf(path, sizeof(path), "%s/slot-1-x509-ca.key.enc", f->dir);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		EVP_PKEY *key = NULL;
		EVP_PKEY *loaded = NULL;
		EVP_PKEY *public_key = NULL;
		uint8_t *data;
		size_t len = 0;

		assert_int_equal(crypto_key_generate(types[i], &key, NULL), 0);
		assert_int_equal(ca_key_file_write(kek_a, key, path, &f->err), 0);
		expect_mode_0600(path);

		data = read_all(path, &len);
		assert_memory_equal(data, "WDCAKEY\x01", 8);
		assert_null(memmem(data, len, "PRIVATE KEY", 11));
		free(data);

		assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), 0);
		expect_same_private_key(key, loaded);
		assert_int_equal(ca_key_file_read_public(path, &public_key, &f->err), 0);
		assert_int_equal(EVP_PKEY_eq(key, public_key), 1);

		EVP_PKEY_free(key);
		EVP_PKEY_free(loaded);
		EVP_PKEY_free(public_key);
	}
}

static void key_file_wrong_kek(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	EVP_PKEY *loaded = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/slot-1-jwt.key.enc", f->dir);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	assert_int_equal(ca_key_file_write(kek_a, key, path, &f->err), 0);

	assert_int_equal(ca_key_file_read_private(kek_b, path, &loaded, &f->err), WD_ECRYPTO);
	assert_null(loaded);
	assert_non_null(strstr(f->err.detail, "slot-1-jwt.key.enc"));
	assert_non_null(strstr(f->err.detail, "failed authentication"));
	EVP_PKEY_free(key);
}

static void key_file_renamed_fails(void **state)
{
	static const char *const other_names[] = {
		"slot-2-jwt.key.enc", "slot-1-x509-ca.key.enc", "slot-10-jwt.key.enc",
	};
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/slot-1-jwt.key.enc", f->dir);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	assert_int_equal(ca_key_file_write(kek_a, key, path, &f->err), 0);

	for (size_t i = 0; i < sizeof(other_names) / sizeof(other_names[0]); i++) {
		EVP_PKEY *loaded = NULL;
		EVP_PKEY *public_key = NULL;
		char moved[256];

		snprintf(moved, sizeof(moved), "%s/%s", f->dir, other_names[i]);
		assert_int_equal(rename(path, moved), 0);
		assert_int_equal(ca_key_file_read_private(kek_a, moved, &loaded, &f->err),
			WD_ECRYPTO);
		assert_null(loaded);
		/* The public half is readable without the KEK, and so without
		 * authentication. */
		assert_int_equal(ca_key_file_read_public(moved, &public_key, &f->err), 0);
		EVP_PKEY_free(public_key);
		assert_int_equal(rename(moved, path), 0);
	}

	{
		EVP_PKEY *loaded = NULL;

		assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), 0);
		EVP_PKEY_free(loaded);
	}
	EVP_PKEY_free(key);
}

static void key_file_damaged_fails(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *key = NULL;
	EVP_PKEY *other = NULL;
	EVP_PKEY *loaded = NULL;
	unsigned char *other_public = NULL;
	uint8_t *original;
	uint8_t *copy;
	size_t len = 0;
	int other_len;
	char path[256];

	snprintf(path, sizeof(path), "%s/slot-1-x509-ca.key.enc", f->dir);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	assert_int_equal(ca_key_file_write(kek_a, key, path, &f->err), 0);
	original = read_all(path, &len);
	copy = malloc(len);
	assert_non_null(copy);

	/* A flipped ciphertext byte (the last before the 16-byte tag). */
	memcpy(copy, original, len);
	copy[len - 17] ^= 0x01;
	write_all(path, copy, len);
	assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), WD_ECRYPTO);

	/* Another key's public half put in the clear part: same length, so only
	 * the tag notices. */
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &other, NULL), 0);
	other_len = i2d_PUBKEY(other, &other_public);
	assert_true(other_len > 0);
	memcpy(copy, original, len);
	memcpy(copy + 24, other_public, (size_t)other_len);
	write_all(path, copy, len);
	assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), WD_ECRYPTO);

	/* A newer format version, and a truncated file. */
	memcpy(copy, original, len);
	copy[7] = 2;
	write_all(path, copy, len);
	assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), WD_ECORRUPT);
	assert_non_null(strstr(f->err.detail, "format version 2"));
	write_all(path, original, 30);
	assert_int_equal(ca_key_file_read_public(path, &loaded, &f->err), WD_ECORRUPT);

	/* A readable file is refused before it is read. */
	write_all(path, original, len);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), WD_EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(ca_key_file_read_private(kek_a, path, &loaded, &f->err), 0);

	EVP_PKEY_free(loaded);
	OPENSSL_free(other_public);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
	free(copy);
	free(original);
}

static void sign_x509_at(struct fixture *f, int64_t now)
{
	struct authority_x509_svid svid = { 0 };

	issue_svid(f, "spiffe://example.org/web", NULL, 0, now, &svid);
	assert_int_equal(verify_with_bundle(f, authority_x509_svid_cert(&svid), now), 0);
	authority_x509_svid_clear(&svid);
}

static int sign_jwt_at(struct fixture *f, int64_t now)
{
	struct spiffe_id id = make_id("spiffe://example.org/web");
	const char *audience[] = { "db" };
	int64_t expires_at = 0;
	char *token = NULL;
	int rc;

	rc = authority_sign_jwt(f->authority, &id, audience, 1, 0, now, &token, &expires_at,
		&f->err);
	free(token);
	return rc;
}

static int try_sign_x509(struct fixture *f, int64_t now)
{
	struct authority_x509_svid svid = { 0 };
	struct spiffe_id id = make_id("spiffe://example.org/web");
	struct authority_x509_request request;
	EVP_PKEY *key = NULL;
	int rc;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	request = (struct authority_x509_request){ .spiffe_id = &id, .public_key = key };
	rc = authority_sign_x509(f->authority, &request, now, &svid, &f->err);
	authority_x509_svid_clear(&svid);
	EVP_PKEY_free(key);
	return rc;
}

static void unlock(struct fixture *f, const uint8_t *kek, int64_t now)
{
	int rc = authority_keys_unlock(f->authority, kek, now, &f->err);

	if (rc != 0)
		fail_msg("authority_keys_unlock: %d %s", rc, f->err.detail);
}

static void unlock_converts_plaintext(void **state)
{
	static const char *const roles[] = { "x509-ca", "jwt" };
	struct fixture *f = *state;
	char key_dir[128];
	char path[256];

	fixture_open(f, T0);
	snprintf(key_dir, sizeof(key_dir), "%s/authority", f->dir);
	assert_true(dir_contains(key_dir, "PRIVATE KEY"));
	assert_false(authority_keys_sealed(f->authority));

	unlock(f, kek_a, T0 + 1);
	for (size_t i = 0; i < 2; i++) {
		key_file_path(f, 1, roles[i], path, sizeof(path));
		assert_false(file_exists(path));
		expect_sealed_key(f, 1, roles[i]);
	}
	assert_false(dir_contains(key_dir, "PRIVATE KEY"));

	/* The keys stay loaded: an unsealed authority did not reissue CRLs. */
	assert_false(authority_keys_sealed(f->authority));
	assert_int_equal(authority_bundle_sequence(f->authority), 1);
	sign_x509_at(f, T0 + 2);
	assert_int_equal(sign_jwt_at(f, T0 + 2), 0);
}

static void reopen_sealed_rejects_signing(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };
	struct authority_changes changes;
	struct jwt_authority *jwt = NULL;
	size_t jwt_count = 0;
	char *bundle_before = NULL;
	char *bundle_after = NULL;
	char *crl_before = NULL;
	char *crl_after = NULL;

	f->config.ca_ttl_seconds = 600;
	f->config.x509_svid_ttl_seconds = 60;
	fixture_open(f, T0);
	unlock(f, kek_a, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 1, &svid);
	assert_int_equal(authority_bundle_json(f->authority, &bundle_before, &f->err), 0);
	assert_int_equal(authority_crl_pem(f->authority, &crl_before, &f->err), 0);

	fixture_reopen(f, T0 + 2);
	assert_true(authority_keys_sealed(f->authority));

	/* Publishing works from the public halves and the stored CRL. */
	assert_int_equal(authority_bundle_json(f->authority, &bundle_after, &f->err), 0);
	assert_string_equal(bundle_after, bundle_before);
	assert_int_equal(authority_crl_pem(f->authority, &crl_after, &f->err), 0);
	assert_string_equal(crl_after, crl_before);
	assert_int_equal(verify_with_bundle(f, authority_x509_svid_cert(&svid), T0 + 2), 0);
	assert_int_equal(authority_jwt_authorities(f->authority, &jwt, &jwt_count, &f->err), 0);
	assert_int_equal(jwt_count, 1);
	authority_jwt_authorities_free(jwt, jwt_count);

	/* Everything that needs a private key is refused. */
	assert_int_equal(try_sign_x509(f, T0 + 3), WD_EUNAVAILABLE);
	assert_string_equal(f->err.detail, "the CA keys are sealed: unseal the secrets barrier");
	assert_int_equal(sign_jwt_at(f, T0 + 3), WD_EUNAVAILABLE);

	/* Past the preparation point (300 s left) the tick still waits. */
	assert_int_equal(authority_tick(f->authority, T0 + 400, &changes, &f->err), 0);
	assert_int_equal(changes.prepared_slot, 0);
	assert_false(changes.bundle_changed);
	assert_int_equal(changes.sequence, 1);
	assert_int_equal(slot_count(f), 1);

	authority_x509_svid_clear(&svid);
	free(bundle_before);
	free(bundle_after);
	free(crl_before);
	free(crl_after);
}

/* Whether the current CRLs list serial_hex. */
static bool crl_lists(struct fixture *f, const char *serial_hex)
{
	char *pem = NULL;
	BIO *bio;
	X509_CRL *crl;
	bool found = false;

	assert_int_equal(authority_crl_pem(f->authority, &pem, &f->err), 0);
	bio = BIO_new_mem_buf(pem, -1);
	assert_non_null(bio);
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);

		for (int i = 0; i < sk_X509_REVOKED_num(revoked); i++) {
			const ASN1_INTEGER *serial =
				X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
			BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
			char *hex = BN_bn2hex(bn);

			for (char *c = hex; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			/* BN_bn2hex pads to whole bytes ("07b9..."), while serial_hex
			 * has no leading zero digit ("7b9..."). */
			found = found || strcmp(hex + strspn(hex, "0"),
				serial_hex + strspn(serial_hex, "0")) == 0;
			OPENSSL_free(hex);
			BN_free(bn);
		}
		X509_CRL_free(crl);
	}
	ERR_clear_error();
	BIO_free(bio);
	free(pem);
	return found;
}

/* A revocation while sealed is recorded at once; its CRL follows the
 * unlock. */
static void revoke_while_sealed_recorded(void **state)
{
	struct fixture *f = *state;
	struct authority_x509_svid svid = { 0 };
	struct authority_revocation revocation;
	char *crl_before = NULL;
	char *crl_sealed = NULL;
	bool revoked = false;

	fixture_open(f, T0);
	unlock(f, kek_a, T0);
	issue_svid(f, "spiffe://example.org/web", NULL, 0, T0 + 1, &svid);
	fixture_reopen(f, T0 + 2);
	assert_true(authority_keys_sealed(f->authority));
	assert_int_equal(authority_crl_pem(f->authority, &crl_before, &f->err), 0);

	assert_int_equal(authority_revoke_serial(f->authority, svid.serial_hex, "test", T0 + 3,
		&revocation, &f->err), 0);
	assert_false(revocation.already_revoked);
	assert_int_equal(revocation.revoked_at, T0 + 3);
	assert_int_equal(authority_is_revoked(f->authority, svid.serial_hex, &revoked, &f->err), 0);
	assert_true(revoked);
	assert_int_equal(authority_crl_pem(f->authority, &crl_sealed, &f->err), 0);
	assert_string_equal(crl_sealed, crl_before);
	assert_false(crl_lists(f, svid.serial_hex));
	assert_int_equal(authority_bundle_sequence(f->authority), 1);

	unlock(f, kek_a, T0 + 4);
	assert_true(crl_lists(f, svid.serial_hex));
	assert_int_equal(authority_bundle_sequence(f->authority), 2);

	authority_x509_svid_clear(&svid);
	free(crl_before);
	free(crl_sealed);
}

static void unlock_after_reopen_signs(void **state)
{
	struct fixture *f = *state;
	X509 *ca_before;
	X509 *ca_after;

	fixture_open(f, T0);
	unlock(f, kek_a, T0);
	ca_before = slot_cert(f, 1);

	fixture_reopen(f, T0 + 10);
	assert_int_equal(authority_keys_unlock(f->authority, kek_b, T0 + 11, &f->err),
		WD_ECRYPTO);
	assert_true(authority_keys_sealed(f->authority));
	assert_int_equal(try_sign_x509(f, T0 + 11), WD_EUNAVAILABLE);

	unlock(f, kek_a, T0 + 12);
	assert_false(authority_keys_sealed(f->authority));
	/* The CRLs were reissued, which bumps the sequence once. */
	assert_int_equal(authority_bundle_sequence(f->authority), 2);
	ca_after = slot_cert(f, 1);
	assert_int_equal(X509_cmp(ca_before, ca_after), 0);
	sign_x509_at(f, T0 + 13);
	assert_int_equal(sign_jwt_at(f, T0 + 13), 0);

	/* A second unlock with the same KEK changes nothing; another KEK is a
	 * conflict. */
	unlock(f, kek_a, T0 + 14);
	assert_int_equal(authority_bundle_sequence(f->authority), 2);
	assert_int_equal(authority_keys_unlock(f->authority, kek_b, T0 + 14, &f->err),
		WD_ECONFLICT);
	sign_x509_at(f, T0 + 15);

	X509_free(ca_before);
	X509_free(ca_after);
}

static void lock_drops_keys(void **state)
{
	struct fixture *f = *state;

	fixture_open(f, T0);
	/* Without a KEK the keys live in plaintext files: lock keeps them. */
	authority_keys_lock(f->authority);
	assert_false(authority_keys_sealed(f->authority));
	sign_x509_at(f, T0 + 1);

	unlock(f, kek_a, T0 + 2);
	authority_keys_lock(f->authority);
	assert_true(authority_keys_sealed(f->authority));
	assert_int_equal(try_sign_x509(f, T0 + 3), WD_EUNAVAILABLE);
	assert_int_equal(sign_jwt_at(f, T0 + 3), WD_EUNAVAILABLE);

	unlock(f, kek_a, T0 + 4);
	sign_x509_at(f, T0 + 5);
	assert_int_equal(sign_jwt_at(f, T0 + 5), 0);
}

static void rotation_writes_encrypted(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	char key_dir[128];
	char path[256];

	f->config.ca_ttl_seconds = 600;
	f->config.x509_svid_ttl_seconds = 60;
	f->config.jwt_svid_ttl_seconds = 60;
	f->config.refresh_hint_seconds = 30;
	fixture_open(f, T0);
	unlock(f, kek_a, T0);

	assert_int_equal(authority_tick(f->authority, T0 + 301, &changes, &f->err), 0);
	assert_int_equal(changes.prepared_slot, 2);
	expect_sealed_key(f, 2, "x509-ca");
	expect_sealed_key(f, 2, "jwt");
	key_file_path(f, 2, "x509-ca", path, sizeof(path));
	assert_false(file_exists(path));
	snprintf(key_dir, sizeof(key_dir), "%s/authority", f->dir);
	assert_false(dir_contains(key_dir, "PRIVATE KEY"));

	/* Both slots reopen sealed and unlock together. */
	fixture_reopen(f, T0 + 302);
	assert_true(authority_keys_sealed(f->authority));
	unlock(f, kek_a, T0 + 303);
	assert_int_equal(authority_tick(f->authority, T0 + 501, &changes, &f->err), 0);
	assert_int_equal(changes.activated_slot, 2);
	sign_x509_at(f, T0 + 502);

	/* A pruned slot loses its encrypted keys. */
	assert_int_equal(authority_tick(f->authority, T0 + 601, &changes, &f->err), 0);
	assert_int_equal(changes.pruned_count, 1);
	expect_no_sealed_key(f, 1, "x509-ca");
	expect_no_sealed_key(f, 1, "jwt");
}

/* A crash after the encrypted copy was written but before the plaintext file
 * was unlinked leaves both; the next unlock removes the plaintext one. */
static void crash_before_unlink_recovers(void **state)
{
	struct fixture *f = *state;
	char plain[256];
	uint8_t *saved;
	size_t len = 0;

	fixture_open(f, T0);
	key_file_path(f, 1, "x509-ca", plain, sizeof(plain));
	saved = read_all(plain, &len);
	unlock(f, kek_a, T0);
	authority_close(f->authority);
	f->authority = NULL;
	write_all(plain, saved, len);

	/* The JWT key is only encrypted, so the slot opens sealed. */
	fixture_open(f, T0 + 1);
	assert_true(authority_keys_sealed(f->authority));
	assert_int_equal(try_sign_x509(f, T0 + 1), WD_EUNAVAILABLE);
	unlock(f, kek_a, T0 + 2);
	assert_false(file_exists(plain));
	sign_x509_at(f, T0 + 3);

	fixture_reopen(f, T0 + 4);
	assert_true(authority_keys_sealed(f->authority));
	unlock(f, kek_a, T0 + 5);
	sign_x509_at(f, T0 + 6);
	wd_free_secret(saved, len + 1);
}

static void missing_key_names_both_files(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	char path[256];

	fixture_open(f, T0);
	unlock(f, kek_a, T0);
	authority_close(f->authority);
	f->authority = NULL;

	if (keys_in_store(f)) {
		/* A server that finds no key in the datastore was started before the
		 * one that made the slot stored it there. */
		assert_int_equal(store_exec(f->store, "DELETE FROM authority_keys WHERE role = 'jwt'",
			NULL, 0, NULL, &f->err), 0);
		assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
			WD_EUNAVAILABLE);
		assert_null(authority);
		assert_string_equal(f->err.detail, "the keys of CA slot 1 are not in the datastore "
			"yet: the server that made them stores them at its first unseal, so unseal it "
			"first");
		return;
	}
	encrypted_path(f, 1, "jwt", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
		WD_ECORRUPT);
	assert_null(authority);
	assert_non_null(strstr(f->err.detail, "slot-1-jwt.pem"));
	assert_non_null(strstr(f->err.detail, "slot-1-jwt.key.enc"));
}

static void swapped_encrypted_key_rejected(void **state)
{
	struct fixture *f = *state;
	struct authority *authority = NULL;
	char x509_path[256];
	char jwt_path[256];

	fixture_open(f, T0);
	unlock(f, kek_a, T0);
	authority_close(f->authority);
	f->authority = NULL;

	/* The JWT file now contains the CA key, whose public half does not give
	 * the stored kid. */
	if (keys_in_store(f)) {
		assert_int_equal(store_exec(f->store, "UPDATE authority_keys SET sealed_key ="
			" (SELECT sealed_key FROM authority_keys WHERE role = 'x509-ca')"
			" WHERE role = 'jwt'", NULL, 0, NULL, &f->err), 0);
		assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
			WD_ECORRUPT);
		assert_null(authority);
		return;
	}
	encrypted_path(f, 1, "x509-ca", x509_path, sizeof(x509_path));
	encrypted_path(f, 1, "jwt", jwt_path, sizeof(jwt_path));
	assert_int_equal(rename(x509_path, jwt_path), 0);
	assert_int_equal(authority_open(&f->config, f->store, T0, &authority, &f->err),
		WD_ECORRUPT);
	assert_null(authority);
}

static size_t x509_authority_count(struct authority *authority)
{
	STACK_OF(X509) *authorities = NULL;
	size_t count;

	assert_int_equal(authority_x509_authorities(authority, &authorities, NULL), 0);
	count = (size_t)sk_X509_num(authorities);
	sk_X509_pop_free(authorities, X509_free);
	return count;
}

/* A second server on the same datastore loads the same CA, and follows a
 * rotation that the first one makes. */
static void second_authority_follows_rotation(void **state)
{
	struct fixture *f = *state;
	struct authority_changes changes;
	struct authority *first;
	struct authority *other = NULL;
	struct store *other_store = NULL;
	bool changed = false;

	f->config.ca_ttl_seconds = 600;
	f->config.x509_svid_ttl_seconds = 60;
	f->config.jwt_svid_ttl_seconds = 60;
	f->config.refresh_hint_seconds = 30;
	fixture_open(f, T0);
	unlock(f, kek_a, T0);

	assert_int_equal(store_open(f->db_path, NULL, &other_store, &f->err), 0);
	assert_int_equal(authority_open(&f->config, other_store, T0 + 1, &other, &f->err), 0);
	assert_true(authority_keys_sealed(other));
	assert_int_equal(authority_keys_unlock(other, kek_a, T0 + 1, &f->err), 0);
	assert_false(authority_keys_sealed(other));

	/* The unlock reissued the CRLs and bumped the sequence. */
	assert_int_equal(authority_reload_if_changed(f->authority, &changed, &f->err), 0);
	assert_true(changed);
	assert_int_equal(authority_bundle_sequence(f->authority), authority_bundle_sequence(other));
	assert_int_equal(authority_reload_if_changed(f->authority, &changed, &f->err), 0);
	assert_false(changed);

	assert_int_equal(authority_tick(f->authority, T0 + 301, &changes, &f->err), 0);
	assert_int_equal(changes.prepared_slot, 2);
	assert_int_equal(x509_authority_count(other), 1);
	assert_int_equal(authority_reload_if_changed(other, &changed, &f->err), 0);
	assert_true(changed);
	assert_int_equal(x509_authority_count(other), 2);
	assert_false(authority_keys_sealed(other));
	assert_int_equal(authority_bundle_sequence(f->authority), authority_bundle_sequence(other));

	assert_int_equal(authority_tick(f->authority, T0 + 501, &changes, &f->err), 0);
	assert_int_equal(changes.activated_slot, 2);
	assert_int_equal(authority_reload_if_changed(other, &changed, &f->err), 0);
	assert_true(changed);

	/* The follower signs with the new CA's key. */
	first = f->authority;
	f->authority = other;
	sign_x509_at(f, T0 + 502);
	f->authority = first;

	/* Both bump the one stored sequence and cRLNumber, even the one that
	 * has not loaded the other's change yet. */
	{
		uint64_t sequence = authority_bundle_sequence(other);
		int64_t crl_number = other->crl_number;

		assert_int_equal(authority_crls_issue_all(other, T0 + 503, &f->err), 0);
		assert_int_equal(authority_bundle_sequence(other), sequence + 1);
		assert_int_equal(authority_crls_issue_all(f->authority, T0 + 504, &f->err), 0);
		assert_int_equal(authority_bundle_sequence(f->authority), sequence + 2);
		assert_int_equal(f->authority->crl_number, crl_number + 4);
	}

	authority_close(other);
	store_close(other_store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_file_round_trip, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(key_file_wrong_kek, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(key_file_renamed_fails, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(key_file_damaged_fails, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(unlock_converts_plaintext, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(reopen_sealed_rejects_signing, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(revoke_while_sealed_recorded, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(unlock_after_reopen_signs, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(lock_drops_keys, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(rotation_writes_encrypted, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(crash_before_unlink_recovers, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(second_authority_follows_rotation, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(missing_key_names_both_files, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(swapped_encrypted_key_rejected, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
