/* Private state of the trust-domain authority, shared by authority*.c,
 * ca*.c, issuer.c and revocation.c. Functions named *_locked expect the
 * caller to hold authority->lock. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "identity/authority.h"
#include "identity/x509svid.h"

/* Lowercase base64url RFC 7638 thumbprint plus NUL (jwtsvid_key_id). */
#define AUTHORITY_KID_SIZE 48

/* SHA-256 fingerprint in hex plus NUL (crypto_x509_fingerprint). */
#define AUTHORITY_FINGERPRINT_SIZE 65

/* Names of the counters in the authority_state table. */
#define AUTHORITY_STATE_SEQUENCE "bundle_sequence"
#define AUTHORITY_STATE_CRL_NUMBER "crl_number"
#define AUTHORITY_STATE_NEXT_SLOT "next_slot_id"

/* One CRL as the authority serves it, with the times that decide when tick
 * reissues it. */
struct authority_crl {
	X509_CRL *crl;
	int64_t number;
	int64_t this_update;
	int64_t next_update;
	int64_t earliest_expiry;  /* first notAfter among the listed serials;
	                             INT64_MAX when the list is empty */
};

/* One rotation slot: a CA key and certificate plus a JWT key, both with the
 * certificate's lifetime. While the keys are sealed x509_key and jwt_key are
 * NULL, and the public halves in cert and jwt_public serve the bundle. */
struct authority_slot {
	int64_t id;
	enum authority_slot_state state;
	enum crypto_key_type key_type;
	X509 *cert;
	EVP_PKEY *x509_key;
	EVP_PKEY *jwt_key;
	EVP_PKEY *jwt_public;  /* the public half of jwt_key, never NULL */
	char jwt_kid[AUTHORITY_KID_SIZE];
	char fingerprint[AUTHORITY_FINGERPRINT_SIZE];
	int64_t issued_at;   /* when the slot was made: the base of its lifetime
	                        for rotation, as SPIRE's slot uses it */
	int64_t not_before;  /* the certificate's, backdated */
	int64_t not_after;
	struct authority_crl crl;  /* crl.crl is NULL once the CA has expired */
	struct x509svid_issuer *issuer;  /* made at the first X.509-SVID signed */
};

struct authority {
	pthread_mutex_t lock;
	struct authority_config config;  /* strings point at the copies below */
	char *trust_domain;
	char *data_dir;
	char *key_dir;                   /* DATA_DIR/authority */
	struct store *store;
	struct authority_slot *slots[AUTHORITY_MAX_SLOTS];  /* by id, ascending */
	size_t slot_count;
	uint64_t sequence;
	int64_t crl_number;              /* the last one used */
	/* Key-encryption key of the key files; wiped while kek_set is false,
	 * when key files are written in plaintext. */
	uint8_t kek[AUTHORITY_KEK_LEN];
	bool kek_set;
	/* The encrypted keys live in the datastore (ca_key_store.c), shared by
	 * every server on it: true on PostgreSQL. Plaintext keys made before
	 * the first unseal stay in key_dir until the unseal moves them. */
	bool keys_in_store;
};

static inline bool ca_slot_sealed(const struct authority_slot *slot)
{
	return !slot->x509_key || !slot->jwt_key;
}

/* Whether any slot is sealed; the caller holds the lock. */
bool authority_sealed_locked(const struct authority *authority);

/* The message of every refusal that needs a sealed private key. */
#define AUTHORITY_SEALED_MESSAGE "the CA keys are sealed: unseal the secrets barrier"

/* authority_schema.c */
WD_MUST_CHECK int authority_schema_migrate(struct store *store, struct wd_error *err);
WD_MUST_CHECK int authority_state_get(struct store *store, const char *name, int64_t *ret_value,
	struct wd_error *err);
WD_MUST_CHECK int authority_state_set(struct store *store, const char *name, int64_t value,
	struct wd_error *err);

/* ca.c: slots, their key files and rows. */
enum ca_key_role {
	CA_KEY_ROLE_X509,
	CA_KEY_ROLE_JWT,
};

WD_MUST_CHECK int ca_key_dir_prepare(const char *key_dir, struct wd_error *err);
/* Writes the path of a slot's key file: the plaintext PEM, or with
 * encrypted the file that ca_key_file_write makes. WD_ECONFIG when it does
 * not fit. */
WD_MUST_CHECK int ca_key_path(const struct authority *authority, int64_t id,
	enum ca_key_role role, bool encrypted, char *out, size_t out_len, struct wd_error *err);
/* Loads one key of a slot and checks its type: the plaintext file when it
 * exists, else the encrypted one, decrypted with kek or, when kek is NULL,
 * only its public half, with *ret_sealed set. */
WD_MUST_CHECK int ca_slot_load_key(const struct authority *authority, const uint8_t *kek,
	int64_t id, enum ca_key_role role, enum crypto_key_type expected_type,
	EVP_PKEY **ret_key, bool *ret_sealed, struct wd_error *err);
WD_MUST_CHECK int ca_slot_create(const struct authority *authority, int64_t id, int64_t now,
	struct authority_slot **ret_slot, struct wd_error *err);
WD_MUST_CHECK int ca_slot_insert(struct store *store, const struct authority_slot *slot,
	struct wd_error *err);
WD_MUST_CHECK int ca_slot_set_state(struct store *store, int64_t id, const char *state,
	struct wd_error *err);
