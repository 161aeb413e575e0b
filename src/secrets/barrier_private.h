/* Internal interface of the barrier's files: the AES-256-GCM envelope
 * (barrier_crypto.c), locked key memory and the keyring (barrier_keys.c),
 * and the stored rows (barrier_store.c). Only barrier*.c include this. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/barrier.h"

/* Envelope layout: [4-byte big-endian term][version][12-byte nonce]
 * [ciphertext][16-byte tag]. Version 2 authenticates the path as AAD. */
#define BARRIER_ENVELOPE_VERSION 2
#define BARRIER_NONCE_LEN 12
#define BARRIER_TAG_LEN 16
#define BARRIER_HEADER_LEN (4 + 1 + BARRIER_NONCE_LEN)
#define BARRIER_OVERHEAD (BARRIER_HEADER_LEN + BARRIER_TAG_LEN)

/* Largest plaintext the barrier stores, in bytes: Vault's default
 * maximum request size, 32 MiB. */
#define BARRIER_MAX_VALUE_LEN ((size_t)32 << 20)

/* Maximum length of a storage path, in bytes. */
#define BARRIER_PATH_MAX 4096

/* Maximum number of keyring terms loaded; each term is one key rotation. */
#define BARRIER_MAX_TERMS 4096u

/* Term written in the envelopes of core/root-key and core/keyring, which
 * are opened by a key known from their path, not from the keyring. */
#define BARRIER_TERM_NONE 0u

/* Encrypts len bytes of plaintext under key with path as AAD. The envelope
 * is malloc'd. WD_ETOOBIG above BARRIER_MAX_VALUE_LEN, WD_ECRYPTO when
 * OpenSSL fails. */
WD_MUST_CHECK int barrier_encrypt(const uint8_t key[static BARRIER_KEY_LEN], uint32_t term,
	const char *path, const uint8_t *plaintext, size_t len, uint8_t **ret_envelope,
	size_t *ret_len, struct wd_error *err);

/* Reads the key term of an envelope; WD_ECORRUPT naming path when it is
 * shorter than the overhead or not version 2. */
WD_MUST_CHECK int barrier_envelope_term(const char *path, const uint8_t *envelope, size_t len,
	uint32_t *ret_term, struct wd_error *err);

/* Decrypts an envelope stored at path. The plaintext is malloc'd with a
 * NUL after it; free it with barrier_value_free. WD_ECORRUPT naming path
 * when the tag does not verify (wrong key, other path, changed bytes). */
WD_MUST_CHECK int barrier_decrypt(const uint8_t key[static BARRIER_KEY_LEN], const char *path,
	const uint8_t *envelope, size_t len, uint8_t **ret_plaintext, size_t *ret_len,
	struct wd_error *err);

/* Returns len bytes of zeroed memory from an anonymous mapping, locked
 * against swapping where RLIMIT_MEMLOCK allows and left out of core dumps;
 * NULL when the mapping fails. */
void *barrier_secure_alloc(size_t len);

/* Wipes, unlocks and unmaps what barrier_secure_alloc returned; accepts
 * NULL. */
void barrier_secure_free(void *p, size_t len);

/* One data key: a keyring term. */
struct barrier_term {
	uint32_t term;
	int64_t install_time;           /* unix seconds */
	uint8_t key[BARRIER_KEY_LEN];
};

/* The keys of an unsealed barrier, in locked memory. */
struct barrier_keyring {
	size_t mapped_len;              /* bytes of the mapping, for the free */
	uint8_t root_key[BARRIER_KEY_LEN];
	uint32_t active_term;           /* the term new values are written with */
	size_t count;
	struct barrier_term terms[];    /* ascending by term */
};

/* Makes a keyring with the given root key and one random term 1. */
WD_MUST_CHECK int barrier_keyring_create(const uint8_t root_key[static BARRIER_KEY_LEN],
	struct barrier_keyring **ret_keyring, struct wd_error *err);

/* Wipes and frees; accepts NULL. */
void barrier_keyring_free(struct barrier_keyring *keyring);

/* Returns the term's key, or NULL when the keyring has no such term. */
const struct barrier_term *barrier_keyring_term(const struct barrier_keyring *keyring,
	uint32_t term);

/* Serializes the terms (not the root key) into a malloc'd buffer to wipe
 * with wd_free_secret: [1-byte format 1][4-byte active term][4-byte count]
 * then per term [4-byte term][8-byte install time][32-byte key], big-endian. */
WD_MUST_CHECK int barrier_keyring_encode(const struct barrier_keyring *keyring,
	uint8_t **ret_data, size_t *ret_len);

/* Parses what barrier_keyring_encode wrote into a new keyring with
 * root_key. WD_ECORRUPT for a malformed or inconsistent keyring. */
WD_MUST_CHECK int barrier_keyring_decode(const uint8_t root_key[static BARRIER_KEY_LEN],
	const uint8_t *data, size_t len, struct barrier_keyring **ret_keyring,
	struct wd_error *err);

/* Paths the barrier keeps for itself; value calls reject them with
 * WD_EPERM and list and delete_prefix skip them. The seal configuration is
 * stored in clear so that seal-status works while sealed. */
#define BARRIER_PATH_SEAL_CONFIG "core/seal-config"
#define BARRIER_PATH_ROOT_KEY "core/root-key"
#define BARRIER_PATH_KEYRING "core/keyring"

/* Whether path is one of the three above. */
bool barrier_path_reserved(const char *path);

/* Key material of the unseal steps, in one locked mapping made at open. */
struct barrier_scratch {
	uint8_t shares[BARRIER_MAX_SHARES][BARRIER_SHARE_LEN]; /* submitted so far */
	uint8_t unseal_key[BARRIER_KEY_LEN];
	uint8_t root_key[BARRIER_KEY_LEN];
};

struct barrier {
	struct store *store;
	bool initialized;
	unsigned shares;                 /* n of the seal configuration */
	unsigned threshold;              /* t */
	struct barrier_keyring *keyring; /* NULL while sealed */
	struct barrier_scratch *scratch;
	unsigned progress;               /* shares in scratch->shares */
	char nonce[37];                  /* "" when progress is 0 */
};

/* Rows of secrets_barrier as they are stored (barrier_store.c). read
 * returns a malloc'd copy of the blob, WD_ENOTFOUND when absent. write
 * inserts or replaces. */
WD_MUST_CHECK int barrier_row_read(struct barrier *barrier, const char *path, uint8_t **ret_blob,
	size_t *ret_len, struct wd_error *err);
WD_MUST_CHECK int barrier_row_write(struct barrier *barrier, const char *path, const uint8_t *blob,
	size_t len, struct wd_error *err);
