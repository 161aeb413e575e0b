/* CA slots: making a slot's keys and self-signed CA certificate, its key
 * files under DATA_DIR/authority, and its row in authority_slots. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "crypto/x509.h"
#include "identity/authority_internal.h"
#include "identity/x509svid.h"

static int key_path(const char *key_dir, int64_t id, enum ca_key_role role, bool encrypted,
	char *out, size_t out_len)
{
	int n = snprintf(out, out_len, "%s/slot-%" PRId64 "-%s.%s", key_dir, id,
		role == CA_KEY_ROLE_X509 ? "x509-ca" : "jwt", encrypted ? "key.enc" : "pem");

	if (n < 0 || (size_t)n >= out_len)
		return WD_ETOOBIG;
	return 0;
}

int ca_key_path(const struct authority *authority, int64_t id, enum ca_key_role role,
	bool encrypted, char *out, size_t out_len, struct wd_error *err)
{
	if (key_path(authority->key_dir, id, role, encrypted, out, out_len) < 0)
		return wd_error_set(err, WD_ECONFIG, "key directory path \"%.200s\" is too long",
			authority->key_dir);
	return 0;
}

/* The key directory must be a real directory that only its owner, the
 * server's user, can enter: anyone else who can list or replace files there
 * could swap a CA key. */
