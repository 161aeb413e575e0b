/* The mount table: which backend serves which path prefix. It lives in the
 * barrier at core/mounts, so it is read after every unseal; sys/ and
 * auth/token/ are built in and never stored. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "secrets/barrier.h"
#include "secrets/expire.h"
#include "secrets/token.h"
#include "secrets/secrets_internal.h"

#define MOUNTS_PATH "core/mounts"
/* Most mounts a server holds; each costs a little memory and a lookup step. */
#define MAX_MOUNTS 256

const struct vault_backend *vault_backend_find(const char *type, bool is_auth)
{
	static const struct vault_backend *const backends[] = {
		&vault_backend_system, &vault_backend_kv, &vault_backend_database,
		&vault_backend_token, &vault_backend_cert, &vault_backend_jwt,
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(backends); i++) {
		if (strcmp(backends[i]->type, type) == 0 && backends[i]->is_auth == is_auth)
			return backends[i];
	}
	return NULL;
}

void vault_mount_storage_prefix(const struct vault_mount *mount, char *out, size_t len)
{
	snprintf(out, len, "logical/%s/", mount->uuid);
}

struct vault_mount *vault_mount_lookup(struct secrets *secrets, const char *path)
{
	size_t path_len = strlen(path);

	/* The array is kept longest path first, so the first prefix wins. A
	 * request for the mount itself ("secret" for "secret/") matches too. */
	for (size_t i = 0; i < secrets->mount_count; i++) {
		struct vault_mount *mount = secrets->mounts[i];
		size_t len = strlen(mount->path);

		if (path_len >= len && memcmp(path, mount->path, len) == 0)
			return mount;
		if (path_len == len - 1 && memcmp(path, mount->path, len - 1) == 0)
			return mount;
	}
	return NULL;
}

static void mount_free(struct vault_mount *mount)
{
	if (!mount)
		return;
	if (mount->backend && mount->backend->mount_close)
		mount->backend->mount_close(mount);
	free(mount->description);
	json_decref(mount->options);
	free(mount);
}

static int compare_longest_first(const void *a, const void *b)
{
	const struct vault_mount *x = *(struct vault_mount *const *)a;
	const struct vault_mount *y = *(struct vault_mount *const *)b;
	size_t lx = strlen(x->path);
	size_t ly = strlen(y->path);

	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int table_insert(struct secrets *secrets, struct vault_mount *mount,
	struct wd_error *err)
{
	struct vault_mount **grown;

	if (secrets->mount_count >= MAX_MOUNTS)
		return wd_error_set(err, WD_ETOOBIG, "at most %d mounts", MAX_MOUNTS);
	grown = realloc(secrets->mounts, (secrets->mount_count + 1) * sizeof(*grown));
	if (!grown)
		return wd_error_set(err, WD_ENOMEM, "out of memory adding a mount");
	secrets->mounts = grown;
	secrets->mounts[secrets->mount_count++] = mount;
	qsort(secrets->mounts, secrets->mount_count, sizeof(*secrets->mounts),
		compare_longest_first);
	return 0;
}

static json_t *mount_to_json(const struct vault_mount *mount)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O?, s:I, s:I}",
		"path", mount->path,
		"type", mount->backend->type,
		"accessor", mount->accessor,
		"uuid", mount->uuid,
		"description", mount->description ? mount->description : "",
		"options", mount->options,
		"default_lease_ttl", (json_int_t)mount->default_lease_ttl,
		"max_lease_ttl", (json_int_t)mount->max_lease_ttl);
}

static int save_table(struct secrets *secrets, struct wd_error *err)
{
	json_t *table = json_object();
	json_t *list = json_array();
	int rc = WD_ENOMEM;

	if (!table || !list || json_object_set(table, "mounts", list) < 0)
		goto out;
	for (size_t i = 0; i < secrets->mount_count; i++) {
		struct vault_mount *mount = secrets->mounts[i];

		if (mount->builtin)
			continue;
		if (json_array_append_new(list, mount_to_json(mount)) < 0)
			goto out;
	}
	/* Other servers on the datastore reload their table on the
	 * notification, which comes only if the table commits. */
	rc = store_begin(secrets->store, err);
	if (rc < 0)
		goto out;
	rc = barrier_put_json(secrets->barrier, MOUNTS_PATH, table, err);
	if (rc == 0)
		rc = store_notify(secrets->store, "secrets_mount", err);
	if (rc == 0)
		rc = store_commit(secrets->store, err);
	else
		store_rollback(secrets->store);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory saving the mount table");
	json_decref(list);
	json_decref(table);
	return rc;
}

