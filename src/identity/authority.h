/* The trust-domain authority: the X.509 CA and JWT signing keys in rotation
 * slots, SVID signing, the record of issued serials, revocation with one CRL
 * per published CA, and the SPIFFE bundle. State lives in the datastore under
 * the migration component "authority"; private keys live in
 * DATA_DIR/authority/. The authority neither writes the audit log nor checks
 * who may call it: the server layer does both, with the slot ids, serials and
 * SPIFFE IDs that these calls return.
 *
 * Once authority_keys_unlock has given the authority a key-encryption key
 * (KEK), the key files are encrypted under it (slot-N-x509-ca.key.enc,
 * slot-N-jwt.key.enc) and plaintext key files are converted. An authority
 * that opens on encrypted key files is sealed: it publishes its bundle and
 * serves its last CRLs, but everything that needs a private key fails with
 * WD_EUNAVAILABLE until it is unlocked.
 *
 * Rotation follows SPIRE's CA manager. Once the active slot's remaining life
 * is under min(lifetime/2, 30 d), the next slot is prepared: its keys and CA
 * certificate are made and published in the bundle, but it signs nothing.
 * Once the remaining life is under min(lifetime/6, 7 d), the prepared slot is
 * activated and signs from then on. The old slot stays in the bundle until
 * prune_grace_seconds after its notAfter.
 *
 * Every public call takes the authority's mutex, so one authority may be
 * shared by several threads. Pointers it returns are copies the caller owns.
 * The store under it must not be used by another thread during a call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"
#include "crypto/key.h"
#include "identity/jwtsvid.h"
#include "identity/spiffe_id.h"
#include "store/store.h"

#define AUTHORITY_MIGRATION_COMPONENT "authority"

/* Defaults, in seconds; SPIRE's values where SPIRE has the setting. */
#define AUTHORITY_DEFAULT_CA_TTL 86400
#define AUTHORITY_DEFAULT_BACKDATE 10
#define AUTHORITY_DEFAULT_REFRESH_HINT 300
#define AUTHORITY_DEFAULT_CRL_NEXT_UPDATE 3600
#define AUTHORITY_DEFAULT_X509_SVID_TTL 3600
#define AUTHORITY_DEFAULT_JWT_SVID_TTL 300
#define AUTHORITY_DEFAULT_PRUNE_GRACE 0

/* Bounds on the CA lifetime: a minute (tests drive rotation with short
 * CAs) to ten years. */
#define AUTHORITY_MIN_CA_TTL 60
#define AUTHORITY_MAX_CA_TTL 315360000

/* Bytes of the key-encryption key of the CA key files (AES-256). */
#define AUTHORITY_KEK_LEN 32

/* Max published slots. Regular rotation keeps at most three (old, active,
 * prepared); tick prunes before it prepares, so the cap is reached only with a
 * long prune grace. */
#define AUTHORITY_MAX_SLOTS 8

/* A serial in lowercase hex without leading zeros, as crypto_x509_serial_hex
 * writes it: at most 20 octets (RFC 5280 section 4.1.2.2), plus the NUL. */
#define AUTHORITY_SERIAL_HEX_SIZE 41

/* Max length of a revocation reason, in bytes. */
#define AUTHORITY_REASON_MAX_LEN 256

/* Max serials one authority_revoke_spiffe_id or authority_revoke_entry call
 * revokes; more live serials fail with WD_ETOOBIG and change nothing. */
#define AUTHORITY_MAX_REVOKE_BATCH 100000

struct authority;

struct authority_config {
	const char *trust_domain;          /* required, "example.org" */
	const char *data_dir;              /* required; keys go to DATA_DIR/authority */
	enum crypto_key_type ca_key_type;  /* X.509 CA and JWT key type; ec-p256 */
	enum jwtsvid_rsa_alg jwt_rsa_alg;  /* RS256 or PS256, used for RSA keys */
	int64_t ca_ttl_seconds;            /* CA certificate and JWT key lifetime */
	int64_t x509_backdate_seconds;     /* notBefore = now - this, on CAs and SVIDs */
	int64_t refresh_hint_seconds;      /* spiffe_refresh_hint of the bundle */
	int64_t crl_next_update_seconds;   /* CRL nextUpdate - thisUpdate, cut to the CA's notAfter */
	int64_t x509_svid_ttl_seconds;     /* default X.509-SVID TTL */
	int64_t jwt_svid_ttl_seconds;      /* default JWT-SVID TTL */
	int64_t prune_grace_seconds;       /* keep an expired CA in the bundle this long */
};