int ca_key_dir_prepare(const char *key_dir, struct wd_error *err)
{
	struct stat st;
	int fd = -1;
	int rc;

	if (mkdir(key_dir, 0700) < 0 && errno != EEXIST) {
		if (errno == ENOENT)
			return wd_error_set(err, WD_ECONFIG,
				"data directory of \"%.200s\" does not exist; create it first",
				key_dir);
		return wd_error_set(err, WD_EIO, "creating key directory \"%.200s\" failed: %s",
			key_dir, strerror(errno));
	}

	fd = open(key_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = wd_error_set(err, WD_EIO,
			"opening key directory \"%.200s\" failed: %s (it must be a directory, "
			"not a symbolic link)", key_dir, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = wd_error_set(err, WD_EIO, "reading key directory \"%.200s\" failed: %s",
			key_dir, strerror(errno));
		goto out;
	}
	if (st.st_uid != geteuid()) {
		rc = wd_error_set(err, WD_EPERM,
			"key directory \"%.200s\" is owned by uid %u, not by the server's uid %u",
			key_dir, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = wd_error_set(err, WD_EPERM,
			"key directory \"%.200s\" has mode %04o and is accessible by group or "
			"others; run chmod 700 on it", key_dir, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	rc = 0;
out:
	wd_closep(&fd);
	return rc;
}

void ca_slot_free(struct authority_slot *slot)
{
	if (!slot)
		return;
	x509svid_issuer_free(slot->issuer);
	X509_free(slot->cert);
	EVP_PKEY_free(slot->x509_key);
	EVP_PKEY_free(slot->jwt_key);
	EVP_PKEY_free(slot->jwt_public);
	authority_crl_release(&slot->crl);
	free(slot);
}

void ca_slot_remove_keys(const struct authority *authority, int64_t id)
{
	char path[PATH_MAX];
	struct wd_error err;

	/* NOTE: a failed delete leaves the sealed key of an expired CA in the
	 * datastore; it still decrypts only with the barrier's KEK. */
	wd_error_clear(&err);
	if (authority->keys_in_store)
		(void)ca_key_store_delete(authority->store, id, &err);

	/* NOTE: a failed unlink leaves the key file of an expired CA on disk
	 * until an operator removes it. */
	for (int encrypted = 0; encrypted <= 1; encrypted++) {
		if (key_path(authority->key_dir, id, CA_KEY_ROLE_X509, encrypted, path,
			    sizeof(path)) == 0)
			(void)unlink(path);
		if (key_path(authority->key_dir, id, CA_KEY_ROLE_JWT, encrypted, path,
			    sizeof(path)) == 0)
			(void)unlink(path);
	}
}

struct authority_slot *ca_active_slot(const struct authority *authority)
{
	for (size_t i = 0; i < authority->slot_count; i++) {
		if (authority->slots[i]->state == AUTHORITY_SLOT_ACTIVE)
			return authority->slots[i];
	}
	return NULL;
}

/* Fills the fields that derive from the certificate and the JWT key. */
static int slot_describe(struct authority_slot *slot, struct wd_error *err)
{
	if (crypto_x509_not_before(slot->cert, &slot->not_before) < 0 ||
	    crypto_x509_not_after(slot->cert, &slot->not_after) < 0 ||
	    crypto_x509_fingerprint(slot->cert, slot->fingerprint, sizeof(slot->fingerprint)) < 0)
		return wd_error_set(err, WD_EINTERNAL,
			"reading the CA certificate of slot %" PRId64 " failed", slot->id);
	if (jwtsvid_key_id(slot->jwt_public, slot->jwt_kid, sizeof(slot->jwt_kid)) < 0)
		return wd_error_set(err, WD_EINTERNAL,
			"computing the JWT key id of slot %" PRId64 " failed", slot->id);
	return 0;
}

static int save_key(const struct authority *authority, int64_t id, enum ca_key_role role,
	EVP_PKEY *key, const char *path, struct wd_error *err)
{
	if (authority->kek_set && authority->keys_in_store)
		return ca_key_store_save(authority, id, role, key, err);
	if (authority->kek_set)
		return ca_key_file_write(authority->kek, key, path, err);
	return crypto_key_save(key, path, err);
}

/* Encrypted once the authority has a KEK, plaintext PEM before. */
static int save_keys(const struct authority *authority, const struct authority_slot *slot,
	struct wd_error *err)
{
	char x509_path[PATH_MAX];
	char jwt_path[PATH_MAX];
	int rc;

	WD_TRY(ca_key_path(authority, slot->id, CA_KEY_ROLE_X509, authority->kek_set, x509_path,
		sizeof(x509_path), err));
	WD_TRY(ca_key_path(authority, slot->id, CA_KEY_ROLE_JWT, authority->kek_set, jwt_path,
		sizeof(jwt_path), err));

	WD_GUARD(save_key(authority, slot->id, CA_KEY_ROLE_X509, slot->x509_key, x509_path, err));
	WD_GUARD(save_key(authority, slot->id, CA_KEY_ROLE_JWT, slot->jwt_key, jwt_path, err));
out:
	if (rc < 0)
		ca_slot_remove_keys(authority, slot->id);
	return rc;
}

/* The JWT key has the CA's type and lifetime, as SPIRE's slot pairs an X.509
 * CA with a JWT key. The new slot starts prepared; its key files are
 * written, its row is not. */
int ca_slot_create(const struct authority *authority, int64_t id, int64_t now,
	struct authority_slot **ret_slot, struct wd_error *err)
{
	const struct authority_config *config = &authority->config;
	struct authority_slot *slot = NULL;
	int rc;

	*ret_slot = NULL;

	slot = wd_calloc(1, sizeof(*slot));
	WD_ENSURE(slot, WD_ENOMEM);
	slot->id = id;
	slot->state = AUTHORITY_SLOT_PREPARED;
	slot->key_type = config->ca_key_type;
	slot->issued_at = now;

	WD_GUARD(crypto_key_generate(config->ca_key_type, &slot->x509_key, err));
	WD_GUARD(crypto_key_generate(config->ca_key_type, &slot->jwt_key, err));
	slot->jwt_public = authority_public_key_copy(slot->jwt_key);
	WD_ENSURE(slot->jwt_public, WD_ENOMEM);
	WD_GUARD(x509svid_ca_create(slot->x509_key, authority->trust_domain, now,
		config->ca_ttl_seconds, config->x509_backdate_seconds, &slot->cert, err));
	WD_GUARD(slot_describe(slot, err));
	WD_GUARD(save_keys(authority, slot, err));

	*ret_slot = WD_TAKE_PTR(slot);
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "creating CA slot %" PRId64 ": out of memory", id);
	ca_slot_free(slot);
	return rc;
}

int ca_slot_insert(struct store *store, const struct authority_slot *slot,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *cert_pem = NULL;
	int rc;

	rc = crypto_x509_to_pem(slot->cert, &cert_pem);
	if (rc < 0)
		return wd_error_set(err, rc, "encoding the CA certificate of slot %" PRId64
			" failed", slot->id);

	struct store_value params[] = {
		STORE_INT_VALUE(slot->id),
		STORE_TEXT_VALUE(authority_slot_state_name(slot->state)),
		STORE_TEXT_VALUE(crypto_key_type_name(slot->key_type)),
		STORE_TEXT_VALUE(cert_pem),
		STORE_TEXT_VALUE(slot->jwt_kid),
		STORE_INT_VALUE(slot->issued_at),
		STORE_INT_VALUE(slot->not_before),
		STORE_INT_VALUE(slot->not_after),
	};
	return store_exec(store,
		"INSERT INTO authority_slots (id, state, key_type, ca_cert_pem, jwt_kid,"
		" issued_at, not_before, not_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		params, WD_ARRAY_LEN(params), NULL, err);
}

int ca_slot_set_state(struct store *store, int64_t id, const char *state, struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(state), STORE_INT_VALUE(id) };
	int64_t changes = 0;
	int rc;

	rc = store_exec(store, "UPDATE authority_slots SET state = $1 WHERE id = $2", params,
		WD_ARRAY_LEN(params), &changes, err);
	if (rc < 0)
		return rc;
	if (changes != 1)
		return wd_error_set(err, WD_ECORRUPT, "CA slot %" PRId64 " has no stored row", id);
	return 0;
}

static int parse_state(const char *text, enum authority_slot_state *ret_state)
{
	static const enum authority_slot_state states[] = {
		AUTHORITY_SLOT_PREPARED, AUTHORITY_SLOT_ACTIVE, AUTHORITY_SLOT_OLD,
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(states); i++) {
		if (text && strcmp(text, authority_slot_state_name(states[i])) == 0) {
			*ret_state = states[i];
			return 0;
		}
	}
	return WD_ECORRUPT;
}

static int check_key_type(const char *path, int64_t id, EVP_PKEY *key,
	enum crypto_key_type expected_type, struct wd_error *err)
{
	enum crypto_key_type type;

	if (crypto_key_type_of(key, &type) < 0 || type != expected_type)
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" does not hold the %s key that CA slot %" PRId64
			" records", path, crypto_key_type_name(expected_type), id);
	return 0;
}

int ca_slot_load_key(const struct authority *authority, const uint8_t *kek, int64_t id,
	enum ca_key_role role, enum crypto_key_type expected_type, EVP_PKEY **ret_key,
	bool *ret_sealed, struct wd_error *err)
{
	char plain_path[PATH_MAX];
	char encrypted_path[PATH_MAX];
	const char *path = plain_path;
	EVP_PKEY *key = NULL;
	bool sealed = false;
	int rc;

	*ret_key = NULL;
	*ret_sealed = false;
	WD_TRY(ca_key_path(authority, id, role, false, plain_path, sizeof(plain_path), err));
	WD_TRY(ca_key_path(authority, id, role, true, encrypted_path, sizeof(encrypted_path),
		err));

	/* A plaintext file that is still there after its encrypted copy was
	 * written contains the same key: a crash came before the unlink. */
	rc = crypto_key_load(plain_path, &key, err);
	if (rc == WD_ENOTFOUND && authority->keys_in_store) {
		path = "the datastore";
		sealed = !kek;
		rc = ca_key_store_load(authority, kek, id, role, &key, err);
	}
	if (rc == WD_ENOTFOUND) {
		path = encrypted_path;
		sealed = !kek;
		rc = kek ? ca_key_file_read_private(kek, encrypted_path, &key, err)
			 : ca_key_file_read_public(encrypted_path, &key, err);
	}
	if (rc == WD_ENOTFOUND && authority->keys_in_store)
		return wd_error_set(err, WD_EUNAVAILABLE,
			"the keys of CA slot %" PRId64 " are not in the datastore yet: the server that "
			"made them stores them at its first unseal, so unseal it first", id);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ECORRUPT,
			"key file \"%.200s\" of CA slot %" PRId64 " is missing, and so is its "
			"encrypted form \"%.200s\"", plain_path, id, encrypted_path);
	if (rc < 0)
		return rc;

	rc = check_key_type(path, id, key, expected_type, err);
	if (rc < 0) {
		EVP_PKEY_free(key);
		return rc;
	}
	*ret_key = key;
	*ret_sealed = sealed;
	return 0;
}

/* Loads the slot's keys, or only their public halves when a key file is
 * encrypted, and checks them against the stored certificate. */
static int load_slot_keys(const struct authority *authority, struct authority_slot *slot,
	struct wd_error *err)
{
	EVP_PKEY *x509_key = NULL;
	EVP_PKEY *jwt_key = NULL;
	bool x509_sealed = false;
	bool jwt_sealed = false;
	int rc;

	WD_GUARD(ca_slot_load_key(authority, NULL, slot->id, CA_KEY_ROLE_X509, slot->key_type,
		&x509_key, &x509_sealed, err));
	WD_GUARD(ca_slot_load_key(authority, NULL, slot->id, CA_KEY_ROLE_JWT, slot->key_type,
		&jwt_key, &jwt_sealed, err));
	/* Compares the public halves, so it works on a sealed key too. */
	if (X509_check_private_key(slot->cert, x509_key) != 1) {
		ERR_clear_error();
		rc = wd_error_set(err, WD_ECORRUPT,
			"the CA key file of slot %" PRId64 " does not match its certificate",
			slot->id);
		goto out;
	}
	slot->jwt_public = authority_public_key_copy(jwt_key);
	WD_ENSURE(slot->jwt_public, WD_ENOMEM);

	/* A slot signs only with both keys, so one encrypted file seals it. */
	if (!x509_sealed && !jwt_sealed) {
		slot->x509_key = WD_TAKE_PTR(x509_key);
		slot->jwt_key = WD_TAKE_PTR(jwt_key);
	}
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "loading the keys of CA slot %" PRId64 ": out of memory",
			slot->id);
	EVP_PKEY_free(x509_key);
	EVP_PKEY_free(jwt_key);
	return rc;
}