/* Checks a mount path: segments of [A-Za-z0-9._-], no "..", ends in '/'. */
static int normalize_path(const char *path, char *out, size_t len, struct wd_error *err)
{
	size_t n = strlen(path);

	while (n && path[0] == '/') {
		path++;
		n--;
	}
	if (n == 0 || n + 2 > len)
		return wd_error_set(err, WD_EINVAL, "invalid mount path \"%.128s\"", path);
	memcpy(out, path, n);
	if (out[n - 1] != '/')
		out[n++] = '/';
	out[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '/'))
			return wd_error_set(err, WD_EINVAL, "invalid mount path \"%.128s\": only "
				"letters, digits, '-', '_', '.' and '/'", path);
	}
	if (strstr(out, "//") || strstr(out, "../") || strncmp(out, "./", 2) == 0 ||
		strstr(out, "/./"))
		return wd_error_set(err, WD_EINVAL, "invalid mount path \"%.128s\"", path);
	return 0;
}

static int mount_new(struct secrets *secrets, const char *path, const struct vault_backend *backend,
	const char *accessor, const char *uuid, const char *description, const json_t *options,
	int64_t default_ttl, int64_t max_ttl, bool builtin, struct vault_mount **ret_mount,
	struct wd_error *err)
{
	struct vault_mount *mount = calloc(1, sizeof(*mount));
	int rc;

	*ret_mount = NULL;
	if (!mount)
		return wd_error_set(err, WD_ENOMEM, "out of memory adding a mount");
	snprintf(mount->path, sizeof(mount->path), "%s", path);
	mount->backend = backend;
	mount->builtin = builtin;
	mount->default_lease_ttl = default_ttl;
	mount->max_lease_ttl = max_ttl;
	mount->description = strdup(description ? description : "");
	mount->options = options ? json_deep_copy(options) : json_object();
	if (!mount->description || !mount->options) {
		mount_free(mount);
		return wd_error_set(err, WD_ENOMEM, "out of memory adding a mount");
	}
	if (uuid) {
		snprintf(mount->uuid, sizeof(mount->uuid), "%s", uuid);
	} else if (vault_random_uuid(mount->uuid) < 0) {
		mount_free(mount);
		return wd_error_set(err, WD_ECRYPTO, "no randomness for a mount id");
	}
	if (accessor) {
		snprintf(mount->accessor, sizeof(mount->accessor), "%s", accessor);
	} else {
		char random[9];

		if (vault_random_base62(random, 8) < 0) {
			mount_free(mount);
			return wd_error_set(err, WD_ECRYPTO, "no randomness for a mount accessor");
		}
		snprintf(mount->accessor, sizeof(mount->accessor), "%s_%s", backend->type, random);
	}
	if (backend->mount_open) {
		rc = backend->mount_open(secrets, mount, err);
		if (rc < 0) {
			mount->backend = NULL;
			mount_free(mount);
			return rc;
		}
	}
	*ret_mount = mount;
	return 0;
}

/* Maps Vault's type names, including the "kv-v2" shorthand, to a backend
 * and the options it implies. */
static const struct vault_backend *resolve_type(const char *type, bool is_auth,
	json_t *options)
{
	if (!is_auth && strcmp(type, "kv-v2") == 0) {
		json_object_set_new(options, "version", json_string("2"));
		type = "kv";
	}
	if (!is_auth && strcmp(type, "generic") == 0)
		type = "kv";
	return vault_backend_find(type, is_auth);
}

int vault_mount_add(struct secrets *secrets, const char *path, const char *type,
	const char *description, const json_t *options, int64_t default_ttl, int64_t max_ttl,
	struct wd_error *err)
{
	char normalized[VAULT_MOUNT_PATH_MAX];
	const struct vault_backend *backend;
	struct vault_mount *mount = NULL;
	json_t *opts = options ? json_deep_copy(options) : json_object();
	bool is_auth;
	int rc;

