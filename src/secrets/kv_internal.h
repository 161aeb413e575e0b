/* Declarations shared by the files of the KV secrets engine: the engine
 * version of a mount, key checks, barrier keys, the stored key metadata of
 * KV v2 and the handlers kv.c dispatches to.
 *
 * Barrier layout under the mount's prefix ("logical/<uuid>/"):
 *   values/<key>             KV v1: the secret, a JSON object
 *   config                   KV v2: the engine settings (kv_config)
 *   meta/<key>               KV v2: the key's metadata (kv_meta)
 *   versions/<key>/<n>       KV v2: the data of version n, a JSON object
 * Values and version data are secrets: they never appear in errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

/* Versions kept per key when neither the key nor the engine sets
 * max_versions (Vault's defaultMaxVersions). */
#define KV_DEFAULT_MAX_VERSIONS 10
/* Largest max_versions accepted. Every write rewrites the key's metadata,
 * which lists each kept version, so the count needs a ceiling. Vault has
 * none. */
#define KV_MAX_VERSIONS_LIMIT 1000
/* Most version numbers one delete, undelete or destroy request may name. */
#define KV_REQUEST_VERSIONS_MAX 1000
/* Vault's limits on custom_metadata. */
#define KV_CUSTOM_METADATA_MAX_KEYS 64
#define KV_CUSTOM_METADATA_KEY_MAX 128
#define KV_CUSTOM_METADATA_VALUE_MAX 512
/* delete_version_after stored in the engine config when a negative value
 * disabled it for every key (Vault's "disabled" sentinel of -1 s). */
#define KV_DELETE_AFTER_DISABLED (-1)
/* Bytes of a barrier key: the mount prefix, an area name, the key and a
 * version number. */
#define KV_STORAGE_KEY_MAX (VAULT_PATH_MAX + 128)

/* --- Paths and parameters (kv_path.c) --- */

/* Bytes of a path or name quoted in an error before it is cut with "...". */
#define KV_QUOTE_MAX 128

/* Copies text into out for an error message and returns out: printable
 * ASCII only, other bytes and quotes as '?', so a hostile path cannot put
 * control characters into logs. Never pass a secret. */
const char *kv_quote(const char *text, char out[static KV_QUOTE_MAX + 4]);

/* Stores 1 or 2, from the mount option "version" ("1", "2", 1 or 2;
 * absent or "" is 1). WD_EINVAL naming the value otherwise. */
WD_MUST_CHECK int kv_mount_version(const struct vault_mount *mount, int *ret_version,
	struct wd_error *err);

/* Checks a key below the mount: at most VAULT_PATH_MAX bytes, no empty
 * segment and no ".." segment. An empty key is accepted only when
 * allow_empty (a list of the mount's root); otherwise it is "missing path".
 * WD_EINVAL naming the path. */
WD_MUST_CHECK int kv_check_key(const char *key, bool allow_empty, struct wd_error *err);

/* Copies a list path without its trailing '/' into out (room for
 * VAULT_PATH_MAX + 1 bytes) and checks it with kv_check_key. */
WD_MUST_CHECK int kv_list_key(const char *rel, char *out, size_t len, struct wd_error *err);

/* Writes "<mount prefix><area><key>" to out. WD_ETOOBIG when it does not
 * fit in len bytes. */
WD_MUST_CHECK int kv_storage_key(char *out, size_t len, const struct vault_mount *mount,
	const char *area, const char *key);

/* Writes "<mount prefix>versions/<key>/<version>" to out. */
WD_MUST_CHECK int kv_version_key(char *out, size_t len, const struct vault_mount *mount,
	const char *key, uint64_t version);

/* Reads an integer request parameter from the query string, else from the
 * body, where unit tests (which have no HTTP request) put it. Accepts a
 * JSON integer or a decimal string. Returns 1 when set, 0
 * when absent, WD_EINVAL naming the parameter when invalid or outside
 * [min, max]. */
WD_MUST_CHECK int kv_request_int(const struct vault_request *req, const char *name,
	int64_t min, int64_t max, int64_t *ret_value, struct wd_error *err);

/* Reads a body field that Vault's framework types as an int: a JSON
 * integer or a decimal string in [min, max]. Null counts as absent.
 * Returns 1 when set, 0 when absent, WD_EINVAL naming the field. */