/* Fills config with the defaults above and NULL trust_domain and data_dir. */
void authority_config_init(struct authority_config *config);

/* Returns min(ca_ttl / 6, 7 d): the longest SVID TTL that a scheduled CA
 * rotation never cuts short (SPIRE warns above it). */
int64_t authority_svid_ttl_limit(const struct authority_config *config);

/* True when the default X.509- or JWT-SVID TTL of config is above
 * authority_svid_ttl_limit, so the daemon should warn at start. */
bool authority_svid_ttl_exceeds_limit(const struct authority_config *config);

enum authority_slot_state {
	AUTHORITY_SLOT_PREPARED,  /* published in the bundle, signs nothing yet */
	AUTHORITY_SLOT_ACTIVE,    /* signs every new SVID and its own CRL */
	AUTHORITY_SLOT_OLD,       /* published until pruned; signs only its CRL */
};

/* Returns "prepared", "active" or "old". */
const char *authority_slot_state_name(enum authority_slot_state state);

/* Applies the authority's migrations to store, then loads the published
 * slots and their keys, or on first start creates the first slot (CA key,
 * self-signed CA certificate, JWT key of the same type) and activates it.
 * Builds a CRL per unexpired slot. When a key file is encrypted, the
 * authority opens sealed instead: it loads only the public keys and the CRLs
 * stored at their last issue. Borrows store, which must outlive the
 * authority. Does not rotate: call authority_tick right after it. Errors:
 * WD_ECONFIG for a bad config value (named), WD_EPERM for a key directory or
 * key file that group or others can access, WD_ECORRUPT for stored state
 * that does not match the keys, WD_EIO, WD_ESTORE. */
WD_MUST_CHECK int authority_open(const struct authority_config *config, struct store *store,
	int64_t now, struct authority **ret_authority, struct wd_error *err);

/* Frees the authority and its keys; accepts NULL. The store stays open. */
void authority_close(struct authority *authority);

/* Loads the private keys of a sealed authority from their encrypted files,
 * then keeps a copy of kek and from then on writes every key file encrypted
 * under it, mode 0600. Plaintext key files are converted: the encrypted copy
 * is written and fsync'd before the plaintext file is unlinked, so a crash
 * leaves at least one of them. A sealed authority then reissues every CRL and
 * bumps the bundle sequence, as authority_open does. Calling it again with
 * the same kek does nothing. Errors: WD_ECRYPTO when an encrypted file fails
 * authentication (another KEK, or a modified or renamed file), WD_ECORRUPT
 * when a decrypted key does not match its slot, WD_ECONFLICT when unlocked
 * with another KEK, WD_EIO; all of these leave the authority as it was. A
 * failed conversion or CRL issue is returned after the keys are unlocked:
 * the authority signs, and the files left in plaintext are converted at the
 * next unlock. */
WD_MUST_CHECK int authority_keys_unlock(struct authority *authority,
	const uint8_t kek[static AUTHORITY_KEK_LEN], int64_t now, struct wd_error *err);

/* Drops the private keys and wipes the KEK, so the authority is sealed
 * until the next authority_keys_unlock. Does nothing unless a KEK was given:
 * keys that live in plaintext files stay loaded. */
void authority_keys_lock(struct authority *authority);

/* Whether a slot's private keys are not loaded: signing, CRL reissue and
 * rotation wait for authority_keys_unlock. */
bool authority_keys_sealed(struct authority *authority);

/* Loads the slots, keys and stored CRLs again when the bundle sequence in
 * the datastore differs from the one in memory: another server on a shared
 * datastore rotated the CA, reissued a CRL or revoked an SVID. Sets
 * *ret_changed when it reloaded. A failed reload keeps the state it had.
 * Meant for the servers that do not hold the singleton lock, each tick, and
 * for a change notification. */
WD_MUST_CHECK int authority_reload_if_changed(struct authority *authority, bool *ret_changed,
	struct wd_error *err);

/* The changes one authority_tick made; slot ids are 0 where nothing happened. */
struct authority_changes {
	int64_t prepared_slot;         /* newly prepared slot */
	int64_t activated_slot;        /* newly active slot */
	int64_t deactivated_slot;      /* the slot that stopped signing (now old) */
	int64_t pruned_slots[AUTHORITY_MAX_SLOTS];
	size_t pruned_count;
	bool crls_reissued;            /* at least one CRL was reissued or dropped */
	bool bundle_changed;           /* the sequence was bumped */
	uint64_t sequence;             /* bundle sequence after the tick */
};