	if (!opts)
		return wd_error_set(err, WD_ENOMEM, "out of memory adding a mount");
	rc = normalize_path(path, normalized, sizeof(normalized), err);
	if (rc < 0)
		goto out;
	is_auth = strncmp(normalized, "auth/", 5) == 0;
	backend = resolve_type(type, is_auth, opts);
	if (!backend || backend == &vault_backend_system) {
		rc = wd_error_set(err, WD_EINVAL, "unknown %s type \"%.64s\"",
			is_auth ? "auth method" : "secrets engine", type);
		goto out;
	}
	/* cubbyhole/ and identity/ are Vault's per-token and identity stores.
	 * The default policy grants every token cubbyhole/, so a shared mount
	 * there would be readable by all. */
	if (strncmp(normalized, "sys/", 4) == 0 || strcmp(normalized, "auth/") == 0 ||
		strncmp(normalized, "auth/token/", 11) == 0 ||
		strncmp(normalized, "cubbyhole/", 10) == 0 ||
		strncmp(normalized, "identity/", 9) == 0) {
		rc = wd_error_set(err, WD_EINVAL, "cannot mount at reserved path \"%s\"", normalized);
		goto out;
	}
	for (size_t i = 0; i < secrets->mount_count; i++) {
		const char *existing = secrets->mounts[i]->path;
		size_t a = strlen(existing);
		size_t b = strlen(normalized);

		if (strncmp(existing, normalized, a < b ? a : b) == 0) {
			rc = wd_error_set(err, WD_EEXIST, "path is already in use at %s", existing);
			goto out;
		}
	}

	rc = mount_new(secrets, normalized, backend, NULL, NULL, description, opts, default_ttl,
		max_ttl, false, &mount, err);
	if (rc < 0)
		goto out;
	rc = table_insert(secrets, mount, err);
	if (rc < 0) {
		mount_free(mount);
		goto out;
	}
	rc = save_table(secrets, err);
	if (rc < 0) {
		/* Keep memory and storage in step: drop the mount again. */
		for (size_t i = 0; i < secrets->mount_count; i++) {
			if (secrets->mounts[i] == mount) {
				memmove(&secrets->mounts[i], &secrets->mounts[i + 1],
					(secrets->mount_count - i - 1) * sizeof(*secrets->mounts));
				secrets->mount_count--;
				break;
			}
		}
		mount_free(mount);
		goto out;
	}
	log_info("secrets", "mounted", "path", normalized, "type", backend->type);
out:
	json_decref(opts);
	return rc;
}

int vault_mount_remove(struct secrets *secrets, const char *path, struct wd_error *err)
{
	char normalized[VAULT_MOUNT_PATH_MAX];
	char prefix[64];
	struct vault_mount *mount = NULL;
	size_t index = 0;

	WD_TRY(normalize_path(path, normalized, sizeof(normalized), err));
	for (; index < secrets->mount_count; index++) {
		if (strcmp(secrets->mounts[index]->path, normalized) == 0) {
			mount = secrets->mounts[index];
			break;
		}
	}
	if (!mount)
		return wd_error_set(err, WD_ENOTFOUND, "no mount at \"%s\"", normalized);
	if (mount->builtin)
		return wd_error_set(err, WD_EPERM, "cannot unmount built-in \"%s\"", normalized);

	/* The tokens of an auth method go with it, as in Vault. */
	if (mount->backend->is_auth)
		WD_TRY(token_revoke_prefix(secrets, normalized, err));
	/* Leases first, while the backend can still undo what they stand for. */
	WD_TRY(expire_revoke_prefix(secrets, normalized, true, err));
	vault_mount_storage_prefix(mount, prefix, sizeof(prefix));
	WD_TRY(barrier_delete_prefix(secrets->barrier, prefix, err));

	memmove(&secrets->mounts[index], &secrets->mounts[index + 1],
		(secrets->mount_count - index - 1) * sizeof(*secrets->mounts));
	secrets->mount_count--;
	mount_free(mount);
	log_info("secrets", "unmounted", "path", normalized);
	return save_table(secrets, err);
}