WD_MUST_CHECK int kv_field_int(const json_t *obj, const char *name, int64_t min, int64_t max,
	int64_t *ret_value, struct wd_error *err);

/* Reads a bool field: a JSON bool or "true"/"false"/"1"/"0". Returns 1
 * when set, 0 when absent (or null), WD_EINVAL naming the field. */
WD_MUST_CHECK int kv_field_bool(const json_t *obj, const char *name, bool *ret_value,
	struct wd_error *err);

/* Reads a duration field in seconds (integer, decimal string or Go
 * duration such as "1h30m"). A negative value is stored as
 * KV_DELETE_AFTER_DISABLED when allow_negative, else it is WD_EINVAL.
 * Returns 1 when set, 0 when absent. */
WD_MUST_CHECK int kv_field_duration(const json_t *obj, const char *name, bool allow_negative,
	int64_t *ret_seconds, struct wd_error *err);

/* Reads a list of version numbers given as a JSON array of integers (or
 * decimal strings), one integer, or a comma-separated string, as Vault's
 * TypeCommaIntSlice. Stores a malloc'd array and its count (0 and NULL
 * when absent or empty). WD_EINVAL naming the field, WD_ETOOBIG past
 * KV_REQUEST_VERSIONS_MAX. */
WD_MUST_CHECK int kv_field_versions(const json_t *obj, const char *name, int64_t **ret_versions,
	size_t *ret_count, struct wd_error *err);

/* Returns WD_ENOTFOUND with err cleared, so the core replies 404 with
 * {"errors":[]} as Vault does for a missing key. */
int kv_not_found(struct wd_error *err);

/* Returns WD_EUNSUPPORTED (405) for an operation the path does not serve. */
int kv_unsupported(const struct vault_request *req, struct wd_error *err);

/* Returns the mount's default lease TTL in seconds: the mount's own, else
 * the service's, else 768 h. */
int64_t kv_default_ttl(const struct secrets *secrets, const struct vault_mount *mount);

/* --- KV v2 settings and key metadata (kv_v2_meta.c) --- */

/* The engine settings at "<prefix>config". */
struct kv_config {
	uint32_t max_versions;         /* 0: KV_DEFAULT_MAX_VERSIONS */
	bool cas_required;
	int64_t delete_version_after;  /* seconds; 0 unset; KV_DELETE_AFTER_DISABLED */
};

/* One kept version of a key. Times are nanoseconds since the epoch. */
struct kv_version {
	uint64_t number;
	int64_t created_time;
	int64_t deletion_time;         /* 0: not deleted or scheduled */
	bool destroyed;
};

/* The metadata of one key at "<prefix>meta/<key>". */
struct kv_meta {
	int64_t created_time;
	int64_t updated_time;
	uint64_t current_version;
	uint64_t oldest_version;
	uint32_t max_versions;         /* 0: the engine's */
	bool cas_required;
	int64_t delete_version_after;  /* seconds; 0: the engine's */
	json_t *custom_metadata;       /* object of strings, or NULL; owned */
	struct kv_version *versions;   /* ascending by number */
	size_t version_count;
};

/* Loads the engine settings; all zero when none are stored. */
WD_MUST_CHECK int kv_config_load(struct secrets *secrets, const struct vault_mount *mount,
	struct kv_config *ret_config, struct wd_error *err);

WD_MUST_CHECK int kv_config_store(struct secrets *secrets, const struct vault_mount *mount,
	const struct kv_config *config, struct wd_error *err);

/* Loads the metadata of key; *ret_meta is NULL when the key has none.
 * WD_ECORRUPT when the stored record is malformed. */
WD_MUST_CHECK int kv_meta_load(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, struct kv_meta **ret_meta, struct wd_error *err);

/* Writes the metadata of key (inside the caller's barrier transaction). */
WD_MUST_CHECK int kv_meta_store(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, const struct kv_meta *meta, struct wd_error *err);

/* Returns new empty metadata created at now, or NULL without memory. */
struct kv_meta *kv_meta_new(int64_t now);

/* Frees; accepts NULL. */
void kv_meta_free(struct kv_meta *meta);

/* Returns the kept version numbered number, or NULL. */
struct kv_version *kv_meta_find(const struct kv_meta *meta, uint64_t number);

/* Whether the version's deletion time has passed (soft-deleted). */
bool kv_version_deleted(const struct kv_version *version, int64_t now);

