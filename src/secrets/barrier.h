/* The barrier: every value the secrets service stores goes through it,
 * encrypted with AES-256-GCM under the current keyring term and bound to its
 * path. The keyring is encrypted by the root key, and the root key by the
 * unseal key, which exists only as Shamir shares outside the server.
 *
 * Stored value: [4-byte big-endian key term][1 version byte = 2]
 * [12-byte random nonce][ciphertext][16-byte tag], with the path as AAD, so
 * a value copied to another path fails to decrypt. Storage is the table
 * secrets_barrier(path TEXT PRIMARY KEY, value BLOB) in the server's store;
 * paths are not secret, values are. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "store/store.h"

struct barrier;

/* Shamir limits, as Vault's: at most 255 shares, threshold 2..shares, or
 * shares = threshold = 1 (the key is not split). */
#define BARRIER_MAX_SHARES 255
/* Bytes of the unseal key and of each share (key + 1 x-coordinate byte). */
#define BARRIER_KEY_LEN 32
#define BARRIER_SHARE_LEN (BARRIER_KEY_LEN + 1)

struct barrier_status {
	bool initialized;
	bool sealed;
	unsigned threshold;      /* t */
	unsigned shares;         /* n */
	unsigned progress;       /* shares submitted toward the next unseal */
	char nonce[37];          /* unseal attempt id, "" when progress is 0 */
};

/* Opens the barrier on store, creating its tables. Starts sealed. */
WD_MUST_CHECK int barrier_open(struct store *store, struct barrier **ret_barrier,
	struct wd_error *err);

/* Wipes the keys and frees; accepts NULL. */
void barrier_free(struct barrier *barrier);

void barrier_status(const struct barrier *barrier, struct barrier_status *ret_status);
bool barrier_sealed(const struct barrier *barrier);

/* Creates the unseal key, root key and first keyring term, stores them,
 * and returns the unseal key split into `shares` shares of
 * BARRIER_SHARE_LEN bytes (ret_shares[i], each malloc'd; free with
 * barrier_shares_free). With shares = threshold = 1 the one share is the
 * whole key followed by the x-coordinate 1. Leaves the barrier sealed.
 * WD_EEXIST when already initialized, WD_EINVAL for bad counts. */
WD_MUST_CHECK int barrier_init(struct barrier *barrier, unsigned shares, unsigned threshold,
	uint8_t ***ret_shares, struct wd_error *err);

/* Wipes and frees the share array barrier_init returned. */
void barrier_shares_free(uint8_t **shares, unsigned count);

/* Submits one share. When the threshold is reached the key is combined
 * and tried: on success the barrier is unsealed and *ret_unsealed is true
 * (it stays false when the barrier was unsealed before the call, which
 * ignores the share). reset discards the shares so far and ignores share.
 * A share of the wrong length or a
 * repeated share is WD_EINVAL; a combination that does not open the root
 * key is WD_ECRYPTO and resets the progress. WD_ECONFLICT when not
 * initialized. */
WD_MUST_CHECK int barrier_unseal(struct barrier *barrier, const uint8_t *share, size_t len,
	bool reset, bool *ret_unsealed, struct wd_error *err);

/* Unseals with the whole unseal key (dev mode). */
WD_MUST_CHECK int barrier_unseal_key(struct barrier *barrier, const uint8_t *key, size_t len,
	struct wd_error *err);

/* Wipes the root key and keyring from memory. */
void barrier_seal(struct barrier *barrier);

/* Reads the seal configuration again while sealed, so a barrier that
 * another server initialized on the shared datastore can be unsealed here.
 * Does nothing while unsealed. */
WD_MUST_CHECK int barrier_reload_seal_config(struct barrier *barrier, struct wd_error *err);

/* Deletes every barrier row, leaving an uninitialized, sealed barrier
 * (dev mode start). */
WD_MUST_CHECK int barrier_reset(struct barrier *barrier, struct wd_error *err);

/* Values. All fail with WD_EUNAVAILABLE "Vault is sealed" while sealed.
 * get returns a malloc'd copy (NUL-terminated beyond len) that the caller
 * frees with barrier_value_free, which wipes it; WD_ENOTFOUND when absent,
 * WD_ECORRUPT when authentication fails. */
WD_MUST_CHECK int barrier_put(struct barrier *barrier, const char *path, const void *value,
	size_t len, struct wd_error *err);
WD_MUST_CHECK int barrier_get(struct barrier *barrier, const char *path, uint8_t **ret_value,
	size_t *ret_len, struct wd_error *err);
void barrier_value_free(uint8_t *value, size_t len);
/* Deleting a missing path succeeds. */
WD_MUST_CHECK int barrier_delete(struct barrier *barrier, const char *path, struct wd_error *err);

/* JSON convenience: values are compact JSON objects. get_json stores a new
 * reference. */
WD_MUST_CHECK int barrier_put_json(struct barrier *barrier, const char *path, const json_t *value,
	struct wd_error *err);
WD_MUST_CHECK int barrier_get_json(struct barrier *barrier, const char *path, json_t **ret_value,
	struct wd_error *err);

/* Calls on_key for each stored path under prefix, in order, with the
 * path's remainder after prefix. With children_only, only the next segment
 * is given, once, ending in '/' when it is a folder (Vault's List). A
 * negative return from on_key stops and is returned. */
typedef int (*barrier_list_fn)(void *context, const char *rest);
WD_MUST_CHECK int barrier_list(struct barrier *barrier, const char *prefix, bool children_only,
	barrier_list_fn on_key, void *context, struct wd_error *err);

/* Deletes every path under prefix. */
WD_MUST_CHECK int barrier_delete_prefix(struct barrier *barrier, const char *prefix,
	struct wd_error *err);

/* Groups writes into one durable transaction (nesting as store_begin). */
WD_MUST_CHECK int barrier_begin(struct barrier *barrier, struct wd_error *err);
WD_MUST_CHECK int barrier_commit(struct barrier *barrier, struct wd_error *err);
void barrier_rollback(struct barrier *barrier);

/* Splits secret (len bytes) into `shares` shares of len + 1 bytes each,
 * any `threshold` of which combine back (GF(2^8), x-coordinate last).
 * ret_shares contains `shares` pointers to caller-owned buffers of len + 1
 * bytes. WD_EINVAL unless 2 <= threshold <= shares <= 255 and len > 0. */
WD_MUST_CHECK int shamir_split(const uint8_t *secret, size_t len, unsigned shares,
	unsigned threshold, uint8_t **ret_shares);
/* Combines count shares of len bytes each into ret_secret (len - 1 bytes).
 * WD_EINVAL for fewer than 2 shares, len below 2, or an x-coordinate that
 * is repeated or 0. */
WD_MUST_CHECK int shamir_combine(const uint8_t *const *shares, size_t count, size_t len,
	uint8_t *ret_secret);