/* Runs the rotation steps due at now, in order: prune expired slots, prepare
 * the next slot, activate it, reissue CRLs whose refresh point (half their
 * validity) has passed or that list an expired serial. Both prepare and
 * activate happen in one tick when the active CA is already past its
 * activation point, as after a long outage. Bumps the bundle sequence once
 * when the bundle or a CRL changed. The tick is one store transaction: when
 * it fails nothing changes, and a new slot's key files are removed again.
 * While the keys are sealed the tick changes nothing and returns 0. */
WD_MUST_CHECK int authority_tick(struct authority *authority, int64_t now,
	struct authority_changes *ret_changes, struct wd_error *err);

/* An X.509-SVID request. */
struct authority_x509_request {
	const struct spiffe_id *spiffe_id;  /* must be in the trust domain */
	EVP_PKEY *public_key;               /* the subject's key, from a CSR */
	const uint8_t *public_key_spki;     /* optional DER SubjectPublicKeyInfo
	                                       of public_key, from
	                                       csr_parse_and_verify_spki; see
	                                       struct x509svid_request */
	size_t public_key_spki_len;
	const char *const *dns_names;       /* optional DNS SANs */
	size_t dns_name_count;
	int64_t ttl_seconds;                /* 0: the configured default */
	const char *entry_id;               /* registration entry, may be NULL */
};

/* An issued X.509-SVID; release with authority_x509_svid_clear. */
struct authority_x509_svid {
	uint8_t *der;      /* the leaf certificate */
	size_t der_len;
	char *chain_pem;   /* the leaf, then any intermediates; the self-signed
	                      CA itself travels in the bundle, not here */
	char serial_hex[AUTHORITY_SERIAL_HEX_SIZE];
	int64_t slot_id;   /* the slot that signed it */
	int64_t not_after; /* Unix seconds, cut to the CA's notAfter */
	X509 *decoded_cert; /* NULL until authority_x509_svid_cert decodes der */
};

/* Frees the certificate and chain of svid and zeroes it; accepts NULL. */
void authority_x509_svid_clear(struct authority_x509_svid *svid);

/* Returns the leaf as an X509 object, which svid keeps owning. The first
 * call decodes der, which costs more than the signing itself with OpenSSL
 * 3.0 (d2i_X509 decodes the subject key through an OSSL_DECODER), so the
 * server's signing path does not call it. NULL when svid contains no
 * certificate or decoding fails. */
X509 *authority_x509_svid_cert(struct authority_x509_svid *svid);

/* Signs an X.509-SVID with the active slot and records its serial, SPIFFE ID,
 * entry id, slot, notAfter and issue time. WD_EINVAL for an ID of another
 * trust domain or a negative TTL, WD_EUNAVAILABLE when the active CA has
 * expired (authority_tick rotates it) or the keys are sealed. */
WD_MUST_CHECK int authority_sign_x509(struct authority *authority,
	const struct authority_x509_request *request, int64_t now,
	struct authority_x509_svid *ret_svid, struct wd_error *err);

/* Signs a JWT-SVID for spiffe_id and audience (1 to 32 values) with the
 * active slot's JWT key, expiring at min(now + ttl, the key's notAfter);
 * ttl_seconds 0 means the configured default. Returns the compact token
 * (malloc'd) and its exp. Same errors as authority_sign_x509. */
WD_MUST_CHECK int authority_sign_jwt(struct authority *authority,
	const struct spiffe_id *spiffe_id, const char *const *audience, size_t audience_count,
	int64_t ttl_seconds, int64_t now, char **ret_token, int64_t *ret_expires_at,
	struct wd_error *err);

/* Returns the bundle sequence: bumped on prepare, prune and every CRL
 * reissue (revocations included), never on plain SVID issuance. */
uint64_t authority_bundle_sequence(struct authority *authority);

/* Encodes the bundle of all published slots as SPIFFE bundle JSON
 * (malloc'd). */
WD_MUST_CHECK int authority_bundle_json(struct authority *authority, char **ret_json,
	struct wd_error *err);

/* Encodes the X.509 authorities of all published slots as PEM (malloc'd). */
WD_MUST_CHECK int authority_bundle_pem(struct authority *authority, char **ret_pem,
	struct wd_error *err);

/* Returns a new stack holding a reference to each published CA certificate,
 * active first; free with sk_X509_pop_free(stack, X509_free). */