static int load_one(struct secrets *secrets, const json_t *entry, struct wd_error *err)
{
	const char *path = json_string_value(json_object_get(entry, "path"));
	const char *type = json_string_value(json_object_get(entry, "type"));
	const char *accessor = json_string_value(json_object_get(entry, "accessor"));
	const char *uuid = json_string_value(json_object_get(entry, "uuid"));
	const char *description = json_string_value(json_object_get(entry, "description"));
	json_t *options = json_object_get(entry, "options");
	const struct vault_backend *backend;
	struct vault_mount *mount;
	int rc;

	if (!path || !type || !accessor || !uuid)
		return wd_error_set(err, WD_ECORRUPT, "mount table entry without path, type or id");
	backend = vault_backend_find(type, strncmp(path, "auth/", 5) == 0);
	if (!backend)
		return wd_error_set(err, WD_ECORRUPT, "mount %s has unknown type \"%s\"", path, type);
	rc = mount_new(secrets, path, backend, accessor, uuid, description, options,
		json_integer_value(json_object_get(entry, "default_lease_ttl")),
		json_integer_value(json_object_get(entry, "max_lease_ttl")), false, &mount, err);
	if (rc < 0)
		return rc;
	rc = table_insert(secrets, mount, err);
	if (rc < 0)
		mount_free(mount);
	return rc;
}

static int add_builtin(struct secrets *secrets, const char *path,
	const struct vault_backend *backend, struct wd_error *err)
{
	struct vault_mount *mount;
	int rc;

	WD_TRY(mount_new(secrets, path, backend, NULL, NULL, "", NULL, 0, 0, true, &mount, err));
	rc = table_insert(secrets, mount, err);
	if (rc < 0)
		mount_free(mount);
	return rc;
}

int vault_mounts_load(struct secrets *secrets, struct wd_error *err)
{
	json_t *table = NULL;
	int rc;

	WD_TRY(add_builtin(secrets, "sys/", &vault_backend_system, err));
	WD_TRY(add_builtin(secrets, "auth/token/", &vault_backend_token, err));

	rc = barrier_get_json(secrets->barrier, MOUNTS_PATH, &table, err);
	if (rc == WD_ENOTFOUND) {
		json_t *options = json_pack("{s:s}", "version", "2");

		/* A new barrier starts with KV version 2 at secret/, as Vault's
		 * dev server does and as users expect. */
		rc = options ? vault_mount_add(secrets, "secret/", "kv", "key/value secret storage",
			options, 0, 0, err) : WD_ENOMEM;
		json_decref(options);
		return rc;
	}
	WD_TRY(rc);
	{
		size_t index;
		json_t *entry;

		json_array_foreach(json_object_get(table, "mounts"), index, entry) {
			rc = load_one(secrets, entry, err);
			if (rc < 0)
				break;
		}
	}
	json_decref(table);
	return rc;
}

int vault_mount_retune(struct secrets *secrets, struct wd_error *err)
{
	return save_table(secrets, err);
}

int secrets_reload(struct secrets *secrets, struct wd_error *err)
{
	struct vault_mount **old_mounts = secrets->mounts;
	size_t old_count = secrets->mount_count;
	int rc;

	if (!secrets_unsealed(secrets))
		return barrier_reload_seal_config(secrets->barrier, err);
	/* Requests on worker threads use the mounts freed below. */
	secrets_offload_drain(secrets);
	secrets->mounts = NULL;
	secrets->mount_count = 0;
	rc = vault_mounts_load(secrets, err);
	if (rc < 0) {
		vault_mounts_unload(secrets);
		secrets->mounts = old_mounts;
		secrets->mount_count = old_count;
		return rc;
	}
	for (size_t i = 0; i < old_count; i++)
		mount_free(old_mounts[i]);
	free(old_mounts);
	char count[24];

	snprintf(count, sizeof(count), "%zu", secrets->mount_count);
	log_info("secrets", "mount table reloaded", "mounts", count, NULL);
	return 0;
}

void vault_mounts_unload(struct secrets *secrets)
{
	for (size_t i = 0; i < secrets->mount_count; i++)
		mount_free(secrets->mounts[i]);
	free(secrets->mounts);
	secrets->mounts = NULL;
	secrets->mount_count = 0;
}