WD_MUST_CHECK int ca_slots_load(struct authority *authority, struct wd_error *err);
void ca_slot_remove_keys(const struct authority *authority, int64_t id);
void ca_slot_free(struct authority_slot *slot);
struct authority_slot *ca_active_slot(const struct authority *authority);

/* ca_key_file.c: encrypted key files. Reads fail with WD_ENOTFOUND for a
 * missing file, WD_EPERM for one that group or others can access,
 * WD_ECORRUPT for a malformed one and WD_ECRYPTO when authentication fails. */
WD_MUST_CHECK int ca_key_file_write(const uint8_t kek[static AUTHORITY_KEK_LEN], EVP_PKEY *key,
	const char *path, struct wd_error *err);
WD_MUST_CHECK int ca_key_file_read_public(const char *path, EVP_PKEY **ret_public,
	struct wd_error *err);
WD_MUST_CHECK int ca_key_file_read_private(const uint8_t kek[static AUTHORITY_KEK_LEN],
	const char *path, EVP_PKEY **ret_key, struct wd_error *err);

/* The same format in memory: ca_key_seal returns the bytes in *ret_data
 * (freed with free) with name as the additional authenticated data, and
 * the open functions take them back; label names the key in errors. */
WD_MUST_CHECK int ca_key_seal(const uint8_t kek[static AUTHORITY_KEK_LEN], EVP_PKEY *key,
	const char *name, uint8_t **ret_data, size_t *ret_len, struct wd_error *err);
WD_MUST_CHECK int ca_key_open_public(const char *label, const uint8_t *data, size_t len,
	EVP_PKEY **ret_public, struct wd_error *err);
WD_MUST_CHECK int ca_key_open_private(const uint8_t kek[static AUTHORITY_KEK_LEN],
	const char *name, const uint8_t *data, size_t len, EVP_PKEY **ret_key,
	struct wd_error *err);

/* ca_key_store.c: encrypted keys in the authority_keys table. The name of
 * a stored key is the base name its encrypted file would have. Loads fail
 * with WD_ENOTFOUND, without setting err, when the row is absent. */
#define CA_KEY_NAME_SIZE 64
void ca_key_name(int64_t id, enum ca_key_role role, char out[static CA_KEY_NAME_SIZE]);
WD_MUST_CHECK int ca_key_store_put(struct store *store, int64_t id, enum ca_key_role role,
	const uint8_t *sealed, size_t len, struct wd_error *err);
WD_MUST_CHECK int ca_key_store_get(struct store *store, int64_t id, enum ca_key_role role,
	uint8_t **ret_sealed, size_t *ret_len, struct wd_error *err);
/* Best effort: see ca_slot_remove_keys. */
int ca_key_store_delete(struct store *store, int64_t id, struct wd_error *err);
/* Encrypts key under authority->kek, which must be set, and stores it. */
WD_MUST_CHECK int ca_key_store_save(const struct authority *authority, int64_t id,
	enum ca_key_role role, EVP_PKEY *key, struct wd_error *err);
/* Loads the private key with kek, or its public half when kek is NULL. */
WD_MUST_CHECK int ca_key_store_load(const struct authority *authority, const uint8_t *kek,
	int64_t id, enum ca_key_role role, EVP_PKEY **ret_key, struct wd_error *err);

/* Returns a new key holding only the public half of key, or NULL. */
EVP_PKEY *authority_public_key_copy(EVP_PKEY *key);

/* ca_rotation.c */
int64_t ca_preparation_threshold(const struct authority_slot *slot);
int64_t ca_activation_threshold(const struct authority_slot *slot);

/* authority_crl.c: CRLs are built inside a store transaction and installed
 * only after it commits, so a rollback leaves the served CRLs as they were. */
struct authority_crl_stage {
	struct authority_crl crls[AUTHORITY_MAX_SLOTS];  /* parallel to the slots given */
	bool built[AUTHORITY_MAX_SLOTS];
	int64_t last_number;
};

bool authority_crl_due(const struct authority_slot *slot, int64_t now);
void authority_crl_release(struct authority_crl *crl);
WD_MUST_CHECK int authority_crl_stage_build(struct authority *authority,
	struct authority_slot *const *slots, size_t slot_count, const bool *which, int64_t now,
	struct authority_crl_stage *stage, struct wd_error *err);
void authority_crl_stage_install(struct authority *authority,
	struct authority_slot *const *slots, size_t slot_count, struct authority_crl_stage *stage);
void authority_crl_stage_release(struct authority_crl_stage *stage);
/* Installs the CRLs that the last stage stored, for a sealed start. */
WD_MUST_CHECK int authority_crls_load_stored(struct authority *authority,
	struct wd_error *err);

/* authority.c: issues a fresh CRL for every slot and bumps the sequence in
 * one transaction, at open and after an unlock. */
WD_MUST_CHECK int authority_crls_issue_all(struct authority *authority, int64_t now,
	struct wd_error *err);

/* authority.c: writes sequence + 1 to the store; the caller sets
 * authority->sequence after its transaction commits. */
WD_MUST_CHECK int authority_sequence_bump(struct authority *authority, uint64_t *ret_sequence,
	struct wd_error *err);

/* authority_bundle.c: published slots with the active one first. */
size_t authority_slots_ordered(const struct authority *authority,
	struct authority_slot *ret_slots[static AUTHORITY_MAX_SLOTS]);

/* revocation.c */
WD_MUST_CHECK int authority_serial_normalize(const char *serial_hex,
	char ret_serial[static AUTHORITY_SERIAL_HEX_SIZE], struct wd_error *err);