struct load_context {
	struct authority *authority;
	struct wd_error *err;
};

/* Columns: id, state, key_type, ca_cert_pem, jwt_kid, issued_at. */
static int load_slot_row(void *context, const struct store_row *row)
{
	struct load_context *load = context;
	struct authority *authority = load->authority;
	struct wd_error *err = load->err;
	struct authority_slot *slot = NULL;
	STACK_OF(X509) *chain = NULL;
	const char *pem = store_row_text(row, 3);
	const char *kid = store_row_text(row, 4);
	int rc;

	slot = wd_calloc(1, sizeof(*slot));
	if (!slot)
		return wd_error_set(err, WD_ENOMEM, "loading CA slots: out of memory");
	slot->id = store_row_int(row, 0);
	slot->issued_at = store_row_int(row, 5);

	if (authority->slot_count >= AUTHORITY_MAX_SLOTS) {
		rc = wd_error_set(err, WD_ECORRUPT, "more than %d published CA slots are stored",
			AUTHORITY_MAX_SLOTS);
		goto out;
	}
	if (parse_state(store_row_text(row, 1), &slot->state) < 0) {
		rc = wd_error_set(err, WD_ECORRUPT, "CA slot %" PRId64 " has an unknown state",
			slot->id);
		goto out;
	}
	rc = crypto_key_type_parse(store_row_text(row, 2) ? store_row_text(row, 2) : "",
		&slot->key_type, err);
	if (rc < 0) {
		rc = wd_error_set(err, WD_ECORRUPT, "CA slot %" PRId64 " has an unknown key type",
			slot->id);
		goto out;
	}
	rc = crypto_x509_chain_from_pem(pem ? pem : "", pem ? strlen(pem) : 0, 1, &chain, err);
	if (rc < 0) {
		rc = wd_error_set(err, WD_ECORRUPT,
			"the stored CA certificate of slot %" PRId64 " is invalid", slot->id);
		goto out;
	}
	slot->cert = sk_X509_shift(chain);

	WD_GUARD(load_slot_keys(authority, slot, err));
	WD_GUARD(slot_describe(slot, err));
	if (!kid || strcmp(kid, slot->jwt_kid) != 0) {
		rc = wd_error_set(err, WD_ECORRUPT,
			"the JWT key file of slot %" PRId64 " has kid \"%s\", the store records "
			"\"%.64s\"", slot->id, slot->jwt_kid, kid ? kid : "");
		goto out;
	}

	authority->slots[authority->slot_count++] = WD_TAKE_PTR(slot);
	rc = 0;
out:
	sk_X509_pop_free(chain, X509_free);
	ca_slot_free(slot);
	return rc;
}

/* Loads every slot that is not pruned and checks that exactly one is active
 * and at most one prepared. No slot at all is success: the first start. */
int ca_slots_load(struct authority *authority, struct wd_error *err)
{
	struct load_context load = { .authority = authority, .err = err };
	size_t active = 0;
	size_t prepared = 0;
	int rc;

	rc = store_query(authority->store,
		"SELECT id, state, key_type, ca_cert_pem, jwt_kid, issued_at FROM authority_slots"
		" WHERE state <> 'pruned' ORDER BY id", NULL, 0, load_slot_row, &load, err);
	if (rc < 0)
		return rc;

	for (size_t i = 0; i < authority->slot_count; i++) {
		if (authority->slots[i]->state == AUTHORITY_SLOT_ACTIVE)
			active++;
		else if (authority->slots[i]->state == AUTHORITY_SLOT_PREPARED)
			prepared++;
	}
	if (authority->slot_count > 0 && (active != 1 || prepared > 1))
		return wd_error_set(err, WD_ECORRUPT,
			"the store holds %zu active and %zu prepared CA slots; expected one active "
			"and at most one prepared", active, prepared);
	return 0;
}