WD_MUST_CHECK int authority_x509_authorities(struct authority *authority,
	STACK_OF(X509) **ret_authorities, struct wd_error *err);

/* Returns copies of the published JWT keys, active first: each kid string
 * and a public-only key. Free with authority_jwt_authorities_free. */
WD_MUST_CHECK int authority_jwt_authorities(struct authority *authority,
	struct jwt_authority **ret_authorities, size_t *ret_count, struct wd_error *err);

/* Frees what authority_jwt_authorities returned; accepts NULL. */
void authority_jwt_authorities_free(struct jwt_authority *authorities, size_t count);

/* The outcome of revoking one serial. */
struct authority_revocation {
	char serial_hex[AUTHORITY_SERIAL_HEX_SIZE];  /* normalized */
	int64_t slot_id;           /* the slot that issued it */
	int64_t revoked_at;        /* the first revocation's time */
	int64_t not_after;
	bool already_revoked;      /* true: an earlier call revoked it, nothing changed */
};

/* Revokes a serial this authority issued. serial_hex is case-insensitive
 * hex and may have leading zeros. reason is optional free text of at most
 * AUTHORITY_REASON_MAX_LEN bytes, kept in the store because the CRL carries
 * no reason code. Revoking twice succeeds and sets already_revoked. The call
 * reissues the issuing slot's CRL and bumps the bundle sequence; while the
 * keys are sealed it only records the revocation, and authority_keys_unlock
 * reissues the CRLs. Errors: WD_EINVAL for malformed hex, WD_ENOTFOUND naming
 * the serial when this authority never issued it. */
WD_MUST_CHECK int authority_revoke_serial(struct authority *authority, const char *serial_hex,
	const char *reason, int64_t now, struct authority_revocation *ret_revocation,
	struct wd_error *err);

/* Serials, each a malloc'd lowercase hex string; clear with
 * authority_serial_list_clear. */
struct authority_serial_list {
	char **serials;
	size_t count;
};

/* Frees the serials of list and zeroes it; accepts NULL. */
void authority_serial_list_clear(struct authority_serial_list *list);

/* Revokes every live (unexpired at now, not yet revoked) serial issued to
 * spiffe_id and returns those serials; an empty list is success. Reissues
 * CRLs and bumps the sequence when it revoked any, or leaves that to
 * authority_keys_unlock while the keys are sealed. */
WD_MUST_CHECK int authority_revoke_spiffe_id(struct authority *authority,
	const struct spiffe_id *spiffe_id, const char *reason, int64_t now,
	struct authority_serial_list *ret_serials, struct wd_error *err);

/* Like authority_revoke_spiffe_id, for every live serial issued under
 * registration entry entry_id (called when the entry is deleted). */
WD_MUST_CHECK int authority_revoke_entry(struct authority *authority, const char *entry_id,
	const char *reason, int64_t now, struct authority_serial_list *ret_serials,
	struct wd_error *err);

/* Stores in ret_entry_id (malloc'd) the registration entry serial_hex was
 * issued under, or NULL when it was minted without one. WD_EINVAL for
 * malformed hex, WD_ENOTFOUND naming the serial when this authority never
 * issued it. */
WD_MUST_CHECK int authority_serial_entry(struct authority *authority, const char *serial_hex,
	char **ret_entry_id, struct wd_error *err);

/* Stores in ret_revoked whether serial_hex was issued here and revoked.
 * WD_EINVAL for malformed hex; an unknown serial is not revoked. */
WD_MUST_CHECK int authority_is_revoked(struct authority *authority, const char *serial_hex,
	bool *ret_revoked, struct wd_error *err);

/* Returns the current CRLs as concatenated PEM (malloc'd): one per
 * unexpired published slot, the active slot's first, each listing the
 * revoked unexpired serials that slot issued and signed by its key. */
WD_MUST_CHECK int authority_crl_pem(struct authority *authority, char **ret_pem,
	struct wd_error *err);

/* Returns the active slot's CRL as DER (malloc'd). */
WD_MUST_CHECK int authority_crl_der_active(struct authority *authority, uint8_t **ret_der,
	size_t *ret_len, struct wd_error *err);

/* Builds the status object for GET /v1/ca, which the caller owns:
 * {"trust_domain", "sequence", "crl_number", "slots": [{"id", "state",
 * "key_type", "issued_at", "not_before", "not_after", "x509_fingerprint",
 * "jwt_kid"}]}, active slot first. */
WD_MUST_CHECK int authority_status_json(struct authority *authority, json_t **ret_status,
	struct wd_error *err);