/* Returns the time a version created (or undeleted) at `start` is to be
 * deleted by delete_version_after: start plus the smaller non-zero of the
 * engine's and the key's setting, or 0 when neither is set or the engine
 * disabled it. */
int64_t kv_deletion_time(const struct kv_config *config, const struct kv_meta *meta,
	int64_t start);

/* Appends version current_version + 1 created at now and drops the oldest
 * versions past max_versions (the key's, else the engine's, else 10), as
 * Vault's AddVersion does. The numbers dropped are stored in ret_pruned
 * (malloc'd, may be NULL with a count of 0) so the caller deletes their
 * data. WD_ENOMEM leaves meta half-updated: the caller discards it. */
WD_MUST_CHECK int kv_meta_add_version(struct kv_meta *meta, int64_t now, int64_t deletion_time,
	uint32_t config_max_versions, uint64_t **ret_pruned, size_t *ret_pruned_count);

/* Returns {created_time, custom_metadata, deletion_time, destroyed,
 * version} of one version, as data writes return and reads nest under
 * "metadata"; NULL without memory. */
json_t *kv_version_json(const struct kv_meta *meta, const struct kv_version *version);

/* Formats a delete_version_after value as Go prints a duration ("0s",
 * "1h0m0s", "-1s" when disabled). out has room for 32 bytes. */
void kv_format_delete_after(int64_t seconds, char *out, size_t len);

/* --- JSON helpers (kv_json.c) --- */

/* Applies an RFC 7396 JSON merge patch to *target (an object, replaced in
 * place; the caller owns the result). WD_ENOMEM. */
WD_MUST_CHECK int kv_merge_patch(json_t **target, const json_t *patch);

/* Returns a copy of data with every leaf value replaced by null, keeping
 * objects down to depth levels (0: no limit), as Vault's subkeys
 * endpoint; NULL without memory. */
json_t *kv_subkeys(const json_t *data, int64_t depth);

/* Turns a custom_metadata object into an object of strings as Vault's
 * weak decoding does (numbers and bools become their text). With
 * keep_nulls, null values stay null (a patch removes those keys). Checks
 * Vault's limits: at most 64 keys, keys of 1-128 and values of 1-512
 * printable bytes. Stores a new object; WD_EINVAL with Vault's
 * "custom_metadata validation failed: ..." message. */
WD_MUST_CHECK int kv_custom_metadata_parse(const json_t *value, bool keep_nulls,
	json_t **ret_object, struct wd_error *err);

/* --- Handlers --- */

/* KV v1 (kv_v1.c): rel is the key, or a list path ending in '/'. */
WD_MUST_CHECK int kv_v1_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v1_exists(struct secrets *secrets, const struct vault_request *req,
	bool *ret_exists, struct wd_error *err);

/* KV v2 (kv_v2.c dispatches to the files below): rel starts with
 * config, data/, metadata/, delete/, undelete/, destroy/ or subkeys/. */
WD_MUST_CHECK int kv_v2_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_exists(struct secrets *secrets, const struct vault_request *req,
	bool *ret_exists, struct wd_error *err);

/* The routes of KV v2; key is the path after the route's prefix. */
WD_MUST_CHECK int kv_v2_config(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_data(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_subkeys(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_delete_versions(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_undelete_versions(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_destroy_versions(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);
WD_MUST_CHECK int kv_v2_metadata(struct secrets *secrets, struct vault_request *req,
	const char *key, struct vault_response *resp, struct wd_error *err);

/* Applies Vault's check-and-set rules of a data write or patch. A "cas" in
 * options (may be NULL) must equal the current version. Without one, the
 * engine's or the key's cas_required rejects the write. WD_EINVAL with
 * Vault's message. */
WD_MUST_CHECK int kv_v2_check_cas(const struct kv_config *config, const struct kv_meta *meta,
	const json_t *options, struct wd_error *err);

/* Writes data (an object the caller keeps) as the next version of key,
 * deletes the data of versions past max_versions and stores meta, all in
 * one barrier transaction. Then fills resp with the new version's
 * metadata. Shared by data writes and patches (kv_v2_write.c). */
WD_MUST_CHECK int kv_v2_write_version(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, const struct kv_config *config, struct kv_meta *meta, const json_t *data,
	struct vault_response *resp, struct wd_error *err);

/* Stores meta in its own barrier transaction. */
WD_MUST_CHECK int kv_v2_commit_meta(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, const struct kv_meta *meta, struct wd_error *err);
